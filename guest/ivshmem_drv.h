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
 * remove() returns. No user memory is touched inside the SRCU section:
 * a copy may sleep in a fault for as long as userspace likes (FUSE,
 * userfaultfd), and removal waits for SRCU readers. Sleeping waits
 * (IVSHMEM_IOCTL_WAIT) also run outside SRCU and are woken by removal.
 *
 * Lock order: ivshmem_dev.vec_lock (a mutex, taken by open, release and
 * the sysfs max_vectors and memtype stores) nests outside
 * ivshmem_dev.bind_lock. The max_vectors store waits, in free_irq(), for
 * the interrupt threads, which take bind_lock only. ivshmem_dev.bind_lock
 * (a mutex, taken by binders and by the vectors' interrupt threads) nests
 * outside ivshmem_dev.irq_lock (a spinlock, also taken in the interrupt
 * handler, so everywhere else with interrupts off), which nests outside
 * the eventfd context's own wait-queue lock. ivshmem_file.seen_lock is a
 * leaf lock, never taken in interrupt context. The dma-buf locks
 * (guest/dmabuf.c) are independent of the others:
 * ivshmem_dev.dmabuf_lock (a mutex: the list of exports) nests outside
 * each dma-buf's reservation lock and the i_mmap_rwsem of the dma-bufs'
 * address spaces; ivshmem_dev.dmabuf_map_lock (a mutex) nests inside the
 * reservation lock and 6.1's dma_buf.lock, the core's locks around map,
 * unmap, vmap and vunmap. A change of the device's function (sysfs
 * ivshmem_function, guest/aux.c) runs under the PCI device's lock, which
 * nests outside vec_lock. No other driver lock exists. irq_lock is held
 * only for O(1) work from process context: a file finds its bindings in
 * ivshmem_file.bind under bind_lock, never by walking the lists.
 */
#ifndef IVSHMEM_DRV_H
#define IVSHMEM_DRV_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <linux/ivshmem.h>

#include "ivshmem_aux.h"
#include "util.h"

#define IVSHMEM_MAX_DEVICES	256

/*
 * Memory types of BAR2: what the memtype parameter asks for (AUTO among
 * them) and what a device has (one of the others).
 */
enum ivshmem_memtype {
	IVSHMEM_MT_AUTO,
	IVSHMEM_MT_WB,
	IVSHMEM_MT_WC,
	IVSHMEM_MT_UC,
};

/*
 * Eventfds the interrupt handler signals itself; a vector with more
 * bindings signals them all from its interrupt thread, so that the work
 * done in hard-IRQ context stays bounded however many files bind.
 */
#define IVSHMEM_IRQ_DIRECT	4

/* BAR0 register offsets (QEMU docs/specs/ivshmem-spec.rst, ACRN HLD). */
#define IVSHMEM_REG_INTR_MASK	0x00
#define IVSHMEM_REG_INTR_STATUS	0x04
#define IVSHMEM_REG_IVPOSITION	0x08
#define IVSHMEM_REG_DOORBELL	0x0c

/**
 * struct ivshmem_vector - one MSI-X vector
 * @idev:	the device.
 * @bindings:	struct ivshmem_binding list; changed under both
 *		@idev->bind_lock and @idev->irq_lock, read under either.
 * @count:	interrupts received and delivered: raised after the
 *		eventfds of the interrupt were signalled.
 * @pending:	interrupts the handler left to the interrupt thread.
 * @nr_bindings: entries on @bindings; like @bindings.
 * @irq:	Linux IRQ number.
 * @requested:	the interrupt handler is installed.
 * @name:	name for request_irq(), "ivshmemN-vecM".
 */
struct ivshmem_vector {
	struct ivshmem_dev *idev;
	struct list_head bindings;
	atomic64_t count;
	atomic_t pending;
	unsigned int nr_bindings;
	int irq;
	bool requested;
	char name[24];
};

