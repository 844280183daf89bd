#!/bin/bash
# The passthrough suite (tests/nested/vfio.sh) under iommufd: an L1 host
# booted on the kernel guest-images/build-host-kernel.sh builds (iommufd,
# the VFIO cdev, everything built in; Debian's kernels have no iommufd),
# the VMM run with --vfio-backend iommufd; results as integration-vfio-iommufd.
#
# The kernel is built first when not cached (~11 min on 2 idle cores, under
# nice -n 19; cached in ~/.cache/vmm/images/host-kernel-x86_64-*). Status
# 125 from the harness means the L1 host itself failed: that run is tried
# once more.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export TEST_RESULTS_DIR=${TEST_RESULTS_DIR:-$root/build/test-results}
mkdir -p "$TEST_RESULTS_DIR"
suite=integration-vfio-iommufd

start=$(date +%s)
if ! "$root/guest-images/build-host-kernel.sh" x86_64 --print; then
	echo "run-integration-iommufd: the iommufd L1 kernel did not build" >&2
	echo "0 1" > "$TEST_RESULTS_DIR/$suite-harness"
	exit 1
fi
echo "run-integration-iommufd: L1 kernel ready after $(($(date +%s) - start)) s"

export VMM_L1_KERNEL=iommufd VFIO_BACKEND=iommufd SUITE_NAME=$suite
log=$(mktemp)
for attempt in 1 2; do
	L1_ENV="VMM VFIO_BACKEND SUITE_NAME" L1_TIMEOUT=${L1_TIMEOUT:-900} \
		bash "$here/run-in-l1.sh" bash "$here/vfio.sh" | tee "$log"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 125 ] && [ "$attempt" = 1 ] || break
	echo "run-integration-iommufd: the L1 host failed (status 125); trying once more" >&2
done
# The counts come out on the console (L1's files vanish at power off).
tr -d '\r' < "$log" | sed -n "s/^\\($suite\\): \\([0-9]*\\) passed, \\([0-9]*\\) failed\$/\\1 \\2 \\3/p" |
	while read -r name p f; do echo "$p $f" > "$TEST_RESULTS_DIR/$name"; done
rm -f "$log"
[ "$rc" = 0 ] || echo "0 1" > "$TEST_RESULTS_DIR/$suite-harness"
echo "run-integration-iommufd: $(($(date +%s) - start)) s in all"
exit "$rc"
