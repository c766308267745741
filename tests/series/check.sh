#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Checks of the kernel series (make kernel-series), run by make lint:
#
#   generate    tests/series/make-series.py writes build/series/
#   git am      the series applies to a clean git copy of Debian's
#               linux-source-6.12 (made once, cached in $IVSHMEM_CACHE,
#               keyed by the source package version)
#   checkpatch  the tree's scripts/checkpatch.pl --strict on every patch
#   build       after each patch (bisectability), the directories it
#               touched build with W=1 and sparse (C=1) for x86_64, in a
#               build tree configured with allnoconfig + series.config
#               (ACRN_HSM=y, the series' options =m), cached beside it;
#               after the last patch the guest driver is cross-built for
#               arm64 the same way (allnoconfig + series-arm64.config)
#   kernel-doc  the tree's scripts/kernel-doc -none on the new C files
#   htmldocs    Sphinx with the kernel's conf.py over the new pages only
#               (Documentation/virt/ivshmem/), every warning a finding;
#               scripts/get_abi.pl validate and rest on the new ABI files
#   smoke       tests/series/smoke.py: the series' guest and host modules
#               built against Debian's 6.12 headers and booted there
#               (devices, doorbells, a host region through the HSM
#               double); SERIES_SMOKE=0 leaves it out
#
# Prints progress and times on stderr, one "ok"/"not ok" line per check
# and "series: N finding(s)" last; exits non-zero on any finding.
#
# A patch that passed checkpatch, and a commit whose tree (git's hash)
# built clean, with the same tools and fragment, are not checked again:
# stamps in $IVSHMEM_CACHE/series-<version>/stamps. SERIES_NOCACHE=1
# checks everything.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
cache=${IVSHMEM_CACHE:-/var/cache/ivshmem-test}
kseries=6.12
frag=$root/tests/series/series.config
out=$root/build/series
jobs=$(nproc)

t0=$(date +%s)
log() { printf '[series %4ss] %s\n' "$(( $(date +%s) - t0 ))" "$*" >&2; }

total=0
check() {	# check NAME COUNT
	total=$((total + $2))
	if [ "$2" = 0 ]; then
		echo "ok - series $1: no findings"
	else
		echo "not ok - series $1: $2 finding(s)"
	fi
}

ver=$(dpkg-query -W -f='${Version}' "linux-source-$kseries")
src=$cache/src-$ver/linux-source-$kseries
top=$cache/series-$ver
tree=$top/linux
mkdir -p "$top"

if [ ! -f "$src/.extracted" ]; then
	# tests/kernel/build.sh extracts it too, under the same lock.
	exec 9>"$cache/.lock-$kseries-$ver"
	flock 9
	if [ ! -f "$src/.extracted" ]; then
		log "extracting linux-source $ver ..."
		rm -rf "$cache/src-$ver"
		mkdir -p "$cache/src-$ver"
		tar -C "$cache/src-$ver" -xJf "/usr/src/linux-source-$kseries.tar.xz"
		touch "$src/.extracted"
	fi
	exec 9>&-
fi

# ------------------------------------------------------------ generate --

log "generating the series"
python3 tests/series/make-series.py --ksrc "$src" --out "$out" \
	--pkg "$ver" >/dev/null
mapfile -t patches < <(ls "$out"/[0-9][0-9][0-9][0-9]-*.patch | grep -v /0000-)
log "${#patches[@]} patches in build/series"

# -------------------------------------------------------------- git am --

gitc=(git -C "$tree" -c user.name=ivshmem-series -c user.email=series@invalid
      -c advice.detachedHead=false)
if [ ! -f "$top/.git-done" ]; then
	log "making a git repository of linux-source $ver (once, about 2 minutes) ..."
	rm -rf "$tree"
	mkdir -p "$tree"
	cp -a "$src/." "$tree/"
	rm -f "$tree/.extracted"
	"${gitc[@]}" init -q
	# -f: Debian's .gitignore ignores every top-level entry.
	"${gitc[@]}" add -A -f
	"${gitc[@]}" commit -q -m "linux-source $ver"
	"${gitc[@]}" rev-parse HEAD >"$top/.git-done"
