#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Debian packaging test (debian/, "make deb"):
#
# - make deb builds ivshmem-dkms, ivshmem-tools and ivshmem-dev in
#   build/deb/ and leaves the work tree as it was; lintian reports no
#   error and no warning; every version is VERSION's;
# - dpkg -i installs them on this machine with the headers of one kernel
#   only in sight ($k, below): the postinst's DKMS builds both modules
#   for it, without a compiler or modpost warning, and skips, without
#   failing, each installed kernel whose headers it does not find (the
#   others: their headers are hidden from dpkg -i, see "Which kernels");
#   then the headers of another kernel "arrive" (DKMS's
#   header_postinst.d hook, as linux-headers-* runs it) and DKMS builds
#   for that one too; each build is checked in detail; the modules'
#   MODULE_VERSION is VERSION; each tool's --help exits 0 and its man
#   page is that --help (help2man); the uapi headers compile from
#   /usr/include; the udev rule is in /lib/udev/rules.d;
# - dpkg --purge leaves no file of ours: the file lists of the places a
#   package or DKMS writes to are the same as before the install.
#
# Which kernels. DEB_KERNEL=<release> (default: linux-image-amd64's) is
# the one whose headers dpkg -i sees; with a directory argument, its
# installed modules and the installed ivshmem-msg are copied there before
# the purge: ivt_packaging.py's "deb" test loads them in a 6.1 QEMU
# guest. DEB_LATE_KERNEL=<release> (default: the newest other kernel with
# headers that is not PREEMPT_RT) is the one whose headers arrive after
# the package; without one, DKMS's build for $DEB_KERNEL is undone and
# the hook redoes it. The headers of every other kernel (here Debian's
# PREEMPT_RT 6.1 and 6.12) stay hidden from DKMS: a build for them would
# run the same dkms.conf and make as the stock kernels' builds do (no
# line of dkms.conf depends on the kernel's flavour), and make check's
# 6.1-rt and 6.12-rt flavours build the same modules W=1 against their
# headers and load them in a guest. The package itself builds for every
# kernel with headers (debian/ivshmem-dkms.postinst); the hiding is a
# private mount namespace of dpkg -i's (unshare -m), nothing on the
# machine changes.
#
# Prints "ok"/"not ok"/"skip" lines; exits non-zero on a failure. Needs
# root; leaves no dpkg or DKMS state behind (also when interrupted).
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

