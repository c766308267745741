#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: boot one guest on Debian's stock 6.1 kernel and measure.

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
* rows other benchmarks leave in build/bench/extra/*.json
  ({"rows": [[name, value, unit, note], ...]}).

Under TCG (the default) memory types do not change speed: the copy ratios
measure software overhead only. QEMU_ACCEL=kvm make bench on a KVM host
measures the real thing.
"""

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'harness'))
import ivt  # noqa: E402

OUT = os.path.join(ivt.ROOT, 'build', 'bench')
TRIPS = int(os.environ.get('BENCH_TRIPS', '2000'))
MSGS = int(os.environ.get('BENCH_MSGS', '20000'))

SCRIPT = r'''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
A=$(dev_by_size 4194304 | head -1)
B=$(for d in /dev/ivshmem*; do [ $d != $A ] && [ "$(cat /sys/class/ivshmem/${d##*/}/size)" = 4194304 ] && echo $d; done)
C=$(dev_by_size 67108864 | head -1)
U=$(for d in /dev/ivshmem*; do [ $d != $C ] && [ "$(cat /sys/class/ivshmem/${d##*/}/size)" = 67108864 ] && echo $d; done)
UP=$(pci_of $U)
# The seeds' way: uio_pci_generic and the sysfs resource files.
echo $UP > /sys/bus/pci/drivers/ivshmem/unbind
t "insmod uio.ko" insmod /lib/kmods/uio.ko
t "insmod uio_pci_generic.ko" insmod /lib/kmods/uio_pci_generic.ko
echo "1af4 1110" > /sys/bus/pci/drivers/uio_pci_generic/new_id
eq "uio_pci_generic bound to $UP" "$(basename $(readlink /sys/bus/pci/devices/$UP/driver))" uio_pci_generic
R=/sys/bus/pci/devices/$UP
ls -l $R/resource2 $R/resource2_wc
# Page faults per 2 MiB of a fresh mapping, against anonymous THP.
run ivshmem_test bench $C
# The host module's region creation (ADD + ATTACH) against memset, and
# with the HSM test double, acrn-dm's open + first SET_MEMSEG.
t "insmod ivshmem_host.ko" insmod /lib/ivshmem/ivshmem_host.ko
t "insmod ivshmem_hsm_double.ko" insmod /lib/ivshmem/ivshmem_hsm_double.ko
run bench_region 512 3
t "rmmod ivshmem_hsm_double" rmmod ivshmem_hsm_double
run ivshmem_bench copy mmap=$C read-write=$C:rw resource2=$R/resource2 resource2_wc=$R/resource2_wc
run env BENCH_HIST=1 ivshmem_doorbell bench $A $B %(trips)d "idle"
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


