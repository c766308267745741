# SPDX-License-Identifier: GPL-2.0
"""Shared boots of the ivt harness: several single-boot tests of one
flavour run one after the other in one guest.

On the debug kernels a boot (about 10 s of guest clock alone, 25-45 s
beside other guests) and its kmemleak scans (11 s alone, up to 40 s)
cost several times the script of most tests. A test marked
@test(share=True) boots all its guests before it waits for one, then
reads what they printed and wrote to its host files; its QMP commands
(Segment.qmp renames its ids) and its waits on the console
(ivt.wait_console) are on its own segments. Such tests of one flavour run as
the segments of one guest (ivt.FlavorRun.tasks() makes the groups):

* the segments run in the members' (the tests') order;
* the guest has every member's devices from boot, each renamed (its QEMU
  ids prefixed "sN-") and given a PCI slot of its own, in the order of
  the slots of a boot of its own, so that /dev/ivshmemN numbers the same;
* before a segment, lib.sh's ivt_seg() sets driver_override of every
  other member's ivshmem device to a driver that does not exist, so the
  member's insmod binds only its own devices; it empties /tmp;
* after it, ivt_seg() kills the processes the member left, unmounts what
  it mounted and unloads every module (a module that does not unload is
  a "not ok" of that member);
* kmemleak scans once, after the last segment.

Each member then sees a console of its own: the boot, its segment, the
kmemleak report and the kernel log of the boot plus its segment (between
the "IVT-MARK segment N" lines): its checks, splats and exit status are
counted as in a boot of its own. A kernel report during the boot or a
kmemleak report fails every member; one during a segment fails only
that member. A guest that dies or times out dumps no kernel log: the
members whose segments ended fail their kernel report check (it could
not run), naming the member it died in. One test alone (--only), or
IVT_SHARE=0, boots as before.
"""

import os
import re
import shutil
import sys
import tempfile
import threading
import time

# ivt.py runs as __main__; register with that module, not a second copy.
_main = sys.modules.get('__main__')
if 'ivt' not in sys.modules and \
        os.path.basename(getattr(_main, '__file__', '')) == 'ivt.py':
    sys.modules['ivt'] = _main
import ivt  # noqa: E402

# PCI slots of the pc machine's bus 0 for the members' devices: 0 is the
# host bridge, 1 the PIIX3 (ISA, IDE, USB, ACPI); -nodefaults adds none.
FIRST_SLOT, LAST_SLOT = 2, 31
# Property values that name another QEMU object of the same member (bus:
# the PCIe root port arm64's peer_churn hot-adds into).
REFS = ('id', 'memdev', 'chardev', 'bus')


def enabled():
    return os.environ.get('IVT_SHARE', '1') != '0'


def chains(flavor, shared, durations):
    """Split @shared ((name, fn) of @flavor's shareable tests) into the
    scheduler's tasks: each a chain of segments in shared guests.

    One chain would be one long serial task (13 segments took 700-800 s
    on a busy debug run) that the run waits for at its end; more chains
    cost a boot and a kmemleak scan each. IVT_SHARE_CHAINS (default 3 on
    the debug kernels, 2 elsewhere) sets how many. The tests that boot
    several guests side by side stay in the first chain (split up, each
    chain would need their extra guests); the others go, longest first
    by durations.json, to the chain with the least expected time. A
    chain of one test is a task of its own."""
    debug = flavor.endswith('-debug')
    k = max(1, int(os.environ.get('IVT_SHARE_CHAINS') or
                   (3 if debug else 2)))

    def est(t):
        return ivt.estimate(durations, '%s/%s' % (flavor, t[0]), debug)
    groups = [[] for _ in range(k)]
    load = [0.0] * k
    groups[0] = [t for t in shared if t[1].guests > 1]
    load[0] = sum(est(t) for t in groups[0])
    for t in sorted((t for t in shared if t[1].guests == 1),
                    key=est, reverse=True):
        i = load.index(min(load))
        groups[i].append(t)
        load[i] += est(t)
    order = [name for name, _ in shared]
    tasks = []
    for n, g in enumerate(x for x in groups if x):
        g.sort(key=lambda t: order.index(t[0]))
        tasks.append(g[0] if len(g) == 1 else ('[shared %d]' % n, g))
    return tasks


