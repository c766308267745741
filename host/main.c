// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem_host: inter-VM shared memory for ACRN's Service VM.
 *
 * Extends ACRN's HSM with a registry of named shared-memory regions
 * ("hv:/" emulated by the hypervisor, "dm:/" by the device model), memory
 * for dm-land regions and dm-land doorbells (eventfds, which a guest VM's
 * device model hands to HSM's irqfd), through /dev/ivshmem_host and
 * through the per-VM filesystem "ivshmem_host" that lets unmodified
 * acrn-dm's shm_open() land on it (fs.c). It issues no hypercall. See
 * Documentation/host.rst.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "../compat.h"
#include "ivshmem_host_drv.h"

static char *regions;
module_param(regions, charp, 0444);
MODULE_PARM_DESC(regions,
		 "regions at load, ACRN IVSHMEM_REGION syntax with an optional region ID: name,size_mb,vmid:vmid[,region_id][;...], e.g. \"dm:/a,2,1:2,5;hv:/shm_region_0,2,0:2\"");

static struct ivh_host ivh_host;

static int ivh_load_regions(struct ivh_host *host, const char *list)
{
	struct ivh_config_error err = {};
	struct ivh_region_spec *specs;
	unsigned int nr, i;
	const char *why;
	int ret;

	specs = kcalloc(IVH_MAX_REGIONS, sizeof(*specs), GFP_KERNEL);
	if (!specs)
		return -ENOMEM;
	ret = ivh_parse_regions(list, specs, IVH_MAX_REGIONS, &nr, &err);
	if (ret) {
		pr_err("regions: entry %u: %s (%d)\n", err.entry, err.why, ret);
		goto free_specs;
	}
	for (i = 0; i < nr; i++) {
		ret = ivh_region_add(host, &specs[i], &why);
		if (ret) {
			pr_err("regions: \"%s\": %s (%d)\n", specs[i].name, why,
			       ret);
			goto free_specs;
		}
	}
	if (nr)
		pr_info("%u region(s) from the module parameter\n", nr);
free_specs:
	kfree(specs);
	return ret;
}

static int __init ivh_init(void)
{
	int ret;

	ret = ivh_host_init(&ivh_host, ivh_acrn_service_vm());
	if (ret)
		return ret;
	ret = ivh_load_regions(&ivh_host, regions);
	if (ret)
		goto destroy_host;
	ret = ivh_misc_register(&ivh_host);
	if (ret)
		goto destroy_host;
	ret = ivh_fs_register(&ivh_host);
	if (ret)
		goto deregister_misc;
	ivh_mem_debugfs_create();
	pr_info("ready%s\n", ivh_host.acrn ? " in ACRN's Service VM" : "");
	return 0;

deregister_misc:
	ivh_misc_deregister();
destroy_host:
	ivh_host_destroy(&ivh_host);
	return ret;
}

static void __exit ivh_exit(void)
{
	ivh_mem_debugfs_remove();
	ivh_fs_unregister();
	ivh_misc_deregister();
	ivh_host_destroy(&ivh_host);
}

module_init(ivh_init);
module_exit(ivh_exit);

MODULE_DESCRIPTION("Inter-VM shared memory regions and doorbells for ACRN's Service VM");
MODULE_LICENSE("GPL");
MODULE_VERSION(IVSHMEM_VERSION);
