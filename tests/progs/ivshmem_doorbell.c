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
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ivshmem.h>
#include <linux/netlink.h>

#include "check.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME	0x00000080
#endif


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

/*
 * How long a test waits for an interrupt before it counts it lost: one
 * takes milliseconds, but a loaded host can stall a TCG vCPU for seconds.
 * After the first loss the rest of the program waits EVENT_LATE_MS each,
 * so that a broken driver fails within the guest's time limit.
 */
#define EVENT_MS	20000
#define EVENT_LATE_MS	2000
static int event_ms = EVENT_MS;

static void event_timed_out(int ms)
{
	if (ms == event_ms)
		event_ms = EVENT_LATE_MS;
}

/* Wait up to @ms for @efd; return its count (0 on timeout). */
static uint64_t efd_wait(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t n = 0;
	int ret = poll(&p, 1, ms);

	if (!ret)
		event_timed_out(ms);
	if (ret == 1 && read(efd, &n, sizeof(n)) != sizeof(n))
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

static void info_of(int fd, struct ivshmem_info *info)
{
	if (ioctl(fd, IVSHMEM_IOCTL_INFO, info))
		die("IVSHMEM_IOCTL_INFO");
}

static uint64_t irq_count(int fd, unsigned int v)
{
	struct ivshmem_info info;

	info_of(fd, &info);
	return info.irq_count[v];
}

/*
 * Wait up to @ms until vector @v of @fd has counted @want interrupts.
 * The driver raises a vector's count only after it signalled every
 * eventfd bound to it for that interrupt, so once this returns true an
 * eventfd that was not signalled by then never will be for it: "does not
 * fire" checks need no time window.
 */
static int wait_count(int fd, unsigned int v, uint64_t want, int ms)
{
	uint64_t end = now_ns() + ms * 1000000ull;

	while (irq_count(fd, v) < want) {
		if (now_ns() > end) {
			event_timed_out(ms);
			return 0;
		}
		usleep(1000);
	}
	return 1;
}

static int set_seen(int fd, uint32_t mask, const uint64_t *count)
{
	struct ivshmem_seen req = { .mask = mask };

	if (count)
		memcpy(req.count, count, sizeof(req.count));
	return ioctl(fd, IVSHMEM_IOCTL_SET_SEEN, &req);
}

/* A WAIT whose deadline (0) has passed: checks once, ETIMEDOUT if none. */
static int wait_now(int fd, uint32_t mask, uint32_t *fired)
{
	struct ivshmem_wait req = { .mask = mask };
	int ret = ioctl(fd, IVSHMEM_IOCTL_WAIT, &req);

	*fired = req.fired;
	return ret;
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
	check(d[0].info.flags & IVSHMEM_INFO_RECEIVE,
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
			got = efd_wait(to->efd[v], event_ms);
			/*
			 * Once the count is raised every eventfd of this
			 * interrupt was signalled: a wrong one would show
			 * now. A stray interrupt QEMU injected on another
			 * vector would raise that vector's count, checked
			 * after the loop.
			 */
			if (!wait_count(to->fd, v, 1, event_ms))
				got = 0;
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
	for (i = 0; i < 2; i++) {
		int v;

		info_of(d[i].fd, &d[i].info);
		for (v = 0; v < 8; v++)
			if (d[i].info.irq_count[v] != 1)
				break;
		check(v == 8, "device %d: info irq_count is 1 on each of the 8 vectors",
		      i);
	}
	return failures;
}

struct waiter {
	int fd;
	uint32_t mask;
	uint64_t timeout_ns;
	volatile int ret;	/* read while the thread waits */
	int err;
	uint32_t fired;
	volatile pid_t tid;	/* set before the call, for waiter_blocked() */
};

static int child_blocked(pid_t pid, int ms);

/*
 * True once @w's thread sleeps in its WAIT ioctl (within @ms): a test
 * that rings, closes or unbinds "while a thread waits" must not take a
 * sleep for that on a loaded host.
 */
static int waiter_blocked(struct waiter *w, int ms)
{
	uint64_t end = now_ns() + ms * 1000000ull;

	while (!w->tid && now_ns() < end)
		usleep(1000);
	return w->tid && child_blocked(w->tid, ms);
}

/* The deadline @timeout ns from now, or IVSHMEM_WAIT_FOREVER. */
static uint64_t deadline_in(uint64_t timeout)
{
	return timeout == IVSHMEM_WAIT_FOREVER ? timeout : now_ns() + timeout;
}

static void *waiter_thread(void *arg)
{
	struct waiter *w = arg;
	struct ivshmem_wait req = { .mask = w->mask,
				    .deadline_ns = deadline_in(w->timeout_ns) };

	w->tid = gettid();
	w->ret = ioctl(w->fd, IVSHMEM_IOCTL_WAIT, &req);
	w->err = errno;
	w->fired = req.fired;
	return NULL;
}

struct ringer {
	int fd;
	unsigned int peer, count;
	volatile int ok, ebadf, other;	/* read while the thread runs */
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

/* Sum of the interrupt counts of every vector of @fd. */
static uint64_t all_counts(int fd, uint64_t *count)
{
	struct ivshmem_info info;
	uint64_t sum = 0;
	int v;

	info_of(fd, &info);
	for (v = 0; v < IVSHMEM_MAX_VECTORS; v++) {
		sum += info.irq_count[v];
		if (count)
			count[v] = info.irq_count[v];
	}
	return sum;
}

static int pipe_empty(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

/*
 * Bad input changes nothing: no doorbell goes out, no binding is made,
 * replaced or dropped, no eventfd is signalled, nothing is consumed.
 */
static void api_bad_input(struct dev *a, struct dev *b, struct dev *plain,
			  const char *pb)
{
	struct ivshmem_eventfd efreq;
	struct ivshmem_ring rreq;
	struct ivshmem_wait wreq;
	uint64_t ca0, cb0, cb[IVSHMEM_MAX_VECTORS];
	int pipefd[2], bx, keep, efd1, ret, ro;
	uint32_t fired;

	if (pipe(pipefd))
		die("pipe");
	/* bx holds one good binding that the bad binds must not touch. */
	bx = open(pb, O_RDWR);
	keep = eventfd(0, EFD_NONBLOCK);
	efd1 = eventfd(0, EFD_NONBLOCK);
	if (bx < 0 || keep < 0 || efd1 < 0 || bind_efd(bx, 0, keep))
		die("bad input setup");
	ca0 = all_counts(a->fd, NULL);
	cb0 = all_counts(b->fd, NULL);

	CHECK_ERR(ring(a->fd, b->info.peer_id, 8), EINVAL, "ring vector 8");
	CHECK_ERR(ring(a->fd, 0x10000 | b->info.peer_id, 0), EINVAL,
		  "ring peer 0x10000");
	rreq = (struct ivshmem_ring){ .peer = b->info.peer_id, .flags = 1 };
	CHECK_ERR(ioctl(a->fd, IVSHMEM_IOCTL_RING, &rreq), EINVAL,
		  "ring with unknown flags");
	rreq = (struct ivshmem_ring){ .peer = b->info.peer_id, .reserved = 1 };
	CHECK_ERR(ioctl(a->fd, IVSHMEM_IOCTL_RING, &rreq), EINVAL,
		  "ring with reserved field set");
	CHECK_ERR(ioctl(a->fd, IVSHMEM_IOCTL_RING, (void *)8), EFAULT,
		  "ring with a bad pointer");
	CHECK_ERR(ring(plain->fd, 0, 0), EOPNOTSUPP, "ring on a plain device");
	/* Ringing interrupts another VM: it takes a file opened for writing. */
	ro = open(pb, O_RDONLY);
	if (ro < 0)
		die("open read-only");
	CHECK_ERR(ring(ro, a->info.peer_id, 0), EBADF,
		  "ring from a file opened read-only");
	close(ro);
	CHECK_ERR(bind_efd(plain->fd, 0, efd1), EOPNOTSUPP,
		  "bind an eventfd on a plain device");
	CHECK_ERR(bind_efd(bx, 8, efd1), EINVAL, "bind vector 8");
	CHECK_ERR(bind_efd(bx, 0, pipefd[0]), EINVAL,
		  "bind a pipe (not an eventfd)");
	CHECK_ERR(bind_efd(bx, 0, 1000), EBADF, "bind a closed fd");
	CHECK_ERR(bind_efd(bx, 0, -2), EINVAL,
		  "bind fd -2 (only -1 means none)");
	efreq = (struct ivshmem_eventfd){ .vector = 0, .fd = efd1, .flags = 1 };
	CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_SET_EVENTFD, &efreq), EINVAL,
		  "bind with unknown flags");
	efreq = (struct ivshmem_eventfd){ .vector = 0, .fd = efd1,
					  .reserved = 5 };
	CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_SET_EVENTFD, &efreq), EINVAL,
		  "bind with reserved field set");
	efreq = (struct ivshmem_eventfd){ .vector = 0,
					  .fd = -1,
					  .flags = 1 };
	CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_SET_EVENTFD, &efreq), EINVAL,
		  "unbind with unknown flags");
	CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_SET_EVENTFD, (void *)8), EFAULT,
		  "bind with a bad pointer");

	/*
	 * A doorbell that went out reaches the handler within a few ms
	 * under TCG (see doorbell_bench); 500 ms bounds that a hundredfold.
	 */
	usleep(500000);
	check(all_counts(a->fd, NULL) == ca0 && all_counts(b->fd, cb) == cb0,
	      "the refused rings rang nothing (interrupt counts of both devices unchanged)");
	check(!ring(a->fd, b->info.peer_id, 0) &&
	      wait_count(b->fd, 0, cb[0] + 1, event_ms) && efd_take(keep) == 1,
	      "the refused binds left the good binding in place (it fires)");
	check(efd_take(efd1) == 0 && pipe_empty(pipefd[0]),
	      "the refused binds bound nothing (the eventfd and the pipe stay empty)");

	/* bx now has one unconsumed interrupt on vector 0. */
	wreq = (struct ivshmem_wait){ .mask = 0 };
	CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_WAIT, &wreq), EINVAL,
		  "wait with an empty mask");
	wreq = (struct ivshmem_wait){ .mask = 0x100, .fired = 0xdeadbeef };
	CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_WAIT, &wreq), EINVAL,
		  "wait for vector 8");
	check(wreq.fired == 0xdeadbeef,
	      "... and the refused wait wrote nothing (fired 0x%x)", wreq.fired);
	wreq = (struct ivshmem_wait){ .mask = 1, .flags = 1 };
	CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_WAIT, &wreq), EINVAL,
		  "wait with unknown flags");
	wreq = (struct ivshmem_wait){ .mask = 1, .reserved = 1 };
	CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_WAIT, &wreq), EINVAL,
		  "wait with reserved field set");
	wreq = (struct ivshmem_wait){ .mask = 1 };
	CHECK_ERR(ioctl(plain->fd, IVSHMEM_IOCTL_WAIT, &wreq), EOPNOTSUPP,
		  "wait on a plain device");
	CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_WAIT, (void *)8), EFAULT,
		  "wait with a bad pointer");
	{
		struct ivshmem_seen sreq = { .mask = 1, .flags = 1 };

		CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_SET_SEEN, &sreq), EINVAL,
			  "set-seen with unknown flags");
		sreq = (struct ivshmem_seen){ .mask = 0 };
		CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_SET_SEEN, &sreq), EINVAL,
			  "set-seen with an empty mask");
		sreq = (struct ivshmem_seen){ .mask = 0x101 };
		memset(sreq.count, 0xff, sizeof(sreq.count));
		CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_SET_SEEN, &sreq), EINVAL,
			  "set-seen for vector 8");
		sreq = (struct ivshmem_seen){ .mask = 1 };
		CHECK_ERR(ioctl(plain->fd, IVSHMEM_IOCTL_SET_SEEN, &sreq),
			  EOPNOTSUPP, "set-seen on a plain device");
		CHECK_ERR(ioctl(bx, IVSHMEM_IOCTL_SET_SEEN, (void *)8), EFAULT,
			  "set-seen with a bad pointer");
	}
	ret = wait_now(bx, 0xff, &fired);
	check(!ret && fired == 1,
	      "the refused waits and set-seens consumed nothing (fired=0x%x)",
	      fired);
	check(!bind_efd(bx, 0, -1) &&
	      !bind_efd(bx, 0, -1),
	      "unbinding a vector that has no eventfd (any more) succeeds");
	close(bx);
	close(keep);
	close(efd1);
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * Issue 9 (4): no limit shared between files. One file reaches its own
 * limit (one eventfd per vector, binding again replaces); many other
 * files still bind one vector; an interrupt signals every one of them
 * exactly once, from the interrupt thread (more than 4 bound) and from
 * the handler (4 or fewer).
 */
