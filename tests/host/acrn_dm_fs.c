// SPDX-License-Identifier: GPL-2.0
/*
 * acrn-dm's dm-land ivshmem setup, call for call, against the host
 * module's filesystem mounted as /dev/shm; then what careless and hostile
 * callers do to that filesystem.
 *
 *   ivshmem-acrn-dm dm NAME SIZE_MB EXPECT [ME OTHER SYNCDIR]
 *	create_ivshmem_from_dm() of devicemodel/hw/pci/ivshmem.c for
 *	"-s N,ivshmem,dm:/NAME,SIZE_MB": shm_open(O_CREAT|O_EXCL|O_RDWR,
 *	0600), on EEXIST shm_open(O_RDWR, 0600); the creator ftruncate()s,
 *	the others fstat() and need st_size == SIZE; mmap(NULL, SIZE, RW,
 *	MAP_SHARED, fd, 0); ACRN_IOCTL_SET_MEMSEG on the HSM double
 *	(tests/hsm_double) where /dev/acrn_hsm_double exists. EXPECT is "ok"
 *	or the step acrn-dm fails at: "shm_open:ERRNO", "ftruncate:ERRNO",
 *	"fstat:size", "mmap:ERRNO", "set_memseg:ERRNO". With ME OTHER
 *	SYNCDIR, two such programs (VMs ME and OTHER of one region, each in
 *	its own mount namespace) exchange data both ways before the deinit
 *	(munmap, close).
 *   ivshmem-acrn-dm hostile
 *	In a namespace whose /dev/shm is mounted with vm=1, with regions
 *	dm:/fs_a,4,1:2, dm:/test,2,1:2, dm:/fs_b,2,2:3 and
 *	hv:/shm_region_0,2,0:2 in the registry: the decisions of
 *	Documentation/host.rst ("Starting acrn-dm unchanged") one by one.
 *   ivshmem-acrn-dm trunc [N]
 *	In such a namespace: N (default 500) O_TRUNC opens of fs_a next to
 *	N legitimate ones never attach (each is EINVAL, the other opener
 *	never EBUSY). e2e.sh gives 150 on the debug kernels, where each
 *	legitimate open's 4 MiB allocation costs ten times as much.
 *
 * Prints "ok - ..." / "not ok - ..." / "skip - ..." lines (check.h) and
 * exits with the number of failures.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/acrn.h>
#include <linux/ivshmem_host.h>

#include "../hsm_double/hsm_double.h"
#include "../progs/check.h"

#define MB		(1024UL * 1024)
#define ALIGN_2M	(2 * MB)
/* statfs() f_type of the filesystem, IVH_FS_MAGIC in host/ivshmem_host_drv.h. */
#define IVH_FS_MAGIC	0x49564846
#define HSM_DOUBLE	"/dev/acrn_hsm_double"
#define REFCNT		"/sys/module/ivshmem_host/refcnt"
/* A guest-physical BAR2 address as acrn-dm would pass it (64-bit BAR). */
#define BAR2_GPA	0x4000000000ULL

static const char *errname(int e)
{
	return e ? strerrorname_np(e) : "0";
}

/* ------------------------------------------------------------------ */
/* the HSM double                                                      */

