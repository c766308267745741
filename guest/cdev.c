// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: file operations on /dev/ivshmemN.
 *
 * read/write/lseek behave like a file of BAR2's size; mmap maps BAR2
 * shared only, as raw PFNs (BAR2 has no struct pages) with BAR2's one
 * memory type, populated on fault a page table (up to 2 MiB) at a time with
 * 4 KiB entries, so that removal can revoke it (see ivshmem_drv.h for the
 * lifetime rules, Documentation/guest.rst "Memory model" for the rest).
 *
 * Locking: no driver lock is taken here. Every operation that reaches the
 * hardware runs inside an ivshmem_srcu read-side section and checks
 * idev->alive first.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "ivshmem_drv.h"
#include "util.h"

/*
 * User mappings use 4 KiB entries only, on every kernel: mbind() with
 * MPOL_MF_STRICT walks a VM_PFNMAP VMA (mempolicy's .test_walk lets it
 * in) and, on a 2 MiB entry, 6.1's queue_folios_pmd() takes the struct
 * page of the PFN, which BAR2 does not have: an oops any program with a
 * read-only fd could cause. On special PTEs vm_normal_folio() returns
 * NULL and the walk skips them. A fault fills its whole page table, and
 * get_unmapped_area aligns mappings to 2 MiB like the offset, so a fresh
 * mapping still takes one fault per 2 MiB (Documentation/guest.rst,
 * "Huge mappings").
 */

/* Copy in chunks so that a huge read or write can be interrupted. */
#define IVSHMEM_RW_CHUNK	SZ_1M

static struct ivshmem_dev *to_idev(struct file *file)
{
	return ((struct ivshmem_file *)file->private_data)->idev;
}

static int ivshmem_open(struct inode *inode, struct file *file)
{
	struct ivshmem_dev *idev = container_of(inode->i_cdev,
						struct ivshmem_dev, cdev);
	struct ivshmem_file *ifile;
	int idx, ret = 0;

	ifile = kzalloc(sizeof(*ifile), GFP_KERNEL_ACCOUNT);
	if (!ifile)
		return -ENOMEM;
	ifile->idev = idev;

	idx = srcu_read_lock(&ivshmem_srcu);
	if (!READ_ONCE(idev->alive)) {
		ret = -ENODEV;
	} else {
		get_device(&idev->dev);
		/*
		 * Interrupts from before the open are consumed; the file
		 * can ask for them with IVSHMEM_IOCTL_SET_SEEN.
		 */
		ivshmem_file_seen_init(ifile);
		file->private_data = ifile;
		/* Share one address space so removal zaps all mappings. */
		file->f_mapping = idev->inode->i_mapping;
	}
	srcu_read_unlock(&ivshmem_srcu, idx);
	if (ret)
		kfree(ifile);
	return ret;
}

static int ivshmem_release(struct inode *inode, struct file *file)
{
	struct ivshmem_file *ifile = file->private_data;

	ivshmem_file_unbind_all(ifile);
	put_device(&ifile->idev->dev);
	kfree(ifile);
	return 0;
}

static loff_t ivshmem_llseek(struct file *file, loff_t offset, int whence)
{
	struct ivshmem_dev *idev = to_idev(file);

	if (!READ_ONCE(idev->alive))
		return -ENODEV;
	return fixed_size_llseek(file, offset, whence, idev->shm_size);
}

/*
 * Copy @n bytes at @off of BAR2 to or from the kernel buffer @buf through
 * the kernel's view: memcpy() for write-back (a memremap()), the I/O
 * accessors otherwise, which any alignment is safe with on every
 * architecture (arm64 Device memory faults on unaligned accesses).
 * Inside ivshmem_srcu, after checking alive.
 */
static void ivshmem_shm_read(struct ivshmem_dev *idev, void *buf, u64 off,
			     size_t n)
{
	if (idev->shm)
		memcpy(buf, idev->shm + off, n);
	else
		memcpy_fromio(buf, idev->shm_io + off, n);
}

static void ivshmem_shm_write(struct ivshmem_dev *idev, u64 off,
			      const void *buf, size_t n)
{
	if (idev->shm)
		memcpy(idev->shm + off, buf, n);
	else
		memcpy_toio(idev->shm_io + off, buf, n);
}

