// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the host module's registry, membership checks and the
 * lifetime of dm-land memory (the region's for as long as the region
 * lives, the pins' after), in
 * host/registry.c,
 * host/peer.c and
 * host/mem.c.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/sched.h>

#include "host_test.h"

/* HSM's private header, where the kernel tree has it (Kbuild.host). */
#ifdef IVH_HAVE_ACRN_DRV_H
#include "acrn_drv.h"
#endif

#define IVH_2M	(2UL << 20)

static void registry_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivshmem_host_region info[3];
	struct ivh_region_spec spec = {};
	struct ivh_region *region;
	unsigned int count;
	const char *why;

	ivh_fixture_add(test, "hv:/shm_region_0,2,0:2");
	ivh_fixture_add(test, "dm:/b,4,1:2:3");

	/* Duplicate names are refused and change nothing. */
	memcpy(spec.name, "dm:/b", 6);
	spec.size_mb = 8;
	spec.members = 0x3;
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), -EEXIST);
	KUNIT_EXPECT_NOT_NULL(test, strstr(why, "in use"));
	/* So are specs the syntax would refuse. */
	spec.size_mb = 3;
	memcpy(spec.name, "dm:/c", 6);
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), -EINVAL);
	KUNIT_EXPECT_EQ(test, fx->host.nr_regions, 2);

	/* IDs follow the order of addition. */
	KUNIT_EXPECT_EQ(test, ivh_list(&fx->host, info, 3, &count), 0);
	KUNIT_ASSERT_EQ(test, count, 2);
	KUNIT_EXPECT_STREQ(test, info[0].name, "hv:/shm_region_0");
	KUNIT_EXPECT_EQ(test, info[0].region_id, 0);
	KUNIT_EXPECT_EQ(test, info[0].flags, IVSHMEM_HOST_REGION_HV);
	KUNIT_EXPECT_EQ(test, info[0].members, BIT_ULL(0) | BIT_ULL(2));
	KUNIT_EXPECT_STREQ(test, info[1].name, "dm:/b");
	KUNIT_EXPECT_EQ(test, info[1].region_id, 1);
	KUNIT_EXPECT_EQ(test, info[1].size_mb, 4);
	KUNIT_EXPECT_EQ(test, info[1].flags, 0);

	/* A short array still reports the full count. */
	KUNIT_EXPECT_EQ(test, ivh_list(&fx->host, info, 1, &count), 0);
	KUNIT_EXPECT_EQ(test, count, 2);

	region = ivh_region_get(&fx->host, "dm:/b");
	KUNIT_ASSERT_NOT_NULL(test, region);
	KUNIT_EXPECT_EQ(test, region->spec.size_mb, 4);
	ivh_region_put(region);
	KUNIT_EXPECT_NULL(test, ivh_region_get(&fx->host, "dm:/nope"));

	/* Removal frees the ID for the next region. */
	KUNIT_EXPECT_EQ(test, ivh_region_remove(&fx->host, "hv:/shm_region_0"), 0);
	KUNIT_EXPECT_EQ(test, ivh_region_remove(&fx->host, "hv:/shm_region_0"),
			-ENOENT);
	ivh_fixture_add(test, "dm:/c,2,0:1");
	region = ivh_region_get(&fx->host, "dm:/c");
	KUNIT_ASSERT_NOT_NULL(test, region);
	KUNIT_EXPECT_EQ(test, region->id, 0);
	ivh_region_put(region);
}

