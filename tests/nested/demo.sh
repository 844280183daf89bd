#!/bin/bash
# make demo: boot the demo guest with build/vmm and show its console.
# Directly when this machine's /dev/kvm can boot Linux (DEMO_DIRECT=1 to
# force it), otherwise inside the nested L1 host.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
eval "$("$root/guest-images/build.sh" --print)" || exit 1
action=${DEMO_ACTION:-poweroff}
[ -t 0 ] && [ -z "${DEMO_ACTION:-}" ] && action=shell

if [ "${DEMO_DIRECT:-0}" = 1 ]; then
	exec "$root/build/vmm" run -k "$KERNEL" -i "$L2_INITRD" -m 512M -c 2 \
		-p "vmmtest.action=$action"
fi

echo "demo: this machine's /dev/kvm cannot boot a Linux guest; booting an L1 host under QEMU TCG and running build/vmm inside it"
script=$(mktemp "$root/build/demo-XXXXXX.sh")
trap 'rm -f "$script"' EXIT
cat > "$script" <<SCRIPT
#!/bin/sh
echo "demo: inside L1 (\$(uname -r)), /dev/kvm is real; starting build/vmm"
echo "demo: $root/build/vmm plan -m 512M -c 2"
"$root/build/vmm" plan -m 512M -c 2
"$root/build/vmm" run -k "\$KERNEL" -i "\$L2_INITRD" -m 512M -c 2 -p "vmmtest.action=$action"
echo "demo: vmm exited with status \$?"
SCRIPT
chmod +x "$script"
if [ "$action" = shell ]; then
	L1_INTERACTIVE=1 bash "$here/run-in-l1.sh" "$script"
else
	bash "$here/run-in-l1.sh" "$script"
fi
