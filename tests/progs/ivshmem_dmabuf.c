// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem_dmabuf - guest-side checks of the driver's dma-bufs with the
 * kernel's own importers: the project's test importer (a dynamic
 * peer2peer importer, tests/dmabuf_importer), V4L2 vivid (videobuf2's
 * vmalloc and dma-contig allocators) and DRM vgem (PRIME import).
 *
 *   basic DEV [PCI-ADDRESS]   userspace and the test importer, then the
 *                             device removed under them (sysfs unbind of
 *                             PCI-ADDRESS, or a hot-unplug the harness
 *                             does on "IVT-UNPLUG-NOW")
 *   v4l2 DEV BUS MODE [PCI-ADDRESS]
 *                             vivid's capture queue of bus_info BUS
 *                             captures into two 1 MiB dma-bufs of DEV,
 *                             released or removed as MODE says:
 *                             reqbufs0, close-video, close-dmabuf
 *                             (release orders), unbind, remove (sysfs,
 *                             PCI-ADDRESS), unplug (removal while
 *                             streaming), readonly (read-only dma-bufs
 *                             refused at QBUF), novmap (read-write
 *                             dma-bufs refused at QBUF where the driver
 *                             has no vmap), static (an allocator that
 *                             maps: refused at QBUF)
 *   vgem DEV                  DRM PRIME import into vgem: refused
 *
 * Prints "ok - ..." / "not ok - ..." lines; exit status: failures. The
 * v4l2 modes also print "IVT-V4L2 OFFSET LENGTH FNV" lines for the host
 * to compare with the backing file.
 *
 * The driver's dma-bufs have a vmap on x86 only (guest/dmabuf.c); built
 * for another architecture, the program checks that every vmap is
 * refused instead: the test importer's fails with EINVAL and keeps its
 * attachment, videobuf2-vmalloc's fails QBUF with EFAULT.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dma-buf.h>
#include <linux/ivshmem.h>
#include <linux/videodev2.h>

#include "check.h"
#include "dev_util.h"

/* An unmapped user address, hidden from the compiler's bounds checks. */
static volatile uintptr_t bad_addr = 16;

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_VMAP 1
#else
#define HAVE_VMAP 0
#endif

#define IMPORTER "/sys/kernel/debug/ivshmem_dmabuf_importer/"
#define WINDOW_NAME "ivshmem dma-buf views of a removed device"

/* ------------------------------------------------------------ helpers -- */

static struct ivshmem_info get_info(int fd)
{
	struct ivshmem_info info;

	if (ioctl(fd, IVSHMEM_IOCTL_INFO, &info))
		die("IVSHMEM_IOCTL_INFO");
	return info;
}

/* Is BAR2's window of a removed device claimed in /proc/iomem? */
static int window_claimed(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	char line[512];
	int found = 0;

	if (!f)
		die("/proc/iomem");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, WINDOW_NAME))
			found = 1;
	fclose(f);
	return found;
}

/* The PCI device's sysfs directory of DEV (malloc'd). */
static char *pci_dir(const char *dev)
{
	char link[256], *pci;

	snprintf(link, sizeof(link), "/sys/class/ivshmem/%s/device",
		 strrchr(dev, '/') + 1);
	pci = realpath(link, NULL);
	if (!pci)
		die(link);
	return pci;
}

/* Wait up to 120 s for @path to go; 0 once gone. */
static int wait_gone(const char *path)
{
	int i;

	for (i = 0; i < 1200 && !access(path, F_OK); i++)
		usleep(100000);
	return i < 1200 ? 0 : -1;
}

/*
 * Remove DEV's device: "unbind" or "remove" through sysfs (@bdf), or
 * "unplug": ask the harness for a QMP device_del ("IVT-UNPLUG-NOW") and
 * wait until the PCI device is gone. 0 on success.
 */
static int remove_device(const char *dev, const char *how, const char *bdf)
{
	char path[256], *pci = pci_dir(dev);
	int ret;

	if (!strcmp(how, "unbind")) {
		ret = write_file("/sys/bus/pci/drivers/ivshmem/unbind", bdf);
	} else if (!strcmp(how, "remove")) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove",
			 bdf);
		ret = write_file(path, "1");
		if (!ret)
			ret = wait_gone(pci);
	} else {
		printf("IVT-UNPLUG-NOW\n");
		fflush(stdout);
		ret = wait_gone(pci);
	}
	free(pci);
	return ret;
}

/* Open file descriptors of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		die("/proc/self/fd");
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;		/* the directory's own descriptor */
}

static int export(int fd, uint64_t off, uint64_t size, uint32_t flags)
{
	struct ivshmem_dmabuf req = {
		.offset = off, .size = size, .flags = flags, .fd = 12345,
	};

	if (ioctl(fd, IVSHMEM_IOCTL_DMABUF, &req))
		return -1;
	return req.fd;
}

