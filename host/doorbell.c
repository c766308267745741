// SPDX-License-Identifier: GPL-2.0
/*
 * Doorbells for dm-land regions, which ACRN lacks.
 *
 * Every attached peer registers, per vector, an eventfd that a ring
 * signals. A peer living in the Service VM waits on it; for a guest VM,
 * its device model also registers the eventfd with HSM's ACRN_IOCTL_IRQFD
 * together with the MSI its guest programmed for the vector, so HSM
 * injects that MSI into the VM its fd was created for, under the
 * hypervisor's checks. The module issues no hypercall and never chooses
 * a VM to interrupt: only a holder of the target VM's HSM fd can make a
 * ring reach it. A ring (region, source, target, vector) comes from the
 * RING ioctl or from a trigger: an eventfd bound to (target, vector) that
 * the device model hands to HSM's ACRN_IOCTL_IOEVENTFD for the doorbell
 * register, so a guest's doorbell write reaches the module without a trip
 * through userspace (the pattern of HSM's irqfd.c).
 *
 * A trigger's wake-up runs under the eventfd's wait-queue lock with
 * interrupts off, and eventfd_signal() must not nest in it, so it only
 * queues the trigger's work item; the work item routes the ring in
 * process context. A trigger holds a reference on its peer, so neither
 * runs on a freed peer.
 *
 * A peer's doorbell state is its struct ivh_doorbells (vectors, triggers),
 * which ivh_doorbells_teardown() ends when the peer detaches. This file
 * calls registry.c (region look-ups, the region's peer list) and nothing
 * of peer.c: a trigger holds its region, not its peer, and rings as the
 * peer's VM.
 *
 * An eventfd is used either for vectors or for triggers, module-wide
 * (struct ivh_efd): a ring could otherwise signal a trigger that rings
 * again, for ever, without any userspace involved.
 *
 * The hypervisor refuses HC_INJECT_MSI from the Service VM toward a VM of
 * higher severity (a post-launched RTVM), and HSM's irqfd drops the
 * refusal silently. A region's rt_members are such VMs: a ring toward
 * one fails with -EHOSTUNREACH instead of vanishing.
 */

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include <kunit/visibility.h>

#include "../compat.h"
#include "ivshmem_host_drv.h"

/**
 * ivh_region_ring() - deliver one doorbell ring
 * @region:	the region.
 * @src:	ringing VM, must be attached.
 * @dst:	target VM, must be attached.
 * @vector:	the target's vector.
 *
 * Context: process context; takes ivh_region.lock and holds it across
 * eventfd_signal() (which may run HSM's irqfd wake-up, an injection).
 * Return: 0 when delivered, -EINVAL (vector out of range), -ENOTCONN
 * (source or target not attached), -EHOSTUNREACH (the target is one of
 * the region's RT members, which no dm-land doorbell reaches) or -ENXIO
 * (the target has not registered that vector).
 */