/**
 * ivshmem_rw_direct() - copy between user memory and BAR2 without faulting
 * @shm: BAR2's kernel mapping at the file offset
 * @ubuf: user memory, checked with access_ok()
 * @n: bytes to copy
 * @to_user: true to copy from @shm to @ubuf
 *
 * The fast path of read() and write() for a write-back BAR2 (a memremap()
 * the CPU accesses as ordinary memory): one copy, no bounce buffer. Page
 * faults are disabled, so a user page that is not present (swapped out,
 * never touched, userfaultfd, FUSE, another device's mapping not yet
 * faulted in) stops the copy short instead of sleeping in the fault with
 * the caller inside ivshmem_srcu. The _inatomic copies do not zero-fill
 * what they could not copy: toward BAR2 only the caller's own bytes are
 * stored, each at its own offset, never zeroes.
 *
 * Context: inside ivshmem_srcu; does not sleep.
 * Return: bytes copied, from 0 to @n.
 */
static size_t ivshmem_rw_direct(void *shm, char __user *ubuf, size_t n,
				bool to_user)
{
	unsigned long left;

	pagefault_disable();
	if (to_user)
		left = __copy_to_user_inatomic(ubuf, shm, n);
	else
		left = __copy_from_user_inatomic(shm, ubuf, n);
	pagefault_enable();
	return n - left;
}

/**
 * ivshmem_rw_bounce() - copy through a kernel buffer, faulting outside SRCU
 * @idev: the device
 * @bounce: kernel buffer of at least @n bytes
 * @ubuf: user memory
 * @off: offset in BAR2
 * @n: bytes to copy
 * @to_user: true to copy from BAR2 to @ubuf
 *
 * The slow path, for what ivshmem_rw_direct() could not copy and for every
 * copy of a write-combining or uncached BAR2 (I/O memory, which user
 * copies must not touch directly): user memory
 * is touched only outside ivshmem_srcu, where a fault may sleep as long
 * as userspace likes (removal must not wait for it), and a faulting
 * copy_from_user(), which zero-fills what it could not copy, writes its
 * zeroes into @bounce, not into the shared memory: BAR2 gets exactly the
 * bytes that were copied.
 *
 * Context: process context, may sleep; enters ivshmem_srcu.
 * Return: bytes copied (less than @n after a fault), or -ENODEV once the
 * device is gone.
 */
static ssize_t ivshmem_rw_bounce(struct ivshmem_dev *idev, void *bounce,
				 char __user *ubuf, loff_t off, size_t n,
				 bool to_user)
{
	unsigned long left = 0;
	bool gone = false;
	int idx;

	if (!to_user)
		left = copy_from_user(bounce, ubuf, n);

	idx = srcu_read_lock(&ivshmem_srcu);
	if (!READ_ONCE(idev->alive))
		gone = true;
	else if (to_user)
		ivshmem_shm_read(idev, bounce, off, n);
	else
		ivshmem_shm_write(idev, off, bounce, n - left);
	srcu_read_unlock(&ivshmem_srcu, idx);
	if (gone)
		return -ENODEV;

	if (to_user)
		left = copy_to_user(ubuf, bounce, n);
	return n - left;
}

/*
 * Move @count bytes between user memory and BAR2 at *@ppos, chunk by
 * chunk: each chunk of a write-back BAR2 is copied directly inside
 * ivshmem_srcu with page faults disabled (ivshmem_rw_direct()), and
 * whatever a fault left of it, or the whole chunk of an I/O-memory BAR2,
 * goes through a kernel bounce buffer with user memory touched outside
 * SRCU (ivshmem_rw_bounce()), allocated when first needed. Chunks
 * keep a huge read or write interruptible. @to_user selects the
 * direction. Returns bytes moved, or an errno if none were.
 */
