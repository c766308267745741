// SPDX-License-Identifier: GPL-2.0
/*
 * The region registry, dm-land memory and its lifetime, attach and detach,
 * and the hv-land virtual device requests.
 *
 * See ivshmem_host.h for the objects, their references and the lock
 * order.
 */

#include <linux/eventfd.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "../compat.h"
#include "ivshmem_host.h"

/**
 * ivh_host_init() - initialise an empty registry
 * @host:	the registry.
 * @hc:		hypercall table it uses; must outlive @host.
 *
 * Return: 0 or -ENOMEM.
 */
int ivh_host_init(struct ivh_host *host, struct ivh_hc *hc)
{
	mutex_init(&host->lock);
	INIT_LIST_HEAD(&host->regions);
	host->nr_regions = 0;
	ida_init(&host->ids);
	host->hc = hc;
	atomic64_set(&host->mem_bytes, 0);
	atomic_set(&host->nr_mems, 0);
	host->wq = alloc_workqueue("ivshmem_host", WQ_UNBOUND, 0);
	if (!host->wq)
		return -ENOMEM;
	return 0;
}
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_host_init);

/**
 * ivh_host_destroy() - remove every region and free the registry
 * @host:	the registry.
 *
 * Context: no peer of @host may exist any more (their fds hold the
 * module, their owners in KUnit release them first).
 */
void ivh_host_destroy(struct ivh_host *host)
{
	struct ivh_region *region, *tmp;
	LIST_HEAD(dead);

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
}
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_host_destroy);

/* ------------------------------------------------------------------ */
/* dm-land memory                                                      */

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
 * Each 2 MiB chunk is one large folio where the allocator has one, else
 * 512 pages of 4 KiB; after the first large allocation fails the rest
 * uses 4 KiB pages without retrying. The memory is not movable and never
 * on an LRU list: it stays put while the module holds it. The allocator
 * zeroes it (__GFP_ZERO).
 *
 * Context: process context, may sleep for long; stops early with -EINTR
 * on a fatal signal.
 * Return: the memory with one reference, or an ERR_PTR().
 */
struct ivh_mem *ivh_mem_alloc(struct ivh_host *host, unsigned long size)
{
	const gfp_t gfp = GFP_HIGHUSER | __GFP_ZERO;
	bool large = true;
	struct ivh_mem *mem;
	int ret;

	mem = kzalloc(sizeof(*mem), GFP_KERNEL);
	if (!mem)
		return ERR_PTR(-ENOMEM);
	kref_init(&mem->ref);
	mem->host = host;
	mem->nr_pages = size >> PAGE_SHIFT;
	mem->pages = kvcalloc(mem->nr_pages, sizeof(*mem->pages), GFP_KERNEL);
	if (!mem->pages) {
		ret = -ENOMEM;
		goto free_mem;
	}

	while (mem->nr_filled < mem->nr_pages) {
		struct folio *folio = NULL;
		unsigned long i;

		if (large && IS_ALIGNED(mem->nr_filled, 1UL << IVH_FOLIO_ORDER) &&
		    mem->nr_pages - mem->nr_filled >= 1UL << IVH_FOLIO_ORDER) {
			folio = folio_alloc(gfp | __GFP_NOWARN | __GFP_NORETRY,
					    IVH_FOLIO_ORDER);
			large = folio;
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

	atomic64_add(size, &host->mem_bytes);
	atomic_inc(&host->nr_mems);
	return mem;

free_pages:
	ivh_mem_free_pages(mem);
	kvfree(mem->pages);
free_mem:
	kfree(mem);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_mem_alloc);

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
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_mem_get);

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
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_mem_put);

/* ------------------------------------------------------------------ */
/* mmap of an attachment fd                                            */

static void ivh_vma_open(struct vm_area_struct *vma)
{
	ivh_mem_get(vma->vm_private_data);
}

