// SPDX-License-Identifier: GPL-2.0
/*
 * The per-VM filesystem that acrn-dm's shm_open() lands on.
 *
 *   mount -t ivshmem_host -o vm=N[,mode=M][,uid=U][,gid=G] none DIR
 *
 * A mount is one VM's view of the registry. Its files are the dm-land
 * regions VM N is a member of, named without "dm:/" and looked up in the
 * registry at every path walk, so regions added or removed later appear
 * and disappear. Opening a file read-write attaches VM N to the region
 * the name was looked up as, exactly as ATTACH does: the open file is
 * the attachment, mmap maps the region's memory, and the release of the
 * file (its last close and munmap) detaches. The VM's identity is the
 * mount's: only CAP_SYS_ADMIN in the initial user namespace mounts (no
 * FS_USERNS_MOUNT), and nothing the opener says is believed.
 *
 * This file owns the mount options, the directory (lookup, revalidation,
 * readdir, statfs) and the file operations; attach, detach and mmap are
 * peer.c's, the memory mem.c's. What is refused and why is in
 * Documentation/host.rst ("Starting acrn-dm unchanged"); objects,
 * references and the lock order are in ivshmem_host_drv.h.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/huge_mm.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/statfs.h>
#include <linux/string.h>
#include <linux/uidgid.h>

#include "../compat.h"
#include "ivshmem_host_drv.h"

#define IVH_FS_DEFAULT_MODE	0600
/* mode= may grant read and write, never exec, setuid, setgid or sticky. */
#define IVH_FS_MODE_MASK	0666
#define IVH_FS_ROOT_INO		1
/*
 * A region file's inode number: its region ID + 2 (1 is the root); the
 * region keeps its ID, so its inode number, until it is freed.
 */
#define IVH_FS_INO(id)		((unsigned long)(id) + 2)
#define IVH_DM_PREFIX		"dm:/"
#define IVH_DM_PREFIX_LEN	(sizeof(IVH_DM_PREFIX) - 1)
/* Longest file name: a region name without its prefix and NUL. */
#define IVH_FS_NAME_MAX		(IVSHMEM_HOST_NAME_LEN - 1 - IVH_DM_PREFIX_LEN)

static struct ivh_host *ivh_fs_host;

/**
 * struct ivh_fs_attr - who may open the files of a mount
 * @mode:	permission bits of the region files (within 0666).
 * @uid:	owner of the files and of the directory.
 * @gid:	group of the files and of the directory.
 */
struct ivh_fs_attr {
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
};

/**
 * struct ivh_fs_info - one mount (superblock)
 * @host:	the registry.
 * @vmid:	the VM every open attaches as; fixed for the superblock's life.
 * @lock:	protects @attr (a remount changes it while lookups read it).
 * @attr:	mode, owner and group of the files.
 */
struct ivh_fs_info {
	struct ivh_host *host;
	u32 vmid;
	spinlock_t lock;	/* @attr; a leaf */
	struct ivh_fs_attr attr;
};

/**
 * struct ivh_fs_ctx - what the options of a mount or remount said
 * @vmid:	vm=.
 * @attr:	mode=, uid=, gid= (defaults where not given).
 * @has_vm:	vm= was given.
 * @has_mode:	mode= was given.
 * @has_uid:	uid= was given.
 * @has_gid:	gid= was given.
 */
struct ivh_fs_ctx {
	u32 vmid;
	struct ivh_fs_attr attr;
	bool has_vm, has_mode, has_uid, has_gid;
};

/* The directory: r-x wherever the files are readable. */
static umode_t ivh_fs_dir_mode(umode_t mode)
{
	return (mode & 0444) | ((mode & 0444) >> 2);
}

static void ivh_fs_attr_read(struct ivh_fs_info *fsi, struct ivh_fs_attr *attr)
{
	spin_lock(&fsi->lock);
	*attr = fsi->attr;
	spin_unlock(&fsi->lock);
}

/* The permission bits of @inode (file or directory) under @attr. */
static umode_t ivh_fs_perm(const struct inode *inode,
			   const struct ivh_fs_attr *attr)
{
	return S_ISDIR(inode->i_mode) ? ivh_fs_dir_mode(attr->mode) :
					attr->mode;
}

/*
 * Write @attr into a new inode, before anyone else sees it, or under its
 * i_rwsem (setattr). Access checks and stat() do not read these fields:
 * they ask the mount (ivh_fs_permission(), ivh_fs_getattr()).
 */
