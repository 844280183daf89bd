#!/bin/bash
# guest-images/arm64/apt.sh: Debian arm64 packages on an amd64 machine,
# without touching the machine's own apt or dpkg state.
#
# apt runs with its own state under ${VMM_CACHE:-~/.cache/vmm}/apt-arm64/
# (package lists, pkgcache, an empty dpkg status) and
# APT::Architecture=arm64, reading the machine's sources (deb.debian.org
# bookworm + bookworm-backports) and keyrings. Nothing is installed: .debs
# are downloaded and unpacked with `dpkg -x`. No root needed.
#
# Why not `dpkg --add-architecture arm64` + `apt-get install foo:arm64`:
# that makes every later apt-get update on the machine fetch arm64 lists,
# and Multi-Arch: same packages (libc6, libgcc-s1, ...) must then have the
# identical version on both architectures, so an amd64 security upgrade can
# be held back until the arm64 build reaches the mirror. A private sysroot
# keeps the amd64 system exactly as it was.
#
# Usage as a command:
#   apt.sh update                 refresh the arm64 package lists (network)
#   apt.sh sysroot [DIR]          unpack the arm64 -dev packages the static
#                                 cross build links against into DIR
#                                 (default ${VMM_CACHE:-~/.cache/vmm}/arm64-sysroot-v2:
#                                 v2 has the 6.12 UAPI headers; a new name
#                                 per package set, so checkouts with
#                                 another set do not undo each other's);
#                                 does nothing when DIR is already complete
#   apt.sh apt-get|apt-cache ARGS run apt with the arm64 state (debugging)
# Sourced (by build-arm64.sh): defines arm64_apt_init, arm64_apt_update,
# arm64_apt_get, arm64_apt_cache.

arm64_state=${VMM_CACHE:-$HOME/.cache/vmm}/apt-arm64
arm64_opts=()

# arm64_apt_init: create the private apt state and the option list.
arm64_apt_init() {
	mkdir -p "$arm64_state/lists/partial" "$arm64_state/cache/archives/partial" || return 1
	[ -f "$arm64_state/status" ] || : > "$arm64_state/status"
	arm64_opts=(
		-o APT::Architecture=arm64 -o APT::Architectures=arm64
		-o Dir::State="$arm64_state" -o Dir::State::Lists="$arm64_state/lists"
		-o Dir::State::status="$arm64_state/status"
		-o Dir::Cache="$arm64_state/cache"
	)
	# As root apt downloads as user _apt, which cannot write under
	# root's cache: it would fall back to root with a warning anyway.
	[ "$(id -u)" != 0 ] || arm64_opts+=(-o APT::Sandbox::User=root)
}

arm64_apt_get() { command apt-get "${arm64_opts[@]}" "$@"; }
arm64_apt_cache() { command apt-cache "${arm64_opts[@]}" "$@"; }

# arm64_apt_update [MAX_AGE_DAYS]: refresh the lists if there are none, or
# (with MAX_AGE_DAYS) if they are older than that. A failed refresh is fatal
# only when there are no lists at all.
arm64_apt_update() {
	local age=${1:-} have=0
	ls "$arm64_state"/lists/*_Packages* >/dev/null 2>&1 && have=1
	if [ "$have" = 1 ]; then
		[ -n "$age" ] || return 0
		[ -n "$(find "$arm64_state/lists" -maxdepth 1 -name '*_Packages*' -mtime "+$age" 2>/dev/null)" ] || return 0
	fi
	echo "apt-arm64: apt-get update (arm64 lists in $arm64_state)" >&2
	if ! arm64_apt_get update -q >/dev/null 2>"$arm64_state/update.err"; then
		cat "$arm64_state/update.err" >&2
		[ "$have" = 1 ] || { echo "apt-arm64: apt-get update failed" >&2; return 1; }
		echo "apt-arm64: using the old lists" >&2
	fi
	return 0
}

# arm64_candidate PKG[/SUITE] -> candidate version (empty if none); with
# SUITE, the candidate from that suite (bookworm-backports is pinned below
# the release, so it is never the default candidate).
arm64_candidate() {
	local suite=()
	case $1 in */*) suite=(-o APT::Default-Release="${1#*/}") ;; esac
	arm64_apt_cache "${suite[@]}" policy "${1%%/*}" 2>/dev/null |
		awk '$1 == "Candidate:" && $2 != "(none)" { print $2; exit }'
}

# The -dev packages (and the runtime packages holding their .a/.so) that a
# static aarch64 build of the VMM links against. libc comes from
# libc6-dev-arm64-cross (installed by install-deps.sh); the kernel UAPI
# headers from the arm64 linux-libc-dev of bookworm-backports (6.12: the
# cross package's 6.1 headers have no <linux/iommufd.h> nor the VFIO cdev
# ioctls). The Makefile puts DIR/usr/include and
# DIR/usr/include/aarch64-linux-gnu (its asm/) first on the include path.
# PKG/SUITE: that suite's version.
arm64_sysroot_pkgs="libfdt-dev libfdt1 libseccomp-dev libseccomp2 liburing-dev liburing2 linux-libc-dev/bookworm-backports"

# arm64_sysroot DIR: unpack the packages into DIR (DIR/usr/include,
# DIR/usr/lib/aarch64-linux-gnu). DIR/.stamp lists what is in it; when it
# names the same package set, nothing is done (no network, ~10 ms).
arm64_sysroot() {
	local dir=$1 tmp p v pkgs=() stamp
	if [ -f "$dir/.stamp" ] &&
		[ "$(sed -n 's/^packages=//p' "$dir/.stamp")" = "$arm64_sysroot_pkgs" ]; then
		return 0
	fi
	arm64_apt_init && arm64_apt_update 7 || return 1
	for p in $arm64_sysroot_pkgs; do
		v=$(arm64_candidate "$p")
		[ -n "$v" ] || { echo "apt-arm64: no arm64 candidate for $p" >&2; return 1; }
		pkgs+=("${p%%/*}=$v")
	done
	tmp="$dir.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp/deb"
	(cd "$tmp/deb" && arm64_apt_get download -q "${pkgs[@]}" >/dev/null) || {
		echo "apt-arm64: apt-get download ${pkgs[*]} failed" >&2
		rm -rf "$tmp"
		return 1
	}
	for p in "$tmp"/deb/*.deb; do
		dpkg -x "$p" "$tmp" || { rm -rf "$tmp"; return 1; }
	done
	rm -rf "$tmp/deb" "$tmp/usr/share/doc" "$tmp/usr/share/lintian" "$tmp/usr/share/man"
	stamp="packages=$arm64_sysroot_pkgs
versions=${pkgs[*]}"
	printf '%s\n' "$stamp" > "$tmp/.stamp"
	rm -rf "$dir"
	mv "$tmp" "$dir"
	echo "apt-arm64: arm64 sysroot in $dir: ${pkgs[*]}" >&2
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case ${1:-} in
	update) arm64_apt_init; arm64_apt_get update -q ;;
	sysroot) arm64_sysroot "${2:-${VMM_CACHE:-$HOME/.cache/vmm}/arm64-sysroot-v2}" ;;
	apt-get) shift; arm64_apt_init; arm64_apt_get "$@" ;;
	apt-cache) shift; arm64_apt_init; arm64_apt_cache "$@" ;;
	*) sed -n '2,/^arm64_state=/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
fi
