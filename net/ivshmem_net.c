// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem_net: an Ethernet interface between two VMs over ivshmem.
 *
 * The driver of the auxiliary device "ivshmem.net.N" that the ivshmem PCI
 * driver adds when the device's function is "net" (guest/aux.c). The
 * shared-memory layout is Documentation/ivshmem-net.rst: two peer headers
 * (a slot each, claimed by peer ID), then one ring per direction, each
 * written by one side only. Frames are copied into the sender's ring and
 * out of the receiver's (NAPI); the doorbell on vector 0 signals new
 * frames or freed space, and only when the other side asked for it.
 * A side without a doorbell or without vector 0 (QEMU's ivshmem-plain,
 * a device whose vector 0 is not granted) polls instead: a timer
 * schedules NAPI every IVNET_POLL_NS while the link is up; so does a
 * side whose peer has no doorbell.
 *
 * The other VM is not trusted: every field of its header and every
 * length in its ring is read once (READ_ONCE into a local) and checked
 * before use; a violation is counted, and the link is reset (carrier
 * off, both sides start a new session) rather than followed.
 *
 * Ordering: BAR2's kernel view may be write-combining or uncached (sysfs
 * memtype), whose stores and loads the SMP barriers (virt_wmb() is a
 * compiler barrier on x86) do not order; every barrier between a record
 * and the index that publishes or frees it is a mandatory one (wmb(),
 * rmb(), mb()).
 *
 * Locking: the session state machine runs in one delayed work item
 * (ivnet_work) under @lock; it stops the data path (netif_tx_disable(),
 * napi_disable()) before it resets the rings. Transmission is serialised
 * by the stack's queue lock, reception by NAPI; they share no field but
 * the read-only geometry, @run, @tx_prod (which NAPI reads to wake the
 * queue) and the atomic statistics.
 */
#include <linux/atomic.h>
#include <linux/auxiliary_bus.h>
#include <linux/dmi.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/hrtimer.h>
#include <linux/if_vlan.h>
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/random.h>
#include <linux/sizes.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "ivshmem_aux.h"

#define IVNET_MAGIC		0x544e5649	/* "IVNT" little-endian */
#define IVNET_VERSION		1
#define IVNET_HDR_AREA		4096		/* both headers */
#define IVNET_HDR_STRIDE	256		/* one header */
#define IVNET_REC_ALIGN		64		/* records in a ring */
#define IVNET_REC_HDR		8		/* struct ivnet_rec */
#define IVNET_MAX_FRAME		(65535 + VLAN_ETH_HLEN)
#define IVNET_MIN_RING		(64 * 1024)
#define IVNET_VECTOR		0
#define IVNET_MAX_PEER_ID	0xffff
/* An owner with this bit is a side without a doorbell: not a peer ID but
 * a random value; it is never rung and never rings.
 */
#define IVNET_OWNER_NODB	0x80000000u
/* A polling side looks at the rings this often while the link is up. */
#define IVNET_POLL_NS		(1 * NSEC_PER_MSEC)
#define IVNET_TICK		(HZ / 10)
#define IVNET_POLL_BYTES	SZ_256K
/* A peer whose heartbeat stands still this long is gone. */
#define IVNET_PEER_TIMEOUT	(5 * HZ)
/* A stopped queue the peer freed no space in for this long is stalled. */
#define IVNET_TX_TIMEOUT	(5 * HZ)

enum ivnet_state {
	IVNET_RESET = 0,
	IVNET_INIT = 1,
	IVNET_READY = 2,
	IVNET_RUN = 3,
};

/* A peer's header (Documentation/ivshmem-net.rst): written by its owner
 * only, but @owner, which a newcomer may write over once the owner's
 * heartbeat stopped (ivnet_claim()).
 */
struct ivnet_hdr {
	u32 magic;
	u32 version;
	u32 owner;		/* peer ID + 1; 0: free */
	u32 state;		/* enum ivnet_state */
	u32 epoch;		/* new random value at each RESET */
	u32 heartbeat;		/* raised every 100 ms while up */
	u32 peer_epoch;		/* the other side's epoch this session uses */
	u32 tx_prod;		/* bytes produced into the own ring */
	u32 rx_cons;		/* bytes consumed from the other's ring */
	u32 rx_kick;		/* 1: ring me when you produce */
	u32 tx_kick;		/* 1: ring me when you consume */
	u32 reserved[5];
};

/* A frame in a ring: this header, then @len bytes, to IVNET_REC_ALIGN. */
struct ivnet_rec {
	u32 len;
	u32 flags;		/* 0 */
};

static_assert(sizeof(struct ivnet_hdr) == 64);
static_assert(sizeof(struct ivnet_rec) == IVNET_REC_HDR);

/* ethtool statistics, in the order of ivnet_stat_names. */
enum {
	IVNET_ST_RX_PACKETS,
	IVNET_ST_RX_BYTES,
	IVNET_ST_TX_PACKETS,
	IVNET_ST_TX_BYTES,
	IVNET_ST_TX_DROPPED,
	IVNET_ST_RX_DROPPED,
	IVNET_ST_PROTO_ERRORS,
	IVNET_ST_RESETS,
	IVNET_ST_DOORBELLS,
	IVNET_ST_IRQS,
	IVNET_ST_TX_STOPS,
	IVNET_ST_RX_LENGTH_ERRORS,
	IVNET_ST_TX_TIMEOUTS,
	IVNET_ST_TAKEOVERS,
	IVNET_ST_NR,
};

static const char ivnet_stat_names[IVNET_ST_NR][ETH_GSTRING_LEN] = {
	"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "tx_dropped",
	"rx_dropped", "proto_errors", "resets", "doorbells", "irqs",
	"tx_stops", "rx_length_errors", "tx_timeouts", "takeovers",
};

