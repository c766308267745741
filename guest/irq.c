// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: MSI-X vectors, eventfd delivery, waiting and
 * doorbells.
 *
 * Every vector signals the eventfds bound to it (one per open file at
 * most), then counts the interrupt and wakes the device's wait queue: a
 * program that sees the count raised has seen every eventfd signal of
 * that interrupt. Files that do not use eventfds wait with
 * IVSHMEM_IOCTL_WAIT or poll(); each file remembers the count it
 * consumed up to, so files never steal each other's interrupts.
 *
 * Hard-IRQ work is bounded: the handler signals at most
 * IVSHMEM_IRQ_DIRECT eventfds itself. A vector with more bindings hands
 * the interrupt to its interrupt thread, which signals all of them. No
 * limit is shared between files (one file has one binding per vector),
 * so no file can use up a vector for the others; the bindings' memory is
 * charged to the memory cgroup of whoever made them.
 *
 * Interrupt support is detected from the MSI-X capability only: QEMU's
 * ivshmem-plain and ACRN's dm-land devices have none. IVPosition says
 * nothing about it (peer 0 is a real peer). Ringing needs only the
 * capability (the Doorbell register is in BAR0); receiving needs vectors,
 * and works on those that could be had when some could not. Revision-0
 * INTx interrupts are not supported.
 *
 * Locking: bind_lock (a mutex) serialises binding changes with the
 * interrupt threads, which signal under it, and protects each file's
 * bind[] table, through which a file finds its own bindings. irq_lock
 * protects the binding lists against the interrupt handler, so process
 * context takes it with interrupts off, and only for O(1) work: one
 * list_add(), list_del() or eventfd swap, never a walk of a list. Lists
 * change only under both. Order: bind_lock, then irq_lock, then the
 * eventfd's own lock (eventfd_signal()). A file's seen_lock is a leaf,
 * never taken in interrupt context; the counts are read under it, so
 * that two threads of one file never both consume one interrupt.
 *
 * The number of vectors changes only through sysfs max_vectors, under
 * vec_lock and while no file is open: no binding, WAIT or poll() can then
 * be using a vector. vec_lock is taken by open and release (to count the
 * open files), by that store and by the memtype store (guest/pci.c); it
 * nests outside bind_lock (release takes it first), and free_irq() under
 * it waits for interrupt threads, which take only bind_lock. The sysfs
 * files that show vectors and rx_mask read them without a lock
 * (READ_ONCE), as the store writes them (WRITE_ONCE).
 */
#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/ktime.h>
#include <linux/nsproxy.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/time_namespace.h>

#include "compat.h"
#include "ivshmem_drv.h"
#include "util.h"

/**
 * struct ivshmem_binding - an eventfd bound to a vector by an open file
 * @node:	entry in ivshmem_vector.bindings.
 * @ctx:	the eventfd, referenced.
 *
 * Found by its file through ivshmem_file.bind[vector].
 */
struct ivshmem_binding {
	struct list_head node;
	struct eventfd_ctx *ctx;
};

/* Count @n delivered interrupts of @vec and wake WAIT and poll(). */
static void ivshmem_vector_delivered(struct ivshmem_vector *vec, int n)
{
	/* The eventfd signals above come first: see the top of the file. */
	smp_mb__before_atomic();
	atomic64_add(n, &vec->count);
	wake_up_all(&vec->idev->wq);
}

/*
 * The interrupt handler: signals up to IVSHMEM_IRQ_DIRECT eventfds, or
 * leaves a vector with more to its thread.
 */
static irqreturn_t ivshmem_vector_irq(int irq, void *data)
{
	struct ivshmem_vector *vec = data;
	struct ivshmem_dev *idev = vec->idev;
	struct ivshmem_binding *b;

	spin_lock(&idev->irq_lock);
	/* An auxiliary device's driver (guest/aux.c); it has no bindings. */
	if (idev->aux_handler)
		idev->aux_handler(idev->aux_data, vec - idev->vec);
	if (vec->nr_bindings > IVSHMEM_IRQ_DIRECT) {
		spin_unlock(&idev->irq_lock);
		atomic_inc(&vec->pending);
		return IRQ_WAKE_THREAD;
	}
	list_for_each_entry(b, &vec->bindings, node)
		ivshmem_eventfd_signal(b->ctx);
	spin_unlock(&idev->irq_lock);
	ivshmem_vector_delivered(vec, 1);
	return IRQ_HANDLED;
}