static void api_bindings(struct dev *a, struct dev *b, const char *pb)
{
	enum { NFILES = 100 };
	int fds[NFILES], efds[NFILES], own[IVSHMEM_MAX_VECTORS], old, n, i;
	int f1 = open(pb, O_RDWR), ones, err = 0;
	uint64_t c3;
	unsigned int v;

	old = eventfd(0, EFD_NONBLOCK);
	if (f1 < 0 || old < 0)
		die("open");
	for (v = 0; v < 8; v++) {
		own[v] = eventfd(0, EFD_NONBLOCK);
		if (own[v] < 0)
			die("eventfd");
	}
	check(!bind_efd(f1, 3, old), "file 1 binds an eventfd to vector 3");
	for (v = 0, n = 0; v < 8; v++)
		n += !bind_efd(f1, v, own[v]);
	check(n == 8, "file 1 binds one eventfd on each of the 8 vectors, replacing the first (%d)",
	      n);
	for (n = 0; n < NFILES; n++) {
		fds[n] = open(pb, O_RDWR);
		efds[n] = eventfd(0, EFD_NONBLOCK);
		if (fds[n] < 0 || efds[n] < 0)
			die("open");
		if (bind_efd(fds[n], 3, efds[n])) {
			err = errno;
			break;
		}
	}
	check(n == NFILES, "%d other files still bind vector 3 (stopped at %d: %s)",
	      NFILES, n, err ? strerrorname_np(err) : "none");
	c3 = irq_count(b->fd, 3);
	check(!ring(a->fd, b->info.peer_id, 3) &&
	      wait_count(b->fd, 3, c3 + 1, event_ms), "ring B vector 3 with %d eventfds bound",
	      n + 1);
	for (i = 0, ones = 0; i < n; i++)
		ones += efd_take(efds[i]) == 1;
	ones += efd_take(own[3]) == 1;
	check(ones == n + 1 && efd_take(old) == 0,
	      "one interrupt signals all %d eventfds once (%d did), not the replaced one",
	      n + 1, ones);
	for (v = 0, ones = 0; v < 8; v++)
		if (v != 3)
			ones += efd_take(own[v]);
	check(ones == 0, "file 1's eventfds of the other vectors stay silent");
	/* Down to 2 bindings: the handler signals them itself. */
	for (i = 1; i < n; i++)
		close(fds[i]);
	check(!ring(a->fd, b->info.peer_id, 3) &&
	      wait_count(b->fd, 3, c3 + 2, event_ms) && efd_take(efds[0]) == 1 &&
	      efd_take(own[3]) == 1,
	      "with 2 bound, one interrupt signals both once");
	close(fds[0]);
	close(f1);
	for (i = 0; i < n; i++)
		close(efds[i]);
	for (v = 0; v < 8; v++)
		close(own[v]);
	close(old);
}

/*
 * Issue 9 (5): a listener that opens after its peer rang still sees the
 * ring, with counts since bind or from a point it chose.
 */
static void api_seen(struct dev *a, struct dev *b, const char *pb)
{
	uint64_t count[IVSHMEM_MAX_VECTORS], zero[IVSHMEM_MAX_VECTORS] = { 0 };
	uint64_t c4 = irq_count(b->fd, 4);
	uint32_t fired = 0;
	int f, ret;

	check(!ring(a->fd, b->info.peer_id, 4) &&
	      wait_count(b->fd, 4, c4 + 1, event_ms),
	      "a peer rings B vector 4 before the listener opens");
	f = open(pb, O_RDWR);
	if (f < 0)
		die("open");
	CHECK_ERR(wait_now(f, 0x10, &fired), ETIMEDOUT,
		  "a new file's view starts at open");
	ret = set_seen(f, 0x10, zero) || wait_now(f, 0x10, &fired);
	check(!ret && fired == 0x10,
	      "set-seen 0 (since bind): the earlier ring is seen (fired=0x%x)",
	      fired);
	CHECK_ERR(wait_now(f, 0x10, &fired), ETIMEDOUT, "and consumed once");
	close(f);

	/* Since a point the program chose: counts from INFO. */
	all_counts(b->fd, count);
	check(!ring(a->fd, b->info.peer_id, 4) &&
	      wait_count(b->fd, 4, count[4] + 1, event_ms),
	      "the peer rings again after the listener took its counts");
	f = open(pb, O_RDWR);
	ret = set_seen(f, 0xff, count) || wait_now(f, 0xff, &fired);
	check(!ret && fired == 0x10,
	      "set-seen to the counts taken before: that ring is seen (fired=0x%x)",
	      fired);
	/*
	 * A count above the current one (saved before an unbind and
	 * rebind, say) would silence the file: refused, nothing changes.
	 */
	all_counts(b->fd, count);
	count[4]++;
	CHECK_ERR(set_seen(f, 0x10, count), EINVAL,
		  "set-seen above vector 4's current count is refused");
	count[4] = 0;
	count[5]++;
	CHECK_ERR(set_seen(f, 0x30, count), EINVAL,
		  "set-seen with vector 4 valid but vector 5 ahead is refused as a whole");
	CHECK_ERR(wait_now(f, 0x10, &fired), ETIMEDOUT,
		  "the refused set-seen changed nothing (vector 4 not reset to 0)");
	all_counts(b->fd, count);
	check(!set_seen(f, 0x10, count), "set-seen to the current count is accepted");
	CHECK_ERR(wait_now(f, 0x10, &fired), ETIMEDOUT,
		  "at the current count nothing is pending");
	c4 = count[4];
	check(!ring(a->fd, b->info.peer_id, 4) &&
	      wait_count(b->fd, 4, c4 + 1, event_ms) &&
	      !wait_now(f, 0x10, &fired) && fired == 0x10,
	      "the next ring fires");
	close(f);
}

