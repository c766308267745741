#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the build and the tests need, if missing:
# the tools, and the kernel matrix of make check (6.1 and 6.12, each stock
# and PREEMPT_RT, images and headers; the 6.1 and 6.12 sources for the
# debug kernels; Sphinx for make docs, gnuplot for make bench's plots;
# libxml2 for ivshmem-admin's scenario reader; unifdef for make
# kernel-series, python3-ply and python3-git for the kernel checkpatch's SPDX
# check; gcc-aarch64-linux-gnu for make lint's arm64 build of the guest
# driver); for the 6.12-arm64 and (opt-in) 6.12-arm64-debug flavours of
# make check, QEMU's arm64 machine, the arm64 C library for static test
# programs, and Debian's arm64 6.12 image, headers and busybox-static,
# downloaded and unpacked into $IVSHMEM_CACHE (not installed: they are
# another architecture's). The arm64 debug kernel needs nothing more: the
# cross compiler, linux-source-6.12 and the x86 kernels' build tools.
set -euo pipefail

pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev cpio gzip kmod
	rsync python3 xz-utils zstd
	linux-source-6.1 linux-headers-amd64 linux-image-amd64
	linux-image-rt-amd64 linux-headers-rt-amd64
	linux-source-6.12
	qemu-system-x86 busybox-static
	sparse coccinelle dkms udev
	debhelper dh-dkms lintian help2man
	python3-sphinx gnuplot-nox
	libxml2-dev pkg-config
	unifdef python3-ply python3-git
	gcc-aarch64-linux-gnu qemu-system-arm libc6-dev-arm64-cross
)

updated=
apt_update() {
	[ -n "$updated" ] && return
	echo "[deps] apt-get update"
	apt-get update -q
	updated=1
}

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done

# Debian 12 has no meta-package for its 6.12 kernels: take the newest
# linux-image-6.12.*+deb12-{amd64,rt-amd64} with its headers, unless one
# is installed already.
have612() {
	local f
	for f in /boot/vmlinuz-6.12.*+deb12-"$1"; do
		[ -e "$f" ] && [ -d "/usr/src/linux-headers-${f#/boot/vmlinuz-}" ] &&
			return 0
	done
	return 1
}
if ! have612 amd64 || ! have612 rt-amd64; then
	[ "$(id -u)" = 0 ] && apt_update
	v=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' |
		awk '{print $1}' | sed 's/^linux-image-//; s/-amd64$//' |
		sort -V | tail -1)
	[ -n "$v" ] || { echo "[deps] no 6.12 kernel in the package lists" >&2; exit 1; }
	have612 amd64 || missing+=("linux-image-$v-amd64" "linux-headers-$v-amd64")
	have612 rt-amd64 || missing+=("linux-image-$v-rt-amd64" "linux-headers-$v-rt-amd64")
fi

if [ ${#missing[@]} -gt 0 ]; then
	echo "[deps] installing: ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		echo "[deps] not root: run as root or install them yourself" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# The guests boot the images with the harness's own initramfs: no
	# update-initramfs for each kernel installed.
	export INITRD=No
	apt_update
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The 6.12-arm64 flavour's kernel and busybox: Debian's arm64 packages
# (dpkg --add-architecture arm64 makes the archive serve them), unpacked
# with dpkg-deb -x into $IVSHMEM_CACHE/debian-arm64 (the image's /boot and
# /lib/modules, the headers' Module.symvers) and busybox-arm64. The arm64
# binaries in them never run here.
cache=${IVSHMEM_CACHE:-/var/cache/ivshmem-test}
arm64=$cache/debian-arm64
fetch_arm64() {
	local v dl deb
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		dpkg --add-architecture arm64 || return 1
		updated=
	fi
	apt_update
	v=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-arm64-unsigned$' |
		awk '{print $1}' | sed 's/^linux-image-//; s/-arm64-unsigned$//' |
		sort -V | tail -1)
	[ -n "$v" ] || { echo "[deps] no arm64 6.12 kernel in the package lists" >&2; return 1; }
	dl=$(mktemp -d)
	echo "[deps] downloading Debian's arm64 $v image and headers, busybox-static"
	(cd "$dl" && apt-get download -q "linux-image-$v-arm64-unsigned:arm64" \
		"linux-headers-$v-arm64:arm64" busybox-static:arm64) || return 1
	rm -rf "$arm64.tmp" "$cache/busybox-arm64.tmp"
	mkdir -p "$arm64.tmp" "$cache/busybox-arm64.tmp"
	for deb in "$dl"/linux-*.deb; do
		dpkg-deb -x "$deb" "$arm64.tmp" || return 1
	done
	dpkg-deb -x "$dl"/busybox-static_*.deb "$cache/busybox-arm64.tmp" || return 1
	echo "$v-arm64" > "$arm64.tmp/release"
	touch "$arm64.tmp/.done"
	rm -rf "$arm64" "$cache/busybox-arm64" "$dl"
	mv "$arm64.tmp" "$arm64"
	mv "$cache/busybox-arm64.tmp" "$cache/busybox-arm64"
}
# Only the 6.12-arm64 flavour needs them: a failure here is a warning;
# that flavour's build then fails and says what is missing.
if [ ! -f "$arm64/.done" ] || [ ! -x "$cache/busybox-arm64/bin/busybox" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "[deps] not root: Debian's arm64 packages not fetched (6.12-arm64 flavour)" >&2
	elif ! fetch_arm64; then
		echo "[deps] Debian's arm64 packages not fetched (6.12-arm64 flavour)" >&2
	fi
fi
