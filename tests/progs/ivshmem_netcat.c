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
 * and for make bench (tests/bench.py), lines "bench net ..." on stdout:
 *
 *   ivshmem_netcat stream ADDR PORT BYTES  BYTES of one buffer to ADDR:PORT
 *   ivshmem_netcat sink PORT LABEL         read one connection to its end;
 *                                          print bytes, seconds, MB/s
 *   ivshmem_netcat rr ADDR PORT TRIPS LABEL
 *                                          TRIPS 1-byte requests to
 *                                          ADDR:PORT, one in flight, each
 *                                          answered by 1 byte; print the
 *                                          round trip's p50, p99 and max
 *   ivshmem_netcat rr-echo PORT            answer each byte of one
 *                                          connection with a byte
 *
 * send, stream and rr retry the connection for 60 s; all exit non-zero on
 * any error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

/* A TCP connection to @addr:@port, tried once a second for 60 s. */
static int connect_retry(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int fd, i;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "ivshmem_netcat: bad address %s\n", addr);
		exit(1);
	}
	for (i = 0; i < 60; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		sleep(1);
	}
	die("connect");
	return -1;
}

/* One connection accepted on @port (any address). */
static int accept_one(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	int one = 1, ls, fd;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1))
		die("bind/listen");
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		die("accept");
	close(ls);
	return fd;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* @bytes of buf (a fixed pattern) to @addr:@port; no pipe, no generator. */
static int do_stream(const char *addr, int port, unsigned long long bytes)
{
	int fd = connect_retry(addr, port);

	memset(buf, 0x5a, BUF);
	while (bytes) {
		size_t n = bytes < BUF ? bytes : BUF;

		write_all(fd, buf, n);
		bytes -= n;
	}
	if (shutdown(fd, SHUT_WR))
		die("shutdown");
	/* The sink closes once it has read everything. */
	while (read(fd, buf, BUF) > 0)
		;
	close(fd);
	return 0;
}

/* Read one connection on @port to its end, timed from accept to EOF. */
static int do_sink(int port, const char *label)
{
	unsigned long long total = 0;
	double t0, t;
	ssize_t n;
	int fd;

	fd = accept_one(port);
	t0 = now_s();
	for (;;) {
		n = read(fd, buf, BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (!n)
			break;
		total += n;
	}
	t = now_s() - t0;
	close(fd);
	printf("bench net stream %s: bytes=%llu seconds=%.4f MBps=%.2f\n",
	       label, total, t, t > 0 ? total / t / 1e6 : 0.0);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void xfer_byte(int fd, int out)
{
	char c = 'r';
	ssize_t n;

	do {
		n = out ? write(fd, &c, 1) : read(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		die(out ? "write" : "read");
	if (!n) {
		fprintf(stderr, "ivshmem_netcat: the peer closed\n");
		exit(1);
	}
}

/*
 * @trips round trips of one byte each way with TCP_NODELAY, one in
 * flight, after 10 not counted (the connection's first segments).
 */
static int do_rr(const char *addr, int port, int trips, const char *label)
{
	int fd = connect_retry(addr, port), one = 1, i;
	double *rtt, t0;

	if (trips < 1) {
		fprintf(stderr, "ivshmem_netcat: rr needs at least 1 trip\n");
		return 1;
	}
	rtt = calloc(trips, sizeof(*rtt));
	if (!rtt)
		die("calloc");
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("TCP_NODELAY");
	for (i = -10; i < trips; i++) {
		t0 = now_s();
		xfer_byte(fd, 1);
		xfer_byte(fd, 0);
		if (i >= 0)
			rtt[i] = (now_s() - t0) * 1e6;
	}
	close(fd);
	qsort(rtt, trips, sizeof(*rtt), cmp_double);
	printf("bench net rr %s: n=%d p50=%.1f us p99=%.1f us max=%.1f us\n",
	       label, trips, rtt[trips / 2], rtt[(long)trips * 99 / 100],
	       rtt[trips - 1]);
	free(rtt);
	return 0;
}

/* Echo each byte of one connection on @port until the peer closes. */
static int do_rr_echo(int port)
{
	int fd = accept_one(port), one = 1;
	char c;
	ssize_t n;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("TCP_NODELAY");
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (!n)
			break;
		xfer_byte(fd, 1);
	}
	close(fd);
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
	if (argc == 5 && !strcmp(argv[1], "stream"))
		return do_stream(argv[2], atoi(argv[3]),
				 strtoull(argv[4], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "sink"))
		return do_sink(atoi(argv[2]), argv[3]);
	if (argc == 6 && !strcmp(argv[1], "rr"))
		return do_rr(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5]);
	if (argc == 3 && !strcmp(argv[1], "rr-echo"))
		return do_rr_echo(atoi(argv[2]));
	fprintf(stderr, "usage: ivshmem_netcat gen SEED BYTES | send ADDR PORT | recv PORT\n"
		"       | stream ADDR PORT BYTES | sink PORT LABEL\n"
		"       | rr ADDR PORT TRIPS LABEL | rr-echo PORT\n");
	return 2;
}
