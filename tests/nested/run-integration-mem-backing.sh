#!/bin/bash
# The core suite on each guest RAM backing (tests/nested/core-backings.sh)
# in one L1 with room for a 4.5 GiB guest in reserved huge pages. Status
# 125 from run-in-l1.sh means the L1 host itself failed: tried once more.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export TEST_RESULTS_DIR=${TEST_RESULTS_DIR:-$root/build/test-results}
mkdir -p "$TEST_RESULTS_DIR"

log=$(mktemp)
for attempt in 1 2; do
	L1_ENV="VMM" L1_MEM=${L1_MEM:-7168} L1_TIMEOUT=${L1_TIMEOUT:-1800} \
		bash "$here/run-in-l1.sh" bash "$here/core-backings.sh" | tee "$log"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 125 ] && [ "$attempt" = 1 ] || break
	echo "run-integration-mem-backing: the L1 host failed (status 125); trying once more" >&2
done
# The counts come out on the console (L1's files vanish at power off).
tr -d '\r' < "$log" | sed -n 's/^\(integration-[a-z0-9-]*\): \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2 \3/p' |
	while read -r suite p f; do echo "$p $f" > "$TEST_RESULTS_DIR/$suite"; done
rm -f "$log"
[ "$rc" = 0 ] || echo "0 1" > "$TEST_RESULTS_DIR/integration-mem-backing-harness"
exit "$rc"
