#!/bin/bash
# Inside L1: boot time to the guest's first userspace line, build/vmm
# against QEMU (-M microvm and -M q35, both KVM), and each VMM's own
# memory (RSS outside guest RAM) once the guest is up. Prints figures.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${KERNEL:?}" "${L2_INITRD:?}"
runs=${BENCH_RUNS:-5}
mem=256
smp=2
params="panic=-1 quiet vmmtest.action=hang"
vmm="$root/build/vmm"
qemu=${BENCH_QEMU:-qemu-system-x86_64}

# Sizes (kB) of the guest RAM mappings: RSS in those is the guest's, not the VMM's.
guest_kb_vmm=$("$vmm" plan -m ${mem}M --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(str(r["size"] // 1024) for r in d["regions"] if r["type"] in ("ram", "firmware")))')
guest_kb_qemu=$((mem * 1024))

# rss_outside PID "SIZES": Rss of every mapping that is not guest memory:
# guest RAM is recognised by its size (each of build/vmm's banks is its own
# mapping between guard pages) or by name where the kernel names them.
rss_outside() {
	python3 - "$1" "$2" <<'PY'
import re, sys
pid, sizes = sys.argv[1], {int(s) for s in sys.argv[2].split()}
total, size, guest = 0, None, False
for line in open(f"/proc/{pid}/smaps"):
    f = line.split()
    if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
        guest = "[anon:guest-" in line
    elif f[0] == "Size:":
        size = int(f[1])
    elif f[0] == "Rss:" and not guest and size not in sizes:
        total += int(f[1])
print(total)
PY
}

# boot_once KIND: prints "<ms to first userspace line> <overhead kB>".
boot_once() {
	local kind=$1 fifo pid start line ms=0 rss=0
	fifo=$(mktemp -u) && mkfifo "$fifo"
	case $kind in
	vmm) "$vmm" run -k "$KERNEL" -i "$L2_INITRD" -m ${mem}M -c $smp -p "$params" \
		</dev/null >"$fifo" 2>&1 & ;;
	vmm-nosb) "$vmm" run -k "$KERNEL" -i "$L2_INITRD" -m ${mem}M -c $smp -p "$params" \
		--sandbox off </dev/null >"$fifo" 2>&1 & ;;
	microvm|q35) "$qemu" -M "$kind" -enable-kvm -cpu host -smp $smp -m $mem \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-kernel "$KERNEL" -initrd "$L2_INITRD" -append "console=ttyS0 $params" \
		</dev/null >"$fifo" 2>&1 & ;;
	esac
	pid=$!
	start=$EPOCHREALTIME
	while IFS= read -r -t 120 line; do
		if [[ $line == *"VMMTEST userspace"* ]]; then
			ms=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
			sleep 1
			if [[ $kind == vmm* ]]; then
				rss=$(rss_outside "$pid" "$guest_kb_vmm")
			else
				rss=$(rss_outside "$pid" "$guest_kb_qemu")
			fi
			break
		fi
	done <"$fifo"
	kill -TERM "$pid" 2>/dev/null
	cat "$fifo" >/dev/null 2>&1 &
	wait "$pid" 2>/dev/null
	rm -f "$fifo"
	echo "$ms $rss"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

declare -A times rss
for kind in vmm vmm-nosb microvm q35; do
	times[$kind]="" rss[$kind]=""
done
for i in $(seq "$runs"); do
	for kind in vmm vmm-nosb microvm q35; do
		read -r ms kb < <(boot_once "$kind")
		echo "run $i $kind: ${ms} ms to userspace, ${kb} kB outside guest RAM"
		times[$kind]+="$ms"$'\n'
		rss[$kind]+="$kb"$'\n'
	done
done

echo
echo "BENCH boot to first userspace line, L2 guest (-c $smp, -m ${mem}M), $runs runs each, medians:"
for kind in vmm vmm-nosb microvm q35; do
	t=$(printf '%s' "${times[$kind]}" | median)
	r=$(printf '%s' "${rss[$kind]}" | median)
	eval "med_${kind//-/_}=$t rss_${kind//-/_}=$r"
	printf 'BENCH %-8s %6d ms   VMM memory outside guest RAM %6d kB\n' "$kind" "$t" "$r"
done
awk -v v="$med_vmm" -v m="$med_microvm" -v q="$med_q35" -v n="$med_vmm_nosb" 'BEGIN {
	printf "BENCH ratio vmm/qemu-microvm %.2f, vmm/qemu-q35 %.2f\n", v / m, v / q
	printf "BENCH sandbox cost: boot with/without the seccomp filters %.3f\n", v / n }'
