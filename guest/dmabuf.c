// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: DMA-BUF export of BAR2 ranges (IVSHMEM_IOCTL_DMABUF).
 *
 * Owns struct ivshmem_export, the dma-buf operations and what removal
 * does to every holder of a dma-buf. BAR2 has no struct pages, and
 * Debian's kernels have no CONFIG_PCI_P2PDMA to give it some, so the
 * exporter keeps to what the dma-buf contract allows for such memory,
 * in the shape of mainline's vfio-pci MMIO exporter:
 *
 * - Mappings only for importers that set peer2peer (dynamic importers
 *   with allow_peer2peer): their sg_tables have no pages (sg_page() is
 *   NULL), only DMA addresses from dma_map_resource() for the importer's
 *   device, which is what peer2peer importers expect (amdgpu exports
 *   VRAM the same way). Any other importer's mapping fails with
 *   EOPNOTSUPP. Every refusal (removal, no DMA mask included) is at
 *   map, not at attach: on 6.12, videobuf2's __prepare_dmabuf() leaks
 *   its dma-buf reference when attach fails, not when map fails; both
 *   run inside the importer's import call (VIDIOC_QBUF, DRM PRIME
 *   import). There is no .attach operation.
 * - No pin/unpin: the exporter is static to the dma-buf core, as
 *   vfio-pci's is. Debian's kernels lack CONFIG_DMABUF_MOVE_NOTIFY,
 *   without which the core calls a dynamic exporter's .pin around every
 *   mapping, so a pin could not be refused there anyway. The core maps a dynamic
 *   importer's attachment once, at attach, DMA_BIDIRECTIONAL, and keeps
 *   that mapping until detach: a read-only dma-buf refuses it (EACCES,
 *   at attach), and a dynamic importer that unmaps on move_notify gives
 *   back nothing until it detaches.
 * - CPU access: user mappings of the dma-buf fd are PFN maps filled on
 *   fault; begin/end_cpu_access have nothing to flush.
 * - vmap (x86, read-write dma-bufs only): a memremap() of the range of
 *   its own, with the memory type of the driver's mapping, returned as
 *   system memory: to the CPU it is ordinary memory, so videobuf2's
 *   vmalloc allocator, which keeps only the address and gives it back
 *   as system memory, finds the map dma_buf_vunmap() compares equal. A
 *   vmap has no direction, so a read-only dma-buf offers none
 *   (dma_buf_vmap() fails with EINVAL, quietly, at import).
 *
 * Removal (ivshmem_dmabuf_revoke(), after the driver's SRCU grace
 * period), for each dma-buf:
 * - user mappings are zapped; later faults raise SIGBUS; mmap, map
 *   (so a dynamic importer's attach, which the core maps) and CPU
 *   access fail with ENODEV;
 * - the export is marked revoked and, under the reservation lock, every
 *   dynamic attachment gets move_notify; removal then waits, at most
 *   IVSHMEM_DMABUF_FENCE_WAIT over all dma-bufs, for the fences in their
 *   reservation objects. move_notify is a request: the core keeps a
 *   dynamic importer's table of this static exporter until detach and
 *   hands it back on the next map, and a pinned importer may ignore it;
 * - a vmap still held, and a mapping an importer has not given back,
 *   are left as they are: the kernel's page tables are not edited by
 *   the module. Instead, while any such view exists the device's BAR2
 *   window stays claimed in iomem_resource (ivshmem_dmabuf_hold()), so
 *   that no other device's BAR can be placed there: accesses reach
 *   BAR2 (unbind) or an unassigned window (hot-unplug, sysfs remove),
 *   never another device or memory that was freed. The claim goes with
 *   the last vunmap or unmap;
 * - a new vmap (the core WARNs on a failing one) shows a zeroed page.
 *
 * Locking: ivshmem_dev.dmabuf_lock protects the device's list of
 * exports. ivshmem_dev.dmabuf_map_lock protects each export's revocation
 * and vmap state, the device's count of kernel views and its window
 * claim. Lock order: dmabuf_lock, then a dma-buf's reservation lock (the
 * core holds it around map and unmap on 6.2+, and around vmap; 6.1 holds
 * dma_buf.lock around vmap and nothing around the map it makes at
 * attach), then dmabuf_map_lock. Faults, mmap and CPU access use the driver's SRCU
 * and ivshmem_dev.alive instead.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "ivshmem_drv.h"
