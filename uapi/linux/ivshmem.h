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
	__u64 reserved[4];
};

#define IVSHMEM_IOCTL_INFO	_IOR(IVSHMEM_IOCTL_MAGIC, 0x00, struct ivshmem_info)

#endif /* _UAPI_LINUX_IVSHMEM_H */
