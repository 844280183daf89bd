#!/bin/bash
# guest-images/build-host-kernel.sh ARCH [--swmsi] [--print] [--force]
#
# Builds (or finds in the cache) an L1 test host kernel with iommufd and
# the VFIO device cdev, which no Debian kernel enables: Debian's
# linux-source-6.12 configured from the architecture's defconfig plus the
# fragments in kernel/ (iommufd.config, then x86_64.config or arm64.config),
# with everything the nested harness needs built in, so the L1 initramfs
# has nothing to insmod.
#   ARCH   x86_64        bzImage, native gcc
#          arm64-cross   arm64 Image, aarch64-linux-gnu-gcc (arm64 also works)
#
# Prints shell-sourceable lines on stdout:
#   HOST_KERNEL=.../root/boot/vmlinuz-KVER   the image to boot
#   HOST_KERNEL_DIR=...                      laid out like an unpacked
#                                            Debian kernel (root/boot,
#                                            root/lib/modules/KVER with
#                                            modules.builtin, kver), so
#                                            lib/mkinitramfs.sh takes it
#
# With --swmsi: Debian's linux-source-7.3 (trixie-backports) with the
# iommufd software-MSI-window series applied in order (IOMMU_OPTION_SW_MSI_
# START/SIZE: the VMM chooses where the kernel maps the ITS doorbell). The
# patches come from $VMM_KERNEL_PATCHES, else ../shared/kernel-patches/
# iommufd-sw-msi found beside this checkout, beside the git common dir (a
# worktree's main checkout) or beside the path of the origin URL. Without
# them: one line saying what is needed, exit 3 (the suites then skip). The
# source tarball is kept in the cache (kernel-source/); when missing it is
# fetched with apt-get download through a private apt state, so the
# machine's sources stay untouched.
#
# Cache: ${VMM_CACHE:-$HOME/.cache/vmm}/images/host-kernel-ARCH-<hash>/
# (host-kernel-ARCH-swmsi-<hash>/ with --swmsi), hash of: the architecture,
# the source package version, this script, the fragments (and the patches). Only the results are kept (the build tree, ~2
# GiB, is removed). Measured on 2 idle cores: x86_64 ~11 min, arm64 ~12 min;
# make runs under `nice -n 19` so interactive and nested work keep priority.
#
# Options:
#   --swmsi   the 7.3 kernel with the software-MSI-window patches
#   --print   only the HOST_KERNEL= lines on stdout (build progress, if a
#             build is needed, goes to stderr)
#   --force   rebuild even if cached
# Environment:
#   VMM_CACHE       cache root (default ~/.cache/vmm)
#   VMM_KERNEL_PATCHES  directory of the --swmsi patches (*.patch, applied
#                   in name order)
#   KERNEL_JOBS     make -j (default: the number of CPUs)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${VMM_CACHE:-$HOME/.cache/vmm}/images
source_pkg=linux-source-6.12
tarball=/usr/src/$source_pkg.tar.xz

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
log() { echo "build-host-kernel.sh: $*" >&2; }

arch='' print_only=0 force=0 swmsi=0
for a in "$@"; do
	case $a in
	--swmsi) swmsi=1 ;;
	--print) print_only=1 ;;
	--force) force=1 ;;
	-h | --help) usage ;;
	-*) log "unknown option $a"; exit 2 ;;
	*) [ -z "$arch" ] || usage; arch=$a ;;
	esac
done

case $arch in
x86_64)
	karch=x86_64 cross='' target=bzImage image=arch/x86/boot/bzImage
	arch_fragment=$here/kernel/x86_64.config ;;
arm64 | arm64-cross)
	karch=arm64 cross=aarch64-linux-gnu- target=Image image=arch/arm64/boot/Image
	arch_fragment=$here/kernel/arm64.config ;;
*) usage ;;
esac
fragments=("$here/kernel/iommufd.config" "$arch_fragment")