#include "util.h"

MODULE_IMPORT_NS(IVSHMEM_NS_DMA_BUF);

static_assert(sizeof(struct ivshmem_dmabuf) == 40);

/* Pages mapped per fault of a dma-buf mapping. */
#define IVSHMEM_DMABUF_FAULT_AROUND	16

/*
 * vmap returns a memremap() as system memory: on x86 that is ordinary
 * memory for the CPU whatever its memory type, and after a hot-unplug
 * a vmap an importer kept reaches an unassigned window, whose accesses
 * a hypervisor emulates (writes dropped, reads all ones). Elsewhere the
 * dma-bufs have no vmap operation: dma_buf_vmap() fails with EINVAL,
 * quietly. On arm64 the memory type would match (write-back and
 * write-combining remaps are Normal memory, as the user mappings), but
 * KVM cannot emulate the load and store pairs of memcpy() into a window
 * without memory behind it, and a kept vmap there would take the guest
 * down with an external abort.
 */
#define IVSHMEM_DMABUF_VMAP	IS_ENABLED(CONFIG_X86)

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
 * @revoked:	removal has run; under @idev->dmabuf_map_lock.
 * @vaddr:	the vmap, or NULL; under @idev->dmabuf_map_lock.
 * @vmap_bar:	@vaddr is a memremap() of BAR2 (else a vmap of @dummy).
 * @dummy:	the zeroed page a vmap after removal shows; with @vaddr.
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
	bool vmap_bar;
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
 * dma_map_resource(), which names BAR2 to an importer's device, refuses
 * pages the memory map covers.
 *
 * Context: any.
 * Return: true when BAR2 has no struct pages.
 */
bool ivshmem_dmabuf_supported(struct ivshmem_dev *idev)
{
	return !pfn_valid(PHYS_PFN(idev->shm_phys)) &&
	       !pfn_valid(PHYS_PFN(idev->shm_phys + idev->shm_size - 1));
}

/**
 * ivshmem_dmabuf_hold() - keep BAR2's window from other devices
 * @idev: the device, removed, with kernel views of BAR2 left
 *
 * Inserts a resource spanning BAR2 above the BAR's own in iomem_resource.
 * The PCI core releases the BAR's resource when it destroys the device;
 * this one stays, so the allocator never places another BAR where an
 * importer's vmap or DMA address still points. Not busy: a driver bound
 * to the same device again requests its region below it.
 *
 * Context: process context; @idev->dmabuf_map_lock held.
 */
static void ivshmem_dmabuf_hold(struct ivshmem_dev *idev)
{
	struct resource *res;

	if (!idev->dmabuf_kmaps || idev->dmabuf_window)
		return;
	res = kzalloc(sizeof(*res), GFP_KERNEL);
	if (res) {
		res->name = "ivshmem dma-buf views of a removed device";
		res->start = idev->shm_phys;
		res->end = idev->shm_phys + idev->shm_size - 1;
		res->flags = IORESOURCE_MEM;
		if (insert_resource(&iomem_resource, res)) {
			kfree(res);
			res = NULL;
		}
	}
	if (!res) {
		dev_warn(&idev->dev, "cannot claim BAR2's window for %lu importer views left after removal\n",
			 idev->dmabuf_kmaps);
		return;
	}
	idev->dmabuf_window = res;
	dev_info(&idev->dev, "%lu importer views of BAR2 outlive the device: its window stays claimed until they go\n",
		 idev->dmabuf_kmaps);
}

/*
 * One kernel view of BAR2 (a vmap or an attachment's mapping) is gone;
 * the last lets the window go. @idev->dmabuf_map_lock held.
 */
static void ivshmem_dmabuf_put_kmap(struct ivshmem_dev *idev)
{
	if (WARN_ON_ONCE(!idev->dmabuf_kmaps) || --idev->dmabuf_kmaps ||
	    !idev->dmabuf_window)
		return;
	remove_resource(idev->dmabuf_window);
	kfree(idev->dmabuf_window);
	idev->dmabuf_window = NULL;
}

/* How long removal waits for importers' fences, over all dma-bufs. */
#define IVSHMEM_DMABUF_FENCE_WAIT	(10 * HZ)