static int sync_buf(int bfd, uint64_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(bfd, DMA_BUF_IOCTL_SYNC, &sync);
}

static int all_zero(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static uint64_t fnv1a(const volatile unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* BAR2's physical address, from the PCI device's resource file. */
static unsigned long long bar2_phys(const char *dev)
{
	char path[256], line[256];
	unsigned long long start = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/sys/class/ivshmem/%s/device/resource",
		 strrchr(dev, '/') + 1);
	f = fopen(path, "r");
	if (!f)
		die(path);
	for (i = 0; i <= 2 && fgets(line, sizeof(line), f); i++)
		start = strtoull(line, NULL, 16);
	fclose(f);
	return start;
}

/* ------------------------------------------------------ test importer -- */

/* Write a command to the test importer's ctl file; 0 or -1 (errno). */
static int importer(const char *fmt, ...)
{
	char cmd[64];
	va_list ap;
	int fd, ret;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fd = open(IMPORTER "ctl", O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd) ? 0 : -1;
	close(fd);
	return ret;
}

/* The importer's state line; the value of @key in it, or -1000. */
static long long importer_val(const char *key)
{
	char line[512], want[32], *p;
	FILE *f = fopen(IMPORTER "ctl", "r");
	long long v = -1000;

	if (!f)
		die(IMPORTER "ctl");
	if (fgets(line, sizeof(line), f)) {
		snprintf(want, sizeof(want), " %s=", key);
		memmove(line + 1, line, strlen(line) + 1);
		line[0] = ' ';
		p = strstr(line, want);
		if (p)
			v = strtoll(p + strlen(want), NULL, 0);
	}
	fclose(f);
	return v;
}

/* Read @len bytes at @off through the importer's vmap: bytes or -errno. */
static ssize_t importer_read(void *buf, size_t len, off_t off)
{
	int fd = open(IMPORTER "data", O_RDONLY);
	ssize_t n, done = 0;

	if (fd < 0)
		die(IMPORTER "data");
	while (done < (ssize_t)len) {
		n = pread(fd, (char *)buf + done, len - done, off + done);
		if (n <= 0) {
			if (n < 0)
				done = -errno;
			break;
		}
		done += n;
	}
	close(fd);
	return done;
}

static ssize_t importer_write(const void *buf, size_t len, off_t off)
{
	int fd = open(IMPORTER "data", O_WRONLY);
	ssize_t n;

	if (fd < 0)
		die(IMPORTER "data");
	n = pwrite(fd, buf, len, off);
	close(fd);
	return n;
}

/* Bad requests fail with EINVAL and leave no descriptor behind. */
static void dmabuf_badinput(int fd, uint64_t size)
{
	static const struct {
		uint64_t off, size;
		uint32_t flags;
		uint64_t reserved;
		const char *what;
	} bad[] = {
		{ 0, 4096, 1U << 1, 0, "an unknown flag" },
		{ 0, 4096, 1U << 31, 0, "the top flag" },
		{ 0, 4096, 0, 1, "a non-zero reserved[0]" },
		{ 0, 4096, 0, 2, "a non-zero reserved[1]" },
		{ 100, 4096, 0, 0, "an unaligned offset" },
		{ 0, 100, 0, 0, "an unaligned size" },
		{ 0, 0, 0, 0, "size 0" },
		{ 4096, ~0ULL & ~4095ULL, 0, 0, "offset + size wrapping" },
		{ ~0ULL & ~4095ULL, 4096, 0, 0, "a huge offset" },
		{ 0, 0, 0, 0, "one page past the end" },
		{ 0, 0, 0, 0, "the end as offset" },
	};
	int before = count_fds();
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ivshmem_dmabuf req = {
			.offset = bad[i].off, .size = bad[i].size,
			.flags = bad[i].flags,
		};

		if (bad[i].reserved)
			req.reserved[bad[i].reserved - 1] = 1;
		if (i == 9)
			req.size = size + 4096;
		if (i == 10) {
			req.offset = size;
			req.size = 4096;
		}
		CHECK_ERR(ioctl(fd, IVSHMEM_IOCTL_DMABUF, &req), EINVAL,
			  bad[i].what);
	}
	CHECK_ERR(ioctl(fd, IVSHMEM_IOCTL_DMABUF, (void *)bad_addr), EFAULT,
		  "an unmapped request");
	check(count_fds() == before, "bad requests created no descriptor (%d -> %d)",
	      before, count_fds());
}

/*
 * A file opened read-only exports read-only dma-bufs only: a writable one
 * would be a writable mapping the open did not grant.
 */
