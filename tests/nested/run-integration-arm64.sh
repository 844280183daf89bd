#!/bin/bash
# Boots one arm64 L1 host and runs the arm64 suite inside it with the
# cross-built static VMM (make ARCH=arm64). Status 125 from the harness
# means the L1 host itself failed: that run is tried once more.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export TEST_RESULTS_DIR=${TEST_RESULTS_DIR:-$root/build/test-results}
mkdir -p "$TEST_RESULTS_DIR"

# The binary of this checkout, named and fingerprinted for the suite.
export VMM_ARM64=$root/build/arm64/vmm-static
VMM_ARM64_SHA256=$(sha256sum "$VMM_ARM64" | cut -d' ' -f1)
export VMM_ARM64_SHA256

run_once() {
	L1_ENV="VMM_ARM64 VMM_ARM64_SHA256" L1_TIMEOUT=${L1_TIMEOUT:-900} \
		bash "$here/run-in-l1-arm64.sh" "$here/arm64.sh" | tee "$1"
	return "${PIPESTATUS[0]}"
}

log=$(mktemp)
run_once "$log"
rc=$?
if [ "$rc" = 125 ]; then
	echo "run-integration-arm64: the L1 host failed (status 125); trying once more" >&2
	run_once "$log"
	rc=$?
fi
tr -d '\r' < "$log" | sed -n 's/^\(integration-arm64\): \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2 \3/p' |
	while read -r suite p f; do echo "$p $f" > "$TEST_RESULTS_DIR/$suite"; done
rm -f "$log"
[ "$rc" = 0 ] || echo "0 1" > "$TEST_RESULTS_DIR/integration-arm64-harness"
exit "$rc"