/* Region IDs given (ACRN 3.3's IVSHMEM_REGION_ID) or the lowest free. */
static void region_id_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivh_region_spec spec = {
		.name = "dm:/x", .size_mb = 2, .members = 0x3,
	};
	struct ivh_region *region;
	const char *why;

	ivh_fixture_add(test, "dm:/given,2,1:2,1");
	ivh_fixture_add(test, "hv:/auto,2,1:2");
	region = ivh_region_get(&fx->host, "hv:/auto");
	KUNIT_ASSERT_NOT_NULL(test, region);
	KUNIT_EXPECT_EQ(test, region->id, 0);
	ivh_region_put(region);
	/* Taken: refused, and the name stays free. */
	spec.has_id = true;
	spec.region_id = 1;
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), -EEXIST);
	KUNIT_EXPECT_NOT_NULL(test, strstr(why, "region ID"));
	KUNIT_EXPECT_NULL(test, ivh_region_get(&fx->host, "dm:/x"));
	spec.region_id = 65536;
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), -ERANGE);
	spec.region_id = 65535;
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), 0);
	region = ivh_region_get(&fx->host, "dm:/x");
	KUNIT_ASSERT_NOT_NULL(test, region);
	KUNIT_EXPECT_EQ(test, region->id, 65535);
	ivh_region_put(region);
	/* The next without an ID skips the given ones. */
	ivh_fixture_add(test, "dm:/next,2,1:2");
	region = ivh_region_get(&fx->host, "dm:/next");
	KUNIT_ASSERT_NOT_NULL(test, region);
	KUNIT_EXPECT_EQ(test, region->id, 2);
	ivh_region_put(region);
	/* Removal frees a given ID too. */
	KUNIT_EXPECT_EQ(test, ivh_region_remove(&fx->host, "dm:/given"), 0);
	memcpy(spec.name, "dm:/y", 6);
	spec.region_id = 1;
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), 0);
}

static void registry_full_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivh_region_spec spec = { .size_mb = 2, .members = 0x3 };
	struct ivh_region *region;
	const char *why;
	int i;

	for (i = 0; i < IVH_MAX_REGIONS; i++) {
		snprintf(spec.name, sizeof(spec.name), "dm:/r%d", i);
		KUNIT_ASSERT_EQ(test, ivh_region_add(&fx->host, &spec, &why), 0);
	}
	memset(spec.name, 0, sizeof(spec.name));
	memcpy(spec.name, "dm:/one_more", 12);
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), -ENOSPC);
	KUNIT_EXPECT_EQ(test, fx->host.nr_regions, IVH_MAX_REGIONS);

	/* A removed region still held keeps its place until it is freed. */
	region = ivh_region_get(&fx->host, "dm:/r0");
	KUNIT_ASSERT_NOT_NULL(test, region);
	KUNIT_EXPECT_EQ(test, ivh_region_remove(&fx->host, "dm:/r0"), 0);
	KUNIT_EXPECT_EQ(test, fx->host.nr_removed, 1);
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), -ENOSPC);
	KUNIT_EXPECT_NOT_NULL(test, strstr(why, "removed"));
	ivh_region_put(region);
	KUNIT_EXPECT_EQ(test, fx->host.nr_removed, 0);
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), 0);
}