/**
 * ivshmem_dmabuf_revoke() - cut every dma-buf of a device off BAR2
 * @idev: the device; removal has cleared @alive and waited for SRCU
 *
 * Zaps the user mappings of each dma-buf, marks it revoked and sends
 * move_notify to its dynamic attachments, under its reservation lock;
 * then waits for the fences importers added to the dma-bufs, for at most
 * IVSHMEM_DMABUF_FENCE_WAIT over all of them (any holder of a dma-buf fd
 * can add a fence that never signals); then claims BAR2's window if
 * importers still hold views of it. Runs before devres unmaps BAR2 and
 * before the PCI core releases the BAR; never waits for userspace.
 *
 * Context: process context, may sleep (the bounded fence wait); takes
 * @idev->dmabuf_lock, each dma-buf's reservation lock, then
 * @idev->dmabuf_map_lock.
 */
void ivshmem_dmabuf_revoke(struct ivshmem_dev *idev)
{
	unsigned long end = jiffies + IVSHMEM_DMABUF_FENCE_WAIT;
	struct ivshmem_export *exp;
	bool late = false;

	mutex_lock(&idev->dmabuf_lock);
	list_for_each_entry(exp, &idev->dmabufs, node) {
		unmap_mapping_range(exp->inode->i_mapping, 0, 0, 1);
		mutex_lock(&idev->dmabuf_map_lock);
		exp->revoked = true;
		mutex_unlock(&idev->dmabuf_map_lock);
		dma_resv_lock(exp->dmabuf->resv, NULL);
		/* Importers may unmap from here: unmap takes dmabuf_map_lock. */
		dma_buf_invalidate_mappings(exp->dmabuf);
		dma_resv_unlock(exp->dmabuf->resv);
	}
	list_for_each_entry(exp, &idev->dmabufs, node) {
		long left = time_after(jiffies, end) ? 0 : end - jiffies;

		if (dma_resv_wait_timeout(exp->dmabuf->resv,
					  DMA_RESV_USAGE_BOOKKEEP, false,
					  left) <= 0)
			late = true;
	}
	if (late)
		dev_warn(&idev->dev, "importers' fences still unsignalled %u s after move_notify: their DMA may still run into BAR2's window, which stays claimed while they keep mappings\n",
			 IVSHMEM_DMABUF_FENCE_WAIT / HZ);
	mutex_lock(&idev->dmabuf_map_lock);
	ivshmem_dmabuf_hold(idev);
	mutex_unlock(&idev->dmabuf_map_lock);
	mutex_unlock(&idev->dmabuf_lock);
}

/*
 * Length of the entry at DMA address @addr with @left bytes to go: at
 * most @seg, and not across the device's segment boundary @mask (both at
 * least a page, @addr page-aligned, so the entry is whole pages).
 */
static unsigned int ivshmem_dmabuf_seg(dma_addr_t addr, u64 left,
				       unsigned int seg, unsigned long mask)
{
	u64 room = mask - (addr & mask);	/* bytes after @addr's */
	u64 len = min_t(u64, seg, left);

	return room < len - 1 ? room + 1 : len;
}

/**
 * ivshmem_dmabuf_map() - DMA addresses of the range for an importer
 * @attach: the importer's attachment
 * @dir: the direction of the importer's DMA
 *
 * One dma_map_resource() of the whole range for @attach->dev, cut into
 * page-aligned entries of at most the device's segment size that do not
 * cross its segment boundary (a device whose limits are below a page is
 * refused). The entries have no pages: only a peer2peer importer may
 * have them (the static ones, which may walk sg_page() and cannot be
 * told to let go at removal, get EOPNOTSUPP). A read-only dma-buf
 * refuses directions that let the device write. Counted as a kernel view
 * of BAR2 until unmapped, which for a dynamic importer of this static
 * exporter is at detach: the core caches the table.
 *
 * Context: process context; 6.2+: the reservation lock held. 6.1 maps a
 * dynamic importer's attachment at attach without it, so the check of
 * revocation is made again, under dmabuf_map_lock, once the view is
 * counted: a mapping removal did not see is refused, one it may not have
 * told the importer about is counted and keeps the window claimed.
 * Return: the table, or ERR_PTR(-ENODEV (removed, checked first),
 * -EOPNOTSUPP, -EINVAL, -EACCES, -ENOMEM, -EIO).
 */