static void ivh_vma_close(struct vm_area_struct *vma)
{
	ivh_mem_put(vma->vm_private_data);
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

static const struct vm_operations_struct ivh_vm_ops = {
	.open	= ivh_vma_open,
	.close	= ivh_vma_close,
	.fault	= ivh_vma_fault,
};

/**
 * ivh_peer_mmap() - map a peer's region memory
 * @peer:	an attached dm-land peer.
 * @vma:	a shared mapping within the region.
 *
 * The mapping holds the memory by reference, independent of the fd and
 * of the region. Pages are inserted on fault as ordinary (not PFN-mapped)
 * pages, so HSM's ACRN_IOCTL_SET_MEMSEG can pin them and sees the large
 * folios.
 *
 * Context: mmap_lock held for writing; takes ivh_region.lock.
 * Return: 0, -EINVAL (private mapping, or beyond the region) or
 * -ENOTCONN (the peer was detached).
 */
int ivh_peer_mmap(struct ivh_peer *peer, struct vm_area_struct *vma)
{
	struct ivh_region *region = peer->region;
	unsigned long pages = vma_pages(vma);
	int ret = 0;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (!peer->mem || vma->vm_pgoff >= peer->mem->nr_pages ||
	    pages > peer->mem->nr_pages - vma->vm_pgoff)
		return -EINVAL;

	mutex_lock(&region->lock);
	if (!peer->attached) {
		ret = -ENOTCONN;
		goto unlock;
	}
	ivshmem_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &ivh_vm_ops;
	vma->vm_private_data = peer->mem;
	ivh_mem_get(peer->mem);
unlock:
	mutex_unlock(&region->lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* the registry                                                        */

static void ivh_region_release(struct kref *ref)
{
	struct ivh_region *region = container_of(ref, struct ivh_region, ref);

	WARN_ON(!list_empty(&region->peers) || region->mem);
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
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_region_put);

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
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_region_get);

/**
 * ivh_region_add() - add a region to the registry
 * @host:	the registry.
 * @spec:	the region; checked here again.
 * @why:	set to the rule broken on failure.
 *
 * Context: takes ivh_host.lock.
 * Return: 0, an errno of ivh_spec_check(), -EEXIST (name in use),
 * -ENOSPC (registry full) or -ENOMEM.
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
	ret = ida_alloc_max(&host->ids, U16_MAX, GFP_KERNEL);
	if (ret < 0) {
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
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_region_add);

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
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_region_remove);

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
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_region_info);

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
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_list);

/* ------------------------------------------------------------------ */
/* attach and detach                                                   */

static struct ivh_peer *ivh_peer_find(struct ivh_region *region, u32 vmid)
{
	struct ivh_peer *peer;

	lockdep_assert_held(&region->lock);
	list_for_each_entry(peer, &region->peers, node)
		if (peer->vmid == vmid)
			return peer;
	return NULL;
}

/**
 * ivh_attach() - attach a VM to a dm-land region
 * @host:	the registry.
 * @name:	the region's name.
 * @vmid:	the VM, which must be a member and not attached yet.
 * @why:	set to the reason on failure.
 *
 * The first VM of a session gets new, zeroed memory; later ones share it.
 *
 * Context: process context; takes ivh_host.lock, then ivh_region.lock
 * (under which the memory of a new session is allocated).
 * Return: the new peer, owned by the caller (ivh_peer_release()), or
 * ERR_PTR(): -ENOENT (no such region), -EINVAL (hv-land region),
 * -EACCES (not a member), -EBUSY (already attached), -ENOMEM, -EINTR.
 */
struct ivh_peer *ivh_attach(struct ivh_host *host, const char *name,
			    u32 vmid, const char **why)
{
	struct ivh_region *region;
	struct ivh_peer *peer;
	struct ivh_mem *mem;
	int ret;

	region = ivh_region_get(host, name);
	if (!region) {
		*why = "no such region";
		return ERR_PTR(-ENOENT);
	}
	if (region->spec.hv) {
		*why = "hv-land memory belongs to the hypervisor";
		ret = -EINVAL;
		goto put_region;
	}
	if (vmid > IVSHMEM_HOST_MAX_VMID ||
	    !(region->spec.members & BIT_ULL(vmid))) {
		*why = "VM is not a member of the region";
		ret = -EACCES;
		goto put_region;
	}
	peer = kzalloc(sizeof(*peer), GFP_KERNEL);
	if (!peer) {
		*why = "out of memory";
		ret = -ENOMEM;
		goto put_region;
	}
	peer->region = region;
	peer->vmid = vmid;
	INIT_LIST_HEAD(&peer->node);
	INIT_LIST_HEAD(&peer->triggers);

	mutex_lock(&region->lock);
	if (ivh_peer_find(region, vmid)) {
		*why = "VM is already attached";
		ret = -EBUSY;
		goto unlock;
	}
	if (!region->mem) {
		mem = ivh_mem_alloc(host, (unsigned long)region->spec.size_mb << 20);
		if (IS_ERR(mem)) {
			*why = "cannot allocate the region's memory";
			ret = PTR_ERR(mem);
			goto unlock;
		}
		region->mem = mem;
	}
	ivh_mem_get(region->mem);
	peer->mem = region->mem;
	peer->attached = true;
	list_add_tail(&peer->node, &region->peers);
	region->nr_attached++;
	mutex_unlock(&region->lock);
	return peer;

unlock:
	mutex_unlock(&region->lock);
	kfree(peer);
put_region:
	ivh_region_put(region);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_attach);

/**
 * ivh_detach() - end a peer's attachment
 * @peer:	the peer.
 *
 * Unregisters its vectors and eventfd triggers; the last peer of a
 * session ends it (the next attach gets new memory). The peer keeps its
 * reference on the memory, and existing mappings stay valid.
 *
 * Context: process context; takes ivh_region.lock, then waits for the
 * peer's trigger work items without it.
 * Return: 0, or -ENOTCONN when the peer was already detached.
 */
int ivh_detach(struct ivh_peer *peer)
{
	struct eventfd_ctx *eventfds[IVSHMEM_HOST_MAX_VECTORS];
	struct ivh_region *region = peer->region;
	struct ivh_mem *session = NULL;
	LIST_HEAD(triggers);

	mutex_lock(&region->lock);
	if (!peer->attached) {
		mutex_unlock(&region->lock);
		return -ENOTCONN;
	}
	peer->attached = false;
	list_del_init(&peer->node);
	if (--region->nr_attached == 0) {
		session = region->mem;
		region->mem = NULL;
	}
	ivh_peer_teardown_doorbells(peer, &triggers, eventfds);
	mutex_unlock(&region->lock);

	ivh_doorbells_free(&triggers, eventfds);
	ivh_mem_put(session);
	return 0;
}
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_detach);

/**
 * ivh_detach_vmid() - detach a VM from a region by name
 * @host:	the registry.
 * @name:	the region's name.
 * @vmid:	the VM.
 *
 * The attachment fd stays open (its owner closes it) but no longer maps
 * or rings.
 *
 * Context: process context; takes ivh_host.lock, then ivh_region.lock.
 * Return: 0, -ENOENT (no region) or -ENOTCONN (VM not attached).
 */
int ivh_detach_vmid(struct ivh_host *host, const char *name, u32 vmid)
{
	struct eventfd_ctx *eventfds[IVSHMEM_HOST_MAX_VECTORS];
	struct ivh_mem *session = NULL;
	struct ivh_region *region;
	struct ivh_peer *peer;
	LIST_HEAD(triggers);
	int ret = 0;

	region = ivh_region_get(host, name);
	if (!region)
		return -ENOENT;

	mutex_lock(&region->lock);
	peer = ivh_peer_find(region, vmid);
	if (!peer) {
		ret = -ENOTCONN;
		goto unlock;
	}
	peer->attached = false;
	list_del_init(&peer->node);
	if (--region->nr_attached == 0) {
		session = region->mem;
		region->mem = NULL;
	}
	ivh_peer_teardown_doorbells(peer, &triggers, eventfds);
unlock:
	mutex_unlock(&region->lock);

	if (!ret)
		ivh_doorbells_free(&triggers, eventfds);
	ivh_mem_put(session);
	ivh_region_put(region);
	return ret;
}
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_detach_vmid);

