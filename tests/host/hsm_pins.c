// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-host-pins: ivshmem_host.ko's dm-land memory under HSM's pins,
 * with the HSM test double (tests/hsm_double, /dev/acrn_hsm_double)
 * standing in for /dev/acrn_hsm. Run inside the guest by
 * tests/host/e2e.sh with both modules loaded.
 *
 *   ivshmem-host-pins smoke     the double itself: CREATE_VM, SET_MEMSEG
 *                               of an attachment's mapping (pins, region
 *                               ops, data both ways through its vmap),
 *                               HSM's refusals, DESTROY_VM
 *   ivshmem-host-pins resets MB N
 *                               acrn-dm across N guest resets of an MB
 *                               region whose pages HSM keeps pinned: the
 *                               same memory comes back, data intact, free
 *                               memory drops by MB once; DESTROY_VM frees
 *                               it, a new session reads zeroes
 *   ivshmem-host-pins abuse     a careless or hostile holder: lingering
 *                               memory counts against mem_limit_mb, stays
 *                               counted (and out of reach) after its
 *                               region is removed, a mapping alone
 *                               lingers only while it exists
 *   ivshmem-host-pins inject MB [big]
 *                               test_fail_folios: failed 2 MiB allocations
 *                               cost their own chunk only; with "big" a
 *                               512 MiB region of 4 KiB pages only, more
 *                               region ops than HSM can allocate, is
 *                               refused (ENOMEM, logged)
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
#include <sys/ioctl.h>
#include <sys/mman.h>
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
 * MiB is reserved memory on x86): nothing pinned; a read-only PTE refuses
 * write access.
 */
