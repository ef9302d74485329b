/* SPDX-License-Identifier: MIT */
/*
 * CREATE_CHILD_SA and INFORMATIONAL (src/ike/x_child.c, x_info.c): two
 * IKE SAs in one process, established with IKE_SA_INIT + IKE_AUTH, then
 *   - a second Child SA for another connection (the responder picks its
 *     [conn] by the proposed selectors, §2.9), also queued during
 *     IKE_AUTH and picked for the IKE_AUTH Child SA itself;
 *   - rekeying without and with PFS (KE payloads, INVALID_KE_PAYLOAD
 *     retry), by either end: make-before-break event order, new SPIs,
 *     matching keys, the old pair deleted on both ends;
 *   - Child SA Deletes by either end; a Delete of an unknown SPI; an
 *     empty INFORMATIONAL (liveness);
 *   - TS_UNACCEPTABLE, NO_PROPOSAL_CHOSEN, NO_ADDITIONAL_SAS,
 *     CHILD_SA_NOT_FOUND;
 *   - simultaneous rekeying by both ends (§2.8.1), with the requests
 *     crossing and with one answer overtaking the other request: one
 *     pair survives, installed identically on both ends;
 *   - transport mode in CREATE_CHILD_SA and its rekey;
 *   - damaged CREATE_CHILD_SA requests are dropped without a change.
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
#include "ike/ike_sa.h"
#include "ike_conn_fixture.h"

#define MAX_EV 64

struct ev {
	enum ike_child_event type;
	uint32_t spi_in, spi_out, reqid, rekeyed_from;
	bool has_in, has_out;
	struct sa_params in, out;
};

/* What a data plane would hold after the events. */
#define MAX_DP 48
struct dp_sa {
	uint32_t spi;
	enum sa_dir dir;
	uint8_t key[SA_MAX_KEY];
	uint8_t key_len;
};

struct side {
	struct ike_sa *sa;
	struct ev ev[MAX_EV];
	size_t n_ev;
	struct dp_sa dp[MAX_DP];
	size_t n_dp;
	/* Connections the responder may also pick (conn_iter). */
	const struct ike_conn *others[4];
	size_t n_others;
};

static void dp_add(struct side *s, const struct sa_params *p)
{
	struct dp_sa *d;

	assert_true(s->n_dp < MAX_DP);
	d = &s->dp[s->n_dp++];
	d->spi = p->spi;
	d->dir = p->dir;
	memcpy(d->key, p->enc_key, p->enc_key_len);
	d->key_len = p->enc_key_len;
}

static void dp_del(struct side *s, uint32_t spi, enum sa_dir dir)
{
	size_t k;

	for (k = 0; k < s->n_dp; k++)
		if (s->dp[k].spi == spi && s->dp[k].dir == dir) {
			s->dp[k] = s->dp[--s->n_dp];
			return;
		}
}

