#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prepare (or reuse) an arm64 kernel tree to cross-build the guest driver
# against: Debian's linux-source-6.12, ARCH=arm64 defconfig, then
# modules_prepare, with CROSS_COMPILE=aarch64-linux-gnu- (Debian's
# gcc-aarch64-linux-gnu). No kernel image is built: the tree is for
# make lint's W=1 and sparse builds of guest/ only.
#
#   tests/kernel/arm64-prep.sh
#
# Cached in $IVSHMEM_CACHE (default /var/cache/ivshmem-test) as
# arm64-prep-KEY, KEY hashing the configuration (defconfig), the source
# package version and the cross compiler's version; a second run with the
# same inputs reuses it. The source is the extraction tests/kernel/build.sh
# makes (src-VERSION/linux-source-6.12). Prints the tree (usable as KDIR
# with ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-) on stdout; progress
# goes to stderr.
set -euo pipefail

cache=${IVSHMEM_CACHE:-/var/cache/ivshmem-test}
series=6.12
tarball=/usr/src/linux-source-$series.tar.xz
cross=aarch64-linux-gnu-
config=defconfig

log() { printf '[arm64-prep] %s\n' "$*" >&2; }

[ -f "$tarball" ] || { log "missing $tarball (apt-get install linux-source-$series)"; exit 1; }
command -v "${cross}gcc" >/dev/null ||
	{ log "missing ${cross}gcc (apt-get install gcc-aarch64-linux-gnu)"; exit 1; }
ver=$(dpkg-query -W -f='${Version}' "linux-source-$series")
gccver=$("${cross}gcc" -dumpfullversion)
key=$(printf 'arm64 %s\n%s\n%s\n' "$config" "$ver" "$gccver" |
	sha256sum | cut -c1-16)
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

log "preparing arm64 tree $key ($config + modules_prepare)"
start=$(date +%s)
rm -rf "$out"
mkdir -p "$out"
if ! make -C "$src" O="$out" ARCH=arm64 CROSS_COMPILE=$cross -j"$(nproc)" \
	"$config" modules_prepare > "$out/build.log" 2>&1; then
	tail -20 "$out/build.log" >&2
	log "modules_prepare failed (log: $out/build.log)"
	exit 1
fi
echo "$(( $(date +%s) - start ))" > "$out/.seconds"
touch "$out/.done"
log "arm64 tree ready in $(cat "$out/.seconds")s"
echo "$out"
