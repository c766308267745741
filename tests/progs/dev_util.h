/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers that the guest-side test programs ivshmem_test and ivshmem_dmabuf
 * share: opening and mapping a device (dying on failure), probing a byte
 * for SIGBUS/SIGSEGV, writing a sysfs file, the ivshmem module's reference
 * count, and whether an address starts a mapping of this process.
 * Include after check.h (die()).
 */
#ifndef IVSHMEM_TEST_DEV_UTIL_H
#define IVSHMEM_TEST_DEV_UTIL_H

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static inline int open_dev(const char *path, int flags)
{
	int fd = open(path, flags);

	if (fd < 0)
		die(path);
	return fd;
}

static inline void *map_dev(int fd, size_t len, off_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static sigjmp_buf fault_jmp;

static inline void on_sigbus(int sig)
{
	siglongjmp(fault_jmp, sig);
}

/* Read (or, with @write, rewrite) @p's byte; return the signal or 0. */
static inline int touch_rw(volatile char *p, int write)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old_bus, old_segv;
	int sig;

	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	sig = sigsetjmp(fault_jmp, 1);
	if (!sig) {
		if (write)
			*p = *p;
		else
			(void)*p;
	}
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return sig;
}

static inline int touch(volatile char *p)
{
	return touch_rw(p, 0);
}

static inline int touch_w(volatile char *p)
{
	return touch_rw(p, 1);
}

static inline int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* The ivshmem module's reference count (each open file holds one). */
static inline int module_refcnt(void)
{
	FILE *f = fopen("/sys/module/ivshmem/refcnt", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* Does /proc/self/maps list a mapping that starts at @p? */
static inline int mapped_in_self(volatile void *p)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;

	if (!f)
		die("/proc/self/maps");
	while (fgets(line, sizeof(line), f))
		if (strtoul(line, NULL, 16) == (unsigned long)p)
			found = 1;
	fclose(f);
	return found;
}
#endif /* IVSHMEM_TEST_DEV_UTIL_H */
