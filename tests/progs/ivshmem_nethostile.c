// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile ivshmem-net peer (Documentation/ivshmem-net.rst), through
 * /dev/ivshmemN of a device whose other peer runs ivshmem_net.ko:
 *
 *   ivshmem_nethostile DEV SECONDS SEED
 *
 * It waits for the other side to claim a slot, takes the other one, plays the handshake far enough that the
 * other side reaches RUN, then writes random producer indices, record
 * headers and ring bytes, and now and then an unknown state, ringing
 * the other side's doorbell each time. At the end it behaves: its header
 * is cleared (slot free) and it exits. Prints how many rounds it wrote
 * and how often it saw the other side in RUN.
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

int main(int argc, char **argv)
{
	volatile uint32_t *h[2], *me, *other;
	unsigned long rounds = 0, runs = 0;
	struct ivshmem_ring ring = { 0 };
	uint64_t size, rsize = 1;
	double end;
	uint8_t *shm, *myring;
	int fd, s;

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
	return runs ? 0 : 1;
}
