#!/bin/bash
# guest-images/build-arm64.sh [--print] [--force]
#
# The arm64 counterpart of build.sh: builds (or finds in the cache) the
# images the arm64 nested tests boot, from Debian arm64 packages fetched on
# this amd64 machine with a private apt state (arm64/apt.sh):
#   KERNEL_ARM64     Debian 6.12 arm64 kernel (the arm64 Image, as Debian's
#                    /boot/vmlinuz-*), the L2 guest kernel
#   L1_KERNEL_ARM64  the L1 host's kernel: the same one, or another flavour
#                    (VMM_L1_KERNEL_META_ARM64=linux-image-6.12-arm64-16k:
#                    a host with 16 KiB pages)
#   L1_INITRD_ARM64  initramfs of the arm64 L1 host (see arm64/l1/init),
#                    with the L1 kernel's modules
#   L2_INITRD_ARM64  initramfs of the arm64 L2 test guest: the same /init
#                    and module list as the x86 one (l2/init, l2/modules)
#                    plus the tools (tools/*.c, and tools/*/ one program
#                    a folder) cross-compiled statically for aarch64
# and prints them as shell-sourceable lines on stdout:
#   eval "$(guest-images/build-arm64.sh --print)"
#
# Shares lib/kernel.sh and lib/mkinitramfs.sh with build.sh, unchanged; the
# x86 images and their cache keys do not depend on anything arm64.
#
# Cache: ${VMM_CACHE:-$HOME/.cache/vmm}/, keyed by inputs like build.sh:
#   apt-arm64/                       private arm64 apt lists (refreshed when
#                                    missing or older than 7 days)
#   images/kernel-<package>_<version>/      e.g. linux-image-6.12.NN+deb12-arm64
#   images/busybox-arm64_<version>/busybox  arm64 busybox-static
#   images/l1-arm64-<hash>/, images/l2-arm64-<hash>/
#                                    hash of: kernel package+version, both
#                                    busybox versions, this script, lib/*.sh,
#                                    arm64/apt.sh, the init, the module list
#                                    (l2: and tools/*.c, tools/*/)
#
# Options:
#   --print   print only the KERNEL_ARM64=/L1_INITRD_ARM64=/L2_INITRD_ARM64=
#             lines (progress messages still go to stderr)
#   --force   rebuild the initramfs images even if cached
# Environment:
#   VMM_CACHE               cache root (default ~/.cache/vmm)
#   VMM_KERNEL_META_ARM64   kernel meta-package (default linux-image-6.12-arm64)
#   VMM_L1_KERNEL_META_ARM64  the L1 host's kernel meta-package (default: the same)
#   VMM_L1_KERNEL_ARM64     iommufd: the L1 host boots the kernel that
#                           build-host-kernel.sh arm64-cross builds (iommufd,
#                           the VFIO cdev, everything built in, so
#                           arm64/l1/modules all resolve to built-ins);
#                           built first if not cached (~12 min);
#                           swmsi: the same from linux-source-7.3 with the
#                           iommufd sw-msi patches (build-host-kernel.sh
#                           --swmsi; status 3 when the patches are missing)
#   CROSS_CC                static cross compiler (default aarch64-linux-gnu-gcc)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VMM_CACHE:-$HOME/.cache/vmm}/images
meta=${VMM_KERNEL_META_ARM64:-linux-image-6.12-arm64}
l1_meta=${VMM_L1_KERNEL_META_ARM64:-$meta}
cross_cc=${CROSS_CC:-aarch64-linux-gnu-gcc}
print_only=0 force=0
for a in "$@"; do
	case $a in
	--print) print_only=1 ;;
	--force) force=1 ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "build-arm64.sh: unknown option $a" >&2; exit 2 ;;
	esac
done

log() { echo "build-arm64.sh: $*" >&2; }

# The self-built L1 kernel first, before the shared lock (it takes minutes).
case ${VMM_L1_KERNEL_ARM64:-} in
'') l1_host= ;;
iommufd)
	l1_host=$("$here/build-host-kernel.sh" arm64-cross --print) || exit 1
	eval "$l1_host" ;;
swmsi)
	# 3: the patches are not on this machine (said in one line): the caller skips.
	l1_host=$("$here/build-host-kernel.sh" arm64-cross --swmsi --print) || exit $?
	eval "$l1_host" ;;
