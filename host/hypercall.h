/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one table through which the host module issues ACRN hypercalls.
 *
 * Three implementations exist:
 *  - ivh_acrn_hc_ops (hypercall_acrn.c): builds the argument in kernel
 *    memory and passes its physical address to @raw, which is
 *    ivh_acrn_vmcall() when running as ACRN's privileged Service VM.
 *  - ivh_none_hc_ops (hypercall.c): anywhere else; every call fails with
 *    -EOPNOTSUPP, so dm-land regions and Service-VM-local doorbells work
 *    while guest-VM operations are refused.
 *  - KUnit's recording double: ivh_acrn_hc_ops with @raw replaced by a
 *    recorder, so the ACRN implementation itself is tested up to the vmcall.
 */
#ifndef IVSHMEM_HOST_HYPERCALL_H
#define IVSHMEM_HOST_HYPERCALL_H

#include <linux/types.h>
#include <linux/acrn.h>

/* ACRN hypercall IDs: 0x80 in bits 31:24, the call in the low bits. */
#define IVH_HC_ID(n)		((0x80UL << 24) | (n))
#define IVH_HC_INJECT_MSI	IVH_HC_ID(0x23UL)
#define IVH_HC_CREATE_VDEV	IVH_HC_ID(0x59UL)
#define IVH_HC_DESTROY_VDEV	IVH_HC_ID(0x5AUL)

/* struct acrn_vdev as ACRN's device model fills it for ivshmem. */
#define IVH_VDEV_VENDOR		0x1af4
#define IVH_VDEV_DEVICE		0x1110
#define IVH_BAR_REGS		0
#define IVH_BAR_MSIX		1
#define IVH_BAR_SHM		2
/* BAR2 is a 64-bit prefetchable memory BAR. */
#define IVH_BAR_SHM_FLAGS	0x0cU

struct ivh_hc;

/**
 * typedef ivh_raw_hypercall_t - issue one two-parameter hypercall
 * @hc:	the hypercall table.
 * @id:	hypercall ID (R8).
 * @p1:	first parameter (RDI).
 * @p2:	second parameter (RSI).
 *
 * Return: the hypervisor's result, negative errno on failure.
 */
typedef long (*ivh_raw_hypercall_t)(struct ivh_hc *hc, unsigned long id,
				    unsigned long p1, unsigned long p2);

/**
 * struct ivh_hc_ops - the hypercalls the host module needs
 * @name:		for the log.
 * @create_vdev:	HC_CREATE_VDEV for @vmid (relative to the Service VM).
 * @destroy_vdev:	HC_DESTROY_VDEV.
 * @inject_msi:		HC_INJECT_MSI.
 *
 * All may sleep. They return 0 or a negative errno.
 */
struct ivh_hc_ops {
	const char *name;
	int (*create_vdev)(struct ivh_hc *hc, u64 vmid,
			   const struct acrn_vdev *vdev);
	int (*destroy_vdev)(struct ivh_hc *hc, u64 vmid,
			    const struct acrn_vdev *vdev);
	int (*inject_msi)(struct ivh_hc *hc, u64 vmid,
			  const struct acrn_msi_entry *msi);
};

/**
 * struct ivh_hc - a hypercall table instance
 * @ops:	the implementation.
 * @raw:	for ivh_acrn_hc_ops: issues the hypercall.
 * @priv:	for test doubles.
 * @live:	true when hypercalls reach a real ACRN hypervisor.
 */
struct ivh_hc {
	const struct ivh_hc_ops *ops;
	ivh_raw_hypercall_t raw;
	void *priv;
	bool live;
};

extern const struct ivh_hc_ops ivh_acrn_hc_ops;
extern const struct ivh_hc_ops ivh_none_hc_ops;

long ivh_acrn_vmcall(struct ivh_hc *hc, unsigned long id, unsigned long p1,
		     unsigned long p2);
bool ivh_acrn_service_vm(void);
void ivh_hc_select(struct ivh_hc *hc);
void ivh_build_vdev(struct acrn_vdev *vdev, const char *name, u32 size,
		    u32 bdf, u32 bar0, u32 bar1, u64 bar2);

#endif /* IVSHMEM_HOST_HYPERCALL_H */
