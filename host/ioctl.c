// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ivshmem_host and the attachment fds: the ioctl ABI of
 * include/uapi/linux/ivshmem_host.h.
 *
 * Every request is copied in whole, checked (reserved fields zero, no
 * unknown flags, names NUL-terminated and zero-padded) and only then
 * acted upon; a refused request changes nothing. Output is copied back
 * before an attachment fd is installed, so a bad pointer leaves no fd
 * and no attachment behind. No user memory is touched under a lock.
 *
 * What is trusted: /dev/ivshmem_host is root-only (or a group the admin
 * chose), and what its ioctls say is believed as far as the registry
 * cannot contradict it: ATTACH's VM ID is checked against the member
 * list. Nothing said here can make the module interrupt or reconfigure a
 * VM: it issues no hypercall, and a ring only signals eventfds, which reach a guest VM only
 * where that VM's own device model registered them with HSM. Requests
 * that change state need the file open for writing (EBADF otherwise), so
 * a read-only descriptor handed out for monitoring cannot ring or attach.
 * An attachment fd is a capability for exactly one (region, VM): it maps
 * that region, registers that VM's vectors and rings from that VM.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/build_bug.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "../compat.h"
#include "ivshmem_host_drv.h"

/*
 * The uapi layout is the same for 32- and 64-bit userspace, and any
 * change to it must be deliberate.
 */
static_assert(sizeof(struct ivshmem_host_info) == 64);
static_assert(offsetof(struct ivshmem_host_info, mem_bytes) == 24);
static_assert(sizeof(struct ivshmem_host_region) == 80);
static_assert(offsetof(struct ivshmem_host_region, members) == 32);
static_assert(offsetof(struct ivshmem_host_region, rt_members) == 64);
static_assert(sizeof(struct ivshmem_host_name) == 56);
static_assert(sizeof(struct ivshmem_host_list) == 40);
static_assert(offsetof(struct ivshmem_host_list, regions) == 8);
static_assert(sizeof(struct ivshmem_host_attach) == 72);
static_assert(offsetof(struct ivshmem_host_attach, fd) == 40);
static_assert(offsetof(struct ivshmem_host_attach, size) == 48);
static_assert(sizeof(struct ivshmem_host_ring) == 64);
static_assert(sizeof(struct ivshmem_host_vector) == 32);
static_assert(offsetof(struct ivshmem_host_vector, fd) == 4);
static_assert(sizeof(struct ivshmem_host_trigger) == 32);
static_assert(offsetof(struct ivshmem_host_trigger, fd) == 0);

static struct ivh_host *ivh_misc_host;

static void ivh_refuse(const char *op, const char *name, const char *why,
		       int err)
{
	pr_warn_ratelimited("%s \"%*pE\": %s (%d)\n", op,
			    (int)strnlen(name, IVSHMEM_HOST_NAME_LEN), name,
			    why, err);
}

static bool ivh_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

/*
 * A name from userspace: NUL-terminated within the array and zero after
 * the NUL (so no stale bytes can be mistaken for meaning later).
 */
static int ivh_user_name(const char *name, const char **why)
{
	size_t len = strnlen(name, IVSHMEM_HOST_NAME_LEN);

	if (len == IVSHMEM_HOST_NAME_LEN) {
		*why = "name is not NUL-terminated within 32 bytes";
		return -ENAMETOOLONG;
	}
	if (!ivh_zero(name + len, IVSHMEM_HOST_NAME_LEN - len)) {
		*why = "bytes after the name's NUL are not zero";
		return -EINVAL;
	}
	return 0;
}

