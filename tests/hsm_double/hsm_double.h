/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The test-only ioctls of tests/hsm_double (/dev/acrn_hsm_double), shared
 * by the module and the test programs. Everything else on that device is
 * HSM's own ABI, include/uapi/linux/acrn.h.
 *
 * The numbers use HSM's magic (ACRN_IOCTL_TYPE) with request numbers HSM
 * does not use (0xf0 up): a program that sends them to the real
 * /dev/acrn_hsm gets ENOTTY.
 */
#ifndef IVSHMEM_HSM_DOUBLE_H
#define IVSHMEM_HSM_DOUBLE_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/acrn.h>

/* hsm_double_access.flags */
#define HSM_DOUBLE_ACCESS_WRITE	0x1U

/**
 * struct hsm_double_access - read or write a mapping through HSM's vmap
 * @slot:	the VM's memory mapping (0 = its first RAM SET_MEMSEG).
 * @flags:	HSM_DOUBLE_ACCESS_WRITE: copy @buf into the mapping, else
 *		copy the mapping into @buf.
 * @offset:	byte offset in the mapping.
 * @len:	bytes, at most 1 MiB per call.
 * @buf:	user pointer.
 */
struct hsm_double_access {
	__u32 slot;
	__u32 flags;
	__u64 offset;
	__u64 len;
	__u64 buf;
};

/**
 * struct hsm_double_info - what the double holds
 * @slot:	in: which mapping @npages.. describe.
 * @vmid:	out: the VM's ID, 0xffff (HSM's ACRN_INVALID_VMID) before CREATE_VM and
 *		after DESTROY_VM.
 * @nr_maps:	out: RAM mappings (pinned) of this VM.
 * @nr_pfnmaps:	out: SET_MEMSEGs of this VM that took HSM's PFNMAP branch.
 * @npages:	out: pages of mapping @slot (0 if no such slot).
 * @nr_regions:	out: region ops HSM would send for @slot (one per folio).
 * @nr_large:	out: ops of @slot that map a large folio (order > 0).
 * @op_bytes:	out: bytes of HSM's kmalloc'ed region-op array for @slot.
 * @pinned_pages: out: pages the double has pinned, all VMs together.
 * @injected:	out: MSIs the VM's irqfds injected (HSM: HC_INJECT_MSI).
 * @last_msi_data: out: the MSI data of the last of them.
 */
struct hsm_double_info {
	__u32 slot;
	__u32 vmid;
	__u32 nr_maps;
	__u32 nr_pfnmaps;
	__u64 npages;
	__u64 nr_regions;
	__u64 nr_large;
	__u64 op_bytes;
	__u64 pinned_pages;
	__u64 injected;
	__u64 last_msi_data;
};

/* hsm_double_mmio.flags */
#define HSM_DOUBLE_MMIO_PIO	0x1U

/**
 * struct hsm_double_mmio - a guest's write, as HSM's ioeventfd client
 *			    sees its I/O request
 * @addr:	guest-physical address (or port, HSM_DOUBLE_MMIO_PIO).
 * @data:	the value written.
 * @len:	access width in bytes.
 * @flags:	HSM_DOUBLE_MMIO_PIO: a port write.
 * @reserved:	zero.
 */
struct hsm_double_mmio {
	__u64 addr;
	__u64 data;
	__u32 len;
	__u32 flags;
	__u64 reserved;
};

#define HSM_DOUBLE_IOCTL_ACCESS	\
	_IOW(ACRN_IOCTL_TYPE, 0xf0, struct hsm_double_access)
#define HSM_DOUBLE_IOCTL_INFO	\
	_IOWR(ACRN_IOCTL_TYPE, 0xf1, struct hsm_double_info)
/* acrn_ioeventfd_handler(): 0, or ENOENT when no ioeventfd matched. */
#define HSM_DOUBLE_IOCTL_MMIO_WRITE	\
	_IOW(ACRN_IOCTL_TYPE, 0xf2, struct hsm_double_mmio)

#endif /* IVSHMEM_HSM_DOUBLE_H */