static void ivh_fs_attr_apply(struct inode *inode, const struct ivh_fs_attr *attr)
{
	inode->i_mode = (inode->i_mode & S_IFMT) | ivh_fs_perm(inode, attr);
	inode->i_uid = attr->uid;
	inode->i_gid = attr->gid;
}

/* A file of this mount: a dm-land region the mount's VM is a member of. */
static bool ivh_fs_shows(const struct ivh_fs_info *fsi, bool hv, u64 members)
{
	return !hv && (members & BIT_ULL(fsi->vmid));
}

/* ------------------------------------------------------------------ */
/* the directory                                                       */

static struct ivh_region *ivh_fs_region_get(struct ivh_fs_info *fsi,
					    const struct qstr *q)
{
	char name[IVSHMEM_HOST_NAME_LEN] = IVH_DM_PREFIX;
	struct ivh_region *region;

	if (!q->len || q->len > IVH_FS_NAME_MAX)
		return NULL;
	memcpy(name + IVH_DM_PREFIX_LEN, q->name, q->len);
	region = ivh_region_get(fsi->host, name);
	if (region && !ivh_fs_shows(fsi, region->spec.hv, region->spec.members)) {
		ivh_region_put(region);
		region = NULL;
	}
	return region;
}

static const struct inode_operations ivh_fs_file_iops;
static const struct file_operations ivh_fs_fops;

/*
 * A region file's inode: the one of @region if it has one (iget_locked()),
 * else a new one that owns the caller's reference on @region. An inode
 * number belongs to one living region: a region holds its ID until it is
 * freed, and an inode holds its region until eviction. Return: the inode
 * with a reference, or NULL (-ENOMEM; the caller still owns its
 * reference).
 */
static struct inode *ivh_fs_region_inode(struct super_block *sb,
					 struct ivh_region *region)
{
	struct ivh_fs_attr attr;
	struct inode *inode;

	inode = iget_locked(sb, IVH_FS_INO(region->id));
	if (!inode)
		return NULL;
	if (!(ivshmem_inode_state(inode) & I_NEW)) {
		/* Never another region's inode, even if the IDs were wrong. */
		if (WARN_ON(inode->i_private != region)) {
			iput(inode);
			return NULL;
		}
		ivh_region_put(region);
		return inode;
	}
	ivh_fs_attr_read(sb->s_fs_info, &attr);
	inode->i_mode = S_IFREG;
	ivh_fs_attr_apply(inode, &attr);
	inode->i_size = (loff_t)region->spec.size_mb << 20;
	inode->i_op = &ivh_fs_file_iops;
	inode->i_fop = &ivh_fs_fops;
	inode->i_private = region;
	ivshmem_inode_init_ts(inode);
	unlock_new_inode(inode);
	return inode;
}

/**
 * ivh_fs_lookup() - a name of the directory
 * @dir:	the root directory.
 * @dentry:	the name looked up.
 * @flags:	LOOKUP_*.
 *
 * A name is "dm:/" + name in the registry, a dm-land region, and the
 * mount's VM a member; anything else is a negative dentry: ENOENT to an
 * open, EACCES to a create (the directory has no ->create).
 *
 * Context: the directory's i_rwsem held (shared or exclusive); takes
 * ivh_host.lock.
 * Return: NULL, an alias or an ERR_PTR() (-ENOMEM).
 */
static struct dentry *ivh_fs_lookup(struct inode *dir, struct dentry *dentry,
				    unsigned int flags)
{
	struct ivh_region *region;
	struct inode *inode = NULL;

	region = ivh_fs_region_get(dir->i_sb->s_fs_info, &dentry->d_name);
	if (region) {
		inode = ivh_fs_region_inode(dir->i_sb, region);
		if (!inode) {
			ivh_region_put(region);
			return ERR_PTR(-ENOMEM);
		}
	}
	return d_splice_alias(inode, dentry);
}

/*
 * Every use of a cached name asks the registry again: a negative name may
 * be a region by now, a positive one is stale once its region was removed
 * (a region added later under that name is another region, another
 * inode). Open files keep the old dentry and stay attached to the old
 * region. Mode and owner need no revalidation: they are the mount's,
 * read at every check (ivh_fs_permission()).
 */
