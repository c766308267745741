// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: MSI-X vectors, eventfd delivery, waiting and
 * doorbells.
 *
 * Every vector counts its interrupts, signals the eventfds bound to it
 * (one per open file at most) and wakes the device's wait queue. Files
 * that do not use eventfds wait with IVSHMEM_IOCTL_WAIT or poll(); each
 * file remembers the count it consumed up to, so files never steal each
 * other's interrupts.
 *
 * Interrupt support is detected from the MSI-X capability only: QEMU's
 * ivshmem-plain and ACRN's dm-land devices have none. IVPosition says
 * nothing about it (peer 0 is a real peer). Revision-0 INTx interrupts
 * are not supported.
 *
 * Locking: irq_lock protects the binding lists and is taken by the
 * interrupt handler, so process context takes it with interrupts off.
 * It nests outside the eventfd's own lock (eventfd_signal()). A file's
 * seen_lock is a leaf, never taken in interrupt context.
 */
#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/ktime.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "compat.h"
#include "ivshmem_drv.h"
#include "util.h"

/**
 * struct ivshmem_binding - an eventfd bound to a vector by an open file
 * @node:	entry in ivshmem_vector.bindings.
 * @owner:	the file that made the binding.
 * @ctx:	the eventfd, referenced.
 */
struct ivshmem_binding {
	struct list_head node;
	struct ivshmem_file *owner;
	struct eventfd_ctx *ctx;
};

static irqreturn_t ivshmem_vector_irq(int irq, void *data)
{
	struct ivshmem_vector *vec = data;
	struct ivshmem_dev *idev = vec->idev;
	struct ivshmem_binding *b;

	atomic64_inc(&vec->count);
	spin_lock(&idev->irq_lock);
	list_for_each_entry(b, &vec->bindings, node)
		ivshmem_eventfd_signal(b->ctx);
	spin_unlock(&idev->irq_lock);
	wake_up_all(&idev->wq);
	return IRQ_HANDLED;
}

/**
 * ivshmem_irq_init() - initialise the interrupt state of a new device
 * @idev: the device
 *
 * Context: process context.
 */
void ivshmem_irq_init(struct ivshmem_dev *idev)
{
	int i;

	spin_lock_init(&idev->irq_lock);
	init_waitqueue_head(&idev->wq);
	for (i = 0; i < IVSHMEM_MAX_VECTORS; i++) {
		idev->vec[i].idev = idev;
		INIT_LIST_HEAD(&idev->vec[i].bindings);
		atomic64_set(&idev->vec[i].count, 0);
	}
}

/**
 * ivshmem_irq_setup() - enable MSI-X and request every vector
 * @idev: the device, BARs mapped, not yet visible to userspace
 *
 * Uses all the device's vectors up to IVSHMEM_MAX_VECTORS, or as many as
 * the platform grants. A device without MSI-X is fine: it works without
 * interrupts and @idev->vectors stays 0; so does one whose vectors cannot
 * be had (pci=nomsi, vectors exhausted), with a warning. Bus mastering is
 * turned on: MSI-X messages are DMA writes, and QEMU drops them silently
 * without it.
 *
 * Context: process context, may sleep.
 */
void ivshmem_irq_setup(struct ivshmem_dev *idev)
{
	struct pci_dev *pdev = idev->pdev;
	int i, n, ret;

	n = pci_msix_vec_count(pdev);
	if (n <= 0)
		return;
	n = min(n, IVSHMEM_MAX_VECTORS);

	n = pci_alloc_irq_vectors(pdev, 1, n, PCI_IRQ_MSIX);
	if (n < 0) {
		ret = n;
		goto warn;
	}
	pci_set_master(pdev);

	for (i = 0; i < n; i++) {
		struct ivshmem_vector *vec = &idev->vec[i];

		snprintf(vec->name, sizeof(vec->name), "%s-vec%d",
			 dev_name(&idev->dev), i);
		vec->irq = pci_irq_vector(pdev, i);
		ret = request_irq(vec->irq, ivshmem_vector_irq, 0, vec->name,
				  vec);
		if (ret)
			goto free_irqs;
	}
	idev->vectors = n;
	return;

free_irqs:
	while (--i >= 0)
		free_irq(idev->vec[i].irq, &idev->vec[i]);
	pci_clear_master(pdev);
	pci_free_irq_vectors(pdev);
warn:
	dev_warn(&pdev->dev, "no MSI-X (%d): working without interrupts\n",
		 ret);
}

/**
 * ivshmem_irq_teardown() - release the vectors and wake every waiter
 * @idev: the device, already marked dead with SRCU readers drained
 *
 * Bindings stay until their files close; with the vectors freed nothing
 * signals them any more.
 *
 * Context: process context, may sleep.
 */
