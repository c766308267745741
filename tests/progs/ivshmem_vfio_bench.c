// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem_vfio_bench - the doorbell round trip of ivshmem_doorbell's bench
 * and pingpong modes, done the way a user of vfio-pci would do it
 * (tests/progs/vfio_util.h), for make bench (tests/bench.py):
 *
 *   ivshmem_vfio_bench doorbell BDF_A BDF_B N LABEL [mmap]
 *	two devices of one guest bound to vfio-pci, one thread each; A rings
 *	B's vector 0 by writing B's peer ID to A's Doorbell register, B's
 *	thread waits on its MSI-X eventfd (poll + read, as ivshmem_doorbell
 *	does) and rings A back. The register is written with pwrite() on the
 *	device fd, or through a mapping of BAR0 with "mmap" (when vfio-pci
 *	allows it). Prints
 *	  bench [LABEL] vfio-pwrite round trip (two peers, one guest): n=N
 *	      p50=X us p99=Y us max=Z us
 *	(vfio-mmap with "mmap").
 *   ivshmem_vfio_bench pingpong ping|pong BDF N
 *	the same across two guests on one server; peers meet on a board 2 MiB
 *	into BAR2. Ping prints "bench two-guest vfio round trip: ...".
 *
 *   ivshmem_vfio_bench ringcost DEV|vfio:BDF[:mmap] N LABEL
 *	the sending side alone: N doorbell writes to peer 0xffff, which
 *	no device has (QEMU drops them), through /dev/ivshmemN's
 *	IVSHMEM_IOCTL_RING or vfio-pci's pwrite()/BAR0 mapping; prints
 *	  bench [LABEL] ring cost KIND: n=N p50=X us p99=Y us max=Z us
 *
 * BENCH_FIFO=PRIO runs the threads at SCHED_FIFO PRIO. Exits non-zero if
 * the device cannot be set up or an interrupt is lost.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <linux/ivshmem.h>

#include "vfio_util.h"

#define EVENT_MS	20000
#define BOARD_OFF	(2u << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t efd_wait(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t n = 0;

	if (poll(&p, 1, ms) == 1 && read(efd, &n, sizeof(n)) != sizeof(n))
		n = 0;
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_lat(const char *what, uint64_t *lat, int n)
{
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("bench %s: n=%d p50=%.1f us p99=%.1f us max=%.1f us\n", what, n,
	       lat[n / 2] / 1000.0, lat[n * 99 / 100] / 1000.0,
	       lat[n - 1] / 1000.0);
}

static void set_fifo(void)
{
	struct sched_param sp;

	if (!getenv("BENCH_FIFO"))
		return;
	sp.sched_priority = atoi(getenv("BENCH_FIFO"));
	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		perror("sched_setscheduler(SCHED_FIFO)");
		exit(1);
	}
}

struct side {
	struct vdev *me, *peer;
	int n, lost, starter;
	uint64_t *lat;
};

static void *side_thread(void *arg)
{
	struct side *s = arg;
	int i;

	for (i = 0; i < s->n; i++) {
		uint64_t t0 = now_ns();

		if (s->starter && vdev_ring(s->me, s->peer->peer, 0))
			s->lost++;
		if (!efd_wait(s->me->efd[0], EVENT_MS)) {
			s->lost++;
			continue;
		}
		if (!s->starter) {
			if (vdev_ring(s->me, s->peer->peer, 0))
				s->lost++;
		} else {
			s->lat[i] = now_ns() - t0;
		}
	}
	return NULL;
}

static int cmd_doorbell(const char *ba, const char *bb, int n,
			const char *label, int use_mmap)
{
	struct vdev a, b;
	struct side sa, sb;
	pthread_t ta, tb;
	uint64_t *lat = calloc(n, sizeof(*lat));
	char what[160];

	set_fifo();
	if (vdev_open(&a, ba, use_mmap) || vdev_open(&b, bb, use_mmap) ||
	    vdev_irqs(&a, 1) || vdev_irqs(&b, 1))
		return 1;
	if (use_mmap && (!a.regs || !b.regs)) {
		printf("bench [%s] vfio-mmap: BAR0 not mappable (flags 0x%x), skipped\n",
		       label, a.bar0.flags);
		return 0;
	}
	sa = (struct side){ .me = &a, .peer = &b, .n = n, .lat = lat,
			    .starter = 1 };
	sb = (struct side){ .me = &b, .peer = &a, .n = n };
	pthread_create(&tb, NULL, side_thread, &sb);
	usleep(10000);
	pthread_create(&ta, NULL, side_thread, &sa);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	if (sa.lost || sb.lost) {
		printf("bench [%s] vfio: %d of %d round trips lost\n", label,
		       sa.lost + sb.lost, n);
		return 1;
	}
	snprintf(what, sizeof(what),
		 "[%s] vfio-%s round trip (two peers, one guest)", label,
		 use_mmap ? "mmap" : "pwrite");
	print_lat(what, lat, n);
	return 0;
}

