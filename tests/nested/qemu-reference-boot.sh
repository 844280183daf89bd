#!/bin/bash
# tests/nested/qemu-reference-boot.sh [KERNEL [L2_INITRD]]
#
# Runs inside L1 (via run-in-l1.sh). Boots the L2 test guest with QEMU on
# L1's real /dev/kvm, as a reference for what our VMM must achieve, and
# checks that it reached userspace with the expected CPU count and memory
# and powered off. Prints the guest console and, last, one line:
#   REF-BOOT ok=<0|1> seconds=<wall time> machine=<m> smp=<n> mem=<MiB>
# (the benchmark parses it). Exit status 0 on success, 1 otherwise.
#
# Arguments / environment:
#   KERNEL, L2_INITRD   images (args take precedence; default: ask
#                       guest-images/build.sh, which finds them cached)
#   REF_MACHINE=microvm microvm or q35
#   REF_SMP=2  REF_MEM=256  REF_TIMEOUT=300 (seconds)
#   REF_ACCEL=kvm       kvm, or tcg to try the script outside L1
#   REF_APPEND=...      extra guest kernel arguments
#   REF_QEMU=qemu-system-x86_64
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -lt 1 ] || KERNEL=$1
[ $# -lt 2 ] || L2_INITRD=$2
if [ -z "${KERNEL:-}" ] || [ -z "${L2_INITRD:-}" ]; then
	eval "$("$here/../../guest-images/build.sh" --print)" || exit 1
fi

for f in "${KERNEL:-}" "${L2_INITRD:-}"; do
	[ -f "$f" ] || { echo "ref: no such image: '$f'"; exit 1; }
done

machine=${REF_MACHINE:-microvm}
smp=${REF_SMP:-2}
mem=${REF_MEM:-256}
accel=${REF_ACCEL:-kvm}
limit=${REF_TIMEOUT:-300}

# panic=-1 + -no-reboot: a guest panic ends QEMU instead of hanging.
append="console=ttyS0 panic=-1 quiet vmmtest.action=poweroff ${REF_APPEND:-}"
out=$(mktemp "${TMPDIR:-/tmp}/ref-boot.XXXXXX")
trap 'rm -f "$out"' EXIT

t0=$(date +%s.%N)
# -serial stdio with stdin from /dev/null: no terminal needed; tee streams
# the console to our stdout (L1's console) and keeps a copy to check.
timeout "$limit" "${REF_QEMU:-qemu-system-x86_64}" \
	-accel "$accel" -M "$machine" -cpu max -smp "$smp" -m "$mem" \
	-nodefaults -no-user-config -no-reboot -display none -serial stdio \
	-kernel "$KERNEL" -initrd "$L2_INITRD" -append "$append" \
	</dev/null 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')

ok=1
tr -d '\r' < "$out" > "$out.c" && mv "$out.c" "$out"
grep -q '^VMMTEST userspace$' "$out" || { echo "ref: no 'VMMTEST userspace'"; ok=0; }
grep -q "^VMMTEST nproc=$smp\$" "$out" || { echo "ref: no 'VMMTEST nproc=$smp'"; ok=0; }
grep -q '^VMMTEST memtotal_kb=[0-9]\+$' "$out" || { echo "ref: no memtotal line"; ok=0; }
[ "$rc" = 0 ] || { echo "ref: QEMU exit status $rc (124 = timeout ${limit}s)"; ok=0; }

echo "REF-BOOT ok=$ok seconds=$secs machine=$machine smp=$smp mem=$mem"
[ "$ok" = 1 ]
