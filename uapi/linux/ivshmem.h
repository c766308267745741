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

/* Bumped whenever an ioctl or structure below changes incompatibly. */
#define IVSHMEM_ABI_VERSION	1

/* The most MSI-X vectors the driver uses per device. */
#define IVSHMEM_MAX_VECTORS	8

/* ivshmem_info.flags */
/* The device has MSI-X: it can receive doorbells and ring peers. */
#define IVSHMEM_INFO_DOORBELL	(1U << 0)
/* The device is ACRN's (subsystem vendor 0x8086); region_id is valid. */
#define IVSHMEM_INFO_ACRN	(1U << 1)
/*
 * mmap gives write-back mappings (the driver gave BAR2 struct pages).
 * Without it, mappings take the memory type x86 PAT records for BAR2,
 * which is UC- where the guest's MTRRs mark PCI memory uncached.
 */
#define IVSHMEM_INFO_MAP_WB	(1U << 2)

/**
 * struct ivshmem_info - what IVSHMEM_IOCTL_INFO reports
 * @abi_version:	IVSHMEM_ABI_VERSION of the running driver.
 * @flags:		IVSHMEM_INFO_* bits.
 * @size:		size of the shared memory (BAR2) in bytes.
 * @peer_id:		own peer ID as read from IVPosition. On QEMU it is
 *			assigned by the ivshmem server (0 without one); on
 *			ACRN it is the absolute VM ID.
 * @vectors:		number of MSI-X vectors in use (0 without MSI-X).
 * @region_id:		ACRN region ID (the PCI subsystem ID) when
 *			IVSHMEM_INFO_ACRN is set, else 0.
 * @reserved0:		padding, zero.
 * @irq_count:		interrupts received per vector since the device was
 *			bound.
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
	__u64 reserved[4];
};

/* ivshmem_eventfd.fd value that removes this file's binding. */
#define IVSHMEM_EVENTFD_NONE	0xffffffffU

/**
 * struct ivshmem_eventfd - bind an eventfd to an interrupt vector
 * @vector:	vector, below ivshmem_info.vectors.
 * @fd:		an eventfd the driver signals on each interrupt of @vector,
 *		or IVSHMEM_EVENTFD_NONE ((__u32)-1) to unbind. One binding per
 *		open file and vector: binding again replaces it. Bindings
 *		made through a file are dropped when the file is closed.
 *		At most 64 eventfds per vector, all files together (ENOSPC).
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
 * doorbell is then dropped silently.
 */
struct ivshmem_ring {
	__u32 peer;
	__u32 vector;
	__u32 flags;
	__u32 reserved;
};

/* ivshmem_wait.timeout_ns value that waits without a time limit. */
#define IVSHMEM_WAIT_FOREVER	(~0ULL)

/**
 * struct ivshmem_wait - wait for interrupts without an eventfd
 * @mask:	in: vectors to wait for, bit n for vector n; not zero, and
 *		only bits below ivshmem_info.vectors.
 * @fired:	out: the vectors in @mask that received interrupts since
 *		this file last consumed them (ignored on input). Each open
 *		file has its own view: one file consuming an interrupt does
 *		not hide it from another.
 * @timeout_ns:	in: 0 checks without blocking; IVSHMEM_WAIT_FOREVER
 *		blocks until an interrupt, a signal or device removal.
 * @flags:	zero.
 * @reserved:	zero.
 *
 * Errors: EAGAIN (timeout 0, nothing fired), ETIMEDOUT, EINTR (signal),
 * ENODEV (device removed), EOPNOTSUPP (no MSI-X). poll() on the file
 * reports EPOLLIN while any vector has unconsumed interrupts.
 */
struct ivshmem_wait {
	__u32 mask;
	__u32 fired;
	__u64 timeout_ns;
	__u32 flags;
	__u32 reserved;
};

#define IVSHMEM_IOCTL_INFO	_IOR(IVSHMEM_IOCTL_MAGIC, 0x00, struct ivshmem_info)
#define IVSHMEM_IOCTL_SET_EVENTFD _IOW(IVSHMEM_IOCTL_MAGIC, 0x01, struct ivshmem_eventfd)
#define IVSHMEM_IOCTL_RING	_IOW(IVSHMEM_IOCTL_MAGIC, 0x02, struct ivshmem_ring)
#define IVSHMEM_IOCTL_WAIT	_IOWR(IVSHMEM_IOCTL_MAGIC, 0x03, struct ivshmem_wait)

#endif /* _UAPI_LINUX_IVSHMEM_H */
