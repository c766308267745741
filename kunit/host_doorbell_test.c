// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of doorbell routing (host/doorbell.c): every refusal of a
 * ring, RT members that no dm-land doorbell reaches, the vector/trigger
 * eventfd rule, and where the module thinks it runs (host/acrn.c).
 * Delivery itself signals a real eventfd, which only userspace can make:
 * tests/host/e2e_host.c covers it.
 */
#include <kunit/test.h>
#include <asm/hypervisor.h>

#include "host_test.h"

static void ring_routing_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivh_peer *a, *b;
	const char *why;

	ivh_fixture_add(test, "dm:/d,2,1:2:3");
	a = ivh_att(fx, "dm:/d", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	b = ivh_att(fx, "dm:/d", 2, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));

	/* Nothing registered yet. */
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 2, 0), -ENXIO);
	/* Bad tuples. */
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 2, 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 2, U32_MAX),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 3, 2, 5), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 3, 5), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 64, 5),
			-ENOTCONN);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/e", 1, 2, 5), -ENOENT);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 1, 5), -ENXIO);
	KUNIT_EXPECT_EQ(test, b->db.vec[0].rings, 0);

	/* After detach nothing routes to or from b. */
	KUNIT_EXPECT_EQ(test, ivh_detach(b), 0);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 1, 2, 0), -ENOTCONN);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/d", 2, 1, 0), -ENOTCONN);

	ivh_peer_release(a);
	ivh_peer_release(b);
}

/*
 * A ring toward an RT member (higher severity than the Service VM, which
 * HSM's injection cannot reach) is refused with EHOSTUNREACH before
 * anything else is looked at; RT members may still ring others.
 */
static void ring_rt_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	struct ivh_region_spec spec = {
		.name = "dm:/rt", .size_mb = 2,
		.members = BIT_ULL(1) | BIT_ULL(2) | BIT_ULL(3),
		.rt_members = BIT_ULL(2),
	};
	struct ivshmem_host_region info;
	struct ivh_peer *a, *b;
	const char *why;

	KUNIT_ASSERT_EQ(test, ivh_region_add(&fx->host, &spec, &why), 0);
	a = ivh_att(fx, "dm:/rt", 1, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	b = ivh_att(fx, "dm:/rt", 2, &why);
	KUNIT_ASSERT_FALSE(test, IS_ERR(b));
	ivh_region_info(a->region, &info);
	KUNIT_EXPECT_EQ(test, info.rt_members, BIT_ULL(2));

	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/rt", 1, 2, 0),
			-EHOSTUNREACH);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/rt", 2, 2, 7),
			-EHOSTUNREACH);
	/* The RT VM rings VM 1: an ordinary ring (no vector: ENXIO). */
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/rt", 2, 1, 0), -ENXIO);
	/* Not attached, or a bad vector, still say so first. */
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/rt", 3, 2, 0),
			-ENOTCONN);
	KUNIT_EXPECT_EQ(test, ivh_ring(&fx->host, "dm:/rt", 1, 2, 8), -EINVAL);
	ivh_peer_release(a);
	ivh_peer_release(b);

	/* RT members must be members. */
	memcpy(spec.name, "dm:/rt2", 8);
	spec.rt_members = BIT_ULL(4);
	KUNIT_EXPECT_EQ(test, ivh_region_add(&fx->host, &spec, &why), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, strstr(why, "RT member"));
	KUNIT_EXPECT_NULL(test, ivh_region_get(&fx->host, "dm:/rt2"));
}

/* An eventfd is a vector's or a trigger's, never both (no ring loops). */
static void efd_claim_test(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;
	/* Only compared, never dereferenced. */
	struct eventfd_ctx *x = (struct eventfd_ctx *)&fx->host.lock;
	struct eventfd_ctx *y = (struct eventfd_ctx *)&fx->host.efd_lock;

	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, x, false), 0);
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, x, false), 0);
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, x, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, y, true), 0);
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, y, false), -EINVAL);
	ivh_efd_unclaim(&fx->host, x, false);
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, x, true), -EINVAL);
	ivh_efd_unclaim(&fx->host, x, false);
	/* No vector left on x: it may become a trigger. */
	KUNIT_EXPECT_EQ(test, ivh_efd_claim(&fx->host, x, true), 0);
	ivh_efd_unclaim(&fx->host, x, true);
	ivh_efd_unclaim(&fx->host, y, true);
	KUNIT_EXPECT_TRUE(test, list_empty(&fx->host.efds));
}

/* INFO's ACRN flag: only on ACRN's privileged Service VM. */
static void acrn_detect_test(struct kunit *test)
{
	/* QEMU here is not ACRN. */
	KUNIT_EXPECT_FALSE(test, hypervisor_is_type(X86_HYPER_ACRN));
	KUNIT_EXPECT_FALSE(test, ivh_acrn_service_vm());
}

static struct kunit_case ivh_doorbell_cases[] = {
	KUNIT_CASE(ring_routing_test),
	KUNIT_CASE(ring_rt_test),
	KUNIT_CASE(efd_claim_test),
	KUNIT_CASE(acrn_detect_test),
	{}
};

static struct kunit_suite ivh_doorbell_suite = {
	.name = "ivshmem_host_doorbell",
	.init = ivh_fixture_init,
	.exit = ivh_fixture_exit,
	.test_cases = ivh_doorbell_cases,
};

kunit_test_suite(ivh_doorbell_suite);
