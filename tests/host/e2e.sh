#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end test of ivshmem_host.ko, run INSIDE the guest (busybox sh).
# Modules in /lib/ivshmem, programs (ivshmem-host-e2e, ivshmem-admin,
# bench_region) in /usr/bin, the harness's helpers in /lib/ivt.sh. Prints
# one "ok - ...", "not ok - ..." or "skip - ..." line per check and exits
# non-zero if any check failed or the script did not reach its end. Set
# IVSHMEM_BENCH=1 to also run the 512 MiB benchmark (needs a 2 GiB guest).
#
# The kernel log is never cleared (the harness scans all of it): each
# phase writes a mark (IVT-MARK) and reads the log after it.

if ! . /lib/ivt.sh; then
	echo "not ok - host_e2e.sh: source the harness helpers /lib/ivt.sh"
	exit 1
fi

MODDIR=${MODDIR:-/lib/ivshmem}
KO=$MODDIR/ivshmem_host.ko
PARAM='hv:/shm_region_0,2,0:2;dm:/test,2,1:2'
SYS=/sys/module/ivshmem_host
LOG=/tmp/host_e2e.out
END="# host_e2e.sh: every phase ran"

ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; }

# attached NAME: the ATTACHED column of NAME in "ivshmem-admin list".
attached() {
	ivshmem-admin list | awk -v n="$1" '$2 == n { print $5; f = 1 } END { if (!f) print "none" }'
}

# log_has MARK TEXT: the kernel log after MARK holds the fixed string TEXT.
log_has() {
	since_mark "$1" | grep -qF -- "$2"
}

# A bad module parameter fails the load with the rule's errno, the log
# names the rule and the module is not left loaded.
bad_param() {
	desc=$1 param=$2 rule=$3 err=$4 errtext=$5
	mark "host_e2e [bad param: $desc]"
	if out=$(insmod "$KO" "regions=$param" 2>&1); then
		nok "load refused: $desc: insmod succeeded"
		rmmod ivshmem_host
		return
	fi
	log=$(since_mark "host_e2e [bad param: $desc]")
	if ! printf '%s\n' "$log" | grep -q "ivshmem_host: regions: .*$rule ($err)"; then
		nok "load refused: $desc: no log line with \"$rule ($err)\""
		printf '%s\n' "$log" | tail -3
	elif ! printf '%s' "$out" | grep -qF "$errtext"; then
		nok "load refused: $desc: insmod says '$out', want '$errtext'"
	elif [ -e $SYS ]; then
		nok "load refused: $desc: but $SYS exists"
	else
		ok "load refused: $desc ($errtext; log: $rule)"
	fi
}

