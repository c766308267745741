#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make kernel-series: the drivers as a patch series for one kernel tree.

    tests/series/make-series.py --ksrc DIR --out DIR

From this tree's sources (no second copy) it writes a git format-patch
series with a cover letter against the kernel source in --ksrc (Debian's
linux-source-6.12): the guest driver and its KUnit tests in
drivers/virt/ivshmem/, the ACRN Service VM module and its tests in
drivers/virt/ivshmem/host/ (it depends on ACRN_HSM), the uapi headers in
include/uapi/linux/, the documentation in Documentation/virt/ivshmem/ and
Documentation/ABI/testing/, an ioctl-number.rst entry and MAINTAINERS.

compat.h is not in the series and no version conditional is: the
generator evaluates compat.h for the kernel's version (IVSHMEM_KERNEL_GE()
becomes 1 or 0, then Debian's unifdef removes the dead branches) and
inlines what is left, by these rules, checked against every helper:

  - a wrapper that only passes its arguments on (a function whose body is
    "[return] f(args);" or a macro "NAME(args) f(args)") is replaced by
    its callee at every call site;
  - an object-like macro is replaced by its value;
  - a function that returns its only argument is replaced by the argument;
  - a function with an empty body: its call statement is removed (with a
    brace-less "if" and a comment right above it);
  - anything else is kept, with its evaluated body, in the private header
    of the module that uses it (guest/ivshmem_drv.h, host/ivshmem_host_drv.h).

