#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot the kernel series' guest driver: a smoke test of the in-tree code.

    tests/series/smoke.py [TREE]

TREE is the git copy of linux-source-6.12 that tests/series/check.sh
applied the series to (default: its place in $IVSHMEM_CACHE). The series'
drivers/virt/ivshmem/ (no compat.h) is built as an external module
against Debian's stock 6.12 headers (CONFIG_IVSHMEM=m; the stock kernel
has no KUnit) and loaded in a guest of the harness (tests/harness/ivt.py)
on Debian's 6.12 image, with two doorbell devices on the project's
ivshmem server: a message written through one device's mmap is read
through the other's, and a ring on every vector reaches the other. The
series' host module (drivers/virt/ivshmem/host/, CONFIG_IVSHMEM_HOST=m;
Debian's kernel has no ACRN_HSM, which the module needs only in Kconfig)
is built and loaded the same way, with the project's HSM double
(tests/hsm_double) standing in for HSM: a dm-land region is created,
mapped and pinned through HSM's SET_MEMSEG, and HSM's walk and vmap see
its 2 MiB folios and data (ivshmem-host-pins smoke).
Prints ok/not ok lines; exits non-zero on a failure.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'harness'))
import ivt  # noqa: E402


def main():
    cache = os.environ.get('IVSHMEM_CACHE', '/var/cache/ivshmem-test')
    ver = subprocess.run(['dpkg-query', '-W', '-f=${Version}',
                          'linux-source-6.12'], capture_output=True,
                         text=True, check=True).stdout
    tree = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(cache, 'series-' + ver, 'linux')
    flavor = ivt.make_flavor('6.12', {})
    flavor.out = os.path.join(ivt.BUILD, 'series-smoke')
    src = os.path.join(flavor.out, 'src')
    os.makedirs(src, exist_ok=True)
    ivt.run(['rsync', '-a', '--delete', '--exclude', '/host',
             os.path.join(tree, 'drivers/virt/ivshmem') + '/', src + '/'])
    # The series' uapi header, which Debian's headers do not have.
    inc = os.path.join(flavor.out, 'include')
    os.makedirs(os.path.join(inc, 'linux'), exist_ok=True)
    ivt.run(['cp', os.path.join(tree, 'include/uapi/linux/ivshmem.h'),
             os.path.join(inc, 'linux')])
    ivt.log('building the series\' drivers/virt/ivshmem against %s' %
            flavor.kdir)
    out = ivt.run(['make', '-C', flavor.kdir, 'M=' + src, 'W=1',
                   'KCFLAGS=-I' + inc, 'CONFIG_IVSHMEM=m', 'modules'])
    results = [(not [ln for ln in out.splitlines()
                     if 'warning:' in ln or 'error:' in ln],
                'the series\' guest driver builds W=1 against %s' %
                os.path.basename(flavor.kdir))]
    # The series' host module, and the HSM double standing in for HSM.
    hsrc = os.path.join(flavor.out, 'host')
    ivt.run(['rsync', '-a', '--delete',
             os.path.join(tree, 'drivers/virt/ivshmem/host') + '/',
             hsrc + '/'])
    ivt.run(['cp', os.path.join(tree, 'include/uapi/linux/ivshmem_host.h'),
             os.path.join(inc, 'linux')])
    out = ivt.run(['make', '-C', flavor.kdir, 'M=' + hsrc, 'W=1',
                   'KCFLAGS=-I' + inc, 'CONFIG_IVSHMEM_HOST=m', 'modules'])
    results.append((not [ln for ln in out.splitlines()
                         if 'warning:' in ln or 'error:' in ln],
                    'the series\' host module builds W=1 against %s' %
                    os.path.basename(flavor.kdir)))
    dsrc = os.path.join(flavor.out, 'double')
    for sub in ('compat.h', 'uapi', 'tests/hsm_double'):
        os.makedirs(os.path.dirname(os.path.join(dsrc, sub)), exist_ok=True)
        ivt.run(['rsync', '-a', '--delete', '--exclude', '*.o',
                 '--exclude', '*.ko', '--exclude', '.*.cmd',
                 os.path.join(ivt.ROOT, sub) +
                 ('/' if sub != 'compat.h' else ''),
                 os.path.join(dsrc, sub) + ('/' if sub != 'compat.h' else
                                            '')])
    ivt.run(['make', '-C', flavor.kdir,
             'M=' + os.path.join(dsrc, 'tests/hsm_double'), 'modules'])
    with open(os.path.join(flavor.kdir, 'include', 'generated',
                           'utsrelease.h')) as f:
        flavor.release = f.read().split('"')[1]
    progs = ivt.build_progs()
    flavor.initrd = ivt.make_initramfs(
        flavor, [os.path.join(src, 'ivshmem.ko'),
                 os.path.join(hsrc, 'ivshmem_host.ko'),
                 os.path.join(dsrc, 'tests/hsm_double',
                              'ivshmem_hsm_double.ko')], progs['x86_64'])
    flavor.kernel = ivt.pvh_kernel(flavor.kernel, flavor.out)

    workdir = tempfile.mkdtemp(prefix='ivt-series-')
    srv = ivt.Server(workdir, size='4M')
    devs = srv.device('a', addr=4) + srv.device('b', addr=5)
    script = '''
t "insmod the series' ivshmem.ko" insmod /lib/ivshmem/ivshmem.ko
eq "two device nodes" "$(ls /dev/ivshmem* | wc -l)" 2
A=/dev/ivshmem0
B=/dev/ivshmem1
printf 'hello from the series' > $A
run ivshmem_test mmap-cat $B > /tmp/b
eq "mmap of B reads what A wrote" "$(head -c 21 /tmp/b)" "hello from the series"
run ivshmem_doorbell vectors $A $B
eq "B counted one interrupt per vector" "$(cat /sys/class/ivshmem/ivshmem1/irq_counts)" "1 1 1 1 1 1 1 1"
t "insmod the series' ivshmem_host.ko" insmod /lib/ivshmem/ivshmem_host.ko
t "insmod the HSM double" insmod /lib/ivshmem/ivshmem_hsm_double.ko
run ivshmem-host-pins smoke
t "rmmod the HSM double (its pins released)" rmmod ivshmem_hsm_double
t "rmmod the series' ivshmem_host" rmmod ivshmem_host
'''
    g = ivt.Guest(flavor, 'series_smoke', script, devs, workdir=workdir)
    g.start()
    results += g.wait()
    results.append(srv.stop())
    failed = 0
    for ok, desc in results:
        print('%s - series smoke (6.12): %s' % ('ok' if ok else 'not ok',
                                                desc))
        failed += not ok
    if failed:
        print(g.tail())
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
