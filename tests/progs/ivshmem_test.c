// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem_test - guest-side end-to-end checks of /dev/ivshmemN.
 *
 * Runs inside the QEMU test guests. Subcommands move data (so the host
 * can check it against the backing file) or run a group of checks, each
 * printed as "ok - <what>" or "not ok - <what>: <why>". The exit status is
 * the number of failed checks (capped at 125).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <linux/ivshmem.h>

#include "check.h"
#include "dev_util.h"
#include "../ptwalk/ivshmem_ptwalk.h"

/* An unmapped user address, hidden from the compiler's bounds checks. */
static volatile uintptr_t bad_addr = 16;

static struct ivshmem_info get_info(int fd)
{
	struct ivshmem_info info;

	if (ioctl(fd, IVSHMEM_IOCTL_INFO, &info))
		die("IVSHMEM_IOCTL_INFO");
	return info;
}

/*
 * The entry that maps @addr in this process, from the test-only walker
 * tests/ptwalk (/dev/ivshmem_ptwalk, loaded by the scripts on every
 * flavour). Returns 0, or dies: a walk that cannot run fails.
 */
static void ptwalk(const volatile void *addr, struct ivshmem_ptwalk *w)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/dev/ivshmem_ptwalk", O_RDWR);
	if (fd < 0)
		die("open /dev/ivshmem_ptwalk (tests/ptwalk loaded?)");
	memset(w, 0, sizeof(*w));
	w->addr = (uintptr_t)addr;
	if (ioctl(fd, IVSHMEM_PTWALK_IOCTL, w))
		die("IVSHMEM_PTWALK_IOCTL");
}

/*
 * The name pat_memtype_list gives a PAT memory type (x86), the name
 * arm64's PTDUMP gives a MAIR attribute (arm64).
 */
static const char *ptwalk_type_name(unsigned int type)
{
	static const char * const names[] = {
		[IVSHMEM_PTWALK_WB] = "write-back",
		[IVSHMEM_PTWALK_WC] = "write-combining",
		[IVSHMEM_PTWALK_UC_MINUS] = "uncached-minus",
		[IVSHMEM_PTWALK_UC] = "uncached",
		[IVSHMEM_PTWALK_WT] = "write-through",
		[IVSHMEM_PTWALK_WP] = "write-protected",
		[IVSHMEM_PTWALK_NORMAL] = "MEM/NORMAL",
		[IVSHMEM_PTWALK_NORMAL_TAGGED] = "MEM/NORMAL-TAGGED",
		[IVSHMEM_PTWALK_NORMAL_NC] = "MEM/NORMAL-NC",
		[IVSHMEM_PTWALK_DEVICE_NGNRE] = "DEVICE/nGnRE",
		[IVSHMEM_PTWALK_DEVICE_NGNRNE] = "DEVICE/nGnRnE",
	};

	return type < sizeof(names) / sizeof(names[0]) && names[type] ?
	       names[type] : "unknown";
}

/*
 * The driver's arch-neutral name (sysfs memtype) of a PAT memory type:
 * PAT's own name, except that uncached-minus and uncached are both
 * "uncached".
 */
static const char *pat_neutral(const char *pat)
{
	return strncmp(pat, "uncached", 8) ? pat : "uncached";
}

/*
 * Walk [lo, hi) page by page (2 MiB at a time over 2 MiB entries): how
 * many present user entries of each size map it, and the first entry
 * whose memory type is not @type (NULL: any) in @bad.
 */
static void ptwalk_count(uintptr_t lo, uintptr_t hi, const char *type,
			 int *pmd, int *pte, char *bad, size_t badlen)
{
	const uintptr_t huge = 2 << 20, pg = getpagesize();
	struct ivshmem_ptwalk w;
	uintptr_t a = lo;

	*pmd = *pte = 0;
	bad[0] = 0;
	while (a < hi) {
		int ok;

		ptwalk((void *)a, &w);
		ok = (w.flags & (IVSHMEM_PTWALK_PRESENT | IVSHMEM_PTWALK_USER)) ==
		     (IVSHMEM_PTWALK_PRESENT | IVSHMEM_PTWALK_USER) &&
		     (!type || !strcmp(ptwalk_type_name(w.type), type));
		if (!ok && !bad[0])
			snprintf(bad, badlen,
				 "0x%lx: level %u flags 0x%x cache bits 0x%x (%s)",
				 (unsigned long)a, w.level, w.flags,
				 w.cache_bits, ptwalk_type_name(w.type));
		if (w.level == IVSHMEM_PTWALK_2M && (a & (huge - 1)) == 0 &&
		    a + huge <= hi) {
			++*pmd;
			a += huge;
			continue;
		}
		if (w.level == IVSHMEM_PTWALK_4K)
			++*pte;
		else if (!bad[0])
			snprintf(bad, badlen, "0x%lx: level %u", (unsigned long)a,
				 w.level);
		a += pg;
	}
}

/* The running kernel is @major.@minor or later. */
static int kernel_ge(int major, int minor)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		die("uname");
	return a > major || (a == major && b >= minor);
}

/* FNV-1a of @len bytes at @p, read through the mapping. */
static uint64_t fnv(const volatile char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
	return h;
}

/* info DEV: print the info ioctl as key=value lines for the scripts. */
static int cmd_info(const char *dev)
{
	int fd = open_dev(dev, O_RDONLY);
	struct ivshmem_info i = get_info(fd);

	int reserved = i.reserved0 != 0;
	unsigned int k;

	for (k = 0; k < sizeof(i.reserved) / sizeof(i.reserved[0]); k++)
		reserved |= i.reserved[k] != 0;

	printf("flags=0x%x\nsize=%llu\npeer_id=%u\nvectors=%u\n"
	       "region_id=%u\nreserved=%d\n", i.flags,
	       (unsigned long long)i.size, i.peer_id, i.vectors, i.region_id,
	       reserved);
	close(fd);
	return 0;
}

/* mmap-cat DEV: write the whole shared memory, read through mmap, out. */
static int cmd_mmap_cat(const char *dev)
{
	int fd = open_dev(dev, O_RDONLY);
	size_t size = get_info(fd).size, done = 0;
	char *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	while (done < size) {
		ssize_t n = write(1, p + done, size - done);

		if (n <= 0)
			die("write");
		done += n;
	}
	return 0;
}

/* mmap-write DEV OFFSET: copy stdin into the mapping at OFFSET. */
static int cmd_mmap_write(const char *dev, const char *offs)
{
	int fd = open_dev(dev, O_RDWR);
	size_t size = get_info(fd).size;
	size_t off = strtoull(offs, NULL, 0);
	char *p = map_dev(fd, size, 0);
	ssize_t n;

	while (off < size && (n = read(0, p + off, size - off)) > 0)
		off += n;
	if (munmap(p, size))
		die("munmap");
	return 0;
}