static int ivh_fs_d_revalidate(IVSHMEM_D_REVALIDATE_PARAMS)
{
	struct ivh_region *region;
	struct ivh_fs_info *fsi;
	struct inode *inode;
	bool removed;

	if (flags & LOOKUP_RCU)
		return -ECHILD;
	if (IS_ROOT(dentry))
		return 1;
	inode = d_inode(dentry);
	if (!inode)
		return 0;
	region = inode->i_private;
	fsi = inode->i_sb->s_fs_info;
	mutex_lock(&fsi->host->lock);
	removed = region->removed;
	mutex_unlock(&fsi->host->lock);
	return !removed;
}

static const struct dentry_operations ivh_fs_dops = {
	.d_revalidate	= ivh_fs_d_revalidate,
	.d_delete	= always_delete_dentry,
};

/*
 * The registry as the mount's VM sees it, copied with ivh_list() so that
 * no module lock is held while names go to userspace.
 */
static struct ivshmem_host_region *ivh_fs_list(struct ivh_fs_info *fsi,
					       unsigned int *count)
{
	struct ivshmem_host_region *list;

	list = kcalloc(IVH_MAX_REGIONS, sizeof(*list), GFP_KERNEL);
	if (!list)
		return NULL;
	ivh_list(fsi->host, list, IVH_MAX_REGIONS, count);
	*count = min_t(unsigned int, *count, IVH_MAX_REGIONS);
	return list;
}

static bool ivh_fs_lists(struct ivh_fs_info *fsi,
			 const struct ivshmem_host_region *r)
{
	return ivh_fs_shows(fsi, r->flags & IVSHMEM_HOST_REGION_HV, r->members);
}

/*
 * ".", "..", then the regions in registry order; ctx->pos counts entries,
 * so a region added or removed between two getdents() calls may shift
 * the rest by one, as in procfs.
 */
static int ivh_fs_readdir(struct file *file, struct dir_context *ctx)
{
	struct ivh_fs_info *fsi = file_inode(file)->i_sb->s_fs_info;
	struct ivshmem_host_region *list;
	unsigned int count, i;
	loff_t pos = 2;

	if (!dir_emit_dots(file, ctx))
		return 0;
	list = ivh_fs_list(fsi, &count);
	if (!list)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		const char *name = list[i].name + IVH_DM_PREFIX_LEN;

		if (!ivh_fs_lists(fsi, &list[i]))
			continue;
		if (pos++ < ctx->pos)
			continue;
		if (!dir_emit(ctx, name, strnlen(name, IVH_FS_NAME_MAX),
			      IVH_FS_INO(list[i].region_id), DT_REG))
			break;
		ctx->pos++;
	}
	kfree(list);
	return 0;
}

/* ------------------------------------------------------------------ */
/* attributes                                                          */

/**
 * ivh_fs_setattr() - ftruncate, truncate, chmod, chown, utimes
 * @idmap:	the mount's idmapping.
 * @dentry:	the file or the directory.
 * @attr:	the change.
 *
 * The size is the region's: truncating to it succeeds (acrn-dm's
 * creator path), to anything else fails. Mode and owner come from the
 * mount options alone, so chmod and chown fail; times may be set, by
 * the mount's current owner (the inode is brought up to date with the
 * options first, under its i_rwsem, as a setattr writes inodes).
 *
 * Context: the inode's i_rwsem held (notify_change()).
 * Return: 0, -EINVAL (another size), -EPERM (mode or owner) or the
 * error of setattr_prepare().
 */
static int ivh_fs_setattr(ivshmem_idmap_t *idmap, struct dentry *dentry,
			  struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	struct ivh_fs_attr cur;
	int ret;

	if ((attr->ia_valid & ATTR_SIZE) && attr->ia_size != i_size_read(inode))
		return -EINVAL;
	if (attr->ia_valid & (ATTR_MODE | ATTR_UID | ATTR_GID))
		return -EPERM;
	/* setattr_prepare() checks ownership on the inode: the mount's now. */
	ivh_fs_attr_read(inode->i_sb->s_fs_info, &cur);
	ivh_fs_attr_apply(inode, &cur);
	ret = setattr_prepare(idmap, dentry, attr);
	if (ret)
		return ret;
	setattr_copy(idmap, inode, attr);
	return 0;
}

/* A capability generic_permission() honours, toward @attr's owner. */
static bool ivh_fs_capable(const struct ivh_fs_attr *attr, int cap)
{
	struct user_namespace *ns = current_user_ns();

	return ns_capable(ns, cap) && kuid_has_mapping(ns, attr->uid) &&
	       kgid_has_mapping(ns, attr->gid);
}

