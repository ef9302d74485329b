/* SPDX-License-Identifier: MIT */
/*
 * Rekeying the IKE SA (src/ike/x_rekey.c, RFC 7296 §1.3.2, §2.18): two
 * IKE SAs in one process, established with IKE_SA_INIT + IKE_AUTH, then
 *   - a rekey by the original initiator and one by the original
 *     responder: both ends make the same new SA (SPIs, SK_d, SK_e*),
 *     different from the old one, the rekey initiator is the new SA's
 *     initiator, the Child SA moves without an event, and the new SA
 *     carries INFORMATIONAL and CREATE_CHILD_SA (Child SA rekey);
 *   - a rekey request while a request of the responder is out is
 *     answered with TEMPORARY_FAILURE (§2.25): nothing changes;
 *   - simultaneous rekeying (§2.8.2): both ends rekey at once, both
 *     exchanges complete, the new SA made with the lowest of the four
 *     nonces is deleted by its creator and both ends keep the same one
 *     (with the Child SA), which then carries traffic.
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

struct side {
	struct ike_sa *sa;
	unsigned n_ev, n_up;
};

static void on_ev(void *arg, enum ike_child_event type,
		  const struct ike_child *c, const struct sa_params *in,
		  const struct sa_params *out)
{
	struct side *s = arg;

	(void)c;
	(void)in;
	(void)out;
	s->n_ev++;
	if (type == IKE_CHILD_UP || type == IKE_CHILD_UP_IN)
		s->n_up++;
}

static void make_conn(struct ike_conn *c, bool initiator, const char *a,
		      const char *b)
{
	fx_conn(c, initiator,
		"aes128gcm16-prfsha256-x25519, aes256-sha256-modp2048",
		"aes128gcm16", "k3y-1", a, b);
	c->reqid = 1;
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

static size_t n_children(const struct ike_sa *sa)
{
	size_t k, n = 0;

	for (k = 0; k < IKE_CHILD_SLOTS; k++)
		n += sa->child[k] != NULL;
	return n;
}

static void establish(struct side *i, struct side *r)
{
	struct ike_conn ci, cr;
	struct ike_tx tx = {0};

	make_conn(&ci, true, "198.51.100.16/28", "198.51.100.32/28");
	make_conn(&cr, false, "198.51.100.32/28", "198.51.100.16/28");
	memset(i, 0, sizeof(*i));
	memset(r, 0, sizeof(*r));
	assert_int_equal(ike_sa_new(&ci, true, NULL, NULL, &i->sa), 0);
	assert_int_equal(ike_sa_new(&cr, false, NULL, NULL, &r->sa), 0);
	ike_sa_set_hooks(i->sa, on_ev, NULL, i);
	ike_sa_set_hooks(r->sa, on_ev, NULL, r);
	assert_int_equal(ike_sa_initiate(i->sa, &tx), 0);
	pump(i, r, &tx);
	assert_int_equal(i->sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(r->sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(i->n_up, 1);
	assert_int_equal(r->n_up, 1);
}

/* a rekeys the IKE SA with b; both switch to the new SA. */
static void rekey(struct side *a, struct side *b)
{
	struct ike_sa *na, *nb, *oa = a->sa, *ob = b->sa;
	struct ike_tx tx = {0};
	unsigned ev_a = a->n_ev, ev_b = b->n_ev;

	assert_int_equal(ike_sa_rekey(a->sa, &tx), 0);
	assert_int_equal(ike_sa_rekey(a->sa, &tx), ERR_EXISTS);
	assert_int_equal(tx.n, 1);
	pump(a, b, &tx);
	na = oa->rekeyed_to;
	nb = ob->rekeyed_to;
	assert_non_null(na);
	assert_non_null(nb);
	oa->rekeyed_to = ob->rekeyed_to = NULL;
	/* §2.18: the rekey initiator is the new SA's initiator and its
	 * SPI is SPIi. */
	assert_true(na->initiator);
	assert_false(nb->initiator);
	assert_memory_equal(na->spi_i, nb->spi_i, IKE_SPI_LEN);
	assert_memory_equal(na->spi_r, nb->spi_r, IKE_SPI_LEN);
	assert_memory_not_equal(na->spi_i, oa->spi_i, IKE_SPI_LEN);
	assert_memory_not_equal(na->spi_i, oa->spi_r, IKE_SPI_LEN);
	assert_int_equal(na->keys.sk_d_len, nb->keys.sk_d_len);
	assert_memory_equal(na->keys.sk_d, nb->keys.sk_d, na->keys.sk_d_len);
	assert_memory_not_equal(na->keys.sk_d, oa->keys.sk_d,
				na->keys.sk_d_len);
	assert_memory_equal(na->keys.sk_ei, nb->keys.sk_ei,
			    na->keys.sk_e_len);
	assert_int_equal(na->state, IKE_S_ESTABLISHED);
	assert_int_equal(na->next_req_id, 0);
	/* The Child SA moved, without any event. */
	assert_int_equal(n_children(oa), 0);
	assert_int_equal(n_children(ob), 0);
	assert_int_equal(n_children(na), 1);
	assert_int_equal(n_children(nb), 1);
	assert_int_equal(a->n_ev, ev_a);
	assert_int_equal(b->n_ev, ev_b);
	ike_sa_free(oa);
	ike_sa_free(ob);
	a->sa = na;
	b->sa = nb;
}

