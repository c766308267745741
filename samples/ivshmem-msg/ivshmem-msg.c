// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-msg - pass a message between two VMs over /dev/ivshmemN.
 *
 * A minimal example of the guest driver's API: mmap the shared memory,
 * bind an eventfd to a vector, ring a peer's doorbell.
 *
 *   ivshmem-msg info  [DEV]          what the driver reports
 *   ivshmem-msg serve [DEV]          wait for one message, print it, reply
 *   ivshmem-msg send  [DEV] TEXT     send TEXT to the serving peer, wait for
 *                                    the reply
 *
 * The serving side announces its peer ID in the shared memory (no ivshmem
 * device can enumerate its peers), the sender writes the text next to it
 * and rings that peer's vector 0; the reply comes back on the sender's
 * vector 0. Build: cc -O2 -I../../uapi -o ivshmem-msg ivshmem-msg.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/ivshmem.h>

#define MSG_MAGIC	0x4d534731	/* "MSG1" */

/* The layout both sides agree on, at offset 0 of the shared memory. */
struct mailbox {
	volatile uint32_t magic;	/* MSG_MAGIC once a server is up */
	volatile uint32_t server_peer;	/* the serving peer's ID */
	volatile uint32_t sender_peer;	/* the sending peer's ID */
	volatile uint32_t pad;
	char text[240];			/* the message, NUL-terminated */
	char reply[256];		/* the reply, NUL-terminated */
};

struct ctx {
	int fd;
	int efd;
	struct ivshmem_info info;
	struct mailbox *mb;
};

