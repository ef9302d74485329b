/* SPDX-License-Identifier: MIT */
/*
 * IKE_SA_INIT against unauthenticated peers (src/ike/cookie.c, x_init.c):
 *   - cookies: made and verified over Ni | IPi | SPIi, version prefix,
 *     secret rotation with a grace time for the previous secret;
 *   - a cookie-enforcing responder (the front door, then an IKE SA only
 *     if it passes, as the daemon does) and an initiator that retries
 *     with the cookie: same SPIi, Ni and KEi, cookie first; no responder
 *     state before the cookie comes back;
 *   - COOKIE then INVALID_KE_PAYLOAD in one attempt (RFC 7296 §2.6);
 *   - INVALID_KE_PAYLOAD in both roles, bounded retries;
 *   - a responder that keeps asking for cookies: bounded, then FAILED;
 *   - forged and bad cookies; forged error notifies (§2.21.1);
 *   - error answers: UNSUPPORTED_CRITICAL_PAYLOAD, INVALID_MAJOR_VERSION,
 *     INVALID_SYNTAX, none to responses;
 *   - SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4) both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "ike/cookie.h"
#include "ike/ike_sa.h"
#include "ike_conn_fixture.h"

struct peer {
	struct ike_sa *sa; /* responder: NULL until the front door lets a
			    * request through */
	struct ike_conn conn;
	int children;
	uint32_t made;	  /* responder SAs made */
	bool need_cookie; /* responder: cookie_threshold reached */
	struct ike_cookies *jar;
};

static void child_cb(void *arg, const struct sa_params *in,
		     const struct sa_params *out)
{
	struct peer *p = arg;

	(void)in;
	(void)out;
	p->children++;
}

static void make_conn(struct ike_conn *c, bool initiator, const char *ike)
{
	fx_conn(c, initiator, ike, "aes128gcm16", "secret",
		initiator ? "198.51.100.16/28" : "198.51.100.32/28",
		initiator ? "198.51.100.32/28" : "198.51.100.16/28");
	c->reqid = 9;
}

static void setup_pair(struct peer *i, struct peer *r, const char *ike_i,
		       const char *ike_r, bool need_cookie)
{
	memset(i, 0, sizeof(*i));
	memset(r, 0, sizeof(*r));
	make_conn(&i->conn, true, ike_i);
	make_conn(&r->conn, false, ike_r);
	assert_int_equal(ike_sa_new(&i->conn, true, child_cb, i, &i->sa), 0);
	assert_int_equal(ike_cookies_new(1000, &r->jar), 0);
	r->need_cookie = need_cookie;
}

static void free_pair(struct peer *i, struct peer *r)
{
	ike_sa_free(i->sa);
	ike_sa_free(r->sa);
	ike_cookies_free(r->jar);
}

/*
 * To the responder, as src/daemon/ike.c does it: with no IKE SA yet, the
 * front door first; an IKE SA only for a request it lets through, and
 * kept only if the request made it half-open.  Answers replace *tx.
 */
static void to_resp(struct peer *r, struct ike_tx *tx)
{
	struct ike_tx next = {0};
	size_t k;

	for (k = 0; k < tx->n; k++) {
		struct ike_dgram_out d = tx->d[k];

		if (!r->sa) {
			if (ike_init_gate(r->jar, r->need_cookie, d.p, d.len,
					  &d.src, d.sport, &d.dst, d.dport,
					  &next) < 0)
				continue;
			assert_int_equal(ike_sa_new(&r->conn, false, child_cb,
						    r, &r->sa),
					 0);
			r->made++;
			ike_sa_recv(r->sa, d.p, d.len, &d.src, d.sport, &d.dst,
				    d.dport, &next);
			if (r->sa->state != IKE_S_INIT_DONE) {
				ike_sa_free(r->sa);
				r->sa = NULL;
			}
			continue;
		}
		ike_sa_recv(r->sa, d.p, d.len, &d.src, d.sport, &d.dst, d.dport,
			    &next);
	}
	ike_tx_clear(tx);
	*tx = next;
}

