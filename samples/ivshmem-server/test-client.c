// SPDX-License-Identifier: GPL-2.0
/*
 * test-client - self-test for ivshmem-server
 *
 * Usage: test-client SERVER-COMMAND...
 *   e.g. test-client ./ivshmem-server
 *        test-client valgrind --error-exitcode=1 ./ivshmem-server
 *
 * Starts the server (the command plus its own options) several times,
 * connects clients that speak the QEMU ivshmem protocol and checks every
 * message.  Prints "ok N - ..." / "not ok N - ..." and a final line
 * "N passed, N failed"; exits non-zero if a check failed.  The server
 * logs are kept in /tmp/ivshmem-test.* on failure, or if the environment
 * variable IVSHMEM_TEST_KEEP is set.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <endian.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define __printf(a, b)	__attribute__((format(printf, a, b)))
#include <sys/wait.h>

#define MAX_IDS		256
#define MAX_VEC		64
#define TIMEOUT_MS	15000	/* generous: the server may run in valgrind */
#define QUIET_MS	300

struct peerinfo {
	int fds[MAX_VEC];
	int nfds;
	int excess;		/* fds beyond nvec */
	bool gone;
};

struct client {
	const char *name;
	int sock;
	int64_t id;
	int shm_fd;
	size_t shm_size;
	void *shm;
	unsigned int nvec;
	bool eof;
	int errors;		/* protocol violations */
	int setup_order[MAX_IDS];	/* other IDs, in setup order */
	int nsetup;
	struct peerinfo peers[MAX_IDS];
};

struct server {
	pid_t pid;
	char log[256];
};

static char **server_cmd;
static int server_cmd_len;
static char tmpdir[64];
static char sock_path[128];
static int npass, nfail;

static void __printf(2, 3)
ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		npass++;
	else
		nfail++;
	printf("%sok %d - ", cond ? "" : "not ", npass + nfail);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void __printf(1, 2) diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- server control ----------------------------------------------------- */

static bool log_contains(const struct server *srv, const char *needle)
{
	char buf[1 << 16];
	bool found = false;
	ssize_t n;
	int fd;

	fd = open(srv->log, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		found = strstr(buf, needle);
	}
	close(fd);
	return found;
}

static void dump_log(const struct server *srv)
{
	char line[512];
	FILE *f = fopen(srv->log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("#   | %s", line);
	fclose(f);
}

static void kill_server(struct server *srv);

/* Start the server with extra options; wait for "listening on" if asked. */
static int start_server(struct server *srv, bool wait_ready, ...)
{
	static int seq;
	char *argv[64];
	const char *arg;
	va_list ap;
	int argc = 0, i, fd;

	snprintf(srv->log, sizeof(srv->log), "%s/server-%d.log", tmpdir,
		 seq++);
	for (i = 0; i < server_cmd_len && argc < 40; i++)
		argv[argc++] = server_cmd[i];
	va_start(ap, wait_ready);
	while ((arg = va_arg(ap, const char *)) && argc < 63)
		argv[argc++] = (char *)arg;
	va_end(ap);
	argv[argc] = NULL;

	srv->pid = fork();
	if (srv->pid < 0)
		return -1;
	if (!srv->pid) {
		fd = open(srv->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
			if (fd > 2)
				close(fd);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (!wait_ready)
		return 0;
	for (i = 0; i < TIMEOUT_MS / 20; i++) {
		if (log_contains(srv, "listening on"))
			return 0;
		if (waitpid(srv->pid, NULL, WNOHANG) == srv->pid) {
			srv->pid = -1;
			dump_log(srv);
			return -1;
		}
		sleep_ms(20);
	}
	dump_log(srv);
	kill_server(srv);
	return -1;
}

/* Wait for the server to exit; returns its wait status or -1 on timeout. */
static int wait_server(struct server *srv, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int status;

	if (srv->pid <= 0)
		return -1;
	while (now_ms() < end) {
		if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
			srv->pid = -1;
			return status;
		}
		sleep_ms(10);
	}
	return -1;
}

static void kill_server(struct server *srv)
{
	if (srv->pid > 0) {
		kill(srv->pid, SIGKILL);
		waitpid(srv->pid, NULL, 0);
		srv->pid = -1;
	}
}

static bool exited_with(int status, int code)
{
	return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* Under valgrind, the log must report no errors. */
static void check_valgrind(const struct server *srv, const char *what)
{
	if (!log_contains(srv, "ERROR SUMMARY:"))
		return;
	ok(log_contains(srv, "ERROR SUMMARY: 0 errors"),
	   "%s: valgrind reports no errors", what);
}

/* ---- protocol client ---------------------------------------------------- */

/* 0: message, 1: EOF, -1: timeout or error */
static int recv_msg(int sock, int64_t *val, int *fd, int timeout_ms)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	uint64_t le;
	size_t got = 0;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cmsg;
	ssize_t n;

	*fd = -1;
	while (got < sizeof(le)) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -1;
		iov.iov_base = (char *)&le + got;
		iov.iov_len = sizeof(le) - got;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return got ? -1 : 1;
		for (cmsg = CMSG_FIRSTHDR(&msg); cmsg;
		     cmsg = CMSG_NXTHDR(&msg, cmsg)) {
			int nfd, i, f;

			if (cmsg->cmsg_level != SOL_SOCKET ||
			    cmsg->cmsg_type != SCM_RIGHTS)
				continue;
			nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < nfd; i++) {
				memcpy(&f, CMSG_DATA(cmsg) + i * sizeof(int),
				       sizeof(int));
				if (*fd < 0)
					*fd = f;
				else
					close(f);	/* protocol: one fd */
			}
		}
		got += n;
	}
	*val = (int64_t)le64toh(le);
	return 0;
}

