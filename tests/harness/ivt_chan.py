# SPDX-License-Identifier: GPL-2.0
"""Channel test of the ivt harness: samples/ivshmem-chan (the library, its
operator and responder) in one guest with two doorbell devices on the
project's ivshmem server (two peers) and two plain devices on one file.

Imported by ivt.py after its own tests; registers with ivt's @test():

* chan: requests (16 in flight) with 0 lost, duplicated or corrupted (checked by the
  operator's own sequence numbers and payload hashes), doorbell and
  polling responders each SIGKILLed and restarted mid-stream, an operator
  SIGKILLed and restarted, polling on plain devices (no doorbell device),
  and a hostile peer fuzzing each side's view in both modes: no crash, no
  hang, errors reported, recovery afterwards.
"""

import os
import sys

_main = sys.modules.get('__main__')
if 'ivt' not in sys.modules and \
        os.path.basename(getattr(_main, '__file__', '')) == 'ivt.py':
    sys.modules['ivt'] = _main
import ivt  # noqa: E402

# The guest side: n requests to a polling responder, nd to a doorbell one,
# np between two pollers on plain devices; F seconds of fuzzing per victim.
CHAN_SCRIPT = r'''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
A=$(dev_by_size 4194304 | head -1)
B=$(for d in /dev/ivshmem*; do [ $d != $A ] && [ "$(cat /sys/class/ivshmem/${d##*/}/size)" = 4194304 ] && echo $d; done)
P1=$(dev_by_size 1048576 | head -1)
P2=$(for d in /dev/ivshmem*; do [ $d != $P1 ] && [ "$(cat /sys/class/ivshmem/${d##*/}/size)" = 1048576 ] && echo $d; done)
F=%(fuzz)d
M=%(m)d
OP=ivshmem-chan-operator
RS=ivshmem-chan-responder
# kv LOG KEY: the value of KEY= on LOG's "chan:" line
kv() { sed -n "s/^chan: .* $2=\([^ ]*\).*/\1/p" "$1" | tail -1; }
# wait_line LOG TEXT: wait up to 120 s for TEXT in LOG
wait_line() {
	for _i in $(seq 1200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
# clean LOG WHAT COUNT: every request answered once and intact
clean() {
	grep '^chan:' "$1"
	eq "$2: requests answered" "$(kv $1 ok)" "$3"
	eq "$2: lost, duplicated, corrupted" "$(kv $1 lost) $(kv $1 duplicated) $(kv $1 corrupted)" "0 0 0"
}

# kill_restart MODE RFLAGS OFLAGS N: N requests; the responder SIGKILLed
# after N/4 and restarted; the operator survives, reports it, loses nothing.
# The operator counts a request lost after 20 s without its response (its
# --give-up default, an interrupt's bound in Documentation/testing.rst),
# not counting the time it is itself stopped while the responder restarts.
kill_restart() {
	N=$4
	$RS $2 $B > /tmp/r1.log 2>&1 &
	R=$!
	# The operator stops itself after a quarter: however fast the kernel,
	# the responder dies and comes back in the middle of the stream.
	$OP $3 -w 16 -n $N -S $((N / 4)) $A > /tmp/o.log 2>&1 &
	O=$!
	t "$1: $N requests under way" wait_line /tmp/o.log "stopped $((N / 4))"
	kill -9 $R
	wait $R
	eq "$1: responder killed by SIGKILL" $? 137
	$RS $2 $B > /tmp/r2.log 2>&1 &
	R=$!
	kill -CONT $O
	wait $O
	eq "$1: operator exits 0" $? 0
	clean /tmp/o.log "$1, responder killed and restarted" $N
	t "$1: the operator (survivor) saw the restart (-ECONNRESET)" test "$(kv /tmp/o.log resets)" -ge 1
	grep '^bench' /tmp/o.log
	# Now the operator dies; the responder survives and reports it.
	$OP $3 -n 100000000 -P 200 $A > /tmp/o.log 2>&1 &
	O=$!
	t "$1: a second operator under way" wait_line /tmp/o.log "progress 200"
	kill -9 $O
	wait $O
	timeout 120 $OP $3 -n $M $A > /tmp/o.log 2>&1
	eq "$1: a restarted operator exits 0" $? 0
	clean /tmp/o.log "$1, operator killed and restarted" $M
	grep '^bench' /tmp/o.log
	kill $R
	wait $R
	eq "$1: responder exits 0 on SIGTERM" $? 0
	cat /tmp/r2.log
	t "$1: the responder (survivor) saw the operator restart" grep -q "peer restarted" /tmp/r2.log
}

# The real-time responder: SCHED_FIFO 40 (below PREEMPT_RT's interrupt
# threads at 50) when it sleeps on the doorbell; the poller stays
# SCHED_OTHER: a SCHED_FIFO poller owns its vCPU and, on a 2-vCPU guest,
# starves that CPU's kernel threads (seen on 6.1-rt: the console stops).
kill_restart "doorbell responder (SCHED_FIFO 40)" "-F 40" "" %(nd)d
kill_restart "polling responder" "-p" "" %(n)d

# Polling on both sides over two plain devices on one file: no doorbell.
$RS -p $P2 > /tmp/r.log 2>&1 &
R=$!
timeout 300 $OP -p -w 16 -n %(np)d $P1 > /tmp/o.log 2>&1
eq "plain devices, both polling: operator exits 0" $? 0
clean /tmp/o.log "plain devices, both polling" %(np)d
kill $R
wait $R

# fuzz_op MODE OFLAGS: the operator against a hostile side 1 for F s
fuzz_op() {
	timeout $((F + 60)) $OP $2 -f -n 100000000 -t 10 -g 50 -d $((F + 1)) $A > /tmp/o.log 2>&1 &
	O=$!
	run ivshmem_chan_fuzz $B 1 $F
	wait $O
	eq "$1: fuzzed operator ends in time, exit 0" $? 0
	grep '^chan:' /tmp/o.log
	t "$1: fuzzed operator reports errors" test $(( $(kv /tmp/o.log bad) + $(kv /tmp/o.log proto) + $(kv /tmp/o.log resets) )) -gt 0
	# A real responder again: the operator side recovers.
	$RS $B > /tmp/r.log 2>&1 &
	R=$!
	timeout 120 $OP $2 -n $M $A > /tmp/o.log 2>&1
	eq "$1: after the fuzzer, operator exits 0" $? 0
	clean /tmp/o.log "$1: after the fuzzer" $M
	kill $R
	wait $R
}

# fuzz_rs MODE RFLAGS: the responder against a hostile side 0 for F s,
# then a real operator: the same responder process answers it
fuzz_rs() {
	timeout $((F + 200)) $RS $2 -q -d $((F + 150)) $B > /tmp/r.log 2>&1 &
	R=$!
	run ivshmem_chan_fuzz $A 0 $F
	timeout 120 $OP -n $M $A > /tmp/o.log 2>&1
	eq "$1: fuzzed responder answers a real operator afterwards" $? 0
	clean /tmp/o.log "$1: after the fuzzer" $M
	kill $R
	wait $R
	eq "$1: fuzzed responder ends in time, exit 0" $? 0
	cat /tmp/r.log
	t "$1: fuzzed responder reports errors" grep -qE "resets=[1-9]|bad=[1-9]|proto=[1-9]" /tmp/r.log
}

# Each side in each mode on 6.1; one mode per side elsewhere (time).
fuzz_op "fuzz, doorbell operator" ""
[ %(fuzz_all)d = 1 ] && fuzz_op "fuzz, polling operator" "-p"
[ %(fuzz_all)d = 1 ] && fuzz_rs "fuzz, doorbell responder" ""
fuzz_rs "fuzz, polling responder" "-p"
'''