static int hsm_vm(void)
{
	struct acrn_vm_creation c;
	int fd;

	fd = open(HSM_DOUBLE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&c, 0, sizeof(c));
	if (ioctl(fd, ACRN_IOCTL_CREATE_VM, &c)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* vm_map_memseg_vma() of devicemodel/core/vmmapi.c. */
static int vm_map_memseg_vma(int hsm, size_t len, uint64_t gpa, uint64_t vma)
{
	struct acrn_vm_memmap memmap;

	memset(&memmap, 0, sizeof(memmap));
	memmap.type = ACRN_MEMMAP_RAM;
	memmap.vma_base = vma;
	memmap.len = len;
	memmap.user_vm_pa = gpa;
	memmap.attr = PROT_READ | PROT_WRITE;	/* acrn-dm passes PROT_RW */
	return ioctl(hsm, ACRN_IOCTL_SET_MEMSEG, &memmap) ? -errno : 0;
}

static int hsm_info(int hsm, unsigned int slot, struct hsm_double_info *info)
{
	memset(info, 0, sizeof(*info));
	info->slot = slot;
	return ioctl(hsm, HSM_DOUBLE_IOCTL_INFO, info) ? -errno : 0;
}

static int hsm_access(int hsm, unsigned int slot, int write, uint64_t off,
		      void *buf, size_t len)
{
	struct hsm_double_access a;

	memset(&a, 0, sizeof(a));
	a.slot = slot;
	a.flags = write ? HSM_DOUBLE_ACCESS_WRITE : 0;
	a.offset = off;
	a.len = len;
	a.buf = (uintptr_t)buf;
	return ioctl(hsm, HSM_DOUBLE_IOCTL_ACCESS, &a) ? -errno : 0;
}

/* ------------------------------------------------------------------ */
/* dm: acrn-dm's sequence                                              */

/* FilePmdMapped of the mapping at @addr in /proc/self/smaps, in kB. */
static long smaps_pmd_kb(void *addr)
{
	char line[256], start[32];
	long kb = -1;
	int in = 0;
	FILE *f;

	snprintf(start, sizeof(start), "%lx-", (unsigned long)addr);
	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, ':') &&
		    line[0] != ' ' && !strstr(line, "kB"))
			in = !strncmp(line, start, strlen(start));
		if (in && sscanf(line, "FilePmdMapped: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static void wait_file(const char *path, const char *what)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	for (i = 0; i < 3000 && access(path, F_OK); i++)
		nanosleep(&ts, NULL);
	if (access(path, F_OK))
		die(what);
}

static void touch_file(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

	if (fd < 0)
		die(path);
	close(fd);
}

/*
 * Both VMs write a tag at offset ME*4 KiB and at ME*4 KiB from the end,
 * then wait for the other's; each reads the other's through its own
 * mapping (and through HSM's vmap when the double is there).
 */
static void exchange(char *addr, size_t size, int me, int other,
		     const char *dir, int hsm)
{
	char tag[32], want[32], path[256], buf[32];
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i, seen = 0;

	snprintf(tag, sizeof(tag), "vm %d was here", me);
	snprintf(want, sizeof(want), "vm %d was here", other);
	memcpy(addr + me * 4096, tag, sizeof(tag));
	memcpy(addr + size - (me + 1) * 4096, tag, sizeof(tag));
	for (i = 0; i < 6000 && !seen; i++) {
		seen = !memcmp(addr + other * 4096, want, sizeof(want)) &&
		       !memcmp(addr + size - (other + 1) * 4096, want,
			       sizeof(want));
		if (!seen)
			nanosleep(&ts, NULL);
	}
	check(seen, "VM %d reads VM %d's writes at both ends of its mapping", me,
	      other);
	if (hsm >= 0) {
		memset(buf, 0, sizeof(buf));
		check(!hsm_access(hsm, 0, 0, other * 4096, buf, sizeof(buf)) &&
		      !memcmp(buf, want, sizeof(want)),
		      "VM %d: HSM's vmap of its SET_MEMSEG sees VM %d's write", me,
		      other);
	}
	/* Neither deinits before the other has read. */
	snprintf(path, sizeof(path), "%s/%d.read", dir, me);
	touch_file(path);
	snprintf(path, sizeof(path), "%s/%d.read", dir, other);
	wait_file(path, "the other VM did not report");
}

static int parse_expect(const char *s, char *step, size_t len, int *err)
{
	const char *colon = strchr(s, ':');
	int e;

	*err = 0;
	if (!colon) {
		snprintf(step, len, "%s", s);
		return 0;
	}
	snprintf(step, len, "%.*s", (int)(colon - s), s);
	if (!strcmp(colon + 1, "size"))
		return 0;
	for (e = 1; e < 134; e++)
		if (strerrorname_np(e) && !strcmp(strerrorname_np(e), colon + 1)) {
			*err = e;
			return 0;
		}
	return -1;
}

static int cmd_dm(int argc, char **argv)
{
	const char *name = argv[2];
	uint32_t size = strtoul(argv[3], NULL, 0) * MB;
	const char *expect = argv[4];
	int me = argc > 7 ? atoi(argv[5]) : 0;
	int other = argc > 7 ? atoi(argv[6]) : 0;
	const char *dir = argc > 7 ? argv[7] : NULL;
	char step[32] = "ok", want_step[32], got[64];
	bool is_shm_creator = false, thp;
	struct stat st;
	void *addr = NULL;
	int fd, hsm = -1, want_err, err = 0, ret;

	if (parse_expect(expect, want_step, sizeof(want_step), &want_err))
		die("EXPECT");

	/* create_ivshmem_from_dm(), call for call. */
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd > 0)
		is_shm_creator = true;
	else if (fd < 0 && errno == EEXIST)
		fd = shm_open(name, O_RDWR, 0600);
	if (fd < 0) {
		err = errno;
		snprintf(step, sizeof(step), "shm_open");
		goto out;
	}
	if (is_shm_creator) {
		if (ftruncate(fd, size) < 0) {
			err = errno;
			snprintf(step, sizeof(step), "ftruncate");
			goto out;
		}
	} else {
		if ((fstat(fd, &st) < 0) || st.st_size != size) {
			snprintf(step, sizeof(step), "fstat");
			goto out;
		}
	}
	addr = (void *)mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED) {
		err = errno;
		addr = NULL;
		snprintf(step, sizeof(step), "mmap");
		goto out;
	}
	if (access(HSM_DOUBLE, F_OK) == 0) {
		hsm = hsm_vm();
		if (hsm < 0)
			die("CREATE_VM on " HSM_DOUBLE);
		ret = vm_map_memseg_vma(hsm, size, BAR2_GPA, (uint64_t)addr);
		if (ret) {
			err = -ret;
			snprintf(step, sizeof(step), "set_memseg");
			goto out;
		}
	}
out:
	snprintf(got, sizeof(got), "%s%s%s", step,
		 strcmp(step, "ok") ? ":" : "",
		 !strcmp(step, "ok") ? "" : !strcmp(step, "fstat") ? "size" :
		 errname(err));
	check(!strcmp(got, expect),
	      "acrn-dm's sequence for dm:/%s, %u MiB: %s (want %s; %s)", name,
	      size >> 20, got, expect,
	      strcmp(step, "ok") ? "acrn-dm refuses the device here" :
	      hsm >= 0 ? "through SET_MEMSEG on the HSM double" :
	      "no HSM double: up to mmap");
	if (strcmp(step, "ok")) {
		if (addr)
			munmap(addr, size);
		if (fd > 0)
			close(fd);
		if (hsm >= 0)
			close(hsm);
		return failures;
	}

	check(!is_shm_creator, "O_CREAT|O_EXCL on the region gave EEXIST: acrn-dm takes the fstat path");
	check(fcntl(fd, F_GETFD) == FD_CLOEXEC, "glibc's shm_open gave an O_CLOEXEC fd");
	thp = access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0;
	/* thp_get_unmapped_area() aligns only with THP (not on 6.1-rt). */
	if (thp)
		check(((uintptr_t)addr & (ALIGN_2M - 1)) == 0,
		      "mmap(NULL) gave a 2 MiB aligned address (%p)", addr);
	else
		skip("mmap(NULL) 2 MiB alignment: no transparent hugepages in this kernel");
	check(ftruncate(fd, size) == 0, "ftruncate to the region's size succeeds (the creator's call)");
	/* Touch every 2 MiB so the fault path maps it. */
	for (size_t off = 0; off < size; off += ALIGN_2M)
		((volatile char *)addr)[off + 64] = ((volatile char *)addr)[off + 64];
	if (thp) {
		long kb = smaps_pmd_kb(addr);

		check(kb > 0, "... and its faults map 2 MiB folios with PMDs (FilePmdMapped %ld kB)",
		      kb);
	} else {
		skip("PMD mappings: no transparent hugepages in this kernel");
	}
	if (hsm >= 0) {
		struct hsm_double_info info;
		int r = hsm_info(hsm, 0, &info);

		check(!r && info.npages == size / 4096 && info.nr_regions >= 1,
		      "HSM pinned the module's whole region: %llu pages, %llu region ops (%llu large)",
		      (unsigned long long)info.npages,
		      (unsigned long long)info.nr_regions,
		      (unsigned long long)info.nr_large);
	}

	/* The same memory at an unaligned address: 4 KiB entries. */
	{
		char *resv, *un;

		resv = mmap(NULL, size + ALIGN_2M, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (resv == MAP_FAILED)
			die("reserve");
		un = (char *)(((uintptr_t)resv + ALIGN_2M - 1) & ~(ALIGN_2M - 1)) + 4096;
		un = mmap(un, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			  fd, 0);
		check(un != MAP_FAILED, "a second mapping MAP_FIXED at a 2 MiB + 4 KiB address");
		if (un != MAP_FAILED) {
			int same = 1;

			/* Away from exchange()'s tags, and per VM. */
			size_t scratch = size / 2 + (me + 8) * 4096;

			memcpy(un + scratch, "unaligned", 10);
			for (size_t off = 0; off < size; off += 4096)
				if (((char *)addr)[off + 100] != un[off + 100])
					same = 0;
			check(same && !memcmp((char *)addr + scratch, "unaligned", 10),
			      "... sees the same bytes both ways, every 4 KiB page");
			if (hsm >= 0) {
				int hsm2 = hsm_vm();

				check(hsm2 >= 0 &&
				      vm_map_memseg_vma(hsm2, size, BAR2_GPA,
							(uint64_t)un) == 0,
				      "SET_MEMSEG of the unaligned mapping (HSM's walk starts at a folio head)");
				if (hsm2 >= 0) {
					ioctl(hsm2, ACRN_IOCTL_DESTROY_VM);
					close(hsm2);
				}
			}
			memset(un + scratch, 0, 10);
		}
		munmap(resv, size + ALIGN_2M);
	}

	if (dir)
		exchange(addr, size, me, other, dir, hsm);

	/* pci_ivshmem_deinit() -> destroy_ivshmem_from_dm(). */
	check(munmap(addr, size) == 0 && close(fd) == 0, "deinit: munmap and close");
	if (hsm >= 0) {
		/* The module's side of it: e2e.sh checks the memory is freed. */
		if (ioctl(hsm, ACRN_IOCTL_DESTROY_VM))
			die("DESTROY_VM on the HSM double");
		close(hsm);
	}
	return failures;
}

/* ------------------------------------------------------------------ */
/* hostile: what else reaches the filesystem                           */

#define SHM	"/dev/shm"

static int ctl = -1;

static int region_op(unsigned long cmd, const char *name, uint64_t members,
		     uint32_t size_mb)
{
	struct ivshmem_host_region r;
	struct ivshmem_host_name n;

	if (cmd == IVSHMEM_HOST_IOCTL_REMOVE) {
		memset(&n, 0, sizeof(n));
		strncpy(n.name, name, sizeof(n.name) - 1);
		return ioctl(ctl, cmd, &n) ? -errno : 0;
	}
	memset(&r, 0, sizeof(r));
	strncpy(r.name, name, sizeof(r.name) - 1);
	r.members = members;
	r.size_mb = size_mb;
	return ioctl(ctl, cmd, &r) ? -errno : 0;
}

static int sorted_names(const char *dir, char *out, size_t len)
{
	struct dirent **list;
	int n, i;

	out[0] = 0;
	n = scandir(dir, &list, NULL, alphasort);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		strncat(out, list[i]->d_name, len - strlen(out) - 2);
		strcat(out, " ");
		free(list[i]);
	}
	free(list);
	return n;
}