/* Bad input: each call fails with its errno and leaves the device working. */
static int cmd_badinput(const char *dev)
{
	int fd = open_dev(dev, O_RDWR);
	struct ivshmem_info info = get_info(fd);
	size_t size = info.size, pg = getpagesize();
	char buf[64], *p;

	CHECK_ERR(mmap(NULL, size + pg, PROT_READ, MAP_SHARED, fd, 0) ==
		  MAP_FAILED ? -1 : 0, EINVAL, "mmap one page past the end");
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, size) ==
		  MAP_FAILED ? -1 : 0, EINVAL, "mmap at offset == size");
	CHECK_ERR(mmap(NULL, pg, PROT_READ, MAP_SHARED, fd,
		       (off_t)1 << 62) == MAP_FAILED ? -1 : 0, EINVAL,
		  "mmap at a huge offset");
	CHECK_ERR(mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) ==
		  MAP_FAILED ? -1 : 0, EINVAL, "mmap MAP_PRIVATE");
	/*
	 * No "unaligned offset" case: x86's mmap syscall refuses an offset
	 * that is not page aligned before any driver sees it (the driver
	 * only ever gets a page offset).
	 */
	CHECK_ERR(ioctl(fd, _IO(IVSHMEM_IOCTL_MAGIC, 0x0f)), ENOTTY,
		  "unknown ioctl number");
	CHECK_ERR(ioctl(fd, _IO('T', 0x01)), ENOTTY, "foreign ioctl");
	CHECK_ERR(ioctl(fd, IVSHMEM_IOCTL_INFO, (void *)bad_addr), EFAULT,
		  "info ioctl with a bad pointer");
	CHECK_ERR(ioctl(fd, IVSHMEM_IOCTL_INFO, (void *)-4096L), EFAULT,
		  "info ioctl with a kernel pointer");
	CHECK_ERR(pread(fd, (void *)bad_addr, 64, 0), EFAULT,
		  "read into a bad pointer");
	{
		char before[64], after[64];

		check(pread(fd, before, 64, 0) == 64, "read 64 bytes");
		CHECK_ERR(pwrite(fd, (void *)bad_addr, 64, 0), EFAULT,
			  "write from a bad pointer");
		check(pread(fd, after, 64, 0) == 64 &&
		      !memcmp(before, after, 64),
		      "a failed write leaves the memory unchanged");
	}
	CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL, "lseek to -1");
	CHECK_ERR(pwrite(fd, buf, sizeof(buf), size), ENOSPC,
		  "write at the end");
	check(pread(fd, buf, sizeof(buf), size) == 0, "read at the end is EOF");
	check(pread(fd, buf, sizeof(buf), size - 10) == 10,
	      "read across the end is cut short");
	check(pwrite(fd, "0123456789abcdef", 16, size - 8) == 8,
	      "write across the end is cut short");
	check(lseek(fd, 0, SEEK_END) == (off_t)size, "SEEK_END gives the size");
	CHECK_ERR(lseek(fd, 1, SEEK_END), EINVAL, "lseek past the end");

	/* After all that the device still works. */
	memset(buf, 0x5a, sizeof(buf));
	check(pwrite(fd, buf, sizeof(buf), 4096) == sizeof(buf),
	      "write still works");
	p = mmap(NULL, pg * 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(p != MAP_FAILED, "mmap still works");
	if (p != MAP_FAILED) {
		check(!memcmp(p + 4096, buf, sizeof(buf)),
		      "mmap sees what write() wrote");
		p[4096] = 0x33;
		check(pread(fd, buf, 1, 4096) == 1 && buf[0] == 0x33,
		      "read() sees what mmap wrote");
		munmap(p, pg * 2);
	}
	check(get_info(fd).size == size, "info still works");
	/* Read-only opens may map shared read-only, not writable. */
	close(fd);
	fd = open_dev(dev, O_RDONLY);
	p = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	check(p != MAP_FAILED, "read-only shared mapping of a read-only open");
	if (p != MAP_FAILED)
		munmap(p, pg);
	CHECK_ERR(mmap(NULL, pg, PROT_WRITE, MAP_SHARED, fd, 0) ==
		  MAP_FAILED ? -1 : 0, EACCES,
		  "writable mapping of a read-only open");
	close(fd);
	return failures;
}

static const char *signame(int sig)
{
	return sig ? strsignal(sig) : "no signal";
}

/* This process's minor page faults so far. */
static long minflt(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage");
	return ru.ru_minflt;
}

/* A "Name:   N kB" line of /proc/self/status, in kB, or -1. */
static long status_kb(const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	size_t n = strlen(name);

	if (!f)
		die("/proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kb;
}

/*
 * Try to take page references on [p, p + len) through vmsplice(): the
 * driver's mappings have no struct pages, so GUP must refuse with EFAULT.
 * If it took them anyway the pipe holds them: @pipefd is left for the
 * caller to read after removal (the issue 8 sequence).
 */
static int try_vmsplice(int pipefd[2], void *p, size_t len)
{
	struct iovec iov = { .iov_base = p, .iov_len = len };

	if (pipe(pipefd))
		die("pipe");
	return vmsplice(pipefd[1], &iov, 1, SPLICE_F_NONBLOCK) < 0 ? -1 : 0;
}

/* io_uring fixed-buffer registration (a long-term pin), raw syscalls. */
static int try_io_uring_register(void *p, size_t len, int *err)
{
	struct io_uring_params params;
	struct iovec iov = { .iov_base = p, .iov_len = len };
	int ring, ret;

	memset(&params, 0, sizeof(params));
	ring = syscall(__NR_io_uring_setup, 2, &params);
	if (ring < 0)
		return -2;
	ret = syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS,
		      &iov, 1);
	*err = errno;
	close(ring);
	return ret;
}

/*
 * Ask the harness for a hot-unplug of DEV ("IVT-UNPLUG-NOW", QMP
 * device_del) and wait up to 120 s for it. The PCI device's sysfs
 * directory goes only after the driver's remove() returned (the /dev node
 * goes earlier, while remove() still revokes the mappings). Returns 0 once
 * it is gone.
 */
static int hot_unplug(const char *dev)
{
	char link[256], *pci;
	int i;

	snprintf(link, sizeof(link), "/sys/class/ivshmem/%s/device",
		 strrchr(dev, '/') + 1);
	pci = realpath(link, NULL);
	if (!pci)
		die(link);
	printf("IVT-UNPLUG-NOW\n");
	fflush(stdout);
	for (i = 0; i < 1200 && !access(pci, F_OK); i++)
		usleep(100000);
	free(pci);
	return i < 1200 ? 0 : -1;
}

