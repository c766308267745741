/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared fixture of the host module's KUnit suites: a registry of its
 * own whose hypercall table is ACRN's implementation with the vmcall
 * replaced by a recorder of the hypercall ID, first parameter and the
 * bytes of the argument structure found at the physical address passed.
 */
#ifndef IVSHMEM_HOST_TEST_H
#define IVSHMEM_HOST_TEST_H

#include <kunit/test.h>
#include <asm/io.h>

#include "../host/ivshmem_host.h"

#define IVH_REC_MAX	8
#define IVH_REC_BYTES	192

struct ivh_rec {
	unsigned int n;
	long ret;
	unsigned long id[IVH_REC_MAX];
	unsigned long p1[IVH_REC_MAX];
	size_t len[IVH_REC_MAX];
	u8 arg[IVH_REC_MAX][IVH_REC_BYTES];
};

struct ivh_fixture {
	struct ivh_hc hc;
	struct ivh_rec rec;
	struct ivh_host host;
};

/* The argument size ACRN reads for each hypercall ID (its ABI). */
static inline size_t ivh_rec_arg_len(unsigned long id)
{
	switch (id) {
	case 0x80000023UL:
		return 16;	/* struct acrn_msi_entry */
	case 0x80000059UL:
	case 0x8000005AUL:
		return 192;	/* struct acrn_vdev */
	default:
		return 0;
	}
}

static inline long ivh_rec_raw(struct ivh_hc *hc, unsigned long id,
			       unsigned long p1, unsigned long p2)
{
	struct ivh_rec *rec = hc->priv;
	size_t len = ivh_rec_arg_len(id);

	if (rec->n < IVH_REC_MAX) {
		rec->id[rec->n] = id;
		rec->p1[rec->n] = p1;
		rec->len[rec->n] = len;
		if (len)
			memcpy(rec->arg[rec->n], phys_to_virt(p2), len);
	}
	rec->n++;
	return rec->ret;
}

static inline int ivh_fixture_init(struct kunit *test)
{
	struct ivh_fixture *fx;

	fx = kunit_kzalloc(test, sizeof(*fx), GFP_KERNEL);
	if (!fx)
		return -ENOMEM;
	fx->hc.ops = &ivh_acrn_hc_ops;
	fx->hc.raw = ivh_rec_raw;
	fx->hc.priv = &fx->rec;
	test->priv = fx;
	return ivh_host_init(&fx->host, &fx->hc);
}

static inline void ivh_fixture_exit(struct kunit *test)
{
	struct ivh_fixture *fx = test->priv;

	ivh_host_destroy(&fx->host);
}

/* Byte-exact comparison that names the first differing offset. */
#define IVH_EXPECT_BYTES(test, got, want, len)				\
	do {								\
		const u8 *__g = (const u8 *)(got);			\
		const u8 *__w = (const u8 *)(want);			\
		size_t __n = (len), __i;				\
									\
		for (__i = 0; __i < __n; __i++)				\
			if (__g[__i] != __w[__i])			\
				break;					\
		KUNIT_EXPECT_EQ_MSG(test, __i, __n,			\
				    "byte %zu is %#04x, ABI wants %#04x", \
				    __i, __i < __n ? __g[__i] : 0,	\
				    __i < __n ? __w[__i] : 0);		\
	} while (0)

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

/* Attach a Service-VM peer (no hypercall VM ID). */
static inline struct ivh_peer *ivh_att(struct ivh_fixture *fx,
				       const char *name, u32 vmid,
				       const char **why)
{
	return ivh_attach(&fx->host, name, vmid, IVH_HC_VMID_NONE, why);
}

#endif /* IVSHMEM_HOST_TEST_H */