/**
 * struct ivshmem_dev - one ivshmem PCI device and its character device
 * @dev:	class device /dev/ivshmemN; its refcount owns this structure.
 * @cdev:	the character device.
 * @inode:	private inode whose address space every open file shares, so
 *		that removal can revoke all user mappings at once.
 * @pdev:	the PCI device; valid while @alive.
 * @regs:	BAR0 registers; valid while @alive.
 * @shm:	kernel mapping of BAR2 when @shm_mt is write-back (memremap()),
 *		else NULL; valid while @alive. BAR2 has no struct pages.
 * @shm_io:	kernel mapping of BAR2 when @shm_mt is write-combining or
 *		uncached (ioremap_wc(), ioremap()), else NULL; valid while
 *		@alive. Read and written with memcpy_fromio()/memcpy_toio().
 * @shm_phys:	physical address of BAR2.
 * @shm_size:	size of BAR2 in bytes.
 * @shm_mt:	BAR2's memory type, which every view has (kernel mapping,
 *		user PTEs, dma-buf mappings): IVSHMEM_MT_WB, _WC or _UC, as
 *		granted (on x86, by PAT).
 * @shm_req:	the memory type asked for (sysfs memtype, else the module
 *		parameter), IVSHMEM_MT_AUTO included.
 * @vectors:	MSI-X vectors allocated, 0 without MSI-X or with none
 *		granted. Changed under @vec_lock while no file is open;
 *		sysfs reads it with READ_ONCE().
 * @rx_mask:	vectors whose interrupt handler is installed: those that
 *		receive. Bit n for vector n, all below @vectors. Like
 *		@vectors.
 * @max_vectors: most vectors to ask for, 1 to IVSHMEM_MAX_VECTORS (sysfs
 *		max_vectors); like @vectors.
 * @can_ring:	the device has an MSI-X capability: its doorbell works,
 *		even when this guest has no vector (pci=nomsi).
 * @region_id:	ACRN region ID, or -ENOENT for a non-ACRN device.
 * @alive:	false once removal has started; read under ivshmem_srcu.
 * @bind_lock:	serialises binding changes with the interrupt threads.
 * @irq_lock:	protects the eventfd bindings of every vector against the
 *		interrupt handler.
 * @wq:		IVSHMEM_IOCTL_WAIT and poll() sleep here; woken by every
 *		interrupt and by removal.
 * @vec_lock:	protects @nr_files and serialises changes of the vectors
 *		and of BAR2's kernel view and memory type (@shm, @shm_io,
 *		@shm_mt, @shm_req: sysfs memtype, while no file is open).
 * @nr_files:	open files of the device.
 * @dmabuf_lock: protects @dmabufs (guest/dmabuf.c).
 * @dmabufs:	the dma-bufs exported from this device and not yet
 *		released, revoked or not.
 * @dmabuf_map_lock: protects each dma-buf's revocation and vmap state,
 *		@dmabuf_kmaps and @dmabuf_window (guest/dmabuf.c).
 * @dmabuf_kmaps: kernel views of BAR2 that importers hold: vmaps of BAR2
 *		and attachment mappings, over all dma-bufs of the device.
 * @dmabuf_window: after removal, while @dmabuf_kmaps is not zero: a
 *		resource that keeps BAR2's physical window from being given
 *		to another device.
 * @aux:	the auxiliary device when the device's function is not the
 *		character device (guest/aux.c), else NULL; then @dev is
 *		never added: no /dev/ivshmemN, no class device.
 * @aux_handler: the auxiliary driver's interrupt handler, or NULL;
 *		changed and called under @irq_lock.
 * @aux_data:	its argument; like @aux_handler.
 * @vec:	the MSI-X vectors; the first @vectors are in use.
 */
struct ivshmem_dev {
	struct device dev;
	struct cdev cdev;
	struct inode *inode;
	struct pci_dev *pdev;
	void __iomem *regs;
	void *shm;
	void __iomem *shm_io;
	phys_addr_t shm_phys;
	u64 shm_size;
	enum ivshmem_memtype shm_mt;
	enum ivshmem_memtype shm_req;
	u32 vectors;
	u32 rx_mask;
	u32 max_vectors;
	bool can_ring;
	int region_id;
	bool alive;
	struct mutex bind_lock;		/* binding changes; see above */
	spinlock_t irq_lock;		/* eventfd bindings; see above */
	wait_queue_head_t wq;
	struct mutex vec_lock;		/* @nr_files, vector changes */
	unsigned int nr_files;
	struct mutex dmabuf_lock;	/* @dmabufs; see above */
	struct list_head dmabufs;
	struct mutex dmabuf_map_lock;	/* revocation, vmaps; see above */
	unsigned long dmabuf_kmaps;
	struct resource *dmabuf_window;
	struct ivshmem_aux_dev *aux;
	ivshmem_aux_handler_t aux_handler;
	void *aux_data;
	struct ivshmem_vector vec[IVSHMEM_MAX_VECTORS];
};

