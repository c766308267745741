// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the guest driver's pure helpers (guest/util.h): range
 * checks for mmap, read/write clamping, ACRN region IDs, the info ioctl's
 * encoding, doorbell values, vector masks and per-file interrupt
 * accounting (including the stale snapshot that let two threads of one
 * file both report one interrupt), IVSHMEM_IOCTL_SET_SEEN's check, time
 * namespace deadlines and the table of interrupted waits.
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
	ivshmem_info_fill(&info, SZ_16M, 0, 0, 0, false, -ENOENT, false);
	KUNIT_EXPECT_EQ(test, info.size, (u64)SZ_16M);
	KUNIT_EXPECT_EQ(test, info.peer_id, 0);
	KUNIT_EXPECT_EQ(test, info.vectors, 0);
	KUNIT_EXPECT_EQ(test, info.flags, 0);
	KUNIT_EXPECT_EQ(test, info.region_id, 0);
	KUNIT_EXPECT_EQ(test, info.rx_mask, 0);
	/* Every reserved byte is overwritten: nothing leaks to userspace. */
	KUNIT_EXPECT_EQ(test, info.reserved0, 0);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(info.reserved, 0, sizeof(info.reserved)));

	ivshmem_info_fill(&info, SZ_512M, 3, 8, 0xff, true, 0x1234, true);
	KUNIT_EXPECT_EQ(test, info.flags, IVSHMEM_INFO_ACRN |
			IVSHMEM_INFO_MAP_WB | IVSHMEM_INFO_RING |
			IVSHMEM_INFO_RECEIVE);
	KUNIT_EXPECT_EQ(test, info.peer_id, 3);
	KUNIT_EXPECT_EQ(test, info.vectors, 8);
	KUNIT_EXPECT_EQ(test, info.rx_mask, 0xffU);
	KUNIT_EXPECT_EQ(test, info.region_id, 0x1234);

	/* ACRN dm-land: an ACRN device without MSI-X. */
	ivshmem_info_fill(&info, SZ_2M, 0, 0, 0, false, 0x1000, false);
	KUNIT_EXPECT_EQ(test, info.flags, IVSHMEM_INFO_ACRN);

	/* MSI-X capability but no vector (pci=nomsi): rings, no receive. */
	ivshmem_info_fill(&info, SZ_2M, 1, 0, 0, true, -ENOENT, false);
	KUNIT_EXPECT_EQ(test, info.flags, IVSHMEM_INFO_RING);

	/* One vector's handler failed: the others still receive. */
	ivshmem_info_fill(&info, SZ_2M, 1, 8, 0xf7, true, -ENOENT, false);
	KUNIT_EXPECT_EQ(test, info.flags, IVSHMEM_INFO_RING | IVSHMEM_INFO_RECEIVE);
	KUNIT_EXPECT_EQ(test, info.rx_mask, 0xf7U);
}

static void doorbell_value_test(struct kunit *test)
{
	struct ivshmem_ring ring = { .peer = 3, .vector = 5 };
	u32 val = 0xdeadbeef;

	KUNIT_EXPECT_EQ(test, ivshmem_doorbell_value(&ring, &val), 0);
	KUNIT_EXPECT_EQ(test, val, 0x00030005U);

	ring = (struct ivshmem_ring) { .peer = 0xffff, .vector = 7 };
	KUNIT_EXPECT_EQ(test, ivshmem_doorbell_value(&ring, &val), 0);
	KUNIT_EXPECT_EQ(test, val, 0xffff0007U);

	/* Peer 0 is a real peer. */
	ring = (struct ivshmem_ring) { .peer = 0, .vector = 0 };
	KUNIT_EXPECT_EQ(test, ivshmem_doorbell_value(&ring, &val), 0);
	KUNIT_EXPECT_EQ(test, val, 0U);

	/* Refused requests leave the output alone. */
	val = 0x12345678;
	ring = (struct ivshmem_ring) { .peer = 0x10000, .vector = 0 };
	KUNIT_EXPECT_EQ(test, ivshmem_doorbell_value(&ring, &val), -EINVAL);
	ring = (struct ivshmem_ring) { .peer = 1, .vector = 8 };
	KUNIT_EXPECT_EQ(test, ivshmem_doorbell_value(&ring, &val), -EINVAL);
	ring = (struct ivshmem_ring) { .peer = 1, .vector = U32_MAX };
	KUNIT_EXPECT_EQ(test, ivshmem_doorbell_value(&ring, &val), -EINVAL);
	ring = (struct ivshmem_ring) { .peer = 1, .flags = 1 };
	KUNIT_EXPECT_EQ(test, ivshmem_doorbell_value(&ring, &val), -EINVAL);
	ring = (struct ivshmem_ring) { .peer = 1, .reserved = 1 };
	KUNIT_EXPECT_EQ(test, ivshmem_doorbell_value(&ring, &val), -EINVAL);
	KUNIT_EXPECT_EQ(test, val, 0x12345678U);
}

