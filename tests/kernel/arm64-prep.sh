#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prepare (or reuse) an arm64 kernel tree to cross-build the guest driver
# against: Debian's linux-source-6.12, ARCH=arm64, then modules_prepare,
# with CROSS_COMPILE=aarch64-linux-gnu- (Debian's gcc-aarch64-linux-gnu).
# No kernel image is built.
#
#   tests/kernel/arm64-prep.sh            defconfig: make lint's W=1 and
#                                         sparse builds of guest/
#   tests/kernel/arm64-prep.sh stock      Debian's arm64 image (make check's
#                                         6.12-arm64 flavour)
#
# "stock" takes the configuration, the release and the Module.symvers of
# Debian's linux-image-*-arm64-unsigned and linux-headers-*-arm64 that
# tests/deps.sh unpacks into $IVSHMEM_CACHE/debian-arm64: modules built
# against the tree load into that image (same vermagic, same modversions
# CRCs).
#
# Cached in $IVSHMEM_CACHE (default /var/cache/ivshmem-test) as
# arm64-prep-KEY, KEY hashing the configuration (defconfig, or the stock
# image's config and release), the source package version and the cross
# compiler's version; a second run with the same inputs reuses it. The source is the extraction tests/kernel/build.sh
# makes (src-VERSION/linux-source-6.12). Prints the tree (usable as KDIR
# with ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) on stdout; progress
# goes to stderr.
set -euo pipefail

cache=${IVSHMEM_CACHE:-/var/cache/ivshmem-test}
series=6.12
tarball=/usr/src/linux-source-$series.tar.xz
cross=aarch64-linux-gnu-
config=defconfig
mode=${1:-defconfig}

log() { printf '[arm64-prep] %s\n' "$*" >&2; }

[ -f "$tarball" ] || { log "missing $tarball (apt-get install linux-source-$series)"; exit 1; }
command -v "${cross}gcc" >/dev/null ||
	{ log "missing ${cross}gcc (apt-get install gcc-aarch64-linux-gnu)"; exit 1; }
ver=$(dpkg-query -W -f='${Version}' "linux-source-$series")
gccver=$("${cross}gcc" -dumpfullversion)
release=
case $mode in
defconfig) ;;
stock)
	stock=$cache/debian-arm64
	[ -f "$stock/.done" ] ||
		{ log "missing $stock (tests/deps.sh unpacks Debian's arm64 image)"; exit 1; }
	release=$(cat "$stock/release")
	config=$stock/boot/config-$release
	symvers=$stock/usr/src/linux-headers-$release/Module.symvers
	if [ ! -f "$config" ] || [ ! -f "$symvers" ]; then
		log "missing $config or $symvers"
		exit 1
	fi
	;;
*) log "unknown mode $mode (defconfig or stock)"; exit 1;;
esac
if [ "$mode" = defconfig ]; then
	# The key the defconfig tree had before the stock mode existed.
	key=$(printf 'arm64 %s\n%s\n%s\n' "$config" "$ver" "$gccver" |
		sha256sum | cut -c1-16)
else
	key=$( (printf 'arm64 stock %s\n%s\n%s\n' "$release" "$ver" "$gccver";
		cat "$config" "$symvers") | sha256sum | cut -c1-16)
fi
src=$cache/src-$ver/linux-source-$series
out=$cache/arm64-prep-$key

mkdir -p "$cache"
# One lock per tree: two runs take turns, the second reuses the first's.
exec 9>"$cache/.lock-arm64-$key"
flock 9

if [ -f "$out/.done" ]; then
	log "cached arm64 tree $key (linux-source $ver, gcc $gccver)"
	echo "$out"
	exit 0
fi

# The extraction is tests/kernel/build.sh's for the 6.12 debug kernel:
# made under its lock, held only while extracting.
(
	flock 8
	if [ ! -f "$src/.extracted" ]; then
		log "extracting linux-source $ver into $cache ..."
		rm -rf "$cache/src-$ver"
		mkdir -p "$cache/src-$ver"
		tar -C "$cache/src-$ver" -xJf "$tarball"
		touch "$src/.extracted"
	fi
) 8>"$cache/.lock-$series-$ver"

log "preparing arm64 tree $key (${release:-$config} + modules_prepare)"
start=$(date +%s)
rm -rf "$out"
mkdir -p "$out"
if [ "$mode" = stock ]; then
	# Debian's configuration as it is (olddefconfig drops only what this
	# toolchain cannot build, e.g. the 32-bit compat vDSO), its release
	# string for vermagic, and its symbol CRCs for modversions.
	cp "$config" "$out/.config"
	targets=(olddefconfig modules_prepare)
	extra=(KERNELRELEASE="$release")
else
	targets=("$config" modules_prepare)
	extra=()
fi
if ! make -C "$src" O="$out" ARCH=arm64 CROSS_COMPILE=$cross -j"$(nproc)" \
	"${extra[@]}" "${targets[@]}" > "$out/build.log" 2>&1; then
	tail -20 "$out/build.log" >&2
	log "modules_prepare failed (log: $out/build.log)"
	exit 1
fi
if [ "$mode" = stock ]; then
	cp "$symvers" "$out/Module.symvers"
	got=$(cut -d'"' -f2 "$out/include/generated/utsrelease.h")
	[ "$got" = "$release" ] ||
		{ log "the tree's release is $got, the image's $release"; exit 1; }
fi
echo "$(( $(date +%s) - start ))" > "$out/.seconds"
touch "$out/.done"
log "arm64 tree ready in $(cat "$out/.seconds")s"
echo "$out"
