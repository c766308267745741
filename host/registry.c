// SPDX-License-Identifier: GPL-2.0
/*
 * The region registry: struct ivh_host and its named regions (add,
 * remove, look-up by name, INFO/LIST descriptions), region IDs, the
 * region's list of attached peers (ivh_peer_find()), and the memory a
 * region keeps with no peer attached ("lingering": the list of such
 * regions and the reaper that frees what no mapping or pin holds any
 * more).
 *
 * It calls only mem.c. See ivshmem_host_drv.h for the objects, their
 * references and the lock order, and Documentation/host.rst for why
 * memory lingers.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

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

/**
 * ivh_region_linger() - let the reaper watch a region's memory
 * @region:	a region whose last peer left while its memory was held.
 *
 * Puts @region on the list the reaper checks, with a reference of the
 * list's, and makes sure the reaper runs. Being listed only means "may
 * linger": the reaper decides under the region's lock.
 *
 * Context: process context; takes ivh_host.lock.
 */
void ivh_region_linger(struct ivh_region *region)
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

static void ivh_region_release(struct kref *ref)
{
	struct ivh_region *region = container_of(ref, struct ivh_region, ref);

	WARN_ON(!list_empty(&region->peers) || region->mem ||
		!list_empty(&region->linger_node));
	/* The ID (and the inode number made of it) is free only now. */
	ida_free(&region->host->ids, region->id);
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
 * Return: 0, an errno of ivh_spec_check(), -EEXIST (name in use, or
 * region ID held by a region in the registry or by a removed one still
 * alive), -ENOSPC (registry full) or -ENOMEM.
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
 * memory goes with the last fd or mapping. The name can be reused at once;
 * the region ID only once the region is freed (no peer, inode or
 * lingering memory holds it any more), so no new region takes the ID
 * (the guests' PCI subsystem ID) or the inode number of one that lives.
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