static void to_init(struct peer *i, struct ike_tx *tx)
{
	struct ike_tx next = {0};
	size_t k;

	for (k = 0; k < tx->n; k++)
		ike_sa_recv(i->sa, tx->d[k].p, tx->d[k].len, &tx->d[k].src,
			    tx->d[k].sport, &tx->d[k].dst, tx->d[k].dport,
			    &next);
	ike_tx_clear(tx);
	*tx = next;
}

/* Parse one datagram (port 500: no marker); owned result. */
static struct ikev2_msg *parse(const struct ike_dgram_out *d)
{
	struct ikev2_msg *m = malloc(sizeof(*m));

	assert_non_null(m);
	assert_int_equal(ikev2_parse_msg(d->p, d->len, m), 0);
	return m;
}

/* The body of the first payload of this type (a copy, owned). */
static uint8_t *body_of(const struct ikev2_msg *m, uint8_t type, size_t *len)
{
	size_t from = 0;
	const struct ikev2_payload *pl = ikev2_msg_next(m, type, &from);
	uint8_t *c;

	assert_non_null(pl);
	*len = buf_left(&pl->body);
	c = malloc(*len + 1);
	assert_non_null(c);
	memcpy(c, buf_cur(&pl->body), *len);
	return c;
}

/* An answer that is a single notify of this type, SPIr zero. */
static void check_notify_answer(const struct ike_tx *tx, uint16_t type,
				struct ikev2_notify *n, struct ikev2_msg **keep)
{
	static const uint8_t zero[IKE_SPI_LEN];
	struct ikev2_msg *m;

	assert_int_equal(tx->n, 1);
	m = parse(&tx->d[0]);
	assert_true(m->hdr.flags & IKEV2_FLAG_RESPONSE);
	assert_false(m->hdr.flags & IKEV2_FLAG_INITIATOR);
	assert_int_equal(m->hdr.version, 0x20);
	assert_memory_equal(m->hdr.spi_r, zero, IKE_SPI_LEN);
	assert_int_equal(m->n, 1);
	assert_non_null(ikev2_msg_notify(m, type, n));
	*keep = m;
}

