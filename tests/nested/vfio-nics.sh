#!/bin/bash
# Two more NIC models passed through together into one L2 guest, inside
# an L1 whose QEMU gives it an igb (82576: MSI-X) and an e1000 (82540EM:
# no MSI capability at all, so INTx only) on user nets 10.0.2.0/24 and
# 10.0.3.0/24 (run-integration-iommufd.sh). The guest binds both drivers
# and pings through each; during a burst of traffic on one NIC at a time,
# its interrupt counter must grow while the VMM's event loop sleeps: the
# igb's MSI-X through irqfds, the e1000's line through a resampling irqfd
# whose resample eventfd is VFIO's unmask (the guest's EOI re-arms the
# line in the kernel, not in the VMM). L1 must see the e1000's
# vfio-intx interrupt fire during its burst.
# VFIO_BACKEND goes to every run; SUITE_SUFFIX names the results apart.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
suite=integration-vfio-nics${SUITE_SUFFIX:-}
backend_args=()
[ -z "${VFIO_BACKEND:-}" ] || backend_args=(--vfio-backend "$VFIO_BACKEND")

find_dev() { # VENDOR DEVICE: the first such PCI function in L1
	local dev
	for dev in /sys/bus/pci/devices/*; do
		[ "$(cat "$dev/vendor")" = "$1" ] && [ "$(cat "$dev/device")" = "$2" ] &&
			basename "$dev" && return 0
	done
}
igb=$(find_dev 0x8086 0x10c9) e1000=$(find_dev 0x8086 0x100e)
echo "   (igb $igb, e1000 $e1000, IOMMU backend ${VFIO_BACKEND:-auto})"
check "L1 has an igb and an e1000 to pass through" test -n "$igb" -a -n "$e1000"
# The capability IDs in a function's config space (05 MSI, 11 MSI-X).
cap_ids() { # BDF
	local cfg=/sys/bus/pci/devices/$1/config ptr n=0
	byte() { od -An -tx1 -j "$1" -N1 "$cfg" | tr -d ' '; }
	ptr=$((0x$(byte 52) & 0xfc))
	while [ "$ptr" != 0 ] && [ $((n += 1)) -le 48 ]; do
		byte "$ptr"
		ptr=$((0x$(byte $((ptr + 1))) & 0xfc))
	done
}
igb_caps='' e1000_caps='' e1000_pin=''
if [ -n "$igb" ] && [ -n "$e1000" ]; then
	igb_caps=$(cap_ids "$igb" | tr '\n' ' ') e1000_caps=$(cap_ids "$e1000" | tr '\n' ' ')
	e1000_pin=$(od -An -tu1 -j 61 -N1 "/sys/bus/pci/devices/$e1000/config" | tr -d ' ')
fi
echo "   (capability IDs: igb $igb_caps; e1000 $e1000_caps, interrupt pin $e1000_pin)"
check "L1's igb has an MSI-X capability" bash -c "[[ ' $igb_caps' == *' 11 '* ]]"
check "L1's e1000 has neither MSI nor MSI-X, only interrupt pin A (INTx)" bash -c \
	"[[ '$e1000_pin' = 1 && ' $e1000_caps' != *' 05 '* && ' $e1000_caps' != *' 11 '* ]]"
for d in "$igb" "$e1000"; do "$vmm" vfio-bind "$d" > /dev/null 2>&1; done
check "vmm vfio-bind hands both NICs to vfio-pci" bash -c \
	"readlink /sys/bus/pci/devices/$igb/driver | grep -q vfio-pci && readlink /sys/bus/pci/devices/$e1000/driver | grep -q vfio-pci"
if [ -n "${VFIO_BACKEND:-}" ]; then
	"$vmm" plan -m 256M --vfio "$igb" --vfio "$e1000" "${backend_args[@]}" > "$out/plan.txt" 2>&1
	check "plan says the IOMMU backend is $VFIO_BACKEND" grep -q "^IOMMU backend: $VFIO_BACKEND " "$out/plan.txt"
fi

# In the guest: which interface each driver got, a ping through each, then
# a burst on the e1000 alone and one on the igb alone, each between
# markers the host watches. ping -A sends as soon as the reply is back.
# A burst is 800 echoes, not a span of time: a loaded machine makes it
# slower, not smaller. L1's single CPU runs the guest too, so its watcher
# may see a marker late; the guest waits 3 s on each side of the burst.
# The guest script takes nothing from here: single quotes, no escapes.
# shellcheck disable=SC2016
script='
# Interrupts of an interface: its own line, or its vectors IFACE-TxRx-N.
irqs() {
	awk -v n="$1" '"'"'$NF == n || index($NF, n "-") == 1 {
		for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i } END { print s + 0 }'"'"' /proc/interrupts
}
for i in /sys/class/net/eth*; do
	d=$(readlink $i/device/driver); d=${d##*/}
	case $d in igb) igb=${i##*/} ;; e1000) e1k=${i##*/} ;; esac
done
echo IGB_IF=$igb E1000_IF=$e1k
ip link set $igb up; ip addr add 10.0.2.15/24 dev $igb
ip link set $e1k up; ip addr add 10.0.3.15/24 dev $e1k
sleep 1
ping -c 3 -W 3 10.0.2.2 >/dev/null && echo IGB_PING=ok
ping -c 3 -W 3 10.0.3.2 >/dev/null && echo E1000_PING=ok
burst() { # NAME IFACE GATEWAY
	echo $1_BEFORE=$(irqs $2)
	echo $1=start
	sleep 3
	for i in 1 2 3 4 5 6 7 8; do ping -q -A -c 100 -w 40 $3 >/dev/null & done; wait
	echo $1_AFTER=$(irqs $2)
	echo $1=end
	sleep 3
}
burst INTX $e1k 10.0.3.2
burst MSIX $igb 10.0.2.2
grep -E "$igb|$e1k" /proc/interrupts
'
start=$(date +%s)
timeout -k 10 240 "$vmm" run -k "$KERNEL" -i "$L2_INITRD" -c 2 -m 256M --vfio "$igb" --vfio "$e1000" \
	"${backend_args[@]}" -p "$(guest_run "$script")" </dev/null >"$out/nics.log" 2>&1 &
runner=$!
# The VMM itself, not timeout(1): its files and its main thread are watched.
# (pgrep: the iommufd L1 kernel has no /proc/PID/task/TID/children.)
pid=
for _ in $(seq 50); do
	pid=$(pgrep -P "$runner" | head -n1)
	[ -n "$pid" ] && break
	sleep 0.1
done
vmm_exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
check "the watched process is the VMM, not timeout(1) ($pid: ${vmm_exe:-gone})" test "${vmm_exe##*/}" = "${vmm##*/}"
# Wake-ups of the main thread (the event loop): an interrupt passing
# through the VMM would wake it at least once; with irqfds it sleeps.
loop_wakeups() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/task/$pid/status" 2>/dev/null; }
host_intx() { awk -v n="vfio-intx($e1000)" '$NF == n { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i } END { print s + 0 }' /proc/interrupts; }
wait_for() { for _ in $(seq 600); do grep -q "$1" "$out/nics.log" && return 0; kill -0 "$pid" 2>/dev/null || return 1; sleep 0.2; done; return 1; }
declare -A wakeups host
fds=
for burst in INTX MSIX; do
	wait_for "$burst=start" || break
	[ -n "$fds" ] || fds=$(for f in "/proc/$pid/fd/"*; do readlink "$f"; done 2>/dev/null | grep -E '^/dev/(iommu|vfio)' | sort | tr '\n' ' ')
	w0=$(loop_wakeups) h0=$(host_intx)
	wait_for "$burst=end" || break
	w1=$(loop_wakeups) h1=$(host_intx)
	wakeups[$burst]=$(( ${w1:-0} - ${w0:-0} )) host[$burst]=$(( h1 - h0 ))
done
wait "$runner"
rc=$?
tr -d '\r' < "$out/nics.log" > "$out/nics.txt"
echo "   (nics: VMM pid $pid, exit $rc in $(($(date +%s) - start)) s; VMM's /dev/iommu and /dev/vfio files: ${fds:-none})"
has() { grep -q -- "$1" "$out/nics.txt"; }
value() { sed -n "s/^$1=//p" "$out/nics.txt" | head -n1; }
read -r igb_if e1000_if < <(sed -n 's/^IGB_IF=\([^ ]*\) E1000_IF=\(.*\)$/\1 \2/p' "$out/nics.txt" | head -n1)
expect_eq "the guest with both NICs powers off (exit 0)" 0 "$rc"
check "the guest's igb driver binds the igb (${igb_if:-none})" has "igb .*Intel(R) Gigabit Ethernet Network Connection"
check "the guest's e1000 driver binds the e1000 (${e1000_if:-none})" has "e1000 .*Intel(R) PRO/1000 Network Connection"
check "the guest pings 10.0.2.2 through the igb" has IGB_PING=ok
check "the guest pings 10.0.3.2 through the e1000" has E1000_PING=ok
check "the igb's interrupts are MSI-X vectors in the guest" \
	bash -c "[ -n '$igb_if' ] && grep -qE 'PCI-MSIX-.* $igb_if' '$out/nics.txt'"
check "the e1000's interrupt is an IO-APIC line in the guest (INTx)" \
	bash -c "[ -n '$e1000_if' ] && grep -qE 'IO-APIC .* $e1000_if\$' '$out/nics.txt'"
for burst in INTX MSIX; do
	n=$(( $(value "${burst}_AFTER") + 0 - $(value "${burst}_BEFORE") - 0 ))
	w=${wakeups[$burst]:-}
	echo "VFIO-NICS $burst interrupts=$n loop_wakeups=${w:-unmeasured} l1_vfio_intx=${host[$burst]:-unmeasured}"
	check "$burst: the guest took at least 200 interrupts during the burst ($n)" test "$n" -ge 200
	check "$burst: the VMM's event loop sleeps through them (${w:-unmeasured} wake-ups)" \
		test -n "$w" -a "${w:-0}" -lt $((n / 10))
done
check "INTX: L1's vfio-intx interrupt for $e1000 fires during the e1000's burst (${host[INTX]:-unmeasured})" \
	test "${host[INTX]:-0}" -ge 200
if [ "${VFIO_BACKEND:-}" = iommufd ]; then
	check "the VMM holds /dev/iommu and one cdev per NIC, no group or container" bash -c \
		"[ \$(tr ' ' '\n' <<< '$fds' | grep -c '^/dev/iommu\$') -ge 1 ] &&
		 [ \$(tr ' ' '\n' <<< '$fds' | grep -E '^/dev/vfio/devices/vfio[0-9]+\$' | sort -u | wc -l) = 2 ] &&
		 ! tr ' ' '\n' <<< '$fds' | grep -qE '^/dev/vfio/([0-9]+|vfio)\$'"
fi
[ "$failed" = 0 ] || grep -E "igb|e1000|vmm:|eth" "$out/nics.txt" | head -n 40
check "no run made a call its sandbox forbids" bash -c "! grep -q 'forbidden system call' '$out/nics.txt'"
for d in "$igb" "$e1000"; do "$vmm" vfio-unbind "$d" > /dev/null 2>&1; done
check "vmm vfio-unbind gives the NICs back to igb and e1000" bash -c \
	"readlink /sys/bus/pci/devices/$igb/driver | grep -q '/igb\$' && readlink /sys/bus/pci/devices/$e1000/driver | grep -q '/e1000\$'"
finish "$suite"