def mebibytes(mem):
    m = re.fullmatch(r'(\d+)([MG])', mem)
    if not m:
        raise ValueError('guest memory %r: want NNNM or NG' % mem)
    return int(m.group(1)) << (10 if m.group(2) == 'G' else 0)


def relabel(devices, prefix, next_slot):
    """@devices (QEMU arguments) with each id and reference prefixed by
    @prefix and each -device put in a slot of its own from @next_slot on,
    in the order of the slots QEMU gives them in a boot of their own: an
    explicit addr= its own, a device without one the lowest slot from
    FIRST_SLOT on that no device before it took and no addr= names (QEMU
    refuses a later addr= of a taken slot). A device on a bus of the
    member's own (bus=, a PCIe port) stays where it is: lib.sh's ivt_seg
    knows it by its port's slot. Returns (args, bdfs, slot)."""
    pairs = [(devices[i], devices[i + 1]) for i in range(0, len(devices), 2)]
    if len(devices) % 2:
        raise ValueError('device arguments not in pairs: %r' % devices)
    out, placed = [], []
    for flag, value in pairs:
        props = value.split(',')
        head, rest = props[0], props[1:]
        addr, kept = None, []
        for p in rest:
            key, eq, val = p.partition('=')
            if key == 'addr' and flag == '-device':
                addr = int(val, 0)
                continue
            if eq and key in REFS:
                p = '%s=%s%s' % (key, prefix, val)
            kept.append(p)
        if flag == '-device' and not any(p.startswith('bus=')
                                         for p in kept):
            placed.append([addr, len(out), head, kept])
            out.append(None)        # filled in below
        else:
            out.append((flag, ','.join([head] + kept)))
    taken = {p[0] for p in placed if p[0] is not None}
    free = (n for n in range(FIRST_SLOT, LAST_SLOT + 1) if n not in taken)
    for p in placed:
        if p[0] is None:
            p[0] = next(free, LAST_SLOT + 1)
    bdfs = []
    for _, pos, head, kept in sorted(placed):
        if next_slot > LAST_SLOT:
            raise ValueError('shared boot: more devices than PCI slots')
        out[pos] = ('-device', ','.join([head] + kept +
                                        ['addr=0x%x' % next_slot]))
        bdfs.append('0000:00:%02x.0' % next_slot)
        next_slot += 1
    return [a for pair in out for a in pair], bdfs, next_slot


class Segment(ivt.Guest):
    """A member's view of one of the shared guests: what a boot of its own
    would have printed (see the module's comment)."""

    def __init__(self, hub, ctx, index, role, *args, **kw):
        super().__init__(*args, **kw)
        self.hub = hub
        self.ctx = ctx
        self.index = index          # unique in the hub: its IVT-SEG number
        self.role = role            # the member's first boot, second, ...
        self.synthetic = ''
        self.cpu = 0.0
        self.host = None            # the shared Guest it runs in
        # Set by Hub._split when the shared guest never dumped its kernel
        # log (it died or timed out): why, and in whose segment.
        self.lost = None
        self.ended = False          # its segment reached IVT-SEG-END
        self.notes = []             # "note boot retried" of its guest

    def start(self):
        self.started = time.time()
        return self

    def wait(self):
        # The member waits for a guest: it has asked for all of them.
        self.hub.member_ready(self.ctx)
        self.hub.done.wait()
        self.timed_out = self.host is not None and self.host.timed_out
        return self.parse()

    def wait_begun(self):
        """Block until this segment has begun or its guest has ended
        (ivt.wait_console calls it first: its timeout counts from the
        segment's start, not from the boot)."""
        self.hub.member_ready(self.ctx)
        self.hub.started.wait()
        if self.host is None:
            return
        begin = 'IVT-SEG-BEGIN %d at ' % self.index
        while self.host.running() and begin not in self._live():
            time.sleep(0.2)

    def running(self):
        """True until its shared guest has ended (ivt.wait_console); False
        when there is none (the shared boot failed)."""
        return self.host is not None and self.host.running()

    def _live(self):
        """The segment's part of its guest's console so far."""
        try:
            text = self.host.text()
        except (OSError, AttributeError):
            return ''
        m = re.search(r'IVT-SEG-BEGIN %d at [\d.]+ s\n' % self.index, text)
        if not m:
            return ''
        part = text[m.start():]
        end = re.search(r'IVT-SEG-END %d at ' % self.index, part)
        return part[:end.start()] if end else part

    def text(self, raw=False):
        text = self.synthetic if self.hub.done.is_set() else self._live()
        return text.encode() if raw else text

    def qmp(self, command, **arguments):
        """QMP on the shared guest, the member's ids and references to
        them (id, memdev, chardev) renamed as relabel() renamed them."""
        for key in REFS:
            if key in arguments:
                arguments[key] = 's%d-%s' % (self.index, arguments[key])
        return self.host.qmp(command, **arguments)

    def parse(self):
        """Guest.parse() of the member's console; when the shared guest
        died or timed out (no kernel log dump), say where: a segment that
        ended had its kernel log checked nowhere (reports at WARNING
        level and below are not on the console), so its kernel report
        check fails too, as it would not have run."""
        results = super().parse()
        self.bench += self.notes
        if self.lost is None:
            return results
        for i, (ok, desc) in enumerate(results):
            if not self.ended and desc.startswith('guest ran to the end: '):
                results[i] = (False, desc + ' (%s)' % self.lost)
        if self.ended:
            ok, desc = results[-1]          # the kernel report check
            results[-1] = (False, desc + ' (not checked: its kernel log '
                           'was never dumped: %s)' % self.lost)
        return results