/**
 * struct ivnet - one interface
 * @ndev:	the network device.
 * @iadev:	the auxiliary device: BAR2, the doorbell, the handler.
 * @napi:	reception.
 * @work:	the session state machine, every IVNET_TICK and on demand.
 * @lock:	serialises the state machine with open and stop.
 * @poll_timer: schedules NAPI every IVNET_POLL_NS while @run and @poll.
 * @ring_size:	bytes in each ring, a power of two.
 * @slot:	this side's header and ring, 0 or 1; -1 before one is claimed.
 * @claiming:	the slot whose owner this side wrote a tick ago, or -1.
 * @me:		this side's header, its offset in BAR2; valid once a slot
 *		is claimed.
 * @peer:	the other side's header; like @me.
 * @tx_ring:	this side's ring; like @me.
 * @rx_ring:	the other side's ring; like @me.
 * @state:	this side's state (the copy of @me->state).
 * @run:	the data path may use the rings: @state is IVNET_RUN and no
 *		protocol error was seen since. Read by xmit and NAPI.
 * @up:		the interface is open.
 * @tx_prod:	bytes produced into @tx_ring: written by xmit, read by NAPI
 *		too (ivnet_tx_space()); reset under @lock with the data path
 *		stopped.
 * @rx_cons:	bytes consumed from @rx_ring (NAPI only, likewise).
 * @mine:	the value of this side's slot's owner: its peer ID + 1, or
 *		on a device without doorbell IVNET_OWNER_NODB and random bits,
 *		new at each probe (such devices give every VM one peer ID).
 * @no_irq:	this side receives no doorbell (no doorbell, or no vector
 *		0): it never asks for one (rx_kick, tx_kick) and polls.
 * @peer_owner:	the other slot's owner, latched when the session is made
 *		(INIT to READY); 0 when none is latched. Under @lock.
 * @ring_to:	the peer ID whose doorbell this side rings: @peer_owner - 1
 *		when both sides have a doorbell; -1 when none is latched or
 *		either has none. Written under @lock, read by xmit and NAPI
 *		too.
 * @poll:	the data path is polled (@poll_timer): @no_irq, or the peer
 *		has no doorbell. Set under @lock before @run, read by the
 *		timer.
 * @epoch:	this side's epoch, new at each RESET.
 * @peer_epoch: the other side's epoch this session was made with.
 * @hb:		the own heartbeat.
 * @seen_hb:	per slot, the last heartbeat read, and @seen_at when it
 *		changed: who is alive.
 * @seen_at:	see @seen_hb.
 * @stats:	ethtool statistics. Atomic: most are counted from more than
 *		one context (xmit, NAPI, the work, the interrupt handler),
 *		which may run on different CPUs at once.
 */
struct ivnet {
	struct net_device *ndev;
	struct ivshmem_aux_dev *iadev;
	struct napi_struct napi;
	struct delayed_work work;
	struct mutex lock;		/* state machine; see above */
	struct hrtimer poll_timer;
	u32 ring_size;
	int slot;
	int claiming;
	u32 me;
	u32 peer;
	u32 tx_ring;
	u32 rx_ring;
	enum ivnet_state state;
	bool run;
	bool up;
	u32 tx_prod;
	u32 rx_cons;
	u32 mine;
	bool no_irq;
	u32 peer_owner;
	int ring_to;
	bool poll;
	u32 epoch;
	u32 peer_epoch;
	u32 hb;
	u32 seen_hb[2];
	unsigned long seen_at[2];
	atomic64_t stats[IVNET_ST_NR];
};

/* BAR2 is reached through one of two kernel views (guest/ivshmem_aux.h):
 * write-back memory with plain accesses, or a write-combining or uncached
 * mapping with the I/O accessors. These helpers take a byte offset into
 * BAR2 and use the one the device has. Fields are little-endian; a field
 * is one 32-bit access either way. Ordering between accesses the peer
 * must see in order is the mandatory barriers' (see above), for both.
 */
#define IVNET_H(field)		offsetof(struct ivnet_hdr, field)
#define IVNET_R(field)		offsetof(struct ivnet_rec, field)

static u32 ivnet_rd(struct ivnet *priv, u32 off)
{
	struct ivshmem_aux_dev *iadev = priv->iadev;

	if (iadev->shm)
		return le32_to_cpu(READ_ONCE(*(__le32 *)(iadev->shm + off)));
	return readl(iadev->shm_io + off);
}

static void ivnet_wr(struct ivnet *priv, u32 off, u32 v)
{
	struct ivshmem_aux_dev *iadev = priv->iadev;

	if (iadev->shm)
		WRITE_ONCE(*(__le32 *)(iadev->shm + off), cpu_to_le32(v));
	else
		writel(v, iadev->shm_io + off);
}

static void ivnet_write_shm(struct ivnet *priv, u32 off, const void *src,
			    u32 len)
{
	struct ivshmem_aux_dev *iadev = priv->iadev;

	if (iadev->shm)
		memcpy(iadev->shm + off, src, len);
	else
		memcpy_toio(iadev->shm_io + off, src, len);
}

static void ivnet_read_shm(struct ivnet *priv, void *dst, u32 off, u32 len)
{
	struct ivshmem_aux_dev *iadev = priv->iadev;

	if (iadev->shm)
		memcpy(dst, iadev->shm + off, len);
	else
		memcpy_fromio(dst, iadev->shm_io + off, len);
}

/* The offset of @slot's header in BAR2. */
static u32 ivnet_hdr(int slot)
{
	return slot * IVNET_HDR_STRIDE;
}

static void ivnet_count(struct ivnet *priv, int stat, u64 n)
{
	atomic64_add(n, &priv->stats[stat]);
}

static u64 ivnet_stat(struct ivnet *priv, int stat)
{
	return atomic64_read(&priv->stats[stat]);
}

/* The record size of a frame of @len bytes. */
static u32 ivnet_rec_size(u32 len)
{
	return ALIGN(IVNET_REC_HDR + len, IVNET_REC_ALIGN);
}

/* Ring the latched peer, if any. The target is never read from the shared
 * memory here: the peer could point it at a bystander VM at every frame.
 */
static void ivnet_ring_peer(struct ivnet *priv)
{
	int peer = READ_ONCE(priv->ring_to);

	if (peer >= 0 && !priv->iadev->ops->ring(priv->iadev, peer,
						 IVNET_VECTOR))
		ivnet_count(priv, IVNET_ST_DOORBELLS, 1);
}

/* A protocol error in the data path: stop using the rings and let the
 * state machine start a new session.
 */
