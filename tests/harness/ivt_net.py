# SPDX-License-Identifier: GPL-2.0
"""Network tests of the ivt harness: the device's function (sysfs
ivshmem_function, the auxiliary device ivshmem.net.N) and ivshmem_net.ko
between two guests on the project's ivshmem server.

Imported by ivt.py after its own tests; registers with ivt's @test():

* net_switch: one guest switches a device to "net" and back;
* net_two_guests: two guests, ip addresses, ping, a TCP stream whose
  SHA-256 is checked at the far end (256 MiB, 32 MiB on the debug
  kernels; IVT_NET_BYTES) and UDP datagrams with every loss counted by
  a kernel (32 MiB, 8 MiB on the debug kernels; IVT_NET_UDP_BYTES), at
  MTU 1500 and 65535;
* net_hostile: a peer writes random indices, lengths and states into the
  shared memory through /dev/ivshmem0: the other guest stays up, counts
  errors, and the link works once the peer behaves;
* net_peer_restart: a guest killed in the middle of a TCP stream, a new
  one booted on the same server: carrier drops and returns, a fresh
  stream arrives whole;
* net_remove_traffic: under a TCP stream, the sender unbinds the PCI
  driver, reloads ivshmem_net, switches the function to cdev and back,
  and loses its device to a hot unplug, then gets a new one hot-added:
  each time the other's carrier drops and returns with a working link;
* net_plain: two guests, three links: ivshmem-plain on both sides (both
  poll), a doorbell device facing a plain one (one file), doorbell
  devices on both sides: ping and a TCP stream over the polled links,
  the ping RTT of each (the x86 kinds only).

All run on every kind of kernel, the debug kernels (KASAN, lockdep,
kmemleak) included; on those the streams are shorter. On a kernel without
the auxiliary bus (CONFIG_AUXILIARY_BUS), net_switch checks that "net"
is refused.
"""

import os
import re
import sys
import time

_main = sys.modules.get('__main__')
if 'ivt' not in sys.modules and \
        os.path.basename(getattr(_main, '__file__', '')) == 'ivt.py':
    sys.modules['ivt'] = _main
import ivt  # noqa: E402

NO_AUX = ('skip "the auxiliary device ivshmem.net.0" "no auxiliary bus in '
          'this kernel (CONFIG_AUXILIARY_BUS)"\n')


@ivt.test(flavors=ivt.ANY_ARCH)
def net_switch(ctx):
    """cdev -> net -> cdev on one doorbell device: /dev/ivshmem0 goes and
    comes back with its data, EBUSY while open or mapped, ivshmem_net
    depends on ivshmem: rmmod order."""
    srv = ivt.Server(ctx.workdir, size='4M', vectors=1)
    script = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
D=/dev/ivshmem0
BDF=$(pci_of $D)
F=/sys/bus/pci/devices/$BDF/ivshmem_function
A=/sys/bus/auxiliary/devices/ivshmem.net.0
eq "function at probe" "$(cat $F)" cdev
eq "ivshmem_function is root's to write (0644)" "$(stat -c %a $F)" 644
echo net-switch-data > /tmp/data
t "data at 3 MiB" dd if=/tmp/data of=$D bs=1M seek=3 conv=notrunc 2>/dev/null
fails_with "an unknown function is refused" "Invalid argument" sh -c "echo bogus > $F"
# Without the auxiliary bus "net" is refused first for that.
BUSY="Device or resource busy"
[ -d /sys/bus/auxiliary ] || BUSY="Operation not supported"
exec 3< $D
fails_with "net is refused while the device is open" "$BUSY" sh -c "echo net > $F"
exec 3<&-
hold_start "the holder maps the device within 60 s" ivshmem_test hold $D 600
fails_with "net is refused while the device is mapped" "$BUSY" sh -c "echo net > $F"
kill $HOLD
wait $HOLD
eq "still the character device" "$(cat $F)" cdev
if [ -d /sys/bus/auxiliary ]; then
	t "switch to net" sh -c "echo net > $F"
	eq "function net" "$(cat $F)" net
	t "$D is gone" test ! -e $D
	t "no class device ivshmem0" test ! -e /sys/class/ivshmem/ivshmem0
	t "auxiliary device ivshmem.net.0" test -e $A
	t "writing net again changes nothing" sh -c "echo net > $F"
	t "insmod ivshmem_net.ko" insmod /lib/ivshmem/ivshmem_net.ko
	N=$(ls $A/net 2>/dev/null)
	t "a network interface on ivshmem.net.0 ($N)" test -n "$N"
	M=$(cat /sys/class/net/$N/address)
	t "a locally administered unicast address ($M)" sh -c "echo $M | grep -q '^.[26ae]:'"
	eq "a permanent address (addr_assign_type)" "$(cat /sys/class/net/$N/addr_assign_type)" 0
	t "ip link set $N up" ip link set $N up
	sleep 1
	eq "no carrier without a peer" "$(cat /sys/class/net/$N/carrier)" 0
	t "switch back to cdev with the interface up" sh -c "echo cdev > $F"
	t "the interface is gone" test ! -e /sys/class/net/$N
	t "no auxiliary device" test ! -e $A
	t "$D is back" test -c $D
	eq "data at 3 MiB intact" "$(dd if=$D bs=1M skip=3 count=1 2>/dev/null | head -c 15)" net-switch-data
	eq "function cdev" "$(cat $F)" cdev
	t "switch to net again" sh -c "echo net > $F"
	N=$(ls $A/net 2>/dev/null)
	t "the interface is back" test -n "$N"
	eq "the same address as before ($M)" "$(cat /sys/class/net/$N/address 2>/dev/null)" "$M"
	t "ivshmem_net uses ivshmem (holders)" test -e /sys/module/ivshmem/holders/ivshmem_net
	fails_with "rmmod ivshmem is refused while ivshmem_net is loaded" "Resource temporarily unavailable" rmmod ivshmem
	t "rmmod ivshmem_net with the interface bound" rmmod ivshmem_net
	t "the interface is gone after rmmod ivshmem_net" test ! -e /sys/class/net/$N
	t "the auxiliary device stays without its driver" test -e $A
	t "rmmod ivshmem" rmmod ivshmem
	t "no auxiliary device after rmmod" test ! -e $A
