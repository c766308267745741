#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build (or reuse) a debug test kernel from Debian's linux-source-SERIES.
#
#   tests/kernel/build.sh [SERIES [ARCH]]
#
# SERIES: 6.1 (default) or 6.12. ARCH: x86_64 (default), or arm64
# (6.12 only; cross-built with Debian's gcc-aarch64-linux-gnu, for
# QEMU's arm64 virt machine). The fragment is debug.config for x86_64,
# debug-arm64.config for arm64, applied on top of allnoconfig. The
# result is cached outside the clone, in $IVSHMEM_CACHE (default
# /var/cache/ivshmem-test), keyed by the hash of the fragment, the series
# and the linux-source package version (and for arm64 the cross
# compiler's version): a second run with the same inputs skips the
# build. Prints the kernel build directory (usable as KDIR, with
# ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- for arm64) on stdout;
# progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${IVSHMEM_CACHE:-/var/cache/ivshmem-test}
series=${1:-6.1}
arch=${2:-x86_64}
tarball=/usr/src/linux-source-$series.tar.xz

log() { printf '[kernel %s%s] %s\n' "$series" \
	"$([ "$arch" = x86_64 ] || echo " $arch")" "$*" >&2; }

case $arch in
x86_64)
	frag=$here/debug.config
	image=bzImage
	cross=()
	;;
arm64)
	[ "$series" = 6.12 ] || { log "arm64: 6.12 only"; exit 1; }
	frag=$here/debug-arm64.config
	image=Image
	cross=(CROSS_COMPILE=aarch64-linux-gnu-)
	command -v aarch64-linux-gnu-gcc >/dev/null ||
		{ log "missing aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu)"; exit 1; }
	;;
*) log "unknown architecture $arch (x86_64 or arm64)"; exit 1;;
esac
[ -f "$tarball" ] || { log "missing $tarball (apt-get install linux-source-$series)"; exit 1; }
ver=$(dpkg-query -W -f='${Version}' "linux-source-$series")
# 6.1's key stays what it was before the series argument existed, the
# x86 ones what they were before the architecture argument existed.
key=$( (cat "$frag"; echo "$ver"; [ "$series" = 6.1 ] || echo "$series"
	[ "$arch" = x86_64 ] || { echo "$arch"; aarch64-linux-gnu-gcc -dumpfullversion; }) |
	sha256sum | cut -c1-16)
src=$cache/src-$ver/linux-source-$series
out=$cache/kernel-$key

mkdir -p "$cache"
# One lock per series, source version and architecture: the 6.1, 6.12
# and arm64 kernels build side by side, two runs of one take turns. The
# extraction happens under the series' own lock, held only while
# extracting (tests/kernel/arm64-prep.sh takes it too).
serieslock=$cache/.lock-$series-$ver
exec 9>"$serieslock-$arch"
flock 9

if [ -f "$out/.done" ]; then
	log "cached debug kernel $key (linux-source $ver)"
	echo "$out"
	exit 0
fi

extract() {
	if [ ! -f "$src/.extracted" ]; then
		log "extracting linux-source $ver into $cache ..."
		rm -rf "$cache/src-$ver"
		mkdir -p "$cache/src-$ver"
		tar -C "$cache/src-$ver" -xJf "$tarball"
		touch "$src/.extracted"
	fi
}
( flock 8; extract ) 8>"$serieslock"

log "configuring debug kernel $key (allnoconfig + $(basename "$frag"))"
rm -rf "$out"
mkdir -p "$out"
make -s -C "$src" O="$out" ARCH="$arch" "${cross[@]}" \
	KCONFIG_ALLCONFIG="$frag" allnoconfig >&2

# Every option the fragment asks for must have survived dependency
# resolution; a silently dropped KASAN or lockdep would void the tests.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) opt=${line%%=*}
		grep -q "^$opt=" "$out/.config" && { log "unwanted: $line"; missing=1; } ;;
	CONFIG_*=*) grep -qxF "$line" "$out/.config" || { log "not set: $line"; missing=1; } ;;
	esac
done < "$frag"
[ "$missing" = 0 ] || { log "$(basename "$frag") does not apply cleanly"; exit 1; }

jobs=$(nproc)
log "building $image and modules with -j$jobs (about 7-12 minutes cold) ..."
start=$(date +%s)
if ! make -C "$src" O="$out" ARCH="$arch" "${cross[@]}" -j"$jobs" \
	"$image" modules \
	> "$out/build.log" 2>&1 &
then :; fi
pid=$!
while kill -0 "$pid" 2>/dev/null; do
	sleep 30
	kill -0 "$pid" 2>/dev/null || break
	n=$(grep -c '^  CC' "$out/build.log" || true)
	log "  ... $(( $(date +%s) - start ))s, $n files compiled"
done
if ! wait "$pid"; then
	log "kernel build failed; last lines of $out/build.log:"
	tail -n 40 "$out/build.log" >&2
	exit 1
fi
echo "$(( $(date +%s) - start ))" > "$out/.seconds"
log "built in $(cat "$out/.seconds")s"
touch "$out/.done"
echo "$out"