static void test_jar(void **state)
{
	struct ike_cookies *c;
	struct ip_addr a, b;
	uint8_t ni[32], spi[8], ck[IKE_COOKIE_LEN], ck2[IKE_COOKIE_LEN];

	(void)state;
	memset(ni, 0x11, sizeof(ni));
	memset(spi, 0x22, sizeof(spi));
	assert_int_equal(addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(addr_parse("192.0.2.9", &b), 0);
	assert_int_equal(ike_cookies_new(100, &c), 0);
	assert_int_equal(ike_cookie_make(c, ni, 32, &a, spi, ck), 0);
	assert_int_equal(ike_cookie_verify(c, ck, sizeof(ck), ni, 32, &a, spi),
			 0);
	/* Same inputs, same cookie: nothing is kept per initiator. */
	assert_int_equal(ike_cookie_make(c, ni, 32, &a, spi, ck2), 0);
	assert_memory_equal(ck, ck2, sizeof(ck));
	/* Each input counts. */
	assert_int_equal(ike_cookie_verify(c, ck, sizeof(ck), ni, 32, &b, spi),
			 ERR_AUTH);
	assert_int_equal(ike_cookie_verify(c, ck, sizeof(ck), ni, 31, &a, spi),
			 ERR_AUTH);
	spi[7] ^= 1;
	assert_int_equal(ike_cookie_verify(c, ck, sizeof(ck), ni, 32, &a, spi),
			 ERR_AUTH);
	spi[7] ^= 1;
	assert_int_equal(
		ike_cookie_verify(c, ck, sizeof(ck) - 1, ni, 32, &a, spi),
		ERR_AUTH);
	ck2[IKE_COOKIE_LEN - 1] ^= 0x80;
	assert_int_equal(
		ike_cookie_verify(c, ck2, sizeof(ck2), ni, 32, &a, spi),
		ERR_AUTH);
	/* A version that names no secret of ours. */
	memcpy(ck2, ck, sizeof(ck));
	ck2[0] ^= 0x40;
	assert_int_equal(
		ike_cookie_verify(c, ck2, sizeof(ck2), ni, 32, &a, spi),
		ERR_AUTH);

	/* No rotation before IKE_COOKIE_ROTATE_S. */
	assert_int_equal(ike_cookies_tick(c, 100 + IKE_COOKIE_ROTATE_S - 1), 0);
	assert_int_equal(ike_cookie_make(c, ni, 32, &a, spi, ck2), 0);
	assert_memory_equal(ck, ck2, sizeof(ck));
	/* Rotated: a new version and value; the old cookie still works
	 * for IKE_COOKIE_GRACE_S. */
	assert_int_equal(ike_cookies_tick(c, 100 + IKE_COOKIE_ROTATE_S), 0);
	assert_int_equal(ike_cookie_make(c, ni, 32, &a, spi, ck2), 0);
	assert_memory_not_equal(ck, ck2, IKE_COOKIE_VERSION_LEN);
	assert_memory_not_equal(ck + 4, ck2 + 4, 32);
	assert_int_equal(ike_cookie_verify(c, ck, sizeof(ck), ni, 32, &a, spi),
			 0);
	assert_int_equal(
		ike_cookie_verify(c, ck2, sizeof(ck2), ni, 32, &a, spi), 0);
	assert_int_equal(ike_cookies_tick(c, 100 + IKE_COOKIE_ROTATE_S +
						     IKE_COOKIE_GRACE_S),
			 0);
	assert_int_equal(ike_cookie_verify(c, ck, sizeof(ck), ni, 32, &a, spi),
			 ERR_AUTH);
	assert_int_equal(
		ike_cookie_verify(c, ck2, sizeof(ck2), ni, 32, &a, spi), 0);
	/* Two rotations: the first cookie is gone even within grace. */
	assert_int_equal(ike_cookies_rotate(c, 5000), 0);
	assert_int_equal(ike_cookies_rotate(c, 5001), 0);
	assert_int_equal(
		ike_cookie_verify(c, ck2, sizeof(ck2), ni, 32, &a, spi),
		ERR_AUTH);
	ike_cookies_free(c);
	ike_cookies_free(NULL);
}

/* The whole exchange with a responder that wants cookies. */
static void test_cookie_exchange(void **state)
{
	struct peer i, r;
	struct ike_tx tx = {0};
	struct ikev2_msg *m1, *m2, *ans;
	struct ikev2_notify n;
	uint8_t *ke1, *ke2, *no1, *no2;
	size_t ke1_len, ke2_len, no1_len, no2_len;
	const struct ike_gate_stats *st;
	int step;

	(void)state;
	setup_pair(&i, &r, PROPOSAL_IKE_DEFAULT, PROPOSAL_IKE_DEFAULT, true);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	m1 = parse(&tx.d[0]);
	assert_null(ikev2_msg_notify(m1, IKEV2_N_COOKIE, &n));
	ke1 = body_of(m1, IKEV2_PL_KE, &ke1_len);
	no1 = body_of(m1, IKEV2_PL_NONCE, &no1_len);
	to_resp(&r, &tx);
	/* §2.6: a COOKIE answer and no responder state at all. */
	assert_null(r.sa);
	assert_int_equal(r.made, 0);
	check_notify_answer(&tx, IKEV2_N_COOKIE, &n, &ans);
	assert_int_equal(n.len, IKE_COOKIE_LEN);
	assert_memory_equal(ans->hdr.spi_i, m1->hdr.spi_i, IKE_SPI_LEN);
	free(ans);
	to_init(&i, &tx);
	/* The same request with the cookie first (§2.6). */
	assert_int_equal(i.sa->state, IKE_S_INIT_SENT);
	assert_int_equal(i.sa->cookie_tries, 1);
	assert_int_equal(tx.n, 1);
	m2 = parse(&tx.d[0]);
	assert_int_equal(m2->pl[0].type, IKEV2_PL_NOTIFY);
	assert_non_null(ikev2_msg_notify(m2, IKEV2_N_COOKIE, &n));
	assert_int_equal(n.len, IKE_COOKIE_LEN);
	assert_memory_equal(m2->hdr.spi_i, m1->hdr.spi_i, IKE_SPI_LEN);
	ke2 = body_of(m2, IKEV2_PL_KE, &ke2_len);
	no2 = body_of(m2, IKEV2_PL_NONCE, &no2_len);
	assert_int_equal(ke1_len, ke2_len);
	assert_memory_equal(ke1, ke2, ke1_len);
	assert_int_equal(no1_len, no2_len);
	assert_memory_equal(no1, no2, no1_len);
	assert_int_equal(m2->n, m1->n + 1);
	/* A lost answer: the timer resends the request with the cookie. */
	{
		struct ike_tx again = {0};

		assert_int_equal(ike_sa_retransmit(i.sa, &again), 0);
		assert_int_equal(again.d[0].len, tx.d[0].len);
		assert_memory_equal(again.d[0].p, tx.d[0].p, tx.d[0].len);
		ike_tx_clear(&again);
	}
	for (step = 0; step < 6 && tx.n; step++) {
		if (step % 2 == 0)
			to_resp(&r, &tx);
		else
			to_init(&i, &tx);
	}
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_non_null(r.sa);
	assert_int_equal(r.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(r.made, 1);
	assert_int_equal(i.children, 1);
	assert_int_equal(r.children, 1);
	st = ike_cookies_stats(r.jar);
	assert_int_equal(st->screened, 2);
	assert_int_equal(st->cookies_sent, 1);
	assert_int_equal(st->cookies_ok, 1);
	assert_int_equal(st->cookies_bad, 0);
	/* RFC 7427 §4: both sent SHA2-256/384/512 and Identity. */
	assert_int_equal(i.sa->peer_sig_hashes,
			 1u << IKE_HASH_SHA2_256 | 1u << IKE_HASH_SHA2_384 |
				 1u << IKE_HASH_SHA2_512 |
				 1u << IKE_HASH_IDENTITY);
	assert_int_equal(r.sa->peer_sig_hashes, i.sa->peer_sig_hashes);
	ike_tx_clear(&tx);
	free(ke1);
	free(ke2);
	free(no1);
	free(no2);
	free(m1);
	free(m2);
	free_pair(&i, &r);
}

/* §2.6 last paragraphs: COOKIE, then INVALID_KE_PAYLOAD, then the
 * request with the cookie and the other group. */
static void test_cookie_then_invalid_ke(void **state)
{
	struct peer i, r;
	struct ike_tx tx = {0};
	struct ikev2_msg *m, *ans;
	struct ikev2_notify n;
	int step;

	(void)state;
	setup_pair(&i, &r, "aes128gcm16-prfsha256-x25519-ecp256",
		   "aes128gcm16-prfsha256-ecp256", true);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	to_resp(&r, &tx); /* -> COOKIE */
	check_notify_answer(&tx, IKEV2_N_COOKIE, &n, &ans);
	free(ans);
	to_init(&i, &tx); /* request with cookie, x25519 */
	to_resp(&r, &tx); /* cookie ok, IKE SA made, INVALID_KE */
	check_notify_answer(&tx, IKEV2_N_INVALID_KE_PAYLOAD, &n, &ans);
	assert_int_equal(n.len, 2);
	assert_int_equal(be16_load(n.data), 19);
	free(ans);
	/* §1.2: the responder kept nothing. */
	assert_null(r.sa);
	assert_int_equal(r.made, 1);
	to_init(&i, &tx); /* request with cookie, ecp256 */
	assert_int_equal(tx.n, 1);
	m = parse(&tx.d[0]);
	assert_int_equal(m->pl[0].type, IKEV2_PL_NOTIFY);
	assert_non_null(ikev2_msg_notify(m, IKEV2_N_COOKIE, &n));
	free(m);
	for (step = 0; step < 6 && tx.n; step++) {
		if (step % 2 == 0)
			to_resp(&r, &tx);
		else
			to_init(&i, &tx);
	}
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(r.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(i.sa->ike.ke->iana_id, 19);
	assert_int_equal(i.sa->ke_retries, 1);
	assert_int_equal(i.sa->cookie_tries, 1);
	assert_int_equal(ike_cookies_stats(r.jar)->cookies_sent, 1);
	assert_int_equal(ike_cookies_stats(r.jar)->cookies_ok, 2);
	assert_int_equal(i.children + r.children, 2);
	free_pair(&i, &r);
}

/* INVALID_KE_PAYLOAD without cookies, and the initiator's bounds. */
static void test_invalid_ke_bounds(void **state)
{
	struct peer i, r;
	struct ike_tx tx = {0}, fake = {0};
	struct ikev2_hdr h;
	uint8_t grp[2];
	int k;

	(void)state;
	setup_pair(&i, &r, "aes128gcm16-prfsha256-x25519-ecp256-ecp384",
		   "aes128gcm16-prfsha256-ecp256", false);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, i.sa->spi_i, IKE_SPI_LEN);
	h.exchange = IKEV2_EXCH_IKE_SA_INIT;
	ike_tx_clear(&tx);
	/* A responder (or attacker) that never settles: asks for 19,
	 * then 20, then 19 again: two retries, then no more. */
	for (k = 0; k < 3; k++) {
		be16_store(grp, k % 2 ? 20 : 19);
		assert_int_equal(
			ike_plain_notify(&h, IKEV2_N_INVALID_KE_PAYLOAD, grp, 2,
					 &r.conn.local_addr, 500,
					 &i.conn.local_addr, 500, &fake),
			0);
		to_init(&i, &fake);
		assert_int_equal(fake.n, k < 2 ? 1 : 0);
		ike_tx_clear(&fake);
	}
	assert_int_equal(i.sa->ke_retries, 2);
	assert_int_equal(i.sa->state, IKE_S_INIT_SENT);
	/* A group we never offered: noted (§2.21.1), not a retry. */
	be16_store(grp, 14);
	assert_int_equal(ike_plain_notify(&h, IKEV2_N_INVALID_KE_PAYLOAD, grp,
					  2, &r.conn.local_addr, 500,
					  &i.conn.local_addr, 500, &fake),
			 0);
	to_init(&i, &fake);
	assert_int_equal(fake.n, 0);
	assert_int_equal(i.sa->init_err, IKEV2_N_INVALID_KE_PAYLOAD);
	assert_int_equal(i.sa->state, IKE_S_INIT_SENT);
	free_pair(&i, &r);

	/* The ordinary case, both roles, through the front door. */
	setup_pair(&i, &r, "aes128gcm16-prfsha256-x25519-ecp256",
		   "aes128gcm16-prfsha256-ecp256", false);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	for (k = 0; k < 8 && tx.n; k++) {
		if (k % 2 == 0)
			to_resp(&r, &tx);
		else
			to_init(&i, &tx);
	}
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(i.sa->ke_retries, 1);
	assert_int_equal(i.sa->cookie_tries, 0);
	assert_int_equal(r.made, 2); /* the INVALID_KE one was freed */
	assert_int_equal(ike_cookies_stats(r.jar)->cookies_sent, 0);
	free_pair(&i, &r);
}

/* A responder that asks for a new cookie every time. */
static void test_cookie_bounded(void **state)
{
	struct peer i, r;
	struct ike_tx tx = {0};
	int k;

	(void)state;
	setup_pair(&i, &r, PROPOSAL_IKE_DEFAULT, PROPOSAL_IKE_DEFAULT, true);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	for (k = 0; k < 10 && tx.n; k++) {
		/* A new secret each time: no cookie ever verifies. */
		assert_int_equal(ike_cookies_rotate(r.jar, 2000 + k), 0);
		assert_int_equal(ike_cookies_rotate(r.jar, 2000 + k), 0);
		to_resp(&r, &tx);
		assert_int_equal(tx.n, 1);
		to_init(&i, &tx);
	}
	assert_int_equal(k, 4); /* 1 + IKE_COOKIE_TRIES requests */
	assert_int_equal(i.sa->cookie_tries, 3);
	assert_null(r.sa);
	assert_int_equal(r.made, 0);
	assert_int_equal(ike_cookies_stats(r.jar)->cookies_bad, 3);
	/* §2.21.1: kept trying for one more retransmission, then gave
	 * up with the reason. */
	assert_int_equal(i.sa->state, IKE_S_INIT_SENT);
	assert_int_equal(ike_sa_retransmit(i.sa, &tx), 0);
	ike_tx_clear(&tx);
	assert_int_equal(ike_sa_retransmit(i.sa, &tx), ERR_NOTFOUND);
	assert_int_equal(tx.n, 0);
	assert_int_equal(i.sa->state, IKE_S_FAILED);
	assert_int_equal(i.sa->error, IKEV2_N_COOKIE);
	free_pair(&i, &r);
}

/* Forged answers: a COOKIE and a NO_PROPOSAL_CHOSEN from an attacker do
 * not stop the real exchange (§2.6, §2.21.1). */
static void test_forged(void **state)
{
	struct peer i, r;
	struct ike_tx tx = {0}, fake = {0};
	struct ikev2_hdr h;
	uint8_t junk[16];
	int k;

	(void)state;
	/* A forged COOKIE: the initiator retries with it; the responder
	 * does not need one, ignores the bad one, and goes on. */
	setup_pair(&i, &r, PROPOSAL_IKE_DEFAULT, PROPOSAL_IKE_DEFAULT, false);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	ike_tx_clear(&tx);
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, i.sa->spi_i, IKE_SPI_LEN);
	h.exchange = IKEV2_EXCH_IKE_SA_INIT;
	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(ike_plain_notify(&h, IKEV2_N_COOKIE, junk,
					  sizeof(junk), &r.conn.local_addr, 500,
					  &i.conn.local_addr, 500, &tx),
			 0);
	to_init(&i, &tx);
	assert_int_equal(tx.n, 1);
	for (k = 0; k < 6 && tx.n; k++) {
		if (k % 2 == 0)
			to_resp(&r, &tx);
		else
			to_init(&i, &tx);
	}
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(ike_cookies_stats(r.jar)->cookies_bad, 1);
	free_pair(&i, &r);

	/* A forged NO_PROPOSAL_CHOSEN before the real answer. */
	setup_pair(&i, &r, PROPOSAL_IKE_DEFAULT, PROPOSAL_IKE_DEFAULT, false);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	memcpy(h.spi_i, i.sa->spi_i, IKE_SPI_LEN);
	assert_int_equal(ike_plain_notify(&h, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL,
					  0, &r.conn.local_addr, 500,
					  &i.conn.local_addr, 500, &fake),
			 0);
	to_init(&i, &fake);
	assert_int_equal(fake.n, 0);
	assert_int_equal(i.sa->state, IKE_S_INIT_SENT);
	assert_int_equal(i.sa->init_err, IKEV2_N_NO_PROPOSAL_CHOSEN);
	for (k = 0; k < 6 && tx.n; k++) {
		if (k % 2 == 0)
			to_resp(&r, &tx);
		else
			to_init(&i, &tx);
	}
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(i.sa->init_err, 0);
	assert_int_equal(i.children, 1);
	free_pair(&i, &r);

	/* Only the error comes: one more retransmission, then FAILED. */
	setup_pair(&i, &r, PROPOSAL_IKE_DEFAULT, PROPOSAL_IKE_DEFAULT, false);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	ike_tx_clear(&tx);
	memcpy(h.spi_i, i.sa->spi_i, IKE_SPI_LEN);
	assert_int_equal(ike_plain_notify(&h, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL,
					  0, &r.conn.local_addr, 500,
					  &i.conn.local_addr, 500, &fake),
			 0);
	to_init(&i, &fake);
	assert_int_equal(ike_sa_retransmit(i.sa, &tx), 0);
	assert_int_equal(tx.n, 1);
	ike_tx_clear(&tx);
	assert_int_equal(ike_sa_retransmit(i.sa, &tx), ERR_NOTFOUND);
	assert_int_equal(i.sa->state, IKE_S_FAILED);
	assert_int_equal(i.sa->error, IKEV2_N_NO_PROPOSAL_CHOSEN);
	assert_non_null(strstr(i.sa->detail, "we offered"));
	free_pair(&i, &r);
}

/* §2.6: a wrong cookie is as good as none. */
static void test_bad_cookie(void **state)
{
	struct peer i, r;
	struct ike_tx tx = {0}, tx2 = {0};
	struct ikev2_msg *ans;
	struct ikev2_notify n;
	uint8_t *copy;
	size_t off, len;

	(void)state;
	setup_pair(&i, &r, PROPOSAL_IKE_DEFAULT, PROPOSAL_IKE_DEFAULT, true);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	to_resp(&r, &tx);
	to_init(&i, &tx);
	/* The request with the cookie: flip a bit of the cookie (after
	 * header 28 + notify header 8 + 4 version octets). */
	assert_int_equal(tx.n, 1);
	len = tx.d[0].len;
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, tx.d[0].p, len);
	off = 28 + 8 + 4;
	copy[off] ^= 1;
	assert_int_equal(ike_init_gate(r.jar, true, copy, len, &tx.d[0].src,
				       500, &tx.d[0].dst, 500, &tx2),
			 ERR_DROP);
	check_notify_answer(&tx2, IKEV2_N_COOKIE, &n, &ans);
	free(ans);
	ike_tx_clear(&tx2);
	assert_int_equal(ike_cookies_stats(r.jar)->cookies_bad, 1);
	/* Not required: it goes through as if it had none. */
	assert_int_equal(ike_init_gate(r.jar, false, copy, len, &tx.d[0].src,
				       500, &tx.d[0].dst, 500, &tx2),
			 0);
	assert_int_equal(tx2.n, 0);
	/* The real one passes; from another address it does not. */
	assert_int_equal(ike_init_gate(r.jar, true, tx.d[0].p, len,
				       &tx.d[0].src, 500, &tx.d[0].dst, 500,
				       &tx2),
			 0);
	assert_int_equal(ike_init_gate(r.jar, true, tx.d[0].p, len,
				       &r.conn.local_addr, 500, &tx.d[0].dst,
				       500, &tx2),
			 ERR_DROP);
	assert_int_equal(tx2.n, 1);
	ike_tx_clear(&tx2);
	free(copy);
	ike_tx_clear(&tx);
	free_pair(&i, &r);
}

