#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make lint: the quality gates of the module pair. Each must be at zero.
#
#   checkpatch  scripts/checkpatch.pl --strict on every C file and header
#               of guest/, host/, kunit/, net/, uapi/ and compat.h, with the
#               checkpatch of 6.1 and of 6.12
#   sparse      make C=2 against the 6.1 and 6.12 debug kernels and
#               Debian's headers of 6.1, 6.1-rt, 6.12 and 6.12-rt
#   W=1         make W=1 against the same six trees (gcc and modpost)
#   arm64       the guest driver (guest/ only: the host module needs x86's
#               ACRN_HSM) cross-built W=1, then with sparse (C=2), for
#               ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- against an
#               arm64 defconfig tree of linux-source-6.12
#               (tests/kernel/arm64-prep.sh, cached); objects only, no
#               modpost (the tree has no vmlinux to resolve symbols from)
#   uapi        each uapi header compiles alone in userspace (-std=c90),
#               as the kernel's own headers check does; make install
#               ships them
#   kernel-doc  scripts/kernel-doc -none over the same files as checkpatch,
#               with the kernel-doc of 6.1 and of 6.12
#   docs        make docs: Sphinx over Documentation/, each warning a
#               finding
#   series      make kernel-series checked in Debian's linux-source-6.12
#               (tests/series/check.sh): git am, checkpatch --strict on
#               the patches, W=1 + sparse build after each patch,
#               kernel-doc, Sphinx with the kernel's conf.py
#
# Builds happen in copies under build/lint/ so the work tree stays clean.
# Prints every finding, one "ok"/"not ok" line per gate and a summary;
# exits non-zero on any finding.
#
# Environment: LINT_KDIR, LINT_KDIR_612 (default: the debug kernels of
# tests/kernel/build.sh 6.1 and 6.12), LINT_STOCK_KDIRS (default: Debian's
# newest installed headers of 6.1, 6.1-rt, 6.12, 6.12-rt; "none" skips
# them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/build/lint

log() { printf '[lint] %s\n' "$*"; }

./tests/deps.sh >&2
kdir=${LINT_KDIR:-$(./tests/kernel/build.sh 6.1)}
kdir612=${LINT_KDIR_612:-$(./tests/kernel/build.sh 6.12)}

# newest_headers SERIES SUFFIX: Debian's newest installed headers
newest_headers() {
	find /usr/src -maxdepth 1 -name "linux-headers-$1.*-$2" |
		grep -vE -- "-(rt|cloud)-$2\$" | sort -V | tail -1
}
if [ -z "${LINT_STOCK_KDIRS:-}" ]; then
	LINT_STOCK_KDIRS="$(newest_headers 6.1 amd64) $(newest_headers 6.1 rt-amd64)"
	LINT_STOCK_KDIRS+=" $(newest_headers 6.12 amd64) $(newest_headers 6.12 rt-amd64)"
fi
# The tool of a kernel tree (its source, for an O= build).
tool() {
	local t
	t=$(readlink -f "$1/source" 2>/dev/null || readlink -f "$1")/scripts/$2
	echo "$t"
}

total=0
summary=()
# gate KEY DESCRIPTION COUNT: record a gate's result
gate() {
	total=$((total + $3))
	summary+=("$1 $3")
	if [ "$3" = 0 ]; then
		echo "ok - $2: no findings"
	else
		echo "not ok - $2: $3 finding(s)"
	fi
}

# ---------------------------------------------------------- checkpatch --

mapfile -t files < <(
	{ find guest host kunit net uapi -name '*.[ch]' ! -name '*.mod.c' \
		2>/dev/null; ls compat.h; } | sort)

# uapi/linux/*.h is checked as include/uapi/linux/*.h, where it lands in
# the kernel: checkpatch applies its uapi rules only under that path (no
# BIT() suggestion, since BIT() is not exported to userspace; c99 types
# allowed). The scratch tree holds symlinks; names are mapped back below.
scratch=$out/checkpatch
rm -rf "$scratch"
mkdir -p "$scratch/include/uapi/linux"

