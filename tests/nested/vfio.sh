#!/bin/bash
# VFIO passthrough inside L1 (real KVM, real VFIO behind an emulated
# VT-d): L1's e1000e is given to the L2 guest, which must bind its driver,
# reach the user-net gateway, and take its interrupts as MSI-X (or INTx)
# without the VMM's userspace on the path.
#
# The same checks run on either IOMMU backend:
#   Debian's L1 kernel (no iommufd): the default --vfio-backend auto falls
#     back to the legacy container, and --vfio-backend iommufd is one
#     error line naming CONFIG_IOMMUFD (suite integration-vfio);
#   the self-built L1 kernel (VMM_L1_KERNEL=iommufd, see
#     run-integration-iommufd.sh): VFIO_BACKEND=iommufd on every run, the
#     VMM holds /dev/iommu and the device cdev and no group or container,
#     auto picks iommufd, both backends plan the same RAM, and a device
#     whose group another VMM holds is refused (integration-vfio-iommufd).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
nic=${VFIO_NIC:-0000:00:01.0}
suite=${SUITE_NAME:-integration-vfio}
# --vfio-backend for every run and plan ("": the VMM's default, auto).
backend_args=()
[ -z "${VFIO_BACKEND:-}" ] || backend_args=(--vfio-backend "$VFIO_BACKEND")
# The backend the VMM must end up with: iommufd where this kernel has it.
if [ -e /dev/iommu ]; then expect=${VFIO_BACKEND:-iommufd}; else expect=legacy; fi
echo "   (IOMMU backend: asked ${VFIO_BACKEND:-auto}, expected $expect)"

net_setup='ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; sleep 1'
irq_count='awk "/eth0/ { for (i = 2; i <= NF; i++) if (\$i ~ /^[0-9]+$/) n += \$i } END { print n + 0 }" /proc/interrupts'

