// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: DMA-BUF export of BAR2 ranges (IVSHMEM_IOCTL_DMABUF).
 *
 * Owns struct ivshmem_export, the dma-buf operations and their revocation
 * at device removal. The exporter uses no struct pages: an attachment's
 * sg_table holds only DMA addresses from dma_map_resource() for the
 * importer's device (sg_page() is NULL), user mappings of the dma-buf fd
 * are PFN maps filled on fault, and a vmap is a vmap_pfn() mapping of its
 * own. The exporter is static (no pin/unpin): the core never sends
 * move_notify on its behalf, and neither does removal.
 *
 * Removal (ivshmem_dmabuf_revoke(), after the driver's SRCU grace period):
 * - user mappings of every dma-buf are zapped through the dma-buf
 *   inode's address space; later faults raise SIGBUS;
 * - a live vmap has its page table entries pointed at a zeroed page of
 *   its own, so an importer still holding the pointer reads zeroes (or
 *   what it wrote there itself) and never reaches BAR2 or freed memory;
 * - live attachment mappings stay allocated until the importer unmaps
 *   them; their DMA addresses name a range that no longer decodes;
 * - mmap, attach, map_dma_buf and begin/end_cpu_access fail with
 *   ENODEV; a new vmap shows the zeroed page (the dma-buf core WARNs on
 *   a failing vmap).
 *
 * Locking: ivshmem_dev.dmabuf_lock protects the device's list of exports
 * and each export's vmap and revocation state. The dma-buf core calls
 * vmap/vunmap with its own lock held (6.1: dma_buf.lock, 6.2+: the
 * reservation lock), outside ours. Faults, mmap, map and CPU access use
 * the driver's SRCU and ivshmem_dev.alive instead.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <asm/tlbflush.h>

#include "compat.h"
#include "ivshmem_drv.h"
#include "util.h"

MODULE_IMPORT_NS(DMA_BUF);

static_assert(sizeof(struct ivshmem_dmabuf) == 40);

/* Pages mapped per fault of a dma-buf mapping. */
#define IVSHMEM_DMABUF_FAULT_AROUND	16

/**
 * struct ivshmem_export - one exported dma-buf
 * @idev:	the device; the export holds a reference on its class device.
 * @dmabuf:	the dma-buf.
 * @inode:	the dma-buf's inode, pinned: removal zaps user mappings
 *		through its address space, which must outlive the file.
 * @node:	on @idev->dmabufs, under @idev->dmabuf_lock.
 * @offset:	start of the range in BAR2.
 * @size:	length of the range.
 * @writable:	exported with IVSHMEM_DMABUF_RDWR.
 * @revoked:	removal has run; under @idev->dmabuf_lock.
 * @vaddr:	the vmap, or NULL; under @idev->dmabuf_lock.
 * @dummy:	the zeroed page a revoked vmap points at; with @vaddr.
 */
struct ivshmem_export {
	struct ivshmem_dev *idev;
	struct dma_buf *dmabuf;
	struct inode *inode;
	struct list_head node;
	u64 offset;
	u64 size;
	bool writable;
	bool revoked;
	void *vaddr;
	struct page *dummy;
};

static unsigned long ivshmem_export_pfn(struct ivshmem_export *exp)
{
	return PHYS_PFN(exp->idev->shm_phys + exp->offset);
}

/**
 * ivshmem_dmabuf_supported() - whether BAR2 can be exported
 * @idev: the device
 *
 * The kernel's helpers for memory without struct pages (vmap_pfn(),
 * dma_map_resource()) refuse pages the memory map covers.
 *
 * Context: any.
 * Return: true when BAR2 has no struct pages.
 */
bool ivshmem_dmabuf_supported(struct ivshmem_dev *idev)
{
	return !pfn_valid(PHYS_PFN(idev->shm_phys)) &&
	       !pfn_valid(PHYS_PFN(idev->shm_phys + idev->shm_size - 1));
}

/*
 * vmap needs vmap_pfn() (CONFIG_VMAP_PFN, selected by i915 and Hyper-V;
 * Debian's kernels have it) and the x86 page-table helpers exported to
 * modules (lookup_address(), __flush_tlb_all()). Elsewhere the dma-bufs
 * have no vmap operation: dma_buf_vmap() fails with EINVAL, quietly.
 */
#define IVSHMEM_DMABUF_VMAP \
	(IS_ENABLED(CONFIG_X86) && IS_ENABLED(CONFIG_VMAP_PFN))

#if IVSHMEM_DMABUF_VMAP
/*
 * The kernel page protection of the driver's own BAR2 mapping, cache
 * bits included, so that a vmap has the same memory type (x86 PAT: the
 * type reserved for BAR2 while that mapping exists).
 */
static pgprot_t ivshmem_dmabuf_prot(struct ivshmem_dev *idev)
{
	unsigned long cache;
	unsigned int level;
	pgprot_t large;
	pte_t *pte;

	pte = lookup_address((unsigned long)idev->shm, &level);
	if (!pte)
		return pgprot_noncached(PAGE_KERNEL);
	switch (level) {
	case PG_LEVEL_4K:
		cache = pte_flags(*pte);
		break;
	case PG_LEVEL_2M:
		large = __pgprot(pmd_flags(*(pmd_t *)pte));
		cache = pgprot_val(pgprot_large_2_4k(large));
		break;
	case PG_LEVEL_1G:
		large = __pgprot(pud_flags(*(pud_t *)pte));
		cache = pgprot_val(pgprot_large_2_4k(large));
		break;
	default:
		return pgprot_noncached(PAGE_KERNEL);
	}
	return __pgprot((pgprot_val(PAGE_KERNEL) & ~_PAGE_CACHE_MASK) |
			(cache & _PAGE_CACHE_MASK));
}

static void ivshmem_dmabuf_flush_local(void *unused)
{
	__flush_tlb_all();
}

/**
 * ivshmem_dmabuf_redirect() - point a vmap at the export's zeroed page
 * @exp: the export, with a live vmap
 *
 * Each 4 KiB entry of the vmap_pfn() mapping is rewritten in one store,
 * so a CPU reading through it sees BAR2 or the dummy page, never a hole;
 * then every CPU forgets the old translations (x86 exports neither
 * init_mm nor a kernel range flush to modules; lookup_address() and
 * __flush_tlb_all() are exported).
 *
 * Context: process context; @exp->idev->dmabuf_lock held.
 */
static void ivshmem_dmabuf_redirect(struct ivshmem_export *exp)
{
	unsigned long addr = (unsigned long)exp->vaddr;
	unsigned long end = addr + exp->size;
	pte_t dummy = mk_pte(exp->dummy, PAGE_KERNEL);
	unsigned int level;
	pte_t *pte;

	for (; addr < end; addr += PAGE_SIZE) {
		pte = lookup_address(addr, &level);
		/* vmap_pfn() built every entry, 4 KiB each. */
		if (!WARN_ON_ONCE(!pte || level != PG_LEVEL_4K))
			set_pte(pte, dummy);
	}
	on_each_cpu(ivshmem_dmabuf_flush_local, NULL, 1);
}
#else
/* No vmap exists to redirect. */
static void ivshmem_dmabuf_redirect(struct ivshmem_export *exp) { }
#endif

/**
 * ivshmem_dmabuf_revoke() - cut every dma-buf of a device off BAR2
 * @idev: the device; removal has cleared @alive and waited for SRCU
 *
 * Zaps the user mappings of each dma-buf and points each live vmap at
 * its zeroed page, before devres unmaps BAR2. Later operations fail
 * with ENODEV (map_dma_buf: SRCU) or, for a vmap (under
 * @idev->dmabuf_lock), show a zeroed page; later faults raise SIGBUS.
 *
 * Context: process context, may sleep; takes @idev->dmabuf_lock.
 */
void ivshmem_dmabuf_revoke(struct ivshmem_dev *idev)
{
	struct ivshmem_export *exp;

	mutex_lock(&idev->dmabuf_lock);
	list_for_each_entry(exp, &idev->dmabufs, node) {
		exp->revoked = true;
		unmap_mapping_range(exp->inode->i_mapping, 0, 0, 1);
		if (!exp->vaddr)
			continue;
		ivshmem_dmabuf_redirect(exp);
		dev_info(&idev->dev, "dma-buf of [%#llx, +%#llx) revoked with a live vmap: it reads zeroes now\n",
			 exp->offset, exp->size);
	}
	mutex_unlock(&idev->dmabuf_lock);
}

static int ivshmem_dmabuf_attach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	struct ivshmem_export *exp = dmabuf->priv;

	/* dma_map_resource() WARNs for a device without a DMA mask. */
	if (!attach->dev->dma_mask)
		return -EINVAL;
	return READ_ONCE(exp->idev->alive) ? 0 : -ENODEV;
}

