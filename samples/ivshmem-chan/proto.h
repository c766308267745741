/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The example application protocol of ivshmem-chan-operator and
 * ivshmem-chan-responder (not part of the library): what a request and a
 * response hold, and how the operator checks a response on its own.
 *
 * request:  u32 seq, u32 plen, plen bytes: byte i = pattern(seq, i)
 * response: u32 seq, u32 hash (FNV-1a of the whole request as received),
 *           u32 plen, plen bytes: request byte i ^ 0xa5
 */
#ifndef IVSHMEM_CHAN_PROTO_H
#define IVSHMEM_CHAN_PROTO_H

#include <stdint.h>
#include <string.h>

#include "ivshmem-chan.h"

#define PROTO_REQ_HDR	8U
#define PROTO_RESP_HDR	12U
#define PROTO_MAX	IVC_SLOT_MAX

enum { PROTO_OK, PROTO_EARLIER, PROTO_BAD };

static inline unsigned char proto_pattern(uint32_t seq, uint32_t i)
{
	uint32_t x = seq * 2654435761U + i * 40503U + 0x9e37U;

	x ^= x >> 13;
	return (unsigned char)(x * 0x5bd1e995U >> 24);
}

/* Build request @seq for a payload of at most @max bytes; its length. */
static inline size_t proto_request(unsigned char *req, uint32_t seq,
				   uint32_t max)
{
	uint32_t plen, i, room = max - PROTO_RESP_HDR;

	/* Lengths vary over the whole range the response can carry. */
	plen = (seq * 37U) % (room + 1);
	memcpy(req, &seq, 4);
	memcpy(req + 4, &plen, 4);
	for (i = 0; i < plen; i++)
		req[PROTO_REQ_HDR + i] = proto_pattern(seq, i);
	return PROTO_REQ_HDR + plen;
}

/*
 * The responder's answer to @req (@len bytes) into @resp; its length, or
 * 0 for a malformed request. @max: the payload size.
 */
static inline size_t proto_respond(unsigned char *resp,
				   const unsigned char *req, size_t len,
				   uint32_t max)
{
	uint32_t plen, hash, i;

	if (len < PROTO_REQ_HDR)
		return 0;
	memcpy(&plen, req + 4, 4);
	if (plen != len - PROTO_REQ_HDR || PROTO_RESP_HDR + plen > max)
		return 0;
	hash = ivc_fnv(IVC_FNV_INIT, req, len);
	memcpy(resp, req, 4);
	memcpy(resp + 4, &hash, 4);
	memcpy(resp + 8, &plen, 4);
	for (i = 0; i < plen; i++)
		resp[PROTO_RESP_HDR + i] = req[PROTO_REQ_HDR + i] ^ 0xa5;
	return PROTO_RESP_HDR + plen;
}

/*
 * Check a response against request @seq, whose bytes the operator kept
 * (@req, @len, FNV-1a @hash). PROTO_EARLIER: an answer to an earlier
 * request (a duplicate).
 */
static inline int proto_check_response(const unsigned char *resp, size_t n,
				       uint32_t seq, uint32_t hash,
				       const unsigned char *req, size_t len,
				       uint32_t *plenp)
{
	uint32_t rseq, rhash, plen, i;

	if (n < PROTO_RESP_HDR)
		return PROTO_BAD;
	memcpy(&rseq, resp, 4);
	memcpy(&rhash, resp + 4, 4);
	memcpy(&plen, resp + 8, 4);
	*plenp = plen;
	if (rseq < seq)
		return PROTO_EARLIER;
	if (rseq != seq || rhash != hash || plen != len - PROTO_REQ_HDR ||
	    n != PROTO_RESP_HDR + plen)
		return PROTO_BAD;
	for (i = 0; i < plen; i++)
		if (resp[PROTO_RESP_HDR + i] != (req[PROTO_REQ_HDR + i] ^ 0xa5))
			return PROTO_BAD;
	return PROTO_OK;
}

#endif /* IVSHMEM_CHAN_PROTO_H */
