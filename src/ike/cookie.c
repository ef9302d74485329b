/* SPDX-License-Identifier: MIT */
/*
 * The responder's stateless front door: COOKIE (RFC 7296 §2.6) and the
 * unauthenticated error answers to IKE_SA_INIT; see cookie.h.
 */
#include "ike/cookie.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"

#define SECRET_LEN 32

struct cookie_secret {
	uint32_t version;
	struct mac_ctx *mac; /* HMAC-SHA-256 keyed with the secret */
};

struct ike_cookies {
	struct cookie_secret cur, prev; /* prev.mac NULL: none */
	uint64_t rotated_at;
	struct ike_gate_stats st;
};

static struct log_ratelimit gate_rl = LOG_RATELIMIT_INIT(10, 5);

/* Peer-caused events: debug level, rate-limited (HACKING.md). */
__attribute__((format(printf, 1, 2))) static void gate_log(const char *fmt, ...)
{
	char line[256];
	uint32_t held;
	va_list ap;

	if (!log_enabled(LS_IKE, LL_DEBUG) ||
	    !log_ratelimit_ok(&gate_rl, &held))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_dbg(LS_IKE,
		"IKE_SA_INIT front door: %s (%u similar lines "
		"suppressed before)",
		line, held);
}

static int secret_new(struct cookie_secret *s, uint32_t version)
{
	uint8_t key[SECRET_LEN];
	int r;

	s->version = version;
	s->mac = NULL;
	r = crypto_random(key, sizeof(key));
	if (r == 0)
		r = mac_ctx_new(MAC_KIND_HMAC, "SHA256", key, sizeof(key),
				&s->mac);
	/* The MAC context keeps its own copy of the key. */
	crypto_wipe(key, sizeof(key));
	return r;
}

int ike_cookies_new(uint64_t now, struct ike_cookies **out)
{
	struct ike_cookies *c;
	uint32_t v;
	int r;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ERR_NOMEM;
	/* A random first version: cookies from before a restart do not
	 * name a secret we hold (and would not verify anyway). */
	r = crypto_random(&v, sizeof(v));
	if (r == 0)
		r = secret_new(&c->cur, v);
	if (r < 0) {
		ike_cookies_free(c);
		return r;
	}
	c->rotated_at = now;
	*out = c;
	return 0;
}

void ike_cookies_free(struct ike_cookies *c)
{
	if (!c)
		return;
	mac_ctx_free(c->cur.mac);
	mac_ctx_free(c->prev.mac);
	crypto_wipe(c, sizeof(*c));
	free(c);
}

int ike_cookies_rotate(struct ike_cookies *c, uint64_t now)
{
	struct cookie_secret next;
	int r;

	r = secret_new(&next, c->cur.version + 1);
	if (r < 0)
		return r;
	/* §2.6: keep accepting cookies of the previous secret for a
	 * while, so an initiator that just got one is not refused. */
	mac_ctx_free(c->prev.mac);
	c->prev = c->cur;
	c->cur = next;
	c->rotated_at = now;
	return 0;
}

int ike_cookies_tick(struct ike_cookies *c, uint64_t now)
{
	if (!c)
		return 0;
	if (c->prev.mac && now >= c->rotated_at + IKE_COOKIE_GRACE_S) {
		mac_ctx_free(c->prev.mac);
		c->prev.mac = NULL;
	}
	if (now >= c->rotated_at + IKE_COOKIE_ROTATE_S)
		return ike_cookies_rotate(c, now);
	return 0;
}

const struct ike_gate_stats *ike_cookies_stats(const struct ike_cookies *c)
{
	return &c->st;
}

/* VersionIDofSecret | HMAC(secret, Ni | IPi | SPIi), RFC 7296 §2.6. */
static int cookie_calc(const struct cookie_secret *s, const uint8_t *ni,
		       size_t ni_len, const struct ip_addr *ipi,
		       const uint8_t spi_i[IKE_SPI_LEN],
		       uint8_t out[IKE_COOKIE_LEN])
{
	int r;

	be32_store(out, s->version);
	r = mac_init(s->mac);
	if (r == 0)
		r = mac_update(s->mac, ni, ni_len);
	if (r == 0)
		r = mac_update(s->mac, ipi->u.b, addr_len(ipi));
	if (r == 0)
		r = mac_update(s->mac, spi_i, IKE_SPI_LEN);
	if (r == 0)
		r = mac_final(s->mac, out + IKE_COOKIE_VERSION_LEN);
	return r;
}

int ike_cookie_make(struct ike_cookies *c, const uint8_t *ni, size_t ni_len,
		    const struct ip_addr *ipi, const uint8_t spi_i[IKE_SPI_LEN],
		    uint8_t out[IKE_COOKIE_LEN])
{
	return cookie_calc(&c->cur, ni, ni_len, ipi, spi_i, out);
}