/**
 * ivh_fs_permission() - check an access against the mount's current options
 * @idmap:	the mount's idmapping (the filesystem is not idmappable).
 * @inode:	a region file or the directory.
 * @mask:	MAY_* bits.
 *
 * Mode, owner and group are the mount's (mode=, uid=, gid=), which a
 * remount changes: every check reads them from the mount, never from the
 * inode, so a remount applies to every later open however the inode is
 * reached (a path walk, open("/proc/self/fd/N") of an O_PATH fd, an
 * openat() below an open directory), and no check writes the inode. The
 * rules are generic_permission()'s without ACLs: the owner's, the
 * group's or the others' bits, then CAP_DAC_READ_SEARCH and
 * CAP_DAC_OVERRIDE as it grants them (region files have no exec bit, so
 * no capability makes them executable).
 *
 * Context: any, also RCU path walk (MAY_NOT_BLOCK): takes ivh_fs_info.lock
 * (a spinlock, a leaf) only.
 * Return: 0 or -EACCES.
 */
static int ivh_fs_permission(ivshmem_idmap_t *idmap, struct inode *inode,
			     int mask)
{
	struct ivh_fs_attr attr;
	umode_t mode;

	ivh_fs_attr_read(inode->i_sb->s_fs_info, &attr);
	mode = ivh_fs_perm(inode, &attr);
	mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
	if (uid_eq(current_fsuid(), attr.uid))
		mode >>= 6;
	else if (in_group_p(attr.gid))
		mode >>= 3;
	if (!(mask & ~mode & 7))
		return 0;

	if (S_ISDIR(inode->i_mode)) {
		if (!(mask & MAY_WRITE) &&
		    ivh_fs_capable(&attr, CAP_DAC_READ_SEARCH))
			return 0;
		return ivh_fs_capable(&attr, CAP_DAC_OVERRIDE) ? 0 : -EACCES;
	}
	if (mask == MAY_READ && ivh_fs_capable(&attr, CAP_DAC_READ_SEARCH))
		return 0;
	if (!(mask & MAY_EXEC) && ivh_fs_capable(&attr, CAP_DAC_OVERRIDE))
		return 0;
	return -EACCES;
}

/**
 * ivh_fs_getattr() - stat() of a region file or the directory
 * @idmap:	the mount's idmapping.
 * @path:	the file.
 * @stat:	filled in.
 * @request_mask: STATX_* asked for.
 * @query_flags: AT_STATX_* flags.
 *
 * As generic_fillattr(), with mode, owner and group the mount's current
 * ones, those ivh_fs_permission() checks against.
 *
 * Context: process context; takes ivh_fs_info.lock.
 * Return: 0.
 */
static int ivh_fs_getattr(ivshmem_idmap_t *idmap, const struct path *path,
			  struct kstat *stat, u32 request_mask,
			  unsigned int query_flags)
{
	struct inode *inode = d_inode(path->dentry);
	struct ivh_fs_attr attr;

	ivshmem_fillattr(idmap, request_mask, inode, stat);
	ivh_fs_attr_read(inode->i_sb->s_fs_info, &attr);
	stat->mode = (inode->i_mode & S_IFMT) | ivh_fs_perm(inode, &attr);
	stat->uid = attr.uid;
	stat->gid = attr.gid;
	return 0;
}

static const struct inode_operations ivh_fs_dir_iops = {
	.lookup		= ivh_fs_lookup,
	.permission	= ivh_fs_permission,
	.getattr	= ivh_fs_getattr,
	.setattr	= ivh_fs_setattr,
};

static const struct inode_operations ivh_fs_file_iops = {
	.permission	= ivh_fs_permission,
	.getattr	= ivh_fs_getattr,
	.setattr	= ivh_fs_setattr,
};

static const struct file_operations ivh_fs_dir_fops = {
	.read		= generic_read_dir,
	.iterate_shared	= ivh_fs_readdir,
	.llseek		= generic_file_llseek,
};

/* ------------------------------------------------------------------ */
/* region files                                                        */

