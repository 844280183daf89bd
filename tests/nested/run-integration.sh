#!/bin/bash
# Boots one L1 host and runs every nested integration suite inside it.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export TEST_RESULTS_DIR=${TEST_RESULTS_DIR:-$root/build/test-results}
mkdir -p "$TEST_RESULTS_DIR"

# Results are written inside L1 to a tmpfs overlay that vanishes, so the
# suites' counts are carried out on the console instead.
log=$(mktemp)
L1_ENV="VMM" bash "$here/run-in-l1.sh" bash "$here/suites.sh" | tee "$log"
rc=${PIPESTATUS[0]}
tr -d '\r' < "$log" | sed -n 's/^\([a-z0-9-]*\): \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2 \3/p' |
	while read -r suite p f; do echo "$p $f" > "$TEST_RESULTS_DIR/$suite"; done
rm -f "$log"
exit "$rc"
