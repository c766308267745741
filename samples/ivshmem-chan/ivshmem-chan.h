/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ivshmem-chan - a command/response channel between two VMs in ivshmem
 * shared memory.
 *
 * Two sides, 0 and 1, share one region (a window of /dev/ivshmemN, or of
 * any shared file). Each side owns one single-producer/single-consumer
 * ring it sends on, and one control block it alone writes. A side is told
 * of new messages by a doorbell (IVSHMEM_IOCTL_RING / IVSHMEM_IOCTL_WAIT)
 * or finds them by polling, chosen per side: a real-time side may poll and
 * needs no doorbell device (a plain ivshmem device, or any shared file).
 * Needs only libc and <linux/ivshmem.h>; one header and one source file
 * (ivshmem-chan.c) to copy into a program.
 *
 * LAYOUT (fixed; every field a 32-bit little-endian word, as both VMs run
 * on the same architecture; offsets from the start of the region):
 *
 *   0      struct ivc_ctl of side 0 (64 bytes, written by side 0 only)
 *   64     struct ivc_ctl of side 1 (64 bytes, written by side 1 only)
 *   128    ring 0: slot_count slots of slot_size bytes, written by side 0
 *   128 + slot_count * slot_size
 *          ring 1: the same, written by side 1
 *
 * The region must hold IVC_REGION_BYTES(slot_size, slot_count). Both sides
 * must be configured with the same slot_size and slot_count; each checks
 * the other's.
 *
 * struct ivc_ctl (one per side; "own" = the writing side):
 *   magic       IVC_MAGIC while the side is attached, 0 after ivc_close()
 *   version     IVC_VERSION
 *   slot_size   bytes per slot, a multiple of 16, 32..65536
 *   slot_count  slots per ring, a power of two, 2..65536
 *   gen         the side's generation: a new non-zero value on every
 *               ivc_open(), so a restarted side is told from its old self
 *   ack         the peer generation this side has synchronised to (0: none)
 *   head        messages this side has published in its ring (free running)
 *   tail        messages this side has consumed from the peer's ring
 *   notify      IVC_NOTIFY_POLL or IVC_NOTIFY_DOORBELL: how to tell it
 *   peer_id     its ivshmem peer ID, vector: its vector (doorbell mode)
 *   want        IVC_WANT_DATA while it waits in a doorbell wait for a
 *               message, IVC_WANT_SPACE for room in its ring
 *   reserved    zero
 *
 * Each slot: struct ivc_slot (seq, len, csum, gen) and len payload bytes.
 * seq is the message's index in the ring (equal to the head before it was
 * published), gen the sender's generation, csum a FNV-1a hash of seq, len,
 * gen and the payload. The indices are published with release stores and
 * read with acquire loads (C11 atomics): a slot is complete before its
 * head is seen.
 *
 * CONNECTION AND RESTART. A side is connected when the peer is attached
 * with matching sizes, its own ack equals the peer's gen and the peer's ack
 * equals its gen. ivc_open() takes a new generation and starts with both
 * rings empty. When a side sees a new peer generation (the peer restarted,
 * or closed and opened again) it empties both rings (its head and tail go
 * back to 0) and acknowledges the new generation. What is lost: every
 * message either side had sent and the other had not yet received at that
 * moment. The survivor is told exactly once: its next ivc_send() or
 * ivc_recv() returns -ECONNRESET (the message given to that ivc_send() was
 * not sent), and ivc_stats.resets counts it; the restarted side sees a
 * fresh channel. A request whose answer was lost is the caller's to resend.
 *
 * DISTRUST. The peer may be corrupt or hostile. Every value read from its
 * control block or slots is loaded once into a local, then checked: sizes
 * must match, head - tail can never exceed slot_count, len never exceeds
 * the payload size, seq, gen and csum must match. The library reads only
 * the slot its own (private) tail designates and writes only its own
 * control block and the slot its own head designates, so no peer value can
 * move an access outside the region; its own indices are kept in private
 * memory and never read back from the shared copy. Every loop ends by its
 * timeout or after a bounded number of steps. Errors:
 *   -EPROTO     the peer's control block is inconsistent (bad magic once
 *               attached, sizes, indices): nothing consumed or sent; the
 *               channel recovers if the peer's values become sane or it
 *               restarts
 *   -EBADMSG    one slot was corrupt (len, seq, gen or csum): it was
 *               consumed and dropped (ivc_stats.bad_msgs)
 *   -ECONNRESET the peer restarted (see above)
 *   -ENOTCONN   no peer attached, or it has not acknowledged this side yet,
 *               when the timeout ended
 *   -ETIMEDOUT  connected, but no message (ivc_recv) or no room (ivc_send)
 *               before the timeout
 *   -EMSGSIZE   ivc_send() of more than the payload size
 *   -EINVAL     bad configuration or arguments
 * The peer chooses which ivshmem peer ID and vector this side rings (its
 * peer_id and vector fields, bounded to what IVSHMEM_IOCTL_RING takes): a
 * hostile peer can make it ring some other peer, which the doorbell's
 * receiver must tolerate anyway.
 *
 * NOTIFICATION. A doorbell-mode side about to sleep sets its want flag
 * (IVC_WANT_DATA or IVC_WANT_SPACE), then looks once more; a producer
 * rings the peer after publishing a message if the peer wants data, a
 * consumer after consuming if the peer wants space (each a seq_cst fence
 * between its index store and its flag load: no wakeup is lost), and each
 * side rings after it (re)attaches or synchronises; only when the peer's
 * notify is IVC_NOTIFY_DOORBELL and this side can ring (its file has
 * IVSHMEM_INFO_RING). A busy consumer is not rung for every message. A doorbell-mode side waits in IVSHMEM_IOCTL_WAIT on
 * its vector, in slices of at most IVC_WAIT_SLICE_MS so that a peer which
 * cannot ring (a poller without a doorbell device) is still seen. A
 * polling side spins with a pause instruction and reads the clock every
 * few hundred turns.
 */
