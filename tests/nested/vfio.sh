#!/bin/bash
# VFIO passthrough inside L1 (real KVM, real VFIO behind an emulated
# VT-d): L1's e1000e is given to the L2 guest, which must bind its driver,
# reach the user-net gateway, and take its interrupts as MSI-X (or INTx)
# without the VMM's userspace on the path.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
nic=${VFIO_NIC:-0000:00:01.0}

net_setup='ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; sleep 1'
irq_count='awk "/eth0/ { for (i = 2; i <= NF; i++) if (\$i ~ /^[0-9]+$/) n += \$i } END { print n + 0 }" /proc/interrupts'

# boot NAME GUEST_SCRIPT VMM_ARGS...
boot() {
	local name=$1 script=$2
	shift 2
	timeout -k 10 200 "$vmm" run -k "$KERNEL" -i "$L2_INITRD" -c 2 --vfio "$nic" "$@" \
		-p "$(printf '%s' "${PARAMS:-}") vmmtest.run=$(printf '%s\n' "$script" | base64 -w0)" \
		</dev/null >"$out/$name.log" 2>&1
	rc=$?
	tr -d '\r' < "$out/$name.log" > "$out/$name.txt"
	echo "   ($name: exit $rc)"
}
has() { grep -q -- "$2" "$out/$1.txt"; }
value() { sed -n "s/^$2=//p" "$out/$1.txt" | head -n1; }

"$vmm" vfio-bind "$nic" > "$out/bind.txt" 2>&1
check "vmm vfio-bind hands the NIC to vfio-pci" \
	bash -c "readlink /sys/bus/pci/devices/$nic/driver | grep -q vfio-pci"

"$vmm" plan -m 512M --vfio "$nic" > "$out/plan.txt" 2>&1
check "plan --vfio shows the host MSI window as a hole" grep -q "hole .*host msi (iommu group" "$out/plan.txt"

# 1. MSI-X: driver binds, ping works, vectors count. Measure the VMM's
#    userspace CPU while the guest takes interrupts.
"$vmm" run -k "$KERNEL" -i "$L2_INITRD" -c 2 -m 512M --vfio "$nic" -p "vmmtest.run=$(printf '%s\n' "
$net_setup
ping -c 3 -W 3 10.0.2.2 && echo PING=ok
echo IRQ_BEFORE=\$($irq_count)
echo TRAFFIC=start
for i in \$(seq 40); do ping -q -c 25 -W 1 10.0.2.2 >/dev/null & done; wait
echo IRQ_AFTER=\$($irq_count)
echo TRAFFIC=end
grep -E 'eth0' /proc/interrupts
grep -E 'System RAM|fee00000' /proc/iomem
" | base64 -w0)" </dev/null >"$out/msix.log" 2>&1 &
pid=$!
# utime - guest_time: the VMM's own userspace; stime: the kernel on its behalf.
cpu() { awk '{ print $14 - $43, $15 }' "/proc/$pid/stat"; }
# Wake-ups of the main thread (the event loop): an interrupt passing
# through the VMM would wake it at least once; with irqfds it sleeps.
loop_wakeups() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/task/$pid/status"; }
wait_for() { for _ in $(seq 300); do grep -q "$1" "$out/msix.log" && return 0; kill -0 "$pid" 2>/dev/null || return 1; sleep 0.2; done; return 1; }
if wait_for TRAFFIC=start; then
	read -r u0 s0 < <(cpu); t0=$(date +%s.%N); w0=$(loop_wakeups)
	wait_for TRAFFIC=end
	read -r u1 s1 < <(cpu); t1=$(date +%s.%N); w1=$(loop_wakeups)
fi
wait "$pid"
rc=$?
tr -d '\r' < "$out/msix.log" > "$out/msix.txt"
echo "   (msix: exit $rc)"
check "the guest's e1000e driver binds the passed-through NIC" has msix "e1000e .* eth0: Intel(R) PRO/1000"
check "the guest pings 10.0.2.2 through the NIC" has msix "PING=ok"
check "the NIC's interrupts are MSI-X vectors in the guest" has msix "PCI-MSIX-.*eth0"
before=$(value msix IRQ_BEFORE) after=$(value msix IRQ_AFTER)
irqs=$(( ${after:-0} - ${before:-0} ))
check "the guest took at least 1000 NIC interrupts during the traffic ($irqs)" test "$irqs" -ge 1000
if [ -n "${u0:-}" ] && [ -n "${u1:-}" ]; then
	hz=$(getconf CLK_TCK)
	user=$(awk -v a="$u0" -v b="$u1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
	sys=$(awk -v a="$s0" -v b="$s1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	wakeups=$(( ${w1:-0} - ${w0:-0} ))
	echo "VFIO-IRQ interrupts=$irqs wall=${wall}s vmm_user_cpu=${user}s vmm_sys_cpu=${sys}s loop_wakeups=$wakeups"
	# No interrupt passes through the VMM: its event loop sleeps through
	# them. (CPU time is printed, not judged: under TCG its tick-sampled
	# accounting swings with the host's load, once below zero.)
	check "the VMM's event loop sleeps through $irqs NIC interrupts ($wakeups wake-ups)" \
		test "$wakeups" -lt $((irqs / 10))
else
	fail "VMM CPU measured during the traffic" "markers not seen"
fi
check "no guest RAM in the MSI window (guest /proc/iomem)" \
	bash -c "! grep -E '^ *fee[0-9a-f]+-[0-9a-f]+ : System RAM' '$out/msix.txt'"
expect_eq "passthrough guest powers off" 0 "$rc"

# 2. INTx: the same NIC with MSI off in the guest.
PARAMS="pci=nomsi" boot intx "
$net_setup
ping -c 3 -W 3 10.0.2.2 && echo PING=ok
grep eth0 /proc/interrupts" -m 256M
check "with pci=nomsi the NIC still pings (INTx)" has intx "PING=ok"
check "with pci=nomsi the NIC interrupt is an IO-APIC line" has intx "IO-APIC.*eth0"

# 3. A host region in the middle of low RAM: the map goes around it.
printf '0x0000000010000000 0x00000000101fffff direct\n' > "$out/extra.txt"
boot reserved "
$net_setup
ping -c 3 -W 3 10.0.2.2 && echo PING=ok
grep -E 'System RAM|Reserved' /proc/iomem" -m 512M --reserved "$out/extra.txt"
check "with --reserved in low RAM the guest boots and DMA works" has reserved "PING=ok"
check "the reserved range is not guest RAM" \
	bash -c "! grep -E '^ *(0*10[01][0-9a-f]{5})-[0-9a-f]+ : System RAM' '$out/reserved.txt'"
kb=$(value reserved "VMMTEST memtotal_kb")
check "MemTotal still matches -m 512M ($kb kB)" test "${kb:-0}" -ge $((512 * 1024 * 3 / 4))

"$vmm" vfio-unbind "$nic" > /dev/null 2>&1
check "vmm vfio-unbind gives the NIC back to e1000e" \
	bash -c "readlink /sys/bus/pci/devices/$nic/driver | grep -q e1000e"

finish integration-vfio
