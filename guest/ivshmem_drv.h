/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of the ivshmem guest driver.
 *
 * Lifetime and locking
 * --------------------
 * struct ivshmem_dev is owned by the reference count of its embedded class
 * device: the PCI binding holds one reference, every open file one more.
 * It outlives the binding; everything that belongs to the binding (BAR
 * mappings, interrupts) is only reached under ivshmem_srcu after checking
 * @alive. Removal clears @alive, waits for SRCU readers, then revokes user
 * mappings, so no file operation or page fault can touch a BAR after
 * remove() returns. SRCU rather than a rwsem because a read() copying
 * into a user buffer that is itself a mapping of the device re-enters the
 * fault handler: a read lock taken twice with a writer queued would
 * deadlock.
 */
#ifndef IVSHMEM_DRV_H
#define IVSHMEM_DRV_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/pci.h>
#include <linux/srcu.h>
#include <linux/types.h>

#define IVSHMEM_MAX_DEVICES	256

/* BAR0 register offsets (QEMU docs/specs/ivshmem-spec.rst, ACRN HLD). */
#define IVSHMEM_REG_INTR_MASK	0x00
#define IVSHMEM_REG_INTR_STATUS	0x04
#define IVSHMEM_REG_IVPOSITION	0x08
#define IVSHMEM_REG_DOORBELL	0x0c

/**
 * struct ivshmem_dev - one ivshmem PCI device and its character device
 * @dev:	class device /dev/ivshmemN; its refcount owns this structure.
 * @cdev:	the character device.
 * @inode:	private inode whose address space every open file shares, so
 *		that removal can revoke all user mappings at once.
 * @pdev:	the PCI device; valid while @alive.
 * @regs:	BAR0 registers; valid while @alive.
 * @shm:	kernel write-back mapping of BAR2; valid while @alive.
 * @shm_phys:	physical address of BAR2.
 * @shm_size:	size of BAR2 in bytes.
 * @vectors:	MSI-X vectors in use, 0 without MSI-X.
 * @region_id:	ACRN region ID, or -ENOENT for a non-ACRN device.
 * @alive:	false once removal has started; read under ivshmem_srcu.
 */
struct ivshmem_dev {
	struct device dev;
	struct cdev cdev;
	struct inode *inode;
	struct pci_dev *pdev;
	void __iomem *regs;
	void *shm;
	phys_addr_t shm_phys;
	u64 shm_size;
	u32 vectors;
	int region_id;
	bool alive;
};

/* main.c */
extern struct srcu_struct ivshmem_srcu;
struct ivshmem_dev *ivshmem_dev_alloc(struct pci_dev *pdev);
int ivshmem_dev_add(struct ivshmem_dev *idev);
void ivshmem_dev_del(struct ivshmem_dev *idev);

/* cdev.c */
extern const struct file_operations ivshmem_fops;

/* sysfs.c */
extern const struct attribute_group *ivshmem_groups[];

/* pci.c */
extern struct pci_driver ivshmem_pci_driver;
u32 ivshmem_peer_id(struct ivshmem_dev *idev);

#endif /* IVSHMEM_DRV_H */
