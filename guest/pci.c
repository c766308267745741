// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: PCI probe and removal.
 *
 * BAR0 holds the registers, BAR1 the MSI-X table (doorbell devices only),
 * BAR2 the shared memory. BAR2 is RAM on the host, so user mappings should
 * be write-back: BAR2 gets struct pages where the kernel has ZONE_DEVICE,
 * else a write-back memremap() that records the memory type for PAT.
 */
#include <linux/io.h>
#include <linux/memremap.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "ivshmem_drv.h"
#include "util.h"

#define IVSHMEM_BAR_REGS	0
#define IVSHMEM_BAR_SHM		2

/**
 * ivshmem_peer_id() - read this device's own peer ID
 * @idev: the device; must be alive
 *
 * Context: any; the caller keeps the device alive (SRCU or sysfs).
 * Return: the IVPosition register.
 */
u32 ivshmem_peer_id(struct ivshmem_dev *idev)
{
	return readl(idev->regs + IVSHMEM_REG_IVPOSITION);
}

/*
 * Give BAR2 struct pages (ZONE_DEVICE) so that user mappings are built
 * from pages with the mapping's own protection: write-back. Mappings of
 * raw PFNs take the memory type x86 PAT records for the range instead,
 * and PAT turns a write-back request into UC- wherever the guest's MTRRs
 * say uncached, which SeaBIOS and OVMF do for all PCI memory. The kernel's
 * own mapping (for read/write) is still UC- there.
 */
static void *ivshmem_map_shm_pages(struct pci_dev *pdev,
				   resource_size_t start, resource_size_t len)
{
#if IS_ENABLED(CONFIG_ZONE_DEVICE)
	struct dev_pagemap *pgmap;

	/* Hot-added memory comes in subsections (2 MiB on x86-64). */
	if (!IS_ALIGNED(start | len, PAGES_PER_SUBSECTION << PAGE_SHIFT))
		return ERR_PTR(-EINVAL);
	/* Allocated first, so devres frees it after memunmap_pages(). */
	pgmap = devm_kzalloc(&pdev->dev, sizeof(*pgmap), GFP_KERNEL);
	if (!pgmap)
		return ERR_PTR(-ENOMEM);
	pgmap->type = MEMORY_DEVICE_GENERIC;
	pgmap->range.start = start;
	pgmap->range.end = start + len - 1;
	pgmap->nr_range = 1;
	return devm_memremap_pages(&pdev->dev, pgmap);
#else
	return ERR_PTR(-EOPNOTSUPP);
#endif
}

static int ivshmem_map_bars(struct ivshmem_dev *idev)
{
	struct pci_dev *pdev = idev->pdev;
	resource_size_t start, len;
	int ret;

	if (!(pci_resource_flags(pdev, IVSHMEM_BAR_REGS) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, IVSHMEM_BAR_REGS) < IVSHMEM_REG_DOORBELL + 4) {
		dev_err(&pdev->dev, "BAR0 (registers) missing or too small\n");
		return -ENODEV;
	}
	ret = pcim_iomap_regions(pdev, BIT(IVSHMEM_BAR_REGS), KBUILD_MODNAME);
	if (ret)
		return ret;
	idev->regs = pcim_iomap_table(pdev)[IVSHMEM_BAR_REGS];

	start = pci_resource_start(pdev, IVSHMEM_BAR_SHM);
	len = pci_resource_len(pdev, IVSHMEM_BAR_SHM);
	if (!(pci_resource_flags(pdev, IVSHMEM_BAR_SHM) & IORESOURCE_MEM) ||
	    len < PAGE_SIZE) {
		dev_err(&pdev->dev, "BAR2 (shared memory) missing or smaller than a page\n");
		return -ENODEV;
	}
	if (!devm_request_mem_region(&pdev->dev, start, len, KBUILD_MODNAME))
		return -EBUSY;
	idev->shm = ivshmem_map_shm_pages(pdev, start, len);
	if (!IS_ERR(idev->shm)) {
		idev->shm_pages = true;
	} else {
		dev_info(&pdev->dev, "BAR2 without struct pages (%pe): user mappings take its PAT memory type\n",
			 idev->shm);
		idev->shm = devm_memremap(&pdev->dev, start, len, MEMREMAP_WB);
		if (IS_ERR(idev->shm))
			return PTR_ERR(idev->shm);
	}
	idev->shm_phys = start;
	idev->shm_size = len;
	return 0;
}

static int ivshmem_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct ivshmem_dev *idev;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	idev = ivshmem_dev_alloc(pdev);
	if (IS_ERR(idev))
		return PTR_ERR(idev);

	ret = ivshmem_map_bars(idev);
	if (ret)
		goto put_dev;

	idev->region_id = ivshmem_region_id(pdev->subsystem_vendor,
					    pdev->subsystem_device);
	pci_set_drvdata(pdev, idev);

	ivshmem_irq_setup(idev);

	ret = ivshmem_dev_add(idev);
	if (ret)
		goto teardown_irq;

	dev_info(&pdev->dev, "%s: %llu MiB shared memory, peer %u, %u vectors%s\n",
		 dev_name(&idev->dev), idev->shm_size >> 20,
		 ivshmem_peer_id(idev), idev->vectors,
		 idev->region_id >= 0 ? ", ACRN" : "");
	return 0;

teardown_irq:
	ivshmem_irq_teardown(idev);
put_dev:
	put_device(&idev->dev);
	return ret;
}

static void ivshmem_remove(struct pci_dev *pdev)
{
	struct ivshmem_dev *idev = pci_get_drvdata(pdev);

	ivshmem_dev_del(idev);
	ivshmem_irq_teardown(idev);
	put_device(&idev->dev);
	/* devres now unmaps the BARs: nothing can reach them any more. */
}

static const struct pci_device_id ivshmem_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) },
	{ }
};
MODULE_DEVICE_TABLE(pci, ivshmem_ids);

struct pci_driver ivshmem_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = ivshmem_ids,
	.probe = ivshmem_probe,
	.remove = ivshmem_remove,
};
