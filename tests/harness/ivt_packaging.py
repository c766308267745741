# SPDX-License-Identifier: GPL-2.0
"""Packaging tests of the ivt harness: udev rules, make install, DKMS.

Imported by ivt.py after its own tests; registers with ivt's @test():

* udev_names: a stock-kernel guest runs the real systemd-udevd (copied
  from the host's udev package with its libraries) with the project's
  udev/ rules and checks the /dev/ivshmem/by-path links, the absence of
  by-region links for QEMU devices, the group example's permissions and
  the links going away on rmmod.
* udev_rules, install, dkms: the host-side shell tests tests/udev.sh,
  tests/install.sh and tests/dkms.sh, each "ok"/"not ok" line one result.
  install runs with each stock flavour, for its kernel, in the tree the
  flavour's build made (no second build): staged; with 6.1 also live,
  with 6.12 a staged install for the 6.12 debug kernel, built from
  scratch. dkms (make
  dkms-install / dkms-remove) runs with 6.1.
* deb: tests/deb.sh (make deb, lintian, dpkg -i, DKMS, dpkg --purge) on
  6.1: the package's postinst builds for 6.1, DKMS's header_postinst.d
  hook for 6.12; then a stock-kernel guest loads the modules DKMS built
  from the package.

Which DKMS builds run where: DKMS builds the same modules with the same
dkms.conf and make whatever the kernel, so each stock series has its
DKMS build once through the package (deb), and 6.1 also through the
Makefile's targets (dkms: 6.1 rather than 6.12 because each DKMS install
and remove runs depmod -a, 1-4 s on 6.1 and 8-17 s on 6.12, whose
modules are xz-compressed); none runs for the PREEMPT_RT kernels, whose
flavours build the same modules W=1 against their headers and load them
in every guest test.
"""

import os
import re
import shutil
import subprocess
import sys

# ivt.py runs as __main__; register with that module, not a second copy.
_main = sys.modules.get('__main__')
if 'ivt' not in sys.modules and \
        os.path.basename(getattr(_main, '__file__', '')) == 'ivt.py':
    sys.modules['ivt'] = _main
import ivt  # noqa: E402

ROOT = ivt.ROOT
UDEVADM = '/usr/bin/udevadm'
IVSHMEM_GID = 4242


def _copy_into(stage, path):
    """Copy host file @path to the same path under @stage (no symlinks)."""
    dst = os.path.join(stage, path.lstrip('/'))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy(path, dst)


def _stage_udev(stage):
    """Put systemd-udevd, udevadm, their libraries and the rules in
    @stage, the guest's extra initramfs directory."""
    _copy_into(stage, UDEVADM)
    udevd = os.path.join(stage, 'lib', 'systemd', 'systemd-udevd')
    os.makedirs(os.path.dirname(udevd), exist_ok=True)
    if not os.path.lexists(udevd):
        os.symlink(UDEVADM, udevd)
    ldd = ivt.run(['ldd', UDEVADM])
    for lib in re.findall(r'(/\S+) \(0x', ldd):
        _copy_into(stage, lib)
    rules = os.path.join(stage, 'lib', 'udev', 'rules.d')
    os.makedirs(rules, exist_ok=True)
    shutil.copy(os.path.join(ROOT, 'udev', '90-ivshmem.rules'), rules)
    local = os.path.join(stage, 'etc', 'udev', 'rules.d')
    os.makedirs(local, exist_ok=True)
    shutil.copy(os.path.join(ROOT, 'udev', '91-ivshmem-group.rules.example'),
                os.path.join(local, '91-ivshmem-group.rules'))
    etc = os.path.join(stage, 'etc')
    with open(os.path.join(etc, 'passwd'), 'w') as f:
        f.write('root:x:0:0:root:/:/bin/sh\n')
    with open(os.path.join(etc, 'group'), 'w') as f:
        f.write('root:x:0:\nivshmem:x:%d:\n' % IVSHMEM_GID)
    with open(os.path.join(etc, 'nsswitch.conf'), 'w') as f:
        f.write('passwd: files\ngroup: files\n')


