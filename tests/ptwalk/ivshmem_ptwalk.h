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

/*
 * The memory type the entry's attributes encode: on x86 its cache bits
 * in Linux's PAT table, on arm64 the MAIR_EL1 attribute its AttrIndx
 * selects.
 */
enum ivshmem_ptwalk_type {
	IVSHMEM_PTWALK_WB = 0,
	IVSHMEM_PTWALK_WC = 1,
	IVSHMEM_PTWALK_UC_MINUS = 2,
	IVSHMEM_PTWALK_UC = 3,
	IVSHMEM_PTWALK_WT = 4,
	IVSHMEM_PTWALK_WP = 5,
	/* arm64: Normal, inner and outer write-back (MAIR 0xff) */
	IVSHMEM_PTWALK_NORMAL = 6,
	/* arm64: Normal, write-back, MTE tags (0xf0) */
	IVSHMEM_PTWALK_NORMAL_TAGGED = 7,
	/* arm64: Normal, inner and outer non-cacheable (0x44) */
	IVSHMEM_PTWALK_NORMAL_NC = 8,
	/* arm64: Device-nGnRE (0x04) */
	IVSHMEM_PTWALK_DEVICE_NGNRE = 9,
	/* arm64: Device-nGnRnE (0x00) */
	IVSHMEM_PTWALK_DEVICE_NGNRNE = 10,
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
 * @type: out: enum ivshmem_ptwalk_type, from PWT, PCD and PAT (x86) or
 *	from AttrIndx and MAIR_EL1 (arm64)
 * @cache_bits: out: x86: the entry's PWT (bit 0), PCD (bit 1), PAT
 *	(bit 2); arm64: its AttrIndx (0-7)
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