main() {
	rmmod ivshmem_host 2>/dev/null
	t "ivshmem_host not loaded at the start" test ! -e $SYS

	bad_param "no prefix" "shm_region_0,2,0:2" "must start with hv:/ or dm:/" -22 "Invalid argument"
	bad_param "size 3" "dm:/a,3,0:2" "power of two" -22 "Invalid argument"
	bad_param "size 1024" "dm:/a,1024,0:2" "size must be from 2 to 512 MiB" -34 "out of range"
	bad_param "one VM" "dm:/a,2,0" "at least two member VMs" -22 "Invalid argument"
	bad_param "duplicate name" "dm:/a,2,0:1;dm:/a,4,1:2" "used twice" -17 "File exists"
	bad_param "name too long" "dm:/1234567890123456789012345678,2,0:1" "name is longer than 27 characters after its prefix" -36 "too long"
	bad_param "'-' in a name" "dm:/a-b,2,0:1" "letters, digits and '_' after its prefix" -22 "Invalid argument"
	bad_param "region ID 65536" "dm:/a,2,0:1,65536" "region ID is above 65535" -34 "out of range"
	bad_param "region ID twice" "dm:/a,2,0:1,4;dm:/b,2,0:1,4" "region ID is already in use" -17 "File exists"
	bad_param "second entry bad" "dm:/a,2,0:1;hv:/b,2,1:1" "entry 1: a VM ID is listed twice" -22 "Invalid argument"

	mark "host_e2e [load]"
	t "insmod with regions=\"$PARAM\"" insmod "$KO" "regions=$PARAM"
	eq "$SYS/initstate is live" "$(cat $SYS/initstate 2>&1)" live
	t "/dev/ivshmem_host exists" test -c /dev/ivshmem_host
	t "log: regions from the module parameter" \
		log_has "host_e2e [load]" "2 region(s) from the module parameter"
	eq "$SYS/refcnt with nothing open" "$(cat $SYS/refcnt)" 0

	run ivshmem-host-e2e
	eq "$SYS/refcnt after ivshmem-host-e2e: no file left open" "$(cat $SYS/refcnt)" 0

	# The admin CLI.
	t "ivshmem-admin info: ABI, not ACRN, 2 regions, no memory" sh -c \
		'ivshmem-admin info | grep -qxE "abi 2, not ACRN, 2/64 regions, 0 bytes in 0 dm-land memories"'
	t "ivshmem-admin create dm:/cli,4,3:4: 3 regions now" sh -c \
		'ivshmem-admin create dm:/cli,4,3:4 && ivshmem-admin info | grep -q " 3/64 regions"'
	t "ivshmem-admin list shows dm:/cli: 4 MiB, VMs 3:4, none attached" sh -c \
		'ivshmem-admin list | grep -qE "^[0-9]+ +dm:/cli +4 +3:4 +0 +0$"'
	t "ivshmem-admin create dm:/cli_id,2,3:4,77: region ID 77" sh -c \
		'ivshmem-admin create dm:/cli_id,2,3:4,77 && ivshmem-admin list | grep -qE "^77 +dm:/cli_id +2 +3:4 "'
	fails_with "ivshmem-admin create with region ID 77 again: EEXIST" \
		"ADD (see dmesg for the rule): File exists" \
		ivshmem-admin create dm:/cli_id2,2,3:4,77
	t "ivshmem-admin remove dm:/cli_id" ivshmem-admin remove dm:/cli_id
	fails_with "ivshmem-admin create refuses size 3 (EINVAL)" \
		"ADD (see dmesg for the rule): Invalid argument" \
		ivshmem-admin create dm:/cli3,3,3:4
	eq "... and dm:/cli3 is not in the list" "$(attached dm:/cli3)" none
	eq "ivshmem-admin attach runs a command with the fd and the size" \
		"$(ivshmem-admin attach dm:/cli 3 -- sh -c 'test -e /proc/self/fd/$IVSHMEM_FD && echo $IVSHMEM_SIZE' | tail -1)" 4194304
	eq "... while it runs: VM 3 attached, 4 MiB allocated, module refcnt 2" \
		"$(ivshmem-admin attach dm:/cli 3 -- sh -c 'ivshmem-admin list | awk "\$2 == \"dm:/cli\" { print \$5 }"; ivshmem-admin info | grep -o "4194304 bytes in 1 dm"; cat /sys/module/ivshmem_host/refcnt' | tail -3 | tr '\n' ' ')" \
		"1 4194304 bytes in 1 dm 2 "
	eq "... after it: none attached" "$(attached dm:/cli)" 0
	t "... and the memory is freed" sh -c \
		'ivshmem-admin info | grep -q " 0 bytes in 0 dm-land memories"'
	fails_with "ivshmem-admin attach refuses a non-member (EACCES)" \
		"ATTACH: Permission denied" ivshmem-admin attach dm:/cli 5 -- true
	eq "... and left nothing attached" "$(attached dm:/cli)" 0
	fails_with "ivshmem-admin ring without peers fails (ENOTCONN)" \
		"RING: Transport endpoint is not connected" ivshmem-admin ring dm:/cli 3 4 0
	# rmmod is refused while an attachment is open.
	fails_with "rmmod refused while an attachment is open (EAGAIN)" \
		"Resource temporarily unavailable" \
		ivshmem-admin attach dm:/cli 3 -- rmmod ivshmem_host
	eq "... and the module is still live" "$(cat $SYS/initstate 2>&1)" live
	t "ivshmem-admin remove dm:/cli" ivshmem-admin remove dm:/cli
	eq "... dm:/cli is gone from the list" "$(attached dm:/cli)" none
	t "... 2 regions left (dm:/test still listed)" sh -c \
		'ivshmem-admin info | grep -q " 2/64 regions" && ivshmem-admin list | grep -q " dm:/test "'
	fails_with "ivshmem-admin remove dm:/cli again: ENOENT" \
		"REMOVE: No such file or directory" ivshmem-admin remove dm:/cli

	if [ "${IVSHMEM_BENCH:-0}" = 1 ]; then
		run bench_region 512 3
	else
		skip "bench_region 512 MiB" "IVSHMEM_BENCH is not 1 (needs a 2 GiB guest, no KASAN)"
	fi

	eq "$SYS/refcnt before rmmod" "$(cat $SYS/refcnt)" 0
	mark "host_e2e [rmmod]"
	t "rmmod ivshmem_host" rmmod ivshmem_host
	t "... $SYS and /dev/ivshmem_host are gone" sh -c \
		"test ! -e $SYS && test ! -e /dev/ivshmem_host"

	# kmemleak: the harness's two scans after this script (it ends
	# here, after rmmod) find what the module leaked; on a debug kernel
	# any report fails the boot.

	splat="BUG:|WARNING:|KASAN|UBSAN|possible circular|inconsistent lock|Call Trace"
	if dmesg | grep -qE "$splat"; then
		nok "no splat in the kernel log (since boot)"
		dmesg | grep -E -A20 "$splat" | head -60
	else
		ok "no splat in the kernel log (since boot)"
	fi
	echo "$END"
}

main 2>&1 | tee $LOG
if ! grep -qxF "$END" $LOG; then
	nok "host_e2e.sh ran every phase: it stopped after '$(tail -1 $LOG)'"
	exit 1
fi
fails=$(grep -c '^not ok - ' $LOG)
echo "# host_e2e.sh: $(grep -cE '^(not )?ok - |^skip - ' $LOG) checks, $fails failed"
[ "$fails" -eq 0 ]
