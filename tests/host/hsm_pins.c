// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-host-pins: ivshmem_host.ko's dm-land memory under HSM's pins,
 * with the HSM test double (tests/hsm_double, /dev/acrn_hsm_double)
 * standing in for /dev/acrn_hsm. Run inside the guest by
 * tests/host/e2e.sh with both modules loaded.
 *
 *   ivshmem-host-pins smoke     an attachment's mapping under HSM's
 *                               SET_MEMSEG: pinned (not VM_PFNMAP), its
 *                               folios as region ops, data both ways
 *                               through the vmap; the region keeps it
 *   ivshmem-host-pins resets MB N
 *                               (in VM 1's mount namespace, e2e.sh in_vm)
 *                               acrn-dm across N guest resets through the
 *                               filesystem on one HSM VM fd: the same
 *                               memory comes back, data intact, free
 *                               memory drops by MB once; REMOVE while
 *                               pinned leaves it to the pins, and
 *                               DESTROY_VM's unpin frees it at once
 *   ivshmem-host-pins handover 1|2
 *                               (in_vm 1, then in_vm 2) VM 1's acrn-dm
 *                               writes and exits (its pins released);
 *                               VM 2's, started later, reads it
 *   ivshmem-host-pins slots     (in_vm) resets until HSM's 256 mapping
 *                               slots run out: ENOMEM, nothing more
 *                               pinned; a failed mmap's MAP_FAILED at
 *                               SET_MEMSEG; DESTROY_VM unpins everything
 *   ivshmem-host-pins crash     (in_vm) acrn-dm SIGKILLed while pinned:
 *                               no pin left, the restarted one finds
 *                               its data
 *   ivshmem-host-pins doorbell  rings through HSM's IRQFD and a guest's
 *                               doorbell write through its IOEVENTFD
 *   ivshmem-host-pins abuse     REMOVE while open, mapped and pinned,
 *                               then ADD of the name: another region ID
 *                               and inode, new zeroed memory, the pins
 *                               read the old; a forked child's mapping
 *                               holds a removed region
 *   ivshmem-host-pins inject MB [big]
 *                               fail_folios (debugfs): failed 2 MiB allocations
 *                               cost their own chunk only; with "big" a
 *                               512 MiB region of 4 KiB pages only, more
 *                               region ops than HSM can allocate, is
 *                               refused (ENOMEM, logged)
 *   ivshmem-host-pins memcg     the cgroup that added a region pays for
 *                               it: a limit below its size there fails
 *                               any ATTACH with ENOMEM, nothing changes;
 *                               memory.current follows the region
 *                               (skipped without CONFIG_MEMCG)
 *   ivshmem-host-pins hold      pin a region's memory, close the control
 *                               node, print "held", and on SIGUSR1 (after
 *                               the harness unloaded ivshmem_host) read it
 *                               through HSM's vmap and destroy the VM
 *
 * Prints "ok - " / "not ok - " / "skip - " lines and exits with the
 * number of failed checks (125 when a call it needs fails).
 *
 * Build: gcc -static -O2 -Wall -I<repo>/uapi -o ivshmem-host-pins hsm_pins.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ivshmem_host.h>

#include "../hsm_double/hsm_double.h"
#include "../progs/check.h"
#include "host_util.h"

#define DEV	"/dev/ivshmem_host"
#define HSM	"/dev/acrn_hsm_double"
#define MB	(1024UL * 1024)
#define PAGE	4096UL
/* struct vm_memory_region_batch and _op (drivers/virt/acrn/acrn_drv.h) */
#define OP_HDR	24UL
#define OP_SIZE	32UL
#define INVALID_VMID 0xffffU
#define BAR2	0x4000000000ULL	/* a guest-physical BAR2 address */

static int dev;

static struct ivshmem_host_info info(void)
{
	struct ivshmem_host_info i;

	memset(&i, 0, sizeof(i));
	if (xioctl(dev, IVSHMEM_HOST_IOCTL_INFO, &i))
		die("INFO");
	return i;
}

static int add_region(const char *name, unsigned int size_mb, __u64 members)
{
	struct ivshmem_host_region r;

	memset(&r, 0, sizeof(r));
	set_name(r.name, name);
	r.size_mb = size_mb;
	r.members = members;
	return xioctl(dev, IVSHMEM_HOST_IOCTL_ADD, &r);
}

static int add_region_id(const char *name, __u32 region_id)
{
	struct ivshmem_host_region r;

	memset(&r, 0, sizeof(r));
	set_name(r.name, name);
	r.size_mb = 2;
	r.members = 0x6;
	r.flags = IVSHMEM_HOST_REGION_SET_ID;
	r.region_id = region_id;
	return xioctl(dev, IVSHMEM_HOST_IOCTL_ADD, &r);
}

static int remove_region(const char *name)
{
	struct ivshmem_host_name n;

	memset(&n, 0, sizeof(n));
	set_name(n.name, name);
	return xioctl(dev, IVSHMEM_HOST_IOCTL_REMOVE, &n);
}

static int lookup(const char *name, struct ivshmem_host_region *r)
{
	memset(r, 0, sizeof(*r));
	set_name(r->name, name);
	return xioctl(dev, IVSHMEM_HOST_IOCTL_LOOKUP, r);
}

static unsigned int nr_attached_of(const char *name)
{
	struct ivshmem_host_region r;

	return lookup(name, &r) ? ~0U : r.nr_attached;
}

/* ATTACH @vmid to @name: the attachment fd, or -errno. */
static int attach(const char *name, unsigned int vmid, __u64 *size)
{
	struct ivshmem_host_attach a;
	int ret;

	memset(&a, 0, sizeof(a));
	set_name(a.name, name);
	a.vmid = vmid;
	ret = xioctl(dev, IVSHMEM_HOST_IOCTL_ATTACH, &a);
	if (ret)
		return ret;
	if (size)
		*size = a.size;
	return a.fd;
}

/* A new VM of the double: its fd (CREATE_VM done), or dies. */
static int hsm_vm(unsigned int *vmid)
{
	struct acrn_vm_creation c;
	int fd = open(HSM, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open " HSM);
	memset(&c, 0, sizeof(c));
	c.vcpu_num = 1;
	if (xioctl(fd, ACRN_IOCTL_CREATE_VM, &c))
		die("ACRN_IOCTL_CREATE_VM");
	if (vmid)
		*vmid = c.vmid;
	return fd;
}

static int set_memseg(int hsm, void *addr, __u64 len)
{
	struct acrn_vm_memmap m;

	memset(&m, 0, sizeof(m));
	m.type = ACRN_MEMMAP_RAM;
	m.attr = ACRN_MEM_ACCESS_RWX;
	m.vma_base = (uintptr_t)addr;
	m.len = len;
	m.user_vm_pa = BAR2;
	return xioctl(hsm, ACRN_IOCTL_SET_MEMSEG, &m);
}

static struct hsm_double_info hsm_info(int hsm, unsigned int slot)
{
	struct hsm_double_info i;

	memset(&i, 0, sizeof(i));
	i.slot = slot;
	if (xioctl(hsm, HSM_DOUBLE_IOCTL_INFO, &i))
		die("HSM_DOUBLE_IOCTL_INFO");
	return i;
}

/* Copy through the double's vmap of @slot. */
static int hsm_access(int hsm, unsigned int slot, unsigned int flags,
		      __u64 off, void *buf, __u64 len)
{
	struct hsm_double_access a;

	memset(&a, 0, sizeof(a));
	a.slot = slot;
	a.flags = flags;
	a.offset = off;
	a.len = len;
	a.buf = (uintptr_t)buf;
	return xioctl(hsm, HSM_DOUBLE_IOCTL_ACCESS, &a);
}

static void *map_fd(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap of an attachment fd");
	return p;
}

/*
 * HSM's VM_PFNMAP branch, on /dev/mem's mapping of the BIOS area (the first
 * MiB is reserved memory on x86): first that the double's branch is live
 * (such a mapping is accepted without a pin, a read-only PTE refuses
 * write access), so that its not taking the branch for the module's
 * mapping means something. Every kernel of the matrix has /dev/mem
 * (the debug kernels: DEVMEM in tests/kernel/debug.config).
 */
static void test_pfnmap(int hsm, void *mod_map, size_t mod_size)
{
	struct hsm_double_info before = hsm_info(hsm, 0), after;
	struct acrn_vm_memmap m;
	int fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
	void *p = MAP_FAILED;

	if (fd >= 0)
		p = mmap(NULL, 64 * 1024, PROT_READ, MAP_SHARED, fd, 0xf0000);
	if (p == MAP_FAILED)
		die("mmap /dev/mem at 0xf0000 (the double's PFNMAP branch)");
	memset(&m, 0, sizeof(m));
	m.type = ACRN_MEMMAP_RAM;
	m.attr = ACRN_MEM_ACCESS_READ;
	m.vma_base = (uintptr_t)p;
	m.len = 64 * 1024;
	m.user_vm_pa = BAR2;
	if (xioctl(hsm, ACRN_IOCTL_SET_MEMSEG, &m))
		die("SET_MEMSEG of /dev/mem's PFNMAP mapping, read access");
	m.attr = ACRN_MEM_ACCESS_RWX;
	if (xioctl(hsm, ACRN_IOCTL_SET_MEMSEG, &m) != -EFAULT)
		die("SET_MEMSEG of /dev/mem's read-only PTEs with write access: not EFAULT");
	after = hsm_info(hsm, 0);
	if (after.nr_pfnmaps != before.nr_pfnmaps + 1 ||
	    after.pinned_pages != before.pinned_pages)
		die("the double's PFNMAP branch pinned something");
	munmap(p, 64 * 1024);
	close(fd);

	/* The module's mapping: struct pages, so HSM pins them. */
	check(set_memseg(hsm, mod_map, mod_size) == 0 &&
	      hsm_info(hsm, 0).nr_pfnmaps == after.nr_pfnmaps &&
	      hsm_info(hsm, 0).pinned_pages == after.pinned_pages + mod_size / PAGE,
	      "the module's mapping is not VM_PFNMAP: HSM pins its %zu pages (the PFNMAP branch, live for /dev/mem, is not taken)",
	      mod_size / PAGE);
}

/* An attachment's mapping under HSM's SET_MEMSEG. */
static void test_smoke(void)
{
	const char *name = "dm:/pins_smoke";
	struct ivshmem_host_region r;
	struct hsm_double_info hi;
	char buf[64];
	__u64 size = 0;
	int fd, hsm;
	char *p;

	if (add_region(name, 4, 0x6))
		die("ADD dm:/pins_smoke");
	fd = attach(name, 1, &size);
	if (fd < 0)
		die("ATTACH dm:/pins_smoke");
	p = map_fd(fd, size);
	hsm = hsm_vm(NULL);

	memset(p, 0, size);
	strcpy(p, "from the device model");
	check(set_memseg(hsm, p, size) == 0,
	      "SET_MEMSEG RAM of a 4 MiB attachment mapping: its pages take HSM's FOLL_LONGTERM pin");
	hi = hsm_info(hsm, 0);
	if (lookup(name, &r))
		die("LOOKUP dm:/pins_smoke");
	check(hi.nr_maps == 1 &&
	      hi.npages == size / PAGE && hi.nr_regions == r.nr_folios &&
	      hi.op_bytes == OP_HDR + OP_SIZE * hi.nr_regions,
	      "HSM's walk finds the module's folios: %llu pages, %llu region ops (the module has %u folios), %llu bytes of ops",
	      (unsigned long long)hi.npages, (unsigned long long)hi.nr_regions,
	      r.nr_folios, (unsigned long long)hi.op_bytes);
	check(hi.nr_large == hi.nr_regions && hi.nr_regions == size / (2 * MB),
	      "every op maps one of the module's 2 MiB folios (%llu of %llu)",
	      (unsigned long long)hi.nr_large, (unsigned long long)hi.nr_regions);

	memset(buf, 0, sizeof(buf));
	check(hsm_access(hsm, 0, 0, 0, buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "from the device model"),
	      "HSM's vmap reads what the module's mapping wrote ('%.30s')", buf);
	strcpy(buf, "from HSM's vmap");
	check(hsm_access(hsm, 0, HSM_DOUBLE_ACCESS_WRITE, 3 * MB + 5, buf, sizeof(buf)) == 0 &&
	      !strcmp(p + 3 * MB + 5, "from HSM's vmap"),
	      "the module's mapping reads what HSM's vmap wrote");

	test_pfnmap(hsm, p, size);
	if (xioctl(hsm, ACRN_IOCTL_DESTROY_VM, NULL))
		die("DESTROY_VM");
	hi = hsm_info(hsm, 0);
	check(hi.pinned_pages == 0 && !strcmp(p, "from the device model") &&
	      info().mem_bytes == size && nr_attached_of(name) == 1,
	      "DESTROY_VM unpins the module's pages; VM 1 stays attached, mapping and data intact");
	close(hsm);

	/* Release of the VM's fd unpins too, and the module then frees. */
	hsm = hsm_vm(NULL);
	if (set_memseg(hsm, p, size))
		die("SET_MEMSEG on a second VM");
	munmap(p, size);
	close(fd);
	check(info().mem_bytes == size && nr_attached_of(name) == 0,
	      "unmapped and closed while pinned: VM 1 detached, the region keeps its 4 MiB");
	close(hsm);
	hsm = open(HSM, O_RDWR | O_CLOEXEC);
	if (hsm < 0)
		die("open " HSM);
	check(hsm_info(hsm, 0).pinned_pages == 0 && info().mem_bytes == size,
	      "closing the VM's fd (no DESTROY_VM) unpins; the region keeps its memory");
	close(hsm);
	check(remove_region(name) == 0 && info().mem_bytes == 0 &&
	      info().nr_mems == 0,
	      "region removed: its memory is freed with it");
}

/*
 * Free memory in bytes: MemFree of /proc/meminfo plus the free pages the
 * per-CPU lists hold (the "count:" of each pageset in /proc/zoneinfo),
 * which MemFree leaves out: a freed 2 MiB folio may wait there.
 */
static long long mem_free(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	long long kb = -1, pcp = 0, n;
	char line[256];

	if (!f)
		die("open /proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %lld kB", &kb) == 1)
			break;
	fclose(f);
	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		die("open /proc/zoneinfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %lld", &n) == 1)
			pcp += n;
	fclose(f);
	return kb * 1024 + pcp * (long long)PAGE;
}

