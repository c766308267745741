// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile ivshmem-net peer (Documentation/ivshmem-net.rst), through
 * /dev/ivshmemN of a device whose other peer runs ivshmem_net.ko:
 *
 *   ivshmem_nethostile DEV SECONDS SEED
 *
 * It waits for the other side to claim a slot and takes the other one.
 * Then, each a check of its own ("ok -" or "not ok -" lines):
 *
 * - it answers the handshake in READY without echoing the other side's
 *   epoch: the other side must wait in READY, never RUN, for 3 s;
 * - it echoes the epoch: the other side must reach RUN;
 * - it sends one well-formed frame of 4000 bytes, over the other side's
 *   MTU of 1500: it must be consumed (and counted there, which the
 *   other guest checks) with the link staying in RUN;
 * - it writes another peer ID as its slot's owner: the other side must
 *   leave RUN (its doorbell target was latched with the session);
 * - it stops consuming once the other side is in RUN again (heartbeat,
 *   state and epochs stay right): the other side, which the other guest
 *   keeps sending, must fill its ring, ask for a doorbell (tx_kick), and
 *   leave RUN within 60 s (its transmit watchdog; the other guest checks
 *   the count).
 *
 * Then for SECONDS it plays the handshake far enough that the other side
 * reaches RUN and writes random producer indices, record headers and
 * ring bytes, and now and then an unknown state, ringing the other
 * side's doorbell each time. At the end it behaves: its header is
 * cleared (slot free) and it exits. Prints how many rounds it wrote and
 * how often it saw the other side in RUN.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/ivshmem.h>

#define MAGIC		0x544e5649u
#define HDR_AREA	4096
#define STRIDE		256

enum { H_MAGIC, H_VERSION, H_OWNER, H_STATE, H_EPOCH, H_HEARTBEAT,
       H_PEER_EPOCH, H_TX_PROD, H_RX_CONS, H_RX_KICK, H_TX_KICK };

static uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile uint32_t *me, *other;
static struct ivshmem_ring ring;
static int fd, failed;

/* One round of a well-behaved peer: heartbeat, the handshake with
 * @echo as its peer_epoch, everything the other side sent consumed.
 */
static void behave(uint32_t echo)
{
	uint32_t ostate = other[H_STATE];

	me[H_HEARTBEAT] = me[H_HEARTBEAT] + 1;
	me[H_PEER_EPOCH] = echo;
	if (ostate == 1 || ostate == 2)
		me[H_STATE] = 2;
	else if (ostate == 3)
		me[H_STATE] = 3;
	me[H_RX_CONS] = other[H_TX_PROD];
	ioctl(fd, IVSHMEM_IOCTL_RING, &ring);
	usleep(2000);
}

static void check(int ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	failed |= !ok;
}

/* Behave for up to @secs until the other side is in @state (or, with
 * @leave, in another state); whether it got there.
 */
static int behave_until(double secs, uint32_t state, int leave)
{
	double end = now() + secs;

	while (now() < end) {
		if ((other[H_STATE] == state) != leave)
			return 1;
		behave(other[H_EPOCH]);
	}
	return 0;
}

/* Stop consuming, behaving otherwise, until the other side leaves RUN
 * (@secs at most): its ring fills, and its transmit watchdog must end
 * the session.
 */
static void stall(double secs, uint64_t rsize)
{
	double end = now() + secs;
	uint32_t cons = me[H_RX_CONS], used, most = 0;
	int kick = 0, left = 0;
	char what[200];

	while (now() < end) {
		if (other[H_STATE] != 3) {
			left = 1;
			break;
		}
		used = other[H_TX_PROD] - cons;
		if (used <= rsize && used > most)
			most = used;
		kick |= other[H_TX_KICK] != 0;
		me[H_HEARTBEAT] = me[H_HEARTBEAT] + 1;
		usleep(2000);
	}
	snprintf(what, sizeof(what),
		 "a peer that stops consuming: the other side fills its ring (%u of %llu KiB) and asks for a doorbell",
		 most >> 10, (unsigned long long)rsize >> 10);
	check(most + 2 * 1600 > rsize && kick, what);
	check(left, "... and its transmit watchdog ends the session within 60 s");
}