static void membership_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivh_peer *a, *b;
	const char *why;

	ivh_fixture_add(test, "dm:/m,2,1:2");
	ivh_fixture_add(test, "hv:/h,2,1:2");

	KUNIT_EXPECT_EQ(test, PTR_ERR(ivh_att(fx, "dm:/m", 3, &why)),
			-EACCES);
	KUNIT_EXPECT_NOT_NULL(test, strstr(why, "not a member"));
	KUNIT_EXPECT_EQ(test, PTR_ERR(ivh_att(fx, "dm:/m", 0, &why)),
			-EACCES);
	KUNIT_EXPECT_EQ(test, PTR_ERR(ivh_att(fx, "dm:/m", 64, &why)),
			-EACCES);
	KUNIT_EXPECT_EQ(test, PTR_ERR(ivh_att(fx, "dm:/m", U32_MAX, &why)),
			-EACCES);
	KUNIT_EXPECT_EQ(test, PTR_ERR(ivh_att(fx, "hv:/h", 1, &why)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(ivh_att(fx, "dm:/x", 1, &why)),
			-ENOENT);
	/* None of the refusals allocated memory. */
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 0);

	a = ivh_att(fx, "dm:/m", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_EXPECT_EQ(test, PTR_ERR(ivh_att(fx, "dm:/m", 1, &why)),
			-EBUSY);
	b = ivh_att(fx, "dm:/m", 2, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_PTR_EQ(test, a->mem, b->mem);
	KUNIT_EXPECT_EQ(test, a->region->nr_attached, 2);

	KUNIT_EXPECT_EQ(test, ivh_detach_vmid(&fx->host, "dm:/m", 2), 0);
	KUNIT_EXPECT_EQ(test, ivh_detach_vmid(&fx->host, "dm:/m", 2), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, ivh_detach_vmid(&fx->host, "dm:/x", 2), -ENOENT);
	KUNIT_EXPECT_EQ(test, ivh_detach(b), -ENOTCONN);
	/* VM 2 may come back while VM 1 is still there: same memory. */
	ivh_peer_release(b);
	b = ivh_att(fx, "dm:/m", 2, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_PTR_EQ(test, a->mem, b->mem);
	ivh_peer_release(a);
	ivh_peer_release(b);
	/* The region keeps its memory with no VM attached. */
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 1);
}

static void ivh_fill(struct ivh_mem *mem, u8 val)
{
	unsigned long i;

	for (i = 0; i < mem->nr_pages; i++) {
		void *p = kmap_local_page(mem->pages[i]);

		memset(p, val, PAGE_SIZE);
		kunmap_local(p);
	}
}

static bool ivh_all_zero(struct ivh_mem *mem)
{
	unsigned long i;
	bool zero = true;

	for (i = 0; i < mem->nr_pages && zero; i++) {
		void *p = kmap_local_page(mem->pages[i]);

		zero = !memchr_inv(p, 0, PAGE_SIZE);
		kunmap_local(p);
	}
	return zero;
}

/*
 * The region owns its memory from the first attach on: VMs leaving and
 * coming back (a reset) find it, data intact; REMOVE frees it.
 */
static void lifetime_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivshmem_host_region info;
	struct ivh_region *region;
	struct ivh_peer *a, *b, *c;
	struct ivh_mem *mem;
	const char *why;

	ivh_fixture_add(test, "dm:/l,2,1:2");
	region = ivh_region_get(&fx->host, "dm:/l");
	KUNIT_ASSERT_NOT_NULL(test, region);
	ivh_region_info(region, &info);
	KUNIT_EXPECT_EQ(test, info.flags, 0);
	KUNIT_EXPECT_NULL(test, region->mem);
	a = ivh_att(fx, "dm:/l", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	b = ivh_att(fx, "dm:/l", 2, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	mem = a->mem;
	KUNIT_EXPECT_PTR_EQ(test, region->mem, mem);
	KUNIT_EXPECT_PTR_EQ(test, b->mem, mem);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 1);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), IVH_2M);
	KUNIT_EXPECT_EQ(test, mem->nr_pages, IVH_2M >> PAGE_SHIFT);
	KUNIT_EXPECT_TRUE(test, ivh_all_zero(mem));
	ivh_region_info(region, &info);
	KUNIT_EXPECT_EQ(test, info.flags, IVSHMEM_HOST_REGION_MEM);
	KUNIT_EXPECT_EQ(test, info.nr_attached, 2);
	KUNIT_EXPECT_EQ(test, info.nr_folios, mem->nr_folios);
	/* One 2 MiB folio, or 4 KiB pages when none was free. */
	KUNIT_EXPECT_TRUE(test, mem->nr_folios == 1 ||
			  mem->nr_folios == IVH_2M >> PAGE_SHIFT);
	/* The region's reference on each folio is the only one. */
	KUNIT_EXPECT_EQ(test, folio_ref_count(page_folio(mem->pages[0])), 1);
	ivh_fill(mem, 0xa5);

	/* Every VM leaves, the fds closed: the region keeps the memory. */
	KUNIT_EXPECT_EQ(test, ivh_detach(a), 0);
	ivh_peer_release(a);
	ivh_peer_release(b);
	KUNIT_EXPECT_PTR_EQ(test, region->mem, mem);
	ivh_region_info(region, &info);
	KUNIT_EXPECT_EQ(test, info.flags, IVSHMEM_HOST_REGION_MEM);
	KUNIT_EXPECT_EQ(test, info.nr_attached, 0);

	/* A VM coming back (a reset) gets the same memory, data intact. */
	c = ivh_att(fx, "dm:/l", 2, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_EXPECT_PTR_EQ(test, c->mem, mem);
	KUNIT_EXPECT_FALSE(test, ivh_all_zero(c->mem));
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 1);

	/* REMOVE while attached: the peer keeps region and memory. */
	KUNIT_EXPECT_EQ(test, ivh_region_remove(&fx->host, "dm:/l"), 0);
	ivh_region_put(region);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), IVH_2M);
	KUNIT_EXPECT_FALSE(test, ivh_all_zero(c->mem));
	/* The last holder goes: region and memory are freed at once. */
	ivh_peer_release(c);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), 0);
}