/* What each 2 MiB chunk of the region holds at its start. */
static void mark(char *p, size_t size, unsigned int gen)
{
	size_t off;

	for (off = 0; off < size; off += 2 * MB)
		snprintf(p + off, 64, "chunk %zu gen %u", off / (2 * MB), gen);
}

static int marked(const char *p, size_t size, unsigned int gen)
{
	char want[64];
	size_t off;

	for (off = 0; off < size; off += 2 * MB) {
		snprintf(want, sizeof(want), "chunk %zu gen %u", off / (2 * MB), gen);
		if (strcmp(p + off, want))
			return 0;
	}
	return 1;
}

static int all_zero(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += sizeof(long))
		if (*(const long *)(p + i))
			return 0;
	return 1;
}

static int region_state(const char *name, unsigned int *flags,
			unsigned int *attached, unsigned int *folios)
{
	struct ivshmem_host_region r;
	int ret = lookup(name, &r);

	*flags = ret ? 0 : r.flags;
	*attached = ret ? 0 : r.nr_attached;
	*folios = ret ? 0 : r.nr_folios;
	return ret;
}

/* acrn-dm's deinit of the device: munmap and close, in either order. */
static void deinit(int fd, void *p, size_t size, int close_first)
{
	if (close_first) {
		close(fd);
		munmap(p, size);
	} else {
		munmap(p, size);
		close(fd);
	}
}

