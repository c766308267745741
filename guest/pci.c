// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: PCI probe and removal, and BAR2's memory type.
 *
 * BAR0 holds the registers, BAR1 the MSI-X table (doorbell devices only),
 * BAR2 the shared memory. BAR2 gets no struct pages: the kernel maps it
 * with one memory type (module parameter memtype): write-back through
 * memremap(), write-combining or uncached through ioremap_wc()/ioremap()
 * as I/O memory. User mappings (cdev.c, dmabuf.c) insert raw PFNs with the
 * pgprot of that type (ivshmem_pgprot()); on x86, PAT records the type
 * for the range and hands it to them too. So every view of BAR2 has the
 * same type on every architecture (Documentation/guest.rst, "Memory
 * model").
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
	int i = ivshmem_memtype_parse(val);

	if (i < 0)
		return i;
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

/* Read-only once loaded: each device's sysfs memtype changes its own. */
module_param_cb(memtype, &ivshmem_memtype_ops, &ivshmem_memtype, 0444);
MODULE_PARM_DESC(memtype,
		 "memory type of BAR2 at probe, for the kernel and user mappings: auto (default: write-back where the platform grants it, else write-combining), wb, wc or uc; per device: /sys/class/ivshmem/ivshmemN/memtype");

/**
 * ivshmem_memtype_name() - the name sysfs gives a memory type
 * @mt: IVSHMEM_MT_WB, _WC or _UC
 *
 * Context: any.
 * Return: "write-back", "write-combining" or "uncached".
 */
const char *ivshmem_memtype_name(enum ivshmem_memtype mt)
{
	switch (mt) {
	case IVSHMEM_MT_WB:
		return "write-back";
	case IVSHMEM_MT_WC:
		return "write-combining";
	default:
		return "uncached";
	}
}

/**
 * ivshmem_memtype_parse() - the memory type a string asks for
 * @buf: "auto", "wb", "wc", "uc", or a name ivshmem_memtype_name() gives;
 *	a trailing newline is ignored
 *
 * Context: any.
 * Return: the enum ivshmem_memtype value, or -EINVAL.
 */
int ivshmem_memtype_parse(const char *buf)
{
	int i = sysfs_match_string(ivshmem_memtype_names, buf);

	if (i >= 0)
		return i;
	for (i = IVSHMEM_MT_WB; i <= IVSHMEM_MT_UC; i++)
		if (sysfs_streq(buf, ivshmem_memtype_name(i)))
			return i;
	return -EINVAL;
}

/**
 * ivshmem_pgprot() - the protection of a user mapping of BAR2
 * @idev: the device
 * @vm_flags: the VMA's flags
 *
 * Every user view of BAR2 (the device's own mmap and its dma-bufs') takes
 * its memory type from here, the type of the kernel's view, applied to
 * the protection the VMA's flags give (not to vm_page_prot, which an
 * importer's dma_buf_mmap() may have changed): unchanged for write-back,
 * pgprot_writecombine() for write-combining, pgprot_device() (the type
 * ioremap() gives; pgprot_noncached() where the architecture has no
 * device type of its own) for uncached; decrypted, as ioremap() maps
 * MMIO in confidential guests. On x86, PAT then hands vmf_insert_pfn()
 * the type it recorded for BAR2 at probe, which is the same one.
 *
 * Context: any.
 * Return: the protection for the VMA's PTEs.
 */
pgprot_t ivshmem_pgprot(struct ivshmem_dev *idev, unsigned long vm_flags)
{
	pgprot_t prot = pgprot_decrypted(vm_get_page_prot(vm_flags));

	switch (idev->shm_mt) {
	case IVSHMEM_MT_WB:
		return prot;
	case IVSHMEM_MT_WC:
		return pgprot_writecombine(prot);
	default:
		return pgprot_device(prot);
	}
}

#ifdef CONFIG_X86
/*
 * What each of PAT's cache modes is here. Without PAT (nopat, or a CPU
 * without it) write-combining, write-through and write-protected fall
 * back to the bits of uncached-minus, which is what the hardware then
 * does: the first match wins, so uncached-minus comes before them.
 * Write-through and write-protected are never asked for.
 */
static const struct {
	enum page_cache_mode pcm;
	enum ivshmem_memtype mt;
} ivshmem_cache_modes[] = {
	{ _PAGE_CACHE_MODE_WB, IVSHMEM_MT_WB },
	{ _PAGE_CACHE_MODE_UC_MINUS, IVSHMEM_MT_UC },
	{ _PAGE_CACHE_MODE_UC, IVSHMEM_MT_UC },
	{ _PAGE_CACHE_MODE_WC, IVSHMEM_MT_WC },
};

/*
 * The memory type the kernel's page table gives @addr: what PAT granted
 * when the mapping was made, since ioremap() writes the type it got into
 * the kernel PTEs. Large entries keep their PAT bit elsewhere (bit 12).
 * @req, the type asked for, does not matter: the PTE says it all.
 * Returns the type, or IVSHMEM_MT_AUTO for an unknown encoding or an
 * unmapped address.
 */
static enum ivshmem_memtype ivshmem_kernel_memtype(unsigned long addr,
						   enum ivshmem_memtype req)
{
	unsigned int level, i;
	unsigned long prot;
	pte_t *pte;

	pte = lookup_address(addr, &level);
	if (!pte || !pte_present(*pte))
		return IVSHMEM_MT_AUTO;
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
		if (ivshmem_cache_modes[i].mt == IVSHMEM_MT_WB && !pat_enabled())
			return IVSHMEM_MT_UC;
		return ivshmem_cache_modes[i].mt;
	}
	return IVSHMEM_MT_AUTO;
}
#else
/* Without x86 PAT a mapping has the type it asked for. */
static enum ivshmem_memtype ivshmem_kernel_memtype(unsigned long addr,
						   enum ivshmem_memtype req)
{
	return req;
}
#endif