export_dir=${1:-}
if [ -z "${DEB_KERNEL:-}" ]; then
	pkg=$(dpkg-query -W -f='${Depends}' linux-image-amd64 |
		grep -o 'linux-image-[[:alnum:]._-]*' | head -1)
	DEB_KERNEL=${pkg#linux-image-}
fi
k=$DEB_KERNEL
ko=$(ko_suffix "/lib/modules/$k/build")
# The installed kernels with headers; every one but $k is out of dpkg -i's
# sight; $late's headers "arrive" afterwards (see "Which kernels" above).
with_headers=()
for d in /lib/modules/*/; do
	[ -e "$d/build/include" ] && with_headers+=("$(basename "$d")")
done
hidden=()
for kk in "${with_headers[@]}"; do
	[ "$kk" = "$k" ] || hidden+=("$kk")
done
if [ -z "${DEB_LATE_KERNEL+set}" ]; then
	DEB_LATE_KERNEL=$(printf '%s\n' "${hidden[@]}" | grep -v -- '-rt-' |
		sort -V | tail -1)
fi
late=$DEB_LATE_KERNEL
name=ivshmem
ver=$(cat VERSION)
pkgs=(ivshmem-dkms ivshmem-tools ivshmem-dev)
tools=(ivshmem-server/ivshmem-server ivshmem-admin/ivshmem-admin ivshmem-msg/ivshmem-msg
	ivshmem-chan/ivshmem-chan-operator ivshmem-chan/ivshmem-chan-responder)
debdir=build/deb
log=$(mktemp -d /tmp/ivshmem-deb.XXXXXX)
installed=
mok_before=$(ls /var/lib/dkms/mok.key /var/lib/dkms/mok.pub 2>/dev/null)

# What a package or DKMS may write to (/lib is /usr/lib on Debian 12).
snapshot() {
	find /usr/src /usr/bin /usr/sbin /usr/include /usr/share/man \
		/usr/share/doc /usr/lib/udev /lib/udev /usr/lib/modules \
		/lib/modules /var/lib/dkms /var/lib/dpkg/info /etc -xdev \
		2>/dev/null | sort -u
}

cleanup() {
	local p
	if [ -n "$installed" ]; then
		for p in "${pkgs[@]}"; do
			if dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
				grep -qv not-installed; then
				dpkg --purge "$p" >/dev/null 2>&1
			fi
		done
		if dkms status "$name/$ver" 2>/dev/null | grep -q .; then
			dkms remove "$name/$ver" --all >/dev/null 2>&1
		fi
		rm -rf "/usr/src/$name-$ver"
		# DKMS's signing key, made on its first use: restore the
		# machine as it was when this run created it.
		[ -n "$mok_before" ] ||
			rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
	fi
	rm -rf "$log"
}
trap cleanup EXIT

# 1. make deb, from the tree as it is, into build/deb/ only.
tree_files() {
	{ find . -maxdepth 1; find debian samples; } | sort
}
tree_files > "$log/tree.before"
t0=$(date +%s)
ok_if "make deb" quiet "$log/make-deb" make deb
echo "# make deb took $(($(date +%s) - t0)) s"
tree_files > "$log/tree.after"
eq "make deb leaves no file in the work tree (outputs under build/deb/)" \
	"$(comm -13 "$log/tree.before" "$log/tree.after" | head -5 | tr '\n' ' ')" ""
for p in "${pkgs[@]}"; do
	deb=$(ls "$debdir/${p}_${ver}_"*.deb 2>/dev/null | head -1)
	eq "$p: package version is VERSION" \
		"$(dpkg-deb -f "$deb" Version 2>/dev/null)" "$ver"
done
ok_if "dkms.conf: PACKAGE_VERSION is VERSION" \
	quiet "$log/version-check" make -s version-check
eq "ivshmem-dkms ships /usr/src/$name-$ver/dkms.conf" \
	"$(dpkg-deb -c "$debdir/ivshmem-dkms_${ver}_all.deb" 2>/dev/null |
		grep -c " \./usr/src/$name-$ver/dkms.conf$")" 1

# 2. lintian at its default level, overrides in debian/ (each says why).
t0=$(date +%s)
lintian --fail-on error,warning "$debdir/${name}_${ver}_"*.changes \
	> "$log/lintian" 2>&1
rc=$?
grep -v '^running with root privileges' "$log/lintian" | sed 's/^/# lintian: /'
eq "lintian: no error, no warning" "$rc" 0
echo "# lintian took $(($(date +%s) - t0)) s"

# ivshmem-admin reads scenarios with libxml2, linked dynamically: the
# package depends on it (shlibs) and its man page has the scenario rules.
tools_deb=$(ls "$debdir/ivshmem-tools_${ver}_"*.deb 2>/dev/null | head -1)
eq "ivshmem-tools Depends on libxml2 (ivshmem-admin load, dynamic)" \
	"$(dpkg-deb -f "$tools_deb" Depends 2>/dev/null | tr ',' '\n' | grep -c '^ *libxml2 ')" 1
eq "ivshmem-admin(1) has the SCENARIO FILES section" \
	"$(dpkg-deb --fsys-tarfile "$tools_deb" 2>/dev/null |
		tar -xO ./usr/share/man/man1/ivshmem-admin.1.gz 2>/dev/null |
		zcat | grep -c '^\.SH "SCENARIO FILES"')" 1

# 3. Install on this machine.
have=$( (dpkg-query -W -f='${Package} ${Status}\n' 'ivshmem*' 2>/dev/null |
	grep -v not-installed; dkms status "$name" 2>/dev/null;
	ls -d /usr/src/$name-* 2>/dev/null) | head -1)
if [ "$(id -u)" != 0 ]; then
	skip "dpkg -i, DKMS, dpkg --purge" "not root"
	finish deb
	exit
elif [ -n "$have" ]; then
	skip "dpkg -i, DKMS, dpkg --purge" "ivshmem is installed already ($have)"
	finish deb
	exit
elif [ ! -e "/lib/modules/$k/build/include" ]; then
	skip "dpkg -i, DKMS, dpkg --purge" "no headers for $k"
	finish deb
	exit
fi
snapshot > "$log/files.before"
installed=1
debs=()
for p in "${pkgs[@]}"; do
	debs+=("$(ls "$debdir/${p}_${ver}_"*.deb | head -1)")
done
# dpkg -i in a mount namespace of its own in which the headers of every
# kernel but $k are an empty directory: the postinst finds
# /lib/modules/<release>/build/include for $k alone, as on a machine
# where only $k's headers are installed.
no_headers=$log/no-headers
mkdir "$no_headers"
seeing_k_only() {
	# shellcheck disable=SC2016 # expanded by the sh in the namespace
	HIDDEN="${hidden[*]}" unshare --mount --propagation private sh -c '
		e=$1
		shift
		for kk in $HIDDEN; do
			mount --bind "$e" "$(readlink -f "/lib/modules/$kk/build")" ||
				exit 1
		done
		exec "$@"' sh "$no_headers" "$@"
}
t0=$(date +%s)
ok_if "dpkg -i ${pkgs[*]} (the headers of $k alone in sight)" \
	quiet "$log/dpkg-i" seeing_k_only dpkg -i "${debs[@]}"
echo "# dpkg -i (DKMS build included) took $(($(date +%s) - t0)) s"
sed -n 's/^\(Building for .*\)/# postinst: \1/p' "$log/dpkg-i"
for kk in "${hidden[@]}"; do
	eq "postinst: no build for $kk (no headers in sight), no failure" \
		"$(dkms status "$name/$ver" -k "$kk" 2>/dev/null | grep -cF ", $kk, ")" 0
done

# A kernel whose headers come later: linux-headers-<k>'s postinst runs
# /etc/kernel/header_postinst.d/dkms <k> (AUTOINSTALL="yes").
hook=/etc/kernel/header_postinst.d/dkms
built=("$k")
if [ ! -x "$hook" ]; then
	skip "header_postinst.d/dkms builds for a later kernel" "no $hook"
elif [ -n "$late" ]; then
	t0=$(date +%s)
	ok_if "header_postinst.d/dkms $late (its headers arrive after the package)" \
		quiet "$log/hook" "$hook" "$late"
	echo "# the hook's DKMS build took $(($(date +%s) - t0)) s"
	built+=("$late")
else
	# No other kernel with headers: as if $k's came later.
	ok_if "dkms unbuild -k $k (as if $k were new)" \
		quiet "$log/unbuild-k" dkms unbuild "$name/$ver" -k "$k"
	eq "... $name/$ver stays added, not built for $k" \
		"$(dkms status "$name/$ver" 2>/dev/null)" "$name/$ver: added"
	t0=$(date +%s)
	ok_if "header_postinst.d/dkms $k (a later kernel's headers)" \
		quiet "$log/hook" "$hook" "$k"
	echo "# the hook's DKMS build took $(($(date +%s) - t0)) s"
fi

# Each kernel DKMS built for (by the postinst, by the hook) has the
# modules, each built without a warning, with the package's version and
# that kernel's vermagic.
check_module() {
	local kk=$1 m=$2 kko=$3 dest=/lib/modules/$1/updates/dkms
	eq "$kk: $m: modinfo finds it in $dest" \
		"$(modinfo -k "$kk" -n "$m" 2>/dev/null)" "$dest/$m$kko"
	eq "$kk: $m: MODULE_VERSION is VERSION ($ver)" \
		"$(modinfo -k "$kk" -F version "$m" 2>/dev/null)" "$ver"
	eq "$kk: $m: vermagic is $kk" \
		"$(modinfo -k "$kk" -F vermagic "$m" 2>/dev/null | cut -d' ' -f1)" "$kk"
}
for kk in "${built[@]}"; do
	d=/lib/modules/$kk
	eq "DKMS built and installed $name/$ver for $kk" \
		"$(dkms status "$name/$ver" -k "$kk" 2>/dev/null)" \
		"$name/$ver, $kk, $(uname -m): installed"
	mlog=/var/lib/dkms/$name/$ver/$kk/$(uname -m)/log/make.log
	ok_if "DKMS make.log for $kk exists" test -s "$mlog"
	w=$(grep -iE 'warning:|error:' "$mlog" 2>/dev/null | head -3)
	eq "DKMS build for $kk: no compiler or modpost warning" "$w" ""
	kko=$(ko_suffix "$d/build")
	check_module "$kk" ivshmem "$kko"
	case "$(uname -m)" in
	x86_64|i?86) check_module "$kk" ivshmem_host "$kko" ;;
	esac
	ok_if "$kk: modprobe resolves ivshmem in updates/dkms" sh -c \
		"modprobe -S '$kk' --show-depends ivshmem | grep -q 'updates/dkms/ivshmem$kko'"
	eq "$kk: no KUnit module installed" \
		"$(find "$d" -path '*/updates/*' -name '*kunit*' | head -1)" ""
done

# For the guest test (what dpkg -i installed)
if [ -n "$export_dir" ]; then
	mkdir -p "$export_dir"
	cp /usr/bin/ivshmem-msg "$export_dir/"
	# The guest's busybox insmod takes plain .ko files.
	for f in "/lib/modules/$k/updates/dkms/"*"$ko"; do
		case "$ko" in
		.ko) cp "$f" "$export_dir/" ;;
		.ko.xz) xz -dc "$f" > "$export_dir/$(basename "$f" .xz)" ;;
		.ko.zst) zstd -qdc "$f" > "$export_dir/$(basename "$f" .zst)" ;;
		.ko.gz) gzip -dc "$f" > "$export_dir/$(basename "$f" .gz)" ;;
		esac
	done
fi

# The tools: --help and the man page say the same.
for p in "${tools[@]}"; do
	t=${p#*/}
	ok_if "$t --help exits 0" quiet "$log/$t.help" "/usr/bin/$t" --help
	man=/usr/share/man/man1/$t.1.gz
	ok_if "$t: man page $man" test -s "$man"
	help2man --no-info --section=1 --version-string="$ver" \
		--include="samples/$p.h2m" "/usr/bin/$t" 2>/dev/null |
		grep -v '^\.\(TH\|\\"\)' > "$log/$t.want"
	zcat "$man" 2>/dev/null | grep -v '^\.\(TH\|\\"\)' > "$log/$t.got"
	ok_if "$t: the man page is its --help (help2man)" \
		cmp -s "$log/$t.want" "$log/$t.got"
	ok_if "$t: man renders the page without warnings" sh -c \
		"! MANWIDTH=80 man --warnings -l '$man' 2>&1 >/dev/null | grep -q ."