# checkpatch_all CHECKPATCH: findings of one checkpatch over all files
checkpatch_all() {
	local checkpatch=$1 f res n=0 args
	if [ ! -x "$checkpatch" ]; then
		# A tree without scripts (Debian's headers as LINT_KDIR_612).
		echo "checkpatch not found at $checkpatch" >&2
		echo 1
		return
	fi
	for f in "${files[@]}"; do
		args=(--strict --no-tree --file --terse --show-types --no-summary
		      --color=never)
		case "$f" in
		compat.h)
			# The one header whose job is to compare LINUX_VERSION_CODE;
			# checkpatch discourages it for code merged into the kernel,
			# where no other version exists.
			args+=(--ignore LINUX_VERSION_CODE) ;;
		esac
		case "$f" in
		uapi/*)
			ln -sf "$root/$f" "$scratch/include/$f"
			res=$(cd "$scratch" && "$checkpatch" "${args[@]}" "include/$f" |
				sed "s@^include/uapi/@uapi/@") || true ;;
		*)
			res=$("$checkpatch" "${args[@]}" "$f") || true ;;
		esac
		if [ -n "$res" ]; then
			echo "$res" >&2
			n=$((n + $(grep -c . <<<"$res")))
		fi
	done
	echo "$n"
}

for k in "$kdir" "$kdir612"; do
	ver=$(make -s -C "$k" kernelversion 2>/dev/null | tail -1)
	n=$(checkpatch_all "$(tool "$k" checkpatch.pl)")
	gate "checkpatch/${ver%.*}" "checkpatch --strict of $ver (${#files[@]} files)" "$n"
done

# ------------------------------------------------------- sparse, W=1 --

# copy_tree DIR: the module sources, without build products, in DIR
copy_tree() {
	rsync -a --delete --delete-excluded \
		--exclude /build --exclude /.git --exclude /tests \
		--exclude /samples --exclude '*.o' --exclude '*.ko' \
		--exclude '*.mod' --exclude '*.mod.c' --exclude '.*.cmd' \
		--exclude '*.a' --exclude Module.symvers \
		--exclude modules.order \
		"$root/" "$1/"
}

# build NAME KDIR: W=1 build, then the sparse pass, in a copy of the tree
build() {
	local name=$1 k=$2 src=$out/$1 w1 sp n rc
	mkdir -p "$src"
	copy_tree "$src"
	log "W=1 build against $k"
	rc=0
	w1=$(make -C "$k" M="$src" W=1 modules 2>&1) || rc=$?
	n=$(grep -ciE 'warning:|error:' <<<"$w1" || true)
	if [ "$rc" != 0 ] && [ "$n" = 0 ]; then
		n=1
		echo "$w1" | tail -20
	fi
	grep -iE 'warning:|error:' <<<"$w1" || true
	gate "W=1/$name" "W=1 build against $k" "$n"

	# C=2 runs sparse on every source; the objects are up to date with
	# the same flags, so only sparse speaks here.
	log "sparse (make C=2) against $k"
	rc=0
	sp=$(make -C "$k" M="$src" W=1 C=2 modules 2>&1) || rc=$?
	n=$(grep -ciE 'warning:|error:' <<<"$sp" || true)
	if [ "$rc" != 0 ] && [ "$n" = 0 ]; then
		n=1
		echo "$sp" | tail -20
	fi
	grep -iE 'warning:|error:' <<<"$sp" || true
	gate "sparse/$name" "sparse (C=2) against $k" "$n"
}

build debug-6.1 "$kdir"
build debug-6.12 "$kdir612"
if [ "$LINT_STOCK_KDIRS" != none ]; then
	for k in $LINT_STOCK_KDIRS; do
		build "${k#/usr/src/linux-headers-}" "$k"
	done
fi

# -------------------------------------------------------------- arm64 --

# The guest driver for arm64: user mappings' memory types and the I/O
# accessors are where x86 PAT would hide a mistake. Each warning or error
# is a finding; a build that fails without one counts as one.
arm64_build() {
	local src=$out/arm64 k rc res n pass
	if ! k=$(./tests/kernel/arm64-prep.sh); then
		gate arm64 "arm64 tree (tests/kernel/arm64-prep.sh)" 1
		return
	fi
	mkdir -p "$src"
	copy_tree "$src"
	# W=1 first; then C=2, which runs sparse on every source again.
	for pass in W=1 C=2; do
		log "arm64 guest/ build ($pass) against $k"
		rc=0
		res=$(make -C "$k" M="$src" ARCH=arm64 \
			CROSS_COMPILE=aarch64-linux-gnu- CONFIG_KUNIT= \
			W=1 "$pass" guest/ 2>&1) || rc=$?
		n=$(grep -ciE 'warning:|error:' <<<"$res" || true)
		if [ "$rc" != 0 ] && [ "$n" = 0 ]; then
			n=1
			echo "$res" | tail -20
		fi
		grep -iE 'warning:|error:' <<<"$res" || true
		gate "arm64/$pass" "arm64 guest driver, $pass, against $k" "$n"
	done
}
arm64_build

# --------------------------------------------------------------- uapi --

uapi_found=0
for h in uapi/linux/*.h; do
	res=$(echo "#include <linux/${h##*/}>" |
		gcc -x c -std=c90 -Wall -Wextra -Werror -fsyntax-only \
			-Iuapi - 2>&1) || {
		echo "$h: does not compile alone in userspace:"
		echo "$res"
		uapi_found=$((uapi_found + 1))
	}
