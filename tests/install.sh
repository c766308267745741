#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make install / make uninstall test, in a copy of the tree under
# build/ so the work tree stays clean:
#
# - staged (DESTDIR) installs for Debian's kernel and the debug kernel,
#   each chosen by KDIR alone (the debug kernel has KUnit, so this also
#   proves the KUnit modules stay out): the modules, the uapi
#   headers and the udev rule land, depmod + modprobe resolve the modules
#   in the stage, and make uninstall removes every file again;
# - a live install of the modules for Debian's kernel (not the running
#   one), chosen by KERNELRELEASE alone: modinfo and modprobe find them
#   under /lib/modules, and make uninstall-modules removes them. Skipped
#   when an ivshmem module is already installed for that kernel (it would
#   be replaced).
#
# INSTALL_DEBUG_KDIR=none and INSTALL_LIVE=none leave out the debug and
# the live install: ivt_packaging.py runs the debug install with 6.12
# (the debug kernel of make check's default matrix) and the live one
# with 6.1 only. The live
# install differs from the staged one by its destination and its
# depmod -a, which the kernel's tools do alike for 6.1 and 6.12 (the
# staged install already runs depmod and modprobe on 6.12's xz-compressed
# modules), and depmod -a takes 8-17 s on 6.12 (it decompresses all
# of the kernel's modules), twice per live install.
#
# The copy: INSTALL_SRC=<dir> names one already built against
# $INSTALL_KERNEL's headers with W=1 (ivt_packaging.py passes its
# flavour's build, build/<flavour>/src, made with the same Makefile and
# Kbuild files): Debian's kernel's installs run there with W=1, the make
# command of that build, so make install's "make modules" finds every
# object up to date (it rebuilds what is not) and this tests what make
# install adds to the build: where the files go, what is left out, the
# uninstall. Without it, and always for the debug kernel, a copy in
# build/install/src built from scratch: the live install reuses the
# staged one's objects, the debug install (last) builds its own.
#
# Prints "ok"/"not ok" lines; exits non-zero on a failure.
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
root=$PWD
out=$root/build/install
src=$out/src
stage=$out/stage
mkdir -p "$out"

if [ -z "${INSTALL_KERNEL:-}" ]; then
	pkg=$(dpkg-query -W -f='${Depends}' linux-image-amd64 |
		grep -o 'linux-image-[[:alnum:]._-]*' | head -1)
	INSTALL_KERNEL=${pkg#linux-image-}
fi
# INSTALL_DEBUG_KDIR=none: the staged debug install ran elsewhere.
debug_kdir=${INSTALL_DEBUG_KDIR:-$(./tests/kernel/build.sh 6.12 2>/dev/null)}

# fresh_copy: the tree's build files and sources in $src, no objects
fresh_copy() {
	mkdir -p "$src"
	rsync -a --delete --delete-excluded \
		--exclude /build --exclude /.git --exclude /tests \
		--exclude /samples --exclude '*.o' --exclude '*.ko' \
		--exclude '*.mod' --exclude '*.mod.c' --exclude '.*.cmd' \
		--exclude modules.order --exclude Module.symvers \
		"$root/" "$src/"
}
if [ -n "${INSTALL_SRC:-}" ]; then
	stock_src=$INSTALL_SRC
	stock_args=(W=1)
else
	fresh_copy
	stock_src=$src
	stock_args=()
fi
headers=$(cd uapi/linux && echo *.h)
has_host=
case "$(uname -m)" in x86_64|i?86) [ -e host/Kbuild ] && has_host=1 ;; esac

