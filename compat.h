/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place for kernel-version differences.
 *
 * The modules (and the test modules) include this header instead of
 * testing LINUX_VERSION_CODE themselves, so supporting a new kernel costs
 * one edit here: compare with IVSHMEM_KERNEL_GE() and wrap the changed API
 * in an ivshmem_ helper. Only 6.1 and 6.12 are built here; the branches for
 * later kernels follow mainline's headers (Documentation/packaging.rst).
 *
 * make kernel-series (tests/series/make-series.py) evaluates this header
 * for 6.12 and inlines it: a helper that passes its arguments on becomes
 * its callee, an object-like macro its value, an empty helper disappears
 * with its call; any other helper moves, with its 6.12 body, into the
 * module's private header, so its comment must stand alone. A helper that
 * fits no rule stops the generator (Documentation/packaging.rst).
 */
#ifndef IVSHMEM_COMPAT_H
#define IVSHMEM_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>

/* True when building against kernel @a.@b.@c or later. */
#define IVSHMEM_KERNEL_GE(a, b, c) \
	(KERNEL_VERSION(a, b, c) <= LINUX_VERSION_CODE)

/* vm_flags became read-only in 6.3; vm_flags_set() replaced direct writes. */
static inline void ivshmem_vm_flags_set(struct vm_area_struct *vma,
					vm_flags_t flags)
{
#if IVSHMEM_KERNEL_GE(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/* class_create() lost its owner argument in 6.4. */
#if IVSHMEM_KERNEL_GE(6, 4, 0)
#define ivshmem_class_create(name) class_create(name)
#else
#define ivshmem_class_create(name) class_create(THIS_MODULE, name)
#endif

/*
 * A symbol namespace is a string literal from 6.13 on
 * (MODULE_IMPORT_NS("DMA_BUF")); before, MODULE_IMPORT_NS() and
 * EXPORT_SYMBOL_NS_GPL() stringified a bare name. The modules name each
 * namespace they use through these.
 */
#if IVSHMEM_KERNEL_GE(6, 13, 0)
#define IVSHMEM_NS_DMA_BUF "DMA_BUF"
#define IVSHMEM_NS_IVSHMEM "IVSHMEM"
#define IVSHMEM_NS_KUNIT "EXPORTED_FOR_KUNIT_TESTING"
#else
#define IVSHMEM_NS_DMA_BUF DMA_BUF
#define IVSHMEM_NS_IVSHMEM IVSHMEM
#define IVSHMEM_NS_KUNIT EXPORTED_FOR_KUNIT_TESTING
#endif

/* eventfd_signal() lost its count argument in 6.8. */
#include <linux/eventfd.h>
static inline void ivshmem_eventfd_signal(struct eventfd_ctx *ctx)
{
#if IVSHMEM_KERNEL_GE(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * Before 6.8 eventfd_signal() took the count, one call adds @n; from 6.8
 * it adds 1 only. The kernel series keeps this helper with the second
 * body, so its comment below says what it does on its own.
 */
#include <linux/sched.h>

/*
 * Add @n to an eventfd, one eventfd_signal() at a time, rescheduling
 * between them: callers are the vectors' interrupt threads, which may
 * sleep.
 */
static inline void ivshmem_eventfd_signal_n(struct eventfd_ctx *ctx,
					    unsigned int n)
{
#if IVSHMEM_KERNEL_GE(6, 8, 0)
	while (n--) {
		eventfd_signal(ctx);
		cond_resched();
	}
#else
	eventfd_signal(ctx, n);
#endif
}

/*
 * struct fd became opaque in 6.12: fd_file() is the accessor (added in
 * 6.12); before, the file was the .file member.
 */
#include <linux/file.h>
#if !IVSHMEM_KERNEL_GE(6, 12, 0)
#define fd_file(f) ((f).file)
#endif

/*
 * EXPORT_SYMBOL_IF_KUNIT() and VISIBLE_IF_KUNIT (<kunit/visibility.h>)
 * need no entry: Debian's 6.1 (6.1.192) has the header, as 6.12 does.
 */

/* DMA-BUF (guest/dmabuf.c and the test importer). */
/* vm_flags_clear() came with vm_flags_set() in 6.3. */
static inline void ivshmem_vm_flags_clear(struct vm_area_struct *vma,
					  vm_flags_t flags)
{
#if IVSHMEM_KERNEL_GE(6, 3, 0)
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/*
 * 6.2 moved dma_buf_vmap() under the reservation lock (the caller's) and
 * added dma_buf_vmap_unlocked(); 6.1's dma_buf_vmap() locks by itself.
 */
#if IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
#include <linux/dma-buf.h>
static inline int ivshmem_dma_buf_vmap_unlocked(struct dma_buf *dmabuf,
						struct iosys_map *map)
{
#if IVSHMEM_KERNEL_GE(6, 2, 0)
	return dma_buf_vmap_unlocked(dmabuf, map);
#else
	return dma_buf_vmap(dmabuf, map);
#endif
}

static inline void ivshmem_dma_buf_vunmap_unlocked(struct dma_buf *dmabuf,
						   struct iosys_map *map)
{
#if IVSHMEM_KERNEL_GE(6, 2, 0)
	dma_buf_vunmap_unlocked(dmabuf, map);
#else
	dma_buf_vunmap(dmabuf, map);
#endif
}

/*
 * 7.1 renamed dma_buf_move_notify() to dma_buf_invalidate_mappings() and
 * the importer's callback, dma_buf_attach_ops.move_notify, to
 * invalidate_mappings.
 */
#if !IVSHMEM_KERNEL_GE(7, 1, 0)
#define dma_buf_invalidate_mappings(dmabuf) dma_buf_move_notify(dmabuf)
#define invalidate_mappings move_notify
#endif
#endif

/*
 * One entry of a VM_PFNMAP mapping, read as HSM's acrn_vm_ram_map() reads
 * it (tests/hsm_double): 6.1 has follow_pte() on the mm, for PTEs only;
 * 6.12 replaced it by follow_pfnmap_start()/_end(), which also read huge
 * PFN entries (6.10 and 6.11, where follow_pte() took the VMA, are not
 * supported). mmap_lock held for reading.
 */
static inline int ivshmem_follow_pfn(struct vm_area_struct *vma,
				     unsigned long addr, unsigned long *pfn,
				     bool *writable)
{
#if IVSHMEM_KERNEL_GE(6, 12, 0)
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };
	int ret = follow_pfnmap_start(&args);

	if (ret)
		return ret;
	*pfn = args.pfn;
	*writable = args.writable;
	follow_pfnmap_end(&args);
	return 0;
#else
	spinlock_t *ptl;	/* the PTE lock follow_pte() took */
	pte_t *ptep;
	int ret;

	ret = follow_pte(vma->vm_mm, addr, &ptep, &ptl);
	if (ret)
		return ret;
	/* follow_pte() returns with *ptl held; sparse cannot see it. */
	__acquire(ptl);
	*pfn = pte_pfn(ptep_get(ptep));
	*writable = pte_write(ptep_get(ptep));
	pte_unmap_unlock(ptep, ptl);
	return 0;
#endif
}

/*
 * The host module's filesystem (host/fs.c).
 *
 * Since 6.3 inode operations and setattr_prepare()/setattr_copy() take a
 * struct mnt_idmap *; 6.1 passes a struct user_namespace * (the mount's
 * idmapping either way). ivshmem_idmap_t names the type.
 */
#if IVSHMEM_KERNEL_GE(6, 3, 0)
#define ivshmem_idmap_t struct mnt_idmap
#else
#define ivshmem_idmap_t struct user_namespace
#endif

/*
 * 6.6 gave generic_fillattr() the request mask (before it, the function
 * filled in every basic field whatever was asked).
 */
#include <linux/fs.h>
#include <linux/stat.h>
static inline void ivshmem_fillattr(ivshmem_idmap_t *idmap, u32 request_mask,
				    struct inode *inode, struct kstat *stat)
{
#if IVSHMEM_KERNEL_GE(6, 6, 0)
	generic_fillattr(idmap, request_mask, inode, stat);
#else
	generic_fillattr(idmap, inode, stat);
#endif
}

/*
 * 6.6 renamed inode->i_ctime to __i_ctime behind inode_set_ctime_to_ts();
 * 6.7 hid i_atime/i_mtime the same way and added simple_inode_init_ts(),
 * which sets all three to the current time. 6.1 assigns the fields.
 */
#include <linux/fs.h>
static inline void ivshmem_inode_init_ts(struct inode *inode)
{
#if IVSHMEM_KERNEL_GE(6, 7, 0)
	simple_inode_init_ts(inode);
#else
	struct timespec64 now = current_time(inode);

	inode->i_atime = now;
	inode->i_mtime = now;
#if IVSHMEM_KERNEL_GE(6, 6, 0)
	inode_set_ctime_to_ts(inode, now);
#else
	inode->i_ctime = now;
#endif
#endif
}

/*
 * 6.14 gave ->d_revalidate() the parent directory and the name looked up,
 * before the dentry. host/fs.c declares its d_revalidate with these
 * parameters and uses @dentry and @flags only.
 */
#include <linux/dcache.h>
#if IVSHMEM_KERNEL_GE(6, 14, 0)
#define IVSHMEM_D_REVALIDATE_PARAMS \
	struct inode *dir, const struct qstr *name, struct dentry *dentry, \
	unsigned int flags
#else
#define IVSHMEM_D_REVALIDATE_PARAMS struct dentry *dentry, unsigned int flags
#endif

/*
 * 6.17 made the default dentry operations of a superblock private
 * (->__s_d_op) behind set_default_d_op(). The kernel series keeps the
 * helper below with the second body.
 */

/* Give each dentry of @sb, its root included, the operations @ops. */
static inline void ivshmem_set_default_d_op(struct super_block *sb,
					    const struct dentry_operations *ops)
{
#if IVSHMEM_KERNEL_GE(6, 17, 0)
	set_default_d_op(sb, ops);
#else
	sb->s_d_op = ops;
#endif
}

/* 6.18 renamed generic_delete_inode() to inode_just_drop(). */
#if !IVSHMEM_KERNEL_GE(6, 18, 0)
#define inode_just_drop generic_delete_inode
#endif

/*
 * 6.19 hid inode->i_state behind accessors: inode_state_read_once() reads
 * it without inode->i_lock, as the plain read did before. The kernel
 * series keeps the helper below with the second body.
 */

/* The I_* state of @inode, read without inode->i_lock. */
static inline u32 ivshmem_inode_state(struct inode *inode)
{
#if IVSHMEM_KERNEL_GE(6, 19, 0)
	return inode_state_read_once(inode);
#else
	return inode->i_state;
#endif
}

/*
 * The network function (net/ivshmem_net.c): hrtimer_setup() (6.13) sets
 * the callback with the rest; before, hrtimer_init() and a store to
 * ->function did (6.15 removed hrtimer_init()).
 */
#include <linux/hrtimer.h>
#if !IVSHMEM_KERNEL_GE(6, 13, 0)
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

/*
 * The page-table walker (tests/ptwalk): 6.17 removed the page tables'
 * devmap bit (pte_devmap(), x86's _PAGE_DEVMAP); no entry has it since.
 */
static inline bool ivshmem_pte_devmap(pte_t pte)
{
#if IVSHMEM_KERNEL_GE(6, 17, 0)
	return false;
#else
	return pte_devmap(pte);
#endif
}

#endif /* IVSHMEM_COMPAT_H */
