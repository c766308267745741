/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the host module's guest-side test programs
 * (e2e_host.c, hsm_pins.c).
 */
#ifndef IVSHMEM_TESTS_HOST_UTIL_H
#define IVSHMEM_TESTS_HOST_UTIL_H

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/ivshmem_host.h>

/* ioctl that returns -errno, so checks can compare against -EINVAL etc. */
static inline int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* A region name, NUL-padded to the ABI's fixed length. */
static inline void set_name(char *dst, const char *name)
{
	memset(dst, 0, IVSHMEM_HOST_NAME_LEN);
	memcpy(dst, name, strnlen(name, IVSHMEM_HOST_NAME_LEN));
}

#endif /* IVSHMEM_TESTS_HOST_UTIL_H */