/*
 * Issue 9 (6): poll() reports EPOLLIN for "an interrupt is pending",
 * never EPOLLPRI or EPOLLOUT; read() neither blocks nor consumes it.
 */
static void api_poll(struct dev *a, struct dev *b, const char *pb)
{
	struct pollfd pfd;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLPRI }, got;
	int f = open(pb, O_RDWR), ep = epoll_create1(0), n;
	uint64_t c5 = irq_count(b->fd, 5);
	uint32_t fired;
	char buf[64];

	if (f < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev))
		die("poll setup");
	pfd = (struct pollfd){ .fd = f, .events = POLLIN | POLLPRI | POLLOUT };
	check(poll(&pfd, 1, 0) == 0, "poll: nothing pending, nothing reported");
	check(epoll_wait(ep, &got, 1, 0) == 0, "epoll: nothing pending");
	check(!ring(a->fd, b->info.peer_id, 5) &&
	      wait_count(b->fd, 5, c5 + 1, event_ms), "ring B vector 5");
	n = poll(&pfd, 1, event_ms);
	check(n == 1 && pfd.revents == POLLIN,
	      "poll: an interrupt pending is POLLIN alone (revents 0x%x)",
	      pfd.revents);
	n = epoll_wait(ep, &got, 1, event_ms);
	check(n == 1 && got.events == EPOLLIN,
	      "epoll: EPOLLIN alone (events 0x%x)", n == 1 ? got.events : 0);
	check(pread(f, buf, sizeof(buf), 0) == sizeof(buf) &&
	      poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN,
	      "read() reads the memory and consumes nothing: still POLLIN");
	check(!wait_now(f, 0xff, &fired) && fired == 0x20 &&
	      poll(&pfd, 1, 0) == 0 && epoll_wait(ep, &got, 1, 0) == 0,
	      "WAIT consumes it: poll and epoll report nothing");
	close(ep);
	close(f);
}

/* Read @n bytes from @rfd within @ms. */
static int read_result_n(int rfd, void *buf, size_t n, int ms)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && read(rfd, buf, n) == (ssize_t)n;
}

/*
 * Review of issue 9 (4): a WAIT deadline is the caller's CLOCK_MONOTONIC, which in a time namespace is the host's plus
 * the namespace's offset. A child in a namespace a day ahead waits until
 * its now + 100 ms: it must time out then, not a day later.
 */
static void api_timens(const char *pb)
{
	const uint64_t day = 86400ull * 1000000000ull;
	struct { uint64_t now, el; int ret, err; } r = { 0 };
	int pfd[2], st;
	pid_t pid;

	if (pipe(pfd))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		FILE *f;
		pid_t in;

		close(pfd[0]);
		if (unshare(CLONE_NEWTIME)) {
			r.ret = -2;
			r.err = errno;
			goto send;
		}
		f = fopen("/proc/self/timens_offsets", "w");
		if (!f || fprintf(f, "monotonic 86400 0\n") < 0 || fclose(f)) {
			r.ret = -3;
			r.err = errno;
			goto send;
		}
		/* The namespace applies to children. */
		in = fork();
		if (!in) {
			struct ivshmem_wait w = { .mask = 1 };
			int fd = open(pb, O_RDWR);
			uint64_t t0;

			/* Without the offset the wait would last a day. */
			alarm(15);
			r.now = now_ns();
			w.deadline_ns = r.now + 100000000;
			t0 = now_ns();
			r.ret = ioctl(fd, IVSHMEM_IOCTL_WAIT, &w);
			r.err = r.ret ? errno : 0;
			r.el = now_ns() - t0;
			if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
				_exit(3);
			_exit(0);
		}
		_exit(in > 0 && waitpid(in, &st, 0) == in && WIFEXITED(st) ?
		      WEXITSTATUS(st) : 3);
send:
		if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
			_exit(3);
		_exit(0);
	}
	close(pfd[1]);
	if (!read_result_n(pfd[0], &r, sizeof(r), EVENT_MS)) {
		kill(pid, SIGKILL);
		r.ret = -4;
	}
	waitpid(pid, &st, 0);
	close(pfd[0]);
	/* Every kernel of the matrix has TIME_NS: -2 (unshare) fails. */
	check(r.ret == -1 && r.err == ETIMEDOUT && r.now > now_ns() + day / 2 &&
	      r.el >= 90000000 && r.el < 8000000000ull,
	      "a deadline in a time namespace a day ahead: ETIMEDOUT at its deadline (ret %d %s, %.1f ms; -2: unshare(CLONE_NEWTIME) failed)",
	      r.ret, r.err ? strerrorname_np(r.err) : "", r.el / 1e6);
}

/*
 * api A B PLAIN: the eventfd, wait and ring ioctls with good and bad
 * input; A and B are doorbell devices on one server, PLAIN has none.
 */
