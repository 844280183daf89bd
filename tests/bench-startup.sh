#!/bin/bash
# The VMM's CPU time from exec to its first KVM_RUN, on this host's own
# /dev/kvm (a nested L1 runs under TCG, where every figure is about ten
# times larger): the test guest's 512 MiB, its kernel and initrd, every
# bring-up phase, the sandbox. The guest need not boot here, only start.
# Runs each binary BENCH_STARTUP_RUNS times (default 21) and prints
#   BENCH startup kind=dynamic|static median_ms=N min_ms=N max_ms=N runs=N
# Nothing is printed (status 0) where /dev/kvm cannot be opened.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_STARTUP_RUNS:-21}

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "bench-startup: no usable /dev/kvm on this host; skipped" >&2
	exit 0
fi
images=$("$root/guest-images/build.sh" --print) || exit 1
eval "$images"

for kind in dynamic static; do
	bin=$root/build/vmm
	[ "$kind" = static ] && bin=$root/build/vmm-static
	[ -x "$bin" ] || continue
	figures=()
	for _ in $(seq 1 "$runs"); do
		line=$("$bin" run -d --timeout 1 -k "$KERNEL" -i "$L2_INITRD" -m 512M </dev/null 2>&1 |
			grep -m1 "first KVM_RUN after ")
		ms=${line#*first KVM_RUN after }
		ms=${ms%% ms*}
		[[ $ms =~ ^[0-9.]+$ ]] && figures+=("$ms")
	done
	if [ "${#figures[@]}" = 0 ]; then
		echo "bench-startup: $bin never reached its first KVM_RUN" >&2
		exit 1
	fi
	printf '%s\n' "${figures[@]}" | sort -n | awk -v kind="$kind" '
		{ v[NR] = $1 }
		END { printf "BENCH startup kind=%s median_ms=%s min_ms=%s max_ms=%s runs=%d\n",
		      kind, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
done