static void ivnet_proto_error(struct ivnet *priv, const char *what, u32 val)
{
	/* A peer that left the session wrote its state and a new epoch
	 * before it reset its indices: that ends the session too, but is
	 * no error. The index this side found wrong before the state and
	 * epoch are read.
	 */
	rmb();
	if (ivnet_rd(priv, priv->peer + IVNET_H(state)) >= IVNET_READY &&
	    ivnet_rd(priv, priv->peer + IVNET_H(epoch)) == priv->peer_epoch) {
		ivnet_count(priv, IVNET_ST_PROTO_ERRORS, 1);
		net_warn_ratelimited("%s: peer protocol error: %s (%u); resetting the link\n",
				     priv->ndev->name, what, val);
	}
	WRITE_ONCE(priv->run, false);
	mod_delayed_work(system_wq, &priv->work, 0);
}

/* Copy @len bytes from @skb at @off into the ring at @pos, wrapping. */
static void ivnet_copy_to_ring(struct ivnet *priv, u32 pos,
			       const struct sk_buff *skb, u32 len)
{
	u32 off = pos & (priv->ring_size - 1);
	u32 first = min(len, priv->ring_size - off);

	ivnet_write_shm(priv, priv->tx_ring + off, skb->data, first);
	if (first < len)
		ivnet_write_shm(priv, priv->tx_ring, skb->data + first,
				len - first);
}

/* Bytes free in the own ring; -1 when the peer's consumer is impossible. */
static s64 ivnet_tx_space(struct ivnet *priv)
{
	u32 used = READ_ONCE(priv->tx_prod) -
		   ivnet_rd(priv, priv->peer + IVNET_H(rx_cons));

	if (used > priv->ring_size)
		return -1;
	return priv->ring_size - used;
}

static u32 ivnet_max_rec(struct ivnet *priv)
{
	return ivnet_rec_size(priv->ndev->mtu + VLAN_ETH_HLEN);
}

/* Ask the peer for a doorbell (@field: rx_kick or tx_kick). A side that
 * receives none never asks: it polls, and the peer never rings it.
 */
static void ivnet_ask_kick(struct ivnet *priv, u32 field)
{
	if (!priv->no_irq)
		ivnet_wr(priv, priv->me + field, 1);
}

/* Ring the peer if it asked for a doorbell when frames come. */
static void ivnet_tx_kick(struct ivnet *priv)
{
	/* The producer index before the peer's request is read. */
	mb();
	if (ivnet_rd(priv, priv->peer + IVNET_H(rx_kick)))
		ivnet_ring_peer(priv);
}

static netdev_tx_t ivnet_xmit(struct sk_buff *skb, struct net_device *ndev)
{
	struct ivnet *priv = netdev_priv(ndev);
	u32 len = skb->len, rec = ivnet_rec_size(len);
	u32 r;
	s64 space;

	if (!READ_ONCE(priv->run) || len < ETH_HLEN || len > IVNET_MAX_FRAME ||
	    skb_linearize(skb))
		goto drop;
	space = ivnet_tx_space(priv);
	if (space >= 0 && space < rec) {
		/* After an MTU change: the queue stops below otherwise. */
		netif_stop_queue(ndev);
		ivnet_ask_kick(priv, IVNET_H(tx_kick));
		/* The request before the consumer index is read again. */
		mb();
		space = ivnet_tx_space(priv);
		if (space >= 0 && space < rec) {
			/* Frames published as a batch get their doorbell. */
			ivnet_tx_kick(priv);
			return NETDEV_TX_BUSY;
		}
		ivnet_wr(priv, priv->me + IVNET_H(tx_kick), 0);
		netif_start_queue(ndev);
	}
	if (space < 0) {
		ivnet_proto_error(priv, "consumer index",
				  ivnet_rd(priv, priv->peer + IVNET_H(rx_cons)));
		goto drop;
	}

	r = priv->tx_ring + (priv->tx_prod & (priv->ring_size - 1));
	ivnet_wr(priv, r + IVNET_R(len), len);
	ivnet_wr(priv, r + IVNET_R(flags), 0);
	ivnet_copy_to_ring(priv, priv->tx_prod + IVNET_REC_HDR, skb, len);
	WRITE_ONCE(priv->tx_prod, priv->tx_prod + rec);
	/* The frame before the index that publishes it. */
	wmb();
	ivnet_wr(priv, priv->me + IVNET_H(tx_prod), priv->tx_prod);
	ivnet_count(priv, IVNET_ST_TX_PACKETS, 1);
	ivnet_count(priv, IVNET_ST_TX_BYTES, len);
	dev_consume_skb_any(skb);

	if (space - rec < ivnet_max_rec(priv)) {
		netif_stop_queue(ndev);
		ivnet_count(priv, IVNET_ST_TX_STOPS, 1);
		ivnet_ask_kick(priv, IVNET_H(tx_kick));
		/* The request before the consumer index is read again. */
		mb();
		space = ivnet_tx_space(priv);
		if (space >= ivnet_max_rec(priv)) {
			ivnet_wr(priv, priv->me + IVNET_H(tx_kick), 0);
			netif_start_queue(ndev);
		}
	}
	/* One doorbell per batch (one VM exit): the stack says whether
	 * more frames follow at once; a stopped queue ends the batch.
	 */
	if (!netdev_xmit_more() || netif_queue_stopped(ndev))
		ivnet_tx_kick(priv);
	return NETDEV_TX_OK;

drop:
	ivnet_count(priv, IVNET_ST_TX_DROPPED, 1);
	dev_kfree_skb_any(skb);
	/* The end of a batch whose earlier frames went out. */
	if (!netdev_xmit_more() && READ_ONCE(priv->run))
		ivnet_tx_kick(priv);
	return NETDEV_TX_OK;
}

/* Stalled transmission: the queue is still stopped watchdog_timeo after
 * the last frame went out (the peer freed less than a record's space, or
 * nothing; a lost doorbell would have been caught by the state machine's
 * tick first). The core logs it ("NETDEV WATCHDOG"). Reset the link.
 * Softirq context.
 */
static void ivnet_tx_timeout(struct net_device *ndev, unsigned int txqueue)
{
	struct ivnet *priv = netdev_priv(ndev);

	ivnet_count(priv, IVNET_ST_TX_TIMEOUTS, 1);
	WRITE_ONCE(priv->run, false);
	mod_delayed_work(system_wq, &priv->work, 0);
}