/* ------------------------------------------------------------------ */
/* acrn-dm through the filesystem, on one VM across guest resets       */

/* One dm-land ivshmem device of acrn-dm: its shm fd and mapping. */
struct dm_dev {
	int fd;
	char *addr;
	size_t size;
};

/*
 * create_ivshmem_from_dm() (devicemodel/hw/pci/ivshmem.c) for
 * dm:/@shm: shm_open(O_CREAT|O_EXCL|O_RDWR), on EEXIST shm_open(O_RDWR),
 * fstat() for the size, mmap(), and SET_MEMSEG on the VM's HSM fd with
 * whatever mmap() returned: acrn-dm tests !addr, so MAP_FAILED reaches
 * HSM. @fail_mmap makes the mmap() fail the way a full address space
 * does (RLIMIT_AS). Return: SET_MEMSEG's result; dies where acrn-dm
 * would refuse the device before it.
 */
static int dm_init(const char *shm, size_t size, int hsm, struct dm_dev *d,
		   int fail_mmap)
{
	struct rlimit old, low = { 0, 0 };
	struct stat st;

	d->size = size;
	d->fd = shm_open(shm, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (d->fd < 0 && errno == EEXIST)
		d->fd = shm_open(shm, O_RDWR, 0600);
	if (d->fd < 0)
		die("shm_open (acrn-dm's device init)");
	if (fstat(d->fd, &st) || (size_t)st.st_size != size)
		die("fstat: the region's size");
	if (fail_mmap) {
		getrlimit(RLIMIT_AS, &old);
		low.rlim_max = old.rlim_max;
		if (setrlimit(RLIMIT_AS, &low))
			die("setrlimit RLIMIT_AS");
	}
	d->addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
	if (fail_mmap && setrlimit(RLIMIT_AS, &old))
		die("restore RLIMIT_AS");
	if (fail_mmap && d->addr != MAP_FAILED)
		die("mmap succeeded under RLIMIT_AS 0");
	if (!fail_mmap && d->addr == MAP_FAILED)
		die("mmap (acrn-dm's device init)");
	return set_memseg(hsm, d->addr, size);
}

/* pci_ivshmem_deinit(): munmap, close. */
static void dm_deinit(struct dm_dev *d)
{
	if (d->addr != MAP_FAILED)
		munmap(d->addr, d->size);
	close(d->fd);
}

/*
 * acrn-dm across N guest resets of an MB region, run in VM 1's mount
 * namespace (e2e.sh in_vm): one HSM VM fd for the whole run, as acrn-dm
 * keeps it; each reset is vm_reset_vdevs(): the device's deinit (munmap,
 * close) then its init again through the filesystem, whose SET_MEMSEG
 * takes another slot of the same VM while the earlier pins stay. The VM
 * must get the same memory back each time; the end is acrn-dm's orderly
 * exit (deinit, DESTROY_VM).
 */
static void test_resets(unsigned int size_mb, unsigned int n)
{
	const char *name = "dm:/pins_reset", *shm = "pins_reset";
	size_t size = (size_t)size_mb * MB, want_folios = size / (2 * MB);
	long long m0, m1, mn, m_end;
	int hsm, i, same = 1, cross = 1, grows = 0;
	unsigned int flags, attached, folios;
	struct hsm_double_info hi;
	struct dm_dev d;
	char buf[64], want[64];

	if (add_region(name, size_mb, 0x6))
		die("ADD dm:/pins_reset");
	m0 = mem_free();
	hsm = hsm_vm(NULL);
	check(dm_init(shm, size, hsm, &d, 0) == 0,
	      "resets: acrn-dm's init through the filesystem, SET_MEMSEG of the %u MiB region (the guest boots)",
	      size_mb);
	mark(d.addr, size, 0);
	hi = hsm_info(hsm, 0);
	region_state(name, &flags, &attached, &folios);
	check(hi.nr_regions == folios && hi.nr_large == want_folios &&
	      folios == want_folios,
	      "resets: %llu region ops, %llu of them 2 MiB folios (the module: %u folios)",
	      (unsigned long long)hi.nr_regions, (unsigned long long)hi.nr_large,
	      folios);
	m1 = mem_free();

	for (i = 1; i <= (int)n; i++) {
		dm_deinit(&d);
		if (i == 1) {
			region_state(name, &flags, &attached, &folios);
			check((flags & IVSHMEM_HOST_REGION_MEM) && attached == 0 &&
			      info().mem_bytes == size && info().nr_mems == 1,
			      "resets: deinit while pinned: VM 1 detached, the memory stays (%llu bytes)",
			      (unsigned long long)info().mem_bytes);
		}
		if (dm_init(shm, size, hsm, &d, 0))
			die("SET_MEMSEG after a reset");
		if (!marked(d.addr, size, i - 1))
			same = 0;
		mark(d.addr, size, i);
		/* The VM's first slot, pinned at boot, sees the new mapping. */
		snprintf(want, sizeof(want), "chunk %zu gen %u", want_folios - 1, i);
		memset(buf, 0, sizeof(buf));
		if (hsm_access(hsm, 0, 0, size - 2 * MB, buf, sizeof(buf)) ||
		    strcmp(buf, want))
			cross = 0;
		if (info().mem_bytes != size || info().nr_mems != 1)
			grows++;
	}
	mn = mem_free();
	hi = hsm_info(hsm, 0);
	check(same, "resets: after each of %u resets the VM maps the same memory, data intact",
	      n);
	check(cross, "resets: ... which the pins of its boot's SET_MEMSEG still see");
	check(!grows, "resets: INFO reports %zu bytes in one memory after every reset (%d did not)",
	      size, grows);
	check(m0 - m1 >= (long long)size * 7 / 8 &&
	      m0 - m1 <= (long long)size * 3 / 2,
	      "resets: free memory dropped by the region once: %lld MiB for %u MiB",
	      (m0 - m1) >> 20, size_mb);
	check(mn - m1 > -(long long)size / 2,
	      "resets: and not again over %u resets: %+lld MiB", n, (mn - m1) >> 20);
	check(hi.nr_maps == n + 1 && hi.pinned_pages == (n + 1) * (size / PAGE),
	      "resets: the one VM holds %u slots pinning the module's pages (%u slots)",
	      n + 1, hi.nr_maps);

	/* acrn-dm's exit: deinit; the region goes while HSM still pins. */
	dm_deinit(&d);
	region_state(name, &flags, &attached, &folios);
	check(info().mem_bytes == size && (flags & IVSHMEM_HOST_REGION_MEM) &&
	      attached == 0,
	      "resets: deinit while the VM still pins it: the region keeps its memory");
	check(remove_region(name) == 0 && info().mem_bytes == 0 &&
	      info().nr_mems == 0,
	      "resets: REMOVE while pinned: the region and its references are gone (INFO 0 bytes)");
	mn = mem_free();
	check(m0 - mn >= (long long)size * 7 / 8,
	      "resets: ... the pinned memory is still allocated, the pins' (%+lld MiB against before the region)",
	      (mn - m0) >> 20);
	/* No wait, no timer: the unpin itself frees each folio. */
	if (xioctl(hsm, ACRN_IOCTL_DESTROY_VM, NULL))
		die("DESTROY_VM");
	m_end = mem_free();
	/*
	 * Against the free memory just before the unpin: the kernel keeps
	 * the page tables of HSM's vmaps (2 MiB of them per GiB mapped, up
	 * to 9 MiB here) once made, so "before the region" is a bit lower.
	 */
	check(m_end - mn >= (long long)size - 10LL * (long long)MB &&
	      hsm_info(hsm, 0).pinned_pages == 0,
	      "resets: DESTROY_VM unpins: the region's memory is free again at once, within 10 MiB (%+lld KiB; %+lld KiB against before the region)",
	      (m_end - mn) >> 10, (m_end - m0) >> 10);
	close(hsm);
	/* A new region of the name: new, zeroed memory. */
	if (add_region(name, size_mb, 0x6))
		die("ADD dm:/pins_reset again");
	d.fd = shm_open(shm, O_RDWR, 0600);
	d.addr = d.fd < 0 ? MAP_FAILED : map_fd(d.fd, size);
	check(d.addr != MAP_FAILED && all_zero(d.addr, size),
	      "resets: a new region of the name reads zeroes");
	if (d.fd >= 0)
		dm_deinit(&d);
	check(remove_region(name) == 0 && info().mem_bytes == 0,
	      "resets: region removed, nothing left");
}

/*
 * VM 1's device model writes and exits (deinit, DESTROY_VM: its pins are
 * released), VM 2's starts later and reads what VM 1 wrote, the way
 * acrn-dm's never-unlinked /dev/shm file hands data over. Step 1 runs in
 * VM 1's mount namespace and adds the region, step 2 in VM 2's and
 * removes it.
 */
#define HANDOVER_MB	8

static void test_handover(int step)
{
	const char *name = "dm:/pins_handover", *shm = "pins_handover";
	size_t size = HANDOVER_MB * MB;
	struct dm_dev d;
	char buf[64];
	int hsm;

	if (step == 1 && add_region(name, HANDOVER_MB, 0x6))
		die("ADD dm:/pins_handover");
	hsm = hsm_vm(NULL);
	if (dm_init(shm, size, hsm, &d, 0))
		die("acrn-dm's init: SET_MEMSEG");
	if (step == 1) {
		check(all_zero(d.addr, size),
		      "handover: VM 1's device model maps the new region: zeroes");
		mark(d.addr, size, 1);
		strcpy(d.addr + 4096, "written by VM 1's device model");
		dm_deinit(&d);
		if (xioctl(hsm, ACRN_IOCTL_DESTROY_VM, NULL))
			die("DESTROY_VM");
		check(hsm_info(hsm, 0).pinned_pages == 0 &&
		      nr_attached_of(name) == 0 && info().mem_bytes == size,
		      "handover: VM 1's device model exits: no pin left, nothing attached, the region keeps its %u MiB",
		      HANDOVER_MB);
		close(hsm);
		return;
	}
	check(marked(d.addr, size, 1) &&
	      !strcmp(d.addr + 4096, "written by VM 1's device model"),
	      "handover: VM 2's device model, started later, reads what VM 1's wrote");
	memset(buf, 0, sizeof(buf));
	check(hsm_access(hsm, 0, 0, 4096, buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "written by VM 1's device model"),
	      "handover: ... and so does VM 2 through HSM's pins");
	dm_deinit(&d);
	if (xioctl(hsm, ACRN_IOCTL_DESTROY_VM, NULL))
		die("DESTROY_VM");
	close(hsm);
	check(remove_region(name) == 0 && info().mem_bytes == 0,
	      "handover: region removed, nothing left");
}

#define SLOTS		256	/* HSM's ACRN_MEM_MAPPING_MAX */
#define SLOTS_MAX_TRIES	(SLOTS + 8)
#define SLOTS_BAD_MMAP	100	/* the reset whose mmap fails */

/*
 * Guest resets on one VM until HSM's 256 mapping slots run out, 2 MiB
 * region, in VM 1's mount namespace. What the user sees then: the open
 * and mmap work, SET_MEMSEG fails with HSM's ENOMEM, no splat (the
 * harness checks the log), the module still holds one memory; and
 * DESTROY_VM frees everything. On the way, one reset whose mmap fails,
 * with MAP_FAILED passed to SET_MEMSEG as acrn-dm passes it.
 */
static void test_slots(void)
{
	const char *name = "dm:/pins_slots", *shm = "pins_slots";
	size_t size = 2 * MB;
	int hsm, i, ret, ok_maps = 0, bad_ret = 0, same = 1, one_mem = 1;
	unsigned int flags, attached, folios;
	struct hsm_double_info before, hi;
	__u64 base_pinned;
	struct dm_dev d;

	if (add_region(name, 2, 0x6))
		die("ADD dm:/pins_slots");
	hsm = hsm_vm(NULL);
	base_pinned = hsm_info(hsm, 0).pinned_pages;
	for (i = 0; i < SLOTS_MAX_TRIES; i++) {
		if (i == SLOTS_BAD_MMAP) {
			before = hsm_info(hsm, 0);
			ret = dm_init(shm, size, hsm, &d, 1);
			hi = hsm_info(hsm, 0);
			/* gup: 6.1 EFAULT (overflow: 0 pinned), 6.12 EOVERFLOW */
			check((ret == -EFAULT || ret == -EOVERFLOW) &&
			      hi.nr_maps == before.nr_maps &&
			      hi.pinned_pages == before.pinned_pages &&
			      info().mem_bytes == size && info().nr_mems == 1,
			      "slots: reset %d: mmap fails (RLIMIT_AS), SET_MEMSEG of MAP_FAILED: %s, no slot taken, nothing pinned, the module's memory as before",
			      i, ret < 0 ? strerrorname_np(-ret) : "succeeded");
			dm_deinit(&d);
			continue;
		}
		ret = dm_init(shm, size, hsm, &d, 0);
		if (ret) {
			/* acrn-dm gives the device up: its deinit. */
			bad_ret = ret;
			dm_deinit(&d);
			break;
		}
		ok_maps++;
		if (ok_maps > 1 && strcmp(d.addr + 4096, "slots"))
			same = 0;
		strcpy(d.addr + 4096, "slots");
		if (info().mem_bytes != size || info().nr_mems != 1)
			one_mem = 0;
		dm_deinit(&d);
	}
	hi = hsm_info(hsm, 0);
	check(ok_maps == SLOTS && same && one_mem,
	      "slots: %d SET_MEMSEGs on one VM (the boot and %d resets through the filesystem) succeed, each on the module's one 2 MiB memory, data intact",
	      ok_maps, ok_maps - 1);
	check(bad_ret == -ENOMEM && hi.nr_maps == SLOTS &&
	      hi.pinned_pages == base_pinned + SLOTS * (size / PAGE),
	      "slots: the next one: open and mmap work, SET_MEMSEG %s (HSM: out of mapping slots), nothing more pinned",
	      bad_ret < 0 ? strerrorname_np(-bad_ret) : "succeeded");
	region_state(name, &flags, &attached, &folios);
	check(attached == 0 && info().mem_bytes == size && info().nr_mems == 1,
	      "slots: deinit done: VM 1 detached, the module keeps the pinned 2 MiB (%llu bytes, %u memories)",
	      (unsigned long long)info().mem_bytes, info().nr_mems);
	if (xioctl(hsm, ACRN_IOCTL_DESTROY_VM, NULL))
		die("DESTROY_VM");
	check(info().mem_bytes == size && info().nr_mems == 1 &&
	      hsm_info(hsm, 0).pinned_pages == base_pinned,
	      "slots: DESTROY_VM: every pin released, the region keeps its 2 MiB");
	close(hsm);
	d.fd = shm_open(shm, O_RDWR, 0600);
	d.addr = d.fd < 0 ? MAP_FAILED : map_fd(d.fd, size);
	check(d.addr != MAP_FAILED && !strcmp(d.addr + 4096, "slots"),
	      "slots: the next session reads the last one's data");
	if (d.fd >= 0)
		dm_deinit(&d);
	check(remove_region(name) == 0 && info().mem_bytes == 0,
	      "slots: region removed, its memory freed");
}

/*
 * acrn-dm killed (SIGKILL) with the device mapped, pinned and open,
 * after two resets: the kernel tears it down in the crash order, its
 * address space first (exit_mm), then its fds in ascending order, HSM's
 * VM fd (opened first) before the region's. Everything must be freed.
 */
static void test_crash(void)
{
	const char *name = "dm:/pins_crash", *shm = "pins_crash";
	size_t size = 4 * MB;
	int go[2], status, i, hsm_fd = -1, dev_fd = -1;
	__u64 base_pinned;
	struct dm_dev d;
	pid_t pid;
	char c;

	if (add_region(name, 4, 0x6))
		die("ADD dm:/pins_crash");
	{
		int probe = open(HSM, O_RDWR | O_CLOEXEC);

		if (probe < 0)
			die("open " HSM);
		base_pinned = hsm_info(probe, 0).pinned_pages;
		close(probe);
	}
	if (pipe(go))
		die("pipe");
	pid = fork();
	if (pid == 0) {
		int hsm = hsm_vm(NULL);

		close(go[0]);
		for (i = 0; i < 3; i++) {
			if (dm_init(shm, size, hsm, &d, 0))
				_exit(3);
			strcpy(d.addr, "crashed");
			if (i < 2)
				dm_deinit(&d);
		}
		/* close_files() goes up the table: the region's fd after HSM's. */
		hsm_fd = hsm;
		dev_fd = d.fd;
		if (dev_fd < hsm_fd) {
			dev_fd = fcntl(d.fd, F_DUPFD_CLOEXEC, hsm_fd + 1);
			close(d.fd);
		}
		if (write(go[1], hsm_fd < dev_fd ? "<" : ">", 1) != 1)
			_exit(4);
		kill(getpid(), SIGKILL);
		_exit(5);
	}
	close(go[1]);
	c = 0;
	if (read(go[0], &c, 1) != 1)
		c = 0;
	close(go[0]);
	waitpid(pid, &status, 0);
	check(c == '<' && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "crash: acrn-dm killed with the device open, mapped and pinned in 3 slots of its VM, HSM's fd below the region's ('%c', status %#x)",
	      c ? c : '0', status);
	{
		int probe = open(HSM, O_RDWR | O_CLOEXEC);

		check(probe >= 0 && hsm_info(probe, 0).pinned_pages == base_pinned &&
		      info().mem_bytes == size && info().nr_mems == 1 &&
		      nr_attached_of(name) == 0,
		      "crash: address space, then HSM's fd, then the region's: no pin left, VM 1 detached, the region keeps its memory");
		if (probe >= 0)
			close(probe);
	}
	d.size = size;
	d.fd = shm_open(shm, O_RDWR, 0600);
	d.addr = d.fd < 0 ? MAP_FAILED : map_fd(d.fd, size);
	check(d.addr != MAP_FAILED && !strcmp(d.addr, "crashed"),
	      "crash: the restarted acrn-dm reads what the killed one wrote");
	if (d.fd >= 0)
		dm_deinit(&d);
	check(remove_region(name) == 0 && info().mem_bytes == 0,
	      "crash: region removed, its memory freed (%llu bytes in %u left)",
	      (unsigned long long)info().mem_bytes, info().nr_mems);
}

/* Pin @name's memory as VM 1 with a VM of the double, then let go of it. */
static int pin_and_leave(const char *name, size_t size, const char *data)
{
	int fd, hsm;
	char *p;

	fd = attach(name, 1, NULL);
	if (fd < 0)
		die("ATTACH to pin");
	p = map_fd(fd, size);
	strcpy(p, data);
	hsm = hsm_vm(NULL);
	if (set_memseg(hsm, p, size))
		die("SET_MEMSEG to pin");
	deinit(fd, p, size, 1);
	return hsm;
}

#define ABUSE_MNT	"/tmp/ivh_pins_abuse"
#define ABUSE_MB	8

/*
 * REMOVE while VM 1's device model has the region open, mapped and
 * pinned, then ADD of the same name. The old region lives on in the
 * file: no new region takes its ID or its inode number meanwhile. The new
 * one gets new, zeroed memory; once the old file is closed and unmapped
 * the old region is freed, HSM's pins still read the old data, and
 * DESTROY_VM's unpin returns that memory at once.
 */
static void test_remove_pinned(void)
{
	const char *name = "dm:/pins_a", *file = ABUSE_MNT "/pins_a";
	size_t size = ABUSE_MB * MB;
	struct ivshmem_host_region r;
	struct stat old_st, new_st;
	long long m_pinned, m_end;
	int hsm, fd, fd2, ret;
	__u32 old_id, new_id;
	char buf[32];
	char *p, *p2;

	if (add_region(name, ABUSE_MB, 0x6) || lookup(name, &r))
		die("ADD dm:/pins_a");
	old_id = r.region_id;
	if ((mkdir(ABUSE_MNT, 0700) && errno != EEXIST) ||
	    mount("none", ABUSE_MNT, "ivshmem_host", 0, "vm=1"))
		die("mount -t ivshmem_host -o vm=1 (VM 1's device model)");
	fd = open(file, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &old_st))
		die("open and fstat the region file as VM 1");
	p = map_fd(fd, size);
	strcpy(p, "pinned before removal");
	hsm = hsm_vm(NULL);
	if (set_memseg(hsm, p, size))
		die("SET_MEMSEG");

	check(remove_region(name) == 0 && info().nr_mems == 1 &&
	      info().mem_bytes == size,
	      "abuse: REMOVE while open, mapped and pinned: the old region lives on in its file (%u MiB)",
	      ABUSE_MB);
	ret = add_region(name, ABUSE_MB, 0x6);
	if (!ret)
		ret = lookup(name, &r);
	new_id = r.region_id;
	check(ret == 0 && new_id != old_id,
	      "abuse: ADD of the same name: a new region ID (%u; the old region keeps %u)",
	      new_id, old_id);
	check(add_region_id("dm:/pins_c", old_id) == -EEXIST,
	      "abuse: ... and no region takes ID %u while the old region lives: EEXIST",
	      old_id);
	/* VM 1 is attached to the old region, not to the new one. */
	fd2 = open(file, O_RDWR | O_CLOEXEC);
	if (fd2 < 0 || fstat(fd2, &new_st))
		die("open the new region's file as VM 1");
	check(new_st.st_ino != old_st.st_ino,
	      "abuse: the new region's file has another inode number (%llu, the old %llu)",
	      (unsigned long long)new_st.st_ino, (unsigned long long)old_st.st_ino);
	p2 = map_fd(fd2, size);
	check(all_zero(p2, size) && info().nr_mems == 2 &&
	      info().mem_bytes == 2 * size,
	      "abuse: the new region gets new, zeroed memory (two memories now)");

	/* The old device model's deinit: the old region goes. */
	munmap(p, size);
	close(fd);
	check(info().nr_mems == 1 && info().mem_bytes == size,
	      "abuse: the old file closed and unmapped: the old region is freed, its memory left to the pins");
	memset(buf, 0, sizeof(buf));
	check(hsm_access(hsm, 0, 0, 0, buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "pinned before removal") && all_zero(p2, size),
	      "abuse: HSM's pins still read the old data; the new region's memory is other memory");
	check(add_region_id("dm:/pins_c", old_id) == 0 &&
	      remove_region("dm:/pins_c") == 0,
	      "abuse: ... and region ID %u is free again", old_id);
	m_pinned = mem_free();
	if (xioctl(hsm, ACRN_IOCTL_DESTROY_VM, NULL))
		die("DESTROY_VM");
	m_end = mem_free();
	check(m_end - m_pinned >= (long long)size * 3 / 4,
	      "abuse: DESTROY_VM's unpin frees the old memory at once (%+lld KiB free)",
	      (m_end - m_pinned) >> 10);
	close(hsm);
	munmap(p2, size);
	close(fd2);
	umount(ABUSE_MNT);
	rmdir(ABUSE_MNT);
	check(remove_region(name) == 0 && info().mem_bytes == 0 &&
	      info().nr_mems == 0,
	      "abuse: the new region removed: nothing left");
}

