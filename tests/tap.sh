# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers of the host-side shell tests (tests/*.sh), sourced by bash:
# "ok - ..." / "not ok - ..." lines, as the guest scripts print them.

pass=0
fail=0
skipped=0

# skip DESCRIPTION WHY: a check that cannot run here, counted as skipped
skip() {
	echo "skip - $1: $2"
	skipped=$((skipped + 1))
}

# ok_if DESCRIPTION COMMAND...: run COMMAND, report its success
ok_if() {
	local d=$1
	shift
	if "$@"; then
		echo "ok - $d"
		pass=$((pass + 1))
	else
		echo "not ok - $d"
		fail=$((fail + 1))
	fi
}

# eq DESCRIPTION GOT WANT
eq() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
		pass=$((pass + 1))
	else
		echo "not ok - $1: got '$2', want '$3'"
		fail=$((fail + 1))
	fi
}

# quiet LOG COMMAND...: run COMMAND with its output in LOG; on failure
# show the end of LOG
quiet() {
	local log=$1 rc=0
	shift
	"$@" >"$log" 2>&1 || rc=$?
	if [ "$rc" != 0 ]; then
		echo "# failed ($rc): $*"
		tail -20 "$log" | sed 's/^/#   /'
	fi
	return $rc
}

# ko_suffix KDIR: the file name ending of modules installed for the
# kernel built in KDIR: its config compresses them on install (Debian's
# 6.12 kernels: xz; its 6.1 kernels and the debug kernels: none).
ko_suffix() {
	local c=$1/.config
	if grep -qs '^CONFIG_MODULE_COMPRESS_XZ=y' "$c"; then echo .ko.xz
	elif grep -qs '^CONFIG_MODULE_COMPRESS_ZSTD=y' "$c"; then echo .ko.zst
	elif grep -qs '^CONFIG_MODULE_COMPRESS_GZIP=y' "$c"; then echo .ko.gz
	else echo .ko
	fi
}

# finish NAME: the summary line; exit status 1 on any failure
finish() {
	echo "# $1: $pass passed, $fail failed, $skipped skipped"
	[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
}
