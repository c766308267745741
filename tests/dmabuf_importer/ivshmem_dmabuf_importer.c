// SPDX-License-Identifier: GPL-2.0
/*
 * A real in-kernel importer of the ivshmem guest driver's dma-bufs, for
 * the tests only (the "dmabuf" e2e test; built by tests/harness/ivt.py).
 *
 * It imports as a dynamic mainline importer does: dma_buf_dynamic_attach()
 * with allow_peer2peer and a move_notify that unmaps, mappings made and
 * dropped under the reservation lock. A platform device with a 64-bit
 * DMA mask imports one dma-buf at a time and keeps its attachment, the
 * attachment's mapping (until move_notify) and a vmap for as long as the
 * test likes, across device removal. Driven through debugfs,
 * /sys/kernel/debug/ivshmem_dmabuf_importer/:
 *
 *   ctl   write "import FD" (read-only use) or "import FD rw", optionally
 *         followed by "pin": take the dma-buf, attach, pin (dma_buf_pin():
 *         a pinned importer keeps its mapping on move_notify, as one that
 *         relies on the pin may), map the attachment, vmap (a failing
 *         vmap is reported as vmap_err, the import stays); "probe": try a new
 *         dynamic attachment, a static one mapped (as videobuf2 and DRM
 *         PRIME make), a new mapping of the attachment, a pin, and begin/end
 *         CPU access, keeping nothing; "remap": map the attachment again
 *         if move_notify took the mapping; "revmap": drop the vmap and
 *         try a new one; "release": unmap, detach, put; "limits MAX
 *         MASK", with nothing imported: the device's DMA max segment
 *         size and segment boundary mask (decimal) for the next import
 *         (64 KiB and 256 KiB - 1 at load). Read: one line
 *         of state and the results of the last probe/remap/revmap, as
 *         errnos (0: ok).
 *   data  read/write the dma-buf through the vmap, at the file offset.
 *
 * Locking: importer_lock serialises the debugfs commands and nests
 * outside the dma-buf's reservation lock, under which the mapping
 * (imp_sgt) is made, dropped and read; move_notify runs with that lock
 * held and takes no other.
 */
#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/iosys-map.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"

MODULE_IMPORT_NS(IVSHMEM_NS_DMA_BUF);

#define IMPORTER_NAME "ivshmem_dmabuf_importer"
/* The importer device's DMA limits at load: 64 KiB entries, 256 KiB boundary. */
#define IMPORTER_MAX_SEG	SZ_64K
#define IMPORTER_SEG_BOUNDARY	(SZ_256K - 1)

static DEFINE_MUTEX(importer_lock);
static struct platform_device *importer_pdev;
static struct dentry *importer_dir;

/* The import, under importer_lock. */
static struct dma_buf *imp_buf;
static struct dma_buf_attachment *imp_attach;
static struct sg_table *imp_sgt;	/* under the reservation lock */
static unsigned int imp_moves;		/* likewise */
static bool imp_pinned;			/* likewise */
static enum dma_data_direction imp_dir;
static struct iosys_map imp_map;
static int imp_probe_attach, imp_probe_static, imp_probe_map, imp_probe_pin;
static int imp_probe_cpu, imp_revmap, imp_remap;
static int imp_vmap_err;
/* The limits set on the device, under importer_lock. */
static unsigned int imp_max_seg = IMPORTER_MAX_SEG;
static unsigned long imp_seg_boundary = IMPORTER_SEG_BOUNDARY;

/* The exporter moves or revokes the buffer: drop the mapping now. */
static void importer_move_notify(struct dma_buf_attachment *attach)
{
	dma_resv_assert_held(attach->dmabuf->resv);
	imp_moves++;
	if (imp_pinned)
		return;
	if (imp_sgt)
		dma_buf_unmap_attachment(attach, imp_sgt, imp_dir);
	imp_sgt = NULL;
}

static const struct dma_buf_attach_ops importer_attach_ops = {
	.allow_peer2peer = true,
	.invalidate_mappings = importer_move_notify,
};

static struct dma_buf_attachment *importer_attach(struct dma_buf *buf)
{
	return dma_buf_dynamic_attach(buf, &importer_pdev->dev,
				      &importer_attach_ops, NULL);
}

