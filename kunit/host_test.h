/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared fixture of the host module's KUnit suites: a registry of its
 * own.
 */
#ifndef IVSHMEM_HOST_TEST_H
#define IVSHMEM_HOST_TEST_H

#include <kunit/test.h>

#include "../host/ivshmem_host_drv.h"

struct ivh_fixture {
	struct ivh_host host;
};

static inline int ivh_fixture_init(struct kunit *test)
{
	struct ivh_fixture *fx;

	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	test->priv = fx;
	return ivh_host_init(&fx->host, false);
}

static inline void ivh_fixture_exit(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;

	ivh_host_destroy(&fx->host);
}

/* Add a region from the syntax, failing the test if it does not parse. */
static inline void ivh_fixture_add(struct kunit *test, const char *entry)
{
	struct ivh_fixture *fx = test->priv;
	struct ivh_region_spec spec;
	const char *why = NULL;

	KUNIT_ASSERT_EQ(test, ivh_parse_region(entry, strlen(entry), &spec,
					       &why), 0);
	KUNIT_ASSERT_EQ(test, ivh_region_add(&fx->host, &spec, &why), 0);
}

/* Attach VM @vmid to the region @name. */
static inline struct ivh_peer *ivh_att(struct ivh_fixture *fx,
				       const char *name, u32 vmid,
				       const char **why)
{
	return ivh_attach(&fx->host, name, vmid, why);
}

#endif /* IVSHMEM_HOST_TEST_H */
