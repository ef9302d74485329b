/* SPDX-License-Identifier: MIT */
/*
 * IKEv2 message builder (RFC 7296 §3) over the growing writer.  Lengths
 * are reserved and patched with wbuf_patch_len16/32; each payload's Next
 * Payload field is patched when the following payload is added.  The
 * writer's first error is sticky, so builders return it at the end.
 */
#include "ike/ikev2_msg.h"

#include <string.h>

#include "common/err.h"

/* Offsets inside the fixed header (RFC 7296 §3.1). */
#define HDR_NEXT_OFF 16
#define HDR_LEN_OFF 24

static void builder_init(struct ikev2_builder *b, struct wbuf *w)
{
	memset(b, 0, sizeof(*b));
	b->w = w;
	b->start = w->len;
}

int ikev2_build_begin(struct ikev2_builder *b, struct wbuf *w,
		      const struct ikev2_hdr *h)
{
	builder_init(b, w);
	b->has_hdr = true;
	wbuf_put_bytes(w, h->spi_i, IKEV2_SPI_LEN);
	wbuf_put_bytes(w, h->spi_r, IKEV2_SPI_LEN);
	wbuf_put_u8(w, IKEV2_PL_NONE);
	wbuf_put_u8(w, h->version ? h->version : IKEV2_VERSION);
	wbuf_put_u8(w, h->exchange);
	wbuf_put_u8(w, h->flags);
	wbuf_put_u32(w, h->msg_id);
	wbuf_put_u32(w, 0);
	b->next_at = b->start + HDR_NEXT_OFF;
	b->has_next_at = true;
	return w->err;
}

int ikev2_build_begin_chain(struct ikev2_builder *b, struct wbuf *w)
{
	builder_init(b, w);
	return w->err;
}

int ikev2_build_end(struct ikev2_builder *b)
{
	if (b->has_hdr)
		wbuf_patch_len32(b->w, b->start + HDR_LEN_OFF, b->start);
	return b->w->err;
}

/*
 * Open a payload: patch the previous Next Payload field with type, write
 * the generic header (RFC 7296 §3.2) and return its offset in *at.
 */
static int pl_begin(struct ikev2_builder *b, uint8_t type, bool critical,
		    size_t *at)
{
	struct wbuf *w = b->w;

	/* RFC 7296 §3.14: nothing may follow the SK payload. */
	if (b->closed)
		return ERR_INVAL;
	if (b->has_next_at)
		wbuf_patch_u8(w, b->next_at, type);
	else if (!b->has_hdr && !b->first)
		b->first = type;	/* chain mode: the caller needs it */
	if (wbuf_reserve(w, IKEV2_GEN_HDR_LEN, at))
		return w->err;
	wbuf_patch_u8(w, *at + 1, critical ? IKEV2_CRITICAL : 0);
	b->next_at = *at;
	b->has_next_at = true;
	return w->err;
}

static int pl_end(struct ikev2_builder *b, size_t at)
{
	return wbuf_patch_len16(b->w, at + 2, at);
}

int ikev2_add_raw(struct ikev2_builder *b, uint8_t type, bool critical,
		  const uint8_t *body, size_t len)
{
	size_t at;
	int r;

	r = pl_begin(b, type, critical, &at);
	if (r)
		return r;
	wbuf_put_bytes(b->w, body, len);
	return pl_end(b, at);
}

/* Type, three reserved octets, data: ID, AUTH, CP share this shape. */
static int add_typed(struct ikev2_builder *b, uint8_t pl_type, uint8_t t,
		     const uint8_t *data, size_t len)
{
	size_t at;
	int r;

	r = pl_begin(b, pl_type, false, &at);
	if (r)
		return r;
	wbuf_put_u8(b->w, t);
	wbuf_put_zero(b->w, 3);
	wbuf_put_bytes(b->w, data, len);
	return pl_end(b, at);
}