/* §3.10.1, §2.5, §2.21.1: what the front door answers, statelessly. */
static void test_error_answers(void **state)
{
	struct peer i, r;
	struct ike_tx tx = {0}, out = {0};
	struct ikev2_builder b;
	struct ikev2_hdr h;
	struct ikev2_msg *ans;
	struct ikev2_notify n;
	struct wbuf w;
	struct ip_addr src, dst;
	uint8_t body[8] = {0}, *copy;
	size_t len;

	(void)state;
	setup_pair(&i, &r, PROPOSAL_IKE_DEFAULT, PROPOSAL_IKE_DEFAULT, false);
	src = i.conn.local_addr;
	dst = r.conn.local_addr;
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	len = tx.d[0].len;

	/* An unknown critical payload (type 200). */
	assert_int_equal(wbuf_init(&w, 128), 0);
	memset(&h, 0, sizeof(h));
	memcpy(h.spi_i, i.sa->spi_i, IKE_SPI_LEN);
	h.exchange = IKEV2_EXCH_IKE_SA_INIT;
	h.flags = IKEV2_FLAG_INITIATOR;
	assert_int_equal(ikev2_build_begin(&b, &w, &h), 0);
	assert_int_equal(ikev2_add_raw(&b, 200, true, body, sizeof(body)), 0);
	assert_int_equal(ikev2_build_end(&b), 0);
	assert_int_equal(ike_init_gate(r.jar, false, w.p, w.len, &src, 500,
				       &dst, 500, &out),
			 ERR_DROP);
	check_notify_answer(&out, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD, &n,
			    &ans);
	assert_int_equal(n.len, 1);
	assert_int_equal(n.data[0], 200);
	assert_int_equal(ans->hdr.exchange, IKEV2_EXCH_IKE_SA_INIT);
	assert_true(addr_equal(&out.d[0].dst, &src));
	free(ans);
	ike_tx_clear(&out);
	/* Not critical: skipped, and then SA/KE/Nonce are missing. */
	w.len = 0;
	assert_int_equal(ikev2_build_begin(&b, &w, &h), 0);
	assert_int_equal(ikev2_add_raw(&b, 200, false, body, sizeof(body)), 0);
	assert_int_equal(ikev2_build_end(&b), 0);
	assert_int_equal(ike_init_gate(r.jar, false, w.p, w.len, &src, 500,
				       &dst, 500, &out),
			 ERR_DROP);
	check_notify_answer(&out, IKEV2_N_INVALID_SYNTAX, &n, &ans);
	free(ans);
	ike_tx_clear(&out);
	/* The same, marked as a response: never answered. */
	w.len = 0;
	h.flags = IKEV2_FLAG_RESPONSE;
	assert_int_equal(ikev2_build_begin(&b, &w, &h), 0);
	assert_int_equal(ikev2_add_raw(&b, 200, true, body, sizeof(body)), 0);
	assert_int_equal(ikev2_build_end(&b), 0);
	assert_int_equal(ike_init_gate(r.jar, false, w.p, w.len, &src, 500,
				       &dst, 500, &out),
			 ERR_DROP);
	assert_int_equal(out.n, 0);
	wbuf_free(&w);

	/* Major version 3 (§2.5): INVALID_MAJOR_VERSION, version 2.0 in
	 * our header, whatever the exchange. */
	copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, tx.d[0].p, len);
	copy[17] = 0x30;
	assert_int_equal(ike_init_gate(r.jar, false, copy, len, &src, 500, &dst,
				       500, &out),
			 ERR_DROP);
	check_notify_answer(&out, IKEV2_N_INVALID_MAJOR_VERSION, &n, &ans);
	free(ans);
	ike_tx_clear(&out);
	copy[18] = IKEV2_EXCH_INFORMATIONAL;
	assert_int_equal(ike_init_gate(r.jar, false, copy, len, &src, 500, &dst,
				       500, &out),
			 ERR_DROP);
	assert_int_equal(out.n, 1);
	ike_tx_clear(&out);
	/* ... but not to a response. */
	copy[19] |= IKEV2_FLAG_RESPONSE;
	assert_int_equal(ike_init_gate(r.jar, false, copy, len, &src, 500, &dst,
				       500, &out),
			 ERR_DROP);
	assert_int_equal(out.n, 0);
	/* Minor version 2.1 is fine (§2.5). */
	memcpy(copy, tx.d[0].p, len);
	copy[17] = 0x21;
	assert_int_equal(ike_init_gate(r.jar, false, copy, len, &src, 500, &dst,
				       500, &out),
			 0);
	/* Truncated: the header length does not match. */
	assert_int_equal(ike_init_gate(r.jar, false, tx.d[0].p, len - 3, &src,
				       500, &dst, 500, &out),
			 ERR_DROP);
	check_notify_answer(&out, IKEV2_N_INVALID_SYNTAX, &n, &ans);
	free(ans);
	ike_tx_clear(&out);
	/* Too short for a header: dropped, unanswered. */
	assert_int_equal(ike_init_gate(r.jar, false, tx.d[0].p, 20, &src, 500,
				       &dst, 500, &out),
			 ERR_DROP);
	assert_int_equal(out.n, 0);
	/* On 4500, with the non-ESP marker; the answer has one too. */
	free(copy);
	copy = calloc(1, len + 4);
	assert_non_null(copy);
	memcpy(copy + 4, tx.d[0].p, len);
	copy[4 + 17] = 0x30;
	assert_int_equal(ike_init_gate(r.jar, false, copy, len + 4, &src, 4500,
				       &dst, 4500, &out),
			 ERR_DROP);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.d[0].sport, 4500);
	assert_memory_equal(out.d[0].p, "\0\0\0\0", 4);
	ike_tx_clear(&out);
	assert_int_equal(ike_cookies_stats(r.jar)->errors_sent, 6);
	free(copy);
	ike_tx_clear(&tx);
	free_pair(&i, &r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jar),
		cmocka_unit_test(test_cookie_exchange),
		cmocka_unit_test(test_cookie_then_invalid_ke),
		cmocka_unit_test(test_invalid_ke_bounds),
		cmocka_unit_test(test_cookie_bounded),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_bad_cookie),
		cmocka_unit_test(test_error_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
