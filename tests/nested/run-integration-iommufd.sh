#!/bin/bash
# Passthrough under iommufd: one L1 host booted on the kernel
# guest-images/build-host-kernel.sh builds (iommufd, the VFIO cdev,
# everything built in; Debian's kernels have no iommufd), every VMM run
# with --vfio-backend iommufd. Besides its e1000e, L1's QEMU has QEMU's
# nvme on a raw image in build/, an igb and an e1000, and in that one L1:
#   vfio.sh       the e1000e: MSI-X, INTx with pci=nomsi, --reserved, the
#                 files the VMM holds, a device held elsewhere
#                 (integration-vfio-iommufd);
#   vfio-nvme.sh  the NVMe: O_DIRECT I/O on its MSI-X vectors; here, after
#                 L1 exits, the pattern must be in the outer image file
#                 (integration-vfio-nvme-iommufd);
#   vfio-nics.sh  the igb (MSI-X) and the e1000 (INTx only) in one guest
#                 (integration-vfio-nics-iommufd).
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
. "$root/tests/lib.sh"
suites=${IOMMUFD_SUITES:-vfio vfio-nvme vfio-nics}

start=$(date +%s)
if ! "$root/guest-images/build-host-kernel.sh" x86_64 --print; then
	echo "run-integration-iommufd: the iommufd L1 kernel did not build" >&2
	echo "0 1" > "$TEST_RESULTS_DIR/integration-iommufd-harness"
	exit 1
fi
echo "run-integration-iommufd: L1 kernel ready after $(($(date +%s) - start)) s"

work=$root/build/nested-iommufd
mkdir -p "$work"
img=$work/nvme.img
# The NVMe as run-integration-passthrough.sh gives it (100 queue pairs,
# 128 vectors); the e1000 on a user net of its own, so the guest routes
# each NIC's gateway through that NIC.
qemu_args="-device nvme,serial=vmmnvme,drive=nvme0,max_ioqpairs=100,msix_qsize=128,dbcs=off
 -drive if=none,id=nvme0,file=$img,format=raw,cache=none,aio=threads
 -device igb,netdev=igb0 -netdev user,id=igb0
 -device e1000,netdev=e1k0 -netdev user,id=e1k0,net=10.0.3.0/24"

export VMM_L1_KERNEL=iommufd VFIO_BACKEND=iommufd SUITE_NAME=integration-vfio-iommufd SUITE_SUFFIX=-iommufd
log=$(mktemp)
for attempt in 1 2; do
	rm -f "$img"
	truncate -s 256M "$img" || exit 1
	L1_ENV="VMM VFIO_BACKEND SUITE_NAME SUITE_SUFFIX" L1_QEMU_ARGS="$qemu_args" L1_TIMEOUT=${L1_TIMEOUT:-1200} \
		bash "$here/run-in-l1.sh" bash -c "rc=0; for s in $suites; do echo \"=== nested suite: \$s (\$(cut -d' ' -f1 /proc/uptime) s)\"; bash '$here/'\$s.sh || rc=1; done; exit \$rc" |
		tee "$log"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 125 ] && [ "$attempt" = 1 ] || break
	echo "run-integration-iommufd: the L1 host failed (status 125); trying once more" >&2
done
# The counts come out on the console (L1's files vanish at power off).
tr -d '\r' < "$log" | sed -n 's/^\(integration-vfio[a-z-]*-iommufd\): \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2 \3/p' |
	while read -r name p f; do echo "$p $f" > "$TEST_RESULTS_DIR/$name"; done
rm -f "$log"

# What the NVMe guest wrote, in the outer image, counted with its suite.
case " $suites " in *" vfio-nvme "*)
	suite=integration-vfio-nvme-iommufd p=0 f=0
	[ -f "$TEST_RESULTS_DIR/$suite" ] && read -r p f < "$TEST_RESULTS_DIR/$suite"
	if cmp <(yes vmm-nvme-O_DIRECT-pattern | head -c 1048576) <(dd if="$img" bs=4k skip=4096 count=256 2>/dev/null); then
		pass "after L1 exits, the guest's O_DIRECT pattern is in the outer image file"; p=$((p + 1))
	else
		fail "after L1 exits, the guest's O_DIRECT pattern is in the outer image file" "not found at 16 MiB"; f=$((f + 1))
	fi
	echo "$p $f" > "$TEST_RESULTS_DIR/$suite"
	echo "$suite (with the outer check): $p passed, $f failed"
esac
rm -f "$img"
[ "$rc" = 0 ] || echo "0 1" > "$TEST_RESULTS_DIR/integration-iommufd-harness"
echo "run-integration-iommufd: $(($(date +%s) - start)) s in all"
exit "$rc"
