// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem_ptwalk.c - a test-only page-table walker for the guest tests.
 *
 * Owns /dev/ivshmem_ptwalk, whose one ioctl (IVSHMEM_PTWALK_IOCTL) walks
 * the CALLING process's page tables for one user address and reports the
 * entry that maps it: its level (4 KiB PTE, 2 MiB PMD, 1 GiB PUD),
 * whether it is present, writable, user, special or devmap (a bit that
 * kernels from 6.17 on no longer have: never set there), and the
 * memory type it has: on x86 the one its cache bits (PWT, PCD, PAT)
 * encode in Linux's PAT table, on arm64 the MAIR_EL1 attribute its
 * AttrIndx selects (Normal write-back, Normal non-cacheable, Device).
 * It gives the tests on Debian's stock and RT kernels, which have no
 * PTDUMP_DEBUGFS, what /sys/kernel/debug/page_tables gives them on the
 * x86 debug kernels, and on arm64, whose PTDUMP dumps the kernel's
 * tables only, the user entries' types. It reads the tables only:
 * nothing is changed, no PFN is returned, and only the caller's own mm
 * is walked. Built by the test harness, never installed.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#ifdef CONFIG_X86
#include <asm/memtype.h>
#endif

#include "compat.h"
#include "ivshmem_ptwalk.h"

#ifdef CONFIG_X86

/*
 * PAT's cache modes in the order the driver matches them (guest/pci.c):
 * without PAT, write-combining and write-protected fall back to the bits
 * of uncached-minus, so the first match wins.
 */
static const struct {
	enum page_cache_mode pcm;
	u32 type;
} ptwalk_modes[] = {
	{ _PAGE_CACHE_MODE_WB, IVSHMEM_PTWALK_WB },
	{ _PAGE_CACHE_MODE_UC_MINUS, IVSHMEM_PTWALK_UC_MINUS },
	{ _PAGE_CACHE_MODE_UC, IVSHMEM_PTWALK_UC },
	{ _PAGE_CACHE_MODE_WT, IVSHMEM_PTWALK_WT },
	{ _PAGE_CACHE_MODE_WC, IVSHMEM_PTWALK_WC },
	{ _PAGE_CACHE_MODE_WP, IVSHMEM_PTWALK_WP },
};

/*
 * Fill @w from the flags of a leaf entry, @flags in the 4 KiB layout
 * (large entries keep their PAT bit at bit 12; the caller converts).
 */
static void ptwalk_fill(struct ivshmem_ptwalk *w, u32 level,
			unsigned long flags)
{
	unsigned long cache = flags & _PAGE_CACHE_MASK;
	unsigned int i;

	w->level = level;
	w->flags = (flags & _PAGE_PRESENT ? IVSHMEM_PTWALK_PRESENT : 0) |
		   (flags & _PAGE_RW ? IVSHMEM_PTWALK_WRITE : 0) |
		   (flags & _PAGE_USER ? IVSHMEM_PTWALK_USER : 0) |
		   (flags & _PAGE_SPECIAL ? IVSHMEM_PTWALK_SPECIAL : 0) |
		   (ivshmem_pte_devmap(__pte(flags)) ?
		    IVSHMEM_PTWALK_DEVMAP : 0);
	w->cache_bits = (flags & _PAGE_PWT ? 1 : 0) |
			(flags & _PAGE_PCD ? 2 : 0) |
			(flags & _PAGE_PAT ? 4 : 0);
	w->type = IVSHMEM_PTWALK_UNKNOWN;
	for (i = 0; i < ARRAY_SIZE(ptwalk_modes); i++) {
		if (cachemode2protval(ptwalk_modes[i].pcm) == cache) {
			w->type = ptwalk_modes[i].type;
			break;
		}
	}
}

static void ptwalk_fill_pte(struct ivshmem_ptwalk *w, pte_t pte)
{
	ptwalk_fill(w, IVSHMEM_PTWALK_4K, pte_flags(pte));
}

static void ptwalk_fill_pmd(struct ivshmem_ptwalk *w, pmd_t pmd)
{
	ptwalk_fill(w, IVSHMEM_PTWALK_2M,
		    pgprot_val(pgprot_large_2_4k(__pgprot(pmd_flags(pmd)))));
}

static void ptwalk_fill_pud(struct ivshmem_ptwalk *w, pud_t pud)
{
	ptwalk_fill(w, IVSHMEM_PTWALK_1G,
		    pgprot_val(pgprot_large_2_4k(__pgprot(pud_flags(pud)))));
}
#endif /* CONFIG_X86 */

#ifdef CONFIG_ARM64
/* MAIR_EL1's attributes as the kernel programs them (asm/sysreg.h). */
static const struct {
	u8 attr;
	u32 type;
} ptwalk_attrs[] = {
	{ MAIR_ATTR_NORMAL, IVSHMEM_PTWALK_NORMAL },
	{ MAIR_ATTR_NORMAL_TAGGED, IVSHMEM_PTWALK_NORMAL_TAGGED },
	{ MAIR_ATTR_NORMAL_NC, IVSHMEM_PTWALK_NORMAL_NC },
	{ MAIR_ATTR_DEVICE_nGnRE, IVSHMEM_PTWALK_DEVICE_NGNRE },
	{ MAIR_ATTR_DEVICE_nGnRnE, IVSHMEM_PTWALK_DEVICE_NGNRNE },
};

/*
 * Fill @w from a leaf entry @val at @level: a PTE, or a block PMD or PUD,
 * which keep their attributes where a PTE has them. The type is the
 * attribute MAIR_EL1 holds at the entry's AttrIndx, read from the
 * register, not assumed from the kernel's MT_* numbering.
 */
