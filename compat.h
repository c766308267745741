/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the one place for kernel-version differences.
 *
 * Both modules include this header instead of testing LINUX_VERSION_CODE
 * themselves, so supporting a new kernel costs one edit here.
 */
#ifndef IVSHMEM_COMPAT_H
#define IVSHMEM_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>

/* vm_flags became read-only in 6.3; vm_flags_set() replaced direct writes. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void ivshmem_vm_flags_set(struct vm_area_struct *vma,
					 vm_flags_t flags)
{
	vma->vm_flags |= flags;
}
#else
static inline void ivshmem_vm_flags_set(struct vm_area_struct *vma,
					 vm_flags_t flags)
{
	vm_flags_set(vma, flags);
}
#endif

/* class_create() lost its owner argument in 6.4. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
#define ivshmem_class_create(name) class_create(THIS_MODULE, name)
#else
#define ivshmem_class_create(name) class_create(name)
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
#define EXPORT_SYMBOL_FOR_IVSHMEM_KUNIT(sym)
#endif

#endif /* IVSHMEM_COMPAT_H */
