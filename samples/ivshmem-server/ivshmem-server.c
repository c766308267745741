// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-server - doorbell server for QEMU's ivshmem-doorbell device
 *
 * Speaks the protocol of QEMU's contrib/ivshmem-server (protocol version 0,
 * see QEMU docs/specs/ivshmem-spec.rst) on a UNIX stream socket.  Every
 * message is one little-endian int64, optionally with one file descriptor
 * attached as SCM_RIGHTS.
 *
 * On connect, the new peer receives:
 *   0 (protocol version, no fd)
 *   its own peer ID (no fd)
 *   -1 with the shared memory fd
 *   for every other peer, N messages <peer ID> each with one eventfd
 *   N messages <own ID> each with one of its own eventfds
 * Every other peer receives N messages <new ID> with the new eventfds.
 * On disconnect, every remaining peer receives <old ID> without fd.
 *
 * Messages are queued per peer and flushed as the socket accepts them, so a
 * slow reader never blocks the server and never loses a message.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <endian.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define __printf(a, b)	__attribute__((format(printf, a, b)))

#define IVS_PROTOCOL_VERSION	0
#define IVS_MAX_VECTORS		64
#define IVS_NR_IDS		65536	/* peer IDs are 16 bits */
#define IVS_MIN_SIZE		4096ULL
#define IVS_MAX_SIZE		(1ULL << 40)
#define IVS_MAX_HUGEPAGE	(1ULL << 30)
#define IVS_DEFAULT_SOCK	"/tmp/ivshmem_socket"
#define IVS_DEFAULT_SIZE	(4ULL << 20)
#define IVS_LISTEN_BACKLOG	64
#define IVS_QUEUE_MAX		(1U << 20)	/* messages queued per peer */
#define IVS_ACCEPT_BATCH	32
#define IVS_EPOLL_BATCH		64

/* A file descriptor shared by the server and the messages that carry it. */
struct ivs_fdref {
	int fd;
	unsigned int refs;
};

struct ivs_msg {
	int64_t val;
	struct ivs_fdref *ref;		/* NULL: no fd attached */
};

struct ivs_peer {
	struct ivs_peer *prev, *next;
	int sock;
	unsigned int id;
	bool dead;			/* to be freed by reap_peers() */
	bool announced;			/* other peers know about it */
	bool pollout;			/* EPOLLOUT is armed */
	struct ivs_fdref *vec[IVS_MAX_VECTORS];
	struct ivs_msg *q;		/* outgoing queue */
	size_t q_head, q_len, q_cap;
	size_t q_off;			/* bytes of q[q_head] already sent */
};

struct ivs_server {
	/* options */
	const char *sock_path;
	const char *shm_name;
	const char *mem_path;
	const char *pid_file;
	unsigned long long size;
	unsigned int nvec;
	bool verbose;
	bool daemonize;

	/* state */
	int listen_fd;
	int epoll_fd;
	int signal_fd;
	int reserve_fd;			/* spare fd, to shed on EMFILE */
	dev_t sock_dev;
	ino_t sock_ino;
	bool sock_bound;
	bool pid_written;
	struct ivs_fdref *shm;
	unsigned long long shm_size;
	uint16_t cur_id;
	unsigned int npeers;
	struct ivs_peer *head, *tail;
	uint64_t id_map[IVS_NR_IDS / 64];
};

/* epoll tags for the two non-peer descriptors */
static char listen_tag, signal_tag;

static const char *progname = "ivshmem-server";

static void __printf(1, 2) err_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __printf(2, 3)
dbg(const struct ivs_server *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->verbose)
		return;
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [OPTION]...\n"
		"QEMU-compatible ivshmem server (ivshmem-doorbell device).\n"
		"\n"
		"  -S PATH   UNIX socket to listen on (default %s)\n"
		"  -l SIZE   shared memory size, suffixes K, M, G, T\n"
		"            (default 4M; rounded up to a power of two >= 4K)\n"
		"  -n N      interrupt vectors per peer, 1..%d (default 1)\n"
		"  -m NAME   back the memory with POSIX shm object NAME\n"
		"  -M PATH   back the memory with file PATH (created or\n"
		"            grown, never shrunk); if PATH is a directory\n"
		"            (e.g. a hugetlbfs mount), use an unlinked file\n"
		"            inside it (without -m or -M: an anonymous,\n"
		"            size-sealed memfd)\n"
		"  -p FILE   write the server PID to FILE (removed on exit)\n"
		"  -F        stay in the foreground (the default)\n"
		"  -D        daemonize once the socket is listening\n"
		"  -v        verbose: log one line per event to stderr\n"
		"  -h, --help  show this help and exit\n"
		"\n"
		"A QEMU guest connects with\n"
		"  -chardev socket,path=PATH,id=ivs\n"
		"  -device ivshmem-doorbell,chardev=ivs,vectors=N\n"
		"SIGTERM, SIGINT or SIGHUP closes every client, removes the socket\n"
		"and the PID file and exits 0.\n",
		progname, IVS_DEFAULT_SOCK, IVS_MAX_VECTORS);
}