int ike_cookie_verify(struct ike_cookies *c, const uint8_t *cookie, size_t len,
		      const uint8_t *ni, size_t ni_len,
		      const struct ip_addr *ipi,
		      const uint8_t spi_i[IKE_SPI_LEN])
{
	const struct cookie_secret *s = NULL;
	uint8_t want[IKE_COOKIE_LEN];
	uint32_t v;
	int r;

	if (len != IKE_COOKIE_LEN)
		return ERR_AUTH;
	/* The version names the secret; no trial of both. */
	v = be32_load(cookie);
	if (v == c->cur.version)
		s = &c->cur;
	else if (c->prev.mac && v == c->prev.version)
		s = &c->prev;
	if (!s)
		return ERR_AUTH;
	r = cookie_calc(s, ni, ni_len, ipi, spi_i, want);
	if (r < 0)
		return r;
	r = crypto_memeq(want, cookie, IKE_COOKIE_LEN) ? 0 : ERR_AUTH;
	crypto_wipe(want, sizeof(want));
	return r;
}

int ike_plain_notify(const struct ikev2_hdr *req, uint16_t type,
		     const uint8_t *data, size_t data_len,
		     const struct ip_addr *local, uint16_t lport,
		     const struct ip_addr *remote, uint16_t rport,
		     struct ike_tx *tx)
{
	struct ike_dgram_out *d;
	struct ikev2_builder b;
	struct ikev2_hdr h;
	struct wbuf w;
	size_t marker = lport == IKE_NATT_PORT ? 4 : 0;
	int r;

	if (tx->n >= IKE_TX_MAX)
		return ERR_LIMIT;
	r = wbuf_init(&w, 64);
	if (r < 0)
		return r;
	/* RFC 7296 §2.21.1: the answer names the request's SPIs (SPIr is
	 * zero in IKE_SA_INIT: we made no SA, §2.6); §2.5: our version
	 * (2.0) in the header tells a newer peer what we speak; §3.1: R
	 * set, I clear (we are not the original initiator). */
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, req->spi_i, IKE_SPI_LEN);
	memcpy(h.spi_r, req->spi_r, IKE_SPI_LEN);
	h.exchange = req->exchange;
	h.flags = IKEV2_FLAG_RESPONSE;
	h.msg_id = req->msg_id;
	r = wbuf_put_zero(&w, marker);
	if (r == 0)
		r = ikev2_build_begin(&b, &w, &h);
	if (r == 0)
		r = ikev2_add_notify(&b, IKEV2_PROTO_NONE, NULL, 0, type, data,
				     data_len);
	if (r == 0)
		r = ikev2_build_end(&b);
	if (r < 0) {
		wbuf_free(&w);
		return r;
	}
	d = &tx->d[tx->n];
	d->p = malloc(w.len);
	if (!d->p) {
		wbuf_free(&w);
		return ERR_NOMEM;
	}
	memcpy(d->p, w.p, w.len);
	d->len = w.len;
	d->src = *local;
	d->dst = *remote;
	d->sport = lport;
	d->dport = rport;
	tx->n++;
	wbuf_free(&w);
	return 0;
}

/* A request that did not parse: answer what ikev2_parse_msg() says to
 * answer, if it is a request we may answer at all. */
static void answer_bad(struct ike_cookies *c, const struct ikev2_msg *msg,
		       size_t len, const struct ip_addr *src, uint16_t sport,
		       const struct ip_addr *dst, uint16_t dport,
		       struct ike_tx *tx)
{
	const struct ikev2_hdr *h = &msg->hdr;
	char ab[ADDR_STRLEN];
	uint8_t pt = msg->notify_data;
	bool answer, crit;

	/* §2.21.1: never answer a response (that could loop), nor what
	 * is shorter than a header (we could not name its SPIs). */
	answer = len >= IKEV2_HDR_LEN && !(h->flags & IKEV2_FLAG_RESPONSE);
	if (msg->notify == IKEV2_N_INVALID_MAJOR_VERSION) {
		/* §2.5: any request of a higher major version. */
	} else if (msg->notify == IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD ||
		   msg->notify == IKEV2_N_INVALID_SYNTAX) {
		/* §2.21.1, §3.10.1: before an IKE SA exists, only an
		 * IKE_SA_INIT request gets an (unprotected) answer. */
		answer = answer && h->exchange == IKEV2_EXCH_IKE_SA_INIT &&
			 h->msg_id == 0;
	} else {
		answer = false;
	}
	/* §3.10.1: UNSUPPORTED_CRITICAL_PAYLOAD carries the payload type. */
	crit = msg->notify == IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD;
	if (!answer ||
	    ike_plain_notify(h, msg->notify, crit ? &pt : NULL, crit ? 1 : 0,
			     dst, dport, src, sport, tx) < 0) {
		c->st.dropped++;
		gate_log("from %s: dropped: %s", addr_fmt(src, ab, sizeof(ab)),
			 msg->why ? msg->why : "does not parse");
		return;
	}
	c->st.errors_sent++;
	gate_log("from %s: %s; answered with notify %u",
		 addr_fmt(src, ab, sizeof(ab)),
		 msg->why ? msg->why : "bad request", msg->notify);
}

