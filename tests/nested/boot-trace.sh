#!/bin/bash
# Inside L1: where the L2 guest's boot time goes. Boots the same kernel and
# initrd with initcall_debug under build/vmm and under QEMU microvm and
# prints, per boot, the wall time to userspace, the guest's uptime there
# and its dmesg (every line but the fast initcalls, which are summed), as
# "TRACE <kind> ..." lines for tests/nested/boot-trace-summary.py.
# BOOT_TRACE_KINDS picks the boots (default "vmm microvm"); a kind
# "vmm+WORDS" adds kernel parameters, with "," for spaces, to try what a
# change would save before making it; "before" (with the same "+WORDS")
# boots the binary VMM_BEFORE, e.g. one built from main, for a before/after.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${KERNEL:?}" "${L2_INITRD:?}"
vmm="$root/build/vmm"
qemu=${BENCH_QEMU:-qemu-system-x86_64}
# Initcalls under 5 ms are summed, not listed: the serial console would
# otherwise carry thousands of lines.
guest='u=$(cut -d" " -f1 /proc/uptime)
dmesg | awk -v u="$u" "/calling  / { next }
/ returned .* after [0-9]+ usecs/ { n++; t += \$(NF-1); if (\$(NF-1) < 5000) next }
{ print \"DMESG \" \$0 }
END { printf \"UPTIME %s INITCALLS %d TOTAL_US %d\\n\", u, n, t }"'
params="panic=-1 quiet initcall_debug printk.time=1 log_buf_len=4M vmmtest.action=poweroff"
params+=" vmmtest.run=$(printf '%s\n' "$guest" | base64 -w0)"

for kind in ${BOOT_TRACE_KINDS:-vmm microvm}; do
	extra=
	case $kind in *+*) extra=" ${kind#*+}"; extra=${extra//,/ } ;; esac
	start=$EPOCHREALTIME
	case $kind in
	vmm*|before*)
		bin=$vmm
		[[ $kind == before* ]] && bin=${VMM_BEFORE:?}
		timeout 300 "$bin" run -d -k "$KERNEL" -i "$L2_INITRD" -m 256M -c 2 \
		-p "$params$extra" </dev/null 2>&1 ;;
	microvm) timeout 300 "$qemu" -M microvm,rtc=on -enable-kvm -cpu host -smp 2 -m 256 \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-kernel "$KERNEL" -initrd "$L2_INITRD" -append "console=ttyS0 $params$extra" \
		</dev/null 2>&1 ;;
	esac | while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		*"VMMTEST userspace"*)
			echo "TRACE $kind WALL_MS $(awk -v a="$start" -v b="$EPOCHREALTIME" \
				'BEGIN { printf "%d", (b - a) * 1000 }')" ;;
		DMESG*|UPTIME*) echo "TRACE $kind $line" ;;
		*"first KVM_RUN"*|*"debug: phase '"*) echo "TRACE $kind VMM $line" ;;
		esac
	done
done