/* Wake the queue when the peer freed enough space. NAPI context. */
static void ivnet_tx_wake(struct ivnet *priv)
{
	if (!netif_queue_stopped(priv->ndev))
		return;
	if (ivnet_tx_space(priv) >= ivnet_max_rec(priv)) {
		ivnet_wr(priv, priv->me + IVNET_H(tx_kick), 0);
		netif_wake_queue(priv->ndev);
	}
}

/* Copy @len bytes at @pos of the peer's ring into @dst, wrapping. */
static void ivnet_copy_from_ring(struct ivnet *priv, void *dst, u32 pos,
				 u32 len)
{
	u32 off = pos & (priv->ring_size - 1);
	u32 first = min(len, priv->ring_size - off);

	ivnet_read_shm(priv, dst, priv->rx_ring + off, first);
	if (first < len)
		ivnet_read_shm(priv, dst + first, priv->rx_ring, len - first);
}

/* Frames up to IVNET_RX_LINEAR bytes are received into one linear buffer
 * (a fragment of a page); of a longer one the first IVNET_RX_HEAD bytes
 * (the headers) go there and the rest into order-0 pages, one fragment
 * each, so that a 64 KiB frame costs 16 single-page GFP_ATOMIC
 * allocations rather than one of order 5, which fragmented memory often
 * cannot give. Each page counts PAGE_SIZE to the socket's truesize.
 */
#define IVNET_RX_LINEAR		2048
#define IVNET_RX_HEAD		256
static_assert(DIV_ROUND_UP(IVNET_MAX_FRAME - IVNET_RX_HEAD, PAGE_SIZE) <=
	      MAX_SKB_FRAGS);

/* An skb with the @len bytes of the frame at @pos of the peer's ring, or
 * NULL when memory is short.
 */
static struct sk_buff *ivnet_rx_skb(struct ivnet *priv, u32 pos, u32 len)
{
	u32 head = len <= IVNET_RX_LINEAR ? len : IVNET_RX_HEAD, n;
	struct sk_buff *skb;
	struct page *page;
	int i;

	skb = napi_alloc_skb(&priv->napi, head);
	if (!skb)
		return NULL;
	ivnet_copy_from_ring(priv, skb_put(skb, head), pos, head);
	for (i = 0; head < len; i++, head += n) {
		page = dev_alloc_page();
		if (!page) {
			kfree_skb(skb);
			return NULL;
		}
		n = min_t(u32, len - head, PAGE_SIZE);
		ivnet_copy_from_ring(priv, page_address(page), pos + head, n);
		skb_add_rx_frag(skb, i, page, 0, n, PAGE_SIZE);
	}
	return skb;
}

/* Receive one frame from the peer's ring. Returns 1 if one was consumed
 * (received, or dropped for want of memory or for its length), 0 if the
 * ring is empty, -1 after a protocol error.
 */
static int ivnet_rx_one(struct ivnet *priv)
{
	u32 prod, used, len, flags, rec, off;
	struct sk_buff *skb = NULL;
	bool too_long;

	prod = ivnet_rd(priv, priv->peer + IVNET_H(tx_prod));
	used = prod - priv->rx_cons;
	if (!used)
		return 0;
	if (used > priv->ring_size || used % IVNET_REC_ALIGN) {
		ivnet_proto_error(priv, "producer index", prod);
		return -1;
	}
	/* The index before the record it published. */
	rmb();
	off = priv->rx_cons & (priv->ring_size - 1);
	len = ivnet_rd(priv, priv->rx_ring + off + IVNET_R(len));
	flags = ivnet_rd(priv, priv->rx_ring + off + IVNET_R(flags));
	if (len < ETH_HLEN || len > IVNET_MAX_FRAME) {
		ivnet_proto_error(priv, "frame length", len);
		return -1;
	}
	rec = ivnet_rec_size(len);
	if (flags || rec > used) {
		ivnet_proto_error(priv, flags ? "record flags" : "record size",
				  flags ? flags : len);
		return -1;
	}

	/* A frame longer than the local MTU allows (the peer's MTU is
	 * larger) is well formed: it is dropped and counted, the session
	 * goes on.
	 */
	too_long = len > READ_ONCE(priv->ndev->mtu) + VLAN_ETH_HLEN;
	if (!too_long)
		skb = ivnet_rx_skb(priv, priv->rx_cons + IVNET_REC_HDR, len);
	priv->rx_cons += rec;
	/* The frame is read before its space is given back. */
	mb();
	ivnet_wr(priv, priv->me + IVNET_H(rx_cons), priv->rx_cons);

	if (too_long) {
		ivnet_count(priv, IVNET_ST_RX_LENGTH_ERRORS, 1);
		net_dbg_ratelimited("%s: dropped a frame of %u bytes: longer than the MTU allows\n",
				    priv->ndev->name, len);
		return 1;
	}
	if (!skb) {
		ivnet_count(priv, IVNET_ST_RX_DROPPED, 1);
		return 1;
	}
	skb->protocol = eth_type_trans(skb, priv->ndev);
	ivnet_count(priv, IVNET_ST_RX_PACKETS, 1);
	ivnet_count(priv, IVNET_ST_RX_BYTES, len);
	napi_gro_receive(&priv->napi, skb);
	return 1;
}

/* Whether consuming from @start to @rx_cons took the peer's ring from more
 * than half full to half full or less. A producer stops only with its
 * ring more than half full (its largest record is half a ring at most):
 * this is when one that asked for a doorbell (tx_kick) gets it, once,
 * rather than after every poll while it has not yet cleared the request.
 * NAPI context.
 */
static bool ivnet_freed_half(struct ivnet *priv, u32 start)
{
	u32 prod = ivnet_rd(priv, priv->peer + IVNET_H(tx_prod)), half = priv->ring_size / 2;

	return prod - start > half && prod - priv->rx_cons <= half;
}