static ssize_t ivshmem_rw(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos, bool to_user)
{
	struct ivshmem_dev *idev = to_idev(file);
	ssize_t avail, done = 0;
	void *bounce = NULL;
	int idx;

	if (!READ_ONCE(idev->alive))
		return -ENODEV;
	/* A failed sysfs memtype change left BAR2 without a kernel view. */
	if (!idev->shm && !idev->shm_io)
		return -EIO;
	avail = ivshmem_rw_count(*ppos, count, idev->shm_size);
	if (avail <= 0)
		/* Writing at the end of a fixed-size device: no space. */
		return (avail == 0 && count && !to_user) ? -ENOSPC : avail;
	/* The _inatomic copies leave this check to their caller. */
	if (!access_ok(ubuf, avail))
		return -EFAULT;

	while (done < avail) {
		size_t n = min_t(size_t, avail - done, IVSHMEM_RW_CHUNK);
		loff_t off = *ppos + done;
		size_t got = 0;
		ssize_t ret;
		bool gone = false;

		idx = srcu_read_lock(&ivshmem_srcu);
		if (!READ_ONCE(idev->alive))
			gone = true;
		else if (idev->shm)
			got = ivshmem_rw_direct(idev->shm + off, ubuf + done, n,
						to_user);
		srcu_read_unlock(&ivshmem_srcu, idx);
		if (gone) {
			if (!done)
				done = -ENODEV;
			break;
		}
		done += got;
		if (got < n) {
			if (!bounce)
				bounce = kvmalloc(min_t(size_t, avail,
							IVSHMEM_RW_CHUNK),
						  GFP_KERNEL);
			if (!bounce) {
				if (!done)
					done = -ENOMEM;
				break;
			}
			ret = ivshmem_rw_bounce(idev, bounce, ubuf + done,
						off + got, n - got, to_user);
			if (ret < 0) {
				if (!done)
					done = ret;
				break;
			}
			done += ret;
			if ((size_t)ret < n - got) {
				if (!done)
					done = -EFAULT;
				break;
			}
		}
		if (done < avail) {
			if (fatal_signal_pending(current))
				break;
			cond_resched();
		}
	}
	if (done > 0)
		*ppos += done;
	kvfree(bounce);
	return done;
}

static ssize_t ivshmem_read(struct file *file, char __user *buf, size_t count,
			    loff_t *ppos)
{
	return ivshmem_rw(file, buf, count, ppos, true);
}

static ssize_t ivshmem_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	return ivshmem_rw(file, (char __user *)buf, count, ppos, false);
}

/**
 * ivshmem_vm_fault() - map BAR2 pages into a user mapping, 4 KiB entries
 * @vmf: the fault
 *
 * Maps the faulting page and the rest of its page table (up to the next
 * 2 MiB boundary, within the VMA): a fresh mapping takes at most one fault
 * per 2 MiB even where huge entries cannot be used. The entries are
 * special PTEs of raw PFNs (vmf_insert_pfn()): no struct page, no page
 * reference can be taken through them, no RSS is counted, and their
 * memory type is BAR2's (ivshmem_pgprot() at mmap). They are written
 * inside SRCU, so removal's zap, which follows its synchronize_srcu(),
 * finds every one of them.
 *
 * Context: mmap lock held for read; enters ivshmem_srcu.
 * Return: VM_FAULT_NOPAGE when mapped, VM_FAULT_SIGBUS once the device is
 * gone, or the error of the faulting page.
 */
static vm_fault_t ivshmem_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct ivshmem_dev *idev = vma->vm_private_data;
	unsigned long addr = vmf->address & PAGE_MASK;
	unsigned long end = min(ALIGN(addr + 1, PMD_SIZE), vma->vm_end);
	/* mmap() checked that the whole VMA lies inside BAR2. */
	unsigned long pfn = PHYS_PFN(idev->shm_phys) + vmf->pgoff;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	int idx;

	idx = srcu_read_lock(&ivshmem_srcu);
	if (READ_ONCE(idev->alive)) {
		ret = vmf_insert_pfn(vma, addr, pfn);
		/* Entries already present are skipped, not an error. */
		while (ret == VM_FAULT_NOPAGE && (addr += PAGE_SIZE) < end)
			if (vmf_insert_pfn(vma, addr, ++pfn) != VM_FAULT_NOPAGE)
				break;
	}
	srcu_read_unlock(&ivshmem_srcu, idx);
	return ret;
}