static void test_pfnmap(int hsm)
{
	struct hsm_double_info before = hsm_info(hsm, 0), after;
	struct acrn_vm_memmap m;
	int fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
	void *p = MAP_FAILED;

	if (fd >= 0)
		p = mmap(NULL, 64 * 1024, PROT_READ, MAP_SHARED, fd, 0xf0000);
	if (p == MAP_FAILED) {
		skip("double: PFNMAP branch: no /dev/mem mapping of 0xf0000 (%s)",
		     strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	memset(&m, 0, sizeof(m));
	m.type = ACRN_MEMMAP_RAM;
	m.attr = ACRN_MEM_ACCESS_READ;
	m.vma_base = (uintptr_t)p;
	m.len = 64 * 1024;
	m.user_vm_pa = BAR2;
	check(xioctl(hsm, ACRN_IOCTL_SET_MEMSEG, &m) == 0,
	      "double: SET_MEMSEG of a VM_PFNMAP mapping of reserved memory, read access");
	m.attr = ACRN_MEM_ACCESS_RWX;
	check(xioctl(hsm, ACRN_IOCTL_SET_MEMSEG, &m) == -EFAULT,
	      "double: ... with write access to a read-only PTE: EFAULT (as HSM)");
	m.attr = ACRN_MEM_ACCESS_READ;
	m.len = 128 * 1024;
	check(xioctl(hsm, ACRN_IOCTL_SET_MEMSEG, &m) == -EINVAL,
	      "double: ... beyond the VMA's end: EINVAL (as HSM)");
	after = hsm_info(hsm, 0);
	check(after.nr_pfnmaps == before.nr_pfnmaps + 1 &&
	      after.nr_maps == before.nr_maps &&
	      after.pinned_pages == before.pinned_pages,
	      "double: the PFNMAP branch took no slot and pinned nothing");
	munmap(p, 64 * 1024);
	close(fd);
}

/* The double on its own: what HSM does with an attachment's mapping. */
static void test_smoke(void)
{
	const char *name = "dm:/pins_smoke";
	struct ivshmem_host_region r;
	struct hsm_double_info hi;
	struct acrn_vm_memmap m;
	struct acrn_vm_creation c;
	unsigned int vmid;
	char buf[64];
	__u64 size = 0;
	int fd, hsm;
	char *p;
	void *hole;

	if (add_region(name, 4, 0x6))
		die("ADD " "dm:/pins_smoke");
	fd = attach(name, 1, &size);
	if (fd < 0)
		die("ATTACH dm:/pins_smoke");
	p = map_fd(fd, size);

	hsm = open(HSM, O_RDWR | O_CLOEXEC);
	if (hsm < 0)
		die("open " HSM);
	hi = hsm_info(hsm, 0);
	check(hi.vmid == INVALID_VMID && hi.nr_maps == 0,
	      "double: no VM before CREATE_VM (vmid %#x)", hi.vmid);
	check(set_memseg(hsm, p, size) == -EINVAL,
	      "double: SET_MEMSEG before CREATE_VM: EINVAL (as HSM)");
	close(hsm);

	hsm = hsm_vm(&vmid);
	check(vmid != 0 && vmid != INVALID_VMID, "double: CREATE_VM gives VM %u", vmid);
	memset(&c, 0, sizeof(c));
	check(xioctl(hsm, ACRN_IOCTL_CREATE_VM, &c) == -EBUSY,
	      "double: a second CREATE_VM on the fd: EBUSY");
	c.reserved0 = 1;
	check(xioctl(hsm, ACRN_IOCTL_CREATE_VM, &c) == -EINVAL,
	      "double: CREATE_VM reserved0 set: EINVAL (as HSM)");

	memset(p, 0, size);
	strcpy(p, "from the device model");
	check(set_memseg(hsm, p, size) == 0,
	      "double: SET_MEMSEG RAM of a 4 MiB attachment mapping");
	hi = hsm_info(hsm, 0);
	if (lookup(name, &r))
		die("LOOKUP dm:/pins_smoke");
	check(hi.nr_maps == 1 &&
	      hi.npages == size / PAGE && hi.nr_regions == r.nr_folios &&
	      hi.op_bytes == OP_HDR + OP_SIZE * hi.nr_regions,
	      "double: one slot, %llu pages, %llu region ops (the module has %u folios), %llu bytes of ops",
	      (unsigned long long)hi.npages, (unsigned long long)hi.nr_regions,
	      r.nr_folios, (unsigned long long)hi.op_bytes);
	check(hi.nr_large == hi.nr_regions && hi.nr_regions == size / (2 * MB),
	      "double: every op maps a 2 MiB folio (%llu of %llu)",
	      (unsigned long long)hi.nr_large, (unsigned long long)hi.nr_regions);
	check(hi.pinned_pages == size / PAGE, "double: %llu pages pinned",
	      (unsigned long long)hi.pinned_pages);

	memset(buf, 0, sizeof(buf));
	check(hsm_access(hsm, 0, 0, 0, buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "from the device model"),
	      "double: its vmap reads what the mapping wrote ('%.30s')", buf);
	strcpy(buf, "from HSM's vmap");
	check(hsm_access(hsm, 0, HSM_DOUBLE_ACCESS_WRITE, 3 * MB + 5, buf, sizeof(buf)) == 0 &&
	      !strcmp(p + 3 * MB + 5, "from HSM's vmap"),
	      "double: the mapping reads what its vmap wrote");
	check(hsm_access(hsm, 0, 0, size - 8, buf, 16) == -EINVAL &&
	      hsm_access(hsm, 1, 0, 0, buf, 16) == -ENOENT &&
	      hsm_access(hsm, 0, 2, 0, buf, 16) == -EINVAL &&
	      !strcmp(p, "from the device model"),
	      "double: ACCESS beyond the slot, of a missing slot, bad flags: EINVAL, ENOENT, EINVAL");

	memset(&m, 0, sizeof(m));
	m.type = ACRN_MEMMAP_RAM;
	m.vma_base = (uintptr_t)p;
	m.len = size;
	check(xioctl(hsm, ACRN_IOCTL_UNSET_MEMSEG, &m) == -EINVAL,
	      "double: UNSET_MEMSEG of RAM: EINVAL (HSM unmaps MMIO only)");
	check(set_memseg(hsm, p, 0) == -EINVAL, "double: SET_MEMSEG len 0: EINVAL");
	m.type = 7;
	check(xioctl(hsm, ACRN_IOCTL_SET_MEMSEG, &m) == -EINVAL,
	      "double: SET_MEMSEG type 7: EINVAL");
	/* An address nothing maps: a reservation given back. */
	hole = mmap(NULL, 2 * MB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED || munmap(hole, 2 * MB))
		die("mmap a hole");
	check(set_memseg(hsm, hole, 2 * MB) == -EFAULT,
	      "double: SET_MEMSEG of unmapped memory: EFAULT (nothing pinned)");
	check(hsm_info(hsm, 0).pinned_pages == size / PAGE,
	      "double: ... still %lu pages pinned", size / PAGE);

	test_pfnmap(hsm);
	check(xioctl(hsm, ACRN_IOCTL_DESTROY_VM, NULL) == 0,
	      "double: DESTROY_VM");
	hi = hsm_info(hsm, 0);
	check(hi.vmid == INVALID_VMID && hi.nr_maps == 0 && hi.pinned_pages == 0,
	      "double: after DESTROY_VM no VM, no slot, nothing pinned");
	check(set_memseg(hsm, p, size) == -EINVAL,
	      "double: SET_MEMSEG after DESTROY_VM: EINVAL");
	check(!strcmp(p, "from the device model"),
	      "double: the mapping is intact after the unpin");
	close(hsm);

	/* Release of the fd unpins too. */
	hsm = hsm_vm(NULL);
	check(set_memseg(hsm, p, size) == 0 &&
	      hsm_info(hsm, 0).pinned_pages == size / PAGE,
	      "double: SET_MEMSEG on a new VM pins again");
	close(hsm);
	hsm = open(HSM, O_RDWR | O_CLOEXEC);
	check(hsm >= 0 && hsm_info(hsm, 0).pinned_pages == 0,
	      "double: closing the VM's fd unpins everything");
	close(hsm);

	munmap(p, size);
	close(fd);
	check(remove_region(name) == 0 && info().mem_bytes == 0,
	      "region removed, no memory left");
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

#define MAX_RESETS 16

/*
 * acrn-dm across guest resets: each reset closes and unmaps the region,
 * opens and maps it again and calls SET_MEMSEG again while the pins of
 * the earlier SET_MEMSEGs are still held (here each on a VM fd of its own,
 * all kept). The VM must get the same memory back each time.
 */
static void test_resets(unsigned int size_mb, unsigned int n)
{
	const char *name = "dm:/pins_reset";
	size_t size = (size_t)size_mb * MB, want_folios = size / (2 * MB);
	long long m0, m1, mn, m_end;
	int hsm[MAX_RESETS + 1], fd, i, same = 1, cross = 1, grows = 0;
	unsigned int flags, attached, folios;
	struct hsm_double_info hi;
	char buf[64], want[64];
	__u64 sz;
	char *p;

	if (n > MAX_RESETS)
		n = MAX_RESETS;
	if (add_region(name, size_mb, 0x6))
		die("ADD dm:/pins_reset");
	m0 = mem_free();
	fd = attach(name, 1, &sz);
	if (fd < 0)
		die("ATTACH dm:/pins_reset");
	p = map_fd(fd, size);
	mark(p, size, 0);
	hsm[0] = hsm_vm(NULL);
	check(set_memseg(hsm[0], p, size) == 0,
	      "resets: SET_MEMSEG of the %u MiB region (the guest boots)", size_mb);
	hi = hsm_info(hsm[0], 0);
	region_state(name, &flags, &attached, &folios);
	check(hi.nr_regions == folios && hi.nr_large == want_folios &&
	      folios == want_folios,
	      "resets: %llu region ops, %llu of them 2 MiB folios (the module: %u folios)",
	      (unsigned long long)hi.nr_regions, (unsigned long long)hi.nr_large,
	      folios);
	m1 = mem_free();

	for (i = 1; i <= (int)n; i++) {
		deinit(fd, p, size, i & 1);
		if (i == 1) {
			region_state(name, &flags, &attached, &folios);
			check((flags & IVSHMEM_HOST_REGION_MEM) && attached == 0 &&
			      info().mem_bytes == size && info().nr_mems == 1,
			      "resets: closed and unmapped while pinned: the memory stays (%u attached, %llu bytes)",
			      attached, (unsigned long long)info().mem_bytes);
		}
		fd = attach(name, 1, &sz);
		if (fd < 0)
			die("re-ATTACH dm:/pins_reset");
		p = map_fd(fd, size);
		if (!marked(p, size, i - 1))
			same = 0;
		/* The old VM's pins see what the new mapping sees. */
		snprintf(want, sizeof(want), "chunk %zu gen %u", want_folios - 1,
			 i - 1);
		memset(buf, 0, sizeof(buf));
		if (hsm_access(hsm[i - 1], 0, 0, size - 2 * MB, buf, sizeof(buf)) ||
		    strcmp(buf, want))
			cross = 0;
		mark(p, size, i);
		hsm[i] = hsm_vm(NULL);
		if (set_memseg(hsm[i], p, size))
			die("SET_MEMSEG after a reset");
		if (info().mem_bytes != size || info().nr_mems != 1)
			grows++;
	}
	mn = mem_free();
	check(same, "resets: after each of %u resets the VM maps the same memory, data intact",
	      n);
	check(cross, "resets: ... which the earlier VMs' HSM pins still see");
	check(!grows, "resets: INFO reports %zu bytes in one memory after every reset (%d did not)",
	      size, grows);
	check(m0 - m1 >= (long long)size * 7 / 8 &&
	      m0 - m1 <= (long long)size * 3 / 2,
	      "resets: free memory dropped by the region once: %lld MiB for %u MiB",
	      (m0 - m1) >> 20, size_mb);
	check(mn - m1 > -(long long)size / 2,
	      "resets: and not again over %u resets: %+lld MiB", n, (mn - m1) >> 20);
	check(hsm_info(hsm[0], 0).pinned_pages == (n + 1) * (size / PAGE),
	      "resets: the double holds %u SET_MEMSEGs' pins", n + 1);

	/* acrn-dm ends: deinit, then the VM is destroyed (each "VM"). */
	deinit(fd, p, size, 1);
	for (i = 0; i < (int)n; i++)
		if (xioctl(hsm[i], ACRN_IOCTL_DESTROY_VM, NULL))
			die("DESTROY_VM");
	check(info().mem_bytes == size,
	      "resets: while one VM still pins it the memory stays");
	close(hsm[n]);
	/* INFO checks the lingering memory again; LOOKUP then agrees. */
	check(info().mem_bytes == 0 && info().nr_mems == 0 &&
	      !region_state(name, &flags, &attached, &folios) &&
	      !(flags & IVSHMEM_HOST_REGION_MEM),
	      "resets: DESTROY_VM of the last: INFO back to 0 bytes, 0 memories");
	m_end = mem_free();
	check(m_end - m0 > -(long long)size / 4,
	      "resets: free memory is back (%+lld MiB against before the region)",
	      (m_end - m0) >> 20);
	for (i = 0; i < (int)n; i++)
		close(hsm[i]);
	fd = attach(name, 2, &sz);
	if (fd < 0)
		die("ATTACH after DESTROY_VM");
	p = map_fd(fd, size);
	check(all_zero(p, size), "resets: the next session reads zeroes");
	deinit(fd, p, size, 0);
	check(remove_region(name) == 0 && info().mem_bytes == 0,
	      "resets: region removed, nothing left");
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

static int set_limit(const char *mb)
{
	const char *param = "/sys/module/ivshmem_host/parameters/mem_limit_mb";
	int f = open(param, O_WRONLY);
	int ok = f >= 0 && write(f, mb, strlen(mb)) == (ssize_t)strlen(mb);

	if (f >= 0)
		close(f);
	return ok ? 0 : -1;
}

static void test_abuse(void)
{
	int hsm, fd, fd2;
	char buf[32];
	char *p;

	/* Lingering memory counts against the limit. */
	if (add_region("dm:/pins_a", 4, 0x6) || add_region("dm:/pins_b", 8, 0x6))
		die("ADD dm:/pins_a, dm:/pins_b");
	if (set_limit("8"))
		die("mem_limit_mb=8");
	hsm = pin_and_leave("dm:/pins_a", 4 * MB, "pinned a");
	check(info().mem_bytes == 4 * MB,
	      "abuse: pinned after the last detach: 4 MiB still counted");
	fd = attach("dm:/pins_b", 1, NULL);
	check(fd == -ENOSPC,
	      "abuse: an 8 MiB region over the 8 MiB limit with 4 MiB pinned: ENOSPC");
	if (fd >= 0)
		close(fd);
	check(xioctl(hsm, ACRN_IOCTL_DESTROY_VM, NULL) == 0, "abuse: DESTROY_VM");
	fd = attach("dm:/pins_b", 1, NULL);
	check(fd >= 0 && info().mem_bytes == 8 * MB,
	      "abuse: ... then the 8 MiB region attaches");
	if (fd >= 0)
		close(fd);
	close(hsm);
	if (set_limit("4096"))
		die("mem_limit_mb=4096");

	/* Removal does not make pinned memory vanish from the books. */
	hsm = pin_and_leave("dm:/pins_a", 4 * MB, "pinned before removal");
	check(remove_region("dm:/pins_a") == 0 && info().mem_bytes == 4 * MB &&
	      info().nr_mems == 1,
	      "abuse: region removed while pinned: its 4 MiB still counted");
	check(add_region("dm:/pins_a", 4, 0x6) == 0, "abuse: the name is free again");
	fd = attach("dm:/pins_a", 1, NULL);
	if (fd < 0)
		die("ATTACH the new dm:/pins_a");
	p = map_fd(fd, 4 * MB);
	check(all_zero(p, 4 * MB) && info().mem_bytes == 8 * MB &&
	      info().nr_mems == 2,
	      "abuse: the new region of that name gets new, zeroed memory (8 MiB counted)");
	memset(buf, 0, sizeof(buf));
	check(hsm_access(hsm, 0, 0, 0, buf, sizeof(buf)) == 0 &&
	      !strcmp(buf, "pinned before removal"),
	      "abuse: HSM still reads the old memory through its pins");
	deinit(fd, p, 4 * MB, 0);
	close(hsm);
	check(info().mem_bytes == 0 && info().nr_mems == 0,
	      "abuse: the VM's fd closed: the old memory is freed, nothing left");

	/* A mapping alone keeps memory only while it exists. */
	fd = attach("dm:/pins_a", 1, NULL);
	if (fd < 0)
		die("ATTACH dm:/pins_a");
	p = map_fd(fd, 4 * MB);
	strcpy(p, "mapped only");
	close(fd);
	check(info().mem_bytes == 4 * MB, "abuse: closed but mapped: 4 MiB stay");
	fd2 = attach("dm:/pins_a", 2, NULL);
	check(fd2 >= 0 && info().nr_mems == 1,
	      "abuse: the next attach shares the mapped memory");
	if (fd2 >= 0)
		close(fd2);
	munmap(p, 4 * MB);
	check(info().mem_bytes == 0 && info().nr_mems == 0,
	      "abuse: the last munmap frees it");
	fd = attach("dm:/pins_a", 1, NULL);
	if (fd < 0)
		die("ATTACH dm:/pins_a");
	p = map_fd(fd, 4 * MB);
	check(all_zero(p, 4 * MB), "abuse: ... and the next session reads zeroes");
	deinit(fd, p, 4 * MB, 0);

	/* A fork's copy of the mapping counts like the mapping. */
	fd = attach("dm:/pins_a", 1, NULL);
	if (fd < 0)
		die("ATTACH dm:/pins_a");
	p = map_fd(fd, 4 * MB);
	strcpy(p, "forked");
	{
		int go[2], ret;
		pid_t pid;
		char c;

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
		check(info().mem_bytes == 4 * MB,
		      "abuse: a forked child's mapping keeps the memory");
		fd = attach("dm:/pins_a", 2, NULL);
		p = fd < 0 ? MAP_FAILED : map_fd(fd, 4 * MB);
		check(p != MAP_FAILED && !strcmp(p, "forked"),
		      "abuse: ... and the next session gets it, data intact");
		if (write(go[1], "x", 1) != 1)
			die("write");
		waitpid(pid, &ret, 0);
		check(WIFEXITED(ret) && WEXITSTATUS(ret) == 0,
		      "abuse: the child read the same memory");
		close(go[0]);
		close(go[1]);
		if (p != MAP_FAILED)
			deinit(fd, p, 4 * MB, 1);
	}
	check(info().mem_bytes == 0, "abuse: everything gone, nothing counted");
	check(remove_region("dm:/pins_a") == 0 && remove_region("dm:/pins_b") == 0,
	      "abuse: regions removed");
}

static int set_fail_folios(int n)
{
	const char *param = "/sys/module/ivshmem_host/parameters/test_fail_folios";
	char v[16];
	int f = open(param, O_RDWR), ok;

	snprintf(v, sizeof(v), "%d", n);
	ok = f >= 0 && write(f, v, strlen(v)) == (ssize_t)strlen(v);
	if (f >= 0)
		close(f);
	return ok ? 0 : -1;
}

static int get_fail_folios(void)
{
	const char *param = "/sys/module/ivshmem_host/parameters/test_fail_folios";
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
		die("set test_fail_folios");
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
	check(info().mem_bytes == 0, "inject: VM destroyed, memory freed");
}

static void test_inject(unsigned int size_mb, int big)
{
	const char *name = "dm:/pins_inject";
	unsigned int flags, attached, folios;
	int fd;

	if (add_region(name, size_mb, 0x6))
		die("ADD dm:/pins_inject");
	inject_one(name, size_mb, 1);
	inject_one(name, size_mb, 3);
	check(remove_region(name) == 0, "inject: region removed");
	if (!big) {
		skip("inject: 512 MiB of 4 KiB pages refused: needs a 2 GiB guest (stock 6.1)");
		return;
	}
	if (add_region("dm:/pins_big", 512, 0x6) || set_fail_folios(256))
		die("ADD dm:/pins_big, test_fail_folios=256");
	fd = attach("dm:/pins_big", 1, NULL);
	region_state("dm:/pins_big", &flags, &attached, &folios);
	check(fd == -ENOMEM && info().mem_bytes == 0 && info().nr_mems == 0 &&
	      !(flags & IVSHMEM_HOST_REGION_MEM),
	      "inject: 512 MiB, every 2 MiB allocation failing (131072 region ops, HSM takes 131071): ATTACH ENOMEM, nothing kept");
	if (fd >= 0)
		close(fd);
	if (set_fail_folios(255))
		die("test_fail_folios=255");
	fd = attach("dm:/pins_big", 1, NULL);
	region_state("dm:/pins_big", &flags, &attached, &folios);
	check(fd >= 0 && folios == 255 * 512 + 1,
	      "inject: ... one 2 MiB folio among them (130561 ops) attaches");
	if (fd >= 0)
		close(fd);
	check(remove_region("dm:/pins_big") == 0 && info().mem_bytes == 0,
	      "inject: region removed, nothing left");
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

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s smoke|resets MB N|abuse|inject MB [big]|hold\n",
			argv[0]);
		return 2;
	}
	dev = open(DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("open " DEV);
	if (!strcmp(argv[1], "smoke")) {
		test_smoke();
	} else if (!strcmp(argv[1], "resets") && argc == 4) {
		test_resets(atoi(argv[2]), atoi(argv[3]));
	} else if (!strcmp(argv[1], "abuse")) {
		test_abuse();
	} else if (!strcmp(argv[1], "inject") && argc >= 3) {
		test_inject(atoi(argv[2]), argc > 3 && !strcmp(argv[3], "big"));
	} else if (!strcmp(argv[1], "hold")) {
		test_hold();
	} else {
		fprintf(stderr, "unknown test %s\n", argv[1]);
		return 2;
	}
	printf("# hsm_pins %s: %d failed\n", argv[1], failures);
	return failures;
}