fi
base=$(cat "$top/.git-done")
"${gitc[@]}" am --abort >/dev/null 2>&1 || true
"${gitc[@]}" checkout -q --detach "$base"
"${gitc[@]}" reset -q --hard "$base"
"${gitc[@]}" clean -q -fdx
am_found=0
if ! am_out=$("${gitc[@]}" am -q "${patches[@]}" 2>&1); then
	echo "$am_out"
	am_found=1
	"${gitc[@]}" am --abort >/dev/null 2>&1 || true
fi
check "git am to linux-source $ver" "$am_found"
log "git am: done"
mapfile -t commits < <("${gitc[@]}" rev-list --reverse "$base..HEAD")

# ---------------------------------------------------------- checkpatch --

# The patches in parallel, each into its own file. /usr/bin first: the
# SPDX check (scripts/spdxcheck.py) needs Debian's python3-ply and
# python3-git, which another python3 on PATH may lack.
cp_found=0
cpdir=$out/checkpatch
rm -rf "$cpdir"
mkdir -p "$cpdir"
# A patch that passed before with the same checkpatch is not checked again
# (a stamp per patch content; SERIES_NOCACHE=1 checks everything).
stamps=$top/stamps
mkdir -p "$stamps"
cp_sum=$(sha256sum "$tree/scripts/checkpatch.pl" "$tree/scripts/spdxcheck.py" |
	sha256sum | cut -c1-16)
# The key leaves out the mail headers' dates (the date of this tree's
# last commit), which change with every commit, whatever it touches.
cp_key() { echo "cp-$cp_sum-$(grep -v -e '^Date: ' -e '^From [0-9a-f]* ' "$1" |
	sha256sum | cut -c1-32)"; }
todo=()
for p in "${patches[@]}"; do
	if [ -z "${SERIES_NOCACHE:-}" ] && [ -f "$stamps/$(cp_key "$p")" ]; then
		: >"$cpdir/${p##*/}.txt"
	else
		todo+=("$p")
	fi