/* Map the attachment anew, under the reservation lock: 0 or -errno. */
static int importer_map_locked(void)
{
	struct sg_table *sgt;
	int ret = 0;

	dma_resv_lock(imp_buf->resv, NULL);
	if (!imp_sgt) {
		sgt = dma_buf_map_attachment(imp_attach, imp_dir);
		if (IS_ERR(sgt))
			ret = PTR_ERR(sgt);
		else
			imp_sgt = sgt;
	}
	dma_resv_unlock(imp_buf->resv);
	return ret;
}

static void importer_release_locked(void)
{
	if (!iosys_map_is_null(&imp_map))
		ivshmem_dma_buf_vunmap_unlocked(imp_buf, &imp_map);
	iosys_map_clear(&imp_map);
	if (imp_attach) {
		dma_resv_lock(imp_buf->resv, NULL);
		if (imp_sgt)
			dma_buf_unmap_attachment(imp_attach, imp_sgt, imp_dir);
		imp_sgt = NULL;
		if (imp_pinned)
			dma_buf_unpin(imp_attach);
		imp_pinned = false;
		dma_resv_unlock(imp_buf->resv);
	}
	if (imp_attach)
		dma_buf_detach(imp_buf, imp_attach);
	imp_attach = NULL;
	if (imp_buf)
		dma_buf_put(imp_buf);
	imp_buf = NULL;
}

static int importer_import_locked(int fd, bool rw, bool pin)
{
	int ret;

	if (imp_buf)
		return -EBUSY;
	imp_buf = dma_buf_get(fd);
	if (IS_ERR(imp_buf)) {
		ret = PTR_ERR(imp_buf);
		imp_buf = NULL;
		return ret;
	}
	imp_attach = importer_attach(imp_buf);
	if (IS_ERR(imp_attach)) {
		ret = PTR_ERR(imp_attach);
		imp_attach = NULL;
		goto release;
	}
	imp_dir = rw ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
	imp_moves = 0;
	imp_remap = 0;
	if (pin) {
		dma_resv_lock(imp_buf->resv, NULL);
		ret = dma_buf_pin(imp_attach);
		imp_pinned = !ret;
		dma_resv_unlock(imp_buf->resv);
		if (ret)
			goto release;
	}
	ret = importer_map_locked();
	if (ret)
		goto release;
	/* A read-only dma-buf has no vmap (see guest/dmabuf.c). */
	imp_vmap_err = ivshmem_dma_buf_vmap_unlocked(imp_buf, &imp_map);
	if (imp_vmap_err)
		iosys_map_clear(&imp_map);
	return 0;

release:
	importer_release_locked();
	return ret;
}

static void importer_probe_locked(void)
{
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;

	attach = importer_attach(imp_buf);
	imp_probe_attach = PTR_ERR_OR_ZERO(attach);
	if (!IS_ERR(attach))
		dma_buf_detach(imp_buf, attach);
	/* A static importer: attach, then map (under the lock, as 6.2+). */
	attach = dma_buf_attach(imp_buf, &importer_pdev->dev);
	imp_probe_static = PTR_ERR_OR_ZERO(attach);
	if (!IS_ERR(attach)) {
		dma_resv_lock(imp_buf->resv, NULL);
		sgt = dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
		imp_probe_static = PTR_ERR_OR_ZERO(sgt);
		if (!IS_ERR(sgt))
			dma_buf_unmap_attachment(attach, sgt,
						 DMA_BIDIRECTIONAL);
		dma_resv_unlock(imp_buf->resv);
		dma_buf_detach(imp_buf, attach);
	}
	dma_resv_lock(imp_buf->resv, NULL);
	sgt = dma_buf_map_attachment(imp_attach, imp_dir);
	imp_probe_map = PTR_ERR_OR_ZERO(sgt);
	if (!IS_ERR(sgt))
		dma_buf_unmap_attachment(imp_attach, sgt, imp_dir);
	imp_probe_pin = dma_buf_pin(imp_attach);
	if (!imp_probe_pin)
		dma_buf_unpin(imp_attach);
	dma_resv_unlock(imp_buf->resv);
	imp_probe_cpu = dma_buf_begin_cpu_access(imp_buf, imp_dir);
	if (!imp_probe_cpu)
		imp_probe_cpu = dma_buf_end_cpu_access(imp_buf, imp_dir);
}