static void ptwalk_fill(struct ivshmem_ptwalk *w, u32 level, u64 val)
{
	pte_t pte = __pte(val);
	u32 idx = (val & PTE_ATTRINDX_MASK) >> 2;
	u8 attr = (read_sysreg(mair_el1) >> (8 * idx)) & MAIR_ATTR_MASK;
	unsigned int i;

	w->level = level;
	w->flags = (val & PTE_VALID ? IVSHMEM_PTWALK_PRESENT : 0) |
		   (pte_write(pte) ? IVSHMEM_PTWALK_WRITE : 0) |
		   (val & PTE_USER ? IVSHMEM_PTWALK_USER : 0) |
		   (pte_special(pte) ? IVSHMEM_PTWALK_SPECIAL : 0) |
		   (ivshmem_pte_devmap(pte) ? IVSHMEM_PTWALK_DEVMAP : 0);
	w->cache_bits = idx;
	w->type = IVSHMEM_PTWALK_UNKNOWN;
	for (i = 0; i < ARRAY_SIZE(ptwalk_attrs); i++) {
		if (ptwalk_attrs[i].attr == attr) {
			w->type = ptwalk_attrs[i].type;
			break;
		}
	}
}

static void ptwalk_fill_pte(struct ivshmem_ptwalk *w, pte_t pte)
{
	ptwalk_fill(w, IVSHMEM_PTWALK_4K, pte_val(pte));
}

static void ptwalk_fill_pmd(struct ivshmem_ptwalk *w, pmd_t pmd)
{
	ptwalk_fill(w, IVSHMEM_PTWALK_2M, pmd_val(pmd));
}

static void ptwalk_fill_pud(struct ivshmem_ptwalk *w, pud_t pud)
{
	ptwalk_fill(w, IVSHMEM_PTWALK_1G, pud_val(pud));
}
#endif /* CONFIG_ARM64 */

/*
 * The leaf entry under the PMD at @pmd, read under the PMD's lock. That
 * lock keeps the PTE table from being freed (6.12's khugepaged retracts
 * tables under the mmap lock for read, but takes the PMD lock to do it),
 * and a PTE is one atomic load. pte_offset_map_lock() would take the PTE
 * lock instead, but 6.12 exports no __pte_offset_map_lock() to modules.
 */
static void ptwalk_pmd(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
		       struct ivshmem_ptwalk *w)
{
	spinlock_t *ptl = pmd_lock(mm, pmd);
	pmd_t pmdv = READ_ONCE(*pmd);
	pte_t ptev;

	if (pmd_none(pmdv)) {
		/* no entry */
	} else if (pmd_leaf(pmdv)) {
		ptwalk_fill_pmd(w, pmdv);
	} else if (!pmd_bad(pmdv)) {
		ptev = ptep_get(pte_offset_kernel(pmd, addr));
		if (!pte_none(ptev))
			ptwalk_fill_pte(w, ptev);
	}
	spin_unlock(ptl);
}

/**
 * ptwalk_walk() - find the entry that maps @w->addr in @mm
 * @mm: the caller's mm
 * @w: @w->addr in; the rest out
 *
 * Walks pgd, p4d, pud, pmd and pte. A PUD is read under its lock, a PMD
 * and the PTE under it under the PMD's lock (ptwalk_pmd()), so a
 * concurrent fault or zap of the same range is seen before or after,
 * never torn. An address without a leaf entry leaves @w->level at
 * IVSHMEM_PTWALK_NONE; a leaf that is not present has no
 * IVSHMEM_PTWALK_PRESENT.
 *
 * Context: process context; takes the mmap lock for read, then page-table
 * spinlocks.
 * Return: 0, or -EINTR if a fatal signal came while waiting for the lock.
 */
static int ptwalk_walk(struct mm_struct *mm, struct ivshmem_ptwalk *w)
{
	unsigned long addr = w->addr;
	spinlock_t *ptl;	/* the PUD's page-table lock */
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud, pudv;

	w->level = IVSHMEM_PTWALK_NONE;
	w->flags = 0;
	w->type = IVSHMEM_PTWALK_UNKNOWN;
	w->cache_bits = 0;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	pgd = pgd_offset(mm, addr);
	if (pgd_none(*pgd) || pgd_bad(*pgd))
		goto out;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d))
		goto out;
	pud = pud_offset(p4d, addr);
	ptl = pud_lock(mm, pud);
	pudv = READ_ONCE(*pud);
	spin_unlock(ptl);
	if (pud_none(pudv))
		goto out;
	if (pud_leaf(pudv)) {
		ptwalk_fill_pud(w, pudv);
		goto out;
	}
	if (pud_bad(pudv))
		goto out;
	/* A PMD table is freed only with the mmap lock held for write. */
	ptwalk_pmd(mm, pmd_offset(pud, addr), addr, w);
out:
	mmap_read_unlock(mm);
	return 0;
}

static long ptwalk_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct ivshmem_ptwalk w;
	int ret;

	if (cmd != IVSHMEM_PTWALK_IOCTL)
		return -ENOTTY;
	if (!current->mm)
		return -EINVAL;
	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	if (w.addr >= TASK_SIZE)
		return -EINVAL;
	ret = ptwalk_walk(current->mm, &w);
	if (ret)
		return ret;
	return copy_to_user(uarg, &w, sizeof(w)) ? -EFAULT : 0;
}

static const struct file_operations ptwalk_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = ptwalk_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice ptwalk_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ivshmem_ptwalk",
	.fops = &ptwalk_fops,
	.mode = 0600,
};

module_misc_device(ptwalk_misc);

MODULE_DESCRIPTION("ivshmem tests: walk the caller's page tables for one address");
MODULE_LICENSE("GPL");