static struct sg_table *ivshmem_dmabuf_map(struct dma_buf_attachment *attach,
					   enum dma_data_direction dir)
{
	struct ivshmem_export *exp = attach->dmabuf->priv;
	struct ivshmem_dev *idev = exp->idev;
	struct device *dev = attach->dev;
	unsigned int seg, nents = 0, i;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned long mask;
	dma_addr_t addr;
	u64 done;
	int ret;

	mutex_lock(&idev->dmabuf_map_lock);
	ret = exp->revoked ? -ENODEV : 0;
	mutex_unlock(&idev->dmabuf_map_lock);
	if (ret)
		return ERR_PTR(ret);
	if (!attach->peer2peer)
		return ERR_PTR(-EOPNOTSUPP);
	/* dma_map_resource() WARNs for a device without a DMA mask. */
	if (!dev->dma_mask)
		return ERR_PTR(-EINVAL);
	/* dma_map_resource() BUG()s on a bad direction. */
	if (!valid_dma_direction(dir))
		return ERR_PTR(-EINVAL);
	if (!exp->writable && dir != DMA_TO_DEVICE)
		return ERR_PTR(-EACCES);
	seg = rounddown(dma_get_max_seg_size(dev), PAGE_SIZE);
	mask = dma_get_seg_boundary(dev);
	if (!seg || mask < PAGE_SIZE - 1)
		return ERR_PTR(-EINVAL);

	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL_ACCOUNT);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	addr = dma_map_resource(dev, idev->shm_phys + exp->offset, exp->size,
				dir, DMA_ATTR_SKIP_CPU_SYNC);
	if (dma_mapping_error(dev, addr)) {
		ret = -EIO;
		goto free_sgt;
	}
	for (done = 0; done < exp->size; nents++)
		done += ivshmem_dmabuf_seg(addr + done, exp->size - done, seg,
					   mask);
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL_ACCOUNT);
	if (ret)
		goto unmap_resource;
	/* Revocation counts this view, or this view sees revocation. */
	mutex_lock(&idev->dmabuf_map_lock);
	if (exp->revoked)
		ret = -ENODEV;
	else
		idev->dmabuf_kmaps++;
	mutex_unlock(&idev->dmabuf_map_lock);
	if (ret)
		goto free_table;
	done = 0;
	for_each_sgtable_sg(sgt, sg, i) {
		unsigned int len = ivshmem_dmabuf_seg(addr + done,
						      exp->size - done, seg,
						      mask);

		sg_set_page(sg, NULL, len, 0);
		sg_dma_address(sg) = addr + done;
		sg_dma_len(sg) = len;
		done += len;
	}
	return sgt;

free_table:
	sg_free_table(sgt);
unmap_resource:
	dma_unmap_resource(dev, addr, exp->size, dir, DMA_ATTR_SKIP_CPU_SYNC);
free_sgt:
	kfree(sgt);
	return ERR_PTR(ret);
}

/* Context: as for ivshmem_dmabuf_map(). */
static void ivshmem_dmabuf_unmap(struct dma_buf_attachment *attach,
				 struct sg_table *sgt,
				 enum dma_data_direction dir)
{
	struct ivshmem_export *exp = attach->dmabuf->priv;
	struct ivshmem_dev *idev = exp->idev;

	/* Only the importer's IOMMU, if any: BAR2 is not touched. */
	dma_unmap_resource(attach->dev, sg_dma_address(sgt->sgl), exp->size,
			   dir, DMA_ATTR_SKIP_CPU_SYNC);
	sg_free_table(sgt);
	kfree(sgt);
	mutex_lock(&idev->dmabuf_map_lock);
	ivshmem_dmabuf_put_kmap(idev);
	mutex_unlock(&idev->dmabuf_map_lock);
}

