#!/bin/bash
# Boots an arm64 L1 host and runs the arm64 suite inside it with the
# cross-built static VMM (make ARCH=arm64), twice: on Debian's 4 KiB-page
# kernel and on its 16 KiB-page kernel (linux-image-arm64-16k, the page
# size of Apple-silicon hosts); the L2 guest keeps its 4 KiB kernel. Status
# 125 from the harness means the L1 host itself failed: that run is tried
# once more. ARM64_PAGES="4k" runs only the first, ARM64_PAGES= neither.
# A third run, integration-arm64-iommufd, boots an L1 on the self-built
# iommufd kernel (guest-images/build-host-kernel.sh arm64-cross, ~12 min
# once, then cached) and passes the NIC with --vfio-backend iommufd;
# ARM64_IOMMUFD=0 leaves it out. ARM64_SWMSI=1 adds integration-arm64-swmsi:
# an L1 on linux-source-7.3 with the iommufd sw-msi patches
# (build-host-kernel.sh --swmsi, ~14 min once), where the VMM moves the MSI
# window (MSI_WINDOW=moved); skipped in one line when the patches are not
# on this machine.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export TEST_RESULTS_DIR=${TEST_RESULTS_DIR:-$root/build/test-results}
mkdir -p "$TEST_RESULTS_DIR"

# The binary of this checkout, named and fingerprinted for the suite.
export VMM_ARM64=$root/build/arm64/vmm-static
VMM_ARM64_SHA256=$(sha256sum "$VMM_ARM64" | cut -d' ' -f1)
export VMM_ARM64_SHA256

# run_suite SUITE_NAME PAGE_BYTES [L1 kernel meta-package]
# (VMM_L1_KERNEL_ARM64 and VFIO_BACKEND pass through when set)
run_suite() {
	local log rc
	export SUITE_NAME=$1 EXPECT_PAGE_SIZE=$2
	log=$(mktemp)
	for attempt in 1 2; do
		VMM_L1_KERNEL_META_ARM64=${3:-} \
		L1_ENV="VMM_ARM64 VMM_ARM64_SHA256 SUITE_NAME EXPECT_PAGE_SIZE VFIO_BACKEND MSI_WINDOW" \
		L1_TIMEOUT=${L1_TIMEOUT:-900} \
			bash "$here/run-in-l1-arm64.sh" "$here/arm64.sh" | tee "$log"
		rc=${PIPESTATUS[0]}
		[ "$rc" = 125 ] && [ "$attempt" = 1 ] || break
		echo "run-integration-arm64: the L1 host failed (status 125); trying once more" >&2
	done
	tr -d '\r' < "$log" | sed -n "s/^\\($1\\): \\([0-9]*\\) passed, \\([0-9]*\\) failed\$/\\1 \\2 \\3/p" |
		while read -r suite p f; do echo "$p $f" > "$TEST_RESULTS_DIR/$suite"; done
	rm -f "$log"
	[ "$rc" = 0 ] || echo "0 1" > "$TEST_RESULTS_DIR/$1-harness"
	return "$rc"
}

rc=0
pages=${ARM64_PAGES-4k 16k}
case $pages in
*4k*) run_suite integration-arm64 4096 || rc=1 ;;
esac
case $pages in
*16k*) run_suite integration-arm64-16k 16384 linux-image-6.12-arm64-16k || rc=1 ;;
esac
if [ "${ARM64_IOMMUFD:-1}" = 1 ]; then
	VMM_L1_KERNEL_ARM64=iommufd VFIO_BACKEND=iommufd run_suite integration-arm64-iommufd 4096 || rc=1
fi
if [ "${ARM64_SWMSI:-0}" = 1 ]; then
	# The kernel first (status 3: its patches are missing here, said in one line).
	"$root/guest-images/build-host-kernel.sh" arm64-cross --swmsi --print >/dev/null
	case $? in
	0) VMM_L1_KERNEL_ARM64=swmsi VFIO_BACKEND=iommufd MSI_WINDOW=moved \
		run_suite integration-arm64-swmsi 4096 || rc=1 ;;
	3) echo "integration-arm64-swmsi: skipped (needs the iommufd sw-msi kernel patches, see above)" ;;
	*) echo "0 1" > "$TEST_RESULTS_DIR/integration-arm64-swmsi-harness"; rc=1 ;;
	esac
fi
exit "$rc"
