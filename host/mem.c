// SPDX-License-Identifier: GPL-2.0
/*
 * dm-land memory: struct ivh_mem owns the folios of one session of a
 * region, their allocation (2 MiB folios first, zeroed, charged to the
 * caller's memory cgroup) and the module's reservation against
 * ivh_host.mem_limit_mb, the references on them (ivh_mem_get/put, one per
 * holder), whether a mapping or a pin still holds them (ivh_mem_held()),
 * what HSM's SET_MEMSEG can take (ivh_hsm_fits()), and the user mappings:
 * the 2 MiB mmap rule, vm_ops and faults.
 *
 * It knows nothing of regions, peers or doorbells and calls no other file
 * of the module. See ivshmem_host_drv.h for the objects and lock order.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/debugfs.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <kunit/visibility.h>

#include "../compat.h"
#include "ivshmem_host_drv.h"

/*
 * Test only (tests/host/hsm_pins.c): this many of the next 2 MiB folio
 * allocations fail as if the allocator had no free 2 MiB block; counts
 * down to 0. In debugfs, ivshmem_host/fail_folios: none of the kernels
 * tested (Debian's 6.1 and 6.12, the debug kernels) has
 * CONFIG_FAULT_INJECTION, whose should_fail() would otherwise do this.
 */
static u32 ivh_fail_folios;
static struct dentry *ivh_debugfs;

/**
 * ivh_mem_debugfs_create() - create ivshmem_host/fail_folios in debugfs
 *
 * Context: module load.
 */
void ivh_mem_debugfs_create(void)
{
	ivh_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_u32("fail_folios", 0600, ivh_debugfs,
			   &ivh_fail_folios);
}

/**
 * ivh_mem_debugfs_remove() - remove what ivh_mem_debugfs_create() made
 *
 * Context: module unload.
 */
void ivh_mem_debugfs_remove(void)
{
	debugfs_remove_recursive(ivh_debugfs);
}

static bool ivh_folio_fault(void)
{
	u32 n = READ_ONCE(ivh_fail_folios);

	while (n > 0) {
		u32 old = cmpxchg(&ivh_fail_folios, n, n - 1);

		if (old == n)
			return true;
		n = old;
	}
	return false;
}

static void ivh_mem_free_pages(struct ivh_mem *mem)
{
	unsigned long i = 0;

	while (i < mem->nr_filled) {
		struct folio *folio = page_folio(mem->pages[i]);

		i += folio_nr_pages(folio);
		folio_put(folio);
	}
}

/**
 * ivh_mem_alloc() - allocate zeroed memory for a dm-land session
 * @host:	for the statistics.
 * @size:	bytes, a multiple of 2 MiB.
 *
 * Each 2 MiB chunk is one large folio where the allocator has one (asked
 * without retrying or warning), else 512 pages of 4 KiB; a failure costs
 * that chunk only, the next one asks for a large folio again. The memory
 * is not movable and never on an LRU list: it stays put while the module
 * holds it. The allocator zeroes it (__GFP_ZERO) and charges it to the
 * caller's memory cgroup (__GFP_ACCOUNT). @size is reserved against
 * @host->mem_limit_mb first (the caller may reap lingering memory and
 * try again when that fails).
 *
 * Context: process context, no ivh_host.reap_lock, ivh_host.lock or
 * ivh_region.lock held; may sleep for long; stops early with -EINTR on a
 * fatal signal.
 * Return: the memory with one reference, or an ERR_PTR(): -ENOSPC (the
 * module's limit would be exceeded), -ENOMEM or -EINTR.
 */
struct ivh_mem *ivh_mem_alloc(struct ivh_host *host, unsigned long size)
{
	const gfp_t gfp = GFP_HIGHUSER | __GFP_ZERO | __GFP_ACCOUNT;
	u64 limit = (u64)READ_ONCE(host->mem_limit_mb) << 20;
	struct ivh_mem *mem;
	int ret;

	if (atomic64_add_return(size, &host->mem_bytes) > limit) {
		atomic64_sub(size, &host->mem_bytes);
		return ERR_PTR(-ENOSPC);
	}
	mem = kzalloc(sizeof(*mem), GFP_KERNEL_ACCOUNT);
	if (!mem) {
		ret = -ENOMEM;
		goto unreserve;
	}
	kref_init(&mem->ref);
	atomic_set(&mem->nr_vmas, 0);
	mem->host = host;
	mem->nr_pages = size >> PAGE_SHIFT;
	mem->pages = kvcalloc(mem->nr_pages, sizeof(*mem->pages),
			      GFP_KERNEL_ACCOUNT);
	if (!mem->pages) {
		ret = -ENOMEM;
		goto free_mem;
	}

