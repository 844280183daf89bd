#!/bin/bash
# Debian guest kernel: resolve which concrete package to use, then fetch and
# unpack it into the cache. Sourced by build.sh (defines functions only).
#
# Why a Debian kernel: it has KVM, VFIO, intel-iommu and the virtio drivers
# we need, and apt can fetch it without internet beyond the Debian mirror.
# The same vmlinuz boots L1 (inside QEMU TCG) and L2 (inside our VMM).

# kernel_resolve META -> prints "PACKAGE VERSION".
# The meta-package (e.g. linux-image-6.12-amd64) only depends on the
# current ABI package (linux-image-6.12.NN+deb12-amd64); resolving it
# through apt's local lists (no network) gives a concrete name+version that
# we use as the cache key, so an apt update bringing a new kernel causes
# exactly one rebuild.
kernel_resolve() {
	local meta=$1 pkg ver
	pkg=$(apt-cache depends "$meta" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	if [ -z "$pkg" ]; then
		echo "kernel: cannot resolve $meta with apt-cache (run scripts/install-deps.sh / apt-get update?)" >&2
		return 1
	fi
	ver=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" { print $2; exit }')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		echo "kernel: no candidate version for $pkg" >&2
		return 1
	fi
	echo "$pkg $ver"
}

# kernel_fetch PACKAGE VERSION DEST
# Downloads the .deb, unpacks it into DEST and runs depmod (the .deb ships
# no modules.dep, and mkinitramfs.sh needs it to order insmod calls).
# Builds in DEST.tmp and renames at the end so an interrupted run never
# leaves a half-unpacked kernel that looks valid.
kernel_fetch() {
	local pkg=$1 ver=$2 dest=$3 tmp="$3.tmp" kver
	rm -rf "$tmp"
	mkdir -p "$tmp/deb"
	# apt-get download writes into the cwd. As root it warns that _apt
	# cannot write there; that is harmless, so silence it.
	(cd "$tmp/deb" && apt-get download -q "$pkg=$ver" 2>&1 |
		grep -v 'unsandboxed as root' >&2) || true
	local deb
	deb=$(ls "$tmp"/deb/*.deb 2>/dev/null | head -n1)
	[ -n "$deb" ] || { echo "kernel: apt-get download $pkg=$ver failed" >&2; return 1; }
	dpkg -x "$deb" "$tmp/root"
	kver=$(ls "$tmp/root/lib/modules" | head -n1)
	[ -f "$tmp/root/boot/vmlinuz-$kver" ] || { echo "kernel: no vmlinuz in $deb" >&2; return 1; }
	depmod -b "$tmp/root" "$kver"
	ln -s "root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
	echo "$kver" > "$tmp/kver"
	rm -rf "$dest"
	mv "$tmp" "$dest"
}
