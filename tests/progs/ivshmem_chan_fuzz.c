// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem_chan_fuzz - a hostile peer for samples/ivshmem-chan: attaches as
 * one side of the channel and, for a number of seconds, writes random and
 * hostile values into its own half of the shared memory (the half the
 * victim reads): huge and wrapped indices, lengths beyond the slot, wrong
 * sequence numbers and checksums, flipping generations, bad magic and
 * sizes, random notify fields, spurious doorbells. Between the attacks it
 * behaves now and then (re-attaches, answers a request properly), so the
 * victim also sees valid traffic and restarts.
 *
 *   ivshmem_chan_fuzz DEVICE SIDE SECONDS [SEED]
 *
 * Prints "fuzz: actions=N" and exits 0; the checks are the victim's (it
 * must not crash, hang or touch memory outside the region) and the test's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/ivshmem.h>

#include "../../samples/ivshmem-chan/ivshmem-chan.h"
#include "../../samples/ivshmem-chan/proto.h"

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* A value a victim might trip over. */
static uint32_t hostile(uint32_t near)
{
	static const uint32_t edge[] = { 0, 1, 0x7fffffff, 0x80000000,
					 0xffffffff, 0xfffffffe, 65536,
					 65537 };

	switch (rnd() % 4) {
	case 0: return edge[rnd() % 8];
	case 1: return near + (rnd() % 130) - 65;
	case 2: return near ^ (1U << (rnd() % 32));
	default: return rnd();
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct ivc_config cfg = { .notify = IVC_NOTIFY_POLL,
				  .slot_size = 256, .slot_count = 64 };
	unsigned char req[IVC_SLOT_MAX], resp[IVC_SLOT_MAX];
	unsigned long actions = 0;
	struct ivc_ctl *own, *victim;
	unsigned char *ring;
	uint64_t end;
	struct ivc_map m;
	struct ivc c;
	int r;

	if (argc < 4) {
		fprintf(stderr, "usage: ivshmem_chan_fuzz DEVICE SIDE SECONDS [SEED]\n");
		return 2;
	}
	cfg.side = (unsigned int)atoi(argv[2]);
	rng_state = argc > 4 ? strtoull(argv[4], NULL, 0) : now_ns();
	rng_state |= 1;
	r = ivc_map(&m, argv[1]);
	if (r) {
		fprintf(stderr, "fuzz: %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	cfg.fd = m.flags ? m.fd : -1;
	r = ivc_open(&c, m.mem, m.size, &cfg);
	if (r) {
		fprintf(stderr, "fuzz: ivc_open: %s\n", strerror(-r));
		return 1;
	}
	own = (struct ivc_ctl *)((unsigned char *)m.mem +
				 cfg.side * IVC_CTL_BYTES);
	victim = (struct ivc_ctl *)((unsigned char *)m.mem +
				    (1 - cfg.side) * IVC_CTL_BYTES);
	ring = (unsigned char *)m.mem + IVC_RINGS_OFFSET +
		(size_t)cfg.side * cfg.slot_size * cfg.slot_count;
	end = now_ns() + strtoull(argv[3], NULL, 0) * 1000000000ULL;
	printf("fuzz: side %u attacking for %s s\n", cfg.side, argv[3]);
	fflush(stdout);
	while (now_ns() < end) {
		uint32_t vt = atomic_load(&victim->tail);
		uint32_t vg = atomic_load(&victim->gen);
		struct ivc_slot *s = (struct ivc_slot *)(ring +
			(size_t)(rnd() % cfg.slot_count) * cfg.slot_size);
		ssize_t n;

		actions++;
		switch (rnd() % 16) {
		case 0: atomic_store(&own->head, hostile(vt)); break;
		case 1: atomic_store(&own->head, vt + cfg.slot_count +
				     1 + rnd() % 1000); break;
		case 2: atomic_store(&own->tail, hostile(atomic_load(
				     &victim->head))); break;
		case 3: atomic_store(&own->gen, hostile(c.gen)); break;
		case 4: atomic_store(&own->ack, rnd() % 2 ? vg : hostile(vg));
			break;
		case 5: atomic_store(&own->magic, rnd() % 4 ? IVC_MAGIC :
				     hostile(IVC_MAGIC)); break;
		case 6:
			if (rnd() % 2)
				atomic_store(&own->slot_size,
					     hostile(cfg.slot_size));
			else
				atomic_store(&own->slot_count,
					     hostile(cfg.slot_count));
			break;
		case 7:
			atomic_store(&s->len, hostile(c.payload));
			atomic_store(&s->seq, hostile(vt));
			atomic_store(&s->gen, hostile(c.gen));
			atomic_store(&s->csum, rnd());
			/* ... and publish it */
			atomic_store(&own->head, vt + 1 + rnd() % 3);
			break;
		case 8:
			/* Random payload bytes under a valid-looking header. */
			memset((unsigned char *)s + IVC_SLOT_HDR, (int)rnd(),
			       c.payload);
			break;
		case 9:
			atomic_store(&own->notify, hostile(1));
			atomic_store(&own->peer_id, hostile(0));
			atomic_store(&own->vector, hostile(0));
			atomic_store(&own->want, hostile(1));
			break;
		case 10:
			/* Behave: re-attach (a restart) with sane values. */
			ivc_open(&c, m.mem, m.size, &cfg);
			break;
		case 11:
		case 12:
			/* Behave: answer one request, if the state allows. */
			n = ivc_recv(&c, req, sizeof(req), 0);
			if (n > 0) {
				size_t len = proto_respond(resp, req, (size_t)n,
							   c.payload);

				if (len)
					ivc_send(&c, resp, len, 0);
			}
			break;
		case 13:
			/* Send garbage as a well-formed message. */
			for (r = 0; r < 16; r++)
				req[r] = (unsigned char)rnd();
			ivc_send(&c, req, rnd() % (c.payload + 1), 0);
			break;
		case 14:
			if (m.flags & IVSHMEM_INFO_RING) {
				struct ivshmem_ring rg = {
					.peer = atomic_load(&victim->peer_id) &
						0xffff,
					.vector = 0 };

				ioctl(m.fd, IVSHMEM_IOCTL_RING, &rg);
			}
			break;
		default:
			/* Wrapped counters: both indices near 2^32. */
			atomic_store(&own->head, 0xffffffffU - rnd() % 4);
			atomic_store(&own->tail, 0xffffffffU - rnd() % 4);
			break;
		}
		if (rnd() % 4 == 0)
			usleep(rnd() % 200);
	}
	/* Leave as a detached peer: the victim waits for a real one. */
	atomic_store(&own->magic, 0);
	printf("fuzz: actions=%lu\n", actions);
	ivc_unmap(&m);
	return 0;
}
