// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the host module's region syntax (host/config.c): every
 * rule, accepted and refused, with its errno and the rule it names.
 */
#include <kunit/test.h>
#include <linux/string.h>

#include "../host/ivshmem_host_drv.h"

struct ivh_cfg_case {
	const char *in;
	int err;
	const char *why;	/* substring of the reason, for failures */
	const char *name;	/* for successes */
	u32 size_mb;
	u64 members;
	bool hv;
	int region_id;		/* -1: none given */
};

static const struct ivh_cfg_case ivh_cfg_cases[] = {
	/* The seeds' examples, with and without blanks. */
	{ "hv:/shm_region_0,2,0:2", 0, NULL, "hv:/shm_region_0", 2,
	  BIT_ULL(0) | BIT_ULL(2), true, -1 },
	{ "hv:/shm_region_0, 2, 0:2", 0, NULL, "hv:/shm_region_0", 2,
	  BIT_ULL(0) | BIT_ULL(2), true, -1 },
	{ "dm:/test,2,1:2", 0, NULL, "dm:/test", 2,
	  BIT_ULL(1) | BIT_ULL(2), false, -1 },
	{ " dm:/a_B_c_9 , 512 , 1 : 2 : 63 ", 0, NULL, "dm:/a_B_c_9", 512,
	  BIT_ULL(1) | BIT_ULL(2) | BIT_ULL(63), false, -1 },
	/* 27 characters after the prefix: the longest name. */
	{ "dm:/123456789012345678901234567,4,0:1", 0, NULL,
	  "dm:/123456789012345678901234567", 4, BIT_ULL(0) | BIT_ULL(1), false,
	  -1 },
	/* ACRN 3.3's region ID, as acrn-dm's fourth field. */
	{ "dm:/shm_region_1,2,1:2,3", 0, NULL, "dm:/shm_region_1", 2,
	  BIT_ULL(1) | BIT_ULL(2), false, 3 },
	{ "hv:/r , 2 , 1:2 , 0", 0, NULL, "hv:/r", 2,
	  BIT_ULL(1) | BIT_ULL(2), true, 0 },
	{ "hv:/r,2,1:2,65535", 0, NULL, "hv:/r", 2,
	  BIT_ULL(1) | BIT_ULL(2), true, 65535 },
	{ "hv:/r,2,1:2,65536", -ERANGE, "above 65535" },
	/* Past U32_MAX, of any length: out of range, not malformed. */
	{ "hv:/r,2,1:2,4294967296", -ERANGE, "above 65535" },
	{ "hv:/r,2,1:2,0000000000000000000000000065536", -ERANGE,
	  "above 65535" },
	{ "hv:/r,2,1:2,99999999999999999999999999", -ERANGE, "above 65535" },
	{ "hv:/r,2,1:2,00000000000000000000000000065535", 0, NULL, "hv:/r", 2,
	  BIT_ULL(1) | BIT_ULL(2), true, 65535 },
	{ "hv:/r,2,1:2,", -EINVAL, "region ID is not" },
	{ "hv:/r,2,1:2,0x3", -EINVAL, "region ID is not" },
	{ "hv:/r,2,1:2,-1", -EINVAL, "region ID is not" },
	{ "hv:/r,2,1:2,3,4", -EINVAL, "name,size_mb" },
	/* Name rules. */
	{ "shm_region_0,2,0:2", -EINVAL, "hv:/ or dm:/" },
	{ "HV:/a,2,0:2", -EINVAL, "hv:/ or dm:/" },
	{ "hv:a,2,0:2", -EINVAL, "hv:/ or dm:/" },
	{ "hv:/,2,0:2", -EINVAL, "empty" },
	{ "hv:/a b,2,0:2", -EINVAL, "letters" },
	{ "dm:/a/b,2,0:2", -EINVAL, "letters" },
	/* ACRN's \w{1,27}: no '-' or '.', ASCII only. */
	{ "dm:/a-b,2,0:2", -EINVAL, "letters" },
	{ "dm:/a.b,2,0:2", -EINVAL, "letters" },
	{ "dm:/caf\xe9,2,0:2", -EINVAL, "letters" },
	{ "dm:/1234567890123456789012345678,4,0:1", -ENAMETOOLONG,
	  "27 characters" },
	/* Size rules. */
	{ "hv:/a,3,0:2", -EINVAL, "power of two" },
	{ "hv:/a,6,0:2", -EINVAL, "power of two" },
	{ "hv:/a,1024,0:2", -ERANGE, "2 to 512" },
	{ "hv:/a,1,0:2", -ERANGE, "2 to 512" },
	{ "hv:/a,0,0:2", -ERANGE, "2 to 512" },
	{ "hv:/a,-2,0:2", -EINVAL, "decimal" },
	{ "hv:/a,0x2,0:2", -EINVAL, "decimal" },
	{ "hv:/a,,0:2", -EINVAL, "decimal" },
	{ "hv:/a,99999999999,0:2", -ERANGE, "2 to 512" },
	{ "hv:/a,4294967296,0:2", -ERANGE, "2 to 512" },
	{ "hv:/a,4294967298,0:2", -ERANGE, "2 to 512" },
	/* Member rules. */
	{ "hv:/a,2,0", -EINVAL, "two member" },
	{ "hv:/a,2,0:0", -EINVAL, "twice" },
	{ "hv:/a,2,0:64", -ERANGE, "above 63" },
	{ "hv:/a,2,0:4294967296", -ERANGE, "above 63" },
	{ "hv:/a,2,0:x", -EINVAL, "decimal" },
	{ "hv:/a,2,0:", -EINVAL, "decimal" },
	{ "hv:/a,2,", -EINVAL, "decimal" },
	/* Shape. */
	{ "hv:/a,2", -EINVAL, "name,size_mb" },
	{ "hv:/a", -EINVAL, "name,size_mb" },
	{ "", -EINVAL, "name,size_mb" },
};