class Hub:
    """The members' boot requests and the guests that serve them.

    A member's first boot runs in the first guest, its second in the
    second (two_guests' ping beside its pong), and so on; members whose
    boots differ in the kernel command line get guests of their own for
    those (pci=nomsi). A member is ready once it waits for one of its
    guests or ends; the guests start together once every member is.
    """

    def __init__(self, flavor, workdir, n, chain=0):
        self.chain = chain          # which of the flavour's chains
        self.flavor = flavor
        self.workdir = workdir
        self.cond = threading.Condition()
        self.waiting = n            # members not ready yet
        self.segments = []
        self.done = threading.Event()
        self.started = threading.Event()
        self.guests = []
        self.times = {}             # segment index: guest-clock seconds

    def member_ready(self, ctx):
        with self.cond:
            if not ctx.ready:
                ctx.ready = True
                self.waiting -= 1
                self.cond.notify_all()

    def boot(self, ctx, name, script, devices, kw):
        with self.cond:
            seg = Segment(self, ctx, len(self.segments), len(ctx.guests),
                          self.flavor, name, script, devices,
                          workdir=ctx.workdir, **kw)
            self.segments.append(seg)
        return seg

    def run(self):
        """Wait until every member is ready, boot, split the consoles."""
        with self.cond:
            while self.waiting > 0:
                self.cond.wait()
        try:
            self._boot()
        finally:
            self.started.set()
            self.done.set()

    def _plan(self):
        """The guests: lists of segments, keyed by (role, command line).
        In each, the segments of members with more than one boot come
        first (their partners run at the same time), those with an own
        command line before the others, then the single boots."""
        ctxs = []
        for seg in self.segments:
            if seg.ctx not in ctxs:
                ctxs.append(seg.ctx)
        # The members' order, not the order their threads got to boot():
        # the same segments in the same order in every run.
        ctxs.sort(key=lambda c: c.order)
        multi = [c for c in ctxs if len(c.guests) > 1]
        multi.sort(key=lambda c: not any(g.append for g in c.guests))
        order = multi + [c for c in ctxs if len(c.guests) == 1]
        plan = {}
        for c in order:
            for seg in c.guests:
                plan.setdefault((seg.role, seg.append), []).append(seg)
        return list(plan.values())

    def _boot(self):
        plan = self._plan()
        # IVT-SEG numbers (and QEMU id prefixes) in the order they run.
        for i, seg in enumerate(seg for segs in plan for seg in segs):
            seg.index = i
        try:
            self._start(plan)
        finally:
            # A harness error half-way: no QEMU of ours runs on.
            for g in self.guests:
                g.stop()

    def _start(self, plan):
        fl = self.flavor
        for n, segs in enumerate(plan):
            devices, script, slot = [], ['ivt_share_begin'], FIRST_SLOT
            mem, smp, timeout, kmods = 0, 1, 0, []
            for seg in segs:
                args, bdfs, slot = relabel(seg.devices, 's%d-' % seg.index,
                                           slot)
                devices += args
                if os.path.isdir(os.path.join(seg.workdir,
                                              'extra-' + seg.name)):
                    raise RuntimeError(seg.name + ': stages files in an '
                                       'initramfs of its own')
                if 'IVT_SEG_EOF' in seg.script:
                    raise RuntimeError(seg.name + ': script holds '
                                       'IVT_SEG_EOF')
                script.append("cat > /seg-%d.sh <<'IVT_SEG_EOF'\n"
                              ". /lib/ivt.sh\n%s\nivt_done\nIVT_SEG_EOF"
                              % (seg.index, seg.script))
                script.append('ivt_seg %d %s "%s"' % (seg.index, seg.name,
                                                      ' '.join(bdfs)))
                mem = max(mem, mebibytes(seg.mem))
                smp = max(smp, seg.smp)
                timeout += seg.timeout
                kmods += [m for m in seg.kmods if m not in kmods]
            g = ivt.Guest(fl, 'shared%d.%d' % (self.chain, n),
                          '\n'.join(script), devices,
                          mem='%dM' % mem, smp=smp, timeout=timeout,
                          workdir=self.workdir, append=segs[0].append,
                          kmods=kmods)
            g.segments = segs
            for seg in segs:
                seg.host = g
            self.guests.append(g)
            ivt.log('%s: guest %s runs %s' % (
                fl.name, g.name, ', '.join(s.name for s in segs)))
        for g in self.guests:
            g.start()
        self.started.set()
        for g in self.guests:
            g.wait()
            self._split(g)

    def _split(self, g):
        text = g.text()
        body, _, tail = text.partition('IVT-DMESG-BEGIN')
        lost = None
        if not tail:
            hung = [s.name for s in g.segments
                    if re.search(r'IVT-SEG-BEGIN %d at ' % s.index, body) and
                    not re.search(r'IVT-SEG-END %d at ' % s.index, body)]
            lost = 'the shared guest %s %s %s' % (
                g.name, g.end_reason(),
                'in the segment of ' + hung[0] if hung else
                'before the first segment began' if not
                re.search(r'IVT-SEG-BEGIN ', body) else
                'after the last segment')
        # A first boot that crashed before the test (Guest.wait retried
        # it): each member notes it, as a boot of its own would; a note,
        # not a line of the console, where the report it quotes would
        # count as the member's.
        notes = [b + ' (shared guest %s)' % g.name
                 for b in getattr(g, 'bench', [])
                 if b.startswith('note boot retried')]
        dmesg = g.section('DMESG') or ''
        first = re.search(r'IVT-SEG-BEGIN ', body)
        boot = body[:first.start()] if first else body
        kmemleak = re.search(r'IVT-KMEMLEAK-BEGIN\n.*?IVT-KMEMLEAK-END\n',
                             body, re.S)
        marks = [(int(m.group(1)), m.start()) for m in re.finditer(
            r'^.*IVT-MARK segment (\d+)$', dmesg, re.M)]
        dm_boot = dmesg[:marks[0][1]] if marks else dmesg
        for seg in g.segments:
            k = seg.index
            m = re.search(r'IVT-SEG-BEGIN %d at ([\d.]+) s\n(.*?)'
                          r'IVT-SEG-END %d at ([\d.]+) s\n' % (k, k), body,
                          re.S)
            part, exit_line = '', ''
            if m:
                part = m.group(2)
                self.times[k] = float(m.group(3)) - float(m.group(1))
                e = re.search(r'IVT-SEG-EXIT %d (\d+)' % k, part)
                exit_line = 'IVT-EXIT %s\n' % e.group(1) if e else ''
            else:
                # Begun but not ended (the guest died or timed out).
                b = re.search(r'IVT-SEG-BEGIN %d at [\d.]+ s\n' % k, body)
                part = body[b.end():] if b else ''
                part = part.split('IVT-KMEMLEAK-BEGIN')[0]
            mine = [pos for i, pos in marks if i == k]
            later = [pos for i, pos in marks if mine and pos > mine[0]]
            dm = dm_boot + (dmesg[mine[0]:later[0] if later else None]
                            if mine else '')
            # A segment that began, in a guest whose kernel log was
            # dumped, without its mark there: its part of the log cannot
            # be told apart, so it was not scanned. That fails the member.
            if tail and not mine and re.search(
                    r'IVT-SEG-BEGIN %d at ' % k, body):
                part += ('not ok - its segment\'s kernel log was scanned '
                         '("IVT-MARK segment %d" is not in the dmesg of '
                         'the shared guest %s)\n' % (k, g.name))
            seg.ended = m is not None
            seg.lost = lost
            seg.notes = notes
            seg.synthetic = (boot + part +
                             (kmemleak.group(0) if kmemleak else '') +
                             exit_line +
                             ('IVT-DMESG-BEGIN\n%sIVT-DMESG-END\n' % dm
                              if tail else ''))
            seg.console = g.console
            seg.elapsed = g.elapsed