/*
 * Map BAR2 for the kernel with the type @req asks for: memremap() for
 * write-back (ioremap_cache() for memory that is not RAM), a plain kernel
 * pointer in @idev->shm; ioremap_wc() or ioremap() for write-combining
 * and uncached, an __iomem pointer in @idev->shm_io, which only the I/O
 * accessors touch (on arm64 uncached memory is Device memory, where
 * memcpy()'s unaligned accesses fault; write-combining is Normal-NC).
 * Returns the address mapped, as a number for the page-table lookup, or
 * 0 on failure.
 */
static unsigned long ivshmem_map_shm_type(struct ivshmem_dev *idev,
					  enum ivshmem_memtype req)
{
	struct device *dev = &idev->pdev->dev;
	void *p;

	if (req == IVSHMEM_MT_WB) {
		p = devm_memremap(dev, idev->shm_phys, idev->shm_size,
				  MEMREMAP_WB);
		if (IS_ERR(p))
			return 0;
		idev->shm = p;
		return (unsigned long)p;
	}
	if (req == IVSHMEM_MT_WC)
		idev->shm_io = devm_ioremap_wc(dev, idev->shm_phys,
					       idev->shm_size);
	else
		idev->shm_io = devm_ioremap(dev, idev->shm_phys, idev->shm_size);
	return (unsigned long)idev->shm_io;
}

/* Undo ivshmem_map_shm_type(). */
static void ivshmem_unmap_shm(struct ivshmem_dev *idev)
{
	struct device *dev = &idev->pdev->dev;

	if (idev->shm)
		devm_memunmap(dev, idev->shm);
	if (idev->shm_io)
		devm_iounmap(dev, idev->shm_io);
	idev->shm = NULL;
	idev->shm_io = NULL;
}

/**
 * ivshmem_map_shm() - map BAR2 for the kernel with its one memory type
 * @idev: the device; @idev->shm_phys and @idev->shm_size set, BAR2 not
 *	mapped
 * @want: the type asked for, IVSHMEM_MT_AUTO included
 *
 * "auto" asks for write-back and, when the platform grants less (on x86,
 * PAT gives UC- where the MTRRs say uncached, as SeaBIOS and OVMF do for
 * the 32-bit PCI hole), maps again write-combining, which PAT overrides an
 * MTRR UC with. On x86 the type PAT actually granted is read back from the
 * kernel PTE (elsewhere a mapping has the type it asked for) and becomes
 * @idev->shm_mt; a type granted other than the one asked for is mapped
 * again with that type's function. User mappings take their pgprot from it
 * (ivshmem_pgprot()), and PAT gives the PFNs they insert the type it
 * recorded for the range, the same one.
 *
 * Context: process context, may sleep; nothing reads @idev->shm or
 * @idev->shm_io meanwhile.
 * Return: 0 or a negative errno.
 */
