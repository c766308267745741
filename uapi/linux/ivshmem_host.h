/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Userspace ABI of the ivshmem host module for ACRN's Service VM
 * (/dev/ivshmem_host and the attachment file descriptors it hands out).
 *
 * All structures use only __u32/__u64, __s32 for file descriptors (-1
 * for none), and fixed arrays with explicit padding, so they have the
 * same layout for 32- and 64-bit userspace. Reserved fields must be zero
 * and unknown flags are refused with EINVAL.
 * User pointers travel as __u64.
 */
#ifndef _UAPI_LINUX_IVSHMEM_HOST_H
#define _UAPI_LINUX_IVSHMEM_HOST_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * The ioctl magic of <linux/ivshmem.h>, numbers 0x20-0x3F: the guest
 * driver has 0x00-0x1F (Documentation/userspace-api/ioctl/ioctl-number.rst).
 */
#define IVSHMEM_HOST_IOCTL_MAGIC	0xB9

/*
 * Region names carry their "hv:/" or "dm:/" prefix and are NUL-terminated
 * within this many bytes (the size of the name in ACRN's hypervisor).
 * After the prefix: 1 to 27 letters, digits and '_' (ACRN 3.x's \w{1,27}).
 * Bytes after the terminating NUL must be zero.
 */
#define IVSHMEM_HOST_NAME_LEN		32
/* Member VM IDs are 0..IVSHMEM_HOST_MAX_VMID (bit N of @members = VM N). */
#define IVSHMEM_HOST_MAX_VMID		63
/* Region sizes in MiB: a power of two in this range. */
#define IVSHMEM_HOST_MIN_SIZE_MB	2
#define IVSHMEM_HOST_MAX_SIZE_MB	512
/* Doorbell vectors per attached peer, as a guest device has at most. */
#define IVSHMEM_HOST_MAX_VECTORS	8

/* ivshmem_host_info.flags */
/* Running as ACRN's privileged Service VM (the module issues no hypercall). */
#define IVSHMEM_HOST_INFO_ACRN		0x1U

/**
 * struct ivshmem_host_info - what IVSHMEM_HOST_IOCTL_INFO reports
 * @flags:		IVSHMEM_HOST_INFO_* bits.
 * @nr_regions:		regions in the registry.
 * @max_regions:	most regions alive at once: the registry's and
 *			removed ones still held (ADD: ENOSPC).
 * @name_len:		IVSHMEM_HOST_NAME_LEN.
 * @max_vectors:	doorbell vectors per peer.
 * @nr_mems:		number of dm-land memory objects alive.
 * @mem_bytes:		dm-land memory the module's regions own, removed
 *			regions still held by an fd or a mapping included.
 * @reserved:		zero; room for growth.
 */
struct ivshmem_host_info {
	__u32 flags;
	__u32 nr_regions;
	__u32 max_regions;
	__u32 name_len;
	__u32 max_vectors;
	__u32 nr_mems;
	__u64 mem_bytes;
	__u64 reserved[4];
};

/* ivshmem_host_region.flags: output, except SET_ID, ADD's only input flag */
#define IVSHMEM_HOST_REGION_HV		0x1U	/* "hv:/" region */
#define IVSHMEM_HOST_REGION_MEM		0x2U	/* dm-land memory live */
#define IVSHMEM_HOST_REGION_SET_ID	0x4U	/* ADD: use @region_id */
/* Region IDs are the guest's 16-bit PCI subsystem ID. */
#define IVSHMEM_HOST_MAX_REGION_ID	0xffffU