static void rx_mask_ok_test(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, ivshmem_rx_mask_ok(0x1, 0x1));
	KUNIT_EXPECT_TRUE(test, ivshmem_rx_mask_ok(0xff, 0xff));
	KUNIT_EXPECT_TRUE(test, ivshmem_rx_mask_ok(0x80, 0xff));
	KUNIT_EXPECT_FALSE(test, ivshmem_rx_mask_ok(0, 0xff));
	KUNIT_EXPECT_FALSE(test, ivshmem_rx_mask_ok(0x2, 0x1));
	KUNIT_EXPECT_FALSE(test, ivshmem_rx_mask_ok(0x100, 0xff));
	KUNIT_EXPECT_FALSE(test, ivshmem_rx_mask_ok(0x80000000, 0xff));
	KUNIT_EXPECT_FALSE(test, ivshmem_rx_mask_ok(0x1, 0));
	/* A vector whose handler could not be installed: a hole. */
	KUNIT_EXPECT_TRUE(test, ivshmem_rx_mask_ok(0x3, 0xf7));
	KUNIT_EXPECT_FALSE(test, ivshmem_rx_mask_ok(0x8, 0xf7));
	KUNIT_EXPECT_FALSE(test, ivshmem_rx_mask_ok(0xff, 0xf7));
}

static void fired_test(struct kunit *test)
{
	u64 count[IVSHMEM_MAX_VECTORS] = { 1, 0, 5, 0, 0, 0, 0, 9 };
	u64 seen[IVSHMEM_MAX_VECTORS] = { 1, 0, 4, 0, 0, 0, 0, 0 };

	KUNIT_EXPECT_EQ(test, ivshmem_fired(count, seen, 0xff), 0x84U);
	KUNIT_EXPECT_EQ(test, ivshmem_fired(count, seen, 0x04), 0x04U);
	KUNIT_EXPECT_EQ(test, ivshmem_fired(count, seen, 0x7b), 0U);
	/* A snapshot older than seen has nothing new. */
	seen[2] = 6;
	KUNIT_EXPECT_EQ(test, ivshmem_fired(count, seen, 0x04), 0U);
	count[2] = 7;
	KUNIT_EXPECT_EQ(test, ivshmem_fired(count, seen, 0x04), 0x04U);
}

/*
 * Issue 9 (1): thread B snapshots count 5; an interrupt makes it 6;
 * thread A consumes it (seen 6); then B, with its old snapshot, must
 * neither report vector 0 nor move seen back to 5, which made the next
 * wait report the same interrupt again.
 */
static void consume_stale_test(struct kunit *test)
{
	u64 old[IVSHMEM_MAX_VECTORS] = { 5 };
	u64 now[IVSHMEM_MAX_VECTORS] = { 6 };
	u64 seen[IVSHMEM_MAX_VECTORS] = { 5 };

	KUNIT_EXPECT_EQ(test, ivshmem_consume(now, seen, 0x1), 0x1U);
	KUNIT_EXPECT_EQ(test, seen[0], 6ULL);
	KUNIT_EXPECT_EQ(test, ivshmem_consume(old, seen, 0x1), 0U);
	KUNIT_EXPECT_EQ(test, seen[0], 6ULL);
	KUNIT_EXPECT_EQ(test, ivshmem_consume(now, seen, 0x1), 0U);

	/* Only the vectors asked for are consumed. */
	now[0] = 7;
	now[3] = 2;
	KUNIT_EXPECT_EQ(test, ivshmem_consume(now, seen, 0x8), 0x8U);
	KUNIT_EXPECT_EQ(test, seen[0], 6ULL);
	KUNIT_EXPECT_EQ(test, seen[3], 2ULL);
	KUNIT_EXPECT_EQ(test, ivshmem_consume(now, seen, 0xff), 0x1U);
	KUNIT_EXPECT_EQ(test, seen[0], 7ULL);
}

