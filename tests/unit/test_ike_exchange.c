/* SPDX-License-Identifier: MIT */
/*
 * IKE_SA_INIT + IKE_AUTH (src/ike/ike_sa.c, x_init.c, x_auth.c): two IKE
 * SAs in one process exchange datagrams through memory.
 *   - success for several proposals: matching Child SA parameters;
 *   - wrong PSK: AUTHENTICATION_FAILED on both sides;
 *   - proposal mismatch: NO_PROPOSAL_CHOSEN;
 *   - KE group mismatch: INVALID_KE_PAYLOAD, retry, success;
 *   - retransmitted requests get the identical cached response;
 *   - truncated and bit-flipped messages are dropped, state unchanged;
 *   - a NAT between the peers: float to 4500, ESP-in-UDP ports;
 *   - transport mode; identity types;
 *   - against real strongSwan 5.9 messages (interop/results/capture-*):
 *     our responder takes strongSwan's IKE_SA_INIT request; with
 *     strongSwan's half of IKE_SA_INIT and the SK_* keys from its log
 *     grafted in, it verifies strongSwan's IKE_AUTH request, answers with
 *     the very AUTH value strongSwan computed, and derives the ESP keys
 *     charon logged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "charonlog.h"
#include "common/err.h"
#include "common/log.h"
#include "config/conn.h"
#include "ike/ike_sa.h"
#include "ike_conn_fixture.h"
#include "vectors.h"

/* An identity in the config's syntax (conn_id_parse). */
static int id_parse(const char *s, struct ike_id *id)
{
	const char *why;

	return conn_id_parse(s, id, &why);
}

struct side {
	struct ike_sa *sa;
	struct sa_params in, out;
	int children;
	/* The last datagram this side sent, for retransmission tests. */
	uint8_t last[4096];
	size_t last_len;
	struct ike_dgram_out last_d;
};

static void child_cb(void *arg, const struct sa_params *in,
		     const struct sa_params *out)
{
	struct side *s = arg;

	s->in = *in;
	s->out = *out;
	s->children++;
}

static void make_conn(struct ike_conn *c, bool initiator, const char *ike,
		      const char *esp, const char *psk)
{
	fx_conn(c, initiator, ike, esp, psk,
		initiator ? "198.51.100.16/28" : "198.51.100.32/28",
		initiator ? "198.51.100.32/28" : "198.51.100.16/28");
	c->reqid = 7;
}

static void new_pair(struct side *i, struct side *r, const struct ike_conn *ci,
		     const struct ike_conn *cr)
{
	memset(i, 0, sizeof(*i));
	memset(r, 0, sizeof(*r));
	assert_int_equal(ike_sa_new(ci, true, child_cb, i, &i->sa), 0);
	assert_int_equal(ike_sa_new(cr, false, child_cb, r, &r->sa), 0);
}

static void free_pair(struct side *i, struct side *r)
{
	ike_sa_free(i->sa);
	ike_sa_free(r->sa);
}

/* Optional NAT: the initiator's packets appear from this address. */
static struct ip_addr nat_addr;
static bool nat_on;

/* Deliver every datagram of *tx from `from` to `to`; the answers end up
 * in *tx.  Returns the number delivered. */
static size_t deliver(struct side *from, struct side *to, struct ike_tx *tx)
{
	struct ike_tx next = {0};
	struct ike_dgram_out d;
	size_t k, n = tx->n;

	for (k = 0; k < tx->n; k++) {
		d = tx->d[k];
		assert_true(d.len <= sizeof(from->last));
		memcpy(from->last, d.p, d.len);
		from->last_len = d.len;
		from->last_d = d;
		if (nat_on && from->sa->initiator) {
			d.src = nat_addr;
			d.sport = d.sport == 500 ? 30500 : 34500;
		}
		if (nat_on && !from->sa->initiator) {
			/* the NAT maps the answer back */
			d.dst = to->sa->conn.local_addr;
			d.dport = d.dport == 30500 ? 500 : 4500;
		}
		ike_sa_recv(to->sa, d.p, d.len, &d.src, d.sport, &d.dst,
			    d.dport, &next);
	}
	ike_tx_clear(tx);
	*tx = next;
	return n;
}

/* Run the exchange to the end (or max_steps deliveries). */
static void run(struct side *i, struct side *r, int max_steps)
{
	struct ike_tx tx = {0};
	int step;

	assert_int_equal(ike_sa_initiate(i->sa, &tx), 0);
	for (step = 0; step < max_steps && tx.n; step++)
		deliver(step % 2 ? r : i, step % 2 ? i : r, &tx);
	ike_tx_clear(&tx);
}