done

# The ivshmem-chan example builds from its installed copy and the
# installed headers alone.
ex=/usr/share/doc/ivshmem-dev/examples
mkdir -p "$log/chan"
cp "$ex"/*.c "$ex"/*.h "$log/chan/" 2>/dev/null
ok_if "ivshmem-dev: the ivshmem-chan example builds from $ex and /usr/include" \
	quiet "$log/chan.build" sh -c "cd '$log/chan' &&
		gcc -Wall -Werror -o op operator.c ivshmem-chan.c &&
		gcc -Wall -Werror -o resp responder.c ivshmem-chan.c"

# The uapi headers, from /usr/include alone.
printf '%s\n' '#include <linux/ivshmem.h>' '#include <linux/ivshmem_host.h>' \
	'int main(void) { return !IVSHMEM_IOCTL_INFO; }' > "$log/uapi.c"
ok_if "ivshmem-dev: <linux/ivshmem.h> and <linux/ivshmem_host.h> compile" \
	quiet "$log/uapi" gcc -Wall -Werror -o "$log/uapi" "$log/uapi.c"
ok_if "ivshmem-dkms: udev rule in /lib/udev/rules.d" \
	cmp -s udev/90-ivshmem.rules /lib/udev/rules.d/90-ivshmem.rules

# 4. Purge: nothing of ours left.
t0=$(date +%s)
ok_if "dpkg --purge ${pkgs[*]}" quiet "$log/purge" dpkg --purge "${pkgs[@]}"
echo "# dpkg --purge took $(($(date +%s) - t0)) s"
eq "dkms status $name is empty" "$(dkms status "$name" 2>/dev/null)" ""
for kk in "${built[@]}"; do
	eq "modinfo no longer finds ivshmem for $kk" \
		"$(modinfo -k "$kk" -n ivshmem 2>/dev/null)" ""
done
# DKMS's signing key (/var/lib/dkms/mok.*) is DKMS's, made on its first
# use and kept for later builds: not a file of ours.
snapshot | grep -vx '/var/lib/dkms/mok\.\(key\|pub\)' > "$log/files.after"
grep -vx '/var/lib/dkms/mok\.\(key\|pub\)' "$log/files.before" \
	> "$log/files.before2"
diff "$log/files.before2" "$log/files.after" | grep '^[<>]' | head -5 |
	sed 's/^/# left behind or gone: /'
ok_if "dpkg --purge leaves the file lists as before the install" \
	cmp -s "$log/files.before2" "$log/files.after"

finish deb