/*
 * The interrupt thread: signals every eventfd once per interrupt the
 * handler left it, rescheduling as it goes (see
 * ivshmem_eventfd_signal_n()). Runs under bind_lock, so binders wait,
 * the handler does not.
 */
static irqreturn_t ivshmem_vector_thread(int irq, void *data)
{
	struct ivshmem_vector *vec = data;
	struct ivshmem_dev *idev = vec->idev;
	struct ivshmem_binding *b;
	int n;

	n = atomic_xchg(&vec->pending, 0);
	if (!n)
		return IRQ_HANDLED;
	mutex_lock(&idev->bind_lock);
	list_for_each_entry(b, &vec->bindings, node) {
		ivshmem_eventfd_signal_n(b->ctx, n);
		cond_resched();
	}
	mutex_unlock(&idev->bind_lock);
	ivshmem_vector_delivered(vec, n);
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

	mutex_init(&idev->bind_lock);
	spin_lock_init(&idev->irq_lock);
	mutex_init(&idev->vec_lock);
	idev->max_vectors = IVSHMEM_MAX_VECTORS;
	init_waitqueue_head(&idev->wq);
	for (i = 0; i < IVSHMEM_MAX_VECTORS; i++) {
		idev->vec[i].idev = idev;
		INIT_LIST_HEAD(&idev->vec[i].bindings);
		atomic64_set(&idev->vec[i].count, 0);
		atomic_set(&idev->vec[i].pending, 0);
	}
}

/**
 * ivshmem_irq_setup() - enable MSI-X and request every vector
 * @idev: the device, BARs mapped; not yet visible to userspace, or with
 *	no file open and vec_lock held
 *
 * The doorbell works whenever the device has an MSI-X capability, with
 * or without vectors here. Asks for all the device's vectors up to
 * @idev->max_vectors and keeps what the platform grants; a vector whose
 * handler cannot be installed is left out of @idev->rx_mask, the others
 * stay. A device without vectors (pci=nomsi, vectors exhausted) still
 * rings, and says so in the log. Bus mastering is turned on with
 * vectors: MSI-X messages are DMA writes, and QEMU drops them silently
 * without it.
 *
 * Context: process context, may sleep.
 * Return: true if at least one vector receives.
 */
bool ivshmem_irq_setup(struct ivshmem_dev *idev)
{
	struct pci_dev *pdev = idev->pdev;
	int i, n, have, want, ret;
	u32 rx_mask = 0;

	idev->can_ring = pci_find_capability(pdev, PCI_CAP_ID_MSIX) != 0;
	if (!idev->can_ring)
		return false;
	have = pci_msix_vec_count(pdev);
	/* max_vectors is 1-8: ivshmem_irq_set_max_vectors() checks it. */
	want = clamp_t(int, have, 0, idev->max_vectors);
	ret = -ENOSPC;
	n = want ? pci_alloc_irq_vectors(pdev, 1, want, PCI_IRQ_MSIX) : ret;
	if (n < 0) {
		dev_warn(&pdev->dev, "no MSI-X vectors (%d): can ring peers, cannot receive\n",
			 n);
		return false;
	}
	pci_set_master(pdev);

	for (i = 0; i < n; i++) {
		struct ivshmem_vector *vec = &idev->vec[i];

		snprintf(vec->name, sizeof(vec->name), "%s-vec%d",
			 dev_name(&idev->dev), i);
		vec->irq = pci_irq_vector(pdev, i);
		ret = request_threaded_irq(vec->irq, ivshmem_vector_irq,
					   ivshmem_vector_thread, 0, vec->name,
					   vec);
		if (ret) {
			dev_warn(&pdev->dev, "vector %d: no interrupt handler (%d): it does not receive\n",
				 i, ret);
			continue;
		}
		vec->requested = true;
		rx_mask |= BIT(i);
	}
	if (n < have)
		dev_info(&pdev->dev, "using %d of the device's %d MSI-X vectors\n",
			 n, have);
	if (!rx_mask) {
		pci_clear_master(pdev);
		pci_free_irq_vectors(pdev);
		return false;
	}
	WRITE_ONCE(idev->vectors, n);
	WRITE_ONCE(idev->rx_mask, rx_mask);
	return true;
}

