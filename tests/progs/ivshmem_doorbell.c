// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem_doorbell - guest-side doorbell, eventfd and wait checks.
 *
 * Runs inside the QEMU test guests on ivshmem-doorbell devices connected to
 * the project's ivshmem server. Prints "ok - ..." / "not ok - ..." per
 * check and "bench ..." lines with figures; exits with the number of
 * failed checks (capped at 125).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ivshmem.h>

#include "check.h"


struct dev {
	int fd;
	struct ivshmem_info info;
	int efd[IVSHMEM_MAX_VECTORS];
};

static void dev_open(struct dev *d, const char *path)
{
	int v;

	d->fd = open(path, O_RDWR);
	if (d->fd < 0)
		die(path);
	if (ioctl(d->fd, IVSHMEM_IOCTL_INFO, &d->info))
		die("IVSHMEM_IOCTL_INFO");
	for (v = 0; v < IVSHMEM_MAX_VECTORS; v++)
		d->efd[v] = -1;
}

static int bind_efd(int fd, unsigned int vector, int efd)
{
	struct ivshmem_eventfd req = { .vector = vector, .fd = efd };

	return ioctl(fd, IVSHMEM_IOCTL_SET_EVENTFD, &req);
}

/* Give every vector of @d its own eventfd. */
static void dev_bind_all(struct dev *d)
{
	unsigned int v;

	for (v = 0; v < d->info.vectors; v++) {
		d->efd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (d->efd[v] < 0 || bind_efd(d->fd, v, d->efd[v]))
			die("bind eventfd");
	}
}

static int ring(int fd, unsigned int peer, unsigned int vector)
{
	struct ivshmem_ring req = { .peer = peer, .vector = vector };

	return ioctl(fd, IVSHMEM_IOCTL_RING, &req);
}

/* Wait up to @ms for @efd; return its count (0 on timeout). */
static uint64_t efd_wait(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t n = 0;

	if (poll(&p, 1, ms) == 1 && read(efd, &n, sizeof(n)) != sizeof(n))
		n = 0;
	return n;
}

