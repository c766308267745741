/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place for kernel-version differences.
 *
 * Both modules include this header instead of testing LINUX_VERSION_CODE
 * themselves, so supporting a new kernel costs one edit here: compare with
 * IVSHMEM_KERNEL_GE() and wrap the changed API in an ivshmem_ helper.
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
 * Adding @n to an eventfd: before 6.8 eventfd_signal() took the count, one
 * call does it; from 6.8 it adds 1 only, so @n calls, rescheduling between
 * them (callers are the vectors' interrupt threads, which may sleep).
 */
#include <linux/sched.h>
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
 * Internals of the host module that its KUnit suite calls. 6.1 lacks
 * EXPORT_SYMBOL_IF_KUNIT(); this is the same idea with the project's
 * namespace: exported only when KUnit is configured.
 */
#include <linux/export.h>
#if IS_ENABLED(CONFIG_KUNIT)
#define EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(sym) \
	EXPORT_SYMBOL_NS_GPL(sym, IVSHMEM_HOST_KUNIT)
#else
/* Nothing exported; the argument is still checked to name a symbol. */
#define EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(sym) static_assert(sizeof(typeof(sym) *))
#endif

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
#endif

#endif /* IVSHMEM_COMPAT_H */