static long refcnt(void)
{
	FILE *f = fopen(REFCNT, "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* Run @fn in a child as uid/gid; its exit status is its errno (0: ok). */
static int as_user(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		die("fork");
	if (!pid) {
		if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
			_exit(200);
		_exit(fn(arg));
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 201;
}

static int open_rdwr(void *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int open_dir(void *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int do_mount(void *opts)
{
	mkdir("/tmp/ivfs_user", 0777);
	return mount("none", "/tmp/ivfs_user", "ivshmem_host", 0, opts) ? errno : 0;
}

static int userns_mount(void *unused)
{
	int fd;

	(void)unused;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
		return errno == EINVAL ? 210 : 202;
	/* Root of the new namespace: every capability, but in it only. */
	fd = open("/proc/self/uid_map", O_WRONLY);
	if (fd < 0 || write(fd, "0 0 1", 5) != 5)
		return 203;
	close(fd);
	return do_mount("vm=1");
}

#ifndef FSCONFIG_SET_STRING
#define FSCONFIG_SET_STRING	1
#define FSCONFIG_CMD_CREATE	6
#endif

/*
 * fsopen() by root of a new user namespace, the context passed to the
 * initial namespace's root (SCM_RIGHTS), which sets vm=1 and runs
 * FSCONFIG_CMD_CREATE: the superblock would belong to that user
 * namespace. Return: CREATE's errno (0: created), or 209 without AF_UNIX,
 * 210 without user namespaces, 211 to 217 where the setup failed.
 */
static int userns_fsopen_create(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))], c = 0;
	struct iovec iov = { &c, 1 };
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	int sv[2], fd, status, r;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return errno == EAFNOSUPPORT ? 209 : 211;
	pid = fork();
	if (!pid) {
		close(sv[0]);
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
			_exit(errno == EINVAL ? 210 : 212);
		fd = open("/proc/self/uid_map", O_WRONLY);
		if (fd < 0 || write(fd, "0 0 1", 5) != 5)
			_exit(213);
		close(fd);
		fd = syscall(SYS_fsopen, "ivshmem_host", 0);
		if (fd < 0)
			_exit(214);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		_exit(sendmsg(sv[1], &msg, 0) == 1 ? 0 : 215);
	}
	close(sv[1]);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	r = recvmsg(sv[0], &msg, 0);
	waitpid(pid, &status, 0);
	close(sv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return WIFEXITED(status) ? WEXITSTATUS(status) : 211;
	cm = CMSG_FIRSTHDR(&msg);
	if (r != 1 || !cm)
		return 216;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING, "vm", "1", 0))
		r = 217;
	else
		r = syscall(SYS_fsconfig, fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) ? errno : 0;
	close(fd);
	return r;
}

/* What a result of userns_mount() or userns_fsopen_create() means. */
static const char *userns_step(int r)
{
	switch (r) {
	case 0:
		return "mounted: the superblock would belong to the user namespace";
	case 202:
		return "setup: unshare(CLONE_NEWUSER | CLONE_NEWNS) failed";
	case 203:
		return "setup: writing uid_map failed";
	case 209:
		return "setup: no AF_UNIX socketpair";
	case 210:
		return "setup: no user namespaces (unshare EINVAL)";
	case 211:
		return "setup: socketpair or the child failed";
	case 212:
		return "setup: unshare failed";
	case 213:
		return "setup: writing uid_map failed";
	case 214:
		return "setup: fsopen(\"ivshmem_host\") failed in the user namespace";
	case 215:
		return "setup: passing the fs context (SCM_RIGHTS) failed";
	case 216:
		return "setup: no fs context received";
	case 217:
		return "fsconfig vm=1 failed";
	case -1:
		return "setup: the child was killed";
	default:
		return r < 134 ? errname(r) : "setup: unknown step";
	}
}

static void test_mount_options(void)
{
	const char *dir = "/tmp/ivfs_opt";
	static const char * const bad[] = {
		"", "vm=64", "vm=-1", "vm=1,vm=2", "vm=1,mode=0755",
		"vm=1,mode=04600", "vm=1,mode=01666", "vm=1,uid=4294967295",
		"vm=1,gid=4294967295", "vm=1,size=2M", "vm=1,mode=abc",
		/* IDs are decimal: not octal, hex, signed or zero-padded. */
		"vm=010", "vm=0x1", "vm=+1", "vm=01", "vm=1,uid=0x10",
		"vm=1,gid=010", "vm=1,uid=+0",
	};
	char line[512], want[64], fdp[64];
	struct stat st, dst;
	unsigned int i;
	FILE *f;
	int found = 0, pid, status, opath, dpath, r;

	mkdir(dir, 0755);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r, e;

		errno = 0;
		r = mount("none", dir, "ivshmem_host", 0, bad[i]);
		e = errno;
		check(r == -1 && e == EINVAL, "mount -o \"%s\" refused: %s", bad[i],
		      r ? errname(e) : "mounted");
		if (!r)
			umount(dir);
	}
	/* Not CAP_SYS_ADMIN in the initial user namespace: EPERM. */
	check(as_user(65534, 65534, do_mount, "vm=1") == EPERM,
	      "mount by an unprivileged user: EPERM");
	/*
	 * Every kernel of the matrix has user namespaces and AF_UNIX (the
	 * debug kernels: tests/kernel/debug.config): a setup step that
	 * fails is a failure of the check, named by its step.
	 */
	pid = fork();
	if (!pid)
		_exit(userns_mount(NULL));
	waitpid(pid, &status, 0);
	r = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	check(r == EPERM,
	      "mount by root of a new user namespace (all its capabilities): EPERM (%d: %s)",
	      r, userns_step(r));

	r = userns_fsopen_create();
	check(r == EPERM,
	      "fsopen() by root of a new user namespace, CMD_CREATE by the initial namespace's root: EPERM (%d: %s)",
	      r, userns_step(r));

	/* A group granted access: mode=0660,gid=1234. */
	check(mount("none", dir, "ivshmem_host", MS_NOSUID | MS_NODEV,
		    "vm=2,mode=0660,gid=1234") == 0,
	      "mount -o vm=2,mode=0660,gid=1234");
	memset(&st, 0, sizeof(st));
	stat("/tmp/ivfs_opt/fs_a", &st);
	check(st.st_mode == (S_IFREG | 0660) && st.st_uid == 0 && st.st_gid == 1234 && st.st_size == 4 * MB &&
	      st.st_nlink == 1,
	      "stat fs_a: regular, 0660 root:1234, 4 MiB (mode %o, gid %u)",
	      st.st_mode, st.st_gid);
	memset(&st, 0, sizeof(st));
	stat(dir, &st);
	check(st.st_mode == (S_IFDIR | 0550) && st.st_gid == 1234,
	      "the directory: 0550 root:1234 (r-x where the files are readable): %o",
	      st.st_mode);
	f = fopen("/proc/self/mounts", "r");
	snprintf(want, sizeof(want), "%s ivshmem_host ", dir);
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, want) && strstr(line, "vm=2,mode=0660,gid=1234"))
			found = 1;
	if (f)
		fclose(f);
	check(found, "/proc/self/mounts shows vm=2,mode=0660,gid=1234");
	check(as_user(4321, 1234, open_rdwr, "/tmp/ivfs_opt/fs_a") == 0,
	      "uid 4321 in group 1234 opens fs_a read-write (attaches VM 2, closes)");
	check(as_user(4321, 4321, open_rdwr, "/tmp/ivfs_opt/fs_a") == EACCES,
	      "uid 4321 outside the group: EACCES");
	check(as_user(4321, 1234, open_rdwr, "/tmp/ivfs_opt/fs_b") == 0,
	      "... and the group's VM 2 may open fs_b (VMs 2:3)");
	CHECK_ERR(chmod("/tmp/ivfs_opt/fs_a", 0666), EPERM, "chmod of a file (mode comes from mode=)");
	CHECK_ERR(chown("/tmp/ivfs_opt/fs_a", 4321, 4321), EPERM, "chown of a file (owner comes from uid=/gid=)");
	CHECK_ERR(chmod(dir, 0777), EPERM, "chmod of the directory");
	opath = open("/tmp/ivfs_opt/fs_a", O_PATH);
	dpath = open(dir, O_PATH | O_DIRECTORY);
	check(opath >= 0 && dpath >= 0, "O_PATH fds of fs_a and of the directory, before the remount");
	check(mount("none", dir, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV, "mode=0600") == 0,
	      "remount -o mode=0600");
	/*
	 * No path walk reaches these inodes: they must see the remount anyway.
	 * stat first, before any permission check has run on them.
	 */
	memset(&st, 0, sizeof(st));
	memset(&dst, 0, sizeof(dst));
	r = fstat(opath, &st) | fstat(dpath, &dst);
	check(r == 0 && st.st_mode == (S_IFREG | 0600) && dst.st_mode == (S_IFDIR | 0500) &&
	      st.st_gid == 1234 && dst.st_gid == 1234,
	      "... fstat of the earlier O_PATH fds, before any access check: fs_a %o, the directory %o (the mount's now)",
	      st.st_mode, dst.st_mode);
	snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", opath);
	r = as_user(4321, 1234, open_rdwr, fdp);
	check(r == EACCES,
	      "... the group reopening the earlier O_PATH fd of fs_a via /proc/self/fd: EACCES (%s)",
	      r ? errname(r) : "opened, VM 2 attached");
	snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", dpath);
	r = as_user(4321, 1234, open_dir, fdp);
	check(r == EACCES,
	      "... and the directory's (now 0500): EACCES (%s)", r ? errname(r) : "opened");
	close(opath);
	close(dpath);
	memset(&st, 0, sizeof(st));
	stat("/tmp/ivfs_opt/fs_a", &st);
	check(st.st_mode == (S_IFREG | 0600) && st.st_gid == 1234,
	      "... stat fs_a now 0600 (%o)", st.st_mode);
	check(as_user(4321, 1234, open_rdwr, "/tmp/ivfs_opt/fs_a") == EACCES,
	      "... and the group is refused (EACCES)");
	CHECK_ERR(mount("none", dir, NULL, MS_REMOUNT, "vm=3"), EINVAL,
		  "remount -o vm=3 (the VM never changes)");
	check(mount("none", dir, NULL, MS_REMOUNT, "vm=2") == 0,
	      "remount -o vm=2 (unchanged) is fine");
	check(umount(dir) == 0, "umount");
}

