#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end test of ivshmem_host.ko, run INSIDE the guest (busybox sh).
# Modules in /lib/ivshmem, programs (ivshmem-host-e2e, ivshmem-admin,
# bench_region) in /usr/bin, the harness's helpers in /lib/ivt.sh. Prints
# one "ok - ...", "not ok - ..." or "skip - ..." line per check and exits
# non-zero if any check failed or the script did not reach its end. Set
# IVSHMEM_BENCH=1 to also run the 512 MiB benchmark (needs a 2 GiB guest),
# IVSHMEM_BIG=1 for HSM's resets on a 512 MiB region (2 GiB guest too).
# IVSHMEM_DEBUG_KERNEL=1 (the harness sets it on its KASAN/kmemleak
# kernels, in a 256 MiB guest) runs two races smaller: the ATTACH/REMOVE
# race of ivshmem-host-e2e on a 32 MiB region instead of 128 MiB (still
# 16 folios of 2 MiB; the allocation lasts far longer than the poll that
# catches it there) and ivshmem-acrn-dm's O_TRUNC race with 150 opens of
# each kind instead of 500 (each legitimate open allocates 4 MiB).
#
# The scenario phase needs what tests/host/admin_host.sh wrote on the
# build machine (the guest's ivshmem-admin has no libxml2): the harness
# puts the plan of tests/host/scenarios/hybrid_rt.xml ("load -n"), its
# -V VM options and tests/host/launch/*.sh into /tmp/adm; without them
# that phase is skipped.
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
	elif case $out in *"$errtext"*) false ;; esac; then
		nok "load refused: $desc: insmod says '$out', want '$errtext'"
	elif [ -e $SYS ]; then
		nok "load refused: $desc: but $SYS exists"
	else
		ok "load refused: $desc ($errtext; log: $rule)"
	fi
}

# regions_now: "ID NAME SIZE_MB VMS" of every region, sorted.
regions_now() {
	ivshmem-admin list | awk 'NR > 1 { print $1, $2, $3, $4 }' | sort -n
}

# check_out DESC WANT-EXIT WANT-TEXT ARGS...: ivshmem-admin ARGS exits
# WANT-EXIT and its output holds every line of WANT-TEXT (fixed strings,
# matched by the shell's case: no process per line, which costs a tenth
# of a second each on a debug kernel).
check_out() {
	desc=$1 want_rc=$2 want=$3
	shift 3
	out=$(ivshmem-admin "$@" 2>&1)
	rc=$?
	missing=
	_ifs=$IFS
	IFS='
'
	set -f
	for w in $want; do
		case $out in
		*"$w"*) ;;
		*) missing="$missing$w|" ;;
		esac
	done
	set +f
	IFS=$_ifs
	if [ "$rc" != "$want_rc" ]; then
		nok "$desc: exit $rc, want $want_rc: $out"
	elif [ -n "$missing" ]; then
		nok "$desc: output lacks '$missing': $out"
	else
		ok "$desc"
	fi
}

# The regions of tests/host/scenarios/hybrid_rt.xml, as the module must
# hold them after the plan is applied ("=rt": RTVM, no dm-land doorbell).
SCN_WANT='0 hv:/no_id 8 1:2
1 hv:/shm_region_0 2 0=rt:2
2 dm:/shm_dm_rt 4 2:5=rt
300 dm:/data_path_3 16 1:2:5=rt'