static void test_abuse(void)
{
	int fd, go[2], ret;
	pid_t pid;
	char *p;
	char c;

	test_remove_pinned();

	/* A forked child's mapping holds a removed region. */
	if (add_region("dm:/pins_b", 4, 0x6))
		die("ADD dm:/pins_b");
	fd = attach("dm:/pins_b", 1, NULL);
	if (fd < 0)
		die("ATTACH dm:/pins_b");
	p = map_fd(fd, 4 * MB);
	strcpy(p, "forked");
	if (pipe(go))
		die("pipe");
	pid = fork();
	if (pid == 0) {
		close(fd);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(strcmp(p, "forked") ? 1 : 0);
	}
	deinit(fd, p, 4 * MB, 0);
	check(remove_region("dm:/pins_b") == 0 && info().mem_bytes == 4 * MB,
	      "abuse: deinit and REMOVE: a forked child's mapping keeps the region's 4 MiB");
	if (write(go[1], "x", 1) != 1)
		die("write");
	waitpid(pid, &ret, 0);
	check(WIFEXITED(ret) && WEXITSTATUS(ret) == 0,
	      "abuse: ... the child still reads the data");
	close(go[0]);
	close(go[1]);
	check(info().mem_bytes == 0 && info().nr_mems == 0,
	      "abuse: the child exited: the region and its memory are freed");
}

