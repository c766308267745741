// SPDX-License-Identifier: GPL-2.0
/*
 * A TCP stream and UDP datagrams for the network tests (busybox nc drops
 * the end of a stream: it closes at the end of its input with data still
 * unsent).
 *
 *   ivshmem_netcat gen SEED BYTES        pseudo-random bytes to stdout
 *   ivshmem_netcat send ADDR PORT        stdin to ADDR:PORT, then wait for
 *                                        the receiver to close
 *   ivshmem_netcat recv PORT             one connection's bytes to stdout
 *   ivshmem_netcat udpsend ADDR PORT COUNT SIZE
 *                                        COUNT datagrams of SIZE bytes,
 *                                        as fast as the socket takes them
 *   ivshmem_netcat udprecv PORT COUNT SIZE
 *                                        count what arrives of them
 *   ivshmem_netcat udpflood ADDR PORT SECONDS
 *                                        datagrams of 1400 bytes to ADDR
 *                                        (a broadcast address needs no
 *                                        neighbour) for SECONDS, never
 *                                        blocking; print how many the
 *                                        kernel took and refused
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
 *
 * A datagram carries a header (magic, sequence number, length, FNV-1a of
 * the payload) and a payload that is a function of its sequence number.
 * udpsend first sends a hello each second until udprecv answers it (120 s
 * at most), so that no datagram reaches the port before the receiver
 * holds it, then prints "sent N errors E": N datagrams the kernel took
 * (sendto() succeeded), E refused. udprecv answers hellos, waits up to
 * 120 s for the first datagram and stops after 15 s without one (or 1 s
 * after it has all COUNT), then prints "received R lost L dup D
 * reordered O corrupt C": R datagrams read, L sequence numbers never
 * seen, D seen again, O arriving after a higher one, C with a wrong
 * magic, length, number, checksum or payload (not counted otherwise);
 * and on stderr the first and last sequence number lost.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
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
	fprintf(stderr, "ivshmem_netcat: listening on %d\n", port);
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		die("accept");
	close(ls);
	return fd;
}

static int do_send(const char *addr, int port)
{
	unsigned long long n;
	int fd = connect_retry(addr, port);

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
	struct timespec t0, t1;
	unsigned long long n;
	int fd = accept_one(port);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = copy(fd, 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	fprintf(stderr, "IVT-NET received %llu bytes in %.1f s\n", n,
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
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

#define UDP_MAGIC	0x50445649u	/* "IVDP" */
#define UDP_HELLO	0x48445649u	/* "IVDH": a header only, answered */
#define UDP_HDR		16
#define UDP_MAX		65507

struct udp_hdr {
	uint32_t magic, seq, len, sum;
};

static unsigned char dgram[UDP_MAX], want[UDP_MAX];

/* The payload of datagram @seq: @n bytes. */
static void udp_payload(unsigned char *p, size_t n, uint32_t seq)
{
	uint64_t x = (seq + 1) * 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(i & 7)) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		p[i] = x >> (8 * (i & 7));
	}
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

static int parse_size(const char *arg, size_t *size)
{
	*size = strtoul(arg, NULL, 0);
	if (*size < UDP_HDR || *size > UDP_MAX) {
		fprintf(stderr, "ivshmem_netcat: size %s: not %d to %d\n", arg,
			UDP_HDR, UDP_MAX);
		return -1;
	}
	return 0;
}

/*
 * Until the receiver answers (120 s at most): a hello each second. The
 * receiver binds its port when it is ready, so no datagram of the run
 * reaches a port that nobody holds yet (the kernel would count it only
 * as the receiver's NoPorts, before the receiver's count begins).
 */
static int udp_hello(int fd, const struct sockaddr_in *sa)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct udp_hdr h = { .magic = UDP_HELLO };
	int i;

	for (i = 0; i < 120; i++) {
		/* Unconnected: a port unreachable only fails no send. */
		if (sendto(fd, &h, sizeof(h), 0, (const struct sockaddr *)sa,
			   sizeof(*sa)) != sizeof(h) && errno != ECONNREFUSED)
			die("sendto hello");
		if (poll(&pfd, 1, 1000) > 0 &&
		    recv(fd, &h, sizeof(h), 0) == sizeof(h) &&
		    h.magic == UDP_HELLO)
			return 0;
		h.magic = UDP_HELLO;
	}
	fprintf(stderr, "ivshmem_netcat: no answer to hello in 120 s\n");
	return -1;
}

/* Datagrams to @addr:@port for @secs, whether or not anyone receives
 * them: the transmit path's load without a receiver's handshake.
 */
static int udp_flood(const char *addr, int port, const char *secs_s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	unsigned long sent = 0, errs = 0;
	time_t end = time(NULL) + strtol(secs_s, NULL, 0);
	int fd, one = 1;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "ivshmem_netcat: bad address %s\n", addr);
		return 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)))
		die("socket");
	memset(dgram, 0x5a, 1400);
	while (time(NULL) < end) {
		if (sendto(fd, dgram, 1400, MSG_DONTWAIT,
			   (struct sockaddr *)&sa, sizeof(sa)) == 1400) {
			sent++;
		} else {
			errs++;
			/* A full queue or no carrier: wait, do not spin. */
			usleep(1000);
		}
	}
	close(fd);
	printf("flood sent %lu errors %lu\n", sent, errs);
	return 0;
}

