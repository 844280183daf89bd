#!/bin/bash
# Host-side faults under a running guest, inside L1 (real KVM):
# - the backing disk fails: a device-mapper table whose second half is
#   the `error` target (EIO), and an image on a full tmpfs (ENOSPC); the
#   guest sees I/O errors, the rest of the disk works, the guest goes on;
# - the tap is deleted under virtio-net: the guest sees the link go
#   down, the VMM keeps running and does not spin;
# - stdout closed, or a pipe nobody reads: the guest keeps running (it
#   writes a marker to its disk), and --timeout and SIGTERM still stop it.
# "Data a guest synced survives SIGKILL" lives in virtio-blk.sh.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# boot NAME GUEST_SCRIPT VMM_ARGS...: the script runs in the guest; console in
# $out/NAME.txt, the VMM's own messages in $out/NAME.err (kept apart: a
# warning written while the guest prints a line would split that line).
boot() {
	local name=$1 script=$2
	shift 2
	timeout -k 10 150 "$vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 256M -c 2 \
		-p "panic=-1 $(guest_run "$script") ${ACTION:-}" "$@" </dev/null >"$out/$name.log" 2>"$out/$name.err"
	rc=$?
	tr -d '\r' < "$out/$name.log" > "$out/$name.txt"
	echo "   ($name: exit $rc)"
}
field() { sed -n "s/^FAULT $2=//p" "$out/$1.txt" | head -n1; }
md5_field() { field "$@" | cut -c1-32; }
# has NAME PATTERN: in the guest's console or the VMM's messages.
has() { cat "$out/$1.txt" "$out/$1.err" 2>/dev/null | grep -q -- "$2"; }
show_tail() { echo "--- last lines of $1:"; tail -n 20 "$out/$1.txt"; tail -n 10 "$out/$1.err" 2>/dev/null; }
# cpu_pct PID SECONDS: the VMM's own CPU (utime - guest_time + stime) over SECONDS, in %.
cpu_pct() {
	local c0 c1 t0 t1
	c0=$(awk '{ print $14 - $43 + $15 }' "/proc/$1/stat" 2>/dev/null) t0=$(date +%s%N)
	sleep "$2"
	c1=$(awk '{ print $14 - $43 + $15 }' "/proc/$1/stat" 2>/dev/null) t1=$(date +%s%N)
	[ -n "$c0" ] && [ -n "$c1" ] && echo $(( (c1 - c0) * 100 * 1000000000 / $(getconf CLK_TCK) / (t1 - t0) ))
}
# wait_for FILE PATTERN PID SECONDS: until FILE has PATTERN (grep -a), PID is gone, or time is up.
wait_for() {
	for _ in $(seq "$4"); do
		grep -aq -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 1
	done
	return 1
}
zero4k=$(head -c 4096 /dev/zero | md5sum | cut -c1-32)

# --- the backing store fails: EIO (dm error target), ENOSPC (full tmpfs) --
# dm-mod and dm-zero come from the L2 kernel's own modules when L1 runs
# that same kernel (Debian's); a self-built L1 kernel skips the EIO half.
kroot=$(dirname "$(dirname "$KERNEL")")
eio_dev=
if [ "$(uname -r)" = "$(basename "$KERNEL" | sed 's/^vmlinuz-//')" ] &&
	modprobe -d "$kroot" dm_zero 2>/dev/null && modprobe -d "$kroot" dm_mod 2>/dev/null; then
	# 4 MiB of zeros, then 4 MiB that fail every read and write.
	if printf '0 8192 zero\n8192 8192 error\n' | DM_DISABLE_UDEV=1 dmsetup create vmmfault >/dev/null 2>&1; then
		eio_dev=/dev/mapper/vmmfault
		[ -b "$eio_dev" ] || eio_dev=/dev/$(basename "$(readlink -f /sys/block/dm-0 2>/dev/null)")
	fi
fi
[ -n "$eio_dev" ] || echo "   (no device-mapper in this L1: the EIO checks are skipped)"
full=$out/full
mkdir -p "$full" && mount -t tmpfs -o size=1M vmmfull "$full"
truncate -s 32M "$full/disk.img"