*) log "VMM_L1_KERNEL_ARM64=$VMM_L1_KERNEL_ARM64: only 'iommufd', 'swmsi' (or empty) are known"; exit 2 ;;
esac

# shellcheck source=arm64/apt.sh disable=SC1091
. "$here/arm64/apt.sh"
# lib/kernel.sh calls plain apt-get/apt-cache: inside this script those
# names mean the arm64 ones (functions win over $PATH, also in subshells).
apt-get() { arm64_apt_get "$@"; }
apt-cache() { arm64_apt_cache "$@"; }
# shellcheck source=lib/kernel.sh disable=SC1091
. "$here/lib/kernel.sh"

mkdir -p "$cache"
# Same lock as build.sh: one builder at a time per cache.
exec 9>"$cache/.lock"
flock 9

arm64_apt_init
arm64_apt_update 7 || exit 1

# --- inputs ----------------------------------------------------------------
read -r kpkg kversion < <(kernel_resolve "$meta") || exit 1
read -r l1_kpkg l1_kversion < <(kernel_resolve "$l1_meta") || exit 1
bb_version=$(arm64_candidate busybox-static)
[ -n "$bb_version" ] || { log "no arm64 busybox-static in the arm64 lists"; exit 1; }
# mkinitramfs.sh makes the applet symlinks by running busybox --list-full,
# which the arm64 binary cannot do here: it runs the host's static busybox
# (same Debian source and config, so the same applets), and the arm64
# binary replaces it in the archive afterwards.
host_bb=/bin/busybox
host_bb_version=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null) || {
	log "busybox-static is not installed (run scripts/install-deps.sh)"
	exit 1
}
[ "${host_bb_version%+b*}" = "${bb_version%+b*}" ] ||
	log "warning: host busybox $host_bb_version != arm64 $bb_version; applet links may differ"
command -v "$cross_cc" >/dev/null || {
	log "$cross_cc not found (run scripts/install-deps.sh)"
	exit 1
}

# fetch_retry CMD...: a download may fail because the mirror dropped the
# version our (up to 7 days old) lists name: refresh the lists once, retry.
fetch_retry() {
	"$@" && return 0
	log "download failed; refreshing the arm64 lists and retrying"
	arm64_apt_get update -q >/dev/null || return 1
	"$@"
}

# --- kernels -----------------------------------------------------------------
# kernel_dir PACKAGE VERSION: the unpacked package in the cache, fetched once.
kernel_dir() {
	local dir="$cache/kernel-${1}_${2}"
	if [ ! -f "$dir/kver" ]; then
		log "fetching $1 $2 (arm64)"
		fetch_retry kernel_fetch "$1" "$2" "$dir" || exit 1
	fi
	echo "$dir"
}
kdir=$(kernel_dir "$kpkg" "$kversion") || exit 1
kver=$(cat "$kdir/kver")
kernel="$kdir/root/boot/vmlinuz-$kver"
if [ -n "$l1_host" ]; then
	l1_kdir=$HOST_KERNEL_DIR
	l1_kpkg=host-kernel l1_kversion=$(basename "$l1_kdir")
else
	l1_kdir=$(kernel_dir "$l1_kpkg" "$l1_kversion") || exit 1
fi
l1_kver=$(cat "$l1_kdir/kver")
l1_kernel="$l1_kdir/root/boot/vmlinuz-$l1_kver"

# --- busybox -----------------------------------------------------------------
bbdir="$cache/busybox-arm64_$bb_version"
bb_fetch() {
	local tmp="$bbdir.tmp"
	rm -rf "$tmp"
	mkdir -p "$tmp/deb"
	(cd "$tmp/deb" && arm64_apt_get download -q "busybox-static=$bb_version" >/dev/null) || return 1
	dpkg -x "$tmp"/deb/busybox-static_*.deb "$tmp/root"
	cp "$tmp/root/bin/busybox" "$tmp/busybox"
	rm -rf "$tmp/deb" "$tmp/root"
	rm -rf "$bbdir"
	mv "$tmp" "$bbdir"
}
if [ ! -f "$bbdir/busybox" ]; then
	log "fetching busybox-static $bb_version (arm64)"
	fetch_retry bb_fetch || { log "cannot fetch arm64 busybox-static"; exit 1; }
fi