/**
 * ivshmem_dmabuf_map() - DMA addresses of the range for an importer
 * @attach: the importer's attachment
 * @dir: the direction of the importer's DMA
 *
 * One dma_map_resource() of the whole range for @attach->dev, cut into
 * entries of at most the device's segment size. The entries have no
 * pages. A read-only dma-buf refuses directions that let the device
 * write.
 *
 * Context: process context; 6.2+: the reservation lock held.
 * Return: the table, or ERR_PTR(-EINVAL, -EACCES, -ENODEV, -ENOMEM, -EIO).
 */
static struct sg_table *ivshmem_dmabuf_map(struct dma_buf_attachment *attach,
					   enum dma_data_direction dir)
{
	struct ivshmem_export *exp = attach->dmabuf->priv;
	struct ivshmem_dev *idev = exp->idev;
	struct device *dev = attach->dev;
	unsigned int seg, nents, i;
	struct scatterlist *sg;
	struct sg_table *sgt;
	dma_addr_t addr = DMA_MAPPING_ERROR;
	u64 done = 0;
	int idx, ret;

	/* dma_map_resource() BUG()s on a bad direction. */
	if (!valid_dma_direction(dir))
		return ERR_PTR(-EINVAL);
	if (!exp->writable && dir != DMA_TO_DEVICE)
		return ERR_PTR(-EACCES);
	seg = max_t(unsigned int, PAGE_SIZE,
		    rounddown(dma_get_max_seg_size(dev), PAGE_SIZE));
	nents = DIV_ROUND_UP_ULL(exp->size, seg);

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		goto free_sgt;

