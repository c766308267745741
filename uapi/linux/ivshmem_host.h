/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Userspace ABI of the ivshmem host module for ACRN's Service VM
 * (/dev/ivshmem_host and the attachment file descriptors it hands out).
 *
 * All structures use only __u32/__u64 and fixed arrays with explicit
 * padding, so they have the same layout for 32- and 64-bit userspace.
 * Reserved fields must be zero and unknown flags are refused with EINVAL.
 * User pointers travel as __u64.
 */
#ifndef _UAPI_LINUX_IVSHMEM_HOST_H
#define _UAPI_LINUX_IVSHMEM_HOST_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/ivshmem.h>

/* Bumped whenever an ioctl or structure below changes incompatibly. */
#define IVSHMEM_HOST_ABI_VERSION	1

/*
 * Region names carry their "hv:/" or "dm:/" prefix and are NUL-terminated
 * within this many bytes (the size of the name in ACRN's hypervisor).
 * Bytes after the terminating NUL must be zero.
 */
#define IVSHMEM_HOST_NAME_LEN		32
/* Member VM IDs are 0..IVSHMEM_HOST_MAX_VMID (bit N of @members = VM N). */
#define IVSHMEM_HOST_MAX_VMID		63
/* Region sizes in MiB: a power of two in this range. */
#define IVSHMEM_HOST_MIN_SIZE_MB	2
#define IVSHMEM_HOST_MAX_SIZE_MB	512
/* Doorbell vectors per attached peer. */
#define IVSHMEM_HOST_MAX_VECTORS	IVSHMEM_MAX_VECTORS

/* ivshmem_host_info.flags */
/* Running as ACRN's privileged Service VM: hypercalls are live. */
#define IVSHMEM_HOST_INFO_ACRN		0x1U

/**
 * struct ivshmem_host_info - what IVSHMEM_HOST_IOCTL_INFO reports
 * @abi_version:	IVSHMEM_HOST_ABI_VERSION of the running module.
 * @flags:		IVSHMEM_HOST_INFO_* bits.
 * @nr_regions:		regions in the registry.
 * @max_regions:	most regions the registry holds.
 * @name_len:		IVSHMEM_HOST_NAME_LEN.
 * @max_vectors:	doorbell vectors per peer.
 * @mem_bytes:		dm-land memory currently allocated by the module,
 *			including memory of removed regions still mapped.
 * @nr_mems:		number of dm-land memory objects alive.
 * @reserved0:		padding, zero.
 * @reserved:		zero; room for growth.
 */
struct ivshmem_host_info {
	__u32 abi_version;
	__u32 flags;
	__u32 nr_regions;
	__u32 max_regions;
	__u32 name_len;
	__u32 max_vectors;
	__u64 mem_bytes;
	__u32 nr_mems;
	__u32 reserved0;
	__u64 reserved[3];
};

/* ivshmem_host_region.flags (output only; zero on input) */
#define IVSHMEM_HOST_REGION_HV		0x1U	/* "hv:/" region */
#define IVSHMEM_HOST_REGION_MEM		0x2U	/* dm-land memory live */

/**
 * struct ivshmem_host_region - one region of the registry
 * @name:		"hv:/..." or "dm:/...", NUL-terminated, zero-padded.
 * @members:		bit N set: VM N may use the region (two bits at least).
 * @size_mb:		size in MiB, a power of two from 2 to 512.
 * @flags:		output: IVSHMEM_HOST_REGION_*. Zero on input.
 * @region_id:		output: the region ID (lowest free, in order of
 *			addition; matches ACRN's hv-land region index when
 *			the module parameter lists regions in the
 *			hypervisor's order).
 * @nr_attached:	output: VMs attached now (dm-land).
 * @nr_folios:		output: folios backing the live memory, 0 if none.
 * @reserved0:		padding, zero.
 * @reserved:		zero.
 *
 * IVSHMEM_HOST_IOCTL_ADD reads @name, @members and @size_mb; every output
 * field must be zero. IVSHMEM_HOST_IOCTL_LOOKUP reads @name and fills in
 * the rest; @flags and the reserved fields must be zero on input.
 */
