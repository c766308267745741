#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: boot guests on Debian's stock 6.1 kernel (and its arm64
6.12 image) and measure.

Prints one table and writes build/bench/bench.json, build/bench/copy.svg
and build/bench/latency.svg (gnuplot):

* copy bandwidth, 4 KiB to 64 MiB, guest RAM to the target (write) and
  back (read): guest RAM memcpy (the baseline), mmap of /dev/ivshmemN,
  pread()/pwrite() on /dev/ivshmemN, and the sysfs resource2 and
  resource2_wc files of a device bound to uio_pci_generic (the seeds'
  documented way), each as a ratio to guest RAM in the same run;
* doorbell round trip between two peers in one guest, and between two
  guests, against an eventfd round trip between two threads
  (tests/progs/ivshmem_doorbell.c bench and pingpong);
* samples/ivshmem-chan: request latency p50/p99 (one in flight) and
  messages per second (16 in flight), doorbell and polling, against the
  raw doorbell round trip;
* page faults per 2 MiB touched of a fresh 64 MiB mapping against an
  anonymous MADV_HUGEPAGE mapping, and the host module's 512 MiB region
  creation (ADD + ATTACH) against mmap + memset, both in the same guest;
* TCP between two guests over ivshmem_net against virtio-net (QEMU's
  socket netdev on a socketpair): stream MB/s at MTU 1500 and at each
  interface's largest, 1-byte request/response round trips (p50, p99)
  and ping's round trip, ivshmem_net as a ratio to virtio-net;
* rows other benchmarks leave in build/bench/extra/*.json
  ({"rows": [[name, value, unit, note], ...]});
* on Debian's arm64 6.12 image (QEMU virt, TCG; BENCH_ARM64=0 skips it):
  the copy rows (guest RAM, mmap, pread()/pwrite()) against that guest's
  own RAM, and the doorbell round trip against its own eventfd round
  trip; what it leaves out is printed with the reason (ARM64_NOT_RUN).

Under TCG (the default) memory types do not change speed: the copy ratios
measure software overhead only. QEMU_ACCEL=kvm make bench on a KVM host
measures the real thing.
"""

import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'harness'))
import ivt  # noqa: E402
import ivt_net  # noqa: E402

OUT = os.path.join(ivt.ROOT, 'build', 'bench')
TRIPS = int(os.environ.get('BENCH_TRIPS', '2000'))
MSGS = int(os.environ.get('BENCH_MSGS', '20000'))

SCRIPT = r'''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
A=$(dev_by_size 4194304 | head -1)
B=$(for d in /dev/ivshmem*; do [ $d != $A ] && [ "$(cat /sys/class/ivshmem/${d##*/}/size)" = 4194304 ] && echo $d; done)
AP=$(pci_of $A)
BP=$(pci_of $B)
C=$(dev_by_size 67108864 | head -1)
U=$(for d in /dev/ivshmem*; do [ $d != $C ] && [ "$(cat /sys/class/ivshmem/${d##*/}/size)" = 67108864 ] && echo $d; done | head -1)
V=$(for d in /dev/ivshmem*; do [ $d != $C ] && [ $d != $U ] && [ "$(cat /sys/class/ivshmem/${d##*/}/size)" = 67108864 ] && echo $d; done | head -1)
UP=$(pci_of $U)
VP=$(pci_of $V)
%(bind)s
# The seeds' way: uio_pci_generic and the sysfs resource files.
t "insmod uio.ko" insmod /lib/kmods/uio.ko
t "insmod uio_pci_generic.ko" insmod /lib/kmods/uio_pci_generic.ko
rebind uio_pci_generic $UP
R=/sys/bus/pci/devices/$UP
ls -l $R/resource2 $R/resource2_wc
# vfio-pci: BAR2 mmap through the device fd.
rebind vfio-pci $VP
ls -l /dev/vfio/
# Page faults per 2 MiB of a fresh mapping, against anonymous THP.
run ivshmem_test bench $C
# The host module's region creation (ADD + ATTACH) against memset, and
# with the HSM test double, acrn-dm's open + first SET_MEMSEG.
t "insmod ivshmem_host.ko" insmod /lib/ivshmem/ivshmem_host.ko
t "insmod ivshmem_hsm_double.ko" insmod /lib/ivshmem/ivshmem_hsm_double.ko
run bench_region 512 3
t "rmmod ivshmem_hsm_double" rmmod ivshmem_hsm_double
run ivshmem_bench copy mmap=$C read-write=$C:rw resource2=$R/resource2 resource2_wc=$R/resource2_wc vfio=vfio:$VP
%(doorbells)s
%(irqtrace)s
'''

# Every bench guest has one vCPU: under TCG on a shared host, waking a
# second, halted vCPU costs a host thread wakeup (milliseconds when the
# host is busy), which drowned every round trip in noise; with one vCPU
# both ends of a round trip and the interrupt meet on one CPU.
#
# Shell helpers of every bench guest: load vfio-pci, move devices between
# drivers (driver_override), find a device's /dev/ivshmemN.
BIND = r'''
for m in irqbypass vfio vfio_virqfd vfio_iommu_type1 vfio-pci-core vfio-pci; do
	[ -e /lib/kmods/$m.ko ] && t "insmod $m.ko" insmod /lib/kmods/$m.ko