done
gate uapi "uapi headers compile alone in userspace" $uapi_found

# ---------------------------------------------------------- kernel-doc --

# The kernel's own kernel-doc checker: every /** comment must describe the
# function or structure it sits on (parameters, members, no stale names).
kd_found=0
for k in "$kdir" "$kdir612"; do
	kdoc=$(tool "$k" kernel-doc)
	if [ -f "$kdoc" ]; then
		kd_out=$(perl "$kdoc" -none "${files[@]}" 2>&1 || true)
		if [ -n "$kd_out" ]; then
			printf '%s: %s\n' "$kdoc" "$kd_out"
			kd_found=$((kd_found + $(printf '%s\n' "$kd_out" | grep -c . || true)))
		fi
	else
		echo "kernel-doc not found at $kdoc"
		kd_found=$((kd_found + 1))
	fi
done
gate kernel-doc "kernel-doc comments of 6.1 and 6.12 (${#files[@]} files)" "$kd_found"

# ---------------------------------------------------------------- docs --

# make docs fails on the first warning (-W) but reports all of them
# (--keep-going); each WARNING/ERROR line is one finding.
docs_rc=0
docs_out=$(make -s docs 2>&1) || docs_rc=$?
docs_found=$(grep -cE 'WARNING|ERROR|CRITICAL' <<<"$docs_out" || true)
if [ "$docs_rc" != 0 ] && [ "$docs_found" = 0 ]; then
	docs_found=1
fi
[ "$docs_found" = 0 ] || echo "$docs_out"
gate docs "Sphinx build of Documentation/ (make docs, -W -n)" "$docs_found"

# -------------------------------------------------------------- series --

# The patch series for 6.12; its own progress goes to stderr, each
# finding and its ok/not ok lines to stdout.
series_rc=0
series_out=$(./tests/series/check.sh) || series_rc=$?
echo "$series_out"
series_found=$(sed -n 's/^series: \([0-9]*\) finding(s)$/\1/p' <<<"$series_out")
if [ -z "$series_found" ] || { [ "$series_rc" != 0 ] && [ "$series_found" = 0 ]; }; then
	series_found=1
fi
gate series "kernel series against linux-source-6.12 (tests/series/check.sh)" "$series_found"

all=$(IFS=,; echo "${summary[*]}")
echo "lint: $total finding(s): ${all//,/, }"
[ "$total" = 0 ]
