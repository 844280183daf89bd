#!/bin/bash
# Bad input on the command line and in image files: each gives one clear
# line naming the problem, exit status 2 (usage) or 1, and never a crash.
# Runs on the build host; it never boots a guest.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/lib.sh"
vmm=${VMM:-$root/build/vmm}
eval "$("$root/guest-images/build.sh" --print)" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME STATUS PATTERN -- ARGS...: runs vmm ARGS, checks status and stderr.
# It must finish within $limit seconds (60 unless set): a hang fails the check.
expect() {
	local name=$1 want=$2 pattern=$3
	shift 4
	timeout "${limit:-60}" "$vmm" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$name" "exit $rc, expected $want; stderr: $(head -c 300 "$tmp/err")"
	elif ! grep -q -- "$pattern" "$tmp/err"; then
		fail "$name" "stderr lacks '$pattern': $(head -c 300 "$tmp/err")"
	elif [ "$(grep -c . "$tmp/err")" -gt 2 ]; then
		fail "$name" "more than a clear line or two: $(cat "$tmp/err")"
	else
		pass "$name"
	fi
}

head -c 3000000 "$KERNEL" > "$tmp/truncated"
head -c 100 "$KERNEL" > "$tmp/tiny"
head -c 65536 /dev/zero | tr '\0' 'a' > "$tmp/text"
truncate -s 200M "$tmp/big-initrd"

expect "no command is a usage error" 2 "no command" --
expect "unknown command is a usage error" 2 "unknown command" -- frobnicate
expect "unknown option is a usage error" 2 "unknown option '--bogus'" -- run -k "$KERNEL" --bogus
expect "an unknown short option in a cluster is named" 2 "unknown option '-z'" -- plan -zd
expect "missing option value is a usage error" 2 "needs a value" -- run -k
expect "run without a kernel is a usage error" 2 "no kernel given" -- run
expect "-c 0 is a usage error" 2 "bad CPU count" -- run -k "$KERNEL" -c 0
expect "-c above the limit is a usage error" 2 "bad CPU count" -- run -k "$KERNEL" -c 100000
expect "-m garbage is a usage error" 2 "bad memory size" -- run -k "$KERNEL" -m lots
expect "an unknown --vfio-backend is a usage error" 2 "bad --vfio-backend 'type1'; use auto, iommufd or legacy" -- run -k "$KERNEL" --vfio-backend type1
expect "garbage --msi-window is a usage error" 2 "bad --msi-window 'anywhere'; use auto, host or ADDR" -- plan --msi-window anywhere
expect "a misaligned --msi-window is refused" 1 "start and size must be multiples of 1 MiB" -- plan --arch arm64 --msi-window 0x30080000
expect "an --msi-window inside guest RAM is refused, naming it" 1 "overlaps guest RAM 0x0-0x3fffffff" -- plan --arch arm64 -m 1G --msi-window 0x8000000
expect "missing kernel file" 1 "cannot open kernel" -- run -k "$tmp/nonexistent"
expect "a text file is not a bzImage" 1 "not a Linux bzImage" -- run -k "$tmp/text"
expect "a 100-byte file is too small" 1 "too small" -- run -k "$tmp/tiny"
expect "a truncated bzImage is refused" 1 "truncated" -- run -k "$tmp/truncated"
expect "a directory is not a kernel" 1 "not a regular file" -- run -k "$tmp"
expect "missing initrd file" 1 "cannot open initrd" -- run -k "$KERNEL" -i "$tmp/nonexistent"
# A FIFO blocked open() forever, with guest RAM allocated and SIGTERM blocked.
mkfifo "$tmp/fifo"
limit=5 expect "a FIFO as the kernel is refused at once" 1 "not a regular file" -- run -k "$tmp/fifo"
limit=5 expect "a FIFO as the initrd is refused at once" 1 "not a regular file" -- run -k "$KERNEL" -i "$tmp/fifo"
limit=5 expect "a FIFO as --reserved is refused at once" 1 "not a regular file" -- plan --reserved "$tmp/fifo"
expect "initrd larger than guest RAM" 1 "does not fit" -- run -k "$KERNEL" -i "$tmp/big-initrd" -m 128M
expect "-m too small for the kernel" 1 "cannot hold the kernel" -- run -k "$KERNEL" -m 16M
expect "-m beyond host memory" 1 "more than this host's memory" -- run -k "$KERNEL" -m 20T
expect "-m beyond the address space" 1 "cannot place" -- plan -m 300T

