/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ivshmem_ptwalk.h - the ioctl of the test-only page-table walker
 * (tests/ptwalk/ivshmem_ptwalk.c), shared by the module and the guest
 * test programs. Not part of the project's ABI.
 */
#ifndef IVSHMEM_PTWALK_H
#define IVSHMEM_PTWALK_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The entry that maps the address. */
enum ivshmem_ptwalk_level {
	IVSHMEM_PTWALK_NONE = 0,	/* no entry (a table is missing) */
	IVSHMEM_PTWALK_4K = 1,		/* a PTE */
	IVSHMEM_PTWALK_2M = 2,		/* a leaf PMD */
	IVSHMEM_PTWALK_1G = 3,		/* a leaf PUD */
};

/* The memory type its cache bits encode (x86 PAT). */
enum ivshmem_ptwalk_type {
	IVSHMEM_PTWALK_WB = 0,
	IVSHMEM_PTWALK_WC = 1,
	IVSHMEM_PTWALK_UC_MINUS = 2,
	IVSHMEM_PTWALK_UC = 3,
	IVSHMEM_PTWALK_WT = 4,
	IVSHMEM_PTWALK_WP = 5,
	IVSHMEM_PTWALK_UNKNOWN = 15,
};

#define IVSHMEM_PTWALK_PRESENT	(1u << 0)
#define IVSHMEM_PTWALK_WRITE	(1u << 1)
#define IVSHMEM_PTWALK_USER	(1u << 2)
#define IVSHMEM_PTWALK_SPECIAL	(1u << 3)	/* _PAGE_SPECIAL */
#define IVSHMEM_PTWALK_DEVMAP	(1u << 4)	/* _PAGE_DEVMAP */

/**
 * struct ivshmem_ptwalk - one walk of the caller's page tables
 * @addr: in: a user address of the calling process
 * @level: out: enum ivshmem_ptwalk_level
 * @flags: out: IVSHMEM_PTWALK_* bits of the entry
 * @type: out: enum ivshmem_ptwalk_type, from PWT, PCD and PAT
 * @cache_bits: out: the entry's PWT (bit 0), PCD (bit 1), PAT (bit 2)
 */
struct ivshmem_ptwalk {
	__u64 addr;
	__u32 level;
	__u32 flags;
	__u32 type;
	__u32 cache_bits;
};

#define IVSHMEM_PTWALK_IOCTL	_IOWR('P', 0x70, struct ivshmem_ptwalk)

#endif /* IVSHMEM_PTWALK_H */
