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
 * @region_id:		output: the region ID: the lowest ID not in use when the
 *			region was added (see Documentation/host.rst for when
 *			it equals ACRN's hv-land region index).
 * @nr_attached:	output: VMs attached now (dm-land).
 * @nr_folios:		output: folios backing the live memory, 0 if none.
 * @reserved0:		padding, zero.
 * @reserved:		zero.
 *
 * IVSHMEM_HOST_IOCTL_ADD reads @name, @members and @size_mb; every output
 * field must be zero. IVSHMEM_HOST_IOCTL_LOOKUP reads only @name and fills
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

/* ivshmem_host_attach.flags */
/*
 * @hc_vmid is valid: the VM is a guest VM that this attachment may reach
 * with HC_INJECT_MSI (IVSHMEM_HOST_VECTOR_MSI). Without it the attachment
 * stands for a process in the Service VM and may only register
 * IVSHMEM_HOST_VECTOR_EVENTFD vectors.
 */
#define IVSHMEM_HOST_ATTACH_HC_VMID	0x1U
/* Largest valid @hc_vmid (ACRN VM IDs are 16 bits, 0xffff is invalid). */
#define IVSHMEM_HOST_MAX_HC_VMID	0xfffeU

/**
 * struct ivshmem_host_attach - attach a VM to a dm-land region, or detach
 * @name:	the region's name.
 * @vmid:	the VM (absolute ID, as in the region's member list).
 * @hc_vmid:	ATTACH with IVSHMEM_HOST_ATTACH_HC_VMID: the VM's ID as the
 *		Service VM knows it (what ACRN_IOCTL_CREATE_VM returned), at
 *		most IVSHMEM_HOST_MAX_HC_VMID. The only VM the attachment's
 *		MSI vectors can ever reach. Zero otherwise, and on DETACH.
 * @flags:	ATTACH: IVSHMEM_HOST_ATTACH_* bits. DETACH: zero.
 * @fd:		ATTACH output: the attachment fd (O_CLOEXEC). mmap it
 *		MAP_SHARED, offset and length multiples of 2 MiB (normally
 *		offset 0, @size bytes). Zero on input.
 * @size:	ATTACH output: region size in bytes. Zero on input.
 * @reserved:	zero.
 *
 * ATTACH is the privileged step (/dev/ivshmem_host is root-only): it
 * binds (region, @vmid, @hc_vmid) to the fd, which is from then on a
 * capability for exactly that VM in that region. While a VM is attached
 * anywhere with an @hc_vmid, every ATTACH, CREATE_VDEV and DESTROY_VDEV
 * naming that VM or that @hc_vmid must use the same pair (EINVAL).
 *
 * Closing the attachment fd detaches too. The memory lives while any
 * attached VM or mapping holds it. When the last VM of a region has
 * detached, the next attach gets fresh, zeroed memory.
 */
struct ivshmem_host_attach {
	char name[IVSHMEM_HOST_NAME_LEN];
	__u32 vmid;
	__u32 hc_vmid;
	__u32 flags;
	__u32 fd;
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
 *		ACRN_IOCTL_CREATE_VM returned), at most
 *		IVSHMEM_HOST_MAX_HC_VMID; passed to the hypercall. Must agree
 *		with the binding of a current attachment of @vmid or of
 *		@hc_vmid, if there is one (see struct ivshmem_host_attach).
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

/* The x86 MSI address window (the local APICs), for @msi_addr. */
#define IVSHMEM_HOST_MSI_ADDR_BASE	0xfee00000ULL
#define IVSHMEM_HOST_MSI_ADDR_LAST	0xfeefffffULL

/**
 * struct ivshmem_host_vector - register where a peer's vector is delivered
 * @vector:	the vector, below IVSHMEM_HOST_MAX_VECTORS.
 * @type:	IVSHMEM_HOST_VECTOR_*.
 * @fd:		EVENTFD: an eventfd signalled on each ring; it must not be
 *		bound as a trigger (struct ivshmem_host_trigger) anywhere.
 *		Else zero.
 * @flags:	zero.
 * @msi_addr:	MSI: the vector's MSI address as the guest programmed it:
 *		dword aligned, within IVSHMEM_HOST_MSI_ADDR_BASE..LAST.
 * @msi_data:	MSI: the vector's MSI data: 16 bits, delivery mode fixed
 *		(0) or lowest priority (1), vector 0x10-0xff. Both zero for
 *		other types.
 * @reserved:	zero.
 *
 * Issued on an attachment fd (the peer is that attachment). MSI needs an
 * attachment made with IVSHMEM_HOST_ATTACH_HC_VMID (EPERM otherwise) and
 * always targets that attachment's own VM (its @hc_vmid).
 */
struct ivshmem_host_vector {
	__u32 vector;
	__u32 type;
	__u32 fd;
	__u32 flags;
	__u64 msi_addr;
	__u64 msi_data;
	__u64 reserved[2];
};

/* ivshmem_host_trigger.flags */
#define IVSHMEM_HOST_TRIGGER_DEASSIGN	0x1U
/* With DEASSIGN: remove this peer's triggers of (@dst, @vector); @fd zero. */
#define IVSHMEM_HOST_TRIGGER_BY_TARGET	0x2U

/**
 * struct ivshmem_host_trigger - ring a doorbell whenever an eventfd fires
 * @fd:		the eventfd (e.g. the one HSM's ACRN_IOCTL_IOEVENTFD signals
 *		on a doorbell write with datamatch (@dst << 16 | @vector)).
 *		It must not be registered as a vector's eventfd anywhere
 *		(EINVAL), so no ring can trigger itself.
 * @dst:	the target peer (VM ID, a member of the region).
 * @vector:	the target's vector.
 * @flags:	IVSHMEM_HOST_TRIGGER_DEASSIGN to remove the binding of @fd
 *		(@dst and @vector zero), or DEASSIGN | BY_TARGET to remove
 *		the bindings to (@dst, @vector) (@fd zero), e.g. after the
 *		eventfd was closed.
 * @reserved:	zero.
 *
 * Issued on an attachment fd (the source peer is that attachment). A
 * binding also ends when the peer is detached.
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
