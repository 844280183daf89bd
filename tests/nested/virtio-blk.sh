#!/bin/bash
# Integration tests of virtio-blk inside L1 (real KVM): the L2 guest reads
# and writes raw images through /dev/vdX and we check the bytes from the
# L1 side; a read-only disk refuses writes; data a guest synced survives
# a SIGKILL of the VMM; the serial comes from GET_ID; a disk has one
# request queue per vCPU unless queues=N says otherwise, and writes from
# both vCPUs at once through several queues land intact.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

run_args() {
	local script=$1
	printf '%s\n' -k "$KERNEL" -i "$L2_INITRD" -m 256M -c 2 \
		-p "panic=-1 vmmtest.run=$(printf '%s\n' "$script" | base64 -w0) ${ACTION:-}"
}

# boot NAME GUEST_SCRIPT VMM_ARGS...: the script runs in the guest (vmmtest.run).
boot() {
	local name=$1 script=$2 args
	shift 2
	mapfile -t args < <(run_args "$script")
	timeout -k 10 150 "$vmm" run "${args[@]}" "$@" </dev/null >"$out/$name.log" 2>&1
	rc=$?
	tr -d '\r' < "$out/$name.log" > "$out/$name.txt"
	echo "   ($name: exit $rc)"
}
field() { sed -n "s/^BLK $2=//p" "$out/$1.txt" | head -n1; }
has() { grep -q -- "$2" "$out/$1.txt"; }
show_tail() { echo "--- last lines of $1:"; tail -n 15 "$out/$1.txt"; }
# md5 IMAGE BS SKIP COUNT: digest of that stretch of an image.
md5() { dd if="$1" bs="$2" skip="$3" count="$4" 2>/dev/null | md5sum | cut -c1-32; }

# --- read/write, read-only disk, serial ---------------------------------
rw=$out/rw.img ro=$out/ro.img
truncate -s 64M "$rw"
# A known pattern in block 10 (4 KiB blocks) for the guest to read.
for i in $(seq 0 511); do printf 'vmm-blk %06d\n' "$i"; done | head -c 4096 |
	dd of="$rw" bs=4096 seek=10 conv=notrunc 2>/dev/null
seeded=$(md5 "$rw" 4096 10 1)
# 1 MiB + 100 bytes: the guest sees 2048 sectors, the VMM warns.
head -c $((1024 * 1024 + 100)) /dev/urandom > "$ro"
ro_before=$(md5sum < "$ro")
mq=$out/mq.img
truncate -s 32M "$mq"

boot rw '
s() { md5sum | cut -c1-32; }
echo "BLK read=$(dd if=/dev/vda bs=4096 skip=10 count=1 2>/dev/null | s)"
dd if=/dev/urandom of=/tmp/p bs=1M count=4 2>/dev/null
echo "BLK wrote=$(s < /tmp/p)"
dd if=/tmp/p of=/dev/vda bs=1M seek=1 conv=fsync 2>/dev/null && echo "BLK write=ok"
echo 3 > /proc/sys/vm/drop_caches
echo "BLK reread=$(dd if=/dev/vda bs=1M skip=1 count=4 2>/dev/null | s)"
for d in vda vdb; do q=/sys/block/$d
echo "BLK $d=$(cat $q/serial) $(cat $q/size) ro=$(cat $q/ro) $(cat $q/queue/logical_block_size)"
done
echo "BLK cache=$(cat /sys/block/vda/queue/write_cache)"
dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null; echo "BLK rowrite=$?"
echo "BLK queues=$(ls /sys/block/vda/mq | wc -l) $(ls /sys/block/vdb/mq | wc -l) $(ls /sys/block/vdc/mq | wc -l)"
# Two writers at once, one per vCPU as the scheduler spreads them: two queues busy.
dd if=/dev/urandom of=/tmp/m bs=1M count=8 2>/dev/null
echo "BLK mqwrote=$(s < /tmp/m)"
dd if=/tmp/m of=/dev/vdc bs=1M count=4 conv=fsync 2>/dev/null & a=$!
dd if=/tmp/m of=/dev/vdc bs=1M skip=4 seek=4 count=4 conv=fsync 2>/dev/null & b=$!
wait $a && wait $b && echo "BLK mqwrite=ok"
echo 3 > /proc/sys/vm/drop_caches
echo "BLK mqreread=$(dd if=/dev/vdc bs=1M count=8 2>/dev/null | s)"
' --disk "$rw" --disk "$ro,ro,queues=1" --disk "$mq,queues=4" -d
expect_eq "guest reads the bytes L1 put in the image" "$seeded" "$(field rw read)"
expect_eq "guest write of 4 MiB with conv=fsync succeeds" ok "$(field rw write)"
wrote=$(field rw wrote)
check "guest wrote a pattern ($wrote)" test -n "$wrote"
expect_eq "guest reads back what it wrote (after drop_caches)" "$wrote" "$(field rw reread)"
expect_eq "the image holds the guest's bytes at 1 MiB" "$wrote" "$(md5 "$rw" 1M 1 4)"
expect_eq "bytes before the write are untouched" "$seeded" "$(md5 "$rw" 4096 10 1)"
expect_eq "GET_ID serial, size, rw, 512-byte blocks of vda" "vmm-disk0 131072 ro=0 512" "$(field rw vda)"
expect_eq "vdb: read-only, 1 MiB + 100 bytes seen as 2048 sectors" "vmm-disk1 2048 ro=1 512" "$(field rw vdb)"
expect_eq "VIRTIO_BLK_F_FLUSH: the guest uses a write-back cache" "write back" "$(field rw cache)"
check "a write to the ,ro disk fails in the guest" test "$(field rw rowrite)" != 0
expect_eq "the ,ro image is unchanged" "$ro_before" "$(md5sum < "$ro")"
check "the VMM warns about the odd-sized image" has rw "not a multiple of 512"
# Linux uses at most one queue per CPU: queues=4 on 2 vCPUs gives 2.
expect_eq "queues: one per vCPU by default (2), queues=1 gives 1, queues=4 as many as CPUs" \
	"2 1 2" "$(field rw queues)"