static void dmabuf_readonly_file(const char *dev)
{
	int rfd = open_dev(dev, O_RDONLY), before = count_fds(), bfd;
	struct ivshmem_dmabuf req = {
		.offset = 0, .size = 4096, .flags = IVSHMEM_DMABUF_RDWR,
	};

	CHECK_ERR(ioctl(rfd, IVSHMEM_IOCTL_DMABUF, &req), EACCES,
		  "a read-write dma-buf from a file opened read-only");
	check(count_fds() == before, "... creates no descriptor (%d -> %d)",
	      before, count_fds());
	req.flags = 0;
	bfd = ioctl(rfd, IVSHMEM_IOCTL_DMABUF, &req) ? -1 : (int)req.fd;
	check(bfd >= 0 && (fcntl(bfd, F_GETFL) & O_ACCMODE) == O_RDONLY,
	      "a read-only dma-buf from a file opened read-only (%s)",
	      bfd < 0 ? strerror(errno) : "O_RDONLY");
	if (bfd >= 0)
		close(bfd);
	close(rfd);
}

/*
 * The test importer and a read-only dma-buf: the dma-buf core maps a
 * dynamic importer's attachment to a static exporter at attach,
 * DMA_BIDIRECTIONAL, which a read-only dma-buf refuses.
 */
static void dmabuf_readonly_import(int rofd)
{
	int ret;

	errno = 0;
	ret = importer("import %d", rofd);
	check(ret && errno == EACCES && importer_val("buf") == 0,
	      "a dynamic importer of a read-only dma-buf: EACCES at attach (the core maps it DMA_BIDIRECTIONAL there) (%s)",
	      ret ? strerror(errno) : "accepted");
}

/*
 * An importer whose device cannot take a page in one DMA segment (its
 * max segment size, or its segment boundary, below a page) is refused
 * with EINVAL: the exporter hands out whole pages only. The importer's
 * limits are put back afterwards.
 */
static void dmabuf_sub_page_limits(int bfd)
{
	static const char *const limits[] = {
		"limits 2048 262143", "limits 65536 2047",
	};
	size_t i;
	int ret;

	for (i = 0; i < 2; i++) {
		errno = 0;
		ret = importer("%s", limits[i]) ? -1 : importer("import %d rw", bfd);
		check(ret && errno == EINVAL && importer_val("buf") == 0,
		      "an importer with %s (below a page) is refused with EINVAL and holds nothing (%s)",
		      i ? "a 2 KiB segment boundary" : "2 KiB segments",
		      ret ? strerror(errno) : "accepted");
	}
	check(!importer("limits 65536 262143"),
	      "the importer's limits back to 64 KiB and 256 KiB");
}

/*
 * basic DEV [PCI-ADDRESS]: export dma-bufs of DEV and use them from
 * userspace (mmap, DMA_BUF_IOCTL_SYNC) and through the test importer
 * (dynamic attachment, mapping, vmap); then remove the device with
 * everything live; then check that every operation fails cleanly and
 * that the importer's leftovers keep BAR2's window claimed until they
 * go. Over the hot-unplug the importer has also pinned the attachment
 * and keeps its mapping on move_notify, as an importer relying on its pin
 * may: the window stays claimed until it unmaps. The importer reads what
 * the host wrote at offset 8192 + 4096 and
 * writes "dmabuf-importer-was-here" at offset 16384 of BAR2 (the
 * harness checks the backing file); after removal it writes its mark at
 * offset 8192 through the vmap it kept. Without a vmap (!HAVE_VMAP) the
 * importer holds its attachment and mapping only, and every vmap, before
 * and after removal, fails with EINVAL.
 */