# Kernel messages stay in dmesg (counted there), off the console, where
# one once landed inside a FAULT line and cut its md5 in two.
disk_script='
dmesg -n 1
echo "FAULT eio_head=$(dd if=/dev/vda bs=4096 count=1 2>/dev/null | md5sum | cut -c1-32)"
dd if=/dev/vda of=/dev/null bs=4096 skip=1024 count=1 2>/dev/null; echo "FAULT eio_read_rc=$?"
dd if=/dev/zero of=/dev/vda bs=4096 seek=1100 count=1 conv=fsync 2>/dev/null; echo "FAULT eio_write_rc=$?"
echo 3 > /proc/sys/vm/drop_caches
echo "FAULT after_eio=$(dd if=/dev/vda bs=4096 count=1 skip=10 2>/dev/null | md5sum | cut -c1-32)"
echo "FAULT kernel_io_errors=$(dmesg | grep -c "I/O error")"
dd if=/dev/urandom of=/dev/vdb bs=64k count=64 conv=fsync 2>/dev/null; echo "FAULT enospc_write_rc=$?"
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/vdb of=/dev/null bs=64k count=4 2>/dev/null; echo "FAULT enospc_read_rc=$?"
echo "FAULT done"'
if [ -n "$eio_dev" ]; then
	boot disk "$disk_script" --disk "$eio_dev" --disk "$full/disk.img"
else
	# Without dm: vda is a plain image, and only the ENOSPC half is asserted.
	truncate -s 8M "$out/plain.img"
	boot disk "$disk_script" --disk "$out/plain.img" --disk "$full/disk.img"
fi
expect_eq "the guest with failing disks powers off" 0 "$rc"
check "the guest carries on after the errors" has disk "^FAULT done"
if [ -n "$eio_dev" ]; then
	expect_eq "the healthy half of the dm disk reads zeros" "$zero4k" "$(md5_field disk eio_head)"
	check "a read of the error half fails in the guest" test "$(field disk eio_read_rc)" != 0
	check "a write to the error half fails in the guest" test "$(field disk eio_write_rc)" != 0
	expect_eq "the healthy half reads again after the errors" "$zero4k" "$(md5_field disk after_eio)"
	check "the guest kernel reports I/O errors" test "$(field disk kernel_io_errors)" -gt 0
	check "the VMM names the backing store's error" has disk "Input/output error"
fi
check "a write past the full tmpfs fails in the guest (ENOSPC)" test "$(field disk enospc_write_rc)" != 0
expect_eq "the full disk still reads" 0 "$(field disk enospc_read_rc)"
check "the VMM names ENOSPC" has disk "No space left on device"
[ "$rc" = 0 ] || show_tail disk
umount "$full"
[ -z "$eio_dev" ] || DM_DISABLE_UDEV=1 dmsetup remove vmmfault >/dev/null 2>&1

# --- the tap is deleted while the guest runs -----------------------------
tap=vmmfault0
net_script='
dmesg -n 1 # no kernel message in the middle of a FAULT line
i=$(ls /sys/class/net | grep -v "^lo$" | head -n1)
ip link set "$i" up
sleep 1
echo "FAULT carrier_before=$(cat /sys/class/net/$i/carrier)"
echo "FAULT net_ready"
for _ in $(seq 60); do c=$(cat /sys/class/net/$i/carrier); [ "$c" = 0 ] && break; sleep 1; done
echo "FAULT carrier_after=$c"
echo "FAULT idle-start"
sleep 6
echo "FAULT done"'
# The VMM's own --timeout (not timeout(1)): $! is the VMM, whose CPU is measured.
"$vmm" run --timeout 150 -k "$KERNEL" -i "$L2_INITRD" -m 256M -c 2 --net "tap=$tap" \
	-p "panic=-1 $(guest_run "$net_script")" </dev/null >"$out/tap.log" 2>"$out/tap.err" &