/*
 * unbind DEV PCI-ADDRESS: unbind the driver while this process has the
 * device mapped, a child process sits in a read() loop on it and another
 * child shares the mapping (fork).
 * remove DEV PCI-ADDRESS: the same with the PCI device removed through
 * sysfs.
 * unplug DEV: the same, but the device is hot-unplugged from outside
 * (the harness is told by a line "IVT-UNPLUG-NOW").
 * Before the removal, the sequence of issue 8: try to take a page
 * reference with vmsplice() (refused), munmap, close; after it, read the
 * pipe: nothing freed may be reachable from it.
 */
static int cmd_unbind(const char *dev, const char *bdf, int remove)
{
	int fd = open_dev(dev, O_RDWR), status, pipefd[2], vsp[2], go[2];
	int ready[2];
	size_t size = get_info(fd).size;
	volatile char *p = map_dev(fd, size, 0);
	struct ivshmem_info info;
	pid_t child, sharer;
	int refs, after, ret, sig, mem;
	char c, page[4096];

	{
		int fd2 = open_dev(dev, O_RDWR);
		void *p2 = map_dev(fd2, 4096, 0);

		errno = 0;
		ret = try_vmsplice(vsp, p2, 4096);
		sig = errno;
		check(ret < 0 && sig == EFAULT,
		      "vmsplice a page of a mapping into a pipe: EFAULT (%d, %s)",
		      ret, strerror(sig));
		ret = try_io_uring_register(p2, 4096, &sig);
		if (ret == -2)
			skip("io_uring buffer registration before removal",
			     "no io_uring");
		else
			check(ret < 0 && sig == EFAULT,
			      "io_uring buffer registration of it: EFAULT (%s)",
			      strerror(sig));
		check(munmap(p2, 4096) == 0 && close(fd2) == 0,
		      "munmap and close the vmspliced mapping before removal");
	}
	p[0] = 'A';
	p[size - 1] = 'Z';
	if (pipe(pipefd))
		die("pipe");
	child = fork();
	if (child == 0) {
		/* Reader: loop over the whole device until it goes away. */
		static char buf[1 << 20];
		int rfd = open_dev(dev, O_RDONLY);
		unsigned long loops = 0;

		for (;;) {
			ssize_t n = pread(rfd, buf, sizeof(buf),
					  (loops * sizeof(buf)) % size);
			if (n < 0)
				_exit(errno == ENODEV ? (loops ? 0 : 3) : 1);
			if (++loops == 1 && write(pipefd[1], "r", 1) != 1)
				_exit(2);
		}
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1)
		die("reader did not start");
	if (pipe(go))
		die("pipe");
	if (pipe(ready))
		die("pipe");
	sharer = fork();
	if (sharer == 0) {
		/* Shares the mapping; after removal it must be revoked too. */
		if (p[0] != 'A' || p[size - 1] != 'Z')
			_exit(1);
		/* Seen the data before the removal begins, not after. */
		if (write(ready[1], "s", 1) != 1)
			_exit(4);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(touch(p) == SIGBUS ? 0 : 3);
	}
	close(go[0]);
	close(ready[1]);
	/* A sharer that died early must fail a check, not SIGPIPE us. */
	signal(SIGPIPE, SIG_IGN);
	if (read(ready[0], &c, 1) != 1)
		die("the sharer did not see the data");
	close(ready[0]);

	if (bdf && remove) {
		char path[128];

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove",
			 bdf);
		check(!write_file(path, "1"),
		      "sysfs remove %s while mapped and read", bdf);
	} else if (bdf) {
		check(!write_file("/sys/bus/pci/drivers/ivshmem/unbind", bdf),
		      "unbind %s while mapped and read", bdf);
	} else {
		check(!hot_unplug(dev), "%s hot-unplugged while mapped and read",
		      dev);
	}
	check(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0,
	      "reader saw ENODEV and stopped (status 0x%x)", status);
	sig = touch(p);
	check(sig == SIGBUS, "access to a revoked mapping raises SIGBUS (%s)",
	      sig ? strsignal(sig) : "no signal");
	sig = touch(p + size - 1);
	check(sig == SIGBUS, "... at the last byte too (%s)",
	      sig ? strsignal(sig) : "no signal");
	check(write(go[1], "g", 1) == 1 && waitpid(sharer, &status, 0) == sharer &&
	      WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "a forked child sharing the mapping saw the data, then SIGBUS after removal (status 0x%x)",
	      status);
	close(go[1]);
	fcntl(vsp[0], F_SETFL, O_NONBLOCK);
	errno = 0;
	ret = read(vsp[0], page, sizeof(page));
	sig = errno;
	check(ret < 0 && sig == EAGAIN,
	      "reading the pipe after removal: empty, a clean EAGAIN (%d, %s)",
	      ret, strerror(sig));
	close(vsp[0]);
	close(vsp[1]);
	mem = open("/proc/self/mem", O_RDONLY);
	errno = 0;
	ret = mem >= 0 ? pread(mem, page, 16, (off_t)(uintptr_t)p) : 0;
	sig = errno;
	check(ret < 0 && sig == EIO,
	      "/proc/self/mem read of the revoked mapping fails with EIO (%d, %s)",
	      ret, strerror(sig));
	close(mem);
	CHECK_ERR(pread(fd, &c, 1, 0), ENODEV, "read after removal");
	CHECK_ERR(pwrite(fd, &c, 1, 0), ENODEV, "write after removal");
	CHECK_ERR(ioctl(fd, IVSHMEM_IOCTL_INFO, &info), ENODEV,
		  "ioctl after removal");
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) ==
		  MAP_FAILED ? -1 : 0, ENODEV, "mmap after removal");
	CHECK_ERR(lseek(fd, 0, SEEK_SET), ENODEV, "lseek after removal");
	check(access(dev, F_OK) != 0, "%s is gone", dev);
	refs = module_refcnt();
	check(munmap((void *)p, size) == 0 && !mapped_in_self(p),
	      "munmap after removal: the mapping is gone from /proc/self/maps");
	ret = close(fd);
	after = module_refcnt();
	/* An open char device file pins the module twice (cdev and fops). */
	check(ret == 0 && refs > 0 && after >= 0 && after < refs,
	      "close after removal drops the file's module references (%d -> %d)",
	      refs, after);
	return failures;
}

/*
 * hold DEV SECONDS: keep the device open and mapped (for rmmod tests),
 * print "held" once ready.
 * hold-dmabuf DEV SECONDS: keep only a dma-buf of the first page, with
 * the device's file closed and nothing mapped.
 */