static void check_children(const struct side *i, const struct side *r)
{
	assert_int_equal(i->children, 1);
	assert_int_equal(r->children, 1);
	/* out SPI of one = in SPI of the other, same keys. */
	assert_int_equal(i->out.spi, r->in.spi);
	assert_int_equal(r->out.spi, i->in.spi);
	assert_true(i->in.spi != i->out.spi);
	assert_ptr_equal(i->out.encr, r->in.encr);
	assert_ptr_equal(i->out.integ, r->in.integ);
	assert_int_equal(i->out.enc_key_len, r->in.enc_key_len);
	assert_memory_equal(i->out.enc_key, r->in.enc_key, i->out.enc_key_len);
	assert_memory_equal(i->in.enc_key, r->out.enc_key, i->in.enc_key_len);
	assert_int_equal(i->out.integ_key_len, r->in.integ_key_len);
	if (i->out.integ_key_len)
		assert_memory_equal(i->out.integ_key, r->in.integ_key,
				    i->out.integ_key_len);
	assert_memory_not_equal(i->in.enc_key, i->out.enc_key,
				i->in.enc_key_len);
	assert_int_equal(i->in.dir, SA_DIR_IN);
	assert_int_equal(i->out.dir, SA_DIR_OUT);
	assert_true(addr_equal(&i->out.dst, &r->in.dst));
	assert_int_equal(i->in.n_ts_local, 1);
	assert_int_equal(r->in.n_ts_local, 1);
	assert_true(
		prefix_covers(&i->in.ts_local[0].net, &r->in.ts_remote[0].net));
	assert_int_equal(i->in.reqid, 7);
	assert_int_equal(i->in.mode, r->in.mode);
}

static void test_proposals(void **state)
{
	static const char *const ike[] = {
		"aes128gcm16-prfsha256-x25519",
		"aes256-sha256-modp2048",
		"chacha20poly1305-prfsha256-ecp256",
		"aes256gcm16-prfsha384-ecp384",
		PROPOSAL_IKE_DEFAULT,
	};
	static const char *const esp[] = {
		"aes128gcm16",	   "aes256-sha256",	 "chacha20poly1305",
		"aes256gcm16-esn", PROPOSAL_ESP_DEFAULT,
	};
	struct ike_conn ci, cr;
	struct side i, r;
	size_t k;

	(void)state;
	for (k = 0; k < 5; k++) {
		make_conn(&ci, true, ike[k], esp[k], "s3cret-psk");
		make_conn(&cr, false, ike[k], esp[k], "s3cret-psk");
		new_pair(&i, &r, &ci, &cr);
		run(&i, &r, 10);
		assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
		assert_int_equal(r.sa->state, IKE_S_ESTABLISHED);
		check_children(&i, &r);
		assert_int_equal(i.in.mode, IPSEC_MODE_TUNNEL);
		assert_int_equal(i.in.encap_sport, 0);
		assert_true(r.sa->initial_contact);
		if (k == 3)
			assert_true(i.in.esn && r.out.esn);
		free_pair(&i, &r);
	}
}