static void ivh_cfg_case_desc(const struct ivh_cfg_case *c, char *desc)
{
	/* Escaped: one entry holds a byte that is not ASCII. */
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "\"%*pE\"", (int)strlen(c->in),
		 c->in);
}

KUNIT_ARRAY_PARAM(ivh_cfg, ivh_cfg_cases, ivh_cfg_case_desc);

static void parse_region_test(struct kunit *test)
{
	const struct ivh_cfg_case *c = test->param_value;
	struct ivh_region_spec spec;
	const char *why = NULL;
	int ret;

	ret = ivh_parse_region(c->in, strlen(c->in), &spec, &why);
	KUNIT_ASSERT_EQ(test, ret, c->err);
	if (c->err) {
		KUNIT_ASSERT_NOT_NULL(test, why);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(why, c->why),
					  "reason \"%s\" lacks \"%s\"", why,
					  c->why);
		return;
	}
	KUNIT_EXPECT_STREQ(test, spec.name, c->name);
	KUNIT_EXPECT_EQ(test, spec.size_mb, c->size_mb);
	KUNIT_EXPECT_EQ(test, spec.members, c->members);
	KUNIT_EXPECT_EQ(test, spec.hv, c->hv);
	KUNIT_EXPECT_EQ(test, spec.has_id, c->region_id >= 0);
	if (c->region_id >= 0)
		KUNIT_EXPECT_EQ(test, spec.region_id, c->region_id);
	/* The rest of the name array is zero: it goes to acrn_vdev.args. */
	KUNIT_EXPECT_NULL(test, memchr_inv(spec.name + strlen(spec.name), 0,
					   sizeof(spec.name) -
					   strlen(spec.name)));
}

/* The entry length bounds the parser: nothing past it is read. */
static void parse_region_len_test(struct kunit *test)
{
	const char *s = "dm:/a,2,1:2:3";
	struct ivh_region_spec spec;
	const char *why;

	KUNIT_ASSERT_EQ(test, ivh_parse_region(s, strlen("dm:/a,2,1:2"), &spec,
					       &why), 0);
	KUNIT_EXPECT_EQ(test, spec.members, BIT_ULL(1) | BIT_ULL(2));
	KUNIT_EXPECT_EQ(test, ivh_parse_region(s, 4, &spec, &why), -EINVAL);
}

static void spec_check_test(struct kunit *test)
{
	struct ivh_region_spec spec = {
		.name = "dm:/x", .size_mb = 64, .members = 0x3,
	};
	const char *why;

	KUNIT_EXPECT_EQ(test, ivh_spec_check(&spec, &why), 0);
	KUNIT_EXPECT_FALSE(test, spec.hv);
	spec.members = BIT_ULL(63);
	KUNIT_EXPECT_EQ(test, ivh_spec_check(&spec, &why), -EINVAL);
	spec.members = 0;
	KUNIT_EXPECT_EQ(test, ivh_spec_check(&spec, &why), -EINVAL);
	spec.members = 0x3;
	spec.size_mb = 768;
	KUNIT_EXPECT_EQ(test, ivh_spec_check(&spec, &why), -ERANGE);
	spec.size_mb = 2;
	memcpy(spec.name, "xx:/x", 6);
	KUNIT_EXPECT_EQ(test, ivh_spec_check(&spec, &why), -EINVAL);
	memset(spec.name, 'a', sizeof(spec.name));
	memcpy(spec.name, "hv:/", 4);
	KUNIT_EXPECT_EQ(test, ivh_spec_check(&spec, &why), -ENAMETOOLONG);
}