	idx = srcu_read_lock(&ivshmem_srcu);
	if (READ_ONCE(idev->alive))
		addr = dma_map_resource(dev, idev->shm_phys + exp->offset,
					exp->size, dir, DMA_ATTR_SKIP_CPU_SYNC);
	else
		ret = -ENODEV;
	srcu_read_unlock(&ivshmem_srcu, idx);
	if (!ret && dma_mapping_error(dev, addr))
		ret = -EIO;
	if (ret)
		goto free_table;

	for_each_sgtable_sg(sgt, sg, i) {
		unsigned int len = min_t(u64, seg, exp->size - done);

		sg_set_page(sg, NULL, len, 0);
		sg_dma_address(sg) = addr + done;
		sg_dma_len(sg) = len;
		done += len;
	}
	return sgt;

free_table:
	sg_free_table(sgt);
free_sgt:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void ivshmem_dmabuf_unmap(struct dma_buf_attachment *attach,
				 struct sg_table *sgt,
				 enum dma_data_direction dir)
{
	struct ivshmem_export *exp = attach->dmabuf->priv;

	/* Only the importer's IOMMU, if any: BAR2 is not touched. */
	dma_unmap_resource(attach->dev, sg_dma_address(sgt->sgl), exp->size,
			   dir, DMA_ATTR_SKIP_CPU_SYNC);
	sg_free_table(sgt);
	kfree(sgt);
}

/**
 * ivshmem_dmabuf_fault() - map BAR2 pages into a dma-buf mapping
 * @vmf: the fault
 *
 * Inserts the faulting page and up to IVSHMEM_DMABUF_FAULT_AROUND - 1
 * after it as PFNs; x86 PAT gives them the memory type reserved for
 * BAR2, the one of the driver's own mapping. Inside SRCU, so removal's
 * zap (after its grace period) finds every entry.
 *
 * Context: mmap lock held for read; enters ivshmem_srcu.
 * Return: VM_FAULT_NOPAGE, VM_FAULT_SIGBUS once the device is gone or
 * past the dma-buf, or the first insertion's error.
 */
static vm_fault_t ivshmem_dmabuf_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct ivshmem_export *exp = vma->vm_private_data;
	unsigned long addr = vmf->address & PAGE_MASK;
	pgoff_t pgoff = vmf->pgoff, pages = exp->size >> PAGE_SHIFT;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	int i, idx;