else
	fails_with "net is refused without the auxiliary bus" "Operation not supported" sh -c "echo net > $F"
	eq "still the character device" "$(cat $F)" cdev
	@NO_AUX@
	t "rmmod ivshmem" rmmod ivshmem
fi
t "insmod ivshmem.ko again" insmod /lib/ivshmem/ivshmem.ko
eq "function cdev after reload" "$(cat $F)" cdev
eq "data at 3 MiB after reload" "$(dd if=$D bs=1M skip=3 count=1 2>/dev/null | head -c 15)" net-switch-data
t "rmmod ivshmem" rmmod ivshmem
'''.replace('@NO_AUX@', NO_AUX.strip())
    g = ctx.boot('net_switch', script, srv.device('net'))
    results = g.wait()
    results.append(srv.stop())
    return g, results


def net_guest_script(role, me, other, mtus, size, udp_bytes):
    """The script of one of net_two_guests' guests: @role recv or send."""
    script = SNMP + NET_UP % {'me': me} + '''i=0
while [ "$(cat /sys/class/net/$N/carrier 2>/dev/null)" != 1 ] && [ $i -lt 600 ]; do
	sleep 0.2
	i=$((i + 1))
done
eq "carrier within 120 s" "$(cat /sys/class/net/$N/carrier)" 1
echo "IVT-MAC %(me)d $(cat /sys/class/net/$N/address)"
t "ping 10.99.0.%(other)d" ping -c 3 -W 10 10.99.0.%(other)d
''' % {'me': me, 'other': other}
    for k, mtu in enumerate(mtus):
        dsize = udp_size(mtu)
        p = {'k': k, 'mtu': mtu, 'big': mtu - 28, 'other': other,
             'port': 5000 + k, 'size': size, 'uport': 5100 + k,
             'count': udp_bytes // dsize, 'dsize': dsize}
        script += '''
t "MTU %(mtu)d" ip link set $N mtu %(mtu)d
sleep 2
t "ping -s %(big)d at MTU %(mtu)d" ping -c 2 -W 10 -s %(big)d 10.99.0.%(other)d
''' % p
        # UDP first: the TCP stream that follows ends at both ends at
        # once, before either changes the MTU (the sender retries its
        # connection while the receiver still counts datagrams).
        if role == 'recv':
            script += '''
U=$(snmp Udp InErrors)
R=$(run ivshmem_netcat udprecv %(uport)d %(count)d %(dsize)d)
echo "IVT-UDP recv%(k)d $R inerrors $(($(snmp Udp InErrors) - U))"
echo "IVT-HASH recv%(k)d $(run ivshmem_netcat recv %(port)d | sha)"
''' % p
        else:
            script += '''
U=$(snmp Udp SndbufErrors)
# udpsend waits for udprecv to answer its hello: the receiver binds its
# UDP port after its own ping.
R=$(run ivshmem_netcat udpsend 10.99.0.%(other)d %(uport)d %(count)d %(dsize)d)
echo "IVT-UDP send%(k)d $R sndbuf $(($(snmp Udp SndbufErrors) - U))"
echo "IVT-HASH want%(k)d $(ivshmem_netcat gen %(k)d %(size)d | sha)"
sleep 3
run sh -c "ivshmem_netcat gen %(k)d %(size)d | ivshmem_netcat send 10.99.0.%(other)d %(port)d"
''' % p
    script += '''
