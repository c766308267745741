#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end test of ivshmem_host.ko, run INSIDE the guest (busybox sh).
# Modules in /lib/ivshmem, programs (ivshmem-host-e2e, ivshmem-admin,
# bench_region) in /usr/bin. Prints "ok - ..." / "not ok - ..." per check
# and exits non-zero if any failed. Set IVSHMEM_BENCH=1 to also run the
# 512 MiB benchmark (needs a 2 GiB guest).

MODDIR=${MODDIR:-/lib/ivshmem}
KO=$MODDIR/ivshmem_host.ko
PARAM='hv:/shm_region_0,2,0:2;dm:/test,2,1:2'
fails=0

ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { desc=$1; shift; if "$@" >/dev/null 2>&1; then ok "$desc"; else nok "$desc"; fi; }

rmmod ivshmem_host 2>/dev/null

# A bad module parameter fails the load and the log names the rule.
bad_param() {
	desc=$1 param=$2 rule=$3
	dmesg -c >/dev/null
	if insmod "$KO" "regions=$param" 2>/dev/null; then
		nok "load refused: $desc"
		rmmod ivshmem_host
		return
	fi
	if dmesg | grep -q "ivshmem_host: regions: .*$rule"; then
		ok "load refused: $desc (log: $rule)"
	else
		nok "load refused: $desc, but no log line with \"$rule\""
		dmesg | tail -3
	fi
}
bad_param "no prefix" "shm_region_0,2,0:2" "must start with hv:/ or dm:/"
bad_param "size 3" "dm:/a,3,0:2" "power of two"
bad_param "size 1024" "dm:/a,1024,0:2" "from 2 to 512"
bad_param "one VM" "dm:/a,2,0" "at least two member VMs"
bad_param "duplicate name" "dm:/a,2,0:1;dm:/a,4,1:2" "used twice"
bad_param "name too long" "dm:/1234567890123456789012345678,2,0:1" "longer than 31"
bad_param "second entry bad" "dm:/a,2,0:1;hv:/b,2,1:1" "entry 1: a VM ID is listed twice"

dmesg -c >/dev/null
check "insmod with regions=\"$PARAM\"" insmod "$KO" "regions=$PARAM"
check "/dev/ivshmem_host exists" test -c /dev/ivshmem_host
check "log: regions from the module parameter" sh -c 'dmesg | grep -q "2 region(s) from the module parameter"'

ivshmem-host-e2e
[ $? -eq 0 ] || fails=$((fails + 1))

# The admin CLI.
check "ivshmem-admin info" ivshmem-admin info
check "ivshmem-admin create dm:/cli,4,3:4" ivshmem-admin create dm:/cli,4,3:4
check "ivshmem-admin list shows dm:/cli" sh -c 'ivshmem-admin list | grep -q "dm:/cli .* 4 .*3:4"'
check "ivshmem-admin create refuses size 3" sh -c '! ivshmem-admin create dm:/cli3,3,3:4'
check "ivshmem-admin attach runs a command with the fd" \
	sh -c 'ivshmem-admin attach dm:/cli 3 -- sh -c "test -e /proc/self/fd/\$IVSHMEM_FD && test \$IVSHMEM_SIZE = 4194304"'
check "ivshmem-admin attach refuses a non-member" sh -c '! ivshmem-admin attach dm:/cli 5 -- true'
check "ivshmem-admin attach --hc-vmid binds a hypercall VM ID" ivshmem-admin attach --hc-vmid 7 dm:/cli 3 -- true
check "ivshmem-admin attach refuses --hc-vmid 65535" sh -c '! ivshmem-admin attach --hc-vmid 65535 dm:/cli 3 -- true'
check "ivshmem-admin ring without peers fails (ENOTCONN)" sh -c 'ivshmem-admin ring dm:/cli 3 4 0 2>&1 | grep -q "not connected"'
check "ivshmem-admin remove dm:/cli" ivshmem-admin remove dm:/cli
check "ivshmem-admin list no longer shows dm:/cli" sh -c '! ivshmem-admin list | grep -q dm:/cli'

if [ "${IVSHMEM_BENCH:-0}" = 1 ]; then
	bench_region 512 3 || fails=$((fails + 1))
fi

check "rmmod ivshmem_host" rmmod ivshmem_host

if [ -w /sys/kernel/debug/kmemleak ]; then
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	if [ -s /sys/kernel/debug/kmemleak ]; then
		nok "kmemleak clean"
		cat /sys/kernel/debug/kmemleak
	else
		ok "kmemleak clean"
	fi
fi

if dmesg | grep -qE "BUG:|WARNING:|KASAN|possible circular|inconsistent lock|Call Trace"; then
	nok "no splat in the kernel log"
	dmesg | grep -E -A20 "BUG:|WARNING:|KASAN|possible circular|inconsistent lock" | head -60
else
	ok "no splat in the kernel log"
fi

echo "# e2e.sh: $fails failure(s)"
[ "$fails" -eq 0 ]
