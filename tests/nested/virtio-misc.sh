#!/bin/bash
# Integration tests of the virtio-pci transport with virtio-rng and
# virtio-console, inside L1 (real KVM).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# boot NAME GUEST_SCRIPT VMM_ARGS...: the script runs in the guest (vmmtest.run).
boot() {
	local name=$1 script=$2
	shift 2
	timeout -k 10 150 "$vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 256M -c 2 "$@" \
		-p "panic=-1 vmmtest.run=$(printf '%s\n' "$script" | base64 -w0)" \
		</dev/null >"$out/$name.log" 2>&1
	rc=$?
	tr -d '\r' < "$out/$name.log" > "$out/$name.txt"
	echo "   ($name: exit $rc)"
}
has() { grep -q -- "$2" "$out/$1.txt"; }

boot rng '
echo "RNG current=$(cat /sys/class/misc/hw_random/rng_current)"
a=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | md5sum | cut -c1-32)
b=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | md5sum | cut -c1-32)
n=$(dd if=/dev/hwrng bs=4096 count=4 2>/dev/null | wc -c)
echo "RNG bytes=$n"
[ "$a" != "$b" ] && echo "RNG reads differ"
grep -i "PCI-MSIX.*virtio.*-input" /proc/interrupts | awk "{ print \"RNG irqs=\" \$2 + \$3 }"
'
check "virtio-rng is the guest's hwrng" has rng "RNG current=virtio_rng"
check "/dev/hwrng delivers 16 KiB" has rng "RNG bytes=16384"
check "two /dev/hwrng reads differ" has rng "RNG reads differ"
irqs=$(sed -n 's/^RNG irqs=//p' "$out/rng.txt" | head -n1)
check "virtio-rng interrupts arrive as MSI-X (${irqs:-0})" test "${irqs:-0}" -gt 0
expect_eq "rng guest powers off" 0 "$rc"

boot norng 'ls /sys/bus/virtio/devices | wc -l | sed "s/^/VIRTIO count=/"' --no-rng
check "--no-rng leaves no virtio device" has norng "VIRTIO count=0"

boot vcon 'echo "HVC $(cat /sys/class/tty/console/active)"' --console virtio
check "--console virtio: the guest console is hvc0" has vcon "HVC hvc0"
check "--console virtio: guest output reaches the VMM's stdout" has vcon "VMMTEST userspace"
expect_eq "virtio-console guest powers off" 0 "$rc"

finish integration-virtio-misc
