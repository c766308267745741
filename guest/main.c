// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: module setup and the life of struct ivshmem_dev.
 *
 * Each bound ivshmem PCI device gets a character device /dev/ivshmemN
 * (N from an IDA) and a private inode on a small pseudo filesystem whose
 * address space all open files share, so removal can zap every user
 * mapping with one unmap_mapping_range().
 */
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>

#include "compat.h"
#include "ivshmem_drv.h"

#define IVSHMEM_FS_MAGIC	0x49565348	/* "IVSH" */

DEFINE_SRCU(ivshmem_srcu);

static DEFINE_IDA(ivshmem_ida);
static dev_t ivshmem_devt;
static struct class *ivshmem_class;
static struct vfsmount *ivshmem_mnt;

static int ivshmem_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, IVSHMEM_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * No .owner: the kernel-internal mount would pin the module and rmmod
 * could never succeed. The mount lives exactly as long as the module.
 */
static struct file_system_type ivshmem_fs_type = {
	.name = "ivshmem",
	.init_fs_context = ivshmem_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static void ivshmem_dev_release(struct device *dev)
{
	struct ivshmem_dev *idev = container_of(dev, struct ivshmem_dev, dev);

	if (idev->inode)
		iput(idev->inode);
	ida_free(&ivshmem_ida, MINOR(dev->devt));
	kfree(idev);
}

/**
 * ivshmem_dev_alloc() - allocate and initialise an ivshmem device
 * @pdev: the PCI device it will drive
 *
 * The result holds one reference on its class device; drop it with
 * put_device() on failure or after ivshmem_dev_del().
 *
 * Context: process context, may sleep.
 * Return: the new device or an ERR_PTR().
 */
struct ivshmem_dev *ivshmem_dev_alloc(struct pci_dev *pdev)
{
	struct ivshmem_dev *idev;
	int minor, ret;

	idev = kzalloc(sizeof(*idev), GFP_KERNEL);
	if (!idev)
		return ERR_PTR(-ENOMEM);

	minor = ida_alloc_max(&ivshmem_ida, IVSHMEM_MAX_DEVICES - 1,
			      GFP_KERNEL);
	if (minor < 0) {
		kfree(idev);
		return ERR_PTR(minor);
	}

	/* From here on the release callback undoes everything. */
	device_initialize(&idev->dev);
	idev->dev.class = ivshmem_class;
	idev->dev.parent = &pdev->dev;
	idev->dev.devt = MKDEV(MAJOR(ivshmem_devt), minor);
	idev->dev.groups = ivshmem_groups;
	idev->dev.release = ivshmem_dev_release;
	dev_set_drvdata(&idev->dev, idev);
	idev->pdev = pdev;
	idev->region_id = -ENOENT;
	ivshmem_irq_init(idev);
	ivshmem_dmabuf_init(idev);

	ret = dev_set_name(&idev->dev, "ivshmem%d", minor);
	if (ret)
		goto put_dev;

	idev->inode = alloc_anon_inode(ivshmem_mnt->mnt_sb);
	if (IS_ERR(idev->inode)) {
		ret = PTR_ERR(idev->inode);
		idev->inode = NULL;
		goto put_dev;
	}
	cdev_init(&idev->cdev, &ivshmem_fops);
	idev->cdev.owner = THIS_MODULE;
	return idev;

put_dev:
	put_device(&idev->dev);
	return ERR_PTR(ret);
}

/**
 * ivshmem_dev_add() - make the device visible as /dev/ivshmemN
 * @idev: a device from ivshmem_dev_alloc() with its BARs set up
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno; on error no file can reach the device.
 */
int ivshmem_dev_add(struct ivshmem_dev *idev)
{
	int ret;

	WRITE_ONCE(idev->alive, true);
	ret = cdev_device_add(&idev->cdev, &idev->dev);
	if (ret) {
		/*
		 * The minor may have been opened (through a node made by
		 * hand) between cdev_add() and the failing device_add():
		 * such files must lose the BARs before probe unmaps them.
		 */
		WRITE_ONCE(idev->alive, false);
		synchronize_srcu(&ivshmem_srcu);
		unmap_mapping_range(idev->inode->i_mapping, 0, 0, 1);
		ivshmem_dmabuf_revoke(idev);
	}
	return ret;
}

/**
 * ivshmem_dev_del() - detach the device from its hardware
 * @idev: the device
 *
 * Removes /dev/ivshmemN, makes every later file operation fail with
 * ENODEV and every later page fault raise SIGBUS, waits for operations
 * already inside the device, zaps all user mappings and revokes the
 * dma-bufs (their mappings zapped, move_notify to their importers, BAR2's
 * window claimed while importers keep views of it: guest/dmabuf.c). On
 * return no user mapping reaches the BARs any more; open files keep
 * @idev itself alive.
 *
 * Context: process context, may sleep; SRCU, then the dma-buf locks of
 * ivshmem_dmabuf_revoke() (dmabuf_lock, each reservation lock,
 * dmabuf_map_lock); no other driver lock.
 */
void ivshmem_dev_del(struct ivshmem_dev *idev)
{
	cdev_device_del(&idev->cdev, &idev->dev);
	WRITE_ONCE(idev->alive, false);
	synchronize_srcu(&ivshmem_srcu);
	unmap_mapping_range(idev->inode->i_mapping, 0, 0, 1);
	ivshmem_dmabuf_revoke(idev);
}

static int __init ivshmem_init(void)
{
	int ret;

	ivshmem_mnt = kern_mount(&ivshmem_fs_type);
	if (IS_ERR(ivshmem_mnt))
		return PTR_ERR(ivshmem_mnt);

	ret = alloc_chrdev_region(&ivshmem_devt, 0, IVSHMEM_MAX_DEVICES,
				  "ivshmem");
	if (ret)
		goto unmount;

	ivshmem_class = ivshmem_class_create("ivshmem");
	if (IS_ERR(ivshmem_class)) {
		ret = PTR_ERR(ivshmem_class);
		goto unregister_chrdev;
	}

	ret = pci_register_driver(&ivshmem_pci_driver);
	if (ret)
		goto destroy_class;
	return 0;

destroy_class:
	class_destroy(ivshmem_class);
unregister_chrdev:
	unregister_chrdev_region(ivshmem_devt, IVSHMEM_MAX_DEVICES);
unmount:
	kern_unmount(ivshmem_mnt);
	return ret;
}

static void __exit ivshmem_exit(void)
{
	pci_unregister_driver(&ivshmem_pci_driver);
	class_destroy(ivshmem_class);
	unregister_chrdev_region(ivshmem_devt, IVSHMEM_MAX_DEVICES);
	kern_unmount(ivshmem_mnt);
	ida_destroy(&ivshmem_ida);
}

module_init(ivshmem_init);
module_exit(ivshmem_exit);

MODULE_DESCRIPTION("Inter-VM shared memory (ivshmem) guest driver for QEMU and ACRN");
MODULE_LICENSE("GPL");
MODULE_VERSION(IVSHMEM_VERSION);
