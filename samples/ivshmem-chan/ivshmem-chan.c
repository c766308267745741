// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-chan - the channel library: attach, send, receive, restart
 * detection, doorbell or polling waits. The layout, the protocol and the
 * error codes are described in ivshmem-chan.h.
 *
 * Rule of this file: a value from the shared memory is loaded once into a
 * local (an atomic load), checked, and only the local is used. The own
 * indices and generation live in struct ivc; the shared copies are only
 * written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/ivshmem.h>

#include "ivshmem-chan.h"

#define LD_ACQ(p)	atomic_load_explicit((p), memory_order_acquire)
#define LD(p)		atomic_load_explicit((p), memory_order_relaxed)
#define ST_REL(p, v)	atomic_store_explicit((p), (v), memory_order_release)
#define ST(p, v)	atomic_store_explicit((p), (v), memory_order_relaxed)

/* Poll turns between two reads of the clock. */
#define SPIN_TURNS	256

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint32_t ivc_fnv(uint32_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619U;
	}
	return h;
}

static uint32_t slot_csum(uint32_t seq, uint32_t len, uint32_t gen,
			  const void *payload)
{
	uint32_t w[3] = { seq, len, gen };

	return ivc_fnv(ivc_fnv(IVC_FNV_INIT, w, sizeof(w)), payload, len);
}

