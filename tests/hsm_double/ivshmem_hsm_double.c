// SPDX-License-Identifier: GPL-2.0
/*
 * A test double of ACRN's HSM (drivers/virt/acrn), for the tests only
 * (built and loaded by tests/harness/ivt.py, never installed).
 *
 * /dev/acrn_hsm_double takes HSM's own ioctl numbers and structures
 * (include/uapi/linux/acrn.h) for what acrn-dm does to a dm-land ivshmem
 * region, and does what HSM does short of the hypercalls:
 *
 *   open             one VM object per fd, no VM yet (hsm.c acrn_dev_open)
 *   CREATE_VM        records a VM ID (from an IDA, not the hypervisor)
 *   SET_MEMSEG RAM   acrn_vm_ram_map() (mm.c), step by step: mmap_read_lock
 *                    and vma_lookup(); for a VM_PFNMAP VMA its rules (the
 *                    range within the VMA, each PTE writable if write
 *                    access is asked, no refcounted page, contiguous
 *                    PFNs) and nothing pinned; otherwise
 *                    pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM) of
 *                    every page into a vzalloc'ed array, vmap() of them,
 *                    one of ACRN_MEM_MAPPING_MAX (256) mapping slots, the
 *                    walk by compound order counting region ops, and the
 *                    kzalloc of the op array with HSM's size computation
 *                    (so it fails exactly where HSM's would: above
 *                    KMALLOC_MAX_SIZE), the ops filled as HSM fills them.
 *                    The hypercall is not made; the pins and the vmap are
 *                    kept until the VM is destroyed, as HSM keeps them.
 *   UNSET_MEMSEG     EINVAL for RAM, as HSM (which unmaps MMIO only)
 *   DESTROY_VM       acrn_vm_destroy() -> acrn_vm_all_ram_unmap(): vunmap
 *                    and unpin_user_page() of every page, vfree
 *   release          acrn_dev_release(): destroy, free
 *
 * Mirrors drivers/virt/acrn/{hsm.c,vm.c,mm.c} of Linux 6.1 (Debian
 * 6.1.192) and 6.12 (Debian 6.12.117), which differ for this only in how
 * the PFNMAP branch reads the entries (follow_pte() on 6.1,
 * follow_pfnmap_start() on 6.12: ivshmem_follow_pfn() in compat.h) and in
 * setting regions_num before filling the __counted_by op array (6.12).
 *
 * Where HSM would trip VM_BUG_ON_PAGE() (a step of the walk starting on a
 * tail page) the double WARNs and fails the ioctl with EINVAL; it also
 * WARNs where HSM would silently map the wrong memory (a folio running
 * past the end of the range, or pages of one step that are not that
 * folio's pages in order). A test boot fails on any WARN: the host module
 * must never hand HSM such a layout.
 *
 * Deliberate differences, none of which changes what the host module
 * sees: CREATE_VM on a fd whose VM exists is refused with EBUSY (HSM would
 * create a second VM in the hypervisor and lose the first); MMIO
 * SET_MEMSEG/UNSET_MEMSEG get EOPNOTSUPP; the op array is allocated
 * __GFP_NOWARN (HSM's GFP_KERNEL allocation above KMALLOC_MAX_SIZE WARNs
 * in the page allocator, which would fail the boot instead of the test);
 * the slot is taken after the walk, not before it, and under the VM's
 * lock throughout (HSM's error path assumes no concurrent SET_MEMSEG).
 *
 * Test-only additions (tests/hsm_double/hsm_double.h): INFO (the VM ID,
 * slots, region-op counts of a slot, all pages pinned) and ACCESS (read
 * or write a slot's memory through the vmap, as the hypervisor's EPT
 * mapping would see it). Module parameter stamp_offset: at each RAM
 * SET_MEMSEG write "hsm_double vm N" at that offset through the vmap
 * (-1, the default: write nothing). Every SET_MEMSEG reads and writes
 * back one byte per region op through the vmap, which cannot change data.
 *
 * Locking: hd_vm.lock (HSM's regions_mapping_lock) serialises a VM's
 * ioctls; taken before mmap_lock. Pins are taken with no lock but it.
 */
#include <linux/acrn.h>
#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "hsm_double.h"

#define HD_NAME "acrn_hsm_double"