/**
 * ivshmem_irq_teardown() - release the vectors and wake every waiter
 * @idev: the device, already marked dead with SRCU readers drained, or
 *	with no file open and vec_lock held
 *
 * Bindings stay until their files close; with the vectors freed (which
 * waits for running handlers and threads) nothing signals them any more.
 *
 * Context: process context, may sleep.
 */
void ivshmem_irq_teardown(struct ivshmem_dev *idev)
{
	int i;

	for (i = 0; i < idev->vectors; i++) {
		if (idev->vec[i].requested)
			free_irq(idev->vec[i].irq, &idev->vec[i]);
		idev->vec[i].requested = false;
	}
	if (idev->vectors) {
		pci_clear_master(idev->pdev);
		pci_free_irq_vectors(idev->pdev);
	}
	WRITE_ONCE(idev->vectors, 0);
	WRITE_ONCE(idev->rx_mask, 0);
	/* Waiters sleep outside SRCU: wake them to see the device gone. */
	wake_up_all(&idev->wq);
}

/**
 * ivshmem_irq_set_max_vectors() - change how many vectors a device uses
 * @idev: the device, bound (sysfs keeps it so while the store runs)
 * @max: the new limit, 1 to IVSHMEM_MAX_VECTORS
 *
 * Releases the vectors and asks again with @max. If no vector receives
 * with the new limit, asks again with the old one and fails: the device
 * is as it was before, as far as the platform grants the vectors again.
 * Emits a change uevent once the vectors were set up again, for udev
 * rules and listeners that read vectors and rx_mask.
 *
 * Context: process context, may sleep; takes vec_lock.
 * Return: 0; -EINVAL for @max out of range; -EBUSY while a file of the
 * device is open (its bindings, waits and poll() use the vectors);
 * -EOPNOTSUPP for a device without MSI-X capability; -ENOSPC when no
 * vector could be had with @max.
 */