#ifndef IVSHMEM_CHAN_H
#define IVSHMEM_CHAN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IVC_MAGIC		0x31435649U	/* "IVC1" */
#define IVC_VERSION		1U
#define IVC_CTL_BYTES		64U
#define IVC_RINGS_OFFSET	(2U * IVC_CTL_BYTES)
#define IVC_SLOT_HDR		16U
#define IVC_SLOT_MIN		32U
#define IVC_SLOT_MAX		65536U
#define IVC_COUNT_MAX		65536U
#define IVC_WAIT_SLICE_MS	20

#define IVC_NOTIFY_POLL		0U
#define IVC_NOTIFY_DOORBELL	1U

#define IVC_WANT_DATA		1U
#define IVC_WANT_SPACE		2U

/* Bytes the region needs. */
#define IVC_REGION_BYTES(slot_size, slot_count) \
	((size_t)IVC_RINGS_OFFSET + 2 * (size_t)(slot_size) * (slot_count))

/* The control block of one side, as laid out in the shared memory. */
struct ivc_ctl {
	_Atomic uint32_t magic;
	_Atomic uint32_t version;
	_Atomic uint32_t slot_size;
	_Atomic uint32_t slot_count;
	_Atomic uint32_t gen;
	_Atomic uint32_t ack;
	_Atomic uint32_t head;
	_Atomic uint32_t tail;
	_Atomic uint32_t notify;
	_Atomic uint32_t peer_id;
	_Atomic uint32_t vector;
	_Atomic uint32_t want;
	_Atomic uint32_t reserved[4];
};

/* The header of one slot; the payload follows. */
struct ivc_slot {
	_Atomic uint32_t seq;
	_Atomic uint32_t len;
	_Atomic uint32_t csum;
	_Atomic uint32_t gen;
};

_Static_assert(sizeof(struct ivc_ctl) == IVC_CTL_BYTES, "ivc_ctl layout");
_Static_assert(sizeof(struct ivc_slot) == IVC_SLOT_HDR, "ivc_slot layout");