static int cmd_api(const char *pa, const char *pb, const char *pplain)
{
	struct dev a, b, plain;
	struct ivshmem_wait wreq;
	int efd1, efd2, b2, i;
	struct pollfd pfd;
	pthread_t th[4];
	struct waiter w;
	struct ringer r[4];
	unsigned int total;
	uint64_t t0, el, c0;

	dev_open(&a, pa);
	dev_open(&b, pb);
	dev_open(&plain, pplain);
	check((a.info.flags & (IVSHMEM_INFO_RING | IVSHMEM_INFO_RECEIVE)) ==
	      (IVSHMEM_INFO_RING | IVSHMEM_INFO_RECEIVE) &&
	      a.info.rx_mask == 0xff,
	      "doorbell device: can ring, can receive on all 8 (flags 0x%x, rx_mask 0x%x)",
	      a.info.flags, a.info.rx_mask);
	check(!(plain.info.flags & (IVSHMEM_INFO_RING | IVSHMEM_INFO_RECEIVE)) &&
	      plain.info.rx_mask == 0 && plain.info.vectors == 0,
	      "plain device: cannot ring or receive (flags 0x%x)",
	      plain.info.flags);

	api_bad_input(&a, &b, &plain, pb);

	/* Two files bind their own eventfd to one vector: both fire. */
	efd1 = eventfd(0, EFD_NONBLOCK);
	efd2 = eventfd(0, EFD_NONBLOCK);
	b2 = open(pb, O_RDWR);
	check(!bind_efd(b.fd, 0, efd1), "file 1 binds an eventfd to vector 0");
	check(!bind_efd(b2, 0, efd2), "file 2 binds an eventfd to vector 0");
	check(!ring(a.fd, b.info.peer_id, 0), "ring B vector 0");
	check(efd_wait(efd1, event_ms) == 1 && efd_wait(efd2, event_ms) == 1,
	      "both files' eventfds fire");
	/* Closing file 2 drops its binding; file 1's stays. */
	close(b2);
	c0 = irq_count(b.fd, 0);
	check(!ring(a.fd, b.info.peer_id, 0), "ring B vector 0 again");
	check(efd_wait(efd1, event_ms) == 1, "file 1's eventfd fires");
	check(wait_count(b.fd, 0, c0 + 1, event_ms) && efd_take(efd2) == 0,
	      "closed file 2's eventfd does not (checked after the interrupt was counted)");
	/* fd -1 unbinds. */
	check(!bind_efd(b.fd, 0, -1), "unbind with fd -1");
	check(!ring(a.fd, b.info.peer_id, 0), "ring B vector 0 once more");
	check(wait_count(b.fd, 0, c0 + 2, event_ms) && efd_take(efd1) == 0,
	      "the unbound eventfd does not fire (checked after the interrupt was counted)");

	/* Wait ioctl and poll(): this file has unconsumed rings on vector 0. */
	wreq = (struct ivshmem_wait){ .mask = 0xff };
	i = ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq);
	check(!i && wreq.fired == 1, "wait returns vector 0 fired (fired=0x%x)",
	      wreq.fired);
	wreq = (struct ivshmem_wait){ .mask = 0xff };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), ETIMEDOUT,
		  "consumed: a wait with deadline 0 checks once and finds nothing");
	t0 = now_ns();
	wreq = (struct ivshmem_wait){ .mask = 0xff, .deadline_ns = t0 + 50000000 };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), ETIMEDOUT,
		  "a wait 50 ms ahead times out");
	el = now_ns() - t0;
	/* Upper bound: a loaded TCG host may deschedule the vCPU for seconds;
	 * 8 s is still "not hung" (and not a day late).
	 */
	check(el >= 50000000 && el < 8000000000ull,
	      "the 50 ms wait lasted at least 50 ms (%.1f ms)", el / 1e6);
	t0 = now_ns();
	wreq = (struct ivshmem_wait){ .mask = 0xff, .fired = 7,
				      .deadline_ns = t0 + 100000000 };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), ETIMEDOUT,
		  "a wait 100 ms ahead times out");
	el = now_ns() - t0;
	check(el >= 100000000 && el < 8000000000ull &&
	      wreq.deadline_ns == t0 + 100000000 && wreq.mask == 0xff &&
	      wreq.fired == 0,
	      "... at its deadline (%.1f ms), inputs unchanged, fired zeroed",
	      el / 1e6);
	wreq = (struct ivshmem_wait){ .mask = 0xff, .deadline_ns = 1 };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), ETIMEDOUT,
		  "a wait for a time past checks and times out");
	wreq = (struct ivshmem_wait){ .mask = 0xff,
				      .deadline_ns = IVSHMEM_WAIT_FOREVER - 1 };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), EINVAL,
		  "a deadline above S64_MAX that is not IVSHMEM_WAIT_FOREVER (a negative time)");
	api_timens(pb);
	pfd = (struct pollfd){ .fd = b.fd, .events = POLLIN };
	check(poll(&pfd, 1, 0) == 0, "poll: not readable");
	check(!ring(a.fd, b.info.peer_id, 5), "ring B vector 5");
	check(poll(&pfd, 1, event_ms) == 1 && (pfd.revents & POLLIN),
	      "poll: readable after the ring");
	w = (struct waiter){ .fd = b.fd, .mask = 0x20,
			     .timeout_ns = IVSHMEM_WAIT_FOREVER };
	waiter_thread(&w);
	check(w.ret == 0 && w.fired == 0x20, "wait forever returns vector 5");

	/* fired is output only: a stale value on input is ignored. */
	wreq = (struct ivshmem_wait){ .mask = 0xff, .fired = 0xdead };
	CHECK_ERR(ioctl(b.fd, IVSHMEM_IOCTL_WAIT, &wreq), ETIMEDOUT,
		  "wait ignores fired on input");

	/*
	 * Two threads wait forever on one file: one ring wakes one of them,
	 * the other keeps waiting (no ETIMEDOUT) until a second ring. The
	 * 500 ms after the ring bound how late a second, wrong, wake-up
	 * would come: the driver wakes all waiters at once, in the handler.
	 */
	{
		struct waiter w2[2];
		int done, slept;

		for (i = 0; i < 2; i++) {
			w2[i] = (struct waiter){ .fd = b.fd, .mask = 0x40,
						 .timeout_ns = IVSHMEM_WAIT_FOREVER,
						 .ret = 1 };
			pthread_create(&th[i], NULL, waiter_thread, &w2[i]);
		}
		slept = waiter_blocked(&w2[0], 10000) &&
			waiter_blocked(&w2[1], 10000);
		ring(a.fd, b.info.peer_id, 6);
		/* The first wake-up may be late on a loaded host (it gets an
		 * interrupt's event_ms); a second, wrong, one would follow it
		 * at once.
		 */
		{
			uint64_t end = now_ns() + event_ms * 1000000ull;

			while (now_ns() < end && w2[0].ret == 1 &&
			       w2[1].ret == 1)
				usleep(1000);
			if (w2[0].ret == 1 && w2[1].ret == 1)
				event_timed_out(event_ms);
		}
		usleep(500000);
		done = (w2[0].ret != 1) + (w2[1].ret != 1);
		check(slept && done == 1,
		      "one ring wakes one of two waiters sharing a file (%d woke%s)",
		      done, slept ? "" : "; they never both slept in WAIT");
		ring(a.fd, b.info.peer_id, 6);
		pthread_join(th[0], NULL);
		pthread_join(th[1], NULL);
		check(w2[0].ret == 0 && w2[1].ret == 0 && w2[0].fired == 0x40 &&
		      w2[1].fired == 0x40,
		      "the second ring wakes the other (ret %d/%d)", w2[0].ret,
		      w2[1].ret);
	}

	api_bindings(&a, &b, pb);
	api_seen(&a, &b, pb);
	api_poll(&a, &b, pb);

	/*
	 * A thread blocked in wait is woken by a ring from another thread;
	 * its timeout gives the ring an interrupt's EVENT_MS.
	 */
	w = (struct waiter){ .fd = b.fd, .mask = 0x04,
			     .timeout_ns = EVENT_MS * 1000000ull };
	pthread_create(&th[0], NULL, waiter_thread, &w);
	i = waiter_blocked(&w, 10000);
	ring(a.fd, b.info.peer_id, 2);
	pthread_join(th[0], NULL);
	check(i && w.ret == 0 && w.fired == 0x04,
	      "a blocked waiter wakes for its vector (ret %d fired 0x%x%s)",
	      w.ret, w.fired, i ? "" : "; it never slept in WAIT");

	/* Closing the file while another thread waits on it. */
	b2 = open(pb, O_RDWR);
	w = (struct waiter){ .fd = b2, .mask = 0x80,
			     .timeout_ns = 12000000000ull };
	pthread_create(&th[0], NULL, waiter_thread, &w);
	i = waiter_blocked(&w, 10000);
	check(!close(b2) && i, "close the file while a thread waits on it");
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
	/* Close under them once they ring (not after a fixed sleep: on a
	 * loaded host no thread may have run by then).
	 */
	for (i = 0; i < 5000 && !(r[0].ok | r[1].ok | r[2].ok | r[3].ok); i++)
		usleep(1000);
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
	/* Bounds how late an interrupt of the last ring may still come. */
	usleep(200000);
	{
		uint64_t got = efd_take(b.efd[0]);

		/* QEMU merges doorbells that arrive before it injects. */
		check(got >= 1 && got <= total,
		      "%u concurrent rings gave %llu interrupt(s) on vector 0",
		      total, (unsigned long long)got);
	}
	check(!ring(a.fd, b.info.peer_id, 1) && efd_wait(b.efd[1], event_ms) == 1,
	      "the device still works after all that");
	close(efd1);
	close(efd2);
	return failures;
}

/* ------------------------------------------------ signals (issue 9, 2) */

enum sig_mode { SIG_NONE, SIG_HANDLER, SIG_HANDLER_RESTART };

/* sig_case()'s @again: what the child does after its first call. */
enum {
	AGAIN_ONCE = 1,		/* after EINTR, repeat the identical call */
	AGAIN_TWICE = 2,	/* ... and once more when that one ends */
	AGAIN_BETWEEN = 4,	/* a deadline-0 WAIT before the repeat */
};

#define MS(x)	((x) * 1000000ull)

struct sig_result {
	int ret, err, first_ret, first_err;
	uint32_t fired, flags_after;
	uint64_t deadline_after, deadline_in, start_ns, end_ns, last_ns;
	int handled;
	uint64_t stop_ns;	/* parent: when it sent SIGSTOP or SIGUSR1 */
	uint64_t cont_ns;	/* parent: when the child could run again */
};

/*
 * When sig_case() acts (ms after the child sleeps in WAIT) and how long a
 * SIGSTOP lasts; a case that needs other values sets them and puts them
 * back. The bounds the checks put on a wait's end leave SIG_SLACK for a
 * loaded host to wake the child late: each case is laid out so that the
 * bug it looks for ends the wait later than that.
 */
static unsigned int sig_at_ms = 300, sig_stop_ms = 1000;
#define SIG_SLACK	MS(2500)

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

/*
 * Child side: open @path (a fresh view), install the handler @mode asks
 * for, say "ready" on @wfd, wait, send the result. @again (AGAIN_*) says
 * what follows an EINTR; the calls reuse one structure, whose inputs
 * are checked to be unchanged by the driver.
 */
static void sig_child(const char *path, uint64_t timeout, enum sig_mode mode,
		      int again, int wfd)
{
	struct ivshmem_wait req = { .mask = 1 };
	struct sig_result r = { 0 };
	struct sigaction sa = { .sa_handler = on_usr1 };
	int fd = open(path, O_RDWR);
	uint64_t t;

	if (fd < 0)
		_exit(3);
	if (mode != SIG_NONE) {
		sa.sa_flags = mode == SIG_HANDLER_RESTART ? SA_RESTART : 0;
		sigaction(SIGUSR1, &sa, NULL);
	}
	if (write(wfd, "r", 1) != 1)
		_exit(3);
	r.start_ns = now_ns();
	req.deadline_ns = timeout == IVSHMEM_WAIT_FOREVER ? timeout :
			  r.start_ns + timeout;
	r.deadline_in = req.deadline_ns;
	r.ret = ioctl(fd, IVSHMEM_IOCTL_WAIT, &req);
	r.err = r.ret ? errno : 0;
	r.first_ret = r.ret;
	r.first_err = r.err;
	r.flags_after = req.flags;
	r.deadline_after = req.deadline_ns;
	r.last_ns = r.start_ns;
	if ((again & (AGAIN_ONCE | AGAIN_TWICE)) && r.ret && r.err == EINTR) {
		if (again & AGAIN_BETWEEN) {
			uint32_t fired;

			wait_now(fd, 1, &fired);
		}
		r.last_ns = now_ns();
		r.ret = ioctl(fd, IVSHMEM_IOCTL_WAIT, &req);
		r.err = r.ret ? errno : 0;
		if ((again & AGAIN_TWICE) && r.ret) {
			r.last_ns = now_ns();
			r.ret = ioctl(fd, IVSHMEM_IOCTL_WAIT, &req);
			r.err = r.ret ? errno : 0;
		}
		if (req.flags != r.flags_after ||
		    req.deadline_ns != r.deadline_after)
			r.flags_after = ~0u;
	}
	t = now_ns();
	r.end_ns = t;
	r.fired = req.fired;
	r.handled = handled;
	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(3);
	_exit(0);
}

