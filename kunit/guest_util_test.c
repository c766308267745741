// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the guest driver's pure helpers (guest/util.h): range
 * checks for mmap, read/write clamping, ACRN region IDs and the info
 * ioctl's encoding.
 */
#include <kunit/test.h>
#include <linux/limits.h>
#include <linux/sizes.h>

#include "util.h"

static void range_ok_test(struct kunit *test)
{
	const u64 size = SZ_2M;

	KUNIT_EXPECT_TRUE(test, ivshmem_range_ok(0, size, size));
	KUNIT_EXPECT_TRUE(test, ivshmem_range_ok(size - PAGE_SIZE, PAGE_SIZE, size));
	KUNIT_EXPECT_TRUE(test, ivshmem_range_ok(PAGE_SIZE, PAGE_SIZE, size));
	/* One byte or one page past the end. */
	KUNIT_EXPECT_FALSE(test, ivshmem_range_ok(0, size + 1, size));
	KUNIT_EXPECT_FALSE(test, ivshmem_range_ok(size, PAGE_SIZE, size));
	KUNIT_EXPECT_FALSE(test, ivshmem_range_ok(size - PAGE_SIZE, 2 * PAGE_SIZE, size));
	/* Empty ranges and ranges that wrap around. */
	KUNIT_EXPECT_FALSE(test, ivshmem_range_ok(0, 0, size));
	KUNIT_EXPECT_FALSE(test, ivshmem_range_ok(U64_MAX, 2, size));
	KUNIT_EXPECT_FALSE(test, ivshmem_range_ok(PAGE_SIZE, U64_MAX, size));
	KUNIT_EXPECT_FALSE(test, ivshmem_range_ok(U64_MAX - PAGE_SIZE + 1,
						  PAGE_SIZE, U64_MAX));
}

static void rw_count_test(struct kunit *test)
{
	const u64 size = 4096;

	KUNIT_EXPECT_EQ(test, ivshmem_rw_count(0, 100, size), 100);
	KUNIT_EXPECT_EQ(test, ivshmem_rw_count(0, size, size), size);
	/* A request straddling the end is cut short. */
	KUNIT_EXPECT_EQ(test, ivshmem_rw_count(4000, 200, size), 96);
	KUNIT_EXPECT_EQ(test, ivshmem_rw_count(size - 1, SIZE_MAX, size), 1);
	/* At or past the end: nothing, like EOF. */
	KUNIT_EXPECT_EQ(test, ivshmem_rw_count(size, 1, size), 0);
	KUNIT_EXPECT_EQ(test, ivshmem_rw_count(LLONG_MAX, 1, size), 0);
	KUNIT_EXPECT_EQ(test, ivshmem_rw_count(0, 0, size), 0);
	KUNIT_EXPECT_EQ(test, ivshmem_rw_count(-1, 1, size), -EINVAL);
}

static void region_id_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, ivshmem_region_id(0x8086, 0x1000), 0x1000);
	KUNIT_EXPECT_EQ(test, ivshmem_region_id(0x8086, 0xffff), 0xffff);
	KUNIT_EXPECT_EQ(test, ivshmem_region_id(0x8086, 0), 0);
	/* QEMU's devices carry Red Hat's subsystem IDs. */
	KUNIT_EXPECT_EQ(test, ivshmem_region_id(0x1af4, 0x1100), -ENOENT);
	KUNIT_EXPECT_EQ(test, ivshmem_region_id(0, 0x1000), -ENOENT);
}

static void info_fill_test(struct kunit *test)
{
	struct ivshmem_info info;

	memset(&info, 0xa5, sizeof(info));
	ivshmem_info_fill(&info, SZ_16M, 0, 0, -ENOENT);
	KUNIT_EXPECT_EQ(test, info.abi_version, IVSHMEM_ABI_VERSION);
	KUNIT_EXPECT_EQ(test, info.size, (u64)SZ_16M);
	KUNIT_EXPECT_EQ(test, info.peer_id, 0);
	KUNIT_EXPECT_EQ(test, info.vectors, 0);
	KUNIT_EXPECT_EQ(test, info.flags, 0);
	KUNIT_EXPECT_EQ(test, info.region_id, 0);
	/* Every reserved byte is overwritten: nothing leaks to userspace. */
	KUNIT_EXPECT_EQ(test, info.reserved0, 0);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(info.reserved, 0, sizeof(info.reserved)));

	ivshmem_info_fill(&info, SZ_512M, 3, 8, 0x1234);
	KUNIT_EXPECT_EQ(test, info.flags, IVSHMEM_INFO_DOORBELL | IVSHMEM_INFO_ACRN);
	KUNIT_EXPECT_EQ(test, info.peer_id, 3);
	KUNIT_EXPECT_EQ(test, info.vectors, 8);
	KUNIT_EXPECT_EQ(test, info.region_id, 0x1234);

	/* ACRN dm-land: an ACRN device without MSI-X. */
	ivshmem_info_fill(&info, SZ_2M, 0, 0, 0x1000);
	KUNIT_EXPECT_EQ(test, info.flags, IVSHMEM_INFO_ACRN);
}

static void uapi_layout_test(struct kunit *test)
{
	/* The layout is ABI: a change here breaks compiled programs. */
	KUNIT_EXPECT_EQ(test, sizeof(struct ivshmem_info), 64);
	KUNIT_EXPECT_EQ(test, offsetof(struct ivshmem_info, size), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct ivshmem_info, reserved), 32);
	KUNIT_EXPECT_EQ(test, IVSHMEM_IOCTL_INFO, 0x8040b900);
}

static struct kunit_case ivshmem_guest_util_cases[] = {
	KUNIT_CASE(range_ok_test),
	KUNIT_CASE(rw_count_test),
	KUNIT_CASE(region_id_test),
	KUNIT_CASE(info_fill_test),
	KUNIT_CASE(uapi_layout_test),
	{}
};

static struct kunit_suite ivshmem_guest_util_suite = {
	.name = "ivshmem_guest_util",
	.test_cases = ivshmem_guest_util_cases,
};
kunit_test_suite(ivshmem_guest_util_suite);

MODULE_DESCRIPTION("KUnit tests for the ivshmem guest driver");
MODULE_LICENSE("GPL");