/**
 * ivh_peer_release() - detach if needed and free a peer
 * @peer:	the peer.
 *
 * Context: process context, may sleep.
 */
void ivh_peer_release(struct ivh_peer *peer)
{
	struct ivh_region *region = peer->region;

	ivh_detach(peer);
	ivh_mem_put(peer->mem);
	kfree(peer);
	ivh_region_put(region);
}
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_peer_release);

/* ------------------------------------------------------------------ */
/* hv-land virtual devices                                             */

/**
 * ivh_vdev() - create or destroy a VM's hv-land ivshmem device
 * @host:	the registry.
 * @req:	the request; reserved fields already checked.
 * @create:	HC_CREATE_VDEV if true, else HC_DESTROY_VDEV.
 * @why:	set to the reason on failure.
 *
 * Checks the region exists, is hv-land and has @req->vmid as a member,
 * then issues the hypercall with the acrn_vdev that ACRN's device model
 * would build.
 *
 * Context: process context; takes ivh_host.lock.
 * Return: 0, -ENOENT, -EINVAL (dm-land region), -EACCES (not a member),
 * or the hypercall's error (-EOPNOTSUPP off ACRN).
 */
int ivh_vdev(struct ivh_host *host, const struct ivshmem_host_vdev *req,
	     bool create, const char **why)
{
	struct ivh_region *region;
	struct acrn_vdev *vdev;
	int ret;

	region = ivh_region_get(host, req->name);
	if (!region) {
		*why = "no such region";
		return -ENOENT;
	}
	if (!region->spec.hv) {
		*why = "dm-land devices are emulated by the device model";
		ret = -EINVAL;
		goto put_region;
	}
	if (req->vmid > IVSHMEM_HOST_MAX_VMID ||
	    !(region->spec.members & BIT_ULL(req->vmid))) {
		*why = "VM is not a member of the region";
		ret = -EACCES;
		goto put_region;
	}
	vdev = kmalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev) {
		*why = "out of memory";
		ret = -ENOMEM;
		goto put_region;
	}
	ivh_build_vdev(vdev, region->spec.name, region->spec.size_mb << 20,
		       req->bdf, req->bar0, req->bar1, req->bar2);
	if (create)
		ret = host->hc->ops->create_vdev(host->hc, req->hc_vmid, vdev);
	else
		ret = host->hc->ops->destroy_vdev(host->hc, req->hc_vmid, vdev);
	if (ret)
		*why = "the hypervisor refused the device";
	kfree(vdev);
put_region:
	ivh_region_put(region);
	return ret;
}
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_vdev);
