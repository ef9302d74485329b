/* SPDX-License-Identifier: MIT */
/*
 * A packet buffer with headroom and tailroom, so ESP/AH can encapsulate
 * and decapsulate in place: outer headers are pushed into the headroom,
 * the trailer and ICV are put into the tailroom, and nothing is copied.
 */
#ifndef IPSECD_ESP_PKT_H
#define IPSECD_ESP_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Room for IPv6 + UDP + ESP + IV in front, trailer + ICV behind. */
#define PKT_HEADROOM 128
#define PKT_TAILROOM 96
#define PKT_MAX_DATA 65535
#define PKT_BUF_SIZE (PKT_HEADROOM + PKT_MAX_DATA + PKT_TAILROOM)

struct pkt {
	uint8_t *base;	/* borrowed: owned by a pool or the caller */
	size_t cap;	/* bytes at base */
	size_t off;	/* data starts at base + off */
	size_t len;	/* data bytes */
};

static inline void pkt_init(struct pkt *p, uint8_t *base, size_t cap,
			    size_t headroom)
{
	p->base = base;
	p->cap = cap;
	p->off = headroom < cap ? headroom : cap;
	p->len = 0;
}
static inline uint8_t *pkt_data(const struct pkt *p)
{
	return p->base + p->off;
}
static inline size_t pkt_headroom(const struct pkt *p)
{
	return p->off;
}
static inline size_t pkt_tailroom(const struct pkt *p)
{
	return p->cap - p->off - p->len;
}
/* Prepend n bytes; *hdr points at them.  ERR_NOSPACE without headroom. */
static inline int pkt_push(struct pkt *p, size_t n, uint8_t **hdr)
{
	if (n > p->off)
		return ERR_NOSPACE;
	p->off -= n;
	p->len += n;
	*hdr = p->base + p->off;
	return 0;
}
/* Append n bytes; *tail points at them. */
static inline int pkt_put(struct pkt *p, size_t n, uint8_t **tail)
{
	if (n > pkt_tailroom(p))
		return ERR_NOSPACE;
	*tail = p->base + p->off + p->len;
	p->len += n;
	return 0;
}
/* Drop n bytes from the front. */
static inline int pkt_pull(struct pkt *p, size_t n)
{
	if (n > p->len)
		return ERR_SHORT;
	p->off += n;
	p->len -= n;
	return 0;
}
/* Cut the data to len bytes. */
static inline int pkt_trim(struct pkt *p, size_t len)
{
	if (len > p->len)
		return ERR_INVAL;
	p->len = len;
	return 0;
}

#endif