# The library is userspace: what differs between kernels is the doorbell
# path under it, which the doorbell tests run on every flavour. chan runs on
# Debian's 6.1, under KASAN and lockdep, and on a PREEMPT_RT kernel.
@ivt.test(flavors=('6.1', 'debug', '6.12-rt'), share=True)
def chan(ctx):
    """The ivshmem-chan channel: on 6.1 10^5 requests to a polling
    responder and 2*10^4 to a doorbell one (2,000 and 1,000 on the other
    flavours, whose kernels are slower; $IVT_CHAN_REQUESTS sets both), peers SIGKILLed and
    restarted, polling without a doorbell device, a fuzzing peer (against
    each side in both modes on 6.1, one mode per side elsewhere)."""
    stock = ctx.flavor.name == '6.1'
    env = os.environ.get('IVT_CHAN_REQUESTS')
    n = int(env or (100000 if stock else 2000))
    nd = int(env or (20000 if stock else 1000))
    np = max(500, n // 10)
    m = 1000 if stock else 300      # each run after a restart or fuzzing
    fuzz = int(os.environ.get('IVT_CHAN_FUZZ_SECONDS',
                              '3' if stock else '2'))
    srv = ivt.Server(ctx.workdir, size='4M', vectors=1)
    path, plain = ivt.plain_device(ctx.workdir, 'chanshm', 1 << 20, addr=6)
    # A second plain device on the same file: the two share the memory.
    plain += ['-object', 'memory-backend-file,id=chanshm2,size=%d,'
              'mem-path=%s,share=on' % (1 << 20, path),
              '-device', 'ivshmem-plain,memdev=chanshm2,addr=0x7']
    devs = srv.device('a', addr=4) + srv.device('b', addr=5) + plain
    g = ctx.boot('chan', CHAN_SCRIPT % {'n': n, 'nd': nd, 'np': np,
                                         'm': m, 'fuzz': fuzz,
                                         'fuzz_all': int(stock)}, devs,
                 timeout=900)
    results = g.wait()
    results.append(srv.stop())
    return g, results