static void remove_attached_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivh_region_spec spec = {
		.name = "dm:/same_id", .size_mb = 2, .members = 0x6,
		.has_id = true,
	};
	struct ivh_region *old;
	struct ivh_peer *a, *b;
	const char *why;
	u32 old_id;

	ivh_fixture_add(test, "dm:/r,4,1:2");
	a = ivh_att(fx, "dm:/r", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	old = a->region;
	ivh_fill(a->mem, 0x5a);

	KUNIT_EXPECT_EQ(test, ivh_region_remove(&fx->host, "dm:/r"), 0);
	KUNIT_EXPECT_TRUE(test, old->removed);
	KUNIT_EXPECT_EQ(test, PTR_ERR(ivh_att(fx, "dm:/r", 2, &why)),
			-ENOENT);
	/* The peer keeps region and memory. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), 2 * IVH_2M);
	KUNIT_EXPECT_FALSE(test, ivh_all_zero(a->mem));

	/* The name is free again, for a different region. */
	ivh_fixture_add(test, "dm:/r,2,1:2");
	b = ivh_att(fx, "dm:/r", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	KUNIT_EXPECT_PTR_NE(test, b->region, old);
	KUNIT_EXPECT_TRUE(test, ivh_all_zero(b->mem));

	/* The old region lives on in its peer: so does its ID. */
	old_id = old->id;
	KUNIT_EXPECT_NE(test, b->region->id, old_id);
	spec.region_id = old_id;
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), -EEXIST);

	ivh_peer_release(a);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), IVH_2M);
	/* Freed with its last peer: the ID is free again. */
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), 0);
	ivh_peer_release(b);
	/* The new region keeps its memory. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), IVH_2M);
}

static void mem_alloc_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	unsigned long i, pages = 0;
	struct ivh_mem *mem;

	mem = ivh_mem_alloc(&fx->host, 8UL << 20, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(mem));
	KUNIT_EXPECT_EQ(test, mem->nr_filled, mem->nr_pages);
	/* The pages are the folios' pages, in order, each folio once. */
	for (i = 0; i < mem->nr_pages; ) {
		struct folio *folio = page_folio(mem->pages[i]);
		unsigned long j;

		for (j = 0; j < folio_nr_pages(folio); j++)
			KUNIT_EXPECT_PTR_EQ(test, mem->pages[i + j],
					    folio_page(folio, j));
		i += folio_nr_pages(folio);
		pages += folio_nr_pages(folio);
	}
	KUNIT_EXPECT_EQ(test, pages, mem->nr_pages);
	KUNIT_EXPECT_TRUE(test, ivh_all_zero(mem));
	KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), 8UL << 20);
	/* Nothing else references its folios. */
	KUNIT_EXPECT_EQ(test, ivh_mem_free(mem), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), 0);
}

/* Attach/detach loops, fds kept open, use the region's one memory. */
static void attach_loop_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivh_peer *p[4];
	const char *why;
	int i;

	ivh_fixture_add(test, "dm:/u,2,1:2");
	for (i = 0; i < ARRAY_SIZE(p); i++) {
		p[i] = ivh_att(fx, "dm:/u", 1, &why);
		KUNIT_ASSERT_FALSE(test, IS_ERR(p[i]));
		KUNIT_EXPECT_PTR_EQ(test, p[i]->mem, p[0]->mem);
		KUNIT_EXPECT_EQ(test, ivh_detach_vmid(&fx->host, "dm:/u", 1), 0);
		KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 1);
		KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), IVH_2M);
	}
	for (i = 0; i < ARRAY_SIZE(p); i++)
		ivh_peer_release(p[i]);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 1);
}