static int ivshmem_map_shm(struct ivshmem_dev *idev, enum ivshmem_memtype want)
{
	enum ivshmem_memtype req = want == IVSHMEM_MT_AUTO ? IVSHMEM_MT_WB : want;
	unsigned long addr;
	int tries;

	/* Each retry asks for a less cached type; uncached is always granted. */
	for (tries = 0; tries <= IVSHMEM_MT_UC; tries++) {
		addr = ivshmem_map_shm_type(idev, req);
		if (!addr)
			return -ENOMEM;
		idev->shm_mt = ivshmem_kernel_memtype(addr, req);
		if (idev->shm_mt == IVSHMEM_MT_AUTO)
			break;
		if (idev->shm_mt == req)
			return 0;
		ivshmem_unmap_shm(idev);
		/*
		 * Granted less than asked: "auto" tries write-combining next;
		 * otherwise the mapping is made again with the function of the
		 * type granted, so that @idev->shm or @idev->shm_io matches
		 * @idev->shm_mt (without PAT, a memremap() that asked for
		 * write-back may be uncached to the user but write-back to
		 * the MTRRs: every view then gets the uncached bits).
		 */
		req = want == IVSHMEM_MT_AUTO && req == IVSHMEM_MT_WB ?
		      IVSHMEM_MT_WC : idev->shm_mt;
	}
	dev_err(&idev->pdev->dev,
		"BAR2: unknown memory type in the kernel mapping\n");
	ivshmem_unmap_shm(idev);
	return -EIO;
}

/*
 * Check and claim the BARs, once per binding: BAR0's mapping and BAR2's
 * region belong to the PCI device (devres), the kernel view of BAR2 to
 * each struct ivshmem_dev (ivshmem_start()).
 */
static int ivshmem_claim_bars(struct pci_dev *pdev)
{
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

	start = pci_resource_start(pdev, IVSHMEM_BAR_SHM);
	len = pci_resource_len(pdev, IVSHMEM_BAR_SHM);
	if (!(pci_resource_flags(pdev, IVSHMEM_BAR_SHM) & IORESOURCE_MEM) ||
	    len < PAGE_SIZE) {
		dev_err(&pdev->dev, "BAR2 (shared memory) missing or smaller than a page\n");
		return -ENODEV;
	}
	if (!devm_request_mem_region(&pdev->dev, start, len, KBUILD_MODNAME))
		return -EBUSY;
	return 0;
}

/**
 * ivshmem_set_memtype() - change BAR2's memory type (sysfs memtype)
 * @idev: the device
 * @want: the type asked for, IVSHMEM_MT_AUTO included
 *
 * Maps BAR2 for the kernel again with @want, for the views made after
 * it. Only while no file of the device is open and no dma-buf of it
 * exists: then nothing reaches the kernel view or holds a user view
 * (every mapping holds its file), and vec_lock, which open and release
 * take to count files, keeps a new file out until the change is done.
 * The old view goes first, since x86 PAT hands a second mapping of a
 * range the type already reserved for it.
 *
 * Context: process context, may sleep; takes vec_lock, ivshmem_srcu and
 * dmabuf_lock.
 * Return: 0; -EBUSY while a file is open or a dma-buf exists; -ENODEV
 * after removal; or the new mapping's error, after which BAR2 is mapped
 * with the type asked for before or, if that fails too, not at all
 * (read() and write() then fail with EIO until a later change succeeds).
 */