struct ivshmem_host_region {
	char name[IVSHMEM_HOST_NAME_LEN];
	__u64 members;
	__u32 size_mb;
	__u32 flags;
	__u32 region_id;
	__u32 nr_attached;
	__u32 nr_folios;
	__u32 reserved0;
	__u64 reserved[2];
};

/**
 * struct ivshmem_host_name - a region named for removal
 * @name:	the region's name.
 * @flags:	zero.
 * @reserved0:	zero.
 * @reserved:	zero.
 */
struct ivshmem_host_name {
	char name[IVSHMEM_HOST_NAME_LEN];
	__u32 flags;
	__u32 reserved0;
	__u64 reserved[2];
};

/**
 * struct ivshmem_host_list - list the registry
 * @capacity:	in: entries the array at @regions holds (may be 0).
 * @count:	out: regions in the registry; min(@capacity, @count) entries
 *		were written. Zero on input.
 * @regions:	user pointer to an array of struct ivshmem_host_region.
 * @flags:	zero.
 * @reserved0:	zero.
 * @reserved:	zero.
 */
struct ivshmem_host_list {
	__u32 capacity;
	__u32 count;
	__u64 regions;
	__u32 flags;
	__u32 reserved0;
	__u64 reserved[2];
};

/**
 * struct ivshmem_host_attach - attach a VM to a dm-land region, or detach
 * @name:	the region's name.
 * @vmid:	the VM (absolute ID, as in the region's member list).
 * @flags:	zero.
 * @fd:		ATTACH output: the attachment fd (O_CLOEXEC). mmap it
 *		MAP_SHARED at offset 0 for @size bytes. Zero on input.
 * @reserved0:	zero.
 * @size:	ATTACH output: region size in bytes. Zero on input.
 * @reserved:	zero.
 *
 * Closing the attachment fd detaches too. The memory lives while any
 * attachment fd or mapping holds it. When the last VM of a region has
 * detached, the next attach gets fresh, zeroed memory.
 */
struct ivshmem_host_attach {
	char name[IVSHMEM_HOST_NAME_LEN];
	__u32 vmid;
	__u32 flags;
	__u32 fd;
	__u32 reserved0;
	__u64 size;
	__u64 reserved[2];
};

/**
 * struct ivshmem_host_ring - ring a doorbell
 * @name:	the region's name.
 * @src:	the ringing peer (VM ID, attached).
 * @dst:	the target peer (VM ID, attached).
 * @vector:	the target's vector, below IVSHMEM_HOST_MAX_VECTORS.
 * @flags:	zero.
 * @reserved:	zero.
 */
struct ivshmem_host_ring {
	char name[IVSHMEM_HOST_NAME_LEN];
	__u32 src;
	__u32 dst;
	__u32 vector;
	__u32 flags;
	__u64 reserved[2];
};

/**
 * struct ivshmem_host_vdev - create or destroy an hv-land virtual device
 * @name:	the hv-land region's name (goes to acrn_vdev.args).
 * @vmid:	the VM's absolute ID, checked against the member list.
 * @hc_vmid:	the VM's ID as the Service VM knows it (what
 *		ACRN_IOCTL_CREATE_VM returned); passed to the hypercall.
 * @bdf:	virtual PCI bus/device/function: bus << 8 | dev << 3 | fn.
 * @flags:	zero.
 * @bar0:	guest-physical base of BAR0 (registers).
 * @bar1:	guest-physical base of BAR1 (MSI-X table).
 * @bar2:	guest-physical base of BAR2 (the shared memory, 64-bit).
 * @reserved:	zero.
 */
struct ivshmem_host_vdev {
	char name[IVSHMEM_HOST_NAME_LEN];
	__u32 vmid;
	__u32 hc_vmid;
	__u32 bdf;
	__u32 flags;
	__u32 bar0;
	__u32 bar1;
	__u64 bar2;
	__u64 reserved[2];
};

/* ivshmem_host_vector.type */
#define IVSHMEM_HOST_VECTOR_NONE	0	/* unregister the vector */
#define IVSHMEM_HOST_VECTOR_MSI		1	/* guest VM: HC_INJECT_MSI */
#define IVSHMEM_HOST_VECTOR_EVENTFD	2	/* Service VM peer: eventfd */