done
# rebind DRIVER BDF...: unbind each device, bind it to DRIVER.
rebind() {
	_drv=$1
	shift
	for _p; do
		echo $_drv > /sys/bus/pci/devices/$_p/driver_override
		[ -e /sys/bus/pci/devices/$_p/driver ] &&
			echo $_p > /sys/bus/pci/devices/$_p/driver/unbind
		echo $_p > /sys/bus/pci/drivers_probe
		eq "$_p bound to $_drv" "$(basename $(readlink /sys/bus/pci/devices/$_p/driver))" $_drv
	done
}
# dev_of BDF: the /dev/ivshmemN of a device bound to ivshmem.
dev_of() {
	for _s in /sys/class/ivshmem/ivshmem*; do
		[ "$(basename $(readlink $_s/device))" = $1 ] && echo /dev/${_s##*/}
	done
}
hog() {
	while :; do :; done
}
# The doorbell round trip: the driver and vfio-pci take turns on the
# same two devices, %(rounds)d rounds, idle and then with two CPU hogs
# (the round-trip threads at SCHED_FIFO 50).
doorbells() {
	for r in $(seq %(rounds)d); do
		rebind ivshmem $AP $BP
		A=$(dev_of $AP)
		B=$(dev_of $BP)
		run env $2 BENCH_HIST=$3 ivshmem_doorbell bench $A $B %(trips)d "$1 r$r"
		run env $2 ivshmem_vfio_bench ringcost $A %(trips)d "$1 r$r"
		rebind vfio-pci $AP $BP
		run env $2 ivshmem_vfio_bench doorbell $AP $BP %(trips)d "$1 r$r"
		run env $2 ivshmem_vfio_bench doorbell $AP $BP %(trips)d "$1 r$r" mmap
		run env $2 ivshmem_vfio_bench ringcost vfio:$AP %(trips)d "$1 r$r"
		run env $2 ivshmem_vfio_bench ringcost vfio:$AP:mmap %(trips)d "$1 r$r"
	done
}
'''

KMODS = ['drivers/uio/uio', 'drivers/uio/uio_pci_generic', 'virt/lib/irqbypass',
         'drivers/vfio/vfio', 'drivers/vfio/vfio_iommu_type1',
         'drivers/vfio/pci/vfio-pci-core', 'drivers/vfio/pci/vfio-pci']

ROUNDS = int(os.environ.get('BENCH_ROUNDS', '5'))

DOORBELLS = '''
doorbells idle "" 1
hog &
H1=$!
hog &
H2=$!
doorbells hogs-fifo BENCH_FIFO=50 0
kill $H1 $H2
'''

PINGPONG = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
%(bind)s
P=$(pci_of /dev/ivshmem0)
run env BENCH_HIST=1 ivshmem_doorbell pingpong %(role)s /dev/ivshmem0 %(trips)d
rebind vfio-pci $P
run ivshmem_vfio_bench pingpong %(role)s $P %(trips)d
'''

# samples/ivshmem-chan on two vCPUs (its polling mode spins for the
# peer: on one vCPU it waits out a time slice instead), with the driver's
# round trip there as its own baseline.
CHAN_SCRIPT = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
A=$(ls /dev/ivshmem* | head -1)
B=$(ls /dev/ivshmem* | sed -n 2p)
run ivshmem_doorbell bench $A $B %(trips)d "2-vcpus r1"
OP=ivshmem-chan-operator
RS=ivshmem-chan-responder
for mode in doorbell poll; do
	F=
	[ $mode = poll ] && F=-p
	$RS $F $B > /tmp/r.log 2>&1 &
	R=$!
	run $OP $F -n %(trips)d $A | grep '^bench'
	run $OP $F -w 16 -n %(msgs)d $A | grep '^bench'
	kill $R
	wait $R
done
'''

# Where the doorbell's microseconds go inside the guest: the time from
# each MSI-X handler's entry to its exit (the irq tracepoints), driver
# and vfio-pci, one short round-trip run each with tracing on; the
# deltas are printed for tests/bench.py to take the percentiles of.
IRQTRACE = '''
T=/sys/kernel/tracing
mount -t tracefs nodev $T 2>/dev/null
irqtrace() {
	_l=$1
	shift
	echo > $T/trace
	echo 1 > $T/events/irq/irq_handler_entry/enable
	echo 1 > $T/events/irq/irq_handler_exit/enable
	"$@" > /dev/null
	echo 0 > $T/events/irq/irq_handler_entry/enable
	echo 0 > $T/events/irq/irq_handler_exit/enable
	awk -v l="$_l" '
		/irq_handler_entry:/ {
			sub(":", "", $4); split($0, a, "irq="); split(a[2], b, " ")
			n = $0; sub(/.*name=/, "", n)
			t[b[1]] = $4; nm[b[1]] = n
		}
		/irq_handler_exit:/ {
			sub(":", "", $4); split($0, a, "irq="); split(a[2], b, " ")
			if (b[1] in t && nm[b[1]] ~ /ivshmem|vfio/) {
				k = nm[b[1]] ~ /vfio/ ? "vfio" : "driver"
				d[k] = d[k] " " int(($4 - t[b[1]]) * 1e6 + 0.5)
				delete t[b[1]]
			}
		}
		END { for (k in d) print "bench irqtime [" l "] " k ":" d[k] }' $T/trace
}
rebind ivshmem $AP $BP
irqtrace idle ivshmem_doorbell bench $(dev_of $AP) $(dev_of $BP) 1000 trace
rebind vfio-pci $AP $BP
irqtrace idle ivshmem_vfio_bench doorbell $AP $BP 1000 trace
'''

# The arm64 guest (QEMU's virt machine, GICv3 ITS, TCG, one vCPU): the
# copy rows against its own RAM and the doorbell round trip against its
# own eventfd round trip, %(rounds)d idle rounds. Its devices: two
# doorbell devices on the server and one 64 MiB plain device.
ARM64_SCRIPT = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
A=$(dev_by_size 4194304 | head -1)
B=$(for d in /dev/ivshmem*; do [ $d != $A ] && [ "$(cat /sys/class/ivshmem/${d##*/}/size)" = 4194304 ] && echo $d; done)
C=$(dev_by_size 67108864 | head -1)
t "two doorbell devices and a 64 MiB one ($A $B $C)" test -n "$A" -a -n "$B" -a -n "$C"
run ivshmem_bench copy mmap=$C read-write=$C:rw
for r in $(seq %(rounds)d); do
	run ivshmem_doorbell bench $A $B %(trips)d "idle r$r"
	run ivshmem_vfio_bench ringcost $A %(trips)d "idle r$r"
done
'''

# What the arm64 pass leaves out, and why (printed with its rows).
ARM64_NOT_RUN = [
    ('vfio-pci', 'needs an IOMMU in the guest (Debian\'s kernels have no '
     'CONFIG_VFIO_NOIOMMU); the arm64 guest has none (QEMU virt\'s SMMUv3, '
     'iommu=smmuv3, is not set up here)'),
    ('uio resource2', 'arm64 maps sysfs resource2 as Device-nGnRE '
     '(pgprot_device), which glibc\'s memcpy and memset are not written '
     'for (unaligned accesses and DC ZVA take alignment faults there)'),
    ('uio resource2_wc', 'not measured on arm64, to keep the pass short '
     '(a Normal non-cacheable mapping there)'),
    ('host module', 'ivshmem_host.ko is x86-only (ACRN\'s Service VM): '
     'Kbuild builds host/ for CONFIG_X86'),
    ('two guests, ivshmem-chan, hogs-fifo, MSI-X handler time',
     'x86 only, to keep the arm64 pass short'),
]

RT_SCRIPT = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
%(bind)s
AP=$(pci_of $(ls /dev/ivshmem* | head -1))
BP=$(pci_of $(ls /dev/ivshmem* | sed -n 2p))
%(doorbells)s
%(irqtrace)s
'''


# TCP over ivshmem_net against virtio-net between the same two guests:
# guest a (10.99.0.1 on ivshmem_net, 10.98.0.1 on virtio-net) serves,
# guest b (.2) sends. Both take the steps of net_steps() in one order;
# each step has its own port, so that a client never meets the server of
# an earlier step.
NET_BYTES = int(os.environ.get('BENCH_NET_BYTES', str(64 << 20)))
NET_ROUNDS = int(os.environ.get('BENCH_NET_ROUNDS', '5'))
NET_TRIPS = int(os.environ.get('BENCH_NET_TRIPS', '2000'))
NET_PINGS = int(os.environ.get('BENCH_NET_PINGS', '200'))
NET_IFACES = ('ivshmem', 'virtio')
NET_SUBNET = {'ivshmem': '10.99.0', 'virtio': '10.98.0'}
# virtio-net and what it needs, in load order (Debian's 6.1 builds the
# virtio core and virtio_pci as modules; a kernel that has them built in
# has no file for them).
NET_KMODS = ['drivers/virtio/virtio_ring', 'drivers/virtio/virtio',
             'drivers/virtio/virtio_pci_legacy_dev',
             'drivers/virtio/virtio_pci_modern_dev',
             'drivers/virtio/virtio_pci', 'net/core/failover',
             'drivers/net/net_failover', 'drivers/net/virtio_net']

# Both guests: ivshmem_net up as in the net tests ($N), then virtio-net
# ($V); each side pings the other on both until it answers.
# net_max IFACE PEER NAME: the largest MTU of a list that the driver takes
# and that a frame of crosses to PEER (ping -s, unfragmented: a reply
# larger than the peer's MTU comes back in fragments); prints it.
NET_PRELUDE = ivt_net.NET_UP + ivt_net.PING_UNTIL + r'''
for m in %(kmods)s; do
	[ -e /lib/kmods/$m.ko ] && t "insmod $m.ko" insmod /lib/kmods/$m.ko
done
V=
for d in /sys/class/net/*; do
	l=$(readlink $d/device/driver)
	[ "${l##*/}" = virtio_net ] && V=${d##*/}