/**
 * ivh_fs_open() - attach the mount's VM to the file's region
 * @inode:	a region file.
 * @file:	the new file; its private data becomes the peer.
 *
 * Only read-write opens, which is what acrn-dm does: an open is an
 * attachment, and a read-only one would take the VM's place in the
 * region (a second open of the same VM gets EBUSY) without being able to
 * map it for the VM.
 *
 * Context: process context, no VFS lock held; as ivh_attach_region().
 * Return: 0, -EACCES (not read-write), -EINVAL (O_TRUNC), or an errno of
 * ivh_attach_region(): -ENOENT (the region was removed since the
 * lookup), -EBUSY (the VM is attached already), -ENOMEM, -EINTR.
 */
static int ivh_fs_open(struct inode *inode, struct file *file)
{
	struct ivh_fs_info *fsi = inode->i_sb->s_fs_info;
	struct ivh_region *region = inode->i_private;
	struct ivh_peer *peer;
	const char *why;
	int ret;

	if ((file->f_flags & O_ACCMODE) != O_RDWR) {
		why = "an open attaches the VM, so only read-write";
		ret = -EACCES;
		goto refuse;
	}
	/*
	 * The VFS truncates after ->open(), and a size other than the
	 * region's fails (ivh_fs_setattr()): refuse it before attaching, so
	 * that a doomed open neither allocates the memory nor holds the VM's
	 * place meanwhile.
	 */
	if (file->f_flags & O_TRUNC) {
		why = "O_TRUNC (truncating to 0 is another size)";
		ret = -EINVAL;
		goto refuse;
	}
	peer = ivh_attach_region(region, fsi->vmid, &why);
	if (IS_ERR(peer)) {
		ret = PTR_ERR(peer);
		goto refuse;
	}
	file->private_data = peer;
	return 0;

refuse:
	pr_warn_ratelimited("open \"%s\" as VM %u (the mount's): %s (%d)\n",
			    region->spec.name, fsi->vmid, why, ret);
	return ret;
}

static int ivh_fs_release(struct inode *inode, struct file *file)
{
	ivh_peer_release(file->private_data);
	return 0;
}

static int ivh_fs_mmap(struct file *file, struct vm_area_struct *vma)
{
	return ivh_peer_mmap(file->private_data, vma);
}

/*
 * mmap(NULL, ...) gets an address at the same 2 MiB phase as the file
 * offset (thp_get_unmapped_area()), so the fault path maps whole 2 MiB
 * folios with one PMD each; at any other address (MAP_FIXED, a hint) the
 * same pages are mapped with 4 KiB entries. msync has nothing to write.
 */
static const struct file_operations ivh_fs_fops = {
	.owner			= THIS_MODULE,
	.open			= ivh_fs_open,
	.release		= ivh_fs_release,
	.mmap			= ivh_fs_mmap,
	.get_unmapped_area	= thp_get_unmapped_area,
	.fsync			= noop_fsync,
	.llseek			= generic_file_llseek,
};

/* ------------------------------------------------------------------ */
/* the superblock                                                      */

static int ivh_fs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct ivh_fs_info *fsi = dentry->d_sb->s_fs_info;
	struct ivshmem_host_region *list;
	unsigned int count, i;

	list = ivh_fs_list(fsi, &count);
	if (!list)
		return -ENOMEM;
	buf->f_type = IVH_FS_MAGIC;
	buf->f_bsize = PAGE_SIZE;
	buf->f_namelen = IVH_FS_NAME_MAX;
	for (i = 0; i < count; i++) {
		if (!ivh_fs_lists(fsi, &list[i]))
			continue;
		buf->f_blocks += (u64)list[i].size_mb << (20 - PAGE_SHIFT);
		buf->f_files++;
	}
	kfree(list);
	return 0;
}

static void ivh_fs_evict_inode(struct inode *inode)
{
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	if (S_ISREG(inode->i_mode))
		ivh_region_put(inode->i_private);
}

static int ivh_fs_show_options(struct seq_file *m, struct dentry *root)
{
	struct ivh_fs_info *fsi = root->d_sb->s_fs_info;
	struct ivh_fs_attr attr;

	ivh_fs_attr_read(fsi, &attr);
	seq_printf(m, ",vm=%u,mode=%04o", fsi->vmid, attr.mode);
	if (!uid_eq(attr.uid, GLOBAL_ROOT_UID))
		seq_printf(m, ",uid=%u", from_kuid_munged(&init_user_ns, attr.uid));
	if (!gid_eq(attr.gid, GLOBAL_ROOT_GID))
		seq_printf(m, ",gid=%u", from_kgid_munged(&init_user_ns, attr.gid));
	return 0;
}