# Not shared: it stages udevd in its own initramfs and names the PCI
# addresses it gave its devices.
@ivt.test(flavors=('6.1',))
def udev_names(ctx):
    """udev/90-ivshmem.rules with the real udevd in a guest."""
    devs, script = [], '''
mkdir -p /run
mount -t tmpfs tmpfs /run
t "systemd-udevd starts" /lib/systemd/systemd-udevd --daemon
t "insmod ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
udevadm trigger --action=add --subsystem-match=ivshmem
udevadm settle --timeout=60 || echo "not ok - udevadm settle: udev events still queued after 60 s"
eq "two by-path links" "$(ls /dev/ivshmem/by-path | wc -l)" 2
eq "no by-region link for QEMU devices (no region_id)" \\
	"$(ls /dev/ivshmem/by-region 2>/dev/null)" ""
'''
    for i, size in enumerate((2 << 20, 4 << 20)):
        addr = 4 + i
        _, dev = ivt.plain_device(ctx.workdir, 'shm%d' % i, size, addr=addr)
        devs += dev
        script += '''
L=/dev/ivshmem/by-path/pci-0000:00:%(addr)02x.0
t "$L is a link" test -L $L
eq "$L leads to the %(size)d-byte device" \\
	"$(cat /sys/class/ivshmem/$(basename "$(readlink $L)")/size)" %(size)d
D=$(dev_by_size %(size)d)
eq "$D: group example gives group ivshmem mode 0660" \\
	"$(stat -c '%%a %%g' $D)" "660 %(gid)d"
''' % {'addr': addr, 'size': size, 'gid': IVSHMEM_GID}
    script += '''
t "rmmod ivshmem" rmmod ivshmem
udevadm settle --timeout=60 || echo "not ok - udevadm settle after rmmod: events still queued after 60 s"
eq "the links go with the devices" "$(ls /dev/ivshmem/by-path 2>/dev/null)" ""
udevadm control --exit
'''
    stage = os.path.join(ctx.workdir, 'extra-udev_names')
    _stage_udev(stage)
    g = ctx.boot('udev_names', script, devs)
    return g, g.wait()


class HostRun:
    """A host-side shell test, shaped like a Guest for ivt's report."""

    def __init__(self, name, cmd, workdir, env=None):
        self.name = name
        self.console = os.path.join(workdir, name + '.log')
        self.bench = []
        ivt.log('running %s' % ' '.join(cmd))
        with open(self.console, 'w') as f:
            self.rc = subprocess.call(cmd, cwd=ROOT, stdout=f,
                                      stderr=subprocess.STDOUT,
                                      env=dict(os.environ, **(env or {})))

    def text(self):
        with open(self.console, errors='replace') as f:
            return f.read()

    def tail(self, n=60):
        return '\n'.join(self.text().splitlines()[-n:])

    def results(self):
        res = ivt.parse_results(self.text())
        res.append((self.rc == 0 and len(res) > 0,
                    '%s exits 0 (exit %d, %d checks)' %
                    (self.name, self.rc, len(res))))
        return res


def _kernel_env(ctx):
    """The packaging scripts' kernel: the flavour's own release, and for
    install.sh the flavour's build tree (built W=1 against that kernel's
    headers: make install reuses its objects). The staged install for the
    debug kernel runs once, with 6.12, whose debug kernel make check's
    default matrix builds; the live install once, with 6.1."""
    rel = ctx.flavor.release
    env = {'INSTALL_KERNEL': rel, 'DKMS_KERNEL': rel, 'DEB_KERNEL': rel,
           'INSTALL_SRC': os.path.join(ctx.flavor.out, 'src')}
    if ctx.flavor.series != '6.12':
        env['INSTALL_DEBUG_KDIR'] = 'none'
    if ctx.flavor.series != '6.1':
        env['INSTALL_LIVE'] = 'none'
    return env


def _shell_test(ctx, name, script):
    h = HostRun(name, [os.path.join(ROOT, 'tests', script)], ctx.workdir,
                env=_kernel_env(ctx))
    return h, h.results()


@ivt.test(flavors=('6.1',))
def udev_rules(ctx):
    """tests/udev.sh: the rules on a fake sysfs, ACRN and QEMU devices."""
    return _shell_test(ctx, 'udev_rules', 'udev.sh')