static int cmd_basic(const char *dev, const char *bdf)
{
	static const char mark[] = "dmabuf-importer-was-here";
	int fd = open_dev(dev, O_RDWR), bfd, rofd, fds, refs, sig, ret;
	int pinned = !bdf;
	long long v[3];
	struct ivshmem_info info = get_info(fd);
	size_t size = info.size, len = size - 8192, i;
	const off_t off = 8192;
	volatile char *devmap, *buf, *ro;
	char *tmp = malloc(size);
	long long dma;
	struct ivshmem_dmabuf req;

	if (!tmp)
		die("malloc");
	if (!(info.flags & IVSHMEM_INFO_DMABUF)) {
		skip("dma-buf export: IVSHMEM_INFO_DMABUF is clear");
		return 0;
	}
	check(1, "IVSHMEM_INFO_DMABUF is set");
	dmabuf_readonly_file(dev);
	fds = count_fds();
	dmabuf_badinput(fd, size);

	devmap = map_dev(fd, size, 0);
	bfd = export(fd, off, len, IVSHMEM_DMABUF_RDWR);
	check(bfd >= 0, "export [%#lx, +%#zx) read-write: fd %d (%s)",
	      (long)off, len, bfd, bfd < 0 ? strerror(errno) : "ok");
	if (bfd < 0)
		return failures;
	check(fcntl(bfd, F_GETFD) == FD_CLOEXEC, "the dma-buf fd is O_CLOEXEC");
	check((fcntl(bfd, F_GETFL) & O_ACCMODE) == O_RDWR,
	      "a read-write dma-buf's file is O_RDWR");
	check(lseek(bfd, 0, SEEK_END) == (off_t)len,
	      "lseek(SEEK_END) gives the dma-buf's size");
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
	if (buf == MAP_FAILED)
		die("mmap of the dma-buf");
	check(!memcmp((void *)buf, (void *)(devmap + off), len),
	      "dma-buf mmap shows what /dev mmap shows at offset %#lx",
	      (long)off);
	ret = sync_buf(bfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
	check(!ret, "DMA_BUF_IOCTL_SYNC start (%s)",
	      ret ? strerror(errno) : "ok");
	buf[100] = 'D';
	devmap[off + 101] = 'V';
	check(devmap[off + 100] == 'D' && buf[101] == 'V',
	      "a write through either mapping is seen in the other");
	check(!sync_buf(bfd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW),
	      "DMA_BUF_IOCTL_SYNC end");
	CHECK_ERR(sync_buf(bfd, 1ULL << 40), EINVAL,
		  "DMA_BUF_IOCTL_SYNC with bad flags");
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, bfd, len) ==
		  MAP_FAILED ? -1 : 0, EINVAL,
		  "mmap past the dma-buf's end");
	CHECK_ERR(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, bfd,
		       0) == MAP_FAILED ? -1 : 0, EINVAL,
		  "a private mapping of the dma-buf");

	rofd = export(fd, 0, 4096, 0);
	check(rofd >= 0 && (fcntl(rofd, F_GETFL) & O_ACCMODE) == O_RDONLY,
	      "a read-only dma-buf's file is O_RDONLY");
	CHECK_ERR(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rofd,
		       0) == MAP_FAILED ? -1 : 0, EACCES,
		  "read-only dma-buf refuses PROT_WRITE");
	ro = mmap(NULL, 4096, PROT_READ, MAP_SHARED, rofd, 0);
	check(ro != MAP_FAILED && ro[0] == devmap[0],
	      "read-only dma-buf maps PROT_READ");
	if (ro != MAP_FAILED) {
		CHECK_ERR(mprotect((void *)ro, 4096, PROT_READ | PROT_WRITE),
			  EACCES, "mprotect(PROT_WRITE) of the read-only map");
		munmap((void *)ro, 4096);
	}
	dmabuf_readonly_import(rofd);
	dmabuf_sub_page_limits(bfd);

	/* The in-kernel importer, left holding everything over removal. */
	ret = importer("import %d rw%s", bfd, pinned ? " pin" : "");
	check(!ret && importer_val("pinned") == pinned,
	      "importer attaches (dynamic, peer2peer)%s, maps%s the dma-buf (%s)",
	      pinned ? ", pins" : "", HAVE_VMAP ? " and vmaps" : "",
	      ret ? strerror(errno) : "ok");
	dma = importer_val("dma");
	check(dma == (long long)(bar2_phys(dev) + off),
	      "importer's first DMA address is BAR2 + %#lx (no IOMMU): %#llx",
	      (long)off, dma);
	check(importer_val("len") == (long long)len &&
	      importer_val("pages") == 0 &&
	      importer_val("nents") >= (long long)(len >> 16),
	      "importer's sg_table: %lld bytes contiguous, %lld entries, %lld struct pages",
	      importer_val("len"), importer_val("nents"),
	      importer_val("pages"));
	check(importer_val("segs_ok") == 1,
	      "every entry keeps to the importer's 64 KiB segment size and 256 KiB boundary");
	if (HAVE_VMAP) {
		check(importer_val("vmap") == 1 && importer_val("iomem") == 0,
		      "importer's vmap is system memory (vmap %lld, is_iomem %lld)",
		      importer_val("vmap"), importer_val("iomem"));
		check(importer_read(tmp, len, 0) == (ssize_t)len &&
		      !memcmp(tmp, (void *)(devmap + off), len),
		      "importer's vmap reads what the host wrote (%zu bytes)",
		      len);
		check(importer_write(mark, sizeof(mark) - 1, 16384 - off) ==
		      sizeof(mark) - 1 &&
		      !memcmp((void *)(devmap + 16384), mark, sizeof(mark) - 1),
		      "a write through the importer's vmap reaches BAR2");
	} else {
		check(importer_val("vmap") == 0 &&
		      importer_val("vmap_err") == -EINVAL,
		      "importer's vmap fails with EINVAL, the import stays (no vmap on this architecture; vmap %lld, vmap_err %lld)",
		      importer_val("vmap"), importer_val("vmap_err"));
		check(importer_read(tmp, len, 0) == -ENXIO,
		      "the importer has no kernel view to read through (ENXIO)");
	}
	ret = importer("probe");
	v[0] = importer_val("probe_attach");
	v[1] = importer_val("probe_map");
	v[2] = importer_val("probe_cpu");
	check(!ret && !v[0] && !v[1] && !v[2],
	      "importer: a second dynamic attachment, a mapping and CPU access work (%lld %lld %lld)",
	      v[0], v[1], v[2]);
	check(importer_val("probe_static") == -EOPNOTSUPP,
	      "a static importer (no peer2peer: videobuf2, DRM PRIME) is refused its mapping with EOPNOTSUPP (%lld)",
	      importer_val("probe_static"));
	/* A static exporter has no .pin: the core reports every pin done. */
	check(importer_val("probe_pin") == 0,
	      "dma_buf_pin() succeeds (no .pin: the core answers; removal revokes anyway) (%lld)",
	      importer_val("probe_pin"));
	CHECK_ERR(importer("import %d", bfd), EBUSY,
		  "importer holds one import at a time");
	check(!window_claimed(), "no window claimed while the device lives");
	/* The fd is closed: the importer's and the mapping's refs remain. */
	close(rofd);
	for (i = 0; i < 2; i++)
		check(buf[i * (len - 1)] == devmap[off + i * (len - 1)],
		      "dma-buf mapping still reads BAR2 (byte %zu)",
		      i * (len - 1));

	refs = module_refcnt();
	ret = remove_device(dev, bdf ? "unbind" : "unplug", bdf);
	check(!ret, "%s %s with the dma-buf attached, mapped, %smmapped",
	      bdf ? "unbind" : "hot-unplug", bdf ? bdf : dev,
	      HAVE_VMAP ? "vmapped and " : "");

	if (pinned)
		check(importer_val("moves") >= 1 && importer_val("mapped") == 1,
		      "removal sent move_notify to the pinned importer, which kept its mapping (moves %lld, mapped %lld)",
		      importer_val("moves"), importer_val("mapped"));
	else
		check(importer_val("moves") >= 1 && importer_val("mapped") == 0,
		      "removal sent move_notify and the importer unmapped (moves %lld, mapped %lld)",
		      importer_val("moves"), importer_val("mapped"));
	check(window_claimed(),
	      "the importer's %s keeps BAR2's window claimed (/proc/iomem)",
	      HAVE_VMAP ? "vmap" : "attachment's mapping");
	sig = touch(buf);
	check(sig == SIGBUS, "dma-buf mapping after removal: SIGBUS (%s)",
	      sig ? strsignal(sig) : "no signal");
	sig = touch(buf + len - 1);
	check(sig == SIGBUS, "... at its last byte too (%s)",
	      sig ? strsignal(sig) : "no signal");
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, bfd, 0) ==
		  MAP_FAILED ? -1 : 0, ENODEV, "dma-buf mmap after removal");
	CHECK_ERR(sync_buf(bfd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ),
		  ENODEV, "DMA_BUF_IOCTL_SYNC after removal");
	req = (struct ivshmem_dmabuf){ .offset = 0, .size = 4096 };
	CHECK_ERR(ioctl(fd, IVSHMEM_IOCTL_DMABUF, &req), ENODEV,
		  "export after removal");
	/*
	 * The core cached the attachment's mapping at attach and hands it
	 * back until detach: its addresses stay in the claimed window.
	 */
	if (!pinned) {
		ret = importer("remap");
		check(!ret && importer_val("remap") == 0,
		      "importer's new mapping after move_notify: the table the core cached at attach (%lld)",
		      importer_val("remap"));
	}
	ret = importer("probe");
	v[0] = importer_val("probe_attach");
	v[1] = importer_val("probe_static");
	v[2] = importer_val("probe_cpu");
	check(!ret && v[0] == -ENODEV && v[1] == -ENODEV && v[2] == -ENODEV,
	      "importer after removal: dynamic and static attach, CPU access fail with ENODEV (%lld %lld %lld)",
	      v[0], v[1], v[2]);
	/*
	 * The vmap it kept is the importer's to drop: it still reaches the
	 * window (BAR2 after an unbind, nothing after a hot-unplug), which
	 * no other device can be given meanwhile.
	 */
	if (HAVE_VMAP) {
		check(importer_read(tmp, len, 0) == (ssize_t)len,
		      "importer's kept vmap still reads after removal (no fault)");
		check(importer_write(mark, sizeof(mark) - 1, 0) ==
		      sizeof(mark) - 1,
		      "importer's kept vmap takes a write after removal (no fault)");
	}
	memset(tmp, 0x5a, len);
	ret = importer("revmap");
	v[0] = importer_val("revmap");
	if (HAVE_VMAP)
		check(!ret && v[0] == 0 &&
		      importer_read(tmp, len, 0) == (ssize_t)len &&
		      all_zero(tmp, len),
		      "importer: a new vmap after removal shows zeroes (%lld; the core WARNs on a failing vmap)",
		      v[0]);
	else
		check(!ret && v[0] == -EINVAL &&
		      importer_read(tmp, len, 0) == -ENXIO,
		      "importer: a new vmap after removal fails with EINVAL as before (%lld)",
		      v[0]);
	check(window_claimed(),
	      "the attachment's mapping keeps the window claimed%s (until detach)",
	      HAVE_VMAP ? " after the vmap went" : "");
	check(!importer("release") && importer_val("buf") == 0,
	      "importer unmaps, %sdetaches and releases after removal",
	      pinned ? "unpins, " : "");
	check(!window_claimed(),
	      "the window is let go with the last view of BAR2, at detach (/proc/iomem)");
	check(munmap((void *)buf, len) == 0 && !mapped_in_self(buf),
	      "munmap of the revoked dma-buf mapping");
	munmap((void *)devmap, size);
	close(fd);
	check(module_refcnt() == 1,
	      "the open dma-buf alone holds the module (refcnt %d)",
	      module_refcnt());
	check(close(bfd) == 0, "close of the dma-buf after removal");
	check(count_fds() == fds - 1, "no descriptor left (%d -> %d)",
	      fds - 1, count_fds());
	check(module_refcnt() == 0,
	      "the dma-bufs' module references are gone (%d -> %d)", refs,
	      module_refcnt());
	free(tmp);
	return failures;
}

