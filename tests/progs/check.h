/* SPDX-License-Identifier: GPL-2.0 */
/*
 * check.h - "ok - ..." / "not ok - ..." helpers of the guest-side test
 * programs. Each program counts its failures in failures and exits with
 * that count.
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

static inline void die(const char *what)
{
	perror(what);
	exit(125);
}

#endif /* IVSHMEM_TEST_CHECK_H */