/*
 * Attaches take turns: while one holds the region's alloc_lock (as the
 * first attach does while it allocates), the next waits, then finds the
 * region's memory, or finds the region removed and allocates nothing.
 */
struct ivh_attach_turn {
	struct ivh_region *region;
	u32 vmid;
	struct completion started;
	struct completion done;
	struct ivh_peer *peer;
};

static int ivh_attach_turn_fn(void *arg)
{
	struct ivh_attach_turn *t = arg;
	const char *why;

	complete(&t->started);
	t->peer = ivh_attach_region(t->region, t->vmid, &why);
	kthread_complete_and_exit(&t->done, 0);
}

/* Start an attach of @vmid while the test holds alloc_lock; false: none. */
static bool ivh_attach_turn_start(struct kunit *test,
				  struct ivh_attach_turn *t, u32 vmid)
{
	struct task_struct *task;

	t->vmid = vmid;
	t->peer = NULL;
	init_completion(&t->started);
	init_completion(&t->done);
	task = kthread_run(ivh_attach_turn_fn, t, "ivh_attach_turn");
	if (IS_ERR(task)) {
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(task));
		return false;
	}
	wait_for_completion(&t->started);
	/* It waits for the lock: no peer, nothing allocated. */
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&t->done, HZ / 10),
			0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->region->host->mem_bytes), 0);
	return true;
}

static void attach_turns_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivh_attach_turn t;

	ivh_fixture_add(test, "dm:/t,2,1:2");
	t.region = ivh_region_get(&fx->host, "dm:/t");
	KUNIT_ASSERT_NOT_NULL(test, t.region);

	mutex_lock(&t.region->alloc_lock);
	if (ivh_attach_turn_start(test, &t, 1)) {
		mutex_unlock(&t.region->alloc_lock);
		wait_for_completion(&t.done);
		KUNIT_EXPECT_FALSE(test, IS_ERR(t.peer));
		KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 1);
		if (!IS_ERR(t.peer)) {
			KUNIT_EXPECT_PTR_EQ(test, t.peer->mem, t.region->mem);
			ivh_peer_release(t.peer);
		}
	} else {
		mutex_unlock(&t.region->alloc_lock);
	}
	/* The memory stays the region's; start again from none. */
	KUNIT_EXPECT_EQ(test, ivh_region_remove(&fx->host, "dm:/t"), 0);
	ivh_region_put(t.region);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 0);

	ivh_fixture_add(test, "dm:/t,2,1:2");
	t.region = ivh_region_get(&fx->host, "dm:/t");
	KUNIT_ASSERT_NOT_NULL(test, t.region);
	mutex_lock(&t.region->alloc_lock);
	if (ivh_attach_turn_start(test, &t, 2)) {
		/* Removed while the attach waits: refused, nothing allocated. */
		KUNIT_EXPECT_EQ(test, ivh_region_remove(&fx->host, "dm:/t"), 0);
		mutex_unlock(&t.region->alloc_lock);
		wait_for_completion(&t.done);
		KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(t.peer), -ENOENT);
		KUNIT_EXPECT_NULL(test, t.region->mem);
		if (!IS_ERR_OR_NULL(t.peer))
			ivh_peer_release(t.peer);
	} else {
		mutex_unlock(&t.region->alloc_lock);
	}
	KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), 0);
	ivh_region_put(t.region);
}

/*
 * The owner's release (what closing the attachment fd does) racing
 * ivh_detach_vmid(), which the test thread runs. The racer holds the
 * region's lock until DETACH has looked the region up (the region's
 * reference count rises; DETACH then waits for that lock), lets it go,
 * waits until DETACH has taken the peer out and drops the owner's
 * reference at once, while DETACH may still be tearing down. DETACH must
 * hold a reference of its own until it is done: without it the peer is
 * freed under DETACH, or put twice (KASAN and refcount_t report it).
 */