/* Non-blocking read of @efd's count. */
static uint64_t efd_take(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		n = 0;
	return n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * vectors A B: ringing B's peer ID on each vector wakes exactly that
 * vector's eventfd of B and no other, and the same from B to A.
 */
static int cmd_vectors(const char *pa, const char *pb)
{
	struct dev d[2];
	int i;

	dev_open(&d[0], pa);
	dev_open(&d[1], pb);
	check(d[0].info.flags & IVSHMEM_INFO_DOORBELL,
	      "%s reports doorbell support", pa);
	check(d[0].info.vectors == 8 && d[1].info.vectors == 8,
	      "both devices have 8 vectors (%u, %u)", d[0].info.vectors,
	      d[1].info.vectors);
	check(d[0].info.peer_id != d[1].info.peer_id,
	      "two peers: %u and %u", d[0].info.peer_id, d[1].info.peer_id);
	dev_bind_all(&d[0]);
	dev_bind_all(&d[1]);

	for (i = 0; i < 2; i++) {
		struct dev *from = &d[i], *to = &d[!i];
		unsigned int v, w;

		for (v = 0; v < to->info.vectors; v++) {
			uint64_t got, other = 0;

			check(!ring(from->fd, to->info.peer_id, v),
			      "ring peer %u vector %u", to->info.peer_id, v);
			got = efd_wait(to->efd[v], 5000);
			usleep(20000);
			for (w = 0; w < to->info.vectors; w++) {
				if (w != v)
					other += efd_take(to->efd[w]);
				other += efd_take(from->efd[w]);
			}
			check(got == 1 && other == 0,
			      "peer %u vector %u: its eventfd fired %llu time(s), %llu on other vectors",
			      to->info.peer_id, v, (unsigned long long)got,
			      (unsigned long long)other);
		}
	}
	if (ioctl(d[1].fd, IVSHMEM_IOCTL_INFO, &d[1].info))
		die("info");
	for (i = 0; i < 8; i++)
		if (d[1].info.irq_count[i] != 1)
			break;
	check(i == 8, "info irq_count is 1 on each of the 8 vectors");
	return failures;
}

struct waiter {
	int fd;
	uint32_t mask;
	uint64_t timeout_ns;
	int ret, err;
	uint32_t fired;
};

static void *waiter_thread(void *arg)
{
	struct waiter *w = arg;
	struct ivshmem_wait req = { .mask = w->mask,
				    .timeout_ns = w->timeout_ns };

	w->ret = ioctl(w->fd, IVSHMEM_IOCTL_WAIT, &req);
	w->err = errno;
	w->fired = req.fired;
	return NULL;
}

struct ringer {
	int fd;
	unsigned int peer, count;
	int ok, ebadf, other;
};

static void *ringer_thread(void *arg)
{
	struct ringer *r = arg;
	unsigned int i;

	for (i = 0; i < r->count; i++) {
		if (!ring(r->fd, r->peer, 0))
			r->ok++;
		else if (errno == EBADF)
			r->ebadf++;
		else
			r->other++;
	}
	return NULL;
}

/*
 * api A B PLAIN: the eventfd, wait and ring ioctls with good and bad
 * input; A and B are doorbell devices on one server, PLAIN has none.
 */
static int cmd_api(const char *pa, const char *pb, const char *pplain)
{
	struct dev a, b, plain;
	struct ivshmem_eventfd efreq;
	struct ivshmem_ring rreq;
	struct ivshmem_wait wreq;
	int efd1, efd2, b2, pipefd[2], i;
	struct pollfd pfd;
	pthread_t th[4];
	struct waiter w;
	struct ringer r[4];
	unsigned int total;

	dev_open(&a, pa);
	dev_open(&b, pb);
	dev_open(&plain, pplain);
	if (pipe(pipefd))
		die("pipe");

	/* Bad input: clear errno, nothing changes. */
	CHECK_ERR(ring(a.fd, b.info.peer_id, 8), EINVAL, "ring vector 8");
	CHECK_ERR(ring(a.fd, 0x10000, 0), EINVAL, "ring peer 0x10000");
	rreq = (struct ivshmem_ring){ .peer = 1, .flags = 1 };
	CHECK_ERR(ioctl(a.fd, IVSHMEM_IOCTL_RING, &rreq), EINVAL,
		  "ring with unknown flags");
	rreq = (struct ivshmem_ring){ .peer = 1, .reserved = 1 };
	CHECK_ERR(ioctl(a.fd, IVSHMEM_IOCTL_RING, &rreq), EINVAL,
		  "ring with reserved field set");
	CHECK_ERR(ioctl(a.fd, IVSHMEM_IOCTL_RING, (void *)8), EFAULT,
		  "ring with a bad pointer");
	CHECK_ERR(ring(plain.fd, 0, 0), EOPNOTSUPP, "ring on a plain device");
	CHECK_ERR(bind_efd(plain.fd, 0, pipefd[0]), EOPNOTSUPP,
		  "bind an eventfd on a plain device");
	efd1 = eventfd(0, EFD_NONBLOCK);
	efd2 = eventfd(0, EFD_NONBLOCK);
	CHECK_ERR(bind_efd(b.fd, 8, efd1), EINVAL, "bind vector 8");
	CHECK_ERR(bind_efd(b.fd, 0, pipefd[0]), EINVAL,
		  "bind a pipe (not an eventfd)");
	CHECK_ERR(bind_efd(b.fd, 0, 1000), EBADF, "bind a closed fd");
	CHECK_ERR(bind_efd(b.fd, 0, 0x7fffffff + 2u), EBADF,
		  "bind fd 0x80000001");
	efreq = (struct ivshmem_eventfd){ .vector = 0, .fd = efd1, .flags = 1 };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_SET_EVENTFD, &efreq), EINVAL,
		  "bind with unknown flags");
	efreq = (struct ivshmem_eventfd){ .vector = 0, .fd = efd1,
					  .reserved = 5 };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_SET_EVENTFD, &efreq), EINVAL,
		  "bind with reserved field set");
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_SET_EVENTFD, (void *)8), EFAULT,
		  "bind with a bad pointer");
	wreq = (struct ivshmem_wait){ .mask = 0 };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), EINVAL,
		  "wait with an empty mask");
	wreq = (struct ivshmem_wait){ .mask = 0x100 };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), EINVAL,
		  "wait for vector 8");
	wreq = (struct ivshmem_wait){ .mask = 1, .flags = 2 };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), EINVAL,
		  "wait with unknown flags");
	wreq = (struct ivshmem_wait){ .mask = 1 };
	CHECK_ERR(ioctl(plain.fd, IVSHMEM_IOCTL_WAIT, &wreq), EOPNOTSUPP,
		  "wait on a plain device");
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, (void *)8), EFAULT,
		  "wait with a bad pointer");
	/* The bad binds above bound nothing: a ring reaches no eventfd. */
	check(!bind_efd(b.fd, 0, IVSHMEM_EVENTFD_NONE),
	      "unbinding a vector that has no eventfd succeeds");

	/* Two files bind their own eventfd to one vector: both fire. */
	b2 = open(pb, O_RDWR);
	check(!bind_efd(b.fd, 0, efd1), "file 1 binds an eventfd to vector 0");
	check(!bind_efd(b2, 0, efd2), "file 2 binds an eventfd to vector 0");
	check(!ring(a.fd, b.info.peer_id, 0), "ring B vector 0");
	check(efd_wait(efd1, 5000) == 1 && efd_wait(efd2, 5000) == 1,
	      "both files' eventfds fire");
	/* Closing file 2 drops its binding; file 1's stays. */
	close(b2);
	check(!ring(a.fd, b.info.peer_id, 0), "ring B vector 0 again");
	check(efd_wait(efd1, 5000) == 1, "file 1's eventfd fires");
	usleep(50000);
	check(efd_take(efd2) == 0, "closed file 2's eventfd does not");
	/* fd -1 unbinds. */
	check(!bind_efd(b.fd, 0, IVSHMEM_EVENTFD_NONE), "unbind with fd -1");
	check(!ring(a.fd, b.info.peer_id, 0), "ring B vector 0 once more");
	usleep(100000);
	check(efd_take(efd1) == 0, "the unbound eventfd does not fire");

	/* Wait ioctl and poll(): this file has now 3 unconsumed on vector 0. */
	wreq = (struct ivshmem_wait){ .mask = 0xff };
	i = ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq);
	check(!i && wreq.fired == 1, "wait returns vector 0 fired (fired=0x%x)",
	      wreq.fired);
	wreq = (struct ivshmem_wait){ .mask = 0xff };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), EAGAIN,
		  "consumed: a non-blocking wait finds nothing");
	wreq = (struct ivshmem_wait){ .mask = 0xff, .timeout_ns = 50000000 };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), ETIMEDOUT,
		  "a 50 ms wait times out");
	pfd = (struct pollfd){ .fd = b.fd, .events = POLLIN };
	check(poll(&pfd, 1, 0) == 0, "poll: not readable");
	check(!ring(a.fd, b.info.peer_id, 5), "ring B vector 5");
	check(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN),
	      "poll: readable after the ring");
	w = (struct waiter){ .fd = b.fd, .mask = 0x20,
			     .timeout_ns = IVSHMEM_WAIT_FOREVER };
	waiter_thread(&w);
	check(w.ret == 0 && w.fired == 0x20, "wait forever returns vector 5");

	/* fired is output only: a stale value on input is ignored. */
	wreq = (struct ivshmem_wait){ .mask = 0xff, .fired = 0xdead };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), EAGAIN,
		  "wait ignores fired on input");

	/*
	 * Two threads wait forever on one file: one ring wakes one of them,
	 * the other keeps waiting (no ETIMEDOUT) until a second ring.
	 */
	{
		struct waiter w2[2];
		int done;

		for (i = 0; i < 2; i++) {
			w2[i] = (struct waiter){ .fd = b.fd, .mask = 0x40,
						 .timeout_ns = IVSHMEM_WAIT_FOREVER,
						 .ret = 1 };
			pthread_create(&th[i], NULL, waiter_thread, &w2[i]);
		}
		usleep(200000);
		ring(a.fd, b.info.peer_id, 6);
		usleep(500000);
		done = (w2[0].ret != 1) + (w2[1].ret != 1);
		check(done == 1, "one ring wakes one of two waiters sharing a file (%d woke)",
		      done);
		ring(a.fd, b.info.peer_id, 6);
		pthread_join(th[0], NULL);
		pthread_join(th[1], NULL);
		check(w2[0].ret == 0 && w2[1].ret == 0 && w2[0].fired == 0x40 &&
		      w2[1].fired == 0x40,
		      "the second ring wakes the other (ret %d/%d)", w2[0].ret,
		      w2[1].ret);
	}

	/* At most 64 eventfds per vector, over all files. */
	{
		int fds[65], efds[65], n, err = 0;

		for (n = 0; n < 65; n++) {
			fds[n] = open(pb, O_RDWR);
			efds[n] = eventfd(0, EFD_NONBLOCK);
			if (bind_efd(fds[n], 3, efds[n])) {
				err = errno;
				break;
			}
		}
		/* b itself has no binding on vector 3 yet. */
		check(n == 64 && err == ENOSPC,
		      "64 eventfds bind to one vector, the 65th gets ENOSPC (%d, %s)",
		      n, err ? strerrorname_np(err) : "none");
		close(fds[0]);
		check(!bind_efd(fds[64], 3, efds[64]),
		      "after a file closes, another can bind");
		for (i = 1; i <= 64; i++)
			close(fds[i]);
		for (i = 0; i < 65; i++)
			close(efds[i]);
	}

	/* A thread blocked in wait is woken by a ring from another thread. */
	w = (struct waiter){ .fd = b.fd, .mask = 0x04,
			     .timeout_ns = 10000000000ull };
	pthread_create(&th[0], NULL, waiter_thread, &w);
	usleep(200000);
	ring(a.fd, b.info.peer_id, 2);
	pthread_join(th[0], NULL);
	check(w.ret == 0 && w.fired == 0x04,
	      "a blocked waiter wakes for its vector (ret %d fired 0x%x)",
	      w.ret, w.fired);

	/* Closing the file while another thread waits on it. */
	b2 = open(pb, O_RDWR);
	w = (struct waiter){ .fd = b2, .mask = 0x80,
			     .timeout_ns = 500000000ull };
	pthread_create(&th[0], NULL, waiter_thread, &w);
	usleep(100000);
	check(!close(b2), "close the file while a thread waits on it");
	pthread_join(th[0], NULL);
	check(w.ret == -1 && w.err == ETIMEDOUT,
	      "the waiter still times out cleanly (%s)",
	      strerrorname_np(w.err));

	/* Several threads ringing at once, then the file closed under them. */
	dev_bind_all(&b);
	b2 = open(pa, O_RDWR);
	for (i = 0; i < 4; i++) {
		r[i] = (struct ringer){ .fd = b2, .peer = b.info.peer_id,
					.count = 2000 };
		pthread_create(&th[i], NULL, ringer_thread, &r[i]);
	}
	usleep(20000);
	close(b2);
	total = 0;
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += r[i].ok;
		check(r[i].other == 0,
		      "ringer %d: %d rings, %d EBADF after close, %d other errors",
		      i, r[i].ok, r[i].ebadf, r[i].other);
	}
	usleep(200000);
	{
		uint64_t got = efd_take(b.efd[0]);

		/* QEMU merges doorbells that arrive before it injects. */
		check(got >= 1 && got <= total,
		      "%u concurrent rings gave %llu interrupt(s) on vector 0",
		      total, (unsigned long long)got);
	}
	check(!ring(a.fd, b.info.peer_id, 1) && efd_wait(b.efd[1], 5000) == 1,
	      "the device still works after all that");
	return failures;
}