void ivshmem_irq_teardown(struct ivshmem_dev *idev)
{
	int i;

	for (i = 0; i < idev->vectors; i++)
		free_irq(idev->vec[i].irq, &idev->vec[i]);
	if (idev->vectors) {
		pci_clear_master(idev->pdev);
		pci_free_irq_vectors(idev->pdev);
	}
	/* Waiters sleep outside SRCU: wake them to see the device gone. */
	wake_up_all(&idev->wq);
}

/**
 * ivshmem_irq_counts() - snapshot the per-vector interrupt counts
 * @idev: the device
 * @count: IVSHMEM_MAX_VECTORS entries to fill
 *
 * Context: any.
 */
void ivshmem_irq_counts(struct ivshmem_dev *idev, u64 *count)
{
	int i;

	for (i = 0; i < IVSHMEM_MAX_VECTORS; i++)
		count[i] = atomic64_read(&idev->vec[i].count);
}

static struct ivshmem_binding *
ivshmem_find_binding(struct ivshmem_vector *vec, struct ivshmem_file *ifile)
{
	struct ivshmem_binding *b;

	list_for_each_entry(b, &vec->bindings, node)
		if (b->owner == ifile)
			return b;
	return NULL;
}

/**
 * ivshmem_set_eventfd() - bind or unbind an eventfd for a file and vector
 * @ifile: the file making the binding
 * @req: the request from userspace
 *
 * Binding replaces the file's previous eventfd for that vector;
 * IVSHMEM_EVENTFD_NONE removes it (and succeeds if there was none). On
 * error nothing changes.
 *
 * Context: process context; the device is alive (caller in SRCU). Takes
 * irq_lock.
 * Return: 0; EINVAL for a bad vector, flags or reserved field or a file
 * that is not an eventfd; EBADF for a closed fd; EOPNOTSUPP without MSI-X;
 * ENOSPC when IVSHMEM_MAX_BINDINGS eventfds are bound to the vector.
 */
