// SPDX-License-Identifier: GPL-2.0
/*
 * Module glue of the host module's KUnit suites (host_*_test.c).
 */
#include <linux/module.h>

#include "compat.h"

MODULE_DESCRIPTION("KUnit tests of ivshmem_host");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IVSHMEM_NS_KUNIT);
