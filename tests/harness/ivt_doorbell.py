# SPDX-License-Identifier: GPL-2.0
"""Doorbell tests of the ivt harness: MSI-X vectors, eventfds, waits and
rings between devices and guests on the project's ivshmem server.

Imported by ivt.py after its own tests; registers with ivt's @test():

* doorbell: two doorbell devices (two peers) and a plain one in one guest;
* two_guests: round trips between two guests on one server;
* wait_threads: two threads WAIT on one file, rings from another guest;
* doorbell_partial: a pci=nomsi guest rings one whose sysfs max_vectors
  grants 2 of 8 vectors (bad input changes nothing);
* peer_churn: peers leave and join while two others keep working;
* doorbell_bench: doorbell round trip against an eventfd baseline.
"""

import os
import re
import sys

# ivt.py runs as __main__; register with that module, not a second copy.
_main = sys.modules.get('__main__')
if 'ivt' not in sys.modules and \
        os.path.basename(getattr(_main, '__file__', '')) == 'ivt.py':
    sys.modules['ivt'] = _main
import ivt  # noqa: E402


@ivt.test(flavors=ivt.ANY_ARCH, share=True)
def doorbell(ctx):
    """Two doorbell devices (two peers) and a plain one in one guest."""
    srv = ivt.Server(ctx.workdir, size='4M')
    _, plain = ivt.plain_device(ctx.workdir, 'plain', 2 << 20, addr=6)
    devs = srv.device('a', addr=4) + srv.device('b', addr=5) + plain
    script = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