# staged NAME REL TREE MAKE-ARGS...: make -C TREE install into $stage,
# check, uninstall
staged() {
	local name=$1 rel=$2 tree=$3 mods f left a kd= ko
	shift 3
	for a; do case $a in KDIR=*) kd=${a#KDIR=} ;; esac; done
	ko=$(ko_suffix "$kd")
	rm -rf "$stage"
	ok_if "$name: make install DESTDIR=... $*" \
		quiet "$out/$name-install.log" make -C "$tree" install \
		DESTDIR="$stage" "$@"
	mods=$stage/lib/modules/$rel/updates
	ok_if "$name: ivshmem$ko in /lib/modules/$rel/updates/guest" \
		test -f "$mods/guest/ivshmem$ko"
	eq "$name: its vermagic is $rel" \
		"$(modinfo -F vermagic "$mods/guest/ivshmem$ko" 2>/dev/null |
			cut -d' ' -f1)" "$rel"
	if [ -n "$has_host" ]; then
		ok_if "$name: ivshmem_host$ko in /lib/modules/$rel/updates/host" \
			test -f "$mods/host/ivshmem_host$ko"
	fi
	eq "$name: no KUnit module installed" \
		"$(find "$stage" -name '*kunit*' | head -1)" ""
	for f in $headers; do
		ok_if "$name: /usr/include/linux/$f installed" \
			cmp -s "uapi/linux/$f" "$stage/usr/include/linux/$f"
	done
	ok_if "$name: udev rule in /lib/udev/rules.d" \
		cmp -s udev/90-ivshmem.rules \
		"$stage/lib/udev/rules.d/90-ivshmem.rules"
	ok_if "$name: depmod -b accepts the staged tree" \
		quiet "$out/$name-depmod.log" depmod -b "$stage" "$rel"
	ok_if "$name: modprobe resolves ivshmem in the stage" sh -c \
		"modprobe -d '$stage' -S '$rel' --show-depends ivshmem 2>&1 |
		 grep -q 'updates/guest/ivshmem$ko'"
	ok_if "$name: make uninstall DESTDIR=... $*" \
		quiet "$out/$name-uninstall.log" make -C "$tree" uninstall \
		DESTDIR="$stage" "$@"
	# What depmod -b generated above is the test's, not make install's.
	if [ -d "$stage" ]; then
		left=$(cd "$stage" && find . -type f ! -name 'modules.*' | head -3)
	else
		left="(no $stage: make install made none)"
	fi
	eq "$name: make uninstall leaves no installed file" "$left" ""
}

# KDIR alone: Debian's headers answer "make kernelrelease" with the
# upstream version, the release must come from UTS_RELEASE.
staged stock "$INSTALL_KERNEL" "$stock_src" "${stock_args[@]}" \
	KDIR="$(readlink -f "/lib/modules/$INSTALL_KERNEL/build")"

# A live install for Debian's kernel: the modules only.
k=$INSTALL_KERNEL
ko=$(ko_suffix "/lib/modules/$k/build")
if [ "${INSTALL_LIVE:-}" = none ]; then
	skip "live: make install-modules KERNELRELEASE=$k" \
		"runs with the 6.1 flavour only"
elif [ "$(id -u)" != 0 ]; then
	skip "live: make install-modules KERNELRELEASE=$k" "not root"
elif [ -n "$(modinfo -k "$k" -n ivshmem 2>/dev/null)" ]; then
	skip "live: make install-modules KERNELRELEASE=$k" \
		"ivshmem already installed for $k ($(modinfo -k "$k" -n ivshmem))"
else
	ok_if "live: make install-modules KERNELRELEASE=$k" \
		quiet "$out/live-install.log" make -C "$stock_src" install-modules \
		"${stock_args[@]}" KERNELRELEASE="$k"
	eq "live: modinfo finds ivshmem" "$(modinfo -k "$k" -n ivshmem 2>&1)" \
		"/lib/modules/$k/updates/guest/ivshmem$ko"
	ok_if "live: modprobe resolves ivshmem" sh -c \
		"modprobe -S '$k' --show-depends ivshmem |
		 grep -q '/lib/modules/$k/updates/guest/ivshmem$ko'"
	ok_if "live: make uninstall-modules KERNELRELEASE=$k" \
		quiet "$out/live-uninstall.log" make -C "$stock_src" uninstall-modules \
		"${stock_args[@]}" KERNELRELEASE="$k"
	eq "live: modinfo no longer finds ivshmem" \
		"$(modinfo -k "$k" -n ivshmem 2>/dev/null)" ""
	eq "live: no ivshmem file left in /lib/modules/$k/updates" \
		"$(find "/lib/modules/$k/updates" -name 'ivshmem*' 2>/dev/null)" ""
fi

# The debug kernel, last (its build replaces the stock objects in $src).
if [ "$debug_kdir" = none ]; then
	skip "debug: staged make install" "runs with the 6.12 flavour only"
elif [ -n "$debug_kdir" ]; then
	debug_rel=$(make -s -C "$debug_kdir" kernelrelease | tail -1)
	if [ -n "${INSTALL_SRC:-}" ]; then
		fresh_copy
	fi
	staged debug "$debug_rel" "$src" KDIR="$debug_kdir"
else
	skip "debug: staged make install" "no debug kernel (tests/kernel/build.sh failed)"
fi

finish install
