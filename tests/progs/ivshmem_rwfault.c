// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem_rwfault - read() and write() of /dev/ivshmemN with user buffers
 * that fault: the driver copies directly with page faults disabled and
 * sends what a fault left through its bounce buffer (guest/cdev.c), so
 * every one of these must come out as a plain file would:
 *
 *   ivshmem_rwfault DEV
 *
 * Works on the 4 MiB at 12 MiB of a device of at least 16 MiB and puts
 * its bytes back at the end (shm_data checks that the host file is
 * unchanged outside what it wrote). Exits with the number of failures.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

#define OFF	(12UL << 20)
#define SZ	(4UL << 20)
#define PG	4096UL

/*
 * How many bytes short of a fault a copy may stop. include/linux/uaccess.h
 * lets raw_copy_{to,from}_user() copy less than the most possible (at
 * least one byte, if any could be copied): x86's copies stop exactly at
 * the faulting byte, arm64's count only the blocks their stores completed
 * (arch/arm64/lib/copy_template.S: 64-byte blocks after up to 15 bytes of
 * alignment), and the driver returns what the copy reported.
 */
#if defined(__x86_64__) || defined(__i386__)
#define COPY_SLACK	0
#else
#define COPY_SLACK	128
#endif

/* A short copy's count @r stops at the fault @want, or at most COPY_SLACK before it. */
static int stops_at(ssize_t r, size_t want)
{
	return r >= 0 && (size_t)r <= want && want - (size_t)r <= COPY_SLACK;
}

static void *anon(void)
{
	void *p = mmap(NULL, SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap anonymous");
	return p;
}

int main(int argc, char **argv)
{
	unsigned char *m, *a, *b, *saved;
	ssize_t r;
	size_t i;
	int fd;

	if (argc != 2)
		return 2;
	fd = open(argv[1], O_RDWR);
	if (fd < 0)
		die(argv[1]);
	m = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, OFF);
	if (m == MAP_FAILED)
		die("mmap the device");
	saved = malloc(SZ);
	if (!saved)
		die("malloc");
	memcpy(saved, m, SZ);
	for (i = 0; i < SZ; i++)
		m[i] = i * 7 + 3;

	/* Every page of the destination faults on first touch. */
	a = anon();
	r = pread(fd, a, SZ, OFF);
	check(r == (ssize_t)SZ && !memcmp(a, m, SZ),
	      "read into untouched anonymous memory: %zd bytes, the device's",
	      r);
	b = anon();
	r = pwrite(fd, b, SZ, OFF);
	for (i = 0; i < SZ && !m[i]; i++)
		;
	check(r == (ssize_t)SZ && i == SZ,
	      "write from untouched anonymous memory: %zd bytes, all zero", r);

	/* A source that ends in PROT_NONE: a short write, nothing past it. */
	memset(m, 0xee, SZ);
	memset(a, 0x11, SZ);
	if (mprotect(a + 6 * PG, SZ - 6 * PG, PROT_NONE))
		die("mprotect");
	r = pwrite(fd, a + 100, SZ - 100, OFF);
	for (i = 0; i < (size_t)(r > 0 ? r : 0) && m[i] == 0x11; i++)
		;
	check(stops_at(r, 6 * PG - 100) && i == (size_t)r,
	      "write stops at the fault (%lu, at most %d before): %zd bytes, all of them stored",
	      6 * PG - 100, COPY_SLACK, r);
	for (i = r > 0 ? r : 0; i < SZ && m[i] == 0xee; i++)
		;
	check(i == SZ,
	      "nothing is stored past the fault (first change at %zu of %zu)",
	      i, SZ);
	r = pread(fd, a + 100, SZ - 100, OFF);
	check(stops_at(r, 6 * PG - 100),
	      "read stops at the fault (%lu, at most %d before): %zd",
	      6 * PG - 100, COPY_SLACK, r);
	if (mprotect(a, PG, PROT_READ))
		die("mprotect");
	CHECK_ERR(pread(fd, a, 64, OFF), EFAULT, "read into read-only memory");

	/* Across a 1 MiB chunk, unaligned, every other page untouched. */
	b = anon();
	for (i = 0; i < SZ; i += 2 * PG)
		memset(b + i, (i / PG) & 0xff, PG);
	r = pwrite(fd, b + 17, 3UL << 20, 1000 + OFF);
	check(r == 3L << 20 && !memcmp(m + 1000, b + 17, 3UL << 20),
	      "3 MiB write from half-touched memory: %zd bytes, the same", r);

	memcpy(m, saved, SZ);
	return failures;
}
