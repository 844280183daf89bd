#!/bin/bash
# Runs the unit test binaries given as arguments and records the totals.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/tests/lib.sh"
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	run=$(printf '%s\n' "$out" | sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p' | tail -n1)
	bad=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' | tail -n1)
	run=${run:-0} bad=${bad:-0}
	if [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
		bad=1 # crashed (a sanitizer report, say) before cmocka could count
		failures+=("$t")
	fi
	passed=$((passed + run - bad))
	failed=$((failed + bad))
done
finish unit