# boot NAME GUEST_SCRIPT VMM_ARGS...
boot() {
	local name=$1 script=$2
	shift 2
	timeout -k 10 200 "$vmm" run -k "$KERNEL" -i "$L2_INITRD" -c 2 --vfio "$nic" "${backend_args[@]}" "$@" \
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
[ "$expect" != iommufd ] ||
	check "vmm vfio-bind names the NIC's cdev" grep -q ", cdev /dev/vfio/devices/vfio[0-9]*$" "$out/bind.txt"

"$vmm" plan -m 512M --vfio "$nic" "${backend_args[@]}" > "$out/plan.txt" 2>&1
check "plan --vfio shows the host MSI window as a hole" \
	grep -q "hole .*MSI IOVA window (host default, iommu group" "$out/plan.txt"
check "plan --vfio says the MSI window is fixed by the architecture on x86" \
	grep -q "^MSI IOVA window: fixed by the architecture (0xfee00000-0xfeefffff" "$out/plan.txt"
check "plan --vfio says the IOMMU backend is $expect and read its IOVA ranges" \
	grep -q "^IOMMU backend: $expect (IOVA ranges from the" "$out/plan.txt"
if [ "$expect" = iommufd ]; then
	check "plan --vfio names the iommufd IOAS as the source of the MSI-window hole" \
		grep -q "hole .*host IOVA gap (iommufd IOAS)" "$out/plan.txt"
	check "plan --json names the backend and the IOAS" bash -c \
		"'$vmm' plan -m 512M --vfio '$nic' ${backend_args[*]} --json | grep -q '\"iommu\": {\"backend\": \"iommufd\", \"iova_ranges_checked\": true, \"iova_source\": \"iommufd IOAS\"}'"
	# Guest RAM is the same whichever API maps it.
	"$vmm" plan -m 6G --vfio "$nic" --vfio-backend legacy > "$out/plan-legacy.txt" 2>&1
	"$vmm" plan -m 6G --vfio "$nic" --vfio-backend iommufd > "$out/plan-iommufd.txt" 2>&1
	check "legacy and iommufd plan the same guest RAM for -m 6G" bash -c \
		"grep -q ' ram ' '$out/plan-iommufd.txt' && diff <(grep ' ram ' '$out/plan-legacy.txt') <(grep ' ram ' '$out/plan-iommufd.txt')"
	"$vmm" plan -m 512M --vfio "$nic" > "$out/plan-auto.txt" 2>&1
	check "--vfio-backend auto picks iommufd on this kernel" \
		grep -q "^IOMMU backend: iommufd" "$out/plan-auto.txt"
else
	# A kernel without iommufd: asking for it is one line naming the fix.
	"$vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 256M --vfio "$nic" --vfio-backend iommufd \
		</dev/null >"$out/no-iommufd.txt" 2>&1
	rc=$?
	expect_eq "--vfio-backend iommufd without /dev/iommu exits 1" 1 "$rc"
	check "... with one line naming CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV" bash -c \
		"[ \$(wc -l < '$out/no-iommufd.txt') = 1 ] && grep -q 'CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV' '$out/no-iommufd.txt'"
	cat "$out/no-iommufd.txt"
fi

# 1. MSI-X: driver binds, ping works, vectors count. Measure the VMM's
#    userspace CPU while the guest takes interrupts.
"$vmm" run -k "$KERNEL" -i "$L2_INITRD" -c 2 -m 512M --vfio "$nic" "${backend_args[@]}" -p "vmmtest.run=$(printf '%s\n' "
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
# What the VMM holds while the guest runs: the files of one backend only.
fds=
if wait_for TRAFFIC=start; then
	fds=$(for f in /proc/$pid/fd/*; do readlink "$f"; done 2>/dev/null | grep -E '^/dev/(iommu|vfio)' | sort -u | tr '\n' ' ')
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
echo "   (VMM's /dev/iommu and /dev/vfio files while the guest runs: ${fds:-none})"
group=$(basename "$(readlink "/sys/bus/pci/devices/$nic/iommu_group")")
if [ "$expect" = iommufd ]; then
	check "the VMM holds /dev/iommu and the NIC's cdev /dev/vfio/devices/vfioN" \
		bash -c "[[ ' $fds' == *' /dev/iommu '* && ' $fds' =~ ' /dev/vfio/devices/vfio'[0-9]+' ' ]]"
	check "... and no VFIO group (/dev/vfio/$group) or container (/dev/vfio/vfio)" \
		bash -c "[[ ' $fds' != *' /dev/vfio/$group '* && ' $fds' != *' /dev/vfio/vfio '* && -n '$fds' ]]"
else
	check "the VMM holds the container /dev/vfio/vfio and the group /dev/vfio/$group, not /dev/iommu" \
		bash -c "[[ ' $fds' == *' /dev/vfio/vfio '* && ' $fds' == *' /dev/vfio/$group '* && ' $fds' != *' /dev/iommu '* ]]"
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

# 4. iommufd: a device another VMM holds, through its group (legacy API)
#    or its cdev (iommufd), is refused with one line naming it.
# busy HOLDER_BACKEND FILE_IT_HOLDS: runs an iommufd VMM while another holds the NIC.
busy() {
	local holder
	"$vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 256M --vfio "$nic" --vfio-backend "$1" \
		-p "vmmtest.action=hang" </dev/null >"$out/holder.txt" 2>&1 &
	holder=$!
	for _ in $(seq 100); do
		readlink /proc/$holder/fd/* 2>/dev/null | grep -qE "^$2\$" && break
		sleep 0.1
	done
	"$vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 256M --vfio "$nic" --vfio-backend iommufd \
		</dev/null >"$out/busy.txt" 2>&1
	rc=$?
	kill -TERM "$holder" 2>/dev/null
	wait "$holder"
	cat "$out/busy.txt"
}
if [ "$expect" = iommufd ]; then
	busy legacy "/dev/vfio/$group"
	expect_eq "iommufd on a NIC whose group another VMM holds exits 1" 1 "$rc"
	check "... with one line naming the NIC and the group in use" bash -c \
		"[ \$(wc -l < '$out/busy.txt') = 1 ] && grep -q '$nic is in use.*/dev/vfio/$group' '$out/busy.txt'"
	busy iommufd "/dev/vfio/devices/vfio[0-9]+"
	expect_eq "iommufd on a NIC another iommufd VMM holds exits 1" 1 "$rc"
	check "... with one line naming the NIC and its bound cdev" bash -c \
		"[ \$(wc -l < '$out/busy.txt') = 1 ] && grep -q '$nic is in use.*already bound to another iommufd' '$out/busy.txt'"
fi

"$vmm" vfio-unbind "$nic" > /dev/null 2>&1
check "vmm vfio-unbind gives the NIC back to e1000e" \
	bash -c "readlink /sys/bus/pci/devices/$nic/driver | grep -q e1000e"

finish "$suite"