static const struct super_operations ivh_fs_sops = {
	.statfs		= ivh_fs_statfs,
	.drop_inode	= inode_just_drop,
	.evict_inode	= ivh_fs_evict_inode,
	.show_options	= ivh_fs_show_options,
};

static int ivh_fs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct ivh_fs_ctx *ctx = fc->fs_private;
	struct ivh_fs_info *fsi;
	struct inode *root;

	fsi = kzalloc(sizeof(*fsi), GFP_KERNEL);
	if (!fsi)
		return -ENOMEM;
	fsi->host = ivh_fs_host;
	fsi->vmid = ctx->vmid;
	spin_lock_init(&fsi->lock);
	fsi->attr = ctx->attr;
	/* ivh_fs_kill_sb() frees it, also when filling fails below. */
	sb->s_fs_info = fsi;
	sb->s_magic = IVH_FS_MAGIC;
	sb->s_op = &ivh_fs_sops;
	ivshmem_set_default_d_op(sb, &ivh_fs_dops);
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_time_gran = 1;

	root = new_inode(sb);
	if (!root)
		return -ENOMEM;
	root->i_ino = IVH_FS_ROOT_INO;
	root->i_mode = S_IFDIR;
	ivh_fs_attr_apply(root, &fsi->attr);
	root->i_op = &ivh_fs_dir_iops;
	root->i_fop = &ivh_fs_dir_fops;
	set_nlink(root, 2);
	ivshmem_inode_init_ts(root);
	sb->s_root = d_make_root(root);
	return sb->s_root ? 0 : -ENOMEM;
}

static int ivh_fs_get_tree(struct fs_context *fc)
{
	struct ivh_fs_ctx *ctx = fc->fs_private;

	/*
	 * sget_fc() checks this too (no FS_USERNS_MOUNT); said here first.
	 * capable() is about whoever runs FSCONFIG_CMD_CREATE, fc->user_ns
	 * (in which uid=/gid= were read) about whoever called fsopen():
	 * both must be the initial namespace's.
	 */
	if (fc->user_ns != &init_user_ns || !capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!ctx->has_vm)
		return invalfc(fc, "vm=<VM ID> is required: every open attaches as that VM");
	return get_tree_nodev(fc, ivh_fs_fill_super);
}

/*
 * A remount may change mode=, uid= and gid= (for every later open,
 * lookup and stat: ivh_fs_permission() and ivh_fs_getattr() read them
 * from the mount; open files keep what they were opened with) but never
 * the VM. No inode is written.
 */
static int ivh_fs_reconfigure(struct fs_context *fc)
{
	struct super_block *sb = fc->root->d_sb;
	struct ivh_fs_info *fsi = sb->s_fs_info;
	struct ivh_fs_ctx *ctx = fc->fs_private;

	/*
	 * For a remount fc->user_ns is the superblock's, the initial one
	 * (ivh_fs_get_tree()); uid=/gid= are read in it. Kept as a check.
	 */
	if (fc->user_ns != &init_user_ns)
		return -EPERM;
	if (ctx->has_vm && ctx->vmid != fsi->vmid)
		return invalfc(fc, "vm= cannot change; mount again for VM %u",
			       ctx->vmid);
	spin_lock(&fsi->lock);
	if (ctx->has_mode)
		fsi->attr.mode = ctx->attr.mode;
	if (ctx->has_uid)
		fsi->attr.uid = ctx->attr.uid;
	if (ctx->has_gid)
		fsi->attr.gid = ctx->attr.gid;
	spin_unlock(&fsi->lock);
	return 0;
}

enum { IVH_OPT_VM, IVH_OPT_MODE, IVH_OPT_UID, IVH_OPT_GID };

/* IDs in base 10 (fsparam_u32() is base 0: "010" would be 8, "0x1" 1). */
#define ivh_fsparam_u32dec(NAME, OPT) \
	__fsparam(fs_param_is_u32, NAME, OPT, 0, (void *)10)

static const struct fs_parameter_spec ivh_fs_params[] = {
	ivh_fsparam_u32dec("vm", IVH_OPT_VM),
	fsparam_u32oct("mode", IVH_OPT_MODE),
	ivh_fsparam_u32dec("uid", IVH_OPT_UID),
	ivh_fsparam_u32dec("gid", IVH_OPT_GID),
	{}
};

/*
 * An ID is plain decimal digits without a leading zero: "010" is neither
 * 8 nor 10 but refused, as are a sign ("+1") and anything kstrtouint()
 * would otherwise take.
 */