int ivh_region_ring(struct ivh_region *region, u32 src, u32 dst, u32 vector)
{
	struct ivh_vector *vec;
	struct ivh_peer *target;
	int ret;

	if (vector >= IVSHMEM_HOST_MAX_VECTORS)
		return -EINVAL;

	mutex_lock(&region->lock);
	target = ivh_peer_find(region, dst);
	if (!ivh_peer_find(region, src) || !target) {
		ret = -ENOTCONN;
		goto unlock;
	}
	/* dst is attached, so a member: at most IVSHMEM_HOST_MAX_VMID. */
	if (region->spec.rt_members & BIT_ULL(dst)) {
		ret = -EHOSTUNREACH;
		goto unlock;
	}
	vec = &target->db.vec[vector];
	if (!vec->eventfd) {
		ret = -ENXIO;
		goto unlock;
	}
	ivshmem_eventfd_signal(vec->eventfd);
	vec->rings++;
	ret = 0;
unlock:
	mutex_unlock(&region->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_region_ring);

/**
 * ivh_ring() - ivh_region_ring() by region name
 * @host:	the registry.
 * @name:	the region's name.
 * @src:	ringing VM.
 * @dst:	target VM.
 * @vector:	the target's vector.
 *
 * Context: process context; takes ivh_host.lock, then ivh_region.lock.
 * Return: -ENOENT without such a region, else as ivh_region_ring().
 */
int ivh_ring(struct ivh_host *host, const char *name, u32 src, u32 dst,
	     u32 vector)
{
	struct ivh_region *region;
	int ret;

	region = ivh_region_get(host, name);
	if (!region)
		return -ENOENT;
	ret = ivh_region_ring(region, src, dst, vector);
	ivh_region_put(region);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_ring);

/**
 * ivh_efd_claim() - record an eventfd as a vector's or a trigger's
 * @host:	the registry.
 * @ctx:	the eventfd.
 * @trigger:	true for a trigger, false for a vector.
 *
 * Context: process context; takes ivh_host.efd_lock (callers hold
 * ivh_region.lock, so the check and the binding are one step).
 * Return: 0, -EINVAL (the eventfd is in use the other way) or -ENOMEM.
 */
int ivh_efd_claim(struct ivh_host *host, struct eventfd_ctx *ctx,
		  bool trigger)
{
	struct ivh_efd *e;
	int ret = 0;

	mutex_lock(&host->efd_lock);
	list_for_each_entry(e, &host->efds, node)
		if (e->ctx == ctx)
			goto found;
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e) {
		ret = -ENOMEM;
		goto unlock;
	}
	e->ctx = ctx;
	list_add(&e->node, &host->efds);
found:
	if (trigger ? e->vectors : e->triggers)
		ret = -EINVAL;
	else if (trigger)
		e->triggers++;
	else
		e->vectors++;
unlock:
	mutex_unlock(&host->efd_lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_efd_claim);

/**
 * ivh_efd_unclaim() - undo one ivh_efd_claim()
 * @host:	the registry.
 * @ctx:	the eventfd, still referenced by the caller.
 * @trigger:	as claimed.
 *
 * Context: process context; takes ivh_host.efd_lock.
 */
void ivh_efd_unclaim(struct ivh_host *host, struct eventfd_ctx *ctx,
		     bool trigger)
{
	struct ivh_efd *e;

	mutex_lock(&host->efd_lock);
	list_for_each_entry(e, &host->efds, node) {
		if (e->ctx != ctx)
			continue;
		if (trigger)
			e->triggers--;
		else
			e->vectors--;
		if (!e->triggers && !e->vectors) {
			list_del(&e->node);
			kfree(e);
		}
		break;
	}
	mutex_unlock(&host->efd_lock);
}
EXPORT_SYMBOL_IF_KUNIT(ivh_efd_unclaim);

/**
 * ivh_set_vector() - register or clear the delivery of a peer's vector
 * @peer:	the peer.
 * @req:	request with the vector in range, checked.
 * @eventfd:	the eventfd of @req->fd, a reference this function takes
 *		over (also on failure); NULL to unregister (fd -1).
 *
 * Context: process context; takes ivh_region.lock, then ivh_host.efd_lock.
 * Return: 0, -EINVAL (the eventfd is bound as a trigger), -ENOTCONN (the
 * peer was detached) or -ENOMEM. On failure nothing changed.
 */
int ivh_set_vector(struct ivh_peer *peer,
		   const struct ivshmem_host_vector *req,
		   struct eventfd_ctx *eventfd)
{
	struct ivh_region *region = peer->region;
	struct ivh_host *host = region->host;
	struct eventfd_ctx *old;
	struct ivh_vector *vec;
	int ret;

	mutex_lock(&region->lock);
	if (!peer->attached) {
		ret = -ENOTCONN;
		goto unlock;
	}
	if (eventfd) {
		ret = ivh_efd_claim(host, eventfd, false);
		if (ret)
			goto unlock;
	}
	vec = &peer->db.vec[req->vector];
	old = vec->eventfd;
	if (old)
		ivh_efd_unclaim(host, old, false);
	vec->eventfd = eventfd;
	mutex_unlock(&region->lock);

	if (old)
		eventfd_ctx_put(old);
	return 0;

unlock:
	mutex_unlock(&region->lock);
	if (eventfd)
		eventfd_ctx_put(eventfd);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_set_vector);

static void ivh_trigger_work(struct work_struct *work)
{
	struct ivh_trigger *trig = container_of(work, struct ivh_trigger, work);

	/* A ring that finds no receiver is dropped, as on the device. */
	ivh_region_ring(trig->region, trig->src, trig->dst, trig->vector);
}

/* Called with the eventfd's wait-queue lock held, interrupts off. */
static int ivh_trigger_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			      int sync, void *key)
{
	struct ivh_trigger *trig = container_of(wait, struct ivh_trigger, wait);
	u64 cnt;

	if (key_to_poll(key) & EPOLLIN) {
		/*
		 * Consume the count (we hold the wait-queue lock it needs):
		 * the eventfd only counts rings not yet seen, and rings that
		 * come before the work item runs merge into one, like
		 * interrupts.
		 */
		eventfd_ctx_do_read(trig->eventfd, &cnt);
		queue_work(trig->region->host->wq, &trig->work);
	}
	return 0;
}