/**
 * struct ivc_config - how one side attaches
 * @side:	0 or 1; the peer takes the other.
 * @notify:	IVC_NOTIFY_POLL or IVC_NOTIFY_DOORBELL (how this side wants
 *		to be told: doorbell needs @fd with IVSHMEM_INFO_RECEIVE).
 * @slot_size:	bytes per slot (payload = slot_size - IVC_SLOT_HDR).
 * @slot_count:	slots per ring.
 * @fd:		the /dev/ivshmemN the region is mapped from, for doorbells
 *		(ringing and waiting), or -1: poll only, never ring.
 * @vector:	this side's vector to wait on (doorbell mode).
 */
struct ivc_config {
	unsigned int side;
	unsigned int notify;
	uint32_t slot_size;
	uint32_t slot_count;
	int fd;
	uint32_t vector;
};

/* Counters of one side since ivc_open(). */
struct ivc_stats {
	uint64_t sent;
	uint64_t received;
	uint64_t resets;	/* -ECONNRESET returned */
	uint64_t bad_msgs;	/* -EBADMSG returned: slots dropped */
	uint64_t proto_errors;	/* -EPROTO returned */
	uint64_t rings;		/* doorbells rung */
	uint64_t waits;		/* doorbell waits */
};

/* One side's private state: never in the shared memory. */
struct ivc {
	unsigned char *base;
	size_t size;
	struct ivc_ctl *own;
	const struct ivc_ctl *peer;
	unsigned char *tx;
	const unsigned char *rx;
	struct ivc_config cfg;
	uint32_t payload;	/* slot_size - IVC_SLOT_HDR */
	uint32_t gen;		/* own generation */
	uint32_t ack;		/* peer generation synchronised to, 0: none */
	uint32_t head;		/* own ring: published */
	uint32_t tail;		/* peer's ring: consumed */
	int can_ring;
	uint32_t peer_gen;	/* the peer generation synchronised to last */
	int reset_pending;	/* ivc_connected() saw a restart: report it */
	struct ivc_stats stats;
};

/*
 * A mapped device or file: ivc_map() opens @path, asks the driver for the
 * size (IVSHMEM_IOCTL_INFO; fstat for a plain file) and maps it shared
 * with an inaccessible guard page on each side, so a stray access faults
 * instead of touching a neighbour.
 */
struct ivc_map {
	int fd;
	void *mem;
	size_t size;
	uint32_t flags;		/* ivshmem_info.flags; 0 for a plain file */
	uint32_t peer_id;
	uint32_t rx_mask;
	void *guard;
	size_t guard_len;
};

int ivc_map(struct ivc_map *m, const char *path);
void ivc_unmap(struct ivc_map *m);

/*
 * ivc_open() - attach as cfg->side to the region [@mem, @mem + @size).
 * Takes a new generation; the rings start empty. Return: 0, -EINVAL (bad
 * sizes, region too small, side not 0/1), -EOPNOTSUPP (doorbell mode
 * without a receiving device), or a negative errno of IVSHMEM_IOCTL_INFO.
 */
int ivc_open(struct ivc *c, void *mem, size_t size,
	     const struct ivc_config *cfg);

/* Detach: the peer sees this side gone (-ENOTCONN) until it opens again. */
void ivc_close(struct ivc *c);

/*
 * ivc_send() - send @len bytes. @timeout_ms: < 0 waits without limit for
 * a peer and for room, 0 tries once. Return: 0 or a negative errno above.
 */
int ivc_send(struct ivc *c, const void *buf, size_t len, int timeout_ms);

/*
 * ivc_recv() - receive one message into @buf (@cap >= ivc_payload(c)).
 * Return: its length (>= 0) or a negative errno above.
 */
ssize_t ivc_recv(struct ivc *c, void *buf, size_t cap, int timeout_ms);

/* 1 when connected (see above), else 0; never blocks. */
int ivc_connected(struct ivc *c);

/* The largest payload of one message. */
static inline uint32_t ivc_payload(const struct ivc *c)
{
	return c->payload;
}

/* FNV-1a over @len bytes, continuing @h (start with IVC_FNV_INIT). */
#define IVC_FNV_INIT	2166136261U
uint32_t ivc_fnv(uint32_t h, const void *p, size_t len);

#endif /* IVSHMEM_CHAN_H */
