/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Userspace ABI of the ivshmem guest driver (/dev/ivshmemN).
 *
 * All structures use only __u32/__u64, __s32 for file descriptors (-1
 * for none), and fixed arrays with explicit padding, so they have the
 * same layout for 32- and 64-bit userspace. Reserved fields must be zero
 * and unknown flags are refused with EINVAL.
 */
#ifndef _UAPI_LINUX_IVSHMEM_H
#define _UAPI_LINUX_IVSHMEM_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * The ioctl magic of this header, numbers 0x00-0x1F; the host module's
 * <linux/ivshmem_host.h> has 0x20-0x3F of the same magic
 * (Documentation/userspace-api/ioctl/ioctl-number.rst).
 */
#define IVSHMEM_IOCTL_MAGIC	0xB9

/* The most MSI-X vectors the driver uses per device. */
#define IVSHMEM_MAX_VECTORS	8

/* ivshmem_info.flags */
/* The device is ACRN's (subsystem vendor 0x8086); region_id is valid. */
#define IVSHMEM_INFO_ACRN	(1U << 0)
/*
 * mmap gives write-back mappings. Every view of BAR2 (the driver's own
 * kernel mapping, user mappings) has one memory type, chosen at probe
 * (module parameter memtype) and shown in
 * /sys/class/ivshmem/ivshmemN/memtype; this flag is set exactly when that
 * type is write-back.
 */
#define IVSHMEM_INFO_MAP_WB	(1U << 1)
/*
 * IVSHMEM_IOCTL_RING works: the device has an MSI-X capability (QEMU
 * ivshmem-doorbell, ACRN hv-land), whether or not this guest got any
 * interrupt vector for it (pci=nomsi, vectors exhausted).
 */
#define IVSHMEM_INFO_RING	(1U << 2)
/*
 * Interrupts reach this guest on the vectors in ivshmem_info.rx_mask:
 * eventfds, IVSHMEM_IOCTL_WAIT, IVSHMEM_IOCTL_SET_SEEN and poll() work.
 * Receiving needs MSI-X, so IVSHMEM_INFO_RING is set too.
 */
#define IVSHMEM_INFO_RECEIVE	(1U << 3)
/*
 * IVSHMEM_IOCTL_DMABUF works: the driver exports ranges of the shared
 * memory as dma-bufs (kernel with CONFIG_DMA_SHARED_BUFFER).
 */
#define IVSHMEM_INFO_DMABUF	(1U << 4)

/**
 * struct ivshmem_info - what IVSHMEM_IOCTL_INFO reports
 * @flags:		IVSHMEM_INFO_* bits.
 * @peer_id:		own peer ID as read from IVPosition. On QEMU it is
 *			assigned by the ivshmem server (0 without one); on
 *			ACRN it is the absolute VM ID.
 * @size:		size of the shared memory (BAR2) in bytes.
 * @vectors:		MSI-X vectors this guest was granted (0 without
 *			MSI-X or with none granted); vector n < @vectors
 *			receives when bit n of @rx_mask is set.
 * @rx_mask:		vectors that deliver interrupts to this guest, bit n
 *			for vector n: all of the first @vectors, unless
 *			setting up one of them failed.
 * @region_id:		ACRN region ID (the PCI subsystem ID) when
 *			IVSHMEM_INFO_ACRN is set, else 0.
 * @reserved0:		padding, zero.
 * @irq_count:		interrupts received per vector since the device was
 *			bound (never wraps: 64 bits).
 * @reserved:		zero; room for growth.
 */
struct ivshmem_info {
	__u32 flags;
	__u32 peer_id;
	__u64 size;
	__u32 vectors;
	__u32 rx_mask;
	__u32 region_id;
	__u32 reserved0;
	__u64 irq_count[IVSHMEM_MAX_VECTORS];
	__u64 reserved[4];
};