static int cmd_hold(const char *dev, const char *secs, int dmabuf)
{
	int fd = open_dev(dev, O_RDWR);
	volatile char *p;

	if (dmabuf) {
		struct ivshmem_dmabuf req = { .offset = 0, .size = 4096 };

		if (ioctl(fd, IVSHMEM_IOCTL_DMABUF, &req))
			die("IVSHMEM_IOCTL_DMABUF");
		close(fd);
	} else {
		p = map_dev(fd, 4096, 0);
		p[0] = 1;
	}
	printf("held\n");
	fflush(stdout);
	sleep(atoi(secs));
	return 0;
}

/* The first line of @path without its newline, or "" when unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
}

#ifdef __aarch64__
/*
 * arm64: the MAIR attribute (PTDUMP's name) the driver's memory type
 * @type (sysfs memtype) must give every view of BAR2: write-back is
 * Normal write-back (memremap(), or the VMA's own protection),
 * write-combining Normal non-cacheable (ioremap_wc(),
 * pgprot_writecombine()), uncached Device-nGnRE (ioremap(),
 * pgprot_device()). NULL for a type the test does not know.
 */
static const char *arm64_attr(const char *type)
{
	if (!strcmp(type, "write-back"))
		return "MEM/NORMAL";
	if (!strcmp(type, "write-combining"))
		return "MEM/NORMAL-NC";
	if (!strcmp(type, "uncached"))
		return "DEVICE/nGnRE";
	return NULL;
}

/*
 * The memory type token (MEM/... or DEVICE/...) of an arm64 PTDUMP line
 * into @attr, empty if it has none (a hole).
 */
static void ptdump_attr(const char *line, char *attr, size_t len)
{
	const char *t = strstr(line, " MEM/");

	if (!t)
		t = strstr(line, " DEVICE/");
	attr[0] = 0;
	if (t)
		snprintf(attr, len, "%.*s", (int)strcspn(t + 1, " \n"), t + 1);
}

/*
 * arm64: the kernel's view of BAR2 from the kernel's own dump. Its
 * virtual range is the ioremap area /proc/vmallocinfo lists with BAR2's
 * physical address @bar (memremap() of memory that is not RAM and
 * ioremap_wc()/ioremap() all map there); every entry PTDUMP
 * (/sys/kernel/debug/kernel_page_tables, the debug kernel) shows over
 * its @size bytes must carry @want, the attribute the walker found in
 * the user's entries. Without PTDUMP (Debian's kernels) a skip.
 */
static void arm64_kernel_view(unsigned long long bar, size_t size,
			      const char *want)
{
	char line[512], bad[512] = "", attr[64], saved[16] = "";
	unsigned long lo = 0, hi = 0;
	int areas = 0, found = 0, restore = 0;
	FILE *f, *kptr;

	f = fopen("/sys/kernel/debug/kernel_page_tables", "r");
	if (!f) {
		skip("PTDUMP: the kernel's view of BAR2: no /sys/kernel/debug/kernel_page_tables (no PTDUMP_DEBUGFS)");
		return;
	}
	fclose(f);
	/*
	 * vmallocinfo prints its addresses with %pK: hashed unless
	 * kptr_restrict is 1 (and the reader has CAP_SYSLOG).
	 */
	kptr = fopen("/proc/sys/kernel/kptr_restrict", "r+");
	if (kptr) {
		if (fgets(saved, sizeof(saved), kptr))
			restore = 1;
		rewind(kptr);
		fputs("1\n", kptr);
		fflush(kptr);
	}
	f = fopen("/proc/vmallocinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		const char *ph = strstr(line, " phys=");

		if (sscanf(line, "0x%lx-0x%lx", &a, &b) == 2 && ph &&
		    strtoull(ph + 6, NULL, 16) == bar && strstr(line, "ioremap")) {
			areas++;
			lo = a;
			hi = a + size;
		}
	}
	if (f)
		fclose(f);
	if (kptr) {
		if (restore) {
			rewind(kptr);
			fputs(saved, kptr);
		}
		fclose(kptr);
	}
	check(areas == 1 && hi - lo == size,
	      "vmallocinfo: one ioremap area maps BAR2 at 0x%llx for the kernel (%d)",
	      bar, areas);
	if (areas != 1)
		return;
	f = fopen("/sys/kernel/debug/kernel_page_tables", "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		if (sscanf(line, "0x%lx-0x%lx", &a, &b) != 2 || b <= lo || a >= hi)
			continue;
		line[strcspn(line, "\n")] = 0;
		ptdump_attr(line, attr, sizeof(attr));
		found++;
		if (strcmp(attr, want) && !bad[0])
			snprintf(bad, sizeof(bad), "%s", line);
	}
	if (f)
		fclose(f);
	check(found > 0 && !bad[0],
	      "PTDUMP: the kernel's view of BAR2 (0x%lx-0x%lx) is %s like the user's entries: %d range(s), first wrong one: %s",
	      lo, hi, want, found, bad[0] ? bad : "none");
}
#endif

/*
 * memtype DEV: one memory type for every view of BAR2. The type the
 * driver reports in sysfs (write-back, write-combining or uncached) must
 * be the one x86 PAT recorded for BAR2
 * (/sys/kernel/debug/x86/pat_memtype_list; uncached-minus and uncached
 * are both "uncached"), IVSHMEM_INFO_MAP_WB must be set exactly when it
 * is write-back, and the cache bits of every entry of this process's page
 * tables for a fresh mapping must encode PAT's type exactly:
 * write-back none of PWT, PCD, PAT; write-combining PWT; uncached-minus
 * PCD; uncached PCD and PWT (Linux's PAT table). The entries are read by
 * the test-only walker tests/ptwalk on every kernel, and on kernels with
 * PTDUMP (/sys/kernel/debug/page_tables/current_user or current_kernel)
 * from its dump too, which the walker's first entry must agree with.
 *
 * On arm64 (no PAT) the user entries must carry the MAIR attribute of
 * the sysfs type (arm64_attr()), read by the walker from their AttrIndx
 * and MAIR_EL1, and the kernel's view the same one, read from PTDUMP
 * where the kernel has it (arm64_kernel_view()).
 */
static int cmd_memtype(const char *dev)
{
	int fd = open_dev(dev, O_RDWR);
	struct ivshmem_info info = get_info(fd);
	volatile char *p = map_dev(fd, info.size, 0);
	unsigned long start = (unsigned long)p, end = start + info.size;
	char line[512], bad[512] = "", path[256], type[64], res[256];
	char pat[64] = "";
	int found = 0, pwt, pcd;
	unsigned long long bar = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/ivshmem/%s/memtype",
		 strrchr(dev, '/') + 1);
	read_line(path, type, sizeof(type));
	check(type[0], "sysfs memtype is readable (%s)", type);
	check(!!(info.flags & IVSHMEM_INFO_MAP_WB) == !strcmp(type, "write-back"),
	      "IVSHMEM_INFO_MAP_WB (%s) exactly when the memory type is write-back (%s)",
	      info.flags & IVSHMEM_INFO_MAP_WB ? "set" : "clear", type);

	/* The type PAT recorded for BAR2. */
	snprintf(path, sizeof(path), "/sys/class/ivshmem/%s/device/resource",
		 strrchr(dev, '/') + 1);
	f = fopen(path, "r");
	if (f) {
		/* Third line: BAR2. */
		if (fgets(res, sizeof(res), f) && fgets(res, sizeof(res), f) &&
		    fgets(res, sizeof(res), f))
			bar = strtoull(res, NULL, 16);
		fclose(f);
	}
