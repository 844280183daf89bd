#!/bin/bash
# Integration tests of `vmm vfio-bind` / `vmm vfio-unbind`, run inside L1
# (real sysfs, real vfio-pci): L1's emulated e1000e NIC goes to vfio-pci
# and back to e1000e.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/lib.sh"

vmm=${VMM:-$root/build/vmm}
bdf=${VFIO_BIND_BDF:-0000:00:01.0}
dev=/sys/bus/pci/devices/$bdf

driver() {
	local link
	link=$(readlink "$dev/driver") && basename "$link"
}

# run NAME ARGS...: the VMM's output in $out, its status in $rc.
run() {
	local name=$1
	shift
	out=$("$vmm" "$@" 2>&1)
	rc=$?
	echo "   ($name: exit $rc) $out"
}

if [ ! -e "$dev" ]; then
	fail "e1000e at $bdf" "no such device in L1"
	finish integration-vfio-bind
	exit
fi
expect_eq "$bdf starts on e1000e" e1000e "$(driver)"

run bind vfio-bind "$bdf"
expect_eq "vfio-bind exits 0" 0 "$rc"
expect_eq "vfio-bind: $bdf is on vfio-pci" vfio-pci "$(driver)"
group=$(basename "$(readlink "$dev/iommu_group")")
check "vfio-bind reports IOMMU group $group and /dev/vfio/$group" \
	grep -qF "IOMMU group $group: /dev/vfio/$group" <<<"$out"
check "/dev/vfio/$group is a character device" test -c "/dev/vfio/$group"
expect_eq "driver_override is vfio-pci" vfio-pci "$(cat "$dev/driver_override")"

run rebind vfio-bind "${bdf#0000:}"
expect_eq "vfio-bind of a bound device (short address) exits 0" 0 "$rc"
check "vfio-bind says it is already bound" grep -q "already bound to vfio-pci" <<<"$out"

# Without root, the first sysfs write fails and nothing changes.
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$vmm" vfio-unbind "$bdf" 2>&1)
	rc=$?
	echo "   (unbind as nobody: exit $rc) $out"
	expect_eq "vfio-unbind as non-root exits 1" 1 "$rc"
	check "vfio-unbind as non-root says to run as root" grep -q "run as root" <<<"$out"
	expect_eq "vfio-unbind as non-root leaves $bdf on vfio-pci" vfio-pci "$(driver)"
fi

run unbind vfio-unbind "$bdf"
expect_eq "vfio-unbind exits 0" 0 "$rc"
expect_eq "vfio-unbind: $bdf is back on e1000e" e1000e "$(driver)"
check "vfio-unbind says e1000e took it back" grep -q "now bound to e1000e" <<<"$out"
expect_eq "driver_override is cleared" "(null)" "$(cat "$dev/driver_override")"

run unbind-again vfio-unbind "$bdf"
expect_eq "vfio-unbind of a device on e1000e exits 0" 0 "$rc"
check "vfio-unbind says there is nothing to do" grep -q "nothing to do" <<<"$out"

run missing vfio-bind 0000:00:1e.7
expect_eq "vfio-bind of a missing device exits 1" 1 "$rc"
check "vfio-bind names the missing device" grep -q "no PCI device 0000:00:1e.7" <<<"$out"

run usage vfio-bind
expect_eq "vfio-bind without an address is a usage error" 2 "$rc"

finish integration-vfio-bind
