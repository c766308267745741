// SPDX-License-Identifier: GPL-2.0
/*
 * The region registry, dm-land memory and its lifetime (lingering while
 * HSM pins it, the reaper), attach and detach.
 *
 * See ivshmem_host_drv.h for the objects, their references and the lock
 * order, and Documentation/host.rst for why memory lingers.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include <kunit/visibility.h>

#include "../compat.h"
#include "ivshmem_host_drv.h"

static void ivh_reap_work(struct work_struct *work);
static bool ivh_reap(struct ivh_host *host);
static void ivh_linger_abandon(struct ivh_host *host);

/**
 * ivh_host_init() - initialise an empty registry
 * @host:	the registry.
 * @acrn:	whether this is ACRN's Service VM (for INFO).
 *
 * Return: 0 or -ENOMEM.
 */
int ivh_host_init(struct ivh_host *host, bool acrn)
{
	mutex_init(&host->reap_lock);
	mutex_init(&host->lock);
	INIT_LIST_HEAD(&host->regions);
	INIT_LIST_HEAD(&host->lingering);
	INIT_DELAYED_WORK(&host->reap_work, ivh_reap_work);
	host->nr_regions = 0;
	ida_init(&host->ids);
	host->acrn = acrn;
	mutex_init(&host->efd_lock);
	INIT_LIST_HEAD(&host->efds);
	/* A module parameter may have set the limit already. */
	if (!host->mem_limit_mb)
		host->mem_limit_mb = IVH_DEFAULT_MEM_LIMIT_MB;
	atomic64_set(&host->mem_bytes, 0);
	atomic_set(&host->nr_mems, 0);
	host->wq = alloc_workqueue("ivshmem_host", WQ_UNBOUND, 0);
	if (!host->wq)
		return -ENOMEM;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_host_init);

/**
 * ivh_host_destroy() - remove every region and free the registry
 * @host:	the registry.
 *
 * Memory still lingering for a pin is left to its pins: the module drops
 * its references (logged), and the last unpin frees the folios; nothing
 * of the module is needed for that.
 *
 * Context: no peer and no mapping of @host may exist any more (their fds
 * and VMAs hold the module, their owners in KUnit release them first).
 */
void ivh_host_destroy(struct ivh_host *host)
{
	struct ivh_region *region, *tmp;
	LIST_HEAD(dead);

	/* Nothing can queue the reaper any more: no peer, no mapping. */
	cancel_delayed_work_sync(&host->reap_work);
	ivh_reap(host);
	ivh_linger_abandon(host);

	mutex_lock(&host->lock);
	list_for_each_entry_safe(region, tmp, &host->regions, node) {
		region->removed = true;
		ida_free(&host->ids, region->id);
		list_move(&region->node, &dead);
	}
	host->nr_regions = 0;
	mutex_unlock(&host->lock);

	list_for_each_entry_safe(region, tmp, &dead, node) {
		list_del_init(&region->node);
		ivh_region_put(region);
	}
	destroy_workqueue(host->wq);
	ida_destroy(&host->ids);
	WARN_ON(atomic_read(&host->nr_mems));
	WARN_ON(!list_empty(&host->efds));
	mutex_destroy(&host->efd_lock);
	mutex_destroy(&host->reap_lock);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_host_destroy);

/* ------------------------------------------------------------------ */
/* dm-land memory                                                      */

/*
 * Test only (tests/host/e2e.sh): this many of the next 2 MiB folio
 * allocations fail as if the allocator had no free 2 MiB block; counts
 * down to 0. A module parameter, so no kernel configuration (fault
 * injection) is needed.
 */
static int ivh_fail_folios;
module_param_named(test_fail_folios, ivh_fail_folios, int, 0600);
MODULE_PARM_DESC(test_fail_folios,
		 "test only: fail this many of the next 2 MiB folio allocations, as if none were free (counts down; default 0)");