static void importer_revmap_locked(void)
{
	if (!iosys_map_is_null(&imp_map))
		ivshmem_dma_buf_vunmap_unlocked(imp_buf, &imp_map);
	iosys_map_clear(&imp_map);
	imp_revmap = ivshmem_dma_buf_vmap_unlocked(imp_buf, &imp_map);
	if (imp_revmap)
		iosys_map_clear(&imp_map);
}

/* The device's DMA limits for the next import: 0 or -errno. */
static int importer_limits_locked(unsigned int max_seg, unsigned long boundary)
{
	if (imp_buf)
		return -EBUSY;
	/* The boundary is a mask: one less than a power of two. */
	if (!max_seg || !boundary || (boundary & (boundary + 1)))
		return -EINVAL;
	dma_set_max_seg_size(&importer_pdev->dev, max_seg);
	dma_set_seg_boundary(&importer_pdev->dev, boundary);
	imp_max_seg = max_seg;
	imp_seg_boundary = boundary;
	return 0;
}

static ssize_t importer_ctl_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	char cmd[48], rw[4] = "", pin[4] = "";
	unsigned long boundary;
	unsigned int max_seg;
	int fd, n, ret = 0;

	if (count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';

	mutex_lock(&importer_lock);
	n = sscanf(cmd, "import %d %3s %3s", &fd, rw, pin);
	if (n >= 1)
		ret = importer_import_locked(fd, n >= 2 && !strcmp(rw, "rw"),
					     n == 3 && !strcmp(pin, "pin"));
	else if (sscanf(cmd, "limits %u %lu", &max_seg, &boundary) == 2)
		ret = importer_limits_locked(max_seg, boundary);
	else if (!imp_buf)
		ret = -ENOENT;
	else if (sysfs_streq(cmd, "probe"))
		importer_probe_locked();
	else if (sysfs_streq(cmd, "remap"))
		imp_remap = importer_map_locked();
	else if (sysfs_streq(cmd, "revmap"))
		importer_revmap_locked();
	else if (sysfs_streq(cmd, "release"))
		importer_release_locked();
	else
		ret = -EINVAL;
	mutex_unlock(&importer_lock);
	return ret ? ret : count;
}