S=/sys/class/net/$N/statistics
eq "no receive errors (protocol or length)" "$(cat $S/rx_errors)" 0
eq "no frames over the MTU" "$(cat $S/rx_length_errors)" 0
eq "no receive drops" "$(cat $S/rx_dropped)" 0
eq "no transmit drops" "$(cat $S/tx_dropped)" 0
eq "no transmit timeouts" "$(cat $S/tx_errors)" 0
eq "one session: the carrier came up once" "$(cat /sys/class/net/$N/carrier_up_count)" 1
eq "no TCP checksum errors (InCsumErrors)" "$(snmp Tcp InCsumErrors)" 0
eq "no UDP checksum errors (InCsumErrors)" "$(snmp Udp InCsumErrors)" 0
echo "note: TCP segments retransmitted: $(snmp Tcp RetransSegs) (TCG timing)"
# The other guest reads its counters before the link goes.
sleep 10
t "switch back to cdev" sh -c "echo cdev > $F"
t "rmmod ivshmem_net" rmmod ivshmem_net
t "rmmod ivshmem" rmmod ivshmem
'''
    return script


def udp_size(mtu):
    """The datagram size of net_two_guests' UDP run at @mtu: the largest
    an IPv4 packet of that MTU holds (no fragments)."""
    return min(mtu - 28, 65507)


UDP_RECV_RE = (r'IVT-UDP recv%d received (\d+) lost (\d+) dup (\d+) '
               r'reordered (\d+) corrupt (\d+) inerrors (-?\d+)')
UDP_SEND_RE = r'IVT-UDP send%d sent (\d+) errors (\d+) sndbuf (-?\d+)'


def udp_results(flavor, text, k, mtu, count):
    """net_two_guests' four checks of UDP run @k at @mtu (@count
    datagrams), from both guests' consoles (@text); the loss as a note."""
    rm = re.search(UDP_RECV_RE % k, text)
    sm = re.search(UDP_SEND_RE % k, text)
    what = 'MTU %d UDP (%d datagrams of %d bytes)' % (mtu, count,
                                                     udp_size(mtu))
    if not rm or not sm:
        # As many results as below: the check count stays.
        return [(False, '%s: both ends report (receiver %s, sender %s)' %
                 (what, bool(rm), bool(sm)))] * 4
    got, lost, dup, reord, bad, inerr = map(int, rm.groups())
    sent, errs, sndbuf = map(int, sm.groups())
    ivt.log('%s: %s: %d lost (%.1f%%; %d in the receiver\'s socket '
            'buffer, %d at the sender), %d reordered' %
            (flavor.name, what, lost, 100.0 * lost / max(count, 1),
             inerr, sndbuf, reord))
    return [
        (sent + errs == count,
         '%s: the sender sends all (%d taken, %d refused)' % (what, sent,
                                                              errs)),
        (got > 0 and bad == 0,
         '%s: datagrams arrive (%d), none corrupt (%d)' % (what, got, bad)),
        (dup == 0, '%s: no datagram arrives twice (%d)' % (what, dup)),
        (lost == inerr + sndbuf + errs,
         '%s: every lost datagram is counted by a kernel: %d lost = '
         '%d receiver InErrors + %d sender SndbufErrors + %d refused '
         '(the link loses none)' % (what, lost, inerr, sndbuf, errs)),
    ]


@ivt.test(flavors=ivt.ANY_ARCH, guests=2)
def net_two_guests(ctx):
    """Two guests on one server: ping, a 256 MiB TCP stream per MTU
    (1500, 65535), its SHA-256 checked at the far end (32 MiB under
    KASAN and kmemleak), and 32 MiB of UDP datagrams of the MTU's size
    (8 MiB there): no protocol, length or checksum error, drop, timeout
    or link reset on the way; no corrupt or duplicated datagram, every
    lost one counted by a kernel (the link loses none)."""
    size = int(os.environ.get('IVT_NET_BYTES') or
               (32 << 20 if ctx.flavor.debug else 256 << 20))
    udp_bytes = int(os.environ.get('IVT_NET_UDP_BYTES') or
                    (8 << 20 if ctx.flavor.debug else 32 << 20))
    mtus = (1500, 65535)
    srv = ivt.Server(ctx.workdir, size='8M', vectors=1)
    guests = []
    for role, me, other in (('recv', 1, 2), ('send', 2, 1)):
        guests.append(ctx.boot('net_two_guests_' + role,
                               net_guest_script(role, me, other, mtus, size,
                                                udp_bytes),
                               srv.device(role), timeout=1500))
    results = []
    for g in guests:
        results += [(ok, '%s: %s' % (g.name, d)) for ok, d in g.wait()]
    text = guests[0].text() + guests[1].text()
    got = dict(re.findall(r'IVT-HASH (\w+) ([0-9a-f]{64})', text))
    for k, mtu in enumerate(mtus):
        results.append((got.get('recv%d' % k) is not None and
                        got.get('recv%d' % k) == got.get('want%d' % k),
                        'MTU %d: the %d MiB stream arrives with the '
                        'SHA-256 it was sent with' % (mtu, size >> 20)))
        results += udp_results(ctx.flavor, text, k, mtu,
                               udp_bytes // udp_size(mtu))
    macs = dict(re.findall(r'IVT-MAC (\d) ([0-9a-f:]{17})', text))
    results.append((len(macs) == 2 and macs['1'] != macs['2'],
                    'the two ends have different addresses (%s)' %
                    ', '.join(sorted(macs.values()))))
    for m in re.finditer(r'IVT-NET received (\d+) bytes in ([\d.]+) s',
                         guests[0].text()):
        ivt.log('%s: %s bytes in %s s' % (ctx.flavor.name, m.group(1),
                                          m.group(2)))
    results.append(srv.stop())
    return guests[0], results


# snmp PROTO FIELD: a counter of /proc/net/snmp
SNMP = '''
snmp() {
	awk -v p="$1:" -v f="$2" '$1 == p {
		if (!c) { for (i = 2; i <= NF; i++) if ($i == f) c = i; next }
		print $c }' /proc/net/snmp
}
'''

NET_UP = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
t "insmod ivshmem_net.ko" insmod /lib/ivshmem/ivshmem_net.ko
net_up /dev/ivshmem0 10.99.0.%(me)d/24
'''