/* --------------------------------------------------------------- V4L2 -- */

#define V4L2_BUFS	2
#define V4L2_FRAMES	6
#define V4L2_BUF_SIZE	(1UL << 20)

/* The video node whose capture queue belongs to vivid @bus. */
static int open_video(const char *bus)
{
	char path[64];
	struct v4l2_capability cap;
	int i, fd;

	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR);
		if (fd < 0)
			continue;
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.bus_info, bus) &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE) &&
		    (cap.device_caps & V4L2_CAP_STREAMING))
			return fd;
		close(fd);
	}
	return -1;
}

static int reqbufs(int vfd, unsigned int count)
{
	struct v4l2_requestbuffers rb = {
		.count = count, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};

	return ioctl(vfd, VIDIOC_REQBUFS, &rb) ? -1 : (int)rb.count;
}

static int qbuf(int vfd, unsigned int index, int bfd)
{
	struct v4l2_buffer b = {
		.index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF, .length = V4L2_BUF_SIZE,
	};

	b.m.fd = bfd;
	return ioctl(vfd, VIDIOC_QBUF, &b);
}

/* One filled buffer, waited for up to 30 s: its index, or -1. */
static int dqbuf(int vfd, unsigned int *bytesused)
{
	struct v4l2_buffer b = {
		.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
		.memory = V4L2_MEMORY_DMABUF,
	};
	struct pollfd p = { .fd = vfd, .events = POLLIN };

	if (poll(&p, 1, 30000) != 1)
		return -1;
	if (ioctl(vfd, VIDIOC_DQBUF, &b))
		return -1;
	*bytesused = b.bytesused;
	return b.index;
}

