#!/bin/bash
# A hostile guest, inside L1 (real KVM): the L2 guest runs
# guest-images/tools/hostile/ as root against the VMM. One attack at a
# time, on a device the guest has taken from its driver (the second disk,
# the rng, the passed-through NIC): virtqueue loops and buffers outside
# RAM, in holes and across banks, ring indices that jump, rings in MMIO,
# config-space writes of every size at every offset (port 0xcf8 and
# ECAM), BARs moved onto RAM, onto the first disk's notify area and onto
# the MSI window, MSI-X entries past the table and with odd sizes, resets
# in the middle of I/O, MMIO/PIO storms from every vCPU. After each
# attack the device goes back to its driver and must work again, the
# first disk must read back what L1 put there, and the NIC must ping;
# then the VMM must power off cleanly and idle without burning CPU.
#
# HOSTILE_SEED=N replays the randomized attacks of a run (printed below);
# HOSTILE_ATTACKS="storm msix" runs only those; HOSTILE_DEBUG=1 runs the
# VMM with -d (each queue's state when it stops).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
nic=${VFIO_NIC:-0000:00:01.0}
seed=${HOSTILE_SEED:-$(date +%s)}
echo "   (HOSTILE_SEED=$seed: export it to replay these attacks)"

# The disks: vda is only read back (its first MiB known to L1), vdb is
# attacked, vdc carries the guest's script (no size limit, unlike the
# kernel command line).
vda=$out/vda.img vdb=$out/vdb.img script_disk=$out/script.img
truncate -s 16M "$vda" "$vdb"
# Each 16-byte line names its offset: a block read into the wrong place
# shows which one it was (in a crash address, say).
awk 'BEGIN { for (i = 0; i < 65536; i++) printf "vda@%011x\n", i * 16 }' | dd of="$vda" conv=notrunc 2>/dev/null
expect=$(head -c 1M "$vda" | md5sum | cut -c1-32)

nic_args=()
if "$vmm" vfio-bind "$nic" > "$out/bind.txt" 2>&1; then
	nic_args=(--vfio "$nic")
else
	echo "   (no NIC to pass through: $(head -n1 "$out/bind.txt"); attacks on emulated devices only)"
fi

cat > "$script_disk" <<'GUEST'
export HOSTILE_SEED=@SEED@ HOSTILE_STORM_SECONDS=2 HOSTILE_ATTACKS="@ATTACKS@"
# hostile's ring pages are mlocked: compaction must not move them while a device holds them.
echo 0 > /proc/sys/vm/compact_unevictable_allowed
pci_of() { basename "$(dirname "$(readlink -f "/sys/block/$1/device")")"; }
by_id() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = "$1" ] && basename "$d"
	done | head -n1
}
vda=$(pci_of vda) vdb=$(pci_of vdb) rng=$(by_id 0x1af4:0x1044) nic=$(by_id 0x8086:0x10d3)
echo "HOSTILE devices vda=$vda vdb=$vdb rng=$rng nic=${nic:-none}"
ifname() { ls "/sys/bus/pci/devices/$nic/net" 2>/dev/null | head -n1; }
net_up() {
	i=$(ifname)
	[ -n "$i" ] || return 1
	ip link set "$i" up && ip addr add 10.0.2.15/24 dev "$i" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ "$(cat "/sys/class/net/$i/carrier" 2>/dev/null)" = 1 ] && break; sleep 0.5; done
	return 0
}
ping_ok() { [ -z "$nic" ] || ping -c 1 -W 3 10.0.2.2 >/dev/null 2>&1 || ping -c 2 -W 3 10.0.2.2 >/dev/null 2>&1; }
vda_ok() {
	echo 3 > /proc/sys/vm/drop_caches
	[ "$(timeout 30 dd if=/dev/vda bs=64k count=16 2>/dev/null | md5sum | cut -c1-32)" = @EXPECT@ ]
}
# DEVICE works again once its driver has it back.
victim_ok() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		case $1 in
		"$vdb") [ -b /dev/vdb ] && break ;;
		"$rng") grep -q virtio_rng /sys/class/misc/hw_random/rng_available 2>/dev/null && break ;;
		"$nic") [ -n "$(ifname)" ] && break ;;
		esac
		sleep 0.5
	done
	case $1 in
	"$vdb") timeout 30 dd if=/dev/vdb of=/dev/null bs=64k count=16 2>/dev/null ;;
	"$rng") timeout 30 dd if=/dev/hwrng of=/dev/null bs=16 count=1 2>/dev/null ;;
	"$nic") net_up && ping_ok ;;
	esac
}
health() {
	why=
	vda_ok || why="$why vda-readback-differs"
	ping_ok || why="$why no-ping"
}
# attempt ATTACK DEVICE LABEL: DEVICE away from its driver, attacked, given back.
attempt() {
	echo "HOSTILE start $1 on $3 t=$(cut -d" " -f1 /proc/uptime)"
	echo "$2" > "/sys/bus/pci/devices/$2/driver/unbind" 2>/dev/null
	timeout 60 hostile "$1" "$2" "$vda"
	r=$?
	# Killed by a signal: where (the kernel's "segfault at ... ip ..." line).
	[ "$r" -lt 128 ] || dmesg | grep -E "segfault|general protection|trap" | tail -n 3 | sed 's/^/HOSTILE kernel: /'
	# A probe that never returns (a device left broken) must not stop the run.
	timeout 60 sh -c "echo $2 > /sys/bus/pci/drivers_probe"
	# The device first: a NIC given back needs its address again before anything pings.
	victim_ok "$2"
	v=$?
	health
	[ "$r" = 0 ] || why="$why hostile-exit=$r"
	[ "$v" = 0 ] || why="$why $3-dead-after"
	if [ -z "$why" ]; then echo "HOSTILE survived $1 on $3"; else echo "HOSTILE damaged $1 on $3:$why"; fi
}
[ -z "$nic" ] || net_up
health
if [ -z "$why" ]; then echo "HOSTILE baseline ok"; else echo "HOSTILE baseline bad:$why"; fi
for a in ${HOSTILE_ATTACKS:-$(hostile list)}; do
	[ "$a" = config-same ] && continue
	attempt "$a" "$vdb" blk
	attempt "$a" "$rng" rng