@ivt.test(flavors=ivt.ANY_ARCH, guests=2)
def net_hostile(ctx):
    """A hostile peer (random indices, lengths, states in the shared
    memory, through /dev/ivshmem0 in the other guest) for 20 s, after a
    stall (it stops consuming while the victim sends: the victim's
    transmit watchdog resets the link): the victim stays up and counts
    errors; then the peer behaves (loads ivshmem_net) and the link
    works."""
    srv = ivt.Server(ctx.workdir, size='4M', vectors=1)
    victim = NET_UP % {'me': 1} + '''
# Traffic for the peer that stops consuming (to the subnet's broadcast
# address: no neighbour to resolve); it ends once the transmit watchdog
# has fired.
ivshmem_netcat udpflood 10.99.0.255 9 600 &
FP=$!
i=0
while [ "$(cat /sys/class/net/$N/statistics/tx_errors)" = 0 ] && [ $i -lt 300 ]; do
	sleep 1
	i=$((i + 1))
done
T=$(cat /sys/class/net/$N/statistics/tx_errors)
t "the transmit watchdog fired on the peer that stopped consuming ($T)" test "$T" -gt 0
t "the watchdog's report is in the kernel log" sh -c "dmesg | grep -q 'NETDEV WATCHDOG: .*transmit queue 0 timed out'"
kill $FP
wait $FP
t "the peer answers once it behaves (within 600 s)" ping_until 600 10.99.0.2
E=$(cat /sys/class/net/$N/statistics/rx_errors)
echo "protocol errors counted: $E"
t "protocol errors counted ($E)" test "$E" -gt 0
L=$(cat /sys/class/net/$N/statistics/rx_length_errors)
t "the frame over the MTU was dropped and counted ($L)" test "$L" -gt 0
t "ping 10.99.0.2" ping -c 3 -W 10 10.99.0.2
eq "carrier" "$(cat /sys/class/net/$N/carrier)" 1
# The peer pings back before the link goes.
sleep 30
t "switch back to cdev" sh -c "echo cdev > $F"
t "rmmod ivshmem_net" rmmod ivshmem_net
t "rmmod ivshmem" rmmod ivshmem
'''
    hostile = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
run ivshmem_nethostile /dev/ivshmem0 20 %d
t "rmmod ivshmem" rmmod ivshmem
''' % 28 + NET_UP % {'me': 2} + '''
t "ping 10.99.0.1 (within 300 s)" ping_until 300 10.99.0.1
eq "no protocol errors from a peer that behaves" "$(cat /sys/class/net/$N/statistics/rx_errors)" 0
# The victim pings back, then lets go.
sleep 30
t "switch back to cdev" sh -c "echo cdev > $F"
t "rmmod ivshmem_net" rmmod ivshmem_net
t "rmmod ivshmem" rmmod ivshmem
'''
    guests = [ctx.boot('net_hostile_victim', victim, srv.device('victim'),
                       timeout=1200),
              ctx.boot('net_hostile_peer', hostile, srv.device('peer'),
                       timeout=1200)]
    results = []
    for g in guests:
        results += [(ok, '%s: %s' % (g.name, d)) for ok, d in g.wait()]
    results.append(srv.stop())
    return guests[0], results


@ivt.test(flavors=ivt.ANY_ARCH, guests=2)
def net_peer_restart(ctx):
    """One guest killed in the middle of a TCP stream to the other: the
    other's carrier drops with its end of the stream still open; a new
    guest on the same server (a new peer ID) takes the dead one's slot,
    the carrier returns, and a fresh stream (32 MiB, 8 MiB under KASAN)
    arrives with the SHA-256 it was sent with."""
    size = 8 << 20 if ctx.flavor.debug else 32 << 20
    srv = ivt.Server(ctx.workdir, size='4M', vectors=1)
    survivor = NET_UP % {'me': 1} + '''
S=/sys/class/net/$N/statistics
ivshmem_netcat recv 5000 > /dev/null &
P=$!
t "ping the first peer (within 300 s)" ping_until 300 10.99.0.2
# The kill comes once the first peer's stream has brought 4 MiB.
B=$(($(cat $S/rx_bytes) + 4194304))
i=0
while [ "$(cat $S/rx_bytes)" -lt $B ] && [ $i -lt 600 ]; do
	sleep 0.5
	i=$((i + 1))
done
t "the first peer's stream flows (4 MiB within 300 s)" test "$(cat $S/rx_bytes)" -ge $B
echo IVT-NET-STREAMING
i=0
while [ "$(cat /sys/class/net/$N/carrier)" = 1 ] && [ $i -lt 600 ]; do
	sleep 0.2
	i=$((i + 1))
done
eq "carrier drops once the peer is killed" "$(cat /sys/class/net/$N/carrier)" 0
t "the stream was cut off: its receiver still waits" kill -0 $P
kill $P
wait $P
t "the new peer answers (within 600 s)" ping_until 600 10.99.0.2
eq "carrier is back" "$(cat /sys/class/net/$N/carrier)" 1
echo "IVT-HASH recv $(run ivshmem_netcat recv 5001 | sha)"
eq "no protocol errors" "$(cat $S/rx_errors)" 0
# The new peer reads its counters before the link goes.
sleep 10
t "switch back to cdev" sh -c "echo cdev > $F"
t "rmmod ivshmem_net" rmmod ivshmem_net
t "rmmod ivshmem" rmmod ivshmem
'''
    first = NET_UP % {'me': 2} + '''
t "ping the survivor (within 300 s)" ping_until 300 10.99.0.1
# Longer than it can run: it ends with the guest.
ivshmem_netcat gen 1 1099511627776 | ivshmem_netcat send 10.99.0.1 5000
'''
    second = NET_UP % {'me': 2} + '''
