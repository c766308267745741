/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface between the ivshmem guest driver and the drivers of the
 * auxiliary devices it creates (ivshmem.net.N: net/ivshmem_net.c).
 *
 * The PCI driver keeps the device: BAR2, the MSI-X vectors and the
 * doorbell. Writing "net" to the PCI device's sysfs ivshmem_function
 * removes /dev/ivshmemN and adds the auxiliary device "ivshmem.net.N",
 * whose driver reaches the hardware only through this structure. Calls go
 * one way, from the auxiliary driver to the PCI driver; the PCI driver
 * calls back only through the handler the auxiliary driver registered.
 * Everything here is valid from the auxiliary driver's probe() until its
 * remove() returns: the PCI driver deletes the auxiliary device (which
 * runs remove()) before it releases BAR2 or the vectors. The one exported
 * function, ivshmem_aux_abi(), which an auxiliary driver calls in probe,
 * makes its module depend on the PCI driver's (load and unload order)
 * and checks that both were built with one version of this interface.
 */
#ifndef IVSHMEM_AUX_H
#define IVSHMEM_AUX_H

#include <linux/auxiliary_bus.h>
#include <linux/types.h>

/* The auxiliary device names: KBUILD_MODNAME of the PCI driver, a dot, this. */
#define IVSHMEM_AUX_NET		"net"

/*
 * The version of this interface: the layout and meaning of struct
 * ivshmem_aux_dev and struct ivshmem_aux_ops. Raised at every change of
 * either, so that an auxiliary driver built against another version
 * refuses the device (ivshmem_aux_abi()) rather than misread it.
 */
#define IVSHMEM_AUX_ABI		1

struct ivshmem_aux_dev;

/*
 * Called in the vector's interrupt handler (hard-IRQ context, or the
 * forced interrupt thread on PREEMPT_RT) for every interrupt of @vector.
 */
typedef void (*ivshmem_aux_handler_t)(void *data, unsigned int vector);

/**
 * struct ivshmem_aux_ops - what the PCI driver does for an auxiliary driver
 * @ring:	ring @peer's doorbell on @vector. Any context. Returns 0, or
 *		-EINVAL for a peer above 0xffff or a vector at or above 8.
 * @set_handler: install @fn with @data as the handler of every receiving
 *		vector, or remove it with a NULL @fn. Once removal returns,
 *		no call of the old handler runs or will run. Process
 *		context.
 */
struct ivshmem_aux_ops {
	int (*ring)(struct ivshmem_aux_dev *iadev, u32 peer, u32 vector);
	void (*set_handler)(struct ivshmem_aux_dev *iadev,
			    ivshmem_aux_handler_t fn, void *data);
};

/**
 * struct ivshmem_aux_dev - an auxiliary device of an ivshmem PCI device
 * @adev:	the auxiliary device; its parent is the PCI device.
 * @ops:	the PCI driver's operations.
 * @shm:	BAR2's kernel view when the device's memory type (sysfs
 *		memtype) is write-back: memory (memremap()), read and
 *		written with plain accesses (READ_ONCE(), WRITE_ONCE(),
 *		memcpy()). NULL otherwise.
 * @shm_io:	BAR2's kernel view when the memory type is write-combining
 *		or uncached: I/O memory (ioremap_wc(), ioremap()), read and
 *		written with the I/O accessors only (readl(), writel(),
 *		memcpy_fromio(), memcpy_toio()). NULL otherwise.
 *		Exactly one of @shm and @shm_io is set. Either view is
 *		shared with the other VMs, which are not trusted; accesses
 *		they must see in order are ordered by the mandatory barriers
 *		(wmb(), rmb(), mb()): the SMP ones do not order
 *		write-combining accesses.
 * @shm_size:	BAR2's size in bytes.
 * @peer_id:	this VM's peer ID (IVPosition), what the other peers ring.
 * @region_id:	the ACRN region ID (the PCI subsystem ID), or -ENOENT for
 *		a device that ACRN does not provide.
 * @rx_mask:	the vectors that receive, bit n for vector n; 0 when no
 *		interrupt reaches this VM (poll then).
 * @can_ring:	the device has a doorbell.
 * @priv:	the PCI driver's own; not for the auxiliary driver.
 */
struct ivshmem_aux_dev {
	struct auxiliary_device adev;
	const struct ivshmem_aux_ops *ops;
	void *shm;
	void __iomem *shm_io;
	u64 shm_size;
	u32 peer_id;
	int region_id;
	u32 rx_mask;
	bool can_ring;
	void *priv;
};

static inline struct ivshmem_aux_dev *
to_ivshmem_aux_dev(struct auxiliary_device *adev)
{
	return container_of(adev, struct ivshmem_aux_dev, adev);
}

u32 ivshmem_aux_abi(const struct ivshmem_aux_dev *iadev);

#endif /* IVSHMEM_AUX_H */
