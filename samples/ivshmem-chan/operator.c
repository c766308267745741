// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-chan-operator - send commands over an ivshmem channel and check
 * the responses (side 0 of ivshmem-chan.h; ivshmem-chan-responder is
 * side 1).
 *
 * Each request carries its own sequence number and a payload computed from
 * it; the responder answers with the same number, a hash of the request it
 * received and the payload transformed. The operator checks all three
 * itself (not the library's counters): a response that is missing is
 * "lost", one for an earlier request "duplicated", one with a wrong hash
 * or payload "corrupted". A request whose response is lost to a responder
 * restart (-ECONNRESET) is sent again, so a restart loses nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ivshmem-chan.h"
#include "proto.h"

static const char usage[] =
"Usage: ivshmem-chan-operator [OPTION]... DEVICE\n"
"Send COUNT requests over the ivshmem channel in DEVICE (a /dev/ivshmemN,\n"
"or a shared file) to ivshmem-chan-responder and check each response.\n"
"\n"
"  -n, --count=N         requests to send (default 1000)\n"
"  -p, --poll            poll for responses instead of waiting for the\n"
"                        doorbell (needs no doorbell device)\n"
"  -v, --vector=V        vector to wait on in doorbell mode (default 0)\n"
"  -s, --slot-size=B     bytes per slot (default 256; both sides alike)\n"
"  -c, --slots=N         slots per ring (default 64; both sides alike)\n"
"  -t, --timeout=MS      one send or receive wait (default 1000)\n"
"  -g, --give-up=MS      count a request lost after MS without a valid\n"
"                        response, not counting time the operator was\n"
"                        stopped (default 20000)\n"
"  -d, --duration=S      stop after S seconds even if requests remain\n"
"  -P, --progress=N      print \"progress N\" every N requests\n"
"  -S, --stop-at=N       after N answered requests print \"stopped N\" and\n"
"                        stop (SIGSTOP) until continued: a test restarts\n"
"                        the peer meanwhile\n"
"  -w, --window=W        requests in flight at once (default 1: send,\n"
"                        wait for the response, send the next)\n"
"  -f, --fuzzed          the peer is hostile: report errors, exit 0\n"
"  -h, --help            this text\n"
"\n"
"Prints one line: chan: mode=... requests= ok= lost= duplicated=\n"
"corrupted= resets= bad= proto= p50_us= p99_us= rate=, and a \"bench\"\n"
"line. Exit status: 0 when every request was answered correctly (with\n"
"--fuzzed: when it ran to its end), 1 otherwise, 2 on a usage error.\n";

#define LAT_MAX	(1UL << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", 1, NULL, 'n' }, { "poll", 0, NULL, 'p' },
		{ "vector", 1, NULL, 'v' }, { "slot-size", 1, NULL, 's' },
		{ "slots", 1, NULL, 'c' }, { "timeout", 1, NULL, 't' },
		{ "give-up", 1, NULL, 'g' }, { "duration", 1, NULL, 'd' },
		{ "progress", 1, NULL, 'P' }, { "fuzzed", 0, NULL, 'f' },
		{ "stop-at", 1, NULL, 'S' },
		{ "window", 1, NULL, 'w' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	struct ivc_config cfg = { .side = 0, .notify = IVC_NOTIFY_DOORBELL,
				  .slot_size = 256, .slot_count = 64 };
	unsigned long count = 1000, progress = 0, done = 0, nlat, nl;
	unsigned long stop_at = 0;
	uint64_t ok = 0, lost = 0, dup = 0, corrupt = 0, resets = 0;
	uint64_t timeouts = 0, others = 0, t0, t_end, deadline = 0;
	int timeout = 1000, give_up = 20000, fuzzed = 0, o, r;
	unsigned char req[PROTO_MAX], resp[IVC_SLOT_MAX];
	uint32_t *lat, seq, hash, plen, next_send = 0, next_resp = 0;
	uint32_t window = 1;
	uint64_t *sent_at;
	struct ivc_map m;
	struct ivc c;
	double secs;

	while ((o = getopt_long(argc, argv, "n:pv:s:c:t:g:d:P:S:fw:h", opts,
				NULL)) != -1) {
		switch (o) {
		case 'n': count = strtoul(optarg, NULL, 0); break;
		case 'p': cfg.notify = IVC_NOTIFY_POLL; break;
		case 'v': cfg.vector = strtoul(optarg, NULL, 0); break;
		case 's': cfg.slot_size = strtoul(optarg, NULL, 0); break;
		case 'c': cfg.slot_count = strtoul(optarg, NULL, 0); break;
		case 't': timeout = atoi(optarg); break;
		case 'g': give_up = atoi(optarg); break;
		case 'd': deadline = now_ns() +
			strtoull(optarg, NULL, 0) * 1000000000ULL; break;
		case 'P': progress = strtoul(optarg, NULL, 0); break;
		case 'S': stop_at = strtoul(optarg, NULL, 0); break;
		case 'f': fuzzed = 1; break;
		case 'w': window = strtoul(optarg, NULL, 0); break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind != argc - 1 || !count || !window || window > 65536) {
		fputs(usage, stderr);
		return 2;
	}
	r = ivc_map(&m, argv[optind]);
	if (r) {
		fprintf(stderr, "operator: %s: %s\n", argv[optind], strerror(-r));
		return 1;
	}
	cfg.fd = m.flags ? m.fd : -1;
	r = ivc_open(&c, m.mem, m.size, &cfg);
	if (r) {
		fprintf(stderr, "operator: ivc_open: %s\n", strerror(-r));
		return 1;
	}
	/* Latencies of the first LAT_MAX requests make the percentiles. */
	nlat = count < LAT_MAX ? count : LAT_MAX;
	lat = calloc(nlat, sizeof(*lat));
	sent_at = calloc(window, sizeof(*sent_at));
	if (!lat || !sent_at)
		return 1;
	t0 = now_ns();
	/*
	 * Requests next_resp .. next_send - 1 are in flight (at most
	 * @window); responses come in order. After -ECONNRESET every request
	 * in flight is sent again: the reset dropped it or its response.
	 */
	while (next_resp < count) {
		uint64_t t = now_ns();
		size_t len;
		ssize_t n;

		if (deadline && t > deadline)
			break;
		if (next_send < count && next_send - next_resp < window) {
			int idle = next_send == next_resp;

			len = proto_request(req, next_send, ivc_payload(&c));
			r = ivc_send(&c, req, len, idle ? timeout : 0);
			if (r == 0) {
				if (!sent_at[next_send % window])
					sent_at[next_send % window] = now_ns();
				next_send++;
				continue;
			}
			if (r == -ECONNRESET) {
				resets++;
				next_send = next_resp;
				continue;
			}
			if (r == -ETIMEDOUT || r == -ENOTCONN)
				timeouts++;
			else
				others++;
			if (idle) {
				if (!sent_at[next_resp % window])
					sent_at[next_resp % window] = t;
				goto give_up;
			}
		}
		n = ivc_recv(&c, resp, sizeof(resp), timeout);
		if (n == -ECONNRESET) {
			resets++;
			next_send = next_resp;
			continue;
		}
		if (n < 0) {
			if (n == -ETIMEDOUT || n == -ENOTCONN)
				timeouts++;
			else
				others++;
			goto give_up;
		}
		/* Which request does it answer? Check it against that one. */
		seq = n >= 4 ? (uint32_t)resp[0] | (uint32_t)resp[1] << 8 |
			(uint32_t)resp[2] << 16 | (uint32_t)resp[3] << 24 : 0;
		if (n >= 4 && seq < next_resp) {
			dup++;
			continue;
		}
		if (n < 4 || seq >= next_send) {
			corrupt++;
			continue;
		}
		len = proto_request(req, seq, ivc_payload(&c));
		hash = ivc_fnv(IVC_FNV_INIT, req, len);
		if (proto_check_response(resp, (size_t)n, seq, hash, req, len,
					 &plen) != PROTO_OK) {
			corrupt++;
			continue;
		}
		/* Requests before it got no response: lost. */
		while (next_resp < seq) {
			sent_at[next_resp % window] = 0;
			next_resp++;
			lost++;
		}
		ok++;
		if (done < nlat)
			lat[done] = (uint32_t)((now_ns() -
					sent_at[seq % window]) / 1000);
		done++;
		sent_at[seq % window] = 0;
		next_resp++;
		if (progress && (ok + lost) % progress == 0) {
			printf("operator: progress %llu\n",
			       (unsigned long long)(ok + lost));
			fflush(stdout);
		}
		if (stop_at && ok == stop_at) {
			printf("operator: stopped %lu\n", stop_at);
			fflush(stdout);
			raise(SIGSTOP);
			/*
			 * The time it was stopped is not the peer's: the
			 * requests in flight wait --give-up from now.
			 */
			t = now_ns();
			for (seq = next_resp; seq < next_send; seq++)
				if (sent_at[seq % window])
					sent_at[seq % window] = t;
		}
		continue;
give_up:
		/* The oldest request waited too long: count it lost. */
		if (sent_at[next_resp % window] &&
		    now_ns() - sent_at[next_resp % window] >
		    (uint64_t)give_up * 1000000ULL) {
			sent_at[next_resp % window] = 0;
			lost++;
			next_resp++;
			if (next_send < next_resp)
				next_send = next_resp;
		}
	}
	t_end = now_ns();
	secs = (double)(t_end - t0) / 1e9;
	nl = done < nlat ? done : nlat;
	qsort(lat, nl, sizeof(*lat), cmp_u32);
	printf("chan: mode=%s requests=%lu ok=%llu lost=%llu duplicated=%llu "
	       "corrupted=%llu resets=%llu bad=%llu proto=%llu timeouts=%llu "
	       "other=%llu p50_us=%u p99_us=%u rate=%.0f/s\n",
	       cfg.notify == IVC_NOTIFY_POLL ? "poll" : "doorbell",
	       (unsigned long)(ok + lost), (unsigned long long)ok, (unsigned long long)lost,
	       (unsigned long long)dup, (unsigned long long)corrupt,
	       (unsigned long long)resets,
	       (unsigned long long)c.stats.bad_msgs,
	       (unsigned long long)c.stats.proto_errors,
	       (unsigned long long)timeouts, (unsigned long long)others,
	       nl ? lat[nl / 2] : 0, nl ? lat[(nl * 99) / 100] : 0,
	       secs > 0 ? (double)done / secs : 0.0);
	printf("bench chan %s window %u: n=%lu p50=%u us p99=%u us "
	       "rate=%.0f/s\n", cfg.notify == IVC_NOTIFY_POLL ? "poll" :
	       "doorbell", window, done,
	       nl ? lat[nl / 2] : 0, nl ? lat[(nl * 99) / 100] : 0,
	       secs > 0 ? (double)done / secs : 0.0);
	ivc_close(&c);
	ivc_unmap(&m);
	free(lat);
	free(sent_at);
	if (fuzzed)
		return 0;
	return ok == count && !lost && !dup && !corrupt ? 0 : 1;
}
