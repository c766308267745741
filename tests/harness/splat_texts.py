# SPDX-License-Identifier: GPL-2.0
"""A test of the harness's own report patterns (ivt.SPLAT_RE, CRASH_RE,
and the stale int3 rule, ivt.stale_int3()).

A pattern that matches no real report lets every boot pass. For each
kind of report the harness must catch, this finds the format string in
the debug kernel's own source tree (so a kernel that rewords a report
fails here, not silently in every boot), fills in its conversions the way
printk would, prefixes the pr_fmt and a timestamp, and checks that the
pattern matches the line. A few lines every clean debug boot prints must
not match. Runs on the host, once per debug flavour (it needs the
flavour's source tree); registers with ivt's @test().
"""

import os
import re
import sys

_main = sys.modules.get('__main__')
if 'ivt' not in sys.modules and \
        os.path.basename(getattr(_main, '__file__', '')) == 'ivt.py':
    sys.modules['ivt'] = _main
import ivt  # noqa: E402

# (source file, pr_fmt prefix, start of the format string, pattern):
# the report lines of the detectors tests/kernel/debug.config turns on.
REPORTS = [
    ('mm/kasan/report.c', '', 'BUG: KASAN: %s in', 'splat'),
    ('lib/ubsan.c', '', 'UBSAN: %s in', 'splat'),
    ('kernel/hung_task.c', '', 'INFO: task %s:%d blocked for more than',
     'splat'),
    ('kernel/watchdog.c', 'watchdog: ', 'BUG: soft lockup - CPU#', 'splat'),
    ('kernel/rcu/tree_stall.h', 'rcu: ', 'INFO: %s detected stalls on',
     'splat'),
    ('kernel/rcu/tree_stall.h', 'rcu: ', 'INFO: %s self-detected stall',
     'splat'),
    ('kernel/rcu/tree_exp.h', 'rcu: ', 'INFO: %s detected expedited stalls',
     'splat'),
    ('mm/kmemleak.c', 'kmemleak: ', 'unreferenced object 0x', 'splat'),
    ('mm/kmemleak.c', 'kmemleak: ', '%d new suspected memory leaks',
     'splat'),
    ('kernel/locking/lockdep.c', '',
     'WARNING: possible circular locking dependency', 'splat'),
    ('kernel/locking/lockdep.c', '', 'WARNING: possible recursive locking',
     'splat'),
    ('kernel/locking/lockdep.c', '', 'WARNING: inconsistent lock state',
     'splat'),
    ('kernel/locking/lockdep.c', '', 'WARNING: bad unlock balance',
     'splat'),
    ('kernel/panic.c', '', 'WARNING: CPU: %d PID: %d at', 'splat'),
    ('kernel/panic.c', '', 'Kernel panic - not syncing: %s', 'splat'),
    ('kernel/sched/core.c', '', 'BUG: sleeping function called from',
     'splat'),
    ('lib/refcount.c', '', 'refcount_t: underflow', 'splat'),
    ('lib/list_debug.c', '', 'list_add corruption.', 'splat'),
    ('arch/x86/mm/fault.c', '', 'BUG: unable to handle page fault',
     'splat'),
    ('arch/x86/mm/fault.c', '', '%s%s[%d]: segfault at', 'crash'),
    ('arch/x86/kernel/traps.c', 'traps: ', '%s[%d] %s%s ip:', 'crash'),
]

# Lines of a clean debug boot (printed by the same kernel): no report.
BENIGN = [
    ('mm/kmemleak.c', 'kmemleak: ',
     'Kernel memory leak detector initialized'),
    ('kernel/rcu/tree_plugin.h', 'rcu: ', 'Hierarchical RCU implementation'),
    ('kernel/locking/lockdep.c', '', 'Lock dependency validator'),
]

SAMPLE = {'s': 'ivshmem_test', 'd': '1234', 'u': '22', 'ld': '60',
          'lu': '60', 'zu': '64', 'lx': 'ffff888004a1c000',
          'x': '1f', 'px': 'ffff888004a1c000',
          'pS': 'ivshmem_probe+0x1c/0x240 [ivshmem]'}