/**
 * ivshmem_vm_access() - ptrace, gdb and /proc/PID/mem access to a mapping
 * @vma: the mapping
 * @addr: user address in @vma
 * @buf: kernel buffer
 * @len: bytes wanted
 * @write: non-zero to write @buf into the mapping
 *
 * get_user_pages() refuses the mapping (no struct pages), so
 * access_remote_vm() comes here: copy through the kernel mapping, which
 * has the same memory type, inside SRCU (I/O accessors for a
 * write-combining or uncached BAR2). Writing needs a writable mapping,
 * as it does for GUP on a shared mapping even with FOLL_FORCE.
 *
 * Context: the target's mmap lock held for read; enters ivshmem_srcu.
 * Return: bytes copied (up to the end of @vma), -EIO for a write to a
 * read-only mapping, -ENODEV once the device is gone.
 */
static int ivshmem_vm_access(struct vm_area_struct *vma, unsigned long addr,
			     void *buf, int len, int write)
{
	struct ivshmem_dev *idev = vma->vm_private_data;
	u64 off = ((u64)vma->vm_pgoff << PAGE_SHIFT) + (addr - vma->vm_start);
	int idx, ret;

	if (write && !(vma->vm_flags & VM_WRITE))
		return -EIO;
	if (!idev->shm && !idev->shm_io)
		return -EIO;
	len = min_t(unsigned long, len, vma->vm_end - addr);
	idx = srcu_read_lock(&ivshmem_srcu);
	if (!READ_ONCE(idev->alive)) {
		ret = -ENODEV;
	} else {
		if (write)
			ivshmem_shm_write(idev, off, buf, len);
		else
			ivshmem_shm_read(idev, buf, off, len);
		ret = len;
	}
	srcu_read_unlock(&ivshmem_srcu, idx);
	return ret;
}

static const struct vm_operations_struct ivshmem_vm_ops = {
	.fault = ivshmem_vm_fault,
	.access = ivshmem_vm_access,
};

static int ivshmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ivshmem_dev *idev = to_idev(file);
	unsigned long len = vma->vm_end - vma->vm_start;
	int idx, ret = 0;

	/* A private (copy-on-write) mapping of shared memory makes no sense. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	/* Check the page offset before shifting it, it may be huge. */
	if (vma->vm_pgoff > (idev->shm_size >> PAGE_SHIFT) ||
	    !ivshmem_range_ok((u64)vma->vm_pgoff << PAGE_SHIFT, len,
			      idev->shm_size))
		return -EINVAL;

	idx = srcu_read_lock(&ivshmem_srcu);
	if (!READ_ONCE(idev->alive)) {
		ret = -ENODEV;
	} else {
		/*
		 * A PFN map of special entries: GUP-fast skips them, GUP
		 * refuses VM_IO | VM_PFNMAP (EFAULT), so no page reference
		 * exists that removal would have to wait for or revoke.
		 */
		ivshmem_vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND |
				     VM_DONTDUMP);
		vma->vm_page_prot = ivshmem_pgprot(idev, vma->vm_flags);
		vma->vm_ops = &ivshmem_vm_ops;
		vma->vm_private_data = idev;
	}
	srcu_read_unlock(&ivshmem_srcu, idx);
	return ret;
}

static void ivshmem_get_info(struct ivshmem_dev *idev,
			     struct ivshmem_info *info)
{
	ivshmem_info_fill(info, idev->shm_size, ivshmem_peer_id(idev),
			  idev->vectors, idev->rx_mask, idev->can_ring,
			  idev->region_id, idev->shm_mt == IVSHMEM_MT_WB);
	if (ivshmem_dmabuf_supported(idev))
		info->flags |= IVSHMEM_INFO_DMABUF;
	ivshmem_irq_counts(idev, info->irq_count);
}

/*
 * IVSHMEM_IOCTL_WAIT. A request ivshmem_wait_check() refuses changes
 * nothing. Otherwise only @fired is written: zero before the wait, so
 * that a structure the caller cannot write fails with EFAULT before any
 * interrupt is consumed, then the vectors that fired. The inputs are
 * never rewritten: a restart after a signal reads the same absolute
 * deadline (see ivshmem_wait()).
 */