int ivshmem_irq_set_max_vectors(struct ivshmem_dev *idev, u32 max)
{
	u32 old;
	int ret = 0;

	if (!max || max > IVSHMEM_MAX_VECTORS)
		return -EINVAL;
	mutex_lock(&idev->vec_lock);
	if (idev->nr_files) {
		ret = -EBUSY;
		goto unlock;
	}
	if (!idev->can_ring) {
		ret = -EOPNOTSUPP;
		goto unlock;
	}
	old = idev->max_vectors;
	if (max == old)
		goto unlock;
	ivshmem_irq_teardown(idev);
	WRITE_ONCE(idev->max_vectors, max);
	if (!ivshmem_irq_setup(idev)) {
		WRITE_ONCE(idev->max_vectors, old);
		ivshmem_irq_setup(idev);
		ret = -ENOSPC;
	}
	kobject_uevent(&idev->dev.kobj, KOBJ_CHANGE);
unlock:
	mutex_unlock(&idev->vec_lock);
	return ret;
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

/**
 * ivshmem_set_eventfd() - bind or unbind an eventfd for a file and vector
 * @ifile: the file making the binding
 * @req: the request from userspace
 *
 * Binding replaces the file's previous eventfd for that vector (one
 * binding per file and vector is the per-file limit; none is shared
 * between files); fd -1 removes it (and succeeds if there was none). On error nothing changes.
 *
 * The file's binding is found in its bind[] table under bind_lock;
 * irq_lock is held only for one list_add(), list_del() or eventfd swap.
 *
 * Context: process context; the device is alive (caller in SRCU). Takes
 * bind_lock, then irq_lock.
 * Return: 0; EINVAL for a bad vector, flags or reserved field, an fd below
 * -1 or a file that is not an eventfd; EBADF for a closed fd; EOPNOTSUPP
 * when no vector receives; ENOMEM.
 */
int ivshmem_set_eventfd(struct ivshmem_file *ifile,
			const struct ivshmem_eventfd *req)
{
	struct ivshmem_dev *idev = ifile->idev;
	struct ivshmem_binding *b, *nb = NULL;
	struct eventfd_ctx *ctx = NULL, *old = NULL;
	struct ivshmem_vector *vec;
	unsigned long flags;

	if (req->flags || req->reserved || req->fd < -1)
		return -EINVAL;
	if (!idev->rx_mask)
		return -EOPNOTSUPP;
	if (req->vector >= IVSHMEM_MAX_VECTORS ||
	    !(idev->rx_mask & BIT(req->vector)))
		return -EINVAL;
	vec = &idev->vec[req->vector];

	if (req->fd != -1) {
		ctx = eventfd_ctx_fdget(req->fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		nb = kzalloc(sizeof(*nb), GFP_KERNEL_ACCOUNT);
		if (!nb) {
			eventfd_ctx_put(ctx);
			return -ENOMEM;
		}
		nb->ctx = ctx;
	}

	/* Lock order: bind_lock, then irq_lock. */
	mutex_lock(&idev->bind_lock);
	b = ifile->bind[req->vector];
	if (b || ctx) {
		spin_lock_irqsave(&idev->irq_lock, flags);
		if (b && ctx) {
			old = b->ctx;
			b->ctx = ctx;
		} else if (b) {
			old = b->ctx;
			list_del(&b->node);
			vec->nr_bindings--;
		} else {
			list_add_tail(&nb->node, &vec->bindings);
			vec->nr_bindings++;
		}
		spin_unlock_irqrestore(&idev->irq_lock, flags);
	}
	if (b && !ctx) {
		ifile->bind[req->vector] = NULL;
	} else if (!b && ctx) {
		ifile->bind[req->vector] = nb;
		nb = NULL;
	}
	mutex_unlock(&idev->bind_lock);

	if (old)
		eventfd_ctx_put(old);
	if (b && !ctx)
		kfree(b);
	kfree(nb);
	return 0;
}

/**
 * ivshmem_file_unbind_all() - drop every binding a file made
 * @ifile: the file being released
 *
 * At most IVSHMEM_MAX_VECTORS deletions, each O(1) under irq_lock,
 * however many other files have bindings. The file no longer counts as
 * open: the vectors may change once no other is.
 *
 * Context: process context; takes vec_lock, then bind_lock, then
 * irq_lock.
 */
void ivshmem_file_unbind_all(struct ivshmem_file *ifile)
{
	struct ivshmem_binding *dead[IVSHMEM_MAX_VECTORS];
	struct ivshmem_dev *idev = ifile->idev;
	unsigned long flags;
	int i;

	mutex_lock(&idev->vec_lock);
	idev->nr_files--;
	mutex_unlock(&idev->vec_lock);

	mutex_lock(&idev->bind_lock);
	for (i = 0; i < IVSHMEM_MAX_VECTORS; i++) {
		dead[i] = ifile->bind[i];
		ifile->bind[i] = NULL;
		if (!dead[i])
			continue;
		spin_lock_irqsave(&idev->irq_lock, flags);
		list_del(&dead[i]->node);
		idev->vec[i].nr_bindings--;
		spin_unlock_irqrestore(&idev->irq_lock, flags);
	}
	mutex_unlock(&idev->bind_lock);

	for (i = 0; i < IVSHMEM_MAX_VECTORS; i++) {
		if (!dead[i])
			continue;
		eventfd_ctx_put(dead[i]->ctx);
		kfree(dead[i]);
	}
}

/**
 * ivshmem_ring() - ring a peer's doorbell
 * @idev: the device
 * @req: the request from userspace
 *
 * Needs only the MSI-X capability, not a local vector: the Doorbell
 * register is in BAR0.
 *
 * Context: the device is alive (caller in SRCU).
 * Return: 0; EINVAL for a bad peer, vector, flags or reserved field;
 * EOPNOTSUPP for a device without doorbell (no MSI-X capability).
 */
int ivshmem_ring(struct ivshmem_dev *idev, const struct ivshmem_ring *req)
{
	u32 val;
	int ret;

	ret = ivshmem_doorbell_value(req, &val);
	if (ret)
		return ret;
	if (!idev->can_ring)
		return -EOPNOTSUPP;
	writel(val, idev->regs + IVSHMEM_REG_DOORBELL);
	return 0;
}

/**
 * ivshmem_file_seen_init() - start a new file's view at the current counts
 * @ifile: the file being opened
 *
 * Counts the file as open: the vectors do not change while it is.
 *
 * Context: process context; the device is alive. Takes vec_lock.
 */
void ivshmem_file_seen_init(struct ivshmem_file *ifile)
{
	struct ivshmem_dev *idev = ifile->idev;

	mutex_lock(&idev->vec_lock);
	idev->nr_files++;
	mutex_unlock(&idev->vec_lock);
	spin_lock_init(&ifile->seen_lock);
	ivshmem_irq_counts(idev, ifile->seen);
}

/*
 * Vectors in @mask with interrupts @ifile has not consumed; consumes them
 * when @take. The counts are read under seen_lock: with the snapshot
 * taken outside, a thread holding an old snapshot would report (and
 * un-consume) an interrupt another thread of the file just consumed.
 */
static u32 ivshmem_check_fired(struct ivshmem_file *ifile, u32 mask,
			       bool take)
{
	u64 count[IVSHMEM_MAX_VECTORS];
	u32 fired;

	spin_lock(&ifile->seen_lock);
	ivshmem_irq_counts(ifile->idev, count);
	if (take)
		fired = ivshmem_consume(count, ifile->seen, mask);
	else
		fired = ivshmem_fired(count, ifile->seen, mask);
	spin_unlock(&ifile->seen_lock);
	return fired;
}

static bool ivshmem_wait_done(struct ivshmem_file *ifile, u32 mask)
{
	return !READ_ONCE(ifile->idev->alive) ||
	       ivshmem_check_fired(ifile, mask, false);
}

/*
 * The monotonic offset of the caller's time namespace: userspace
 * CLOCK_MONOTONIC there is ktime_get() plus it. Read from current's own
 * namespace, which cannot change under it; the offsets are frozen once a
 * task has joined the namespace.
 */
static s64 ivshmem_timens_offset(void)
{
	if (!IS_ENABLED(CONFIG_TIME_NS))
		return 0;
	return timespec64_to_ktime(current->nsproxy->time_ns->offsets.monotonic);
}

/**
 * ivshmem_wait_check() - whether a wait request can be waited on
 * @idev: the device
 * @req: the request as copied from userspace
 *
 * Everything ivshmem_wait() refuses before it waits, checked without
 * consuming anything, so that the caller can refuse bad input before it
 * writes to userspace.
 *
 * Context: any; no lock needed.
 * Return: 0, or ENODEV once the device is removed; EINVAL for a bad
 * mask, flags, reserved field or a deadline above KTIME_MAX other than
 * IVSHMEM_WAIT_FOREVER; EOPNOTSUPP when no vector receives.
 */
int ivshmem_wait_check(struct ivshmem_dev *idev,
		       const struct ivshmem_wait *req)
{
	if (!READ_ONCE(idev->alive))
		return -ENODEV;
	/* A deadline must be a ktime_t; above it only the "no limit" value. */
	if (req->flags || req->reserved ||
	    (req->deadline_ns != IVSHMEM_WAIT_FOREVER &&
	     req->deadline_ns > KTIME_MAX))
		return -EINVAL;
	if (!idev->rx_mask)
		return -EOPNOTSUPP;
	if (!ivshmem_rx_mask_ok(req->mask, idev->rx_mask))
		return -EINVAL;
	return 0;
}

/**
 * ivshmem_wait() - wait until one of a set of vectors fires
 * @ifile: the waiting file
 * @req: the request as copied from userspace; @req->fired is set on
 *	success, nothing else is changed
 *
 * Must be called outside SRCU: it may sleep for as long as userspace
 * asks, and removal wakes it rather than waiting for it. Threads waiting
 * on one file share its consumed counts; a thread woken for an interrupt
 * another thread consumed first waits again until the deadline.
 *
 * The deadline is absolute (CLOCK_MONOTONIC as the caller reads it), so
 * a signal ends the wait with -ERESTARTSYS and nothing to remember: the
 * kernel restarts the call when no handler ran or the handler has
 * SA_RESTART, and the restarted call converts the same deadline again.
 * After a handler without SA_RESTART the caller gets EINTR.
 *
 * Context: process context, sleeps; no lock held. Takes seen_lock.
 * Return: 0 with @req->fired set; what ivshmem_wait_check() refuses;
 * ETIMEDOUT when nothing fired by the deadline; ERESTARTSYS on a signal;
 * ENODEV once the device is removed.
 */
int ivshmem_wait(struct ivshmem_file *ifile, struct ivshmem_wait *req)
{
	struct ivshmem_dev *idev = ifile->idev;
	bool forever = req->deadline_ns == IVSHMEM_WAIT_FOREVER;
	u32 mask = req->mask;
	ktime_t deadline = 0;
	long ret;

	ret = ivshmem_wait_check(idev, req);
	if (ret)
		return ret;
	if (!forever)
		deadline = ivshmem_abs_to_host(req->deadline_ns,
					       ivshmem_timens_offset());

	for (;;) {
		if (!READ_ONCE(idev->alive))
			return -ENODEV;
		req->fired = ivshmem_check_fired(ifile, mask, true);
		if (req->fired)
			return 0;

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
			/* An interrupt that came with the signal is reported. */
			req->fired = ivshmem_check_fired(ifile, mask, true);
			return req->fired ? 0 : -ERESTARTSYS;
		}
	}
}

/**
 * ivshmem_set_seen() - set the counts a file has consumed up to
 * @ifile: the file
 * @req: the request from userspace
 *
 * Lets a program see interrupts from before it opened the file (counts
 * 0: since the device was bound) or from a point it chose (counts of an
 * earlier IVSHMEM_IOCTL_INFO). A count above the vector's current one
 * (saved before an unbind and rebind reset the counts, say) is refused:
 * it would silence the file for that many interrupts. The counts are
 * checked and set under seen_lock, all or none. Wakes the file's
 * waiters, which may now have something to report.
 *
 * Context: process context; the device is alive (caller in SRCU). Takes
 * seen_lock.
 * Return: 0; EINVAL for a bad mask or flags or a count above the current
 * one (nothing changes); EOPNOTSUPP when no vector receives.
 */
int ivshmem_set_seen(struct ivshmem_file *ifile,
		     const struct ivshmem_seen *req)
{
	struct ivshmem_dev *idev = ifile->idev;
	u64 count[IVSHMEM_MAX_VECTORS];
	bool ok;
	int i;

	if (req->flags)
		return -EINVAL;
	if (!idev->rx_mask)
		return -EOPNOTSUPP;
	if (!ivshmem_rx_mask_ok(req->mask, idev->rx_mask))
		return -EINVAL;
	spin_lock(&ifile->seen_lock);
	ivshmem_irq_counts(idev, count);
	ok = ivshmem_seen_ok(count, req->count, req->mask);
	for (i = 0; ok && i < IVSHMEM_MAX_VECTORS; i++)
		if (req->mask & BIT(i))
			ifile->seen[i] = req->count[i];
	spin_unlock(&ifile->seen_lock);
	if (!ok)
		return -EINVAL;
	wake_up_all(&idev->wq);
	return 0;
}

/**
 * ivshmem_poll_events() - poll() readiness of a file
 * @ifile: the file
 *
 * EPOLLIN means "an interrupt is pending" (for IVSHMEM_IOCTL_WAIT to
 * consume), not "read() has data": read() reads the shared memory and
 * never blocks. Kept from the first ABI rather than moved to EPOLLPRI.
 *
 * Context: process context; the caller has added itself to the wait
 * queue. Takes seen_lock.
 * Return: EPOLLIN | EPOLLRDNORM while a vector has unconsumed interrupts,
 * EPOLLHUP | EPOLLERR once the device is gone, else 0.
 */
__poll_t ivshmem_poll_events(struct ivshmem_file *ifile)
{
	struct ivshmem_dev *idev = ifile->idev;

	if (!READ_ONCE(idev->alive))
		return EPOLLHUP | EPOLLERR;
	if (!idev->rx_mask)
		return 0;
	if (ivshmem_check_fired(ifile, idev->rx_mask, false))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}
