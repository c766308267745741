// SPDX-License-Identifier: GPL-2.0
/*
 * ACRN implementation of the host module's hypercall table.
 *
 * The layouts follow include/uapi/linux/acrn.h and the IDs ACRN's HSM uses
 * (drivers/virt/acrn/hypercall.h): a hypercall takes the Service VM's
 * physical address of its argument, so every argument is copied to
 * kmalloc() memory (never the stack, which may be vmalloc'ed) first.
 */

#include <linux/build_bug.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/hypervisor.h>
#include <asm/io.h>
#include <asm/acrn.h>

#include "../compat.h"
#include "hypercall.h"

static_assert(sizeof(struct acrn_vdev) == 192);
static_assert(sizeof(struct acrn_msi_entry) == 16);
static_assert(IVH_HC_INJECT_MSI == 0x80000023UL);
static_assert(IVH_HC_CREATE_VDEV == 0x80000059UL);
static_assert(IVH_HC_DESTROY_VDEV == 0x8000005AUL);

/**
 * ivh_acrn_service_vm() - are we ACRN's privileged Service VM?
 *
 * The same test as HSM's: the hypervisor is ACRN and CPUID 0x40000001
 * bit 0 says this VM is privileged.
 *
 * Return: true when ACRN hypercalls may be issued.
 */
bool ivh_acrn_service_vm(void)
{
	if (!hypervisor_is_type(X86_HYPER_ACRN))
		return false;
	return cpuid_eax(ACRN_CPUID_FEATURES) & ACRN_FEATURE_PRIVILEGED_VM;
}
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_acrn_service_vm);

/**
 * ivh_acrn_vmcall() - the real hypercall
 * @hc:	unused.
 * @id:	hypercall ID.
 * @p1:	first parameter.
 * @p2:	second parameter.
 *
 * Context: only when ivh_acrn_service_vm() is true; vmcall traps
 * otherwise.
 * Return: the hypervisor's result, -EINVAL for an ID the module does not
 * use.
 */
long ivh_acrn_vmcall(struct ivh_hc *hc, unsigned long id, unsigned long p1,
		     unsigned long p2)
{
	/*
	 * acrn_hypercall2() wants the ID as an immediate; the switch also
	 * keeps this function to the three hypercalls the module needs.
	 */
	switch (id) {
	case IVH_HC_INJECT_MSI:
		return acrn_hypercall2(IVH_HC_INJECT_MSI, p1, p2);
	case IVH_HC_CREATE_VDEV:
		return acrn_hypercall2(IVH_HC_CREATE_VDEV, p1, p2);
	case IVH_HC_DESTROY_VDEV:
		return acrn_hypercall2(IVH_HC_DESTROY_VDEV, p1, p2);
	default:
		return -EINVAL;
	}
}

/**
 * ivh_build_vdev() - fill struct acrn_vdev for an ivshmem device
 * @vdev:	output, fully overwritten.
 * @name:	region name with its "hv:/" prefix, NUL-terminated.
 * @size:	region size in bytes (BAR2 size).
 * @bdf:	virtual PCI BDF (bus << 8 | dev << 3 | fn).
 * @bar0:	guest-physical BAR0 base.
 * @bar1:	guest-physical BAR1 base.
 * @bar2:	guest-physical BAR2 base (64-bit).
 *
 * The hypervisor matches @name against the VM's static configuration and
 * @size against the region's; BAR2's low dword carries the 64-bit and
 * prefetchable flags, its high dword follows in io_addr[3]. Everything
 * else, including the rest of args, is zero.
 */
void ivh_build_vdev(struct acrn_vdev *vdev, const char *name, u32 size,
		    u32 bdf, u32 bar0, u32 bar1, u64 bar2)
{
	memset(vdev, 0, sizeof(*vdev));
	vdev->id.fields.vendor = cpu_to_le16(IVH_VDEV_VENDOR);
	vdev->id.fields.device = cpu_to_le16(IVH_VDEV_DEVICE);
	vdev->slot = bdf;
	vdev->io_addr[IVH_BAR_REGS] = bar0;
	vdev->io_addr[IVH_BAR_MSIX] = bar1;
	vdev->io_addr[IVH_BAR_SHM] = lower_32_bits(bar2) | IVH_BAR_SHM_FLAGS;
	vdev->io_addr[IVH_BAR_SHM + 1] = upper_32_bits(bar2);
	vdev->io_size[IVH_BAR_SHM] = size;
	strscpy((char *)vdev->args, name, sizeof(vdev->args));
}
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_build_vdev);

static int ivh_acrn_call(struct ivh_hc *hc, unsigned long id, u64 vmid,
			 const void *arg, size_t len)
{
	void *buf;
	long ret;

	buf = kmemdup(arg, len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = hc->raw(hc, id, vmid, virt_to_phys(buf));
	kfree(buf);
	if (ret >= 0)
		return 0;
	return ret < -MAX_ERRNO ? -EIO : (int)ret;
}

static int ivh_acrn_create_vdev(struct ivh_hc *hc, u64 vmid,
				const struct acrn_vdev *vdev)
{
	return ivh_acrn_call(hc, IVH_HC_CREATE_VDEV, vmid, vdev, sizeof(*vdev));
}

static int ivh_acrn_destroy_vdev(struct ivh_hc *hc, u64 vmid,
				 const struct acrn_vdev *vdev)
{
	return ivh_acrn_call(hc, IVH_HC_DESTROY_VDEV, vmid, vdev,
			     sizeof(*vdev));
}

static int ivh_acrn_inject_msi(struct ivh_hc *hc, u64 vmid,
			       const struct acrn_msi_entry *msi)
{
	return ivh_acrn_call(hc, IVH_HC_INJECT_MSI, vmid, msi, sizeof(*msi));
}

const struct ivh_hc_ops ivh_acrn_hc_ops = {
	.name		= "acrn",
	.create_vdev	= ivh_acrn_create_vdev,
	.destroy_vdev	= ivh_acrn_destroy_vdev,
	.inject_msi	= ivh_acrn_inject_msi,
};
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_acrn_hc_ops);