done
if [ -n "$nic" ]; then
	for a in config-sweep config-absent bar-moves; do attempt "$a" "$nic" nic; done
fi
# Devices in use: every offset and size, written with what is there.
for d in "$vda" 0000:00:00.0 $nic; do
	timeout 60 hostile config-same "$d"
	r=$?
	health
	[ "$r" = 0 ] || why="$why hostile-exit=$r"
	if [ -z "$why" ]; then echo "HOSTILE survived config-same on in-use $d"; else echo "HOSTILE damaged config-same on in-use $d:$why"; fi
done
echo "HOSTILE idle-start"
sleep 8
echo "HOSTILE idle-end"
GUEST
sed -i "s/@SEED@/$seed/; s/@EXPECT@/$expect/; s/@ATTACKS@/${HOSTILE_ATTACKS:-}/" "$script_disk"
truncate -s 64K "$script_disk"

start=$(date +%s)
# The VMM's own --timeout (not timeout(1)): $! is the VMM, whose CPU is measured.
"$vmm" run ${HOSTILE_DEBUG:+-d} --timeout 420 -k "$KERNEL" -i "$L2_INITRD" -m 512M -c 2 \
	--disk "$vda" --disk "$vdb" --disk "$script_disk,ro" "${nic_args[@]}" \
	-p "panic=-1 iomem=relaxed print-fatal-signals=1 vmmtest.run=$(printf '%s\n' 'tr -d "\000" < /dev/vdc > /tmp/hostile.sh; sh /tmp/hostile.sh' | base64 -w0)" \
	</dev/null >"$out/h.log" 2>&1 &