int ike_init_gate(struct ike_cookies *c, bool need_cookie, const uint8_t *udp,
		  size_t len, const struct ip_addr *src, uint16_t sport,
		  const struct ip_addr *dst, uint16_t dport, struct ike_tx *tx)
{
	static const uint8_t zero[IKE_SPI_LEN];
	struct ikev2_msg *msg = NULL;
	struct ikev2_notify cn;
	struct ikev2_nonce ni;
	const struct ikev2_payload *pl;
	uint8_t cookie[IKE_COOKIE_LEN];
	char ab[ADDR_STRLEN];
	uint32_t marker;
	struct buf b;
	size_t from = 0;
	int r = ERR_DROP;

	c->st.screened++;
	/* RFC 3948 §2.2: on 4500, IKE follows a non-ESP marker. */
	if (dport == IKE_NATT_PORT) {
		buf_init(&b, udp, len);
		if (buf_get_u32(&b, &marker) || marker != 0) {
			c->st.dropped++;
			goto out;
		}
		udp = buf_cur(&b);
		len = buf_left(&b);
	}
	msg = malloc(sizeof(*msg));
	if (!msg) {
		r = ERR_NOMEM;
		goto out;
	}
	if (ikev2_parse_msg(udp, len, msg) < 0) {
		answer_bad(c, msg, len, src, sport, dst, dport, tx);
		goto out;
	}
	if ((msg->hdr.flags & IKEV2_FLAG_RESPONSE) ||
	    msg->hdr.exchange != IKEV2_EXCH_IKE_SA_INIT ||
	    msg->hdr.msg_id != 0 || memcmp(msg->hdr.spi_r, zero, IKE_SPI_LEN)) {
		c->st.dropped++;
		gate_log("from %s: not a new IKE_SA_INIT request",
			 addr_fmt(src, ab, sizeof(ab)));
		goto out;
	}
	pl = ikev2_msg_next(msg, IKEV2_PL_NONCE, &from);
	if (!pl || ikev2_decode_nonce(pl, &ni) < 0 ||
	    !ikev2_msg_next(msg, IKEV2_PL_SA, &(size_t){0}) ||
	    !ikev2_msg_next(msg, IKEV2_PL_KE, &(size_t){0})) {
		/* §2.21.1, §1.2: SAi1, KEi and Ni are mandatory. */
		if (ike_plain_notify(&msg->hdr, IKEV2_N_INVALID_SYNTAX, NULL, 0,
				     dst, dport, src, sport, tx) == 0)
			c->st.errors_sent++;
		else
			c->st.dropped++;
		gate_log("from %s: IKE_SA_INIT without SA, KE or Nonce",
			 addr_fmt(src, ab, sizeof(ab)));
		goto out;
	}
	if (ikev2_msg_notify(msg, IKEV2_N_COOKIE, &cn)) {
		if (ike_cookie_verify(c, cn.data, cn.len, ni.data, ni.len, src,
				      msg->hdr.spi_i) == 0) {
			c->st.cookies_ok++;
			r = 0;
			goto out;
		}
		/* §2.6: a cookie that does not match is ignored: the
		 * request is handled as if it had none. */
		c->st.cookies_bad++;
		gate_log("from %s: a COOKIE that is not ours (or too old)",
			 addr_fmt(src, ab, sizeof(ab)));
	}
	if (!need_cookie) {
		r = 0;
		goto out;
	}
	/* §2.6: too many half-open SAs: make the initiator prove it
	 * receives at its address before we spend state or a DH. */
	if (ike_cookie_make(c, ni.data, ni.len, src, msg->hdr.spi_i, cookie) <
		    0 ||
	    ike_plain_notify(&msg->hdr, IKEV2_N_COOKIE, cookie, sizeof(cookie),
			     dst, dport, src, sport, tx) < 0) {
		c->st.dropped++;
		goto out;
	}
	c->st.cookies_sent++;
	gate_log("from %s port %u: answered with a COOKIE",
		 addr_fmt(src, ab, sizeof(ab)), sport);
out:
	free(msg);
	return r;
}
