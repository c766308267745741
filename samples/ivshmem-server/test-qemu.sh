#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Interoperability check of ivshmem-server with stock QEMU (TCG, no guest):
# two QEMU processes with an ivshmem-doorbell device connect at the same
# time, realize the device (BAR2 = the server's memory), and leave one after
# the other, so the first one also handles a peer-left message.
#
# Usage: test-qemu.sh [SERVER]   (default ./ivshmem-server)
# Prints "ok N - ..." lines and "N passed, N failed"; exits 0 if all passed.
# Skips (exit 0, "0 passed, 0 failed") when qemu-system-x86_64 is missing.

SERVER=${1:-./ivshmem-server}
QEMU=${QEMU:-qemu-system-x86_64}
pass=0
fail=0
n=0

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		pass=$((pass + 1))
		echo "ok $n - $2"
	else
		fail=$((fail + 1))
		echo "not ok $n - $2"
	fi
}

if ! command -v "$QEMU" >/dev/null 2>&1; then
	echo "# $QEMU not found, skipping"
	echo "0 passed, 0 failed"
	exit 0
fi

T=$(mktemp -d /tmp/ivshmem-qemu.XXXXXX) || exit 1
SOCK=$T/sock

"$SERVER" -F -v -S "$SOCK" -n 2 -l 1M 2>"$T/server.log" &
SPID=$!
i=0
while ! grep -q "listening on" "$T/server.log" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		break
	fi
	sleep 0.1
done
grep -q "listening on" "$T/server.log"
ok $? "server starts"

# $1: output file, $2: seconds to stay up
run_qemu() {
	{
		echo '{"execute":"qmp_capabilities"}'
		sleep "$2"
		echo '{"execute":"human-monitor-command",'\
'"arguments":{"command-line":"info pci"}}'
		sleep 1
		echo '{"execute":"quit"}'
	} | timeout 120 "$QEMU" -M pc -accel tcg -nodefaults -display none \
		-no-user-config -S \
		-chardev socket,path="$SOCK",id=ivs \
		-device ivshmem-doorbell,chardev=ivs,vectors=2 \
		-qmp stdio >"$1" 2>&1
}

run_qemu "$T/qemu0.out" 6 &
Q0=$!
sleep 1
run_qemu "$T/qemu1.out" 2 &
Q1=$!
wait $Q1
ok $? "second QEMU runs and quits"
wait $Q0
ok $? "first QEMU runs and quits"

for q in 0 1; do
	grep -q 'RAM controller: PCI device 1af4:1110' "$T/qemu$q.out"
	ok $? "QEMU $q: ivshmem-doorbell device realized"
	grep -q 'BAR2: 64 bit prefetchable memory.*0x000ffffe' "$T/qemu$q.out"
	ok $? "QEMU $q: BAR2 is the server's 1M region"
	# QMP replies are JSON lines; anything else is a QEMU diagnostic
	! grep -qv '^{' "$T/qemu$q.out"
	ok $? "QEMU $q: no error or warning message"
done

grep -q 'peer 0 connected' "$T/server.log"
ok $? "server log: peer 0 connected"
grep -q 'peer 1 connected (2 peers)' "$T/server.log"
ok $? "server log: peer 1 connected while peer 0 is there"
grep -q 'peer 1 left' "$T/server.log" && grep -q 'peer 0 left' "$T/server.log"
ok $? "server log: both peers left"

kill -TERM $SPID
wait $SPID
ok $? "server exits 0 on SIGTERM"
[ ! -e "$SOCK" ]
ok $? "socket removed"

if [ $fail -ne 0 ]; then
	for f in "$T"/*; do
		sed "s|^|# $(basename "$f"): |" "$f"
	done
fi
rm -rf "$T"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