#define FAIL_FOLIOS	"/sys/kernel/debug/ivshmem_host/fail_folios"

static int set_fail_folios(int n)
{
	const char *param = FAIL_FOLIOS;
	char v[16];
	int f, ok;

	/* debugfs, mounted here if the guest's init did not. */
	if (access(param, F_OK) &&
	    mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL))
		return -1;
	f = open(param, O_RDWR);
	snprintf(v, sizeof(v), "%d", n);
	ok = f >= 0 && write(f, v, strlen(v)) == (ssize_t)strlen(v);
	if (f >= 0)
		close(f);
	return ok ? 0 : -1;
}

static int get_fail_folios(void)
{
	const char *param = FAIL_FOLIOS;
	char v[16] = "";
	int f = open(param, O_RDONLY);
	ssize_t n = f < 0 ? -1 : read(f, v, sizeof(v) - 1);

	if (f >= 0)
		close(f);
	return n > 0 ? atoi(v) : -1;
}

/* Attach with @fail injected failures: folios and HSM's view of them. */
static void inject_one(const char *name, unsigned int size_mb, int fail)
{
	size_t size = (size_t)size_mb * MB, chunks = size / (2 * MB);
	unsigned int flags, attached, folios;
	struct hsm_double_info hi;
	int fd, hsm;
	char *p;

	if (set_fail_folios(fail))
		die("set fail_folios");
	fd = attach(name, 1, NULL);
	if (fd < 0)
		die("ATTACH with injected failures");
	region_state(name, &flags, &attached, &folios);
	check(folios == chunks - fail + fail * 512 && get_fail_folios() == 0,
	      "inject: %d failed 2 MiB allocations in %u MiB: %u folios (%zu of 2 MiB + %d x 512 of 4 KiB), the count is used up",
	      fail, size_mb, folios, chunks - fail, fail);
	p = map_fd(fd, size);
	hsm = hsm_vm(NULL);
	check(set_memseg(hsm, p, size) == 0, "inject: SET_MEMSEG of it");
	hi = hsm_info(hsm, 0);
	check(hi.nr_regions == folios && hi.nr_large == chunks - fail,
	      "inject: HSM sends %llu region ops, %llu of them 2 MiB",
	      (unsigned long long)hi.nr_regions, (unsigned long long)hi.nr_large);
	close(hsm);
	deinit(fd, p, size, 1);
	check(remove_region(name) == 0 && info().mem_bytes == 0,
	      "inject: VM destroyed, region removed, memory freed");
}