/* drivers/virt/acrn/acrn_drv.h (private to HSM; same on 6.1 and 6.12). */
#define HD_INVALID_VMID		0xffffU	/* ACRN_INVALID_VMID */
#define HD_MEM_MAPPING_MAX	256	/* ACRN_MEM_MAPPING_MAX */
#define HD_MEM_REGION_ADD	0	/* ACRN_MEM_REGION_ADD */
#define HD_MEM_TYPE_WB		0x40	/* ACRN_MEM_TYPE_WB */
#define HD_MEM_TYPE_MASK	0x7c0	/* ACRN_MEM_TYPE_MASK */
#define HD_MEM_ACCESS_RIGHT_MASK 0x7	/* ACRN_MEM_ACCESS_RIGHT_MASK */

/* struct vm_memory_region_op */
struct hd_region_op {
	u32 type;
	u32 attr;
	u64 user_vm_pa;
	u64 service_vm_pa;
	u64 size;
};

/* struct vm_memory_region_batch */
struct hd_region_batch {
	u16 vmid;
	u16 reserved[3];
	u32 regions_num;
	u64 regions_gpa;
	struct hd_region_op regions_op[];
};

static_assert(sizeof(struct hd_region_op) == 32);
static_assert(sizeof(struct hd_region_batch) == 24);

/* struct vm_memory_mapping, plus what the walk found */
struct hd_map {
	struct page **pages;
	unsigned long npages;
	u64 size;
	void *va;
	u64 user_vm_pa;
	u64 nr_regions;
	u64 nr_large;
	u64 op_bytes;
};

struct hd_vm {
	struct mutex lock;	/* everything below */
	u16 vmid;
	unsigned int nr_maps;
	unsigned int nr_pfnmaps;
	struct hd_map maps[HD_MEM_MAPPING_MAX];
};

static DEFINE_IDA(hd_vmids);
static atomic_long_t hd_pinned;

static long stamp_offset = -1;
module_param(stamp_offset, long, 0644);
MODULE_PARM_DESC(stamp_offset,
		 "test only: at each RAM SET_MEMSEG write \"hsm_double vm N\" at this byte offset through the vmap (-1: nothing)");

static int hd_open(struct inode *inode, struct file *file)
{
	struct hd_vm *vm = kzalloc(sizeof(*vm), GFP_KERNEL);

	if (!vm)
		return -ENOMEM;
	mutex_init(&vm->lock);
	vm->vmid = HD_INVALID_VMID;
	file->private_data = vm;
	return 0;
}

/* acrn_vm_all_ram_unmap() */
static void hd_unmap_all(struct hd_vm *vm)
{
	unsigned int i;
	unsigned long j;

	lockdep_assert_held(&vm->lock);
	for (i = 0; i < vm->nr_maps; i++) {
		struct hd_map *map = &vm->maps[i];

		vunmap(map->va);
		for (j = 0; j < map->npages; j++)
			unpin_user_page(map->pages[j]);
		atomic_long_sub(map->npages, &hd_pinned);
		vfree(map->pages);
	}
	memset(vm->maps, 0, sizeof(vm->maps));
	vm->nr_maps = 0;
	vm->nr_pfnmaps = 0;
}

/* acrn_vm_destroy() */
static void hd_destroy(struct hd_vm *vm)
{
	lockdep_assert_held(&vm->lock);
	if (vm->vmid == HD_INVALID_VMID)
		return;
	hd_unmap_all(vm);
	ida_free(&hd_vmids, vm->vmid);
	vm->vmid = HD_INVALID_VMID;
}

static int hd_release(struct inode *inode, struct file *file)
{
	struct hd_vm *vm = file->private_data;

	mutex_lock(&vm->lock);
	hd_destroy(vm);
	mutex_unlock(&vm->lock);
	mutex_destroy(&vm->lock);
	kfree(vm);
	return 0;
}

