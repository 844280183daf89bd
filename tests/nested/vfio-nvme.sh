#!/bin/bash
# NVMe passed through inside L1 (run-integration-passthrough.sh gives L1
# QEMU's nvme with max_ioqpairs=100,msix_qsize=128 on a raw image of the
# outer machine): its MSI-X table and PBA share BAR0 with the doorbells,
# and with NVME_OVER_64=1, 33 vCPUs and nvme.write_queues=33 (the driver
# refuses more write queues than CPUs) the L2 guest's driver arms 67
# vectors: one for the admin queue, 33 default and 33 write queues. That
# guest is slow to boot under TCG (more than 4 minutes on a loaded
# machine), so by default the guest has 2 vCPUs and 3 vectors. The guest writes a pattern with O_DIRECT, reads it back, and
# its nvme interrupts count; L1 shows a host interrupt for exactly the
# vectors the guest armed. The runner checks, after L1 is gone, that the
# pattern is in the outer image file.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# VFIO_BACKEND (iommufd under run-integration-iommufd.sh)
# goes to every run; SUITE_SUFFIX names the results apart.
suite=integration-vfio-nvme${SUITE_SUFFIX:-}
backend_args=()
[ -z "${VFIO_BACKEND:-}" ] || backend_args=(--vfio-backend "$VFIO_BACKEND")

# QEMU's nvme: class 010802 (NVM Express), vendor 1b36.
nvme=
for dev in /sys/bus/pci/devices/*; do
	[ "$(cat "$dev/class")" = 0x010802 ] && nvme=$(basename "$dev") && break
done
check "L1 has an NVMe controller to pass through ($nvme)" test -n "$nvme"

"$vmm" vfio-bind "$nvme" > "$out/bind.txt" 2>&1
check "vmm vfio-bind hands the NVMe controller to vfio-pci" \
	bash -c "readlink /sys/bus/pci/devices/$nvme/driver | grep -q vfio-pci"

"$vmm" plan -m 512M --vfio "$nvme" "${backend_args[@]}" --json > "$out/plan.json" 2>&1
if [ -n "${VFIO_BACKEND:-}" ]; then
	"$vmm" plan -m 512M --vfio "$nvme" "${backend_args[@]}" > "$out/plan.txt" 2>&1
	check "plan says the IOMMU backend is $VFIO_BACKEND" grep -q "^IOMMU backend: $VFIO_BACKEND " "$out/plan.txt"
fi
check "plan --json lists the controller's BAR0 with host and guest addresses" \
	python3 -c "
import json, sys
p = json.load(open('$out/plan.json'))
bars = [b for d in p['devices'] if d['bdf'] == '$nvme' for b in d['bars']]
b0 = [b for b in bars if b['index'] == 0][0]
assert b0['size'] >= 16384 and b0['host'] > 0 and b0['guest'] > 0, b0
"

# The pattern: 1 MiB at 16 MiB into the namespace (the runner knows it too).
pattern='yes vmm-nvme-O_DIRECT-pattern | head -c 1048576 > /tmp/pattern'
nvme_irqs='awk "/nvme0q/ { for (i = 2; i <= NF; i++) if (\$i ~ /^[0-9]+$/) n += \$i } END { print n + 0 }" /proc/interrupts'
script="
$pattern
[ -b /dev/nvme0n1 ] && echo NAMESPACE=ok
echo VECTORS=\$(grep -c nvme0q /proc/interrupts)
echo IRQ_BEFORE=\$($nvme_irqs)
[ -b /dev/nvme0n1 ] && dd if=/tmp/pattern of=/dev/nvme0n1 bs=4k seek=4096 oflag=direct 2>/dev/null && echo WRITE=ok
[ -b /dev/nvme0n1 ] && dd if=/dev/nvme0n1 of=/tmp/back bs=4k skip=4096 count=256 iflag=direct 2>/dev/null && echo READ=ok
cmp /tmp/pattern /tmp/back && echo MATCH=ok
echo IRQ_AFTER=\$($nvme_irqs)
echo IO_DONE
sleep 4
grep nvme0q /proc/interrupts | head -n 3
"
if [ "${NVME_OVER_64:-0}" = 1 ]; then
	cpus=33 params=nvme.write_queues=33 limit=600
else
	cpus=2 params= limit=240
fi
start=$(date +%s)
timeout -k 10 "$limit" "$vmm" run -d -k "$KERNEL" -i "$L2_INITRD" -c "$cpus" -m 512M --vfio "$nvme" "${backend_args[@]}" \
	-p "$params $(guest_run "$script")" </dev/null >"$out/nvme.log" 2>&1 &
pid=$!
host_vectors=
for _ in $(seq $((limit * 5))); do
	if grep -q IO_DONE "$out/nvme.log"; then
		host_vectors=$(grep -c "vfio-msix.*($nvme)" /proc/interrupts)
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.2
done
wait "$pid"
rc=$?
tr -d '\r' < "$out/nvme.log" > "$out/nvme.txt"
echo "   (nvme: exit $rc in $(($(date +%s) - start)) s)"
has() { grep -q -- "$1" "$out/nvme.txt"; }
value() { sed -n "s/^$1=//p" "$out/nvme.txt" | head -n1; }
expect_eq "the guest powers off (exit 0)" 0 "$rc"
check "the guest's nvme driver finds the namespace" has NAMESPACE=ok
check "an O_DIRECT write of 1 MiB completes" has WRITE=ok
check "an O_DIRECT read of it completes" has READ=ok
check "what was read is what was written" has MATCH=ok
check "no nvme command timed out" bash -c "! grep -q 'nvme.*timeout' '$out/nvme.txt'"
vectors=$(value VECTORS)
if [ "${NVME_OVER_64:-0}" = 1 ]; then
	check "the guest's nvme driver uses more than 64 MSI-X vectors (${vectors:-none})" \
		test "${vectors:-0}" -gt 64
else
	check "the guest's nvme driver uses MSI-X vectors (${vectors:-none})" test "${vectors:-0}" -gt 0
fi
after=$(value IRQ_AFTER) before=$(value IRQ_BEFORE)
irqs=$(( ${after:-0} - ${before:-0} ))
check "the guest's nvme interrupt counters grow with the I/O ($irqs)" test "$irqs" -gt 0
expect_eq "L1 has a host interrupt for exactly the vectors the guest armed (${host_vectors:-none})" "${vectors:-x}" "${host_vectors:-y}"
grep -E "DMA-mapped|MSI-X [0-9]+ vectors|error|warn" "$out/nvme.txt" | head -n 5
# What the guest's driver said, when something failed.
[ "$failed" = 0 ] || grep -E "nvme|vmm:" "$out/nvme.txt" | head -n 40
check "no run made a call its sandbox forbids" bash -c "! grep -q 'forbidden system call' '$out/nvme.txt'"
finish "$suite"