static void ivh_trigger_ptable(struct file *file, wait_queue_head_t *wqh,
			       poll_table *pt)
{
	struct ivh_trigger *trig = container_of(pt, struct ivh_trigger, pt);

	add_wait_queue(wqh, &trig->wait);
}

/*
 * Unhook from the eventfd, wait for the work item, free. The trigger's
 * eventfd was unclaimed when it was taken off its peer's list.
 */
static void ivh_trigger_free(struct ivh_trigger *trig)
{
	struct ivh_region *region = trig->region;
	u64 cnt;

	eventfd_ctx_remove_wait_queue(trig->eventfd, &trig->wait, &cnt);
	cancel_work_sync(&trig->work);
	eventfd_ctx_put(trig->eventfd);
	kfree(trig);
	ivh_region_put(region);
}

/**
 * ivh_trigger_assign() - ring (@dst, @vector) whenever an eventfd fires
 * @peer:	the source peer.
 * @fd:		the eventfd.
 * @dst:	target VM, a member of the region.
 * @vector:	target vector.
 *
 * The binding lasts until ivh_trigger_deassign(),
 * ivh_trigger_deassign_target() or until the peer is detached; closing
 * the eventfd does not end it (HSM's ioeventfd may still hold the eventfd
 * and signal it). The trigger holds a reference on the region and rings
 * as @peer's VM.
 *
 * Context: process context; takes ivh_region.lock, then
 * ivh_host.efd_lock.
 * Return: 0, -EINVAL (vector out of range, @fd is not an eventfd, or it
 * is a vector's eventfd), -EACCES (@dst not a member), -EBADF, -ENOTCONN
 * (peer detached), -ENOSPC (too many triggers), -EBUSY (eventfd already
 * bound to this peer), -ENOMEM.
 */
int ivh_trigger_assign(struct ivh_peer *peer, int fd, u32 dst, u32 vector)
{
	struct ivh_region *region = peer->region;
	struct ivh_trigger *trig, *tmp;
	struct eventfd_ctx *eventfd;
	__poll_t events;
	struct fd f;
	int ret;

	if (vector >= IVSHMEM_HOST_MAX_VECTORS)
		return -EINVAL;
	if (dst > IVSHMEM_HOST_MAX_VMID ||
	    !(region->spec.members & BIT_ULL(dst)))
		return -EACCES;

	trig = kzalloc(sizeof(*trig), GFP_KERNEL);
	if (!trig)
		return -ENOMEM;
	trig->region = region;
	trig->src = peer->vmid;
	trig->dst = dst;
	trig->vector = vector;
	INIT_LIST_HEAD(&trig->node);
	INIT_WORK(&trig->work, ivh_trigger_work);
	init_waitqueue_func_entry(&trig->wait, ivh_trigger_wakeup);
	init_poll_funcptr(&trig->pt, ivh_trigger_ptable);

	f = fdget(fd);
	if (!fd_file(f)) {
		ret = -EBADF;
		goto free_trig;
	}
	eventfd = eventfd_ctx_fileget(fd_file(f));
	if (IS_ERR(eventfd)) {
		ret = -EINVAL;
		goto put_file;
	}
	trig->eventfd = eventfd;

	mutex_lock(&region->lock);
	if (!peer->attached) {
		ret = -ENOTCONN;
		goto unlock;
	}
	if (peer->db.nr_triggers >= IVH_MAX_TRIGGERS) {
		ret = -ENOSPC;
		goto unlock;
	}
	list_for_each_entry(tmp, &peer->db.triggers, node) {
		if (tmp->eventfd == eventfd) {
			ret = -EBUSY;
			goto unlock;
		}
	}
	ret = ivh_efd_claim(region->host, eventfd, true);
	if (ret)
		goto unlock;
	kref_get(&region->ref);
	/* Install our wait entry, then catch a signal that came before. */
	events = vfs_poll(fd_file(f), &trig->pt);
	list_add_tail(&trig->node, &peer->db.triggers);
	peer->db.nr_triggers++;
	if (events & EPOLLIN)
		queue_work(region->host->wq, &trig->work);
	mutex_unlock(&region->lock);
	fdput(f);
	return 0;

unlock:
	mutex_unlock(&region->lock);
	eventfd_ctx_put(eventfd);
put_file:
	fdput(f);
free_trig:
	kfree(trig);
	return ret;
}

