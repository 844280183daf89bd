#!/bin/sh
# NVMe passed through on arm64 (run-integration-passthrough-arm64.sh gives
# the arm64 L1 QEMU's nvme behind SMMUv3, on a raw image of the outer
# machine): its MSI-X vectors, whose table shares BAR0 with the doorbells,
# arrive as ITS MSIs. The L2 guest writes a pattern with O_DIRECT and
# reads it back; the runner checks the outer image after L1 exits. Then
# more than 64 vectors, as vfio-nvme.sh does on x86 (the controller has
# msix_qsize=128, dbcs=off): nvme-vectors.guest.sh unmasks all 128 table
# entries, vector 100 carries a completion to the guest's nvme0q1 and,
# masked, is pending in the PBA; L1 shows 128 host interrupts, and none
# once the guest's driver is unbound. POSIX sh: it runs under the arm64
# L1's busybox. Prints "integration-arm64-nvme: N passed, N failed".
vmm=${VMM_ARM64:-$(cd "$(dirname "$0")/../.." && pwd)/build/arm64/vmm-static}
out=$(mktemp -d)
passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "'$*' failed"; fi; }
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi; }
value() { sed -n "s/^$1=//p" "$out/nvme.log" | tr -d '\r' | head -n1; }
has() { grep -q -- "$1" "$out/nvme.log"; }

nvme=
for dev in /sys/bus/pci/devices/*; do
	[ "$(cat "$dev/class")" = 0x010802 ] && nvme=${dev##*/} && break
done
check "the arm64 L1 has an NVMe controller ($nvme)" test -n "$nvme"
"$vmm" vfio-bind "$nvme" > "$out/bind.log" 2>&1
check "vfio-bind hands it to vfio-pci" sh -c "readlink /sys/bus/pci/devices/$nvme/driver | grep -q vfio-pci"

script='
yes vmm-nvme-O_DIRECT-pattern | head -c 1048576 > /tmp/pattern
irqs() { awk "/ITS-PCI-MSIX.*nvme0q/ { n += \$2 + \$3 } END { print n + 0 }" /proc/interrupts; }
[ -b /dev/nvme0n1 ] && echo NAMESPACE=ok
echo VECTORS=$(grep -c nvme0q /proc/interrupts)
echo IRQ_BEFORE=$(irqs)
[ -b /dev/nvme0n1 ] && dd if=/tmp/pattern of=/dev/nvme0n1 bs=4k seek=4096 oflag=direct 2>/dev/null && echo WRITE=ok
[ -b /dev/nvme0n1 ] && dd if=/dev/nvme0n1 of=/tmp/back bs=4k skip=4096 count=256 iflag=direct 2>/dev/null && echo READ=ok
cmp /tmp/pattern /tmp/back && echo MATCH=ok
echo IRQ_AFTER=$(irqs)
grep nvme0q /proc/interrupts | head -n 3
echo IO_DONE
sleep 3
tr -d "\000" < /dev/vda > /tmp/vectors.sh && sh /tmp/vectors.sh
'
cp "$(dirname "$0")/nvme-vectors.guest.sh" "$out/vectors.disk" && truncate -s 64K "$out/vectors.disk"
start=$(date +%s)
timeout 450 "$vmm" run -k "$KERNEL" -i "$L2_INITRD" -c 2 -m 512M --vfio "$nvme" --disk "$out/vectors.disk,ro" \
	-p "panic=-1 iomem=relaxed vmmtest.run=$(printf '%s\n' "$script" | base64 -w0)" </dev/null >"$out/nvme.log" 2>&1 &
pid=$!
. "$(dirname "$0")/nvme-vectors-host.sh"
nvme_vectors_watch
wait "$pid"
rc=$?
echo "   (nvme: exit $rc in $(($(date +%s) - start)) s)"
expect_eq "the arm64 guest with the NVMe powers off (exit 0)" 0 "$rc"
check "its nvme driver finds the namespace" has NAMESPACE=ok
check "an O_DIRECT write of 1 MiB completes" has WRITE=ok
check "an O_DIRECT read of it completes" has READ=ok
check "what was read is what was written" has MATCH=ok
check "no nvme command timed out" sh -c "! grep -q 'nvme.*timeout' '$out/nvme.log'"
before=$(value IRQ_BEFORE) after=$(value IRQ_AFTER)
check "its nvme interrupts arrive through the ITS and grow with the I/O (${before:-?} -> ${after:-?})" \
	test "${after:-0}" -gt "${before:-0}"
expect_eq "L1 has a host interrupt for each vector the guest's driver armed" "$(value VECTORS)" "${io_vectors:-none}"
# More than 64 vectors.
nvme_vectors_check
grep -E "DMA-mapped|error|warn" "$out/nvme.log" | head -n 5
[ "$failed" = 0 ] || grep -E "nvme|vmm:" "$out/nvme.log" | head -n 30
check "no run made a call its sandbox forbids" sh -c "! grep -q 'forbidden system call' '$out/nvme.log'"
"$vmm" vfio-unbind "$nvme" >/dev/null 2>&1
rm -rf "$out"
echo "integration-arm64-nvme: $passed passed, $failed failed"
[ "$failed" = 0 ]
