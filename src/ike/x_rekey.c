/* SPDX-License-Identifier: MIT */
/*
 * Rekeying the IKE SA, RFC 7296 §1.3.2, §2.18:
 *   HDR, SK {SA, Ni, KEi}  -->
 *      <--  HDR, SK {SA, Nr, KEr}
 * The SA payload carries IKE proposals with the sender's new 8-octet
 * SPI; the new SA's keys are
 *   SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
 * (old PRF), then prf+ with the new PRF, nonces and SPIs (§2.14).  The
 * new SA starts with message IDs 0 and inherits all Child SAs; the end
 * that started the rekey is its "original initiator" (§2.18) and deletes
 * the old IKE SA.  The new SA is handed to the caller in
 * ike_sa.rekeyed_to.
 *
 * Collisions (§2.8.2, §2.25.2): a peer's request to rekey while our own
 * IKE SA rekey request is out is answered as usual; its new SA waits in
 * rk_theirs.  When our answer comes, both new SAs exist on both ends;
 * the one made with the lowest of the four nonces is redundant and the
 * end that created it (the initiator of that exchange) deletes it; the
 * Child SAs go to the other one, whose initiator deletes the old IKE SA
 * (§2.18).  Both ends compare the same four nonces, so they agree.
 * A queued (not yet sent) request of ours is simply dropped.  Still
 * TEMPORARY_FAILURE (§2.25): while another request of ours is out (its
 * answer would come on an SA whose Child SAs have moved away), while we
 * are deleting the SA (§2.25.2), and after the SA was rekeyed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "ike/ike_sa.h"

#define RK_BUF_MAX 1024 /* largest KE public value / secret (MODP-8192) */

static const struct ikev2_payload *first_of(const struct ikev2_msg *m,
					    uint8_t type)
{
	size_t from = 0;

	return ikev2_msg_next(m, type, &from);
}

static int random_spi(uint8_t spi[IKE_SPI_LEN])
{
	static const uint8_t zero[IKE_SPI_LEN];
	int r;

	do {
		r = crypto_random(spi, IKE_SPI_LEN);
	} while (r == 0 && memcmp(spi, zero, IKE_SPI_LEN) == 0);
	return r;
}

/* The new IKE SA: same connection, peer and hooks; keys of §2.18. */
static int new_sa(struct ike_sa *old, bool initiator,
		  const struct proposal_chosen *c, const uint8_t *spi_i,
		  const uint8_t *spi_r, const uint8_t *ni, size_t ni_len,
		  const uint8_t *nr, size_t nr_len, const uint8_t *g_ir,
		  size_t g_ir_len, struct ike_sa **out)
{
	uint8_t skeyseed[IKE_PRF_KEY_MAX];
	struct ike_sa *n = NULL;
	int r;

	if (ni_len > sizeof(n->ni) || nr_len > sizeof(n->nr))
		return ERR_INVAL;
	r = ike_sa_new(&old->conn, initiator, old->child_cb, old->cb_arg, &n);
	if (r < 0)
		return r;
	ike_sa_set_hooks(n, old->ev_cb, old->conn_iter, old->hook_arg);
	n->local = old->local;
	n->remote = old->remote;
	n->lport = old->lport;
	n->rport = old->rport;
	n->nat_local = old->nat_local;
	n->nat_remote = old->nat_remote;
	n->peer_sig_hashes = old->peer_sig_hashes;
	n->auth_local = old->auth_local;
	n->auth_remote = old->auth_remote;
	n->peer_id = old->peer_id;
	n->ike = *c;
	memcpy(n->spi_i, spi_i, IKE_SPI_LEN);
	memcpy(n->spi_r, spi_r, IKE_SPI_LEN);
	memcpy(n->ni, ni, ni_len);
	n->ni_len = ni_len;
	memcpy(n->nr, nr, nr_len);
	n->nr_len = nr_len;
	r = ikev2_skeyseed_rekey(old->ike.prf, old->keys.sk_d,
				 old->keys.sk_d_len, g_ir, g_ir_len, ni,
				 ni_len, nr, nr_len, skeyseed,
				 sizeof(skeyseed));
	if (r == 0)
		r = ikev2_derive_ike_keys(c->prf, c->encr, c->integ, skeyseed,
					  c->prf->out_len, ni, ni_len, nr,
					  nr_len, spi_i, spi_r, &n->keys);
	if (r == 0)
		r = ikev2_sk_new(c->encr, c->integ, &n->keys, initiator,
				 &n->sk);
	crypto_wipe(skeyseed, sizeof(skeyseed));
	if (r < 0) {
		ike_sa_free(n);
		return r;
	}
	n->state = IKE_S_ESTABLISHED;
	*out = n;
	return 0;
}

