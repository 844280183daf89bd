#!/bin/bash
# Passthrough beyond NICs, on one L1 whose QEMU has: an NVMe controller
# with 100 queue pairs and 128 MSI-X vectors on a raw image in build/
# (without shadow doorbells, dbcs=off: vfio-nvme.sh rings a queue of its
# own that the guest's driver does not know),
# ivshmem-plain with a 64 GiB BAR on a sparse file, and a PCIe-to-PCI
# bridge with two e1000s (one IOMMU group, no ACS). Inside L1:
# tests/nested/vfio-nvme.sh and vfio-bar.sh; afterwards, here, the bytes
# the L2 guests wrote must be in the outer files. Results as
# integration-vfio-nvme and integration-vfio-bar. Status 125 from the
# harness means the L1 host itself failed: that run is tried once more.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export TEST_RESULTS_DIR=${TEST_RESULTS_DIR:-$root/build/test-results}
mkdir -p "$TEST_RESULTS_DIR"
. "$root/tests/lib.sh"
suites=${PASSTHROUGH_SUITES:-vfio-nvme vfio-bar}

work=$root/build/nested-passthrough
mkdir -p "$work"
img=$work/nvme.img shm=$work/ivshmem.bin
start=$(date +%s)

qemu_args="-device nvme,serial=vmmnvme,drive=nvme0,max_ioqpairs=100,msix_qsize=128,dbcs=off
 -drive if=none,id=nvme0,file=$img,format=raw,cache=none,aio=threads
 -object memory-backend-file,id=shm,share=on,mem-path=$shm,size=64G
 -device ivshmem-plain,memdev=shm
 -global q35-pcihost.pci-hole64-size=256G
 -device pcie-pci-bridge,id=br1,bus=pcie.0
 -device e1000,netdev=p0,bus=br1,addr=1 -netdev user,id=p0
 -device e1000,netdev=p1,bus=br1,addr=2 -netdev user,id=p1"

log=$(mktemp)
for attempt in 1 2; do
	rm -f "$img" "$shm"
	truncate -s 256M "$img" && truncate -s 64G "$shm" || exit 1
	L1_ENV="VMM" L1_QEMU_ARGS="$qemu_args" L1_TIMEOUT=${L1_TIMEOUT:-900} \
		bash "$here/run-in-l1.sh" bash -c "rc=0; for s in $suites; do echo \"=== nested suite: \$s\"; bash '$here/'\$s.sh || rc=1; done; exit \$rc" |
		tee "$log"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 125 ] && [ "$attempt" = 1 ] || break
	echo "run-integration-passthrough: the L1 host failed (status 125); trying once more" >&2
done
tr -d '\r' < "$log" | sed -n 's/^\(integration-vfio-[a-z]*\): \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2 \3/p' |
	while read -r name p f; do echo "$p $f" > "$TEST_RESULTS_DIR/$name"; done
rm -f "$log"

# What the guests wrote, in the outer files, counted with their suites.
outer() { # SUITE NAME COMMAND...
	local suite=$1 name=$2 p=0 f=0
	shift 2
	[ -f "$TEST_RESULTS_DIR/$suite" ] && read -r p f < "$TEST_RESULTS_DIR/$suite"
	if "$@"; then pass "$name"; p=$((p + 1)); else fail "$name" "'$*' failed"; f=$((f + 1)); fi
	echo "$p $f" > "$TEST_RESULTS_DIR/$suite"
	echo "$suite (with the outer checks): $p passed, $f failed"
}
case " $suites " in *" vfio-nvme "*)
	outer integration-vfio-nvme "after L1 exits, the guest's O_DIRECT pattern is in the outer image file" \
		bash -c "cmp <(yes vmm-nvme-O_DIRECT-pattern | head -c 1048576) <(dd if='$img' bs=4k skip=4096 count=256 2>/dev/null)"
esac
case " $suites " in *" vfio-bar "*)
	outer integration-vfio-bar "after L1 exits, the value the guest wrote at 60 GiB into the 64 GiB BAR is in the outer file" \
		bash -c "[ \"\$(dd if='$shm' bs=4 skip=\$((60 * 1024 * 1024 * 256)) count=1 2>/dev/null | od -An -tx4 | tr -d ' ')\" = 5eed60ab ]"
esac
rm -f "$img" "$shm"
[ "$rc" = 0 ] || echo "0 1" > "$TEST_RESULTS_DIR/integration-passthrough-harness"
echo "run-integration-passthrough: $(($(date +%s) - start)) s in all"
exit "$rc"
