#!/bin/bash
# Inside L1: 4 KiB random-read IOPS and sequential MiB/s measured in the
# guest by blkbench (guest-images/tools), on a raw image served by
# build/vmm (virtio-blk on io_uring) and by QEMU (virtio-blk-pci,
# aio=io_uring), same guest, same image; the VMM with its seccomp sandbox
# (the default) and without, to show what the filters cost. The guest
# also counts its interrupts per completed request on the disk (all
# vectors of its virtio device over both runs, against /sys/block/vda/stat).
# Prints per VMM: BENCH blk kind=vmm iops=N mib_s=N irq_per_req=N
# (kind=before: VMM_BEFORE, another build of the VMM, when set).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${KERNEL:?}" "${L2_INITRD:?}"
secs=${BENCH_BLK_SECONDS:-5}
img=$(mktemp /tmp/bench-blk.XXXXXX)
trap 'rm -f "$img"' EXIT
# Real data, so reads are not served from holes.
dd if=/dev/urandom of="$img" bs=1M count=256 status=none
guest='dev=$(basename "$(readlink /sys/block/vda/device)")
irqs() { awk -v d="$dev-" "index(\$0, d) { for (i = 2; i <= NF; i++) if (\$i ~ /^[0-9]+\$/) n += \$i } END { print n + 0 }" /proc/interrupts; }
reqs() { awk "{ print \$1 + \$5 }" /sys/block/vda/stat; }
i0=$(irqs); r0=$(reqs)
blkbench -d /dev/vda -t '"$secs"' -j 4
i1=$(irqs); r1=$(reqs)
echo "BLKBENCH irqs=$((i1 - i0)) requests=$((r1 - r0))"'
script=$(printf '%s\n' "$guest" | base64 -w0)
params="panic=-1 quiet vmmtest.run=$script"

run_vmm() {
	timeout 300 "$root/build/vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 256M -c 2 \
		--disk "$img" -p "$params" </dev/null 2>&1
}
run_vmm_nosandbox() {
	timeout 300 "$root/build/vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 256M -c 2 \
		--sandbox off --disk "$img" -p "$params" </dev/null 2>&1
}
run_before() {
	timeout 300 "$VMM_BEFORE" run -k "$KERNEL" -i "$L2_INITRD" -m 256M -c 2 \
		--disk "$img" -p "$params" </dev/null 2>&1
}
run_qemu() {
	timeout 300 "${BENCH_QEMU:-qemu-system-x86_64}" -M microvm,pcie=on -enable-kvm -cpu host \
		-smp 2 -m 256 -nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-drive "file=$img,if=none,id=d0,format=raw,aio=io_uring" \
		-device virtio-blk-pci,drive=d0 \
		-kernel "$KERNEL" -initrd "$L2_INITRD" -append "console=ttyS0 $params" </dev/null 2>&1
}

declare -A iops mibs
for kind in vmm vmm_nosandbox qemu ${VMM_BEFORE:+before}; do
	out=$(run_$kind | tr -d '\r')
	iops[$kind]=$(printf '%s\n' "$out" | sed -n 's/.*BLKBENCH randread_4k_iops=\([0-9]*\).*/\1/p' | head -n1)
	mibs[$kind]=$(printf '%s\n' "$out" | sed -n 's/.*BLKBENCH seqread_mib_s=\([0-9.]*\).*/\1/p' | head -n1)
	per=$(printf '%s\n' "$out" | sed -n 's/.*BLKBENCH irqs=\([0-9]*\) requests=\([0-9]*\).*/\1 \2/p' |
		awk '$2 > 0 { printf "%.3f", $1 / $2 }')
	echo "BENCH blk kind=$kind iops=${iops[$kind]:-?} mib_s=${mibs[$kind]:-?} irq_per_req=${per:-?}"
	[ -n "${iops[$kind]}" ] || printf '%s\n' "$out" | tail -n 5
done
