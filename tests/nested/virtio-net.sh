#!/bin/bash
# Integration tests of virtio-net on a tap device, inside L1 (real KVM).
# L1's end of the tap is 192.168.100.1/24, the L2 guest takes
# 192.168.100.2; the guest pings L1 and moves a few MiB each way with
# busybox nc, and both sides compare md5 sums. Only a private test subnet
# on a tap inside L1: nothing leaves the machine.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

tap=vmmtap0
host_ip=192.168.100.1
guest_ip=192.168.100.2
mac=52:54:00:12:34:56
mib=${NET_TEST_MIB:-4}
up_port=5001
down_port=5002

# launch NAME GUEST_SCRIPT VMM_ARGS...: starts the VMM in the background
# (pid in $vmm_pid); the script runs in the guest (vmmtest.run).
launch() {
	local name=$1 script=$2
	shift 2
	timeout -k 10 300 "$vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 256M -c 2 "$@" \
		-p "panic=-1 vmmtest.run=$(printf '%s\n' "$script" | base64 -w0)" \
		</dev/null >"$out/$name.log" 2>&1 &
	vmm_pid=$!
}
# reap NAME: waits for it; status in $rc, console in $out/NAME.txt.
reap() {
	wait "$vmm_pid"
	rc=$?
	tr -d '\r' < "$out/$1.log" > "$out/$1.txt"
	echo "   ($1: exit $rc)"
}
boot() { launch "$@"; reap "$1"; }
has() { grep -q -- "$2" "$out/$1.txt"; }
field() { sed -n "s/^NET $2=//p" "$out/$1.txt" | head -n1; }
show_tail() { echo "--- last lines of $1:"; tail -n 25 "$out/$1.txt"; }
md5() { md5sum < "$1" | cut -c1-32; }