def parse(lines):
    copy, lat, chan = {}, {}, {}
    for ln in lines:
        m = re.match(r'bench copy (\S+) (write|read) (\d+) ([\d.]+)', ln)
        if m:
            copy.setdefault(m.group(1), {}).setdefault(m.group(2), {})[
                int(m.group(3))] = float(m.group(4))
            continue
        m = re.match(r'bench \[[^]]*\] (doorbell|eventfd) round trip.*'
                     r'p50=([\d.]+) us p99=([\d.]+) us', ln)
        if m:
            lat[m.group(1)] = {'p50_us': float(m.group(2)),
                               'p99_us': float(m.group(3))}
            continue
        m = re.match(r'bench two-guest doorbell round trip: n=\d+ '
                     r'p50=([\d.]+) us p99=([\d.]+) us', ln)
        if m:
            lat['doorbell2'] = {'p50_us': float(m.group(1)),
                                'p99_us': float(m.group(2))}
            continue
        m = re.match(r'bench chan (\S+) window (\d+): n=(\d+) p50=(\d+) us '
                     r'p99=(\d+) us rate=(\d+)/s', ln)
        if m:
            chan['%s window %s' % (m.group(1), m.group(2))] = {
                'n': int(m.group(3)), 'p50_us': float(m.group(4)),
                'p99_us': float(m.group(5)), 'rate': float(m.group(6))}
    return copy, lat, chan


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
    copy = res['copy']
    methods = [k for k in ('mmap', 'read-write', 'resource2', 'resource2_wc')
               if k in copy]
    out.append('')
    out.append('copy bandwidth: guest RAM MB/s, others as ratio to it '
               '(write / read)')
    head = '%-8s %17s' % ('size', 'ram MB/s') + ''.join(
        ' %15s' % k for k in methods)
    out.append(head)
    ram = copy.get('ram', {})
    for s in sorted(ram.get('write', {})):
        w, r = ram['write'][s], ram['read'].get(s, 0)
        row = '%-8s %8.0f/%-8.0f' % (size_name(s), w, r)
        for k in methods:
            kw = copy[k]['write'].get(s, 0) / w if w else 0
            kr = copy[k]['read'].get(s, 0) / r if r else 0
            row += ' %7.2f/%-7.2f' % (kw, kr)
        out.append(row)
    out.append('')
    out.append('%-40s %10s %10s %10s' % ('latency', 'p50 us', 'p99 us',
                                         'msgs/s'))
    lat = res['latency']
    for k in ('eventfd', 'doorbell', 'doorbell2'):
        if k in lat:
            name = {'eventfd': 'eventfd round trip (2 threads, baseline)',
                    'doorbell': 'doorbell round trip (2 peers, 1 guest)',
                    'doorbell2': 'doorbell round trip (2 guests)'}[k]
            out.append('%-40s %10.1f %10.1f %10s' % (
                name, lat[k]['p50_us'], lat[k]['p99_us'], '-'))
    for k, v in sorted(res['chan'].items()):
        out.append('%-40s %10.0f %10.0f %10.0f' % (
            'ivshmem-chan request, ' + k, v['p50_us'], v['p99_us'],
            v['rate']))
    db = lat.get('doorbell')
    if db:
        out.append('ratios to the doorbell round trip (p50 / p99): ' +
                   ', '.join('%s %.2f / %.2f' % (
                       k, v['p50_us'] / db['p50_us'],
                       v['p99_us'] / db['p99_us'])
                       for k, v in sorted(res['chan'].items())
                       if k.endswith('window 1')))
    ev = lat.get('eventfd')
    for k in ('doorbell', 'doorbell2'):
        if k in lat and ev:
            out.append('%s / eventfd: p50 %.2fx, p99 %.2fx' % (
                {'doorbell': 'doorbell (1 guest)',
                 'doorbell2': 'doorbell (2 guests)'}[k],
                lat[k]['p50_us'] / ev['p50_us'],
                lat[k]['p99_us'] / ev['p99_us']))
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
    methods = [k for k in ('mmap', 'read-write', 'resource2', 'resource2_wc')
               if k in copy]
    dat = os.path.join(OUT, 'copy.dat')
    with open(dat, 'w') as f:
        f.write('# size ' + ' '.join('%s_w %s_r' % (k, k) for k in methods)
                + '\n')
        for s in sorted(ram.get('write', {})):
            f.write('%d' % s)
            for k in methods:
                f.write(' %.4f %.4f' % (
                    copy[k]['write'].get(s, 0) / ram['write'][s],
                    copy[k]['read'].get(s, 0) / ram['read'][s]))
            f.write('\n')
    note = ('TCG: memory types do not change speed; ratios = software '
            'overhead' if res['machine']['accel'] == 'tcg' else
            'accel ' + res['machine']['accel'])
    cols = ', '.join("'%s' u 1:%d w lp t '%s write', '' u 1:%d w lp dt 2 "
                     "t '%s read'" % (dat, 2 + 2 * i, k, 3 + 2 * i, k)
                     for i, k in enumerate(methods))
    lat = os.path.join(OUT, 'latency.dat')
    with open(lat, 'w') as f:
        rows = [({'doorbell2': 'doorbell 2 guests'}.get(k, k), v)
                for k, v in sorted(res['latency'].items())] + \
            [('chan ' + k, v) for k, v in sorted(res['chan'].items())
             if k.endswith('window 1')]
        for k, v in rows:
            f.write('"%s" %.1f %.1f\n' % (k, v['p50_us'], v['p99_us']))
    script = '''
set terminal svg size 900,500 dynamic noenhanced
set output '%(out)s/copy.svg'
set title "copy bandwidth as a ratio to guest RAM memcpy\\n%(note)s"
set logscale x 2
set format x '%%.0b %%BB'
set xlabel 'bytes per copy'
set ylabel 'ratio to guest RAM'
set key outside right
set grid
plot %(cols)s
set output '%(out)s/latency.svg'
unset logscale x
set title "round trip latency (us)\\n%(note)s"
set format x '%%g'
set style data histograms
set style fill solid 0.6
set xtics rotate by -30
set xlabel ''
set ylabel 'us'
plot '%(lat)s' u 2:xtic(1) t 'p50', '' u 3 t 'p99'
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


def main():
    os.makedirs(OUT, exist_ok=True)
    fl = ivt.stock_flavor()
    fl.build(ivt.build_progs())
    workdir = tempfile.mkdtemp(prefix='ivt-bench-')
    srv = ivt.Server(workdir, size='4M', vectors=1)
    _, c = ivt.plain_device(workdir, 'copy', 64 << 20, addr=6)
    _, u = ivt.plain_device(workdir, 'uio', 64 << 20, addr=7)
    devs = srv.device('a', addr=4) + srv.device('b', addr=5) + c + u
    g = ivt.Guest(fl, 'bench', SCRIPT % {'trips': TRIPS, 'msgs': MSGS},
                  devs, mem='2G', timeout=1800, workdir=workdir,
                  kmods=['drivers/uio/uio', 'drivers/uio/uio_pci_generic'])
    g.start()
    results = g.wait()
    results.append(srv.stop())
    lines = list(g.bench)
    # Two guests on one server: the doorbell round trip across VMs.
    wd2 = tempfile.mkdtemp(prefix='ivt-bench2-')
    srv2 = ivt.Server(wd2, size='4M', vectors=2)
    pair = []
    for role in ('pong', 'ping'):
        pair.append(ivt.Guest(fl, 'bench_' + role, '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
run env BENCH_HIST=1 ivshmem_doorbell pingpong %s /dev/ivshmem0 %d
''' % (role, TRIPS), srv2.device(role), timeout=900, workdir=wd2).start())
    for p in pair:
        results += p.wait()
        lines += p.bench
    results.append(srv2.stop())
    failed = [d for ok, d in results if ok is False]
    for d in failed:
        print('not ok - bench: ' + d)
    copy, lat, chan = parse(lines)
    hist = parse_hist(lines)
    res = {'machine': machine(),
           'kernel': fl.release,
           'copy': {k: {d: {str(s): v for s, v in dv.items()}
                        for d, dv in kv.items()} for k, kv in copy.items()},
           'latency': lat, 'hist': {k: {str(b): c for b, c in v.items()}
                                    for k, v in hist.items()},
           'chan': chan,
           'extra': measured_rows(lines) + extra_rows()}
    with open(os.path.join(OUT, 'bench.json'), 'w') as f:
        json.dump(res, f, indent=1, sort_keys=True)
        f.write('\n')
    res['copy'] = copy
    res['hist'] = hist
    text = table(res)
    with open(os.path.join(OUT, 'table.txt'), 'w') as f:
        f.write(text + '\n')
    print(text)
    print(plots(res))
    print('json: %s/bench.json; console: %s' % (OUT, g.console))
    return 1 if failed or not copy else 0


if __name__ == '__main__':
    sys.exit(main())