static ssize_t importer_ctl_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	unsigned int nents = 0, pages = 0, i;
	bool segs_ok = true;
	struct scatterlist *sg;
	u64 len = 0, dma = 0;
	unsigned int moves = 0;
	bool pinned = false;
	char buf[400];
	int n;

	mutex_lock(&importer_lock);
	if (imp_buf)
		dma_resv_lock(imp_buf->resv, NULL);
	if (imp_sgt) {
		dma = sg_dma_address(imp_sgt->sgl);
		for_each_sgtable_dma_sg(imp_sgt, sg, i) {
			/* Contiguous: each entry follows the one before. */
			if (sg_dma_address(sg) != dma + len)
				len = ~0ULL;
			if (len != ~0ULL)
				len += sg_dma_len(sg);
			/* Within the device's segment size and boundary. */
			if (!sg_dma_len(sg) || sg_dma_len(sg) > imp_max_seg ||
			    (sg_dma_address(sg) | imp_seg_boundary) !=
			    ((sg_dma_address(sg) + sg_dma_len(sg) - 1) |
			     imp_seg_boundary))
				segs_ok = false;
			nents++;
		}
		/*
		 * CONFIG_DMABUF_DEBUG scrambles page_link for importers
		 * (mangle_sg_table()): undo it to count the exporter's pages.
		 */
		for_each_sgtable_sg(imp_sgt, sg, i) {
			unsigned long link = sg->page_link;

			if (IS_ENABLED(CONFIG_DMABUF_DEBUG))
				link ^= ~0xffUL;
			pages += !!(link & ~SG_PAGE_LINK_MASK);
		}
	}
	if (imp_buf) {
		moves = imp_moves;
		pinned = imp_pinned;
		dma_resv_unlock(imp_buf->resv);
	}
	n = scnprintf(buf, sizeof(buf),
		      "buf=%d size=%zu pinned=%d mapped=%d dma=%#llx len=%llu nents=%u segs_ok=%d pages=%u moves=%u vmap=%d vmap_err=%d iomem=%d probe_attach=%d probe_static=%d probe_map=%d probe_pin=%d probe_cpu=%d remap=%d revmap=%d\n",
		      !!imp_buf, imp_buf ? imp_buf->size : 0, pinned, nents > 0, dma,
		      len, nents, segs_ok && nents, pages, moves, !iosys_map_is_null(&imp_map),
		      imp_vmap_err, imp_map.is_iomem, imp_probe_attach,
		      imp_probe_static, imp_probe_map, imp_probe_pin,
		      imp_probe_cpu, imp_remap, imp_revmap);
	mutex_unlock(&importer_lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

/* Through a kernel bounce buffer: no user copy under importer_lock. */
static ssize_t importer_data_rw(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos, bool write)
{
	size_t size;
	ssize_t ret;
	void *bounce;

	count = min_t(size_t, count, SZ_1M);
	bounce = kvmalloc(count, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;
	if (write && copy_from_user(bounce, ubuf, count)) {
		ret = -EFAULT;
		goto free;
	}
	mutex_lock(&importer_lock);
	size = imp_buf ? imp_buf->size : 0;
	if (iosys_map_is_null(&imp_map)) {
		ret = -ENXIO;
	} else if (*ppos < 0 || *ppos >= size) {
		ret = 0;
	} else {
		ret = min_t(size_t, count, size - *ppos);
		if (write)
			iosys_map_memcpy_to(&imp_map, *ppos, bounce, ret);
		else
			iosys_map_memcpy_from(bounce, &imp_map, *ppos, ret);
	}
	mutex_unlock(&importer_lock);
	if (ret > 0 && !write && copy_to_user(ubuf, bounce, ret))
		ret = -EFAULT;
	if (ret > 0)
		*ppos += ret;
free:
	kvfree(bounce);
	return ret;
}

static ssize_t importer_data_read(struct file *file, char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	return importer_data_rw(file, ubuf, count, ppos, false);
}

static ssize_t importer_data_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	return importer_data_rw(file, (char __user *)ubuf, count, ppos, true);
}

static const struct file_operations importer_ctl_fops = {
	.owner = THIS_MODULE,
	.read = importer_ctl_read,
	.write = importer_ctl_write,
	.llseek = default_llseek,
};

static const struct file_operations importer_data_fops = {
	.owner = THIS_MODULE,
	.read = importer_data_read,
	.write = importer_data_write,
	.llseek = default_llseek,
};

static int __init importer_init(void)
{
	int ret;

	importer_pdev = platform_device_register_simple(IMPORTER_NAME, -1,
							NULL, 0);
	if (IS_ERR(importer_pdev))
		return PTR_ERR(importer_pdev);
	ret = dma_coerce_mask_and_coherent(&importer_pdev->dev,
					   DMA_BIT_MASK(64));
	if (ret)
		goto unregister;
	/*
	 * Limits the exporter's table must keep to (status: segs_ok). A
	 * platform device has DMA parameters, so these cannot fail (6.12
	 * returns nothing).
	 */
	dma_set_max_seg_size(&importer_pdev->dev, IMPORTER_MAX_SEG);
	dma_set_seg_boundary(&importer_pdev->dev, IMPORTER_SEG_BOUNDARY);
	importer_dir = debugfs_create_dir(IMPORTER_NAME, NULL);
	debugfs_create_file("ctl", 0600, importer_dir, NULL,
			    &importer_ctl_fops);
	debugfs_create_file("data", 0600, importer_dir, NULL,
			    &importer_data_fops);
	return 0;

unregister:
	platform_device_unregister(importer_pdev);
	return ret;
}

static void __exit importer_exit(void)
{
	debugfs_remove_recursive(importer_dir);
	mutex_lock(&importer_lock);
	importer_release_locked();
	mutex_unlock(&importer_lock);
	platform_device_unregister(importer_pdev);
}

module_init(importer_init);
module_exit(importer_exit);

MODULE_DESCRIPTION("Test importer of ivshmem dma-bufs");
MODULE_LICENSE("GPL");