done
t "a virtio-net interface ($V)" test -n "$V"
t "ip addr add 10.98.0.%(me)d/24" ip addr add 10.98.0.%(me)d/24 dev $V
t "ip link set $V up" ip link set $V up
t "ivshmem_net: the peer answers (within 600 s)" ping_until 600 10.99.0.%(other)d
t "virtio-net: the peer answers (within 600 s)" ping_until 600 10.98.0.%(other)d
net_max() {
	for _m in 65535 32768 16384 9000 4096; do
		ip link set $1 mtu $_m 2>/dev/null || continue
		sleep 3
		ping -c 2 -W 5 -s $((_m - 28)) $2 > /dev/null 2>&1 && break
	done
	echo "bench net mtu $3 $(cat /sys/class/net/$1/mtu)"
}
'''


def net_steps():
    """The steps both guests take, in order: (kind, iface, mtu, round);
    kind stream, rr or ping; mtu '1500' or 'max'. Each round alternates
    which interface goes first."""
    steps = []
    for phase in ('1500', 'max'):
        for r in range(1, NET_ROUNDS + 1):
            order = NET_IFACES if r % 2 else NET_IFACES[::-1]
            kinds = ('stream', 'rr', 'ping') if phase == '1500' else \
                ('stream',)
            for kind in kinds:
                steps += [(kind, i, phase, r) for i in order]
    return steps


def net_script(role):
    """Guest a's (role 'a', the servers) or b's (the clients) script."""
    me, other = (1, 2) if role == 'a' else (2, 1)
    out = [NET_PRELUDE % {'me': me, 'other': other, 'kmods': ' '.join(
        os.path.basename(m) for m in NET_KMODS)}]
    phase = '1500'
    for port, (kind, ifc, mtu, r) in enumerate(net_steps(), 6000):
        if mtu != phase:
            phase = mtu
            out.append('t "ivshmem_net at MTU 65535" ip link set $N mtu '
                       '65535\nnet_max $V 10.98.0.%d virtio\n'
                       'echo "bench net mtu ivshmem $(cat /sys/class/net/'
                       '$N/mtu)"\nsleep 3' % other)
        label = '%s %s r%d' % (ifc, mtu, r)
        peer = '%s.%d' % (NET_SUBNET[ifc], other)
        if role == 'a':
            if kind == 'stream':
                out.append('run ivshmem_netcat sink %d "%s"' % (port, label))
            elif kind == 'rr':
                out.append('run ivshmem_netcat rr-echo %d' % port)
        elif kind == 'stream':
            out.append('run ivshmem_netcat stream %s %d %d' % (
                peer, port, NET_BYTES))
        elif kind == 'rr':
            out.append('run ivshmem_netcat rr %s %d %d "%s"' % (
                peer, port, NET_TRIPS, label))
        else:
            out.append('ping -A -c %d %s > /tmp/ping.txt\n'
                       'echo "bench net ping %s:$(grep -o \'time=[0-9.]*\' '
                       '/tmp/ping.txt | cut -d= -f2 | tr \'\\n\' \' \')"' % (
                           NET_PINGS, peer, label))
    out.append('''S=/sys/class/net/$N/statistics