static void test_inject(unsigned int size_mb, int big)
{
	const char *name = "dm:/pins_inject";
	unsigned int flags, attached, folios;
	int fd;

	/* A new region each time: a region allocates its memory once. */
	if (add_region(name, size_mb, 0x6))
		die("ADD dm:/pins_inject");
	inject_one(name, size_mb, 1);
	if (add_region(name, size_mb, 0x6))
		die("ADD dm:/pins_inject again");
	inject_one(name, size_mb, 3);
	if (!big) {
		skip("inject: 512 MiB of 4 KiB pages refused: needs a 2 GiB guest (stock 6.1)");
		return;
	}
	if (add_region("dm:/pins_big", 512, 0x6) || set_fail_folios(256))
		die("ADD dm:/pins_big, fail_folios=256");
	fd = attach("dm:/pins_big", 1, NULL);
	region_state("dm:/pins_big", &flags, &attached, &folios);
	check(fd == -ENOMEM && info().mem_bytes == 0 && info().nr_mems == 0 &&
	      !(flags & IVSHMEM_HOST_REGION_MEM),
	      "inject: 512 MiB, every 2 MiB allocation failing (131072 region ops, HSM takes 131071): ATTACH ENOMEM, nothing kept");
	if (fd >= 0)
		close(fd);
	if (set_fail_folios(255))
		die("fail_folios=255");
	fd = attach("dm:/pins_big", 1, NULL);
	region_state("dm:/pins_big", &flags, &attached, &folios);
	check(fd >= 0 && folios == 255 * 512 + 1,
	      "inject: ... one 2 MiB folio among them (130561 ops) attaches");
	if (fd >= 0)
		close(fd);
	check(remove_region("dm:/pins_big") == 0 && info().mem_bytes == 0,
	      "inject: region removed, nothing left");
}

/* ------------------------------------------------------------------ */
/* doorbells through HSM's irqfd and ioeventfd                         */

static int set_vector(int peer, unsigned int vector, int efd)
{
	struct ivshmem_host_vector v;

	memset(&v, 0, sizeof(v));
	v.vector = vector;
	v.fd = efd;
	return xioctl(peer, IVSHMEM_HOST_IOCTL_SET_VECTOR, &v);
}

static int ring(const char *name, unsigned int src, unsigned int dst,
		unsigned int vector)
{
	struct ivshmem_host_ring r;

	memset(&r, 0, sizeof(r));
	set_name(r.name, name);
	r.src = src;
	r.dst = dst;
	r.vector = vector;
	return xioctl(dev, IVSHMEM_HOST_IOCTL_RING, &r);
}

static int hsm_irqfd(int hsm, int efd, __u64 msi_data, __u32 flags)
{
	struct acrn_irqfd f;

	memset(&f, 0, sizeof(f));
	f.fd = efd;
	f.flags = flags;
	f.msi.msi_addr = 0xfee00000;
	f.msi.msi_data = msi_data;
	return xioctl(hsm, ACRN_IOCTL_IRQFD, &f);
}

/* BAR0's doorbell register of a device at a guest-physical address. */
#define DOORBELL	0xc0001000cULL

/*
 * Wait until @hsm's VM has had @want MSIs injected. The time policy of
 * Documentation/testing.rst: 20 s for an interrupt, 2 s each after the
 * first one lost.
 */
