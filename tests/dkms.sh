#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# DKMS test of the Makefile's targets: make dkms-install for Debian's
# kernel (headers from linux-headers-amd64; DKMS_KERNEL=<release> picks
# another) copies the source to /usr/src and runs dkms add, build and
# install; modinfo/modprobe find the modules; make dkms-install again,
# over the installed modules, removes and redoes it all (it can be
# repeated); make dkms-remove removes it all. Prints "ok"/"not ok" lines;
# exits non-zero on a failure. Needs root; leaves no DKMS state behind
# (also when interrupted).
#
# Two DKMS builds, both needed: the second make dkms-install takes the
# other branch of its recipe (an add of the same version to remove
# first). ivt_packaging.py runs this for 6.1 only: tests/deb.sh's DKMS
# builds (the package's postinst for 6.1, DKMS's header_postinst.d hook
# for 6.12) run the same dkms.conf through dkms add, build, install and
# remove for both series, so a run of this script for 6.12 would build
# the same modules with the same commands again, and pay 6.12's slow
# depmod -a (8-17 s: its modules are xz-compressed) four times.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. tests/tap.sh
# One packaging test at a time on this machine (shared DKMS and
# /lib/modules state).
exec 9>/tmp/ivshmem-packaging.lock
lock_wait=$(date +%s)
flock 9
lock_wait=$(($(date +%s) - lock_wait))
[ "$lock_wait" -lt 2 ] ||
	echo "# waited $lock_wait s for the packaging lock (another run's test)"

if [ -z "${DKMS_KERNEL:-}" ]; then
	pkg=$(dpkg-query -W -f='${Depends}' linux-image-amd64 |
		grep -o 'linux-image-[[:alnum:]._-]*' | head -1)
	DKMS_KERNEL=${pkg#linux-image-}
fi
k=$DKMS_KERNEL
name=ivshmem
ver=$(sed -n 's/^PACKAGE_VERSION="*\([^"]*\)"*$/\1/p' dkms.conf)
arch=$(uname -m)
log=$(mktemp -d /tmp/ivshmem-dkms.XXXXXX)

cleanup() {
	if dkms status "$name/$ver" 2>/dev/null | grep -q .; then
		dkms remove "$name/$ver" --all >/dev/null 2>&1
	fi
	rm -rf "/usr/src/$name-$ver"
}
trap 'cleanup; rm -rf "$log"' EXIT

if [ "$(id -u)" != 0 ] || [ ! -d "/lib/modules/$k/build" ]; then
	eq "dkms test runs as root with headers for $k" \
		"uid $(id -u), $(ls -d "/lib/modules/$k/build" 2>&1)" \
		"uid 0, /lib/modules/$k/build"
	finish dkms
	exit
fi
cleanup

# installed_as MODULE: where modinfo finds MODULE for kernel $k
installed_as() {
	modinfo -k "$k" -n "$1" 2>/dev/null
}

# check_installed HOW: both modules in updates/dkms, for $k, no KUnit
check_installed() {
	local dest=/lib/modules/$k/updates/dkms m ko
	ko=$(ko_suffix "/lib/modules/$k/build")
	eq "$1: modinfo finds ivshmem in $dest" "$(installed_as ivshmem)" \
		"$dest/ivshmem$ko"
	eq "$1: its vermagic is $k" \
		"$(modinfo -k "$k" -F vermagic ivshmem 2>/dev/null | cut -d' ' -f1)" \
		"$k"
	ok_if "$1: modprobe resolves ivshmem there" sh -c \
		"modprobe -S '$k' --show-depends ivshmem | grep -q '$dest/ivshmem$ko'"
	case "$arch" in
	x86_64|i?86)
		eq "$1: modinfo finds ivshmem_host in $dest" \
			"$(installed_as ivshmem_host)" "$dest/ivshmem_host$ko" ;;
	esac
	m=$(find "/lib/modules/$k" -name '*kunit*' -path '*/updates/*' | head -1)
	eq "$1: no KUnit module installed" "$m" ""
	eq "$1: dkms status" "$(dkms status "$name/$ver" -k "$k" 2>/dev/null)" \
		"$name/$ver, $k, $arch: installed"
}

# check_removed HOW: nothing of ours left for $k
check_removed() {
	eq "$1: modinfo no longer finds ivshmem" "$(installed_as ivshmem)" ""
	eq "$1: modinfo no longer finds ivshmem_host" \
		"$(installed_as ivshmem_host)" ""
	eq "$1: dkms status is empty" "$(dkms status "$name/$ver" 2>/dev/null)" ""
}

# The make targets (idempotent: dkms-install twice).
ok_if "make dkms-install KERNELRELEASE=$k" \
	quiet "$log/make-install" make dkms-install KERNELRELEASE="$k"
ok_if "make dkms-src put dkms.conf and the sources in /usr/src/$name-$ver" \
	test -f "/usr/src/$name-$ver/dkms.conf" -a \
	-f "/usr/src/$name-$ver/guest/Kbuild"
check_installed "make dkms-install"
ok_if "make dkms-install KERNELRELEASE=$k again (idempotent)" \
	quiet "$log/make-install2" make dkms-install KERNELRELEASE="$k"
check_installed "make dkms-install again"
ok_if "make dkms-remove" quiet "$log/make-remove" make dkms-remove
check_removed "make dkms-remove"
ok_if "make dkms-remove deletes /usr/src/$name-$ver" \
	test ! -e "/usr/src/$name-$ver"

finish dkms
