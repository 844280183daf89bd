#!/bin/bash
# mkinitramfs.sh KROOT KVER MODLIST INIT OUT
#
# Packs a minimal initramfs: static busybox (+ applet symlinks), the given
# /init, and the kernel modules named in MODLIST together with everything
# they depend on, decompressed (the kernel's own loader could take .ko.xz,
# but busybox insmod cannot, and decompressing once at build time is cheaper
# than at every boot under TCG).
#
# MODLIST: one module name per line, '#' comments allowed. Order matters
# only as a tie-break: dependencies are put first automatically using
# `modprobe --show-depends` against the unpacked kernel tree (KROOT), so the
# list can name just the modules we want.
#
# The load order is written to /etc/modules.load (paths relative to
# /lib/modules/KVER) for /init to insmod one by one. A depmod'ed
# /lib/modules/KVER is also produced so that modprobe works inside the
# guest for anything we shipped.
set -euo pipefail

kroot=$1 kver=$2 modlist=$3 init=$4 out=$5
busybox=${BUSYBOX:-/bin/busybox}
moddir="$kroot/lib/modules/$kver"

stage=$(mktemp -d "${TMPDIR:-/tmp}/mkinitramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,root,mnt,newroot} \
	"$stage/lib/modules/$kver"

# Busybox: must be the static build, the initramfs has no libc.
if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked'; then
	# `file` may be missing; fall back to checking for a dynamic loader.
	if readelf -l "$busybox" 2>/dev/null | grep -q 'interpreter'; then
		echo "mkinitramfs: $busybox is not static (install busybox-static)" >&2
		exit 1
	fi
fi
cp "$busybox" "$stage/bin/busybox"
# Extra static programs (EXTRA_BINS, space separated) go to /usr/bin.
for bin in ${EXTRA_BINS:-}; do
	cp "$bin" "$stage/usr/bin/"
done
# Symlinks at build time instead of `busybox --install` at boot: one less
# thing for /init to get wrong, and it is free.
"$busybox" --list-full | while read -r applet; do
	[ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done

# Resolve the module closure in load order, without duplicates.
declare -A seen=()
order=()
while read -r name _; do
	[ -n "$name" ] || continue
	deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$name") || {
		echo "mkinitramfs: module $name not found in $kver" >&2
		exit 1
	}
	while read -r kind path _; do
		# "builtin NAME" means compiled into vmlinuz: nothing to ship.
		[ "$kind" = insmod ] || continue
		rel=${path#"$moddir/"}
		[ -z "${seen[$rel]:-}" ] || continue
		seen[$rel]=1
		order+=("$rel")
	done <<<"$deps"
done < <(sed -e 's/#.*//' "$modlist")

: > "$stage/etc/modules.load"
for rel in "${order[@]}"; do
	src="$moddir/$rel"
	dst="$stage/lib/modules/$kver/${rel%.xz}"
	dst=${dst%.zst}
	mkdir -p "$(dirname "$dst")"
	case $src in
	*.xz) xz -dc "$src" > "$dst" ;;
	*.zst) zstd -qdc "$src" > "$dst" ;;
	*) cp "$src" "$dst" ;;
	esac
	echo "${dst#"$stage/lib/modules/$kver/"}" >> "$stage/etc/modules.load"
done
# modules.builtin lets modprobe in the guest say "builtin" instead of
# failing for virtio_pci and friends.
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ ! -f "$moddir/$f" ] || cp "$moddir/$f" "$stage/lib/modules/$kver/"
done
depmod -b "$stage" "$kver"
echo "$kver" > "$stage/etc/kernel-version"

install -m 0755 "$init" "$stage/init"

# Sorted file list + owner root: the archive depends only on its inputs'
# contents and not on the build user or readdir order.
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | gzip -9n > "$out.tmp"
mv "$out.tmp" "$out"