/* SET_SEEN: a count above the current one would silence the file. */
static void seen_ok_test(struct kunit *test)
{
	u64 count[IVSHMEM_MAX_VECTORS] = { 5, 0, 7 };
	u64 want[IVSHMEM_MAX_VECTORS] = { 5, 0, 0 };

	KUNIT_EXPECT_TRUE(test, ivshmem_seen_ok(count, want, 0xff));
	want[1] = 1;
	KUNIT_EXPECT_FALSE(test, ivshmem_seen_ok(count, want, 0xff));
	KUNIT_EXPECT_FALSE(test, ivshmem_seen_ok(count, want, 0x2));
	/* Only the vectors of the mask are looked at. */
	KUNIT_EXPECT_TRUE(test, ivshmem_seen_ok(count, want, 0x5));
	want[0] = 6;
	KUNIT_EXPECT_FALSE(test, ivshmem_seen_ok(count, want, 0x1));
	want[0] = U64_MAX;
	count[0] = U64_MAX;
	KUNIT_EXPECT_TRUE(test, ivshmem_seen_ok(count, want, 0x1));
}

/* A WAIT deadline in a time namespace: user time is host time plus the offset. */
static void abs_to_host_test(struct kunit *test)
{
	const s64 day = 86400LL * NSEC_PER_SEC;

	KUNIT_EXPECT_EQ(test, ivshmem_abs_to_host(1000, 0), 1000);
	KUNIT_EXPECT_EQ(test, ivshmem_abs_to_host(day + 5, day), 5);
	/* Before the namespace's offset: already past. */
	KUNIT_EXPECT_EQ(test, ivshmem_abs_to_host(5, day), 0);
	KUNIT_EXPECT_EQ(test, ivshmem_abs_to_host(day, day), 0);
	/* A negative offset (a namespace behind the host). */
	KUNIT_EXPECT_EQ(test, ivshmem_abs_to_host(5, -day), day + 5);
	/* Beyond ktime_t: never, not a wrap into the past. */
	KUNIT_EXPECT_EQ(test, ivshmem_abs_to_host(U64_MAX, 0), KTIME_MAX);
	KUNIT_EXPECT_EQ(test, ivshmem_abs_to_host(U64_MAX, -day), KTIME_MAX);
	KUNIT_EXPECT_EQ(test, ivshmem_abs_to_host(KTIME_MAX - 1, -day),
			KTIME_MAX);
	KUNIT_EXPECT_EQ(test, ivshmem_abs_to_host(U64_MAX, day),
			KTIME_MAX - day);
}

static void uapi_layout_test(struct kunit *test)
{
	/* The layout is ABI: a change here breaks compiled programs. */
	KUNIT_EXPECT_EQ(test, sizeof(struct ivshmem_info), 128);
	KUNIT_EXPECT_EQ(test, offsetof(struct ivshmem_info, size), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct ivshmem_info, irq_count), 32);
	KUNIT_EXPECT_EQ(test, offsetof(struct ivshmem_info, rx_mask), 20);
	KUNIT_EXPECT_EQ(test, offsetof(struct ivshmem_info, reserved), 96);
	KUNIT_EXPECT_EQ(test, offsetof(struct ivshmem_eventfd, fd), 4);
	KUNIT_EXPECT_EQ(test, sizeof(struct ivshmem_seen), 72);
	KUNIT_EXPECT_EQ(test, offsetof(struct ivshmem_seen, count), 8);
	KUNIT_EXPECT_EQ(test, offsetof(struct ivshmem_wait, deadline_ns), 8);
	KUNIT_EXPECT_EQ(test, IVSHMEM_IOCTL_INFO, 0x8080b900);
	KUNIT_EXPECT_EQ(test, IVSHMEM_IOCTL_SET_EVENTFD, 0x4010b901);
	KUNIT_EXPECT_EQ(test, IVSHMEM_IOCTL_RING, 0x4010b902);
	KUNIT_EXPECT_EQ(test, IVSHMEM_IOCTL_WAIT, 0xc018b903);
	KUNIT_EXPECT_EQ(test, IVSHMEM_IOCTL_SET_SEEN, 0x4048b904);
}

static struct kunit_case ivshmem_guest_util_cases[] = {
	KUNIT_CASE(range_ok_test),
	KUNIT_CASE(rw_count_test),
	KUNIT_CASE(region_id_test),
	KUNIT_CASE(info_fill_test),
	KUNIT_CASE(doorbell_value_test),
	KUNIT_CASE(rx_mask_ok_test),
	KUNIT_CASE(fired_test),
	KUNIT_CASE(consume_stale_test),
	KUNIT_CASE(seen_ok_test),
	KUNIT_CASE(abs_to_host_test),
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