static void client_close(struct client *c)
{
	int id, i;

	if (c->shm)
		munmap(c->shm, c->shm_size);
	if (c->shm_fd >= 0)
		close(c->shm_fd);
	for (id = 0; id < MAX_IDS; id++)
		for (i = 0; i < c->peers[id].nfds; i++)
			close(c->peers[id].fds[i]);
	if (c->sock >= 0)
		close(c->sock);
	free(c);
}

static void apply_msg(struct client *c, int64_t val, int fd)
{
	struct peerinfo *p;
	int i;

	if (val < 0 || val >= MAX_IDS) {
		diag("%s: unexpected message %" PRId64 " fd %d", c->name,
		     val, fd);
		c->errors++;
		if (fd >= 0)
			close(fd);
		return;
	}
	p = &c->peers[val];
	if (fd < 0) {
		/* disconnect */
		if (val == c->id || !p->nfds) {
			diag("%s: bad disconnect for %" PRId64, c->name, val);
			c->errors++;
		}
		for (i = 0; i < p->nfds; i++)
			close(p->fds[i]);
		p->nfds = 0;
		p->gone = true;
		return;
	}
	if (p->nfds >= (int)c->nvec) {
		p->excess++;
		c->errors++;
		close(fd);
		return;
	}
	if (!p->nfds && val != c->id && c->nsetup < MAX_IDS &&
	    !c->peers[c->id].nfds)
		c->setup_order[c->nsetup++] = val;
	p->gone = false;
	p->fds[p->nfds++] = fd;
}

/* Receive and apply up to n messages; returns how many arrived. */
static int recv_n(struct client *c, int n, int timeout_ms)
{
	int64_t val;
	int i, fd, r;

	for (i = 0; i < n; i++) {
		r = recv_msg(c->sock, &val, &fd, timeout_ms);
		if (r) {
			c->eof |= r == 1;
			break;
		}
		apply_msg(c, val, fd);
	}
	return i;
}

/* Apply messages until the socket has been quiet for QUIET_MS. */
static int drain(struct client *c)
{
	return recv_n(c, INT32_MAX, QUIET_MS);
}