static int ivnet_poll(struct napi_struct *napi, int budget)
{
	struct ivnet *priv = container_of(napi, struct ivnet, napi);
	u32 start = priv->rx_cons;
	int done = 0, ret = 0;

	if (!READ_ONCE(priv->run)) {
		napi_complete(napi);
		return 0;
	}
	ivnet_wr(priv, priv->me + IVNET_H(rx_kick), 0);
	while (done < budget) {
		ret = ivnet_rx_one(priv);
		if (ret <= 0)
			break;
		done++;
		/* The budget counts frames; a poll also ends after
		 * IVNET_POLL_BYTES copied (64 frames of 64 KiB would be 4 MiB,
		 * read from uncached memory in one softirq), and is not
		 * complete then.
		 */
		if (priv->rx_cons - start >= IVNET_POLL_BYTES) {
			done = budget;
			break;
		}
	}
	if (ret < 0) {
		/* The frames before the error were delivered. */
		napi_complete_done(napi, done);
		return done;
	}
	if (done) {
		/* The consumer index before the peer's request is read. */
		mb();
		if (ivnet_rd(priv, priv->peer + IVNET_H(tx_kick)) &&
		    ivnet_freed_half(priv, start))
			ivnet_ring_peer(priv);
	}
	ivnet_tx_wake(priv);

	if (done < budget && napi_complete_done(napi, done)) {
		ivnet_ask_kick(priv, IVNET_H(rx_kick));
		/* The request before the producer index is read again. */
		mb();
		if (ivnet_rd(priv, priv->peer + IVNET_H(tx_prod)) != priv->rx_cons ||
		    (netif_queue_stopped(priv->ndev) &&
		     ivnet_tx_space(priv) >= ivnet_max_rec(priv)))
			napi_schedule(napi);
	}
	return done;
}

/* The PCI driver's handler for vector interrupts. */
static void ivnet_irq(void *data, unsigned int vector)
{
	struct ivnet *priv = data;

	/* The handler runs for every receiving vector; the protocol's is 0. */
	if (vector != IVNET_VECTOR)
		return;
	ivnet_count(priv, IVNET_ST_IRQS, 1);
	if (READ_ONCE(priv->run))
		napi_schedule(&priv->napi);
	else
		mod_delayed_work(system_wq, &priv->work, 0);
}

/* A polling side's NAPI, every IVNET_POLL_NS while the data path runs:
 * new frames, and space the peer freed for a stopped queue. Started when
 * the link comes up, cancelled when it goes down; stops itself once @run
 * is cleared (a protocol error, the transmit watchdog). Hard-IRQ context
 * (softirq on PREEMPT_RT).
 */
static enum hrtimer_restart ivnet_poll_timer(struct hrtimer *timer)
{
	struct ivnet *priv = container_of(timer, struct ivnet, poll_timer);

	if (!READ_ONCE(priv->run))
		return HRTIMER_NORESTART;
	napi_schedule(&priv->napi);
	hrtimer_forward_now(timer, ns_to_ktime(IVNET_POLL_NS));
	return HRTIMER_RESTART;
}

/* Record @slot's heartbeat; true if it moved within IVNET_PEER_TIMEOUT. */
static bool ivnet_alive(struct ivnet *priv, int slot)
{
	u32 hb = ivnet_rd(priv, ivnet_hdr(slot) + IVNET_H(heartbeat));

	if (hb != priv->seen_hb[slot]) {
		priv->seen_hb[slot] = hb;
		priv->seen_at[slot] = jiffies;
	}
	return time_before(jiffies, priv->seen_at[slot] + IVNET_PEER_TIMEOUT);
}

/* Claim a slot: the one this peer ID owns already, else a free one, else
 * one whose owner's heartbeat has stood still for IVNET_PEER_TIMEOUT.
 * The owner is written, then read back a tick later (BAR2 may not be
 * memory that atomic operations work on): of two peers that took one
 * slot at once the later write stays, and the other peer, finding the
 * slot not its own any more, claims the other one. Under @lock.
 */
static bool ivnet_claim(struct ivnet *priv)
{
	u32 mine = priv->mine, owner;
	bool alive[2];
	int s;

	for (s = 0; s < 2; s++)
		alive[s] = ivnet_alive(priv, s);
	if (priv->claiming >= 0) {
		s = priv->claiming;
		priv->claiming = -1;
		if (ivnet_rd(priv, ivnet_hdr(s) + IVNET_H(owner)) == mine)
			goto claimed;
	}
	for (s = 0; s < 2; s++)
		if (ivnet_rd(priv, ivnet_hdr(s) + IVNET_H(owner)) == mine)
			goto claimed;
	for (s = 0; s < 2; s++) {
		owner = ivnet_rd(priv, ivnet_hdr(s) + IVNET_H(owner));
		if (!owner || !alive[s]) {
			ivnet_wr(priv, ivnet_hdr(s) + IVNET_H(owner), mine);
			priv->claiming = s;
			return false;
		}
	}
	return false;

claimed:
	priv->slot = s;
	priv->me = ivnet_hdr(s);
	priv->peer = ivnet_hdr(!s);
	priv->tx_ring = IVNET_HDR_AREA + s * priv->ring_size;
	priv->rx_ring = IVNET_HDR_AREA + !s * priv->ring_size;
	ivnet_wr(priv, priv->me + IVNET_H(state), IVNET_RESET);
	ivnet_wr(priv, priv->me + IVNET_H(magic), IVNET_MAGIC);
	ivnet_wr(priv, priv->me + IVNET_H(version), IVNET_VERSION);
	priv->state = IVNET_RESET;
	/* A peer that takes the slot over and over makes this side claim
	 * as often: the log keeps up.
	 */
	if (!net_ratelimit())
		return true;
	if (priv->iadev->can_ring)
		netdev_info(priv->ndev, "slot %d, peer ID %u, rings of %u KiB%s\n",
			    s, mine - 1, priv->ring_size >> 10,
			    priv->no_irq ? ", polling (no vector 0)" : "");
	else
		netdev_info(priv->ndev, "slot %d, rings of %u KiB, polling (no doorbell)\n",
			    s, priv->ring_size >> 10);
	return true;
}

/* Whether this side has a slot and still owns it. The heartbeat stops
 * while the interface is down, and a peer may then have taken the slot
 * over. Under @lock, or with the work cancelled.
 */
static bool ivnet_owns_slot(struct ivnet *priv)
{
	return priv->slot >= 0 &&
	       ivnet_rd(priv, priv->me + IVNET_H(owner)) == priv->mine;
}

static void ivnet_set_state(struct ivnet *priv, enum ivnet_state state)
{
	priv->state = state;
	/* The header's other fields before the state that makes them
	 * valid (a write-back view does not order them otherwise).
	 */
	wmb();
	ivnet_wr(priv, priv->me + IVNET_H(state), state);
	ivnet_ring_peer(priv);
}

