#!/bin/bash
# Inside L1: passthrough of L1's e1000e, build/vmm against QEMU
# (-device vfio-pci): boot time to the guest's first userspace line,
# ping round trip to 10.0.2.2, and the device's interrupts against the
# VMM's CPU time (user+sys, not guest) during a ping load. Prints per VMM
#   BENCH vfio kind=vmm boot_ms=N rtt_ms=N irqs=N secs=N cpu_s=N cpu_ms_per_1k_irq=N
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${KERNEL:?}" "${L2_INITRD:?}"
nic=${VFIO_NIC:-0000:00:01.0}
"$root/build/vmm" vfio-bind "$nic" >/dev/null || exit 1

guest='ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; sleep 1
ping -c 20 -W 2 10.0.2.2 | tail -n 1
i0=$(awk "/eth0/ { for (i = 2; i <= NF; i++) if (\$i ~ /^[0-9]+$/) n += \$i } END { print n + 0 }" /proc/interrupts)
t0=$(cat /proc/uptime | cut -d" " -f1)
echo LOAD=start
for i in $(seq 40); do ping -q -c 25 -W 1 10.0.2.2 >/dev/null & done; wait
echo LOAD=end
i1=$(awk "/eth0/ { for (i = 2; i <= NF; i++) if (\$i ~ /^[0-9]+$/) n += \$i } END { print n + 0 }" /proc/interrupts)
t1=$(cat /proc/uptime | cut -d" " -f1)
echo "IRQS=$((i1 - i0)) SECS=$(awk -v a=$t0 -v b=$t1 "BEGIN { print b - a }")"'
params="panic=-1 quiet vmmtest.run=$(printf '%s\n' "$guest" | base64 -w0)"

# measure KIND: boot, ping and load figures for one VMM.
measure() {
	local kind=$1 log pid start ready=0 line u0 u1 t0 t1
	log=$(mktemp)
	case $kind in
	vmm) "$root/build/vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 512M -c 2 --vfio "$nic" \
		-p "$params" </dev/null >"$log" 2>&1 & ;;
	qemu) "${BENCH_QEMU:-qemu-system-x86_64}" -M q35 -enable-kvm -cpu host -smp 2 -m 512 \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-device vfio-pci,host="$nic" -kernel "$KERNEL" -initrd "$L2_INITRD" \
		-append "console=ttyS0 $params" </dev/null >"$log" 2>&1 & ;;
	esac
	pid=$!
	start=$EPOCHREALTIME
	for _ in $(seq 1500); do
		if [ "$ready" = 0 ] && grep -q "VMMTEST userspace" "$log"; then
			ready=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
		fi
		if [ -z "${u0:-}" ] && grep -q "LOAD=start" "$log"; then
			read -r u0 < <(awk '{ print $14 - $43 + $15 }' /proc/$pid/stat)
		fi
		if grep -q "LOAD=end" "$log"; then
			read -r u1 < <(awk '{ print $14 - $43 + $15 }' /proc/$pid/stat)
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	wait "$pid"
	tr -d '\r' < "$log" > "$log.txt"
	rtt=$(sed -n 's/.*min\/avg\/max = [0-9.]*\/\([0-9.]*\)\/.*/\1/p' "$log.txt" | head -n1)
	irqs=$(sed -n 's/^IRQS=\([0-9]*\) SECS=.*/\1/p' "$log.txt" | head -n1)
	secs=$(sed -n 's/^IRQS=[0-9]* SECS=\([0-9.]*\)/\1/p' "$log.txt" | head -n1)
	cpu=$(awk -v a="${u0:-0}" -v b="${u1:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) / hz }')
	per=$(awk -v c="$cpu" -v n="${irqs:-0}" 'BEGIN { if (n > 0) printf "%.2f", c * 1e6 / n; else print "?" }')
	echo "BENCH vfio kind=$kind boot_ms=$ready rtt_ms=${rtt:-?} irqs=${irqs:-?} secs=${secs:-?} cpu_s=$cpu cpu_ms_per_1k_irq=$per"
	rm -f "$log" "$log.txt"
}
measure vmm
measure qemu
