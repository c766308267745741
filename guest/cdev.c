// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem guest driver: file operations on /dev/ivshmemN.
 *
 * read/write/lseek behave like a file of BAR2's size; mmap maps BAR2
 * write-back, shared only, populated on fault so that removal can revoke
 * it (see ivshmem_drv.h for the lifetime rules).
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

/* Copy in chunks so that a huge read or write can be interrupted. */
#define IVSHMEM_RW_CHUNK	SZ_1M
/* Pages mapped per fault: fewer faults on a fresh mapping. */
#define IVSHMEM_FAULT_AROUND	16

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
 * Move @count bytes between user memory and BAR2 at *@ppos, chunk by
 * chunk through a kernel bounce buffer. User memory is touched only
 * outside ivshmem_srcu: a copy may sleep in a fault for as long as
 * userspace likes (FUSE, userfaultfd), and removal must not wait for it.
 * The bounce buffer also keeps a faulting copy_from_user(), which
 * zero-fills what it could not copy, from writing zeroes into the shared
 * memory. @to_user selects the direction. Returns bytes moved, or an
 * errno if none were.
 */
static ssize_t ivshmem_rw(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos, bool to_user)
{
	struct ivshmem_dev *idev = to_idev(file);
	ssize_t avail, done = 0;
	void *bounce;
	int idx;

	if (!READ_ONCE(idev->alive))
		return -ENODEV;
	avail = ivshmem_rw_count(*ppos, count, idev->shm_size);
	if (avail <= 0)
		/* Writing at the end of a fixed-size device: no space. */
		return (avail == 0 && count && !to_user) ? -ENOSPC : avail;
	bounce = kvmalloc(min_t(size_t, avail, IVSHMEM_RW_CHUNK), GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	while (done < avail) {
		size_t n = min_t(size_t, avail - done, IVSHMEM_RW_CHUNK);
		loff_t off = *ppos + done;
		unsigned long left = 0;
		bool gone = false;

		if (!to_user)
			left = copy_from_user(bounce, ubuf + done, n);

		idx = srcu_read_lock(&ivshmem_srcu);
		if (!READ_ONCE(idev->alive))
			gone = true;
		else if (to_user)
			memcpy(bounce, idev->shm + off, n);
		else
			memcpy(idev->shm + off, bounce, n - left);
		srcu_read_unlock(&ivshmem_srcu, idx);
		if (gone) {
			if (!done)
				done = -ENODEV;
			break;
		}

		if (to_user)
			left = copy_to_user(ubuf + done, bounce, n);
		done += n - left;
		if (left) {
			if (!done)
				done = -EFAULT;
			break;
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

/*
 * Insert @n pages of BAR2 from page @pgoff at @addr; the first must
 * succeed, the rest stop at the first that fails (already mapped, end).
 */
static vm_fault_t ivshmem_insert(struct ivshmem_dev *idev,
				 struct vm_area_struct *vma, unsigned long addr,
				 pgoff_t pgoff, int n)
{
	unsigned long pfn = PHYS_PFN(idev->shm_phys) + pgoff;
	vm_fault_t ret = VM_FAULT_NOPAGE;
	int i, err;

	for (i = 0; i < n && addr < vma->vm_end; i++, addr += PAGE_SIZE) {
		if (idev->shm_pages) {
			err = vm_insert_page(vma, addr, pfn_to_page(pfn + i));
			if (!i && err && err != -EBUSY)
				ret = err == -ENOMEM ? VM_FAULT_OOM :
						       VM_FAULT_SIGBUS;
		} else {
			vm_fault_t r = vmf_insert_pfn_prot(vma, addr, pfn + i,
							   vma->vm_page_prot);

			if (!i)
				ret = r;
			err = r == VM_FAULT_NOPAGE ? 0 : -EFAULT;
		}
		if (err)
			break;
	}
	return ret;
}

/**
 * ivshmem_vm_fault() - map BAR2 pages into a user mapping
 * @vmf: the fault
 *
 * Maps the faulting page and up to IVSHMEM_FAULT_AROUND - 1 pages after
 * it. With struct pages they get the mapping's protection (write-back);
 * without, the memory type PAT recorded for BAR2. The page table entries
 * are written inside SRCU, so removal's zap, which follows its
 * synchronize_srcu(), finds every one of them.
 *
 * Context: mmap lock held for read; enters ivshmem_srcu.
 * Return: VM_FAULT_NOPAGE when mapped, VM_FAULT_SIGBUS once the device is
 * gone, or the error of the first page.
 */
static vm_fault_t ivshmem_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct ivshmem_dev *idev = vma->vm_private_data;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	int idx;

	idx = srcu_read_lock(&ivshmem_srcu);
	if (READ_ONCE(idev->alive))
		ret = ivshmem_insert(idev, vma, vmf->address & PAGE_MASK,
				     vmf->pgoff, IVSHMEM_FAULT_AROUND);
	srcu_read_unlock(&ivshmem_srcu, idx);
	return ret;
}

static const struct vm_operations_struct ivshmem_vm_ops = {
	.fault = ivshmem_vm_fault,
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
		 * VM_IO keeps get_user_pages() away: nothing can pin BAR2
		 * pages and hold up removal. Pages go in as a mixed map
		 * (struct pages) or a PFN map (none).
		 */
		ivshmem_vm_flags_set(vma, VM_IO | VM_DONTEXPAND | VM_DONTDUMP |
				     (idev->shm_pages ? VM_MIXEDMAP :
							VM_PFNMAP));
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
			  idev->region_id, idev->shm_pages);
	if (ivshmem_dmabuf_supported(idev))
		info->flags |= IVSHMEM_INFO_DMABUF;
	ivshmem_irq_counts(idev, info->irq_count);
}

/*
 * IVSHMEM_IOCTL_WAIT. Only @fired is written back, on success: the
 * inputs are never rewritten, so a program may reuse one structure for
 * every wait. A restart after a signal keeps its deadline without user
 * memory (see ivshmem_wait()).
 */
static long ivshmem_ioctl_wait(struct ivshmem_file *ifile, void __user *arg)
{
	struct ivshmem_wait req;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req))) {
		ivshmem_wait_forget(ifile);
		return -EFAULT;
	}
	ret = ivshmem_wait(ifile, &req, arg);
	if (ret)
		return ret;
	if (put_user(req.fired, (u32 __user *)(arg +
				offsetof(struct ivshmem_wait, fired))))
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
		return ivshmem_dmabuf_export(idev, argp);
	case IVSHMEM_IOCTL_SET_EVENTFD:
		if (copy_from_user(&u.efd, argp, sizeof(u.efd)))
			return -EFAULT;
		break;
	case IVSHMEM_IOCTL_RING:
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
	.poll = ivshmem_poll,
	.unlocked_ioctl = ivshmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};
