/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Userspace ABI of the ivshmem guest driver (/dev/ivshmemN).
 *
 * All structures use only __u32/__u64 and fixed arrays with explicit
 * padding, so they have the same layout for 32- and 64-bit userspace.
 * Reserved fields must be zero and unknown flags are refused with EINVAL.
 */
#ifndef _UAPI_LINUX_IVSHMEM_H
#define _UAPI_LINUX_IVSHMEM_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * One ioctl magic for the whole project, free in
 * Documentation/userspace-api/ioctl/ioctl-number.rst:
 *   0xB9 00-3F  the guest driver (this header)
 *   0xB9 40-7F  the ACRN Service VM module (linux/ivshmem_host.h)
 */
#define IVSHMEM_IOCTL_MAGIC	0xB9

/*
 * Bumped whenever an ioctl or structure below changes incompatibly.
 *
 * 2: IVSHMEM_IOCTL_RING needs a file opened for writing and fails with
 * EBADF on one opened read-only. Ringing interrupts another VM, so a
 * group that an administrator lets read a device must not gain that
 * right (the host module's RING has the same rule). A program that
 * rings opens the device O_RDWR; nothing else changed from 1.
 *
 * Since the first release, everything else added is compatible and
 * found without a version test. Programs built for the first release
 * run unchanged; newer ones test the INFO flags (IVSHMEM_INFO_RING,
 * IVSHMEM_INFO_RECEIVE, IVSHMEM_INFO_DMABUF), get ENOTTY for
 * IVSHMEM_IOCTL_SET_SEEN and IVSHMEM_IOCTL_DMABUF and
 * EINVAL for IVSHMEM_WAIT_ABSTIME from an older driver. The driver
 * still writes only ivshmem_wait.fired back, as the first release did,
 * so a program may reuse one structure for every wait. Behaviour that
 * changed, none of it in a way a first-release program can trip over:
 * IVSHMEM_IOCTL_WAIT returns EINTR only after a signal handler ran (the
 * first release also did for SIGSTOP/SIGCONT, ptrace and the freezer,
 * which now restart it by themselves, keeping its deadline; see struct
 * ivshmem_wait); IVSHMEM_IOCTL_SET_EVENTFD no longer fails with ENOSPC
 * (there is no limit shared by all files any more).
 */
#define IVSHMEM_ABI_VERSION	2

/* The most MSI-X vectors the driver uses per device. */
#define IVSHMEM_MAX_VECTORS	8

/* ivshmem_info.flags */
/*
 * The device can both ring peers and receive interrupts: the same as
 * IVSHMEM_INFO_RECEIVE (receiving needs MSI-X, which ringing also
 * needs). Kept for programs written before the two flags below.
 */
#define IVSHMEM_INFO_DOORBELL	(1U << 0)
/* The device is ACRN's (subsystem vendor 0x8086); region_id is valid. */
#define IVSHMEM_INFO_ACRN	(1U << 1)
/*
 * mmap gives write-back mappings. Every view of BAR2 (the driver's own
 * kernel mapping, user mappings) has one memory type, chosen at probe
 * (module parameter memtype) and shown in
 * /sys/class/ivshmem/ivshmemN/memtype; this flag is set exactly when that
 * type is write-back.
 */
#define IVSHMEM_INFO_MAP_WB	(1U << 2)
/*
 * IVSHMEM_IOCTL_RING works: the device has an MSI-X capability (QEMU
 * ivshmem-doorbell, ACRN hv-land), whether or not this guest got any
 * interrupt vector for it (pci=nomsi, vectors exhausted).
 */
#define IVSHMEM_INFO_RING	(1U << 3)
/*
 * Interrupts reach this guest on the vectors in ivshmem_info.rx_mask:
 * eventfds, IVSHMEM_IOCTL_WAIT, IVSHMEM_IOCTL_SET_SEEN and poll() work.
 */
#define IVSHMEM_INFO_RECEIVE	(1U << 4)
/*
 * IVSHMEM_IOCTL_DMABUF works: the driver exports ranges of the shared
 * memory as dma-bufs (kernel with CONFIG_DMA_SHARED_BUFFER).
 */
#define IVSHMEM_INFO_DMABUF	(1U << 5)

/**
 * struct ivshmem_info - what IVSHMEM_IOCTL_INFO reports
 * @abi_version:	IVSHMEM_ABI_VERSION of the running driver.
 * @flags:		IVSHMEM_INFO_* bits.
 * @size:		size of the shared memory (BAR2) in bytes.
 * @peer_id:		own peer ID as read from IVPosition. On QEMU it is
 *			assigned by the ivshmem server (0 without one); on
 *			ACRN it is the absolute VM ID.
 * @vectors:		MSI-X vectors this guest was granted (0 without
 *			MSI-X or with none granted); vector n < @vectors
 *			receives when bit n of @rx_mask is set.
 * @region_id:		ACRN region ID (the PCI subsystem ID) when
 *			IVSHMEM_INFO_ACRN is set, else 0.
 * @reserved0:		padding, zero.
 * @irq_count:		interrupts received per vector since the device was
 *			bound (never wraps: 64 bits).
 * @rx_mask:		vectors that deliver interrupts to this guest, bit n
 *			for vector n: all of the first @vectors, unless
 *			setting up one of them failed.
 * @reserved1:		zero.
 * @reserved:		zero; room for growth.
 */