static long hd_create_vm(struct hd_vm *vm, void __user *arg)
{
	struct acrn_vm_creation *param;
	long ret = 0;
	int id;

	param = memdup_user(arg, sizeof(*param));
	if (IS_ERR(param))
		return PTR_ERR(param);
	if (param->reserved0 | param->reserved1) {
		ret = -EINVAL;
		goto free_param;
	}
	if (vm->vmid != HD_INVALID_VMID) {
		ret = -EBUSY;
		goto free_param;
	}
	id = ida_alloc_range(&hd_vmids, 1, HD_INVALID_VMID - 1, GFP_KERNEL);
	if (id < 0) {
		ret = id;
		goto free_param;
	}
	vm->vmid = id;
	param->vmid = id;
	if (copy_to_user(arg, param, sizeof(*param))) {
		hd_destroy(vm);
		ret = -EFAULT;
	}
free_param:
	kfree(param);
	return ret;
}

/* acrn_vm_ram_map()'s VM_PFNMAP branch; mmap_lock held for reading. */
static int hd_pfnmap_check(struct vm_area_struct *vma,
			   const struct acrn_vm_memmap *memmap,
			   unsigned long nr_pages)
{
	unsigned long i, start_pfn = 0, cur_pfn;
	bool writable;
	int ret = 0;

	if (memmap->vma_base + memmap->len > vma->vm_end)
		return -EINVAL;
	for (i = 0; i < nr_pages; i++) {
		ret = ivshmem_follow_pfn(vma, memmap->vma_base + i * PAGE_SIZE,
					 &cur_pfn, &writable);
		if (ret)
			break;
		if (i == 0)
			start_pfn = cur_pfn;
		if (!writable && (memmap->attr & ACRN_MEM_ACCESS_WRITE)) {
			ret = -EFAULT;
			break;
		}
		if (pfn_valid(cur_pfn) && !PageReserved(pfn_to_page(cur_pfn))) {
			ret = -EFAULT;
			break;
		}
		if (cur_pfn != start_pfn + i) {
			ret = -EINVAL;
			break;
		}
	}
	return ret;
}

/*
 * The walk by compound order of acrn_vm_ram_map(): count the region ops.
 * Return: 0, or -EINVAL after a WARN where HSM would BUG or mis-map.
 */
static int hd_walk(struct page **pages, unsigned long nr_pages,
		   u64 *nr_regions, u64 *nr_large)
{
	unsigned long i, j;
	unsigned int order;

	*nr_regions = 0;
	*nr_large = 0;
	for (i = 0; i < nr_pages; i += 1UL << order) {
		struct page *page = pages[i];

		/* HSM: VM_BUG_ON_PAGE(PageTail(page), page) */
		if (WARN(PageTail(page),
			 "acrn_hsm_double: page %lu of the range is a tail page (HSM: VM_BUG_ON_PAGE)\n",
			 i))
			return -EINVAL;
		order = compound_order(page);
		if (WARN(i + (1UL << order) > nr_pages,
			 "acrn_hsm_double: folio of order %u at page %lu runs past the range of %lu pages (HSM would map it whole)\n",
			 order, i, nr_pages))
			return -EINVAL;
		for (j = 1; j < (1UL << order); j++)
			if (WARN(pages[i + j] != nth_page(page, j),
				 "acrn_hsm_double: page %lu is not page %lu of the folio at page %lu (HSM would map that folio instead)\n",
				 i + j, j, i))
				return -EINVAL;
		(*nr_regions)++;
		if (order)
			(*nr_large)++;
	}
	return 0;
}

/* The op array as HSM allocates and fills it; no hypercall. */
static int hd_region_ops(struct hd_vm *vm, const struct acrn_vm_memmap *memmap,
			 struct hd_map *map)
{
	struct hd_region_batch *batch;
	struct hd_region_op *op;
	u64 user_vm_pa = memmap->user_vm_pa;
	unsigned long i;
	unsigned int order;

	map->op_bytes = struct_size(batch, regions_op, map->nr_regions);
	batch = kzalloc(map->op_bytes, GFP_KERNEL | __GFP_NOWARN);
	if (!batch) {
		pr_info("VM %u: %llu region ops (%llu bytes) cannot be kmalloc'ed (limit %lu bytes): HSM's SET_MEMSEG fails with ENOMEM\n",
			vm->vmid, map->nr_regions, map->op_bytes,
			(unsigned long)KMALLOC_MAX_SIZE);
		return -ENOMEM;
	}
	batch->regions_num = map->nr_regions;
	batch->vmid = vm->vmid;
	op = batch->regions_op;
	batch->regions_gpa = virt_to_phys(op);
	for (i = 0; i < map->npages; i += 1UL << order) {
		struct page *page = map->pages[i];
		u32 size;

		order = compound_order(page);
		size = PAGE_SIZE << order;
		op->type = HD_MEM_REGION_ADD;
		op->user_vm_pa = user_vm_pa;
		op->service_vm_pa = page_to_phys(page);
		op->size = size;
		op->attr = (HD_MEM_TYPE_WB & HD_MEM_TYPE_MASK) |
			   (memmap->attr & HD_MEM_ACCESS_RIGHT_MASK);
		op++;
		user_vm_pa += size;
	}
	/* hcall_set_memory_regions(virt_to_phys(batch)) would go here. */
	kfree(batch);
	return 0;
}

