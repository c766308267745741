// SPDX-License-Identifier: GPL-2.0
/*
 * A TCP stream for the network tests (busybox nc drops the end of a
 * stream: it closes at the end of its input with data still unsent).
 *
 *   ivshmem_netcat gen SEED BYTES        pseudo-random bytes to stdout
 *   ivshmem_netcat send ADDR PORT        stdin to ADDR:PORT, then wait for
 *                                        the receiver to close
 *   ivshmem_netcat recv PORT             one connection's bytes to stdout
 *
 * send retries the connection for 60 s; all exit non-zero on any error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF	(256 * 1024)

static char buf[BUF];

static void die(const char *what)
{
	fprintf(stderr, "ivshmem_netcat: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += w;
		n -= w;
	}
}

/* Copy @in to @out until EOF; return the bytes copied. */
static unsigned long long copy(int in, int out)
{
	unsigned long long total = 0;
	ssize_t n;

	for (;;) {
		n = read(in, buf, BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (!n)
			return total;
		write_all(out, buf, n);
		total += n;
	}
}

static int gen(unsigned long long seed, unsigned long long bytes)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	while (bytes) {
		size_t n = bytes < BUF ? bytes : BUF, i;

		for (i = 0; i < n; i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(buf + i, &x, 8);
		}
		write_all(1, buf, n);
		bytes -= n;
	}
	return 0;
}

static int do_send(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	unsigned long long n;
	int fd = -1, i;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "ivshmem_netcat: bad address %s\n", addr);
		return 1;
	}
	for (i = 0; i < 60; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		fd = -1;
		sleep(1);
	}
	if (fd < 0)
		die("connect");
	n = copy(0, fd);
	if (shutdown(fd, SHUT_WR))
		die("shutdown");
	/* The receiver closes once it has read everything. */
	while (read(fd, buf, BUF) > 0)
		;
	close(fd);
	fprintf(stderr, "ivshmem_netcat: sent %llu bytes\n", n);
	return 0;
}

static int do_recv(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	unsigned long long n;
	struct timespec t0, t1;
	int one = 1, ls, fd;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1))
		die("bind/listen");
	fprintf(stderr, "ivshmem_netcat: listening on %d\n", port);
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		die("accept");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = copy(fd, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	close(ls);
	fprintf(stderr, "IVT-NET received %llu bytes in %.1f s\n", n,
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "gen"))
		return gen(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]));
	fprintf(stderr, "usage: ivshmem_netcat gen SEED BYTES | send ADDR PORT | recv PORT\n");
	return 2;
}