A helper no series file uses (the test modules' ones) is left out. Each
"#include compat.h" becomes the headers its used helpers need. Also:
MODULE_VERSION(IVSHMEM_VERSION) (the out-of-tree version) is dropped,
project paths in comments and documentation become the tree's, and
documentation between ".. kernel-series: leave out" and
".. kernel-series: end" (or the page's end) stays out.

The commits are made in a small git repository holding only the kernel
files the series changes (their blobs are the kernel's, so the patches
apply to the full tree); dates come from the last commit of this tree,
so the same sources give the same patches.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

GUEST_DIR = 'drivers/virt/ivshmem'
HOST_DIR = 'drivers/virt/ivshmem/host'
DOC_DIR = 'Documentation/virt/ivshmem'
MAINT_NAME = 'IVSHMEM INTER-VM SHARED MEMORY DRIVERS'


def die(msg):
    sys.exit('make-series: ' + msg)


def read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def run(cmd, cwd=None, env=None, input=None):
    r = subprocess.run(cmd, cwd=cwd, env=env, input=input, text=True,
                       capture_output=True)
    if r.returncode:
        die('%s failed (%d):\n%s%s' % (' '.join(cmd), r.returncode,
                                      r.stdout, r.stderr))
    return r.stdout


# ------------------------------------------------------------- compat.h --

def kernel_version(ksrc):
    mk = open(os.path.join(ksrc, 'Makefile')).read()
    v = [int(re.search(r'^%s = (\d+)' % k, mk, re.M).group(1))
         for k in ('VERSION', 'PATCHLEVEL', 'SUBLEVEL')]
    return tuple(v)


def evaluate_compat(version):
    """compat.h with IVSHMEM_KERNEL_GE() decided and unifdef applied."""
    text = read('compat.h')
    head, sep, tail = text.partition('#define IVSHMEM_KERNEL_GE')
    if not sep:
        die('compat.h: no IVSHMEM_KERNEL_GE')

    def ge(m):
        return '1' if tuple(map(int, m.groups())) <= version else '0'
    tail = re.sub(r'IVSHMEM_KERNEL_GE\((\d+),\s*(\d+),\s*(\d+)\)', ge, tail)
    with tempfile.NamedTemporaryFile('w', suffix='.h') as f:
        f.write(head + sep + tail)
        f.flush()
        r = subprocess.run(['unifdef', '-k', '-B', f.name], text=True,
                           capture_output=True)
    if r.returncode not in (0, 1):
        die('unifdef: ' + r.stderr)
    return r.stdout


class Helper:
    def __init__(self, name, kind, text, includes, guard):
        self.name = name
        self.kind = kind        # rename, value, identity, drop, keep
        self.text = text        # the definition with its comment
        self.includes = includes
        self.guard = guard      # enclosing #if line or None
        self.target = None


def split_params(text):
    """A parameter list split at its commas outside parentheses."""
    params, depth, cur = [], 0, ''
    for c in text:
        if c == ',' and not depth:
            params.append(cur)
            cur = ''
            continue
        depth += (c == '(') - (c == ')')
        cur += c
    return params + [cur]


def param_name(param):
    """The name a parameter declares, a function pointer's included."""
    m = re.search(r'\(\s*\*\s*(\w+)\s*\)\s*\(', param) or \
        re.search(r'(\w+)\s*$', param)
    return m.group(1)


def parse_compat(evaluated):
    """The helpers of the evaluated compat.h and what becomes of each."""
    lines = evaluated.split('\n')
    helpers = {}
    includes = []
    all_includes = []
    guard = []
    comment = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith('/*'):
            comment = [line]
            while '*/' not in lines[i]:
                i += 1
                comment.append(lines[i])
            i += 1
            continue
        m = re.match(r'#include (<[^>]+>)', line)
        if m:
            if m.group(1) != '<linux/version.h>':
                includes.append(m.group(1))
                if not guard:
                    all_includes.append(m.group(1))
        elif line.startswith('#if') and 'IVSHMEM_COMPAT_H' not in line:
            guard.append(line)
        elif line.startswith('#endif') and guard:
            guard.pop()
        elif line.startswith('#define'):
            m = re.match(r'#define (\w+)(\(([^)]*)\))?\s+(.*)$', line)
            if m and m.group(1) not in ('IVSHMEM_COMPAT_H',
                                        'IVSHMEM_KERNEL_GE'):
                name, args, value = m.group(1), m.group(3), m.group(4)
                h = Helper(name, None, line, includes, None)
                if args is None:
                    h.kind, h.target = 'value', value.strip()
                else:
                    cm = re.match(r'(\w+)\(([^)]*)\)$', value.strip())
                    if cm and cm.group(2).replace(' ', '') == \
                            args.replace(' ', ''):
                        h.kind, h.target = 'rename', cm.group(1)
                    else:
                        die('compat.h: macro %s fits no rule' % name)
                helpers[name] = h
                includes = []
        elif line.startswith('static inline'):
            start = i
            while not lines[i].startswith('{'):
                i += 1
            proto = ' '.join(l.strip() for l in lines[start:i])
            j = i
            while lines[j] != '}':
                j += 1
            body = [l.strip() for l in lines[i + 1:j] if l.strip()]
            name = re.search(r'(\w+)\(', proto).group(1)
            params = [param_name(p)
                      for p in split_params(
                          proto[proto.index('(', proto.index(name)) + 1:
                                proto.rindex(')')])]
            text = '\n'.join(comment + lines[start:j + 1])
            # A kept helper needs every header compat.h included before it.
            h = Helper(name, 'keep', text, includes,
                       guard[-1] if guard else None)
            h.all_includes = list(all_includes)
            if not body:
                h.kind = 'drop'
            elif len(body) == 1:
                cm = re.match(r'(?:return )?(\w+)\(([^()]*)\);$', body[0])
                if body[0] == 'return %s;' % params[0] and len(params) == 1:
                    h.kind = 'identity'
                elif cm and [a.strip() for a in cm.group(2).split(',')] \
                        == params:
                    h.kind, h.target = 'rename', cm.group(1)
            helpers[name] = h
            includes = []
            i = j
        if line.strip() and not line.startswith('/*') and \
                not line.startswith(' *'):
            comment = []
        i += 1
    return helpers


def call_spans(text, name):
    """(start, end) of each call name(...) in text, parentheses balanced."""
    for m in re.finditer(r'\b%s\(' % re.escape(name), text):
        depth, k = 0, m.end() - 1
        while True:
            if text[k] == '(':
                depth += 1
            elif text[k] == ')':
                depth -= 1
                if depth == 0:
                    break
            k += 1
        yield m.start(), k + 1, text[m.end():k]


def col(s):
    """Display width of s, tabs every 8 columns."""
    return len(s.expandtabs(8))


def indent_to(n):
    return '\t' * (n // 8) + ' ' * (n % 8)


def rename_call(text, name, target):
    """Rename calls of name to target; lines continuing a call that were
    aligned with its opening parenthesis stay aligned with it."""
    lines = text.split('\n')
    for i, line in enumerate(lines):
        m = re.search(r'\b%s\(' % re.escape(name), line)
        if not m:
            continue
        old_col = col(line[:m.end()])
        line = line[:m.start()] + target + '(' + line[m.end():]
        lines[i] = line
        new_col = col(line[:m.start() + len(target) + 1])
        depth = line[m.start():].count('(') - line[m.start():].count(')')
        k = i + 1
        while depth > 0 and k < len(lines):
            nxt = lines[k]
            body = nxt.lstrip(' \t')
            if col(nxt[:len(nxt) - len(body)]) == old_col:
                lines[k] = indent_to(new_col) + body
            depth += body.count('(') - body.count(')')
            k += 1
    return '\n'.join(lines)


def inline_compat(path, text, helpers, used_keep):
    """Apply the rules to one source file of the series."""
    inc = re.search(r'^#include "(\.\./)?compat\.h"\n', text, re.M)
    if not inc:
        return text
    needed = []
    for h in helpers.values():
        if not re.search(r'\b%s\b' % h.name, text):
            continue
        if h.kind == 'keep':
            used_keep.setdefault(h.name, set()).add(path)
            continue
        for i in h.includes:
            if i not in needed:
                needed.append(i)
        if h.kind == 'rename':
            text = rename_call(text, h.name, h.target)
        elif h.kind == 'value':
            text = re.sub(r'\b%s\b' % h.name, h.target, text)
        elif h.kind == 'identity':
            while True:
                spans = list(call_spans(text, h.name))
                if not spans:
                    break
                s, e, arg = spans[0]
                text = text[:s] + arg.strip() + text[e:]
        elif h.kind == 'drop':
            lines = text.split('\n')
            out = []
            for line in lines:
                if re.match(r'\s*%s\(.*\);$' % h.name, line):
                    if out and re.match(r'\s*if \(.*\)$', out[-1]):
                        out.pop()
                        if out and re.match(r'\s*/\*.*\*/$', out[-1]):
                            out.pop()
                    continue
                out.append(line)
            text = '\n'.join(out)
    have = set(re.findall(r'^#include (<[^>]+>)', text, re.M))
    new = ''.join('#include %s\n' % i for i in needed if i not in have)
    # The compat.h includes join the file's own <...> block.
    text = text[:inc.start()] + text[inc.end():]
    if new:
        last = list(re.finditer(r'^#include <[^>]+>\n', text, re.M))[-1]
        text = text[:last.end()] + new + text[last.end():]
    text = re.sub(r'\n\n\n+', '\n\n', text)
    return text


def add_kept(header_text, kept, helpers):
    """Append the kept helpers (6.12 bodies) to a private header."""
    if not kept:
        return header_text
    incs = []
    blocks = []
    for h in kept:
        for i in h.all_includes:
            if i not in incs:
                incs.append(i)
        block = h.text
        if h.guard:
            block = '%s\n%s\n#endif' % (h.guard, block)
        for v in helpers.values():
            if v.kind == 'value':
                block = re.sub(r'\b%s\b' % v.name, v.target, block)
        blocks.append(block)
    have = set(re.findall(r'^#include (<[^>]+>)', header_text, re.M))
    new = ''.join('#include %s\n' % i for i in incs if i not in have)
    if new:
        last = list(re.finditer(r'^#include <linux/[^>]+>\n', header_text,
                                re.M))[-1]
        header_text = header_text[:last.end()] + new + \
            header_text[last.end():]
    end = header_text.rindex('#endif')
    return header_text[:end] + '\n\n'.join(blocks) + '\n\n' + \
        header_text[end:]


# ------------------------------------------------------------ the files --

PATHS = [
    # project path prefix -> kernel path prefix (comments, documentation)
    ('Documentation/guest.rst', DOC_DIR + '/guest.rst'),
    ('Documentation/host.rst', DOC_DIR + '/host.rst'),
    ('uapi/linux/', 'include/uapi/linux/'),
    ('kunit/guest_', GUEST_DIR + '/guest_'),
    ('kunit/host_', HOST_DIR + '/host_'),
    ('guest/', GUEST_DIR + '/'),
    ('host/', HOST_DIR + '/'),
]


def kernel_paths(text):
    def sub(m):
        p = m.group(2)
        for a, b in PATHS:
            if p.startswith(a):
                return m.group(1) + b + p[len(a):]
        return m.group(0)
    return re.sub(r'(^|[\s`(\'"])((?:Documentation|uapi|kunit|guest|host)'
                  r'/[\w./-]*)', sub, text, flags=re.M)


def kbuild_objs(path, var):
    """Objects of var (e.g. ivshmem-y) in a project Kbuild file."""
    text = read(path)
    m = re.search(r'^%s\s*:?=\s*((?:.*\\\n)*.*)$' % re.escape(var), text,
                  re.M)
    if not m:
        die('%s: no %s' % (path, var))
    return m.group(1).replace('\\\n', ' ').split()


def source(path, helpers, used_keep):
    text = read(path)
    text = inline_compat(path, text, helpers, used_keep)
    text = re.sub(r'^MODULE_VERSION\(IVSHMEM_VERSION\);\n', '', text,
                  flags=re.M)
    text = text.replace('#include "../host/', '#include "')
    text = kernel_paths(text)
    for bad in ('IVSHMEM_KERNEL_GE', 'LINUX_VERSION_CODE', 'KERNEL_VERSION',
                'compat.h', 'IVSHMEM_VERSION'):
        if bad in text:
            die('%s: "%s" left in the series' % (path, bad))
    for h in helpers.values():
        if h.kind != 'keep' and re.search(r'\b%s\b' % h.name, text):
            die('%s: %s left in the series' % (path, h.name))
    return text


GUEST_KCONFIG = '''\
# SPDX-License-Identifier: GPL-2.0-only
config IVSHMEM
	tristate "Inter-VM shared memory (ivshmem) PCI device driver"
	depends on PCI && MMU && EVENTFD
	depends on DMA_SHARED_BUFFER || !DMA_SHARED_BUFFER
	help
	  Driver for the inter-VM shared memory PCI device (1af4:1110,
	  class RAM) that QEMU (ivshmem-plain, ivshmem-doorbell) and ACRN
	  give a virtual machine. Each device becomes /dev/ivshmemN: mmap
	  with one memory type for every view, read and write, MSI-X
	  interrupts delivered to eventfds, doorbells to other peers, and
	  DMA-BUF export of the shared memory. Removal while in use is safe.

	  See Documentation/virt/ivshmem/guest.rst.

	  To compile this driver as a module, choose M here: the module
	  will be called ivshmem.

config IVSHMEM_KUNIT_TEST
	tristate "KUnit tests for the ivshmem driver" if !KUNIT_ALL_TESTS
	depends on IVSHMEM && KUNIT
	default KUNIT_ALL_TESTS
	help
	  KUnit tests of the ivshmem driver's helpers (range checks,
	  interrupt accounting, the info ioctl's encoding, doorbell values)
	  and of the PCI IDs it binds.

	  For more information on KUnit and unit tests in general, please
	  refer to the KUnit documentation in Documentation/dev-tools/kunit/.

	  If unsure, say N.
'''

HOST_KCONFIG = '''
config IVSHMEM_HOST
	tristate "ivshmem regions for ACRN's Service VM"
	depends on ACRN_HSM
	help
	  Shared memory regions for the ivshmem devices of ACRN's User VMs,
	  run in the Service VM next to the HSM driver: a registry of named
	  regions in ACRN's IVSHMEM_REGION syntax with enforced members,
	  dm-land memory that acrn-dm maps unchanged, hv-land lookups, and
	  doorbells between VMs through eventfds. Userspace reaches it
	  through /dev/ivshmem_host.

	  See Documentation/virt/ivshmem/host.rst.

	  To compile this driver as a module, choose M here: the module
	  will be called ivshmem_host.

config IVSHMEM_HOST_KUNIT_TEST
	tristate "KUnit tests for the ivshmem host module" if !KUNIT_ALL_TESTS
	depends on IVSHMEM_HOST && KUNIT
	default KUNIT_ALL_TESTS
	help
	  KUnit tests of the ivshmem host module: the region syntax, the
	  registry, attach and detach, dm-land memory and doorbells.

	  For more information on KUnit and unit tests in general, please
	  refer to the KUnit documentation in Documentation/dev-tools/kunit/.

	  If unsure, say N.
'''


def objs(names):
    return ' '.join(names)


def guest_files(helpers, used_keep):
    files = {}
    main = kbuild_objs('guest/Kbuild', 'ivshmem-y')
    dmabuf = kbuild_objs('guest/Kbuild',
                         'ivshmem-$(CONFIG_DMA_SHARED_BUFFER) +')
    tests = kbuild_objs('kunit/Kbuild', 'ivshmem_kunit-y')
    for o in main + dmabuf:
        files[GUEST_DIR + '/' + o[:-2] + '.c'] = \
            source('guest/' + o[:-2] + '.c', helpers, used_keep)
    for h in ('ivshmem_drv.h', 'ivshmem_aux.h', 'util.h'):
        files[GUEST_DIR + '/' + h] = source('guest/' + h, helpers, used_keep)
    for o in tests:
        files[GUEST_DIR + '/' + o[:-2] + '.c'] = \
            source('kunit/' + o[:-2] + '.c', helpers, used_keep)
    files['include/uapi/linux/ivshmem.h'] = source('uapi/linux/ivshmem.h',
                                                   helpers, used_keep)
    files[GUEST_DIR + '/Kconfig'] = GUEST_KCONFIG
    files[GUEST_DIR + '/Makefile'] = (
        '# SPDX-License-Identifier: GPL-2.0-only\n'
        'obj-$(CONFIG_IVSHMEM) += ivshmem.o\n'
        'ivshmem-y := %s\n'
        'ivshmem-$(CONFIG_DMA_SHARED_BUFFER) += %s\n\n'
        'obj-$(CONFIG_IVSHMEM_KUNIT_TEST) += ivshmem_kunit.o\n'
        'ivshmem_kunit-y := %s\n' % (objs(main), objs(dmabuf), objs(tests)))
    return files


def host_files(helpers, used_keep):
    files = {}
    main = kbuild_objs('host/Kbuild', 'ivshmem_host-y')
    tests = kbuild_objs('kunit/Kbuild.host', 'ivshmem_host_kunit-y')
    for o in main:
        files[HOST_DIR + '/' + o[:-2] + '.c'] = \
            source('host/' + o[:-2] + '.c', helpers, used_keep)
    files[HOST_DIR + '/ivshmem_host_drv.h'] = \
        source('host/ivshmem_host_drv.h', helpers, used_keep)
    for o in tests:
        files[HOST_DIR + '/' + o[:-2] + '.c'] = \
            source('kunit/' + o[:-2] + '.c', helpers, used_keep)
    files[HOST_DIR + '/host_test.h'] = source('kunit/host_test.h', helpers,
                                              used_keep)
    files['include/uapi/linux/ivshmem_host.h'] = \
        source('uapi/linux/ivshmem_host.h', helpers, used_keep)
    files[HOST_DIR + '/Makefile'] = (
        '# SPDX-License-Identifier: GPL-2.0-only\n'
        'obj-$(CONFIG_IVSHMEM_HOST) += ivshmem_host.o\n'
        'ivshmem_host-y := %s\n\n'
        'obj-$(CONFIG_IVSHMEM_HOST_KUNIT_TEST) += ivshmem_host_kunit.o\n'
        'ivshmem_host_kunit-y := %s\n'
        '# HSM\'s drivers/virt/acrn/acrn_drv.h (hsm_layout_test).\n'
        'CFLAGS_host_region_test.o += -I$(srctree)/drivers/virt/acrn '
        '-DIVH_HAVE_ACRN_DRV_H\n'
        % (objs(main), objs(tests)))
    return files


def doc(path):
    """A page of Documentation/ for the tree: the parts between the
    comments ".. kernel-series: leave out" and ".. kernel-series: end"
    (or the end of the page) are about this project's tests and tools
    and stay out."""
    out, skip = [], False
    for line in read(path).split('\n'):
        if line.startswith('.. kernel-series: leave out'):
            skip = True
        elif line.startswith('.. kernel-series: end'):
            skip = False
        elif not skip:
            out.append(line)
    return kernel_paths('\n'.join(out).rstrip('\n') + '\n')


DOC_INDEX = '''\
.. SPDX-License-Identifier: GPL-2.0

===================================
Inter-VM shared memory (ivshmem)
===================================

.. toctree::
   :maxdepth: 2

%s
'''

# --------------------------------------------------- edits of the tree --


def edit_virt_kconfig(text):
    line = 'source "drivers/virt/ivshmem/Kconfig"\n'
    anchor = 'source "drivers/virt/acrn/Kconfig"\n'
    if anchor not in text:
        die('drivers/virt/Kconfig: no ACRN line')
    return text.replace(anchor, anchor + '\n' + line)


def edit_virt_makefile(line, after):
    def edit(text):
        m = re.search(r'^%s.*\n' % re.escape(after), text, re.M)
        if not m:
            die('drivers/virt/Makefile: no %s line' % after)
        return text[:m.end()] + line + text[m.end():]
    return edit


def edit_ioctl_number(rows):
    def edit(text):
        lines = text.split('\n')
        for k, line in enumerate(lines):
            if re.match(r'0xB9 ', line):
                die('ioctl-number.rst: 0xB9 is taken: ' + line)
        # After the last 0xB8 row (and its blank line), before 0xC0.
        idx = max(k for k, l in enumerate(lines) if l.startswith('0xB8'))
        for r in reversed(rows):
            lines.insert(idx + 1, r)
        return '\n'.join(lines)
    return edit


def edit_ioctl_more(row, after_prefix):
    def edit(text):
        lines = text.split('\n')
        idx = max(k for k, l in enumerate(lines) if l.startswith(after_prefix))
        lines.insert(idx + 1, row)
        return '\n'.join(lines)
    return edit


def edit_virt_index(entry):
    def edit(text):
        anchor = '   acrn/index\n'
        if anchor not in text:
            die('Documentation/virt/index.rst: no acrn/index')
        return text.replace(anchor, anchor + '   %s\n' % entry)
    return edit


def maintainers_entry(flines):
    return '\n'.join([MAINT_NAME,
                      'M:\tivshmem maintainers <%s>' % maint_email(),
                      'L:\tlinux-kernel@vger.kernel.org',
                      'S:\tMaintained'] + sorted(flines)) + '\n'


def maint_email():
    return os.environ.get('SERIES_EMAIL') or run(
        ['git', 'config', 'user.email'], cwd=ROOT).strip()


def edit_maintainers_new(flines):
    def edit(text):
        lines = text.split('\n')
        heads = [k for k in range(len(lines) - 1)
                 if re.match(r'[A-Z0-9]', lines[k]) and
                 re.match(r'[A-Z]:\t', lines[k + 1]) and
                 (k == 0 or lines[k - 1] == '')]
        prev = None
        for k in heads:
            if lines[k] > MAINT_NAME and prev is not None and \
                    lines[prev] < MAINT_NAME:
                entry = maintainers_entry(flines).rstrip('\n').split('\n')
                lines[k:k] = entry + ['']
                return '\n'.join(lines)
            prev = k
        die('MAINTAINERS: no place for the entry')
    return edit


def edit_maintainers_add(flines):
    def edit(text):
        start = text.index('\n' + MAINT_NAME + '\n') + 1
        end = text.index('\n\n', start)
        entry = text[start:end].split('\n')
        head = [l for l in entry if not l.startswith('F:')]
        fl = sorted([l for l in entry if l.startswith('F:')] + flines)
        return text[:start] + '\n'.join(head + fl) + text[end:]
    return edit


# ------------------------------------------------------------ the series --

COVER_SUBJECT = 'virt: ivshmem: drivers for inter-VM shared memory'


def cover_body(kver, pkg):
    return '''\
QEMU (ivshmem-plain, ivshmem-doorbell) and ACRN give virtual machines a
PCI device, 1af4:1110 of class RAM, whose BAR2 is memory shared with
other VMs or the host. Linux has no driver for it: users bind
uio_pci_generic and map the BAR through sysfs, or use vfio-pci's
no-IOMMU mode, or Looking Glass' out-of-tree kvmfr. This series adds

 - ivshmem.ko (drivers/virt/ivshmem/), the guest driver: /dev/ivshmemN
   with mmap of BAR2 in one memory type for every view (write-back
   where the platform grants it, chosen per device in sysfs; one fault
   per 2 MiB, no struct pages), read/write,
   MSI-X interrupts delivered to eventfds per vector, a wait ioctl and
   poll(), doorbells to other peers, DMA-BUF export, and removal while
   in use that revokes every mapping;
 - ivshmem_host.ko (drivers/virt/ivshmem/host/, depends on ACRN_HSM),
   for ACRN's Service VM: a registry of named regions in ACRN's own
   IVSHMEM_REGION syntax with enforced members, dm-land memory that
   acrn-dm maps unchanged through HSM, hv-land lookups, and doorbells
   between VMs through the eventfds their device models registered;
 - KUnit suites for both, Documentation/virt/ivshmem/ and ABI entries.

What they give that the alternatives do not:

 - uio_pci_generic: INTx only, which ivshmem-doorbell and ACRN do not
   use (no MSI-X, so no doorbell either way), and the shared memory
   mapped through sysfs resource2 (uncached) or resource2_wc, never
   write-back.
 - vfio-pci: a whole device-assignment stack (IOMMU group, container,
   no-IOMMU mode tainting the kernel in guests without a vIOMMU) to
   reach one BAR and a few interrupts; its BAR mappings are uncached
   unless the platform says otherwise, and there is no ivshmem doorbell
   or peer model.
 - kvmfr (Looking Glass, out of tree): gives BAR2 struct pages with
   devm_memremap_pages(), so page references outlive removal; no
   interrupts or doorbells; QEMU only.

Figures from the project's benchmark (QEMU TCG, 2-CPU EPYC, 6.1 guest;
TCG measures software overhead only): mmap of /dev/ivshmemN copies at
0.9-1.2x guest RAM speed, as sysfs resource2 does; a doorbell round trip
between two guests costs 452 us p50 against 200 us for an eventfd round
trip between two threads; touching 2 MiB of a mapping costs one page
fault.

The drivers are maintained out of tree for 6.1 and 6.12 with a
compatibility header; this series is generated from those sources, with
the version conditionals evaluated away, for

  %s (Debian's linux-source-6.12 %s).

Each patch builds on its own; the series is built with W=1 and sparse
and checked with checkpatch --strict.
''' % ('.'.join(map(str, kver)), pkg)


def series(helpers):
    used_keep = {}
    guest = guest_files(helpers, used_keep)
    host = host_files(helpers, used_keep)
    # Helpers kept: into the private header of the module using them.
    for mod, files, header in (('guest', guest, GUEST_DIR + '/ivshmem_drv.h'),
                               ('host', host, HOST_DIR + '/ivshmem_host_drv.h')):
        kept = [helpers[n] for n, paths in sorted(used_keep.items())
                if any(p.startswith(mod + '/') for p in paths)]
        files[header] = add_kept(files[header], kept, helpers)
    guest_doc = {DOC_DIR + '/guest.rst': doc('Documentation/guest.rst'),
                 'Documentation/ABI/testing/sysfs-class-ivshmem':
                 read('Documentation/ABI/testing/sysfs-class-ivshmem'),
                 'Documentation/ABI/testing/sysfs-bus-pci-drivers-ivshmem':
                 read('Documentation/ABI/testing/sysfs-bus-pci-drivers-ivshmem')}
    host_doc = {DOC_DIR + '/host.rst': doc('Documentation/host.rst'),
                'Documentation/ABI/testing/sysfs-module-ivshmem_host':
                read('Documentation/ABI/testing/sysfs-module-ivshmem_host')}
    host[GUEST_DIR + '/Kconfig'] = GUEST_KCONFIG + HOST_KCONFIG

    patches = [
        dict(subject='virt: ivshmem: add a driver for the ivshmem PCI device',
             body='''\
QEMU's ivshmem-plain and ivshmem-doorbell and ACRN's dm-land and hv-land
devices (1af4:1110, class RAM) give a VM memory shared with other VMs.
Add a driver that makes each one /dev/ivshmemN: mmap of the shared memory
(BAR2) with one memory type for every view, on x86 and arm64 alike,
filled a page table per fault, read/write, an info ioctl and sysfs
attributes, MSI-X interrupts delivered to eventfds per vector, a wait
ioctl and poll(), doorbells to other peers and DMA-BUF export. Removal
while the device is in use revokes every mapping.

Only class 0x0500 devices are bound: 1af4:1110 devices that declare a
protocol in their class code belong to the drivers of that protocol.
KUnit tests cover the helpers and the PCI ID match.''',
             files=guest,
             edits={'drivers/virt/Kconfig': edit_virt_kconfig,
                    'drivers/virt/Makefile': edit_virt_makefile(
                        'obj-$(CONFIG_IVSHMEM)\t\t+= ivshmem/\n',
                        'obj-$(CONFIG_ACRN_HSM)'),
                    'Documentation/userspace-api/ioctl/ioctl-number.rst':
                    edit_ioctl_number([
                        '0xB9  00-1F  uapi/linux/ivshmem.h'
                        + ' ' * 42 + 'ivshmem guest driver', '']),
                    'MAINTAINERS': edit_maintainers_new([
                        'F:\t' + GUEST_DIR + '/',
                        'F:\tinclude/uapi/linux/ivshmem.h'])}),
        dict(subject='Documentation: virt: ivshmem: document the guest driver',
             body='''\
The device node, its file operations and ioctls, interrupts and
doorbells, the memory model, removal, and how to run the driver on QEMU
and ACRN; the sysfs attributes in Documentation/ABI.''',
             files=dict(guest_doc, **{DOC_DIR + '/index.rst':
                                      DOC_INDEX % '   guest'}),
             edits={'Documentation/virt/index.rst':
                    edit_virt_index('ivshmem/index'),
                    'MAINTAINERS': edit_maintainers_add([
                        'F:\tDocumentation/ABI/testing/sysfs-class-ivshmem',
                        'F:\tDocumentation/ABI/testing/sysfs-bus-pci-drivers-ivshmem',
                        'F:\t' + DOC_DIR + '/'])}),
        dict(subject='virt: ivshmem: add a module for ACRN\'s Service VM',
             body='''\
ACRN's ivshmem regions are named in its scenario and device model
arguments, but nothing in the Service VM keeps them: dm-land memory is
a POSIX shm file per acrn-dm, hv-land regions are fixed at build time,
and no one rings a doorbell between VMs. Add ivshmem_host, next to the
HSM driver it extends: a registry of named regions in ACRN's
IVSHMEM_REGION syntax with enforced members, dm-land memory that acrn-dm
maps unchanged through HSM, hv-land lookups, and doorbells between VMs
through the eventfds their device models registered with HSM.

KUnit tests cover the region syntax, the registry, attach and detach,
the memory's lifetime and the doorbells.''',
             files=host,
             edits={'drivers/virt/Makefile': edit_virt_makefile(
                        'obj-$(CONFIG_IVSHMEM_HOST)\t+= ivshmem/host/\n',
                        'obj-$(CONFIG_IVSHMEM)'),
                    'Documentation/userspace-api/ioctl/ioctl-number.rst':
                    edit_ioctl_more(
                        '0xB9  20-3F  uapi/linux/ivshmem_host.h'
                        + ' ' * 37 + 'ivshmem host module (ACRN)',
                        '0xB9'),
                    'MAINTAINERS': edit_maintainers_add([
                        'F:\tinclude/uapi/linux/ivshmem_host.h'])}),
        dict(subject='Documentation: virt: ivshmem: document the host module',
             body='''\
The region registry and its syntax, dm-land memory and its lifetime,
hv-land lookups, doorbells, the ioctls and the filesystem acrn-dm maps
from; the module parameters in Documentation/ABI.''',
             files=dict(host_doc, **{DOC_DIR + '/index.rst':
                                     DOC_INDEX % '   guest\n   host'}),
             edits={'MAINTAINERS': edit_maintainers_add([
                 'F:\tDocumentation/ABI/testing/sysfs-module-ivshmem_host'])}),
    ]
    return patches


def git(repo, *args, env=None):
    return run(['git', '-C', repo] + list(args), env=env)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--ksrc', required=True, help='kernel source tree')
    ap.add_argument('--out', required=True, help='output directory')
    ap.add_argument('--pkg', default='', help='source package version')
    a = ap.parse_args()
    if not shutil.which('unifdef'):
        die('unifdef missing (apt-get install unifdef)')

    kver = kernel_version(a.ksrc)
    helpers = parse_compat(evaluate_compat(kver))
    patches = series(helpers)

    env = dict(os.environ)
    date = run(['git', 'log', '-1', '--format=%cI'], cwd=ROOT).strip() \
        if os.path.isdir(os.path.join(ROOT, '.git')) or \
        os.path.isfile(os.path.join(ROOT, '.git')) else '2026-01-01T00:00:00Z'
    name = env.get('SERIES_NAME') or run(['git', 'config', 'user.name'],
                                         cwd=ROOT).strip()
    email = maint_email()
    env.update(GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email,
               GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date,
               GIT_CONFIG_NOSYSTEM='1', HOME=tempfile.gettempdir())

    work = tempfile.mkdtemp(prefix='ivshmem-series-')
    try:
        repo = os.path.join(work, 'tree')
        git(work, 'init', '-q', repo)
        touched = sorted({p for patch in patches for p in patch['edits']})
        for p in touched:
            os.makedirs(os.path.dirname(os.path.join(repo, p)), exist_ok=True)
            shutil.copyfile(os.path.join(a.ksrc, p), os.path.join(repo, p))
        git(repo, 'add', '-A')
        git(repo, 'commit', '-q', '-m', 'base: linux-source %s' % a.pkg,
            env=env)
        base = git(repo, 'rev-parse', 'HEAD').strip()
        for patch in patches:
            for p, text in patch['files'].items():
                full = os.path.join(repo, p)
                if os.path.exists(os.path.join(a.ksrc, p)):
                    die('%s exists in the kernel tree' % p)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, 'w') as f:
                    f.write(text)
            for p, edit in patch['edits'].items():
                full = os.path.join(repo, p)
                with open(full) as f:
                    text = f.read()
                with open(full, 'w') as f:
                    f.write(edit(text))
            git(repo, 'add', '-A')
            msg = '%s\n\n%s\n\nSigned-off-by: %s <%s>\n' % (
                patch['subject'], patch['body'], name, email)
            run(['git', '-C', repo, 'commit', '-q', '-F', '-'], env=env,
                input=msg)
        if os.path.isdir(a.out):
            shutil.rmtree(a.out)
        os.makedirs(a.out)
        git(repo, 'format-patch', '-q', '--cover-letter', '--no-signature',
            '--zero-commit', '--stat=72', '-o', os.path.abspath(a.out),
            base + '..HEAD', env=env)
        cover = os.path.join(a.out, '0000-cover-letter.patch')
        with open(cover) as f:
            text = f.read()
        text = text.replace('*** SUBJECT HERE ***', COVER_SUBJECT)
        text = text.replace('*** BLURB HERE ***', cover_body(kver, a.pkg))
        with open(cover, 'w') as f:
            f.write(text)
        stat = git(repo, 'diff', '--stat=72', base, 'HEAD')
    finally:
        shutil.rmtree(work)
    print('make-series: %d patches in %s' % (len(patches), a.out))
    print(stat.rstrip())


if __name__ == '__main__':
    main()
