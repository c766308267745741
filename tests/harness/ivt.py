#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ivt: the QEMU test harness of the ivshmem module pair.

Builds the modules and the guest-side test programs for each kernel
flavour, packs them into a busybox initramfs, boots QEMU guests with the
ivshmem devices a test asks for, runs the test's script inside, and turns
what the guest prints into results:

* "ok - ..." / "not ok - ..." lines from the guest scripts,
* KUnit results, parsed by the kernel tree's kunit.py,
* checks the harness makes on the host (backing files after the guest),
* one "no kernel splat" check per boot: any KASAN, lockdep, WARNING, BUG,
  Oops or kmemleak report in the guest's log fails it.

It ends with one line "N passed, N failed" and exits non-zero on any
failure. QEMU uses TCG unless QEMU_ACCEL=kvm is set.
"""

import argparse
import hashlib
import json
import lzma
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BUILD = os.environ.get('IVT_BUILD', os.path.join(ROOT, 'build'))
HARNESS = os.path.dirname(os.path.abspath(__file__))
# Flavours run in threads: whole lines, one writer at a time.
PRINT_LOCK = threading.Lock()

# Kernel reports that fail a boot. tests/harness/splat_texts.py checks
# this against the report texts of the kernel tree itself.
SPLAT_RE = re.compile(
    r'BUG: |WARNING: |KASAN|Oops|general protection fault|kernel BUG|'
    r'Kernel panic|unreferenced object|suspected memory leak|'
    r'possible recursive locking|circular locking|inconsistent lock state|'
    r'INFO: task .* blocked for more than|UBSAN: |'
    r'INFO: \S+ (self-)?detected (expedited )?stalls?|'
    r'rcu: .*[Ss]tall|watchdog: BUG|hard LOCKUP|'
    r'Call Trace:|refcount_t: |list_(add|del) corruption')
# A guest program killed by the kernel (show_unhandled_signals).
CRASH_RE = re.compile(r'\S+\[\d+\]: segfault at |traps: \S+\[\d+\] ')
RESULT_RE = re.compile(r'^(not ok|ok|skip) - (.*)$')
# The kernel matrix of a plain make check, in the order it runs: NAME is
# SERIES or SERIES-KIND; a test names the kinds (or flavours) it runs on.
# 6.12-arm64 is Debian's arm64 6.12 image on QEMU's arm64 virt machine.
# One kernel of each kind, Debian's stock kernel of each series: on the
# 2-core machines a cold make check must stay under 45 minutes (README,
# "How long it takes"); a debug kernel's cold build and tests cost about
# 20 of them, any other flavour about 4.
FLAVORS = ('6.12-debug', '6.1', '6.12', '6.12-rt', '6.12-arm64')
KINDS = ('debug', 'stock', 'rt')
# Flavours that run only when named (--flavor NAME or its kind): the 6.1
# debug kernel and 6.1's PREEMPT_RT kernel, which CI adds (make lint has
# built that debug kernel there), and an arm64 debug kernel; "default"
# names the FLAVORS.
OPT_IN = ('6.1-debug', '6.1-rt', '6.12-arm64-debug')

# The kinds of a test of the guest driver that does not depend on x86.
ANY_ARCH = KINDS + ('arm64', 'arm64-debug')
# Where Debian's arm64 packages are unpacked (tests/deps.sh).
CACHE = os.environ.get('IVSHMEM_CACHE', '/var/cache/ivshmem-test')
ARM64_STOCK = os.path.join(CACHE, 'debian-arm64')
CROSS = 'aarch64-linux-gnu-'
# A result is (status, description): status True (passed), False
# (failed) or SKIP (could not run here, said why).
SKIP = None


def parse_results(text):
    """The "ok"/"not ok"/"skip" lines of @text as results."""
    out = []
    for line in text.splitlines():
        m = RESULT_RE.match(line.strip())
        if m:
            out.append(({'ok': True, 'not ok': False,
                         'skip': SKIP}[m.group(1)], m.group(2)))
    return out


def log(msg):
    with PRINT_LOCK:
        print('[ivt] ' + msg, flush=True)


def run(cmd, **kw):
    """Run a command, raising with its output on failure."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, **kw)
    if p.returncode:
        sys.stdout.write(p.stdout[-6000:])
        raise RuntimeError('command failed (%d): %s' %
                           (p.returncode, ' '.join(cmd)))
    return p.stdout


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class Flavor:
    """A kernel to test on: its image, its build tree and its abilities.

    @kind is "debug" (built here: KUnit, KASAN, lockdep, kmemleak),
    "stock" or "rt" (Debian's images, PREEMPT_RT for "rt"), "arm64"
    (Debian's arm64 image, modules cross-built) or "arm64-debug" (an
    arm64 debug kernel built here); @series is "6.1" or "6.12". Tests
    name the kinds (or flavour names) they run on.
    """

    def __init__(self, name, kernel, kdir, kind, series):
        self.name = name
        self.kernel = kernel
        self.kdir = kdir
        self.kind = kind
        self.series = series
        self.debug = kind in ('debug', 'arm64-debug')
        self.arm64 = kind in ('arm64', 'arm64-debug')
        # make's arguments for building modules against kdir.
        self.make_args = ['ARCH=arm64', 'CROSS_COMPILE=' + CROSS] \
            if self.arm64 else []
        # Where the image's own modules are (Guest kmods), stock kinds.
        self.modroot = ARM64_STOCK if self.arm64 else '/'
        self.out = os.path.join(BUILD, name)
        self.initrd = None
        self.release = None

    def build(self, progs):
        """Build the modules W=1 against kdir and pack the initramfs."""
        src = os.path.join(self.out, 'src')
        os.makedirs(src, exist_ok=True)
        run(['rsync', '-a', '--delete',
             '--exclude', '/build', '--exclude', '/.git',
             '--exclude', '/tests', '--exclude', '/samples',
             '--exclude', '*.o', '--exclude', '*.ko', '--exclude', '*.mod',
             '--exclude', '*.mod.c', '--exclude', '.*.cmd',
             '--exclude', 'Module.symvers', '--exclude', 'modules.order',
             ROOT + '/', src + '/'])
        log('building modules for %s against %s' % (self.name, self.kdir))
        out = run(['make', '-C', self.kdir, 'M=' + src, 'W=1'] +
                  self.make_args + ['modules'])
        # The test-only modules (tests/ is not part of the module tree):
        # built against the same kernel, shipped in the same initramfs.
        for sub in TEST_MODULES:
            dst = os.path.join(src, sub)
            os.makedirs(dst, exist_ok=True)
            run(['rsync', '-a', '--delete', '--exclude', '*.o',
                 '--exclude', '*.ko', '--exclude', '.*.cmd',
                 os.path.join(ROOT, sub) + '/', dst + '/'])
            out += run(['make', '-C', self.kdir, 'M=' + dst, 'W=1'] +
                       self.make_args + ['modules'])
        warnings = [ln for ln in out.splitlines()
                    if 'warning:' in ln or 'error:' in ln]
        kos = sorted(os.path.join(d, f) for d, _, fs in os.walk(src)
                     for f in fs if f.endswith('.ko'))
        with open(os.path.join(self.kdir, 'include', 'generated',
                               'utsrelease.h')) as f:
            self.release = f.read().split('"')[1]
        self.initrd = make_initramfs(self, kos, progs[self.arch()])
        if not self.debug and not self.arm64:
            self.kernel = pvh_kernel(self.kernel, self.out)
        return warnings, [os.path.basename(k) for k in kos]

    def arch(self):
        """The guest's architecture: "x86_64" or "arm64"."""
        return 'arm64' if self.arm64 else 'x86_64'


def pvh_kernel(vmlinuz, out):
    """The ELF vmlinux inside Debian's @vmlinuz when QEMU can boot it
    directly (its PVH entry note), else @vmlinuz.

    Under TCG the bzImage's own decompressor (XZ on 6.1, zstd on 6.12)
    took 6-14 s of every stock and RT boot; QEMU loads the ELF in
    milliseconds and enters it through PVH (same SeaBIOS, ACPI, E820,
    MTRRs and PAT; the kernel is the same, only its decompression stub
    does not run). IVT_PVH=0, or IVT_QEMU_EXTRA with -bios (PVH needs
    SeaBIOS), keeps the bzImage. The result is kept in @out, keyed by the
    image's path, size and time.
    """
    if os.environ.get('IVT_PVH') == '0' or \
            '-bios' in os.environ.get('IVT_QEMU_EXTRA', ''):
        return vmlinuz
    st = os.stat(vmlinuz)
    key = '%s %d %d' % (vmlinuz, st.st_size, st.st_mtime_ns)
    elf, stamp = os.path.join(out, 'vmlinux'), os.path.join(out, 'vmlinux.key')
    try:
        with open(stamp) as f:
            if f.read() == key:
                return elf
    except OSError:
        pass
    with open(vmlinuz, 'rb') as f:
        img = f.read()
    # The boot protocol's setup header: where the compressed payload is.
    setup = ((img[0x1f1] or 4) + 1) * 512
    off, length = struct.unpack_from('<II', img, 0x248)
    # The kernel appends the uncompressed size (4 bytes) to the payload.
    payload = img[setup + off:setup + off + length - 4]
    try:
        if payload[:6] == b'\xfd7zXZ\x00':
            data = lzma.LZMADecompressor().decompress(payload)
        elif payload[:4] == b'\x28\xb5\x2f\xfd':
            data = subprocess.run(['zstd', '-dcq'], input=payload,
                                  stdout=subprocess.PIPE, check=True).stdout
        elif payload[:2] == b'\x1f\x8b':
            data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(payload)
        else:
            raise ValueError('payload format %s' % payload[:6].hex())
        with open(elf + '.tmp', 'wb') as f:
            f.write(data)
        # XEN_ELFNOTE_PHYS32_ENTRY (18): the PVH entry point.
        notes = run(['readelf', '-n', elf + '.tmp'])
        if not data.startswith(b'\x7fELF') or \
                not re.search(r'Xen\s+0x[0-9a-f]+\s.*\(0x00000012\)', notes):
            raise ValueError('no PVH entry note')
    except (OSError, ValueError, lzma.LZMAError, zlib.error,
            subprocess.CalledProcessError, RuntimeError) as e:
        log('%s: booting the bzImage (no PVH vmlinux: %s)' % (vmlinuz, e))
        return vmlinuz
    os.rename(elf + '.tmp', elf)
    with open(stamp, 'w') as f:
        f.write(key)
    return elf


# Test-only kernel modules, each its own Kbuild directory.
TEST_MODULES = ['tests/dmabuf_importer', 'tests/hsm_double', 'tests/ptwalk']

# Guest-side programs: (source, name in the guest's /usr/bin, further
# sources linked in).
CHAN_LIB = 'samples/ivshmem-chan/ivshmem-chan.c'
GUEST_PROGS = [
    ('tests/progs/ivshmem_test.c', 'ivshmem_test'),
    ('tests/progs/ivshmem_doorbell.c', 'ivshmem_doorbell'),
    ('tests/progs/ivshmem_dmabuf.c', 'ivshmem_dmabuf'),
    ('tests/progs/ivshmem_netcat.c', 'ivshmem_netcat'),
    ('tests/progs/ivshmem_nethostile.c', 'ivshmem_nethostile'),
    ('tests/host/e2e_host.c', 'ivshmem-host-e2e'),
    ('tests/host/bench_region.c', 'bench_region'),
    ('tests/host/hsm_pins.c', 'ivshmem-host-pins'),
    ('samples/ivshmem-admin/ivshmem-admin.c', 'ivshmem-admin'),
    ('samples/ivshmem-msg/ivshmem-msg.c', 'ivshmem-msg'),
    ('tests/host/acrn_dm_fs.c', 'ivshmem-acrn-dm'),
    ('samples/ivshmem-chan/operator.c', 'ivshmem-chan-operator', CHAN_LIB),
    ('samples/ivshmem-chan/responder.c', 'ivshmem-chan-responder', CHAN_LIB),
    ('tests/progs/ivshmem_chan_fuzz.c', 'ivshmem_chan_fuzz', CHAN_LIB),
    ('tests/progs/ivshmem_bench.c', 'ivshmem_bench'),
    ('tests/progs/ivshmem_vfio_bench.c', 'ivshmem_vfio_bench'),
    ('tests/progs/ivshmem_rwfault.c', 'ivshmem_rwfault'),
]
GUEST_SCRIPTS = [('tests/host/e2e.sh', 'host_e2e.sh')]
SERVER = os.path.join(BUILD, 'ivshmem-server')


def build_progs(arches=('x86_64',)):
    """Build the static guest-side programs for each of @arches (x86_64,
    arm64: cross-built) and the host-side server; return the programs
    per architecture."""
    every = {}
    for arch in arches:
        every[arch] = build_guest_progs(arch)
    run(['gcc', '-O2', '-Wall', '-Wextra', '-Werror', '-o', SERVER,
         os.path.join(ROOT, 'samples', 'ivshmem-server', 'ivshmem-server.c')])
    return every


def build_guest_progs(arch):
    """The static guest-side programs and scripts for @arch."""
    out = os.path.join(BUILD, 'progs' if arch == 'x86_64' else
                       'progs-' + arch)
    cc = 'gcc' if arch == 'x86_64' else CROSS + 'gcc'
    os.makedirs(out, exist_ok=True)
    progs = []
    for src, name, *more in GUEST_PROGS:
        src = os.path.join(ROOT, src)
        if not os.path.exists(src):
            continue
        exe = os.path.join(out, name)
        run([cc, '-static', '-O2', '-Wall', '-Wextra', '-Werror',
             '-pthread', '-I' + os.path.join(ROOT, 'uapi'), '-o', exe, src] +
            [os.path.join(ROOT, m) for m in more])
        progs.append(exe)
    for src, name in GUEST_SCRIPTS:
        if os.path.exists(os.path.join(ROOT, src)):
            dst = os.path.join(out, name)
            shutil.copy(os.path.join(ROOT, src), dst)
            os.chmod(dst, 0o755)
            progs.append(dst)
    return progs