struct board {
	volatile uint32_t ping_peer, pong_peer, ping_ready, pong_ready;
	volatile uint64_t seq, reply;
};

static int wait_flag(volatile uint32_t *f, int secs)
{
	uint64_t end = now_ns() + secs * 1000000000ull;

	while (!*f) {
		if (now_ns() > end)
			return -1;
		usleep(1000);
	}
	return 0;
}

static int cmd_pingpong(const char *role, const char *bdf, int n)
{
	int ping = !strcmp(role, "ping"), lost = 0, bad = 0, i;
	uint64_t *lat = calloc(n, sizeof(*lat));
	struct board *bd;
	struct vdev d;

	set_fifo();
	if (vdev_open(&d, bdf, 0) || vdev_irqs(&d, 1))
		return 1;
	bd = (struct board *)(d.shm + BOARD_OFF);
	if (ping) {
		bd->ping_peer = d.peer;
		__sync_synchronize();
		bd->ping_ready = 1;
		if (wait_flag(&bd->pong_ready, 300))
			return fprintf(stderr, "pong never ready\n"), 1;
	} else {
		bd->pong_peer = d.peer;
		__sync_synchronize();
		bd->pong_ready = 1;
		if (wait_flag(&bd->ping_ready, 300))
			return fprintf(stderr, "ping never ready\n"), 1;
	}
	for (i = 1; i <= n && lost < 10; i++) {
		uint64_t t0 = now_ns();

		if (ping) {
			bd->seq = i;
			__sync_synchronize();
			vdev_ring(&d, bd->pong_peer, 0);
			if (!efd_wait(d.efd[0], EVENT_MS)) {
				lost++;
				continue;
			}
			lat[i - 1] = now_ns() - t0;
			if (bd->reply != (uint64_t)i)
				bad++;
		} else {
			if (!efd_wait(d.efd[0], i == 1 ? 60000 : EVENT_MS)) {
				lost++;
				continue;
			}
			bd->reply = bd->seq;
			__sync_synchronize();
			vdev_ring(&d, bd->ping_peer, 0);
		}
	}
	printf("bench vfio pingpong %s: %d round trips, %d lost, %d bad\n",
	       role, i - 1, lost, bad);
	if (ping && !lost)
		print_lat("two-guest vfio round trip", lat, n);
	return lost || bad;
}

static int cmd_ringcost(const char *target, int n, const char *label)
{
	uint64_t *lat = calloc(n, sizeof(*lat));
	struct ivshmem_ring req = { .peer = 0xffff };
	const char *kind = "driver";
	char what[160], bdf[64];
	struct vdev v;
	int fd = -1, i;

	set_fifo();
	if (!strncmp(target, "vfio:", 5)) {
		int use_mmap;

		snprintf(bdf, sizeof(bdf), "%s", target + 5);
		use_mmap = strstr(bdf, ":mmap") != NULL;
		if (use_mmap)
			*strstr(bdf, ":mmap") = 0;
		if (vdev_open(&v, bdf, use_mmap))
			return 1;
		if (use_mmap && !v.regs)
			return 0;
		kind = use_mmap ? "vfio-mmap" : "vfio-pwrite";
	} else {
		fd = open(target, O_RDWR);
		if (fd < 0)
			return perror(target), 1;
	}
	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		int r = fd >= 0 ? ioctl(fd, IVSHMEM_IOCTL_RING, &req) :
				  vdev_ring(&v, 0xffff, 0);

		lat[i] = now_ns() - t0;
		if (r)
			return perror("ring"), 1;
	}
	snprintf(what, sizeof(what), "[%s] ring cost %s", label, kind);
	print_lat(what, lat, n);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 6 && !strcmp(argv[1], "doorbell"))
		return cmd_doorbell(argv[2], argv[3], atoi(argv[4]), argv[5],
				    argc > 6 && !strcmp(argv[6], "mmap"));
	if (argc == 5 && !strcmp(argv[1], "ringcost"))
		return cmd_ringcost(argv[2], atoi(argv[3]), argv[4]);
	if (argc == 5 && !strcmp(argv[1], "pingpong"))
		return cmd_pingpong(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr,
		"usage: ivshmem_vfio_bench doorbell BDF_A BDF_B N LABEL [mmap]\n"
		"       ivshmem_vfio_bench pingpong ping|pong BDF N\n"
		"       ivshmem_vfio_bench ringcost DEV|vfio:BDF[:mmap] N LABEL\n");
	return 2;
}