int main(int argc, char **argv)
{
	unsigned long rounds = 0, runs = 0;
	uint64_t size, rsize = 1;
	volatile uint32_t *h[2];
	uint32_t prod, len;
	int s, ready, run;
	uint8_t *shm, *myring;
	double end;

	if (argc != 4) {
		fprintf(stderr, "usage: ivshmem_nethostile DEV SECONDS SEED\n");
		return 2;
	}
	rng = strtoull(argv[3], NULL, 0) * 2654435761u + 1;
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	size = lseek(fd, 0, SEEK_END);
	shm = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (shm == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	while (rsize * 2 <= (size - HDR_AREA) / 2)
		rsize *= 2;
	h[0] = (volatile uint32_t *)shm;
	h[1] = (volatile uint32_t *)(shm + STRIDE);
	/* The other side's slot is the one with an owner (wait 300 s). */
	end = now() + 300;
	while (!h[0][H_OWNER] && !h[1][H_OWNER] && now() < end)
		usleep(100000);
	s = h[0][H_OWNER] ? 1 : 0;
	me = h[s];
	other = h[!s];
	myring = shm + HDR_AREA + s * rsize;
	ring.peer = other[H_OWNER] ? other[H_OWNER] - 1 : 0;
	printf("hostile: slot %d, rings of %llu KiB, other peer %u\n", s,
	       (unsigned long long)rsize >> 10, ring.peer);

	me[H_OWNER] = 0xfffe;
	me[H_MAGIC] = MAGIC;
	me[H_VERSION] = 1;
	me[H_EPOCH] = 0x1234;
	me[H_TX_PROD] = 0;

	/* READY without the echo: the other side waits in READY. */
	ready = 0;
	run = 0;
	end = now() + 60;
	while (now() < end && !ready) {
		ready = other[H_STATE] == 2;
		behave(other[H_EPOCH] ^ 0x5a5a5a5a);
	}
	for (end = now() + 3; ready && now() < end; ) {
		run |= other[H_STATE] == 3;
		behave(other[H_EPOCH] ^ 0x5a5a5a5a);
	}
	check(ready && !run, "without the echo of its epoch the other side waits in READY, not RUN, for 3 s");

	check(behave_until(10, 3, 0), "with the echo the other side reaches RUN within 10 s");

	/* One well-formed frame longer than the other side's MTU allows. */
	len = 4000;
	prod = me[H_TX_PROD];
	((volatile uint32_t *)(myring + prod % rsize))[0] = len;
	((volatile uint32_t *)(myring + prod % rsize))[1] = 0;
	prod += (8 + len + 63) / 64 * 64;
	__sync_synchronize();
	me[H_TX_PROD] = prod;
	end = now() + 10;
	while (now() < end && other[H_RX_CONS] != prod && other[H_STATE] == 3)
		behave(other[H_EPOCH]);
	check(other[H_RX_CONS] == prod && other[H_STATE] == 3,
	      "a frame of 4000 bytes (MTU 1500) is consumed, the link stays in RUN");

	/* Another owner: the session ends. */
	me[H_OWNER] = 0xfffd;
	check(behave_until(10, 3, 1), "another owner of the slot ends the session within 10 s");

	check(behave_until(10, 3, 0), "the other side reaches RUN again within 10 s");
	stall(60, rsize);

	end = now() + atof(argv[2]);
	while (now() < end) {
		uint32_t ostate = other[H_STATE], i;

		me[H_HEARTBEAT] = me[H_HEARTBEAT] + 1;
		if (other[H_OWNER])
			ring.peer = other[H_OWNER] - 1;
		if (ostate != 3) {
			/* Follow the handshake: READY with its epoch. */
			me[H_PEER_EPOCH] = other[H_EPOCH];
			me[H_STATE] = ostate == 1 || ostate == 2 ? 2 : 3;
		} else {
			runs++;
			me[H_STATE] = rnd() % 16 ? 3 : rnd();
			for (i = 0; i < 16; i++)
				((volatile uint32_t *)myring)[rnd() % (rsize / 4)] =
					rnd() % 4 ? rnd() % 70000 : rnd();
			me[H_TX_PROD] = rnd() % 3 ? (rnd() % 64) * 64 : rnd();
			me[H_RX_CONS] = rnd();
			me[H_RX_KICK] = rnd();
			me[H_TX_KICK] = rnd();
		}
		ioctl(fd, IVSHMEM_IOCTL_RING, &ring);
		rounds++;
		usleep(2000);
	}
	/* Behave again: leave the slot. */
	memset((void *)me, 0, STRIDE);
	printf("hostile: %lu rounds, the other side in RUN in %lu of them\n",
	       rounds, runs);
	return runs && !failed ? 0 : 1;
}
