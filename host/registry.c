// SPDX-License-Identifier: GPL-2.0
/*
 * The region registry: struct ivh_host and its named regions (add,
 * remove, look-up by name, INFO/LIST descriptions), region IDs, the
 * region's list of attached peers (ivh_peer_find()), and the end of a
 * region's life, which frees the memory it owns (ivh_mem_free()).
 *
 * It calls only mem.c. See ivshmem_host_drv.h for the objects, their
 * references and the lock order, and Documentation/host.rst for why the
 * memory lives as long as its region.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/memcontrol.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include <kunit/visibility.h>

#include "../compat.h"
#include "ivshmem_host_drv.h"

/**
 * ivh_host_init() - initialise an empty registry
 * @host:	the registry.
 * @acrn:	whether this is ACRN's Service VM (for INFO).
 *
 * Return: 0 or -ENOMEM.
 */
int ivh_host_init(struct ivh_host *host, bool acrn)
{
	mutex_init(&host->lock);
	INIT_LIST_HEAD(&host->regions);
	host->nr_regions = 0;
	host->nr_removed = 0;
	ida_init(&host->ids);
	host->acrn = acrn;
	mutex_init(&host->efd_lock);
	INIT_LIST_HEAD(&host->efds);
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
 * Each region's memory is freed; folios HSM still pins are left to the
 * pins (logged), and the last unpin frees them: nothing of the module is
 * needed for that.
 *
 * Context: no peer, inode or mapping of @host may exist any more (their
 * fds, mounts and VMAs hold the module; their owners in KUnit release
 * them first).
 */
void ivh_host_destroy(struct ivh_host *host)
{
	struct ivh_region *region, *tmp;
	LIST_HEAD(dead);

	mutex_lock(&host->lock);
	list_for_each_entry_safe(region, tmp, &host->regions, node) {
		region->removed = true;
		list_move(&region->node, &dead);
	}
	host->nr_removed += host->nr_regions;
	host->nr_regions = 0;
	mutex_unlock(&host->lock);

	list_for_each_entry_safe(region, tmp, &dead, node) {
		list_del_init(&region->node);
		ivh_region_put(region);
	}
	destroy_workqueue(host->wq);
	ida_destroy(&host->ids);
	WARN_ON(host->nr_removed);
	WARN_ON(atomic_read(&host->nr_mems));
	WARN_ON(!list_empty(&host->efds));
	mutex_destroy(&host->efd_lock);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_host_destroy);

static void ivh_region_release(struct kref *ref)
{
	struct ivh_region *region = container_of(ref, struct ivh_region, ref);
	struct ivh_host *host = region->host;
	unsigned long held;

	WARN_ON(!list_empty(&region->peers));
	held = ivh_mem_free(region->mem);
	if (held)
		pr_info("region \"%s\" freed: %lu MiB still pinned, left to the pins (the last unpin frees it)\n",
			region->spec.name, held >> (20 - PAGE_SHIFT));
	mem_cgroup_put(region->memcg);
	/* The ID (and the inode number made of it) is free only now. */
	ida_free(&host->ids, region->id);
	/* A region in the registry holds its reference there: removed. */
	mutex_lock(&host->lock);
	host->nr_removed--;
	mutex_unlock(&host->lock);
	mutex_destroy(&region->alloc_lock);
	mutex_destroy(&region->lock);
	kfree(region);
}

/**
 * ivh_region_put() - drop a reference on a region
 * @region:	the region, may be NULL.
 *
 * The last reference frees the region and its memory (ivh_mem_free()),
 * drops its memory cgroup and its place among the IVH_MAX_REGIONS.
 *
 * Context: process context, no lock of the module held; may sleep; the
 * last reference takes ivh_host.lock.
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
 * The region gets the region ID of @spec if it has one, else the lowest
 * one free, and the memory cgroup of the calling task, which its memory
 * will be charged to (whoever attaches first) for as long as it lives.
 * At most IVH_MAX_REGIONS regions live at once: the registry's and the
 * removed ones still held.
 *
 * Context: process context; takes ivh_host.lock.
 * Return: 0, an errno of ivh_spec_check(), -EEXIST (name in use, or
 * region ID held by a region in the registry or by a removed one still
 * alive), -ENOSPC (registry full, removed regions still held included)
 * or -ENOMEM.
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
	mutex_init(&region->alloc_lock);
	mutex_init(&region->lock);
	INIT_LIST_HEAD(&region->peers);

	mutex_lock(&host->lock);
	if (ivh_region_find(host, region->spec.name)) {
		*why = "name is already in use";
		ret = -EEXIST;
		goto unlock;
	}
	if (host->nr_regions + host->nr_removed >= IVH_MAX_REGIONS) {
		*why = host->nr_removed ?
		       "the registry is full (removed regions still held count)" :
		       "the registry is full";
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
	/* Charged for the region's memory from the first attach on. */
	region->memcg = get_mem_cgroup_from_mm(current->mm);
	list_add_tail(&region->node, &host->regions);
	host->nr_regions++;
	mutex_unlock(&host->lock);
	return 0;

unlock:
	mutex_unlock(&host->lock);
	mutex_destroy(&region->lock);
	mutex_destroy(&region->alloc_lock);
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
 * Attached peers keep working with the region and its memory; the region
 * and its memory go with the last fd, mapping, inode or trigger (at once
 * if none holds it). The name can be reused at once; the region ID only
 * once the region is freed, so no new region takes the ID (the guests'
 * PCI subsystem ID) or the inode number of one that lives.
 *
 * Context: takes ivh_host.lock; may free the region's memory after it.
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
	host->nr_removed++;
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