t "ping the survivor (within 300 s)" ping_until 300 10.99.0.1
echo "IVT-HASH want $(ivshmem_netcat gen 2 %(size)d | sha)"
run sh -c "ivshmem_netcat gen 2 %(size)d | ivshmem_netcat send 10.99.0.1 5001"
eq "no protocol errors" "$(cat /sys/class/net/$N/statistics/rx_errors)" 0
sleep 5
''' % {'size': size}
    first = ctx.boot('net_restart_first', first, srv.device('first'),
                     timeout=1200)
    surv = ctx.boot('net_restart_survivor', survivor,
                    srv.device('survivor'), timeout=1200)
    results = []
    up = ivt.wait_console(surv, r'IVT-NET-STREAMING', timeout=900)
    results.append((up, 'the stream flowed before the kill'))
    first.stop()
    second = ctx.boot('net_restart_second', second, srv.device('second'),
                      timeout=1200)
    for g in (surv, second):
        results += [(ok, '%s: %s' % (g.name, d)) for ok, d in g.wait()]
    got = dict(re.findall(r'IVT-HASH (\w+) ([0-9a-f]{64})',
                          surv.text() + second.text()))
    results.append((got.get('recv') is not None and
                    got.get('recv') == got.get('want'),
                    'the new stream (%d MiB) arrives with the SHA-256 it '
                    'was sent with' % (size >> 20)))
    results.append(srv.stop())
    return surv, results


# carrier_wait COUNT SECONDS [down]: the carrier has gone down more than
# COUNT times (carrier_down_count) and, without "down", is up again,
# within SECONDS each.
CARRIER_WAIT = '''
carrier_wait() {
	_c=/sys/class/net/$N
	_i=0
	while [ "$(cat $_c/carrier_down_count)" -le $1 ] && [ $_i -lt $(($2 * 5)) ]; do
		sleep 0.2
		_i=$((_i + 1))
	done
	if [ "$(cat $_c/carrier_down_count)" -le $1 ]; then
		echo "carrier_wait: no carrier drop within $2 s" >&2
		return 1
	fi
	[ -z "$3" ] || return 0
	_i=0
	while [ "$(cat $_c/carrier)" != 1 ] && [ $_i -lt $(($2 * 5)) ]; do
		sleep 0.2
		_i=$((_i + 1))
	done
	[ "$(cat $_c/carrier)" = 1 ]
}
'''

# The acting guest of net_remove_traffic (no helper may set _d, t's
# description). net_find: $N, the interface of whichever ivshmem.net.N
# exists (within 10 s), with its address and up; bulk PORT: an endless
# stream to the peer in the background ($P); flowing: 2 MiB more have
# gone out since it was called (within 300 s).
REMOVE_ACTOR = '''
net_find() {
	N=
	_i=0
	while [ -z "$N" ] && [ $_i -lt 100 ]; do
		for _f in /sys/bus/auxiliary/devices/ivshmem.net.*/net/*; do
			[ -e "$_f" ] && N=${_f##*/}
		done
		[ -n "$N" ] || sleep 0.1
		_i=$((_i + 1))
	done
	[ -n "$N" ] && ip addr add 10.99.0.2/24 dev $N && ip link set $N up
}
bulk() {
	ivshmem_netcat gen 1 1099511627776 | ivshmem_netcat send 10.99.0.1 $1 2> /dev/null &
	P=$!
}
flowing() {
	_s=/sys/class/net/$N/statistics/tx_bytes
	_b=$(($(cat $_s) + 2097152))
	_i=0
	while [ "$(cat $_s)" -lt $_b ] && [ $_i -lt 600 ]; do
		sleep 0.5
		_i=$((_i + 1))
	done
	[ "$(cat $_s)" -ge $_b ]
}
'''

# The steps of net_remove_traffic after which the link comes back:
# (name, what the actor does under traffic; $BDF and $F are the
# device's).
REMOVE_STEPS = (
    ('unbind', '''
t "%(n)s: unbind the PCI driver under traffic" sh -c "echo $BDF > /sys/bus/pci/drivers/ivshmem/unbind"
t "%(n)s: the interface is gone" test ! -e /sys/class/net/$N
t "%(n)s: bind it again" sh -c "echo $BDF > /sys/bus/pci/drivers/ivshmem/bind"
eq "%(n)s: the function is cdev after the bind" "$(cat $F)" cdev
t "%(n)s: switch to net" sh -c "echo net > $F"
'''),
    ('rmmod', '''
t "%(n)s: rmmod ivshmem_net under traffic" rmmod ivshmem_net
t "%(n)s: the interface is gone" test ! -e /sys/class/net/$N
t "%(n)s: insmod ivshmem_net again" insmod /lib/ivshmem/ivshmem_net.ko
'''),
    ('function', '''
t "%(n)s: switch to cdev under traffic" sh -c "echo cdev > $F"
t "%(n)s: the interface is gone" test ! -e /sys/class/net/$N
t "%(n)s: /dev/ivshmem0 is back" test -c /dev/ivshmem0
t "%(n)s: switch to net again" sh -c "echo net > $F"
'''),
)

# What /proc/PID/fd says of an eventfd.
EVENTFD = 'anon_inode:[eventfd]'

# The last step: the harness unplugs the device (QMP device_del) and,
# once QEMU has deleted it, adds a new one on the same server
# (replug()); the actor switches that one to net.
REMOVE_UNPLUG = ('unplug', '''
echo IVT-NET-UNPLUG-NOW
i=0
while [ -e /sys/bus/pci/devices/$BDF ] && [ $i -lt 600 ]; do
	sleep 0.2
	i=$((i + 1))
done
t "%(n)s: the device is hot-unplugged under traffic (within 120 s)" test ! -e /sys/bus/pci/devices/$BDF
t "%(n)s: the interface is gone" test ! -e /sys/class/net/$N
echo IVT-NET-UNPLUGGED
D=
i=0
while [ -z "$D" ] && [ $i -lt 1500 ]; do
	for d in /dev/ivshmem[0-9]*; do
		[ -c "$d" ] && D=$d
	done
	[ -n "$D" ] || sleep 0.2
	i=$((i + 1))
