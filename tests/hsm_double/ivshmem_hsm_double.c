// SPDX-License-Identifier: GPL-2.0
/*
 * A test double of ACRN's HSM (drivers/virt/acrn), for the tests only
 * (built and loaded by tests/harness/ivt.py, never installed).
 *
 * /dev/acrn_hsm_double takes HSM's own ioctl numbers and structures
 * (include/uapi/linux/acrn.h) for what acrn-dm does to a dm-land ivshmem
 * region and its doorbells, and does what HSM does short of the
 * hypercalls:
 *
 *   open             one VM object per fd, no VM yet (hsm.c acrn_dev_open)
 *   CREATE_VM        records a VM ID (from an IDA, not the hypervisor);
 *                    sets up the VM's ioeventfd list and irqfd list and
 *                    workqueue (vm.c acrn_vm_create)
 *   SET_MEMSEG RAM   acrn_vm_ram_map() (mm.c), step by step: mmap_read_lock
 *                    and vma_lookup(); for a VM_PFNMAP VMA its rules (the
 *                    range within the VMA, each PTE writable if write
 *                    access is asked, no refcounted page, contiguous
 *                    PFNs) and nothing pinned; otherwise
 *                    pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM) of
 *                    every page into a vzalloc'ed array, vmap() of them,
 *                    then one of ACRN_MEM_MAPPING_MAX (256) mapping slots
 *                    under regions_mapping_lock (only around the slot),
 *                    then the walk by compound order counting region ops
 *                    and the kzalloc of the op array with HSM's size
 *                    computation (so it fails exactly where HSM's would:
 *                    above KMALLOC_MAX_SIZE), the ops filled as HSM fills
 *                    them. The hypercall is not made; the pins and the
 *                    vmap are kept until the VM is destroyed, as HSM
 *                    keeps them.
 *   UNSET_MEMSEG     EINVAL for RAM, as HSM (which unmaps MMIO only)
 *   IRQFD            irqfd.c: an eventfd plus an MSI; the eventfd's
 *                    wake-up (under its wait-queue lock, interrupts off)
 *                    "injects" the MSI, and so does the assignment when
 *                    the eventfd's count is already non-zero; POLLHUP and
 *                    DEASSIGN queue the shutdown on the VM's workqueue;
 *                    the list under irqfds_lock
 *   IOEVENTFD        ioeventfd.c: (address, length, data or wildcard,
 *                    eventfd) under ioeventfds_lock; EEXIST for a
 *                    conflicting one
 *   DESTROY_VM       acrn_vm_destroy(): ioeventfds, then irqfds (flush
 *                    and destroy the workqueue), then
 *                    acrn_vm_all_ram_unmap() under regions_mapping_lock
 *                    (vunmap and unpin_user_page() of every page, vfree)
 *   release          acrn_dev_release(): destroy, free
 *
 * An injection is acrn_msi_inject() without its hypercall: the
 * GFP_ATOMIC allocation of the MSI entry it would pass, then a count and
 * the MSI data the test reads back through INFO.
 *
 * Mirrors drivers/virt/acrn/{hsm.c,vm.c,mm.c,irqfd.c,ioeventfd.c} of
 * Linux 6.1 (Debian 6.1.192) and 6.12 (Debian 6.12.118), which differ
 * for this only in how the PFNMAP branch reads the entries (follow_pte()
 * on 6.1, follow_pfnmap_start() on 6.12: ivshmem_follow_pfn() in
 * compat.h), in setting regions_num before filling the __counted_by op
 * array (6.12) and in 6.12's irqfd shutdown on a workqueue item (6.1
 * shuts an irqfd down under irqfds_lock; the double does what 6.12
 * does, whose locks are a subset).
 *
 * Where HSM would trip VM_BUG_ON_PAGE() (a step of the walk starting on a
 * tail page) the double WARNs and fails the ioctl with EINVAL; it also
 * WARNs where HSM would silently map the wrong memory (a folio running
 * past the end of the range, or pages of one step that are not that
 * folio's pages in order). A test boot fails on any WARN: the host module
 * must never hand HSM such a layout.
 *
 * Deliberate differences, none of which changes what the host module
 * sees: CREATE_VM on a fd whose VM exists or existed is refused with
 * EBUSY (HSM would create a second VM in the hypervisor and lose the
 * first); MMIO SET_MEMSEG/UNSET_MEMSEG get EOPNOTSUPP; the op array is
 * allocated __GFP_NOWARN (HSM's GFP_KERNEL allocation above
 * KMALLOC_MAX_SIZE WARNs in the page allocator, which would fail the boot
 * instead of the test); IOEVENTFD registers no I/O range with an ioreq
 * client (there is no guest): MMIO_WRITE below stands in for the guest's
 * write.
 *
 * Test-only additions (tests/hsm_double/hsm_double.h): INFO (the VM ID,
 * slots, region-op counts of a slot, all pages pinned, MSIs injected),
 * ACCESS (read or write a slot's memory through the vmap, as the
 * hypervisor's EPT mapping would see it) and MMIO_WRITE (what
 * acrn_ioeventfd_handler() does with a guest's write: signal the
 * matching ioeventfd under ioeventfds_lock). Every SET_MEMSEG reads one
 * byte per region op through the vmap (never writes: a concurrent store
 * by the VM's peer must not be lost).
 *
 * Locking, as HSM's: no lock serialises a VM's ioctls; pinning and
 * vmap() run under no lock of the double; regions_mapping_lock covers
 * the slot array only, ioeventfds_lock the ioeventfd list and the
 * signalling, irqfds_lock the irqfd list and the wait-queue install. The
 * VM's state bits are HSM's test_and_set_bit() flags.
 */