static void test_wrong_psk(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;

	(void)state;
	make_conn(&ci, true, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT,
		  "psk-one");
	make_conn(&cr, false, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT,
		  "psk-two");
	new_pair(&i, &r, &ci, &cr);
	run(&i, &r, 10);
	assert_int_equal(i.sa->state, IKE_S_FAILED);
	assert_int_equal(r.sa->state, IKE_S_FAILED);
	assert_int_equal(i.sa->error, IKEV2_N_AUTHENTICATION_FAILED);
	assert_int_equal(r.sa->error, IKEV2_N_AUTHENTICATION_FAILED);
	assert_int_equal(i.children + r.children, 0);
	free_pair(&i, &r);

	/* The responder's ID is not the one the initiator expects: the
	 * initiator refuses and tells the responder (§2.21.2). */
	make_conn(&ci, true, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	make_conn(&cr, false, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	assert_int_equal(id_parse("gw.example.org", &ci.remote_id), 0);
	assert_int_equal(id_parse("other.example.org", &cr.local_id), 0);
	new_pair(&i, &r, &ci, &cr);
	run(&i, &r, 10);
	assert_int_equal(i.sa->state, IKE_S_FAILED);
	assert_int_equal(i.sa->error, IKEV2_N_AUTHENTICATION_FAILED);
	assert_int_equal(r.sa->state, IKE_S_FAILED);
	assert_int_equal(r.sa->error, IKEV2_N_AUTHENTICATION_FAILED);
	free_pair(&i, &r);
}

static void test_no_proposal(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;

	(void)state;
	make_conn(&ci, true, "aes128-sha256-modp2048", "aes128gcm16", "k");
	make_conn(&cr, false, "aes256gcm16-prfsha384-x25519", "aes128gcm16",
		  "k");
	new_pair(&i, &r, &ci, &cr);
	run(&i, &r, 10);
	/* RFC 7296 §2.21.1: the notify is unauthenticated; the initiator
	 * waits one more retransmission before it believes it. */
	assert_int_equal(i.sa->state, IKE_S_INIT_SENT);
	{
		struct ike_tx tx = {0};

		assert_int_equal(ike_sa_retransmit(i.sa, &tx), 0);
		ike_tx_clear(&tx);
		assert_int_equal(ike_sa_retransmit(i.sa, &tx), ERR_NOTFOUND);
	}
	assert_int_equal(i.sa->state, IKE_S_FAILED);
	assert_int_equal(r.sa->state, IKE_S_FAILED);
	assert_int_equal(i.sa->error, IKEV2_N_NO_PROPOSAL_CHOSEN);
	assert_int_equal(r.sa->error, IKEV2_N_NO_PROPOSAL_CHOSEN);
	/* What each side offered, in words. */
	assert_non_null(strstr(r.sa->detail, "peer offered IKE:aes128/"));
	assert_non_null(
		strstr(r.sa->detail, "we accept aes256gcm16-prfsha384-x25519"));
	assert_non_null(strstr(i.sa->detail,
			       "we offered aes128-sha256-prfsha256-modp2048"));
	free_pair(&i, &r);

	/* ESP mismatch: the IKE SA stands, no Child SA (§2.21.3). */
	make_conn(&ci, true, PROPOSAL_IKE_DEFAULT, "aes128-sha256", "k");
	make_conn(&cr, false, PROPOSAL_IKE_DEFAULT, "aes256gcm16", "k");
	new_pair(&i, &r, &ci, &cr);
	run(&i, &r, 10);
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(r.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(i.sa->error, IKEV2_N_NO_PROPOSAL_CHOSEN);
	assert_non_null(strstr(r.sa->detail, "peer offered ESP:aes128/"));
	assert_int_equal(i.children + r.children, 0);
	free_pair(&i, &r);

	/* Disjoint traffic selectors: TS_UNACCEPTABLE. */
	make_conn(&ci, true, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	make_conn(&cr, false, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	fx_ts(&cr.remote_ts[0], "198.51.100.144/28");
	new_pair(&i, &r, &ci, &cr);
	run(&i, &r, 10);
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(i.sa->error, IKEV2_N_TS_UNACCEPTABLE);
	assert_int_equal(i.children + r.children, 0);
	free_pair(&i, &r);
}

static void test_invalid_ke(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;

	(void)state;
	/* The initiator guesses x25519; the responder only takes ecp256. */
	make_conn(&ci, true, "aes128gcm16-prfsha256-x25519-ecp256",
		  "aes128gcm16", "k");
	make_conn(&cr, false, "aes128gcm16-prfsha256-ecp256", "aes128gcm16",
		  "k");
	new_pair(&i, &r, &ci, &cr);
	run(&i, &r, 12);
	assert_int_equal(i.sa->ke_retries, 1);
	assert_int_equal(i.sa->ike.ke->iana_id, 19);
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(r.sa->state, IKE_S_ESTABLISHED);
	check_children(&i, &r);
	free_pair(&i, &r);

	/* The responder prefers ecp256 but takes the group of the KE
	 * payload when it is acceptable: no retry (§1.2). */
	make_conn(&ci, true, "aes128gcm16-prfsha256-x25519", "aes128gcm16",
		  "k");
	make_conn(&cr, false, "aes128gcm16-prfsha256-ecp256-x25519",
		  "aes128gcm16", "k");
	new_pair(&i, &r, &ci, &cr);
	run(&i, &r, 12);
	assert_int_equal(i.sa->ke_retries, 0);
	assert_int_equal(i.sa->ike.ke->iana_id, 31);
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	free_pair(&i, &r);
}

/* Retransmitted requests get the byte-identical cached response. */
static void test_retransmit(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;
	struct ike_tx tx = {0};
	uint8_t init_req[2048], init_resp[2048];
	size_t init_req_len, init_resp_len;
	struct ike_dgram_out d;

	(void)state;
	make_conn(&ci, true, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	make_conn(&cr, false, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	new_pair(&i, &r, &ci, &cr);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	deliver(&i, &r, &tx); /* INIT request -> R */
	init_req_len = i.last_len;
	memcpy(init_req, i.last, init_req_len);
	assert_int_equal(tx.n, 1);
	init_resp_len = tx.d[0].len;
	memcpy(init_resp, tx.d[0].p, init_resp_len);
	/* The same IKE_SA_INIT request again. */
	{
		struct ike_tx again = {0};

		d = i.last_d;
		assert_int_equal(ike_sa_recv(r.sa, init_req, init_req_len,
					     &d.src, d.sport, &d.dst, d.dport,
					     &again),
				 0);
		assert_int_equal(again.n, 1);
		assert_int_equal(again.d[0].len, init_resp_len);
		assert_memory_equal(again.d[0].p, init_resp, init_resp_len);
		ike_tx_clear(&again);
	}
	deliver(&r, &i, &tx); /* INIT response -> I */
	deliver(&i, &r, &tx); /* AUTH request -> R */
	assert_int_equal(r.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(tx.n, 1);
	{
		struct ike_tx again = {0};
		uint8_t auth_req[4096];
		size_t auth_req_len = i.last_len;

		memcpy(auth_req, i.last, auth_req_len);
		d = i.last_d;
		assert_int_equal(ike_sa_recv(r.sa, auth_req, auth_req_len,
					     &d.src, d.sport, &d.dst, d.dport,
					     &again),
				 0);
		assert_int_equal(again.n, 1);
		assert_int_equal(again.d[0].len, tx.d[0].len);
		assert_memory_equal(again.d[0].p, tx.d[0].p, tx.d[0].len);
		ike_tx_clear(&again);
		/* Still one Child SA. */
		assert_int_equal(r.children, 1);
	}
	/* The response is lost: the initiator's timer resends the request
	 * byte for byte and the responder answers from its cache. */
	ike_tx_clear(&tx);
	assert_int_equal(ike_sa_retransmit(i.sa, &tx), 0);
	assert_int_equal(tx.n, 1);
	assert_int_equal(tx.d[0].len, i.last_len);
	assert_memory_equal(tx.d[0].p, i.last, i.last_len);
	deliver(&i, &r, &tx);
	assert_int_equal(tx.n, 1);
	assert_int_equal(r.children, 1);
	deliver(&r, &i, &tx); /* AUTH response -> I */
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	check_children(&i, &r);
	assert_int_equal(ike_sa_retransmit(i.sa, &tx), ERR_NOTFOUND);
	ike_tx_clear(&tx);
	free_pair(&i, &r);

	/* A lost IKE_SA_INIT request goes out again unchanged. */
	new_pair(&i, &r, &ci, &cr);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	init_req_len = tx.d[0].len;
	memcpy(init_req, tx.d[0].p, init_req_len);
	ike_tx_clear(&tx);
	assert_int_equal(ike_sa_retransmit(i.sa, &tx), 0);
	assert_int_equal(tx.d[0].len, init_req_len);
	assert_memory_equal(tx.d[0].p, init_req, init_req_len);
	ike_tx_clear(&tx);
	free_pair(&i, &r);
}

/* Feed damaged copies of d to s: all dropped, nothing sent, no state
 * change. */
static void damage(struct side *s, const struct ike_dgram_out *d)
{
	struct ike_tx tx = {0};
	enum ike_state st = s->sa->state;
	uint64_t dropped = s->sa->dropped;
	uint8_t *copy = malloc(d->len);
	size_t k, n = 0;

	assert_non_null(copy);
	for (k = 1; k < d->len; k += 7) {
		assert_true(ike_sa_recv(s->sa, d->p, d->len - k, &d->src,
					d->sport, &d->dst, d->dport, &tx) < 0);
		n++;
	}
	for (k = 0; k < d->len * 8; k += 13) {
		memcpy(copy, d->p, d->len);
		copy[k / 8] ^= (uint8_t)(1u << (k % 8));
		assert_true(ike_sa_recv(s->sa, copy, d->len, &d->src, d->sport,
					&d->dst, d->dport, &tx) < 0);
		n++;
	}
	assert_int_equal(tx.n, 0);
	assert_int_equal(s->sa->state, st);
	assert_int_equal(s->sa->dropped, dropped + n);
	assert_int_equal(s->children, 0);
	free(copy);
}

static void test_damaged(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;
	struct ike_tx tx = {0};

	(void)state;
	make_conn(&ci, true, "aes256-sha256-modp2048", "aes256-sha256", "k");
	make_conn(&cr, false, "aes256-sha256-modp2048", "aes256-sha256", "k");
	new_pair(&i, &r, &ci, &cr);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	deliver(&i, &r, &tx); /* INIT */
	deliver(&r, &i, &tx); /* INIT response; AUTH request out */
	assert_int_equal(tx.n, 1);
	damage(&r, &tx.d[0]); /* damaged AUTH requests */
	assert_int_equal(r.sa->state, IKE_S_INIT_DONE);
	deliver(&i, &r, &tx); /* the real one */
	assert_int_equal(r.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(tx.n, 1);
	damage(&i, &tx.d[0]); /* damaged AUTH responses */
	assert_int_equal(i.sa->state, IKE_S_AUTH_SENT);
	deliver(&r, &i, &tx);
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	check_children(&i, &r);
	ike_tx_clear(&tx);
	free_pair(&i, &r);
}

static void test_nat_and_transport(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;

	(void)state;
	make_conn(&ci, true, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	make_conn(&cr, false, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	assert_int_equal(addr_parse("203.0.113.5", &nat_addr), 0);
	nat_on = true;
	new_pair(&i, &r, &ci, &cr);
	run(&i, &r, 10);
	nat_on = false;
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_true(i.sa->nat_local);
	assert_true(r.sa->nat_remote);
	assert_int_equal(i.sa->lport, 4500);
	check_children(&i, &r);
	/* RFC 3948: ESP in UDP between the floated ports. */
	assert_int_equal(i.out.encap_sport, 4500);
	assert_int_equal(i.out.encap_dport, 4500);
	assert_int_equal(r.out.encap_dport, 34500);
	assert_int_equal(r.in.encap_sport, 34500);
	free_pair(&i, &r);

	/* Transport mode with FQDN / email IDs configured both ways. */
	make_conn(&ci, true, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	make_conn(&cr, false, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	ci.mode = cr.mode = IPSEC_MODE_TRANSPORT;
	fx_ts(&ci.local_ts[0], "192.0.2.1/32");
	fx_ts(&ci.remote_ts[0], "192.0.2.2/32");
	fx_ts(&cr.local_ts[0], "192.0.2.0/24");
	fx_ts(&cr.remote_ts[0], "192.0.2.0/24");
	assert_int_equal(id_parse("user@a.example", &ci.local_id), 0);
	assert_int_equal(id_parse("user@a.example", &cr.remote_id), 0);
	assert_int_equal(id_parse("@b.example", &cr.local_id), 0);
	assert_int_equal(id_parse("b.example", &ci.remote_id), 0);
	new_pair(&i, &r, &ci, &cr);
	run(&i, &r, 10);
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	check_children(&i, &r);
	assert_int_equal(i.in.mode, IPSEC_MODE_TRANSPORT);
	/* §2.9: the responder narrowed its /24 to the initiator's /32. */
	assert_int_equal(r.in.ts_local[0].net.len, 32);
	assert_int_equal(r.in.ts_remote[0].net.len, 32);
	free_pair(&i, &r);
}

static void test_ids_and_ts(void **state)
{
	struct ike_id id;
	struct ikev2_ts_list l;
	struct ts_sel conf[2], out[SA_MAX_TS];
	uint8_t n;

	(void)state;
	assert_int_equal(id_parse("192.0.2.7", &id), 0);
	assert_int_equal(id.type, IKEV2_ID_IPV4_ADDR);
	assert_int_equal(id.len, 4);
	assert_int_equal(id_parse("2001:db8::1", &id), 0);
	assert_int_equal(id.type, IKEV2_ID_IPV6_ADDR);
	assert_int_equal(id_parse("a@b.c", &id), 0);
	assert_int_equal(id.type, IKEV2_ID_RFC822_ADDR);
	assert_int_equal(id_parse("@x.y", &id), 0);
	assert_int_equal(id.type, IKEV2_ID_FQDN);
	assert_int_equal(id.len, 3);
	assert_int_equal(id_parse("keyid:#0a0B", &id), 0);
	assert_int_equal(id.type, IKEV2_ID_KEY_ID);
	assert_int_equal(id.data[1], 0x0b);
	assert_int_equal(id_parse("keyid:#0", &id), ERR_INVAL);
	assert_int_equal(id_parse("", &id), ERR_INVAL);

	/* A range that is not a prefix splits into prefixes:
	 * 198.51.100.1 - 198.51.100.6 = .1/32 .2/31 .4/31 .6/32 */
	memset(&l, 0, sizeof(l));
	l.n = 1;
	assert_int_equal(addr_parse("198.51.100.1", &l.ts[0].start), 0);
	assert_int_equal(addr_parse("198.51.100.6", &l.ts[0].end), 0);
	l.ts[0].end_port = 65535;
	fx_ts(&conf[0], "198.51.100.0/24");
	assert_int_equal(ike_ts_narrow(&l, conf, 1, out, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(out[0].net.len, 32);
	assert_int_equal(out[1].net.len, 31);
	assert_int_equal(out[2].net.len, 31);
	assert_int_equal(out[3].net.len, 32);
	/* Ports and protocol intersect. */
	l.ts[0].ip_proto = 6;
	l.ts[0].start_port = 80;
	l.ts[0].end_port = 443;
	conf[0].port_lo = 400;
	assert_int_equal(ike_ts_narrow(&l, conf, 1, out, &n), 0);
	assert_int_equal(out[0].proto, 6);
	assert_int_equal(out[0].port_lo, 400);
	assert_int_equal(out[0].port_hi, 443);
	conf[0].proto = 17;
	assert_int_equal(ike_ts_narrow(&l, conf, 1, out, &n), ERR_NOTFOUND);
	/* Everything (0.0.0.0 - 255.255.255.255) against a /28. */
	conf[0].proto = 0;
	conf[0].port_lo = 0;
	l.ts[0].ip_proto = 0;
	l.ts[0].start_port = 0;
	l.ts[0].end_port = 65535;
	assert_int_equal(addr_parse("0.0.0.0", &l.ts[0].start), 0);
	assert_int_equal(addr_parse("255.255.255.255", &l.ts[0].end), 0);
	fx_ts(&conf[0], "198.51.100.80/28");
	assert_int_equal(ike_ts_narrow(&l, conf, 1, out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].net.len, 28);
	/* Whole address space stays one prefix. */
	fx_ts(&conf[0], "0.0.0.0/0");
	assert_int_equal(ike_ts_narrow(&l, conf, 1, out, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].net.len, 0);
	/* Families must match. */
	fx_ts(&conf[0], "2001:db8::/32");
	assert_int_equal(ike_ts_narrow(&l, conf, 1, out, &n), ERR_NOTFOUND);
}

/* IPv6 outer and inner addresses; the IDs default to ID_IPV6_ADDR. */
static void test_ipv6(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;

	(void)state;
	make_conn(&ci, true, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k6");
	make_conn(&cr, false, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k6");
	assert_int_equal(addr_parse("2001:db8::1", &ci.local_addr), 0);
	assert_int_equal(addr_parse("2001:db8::2", &ci.remote_addr), 0);
	cr.local_addr = ci.remote_addr;
	cr.remote_addr = ci.local_addr;
	fx_ts(&ci.local_ts[0], "2001:db8:1::/64");
	fx_ts(&ci.remote_ts[0], "2001:db8:2::/64");
	fx_ts(&cr.local_ts[0], "2001:db8:2::/48");
	fx_ts(&cr.remote_ts[0], "2001:db8:1::/48");
	assert_int_equal(id_parse("2001:db8::1", &cr.remote_id), 0);
	new_pair(&i, &r, &ci, &cr);
	run(&i, &r, 10);
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(r.sa->state, IKE_S_ESTABLISHED);
	assert_false(i.sa->nat_local || i.sa->nat_remote);
	check_children(&i, &r);
	assert_int_equal(r.in.ts_local[0].net.len, 64);
	assert_int_equal(i.out.dst.af, AF_INET6);
	free_pair(&i, &r);

	/* KEY_ID identities, checked both ways. */
	assert_int_equal(id_parse("keyid:00112233", &ci.local_id), 0);
	assert_int_equal(id_parse("keyid:00112233", &cr.remote_id), 0);
	assert_int_equal(id_parse("keyid:aabb", &cr.local_id), 0);
	assert_int_equal(id_parse("keyid:aabb", &ci.remote_id), 0);
	new_pair(&i, &r, &ci, &cr);
	run(&i, &r, 10);
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(r.sa->state, IKE_S_ESTABLISHED);
	check_children(&i, &r);
	free_pair(&i, &r);
}

/* Random damage to an IKE_SA_INIT request, each fed to a fresh
 * responder: whatever happens, nothing crashes or leaks (run under
 * ASan), and a mangled request never yields more than one answer. */
static void test_garbage(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;
	struct ike_tx tx = {0}, out = {0};
	uint8_t req[2048], m[2048];
	size_t len, mlen, k, j;
	struct ike_dgram_out d;
	unsigned seed = 12345;

	(void)state;
	make_conn(&ci, true, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	make_conn(&cr, false, PROPOSAL_IKE_DEFAULT, PROPOSAL_ESP_DEFAULT, "k");
	new_pair(&i, &r, &ci, &cr);
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	d = tx.d[0];
	len = d.len;
	memcpy(req, d.p, len);
	for (k = 0; k < 400; k++) {
		mlen = len;
		memcpy(m, req, len);
		for (j = 0; j < 1 + k % 4; j++) {
			seed = seed * 1103515245u + 12345u;
			m[(seed >> 8) % len] = (uint8_t)(seed >> 20);
		}
		if (k % 5 == 0)
			mlen = 28 + (seed >> 4) % (len - 28);
		ike_sa_free(r.sa);
		r.sa = NULL;
		assert_int_equal(ike_sa_new(&cr, false, child_cb, &r, &r.sa),
				 0);
		ike_sa_recv(r.sa, m, mlen, &d.src, d.sport, &d.dst, d.dport,
			    &out);
		assert_true(out.n <= 1);
		ike_tx_clear(&out);
	}
	assert_int_equal(r.children, 0);
	ike_tx_clear(&tx);
	free_pair(&i, &r);
}

/* ---- strongSwan interop, from captures ---- */

#define INTEROP "../interop/results/"
#define SS_PSK "interop-test-psk-not-secret-0123456789"
#define SS_MAX 16

static uint8_t *log_key(const char *log, const char *name, size_t want)
{
	size_t len = 0;
	uint8_t *k = charonlog_dump(log, name, 0, &len);

	assert_non_null(k);
	assert_int_equal(len, want);
	return k;
}

static void set_key(uint8_t *dst, uint8_t *len_out, const char *log,
		    const char *name, size_t len)
{
	uint8_t *k = log_key(log, name, len);

	memcpy(dst, k, len);
	*len_out = (uint8_t)len;
	free(k);
}

/* Index of the first capture message of this exchange and direction. */
static size_t find_msg(const struct pcap_ike *d, size_t n, uint8_t exch,
		       bool response)
{
	struct ikev2_hdr h;
	size_t k;

	for (k = 0; k < n; k++) {
		assert_int_equal(ikev2_parse_header(d[k].p, d[k].len, &h), 0);
		if (h.exchange == exch &&
		    !!(h.flags & IKEV2_FLAG_RESPONSE) == response)
			return k;
	}
	fail_msg("message not in capture");
	return 0;
}

static const struct ikev2_payload *payload(const struct ikev2_msg *m,
					   uint8_t type)
{
	size_t from = 0;
	const struct ikev2_payload *pl = ikev2_msg_next(m, type, &from);

	assert_non_null(pl);
	return pl;
}

/* Decrypt an IKE_AUTH response as strongSwan's initiator would and
 * return its AUTH data (owned). */
static uint8_t *auth_of_response(const struct encr_alg *e,
				 const struct ike_keys *k, const uint8_t *m,
				 size_t len, size_t *auth_len)
{
	struct ikev2_msg *msg = malloc(sizeof(*msg));
	struct ikev2_msg *inner = malloc(sizeof(*inner));
	struct ikev2_sk_ctx *sk = NULL;
	struct ikev2_auth a;
	uint8_t *pt = malloc(len), *out, first;
	size_t pt_len;

	assert_non_null(msg);
	assert_non_null(inner);
	assert_non_null(pt);
	assert_int_equal(ikev2_sk_new(e, NULL, k, true, &sk), 0);
	assert_int_equal(ikev2_parse_msg(m, len, msg), 0);
	assert_int_equal(
		ikev2_sk_open(sk, m, len, msg, pt, len, &pt_len, &first), 0);
	assert_int_equal(ikev2_parse_chain(pt, pt_len, first,
					   IKEV2_EXCH_IKE_AUTH, inner),
			 0);
	payload(inner, IKEV2_PL_IDR);
	payload(inner, IKEV2_PL_SA);
	payload(inner, IKEV2_PL_TSI);
	payload(inner, IKEV2_PL_TSR);
	assert_int_equal(ikev2_decode_auth(payload(inner, IKEV2_PL_AUTH), &a),
			 0);
	out = malloc(a.len);
	assert_non_null(out);
	memcpy(out, a.data, a.len);
	*auth_len = a.len;
	ikev2_sk_free(sk);
	free(pt);
	free(msg);
	free(inner);
	return out;
}

/* RFC 7296 §2.23 hashes against every natd_chunk/natd_hash charon logged
 * (chunk = SPIi | SPIr | IPv4 | port). */
static void natd_kat(const char *log)
{
	struct ip_addr a;
	uint8_t *chunk, *hash, h[20];
	size_t clen, hlen;
	int k;

	for (k = 0; (chunk = charonlog_dump(log, "natd_chunk", k, &clen));
	     k++) {
		hash = charonlog_dump(log, "natd_hash", k, &hlen);
		assert_non_null(hash);
		assert_int_equal(clen, 22);
		assert_int_equal(hlen, 20);
		assert_int_equal(addr_from_bytes(&a, chunk + 16, 4), 0);
		assert_int_equal(ike_natd_hash(chunk, chunk + 8, &a,
					       be16_load(chunk + 20), h),
				 0);
		assert_memory_equal(h, hash, 20);
		free(chunk);
		free(hash);
	}
	assert_int_equal(k, 4);
}

static void ss_responder(const char *dir, const char *ike, const char *esp,
			 unsigned *passed)
{
	struct pcap_ike d[SS_MAX];
	struct ike_conn cr;
	struct side r;
	struct ike_tx tx = {0};
	struct ikev2_msg *msg = malloc(sizeof(*msg));
	struct ikev2_nonce nonce;
	struct ike_keys keys;
	char rel[256], *log;
	size_t n, k_init, k_init_r, k_auth, k_auth_r, our_len, ss_len;
	uint8_t *buf, *ours, *theirs, *ek;
	int cnt;

	assert_non_null(msg);
	snprintf(rel, sizeof(rel), INTEROP "%s/veth-a.pcap", dir);
	cnt = pcap_read_ike(rel, d, SS_MAX);
	assert_true(cnt >= 4);
	n = (size_t)cnt;
	snprintf(rel, sizeof(rel), INTEROP "%s/charon-B.log", dir);
	log = charonlog_slurp(rel, NULL);
	assert_non_null(log);
	k_init = find_msg(d, n, IKEV2_EXCH_IKE_SA_INIT, false);
	k_init_r = find_msg(d, n, IKEV2_EXCH_IKE_SA_INIT, true);
	k_auth = find_msg(d, n, IKEV2_EXCH_IKE_AUTH, false);
	k_auth_r = find_msg(d, n, IKEV2_EXCH_IKE_AUTH, true);

	/* Our responder, configured as strongSwan's "B" side. */
	make_conn(&cr, false, ike, esp, SS_PSK);
	cr.local_addr = d[k_init].dst;
	cr.remote_addr = d[k_init].src;
	fx_ts(&cr.local_ts[0], "203.0.113.0/24");
	fx_ts(&cr.remote_ts[0], "198.51.100.0/24");
	assert_int_equal(id_parse("b.ipsec.test", &cr.local_id), 0);
	assert_int_equal(id_parse("a.ipsec.test", &cr.remote_id), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ike_sa_new(&cr, false, child_cb, &r, &r.sa), 0);
	assert_int_equal(ike_sa_recv(r.sa, d[k_init].p, d[k_init].len,
				     &d[k_init].src, d[k_init].sport,
				     &d[k_init].dst, d[k_init].dport, &tx),
			 0);
	assert_int_equal(tx.n, 1);
	assert_int_equal(r.sa->state, IKE_S_INIT_DONE);
	/* strongSwan's kernel-libipsec fakes its NAT-D source hash to force
	 * UDP encapsulation; charon-B.log says "remote host is behind NAT"
	 * too. */
	assert_false(r.sa->nat_local);
	assert_true(r.sa->nat_remote);
	assert_string_equal(r.sa->ike.encr->name, cr.ike.p[0].encr[0]->name);
	ike_tx_clear(&tx);

	/* Graft strongSwan's response and keys in place of ours. */
	assert_int_equal(ikev2_parse_msg(d[k_init_r].p, d[k_init_r].len, msg),
			 0);
	assert_int_equal(
		ikev2_decode_nonce(payload(msg, IKEV2_PL_NONCE), &nonce), 0);
	memcpy(r.sa->nr, nonce.data, nonce.len);
	r.sa->nr_len = nonce.len;
	memcpy(r.sa->spi_r, msg->hdr.spi_r, IKE_SPI_LEN);
	free(r.sa->init_resp);
	r.sa->init_resp = malloc(d[k_init_r].len);
	assert_non_null(r.sa->init_resp);
	memcpy(r.sa->init_resp, d[k_init_r].p, d[k_init_r].len);
	r.sa->init_resp_len = d[k_init_r].len;
	memset(&keys, 0, sizeof(keys));
	set_key(keys.sk_d, &keys.sk_d_len, log, "Sk_d secret", 32);
	set_key(keys.sk_pi, &keys.sk_p_len, log, "Sk_pi secret", 32);
	set_key(keys.sk_pr, &keys.sk_p_len, log, "Sk_pr secret", 32);
	set_key(keys.sk_ei, &keys.sk_e_len, log, "Sk_ei secret",
		r.sa->ike.encr->key_len + r.sa->ike.encr->salt_len);
	set_key(keys.sk_er, &keys.sk_e_len, log, "Sk_er secret", keys.sk_e_len);
	r.sa->keys = keys;
	ikev2_sk_free(r.sa->sk);
	r.sa->sk = NULL;
	assert_int_equal(
		ikev2_sk_new(r.sa->ike.encr, NULL, &keys, false, &r.sa->sk), 0);

	/* strongSwan's IKE_AUTH request, on 4500 with the marker. */
	buf = calloc(1, d[k_auth].len + 4);
	assert_non_null(buf);
	memcpy(buf + 4, d[k_auth].p, d[k_auth].len);
	assert_int_equal(ike_sa_recv(r.sa, buf, d[k_auth].len + 4,
				     &d[k_auth].src, d[k_auth].sport,
				     &d[k_auth].dst, d[k_auth].dport, &tx),
			 0);
	free(buf);
	assert_int_equal(r.sa->state, IKE_S_ESTABLISHED);
	assert_true(r.sa->initial_contact);
	assert_int_equal(r.children, 1);
	assert_int_equal(tx.n, 1);
	assert_int_equal(tx.d[0].dport, 4500);

	/* Our AUTH is byte for byte the one strongSwan sent. */
	ours = auth_of_response(r.sa->ike.encr, &keys, tx.d[0].p + 4,
				tx.d[0].len - 4, &our_len);
	theirs = auth_of_response(r.sa->ike.encr, &keys, d[k_auth_r].p,
				  d[k_auth_r].len, &ss_len);
	assert_int_equal(our_len, ss_len);
	assert_memory_equal(ours, theirs, ss_len);
	free(ours);
	free(theirs);

	/* The ESP keys are the ones charon derived (RFC 7296 §2.17). */
	ek = log_key(log, "encryption initiator key", r.in.enc_key_len);
	assert_memory_equal(r.in.enc_key, ek, r.in.enc_key_len);
	free(ek);
	ek = log_key(log, "encryption responder key", r.out.enc_key_len);
	assert_memory_equal(r.out.enc_key, ek, r.out.enc_key_len);
	free(ek);
	assert_int_equal(r.in.n_ts_local, 1);
	assert_int_equal(r.in.ts_local[0].net.len, 24);
	assert_int_equal(r.out.encap_dport, 4500);
	natd_kat(log);
	(*passed)++;

	ike_tx_clear(&tx);
	ike_sa_free(r.sa);
	while (n > 0)
		free(d[--n].p);
	free(log);
	free(msg);
}

static void test_strongswan(void **state)
{
	unsigned passed = 0;

	(void)state;
	ss_responder("capture-aes128gcm16/psk", "aes128gcm16-prfsha256-x25519",
		     "aes128gcm16", &passed);
	ss_responder("capture-chacha20poly1305/psk",
		     "chacha20poly1305-prfsha256-x25519", "chacha20poly1305",
		     &passed);
	vec_report("interop/results/capture-*/psk (IKE responder replay)",
		   passed, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proposals),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_no_proposal),
		cmocka_unit_test(test_invalid_ke),
		cmocka_unit_test(test_retransmit),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_nat_and_transport),
		cmocka_unit_test(test_ids_and_ts),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_strongswan),
	};

	/* Dropped datagrams are logged; keep the TAP output readable. */
	log_set_all_levels(LL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