int ivshmem_set_memtype(struct ivshmem_dev *idev, enum ivshmem_memtype want)
{
	enum ivshmem_memtype old;
	bool busy;
	int idx, ret;

	mutex_lock(&idev->vec_lock);
	idx = srcu_read_lock(&ivshmem_srcu);
	if (!READ_ONCE(idev->alive)) {
		ret = -ENODEV;
		goto unlock;
	}
	mutex_lock(&idev->dmabuf_lock);
	busy = idev->nr_files || !list_empty(&idev->dmabufs);
	mutex_unlock(&idev->dmabuf_lock);
	if (busy) {
		ret = -EBUSY;
		goto unlock;
	}
	old = idev->shm_req;
	ivshmem_unmap_shm(idev);
	ret = ivshmem_map_shm(idev, want);
	if (!ret) {
		idev->shm_req = want;
		dev_info(&idev->pdev->dev, "%s: BAR2 is %s\n",
			 dev_name(&idev->dev), ivshmem_memtype_name(idev->shm_mt));
	} else if (ivshmem_map_shm(idev, old)) {
		dev_err(&idev->pdev->dev,
			"%s: BAR2 unmapped: no read or write until memtype is set again\n",
			dev_name(&idev->dev));
	}
unlock:
	srcu_read_unlock(&ivshmem_srcu, idx);
	mutex_unlock(&idev->vec_lock);
	return ret;
}

/*
 * Make a struct ivshmem_dev for @pdev, its BARs claimed, with BAR2
 * mapped as @req asks, at most @max_vectors vectors, and the function
 * @aux_name ("net": an auxiliary device), or the character device for
 * NULL. Returns 0 or a negative errno; on error @pdev has no device.
 */
static int ivshmem_start(struct pci_dev *pdev, const char *aux_name,
			 enum ivshmem_memtype req, u32 max_vectors)
{
	struct ivshmem_dev *idev;
	int ret;

	idev = ivshmem_dev_alloc(pdev);
	if (IS_ERR(idev))
		return PTR_ERR(idev);

	idev->regs = pcim_iomap_table(pdev)[IVSHMEM_BAR_REGS];
	idev->shm_phys = pci_resource_start(pdev, IVSHMEM_BAR_SHM);
	idev->shm_size = pci_resource_len(pdev, IVSHMEM_BAR_SHM);
	idev->shm_req = req;
	idev->max_vectors = max_vectors;
	ret = ivshmem_map_shm(idev, req);
	if (ret)
		goto put_dev;

	idev->region_id = ivshmem_region_id(pdev->subsystem_vendor,
					    pdev->subsystem_device);
	pci_set_drvdata(pdev, idev);

	/* An auxiliary driver polls where no doorbell or vector 0 is
	 * (ivshmem_net): a device without them serves any function.
	 */
	ivshmem_irq_setup(idev);
	if (aux_name)
		ret = ivshmem_aux_add(idev, aux_name);
	else
		ret = ivshmem_dev_add(idev);
	if (ret)
		goto teardown_irq;

	dev_info(&pdev->dev, "%s: %llu MiB shared memory (%s), peer %u, %u vectors%s%s%s\n",
		 dev_name(&idev->dev), idev->shm_size >> 20,
		 ivshmem_memtype_name(idev->shm_mt),
		 ivshmem_peer_id(idev), idev->vectors,
		 idev->region_id >= 0 ? ", ACRN" : "",
		 aux_name ? ", function " : "", aux_name ? aux_name : "");
	return 0;

teardown_irq:
	ivshmem_irq_teardown(idev);
	pci_set_drvdata(pdev, NULL);
	ivshmem_unmap_shm(idev);
put_dev:
	put_device(&idev->dev);
	return ret;
}

/*
 * Undo ivshmem_start(). BAR2's kernel view is unmapped here when @unmap,
 * else by devres when the driver unbinds (after removal, importers of
 * dma-bufs may still hold views of it: guest/dmabuf.c).
 */
static void ivshmem_stop(struct ivshmem_dev *idev, bool unmap)
{
	if (idev->aux)
		ivshmem_aux_del(idev);
	else
		ivshmem_dev_del(idev);
	ivshmem_irq_teardown(idev);
	pci_set_drvdata(idev->pdev, NULL);
	if (unmap)
		ivshmem_unmap_shm(idev);
	put_device(&idev->dev);
}

/**
 * ivshmem_function() - the name of a device's function
 * @pdev: the PCI device, bound to this driver
 *
 * Context: the caller holds the PCI device's lock, under which the
 * function changes (ivshmem_set_function()).
 * Return: "cdev", the auxiliary device's name ("net"), or "none" after a
 * change of function failed both ways.
 */