eq "ivshmem_net: no receive errors" "$(cat $S/rx_errors)" 0
eq "ivshmem_net: no transmit drops" "$(cat $S/tx_dropped)" 0
''')
    return '\n'.join(out) + '\n'


def net_guests(fl):
    """Boot the two guests of the network comparison on @fl; return
    (results, bench lines)."""
    wd = tempfile.mkdtemp(prefix='ivt-bench-net-')
    srv = ivt.Server(wd, size='8M', vectors=1)
    # The virtio-net NICs' wire: QEMU's socket netdev on the two ends of
    # a socketpair (no port, no tap, no root).
    ends = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    guests = []
    try:
        for role, sk in zip(('a', 'b'), ends):
            nic = ['-netdev', 'socket,id=vnet,fd=%d' % sk.fileno(),
                   '-device', 'virtio-net-pci,netdev=vnet,'
                   'mac=52:54:00:99:00:0%d' % (1 if role == 'a' else 2)]
            guests.append(ivt.Guest(fl, 'bench_net_' + role,
                                    net_script(role), srv.device(role) + nic,
                                    timeout=1800, workdir=wd,
                                    kmods=[m for m in NET_KMODS
                                           if have_kmod(fl, m)], smp=1,
                                    pass_fds=(sk.fileno(),)).start())
        results, lines = [], []
        for g in guests:
            results += [(ok, '%s: %s' % (g.name, d)) for ok, d in g.wait()]
            lines += g.bench
    finally:
        for g in guests:
            g.stop()
        for sk in ends:
            sk.close()
    results.append(srv.stop())
    return results, lines


def parse_net(lines):
    """The network comparison's figures: {'stream': {iface: {mtu: [MB/s
    per round]}}, 'rr'/'ping': {iface: [{p50_us, p99_us, max_us} per
    round]}, 'mtu': {iface: largest MTU}, 'bytes': [bytes per stream]}."""
    net = {'stream': {}, 'rr': {}, 'ping': {}, 'mtu': {}, 'bytes': []}
    for ln in lines:
        m = re.match(r'bench net stream (\S+) (\S+) r\d+: bytes=(\d+) '
                     r'seconds=[\d.]+ MBps=([\d.]+)', ln)
        if m:
            net['stream'].setdefault(m.group(1), {}).setdefault(
                m.group(2), []).append(float(m.group(4)))
            net['bytes'].append(int(m.group(3)))
            continue
        m = re.match(r'bench net rr (\S+) \S+ r\d+: n=\d+ p50=([\d.]+) us '
                     r'p99=([\d.]+) us max=([\d.]+) us', ln)
        if m:
            net['rr'].setdefault(m.group(1), []).append(
                {'p50_us': float(m.group(2)), 'p99_us': float(m.group(3)),
                 'max_us': float(m.group(4))})
            continue
        m = re.match(r'bench net ping (\S+) \S+ r\d+:([\d. ]*)$', ln)
        if m:
            v = sorted(float(x) * 1000 for x in m.group(2).split())
            if v:
                net['ping'].setdefault(m.group(1), []).append(
                    {'n': len(v), 'p50_us': v[len(v) // 2],
                     'p99_us': v[len(v) * 99 // 100], 'max_us': v[-1]})
            continue
        m = re.match(r'bench net mtu (\S+) (\d+)', ln)
        if m:
            net['mtu'][m.group(1)] = int(m.group(2))
    return net


def net_summary(net):
    """Medians over the rounds, and ivshmem/virtio ratios, each the
    median of the ratios of one round (the two interfaces' figures of a
    round are minutes apart at most); the goal of issue 28 (2x the
    throughput, half the latency) checked against them."""
    out = {'stream': {}, 'rr': {}, 'ping': {}}
    iv, vi = NET_IFACES
    for mtu in ('1500', 'max'):
        a = net['stream'].get(iv, {}).get(mtu)
        b = net['stream'].get(vi, {}).get(mtu)
        if not a or not b:
            continue
        n = min(len(a), len(b))
        out['stream'][mtu] = {iv: median(a), vi: median(b),
                              'ratio': median([a[i] / b[i]
                                               for i in range(n)])}
    for kind in ('rr', 'ping'):
        a, b = net[kind].get(iv), net[kind].get(vi)
        if not a or not b:
            continue
        n = min(len(a), len(b))
        for k in ('p50_us', 'p99_us'):
            out[kind][k] = {iv: median([x[k] for x in a]),
                            vi: median([x[k] for x in b]),
                            'ratio': median([a[i][k] / b[i][k]
                                             for i in range(n)])}
    goal = {}
    for mtu, o in out['stream'].items():
        goal['throughput MTU %s >= 2x' % mtu] = o['ratio'] >= 2
    for kind in ('rr', 'ping'):
        for k, o in out[kind].items():
            goal['%s %s <= 0.5x' % (kind, k[:3])] = o['ratio'] <= 0.5
    out['goal'] = goal
    return out


def net_table(res):
    """The network comparison's lines of the table."""
    net = res.get('net')
    if not net or not net['summary']['stream']:
        return ['TCP over ivshmem_net against virtio-net: no figures']
    s, mtu = net['summary'], net['mtu']
    out = ['TCP between two guests (%s, 1 vCPU each, QEMU accel %s): '
           'ivshmem_net against virtio-net (QEMU socket netdev), median of '
           '%d rounds; %d MiB per stream, %d request/response trips of 1 '
           'byte (TCP_NODELAY, one in flight), %d pings (ping -A)' % (
               res['kernel'], res['machine']['accel'], net['rounds'],
               net['stream_bytes'] >> 20, net['trips'], net['pings']),
           '%-38s %10s %10s %16s' % ('', 'ivshmem', 'virtio',
                                     'ivshmem/virtio')]
    for m, o in sorted(s['stream'].items()):
        name = 'stream MB/s, MTU 1500' if m == '1500' else \
            'stream MB/s, largest MTU (%s/%s)' % (
                mtu.get('ivshmem', '?'), mtu.get('virtio', '?'))
        out.append('%-38s %10.1f %10.1f %15.2fx' % (
            name, o['ivshmem'], o['virtio'], o['ratio']))
    for kind, what in (('rr', 'TCP request/response'),
                       ('ping', 'ping')):
        for k, o in sorted(s[kind].items()):
            out.append('%-38s %10.1f %10.1f %15.2fx' % (
                '%s %s us' % (what, k[:3]), o['ivshmem'], o['virtio'],
                o['ratio']))
    out.append('goal of issue 28 (at least 2x the throughput, at most half '
               'the latency of virtio-net), under %s: %s' % (
                   res['machine']['accel'].upper(), '; '.join(
                       '%s %s' % (k, 'met' if v else 'NOT met')
                       for k, v in sorted(s['goal'].items()))))
    return out


def have_kmod(fl, m):
    """True if @fl's kernel has module @m (e.g. 'drivers/net/virtio_net')
    as a file."""
    return any(os.path.exists(os.path.join(
        fl.modroot, 'lib/modules/%s/kernel/%s.ko%s' % (fl.release, m, x)))
        for x in ('', '.xz', '.zst'))


def kmods(fl):
    """uio and vfio-pci's modules of @fl's kernel (6.1 has vfio_virqfd
    apart, 6.12 in vfio.ko)."""
    return [m for m in KMODS[:4] + ['drivers/vfio/vfio_virqfd'] + KMODS[4:]
            if have_kmod(fl, m)]


def fill(script, **kw):
    """@script with the shell helpers and the counts filled in."""
    kw.update(trips=TRIPS, msgs=MSGS, rounds=ROUNDS)
    kw['doorbells'] = DOORBELLS
    return (script.replace('%(bind)s', BIND).replace(
        '%(doorbells)s', DOORBELLS).replace('%(irqtrace)s',
                                            IRQTRACE.replace('%', '%%'))) % kw


def machine():
    cpu = ''
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next((ln.split(':', 1)[1].strip() for ln in f
                        if ln.startswith('model name')), '')
    except OSError:
        pass
    return {'host': platform.node(), 'cpu': cpu,
            'cpus': os.cpu_count(),
            'accel': os.environ.get('QEMU_ACCEL', 'tcg'),
            'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}


def parse_hist(lines):
    """Round-trip histograms: {series: {log2 of the bucket's us: count}}."""
    hist = {}
    for ln in lines:
        m = re.match(r'bench hist (.*?): ((?:\d+:\d+ ?)+)$', ln)
        if not m:
            continue
        what = m.group(1)
        key = 'eventfd' if 'eventfd' in what else \
            'doorbell2' if 'two-guest' in what else 'doorbell'
        hist[key] = {int(k): int(c) for k, c in
                     (kv.split(':') for kv in m.group(2).split())}
    return hist


COPY_METHODS = ('mmap', 'read-write', 'vfio', 'resource2', 'resource2_wc')
KINDS = ('doorbell', 'vfio-pwrite', 'vfio-mmap', 'eventfd')
RING_KINDS = ('ring driver', 'ring vfio-pwrite', 'ring vfio-mmap')
KIND_NAMES = {'ring driver': 'send only: driver ioctl',
              'ring vfio-pwrite': 'send only: vfio-pci pwrite',
              'ring vfio-mmap': 'send only: vfio-pci BAR0 store','doorbell': 'driver (/dev/ivshmemN ioctl + eventfd)',
              'vfio-pwrite': 'vfio-pci (BAR0 pwrite + MSI-X eventfd)',
              'vfio-mmap': 'vfio-pci (BAR0 mmap + MSI-X eventfd)',
              'eventfd': 'eventfd, 2 threads (baseline)'}


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] +
                                              v[len(v) // 2]) / 2.0


def parse_lat(lines, kernel):
    """Round trips: {condition: {kind: [{p50_us, p99_us, max_us}, ...]}},
    one entry per round; @kernel prefixes the condition."""
    lat = {}
    fig = r': n=\d+ p50=([\d.]+) us p99=([\d.]+) us max=([\d.]+) us'
    for ln in lines:
        m = re.match(r'bench \[(\S+) r\d+\] (doorbell|eventfd|vfio-pwrite|'
                     r'vfio-mmap) round trip .*' + fig, ln)
        if not m:
            m = re.match(r'bench \[(\S+) r\d+\] (ring) cost (\S+)' + fig,
                         ln)
            if m:
                m = (m.group(1), 'ring ' + m.group(3), m.groups()[3:])
        else:
            m = (m.group(1), m.group(2), m.groups()[2:])
        if m:
            cond, kind, v = m
        else:
            m = re.match(r'bench two-guest (doorbell|vfio) round trip' + fig,
                         ln)
            if not m:
                continue
            cond, v = 'two-guest', m.groups()[1:]
            kind = 'vfio-pwrite' if m.group(1) == 'vfio' else 'doorbell'
        lat.setdefault('%s %s' % (kernel, cond), {}).setdefault(
            kind, []).append({'p50_us': float(v[0]), 'p99_us': float(v[1]),
                              'max_us': float(v[2])})
    return lat


def parse_irqtime(lines, kernel):
    """MSI-X handler durations (us) from IRQTRACE: {kernel: {kind:
    {n, mean_us, p50_us, p99_us, max_us}}}."""
    out = {}
    for ln in lines:
        m = re.match(r'bench irqtime \[\S+\] (\S+):((?: \d+)+)$', ln)
        if not m:
            continue
        v = sorted(int(x) for x in m.group(2).split())
        out.setdefault(kernel, {})[m.group(1)] = {
            'n': len(v), 'mean_us': sum(v) / float(len(v)),
            'p50_us': v[len(v) // 2], 'p99_us': v[len(v) * 99 // 100],
            'max_us': v[-1]}
    return out


def lat_summary(lat):
    """Per condition and kind the median over rounds of p50, p99, max;
    the ratios driver/vfio and driver/eventfd, each the median of the
    ratios of one round (the figures nearest in time)."""
    out = {}
    for cond, kinds in lat.items():
        o = out[cond] = {}
        for kind, rounds in kinds.items():
            o[kind] = {k: median([r[k] for r in rounds])
                       for k in ('p50_us', 'p99_us', 'max_us')}
            o[kind]['rounds'] = rounds
        for a, base in (('doorbell', 'vfio-pwrite'),
                        ('doorbell', 'vfio-mmap'), ('doorbell', 'eventfd'),
                        ('ring driver', 'ring vfio-pwrite'),
                        ('ring driver', 'ring vfio-mmap')):
            db, other = kinds.get(a), kinds.get(base)
            if not db or not other:
                continue
            n = min(len(db), len(other))
            o[a + '/' + base] = {
                k: median([db[i][k] / other[i][k] for i in range(n)])
                for k in ('p50_us', 'p99_us', 'max_us')}
    return out


def parse(lines):
    copy, chan = {}, {}
    for ln in lines:
        m = re.match(r'bench copy (\S+) (write|read) (\d+) ([\d.]+)', ln)
        if m:
            copy.setdefault(m.group(1), {}).setdefault(m.group(2), {})[
                int(m.group(3))] = float(m.group(4))
            continue
        m = re.match(r'bench chan (\S+) window (\d+): n=(\d+) p50=(\d+) us '
                     r'p99=(\d+) us rate=(\d+)/s', ln)
        if m:
            chan['%s window %s' % (m.group(1), m.group(2))] = {
                'n': int(m.group(3)), 'p50_us': float(m.group(4)),
                'p99_us': float(m.group(5)), 'rate': float(m.group(6))}
    return copy, chan


def measured_rows(lines):
    """The rows of the mmap fault benchmark and the host region one."""
    rows = []
    for ln in lines:
        m = re.match(r'bench faults per 2 MiB touched, fresh 64 MiB '
                     r'mapping: \S+ ([\d.]+), anonymous MADV_HUGEPAGE '
                     r'([\d.]+), ratio ([\d.]+)', ln)
        if m:
            rows.append(['page faults per 2 MiB touched', m.group(1), '',
                         'anonymous THP %s in the same run: ratio %s' %
                         (m.group(2), m.group(3))])
        m = re.match(r'bench ratio create/memset-fresh ([\d.]+), '
                     r'create/memset-warm ([\d.]+)', ln)
        if m:
            rows.append(['host region 512 MiB: create / memset', m.group(1),
                         'x', 'ADD + ATTACH against mmap + first-touch '
                         'memset (%s against a warm memset)' % m.group(2)])
        m = re.match(r'bench ratio open\+set_memseg/memset-fresh ([\d.]+) '
                     r'\((.*)\)', ln)
        if m:
            rows.append(['host region 512 MiB: open + SET_MEMSEG / memset',
                         m.group(1), 'x', 'ATTACH, mmap and the HSM '
                         'double\'s SET_MEMSEG against mmap + first-touch '
                         'memset: ' + m.group(2)])
    return rows


def extra_rows():
    rows = []
    d = os.path.join(OUT, 'extra')
    if os.path.isdir(d):
        for name in sorted(os.listdir(d)):
            if name.endswith('.json'):
                with open(os.path.join(d, name)) as f:
                    rows += json.load(f).get('rows', [])
    return rows


def size_name(s):
    return '%d MiB' % (s >> 20) if s >= 1 << 20 else '%d KiB' % (s >> 10)


# What each alternative asks of its user (tests/bench.py sets each up as
# written here; README's make bench section repeats it).
NEEDS = [
    ('ivshmem driver', 'a /dev/ivshmemN with the permissions udev gives '
     'it (no root, no taint but the out-of-tree O until merged); the '
     'device stays shared: many processes, read/write/mmap/doorbell, '
     'kernel users (dma-buf)'),
    ('vfio-pci', 'root to bind (driver_override) and /dev/vfio/N access; '
     'an IOMMU in the guest (here QEMU q35 + intel-iommu, '
     'intel_iommu=on); without one CONFIG_VFIO_NOIOMMU, which Debian\'s '
     '6.1 and 6.12 kernels do not build, and enable_unsafe_noiommu_mode=1, '
     'which taints (TAINT_USER) and needs CAP_SYS_RAWIO; one process owns '
     'the device (one container; the group fd is exclusive)'),
    ('uio_pci_generic', 'root to bind (new_id or driver_override) and to '
     'map sysfs resource2 (root-only file); no doorbell interrupt: it '
     'drives INTx only, ivshmem signals with MSI-X (the kernel says "No '
     'IRQ assigned to device"), so a peer can only be polled; no taint; '
     'unbind does not revoke a resource2 mapping'),
]


def table(res):
    out = []
    m = res['machine']
    out.append('make bench: %s, %s (%d CPUs), QEMU accel %s, guest kernel '
               '%s, %s' % (m['host'], m['cpu'], m['cpus'], m['accel'],
                           res['kernel'], m['date']))
    if m['accel'] == 'tcg':
        out.append('TCG: memory types do not change speed; the copy ratios '
                   'measure software overhead only (QEMU_ACCEL=kvm on a KVM '
                   'host for the real thing)')
    arm = res.get('arm64')
    if arm:
        out.append('arm64 (TCG): %s, guest kernel %s; its rows are ratios '
                   'to its own guest RAM and eventfd baselines' % (
                       arm['guest'], arm['kernel']))
    copy = res['copy']
    methods = [k for k in COPY_METHODS if k in copy]
    acopy = arm['copy'] if arm else {}
    amethods = [k for k in COPY_METHODS if k in acopy]
    out.append('')
    out.append('copy bandwidth: guest RAM MB/s, others as ratio to it '
               '(write / read)' + ('; after "|" the arm64 (TCG) guest, '
                                   'as ratios to its own RAM' if arm else
                                   ''))
    head = '%-8s %17s' % ('size', 'ram MB/s') + ''.join(
        ' %15s' % k for k in methods)
    if acopy:
        head += ' | %17s' % 'arm64 ram MB/s' + ''.join(
            ' %15s' % k for k in amethods)
    out.append(head)

    def cols(copy, methods, s):
        ram = copy['ram']
        w, r = ram['write'].get(s, 0), ram['read'].get(s, 0)
        row = ' %8.0f/%-8.0f' % (w, r)
        for k in methods:
            kw = copy[k]['write'].get(s, 0) / w if w else 0
            kr = copy[k]['read'].get(s, 0) / r if r else 0
            row += ' %7.2f/%-7.2f' % (kw, kr)
        return row
    ram = copy.get('ram', {})
    for s in sorted(ram.get('write', {})):
        row = '%-8s' % size_name(s) + cols(copy, methods, s)
        if acopy and 'ram' in acopy:
            row += ' |' + cols(acopy, amethods, s)
        out.append(row)
    for what, c in (('', copy), ('arm64 (TCG): ', acopy)):
        if 'mmap' in c and 'read-write' in c:
            out.append(what + 'read()/write() as a ratio to the mmap copy '
                       '(write / read): ' + ', '.join('%s %.2f/%.2f' % (
                           size_name(sz),
                           c['read-write']['write'].get(sz, 0) /
                           c['mmap']['write'][sz],
                           c['read-write']['read'].get(sz, 0) /
                           c['mmap']['read'][sz])
                           for sz in sorted(c['mmap']['write'])
                           if c['mmap']['write'][sz] and
                           c['mmap']['read'][sz]))
    out.append('')
    out.append('doorbell round trip, median of %d rounds in which the '
               'driver and vfio-pci take turns on the same two devices '
               '(us):' % res['rounds'])
    out.append('%-44s %9s %9s %9s' % ('', 'p50', 'p99', 'max'))
    for cond, o in sorted(res['latency'].items()):
        out.append('[%s]' % cond + (' arm64 (TCG), %d rounds' % arm['rounds']
                                    if arm and cond.startswith(
                                        arm['kernel'] + ' ') else ''))
        for k in KINDS + RING_KINDS:
            if k in o:
                out.append('  %-42s %9.1f %9.1f %9.1f' % (
                    KIND_NAMES[k], o[k]['p50_us'], o[k]['p99_us'],
                    o[k]['max_us']))
        for k in ('doorbell/vfio-pwrite', 'doorbell/vfio-mmap',
                  'doorbell/eventfd', 'ring driver/ring vfio-pwrite',
                  'ring driver/ring vfio-mmap'):
            r = o.get(k)
            if r:
                out.append('  %-42s %8.2fx %8.2fx %8.2fx' % (
                    'ratio ' + k.replace('doorbell', 'driver').replace(
                        'ring driver', 'send driver').replace(
                        'ring vfio', 'vfio'), r['p50_us'], r['p99_us'],
                    r['max_us']))
    for kern, kinds in sorted(res.get('irqtime', {}).items()):
        out.append('MSI-X handler entry to exit (irq tracepoints, 1 us '
                   'ticks), %s: ' % kern + '; '.join(
                       '%s n=%d mean %.2f p50 %d p99 %d max %d us' % (
                           k, v['n'], v['mean_us'], v['p50_us'],
                           v['p99_us'], v['max_us'])
                       for k, v in sorted(kinds.items())))
    out.append('')
    out.append('%-40s %10s %10s %10s' % ('ivshmem-chan (%s, 2 vCPUs)' %
                                         res['kernel'], 'p50 us', 'p99 us',
                                         'msgs/s'))
    for k, v in sorted(res['chan'].items()):
        out.append('%-40s %10.0f %10.0f %10.0f' % (
            'ivshmem-chan request, ' + k, v['p50_us'], v['p99_us'],
            v['rate']))
    db = res['latency'].get('%s 2-vcpus' % res['kernel'],
                            {}).get('doorbell')
    if db:
        out.append('ratios to the doorbell round trip (p50 / p99): ' +
                   ', '.join('%s %.2f / %.2f' % (
                       k, v['p50_us'] / db['p50_us'],
                       v['p99_us'] / db['p99_us'])
                       for k, v in sorted(res['chan'].items())
                       if k.endswith('window 1')))
    if arm:
        out.append('')
        out.append('not run on the arm64 (TCG) guest:')
        for r in arm['not_run']:
            out.append('  %-16s %s' % tuple(r))
    out.append('')
    out += net_table(res)
    out.append('')
    out.append('what each way needs from the user:')
    for r in NEEDS:
        out.append('  %-16s %s' % r)
    out.append('')
    out.append('mappings and the host module (and build/bench/extra/*.json):')
    rows = res['extra']
    for r in rows:
        name, val, unit = r[0], r[1], r[2] if len(r) > 2 else ''
        note = r[3] if len(r) > 3 else ''
        out.append('  %-38s %12s %s %s' % (
            name, '-' if val is None else val, unit, note))
    return '\n'.join(out)


def plots(res):
    gp = shutil.which('gnuplot')
    if not gp:
        return 'gnuplot not found: no plots'
    copy = res['copy']
    ram = copy.get('ram', {})
    methods = [k for k in COPY_METHODS if k in copy]
    # The arm64 guest's columns, as ratios to its own RAM.
    acopy = res['arm64']['copy'] if res.get('arm64') else {}
    cols = [(k, copy) for k in methods]
    if 'ram' in acopy:
        cols += [('arm64 ' + k, acopy) for k in COPY_METHODS if k in acopy]
    dat = os.path.join(OUT, 'copy.dat')
    with open(dat, 'w') as f:
        f.write('# size ' + ' '.join('%s_w %s_r' % (k, k) for k, _ in cols)
                + '\n')
        for s in sorted(ram.get('write', {})):
            f.write('%d' % s)
            for k, c in cols:
                k = k.replace('arm64 ', '')
                w, r = c['ram']['write'].get(s), c['ram']['read'].get(s)
                f.write(' %.4f %.4f' % (
                    c[k]['write'].get(s, 0) / w if w else 0,
                    c[k]['read'].get(s, 0) / r if r else 0))
            f.write('\n')
    note = ('TCG: memory types do not change speed; ratios = software '
            'overhead' if res['machine']['accel'] == 'tcg' else
            'accel ' + res['machine']['accel'])
    cols = ', '.join("'%s' u 1:%d w lp t '%s write', '' u 1:%d w lp dt 2 "
                     "t '%s read'" % (dat, 2 + 2 * i, k, 3 + 2 * i, k)
                     for i, (k, _) in enumerate(cols))
    lat = os.path.join(OUT, 'latency.dat')
    with open(lat, 'w') as f:
        for cond, o in sorted(res['latency'].items()):
            for k in KINDS:
                if k in o:
                    f.write('"%s %s" %.1f %.1f\n' % (
                        cond, k, o[k]['p50_us'], o[k]['p99_us']))
        for k, v in sorted(res['chan'].items()):
            if k.endswith('window 1'):
                f.write('"chan %s" %.1f %.1f\n' % (k, v['p50_us'],
                                                   v['p99_us']))
    script = '''