#include <linux/acrn.h>
#include <linux/build_bug.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

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

/* HSM's ACRN_VM_FLAG_DESTROYED, and the double's "CREATE_VM ran". */
#define HD_VM_CREATED	0
#define HD_VM_DESTROYED	1

/**
 * struct hd_vm - one fd's VM (struct acrn_vm)
 * @flags:	HD_VM_* bits.
 * @vmid:	HD_INVALID_VMID before CREATE_VM and after DESTROY_VM.
 * @regions_mapping_lock: @maps and @nr_maps.
 * @nr_maps:	slots taken.
 * @nr_pfnmaps:	SET_MEMSEGs that took the PFNMAP branch.
 * @maps:	the slots.
 * @ioeventfds_lock: @ioeventfds, and held while one is signalled.
 * @ioeventfds:	struct hd_ioeventfd.
 * @irqfds_lock: @irqfds.
 * @irqfds:	struct hd_irqfd.
 * @irqfd_wq:	irqfd shutdowns.
 * @injected:	MSIs injected into this VM.
 * @last_msi:	the data of the last one.
 */
struct hd_vm {
	unsigned long flags;
	u16 vmid;
	struct mutex regions_mapping_lock;	/* @nr_maps, @maps */
	unsigned int nr_maps;
	atomic_t nr_pfnmaps;
	struct hd_map maps[HD_MEM_MAPPING_MAX];
	struct mutex ioeventfds_lock;	/* @ioeventfds, signalling */
	struct list_head ioeventfds;
	struct mutex irqfds_lock;	/* @irqfds */
	struct list_head irqfds;
	struct workqueue_struct *irqfd_wq;
	atomic64_t injected;
	u64 last_msi;
};

/* struct hsm_ioeventfd */
struct hd_ioeventfd {
	struct list_head list;
	struct eventfd_ctx *eventfd;
	u64 addr;
	u64 data;
	u32 len;
	bool pio;
	bool wildcard;
};

/* struct hsm_irqfd; HD_IRQFD_SHUTDOWN: its shutdown is queued. */
#define HD_IRQFD_SHUTDOWN	0

struct hd_irqfd {
	struct hd_vm *vm;
	wait_queue_entry_t wait;
	struct work_struct shutdown;
	struct eventfd_ctx *eventfd;
	struct list_head list;
	poll_table pt;
	struct acrn_msi_entry msi;
	unsigned long flags;
};

