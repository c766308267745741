// SPDX-License-Identifier: GPL-2.0
/*
 * dm-land memory: struct ivh_mem holds one reference on each folio of a
 * region's memory: their allocation (2 MiB folios first, zeroed, charged
 * to the region's memory cgroup) and the drop of those references when
 * the region is freed (ivh_mem_free(); a folio something else still
 * references, HSM's pins, is freed by the last of those), what HSM's
 * SET_MEMSEG can take (ivh_hsm_fits()), and the user mappings: the 2 MiB
 * mmap rule, vm_ops and faults.
 *
 * It knows nothing of regions, peers or doorbells and calls no other file
 * of the module. See ivshmem_host_drv.h for the objects and lock order.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/debugfs.h>
#include <linux/memcontrol.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

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

/*
 * Drop the references ivh_mem_alloc() took. Return: pages of folios some
 * other holder (a pin, a pipe buffer) still references; the last of
 * those references frees them.
 */
static unsigned long ivh_mem_free_pages(struct ivh_mem *mem)
{
	unsigned long i = 0, held = 0;

	while (i < mem->nr_filled) {
		struct folio *folio = page_folio(mem->pages[i]);

		i += folio_nr_pages(folio);
		/* Only a count for the log: another holder may go meanwhile. */
		if (folio_ref_count(folio) > 1)
			held += folio_nr_pages(folio);
		folio_put(folio);
	}
	return held;
}

/*
 * Zero the pages the allocator left as they were. With init_on_alloc
 * (CONFIG_INIT_ON_ALLOC_DEFAULT_ON, Debian's default) it zeroed them
 * already.
 */
static int ivh_mem_zero(struct ivh_mem *mem, gfp_t gfp)
{
	unsigned long i;

	if (want_init_on_alloc(gfp))
		return 0;
	for (i = 0; i < mem->nr_pages; i++) {
		clear_highpage(mem->pages[i]);
		if (!((i + 1) & ((1UL << IVH_FOLIO_ORDER) - 1))) {
			if (fatal_signal_pending(current))
				return -EINTR;
			cond_resched();
		}
	}
	return 0;
}

/**
 * ivh_mem_alloc() - allocate zeroed memory for a dm-land region
 * @host:	for the statistics (INFO counts @size from the start).
 * @size:	bytes, a multiple of 2 MiB.
 * @memcg:	the memory cgroup to charge, or NULL for the caller's.
 *
 * Each 2 MiB chunk is one large folio where the allocator has one (asked
 * without retrying or warning), else 512 pages of 4 KiB; a failure costs
 * that chunk only, the next one asks for a large folio again. The memory
 * is not movable and never on an LRU list: it stays put while the module
 * holds it. It is charged to @memcg (__GFP_ACCOUNT under
 * set_active_memcg()): a cgroup limit below @size fails it with -ENOMEM,
 * not an OOM kill. Memory whose folios are more region ops than HSM's
 * SET_MEMSEG can take (ivh_hsm_fits()) is refused with -E2BIG before it
 * is zeroed, and as soon as it can no longer fit. The memory holds one
 * reference on each folio until ivh_mem_free().
 *
 * Context: process context, no ivh_host.lock or ivh_region.lock held;
 * may sleep for long; stops early with -EINTR on a fatal signal.
 * Return: the memory, or an ERR_PTR(): -ENOMEM, -E2BIG or -EINTR.
 */
struct ivh_mem *ivh_mem_alloc(struct ivh_host *host, unsigned long size,
			      struct mem_cgroup *memcg)
{
	const gfp_t gfp = GFP_HIGHUSER | __GFP_ACCOUNT;
	const unsigned long chunk = 1UL << IVH_FOLIO_ORDER;
	struct mem_cgroup *old_memcg;
	struct ivh_mem *mem;
	int ret;

