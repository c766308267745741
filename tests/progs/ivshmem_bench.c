// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem_bench - copy bandwidth of the ways a guest reaches ivshmem
 * memory, for make bench (tests/bench.py):
 *
 *   ivshmem_bench copy NAME=PATH[:rw]...
 *
 * For each size from 4 KiB to 64 MiB (x4) it copies guest RAM to the
 * target (write) and back (read) and prints
 *   bench copy METHOD DIR SIZE MBPS
 * for METHOD "ram" (memcpy between two malloc'ed buffers, the baseline)
 * and each NAME: PATH is mmap'ed shared (a /dev/ivshmemN, a sysfs
 * resource2 or resource2_wc file), or with ":rw" used with
 * pwrite()/pread() instead; PATH "vfio:BDF" is BAR2 of a device bound to
 * vfio-pci, mapped through its device fd (vfio_util.h). Every size moves at least 64 MiB (or runs
 * 0.2 s); the mapping is touched once before timing, so page faults are
 * not counted. Each figure is the best of BENCH_COPY_PASSES (default 3)
 * passes that take every size and method in turn. Figures only: exits 0
 * unless a target cannot be opened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vfio_util.h"

#define MIN_SIZE	(4UL << 10)
#define MAX_SIZE	(64UL << 20)
#define MOVE		(64UL << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct target {
	const char *name;
	unsigned char *map;	/* NULL: pread/pwrite on fd */
	int fd;
	size_t size;
};

/* One direction at one size: MB/s. */
static double run(struct target *t, unsigned char *ram, unsigned char *ram2,
		  size_t size, int write)
{
	unsigned long reps = MOVE / size, i;
	double t0, t1;
	ssize_t r = 0;

	if (reps < 1)
		reps = 1;
	t0 = now();
	for (i = 0; i < reps || now() - t0 < 0.2; i++) {
		if (!t) {
			if (write)
				memcpy(ram2, ram, size);
			else
				memcpy(ram, ram2, size);
		} else if (t->map) {
			if (write)
				memcpy(t->map, ram, size);
			else
				memcpy(ram, t->map, size);
		} else {
			r = write ? pwrite(t->fd, ram, size, 0) :
				pread(t->fd, ram, size, 0);
			if (r != (ssize_t)size) {
				fprintf(stderr, "%s: %s %zu: %zd (%s)\n", t->name,
					write ? "pwrite" : "pread", size, r,
					strerror(errno));
				return 0;
			}
		}
		/* Keep the compiler from dropping the copies. */
		__asm__ __volatile__("" ::: "memory");
	}
	t1 = now();
	return (double)size * i / (t1 - t0) / 1e6;
}

int main(int argc, char **argv)
{
	static double best[8][9][2];	/* [size][method][write, read] */
	struct target tg[8];
	unsigned char *ram, *ram2;
	int n = 0, a, k, d, i, p, passes = 3;
	size_t s;

	if (argc < 2 || strcmp(argv[1], "copy")) {
		fprintf(stderr, "usage: ivshmem_bench copy NAME=PATH[:rw]...\n");
		return 2;
	}
	ram = aligned_alloc(4096, MAX_SIZE);
	ram2 = aligned_alloc(4096, MAX_SIZE);
	if (!ram || !ram2)
		return 1;
	memset(ram, 0x5a, MAX_SIZE);
	memset(ram2, 0xa5, MAX_SIZE);
	for (a = 2; a < argc && n < 8; a++) {
		char *spec = strdup(argv[a]), *eq = strchr(spec, '='), *rw;
		struct stat st;

		if (!eq)
			return 2;
		*eq = 0;
		rw = strstr(eq + 1, ":rw");
		if (rw)
			*rw = 0;
		tg[n].name = spec;
		if (!strncmp(eq + 1, "vfio:", 5)) {
			static struct vdev vd[8];

			if (vdev_open(&vd[n], eq + 6, 0) ||
			    vd[n].bar2.size < MAX_SIZE)
				return 1;
			tg[n].fd = vd[n].fd;
			tg[n].size = vd[n].bar2.size;
			tg[n].map = vd[n].shm;
			memset(tg[n].map, 0, MAX_SIZE);
			n++;
			continue;
		}
		tg[n].fd = open(eq + 1, O_RDWR);
		if (tg[n].fd < 0 || fstat(tg[n].fd, &st)) {
			fprintf(stderr, "%s: %s\n", eq + 1, strerror(errno));
			return 1;
		}
		tg[n].size = st.st_size ? (size_t)st.st_size : MAX_SIZE;
		tg[n].map = NULL;
		if (!rw) {
			tg[n].map = mmap(NULL, MAX_SIZE, PROT_READ | PROT_WRITE,
					 MAP_SHARED, tg[n].fd, 0);
			if (tg[n].map == MAP_FAILED) {
				fprintf(stderr, "%s: mmap: %s\n", eq + 1,
					strerror(errno));
				return 1;
			}
			/* Fault every page in before timing. */
			memset(tg[n].map, 0, MAX_SIZE);
		}
		n++;
	}
	/*
	 * BENCH_COPY_PASSES passes (default 3) over every size and method in
	 * turn; each figure is the best of its passes: on a shared machine
	 * other work only ever slows a copy down.
	 */
	if (getenv("BENCH_COPY_PASSES"))
		passes = atoi(getenv("BENCH_COPY_PASSES"));
	if (passes < 1)
		passes = 1;
	for (p = 0; p < passes; p++)
		for (i = 0, s = MIN_SIZE; s <= MAX_SIZE; s *= 4, i++)
			for (k = -1; k < n; k++) {
				struct target *t = k < 0 ? NULL : &tg[k];

				for (d = 0; d < 2; d++) {
					double mb = run(t, ram, ram2, s, !d);

					if (mb > best[i][k + 1][d])
						best[i][k + 1][d] = mb;
				}
			}
	for (i = 0, s = MIN_SIZE; s <= MAX_SIZE; s *= 4, i++)
		for (k = -1; k < n; k++) {
			const char *name = k < 0 ? "ram" : tg[k].name;

			printf("bench copy %s write %zu %.1f\n", name, s,
			       best[i][k + 1][0]);
			printf("bench copy %s read %zu %.1f\n", name, s,
			       best[i][k + 1][1]);
		}
	return 0;
}