	idx = srcu_read_lock(&ivshmem_srcu);
	if (!READ_ONCE(exp->idev->alive))
		goto unlock;
	for (i = 0; i < IVSHMEM_DMABUF_FAULT_AROUND && addr < vma->vm_end &&
	     pgoff < pages; i++, addr += PAGE_SIZE, pgoff++) {
		vm_fault_t r = vmf_insert_pfn(vma, addr,
					      ivshmem_export_pfn(exp) + pgoff);

		if (!i)
			ret = r;
		if (r != VM_FAULT_NOPAGE)
			break;
	}
unlock:
	srcu_read_unlock(&ivshmem_srcu, idx);
	return ret;
}

static const struct vm_operations_struct ivshmem_dmabuf_vm_ops = {
	.fault = ivshmem_dmabuf_fault,
};

/*
 * The core has checked the range against the dma-buf's size and, for
 * its own fd, the file mode (a read-only dma-buf's file is O_RDONLY).
 * The checks here also cover an importer's dma_buf_mmap().
 */
static int ivshmem_dmabuf_mmap(struct dma_buf *dmabuf,
			       struct vm_area_struct *vma)
{
	struct ivshmem_export *exp = dmabuf->priv;
	int idx, ret = 0;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (!exp->writable) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		ivshmem_vm_flags_clear(vma, VM_MAYWRITE);
	}
	idx = srcu_read_lock(&ivshmem_srcu);
	if (!READ_ONCE(exp->idev->alive)) {
		ret = -ENODEV;
	} else {
		/*
		 * An importer's dma_buf_mmap() may hand over a VMA it marked
		 * VM_MIXEDMAP; vmf_insert_pfn() BUG()s on both.
		 */
		ivshmem_vm_flags_clear(vma, VM_MIXEDMAP);
		ivshmem_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND |
				     VM_DONTDUMP);
		vma->vm_ops = &ivshmem_dmabuf_vm_ops;
		vma->vm_private_data = exp;
	}
	srcu_read_unlock(&ivshmem_srcu, idx);
	return ret;
}

#if IVSHMEM_DMABUF_VMAP
/*
 * A vmap after removal: every page of the range shows @dummy, as a live
 * vmap does once revoked. Not an error: the dma-buf core WARNs on any
 * failing vmap (dma_buf_vmap(), 6.1 and 6.12).
 */
static void *ivshmem_dmabuf_vmap_dummy(struct page *dummy, unsigned long n)
{
	struct page **pages;
	unsigned long i;
	void *vaddr;

	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return NULL;
	for (i = 0; i < n; i++)
		pages[i] = dummy;
	vaddr = vmap(pages, n, VM_MAP, PAGE_KERNEL);
	kvfree(pages);
	return vaddr;
}