int ivc_map(struct ivc_map *m, const char *path)
{
	struct ivshmem_info info;
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	void *p;

	memset(m, 0, sizeof(*m));
	m->fd = open(path, O_RDWR | O_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (ioctl(m->fd, IVSHMEM_IOCTL_INFO, &info) == 0) {
		m->size = info.size;
		m->flags = info.flags;
		m->peer_id = info.peer_id;
		m->rx_mask = info.rx_mask;
	} else if (errno == ENOTTY && fstat(m->fd, &st) == 0 &&
		   S_ISREG(st.st_mode)) {
		m->size = (size_t)st.st_size;
	} else {
		goto fail;
	}
	if (!m->size) {
		errno = EINVAL;
		goto fail;
	}
	/* Reserve the mapping and a guard page each side, then map into it. */
	m->guard_len = ((m->size + page - 1) & ~((size_t)page - 1)) + 2 * page;
	m->guard = mmap(NULL, m->guard_len, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->guard == MAP_FAILED)
		goto fail;
	p = mmap((char *)m->guard + page, m->size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, m->fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		munmap(m->guard, m->guard_len);
		errno = e;
		goto fail;
	}
	m->mem = p;
	return 0;
fail:
	{
		int e = errno;

		close(m->fd);
		m->fd = -1;
		return -e;
	}
}

void ivc_unmap(struct ivc_map *m)
{
	if (m->guard)
		munmap(m->guard, m->guard_len);
	if (m->fd >= 0)
		close(m->fd);
	m->guard = NULL;
	m->mem = NULL;
	m->fd = -1;
}

/* Ring the peer if it wants doorbells and this side can ring. */
static void ring_peer(struct ivc *c)
{
	struct ivshmem_ring r;
	uint32_t notify, id, vec;

	if (!c->can_ring)
		return;
	notify = LD(&c->peer->notify);
	if (notify != IVC_NOTIFY_DOORBELL)
		return;
	id = LD(&c->peer->peer_id);
	vec = LD(&c->peer->vector);
	if (id > 0xffff || vec >= IVSHMEM_MAX_VECTORS)
		return;
	memset(&r, 0, sizeof(r));
	r.peer = id;
	r.vector = vec;
	if (ioctl(c->cfg.fd, IVSHMEM_IOCTL_RING, &r) == 0)
		c->stats.rings++;
}

static int valid_sizes(uint32_t size, uint32_t count)
{
	return size >= IVC_SLOT_MIN && size <= IVC_SLOT_MAX && !(size % 16) &&
	       count >= 2 && count <= IVC_COUNT_MAX && !(count & (count - 1));
}

int ivc_open(struct ivc *c, void *mem, size_t size,
	     const struct ivc_config *cfg)
{
	struct ivshmem_info info;
	struct ivc_ctl *own;
	uint32_t old, gen, i;

	memset(c, 0, sizeof(*c));
	if (!mem || cfg->side > 1 || !valid_sizes(cfg->slot_size,
						  cfg->slot_count) ||
	    size < IVC_REGION_BYTES(cfg->slot_size, cfg->slot_count) ||
	    (uintptr_t)mem % 64 ||
	    (cfg->notify != IVC_NOTIFY_POLL &&
	     cfg->notify != IVC_NOTIFY_DOORBELL) ||
	    cfg->vector >= IVSHMEM_MAX_VECTORS)
		return -EINVAL;
	c->cfg = *cfg;
	c->base = mem;
	c->size = size;
	c->payload = cfg->slot_size - IVC_SLOT_HDR;
	c->own = (struct ivc_ctl *)(c->base + cfg->side * IVC_CTL_BYTES);
	c->peer = (const struct ivc_ctl *)(c->base +
					   (1 - cfg->side) * IVC_CTL_BYTES);
	c->tx = c->base + IVC_RINGS_OFFSET +
		(size_t)cfg->side * cfg->slot_size * cfg->slot_count;
	c->rx = c->base + IVC_RINGS_OFFSET +
		(size_t)(1 - cfg->side) * cfg->slot_size * cfg->slot_count;

	memset(&info, 0, sizeof(info));
	if (cfg->fd >= 0) {
		if (ioctl(cfg->fd, IVSHMEM_IOCTL_INFO, &info))
			return -errno;
		c->can_ring = !!(info.flags & IVSHMEM_INFO_RING);
	}
	if (cfg->notify == IVC_NOTIFY_DOORBELL &&
	    (cfg->fd < 0 || !(info.flags & IVSHMEM_INFO_RECEIVE) ||
	     !(info.rx_mask & (1U << cfg->vector))))
		return -EOPNOTSUPP;

	own = c->own;
	/* A generation its previous incarnation did not have. */
	old = LD(&own->gen);
	gen = old + 1 + (uint32_t)((now_ns() ^ (uint64_t)getpid()) % 65521);
	if (!gen || gen == old)
		gen = old + 2 ? old + 2 : 1;
	c->gen = gen;

	ST_REL(&own->magic, 0);
	ST(&own->version, IVC_VERSION);
	ST(&own->slot_size, cfg->slot_size);
	ST(&own->slot_count, cfg->slot_count);
	ST(&own->ack, 0);
	ST(&own->head, 0);
	ST(&own->tail, 0);
	ST(&own->want, 0);
	ST(&own->notify, cfg->notify);
	ST(&own->peer_id, info.peer_id);
	ST(&own->vector, cfg->vector);
	for (i = 0; i < 4; i++)
		ST(&own->reserved[i], 0);
	ST_REL(&own->gen, gen);
	ST_REL(&own->magic, IVC_MAGIC);
	ring_peer(c);
	return 0;
}

void ivc_close(struct ivc *c)
{
	if (!c->own)
		return;
	ST_REL(&c->own->magic, 0);
	ring_peer(c);
	c->own = NULL;
}

/*
 * Check the peer and follow a new generation. Return 0 when connected,
 * -ECONNRESET once after a restart of a known peer, -ENOTCONN when not
 * connected (yet), -EPROTO on a peer whose sizes do not match.
 */
static int sync_peer(struct ivc *c)
{
	const struct ivc_ctl *p = c->peer;
	uint32_t magic, gen, ack, was;

	magic = LD_ACQ(&p->magic);
	if (magic != IVC_MAGIC)
		return -ENOTCONN;
	gen = LD_ACQ(&p->gen);
	if (!gen)
		return -ENOTCONN;
	if (LD(&p->version) != IVC_VERSION ||
	    LD(&p->slot_size) != c->cfg.slot_size ||
	    LD(&p->slot_count) != c->cfg.slot_count)
		return -EPROTO;
	if (gen != c->ack) {
		/* A new peer incarnation: empty both rings, acknowledge it. */
		was = c->ack;
		c->head = 0;
		c->tail = 0;
		c->ack = gen;
		c->peer_gen = gen;
		ST(&c->own->head, 0);
		ST(&c->own->tail, 0);
		ST(&c->own->want, 0);
		ST_REL(&c->own->ack, gen);
		ring_peer(c);
		if (was) {
			c->stats.resets++;
			return -ECONNRESET;
		}
	}
	ack = LD_ACQ(&p->ack);
	if (ack != c->gen)
		return -ENOTCONN;
	return 0;
}

int ivc_connected(struct ivc *c)
{
	int r;

	if (!c->own)
		return 0;
	r = sync_peer(c);
	if (r == -ECONNRESET) {
		/* Keep the report for the next send or receive. */
		c->reset_pending = 1;
		return 0;
	}
	return r == 0;
}

/*
 * After an inconsistency: a restart explains it (its error wins), else it
 * is the peer's fault.
 */
static int blame(struct ivc *c, int err)
{
	int r = sync_peer(c);

	if (r == -ECONNRESET || r == -ENOTCONN)
		return r;
	if (err == -EPROTO)
		c->stats.proto_errors++;
	return err;
}

/*
 * What a send and a receive attempt check first: a restart of the peer
 * seen earlier is reported once (-ECONNRESET), then the peer's control
 * block is read. 0: go on; -EAGAIN with *why: retry; else the error.
 */
static int try_begin(struct ivc *c, int *why)
{
	int r;

	if (c->reset_pending) {
		c->reset_pending = 0;
		return -ECONNRESET;
	}
	r = sync_peer(c);
	if (r == -ENOTCONN) {
		*why = r;
		return -EAGAIN;
	}
	if (r)
		return r == -EPROTO ? blame(c, r) : r;
	return 0;
}

/* One attempt to send; -EAGAIN: retry (full, or peer not ready). */
static int try_send(struct ivc *c, const void *buf, uint32_t len, int *why)
{
	struct ivc_slot *s;
	uint32_t ptail, used;
	int r;

	r = try_begin(c, why);
	if (r)
		return r;
	ptail = LD_ACQ(&c->peer->tail);
	used = c->head - ptail;
	if (used > c->cfg.slot_count)
		return blame(c, -EPROTO);
	if (used == c->cfg.slot_count) {
		*why = -ETIMEDOUT;
		return -EAGAIN;
	}
	s = (struct ivc_slot *)(c->tx + (size_t)(c->head &
			(c->cfg.slot_count - 1)) * c->cfg.slot_size);
	memcpy((unsigned char *)s + IVC_SLOT_HDR, buf, len);
	ST(&s->seq, c->head);
	ST(&s->len, len);
	ST(&s->gen, c->gen);
	ST(&s->csum, slot_csum(c->head, len, c->gen, buf));
	c->head++;
	ST_REL(&c->own->head, c->head);
	c->stats.sent++;
	/* Against the consumer's want store: one of us sees the other. */
	atomic_thread_fence(memory_order_seq_cst);
	if (LD(&c->peer->want) & IVC_WANT_DATA)
		ring_peer(c);
	return 0;
}

/* One attempt to receive; -EAGAIN: retry (empty, or peer not ready). */
static ssize_t try_recv(struct ivc *c, void *buf, int *why)
{
	const struct ivc_slot *s;
	uint32_t phead, avail, seq, len, csum, gen;
	int r;

	r = try_begin(c, why);
	if (r)
		return r;
	phead = LD_ACQ(&c->peer->head);
	avail = phead - c->tail;
	if (avail > c->cfg.slot_count)
		return blame(c, -EPROTO);
	if (!avail) {
		*why = -ETIMEDOUT;
		return -EAGAIN;
	}
	s = (const struct ivc_slot *)(c->rx + (size_t)(c->tail &
			(c->cfg.slot_count - 1)) * c->cfg.slot_size);
	seq = LD(&s->seq);
	len = LD(&s->len);
	csum = LD(&s->csum);
	gen = LD(&s->gen);
	if (len <= c->payload)
		memcpy(buf, (const unsigned char *)s + IVC_SLOT_HDR, len);
	/* The slot is consumed whatever it holds: no slot is read twice. */
	c->tail++;
	ST_REL(&c->own->tail, c->tail);
	atomic_thread_fence(memory_order_seq_cst);
	if (LD(&c->peer->want) & IVC_WANT_SPACE)
		ring_peer(c);
	if (len > c->payload || seq != c->tail - 1 || gen != c->ack ||
	    csum != slot_csum(seq, len, gen, buf)) {
		r = blame(c, -EBADMSG);
		if (r == -EBADMSG)
			c->stats.bad_msgs++;
		return r;
	}
	c->stats.received++;
	return len;
}

/*
 * Announce what this side waits for (IVC_WANT_DATA or IVC_WANT_SPACE, 0:
 * nothing), so that the peer rings. The fence orders the store before the
 * next look at the peer's index, as the peer orders its index store
 * before its look at this flag.
 */
static void want(struct ivc *c, uint32_t what)
{
	ST(&c->own->want, what);
	atomic_thread_fence(memory_order_seq_cst);
}

/*
 * Wait for the peer until @deadline (ns, 0: no limit). Return 0 to try
 * again, -ETIMEDOUT when the deadline has passed.
 */
static int wait_peer(struct ivc *c, uint64_t deadline, unsigned int *turns)
{
	struct ivshmem_wait w;
	uint64_t t, slice;

	if (c->cfg.notify == IVC_NOTIFY_POLL) {
		cpu_relax();
		if (++*turns % SPIN_TURNS)
			return 0;
		return deadline && now_ns() >= deadline ? -ETIMEDOUT : 0;
	}
	t = now_ns();
	if (deadline && t >= deadline)
		return -ETIMEDOUT;
	slice = (uint64_t)IVC_WAIT_SLICE_MS * 1000000ULL;
	if (deadline && deadline - t < slice)
		slice = deadline - t;
	memset(&w, 0, sizeof(w));
	w.mask = 1U << c->cfg.vector;
	w.deadline_ns = t + slice;
	c->stats.waits++;
	if (ioctl(c->cfg.fd, IVSHMEM_IOCTL_WAIT, &w) && errno != ETIMEDOUT &&
	    errno != EINTR)
		return -errno;
	return 0;
}

static uint64_t deadline_of(int timeout_ms)
{
	if (timeout_ms < 0)
		return 0;
	return now_ns() + (uint64_t)timeout_ms * 1000000ULL + 1;
}

int ivc_send(struct ivc *c, const void *buf, size_t len, int timeout_ms)
{
	uint64_t deadline = deadline_of(timeout_ms);
	unsigned int turns = 0;
	int r, why = -ETIMEDOUT, armed = 0;

	if (!c->own)
		return -EINVAL;
	if (len > c->payload)
		return -EMSGSIZE;
	for (;;) {
		r = try_send(c, buf, (uint32_t)len, &why);
		if (r != -EAGAIN || !timeout_ms)
			break;
		if (c->cfg.notify == IVC_NOTIFY_DOORBELL && !armed) {
			/* Ask for a doorbell, then look once more. */
			want(c, IVC_WANT_SPACE);
			armed = 1;
			continue;
		}
		r = wait_peer(c, deadline, &turns);
		if (r)
			break;
	}
	if (armed && c->own)
		want(c, 0);
	return r == -EAGAIN || r == -ETIMEDOUT ? why : r;
}

ssize_t ivc_recv(struct ivc *c, void *buf, size_t cap, int timeout_ms)
{
	uint64_t deadline = deadline_of(timeout_ms);
	unsigned int turns = 0;
	int why = -ETIMEDOUT, armed = 0;
	ssize_t r;

	if (!c->own || cap < c->payload)
		return -EINVAL;
	for (;;) {
		r = try_recv(c, buf, &why);
		if (r != -EAGAIN || !timeout_ms)
			break;
		if (c->cfg.notify == IVC_NOTIFY_DOORBELL && !armed) {
			want(c, IVC_WANT_DATA);
			armed = 1;
			continue;
		}
		r = wait_peer(c, deadline, &turns);
		if (r)
			break;
	}
	if (armed)
		want(c, 0);
	return r == -EAGAIN || r == -ETIMEDOUT ? why : r;
}
