// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: PCI probe and removal, and BAR2's memory type.
 *
 * BAR0 holds the registers, BAR1 the MSI-X table (doorbell devices only),
 * BAR2 the shared memory. BAR2 gets no struct pages: the kernel maps it
 * once at probe with one memory type (module parameter memtype), x86 PAT
 * records that type for the range, and user mappings (cdev.c) insert raw
 * PFNs, which take the type PAT recorded. So every view of BAR2 has the
 * same type (Documentation/guest.rst, "Memory model").
 */
#include <linux/io.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#ifdef CONFIG_X86
#include <asm/memtype.h>
#include <linux/pgtable.h>
#endif

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

/* Values of the memtype module parameter. */
enum ivshmem_memtype_req {
	IVSHMEM_MT_AUTO,
	IVSHMEM_MT_WB,
	IVSHMEM_MT_WC,
	IVSHMEM_MT_UC,
};

static const char * const ivshmem_memtype_names[] = {
	[IVSHMEM_MT_AUTO] = "auto",
	[IVSHMEM_MT_WB] = "wb",
	[IVSHMEM_MT_WC] = "wc",
	[IVSHMEM_MT_UC] = "uc",
};

static int ivshmem_memtype = IVSHMEM_MT_AUTO;

/* An unknown value fails insmod with EINVAL and changes nothing. */
static int ivshmem_memtype_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(ivshmem_memtype_names, val);

	if (i < 0)
		return -EINVAL;
	*(int *)kp->arg = i;
	return 0;
}

static int ivshmem_memtype_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%s\n",
			 ivshmem_memtype_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops ivshmem_memtype_ops = {
	.set = ivshmem_memtype_set,
	.get = ivshmem_memtype_get,
};

/* Read-only once loaded: every device of one load uses the same rule. */
module_param_cb(memtype, &ivshmem_memtype_ops, &ivshmem_memtype, 0444);
MODULE_PARM_DESC(memtype,
		 "memory type of BAR2 for the kernel and user mappings: auto (default: write-back where PAT grants it, else write-combining), wb, wc or uc");

#ifdef CONFIG_X86
/*
 * PAT's cache modes, named as /sys/kernel/debug/x86/pat_memtype_list does.
 * With PAT every mode has its own PTE bits. Without it (nopat, or a CPU
 * without PAT) write-combining and write-protected fall back to the bits
 * of uncached-minus, which is what the hardware then does: the first
 * match wins, so uncached-minus comes before them.
 */
static const struct {
	enum page_cache_mode pcm;
	const char *name;
} ivshmem_cache_modes[] = {
	{ _PAGE_CACHE_MODE_WB, "write-back" },
	{ _PAGE_CACHE_MODE_UC_MINUS, "uncached-minus" },
	{ _PAGE_CACHE_MODE_UC, "uncached" },
	{ _PAGE_CACHE_MODE_WT, "write-through" },
	{ _PAGE_CACHE_MODE_WC, "write-combining" },
	{ _PAGE_CACHE_MODE_WP, "write-protected" },
};

/*
 * The memory type the kernel's page table gives @addr: what PAT granted
 * when the mapping was made, since ioremap() writes the type it got into
 * the kernel PTEs. Large entries keep their PAT bit elsewhere (bit 12).
 * @req, the type asked for, only matters without PAT. Sets *@wb when the
 * type is write-back. Returns the type's name, or NULL for an unknown
 * encoding or an unmapped address.
 */
static const char *ivshmem_kernel_memtype(const void *addr, int req,
					  bool *wb)
{
	unsigned int level, i;
	unsigned long prot;
	pte_t *pte;

	pte = lookup_address((unsigned long)addr, &level);
	if (!pte || !pte_present(*pte))
		return NULL;
	if (level == PG_LEVEL_4K)
		prot = pte_flags(*pte);
	else if (level == PG_LEVEL_2M)
		prot = pgprot_val(pgprot_large_2_4k(__pgprot(pmd_flags(*(pmd_t *)pte))));
	else
		prot = pgprot_val(pgprot_large_2_4k(__pgprot(pud_flags(*(pud_t *)pte))));
	prot &= _PAGE_CACHE_MASK;
	for (i = 0; i < ARRAY_SIZE(ivshmem_cache_modes); i++) {
		if (cachemode2protval(ivshmem_cache_modes[i].pcm) != prot)
			continue;
		/* Without PAT the MTRRs alone decide: never claim write-back. */
		*wb = ivshmem_cache_modes[i].pcm == _PAGE_CACHE_MODE_WB &&
		      pat_enabled();
		return ivshmem_cache_modes[i].name;
	}
	return NULL;
}
#else
/* Without x86 PAT a mapping has the type it asked for. */
static const char *ivshmem_kernel_memtype(const void *addr, int req, bool *wb)
{
	*wb = req == IVSHMEM_MT_WB;
	return req == IVSHMEM_MT_WB ? "write-back" :
	       req == IVSHMEM_MT_WC ? "write-combining" : "uncached-minus";
}
#endif