/* Capture @n frames, queueing each buffer again; frames seen or -1. */
static int capture(int vfd, const int *bfd, int n, unsigned int *bytes)
{
	unsigned int used = 0;
	int i, idx;

	for (i = 0; i < n; i++) {
		idx = dqbuf(vfd, &used);
		if (idx < 0 || idx >= V4L2_BUFS)
			return i;
		*bytes = used;
		if (qbuf(vfd, idx, bfd[idx]))
			return i + 1;
	}
	return n;
}

/*
 * A static allocator (vivid allocators=1: dma-contig; @rw, EINVAL), or
 * videobuf2-vmalloc refused the vmap (EFAULT): read-only dma-bufs, or
 * read-write ones without HAVE_VMAP.
 */
static int v4l2_refused(int vfd, int fd, const char *bus, int rw, int err)
{
	int bfd = export(fd, V4L2_BUF_SIZE, V4L2_BUF_SIZE,
			 rw ? IVSHMEM_DMABUF_RDWR : 0);

	if (bfd < 0)
		die("export");
	check(reqbufs(vfd, V4L2_BUFS) == V4L2_BUFS,
	      "%s: VIDIOC_REQBUFS %d V4L2_MEMORY_DMABUF", bus, V4L2_BUFS);
	CHECK_ERR(qbuf(vfd, 0, bfd), err,
		  err == EINVAL ? "QBUF of a dma-buf into an allocator that maps it (videobuf2 dma-contig: static, not peer2peer: the map fails)"
		  : rw ? "QBUF of a read-write dma-buf into a capture queue (videobuf2 vmalloc: no vmap on this architecture)"
		       : "QBUF of a read-only dma-buf into a capture queue (videobuf2 vmalloc: vmap refused)");
	check(reqbufs(vfd, 0) == 0, "%s: VIDIOC_REQBUFS 0 after the refusal",
	      bus);
	close(bfd);
	return failures;
}

