/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of the ivshmem host module (ACRN Service VM).
 *
 * Objects and lifetime
 * --------------------
 * struct ivh_host is one registry: the module has one, each KUnit test
 * makes its own.
 *
 * struct ivh_region is a registry entry, reference counted. The registry
 * holds one reference until the region is removed; every peer, inode and
 * trigger holds one, and so does a look-up (ivh_region_get()) until its
 * caller is done.
 *
 * struct ivh_peer is one VM attached to a dm-land region, reference
 * counted: its attachment fd holds one reference, and a DETACH by name
 * one while it tears the peer down, so a concurrent close of the fd
 * cannot free the peer under the teardown. "Attached" ends on explicit
 * detach or on release of the fd; the last reference frees the peer.
 * Its doorbell state (struct ivh_doorbells: vectors and triggers) is a
 * part of it that the detach ends with ivh_doorbells_teardown(); each
 * trigger holds a reference on the region (not on the peer) and rings as
 * the peer's VM, and the teardown waits for its work item.
 *
 * struct ivh_mem is the memory of a dm-land region. The first attach
 * allocates it and the region owns it from then on, for as long as the
 * region lives (ivh_region.mem, set once, freed by the region's release):
 * in the registry until REMOVE, then for as long as a peer, an inode or
 * a trigger holds the region. Every later attach, a VM coming back after
 * a reset included, gets that same memory, data intact. Mappings need no
 * reference of their own: a VMA holds its file, the file its peer, the
 * peer its region. The memory is charged to the memory cgroup of the
 * task that added the region (ivh_region.memcg, a reference held from
 * the ADD until the region is freed), whoever attaches first, and counted
 * in INFO's mem_bytes while the region owns it. One attach at a time
 * allocates: ivh_region.alloc_lock serialises a region's attaches, so
 * VMs attaching at once allocate the memory once, and an attach that
 * would be refused (region removed, VM already attached) is refused
 * before it allocates anything.
 *
 * Live regions are bounded: a removed region still held counts against
 * IVH_MAX_REGIONS (ivh_host.nr_removed) until it is freed, so the module
 * never owns more than IVH_MAX_REGIONS regions' memory at once.
 *
 * Pins. The region holds one reference on each folio (the allocation's).
 * HSM's SET_MEMSEG pins the folios (FOLL_LONGTERM) until its VM is
 * destroyed; each pin is a reference of the kernel's own. So a region
 * freed while pinned only drops its references (ivh_mem_free()), and the
 * last unpin_user_page() frees each folio into the page allocator: no
 * code of the module runs then, and nothing of it needs to wait for the
 * pins (they may outlive the module too).
 *
 * The filesystem (fs.c): each mount is a superblock, which holds the
 * module (file_system_type.owner) and the VM ID every open attaches as.
 * A region file's inode holds a reference on its ivh_region (i_private)
 * from the lookup that made it to its eviction; dentries are not kept
 * after their last use and are revalidated against the registry at every
 * use, so a removed region's name is looked up again (and is gone, or is
 * another region with another inode). An open file owns one ivh_peer
 * (private_data) exactly as an attachment fd does; its release detaches.
 * A mapping holds the file (vm_file) and, as any mapping, the session
 * memory. So: VMA -> file -> { peer -> region; dentry -> inode -> region;
 * vfsmount -> superblock -> module }, and a region removed from the
 * registry lives on in the inodes and peers that still hold it.
 *
 * Lock order
 * ----------
 *   ivh_region.alloc_lock (attach and open; held while the region's
 *                          memory is allocated; taken with no other
 *                          lock of the module held)
 *     -> ivh_host.lock (registry)
 *       -> ivh_region.lock (peers, session memory, vectors, triggers)
 *         -> ivh_host.efd_lock (which eventfds are vectors or triggers)
 *         -> eventfd_ctx wait-queue lock (inside eventfd_signal())
 *   mmap_lock (held by the mm around ->mmap and faults)
 *     -> ivh_region.lock (ivh_peer_mmap(); faults take no lock of ours)
 * The filesystem adds, above these:
 *   sb->s_umount (remount) -> ivh_fs_info.lock (a leaf spinlock),
 *                          -> the root inode's i_rwsem
 *   the root directory's i_rwsem (lookup, create, readdir)
 *     -> ivh_host.lock (registry look-ups, revalidation, ivh_list())
 *       -> ivh_region.lock
 *   a region file's i_rwsem (ftruncate, chmod: setattr): nothing of ours
 * ->open, ->release and evict run with no VFS lock the module cares
 * about; open takes ivh_region.alloc_lock, ivh_host.lock and
 * ivh_region.lock as ATTACH does.
 * readdir and statfs copy the registry first (ivh_list()) and emit
 * names with no module lock held: dir_emit() writes user memory. At most one
 * ivh_region.lock is held at a time. No user memory is copied and no
 * region memory is allocated or freed while holding ivh_host.lock or
 * ivh_region.lock; ivh_region.alloc_lock is the only lock held while
 * allocating. Trigger work items take ivh_region.lock, so
 * cancel_work_sync() on them is only called without it. The last
 * ivh_region_put() frees the region's memory, so it is called with none
 * of the module's locks held.
 */
#ifndef IVSHMEM_HOST_DRV_H
#define IVSHMEM_HOST_DRV_H

#include <linux/atomic.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/acrn.h>
#include <linux/ivshmem_host.h>

#define IVH_MAX_REGIONS		64
#define IVH_MAX_TRIGGERS	64	/* per peer */
/* Region IDs: the guest's 16-bit PCI subsystem ID (ACRN 3.3). */
#define IVH_REGION_ID_MAX	IVSHMEM_HOST_MAX_REGION_ID

/* Folio order tried first for dm-land memory (2 MiB on x86-64). */
#define IVH_FOLIO_ORDER		(PMD_SHIFT - PAGE_SHIFT)
/* mmap offsets, lengths and splits are multiples of this (2 MiB). */
#define IVH_MAP_ALIGN		(PAGE_SIZE << IVH_FOLIO_ORDER)
/**
 * struct ivh_hsm_batch - what HSM's SET_MEMSEG allocates for a mapping
 * @vmid:	the User VM.
 * @reserved:	padding of the hypercall's ABI.
 * @regions_num: entries in @regions_op.
 * @regions_gpa: physical address of @regions_op.
 * @regions_op:	one per folio mapped.
 *
 * acrn_vm_ram_map() (drivers/virt/acrn/mm.c) sends the hypervisor one
 * HC_VM_SET_MEMORY_REGIONS batch, struct vm_memory_region_batch in HSM's
 * private drivers/virt/acrn/acrn_drv.h, allocated with one kzalloc() of
 * struct_size(batch, regions_op, folios): above KMALLOC_MAX_SIZE it
 * fails. The header is the hypercall's ABI, which the hypervisor fixes;
 * each op (struct vm_memory_region_op) is the uapi's struct
 * acrn_vm_memmap field for field (type, attributes, User VM address,
 * Service VM address, size). Never allocated here: only its size counts
 * (IVH_HSM_MAX_OPS). KUnit (hsm_layout_test) checks it against HSM's
 * own header where the kernel tree has one.
 */
struct ivh_hsm_batch {
	u16 vmid;
	u16 reserved[3];
	u32 regions_num;
	u64 regions_gpa;
	struct acrn_vm_memmap regions_op[];
};

/* Most region ops, so folios, one SET_MEMSEG of HSM's can map. */
#define IVH_HSM_MAX_OPS							\
	((KMALLOC_MAX_SIZE - sizeof(struct ivh_hsm_batch)) /		\
	 sizeof(struct acrn_vm_memmap))

/* statfs() f_type of the ivshmem_host filesystem ("IVHF"). */
#define IVH_FS_MAGIC		0x49564846

struct eventfd_ctx;
struct mem_cgroup;
struct vm_area_struct;

/**
 * struct ivh_region_spec - a region as written in the syntax or an ioctl
 * @name:	"hv:/..." or "dm:/...", NUL-terminated, zero-padded.
 * @members:	bit N: VM N is a member.
 * @size_mb:	size in MiB.
 * @rt_members:	members no dm-land doorbell can reach (higher severity).
 * @region_id:	the region ID asked for, if @has_id.
 * @has_id:	the region ID was given; else the lowest free one is taken.
 * @hv:		true for an "hv:/" region (set by ivh_spec_check()).
 */
struct ivh_region_spec {
	char name[IVSHMEM_HOST_NAME_LEN];
	u64 members;
	u64 rt_members;
	u32 size_mb;
	u32 region_id;
	bool has_id;
	bool hv;
};

/**
 * struct ivh_config_error - where a region list failed to parse
 * @entry:	index of the failing entry (0-based, empty entries count).
 * @why:	the rule it broke, a static string.
 */
struct ivh_config_error {
	unsigned int entry;
	const char *why;
};

/**
 * struct ivh_host - one registry of regions
 * @lock:	protects @regions, @nr_regions, @nr_removed and
 *		ivh_region.removed.
 * @regions:	the registry, in order of addition.
 * @nr_regions:	entries in @regions.
 * @nr_removed:	regions removed from @regions and not freed yet (still
 *		held); they count against IVH_MAX_REGIONS too.
 * @ids:	region IDs.
 * @acrn:	running in ACRN's Service VM (reported by INFO only).
 * @wq:		runs doorbell triggers.
 * @efd_lock:	protects @efds.
 * @efds:	eventfds in use as vectors or triggers (struct ivh_efd).
 * @mem_bytes:	dm-land memory allocated (or being allocated) now.
 * @nr_mems:	live struct ivh_mem.
 */
struct ivh_host {
	struct mutex lock;	/* the registry; before ivh_region.lock */
	struct list_head regions;
	unsigned int nr_regions;
	unsigned int nr_removed;
	struct ida ids;
	bool acrn;
	struct workqueue_struct *wq;
	struct mutex efd_lock;	/* @efds; after ivh_region.lock */
	struct list_head efds;
	atomic64_t mem_bytes;
	atomic_t nr_mems;
};

/**
 * struct ivh_efd - an eventfd bound as vector or trigger somewhere
 * @node:	in ivh_host.efds.
 * @ctx:	the eventfd (no reference: the bindings hold them).
 * @vectors:	vectors delivering to it.
 * @triggers:	triggers it fires.
 *
 * An eventfd is either vectors' or triggers', never both, so a ring can
 * never signal a trigger, which would ring again without end.
 */
struct ivh_efd {
	struct list_head node;
	struct eventfd_ctx *ctx;
	unsigned int vectors;
	unsigned int triggers;
};

/**
 * struct ivh_mem - dm-land memory of a region, see "Objects and lifetime"
 * @host:	for the statistics.
 * @nr_pages:	size in pages.
 * @nr_filled:	pages allocated so far (== @nr_pages once complete).
 * @nr_folios:	folios backing the pages (HSM's region ops).
 * @nr_large:	of which 2 MiB folios.
 * @pages:	every page, in order (subpages of large folios included).
 */
struct ivh_mem {
	struct ivh_host *host;
	unsigned long nr_pages;
	unsigned long nr_filled;
	unsigned int nr_folios;
	unsigned int nr_large;
	struct page **pages;
};

/**
 * struct ivh_region - a registry entry
 * @ref:	the registry's (until REMOVE), one per peer, per inode of
 *		the filesystem (fs.c) and per trigger, and one per look-up
 *		in progress (ivh_region_get()).
 * @host:	the registry.
 * @node:	in ivh_host.regions (ivh_host.lock).
 * @spec:	name, size, members; immutable.
 * @id:		region ID, held from the ADD until the region is freed.
 * @removed:	no longer in the registry (ivh_host.lock); attach refuses it.
 * @memcg:	memory cgroup of the task that added the region (reference
 *		held), charged for @mem; NULL without memory cgroups.
 * @alloc_lock:	serialises attaches, so that only one allocates @mem.
 * @lock:	protects @peers, @nr_attached, @mem and the peers' vectors.
 * @peers:	attached peers.
 * @nr_attached: entries in @peers.
 * @mem:	the region's memory, owned: NULL until the first attach
 *		allocates it, then set until the region is freed.
 */
struct ivh_region {
	struct kref ref;
	struct ivh_host *host;
	struct list_head node;
	struct ivh_region_spec spec;
	u32 id;
	bool removed;
	struct mem_cgroup *memcg;
	struct mutex alloc_lock;	/* attaches; before ivh_host.lock */
	struct mutex lock;	/* peers, session, vectors */
	struct list_head peers;
	unsigned int nr_attached;
	struct ivh_mem *mem;
};

/**
 * struct ivh_vector - where one vector of a peer is delivered
 * @eventfd:	signalled on each ring (reference held), or NULL: rings
 *		to the vector fail with ENXIO.
 * @rings:	rings delivered (for tests and debugging).
 */
struct ivh_vector {
	struct eventfd_ctx *eventfd;
	u64 rings;
};

/**
 * struct ivh_doorbells - a peer's doorbell state (doorbell.c)
 * @vec:	delivery of each vector (ivh_region.lock).
 * @triggers:	eventfds that ring from this peer (ivh_region.lock).
 * @nr_triggers: entries in @triggers.
 */
struct ivh_doorbells {
	struct ivh_vector vec[IVSHMEM_HOST_MAX_VECTORS];
	struct list_head triggers;
	unsigned int nr_triggers;
};

/**
 * struct ivh_peer - a VM attached to a dm-land region
 * @ref:	see "Objects and lifetime".
 * @region:	reference held.
 * @mem:	the region's memory (owned by the region, which the peer
 *		holds); set by the attach.
 * @node:	in ivh_region.peers while @attached.
 * @vmid:	absolute VM ID.
 * @attached:	(ivh_region.lock)
 * @db:		vectors and triggers, empty once the peer is detached.
 */
struct ivh_peer {
	struct kref ref;
	struct ivh_region *region;
	struct ivh_mem *mem;
	struct list_head node;
	u32 vmid;
	bool attached;
	struct ivh_doorbells db;
};

/**
 * struct ivh_trigger - an eventfd that rings a doorbell
 * @region:	the region; reference held.
 * @src:	the ringing VM (its owner peer's).
 * @node:	in its owner's ivh_doorbells.triggers.
 * @dst:	target VM.
 * @vector:	target vector.
 * @eventfd:	reference held.
 * @wait:	our entry on the eventfd's wait queue.
 * @pt:		for vfs_poll() to install @wait.
 * @work:	rings, in process context.
 */
struct ivh_trigger {
	struct ivh_region *region;
	u32 src;
	struct list_head node;
	u32 dst;
	u32 vector;
	struct eventfd_ctx *eventfd;
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct work;
};

/* config.c: the region syntax, pure */
int ivh_spec_check(struct ivh_region_spec *spec, const char **why);
int ivh_parse_region(const char *s, size_t len, struct ivh_region_spec *spec,
		     const char **why);
int ivh_parse_regions(const char *list, struct ivh_region_spec *specs,
		      unsigned int max, unsigned int *nr,
		      struct ivh_config_error *err);
int ivh_name_check(const char *name, size_t len, const char **why);

/*
 * The files below call only the files above them (and config.c, acrn.c):
 * mem.c <- registry.c <- doorbell.c <- peer.c <- ioctl.c, fs.c <- main.c.
 */

/* mem.c: dm-land memory, its folios and its mappings */
struct ivh_mem *ivh_mem_alloc(struct ivh_host *host, unsigned long size,
			      struct mem_cgroup *memcg);
unsigned long ivh_mem_free(struct ivh_mem *mem);
bool ivh_hsm_fits(unsigned long nr_folios);
int ivh_mmap_check(unsigned long pgoff, unsigned long pages,
		   unsigned long nr_pages);
int ivh_mem_mmap(struct ivh_mem *mem, struct vm_area_struct *vma);
void ivh_mem_debugfs_create(void);
void ivh_mem_debugfs_remove(void);

/* registry.c: regions, region IDs, the memory a region owns */
int ivh_host_init(struct ivh_host *host, bool acrn);
void ivh_host_destroy(struct ivh_host *host);
int ivh_region_add(struct ivh_host *host, const struct ivh_region_spec *spec,
		   const char **why);
int ivh_region_remove(struct ivh_host *host, const char *name);
struct ivh_region *ivh_region_get(struct ivh_host *host, const char *name);
void ivh_region_put(struct ivh_region *region);
void ivh_region_info(struct ivh_region *region,
		     struct ivshmem_host_region *out);
int ivh_list(struct ivh_host *host, struct ivshmem_host_region *out,
	     unsigned int capacity, unsigned int *count);
struct ivh_peer *ivh_peer_find(struct ivh_region *region, u32 vmid);

/* doorbell.c: vectors, routing, eventfd triggers */
int ivh_region_ring(struct ivh_region *region, u32 src, u32 dst, u32 vector);
int ivh_ring(struct ivh_host *host, const char *name, u32 src, u32 dst,
	     u32 vector);
int ivh_set_vector(struct ivh_peer *peer,
		   const struct ivshmem_host_vector *req,
		   struct eventfd_ctx *eventfd);
int ivh_trigger_assign(struct ivh_peer *peer, int fd, u32 dst, u32 vector);
int ivh_trigger_deassign(struct ivh_peer *peer, int fd);
int ivh_trigger_deassign_target(struct ivh_peer *peer, u32 dst, u32 vector);
int ivh_efd_claim(struct ivh_host *host, struct eventfd_ctx *ctx,
		  bool trigger);
void ivh_efd_unclaim(struct ivh_host *host, struct eventfd_ctx *ctx,
		     bool trigger);
void ivh_doorbells_teardown(struct ivh_peer *peer);

/* peer.c: attach, detach, mmap of a peer */
struct ivh_peer *ivh_attach(struct ivh_host *host, const char *name,
			    u32 vmid, const char **why);
struct ivh_peer *ivh_attach_region(struct ivh_region *region, u32 vmid,
				   const char **why);
int ivh_detach(struct ivh_peer *peer);
int ivh_detach_vmid(struct ivh_host *host, const char *name, u32 vmid);
void ivh_peer_get(struct ivh_peer *peer);
void ivh_peer_put(struct ivh_peer *peer);
void ivh_peer_release(struct ivh_peer *peer);
int ivh_peer_mmap(struct ivh_peer *peer, struct vm_area_struct *vma);

/* acrn.c */
bool ivh_acrn_service_vm(void);

/* ioctl.c: the misc device and the attachment fds */
int ivh_misc_register(struct ivh_host *host);
void ivh_misc_deregister(void);

/* fs.c: the per-VM filesystem acrn-dm's shm_open() lands on */
int ivh_fs_register(struct ivh_host *host);
void ivh_fs_unregister(void);

#endif /* IVSHMEM_HOST_DRV_H */