set terminal svg size 1100,600 dynamic noenhanced
set output '%(out)s/copy.svg'
set title "copy bandwidth as a ratio to guest RAM memcpy (arm64: its own guest RAM)\\n%(note)s"
set logscale x 2
set format x '%%.0b %%BB'
set xlabel 'bytes per copy'
set ylabel 'ratio to guest RAM'
set key outside right
set grid
plot %(cols)s
set output '%(out)s/latency.svg'
unset logscale x
set title "round trip latency (us, log scale): driver, vfio-pci, eventfd, per kernel and load\\n%(note)s"
set format x '%%g'
set logscale y
set yrange [1:*]
set style data histograms
set style fill solid 0.6
set xtics rotate by -30
set xlabel ''
set ylabel 'us'
plot '%(lat)s' u 2:xtic(1) t 'p50', '' u 3 t 'p99'
unset logscale y
set yrange [*:*]
%(hist)s''' % {'out': OUT, 'note': note, 'cols': cols, 'lat': lat,
       'hist': hist_plot(res, note)}
    r = subprocess.run([gp], input=script, text=True,
                       stderr=subprocess.PIPE)
    if r.returncode:
        return 'gnuplot failed: ' + r.stderr.strip()
    return 'plots: %s/copy.svg, %s/latency.svg%s' % (
        OUT, OUT, ', %s/roundtrip-hist.svg' % OUT if res['hist'] else '')


def hist_plot(res, note):
    """gnuplot lines for the round-trip histograms (fraction per bucket)."""
    hist = res['hist']
    if not hist:
        return ''
    names = {'eventfd': 'eventfd, 2 threads (baseline)',
             'doorbell': 'doorbell, 2 peers in 1 guest',
             'doorbell2': 'doorbell, 2 guests'}
    keys = [k for k in ('eventfd', 'doorbell', 'doorbell2') if k in hist]
    lo = min(min(hist[k]) for k in keys)
    hi = max(max(hist[k]) for k in keys)
    dat = os.path.join(OUT, 'hist.dat')
    with open(dat, 'w') as f:
        f.write('# bucket_us ' + ' '.join(keys) + '\n')
        for b in range(lo, hi + 1):
            f.write('%d' % (1 << b) + ''.join(
                ' %.4f' % (hist[k].get(b, 0) / float(sum(hist[k].values())))
                for k in keys) + '\n')
    cols = ', '.join("'%s' u 1:%d w steps lw 2 t '%s'" % (dat, 2 + i,
                                                          names[k])
                     for i, k in enumerate(keys))
    return '''set output '%s/roundtrip-hist.svg'