static void on_ev(void *arg, enum ike_child_event type,
		  const struct ike_child *c, const struct sa_params *in,
		  const struct sa_params *out)
{
	struct side *s = arg;
	struct ev *e;

	if (in)
		dp_add(s, in);
	if (out)
		dp_add(s, out);
	if (type == IKE_CHILD_DOWN) {
		dp_del(s, c->spi_in, SA_DIR_IN);
		dp_del(s, c->spi_out, SA_DIR_OUT);
	}

	assert_true(s->n_ev < MAX_EV);
	e = &s->ev[s->n_ev++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->spi_in = c->spi_in;
	e->spi_out = c->spi_out;
	e->reqid = c->reqid;
	e->rekeyed_from = c->rekeyed_from;
	if (in) {
		e->has_in = true;
		e->in = *in;
	}
	if (out) {
		e->has_out = true;
		e->out = *out;
	}
}

static const struct ike_conn *iter(void *arg, const struct ike_sa *sa, size_t k)
{
	struct side *s = arg;

	(void)sa;
	return k < s->n_others ? s->others[k] : NULL;
}

/* Initiator's (or the responder's mirror) connection with subnets a
 * (ours) and b (the peer's). */
static void make_conn(struct ike_conn *c, bool initiator, const char *esp,
		      const char *a, const char *b, uint32_t reqid)
{
	fx_conn(c, initiator, "aes128gcm16-prfsha256-x25519", esp, "k3y-1", a,
		b);
	fx_addrs(c, initiator, "203.0.113.1", "203.0.113.2");
	c->reqid = reqid;
}

/* Deliver tx from a to b, then the answers back, until quiet. */
static void pump(struct side *a, struct side *b, struct ike_tx *tx)
{
	struct ike_tx next;
	struct side *from = a, *to = b, *t;
	size_t k;
	int rounds;

	for (rounds = 0; tx->n && rounds < 20; rounds++) {
		memset(&next, 0, sizeof(next));
		for (k = 0; k < tx->n; k++) {
			struct ike_dgram_out *d = &tx->d[k];

			ike_sa_recv(to->sa, d->p, d->len, &d->src, d->sport,
				    &d->dst, d->dport, &next);
		}
		ike_tx_clear(tx);
		*tx = next;
		t = from;
		from = to;
		to = t;
	}
	assert_int_equal(tx->n, 0);
}

static void establish(struct side *i, struct side *r, const struct ike_conn *ci,
		      const struct ike_conn *cr)
{
	struct ike_tx tx = {0};

	memset(i, 0, sizeof(*i));
	memset(r, 0, sizeof(*r));
	assert_int_equal(ike_sa_new(ci, true, NULL, NULL, &i->sa), 0);
	assert_int_equal(ike_sa_new(cr, false, NULL, NULL, &r->sa), 0);
	ike_sa_set_hooks(i->sa, on_ev, iter, i);
	ike_sa_set_hooks(r->sa, on_ev, iter, r);
	assert_int_equal(ike_sa_initiate(i->sa, &tx), 0);
	pump(i, r, &tx);
	assert_int_equal(i->sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(r->sa->state, IKE_S_ESTABLISHED);
}

static void free_pair(struct side *i, struct side *r)
{
	ike_sa_free(i->sa);
	ike_sa_free(r->sa);
}

static size_t n_children(const struct ike_sa *sa)
{
	size_t k, n = 0;

	for (k = 0; k < IKE_CHILD_SLOTS; k++)
		n += sa->child[k] != NULL;
	return n;
}

/* The two halves of one pair: a's out is b's in and back, same keys. */
static void check_pair(const struct sa_params *a_in,
		       const struct sa_params *a_out,
		       const struct sa_params *b_in,
		       const struct sa_params *b_out)
{
	assert_int_equal(a_out->spi, b_in->spi);
	assert_int_equal(b_out->spi, a_in->spi);
	assert_true(a_in->spi != a_out->spi);
	assert_int_equal(a_out->enc_key_len, b_in->enc_key_len);
	assert_true(a_out->enc_key_len > 0);
	assert_memory_equal(a_out->enc_key, b_in->enc_key, a_out->enc_key_len);
	assert_memory_equal(a_in->enc_key, b_out->enc_key, a_in->enc_key_len);
	assert_memory_not_equal(a_in->enc_key, a_out->enc_key,
				a_in->enc_key_len);
	assert_int_equal(a_out->integ_key_len, b_in->integ_key_len);
	if (a_out->integ_key_len)
		assert_memory_equal(a_out->integ_key, b_in->integ_key,
				    a_out->integ_key_len);
	assert_int_equal(a_in->reqid, a_out->reqid);
}

static const struct ev *last_ev(const struct side *s)
{
	assert_true(s->n_ev > 0);
	return &s->ev[s->n_ev - 1];
}

/* A second Child SA for another [conn]; the responder finds it. */
static void test_second_child(void **state)
{
	struct ike_conn c1i, c1r, c2i, c2r;
	struct side i, r;
	struct ike_tx tx = {0};
	const struct ev *ei, *er;

	(void)state;
	make_conn(&c1i, true, "aes128gcm16", "198.51.100.16/28",
		  "198.51.100.32/28", 1);
	make_conn(&c1r, false, "aes128gcm16", "198.51.100.32/28",
		  "198.51.100.16/28", 11);
	make_conn(&c2i, true, "aes256gcm16", "198.51.100.48/30",
		  "198.51.100.64/30", 2);
	make_conn(&c2r, false, "aes256gcm16", "198.51.100.64/28",
		  "198.51.100.48/28", 12);
	establish(&i, &r, &c1i, &c1r);
	r.others[r.n_others++] = &c2r;
	assert_int_equal(i.n_ev, 1);
	assert_int_equal(r.n_ev, 1);
	assert_int_equal(i.ev[0].type, IKE_CHILD_UP);
	assert_int_equal(i.ev[0].reqid, 1);
	assert_int_equal(r.ev[0].reqid, 11);
	check_pair(&i.ev[0].in, &i.ev[0].out, &r.ev[0].in, &r.ev[0].out);

	assert_int_equal(ike_sa_child_create(i.sa, &c2i, &tx), 0);
	assert_int_equal(tx.n, 1);
	assert_true(ike_sa_req_pending(i.sa));
	pump(&i, &r, &tx);
	assert_false(ike_sa_req_pending(i.sa));
	assert_int_equal(i.n_ev, 2);
	assert_int_equal(r.n_ev, 2);
	ei = last_ev(&i);
	er = last_ev(&r);
	assert_int_equal(ei->type, IKE_CHILD_UP);
	assert_int_equal(er->type, IKE_CHILD_UP);
	assert_true(ei->has_in && ei->has_out && er->has_in && er->has_out);
	/* The responder picked its second connection. */
	assert_int_equal(ei->reqid, 2);
	assert_int_equal(er->reqid, 12);
	check_pair(&ei->in, &ei->out, &er->in, &er->out);
	assert_string_equal(ei->out.encr->name, "aes256gcm16");
	/* Narrowed to the initiator's /30s (§2.9). */
	assert_int_equal(er->in.ts_local[0].net.len, 30);
	assert_int_equal(ei->out.ts_remote[0].net.len, 30);
	/* Different keys from the first Child SA (new nonces, §2.17). */
	assert_memory_not_equal(ei->out.enc_key, i.ev[0].out.enc_key, 16);
	assert_int_equal(n_children(i.sa), 2);
	assert_int_equal(n_children(r.sa), 2);
	assert_true(ike_sa_has_conn(i.sa, 2));
	assert_false(ike_sa_has_conn(i.sa, 3));
	free_pair(&i, &r);
}

/* Requested while IKE_AUTH runs: sent when it is done.  The responder
 * also picks the IKE_AUTH Child SA's [conn] by selectors. */
static void test_queued_and_auth_pick(void **state)
{
	struct ike_conn c1i, c1r, c2i, c2r;
	struct side i, r;
	struct ike_tx tx = {0};

	(void)state;
	make_conn(&c1i, true, "aes128gcm16", "198.51.100.16/28",
		  "198.51.100.32/28", 1);
	make_conn(&c1r, false, "aes128gcm16", "198.51.100.32/28",
		  "198.51.100.16/28", 11);
	make_conn(&c2i, true, "aes128gcm16", "198.51.100.48/28",
		  "198.51.100.64/28", 2);
	make_conn(&c2r, false, "aes128gcm16", "198.51.100.64/28",
		  "198.51.100.48/28", 12);
	memset(&i, 0, sizeof(i));
	memset(&r, 0, sizeof(r));
	/* The responder's IKE SA was made for c2r (by address); the
	 * IKE_AUTH Child SA is for c1: found through the iterator. */
	assert_int_equal(ike_sa_new(&c1i, true, NULL, NULL, &i.sa), 0);
	assert_int_equal(ike_sa_new(&c2r, false, NULL, NULL, &r.sa), 0);
	ike_sa_set_hooks(i.sa, on_ev, iter, &i);
	ike_sa_set_hooks(r.sa, on_ev, iter, &r);
	r.others[r.n_others++] = &c1r;
	assert_int_equal(ike_sa_initiate(i.sa, &tx), 0);
	assert_int_equal(ike_sa_child_create(i.sa, &c2i, &tx), 0);
	assert_int_equal(tx.n, 1); /* only IKE_SA_INIT so far */
	assert_true(ike_sa_has_conn(i.sa, 2));
	pump(&i, &r, &tx);
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(i.n_ev, 2);
	assert_int_equal(r.n_ev, 2);
	assert_int_equal(r.ev[0].reqid, 11);
	assert_int_equal(r.ev[1].reqid, 12);
	assert_int_equal(i.ev[1].reqid, 2);
	check_pair(&i.ev[1].in, &i.ev[1].out, &r.ev[1].in, &r.ev[1].out);
	free_pair(&i, &r);
}

/* Transport mode (USE_TRANSPORT_MODE, §1.3.1) in CREATE_CHILD_SA and
 * kept by a rekey; a tunnel-mode request to a transport [conn] gets
 * tunnel mode. */
static void test_transport(void **state)
{
	struct ike_conn c1i, c1r, c2i, c2r, c3i;
	struct side i, r;
	struct ike_tx tx = {0};
	uint32_t spi;

	(void)state;
	make_conn(&c1i, true, "aes128gcm16", "198.51.100.16/28",
		  "198.51.100.32/28", 1);
	make_conn(&c1r, false, "aes128gcm16", "198.51.100.32/28",
		  "198.51.100.16/28", 1);
	make_conn(&c2i, true, "aes128gcm16", "203.0.113.1/32", "203.0.113.2/32",
		  2);
	make_conn(&c2r, false, "aes128gcm16", "203.0.113.2/32",
		  "203.0.113.1/32", 2);
	c2i.mode = c2r.mode = IPSEC_MODE_TRANSPORT;
	establish(&i, &r, &c1i, &c1r);
	r.others[r.n_others++] = &c2r;
	assert_int_equal(ike_sa_child_create(i.sa, &c2i, &tx), 0);
	pump(&i, &r, &tx);
	assert_int_equal(last_ev(&i)->type, IKE_CHILD_UP);
	assert_int_equal(last_ev(&i)->reqid, 2);
	assert_int_equal(last_ev(&i)->out.mode, IPSEC_MODE_TRANSPORT);
	assert_int_equal(last_ev(&r)->in.mode, IPSEC_MODE_TRANSPORT);
	assert_int_equal(i.ev[0].out.mode, IPSEC_MODE_TUNNEL);
	spi = last_ev(&i)->spi_in;
	assert_int_equal(ike_sa_child_rekey(i.sa, spi, &tx), 0);
	pump(&i, &r, &tx);
	assert_int_equal(i.ev[i.n_ev - 2].type, IKE_CHILD_UP);
	assert_int_equal(i.ev[i.n_ev - 2].out.mode, IPSEC_MODE_TRANSPORT);
	assert_int_equal(r.ev[r.n_ev - 3].type, IKE_CHILD_UP_IN);
	assert_int_equal(r.ev[r.n_ev - 3].in.mode, IPSEC_MODE_TRANSPORT);
	/* The initiator does not ask for transport mode: tunnel. */
	c3i = c2i;
	c3i.mode = IPSEC_MODE_TUNNEL;
	c3i.reqid = 3;
	assert_int_equal(ike_sa_child_create(i.sa, &c3i, &tx), 0);
	pump(&i, &r, &tx);
	assert_int_equal(last_ev(&i)->reqid, 3);
	assert_int_equal(last_ev(&i)->out.mode, IPSEC_MODE_TUNNEL);
	assert_int_equal(last_ev(&r)->in.mode, IPSEC_MODE_TUNNEL);
	free_pair(&i, &r);
}

/* Rekey a's Child SA old_in_a (a initiates) and check both ends;
 * returns b's inbound SPI of the new pair. */
static uint32_t rekey_and_check(struct side *a, struct side *b,
				uint32_t old_in_a, bool pfs)
{
	struct ike_tx tx = {0};
	size_t na = a->n_ev, nb = b->n_ev, before = n_children(a->sa);
	const struct ike_child *oc = ike_sa_child_find(a->sa, old_in_a);
	uint32_t old_out_a;
	const struct ev *up_a, *up_in_b, *down_b, *up_out_b, *down_a;

	assert_non_null(oc);
	old_out_a = oc->spi_out;
	assert_int_equal(ike_sa_child_rekey(a->sa, old_in_a, &tx), 0);
	assert_int_equal(ike_sa_child_rekey(a->sa, old_in_a, &tx), ERR_EXISTS);
	pump(a, b, &tx);
	/* a: UP (new pair), then DOWN (old pair) when its Delete is
	 * answered.  b: UP_IN (new inbound only), then on the Delete
	 * UP_OUT (new outbound) and DOWN (old): make-before-break. */
	assert_int_equal(a->n_ev, na + 2);
	assert_int_equal(b->n_ev, nb + 3);
	up_a = &a->ev[na];
	down_a = &a->ev[na + 1];
	up_in_b = &b->ev[nb];
	up_out_b = &b->ev[nb + 1];
	down_b = &b->ev[nb + 2];
	assert_int_equal(up_a->type, IKE_CHILD_UP);
	assert_int_equal(up_a->rekeyed_from, old_in_a);
	assert_int_equal(down_a->type, IKE_CHILD_DOWN);
	assert_int_equal(down_a->spi_in, old_in_a);
	assert_int_equal(up_in_b->type, IKE_CHILD_UP_IN);
	assert_true(up_in_b->has_in && !up_in_b->has_out);
	assert_int_equal(up_in_b->rekeyed_from, old_out_a);
	assert_int_equal(down_b->type, IKE_CHILD_DOWN);
	assert_int_equal(down_b->spi_in, old_out_a);
	assert_int_equal(down_b->spi_out, old_in_a);
	assert_int_equal(up_out_b->type, IKE_CHILD_UP_OUT);
	assert_true(up_out_b->has_out && !up_out_b->has_in);
	check_pair(&up_a->in, &up_a->out, &up_in_b->in, &up_out_b->out);
	/* New SPIs, old pair gone on both ends. */
	assert_true(up_a->spi_in != old_in_a);
	assert_true(up_a->spi_out != old_out_a);
	assert_null(ike_sa_child_find(a->sa, old_in_a));
	assert_null(ike_sa_child_find(b->sa, old_out_a));
	assert_int_equal(n_children(a->sa), before);
	assert_int_equal(n_children(b->sa), before);
	assert_int_equal(ike_sa_child_find(a->sa, up_a->spi_in)->state,
			 IKE_CHILD_INSTALLED);
	if (pfs) {
		assert_non_null(ike_sa_child_find(a->sa, up_a->spi_in)->esp.ke);
		assert_non_null(
			ike_sa_child_find(b->sa, up_a->spi_out)->esp.ke);
	} else {
		assert_null(ike_sa_child_find(a->sa, up_a->spi_in)->esp.ke);
	}
	return up_in_b->spi_in;
}

static void test_rekey(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;
	uint32_t spi;

	(void)state;
	/* Without PFS, by the initiator, then by the responder. */
	make_conn(&ci, true, "aes128gcm16", "198.51.100.16/28",
		  "198.51.100.32/28", 1);
	make_conn(&cr, false, "aes128gcm16", "198.51.100.32/28",
		  "198.51.100.16/28", 1);
	establish(&i, &r, &ci, &cr);
	spi = rekey_and_check(&i, &r, i.ev[0].spi_in, false);
	rekey_and_check(&r, &i, spi, false);
	free_pair(&i, &r);

	/* With PFS (esp names a group), both ends. */
	make_conn(&ci, true, "aes128gcm16-ecp256", "198.51.100.16/28",
		  "198.51.100.32/28", 1);
	make_conn(&cr, false, "aes128gcm16-ecp256", "198.51.100.32/28",
		  "198.51.100.16/28", 1);
	establish(&i, &r, &ci, &cr);
	/* IKE_AUTH has no KE payload: no group on the first pair. */
	assert_null(ike_sa_child_find(i.sa, i.ev[0].spi_in)->esp.ke);
	spi = rekey_and_check(&i, &r, i.ev[0].spi_in, true);
	spi = rekey_and_check(&r, &i, spi, true);
	rekey_and_check(&i, &r, spi, true);
	free_pair(&i, &r);

	/* The initiator guesses x25519, the responder wants ecp256:
	 * INVALID_KE_PAYLOAD, then the retry with ecp256 (§1.3). */
	make_conn(&ci, true, "aes256gcm16-x25519-ecp256", "198.51.100.16/28",
		  "198.51.100.32/28", 1);
	make_conn(&cr, false, "aes256gcm16-ecp256", "198.51.100.32/28",
		  "198.51.100.16/28", 1);
	establish(&i, &r, &ci, &cr);
	rekey_and_check(&i, &r, i.ev[0].spi_in, true);
	assert_int_equal(i.sa->child_err, IKEV2_N_INVALID_KE_PAYLOAD);
	/* The new pair (the last event is the old pair's DOWN). */
	assert_int_equal(i.ev[i.n_ev - 2].type, IKE_CHILD_UP);
	assert_int_equal(ike_sa_child_find(i.sa, i.ev[i.n_ev - 2].spi_in)
				 ->esp.ke->iana_id,
			 19);
	free_pair(&i, &r);
}

static const struct ev *find_ev(const struct side *s, enum ike_child_event type,
				uint32_t spi_in)
{
	size_t k;

	for (k = 0; k < s->n_ev; k++)
		if (s->ev[k].type == type && s->ev[k].spi_in == spi_in)
			return &s->ev[k];
	return NULL;
}

static void test_delete(void **state)
{
	struct ike_conn c1i, c1r, c2i, c2r;
	struct side i, r;
	struct ike_tx tx = {0};
	uint32_t i2, r2, i1, r1;

	(void)state;
	make_conn(&c1i, true, "aes128gcm16", "198.51.100.16/28",
		  "198.51.100.32/28", 1);
	make_conn(&c1r, false, "aes128gcm16", "198.51.100.32/28",
		  "198.51.100.16/28", 1);
	make_conn(&c2i, true, "aes128gcm16", "198.51.100.48/28",
		  "198.51.100.64/28", 2);
	make_conn(&c2r, false, "aes128gcm16", "198.51.100.64/28",
		  "198.51.100.48/28", 2);
	establish(&i, &r, &c1i, &c1r);
	r.others[r.n_others++] = &c2r;
	assert_int_equal(ike_sa_child_create(i.sa, &c2i, &tx), 0);
	pump(&i, &r, &tx);
	i1 = i.ev[0].spi_in;
	r1 = r.ev[0].spi_in;
	i2 = i.ev[1].spi_in;
	r2 = r.ev[1].spi_in;

	/* The initiator deletes the second Child SA: the responder drops
	 * both directions at once and answers with its own SPI; the
	 * initiator drops its inbound SA with the answer (§1.4.1). */
	assert_int_equal(ike_sa_child_delete(i.sa, i2, &tx), 0);
	assert_int_equal(ike_sa_child_find(i.sa, i2)->state,
			 IKE_CHILD_DELETING);
	assert_int_equal(ike_sa_child_delete(i.sa, i2, &tx), ERR_EXISTS);
	assert_int_equal(tx.n, 1);
	{
		struct ike_tx ans = {0};
		struct ike_dgram_out *d = &tx.d[0];

		assert_int_equal(ike_sa_recv(r.sa, d->p, d->len, &d->src,
					     d->sport, &d->dst, d->dport, &ans),
				 0);
		assert_non_null(find_ev(&r, IKE_CHILD_DOWN, r2));
		assert_null(ike_sa_child_find(r.sa, r2));
		/* Not yet on the initiator. */
		assert_null(find_ev(&i, IKE_CHILD_DOWN, i2));
		ike_tx_clear(&tx);
		tx = ans;
	}
	pump(&r, &i, &tx);
	assert_non_null(find_ev(&i, IKE_CHILD_DOWN, i2));
	assert_null(ike_sa_child_find(i.sa, i2));
	assert_int_equal(n_children(i.sa), 1);
	assert_int_equal(n_children(r.sa), 1);
	assert_false(ike_sa_has_conn(i.sa, 2));

	/* The responder deletes the first: both ends drop it. */
	assert_int_equal(ike_sa_child_delete(r.sa, r1, &tx), 0);
	pump(&r, &i, &tx);
	assert_non_null(find_ev(&i, IKE_CHILD_DOWN, i1));
	assert_non_null(find_ev(&r, IKE_CHILD_DOWN, r1));
	assert_int_equal(n_children(i.sa), 0);
	assert_int_equal(n_children(r.sa), 0);
	/* The IKE SA stays. */
	assert_int_equal(i.sa->state, IKE_S_ESTABLISHED);
	assert_false(i.sa->peer_deleted || r.sa->peer_deleted);
	assert_int_equal(ike_sa_child_delete(r.sa, r1, &tx), ERR_NOTFOUND);
	free_pair(&i, &r);
}

static void test_unknown_spi_and_liveness(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;
	struct ike_tx tx = {0};
	uint32_t id;

	(void)state;
	make_conn(&ci, true, "aes128gcm16", "198.51.100.16/28",
		  "198.51.100.32/28", 1);
	make_conn(&cr, false, "aes128gcm16", "198.51.100.32/28",
		  "198.51.100.16/28", 1);
	establish(&i, &r, &ci, &cr);
	/* A Delete of an SPI the responder does not have: answered,
	 * nothing removed. */
	id = i.sa->next_req_id;
	assert_int_equal(
		ike_info_send_request(i.sa, IKE_REQ_DELETE, 0x0badc0de, &tx),
		0);
	pump(&i, &r, &tx);
	assert_int_equal(i.sa->next_req_id, id + 1);
	assert_false(ike_sa_req_pending(i.sa));
	assert_int_equal(r.n_ev, 1);
	assert_int_equal(i.n_ev, 1);
	assert_int_equal(n_children(r.sa), 1);
	assert_int_equal(r.sa->dropped, 0);
	/* Liveness checks from either end (§2.4). */
	assert_int_equal(ike_sa_liveness(i.sa, &tx), 0);
	pump(&i, &r, &tx);
	assert_int_equal(i.sa->alive_acks, 1);
	assert_int_equal(ike_sa_liveness(r.sa, &tx), 0);
	assert_int_equal(ike_sa_liveness(r.sa, &tx), 0); /* queued */
	assert_int_equal(tx.n, 1);
	pump(&r, &i, &tx);
	assert_int_equal(r.sa->alive_acks, 2);
	/* A lost answer: the request goes out again byte for byte and the
	 * peer answers from its cache. */
	assert_int_equal(ike_sa_liveness(i.sa, &tx), 0);
	{
		struct ike_tx again = {0}, ans = {0};
		struct ike_dgram_out *d = &tx.d[0];

		assert_int_equal(ike_sa_recv(r.sa, d->p, d->len, &d->src,
					     d->sport, &d->dst, d->dport, &ans),
				 0);
		ike_tx_clear(&ans);
		assert_int_equal(ike_sa_retransmit(i.sa, &again), 0);
		assert_int_equal(again.d[0].len, d->len);
		assert_memory_equal(again.d[0].p, d->p, d->len);
		ike_tx_clear(&tx);
		tx = again;
	}
	pump(&i, &r, &tx);
	assert_int_equal(i.sa->alive_acks, 2);
	assert_int_equal(ike_sa_retransmit(i.sa, &tx), ERR_NOTFOUND);
	free_pair(&i, &r);
}

static void test_refusals(void **state)
{
	struct ike_conn c1i, c1r, c2i, c2r, c3i;
	struct side i, r;
	struct ike_tx tx = {0};
	size_t k;

	(void)state;
	make_conn(&c1i, true, "aes128gcm16", "198.51.100.16/28",
		  "198.51.100.32/28", 1);
	make_conn(&c1r, false, "aes128gcm16", "198.51.100.32/28",
		  "198.51.100.16/28", 1);
	make_conn(&c2i, true, "chacha20poly1305", "198.51.100.48/28",
		  "198.51.100.64/28", 2);
	make_conn(&c2r, false, "aes256gcm16", "198.51.100.64/28",
		  "198.51.100.48/28", 2);
	make_conn(&c3i, true, "aes128gcm16", "198.51.100.80/28",
		  "198.51.100.96/28", 3);
	establish(&i, &r, &c1i, &c1r);
	r.others[r.n_others++] = &c2r;

	/* No [conn] of the responder covers .80/28 and .96/28. */
	assert_int_equal(ike_sa_child_create(i.sa, &c3i, &tx), 0);
	pump(&i, &r, &tx);
	assert_int_equal(i.sa->child_err, IKEV2_N_TS_UNACCEPTABLE);
	assert_int_equal(n_children(i.sa), 1);
	assert_int_equal(n_children(r.sa), 1);
	assert_false(ike_sa_has_conn(i.sa, 3));

	/* Selectors fit c2r, its proposals do not. */
	assert_int_equal(ike_sa_child_create(i.sa, &c2i, &tx), 0);
	pump(&i, &r, &tx);
	assert_int_equal(i.sa->child_err, IKEV2_N_NO_PROPOSAL_CHOSEN);
	assert_non_null(strstr(r.sa->detail, "peer offered ESP:chacha20"));
	assert_int_equal(n_children(i.sa), 1);
	assert_int_equal(i.n_ev + r.n_ev, 2);

	/* A rekey of a pair the responder does not know (§2.25): it
	 * answers CHILD_SA_NOT_FOUND and the initiator drops the pair. */
	{
		struct ike_child *gone = r.sa->child[0];
		uint32_t in = i.ev[0].spi_in;

		assert_non_null(gone);
		ike_child_remove(r.sa, gone);
		assert_int_equal(ike_sa_child_rekey(i.sa, in, &tx), 0);
		pump(&i, &r, &tx);
		assert_int_equal(i.sa->child_err, IKEV2_N_CHILD_SA_NOT_FOUND);
		assert_non_null(find_ev(&i, IKE_CHILD_DOWN, in));
		assert_int_equal(n_children(i.sa), 0);
	}

	/* Fill the responder (IKE_CHILD_MAX), then one more from an
	 * initiator that forgot one of its own: NO_ADDITIONAL_SAS. */
	for (k = 0; k < IKE_CHILD_MAX; k++) {
		assert_int_equal(ike_sa_child_create(i.sa, &c1i, &tx), 0);
		pump(&i, &r, &tx);
	}
	assert_int_equal(n_children(r.sa), IKE_CHILD_MAX);
	assert_int_equal(ike_sa_child_create(i.sa, &c1i, &tx), ERR_LIMIT);
	ike_child_remove(i.sa, i.sa->child[0]);
	assert_int_equal(ike_sa_child_create(i.sa, &c1i, &tx), 0);
	pump(&i, &r, &tx);
	assert_int_equal(i.sa->child_err, IKEV2_N_NO_ADDITIONAL_SAS);
	assert_int_equal(n_children(i.sa), IKE_CHILD_MAX - 1);
	free_pair(&i, &r);
}

/* A network of two queues, FIFO, between i and r. */
#define NET_MAX 16
struct netq {
	size_t n;
	struct ike_dgram_out d[NET_MAX];
};

static void net_put(struct netq *q, struct ike_tx *tx)
{
	size_t k;

	for (k = 0; k < tx->n; k++) {
		assert_true(q->n < NET_MAX);
		q->d[q->n++] = tx->d[k];
	}
	memset(tx, 0, sizeof(*tx)); /* the queue owns the buffers now */
}

/* Deliver the first datagram of q to s; answers go to back. */
static void net_one(struct side *s, struct netq *q, struct netq *back)
{
	struct ike_tx out = {0};
	struct ike_dgram_out d = q->d[0];

	memmove(q->d, q->d + 1, --q->n * sizeof(q->d[0]));
	ike_sa_recv(s->sa, d.p, d.len, &d.src, d.sport, &d.dst, d.dport, &out);
	free(d.p);
	net_put(back, &out);
}

static void net_run(struct side *i, struct side *r, struct netq *to_i,
		    struct netq *to_r)
{
	int k;

	for (k = 0; k < 50 && (to_i->n || to_r->n); k++) {
		if (to_r->n)
			net_one(r, to_r, to_i);
		if (to_i->n)
			net_one(i, to_i, to_r);
	}
	assert_int_equal(to_i->n + to_r->n, 0);
}

/* Exactly one pair installed per end, the same on both. */
static void check_dp(const struct side *i, const struct side *r)
{
	const struct dp_sa *ii = NULL, *io = NULL, *ri = NULL, *ro = NULL;
	size_t k;

	assert_int_equal(i->n_dp, 2);
	assert_int_equal(r->n_dp, 2);
	for (k = 0; k < 2; k++) {
		if (i->dp[k].dir == SA_DIR_IN)
			ii = &i->dp[k];
		else
			io = &i->dp[k];
		if (r->dp[k].dir == SA_DIR_IN)
			ri = &r->dp[k];
		else
			ro = &r->dp[k];
	}
	assert_non_null(ii);
	assert_non_null(io);
	assert_non_null(ri);
	assert_non_null(ro);
	assert_int_equal(io->spi, ri->spi);
	assert_int_equal(ro->spi, ii->spi);
	assert_memory_equal(io->key, ri->key, io->key_len);
	assert_memory_equal(ro->key, ii->key, ro->key_len);
	assert_int_equal(n_children(i->sa), 1);
	assert_int_equal(n_children(r->sa), 1);
	assert_int_equal(ike_sa_child_find(i->sa, ii->spi)->state,
			 IKE_CHILD_INSTALLED);
	assert_int_equal(ike_sa_child_find(r->sa, ri->spi)->state,
			 IKE_CHILD_INSTALLED);
}

/* Did this end delete a pair it made by a rekey (the redundant one)? */
static bool own_pair_deleted(const struct side *s)
{
	size_t k;

	for (k = 0; k < s->n_ev; k++)
		if (s->ev[k].type == IKE_CHILD_UP && s->ev[k].rekeyed_from &&
		    find_ev(s, IKE_CHILD_DOWN, s->ev[k].spi_in))
			return true;
	return false;
}

/* §2.8.1: both ends rekey the same pair at once. */
static void test_rekey_collision(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;
	struct ike_tx tx = {0};
	struct netq to_i, to_r;
	int round, overtake;
	unsigned lost_i = 0, lost_r = 0;

	(void)state;
	make_conn(&ci, true, "aes128gcm16-ecp256", "198.51.100.16/28",
		  "198.51.100.32/28", 1);
	make_conn(&cr, false, "aes128gcm16-ecp256", "198.51.100.32/28",
		  "198.51.100.16/28", 1);
	for (round = 0; round < 24; round++) {
		overtake = round % 2;
		establish(&i, &r, &ci, &cr);
		check_dp(&i, &r);
		memset(&to_i, 0, sizeof(to_i));
		memset(&to_r, 0, sizeof(to_r));
		assert_int_equal(ike_sa_child_rekey(i.sa, i.ev[0].spi_in, &tx),
				 0);
		net_put(&to_r, &tx);
		assert_int_equal(ike_sa_child_rekey(r.sa, r.ev[0].spi_in, &tx),
				 0);
		net_put(&to_i, &tx);
		if (overtake) {
			/* r answers i's request, and that answer reaches i
			 * before r's request does. */
			struct ike_dgram_out last;

			net_one(&r, &to_r, &to_i);
			assert_int_equal(to_i.n, 2);
			last = to_i.d[1];
			to_i.d[1] = to_i.d[0];
			to_i.d[0] = last;
			net_one(&i, &to_i, &to_r);
		}
		net_run(&i, &r, &to_i, &to_r);
		check_dp(&i, &r);
		/* Who deleted its own new pair (the redundant one)? */
		lost_i += own_pair_deleted(&i);
		lost_r += own_pair_deleted(&r);
		free_pair(&i, &r);
	}
	/* Random nonces: over 24 rounds each end loses sometimes. */
	print_message("collision: i's pair redundant %u times, r's %u\n",
		      lost_i, lost_r);
	assert_true(lost_i + lost_r > 0);
}

/* Damaged CREATE_CHILD_SA requests: dropped, nothing changes. */
static void test_damaged(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;
	struct ike_tx tx = {0}, out = {0};
	uint8_t *copy;
	size_t k, len;
	struct ike_dgram_out d;
	uint64_t dropped;

	(void)state;
	make_conn(&ci, true, "aes128gcm16-x25519", "198.51.100.16/28",
		  "198.51.100.32/28", 1);
	make_conn(&cr, false, "aes128gcm16-x25519", "198.51.100.32/28",
		  "198.51.100.16/28", 1);
	establish(&i, &r, &ci, &cr);
	assert_int_equal(ike_sa_child_rekey(i.sa, i.ev[0].spi_in, &tx), 0);
	d = tx.d[0];
	len = d.len;
	copy = malloc(len);
	assert_non_null(copy);
	dropped = r.sa->dropped;
	for (k = 0; k < len * 8; k += 11) {
		memcpy(copy, d.p, len);
		copy[k / 8] ^= (uint8_t)(1u << (k % 8));
		assert_true(ike_sa_recv(r.sa, copy, len, &d.src, d.sport,
					&d.dst, d.dport, &out) < 0);
	}
	assert_int_equal(out.n, 0);
	assert_int_equal(r.sa->dropped, dropped + (len * 8 + 10) / 11);
	assert_int_equal(r.n_ev, 1);
	free(copy);
	pump(&i, &r, &tx);
	assert_int_equal(r.n_ev, 4);
	assert_int_equal(i.n_ev, 3);
	free_pair(&i, &r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_second_child),
		cmocka_unit_test(test_queued_and_auth_pick),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_rekey),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_unknown_spi_and_liveness),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_rekey_collision),
		cmocka_unit_test(test_damaged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
