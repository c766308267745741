// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-admin: drive ivshmem_host.ko (/dev/ivshmem_host) from a shell.
 *
 *   ivshmem-admin info
 *   ivshmem-admin list
 *   ivshmem-admin create NAME,SIZE_MB,VMID:VMID[:...][,REGION_ID]
 *                        (the IVSHMEM_REGION syntax, region ID of ACRN 3.3)
 *   ivshmem-admin remove NAME
 *   ivshmem-admin attach NAME VMID [-- COMMAND...]
 *   ivshmem-admin ring NAME SRC DST VECTOR
 *
 * "attach" holds the attachment while COMMAND runs (default: until
 * stdin closes); COMMAND finds the fd in $IVSHMEM_FD and the size in
 * $IVSHMEM_SIZE, so a script can mmap it (e.g. through /proc/self/fd;
 * offset and length multiples of 2 MiB). info and list open the device
 * read-only, which is all they need.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ivshmem_host.h>

static const char *dev_path = "/dev/ivshmem_host";

/* The --help text (stdout, exit 0); without a valid command, stderr, exit 2. */
static int print_help(FILE *f, int rc)
{
	fprintf(f,
		"Usage: ivshmem-admin COMMAND [ARGUMENT]...\n"
		"Manage the shared memory regions of ivshmem_host.ko, ACRN's Service VM\n"
		"module, through /dev/ivshmem_host.\n"
		"\n"
		"Commands:\n"
		"  info                  the module's ABI version, mode and region counts\n"
		"  list                  one line per region: ID, name, size, member VMs,\n"
		"                        attachments, folios\n"
		"  create NAME,SIZE_MB,VMID:VMID[:...][,REGION_ID]\n"
		"                        create a region (the IVSHMEM_REGION syntax: the VMs\n"
		"                        that may attach; REGION_ID, the guest's PCI\n"
		"                        subsystem ID, defaults to the lowest free one)\n"
		"  remove NAME           remove a region\n"
		"  attach NAME VMID [-- COMMAND...]\n"
		"                        attach VM VMID to region NAME and hold the\n"
		"                        attachment while COMMAND runs (default: until stdin\n"
		"                        closes); COMMAND finds the fd in $IVSHMEM_FD and the\n"
		"                        size in $IVSHMEM_SIZE\n"
		"  ring NAME SRC DST VECTOR\n"
		"                        ring VECTOR of peer DST from peer SRC in region NAME\n"
		"  --help                show this help and exit\n"
		"\n"
		"Environment:\n"
		"  IVSHMEM_HOST_DEV      the device node (default /dev/ivshmem_host)\n"
		"\n"
		"Exit status: 0 on success, 1 when the device or an ioctl fails, 2 on\n"
		"a usage error.\n");
	return rc;
}

static int fail(const char *what)
{
	fprintf(stderr, "ivshmem-admin: %s: %s\n", what, strerror(errno));
	return 1;
}

static int set_name(char *dst, const char *name)
{
	if (strlen(name) >= IVSHMEM_HOST_NAME_LEN) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(dst, 0, IVSHMEM_HOST_NAME_LEN);
	memcpy(dst, name, strlen(name));
	return 0;
}

static int parse_u32(const char *s, unsigned int *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || !*s || *end || n > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	*v = n;
	return 0;
}

static void members_str(uint64_t m, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < 64 && off < len; i++)
		if (m & (1ULL << i))
			off += snprintf(buf + off, len - off, "%s%d",
					off ? ":" : "", i);
}

static int cmd_info(int dev)
{
	struct ivshmem_host_info i;

	memset(&i, 0, sizeof(i));
	if (ioctl(dev, IVSHMEM_HOST_IOCTL_INFO, &i))
		return fail("INFO");
	printf("abi %u, %s, %u/%u regions, %llu bytes in %u dm-land memories\n",
	       i.abi_version,
	       i.flags & IVSHMEM_HOST_INFO_ACRN ?
	       "ACRN Service VM" : "not ACRN",
	       i.nr_regions, i.max_regions,
	       (unsigned long long)i.mem_bytes, i.nr_mems);
	return 0;
}

static int cmd_list(int dev)
{
	struct ivshmem_host_region r[64];
	struct ivshmem_host_list l;
	unsigned int i;
	char m[200];

	memset(&l, 0, sizeof(l));
	l.capacity = 64;
	l.regions = (uintptr_t)r;
	if (ioctl(dev, IVSHMEM_HOST_IOCTL_LIST, &l))
		return fail("LIST");
	printf("%-4s %-32s %8s %-16s %8s %7s\n", "ID", "NAME", "SIZE_MB",
	       "VMS", "ATTACHED", "FOLIOS");
	for (i = 0; i < l.count && i < 64; i++) {
		members_str(r[i].members, m, sizeof(m));
		printf("%-4u %-32s %8u %-16s %8u %7u\n", r[i].region_id,
		       r[i].name, r[i].size_mb, m, r[i].nr_attached,
		       r[i].nr_folios);
	}
	return 0;
}