#ifdef __aarch64__
	{
		const char *want = arm64_attr(type);
		int pmd, pte;

		check(want != NULL, "memory type '%s' is one the test knows", type);
		if (!want)
			return failures;
		for (size_t i = 0; i < info.size; i += getpagesize())
			(void)p[i];
		ptwalk_count(start, end, want, &pmd, &pte, bad, sizeof(bad));
		check(pmd + pte > 0 && !bad[0],
		      "ptwalk: every user entry of the mapping is present and %s, as sysfs '%s' says (%d of 2 MiB, %d of 4 KiB; first wrong: %s)",
		      want, type, pmd, pte, bad[0] ? bad : "none");
		arm64_kernel_view(bar, info.size, want);
		munmap((void *)p, info.size);
		close(fd);
		return failures;
	}
#endif
	f = fopen("/sys/kernel/debug/x86/pat_memtype_list", "r");
	if (!f) {
		skip("PAT memory type of BAR2: no pat_memtype_list (PAT is off)");
	} else {
		char want[64] = "";

		while (fgets(line, sizeof(line), f)) {
			unsigned long long lo, hi;
			char t[64];

			if (sscanf(line, "PAT: [mem 0x%llx-0x%llx] %63s", &lo,
				   &hi, t) == 3 && lo <= bar && bar < hi)
				snprintf(want, sizeof(want), "%s", t);
		}
		fclose(f);
		check(bar && !strcmp(pat_neutral(want), type),
		      "PAT recorded '%s' for BAR2 at 0x%llx, the driver says '%s'",
		      want, bar, type);
		snprintf(pat, sizeof(pat), "%s", want);
	}
	/* Without PAT's list, the PTE bits the driver's type gets from PAT. */
	if (!pat[0])
		snprintf(pat, sizeof(pat), "%s",
			 strcmp(type, "uncached") ? type : "uncached-minus");

	/* Fault the whole mapping in (reads only), then walk it. */
	for (size_t i = 0; i < info.size; i += getpagesize())
		(void)p[i];
	{
		int pmd, pte;

		ptwalk_count(start, end, pat, &pmd, &pte, bad, sizeof(bad));
		check(pmd + pte > 0 && !bad[0],
		      "ptwalk: every user entry of the mapping is present and %s like the kernel's view (%d of 2 MiB, %d of 4 KiB; first wrong: %s)",
		      pat, pmd, pte, bad[0] ? bad : "none");
		bad[0] = 0;
	}
	if (!strcmp(pat, "write-back")) {
		pwt = 0, pcd = 0;
	} else if (!strcmp(pat, "write-combining")) {
		pwt = 1, pcd = 0;
	} else if (!strcmp(pat, "uncached-minus")) {
		pwt = 0, pcd = 1;
	} else if (!strcmp(pat, "uncached")) {
		pwt = 1, pcd = 1;
	} else {
		check(0, "memory type '%s' is one the test knows", pat);
		return failures;
	}
	/*
	 * PTDUMP, where the kernel has it (the debug kernels): the same
	 * check from the kernel's own dump, and the walker's first entry
	 * against it. Without it the walker's check above stands alone.
	 * current_user exists with page table isolation only.
	 */
	f = fopen("/sys/kernel/debug/page_tables/current_user", "r");
	if (!f)
		f = fopen("/sys/kernel/debug/page_tables/current_kernel", "r");
	if (!f)
		goto out;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		/* Present user entries only, 4 KiB or 2 MiB. */
		if (sscanf(line, "0x%lx-0x%lx", &lo, &hi) != 2 ||
		    hi <= start || lo >= end || !strstr(line, "USR") ||
		    (!strstr(line, "pte") && !strstr(line, "pmd")))
			continue;
		line[strcspn(line, "\n")] = 0;
		if (!found++ && lo <= start) {
			struct ivshmem_ptwalk w;
			unsigned int bits = (strstr(line, "PWT") ? 1 : 0) |
					    (strstr(line, "PCD") ? 2 : 0) |
					    (strstr(line, " PAT") ? 4 : 0);
			unsigned int level = strstr(line, "pmd") ?
					     IVSHMEM_PTWALK_2M : IVSHMEM_PTWALK_4K;

			ptwalk(p, &w);
			check(w.cache_bits == bits && w.level == level,
			      "ptwalk agrees with PTDUMP on the first entry (cache bits 0x%x level %u; PTDUMP: %s)",
			      w.cache_bits, w.level, line);
		}
		if ((!!strstr(line, "PWT") != pwt || !!strstr(line, "PCD") != pcd ||
		     strstr(line, " PAT")) && !bad[0])
			snprintf(bad, sizeof(bad), "%s", line);
	}
	fclose(f);
	check(found > 0 && !bad[0],
	      "PTDUMP: user PTEs are %s like the kernel's view: %d page table range(s), first wrong one: %s",
	      pat, found, bad[0] ? bad : "none");
out:
	munmap((void *)p, info.size);
	close(fd);
	return failures;
}

/*
 * A block device of the guest that takes O_DIRECT reads (a real GUP path
 * into the user buffer), or -1 when the guest has none.
 */
static int open_direct_blockdev(char *name, size_t len)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	int fd = -1;

	while (d && (e = readdir(d)) && fd < 0) {
		char path[300];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		fd = open(path, O_RDWR | O_DIRECT);
		if (fd >= 0)
			snprintf(name, len, "%s", path);
	}
	if (d)
		closedir(d);
	return fd;
}

/*
 * memmodel DEV: what the PFN memory model promises userspace. Nothing can
 * take a page reference through a mapping (vmsplice, io_uring fixed
 * buffers, process_vm_readv, O_DIRECT get EFAULT); touching the mapping
 * adds nothing to VmRSS or RssFile; /proc/self/mem (ptrace, gdb) reads
 * and writes through it; a forked child shares it; msync succeeds.
 * Writes only bytes 4200..4401 of the device.
 */
