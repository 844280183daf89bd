#!/bin/bash
# BARs beyond the default windows and groups of several devices, inside
# L1 (run-integration-passthrough.sh gives it ivshmem-plain with a 64 GiB
# BAR2 on a sparse file, and two e1000s behind a PCIe-to-PCI bridge,
# which the kernel puts in one IOMMU group: no ACS between them):
#  - plan grows the 64-bit window to hold the 64 GiB BAR, places the BAR
#    in it, and with too few address bits names device, BAR, size, limit;
#  - plan for one e1000 shows the other's BAR and the bridge window as
#    holes; with both passed through, the guest binds both;
#  - the L2 guest writes at 60 GiB into the BAR with busybox devmem; the
#    runner checks the outer file at that offset after L1 exits.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
suite=integration-vfio-bar

find_dev() { # VENDOR DEVICE [N]: the Nth such device (1 first)
	local n=0 dev
	for dev in /sys/bus/pci/devices/*; do
		[ "$(cat "$dev/vendor")" = "$1" ] && [ "$(cat "$dev/device")" = "$2" ] || continue
		n=$((n + 1))
		[ "$n" = "${3:-1}" ] && basename "$dev" && return 0
	done
}
shm=$(find_dev 0x1af4 0x1110)
nic1=$(find_dev 0x8086 0x100e 1) nic2=$(find_dev 0x8086 0x100e 2)
bridge=$(basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$nic1")")" 2>/dev/null)
echo "   (ivshmem $shm, e1000s $nic1 and $nic2 behind $bridge)"
check "L1 has ivshmem and two e1000s to pass through" test -n "$shm" -a -n "$nic1" -a -n "$nic2"
size_of() { # "START END" in hex -> bytes
	echo $(( ${2:-0} - ${1:-0} + 1 ))
}
# shellcheck disable=SC2046 # the two numbers are the point
l1_bar2=$(size_of $(sed -n 3p "/sys/bus/pci/devices/$shm/resource" 2>/dev/null) 0)
expect_eq "L1's ivshmem BAR2 is 64 GiB" $((64 << 30)) "$l1_bar2"
for d in "$shm" "$nic1" "$nic2"; do "$vmm" vfio-bind "$d" >/dev/null 2>&1; done
check "the two e1000s and their bridge share one IOMMU group" bash -c \
	"[ \$(ls /sys/bus/pci/devices/$nic1/iommu_group/devices | wc -l) -ge 3 ] &&
	 [ \$(readlink -f /sys/bus/pci/devices/$nic1/iommu_group) = \$(readlink -f /sys/bus/pci/devices/$nic2/iommu_group) ]"

"$vmm" plan -m 512M --vfio "$shm" --json > "$out/plan.json" 2>&1
check "plan grows the 64-bit window to hold the 64 GiB BAR and places BAR2 in it" python3 -c "
import json
p = json.load(open('$out/plan.json'))
w = [r for r in p['regions'] if r['name'] == 'pci-mmio64'][0]
b = [b for d in p['devices'] if d['bdf'] == '$shm' for b in d['bars'] if b['index'] == 2][0]
assert w['size'] >= 64 << 30 and b['size'] == 64 << 30, (w, b)
assert w['start'] <= b['guest'] and b['guest'] + b['size'] <= w['end'] + 1 and b['guest'] % b['size'] == 0, (w, b)
"
"$vmm" plan -m 512M --vfio "$shm" --addr-bits 36 > "$out/small.txt" 2>&1
rc=$?
expect_eq "plan with a 36-bit address space cannot hold it (exit 1)" 1 "$rc"
check "... and says which device and BAR, its size and the limit, in one line" bash -c \
	"[ \$(wc -l < '$out/small.txt') = 1 ] && grep -q '$shm BAR2 (64 GiB).*' '$out/small.txt' &&
	 grep -q 'below 0x1000000000' '$out/small.txt' && ! grep -q '(null)' '$out/small.txt'"
cat "$out/small.txt"

"$vmm" plan -m 512M --vfio "$nic1" > "$out/peers.txt" 2>&1
check "plan for one e1000 shows the other's BAR0 as a hole" grep -q "hole .*peer BAR $nic2 BAR0" "$out/peers.txt"
check "plan shows the bridge's window as a hole" grep -q "hole .*bridge window $bridge" "$out/peers.txt"
grep -E "peer|bridge" "$out/peers.txt"

script="
ip link show | grep -c ': eth' | sed 's/^/NICS=/'
for d in /sys/bus/pci/devices/*; do
	[ \$(cat \$d/vendor) = 0x1af4 ] && [ \$(cat \$d/device) = 0x1110 ] && shm=\$d
done
set -- \$(sed -n 3p \$shm/resource)
echo BAR2=\$1-\$2
addr=\$(printf '0x%x' \$((\$1 + 60 * 1024 * 1024 * 1024)))
devmem \$addr 32 0x5eed60ab
echo READ=\$(devmem \$addr 32)
"
start=$(date +%s)
timeout -k 10 200 "$vmm" run -k "$KERNEL" -i "$L2_INITRD" -c 1 -m 512M --vfio "$shm" --vfio "$nic1" --vfio "$nic2" \
	-p "$(guest_run "$script")" </dev/null >"$out/bar.log" 2>&1
rc=$?
tr -d '\r' < "$out/bar.log" > "$out/bar.txt"
echo "   (bar: exit $rc in $(($(date +%s) - start)) s)"
expect_eq "the guest with ivshmem and both e1000s of the group powers off (exit 0)" 0 "$rc"
check "the guest's e1000 driver binds both NICs of the group" grep -q "^NICS=2" "$out/bar.txt"
guest_bar2=$(sed -n 's/^BAR2=//p' "$out/bar.txt" | head -n1)
# shellcheck disable=SC2046
expect_eq "the guest sees the 64 GiB BAR2 ($guest_bar2)" $((64 << 30)) "$(size_of $(echo "${guest_bar2:-0-0}" | tr - ' '))"
check "a value written at 60 GiB into it reads back" grep -qi "^READ=0x5EED60AB" "$out/bar.txt"
grep -E "DMA-mapped|BAR|error|warn" "$out/bar.txt" | head -n 8
[ "$failed" = 0 ] || grep -E "e1000|vmm:|BAR" "$out/bar.txt" | head -n 30
check "no run made a call its sandbox forbids" bash -c "! grep -q 'forbidden system call' '$out/bar.txt'"
finish "$suite"