def c_format(text, start):
    """The C string literal in @text that begins with @start, unescaped."""
    m = re.search(r'"(%s(?:[^"\\]|\\.)*)"' % re.escape(start), text)
    if not m:
        return None
    return m.group(1).encode().decode('unicode_escape')


def printk(fmt, prefix):
    """@fmt as printk prints it, conversions filled in, with a timestamp."""
    def conv(m):
        spec = m.group(2)
        return SAMPLE.get(spec, SAMPLE.get(spec[-1], '0'))
    # The crash formats start with a log level (%s): none here.
    if fmt.startswith('%s%s'):
        fmt = fmt[2:]
    line = re.sub(r'%([-#0 +]*\d*(?:\.\d+)?)(p[SsxKB]?|(?:ll|l|z|h)?[a-zA-Z])',
                  conv, fmt.replace('%%', '%')).rstrip('\n')
    return '[   12.345678] ' + prefix + line


def check_patterns(srcdir):
    results = []
    for path, prefix, start, kind in REPORTS:
        try:
            with open(os.path.join(srcdir, path), errors='replace') as f:
                text = f.read()
        except OSError as e:
            results.append((False, 'report text of %s: %s' % (path, e)))
            continue
        fmt = c_format(text, start)
        if fmt is None:
            results.append((False, '%s still prints "%s..."' % (path, start)))
            continue
        line = printk(fmt, prefix)
        pat = ivt.SPLAT_RE if kind == 'splat' else ivt.CRASH_RE
        results.append((bool(pat.search(line)),
                        '%s pattern catches %s: %s' % (kind, path,
                                                       line[15:90])))
    for path, prefix, start in BENIGN:
        with open(os.path.join(srcdir, path), errors='replace') as f:
            fmt = c_format(f.read(), start)
        line = printk(fmt or start, prefix)
        results.append((fmt is not None and not ivt.SPLAT_RE.search(line)
                        and not ivt.CRASH_RE.search(line),
                        'a clean boot line is no report: %s' % line[15:90]))
    return results


def check_int3_rule(srcdir):
    """ivt.stale_int3() against the x86 trap report of the tree at
    @srcdir: its first line for an int3 trap, then a RIP line and a Code
    line as arch/x86/kernel/dumpstack.c prints them."""
    try:
        with open(os.path.join(srcdir, 'arch/x86/kernel/dumpstack.c'),
                  errors='replace') as f:
            text = f.read()
    except OSError as e:
        return [(False, 'x86 trap report texts: %s' % e)]
    m = re.search(r'"((?:Oops: )?%s: %04lx \[#%d\])', text)
    code = re.search(r'"%sCode: %" __stringify\(PROLOGUE_SIZE\) "ph '
                     r'<%02x> %"', text)
    head = '[   12.345678] ' + (m.group(1) if m else '?').replace(
        '%s', 'int3').replace('%04lx', '0000').replace('%d', '1') + \
        ' PREEMPT SMP NOPTI'

    def report(before):
        return '\n'.join([head, '[   12.345679] RIP: 0010:__schedule+0x98/'
                          '0xbf0', '[   12.345680] Code: 84 85 09 00 00 %s '
                          '<1f> 44 00 00' % before])
    ok = bool(m and code and ivt.INT3_RE.search(head))
    return [(ok, 'the int3 trap report of arch/x86/kernel/dumpstack.c is '
             'recognised: %s' % head[15:]),
            (ok and ivt.stale_int3(report('0f')) is not None,
             'an int3 trap where the text holds another byte ("0f <1f>") '
             'is QEMU\'s stale int3'),
            (ok and ivt.stale_int3(report('cc')) is None,
             'an int3 trap on an int3 still in the text ("cc <1f>") is '
             'a report')]


class _Host:
    """Shaped like a Guest for ivt's report (no console of its own)."""
    name = 'splat_patterns'
    console = '-'
    bench = []

    def tail(self, n=60):
        return ''


@ivt.test(flavors=('debug',))
def splat_patterns(ctx):
    """The harness's report patterns against the kernel's report texts."""
    src = os.path.join(ctx.flavor.kdir, 'source')
    return _Host(), check_patterns(src) + check_int3_rule(src)
