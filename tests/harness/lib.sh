# Helpers sourced by the guest-side test scripts (busybox sh).
#
# Every check prints one line the harness counts: "ok - D", "not ok - D"
# or "skip - D: why". A program run with "run" that exits non-zero or
# dies on a signal is a "not ok" of its own; ivt_done (appended to every
# script by the harness) prints IVT-SCRIPT-END and exits with the number
# of such programs, so a script that stops half-way or a program that
# crashes cannot pass by printing fewer lines.

IVT_RUNFAIL=/tmp/.ivt-runfail

# t DESCRIPTION COMMAND...: run COMMAND, print "ok - D" or "not ok - D".
t() {
	_d=$1
	shift
	if "$@"; then
		echo "ok - $_d"
	else
		echo "not ok - $_d"
	fi
}

# eq DESCRIPTION GOT WANT
eq() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: got '$2', want '$3'"
	fi
}

# skip DESCRIPTION WHY: a check that cannot run here, said so.
skip() {
	echo "skip - $1: $2"
}

# run PROGRAM ARGS...: run a test program; its own checks print their
# lines; a non-zero exit (a failed check, die(), a signal) is reported
# here with the status. stdout stays the program's (for $(...)), the
# report goes to stderr, which is the console too.
run() {
	"$@"
	_rc=$?
	if [ "$_rc" != 0 ]; then
		echo "not ok - '$*' exits 0: exit status $_rc" >&2
		echo "$*" >> "$IVT_RUNFAIL"
	fi
	return "$_rc"
}

# fails_with DESCRIPTION TEXT COMMAND...: COMMAND must fail and print TEXT
# (a fixed string) on stdout or stderr: a refusal for the right reason.
fails_with() {
	_d=$1
	_want=$2
	shift 2
	_out=$("$@" 2>&1)
	_rc=$?
	if [ "$_rc" = 0 ]; then
		echo "not ok - $_d: succeeded, want failure with '$_want'"
	elif [ "$_rc" -gt 128 ]; then
		echo "not ok - $_d: died on signal $((_rc - 128))"
	elif printf '%s' "$_out" | grep -qF -- "$_want"; then
		echo "ok - $_d"
	else
		echo "not ok - $_d: exit $_rc, output '$_out', want '$_want'"
	fi
}