pid=$!
deleted=no idle=
if wait_for "$out/tap.log" "FAULT net_ready" "$pid" 120; then
	ip link del "$tap" && deleted=yes
	wait_for "$out/tap.log" "FAULT idle-start" "$pid" 90 && idle=$(cpu_pct "$pid" 4)
fi
wait "$pid"
rc=$?
tr -d '\r' < "$out/tap.log" > "$out/tap.txt"
echo "   (tap: exit $rc)"
expect_eq "L1 deletes the tap under the running guest" yes "$deleted"
expect_eq "the link is up before" 1 "$(field tap carrier_before)"
expect_eq "the guest sees the link go down" 0 "$(field tap carrier_after)"
check "the VMM says the tap is gone" has tap "tap $tap is gone"
check "the VMM does not spin on the dead tap (${idle:-?}% of a CPU, bound 30%)" test -n "$idle" -a "${idle:-100}" -lt 30
check "the guest runs on" has tap "FAULT done"
expect_eq "the guest without its tap powers off" 0 "$rc"
[ "$rc" = 0 ] || show_tail tap
ip link del "$tap" 2>/dev/null

# --- stdout closed --------------------------------------------------------
marker_script='
echo "guest console output nobody will see"
dmesg | head -n 200
printf "FAULT-ALIVE %s\n" "$(cut -d" " -f1 /proc/uptime)" | dd of=/dev/vda bs=512 seek=100 conv=fsync 2>/dev/null'
img=$out/closed.img
truncate -s 1M "$img"
timeout -k 10 150 "$vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 256M -c 2 --disk "$img" \
	-p "panic=-1 $(guest_run "$marker_script")" </dev/null >&- 2>"$out/closed.err"
rc=$?
echo "   (stdout closed: exit $rc)"
expect_eq "with stdout closed the guest powers off" 0 "$rc"
check "with stdout closed the guest ran (its marker is on the disk)" grep -aq "FAULT-ALIVE" "$img"
check "with stdout closed no console output lands in the disk image" eval '! grep -aq "VMMTEST\|nobody will see" "$img"'

# --- stdout a pipe nobody reads: --timeout, then SIGTERM ------------------
fifo=$out/fifo
mkfifo "$fifo"
exec 7<>"$fifo" # holds the pipe open without ever reading it
# One page of pipe: the boot log alone fills it.
perl -e 'open(my $f, "+<", $ARGV[0]) or die; fcntl($f, 1031, 4096) or die' "$fifo" 2>/dev/null ||
	echo "   (F_SETPIPE_SZ refused: the 64 KiB default pipe fills later)"
for how in timeout sigterm; do
	img=$out/blocked-$how.img
	truncate -s 1M "$img"
	args=(-k "$KERNEL" -i "$L2_INITRD" -m 256M -c 2 --disk "$img"
		-p "panic=-1 vmmtest.action=hang $(guest_run "$marker_script")")
	if [ "$how" = timeout ]; then args+=(--timeout 50); else args+=(--timeout 150); fi
	start=$(date +%s)
	"$vmm" run "${args[@]}" </dev/null >"$fifo" 2>"$out/blocked-$how.err" &
	pid=$!
	alive=no
	wait_for "$img" "FAULT-ALIVE" "$pid" 120 && alive=yes
	[ "$how" = sigterm ] && [ "$alive" = yes ] && kill -TERM "$pid" && term_at=$(date +%s)
	wait "$pid"
	rc=$?
	end=$(date +%s)
	echo "   (stdout blocked, $how: exit $rc after $((end - start))s)"
	expect_eq "with stdout blocked the guest runs on ($how run)" yes "$alive"
	if [ "$how" = timeout ]; then
		expect_eq "with stdout blocked --timeout still stops the guest (exit 124)" 124 "$rc"
		check "... on time (50 s + 15)" test $((end - start)) -le 65
	else
		expect_eq "with stdout blocked SIGTERM still stops the VMM (exit 143)" 143 "$rc"
		check "... within 10 s" test $((end - ${term_at:-0})) -le 10
	fi
	check "the VMM says the console output is blocked ($how run)" grep -q "console output is blocked" "$out/blocked-$how.err"
done
exec 7>&-

finish integration-faults