static void die(const char *what)
{
	fprintf(stderr, "ivshmem-msg: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void open_dev(struct ctx *c, const char *path, int need_doorbell)
{
	struct ivshmem_eventfd bind = { .vector = 0 };

	c->fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		die(path);
	if (ioctl(c->fd, IVSHMEM_IOCTL_INFO, &c->info))
		die("IVSHMEM_IOCTL_INFO");
	c->mb = mmap(NULL, sizeof(*c->mb), PROT_READ | PROT_WRITE, MAP_SHARED,
		     c->fd, 0);
	if (c->mb == MAP_FAILED)
		die("mmap");
	if (!need_doorbell)
		return;
	if (!(c->info.flags & IVSHMEM_INFO_RECEIVE)) {
		fprintf(stderr, "ivshmem-msg: %s has no doorbell (no MSI-X)\n",
			path);
		exit(1);
	}
	c->efd = eventfd(0, EFD_CLOEXEC);
	bind.fd = c->efd;
	if (c->efd < 0 || ioctl(c->fd, IVSHMEM_IOCTL_SET_EVENTFD, &bind))
		die("IVSHMEM_IOCTL_SET_EVENTFD");
}

static void ring(struct ctx *c, uint32_t peer)
{
	struct ivshmem_ring r = { .peer = peer, .vector = 0 };

	if (ioctl(c->fd, IVSHMEM_IOCTL_RING, &r))
		die("IVSHMEM_IOCTL_RING");
}

/* Block until our vector 0 fires, or @ms pass. */
static int wait_ring(struct ctx *c, int ms)
{
	struct pollfd p = { .fd = c->efd, .events = POLLIN };
	uint64_t n;

	if (poll(&p, 1, ms) != 1)
		return -1;
	return read(c->efd, &n, sizeof(n)) == sizeof(n) ? 0 : -1;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmd_info(struct ctx *c, const char *path)
{
	unsigned int v;

	printf("%s: %llu bytes shared, peer %u, %u vector(s)%s%s%s",
	       path, (unsigned long long)c->info.size, c->info.peer_id,
	       c->info.vectors,
	       c->info.flags & IVSHMEM_INFO_MAP_WB ? ", write-back mmap" : "",
	       c->info.flags & IVSHMEM_INFO_RECEIVE ? ", doorbell" : "",
	       c->info.flags & IVSHMEM_INFO_ACRN ? ", ACRN region " : "");
	if (c->info.flags & IVSHMEM_INFO_ACRN)
		printf("0x%x", c->info.region_id);
	printf("\n");
	for (v = 0; v < c->info.vectors; v++)
		printf("  vector %u: %llu interrupt(s)\n", v,
		       (unsigned long long)c->info.irq_count[v]);
	return 0;
}

static int cmd_serve(struct ctx *c)
{
	memset(c->mb->text, 0, sizeof(c->mb->text));
	c->mb->server_peer = c->info.peer_id;
	__sync_synchronize();
	c->mb->magic = MSG_MAGIC;
	printf("peer %u: waiting for a message on vector 0\n",
	       c->info.peer_id);
	fflush(stdout);
	if (wait_ring(c, 600000)) {
		fprintf(stderr, "ivshmem-msg: no message within 10 minutes\n");
		return 1;
	}
	printf("peer %u: doorbell from peer %u: \"%.*s\"\n", c->info.peer_id,
	       c->mb->sender_peer, (int)sizeof(c->mb->text), c->mb->text);
	snprintf(c->mb->reply, sizeof(c->mb->reply),
		 "peer %u got your %zu bytes", c->info.peer_id,
		 strnlen(c->mb->text, sizeof(c->mb->text)));
	__sync_synchronize();
	c->mb->magic = 0;
	ring(c, c->mb->sender_peer);
	return 0;
}

static int cmd_send(struct ctx *c, const char *text)
{
	double t0;
	int i;

	for (i = 0; c->mb->magic != MSG_MAGIC; i++) {
		if (i == 600 * 100) {
			fprintf(stderr, "ivshmem-msg: no serving peer\n");
			return 1;
		}
		usleep(10000);
	}
	snprintf(c->mb->text, sizeof(c->mb->text), "%s", text);
	c->mb->sender_peer = c->info.peer_id;
	__sync_synchronize();
	printf("peer %u: ringing peer %u with \"%s\"\n", c->info.peer_id,
	       c->mb->server_peer, c->mb->text);
	fflush(stdout);
	t0 = now_us();
	ring(c, c->mb->server_peer);
	if (wait_ring(c, 10000)) {
		fprintf(stderr, "ivshmem-msg: no reply within 10 s\n");
		return 1;
	}
	printf("peer %u: reply \"%.*s\" after %.0f us\n", c->info.peer_id,
	       (int)sizeof(c->mb->reply), c->mb->reply, now_us() - t0);
	return 0;
}

/* The --help text (stdout, exit 0); without a valid command, stderr, exit 2. */
static int usage(FILE *f, int rc)
{
	fprintf(f,
		"Usage: ivshmem-msg COMMAND [DEV] [TEXT]\n"
		"Pass a message between two VMs through the ivshmem guest driver:\n"
		"mmap the shared memory, bind an eventfd to vector 0, ring a peer's\n"
		"doorbell. DEV is the device node (default /dev/ivshmem0).\n"
		"\n"
		"Commands:\n"
		"  info [DEV]          print what the driver reports: size, peer ID, vectors,\n"
		"                      write-back mmap, doorbell, ACRN region\n"
		"  serve [DEV]         announce this peer in the shared memory, wait for one\n"
		"                      message, print it and ring a reply back\n"
		"  send [DEV] TEXT     send TEXT to the serving peer, ring its vector 0 and\n"
		"                      wait up to 10 s for the reply\n"
		"  --help              show this help and exit\n"
		"\n"
		"serve and send need a device with doorbells (ivshmem-doorbell on\n"
		"QEMU, MSI-X); info works on any device.\n"
		"\n"
		"Exit status: 0 on success, 1 on a device error or a missing reply, 2\n"
		"on a usage error.\n");
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = "/dev/ivshmem0";
	struct ctx c = { 0 };
	int a = 2;

	if (argc == 2 && !strcmp(argv[1], "--help"))
		return usage(stdout, 0);
	if (argc < 2)
		goto usage;
	if (argc > 2 && !strncmp(argv[2], "/dev/", 5))
		path = argv[a++];
	if (!strcmp(argv[1], "info") && argc == a) {
		open_dev(&c, path, 0);
		return cmd_info(&c, path);
	}
	if (!strcmp(argv[1], "serve") && argc == a) {
		open_dev(&c, path, 1);
		return cmd_serve(&c);
	}
	if (!strcmp(argv[1], "send") && argc == a + 1) {
		open_dev(&c, path, 1);
		return cmd_send(&c, argv[a]);
	}
usage:
	return usage(stderr, 2);
}