if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	# The kernel is read before /dev/kvm is opened: give nobody a readable copy.
	cp "$vmm" "$tmp/vmm" && cp "$KERNEL" "$tmp/kernel" && chmod 755 "$tmp" "$tmp/vmm"
	chmod 644 "$tmp/kernel"
	as_nobody="setpriv --reuid=65534 --regid=65534 --clear-groups '$tmp/vmm' run -k '$tmp/kernel'"
	if [ -e /dev/kvm ]; then
		chmod 600 /dev/kvm 2>/dev/null
		sh -c "$as_nobody" </dev/null >/dev/null 2>"$tmp/err"
	else
		# A host without KVM (a guest without nested virtualization): a node
		# of KVM's numbers, root's alone, in a private /dev. The permission
		# check comes before any driver is looked for.
		unshare -m sh -c "mount -t tmpfs none /dev && mknod -m 600 /dev/kvm c 10 232 && exec $as_nobody" \
			</dev/null >/dev/null 2>"$tmp/err"
	fi
	rc=$?
	if [ "$rc" = 1 ] && grep -q "no permission to open /dev/kvm" "$tmp/err"; then
		pass "no permission on /dev/kvm names the fix"
	else
		fail "no permission on /dev/kvm names the fix" "exit $rc: $(cat "$tmp/err")"
	fi
fi
if command -v unshare >/dev/null && [ "$(id -u)" = 0 ]; then
	unshare -m sh -c "mount -t tmpfs none /dev && exec '$vmm' run -k '$KERNEL'" \
		</dev/null >/dev/null 2>"$tmp/err"
	rc=$?
	if [ "$rc" = 1 ] && grep -q "/dev/kvm does not exist" "$tmp/err"; then
		pass "missing /dev/kvm names the fix"
	else
		fail "missing /dev/kvm names the fix" "exit $rc: $(cat "$tmp/err")"
	fi
fi

# The reader of our output goes away: SIGPIPE used to kill vmm (status 141).
"$vmm" --help | head -1 >/dev/null
expect_eq "vmm --help | head -1 exits 0" 0 "${PIPESTATUS[0]}"
# The same without the race: stdout's reader is gone before vmm writes.
closed_stdout() {
	python3 -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)
print(subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.DEVNULL).returncode)' "$@"
}
expect_eq "--help into a closed pipe exits 0, not by SIGPIPE" 0 "$(closed_stdout "$vmm" --help)"
expect_eq "plan into a closed pipe exits 0, not by SIGPIPE" 0 "$(closed_stdout "$vmm" plan -m 1G)"

# plan works without /dev/kvm and prints both formats.
"$vmm" plan -m 2G -c 2 > "$tmp/plan.txt" 2>&1
check "plan prints a table with RAM and the ECAM" grep -q "PCI ECAM" "$tmp/plan.txt"
"$vmm" plan -m 2G --json > "$tmp/plan.json" 2>&1
check "plan --json is valid JSON with regions" python3 -c "import json,sys; d=json.load(open('$tmp/plan.json')); sys.exit(0 if d['regions'] and d['ram_bytes']==2<<30 else 1)"
ram=$(python3 -c "import json; d=json.load(open('$tmp/plan.json')); print(sum(r['size'] for r in d['regions'] if r['type']=='ram'))")
expect_eq "plan places exactly the requested RAM" $((2 << 30)) "$ram"

# --mem-backing: what plan shows, and where RAM above 1 MiB starts.
expect "an unknown --mem-backing is a usage error" 2 "bad --mem-backing 'huge'; use anon, thp, hugetlb" -- plan --mem-backing huge
"$vmm" plan -m 1G --mem-backing hugetlb --json > "$tmp/huge.json" 2>&1
expect_eq "plan --mem-backing hugetlb: 2 MiB pages, RAM above 1 MiB at 2 MiB" "hugetlb 2097152 2097152" \
	"$(python3 -c "import json; d=json.load(open('$tmp/huge.json')); b=d['mem_backing']; print(b['kind'], b['page_size'], [r for r in d['regions'] if r['type']=='ram'][1]['start'])")"
"$vmm" plan -m 1G --mem-backing anon > "$tmp/anon.txt" 2>&1
check "plan --mem-backing anon says 4 KiB pages" grep -q "memory backing: anon (4 KiB pages)" "$tmp/anon.txt"

finish cli-bad-input
