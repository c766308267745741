// SPDX-License-Identifier: GPL-2.0
/*
 * Peers: attach and detach of a VM to a dm-land region (struct ivh_peer,
 * its references; the first attach allocates the memory the region then
 * owns), and the mmap of an attached peer. A detach ends the peer's
 * doorbells through their one teardown entry point,
 * ivh_doorbells_teardown().
 *
 * It calls registry.c, mem.c and doorbell.c; none of them calls it. See
 * ivshmem_host_drv.h for the objects, their references and the lock
 * order.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/slab.h>

#include <kunit/visibility.h>

#include "../compat.h"
#include "ivshmem_host_drv.h"

/*
 * Take ivh_host.lock and ivh_region.lock if @vmid may attach to @region
 * now: it is still in the registry and @vmid not attached yet. Return: 0
 * with both held, or an errno with neither.
 */
static int ivh_attach_lock(struct ivh_region *region, u32 vmid,
			   const char **why)
{
	struct ivh_host *host = region->host;

	mutex_lock(&host->lock);
	if (region->removed) {
		mutex_unlock(&host->lock);
		*why = "the region was removed";
		return -ENOENT;
	}
	mutex_lock(&region->lock);
	if (ivh_peer_find(region, vmid)) {
		mutex_unlock(&region->lock);
		mutex_unlock(&host->lock);
		*why = "VM is already attached";
		return -EBUSY;
	}
	return 0;
}

/* Why ivh_mem_alloc() failed, as ATTACH reports it. Return: the errno. */
static int ivh_alloc_refused(struct ivh_region *region, int err,
			     const char **why)
{
	if (err != -E2BIG) {
		*why = "cannot allocate the region's memory";
		return err;
	}
	pr_warn("region \"%s\": too few 2 MiB folios, more region ops than HSM's SET_MEMSEG can allocate (%lu): refused\n",
		region->spec.name, (unsigned long)IVH_HSM_MAX_OPS);
	*why = "too few 2 MiB folios: HSM's SET_MEMSEG could not map the memory";
	return -ENOMEM;
}

/**
 * ivh_attach_region() - attach a VM to a dm-land region it holds
 * @region:	the region; the caller holds a reference (the peer takes
 *		its own).
 * @vmid:	the VM, which must be a member and not attached yet.
 * @why:	set to the reason on failure.
 *
 * The first attach of the region allocates its memory (zeroed, charged
 * to the memory cgroup of the task that added the region), which the
 * region owns from then on: every later attach gets the same memory,
 * data intact, whether VMs stayed attached meanwhile or not (a VM coming
 * back after a reset). Attaches of a region take turns
 * (ivh_region.alloc_lock): VMs attaching at once allocate the memory
 * once, the others wait for it. An attach that is refused (region
 * removed, VM already attached) is refused before anything is allocated;
 * the memory is allocated with only ivh_region.alloc_lock held (LIST and
 * LOOKUP never wait for it), and the region is checked again before it
 * is installed. Memory whose folios are more region ops than HSM's
 * SET_MEMSEG can allocate (ivh_hsm_fits()) is refused. Used by
 * ivh_attach() and by the filesystem's open, which attaches to the
 * region its inode was looked up as, never to whatever has the name by
 * the time of the open.
 *
 * Context: process context, no lock of the module held; takes
 * ivh_region.alloc_lock (killable), under it ivh_host.lock then
 * ivh_region.lock, twice when it allocates.
 * Return: the new peer with one reference, owned by the caller
 * (ivh_peer_release()), or ERR_PTR(): -ENOENT (the region was removed),
 * -EINVAL (hv-land region), -EACCES (not a member), -EBUSY (already
 * attached), -ENOMEM (also: over the memory cgroup's limit, or too few
 * 2 MiB folios for HSM, logged), -EINTR.
 */
struct ivh_peer *ivh_attach_region(struct ivh_region *region, u32 vmid,
				   const char **why)
{
	unsigned long size = (unsigned long)region->spec.size_mb << 20;
	struct ivh_host *host = region->host;
	struct ivh_mem *mem = NULL;
	struct ivh_peer *peer;
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
	INIT_LIST_HEAD(&peer->db.triggers);

	if (mutex_lock_killable(&region->alloc_lock)) {
		*why = "interrupted while another attach allocated";
		ret = -EINTR;
		goto free_peer;
	}
	ret = ivh_attach_lock(region, vmid, why);
	if (ret)
		goto unlock_alloc;
	if (!region->mem) {
		/* Only this attach can install it: alloc_lock is ours. */
		mutex_unlock(&region->lock);
		mutex_unlock(&host->lock);
		mem = ivh_mem_alloc(host, size, region->memcg);
		if (IS_ERR(mem)) {
			ret = ivh_alloc_refused(region, PTR_ERR(mem), why);
			mem = NULL;
			goto unlock_alloc;
		}
		/* Removed meanwhile? (No attach can have come between.) */
		ret = ivh_attach_lock(region, vmid, why);
		if (ret)
			goto unlock_alloc;
		region->mem = mem;
		mem = NULL;
	}
	peer->mem = region->mem;
	peer->attached = true;
	list_add_tail(&peer->node, &region->peers);
	region->nr_attached++;
	mutex_unlock(&region->lock);
	mutex_unlock(&host->lock);
	mutex_unlock(&region->alloc_lock);
	return peer;

unlock_alloc:
	mutex_unlock(&region->alloc_lock);
	ivh_mem_free(mem);
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

static void ivh_detach_locked(struct ivh_peer *peer)
{
	struct ivh_region *region = peer->region;

	lockdep_assert_held(&region->lock);
	peer->attached = false;
	list_del_init(&peer->node);
	region->nr_attached--;
}

/**
 * ivh_detach() - end a peer's attachment
 * @peer:	the peer; the caller holds a reference.
 *
 * Takes the peer off the region, then ends its vectors and eventfd
 * triggers (a detached peer accepts no new ones, and no ring finds it).
 * The memory stays with the region, data intact, for the next attach;
 * existing mappings stay valid (their file holds the peer).
 *
 * Context: process context; takes ivh_region.lock, then waits for the
 * peer's trigger work items without it.
 * Return: 0, or -ENOTCONN when the peer was already detached.
 */
int ivh_detach(struct ivh_peer *peer)
{
	struct ivh_region *region = peer->region;

	mutex_lock(&region->lock);
	if (!peer->attached) {
		mutex_unlock(&region->lock);
		return -ENOTCONN;
	}
	ivh_detach_locked(peer);
	mutex_unlock(&region->lock);

	ivh_doorbells_teardown(peer);
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
	ivh_detach_locked(peer);
	mutex_unlock(&region->lock);

	ivh_doorbells_teardown(peer);
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

	WARN_ON(peer->attached || !list_empty(&peer->db.triggers));
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

/**
 * ivh_peer_mmap() - map a peer's region memory
 * @peer:	an attached dm-land peer.
 * @vma:	a shared mapping within the region, see ivh_mem_mmap().
 *
 * Context: mmap_lock held for writing; takes ivh_region.lock.
 * Return: 0, -ENOTCONN (the peer was detached) or as ivh_mem_mmap().
 */
int ivh_peer_mmap(struct ivh_peer *peer, struct vm_area_struct *vma)
{
	struct ivh_region *region = peer->region;
	int ret;

	mutex_lock(&region->lock);
	if (peer->attached)
		ret = ivh_mem_mmap(peer->mem, vma);
	else
		ret = -ENOTCONN;
	mutex_unlock(&region->lock);
	return ret;
}