static int cmd_v4l2(const char *dev, const char *bus, const char *mode,
		    const char *bdf)
{
	int fd = open_dev(dev, O_RDWR), vfd = open_video(bus), bfd[V4L2_BUFS];
	int removal = !strcmp(mode, "unbind") || !strcmp(mode, "remove") ||
		      !strcmp(mode, "unplug");
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct ivshmem_info info = get_info(fd);
	unsigned int bytes = 0, i;
	volatile unsigned char *view;
	int n, ret;

	if (vfd < 0) {
		check(0, "a vivid capture node of %s", bus);
		return failures;
	}
	if (ioctl(vfd, VIDIOC_G_FMT, &fmt))
		die("VIDIOC_G_FMT");
	check(info.size >= 4 * V4L2_BUF_SIZE &&
	      fmt.fmt.pix.sizeimage <= V4L2_BUF_SIZE,
	      "%s: %ux%u, %u bytes a frame, fit in 1 MiB dma-bufs of %s", bus,
	      fmt.fmt.pix.width, fmt.fmt.pix.height, fmt.fmt.pix.sizeimage,
	      dev);
	if (!strcmp(mode, "static"))
		/* vb2_dc_map_dmabuf() reports any failing map as EINVAL. */
		return v4l2_refused(vfd, fd, bus, 1, EINVAL);
	if (!strcmp(mode, "readonly"))
		return v4l2_refused(vfd, fd, bus, 0, EFAULT);
	if (!strcmp(mode, "novmap"))
		return v4l2_refused(vfd, fd, bus, 1, EFAULT);

	/* Removal runs capture at 0 and 3 MiB, the others at 1 and 2. */
	for (i = 0; i < V4L2_BUFS; i++) {
		bfd[i] = export(fd, (removal ? i * 3 : i + 1) * V4L2_BUF_SIZE,
				V4L2_BUF_SIZE, IVSHMEM_DMABUF_RDWR);
		if (bfd[i] < 0)
			die("export");
	}
	check(reqbufs(vfd, V4L2_BUFS) == V4L2_BUFS,
	      "VIDIOC_REQBUFS %d V4L2_MEMORY_DMABUF", V4L2_BUFS);
	for (i = 0, ret = 0; i < V4L2_BUFS; i++)
		ret |= qbuf(vfd, i, bfd[i]);
	check(!ret, "VIDIOC_QBUF of both dma-bufs (%s)",
	      ret ? strerror(errno) : "ok");
	ret = ioctl(vfd, VIDIOC_STREAMON, &type);
	check(!ret, "VIDIOC_STREAMON (%s)", ret ? strerror(errno) : "ok");
	n = capture(vfd, bfd, V4L2_FRAMES, &bytes);
	check(n == V4L2_FRAMES && bytes == fmt.fmt.pix.sizeimage,
	      "%d of %d frames captured into the dma-bufs (%u bytes each)",
	      n, V4L2_FRAMES, bytes);

	if (removal) {
		ret = remove_device(dev, mode, bdf);
		check(!ret, "%s of the device while vivid streams into its dma-bufs",
		      mode);
		check(window_claimed(),
		      "vivid's vmaps keep BAR2's window claimed after removal");
		n = capture(vfd, bfd, 2, &bytes);
		check(n == 2, "vivid goes on capturing after removal (%d frames: into the claimed window, no fault)",
		      n);
		ret = export(fd, 0, 4096, 0);
		check(ret < 0 && errno == ENODEV,
		      "export after removal: ENODEV (%s)",
		      ret < 0 ? strerror(errno) : "accepted");
		CHECK_ERR(sync_buf(bfd[0], DMA_BUF_SYNC_START |
				   DMA_BUF_SYNC_READ), ENODEV,
			  "DMA_BUF_IOCTL_SYNC after removal");
		CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, bfd[0], 0) ==
			  MAP_FAILED ? -1 : 0, ENODEV,
			  "dma-buf mmap after removal");
		ret = ioctl(vfd, VIDIOC_STREAMOFF, &type);
		check(!ret, "VIDIOC_STREAMOFF after removal");
		check(reqbufs(vfd, 0) == 0,
		      "VIDIOC_REQBUFS 0 after removal (dma_buf_vunmap)");
		check(!window_claimed(),
		      "the window is let go with vivid's last vmap");
		for (i = 0; i < V4L2_BUFS; i++)
			close(bfd[i]);
		close(vfd);
		close(fd);
		return failures;
	}

	ret = ioctl(vfd, VIDIOC_STREAMOFF, &type);
	check(!ret, "VIDIOC_STREAMOFF (%s)", ret ? strerror(errno) : "ok");
	/* What the host finds in the backing file, through /dev mmap. */
	view = map_dev(fd, info.size, 0);
	for (i = 0; i < V4L2_BUFS; i++) {
		const volatile unsigned char *p = view + (i + 1) * V4L2_BUF_SIZE;
		size_t k, diff = 0;

		for (k = 1; k < bytes; k++)
			diff += p[k] != p[0];
		check(diff > bytes / 4, "buffer %u holds a picture (%zu of %u bytes differ from the first)",
		      i, diff, bytes);
		printf("IVT-V4L2 %lu %u %016" PRIx64 "\n",
		       (i + 1) * V4L2_BUF_SIZE, bytes, fnv1a(p, bytes));
	}
	fflush(stdout);
	munmap((void *)view, info.size);

	if (!strcmp(mode, "reqbufs0")) {
		check(reqbufs(vfd, 0) == 0,
		      "VIDIOC_REQBUFS 0 (videobuf2 gives the vmaps back)");
		for (i = 0; i < V4L2_BUFS; i++)
			check(!close(bfd[i]), "close of dma-buf %u", i);
		check(!close(vfd), "close of the video node");
	} else if (!strcmp(mode, "close-video")) {
		check(!close(vfd), "close of the video node first (the queue goes with it)");
		for (i = 0; i < V4L2_BUFS; i++)
			check(!sync_buf(bfd[i], DMA_BUF_SYNC_START |
					DMA_BUF_SYNC_READ) && !close(bfd[i]),
			      "dma-buf %u still works, then closes", i);
	} else {
		for (i = 0; i < V4L2_BUFS; i++)
			check(!close(bfd[i]), "close of dma-buf %u first (videobuf2 holds its own reference)",
			      i);
		check(reqbufs(vfd, 0) == 0, "VIDIOC_REQBUFS 0 after the dma-bufs' fds are closed");
		check(!close(vfd), "close of the video node");
	}
	close(fd);
	return failures;
}