static int connect_sock(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	strcpy(addr.sun_path, sock_path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Connect and check the setup sequence: version 0, own ID, -1 with the shm
 * fd, N fds per existing peer, N fds with the own ID.  With verbose, every
 * step is a test.  Returns NULL if the connection failed.
 */
static struct client *client_open(const char *name, unsigned int nvec,
				  bool verbose)
{
	struct client *c = calloc(1, sizeof(*c));
	int64_t val;
	struct stat st;
	int fd, r, i;
	bool good;

	if (!c)
		return NULL;
	c->name = name;
	c->nvec = nvec;
	c->shm_fd = -1;
	c->id = -1;
	c->sock = connect_sock();
	if (c->sock < 0) {
		ok(false, "%s: connect: %s", name, strerror(errno));
		free(c);
		return NULL;
	}

	r = recv_msg(c->sock, &val, &fd, TIMEOUT_MS);
	good = !r && val == 0 && fd < 0;
	if (verbose || !good)
		ok(good, "%s: first message is protocol version 0 without fd",
		   name);
	if (fd >= 0)
		close(fd);

	r = recv_msg(c->sock, &val, &fd, TIMEOUT_MS);
	good = !r && val >= 0 && val < MAX_IDS && fd < 0;
	if (verbose || !good)
		ok(good, "%s: second message is own ID (%" PRId64 ") without fd",
		   name, r ? -1 : val);
	if (fd >= 0)
		close(fd);
	if (!good)
		goto fail;
	c->id = val;

	r = recv_msg(c->sock, &val, &fd, TIMEOUT_MS);
	good = !r && val == -1 && fd >= 0 && !fstat(fd, &st);
	if (verbose || !good)
		ok(good, "%s: third message is -1 with the shared memory fd",
		   name);
	if (!good) {
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	c->shm_fd = fd;
	c->shm_size = st.st_size;
	c->shm = mmap(NULL, c->shm_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	if (c->shm == MAP_FAILED) {
		c->shm = NULL;
		ok(false, "%s: mmap shared memory: %s", name, strerror(errno));
		goto fail;
	}

	/* peers, then self: stop once all own vectors arrived */
	while (c->peers[c->id].nfds < (int)nvec) {
		r = recv_msg(c->sock, &val, &fd, TIMEOUT_MS);
		if (r) {
			ok(false, "%s: setup cut short (%s)", name,
			   r == 1 ? "EOF" : "timeout");
			goto fail;
		}
		if (val == c->id && fd < 0) {
			ok(false, "%s: own ID without fd in setup", name);
			goto fail;
		}
		apply_msg(c, val, fd);
	}
	good = !c->errors;
	for (i = 0; i < c->nsetup; i++)
		if (c->peers[c->setup_order[i]].nfds != (int)nvec)
			good = false;
	if (verbose || !good)
		ok(good, "%s: got %u eventfds for each of %d peers and itself",
		   name, nvec, c->nsetup);
	return c;
fail:
	client_close(c);
	return NULL;
}

static bool fd_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

/* Ring @to's vector @v through @from's copy of its eventfd. */
static bool doorbell(struct client *from, struct client *to, unsigned int v)
{
	uint64_t one = 1, got = 0;
	unsigned int i;
	bool good = true;

	if (from->peers[to->id].nfds <= (int)v ||
	    to->peers[to->id].nfds <= (int)v)
		return false;
	if (write(from->peers[to->id].fds[v], &one, 8) != 8)
		return false;
	if (!fd_readable(to->peers[to->id].fds[v], 2000))
		return false;
	if (read(to->peers[to->id].fds[v], &got, 8) != 8 || got != 1)
		good = false;
	/* no other vector of the target fired */
	for (i = 0; i < to->nvec; i++)
		if (i != v && fd_readable(to->peers[to->id].fds[i], 0))
			good = false;
	return good;
}

static bool setup_is(const struct client *c, int n, ...)
{
	va_list ap;
	bool good = c->nsetup == n;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		if (va_arg(ap, int) != (i < c->nsetup ? c->setup_order[i] : -1))
			good = false;
	va_end(ap);
	return good;
}

static bool peer_known(const struct client *c, int id)
{
	return c->peers[id].nfds == (int)c->nvec && !c->peers[id].gone;
}

/* Wait until @c saw @id leave (consuming messages). */
static bool saw_leave(struct client *c, int id)
{
	long long end = now_ms() + TIMEOUT_MS;

	while (!c->peers[id].gone && now_ms() < end)
		if (recv_n(c, 1, TIMEOUT_MS) != 1)
			break;
	return c->peers[id].gone && !c->peers[id].nfds;
}

static bool wait_log(const struct server *srv, const char *needle)
{
	int i;

	for (i = 0; i < TIMEOUT_MS / 20; i++) {
		if (log_contains(srv, needle))
			return true;
		sleep_ms(20);
	}
	return false;
}

/* ---- test groups -------------------------------------------------------- */

static void test_protocol(void)
{
	struct client *a, *b, *c, *d, *e, *x;
	char pid_file[160], line[64];
	struct server srv, srv2;
	int status, id, fd, s1, s2, n;
	uint64_t cnt;
	bool good;

	snprintf(pid_file, sizeof(pid_file), "%s/server.pid", tmpdir);
	ok(!start_server(&srv, true, "-F", "-v", "-S", sock_path, "-n", "2",
			 "-l", "1M", "-p", pid_file, NULL),
	   "server starts (2 vectors, 1M)");
	if (srv.pid <= 0)
		return;

	fd = open(pid_file, O_RDONLY);
	n = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
	if (fd >= 0)
		close(fd);
	line[n > 0 ? n : 0] = '\0';
	ok(n > 0 && atoi(line) > 0, "pid file written (%d)", atoi(line));

	a = client_open("A", 2, true);
	if (!a)
		goto out;
	ok(a->id == 0, "A: first peer gets ID 0");
	ok(a->nsetup == 0, "A: no other peers announced");
	ok(a->shm_size == 1 << 20, "A: shared memory is 1M (%zu)",
	   a->shm_size);

	b = client_open("B", 2, true);
	if (!b)
		goto out;
	ok(b->id == 1, "B: second peer gets ID 1");
	ok(setup_is(b, 1, 0), "B: setup announced peer 0 only");
	ok(recv_n(a, 2, TIMEOUT_MS) == 2 && peer_known(a, 1) && !a->errors,
	   "A: receives B's 2 eventfds with ID 1");
	ok(wait_log(&srv, "peer 1 connected"), "server log: peer 1 connected");

	memcpy(a->shm, "hello from A", 13);
	ok(!memcmp(b->shm, "hello from A", 13),
	   "A and B see the same shared memory");
	memcpy((char *)b->shm + a->shm_size - 8, "B-tail", 7);
	ok(!memcmp((char *)a->shm + a->shm_size - 8, "B-tail", 7),
	   "B's write at the end is visible to A");

	ok(doorbell(b, a, 1), "B rings A vector 1: only A's vector 1 fires");
	ok(doorbell(a, b, 0), "A rings B vector 0: only B's vector 0 fires");
	ok(doorbell(a, a, 1), "A rings itself on vector 1");

	c = client_open("C", 2, true);
	if (!c)
		goto out;
	ok(c->id == 2, "C: third peer gets ID 2");
	ok(setup_is(c, 2, 0, 1), "C: setup announced peers 0 then 1");
	ok(recv_n(a, 2, TIMEOUT_MS) == 2 && peer_known(a, 2),
	   "A: receives C's eventfds");
	ok(recv_n(b, 2, TIMEOUT_MS) == 2 && peer_known(b, 2),
	   "B: receives C's eventfds");
	ok(doorbell(c, b, 1), "C rings B vector 1");
	ok(doorbell(b, c, 0), "B rings C vector 0");

	client_close(c);
	ok(saw_leave(a, 2) && !a->errors, "A: told that peer 2 left (no fd)");
	ok(saw_leave(b, 2) && !b->errors, "B: told that peer 2 left (no fd)");
	ok(wait_log(&srv, "peer 2 left"), "server log: peer 2 left");

	d = client_open("D", 2, false);
	ok(d && d->id == 3,
	   "D: next peer gets ID 3 (IDs are not reused at once, like QEMU)");
	ok(d && setup_is(d, 2, 0, 1), "D: setup announced peers 0 and 1");
	ok(recv_n(a, 2, TIMEOUT_MS) == 2 && peer_known(a, 3),
	   "A: receives D's eventfds");
	recv_n(b, 2, TIMEOUT_MS);

	/* clients that give up mid-setup */
	s1 = connect_sock();
	if (s1 >= 0)
		close(s1);
	s2 = connect_sock();
	if (s2 >= 0) {
		int64_t v;

		if (!recv_msg(s2, &v, &fd, TIMEOUT_MS) && fd >= 0)
			close(fd);
		close(s2);
	}
	x = client_open("X", 2, false);
	if (x)
		client_close(x);
	drain(a);
	drain(b);
	good = true;
	for (id = 4; id < MAX_IDS; id++)
		if (a->peers[id].nfds || b->peers[id].nfds)
			good = false;
	ok(s1 >= 0 && s2 >= 0 && good && !a->errors && !b->errors,
	   "clients quitting mid-setup: others see consistent connect/leave");
	ok(kill(srv.pid, 0) == 0 && waitpid(srv.pid, NULL, WNOHANG) == 0,
	   "server survives clients quitting mid-setup");

	e = client_open("E", 2, false);
	ok(e && e->id > 3 && setup_is(e, 3, 0, 1, 3),
	   "E: gets a fresh ID (%d) and exactly peers 0, 1, 3",
	   e ? (int)e->id : -1);
	if (e) {
		ok(recv_n(a, 2, TIMEOUT_MS) == 2 && peer_known(a, e->id),
		   "A: receives E's eventfds");
		recv_n(b, 2, TIMEOUT_MS);
		recv_n(d, 2, TIMEOUT_MS);
		ok(doorbell(e, d, 1), "E rings D vector 1");
	}

	/* a second server on the same socket must refuse to start */
	start_server(&srv2, false, "-F", "-S", sock_path, NULL);
	status = wait_server(&srv2, TIMEOUT_MS);
	ok(exited_with(status, 1) && log_contains(&srv2, "in use"),
	   "second server on a live socket refuses to start");
	kill_server(&srv2);
	check_valgrind(&srv2, "second server");
	drain(a);
	ok(!a->errors && peer_known(a, 1) && peer_known(a, 3),
	   "A: state consistent after the probe of the second server");

	/* a peer sending data is disconnected, as in QEMU's server */
	if (write(d->sock, "x", 1) == 1)
		ok(saw_leave(a, 3), "peer that sends data is disconnected");
	client_close(d);
	drain(b);

	kill(srv.pid, SIGTERM);
	status = wait_server(&srv, TIMEOUT_MS);
	ok(exited_with(status, 0), "SIGTERM: server exits with status 0");
	ok(access(sock_path, F_OK) && errno == ENOENT,
	   "SIGTERM: socket file removed");
	ok(access(pid_file, F_OK) && errno == ENOENT,
	   "SIGTERM: pid file removed");
	ok(recv_n(a, 1, TIMEOUT_MS) == 0 && a->eof, "A: sees EOF on shutdown");
	ok(!fd_readable(a->peers[1].fds[0], 0) &&
	   write(a->peers[1].fds[0], &(uint64_t){1}, 8) == 8 &&
	   read(b->peers[1].fds[0], &cnt, 8) == 8 && cnt == 1,
	   "eventfds still work between peers after the server is gone");
	check_valgrind(&srv, "protocol server");
	if (e)
		client_close(e);
	client_close(b);
	client_close(a);
out:
	if (srv.pid > 0) {
		dump_log(&srv);
		kill_server(&srv);
	}
}

/* Clients that do not read while many peers come: nothing may be lost. */
static void test_slow_readers(void)
{
	struct client *z[8], *w;
	struct server srv;
	int i, id, status;
	bool good = true;

	ok(!start_server(&srv, true, "-F", "-v", "-S", sock_path, "-n", "64",
			 "-l", "3M", NULL),
	   "server starts (64 vectors, 3M)");
	if (srv.pid <= 0)
		return;
	for (i = 0; i < 8; i++) {
		/* each opens fully, then stops reading */
		z[i] = client_open("Z", 64, false);
		if (!z[i] || z[i]->id != i)
			good = false;
	}
	ok(good, "8 clients connect with IDs 0..7, 64 eventfds each");
	if (!good)
		goto out;
	ok(z[0]->shm_size == 4 << 20, "size 3M rounded up to 4M (%zu)",
	   z[0]->shm_size);
	w = client_open("W", 64, false);
	ok(w && w->id == 8 && w->nsetup == 8,
	   "W sees all 8 earlier peers with 64 eventfds each");
	good = true;
	for (i = 0; i < 8; i++) {
		recv_n(z[i], (8 - i) * 64, TIMEOUT_MS);
		for (id = 0; id <= 8; id++)
			if (!peer_known(z[i], id))
				good = false;
		if (z[i]->errors || drain(z[i]))
			good = false;
	}
	ok(good, "each slow client finally gets all 9 x 64 eventfds, no more");
	ok(w && doorbell(z[0], w, 63) && doorbell(w, z[7], 0),
	   "doorbells on vectors 63 and 0 work");
	if (w)
		client_close(w);
	for (i = 0; i < 8; i++)
		client_close(z[i]);
	kill(srv.pid, SIGINT);
	status = wait_server(&srv, TIMEOUT_MS);
	ok(exited_with(status, 0), "SIGINT: server exits with status 0");
	check_valgrind(&srv, "slow-reader server");
	return;
out:
	dump_log(&srv);
	kill_server(&srv);
}

static int run_quick(const char *what, int expect, ...)
{
	struct server srv;
	char *argv[16] = { NULL };
	const char *arg;
	va_list ap;
	int n = 0, status;

	va_start(ap, expect);
	while ((arg = va_arg(ap, const char *)) && n < 15)
		argv[n++] = (char *)arg;
	va_end(ap);
	argv[n] = NULL;
	start_server(&srv, false, argv[0], argv[1], argv[2], argv[3],
		     argv[4], argv[5], argv[6], argv[7], NULL);
	status = wait_server(&srv, TIMEOUT_MS);
	ok(exited_with(status, expect), "%s", what);
	if (!exited_with(status, expect))
		dump_log(&srv);
	check_valgrind(&srv, what);
	kill_server(&srv);
	return status;
}

static void stop(struct server *srv, const char *what)
{
	int status;

	kill(srv->pid, SIGTERM);
	status = wait_server(srv, TIMEOUT_MS);
	ok(exited_with(status, 0), "%s: clean exit", what);
	check_valgrind(srv, what);
	kill_server(srv);
}

static void test_options_and_backing(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char path[160], shm_name[64], shm_path[96], big[160];
	struct server srv;
	struct client *c;
	struct stat st;
	char buf[16];
	int fd;

	run_quick("-n 0 is rejected", 1, "-S", sock_path, "-n", "0", NULL);
	run_quick("-n 65 is rejected", 1, "-S", sock_path, "-n", "65", NULL);
	run_quick("-l 12X is rejected", 1, "-S", sock_path, "-l", "12X", NULL);
	run_quick("-l 0 is rejected", 1, "-S", sock_path, "-l", "0", NULL);
	run_quick("-m and -M together are rejected", 1, "-S", sock_path,
		  "-m", "x", "-M", "/tmp/x", NULL);
	run_quick("-h exits 0", 0, "-h", NULL);

	/* not a socket: refuse, leave the file alone */
	fd = open(sock_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
	run_quick("refuses a socket path that is a regular file", 1,
		  "-S", sock_path, NULL);
	ok(!stat(sock_path, &st) && S_ISREG(st.st_mode),
	   "the regular file is left in place");
	unlink(sock_path);

	/* stale socket: bound, never listening, owner gone */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(addr.sun_path, sock_path);
	if (fd >= 0) {
		if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)))
			diag("bind stale socket: %s", strerror(errno));
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/mem", tmpdir);
	ok(!start_server(&srv, true, "-F", "-v", "-S", sock_path, "-M", path,
			 "-l", "64K", NULL),
	   "starts over a stale socket file, backed by file -M %s", path);
	if (srv.pid > 0) {
		ok(log_contains(&srv, "stale"),
		   "server log: stale socket removed");
		c = client_open("F", 1, false);
		ok(!stat(path, &st) && st.st_size == 64 << 10,
		   "-M file created with size 64K");
		if (c) {
			memcpy(c->shm, "filemem", 8);
			fd = open(path, O_RDONLY);
			ok(fd >= 0 && pread(fd, buf, 8, 0) == 8 &&
			   !memcmp(buf, "filemem", 8),
			   "-M file holds what the client wrote");
			if (fd >= 0)
				close(fd);
			client_close(c);
		}
		stop(&srv, "-M file server");
	}

	/* an existing larger file is not shrunk */
	snprintf(big, sizeof(big), "%s/big", tmpdir);
	fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (ftruncate(fd, 256 << 10))
			diag("ftruncate: %s", strerror(errno));
		close(fd);
	}
	if (!start_server(&srv, true, "-F", "-v", "-S", sock_path, "-M", big,
			  "-l", "64K", NULL)) {
		c = client_open("G", 1, false);
		ok(c && c->shm_size == 256 << 10 && !stat(big, &st) &&
		   st.st_size == 256 << 10,
		   "-M larger existing file (256K) kept, not shrunk to 64K");
		if (c)
			client_close(c);
		stop(&srv, "-M big file server");
	} else {
		ok(false, "-M larger existing file: server starts");
	}

	/* -M directory: unlinked file inside */
	if (!start_server(&srv, true, "-F", "-v", "-S", sock_path, "-M", tmpdir,
			  "-l", "128K", NULL)) {
		c = client_open("H", 1, false);
		ok(c && c->shm_size == 128 << 10,
		   "-M directory: unlinked 128K file inside it");
		if (c)
			client_close(c);
		stop(&srv, "-M directory server");
	} else {
		ok(false, "-M directory: server starts");
	}

	/* -m POSIX shm */
	snprintf(shm_name, sizeof(shm_name), "ivs-test-%d", (int)getpid());
	snprintf(shm_path, sizeof(shm_path), "/dev/shm/%s", shm_name);
	if (!start_server(&srv, true, "-F", "-v", "-S", sock_path,
			  "-m", shm_name, "-l", "2M", "-n", "3", NULL)) {
		c = client_open("I", 3, false);
		ok(c && c->shm_size == 2 << 20 && !stat(shm_path, &st) &&
		   st.st_size == 2 << 20,
		   "-m %s: POSIX shm object of 2M", shm_name);
		ok(c && c->peers[c->id].nfds == 3, "-n 3: three own eventfds");
		if (c)
			client_close(c);
		stop(&srv, "-m shm server");
	} else {
		ok(false, "-m shm: server starts");
	}
	unlink(shm_path);

	/* default memfd is sealed against resizing */
	if (!start_server(&srv, true, "-F", "-v", "-S", sock_path, NULL)) {
		c = client_open("J", 1, false);
		ok(c && c->shm_size == 4 << 20, "default size is 4M");
		ok(c && ftruncate(c->shm_fd, 4096) < 0 && errno == EPERM,
		   "default memfd cannot be shrunk by a client");
		if (c)
			client_close(c);
		stop(&srv, "default server");
	} else {
		ok(false, "default options: server starts");
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SERVER-COMMAND...\n", argv[0]);
		return 2;
	}
	server_cmd = argv + 1;
	server_cmd_len = argc - 1;
	signal(SIGPIPE, SIG_IGN);
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	strcpy(tmpdir, "/tmp/ivshmem-test.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/sock", tmpdir);

	test_protocol();
	test_slow_readers();
	test_options_and_backing();

	if (!nfail && !getenv("IVSHMEM_TEST_KEEP")) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			diag("could not remove %s", tmpdir);
	} else {
		diag("logs kept in %s", tmpdir);
	}
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
