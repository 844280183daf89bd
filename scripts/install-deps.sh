#!/bin/sh
# Installs, with apt, whatever the build, the tests (clang and its
# libFuzzer runtime for tests/fuzz) and the nested harness need and is not
# yet on this Debian machine. Safe to run again: it only
# calls apt when a package is missing.
#
# arm64 (the aarch64 VMM and its nested harness): qemu-system-arm (from
# bookworm-backports, like qemu-system-x86), the aarch64 cross gcc + libc,
# and a private sysroot with the arm64 libfdt/libseccomp/liburing -dev
# packages and the 6.12 UAPI headers (arm64 linux-libc-dev from
# bookworm-backports) in ${VMM_CACHE:-~/.cache/vmm}/arm64-sysroot-v2
# (fetched with a separate apt state, see guest-images/arm64/apt.sh; the
# machine's dpkg gets no foreign architecture). Skipped in ~10 ms when
# already there.
#
# iommufd: the VFIO cdev and iommufd UAPI (<linux/iommufd.h>,
# VFIO_DEVICE_BIND_IOMMUFD) first appear in Linux 6.6 headers, so
# linux-libc-dev comes from bookworm-backports (6.12); the L1 test kernels
# with CONFIG_IOMMUFD are built from linux-source-6.12 with bc, bison,
# flex, libelf-dev and libssl-dev (guest-images/build-host-kernel.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)

need_backports=0
packages="build-essential pkg-config linux-libc-dev libfdt-dev libseccomp-dev
liburing-dev libcmocka-dev qemu-system-x86 qemu-utils busybox-static cpio kmod
xz-utils zstd e2fsprogs iproute2 acpica-tools python3 util-linux
gcc-aarch64-linux-gnu libc6-dev-arm64-cross clang libclang-rt-14-dev
linux-source-6.12 bc bison flex libelf-dev libssl-dev"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done

# The guest kernels come from bookworm-backports (Debian's 6.12 series).
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
	need_backports=1
fi

case "$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null)" in
1:10.*|1:1[1-9].*) ;;
*) missing="$missing qemu-system-x86" ;;
esac
# qemu-system-arm only from bookworm-backports (installed below): its
# bookworm 7.2 build would conflict with the backports qemu-system-common.
need_qemu_arm=0
case "$(dpkg-query -W -f='${Version}' qemu-system-arm 2>/dev/null)" in
1:10.*|1:1[1-9].*) ;;
*) need_qemu_arm=1 ;;
esac

# The iommufd UAPI headers: linux-libc-dev 6.12 from bookworm-backports.
need_headers=0
case "$(dpkg-query -W -f='${Version}' linux-libc-dev 2>/dev/null)" in
6.[6-9].*|6.[1-9][0-9].*|[7-9].*) ;;
*) need_headers=1 ;;
esac

# The arm64 -dev packages, unpacked into a private sysroot (no root needed).
arm64_sysroot() {
	bash "$here/../guest-images/arm64/apt.sh" sysroot
}

if [ -z "$missing" ] && [ "$need_backports" = 0 ] && [ "$need_qemu_arm" = 0 ] &&
	[ "$need_headers" = 0 ]; then
	arm64_sysroot
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	[ "$need_qemu_arm" = 0 ] || missing="$missing qemu-system-arm"
	[ "$need_headers" = 0 ] || missing="$missing linux-libc-dev(bookworm-backports)"
	echo "install-deps: missing packages:$missing; run 'make deps' as root" >&2
	exit 1
fi

if [ "$need_backports" = 1 ]; then
	uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
	[ -n "$uri" ] || uri=http://deb.debian.org/debian
	cat > /etc/apt/sources.list.d/vmm-backports.sources <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
[ -z "$missing" ] || apt-get install -y -q --no-install-recommends $missing
# The nested harness is tested with QEMU 10 (bookworm-backports).
apt-get install -y -q --no-install-recommends -t bookworm-backports qemu-system-x86 qemu-utils qemu-system-arm \
	linux-libc-dev
arm64_sysroot