/* A forked child keeps the mapping: the VM stays attached until it goes. */
static void test_fork(void)
{
	int fd, fd2, p[2], status;
	char *m;
	pid_t pid;

	fd = shm_open("test", O_RDWR, 0600);
	m = fd < 0 ? MAP_FAILED :
	    mmap(NULL, 2 * MB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("open and map test");
	if (pipe(p))
		die("pipe");
	pid = fork();
	if (!pid) {
		char c;

		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		_exit(strcmp(m, "parent was here") ? 2 : 0);
	}
	close(p[0]);
	strcpy(m, "parent was here");
	munmap(m, 2 * MB);
	close(fd);
	errno = 0;
	fd2 = shm_open("test", O_RDWR, 0600);
	check(fd2 < 0 && errno == EBUSY,
	      "after munmap and close, a forked child's mapping keeps VM 1 attached: reopen %s",
	      fd2 < 0 ? errname(errno) : "succeeded");
	if (fd2 >= 0)
		close(fd2);
	if (write(p[1], "x", 1) != 1)
		die("pipe write");
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "... the child read the parent's write through its mapping");
	close(p[1]);
	fd2 = shm_open("test", O_RDWR, 0600);
	check(fd2 >= 0, "... once it exited, VM 1 opens again");
	if (fd2 >= 0)
		close(fd2);
}

