// SPDX-License-Identifier: GPL-2.0
/*
 * bench_region: cost of creating a zeroed dm-land region with
 * ivshmem_host.ko against a plain memset of the same size, in one run.
 *
 *   bench_region [SIZE_MB [ROUNDS]]      (default 512 MiB, 3 rounds)
 *
 * Per round:
 *   memset-fresh  mmap + memset(0) of SIZE (first touch: page faults)
 *   memset-warm   memset(0) again on the same, faulted buffer
 *   create        ADD + ATTACH: the module allocates and zeroes the region
 *   map-touch     mmap the attachment and read one byte per 4 KiB page
 *   set-memseg    with the HSM test double loaded (/dev/acrn_hsm_double,
 *                 tests/hsm_double): a new mmap and HSM's SET_MEMSEG of it
 *                 (GUP faults, FOLL_LONGTERM pins, vmap, region ops), as
 *                 acrn-dm does after opening the region; then DESTROY_VM
 *   free          munmap + close + REMOVE (the memory is freed)
 * and the folio count the module reports (LOOKUP nr_folios) and, with the
 * double, the region ops HSM would send and how many map 2 MiB folios.
 * Prints the best round of each and the ratios create/memset-* as
 * "bench ..." lines, and checks ("ok - " / "not ok - ") that every
 * round's fresh region reads all zeros (each round dirties it after the
 * check, so the next round cannot pass on memory that was never
 * written), that it is made of SIZE / 2 MiB folios, as the module asks
 * for first, and that REMOVE frees it. Exits with the number of failed
 * checks (125 when a call fails: die()).
 *
 * Needs SIZE of free guest RAM twice over at most once at a time (the
 * memset buffer is freed before the region is created): 512 MiB runs in
 * a 1 GiB KASAN guest only barely; give the guest 2 GiB.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/ivshmem_host.h>

#include "../hsm_double/hsm_double.h"
#include "../progs/check.h"

#define NAME	"dm:/bench"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The first non-zero byte of @p, or @len if there is none. */
static size_t first_nonzero(const unsigned char *p, size_t len)
{
	const unsigned long *w = (const unsigned long *)p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		if (w[i])
			break;
	for (i *= sizeof(*w); i < len; i++)
		if (p[i])
			break;
	return i;
}

static void minf(double *best, double v)
{
	if (*best == 0 || v < *best)
		*best = v;
}

