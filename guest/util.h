/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure helpers of the ivshmem guest driver: no device access, no locks.
 * Kept in a header so the KUnit suite tests exactly the code the driver
 * runs.
 */
#ifndef IVSHMEM_GUEST_UTIL_H
#define IVSHMEM_GUEST_UTIL_H

#include <linux/types.h>
#include <linux/errno.h>
#include <linux/overflow.h>
#include <linux/pci_ids.h>
#include <linux/ivshmem.h>

/* ACRN marks its ivshmem devices with Intel's subsystem vendor ID. */
#define IVSHMEM_ACRN_SUBSYS_VENDOR	PCI_VENDOR_ID_INTEL

/**
 * ivshmem_range_ok() - check that [@offset, @offset + @len) lies in a region
 * @offset: start of the range in bytes
 * @len: length of the range in bytes, non-zero
 * @size: size of the region in bytes
 *
 * Context: any.
 * Return: true if the range is non-empty, does not wrap and ends at or
 * before @size.
 */
static inline bool ivshmem_range_ok(u64 offset, u64 len, u64 size)
{
	u64 end;

	if (!len || check_add_overflow(offset, len, &end))
		return false;
	return end <= size;
}

/**
 * ivshmem_rw_count() - bytes a read or write at @pos may move
 * @pos: file position, may be negative for a corrupt position
 * @count: bytes asked for
 * @size: size of the region
 *
 * Behaves like a file of fixed size: nothing can be moved at or past the
 * end, and a request that straddles the end is cut short.
 *
 * Context: any.
 * Return: the number of bytes to move (0 at or past the end), or -EINVAL
 * for a negative position.
 */
static inline ssize_t ivshmem_rw_count(loff_t pos, size_t count, u64 size)
{
	if (pos < 0)
		return -EINVAL;
	if ((u64)pos >= size)
		return 0;
	return min_t(u64, count, size - pos);
}

/**
 * ivshmem_region_id() - the ACRN region ID of a device, if it has one
 * @subsys_vendor: PCI subsystem vendor ID
 * @subsys_device: PCI subsystem device ID
 *
 * ACRN puts its region ID in the subsystem device ID and marks the device
 * with subsystem vendor 0x8086; QEMU's devices carry Red Hat's IDs.
 *
 * Context: any.
 * Return: the region ID, or -ENOENT if the device is not ACRN's.
 */
static inline int ivshmem_region_id(u16 subsys_vendor, u16 subsys_device)
{
	if (subsys_vendor != IVSHMEM_ACRN_SUBSYS_VENDOR)
		return -ENOENT;
	return subsys_device;
}

/**
 * ivshmem_info_fill() - encode what the driver knows into the uapi struct
 * @info: the structure to fill; fully overwritten
 * @size: size of BAR2 in bytes
 * @peer_id: the IVPosition register
 * @vectors: MSI-X vectors in use
 * @region_id: ACRN region ID or a negative errno when there is none
 *
 * Context: any.
 */
static inline void ivshmem_info_fill(struct ivshmem_info *info, u64 size,
				     u32 peer_id, u32 vectors, int region_id)
{
	*info = (struct ivshmem_info) {
		.abi_version = IVSHMEM_ABI_VERSION,
		.size = size,
		.peer_id = peer_id,
		.vectors = vectors,
	};
	if (vectors)
		info->flags |= IVSHMEM_INFO_DOORBELL;
	if (region_id >= 0) {
		info->flags |= IVSHMEM_INFO_ACRN;
		info->region_id = region_id;
	}
}

#endif /* IVSHMEM_GUEST_UTIL_H */
