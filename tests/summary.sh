#!/bin/bash
# Prints the totals of every suite `make test` ran, as one closing line.
# Arguments: the suites that must have reported.
dir=${TEST_RESULTS_DIR:-build/test-results}
p=0 f=0
for r in "$dir"/*; do
	[ -f "$r" ] || continue
	read -r rp rf < "$r"
	printf '  %-22s %3d passed, %d failed\n' "$(basename "$r")" "$rp" "$rf"
	p=$((p + rp)) f=$((f + rf))
done
# A suite that should have run but left no counts is a failure.
for suite in "$@"; do
	if [ ! -f "$dir/$suite" ]; then
		printf '  %-22s did not run\n' "$suite"
		f=$((f + 1))
	fi
done
echo "$p passed, $f failed"
[ "$f" = 0 ] && [ "$p" -gt 0 ]