/* ---- file descriptor references ---------------------------------------- */

static struct ivs_fdref *fdref_new(int fd)
{
	struct ivs_fdref *ref = malloc(sizeof(*ref));

	if (!ref)
		return NULL;
	ref->fd = fd;
	ref->refs = 1;
	return ref;
}

static struct ivs_fdref *fdref_get(struct ivs_fdref *ref)
{
	if (ref)
		ref->refs++;
	return ref;
}

static void fdref_put(struct ivs_fdref *ref)
{
	if (!ref || --ref->refs)
		return;
	close(ref->fd);
	free(ref);
}

/* ---- peer IDs ----------------------------------------------------------- */

static bool id_used(const struct ivs_server *s, unsigned int id)
{
	return s->id_map[id / 64] & (1ULL << (id % 64));
}

static void id_set(struct ivs_server *s, unsigned int id, bool used)
{
	if (used)
		s->id_map[id / 64] |= 1ULL << (id % 64);
	else
		s->id_map[id / 64] &= ~(1ULL << (id % 64));
}

/*
 * Same policy as QEMU's server: start from the ID after the last one handed
 * out, skip IDs in use, wrap at 0xffff.  IDs are thus not reused at once.
 */
static int id_alloc(struct ivs_server *s)
{
	unsigned int i;

	for (i = 0; i < IVS_NR_IDS; i++) {
		uint16_t id = s->cur_id++;

		if (!id_used(s, id)) {
			id_set(s, id, true);
			return id;
		}
	}
	return -1;
}

/* ---- per-peer output queue ---------------------------------------------- */

static void peer_kill(struct ivs_peer *p)
{
	p->dead = true;
}

static void set_pollout(struct ivs_server *s, struct ivs_peer *p, bool on)
{
	struct epoll_event ev = { .data.ptr = p };

	if (p->pollout == on)
		return;
	ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0);
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, p->sock, &ev) < 0) {
		err_msg("peer %u: epoll_ctl: %s", p->id, strerror(errno));
		peer_kill(p);
		return;
	}
	p->pollout = on;
}

static int send_one(int sock, const struct ivs_msg *m, size_t off)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	int64_t le = (int64_t)htole64((uint64_t)m->val);
	struct iovec iov = {
		.iov_base = (char *)&le + off,
		.iov_len = sizeof(le) - off,
	};
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	/* the fd rides with the first byte of the message only */
	if (m->ref && !off) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &m->ref->fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Send what the socket takes; arm EPOLLOUT for the rest. */
static void peer_flush(struct ivs_server *s, struct ivs_peer *p)
{
	while (!p->dead && p->q_head < p->q_len) {
		struct ivs_msg *m = &p->q[p->q_head];
		ssize_t n = send_one(p->sock, m, p->q_off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_pollout(s, p, true);
				return;
			}
			if (errno == EPIPE || errno == ECONNRESET)
				dbg(s, "peer %u: send: %s", p->id,
				    strerror(errno));
			else
				err_msg("peer %u: send: %s, dropping it",
					p->id, strerror(errno));
			peer_kill(p);
			return;
		}
		p->q_off += n;
		if (p->q_off < sizeof(int64_t))
			continue;
		fdref_put(m->ref);
		p->q_off = 0;
		p->q_head++;
	}
	if (p->q_head == p->q_len)
		p->q_head = p->q_len = 0;
	if (!p->dead)
		set_pollout(s, p, false);
}