def cpio_gz(stage, dest):
    """Pack directory @stage into a gzipped newc cpio archive @dest."""
    files = subprocess.run(['find', '.', '-mindepth', '1'], cwd=stage,
                           stdout=subprocess.PIPE, check=True).stdout
    with open(dest, 'wb') as f:
        cpio = subprocess.Popen(['cpio', '-o', '-H', 'newc', '--quiet',
                                 '-R', '0:0'], cwd=stage,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        gz = subprocess.Popen(['gzip', '-1'], stdin=cpio.stdout, stdout=f)
        cpio.stdout.close()
        cpio.stdin.write(files)
        cpio.stdin.close()
        if cpio.wait() or gz.wait():
            raise RuntimeError('cpio failed for ' + stage)


def make_initramfs(flavor, kos, progs):
    stage = os.path.join(flavor.out, 'initramfs')
    shutil.rmtree(stage, ignore_errors=True)
    for d in ('bin', 'usr/bin', 'lib/ivshmem', 'proc', 'sys', 'dev', 'tmp',
              'etc'):
        os.makedirs(os.path.join(stage, d))
    # Debian's busybox-static of the guest's architecture (the same
    # version: the host's lists the applets).
    shutil.copy(os.path.join(CACHE, 'busybox-arm64', 'bin', 'busybox')
                if flavor.arm64 else '/bin/busybox',
                os.path.join(stage, 'bin', 'busybox'))
    # The applet links, made here rather than by "busybox --install" in
    # every guest (about a second of each debug boot under TCG).
    for applet in run(['/bin/busybox', '--list']).split():
        link = os.path.join(stage, 'bin', applet)
        if not os.path.lexists(link):
            os.symlink('busybox', link)
    shutil.copy(os.path.join(HARNESS, 'guest_init.sh'),
                os.path.join(stage, 'init'))
    os.chmod(os.path.join(stage, 'init'), 0o755)
    shutil.copy(os.path.join(HARNESS, 'lib.sh'),
                os.path.join(stage, 'lib', 'ivt.sh'))
    for k in kos:
        shutil.copy(k, os.path.join(stage, 'lib', 'ivshmem'))
    for p in progs:
        shutil.copy(p, os.path.join(stage, 'usr', 'bin'))
    dest = os.path.join(flavor.out, 'initramfs.cpio.gz')
    cpio_gz(stage, dest)
    return dest


class Guest:
    """One QEMU guest run: boots, runs a script, collects the console."""

    def __init__(self, flavor, name, script, devices=(), mem=None, smp=2,
                 timeout=300, workdir=None, append='', kmods=(),
                 viommu=False, pass_fds=()):
        self.flavor = flavor
        self.name = name
        self.script = script
        self.devices = list(devices)
        # Debug kernels get less: kmemleak's two scans after every test
        # read every struct page and the whole KASAN shadow (a memblock
        # object kmemleak scans), and boot sets both up. 256 MiB halves
        # boot and scans against 512 MiB; 128 MiB runs out at boot.
        self.mem = mem or os.environ.get('IVT_GUEST_MEM') or \
            ('256M' if flavor.debug else '1G')
        self.smp = smp
        self.timeout = timeout
        self.append = append        # extra kernel command line
        # Modules of the flavour's own kernel, e.g. 'drivers/block/brd',
        # copied (uncompressed) to /lib/kmods/ in the guest: from Debian's
        # image, or from a debug kernel's build tree.
        self.kmods = list(kmods)
        # An emulated IOMMU (q35 and intel-iommu with interrupt
        # remapping, intel_iommu=on): what vfio-pci's type1 backend needs
        # on kernels without CONFIG_VFIO_NOIOMMU (Debian's). make bench.
        self.viommu = viommu
        # File descriptors QEMU inherits at the same numbers, for devices
        # that name one (make bench: "-netdev socket,fd=N", one end of a
        # socketpair joining two guests' NICs).
        self.pass_fds = tuple(pass_fds)
        self.workdir = workdir or tempfile.mkdtemp(prefix='ivt-')
        self.console = os.path.join(self.workdir, name + '.console')
        self.retried = False
        # Set when the console shows LOST_TIMER_RE: the line.
        self.lost_timer = None
        # Set when the kernel trapped on an int3 that its text does not
        # hold (stale_int3()): what the report says.
        self.stale_int3 = None
        self.proc = None
        # start() makes these anew; a guest never started has ended.
        self._waiter = None
        self._finished = threading.Event()
        self._finished.set()
        self._stopping = False
        self.started = None
        self.splats = []            # parse() finds them; tail() shows them

    def _copy_kmods(self, stage):
        # The flavour's uname -r (its kernel may be a PVH vmlinux by now).
        release = self.flavor.release
        dest = os.path.join(stage, 'lib', 'kmods')
        os.makedirs(dest, exist_ok=True)
        for m in self.kmods:
            if self.flavor.debug:
                base = os.path.join(self.flavor.kdir, m + '.ko')
            else:
                base = os.path.join(self.flavor.modroot, 'lib/modules',
                                    release, 'kernel', m + '.ko')
            dst = os.path.join(dest, os.path.basename(m) + '.ko')
            for ext, unpack in (('', None), ('.xz', ['xz', '-dc']),
                                ('.zst', ['zstd', '-dc'])):
                if not os.path.exists(base + ext):
                    continue
                if unpack:
                    with open(dst, 'wb') as f:
                        subprocess.run(unpack + [base + ext], stdout=f,
                                       check=True)
                else:
                    shutil.copy(base, dst)
                break
            else:
                raise SystemExit('%s: %s.ko not in the %s kernel' %
                                 (self.name, m, release))

    def _initrd(self):
        stage = os.path.join(self.workdir, 'extra-' + self.name)
        os.makedirs(stage, exist_ok=True)
        if self.kmods:
            self._copy_kmods(stage)
        with open(os.path.join(stage, 'test.sh'), 'w') as f:
            f.write('. /lib/ivt.sh\n' + self.script + '\nivt_done\n')
        extra = stage + '.cpio.gz'
        cpio_gz(stage, extra)
        img = os.path.join(self.workdir, self.name + '.initrd')
        with open(img, 'wb') as out:
            for part in (self.flavor.initrd, extra):
                with open(part, 'rb') as f:
                    shutil.copyfileobj(f, out)
        return img

    def cmdline(self):
        if self.flavor.arm64:
            return self.cmdline_arm64()
        accel = os.environ.get('QEMU_ACCEL', 'tcg')
        cmd = ['qemu-system-x86_64', '-M', 'q35' if self.viommu else 'pc',
               '-accel', accel,
               '-m', self.mem, '-smp', str(self.smp),
               '-nodefaults', '-no-user-config', '-display', 'none',
               '-serial', 'stdio', '-no-reboot',
               '-kernel', self.flavor.kernel, '-initrd', self._initrd(),
               '-append', 'console=ttyS0 panic=-1 printk.devkmsg=on '
               'log_buf_len=8M' +
               (' kunit.enable=1' if self.flavor.debug else '') +
               (' intel_iommu=on' if self.viommu else '') +
               (' ' + self.append if self.append else '')]
        if self.viommu:
            # Before the devices it translates for.
            cmd += ['-device', 'intel-iommu,intremap=on']
        if accel == 'kvm':
            cmd += ['-cpu', 'host']
        # e.g. IVT_QEMU_EXTRA="-bios /usr/share/ovmf/OVMF.fd" for UEFI
        cmd += os.environ.get('IVT_QEMU_EXTRA', '').split()
        self.qmp_path = os.path.join(self.workdir, self.name + '.qmp')
        cmd += ['-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path]
        return cmd + self.devices

    def cmdline_arm64(self):
        """QEMU's arm64 virt machine: GICv3 with an ITS (MSI-X), the
        devices on its PCIe root bus, the console on the PL011. -cpu max
        with QEMU's own pointer-authentication algorithm (pauth-impdef:
        the architected QARMA5 costs TCG much more)."""
        accel = os.environ.get('QEMU_ACCEL', 'tcg')
        cmd = ['qemu-system-aarch64', '-M', 'virt,gic-version=3,its=on',
               '-accel', accel,
               '-cpu', 'host' if accel == 'kvm' else 'max,pauth-impdef=on',
               '-m', self.mem, '-smp', str(self.smp),
               '-nodefaults', '-no-user-config', '-display', 'none',
               '-serial', 'stdio', '-no-reboot',
               '-kernel', self.flavor.kernel, '-initrd', self._initrd(),
               # A hot-added doorbell device's 4 MiB BAR2 must fit the
               # window the kernel gives an empty hotplug port (2 MiB by
               # default; no firmware sizes it on this machine).
               '-append', 'console=ttyAMA0 panic=-1 printk.devkmsg=on '
               'log_buf_len=8M pci=hpmmioprefsize=64M' +
               (' kunit.enable=1' if self.flavor.debug else '') +
               (' ' + self.append if self.append else '')]
        cmd += os.environ.get('IVT_QEMU_EXTRA', '').split()
        self.qmp_path = os.path.join(self.workdir, self.name + '.qmp')
        cmd += ['-qmp', 'unix:%s,server=on,wait=off' % self.qmp_path]
        return cmd + self.devices

    def qmp(self, command, **arguments):
        """Send one QMP command; return its reply (a dict)."""
        import socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sk:
            sk.settimeout(30)
            sk.connect(self.qmp_path)
            f = sk.makefile('rw')
            json.loads(f.readline())                    # greeting
            for cmd, args in (('qmp_capabilities', {}),
                              (command, arguments)):
                f.write(json.dumps({'execute': cmd, 'arguments': args}))
                f.flush()
                while True:
                    reply = json.loads(f.readline())
                    if 'event' not in reply:
                        break
            return reply

    def qmp_session(self):
        """A QMP connection that stays open (QmpSession)."""
        return QmpSession(self.qmp_path)

    def fds(self):
        """QEMU's open file descriptors: {number: what /proc says}."""
        d = '/proc/%d/fd' % self.proc.pid
        out = {}
        for n in os.listdir(d):
            try:
                out[int(n)] = os.readlink(os.path.join(d, n))
            except OSError:             # closed meanwhile
                pass
        return out

    def start(self):
        """Boot; a thread of its own waits for the guest from now on
        (_wait), so that a boot that crashes before the test is booted
        again at once, not when the test gets to wait() for it: a
        partner guest (two_guests' pong beside its ping) would wait for
        it in vain meanwhile."""
        self._finished = threading.Event()
        self._stopping = False
        self._launch()
        self._waiter = threading.Thread(target=self._watch, daemon=True)
        self._waiter.start()
        return self

    def _launch(self):
        log('booting %s guest "%s"' % (self.flavor.name, self.name))
        self.started = time.time()
        self._out = open(self.console, 'wb')
        self.proc = subprocess.Popen(self.cmdline(), stdin=subprocess.DEVNULL,
                                     stdout=self._out,
                                     stderr=subprocess.STDOUT,
                                     pass_fds=self.pass_fds)

    def _watch(self):
        try:
            self._result = (True, self._wait())
        except BaseException as e:      # wait() raises it in the test
            self._result = (False, e)
        finally:
            self._finished.set()

    def running(self):
        """True until the guest (and a second boot, if the first crashed)
        has ended."""
        return not self._finished.is_set()

    def stop(self):
        """Kill QEMU (and keep a crashed first boot from booting again);
        wait for the waiter thread. For a harness error half-way."""
        self._stopping = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self._waiter is not None:
            self._waiter.join()

    def wait(self):
        """The guest's results (parse()) once it has ended."""
        if self._waiter is None:
            raise RuntimeError('guest %s was never started' % self.name)
        self._waiter.join()
        ok, value = self._result
        if not ok:
            raise value
        return value

    def _reap(self):
        """QEMU's exit status once it ended (else None); its CPU time
        (user and system, all threads) in self.cpu."""
        if self.proc.returncode is None:
            try:
                pid, status, ru = os.wait4(self.proc.pid, os.WNOHANG)
            except ChildProcessError:   # reaped by a poll() elsewhere
                return self.proc.poll()
            if pid:
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                self.cpu = ru.ru_utime + ru.ru_stime
        return self.proc.returncode

    def _scan_lost_timer(self, pos):
        """Look for LOST_TIMER_RE in the console from byte @pos on (a
        line's length before it, for a line printed in two writes); set
        self.lost_timer to the line. Return where the next scan starts."""
        with open(self.console, 'rb') as f:
            f.seek(max(0, pos - 200))
            data = f.read()
        m = LOST_TIMER_RE.search(data.decode('utf-8', 'replace'))
        if m:
            self.lost_timer = ' '.join(m.group(0).split())
        return max(0, pos - 200) + len(data)

    def _scan_stale_int3(self):
        """Set self.stale_int3 when the console shows, after the guest
        booted, a stale int3 trap (stale_int3())."""
        raw = self.text(raw=True)
        if b'int3: ' in raw and b'IVT-BOOTED' in raw:
            self.stale_int3 = stale_int3(self.text())

    def end_reason(self):
        """Why a guest that did not finish its script ended."""
        if self.lost_timer:
            return 'was killed when a CPU stopped taking timer ' \
                'interrupts ("%s")' % self.lost_timer
        if self.stale_int3:
            return 'was lost to QEMU: its kernel trapped on an int3 that ' \
                'its text does not hold (%s)' % self.stale_int3
        return 'timed out' if self.timed_out else 'died'

    def _wait(self):
        booted = False
        deadline = self.started + self.timeout
        self.cpu = 0.0
        self.hung = False
        self.lost_timer = None
        self.stale_int3 = None
        size, quiet_since = -1, time.time()
        scanned, next_scan = 0, 0.0
        while self._reap() is None:
            if not booted:
                raw = self.text(raw=True)
                if len(raw) != size:
                    size, quiet_since = len(raw), time.time()
                # A boot that prints nothing for BOOT_SILENCE_S has hung
                # (seen with 6.12-rt under TCG on a loaded host: the
                # clock stops in early boot, and the guest with it).
                self.hung = time.time() - quiet_since > BOOT_SILENCE_S
            if time.time() >= next_scan:
                next_scan = time.time() + LOST_TIMER_SCAN_S
                scanned = self._scan_lost_timer(scanned)
                if self.lost_timer:
                    log('  %s/%s: a CPU stopped taking timer interrupts '
                        '("%s"); killing the guest' % (
                            self.flavor.name, self.name, self.lost_timer))
                self._scan_stale_int3()
                if self.stale_int3:
                    log('  %s/%s: the kernel trapped on an int3 that its '
                        'text does not hold (%s); killing the guest' % (
                            self.flavor.name, self.name, self.stale_int3))
            if time.time() > deadline or self.hung or self.lost_timer or \
                    self.stale_int3:
                self.proc.kill()
                while self._reap() is None:
                    time.sleep(0.05)
                break
            if not booted and b'IVT-BOOTED' in raw:
                booted = True
                log('  %s/%s: booted in %.0fs, running test' %
                    (self.flavor.name, self.name, time.time() - self.started))
            time.sleep(0.5)
        self._out.close()
        self.elapsed = time.time() - self.started
        self.timed_out = self.proc.returncode is not None and \
            time.time() > deadline
        first = self.text()
        # A guest that died between two scans.
        if not self.stale_int3:
            self._scan_stale_int3()
        # The guest's own clock: where its time went (boot, script,
        # kmemleak scan), for keeping make check fast.
        m = re.search(r'IVT-BOOTED \S+ at ([\d.]+) s', first)
        t = re.search(r'IVT-TIMES script ended at ([\d.]+) s, kmemleak '
                      r'done at ([\d.]+) s', first)
        split = '' if not (m and t) else \
            ' (guest clock: booted %.0fs, script %.0fs, kmemleak %.0fs)' % (
                float(m.group(1)), float(t.group(1)) - float(m.group(1)),
                float(t.group(2)) - float(t.group(1)))
        log('  %s/%s: guest finished in %.0fs, QEMU used %.0f CPU-s%s' % (
            self.flavor.name, self.name, self.elapsed, self.cpu, split))
        if not self.retried and not self.timed_out and \
                not self._stopping and not self.lost_timer and \
                'IVT-BOOTED' not in first and \
                (self.hung or SPLAT_RE.search(first)):
            # The kernel died before /init ran anything of ours (seen
            # with 6.12 under TCG: "Oops: int3" while the kernel patches
            # its own text at boot), or hung. Boot once more; say so in
            # the log.
            report = 'no console output for %ds' % BOOT_SILENCE_S \
                if self.hung else next(ln for ln in first.splitlines()
                                       if SPLAT_RE.search(ln))
            shutil.copy(self.console, self.console + '.first-boot')
            self.retried = True
            log('  %s/%s: the kernel failed before the test began (%s); '
                'booting it once more' % (self.flavor.name, self.name,
                                          report.strip()))
            self._launch()
            results = self._wait()
            self.bench.append('note boot retried: the first boot failed '
                              'before the test began: %s (console in %s)'
                              % (report.strip(),
                                 self.console + '.first-boot'))
            return results
        return self.parse()

    def text(self, raw=False):
        with open(self.console, 'rb') as f:
            data = f.read()
        return data if raw else data.decode('utf-8', 'replace').replace(
            '\r', '')

    def section(self, name):
        m = re.search(r'IVT-%s-BEGIN\n(.*?)IVT-%s-END' % (name, name),
                      self.text(), re.S)
        return m.group(1) if m else None

    def parse(self):
        """Results of the guest's checks plus the boot-level checks.

        Besides the guest's own lines: the script ran to its end and
        exited 0 (no program run with "run" failed), no guest program
        was killed by the kernel, no kernel report anywhere on the
        console or in the kernel log, and on debug kernels a kmemleak
        scan whose report is empty.
        """
        text = self.text()
        body = text.split('IVT-DMESG-BEGIN')[0]
        results = parse_results(body)
        self.bench = [ln.strip() for ln in body.splitlines()
                      if ln.startswith(('bench ', 'note '))]
        m = re.search(r'IVT-EXIT (\d+)', text)
        self.exit_code = int(m.group(1)) if m else None
        if self.exit_code is None:
            why = 'timed out after %ds' % self.timeout if self.timed_out \
                else 'it ' + self.end_reason() \
                if self.lost_timer or self.stale_int3 \
                else 'the guest died before the end of its script'
            results.append((False, 'guest ran to the end: ' + why))
        else:
            end = re.search(r'IVT-SCRIPT-END (\d+)', body)
            results.append((end is not None and self.exit_code == 0,
                            'guest script ran to its end and exited 0 '
                            '(%s, exit %d)' % (
                                'end reached' if end else
                                'it stopped before its end',
                                self.exit_code)))
        dmesg = self.section('DMESG')
        # The whole console (reports printed while tests ran) and the
        # whole kernel log (log_buf_len holds the boot).
        scan = body + (dmesg or text)
        crashes = [ln.strip() for ln in scan.splitlines()
                   if CRASH_RE.search(ln)]
        results.append((not crashes, 'no guest program killed by a signal'
                        + ('' if not crashes else ': ' + crashes[0])))
        splats = [ln.strip() for ln in scan.splitlines()
                  if SPLAT_RE.search(ln) and not RESULT_RE.match(ln.strip())]
        if self.flavor.debug:
            leaks = self.section('KMEMLEAK')
            if leaks is None:
                splats.append('kmemleak: no scan result on a debug boot')
            elif leaks.strip():
                splats.append('kmemleak: ' + leaks.strip().splitlines()[0])
        self.splats = splats
        what = 'no KASAN/lockdep/UBSAN/WARN/BUG/stall/kmemleak report' \
            if self.flavor.debug else 'no WARN/BUG/Oops/stall report'
        results.append((not splats, what + ('' if not splats else
                                            ': ' + splats[0])))
        return results

    def tail(self, n=60):
        out = '\n'.join(self.text().splitlines()[-n:])
        # The console's tail shows a report that killed the guest; one
        # in the kernel log the script saved is shown too.
        rep = self.first_report() if self.section('DMESG') else None
        if rep:
            out += '\n--- kernel log around the first report ---\n' + rep
        return out

    def first_report(self):
        """The first kernel report's opening REPORT_LINES (from the kernel
        log the script saved, else from the console of a guest that died
        before it could), or None without one."""
        if not self.splats:
            return None
        lines = (self.section('DMESG') or self.text()).splitlines()
        idx = next((i for i, ln in enumerate(lines)
                    if SPLAT_RE.search(ln) and
                    not RESULT_RE.match(ln.strip())), None)
        if idx is None:
            return None
        return '\n'.join(lines[max(0, idx - 3):idx + REPORT_LINES])


def lost_timers(guests):
    """For each of @guests lost to the emulator (a lost timer, a stale
    int3): which, and where its console is."""
    return ['guest %s %s (%s)' % (g.name, g.end_reason(), g.console)
            for g in guests if getattr(g, 'lost_timer', None) or
            getattr(g, 'stale_int3', None)]


def stale_int3(text):
    """The first int3 trap report of @text (INT3_RE) if the byte before
    its RIP, as the report's "Code:" line shows it, is not int3 (0xcc):
    what the report says of it; else None. An int3 trap leaves RIP just
    after the int3, and the Code line shows the kernel text as it is when
    the report is printed (STALE_INT3 below)."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if INT3_RE.search(ln)),
                 None)
    if start is None:
        return None
    for i in range(start + 1, min(start + 30, len(lines) - 1)):
        rip = re.search(r'RIP: 0010:(\S+)', lines[i])
        if not rip:
            continue
        code = CODE_RE.search(lines[i + 1])
        if not code or code.group(1) == 'cc':
            return None
        return 'RIP %s, the byte before it 0x%s' % (rip.group(1),
                                                    code.group(1))
    return None


def first_diff(a, b, ranges):
    """Offset of the first byte that differs within @ranges, or None."""
    for lo, hi in ranges:
        if a[lo:hi] != b[lo:hi]:
            return next(i for i in range(lo, hi) if a[i] != b[i])
    return None


def plain_device(workdir, name, size, data=None, addr=None, bus=None):
    """QEMU args for an ivshmem-plain device backed by a host file, on
    the root bus or on @bus (a port's QEMU id).

    The device's QEMU id is "dev-NAME".
    """
    path = os.path.join(workdir, name)
    with open(path, 'wb') as f:
        f.write(data if data is not None else bytes(size))
    dev = 'ivshmem-plain,memdev=%s,id=dev-%s' % (name, name)
    if addr is not None:
        dev += ',addr=0x%x' % addr
    if bus is not None:
        dev += ',bus=' + bus
    return path, ['-object', 'memory-backend-file,id=%s,size=%d,'
                  'mem-path=%s,share=on' % (name, size, path),
                  '-device', dev]


class QmpSession:
    """One QMP connection kept open across commands: it collects the
    events that arrive meanwhile (wait_event) and can pass file
    descriptors with a command (SCM_RIGHTS, for getfd). Guest.qmp()
    opens a connection per command instead, and that connection's
    socket takes the lowest free descriptor number in QEMU."""

    def __init__(self, path, timeout=30):
        import socket
        self.timeout = timeout
        self.sk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sk.settimeout(timeout)
        self.sk.connect(path)
        self.buf = b''
        self.events = []
        self._read()                                    # greeting
        self.cmd('qmp_capabilities')

    def _read(self):
        while b'\n' not in self.buf:
            data = self.sk.recv(65536)
            if not data:
                raise EOFError('QEMU closed the QMP connection')
            self.buf += data
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def cmd(self, command, fds=(), **arguments):
        """Send one command, with @fds attached; return its reply."""
        import array
        import socket
        msg = json.dumps({'execute': command,
                          'arguments': arguments}).encode()
        if fds:
            self.sk.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                     array.array('i', fds))])
        else:
            self.sk.sendall(msg)
        while True:
            reply = self._read()
            if 'event' not in reply:
                return reply
            self.events.append(reply)

    def wait_event(self, name, timeout, **data):
        """The first event @name whose data has the items @data, waiting
        up to @timeout s for it; None if none came."""
        import socket
        deadline = time.time() + timeout
        seen = 0
        while True:
            for e in self.events[seen:]:
                if e.get('event') == name and all(
                        e.get('data', {}).get(k) == v
                        for k, v in data.items()):
                    return e
            seen = len(self.events)
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sk.settimeout(left)
            try:
                self.events.append(self._read())
            except socket.timeout:
                return None
            finally:
                self.sk.settimeout(self.timeout)

    def close(self):
        self.sk.close()


class Server:
    """The project's ivshmem server (QEMU's protocol) on a UNIX socket."""

    def __init__(self, workdir, size='4M', vectors=8, backing=None):
        self.sock = os.path.join(workdir, 'ivshmem.sock')
        self.log = os.path.join(workdir, 'server.log')
        self.vectors = vectors
        cmd = [SERVER, '-F', '-v', '-S', self.sock, '-l', size,
               '-n', str(vectors)]
        if backing:
            cmd += ['-M', backing]
        self._logf = open(self.log, 'w')
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._logf,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while not os.path.exists(self.sock) and time.time() < deadline:
            time.sleep(0.05)

    def device(self, ident, addr=None):
        """QEMU args for an ivshmem-doorbell device on this server."""
        dev = 'ivshmem-doorbell,chardev=%s,vectors=%d' % (ident,
                                                         self.vectors)
        if addr is not None:
            dev += ',addr=0x%x' % addr
        return ['-chardev', 'socket,path=%s,id=%s' % (self.sock, ident),
                '-device', dev]

    def bare_peer(self):
        """A QEMU process with its CPU stopped: a peer that only joins."""
        return subprocess.Popen(
            ['qemu-system-x86_64', '-M', 'pc', '-accel', 'tcg', '-S',
             '-nodefaults', '-no-user-config', '-display', 'none'] +
            self.device('bare'), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def text(self):
        with open(self.log) as f:
            return f.read()

    def wait_log(self, text, timeout=120):
        """Wait until the server's log has @text; True if it did."""
        return wait_for(lambda: text in self.text(), timeout)

    def stop(self):
        """SIGTERM; return a result: the server exits 0 and cleans up."""
        self.proc.terminate()
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._logf.close()
        return (rc == 0 and not os.path.exists(self.sock),
                'ivshmem server stops cleanly on SIGTERM (exit %s)' % rc)


def wait_for(pred, timeout):
    """Call @pred every 0.2 s until it returns true or @timeout s have
    passed; return its last value."""
    deadline = time.time() + timeout
    while not pred() and time.time() < deadline:
        time.sleep(0.2)
    return pred()


def wait_console(guest, pattern, timeout=300):
    """Wait until @pattern appears on @guest's console; True if it did.
    In a shared boot the time counts from the start of @guest's segment."""
    if hasattr(guest, 'wait_begun'):
        guest.wait_begun()
    deadline = time.time() + timeout
    while time.time() < deadline and guest.running():
        if re.search(pattern, guest.text()):
            return True
        time.sleep(0.2)
    return bool(re.search(pattern, guest.text()))


# ---------------------------------------------------------------- tests --

TESTS = []


def test(flavors=KINDS, share=False, guests=1):
    """Register a test for @flavors (kinds or flavour names). @share: it
    boots all its guests before it waits for one, then reads only their
    consoles and its host files (no QMP, no watching a console while it
    runs; QMP and ivt.wait_console on its own segment work), so its
    boots can be segments of shared ones (ivt_shared.py). A callable
    @share decides at run time. @guests: how many guests it boots side by
    side (the shared boots keep such tests in one task)."""
    def deco(fn):
        fn.share = share
        fn.guests = guests
        TESTS.append((fn.__name__, flavors, fn))
        return fn
    return deco


def kunit_suites():
    """The suite names the kunit/ sources define: each must report."""
    names = []
    kdir = os.path.join(ROOT, 'kunit')
    for f in sorted(os.listdir(kdir)):
        if f.endswith('.c'):
            with open(os.path.join(kdir, f)) as src:
                names += re.findall(r'struct kunit_suite \w+ = \{[^}]*?'
                                    r'\.name\s*=\s*"([^"]+)"', src.read())
    return names


def kunit_cases(group, path=()):
    """Every leaf case of kunit.py's JSON, parameterised ones included
    (those sit in sub_groups of their case)."""
    here = path + (group.get('name', '?'),) if path or 'name' in group \
        else path
    for case in group.get('test_cases', []):
        yield '.'.join(here[1:] + (case.get('name', '?'),)), \
            case.get('status')
    for sub in group.get('sub_groups', []):
        yield from kunit_cases(sub, here)


@test(flavors=('debug', 'arm64-debug'), share=True)
def kunit(ctx):
    """Load every KUnit module; parse each module's KTAP with kunit.py.

    The KTAP comes from the kernel log, not from debugfs: 6.1's debugfs
    results keep only the last line of a parameterised case, which also
    makes kunit.py drop the case after it.
    """
    script = '''
# The suites use the modules' internals (EXPORT_SYMBOL_IF_KUNIT): load
# the modules first.
if ! grep -q '^ivshmem ' /proc/modules; then
	t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
fi
if [ -e /lib/ivshmem/ivshmem_host.ko ]; then
	t "insmod ivshmem_host.ko" insmod /lib/ivshmem/ivshmem_host.ko
fi
for m in /lib/ivshmem/*_kunit.ko; do
	mark "kunit-module $(basename $m)"
	t "insmod $(basename $m)" insmod $m
done
mark "kunit-module end"
'''
    g = ctx.boot('kunit', script)
    results = g.wait()
    kunit_py = os.path.join(ctx.flavor.kdir, 'source', 'tools', 'testing',
                            'kunit', 'kunit.py')
    log_lines = re.sub(r'(?m)^\[\s*\d+\.\d+\] ', '',
                       g.section('DMESG') or '')
    chunks = re.findall(r'IVT-MARK kunit-module (\S+)\n(.*?)(?=IVT-MARK '
                        r'kunit-module )', log_lines, re.S)
    want = kunit_suites()
    if ctx.flavor.arm64:
        # The host module and its suites are x86 only (kunit/Kbuild.host).
        want = [n for n in want if not n.startswith('ivshmem_host_')]
    seen = set()
    for module, out in chunks:
        if module == 'end':
            continue
        # One module's KTAP document, from its version line on.
        start = out.find('KTAP version')
        path = os.path.join(g.workdir, module + '.ktap')
        with open(path, 'w') as f:
            f.write(out[start:] if start >= 0 else out)
        js = path + '.json'
        p = subprocess.run([sys.executable, kunit_py, 'parse', path,
                            '--json=' + js], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        cases = []
        try:
            with open(js) as f:
                doc = json.load(f)
            cases = list(kunit_cases(doc))
            seen.update(sub.get('name') for sub in doc.get('sub_groups', []))
        except (OSError, ValueError) as e:
            results.append((False, '%s: kunit.py JSON: %s' % (module, e)))
        for case, status in cases:
            results.append((SKIP if status == 'SKIP' else status == 'PASS',
                            'kunit %s%s' % (case,
                                            '' if status in ('PASS', 'SKIP')
                                            else ': ' + str(status))))
        results.append((p.returncode == 0 and len(cases) > 0,
                        'kunit.py parse %s: %d cases, exit %d' %
                        (module, len(cases), p.returncode)))
        if p.returncode:
            print(p.stdout[-4000:])
    for name in want:
        results.append((name in seen, 'KUnit suite %s (defined in kunit/) '
                        'reported' % name))
    for name in sorted(seen - set(want)):
        results.append((False, 'KUnit suite %s is defined in kunit/' % name))
    return g, results


@test(flavors=ANY_ARCH, share=True)
def shm_data(ctx):
    """16 MiB of host random bytes through read() and mmap, both ways."""
    size = 16 << 20
    data = os.urandom(size)
    path, dev = plain_device(ctx.workdir, 'shm0', size, data)
    script = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
D=/dev/ivshmem0
t "$D exists" test -c $D
eq "sysfs size" "$(cat /sys/class/ivshmem/ivshmem0/size)" %(size)d
eq "sysfs vectors (plain device)" "$(cat /sys/class/ivshmem/ivshmem0/vectors)" 0
t "no region_id on a QEMU device" test ! -e /sys/class/ivshmem/ivshmem0/region_id
run ivshmem_test info $D > /tmp/info
eq "info size" "$(grep ^size= /tmp/info)" size=%(size)d
eq "info reserved fields zero" "$(grep ^reserved= /tmp/info)" reserved=0
MT=$(cat /sys/class/ivshmem/ivshmem0/memtype)
# IVSHMEM_INFO_DMABUF (0x10) depends on the kernel: the dmabuf test checks it.
eq "info flags (no doorbell, not ACRN, MAP_WB as the memory type '$MT' says)" "flags=$(printf 0x%%x $(( $(sed -n 's/^flags=//p' /tmp/info) & ~0x10 )))" "flags=$(map_wb_flag "$MT")"
eq "read() sees the host's bytes" "$(sha < $D)" %(hash)s
eq "mmap sees the host's bytes" "$(run ivshmem_test mmap-cat $D | sha)" %(hash)s
dd if=/dev/urandom of=/tmp/a bs=1M count=2 2>/dev/null
dd if=/tmp/a of=$D bs=1M seek=1 2>/dev/null
echo "IVT-HASH write $(sha /tmp/a)"
dd if=/dev/urandom of=/tmp/b bs=1M count=2 2>/dev/null
run ivshmem_test mmap-write $D 0x800000 < /tmp/b
echo "IVT-HASH mmap $(sha /tmp/b)"
eq "mmap sees what write() wrote" \
	"$(run ivshmem_test mmap-cat $D | { dd bs=1M skip=1 count=2 iflag=fullblock 2>/dev/null; cat > /dev/null; } | sha)" \
	"$(sha /tmp/a)"
eq "read() sees what mmap wrote" \
	"$(dd if=$D bs=1M skip=8 count=2 2>/dev/null | sha)" "$(sha /tmp/b)"
run ivshmem_test badinput $D
# read()/write() with buffers that fault (guest/cdev.c's direct copy).
run ivshmem_rwfault $D
# The page-table walker: the memory type of every user entry, everywhere.
t "insmod ivshmem_ptwalk.ko" insmod /lib/ivshmem/ivshmem_ptwalk.ko
run ivshmem_test memtype $D
# A RAM disk gives memmodel a block device for O_DIRECT (brd is a module
# on every kernel of the matrix).
t "insmod brd.ko (O_DIRECT target)" insmod /lib/kmods/brd.ko rd_nr=1 rd_size=1024
run ivshmem_test memmodel $D
# 4 KiB entries only, one fault per 2 MiB; mbind(MPOL_MF_STRICT) and the
# other page walkers return cleanly (the boot's report check: no splat).
run ivshmem_test huge $D 0
t "no option maps 2 MiB entries (no huge_pmd parameter)" test ! -e /sys/module/ivshmem/parameters/huge_pmd
''' % {'size': size, 'hash': sha256(data)}
    g = ctx.boot('shm_data', script, dev,
                 kmods=['drivers/block/brd'])
    results = g.wait()
    hashes = dict(re.findall(r'IVT-HASH (\w+) ([0-9a-f]{64})', g.text()))
    with open(path, 'rb') as f:
        after = f.read()
    mb = 1 << 20
    results += [
        (hashes.get('write') == sha256(after[mb:3 * mb]),
         'host file has the bytes the guest wrote with write()'),
        (hashes.get('mmap') == sha256(after[8 * mb:10 * mb]),
         'host file has the bytes the guest wrote through mmap'),
        # badinput writes at 4096..4160 and in the last 8 bytes.
        (first_diff(after, data, [(0, 4096), (8192, mb), (3 * mb, 8 * mb),
                                  (10 * mb, size - 8)]) is None,
         'bytes the guest did not write are unchanged (first difference'
         ' at %s)' % first_diff(after, data, [(0, 4096), (8192, mb),
                                               (3 * mb, 8 * mb),
                                               (10 * mb, size - 8)])),
    ]
    return g, results


@test(flavors=ANY_ARCH, share=True)
def two_devices(ctx):
    """A 2 MiB and a 64 MiB device in one guest, each with its own data
    (MD5, not SHA-256: random bytes, no adversary, and busybox's MD5
    hashed 64 MiB in 6.9 s against 11.5 s on a debug guest)."""
    devs, sums, script = [], {}, '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
eq "two device nodes" "$(ls /dev/ivshmem* | wc -l)" 2
'''
    for i, size in enumerate((2 << 20, 64 << 20)):
        data = os.urandom(size)
        _, dev = plain_device(ctx.workdir, 'shm%d' % i, size, data,
                              addr=4 + i)
        devs += dev
        script += '''
D=$(dev_by_size %(size)d)
t "a device of %(size)d bytes" test -n "$D"
eq "$D: read() sees its own host file" "$(md5sum < $D | cut -d' ' -f1)" %(hash)s
eq "$D: mmap sees its own host file" "$(run ivshmem_test mmap-cat $D | md5sum | cut -d' ' -f1)" %(hash)s
''' % {'size': size, 'hash': hashlib.md5(data).hexdigest()}
    if ctx.flavor.name == '6.1':
        # The fault benchmark (stock 6.1 only): 64 MiB, against anon THP.
        script += 'run ivshmem_test bench $(dev_by_size %d)\n' % (64 << 20)
    g = ctx.boot('two_devices', script, devs)
    return g, g.wait()


@test(flavors=ANY_ARCH, share=True)
def unbind_rmmod(ctx):
    """Unbind while mapped and read; rmmod refused while open or mapped."""
    size = 16 << 20
    data = os.urandom(size)
    _, dev = plain_device(ctx.workdir, 'shm0', size, data)
    # ivshmem_test unbind writes 'A' at the first and 'Z' at the last byte.
    after = b'A' + data[1:-1] + b'Z'
    script = '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
D=/dev/ivshmem0
BDF=$(pci_of $D)
run ivshmem_test unbind $D $BDF
t "rebind $BDF" sh -c "echo $BDF > /sys/bus/pci/drivers/ivshmem/bind"
t "$D is back after rebind" test -c $D
eq "data survives unbind/rebind: read() has the host file's bytes" "$(sha < $D)" %(hash)s
eq "data survives unbind/rebind: mmap has the host file's bytes" "$(run ivshmem_test mmap-cat $D | sha)" %(hash)s

exec 3< $D
fails_with "rmmod is refused while a file is open" "Resource temporarily unavailable" rmmod ivshmem
eq "... and the module stays loaded" "$(grep -c '^ivshmem ' /proc/modules)" 1
exec 3<&-
hold_start "the holder maps the device within 60 s" ivshmem_test hold $D 600
fails_with "rmmod is refused while a mapping exists" "Resource temporarily unavailable" rmmod ivshmem
eq "... and the module stays loaded" "$(grep -c '^ivshmem ' /proc/modules)" 1
kill $HOLD
wait $HOLD
t "rmmod succeeds once the last user is gone" rmmod ivshmem
eq "module is gone" "$(grep -c '^ivshmem ' /proc/modules)" 0
t "insmod again" insmod /lib/ivshmem/ivshmem.ko
eq "$D works after reload" "$(dd if=$D bs=4k count=1 2>/dev/null | sha)" %(page)s
t "rmmod with nothing open" rmmod ivshmem
''' % {'hash': sha256(after),
       # ivshmem_test hold writes 1 at the first byte.
       'page': sha256(b'\x01' + after[1:4096])}
    g = ctx.boot('unbind_rmmod', script, dev)
    return g, g.wait()


def admin_host(ctx):
    """Run tests/host/admin_host.sh (ivshmem-admin load with libxml2, on
    this machine; the malformed files on flavour 6.1 only). Return its
    results and the guest shell lines that put
    its plan, its -V options and tests/host/launch/*.sh into /tmp/adm."""
    out = os.path.join(ctx.workdir, 'admin_host')
    # The malformed files (4 s) do not depend on the kernel: one flavour.
    full = ctx.flavor.name == '6.1'
    p = subprocess.run([os.path.join(ROOT, 'tests', 'host', 'admin_host.sh')]
                       + ([] if full else ['--plan-only']) + [out],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    with open(os.path.join(out + '.log'), 'w') as f:
        f.write(p.stdout)
    results = parse_results(p.stdout)
    results.append((p.returncode == 0 and len(results) > (20 if full else 2),
                    'admin_host.sh exits 0 (exit %d, %d checks)' %
                    (p.returncode, len(results))))
    files = {'plan': os.path.join(out, 'plan'),
             'vms': os.path.join(out, 'vms')}
    launch = os.path.join(ROOT, 'tests', 'host', 'launch')
    for f in sorted(os.listdir(launch)):
        files['launch/' + f] = os.path.join(launch, f)
    lines = ['mkdir -p /tmp/adm/launch']
    for name, path in files.items():
        if not os.path.exists(path):
            continue
        with open(path) as f:
            text = f.read()
        if 'IVT_ADM_EOF' in text:
            raise RuntimeError(path + ' holds the heredoc delimiter')
        lines.append("cat > /tmp/adm/%s <<'IVT_ADM_EOF'\n%sIVT_ADM_EOF"
                     % (name, text if text.endswith('\n') else text + '\n'))
    return results, '\n'.join(lines)


@test(share=True)
def host_module(ctx):
    """ivshmem_host.ko end to end in a guest acting as Service VM."""
    # The 512 MiB region benchmark runs on the 6.1 stock kernel (no KASAN).
    bench = ctx.flavor.name == '6.1' or \
        os.environ.get('IVT_HOST_BENCH') == '1'
    # ivshmem-admin's scenario reader on the build machine (libxml2 is
    # not in the guest); what it writes feeds e2e.sh's scenario phase.
    admin, files = admin_host(ctx)
    # On the debug kernels e2e.sh runs its ATTACH/REMOVE race on 32 MiB,
    # its O_TRUNC race with 150 opens and HSM's resets on 32 MiB
    # (IVSHMEM_DEBUG_KERNEL=1), and the guest has the default 256 MiB
    # (less for kmemleak to scan). Elsewhere the resets take a 512 MiB
    # region (IVSHMEM_BIG=1) in a 2 GiB guest.
    env = 'IVSHMEM_BENCH=1 IVSHMEM_BIG=1' if bench else \
        'IVSHMEM_DEBUG_KERNEL=1' if ctx.flavor.debug else 'IVSHMEM_BIG=1'
    g = ctx.boot('host_module', '''
%s
%s run sh /usr/bin/host_e2e.sh
''' % (files, env),
        mem=None if ctx.flavor.debug else '2G')
    results = admin + g.wait()
    # The module issues no hypercall of its own; a guest VM's
    # doorbell is an eventfd its device model hands to HSM's irqfd.
    ko = os.path.join(ctx.flavor.out, 'src', 'host', 'ivshmem_host.ko')
    dis = subprocess.run(['objdump', '-d', ko], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    calls = [ln.strip() for ln in dis.stdout.splitlines()
             if re.search(r'\bvmcall\b', ln)]
    results.append((dis.returncode == 0 and '<ivh_' in dis.stdout
                    and not calls,
                    'ivshmem_host.ko has no vmcall instruction (objdump: %s)'
                    % (calls[0] if calls else 'exit %d' % dis.returncode)))
    return g, results


# ----------------------------------------------------------------- main --

class Context:
    def __init__(self, flavor, workdir):
        self.flavor = flavor
        self.workdir = workdir
        self.guests = []

    def boot(self, name, script, devices=(), **kw):
        g = Guest(self.flavor, name, script, devices, workdir=self.workdir,
                  **kw)
        self.guests.append(g)
        return g.start()


@test(flavors=ANY_ARCH, share=True)
def pfn_path(ctx):
    """A 1 MiB BAR2 (no 2 MiB entries): removal paths and memtype values."""
    size = 1 << 20
    data = os.urandom(size)
    _, dev = plain_device(ctx.workdir, 'shm0', size, data)
    g = ctx.boot('pfn_path', '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
t "insmod ivshmem_ptwalk.ko" insmod /lib/ivshmem/ivshmem_ptwalk.ko
t "insmod brd.ko (O_DIRECT target)" insmod /lib/kmods/brd.ko rd_nr=1 rd_size=1024
D=/dev/ivshmem0
MT=$(cat /sys/class/ivshmem/ivshmem0/memtype)
AUTO=$MT
case $MT in write-back|write-combining) echo "ok - memtype=auto gives write-back or write-combining ($MT)";;
*) echo "not ok - memtype=auto gives write-back or write-combining: got '$MT'";; esac
# want_type AUTO MT: the type memtype=MT must give where memtype=auto gave
# AUTO. auto asks for write-back and falls back to write-combining only
# where PAT grants less (the MTRR says uncached: UC-); so wb gets
# write-back exactly where auto did, else uncached, never auto's
# write-combining (an ignored parameter). sysfs names the types the same
# on every architecture: write-back, write-combining, uncached.
want_type() {
	case $2 in
	wb) [ "$1" = write-back ] && echo write-back || echo uncached;;
	wc) echo write-combining;;
	uc) echo uncached;;
	esac
}
# Here, in the 32-bit hole, and again after the rescan below, which may
# move BAR2 (above 4 GiB, where the MTRRs say write-back).
t "rmmod" rmmod ivshmem
t "insmod memtype=wb where auto gave $AUTO" insmod /lib/ivshmem/ivshmem.ko memtype=wb
eq "memtype=wb gives exactly what PAT grants it (auto got $AUTO)" "$(cat /sys/class/ivshmem/ivshmem0/memtype)" "$(want_type $AUTO wb)"
t "rmmod" rmmod ivshmem
t "insmod ivshmem.ko (auto again)" insmod /lib/ivshmem/ivshmem.ko
# IVSHMEM_INFO_DMABUF (0x10) depends on the kernel: the dmabuf test checks it.
eq "info flags: MAP_WB as the memory type '$MT' says" "flags=$(printf 0x%%x $(( $(run ivshmem_test info $D | sed -n 's/^flags=//p') & ~0x10 )))" "flags=$(map_wb_flag "$MT")"
eq "read() sees the host's bytes" "$(sha < $D)" %(hash)s
eq "mmap sees the host's bytes" "$(run ivshmem_test mmap-cat $D | sha)" %(hash)s
run ivshmem_test badinput $D
run ivshmem_test memtype $D
run ivshmem_test memmodel $D
BDF=$(pci_of $D)
run ivshmem_test unbind $D $BDF
t "rebind $BDF" sh -c "echo $BDF > /sys/bus/pci/drivers/ivshmem/bind"
run ivshmem_test remove $D $BDF
t "PCI rescan" sh -c "echo 1 > /sys/bus/pci/rescan"
t "$D is back after the rescan" test -c $D
# The bytes as read() saw them with memtype=auto, for every memtype below.
H=$(sha < $D)
AUTO=$(cat /sys/class/ivshmem/ivshmem0/memtype)
t "rmmod" rmmod ivshmem
for mt in wb wc uc; do
	t "insmod memtype=$mt" insmod /lib/ivshmem/ivshmem.ko memtype=$mt
	eq "memtype parameter reads back" "$(cat /sys/module/ivshmem/parameters/memtype)" $mt
	MT=$(cat /sys/class/ivshmem/ivshmem0/memtype)
	eq "memtype=$mt gives exactly what PAT grants it (auto got $AUTO)" "$MT" "$(want_type $AUTO $mt)"
	run ivshmem_test memtype $D
	eq "memtype=$mt: mmap sees the bytes read() saw with memtype=auto" "$(run ivshmem_test mmap-cat $D | sha)" "$H"
	# An odd offset and length, across a page: the I/O accessors for wc
	# and uc, memcpy() for wb; the bytes are put back afterwards.
	dd if=$D of=/tmp/orig bs=4097 skip=1 count=1 2>/dev/null
	head -c 4097 /dev/urandom > /tmp/odd
	dd if=/tmp/odd of=$D bs=4097 seek=1 count=1 2>/dev/null
	eq "memtype=$mt: mmap sees a write() at offset 4097 of 4097 bytes" "$(run ivshmem_test mmap-cat $D | { dd bs=4097 skip=1 count=1 iflag=fullblock 2>/dev/null; cat > /dev/null; } | sha)" "$(sha /tmp/odd)"
	eq "memtype=$mt: read() at offset 4097 of 4097 bytes sees it too" "$(dd if=$D bs=4097 skip=1 count=1 2>/dev/null | sha)" "$(sha /tmp/odd)"
	dd if=/tmp/orig of=$D bs=4097 seek=1 count=1 2>/dev/null
	eq "memtype=$mt: the bytes are back" "$(sha < $D)" "$H"
	t "rmmod" rmmod ivshmem
done
mark memtype-bogus
fails_with "insmod memtype=bogus is refused with EINVAL" "Invalid argument" insmod /lib/ivshmem/ivshmem.ko memtype=bogus
t "the log names the bad value of memtype" log_has memtype-bogus "bogus. invalid for parameter .memtype"
eq "... and the module is not loaded" "$(grep -c '^ivshmem ' /proc/modules)" 0
# The memory type per device: sysfs memtype, writable by root, changes
# BAR2's type for the mappings made after it, only while nothing holds
# the device (an open file, a mapping, a dma-buf: EBUSY).
t "insmod ivshmem.ko (memtype per device)" insmod /lib/ivshmem/ivshmem.ko
M=/sys/class/ivshmem/ivshmem0/memtype
eq "sysfs memtype is writable by root only" "$(stat -c %%a $M)" 644
eq "memtype=auto at probe gives what it gave before" "$(cat $M)" "$AUTO"
fails_with "writing a bad memtype is refused with EINVAL" "Invalid argument" sh -c "echo bogus > $M"
eq "... and the memory type is unchanged" "$(cat $M)" "$AUTO"
t "writing uc while nothing holds the device" sh -c "echo uc > $M"
eq "sysfs memtype reads uncached" "$(cat $M)" uncached
eq "the module parameter is unchanged" "$(cat /sys/module/ivshmem/parameters/memtype)" auto
run ivshmem_test memtype $D
eq "memtype uc from sysfs: mmap sees the bytes read() saw" "$(run ivshmem_test mmap-cat $D | sha)" "$H"
exec 3< $D
fails_with "a change while a file is open is refused with EBUSY" "Device or resource busy" sh -c "echo wc > $M"
eq "... and the memory type is unchanged" "$(cat $M)" uncached
exec 3<&-
hold_start "the holder maps the device within 60 s" ivshmem_test hold $D 600
fails_with "a change while a mapping exists is refused with EBUSY" "Device or resource busy" sh -c "echo wc > $M"
kill $HOLD
wait $HOLD
# A dma-buf alone (its device file closed, nothing mapped) holds it too.
hold_start "a process holds only a dma-buf of the device within 60 s" ivshmem_test hold-dmabuf $D 600
fails_with "a change while a dma-buf exists is refused with EBUSY" "Device or resource busy" sh -c "echo wc > $M"
kill $HOLD
wait $HOLD
t "write-combining, by its sysfs name, once nothing holds the device" sh -c "echo write-combining > $M"
eq "sysfs memtype reads write-combining" "$(cat $M)" write-combining
run ivshmem_test memtype $D
eq "read() and mmap see the same bytes with the new type" "$(sha < $D)" "$(run ivshmem_test mmap-cat $D | sha)"
t "back to auto" sh -c "echo auto > $M"
eq "auto gives what it gave at probe" "$(cat $M)" "$AUTO"
t "rmmod after the changes" rmmod ivshmem
''' % {'hash': sha256(data)}, dev, kmods=['drivers/block/brd'])
    return g, g.wait()


@test(flavors=('debug',), share=True)
def nopat(ctx):
    """x86 without PAT (the nopat boot option): every memtype gives
    uncached, the type the driver can prove, in every view: its kernel
    mapping is made again with ioremap(), user entries carry the same
    cache bits (UC-, PCD), and the bytes stay the host's."""
    size = 1 << 20
    data = os.urandom(size)
    _, dev = plain_device(ctx.workdir, 'shm0', size, data)
    g = ctx.boot('nopat', '''
t "the kernel runs without PAT" sh -c "dmesg | grep -q 'PAT support disabled'"
t "insmod ivshmem_ptwalk.ko" insmod /lib/ivshmem/ivshmem_ptwalk.ko
D=/dev/ivshmem0
for mt in auto wb wc uc; do
	t "insmod memtype=$mt" insmod /lib/ivshmem/ivshmem.ko memtype=$mt
	eq "memtype=$mt without PAT: sysfs says uncached" "$(cat /sys/class/ivshmem/ivshmem0/memtype)" uncached
	eq "memtype=$mt: info flags without MAP_WB" "flags=$(printf 0x%%x $(( $(run ivshmem_test info $D | sed -n 's/^flags=//p') & ~0x10 )))" "flags=0x0"
	run ivshmem_test memtype $D
	eq "memtype=$mt: read() sees the host's bytes" "$(sha < $D)" %(hash)s
	eq "memtype=$mt: mmap sees the host's bytes" "$(run ivshmem_test mmap-cat $D | sha)" %(hash)s
	t "rmmod" rmmod ivshmem
done
''' % {'hash': sha256(data)}, dev, append='nopat')
    return g, g.wait()


# The tests whose devices come and go through pciehp on arm64 (behind a
# PCIe root port): not on the arm64 debug kernel, where lockdep reports
# the kernel's own AB-BA of pciehp's reset_lock and pci_rescan_remove_lock
# at the first hotplug event (at boot pciehp_probe() takes reset_lock with
# pci_rescan_remove_lock held; pciehp_ist() takes them the other way),
# with no frame of ivshmem in it.
PCIEHP_ARCH = KINDS + ('arm64',)


@test(flavors=PCIEHP_ARCH, share=True)
def hot_unplug(ctx):
    """Hot-unplug (QMP device_del) while mapped and read: ACPI on x86's
    pc machine; on arm64's virt machine, whose root bus has no hotplug,
    PCIe native hotplug (pciehp) of a device behind a root port."""
    size = 2 << 20
    port, bus = [], None
    if ctx.flavor.arm64:
        port = ['-device', 'pcie-root-port,id=unplug-port,chassis=2']
        bus = 'unplug-port'
    _, dev = plain_device(ctx.workdir, 'shm0', size, os.urandom(size),
                          bus=bus)
    dev = port + dev
    g = ctx.boot('hot_unplug', '''
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
run ivshmem_test unplug /dev/ivshmem0
t "rmmod after the device is gone" rmmod ivshmem
''', dev)
    results = []
    if wait_console(g, 'IVT-UNPLUG-NOW'):
        reply = g.qmp('device_del', id='dev-shm0')
        results.append(('return' in reply, 'QMP device_del: %s' % reply))
    else:
        results.append((False, 'guest asked for the unplug'))
    return g, g.wait() + results


def kmods_with_deps(flavor, targets):
    """The flavour's modules @targets (paths below kernel/, no .ko) with
    their dependencies, in an order insmod can load them: Debian's
    modules.dep on the x86 stock flavours; modinfo over modules.order
    where there is none: the build tree's on debug flavours, the image's
    on arm64, whose package tests/deps.sh unpacks without running
    depmod."""
    order = []

    def add(m):
        if m not in order:
            order.append(m)

    moddir = os.path.join(flavor.modroot, 'lib/modules', flavor.release)
    if not flavor.debug and \
            os.path.exists(os.path.join(moddir, 'modules.dep')):
        deps = {}
        with open(os.path.join(moddir, 'modules.dep')) as f:
            for ln in f:
                mod, _, rest = ln.partition(':')
                deps[re.sub(r'\.ko(\.xz|\.zst)?$', '', mod)[7:]] = [
                    re.sub(r'\.ko(\.xz|\.zst)?$', '', d)[7:]
                    for d in rest.split()]
        for t in targets:
            for d in reversed(deps[t]):     # transitive, last loads first
                add(d)
            add(t)
        return order
    # Paths below kdir (debug), or below moddir's kernel/ (arm64).
    base = flavor.kdir if flavor.debug else os.path.join(moddir, 'kernel')
    by_name = {}
    with open(os.path.join(flavor.kdir if flavor.debug else moddir,
                           'modules.order')) as f:
        for ln in f:
            path = re.sub(r'\.(o|ko)$', '', ln.strip())
            if not flavor.debug:
                path = path[len('kernel/'):]
            by_name[os.path.basename(path).replace('-', '_')] = path

    def visit(path):
        ko = os.path.join(base, path + '.ko')
        ko = next((ko + e for e in ('', '.xz', '.zst')
                   if os.path.exists(ko + e)), ko)
        dep = run(['modinfo', '-F', 'depends', ko]).strip()
        for d in filter(None, dep.split(',')):
            visit(by_name[d.replace('-', '_')])
        add(path)

    for t in targets:
        visit(t)
    return order


VIVID = 'drivers/media/test-drivers/vivid/vivid'
VGEM = 'drivers/gpu/drm/vgem/vgem'


# The guest's vivid sequence where the driver offers a vmap (x86): capture
# into the dma-bufs, the release orders, the refusals, then device C
# unbound, removed and hot-unplugged under a streaming vivid.
DMABUF_VIVID_X86 = '''
	for mode in reqbufs0 close-video close-dmabuf readonly; do
		run ivshmem_dmabuf v4l2 $C $V0 $mode
	done
	run ivshmem_dmabuf v4l2 $C $V1 static
	run ivshmem_dmabuf vgem $C
	run ivshmem_dmabuf v4l2 $C $V0 unbind $CP
	t "bind $CP again" sh -c "echo $CP > /sys/bus/pci/drivers/ivshmem/bind"
	C=$(dev_by_size %(c)d)
	run ivshmem_dmabuf v4l2 $C $V0 reqbufs0
	run ivshmem_dmabuf v4l2 $C $V0 remove $CP
	t "rescan brings $CP back" sh -c "echo 1 > /sys/bus/pci/rescan && sleep 1 && [ -e /sys/bus/pci/devices/$CP/driver ]"
	C=$(dev_by_size %(c)d)
	run ivshmem_dmabuf v4l2 $C $V0 reqbufs0
	run ivshmem_dmabuf v4l2 $C $V0 unplug
'''

# Elsewhere (arm64) the dma-bufs have no vmap: videobuf2-vmalloc refuses
# read-write and read-only ones alike at QBUF, so nothing streams and
# there is no capture to remove the device under.
DMABUF_VIVID_NOVMAP = '''
	for mode in novmap readonly; do
		run ivshmem_dmabuf v4l2 $C $V0 $mode
	done
	run ivshmem_dmabuf v4l2 $C $V1 static
	run ivshmem_dmabuf vgem $C
'''


@test(flavors=PCIEHP_ARCH)
def dmabuf(ctx):
    """DMA-BUF export: userspace mmap and the project's dynamic importer
    (tests/dmabuf_importer), both live across a sysfs unbind (device A)
    and a QMP device_del (device B); the kernel's own importers: V4L2
    vivid's capture queue (videobuf2 vmalloc: on x86 streams into the
    dma-bufs and releases them in every order, elsewhere refused at QBUF
    for want of a vmap; dma-contig: refused at QBUF) and DRM vgem (PRIME
    import refused), on x86 with device C unbound, removed and
    hot-unplugged under a streaming vivid. The host checks what the
    importers wrote. Not shared: it loads vivid and vgem and removes and
    rescans PCI devices, which the other tests of a shared boot would
    see. On arm64 device B sits behind a PCIe root port (pciehp), as in
    hot_unplug."""
    vmap = not ctx.flavor.arm64
    sizes = {'shm0': 1 << 20, 'shm1': 512 << 10, 'shm2': 4 << 20}
    data, paths, devs = {}, {}, []
    for name, size in sizes.items():
        data[name] = os.urandom(size)
        bus = None
        if name == 'shm1' and ctx.flavor.arm64:
            devs += ['-device', 'pcie-root-port,id=unplug-port,chassis=2']
            bus = 'unplug-port'
        paths[name], dev = plain_device(ctx.workdir, name, size, data[name],
                                        bus=bus)
        devs += dev
    kmods = kmods_with_deps(ctx.flavor, [VIVID, VGEM])
    loads = '\n'.join(
        '\tt "insmod %s" insmod /lib/kmods/%s.ko%s' % (
            os.path.basename(m), os.path.basename(m),
            ' n_devs=2 allocators=0,1' if m == VIVID else '')
        for m in kmods)
    vivid = (DMABUF_VIVID_X86 if vmap else DMABUF_VIVID_NOVMAP) % {
        'c': sizes['shm2']}
    g = ctx.boot('dmabuf', '''
if [ ! -e /lib/ivshmem/ivshmem_dmabuf_importer.ko ]; then
	skip "dma-buf export and import" "kernel without CONFIG_DMA_SHARED_BUFFER: no test importer"
else
	t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
	t "insmod ivshmem_dmabuf_importer.ko" insmod /lib/ivshmem/ivshmem_dmabuf_importer.ko
	A=$(dev_by_size %d)
	B=$(dev_by_size %d)
	C=$(dev_by_size %d)
	CP=$(pci_of $C)
	run ivshmem_dmabuf basic $A $(pci_of $A)
%s
	V0=platform:vivid-000
	V1=platform:vivid-001
%s
	run ivshmem_dmabuf basic $B
	t "rmmod vivid" rmmod vivid
	t "rmmod vgem" rmmod vgem
	t "rmmod the importer" rmmod ivshmem_dmabuf_importer
	t "rmmod ivshmem once its dma-bufs are gone" rmmod ivshmem
	echo IVT-DMABUF-RAN
fi
''' % (sizes['shm0'], sizes['shm1'], sizes['shm2'], loads, vivid),
        devs, kmods=kmods, timeout=1500)
    results = []
    # The guest asks for the hot-unplugs: device C under vivid (x86),
    # then B.
    unplugs = ('dev-shm2', 'dev-shm1') if vmap else ('dev-shm1',)
    for n, dev_id in enumerate(unplugs):
        if not wait_console(g, '(?s)(IVT-UNPLUG-NOW.*){%d}|IVT-SCRIPT-END' %
                            (n + 1), timeout=1500):
            break
        if len(re.findall('IVT-UNPLUG-NOW', g.text())) <= n:
            break
        reply = g.qmp('device_del', id=dev_id)
        results.append(('return' in reply, 'QMP device_del %s: %s' %
                        (dev_id, reply)))
    results = g.wait() + results
    if 'IVT-DMABUF-RAN' not in g.text():
        return g, results
    mark = b'dmabuf-importer-was-here'
    for name in ('shm0', 'shm1'):
        with open(paths[name], 'rb') as f:
            got = f.read()
        want = data[name]
        results.append((got[8192 + 100:8192 + 102] == b'DV',
                        '%s: the dma-buf and /dev mmap writes reached the '
                        'host' % name))
        if not vmap:
            continue
        results.append((got[16384:16384 + len(mark)] == mark,
                        '%s: the importer\'s vmap write reached the host' %
                        name))
        # After an unbind the device still decodes BAR2: the vmap the
        # importer kept reaches the memory; after a hot-unplug nothing.
        if name == 'shm0':
            results.append((got[8192:8192 + len(mark)] == mark,
                            'shm0: the importer\'s write through the vmap '
                            'it kept after the unbind reached BAR2 (the '
                            'device is still there)'))
        else:
            results.append((got[8192:8192 + 100] == want[8192:8192 + 100],
                            'shm1: the importer\'s write after the '
                            'hot-unplug did not reach the host'))
    if not vmap:
        return g, results
    # vivid's frames: what the guest read back through /dev mmap after
    # STREAMOFF is what the host's backing file holds (the removal runs
    # capture at other offsets).
    with open(paths['shm2'], 'rb') as f:
        got = f.read()
    frames = re.findall(r'IVT-V4L2 (\d+) (\d+) ([0-9a-f]{16})', g.text())
    last = {}
    for off, length, fnv in frames:
        last[int(off)] = (int(length), fnv)
    results.append((len(frames) >= 2 and len(last) == 2,
                    'shm2: vivid\'s frames reported (%d)' % len(frames)))
    for off, (length, fnv) in sorted(last.items()):
        h = 0xcbf29ce484222325
        for byte in got[off:off + length]:
            h = ((h ^ byte) * 0x100000001b3) & 0xffffffffffffffff
        results.append(('%016x' % h == fnv,
                        'shm2: the frame vivid captured at %#x (%d bytes) '
                        'is in the host\'s backing file' % (off, length)))
    return g, results


# ----------------------------------------------------------------- demo --

def demo_lines(guest):
    return [ln[len('demo:'):] for ln in guest.text().splitlines()
            if ln.startswith('demo:')]


def demo(flavor):
    """make demo: data and doorbells crossing between host and guests."""
    workdir = tempfile.mkdtemp(prefix='ivt-demo-')
    ok = True

    print('\n=== 1. Shared memory between the host and a guest '
          '(ivshmem-plain) ===')
    size = 16 << 20
    hello = ('Hello from the host, %s' % time.ctime()).encode()
    path, dev = plain_device(workdir, 'demo-shm', size,
                             hello + bytes(size - len(hello)))
    print('host: wrote "%s" at offset 0 of %s' % (hello.decode(), path))
    g = Guest(flavor, 'demo_plain', '''
insmod /lib/ivshmem/ivshmem.ko
echo "demo: guest (kernel $(uname -r)) loaded ivshmem.ko:"
ivshmem-msg info /dev/ivshmem0 | sed 's/^/demo:   /'
echo "demo: guest read() at offset 0: \"$(head -c 128 /dev/ivshmem0 | tr -d '\\000')\""
printf 'Hello back from the guest, kernel %s' "$(uname -r)" | dd of=/dev/ivshmem0 bs=4096 seek=1 2>/dev/null
echo "demo: guest wrote a reply at offset 4096 with write()"
''', dev, workdir=workdir).start()
    res = g.wait()
    for ln in demo_lines(g):
        print(ln)
    with open(path, 'rb') as f:
        f.seek(4096)
        reply = f.read(128).split(b'\0')[0].decode('utf-8', 'replace')
    print('host: read back from %s at offset 4096: "%s"' % (path, reply))
    ok &= all(r is not False for r, _ in res) and reply.startswith('Hello back')

    print('\n=== 2. A doorbell between two guests (ivshmem-doorbell and '
          'the project\'s ivshmem-server) ===')
    srv = Server(workdir, size='4M', vectors=1)
    print('host: %s -S %s -l 4M -n 1' % (SERVER, srv.sock))
    guests = []
    for name, cmd in (('demo_serve', 'ivshmem-msg serve'),
                      ('demo_send', 'ivshmem-msg send "ping from the '
                       'other VM"')):
        guests.append(Guest(flavor, name, '''
insmod /lib/ivshmem/ivshmem.ko
%s 2>&1 | sed 's/^/demo: [%s] /'
''' % (cmd, name[5:]), srv.device(name), workdir=workdir).start())
    for g in guests:
        res = g.wait()
        ok &= all(r is not False for r, _ in res)
    for g in guests:
        for ln in demo_lines(g):
            print(ln)
    stopped, _ = srv.stop()
    print('host: server log:')
    for ln in srv.text().splitlines():
        print('  ' + ln)
    ok &= stopped and any('got your' in ln for ln in
                          demo_lines(guests[1]))
    print('\ndemo %s' % ('done: data and a doorbell crossed between VMs'
                          if ok else 'FAILED (consoles in %s)' % workdir))
    if ok:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


# Each test's result count, per flavour: a check that vanishes (a program
# that stops half-way, a loop that runs fewer times, a section that is
# no longer reached) fails the test even when nothing printed "not ok".
EXPECTED = os.path.join(HARNESS, 'expected.json')


def load_expected():
    try:
        with open(EXPECTED) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


# The skips each test may report, per flavour: "flavour/test": [the
# skip's description with its digits as "#"]. A skip not listed here is
# a failure: a check that stopped meeting its condition does not pass
# silently. --update-expected adds the skips of a run without failures.
SKIPS = os.path.join(HARNESS, 'skips.json')


def load_skips():
    try:
        with open(SKIPS) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def skip_pattern(desc):
    """A skip's description as skips.json pins it: digits as "#"."""
    return re.sub(r'\d+', '#', desc)


def pin_skips(key, res, pins):
    """@res with each skip that @pins does not list for @key turned
    into a failure that names it."""
    allowed = set(pins.get(key, ()))
    return [(False, 'skips only what tests/harness/skips.json pins: '
             'unpinned skip "%s"' % desc)
            if ok is SKIP and skip_pattern(desc) not in allowed
            else (ok, desc) for ok, desc in res]


def flavor_tests(flavor, only=None):
    """The tests flavour @flavor runs: (name, fn), in TESTS order;
    @only: just these names."""
    series, _, kind = flavor.partition('-')
    kind = kind or 'stock'
    return [(name, fn) for name, fls, fn in TESTS
            if (kind in fls or flavor in fls) and
            (not only or name in only)]


def stale_check(path, entries):
    """The result that @path (a JSON file keyed "flavour/test") names
    only tests some flavour runs."""
    valid = {'%s/%s' % (f, name) for f in FLAVORS + OPT_IN
             for name, _ in flavor_tests(f)}
    stale = sorted(k for k in entries if k not in valid)
    return (not stale, '%s names only tests that run%s' % (
        os.path.relpath(path, ROOT),
        ': stale ' + ', '.join(stale) if stale else ''))


def count_check(key, n, expected):
    """The result that pins @key's result count to the declared one."""
    want = expected.get(key)
    if want is None:
        return (False, 'declares its result count (none recorded for %s in '
                'tests/harness/expected.json: %d results)' % (key, n))
    return (n == want, 'all %d declared results reported (%d)' % (want, n))


def debian_image(series, rt):
    """Debian's newest installed image of @series (PREEMPT_RT if @rt):
    (release, vmlinuz, headers) or None."""
    suffix = '-rt-amd64' if rt else '-amd64'
    found = []
    for f in os.listdir('/boot'):
        if not f.startswith('vmlinuz-' + series + '.') or \
                not f.endswith(suffix):
            continue
        rel = f[len('vmlinuz-'):]
        # "-amd64" also ends "-rt-amd64" and "-cloud-amd64": flavour exact.
        if rel[:-len(suffix)].endswith(('-rt', '-cloud')):
            continue
        if os.path.isdir('/usr/src/linux-headers-' + rel):
            found.append(rel)
    if not found:
        return None
    rel = sorted(found, key=lambda r: [int(x) if x.isdigit() else x
                                       for x in re.split(r'(\d+)', r)])[-1]
    return rel, '/boot/vmlinuz-' + rel, '/usr/src/linux-headers-' + rel


def debug_kernel(name):
    """The debug kernel flavour @name boots, as tests/kernel/build.sh's
    arguments joined by "-" ("6.1", "6.12", "6.12-arm64"); None for a
    flavour that boots a Debian image."""
    series, _, kind = name.partition('-')
    if kind == 'debug':
        return series
    if kind == 'arm64-debug':
        return series + '-arm64'
    return None


def build_kernel(kernel):
    """tests/kernel/build.sh for debug kernel @kernel (debug_kernel()):
    builds or reuses it, its progress on our stderr; its build tree."""
    return subprocess.run(
        [os.path.join(ROOT, 'tests', 'kernel', 'build.sh')] +
        kernel.split('-'), stdout=subprocess.PIPE, text=True,
        check=True).stdout.strip().splitlines()[-1]


def make_flavor(name, kdirs):
    """The Flavor called @name; @kdirs maps a debug kernel (debug_kernel())
    to a build tree given on the command line (else tests/kernel/build.sh)."""
    series, _, kind = name.partition('-')
    kind = kind or 'stock'
    kernel = debug_kernel(name)
    if kernel:
        kdir = kdirs.get(kernel)
        if kernel in kdirs and not kdir:
            raise RuntimeError('the %s debug kernel did not build (see '
                               'tests/kernel/build.sh above)' % kernel)
        if not kdir:
            kdir = build_kernel(kernel)
        image = 'arch/arm64/boot/Image' if kind == 'arm64-debug' else \
            'arch/x86/boot/bzImage'
        return Flavor(name, os.path.join(kdir, image), kdir, kind, series)
    if kind == 'arm64':
        # Builds or reuses the tree; its progress goes to our stderr.
        kdir = subprocess.run(
            [os.path.join(ROOT, 'tests', 'kernel', 'arm64-prep.sh'), 'stock'],
            stdout=subprocess.PIPE, text=True,
            check=True).stdout.strip().splitlines()[-1]
        with open(os.path.join(ARM64_STOCK, 'release')) as f:
            release = f.read().strip()
        return Flavor(name, os.path.join(ARM64_STOCK, 'boot',
                                         'vmlinuz-' + release),
                      kdir, kind, series)
    img = debian_image(series, kind == 'rt')
    if img is None:
        raise RuntimeError('no Debian %s %s kernel with headers installed '
                           '(tests/deps.sh installs them)' % (series, kind))
    return Flavor(name, img[1], img[2], kind, series)


def pick_flavors(wanted):
    """Flavour names for --flavor arguments: names, kinds or "default"
    (the FLAVORS). The OPT_IN flavours only when named or their kind is."""
    if not wanted:
        return list(FLAVORS)
    return [f for f in FLAVORS + OPT_IN
            if f in wanted or (f.partition('-')[2] or 'stock') in wanted or
            ('default' in wanted and f in FLAVORS)]


def stock_flavor():
    """Debian's default kernel (make demo)."""
    return make_flavor('6.1', {})


class FlavorRun:
    """One flavour's part of a run: its build, then its tests, each a task
    of the run's scheduler (tests of several flavours run side by side);
    results and printed lines are kept per test and put together in the
    order of TESTS when the flavour is done."""

    def __init__(self, name, kdirs, args, expected, progs, pins):
        self.name = name
        self.kdirs = kdirs
        self.args = args
        self.expected = expected
        self.pins = pins                # skips.json
        self.skips = {}                 # test key: its skips' patterns
        self.progs = progs
        self.fl = None
        self.build_out = ([], [])       # (lines, results) of the build
        self.per_test = {}              # test name: (lines, results)
        self.counts = {}
        self.seconds = {}               # test key: thread-seconds
        self.lines = []
        self.results = []

    def tests(self):
        """The tests this flavour runs: (name, fn), in TESTS order."""
        return flavor_tests(self.name, self.args.only)

    def build(self):
        """Build the modules; False if the flavour cannot run its tests."""
        lines, results = self.build_out

        def report(ok, desc):
            lines.append(('skip' if ok is SKIP else 'ok' if ok else
                          'not ok') + ' - ' + desc)
            results.append((ok, desc))
        started = time.time()
        try:
            fl = make_flavor(self.name, self.kdirs)
            warnings, kos = fl.build(self.progs)
        except Exception as e:      # a harness or build error: one failure
            report(False, '%s: the flavour ran to its end: %s: %s' %
                   (self.name, type(e).__name__, e))
            return False
        report(not warnings, '%s: modules build with W=1 without '
               'warnings%s' % (fl.name, '' if not warnings else
                               ': ' + warnings[0]))
        lines += ['    ' + w for w in warnings]
        self.seconds[self.name + '/[build]'] = time.time() - started
        log('%s: kernel %s, modules %s (built in %.0fs)' % (
            fl.name, fl.release, ' '.join(kos), time.time() - started))
        self.fl = fl
        return True

    def tasks(self, durations):
        """The scheduler's tasks: (name, fn) for a test of its own, or
        ('[shared N]', [(name, fn), ...]) for tests that share boots
        (ivt_shared.py; two or more, unless IVT_SHARE=0), in a few tasks
        of about equal expected time (ivt_shared.chains)."""
        tests = self.tests()
        shared = [t for t in tests if t[1].share is True or
                  (callable(t[1].share) and t[1].share())]
        if len(shared) < 2 or not ivt_shared.enabled():
            return tests
        return [t for t in tests if t not in shared] + \
            ivt_shared.chains(self.name, shared, durations)

    def run_task(self, name, fn):
        """Run a test, or tests that share boots ('[shared N]'). When a
        guest of theirs lost a CPU's timer (LOST_TIMER_RE), run them once
        more: the second run's results replace the first's, and each
        test notes why it ran twice."""
        def once():
            if name.startswith('[shared'):
                return ivt_shared.run_group(self, fn, name)
            return self.run_test(name, fn)
        lost = once()
        if not lost:
            return
        why = '; '.join(lost)
        log('%s %s: %s; running it once more' % (self.fl.name, name, why))
        once()
        for test, _ in (fn if name.startswith('[shared') else
                        [(name, fn)]):
            lines, _ = self.per_test.get(test, ([], []))
            lines.append('    %s/%s: note ran twice: in the first run %s '
                         '(its console is kept)' % (self.fl.name, test, why))

    def run_test(self, name, fn):
        """Run one test in boots of its own; return what lost_timers()
        says of its guests."""
        fl = self.fl
        workdir = tempfile.mkdtemp(prefix='ivt-%s-%s-' % (fl.name, name))
        ctx = Context(fl, workdir)
        started = time.time()
        try:
            g, res = fn(ctx)
        # A harness error, also SystemExit (which the harness's helpers
        # raise and a thread would otherwise die of silently): one failure.
        except (Exception, SystemExit) as e:
            g, res = None, [(False, 'the test ran to its end: %s: %s' %
                             (type(e).__name__, e))]
        lost = lost_timers(ctx.guests)
        if not self.report_test(name, ctx, g, res, time.time() - started) \
                and not self.args.keep and not lost:
            shutil.rmtree(workdir, ignore_errors=True)
        return lost

    def report_test(self, name, ctx, g, res, seconds, shared=None):
        """Record test @name's results @res (its guests in @ctx, @g the
        main one) and the @seconds it took; True if one failed. @shared:
        the work directory of the shared boot it ran in."""
        lines, results = [], []
        self.per_test[name] = (lines, results)

        def report(ok, desc):
            lines.append(('skip' if ok is SKIP else 'ok' if ok else
                          'not ok') + ' - ' + desc)
            results.append((ok, desc))
        fl, args = self.fl, self.args
        key = '%s/%s' % (fl.name, name)
        self.seconds[key] = seconds
        cpu = sum(getattr(each, 'cpu', 0) for each in ctx.guests)
        log('%s: %d results in %.0fs (%s)' % (
            key, len(res), seconds, 'QEMU %.0f CPU-s' % cpu if not shared
            else 'in the shared boot'))
        self.counts[key] = len(res)
        self.skips[key] = sorted({skip_pattern(d) for ok, d in res
                                  if ok is SKIP})
        if not args.update_expected:
            res = pin_skips(key, res, self.pins)
        res.append((SKIP, 'result count %d is being recorded' % len(res))
                   if args.update_expected else
                   count_check(key, len(res), self.expected))
        bad = False
        for ok, desc in res:
            report(ok, '%s: %s' % (key, desc))
            bad |= ok is False
        for each in ctx.guests:
            for line in getattr(each, 'bench', []):
                lines.append('    %s: %s' % (key, line))
        if bad:
            for each in ctx.guests or [g]:
                if each is None:
                    continue
                lines.append('--- console tail of %s/%s (%s%s) ---' %
                             (fl.name, each.name, each.console,
                              ', its segment of a shared boot' if shared
                              else ''))
                lines.append(each.tail())
                lines.append('--- end of console tail ---')
                rep = getattr(each, 'first_report', lambda: None)()
                if rep:
                    REPORTS.append(('%s/%s' % (fl.name, each.name), rep))
        return bad

    def finish(self):
        """Put the build's and the tests' lines and results together."""
        parts = [self.build_out] + [self.per_test[name]
                                    for name, _ in self.tests()
                                    if name in self.per_test]
        for lines, results in parts:
            self.lines += lines
            self.results += results


# A boot silent this long before the guest's /init spoke has hung: it is
# killed and booted once more. A boot prints a line every second or so
# (the longest gap in the boots kept here: 1.3 s of guest time), and a
# debug boot on a loaded host takes two minutes in all.
BOOT_SILENCE_S = 120

# A guest CPU that stopped taking timer interrupts. Seen once, in a CI
# run of 6.12-debug under TCG (QEMU 7.2), a minute after boot: CPU 1
# sat in idle, left it for IPIs only, and never ran a timer again (its
# timer softirq count stayed at 564 for 1100 s), so RCU's grace-period
# kthread, asleep on a timer of that CPU, never woke; the test's checks
# had passed, and what waited for a grace period next (module unload)
# hung until the timeout. RCU names it ("timer wakeup didn't happen ...
# Possible timer handling issue on cpu=N"). The guest is killed when its
# console says so, and its task runs once more (FlavorRun.run_task); the
# stall report fails every test of a run that meets it again.
LOST_TIMER_RE = re.compile(r'rcu:\s+Possible timer handling issue on '
                           r'cpu=\d+')
LOST_TIMER_SCAN_S = 5

# STALE_INT3: a kernel that traps on an int3 (0xcc) which its text does
# not hold: the report's "Code:" line (the text when it is printed) has
# another byte just before RIP. Under TCG with one thread per vCPU (QEMU
# 7.2, and 10.0.2 from bookworm-backports alike) a vCPU can, as far as we
# can tell, run a translation of kernel text made while the kernel patched
# it (jump labels and static calls: text_poke_bp() writes an int3 first,
# makes every CPU serialise, and removes it last): the kernel's int3
# handler no longer knows the address, and the kernel dies. Most likely
# what ended a CI run on 6.12-rt: the victim of net_hostile died with
# "Oops: int3" in its teardown (the log kept only that line; some 50 runs
# here did not repeat it). Reproduced without any module of ours by
# toggling a static key (sched_schedstats) for 240 s with the other vCPU
# busy: 8 of 8 boots of 6.12-rt and 2 of 2 of 6.12 died within 105 s (QEMU
# 10.0.2: 4 of 4 within 155 s), each at one of the key's jump labels, e.g.
# __schedule+0x98 ("0f <1f> 44 00 00": the 5-byte NOP that replaced the
# int3), update_curr_se+0x32 ("66 <90>", or "eb" with the key on). A guest
# whose console shows it after boot is killed and its task runs once more,
# as for a lost timer; a second one fails the test. Before boot, the boot
# is retried instead (Guest._wait()).
# The report's first line ("Oops: " before it from 6.12 on) and its Code
# line (the byte before the one in <>: the one before RIP).
INT3_RE = re.compile(r'\bint3: [0-9a-f]{4} \[#\d+\]')
CODE_RE = re.compile(r'Code: (?:[0-9a-f]{2} )*([0-9a-f]{2}) <[0-9a-f]{2}>')

# How many failures the end of the run repeats (the rest are above).
FAILURES_SHOWN = 16
# The end of the run repeats the opening lines of this many kernel
# reports too (the register dump and the call trace): a CI log cut to its
# head and tail keeps what a crash was, not only that there was one.
REPORTS_SHOWN = 2
REPORT_LINES = 45
# (flavour/guest, report) of each failed test's guests, in finishing order.
REPORTS = []


# Each test's thread-seconds in the last --update-expected run, for the
# scheduler's longest-first order (a test not in it gets a guess).
DURATIONS = os.path.join(HARNESS, 'durations.json')


def load_durations():
    try:
        with open(DURATIONS) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return {}


def estimate(durations, key, debug):
    """Expected thread-seconds of test (or build) @key."""
    if key in durations:
        return durations[key]
    return 60 if debug else 30


def task_estimate(durations, flavor, name, fn, debug):
    """Expected thread-seconds of a task of FlavorRun.tasks(): a test,
    or a shared boot (its members' recorded times, which include their
    part of the one boot; a member timed in a boot of its own loses the
    boot and kmemleak scan it no longer needs)."""
    if not name.startswith('[shared'):
        return estimate(durations, '%s/%s' % (flavor, name), debug)
    return sum(estimate(durations, '%s/%s' % (flavor, n), debug)
               for n, _ in fn)


class Scheduler:
    """Runs a make check's tasks on --jobs threads, longest first.

    Tasks: each debug kernel (built one after the other: the cache has one
    lock), each flavour's module build (after its kernel), each test
    (after its flavour's build). A free thread takes the ready task with
    the longest expected path to the end of the run (its own time plus
    the longest test it unlocks), so that the long tests of every flavour
    start early and the run does not end on one long test; on a cold
    cache the stock and RT flavours' tests run while the debug kernels
    build. Tests that share a lock (fn.exclusive) run one at a time.
    """

    def __init__(self, runs, jobs, durations, kdirs):
        self.runs = runs
        self.kdirs = kdirs
        self.jobs = jobs
        self.cond = threading.Condition()
        self.tasks = []             # [priority, kind, flavour run, test]
        self.left = {}              # flavour run: tasks not yet done
        kernels = []
        for fr in runs:
            debug = fr.name.endswith('-debug')
            tests = fr.tasks(durations)
            cost = [task_estimate(durations, fr.name, n, fn, debug)
                    for n, fn in tests]
            build = estimate(durations, fr.name + '/[build]', False)
            if debug and debug_kernel(fr.name) not in kdirs:
                kernels.append(fr)
            self.tasks.append([build + max(cost or [0]), 'build', fr, None])
            for (name, fn), c in zip(tests, cost):
                self.tasks.append([c, 'test', fr, (name, fn)])
            self.left[fr] = 1 + len(tests)
        # The kernels first: on a cold cache they are the longest path.
        self.kernels = [debug_kernel(fr.name) for fr in kernels]
        self.kernel_busy = False
        self.built = set()          # flavour runs whose build is done
        self.failed = set()         # ... whose build failed
        self.held = set()           # exclusive resources in use
        self.finished = []          # flavour runs done, in order

    def _ready(self, task):
        _, kind, fr, _ = task
        if kind == 'build':
            return debug_kernel(fr.name) not in self.kernels
        # A test whose function says .exclusive = NAME (the packaging
        # tests: one lock for dpkg, DKMS and make install) waits while
        # another holds NAME, instead of blocking a thread on the lock.
        exclusive = getattr(task[3][1], 'exclusive', None)
        return fr in self.built and (exclusive is None or
                                     exclusive not in self.held)

    def _take(self):
        """The next task (called with self.cond held), or None when all
        are done; waits while every remaining task waits for another."""
        while True:
            if self.kernels and not self.kernel_busy:
                self.kernel_busy = True
                return ('kernel', self.kernels[0], None)
            ready = [t for t in self.tasks if self._ready(t)]
            if ready:
                task = max(ready, key=lambda t: t[0])
                self.tasks.remove(task)
                if task[1] == 'test' and \
                        getattr(task[3][1], 'exclusive', None):
                    self.held.add(task[3][1].exclusive)
                return tuple(task[1:])
            if not self.tasks and not self.kernels:
                return None
            self.cond.wait()

    def _done(self, fr):
        self.left[fr] -= 1
        if self.left[fr] == 0:
            fr.finish()
            self.finished.append(fr)
            with PRINT_LOCK:
                sys.stdout.write(''.join(line + '\n' for line in fr.lines))
                sys.stdout.flush()

    def worker(self):
        while True:
            with self.cond:
                task = self._take()
            if task is None:
                return
            kind, fr, test = task
            if kind == 'kernel':
                kernel = fr
                try:
                    self.kdirs[kernel] = build_kernel(kernel)
                except (subprocess.CalledProcessError, IndexError):
                    self.kdirs[kernel] = None   # the build reports it
                with self.cond:
                    self.kernels.remove(kernel)
                    self.kernel_busy = False
                    self.cond.notify_all()
                continue
            if kind == 'build':
                ok = fr.build()
                with self.cond:
                    if ok:
                        self.built.add(fr)
                    else:           # its tests cannot run
                        dropped = [t for t in self.tasks if t[2] is fr]
                        for t in dropped:
                            self.tasks.remove(t)
                        self.left[fr] -= len(dropped)
                    self._done(fr)
                    self.cond.notify_all()
                continue
            exclusive = getattr(test[1], 'exclusive', None)
            try:
                fr.run_task(*test)
            finally:
                # Whatever happened, the flavour's count goes down, so it
                # is printed and the run ends.
                with self.cond:
                    self.held.discard(exclusive)
                    self._done(fr)
                    self.cond.notify_all()

    def run(self):
        threads = [threading.Thread(target=self.worker)
                   for _ in range(max(1, self.jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--debug-kdir', action='append', default=[],
                    metavar='[SERIES[-arm64]=]DIR',
                    help='build tree of a debug test kernel (default: '
                    'tests/kernel/build.sh SERIES [arm64] builds or '
                    'reuses it)')
    ap.add_argument('--demo', action='store_true',
                    help='run the demo on the stock kernel instead')
    ap.add_argument('--flavor', action='append',
                    choices=FLAVORS + OPT_IN + ANY_ARCH + ('default',),
                    help='kernels to test on: a flavour, a kind, or '
                    '"default" (all of %s); %s only when named' % (
                        ', '.join(FLAVORS), ', '.join(OPT_IN)))
    ap.add_argument('--only', action='append', help='run only these tests')
    ap.add_argument('--keep', action='store_true',
                    help='keep the guests\' work directories')
    ap.add_argument('--jobs', type=int,
                    default=int(os.environ.get('IVT_JOBS', '2')),
                    help='tasks (a flavour\'s build, a test) run at once '
                    '(default 2, or $IVT_JOBS)')
    ap.add_argument('--update-expected', action='store_true',
                    help='after a run with no failure, record each test\'s '
                    'result count in tests/harness/expected.json')
    args = ap.parse_args()
    if args.only:
        known = {name for name, _, _ in TESTS}
        wrong = [o for o in args.only if o not in known]
        if wrong:
            ap.error('--only: no test called %s (tests: %s)' % (
                ', '.join(wrong), ', '.join(sorted(known))))
        if not any(flavor_tests(f, args.only)
                   for f in pick_flavors(args.flavor)):
            ap.error('--only %s: no flavour of this run has it' %
                     ', '.join(args.only))

    if args.demo:
        fl = stock_flavor()
        fl.build(build_progs())
        return demo(fl)
    kdirs = {}
    for arg in args.debug_kdir:
        series, _, path = arg.rpartition('=')
        kdirs[series or '6.1'] = path
    t_start = time.time()
    names = pick_flavors(args.flavor)
    expected = load_expected()
    pins = load_skips()
    progs = build_progs(sorted({'arm64' if '-arm64' in n else 'x86_64'
                                for n in names}))
    # Tasks run on --jobs threads, longest first (Scheduler); each
    # flavour's lines are printed as one block when its last test ends,
    # progress ("[ivt] ...") as it happens.
    runs = [FlavorRun(n, kdirs, args, expected, progs, pins)
            for n in names]
    durations = load_durations()
    Scheduler(runs, args.jobs, durations, kdirs).run()

    counts = {}
    seconds = {}
    skips = {}
    results = []
    for fr in runs:
        counts.update(fr.counts)
        seconds.update(fr.seconds)
        skips.update(fr.skips)
        results += fr.results
    # The pins name only tests that run (a test renamed or removed
    # leaves no pin behind that nothing checks).
    for path, entries in ((EXPECTED, expected), (SKIPS, pins)):
        ok, desc = stale_check(path, entries)
        print('%s - %s' % ('ok' if ok else 'not ok', desc))
        results.append((ok, desc))
    passed = sum(1 for ok, _ in results if ok is True)
    failed = sum(1 for ok, _ in results if ok is False)
    skipped = sum(1 for ok, _ in results if ok is SKIP)
    # A behaviour is a result without its flavour and its figures.
    distinct = {re.sub(r'\d+', '#', d.split('/', 1)[-1]) for _, d in results}

    if args.update_expected:
        if failed:
            log('not updating %s: %d failed' % (EXPECTED, failed))
        else:
            # Read again: another run may have recorded other tests
            # meanwhile; only the tests of this run change.
            now = load_expected()
            now.update(counts)
            with open(EXPECTED, 'w') as f:
                json.dump(now, f, indent=1, sort_keys=True)
                f.write('\n')
            log('recorded the result counts of %d tests in %s' %
                (len(counts), EXPECTED))
            # The skips this run saw join the pins of their tests (a
            # race outcome a run did not meet keeps its pin).
            now = load_skips()
            for key, seen in skips.items():
                both = sorted(set(now.get(key, ())) | set(seen))
                if both:
                    now[key] = both
            with open(SKIPS, 'w') as f:
                json.dump(now, f, indent=1, sort_keys=True)
                f.write('\n')
            log('recorded the skips of %d tests in %s' % (
                sum(1 for v in skips.values() if v), SKIPS))
            now = load_durations()
            now.update({k: round(v) for k, v in seconds.items()})
            with open(DURATIONS, 'w') as f:
                json.dump(now, f, indent=1, sort_keys=True)
                f.write('\n')
    # The failures again, just above the last lines: a CI log that keeps
    # only its head and its tail still names them.
    bad = [d for ok, d in results if ok is False]
    if bad:
        log('%d failed, repeated from above:' % len(bad))
        for d in bad[:FAILURES_SHOWN]:
            print('# failed: ' + d)
        if len(bad) > FAILURES_SHOWN:
            print('# ... and %d more above' % (len(bad) - FAILURES_SHOWN))
        for who, rep in REPORTS[:REPORTS_SHOWN]:
            print('# --- the first kernel report of %s ---' % who)
            print('\n'.join('# ' + ln for ln in rep.splitlines()))
        if len(REPORTS) > REPORTS_SHOWN:
            print('# ... and %d more kernel reports above'
                  % (len(REPORTS) - REPORTS_SHOWN))
    # Where the time went: thread-seconds per flavour (its build and its
    # tests), and how busy the CPUs were (all of QEMU, make and gcc).
    per = {fr.name: sum(v for k, v in fr.seconds.items()) for fr in runs}
    ru = [resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                          resource.RUSAGE_CHILDREN)]
    cpu = sum(r.ru_utime + r.ru_stime for r in ru)
    wall = time.time() - t_start
    log('thread-seconds: %s; total %.0f on %d jobs; CPU %.0f s in %.0f s '
        '(%.2f cores busy)' % (', '.join('%s %.0f' % kv for kv in
                                         per.items()),
                               sum(per.values()), args.jobs, cpu, wall,
                               cpu / max(wall, 1)))
    if os.environ.get('IVT_T0', '').isdigit():
        log('wall time %ds (make check)' %
            (time.time() - int(os.environ['IVT_T0'])))
    total = passed + failed + skipped
    print('# %d results: %d distinct behaviours, %d repeats (per flavour, '
          'per boot, per vector)' % (total, len(distinct),
                                     total - len(distinct)))
    print('%d passed, %d failed, %d skipped' % (passed, failed, skipped))
    return 1 if failed or not passed else 0


# Doorbell tests, packaging tests (udev, install, DKMS) and the channel
# tests register themselves here.
import ivt_doorbell  # noqa: E402,F401
import splat_texts  # noqa: E402,F401
import ivt_packaging  # noqa: E402,F401
import ivt_chan  # noqa: E402,F401
import ivt_net  # noqa: E402,F401
import ivt_shared  # noqa: E402


if __name__ == '__main__':
    sys.exit(main())