static int cmd_memmodel(const char *dev)
{
	int fd = open_dev(dev, O_RDWR), pipefd[2], err = 0, ret, mem, bfd;
	size_t size = get_info(fd).size, pg = getpagesize(), i;
	char *p = map_dev(fd, size, 0), buf[64], name[300];
	long rss0, file0, rss1, file1;
	struct iovec local, remote;
	pid_t child;
	int status;

	/* GUP refusals. */
	errno = 0;
	ret = try_vmsplice(pipefd, p, pg);
	err = errno;
	check(ret < 0 && err == EFAULT,
	      "vmsplice from the mapping fails with EFAULT (%d, %s)", ret,
	      strerror(err));
	close(pipefd[0]);
	close(pipefd[1]);
	ret = try_io_uring_register(p, pg, &err);
	if (ret == -2)
		skip("io_uring buffer registration: io_uring_setup: %s",
		     strerror(errno));
	else
		check(ret < 0 && err == EFAULT,
		      "io_uring buffer registration of the mapping fails with EFAULT (%s)",
		      strerror(err));
	local = (struct iovec){ .iov_base = buf, .iov_len = sizeof(buf) };
	remote = (struct iovec){ .iov_base = p, .iov_len = sizeof(buf) };
	errno = 0;
	ret = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	err = errno;
	/* Every kernel of the matrix has CROSS_MEMORY_ATTACH: ENOSYS fails. */
	check(ret < 0 && err == EFAULT,
	      "process_vm_readv of the mapping fails with EFAULT (%d, %s)",
	      ret, strerror(err));
	/* The scripts load brd on every kernel: no block device fails. */
	bfd = open_direct_blockdev(name, sizeof(name));
	if (bfd < 0) {
		check(0, "O_DIRECT into the mapping: a block device takes O_DIRECT (none found; brd loaded?)");
	} else {
		void *ram = NULL;

		/* The device does take O_DIRECT from ordinary memory... */
		errno = 0;
		ret = posix_memalign(&ram, pg, pg) ? -1 :
		      (int)pread(bfd, ram, pg, 0);
		check(ret == (int)pg,
		      "O_DIRECT read of %s into anonymous memory works (%d, %s)",
		      name, ret, ret == (int)pg ? "ok" : strerror(errno));
		free(ram);
		/* ...but not from or into the mapping. */
		errno = 0;
		ret = pread(bfd, p, pg, 0);
		err = errno;
		check(ret < 0 && err == EFAULT,
		      "O_DIRECT read of %s into the mapping fails with EFAULT (%d, %s)",
		      name, ret, strerror(err));
		errno = 0;
		ret = pwrite(bfd, p, pg, 0);
		err = errno;
		check(ret < 0 && err == EFAULT,
		      "O_DIRECT write of %s from the mapping fails with EFAULT (%d, %s)",
		      name, ret, strerror(err));
		close(bfd);
	}
	check(pread(fd, buf, 1, 0) == 1, "read() still works after the refusals");

	/* No RSS, no file-mapped accounting. */
	rss0 = status_kb("VmRSS");
	file0 = status_kb("RssFile");
	for (i = 0; i < size; i += pg)
		((volatile char *)p)[i] = ((volatile char *)p)[i];
	rss1 = status_kb("VmRSS");
	file1 = status_kb("RssFile");
	check(rss0 > 0 && rss1 - rss0 < (long)(size >> 10) / 8,
	      "VmRSS does not grow when all %zu KiB are touched (%ld -> %ld kB)",
	      size >> 10, rss0, rss1);
	check(file0 >= 0 && file1 - file0 < (long)(size >> 10) / 8,
	      "RssFile does not grow either (%ld -> %ld kB)", file0, file1);

	/* /proc/self/mem: the ptrace path, through vm_ops->access. */
	mem = open("/proc/self/mem", O_RDWR);
	if (mem < 0)
		die("/proc/self/mem");
	check(pwrite(fd, "mem-read-check", 14, 4200) == 14 &&
	      pread(mem, buf, 14, (off_t)(uintptr_t)(p + 4200)) == 14 &&
	      !memcmp(buf, "mem-read-check", 14),
	      "/proc/self/mem reads what write() put in the mapping");
	check(pwrite(mem, "mem-write-chk!", 14, (off_t)(uintptr_t)(p + 4300)) == 14 &&
	      pread(fd, buf, 14, 4300) == 14 && !memcmp(buf, "mem-write-chk!", 14),
	      "/proc/self/mem writes reach the shared memory (read() sees them)");
	check(pread(mem, buf, 32, (off_t)(uintptr_t)(p + size - 16)) == 16,
	      "/proc/self/mem read across the mapping's end is cut short");
	{
		int rfd = open_dev(dev, O_RDONLY);
		char *r = mmap(NULL, pg, PROT_READ, MAP_SHARED, rfd, 0);

		if (r == MAP_FAILED)
			die("mmap read-only");
		errno = 0;
		ret = pwrite(mem, "x", 1, (off_t)(uintptr_t)r);
		err = errno;
		check(ret < 0 && err == EIO,
		      "/proc/self/mem write to a read-only mapping fails with EIO (%d, %s)",
		      ret, strerror(err));
		munmap(r, pg);
		close(rfd);
	}
	close(mem);

	/* fork: the child shares the mapping both ways. */
	p[4400] = 'P';
	child = fork();
	if (child == 0)
		_exit(p[4400] == 'P' ? (p[4401] = 'C', 0) : 1);
	check(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0 && p[4401] == 'C',
	      "a forked child sees the parent's bytes and the parent the child's");
	check(msync(p, size, MS_SYNC) == 0 && msync(p, size, MS_ASYNC) == 0,
	      "msync (MS_SYNC, MS_ASYNC) succeeds");
	munmap(p, size);
	close(fd);
	return failures;
}

/* How many present user page-table entries of each size cover [lo, hi). */
static int ptdump_count(unsigned long lo, unsigned long hi, int *pmd, int *pte)
{
	FILE *f = fopen("/sys/kernel/debug/page_tables/current_user", "r");
	char line[512];

	if (!f)
		f = fopen("/sys/kernel/debug/page_tables/current_kernel", "r");
	if (!f)
		return -1;
	*pmd = *pte = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		if (sscanf(line, "0x%lx-0x%lx", &a, &b) != 2 || b <= lo ||
		    a >= hi || !strstr(line, "USR"))
			continue;
		a = a < lo ? lo : a;
		b = b > hi ? hi : b;
		if (strstr(line, "pmd") && strstr(line, "PSE"))
			*pmd += (b - a) >> 21;
		else if (strstr(line, "pte"))
			*pte += (b - a) >> 12;
	}
	fclose(f);
	return 0;
}

/*
 * huge DEV EXPECT: a fresh mapping of the whole device takes at most one
 * fault per 2 MiB; with EXPECT=1 the kernel must map it with 2 MiB
 * entries: the address is 2 MiB aligned, PTDUMP (where there is one)
 * shows PMD entries, and a partial munmap, which zaps the whole special
 * PMD, makes the next access in that 2 MiB fault again where 4 KiB
 * entries would have stayed. Then mprotect and fork on huge entries.
 * Writes only bytes 4500, 4501 and 4600..4603 of the device.
 */
