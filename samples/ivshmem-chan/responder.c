// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-chan-responder - the real-time side of the example: answer the
 * requests of ivshmem-chan-operator over an ivshmem channel (side 1 of
 * ivshmem-chan.h), polling or woken by the doorbell, optionally locked in
 * memory at a SCHED_FIFO priority.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "ivshmem-chan.h"
#include "proto.h"

static const char usage[] =
"Usage: ivshmem-chan-responder [OPTION]... DEVICE\n"
"Answer the requests of ivshmem-chan-operator over the ivshmem channel in\n"
"DEVICE (a /dev/ivshmemN, or a shared file) until SIGTERM or SIGINT.\n"
"\n"
"  -p, --poll            poll for requests (a real-time side; needs no\n"
"                        doorbell device) instead of waiting for the doorbell\n"
"  -v, --vector=V        vector to wait on in doorbell mode (default 0)\n"
"  -s, --slot-size=B     bytes per slot (default 256; both sides alike)\n"
"  -c, --slots=N         slots per ring (default 64; both sides alike)\n"
"  -n, --count=N         exit after answering N requests\n"
"  -d, --duration=S      exit after S seconds\n"
"  -F, --fifo=PRIO       mlockall() and run at SCHED_FIFO PRIO\n"
"  -q, --quiet           do not report each peer restart\n"
"  -h, --help            this text\n"
"\n"
"Prints \"responder: peer restarted\" on each -ECONNRESET and, at exit, one\n"
"line: responder: answered= resets= bad= proto= malformed=. Exit status 0\n"
"on SIGTERM, SIGINT, COUNT or DURATION; 1 on an error; 2 on a usage error.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "poll", 0, NULL, 'p' }, { "vector", 1, NULL, 'v' },
		{ "slot-size", 1, NULL, 's' }, { "slots", 1, NULL, 'c' },
		{ "count", 1, NULL, 'n' }, { "duration", 1, NULL, 'd' },
		{ "fifo", 1, NULL, 'F' }, { "quiet", 0, NULL, 'q' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	struct ivc_config cfg = { .side = 1, .notify = IVC_NOTIFY_DOORBELL,
				  .slot_size = 256, .slot_count = 64 };
	unsigned char req[IVC_SLOT_MAX], resp[IVC_SLOT_MAX];
	uint64_t answered = 0, resets = 0, malformed = 0, count = 0;
	uint64_t deadline = 0;
	int fifo = 0, quiet = 0, o, r;
	struct sigaction sa;
	struct ivc_map m;
	struct ivc c;

	while ((o = getopt_long(argc, argv, "pv:s:c:n:d:F:qh", opts,
				NULL)) != -1) {
		switch (o) {
		case 'p': cfg.notify = IVC_NOTIFY_POLL; break;
		case 'v': cfg.vector = strtoul(optarg, NULL, 0); break;
		case 's': cfg.slot_size = strtoul(optarg, NULL, 0); break;
		case 'c': cfg.slot_count = strtoul(optarg, NULL, 0); break;
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 'd': deadline = now_ns() +
			strtoull(optarg, NULL, 0) * 1000000000ULL; break;
		case 'F': fifo = atoi(optarg); break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (fifo) {
		struct sched_param sp = { .sched_priority = fifo };

		if (mlockall(MCL_CURRENT | MCL_FUTURE) ||
		    sched_setscheduler(0, SCHED_FIFO, &sp)) {
			perror("responder: mlockall/SCHED_FIFO");
			return 1;
		}
	}
	r = ivc_map(&m, argv[optind]);
	if (r) {
		fprintf(stderr, "responder: %s: %s\n", argv[optind],
			strerror(-r));
		return 1;
	}
	cfg.fd = m.flags ? m.fd : -1;
	r = ivc_open(&c, m.mem, m.size, &cfg);
	if (r) {
		fprintf(stderr, "responder: ivc_open: %s\n", strerror(-r));
		return 1;
	}
	printf("responder: attached, generation %u\n", c.gen);
	fflush(stdout);
	while (!stop && (!count || answered < count) &&
	       (!deadline || now_ns() < deadline)) {
		ssize_t n = ivc_recv(&c, req, sizeof(req), 200);
		size_t len;

		if (n == -ECONNRESET) {
			resets++;
			if (!quiet)
				printf("responder: peer restarted (generation %u)\n",
				       c.ack);
			fflush(stdout);
			continue;
		}
		if (n < 0) {
			/* Timeouts, a corrupt slot, a corrupt peer: go on. */
			continue;
		}
		len = proto_respond(resp, req, (size_t)n, ivc_payload(&c));
		if (!len) {
			malformed++;
			continue;
		}
		for (;;) {
			r = ivc_send(&c, resp, len, 200);
			if (r == -ETIMEDOUT && !stop &&
			    (!deadline || now_ns() < deadline))
				continue;
			break;
		}
		if (r == -ECONNRESET) {
			resets++;
			if (!quiet)
				printf("responder: peer restarted (generation %u)\n",
				       c.ack);
			fflush(stdout);
		} else if (!r) {
			answered++;
		}
	}
	printf("responder: answered=%llu resets=%llu bad=%llu proto=%llu "
	       "malformed=%llu\n", (unsigned long long)answered,
	       (unsigned long long)resets,
	       (unsigned long long)c.stats.bad_msgs,
	       (unsigned long long)c.stats.proto_errors,
	       (unsigned long long)malformed);
	ivc_close(&c);
	ivc_unmap(&m);
	return 0;
}
