// SPDX-License-Identifier: GPL-2.0
/*
 * Whether the module runs in ACRN's privileged Service VM.
 *
 * The module issues no hypercall: guest-VM doorbells reach their VM through
 * an eventfd that the VM's own device model registered with HSM
 * (ACRN_IOCTL_IRQFD), and hv-land devices are created by acrn-dm through
 * its own HSM fd. Only INFO reports where the module runs.
 */

#include <asm/hypervisor.h>
#include <asm/acrn.h>

#include <kunit/visibility.h>

#include "../compat.h"
#include "ivshmem_host_drv.h"

/**
 * ivh_acrn_service_vm() - are we ACRN's privileged Service VM?
 *
 * The same test as HSM's: the hypervisor is ACRN and CPUID 0x40000001
 * bit 0 says this VM is privileged.
 *
 * Return: true in ACRN's Service VM.
 */
bool ivh_acrn_service_vm(void)
{
	if (!hypervisor_is_type(X86_HYPER_ACRN))
		return false;
	return cpuid_eax(ACRN_CPUID_FEATURES) & ACRN_FEATURE_PRIVILEGED_VM;
}
EXPORT_SYMBOL_IF_KUNIT(ivh_acrn_service_vm);