/**
 * struct ivshmem_host_region - one region of the registry
 * @name:		"hv:/..." or "dm:/...", NUL-terminated, zero-padded.
 * @members:		bit N set: VM N may use the region (two bits at least).
 * @size_mb:		size in MiB, a power of two from 2 to 512.
 * @flags:		output: IVSHMEM_HOST_REGION_HV, _MEM. ADD input: zero or
 *			IVSHMEM_HOST_REGION_SET_ID.
 * @region_id:		the region ID, which the guest sees as its PCI
 *			subsystem ID and acrn-dm takes as the fourth field of
 *			-s N,ivshmem,NAME,SIZE,REGION_ID (ACRN 3.3). ADD with
 *			SET_ID: this one, at most IVSHMEM_HOST_MAX_REGION_ID
 *			(ERANGE), not in use (EEXIST); ADD without: zero on
 *			input, and the region gets the lowest ID free.
 * @nr_attached:	output: VMs attached now (dm-land).
 * @nr_folios:		output: folios backing the live memory, 0 if none.
 * @reserved0:		padding, zero.
 * @rt_members:		bit N set: VM N is of higher severity than the Service
 *			VM (a post-launched RTVM), so the hypervisor refuses
 *			the MSIs HSM would inject into it and no dm-land
 *			doorbell can reach it: RING toward it fails with
 *			EHOSTUNREACH. A subset of @members (EINVAL otherwise).
 *			hv-land doorbells, which the hypervisor delivers
 *			itself, do reach such a VM.
 * @reserved1:		zero.
 *
 * IVSHMEM_HOST_IOCTL_ADD reads @name, @members, @size_mb, @rt_members and,
 * with IVSHMEM_HOST_REGION_SET_ID, @region_id; every output field must be
 * zero. IVSHMEM_HOST_IOCTL_LOOKUP reads only @name and fills
 * in the rest; every other field, reserved ones included, must be zero on
 * input (EINVAL otherwise).
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
	__u64 rt_members;
	__u64 reserved1;
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
 *		MAP_SHARED, offset and length multiples of 2 MiB (normally
 *		offset 0, @size bytes). Ignored on input, by DETACH too.
 * @reserved0:	zero.
 * @size:	ATTACH output: region size in bytes. Ignored on input, by
 *		DETACH too.
 * @reserved:	zero.
 *
 * ATTACH is the privileged step (/dev/ivshmem_host is root-only, opened
 * for writing): it binds (region, @vmid) to the fd, which is from then on
 * a capability for exactly that VM in that region. Whether the attacher
 * is a process of the Service VM or a guest VM's device model makes no
 * difference to the module: both register eventfd vectors, and only a
 * process holding the guest VM's HSM fd can turn such an eventfd into an
 * interrupt of that VM (ACRN_IOCTL_IRQFD).
 *
 * Closing the attachment fd detaches too. The first attach of a region
 * allocates its memory, zeroed; the region keeps it, data included, for
 * as long as the region lives (in the registry until REMOVE, then while
 * an attachment, a mapping or an open file holds it), so a VM that
 * detaches and attaches again finds its data. A new region (REMOVE, then
 * ADD) gets new, zeroed memory.
 */
