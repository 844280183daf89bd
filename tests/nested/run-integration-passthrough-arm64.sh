#!/bin/bash
# NVMe passthrough on arm64: an arm64 L1 (Debian's 4 KiB-page kernel)
# whose QEMU has an NVMe controller on a raw image in build/, behind
# SMMUv3 (128 MSI-X vectors, no shadow doorbells: see vfio-nvme.sh); inside it tests/nested/arm64-nvme.sh with the cross-built static
# VMM; afterwards the guest's pattern must be in the outer image. Results
# as integration-arm64-nvme. Status 125 from the harness means the L1
# host itself failed: that run is tried once more.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
export TEST_RESULTS_DIR=${TEST_RESULTS_DIR:-$root/build/test-results}
mkdir -p "$TEST_RESULTS_DIR"
. "$root/tests/lib.sh"
suite=integration-arm64-nvme
export VMM_ARM64=${VMM_ARM64:-$root/build/arm64/vmm-static}
work=$root/build/nested-passthrough-arm64
mkdir -p "$work"
img=$work/nvme.img
start=$(date +%s)

log=$(mktemp)
for attempt in 1 2; do
	rm -f "$img"
	truncate -s 256M "$img" || exit 1
	L1_ENV="VMM_ARM64" L1_TIMEOUT=${L1_TIMEOUT:-900} \
	L1_QEMU_ARGS="-device nvme,serial=vmmnvme,drive=nvme0,max_ioqpairs=100,msix_qsize=128,dbcs=off -drive if=none,id=nvme0,file=$img,format=raw,cache=none,aio=threads" \
		bash "$here/run-in-l1-arm64.sh" "$here/arm64-nvme.sh" | tee "$log"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 125 ] && [ "$attempt" = 1 ] || break
	echo "run-integration-passthrough-arm64: the L1 host failed (status 125); trying once more" >&2
done
p=0 f=0
read -r p f < <(tr -d '\r' < "$log" | sed -n "s/^$suite: \\([0-9]*\\) passed, \\([0-9]*\\) failed\$/\\1 \\2/p" | tail -n1) || true
rm -f "$log"
if cmp -s <(yes vmm-nvme-O_DIRECT-pattern | head -c 1048576) <(dd if="$img" bs=4k skip=4096 count=256 2>/dev/null); then
	pass "after L1 exits, the arm64 guest's O_DIRECT pattern is in the outer image file"
	p=$((${p:-0} + 1))
else
	fail "after L1 exits, the arm64 guest's O_DIRECT pattern is in the outer image file" "not there"
	f=$((${f:-0} + 1))
fi
echo "${p:-0} ${f:-0}" > "$TEST_RESULTS_DIR/$suite"
echo "$suite (with the outer check): ${p:-0} passed, ${f:-0} failed"
rm -f "$img"
[ "$rc" = 0 ] || echo "0 1" > "$TEST_RESULTS_DIR/$suite-harness"
echo "run-integration-passthrough-arm64: $(($(date +%s) - start)) s in all"
exit "$rc"