expect_eq "parallel writes through the queues of vdc succeed" ok "$(field rw mqwrite)"
mqwrote=$(field rw mqwrote)
expect_eq "guest reads back the 8 MiB written through several queues" "$mqwrote" "$(field rw mqreread)"
expect_eq "the multiqueue image holds the guest's bytes" "$mqwrote" "$(md5 "$mq" 1M 0 8)"
# -d prints, per queue, kicks and interrupts against completions (EVENT_IDX at work).
stats=$(grep -c "virtio-blk: queue [0-9]*: .* interrupts per completion" "$out/rw.txt")
check "the VMM counted notifications on the disks' queues ($stats lines)" test "$stats" -ge 3
grep "interrupts per completion" "$out/rw.txt" | sed 's/^/   /' | head -n 8
expect_eq "guest with three disks powers off" 0 "$rc"
[ "$rc" = 0 ] || show_tail rw

# --- durability: synced data survives SIGKILL ------------------------------
kill_img=$out/kill.img
truncate -s 16M "$kill_img"
script='dd if=/dev/urandom of=/tmp/p bs=4096 count=16 2>/dev/null
dd if=/tmp/p of=/dev/vda bs=4096 seek=300 conv=fsync 2>/dev/null && echo "BLK durable=$(md5sum < /tmp/p | cut -c1-32)"'
mapfile -t args < <(ACTION=vmmtest.action=hang run_args "$script")
"$vmm" run "${args[@]}" --disk "$kill_img" </dev/null >"$out/kill.log" 2>&1 &
pid=$!
for _ in $(seq 150); do grep -q "^BLK durable=" "$out/kill.log" && break; sleep 1; done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
expect_eq "the VMM dies of SIGKILL" 137 "$?"
tr -d '\r' < "$out/kill.log" > "$out/kill.txt"
durable=$(field kill durable)
check "guest synced its write before the kill" test -n "$durable"
expect_eq "synced bytes are in the image after SIGKILL" "$durable" "$(md5 "$kill_img" 4096 300 16)"
[ -n "$durable" ] || show_tail kill

# --- bad --disk arguments fail before boot, naming the file -----------------
"$vmm" run -k "$KERNEL" -i "$L2_INITRD" --disk "$out/missing.img" </dev/null >"$out/bad.txt" 2>&1
expect_eq "a missing image: exit 1" 1 "$?"
check "the error names the image" has bad "missing.img"
"$vmm" run -k "$KERNEL" -i "$L2_INITRD" --disk "$out" </dev/null >"$out/bad.txt" 2>&1
expect_eq "a directory as --disk: exit 1" 1 "$?"

finish integration-virtio-blk