static DEFINE_IDA(hd_vmids);
static atomic_long_t hd_pinned;

static int hd_open(struct inode *inode, struct file *file)
{
	struct hd_vm *vm = kzalloc(sizeof(*vm), GFP_KERNEL);

	if (!vm)
		return -ENOMEM;
	mutex_init(&vm->regions_mapping_lock);
	mutex_init(&vm->ioeventfds_lock);
	INIT_LIST_HEAD(&vm->ioeventfds);
	mutex_init(&vm->irqfds_lock);
	INIT_LIST_HEAD(&vm->irqfds);
	vm->vmid = HD_INVALID_VMID;
	file->private_data = vm;
	return 0;
}

/* acrn_msi_inject() without the hypercall; may run in atomic context. */
static void hd_msi_inject(struct hd_vm *vm, const struct acrn_msi_entry *msi)
{
	struct acrn_msi_entry *entry = kzalloc(sizeof(*entry), GFP_ATOMIC);

	if (!entry)
		return;
	*entry = *msi;
	/* hcall_inject_msi(vm->vmid, virt_to_phys(entry)) would go here. */
	WRITE_ONCE(vm->last_msi, entry->msi_data);
	atomic64_inc(&vm->injected);
	kfree(entry);
}

/* ------------------------------------------------------------------ */
/* irqfd.c                                                             */

static void hd_irqfd_queue_shutdown(struct hd_irqfd *irqfd)
{
	if (!test_and_set_bit(HD_IRQFD_SHUTDOWN, &irqfd->flags))
		queue_work(irqfd->vm->irqfd_wq, &irqfd->shutdown);
}

static void hd_irqfd_shutdown_work(struct work_struct *work)
{
	struct hd_irqfd *irqfd = container_of(work, struct hd_irqfd, shutdown);
	struct hd_vm *vm = irqfd->vm;
	u64 cnt;

	mutex_lock(&vm->irqfds_lock);
	list_del_init(&irqfd->list);
	mutex_unlock(&vm->irqfds_lock);
	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &cnt);
	eventfd_ctx_put(irqfd->eventfd);
	kfree(irqfd);
}

/* The eventfd's wait-queue lock is held, interrupts are off. */
static int hd_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			   int sync, void *key)
{
	struct hd_irqfd *irqfd = container_of(wait, struct hd_irqfd, wait);
	unsigned long events = (unsigned long)key;

	if (events & POLLIN)
		hd_msi_inject(irqfd->vm, &irqfd->msi);
	if (events & POLLHUP)
		hd_irqfd_queue_shutdown(irqfd);
	return 0;
}

static void hd_irqfd_poll_func(struct file *file, wait_queue_head_t *wqh,
			       poll_table *pt)
{
	struct hd_irqfd *irqfd = container_of(pt, struct hd_irqfd, pt);

	add_wait_queue(wqh, &irqfd->wait);
}

static int hd_irqfd_assign(struct hd_vm *vm, const struct acrn_irqfd *args)
{
	struct eventfd_ctx *eventfd;
	struct hd_irqfd *irqfd, *other;
	struct file *file;
	__poll_t events;
	int ret = 0;

	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL);
	if (!irqfd)
		return -ENOMEM;
	irqfd->vm = vm;
	irqfd->msi = args->msi;
	INIT_LIST_HEAD(&irqfd->list);
	INIT_WORK(&irqfd->shutdown, hd_irqfd_shutdown_work);

	file = fget(args->fd);
	if (!file) {
		kfree(irqfd);
		return -EBADF;
	}
	eventfd = eventfd_ctx_fileget(file);
	if (IS_ERR(eventfd)) {
		ret = PTR_ERR(eventfd);
		goto out;
	}
	irqfd->eventfd = eventfd;
	init_waitqueue_func_entry(&irqfd->wait, hd_irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, hd_irqfd_poll_func);

	/* The wait-queue entry goes in before the irqfd is on the list. */
	mutex_lock(&vm->irqfds_lock);
	list_for_each_entry(other, &vm->irqfds, list) {
		if (other->eventfd == eventfd) {
			ret = -EBUSY;
			break;
		}
	}
	if (!ret) {
		events = vfs_poll(file, &irqfd->pt);
		list_add_tail(&irqfd->list, &vm->irqfds);
		/* A count already pending injects now. */
		if (events & EPOLLIN)
			hd_msi_inject(vm, &irqfd->msi);
	}
	mutex_unlock(&vm->irqfds_lock);
	if (!ret)
		irqfd = NULL;
	else
		eventfd_ctx_put(eventfd);