/* §2.18: the Child SAs now belong to the new IKE SA n, and so do our
 * requests about them that wait for the window. */
static void adopt(struct ike_sa *old, struct ike_sa *n)
{
	size_t i;

	for (i = 0; i < IKE_CHILD_SLOTS; i++) {
		n->child[i] = old->child[i];
		old->child[i] = NULL;
	}
	for (i = 0; i < old->q_n; i++) {
		if (old->q_kind[i] == IKE_REQ_REKEY_IKE ||
		    old->q_kind[i] == IKE_REQ_DELETE_IKE)
			continue;
		n->q_kind[n->q_n] = old->q_kind[i];
		n->q_spi[n->q_n++] = old->q_spi[i];
	}
	old->q_n = 0;
	old->rekeyed_to = n;
	old->rk_replaced = true;
	old->rk_out = false;
}

/* The lower of the two nonces of SA n, in *p, *len. */
static void low_nonce(const struct ike_sa *n, const uint8_t **p, size_t *len)
{
	bool i_low = ike_nonce_cmp(n->ni, n->ni_len, n->nr, n->nr_len) < 0;

	*p = i_low ? n->ni : n->nr;
	*len = i_low ? n->ni_len : n->nr_len;
}

/*
 * §2.8.2: both rekeys completed; ours is the new SA of our exchange,
 * old->rk_theirs that of the peer's.  The one created with the lowest
 * of the four nonces is redundant: its creator deletes it.  The other
 * takes the Child SAs.
 */
static void resolve_collision(struct ike_sa *old, struct ike_sa *ours,
			      struct ike_tx *tx)
{
	struct ike_sa *theirs = old->rk_theirs;
	const uint8_t *lo, *lt;
	size_t lo_len, lt_len;
	bool lost;

	low_nonce(ours, &lo, &lo_len);
	low_nonce(theirs, &lt, &lt_len);
	lost = ike_nonce_cmp(lo, lo_len, lt, lt_len) < 0;
	old->rk_theirs = NULL;
	old->rk_collisions++;
	log_info(LS_IKE, "IKE SA rekey collision (RFC 7296 §2.8.2): %s",
		 lost ? "the peer won; deleting our redundant new IKE SA"
		      : "we won; the peer deletes its redundant new IKE SA");
	if (lost) {
		/* The answer is not awaited (§1.4.1); the peer keeps
		 * the SA until our Delete. */
		(void)ike_sa_delete(ours, tx);
		ike_sa_free(ours);
		adopt(old, theirs);
	} else {
		old->rk_won++;
		ike_sa_free(old->rk_loser);
		old->rk_loser = theirs;
		adopt(old, ours);
	}
}

void ike_sa_rekey_take_theirs(struct ike_sa *sa)
{
	if (!sa->rk_theirs || sa->rekeyed_to)
		return;
	adopt(sa, sa->rk_theirs);
	sa->rk_theirs = NULL;
}

/* ---- responder ---- */

struct rekey_resp {
	uint16_t error; /* an error notify alone */
	uint8_t err_data[2];
	size_t err_len;
	struct ikev2_prop_desc d;
	struct ikev2_xform_desc t[5];
	uint8_t nr[IKE_NONCE_LEN];
	uint8_t pub[RK_BUF_MAX];
	size_t pub_len;
	uint16_t group;
	uint8_t secret[RK_BUF_MAX];
	size_t secret_len;
	uint8_t spi[IKE_SPI_LEN];
};

static int fill_rekey_resp(struct ike_sa *sa, struct ikev2_builder *b,
			   void *arg)
{
	struct rekey_resp *p = arg;
	int r;

	(void)sa;
	if (p->error)
		return ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0, p->error,
					p->err_len ? p->err_data : NULL,
					p->err_len);
	r = ikev2_add_sa(b, &p->d, 1);
	if (r == 0)
		r = ikev2_add_nonce(b, p->nr, sizeof(p->nr));
	if (r == 0)
		r = ikev2_add_ke(b, p->group, p->pub, p->pub_len);
	return r;
}

