#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build (or reuse) a debug test kernel from Debian's linux-source-SERIES.
#
#   tests/kernel/build.sh [SERIES]      SERIES: 6.1 (default) or 6.12
#
# The same fragment, debug.config, applies to every series. The result is
# cached outside the clone, in $IVSHMEM_CACHE (default
# /var/cache/ivshmem-test), keyed by the hash of debug.config, the series
# and the linux-source package version: a second run with the same inputs
# skips the build. Prints the kernel build directory (usable as KDIR) on
# stdout; progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${IVSHMEM_CACHE:-/var/cache/ivshmem-test}
series=${1:-6.1}
tarball=/usr/src/linux-source-$series.tar.xz
frag=$here/debug.config

log() { printf '[kernel %s] %s\n' "$series" "$*" >&2; }

[ -f "$tarball" ] || { log "missing $tarball (apt-get install linux-source-$series)"; exit 1; }
ver=$(dpkg-query -W -f='${Version}' "linux-source-$series")
# 6.1's key stays what it was before the series argument existed.
key=$( (cat "$frag"; echo "$ver"; [ "$series" = 6.1 ] || echo "$series") |
	sha256sum | cut -c1-16)
src=$cache/src-$ver/linux-source-$series
out=$cache/kernel-$key

mkdir -p "$cache"
# One lock per series and source version: the 6.1 and 6.12 kernels
# build side by side, two runs of one series take turns.
exec 9>"$cache/.lock-$series-$ver"
flock 9

if [ -f "$out/.done" ]; then
	log "cached debug kernel $key (linux-source $ver)"
	echo "$out"
	exit 0
fi

if [ ! -f "$src/.extracted" ]; then
	log "extracting linux-source $ver into $cache ..."
	rm -rf "$cache/src-$ver"
	mkdir -p "$cache/src-$ver"
	tar -C "$cache/src-$ver" -xJf "$tarball"
	touch "$src/.extracted"
fi

log "configuring debug kernel $key (allnoconfig + debug.config)"
rm -rf "$out"
mkdir -p "$out"
make -s -C "$src" O="$out" ARCH=x86_64 KCONFIG_ALLCONFIG="$frag" allnoconfig >&2

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
[ "$missing" = 0 ] || { log "debug.config does not apply cleanly"; exit 1; }

jobs=$(nproc)
log "building bzImage and modules with -j$jobs (about 7-12 minutes cold) ..."
start=$(date +%s)
if ! make -C "$src" O="$out" ARCH=x86_64 -j"$jobs" bzImage modules \
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
log "built in $(( $(date +%s) - start ))s"
touch "$out/.done"
echo "$out"
