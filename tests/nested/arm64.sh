#!/bin/sh
# Integration tests of the arm64 VMM inside the arm64 L1 (real KVM with
# vGICv3 + ITS, an e1000e behind SMMUv3). Runs under L1's busybox sh, so
# it is POSIX sh, not bash. Prints "integration-arm64: N passed, N failed".
# VFIO_BACKEND=iommufd (on an L1 with the self-built iommufd kernel, see
# run-integration-arm64.sh): the passthrough runs use iommufd, and the VMM
# must hold /dev/iommu and the NIC's cdev, no group or container.
# MSI_WINDOW=moved (on the L1 kernel with the iommufd sw-msi patches, see
# run-integration-arm64.sh ARM64_SWMSI=1): the VMM chooses the MSI window,
# guest RAM is one bank across 0x8000000; otherwise the host's window and
# the hole stay, and --msi-window ADDR is refused.
# The binary of this checkout (L1 sees the outer folders at their paths).
vmm=${VMM_ARM64:-$(cd "$(dirname "$0")/../.." && pwd)/build/arm64/vmm-static}
nic=${VFIO_NIC:-0000:00:01.0}
out=$(mktemp -d)
passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "'$*' failed"; fi; }

# Which program is under test: a stale binary from another folder once passed.
sum=$(sha256sum "$vmm" 2>/dev/null | cut -d' ' -f1)
echo "arm64 VMM under test: $vmm, $("$vmm" --version 2>/dev/null), sha256 ${sum:-?}"
if [ -n "${VMM_ARM64_SHA256:-}" ]; then
	expect_sum() { [ "$sum" = "$VMM_ARM64_SHA256" ]; }
	check "the suite runs the binary built in this checkout" expect_sum
fi
expect_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi; }

# The L1 host's page size (busybox has no getconf): the suite runs on 4 KiB
# and 16 KiB hosts.
page=$(awk '/^KernelPageSize:/ { print $2 * 1024; exit }' /proc/self/smaps)
echo "arm64 L1 host: $(uname -r), ${page:-?}-byte pages"
if [ -n "${EXPECT_PAGE_SIZE:-}" ]; then
	expect_eq "the L1 host has ${EXPECT_PAGE_SIZE}-byte pages" "$EXPECT_PAGE_SIZE" "$page"
fi
has() { grep -q -- "$2" "$out/$1.log"; }
value() { sed -n "s/^$2=//p" "$out/$1.log" | tr -d '\r' | head -n1; }

# boot NAME GUEST_SCRIPT VMM_ARGS...
boot() {
	name=$1 script=$2
	shift 2
	timeout 300 "$vmm" run -k "$KERNEL" -i "$L2_INITRD" "$@" \
		-p "panic=-1 ${PARAMS:-} vmmtest.run=$(printf '%s\n' "$script" | base64 -w0)" \
		</dev/null >"$out/$name.log" 2>&1
	rc=$?
	echo "$rc" > "$out/$name.rc"
	echo "   ($name: exit $rc)"
}

# 1. Core: CPUs, memory, ITS MSIs, rng, a disk, poweroff.
dd if=/dev/zero of="$out/disk.img" bs=1M count=16 2>/dev/null
boot core '
echo "IRQ_ITS=$(grep -c "ITS-PCI-MSIX" /proc/interrupts)"
awk "/ITS-PCI-MSIX.*virtio.*-input/ { n += \$2 + \$3 } END { print \"RNG_IRQS=\" n }" /proc/interrupts
echo "RNG_BYTES=$(dd if=/dev/hwrng bs=4096 count=2 2>/dev/null | wc -c)"
printf "arm64-disk-check" | dd of=/dev/vda bs=512 seek=8 conv=fsync 2>/dev/null && echo DISK=written
' -c 2 -m 512M --disk "$out/disk.img"
expect_eq "arm64 guest sees 2 CPUs" 2 "$(value core 'VMMTEST nproc')"
kb=$(value core 'VMMTEST memtotal_kb')
check "arm64 guest MemTotal matches -m 512M (${kb:-?} kB)" test "${kb:-0}" -ge 393216 -a "${kb:-0}" -le 524288
check "virtio MSI-X vectors are ITS MSIs in the guest" test "$(value core IRQ_ITS)" -gt 0
check "virtio-rng interrupts arrive through the ITS" test "$(value core RNG_IRQS)" -gt 0
expect_eq "/dev/hwrng delivers 8 KiB" 8192 "$(value core RNG_BYTES)"
check "the guest writes its disk" has core DISK=written
check "the bytes are in the image" sh -c "dd if='$out/disk.img' bs=512 skip=8 count=1 2>/dev/null | grep -q arm64-disk-check"
expect_eq "PSCI SYSTEM_OFF exits 0" 0 "$rc"