/* What the hypervisor would do through the EPT: touch each op's memory. */
static void hd_touch(struct hd_vm *vm, struct hd_map *map)
{
	u8 *va = map->va;
	unsigned long i;
	unsigned int order;

	for (i = 0; i < map->npages; i += 1UL << order) {
		u8 *p = va + (i << PAGE_SHIFT);

		order = compound_order(map->pages[i]);
		WRITE_ONCE(*p, READ_ONCE(*p));
	}
	if (stamp_offset >= 0 && (u64)stamp_offset + 32 <= map->size)
		snprintf(va + stamp_offset, 32, "hsm_double vm %u", vm->vmid);
}

/* acrn_vm_ram_map() short of the hypercall. */
static long hd_ram_map(struct hd_vm *vm, const struct acrn_vm_memmap *memmap)
{
	struct vm_area_struct *vma;
	struct hd_map map = {};
	long pinned = 0;
	int ret;

	lockdep_assert_held(&vm->lock);
	/* HSM keeps the count in an int. */
	if (memmap->len >> PAGE_SHIFT > INT_MAX)
		return -EINVAL;
	map.npages = memmap->len >> PAGE_SHIFT;
	if (!map.npages)
		return -EINVAL;

	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, memmap->vma_base);
	if (vma && (vma->vm_flags & VM_PFNMAP)) {
		ret = hd_pfnmap_check(vma, memmap, map.npages);
		mmap_read_unlock(current->mm);
		if (ret)
			return ret;
		/* acrn_mm_region_add() would go here: nothing is pinned. */
		vm->nr_pfnmaps++;
		return 0;
	}
	mmap_read_unlock(current->mm);

	map.pages = vzalloc(array_size(map.npages, sizeof(*map.pages)));
	if (!map.pages)
		return -ENOMEM;
	pinned = pin_user_pages_fast(memmap->vma_base, map.npages,
				     FOLL_WRITE | FOLL_LONGTERM, map.pages);
	if (pinned < 0) {
		ret = pinned;
		pinned = 0;
		goto free_pages;
	} else if (pinned != map.npages) {
		ret = -EFAULT;
		goto unpin;
	}
	map.va = vmap(map.pages, map.npages, VM_MAP, PAGE_KERNEL);
	if (!map.va) {
		ret = -ENOMEM;
		goto unpin;
	}
	ret = hd_walk(map.pages, map.npages, &map.nr_regions, &map.nr_large);
	if (ret)
		goto unmap;
	map.size = memmap->len;
	map.user_vm_pa = memmap->user_vm_pa;
	ret = hd_region_ops(vm, memmap, &map);
	if (ret)
		goto unmap;
	if (vm->nr_maps >= HD_MEM_MAPPING_MAX) {
		pr_warn("Run out of memory mapping slots!\n");
		ret = -ENOMEM;
		goto unmap;
	}
	hd_touch(vm, &map);
	vm->maps[vm->nr_maps++] = map;
	atomic_long_add(map.npages, &hd_pinned);
	return 0;

unmap:
	vunmap(map.va);
unpin:
	unpin_user_pages(map.pages, pinned);
free_pages:
	vfree(map.pages);
	return ret;
}

static long hd_set_memseg(struct hd_vm *vm, void __user *arg)
{
	struct acrn_vm_memmap memmap;

	if (copy_from_user(&memmap, arg, sizeof(memmap)))
		return -EFAULT;
	if (memmap.type == ACRN_MEMMAP_RAM)
		return hd_ram_map(vm, &memmap);
	return memmap.type == ACRN_MEMMAP_MMIO ? -EOPNOTSUPP : -EINVAL;
}