	while (mem->nr_filled < mem->nr_pages) {
		struct folio *folio = NULL;
		unsigned long i;

		/* @size is a multiple of 2 MiB: each chunk starts aligned. */
		if (IS_ALIGNED(mem->nr_filled, 1UL << IVH_FOLIO_ORDER) &&
		    mem->nr_pages - mem->nr_filled >= 1UL << IVH_FOLIO_ORDER &&
		    !ivh_folio_fault()) {
			folio = folio_alloc(gfp | __GFP_NOWARN | __GFP_NORETRY,
					    IVH_FOLIO_ORDER);
			if (folio)
				mem->nr_large++;
		}
		/*
		 * May fail rather than OOM-kill: over the caller's memory
		 * cgroup limit (or out of memory) ATTACH gets ENOMEM.
		 */
		if (!folio)
			folio = folio_alloc(gfp | __GFP_RETRY_MAYFAIL, 0);
		if (!folio) {
			ret = -ENOMEM;
			goto free_pages;
		}
		for (i = 0; i < folio_nr_pages(folio); i++)
			mem->pages[mem->nr_filled + i] = folio_page(folio, i);
		mem->nr_filled += folio_nr_pages(folio);
		mem->nr_folios++;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto free_pages;
		}
		cond_resched();
	}

	atomic_inc(&host->nr_mems);
	return mem;

free_pages:
	ivh_mem_free_pages(mem);
	kvfree(mem->pages);
free_mem:
	kfree(mem);
unreserve:
	atomic64_sub(size, &host->mem_bytes);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_mem_alloc);

static void ivh_mem_release(struct kref *ref)
{
	struct ivh_mem *mem = container_of(ref, struct ivh_mem, ref);

	ivh_mem_free_pages(mem);
	atomic64_sub(mem->nr_pages << PAGE_SHIFT, &mem->host->mem_bytes);
	atomic_dec(&mem->host->nr_mems);
	kvfree(mem->pages);
	kfree(mem);
}

/**
 * ivh_mem_get() - take a reference on dm-land memory
 * @mem:	memory the caller already holds a reference on.
 */
void ivh_mem_get(struct ivh_mem *mem)
{
	kref_get(&mem->ref);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_mem_get);

/**
 * ivh_mem_put() - drop a reference; the last one frees the memory
 * @mem:	the memory, may be NULL.
 *
 * Context: may sleep (frees up to 512 MiB).
 */
void ivh_mem_put(struct ivh_mem *mem)
{
	if (mem)
		kref_put(&mem->ref, ivh_mem_release);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_mem_put);

/**
 * ivh_mem_held() - whether anything besides the module holds the memory
 * @mem:	the memory.
 *
 * A mapping (@mem->nr_vmas) or a pin of any of its folios: HSM's
 * SET_MEMSEG pins them with FOLL_LONGTERM until the VM is destroyed, and
 * the kernel tells nobody when a pin goes (unpin_user_page() only drops a
 * count), so callers ask again later. For a large folio
 * folio_maybe_dma_pinned() reads its exact pin count; for a 4 KiB folio
 * it guesses from the reference count (a pin adds 1024), so 1024 other
 * references also look like a pin. Such a false positive only makes the
 * memory linger longer, which is safe; a pin is never missed.
 *
 * Context: the caller keeps new mappings and pins from starting, by
 * holding ivh_region.lock with no peer attached (a new mapping needs an
 * attached peer or an existing mapping; a pin needs a mapping).
 * Return: true if a mapping or a pin holds @mem.
 */
bool ivh_mem_held(struct ivh_mem *mem)
{
	unsigned long i = 0;

	/*
	 * Acquire: a pin that GUP took through the last mapping comes before
	 * the zap and vm_ops->close's decrement; the pin counts read after
	 * this must see it (free on x86, needed where reads may pass reads).
	 */
	if (atomic_read_acquire(&mem->nr_vmas))
		return true;
	while (i < mem->nr_filled) {
		struct folio *folio = page_folio(mem->pages[i]);

		if (folio_maybe_dma_pinned(folio))
			return true;
		i += folio_nr_pages(folio);
	}
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_mem_held);

/**
 * ivh_hsm_fits() - whether HSM's SET_MEMSEG can take memory of this layout
 * @nr_folios:	folios of the memory, each one region op of HSM's.
 *
 * acrn_vm_ram_map() (drivers/virt/acrn/mm.c, 6.1 and 6.12) sends one
 * region op per folio in one kzalloc() (struct ivh_hsm_batch): beyond
 * KMALLOC_MAX_SIZE (4 MiB on x86-64, both kernels) it fails. 512 MiB of
 * 4 KiB pages needs 131072 ops, one more than fits.
 *
 * Return: true if the op array fits.
 */
