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
# at MARKER: waits until the guest printed MARKER (status 1 if the VMM
# exited first); the guest sleeps after each marker while L1 looks.
at() {
	while ! grep -q "$1" "$out/nvme.log"; do
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
}
# L1's host interrupts for the controller, and the count of one of them.
host_vectors() { grep -c "vfio-msix\[[0-9]*\]($nvme)" /proc/interrupts; }
host_count() {
	# Only the per-CPU columns: on arm64 the next one is the hardware IRQ number.
	awk -v name="vfio-msix[$1]($nvme)" 'NR == 1 { cpus = NF } $NF == name { for (i = 2; i <= cpus + 1; i++) n += $i } END { print n + 0 }' /proc/interrupts
}
armed_vectors= fired_count= masked_vectors= off_vectors=
at IO_DONE && io_vectors=$(host_vectors)
at VEC_AT_ARMED && armed_vectors=$(host_vectors) && grep "vfio-msix" /proc/interrupts | sed -n '1p;$p'
at VEC_AT_FIRED && fired_count=$(host_count 100)
at VEC_AT_MASKED && masked_vectors=$(host_vectors)
at VEC_AT_OFF && off_vectors=$(host_vectors)
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
value_of() { v=$(value "$1"); echo "${v:-none}"; }
at_least() { [ "$2" -ge "$1" ] 2>/dev/null; } # MIN VALUE
expect_eq "L1 has a host interrupt for each vector the guest's driver armed" "$(value VECTORS)" "${io_vectors:-none}"
# More than 64 vectors.
tr -d '\r' < "$out/nvme.log" | grep "^NVME-MSIX\|^MASKED\|^UNMASKED\|^VEC_.*="
unmasked=$(tr -d '\r' < "$out/nvme.log" | sed -n 's/^NVME-MSIX unmasked=\([0-9]*\) of=128$/\1/p' | head -n1)
expect_eq "the guest unmasks all 128 entries of the controller's MSI-X table" 128 "${unmasked:-none}"
expect_eq "L1 has a host interrupt for each of the 128 vectors the guest unmasked" "${unmasked:-x}" "${armed_vectors:-none}"
check "the controller completes a command on a queue that signals vector 100" \
	has "^NVME-MSIX fired vector=100 status=0 pending=0"
check "L1's host interrupt for vector 100 counts it (${fired_count:-none})" at_least 1 "$fired_count"
check "the guest counts it on nvme0q1, whose message vector 100 carries ($(value_of VEC_FIRE_Q1))" \
	at_least 1 "$(value VEC_FIRE_Q1)"
check "masked, vector 100's interrupt is pending in the PBA" has "^MASKED NVME-MSIX fired vector=100 status=0 pending=1"
expect_eq "masked, the guest does not get it" 0 "$(value_of VEC_MASKED_FIRE_Q1)"
check "unmasking delivers the pending interrupt ($(value_of VEC_UNMASK_Q1))" at_least 1 "$(value VEC_UNMASK_Q1)"
check "after delivery the PBA bit is clear" has "^UNMASKED NVME-MSIX pending=0"
expect_eq "masking the 125 entries again keeps their host interrupts (the PBA needs them)" 128 "${masked_vectors:-none}"
expect_eq "unbinding the guest's driver disables MSI-X and releases every host interrupt" 0 "${off_vectors:-none}"
grep -E "DMA-mapped|error|warn" "$out/nvme.log" | head -n 5
[ "$failed" = 0 ] || grep -E "nvme|vmm:" "$out/nvme.log" | head -n 30
check "no run made a call its sandbox forbids" sh -c "! grep -q 'forbidden system call' '$out/nvme.log'"
"$vmm" vfio-unbind "$nvme" >/dev/null 2>&1
rm -rf "$out"
echo "integration-arm64-nvme: $passed passed, $failed failed"
[ "$failed" = 0 ]
