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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/ivshmem_host.h>

#include "../hsm_double/hsm_double.h"
#include "../progs/check.h"

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

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static void set_name(char *dst, const char *name)
{
	memset(dst, 0, IVSHMEM_HOST_NAME_LEN);
	memcpy(dst, name, strnlen(name, IVSHMEM_HOST_NAME_LEN));
}

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
	check(set_memseg(hsm, p + size, 2 * MB) == -EFAULT,
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

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s smoke\n", argv[0]);
		return 2;
	}
	dev = open(DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("open " DEV);
	if (!strcmp(argv[1], "smoke")) {
		test_smoke();
	} else {
		fprintf(stderr, "unknown test %s\n", argv[1]);
		return 2;
	}
	printf("# hsm_pins %s: %d failed\n", argv[1], failures);
	return failures;
}
