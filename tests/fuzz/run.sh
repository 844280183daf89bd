#!/bin/bash
# Runs the libFuzzer targets given as arguments, one at a time.
#   run.sh fuzz SECONDS TARGET...   fuzz each for SECONDS from its corpus
#                                   (build/fuzz/corpus/NAME, grown in place),
#                                   its seeds and reproducers; crashes go to
#                                   build/fuzz/crashes/NAME; a table of
#                                   executions and coverage at the end
#   run.sh replay 0 TARGET...       run every seed and reproducer once:
#                                   one PASS/FAIL per target, recorded as the
#                                   fuzz-replay suite
# Seeds are generated (make-seeds.py); reproducers of past bugs are
# tests/fuzz/reproducers/NAME/* (text) and generated ones.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/tests/lib.sh"
mode=$1 seconds=$2
shift 2
out=$root/build/fuzz

python3 "$root/tests/fuzz/make-seeds.py" "$out/seeds" "$out/reproducers" || exit 1

# The inputs a target starts from: seeds, generated and committed reproducers.
inputs_of() {
	local name=$1
	for d in "$out/seeds/$name" "$out/reproducers/$name" "$root/tests/fuzz/reproducers/$name"; do
		[ -d "$d" ] && echo "$d"
	done
}

replay() {
	local bin=$1 name files
	name=$(basename "$bin")
	mapfile -t files < <(find $(inputs_of "$name") -type f 2>/dev/null | sort)
	if [ "${#files[@]}" = 0 ]; then
		fail "$name replays its seeds" "no seeds"
		return
	fi
	if "$bin" "${files[@]}" >"$out/logs/$name.replay.log" 2>&1; then
		pass "$name replays ${#files[@]} seeds and reproducers"
	else
		fail "$name replays its seeds" "see build/fuzz/logs/$name.replay.log: $(grep -m1 -E 'ERROR|invariant|Running' "$out/logs/$name.replay.log" | tail -1)"
	fi
}

# Fuzzes one target; prints a table row (name, executions, exec/s, coverage, corpus).
fuzz_one() {
	local bin name log dirs
	bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # it runs in its log folder
	name=$(basename "$bin")
	mkdir -p "$out/corpus/$name" "$out/crashes/$name" "$out/logs/$name"
	mapfile -t dirs < <(inputs_of "$name")
	log=$out/logs/$name/fuzz-0.log
	rm -f "$log"
	# -jobs/-workers 1: one process at a time on this shared machine; its log is fuzz-0.log.
	(cd "$out/logs/$name" && "$bin" -jobs=1 -workers=1 -max_total_time="$seconds" \
		-timeout=20 -print_final_stats=1 -artifact_prefix="$out/crashes/$name/" \
		"$out/corpus/$name" "${dirs[@]}" >/dev/null 2>&1)
	local execs rate cov ft corp
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	corp=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	if ls "$out/crashes/$name"/* >/dev/null 2>&1 || grep -q "ERROR: \|invariant violated" "$log"; then
		fail "$name" "crash: see $log and $out/crashes/$name"
	else
		pass "$name"
	fi
	printf '%-22s %12s %8s %6s %7s %6s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
		"${ft:-?}" "${corp:-?}" >>"$out/summary.txt"
}

mkdir -p "$out/logs"
case $mode in
replay)
	for bin in "$@"; do
		replay "$bin"
	done
	finish fuzz-replay
	;;
fuzz)
	printf '%-22s %12s %8s %6s %7s %6s\n' target executions exec/s cov ft corpus >"$out/summary.txt"
	for bin in "$@"; do
		fuzz_one "$bin"
	done
	cat "$out/summary.txt"
	echo "fuzz: $passed passed, $failed failed"
	[ "$failed" = 0 ]
	;;
*)
	echo "usage: $0 fuzz SECONDS TARGET... | replay 0 TARGET..." >&2
	exit 2
	;;
esac