int ivshmem_set_eventfd(struct ivshmem_file *ifile,
			const struct ivshmem_eventfd *req)
{
	struct ivshmem_dev *idev = ifile->idev;
	struct ivshmem_binding *b, *nb = NULL;
	struct eventfd_ctx *ctx = NULL, *old = NULL;
	struct ivshmem_vector *vec;
	unsigned long flags;
	int ret = 0;

	if (req->flags || req->reserved)
		return -EINVAL;
	if (!idev->vectors)
		return -EOPNOTSUPP;
	if (req->vector >= idev->vectors)
		return -EINVAL;
	vec = &idev->vec[req->vector];

	if (req->fd != IVSHMEM_EVENTFD_NONE) {
		if (req->fd > INT_MAX)
			return -EBADF;
		ctx = eventfd_ctx_fdget(req->fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		nb = kzalloc(sizeof(*nb), GFP_KERNEL);
		if (!nb) {
			eventfd_ctx_put(ctx);
			return -ENOMEM;
		}
		nb->owner = ifile;
		nb->ctx = ctx;
	}

	spin_lock_irqsave(&idev->irq_lock, flags);
	b = ivshmem_find_binding(vec, ifile);
	if (b && ctx) {
		old = b->ctx;
		b->ctx = ctx;
	} else if (b) {
		old = b->ctx;
		list_del(&b->node);
		vec->nr_bindings--;
	} else if (ctx && vec->nr_bindings < IVSHMEM_MAX_BINDINGS) {
		list_add_tail(&nb->node, &vec->bindings);
		vec->nr_bindings++;
		nb = NULL;
	} else if (ctx) {
		ret = -ENOSPC;
		old = ctx;
	}
	spin_unlock_irqrestore(&idev->irq_lock, flags);

	if (old)
		eventfd_ctx_put(old);
	if (b && !ctx)
		kfree(b);
	kfree(nb);
	return ret;
}

/**
 * ivshmem_file_unbind_all() - drop every binding a file made
 * @ifile: the file being released
 *
 * Context: process context; takes irq_lock.
 */
void ivshmem_file_unbind_all(struct ivshmem_file *ifile)
{
	struct ivshmem_dev *idev = ifile->idev;
	struct ivshmem_binding *b, *tmp;
	unsigned long flags;
	LIST_HEAD(dead);
	int i;

	spin_lock_irqsave(&idev->irq_lock, flags);
	for (i = 0; i < IVSHMEM_MAX_VECTORS; i++) {
		struct ivshmem_vector *vec = &idev->vec[i];

		list_for_each_entry_safe(b, tmp, &vec->bindings, node) {
			if (b->owner == ifile) {
				list_move(&b->node, &dead);
				vec->nr_bindings--;
			}
		}
	}
	spin_unlock_irqrestore(&idev->irq_lock, flags);

	list_for_each_entry_safe(b, tmp, &dead, node) {
		eventfd_ctx_put(b->ctx);
		kfree(b);
	}
}

/**
 * ivshmem_ring() - ring a peer's doorbell
 * @idev: the device
 * @req: the request from userspace
 *
 * Context: the device is alive (caller in SRCU).
 * Return: 0; EINVAL for a bad peer, vector, flags or reserved field;
 * EOPNOTSUPP for a device without doorbell (no MSI-X).
 */
int ivshmem_ring(struct ivshmem_dev *idev, const struct ivshmem_ring *req)
{
	u32 val;
	int ret;

	ret = ivshmem_doorbell_value(req, &val);
	if (ret)
		return ret;
	if (!idev->vectors)
		return -EOPNOTSUPP;
	writel(val, idev->regs + IVSHMEM_REG_DOORBELL);
	return 0;
}

static u32 ivshmem_take_fired(struct ivshmem_file *ifile, u32 mask)
{
	u64 count[IVSHMEM_MAX_VECTORS];
	u32 fired;
	int i;

	ivshmem_irq_counts(ifile->idev, count);
	spin_lock(&ifile->seen_lock);
	fired = ivshmem_fired(count, ifile->seen, mask);
	for (i = 0; i < IVSHMEM_MAX_VECTORS; i++)
		if (fired & BIT(i))
			ifile->seen[i] = count[i];
	spin_unlock(&ifile->seen_lock);
	return fired;
}

/* Vectors in @mask with interrupts @ifile has not consumed; takes seen_lock. */
static u32 ivshmem_peek_fired(struct ivshmem_file *ifile, u32 mask)
{
	u64 count[IVSHMEM_MAX_VECTORS];
	u32 fired;

	ivshmem_irq_counts(ifile->idev, count);
	spin_lock(&ifile->seen_lock);
	fired = ivshmem_fired(count, ifile->seen, mask);
	spin_unlock(&ifile->seen_lock);
	return fired;
}

static bool ivshmem_wait_done(struct ivshmem_file *ifile, u32 mask)
{
	return !READ_ONCE(ifile->idev->alive) ||
	       ivshmem_peek_fired(ifile, mask);
}

/**
 * ivshmem_wait() - wait until one of a set of vectors fires
 * @ifile: the waiting file
 * @req: the request; @req->fired is set on success
 *
 * Must be called outside SRCU: it may sleep for as long as userspace
 * asks, and removal wakes it rather than waiting for it. Threads waiting
 * on one file share its consumed counts; a thread woken for an interrupt
 * another thread consumed first waits again for the time left.
 *
 * Context: process context, sleeps; no lock held.
 * Return: 0 with @req->fired set; EINVAL for a bad mask, flags or reserved
 * field; EOPNOTSUPP without MSI-X; EAGAIN (timeout 0) or ETIMEDOUT when
 * nothing fired; EINTR on a signal; ENODEV once the device is removed.
 */
int ivshmem_wait(struct ivshmem_file *ifile, struct ivshmem_wait *req)
{
	struct ivshmem_dev *idev = ifile->idev;
	bool forever = req->timeout_ns == IVSHMEM_WAIT_FOREVER;
	u32 mask = req->mask;
	ktime_t deadline = 0;
	long ret;

	if (req->flags || req->reserved)
		return -EINVAL;
	if (!idev->vectors)
		return -EOPNOTSUPP;
	if (!ivshmem_vector_mask_ok(mask, idev->vectors))
		return -EINVAL;
	if (!forever && req->timeout_ns)
		deadline = ktime_add_safe(ktime_get(),
					  ns_to_ktime(min_t(u64, req->timeout_ns,
							    KTIME_MAX)));

	for (;;) {
		if (!READ_ONCE(idev->alive))
			return -ENODEV;
		req->fired = ivshmem_take_fired(ifile, mask);
		if (req->fired)
			return 0;
		if (!req->timeout_ns)
			return -EAGAIN;

		if (forever) {
			ret = wait_event_interruptible(idev->wq,
						       ivshmem_wait_done(ifile, mask));
		} else {
			ktime_t left = ktime_sub(deadline, ktime_get());

			if (left <= 0)
				return -ETIMEDOUT;
			ret = wait_event_interruptible_hrtimeout(idev->wq,
								 ivshmem_wait_done(ifile, mask),
								 left);
		}
		if (ret == -ERESTARTSYS) {
			req->fired = ivshmem_take_fired(ifile, mask);
			return req->fired ? 0 : -EINTR;
		}
	}
}

/**
 * ivshmem_poll_events() - poll() readiness of a file
 * @ifile: the file
 *
 * Context: any; the caller has added itself to the wait queue.
 * Return: EPOLLIN | EPOLLRDNORM while a vector has unconsumed interrupts,
 * EPOLLHUP | EPOLLERR once the device is gone, else 0.
 */
__poll_t ivshmem_poll_events(struct ivshmem_file *ifile)
{
	struct ivshmem_dev *idev = ifile->idev;

	if (!READ_ONCE(idev->alive))
		return EPOLLHUP | EPOLLERR;
	if (!idev->vectors)
		return 0;
	if (ivshmem_peek_fired(ifile, GENMASK(idev->vectors - 1, 0)))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}