# hold_start DESCRIPTION PROGRAM ARGS...: start PROGRAM in the background
# (a holder that prints "held" once it holds what it was asked to), its
# output in /tmp/hold, its PID in $HOLD; wait at most 60 s for "held". A
# holder that stalls fails here, clearly, rather than holding up every
# test after it in a shared guest; one that gave up says why (its own
# "not ok" line, an errno) and the kernel log's last lines follow.
hold_start() {
	_d=$1
	shift
	# Emptied here, not only by the background job's redirection, which
	# may come after the first grep below has read the last holder's
	# "held".
	: > /tmp/hold
	"$@" > /tmp/hold &
	HOLD=$!
	_i=0
	while ! grep -q held /tmp/hold && [ $_i -lt 600 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if grep -q held /tmp/hold; then
		echo "ok - $_d"
	else
		echo "not ok - $_d: after $_i rounds, it printed '$(tr '\n' ' ' < /tmp/hold)'"
		dmesg | tail -n 20 >&2
	fi
}

# mark TEXT: a phase marker in the kernel log (instead of clearing it).
mark() {
	echo "IVT-MARK $*" > /dev/kmsg
}

# since_mark TEXT: the kernel log after the last "IVT-MARK TEXT".
since_mark() {
	dmesg | awk -v m="IVT-MARK $*" 'index($0, m) { buf = ""; next } { buf = buf $0 "\n" } END { printf "%s", buf }'
}

# log_has MARK PATTERN: the kernel log since "mark MARK" has a line that
# matches PATTERN (grep -E): a test's own messages, not those of a test
# that ran before it in a shared boot.
log_has() {
	since_mark "$1" | grep -qE -- "$2"
}

# ivt_done: the end of the script (appended by the harness).
ivt_done() {
	_n=0
	[ -f "$IVT_RUNFAIL" ] && _n=$(wc -l < "$IVT_RUNFAIL")
	echo "IVT-SCRIPT-END $_n"
	exit "$_n"
}

# ping_until SECONDS ADDR: ping until ADDR answers, for about SECONDS
# (a failed round takes 4 s at least). Busybox's ping sets its minimum
# round trip before it counts the reply; a reply that comes as its -W
# timer fires makes the statistics divide by zero (SIGFPE). -W stays well
# above the round trips of a loaded debug guest (about 1 s).
ping_until() {
	_i=0
	while [ $_i -lt $1 ]; do
		ping -c 1 -W 3 $2 > /dev/null 2>&1 && return 0
		sleep 1
		_i=$((_i + 4))
	done
	return 1
}

# sha FILE-OR-STDIN: print only the hash
sha() {
	sha256sum "$@" | cut -d' ' -f1
}

# dev_by_size SIZE: the /dev node of the ivshmem device with that size
dev_by_size() {
	for _s in /sys/class/ivshmem/ivshmem*; do
		if [ "$(cat "$_s/size")" = "$1" ]; then
			echo "/dev/${_s##*/}"
			return 0
		fi
	done
	return 1
}

# pci_of DEV: the PCI address of /dev/ivshmemN
pci_of() {
	basename "$(readlink "/sys/class/ivshmem/${1##*/}/device")"
}

# net_up DEV ADDR: switch the device of /dev/DEV to the network
# function (ivshmem_net loaded), give the interface ADDR (a.b.c.d/len),
# bring it up. Sets F (the device's ivshmem_function file) and N (the
# interface).
net_up() {
	F=/sys/bus/pci/devices/$(pci_of $1)/ivshmem_function
	t "switch to net" sh -c "echo net > $F"
	N=$(ls ${F%/*}/ivshmem.net.*/net 2>/dev/null)
	t "a network interface ($N)" test -n "$N"
	t "ip addr add $2" ip addr add $2 dev $N
	t "ip link set $N up" ip link set $N up
}

# map_wb_flag MEMTYPE: the IVSHMEM_INFO_MAP_WB bit, as the info ioctl
# prints flags, that a device whose sysfs memtype is MEMTYPE must report
# (plain device: no other flag).
map_wb_flag() {
	if [ "$1" = write-back ]; then echo 0x2; else echo 0x0; fi
}

# Shared boots (tests/harness/ivt_shared.py): several tests in one guest,
# one segment each. ivt_share_begin notes the mounts of the boot;
# ivt_seg N NAME "BDF..." runs /seg-N.sh with only those ivshmem devices
# bindable, then removes what the test left: its processes, its mounts,
# every module (one that does not unload is a "not ok" of that test).
ivt_share_begin() {
	cut -d' ' -f2 /proc/mounts > /.ivt-mounts
}

ivt_seg() {
	echo "IVT-SEG-BEGIN $1 at $(cut -d' ' -f1 /proc/uptime) s"
	echo "IVT-MARK segment $1" > /dev/kmsg
	# (Debian's busybox find has no -delete.) What a member before left
	# here, its $IVT_RUNFAIL above all, is not this member's.
	find /tmp -mindepth 1 -maxdepth 1 -exec rm -rf {} +
	[ -z "$(ls -A /tmp)" ] ||
		echo "not ok - $2: /tmp is empty before it: $(find /tmp -mindepth 1 -maxdepth 1 | tr '\n' ' ')"
	for _p in /sys/bus/pci/devices/*; do
		[ "$(cat "$_p/vendor"):$(cat "$_p/device")" = 0x1af4:0x1110 ] ||
			continue
		# The member's: its own slot is listed, or (a device behind a
		# PCIe port of the member) the port's.
		_own=ivt-other-test
		for _b in $3; do
			case "$(readlink -f "$_p")/" in
			*"/$_b/"*) _own= ;;
			esac
		done
		echo $_own > "$_p/driver_override"
	done
	sh "/seg-$1.sh"
	echo "IVT-SEG-EXIT $1 $?"
	for _p in /proc/[0-9]*; do
		_p=${_p#/proc/}
		[ "$_p" = 1 ] || [ "$_p" = $$ ] && continue
		# Kernel threads have no executable.
		readlink "/proc/$_p/exe" > /dev/null 2>&1 && kill -9 "$_p" 2>/dev/null
	done
	awk 'NR == FNR { seen[$1] = 1; next } !($2 in seen) { print $2 }' \
		/.ivt-mounts /proc/mounts | sort -r | while read -r _m; do
		umount -l "$_m"
	done
	# A process killed above may still be exiting (its files and
	# mappings hold the module): later rounds wait a little first.
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		[ -n "$(cat /proc/modules)" ] || break
		[ "$_i" = 1 ] || sleep 0.5
		for _m in $(cut -d' ' -f1 /proc/modules); do
			rmmod "$_m" 2>/dev/null
		done
	done
	if [ -n "$(cut -d' ' -f1 /proc/modules)" ]; then
		echo "not ok - $2: the modules it left loaded unload after it: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
	fi
	echo "IVT-SEG-END $1 at $(cut -d' ' -f1 /proc/uptime) s"
}