set style data lines
set logscale x 2
set format x '%%g'
set xtics auto norotate
set title "round trip histogram: fraction per power-of-2 bucket (us)\\n%s"
set xlabel 'round trip (us, bucket lower bound)'
set ylabel 'fraction of round trips'
plot %s
''' % (OUT, note, cols)


def bench_guests(fl, rt=None):
    """Boot the network pair (net_guests()), @fl's bench guest and its
    two-guest pair, and @rt's guest (a PREEMPT_RT flavour) if given;
    return (results, bench lines by kernel release and 'net',
    console)."""
    results, lines = [], {}
    # The network comparison first: its failure shows within minutes.
    results, lines['net'] = net_guests(fl)
    workdir = tempfile.mkdtemp(prefix='ivt-bench-')
    srv = ivt.Server(workdir, size='4M', vectors=1)
    _, c = ivt.plain_device(workdir, 'copy', 64 << 20, addr=6)
    _, u = ivt.plain_device(workdir, 'uio', 64 << 20, addr=7)
    _, v = ivt.plain_device(workdir, 'vfio', 64 << 20, addr=8)
    devs = srv.device('a', addr=4) + srv.device('b', addr=5) + c + u + v
    g = ivt.Guest(fl, 'bench', fill(SCRIPT), devs, mem='2G', timeout=2400,
                  workdir=workdir, kmods=kmods(fl), viommu=True, smp=1)
    g.start()
    results += g.wait()
    results.append(srv.stop())
    lines[fl.release] = list(g.bench)
    # Two guests on one server: the doorbell round trip across VMs, the
    # driver's and then vfio-pci's on the same devices.
    wd2 = tempfile.mkdtemp(prefix='ivt-bench2-')
    srv2 = ivt.Server(wd2, size='4M', vectors=2)
    pair = []
    for role in ('pong', 'ping'):
        pair.append(ivt.Guest(fl, 'bench_' + role,
                              fill(PINGPONG, role=role), srv2.device(role),
                              timeout=900, workdir=wd2, kmods=kmods(fl),
                              viommu=True, smp=1).start())
    for p in pair:
        results += p.wait()
        lines[fl.release] += p.bench
    results.append(srv2.stop())
    wd4 = tempfile.mkdtemp(prefix='ivt-bench-chan-')
    srv4 = ivt.Server(wd4, size='4M', vectors=1)
    g4 = ivt.Guest(fl, 'bench_chan', fill(CHAN_SCRIPT),
                   srv4.device('a', addr=4) + srv4.device('b', addr=5),
                   timeout=1800, workdir=wd4)
    g4.start()
    results += g4.wait()
    results.append(srv4.stop())
    lines[fl.release] += g4.bench
    if rt:
        wd3 = tempfile.mkdtemp(prefix='ivt-bench-rt-')
        srv3 = ivt.Server(wd3, size='4M', vectors=1)
        g3 = ivt.Guest(rt, 'bench_rt', fill(RT_SCRIPT),
                       srv3.device('a', addr=4) + srv3.device('b', addr=5),
                       timeout=1800, workdir=wd3, kmods=kmods(rt),
                       viommu=True, smp=1)
        g3.start()
        results += g3.wait()
        results.append(srv3.stop())
        lines[rt.release] = list(g3.bench)
    return results, lines, g.console


def arm64_guest(fl):
    """Boot @fl's (6.12-arm64) bench guest: two doorbell devices on a
    server, one 64 MiB plain device, one vCPU; return (results, bench
    lines)."""
    workdir = tempfile.mkdtemp(prefix='ivt-bench-arm64-')
    srv = ivt.Server(workdir, size='4M', vectors=1)
    _, c = ivt.plain_device(workdir, 'copy', 64 << 20, addr=6)
    g = ivt.Guest(fl, 'bench_arm64', fill(ARM64_SCRIPT),
                  srv.device('a', addr=4) + srv.device('b', addr=5) + c,
                  timeout=1800, workdir=workdir, smp=1)
    g.start()
    results = g.wait()
    results.append(srv.stop())
    return results, list(g.bench)


def arm64_flavor(progs_arches):
    """The 6.12-arm64 flavour for the arm64 pass, or None (said why):
    BENCH_ARM64=0, an accelerator other than TCG (an arm64 guest on this
    x86 host is TCG only), or no arm64 image or tree (tests/deps.sh)."""
    if os.environ.get('BENCH_ARM64', '1') == '0':
        return None
    accel = os.environ.get('QEMU_ACCEL', 'tcg')
    if accel != 'tcg' and platform.machine() != 'aarch64':
        print('note: no arm64 rows: QEMU_ACCEL=%s cannot run an arm64 guest '
              'on this %s host' % (accel, platform.machine()))
        return None
    try:
        arm = ivt.make_flavor('6.12-arm64', {})
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        print('note: no arm64 rows: %s' % e)
        return None
    progs_arches.append('arm64')
    return arm


def main():
    os.makedirs(OUT, exist_ok=True)
    arches = ['x86_64']
    arm = arm64_flavor(arches)
    progs = ivt.build_progs(arches)
    fl = ivt.stock_flavor()
    fl.build(progs)
    if arm:
        arm.build(progs)
    rt = None
    if os.environ.get('BENCH_RT', '1') != '0':
        try:
            rt = ivt.make_flavor('6.1-rt', {})
            rt.build(progs)
        except (RuntimeError, subprocess.CalledProcessError) as e:
            print('note: no PREEMPT_RT rows: %s' % e)
            rt = None
    results, bylines, console = bench_guests(fl, rt)
    if arm:
        r, bylines[arm.release] = arm64_guest(arm)
        results += r
    netlines = bylines.pop('net')
    lines = [ln for v in bylines.values() for ln in v]
    failed = [d for ok, d in results if ok is False]
    for d in failed:
        print('not ok - bench: ' + d)
    copy, chan = parse(bylines[fl.release])
    lat, irqtime = {}, {}
    for rel, v in bylines.items():
        lat.update(parse_lat(v, rel))
        irqtime.update(parse_irqtime(v, rel))
    hist = parse_hist(bylines[fl.release])
    res = {'machine': machine(),
           'kernel': fl.release,
           'kernels': sorted(bylines),
           'rounds': ROUNDS, 'trips': TRIPS,
           'guest': 'QEMU q35 + intel-iommu (intremap=on), intel_iommu=on, '
                    '1 vCPU',
           'copy': {k: {d: {str(s): v for s, v in dv.items()}
                        for d, dv in kv.items()} for k, kv in copy.items()},
           'latency': lat_summary(lat),
           'irqtime': irqtime,
           'hist': {k: {str(b): c for b, c in v.items()}
                    for k, v in hist.items()},
           'chan': chan,
           'extra': measured_rows(lines) + extra_rows()}
    if arm:
        acopy = parse(bylines[arm.release])[0]
        res['arm64'] = {
            'kernel': arm.release, 'rounds': ROUNDS, 'trips': TRIPS,
            'guest': 'QEMU virt (GICv3 ITS), -cpu max, TCG, 1 vCPU',
            'copy': {k: {d: {str(s): v for s, v in dv.items()}
                         for d, dv in kv.items()} for k, kv in acopy.items()},
            'not_run': [list(r) for r in ARM64_NOT_RUN]}
    net = parse_net(netlines)
    res['net'] = {'rounds': NET_ROUNDS, 'stream_bytes': NET_BYTES,
                  'trips': NET_TRIPS, 'pings': NET_PINGS,
                  'backend': 'virtio-net-pci on -netdev socket,fd= (a '
                             'socketpair between the two QEMUs)',
                  'mtu': net['mtu'], 'rounds_raw': net,
                  'summary': net_summary(net)}
    want = len([x for x in net_steps() if x[0] == 'stream'])
    for bad in ['a stream delivered %d of %d bytes' % (n, NET_BYTES)
                for n in net['bytes'] if n != NET_BYTES] + \
            (['%d of %d streams measured' % (len(net['bytes']), want)]
             if len(net['bytes']) != want else []):
        failed.append(bad)
        print('not ok - bench: ' + bad)
    with open(os.path.join(OUT, 'bench.json'), 'w') as f:
        json.dump(res, f, indent=1, sort_keys=True)
        f.write('\n')
    res['copy'] = copy
    res['hist'] = hist
    if arm:
        res['arm64']['copy'] = acopy
    text = table(res)
    with open(os.path.join(OUT, 'table.txt'), 'w') as f:
        f.write(text + '\n')
    print(text)
    print(plots(res))
    print('json: %s/bench.json; console: %s' % (OUT, console))
    return 1 if failed or not copy or (arm and not acopy) else 0


if __name__ == '__main__':
    sys.exit(main())