static void peer_queue(struct ivs_peer *p, int64_t val, struct ivs_fdref *ref)
{
	if (p->dead)
		return;
	if (p->q_len == p->q_cap && p->q_head) {
		memmove(p->q, p->q + p->q_head,
			(p->q_len - p->q_head) * sizeof(*p->q));
		p->q_len -= p->q_head;
		p->q_head = 0;
	}
	if (p->q_len == p->q_cap) {
		size_t cap = p->q_cap ? p->q_cap * 2 : 16;
		struct ivs_msg *q;

		if (cap > IVS_QUEUE_MAX) {
			err_msg("peer %u: not reading, dropping it", p->id);
			peer_kill(p);
			return;
		}
		q = realloc(p->q, cap * sizeof(*q));
		if (!q) {
			err_msg("peer %u: out of memory, dropping it", p->id);
			peer_kill(p);
			return;
		}
		p->q = q;
		p->q_cap = cap;
	}
	p->q[p->q_len].val = val;
	p->q[p->q_len].ref = fdref_get(ref);
	p->q_len++;
}

/* ---- peers -------------------------------------------------------------- */

static void peer_free(struct ivs_server *s, struct ivs_peer *p)
{
	unsigned int i;

	if (p->sock >= 0)
		close(p->sock);	/* also removes it from the epoll set */
	for (i = p->q_head; i < p->q_len; i++)
		fdref_put(p->q[i].ref);
	free(p->q);
	for (i = 0; i < s->nvec; i++)
		fdref_put(p->vec[i]);
	id_set(s, p->id, false);
	free(p);
}

static void peer_unlink(struct ivs_server *s, struct ivs_peer *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		s->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		s->tail = p->prev;
	s->npeers--;
}

/*
 * Free every peer marked dead and tell the others.  Telling them may find
 * more dead peers, which are freed in the next pass.  Peers are freed only
 * here, between two epoll batches, so no event can point to a freed peer.
 */
static void reap_peers(struct ivs_server *s)
{
	struct ivs_peer *p, *next, *q;
	bool again;

	do {
		again = false;
		for (p = s->head; p; p = next) {
			next = p->next;
			if (!p->dead)
				continue;
			again = true;
			peer_unlink(s, p);
			if (p->announced) {
				dbg(s, "peer %u left", p->id);
				for (q = s->head; q; q = q->next) {
					peer_queue(q, p->id, NULL);
					peer_flush(s, q);
				}
			} else {
				dbg(s, "peer %u gave up during setup", p->id);
			}
			peer_free(s, p);
		}
	} while (again);
}

static void shed_connection(struct ivs_server *s)
{
	int fd;

	/* out of fds: use the spare one to accept and drop the connection */
	if (s->reserve_fd < 0)
		return;
	close(s->reserve_fd);
	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void new_peer(struct ivs_server *s, int sock)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct ivs_peer *p, *q;
	unsigned int i;
	int id, fd;

	p = calloc(1, sizeof(*p));
	if (!p) {
		err_msg("out of memory, dropping new connection");
		close(sock);
		return;
	}
	p->sock = sock;
	id = id_alloc(s);
	if (id < 0) {
		err_msg("all %d peer IDs in use, dropping new connection",
			IVS_NR_IDS);
		close(sock);
		free(p);
		return;
	}
	p->id = id;
	for (i = 0; i < s->nvec; i++) {
		fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		p->vec[i] = fd < 0 ? NULL : fdref_new(fd);
		if (!p->vec[i]) {
			err_msg("peer %u: cannot create eventfd: %s", p->id,
				fd < 0 ? strerror(errno) : "out of memory");
			if (fd >= 0)
				close(fd);
			peer_free(s, p);
			return;
		}
	}
	ev.data.ptr = p;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, sock, &ev) < 0) {
		err_msg("peer %u: epoll_ctl: %s", p->id, strerror(errno));
		peer_free(s, p);
		return;
	}

	/* link it at the tail, not yet announced */
	p->prev = s->tail;
	if (s->tail)
		s->tail->next = p;
	else
		s->head = p;
	s->tail = p;
	s->npeers++;

	peer_queue(p, IVS_PROTOCOL_VERSION, NULL);
	peer_queue(p, p->id, NULL);
	peer_queue(p, -1, s->shm);
	for (q = s->head; q; q = q->next) {
		if (q == p || !q->announced || q->dead)
			continue;
		for (i = 0; i < s->nvec; i++)
			peer_queue(p, q->id, q->vec[i]);
	}
	for (i = 0; i < s->nvec; i++)
		peer_queue(p, p->id, p->vec[i]);
	peer_flush(s, p);
	if (p->dead)
		return;		/* reaped quietly: nobody heard of it */

	for (q = s->head; q; q = q->next) {
		if (q == p || !q->announced || q->dead)
			continue;
		for (i = 0; i < s->nvec; i++)
			peer_queue(q, p->id, p->vec[i]);
		peer_flush(s, q);
	}
	p->announced = true;
	dbg(s, "peer %u connected (%u peers)", p->id, s->npeers);
}