/**
 * struct ivshmem_eventfd - bind an eventfd to an interrupt vector
 * @vector:	vector, in ivshmem_info.rx_mask.
 * @fd:		an eventfd the driver signals on each interrupt of @vector,
 *		or -1 to unbind (as vfio's VFIO_DEVICE_SET_IRQS); other
 *		negative values: EINVAL. One binding per open file and
 *		vector (the per-file limit: binding again replaces it).
 *		Bindings made through a file are dropped when the file is
 *		closed. No limit is shared between files: one file, or one
 *		user, cannot use up a vector for another. Each interrupt
 *		adds 1 to every eventfd bound to its vector; with more than
 *		4 bound, they are signalled from the vector's interrupt
 *		thread instead of the interrupt handler.
 * @flags:	zero.
 * @reserved:	zero.
 */
struct ivshmem_eventfd {
	__u32 vector;
	__s32 fd;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct ivshmem_ring - ring a peer's doorbell
 * @peer:	peer ID, at most 0xffff (on ACRN: the target's VM ID).
 * @vector:	vector of the peer to interrupt, below IVSHMEM_MAX_VECTORS.
 * @flags:	zero.
 * @reserved:	zero.
 *
 * The driver writes (@peer << 16) | @vector to the Doorbell register in
 * one 32-bit write. Neither QEMU nor ACRN reports an unknown peer: the
 * doorbell is then dropped silently. Works whenever IVSHMEM_INFO_RING is
 * set, also without local vectors. Interrupting another VM is a write:
 * the file must be open for writing (EBADF otherwise).
 */
struct ivshmem_ring {
	__u32 peer;
	__u32 vector;
	__u32 flags;
	__u32 reserved;
};

/* ivshmem_wait.deadline_ns value that waits without a time limit. */
#define IVSHMEM_WAIT_FOREVER	(~0ULL)

/**
 * struct ivshmem_wait - wait for interrupts without an eventfd
 * @mask:	in: vectors to wait for, bit n for vector n; not zero, and
 *		only bits of ivshmem_info.rx_mask.
 * @fired:	out: the vectors in @mask that received interrupts since
 *		this file last consumed them (ignored on input). Each open
 *		file has its own view: one file consuming an interrupt does
 *		not hide it from another. Threads sharing a file share its
 *		view, and each interrupt is reported to one of them only.
 * @deadline_ns: in: the CLOCK_MONOTONIC time, in ns, at which the wait
 *		ends with ETIMEDOUT, as the caller reads that clock (in a
 *		time namespace, with the namespace's offset);
 *		IVSHMEM_WAIT_FOREVER for no limit. A deadline already past,
 *		0 for one, checks once without blocking. Any other value
 *		above 2^63 - 1 (a negative time) is refused with EINVAL.
 * @flags:	in: zero.
 * @reserved:	zero.
 *
 * The deadline is absolute, as futex_waitv()'s and clock_nanosleep()'s
 * with TIMER_ABSTIME are, so that a wait interrupted by a signal can be
 * restarted without the driver writing the time left into this
 * structure or keeping it anywhere: the restarted call reads the same
 * deadline and ends when the first would have. A wait interrupted by a
 * signal is restarted by the kernel when no handler ran (SIGSTOP and
 * SIGCONT, a debugger attaching, the freezer) or when the handler has
 * SA_RESTART; after a handler without SA_RESTART it fails with EINTR,
 * and the same call made again continues it to the same deadline.
 *
 * A request refused with EINVAL, EOPNOTSUPP or ENODEV is not written
 * to. Otherwise the driver writes only @fired: zero before it waits (a
 * structure it cannot write fails with EFAULT before anything is
 * consumed), the vectors on success. The inputs are never changed, so one structure
 * can serve every wait with the same deadline.
 *
 * Errors: ETIMEDOUT (nothing fired by the deadline), EINTR (a handler
 * without SA_RESTART ran), EFAULT, ENODEV (device removed), EOPNOTSUPP
 * (no interrupts, see IVSHMEM_INFO_RECEIVE), EINVAL.
 *
 * poll() on the file reports EPOLLIN | EPOLLRDNORM while a vector has
 * interrupts this file has not consumed: "an interrupt is pending", to
 * be consumed with IVSHMEM_IOCTL_WAIT. It says nothing about read(),
 * which reads the shared memory, never blocks and consumes nothing.
 * EPOLLPRI and EPOLLOUT are never reported; EPOLLHUP | EPOLLERR once the
 * device is gone.
 */
struct ivshmem_wait {
	__u32 mask;
	__u32 fired;
	__u64 deadline_ns;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct ivshmem_seen - choose the point this file's view starts from
 * @mask:	vectors to set, bit n for vector n; not zero, and only bits
 *		of ivshmem_info.rx_mask.
 * @flags:	zero.
 * @count:	per vector in @mask, the interrupt count (since the device
 *		was bound, as in ivshmem_info.irq_count) this file has
 *		consumed up to. IVSHMEM_IOCTL_WAIT and poll() then report
 *		vector n once its count is above @count[n]. Zero: every
 *		interrupt since the device was bound is unconsumed. The
 *		irq_count of an earlier IVSHMEM_IOCTL_INFO: every interrupt
 *		since that call. Not above the vector's current count:
 *		that (counts kept from before the device was unbound and
 *		bound again, say) would hide that many interrupts, and
 *		fails with EINVAL, changing nothing. Entries of vectors not
 *		in @mask are ignored.
 *
 * A file starts with the counts at open(): interrupts from before the
 * open are consumed. A listener that may open after its peer rang sets
 * @count to zero, or to counts it kept from earlier, and misses nothing.
 */
struct ivshmem_seen {
	__u32 mask;
	__u32 flags;
	__u64 count[IVSHMEM_MAX_VECTORS];
};

/* ivshmem_dmabuf.flags: the dma-buf may be written (mmap PROT_WRITE). */
#define IVSHMEM_DMABUF_RDWR	(1U << 0)

/**
 * struct ivshmem_dmabuf - export a range of the shared memory as a dma-buf
 * @offset:	in: start of the range in BAR2, a multiple of the page size.
 * @size:	in: length of the range, a non-zero multiple of the page
 *		size; @offset + @size at most ivshmem_info.size.
 * @flags:	in: IVSHMEM_DMABUF_RDWR for a writable dma-buf, else 0: a
 *		read-only one (mmap refuses PROT_WRITE).
 * @fd:		out: the dma-buf file descriptor, always O_CLOEXEC (clear
 *		it with fcntl() to pass it on through exec). Ignored on
 *		input; unchanged on failure.
 * @reserved:	zero.
 *
 * Unknown flags, a non-zero reserved field, an unaligned, empty or
 * out-of-range (@offset, @size): EINVAL, nothing is created. ENODEV once
 * the device is gone, EOPNOTSUPP where IVSHMEM_INFO_DMABUF is clear.
 * Each call makes a new dma-buf; it holds the device (not its binding)
 * and the driver module until its last reference is gone. After device
 * removal the dma-buf stays a valid file whose every operation fails:
 * see Documentation/guest.rst, "DMA-BUF export".
 */
struct ivshmem_dmabuf {
	__u64 offset;
	__u64 size;
	__u32 flags;
	__s32 fd;
	__u64 reserved[2];
};

#define IVSHMEM_IOCTL_INFO	_IOR(IVSHMEM_IOCTL_MAGIC, 0x00, struct ivshmem_info)
#define IVSHMEM_IOCTL_SET_EVENTFD _IOW(IVSHMEM_IOCTL_MAGIC, 0x01, struct ivshmem_eventfd)
#define IVSHMEM_IOCTL_RING	_IOW(IVSHMEM_IOCTL_MAGIC, 0x02, struct ivshmem_ring)
#define IVSHMEM_IOCTL_WAIT	_IOWR(IVSHMEM_IOCTL_MAGIC, 0x03, struct ivshmem_wait)
#define IVSHMEM_IOCTL_SET_SEEN	_IOW(IVSHMEM_IOCTL_MAGIC, 0x04, struct ivshmem_seen)
#define IVSHMEM_IOCTL_DMABUF	_IOWR(IVSHMEM_IOCTL_MAGIC, 0x05, struct ivshmem_dmabuf)

#endif /* _UAPI_LINUX_IVSHMEM_H */