struct ivshmem_info {
	__u32 abi_version;
	__u32 flags;
	__u64 size;
	__u32 peer_id;
	__u32 vectors;
	__u32 region_id;
	__u32 reserved0;
	__u64 irq_count[IVSHMEM_MAX_VECTORS];
	__u32 rx_mask;
	__u32 reserved1;
	__u64 reserved[3];
};

/* ivshmem_eventfd.fd value that removes this file's binding. */
#define IVSHMEM_EVENTFD_NONE	0xffffffffU

/**
 * struct ivshmem_eventfd - bind an eventfd to an interrupt vector
 * @vector:	vector, in ivshmem_info.rx_mask.
 * @fd:		an eventfd the driver signals on each interrupt of @vector,
 *		or IVSHMEM_EVENTFD_NONE ((__u32)-1) to unbind. One binding per
 *		open file and vector (the per-file limit: binding again
 *		replaces it). Bindings made through a file are dropped when
 *		the file is closed. No limit is shared between files: one
 *		file, or one user, cannot use up a vector for another.
 *		Each interrupt adds 1 to every eventfd bound to its vector;
 *		with more than 4 bound, they are signalled from the vector's
 *		interrupt thread instead of the interrupt handler.
 * @flags:	zero.
 * @reserved:	zero.
 */
struct ivshmem_eventfd {
	__u32 vector;
	__u32 fd;
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
 * set, also without local vectors.
 */
struct ivshmem_ring {
	__u32 peer;
	__u32 vector;
	__u32 flags;
	__u32 reserved;
};

/* ivshmem_wait.timeout_ns value that waits without a time limit. */
#define IVSHMEM_WAIT_FOREVER	(~0ULL)

/* ivshmem_wait.flags: timeout_ns is an absolute CLOCK_MONOTONIC time. */
#define IVSHMEM_WAIT_ABSTIME	(1U << 0)

/**
 * struct ivshmem_wait - wait for interrupts without an eventfd
 * @mask:	in: vectors to wait for, bit n for vector n; not zero, and
 *		only bits of ivshmem_info.rx_mask.
 * @fired:	out: the vectors in @mask that received interrupts since
 *		this file last consumed them (ignored on input). Each open
 *		file has its own view: one file consuming an interrupt does
 *		not hide it from another. Threads sharing a file share its
 *		view, and each interrupt is reported to one of them only.
 * @timeout_ns:	in: 0 checks without blocking; IVSHMEM_WAIT_FOREVER
 *		blocks until an interrupt, a handled signal or device
 *		removal; else the time to wait in ns, or with
 *		IVSHMEM_WAIT_ABSTIME the CLOCK_MONOTONIC time to wait until,
 *		as the caller reads that clock (in a time namespace, with
 *		the namespace's offset). A time already past checks once,
 *		then ETIMEDOUT.
 * @flags:	in: IVSHMEM_WAIT_ABSTIME or zero.
 * @reserved:	zero.
 *
 * The driver writes only @fired, on success; the inputs are never
 * changed, so one structure can serve every wait.
 *
 * Signals, as for poll() and select(): a wait interrupted by a signal
 * that runs no handler (SIGSTOP and SIGCONT, a debugger attaching, the
 * freezer) restarts by itself; after any handler, with SA_RESTART or
 * without (glibc's signal() sets it), the call fails with EINTR. A wait
 * the kernel restarts keeps its deadline: an IVSHMEM_WAIT_ABSTIME one
 * is the same time, and a relative one ends when the first call would
 * have. A program that repeats the identical call (the same structure,
 * at the same address, with the same values) right after EINTR
 * continues the interrupted wait too, until the same deadline; a
 * different call, or the same one after another WAIT by the same thread,
 * starts a fresh wait, and so does the call after the continued one has
 * ended. Each open file keeps the deadlines of 4 interrupted relative
 * waits (one per thread); with more interrupted at once, the oldest
 * starts afresh.
 *
 * Errors: EAGAIN (timeout 0, nothing fired), ETIMEDOUT, EINTR (a handler
 * ran), ENODEV (device removed), EOPNOTSUPP (no interrupts, see
 * IVSHMEM_INFO_RECEIVE).
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
	__u64 timeout_ns;
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
 *		input.
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
	__u32 fd;
	__u64 reserved[2];
};

#define IVSHMEM_IOCTL_INFO	_IOR(IVSHMEM_IOCTL_MAGIC, 0x00, struct ivshmem_info)
#define IVSHMEM_IOCTL_SET_EVENTFD _IOW(IVSHMEM_IOCTL_MAGIC, 0x01, struct ivshmem_eventfd)
#define IVSHMEM_IOCTL_RING	_IOW(IVSHMEM_IOCTL_MAGIC, 0x02, struct ivshmem_ring)
#define IVSHMEM_IOCTL_WAIT	_IOWR(IVSHMEM_IOCTL_MAGIC, 0x03, struct ivshmem_wait)
#define IVSHMEM_IOCTL_SET_SEEN	_IOW(IVSHMEM_IOCTL_MAGIC, 0x04, struct ivshmem_seen)
#define IVSHMEM_IOCTL_DMABUF	_IOWR(IVSHMEM_IOCTL_MAGIC, 0x05, struct ivshmem_dmabuf)

#endif /* _UAPI_LINUX_IVSHMEM_H */
