// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: the device's function (sysfs ivshmem_function on
 * the PCI device) and the auxiliary devices of functions other than the
 * character device.
 *
 * A device is the character device /dev/ivshmemN ("cdev", at probe) or
 * an auxiliary device "ivshmem.net.N" ("net"), never both. The PCI driver
 * keeps BAR2, the vectors and the doorbell either way; the auxiliary
 * driver reaches them through struct ivshmem_aux_dev (ivshmem_aux.h).
 * N is the minor the character device had, or would have had.
 */
#include <linux/auxiliary_bus.h>
#include <linux/device.h>
#include <linux/pci.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>

#include "compat.h"
#include "ivshmem_drv.h"

#if IS_ENABLED(CONFIG_AUXILIARY_BUS)
static int ivshmem_aux_ring(struct ivshmem_aux_dev *iadev, u32 peer,
			    u32 vector)
{
	struct ivshmem_dev *idev = iadev->priv;
	struct ivshmem_ring req = { .peer = peer, .vector = vector };

	return ivshmem_ring(idev, &req);
}

static void ivshmem_aux_set_handler(struct ivshmem_aux_dev *iadev,
				    ivshmem_aux_handler_t fn, void *data)
{
	struct ivshmem_dev *idev = iadev->priv;
	unsigned long flags;

	/* The handler runs under irq_lock: once it is dropped, none runs. */
	spin_lock_irqsave(&idev->irq_lock, flags);
	idev->aux_handler = fn;
	idev->aux_data = data;
	spin_unlock_irqrestore(&idev->irq_lock, flags);
}

static const struct ivshmem_aux_ops ivshmem_aux_ops = {
	.ring = ivshmem_aux_ring,
	.set_handler = ivshmem_aux_set_handler,
};

/**
 * ivshmem_aux_abi() - the interface version this driver was built with
 * @iadev: an auxiliary device of this driver
 *
 * An auxiliary driver calls this in probe, before it reads anything else
 * of @iadev, and refuses the device when it was built with another
 * IVSHMEM_AUX_ABI. Its module then depends on this one (depmod, unload
 * order), and with CONFIG_MODVERSIONS the symbol's CRC covers the layout
 * of struct ivshmem_aux_dev too: a module built against another one is
 * refused at load.
 *
 * Context: any.
 * Return: IVSHMEM_AUX_ABI as this module was built with it.
 */
u32 ivshmem_aux_abi(const struct ivshmem_aux_dev *iadev)
{
	return IVSHMEM_AUX_ABI;
}
EXPORT_SYMBOL_NS_GPL(ivshmem_aux_abi, IVSHMEM_NS_IVSHMEM);

static void ivshmem_aux_release(struct device *dev)
{
	kfree(to_ivshmem_aux_dev(to_auxiliary_dev(dev)));
}

/**
 * ivshmem_aux_add() - give a device's function to an auxiliary device
 * @idev: the device, BAR2 mapped and vectors set up; its class device is
 *	not added
 * @name: the auxiliary device's name within this driver ("net")
 *
 * Context: process context, may sleep.
 * Return: 0 or a negative errno.
 */
int ivshmem_aux_add(struct ivshmem_dev *idev, const char *name)
{
	struct ivshmem_aux_dev *iadev;
	int ret;

	iadev = kzalloc(sizeof(*iadev), GFP_KERNEL);
	if (!iadev)
		return -ENOMEM;
	iadev->ops = &ivshmem_aux_ops;
	iadev->shm = idev->shm;
	iadev->shm_io = idev->shm_io;
	iadev->shm_size = idev->shm_size;
	iadev->peer_id = ivshmem_peer_id(idev);
	iadev->region_id = idev->region_id;
	iadev->rx_mask = idev->rx_mask;
	iadev->can_ring = idev->can_ring;
	iadev->priv = idev;
	iadev->adev.name = name;
	iadev->adev.id = MINOR(idev->dev.devt);
	iadev->adev.dev.parent = &idev->pdev->dev;
	iadev->adev.dev.release = ivshmem_aux_release;

	ret = auxiliary_device_init(&iadev->adev);
	if (ret) {
		kfree(iadev);
		return ret;
	}
	idev->aux = iadev;
	ret = auxiliary_device_add(&iadev->adev);
	if (ret) {
		idev->aux = NULL;
		auxiliary_device_uninit(&iadev->adev);
	}
	return ret;
}

/**
 * ivshmem_aux_del() - delete a device's auxiliary device
 * @idev: the device, with an auxiliary device
 *
 * Its driver's remove() has run when this returns, and the handler it
 * installed is gone (as a driver that forgot to remove it would leave
 * it, it is removed here too).
 *
 * Context: process context, may sleep.
 */
void ivshmem_aux_del(struct ivshmem_dev *idev)
{
	struct ivshmem_aux_dev *iadev = idev->aux;

	auxiliary_device_delete(&iadev->adev);
	ivshmem_aux_set_handler(iadev, NULL, NULL);
	idev->aux = NULL;
	auxiliary_device_uninit(&iadev->adev);
}
#else
int ivshmem_aux_add(struct ivshmem_dev *idev, const char *name)
{
	return -EOPNOTSUPP;
}

void ivshmem_aux_del(struct ivshmem_dev *idev)
{
}
#endif

/*
 * The device's function: "cdev" (/dev/ivshmemN) or "net" (the auxiliary
 * device ivshmem.net.N). Writing one switches to it: EBUSY while the
 * character device is open or a dma-buf of it exists.
 *
 * Locking: the function is read and changed under the PCI device's lock
 * only, as a probe, a remove, a reset or an error recovery of that
 * device run; no global lock serialises devices, so a switch whose
 * auxiliary driver's remove() waits (unregister_netdev(): rtnl, the
 * interface's last reference) delays no other device's show, store or
 * unbind. An unbind holds that lock while it removes this attribute,
 * which waits for a running show or store: both only try the lock and
 * restart the system call while it is taken, as net-sysfs's show and
 * store do with rtnl_trylock(). Under the lock, the switch takes
 * vec_lock, then dmabuf_lock (guest/pci.c), and deletes the auxiliary
 * device, whose remove() takes the auxiliary device's lock, then rtnl.
 */
static ssize_t ivshmem_function_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	const char *name;

	if (!device_trylock(dev))
		return restart_syscall();
	name = ivshmem_function(to_pci_dev(dev));
	device_unlock(dev);
	return sysfs_emit(buf, "%s\n", name);
}

static ssize_t ivshmem_function_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	int ret;

	if (!device_trylock(dev))
		return restart_syscall();
	ret = ivshmem_set_function(to_pci_dev(dev), buf);
	device_unlock(dev);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(ivshmem_function);

static struct attribute *ivshmem_pci_attrs[] = {
	&dev_attr_ivshmem_function.attr,
	NULL
};

static const struct attribute_group ivshmem_pci_group = {
	.attrs = ivshmem_pci_attrs,
};

const struct attribute_group *ivshmem_pci_groups[] = {
	&ivshmem_pci_group,
	NULL
};