static void handle_accept(struct ivs_server *s)
{
	int i, sock;

	for (i = 0; i < IVS_ACCEPT_BATCH; i++) {
		sock = accept4(s->listen_fd, NULL, NULL,
			       SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (sock >= 0) {
			new_peer(s, sock);
			continue;
		}
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EMFILE:
		case ENFILE:
			err_msg("accept: %s, dropping a connection",
				strerror(errno));
			shed_connection(s);
			return;
		case EAGAIN:
			return;
		default:
			err_msg("accept: %s", strerror(errno));
			return;
		}
	}
}

/* ---- shared memory ------------------------------------------------------ */

static unsigned long long pow2_roundup(unsigned long long v)
{
	unsigned long long r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

/*
 * Make the backing object at least s->size bytes.  Never shrink: a larger
 * existing object is used as it is, provided its size is a power of two
 * (QEMU maps the whole object as a PCI BAR).  On hugetlbfs, where the size
 * must be a multiple of the huge page size, try larger powers of two.
 */
static int size_backing(struct ivs_server *s, int fd, const char *what)
{
	unsigned long long size = s->size;
	struct stat st;

	if (fstat(fd, &st) < 0) {
		err_msg("%s: fstat: %s", what, strerror(errno));
		return -1;
	}
	if ((unsigned long long)st.st_size > size) {
		size = st.st_size;
		if (size & (size - 1)) {
			err_msg("%s: existing size %llu is larger than %llu and not a power of two; refusing to shrink it",
				what, size, s->size);
			return -1;
		}
		err_msg("%s: keeping existing size %llu (larger than %llu)",
			what, size, s->size);
	} else if ((unsigned long long)st.st_size < size) {
		while (ftruncate(fd, size) < 0) {
			if (errno != EINVAL || size >= IVS_MAX_HUGEPAGE) {
				err_msg("%s: cannot set size to %llu: %s",
					what, size, strerror(errno));
				return -1;
			}
			size <<= 1;
		}
	}
	s->shm_size = size;
	return 0;
}

static int open_backing(struct ivs_server *s)
{
	char *name = NULL, *tmpl = NULL;
	const char *what;
	struct stat st;
	int fd;

	if (s->shm_name) {
		/* POSIX shm names are "/name" */
		if (asprintf(&name, "%s%s", s->shm_name[0] == '/' ? "" : "/",
			     s->shm_name) < 0) {
			err_msg("out of memory");
			return -1;
		}
		what = name;
		fd = shm_open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		dbg(s, "backing: POSIX shm %s", name);
	} else if (s->mem_path && !stat(s->mem_path, &st) &&
		   S_ISDIR(st.st_mode)) {
		if (asprintf(&tmpl, "%s/ivshmem.XXXXXX", s->mem_path) < 0) {
			err_msg("out of memory");
			return -1;
		}
		what = s->mem_path;
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
		dbg(s, "backing: unlinked file in %s", s->mem_path);
	} else if (s->mem_path) {
		what = s->mem_path;
		fd = open(s->mem_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		dbg(s, "backing: file %s", s->mem_path);
	} else {
		what = "memfd";
		fd = memfd_create("ivshmem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		dbg(s, "backing: memfd");
	}
	if (fd < 0) {
		err_msg("%s: %s", what, strerror(errno));
		goto fail;
	}
	if (size_backing(s, fd, what) < 0) {
		close(fd);
		goto fail;
	}
	/* nobody may resize our memfd under the peers' mappings */
	if (!s->shm_name && !s->mem_path &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL))
		dbg(s, "memfd: cannot seal: %s", strerror(errno));
	s->shm = fdref_new(fd);
	if (!s->shm) {
		err_msg("out of memory");
		close(fd);
		goto fail;
	}
	free(name);
	free(tmpl);
	return 0;
fail:
	free(name);
	free(tmpl);
	return -1;
}

/* ---- listening socket --------------------------------------------------- */

/*
 * Refuse a path in use by a live server; remove a stale socket.  Probing a
 * live server connects to it: a server of this protocol sees (and tells its
 * peers about) one short-lived peer.
 */
static int check_sock_path(struct ivs_server *s,
			   const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, ret;

	if (lstat(s->sock_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		err_msg("%s: %s", s->sock_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		err_msg("%s exists and is not a socket", s->sock_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_msg("socket: %s", strerror(errno));
		return -1;
	}
	ret = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	if (ret == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		err_msg("%s is in use by a running server", s->sock_path);
		return -1;
	}
	if (errno == ENOENT) {
		close(fd);
		return 0;
	}
	if (errno != ECONNREFUSED) {
		err_msg("%s: connect: %s", s->sock_path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	dbg(s, "removing stale socket %s", s->sock_path);
	if (unlink(s->sock_path) < 0 && errno != ENOENT) {
		err_msg("%s: unlink: %s", s->sock_path, strerror(errno));
		return -1;
	}
	return 0;
}

static int open_listen(struct ivs_server *s)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;

	if (strlen(s->sock_path) >= sizeof(addr.sun_path)) {
		err_msg("socket path too long (max %zu bytes)",
			sizeof(addr.sun_path) - 1);
		return -1;
	}
	strcpy(addr.sun_path, s->sock_path);
	if (check_sock_path(s, &addr) < 0)
		return -1;

	s->listen_fd = socket(AF_UNIX,
			      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		err_msg("socket: %s", strerror(errno));
		return -1;
	}
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		err_msg("%s: bind: %s", s->sock_path, strerror(errno));
		return -1;
	}
	s->sock_bound = true;
	if (!stat(s->sock_path, &st)) {
		s->sock_dev = st.st_dev;
		s->sock_ino = st.st_ino;
	}
	if (listen(s->listen_fd, IVS_LISTEN_BACKLOG) < 0) {
		err_msg("%s: listen: %s", s->sock_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove the socket file, unless another server has replaced it. */
static void remove_sock(struct ivs_server *s)
{
	struct stat st;

	if (!s->sock_bound)
		return;
	if (!stat(s->sock_path, &st) && st.st_dev == s->sock_dev &&
	    st.st_ino == s->sock_ino)
		unlink(s->sock_path);
}

/* ---- setup and main loop ------------------------------------------------ */

static int parse_size(const char *arg, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!isdigit((unsigned char)*arg))
		return -1;
	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'T':
		mul <<= 10;
		/* fall through */
	case 'G':
		mul <<= 10;
		/* fall through */
	case 'M':
		mul <<= 10;
		/* fall through */
	case 'K':
		mul <<= 10;
		end++;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (*end || !v || v > IVS_MAX_SIZE / mul)
		return -1;
	*out = v * mul;
	return 0;
}

/* Returns 0 to run, 1 to exit with success (-h), -1 on error. */
static int parse_args(struct ivs_server *s, int argc, char **argv)
{
	unsigned long v;
	char *end;
	int c;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = getopt_long(argc, argv, "S:l:n:m:M:p:FDvh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'S':
			s->sock_path = optarg;
			break;
		case 'l':
			if (parse_size(optarg, &s->size) < 0) {
				err_msg("invalid size '%s' (1..1T, suffixes K, M, G, T)",
					optarg);
				return -1;
			}
			break;
		case 'n':
			errno = 0;
			v = strtoul(optarg, &end, 0);
			if (errno || *end || end == optarg || v < 1 ||
			    v > IVS_MAX_VECTORS) {
				err_msg("invalid vector count '%s' (1..%d)",
					optarg, IVS_MAX_VECTORS);
				return -1;
			}
			s->nvec = v;
			break;
		case 'm':
			s->shm_name = optarg;
			break;
		case 'M':
			s->mem_path = optarg;
			break;
		case 'p':
			s->pid_file = optarg;
			break;
		case 'F':
			s->daemonize = false;
			break;
		case 'D':
			s->daemonize = true;
			break;
		case 'v':
			s->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		err_msg("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (s->shm_name && s->mem_path) {
		err_msg("-m and -M are mutually exclusive");
		return -1;
	}
	if (s->shm_name && (!s->shm_name[s->shm_name[0] == '/'] ||
			    strchr(s->shm_name + 1, '/'))) {
		err_msg("invalid POSIX shm name '%s'", s->shm_name);
		return -1;
	}
	return 0;
}

static void raise_fd_limit(struct ivs_server *s)
{
	struct rlimit rl;

	/* each peer costs 1 + vectors descriptors */
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (!setrlimit(RLIMIT_NOFILE, &rl))
		dbg(s, "fd limit raised to %llu",
		    (unsigned long long)rl.rlim_cur);
}

static int write_pid_file(struct ivs_server *s)
{
	char buf[32];
	int fd, len;

	fd = open(s->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_msg("%s: %s", s->pid_file, strerror(errno));
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, len) != len) {
		err_msg("%s: write failed", s->pid_file);
		close(fd);
		unlink(s->pid_file);
		return -1;
	}
	close(fd);
	s->pid_written = true;
	return 0;
}

static int setup_events(struct ivs_server *s, const sigset_t *sigs)
{
	struct epoll_event ev = { .events = EPOLLIN };

	s->signal_fd = signalfd(-1, sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->signal_fd < 0) {
		err_msg("signalfd: %s", strerror(errno));
		return -1;
	}
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0) {
		err_msg("epoll_create1: %s", strerror(errno));
		return -1;
	}
	ev.data.ptr = &listen_tag;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0)
		goto fail;
	ev.data.ptr = &signal_tag;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->signal_fd, &ev) < 0)
		goto fail;
	return 0;
fail:
	err_msg("epoll_ctl: %s", strerror(errno));
	return -1;
}

static void peer_event(struct ivs_server *s, struct ivs_peer *p,
		       uint32_t events)
{
	/* peers never talk: any input or a hangup ends the peer */
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		peer_kill(p);
	else if (events & EPOLLOUT)
		peer_flush(s, p);
}

/* Returns true when a termination signal arrived. */
static bool handle_signal(struct ivs_server *s)
{
	struct signalfd_siginfo si;
	bool quit = false;

	while (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		dbg(s, "got signal %u (%s), exiting", si.ssi_signo,
		    strsignal(si.ssi_signo));
		quit = true;
	}
	return quit;
}

static int run(struct ivs_server *s)
{
	struct epoll_event evs[IVS_EPOLL_BATCH];
	bool quit = false;
	int i, n;

	while (!quit) {
		n = epoll_wait(s->epoll_fd, evs, IVS_EPOLL_BATCH, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_msg("epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (i = 0; i < n; i++) {
			void *tag = evs[i].data.ptr;
			struct ivs_peer *p = tag;

			if (tag == &signal_tag)
				quit |= handle_signal(s);
			else if (tag == &listen_tag)
				handle_accept(s);
			else if (!p->dead)
				peer_event(s, p, evs[i].events);
		}
		reap_peers(s);
	}
	return 0;
}

static void cleanup(struct ivs_server *s)
{
	struct ivs_peer *p;

	/* closing the sockets is all the goodbye the peers get */
	while ((p = s->head)) {
		peer_unlink(s, p);
		peer_free(s, p);
	}
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	remove_sock(s);
	if (s->pid_written)
		unlink(s->pid_file);
	fdref_put(s->shm);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
}

int main(int argc, char **argv)
{
	struct ivs_server *s;
	sigset_t sigs;
	int ret = 1;

	if (argv[0] && strrchr(argv[0], '/'))
		progname = strrchr(argv[0], '/') + 1;
	else if (argv[0])
		progname = argv[0];

	/* large (the ID bitmap): keep it off the stack */
	s = calloc(1, sizeof(*s));
	if (!s) {
		err_msg("out of memory");
		return 1;
	}
	s->sock_path = IVS_DEFAULT_SOCK;
	s->size = IVS_DEFAULT_SIZE;
	s->nvec = 1;
	s->listen_fd = s->epoll_fd = s->signal_fd = s->reserve_fd = -1;
	ret = parse_args(s, argc, argv);
	if (ret) {
		ret = ret < 0;
		goto out;
	}
	ret = 1;

	if (s->size < IVS_MIN_SIZE || s->size & (s->size - 1)) {
		unsigned long long r = pow2_roundup(s->size);

		if (r < IVS_MIN_SIZE)
			r = IVS_MIN_SIZE;
		err_msg("size %llu rounded up to %llu (must be a power of two, at least %llu)",
			s->size, r, IVS_MIN_SIZE);
		s->size = r;
	}

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0) {
		err_msg("sigprocmask: %s", strerror(errno));
		goto out;
	}
	raise_fd_limit(s);
	s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (open_backing(s) < 0 || open_listen(s) < 0)
		goto out;
	if (s->daemonize && daemon(1, 0) < 0) {
		err_msg("daemon: %s", strerror(errno));
		goto out;
	}
	if (setup_events(s, &sigs) < 0)
		goto out;
	if (s->pid_file && write_pid_file(s) < 0)
		goto out;

	dbg(s, "listening on %s: %llu bytes, %u vector%s, pid %d",
	    s->sock_path, s->shm_size, s->nvec, s->nvec == 1 ? "" : "s",
	    (int)getpid());
	if (run(s) == 0)
		ret = 0;
out:
	cleanup(s);
	free(s);
	return ret;
}