static long ivshmem_ioctl_wait(struct ivshmem_file *ifile, void __user *arg)
{
	u32 __user *ufired = arg + offsetof(struct ivshmem_wait, fired);
	struct ivshmem_wait req;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	ret = ivshmem_wait_check(ifile->idev, &req);
	if (ret)
		return ret;
	if (put_user(0, ufired))
		return -EFAULT;
	ret = ivshmem_wait(ifile, &req);
	if (ret)
		return ret;
	if (put_user(req.fired, ufired))
		return -EFAULT;
	return 0;
}

/*
 * User memory is copied before entering ivshmem_srcu and after leaving
 * it, never inside: a fault may sleep indefinitely and removal waits for
 * SRCU readers.
 */
static long ivshmem_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct ivshmem_file *ifile = file->private_data;
	struct ivshmem_dev *idev = ifile->idev;
	void __user *argp = (void __user *)arg;
	union {
		struct ivshmem_eventfd efd;
		struct ivshmem_ring ring;
		struct ivshmem_info info;
		struct ivshmem_seen seen;
	} u;
	int idx;
	long ret;

	switch (cmd) {
	case IVSHMEM_IOCTL_WAIT:
		/* Sleeps outside SRCU; removal wakes it (ENODEV). */
		return ivshmem_ioctl_wait(ifile, argp);
	case IVSHMEM_IOCTL_DMABUF:
		/* Copies user memory outside SRCU by itself. */
		return ivshmem_dmabuf_export(idev, file, argp);
	case IVSHMEM_IOCTL_SET_EVENTFD:
		if (copy_from_user(&u.efd, argp, sizeof(u.efd)))
			return -EFAULT;
		break;
	case IVSHMEM_IOCTL_RING:
		/* Interrupting another VM is a write, as on the host. */
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		if (copy_from_user(&u.ring, argp, sizeof(u.ring)))
			return -EFAULT;
		break;
	case IVSHMEM_IOCTL_SET_SEEN:
		if (copy_from_user(&u.seen, argp, sizeof(u.seen)))
			return -EFAULT;
		break;
	case IVSHMEM_IOCTL_INFO:
		break;
	default:
		return -ENOTTY;
	}

	idx = srcu_read_lock(&ivshmem_srcu);
	if (!READ_ONCE(idev->alive)) {
		ret = -ENODEV;
	} else if (cmd == IVSHMEM_IOCTL_INFO) {
		ivshmem_get_info(idev, &u.info);
		ret = 0;
	} else if (cmd == IVSHMEM_IOCTL_SET_EVENTFD) {
		ret = ivshmem_set_eventfd(ifile, &u.efd);
	} else if (cmd == IVSHMEM_IOCTL_SET_SEEN) {
		ret = ivshmem_set_seen(ifile, &u.seen);
	} else {
		ret = ivshmem_ring(idev, &u.ring);
	}
	srcu_read_unlock(&ivshmem_srcu, idx);

	if (!ret && cmd == IVSHMEM_IOCTL_INFO &&
	    copy_to_user(argp, &u.info, sizeof(u.info)))
		ret = -EFAULT;
	return ret;
}

static __poll_t ivshmem_poll(struct file *file, poll_table *wait)
{
	struct ivshmem_file *ifile = file->private_data;

	poll_wait(file, &ifile->idev->wq, wait);
	return ivshmem_poll_events(ifile);
}

const struct file_operations ivshmem_fops = {
	.owner = THIS_MODULE,
	.open = ivshmem_open,
	.release = ivshmem_release,
	.llseek = ivshmem_llseek,
	.read = ivshmem_read,
	.write = ivshmem_write,
	.mmap = ivshmem_mmap,
	/*
	 * Addresses 2 MiB-congruent with the offset: one fault fills one
	 * page table (NULL, the default, without THP).
	 */
	.get_unmapped_area = thp_get_unmapped_area,
	.poll = ivshmem_poll,
	/* msync(): the memory is the host's, nothing to write back. */
	.fsync = noop_fsync,
	.unlocked_ioctl = ivshmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};