# 2. Reset through PSCI SYSTEM_RESET.
boot reboot 'reboot -f' -m 256M
expect_eq "PSCI SYSTEM_RESET exits 3" 3 "$rc"

# 3. Passthrough of the e1000e behind SMMUv3.
backend=${VFIO_BACKEND:+--vfio-backend $VFIO_BACKEND}
if [ -e /dev/iommu ]; then expect=${VFIO_BACKEND:-iommufd}; else expect=legacy; fi
"$vmm" vfio-bind "$nic" > "$out/bind.log" 2>&1
check "vfio-bind hands the NIC to vfio-pci (arm64: the group appears on binding)" \
	sh -c "readlink /sys/bus/pci/devices/$nic/driver | grep -q vfio-pci"
# shellcheck disable=SC2086 # $backend is empty or two words
"$vmm" plan -m 1G --vfio "$nic" $backend > "$out/plan.log" 2>&1
check "plan says the IOMMU backend is $expect" grep -q "^IOMMU backend: $expect (IOVA ranges from" "$out/plan.log"
if [ "${MSI_WINDOW:-host}" = moved ]; then
	grep "MSI IOVA window\|ram " "$out/plan.log"
	check "plan shows the MSI window the VMM chose" \
		grep -q "^0x[0-9a-f]*  0x[0-9a-f]*  *1 MiB  hole .*MSI IOVA window (chosen by vmm)" "$out/plan.log"
	check "plan has no hole at the host's default window 0x8000000" \
		sh -c "! grep -q '^0x0000000008000000 .*hole' '$out/plan.log'"
	check "plan: guest RAM is one bank from 0 across 0x8000000" \
		grep -q "^0x0000000000000000  0x000000003fffffff .*ram " "$out/plan.log"
else
	check "plan shows the SMMU MSI window as a hole at 0x8000000" \
		grep -q "0x0000000008000000  0x00000000080fffff .*hole .*MSI IOVA window (host default, iommu group" "$out/plan.log"
	[ "$expect" != iommufd ] ||
		check "plan names the iommufd IOAS as the source of the SMMU MSI-window hole" \
			grep -q "0x0000000008000000  0x00000000080fffff .*hole .*host IOVA gap (iommufd IOAS)" "$out/plan.log"