out:
	fput(file);
	kfree(irqfd);
	return ret;
}

static int hd_irqfd_deassign(struct hd_vm *vm, const struct acrn_irqfd *args)
{
	struct hd_irqfd *irqfd, *next;
	struct eventfd_ctx *eventfd;

	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);
	mutex_lock(&vm->irqfds_lock);
	list_for_each_entry_safe(irqfd, next, &vm->irqfds, list) {
		if (irqfd->eventfd == eventfd) {
			list_del_init(&irqfd->list);
			hd_irqfd_queue_shutdown(irqfd);
			break;
		}
	}
	mutex_unlock(&vm->irqfds_lock);
	eventfd_ctx_put(eventfd);
	flush_workqueue(vm->irqfd_wq);
	return 0;
}

static void hd_irqfd_deinit(struct hd_vm *vm)
{
	struct hd_irqfd *irqfd, *next;

	mutex_lock(&vm->irqfds_lock);
	list_for_each_entry_safe(irqfd, next, &vm->irqfds, list) {
		list_del_init(&irqfd->list);
		hd_irqfd_queue_shutdown(irqfd);
	}
	mutex_unlock(&vm->irqfds_lock);
	flush_workqueue(vm->irqfd_wq);
	destroy_workqueue(vm->irqfd_wq);
	vm->irqfd_wq = NULL;
}

static long hd_irqfd(struct hd_vm *vm, void __user *arg)
{
	struct acrn_irqfd args;

	if (copy_from_user(&args, arg, sizeof(args)))
		return -EFAULT;
	if (args.flags & ACRN_IRQFD_FLAG_DEASSIGN)
		return hd_irqfd_deassign(vm, &args);
	return hd_irqfd_assign(vm, &args);
}

/* ------------------------------------------------------------------ */
/* ioeventfd.c                                                         */

static bool hd_ioeventfd_conflict(struct hd_vm *vm,
				  const struct hd_ioeventfd *new)
{
	struct hd_ioeventfd *p;

	lockdep_assert_held(&vm->ioeventfds_lock);
	list_for_each_entry(p, &vm->ioeventfds, list)
		if (p->eventfd == new->eventfd && p->addr == new->addr &&
		    p->pio == new->pio &&
		    (p->wildcard || new->wildcard || p->data == new->data))
			return true;
	return false;
}

static int hd_ioeventfd_assign(struct hd_vm *vm,
			       const struct acrn_ioeventfd *args)
{
	struct eventfd_ctx *eventfd;
	struct hd_ioeventfd *p;
	int ret = 0;

	if (args->addr + args->len < args->addr)
		return -EINVAL;
	if (args->len != 1 && args->len != 2 && args->len != 4 &&
	    args->len != 8)
		return -EINVAL;
	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		eventfd_ctx_put(eventfd);
		return -ENOMEM;
	}
	p->eventfd = eventfd;
	p->addr = args->addr;
	p->len = args->len;
	p->pio = args->flags & ACRN_IOEVENTFD_FLAG_PIO;
	p->wildcard = !(args->flags & ACRN_IOEVENTFD_FLAG_DATAMATCH);
	if (!p->wildcard)
		p->data = args->data;

	mutex_lock(&vm->ioeventfds_lock);
	if (hd_ioeventfd_conflict(vm, p))
		ret = -EEXIST;
	else
		list_add_tail(&p->list, &vm->ioeventfds);
	mutex_unlock(&vm->ioeventfds_lock);
	if (ret) {
		eventfd_ctx_put(eventfd);
		kfree(p);
	}
	return ret;
}

