// SPDX-License-Identifier: GPL-2.0
/*
 * Selection of the hypercall table, and the table used off ACRN.
 */

#include <linux/errno.h>

#include "../compat.h"
#include "hypercall.h"

static int ivh_none_vdev(struct ivh_hc *hc, u64 vmid,
			 const struct acrn_vdev *vdev)
{
	return -EOPNOTSUPP;
}

static int ivh_none_inject_msi(struct ivh_hc *hc, u64 vmid,
			       const struct acrn_msi_entry *msi)
{
	return -EOPNOTSUPP;
}

/* Not ACRN's Service VM: guest-VM operations are refused. */
const struct ivh_hc_ops ivh_none_hc_ops = {
	.name		= "none",
	.create_vdev	= ivh_none_vdev,
	.destroy_vdev	= ivh_none_vdev,
	.inject_msi	= ivh_none_inject_msi,
};
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_none_hc_ops);

/**
 * ivh_hc_select() - pick the hypercall table for this machine
 * @hc:	filled in.
 *
 * ACRN's implementation only when running as its privileged Service VM
 * (vmcall would fault anywhere else), otherwise ivh_none_hc_ops.
 */
void ivh_hc_select(struct ivh_hc *hc)
{
	if (ivh_acrn_service_vm()) {
		hc->ops = &ivh_acrn_hc_ops;
		hc->raw = ivh_acrn_vmcall;
		hc->live = true;
	} else {
		hc->ops = &ivh_none_hc_ops;
		hc->raw = NULL;
		hc->live = false;
	}
	hc->priv = NULL;
}
EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(ivh_hc_select);