static int add_xform(struct wbuf *w, const struct ikev2_xform_desc *t,
		     bool last)
{
	size_t at;

	/* RFC 7296 §3.3.2: last (0) or more (3), reserved, length. */
	if (wbuf_reserve(w, 4, &at))
		return w->err;
	wbuf_patch_u8(w, at, last ? IKEV2_LAST : IKEV2_MORE_TRANSFORMS);
	wbuf_put_u8(w, t->type);
	wbuf_put_u8(w, 0);
	wbuf_put_u16(w, t->id);
	/* RFC 7296 §3.3.5: Key Length is a TV attribute. */
	if (t->key_bits) {
		wbuf_put_u16(w, IKEV2_ATTR_TV | IKEV2_ATTR_KEY_LENGTH);
		wbuf_put_u16(w, t->key_bits);
	}
	return wbuf_patch_len16(w, at + 2, at);
}

int ikev2_add_sa(struct ikev2_builder *b, const struct ikev2_prop_desc *p,
		 size_t n)
{
	struct wbuf *w = b->w;
	size_t at, pat, i, j;
	int r;

	if (n == 0 || n > IKEV2_MAX_PROPOSALS)
		return ERR_INVAL;
	for (i = 0; i < n; i++) {
		if (p[i].n == 0 || p[i].n > IKEV2_MAX_TRANSFORMS ||
		    p[i].spi_size > IKEV2_MAX_SPI_LEN)
			return ERR_INVAL;
	}
	r = pl_begin(b, IKEV2_PL_SA, false, &at);
	if (r)
		return r;
	for (i = 0; i < n; i++) {
		/* RFC 7296 §3.3.1: last (0) or more (2), reserved, length,
		 * number, protocol, SPI size, transform count, SPI. */
		if (wbuf_reserve(w, 4, &pat))
			return w->err;
		wbuf_patch_u8(w, pat, i + 1 == n ? IKEV2_LAST
						 : IKEV2_MORE_PROPOSALS);
		wbuf_put_u8(w, p[i].num ? p[i].num : (uint8_t)(i + 1));
		wbuf_put_u8(w, p[i].protocol);
		wbuf_put_u8(w, p[i].spi_size);
		wbuf_put_u8(w, (uint8_t)p[i].n);
		wbuf_put_bytes(w, p[i].spi, p[i].spi_size);
		for (j = 0; j < p[i].n; j++)
			add_xform(w, &p[i].t[j], j + 1 == p[i].n);
		wbuf_patch_len16(w, pat + 2, pat);
	}
	return pl_end(b, at);
}

int ikev2_add_ke(struct ikev2_builder *b, uint16_t group,
		 const uint8_t *data, size_t len)
{
	size_t at;
	int r;

	/* RFC 7296 §3.4 */
	r = pl_begin(b, IKEV2_PL_KE, false, &at);
	if (r)
		return r;
	wbuf_put_u16(b->w, group);
	wbuf_put_u16(b->w, 0);
	wbuf_put_bytes(b->w, data, len);
	return pl_end(b, at);
}

int ikev2_add_id(struct ikev2_builder *b, uint8_t type, uint8_t id_type,
		 const uint8_t *data, size_t len)
{
	if (type != IKEV2_PL_IDI && type != IKEV2_PL_IDR)
		return ERR_INVAL;
	return add_typed(b, type, id_type, data, len);	/* RFC 7296 §3.5 */
}

int ikev2_add_cert(struct ikev2_builder *b, uint8_t type, uint8_t encoding,
		   const uint8_t *data, size_t len)
{
	size_t at;
	int r;

	if (type != IKEV2_PL_CERT && type != IKEV2_PL_CERTREQ)
		return ERR_INVAL;
	/* RFC 7296 §3.6, §3.7: encoding octet, then the data. */
	r = pl_begin(b, type, false, &at);
	if (r)
		return r;
	wbuf_put_u8(b->w, encoding);
	wbuf_put_bytes(b->w, data, len);
	return pl_end(b, at);
}

int ikev2_add_auth(struct ikev2_builder *b, uint8_t method,
		   const uint8_t *data, size_t len)
{
	return add_typed(b, IKEV2_PL_AUTH, method, data, len); /* §3.8 */
}