/* Stop the data path and leave the session. Under @lock. */
static void ivnet_link_down(struct ivnet *priv)
{
	bool was = priv->state == IVNET_RUN;

	WRITE_ONCE(priv->run, false);
	netif_carrier_off(priv->ndev);
	hrtimer_cancel(&priv->poll_timer);
	/* NAPI first: a poll in flight may still wake the queue. */
	napi_disable(&priv->napi);
	netif_tx_disable(priv->ndev);
	napi_enable(&priv->napi);
	if (was) {
		ivnet_count(priv, IVNET_ST_RESETS, 1);
		/* A peer can make the link flap: the log keeps up. */
		if (net_ratelimit())
			netdev_info(priv->ndev, "link down\n");
	}
}

/* One step of the session (Documentation/ivshmem-net.rst): RESET starts
 * a session with a new epoch and empty rings; INIT waits for the peer in
 * INIT or READY and takes its epoch; READY waits for the peer in READY or
 * RUN with that epoch and echoing this side's epoch in its peer_epoch;
 * RUN lasts while the peer stays so, alive, and no protocol error
 * happened. Under @lock.
 */
static void ivnet_step(struct ivnet *priv)
{
	u32 p = priv->peer;
	u32 pstate, pepoch, echo, owner;
	bool valid;

	owner = ivnet_rd(priv, p + IVNET_H(owner));
	/* An owner with this side's own value is no peer: ringing it would
	 * ring this side. An owner is a peer ID + 1 or, without doorbell,
	 * IVNET_OWNER_NODB and random bits.
	 */
	valid = ivnet_rd(priv, p + IVNET_H(magic)) == IVNET_MAGIC &&
		ivnet_rd(priv, p + IVNET_H(version)) == IVNET_VERSION &&
		owner != 0 && owner != priv->mine &&
		(owner - 1 <= IVNET_MAX_PEER_ID || owner & IVNET_OWNER_NODB) &&
		ivnet_alive(priv, !priv->slot);
	pstate = valid ? ivnet_rd(priv, p + IVNET_H(state)) : IVNET_RESET;
	/* The state before the fields it makes valid. */
	rmb();
	pepoch = ivnet_rd(priv, p + IVNET_H(epoch));
	echo = ivnet_rd(priv, p + IVNET_H(peer_epoch));
	if (pstate > IVNET_RUN) {
		ivnet_count(priv, IVNET_ST_PROTO_ERRORS, 1);
		pstate = IVNET_RESET;
	}
	/* The session was made with the slot's owner then: another owner
	 * (a new peer, or a peer pointing the doorbell elsewhere) ends it,
	 * and is not rung until it made a session; so does an owner that
	 * stopped (its peer ID may be another VM's by now).
	 */
	if (priv->state >= IVNET_READY &&
	    (!valid || owner != priv->peer_owner)) {
		WRITE_ONCE(priv->ring_to, -1);
		pstate = IVNET_RESET;
	}

	switch (priv->state) {
	case IVNET_RUN:
		if (READ_ONCE(priv->run) && pstate >= IVNET_READY &&
		    pepoch == priv->peer_epoch && echo == priv->epoch) {
			/* A stopped queue whose doorbell was lost (the peer
			 * freed space without crossing half the ring after
			 * the stop) is looked at again every tick.
			 */
			if (netif_queue_stopped(priv->ndev)) {
				local_bh_disable();
				napi_schedule(&priv->napi);
				local_bh_enable();
			}
			return;
		}
		ivnet_link_down(priv);
		fallthrough;
	case IVNET_RESET:
		/* The state and the new epoch first: a peer still in the
		 * old session that sees the zeroed indices below sees these
		 * too, and takes them for the end of the session, not for a
		 * protocol error (ivnet_proto_error()).
		 */
		priv->state = IVNET_RESET;
		priv->epoch = get_random_u32();
		ivnet_wr(priv, priv->me + IVNET_H(state), IVNET_RESET);
		ivnet_wr(priv, priv->me + IVNET_H(epoch), priv->epoch);
		/* The state and epoch before the indices. */
		wmb();
		priv->tx_prod = 0;
		priv->rx_cons = 0;
		ivnet_wr(priv, priv->me + IVNET_H(tx_prod), 0);
		ivnet_wr(priv, priv->me + IVNET_H(rx_cons), 0);
		ivnet_wr(priv, priv->me + IVNET_H(rx_kick), !priv->no_irq);
		ivnet_wr(priv, priv->me + IVNET_H(tx_kick), 0);
		ivnet_set_state(priv, IVNET_INIT);
		break;
	case IVNET_INIT:
		if (pstate != IVNET_INIT && pstate != IVNET_READY)
			break;
		priv->peer_epoch = pepoch;
		ivnet_wr(priv, priv->me + IVNET_H(peer_epoch), pepoch);
		/* A peer without doorbell is never rung, and never rings:
		 * this side polls then.
		 */
		priv->peer_owner = owner;
		priv->poll = priv->no_irq || (owner & IVNET_OWNER_NODB);
		WRITE_ONCE(priv->ring_to, priv->iadev->can_ring &&
			   !(owner & IVNET_OWNER_NODB) ? owner - 1 : -1);
		ivnet_set_state(priv, IVNET_READY);
		break;
	case IVNET_READY:
		if (pstate < IVNET_INIT || pepoch != priv->peer_epoch) {
			ivnet_set_state(priv, IVNET_RESET);
			break;
		}
		/* A peer in READY or RUN that does not echo this epoch is
		 * in an older session and will leave it.
		 */
		if (pstate < IVNET_READY || echo != priv->epoch)
			break;
		priv->state = IVNET_RUN;
		/* The header before the state, as in ivnet_set_state(). */
		wmb();
		ivnet_wr(priv, priv->me + IVNET_H(state), IVNET_RUN);
		WRITE_ONCE(priv->run, true);
		/* Process context: the softirqs that waking the queue and
		 * scheduling NAPI raise run at local_bh_enable(), not at
		 * the next interrupt.
		 */
		local_bh_disable();
		netif_carrier_on(priv->ndev);
		netif_wake_queue(priv->ndev);
		napi_schedule(&priv->napi);
		local_bh_enable();
		if (priv->poll)
			hrtimer_start(&priv->poll_timer,
				      ns_to_ktime(IVNET_POLL_NS),
				      HRTIMER_MODE_REL);
		if (net_ratelimit())
			netdev_info(priv->ndev, "link up%s\n",
				    priv->poll ? ", polling" : "");
		ivnet_ring_peer(priv);
		break;
	}
}