static bool ivh_fs_is_decimal(const char *s)
{
	const char *p;

	if (!*s || (s[0] == '0' && s[1]))
		return false;
	for (p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/*
 * Unknown options are refused (fs_parse()), "source" is the VFS's;
 * fs_parse() only returns an option it converted from a string. IDs are
 * decimal and taken in the mounter's user namespace, the initial one
 * (only its CAP_SYS_ADMIN mounts), and must map to a valid kuid/kgid.
 */
static int ivh_fs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct ivh_fs_ctx *ctx = fc->fs_private;
	struct fs_parse_result result;
	kuid_t uid;
	kgid_t gid;
	int opt;

	opt = fs_parse(fc, ivh_fs_params, param, &result);
	if (opt < 0)
		return opt;
	if (opt != IVH_OPT_MODE && !ivh_fs_is_decimal(param->string))
		return invalfc(fc, "%s=%s: a decimal number without leading zeros",
			       param->key, param->string);
	switch (opt) {
	case IVH_OPT_VM:
		if (result.uint_32 > IVSHMEM_HOST_MAX_VMID)
			return invalfc(fc, "vm=%u: VM IDs are 0 to %u",
				       result.uint_32, IVSHMEM_HOST_MAX_VMID);
		if (ctx->has_vm && ctx->vmid != result.uint_32)
			return invalfc(fc, "vm= given twice");
		ctx->vmid = result.uint_32;
		ctx->has_vm = true;
		break;
	case IVH_OPT_MODE:
		if (result.uint_32 & ~IVH_FS_MODE_MASK)
			return invalfc(fc, "mode=%o: only read and write bits (0666)",
				       result.uint_32);
		ctx->attr.mode = result.uint_32;
		ctx->has_mode = true;
		break;
	case IVH_OPT_UID:
		uid = make_kuid(fc->user_ns, result.uint_32);
		if (!uid_valid(uid))
			return invalfc(fc, "uid=%u is not a valid user",
				       result.uint_32);
		ctx->attr.uid = uid;
		ctx->has_uid = true;
		break;
	case IVH_OPT_GID:
		gid = make_kgid(fc->user_ns, result.uint_32);
		if (!gid_valid(gid))
			return invalfc(fc, "gid=%u is not a valid group",
				       result.uint_32);
		ctx->attr.gid = gid;
		ctx->has_gid = true;
		break;
	}
	return 0;
}

static void ivh_fs_free_fc(struct fs_context *fc)
{
	kfree(fc->fs_private);
}

static const struct fs_context_operations ivh_fs_context_ops = {
	.free		= ivh_fs_free_fc,
	.parse_param	= ivh_fs_parse_param,
	.get_tree	= ivh_fs_get_tree,
	.reconfigure	= ivh_fs_reconfigure,
};

static int ivh_fs_init_fs_context(struct fs_context *fc)
{
	struct ivh_fs_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->attr.mode = IVH_FS_DEFAULT_MODE;
	ctx->attr.uid = GLOBAL_ROOT_UID;
	ctx->attr.gid = GLOBAL_ROOT_GID;
	fc->fs_private = ctx;
	fc->ops = &ivh_fs_context_ops;
	return 0;
}

static void ivh_fs_kill_sb(struct super_block *sb)
{
	struct ivh_fs_info *fsi = sb->s_fs_info;

	kill_anon_super(sb);
	kfree(fsi);
}

/* Each superblock holds the module (.owner): no rmmod while mounted. */
static struct file_system_type ivh_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "ivshmem_host",
	.init_fs_context	= ivh_fs_init_fs_context,
	.parameters		= ivh_fs_params,
	.kill_sb		= ivh_fs_kill_sb,
};
MODULE_ALIAS_FS("ivshmem_host");

/**
 * ivh_fs_register() - make the ivshmem_host filesystem mountable
 * @host:	the module's registry, which every mount shows.
 *
 * Return: 0 or the error of register_filesystem().
 */
int ivh_fs_register(struct ivh_host *host)
{
	ivh_fs_host = host;
	return register_filesystem(&ivh_fs_type);
}

/**
 * ivh_fs_unregister() - no more mounts
 *
 * Context: at module exit, when no superblock exists (each holds the
 * module).
 */
void ivh_fs_unregister(void)
{
	unregister_filesystem(&ivh_fs_type);
	ivh_fs_host = NULL;
}