static void parse_list_test(struct kunit *test)
{
	struct ivh_region_spec specs[4];
	struct ivh_config_error err = {};
	unsigned int nr = 99;

	KUNIT_EXPECT_EQ(test, ivh_parse_regions(NULL, specs, 4, &nr, &err), 0);
	KUNIT_EXPECT_EQ(test, nr, 0);
	KUNIT_EXPECT_EQ(test, ivh_parse_regions("", specs, 4, &nr, &err), 0);
	KUNIT_EXPECT_EQ(test, nr, 0);
	KUNIT_EXPECT_EQ(test, ivh_parse_regions(" ; ;", specs, 4, &nr, &err), 0);
	KUNIT_EXPECT_EQ(test, nr, 0);

	KUNIT_ASSERT_EQ(test, ivh_parse_regions("hv:/shm_region_0,2,0:2;dm:/b,4,1:2;",
						specs, 4, &nr, &err), 0);
	KUNIT_ASSERT_EQ(test, nr, 2);
	KUNIT_EXPECT_STREQ(test, specs[0].name, "hv:/shm_region_0");
	KUNIT_EXPECT_TRUE(test, specs[0].hv);
	KUNIT_EXPECT_STREQ(test, specs[1].name, "dm:/b");
	KUNIT_EXPECT_EQ(test, specs[1].size_mb, 4);

	/* The failing entry is named; empty entries count. */
	KUNIT_EXPECT_EQ(test, ivh_parse_regions("dm:/a,2,0:1;;dm:/b,3,0:1",
						specs, 4, &nr, &err), -EINVAL);
	KUNIT_EXPECT_EQ(test, err.entry, 2);
	KUNIT_EXPECT_NOT_NULL(test, strstr(err.why, "power of two"));

	KUNIT_EXPECT_EQ(test, ivh_parse_regions("dm:/a,2,0:1;hv:/a,2,0:1;dm:/a,4,2:3",
						specs, 4, &nr, &err), -EEXIST);
	KUNIT_EXPECT_EQ(test, err.entry, 2);
	KUNIT_EXPECT_NOT_NULL(test, strstr(err.why, "twice"));

	KUNIT_EXPECT_EQ(test, ivh_parse_regions("dm:/a,2,0:1;dm:/b,2,0:1",
						specs, 1, &nr, &err), -ENOSPC);
	KUNIT_EXPECT_EQ(test, err.entry, 1);
}

/* Entries with a region ID come first, each group in list order. */
static void parse_list_order_test(struct kunit *test)
{
	static const char * const want[] = { "dm:/b", "dm:/d", "dm:/a",
					     "dm:/c" };
	struct ivh_region_spec specs[4];
	struct ivh_config_error err = {};
	static const char list[] =
		"dm:/a,2,1:2;dm:/b,2,1:2,0;dm:/c,2,1:2;dm:/d,2,1:2,7";
	unsigned int nr = 0, i;

	KUNIT_ASSERT_EQ(test, ivh_parse_regions(list, specs, 4, &nr, &err), 0);
	KUNIT_ASSERT_EQ(test, nr, 4);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_STREQ(test, specs[i].name, want[i]);
	KUNIT_EXPECT_TRUE(test, specs[0].has_id);
	KUNIT_EXPECT_EQ(test, specs[0].region_id, 0);
	KUNIT_EXPECT_EQ(test, specs[1].region_id, 7);
	KUNIT_EXPECT_FALSE(test, specs[2].has_id);
	KUNIT_EXPECT_FALSE(test, specs[3].has_id);
	/* A failing entry is still counted as written. */
	KUNIT_EXPECT_EQ(test, ivh_parse_regions("dm:/a,2,1:2;dm:/b,2,1:2,0;dm:/c,3,1:2",
						specs, 4, &nr, &err), -EINVAL);
	KUNIT_EXPECT_EQ(test, err.entry, 2);
}

static struct kunit_case ivh_config_cases[] = {
	KUNIT_CASE_PARAM(parse_region_test, ivh_cfg_gen_params),
	KUNIT_CASE(parse_region_len_test),
	KUNIT_CASE(spec_check_test),
	KUNIT_CASE(parse_list_test),
	KUNIT_CASE(parse_list_order_test),
	{}
};

static struct kunit_suite ivh_config_suite = {
	.name = "ivshmem_host_config",
	.test_cases = ivh_config_cases,
};

kunit_test_suite(ivh_config_suite);