int main(int argc, char **argv)
{
	unsigned int size_mb = argc > 1 ? atoi(argv[1]) : 512;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	double fresh = 0, warm = 0, create = 0, touch = 0, release = 0, t;
	double memseg = 0;
	size_t size = (size_t)size_mb << 20;
	unsigned int folios = 0, want_folios = size_mb / 2;
	int dev, r, zero_ok = 1, folios_ok = 1, size_ok = 1, freed_ok = 1;
	int hsm_ok = 1, have_hsm = access("/dev/acrn_hsm_double", F_OK) == 0;
	unsigned long long ops = 0, ops_large = 0;
	unsigned char sink = 0;
	size_t nz;

	if (size_mb < 2 || size_mb > 512 || rounds < 1) {
		printf("not ok - bench: SIZE_MB %u (2..512) ROUNDS %d (1..)\n",
		       size_mb, rounds);
		return 2;
	}
	dev = open("/dev/ivshmem_host", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("bench: open /dev/ivshmem_host");

	for (r = 0; r < rounds; r++) {
		struct ivshmem_host_region reg;
		struct ivshmem_host_attach a;
		struct ivshmem_host_name n;
		struct ivshmem_host_info info;
		unsigned char *buf, *p;
		size_t i;

		/* mmap, not malloc: the compiler may turn malloc+memset into calloc. */
		t = now();
		buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			die("bench: mmap anonymous");
		memset(buf, 0, size);
		minf(&fresh, now() - t);
		buf[size / 2] = 1;
		t = now();
		memset(buf, 0, size);
		minf(&warm, now() - t);
		sink += buf[size - 1];
		munmap(buf, size);

		memset(&reg, 0, sizeof(reg));
		strcpy(reg.name, NAME);
		reg.size_mb = size_mb;
		reg.members = 0x3;
		memset(&a, 0, sizeof(a));
		strcpy(a.name, NAME);
		a.vmid = 0;
		t = now();
		if (ioctl(dev, IVSHMEM_HOST_IOCTL_ADD, &reg))
			die("bench: ADD " NAME);
		if (ioctl(dev, IVSHMEM_HOST_IOCTL_ATTACH, &a))
			die("bench: ATTACH " NAME);
		minf(&create, now() - t);

		memset(&reg, 0, sizeof(reg));
		strcpy(reg.name, NAME);
		if (ioctl(dev, IVSHMEM_HOST_IOCTL_LOOKUP, &reg))
			die("bench: LOOKUP " NAME);
		folios = reg.nr_folios;
		if (folios != want_folios) {
			folios_ok = 0;
			printf("# round %d: %u folios, want %u\n", r, folios,
			       want_folios);
		}
		if (a.size != size || reg.size_mb != size_mb) {
			size_ok = 0;
			printf("# round %d: attachment %llu bytes, LOOKUP %u MiB\n",
			       r, (unsigned long long)a.size, reg.size_mb);
		}

		t = now();
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
		if (p == MAP_FAILED)
			die("bench: mmap the attachment");
		for (i = 0; i < size; i += 4096)
			sink += p[i];
		minf(&touch, now() - t);

		/* Not timed: all of it reads zero, then dirty it. */
		nz = first_nonzero(p, size);
		if (nz != size) {
			zero_ok = 0;
			printf("# round %d: byte %zu of the fresh region is %#x\n",
			       r, nz, p[nz]);
		}
		memset(p, 0xa5, size);

		if (have_hsm) {
			struct acrn_vm_creation c;
			struct acrn_vm_memmap m;
			struct hsm_double_info hi;
			unsigned char *q;
			int hsm;

			hsm = open("/dev/acrn_hsm_double", O_RDWR | O_CLOEXEC);
			memset(&c, 0, sizeof(c));
			if (hsm < 0 || ioctl(hsm, ACRN_IOCTL_CREATE_VM, &c))
				die("bench: CREATE_VM of the HSM double");
			t = now();
			q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
				 a.fd, 0);
			if (q == MAP_FAILED)
				die("bench: mmap the attachment for SET_MEMSEG");
			memset(&m, 0, sizeof(m));
			m.type = ACRN_MEMMAP_RAM;
			m.attr = ACRN_MEM_ACCESS_RWX;
			m.vma_base = (uintptr_t)q;
			m.len = size;
			if (ioctl(hsm, ACRN_IOCTL_SET_MEMSEG, &m))
				die("bench: SET_MEMSEG of the HSM double");
			minf(&memseg, now() - t);
			memset(&hi, 0, sizeof(hi));
			if (ioctl(hsm, HSM_DOUBLE_IOCTL_INFO, &hi))
				die("bench: INFO of the HSM double");
			ops = hi.nr_regions;
			ops_large = hi.nr_large;
			if (ops != folios || ops_large != want_folios) {
				hsm_ok = 0;
				printf("# round %d: HSM %llu ops, %llu of 2 MiB\n",
				       r, ops, ops_large);
			}
			munmap(q, size);
			close(hsm);
		}

		t = now();
		munmap(p, size);
		close(a.fd);
		memset(&n, 0, sizeof(n));
		strcpy(n.name, NAME);
		if (ioctl(dev, IVSHMEM_HOST_IOCTL_REMOVE, &n))
			die("bench: REMOVE " NAME);
		minf(&release, now() - t);

		memset(&info, 0, sizeof(info));
		if (ioctl(dev, IVSHMEM_HOST_IOCTL_INFO, &info))
			die("bench: INFO");
		if (info.mem_bytes || info.nr_mems) {
			freed_ok = 0;
			printf("# round %d: after REMOVE %llu bytes in %u memories\n",
			       r, (unsigned long long)info.mem_bytes, info.nr_mems);
		}
	}

	printf("bench bench_region: %u MiB, best of %d rounds\n", size_mb, rounds);
	printf("bench memset-fresh  %8.1f ms  (mmap + first-touch memset)\n", fresh * 1e3);
	printf("bench memset-warm   %8.1f ms  (memset of faulted memory)\n", warm * 1e3);
	printf("bench create        %8.1f ms  (ADD + ATTACH: allocate + zero)\n", create * 1e3);
	printf("bench map-touch     %8.1f ms  (mmap + read 1 byte per page)\n", touch * 1e3);
	if (have_hsm)
		printf("bench set-memseg    %8.1f ms  (mmap + HSM double's SET_MEMSEG: faults, pins, vmap)\n",
		       memseg * 1e3);
	printf("bench free          %8.1f ms  (munmap + close + REMOVE)\n", release * 1e3);
	printf("bench folios        %u (%s)\n", folios,
	       folios == size_mb / 2 ? "all 2 MiB" :
	       folios == size_mb * 256 ? "all 4 KiB" : "mixed");
	printf("bench ratio create/memset-fresh %.2f, create/memset-warm %.2f\n",
	       create / fresh, create / warm);
	if (have_hsm) {
		printf("bench hsm ops %llu (%llu of 2 MiB)\n", ops, ops_large);
		printf("bench ratio open+set_memseg/memset-fresh %.2f (ATTACH %.1f ms + SET_MEMSEG %.1f ms against %.1f ms; %u folios, %llu HSM ops)\n",
		       (create + memseg) / fresh, create * 1e3, memseg * 1e3,
		       fresh * 1e3, folios, ops);
		check(hsm_ok, "bench: HSM's SET_MEMSEG sends %u ops, all 2 MiB, every round",
		      want_folios);
	}
	check(zero_ok, "bench: a fresh %u MiB region reads all zeros, %d rounds",
	      size_mb, rounds);
	check(folios_ok, "bench: it is %u folios of 2 MiB, every round",
	      want_folios);
	check(size_ok, "bench: attachment and LOOKUP report %u MiB", size_mb);
	check(freed_ok, "bench: after munmap, close and REMOVE no memory is held");
	/* Keep the reads of the mapping from being optimised away. */
	__asm__ volatile("" : : "r"(sink));
	return failures;
}
