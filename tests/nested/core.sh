#!/bin/bash
# Integration tests of the x86-64 core, run inside L1 (real KVM) by
# run-integration.sh: build/vmm boots the L2 test guest and we check what
# the guest reports and how the VMM exits.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# boot NAME ARGS... : runs the VMM, output in $out/NAME.log, status in $rc.
boot() {
	local name=$1
	shift
	local t0=$(date +%s%N)
	timeout -k 10 150 "$vmm" run -k "$KERNEL" -i "$L2_INITRD" "$@" </dev/null >"$out/$name.log" 2>&1
	rc=$?
	echo "   ($name: exit $rc after $((($(date +%s%N) - t0) / 1000000)) ms)"
}
field() { tr -d '\r' < "$out/$1.log" | sed -n "s/^VMMTEST $2=//p" | head -n1; }
show_tail() { echo "--- last lines of $1:"; tr -d '\r' < "$out/$1.log" | tail -n 15; }

# memtotal_ok NAME MiB: MemTotal is RAM less what the kernel keeps for itself,
# so it must be below the request but within 25% of it.
memtotal_ok() {
	local kb=$(field "$1" memtotal_kb) want=$(($2 * 1024))
	[ -n "$kb" ] && [ "$kb" -le "$want" ] && [ "$kb" -ge $((want * 3 / 4)) ]
}

boot smp2 -c 2 -m 256M -p "panic=-1 vmmtest.action=poweroff"
expect_eq "2 vCPUs: guest sees 2 CPUs" 2 "$(field smp2 nproc)"
check "256M: guest MemTotal matches -m 256M ($(field smp2 memtotal_kb) kB)" memtotal_ok smp2 256
expect_eq "poweroff from the guest exits 0" 0 "$rc"
[ "$rc" = 0 ] || show_tail smp2

boot smp4 -c 4 -m 1G -p "panic=-1 vmmtest.action=reboot"
expect_eq "4 vCPUs: guest sees 4 CPUs" 4 "$(field smp4 nproc)"
check "1G: guest MemTotal matches -m 1G ($(field smp4 memtotal_kb) kB)" memtotal_ok smp4 1024
expect_eq "reboot from the guest exits 3" 3 "$rc"
[ "$rc" = 3 ] || show_tail smp4

boot panic -m 192M -p "panic=-1 vmmtest.action=panic"
check "panic with panic=-1 reached userspace first" grep -q "VMMTEST userspace" "$out/panic.log"
expect_eq "guest panic with panic=-1 exits 3" 3 "$rc"

boot timeout --timeout 60 -m 128M -p "vmmtest.action=hang"
check "hanging guest reached userspace before the timeout" grep -q "VMMTEST userspace" "$out/timeout.log"
expect_eq "--timeout exits 124" 124 "$rc"

# A guest above 4 GiB: RAM split around the 32-bit PCI hole.
boot high -c 1 -m 4608M -p "vmmtest.action=poweroff"
check "4.5G: guest MemTotal matches RAM split around the PCI hole" memtotal_ok high 4608
expect_eq "4.5G guest powers off" 0 "$rc"
[ "$rc" = 0 ] || show_tail high

# SIGTERM stops the guest cleanly: 128 + 15. Meanwhile, the sandbox (on
# by default) must confine every thread: Seccomp: 2 is filter mode.
"$vmm" run -k "$KERNEL" -i "$L2_INITRD" -c 2 -m 128M -p "vmmtest.action=hang" </dev/null >"$out/sigterm.log" 2>&1 &
pid=$!
for _ in $(seq 120); do grep -q "VMMTEST userspace" "$out/sigterm.log" && break; sleep 1; done
threads=0 filtered=0
for status in /proc/"$pid"/task/*/status; do
	threads=$((threads + 1))
	grep -q '^Seccomp:[[:space:]]*2' "$status" && filtered=$((filtered + 1))
done
check "every VMM thread runs under a seccomp filter ($filtered of $threads, 3 expected)" \
	test "$threads" -ge 3 -a "$filtered" = "$threads"
kill -TERM "$pid"
wait "$pid"
expect_eq "SIGTERM stops the VMM with status 143" 143 "$?"
check "no forbidden system call during the guest's life and teardown" \
	bash -c "! grep -q 'sandbox:' '$out/sigterm.log' '$out/smp2.log' '$out/smp4.log' '$out/high.log'"

# --sandbox off leaves the threads unfiltered (the filters are not the kernel's default).
"$vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 128M --sandbox off -p "vmmtest.action=hang" </dev/null >"$out/nosandbox.log" 2>&1 &
pid=$!
for _ in $(seq 120); do grep -q "VMMTEST userspace" "$out/nosandbox.log" && break; sleep 1; done
check "--sandbox off: no thread is filtered" bash -c "! grep -q '^Seccomp:[[:space:]]*2' /proc/$pid/task/*/status"
kill -TERM "$pid"
wait "$pid"