@ivt.test(flavors=('stock',))
def install(ctx):
    """tests/install.sh: make install / make uninstall, staged and live."""
    return _shell_test(ctx, 'install', 'install.sh')


@ivt.test(flavors=('6.1',))
def dkms(ctx):
    """tests/dkms.sh: make dkms-install (twice) and make dkms-remove for
    Debian's 6.1 kernel. Not on 6.12: deb's DKMS build for 6.12 (the
    header_postinst.d hook) runs the same dkms build/install with the
    same dkms.conf, and 6.12's depmod -a is slow (see above)."""
    return _shell_test(ctx, 'dkms', 'dkms.sh')


@ivt.test(flavors=('6.1',))
def deb(ctx):
    """tests/deb.sh (make deb, lintian, dpkg -i, DKMS, dpkg --purge), then
    the modules DKMS built from the package in a stock-kernel guest. Once,
    on 6.1: dpkg -i sees 6.1's headers only (the postinst builds for 6.1
    and skips the kernels without headers), then 6.12's headers "arrive"
    and DKMS's hook builds for 6.12; deb.sh checks both builds. The RT
    kernels' headers stay hidden (see tests/deb.sh, "Which kernels")."""
    stage = os.path.join(ctx.workdir, 'extra-deb')
    out = os.path.join(stage, 'lib', 'ivshmem-deb')
    env = _kernel_env(ctx)
    late = ivt.debian_image('6.12', False)
    if late:
        env['DEB_LATE_KERNEL'] = late[0]
    h = HostRun('deb', [os.path.join(ROOT, 'tests', 'deb.sh'), out],
                ctx.workdir, env=env)
    ctx.guests.append(h)        # its log in the report on a failure
    results = h.results()
    if not os.path.exists(os.path.join(out, 'ivshmem.ko')):
        results.append((ivt.SKIP, 'stock guest loads the packaged modules: '
                        'tests/deb.sh exported none (see its log)'))
        return h, results
    # The packaged ivshmem-msg is a dynamic executable: its libraries too.
    msg = os.path.join(out, 'ivshmem-msg')
    for lib in re.findall(r'(/\S+) \(0x', ivt.run(['ldd', msg])):
        _copy_into(stage, lib)
    with open(os.path.join(ROOT, 'VERSION')) as f:
        version = f.read().strip()
    size = 2 << 20
    data = os.urandom(size)
    _, dev = ivt.plain_device(ctx.workdir, 'shm0', size, data)
    g = ctx.boot('deb', '''
P=/lib/ivshmem-deb
t "insmod the packaged ivshmem.ko (built by DKMS)" insmod $P/ivshmem.ko
eq "/sys/module/ivshmem/version is VERSION" "$(cat /sys/module/ivshmem/version)" %(ver)s
D=/dev/ivshmem0
t "$D exists" test -c $D
run ivshmem_test info $D > /tmp/info
eq "open + info ioctl: size" "$(grep ^size= /tmp/info)" size=%(size)d
eq "info ioctl: reserved fields zero" "$(grep ^reserved= /tmp/info)" reserved=0
eq "mmap sees the host's bytes" "$(run ivshmem_test mmap-cat $D | sha)" %(hash)s
eq "the packaged ivshmem-msg info reports the device" \\
	"$(run $P/ivshmem-msg info $D | head -1 | cut -d, -f1)" \\
	"$D: %(size)d bytes shared"
t "rmmod ivshmem" rmmod ivshmem
if [ -e $P/ivshmem_host.ko ]; then
	t "insmod the packaged ivshmem_host.ko" insmod $P/ivshmem_host.ko
	eq "/sys/module/ivshmem_host/version is VERSION" \\
		"$(cat /sys/module/ivshmem_host/version)" %(ver)s
	t "rmmod ivshmem_host" rmmod ivshmem_host
else
	skip "the packaged ivshmem_host.ko" "not built on this architecture"
fi
''' % {'ver': version, 'size': size, 'hash': ivt.sha256(data)}, dev)
    return g, results + g.wait()


# tests/deb.sh, dkms.sh and install.sh share one lock (dpkg, DKMS, make
# install): the scheduler runs one of them at a time rather than leave a
# thread waiting on the lock.
for _fn in (install, dkms, deb):
    _fn.exclusive = 'packaging'