/*
 * The child sleeps in ioctl(): state S and, first in /proc/PID/syscall,
 * the architecture's number of ioctl (16 on x86_64, 29 on arm64).
 */
static int child_blocked(pid_t pid, int ms)
{
	uint64_t end = now_ns() + ms * 1000000ull;
	char path[64], buf[256], nr[16];
	FILE *f;

	snprintf(nr, sizeof(nr), "%d ", SYS_ioctl);
	while (now_ns() < end) {
		int in_ioctl = 0, sleeping = 0;

		snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
		f = fopen(path, "r");
		if (f) {
			in_ioctl = fgets(buf, sizeof(buf), f) &&
				   !strncmp(buf, nr, strlen(nr));
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (f) {
			char *p = fgets(buf, sizeof(buf), f) ?
				  strrchr(buf, ')') : NULL;

			sleeping = p && p[1] == ' ' && p[2] == 'S';
			fclose(f);
		}
		if (in_ioctl && sleeping)
			return 1;
		usleep(5000);
	}
	return 0;
}

static int read_result(int rfd, struct sig_result *r, int ms)
{
	struct pollfd p = { .fd = rfd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 &&
	       read(rfd, r, sizeof(*r)) == (ssize_t)sizeof(*r);
}

enum sig_action { ACT_STOP, ACT_PTRACE, ACT_USR1 };

/*
 * One case: a child waits with @timeout; sig_at_ms after it sleeps it gets
 * @act (SIGSTOP, then SIGCONT sig_stop_ms later; a ptrace attach and
 * detach; or SIGUSR1);
 * with @ring_after, the parent then rings B vector 0 through @a.
 */
static int sig_case(struct dev *a, struct dev *b, const char *pb,
		    uint64_t timeout, enum sig_mode mode, enum sig_action act,
		    int ring_after, int again, struct sig_result *r)
{
	uint64_t stop_ns = 0, cont_ns = 0;
	int pfd[2], st, ok = 1;
	char c;
	pid_t pid;

	if (pipe(pfd))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(pfd[0]);
		sig_child(pb, timeout, mode, again, pfd[1]);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1 || !child_blocked(pid, 10000)) {
		ok = 0;
		goto out;
	}
	usleep(sig_at_ms * 1000);
	if (act == ACT_STOP) {
		stop_ns = now_ns();
		kill(pid, SIGSTOP);
		ok &= waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st);
		usleep(sig_stop_ms * 1000);
		cont_ns = now_ns();
		kill(pid, SIGCONT);
		ok &= waitpid(pid, &st, WCONTINUED) == pid && WIFCONTINUED(st);
	} else if (act == ACT_PTRACE) {
		ok &= !ptrace(PTRACE_ATTACH, pid, 0, 0);
		ok &= waitpid(pid, &st, 0) == pid && WIFSTOPPED(st);
		usleep(500000);
		ok &= !ptrace(PTRACE_DETACH, pid, 0, 0);
	} else {
		stop_ns = now_ns();
		kill(pid, SIGUSR1);
	}
	if (ring_after) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };

		/* Still waiting, not returned: only then ring. */
		ok &= poll(&p, 1, 0) == 0 && child_blocked(pid, 10000);
		ok &= !ring(a->fd, b->info.peer_id, 0);
	}
	ok &= read_result(pfd[0], r, 20000);
	r->stop_ns = stop_ns;
	r->cont_ns = cont_ns;
out:
	if (!ok)
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
	close(pfd[0]);
	return ok;
}

static const char *ename(int err)
{
	return err ? strerrorname_np(err) : "no error";
}

static uint64_t max_u64(uint64_t x, uint64_t y)
{
	return x > y ? x : y;
}

/* The caller's structure is as it gave it: the driver writes only fired. */
static int untouched(const struct sig_result *r)
{
	return r->flags_after == 0 && r->deadline_after == r->deadline_in;
}

/*
 * A SIGSTOP case of @timeout: a restart that adds the stop to the wait
 * shows only if the stop began more than SIG_SLACK before the deadline.
 * On a loaded host it may come later; then the case runs again (three
 * times at most; a correct driver passes the checks either way).
 */
static int stop_case(struct dev *a, struct dev *b, const char *pb,
		     uint64_t timeout, int again, struct sig_result *r)
{
	int ok, tries = 0;

	do
		ok = sig_case(a, b, pb, timeout, SIG_NONE, ACT_STOP, 0, again,
			      r);
	while (ok && ++tries < 3 &&
	       r->stop_ns + SIG_SLACK + MS(500) > r->start_ns + timeout);
	return ok;
}

/*
 * A SIGUSR1 case of @timeout with a handler of @mode: the signal must end
 * the first wait (EINTR) before its deadline, early enough for the checks
 * to tell a continued wait from a fresh one. On a loaded host it may come
 * within 500 ms of the deadline, or after it; then the case runs again
 * (three times at most; a correct driver passes the checks either way).
 */
static int usr1_case(struct dev *a, struct dev *b, const char *pb,
		     uint64_t timeout, enum sig_mode mode, int again,
		     struct sig_result *r)
{
	int ok, tries = 0;

	do
		ok = sig_case(a, b, pb, timeout, mode, ACT_USR1, 0, again, r);
	while (ok && ++tries < 3 &&
	       r->stop_ns + MS(500) > r->start_ns + timeout);
	return ok;
}

/*
 * A WAIT on a structure the driver cannot write fails with EFAULT before
 * it consumes anything: the pending ring on B vector 0 is still there.
 */
static void signals_readonly(struct dev *a, struct dev *b)
{
	struct ivshmem_wait *ro, req = { .mask = 1 };
	uint32_t fired = 0;
	uint64_t c0 = irq_count(b->fd, 0);

	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		die("mmap");
	*ro = (struct ivshmem_wait){ .mask = 1,
				     .deadline_ns = IVSHMEM_WAIT_FOREVER };
	mprotect(ro, 4096, PROT_READ);
	check(!ring(a->fd, b->info.peer_id, 0) &&
	      wait_count(b->fd, 0, c0 + 1, event_ms),
	      "ring B vector 0 for the read-only case");
	CHECK_ERR(ioctl(b->fd, IVSHMEM_IOCTL_WAIT, ro), EFAULT,
		  "WAIT on a read-only structure, an interrupt pending: EFAULT at once");
	check(!wait_now(b->fd, 1, &fired) && fired == 1,
	      "... and it consumed nothing: the next WAIT reports vector 0 (fired 0x%x)",
	      fired);
	CHECK_ERR(ioctl(b->fd, IVSHMEM_IOCTL_WAIT, &req), ETIMEDOUT,
		  "... once");
	munmap(ro, 4096);
}

/*
 * signals A B: IVSHMEM_IOCTL_WAIT on B and signals. The deadline is
 * absolute, so the driver returns ERESTARTSYS: stops, ptrace and
 * SA_RESTART handlers restart the wait, which keeps its deadline; a
 * handler without SA_RESTART ends it with EINTR; the caller's structure
 * is never rewritten (but for fired), and repeating the call after EINTR
 * continues to the same deadline. A rings B vector 0 where a case needs
 * it.
 */