/*
 * Map BAR2 for the kernel with the type @req asks for. memremap() gives
 * write-back (ioremap_cache() for memory that is not RAM) and
 * write-combining; uncached comes from ioremap() (UC-), whose result is
 * an ordinary kernel virtual address on x86 that the driver reads with
 * memcpy() like memremap()'s, hence the cast.
 */
static void *ivshmem_map_shm_type(struct device *dev, resource_size_t start,
				  resource_size_t len, int req)
{
	void __iomem *io;

	switch (req) {
	case IVSHMEM_MT_WB:
		return devm_memremap(dev, start, len, MEMREMAP_WB);
	case IVSHMEM_MT_WC:
		return devm_memremap(dev, start, len, MEMREMAP_WC);
	default:
		io = devm_ioremap(dev, start, len);
		return io ? (__force void *)io : ERR_PTR(-ENOMEM);
	}
}

/**
 * ivshmem_map_shm() - map BAR2 for the kernel with its one memory type
 * @idev: the device being probed; @idev->shm_phys and @idev->shm_size set
 *
 * Makes @idev->shm with the type the memtype parameter asks for; "auto"
 * asks for write-back and, when PAT grants less (UC- where the MTRRs say
 * uncached, as SeaBIOS and OVMF do for the 32-bit PCI hole), maps again
 * write-combining, which PAT overrides an MTRR UC with. Then reads the
 * type PAT actually granted from the kernel PTE: user mappings insert
 * PFNs, which take the type PAT recorded for the range, so they see the
 * same one. Sets @idev->shm_type and @idev->shm_wb.
 *
 * Context: probe, may sleep.
 * Return: 0 or a negative errno.
 */
static int ivshmem_map_shm(struct ivshmem_dev *idev)
{
	struct device *dev = &idev->pdev->dev;
	int req = ivshmem_memtype == IVSHMEM_MT_AUTO ? IVSHMEM_MT_WB :
						       ivshmem_memtype;

	for (;;) {
		idev->shm = ivshmem_map_shm_type(dev, idev->shm_phys,
						 idev->shm_size, req);
		if (IS_ERR(idev->shm))
			return PTR_ERR(idev->shm);
		idev->shm_type = ivshmem_kernel_memtype(idev->shm, req,
							&idev->shm_wb);
		if (!idev->shm_type) {
			dev_err(dev, "BAR2: unknown memory type in the kernel mapping\n");
			return -EIO;
		}
		if (idev->shm_wb || ivshmem_memtype != IVSHMEM_MT_AUTO ||
		    req != IVSHMEM_MT_WB)
			return 0;
		/* auto, and PAT did not grant write-back. */
		devm_memunmap(dev, idev->shm);
		req = IVSHMEM_MT_WC;
	}
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
	idev->shm_phys = start;
	idev->shm_size = len;
	return ivshmem_map_shm(idev);
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

	dev_info(&pdev->dev, "%s: %llu MiB shared memory (%s), peer %u, %u vectors%s\n",
		 dev_name(&idev->dev), idev->shm_size >> 20, idev->shm_type,
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

/*
 * Only devices of class 0x0500 (memory controller, RAM): QEMU's
 * ivshmem-plain and ivshmem-doorbell, and ACRN's dm-land and hv-land
 * devices, which write base class 0x05 and leave subclass and programming
 * interface 0. 1af4:1110 devices that declare a protocol in their class
 * code (virtio over ivshmem: PCI_CLASS_OTHERS and the protocol in the
 * programming interface) belong to the drivers of that protocol.
 * kunit/guest_pci_test.c checks the match.
 */
VISIBLE_IF_KUNIT const struct pci_device_id ivshmem_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110),
	  .class = PCI_CLASS_MEMORY_RAM << 8, .class_mask = 0xffff00 },
	{ }
};
EXPORT_SYMBOL_IF_KUNIT(ivshmem_ids);
MODULE_DEVICE_TABLE(pci, ivshmem_ids);

struct pci_driver ivshmem_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = ivshmem_ids,
	.probe = ivshmem_probe,
	.remove = ivshmem_remove,
};
