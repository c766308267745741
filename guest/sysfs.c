// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: sysfs attributes of /sys/class/ivshmem/ivshmemN.
 *
 * The attributes live on the class device, which is deleted at the start
 * of removal; kernfs drains running show() and store() calls before the
 * deletion returns, so they always see a bound, mapped device. vectors
 * and rx_mask change under the max_vectors store (guest/irq.c): shows
 * read them once, with READ_ONCE().
 */
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/sysfs.h>

#include "ivshmem_drv.h"

static ssize_t size_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", idev->shm_size);
}
static DEVICE_ATTR_RO(size);

static ssize_t peer_id_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", ivshmem_peer_id(idev));
}
static DEVICE_ATTR_RO(peer_id);

static ssize_t vectors_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(idev->vectors));
}
static DEVICE_ATTR_RO(vectors);

static ssize_t max_vectors_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(idev->max_vectors));
}

/*
 * A decimal 1-8, nothing else: no sign, no leading space, no other base
 * (kstrtouint() alone would take "+3" and "0x3"). Anything else, an
 * overflow included, fails with EINVAL and changes nothing.
 */
static ssize_t max_vectors_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t count)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);
	unsigned int max;
	int ret;

	if (!isdigit(buf[0]))
		return -EINVAL;
	ret = kstrtouint(buf, 10, &max);
	if (ret)
		return -EINVAL;
	ret = ivshmem_irq_set_max_vectors(idev, max);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(max_vectors);

/* 1 when IVSHMEM_IOCTL_RING works (an MSI-X capability), else 0. */
static ssize_t can_ring_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", idev->can_ring);
}
static DEVICE_ATTR_RO(can_ring);

/* 1 when interrupts reach this guest on at least one vector, else 0. */
static ssize_t can_receive_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", READ_ONCE(idev->rx_mask) != 0);
}
static DEVICE_ATTR_RO(can_receive);

/* The vectors that receive, bit n for vector n, in hex. */
static ssize_t rx_mask_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "0x%x\n", READ_ONCE(idev->rx_mask));
}
static DEVICE_ATTR_RO(rx_mask);

/* One count per vector granted, space separated, vector 0 first. */
static ssize_t irq_counts_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);
	u32 vectors = READ_ONCE(idev->vectors);
	u64 count[IVSHMEM_MAX_VECTORS];
	int i, len = 0;

	ivshmem_irq_counts(idev, count);
	for (i = 0; i < vectors; i++)
		len += sysfs_emit_at(buf, len, "%s%llu", i ? " " : "",
				     count[i]);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}
static DEVICE_ATTR_RO(irq_counts);

static ssize_t region_id_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", idev->region_id);
}
static DEVICE_ATTR_RO(region_id);

/*
 * BAR2's memory type, the same for the kernel's and every user mapping:
 * write-back, write-combining or uncached. Writing auto, wb, wc, uc (or
 * one of those names) maps BAR2 again with that type while no file is
 * open and no dma-buf exists (else EBUSY; EINVAL for anything else).
 */
static ssize_t memtype_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);
	enum ivshmem_memtype mt;

	mutex_lock(&idev->vec_lock);
	mt = idev->shm_mt;
	mutex_unlock(&idev->vec_lock);
	return sysfs_emit(buf, "%s\n", ivshmem_memtype_name(mt));
}

static ssize_t memtype_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct ivshmem_dev *idev = dev_get_drvdata(dev);
	int mt = ivshmem_memtype_parse(buf);
	int ret;

	if (mt < 0)
		return mt;
	ret = ivshmem_set_memtype(idev, mt);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(memtype);

static struct attribute *ivshmem_attrs[] = {
	&dev_attr_size.attr,
	&dev_attr_memtype.attr,
	&dev_attr_peer_id.attr,
	&dev_attr_vectors.attr,
	&dev_attr_max_vectors.attr,
	&dev_attr_can_ring.attr,
	&dev_attr_can_receive.attr,
	&dev_attr_rx_mask.attr,
	&dev_attr_region_id.attr,
	&dev_attr_irq_counts.attr,
	NULL
};

/* region_id only exists for ACRN devices, so udev rules can match on it. */
static umode_t ivshmem_attr_visible(struct kobject *kobj, struct attribute *a,
				    int n)
{
	struct ivshmem_dev *idev = dev_get_drvdata(kobj_to_dev(kobj));

	if (a == &dev_attr_region_id.attr && idev->region_id < 0)
		return 0;
	/* Without an MSI-X capability there are no vectors to choose. */
	if (a == &dev_attr_max_vectors.attr && !idev->can_ring)
		return 0;
	return a->mode;
}

static const struct attribute_group ivshmem_group = {
	.attrs = ivshmem_attrs,
	.is_visible = ivshmem_attr_visible,
};

const struct attribute_group *ivshmem_groups[] = {
	&ivshmem_group,
	NULL
};