done
t "%(n)s: a new device is hot-added (within 300 s)" test -n "$D"
BDF=$(pci_of $D)
F=/sys/bus/pci/devices/$BDF/ivshmem_function
t "%(n)s: switch the new device ($BDF) to net" sh -c "echo net > $F"
''')


def replug(g, srv, old, new, ready):
    """Unplug @g's doorbell device net-@old (chardev @old) and, once
    QEMU deleted it and @ready() returned true, add net-@new on a new
    chardev @new to @srv; return the results.

    QEMU 7.2 leaves a dangling fd handler behind an unplugged doorbell
    device: under TCG (no irqfd) setup_interrupt() watches each of the
    device's own vectors' eventfds with qemu_set_fd_handler()
    (watch_vector_notifier(), handler ivshmem_vector_notify(), opaque
    &s->msi_vectors[v]), and ivshmem_exit() closes those eventfds
    (close_peer_eventfds()) and frees msi_vectors without removing the
    handler. The main loop goes on polling that number (POLLNVAL while
    it is closed); the next descriptor QEMU opens under it, the new
    chardev's socket or a QMP connection, calls ivshmem_vector_notify()
    on freed memory as soon as it is readable: QEMU segfaults (in
    object_dynamic_cast_assert()) or the handler eats that socket's
    input. So every eventfd number the old device freed is taken, before
    the new chardev, by an eventfd of ours that nobody writes (QMP
    getfd; QEMU keeps it to the end), all over one QMP connection opened
    before the unplug: a connection per command (Guest.qmp()) would take
    a freed number itself."""
    results = []
    q = None
    try:
        q = g.qmp_session()
        before = g.fds()
        reply = q.cmd('device_del', id='net-' + old)
        results.append(('return' in reply, 'QMP device_del: %s' % reply))
        gone = q.wait_event('DEVICE_DELETED', 300, device='net-' + old)
        results.append((gone is not None, 'QEMU deleted the device once the '
                        'guest ejected it (DEVICE_DELETED within 300 s)'))
        if gone is None:
            return results
        # The old chardev stays connected to the server (the old peer ID
        # with it) until removed; busy until the device is finalized.
        for _ in range(50):
            reply = q.cmd('chardev-remove', id=old)
            if 'return' in reply:
                break
            time.sleep(0.1)
        results.append(('return' in reply, 'QMP chardev-remove of the old '
                        'chardev: %s' % reply))
        after = g.fds()
        freed = sorted(n for n, what in before.items()
                       if what == EVENTFD and after.get(n) != EVENTFD)
        # Each getfd takes the lowest free number.
        passed = 0
        while passed < 64 and not all(g.fds().get(n) == EVENTFD
                                      for n in freed):
            efd = os.eventfd(0)
            try:
                reply = q.cmd('getfd', fds=[efd],
                              fdname='ivt-idle%d' % passed)
            finally:
                os.close(efd)
            passed += 1
            if 'return' not in reply:
                break
        now = g.fds()
        ivt.log('  %s: the unplugged device freed eventfds %s; %d idle '
                'eventfds passed (getfd)' % (g.name, freed, passed))
        results.append((bool(freed) and
                        all(now.get(n) == EVENTFD for n in freed),
                        'the eventfd numbers the old device freed (%s) are '
                        'taken by idle eventfds (%d QMP getfd)' % (
                            freed, passed)))
        results.append((ready(), 'the guest saw its device go'))
        for cmd, args in (
                ('chardev-add', {'id': new, 'backend': {
                    'type': 'socket', 'data': {
                        'addr': {'type': 'unix',
                                 'data': {'path': srv.sock}},
                        'server': False}}}),
                ('device_add', dict(driver='ivshmem-doorbell',
                                    id='net-' + new, chardev=new,
                                    vectors=srv.vectors))):
            reply = q.cmd(cmd, **args)
            results.append(('return' in reply, 'QMP %s: %s' % (cmd, reply)))
            if 'return' not in reply:
                break
    except (OSError, ValueError, EOFError) as e:
        results.append((False, 'QMP: %s: %s' % (type(e).__name__, e)))
    finally:
        if q is not None:
            q.close()
    return results


@ivt.test(flavors=ivt.KINDS, guests=2)
def net_remove_traffic(ctx):
    """Two guests; while a TCP stream runs from one to the other, the
    sender (a) unbinds and binds the PCI driver, (b) reloads
    ivshmem_net, (c) switches the function to cdev and back, (d) loses
    its device to a hot unplug (QMP device_del) and gets a new one on
    the same server (QMP chardev-add, device_add). After each step the
    receiver's carrier went down and is back up and the link carries a
    4 MiB stream (1 MiB under KASAN) with its SHA-256. No protocol
    error at the receiver; no kernel report (the harness's splat
    check)."""
    size = 1 << 20 if ctx.flavor.debug else 4 << 20
    srv = ivt.Server(ctx.workdir, size='4M', vectors=1)
    dev = srv.device('actor')
    dev[-1] += ',id=net-actor'
    peer = CARRIER_WAIT + NET_UP % {'me': 1} + '''
t "ping the sender (within 300 s)" ping_until 300 10.99.0.2
'''
    actor = NET_UP % {'me': 2} + REMOVE_ACTOR + '''
BDF=$(basename "$(dirname "$F")")
t "ping the receiver (within 300 s)" ping_until 300 10.99.0.1
'''
    steps = REMOVE_STEPS + (REMOVE_UNPLUG,)
    for s, (name, op) in enumerate(steps):
        p = {'n': name, 's': s, 'bulk': 6000 + s, 'check': 6100 + s,
             'size': size}
        peer += '''
D=$(cat /sys/class/net/$N/carrier_down_count)
ivshmem_netcat recv %(bulk)d > /dev/null 2>&1 &
P=$!
t "%(n)s: the carrier drops and returns (within 600 s each)" carrier_wait $D 600
kill $P 2> /dev/null
wait $P
echo "IVT-HASH recv%(s)d $(run ivshmem_netcat recv %(check)d | sha)"
''' % p
        actor += '''