fi
# In the background: what the VMM holds is read while the guest runs.
# shellcheck disable=SC2086
boot vfio '
ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; sleep 1
ping -c 3 -W 3 10.0.2.2 && echo PING=ok
awk "/ITS.*eth0/ { n += \$2 + \$3 } END { print \"NIC_IRQS=\" n }" /proc/interrupts
grep "System RAM" /proc/iomem
echo FDS=now; sleep 3
' -c 2 -m 1G --vfio "$nic" $backend &
booting=$!
fds=
for _ in $(seq 1500); do
	kill -0 "$booting" 2>/dev/null || break
	# busybox in the L1 has no pgrep: read the command lines; the one
	# whose first word is the VMM (not a shell or this grep) is the guest.
	pid=
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q "^[^ ]*vmm-static run .*--vfio $nic" && pid=${p#/proc/}
	done
	if [ -n "$pid" ] && grep -q FDS=now "$out/vfio.log" 2>/dev/null; then
		fds=$(for f in /proc/$pid/fd/*; do readlink "$f"; done 2>/dev/null | grep -E '^/dev/(iommu|vfio)' | sort -u | tr '\n' ' ')
		break
	fi
	sleep 0.2
done
wait
echo "   (the VMM's /dev/iommu and /dev/vfio files while the guest runs: ${fds:-none})"
group=$(basename "$(readlink "/sys/bus/pci/devices/$nic/iommu_group")")
if [ "$expect" = iommufd ]; then
	check "the VMM holds /dev/iommu and the NIC's cdev, no group or container" sh -c \
		"echo ' $fds' | grep -q ' /dev/iommu ' && echo ' $fds' | grep -Eq ' /dev/vfio/devices/vfio[0-9]+ ' && ! echo ' $fds' | grep -Eq ' /dev/vfio/($group|vfio) '"
else
	check "the VMM holds the container and the group /dev/vfio/$group, not /dev/iommu" sh -c \
		"echo ' $fds' | grep -q ' /dev/vfio/vfio ' && echo ' $fds' | grep -q ' /dev/vfio/$group ' && ! echo ' $fds' | grep -q ' /dev/iommu '"
fi
check "the guest's e1000e driver binds the passed-through NIC" has vfio "eth0: Intel(R) PRO/1000"
check "the guest pings 10.0.2.2 through the NIC" has vfio PING=ok
check "the NIC's MSI-X vectors are ITS MSIs counting in the guest" test "$(value vfio NIC_IRQS)" -gt 0
echo "   (guest System RAM: $(grep 'System RAM' "$out/vfio.log" | tr -d '\r' | sed 's/^ *//' | tr '\n' ';'))"
if [ "${MSI_WINDOW:-host}" = moved ]; then
	check "guest RAM is one bank across 0x8000000 (/proc/iomem)" \
		sh -c "grep -q '^ *00000000-3fffffff : System RAM' '$out/vfio.log' && ! grep -q '^ *08100000-[0-9a-f]* : System RAM' '$out/vfio.log'"
else
	# RAM stops below the window and resumes above it, on the backing's
	# page (0x8200000 with 2 MiB THP, 0xa000000 with 32 MiB on 16K hosts).
	second_bank=$(tr -d '\r' < "$out/vfio.log" | sed -n 's/^ *\([0-9a-f]*\)-[0-9a-f]* : System RAM$/\1/p' | sed -n 2p)
	check "guest RAM has a hole at the SMMU MSI window (/proc/iomem; RAM again from 0x${second_bank:-none})" \
		sh -c "grep -q '^ *00000000-07ffffff : System RAM' '$out/vfio.log' && [ \$((0x${second_bank:-0})) -ge \$((0x8100000)) ]"
fi
expect_eq "passthrough guest powers off" 0 "$(cat "$out/vfio.rc")"

# 3b. The MSI window where the user puts it, and where it cannot go.
if [ "${MSI_WINDOW:-host}" = moved ]; then
	# shellcheck disable=SC2086
	"$vmm" plan -m 512M --vfio "$nic" $backend --msi-window 0x30000000 > "$out/plan-at.log" 2>&1
	check "plan --msi-window 0x30000000 puts the chosen window there" \
		grep -q "^0x0000000030000000  0x00000000300fffff .*hole .*MSI IOVA window (chosen by vmm)" "$out/plan-at.log"
	# shellcheck disable=SC2086
	boot msiat '
ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; sleep 1
ping -c 3 -W 3 10.0.2.2 && echo PING=ok
awk "/ITS.*eth0/ { n += \$2 + \$3 } END { print \"NIC_IRQS=\" n }" /proc/interrupts
grep "System RAM" /proc/iomem
' -c 2 -m 512M --vfio "$nic" $backend --msi-window 0x30000000
	check "with --msi-window 0x30000000 the guest pings through the NIC" has msiat PING=ok
	check "with --msi-window 0x30000000 the NIC's MSI-X vectors count in the guest" \
		test "$(value msiat NIC_IRQS)" -gt 0
	check "with --msi-window 0x30000000 guest RAM is one bank (/proc/iomem)" \
		grep -q '^ *00000000-1fffffff : System RAM' "$out/msiat.log"
	expect_eq "the --msi-window 0x30000000 guest powers off" 0 "$(cat "$out/msiat.rc")"
	# shellcheck disable=SC2086
	boot msibad 'true' -m 1G --vfio "$nic" $backend --msi-window 0x8000000
	check "--msi-window inside guest RAM is refused in one line naming RAM" \
		sh -c "[ \$(cat '$out/msibad.rc') != 0 ] && grep -q 'error: --msi-window 0x8000000-0x80fffff overlaps guest RAM' '$out/msibad.log'"
else
	# shellcheck disable=SC2086
	boot msibad 'true' -m 512M --vfio "$nic" $backend --msi-window 0x30000000
	check "--msi-window ADDR on a host that cannot move the window is refused in one line" \
		sh -c "[ \$(cat '$out/msibad.rc') != 0 ] && grep -q 'error: --msi-window ADDR: .*cannot move the MSI window' '$out/msibad.log'"
fi

# 4. INTx: the same NIC with MSI off in the guest, through the interrupt-map SPIs.
PARAMS=pci=nomsi
boot intx '
ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; sleep 1
ping -c 3 -W 3 10.0.2.2 && echo PING=ok
grep eth0 /proc/interrupts
' -c 2 -m 512M --vfio "$nic" $backend
PARAMS=
check "with pci=nomsi the NIC still pings (INTx via a GIC SPI)" has intx PING=ok
check "with pci=nomsi the NIC interrupt is a level-triggered GIC SPI" has intx "GICv3 .* Level .*eth0"
"$vmm" vfio-unbind "$nic" >/dev/null 2>&1

# Every run above had the default sandbox (kill): none made a forbidden call.
if grep -l 'sandbox:' "$out"/*.log >/dev/null 2>&1; then
	fail "no forbidden system call in any arm64 run" "$(grep -h 'sandbox:' "$out"/*.log | head -n 3)"
else
	pass "no forbidden system call in any arm64 run"
fi

rm -rf "$out"
echo "${SUITE_NAME:-integration-arm64}: $passed passed, $failed failed"
[ "$failed" = 0 ]