bool ivh_hsm_fits(unsigned long nr_folios)
{
	return nr_folios <= IVH_HSM_MAX_OPS;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_hsm_fits);

/**
 * ivh_mem_map_get() - count a mapping of dm-land memory
 * @mem:	memory the caller holds a reference on.
 *
 * A reference and one of @mem->nr_vmas, which keeps the memory lingering
 * for the region after its last VM detached (see ivh_mem_held()).
 */
void ivh_mem_map_get(struct ivh_mem *mem)
{
	ivh_mem_get(mem);
	atomic_inc(&mem->nr_vmas);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_mem_map_get);

/**
 * ivh_mem_map_put() - a mapping of dm-land memory went away
 * @mem:	the memory.
 *
 * The last mapping wakes the reaper at once, in case the memory lingers
 * only for it.
 *
 * Context: may sleep (with the last reference it frees the memory);
 * called with mmap_lock held by vm_ops->close.
 */
void ivh_mem_map_put(struct ivh_mem *mem)
{
	struct ivh_host *host = mem->host;

	if (atomic_dec_and_test(&mem->nr_vmas))
		mod_delayed_work(host->wq, &host->reap_work, 0);
	ivh_mem_put(mem);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_mem_map_put);

static void ivh_vma_open(struct vm_area_struct *vma)
{
	ivh_mem_map_get(vma->vm_private_data);
}

static void ivh_vma_close(struct vm_area_struct *vma)
{
	ivh_mem_map_put(vma->vm_private_data);
}

static vm_fault_t ivh_vma_fault(struct vm_fault *vmf)
{
	struct ivh_mem *mem = vmf->vma->vm_private_data;
	struct page *page;

	if (vmf->pgoff >= mem->nr_pages)
		return VM_FAULT_SIGBUS;
	page = mem->pages[vmf->pgoff];
	get_page(page);
	vmf->page = page;
	return 0;
}

/*
 * A mapping may only be split at 2 MiB boundaries of the region, so every
 * VMA of it still starts at a folio's head (see ivh_mmap_check()).
 */
static int ivh_vma_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	unsigned long pgoff = vma->vm_pgoff +
			      ((addr - vma->vm_start) >> PAGE_SHIFT);

	return IS_ALIGNED(pgoff, IVH_MAP_ALIGN >> PAGE_SHIFT) ? 0 : -EINVAL;
}

static const struct vm_operations_struct ivh_vm_ops = {
	.open		= ivh_vma_open,
	.close		= ivh_vma_close,
	.may_split	= ivh_vma_may_split,
	.fault		= ivh_vma_fault,
};

/**
 * ivh_mmap_check() - check a mapping's place in the region
 * @pgoff:	first page of the region mapped.
 * @pages:	pages mapped.
 * @nr_pages:	pages of the region.
 *
 * Offset and length must be multiples of 2 MiB (IVH_MAP_ALIGN) whatever
 * backs the region: HSM's acrn_vm_ram_map() walks the pinned pages by
 * compound order and assumes each starts at a folio's head and that each
 * folio is mapped whole (it maps 2 MiB of guest memory per 2 MiB folio).
 *
 * Return: 0 or -EINVAL.
 */
int ivh_mmap_check(unsigned long pgoff, unsigned long pages,
		   unsigned long nr_pages)
{
	const unsigned long align = IVH_MAP_ALIGN >> PAGE_SHIFT;

	if (!pages || !IS_ALIGNED(pgoff, align) || !IS_ALIGNED(pages, align))
		return -EINVAL;
	if (pgoff >= nr_pages || pages > nr_pages - pgoff)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_mmap_check);

/**
 * ivh_mem_mmap() - set a VMA up to map dm-land memory
 * @mem:	the memory; the mapping takes its own reference.
 * @vma:	a shared mapping within the memory, see ivh_mmap_check().
 *
 * The mapping holds the memory by reference, independent of whoever
 * handed it out. Pages are inserted on fault as ordinary (not PFN-mapped)
 * pages, so HSM's ACRN_IOCTL_SET_MEMSEG can pin them and sees the large
 * folios.
 *
 * Context: mmap_lock held for writing; the caller keeps @mem alive.
 * Return: 0 or -EINVAL (private mapping, not 2 MiB aligned, or beyond
 * the memory).
 */
int ivh_mem_mmap(struct ivh_mem *mem, struct vm_area_struct *vma)
{
	int ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	ret = ivh_mmap_check(vma->vm_pgoff, vma_pages(vma), mem->nr_pages);
	if (ret)
		return ret;
	ivshmem_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &ivh_vm_ops;
	vma->vm_private_data = mem;
	ivh_mem_map_get(mem);
	return 0;
}