static int cmd_signals(const char *pa, const char *pb)
{
	const uint64_t three_s = MS(3000), four_s = MS(4000), six_s = MS(6000);
	struct sig_result r;
	struct dev a, b;
	uint64_t el;
	int ok;

	dev_open(&a, pa);
	dev_open(&b, pb);

	ok = sig_case(&a, &b, pb, IVSHMEM_WAIT_FOREVER, SIG_NONE, ACT_STOP, 1,
		      0, &r);
	check(ok && r.ret == 0 && r.fired == 1,
	      "wait forever survives SIGSTOP/SIGCONT and returns the ring (ret %d %s)",
	      r.ret, r.err ? strerrorname_np(r.err) : "");

	ok = sig_case(&a, &b, pb, IVSHMEM_WAIT_FOREVER, SIG_NONE, ACT_PTRACE, 1,
		      0, &r);
	check(ok && r.ret == 0 && r.fired == 1,
	      "wait forever survives a ptrace attach and detach (ret %d %s)",
	      r.ret, r.err ? strerrorname_np(r.err) : "");

	/*
	 * A 4 s wait stopped from 0.3 s to 3.3 s: it ends at 4 s (or as soon
	 * as it runs again, if the SIGCONT came later); a restart that adds
	 * the stop, or starts afresh, ends 3.7 s or more after the SIGCONT.
	 */
	sig_stop_ms = 3000;
	ok = stop_case(&a, &b, pb, four_s, 0, &r);
	sig_stop_ms = 1000;
	el = r.end_ns - r.start_ns;
	check(ok && r.ret == -1 && r.err == ETIMEDOUT && el >= four_s &&
	      r.end_ns < max_u64(r.start_ns + four_s, r.cont_ns) + SIG_SLACK,
	      "a 4 s wait stopped for 3 s times out at 4 s, not 7.3 s (%s after %.0f ms)",
	      ename(r.err), el / 1e6);
	check(ok && untouched(&r),
	      "... and the restart left the caller's structure alone (flags 0x%x, deadline %llu)",
	      r.flags_after, (unsigned long long)r.deadline_after);

	/* With SA_RESTART the handler runs and the wait goes on. */
	ok = sig_case(&a, &b, pb, IVSHMEM_WAIT_FOREVER, SIG_HANDLER_RESTART,
		      ACT_USR1, 1, 0, &r);
	check(ok && r.ret == 0 && r.fired == 1 && r.handled == 1,
	      "with SA_RESTART a wait forever is restarted after the handler and returns the ring that came later (ret %d %s, handled %d)",
	      r.ret, ename(r.err), r.handled);

	ok = sig_case(&a, &b, pb, IVSHMEM_WAIT_FOREVER, SIG_HANDLER, ACT_USR1,
		      0, 0, &r);
	check(ok && r.ret == -1 && r.err == EINTR && r.handled == 1,
	      "a handler without SA_RESTART ends a wait forever with EINTR (%s)",
	      ename(r.err));

	/*
	 * A 6 s wait interrupted at 3 s: with SA_RESTART the one call ends
	 * at 6 s; without, the call made again after EINTR does. A restart
	 * or repeat that started afresh would end at 9 s or later.
	 */
	sig_at_ms = 3000;
	ok = usr1_case(&a, &b, pb, six_s, SIG_HANDLER_RESTART, 0, &r);
	el = r.end_ns - r.start_ns;
	check(ok && r.handled == 1 && r.ret == -1 && r.err == ETIMEDOUT &&
	      el >= six_s && el < six_s + SIG_SLACK && untouched(&r),
	      "with SA_RESTART a 6 s wait signalled at 3 s ends at 6 s in one call (%s, %.0f ms)",
	      ename(r.err), el / 1e6);

	ok = usr1_case(&a, &b, pb, six_s, SIG_HANDLER, AGAIN_ONCE, &r);
	el = r.end_ns - r.start_ns;
	check(ok && r.first_err == EINTR && untouched(&r),
	      "EINTR leaves the caller's structure as it was (%s, flags 0x%x, deadline %llu)",
	      ename(r.first_err), r.flags_after,
	      (unsigned long long)r.deadline_after);
	check(ok && r.ret == -1 && r.err == ETIMEDOUT && el >= six_s &&
	      el < six_s + SIG_SLACK && r.last_ns + six_s > r.end_ns,
	      "repeating the call after EINTR ends at the first call's deadline (%.0f ms, repeated at %.0f ms)",
	      el / 1e6, (r.last_ns - r.start_ns) / 1e6);

	/* Once the deadline has passed, the same structure returns at once. */
	sig_at_ms = 1500;
	ok = usr1_case(&a, &b, pb, three_s, SIG_HANDLER, AGAIN_TWICE, &r);
	el = r.end_ns - r.last_ns;
	check(ok && r.first_err == EINTR && r.ret == -1 && r.err == ETIMEDOUT &&
	      el < SIG_SLACK && untouched(&r),
	      "a third call with the passed deadline checks once and times out (%s, %.0f ms)",
	      ename(r.err), el / 1e6);

	/*
	 * Another WAIT in between changes nothing: no state is kept per
	 * task or per structure, so the repeat still ends at 3 s, not 1.5 s
	 * after the EINTR.
	 */
	ok = usr1_case(&a, &b, pb, three_s, SIG_HANDLER,
		       AGAIN_ONCE | AGAIN_BETWEEN, &r);
	sig_at_ms = 300;
	el = r.end_ns - r.start_ns;
	check(ok && r.first_err == EINTR && r.ret == -1 && r.err == ETIMEDOUT &&
	      el >= three_s && el < three_s + SIG_SLACK,
	      "after another WAIT in between, the repeat still ends at the 3 s deadline (%s, %.0f ms)",
	      ename(r.err), el / 1e6);

	signals_readonly(&a, &b);
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
	int fd, slept, wrote;

	dev_open(&d, path);
	dev_bind_all(&d);
	w = (struct waiter){ .fd = d.fd, .mask = 1,
			     .timeout_ns = IVSHMEM_WAIT_FOREVER };
	pthread_create(&th, NULL, waiter_thread, &w);
	slept = waiter_blocked(&w, 10000);
	fd = open("/sys/bus/pci/drivers/ivshmem/unbind", O_WRONLY);
	/* Unbind even if it was not seen asleep: the join below needs it. */
	wrote = fd >= 0 && write(fd, bdf, strlen(bdf)) == (ssize_t)strlen(bdf);
	check(slept && wrote,
	      "unbind %s while a thread waits forever (it sleeps in WAIT)",
	      bdf);
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

/*
 * Flags in the shared board that another guest sets: polled every 10 ms.
 * They order start and stop, never a measured latency; a finer poll only
 * takes CPU from the guests beside it (a debug guest under TCG waits for
 * a partner that may still be booting, or for a whole ring phase).
 */
#define FLAG_POLL_US 10000

static int wait_flag(volatile uint32_t *flag, int secs)
{
	uint64_t end = now_ns() + secs * 1000000000ull;

	while (!*flag) {
		if (now_ns() > end)
			return -1;
		usleep(FLAG_POLL_US);
	}
	return 0;
}

static int wait_u64(volatile uint64_t *v, uint64_t want, int secs)
{
	uint64_t end = now_ns() + secs * 1000000000ull;

	while (*v < want) {
		if (now_ns() > end)
			return -1;
		usleep(FLAG_POLL_US);
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * With BENCH_HIST=1 (make bench) also a histogram: "bench hist WHAT: K:C
 * ..." counts C round trips of [2^K, 2^(K+1)) microseconds.
 */
static void print_hist(const char *what, const uint64_t *lat, int n)
{
	int count[40] = { 0 }, i, k;

	for (i = 0; i < n; i++) {
		uint64_t us = lat[i] / 1000;

		for (k = 0; k < 39 && us >= 2; k++)
			us >>= 1;
		count[k]++;
	}
	printf("bench hist %s:", what);
	for (k = 0; k < 40; k++)
		if (count[k])
			printf(" %d:%d", k, count[k]);
	printf("\n");
}

static void print_lat(const char *what, uint64_t *lat, int n)
{
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("bench %s: n=%d p50=%.1f us p99=%.1f us max=%.1f us\n", what, n,
	       lat[n / 2] / 1000.0, lat[n * 99 / 100] / 1000.0,
	       lat[n - 1] / 1000.0);
	if (getenv("BENCH_HIST") && !strcmp(getenv("BENCH_HIST"), "1"))
		print_hist(what, lat, n);
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
			got = efd_wait(d.efd[0], event_ms);
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

			got = efd_wait(d.efd[0], i == 1 ? 60000 : event_ms);
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
		if (!efd_wait(s->efd_in, event_ms)) {
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
static int cmd_bench(const char *pa, const char *pb, int n, const char *label)
{
	struct dev a, b;
	struct side sa, sb;
	uint64_t *lat_db = calloc(n, 8), *lat_ev = calloc(n, 8);
	char what[160];
	int e1 = eventfd(0, EFD_NONBLOCK), e2 = eventfd(0, EFD_NONBLOCK);

	/* BENCH_FIFO=PRIO: the threads at SCHED_FIFO PRIO (they inherit it). */
	if (getenv("BENCH_FIFO")) {
		struct sched_param sp = {
			.sched_priority = atoi(getenv("BENCH_FIFO")) };

		if (sched_setscheduler(0, SCHED_FIFO, &sp))
			die("sched_setscheduler(SCHED_FIFO)");
	}
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
	      "[%s] doorbell ping-pong: %d round trips, %d lost", label, n,
	      sa.lost + sb.lost);

	sa = (struct side){ .n = n, .lat = lat_ev, .use_eventfd_only = 1,
			    .efd_in = e1, .efd_out = e2, .starter = 1 };
	sb = (struct side){ .n = n, .use_eventfd_only = 1, .efd_in = e2,
			    .efd_out = e1 };
	pingpong_threads(&sa, &sb);
	check(sa.lost == 0 && sb.lost == 0,
	      "[%s] eventfd ping-pong: %d round trips, %d lost", label, n,
	      sa.lost + sb.lost);

	snprintf(what, sizeof(what), "[%s] doorbell round trip (two peers, one guest)",
		 label);
	print_lat(what, lat_db, n);
	snprintf(what, sizeof(what), "[%s] eventfd round trip (two threads, baseline)",
		 label);
	print_lat(what, lat_ev, n);
	printf("bench [%s] ratio doorbell/eventfd: p50 %.2fx p99 %.2fx max %.2fx\n",
	       label, (double)lat_db[n / 2] / lat_ev[n / 2],
	       (double)lat_db[n * 99 / 100] / lat_ev[n * 99 / 100],
	       (double)lat_db[n - 1] / lat_ev[n - 1]);
	return failures;
}

/*
 * churn A B: ping-pong between A and B until the board's stop flag is
 * set, while peers come and go; count visitor rings on A's vector 1.
 * Gives up after CHURN_MAX_S: a visitor that never came fails a check
 * rather than keeping the guest (and a shared guest's later tests) to
 * its timeout.
 */
#define CHURN_MAX_S 400
static int cmd_churn(const char *pa, const char *pb)
{
	struct dev a, b;
	struct board *bd;
	int trips = 0, lost = 0;
	uint64_t visits = 0, deadline = now_ns() + CHURN_MAX_S * 1000000000ull;

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
	while (!bd->stop && lost < 10 && now_ns() < deadline) {
		ring(a.fd, b.info.peer_id, 0);
		if (!efd_wait(b.efd[0], event_ms)) {
			lost++;
			continue;
		}
		ring(b.fd, a.info.peer_id, 0);
		if (!efd_wait(a.efd[0], event_ms)) {
			lost++;
			continue;
		}
		trips++;
		visits += efd_take(a.efd[1]);
		/* Leave CPU time to the guests booting beside this one. */
		usleep(2000);
	}
	/* The visitor's rings came before its stop flag: wait for them. */
	visits += visits ? efd_take(a.efd[1]) : efd_wait(a.efd[1], event_ms);
	check(bd->stop, "the visitor set the stop flag (within %d s)",
	      CHURN_MAX_S);
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

/* ------------------------------------------ two threads, one file (1) */

static volatile int stop_threads;
static int tw_fd, tw_ack_fd, tw_reports, tw_errors;
static unsigned int tw_ack_peer;
static pthread_mutex_t tw_lock = PTHREAD_MUTEX_INITIALIZER;

static void *tw_thread(void *arg)
{
	int *mine = arg;

	while (!stop_threads) {
		struct ivshmem_wait req = { .mask = 1,
					    .deadline_ns = IVSHMEM_WAIT_FOREVER };

		if (ioctl(tw_fd, IVSHMEM_IOCTL_WAIT, &req)) {
			if (errno != EINTR) {
				pthread_mutex_lock(&tw_lock);
				tw_errors++;
				pthread_mutex_unlock(&tw_lock);
			}
			continue;
		}
		pthread_mutex_lock(&tw_lock);
		tw_reports++;
		(*mine)++;
		pthread_mutex_unlock(&tw_lock);
		/* The acknowledgement: one ring back per report. */
		ring(tw_ack_fd, tw_ack_peer, 0);
	}
	return NULL;
}

/*
 * wait-threads listen|ring DEV N: two guests. The listener runs two
 * threads in WAIT(FOREVER) on one file and rings back once per report;
 * the ringer rings N times, each after the acknowledgement of the one
 * before. Across both threads exactly N must be reported: one interrupt
 * reported twice is an extra report (and an extra acknowledgement).
 */
static int cmd_wait_threads(const char *role, const char *path, int n)
{
	int listen = !strcmp(role, "listen"), i, lost = 0, per[2] = { 0 };
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct board *bd;
	pthread_t th[2];
	struct dev d;

	dev_open(&d, path);
	dev_bind_all(&d);
	bd = map_board(d.fd);
	if (listen) {
		bd->pong_peer = d.info.peer_id;
		check(!wait_flag(&bd->ping_ready, 300), "the ringer is ready");
		tw_fd = open(path, O_RDWR);
		tw_ack_fd = d.fd;
		tw_ack_peer = bd->ping_peer;
		sigaction(SIGUSR1, &sa, NULL);
		for (i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, tw_thread, &per[i]);
		usleep(200000);
		bd->pong_ready = 1;
		check(!wait_flag(&bd->stop, 1200), "the ringer finished");
		/* A doubled report would come at once; 1 s bounds it. */
		usleep(1000000);
		stop_threads = 1;
		/* EINTR ends each thread's wait; repeat in case one was
		 * between its check of stop_threads and the ioctl.
		 */
		for (i = 0; i < 2; i++) {
			do
				pthread_kill(th[i], SIGUSR1);
			while (pthread_timedjoin_np(th[i], NULL,
						    &(struct timespec){
							.tv_sec = time(NULL) + 1 }));
		}
		check(tw_reports == (int)bd->seq && tw_errors == 0,
		      "two threads on one file reported %d interrupts for %llu rings (%d + %d), %d errors",
		      tw_reports, (unsigned long long)bd->seq, per[0], per[1],
		      tw_errors);
	} else {
		bd->ping_peer = d.info.peer_id;
		bd->ping_ready = 1;
		check(!wait_flag(&bd->pong_ready, 300), "the listener is ready");
		for (i = 0; i < n && lost < 10; i++) {
			ring(d.fd, bd->pong_peer, 0);
			if (!efd_wait(d.efd[0], event_ms))
				lost++;
		}
		/* Late or doubled acknowledgements. */
		usleep(500000);
		bd->seq = i;
		__sync_synchronize();
		bd->stop = 1;
		check(lost == 0, "%d rings, each acknowledged (%d lost)", i,
		      lost);
	}
	return failures;
}

/* ---------------------------------------- partial MSI-X (issue 9, 3) */

/*
 * nomsi DEV: a guest booted with pci=nomsi has no vector but rings: the
 * receiving side is "partial-rx" in another guest, which acknowledges
 * through the shared memory (this guest cannot receive).
 */
static int cmd_nomsi(const char *path)
{
	struct ivshmem_wait wreq = { .mask = 1 };
	struct pollfd pfd;
	struct board *bd;
	struct dev d;
	int efd = eventfd(0, 0), v;

	dev_open(&d, path);
	/* MAP_WB and DMABUF depend on the BAR, not on interrupts. */
	check((d.info.flags & ~(IVSHMEM_INFO_MAP_WB | IVSHMEM_INFO_DMABUF)) ==
	      IVSHMEM_INFO_RING &&
	      d.info.vectors == 0 &&
	      d.info.rx_mask == 0,
	      "pci=nomsi: INFO says can ring, cannot receive (flags 0x%x, vectors %u, rx_mask 0x%x)",
	      d.info.flags, d.info.vectors, d.info.rx_mask);
	CHECK_ERR(bind_efd(d.fd, 0, efd), EOPNOTSUPP, "pci=nomsi: bind refused");
	CHECK_ERR(ioctl(d.fd, IVSHMEM_IOCTL_WAIT, &wreq), EOPNOTSUPP,
		  "pci=nomsi: wait refused");
	CHECK_ERR(set_seen(d.fd, 1, NULL), EOPNOTSUPP,
		  "pci=nomsi: set-seen refused");
	pfd = (struct pollfd){ .fd = d.fd, .events = POLLIN | POLLPRI };
	check(poll(&pfd, 1, 0) == 0, "pci=nomsi: poll reports nothing");

	bd = map_board(d.fd);
	bd->ping_peer = d.info.peer_id;
	bd->ping_ready = 1;
	check(!wait_flag(&bd->pong_ready, 300), "the receiver is ready (peer %u)",
	      bd->pong_peer);
	for (v = 0; v < 2; v++) {
		check(!ring(d.fd, bd->pong_peer, v),
		      "pci=nomsi: ring peer %u vector %d", bd->pong_peer, v);
		int late = wait_u64(&bd->reply, v + 1, 60);

		check(!late, "the receiver got vector %d (acknowledged %llu)",
		      v, (unsigned long long)bd->reply);
	}
	/*
	 * Vectors the receiver was not granted: accepted (the ringer cannot
	 * know the receiver's grant), then vector 0 again as a fence the
	 * receiver waits for before it checks that none reached a granted
	 * vector.
	 */
	for (v = 2; v < 8; v++)
		if (ring(d.fd, bd->pong_peer, v))
			break;
	check(v == 8 && !ring(d.fd, bd->pong_peer, 0),
	      "pci=nomsi: rings to the receiver's ungranted vectors 2-7 are accepted, then vector 0 (v %d)",
	      v);
	bd->stop = 1;
	return failures;
}

/*
 * partial-rx DEV: sysfs max_vectors set to 2, so the device (8 vectors)
 * is granted fewer: vectors 0 and 1 receive, 2-7 are refused.
 */
static int cmd_partial_rx(const char *path)
{
	struct board *bd;
	struct dev d;
	int v, e;

	dev_open(&d, path);
	check((d.info.flags & ~(IVSHMEM_INFO_MAP_WB | IVSHMEM_INFO_DMABUF)) ==
	      (IVSHMEM_INFO_RING | IVSHMEM_INFO_RECEIVE) &&
	      d.info.vectors == 2 && d.info.rx_mask == 0x3,
	      "2 of 8 vectors: INFO says can ring and receive on 0-1 (flags 0x%x, vectors %u, rx_mask 0x%x)",
	      d.info.flags, d.info.vectors, d.info.rx_mask);
	e = eventfd(0, 0);
	CHECK_ERR(bind_efd(d.fd, 2, e), EINVAL, "bind an ungranted vector");
	close(e);
	dev_bind_all(&d);
	bd = map_board(d.fd);
	bd->pong_peer = d.info.peer_id;
	bd->pong_ready = 1;
	/* The ringer is a guest of its own, which may boot minutes later. */
	e = wait_flag(&bd->ping_ready, 200);
	for (v = 0; v < 2; v++) {
		uint64_t got = e ? 0 : efd_wait(d.efd[v], 60000);

		check(got == 1, "vector %d received the ring from the pci=nomsi guest%s",
		      v, e ? " (it never came)" : "");
		__sync_synchronize();
		bd->reply = v + 1;
	}
	check(!wait_flag(&bd->stop, 60), "the ringer is done");
	/*
	 * The fence on vector 0 came after the rings to 2-7; 500 ms after
	 * it bound how late a misrouted one would still come. Then vector
	 * 0 has had its two rings, vector 1 its one, nothing more.
	 */
	{
		uint64_t fence = efd_wait(d.efd[0], event_ms), e0, e1;

		usleep(500000);
		e0 = efd_take(d.efd[0]);
		e1 = efd_take(d.efd[1]);
		check(fence == 1 && e0 == 0 && e1 == 0 &&
		      irq_count(d.fd, 0) == 2 && irq_count(d.fd, 1) == 1,
		      "rings to ungranted vectors reach no granted one (fence %llu, then %llu/%llu; interrupts %llu/%llu, want 2/1)",
		      (unsigned long long)fence, (unsigned long long)e0,
		      (unsigned long long)e1,
		      (unsigned long long)irq_count(d.fd, 0),
		      (unsigned long long)irq_count(d.fd, 1));
	}
	return failures;
}

/* ---------------------------------------- sysfs max_vectors (issue 24) */

/* The contents of sysfs attribute @name of @dev, newline stripped. */
static void sysfs_get(const char *dev, const char *name, char *buf,
		      size_t len)
{
	const char *base = strrchr(dev, '/');
	char path[128];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/ivshmem/%s/%s",
		 base ? base + 1 : dev, name);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = 0;
}

/* Write @val to @dev's max_vectors in one write(): 0 or the errno. */
static int max_vectors_put(const char *dev, const char *val)
{
	const char *base = strrchr(dev, '/');
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/sys/class/ivshmem/%s/max_vectors",
		 base ? base + 1 : dev);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		err = errno;
	close(fd);
	return err;
}

/* "max_vectors vectors rx_mask" of @dev, for comparing states. */
static void vec_state(const char *dev, char *buf, size_t len)
{
	char m[32], v[32], r[32];

	sysfs_get(dev, "max_vectors", m, sizeof(m));
	sysfs_get(dev, "vectors", v, sizeof(v));
	sysfs_get(dev, "rx_mask", r, sizeof(r));
	snprintf(buf, len, "%s %s %s", m, v, r);
}

/* A listener for the kernel's uevents (what udevd reads). */
static int uevent_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
		       NETLINK_KOBJECT_UEVENT);

	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)))
		die("uevent socket");
	return s;
}

