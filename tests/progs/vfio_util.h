/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio_util.h - an ivshmem device through vfio-pci, as a user would drive
 * it instead of /dev/ivshmemN (make bench's baselines, tests/bench.py):
 *
 *   the group /dev/vfio/N (or /dev/vfio/noiommu-N on a kernel built with
 *   CONFIG_VFIO_NOIOMMU and loaded with enable_unsafe_noiommu_mode=1) in
 *   a container of its own with the type1 (or noiommu) IOMMU backend;
 *   BAR0's registers (IVPosition at 8, Doorbell at 12) by pread/pwrite on
 *   the device fd, or mmap when vfio-pci offers it (a BAR below a page
 *   only when it starts page aligned); BAR2 by mmap; MSI-X vector V to an
 *   eventfd with VFIO_DEVICE_SET_IRQS; bus mastering (QEMU drops MSI
 *   writes of a device without it) by a config space write.
 *
 * Header-only, shared by ivshmem_vfio_bench.c and ivshmem_bench.c.
 */
#ifndef IVT_VFIO_UTIL_H
#define IVT_VFIO_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#define IVSHMEM_REG_IVPOSITION	8
#define IVSHMEM_REG_DOORBELL	12

struct vdev {
	const char *bdf;
	int container, group, fd;
	int noiommu;
	struct vfio_region_info bar0, bar2, cfg;
	volatile uint32_t *regs;	/* BAR0 mmap, NULL: pread/pwrite */
	unsigned char *shm;		/* BAR2 mmap */
	uint32_t peer;			/* IVPosition */
	int efd[4];
	int nvec;
};

static inline int vdev_fail(struct vdev *v, const char *what)
{
	fprintf(stderr, "vfio %s: %s: %s\n", v->bdf, what, strerror(errno));
	return -1;
}

static inline int vdev_region(struct vdev *v, unsigned int index,
		       struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(v->fd, VFIO_DEVICE_GET_REGION_INFO, ri);
}

/*
 * Open @bdf (bound to vfio-pci) in a container of its own; map BAR2 and,
 * if @mmap_regs and vfio-pci allows it, BAR0. Returns 0 or -1.
 */
static inline int vdev_open(struct vdev *v, const char *bdf, int mmap_regs)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	ssize_t n;
	uint16_t cmd;
	uint32_t pos;

	memset(v, 0, sizeof(*v));
	v->bdf = bdf;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return vdev_fail(v, "no iommu_group");
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", basename(link));
	v->group = open(path, O_RDWR);
	if (v->group < 0) {
		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%s",
			 basename(link));
		v->group = open(path, O_RDWR);
		v->noiommu = 1;
	}
	if (v->group < 0)
		return vdev_fail(v, "open group");
	v->container = open("/dev/vfio/vfio", O_RDWR);
	if (v->container < 0)
		return vdev_fail(v, "open /dev/vfio/vfio");
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return vdev_fail(v, "VFIO_GET_API_VERSION");
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &gs) ||
	    !(gs.flags & VFIO_GROUP_FLAGS_VIABLE))
		return vdev_fail(v, "group not viable");
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container))
		return vdev_fail(v, "VFIO_GROUP_SET_CONTAINER");
	if (ioctl(v->container, VFIO_SET_IOMMU,
		  v->noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU))
		return vdev_fail(v, "VFIO_SET_IOMMU");
	v->fd = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (v->fd < 0)
		return vdev_fail(v, "VFIO_GROUP_GET_DEVICE_FD");
	if (vdev_region(v, VFIO_PCI_BAR0_REGION_INDEX, &v->bar0) ||
	    vdev_region(v, VFIO_PCI_BAR2_REGION_INDEX, &v->bar2) ||
	    vdev_region(v, VFIO_PCI_CONFIG_REGION_INDEX, &v->cfg))
		return vdev_fail(v, "VFIO_DEVICE_GET_REGION_INFO");
	/* Bus mastering: QEMU delivers no MSI-X message without it. */
	if (pread(v->fd, &cmd, 2, v->cfg.offset + PCI_COMMAND) != 2)
		return vdev_fail(v, "read PCI_COMMAND");
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(v->fd, &cmd, 2, v->cfg.offset + PCI_COMMAND) != 2)
		return vdev_fail(v, "write PCI_COMMAND");
	if (v->bar2.size) {
		v->shm = mmap(NULL, v->bar2.size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, v->fd, v->bar2.offset);
		if (v->shm == MAP_FAILED)
			return vdev_fail(v, "mmap BAR2");
	}
	if (mmap_regs && (v->bar0.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		void *p = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE,
			       MAP_SHARED, v->fd, v->bar0.offset);

		if (p != MAP_FAILED)
			v->regs = p;
	}
	if (pread(v->fd, &pos, 4, v->bar0.offset + IVSHMEM_REG_IVPOSITION)
	    != 4)
		return vdev_fail(v, "read IVPosition");
	v->peer = pos;
	return 0;
}

/* MSI-X vectors 0..@nvec-1 to fresh eventfds (v->efd[]). */
static inline int vdev_irqs(struct vdev *v, int nvec)
{
	char buf[sizeof(struct vfio_irq_set) + 4 * sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int32_t fds[4];
	int i;

	for (i = 0; i < nvec; i++) {
		v->efd[i] = eventfd(0, EFD_NONBLOCK);
		fds[i] = v->efd[i];
	}
	set->argsz = sizeof(*set) + nvec * sizeof(int32_t);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSIX_IRQ_INDEX;
	set->start = 0;
	set->count = nvec;
	memcpy(set->data, fds, nvec * sizeof(int32_t));
	if (ioctl(v->fd, VFIO_DEVICE_SET_IRQS, set))
		return vdev_fail(v, "VFIO_DEVICE_SET_IRQS MSI-X");
	v->nvec = nvec;
	return 0;
}

/* Ring @vector of @peer: the Doorbell register, as the driver does. */
static inline int vdev_ring(struct vdev *v, uint32_t peer, uint32_t vector)
{
	uint32_t val = peer << 16 | (vector & 0xffff);

	if (v->regs) {
		v->regs[IVSHMEM_REG_DOORBELL / 4] = val;
		return 0;
	}
	return pwrite(v->fd, &val, 4, v->bar0.offset + IVSHMEM_REG_DOORBELL)
		== 4 ? 0 : -1;
}

#endif