int ike_rekey_recv_request(struct ike_sa *sa, const struct ikev2_msg *inner,
			   uint32_t id, struct ike_tx *tx)
{
	struct rekey_resp *p = calloc(1, sizeof(*p));
	struct ikev2_sa *offered = malloc(sizeof(*offered));
	const struct ikev2_payload *sp = first_of(inner, IKEV2_PL_SA);
	const struct ikev2_payload *np = first_of(inner, IKEV2_PL_NONCE);
	const struct ikev2_payload *kp = first_of(inner, IKEV2_PL_KE);
	struct proposal_chosen c;
	struct ikev2_nonce ni;
	struct ikev2_ke ke = {0};
	struct ke *our = NULL;
	const struct ke_alg *ka;
	struct ike_sa *n = NULL;
	bool collide = false;
	size_t k;
	int r;

	sa->next_peer_id = id + 1;
	if (!p || !offered) {
		r = ERR_NOMEM;
		goto out;
	}
	if (!sp || !np || !kp || ikev2_decode_sa(sp, offered) < 0 ||
	    ikev2_decode_nonce(np, &ni) < 0 || ikev2_decode_ke(kp, &ke) < 0) {
		p->error = IKEV2_N_INVALID_SYNTAX;
		goto send;
	}
	/* §2.25.2: a request to rekey the IKE SA we are rekeying is
	 * answered as usual; the collision is resolved when our answer
	 * comes (resolve_collision()).  §2.25: TEMPORARY_FAILURE while
	 * another request of ours is out (its answer would come on an SA
	 * whose Child SAs moved; there is no rule to carry it over) or
	 * we delete the SA (§2.25.2), and after a rekey. */
	collide = sa->rk_out && sa->req_out &&
		  sa->cur_kind == IKE_REQ_REKEY_IKE;
	if (sa->rekeyed_to || sa->rk_replaced || sa->rk_theirs ||
	    (sa->req_out && !collide)) {
		ike_sa_peer_log("CREATE_CHILD_SA: IKE SA rekey while busy; "
				"TEMPORARY_FAILURE");
		p->error = IKEV2_N_TEMPORARY_FAILURE;
		goto send;
	}
	if (proposal_select(&sa->conn.ike, offered, ke.group, true, &c,
			    sa->detail, sizeof(sa->detail)) < 0 ||
	    c.spi_size != IKE_SPI_LEN || !c.ke) {
		ike_sa_peer_log("CREATE_CHILD_SA: IKE SA rekey: no proposal "
				"chosen: %s", sa->detail);
		p->error = IKEV2_N_NO_PROPOSAL_CHOSEN;
		goto send;
	}
	/* §1.3.2: KEi must be of the chosen group, else say which. */
	if (c.ke->iana_id != ke.group) {
		p->error = IKEV2_N_INVALID_KE_PAYLOAD;
		be16_store(p->err_data, c.ke->iana_id);
		p->err_len = 2;
		goto send;
	}
	ka = c.ke;
	if (ka->pub_len > sizeof(p->pub) ||
	    ka->secret_len > sizeof(p->secret) || ke.len != ka->pub_len ||
	    ke_new(ka, &our) < 0 ||
	    ke_get_public(our, p->pub, ka->pub_len) < 0 ||
	    ke_derive(our, ke.data, ke.len, p->secret, ka->secret_len) < 0) {
		p->error = IKEV2_N_INVALID_SYNTAX;
		goto send;
	}
	p->pub_len = ka->pub_len;
	p->group = ka->iana_id;
	p->secret_len = ka->secret_len;
	r = crypto_random(p->nr, sizeof(p->nr));
	if (r == 0)
		r = random_spi(p->spi);
	if (r < 0)
		goto out;
	proposal_chosen_to_wire(&c, p->spi, IKE_SPI_LEN, &p->d, p->t);
	/* Our own rekey, still queued, is not needed any more. */
	if (!collide && sa->rk_out) {
		for (k = 0; k < sa->q_n; k++) {
			if (sa->q_kind[k] != IKE_REQ_REKEY_IKE)
				continue;
			sa->q_n--;
			memmove(sa->q_kind + k, sa->q_kind + k + 1,
				sa->q_n - k);
			memmove(sa->q_spi + k, sa->q_spi + k + 1,
				(sa->q_n - k) * sizeof(uint32_t));
			break;
		}
		sa->rk_out = false;
	}
send:
	r = ike_sa_send_sk(sa, tx, IKEV2_EXCH_CREATE_CHILD_SA, true, id,
			   fill_rekey_resp, p);
	if (r == 0 && !p->error) {
		/* The peer started it: it is the new SA's initiator and
		 * its SPI is SPIi (§2.18). */
		r = new_sa(sa, false, &c, c.spi, p->spi, ni.data, ni.len,
			   p->nr, sizeof(p->nr), p->secret, p->secret_len,
			   &n);
		if (r < 0)
			log_warn(LS_IKE, "IKE SA rekey: cannot make the new "
				 "SA: %s", err_str(r));
		else if (collide)
			sa->rk_theirs = n; /* §2.8.2: wait for our answer */
		else
			adopt(sa, n);
	}
out:
	ke_free(our);
	if (p)
		crypto_wipe(p, sizeof(*p));
	free(p);
	free(offered);
	return r;
}