struct ivshmem_binding;

/**
 * struct ivshmem_file - per open file state
 * @idev:	the device; the file holds a reference.
 * @bind:	per vector, this file's eventfd binding or NULL; changed and
 *		read under @idev->bind_lock (the entry's place on the
 *		vector's list also under @idev->irq_lock).
 * @seen_lock:	protects @seen (threads may share a file).
 * @seen:	per vector, the interrupt count this file has consumed up to
 *		with IVSHMEM_IOCTL_WAIT or set with IVSHMEM_IOCTL_SET_SEEN.
 */
struct ivshmem_file {
	struct ivshmem_dev *idev;
	struct ivshmem_binding *bind[IVSHMEM_MAX_VECTORS];
	spinlock_t seen_lock;		/* @seen; a leaf lock */
	u64 seen[IVSHMEM_MAX_VECTORS];
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

/* irq.c */
void ivshmem_irq_init(struct ivshmem_dev *idev);
bool ivshmem_irq_setup(struct ivshmem_dev *idev);
void ivshmem_irq_teardown(struct ivshmem_dev *idev);
int ivshmem_irq_set_max_vectors(struct ivshmem_dev *idev, u32 max);
void ivshmem_irq_counts(struct ivshmem_dev *idev, u64 *count);
int ivshmem_set_eventfd(struct ivshmem_file *ifile,
			const struct ivshmem_eventfd *req);
void ivshmem_file_unbind_all(struct ivshmem_file *ifile);
int ivshmem_ring(struct ivshmem_dev *idev, const struct ivshmem_ring *req);
int ivshmem_wait_check(struct ivshmem_dev *idev,
		       const struct ivshmem_wait *req);
int ivshmem_wait(struct ivshmem_file *ifile, struct ivshmem_wait *req);
int ivshmem_set_seen(struct ivshmem_file *ifile,
		     const struct ivshmem_seen *req);
void ivshmem_file_seen_init(struct ivshmem_file *ifile);
__poll_t ivshmem_poll_events(struct ivshmem_file *ifile);

/* dmabuf.c */
static inline void ivshmem_dmabuf_init(struct ivshmem_dev *idev)
{
	mutex_init(&idev->dmabuf_lock);
	INIT_LIST_HEAD(&idev->dmabufs);
	mutex_init(&idev->dmabuf_map_lock);
}

#if IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
bool ivshmem_dmabuf_supported(struct ivshmem_dev *idev);
long ivshmem_dmabuf_export(struct ivshmem_dev *idev, struct file *file,
			   void __user *arg);
void ivshmem_dmabuf_revoke(struct ivshmem_dev *idev);
#else
static inline bool ivshmem_dmabuf_supported(struct ivshmem_dev *idev)
{
	return false;
}

static inline long ivshmem_dmabuf_export(struct ivshmem_dev *idev,
					 struct file *file, void __user *arg)
{
	return -EOPNOTSUPP;
}

static inline void ivshmem_dmabuf_revoke(struct ivshmem_dev *idev) { }
#endif

/* aux.c */
extern const struct attribute_group *ivshmem_pci_groups[];
int ivshmem_aux_add(struct ivshmem_dev *idev, const char *name);
void ivshmem_aux_del(struct ivshmem_dev *idev);

/* pci.c */
extern struct pci_driver ivshmem_pci_driver;
#if IS_ENABLED(CONFIG_KUNIT)
/* The PCI IDs the driver binds (kunit/guest_pci_test.c). */
extern const struct pci_device_id ivshmem_ids[];
#endif
u32 ivshmem_peer_id(struct ivshmem_dev *idev);
const char *ivshmem_memtype_name(enum ivshmem_memtype mt);
pgprot_t ivshmem_pgprot(struct ivshmem_dev *idev, unsigned long vm_flags);
int ivshmem_memtype_parse(const char *buf);
int ivshmem_set_memtype(struct ivshmem_dev *idev, enum ivshmem_memtype want);
const char *ivshmem_function(struct pci_dev *pdev);
int ivshmem_set_function(struct pci_dev *pdev, const char *name);

#endif /* IVSHMEM_DRV_H */