/*
 * unbind-wait DEV BDF: device removal wakes a thread blocked in
 * IVSHMEM_IOCTL_WAIT without a timeout and fails later calls with ENODEV.
 */
static int cmd_unbind_wait(const char *path, const char *bdf)
{
	struct waiter w;
	struct dev d;
	pthread_t th;
	struct pollfd pfd;
	int fd;

	dev_open(&d, path);
	dev_bind_all(&d);
	w = (struct waiter){ .fd = d.fd, .mask = 1,
			     .timeout_ns = IVSHMEM_WAIT_FOREVER };
	pthread_create(&th, NULL, waiter_thread, &w);
	usleep(200000);
	fd = open("/sys/bus/pci/drivers/ivshmem/unbind", O_WRONLY);
	check(fd >= 0 && write(fd, bdf, strlen(bdf)) == (ssize_t)strlen(bdf),
	      "unbind %s while a thread waits forever", bdf);
	close(fd);
	pthread_join(th, NULL);
	check(w.ret == -1 && w.err == ENODEV, "the waiter returns ENODEV (%s)",
	      strerrorname_np(w.err));
	pfd = (struct pollfd){ .fd = d.fd, .events = POLLIN };
	check(poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR)),
	      "poll reports POLLHUP|POLLERR");
	CHECK_ERR(ring(d.fd, 0, 0), ENODEV, "ring after unbind");
	CHECK_ERR(bind_efd(d.fd, 1, d.efd[1]), ENODEV, "bind after unbind");
	check(!close(d.fd), "close after unbind (bindings dropped)");
	return failures;
}