/* True if a "change" uevent of @dev arrives on @s within @ms. */
static int uevent_change(int s, const char *dev, int ms)
{
	const char *base = strrchr(dev, '/');
	uint64_t end = now_ns() + ms * 1000000ull;
	char buf[4096], want[64];

	snprintf(want, sizeof(want), "/ivshmem/%s", base ? base + 1 : dev);
	while (now_ns() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) != 1)
			continue;
		n = recv(s, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = 0;
		if (!strncmp(buf, "change@", 7) && strstr(buf, want) &&
		    !strcmp(strstr(buf, want), want))
			return 1;
	}
	return 0;
}

/*
 * max-vectors DEV N: the sysfs max_vectors of a doorbell device with 8
 * vectors, no file open. Bad input (a value outside 1-8, a sign, another
 * base, an overflow, trailing text) fails with EINVAL and changes
 * nothing; a store while a file is open fails with EBUSY; a good one
 * sets the vectors up again, says so with a change uevent, and ends at N.
 */
static int cmd_max_vectors(const char *dev, const char *n)
{
	static const char *const bad[] = {
		"0", "9", "+3", "-1", " 3", "0x3", "3 4", "abc",
		"4294967298", "99999999999999999999999",
	};
	char before[96], after[96], want[96];
	unsigned int i;
	int fd, err, s;

	vec_state(dev, before, sizeof(before));
	check(!strcmp(before, "8 8 0xff"),
	      "max_vectors starts at 8, all 8 vectors receive (%s)", before);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = max_vectors_put(dev, bad[i]);
		check(err == EINVAL, "max_vectors \"%s\": EINVAL (%s)", bad[i],
		      ename(err));
	}
	vec_state(dev, after, sizeof(after));
	check(!strcmp(before, after),
	      "the refused stores changed nothing (%s)", after);

	fd = open(dev, O_RDONLY);
	err = max_vectors_put(dev, "4");
	close(fd);
	vec_state(dev, after, sizeof(after));
	check(fd >= 0 && err == EBUSY && !strcmp(before, after),
	      "max_vectors 4 while a file is open: EBUSY, nothing changed (%s, %s)",
	      ename(err), after);

	s = uevent_open();
	err = max_vectors_put(dev, "3\n");
	vec_state(dev, after, sizeof(after));
	check(!err && !strcmp(after, "3 3 0x7") && uevent_change(s, dev, 5000),
	      "max_vectors \"3\\n\": 3 vectors receive, a change uevent (%s, %s)",
	      ename(err), after);
	err = max_vectors_put(dev, n);
	vec_state(dev, after, sizeof(after));
	snprintf(want, sizeof(want), "%s %s 0x%x", n, n,
		 (1u << atoi(n)) - 1);
	check(!err && !strcmp(after, want) && uevent_change(s, dev, 5000),
	      "max_vectors %s: %s (%s, %s)", n, want, ename(err), after);
	close(s);
	return failures;
}