/* ---- initiator ---- */

struct rekey_req {
	struct proposal_wire pw;
	uint8_t pub[RK_BUF_MAX];
	size_t pub_len;
	uint16_t group;
	const uint8_t *ni;
	size_t ni_len;
};

static int fill_rekey_req(struct ike_sa *sa, struct ikev2_builder *b,
			  void *arg)
{
	struct rekey_req *q = arg;
	int r;

	(void)sa;
	r = ikev2_add_sa(b, q->pw.d, q->pw.n);
	if (r == 0)
		r = ikev2_add_nonce(b, q->ni, q->ni_len);
	if (r == 0)
		r = ikev2_add_ke(b, q->group, q->pub, q->pub_len);
	return r;
}

int ike_sa_rekey(struct ike_sa *sa, struct ike_tx *tx)
{
	if (sa->state != IKE_S_ESTABLISHED || sa->rekeyed_to ||
	    sa->rk_replaced)
		return ERR_INVAL;
	if (sa->rk_out || sa->rk_theirs)
		return ERR_EXISTS;
	if (ike_sa_enqueue(sa, IKE_REQ_REKEY_IKE, 0, false) < 0)
		return ERR_LIMIT;
	sa->rk_out = true;
	sa->rk_tries = 0;
	sa->rk_group = 0;
	return ike_sa_kick(sa, tx);
}

int ike_rekey_send_request(struct ike_sa *sa, struct ike_tx *tx)
{
	struct rekey_req *q = calloc(1, sizeof(*q));
	const struct ke_alg *ka;
	int r;

	if (!q)
		return ERR_NOMEM;
	/* §2.18: the group we negotiated, unless the peer asked for
	 * another with INVALID_KE_PAYLOAD. */
	if (!sa->rk_group)
		sa->rk_group = sa->ike.ke ? sa->ike.ke->iana_id : 0;
	ka = ke_by_iana(sa->rk_group);
	ke_free(sa->rk_ke);
	sa->rk_ke = NULL;
	sa->rk_ni_len = IKE_NONCE_LEN;
	r = ka ? 0 : ERR_UNSUPPORTED;
	if (r == 0 && ka->pub_len > sizeof(q->pub))
		r = ERR_NOSPACE;
	if (r == 0)
		r = crypto_random(sa->rk_ni, sa->rk_ni_len);
	if (r == 0)
		r = random_spi(sa->rk_spi);
	if (r == 0)
		r = ke_new(ka, &sa->rk_ke);
	if (r == 0)
		r = ke_get_public(sa->rk_ke, q->pub, ka->pub_len);
	if (r == 0)
		r = proposal_to_wire(&sa->conn.ike, sa->rk_spi, IKE_SPI_LEN,
				     &q->pw);
	if (r == 0) {
		q->pub_len = ka->pub_len;
		q->group = ka->iana_id;
		q->ni = sa->rk_ni;
		q->ni_len = sa->rk_ni_len;
		r = ike_sa_send_req(sa, tx, IKEV2_EXCH_CREATE_CHILD_SA,
				    IKE_REQ_REKEY_IKE, 0, fill_rekey_req, q);
	}
	if (r < 0) {
		log_warn(LS_IKE, "IKE SA rekey: cannot build the request: %s",
			 err_str(r));
		sa->rk_out = false;
	}
	crypto_wipe(q, sizeof(*q));
	free(q);
	return r;
}