static void ivnet_work(struct work_struct *work)
{
	struct ivnet *priv = container_of(to_delayed_work(work), struct ivnet,
					  work);

	mutex_lock(&priv->lock);
	if (!priv->up)
		goto unlock;
	if (priv->slot < 0 && !ivnet_claim(priv))
		goto again;
	if (!ivnet_owns_slot(priv)) {
		ivnet_count(priv, IVNET_ST_TAKEOVERS, 1);
		/* A peer can write the owner every tick: the log keeps up. */
		if (net_ratelimit())
			netdev_warn(priv->ndev, "slot %d taken over by another peer\n",
				    priv->slot);
		if (priv->state == IVNET_RUN)
			ivnet_link_down(priv);
		priv->slot = -1;
		goto again;
	}
	ivnet_wr(priv, priv->me + IVNET_H(heartbeat), ++priv->hb);
	ivnet_step(priv);
again:
	schedule_delayed_work(&priv->work, IVNET_TICK);
unlock:
	mutex_unlock(&priv->lock);
}

static int ivnet_open(struct net_device *ndev)
{
	struct ivnet *priv = netdev_priv(ndev);

	netif_carrier_off(ndev);
	napi_enable(&priv->napi);
	mutex_lock(&priv->lock);
	priv->up = true;
	mutex_unlock(&priv->lock);
	mod_delayed_work(system_wq, &priv->work, 0);
	return 0;
}

static int ivnet_stop(struct net_device *ndev)
{
	struct ivnet *priv = netdev_priv(ndev);

	mutex_lock(&priv->lock);
	priv->up = false;
	if (priv->state == IVNET_RUN)
		ivnet_link_down(priv);
	priv->state = IVNET_RESET;
	/* Not in a slot a peer took over meanwhile. The owner is read and
	 * the state written in two accesses: a peer that takes the slot in
	 * between finds its state RESET once and starts a new session.
	 */
	if (ivnet_owns_slot(priv)) {
		ivnet_wr(priv, priv->me + IVNET_H(state), IVNET_RESET);
		ivnet_ring_peer(priv);
	}
	mutex_unlock(&priv->lock);
	cancel_delayed_work_sync(&priv->work);
	/* Stopped with the link already; a timer never outlives the open. */
	hrtimer_cancel(&priv->poll_timer);
	napi_disable(&priv->napi);
	return 0;
}

static void ivnet_get_stats64(struct net_device *ndev,
			      struct rtnl_link_stats64 *s)
{
	struct ivnet *priv = netdev_priv(ndev);

	s->rx_packets = ivnet_stat(priv, IVNET_ST_RX_PACKETS);
	s->rx_bytes = ivnet_stat(priv, IVNET_ST_RX_BYTES);
	s->tx_packets = ivnet_stat(priv, IVNET_ST_TX_PACKETS);
	s->tx_bytes = ivnet_stat(priv, IVNET_ST_TX_BYTES);
	s->tx_dropped = ivnet_stat(priv, IVNET_ST_TX_DROPPED);
	s->rx_dropped = ivnet_stat(priv, IVNET_ST_RX_DROPPED);
	s->tx_errors = ivnet_stat(priv, IVNET_ST_TX_TIMEOUTS);
	s->rx_length_errors = ivnet_stat(priv, IVNET_ST_RX_LENGTH_ERRORS);
	s->rx_errors = ivnet_stat(priv, IVNET_ST_PROTO_ERRORS) +
		       s->rx_length_errors;
}

static const struct net_device_ops ivnet_ops = {
	.ndo_open = ivnet_open,
	.ndo_stop = ivnet_stop,
	.ndo_start_xmit = ivnet_xmit,
	.ndo_tx_timeout = ivnet_tx_timeout,
	.ndo_get_stats64 = ivnet_get_stats64,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

static void ivnet_get_drvinfo(struct net_device *ndev,
			      struct ethtool_drvinfo *info)
{
	struct ivnet *priv = netdev_priv(ndev);

	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->bus_info, dev_name(&priv->iadev->adev.dev),
		sizeof(info->bus_info));
}

static int ivnet_get_sset_count(struct net_device *ndev, int sset)
{
	return sset == ETH_SS_STATS ? IVNET_ST_NR : -EOPNOTSUPP;
}

static void ivnet_get_strings(struct net_device *ndev, u32 sset, u8 *data)
{
	if (sset == ETH_SS_STATS)
		memcpy(data, ivnet_stat_names, sizeof(ivnet_stat_names));
}

static void ivnet_get_ethtool_stats(struct net_device *ndev,
				    struct ethtool_stats *stats, u64 *data)
{
	struct ivnet *priv = netdev_priv(ndev);
	int i;

	for (i = 0; i < IVNET_ST_NR; i++)
		data[i] = ivnet_stat(priv, i);
}

static const struct ethtool_ops ivnet_ethtool_ops = {
	.get_drvinfo = ivnet_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_sset_count = ivnet_get_sset_count,
	.get_strings = ivnet_get_strings,
	.get_ethtool_stats = ivnet_get_ethtool_stats,
};

/* A locally administered unicast address that the device gets at every
 * probe, also after a reboot: a hash of the PCI device's name (its bus
 * address), the ACRN region ID, and the VM's SMBIOS UUID if the platform
 * gives one (libvirt does), else this VM's peer ID. ACRN's hv-land peer
 * IDs are fixed by the scenario; QEMU's ivshmem-server gives them in the
 * order guests connect, so a guest without a UUID may get another
 * address after a restart. The UUID or peer ID tells apart the two ends
 * of a link, which often have the device at the same bus address.
 * Without a UUID and without a doorbell nothing tells them apart (every
 * VM has the same IVPosition): the address is random then, new at each
 * probe.
 */