static bool ivh_folio_fault(void)
{
	int n = READ_ONCE(ivh_fail_folios);

	while (n > 0) {
		int old = cmpxchg(&ivh_fail_folios, n, n - 1);

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
 * @host->mem_limit_mb first; when that fails, lingering memory nothing
 * holds any more is reaped and the reservation tried once more.
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
		ivh_host_reap(host);
		if (atomic64_add_return(size, &host->mem_bytes) > limit) {
			atomic64_sub(size, &host->mem_bytes);
			return ERR_PTR(-ENOSPC);
		}
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
		if (!folio)
			folio = folio_alloc(gfp, 0);
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

/* ------------------------------------------------------------------ */
/* lingering memory                                                    */

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

/*
 * Put @region on the list the reaper checks, with a reference of the
 * list's, and make sure the reaper runs. Being listed only means "may
 * linger": the reaper decides under the region's lock.
 */
static void ivh_linger_add(struct ivh_region *region)
{
	struct ivh_host *host = region->host;

	mutex_lock(&host->lock);
	if (list_empty(&region->linger_node)) {
		kref_get(&region->ref);
		list_add_tail(&region->linger_node, &host->lingering);
	}
	mutex_unlock(&host->lock);
	queue_delayed_work(host->wq, &host->reap_work, IVH_REAP_PERIOD);
}

/*
 * One pass over the lingering regions: memory no mapping and no pin holds
 * any more is freed, a region with peers again or without memory leaves
 * the list. Return: whether some region still lingers.
 */
static bool ivh_reap(struct ivh_host *host)
{
	struct ivh_region *region, *tmp;
	LIST_HEAD(done);
	bool pending;

	mutex_lock(&host->reap_lock);
	mutex_lock(&host->lock);
	list_for_each_entry_safe(region, tmp, &host->lingering, linger_node) {
		mutex_lock(&region->lock);
		if (region->mem && !region->nr_attached &&
		    ivh_mem_held(region->mem)) {
			mutex_unlock(&region->lock);
			continue;
		}
		region->reaped = NULL;
		if (!region->nr_attached) {
			region->reaped = region->mem;
			region->mem = NULL;
		}
		mutex_unlock(&region->lock);
		list_del_init(&region->linger_node);
		list_add_tail(&region->reap_node, &done);
	}
	pending = !list_empty(&host->lingering);
	mutex_unlock(&host->lock);

	/* Freeing up to 512 MiB each, with no registry lock held. */
	list_for_each_entry_safe(region, tmp, &done, reap_node) {
		list_del(&region->reap_node);
		ivh_mem_put(region->reaped);
		region->reaped = NULL;
		ivh_region_put(region);
	}
	mutex_unlock(&host->reap_lock);
	return pending;
}

/**
 * ivh_host_reap() - free lingering memory nothing holds any more
 * @host:	the registry.
 *
 * Runs from the reaper every IVH_REAP_PERIOD while memory lingers, at
 * once when a lingering region's last mapping goes, and from INFO and a
 * reservation over the limit, so what they report or refuse is current.
 *
 * Context: process context; takes ivh_host.reap_lock, ivh_host.lock and
 * each lingering region's ivh_region.lock.
 */
void ivh_host_reap(struct ivh_host *host)
{
	if (ivh_reap(host))
		queue_delayed_work(host->wq, &host->reap_work,
				   IVH_REAP_PERIOD);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_host_reap);

static void ivh_reap_work(struct work_struct *work)
{
	ivh_host_reap(container_of(to_delayed_work(work), struct ivh_host,
				   reap_work));
}

/*
 * At unload: memory still pinned is left to its pins. The module's
 * references go; the folios stay allocated while pinned and the last
 * unpin frees them, which needs nothing of this module.
 */
static void ivh_linger_abandon(struct ivh_host *host)
{
	struct ivh_region *region;
	struct ivh_mem *mem;

	for (;;) {
		mutex_lock(&host->lock);
		region = list_first_entry_or_null(&host->lingering,
						  struct ivh_region,
						  linger_node);
		if (region)
			list_del_init(&region->linger_node);
		mutex_unlock(&host->lock);
		if (!region)
			return;
		mutex_lock(&region->lock);
		mem = region->nr_attached ? NULL : region->mem;
		if (mem)
			region->mem = NULL;
		mutex_unlock(&region->lock);
		if (mem)
			pr_warn("region \"%s\": %lu MiB still pinned at unload: left to the pins, the last unpin frees it\n",
				region->spec.name, mem->nr_pages >> (20 - PAGE_SHIFT));
		ivh_mem_put(mem);
		ivh_region_put(region);
	}
}

/**
 * ivh_hsm_fits() - whether HSM's SET_MEMSEG can take memory of this layout
 * @nr_folios:	folios of the memory, each one region op of HSM's.
 *
 * acrn_vm_ram_map() (drivers/virt/acrn/mm.c, 6.1 and 6.12) sends one
 * struct vm_memory_region_op (32 bytes) per folio, after a 24-byte
 * struct vm_memory_region_batch, in one kzalloc(): beyond KMALLOC_MAX_SIZE
 * (4 MiB on x86-64, both kernels) it fails. 512 MiB of 4 KiB pages needs
 * 131072 ops, one more than fits.
 *
 * Return: true if the op array fits.
 */
bool ivh_hsm_fits(unsigned long nr_folios)
{
	return nr_folios <= IVH_HSM_MAX_OPS;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_hsm_fits);

/* ------------------------------------------------------------------ */
/* mmap of an attachment fd                                            */

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
 * ivh_peer_mmap() - map a peer's region memory
 * @peer:	an attached dm-land peer.
 * @vma:	a shared mapping within the region, see ivh_mmap_check().
 *
 * The mapping holds the memory by reference, independent of the fd and
 * of the region. Pages are inserted on fault as ordinary (not PFN-mapped)
 * pages, so HSM's ACRN_IOCTL_SET_MEMSEG can pin them and sees the large
 * folios.
 *
 * Context: mmap_lock held for writing; takes ivh_region.lock.
 * Return: 0, -ENOTCONN (the peer was detached) or -EINVAL (private
 * mapping, not 2 MiB aligned, or beyond the region).
 */
int ivh_peer_mmap(struct ivh_peer *peer, struct vm_area_struct *vma)
{
	struct ivh_region *region = peer->region;
	int ret;

	mutex_lock(&region->lock);
	if (!peer->attached) {
		ret = -ENOTCONN;
		goto unlock;
	}
	ret = -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		goto unlock;
	ret = ivh_mmap_check(vma->vm_pgoff, vma_pages(vma),
			     peer->mem->nr_pages);
	if (ret)
		goto unlock;
	ivshmem_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &ivh_vm_ops;
	vma->vm_private_data = peer->mem;
	ivh_mem_map_get(peer->mem);
unlock:
	mutex_unlock(&region->lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* the registry                                                        */

static void ivh_region_release(struct kref *ref)
{
	struct ivh_region *region = container_of(ref, struct ivh_region, ref);

	WARN_ON(!list_empty(&region->peers) || region->mem ||
		!list_empty(&region->linger_node));
	mutex_destroy(&region->lock);
	kfree(region);
}

/**
 * ivh_region_put() - drop a reference on a region
 * @region:	the region, may be NULL.
 */
void ivh_region_put(struct ivh_region *region)
{
	if (region)
		kref_put(&region->ref, ivh_region_release);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_region_put);

static struct ivh_region *ivh_region_find(struct ivh_host *host,
					  const char *name)
{
	struct ivh_region *region;

	lockdep_assert_held(&host->lock);
	list_for_each_entry(region, &host->regions, node)
		if (!strncmp(region->spec.name, name, IVSHMEM_HOST_NAME_LEN))
			return region;
	return NULL;
}

/**
 * ivh_region_get() - look a region up by name
 * @host:	the registry.
 * @name:	NUL-terminated within IVSHMEM_HOST_NAME_LEN.
 *
 * Context: takes ivh_host.lock.
 * Return: the region with a reference, or NULL.
 */
struct ivh_region *ivh_region_get(struct ivh_host *host, const char *name)
{
	struct ivh_region *region;

	mutex_lock(&host->lock);
	region = ivh_region_find(host, name);
	if (region)
		kref_get(&region->ref);
	mutex_unlock(&host->lock);
	return region;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_region_get);

/**
 * ivh_region_add() - add a region to the registry
 * @host:	the registry.
 * @spec:	the region; checked here again.
 * @why:	set to the rule broken on failure.
 *
 * Context: takes ivh_host.lock.
 * The region gets the region ID of @spec if it has one, else the lowest
 * one free.
 *
 * Return: 0, an errno of ivh_spec_check(), -EEXIST (name or region ID in
 * use), -ENOSPC (registry full) or -ENOMEM.
 */
int ivh_region_add(struct ivh_host *host, const struct ivh_region_spec *spec,
		   const char **why)
{
	struct ivh_region *region;
	int ret;

	region = kzalloc(sizeof(*region), GFP_KERNEL);
	if (!region) {
		*why = "out of memory";
		return -ENOMEM;
	}
	region->spec = *spec;
	ret = ivh_spec_check(&region->spec, why);
	if (ret)
		goto free_region;
	kref_init(&region->ref);
	region->host = host;
	mutex_init(&region->lock);
	INIT_LIST_HEAD(&region->peers);
	INIT_LIST_HEAD(&region->linger_node);

	mutex_lock(&host->lock);
	if (ivh_region_find(host, region->spec.name)) {
		*why = "name is already in use";
		ret = -EEXIST;
		goto unlock;
	}
	if (host->nr_regions >= IVH_MAX_REGIONS) {
		*why = "the registry is full";
		ret = -ENOSPC;
		goto unlock;
	}
	if (region->spec.has_id) {
		ret = ida_alloc_range(&host->ids, region->spec.region_id,
				      region->spec.region_id, GFP_KERNEL);
		if (ret == -ENOSPC) {
			*why = "region ID is already in use";
			ret = -EEXIST;
		}
	} else {
		ret = ida_alloc_max(&host->ids, IVH_REGION_ID_MAX, GFP_KERNEL);
	}
	if (ret < 0) {
		if (ret != -EEXIST)
			*why = "no region ID left";
		goto unlock;
	}
	region->id = ret;
	list_add_tail(&region->node, &host->regions);
	host->nr_regions++;
	mutex_unlock(&host->lock);
	return 0;

unlock:
	mutex_unlock(&host->lock);
	mutex_destroy(&region->lock);
free_region:
	kfree(region);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_region_add);

/**
 * ivh_region_remove() - remove a region from the registry
 * @host:	the registry.
 * @name:	the region's name.
 *
 * Attached peers keep working with the region and its memory; the
 * memory goes with the last fd or mapping. The name can be reused at once.
 *
 * Context: takes ivh_host.lock.
 * Return: 0 or -ENOENT.
 */
int ivh_region_remove(struct ivh_host *host, const char *name)
{
	struct ivh_region *region;

	mutex_lock(&host->lock);
	region = ivh_region_find(host, name);
	if (!region) {
		mutex_unlock(&host->lock);
		return -ENOENT;
	}
	list_del_init(&region->node);
	host->nr_regions--;
	region->removed = true;
	ida_free(&host->ids, region->id);
	mutex_unlock(&host->lock);

	ivh_region_put(region);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_region_remove);

/**
 * ivh_region_info() - describe a region in its uapi form
 * @region:	the region.
 * @out:	fully overwritten.
 *
 * Context: takes ivh_region.lock.
 */
void ivh_region_info(struct ivh_region *region,
		     struct ivshmem_host_region *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->name, region->spec.name, sizeof(out->name));
	out->members = region->spec.members;
	out->size_mb = region->spec.size_mb;
	out->rt_members = region->spec.rt_members;
	out->region_id = region->id;
	if (region->spec.hv)
		out->flags |= IVSHMEM_HOST_REGION_HV;
	mutex_lock(&region->lock);
	out->nr_attached = region->nr_attached;
	if (region->mem) {
		out->flags |= IVSHMEM_HOST_REGION_MEM;
		out->nr_folios = region->mem->nr_folios;
	}
	mutex_unlock(&region->lock);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_region_info);

/**
 * ivh_list() - describe the registry
 * @host:	the registry.
 * @out:	room for @capacity entries.
 * @capacity:	entries in @out.
 * @count:	set to the number of regions (may exceed @capacity).
 *
 * Context: takes ivh_host.lock, then each ivh_region.lock.
 * Return: 0.
 */
int ivh_list(struct ivh_host *host, struct ivshmem_host_region *out,
	     unsigned int capacity, unsigned int *count)
{
	struct ivh_region *region;
	unsigned int n = 0;

	mutex_lock(&host->lock);
	list_for_each_entry(region, &host->regions, node) {
		if (n < capacity)
			ivh_region_info(region, &out[n]);
		n++;
	}
	mutex_unlock(&host->lock);
	*count = n;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_list);

/* ------------------------------------------------------------------ */
/* attach and detach                                                   */

/**
 * ivh_peer_find() - the attached peer of a VM in a region
 * @region:	the region.
 * @vmid:	the VM.
 *
 * Context: region->lock held.
 * Return: the peer, or NULL if @vmid is not attached.
 */
struct ivh_peer *ivh_peer_find(struct ivh_region *region, u32 vmid)
{
	struct ivh_peer *peer;

	lockdep_assert_held(&region->lock);
	list_for_each_entry(peer, &region->peers, node)
		if (peer->vmid == vmid)
			return peer;
	return NULL;
}

/**
 * ivh_attach_region() - attach a VM to a dm-land region it holds
 * @region:	the region; the caller holds a reference (the peer takes
 *		its own).
 * @vmid:	the VM, which must be a member and not attached yet.
 * @why:	set to the reason on failure.
 *
 * The first VM of a session gets the memory still lingering for the
 * region if a mapping or a pin holds it (a VM coming back after a reset,
 * HSM still pinning the pages: data intact), else new, zeroed memory;
 * later VMs share it. New memory is allocated with no lock held and
 * installed after checking again that the session still needs it. It is
 * refused when its folios are more region ops than HSM's SET_MEMSEG can
 * allocate (ivh_hsm_fits()). Used by ivh_attach() and by the
 * filesystem's open, which attaches to the region its inode was looked
 * up as, never to whatever has the name by the time of the open.
 *
 * Context: process context; takes ivh_region.lock, later ivh_host.lock
 * then ivh_region.lock.
 * Return: the new peer with one reference, owned by the caller
 * (ivh_peer_release()), or ERR_PTR(): -ENOENT (the region was removed),
 * -EINVAL (hv-land region), -EACCES (not a member), -EBUSY (already
 * attached), -ENOSPC (module memory limit), -ENOMEM (also: too few 2 MiB
 * folios for HSM, logged), -EINTR.
 */
struct ivh_peer *ivh_attach_region(struct ivh_region *region, u32 vmid,
				   const char **why)
{
	struct ivh_host *host = region->host;
	struct ivh_mem *mem = NULL, *stale;
	struct ivh_peer *peer;
	bool need, unlisted;
	int ret;

	if (region->spec.hv) {
		*why = "hv-land memory belongs to the hypervisor";
		return ERR_PTR(-EINVAL);
	}
	if (vmid > IVSHMEM_HOST_MAX_VMID ||
	    !(region->spec.members & BIT_ULL(vmid))) {
		*why = "VM is not a member of the region";
		return ERR_PTR(-EACCES);
	}
	peer = kzalloc(sizeof(*peer), GFP_KERNEL_ACCOUNT);
	if (!peer) {
		*why = "out of memory";
		return ERR_PTR(-ENOMEM);
	}
	kref_get(&region->ref);
	kref_init(&peer->ref);
	peer->region = region;
	peer->vmid = vmid;
	INIT_LIST_HEAD(&peer->node);
	INIT_LIST_HEAD(&peer->triggers);

again:
	/* A new session's memory is allocated with no lock held. */
	mutex_lock(&region->lock);
	need = !region->mem && !mem;
	mutex_unlock(&region->lock);
	if (need) {
		mem = ivh_mem_alloc(host, (unsigned long)region->spec.size_mb << 20);
		if (IS_ERR(mem)) {
			*why = "cannot allocate the region's memory";
			ret = PTR_ERR(mem);
			goto free_peer;
		}
		if (!ivh_hsm_fits(mem->nr_folios)) {
			pr_warn("region \"%s\": %u folios (%u of 2 MiB) are more region ops than HSM's SET_MEMSEG can allocate (%lu): refused\n",
				region->spec.name, mem->nr_folios,
				mem->nr_large, (unsigned long)IVH_HSM_MAX_OPS);
			*why = "too few 2 MiB folios: HSM's SET_MEMSEG could not map the memory";
			ret = -ENOMEM;
			goto put_mem;
		}
	}

	mutex_lock(&host->lock);
	if (region->removed) {
		*why = "the region was removed";
		ret = -ENOENT;
		goto unlock_host;
	}
	mutex_lock(&region->lock);
	if (ivh_peer_find(region, vmid)) {
		*why = "VM is already attached";
		ret = -EBUSY;
		goto unlock_region;
	}
	stale = NULL;
	unlisted = false;
	if (region->mem && !region->nr_attached &&
	    !ivh_mem_held(region->mem)) {
		/* It lingered, nothing holds it now: new VMs get new memory. */
		stale = region->mem;
		region->mem = NULL;
		if (!list_empty(&region->linger_node)) {
			list_del_init(&region->linger_node);
			unlisted = true;
		}
	}
	if (!region->mem) {
		if (!mem) {
			/* No memory to share or reuse: allocate. */
			mutex_unlock(&region->lock);
			mutex_unlock(&host->lock);
			ivh_mem_put(stale);
			/* Not the last: the caller's and the peer's are left. */
			if (unlisted)
				ivh_region_put(region);
			goto again;
		}
		region->mem = mem;
		mem = NULL;
	}
	ivh_mem_get(region->mem);
	peer->mem = region->mem;
	peer->attached = true;
	list_add_tail(&peer->node, &region->peers);
	region->nr_attached++;
	mutex_unlock(&region->lock);
	mutex_unlock(&host->lock);
	/* Allocated for a session another attach started meanwhile. */
	ivh_mem_put(mem);
	ivh_mem_put(stale);
	if (unlisted)
		ivh_region_put(region);
	return peer;

unlock_region:
	mutex_unlock(&region->lock);
unlock_host:
	mutex_unlock(&host->lock);
put_mem:
	ivh_mem_put(mem);
free_peer:
	kfree(peer);
	ivh_region_put(region);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_attach_region);

/**
 * ivh_attach() - attach a VM to a dm-land region by name
 * @host:	the registry.
 * @name:	the region's name.
 * @vmid:	the VM, which must be a member and not attached yet.
 * @why:	set to the reason on failure.
 *
 * Context: process context; takes ivh_host.lock, then as
 * ivh_attach_region().
 * Return: as ivh_attach_region(); -ENOENT also for no such region.
 */
struct ivh_peer *ivh_attach(struct ivh_host *host, const char *name,
			    u32 vmid, const char **why)
{
	struct ivh_region *region;
	struct ivh_peer *peer;

	region = ivh_region_get(host, name);
	if (!region) {
		*why = "no such region";
		return ERR_PTR(-ENOENT);
	}
	peer = ivh_attach_region(region, vmid, why);
	ivh_region_put(region);
	return peer;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_attach);

/* What a detach takes out under ivh_region.lock and frees after it. */
struct ivh_teardown {
	struct list_head triggers;
	struct eventfd_ctx *eventfds[IVSHMEM_HOST_MAX_VECTORS];
	struct ivh_mem *session;
	struct ivh_mem *mem;
	struct ivh_region *linger;
};

static void ivh_detach_locked(struct ivh_peer *peer, struct ivh_teardown *td)
{
	struct ivh_region *region = peer->region;

	lockdep_assert_held(&region->lock);
	peer->attached = false;
	list_del_init(&peer->node);
	INIT_LIST_HEAD(&td->triggers);
	td->session = NULL;
	td->linger = NULL;
	if (--region->nr_attached == 0) {
		if (ivh_mem_held(region->mem)) {
			/* Mapped or pinned: it stays for the next session. */
			td->linger = region;
		} else {
			td->session = region->mem;
			region->mem = NULL;
		}
	}
	/* Mappings hold their own references; a detached fd holds none. */
	td->mem = peer->mem;
	peer->mem = NULL;
	ivh_peer_teardown_doorbells(peer, &td->triggers, td->eventfds);
}

/*
 * Free what a detach took out. The caller still holds a reference on the
 * peer: freeing its triggers drops theirs, and their work may still run.
 * The peer's reference keeps the region for ivh_linger_add().
 */
static void ivh_detach_finish(struct ivh_teardown *td)
{
	ivh_doorbells_free(&td->triggers, td->eventfds);
	ivh_mem_put(td->mem);
	ivh_mem_put(td->session);
	if (td->linger)
		ivh_linger_add(td->linger);
}

/**
 * ivh_detach() - end a peer's attachment
 * @peer:	the peer; the caller holds a reference.
 *
 * Unregisters its vectors and eventfd triggers and drops its reference on
 * the memory (existing mappings keep theirs and stay valid); the last
 * peer of a session ends it: the memory is freed, or lingers for the next
 * attach while a mapping or a pin holds it (ivh_mem_held()).
 *
 * Context: process context; takes ivh_region.lock, then waits for the
 * peer's trigger work items without it.
 * Return: 0, or -ENOTCONN when the peer was already detached.
 */
int ivh_detach(struct ivh_peer *peer)
{
	struct ivh_region *region = peer->region;
	struct ivh_teardown td;

	mutex_lock(&region->lock);
	if (!peer->attached) {
		mutex_unlock(&region->lock);
		return -ENOTCONN;
	}
	ivh_detach_locked(peer, &td);
	mutex_unlock(&region->lock);

	ivh_detach_finish(&td);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_detach);

/**
 * ivh_detach_vmid() - detach a VM from a region by name
 * @host:	the registry.
 * @name:	the region's name.
 * @vmid:	the VM.
 *
 * The attachment fd stays open (its owner closes it) but no longer maps
 * or rings. A reference on the peer is held until the teardown is over,
 * so closing the fd meanwhile cannot free the peer under its triggers.
 *
 * Context: process context; as ivh_detach(), after ivh_host.lock for the
 * lookup.
 * Return: 0, -ENOENT (no region) or -ENOTCONN (VM not attached).
 */
int ivh_detach_vmid(struct ivh_host *host, const char *name, u32 vmid)
{
	struct ivh_region *region;
	struct ivh_teardown td;
	struct ivh_peer *peer;

	region = ivh_region_get(host, name);
	if (!region)
		return -ENOENT;

	mutex_lock(&region->lock);
	peer = ivh_peer_find(region, vmid);
	if (!peer) {
		mutex_unlock(&region->lock);
		ivh_region_put(region);
		return -ENOTCONN;
	}
	ivh_peer_get(peer);
	ivh_detach_locked(peer, &td);
	mutex_unlock(&region->lock);

	ivh_detach_finish(&td);
	ivh_peer_put(peer);
	ivh_region_put(region);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_detach_vmid);

/**
 * ivh_peer_get() - take a reference on a peer
 * @peer:	a peer the caller holds a reference on, or finds under
 *		ivh_region.lock while it is attached.
 */
void ivh_peer_get(struct ivh_peer *peer)
{
	kref_get(&peer->ref);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_peer_get);

static void ivh_peer_free(struct kref *ref)
{
	struct ivh_peer *peer = container_of(ref, struct ivh_peer, ref);
	struct ivh_region *region = peer->region;

	WARN_ON(peer->attached || peer->mem || !list_empty(&peer->triggers));
	kfree(peer);
	ivh_region_put(region);
}

/**
 * ivh_peer_put() - drop a reference on a peer; the last one frees it
 * @peer:	the peer, detached if this may be the last reference.
 *
 * Context: process context, may sleep.
 */
void ivh_peer_put(struct ivh_peer *peer)
{
	kref_put(&peer->ref, ivh_peer_free);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_peer_put);

/**
 * ivh_peer_release() - detach if needed and drop the owner's reference
 * @peer:	the peer.
 *
 * Context: process context, may sleep.
 */
void ivh_peer_release(struct ivh_peer *peer)
{
	ivh_detach(peer);
	ivh_peer_put(peer);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_peer_release);