/* NAME,SIZE,VMID:VMID[,REGION_ID]; the module checks every rule again. */
static int cmd_create(int dev, const char *spec)
{
	struct ivshmem_host_region r;
	char *copy = strdup(spec), *name, *size, *vms, *id, *tok, *save;
	unsigned int v;

	memset(&r, 0, sizeof(r));
	name = strtok_r(copy, ",", &save);
	size = strtok_r(NULL, ",", &save);
	vms = strtok_r(NULL, ",", &save);
	id = strtok_r(NULL, ",", &save);
	if (!name || !size || !vms || strtok_r(NULL, ",", &save)) {
		fprintf(stderr, "ivshmem-admin: expected NAME,SIZE_MB,VMID:VMID[,REGION_ID]\n");
		return 2;
	}
	if (set_name(r.name, name) || parse_u32(size, &r.size_mb))
		return fail(spec);
	if (id) {
		if (parse_u32(id, &r.region_id))
			return fail(id);
		r.flags = IVSHMEM_HOST_REGION_SET_ID;
	}
	for (tok = strtok_r(vms, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		if (parse_u32(tok, &v) || v > IVSHMEM_HOST_MAX_VMID) {
			errno = ERANGE;
			return fail(tok);
		}
		r.members |= 1ULL << v;
	}
	if (ioctl(dev, IVSHMEM_HOST_IOCTL_ADD, &r))
		return fail("ADD (see dmesg for the rule)");
	free(copy);
	return 0;
}

static int cmd_remove(int dev, const char *name)
{
	struct ivshmem_host_name n;

	memset(&n, 0, sizeof(n));
	if (set_name(n.name, name))
		return fail(name);
	if (ioctl(dev, IVSHMEM_HOST_IOCTL_REMOVE, &n))
		return fail("REMOVE");
	return 0;
}

static int cmd_attach(int dev, char **argv, int argc)
{
	struct ivshmem_host_attach a;
	char buf[32];
	int status;
	pid_t pid;

	memset(&a, 0, sizeof(a));
	if (set_name(a.name, argv[0]) || parse_u32(argv[1], &a.vmid))
		return fail(argv[0]);
	if (ioctl(dev, IVSHMEM_HOST_IOCTL_ATTACH, &a))
		return fail("ATTACH");
	printf("attached VM %u to %s: fd %u, %llu bytes\n", a.vmid, a.name,
	       a.fd, (unsigned long long)a.size);
	fflush(stdout);
	if (argc < 4 || strcmp(argv[2], "--")) {
		/* Hold the attachment until stdin closes. */
		while (read(0, buf, sizeof(buf)) > 0)
			;
		return 0;
	}
	pid = fork();
	if (pid == 0) {
		/* Hand the fd to the command (it was opened O_CLOEXEC). */
		fcntl(a.fd, F_SETFD, 0);
		snprintf(buf, sizeof(buf), "%u", a.fd);
		setenv("IVSHMEM_FD", buf, 1);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)a.size);
		setenv("IVSHMEM_SIZE", buf, 1);
		execvp(argv[3], &argv[3]);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return fail("fork");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int cmd_ring(int dev, char **argv)
{
	struct ivshmem_host_ring r;

	memset(&r, 0, sizeof(r));
	if (set_name(r.name, argv[0]) || parse_u32(argv[1], &r.src) ||
	    parse_u32(argv[2], &r.dst) || parse_u32(argv[3], &r.vector))
		return fail(argv[0]);
	if (ioctl(dev, IVSHMEM_HOST_IOCTL_RING, &r))
		return fail("RING");
	return 0;
}

int main(int argc, char **argv)
{
	const char *env = getenv("IVSHMEM_HOST_DEV");
	int ro, dev;

	if (argc == 2 && !strcmp(argv[1], "--help"))
		return print_help(stdout, 0);
	if (argc < 2)
		return print_help(stderr, 2);
	if (env)
		dev_path = env;
	ro = argc == 2 && (!strcmp(argv[1], "info") || !strcmp(argv[1], "list"));
	dev = open(dev_path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (dev < 0)
		return fail(dev_path);
	if (!strcmp(argv[1], "info") && argc == 2)
		return cmd_info(dev);
	if (!strcmp(argv[1], "list") && argc == 2)
		return cmd_list(dev);
	if (!strcmp(argv[1], "create") && argc == 3)
		return cmd_create(dev, argv[2]);
	if (!strcmp(argv[1], "remove") && argc == 3)
		return cmd_remove(dev, argv[2]);
	if (!strcmp(argv[1], "attach") && argc >= 4)
		return cmd_attach(dev, argv + 2, argc - 2);
	if (!strcmp(argv[1], "ring") && argc == 6)
		return cmd_ring(dev, argv + 2);
	return print_help(stderr, 2);
}