bulk %(bulk)d
t "%(n)s: the stream flows" flowing
''' % p + op % p + '''
kill $P 2> /dev/null
wait $P
t "%(n)s: the interface is back" net_find
t "%(n)s: ping (within 300 s)" ping_until 300 10.99.0.1
echo "IVT-HASH want%(s)d $(ivshmem_netcat gen %(s)d %(size)d | sha)"
run sh -c "ivshmem_netcat gen %(s)d %(size)d | ivshmem_netcat send 10.99.0.1 %(check)d"
''' % p
    peer += '''
eq "no protocol errors from a peer that left mid-stream" "$(cat /sys/class/net/$N/statistics/rx_errors)" 0
echo "note: transmit timeouts $(cat /sys/class/net/$N/statistics/tx_errors), drops $(cat /sys/class/net/$N/statistics/tx_dropped)/$(cat /sys/class/net/$N/statistics/rx_dropped)"
t "switch back to cdev" sh -c "echo cdev > $F"
t "rmmod ivshmem_net" rmmod ivshmem_net
t "rmmod ivshmem" rmmod ivshmem
'''
    actor += '''
# The receiver reads its counters before the link goes.
sleep 5
t "switch back to cdev" sh -c "echo cdev > $F"
t "rmmod ivshmem_net" rmmod ivshmem_net
t "rmmod ivshmem" rmmod ivshmem
'''
    guests = [ctx.boot('net_remove_peer', peer, srv.device('peer'),
                       timeout=1800),
              ctx.boot('net_remove_actor', actor, dev, timeout=1800)]
    results = []
    act = guests[1]
    if ivt.wait_console(act, 'IVT-NET-UNPLUG-NOW', timeout=1500):
        results += replug(act, srv, 'actor', 'actor2',
                          lambda: ivt.wait_console(act, 'IVT-NET-UNPLUGGED',
                                                   timeout=300))
    else:
        results.append((False, 'the sender asked for the unplug'))
    for g in guests:
        results += [(ok, '%s: %s' % (g.name, d)) for ok, d in g.wait()]
    got = dict(re.findall(r'IVT-HASH (\w+) ([0-9a-f]{64})',
                          guests[0].text() + act.text()))
    for s, (name, _) in enumerate(steps):
        results.append((got.get('recv%d' % s) is not None and
                        got.get('recv%d' % s) == got.get('want%d' % s),
                        '%s: then a %d MiB stream arrives with the SHA-256 '
                        'it was sent with' % (name, size >> 20)))
    results.append(srv.stop())
    return guests[0], results


# net_plain's links: (variable, subnet, BAR2 size). Both sides plain on
# one file; the receiver's doorbell device (a server backed by a file)
# facing the sender's plain device on that file; doorbell devices on
# both sides (another server).
PLAIN_LINKS = (('NP', 99, 4 << 20), ('NM', 97, 2 << 20), ('ND', 98, 8 << 20))

# net_plain's common start: every device to net, addresses, up, carrier.
PLAIN_UP = SNMP + r"""
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
t "insmod ivshmem_net.ko" insmod /lib/ivshmem/ivshmem_net.ko
# carrier_wait IFACE VALUE SECONDS
carrier_wait() {
	_i=0
	while [ "$(cat /sys/class/net/$1/carrier 2>/dev/null)" != $2 ] && [ $_i -lt $(($3 * 5)) ]; do
		sleep 0.2
		_i=$((_i + 1))
	done
	[ "$(cat /sys/class/net/$1/carrier 2>/dev/null)" = $2 ]
}
# net_on SIZE: switch the device of BAR2 size SIZE to net; print its
# PCI address
net_on() {
	_b=$(pci_of $(dev_by_size $1))
	echo net > /sys/bus/pci/devices/$_b/ivshmem_function && echo $_b
}
# iface BDF: the interface of the device at BDF
iface() {
	ls /sys/bus/pci/devices/$1/ivshmem.net.*/net 2>/dev/null
}
eq "the 4 MiB device is plain: no doorbell" "$(cat /sys/class/ivshmem/$(basename $(dev_by_size 4194304))/can_ring)" 0
"""
for var, net, size in PLAIN_LINKS:
    PLAIN_UP += r"""
B@V@=$(net_on @SIZE@)
t "switch the @MIB@ MiB device to net ($B@V@)" test -n "$B@V@"
@V@=$(iface $B@V@)
t "an interface on it ($@V@)" test -n "$@V@"
ip addr add 10.@NET@.0.@ME@/24 dev $@V@
t "ip link set $@V@ up" ip link set $@V@ up
""".replace('@V@', var).replace('@NET@', str(net)).replace(
        '@SIZE@', str(size)).replace('@MIB@', str(size >> 20))
for var, net, size in PLAIN_LINKS:
    PLAIN_UP += r"""
t "carrier on the @MIB@ MiB link within 120 s" carrier_wait $@V@ 1 120
t "ping 10.@NET@.0.@OTHER@ (@MIB@ MiB link)" ping -c 3 -W 10 10.@NET@.0.@OTHER@
""".replace('@V@', var).replace('@NET@', str(net)).replace(
        '@MIB@', str(size >> 20))
PLAIN_UP += r"""
t "the plain link polls (kernel log)" sh -c "dmesg | grep -q '$NP: link up, polling'"
t "the link facing a plain device polls (kernel log)" sh -c "dmesg | grep -q '$NM: link up, polling'"
t "the doorbell link does not poll (kernel log)" sh -c "dmesg | grep -q '$ND: link up$'"
"""

# The end: every device back to cdev, modules out.
PLAIN_DOWN = r"""
for b in $BNP $BNM $BND; do
	t "switch $b back to cdev" sh -c "echo cdev > /sys/bus/pci/devices/$b/ivshmem_function"
done
t "rmmod ivshmem_net" rmmod ivshmem_net
t "rmmod ivshmem" rmmod ivshmem
"""


@ivt.test(flavors=ivt.KINDS, guests=2)
def net_plain(ctx):
    """ivshmem_net without doorbell (polling) between two guests, on three
    links: ivshmem-plain on both sides, a doorbell device facing a plain
    device, doorbell devices on both sides. Ping on each, the ping RTT of
    each against the doorbell link's (TCG), a TCP stream over each
    polled link with its SHA-256 checked, no error, drop or reset."""
    size = 4 << 20 if ctx.flavor.debug else 16 << 20
    sizes = dict((v, n) for v, _, n in PLAIN_LINKS)
    # Both sides plain on one file.
    ppath, recv_dev = ivt.plain_device(ctx.workdir, 'netshm', sizes['NP'],
                                       addr=4)
    send_dev = ['-object', 'memory-backend-file,id=netshm,size=%d,'
                'mem-path=%s,share=on' % (sizes['NP'], ppath),
                '-device', 'ivshmem-plain,memdev=netshm,addr=0x4']
    # A server on a file; the sender's plain device on that file.
    mdir = os.path.join(ctx.workdir, 'mixed')
    os.makedirs(mdir, exist_ok=True)
    mpath = os.path.join(mdir, 'shm')
    msrv = ivt.Server(mdir, size='2M', vectors=1, backing=mpath)
    send_dev += ['-object', 'memory-backend-file,id=mixshm,size=%d,'
                 'mem-path=%s,share=on' % (sizes['NM'], mpath),
                 '-device', 'ivshmem-plain,memdev=mixshm,addr=0x5']
    recv_dev += msrv.device('mixed', addr=5)
    # Doorbell devices on both sides.
    srv = ivt.Server(ctx.workdir, size='8M', vectors=1)
    recv_dev += srv.device('recv', addr=6)
    send_dev += srv.device('send', addr=6)
    recv = PLAIN_UP + r"""
for l in "$NP 5000" "$NM 5001"; do
	set -- $l
	echo "IVT-HASH recv$2 $(run ivshmem_netcat recv $2 | sha)"
	S=/sys/class/net/$1/statistics
	eq "$1: no receive errors (protocol or length)" "$(cat $S/rx_errors)" 0
	eq "$1: no receive drops" "$(cat $S/rx_dropped)" 0
	eq "$1: no transmit drops" "$(cat $S/tx_dropped)" 0
	eq "$1: no transmit timeouts" "$(cat $S/tx_errors)" 0
	eq "$1: one session: the carrier came up once" "$(cat /sys/class/net/$1/carrier_up_count)" 1
done
eq "no TCP checksum errors (InCsumErrors)" "$(snmp Tcp InCsumErrors)" 0
# The other side reads its counters before the links go.
sleep 20
""" + PLAIN_DOWN
    send = PLAIN_UP + r"""
rtt() {
	ping -q -c 20 -i 0.2 -W 10 $1 | sed -n 's#.*= [0-9.]*/\([0-9.]*\)/.*#\1#p'
}
RP=$(rtt 10.99.0.1)
RM=$(rtt 10.97.0.1)
RD=$(rtt 10.98.0.1)
echo "IVT-RTT plain $RP mixed $RM doorbell $RD"
t "the mean ping RTT of each link ($RP, $RM, $RD ms)" test -n "$RP" -a -n "$RM" -a -n "$RD"
for l in "$NP 5000 99" "$NM 5001 97"; do
	set -- $l
	echo "IVT-HASH want$2 $(ivshmem_netcat gen 0 @SIZE@ | sha)"
	sleep 2
	run sh -c "ivshmem_netcat gen 0 @SIZE@ | ivshmem_netcat send 10.$3.0.1 $2"
	S=/sys/class/net/$1/statistics
	eq "$1: no receive errors (protocol or length)" "$(cat $S/rx_errors)" 0
	eq "$1: no transmit timeouts" "$(cat $S/tx_errors)" 0
done
# The receiver reads its counters before the links go.
sleep 20
""".replace('@SIZE@', str(size)) + PLAIN_DOWN
    guests = []
    for name, script, me, other, devs in (('recv', recv, 1, 2, recv_dev),
                                          ('send', send, 2, 1, send_dev)):
        script = script.replace('@ME@', str(me)).replace(
            '@OTHER@', str(other))
        guests.append(ctx.boot('net_plain_' + name, script, devs,
                               timeout=1500))
    results = []
    for g in guests:
        results += [(ok, '%s: %s' % (g.name, d)) for ok, d in g.wait()]
    text = guests[0].text() + guests[1].text()
    got = dict(re.findall(r'IVT-HASH (\w+) ([0-9a-f]{64})', text))
    for port, what in (('5000', 'plain'), ('5001', 'doorbell-to-plain')):
        results.append((got.get('recv' + port) is not None and
                        got.get('recv' + port) == got.get('want' + port),
                        'the %d MiB stream over the %s link arrives with '
                        'the SHA-256 it was sent with' % (size >> 20, what)))
    m = re.search(r'IVT-RTT plain ([\d.]+) mixed ([\d.]+) doorbell ([\d.]+)',
                  text)
    if m and float(m.group(3)) > 0:
        rp, rm, rd = (float(x) for x in m.groups())
        ivt.log('%s: mean ping RTT (TCG): both polling %.3f ms (%.2fx), '
                'doorbell to plain %.3f ms (%.2fx), doorbell %.3f ms (1x)' %
                (ctx.flavor.name, rp, rp / rd, rm, rm / rd, rd))
    results.append(msrv.stop())
    results.append(srv.stop())
    return guests[0], results
