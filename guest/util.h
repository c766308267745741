/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure helpers of the ivshmem guest driver: no device access, no locks.
 * Kept in a header so the KUnit suite tests exactly the code the driver
 * runs.
 */
#ifndef IVSHMEM_GUEST_UTIL_H
#define IVSHMEM_GUEST_UTIL_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/ktime.h>
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

/*
 * The uapi layout is the same for 32- and 64-bit userspace, and any
 * change to it must be deliberate.
 */
static_assert(sizeof(struct ivshmem_info) == 128);
static_assert(offsetof(struct ivshmem_info, size) == 8);
static_assert(offsetof(struct ivshmem_info, irq_count) == 32);
static_assert(sizeof(struct ivshmem_eventfd) == 16);
static_assert(offsetof(struct ivshmem_eventfd, fd) == 4);
static_assert(sizeof(struct ivshmem_ring) == 16);
static_assert(sizeof(struct ivshmem_wait) == 24);
static_assert(offsetof(struct ivshmem_wait, deadline_ns) == 8);
static_assert(sizeof(struct ivshmem_seen) == 72);
static_assert(offsetof(struct ivshmem_seen, count) == 8);
static_assert(sizeof(struct ivshmem_dmabuf) == 40);
static_assert(offsetof(struct ivshmem_dmabuf, fd) == 20);

/**
 * ivshmem_info_fill() - encode what the driver knows into the uapi struct
 * @info: the structure to fill; fully overwritten
 * @size: size of BAR2 in bytes
 * @peer_id: the IVPosition register
 * @vectors: MSI-X vectors granted to the guest
 * @rx_mask: vectors with an interrupt handler, bit n for vector n
 * @can_ring: the device has an MSI-X capability, so its doorbell works
 * @region_id: ACRN region ID or a negative errno when there is none
 * @map_wb: BAR2's one memory type, user mappings' too, is write-back
 *
 * Leaves @info->irq_count zero for the caller to fill.
 *
 * Context: any.
 */
static inline void ivshmem_info_fill(struct ivshmem_info *info, u64 size,
				     u32 peer_id, u32 vectors, u32 rx_mask,
				     bool can_ring, int region_id, bool map_wb)
{
	*info = (struct ivshmem_info) {
		.size = size,
		.peer_id = peer_id,
		.vectors = vectors,
		.rx_mask = rx_mask,
	};
	if (can_ring)
		info->flags |= IVSHMEM_INFO_RING;
	/* Receiving needs MSI-X, so it implies ringing. */
	if (rx_mask)
		info->flags |= IVSHMEM_INFO_RECEIVE | IVSHMEM_INFO_RING;
	if (region_id >= 0) {
		info->flags |= IVSHMEM_INFO_ACRN;
		info->region_id = region_id;
	}
	if (map_wb)
		info->flags |= IVSHMEM_INFO_MAP_WB;
}

/**
 * ivshmem_doorbell_value() - encode a doorbell write
 * @ring: the request from userspace
 * @val: the value for the Doorbell register
 *
 * Context: any.
 * Return: 0, or -EINVAL for a peer above 0xffff, a vector at or above
 * IVSHMEM_MAX_VECTORS, or non-zero flags or reserved fields.
 */
static inline int ivshmem_doorbell_value(const struct ivshmem_ring *ring,
					 u32 *val)
{
	if (ring->flags || ring->reserved || ring->peer > 0xffff ||
	    ring->vector >= IVSHMEM_MAX_VECTORS)
		return -EINVAL;
	*val = ring->peer << 16 | ring->vector;
	return 0;
}

/**
 * ivshmem_rx_mask_ok() - check a vector mask from userspace
 * @mask: bit n for vector n
 * @rx_mask: vectors that receive interrupts
 *
 * Context: any.
 * Return: true if @mask is not empty and names only vectors of @rx_mask.
 */
static inline bool ivshmem_rx_mask_ok(u32 mask, u32 rx_mask)
{
	return mask && !(mask & ~rx_mask);
}

/**
 * ivshmem_fired() - vectors with interrupts a file has not consumed
 * @count: interrupts so far per vector
 * @seen: per vector, the count the file consumed up to
 * @mask: vectors to look at
 *
 * Counts only grow and never wrap (64 bits), so a count at or below
 * @seen (a snapshot older than @seen) has nothing new.
 *
 * Context: any.
 * Return: bit n set for each vector n in @mask with @count[n] > @seen[n].
 */
static inline u32 ivshmem_fired(const u64 *count, const u64 *seen, u32 mask)
{
	u32 fired = 0;
	int i;

	for (i = 0; i < IVSHMEM_MAX_VECTORS; i++)
		if ((mask & BIT(i)) && count[i] > seen[i])
			fired |= BIT(i);
	return fired;
}

/**
 * ivshmem_consume() - consume the interrupts a file has not seen yet
 * @count: interrupts so far per vector
 * @seen: per vector, the count the file consumed up to; advanced
 * @mask: vectors to consume
 *
 * @seen only moves forward: a caller holding an old @count cannot make
 * an interrupt that was already consumed look new again. The caller
 * reads @count and calls this under the lock that protects @seen.
 *
 * Context: any; the caller holds the lock of @seen.
 * Return: the vectors of @mask that had unconsumed interrupts.
 */
static inline u32 ivshmem_consume(const u64 *count, u64 *seen, u32 mask)
{
	u32 fired = ivshmem_fired(count, seen, mask);
	int i;

	for (i = 0; i < IVSHMEM_MAX_VECTORS; i++)
		if (fired & BIT(i))
			seen[i] = count[i];
	return fired;
}

/**
 * ivshmem_seen_ok() - check the counts of an IVSHMEM_IOCTL_SET_SEEN
 * @count: interrupts so far per vector
 * @want: per vector, the count the file asks to have consumed up to
 * @mask: vectors to set
 *
 * A count above the current one (say, one saved before an unbind and
 * rebind reset the counts) would silence the file for that many
 * interrupts: it is refused.
 *
 * Context: any; the caller reads @count under the lock of the file's
 * consumed counts.
 * Return: true if @want[n] <= @count[n] for every vector n in @mask.
 */
static inline bool ivshmem_seen_ok(const u64 *count, const u64 *want,
				   u32 mask)
{
	int i;

	for (i = 0; i < IVSHMEM_MAX_VECTORS; i++)
		if ((mask & BIT(i)) && want[i] > count[i])
			return false;
	return true;
}

/**
 * ivshmem_abs_to_host() - a user CLOCK_MONOTONIC deadline on the host clock
 * @user_ns: the absolute deadline userspace gave, in ns
 * @offset: the monotonic offset of the caller's time namespace, in ns
 *	(0 outside a time namespace); may be negative
 *
 * Userspace CLOCK_MONOTONIC in a time namespace is ktime_get() plus the
 * namespace's offset. A deadline before the offset is already past; one
 * beyond what ktime_t holds waits for ever.
 *
 * Context: any.
 * Return: the deadline in ktime_get() time, 0 to KTIME_MAX.
 */
static inline ktime_t ivshmem_abs_to_host(u64 user_ns, s64 offset)
{
	s64 t = min_t(u64, user_ns, KTIME_MAX), host;

	if (t < offset)
		return 0;
	if (check_sub_overflow(t, offset, &host))
		return KTIME_MAX;
	return host;
}

#endif /* IVSHMEM_GUEST_UTIL_H */