static int cmd_huge(const char *dev, const char *expects)
{
	int expect = atoi(expects), fd = open_dev(dev, O_RDWR), pmd, pte, sig;
	size_t size = get_info(fd).size, pg = getpagesize(), i;
	const size_t huge = 2 << 20;
	volatile char *p;
	long f0, faults, chunks = size / huge;
	pid_t child;
	int status;

	if (size < 4 * huge) {
		skip("huge mappings: the device is smaller than 8 MiB");
		close(fd);
		return 0;
	}
	p = map_dev(fd, size, 0);
	if (expect)
		check(((uintptr_t)p & (huge - 1)) == 0,
		      "mmap returns a 2 MiB-aligned address (%p)", (void *)p);
	f0 = minflt();
	for (i = 0; i < size; i += pg)
		p[i] = p[i];
	faults = minflt() - f0;
	printf("note %s: %ld faults for %zu MiB, %.2f per 2 MiB\n", dev, faults,
	       size >> 20, (double)faults / chunks);
	check(faults <= chunks + 1,
	      "at most one page fault per 2 MiB touched (%ld for %ld)", faults,
	      chunks);
	{
		char bad[256];
		int tpmd, tpte;

		ptwalk_count((uintptr_t)p, (uintptr_t)p + size, NULL, &pmd,
			     &pte, bad, sizeof(bad));
		if (expect)
			check(pmd == chunks && pte == 0 && !bad[0],
			      "ptwalk: %d 2 MiB entries, %d 4 KiB entries (want %ld and 0; first odd one: %s)",
			      pmd, pte, chunks, bad[0] ? bad : "none");
		else
			check(pmd == 0 && pte == (int)(size / pg) && !bad[0],
			      "ptwalk: %d 4 KiB entries, no 2 MiB ones (%d; first odd one: %s)",
			      pte, pmd, bad[0] ? bad : "none");
		/* The kernel's own dump, where it has one, says the same. */
		if (ptdump_count((uintptr_t)p, (uintptr_t)p + size, &tpmd,
				 &tpte) == 0)
			check(tpmd == pmd && tpte == pte,
			      "PTDUMP agrees: %d 2 MiB entries, %d 4 KiB entries",
			      tpmd, tpte);
	}

	/*
	 * Page-table walkers that would take a struct page from an entry if
	 * they did not know better. The core page walk skips VM_PFNMAP
	 * mappings (their ->pte_hole() sees a hole); mempolicy's walks them
	 * but skips special PTEs: mbind(MPOL_MF_STRICT) over 4 KiB entries
	 * sets its policy on the mapping and returns 0, move_pages()
	 * reports -EFAULT for the page, pagemap reports a hole (at most
	 * soft-dirty), mincore() reads the page cache of the device's
	 * private inode, which has none, smaps counts no RSS. None of them
	 * may change a byte of the mapping, an entry, or the device; the
	 * boot's report check catches a walker that trips over an entry.
	 */
	{
		uint64_t h0 = fnv(p, size), ent = ~0ull;
		unsigned long mask = 1, nmask[16];
		struct ivshmem_ptwalk w0, w1;
		unsigned char vec[4] = { 9, 9, 9, 9 };
		char line[512], flags[512] = "";
		int mode = -1, st = 0, pm, in = 0, rss = -1, ok;
		long r, sz = -1;
		void *addr = (void *)p;
		FILE *sm;

		ptwalk(p + pg, &w0);
		/*
		 * Not over 2 MiB entries: 6.1's mempolicy walk reads their
		 * PFN's struct page (why the driver maps 4 KiB entries only,
		 * Documentation/guest.rst).
		 */
		if (!expect) {
			errno = 0;
			r = syscall(SYS_mbind, addr, size, 2 /* MPOL_BIND */,
				    &mask, 2UL, 1U /* MPOL_MF_STRICT */);
			check(r == 0, "mbind(MPOL_BIND, MPOL_MF_STRICT) over 4 KiB entries returns 0 (%ld, %s)",
			      r, r ? strerrorname_np(errno) : "no error");
			memset(nmask, 0, sizeof(nmask));
			r = syscall(SYS_get_mempolicy, &mode, nmask, 1024UL,
				    addr, 2UL /* MPOL_F_ADDR */);
			check(r == 0 && mode == 2 && nmask[0] == 1,
			      "... get_mempolicy finds MPOL_BIND to node 0 on the mapping (%ld, mode %d, nodes 0x%lx)",
			      r, mode, nmask[0]);
		}
		/*
		 * move_pages' status query: 6.1 asks follow_page(FOLL_DUMP),
		 * which says -EFAULT for a special entry; 6.12's
		 * folio_walk_start() finds no folio: -ENOENT.
		 */
		errno = 0;
		r = syscall(__NR_move_pages, 0, 1, &addr, NULL, &st, 0);
		check(r == 0 && st == (kernel_ge(6, 12) ? -ENOENT : -EFAULT),
		      "move_pages finds no page behind the mapping (%ld %s, status %d)",
		      r, r ? strerrorname_np(errno) : "", st);

		pm = open("/proc/self/pagemap", O_RDONLY);
		r = pm < 0 ? -1 : pread(pm, &ent, 8, ((uintptr_t)p / pg) * 8);
		close(pm);
		check(r == 8 && (ent & ~(1ull << 55)) == 0,
		      "pagemap reports the mapped page as a hole: no PFN, not present (0x%llx)",
		      (unsigned long long)ent);
		r = mincore(addr, 4 * pg, vec);
		check(r == 0 && !(vec[0] | vec[1] | vec[2] | vec[3]),
		      "mincore: the pages are in no page cache (%ld, %d%d%d%d)",
		      r, vec[0], vec[1], vec[2], vec[3]);
		sm = fopen("/proc/self/smaps", "r");
		while (sm && fgets(line, sizeof(line), sm)) {
			unsigned long lo, hi;
			long v;

			if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
				in = lo == (uintptr_t)p;
			else if (in && sscanf(line, "Size: %ld kB", &v) == 1)
				sz = v;
			else if (in && sscanf(line, "Rss: %ld kB", &v) == 1)
				rss = v;
			else if (in && !strncmp(line, "VmFlags:", 8))
				snprintf(flags, sizeof(flags), "%s", line + 8);
		}
		if (sm)
			fclose(sm);
		flags[strcspn(flags, "\n")] = 0;
		check(sz == (long)(size >> 10) && rss == 0 &&
		      strstr(flags, " pf") && strstr(flags, " io") &&
		      strstr(flags, " dd") && strstr(flags, " de"),
		      "smaps: Size %ld kB, Rss %d kB, VmFlags%s (want %zu, 0, pf io dd de)",
		      sz, rss, flags, size >> 10);

		ptwalk(p + pg, &w1);
		ok = fnv(p, size) == h0 && w1.level == w0.level &&
		     w1.flags == w0.flags && w1.type == w0.type;
		ok &= pwrite(fd, "walk", 4, 4600) == 4 && p[4600] == 'w';
		check(ok, "... the mapping's bytes and entries are unchanged and the device works (level %u/%u, type %s/%s)",
		      w0.level, w1.level, ptwalk_type_name(w0.type),
		      ptwalk_type_name(w1.type));
	}

	/* Partial munmap inside the second 2 MiB: the PMD is zapped. */
	check(munmap((void *)(p + huge + pg), pg) == 0, "munmap one page inside a 2 MiB entry");
	f0 = minflt();
	p[huge] = p[huge];
	faults = minflt() - f0;
	check(faults == (expect ? 1 : 0),
	      "the rest of that 2 MiB %s (%ld faults)",
	      expect ? "faults in again: it was one entry" :
		       "stays mapped: 4 KiB entries", faults);
	sig = touch(p + huge + pg);
	check(sig == SIGSEGV, "the unmapped page raises SIGSEGV (%s)", signame(sig));
	check(touch_w(p + huge + 2 * pg) == 0 && touch_w(p + 2 * huge - 1) == 0,
	      "the pages after the hole still work");

	/* mprotect a whole 2 MiB entry, then a page of it. */
	check(mprotect((void *)(p + 2 * huge), huge, PROT_READ) == 0,
	      "mprotect a 2 MiB range read-only");
	sig = touch_w(p + 2 * huge + 5);
	check(touch(p + 2 * huge) == 0 && sig == SIGSEGV,
	      "... it reads and refuses writes (%s)", signame(sig));
	check(mprotect((void *)(p + 2 * huge + pg), pg,
		       PROT_READ | PROT_WRITE) == 0 &&
	      touch_w(p + 2 * huge + pg) == 0,
	      "mprotect one page of it writable again: it writes");

	/* fork: the child refaults the huge entries of its own. */
	p[4500] = 'H';
	child = fork();
	if (child == 0)
		_exit(p[4500] == 'H' ? (p[4501] = 'K', 0) : 1);
	check(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0 && p[4501] == 'K',
	      "fork with huge entries: the child shares the mapping");
	munmap((void *)p, size);
	close(fd);
	return failures;
}