class SharedContext(ivt.Context):
    def __init__(self, flavor, workdir, hub, order):
        super().__init__(flavor, workdir)
        self.hub = hub
        self.order = order          # the member's place in the group
        self.ready = False

    def boot(self, name, script, devices=(), **kw):
        if self.ready:
            # A boot after the member watched its segment: the shared
            # guests run already; one of its own.
            return super().boot(name, script, devices, **kw)
        g = self.hub.boot(self, name, script, devices, kw)
        self.guests.append(g)
        return g.start()


def run_group(fr, members, task='[shared 0]'):
    """Run @members ((name, fn) of FlavorRun @fr) in one guest; report
    each as FlavorRun.run_test would, and return what it returns."""
    fl = fr.fl
    chain = int(re.sub(r'\D', '', task) or 0)
    workdir = tempfile.mkdtemp(prefix='ivt-%s-shared%d-' % (fl.name, chain))
    hub = Hub(fl, workdir, len(members), chain)
    outcome = {}
    ctxs = {}

    def member(name, fn):
        ctx = ctxs[name]
        try:
            outcome[name] = fn(ctx)
        except (Exception, SystemExit) as e:
            outcome[name] = (None, [(False, 'the test ran to its end: %s: %s'
                                     % (type(e).__name__, e))])
        finally:
            hub.member_ready(ctx)

    started = time.time()
    # Every context before any thread: a thread started before a later
    # mkdtemp() failed would wait for the hub for ever.
    for i, (name, fn) in enumerate(members):
        ctxs[name] = SharedContext(fl, tempfile.mkdtemp(
            prefix='ivt-%s-%s-' % (fl.name, name)), hub, i)
    threads = [threading.Thread(target=member, args=m) for m in members]
    for t in threads:
        t.start()
    error = None
    try:
        hub.run()
    except (Exception, SystemExit) as e:       # the shared boot itself
        error = '%s: %s' % (type(e).__name__, e)
    for t in threads:
        t.join()
    wall = time.time() - started
    cpu = sum(getattr(g, 'cpu', 0.0) for g in hub.guests)
    # Thread-seconds per member (what durations.json keeps for the
    # scheduler): the task's wall time, shared out in proportion to the
    # members' segments (guest clock; segments of parallel guests overlap).
    segs = {}
    for seg in hub.segments:
        segs[seg.name] = hub.times.get(seg.index, 0.0)
    per = {name: sum(hub.times.get(seg.index, 0.0)
                     for seg in ctxs[name].guests
                     if isinstance(seg, Segment)) for name, _ in members}
    total = sum(per.values())
    ivt.log('%s %s: %d tests in %d shared guests in %.0fs (QEMU %.0f '
            'CPU-s): %s' % (fl.name, task, len(members), len(hub.guests),
                            wall, cpu,
                    ', '.join('%s %.0fs' % kv for kv in segs.items())))
    bad = False
    for name, _ in members:
        g_m, res = outcome.get(name, (None, []))
        if error:
            res = res + [(False, 'the shared boot ran: ' + error)]
        seconds = wall * (per[name] / total if total else 1 / len(members))
        failed = fr.report_test(name, ctxs[name], g_m, res, seconds,
                                shared=workdir)
        if not failed and not fr.args.keep:
            shutil.rmtree(ctxs[name].workdir, ignore_errors=True)
        bad |= failed
    lost = ivt.lost_timers(hub.guests + [g for ctx in ctxs.values()
                                         for g in ctx.guests
                                         if not isinstance(g, Segment)])
    if not bad and not fr.args.keep and not lost:
        shutil.rmtree(workdir, ignore_errors=True)
    return lost