/* --------------------------------------------------------------- vgem -- */

/* <drm/drm.h> is not in the host's userspace headers: the ABI itself. */
struct ivt_drm_prime_handle {
	uint32_t handle;
	uint32_t flags;
	int32_t fd;
};

#define IVT_DRM_IOCTL_PRIME_FD_TO_HANDLE \
	_IOWR('d', 0x2e, struct ivt_drm_prime_handle)

static int cmd_vgem(const char *dev)
{
	int fd = open_dev(dev, O_RDWR), card = -1, bfd, i;
	struct ivt_drm_prime_handle h;
	char path[64], name[PATH_MAX];

	/* vgem's card is a child of its platform device, which has no driver. */
	for (i = 0; i < 16 && card < 0; i++) {
		char *dir;

		snprintf(path, sizeof(path), "/sys/class/drm/card%d/device", i);
		dir = realpath(path, name);
		if (!dir || strcmp(strrchr(dir, '/') + 1, "vgem"))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		card = open(path, O_RDWR);
	}
	if (card < 0) {
		check(0, "vgem's /dev/dri/card node");
		return failures;
	}
	for (i = 0; i < 2; i++) {
		bfd = export(fd, 0, V4L2_BUF_SIZE, i ? 0 : IVSHMEM_DMABUF_RDWR);
		if (bfd < 0)
			die("export");
		h = (struct ivt_drm_prime_handle){ .fd = bfd };
		CHECK_ERR(ioctl(card, IVT_DRM_IOCTL_PRIME_FD_TO_HANDLE, &h),
			  EOPNOTSUPP,
			  i ? "vgem PRIME import of a read-only dma-buf (static importer: its map is refused)"
			    : "vgem PRIME import of a read-write dma-buf (static importer: its map is refused)");
		check(!close(bfd), "the dma-buf closes after the refused import");
	}
	close(card);
	close(fd);
	return failures;
}

int main(int argc, char **argv)
{
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "basic"))
		ret = cmd_basic(argv[2], argc == 4 ? argv[3] : NULL);
	else if ((argc == 5 || argc == 6) && !strcmp(argv[1], "v4l2"))
		ret = cmd_v4l2(argv[2], argv[3], argv[4],
			       argc == 6 ? argv[5] : NULL);
	else if (argc == 3 && !strcmp(argv[1], "vgem"))
		ret = cmd_vgem(argv[2]);
	else {
		fprintf(stderr,
			"usage: ivshmem_dmabuf basic DEV [PCI-ADDRESS]\n"
			"       ivshmem_dmabuf v4l2 DEV BUS MODE [PCI-ADDRESS]\n"
			"       ivshmem_dmabuf vgem DEV\n");
		return 125;
	}
	return ret > 125 ? 125 : ret;
}