/*
 * bench DEV: page faults per 2 MiB for a fresh 64 MiB mapping of DEV
 * against an anonymous MADV_HUGEPAGE mapping in the same run.
 */
static int cmd_bench(const char *dev)
{
	const size_t len = 64 << 20, huge = 2 << 20;
	int fd = open_dev(dev, O_RDWR);
	size_t pg = getpagesize(), i;
	volatile char *p, *a;
	long f0, dev_faults, anon_faults;

	if (get_info(fd).size < len) {
		skip("fault benchmark: the device is smaller than 64 MiB");
		return 0;
	}
	p = map_dev(fd, len, 0);
	f0 = minflt();
	for (i = 0; i < len; i += pg)
		p[i] = 1;
	dev_faults = minflt() - f0;
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (a == MAP_FAILED)
		die("mmap anonymous");
	madvise((void *)a, len, MADV_HUGEPAGE);
	f0 = minflt();
	for (i = 0; i < len; i += pg)
		a[i] = 1;
	anon_faults = minflt() - f0;
	printf("bench faults per 2 MiB touched, fresh 64 MiB mapping: %s %.2f, anonymous MADV_HUGEPAGE %.2f, ratio %.2f\n",
	       dev, (double)dev_faults / (len / huge),
	       (double)anon_faults / (len / huge),
	       anon_faults ? (double)dev_faults / anon_faults : 0.0);
	check(dev_faults <= (long)(len / huge) + 1,
	      "bench: at most 1 fault per 2 MiB of %s (%ld faults for 64 MiB)",
	      dev, dev_faults);
	munmap((void *)p, len);
	munmap((void *)a, len);
	close(fd);
	return failures;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ivshmem_test info DEV\n"
		"       ivshmem_test mmap-cat DEV\n"
		"       ivshmem_test mmap-write DEV OFFSET < data\n"
		"       ivshmem_test badinput DEV\n"
		"       ivshmem_test unbind DEV PCI-ADDRESS\n"
		"       ivshmem_test unplug DEV\n"
		"       ivshmem_test memtype DEV\n"
		"       ivshmem_test memmodel DEV\n"
		"       ivshmem_test huge DEV EXPECT-HUGE(0|1)\n"
		"       ivshmem_test bench DEV\n"
		"       ivshmem_test remove DEV PCI-ADDRESS\n"
		"       ivshmem_test hold DEV SECONDS\n"
		"       ivshmem_test hold-dmabuf DEV SECONDS\n");
	exit(125);
}

int main(int argc, char **argv)
{
	int ret;

	if (argc < 3)
		usage();
	if (!strcmp(argv[1], "info"))
		ret = cmd_info(argv[2]);
	else if (!strcmp(argv[1], "mmap-cat"))
		ret = cmd_mmap_cat(argv[2]);
	else if (!strcmp(argv[1], "mmap-write") && argc == 4)
		ret = cmd_mmap_write(argv[2], argv[3]);
	else if (!strcmp(argv[1], "badinput"))
		ret = cmd_badinput(argv[2]);
	else if (!strcmp(argv[1], "unbind") && argc == 4)
		ret = cmd_unbind(argv[2], argv[3], 0);
	else if (!strcmp(argv[1], "memtype") && argc == 3)
		ret = cmd_memtype(argv[2]);
	else if (!strcmp(argv[1], "memmodel") && argc == 3)
		ret = cmd_memmodel(argv[2]);
	else if (!strcmp(argv[1], "huge") && argc == 4)
		ret = cmd_huge(argv[2], argv[3]);
	else if (!strcmp(argv[1], "bench") && argc == 3)
		ret = cmd_bench(argv[2]);
	else if (!strcmp(argv[1], "remove") && argc == 4)
		ret = cmd_unbind(argv[2], argv[3], 1);
	else if (!strcmp(argv[1], "unplug") && argc == 3)
		ret = cmd_unbind(argv[2], NULL, 0);
	else if (!strcmp(argv[1], "hold") && argc == 4)
		ret = cmd_hold(argv[2], argv[3], 0);
	else if (!strcmp(argv[1], "hold-dmabuf") && argc == 4)
		ret = cmd_hold(argv[2], argv[3], 1);
	else
		usage();
	return ret > 125 ? 125 : ret;
}