struct ivh_release_race {
	struct ivh_peer *peer;
	struct completion started;
	struct completion done;
	unsigned int region_refs;	/* before DETACH */
	bool looked_up;			/* DETACH took a region reference */
	bool detached;			/* DETACH took the peer out first */
	unsigned int peer_refs;		/* just before the release */
};

#define IVH_RACE_ROUNDS		50
#define IVH_RACE_WAIT		(2 * HZ)

static int ivh_release_racer(void *arg)
{
	struct ivh_release_race *r = arg;
	struct ivh_peer *peer = r->peer;
	struct ivh_region *region = peer->region;
	unsigned long deadline = jiffies + IVH_RACE_WAIT;

	mutex_lock(&region->lock);
	complete(&r->started);
	while (kref_read(&region->ref) <= r->region_refs &&
	       time_before(jiffies, deadline))
		cond_resched();
	r->looked_up = kref_read(&region->ref) > r->region_refs;
	mutex_unlock(&region->lock);
	while (READ_ONCE(peer->attached) && time_before(jiffies, deadline))
		cpu_relax();
	r->detached = !READ_ONCE(peer->attached);
	r->peer_refs = kref_read(&peer->ref);
	ivh_peer_release(peer);
	kthread_complete_and_exit(&r->done, 0);
}

static void peer_ref_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	unsigned int round, inside = 0;
	struct ivh_release_race r;
	struct ivh_region *region;
	struct task_struct *task;
	struct ivh_peer *a;
	bool bad = false;
	const char *why;
	int ret;

	ivh_fixture_add(test, "dm:/p,2,1:2");

	/* Alone: DETACH drops the reference it took; the fd's stays. */
	a = ivh_att(fx, "dm:/p", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_EXPECT_EQ(test, ivh_detach_vmid(&fx->host, "dm:/p", 1), 0);
	KUNIT_EXPECT_FALSE(test, a->attached);
	KUNIT_EXPECT_EQ(test, kref_read(&a->ref), 1);
	KUNIT_EXPECT_EQ(test, a->region->nr_attached, 0);
	/* The region keeps its memory. */
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 1);
	KUNIT_EXPECT_EQ(test, ivh_detach_vmid(&fx->host, "dm:/p", 1),
			-ENOTCONN);
	ivh_peer_release(a);

	for (round = 0; round < IVH_RACE_ROUNDS && !bad; round++) {
		a = ivh_att(fx, "dm:/p", 1, &why);
		KUNIT_ASSERT_FALSE(test, IS_ERR(a));
		region = a->region;	/* the registry keeps it */
		memset(&r, 0, sizeof(r));
		r.peer = a;
		init_completion(&r.started);
		init_completion(&r.done);
		r.region_refs = kref_read(&region->ref);
		task = kthread_run(ivh_release_racer, &r, "ivh_release_race");
		if (IS_ERR(task)) {
			ivh_peer_release(a);
			KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(task));
			return;
		}
		wait_for_completion(&r.started);
		ret = ivh_detach_vmid(&fx->host, "dm:/p", 1);
		wait_for_completion(&r.done);

		KUNIT_EXPECT_TRUE_MSG(test, r.looked_up,
				      "round %u: DETACH never looked the region up",
				      round);
		/* DETACH waited for the region lock the racer held: it won. */
		KUNIT_EXPECT_EQ_MSG(test, ret, 0, "round %u", round);
		KUNIT_EXPECT_TRUE_MSG(test, r.detached,
				      "round %u: DETACH did not detach the peer",
				      round);
		/* The owner's reference, plus DETACH's while it tears down. */
		KUNIT_EXPECT_TRUE_MSG(test, r.peer_refs == 1 || r.peer_refs == 2,
				      "round %u: %u references", round,
				      r.peer_refs);
		if (r.peer_refs == 2)
			inside++;
		/* Both done: peer freed, the region's memory kept. */
		KUNIT_EXPECT_EQ(test, kref_read(&region->ref), r.region_refs - 1);
		KUNIT_EXPECT_EQ(test, region->nr_attached, 0);
		KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 1);
		bad = !r.looked_up || ret || !r.detached;
	}
	kunit_info(test, "%u of %u rounds released inside DETACH's teardown",
		   inside, round);
}

