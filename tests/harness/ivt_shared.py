# SPDX-License-Identifier: GPL-2.0
"""Shared boots of the ivt harness: several single-boot tests of one
flavour run one after the other in one guest.

On the debug kernels a boot (about 10 s of guest clock alone, 25-45 s
beside other guests) and its kmemleak scans (11 s alone, up to 40 s)
cost several times the script of most tests. A test marked
@test(share=True) boots exactly one guest, waits for it and then only
reads what it printed and what it wrote to its host files: no QMP, no
waiting on the console while it runs. Such tests of one flavour run as
the segments of one guest (ivt.FlavorRun.tasks() makes the groups):

* the guest has every member's devices from boot, each renamed (its QEMU
  ids prefixed "sN-") and given a PCI slot of its own, in the order the
  member asked for, so that /dev/ivshmemN numbers the same way;
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
that member. One test alone (--only), or IVT_SHARE=0, boots as before.
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
# Property values that name another QEMU object of the same member.
REFS = ('id', 'memdev', 'chardev')


def enabled():
    return os.environ.get('IVT_SHARE', '1') != '0'


def mebibytes(mem):
    m = re.fullmatch(r'(\d+)([MG])', mem)
    if not m:
        raise ValueError('guest memory %r: want NNNM or NG' % mem)
    return int(m.group(1)) << (10 if m.group(2) == 'G' else 0)


def relabel(devices, prefix, next_slot):
    """@devices (QEMU arguments) with each id and reference prefixed by
    @prefix and each -device put in a slot of its own from @next_slot on,
    in the member's order (explicit addr= first by address, as QEMU would
    place them, then the others as given). Returns (args, bdfs, slot)."""
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
        if flag == '-device':
            placed.append((addr is None, addr or 0, len(out), head, kept))
            out.append(None)        # filled in below
        else:
            out.append((flag, ','.join([head] + kept)))
    bdfs = []
    for _, _, pos, head, kept in sorted(placed):
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
        self.proc = self.host.proc
        begin = 'IVT-SEG-BEGIN %d at ' % self.index
        while self.host.proc.poll() is None and begin not in self._live():
            time.sleep(0.2)

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
        """QMP on the shared guest, the member's device ids renamed as
        relabel() renamed them."""
        if 'id' in arguments:
            arguments['id'] = 's%d-%s' % (self.index, arguments['id'])
        return self.host.qmp(command, **arguments)


class Hub:
    """The members' boot requests and the guests that serve them.

    A member's first boot runs in the first guest, its second in the
    second (two_guests' ping beside its pong), and so on; members whose
    boots differ in the kernel command line get guests of their own for
    those (pci=nomsi). A member is ready once it waits for one of its
    guests or ends; the guests start together once every member is.
    """

    def __init__(self, flavor, workdir, n):
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
            if ctx.ready:
                raise RuntimeError('a shared test boots all its guests '
                                   'before it waits for one')
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
        multi = [c for c in ctxs if len(c.guests) > 1]
        multi.sort(key=lambda c: not any(g.append for g in c.guests))
        order = multi + [c for c in ctxs if len(c.guests) == 1]
        plan = {}
        for c in order:
            for seg in c.guests:
                plan.setdefault((seg.role, seg.append), []).append(seg)
        return list(plan.values())

    def _boot(self):
        fl = self.flavor
        for n, segs in enumerate(self._plan()):
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
            g = ivt.Guest(fl, 'shared%d' % n, '\n'.join(script), devices,
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
            seg.synthetic = (boot + part +
                             (kmemleak.group(0) if kmemleak else '') +
                             exit_line +
                             ('IVT-DMESG-BEGIN\n%sIVT-DMESG-END\n' % dm
                              if tail else ''))
            seg.console = g.console
            seg.elapsed = g.elapsed


class SharedContext(ivt.Context):
    def __init__(self, flavor, workdir, hub):
        super().__init__(flavor, workdir)
        self.hub = hub
        self.ready = False

    def boot(self, name, script, devices=(), **kw):
        g = self.hub.boot(self, name, script, devices, kw)
        self.guests.append(g)
        return g.start()


def run_group(fr, members):
    """Run @members ((name, fn) of FlavorRun @fr) in one guest; report
    each as FlavorRun.run_test would."""
    fl = fr.fl
    workdir = tempfile.mkdtemp(prefix='ivt-%s-shared-' % fl.name)
    hub = Hub(fl, workdir, len(members))
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
    threads = []
    for name, fn in members:
        ctxs[name] = SharedContext(fl, tempfile.mkdtemp(
            prefix='ivt-%s-%s-' % (fl.name, name)), hub)
        t = threading.Thread(target=member, args=(name, fn))
        t.start()
        threads.append(t)
    error = None
    try:
        hub.run()
    except (Exception, SystemExit) as e:       # the shared boot itself
        error = '%s: %s' % (type(e).__name__, e)
    for t in threads:
        t.join()
    wall = time.time() - started
    cpu = sum(getattr(g, 'cpu', 0.0) for g in hub.guests)
    # Thread-seconds per member: its segment plus an equal part of the
    # boot and kmemleak (what durations.json keeps for the scheduler).
    # Thread-seconds per member (what durations.json keeps for the
    # scheduler): the task's wall time, shared out in proportion to the
    # members' segments (guest clock; segments of parallel guests overlap).
    segs = {}
    for seg in hub.segments:
        segs[seg.name] = hub.times.get(seg.index, 0.0)
    per = {name: sum(hub.times.get(seg.index, 0.0)
                     for seg in ctxs[name].guests) for name, _ in members}
    total = sum(per.values())
    ivt.log('%s: %d tests in %d shared guests in %.0fs (QEMU %.0f CPU-s): '
            '%s' % (fl.name, len(members), len(hub.guests), wall, cpu,
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
    if not bad and not fr.args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
