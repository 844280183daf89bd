#!/bin/bash
# guest-images/build.sh [--print] [--force]
#
# Builds (or finds in the cache) the images the nested tests boot:
#   KERNEL     Debian 6.12 amd64 vmlinuz (the L2 guest kernel, and the L1
#              host's unless VMM_L1_KERNEL says otherwise)
#   L1_KERNEL  the L1 host's kernel
#   L1_INITRD  initramfs of the L1 host (see l1/init) with L1_KERNEL's modules
#   L2_INITRD  initramfs of the L2 test guest (see l2/init)
# and prints them as shell-sourceable lines on stdout:
#   eval "$(guest-images/build.sh --print)"
#
# Cache: ${VMM_CACHE:-$HOME/.cache/vmm}/images/. Each artefact lives in a
# directory named after its inputs, so it is rebuilt only when they change:
#   kernel-<package>_<version>/   the resolved concrete kernel package
#   l1-<hash>/, l2-<hash>/        hash of: kernel package+version (for l1:
#                                 the L1 kernel's), busybox version, and the
#                                 files that produce them (this script,
#                                 lib/*, the init, the module list; l2:
#                                 the tools, tools/*.c and tools/*/)
# Old entries are left in place (cheap, and another checkout may use them);
# delete the directory to reclaim space.
#
# Options:
#   --print   print only the KERNEL=/L1_INITRD=/L2_INITRD= lines (progress
#             messages of a build, if one is needed, still go to stderr)
#   --force   rebuild the initramfs images even if cached
# Environment:
#   VMM_CACHE         cache root (default ~/.cache/vmm)
#   VMM_KERNEL_META   kernel meta-package (default linux-image-6.12-amd64)
#   VMM_L1_KERNEL     iommufd: the L1 host boots the kernel that
#                     build-host-kernel.sh x86_64 builds (iommufd, the VFIO
#                     cdev, everything built in: l1/modules then all resolve
#                     to built-ins and the L1 initramfs has nothing to
#                     insmod); built first if not cached (~11 min). Default:
#                     the Debian kernel, for L1 and L2 alike.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VMM_CACHE:-$HOME/.cache/vmm}/images
meta=${VMM_KERNEL_META:-linux-image-6.12-amd64}
print_only=0 force=0
for a in "$@"; do
	case $a in
	--print) print_only=1 ;;
	--force) force=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "build.sh: unknown option $a" >&2; exit 2 ;;
	esac
done

# shellcheck source=lib/kernel.sh disable=SC1091
. "$here/lib/kernel.sh"

log() { echo "build.sh: $*" >&2; }

# The self-built L1 kernel first, outside our lock: it takes minutes, and
# builders of the other images need not wait for it.
case ${VMM_L1_KERNEL:-} in
'') l1_host= ;;
iommufd)
	l1_host=$("$here/build-host-kernel.sh" x86_64 --print) || exit 1
	eval "$l1_host" ;;
*) log "VMM_L1_KERNEL=$VMM_L1_KERNEL: only 'iommufd' (or empty) is known"; exit 2 ;;
esac

mkdir -p "$cache"
# One builder at a time per cache (parallel test jobs may all call us);
# the others wait and then find everything cached.
exec 9>"$cache/.lock"
flock 9

# --- inputs ----------------------------------------------------------------
read -r kpkg kversion < <(kernel_resolve "$meta") || exit 1
bb_version=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null) || {
	log "busybox-static is not installed (run scripts/install-deps.sh)"
	exit 1
}

# --- kernel ------------------------------------------------------------------
kdir="$cache/kernel-${kpkg}_${kversion}"
if [ ! -f "$kdir/kver" ]; then
	log "fetching $kpkg $kversion"
	kernel_fetch "$kpkg" "$kversion" "$kdir"
fi
kver=$(cat "$kdir/kver")
kernel="$kdir/root/boot/vmlinuz-$kver"
# The L1 host's kernel: the same, or the one built above.
if [ -n "$l1_host" ]; then
	l1_kdir=$HOST_KERNEL_DIR l1_kernel=$HOST_KERNEL
	l1_kid="host-kernel $(basename "$l1_kdir")"
else
	l1_kdir=$kdir l1_kernel=$kernel l1_kid="$kpkg $kversion"
fi
l1_kver=$(cat "$l1_kdir/kver")

# --- initramfs images --------------------------------------------------------
# image_key NAME: hash of everything that determines l{1,2}.cpio.gz.
image_key() {
	{
		if [ "$1" = l1 ]; then echo "kernel=$l1_kid"; else echo "kernel=$kpkg $kversion"; fi
		echo "busybox=$bb_version"
		cat "$here/build.sh" "$here"/lib/*.sh "$here/$1/init" "$here/$1/modules"
		[ "$1" != l2 ] || cat "$here"/tools/*.c "$here"/tools/*/*.[ch]
	} | sha256sum | cut -c1-16
}

# image NAME: path of NAME.cpio.gz, built if missing.
image() {
	local name=$1 dir
	dir="$cache/$name-$(image_key "$name")"
	if [ "$force" = 1 ] || [ ! -f "$dir/$name.cpio.gz" ]; then
		local image_kdir=$kdir image_kver=$kver
		[ "$name" != l1 ] || image_kdir=$l1_kdir image_kver=$l1_kver
		log "building $name.cpio.gz for $image_kver"
		mkdir -p "$dir"
		local extra=()
		if [ "$name" = l2 ]; then
			# The guest's own test tools, static: the initramfs has no libc.
			# A tool is one file, or a folder of them (tools/NAME/*.c: NAME).
			mkdir -p "$dir/tools"
			local tool srcs
			for src in "$here"/tools/*.c "$here"/tools/*/; do
				tool=$(basename "$src" .c) srcs=("$src")
				[ ! -d "$src" ] || srcs=("$src"*.c)
				gcc -static -O2 -Wall -Wextra -pthread -o "$dir/tools/$tool" "${srcs[@]}"
				extra+=("$dir/tools/$tool")
			done
		fi
		EXTRA_BINS="${extra[*]}" "$here/lib/mkinitramfs.sh" "$image_kdir/root" "$image_kver" \
			"$here/$name/modules" "$here/$name/init" "$dir/$name.cpio.gz"
	fi
	echo "$dir/$name.cpio.gz"
}

l1=$(image l1)
l2=$(image l2)

if [ "$print_only" = 0 ]; then
	log "kernel $kpkg $kversion, L1 kernel $l1_kid, busybox $bb_version"
	log "sizes: vmlinuz $(du -h "$kernel" | cut -f1), l1 $(du -h "$l1" | cut -f1), l2 $(du -h "$l2" | cut -f1)"
fi
# %q: safe to eval even if $HOME has odd characters.
printf 'KERNEL=%q\nL1_KERNEL=%q\nL1_INITRD=%q\nL2_INITRD=%q\n' "$kernel" "$l1_kernel" "$l1" "$l2"