static void hd_ioeventfd_free(struct hd_vm *vm, struct hd_ioeventfd *p)
{
	lockdep_assert_held(&vm->ioeventfds_lock);
	eventfd_ctx_put(p->eventfd);
	list_del(&p->list);
	kfree(p);
}

static int hd_ioeventfd_deassign(struct hd_vm *vm,
				 const struct acrn_ioeventfd *args)
{
	struct eventfd_ctx *eventfd;
	struct hd_ioeventfd *p;

	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);
	mutex_lock(&vm->ioeventfds_lock);
	list_for_each_entry(p, &vm->ioeventfds, list) {
		if (p->eventfd == eventfd) {
			hd_ioeventfd_free(vm, p);
			break;
		}
	}
	mutex_unlock(&vm->ioeventfds_lock);
	eventfd_ctx_put(eventfd);
	return 0;
}

static void hd_ioeventfd_deinit(struct hd_vm *vm)
{
	struct hd_ioeventfd *p, *next;

	mutex_lock(&vm->ioeventfds_lock);
	list_for_each_entry_safe(p, next, &vm->ioeventfds, list)
		hd_ioeventfd_free(vm, p);
	mutex_unlock(&vm->ioeventfds_lock);
}

static long hd_ioeventfd(struct hd_vm *vm, void __user *arg)
{
	struct acrn_ioeventfd args;

	if (copy_from_user(&args, arg, sizeof(args)))
		return -EFAULT;
	if (args.reserved)
		return -EINVAL;
	if (args.flags & ACRN_IOEVENTFD_FLAG_DEASSIGN)
		return hd_ioeventfd_deassign(vm, &args);
	return hd_ioeventfd_assign(vm, &args);
}

/*
 * acrn_ioeventfd_handler() for a guest's write of @req: the matching
 * ioeventfd is signalled under ioeventfds_lock.
 * Return: 0, or -ENOENT when none matched (HSM would leave the request
 * to the device model's ioreq client).
 */