# The map the guest saw is the one `vmm plan` prints.
"$vmm" plan -m 256M -c 2 > "$out/plan.txt"
check "plan shows the LAPIC/MSI window" grep -q "0x00000000fee00000  0x00000000feefffff" "$out/plan.txt"
check "guest e820 matches the plan (no RAM at 0xfee00000)" \
	bash -c "! tr -d '\r' < '$out/smp2.log' | grep -E 'BIOS-e820: \[mem 0x00000000fe[e-f].*usable'"

# Host holes where the boot data used to sit at fixed addresses (zero page
# 0x7000, page tables 0x9000-0xbfff, command line 0x20000) and where the
# kernel prefers to load (16 MiB): the planner moves all of it.
printf '%s\n' '0x0000000000007000 0x0000000000007fff reserved' \
	'0x0000000000009000 0x000000000000bfff reserved' \
	'0x0000000000020000 0x0000000000020fff reserved' \
	'0x0000000001000000 0x0000000001ffffff reserved' > "$out/low-holes.txt"
"$vmm" plan -m 256M -c 2 --reserved "$out/low-holes.txt" -k "$KERNEL" -i "$L2_INITRD" > "$out/low-plan.txt" 2>&1
check "plan places the zero page, page tables and kernel around low holes" \
	bash -c "grep -q 'boot .*zero page' '$out/low-plan.txt' && grep -q 'boot .*page tables' '$out/low-plan.txt' && grep -q 'boot .*kernel' '$out/low-plan.txt'"
boot lowholes -c 2 -m 256M --reserved "$out/low-holes.txt" -p "panic=-1 vmmtest.action=poweroff $(guest_run 'grep "System RAM" /proc/iomem')"
expect_eq "a guest with holes under its boot data boots and powers off" 0 "$rc"
expect_eq "  ... and sees its 2 CPUs" 2 "$(field lowholes nproc)"
# no_ram_at ADDR: no "System RAM" line of the guest's /proc/iomem covers ADDR.
no_ram_at() {
	local start end
	while IFS='- ' read -r start end; do
		((16#$start <= $1 && $1 <= 16#$end)) && return 1
	done < <(tr -d '\r' < "$out/lowholes.log" | sed -n 's/^ *\([0-9a-f]*\)-\([0-9a-f]*\) : System RAM$/\1 \2/p')
	grep -q 'System RAM' "$out/lowholes.log"
}
for addr in 0x7000 0x9000 0xb000 0x20000 0x1000000 0x1ffffff; do
	check "  ... and its /proc/iomem has no RAM at $addr" no_ram_at "$addr"
done

# No RAM at all in the first MiB: x86 Linux cannot start its CPUs. One clear error, no core.
printf '0x0000000000000000 0x00000000000fffff reserved\n' > "$out/first-mib.txt"
boot firstmib -m 256M --reserved "$out/first-mib.txt" -p "vmmtest.action=poweroff"
expect_eq "a hole over the whole first MiB exits 1" 1 "$rc"
check "  ... with one error naming the trampoline and the hole" \
	bash -c "grep -q 'error: .*trampoline.*first-mib' '$out/firstmib.log'"

finish "${CORE_SUITE_NAME:-integration-core}"
