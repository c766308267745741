/* SPDX-License-Identifier: GPL-2.0 */
/*
 * check.h - "ok - ..." / "not ok - ..." / "skip - ..." helpers of the
 * guest-side test programs. Each program counts its failures in failures
 * and exits with that count. die() is a failure too: it prints a
 * "not ok" line naming what failed and exits 125, so a program that
 * cannot go on never just stops printing.
 */
#ifndef IVSHMEM_TEST_CHECK_H
#define IVSHMEM_TEST_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static inline void check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf(cond ? "ok - " : "not ok - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		failures++;
}

/* check that a call failed with the expected errno */
#define CHECK_ERR(call, err, what) do {					\
	errno = 0;							\
	long _r = (long)(call);						\
	int _e = errno;							\
	check(_r == -1 && _e == (err), "%s: expect %s, got %ld/%s",	\
	      what, strerrorname_np(err), _r,				\
	      _e ? strerrorname_np(_e) : "no error");			\
} while (0)

/* A check that cannot run here: counted as skipped, with the reason. */
static inline void skip(const char *fmt, ...)
{
	va_list ap;

	printf("skip - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline void die(const char *what)
{
	int err = errno;

	printf("not ok - %s: %s (the program stops here)\n", what,
	       err ? strerror(err) : "failed");
	fflush(stdout);
	exit(125);
}

#endif /* IVSHMEM_TEST_CHECK_H */
