#!/bin/bash
# Inside L1: boot time to the guest's first userspace line, build/vmm
# against QEMU (-M microvm and -M q35, both KVM): wall time from exec, the
# guest's own uptime then, each VMM's memory (RSS outside guest RAM) once
# the guest is up, and the CPU time from exec to the first KVM_RUN
# (build/vmm's -d output; QEMU's from a paused start, qemu_startup_cpu).
# Prints a line per run and, per VMM, the medians
#   BENCH boot kind=vmm wall_ms=N uptime_ms=N rss_kb=N startup_cpu_ms=N
# With VMM_BEFORE (another build of the VMM, e.g. main's), kind "before"
# boots that one too, in the same rounds: a before/after in one L1.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${KERNEL:?}" "${L2_INITRD:?}"
# Every VMM reads the images from L1's own memory, as a host's page cache
# would hold them: over L1's 9p mount each read costs the reader
# milliseconds of CPU that no real host pays.
images=$(mktemp -d)
trap 'rm -rf "$images"' EXIT
cp "$KERNEL" "$images/kernel" && cp "$L2_INITRD" "$images/initrd" &&
	KERNEL=$images/kernel L2_INITRD=$images/initrd
runs=${BENCH_RUNS:-5}
mem=256
smp=2
params="panic=-1 quiet vmmtest.action=hang"
params+=" vmmtest.run=$(printf '%s\n' 'echo "VMMTEST uptime=$(cut -d" " -f1 /proc/uptime)"' | base64 -w0)"
vmm="$root/build/vmm"
qemu=${BENCH_QEMU:-qemu-system-x86_64}

# Sizes (kB) of the guest RAM mappings: RSS in those is the guest's, not the VMM's.
# Each planned bank, or all of RAM when the banks share one mapping (as
# below 4 GiB, where the BIOS area between them is RAM-backed too).
guest_kb_vmm="$("$vmm" plan -m ${mem}M --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(str(r["size"] // 1024) for r in d["regions"] if r["type"] in ("ram", "firmware")))') $((mem * 1024))"
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

# boot_once KIND: prints "<ms to first userspace line> <guest uptime ms>
# <overhead kB> <VMM CPU ms to the first KVM_RUN, 0 for QEMU>".
boot_once() {
	local kind=$1 fifo pid start line ms=0 rss=0 up=0 cpu=0
	fifo=$(mktemp -u) && mkfifo "$fifo"
	case $kind in
	before) "$VMM_BEFORE" run -d -k "$KERNEL" -i "$L2_INITRD" -m ${mem}M -c $smp -p "$params" \
		</dev/null >"$fifo" 2>&1 & ;;
	vmm) "$vmm" run -d -k "$KERNEL" -i "$L2_INITRD" -m ${mem}M -c $smp -p "$params" \
		</dev/null >"$fifo" 2>&1 & ;;
	vmm-nosb) "$vmm" run -d -k "$KERNEL" -i "$L2_INITRD" -m ${mem}M -c $smp -p "$params" \
		--sandbox off </dev/null >"$fifo" 2>&1 & ;;
	microvm|q35) "$qemu" -M "$kind" -enable-kvm -cpu host -smp $smp -m $mem \
		-nodefaults -no-user-config -display none -serial stdio -no-reboot \
		-kernel "$KERNEL" -initrd "$L2_INITRD" -append "console=ttyS0 $params" \
		</dev/null >"$fifo" 2>&1 & ;;
	esac
	pid=$!
	start=$EPOCHREALTIME
	while IFS= read -r -t 120 line; do
		if [[ $line == *"first KVM_RUN after "* ]]; then
			cpu=${line#*first KVM_RUN after }
			cpu=${cpu%% *}
		elif [[ $line == *"VMMTEST userspace"* ]]; then
			ms=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
		elif [[ $line == *"VMMTEST uptime="* ]]; then
			up=$(awk -v u="${line#*VMMTEST uptime=}" 'BEGIN { printf "%d", u * 1000 }')
			sleep 1
			if [[ $kind != microvm && $kind != q35 ]]; then
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
	echo "$ms $up $rss $cpu"
}

# qemu_startup_cpu KIND: QEMU's CPU time (ms, all its threads) from exec
# to ready to run: started paused (-S), its monitor prompt comes once the
# machine is built and the kernel loaded, just before a `cont` would make
# the first KVM_RUN. Read through the process's CPU-time clock, the clock
# build/vmm reads of itself at its first KVM_RUN.
qemu_startup_cpu() {
	python3 - "$qemu" "$1" "$smp" "$mem" "$KERNEL" "$L2_INITRD" "$params" <<'PY'
import subprocess, sys, time
qemu, kind, smp, mem, kernel, initrd, params = sys.argv[1:]
p = subprocess.Popen([qemu, "-M", kind, "-enable-kvm", "-cpu", "host", "-smp", smp, "-m", mem,
                      "-nodefaults", "-no-user-config", "-display", "none", "-serial", "none",
                      "-no-reboot", "-S", "-monitor", "stdio", "-kernel", kernel, "-initrd", initrd,
                      "-append", "console=ttyS0 " + params],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
seen = b""
while b"(qemu)" not in seen:
    byte = p.stdout.read(1)
    if not byte:
        break
    seen += byte
# The clock of a process: clockid ((~pid) << 3) | 2 (CPUCLOCK_SCHED), as clock_getcpuclockid() makes.
ms = time.clock_gettime(((~p.pid) << 3) | 2) * 1e3 if b"(qemu)" in seen else 0
p.stdin.write(b"quit\n")
p.stdin.close()
p.wait()
print("%.1f" % ms)
PY
}

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A times uptimes rss cpus
kinds="vmm vmm-nosb microvm q35${VMM_BEFORE:+ before}"
for i in $(seq "$runs"); do
	for kind in $kinds; do
		read -r ms up kb cpu < <(boot_once "$kind")
		[[ $kind == microvm || $kind == q35 ]] && cpu=$(qemu_startup_cpu "$kind")
		echo "run $i $kind: ${ms} ms to userspace, guest uptime ${up} ms, ${kb} kB outside guest RAM, VMM CPU to first KVM_RUN ${cpu} ms"
		times[$kind]+="$ms"$'\n'
		uptimes[$kind]+="$up"$'\n'
		rss[$kind]+="$kb"$'\n'
		cpus[$kind]+="$cpu"$'\n'
	done
done
for kind in $kinds; do
	printf 'BENCH boot kind=%s wall_ms=%s uptime_ms=%s rss_kb=%s startup_cpu_ms=%s runs=%s\n' "$kind" \
		"$(printf '%s' "${times[$kind]}" | median)" "$(printf '%s' "${uptimes[$kind]}" | median)" \
		"$(printf '%s' "${rss[$kind]}" | median)" "$(printf '%s' "${cpus[$kind]}" | median)" "$runs"
done