static long ivh_ioctl_info(struct ivh_host *host, void __user *arg)
{
	struct ivshmem_host_info info = {
		.max_regions	= IVH_MAX_REGIONS,
		.name_len	= IVSHMEM_HOST_NAME_LEN,
		.max_vectors	= IVSHMEM_HOST_MAX_VECTORS,
	};

	if (host->acrn)
		info.flags |= IVSHMEM_HOST_INFO_ACRN;
	mutex_lock(&host->lock);
	info.nr_regions = host->nr_regions;
	mutex_unlock(&host->lock);
	info.mem_bytes = atomic64_read(&host->mem_bytes);
	info.nr_mems = atomic_read(&host->nr_mems);
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long ivh_ioctl_add(struct ivh_host *host, void __user *arg)
{
	struct ivshmem_host_region req;
	struct ivh_region_spec spec = {};
	const char *why;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	ret = ivh_user_name(req.name, &why);
	if (!ret && ((req.flags & ~IVSHMEM_HOST_REGION_SET_ID) ||
		     (req.region_id && !(req.flags & IVSHMEM_HOST_REGION_SET_ID)) ||
		     req.nr_attached || req.nr_folios || req.reserved0 ||
		     req.reserved1)) {
		why = "output, flag or reserved fields are not zero";
		ret = -EINVAL;
	}
	if (!ret) {
		memcpy(spec.name, req.name, sizeof(spec.name));
		spec.members = req.members;
		spec.rt_members = req.rt_members;
		spec.size_mb = req.size_mb;
		spec.has_id = req.flags & IVSHMEM_HOST_REGION_SET_ID;
		spec.region_id = req.region_id;
		ret = ivh_region_add(host, &spec, &why);
	}
	if (ret)
		ivh_refuse("add", req.name, why, ret);
	else
		pr_info("added region \"%s\" (%u MiB, VMs %#llx)\n",
			spec.name, spec.size_mb, spec.members);
	return ret;
}

static long ivh_ioctl_remove(struct ivh_host *host, void __user *arg)
{
	struct ivshmem_host_name req;
	const char *why;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	ret = ivh_user_name(req.name, &why);
	if (!ret && (req.flags || req.reserved0 ||
		     !ivh_zero(req.reserved, sizeof(req.reserved)))) {
		why = "flag or reserved fields are not zero";
		ret = -EINVAL;
	}
	if (!ret) {
		ret = ivh_region_remove(host, req.name);
		why = "no such region";
	}
	if (ret)
		ivh_refuse("remove", req.name, why, ret);
	else
		pr_info("removed region \"%s\"\n", req.name);
	return ret;
}

static long ivh_ioctl_lookup(struct ivh_host *host, void __user *arg)
{
	struct ivshmem_host_region req;
	struct ivh_region *region;
	const char *why;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	ret = ivh_user_name(req.name, &why);
	if (ret)
		return ret;
	/* Only the name is input; everything else must be zero. */
	if (req.members || req.size_mb || req.flags || req.region_id ||
	    req.nr_attached || req.nr_folios || req.reserved0 ||
	    req.rt_members || req.reserved1)
		return -EINVAL;
	region = ivh_region_get(host, req.name);
	if (!region)
		return -ENOENT;
	ivh_region_info(region, &req);
	ivh_region_put(region);
	return copy_to_user(arg, &req, sizeof(req)) ? -EFAULT : 0;
}

static long ivh_ioctl_list(struct ivh_host *host, void __user *arg)
{
	struct ivshmem_host_region *out = NULL;
	struct ivshmem_host_list req;
	unsigned int count, n;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.count || req.flags || req.reserved0 ||
	    !ivh_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;
	if (req.capacity) {
		n = min_t(u32, req.capacity, IVH_MAX_REGIONS);
		out = kcalloc(n, sizeof(*out), GFP_KERNEL);
		if (!out)
			return -ENOMEM;
	} else {
		n = 0;
	}
	ivh_list(host, out, n, &count);
	req.count = count;
	ret = 0;
	if (n && copy_to_user(u64_to_user_ptr(req.regions), out,
			      array_size(min(n, count), sizeof(*out))))
		ret = -EFAULT;
	if (!ret && copy_to_user(arg, &req, sizeof(req)))
		ret = -EFAULT;
	kfree(out);
	return ret;
}

static const struct file_operations ivh_peer_fops;

static long ivh_ioctl_attach(struct ivh_host *host, void __user *arg)
{
	struct ivshmem_host_attach req;
	struct ivh_peer *peer;
	struct file *file;
	const char *why;
	int fd, ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	ret = ivh_user_name(req.name, &why);
	if (!ret && (req.flags || req.reserved0 ||
		     !ivh_zero(req.reserved, sizeof(req.reserved)))) {
		why = "flag or reserved fields are not zero";
		ret = -EINVAL;
	}
	if (ret)
		goto refuse;

	peer = ivh_attach(host, req.name, req.vmid, &why);
	if (IS_ERR(peer)) {
		ret = PTR_ERR(peer);
		goto refuse;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto release_peer;
	}
	file = anon_inode_getfile("ivshmem_host", &ivh_peer_fops, peer, O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto put_fd;
	}
	req.fd = fd;
	req.size = (u64)peer->region->spec.size_mb << 20;
	if (copy_to_user(arg, &req, sizeof(req))) {
		/* The file owns the peer now: its release detaches. */
		fput(file);
		put_unused_fd(fd);
		return -EFAULT;
	}
	fd_install(fd, file);
	return 0;

put_fd:
	put_unused_fd(fd);
release_peer:
	ivh_peer_release(peer);
	return ret;
refuse:
	ivh_refuse("attach", req.name, why, ret);
	return ret;
}

static long ivh_ioctl_detach(struct ivh_host *host, void __user *arg)
{
	struct ivshmem_host_attach req;
	const char *why;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	ret = ivh_user_name(req.name, &why);
	if (ret)
		return ret;
	if (req.flags || req.reserved0 ||
	    !ivh_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;
	return ivh_detach_vmid(host, req.name, req.vmid);
}

static long ivh_ioctl_ring(struct ivh_host *host, void __user *arg)
{
	struct ivshmem_host_ring req;
	const char *why;
	int ret;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	ret = ivh_user_name(req.name, &why);
	if (ret)
		return ret;
	if (req.flags || !ivh_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;
	return ivh_ring(host, req.name, req.src, req.dst, req.vector);
}

/*
 * Requests that change the registry, attach or ring need a file opened for
 * writing; INFO, LOOKUP and LIST only read, unknown numbers get ENOTTY.
 */
static bool ivh_cmd_writes(unsigned int cmd)
{
	switch (cmd) {
	case IVSHMEM_HOST_IOCTL_ADD:
	case IVSHMEM_HOST_IOCTL_REMOVE:
	case IVSHMEM_HOST_IOCTL_ATTACH:
	case IVSHMEM_HOST_IOCTL_DETACH:
	case IVSHMEM_HOST_IOCTL_RING:
		return true;
	default:
		return false;
	}
}

static long ivh_misc_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct ivh_host *host = ivh_misc_host;
	void __user *uarg = (void __user *)arg;

	if (ivh_cmd_writes(cmd) && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	switch (cmd) {
	case IVSHMEM_HOST_IOCTL_INFO:
		return ivh_ioctl_info(host, uarg);
	case IVSHMEM_HOST_IOCTL_ADD:
		return ivh_ioctl_add(host, uarg);
	case IVSHMEM_HOST_IOCTL_REMOVE:
		return ivh_ioctl_remove(host, uarg);
	case IVSHMEM_HOST_IOCTL_LOOKUP:
		return ivh_ioctl_lookup(host, uarg);
	case IVSHMEM_HOST_IOCTL_LIST:
		return ivh_ioctl_list(host, uarg);
	case IVSHMEM_HOST_IOCTL_ATTACH:
		return ivh_ioctl_attach(host, uarg);
	case IVSHMEM_HOST_IOCTL_DETACH:
		return ivh_ioctl_detach(host, uarg);
	case IVSHMEM_HOST_IOCTL_RING:
		return ivh_ioctl_ring(host, uarg);
	default:
		return -ENOTTY;
	}
}

/* ------------------------------------------------------------------ */
/* attachment fds                                                      */

static long ivh_peer_set_vector(struct ivh_peer *peer, void __user *arg)
{
	struct ivshmem_host_vector req;
	struct eventfd_ctx *eventfd = NULL;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.vector >= IVSHMEM_HOST_MAX_VECTORS || req.fd < -1 ||
	    req.flags || req.reserved0 ||
	    !ivh_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;
	if (req.fd != -1) {
		eventfd = eventfd_ctx_fdget(req.fd);
		if (IS_ERR(eventfd))
			return PTR_ERR(eventfd);
	}
	return ivh_set_vector(peer, &req, eventfd);
}

static long ivh_peer_trigger(struct ivh_peer *peer, void __user *arg)
{
	struct ivshmem_host_trigger req;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~(IVSHMEM_HOST_TRIGGER_DEASSIGN |
			   IVSHMEM_HOST_TRIGGER_BY_TARGET)) ||
	    req.fd < -1 || !ivh_zero(req.reserved, sizeof(req.reserved)))
		return -EINVAL;
	if (req.flags & IVSHMEM_HOST_TRIGGER_BY_TARGET) {
		if (!(req.flags & IVSHMEM_HOST_TRIGGER_DEASSIGN) ||
		    req.fd != -1 ||
		    req.vector >= IVSHMEM_HOST_MAX_VECTORS)
			return -EINVAL;
		return ivh_trigger_deassign_target(peer, req.dst, req.vector);
	}
	/* -1 ("no eventfd") only names triggers by target. */
	if (req.fd == -1)
		return -EINVAL;
	if (req.flags & IVSHMEM_HOST_TRIGGER_DEASSIGN) {
		if (req.dst || req.vector)
			return -EINVAL;
		return ivh_trigger_deassign(peer, req.fd);
	}
	return ivh_trigger_assign(peer, req.fd, req.dst, req.vector);
}

static long ivh_peer_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct ivh_peer *peer = file->private_data;

	switch (cmd) {
	case IVSHMEM_HOST_IOCTL_SET_VECTOR:
		return ivh_peer_set_vector(peer, (void __user *)arg);
	case IVSHMEM_HOST_IOCTL_TRIGGER:
		return ivh_peer_trigger(peer, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static int ivh_peer_mmap_file(struct file *file, struct vm_area_struct *vma)
{
	return ivh_peer_mmap(file->private_data, vma);
}

static int ivh_peer_release_file(struct inode *inode, struct file *file)
{
	ivh_peer_release(file->private_data);
	return 0;
}

/*
 * As the filesystem's files: mmap(NULL, ...) gets an address at the same
 * 2 MiB phase as the offset, so 2 MiB folios can be mapped with one PMD
 * (not on 6.12.118, whose finish_fault() maps with 4 KiB entries past
 * i_size, which this anonymous inode does not have).
 */
static const struct file_operations ivh_peer_fops = {
	.owner			= THIS_MODULE,
	.unlocked_ioctl		= ivh_peer_ioctl,
	.compat_ioctl		= compat_ptr_ioctl,
	.mmap			= ivh_peer_mmap_file,
	.get_unmapped_area	= thp_get_unmapped_area,
	.release		= ivh_peer_release_file,
	.llseek			= noop_llseek,
};

static const struct file_operations ivh_misc_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= ivh_misc_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* Root only (0600); see Documentation/host.rst to grant a group by udev. */
static struct miscdevice ivh_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "ivshmem_host",
	.fops	= &ivh_misc_fops,
	.mode	= 0600,
};

/**
 * ivh_misc_register() - create /dev/ivshmem_host for a registry
 * @host:	the module's registry.
 *
 * Return: 0 or the error of misc_register().
 */
int ivh_misc_register(struct ivh_host *host)
{
	ivh_misc_host = host;
	return misc_register(&ivh_misc);
}

/**
 * ivh_misc_deregister() - remove /dev/ivshmem_host
 */
void ivh_misc_deregister(void)
{
	misc_deregister(&ivh_misc);
	ivh_misc_host = NULL;
}