scenario_phase() {
	mark "host_e2e [scenario]"
	t "insmod with regions=\"dm:/a,2,1:2;dm:/b,2,1:2,0\" (implicit ID before an explicit 0)" \
		insmod "$KO" "regions=dm:/a,2,1:2;dm:/b,2,1:2,0"
	eq "... explicit IDs are taken first: b gets 0, a gets 1" \
		"$(regions_now | tr '\n' ';')" "0 dm:/b 2 1:2;1 dm:/a 2 1:2;"
	t "... remove both" sh -c 'ivshmem-admin remove dm:/a && ivshmem-admin remove dm:/b'
	if [ ! -s /tmp/adm/plan ] || [ ! -s /tmp/adm/vms ]; then
		skip "scenario plan and launch-script checks" "no /tmp/adm/plan (written by the harness from admin_host.sh)"
		rmmod ivshmem_host
		return
	fi
	plan=$(cat /tmp/adm/plan)
	vmopt=$(cat /tmp/adm/vms)
	L=/tmp/adm/launch
	fails_with "load SCENARIO.xml in the guest: this build has no libxml2 (the split)" \
		"built without libxml2" ivshmem-admin load /tmp/adm/plan

	# All or nothing: an ADD that fails midway removes what was added.
	t "blocker dm:/data_path_3 (the plan's third name)" ivshmem-admin create dm:/data_path_3,2,3:4
	# shellcheck disable=SC2086
	check_out "create the plan with a name taken: refused at the third ADD (EEXIST)" 1 \
"ADD dm:/data_path_3: File exists
nothing added (2 region(s) added before were removed)" create $plan
	eq "... and the module holds the blocker only" "$(regions_now | awk '{ print $2 }' | tr '\n' ' ')" "dm:/data_path_3 "
	t "... remove the blocker" ivshmem-admin remove dm:/data_path_3
	t "blocker dm:/blk without an ID: takes ID 0, the plan's hv:/no_id's" ivshmem-admin create dm:/blk,2,3:4
	# shellcheck disable=SC2086
	check_out "create the plan with region ID 0 taken: refused at the fourth ADD" 1 \
"ADD hv:/no_id: File exists
nothing added (3 region(s) added before were removed)" create $plan
	eq "... and the module holds the blocker only" "$(regions_now | tr '\n' ';')" "0 dm:/blk 2 3:4;"
	t "... remove the blocker" ivshmem-admin remove dm:/blk

	# shellcheck disable=SC2086
	t "create the plan of hybrid_rt.xml (load -n on the build machine)" ivshmem-admin create $plan
	eq "... the module holds the scenario's regions: IDs, sizes, members, RTVMs" \
		"$(regions_now)" "$SCN_WANT"
	fails_with "... RING toward the post-launched RTVM (VM 5): EHOSTUNREACH" \
		"RING: No route to host" \
		ivshmem-admin attach dm:/shm_dm_rt 2 -- ivshmem-admin attach dm:/shm_dm_rt 5 -- ivshmem-admin ring dm:/shm_dm_rt 2 5 0

	# Members by VM name (-V, as the scenario names them).
	# shellcheck disable=SC2086
	t "create dm:/byname,2,POST_STD_VM1:POST_RT_VM2=rt (members by name)" \
		ivshmem-admin $vmopt create dm:/byname,2,POST_STD_VM1:POST_RT_VM2=rt
	eq "... VMs 2 and 5, 5 an RTVM" "$(regions_now | awk '$2 == "dm:/byname" { print $4 }')" "2:5=rt"
	t "... remove dm:/byname" ivshmem-admin remove dm:/byname
	# shellcheck disable=SC2086
	check_out "create by an unknown VM name: refused before any ADD" 1 \
		'no VM is named "POST_STD_VM_1"' $vmopt create dm:/ok1,2,1:2 dm:/bad,2,POST_STD_VM_1:2
	eq "... nothing added" "$(regions_now)" "$SCN_WANT"

	# check LAUNCH-SCRIPT against the registry.
	# shellcheck disable=SC2086
	check_out "check post_std_vm1.sh (the generator's shape): agrees" 0 \
		"post_std_vm1.sh: 4 ivshmem device(s), 0 mismatch(es)" $vmopt check $L/post_std_vm1.sh
	# shellcheck disable=SC2086
	check_out "check post_rt_vm2.sh (hand-written, continued lines): agrees" 0 \
		"post_rt_vm2.sh: 2 ivshmem device(s), 0 mismatch(es)" $vmopt check $L/post_rt_vm2.sh
	# shellcheck disable=SC2086
	check_out "check no_region_id.sh (ACRN #8645): two region IDs 0" 1 \
"no_region_id.sh:10: ivshmem dm:/shm_dm_rt,4: region ID 0 (none given: acrn-dm's default), the registry's dm:/shm_dm_rt has 2
no_region_id.sh:11: ivshmem dm:/data_path_3,16: region ID 0 (none given: acrn-dm's default), the registry's dm:/data_path_3 has 300
no_region_id.sh: 3 ivshmem device(s), 2 mismatch(es)" $vmopt check $L/no_region_id.sh
	# shellcheck disable=SC2086
	check_out "check vm_name.sh (ACRN #8234): the script's VM name is not the scenario's" 1 \
'vm_name.sh: VM "POST_STD_VM_1" is not a VM of the -V names
vm_name.sh: 1 ivshmem device(s), 1 mismatch(es)' $vmopt check $L/vm_name.sh
	# shellcheck disable=SC2086
	check_out "check --vm POST_STD_VM1 vm_name.sh: agrees" 0 \
		"vm_name.sh: 1 ivshmem device(s), 0 mismatch(es)" $vmopt check --vm POST_STD_VM1 $L/vm_name.sh
	check_out "check --vm 5 vm_name.sh (by ID, no names): VM 5 is not a member" 1 \
		"the script's VM 5 (ID 5) is not a member of hv:/shm_region_0 (VMs 0:2)" check --vm 5 $L/vm_name.sh
	# shellcheck disable=SC2086
	check_out "check mismatches.sh: member, size, two unknown names, prefix, region ID" 1 \
"mismatches.sh:12: ivshmem hv:/shm_region_0,2,1: the script's VM POST_RT_VM2 (ID 5) is not a member of hv:/shm_region_0 (VMs 0:2)
mismatches.sh:13: ivshmem dm:/shm_dm_rt,8,2: size 8 MiB, the registry's dm:/shm_dm_rt has 4
mismatches.sh:14: ivshmem dm:/shm_region_9,2,9: dm:/shm_region_9 is not in the registry
mismatches.sh:15: ivshmem hv:/data_path_3,16,300: hv:/data_path_3 is not in the registry (dm:/data_path_3 is)
mismatches.sh:16: ivshmem shm_region_0,2: name shm_region_0 has no hv:/ or dm:/ prefix
mismatches.sh:17: ivshmem dm:/shm_dm_rt,4,x: region ID \"x\" is not a number
mismatches.sh: 6 ivshmem device(s), 6 mismatch(es)" $vmopt check $L/mismatches.sh
	check_out "check without -s or -V: cannot map the script's VM name" 1 \
		'VM "POST_STD_VM1" is not a VM of the -V names (none given: -s SCENARIO.xml or -V NAME=ID)' check $L/post_std_vm1.sh
	fails_with "check a missing file" "No such file or directory" ivshmem-admin check /tmp/adm/none.sh
	t "rmmod after the scenario phase" rmmod ivshmem_host
}

# in_vm N PROGRAM ARGS...: PROGRAM in a new mount namespace whose /dev/shm
# is VM N's mount of the host module's filesystem: the launch line of
# Documentation/host.rst ("Starting acrn-dm unchanged"), acrn-dm replaced
# by PROGRAM.
in_vm() {
	_vm=$1
	shift
	unshare --mount sh -c "mount -t ivshmem_host -o vm=$_vm none /dev/shm && exec $*"
}

# vm_says N: prefix VM N to the check lines of its program.
vm_says() {
	sed -E "s/^(ok|not ok|skip) - /\1 - VM $1: /"
}

# acrn-dm's dm-land sequence against the filesystem, in one mount
# namespace per VM, then what else reaches the filesystem.
fs_phase() {
	_t0=$(cut -d' ' -f1 /proc/uptime)
	HD=$MODDIR/ivshmem_hsm_double.ko
	hd_here=0
	if [ -e /dev/acrn_hsm_double ]; then
		hd_here=1
	elif [ -e "$HD" ]; then
		t "insmod ivshmem_hsm_double.ko (HSM's SET_MEMSEG for acrn-dm's sequence)" insmod "$HD"
	else
		skip "SET_MEMSEG in acrn-dm's sequence" "no HSM double ($HD)"
	fi
	mkdir -p /dev/shm
	t "busybox unshare has --mount (the documented launch line works here)" \
		sh -c 'unshare --help 2>&1 | grep -q -- "--mount"'
	t "ivshmem-admin create dm:/fs_a,4,1:2 and dm:/fs_b,2,2:3" sh -c \
		'ivshmem-admin create dm:/fs_a,4,1:2 && ivshmem-admin create dm:/fs_b,2,2:3'
	eq "$SYS/refcnt before any mount" "$(cat $SYS/refcnt)" 0

	# VMs 1 and 2 of dm:/fs_a at once, each in its own namespace.
	rm -rf /tmp/fs_sync
	mkdir /tmp/fs_sync
	( run in_vm 1 ivshmem-acrn-dm dm fs_a 4 ok 1 2 /tmp/fs_sync > /tmp/fs_vm1.out 2>&1 ) &
	_p1=$!
	run in_vm 2 ivshmem-acrn-dm dm fs_a 4 ok 2 1 /tmp/fs_sync 2>&1 | vm_says 2
	wait $_p1
	vm_says 1 < /tmp/fs_vm1.out
	eq "after both deinits: dm:/fs_a has no VM attached" "$(attached dm:/fs_a)" 0
	t "... and the region keeps its 4 MiB" sh -c \
		'ivshmem-admin info | grep -q " 4194304 bytes in 1 dm-land memories"'
	t "the Service VM's own namespace has no ivshmem_host mount" sh -c \
		'! grep -q " ivshmem_host " /proc/mounts'
	eq "$SYS/refcnt once the namespaces are gone" "$(cat $SYS/refcnt)" 0

	# Each refused at the step acrn-dm fails at.
	run in_vm 1 ivshmem-acrn-dm dm fs_b 2 shm_open:EACCES | vm_says 1
	run in_vm 3 ivshmem-acrn-dm dm fs_a 4 shm_open:EACCES | vm_says 3
	run in_vm 1 ivshmem-acrn-dm dm nosuch 2 shm_open:EACCES | vm_says 1
	run in_vm 2 ivshmem-acrn-dm dm shm_region_0 2 shm_open:EACCES | vm_says 2
	run in_vm 2 ivshmem-acrn-dm dm fs_a 8 fstat:size | vm_says 2
	run in_vm 2 ivshmem-acrn-dm dm fs_a 2 fstat:size | vm_says 2
	eq "... none left dm:/fs_a attached" "$(attached dm:/fs_a)" 0

	mark "host_e2e [fs hostile]"
	run in_vm 1 ivshmem-acrn-dm hostile | vm_says 1
	t "log: a second open names the mount's VM and the reason" \
		log_has "host_e2e [fs hostile]" 'open "dm:/fs_a" as VM 1 (the mount'"'"'s): VM is already attached (-16)'
	t "log: a read-only open is refused with its reason" \
		log_has "host_e2e [fs hostile]" "only read-write (-13)"
	# After the log checks: its refusals use up the ratelimited log.
	if [ "${IVSHMEM_DEBUG_KERNEL:-0}" = 1 ]; then
		run in_vm 1 ivshmem-acrn-dm trunc 150 | vm_says 1
	else
		run in_vm 1 ivshmem-acrn-dm trunc | vm_says 1
	fi

	# rmmod while mounted.
	mkdir -p /tmp/ivfs
	t "mount -t ivshmem_host -o vm=1 none /tmp/ivfs" mount -t ivshmem_host -o vm=1 none /tmp/ivfs
	eq "... the mount holds the module" "$(cat $SYS/refcnt)" 1
	fails_with "rmmod refused while mounted (EAGAIN)" \
		"Resource temporarily unavailable" rmmod ivshmem_host
	t "... umount" umount /tmp/ivfs
	eq "... $SYS/refcnt 0 again" "$(cat $SYS/refcnt)" 0
	mark "host_e2e [fs no vm]"
	t "mount without vm= is refused" sh -c \
		'! mount -t ivshmem_host none /tmp/ivfs 2>/dev/null'
	t "... the log says vm= is required" \
		log_has "host_e2e [fs no vm]" "vm=<VM ID> is required"
	# ivshmem-acrn-dm hostile opened dm:/test too: its 2 MiB stay until
	# it is removed (and added again, for what follows).
	t "ivshmem-admin remove dm:/fs_a and dm:/fs_b: their memory is freed, dm:/test's stays" sh -c \
		'ivshmem-admin remove dm:/fs_a && ivshmem-admin remove dm:/fs_b &&
		 ivshmem-admin info | grep -q " 2097152 bytes in 1 dm-land memories"'
	t "... REMOVE dm:/test frees the rest; ADD dm:/test,2,1:2,1 again" sh -c \
		'ivshmem-admin remove dm:/test &&
		 ivshmem-admin info | grep -q " 0 bytes in 0 dm-land memories" &&
		 ivshmem-admin create dm:/test,2,1:2,1'
	if [ "$hd_here" = 0 ] && [ -e /dev/acrn_hsm_double ]; then
		t "rmmod ivshmem_hsm_double (every pin released)" rmmod ivshmem_hsm_double
	fi
	echo "# fs_phase: $_t0 s to $(cut -d' ' -f1 /proc/uptime) s of guest uptime"
}

# Unload ivshmem_host while HSM (the double) still pins a region's memory:
# the module leaves the memory to the pins; HSM reads and writes it after
# the unload, and destroying the VM frees it. Then load it again.
pinned_unload() {
	mark "host_e2e [unload while pinned]"
	ivshmem-host-pins hold > /tmp/hold 2>&1 &
	hold=$!
	n=0
	while ! grep -q '^# held' /tmp/hold && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	t "a region's memory pinned, nothing of ivshmem_host open" grep -q '^# held' /tmp/hold
	t "rmmod ivshmem_host while HSM pins the memory" rmmod ivshmem_host
	t "log: the pinned memory is left to its pins" log_has \
		"host_e2e [unload while pinned]" \
		'region "dm:/pins_hold" freed: 4 MiB still pinned, left to the pins'
	kill -USR1 $hold
	wait $hold
	rc=$?
	grep -E '^(not )?ok - |^skip - ' /tmp/hold
	eq "ivshmem-host-pins hold exits 0" "$rc" 0
	t "insmod again with regions=\"$PARAM\"" insmod "$KO" "regions=$PARAM"
}

main() {
	# The splat check at the end reads the log from here: what a test
	# before this one in a shared boot left there is not this test's.
	mark "host_e2e [begin]"
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
	bad_param "region ID 2^32 (past U32_MAX: out of range too)" "dm:/a,2,0:1,4294967296" "region ID is above 65535" -34 "out of range"
	bad_param "region ID twice" "dm:/a,2,0:1,4;dm:/b,2,0:1,4" "region ID is already in use" -17 "File exists"
	bad_param "second entry bad" "dm:/a,2,0:1;hv:/b,2,1:1" "entry 1: a VM ID is listed twice" -22 "Invalid argument"

	scenario_phase

	mark "host_e2e [load]"
	t "insmod with regions=\"$PARAM\"" insmod "$KO" "regions=$PARAM"
	eq "$SYS/initstate is live" "$(cat $SYS/initstate 2>&1)" live
	t "/dev/ivshmem_host exists" test -c /dev/ivshmem_host
	t "log: regions from the module parameter" \
		log_has "host_e2e [load]" "2 region(s) from the module parameter"
	eq "$SYS/refcnt with nothing open" "$(cat $SYS/refcnt)" 0

	if [ "${IVSHMEM_DEBUG_KERNEL:-0}" = 1 ]; then
		run ivshmem-host-e2e 32
	else
		run ivshmem-host-e2e
	fi
	eq "$SYS/refcnt after ivshmem-host-e2e: no file left open" "$(cat $SYS/refcnt)" 0
	# dm:/test keeps the memory its first attach allocated until REMOVE.
	t "dm:/test keeps its 2 MiB after ivshmem-host-e2e" sh -c \
		'ivshmem-admin info | grep -q " 2097152 bytes in 1 dm-land memories"'
	t "... REMOVE frees it; ADD dm:/test,2,1:2,1 again" sh -c \
		'ivshmem-admin remove dm:/test &&
		 ivshmem-admin info | grep -q " 0 bytes in 0 dm-land memories" &&
		 ivshmem-admin create dm:/test,2,1:2,1'

	# HSM's pins, with the HSM test double (tests/hsm_double).
	HD=$MODDIR/ivshmem_hsm_double.ko
	if [ -e "$HD" ]; then
		t "insmod ivshmem_hsm_double.ko" insmod "$HD"
		t "/dev/acrn_hsm_double exists" test -c /dev/acrn_hsm_double
		run ivshmem-host-pins smoke
		# acrn-dm's resets through the filesystem (VM 1's /dev/shm),
		# on one HSM VM fd. 512 MiB where the guest has 2 GiB and no
		# KASAN (IVSHMEM_BIG: the stock and RT kernels), 32 MiB on
		# the debug kernels' 256 MiB guests: both far above the
		# 10 MiB the memory must come back within.
		mkdir -p /dev/shm
		if [ "${IVSHMEM_BIG:-0}" = 1 ]; then
			run in_vm 1 ivshmem-host-pins resets 512 8
		else
			run in_vm 1 ivshmem-host-pins resets 32 8
		fi
		if [ "${IVSHMEM_BENCH:-0}" = 1 ]; then
			run ivshmem-host-pins inject 16 big
		else
			run ivshmem-host-pins inject 16
		fi
		# VM 1's device model writes and exits, VM 2's reads later.
		run in_vm 1 ivshmem-host-pins handover 1
		run in_vm 2 ivshmem-host-pins handover 2
		run in_vm 1 ivshmem-host-pins slots
		run in_vm 1 ivshmem-host-pins crash
		run ivshmem-host-pins doorbell
		run ivshmem-host-pins abuse
		run ivshmem-host-pins memcg
		pinned_unload
		t "rmmod ivshmem_hsm_double" rmmod ivshmem_hsm_double
	else
		skip "HSM double" "no $HD"
	fi

	# The admin CLI.
	t "ivshmem-admin info: ABI, not ACRN, 2 regions, no memory" sh -c \
		'ivshmem-admin info | grep -qxE "not ACRN, 2/64 regions, 0 bytes in 0 dm-land memories"'
	t "ivshmem-admin create dm:/cli,4,3:4: 3 regions now" sh -c \
		'ivshmem-admin create dm:/cli,4,3:4 && ivshmem-admin info | grep -q " 3/64 regions"'
	t "ivshmem-admin list shows dm:/cli: 4 MiB, VMs 3:4, none attached" sh -c \
		'ivshmem-admin list | grep -qE "^[0-9]+ +dm:/cli +4 +3:4 +0 +0$"'
	t "ivshmem-admin create dm:/cli_id,2,3:4,77: region ID 77" sh -c \
		'ivshmem-admin create dm:/cli_id,2,3:4,77 && ivshmem-admin list | grep -qE "^77 +dm:/cli_id +2 +3:4 "'
	fails_with "ivshmem-admin create with region ID 77 again: EEXIST" \
		"ADD dm:/cli_id2: File exists (see dmesg for the rule)" \
		ivshmem-admin create dm:/cli_id2,2,3:4,77
	t "ivshmem-admin remove dm:/cli_id" ivshmem-admin remove dm:/cli_id
	fails_with "ivshmem-admin create refuses size 3 (EINVAL)" \
		"ADD dm:/cli3: Invalid argument (see dmesg for the rule)" \
		ivshmem-admin create dm:/cli3,3,3:4
	eq "... and dm:/cli3 is not in the list" "$(attached dm:/cli3)" none
	eq "ivshmem-admin attach runs a command with the fd and the size" \
		"$(ivshmem-admin attach dm:/cli 3 -- sh -c 'test -e /proc/self/fd/$IVSHMEM_FD && echo $IVSHMEM_SIZE' | tail -1)" 4194304
	eq "... while it runs: VM 3 attached, 4 MiB allocated, module refcnt 2" \
		"$(ivshmem-admin attach dm:/cli 3 -- sh -c 'ivshmem-admin list | awk "\$2 == \"dm:/cli\" { print \$5 }"; ivshmem-admin info | grep -o "4194304 bytes in 1 dm"; cat /sys/module/ivshmem_host/refcnt' | tail -3 | tr '\n' ' ')" \
		"1 4194304 bytes in 1 dm 2 "
	eq "... after it: none attached" "$(attached dm:/cli)" 0
	t "... and the region keeps its memory" sh -c \
		'ivshmem-admin info | grep -q " 4194304 bytes in 1 dm-land memories"'
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
	t "ivshmem-admin remove dm:/cli: its memory is freed" sh -c \
		'ivshmem-admin remove dm:/cli &&
		 ivshmem-admin info | grep -q " 0 bytes in 0 dm-land memories"'
	eq "... dm:/cli is gone from the list" "$(attached dm:/cli)" none
	t "... 2 regions left (dm:/test still listed)" sh -c \
		'ivshmem-admin info | grep -q " 2/64 regions" && ivshmem-admin list | grep -q " dm:/test "'
	fails_with "ivshmem-admin remove dm:/cli again: ENOENT" \
		"REMOVE: No such file or directory" ivshmem-admin remove dm:/cli

	fs_phase

	if [ "${IVSHMEM_BENCH:-0}" = 1 ]; then
		# With the HSM double: open + first SET_MEMSEG too.
		[ -e "$HD" ] && t "insmod ivshmem_hsm_double.ko" insmod "$HD"
		run bench_region 512 3
		[ -e "$HD" ] && t "rmmod ivshmem_hsm_double" rmmod ivshmem_hsm_double
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
	if since_mark "host_e2e [begin]" | grep -qE "$splat"; then
		nok "no splat in the kernel log (since this test began)"
		since_mark "host_e2e [begin]" | grep -E -A20 "$splat" | head -60
	else
		ok "no splat in the kernel log (since this test began)"
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