static void mmap_check_test(struct kunit *test)
{
	const unsigned long m = IVH_MAP_ALIGN >> PAGE_SHIFT;	/* 2 MiB */
	const unsigned long n = 4 * m;				/* 8 MiB */

	KUNIT_EXPECT_EQ(test, ivh_mmap_check(0, n, n), 0);
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(0, m, n), 0);
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(3 * m, m, n), 0);
	/* Not whole folios: HSM would pin a tail page or map past the end. */
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(1, m, n), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(m / 2, m, n), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(0, m / 2, n), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(0, 1, n), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(0, m + 1, n), -EINVAL);
	/* Beyond the region. */
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(n, m, n), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(3 * m, 2 * m, n), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(0, 5 * m, n), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(ULONG_MAX & ~(m - 1), m, n),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_mmap_check(0, 0, n), -EINVAL);
}

/*
 * A pin stands in as what it is to the folio: a reference of its own
 * (pin_user_pages() adds GUP_PIN_COUNTING_BIAS or, for a large folio, one
 * and the pin count; KUnit has no user mapping to pin). Return: the
 * region's first folio, with that reference.
 */
static struct folio *ivh_pin_first(struct ivh_mem *mem)
{
	struct folio *folio = page_folio(mem->pages[0]);

	folio_get(folio);
	return folio;
}

static bool ivh_folio_reads(struct folio *folio, u8 val)
{
	u8 *p = kmap_local_folio(folio, 0);
	bool ok = !memchr_inv(p, val, PAGE_SIZE);

	kunmap_local(p);
	return ok;
}

/*
 * REMOVE while pinned: the region's memory is freed with the region, the
 * pinned folio stays the pin's, data intact, and its put frees it; a new
 * region of the name gets new, zeroed memory and another region ID.
 */
static void remove_pinned_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivh_region *old, *region;
	struct folio *folio;
	struct ivh_peer *a;
	const char *why;
	u32 old_id;

	ivh_fixture_add(test, "dm:/q,2,1:2");
	a = ivh_att(fx, "dm:/q", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	old = a->region;
	old_id = old->id;
	ivh_fill(a->mem, 0x3c);
	folio = ivh_pin_first(a->mem);
	KUNIT_EXPECT_EQ(test, folio_ref_count(folio), 2);

	KUNIT_EXPECT_EQ(test, ivh_region_remove(&fx->host, "dm:/q"), 0);
	/* While the old region lives (its peer), its ID stays taken. */
	ivh_fixture_add(test, "dm:/q,2,1:2");
	region = ivh_region_get(&fx->host, "dm:/q");
	KUNIT_ASSERT_NOT_NULL(test, region);
	KUNIT_EXPECT_PTR_NE(test, region, old);
	KUNIT_EXPECT_NE(test, region->id, old_id);
	ivh_region_put(region);
	ivh_peer_release(a);
	/* The old region is gone; the pin keeps its folio, data intact. */
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), 0);
	KUNIT_EXPECT_EQ(test, folio_ref_count(folio), 1);
	KUNIT_EXPECT_TRUE(test, ivh_folio_reads(folio, 0x3c));

	/* The new region of the name: new, zeroed memory. */
	a = ivh_att(fx, "dm:/q", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_EXPECT_TRUE(test, ivh_all_zero(a->mem));
	KUNIT_EXPECT_PTR_NE(test, page_folio(a->mem->pages[0]), folio);
	/* The "unpin": the folio's last reference frees it. */
	folio_put(folio);
	ivh_peer_release(a);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 1);
}

/*
 * Unload with memory still pinned: the module drops its references, the
 * pin's keeps the folio, and its put frees it; nothing leaks (kmemleak).
 */