pid=$!
# Progress on L1's console as it happens: the guest's HOSTILE lines and
# the VMM's messages (HOSTILE_VERBOSE=1: everything), and a heartbeat, so
# that a long, quiet attack never looks like a hung L1. Polled, not
# tail -f, which stayed silent in L1 (its overlay over 9p).
# A guest with no HOSTILE line for 90 s is stuck: the VMM's threads are
# shown once (state, kernel wait channel, system call), to tell a wedged
# VMM from a guest waiting on a device.
follow() {
	local shown=0 total beat=0 pattern='^(HOSTILE|vmm: )' marks=0 last=0 quiet=0 t
	[ -z "${HOSTILE_VERBOSE:-}" ] || pattern=.
	while kill -0 "$pid" 2>/dev/null; do
		total=$(cat "$out/h.log" 2>/dev/null | wc -l)
		if [ "$total" -gt "$shown" ]; then
			sed -n "$((shown + 1)),${total}p" "$out/h.log" | tr -d '\r' | grep -aE "$pattern"
			shown=$total
		fi
		beat=$((beat + 1))
		[ $((beat % 30)) != 0 ] || echo "   (hostile guest running: $((beat * 2))s, $total console lines)"
		marks=$(grep -ac '^HOSTILE' "$out/h.log" 2>/dev/null)
		if [ "$marks" != "$last" ]; then
			last=$marks quiet=0
		elif [ $((quiet += 1)) = 45 ]; then
			echo "   (no HOSTILE line for 90 s: the VMM's threads)"
			for t in /proc/"$pid"/task/*; do
				echo "   $(cat "$t/comm" 2>/dev/null) $(awk '/^State/ { print $2 }' "$t/status" 2>/dev/null)" \
					"wchan=$(cat "$t/wchan" 2>/dev/null) syscall=$(cut -d' ' -f1-3 "$t/syscall" 2>/dev/null)"
			done
		fi
		sleep 2
	done
}
follow &
# The VMM's own CPU (utime - guest_time + stime, in ticks) over an idle stretch.
cpu_ticks() { awk '{ print $14 - $43 + $15 }' "/proc/$pid/stat" 2>/dev/null; }
idle_pct=
for _ in $(seq 420); do
	if grep -q "^HOSTILE idle-start" "$out/h.log"; then
		sleep 1
		c0=$(cpu_ticks) t0=$(date +%s%N)
		sleep 5
		c1=$(cpu_ticks) t1=$(date +%s%N)
		[ -n "$c0" ] && [ -n "$c1" ] &&
			idle_pct=$(( (c1 - c0) * 100 * 1000000000 / $(getconf CLK_TCK) / (t1 - t0) ))
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 1
done
wait "$pid"
rc=$?
elapsed=$(( $(date +%s) - start ))
tr -d '\r' < "$out/h.log" > "$out/h.txt"
echo "   (hostile guest: exit $rc after ${elapsed}s)"
[ ${#nic_args[@]} = 0 ] || "$vmm" vfio-unbind "$nic" >/dev/null 2>&1

expect_eq "the VMM powers off cleanly after every attack" 0 "$rc"
check "before any attack the disk reads back and the NIC pings" grep -q "^HOSTILE baseline ok" "$out/h.txt"
attempts=22 # 11 attacks (all but config-same) on blk and rng; fewer if HOSTILE_ATTACKS chose
if [ -n "${HOSTILE_ATTACKS:-}" ]; then
	attempts=0
	for a in $HOSTILE_ATTACKS; do [ "$a" = config-same ] || attempts=$((attempts + 2)); done
fi
[ ${#nic_args[@]} = 0 ] || attempts=$((attempts + 3 + 1))
attempts=$((attempts + 2))
while read -r line; do
	case $line in
	"HOSTILE survived "*) pass "VMM survives ${line#HOSTILE survived }; disk, NIC and the device work after" ;;
	"HOSTILE damaged "*) fail "VMM survives ${line#HOSTILE damaged }" "damaged" ;;
	esac
done < <(grep -E "^HOSTILE (survived|damaged) " "$out/h.txt")
expect_eq "every attack reported (blk, rng, NIC, devices in use)" "$attempts" \
	"$(grep -cE '^HOSTILE (survived|damaged) ' "$out/h.txt")"
ops=$(sed -n 's/^HOSTILE tried .* ops=\([0-9]*\)$/\1/p' "$out/h.txt" | awk '{ s += $1 } END { print s + 0 }')
echo "   (attacks tried: $(grep -c '^HOSTILE tried ' "$out/h.txt"), guest accesses and requests: $ops, seed $seed)"
check "the VMM idles after the attacks (${idle_pct:-?}% of a CPU, bound 30%)" \
	test -n "$idle_pct" -a "${idle_pct:-100}" -lt 30
vmm_lines=$(grep -c '^vmm: ' "$out/h.txt")
check "the VMM's warnings stay bounded ($vmm_lines lines, bound 400)" test "$vmm_lines" -lt 400
check "no forbidden system call" eval '! grep -q "forbidden system call" "$out/h.txt"'
if [ "$failed" != 0 ]; then
	echo "--- VMM messages (first 40):"
	grep '^vmm: ' "$out/h.txt" | sort | uniq -c | sort -rn | head -n 40
	echo "--- last lines:"
	tail -n 40 "$out/h.txt"
fi
finish integration-hostile