/**
 * ivshmem_dmabuf_vmap() - a kernel mapping of the range for an importer
 * @dmabuf: the dma-buf
 * @map: where to return the mapping (I/O memory)
 *
 * The mapping is the export's own (vmap_pfn(), 4 KiB entries, the
 * memory type of the driver's BAR2 mapping), not the driver's, so that
 * removal can point it at a zeroed page while the importer still holds
 * it. After removal the mapping shows that zeroed page from the start.
 * The core counts vmaps: this runs for the first only.
 *
 * Context: process context; the core's lock held; takes dmabuf_lock.
 * Return: 0 or -ENOMEM.
 */
static int ivshmem_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct ivshmem_export *exp = dmabuf->priv;
	struct ivshmem_dev *idev = exp->idev;
	unsigned long i, n = exp->size >> PAGE_SHIFT;
	unsigned long *pfns;
	struct page *dummy;
	void *vaddr = NULL;
	int ret = 0;

	pfns = kvmalloc_array(n, sizeof(*pfns), GFP_KERNEL);
	if (!pfns)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		pfns[i] = ivshmem_export_pfn(exp) + i;
	dummy = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!dummy) {
		ret = -ENOMEM;
		goto free_pfns;
	}

	mutex_lock(&idev->dmabuf_lock);
	if (WARN_ON_ONCE(exp->vaddr))
		ret = -EBUSY;
	else if (exp->revoked)
		vaddr = ivshmem_dmabuf_vmap_dummy(dummy, n);
	else
		/* The driver's mapping is valid until revocation. */
		vaddr = vmap_pfn(pfns, n, ivshmem_dmabuf_prot(idev));
	if (vaddr) {
		exp->vaddr = vaddr;
		exp->dummy = dummy;
		dummy = NULL;
	} else if (!ret) {
		ret = -ENOMEM;
	}
	mutex_unlock(&idev->dmabuf_lock);

	if (dummy)
		__free_page(dummy);
	if (!ret)
		iosys_map_set_vaddr_iomem(map, (void __iomem *)vaddr);
free_pfns:
	kvfree(pfns);
	return ret;
}

static void ivshmem_dmabuf_vunmap(struct dma_buf *dmabuf,
				  struct iosys_map *map)
{
	struct ivshmem_export *exp = dmabuf->priv;
	struct ivshmem_dev *idev = exp->idev;
	struct page *dummy;
	void *vaddr;

	mutex_lock(&idev->dmabuf_lock);
	vaddr = exp->vaddr;
	dummy = exp->dummy;
	exp->vaddr = NULL;
	exp->dummy = NULL;
	mutex_unlock(&idev->dmabuf_lock);
	if (vaddr)
		vunmap(vaddr);
	if (dummy)
		__free_page(dummy);
}
#endif

/* BAR2 is host RAM the CPU accesses coherently: nothing to flush. */
static int ivshmem_dmabuf_cpu_access(struct dma_buf *dmabuf,
				     enum dma_data_direction dir)
{
	struct ivshmem_export *exp = dmabuf->priv;

	return READ_ONCE(exp->idev->alive) ? 0 : -ENODEV;
}

/* The last reference is gone: no mapping, attachment or vmap is left. */
static void ivshmem_dmabuf_release(struct dma_buf *dmabuf)
{
	struct ivshmem_export *exp = dmabuf->priv;
	struct ivshmem_dev *idev = exp->idev;

	mutex_lock(&idev->dmabuf_lock);
	list_del(&exp->node);
	mutex_unlock(&idev->dmabuf_lock);
	iput(exp->inode);
	put_device(&idev->dev);
	kfree(exp);
}

static const struct dma_buf_ops ivshmem_dmabuf_ops = {
	.attach = ivshmem_dmabuf_attach,
	.map_dma_buf = ivshmem_dmabuf_map,
	.unmap_dma_buf = ivshmem_dmabuf_unmap,
	.release = ivshmem_dmabuf_release,
	.begin_cpu_access = ivshmem_dmabuf_cpu_access,
	.end_cpu_access = ivshmem_dmabuf_cpu_access,
	.mmap = ivshmem_dmabuf_mmap,
#if IVSHMEM_DMABUF_VMAP
	.vmap = ivshmem_dmabuf_vmap,
	.vunmap = ivshmem_dmabuf_vunmap,
#endif
};