	/* Counted from the start: INFO shows an allocation under way. */
	atomic64_add(size, &host->mem_bytes);
	old_memcg = set_active_memcg(memcg);
	/*
	 * Charged to the creator's cgroup, which the caller may not be in:
	 * a limit there fails the attach, never OOM-kills one of its tasks.
	 */
	mem = kzalloc(sizeof(*mem),
		      GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	if (!mem) {
		ret = -ENOMEM;
		goto uncount;
	}
	mem->host = host;
	mem->nr_pages = size >> PAGE_SHIFT;
	mem->pages = kvcalloc(mem->nr_pages, sizeof(*mem->pages),
			      GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL |
			      __GFP_NOWARN);
	if (!mem->pages) {
		ret = -ENOMEM;
		goto free_mem;
	}

	while (mem->nr_filled < mem->nr_pages) {
		struct folio *folio = NULL;
		unsigned long i;

		/* At best one folio per chunk left: can it still fit? */
		if (!ivh_hsm_fits(mem->nr_folios +
				  DIV_ROUND_UP(mem->nr_pages - mem->nr_filled,
					       chunk))) {
			ret = -E2BIG;
			goto free_pages;
		}
		/* @size is a multiple of 2 MiB: each chunk starts aligned. */
		if (IS_ALIGNED(mem->nr_filled, chunk) &&
		    mem->nr_pages - mem->nr_filled >= chunk &&
		    !ivh_folio_fault()) {
			folio = folio_alloc(gfp | __GFP_NOWARN | __GFP_NORETRY,
					    IVH_FOLIO_ORDER);
			if (folio)
				mem->nr_large++;
		}
		/*
		 * May fail rather than OOM-kill: over the memory cgroup's
		 * limit (or out of memory) ATTACH gets ENOMEM.
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
	if (!ivh_hsm_fits(mem->nr_folios)) {
		ret = -E2BIG;
		goto free_pages;
	}
	ret = ivh_mem_zero(mem, gfp);
	if (ret)
		goto free_pages;

	set_active_memcg(old_memcg);
	atomic_inc(&host->nr_mems);
	return mem;

free_pages:
	ivh_mem_free_pages(mem);
	kvfree(mem->pages);
free_mem:
	kfree(mem);
uncount:
	set_active_memcg(old_memcg);
	atomic64_sub(size, &host->mem_bytes);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_mem_alloc);

/**
 * ivh_mem_free() - drop the memory's references on its folios and free it
 * @mem:	the memory, or NULL; nothing maps it any more.
 *
 * A folio nobody else references goes back to the page allocator now
 * (and off its memory cgroup's charge). One that HSM still pins (or that
 * something else took a reference on: a pipe buffer, a direct I/O)
 * stays allocated, as its holder's: the last unpin_user_page() or
 * folio_put() frees it, which needs no code of this module.
 *
 * Context: process context, no lock of the module held; may sleep.
 * Return: pages some other holder still references (for the log).
 */
unsigned long ivh_mem_free(struct ivh_mem *mem)
{
	unsigned long held;

	if (!mem)
		return 0;
	held = ivh_mem_free_pages(mem);
	atomic64_sub(mem->nr_pages << PAGE_SHIFT, &mem->host->mem_bytes);
	atomic_dec(&mem->host->nr_mems);
	kvfree(mem->pages);
	kfree(mem);
	return held;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_mem_free);

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
 * @mem:	the memory.
 * @vma:	a shared mapping within the memory, see ivh_mmap_check().
 *
 * The VMA's file keeps @mem alive for as long as the VMA exists (the
 * file holds a peer, the peer its region, the region its memory). Pages
 * are inserted on fault as ordinary (not PFN-mapped) pages, so HSM's
 * ACRN_IOCTL_SET_MEMSEG can pin them and sees the large folios. Each
 * mapping of a folio holds a reference on it: one per 4 KiB page table
 * entry, or one for a whole 2 MiB folio that a 2 MiB aligned mapping
 * (thp_get_unmapped_area()) maps with one PMD where finish_fault() does
 * (6.12.118 does not past the file's i_size).
 *
 * Context: mmap_lock held for writing; @vma->vm_file holds @mem.
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
	return 0;
}