A=$(dev_by_size 4194304 | head -1)
B=$(for d in /dev/ivshmem*; do [ $d != $A ] && [ "$(cat /sys/class/ivshmem/${d##*/}/size)" = 4194304 ] && echo $d; done)
P=$(dev_by_size 2097152)
SA=/sys/class/ivshmem/${A##*/}
SP=/sys/class/ivshmem/${P##*/}
eq "sysfs vectors of a doorbell device" "$(cat $SA/vectors)" 8
eq "sysfs can_ring, can_receive, rx_mask of a doorbell device" "$(cat $SA/can_ring $SA/can_receive $SA/rx_mask | tr '\\n' ' ')" "1 1 0xff "
eq "sysfs irq_counts before any ring" "$(cat $SA/irq_counts)" "0 0 0 0 0 0 0 0"
run ivshmem_doorbell vectors $A $B
eq "sysfs irq_counts of B after one ring per vector" "$(cat /sys/class/ivshmem/${B##*/}/irq_counts)" "1 1 1 1 1 1 1 1"
eq "plain device: no vectors" "$(cat $SP/vectors)" 0
eq "plain device: sysfs can_ring, can_receive, rx_mask" "$(cat $SP/can_ring $SP/can_receive $SP/rx_mask | tr '\\n' ' ')" "0 0 0x0 "
run ivshmem_doorbell api $A $B $P
run ivshmem_doorbell signals $A $B
run ivshmem_doorbell unbind-wait $B $(pci_of $B)
'''
    g = ctx.boot('doorbell', script, devs)
    results = g.wait()
    results.append(srv.stop())
    return g, results


def per_flavor(ctx, env, full, other):
    """A test's repeat count: @full on Debian's 6.1, @other on the rest of
    the matrix (the same checks, fewer rounds, to keep make check's time:
    under TCG a debug kernel's round trip costs several times more);
    $@env overrides both."""
    if os.environ.get(env):
        return int(os.environ[env])
    return full if ctx.flavor.name == '6.1' else other


@ivt.test(flavors=ivt.ANY_ARCH, share=True, guests=2)
def two_guests(ctx):
    """10,000 round trips between two guests on one server (2,000 on the
    other flavours)."""
    trips = per_flavor(ctx, 'IVT_ROUND_TRIPS', 10000, 2000)
    srv = ivt.Server(ctx.workdir, size='4M', vectors=2)
    guests = []
    for role in ('pong', 'ping'):
        script = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
run ivshmem_doorbell pingpong %s /dev/ivshmem0 %d
''' % (role, trips)
        guests.append(ctx.boot('two_guests_' + role, script,
                               srv.device(role), timeout=900))
    results = []
    for g in guests:
        results += [(ok, '%s: %s' % (g.name, d)) for ok, d in g.wait()]
    results.append(srv.stop())
    return guests[-1], results


@ivt.test(flavors=ivt.ANY_ARCH, share=True, guests=2)
def wait_threads(ctx):
    """Two threads WAIT(FOREVER) on one file; each ring reported once
    (2,000 rings; 1,000 on the other flavours)."""
    n = per_flavor(ctx, 'IVT_WAIT_THREADS_RINGS', 2000, 1000)
    srv = ivt.Server(ctx.workdir, size='4M', vectors=1)
    guests = []
    for role in ('listen', 'ring'):
        guests.append(ctx.boot('wait_threads_' + role, '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
run ivshmem_doorbell wait-threads %s /dev/ivshmem0 %d
''' % (role, n), srv.device(role), timeout=900))
    results = []
    for g in guests:
        results += [(ok, '%s: %s' % (g.name, d)) for ok, d in g.wait()]
    results.append(srv.stop())
    return guests[0], results


# doorbell_partial's two guests, on the same device afterwards:
# ivshmem_net (10.95.0.0/24) between the side with vectors 0 and 1
# (interrupts) and the pci=nomsi side (a doorbell, no vector: it polls).
# NOMSI_NET_UP ME: load the driver, switch, address 10.95.0.ME.
NOMSI_NET_UP = '''
t "insmod ivshmem_net.ko" insmod /lib/ivshmem/ivshmem_net.ko
net_up /dev/ivshmem0 10.95.0.@ME@/24
S=/sys/class/net/$N/statistics
'''
NOMSI_NET_DOWN = '''
eq "no receive errors" "$(cat $S/rx_errors)" 0
eq "no transmit timeouts" "$(cat $S/tx_errors)" 0
eq "one session: the carrier came up once" "$(cat /sys/class/net/$N/carrier_up_count)" 1
# The other side finishes before the link goes.
sleep 10
t "switch back to cdev" sh -c "echo cdev > $F"
t "rmmod ivshmem_net" rmmod ivshmem_net
'''
# vec0: the interrupts on vector 0 (the protocol's), all CPUs.
NOMSI_NET_RX = NOMSI_NET_UP.replace('@ME@', '1') + '''
vec0() {
	awk '/-vec0$/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts
}
t "ping the pci=nomsi side (within 300 s)" ping_until 300 10.95.0.2
t "the log says the link is up without polling" log_has partial-rx "link up$"
I=$(vec0)
run sh -c "ivshmem_netcat gen 3 8388608 | ivshmem_netcat send 10.95.0.2 5002"
I=$(($(vec0) - I))
echo "vector 0 interrupts during the stream: $I"
t "the polling side rang this one during the stream ($I interrupts on vector 0)" test "$I" -gt 0
''' + NOMSI_NET_DOWN
NOMSI_NET_POLL = NOMSI_NET_UP.replace('@ME@', '2') + '''
t "ping the side with vectors (within 300 s)" ping_until 300 10.95.0.1
t "the log says this side polls (no vector 0)" log_has partial-nomsi "polling \\(no vector 0\\)"
eq "the 8 MiB stream arrives with the SHA-256 it was sent with" "$(ivshmem_netcat recv 5002 | sha)" "$(ivshmem_netcat gen 3 8388608 | sha)"
''' + NOMSI_NET_DOWN


@ivt.test(flavors=ivt.ANY_ARCH, share=True, guests=2)
def doorbell_partial(ctx):
    """pci=nomsi still rings; a device limited to 2 of 8 vectors receives.
    Then both switch to ivshmem_net: the pci=nomsi side has a doorbell
    but no vector 0, so it polls and rings; during an 8 MiB TCP stream
    from the other side, that side counts vector-0 interrupts (the
    polling side's doorbells)."""
    srv = ivt.Server(ctx.workdir, size='4M', vectors=8)
    rx = ctx.boot('partial_rx', '''
mark partial-rx
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
S=/sys/class/ivshmem/ivshmem0
eq "max_vectors is root's to write (0644)" "$(stat -c %a $S/max_vectors)" 644
run ivshmem_doorbell max-vectors /dev/ivshmem0 2
eq "2 of 8 vectors: sysfs vectors, can_ring, can_receive, rx_mask" "$(cat $S/vectors $S/can_ring $S/can_receive $S/rx_mask | tr '\\n' ' ')" "2 1 1 0x3 "
t "the log says 2 of 8 vectors are used" log_has partial-rx "using 2 of the device.s 8 MSI-X vectors"
run ivshmem_doorbell partial-rx /dev/ivshmem0
''' + NOMSI_NET_RX, srv.device('rx'))
    nomsi = ctx.boot('partial_nomsi', '''
mark partial-nomsi
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
S=/sys/class/ivshmem/ivshmem0
eq "pci=nomsi: sysfs vectors, can_ring, can_receive, rx_mask" "$(cat $S/vectors $S/can_ring $S/can_receive $S/rx_mask | tr '\\n' ' ')" "0 1 0 0x0 "
t "the log says it rings without vectors" log_has partial-nomsi "can ring peers, cannot receive"
run ivshmem_doorbell max-vectors-nospc /dev/ivshmem0
run ivshmem_doorbell nomsi /dev/ivshmem0
''' + NOMSI_NET_POLL, srv.device('nomsi'),
                     append='pci=nomsi')
    results = []
    for g in (rx, nomsi):
        results += [(ok, '%s: %s' % (g.name, d)) for ok, d in g.wait()]
    results.append(srv.stop())
    return rx, results


def joined(srv):
    """The ids of the peers @srv's log says joined, in order."""
    return re.findall(r'peer (\d+) connected', srv.text())


# Both guests boot at the start (shared: the churn guest in the first
# shared guest, the visitor in the second); the visitor's device is
# hot-added (QMP chardev-add, device_add) once a third peer has joined
# and left, so the visitor joins the server last, in a guest that runs.
@ivt.test(flavors=ivt.PCIEHP_ARCH, share=True, guests=2)
def peer_churn(ctx):
    """A peer leaves and a new one joins (a device hot-added to another
    running guest) while two others keep working."""
    srv = ivt.Server(ctx.workdir, size='4M', vectors=2)
    # The arm64 virt machine's root bus has no hotplug: there the visitor
    # gets a PCIe root port (native hotplug, pciehp) to receive it.
    port, bus = [], {}
    if ctx.flavor.arm64:
        port = ['-device', 'pcie-root-port,id=visit-port,chassis=1']
        bus = {'bus': 'visit-port'}
    g1 = ctx.boot('churn', '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
run ivshmem_doorbell churn /dev/ivshmem0 /dev/ivshmem1
''', srv.device('a', addr=4) + srv.device('b', addr=5), timeout=600, smp=1)
    g2 = ctx.boot('churn_visitor', '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
echo IVT-VISITOR-READY
i=0
while [ ! -e /dev/ivshmem0 ] && [ $i -lt 4500 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /dev/ivshmem0 ] || echo IVT-VISITOR-GAVE-UP
t "the hot-added doorbell device is probed: /dev/ivshmem0" test -e /dev/ivshmem0
run ivshmem_doorbell visit /dev/ivshmem0
t "rmmod ivshmem" rmmod ivshmem
''', port, timeout=600)
    results, bare_id = [], None
    started = ivt.wait_console(g1, r'churn: A is peer')
    results.append((started, 'churn guest started its ping-pong'))
    ready = started and ivt.wait_console(g2, r'IVT-VISITOR-READY')
    results.append((ready, 'visitor guest ready for its device'))
    if ready:
        # A peer that joins and leaves: as soon as the server saw it
        # join (QEMU's start can take seconds on a loaded host), and the
        # next one only once it saw it leave.
        before = len(joined(srv))
        bare = srv.bare_peer()
        ivt.wait_for(lambda: len(joined(srv)) > before, 120)
        bare_id = (joined(srv)[before:] or [None])[0]
        bare.terminate()
        bare.wait()
        if bare_id is not None:
            srv.wait_log('peer %s left' % bare_id, 30)
        # Only into a visitor that still waits (it gives up after 450 s):
        # a device added later would be another segment's.
        waits = g2.running() and 'IVT-VISITOR-GAVE-UP' not in g2.text()
        results.append((waits, 'the visitor still waits for its device'))
        for cmd, args in (
                ('chardev-add', {'id': 'v', 'backend': {
                    'type': 'socket', 'data': {
                        'addr': {'type': 'unix',
                                 'data': {'path': srv.sock}},
                        'server': False}}}),
                ('device_add', dict(driver='ivshmem-doorbell', id='dev-v',
                                    chardev='v', vectors=srv.vectors,
                                    **bus))):
            if not waits:
                break
            try:
                reply = g2.qmp(cmd, **args)
            except (OSError, ValueError) as e:
                reply = '%s: %s' % (type(e).__name__, e)
            waits = isinstance(reply, dict) and 'return' in reply
            results.append((waits, 'QMP %s of the visitor\'s device: %s'
                            % (cmd, reply)))
    results += [(ok, 'visitor: ' + d) for ok, d in g2.wait()]
    results += g1.wait()
    ids = joined(srv)
    results.append((bare_id is not None and
                    'peer %s left' % bare_id in srv.text() and
                    ids.index(bare_id) < len(ids) - 1,
                    'server saw the bare peer (%s) join and leave and the '
                    'visitor join after it (joined: %s)' % (
                        bare_id, ' '.join(ids))))
    results.append(srv.stop())
    return g1, results


# One boot, shared with other tests; the opt-in threadirqs guest boots
# after the first has ended (two at once would disturb the figures).
@ivt.test(flavors=('stock', 'rt'),
          share=lambda: os.environ.get('IVT_BENCH_THREADIRQS') != '1')
def doorbell_bench(ctx):
    """Benchmark: doorbell round trip vs an eventfd round trip, idle, with
    a CPU hog on each vCPU, and with the hogs but the benchmark threads at
    SCHED_FIFO 50 (a real-time program's setting). On 6.1 a second guest
    boots with "threadirqs" (every handler in a thread, as PREEMPT_RT
    does), which is what decided whether vectors should be threaded on a
    stock kernel (IVT_BENCH_THREADIRQS=1). Figures only: never a pass/fail timing."""
    # 1000 round trips per case: p99 is the 10th slowest of them. The
    # "threadirqs" guest that decided the threading question (see
    # Documentation/guest.rst) runs with IVT_BENCH_THREADIRQS=1.
    n = int(os.environ.get('IVT_BENCH_TRIPS', '1000'))
    script = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
A=/dev/ivshmem0
B=/dev/ivshmem1
run ivshmem_doorbell bench $A $B %(n)d "%(tag)sidle"
hog() { while :; do :; done; }
hog &
H1=$!
hog &
H2=$!
run ivshmem_doorbell bench $A $B %(n)d "%(tag)s2 CPU hogs"
run env BENCH_FIFO=50 ivshmem_doorbell bench $A $B %(n)d "%(tag)s2 CPU hogs, SCHED_FIFO 50"
kill $H1 $H2
'''
    results = []
    guests = [('doorbell_bench', '')]
    if ctx.flavor.name == '6.1' and \
            os.environ.get('IVT_BENCH_THREADIRQS') == '1':
        guests.append(('doorbell_bench_threadirqs', 'threadirqs'))
    g = None
    for name, append in guests:
        srv = ivt.Server(ctx.workdir, size='4M', vectors=1)
        tag = ctx.flavor.name + (' ' + append if append else '') + ', '
        g = ctx.boot(name, script % {'n': n, 'tag': tag},
                     srv.device('a', addr=4) + srv.device('b', addr=5),
                     append=append)
        results += [(ok, '%s: %s' % (name, d)) for ok, d in g.wait()]
        results.append(srv.stop())
    return g, results