static void ivnet_set_mac(struct ivnet *priv)
{
	struct ivshmem_aux_dev *iadev = priv->iadev;
	const char *uuid = dmi_get_system_info(DMI_PRODUCT_UUID);
	const char *bdf = dev_name(iadev->adev.dev.parent);
	u8 addr[2 * sizeof(u32)];
	u32 h;
	int i;

	if (!uuid && !iadev->can_ring) {
		eth_hw_addr_random(priv->ndev);
		return;
	}

	for (i = 0; i < 2; i++) {
		h = jhash(bdf, strlen(bdf), IVNET_MAGIC + i);
		h = jhash_2words(iadev->region_id, uuid ? 0 : iadev->peer_id,
				 h);
		if (uuid)
			h = jhash(uuid, strlen(uuid), h);
		memcpy(addr + i * sizeof(h), &h, sizeof(h));
	}
	/* Unicast, locally administered. */
	addr[0] = (addr[0] & ~0x01) | 0x02;
	eth_hw_addr_set(priv->ndev, addr);
}

static int ivnet_probe(struct auxiliary_device *adev,
		       const struct auxiliary_device_id *id)
{
	struct ivshmem_aux_dev *iadev = to_ivshmem_aux_dev(adev);
	u32 abi = ivshmem_aux_abi(iadev);
	struct net_device *ndev;
	struct ivnet *priv;
	u64 ring;
	int ret;

	if (abi != IVSHMEM_AUX_ABI) {
		dev_err(&adev->dev, "built for version %u of ivshmem's auxiliary interface, ivshmem.ko has %u: rebuild both\n",
			IVSHMEM_AUX_ABI, abi);
		return -EINVAL;
	}
	if (iadev->can_ring && iadev->peer_id > IVNET_MAX_PEER_ID) {
		dev_err(&adev->dev, "peer ID %u: above %u, which the doorbell cannot ring\n",
			iadev->peer_id, IVNET_MAX_PEER_ID);
		return -EINVAL;
	}
	if (iadev->shm_size < IVNET_HDR_AREA + 2 * IVNET_MIN_RING) {
		dev_err(&adev->dev, "BAR2 of %llu bytes: too small for two rings\n",
			iadev->shm_size);
		return -EINVAL;
	}
	ring = rounddown_pow_of_two((iadev->shm_size - IVNET_HDR_AREA) / 2);
	ring = min_t(u64, ring, SZ_1G);

	ndev = alloc_etherdev(sizeof(*priv));
	if (!ndev)
		return -ENOMEM;
	SET_NETDEV_DEV(ndev, &adev->dev);
	priv = netdev_priv(ndev);
	priv->ndev = ndev;
	priv->iadev = iadev;
	priv->ring_size = ring;
	priv->slot = -1;
	priv->claiming = -1;
	priv->ring_to = -1;
	/* Without a doorbell IVPosition tells no VM apart (QEMU's
	 * ivshmem-plain gives every VM the same one).
	 */
	priv->mine = iadev->can_ring ? iadev->peer_id + 1 :
		     IVNET_OWNER_NODB | get_random_u32();
	priv->no_irq = !iadev->can_ring ||
		       !(iadev->rx_mask & BIT(IVNET_VECTOR));
	mutex_init(&priv->lock);
	INIT_DELAYED_WORK(&priv->work, ivnet_work);
	hrtimer_setup(&priv->poll_timer, ivnet_poll_timer, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL);
	/* A slot's owner is gone after IVNET_PEER_TIMEOUT from now at least. */
	priv->seen_at[0] = jiffies;
	priv->seen_at[1] = jiffies;
	priv->seen_hb[0] = ivnet_rd(priv, ivnet_hdr(0) + IVNET_H(heartbeat));
	priv->seen_hb[1] = ivnet_rd(priv, ivnet_hdr(1) + IVNET_H(heartbeat));
	netif_napi_add(ndev, &priv->napi, ivnet_poll);

	ndev->netdev_ops = &ivnet_ops;
	ndev->ethtool_ops = &ivnet_ethtool_ops;
	ndev->watchdog_timeo = IVNET_TX_TIMEOUT;
	/* Linear frames: ivnet_write_shm() copies them in one piece. */
	ndev->min_mtu = ETH_MIN_MTU;
	/* Two records of the largest frame fit a ring. */
	ndev->max_mtu = min_t(u32, IVNET_MAX_FRAME,
			      ring / 2 - IVNET_REC_ALIGN) - VLAN_ETH_HLEN;
	ivnet_set_mac(priv);
	netif_carrier_off(ndev);

	auxiliary_set_drvdata(adev, priv);
	iadev->ops->set_handler(iadev, ivnet_irq, priv);
	ret = register_netdev(ndev);
	if (ret)
		goto clear_handler;
	return 0;

clear_handler:
	iadev->ops->set_handler(iadev, NULL, NULL);
	/* A doorbell since the handler was set may have queued the work. */
	cancel_delayed_work_sync(&priv->work);
	netif_napi_del(&priv->napi);
	free_netdev(ndev);
	return ret;
}

static void ivnet_remove(struct auxiliary_device *adev)
{
	struct ivnet *priv = auxiliary_get_drvdata(adev);
	struct ivshmem_aux_dev *iadev = priv->iadev;
	struct net_device *ndev = priv->ndev;

	unregister_netdev(ndev);
	iadev->ops->set_handler(iadev, NULL, NULL);
	cancel_delayed_work_sync(&priv->work);
	/* Leave the slot to the next interface on this peer or another,
	 * unless a peer took it over while the interface was down. As in
	 * ivnet_stop(), a peer that takes it between the read and the
	 * writes finds it free once and claims it again.
	 */
	if (ivnet_owns_slot(priv)) {
		ivnet_wr(priv, priv->me + IVNET_H(state), IVNET_RESET);
		ivnet_wr(priv, priv->me + IVNET_H(owner), 0);
		ivnet_ring_peer(priv);
	}
	netif_napi_del(&priv->napi);
	free_netdev(ndev);
}

static const struct auxiliary_device_id ivnet_ids[] = {
	{ .name = "ivshmem." IVSHMEM_AUX_NET },
	{ }
};
MODULE_DEVICE_TABLE(auxiliary, ivnet_ids);

static struct auxiliary_driver ivnet_driver = {
	.probe = ivnet_probe,
	.remove = ivnet_remove,
	.id_table = ivnet_ids,
};
module_auxiliary_driver(ivnet_driver);

MODULE_DESCRIPTION("Ethernet over ivshmem shared memory between two VMs");
MODULE_LICENSE("GPL");
MODULE_VERSION(IVSHMEM_VERSION);
MODULE_IMPORT_NS(IVSHMEM_NS_IVSHMEM);