static long hd_unset_memseg(struct hd_vm *vm, void __user *arg)
{
	struct acrn_vm_memmap memmap;

	if (copy_from_user(&memmap, arg, sizeof(memmap)))
		return -EFAULT;
	return memmap.type == ACRN_MEMMAP_MMIO ? -EOPNOTSUPP : -EINVAL;
}

static long hd_info(struct hd_vm *vm, void __user *arg)
{
	struct hsm_double_info info;

	if (copy_from_user(&info, arg, sizeof(info)))
		return -EFAULT;
	if (info.vmid || info.nr_maps || info.nr_pfnmaps || info.npages ||
	    info.nr_regions || info.nr_large || info.op_bytes ||
	    info.pinned_pages || info.reserved[0] || info.reserved[1])
		return -EINVAL;
	info.vmid = vm->vmid;
	info.nr_maps = vm->nr_maps;
	info.nr_pfnmaps = vm->nr_pfnmaps;
	if (info.slot < vm->nr_maps) {
		struct hd_map *map = &vm->maps[info.slot];

		info.npages = map->npages;
		info.nr_regions = map->nr_regions;
		info.nr_large = map->nr_large;
		info.op_bytes = map->op_bytes;
	}
	info.pinned_pages = atomic_long_read(&hd_pinned);
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long hd_access(struct hd_vm *vm, void __user *arg)
{
	struct hsm_double_access req;
	struct hd_map *map;
	void __user *buf;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags & ~HSM_DOUBLE_ACCESS_WRITE || req.len > SZ_1M)
		return -EINVAL;
	if (req.slot >= vm->nr_maps)
		return -ENOENT;
	map = &vm->maps[req.slot];
	if (req.offset > map->size || req.len > map->size - req.offset)
		return -EINVAL;
	buf = u64_to_user_ptr(req.buf);
	/* The pins keep the pages; a fault on @buf takes only mmap_lock. */
	if (req.flags & HSM_DOUBLE_ACCESS_WRITE)
		return copy_from_user(map->va + req.offset, buf, req.len) ?
		       -EFAULT : 0;
	return copy_to_user(buf, map->va + req.offset, req.len) ? -EFAULT : 0;
}

static long hd_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hd_vm *vm = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	mutex_lock(&vm->lock);
	/* hsm.c: everything but CREATE_VM needs a VM (INFO is the double's). */
	if (vm->vmid == HD_INVALID_VMID && cmd != ACRN_IOCTL_CREATE_VM &&
	    cmd != HSM_DOUBLE_IOCTL_INFO) {
		ret = -EINVAL;
		goto unlock;
	}
	switch (cmd) {
	case ACRN_IOCTL_CREATE_VM:
		ret = hd_create_vm(vm, uarg);
		break;
	case ACRN_IOCTL_DESTROY_VM:
		hd_destroy(vm);
		ret = 0;
		break;
	case ACRN_IOCTL_SET_MEMSEG:
		ret = hd_set_memseg(vm, uarg);
		break;
	case ACRN_IOCTL_UNSET_MEMSEG:
		ret = hd_unset_memseg(vm, uarg);
		break;
	case HSM_DOUBLE_IOCTL_INFO:
		ret = hd_info(vm, uarg);
		break;
	case HSM_DOUBLE_IOCTL_ACCESS:
		ret = hd_access(vm, uarg);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
unlock:
	mutex_unlock(&vm->lock);
	return ret;
}

static const struct file_operations hd_fops = {
	.owner		= THIS_MODULE,
	.open		= hd_open,
	.release	= hd_release,
	.unlocked_ioctl	= hd_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice hd_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= HD_NAME,
	.fops	= &hd_fops,
	.mode	= 0600,
};

static int __init hd_init(void)
{
	return misc_register(&hd_misc);
}

static void __exit hd_exit(void)
{
	misc_deregister(&hd_misc);
	WARN_ON(atomic_long_read(&hd_pinned));
	ida_destroy(&hd_vmids);
}

module_init(hd_init);
module_exit(hd_exit);

MODULE_DESCRIPTION("Test double of ACRN's HSM: SET_MEMSEG pins and vmaps as HSM does, without hypercalls");
MODULE_LICENSE("GPL");