/* ADD @name (2 MiB, VMs 1 and 2) with region ID @id: 0 or -errno. */
static int add_with_id(const char *name, unsigned long id)
{
	struct ivshmem_host_region r;

	memset(&r, 0, sizeof(r));
	strncpy(r.name, name, sizeof(r.name) - 1);
	r.members = 0x6;
	r.size_mb = 2;
	r.flags = IVSHMEM_HOST_REGION_SET_ID;
	r.region_id = id;
	return ioctl(ctl, IVSHMEM_HOST_IOCTL_ADD, &r) ? -errno : 0;
}

static void test_removed_while_open(void)
{
	char names[256];
	int fd, fd2;
	char *m, *m2;
	struct stat st;
	ino_t ino;
	int r;

	check(region_op(IVSHMEM_HOST_IOCTL_ADD, "dm:/late", 0x6, 2) == 0,
	      "ADD dm:/late,2,1:2 while mounted");
	sorted_names(SHM, names, sizeof(names));
	check(!strcmp(names, ". .. fs_a late test "), "... readdir shows it at once: %s", names);
	fd = shm_open("late", O_RDWR, 0600);
	m = fd < 0 ? MAP_FAILED :
	    mmap(NULL, 2 * MB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(m != MAP_FAILED, "... and opens and maps");
	if (m == MAP_FAILED)
		return;
	strcpy(m, "first late");
	check(region_op(IVSHMEM_HOST_IOCTL_REMOVE, "dm:/late", 0, 0) == 0,
	      "REMOVE dm:/late while open and mapped");
	CHECK_ERR(stat(SHM "/late", &st), ENOENT, "... its name is gone");
	sorted_names(SHM, names, sizeof(names));
	check(!strcmp(names, ". .. fs_a test "), "... and out of readdir: %s", names);
	check(fstat(fd, &st) == 0 && st.st_size == 2 * MB && !strcmp(m, "first late"),
	      "... the open file and its mapping keep working");
	check(region_op(IVSHMEM_HOST_IOCTL_ADD, "dm:/late", 0x6, 2) == 0,
	      "ADD dm:/late again: another region of that name");
	ino = st.st_ino;
	r = stat(SHM "/late", &st);
	check(r == 0 && st.st_ino != ino,
	      "... with another inode number (%lu, the old one %lu lives on)",
	      (unsigned long)st.st_ino, (unsigned long)ino);
	check(add_with_id("dm:/late_id", ino - 2) == -EEXIST,
	      "... and the old region ID %lu cannot be taken while it lives: EEXIST",
	      (unsigned long)ino - 2);
	fd2 = shm_open("late", O_RDWR, 0600);
	m2 = fd2 < 0 ? MAP_FAILED :
	     mmap(NULL, 2 * MB, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	check(m2 != MAP_FAILED && m2[0] == 0 && !strcmp(m, "first late"),
	      "... VM 1 opens it (not EBUSY: the old attachment is to the old region), new zeroed memory; the old mapping still has the old bytes");
	if (m2 != MAP_FAILED)
		munmap(m2, 2 * MB);
	if (fd2 >= 0)
		close(fd2);
	munmap(m, 2 * MB);
	close(fd);
	check(add_with_id("dm:/late_id", ino - 2) == 0,
	      "... once the old region's file is closed and unmapped, its ID is free");
	region_op(IVSHMEM_HOST_IOCTL_REMOVE, "dm:/late_id", 0, 0);
	region_op(IVSHMEM_HOST_IOCTL_REMOVE, "dm:/late", 0, 0);
}

static void test_umount_busy(void)
{
	const char *dir = "/tmp/ivfs_u";
	long r0, r1;
	char *m;
	int fd;

	mkdir(dir, 0755);
	r0 = refcnt();
	check(mount("none", dir, "ivshmem_host", 0, "vm=1") == 0,
	      "a second mount for VM 1");
	r1 = refcnt();
	check(r1 == r0 + 1, "... holds the module (refcnt %ld -> %ld)", r0, r1);
	fd = open("/tmp/ivfs_u/test", O_RDWR | O_CLOEXEC);
	m = fd < 0 ? MAP_FAILED :
	    mmap(NULL, 2 * MB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(m != MAP_FAILED, "... opened and mapped test there");
	if (m == MAP_FAILED)
		return;
	CHECK_ERR(umount(dir), EBUSY, "umount while a file is open and mapped");
	close(fd);
	CHECK_ERR(umount(dir), EBUSY, "umount while the file is only mapped");
	check(umount2(dir, MNT_DETACH) == 0, "umount -l (detach) succeeds");
	strcpy(m, "after detach");
	/* The mapping holds the file: its fops (+1) and its detached mount. */
	check(!strcmp(m, "after detach") && refcnt() == r1 + 1,
	      "... the mapping works on and still holds the module (refcnt %ld, want %ld)",
	      refcnt(), r1 + 1);
	munmap(m, 2 * MB);
	check(refcnt() == r0, "... munmap releases the last of it (refcnt %ld)", refcnt());
}

static int attached_fs_a(void)
{
	struct ivshmem_host_region r;

	memset(&r, 0, sizeof(r));
	strcpy(r.name, "dm:/fs_a");
	if (ioctl(ctl, IVSHMEM_HOST_IOCTL_LOOKUP, &r))
		return -1;
	return r.nr_attached;
}

/*
 * O_TRUNC opens in a loop next to legitimate ones: a refused O_TRUNC
 * open must never attach, not even until the VFS's truncate fails, so
 * the legitimate opener never gets EBUSY and each O_TRUNC open EINVAL.
 */
static void test_trunc_race(int n)
{
	int i, fd, busy = 0, other = 0, status;
	pid_t pid;

	pid = fork();
	if (!pid) {
		int bad = 0;

		for (i = 0; i < n; i++) {
			fd = shm_open("fs_a", O_RDWR | O_TRUNC, 0600);
			if (fd >= 0 || errno != EINVAL)
				bad++;
			if (fd >= 0)
				close(fd);
		}
		_exit(bad ? 1 : 0);
	}
	for (i = 0; i < n; i++) {
		fd = shm_open("fs_a", O_RDWR, 0600);
		if (fd >= 0)
			close(fd);
		else if (errno == EBUSY)
			busy++;
		else
			other++;
	}
	waitpid(pid, &status, 0);
	check(!busy && !other && WIFEXITED(status) && !WEXITSTATUS(status),
	      "%d O_TRUNC opens next to %d legitimate ones: all EINVAL, the others never EBUSY (%d EBUSY, %d other, child %d)",
	      n, n, busy, other, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	check(attached_fs_a() == 0, "... and fs_a has no VM attached after them (%d)",
	      attached_fs_a());
}

static int cmd_hostile(void)
{
	char names[256], c = 0;
	struct statfs sfs;
	struct stat st;
	int fd, fd2;
	char *m;

	ctl = open("/dev/ivshmem_host", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die("/dev/ivshmem_host");

	/* The directory. */
	check(sorted_names(SHM, names, sizeof(names)) == 4 &&
	      !strcmp(names, ". .. fs_a test "),
	      "readdir of VM 1's mount: its dm-land regions only (no fs_b of VMs 2:3, no hv:/): %s",
	      names);
	{
		struct ivshmem_host_region r;

		memset(&r, 0, sizeof(r));
		strcpy(r.name, "dm:/fs_a");
		memset(&st, 0, sizeof(st));
		if (ioctl(ctl, IVSHMEM_HOST_IOCTL_LOOKUP, &r))
			die("LOOKUP dm:/fs_a");
		stat(SHM "/fs_a", &st);
		check(st.st_mode == (S_IFREG | 0600) && st.st_uid == 0 &&
		      st.st_gid == 0 && st.st_size == 4 * MB &&
		      st.st_ino == r.region_id + 2,
		      "stat fs_a: 0600 root:root (the defaults), 4 MiB, inode %lu = region ID %u + 2",
		      (unsigned long)st.st_ino, r.region_id);
	}
	memset(&sfs, 0, sizeof(sfs));
	statfs(SHM, &sfs);
	check(sfs.f_type == IVH_FS_MAGIC &&
	      (unsigned long long)sfs.f_blocks * sfs.f_bsize == 6 * MB &&
	      sfs.f_bfree == 0 && sfs.f_files == 2 && sfs.f_namelen == 27,
	      "statfs: magic %#lx, 6 MiB in 2 files, nothing free, names up to 27",
	      (unsigned long)sfs.f_type);

	/* Names that are not VM 1's regions. */
	CHECK_ERR(shm_open("fs_b", O_RDWR, 0600), ENOENT, "open a region VM 1 is not a member of");
	CHECK_ERR(shm_open("fs_b", O_CREAT | O_EXCL | O_RDWR, 0600), EACCES,
		  "create it (acrn-dm's first call)");
	CHECK_ERR(shm_open("shm_region_0", O_RDWR, 0600), ENOENT, "open an hv-land region's name");
	CHECK_ERR(shm_open("nosuch", O_RDWR, 0600), ENOENT, "open an unknown name");
	CHECK_ERR(shm_open("nosuch", O_CREAT | O_RDWR, 0600), EACCES, "create an unknown name");
	CHECK_ERR(shm_open("fs_a/x", O_RDWR, 0600), EINVAL, "a name with '/' (glibc refuses)");
	CHECK_ERR(open(SHM "/fs_a/x", O_RDWR), ENOTDIR, "a path below a region file");
	CHECK_ERR(mkdir(SHM "/d", 0700), EPERM, "mkdir");
	CHECK_ERR(mknod(SHM "/n", S_IFIFO | 0600, 0), EPERM, "mknod of a FIFO");
	CHECK_ERR(mknod(SHM "/n", S_IFREG | 0600, 0), EACCES, "mknod of a file (a create)");
	CHECK_ERR(symlink("fs_a", SHM "/l"), EPERM, "symlink");
	CHECK_ERR(link(SHM "/fs_a", SHM "/l"), EPERM, "link");
	CHECK_ERR(rename(SHM "/fs_a", SHM "/fs_c"), EPERM, "rename");
	CHECK_ERR(rename("/tmp", SHM "/fs_c"), EXDEV, "rename into it from elsewhere");
	/* glibc's shm_unlink() turns unlink()'s EPERM into EACCES. */
	CHECK_ERR(shm_unlink("fs_a"), EACCES, "shm_unlink (acrn-dm never does)");
	CHECK_ERR(unlink(SHM "/fs_a"), EPERM, "unlink");
	CHECK_ERR(rmdir(SHM "/fs_a"), ENOTDIR, "rmdir of a region file");
	check(stat(SHM "/fs_a", &st) == 0, "... fs_a is still there");

	/* Opens. */
	CHECK_ERR(shm_open("fs_a", O_RDONLY, 0600), EACCES, "open O_RDONLY (an open is an attachment)");
	CHECK_ERR(open(SHM "/fs_a", O_WRONLY), EACCES, "open O_WRONLY");
	CHECK_ERR(shm_open("fs_a", O_RDWR | O_TRUNC, 0600), EINVAL,
		  "open O_TRUNC (truncating to 0 is another size)");
	fd = shm_open("fs_a", O_RDWR, 0600);
	check(fd >= 0, "open O_RDWR attaches VM 1");
	if (fd < 0)
		return failures;
	/* Refused before attaching: not EBUSY while VM 1 holds it. */
	CHECK_ERR(shm_open("fs_a", O_RDWR | O_TRUNC, 0600), EINVAL,
		  "open O_TRUNC while VM 1 is attached: EINVAL, not an attach attempt (EBUSY)");
	CHECK_ERR(shm_open("fs_a", O_RDWR, 0600), EBUSY, "a second open by the same VM");
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		CHECK_ERR(open(path, O_RDWR), EBUSY, "reopen through /proc/self/fd");
	}
	check(ftruncate(fd, 4 * MB) == 0, "ftruncate to the region's size");
	CHECK_ERR(ftruncate(fd, 2 * MB), EINVAL, "ftruncate smaller");
	CHECK_ERR(ftruncate(fd, 8 * MB), EINVAL, "ftruncate larger");
	CHECK_ERR(ftruncate(fd, 0), EINVAL, "ftruncate to 0");
	CHECK_ERR(truncate(SHM "/fs_a", 1), EINVAL, "truncate by path");
	CHECK_ERR(fallocate(fd, 0, 0, 4096), EOPNOTSUPP, "fallocate");
	CHECK_ERR(fchmod(fd, 0666), EPERM, "fchmod");
	CHECK_ERR(fchown(fd, 1, 1), EPERM, "fchown");
	check(utimensat(AT_FDCWD, SHM "/fs_a", NULL, 0) == 0, "utimes is allowed");
	CHECK_ERR(read(fd, &c, 1), EINVAL, "read() (mmap only)");
	CHECK_ERR(write(fd, &c, 1), EINVAL, "write()");
	check(fsync(fd) == 0, "fsync (nothing to write back)");

	/* Mappings. */
	CHECK_ERR(mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0),
		  EINVAL, "mmap MAP_PRIVATE");
	CHECK_ERR(mmap(NULL, 2 * MB, PROT_READ, MAP_SHARED, fd, 4096), EINVAL,
		  "mmap at an offset inside a 2 MiB folio");
	CHECK_ERR(mmap(NULL, 4 * MB, PROT_READ, MAP_SHARED, fd, 2 * MB), EINVAL,
		  "mmap past the region's end");
	m = mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(m != MAP_FAILED, "mmap the whole region");
	if (m != MAP_FAILED) {
		CHECK_ERR(munmap(m + 4096, 4096), EINVAL, "munmap of 4 KiB inside a folio");
		CHECK_ERR(mprotect(m + 2 * MB + 4096, 4096, PROT_READ), EINVAL,
			  "mprotect of 4 KiB inside a folio");
		check(msync(m, 4 * MB, MS_SYNC) == 0, "msync MS_SYNC");
		check(munmap(m + 2 * MB, 2 * MB) == 0, "munmap of the second 2 MiB");
		munmap(m, 2 * MB);
	}
	close(fd);
	fd2 = shm_open("fs_a", O_RDWR, 0600);
	check(fd2 >= 0, "after munmap and close, VM 1 opens again");
	if (fd2 >= 0)
		close(fd2);

	test_fork();
	test_removed_while_open();
	test_umount_busy();
	test_mount_options();
	close(ctl);
	return failures;
}

/* Its own run: its N refusals use up the open's ratelimited log. */
static int cmd_trunc(int n)
{
	ctl = open("/dev/ivshmem_host", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die("/dev/ivshmem_host");
	test_trunc_race(n);
	close(ctl);
	return failures;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 5 && !strcmp(argv[1], "dm"))
		return cmd_dm(argc, argv);
	if (argc == 2 && !strcmp(argv[1], "hostile"))
		return cmd_hostile();
	if ((argc == 2 || (argc == 3 && atoi(argv[2]) > 0)) &&
	    !strcmp(argv[1], "trunc"))
		return cmd_trunc(argc == 3 ? atoi(argv[2]) : 500);
	fprintf(stderr, "usage: %s dm NAME SIZE_MB EXPECT [ME OTHER SYNCDIR] | hostile | trunc [N]\n",
		argv[0]);
	return 2;
}