static int udp_send(const char *addr, int port, const char *count_s,
		    const char *size_s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	unsigned long count = strtoul(count_s, NULL, 0), seq, sent = 0;
	unsigned long errs = 0;
	struct udp_hdr h;
	size_t size;
	int fd;

	if (parse_size(size_s, &size))
		return 2;
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "ivshmem_netcat: bad address %s\n", addr);
		return 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket");
	if (udp_hello(fd, &sa))
		return 1;
	for (seq = 0; seq < count; seq++) {
		udp_payload(dgram + UDP_HDR, size - UDP_HDR, seq);
		h.magic = UDP_MAGIC;
		h.seq = seq;
		h.len = size;
		h.sum = fnv1a(dgram + UDP_HDR, size - UDP_HDR);
		memcpy(dgram, &h, UDP_HDR);
		/* Unconnected: an ICMP error reaches no later sendto(). */
		if (sendto(fd, dgram, size, 0, (struct sockaddr *)&sa,
			   sizeof(sa)) == (ssize_t)size)
			sent++;
		else
			errs++;
	}
	close(fd);
	printf("sent %lu errors %lu\n", sent, errs);
	return 0;
}

static int udp_recv(int port, const char *count_s, const char *size_s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	unsigned long count = strtoul(count_s, NULL, 0);
	unsigned long got = 0, uniq = 0, dup = 0, reord = 0, bad = 0;
	unsigned char *seen;
	long high = -1;
	int fd, rcvbuf = 8 << 20;
	struct sockaddr_in from;
	socklen_t from_len;
	struct pollfd pfd;
	struct udp_hdr h;
	size_t size;

	if (parse_size(size_s, &size))
		return 2;
	seen = calloc(count ? count : 1, 1);
	if (!seen)
		die("calloc");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket");
	/* Past rmem_max (root): fewer drops at a slow reader. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		die("SO_RCVBUFFORCE");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind");
	fprintf(stderr, "ivshmem_netcat: udp on %d\n", port);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		int timeout = !got ? 120000 : uniq == count ? 1000 : 15000;
		ssize_t n;
		int r = poll(&pfd, 1, timeout);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (!r)
			break;
		from_len = sizeof(from);
		n = recvfrom(fd, dgram, sizeof(dgram), 0,
			     (struct sockaddr *)&from, &from_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv");
		}
		memcpy(&h, dgram, UDP_HDR < n ? UDP_HDR : n);
		if (n == UDP_HDR && h.magic == UDP_HELLO) {
			if (sendto(fd, dgram, n, 0, (struct sockaddr *)&from,
				   from_len) != n)
				die("sendto hello");
			continue;
		}
		got++;
		if ((size_t)n != size) {
			bad++;
			continue;
		}
		memcpy(&h, dgram, UDP_HDR);
		if (h.magic != UDP_MAGIC || h.len != size || h.seq >= count ||
		    h.sum != fnv1a(dgram + UDP_HDR, size - UDP_HDR)) {
			bad++;
			continue;
		}
		udp_payload(want, size - UDP_HDR, h.seq);
		if (memcmp(want, dgram + UDP_HDR, size - UDP_HDR)) {
			bad++;
			continue;
		}
		if (seen[h.seq]) {
			dup++;
			continue;
		}
		seen[h.seq] = 1;
		uniq++;
		if ((long)h.seq < high)
			reord++;
		else
			high = h.seq;
	}
	close(fd);
	if (uniq < count) {
		unsigned long i, first = count, last = 0;

		for (i = 0; i < count; i++)
			if (!seen[i]) {
				if (first == count)
					first = i;
				last = i;
			}
		fprintf(stderr, "ivshmem_netcat: lost %lu to %lu of 0 to %lu\n",
			first, last, count - 1);
	}
	printf("received %lu lost %lu dup %lu reordered %lu corrupt %lu\n",
	       got, count - uniq, dup, reord, bad);
	free(seen);
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
	if (argc == 6 && !strcmp(argv[1], "udpsend"))
		return udp_send(argv[2], atoi(argv[3]), argv[4], argv[5]);
	if (argc == 5 && !strcmp(argv[1], "udprecv"))
		return udp_recv(atoi(argv[2]), argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "udpflood"))
		return udp_flood(argv[2], atoi(argv[3]), argv[4]);
	fprintf(stderr, "usage: ivshmem_netcat gen SEED BYTES | send ADDR PORT | recv PORT\n"
		"       | udpsend ADDR PORT COUNT SIZE | udprecv PORT COUNT SIZE\n"
		"       | udpflood ADDR PORT SECONDS\n"
		"       | stream ADDR PORT BYTES | sink PORT LABEL\n"
		"       | rr ADDR PORT TRIPS LABEL | rr-echo PORT\n");
	return 2;
}