/* The SAs of i and r talk: liveness both ways, a Child SA rekey. */
static void check_talk(struct side *i, struct side *r)
{
	struct ike_tx tx = {0};
	struct ike_child *c = NULL;
	size_t k;

	assert_int_equal(ike_sa_liveness(i->sa, &tx), 0);
	pump(i, r, &tx);
	assert_int_equal(i->sa->alive_acks, 1);
	assert_int_equal(ike_sa_liveness(r->sa, &tx), 0);
	pump(r, i, &tx);
	assert_int_equal(r->sa->alive_acks, 1);
	for (k = 0; k < IKE_CHILD_SLOTS && !c; k++)
		c = i->sa->child[k];
	assert_non_null(c);
	assert_int_equal(ike_sa_child_rekey(i->sa, c->spi_in, &tx), 0);
	pump(i, r, &tx);
	assert_int_equal(i->n_up, 2);
	assert_int_equal(r->n_up, 2);
	assert_int_equal(n_children(i->sa), 1);
	assert_int_equal(n_children(r->sa), 1);
	assert_int_equal(i->sa->dropped + r->sa->dropped, 0);
}

static void test_rekey_by_initiator(void **state)
{
	struct side i, r;

	(void)state;
	establish(&i, &r);
	rekey(&i, &r);
	check_talk(&i, &r);
	ike_sa_free(i.sa);
	ike_sa_free(r.sa);
}

static void test_rekey_by_responder(void **state)
{
	struct side i, r;

	(void)state;
	establish(&i, &r);
	rekey(&r, &i);
	/* r started the rekey: it is the new SA's initiator. */
	assert_true(r.sa->initiator);
	check_talk(&r, &i);
	/* And again, by the other end of the new SA. */
	rekey(&i, &r);
	assert_true(i.sa->initiator);
	ike_sa_free(i.sa);
	ike_sa_free(r.sa);
}

static void test_busy(void **state)
{
	struct side i, r;
	struct ike_tx tx = {0}, held = {0};

	(void)state;
	establish(&i, &r);
	/* r's liveness request is out (not delivered yet) when i's rekey
	 * request arrives: TEMPORARY_FAILURE (§2.25). */
	assert_int_equal(ike_sa_liveness(r.sa, &held), 0);
	assert_int_equal(ike_sa_rekey(i.sa, &tx), 0);
	pump(&i, &r, &tx);
	assert_null(i.sa->rekeyed_to);
	assert_null(r.sa->rekeyed_to);
	assert_int_equal(i.sa->rk_failed, 1);
	assert_false(i.sa->rk_out);
	assert_int_equal(n_children(i.sa), 1);
	pump(&r, &i, &held);
	assert_int_equal(r.sa->alive_acks, 1);
	/* Now it works. */
	rekey(&i, &r);
	ike_sa_free(i.sa);
	ike_sa_free(r.sa);
}

/* Deliver each datagram of tx to sa, answers into out. */
static void deliver(struct ike_sa *sa, struct ike_tx *tx, struct ike_tx *out)
{
	size_t k;

	for (k = 0; k < tx->n; k++) {
		struct ike_dgram_out *d = &tx->d[k];

		assert_int_equal(ike_sa_recv(sa, d->p, d->len, &d->src,
					     d->sport, &d->dst, d->dport, out),
				 0);
	}
	ike_tx_clear(tx);
}