/*
 * max-vectors-nospc DEV: on a device that gets no vector (pci=nomsi) a
 * store fails with ENOSPC and leaves max_vectors as it was.
 */
static int cmd_max_vectors_nospc(const char *dev)
{
	char before[96], after[96];
	int err;

	vec_state(dev, before, sizeof(before));
	err = max_vectors_put(dev, "4");
	vec_state(dev, after, sizeof(after));
	check(err == ENOSPC && !strcmp(before, "8 0 0x0") &&
	      !strcmp(before, after),
	      "pci=nomsi: max_vectors 4 fails with ENOSPC, the old limit stays (%s, %s)",
	      ename(err), after);
	return failures;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ivshmem_doorbell vectors A B\n"
		"       ivshmem_doorbell api A B PLAIN\n"
		"       ivshmem_doorbell unbind-wait DEV BDF\n"
		"       ivshmem_doorbell signals A B\n"
		"       ivshmem_doorbell wait-threads listen|ring DEV N\n"
		"       ivshmem_doorbell nomsi DEV\n"
		"       ivshmem_doorbell partial-rx DEV\n"
		"       ivshmem_doorbell max-vectors DEV N\n"
		"       ivshmem_doorbell max-vectors-nospc DEV\n"
		"       ivshmem_doorbell pingpong ping|pong DEV N\n"
		"       ivshmem_doorbell bench A B N [LABEL]\n"
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
	else if (!strcmp(argv[1], "signals") && argc == 4)
		ret = cmd_signals(argv[2], argv[3]);
	else if (!strcmp(argv[1], "wait-threads") && argc == 5)
		ret = cmd_wait_threads(argv[2], argv[3], atoi(argv[4]));
	else if (!strcmp(argv[1], "nomsi") && argc == 3)
		ret = cmd_nomsi(argv[2]);
	else if (!strcmp(argv[1], "partial-rx") && argc == 3)
		ret = cmd_partial_rx(argv[2]);
	else if (!strcmp(argv[1], "max-vectors") && argc == 4)
		ret = cmd_max_vectors(argv[2], argv[3]);
	else if (!strcmp(argv[1], "max-vectors-nospc") && argc == 3)
		ret = cmd_max_vectors_nospc(argv[2]);
	else if (!strcmp(argv[1], "pingpong") && argc == 5)
		ret = cmd_pingpong(argv[2], argv[3], atoi(argv[4]));
	else if (!strcmp(argv[1], "bench") && (argc == 5 || argc == 6))
		ret = cmd_bench(argv[2], argv[3], atoi(argv[4]),
				argc == 6 ? argv[5] : "idle");
	else if (!strcmp(argv[1], "churn") && argc == 4)
		ret = cmd_churn(argv[2], argv[3]);
	else if (!strcmp(argv[1], "visit") && argc == 3)
		ret = cmd_visit(argv[2]);
	else
		usage();
	return ret > 125 ? 125 : ret;
}