static long hd_mmio_write(struct hd_vm *vm, void __user *arg)
{
	struct hsm_double_mmio req;
	struct hd_ioeventfd *p;
	long ret = -ENOENT;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags & ~HSM_DOUBLE_MMIO_PIO || req.reserved)
		return -EINVAL;
	mutex_lock(&vm->ioeventfds_lock);
	list_for_each_entry(p, &vm->ioeventfds, list) {
		if (p->pio == !!(req.flags & HSM_DOUBLE_MMIO_PIO) &&
		    p->addr == req.addr && p->len >= req.len &&
		    (p->wildcard || p->data == req.data)) {
			ivshmem_eventfd_signal(p->eventfd);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&vm->ioeventfds_lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* vm.c, mm.c                                                          */

/* acrn_vm_all_ram_unmap() */
static void hd_unmap_all(struct hd_vm *vm)
{
	unsigned int i;
	unsigned long j;

	mutex_lock(&vm->regions_mapping_lock);
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
	mutex_unlock(&vm->regions_mapping_lock);
	atomic_set(&vm->nr_pfnmaps, 0);
}

/* acrn_vm_destroy() */
static void hd_destroy(struct hd_vm *vm)
{
	if (vm->vmid == HD_INVALID_VMID ||
	    test_and_set_bit(HD_VM_DESTROYED, &vm->flags))
		return;
	hd_ioeventfd_deinit(vm);
	hd_irqfd_deinit(vm);
	hd_unmap_all(vm);
	ida_free(&hd_vmids, vm->vmid);
	vm->vmid = HD_INVALID_VMID;
}

static int hd_release(struct inode *inode, struct file *file)
{
	struct hd_vm *vm = file->private_data;

	hd_destroy(vm);
	mutex_destroy(&vm->regions_mapping_lock);
	mutex_destroy(&vm->ioeventfds_lock);
	mutex_destroy(&vm->irqfds_lock);
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
	if (test_and_set_bit(HD_VM_CREATED, &vm->flags)) {
		ret = -EBUSY;
		goto free_param;
	}
	id = ida_alloc_range(&hd_vmids, 1, HD_INVALID_VMID - 1, GFP_KERNEL);
	if (id < 0) {
		ret = id;
		goto uncreate;
	}
	vm->irqfd_wq = alloc_workqueue("hd_irqfd-%d", 0, 0, id);
	if (!vm->irqfd_wq) {
		ida_free(&hd_vmids, id);
		ret = -ENOMEM;
		goto uncreate;
	}
	param->vmid = id;
	if (copy_to_user(arg, param, sizeof(*param))) {
		destroy_workqueue(vm->irqfd_wq);
		ida_free(&hd_vmids, id);
		ret = -EFAULT;
		goto uncreate;
	}
	/* Last: the other ioctls test vmid without a lock, as HSM's do. */
	smp_store_release(&vm->vmid, id);
	goto free_param;
uncreate:
	clear_bit(HD_VM_CREATED, &vm->flags);
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
		struct folio *folio = page_folio(page);

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
			if (WARN(pages[i + j] != folio_page(folio, j),
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

/*
 * What the hypervisor would do through the EPT: read each op's memory.
 * Read only: the VM's peer may be writing the same bytes.
 */
static void hd_touch(struct hd_map *map)
{
	const u8 *va = map->va;
	unsigned long i;
	unsigned int order;
	u8 sum = 0;

	for (i = 0; i < map->npages; i += 1UL << order) {
		order = compound_order(map->pages[i]);
		sum += READ_ONCE(va[i << PAGE_SHIFT]);
	}
	/* Keep the reads. */
	OPTIMIZER_HIDE_VAR(sum);
}

/* acrn_vm_ram_map() short of the hypercall, in HSM's order. */
static long hd_ram_map(struct hd_vm *vm, const struct acrn_vm_memmap *memmap)
{
	struct vm_area_struct *vma;
	struct hd_map map = {};
	struct hd_map *slot;
	long pinned = 0;
	int ret;

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
		atomic_inc(&vm->nr_pfnmaps);
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
	map.size = memmap->len;
	map.user_vm_pa = memmap->user_vm_pa;

	/* The slot first, under regions_mapping_lock only. */
	mutex_lock(&vm->regions_mapping_lock);
	if (vm->nr_maps >= HD_MEM_MAPPING_MAX) {
		mutex_unlock(&vm->regions_mapping_lock);
		pr_warn("Run out of memory mapping slots!\n");
		ret = -ENOMEM;
		goto unmap;
	}
	slot = &vm->maps[vm->nr_maps++];
	*slot = map;
	mutex_unlock(&vm->regions_mapping_lock);

	/* Then the walk and the op array, under no lock (HSM's order). */
	ret = hd_walk(map.pages, map.npages, &map.nr_regions, &map.nr_large);
	if (ret)
		goto put_slot;
	ret = hd_region_ops(vm, memmap, &map);
	if (ret)
		goto put_slot;
	hd_touch(&map);
	mutex_lock(&vm->regions_mapping_lock);
	slot->nr_regions = map.nr_regions;
	slot->nr_large = map.nr_large;
	slot->op_bytes = map.op_bytes;
	mutex_unlock(&vm->regions_mapping_lock);
	atomic_long_add(map.npages, &hd_pinned);
	return 0;

put_slot:
	/* As HSM: the last slot is given back (no concurrent SET_MEMSEG). */
	mutex_lock(&vm->regions_mapping_lock);
	vm->nr_maps--;
	memset(&vm->maps[vm->nr_maps], 0, sizeof(vm->maps[0]));
	mutex_unlock(&vm->regions_mapping_lock);
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
	    info.pinned_pages || info.injected || info.last_msi_data)
		return -EINVAL;
	info.vmid = READ_ONCE(vm->vmid);
	info.nr_pfnmaps = atomic_read(&vm->nr_pfnmaps);
	mutex_lock(&vm->regions_mapping_lock);
	info.nr_maps = vm->nr_maps;
	if (info.slot < vm->nr_maps) {
		struct hd_map *map = &vm->maps[info.slot];

		info.npages = map->npages;
		info.nr_regions = map->nr_regions;
		info.nr_large = map->nr_large;
		info.op_bytes = map->op_bytes;
	}
	mutex_unlock(&vm->regions_mapping_lock);
	info.pinned_pages = atomic_long_read(&hd_pinned);
	info.injected = atomic64_read(&vm->injected);
	info.last_msi_data = READ_ONCE(vm->last_msi);
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

/*
 * Through a bounce buffer: no user access (and so no mmap_lock) under
 * regions_mapping_lock, which HSM never holds around one.
 */
static long hd_access(struct hd_vm *vm, void __user *arg)
{
	struct hsm_double_access req;
	struct hd_map *map;
	void __user *buf;
	void *bounce;
	long ret = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags & ~HSM_DOUBLE_ACCESS_WRITE || req.len > SZ_1M)
		return -EINVAL;
	bounce = kvmalloc(req.len ? req.len : 1, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	buf = u64_to_user_ptr(req.buf);
	if ((req.flags & HSM_DOUBLE_ACCESS_WRITE) &&
	    copy_from_user(bounce, buf, req.len)) {
		ret = -EFAULT;
		goto out;
	}
	mutex_lock(&vm->regions_mapping_lock);
	if (req.slot >= vm->nr_maps) {
		ret = -ENOENT;
	} else {
		map = &vm->maps[req.slot];
		if (req.offset > map->size || req.len > map->size - req.offset)
			ret = -EINVAL;
		else if (req.flags & HSM_DOUBLE_ACCESS_WRITE)
			memcpy(map->va + req.offset, bounce, req.len);
		else
			memcpy(bounce, map->va + req.offset, req.len);
	}
	mutex_unlock(&vm->regions_mapping_lock);
	if (!ret && !(req.flags & HSM_DOUBLE_ACCESS_WRITE) &&
	    copy_to_user(buf, bounce, req.len))
		ret = -EFAULT;
out:
	kvfree(bounce);
	return ret;
}

static long hd_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hd_vm *vm = file->private_data;
	void __user *uarg = (void __user *)arg;

	/* hsm.c: everything but CREATE_VM needs a VM (INFO is the double's). */
	if (smp_load_acquire(&vm->vmid) == HD_INVALID_VMID &&
	    cmd != ACRN_IOCTL_CREATE_VM && cmd != HSM_DOUBLE_IOCTL_INFO)
		return -EINVAL;
	switch (cmd) {
	case ACRN_IOCTL_CREATE_VM:
		return hd_create_vm(vm, uarg);
	case ACRN_IOCTL_DESTROY_VM:
		hd_destroy(vm);
		return 0;
	case ACRN_IOCTL_SET_MEMSEG:
		return hd_set_memseg(vm, uarg);
	case ACRN_IOCTL_UNSET_MEMSEG:
		return hd_unset_memseg(vm, uarg);
	case ACRN_IOCTL_IRQFD:
		return hd_irqfd(vm, uarg);
	case ACRN_IOCTL_IOEVENTFD:
		return hd_ioeventfd(vm, uarg);
	case HSM_DOUBLE_IOCTL_INFO:
		return hd_info(vm, uarg);
	case HSM_DOUBLE_IOCTL_ACCESS:
		return hd_access(vm, uarg);
	case HSM_DOUBLE_IOCTL_MMIO_WRITE:
		return hd_mmio_write(vm, uarg);
	default:
		return -ENOTTY;
	}
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

MODULE_DESCRIPTION("Test double of ACRN's HSM: SET_MEMSEG, IRQFD and IOEVENTFD as HSM does them, without hypercalls");
MODULE_LICENSE("GPL");