/**
 * ivshmem_dmabuf_fault() - map BAR2 pages into a dma-buf mapping
 * @vmf: the fault
 *
 * Inserts the faulting page and up to IVSHMEM_DMABUF_FAULT_AROUND - 1
 * after it as PFNs, with the memory type of the driver's own mapping
 * (ivshmem_pgprot() at mmap). Inside SRCU, so removal's
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
		vma->vm_page_prot = ivshmem_pgprot(exp->idev, vma->vm_flags);
		vma->vm_ops = &ivshmem_dmabuf_vm_ops;
		vma->vm_private_data = exp;
	}
	srcu_read_unlock(&ivshmem_srcu, idx);
	return ret;
}

#if IVSHMEM_DMABUF_VMAP
/*
 * A vmap after removal: every page of the range shows @dummy. Not an
 * error: the dma-buf core WARNs on any failing vmap (dma_buf_vmap(), 6.1
 * and 6.12).
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
 * @dmabuf: the dma-buf (read-write)
 * @map: where to return the mapping (system memory)
 *
 * A memremap() of the range, the export's own, with the memory type of
 * the driver's BAR2 mapping (PAT hands the same type to both): it stays
 * valid until vunmap whatever happens to the device, since removal
 * keeps BAR2's window claimed while it exists. After removal the
 * mapping shows a zeroed page instead. The core counts vmaps: this runs
 * for the first only.
 *
 * Context: process context; the core's lock held (the reservation lock,
 * 6.1: dma_buf.lock); takes dmabuf_map_lock.
 * Return: 0 or -ENOMEM (the core WARNs).
 */
static int ivshmem_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct ivshmem_export *exp = dmabuf->priv;
	struct ivshmem_dev *idev = exp->idev;
	unsigned long flags = idev->shm_mt == IVSHMEM_MT_WB ? MEMREMAP_WB :
							  MEMREMAP_WC;
	struct page *dummy;
	void *vaddr = NULL;
	int ret = 0;

	dummy = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!dummy)
		return -ENOMEM;
	mutex_lock(&idev->dmabuf_map_lock);
	if (WARN_ON_ONCE(exp->vaddr)) {
		ret = -EBUSY;
	} else if (exp->revoked) {
		vaddr = ivshmem_dmabuf_vmap_dummy(dummy, exp->size >> PAGE_SHIFT);
		exp->vmap_bar = false;
	} else {
		vaddr = memremap(idev->shm_phys + exp->offset, exp->size, flags);
		exp->vmap_bar = true;
		if (vaddr)
			idev->dmabuf_kmaps++;
	}
	if (vaddr) {
		exp->vaddr = vaddr;
		exp->dummy = dummy;
		dummy = NULL;
		iosys_map_set_vaddr(map, vaddr);
	} else if (!ret) {
		ret = -ENOMEM;
	}
	mutex_unlock(&idev->dmabuf_map_lock);
	if (dummy)
		__free_page(dummy);
	return ret;
}

/* Context: as for ivshmem_dmabuf_vmap(). */
static void ivshmem_dmabuf_vunmap(struct dma_buf *dmabuf,
				  struct iosys_map *map)
{
	struct ivshmem_export *exp = dmabuf->priv;
	struct ivshmem_dev *idev = exp->idev;

	mutex_lock(&idev->dmabuf_map_lock);
	if (exp->vaddr && exp->vmap_bar) {
		memunmap(exp->vaddr);
		ivshmem_dmabuf_put_kmap(idev);
	} else if (exp->vaddr) {
		vunmap(exp->vaddr);
	}
	if (exp->dummy)
		__free_page(exp->dummy);
	exp->vaddr = NULL;
	exp->dummy = NULL;
	mutex_unlock(&idev->dmabuf_map_lock);
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

/* Read-only dma-bufs: the same, without vmap (it has no direction). */
#define IVSHMEM_DMABUF_OPS						\
	.map_dma_buf = ivshmem_dmabuf_map,				\
	.unmap_dma_buf = ivshmem_dmabuf_unmap,				\
	.release = ivshmem_dmabuf_release,				\
	.begin_cpu_access = ivshmem_dmabuf_cpu_access,			\
	.end_cpu_access = ivshmem_dmabuf_cpu_access,			\
	.mmap = ivshmem_dmabuf_mmap

static const struct dma_buf_ops ivshmem_dmabuf_ro_ops = {
	IVSHMEM_DMABUF_OPS,
};

static const struct dma_buf_ops ivshmem_dmabuf_rw_ops = {
	IVSHMEM_DMABUF_OPS,
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

	info.ops = exp->writable ? &ivshmem_dmabuf_rw_ops :
				   &ivshmem_dmabuf_ro_ops;
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

	if (put_user(fd, (s32 __user *)(arg +
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