done
log "checkpatch: ${#todo[@]} of ${#patches[@]} patches to check"
[ ${#todo[@]} = 0 ] ||
printf '%s\n' "${todo[@]}" | (cd "$tree" && PATH=/usr/bin:$PATH xargs -P"$jobs" -I{} \
	sh -c 'scripts/checkpatch.pl --strict --terse --show-types --no-summary \
		--color=never "$1" >"$2/$(basename "$1").txt" 2>&1 || true' \
		sh {} "$cpdir")
for p in "${patches[@]}"; do
	res=$(cat "$cpdir/${p##*/}.txt")
	[ -n "$res" ] || touch "$stamps/$(cp_key "$p")"
	if [ -n "$res" ]; then
		sed "s@^@  ${p##*/}: @" <<<"$res"
		cp_found=$((cp_found + $(grep -c . <<<"$res")))
	fi
done
check "checkpatch --strict (${#patches[@]} patches)" "$cp_found"
log "checkpatch: done"

# --------------------------------------------------------------- build --

key=$( (cat "$frag"; echo "$ver") | sha256sum | cut -c1-12)
bld=$top/build-$key
mkdir -p "$bld"
kmake() { make -C "$tree" O="$bld" ARCH=x86_64 -j"$jobs" "$@"; }

build_found=0
prev=$base
n=0
for c in "${commits[@]}"; do
	n=$((n + 1))
	"${gitc[@]}" checkout -q --detach "$c"
	mapfile -t dirs < <("${gitc[@]}" diff --name-only "$prev" "$c" |
		grep -E '^drivers/.*(\.[ch]|/Makefile|/Kconfig)$' |
		xargs -r -n1 dirname | sort -u)
	prev=$c
	subj=$("${gitc[@]}" log -1 --format=%s "$c")
	if [ ${#dirs[@]} = 0 ]; then
		log "patch $n/${#commits[@]} ($subj): no code"
		continue
	fi
	# The same tree (git's tree hash) built clean before with the same
	# fragment and tools: not built again (SERIES_NOCACHE=1 builds).
	key=build-$( ("${gitc[@]}" rev-parse "$c^{tree}"; cat "$frag"
		gcc --version | head -1; sparse --version) | sha256sum | cut -c1-32)
	if [ -z "${SERIES_NOCACHE:-}" ] && [ -f "$stamps/$key" ]; then
		log "patch $n/${#commits[@]} ($subj): built clean before (same tree)"
		continue
	fi
	s=$(date +%s)
	kmake -s KCONFIG_ALLCONFIG="$frag" allnoconfig >/dev/null 2>&1
	# Every option of the fragment that this tree defines survived (else
	# the build proves nothing).
	defined=$("${gitc[@]}" grep -h -o -E '^(menu)?config [A-Z0-9_]+$' \
		-- '*Kconfig*' | awk '{print $2}')
	w=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			opt=${line%%=*}
			grep -qx "${opt#CONFIG_}" <<<"$defined" || continue
			grep -qxF "$line" "$bld/.config" ||
				{ echo "  series.config: not set: $line"; w=$((w + 1)); } ;;
		esac
	done <"$frag"
	targets=()
	for d in "${dirs[@]}"; do
		# Only directories with objects of their own (not drivers/virt).
		case "$d" in drivers/virt) continue ;; esac
		targets+=("$d/")
	done
	log "patch $n/${#commits[@]} ($subj): W=1 C=1 ${targets[*]} ..."
	rc=0
	res=$(kmake W=1 C=1 "${targets[@]}" 2>&1) || rc=$?
	ww=$(grep -E 'warning:|error:' <<<"$res" | grep -vcE '^\s*$' || true)
	if [ "$rc" != 0 ] && [ "$ww" = 0 ]; then
		ww=1
		tail -20 <<<"$res"
	fi
	grep -E 'warning:|error:' <<<"$res" | sed 's/^/  /' || true
	w=$((w + ww))
	[ "$w" != 0 ] || touch "$stamps/$key"
	build_found=$((build_found + w))
	log "patch $n/${#commits[@]}: built in $(( $(date +%s) - s ))s, $w finding(s)"
done
check "build after each patch (W=1, sparse, ACRN_HSM=y, options =m)" \
	"$build_found"

# --------------------------------------------------------- arm64 build --

# The series' last patch, the guest driver cross-built for arm64:
# allnoconfig + series-arm64.config, W=1 and sparse (C=1), stamped like
# the x86 builds.
frag64=$root/tests/series/series-arm64.config
bld64=$top/build-arm64-$( (cat "$frag64"; echo "$ver") | sha256sum | cut -c1-12)
mkdir -p "$bld64"
kmake64() {
	make -C "$tree" O="$bld64" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
		-j"$jobs" "$@"
}
key=build-arm64-$( ("${gitc[@]}" rev-parse "HEAD^{tree}"; cat "$frag64"
	aarch64-linux-gnu-gcc --version | head -1; sparse --version) |
	sha256sum | cut -c1-32)
a_found=0
if [ -z "${SERIES_NOCACHE:-}" ] && [ -f "$stamps/$key" ]; then
	log "arm64: built clean before (same tree)"
else
	s=$(date +%s)
	log "arm64: W=1 C=1 drivers/virt/ivshmem/ ..."
	kmake64 -s KCONFIG_ALLCONFIG="$frag64" allnoconfig >/dev/null 2>&1
	grep -qx 'CONFIG_IVSHMEM=m' "$bld64/.config" ||
		{ echo "  series-arm64.config: not set: CONFIG_IVSHMEM=m"; a_found=1; }
	# The tree's own preparation (the vDSO among it) without sparse, with
	# the same flags, so that the next make does not rebuild it: its
	# findings are the kernel's, not the series'.
	kmake64 -s W=1 prepare >/dev/null 2>&1 || a_found=$((a_found + 1))
	rc=0
	res=$(kmake64 W=1 C=1 drivers/virt/ivshmem/ 2>&1) || rc=$?
	a_found=$((a_found + $(grep -cE 'warning:|error:' <<<"$res" || true)))
	if [ "$rc" != 0 ] && [ "$a_found" = 0 ]; then
		a_found=1
		tail -20 <<<"$res"
	fi
	grep -E 'warning:|error:' <<<"$res" | sed 's/^/  /' || true
	[ "$a_found" != 0 ] || touch "$stamps/$key"
	log "arm64: built in $(( $(date +%s) - s ))s, $a_found finding(s)"
fi
check "arm64 cross build of the guest driver (W=1, sparse)" "$a_found"

# ---------------------------------------------------------- kernel-doc --

mapfile -t cfiles < <("${gitc[@]}" diff --name-only "$base" HEAD |
	grep -E '\.[ch]$')
kd=$(cd "$tree" && scripts/kernel-doc -none "${cfiles[@]}" 2>&1) || true
kd_found=$(grep -c . <<<"$kd" || true)
[ "$kd_found" = 0 ] || sed 's/^/  /' <<<"$kd"
check "kernel-doc (${#cfiles[@]} files)" "$kd_found"

# ------------------------------------------------------------ htmldocs --

# The kernel's conf.py and extensions over Documentation/virt/ivshmem
# only (a full make htmldocs takes far longer than the rest together).
s=$(date +%s)
docs=$bld/htmldocs
rm -rf "$docs"
dres=$(cd "$tree/Documentation" && srctree="$tree" sphinx-build -b html \
	-c "$tree/Documentation" -d "$docs/doctrees" -q \
	-D version="$kseries" -D release="$kseries" \
	"$tree/Documentation/virt/ivshmem" "$docs/html" 2>&1) || true
# kfigure's note that graphviz is missing is about this machine, not
# the pages (they have no figure).
dres=$(grep -v 'dot(1) not found' <<<"$dres" || true)
d_found=$(grep -cE 'WARNING|ERROR|CRITICAL' <<<"$dres" || true)
[ "$d_found" = 0 ] || sed 's/^/  /' <<<"$dres"
# The ABI entries: the tree's get_abi.pl parses and validates the new
# files alone (the tree's own files have findings of their own).
abi=$docs/abi
mkdir -p "$abi"
"${gitc[@]}" diff --name-only "$base" HEAD -- Documentation/ABI |
	(cd "$tree" && xargs -r cp -t "$abi")
ares=$(cd "$tree" && { perl scripts/get_abi.pl validate --dir "$abi";
	perl scripts/get_abi.pl rest --dir "$abi" >/dev/null; } 2>&1) || true
d_found=$((d_found + $(grep -c . <<<"$ares" || true)))
[ -z "$ares" ] || sed 's/^/  /' <<<"$ares"
check "Sphinx with the kernel's conf.py (Documentation/virt/ivshmem), get_abi.pl" "$d_found"
log "htmldocs: $(( $(date +%s) - s ))s"

# -------------------------------------------------------------- smoke --

# The series' guest and host modules booted on Debian's 6.12
# (tests/series/smoke.py). SERIES_SMOKE=0 leaves it out.
if [ "${SERIES_SMOKE:-1}" != 0 ]; then
	s=$(date +%s)
	src=0
	sres=$(python3 tests/series/smoke.py "$tree" 2>&1) || src=$?
	s_found=$(grep -c '^not ok' <<<"$sres" || true)
	if [ "$src" != 0 ] && [ "$s_found" = 0 ]; then
		s_found=1
	fi
	[ "$s_found" = 0 ] || tail -40 <<<"$sres" | sed 's/^/  /'
	check "smoke test of the series' modules on Debian's 6.12 ($(grep -c '^ok' <<<"$sres" || true) checks passed)" "$s_found"
	log "smoke: $(( $(date +%s) - s ))s"
fi

log "series checks: $(( $(date +%s) - t0 ))s in all"
echo "series: $total finding(s)"
[ "$total" = 0 ]