# The guest side. GUEST_IP, HOST_IP, MIB and the ports are substituted below.
guest_script='
ifc=$(ls /sys/class/net | grep -v "^lo$" | head -n1)
echo "NET iface=$ifc"
echo "NET mac=$(cat /sys/class/net/$ifc/address)"
echo "NET features=$(cat /sys/class/net/$ifc/device/features)"
ip link set "$ifc" up
ip addr add GUEST_IP/24 dev "$ifc"
echo "NET carrier=$(cat /sys/class/net/$ifc/carrier)"
ping -c 5 -W 5 HOST_IP > /tmp/ping.txt 2>&1
echo "NET ping_rc=$?"
sed -n "s/^\([0-9]*\) packets transmitted, \([0-9]*\) packets received.*/NET ping=\1 \2/p; s/^round-trip /NET rtt=/p" /tmp/ping.txt
now() { cut -d" " -f1 /proc/uptime; }
dd if=/dev/urandom of=/tmp/up.bin bs=1024 count=$((MIB * 1024)) 2>/dev/null
echo "NET up_md5=$(md5sum < /tmp/up.bin | cut -c1-32)"
t0=$(now)
timeout 120 nc HOST_IP UP_PORT < /tmp/up.bin
echo "NET up_rc=$?"
echo "NET up_secs=$(echo "$t0 $(now)" | awk "{ print \$2 - \$1 }")"
# stdin that never ends: at EOF nc would half-close before the download.
mkfifo /tmp/hold
t0=$(now)
timeout 120 nc HOST_IP DOWN_PORT <>/tmp/hold > /tmp/down.bin
echo "NET down_rc=$?"
echo "NET down_secs=$(echo "$t0 $(now)" | awk "{ print \$2 - \$1 }")"
echo "NET down_bytes=$(wc -c < /tmp/down.bin)"
echo "NET down_md5=$(md5sum < /tmp/down.bin | cut -c1-32)"
'
guest_script=${guest_script//GUEST_IP/$guest_ip}
guest_script=${guest_script//HOST_IP/$host_ip}
guest_script=${guest_script//UP_PORT/$up_port}
guest_script=${guest_script//DOWN_PORT/$down_port}
guest_script=${guest_script//MIB/$mib}

# A virtio feature bit from the guest's 64-character features string.
feature() { [ "${1:$2:1}" = 1 ]; }
mib_per_s() { awk -v m="$mib" -v s="$1" 'BEGIN { if (s > 0) printf "%.2f", m / s; else print "?" }'; }

# --- L1 side: the tap, the data, the listeners ------------------------------
ip tuntap add dev "$tap" mode tap &&
	ip addr add "$host_ip/24" dev "$tap" &&
	ip link set "$tap" up
check "L1: tap $tap with $host_ip/24" eval 'ip link show "$tap" >/dev/null'

head -c $((mib * 1024 * 1024)) /dev/urandom > "$out/down.bin"
down_md5=$(md5 "$out/down.bin")
mkfifo "$out/hold"
# busybox nc half-closes at stdin EOF: the upload listener's stdin never ends.
busybox nc -l -p "$up_port" <>"$out/hold" >"$out/up.bin" &
up_pid=$!
busybox nc -l -p "$down_port" <"$out/down.bin" >/dev/null &
down_pid=$!

# --- the guest --------------------------------------------------------------
launch net "$guest_script" --net "tap=$tap,mac=$mac"
net_pid=$vmm_pid
for _ in $(seq 120); do grep -q "NET iface=" "$out/net.log" && break; sleep 1; done

# While the guest runs, the tap is attached: a second VMM must be told so.
boot busy 'true' --net "tap=$tap"
check "a second VMM on the same tap fails with 'busy'" has busy "tap $tap: busy"
expect_eq "a second VMM on the same tap exits 1" 1 "$rc"

vmm_pid=$net_pid
reap net
expect_eq "guest sees the MAC given with --net mac=" "$mac" "$(field net mac)"
expect_eq "guest sees the link up (VIRTIO_NET_S_LINK_UP)" 1 "$(field net carrier)"
features=$(field net features)
check "guest negotiated MRG_RXBUF" feature "$features" 15
check "guest negotiated CSUM and GUEST_TSO4 (tap offloads on)" \
	eval 'feature "$features" 0 && feature "$features" 7'
expect_eq "ping $host_ip from the guest succeeds" 0 "$(field net ping_rc)"
expect_eq "ping: 5 transmitted, 5 received" "5 5" "$(field net ping)"
echo "   ping: $(field net ping) (transmitted received), $(field net rtt)"

# The listeners end when the guest closes its side.
for _ in $(seq 30); do kill -0 "$up_pid" 2>/dev/null || kill -0 "$down_pid" 2>/dev/null || break; sleep 1; done
kill "$up_pid" "$down_pid" 2>/dev/null
wait "$up_pid" "$down_pid" 2>/dev/null

expect_eq "upload: guest nc exits 0" 0 "$(field net up_rc)"
expect_eq "upload: $mib MiB guest -> L1, md5 matches" "$(field net up_md5)" "$(md5 "$out/up.bin")"
echo "   upload: $(stat -c %s "$out/up.bin") bytes in $(field net up_secs) s ($(mib_per_s "$(field net up_secs)") MiB/s)"
expect_eq "download: guest nc exits 0" 0 "$(field net down_rc)"
expect_eq "download: $mib MiB L1 -> guest, md5 matches" "$down_md5" "$(field net down_md5)"
echo "   download: $(field net down_bytes) bytes in $(field net down_secs) s ($(mib_per_s "$(field net down_secs)") MiB/s)"
echo "   L1 $tap: rx $(cat /sys/class/net/$tap/statistics/rx_packets) tx $(cat /sys/class/net/$tap/statistics/tx_packets) packets"
expect_eq "network guest powers off" 0 "$rc"
[ "$rc" = 0 ] && has net "NET down_md5=" || show_tail net
ip link del "$tap"

# --- a guest that stops taking frames ---------------------------------------
# With its interface down the guest posts no receive buffers, so the ring
# runs dry under a UDP flood from L1: the VMM must stop reading the tap
# (not spin on it) and resume once the guest brings the link up.
ip tuntap add dev "$tap" mode tap && ip addr add "$host_ip/24" dev "$tap" && ip link set "$tap" up
launch stall "ifc=\$(ls /sys/class/net | grep -v '^lo\$' | head -n1)
ip addr add $guest_ip/24 dev \$ifc
echo 'NET down-and-waiting'
sleep 10
ip link set \$ifc up
ping -c 3 -W 5 $host_ip > /dev/null 2>&1
echo \"NET ping_rc=\$?\"" --net "tap=$tap,mac=$mac"
stall_pid=$vmm_pid
for _ in $(seq 120); do grep -q "NET down-and-waiting" "$out/stall.log" && break; sleep 1; done
# The VMM's main thread (the event loop), not its vCPU threads.
main_tid=$(pgrep -P "$stall_pid" -x vmm | head -n1)
loop_ticks() { awk '{ print $14 + $15 }' "/proc/$main_tid/task/$main_tid/stat" 2>/dev/null || echo 0; }
ip neigh replace "$guest_ip" lladdr "$mac" dev "$tap" nud permanent
t0=$(loop_ticks)
bash -c "exec 3>/dev/udp/$guest_ip/9; for i in \$(seq 3000); do echo flood >&3; done" 2>/dev/null
sleep 3
t1=$(loop_ticks)
echo "   event loop CPU while the guest's ring is dry: $((t1 - t0)) ticks of $(getconf CLK_TCK)/s over ~3 s"
check "the event loop does not spin on a dry receive ring ($((t1 - t0)) ticks)" test $((t1 - t0)) -lt 100
# tun drops what it cannot queue: proof that the VMM stopped reading.
dropped=$(cat "/sys/class/net/$tap/statistics/tx_dropped")
check "while the ring was dry the VMM left frames in the tap (L1 dropped $dropped of 3000)" \
	test "$dropped" -gt 0
vmm_pid=$stall_pid
reap stall
expect_eq "after the stall the guest pings L1 (reception resumed)" 0 "$(field stall ping_rc)"
expect_eq "stall guest powers off" 0 "$rc"
ip link del "$tap"

# --- a tap the VMM creates itself -------------------------------------------
# carrier reads as EINVAL until the interface is up.
boot auto 'ifc=$(ls /sys/class/net | grep -v "^lo$" | head -n1)
ip link set "$ifc" up
echo "NET mac=$(cat /sys/class/net/$ifc/address)"
echo "NET carrier=$(cat /sys/class/net/$ifc/carrier)"' --net tap -d
auto_tap=$(sed -n 's/.*virtio-net0: tap \([^,]*\),.*/\1/p' "$out/auto.txt" | head -n1)
check "--net tap: the VMM creates and names a tap (${auto_tap:-none})" test -n "$auto_tap"
check "--net tap: derived MAC is 52:54:00:xx:xx:xx ($(field auto mac))" \
	eval '[[ "$(field auto mac)" == 52:54:00:* ]]'
expect_eq "--net tap: guest sees the link up" 1 "$(field auto carrier)"
expect_eq "--net tap guest powers off" 0 "$rc"
check "the tap the VMM created is gone after it exits" \
	eval '[ -n "$auto_tap" ] && ! ip link show "$auto_tap" >/dev/null 2>&1'

# --- errors ---------------------------------------------------------------
boot notap 'true' --net tap=lo
check "--net tap=lo: refused, not a tap" has notap "not a single-queue tap"
expect_eq "--net tap=lo exits 1" 1 "$rc"

rm -rf "$out"
finish integration-virtio-net