static const uint8_t *low(const struct ike_sa *sa)
{
	assert_int_equal(sa->ni_len, IKE_NONCE_LEN);
	assert_int_equal(sa->nr_len, IKE_NONCE_LEN);
	return memcmp(sa->ni, sa->nr, IKE_NONCE_LEN) < 0 ? sa->ni : sa->nr;
}

/* i and r rekey the IKE SA at once; returns true if i's new SA won. */
static bool collide(struct side *i, struct side *r)
{
	struct ike_tx ti = {0}, tr = {0}, ai = {0}, ar = {0};
	struct ike_tx di = {0}, dr = {0}, fin = {0};
	struct ike_sa *oi = i->sa, *or = r->sa, *wi, *wr, *loser;
	struct ike_tx *del;
	bool i_won;

	assert_int_equal(ike_sa_rekey(oi, &ti), 0);
	assert_int_equal(ike_sa_rekey(or, &tr), 0);
	assert_int_equal(ti.n, 1);
	assert_int_equal(tr.n, 1);
	/* The requests cross: each end answers the other's (§2.25.2:
	 * "reply as usual"), the new SA waits for our own answer. */
	deliver(oi, &tr, &ai);
	deliver(or, &ti, &ar);
	assert_int_equal(ai.n, 1);
	assert_int_equal(ar.n, 1);
	assert_non_null(oi->rk_theirs);
	assert_non_null(or->rk_theirs);
	assert_null(oi->rekeyed_to);
	assert_int_equal(n_children(oi), 1);
	/* The answers: both exchanges complete. */
	deliver(oi, &ar, &di);
	deliver(or, &ai, &dr);
	wi = oi->rekeyed_to;
	wr = or->rekeyed_to;
	assert_non_null(wi);
	assert_non_null(wr);
	assert_null(oi->rk_theirs);
	assert_null(or->rk_theirs);
	assert_int_equal(oi->rk_collisions, 1);
	assert_int_equal(or->rk_collisions, 1);
	/* Both keep the same new SA, with the same keys. */
	assert_memory_equal(wi->spi_i, wr->spi_i, IKE_SPI_LEN);
	assert_memory_equal(wi->spi_r, wr->spi_r, IKE_SPI_LEN);
	assert_memory_equal(wi->keys.sk_d, wr->keys.sk_d, wi->keys.sk_d_len);
	assert_true(wi->initiator != wr->initiator);
	/* Exactly one end won; it keeps the peer's redundant SA until the
	 * peer, its creator, deletes it with the one datagram it sent. */
	i_won = oi->rk_won;
	assert_int_equal(oi->rk_won + or->rk_won, 1);
	assert_true(wi->initiator == i_won);
	loser = i_won ? oi->rk_loser : or->rk_loser;
	assert_non_null(loser);
	assert_null(i_won ? or->rk_loser : oi->rk_loser);
	del = i_won ? &dr : &di;
	assert_int_equal(del->n, 1);
	assert_int_equal((i_won ? &di : &dr)->n, 0);
	/* §2.8.2: the redundant one holds the lowest of the four nonces
	 * (fails if the rule were inverted). */
	assert_true(memcmp(low(loser), low(wi), IKE_NONCE_LEN) < 0);
	assert_memory_not_equal(loser->spi_i, wi->spi_i, IKE_SPI_LEN);
	deliver(loser, del, &fin);
	assert_true(loser->peer_deleted);
	assert_int_equal(fin.n, 1); /* the answer to the Delete */
	ike_tx_clear(&fin);
	/* The Child SA moved to the survivor on both ends. */
	assert_int_equal(n_children(oi), 0);
	assert_int_equal(n_children(or), 0);
	assert_int_equal(n_children(wi), 1);
	assert_int_equal(n_children(wr), 1);
	oi->rekeyed_to = or->rekeyed_to = NULL;
	ike_sa_free(oi);
	ike_sa_free(or);
	i->sa = wi;
	r->sa = wr;
	return i_won;
}

static void test_collision(void **state)
{
	unsigned k, i_wins = 0;

	(void)state;
	for (k = 0; k < 8; k++) {
		struct side i, r;

		establish(&i, &r);
		i_wins += collide(&i, &r);
		check_talk(&i, &r);
		/* And the survivor can be rekeyed again, at once too. */
		(void)collide(&i, &r);
		rekey(&i, &r);
		ike_sa_free(i.sa);
		ike_sa_free(r.sa);
	}
	print_message("collisions won by the original initiator: %u/8\n",
		      i_wins);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rekey_by_initiator),
		cmocka_unit_test(test_rekey_by_responder),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_collision),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