static int lost_irqs;

static int wait_injected(int hsm, __u64 want)
{
	int ms = lost_irqs ? 2000 : 20000, i;

	for (i = 0; i < ms / 5; i++) {
		if (hsm_info(hsm, 0).injected >= want)
			return 1;
		usleep(5000);
	}
	lost_irqs++;
	return 0;
}

/*
 * VM 1 and VM 2 are guest VMs, each with its device model's HSM fd.
 * VM 2's device model registers its vector eventfds with the module
 * (SET_VECTOR) and with HSM (IRQFD, with the MSI its guest programmed);
 * VM 1's binds a trigger eventfd with the module (TRIGGER) and with HSM
 * (IOEVENTFD on its doorbell register). A ring of the module reaches
 * VM 2 only as HSM's injection, through the eventfd.
 */
static void test_doorbell(void)
{
	const char *name = "dm:/pins_db";
	int a, b, hsm1, hsm2, e0, e1, t;
	struct ivshmem_host_trigger tr;
	struct hsm_double_mmio w;
	__u64 n;

	if (add_region(name, 2, 0x6))
		die("ADD dm:/pins_db");
	a = attach(name, 1, NULL);
	b = attach(name, 2, NULL);
	if (a < 0 || b < 0)
		die("ATTACH VMs 1 and 2");
	hsm1 = hsm_vm(NULL);
	hsm2 = hsm_vm(NULL);
	e0 = eventfd(0, EFD_CLOEXEC);
	e1 = eventfd(0, EFD_CLOEXEC);
	t = eventfd(0, EFD_CLOEXEC);
	if (e0 < 0 || e1 < 0 || t < 0)
		die("eventfd");
	if (set_vector(b, 0, e0) || hsm_irqfd(hsm2, e0, 0x4041, 0))
		die("VM 2's vector 0: SET_VECTOR and IRQFD");

	check(ring(name, 1, 2, 0) == 0 && hsm_info(hsm2, 0).injected == 1 &&
	      hsm_info(hsm2, 0).last_msi_data == 0x4041 &&
	      hsm_info(hsm1, 0).injected == 0,
	      "doorbell: RING 1 -> 2 vector 0: HSM's irqfd injects VM 2's MSI (0x4041) once, during the RING, none into VM 1");

	/* A count the module left before HSM listened: injected at assign. */
	check(set_vector(b, 1, e1) == 0 && ring(name, 1, 2, 1) == 0 &&
	      hsm_info(hsm2, 0).injected == 1 &&
	      hsm_irqfd(hsm2, e1, 0x4042, 0) == 0 &&
	      hsm_info(hsm2, 0).injected == 2 &&
	      hsm_info(hsm2, 0).last_msi_data == 0x4042,
	      "doorbell: a ring of vector 1 before VM 2's IRQFD is pending in its eventfd: HSM injects it (0x4042) at assign");

	/* A guest's doorbell write, through HSM's ioeventfd and a trigger. */
	memset(&tr, 0, sizeof(tr));
	tr.fd = t;
	tr.dst = 2;
	tr.vector = 0;
	if (xioctl(a, IVSHMEM_HOST_IOCTL_TRIGGER, &tr))
		die("TRIGGER (VM 2, vector 0) for VM 1");
	{
		struct acrn_ioeventfd io;

		memset(&io, 0, sizeof(io));
		io.fd = t;
		io.flags = ACRN_IOEVENTFD_FLAG_DATAMATCH;
		io.addr = DOORBELL;
		io.len = 4;
		io.data = 2 << 16 | 0;
		if (xioctl(hsm1, ACRN_IOCTL_IOEVENTFD, &io))
			die("IOEVENTFD on VM 1's doorbell register");
	}
	memset(&w, 0, sizeof(w));
	w.addr = DOORBELL;
	w.data = 2 << 16 | 0;
	w.len = 4;
	n = hsm_info(hsm2, 0).injected;
	check(xioctl(hsm1, HSM_DOUBLE_IOCTL_MMIO_WRITE, &w) == 0 &&
	      wait_injected(hsm2, n + 1) &&
	      hsm_info(hsm2, 0).last_msi_data == 0x4041,
	      "doorbell: VM 1's guest writes (2 << 16 | 0) to its doorbell: HSM signals the trigger under ioeventfds_lock, the module rings, HSM injects 0x4041 into VM 2");
	n = hsm_info(hsm2, 0).injected;
	for (int i = 0; i < 50; i++)
		if (xioctl(hsm1, HSM_DOUBLE_IOCTL_MMIO_WRITE, &w))
			die("MMIO_WRITE");
	{
		int got = wait_injected(hsm2, n + 1);
		__u64 more = hsm_info(hsm2, 0).injected - n;

		check(got && more <= 50,
		      "doorbell: 50 more doorbell writes reach VM 2 (%llu injections: the module merges rings still queued)",
		      (unsigned long long)more);
	}

	/* VM 2's device model closes its vector eventfd: POLLHUP to HSM. */
	close(e0);
	check(ring(name, 1, 2, 0) == 0,
	      "doorbell: VM 2's eventfd closed under HSM's irqfd (POLLHUP): RING still delivers to the module's reference");
	/* VM 2 is destroyed while the module still holds its eventfds. */
	check(xioctl(hsm2, ACRN_IOCTL_DESTROY_VM, NULL) == 0 &&
	      ring(name, 1, 2, 1) == 0 && hsm_info(hsm2, 0).injected >= 3,
	      "doorbell: DESTROY_VM of VM 2 (irqfds shut down): the module's RING still returns 0, nothing breaks");
	close(hsm2);
	close(hsm1);
	close(a);
	close(b);
	close(e1);
	close(t);
	check(remove_region(name) == 0 && info().mem_bytes == 0,
	      "doorbell: peers closed, region removed, its memory freed");
}

static volatile sig_atomic_t go_on;

static void on_usr1(int sig)
{
	(void)sig;
	go_on = 1;
}

/* Pinned memory across an unload of ivshmem_host (see e2e.sh). */
static void test_hold(void)
{
	struct hsm_double_info hi;
	char buf[64];
	int hsm;

	signal(SIGUSR1, on_usr1);
	if (add_region("dm:/pins_hold", 4, 0x6))
		die("ADD dm:/pins_hold");
	hsm = pin_and_leave("dm:/pins_hold", 4 * MB, "held across rmmod");
	close(dev);
	printf("# held\n");
	fflush(stdout);
	while (!go_on)
		pause();
	memset(buf, 0, sizeof(buf));
	check(hsm_access(hsm, 0, 0, 0, buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "held across rmmod"),
	      "hold: after the unload HSM still reads the pinned memory");
	strcpy(buf, "written after rmmod");
	check(hsm_access(hsm, 0, HSM_DOUBLE_ACCESS_WRITE, 4096, buf, sizeof(buf)) == 0,
	      "hold: ... and writes it");
	hi = hsm_info(hsm, 0);
	check(xioctl(hsm, ACRN_IOCTL_DESTROY_VM, NULL) == 0 &&
	      hsm_info(hsm, 0).pinned_pages == hi.pinned_pages - 1024,
	      "hold: DESTROY_VM unpins it (the last unpin frees it)");
	close(hsm);
}

/* Write @v into the cgroup file @path: 0 or -1. */
static int cg_write(const char *path, const char *v)
{
	int f = open(path, O_WRONLY), ok;

	ok = f >= 0 && write(f, v, strlen(v)) == (ssize_t)strlen(v);
	if (f >= 0)
		close(f);
	return ok ? 0 : -1;
}

/* The cgroup file @path as a number (memory.current), or -1. */
static long long cg_read(const char *path)
{
	char buf[32] = "";
	int f = open(path, O_RDONLY);
	ssize_t n = f < 0 ? -1 : read(f, buf, sizeof(buf) - 1);

	if (f >= 0)
		close(f);
	return n > 0 ? atoll(buf) : -1;
}