struct ivshmem_host_attach {
	char name[IVSHMEM_HOST_NAME_LEN];
	__u32 vmid;
	__u32 flags;
	__s32 fd;
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
 *
 * Fails with EHOSTUNREACH, delivering nothing, when @dst is one of the
 * region's @rt_members (struct ivshmem_host_region).
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
 * struct ivshmem_host_vector - register where a peer's vector is delivered
 * @vector:	the vector, below IVSHMEM_HOST_MAX_VECTORS.
 * @fd:		an eventfd signalled on each ring, or -1 to unregister the
 *		vector (as vfio's VFIO_DEVICE_SET_IRQS); other negative
 *		values: EINVAL. It must not be bound as a trigger (struct
 *		ivshmem_host_trigger) anywhere.
 * @flags:	zero.
 * @reserved0:	zero.
 * @reserved:	zero.
 *
 * Issued on an attachment fd (the peer is that attachment). For a guest
 * VM, its device model registers the same eventfd with HSM
 * (ACRN_IOCTL_IRQFD on the VM's HSM fd, with the MSI address and data the
 * guest programmed for the vector): every ring then makes HSM inject that
 * MSI into its own VM, under the hypervisor's checks. The module never
 * learns or chooses which VM an eventfd interrupts.
 */
struct ivshmem_host_vector {
	__u32 vector;
	__s32 fd;
	__u32 flags;
	__u32 reserved0;
	__u64 reserved[2];
};

/* ivshmem_host_trigger.flags */
#define IVSHMEM_HOST_TRIGGER_DEASSIGN	0x1U
/* With DEASSIGN: remove this peer's triggers of (@dst, @vector); @fd -1. */
#define IVSHMEM_HOST_TRIGGER_BY_TARGET	0x2U

/**
 * struct ivshmem_host_trigger - ring a doorbell whenever an eventfd fires
 * @fd:		the eventfd (e.g. the one HSM's ACRN_IOCTL_IOEVENTFD signals
 *		on a doorbell write with datamatch (@dst << 16 | @vector)).
 *		It must not be registered as a vector's eventfd anywhere
 *		(EINVAL), so no ring can trigger itself. -1 with
 *		IVSHMEM_HOST_TRIGGER_BY_TARGET, and only there (EINVAL
 *		otherwise, as for any other negative value).
 * @dst:	the target peer (VM ID, a member of the region).
 * @vector:	the target's vector.
 * @flags:	IVSHMEM_HOST_TRIGGER_DEASSIGN to remove the binding of @fd
 *		(@dst and @vector zero), or DEASSIGN | BY_TARGET to remove
 *		the bindings to (@dst, @vector) (@fd -1), e.g. after the
 *		eventfd was closed.
 * @reserved:	zero.
 *
 * Issued on an attachment fd (the source peer is that attachment). A
 * binding also ends when the peer is detached.
 */
struct ivshmem_host_trigger {
	__s32 fd;
	__u32 dst;
	__u32 vector;
	__u32 flags;
	__u64 reserved[2];
};

/*
 * On /dev/ivshmem_host (0x20-0x2F). INFO, LOOKUP and LIST work on any
 * open file; the others need it opened for writing (EBADF otherwise).
 */
#define IVSHMEM_HOST_IOCTL_INFO		\
	_IOR(IVSHMEM_HOST_IOCTL_MAGIC, 0x20, struct ivshmem_host_info)
#define IVSHMEM_HOST_IOCTL_ADD		\
	_IOW(IVSHMEM_HOST_IOCTL_MAGIC, 0x21, struct ivshmem_host_region)
#define IVSHMEM_HOST_IOCTL_REMOVE	\
	_IOW(IVSHMEM_HOST_IOCTL_MAGIC, 0x22, struct ivshmem_host_name)
#define IVSHMEM_HOST_IOCTL_LOOKUP	\
	_IOWR(IVSHMEM_HOST_IOCTL_MAGIC, 0x23, struct ivshmem_host_region)
#define IVSHMEM_HOST_IOCTL_LIST		\
	_IOWR(IVSHMEM_HOST_IOCTL_MAGIC, 0x24, struct ivshmem_host_list)
#define IVSHMEM_HOST_IOCTL_ATTACH	\
	_IOWR(IVSHMEM_HOST_IOCTL_MAGIC, 0x25, struct ivshmem_host_attach)
#define IVSHMEM_HOST_IOCTL_DETACH	\
	_IOW(IVSHMEM_HOST_IOCTL_MAGIC, 0x26, struct ivshmem_host_attach)
#define IVSHMEM_HOST_IOCTL_RING		\
	_IOW(IVSHMEM_HOST_IOCTL_MAGIC, 0x27, struct ivshmem_host_ring)

/* On an attachment fd (0x30-0x3F) */
#define IVSHMEM_HOST_IOCTL_SET_VECTOR	\
	_IOW(IVSHMEM_HOST_IOCTL_MAGIC, 0x30, struct ivshmem_host_vector)
#define IVSHMEM_HOST_IOCTL_TRIGGER	\
	_IOW(IVSHMEM_HOST_IOCTL_MAGIC, 0x31, struct ivshmem_host_trigger)

#endif /* _UAPI_LINUX_IVSHMEM_HOST_H */