static bool ivshmem_dmabuf_req_ok(struct ivshmem_dev *idev,
				  const struct ivshmem_dmabuf *req)
{
	return !(req->flags & ~IVSHMEM_DMABUF_RDWR) &&
	       !req->reserved[0] && !req->reserved[1] &&
	       PAGE_ALIGNED(req->offset) && PAGE_ALIGNED(req->size) &&
	       ivshmem_range_ok(req->offset, req->size, idev->shm_size);
}

/**
 * ivshmem_dmabuf_export() - IVSHMEM_IOCTL_DMABUF
 * @idev: the device
 * @file: the caller's open file of @idev: a writable dma-buf needs a file
 *	opened for writing, as a writable shared mapping does
 * @arg: the user's struct ivshmem_dmabuf
 *
 * Validates everything before creating anything; the fd is installed
 * only once its number reached the user, so a failing copy leaves no
 * descriptor behind.
 *
 * Context: process context, may sleep; enters ivshmem_srcu and takes
 * dmabuf_lock; user memory is copied outside both.
 * Return: 0, or -EFAULT, -EINVAL, -EACCES (IVSHMEM_DMABUF_RDWR on a file
 * not opened for writing), -EOPNOTSUPP, -ENODEV, -EMFILE, -ENOMEM.
 */
long ivshmem_dmabuf_export(struct ivshmem_dev *idev, struct file *file,
			   void __user *arg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct ivshmem_export *exp;
	struct ivshmem_dmabuf req;
	struct dma_buf *dmabuf = NULL;
	int fd, idx, ret = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (!ivshmem_dmabuf_req_ok(idev, &req))
		return -EINVAL;
	if ((req.flags & IVSHMEM_DMABUF_RDWR) && !(file->f_mode & FMODE_WRITE))
		return -EACCES;
	if (!ivshmem_dmabuf_supported(idev))
		return -EOPNOTSUPP;

	/* Charged to the caller, who can make one per free descriptor. */
	exp = kzalloc(sizeof(*exp), GFP_KERNEL_ACCOUNT);
	if (!exp)
		return -ENOMEM;
	exp->idev = idev;
	exp->offset = req.offset;
	exp->size = req.size;
	exp->writable = req.flags & IVSHMEM_DMABUF_RDWR;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto free_exp;
	}

	info.ops = &ivshmem_dmabuf_ops;
	info.size = req.size;
	info.flags = (exp->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	info.priv = exp;
	/*
	 * On the list before the SRCU section ends: removal, after its
	 * grace period, revokes every dma-buf that saw the device alive.
	 */
	idx = srcu_read_lock(&ivshmem_srcu);
	if (!READ_ONCE(idev->alive)) {
		ret = -ENODEV;
	} else {
		dmabuf = dma_buf_export(&info);
		if (IS_ERR(dmabuf)) {
			ret = PTR_ERR(dmabuf);
		} else {
			exp->dmabuf = dmabuf;
			exp->inode = file_inode(dmabuf->file);
			ihold(exp->inode);
			get_device(&idev->dev);
			mutex_lock(&idev->dmabuf_lock);
			list_add(&exp->node, &idev->dmabufs);
			mutex_unlock(&idev->dmabuf_lock);
		}
	}
	srcu_read_unlock(&ivshmem_srcu, idx);
	if (ret)
		goto put_fd;

	if (put_user(fd, (u32 __user *)(arg +
				       offsetof(struct ivshmem_dmabuf, fd)))) {
		put_unused_fd(fd);
		/* Releases @exp. */
		dma_buf_put(dmabuf);
		return -EFAULT;
	}
	fd_install(fd, dmabuf->file);
	return 0;

put_fd:
	put_unused_fd(fd);
free_exp:
	kfree(exp);
	return ret;
}