const char *ivshmem_function(struct pci_dev *pdev)
{
	struct ivshmem_dev *idev = pci_get_drvdata(pdev);

	device_lock_assert(&pdev->dev);
	if (!idev)
		return "none";
	return idev->aux ? idev->aux->adev.name : "cdev";
}

/**
 * ivshmem_set_function() - make a device a character device or another
 *	function (sysfs ivshmem_function)
 * @pdev: the PCI device, bound to this driver (the attribute's removal at
 *	unbind waits for the store)
 * @name: "cdev", or an auxiliary device name ("net")
 *
 * The device's current function goes first: the character device only
 * while no file is open and no dma-buf exists (marked dead under
 * vec_lock, so a later open() fails with ENODEV), an auxiliary device by
 * deleting it, which runs its driver's remove(). The vectors and BAR2's
 * kernel view are set up again for the new function, with the memory
 * type and max_vectors the device had. If the new function cannot start,
 * the character device comes back.
 *
 * Only the PCI device's lock serialises the change, with the device's
 * probe, remove, reset and the other changes of its function; devices
 * change function independently. No lock of this driver is held across
 * the auxiliary device's deletion, whose driver's remove() may wait long
 * (ivshmem_net: unregister_netdev() takes rtnl and waits until every
 * reference to the interface is dropped).
 *
 * Context: process context, may sleep; the caller holds the PCI device's
 * lock; takes vec_lock, then dmabuf_lock.
 * Return: 0 (also when @name is the current function); -EINVAL for an
 * unknown name; -EBUSY while a file is open or a dma-buf exists;
 * -EOPNOTSUPP when the function needs what the device or kernel lacks
 * (the auxiliary bus); or the error of the new function's start. A
 * device without doorbell or vector 0 (ivshmem-plain, pci=nomsi, vectors
 * taken) takes "net" too: ivshmem_net polls there.
 */
int ivshmem_set_function(struct pci_dev *pdev, const char *name)
{
	const char *aux_name = NULL;
	struct ivshmem_dev *idev;
	enum ivshmem_memtype req;
	u32 max_vectors;
	bool busy;
	int ret;

	if (sysfs_streq(name, IVSHMEM_AUX_NET))
		aux_name = IVSHMEM_AUX_NET;
	else if (!sysfs_streq(name, "cdev"))
		return -EINVAL;

	device_lock_assert(&pdev->dev);
	idev = pci_get_drvdata(pdev);
	ret = -ENODEV;
	if (!idev)
		goto unlock;
	ret = 0;
	if (!idev->aux == !aux_name)
		goto unlock;
	ret = -EOPNOTSUPP;
	if (aux_name && !IS_ENABLED(CONFIG_AUXILIARY_BUS))
		goto unlock;
	if (!idev->aux) {
		mutex_lock(&idev->vec_lock);
		mutex_lock(&idev->dmabuf_lock);
		busy = idev->nr_files || !list_empty(&idev->dmabufs);
		mutex_unlock(&idev->dmabuf_lock);
		if (!busy)
			WRITE_ONCE(idev->alive, false);
		mutex_unlock(&idev->vec_lock);
		ret = -EBUSY;
		if (busy)
			goto unlock;
	}
	req = idev->shm_req;
	max_vectors = idev->max_vectors;
	ivshmem_stop(idev, true);
	ret = ivshmem_start(pdev, aux_name, req, max_vectors);
	if (ret && aux_name && ivshmem_start(pdev, NULL, req, max_vectors))
		dev_err(&pdev->dev, "no function left: unbind and bind the driver\n");
unlock:
	return ret;
}

static int ivshmem_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = ivshmem_claim_bars(pdev);
	if (ret)
		return ret;
	return ivshmem_start(pdev, NULL, ivshmem_memtype, IVSHMEM_MAX_VECTORS);
}

static void ivshmem_remove(struct pci_dev *pdev)
{
	struct ivshmem_dev *idev = pci_get_drvdata(pdev);

	/* A failed function change can leave the device without one. */
	if (idev)
		ivshmem_stop(idev, false);
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
	.dev_groups = ivshmem_pci_groups,
};