/**
 * ivh_trigger_deassign() - remove the trigger bound to an eventfd
 * @peer:	the source peer.
 * @fd:		the eventfd.
 *
 * Context: process context; takes ivh_region.lock, then waits for the
 * trigger's work item without it.
 * Return: 0, -EBADF/-EINVAL (not an eventfd) or -ENOENT (not bound).
 */
int ivh_trigger_deassign(struct ivh_peer *peer, int fd)
{
	struct ivh_region *region = peer->region;
	struct ivh_trigger *trig, *found = NULL;
	struct eventfd_ctx *eventfd;

	eventfd = eventfd_ctx_fdget(fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);

	mutex_lock(&region->lock);
	list_for_each_entry(trig, &peer->db.triggers, node) {
		if (trig->eventfd == eventfd) {
			found = trig;
			list_del_init(&trig->node);
			peer->db.nr_triggers--;
			ivh_efd_unclaim(region->host, trig->eventfd, true);
			break;
		}
	}
	mutex_unlock(&region->lock);
	eventfd_ctx_put(eventfd);

	if (!found)
		return -ENOENT;
	ivh_trigger_free(found);
	return 0;
}

/**
 * ivh_trigger_deassign_target() - remove the triggers ringing a target
 * @peer:	the source peer.
 * @dst:	target VM.
 * @vector:	target vector.
 *
 * For when the eventfd's fd is gone (closed by its owner) but HSM may
 * still signal it.
 *
 * Context: process context; takes ivh_region.lock, then waits for the
 * triggers' work items without it.
 * Return: 0 or -ENOENT (no trigger of @peer rings (@dst, @vector)).
 */
int ivh_trigger_deassign_target(struct ivh_peer *peer, u32 dst, u32 vector)
{
	struct ivh_region *region = peer->region;
	struct ivh_trigger *trig, *tmp;
	LIST_HEAD(gone);

	mutex_lock(&region->lock);
	list_for_each_entry_safe(trig, tmp, &peer->db.triggers, node) {
		if (trig->dst != dst || trig->vector != vector)
			continue;
		list_move(&trig->node, &gone);
		peer->db.nr_triggers--;
		ivh_efd_unclaim(region->host, trig->eventfd, true);
	}
	mutex_unlock(&region->lock);

	if (list_empty(&gone))
		return -ENOENT;
	list_for_each_entry_safe(trig, tmp, &gone, node) {
		list_del(&trig->node);
		ivh_trigger_free(trig);
	}
	return 0;
}

/**
 * ivh_doorbells_teardown() - end a detached peer's doorbells
 * @peer:	the peer, no longer attached (so nothing adds a vector or a
 *		trigger to it any more); the caller holds a reference.
 *
 * The one teardown entry point of a peer's doorbell state: its vectors'
 * eventfds and its triggers are taken out under the region's lock, then
 * released without it (waiting for the triggers' work items, which take
 * it).
 *
 * Context: process context; takes ivh_region.lock, then ivh_host.efd_lock;
 * ivh_region.lock must not be held.
 */
void ivh_doorbells_teardown(struct ivh_peer *peer)
{
	struct eventfd_ctx *eventfds[IVSHMEM_HOST_MAX_VECTORS];
	struct ivh_region *region = peer->region;
	struct ivh_doorbells *db = &peer->db;
	struct ivh_host *host = region->host;
	struct ivh_trigger *trig, *tmp;
	LIST_HEAD(triggers);
	unsigned int i;

	mutex_lock(&region->lock);
	WARN_ON(peer->attached);
	list_for_each_entry(trig, &db->triggers, node)
		ivh_efd_unclaim(host, trig->eventfd, true);
	list_splice_init(&db->triggers, &triggers);
	db->nr_triggers = 0;
	for (i = 0; i < IVSHMEM_HOST_MAX_VECTORS; i++) {
		eventfds[i] = db->vec[i].eventfd;
		if (eventfds[i])
			ivh_efd_unclaim(host, eventfds[i], false);
		memset(&db->vec[i], 0, sizeof(db->vec[i]));
	}
	mutex_unlock(&region->lock);

	list_for_each_entry_safe(trig, tmp, &triggers, node) {
		list_del(&trig->node);
		ivh_trigger_free(trig);
	}
	for (i = 0; i < IVSHMEM_HOST_MAX_VECTORS; i++)
		if (eventfds[i])
			eventfd_ctx_put(eventfds[i]);
}