/* The first 4 KiB of the shared memory, for the two-guest tests. */
struct board {
	volatile uint32_t magic;
	volatile uint32_t ping_peer;
	volatile uint32_t pong_peer;
	volatile uint32_t ping_ready;
	volatile uint32_t pong_ready;
	volatile uint32_t stop;
	volatile uint32_t visitor_peer;
	volatile uint32_t pad;
	volatile uint64_t seq;
	volatile uint64_t reply;
	char msg[64];
};

#define BOARD_MAGIC	0x1b5e4d01

static struct board *map_board(int fd)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static int wait_flag(volatile uint32_t *flag, int secs)
{
	uint64_t end = now_ns() + secs * 1000000000ull;

	while (!*flag) {
		if (now_ns() > end)
			return -1;
		usleep(1000);
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void print_lat(const char *what, uint64_t *lat, int n)
{
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("bench %s: n=%d p50=%.1f us p99=%.1f us\n", what, n,
	       lat[n / 2] / 1000.0, lat[n * 99 / 100] / 1000.0);
}

/*
 * pingpong ping|pong DEV N: two guests on one server. Ping writes a
 * message, rings pong's vector 0, waits for the reply on its own vector 0;
 * N round trips. Any timeout is a lost interrupt; a count above one or an
 * interrupt on vector 1 is a spurious one.
 */
static int cmd_pingpong(const char *role, const char *path, int n)
{
	int ping = !strcmp(role, "ping"), lost = 0, spurious = 0, bad = 0, i;
	uint64_t *lat = calloc(n, sizeof(*lat));
	struct board *bd;
	struct dev d;

	dev_open(&d, path);
	dev_bind_all(&d);
	bd = map_board(d.fd);
	if (ping) {
		bd->ping_peer = d.info.peer_id;
		bd->ping_ready = 1;
		check(!wait_flag(&bd->pong_ready, 300), "pong is ready (peer %u)",
		      bd->pong_peer);
	} else {
		bd->pong_peer = d.info.peer_id;
		bd->pong_ready = 1;
		check(!wait_flag(&bd->ping_ready, 300), "ping is ready (peer %u)",
		      bd->ping_peer);
	}
	for (i = 1; i <= n && lost < 10; i++) {
		uint64_t got, t0 = now_ns();

		if (ping) {
			bd->seq = i;
			snprintf(bd->msg, sizeof(bd->msg), "ping %d", i);
			__sync_synchronize();
			ring(d.fd, bd->pong_peer, 0);
			got = efd_wait(d.efd[0], 5000);
			lat[i - 1] = now_ns() - t0;
			if (!got) {
				lost++;
				continue;
			}
			if (bd->reply != (uint64_t)i ||
			    strcmp(bd->msg, "pong"))
				bad++;
		} else {
			char want[64];

			got = efd_wait(d.efd[0], i == 1 ? 60000 : 5000);
			if (!got) {
				lost++;
				continue;
			}
			snprintf(want, sizeof(want), "ping %d", i);
			if (bd->seq != (uint64_t)i || strcmp(bd->msg, want))
				bad++;
			strcpy(bd->msg, "pong");
			bd->reply = bd->seq;
			__sync_synchronize();
			ring(d.fd, bd->ping_peer, 0);
		}
		if (got > 1)
			spurious++;
	}
	spurious += efd_take(d.efd[1]);
	check(lost == 0 && spurious == 0 && bad == 0 && i == n + 1,
	      "%s: %d round trips, %d lost, %d spurious, %d bad messages",
	      role, i - 1, lost, spurious, bad);
	if (ping && !lost)
		print_lat("two-guest doorbell round trip", lat, n);
	return failures;
}

/* One side of an in-guest ping-pong over two doorbell devices. */
struct side {
	struct dev *me, *peer;
	int n, lost;
	uint64_t *lat;
	int use_eventfd_only;
	int efd_in, efd_out;
	int starter;
};

static void *side_thread(void *arg)
{
	struct side *s = arg;
	int i;

	for (i = 0; i < s->n; i++) {
		uint64_t t0 = now_ns(), one = 1;

		if (s->starter) {
			if (s->use_eventfd_only) {
				if (write(s->efd_out, &one, 8) != 8)
					s->lost++;
			} else {
				ring(s->me->fd, s->peer->info.peer_id, 0);
			}
		}
		if (!efd_wait(s->efd_in, 5000)) {
			s->lost++;
			continue;
		}
		if (!s->starter) {
			if (s->use_eventfd_only) {
				if (write(s->efd_out, &one, 8) != 8)
					s->lost++;
			} else {
				ring(s->me->fd, s->peer->info.peer_id, 0);
			}
		} else {
			s->lat[i] = now_ns() - t0;
		}
	}
	return NULL;
}

static void pingpong_threads(struct side *a, struct side *b)
{
	pthread_t ta, tb;

	pthread_create(&tb, NULL, side_thread, b);
	usleep(10000);
	pthread_create(&ta, NULL, side_thread, a);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
}

/*
 * bench A B N: doorbell round trip between two peers (two devices in this
 * guest, one thread each) against an eventfd round trip between two
 * threads, measured in the same run.
 */
static int cmd_bench(const char *pa, const char *pb, int n)
{
	struct dev a, b;
	struct side sa, sb;
	uint64_t *lat_db = calloc(n, 8), *lat_ev = calloc(n, 8), p50db, p50ev;
	int e1 = eventfd(0, EFD_NONBLOCK), e2 = eventfd(0, EFD_NONBLOCK);

	dev_open(&a, pa);
	dev_open(&b, pb);
	dev_bind_all(&a);
	dev_bind_all(&b);

	sa = (struct side){ .me = &a, .peer = &b, .n = n, .lat = lat_db,
			    .efd_in = a.efd[0], .starter = 1 };
	sb = (struct side){ .me = &b, .peer = &a, .n = n, .lat = NULL,
			    .efd_in = b.efd[0] };
	pingpong_threads(&sa, &sb);
	check(sa.lost == 0 && sb.lost == 0,
	      "doorbell ping-pong: %d round trips, %d lost", n,
	      sa.lost + sb.lost);

	sa = (struct side){ .n = n, .lat = lat_ev, .use_eventfd_only = 1,
			    .efd_in = e1, .efd_out = e2, .starter = 1 };
	sb = (struct side){ .n = n, .use_eventfd_only = 1, .efd_in = e2,
			    .efd_out = e1 };
	pingpong_threads(&sa, &sb);
	check(sa.lost == 0 && sb.lost == 0,
	      "eventfd ping-pong: %d round trips, %d lost", n,
	      sa.lost + sb.lost);

	print_lat("doorbell round trip (two peers, one guest)", lat_db, n);
	print_lat("eventfd round trip (two threads, baseline)", lat_ev, n);
	p50db = lat_db[n / 2];
	p50ev = lat_ev[n / 2];
	printf("bench ratio doorbell/eventfd: p50 %.1fx p99 %.1fx\n",
	       (double)p50db / p50ev,
	       (double)lat_db[n * 99 / 100] / lat_ev[n * 99 / 100]);
	return failures;
}

/*
 * churn A B: ping-pong between A and B until the board's stop flag is
 * set, while peers come and go; count visitor rings on A's vector 1.
 */
static int cmd_churn(const char *pa, const char *pb)
{
	struct dev a, b;
	struct board *bd;
	int trips = 0, lost = 0;
	uint64_t visits = 0;

	dev_open(&a, pa);
	dev_open(&b, pb);
	dev_bind_all(&a);
	dev_bind_all(&b);
	bd = map_board(a.fd);
	bd->ping_peer = a.info.peer_id;
	bd->magic = BOARD_MAGIC;
	printf("churn: A is peer %u, B is peer %u\n", a.info.peer_id,
	       b.info.peer_id);
	fflush(stdout);
	while (!bd->stop && lost < 10) {
		ring(a.fd, b.info.peer_id, 0);
		if (!efd_wait(b.efd[0], 5000)) {
			lost++;
			continue;
		}
		ring(b.fd, a.info.peer_id, 0);
		if (!efd_wait(a.efd[0], 5000)) {
			lost++;
			continue;
		}
		trips++;
		visits += efd_take(a.efd[1]);
		/* Leave CPU time to the guests booting beside this one. */
		usleep(2000);
	}
	usleep(100000);
	visits += efd_take(a.efd[1]);
	check(bd->stop, "the visitor set the stop flag");
	check(trips > 0 && lost == 0,
	      "A and B kept working while peers came and went: %d round trips, %d lost",
	      trips, lost);
	check(visits >= 1, "A received %llu ring(s) from the new peer %u",
	      (unsigned long long)visits, bd->visitor_peer);
	return failures;
}

/* visit DEV: a newly joined peer rings A (from the board) and stops it. */
static int cmd_visit(const char *path)
{
	struct board *bd;
	struct dev d;
	int i;

	dev_open(&d, path);
	bd = map_board(d.fd);
	check(bd->magic == BOARD_MAGIC, "the board was written by the others");
	bd->visitor_peer = d.info.peer_id;
	for (i = 0; i < 3; i++) {
		check(!ring(d.fd, bd->ping_peer, 1), "ring peer %u vector 1",
		      bd->ping_peer);
		usleep(100000);
	}
	bd->stop = 1;
	return failures;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ivshmem_doorbell vectors A B\n"
		"       ivshmem_doorbell api A B PLAIN\n"
		"       ivshmem_doorbell unbind-wait DEV BDF\n"
		"       ivshmem_doorbell pingpong ping|pong DEV N\n"
		"       ivshmem_doorbell bench A B N\n"
		"       ivshmem_doorbell churn A B\n"
		"       ivshmem_doorbell visit DEV\n");
	exit(125);
}

int main(int argc, char **argv)
{
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3)
		usage();
	if (!strcmp(argv[1], "vectors") && argc == 4)
		ret = cmd_vectors(argv[2], argv[3]);
	else if (!strcmp(argv[1], "api") && argc == 5)
		ret = cmd_api(argv[2], argv[3], argv[4]);
	else if (!strcmp(argv[1], "unbind-wait") && argc == 4)
		ret = cmd_unbind_wait(argv[2], argv[3]);
	else if (!strcmp(argv[1], "pingpong") && argc == 5)
		ret = cmd_pingpong(argv[2], argv[3], atoi(argv[4]));
	else if (!strcmp(argv[1], "bench") && argc == 5)
		ret = cmd_bench(argv[2], argv[3], atoi(argv[4]));
	else if (!strcmp(argv[1], "churn") && argc == 4)
		ret = cmd_churn(argv[2], argv[3]);
	else if (!strcmp(argv[1], "visit") && argc == 3)
		ret = cmd_visit(argv[2]);
	else
		usage();
	return ret > 125 ? 125 : ret;
}