/* Run add_region() from within the cgroup @cg. */
static int add_region_in(const char *cg, const char *name,
			 unsigned int size_mb, __u64 members)
{
	char path[128], pid[16];
	int ret;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (cg_write(path, pid))
		die("enter the memory cgroup");
	ret = add_region(name, size_mb, members);
	if (cg_write("/sys/fs/cgroup/cgroup.procs", pid))
		die("leave the memory cgroup");
	return ret;
}

/*
 * The memory is charged to the memory cgroup of the task that added the
 * region, whoever attaches: with a limit below the region's size there,
 * an ATTACH from elsewhere fails with ENOMEM (not an OOM kill) and
 * nothing changes; a region added elsewhere can be attached from within
 * the limited cgroup. memory.current of the adding cgroup grows by the
 * region's size at the first attach, keeps it while no VM is attached
 * and, after REMOVE, while HSM pins the memory; DESTROY_VM's unpin gives
 * it back.
 */
static void test_memcg(void)
{
	const char *cg = "/sys/fs/cgroup/ivh_memcg";
	const char *cur = "/sys/fs/cgroup/ivh_memcg/memory.current";
	const long long size = 8 << 20;
	char buf[256] = "", pid[16];
	struct ivshmem_host_region before, after;
	unsigned int flags, attached, folios;
	long long c0, c1, c2, c3, c4, c5;
	int f, fd, hsm, ok;
	ssize_t n;

	f = open("/sys/fs/cgroup/cgroup.controllers", O_RDONLY);
	if (f < 0 && !mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL))
		f = open("/sys/fs/cgroup/cgroup.controllers", O_RDONLY);
	n = f < 0 ? -1 : read(f, buf, sizeof(buf) - 1);
	if (f >= 0)
		close(f);
	if (n <= 0 || !strstr(buf, "memory")) {
		skip("memcg: no memory cgroup controller in this kernel (CONFIG_MEMCG)");
		return;
	}
	if (cg_write("/sys/fs/cgroup/cgroup.subtree_control", "+memory") ||
	    (mkdir(cg, 0755) && errno != EEXIST) ||
	    cg_write("/sys/fs/cgroup/ivh_memcg/memory.max", "4M"))
		die("memory cgroup with memory.max=4M");
	if (add_region_in(cg, "dm:/pins_memcg", 8, 0x6))
		die("ADD dm:/pins_memcg in the memory cgroup");
	lookup("dm:/pins_memcg", &before);
	fd = attach("dm:/pins_memcg", 1, NULL);
	check(fd == -ENOMEM,
	      "memcg: ATTACH, from outside, of an 8 MiB region added in a cgroup with memory.max=4M: ENOMEM (%s)",
	      fd >= 0 ? "attached" : strerror(-fd));
	if (fd >= 0)
		close(fd);
	region_state("dm:/pins_memcg", &flags, &attached, &folios);
	lookup("dm:/pins_memcg", &after);
	check(!(flags & IVSHMEM_HOST_REGION_MEM) && attached == 0 &&
	      !memcmp(&before, &after, sizeof(before)) &&
	      info().mem_bytes == 0 && info().nr_mems == 0,
	      "memcg: ... and nothing changed: no memory, no attachment, nothing counted");

	/* The attacher's cgroup does not pay for a region added elsewhere. */
	if (add_region("dm:/pins_memcg2", 8, 0x6))
		die("ADD dm:/pins_memcg2");
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (cg_write("/sys/fs/cgroup/ivh_memcg/cgroup.procs", pid))
		die("enter the memory cgroup");
	fd = attach("dm:/pins_memcg2", 1, NULL);
	if (cg_write("/sys/fs/cgroup/cgroup.procs", pid))
		die("leave the memory cgroup");
	check(fd >= 0,
	      "memcg: ATTACH, from within the cgroup with memory.max=4M, of an 8 MiB region added outside it succeeds (%s)",
	      fd >= 0 ? "attached" : strerror(-fd));
	if (fd >= 0)
		close(fd);
	check(remove_region("dm:/pins_memcg2") == 0,
	      "memcg: REMOVE dm:/pins_memcg2");

	/* Room for it: the adding cgroup is charged, until REMOVE. */
	if (cg_write("/sys/fs/cgroup/ivh_memcg/memory.max", "max"))
		die("memory.max=max");
	c0 = cg_read(cur);
	fd = attach("dm:/pins_memcg", 1, NULL);
	c1 = cg_read(cur);
	check(fd >= 0 && c0 >= 0 && c1 - c0 >= size,
	      "memcg: ATTACH from outside charges the adding cgroup the region's size (memory.current %lld -> %lld)",
	      c0, c1);
	if (fd >= 0)
		close(fd);
	/*
	 * memory.current also counts the cgroup's other kernel objects (in
	 * c0), some of which go meanwhile (on a debug kernel 260 KiB of
	 * them): what is still charged is told by the region's pages alone
	 * keeping it at its size or more.
	 */
	c2 = cg_read(cur);
	check(c2 >= size,
	      "memcg: ... and it stays charged with no VM attached (memory.current %lld)",
	      c2);

	/* Pinned by HSM past REMOVE: charged until DESTROY_VM's unpin. */
	hsm = pin_and_leave("dm:/pins_memcg", size, "memcg");
	c3 = info().mem_bytes;
	ok = remove_region("dm:/pins_memcg") == 0 && info().mem_bytes == 0;
	c4 = cg_read(cur);
	check(ok && c3 == size && c4 >= size,
	      "memcg: REMOVE while HSM pins the memory: the region is freed (mem_bytes %lld -> 0), the memory stays charged (memory.current %lld)",
	      c3, c4);
	if (xioctl(hsm, ACRN_IOCTL_DESTROY_VM, NULL))
		die("DESTROY_VM");
	c5 = cg_read(cur);
	/* Uncharged pages may wait in a per-CPU stock (64 pages each). */
	check(c4 - c5 >= size - (long long)MB,
	      "memcg: DESTROY_VM's unpin frees it off the adding cgroup's charge (memory.current %lld -> %lld)",
	      c4, c5);
	close(hsm);
	n = rmdir(cg);
	check(n == 0, "memcg: the adding cgroup can be removed (%s)",
	      n ? strerror(errno) : "removed");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s %s\n", argv[0],
			"smoke|resets MB N|handover 1|2|slots|crash|doorbell|abuse|inject MB [big]|hold|memcg");
		return 2;
	}
	dev = open(DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("open " DEV);
	if (!strcmp(argv[1], "smoke")) {
		test_smoke();
	} else if (!strcmp(argv[1], "resets") && argc == 4) {
		test_resets(atoi(argv[2]), atoi(argv[3]));
	} else if (!strcmp(argv[1], "handover") && argc == 3) {
		test_handover(atoi(argv[2]));
	} else if (!strcmp(argv[1], "slots")) {
		test_slots();
	} else if (!strcmp(argv[1], "crash")) {
		test_crash();
	} else if (!strcmp(argv[1], "doorbell")) {
		test_doorbell();
	} else if (!strcmp(argv[1], "abuse")) {
		test_abuse();
	} else if (!strcmp(argv[1], "inject") && argc >= 3) {
		test_inject(atoi(argv[2]), argc > 3 && !strcmp(argv[3], "big"));
	} else if (!strcmp(argv[1], "hold")) {
		test_hold();
	} else if (!strcmp(argv[1], "memcg")) {
		test_memcg();
	} else {
		fprintf(stderr, "unknown test %s\n", argv[1]);
		return 2;
	}
	printf("# hsm_pins %s: %d failed\n", argv[1], failures);
	return failures;
}