static void pin_unload_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct folio *folio;
	struct ivh_peer *a;
	const char *why;

	ivh_fixture_add(test, "dm:/d,2,1:2");
	a = ivh_att(fx, "dm:/d", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	ivh_fill(a->mem, 0x77);
	folio = ivh_pin_first(a->mem);
	ivh_peer_release(a);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 1);
	ivh_host_destroy(&fx->host);
	KUNIT_EXPECT_EQ(test, atomic_read(&fx->host.nr_mems), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&fx->host.mem_bytes), 0);
	/* The "pin" is the folio's last reference. */
	KUNIT_EXPECT_EQ(test, folio_ref_count(folio), 1);
	KUNIT_EXPECT_TRUE(test, ivh_folio_reads(folio, 0x77));
	folio_put(folio);
	/* The fixture's exit destroys again: give it a fresh registry. */
	KUNIT_ASSERT_EQ(test, ivh_host_init(&fx->host, false), 0);
}

/*
 * HSM's own layout (drivers/virt/acrn/acrn_drv.h of the kernel tree the
 * tests are built against; Debian's headers packages lack it, the debug
 * kernels' trees have it): the module's prediction must be HSM's.
 */
static void hsm_layout_test(struct kunit *test)
{
#ifdef IVH_HAVE_ACRN_DRV_H
	struct vm_memory_region_batch *batch = NULL;

	KUNIT_EXPECT_EQ(test, sizeof(struct ivh_hsm_batch),
			struct_size(batch, regions_op, 0));
	KUNIT_EXPECT_EQ(test, sizeof(struct acrn_vm_memmap),
			sizeof(batch->regions_op[0]));
	KUNIT_EXPECT_LE(test, struct_size(batch, regions_op, IVH_HSM_MAX_OPS),
			KMALLOC_MAX_SIZE);
	KUNIT_EXPECT_GT(test,
			struct_size(batch, regions_op, IVH_HSM_MAX_OPS + 1),
			KMALLOC_MAX_SIZE);
#else
	kunit_skip(test, "no drivers/virt/acrn/acrn_drv.h in the kernel tree");
#endif
}

/* HSM's region-op array: one op per folio, at most KMALLOC_MAX_SIZE. */
static void hsm_fits_test(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, ivh_hsm_fits(IVH_HSM_MAX_OPS));
	KUNIT_EXPECT_FALSE(test, ivh_hsm_fits(IVH_HSM_MAX_OPS + 1));
	/* 512 MiB in 2 MiB folios, with one chunk in 4 KiB pages. */
	KUNIT_EXPECT_TRUE(test, ivh_hsm_fits(256));
	KUNIT_EXPECT_TRUE(test, ivh_hsm_fits(255 + 512));
	if (KMALLOC_MAX_SIZE != SZ_4M || PAGE_SIZE != SZ_4K)
		kunit_skip(test, "KMALLOC_MAX_SIZE is %lu, not 4 MiB",
			   (unsigned long)KMALLOC_MAX_SIZE);
	/* 512 MiB of 4 KiB pages is one op too many, one chunk less fits. */
	KUNIT_EXPECT_FALSE(test, ivh_hsm_fits(SZ_512M / SZ_4K));
	KUNIT_EXPECT_TRUE(test, ivh_hsm_fits(SZ_512M / SZ_4K - 511));
}

static struct kunit_case ivh_region_cases[] = {
	KUNIT_CASE(registry_test),
	KUNIT_CASE(region_id_test),
	KUNIT_CASE(registry_full_test),
	KUNIT_CASE(membership_test),
	KUNIT_CASE(lifetime_test),
	KUNIT_CASE(remove_attached_test),
	KUNIT_CASE(mem_alloc_test),
	KUNIT_CASE(attach_loop_test),
	KUNIT_CASE(attach_turns_test),
	KUNIT_CASE(peer_ref_test),
	KUNIT_CASE(mmap_check_test),
	KUNIT_CASE(remove_pinned_test),
	KUNIT_CASE(pin_unload_test),
	KUNIT_CASE(hsm_layout_test),
	KUNIT_CASE(hsm_fits_test),
	{}
};

static struct kunit_suite ivh_region_suite = {
	.name = "ivshmem_host_region",
	.init = ivh_fixture_init,
	.exit = ivh_fixture_exit,
	.test_cases = ivh_region_cases,
};

kunit_test_suite(ivh_region_suite);