int ikev2_add_nonce(struct ikev2_builder *b, const uint8_t *data,
		    size_t len)
{
	/* RFC 7296 §3.9 */
	if (len < IKEV2_NONCE_MIN || len > IKEV2_NONCE_MAX)
		return ERR_INVAL;
	return ikev2_add_raw(b, IKEV2_PL_NONCE, false, data, len);
}

int ikev2_add_notify(struct ikev2_builder *b, uint8_t protocol,
		     const uint8_t *spi, size_t spi_len, uint16_t type,
		     const uint8_t *data, size_t len)
{
	size_t at;
	int r;

	if (spi_len > UINT8_MAX)
		return ERR_INVAL;
	/* RFC 7296 §3.10 */
	r = pl_begin(b, IKEV2_PL_NOTIFY, false, &at);
	if (r)
		return r;
	wbuf_put_u8(b->w, protocol);
	wbuf_put_u8(b->w, (uint8_t)spi_len);
	wbuf_put_u16(b->w, type);
	wbuf_put_bytes(b->w, spi, spi_len);
	wbuf_put_bytes(b->w, data, len);
	return pl_end(b, at);
}

int ikev2_add_delete(struct ikev2_builder *b, uint8_t protocol,
		     uint8_t spi_size, const uint8_t *spis, size_t count)
{
	size_t at;
	int r;

	if (count > UINT16_MAX)
		return ERR_INVAL;
	/* RFC 7296 §3.11 */
	r = pl_begin(b, IKEV2_PL_DELETE, false, &at);
	if (r)
		return r;
	wbuf_put_u8(b->w, protocol);
	wbuf_put_u8(b->w, spi_size);
	wbuf_put_u16(b->w, (uint16_t)count);
	wbuf_put_bytes(b->w, spis, count * spi_size);
	return pl_end(b, at);
}

int ikev2_add_vid(struct ikev2_builder *b, const uint8_t *data, size_t len)
{
	return ikev2_add_raw(b, IKEV2_PL_VID, false, data, len); /* §3.12 */
}

int ikev2_add_ts(struct ikev2_builder *b, uint8_t type,
		 const struct ikev2_ts *ts, size_t n)
{
	struct wbuf *w = b->w;
	size_t at, i, alen;
	int r;

	if ((type != IKEV2_PL_TSI && type != IKEV2_PL_TSR) || n == 0 ||
	    n > IKEV2_MAX_TS)
		return ERR_INVAL;
	for (i = 0; i < n; i++) {
		alen = addr_len(&ts[i].start);
		if (alen == 0 || ts[i].end.af != ts[i].start.af)
			return ERR_INVAL;
	}
	/* RFC 7296 §3.13: count, reserved, selectors (§3.13.1). */
	r = pl_begin(b, type, false, &at);
	if (r)
		return r;
	wbuf_put_u8(w, (uint8_t)n);
	wbuf_put_zero(w, 3);
	for (i = 0; i < n; i++) {
		alen = addr_len(&ts[i].start);
		wbuf_put_u8(w, alen == 4 ? IKEV2_TS_IPV4_ADDR_RANGE
					 : IKEV2_TS_IPV6_ADDR_RANGE);
		wbuf_put_u8(w, ts[i].ip_proto);
		wbuf_put_u16(w, (uint16_t)(8 + 2 * alen));
		wbuf_put_u16(w, ts[i].start_port);
		wbuf_put_u16(w, ts[i].end_port);
		wbuf_put_bytes(w, ts[i].start.u.b, alen);
		wbuf_put_bytes(w, ts[i].end.u.b, alen);
	}
	return pl_end(b, at);
}

int ikev2_add_cp(struct ikev2_builder *b, uint8_t cfg_type,
		 const struct ikev2_cp_attr *a, size_t n)
{
	struct wbuf *w = b->w;
	size_t at, i;
	int r;

	/* RFC 7296 §3.15: type, reserved, attributes (§3.15.1). */
	r = pl_begin(b, IKEV2_PL_CP, false, &at);
	if (r)
		return r;
	wbuf_put_u8(w, cfg_type);
	wbuf_put_zero(w, 3);
	for (i = 0; i < n; i++) {
		wbuf_put_u16(w, a[i].type & IKEV2_CFG_ATTR_TYPE_MASK);
		wbuf_put_u16(w, a[i].len);
		wbuf_put_bytes(w, a[i].value, a[i].len);
	}
	return pl_end(b, at);
}