# The patch directory for --swmsi: the first candidate that has patches.
find_swmsi_patches() {
	local rel=shared/kernel-patches/iommufd-sw-msi candidates=() common origin d
	if [ -n "${VMM_KERNEL_PATCHES:-}" ]; then
		candidates=("$VMM_KERNEL_PATCHES")
	else
		candidates=("$here/../../$rel")
		common=$(git -C "$here" rev-parse --path-format=absolute --git-common-dir 2>/dev/null) &&
			candidates+=("$(dirname "$common")/../$rel")
		origin=$(git -C "$here" remote get-url origin 2>/dev/null) && origin=${origin#file://} &&
			[ "${origin#/}" != "$origin" ] && candidates+=("$origin/../$rel")
	fi
	for d in "${candidates[@]}"; do
		if compgen -G "$d/*.patch" >/dev/null; then
			(cd "$d" && pwd)
			return 0
		fi
	done
	return 1
}

# linux-source-7.3 from trixie-backports, kept as a tarball in the cache.
# Prints the tarball's path; its name carries the package version.
fetch_source_73() {
	local dir=$cache/kernel-source found apt deb
	mkdir -p "$dir"
	found=$(ls "$dir"/linux-source-7.3-*.tar.xz 2>/dev/null | sort -V | tail -1)
	if [ -z "$found" ]; then
		apt=$dir/apt
		mkdir -p "$apt/etc" "$apt/lists/partial" "$apt/cache/archives/partial"
		: > "$apt/status"
		echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main' \
			> "$apt/etc/sources.list"
		local opts=(-o Dir::State="$apt" -o Dir::State::status="$apt/status" -o Dir::Cache="$apt/cache"
			-o Dir::Etc::SourceList="$apt/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null)
		log "fetching linux-source-7.3 from trixie-backports into $dir"
		apt-get "${opts[@]}" update >&2 &&
			(cd "$apt/cache/archives" && apt-get "${opts[@]}" download linux-source-7.3 >&2) || {
			log "could not download linux-source-7.3 (trixie-backports)"
			exit 1
		}
		deb=$(ls "$apt/cache/archives"/linux-source-7.3_*.deb | tail -1)
		local version
		version=$(dpkg-deb -f "$deb" Version)
		dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-7.3.tar.xz \
			> "$dir/linux-source-7.3-$version.tar.xz.part"
		mv "$dir/linux-source-7.3-$version.tar.xz.part" "$dir/linux-source-7.3-$version.tar.xz"
		rm -f "$deb"
		found=$dir/linux-source-7.3-$version.tar.xz
	fi
	echo "$found"
}

patches=()
if [ "$swmsi" = 1 ]; then
	patch_dir=$(find_swmsi_patches) || {
		log "--swmsi needs the iommufd sw-msi patches: set VMM_KERNEL_PATCHES or put them in ../shared/kernel-patches/iommufd-sw-msi beside the checkout"
		exit 3
	}
	patches=("$patch_dir"/*.patch)
	source_pkg=linux-source-7.3
	tarball=$(fetch_source_73)
	source_version=${tarball##*/linux-source-7.3-}
	source_version=${source_version%.tar.xz}
else
	source_version=$(dpkg-query -W -f='${Version}' "$source_pkg" 2>/dev/null) && [ -f "$tarball" ] || {
		log "$source_pkg is not installed (run scripts/install-deps.sh)"
		exit 1
	}
fi
if [ -n "$cross" ] && ! command -v "${cross}gcc" >/dev/null; then
	log "${cross}gcc not found (run scripts/install-deps.sh)"
	exit 1
fi

key=$({
	echo "arch=$karch source=$source_pkg $source_version"
	cat "$0" "${fragments[@]}" ${patches[@]+"${patches[@]}"}
} | sha256sum | cut -c1-16)
flavour=$karch
[ "$swmsi" = 0 ] || flavour=$karch-swmsi
dir="$cache/host-kernel-$flavour-$key"

emit() {
	printf 'HOST_KERNEL=%q\nHOST_KERNEL_DIR=%q\n' "$dir/root/boot/vmlinuz-$(cat "$dir/kver")" "$dir"
}

mkdir -p "$cache"
# One build per architecture at a time; a second caller waits, then finds it cached.
exec 8>"$cache/.host-kernel-$flavour.lock"
flock 8
if [ "$force" = 0 ] && [ -f "$dir/kver" ]; then
	emit
	exit 0
fi

work="$dir.tmp"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
log "building the $flavour iommufd host kernel from $source_pkg $source_version in $work (about 11-14 min on 2 idle cores)"
tar -xJf "$tarball" -C "$work"
src="$work/$source_pkg"
checked_fragments=("$here/kernel/iommufd.config" "$arch_fragment")
if [ "$swmsi" = 1 ]; then
	for p in "${patches[@]}"; do
		patch -p1 -s -d "$src" < "$p" || { log "$(basename "$p") does not apply to $source_pkg $source_version"; exit 1; }
	done
	# 7.3 dropped CONFIG_VFIO_PCI_MMAP (BAR mmap is always there).
	grep -v '^CONFIG_VFIO_PCI_MMAP=' "$here/kernel/iommufd.config" > "$work/iommufd-7.3.config"
	checked_fragments=("$work/iommufd-7.3.config" "$arch_fragment")
	fragments=("${checked_fragments[@]}")
fi
kmake() { nice -n 19 make -s --no-print-directory -C "$src" ARCH="$karch" CROSS_COMPILE="$cross" "$@"; }

if [ "$karch" = x86_64 ]; then
	kmake x86_64_defconfig
	kmake kvm_guest.config
else
	kmake defconfig
	# QEMU virt needs none of the SoC platforms; dropping them halves the build.
	sed -n 's/^config \(ARCH_[A-Z0-9_]*\).*/# CONFIG_\1 is not set/p' \
		"$src/arch/arm64/Kconfig.platforms" > "$work/no-platforms.config"
	fragments=("$work/no-platforms.config" "${fragments[@]}")
fi
(cd "$src" && ARCH=$karch CROSS_COMPILE=$cross scripts/kconfig/merge_config.sh -m -O "$src" \
	"$src/.config" "${fragments[@]}" >"$work/merge.log") || {
	cat "$work/merge.log" >&2
	exit 1
}
kmake olddefconfig

# Every option a fragment asks for must have survived olddefconfig (a
# missing dependency silently drops it).
bad=0
while read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$src/.config" || { log "not in the final .config: $line"; bad=1; } ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		! grep -q "^$opt=" "$src/.config" || { log "still set: $(grep "^$opt=" "$src/.config")"; bad=1; } ;;
	esac
done < <(cat "${checked_fragments[@]}")
[ "$bad" = 0 ] || { log "the fragments do not apply to $source_pkg $source_version"; exit 1; }

kmake -j"${KERNEL_JOBS:-$(nproc)}" "$target"
kver=$(kmake -s kernelrelease)

out="$work/out"
mkdir -p "$out/root/boot" "$out/root/lib/modules/$kver"
cp "$src/$image" "$out/root/boot/vmlinuz-$kver"
cp "$src/.config" "$out/root/boot/config-$kver"
# modules.builtin comes with vmlinux.o: modprobe (and so lib/mkinitramfs.sh)
# then reports these modules as built in.
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ ! -f "$src/$f" ] || cp "$src/$f" "$out/root/lib/modules/$kver/"
done
depmod -b "$out/root" "$kver"
echo "$kver" > "$out/kver"
echo "$(($(date +%s) - start))" > "$out/build-seconds"
rm -rf "$dir"
mv "$out" "$dir"
log "$karch kernel $kver built in $(cat "$dir/build-seconds") s: $dir"
[ "$print_only" = 1 ] || log "boot it as the L1 host: $dir/root/boot/vmlinuz-$kver"
emit