/**
 * struct ivshmem_host_vector - register where a peer's vector is delivered
 * @vector:	the vector, below IVSHMEM_HOST_MAX_VECTORS.
 * @type:	IVSHMEM_HOST_VECTOR_*.
 * @fd:		EVENTFD: an eventfd signalled on each ring. Else zero.
 * @hc_vmid:	MSI: the target VM's ID as the Service VM knows it. Else
 *		zero.
 * @msi_addr:	MSI: the vector's MSI address as the guest programmed it.
 * @msi_data:	MSI: the vector's MSI data. Both zero for other types.
 * @flags:	zero.
 * @reserved0:	zero.
 * @reserved:	zero.
 *
 * Issued on an attachment fd (the peer is that attachment).
 */
struct ivshmem_host_vector {
	__u32 vector;
	__u32 type;
	__u32 fd;
	__u32 hc_vmid;
	__u64 msi_addr;
	__u64 msi_data;
	__u32 flags;
	__u32 reserved0;
	__u64 reserved[2];
};

/* ivshmem_host_trigger.flags */
#define IVSHMEM_HOST_TRIGGER_DEASSIGN	0x1U

/**
 * struct ivshmem_host_trigger - ring a doorbell whenever an eventfd fires
 * @fd:		the eventfd (e.g. the one HSM's ACRN_IOCTL_IOEVENTFD signals
 *		on a doorbell write with datamatch (@dst << 16 | @vector)).
 * @dst:	the target peer (VM ID).
 * @vector:	the target's vector.
 * @flags:	IVSHMEM_HOST_TRIGGER_DEASSIGN to remove the binding of @fd.
 * @reserved:	zero.
 *
 * Issued on an attachment fd (the source peer is that attachment).
 */
struct ivshmem_host_trigger {
	__u32 fd;
	__u32 dst;
	__u32 vector;
	__u32 flags;
	__u64 reserved[2];
};

/* On /dev/ivshmem_host (0xB9 0x40-0x4F) */
#define IVSHMEM_HOST_IOCTL_INFO		\
	_IOR(IVSHMEM_IOCTL_MAGIC, 0x40, struct ivshmem_host_info)
#define IVSHMEM_HOST_IOCTL_ADD		\
	_IOW(IVSHMEM_IOCTL_MAGIC, 0x41, struct ivshmem_host_region)
#define IVSHMEM_HOST_IOCTL_REMOVE	\
	_IOW(IVSHMEM_IOCTL_MAGIC, 0x42, struct ivshmem_host_name)
#define IVSHMEM_HOST_IOCTL_LOOKUP	\
	_IOWR(IVSHMEM_IOCTL_MAGIC, 0x43, struct ivshmem_host_region)
#define IVSHMEM_HOST_IOCTL_LIST		\
	_IOWR(IVSHMEM_IOCTL_MAGIC, 0x44, struct ivshmem_host_list)
#define IVSHMEM_HOST_IOCTL_ATTACH	\
	_IOWR(IVSHMEM_IOCTL_MAGIC, 0x45, struct ivshmem_host_attach)
#define IVSHMEM_HOST_IOCTL_DETACH	\
	_IOW(IVSHMEM_IOCTL_MAGIC, 0x46, struct ivshmem_host_attach)
#define IVSHMEM_HOST_IOCTL_RING		\
	_IOW(IVSHMEM_IOCTL_MAGIC, 0x47, struct ivshmem_host_ring)
#define IVSHMEM_HOST_IOCTL_CREATE_VDEV	\
	_IOW(IVSHMEM_IOCTL_MAGIC, 0x48, struct ivshmem_host_vdev)
#define IVSHMEM_HOST_IOCTL_DESTROY_VDEV	\
	_IOW(IVSHMEM_IOCTL_MAGIC, 0x49, struct ivshmem_host_vdev)

/* On an attachment fd (0xB9 0x50-0x5F) */
#define IVSHMEM_HOST_IOCTL_SET_VECTOR	\
	_IOW(IVSHMEM_IOCTL_MAGIC, 0x50, struct ivshmem_host_vector)
#define IVSHMEM_HOST_IOCTL_TRIGGER	\
	_IOW(IVSHMEM_IOCTL_MAGIC, 0x51, struct ivshmem_host_trigger)

#endif /* _UAPI_LINUX_IVSHMEM_HOST_H */
