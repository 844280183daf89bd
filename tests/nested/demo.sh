#!/bin/bash
# make demo: boot the demo guest with build/vmm, a NIC passed through with
# VFIO, and show its console. Where this machine's /dev/kvm can boot Linux
# and DEMO_NIC names a PCI NIC (DEMO_DIRECT=1), directly; otherwise inside
# the nested L1 host, whose e1000e (behind an emulated VT-d) is passed
# through. On a terminal the guest gives a shell; otherwise it shows the
# map, the NIC, a ping to the gateway, and powers off.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
eval "$("$root/guest-images/build.sh" --print)" || exit 1
action=poweroff
[ -t 0 ] && action=shell
action=${DEMO_ACTION:-$action}
guest='echo "demo: the passed-through NIC, seen from the guest:"
ls -l /sys/class/net/ 2>/dev/null | grep -v lo
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2
sleep 1
ping -c 3 10.0.2.2
grep -E "CPU|eth0" /proc/interrupts
grep -E "System RAM|fee00000" /proc/iomem'
params="vmmtest.action=$action vmmtest.run=$(printf '%s\n' "$guest" | base64 -w0)"

if [ "${DEMO_DIRECT:-0}" = 1 ]; then
	nic=${DEMO_NIC:?DEMO_NIC=BDF of a NIC to pass through}
	"$root/build/vmm" vfio-bind "$nic" || exit 1
	exec "$root/build/vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 512M -c 2 --vfio "$nic" -p "$params"
fi

echo "demo: this machine's /dev/kvm cannot boot a Linux guest: booting an L1 host under QEMU TCG (emulated SVM and VT-d, an e1000e NIC) and running build/vmm inside it"
mkdir -p "$root/build"
script=$(mktemp "$root/build/demo-XXXXXX.sh")
trap 'rm -f "$script"' EXIT
cat > "$script" <<SCRIPT
#!/bin/sh
nic=0000:00:01.0
echo "demo: inside L1 (\$(uname -r)); /dev/kvm and VFIO are real here"
"$root/build/vmm" vfio-bind \$nic
echo "demo: the guest map, built around the host's reserved regions:"
"$root/build/vmm" plan -m 512M -c 2 --vfio \$nic
"$root/build/vmm" run -k "\$KERNEL" -i "\$L2_INITRD" -m 512M -c 2 --vfio \$nic -p "$params"
echo "demo: vmm exited with status \$?"
SCRIPT
chmod +x "$script"
if [ "$action" = shell ]; then
	L1_INTERACTIVE=1 bash "$here/run-in-l1.sh" "$script"
else
	bash "$here/run-in-l1.sh" "$script"
fi