int ike_rekey_recv_response(struct ike_sa *sa, const struct ikev2_msg *inner,
			    struct ike_tx *tx)
{
	const struct ikev2_payload *sp = first_of(inner, IKEV2_PL_SA);
	const struct ikev2_payload *np = first_of(inner, IKEV2_PL_NONCE);
	const struct ikev2_payload *kp = first_of(inner, IKEV2_PL_KE);
	struct ikev2_sa *reply = malloc(sizeof(*reply));
	uint8_t secret[RK_BUF_MAX];
	const struct ke_alg *ka = sa->rk_ke ? ke_get_alg(sa->rk_ke) : NULL;
	struct proposal_chosen c;
	struct ikev2_nonce nr;
	struct ikev2_notify nt;
	struct ikev2_ke ke;
	struct ike_sa *n = NULL;
	char why[256];
	int r = 0;

	sa->rk_out = false;
	if (!reply) {
		r = ERR_NOMEM;
		goto out;
	}
	/* §1.3.2: the peer may want another group (at most twice). */
	if (ikev2_msg_notify(inner, IKEV2_N_INVALID_KE_PAYLOAD, &nt) &&
	    nt.len == 2 && !sa->rk_theirs && sa->rk_tries++ < 2) {
		sa->rk_group = be16_load(nt.data);
		sa->rk_out = true;
		r = ike_sa_enqueue(sa, IKE_REQ_REKEY_IKE, 0, true);
		if (r < 0)
			sa->rk_out = false;
		goto out;
	}
	if (!sp || !np || !kp || ikev2_decode_sa(sp, reply) < 0 ||
	    ikev2_decode_nonce(np, &nr) < 0 || ikev2_decode_ke(kp, &ke) < 0) {
		/* An error notify (TEMPORARY_FAILURE, NO_PROPOSAL_CHOSEN):
		 * the caller tries again later. */
		ike_sa_peer_log("IKE SA rekey refused by the peer%s",
				ikev2_msg_notify(inner,
						 IKEV2_N_TEMPORARY_FAILURE,
						 &nt)
					? " (TEMPORARY_FAILURE)"
					: "");
		sa->rk_failed++;
		goto out;
	}
	if (proposal_check_reply(&sa->conn.ike, reply, true, &c, why,
				 sizeof(why)) < 0 ||
	    c.spi_size != IKE_SPI_LEN || !c.ke || !ka ||
	    c.ke->iana_id != ka->iana_id || ke.group != ka->iana_id ||
	    ke.len != ka->pub_len || ka->secret_len > sizeof(secret) ||
	    ke_derive(sa->rk_ke, ke.data, ke.len, secret, ka->secret_len) < 0) {
		ike_sa_peer_log("IKE SA rekey: bad answer");
		sa->rk_failed++;
		goto out;
	}
	/* We started it: we are the new SA's initiator, our SPI is SPIi. */
	r = new_sa(sa, true, &c, sa->rk_spi, c.spi, sa->rk_ni, sa->rk_ni_len,
		   nr.data, nr.len, secret, ka->secret_len, &n);
	if (r < 0) {
		log_warn(LS_IKE, "IKE SA rekey: cannot make the new SA: %s",
			 err_str(r));
		sa->rk_failed++;
	} else if (sa->rk_theirs) {
		resolve_collision(sa, n, tx);
	} else {
		adopt(sa, n);
	}
out:
	/* §2.8.2: ours failed but the peer's rekey went through: its new
	 * SA is the one. */
	if (sa->rk_theirs && !sa->rekeyed_to) {
		adopt(sa, sa->rk_theirs);
		sa->rk_theirs = NULL;
	}
	ke_free(sa->rk_ke);
	sa->rk_ke = NULL;
	crypto_wipe(secret, sizeof(secret));
	free(reply);
	return r;
}