# --- initramfs images --------------------------------------------------------
# The arm64 L1 has its own /init (the x86 one chroots into the outer root,
# whose x86 binaries cannot run on arm64); L2 reuses the x86 guest's.
init_of() { case $1 in l1) echo "$here/arm64/l1/init" ;; l2) echo "$here/l2/init" ;; esac; }
# The kernel whose modules an image carries: L1's own, or the guest's.
kdir_of() { case $1 in l1) echo "$l1_kdir" ;; l2) echo "$kdir" ;; esac; }
kver_of() { case $1 in l1) echo "$l1_kver" ;; l2) echo "$kver" ;; esac; }
modules_of() { case $1 in l1) echo "$here/arm64/l1/modules" ;; l2) echo "$here/l2/modules" ;; esac; }

image_key() {
	{
		echo "arch=arm64"
		if [ "$1" = l1 ]; then echo "kernel=$l1_kpkg $l1_kversion"; else echo "kernel=$kpkg $kversion"; fi
		echo "busybox=$bb_version host-busybox=$host_bb_version"
		cat "$here/build-arm64.sh" "$here/arm64/apt.sh" "$here"/lib/*.sh \
			"$(init_of "$1")" "$(modules_of "$1")"
		[ "$1" != l2 ] || cat "$here"/tools/*.c "$here"/tools/*/*.[ch]
	} | sha256sum | cut -c1-16
}

# swap_busybox CPIO_GZ: replace /bin/busybox in the archive by the arm64
# one, repacked exactly as mkinitramfs.sh packs (sorted, owner root).
swap_busybox() {
	local out=$1 stage
	stage=$(mktemp -d "${TMPDIR:-/tmp}/initramfs-arm64.XXXXXX")
	(cd "$stage" && gzip -dc "$out" | cpio -id --quiet --no-absolute-filenames) || {
		rm -rf "$stage"
		return 1
	}
	install -m 0755 "$bbdir/busybox" "$stage/bin/busybox"
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -9n > "$out.tmp"
	rm -rf "$stage"
	mv "$out.tmp" "$out"
}

image() {
	local name=$1 dir
	dir="$cache/$name-arm64-$(image_key "$name")"
	if [ "$force" = 1 ] || [ ! -f "$dir/$name.cpio.gz" ]; then
		log "building $name.cpio.gz (arm64) for $(kver_of "$name")"
		mkdir -p "$dir"
		local extra=()
		if [ "$name" = l2 ]; then
			# A tool is one file, or a folder of them (tools/NAME/*.c: NAME).
			mkdir -p "$dir/tools"
			local tool srcs
			for src in "$here"/tools/*.c "$here"/tools/*/; do
				tool=$(basename "$src" .c) srcs=("$src")
				# The hostile guest drives x86 port I/O (sys/io.h);
				# no arm64 suite runs it.
				[ "$tool" != hostile ] || continue
				[ ! -d "$src" ] || srcs=("$src"*.c)
				"$cross_cc" -static -O2 -Wall -Wextra -pthread \
					-o "$dir/tools/$tool" "${srcs[@]}"
				extra+=("$dir/tools/$tool")
			done
		fi
		rm -f "$dir/$name.cpio.gz"
		BUSYBOX=$host_bb EXTRA_BINS="${extra[*]}" "$here/lib/mkinitramfs.sh" \
			"$(kdir_of "$name")/root" "$(kver_of "$name")" "$(modules_of "$name")" "$(init_of "$name")" \
			"$dir/$name.stage.cpio.gz"
		swap_busybox "$dir/$name.stage.cpio.gz"
		mv "$dir/$name.stage.cpio.gz" "$dir/$name.cpio.gz"
	fi
	echo "$dir/$name.cpio.gz"
}

l1=$(image l1)
l2=$(image l2)

if [ "$print_only" = 0 ]; then
	log "kernel $kpkg $kversion, busybox $bb_version (arm64)"
	log "sizes: kernel $(du -h "$kernel" | cut -f1), l1 $(du -h "$l1" | cut -f1), l2 $(du -h "$l2" | cut -f1)"
fi
printf 'KERNEL_ARM64=%q\nL1_KERNEL_ARM64=%q\nL1_INITRD_ARM64=%q\nL2_INITRD_ARM64=%q\n' \
	"$kernel" "$l1_kernel" "$l1" "$l2"