int ikev2_add_eap(struct ikev2_builder *b, const uint8_t *msg, size_t len)
{
	return ikev2_add_raw(b, IKEV2_PL_EAP, false, msg, len); /* §3.16 */
}

/* --- SK envelope: RFC 7296 §3.14, RFC 7383 §2.5 --- */

static int sk_open(struct ikev2_builder *b, uint8_t type, uint16_t num,
		   uint16_t total, uint8_t inner_next, size_t iv_len)
{
	struct wbuf *w = b->w;
	size_t at;
	int r;

	if (b->in_sk || b->closed || !b->has_hdr)
		return ERR_INVAL;
	r = pl_begin(b, type, false, &at);
	if (r)
		return r;
	b->in_sk = true;
	b->sk_start = at;
	if (type == IKEV2_PL_SKF) {
		wbuf_put_u16(w, num);
		wbuf_put_u16(w, total);
		/* Inner payloads are not added to a fragment: its Next
		 * Payload is given, and no later payload patches it. */
		wbuf_patch_u8(w, at, inner_next);
		b->has_next_at = false;
	}
	b->sk_iv_off = w->len;
	b->sk_iv_len = iv_len;
	wbuf_put_zero(w, iv_len);
	return w->err;
}

int ikev2_sk_begin(struct ikev2_builder *b, size_t iv_len)
{
	return sk_open(b, IKEV2_PL_SK, 0, 0, 0, iv_len);
}

int ikev2_skf_begin(struct ikev2_builder *b, uint16_t frag_num,
		    uint16_t frag_total, uint8_t inner_next, size_t iv_len)
{
	if (frag_num == 0 || frag_num > frag_total)
		return ERR_INVAL;
	return sk_open(b, IKEV2_PL_SKF, frag_num, frag_total, inner_next,
		       iv_len);
}

int ikev2_sk_put_plain(struct ikev2_builder *b, uint8_t first,
		       const uint8_t *p, size_t len)
{
	if (!b->in_sk)
		return ERR_INVAL;
	/* Only if nothing was added yet: the SK Next Payload still 0. */
	if (first && b->has_next_at && b->next_at == b->sk_start) {
		wbuf_patch_u8(b->w, b->next_at, first);
		b->has_next_at = false;
	}
	return wbuf_put_bytes(b->w, p, len);
}

int ikev2_sk_end(struct ikev2_builder *b, size_t block, size_t icv_len,
		 struct ikev2_sk_frame *f)
{
	struct wbuf *w = b->w;
	size_t pt_off, inner, pad;

	if (!b->in_sk || block == 0 || block > 256)
		return ERR_INVAL;
	if (w->err)
		return w->err;
	pt_off = b->sk_iv_off + b->sk_iv_len;
	inner = w->len - pt_off;
	/* RFC 7296 §3.14: inner payloads + Padding + Pad Length fill whole
	 * cipher blocks; Pad Length counts the padding octets only. */
	pad = (block - (inner + 1) % block) % block;
	wbuf_put_zero(w, pad);
	wbuf_put_u8(w, (uint8_t)pad);
	f->icv_off = w->len;
	wbuf_put_zero(w, icv_len);
	wbuf_patch_len16(w, b->sk_start + 2, b->sk_start);
	b->in_sk = false;
	b->closed = true;
	ikev2_build_end(b);
	if (w->err)
		return w->err;
	f->msg_off = b->start;
	f->iv_off = b->sk_iv_off;
	f->iv_len = b->sk_iv_len;
	f->aad_len = b->sk_iv_off - b->start;
	f->pt_off = pt_off;
	f->pt_len = f->icv_off - pt_off;
	f->icv_len = icv_len;
	f->total = w->len - b->start;
	return 0;
}
