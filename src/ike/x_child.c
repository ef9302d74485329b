/* SPDX-License-Identifier: MIT */
/*
 * The CREATE_CHILD_SA exchange for Child SAs, RFC 7296 §1.3.1, §1.3.3:
 *   HDR, SK {[N(REKEY_SA)], [N(USE_TRANSPORT_MODE)], SA, Ni, [KEi],
 *            TSi, TSr}  -->
 *      <--  HDR, SK {[N(USE_TRANSPORT_MODE)], SA, Nr, [KEr], TSi, TSr}
 * or an error notify alone (§3.10.1: NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE,
 * INVALID_KE_PAYLOAD, NO_ADDITIONAL_SAS, CHILD_SA_NOT_FOUND).
 *
 * Both roles, new Child SAs and rekeying (REKEY_SA), with a KE payload
 * when the ESP proposals name a group (PFS, §1.3.1).  Rekeying is
 * make-before-break (§2.8): the initiator installs the new pair when the
 * answer comes and then deletes the old pair (x_info.c); the responder
 * installs the new inbound SA at once and its new outbound SA only when
 * that Delete arrives, when the initiator is sure to have the new
 * inbound SA.  Rekeying the IKE SA itself is in x_rekey.c.
 *
 * Simultaneous rekeying of one Child SA by both ends (§2.8.1): of the
 * two new pairs, the one whose exchange used the lowest of the four
 * nonces is redundant and deleted by the end that started that exchange;
 * the end that started the surviving exchange deletes the old pair.  The
 * outbound SA of a redundant pair we answered is never used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "ike/ike_sa.h"

/* The largest KE public value and shared secret: MODP-8192. */
#define KE_BUF_MAX 1024

static const struct ikev2_payload *first_of(const struct ikev2_msg *m,
					    uint8_t type)
{
	size_t from = 0;

	return ikev2_msg_next(m, type, &from);
}

static size_t n_children(const struct ike_sa *sa)
{
	size_t i, n = 0;

	/* A replaced pair waiting for its Delete does not count. */
	for (i = 0; i < IKE_CHILD_SLOTS; i++)
		if (sa->child[i] && sa->child[i]->state != IKE_CHILD_REKEYED)
			n++;
	return n;
}

/* The PFS group our proposals ask for first (0: no PFS). */
static uint16_t first_group(const struct proposal_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->p[i].n_ke)
			return l->p[i].ke[0]->iana_id;
	return 0;
}

static bool offers_group(const struct proposal_list *l, uint16_t group)
{
	size_t i, j;

	for (i = 0; i < l->n; i++)
		for (j = 0; j < l->p[i].n_ke; j++)
			if (l->p[i].ke[j]->iana_id == group)
				return true;
	return false;
}

static void set_nmin(struct ike_child *c, const uint8_t *a, size_t alen,
		     const uint8_t *b, size_t blen)
{
	if (ike_nonce_cmp(b, blen, a, alen) < 0) {
		a = b;
		alen = blen;
	}
	memcpy(c->nmin, a, alen);
	c->nmin_len = alen;
}

/* The other new pair of a simultaneous rekey of the pair with our
 * inbound SPI old_spi: made by the other end (ours says which). */
static struct ike_child *rekey_sibling(struct ike_sa *sa,
				       const struct ike_child *n, bool ours)
{
	size_t i;

	for (i = 0; i < IKE_CHILD_SLOTS; i++) {
		struct ike_child *c = sa->child[i];

		if (c && c != n && c->rekeyed_from == n->rekeyed_from &&
		    c->ours == ours && c->state == IKE_CHILD_INSTALLED &&
		    !c->redundant)
			return c;
	}
	return NULL;
}

/* §2.8.1: is the pair `ours` (we started its exchange) the redundant one
 * of a collision with `theirs`?  Marks the loser; the caller deletes
 * ours when it lost. */
static bool collision_ours_lost(struct ike_child *ours,
				struct ike_child *theirs)
{
	bool lost = ike_nonce_cmp(ours->nmin, ours->nmin_len, theirs->nmin,
				  theirs->nmin_len) < 0;

	/* One line per collision, saying who won (not rate-limited: a
	 * peer causes at most one per rekey of ours). */
	log_info(LS_IKE, "simultaneous rekey (RFC 7296 §2.8.1): Child SA "
		 "%08x (%s) is redundant",
		 lost ? ours->spi_in : theirs->spi_in,
		 lost ? "ours, deleting it" : "the peer's, it deletes it");
	if (lost) {
		ours->redundant = true;
	} else {
		/* Its outbound SA is never used: the peer deletes it. */
		theirs->redundant = true;
		if (theirs->out_pending) {
			crypto_wipe(theirs->out_pending,
				    sizeof(*theirs->out_pending));
			free(theirs->out_pending);
			theirs->out_pending = NULL;
		}
	}
	return lost;
}

/* ---- the responder's choice of connection (§2.7, §2.9) ---- */

int ike_child_select(struct ike_sa *sa, const struct ikev2_msg *m, bool want_ke,
		     uint16_t ke_group, const struct ike_conn **conn,
		     struct proposal_chosen *c, struct ts_sel *ts_l,
		     uint8_t *n_l, struct ts_sel *ts_r, uint8_t *n_r)
{
	const struct ikev2_payload *sp = first_of(m, IKEV2_PL_SA);
	const struct ikev2_payload *tip = first_of(m, IKEV2_PL_TSI);
	const struct ikev2_payload *trp = first_of(m, IKEV2_PL_TSR);
	struct ikev2_sa *offered = malloc(sizeof(*offered));
	struct ikev2_ts_list *tsi = malloc(sizeof(*tsi));
	struct ikev2_ts_list *tsr = malloc(sizeof(*tsr));
	struct proposal_list *l = malloc(sizeof(*l));
	const struct ike_conn *cand;
	bool saw_ts = false;
	size_t k, i;
	int r = IKEV2_N_TS_UNACCEPTABLE;

	*conn = NULL;
	if (!offered || !tsi || !tsr || !l) {
		r = ERR_NOMEM;
		goto out;
	}
	if (!sp || !tip || !trp || ikev2_decode_sa(sp, offered) < 0 ||
	    ikev2_decode_ts(tip, tsi) < 0 || ikev2_decode_ts(trp, tsr) < 0) {
		r = IKEV2_N_INVALID_SYNTAX;
		goto out;
	}
	/* Our own connection first, then the others with this peer. */
	for (k = 0, cand = &sa->conn; cand;
	     cand = sa->conn_iter ? sa->conn_iter(sa->hook_arg, sa, k++)
				  : NULL) {
		/* §2.9: TSi is the initiator's side, ours is TSr. */
		if (ike_ts_narrow(tsi, cand->remote_ts, cand->n_remote_ts, ts_r,
				  n_r) < 0 ||
		    ike_ts_narrow(tsr, cand->local_ts, cand->n_local_ts, ts_l,
				  n_l) < 0)
			continue;
		saw_ts = true;
		*l = cand->esp;
		/* §1.2: IKE_AUTH has no KE payload, so no PFS group. */
		for (i = 0; !want_ke && i < l->n; i++)
			l->p[i].n_ke = 0;
		if (proposal_select(l, offered, ke_group, want_ke, c,
				    sa->detail, sizeof(sa->detail)) == 0) {
			*conn = cand;
			r = 0;
			goto out;
		}
	}
	if (saw_ts) {
		ike_sa_peer_log("Child SA: %s", sa->detail);
		r = IKEV2_N_NO_PROPOSAL_CHOSEN;
	} else {
		ike_sa_peer_log("Child SA: the peer's traffic selectors match "
				"no connection (TS_UNACCEPTABLE)");
	}
out:
	free(offered);
	free(tsi);
	free(tsr);
	free(l);
	return r;
}

/* ---- initiator: the request ---- */

struct child_req {
	struct ike_child *c;
	struct proposal_wire pw;
	uint8_t pub[KE_BUF_MAX];
	size_t pub_len;
	struct ikev2_ts tsi[SA_MAX_TS], tsr[SA_MAX_TS];
};

static int fill_child_req(struct ike_sa *sa, struct ikev2_builder *b, void *arg)
{
	struct child_req *q = arg;
	struct ike_child *c = q->c;
	uint8_t old[4];
	int r = 0;

	(void)sa;
	/* §1.3.3: REKEY_SA names the old SA by the SPI we receive on. */
	if (c->rekeyed_from) {
		be32_store(old, c->rekeyed_from);
		r = ikev2_add_notify(b, IKEV2_PROTO_ESP, old, 4,
				     IKEV2_N_REKEY_SA, NULL, 0);
	}
	if (r == 0 && c->mode == IPSEC_MODE_TRANSPORT)
		r = ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0,
				     IKEV2_N_USE_TRANSPORT_MODE, NULL, 0);
	if (r == 0)
		r = ikev2_add_sa(b, q->pw.d, q->pw.n);
	if (r == 0)
		r = ikev2_add_nonce(b, c->ni, c->ni_len);
	if (r == 0 && c->ke)
		r = ikev2_add_ke(b, c->ke_group, q->pub, q->pub_len);
	if (r == 0)
		r = ikev2_add_ts(b, IKEV2_PL_TSI, q->tsi, c->n_l);
	if (r == 0)
		r = ikev2_add_ts(b, IKEV2_PL_TSR, q->tsr, c->n_r);
	return r;
}

/* The old pair of a rekey goes back to normal when the rekey fails. */
static void rekey_undo(struct ike_sa *sa, struct ike_child *n)
{
	struct ike_child *old;

	if (!n->rekeyed_from)
		return;
	old = ike_sa_child_find(sa, n->rekeyed_from);
	if (old && old->state == IKE_CHILD_REKEYING)
		old->state = IKE_CHILD_INSTALLED;
}

int ike_child_send_request(struct ike_sa *sa, uint8_t kind, uint32_t spi,
			   struct ike_tx *tx)
{
	struct ike_child *c = ike_sa_child_find(sa, spi);
	struct child_req *q;
	const struct ke_alg *ka;
	uint8_t spi_be[4];
	int r;

	/* Deleted (by the peer, or ipsecctl down) while queued. */
	if (!c || c->state != IKE_CHILD_QUEUED)
		return 0;
	/* A rekey whose old pair the peer rekeyed or deleted meanwhile. */
	if (c->rekeyed_from) {
		struct ike_child *old = ike_sa_child_find(sa, c->rekeyed_from);

		if (!old || old->state != IKE_CHILD_REKEYING) {
			ike_child_remove(sa, c);
			return 0;
		}
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		r = ERR_NOMEM;
		goto out;
	}
	q->c = c;
	c->ni_len = IKE_NONCE_LEN;
	r = crypto_random(c->ni, c->ni_len);
	if (r < 0)
		goto out;
	/* §1.3.1: PFS when the ESP proposals name a group; a rekey keeps
	 * the group of the old pair unless the peer asked for another. */
	if (!c->ke_group)
		c->ke_group = first_group(&c->conn.esp);
	ke_free(c->ke);
	c->ke = NULL;
	if (c->ke_group) {
		ka = ke_by_iana(c->ke_group);
		r = ka ? ke_new(ka, &c->ke) : ERR_UNSUPPORTED;
		if (r == 0 && ka->pub_len > sizeof(q->pub))
			r = ERR_NOSPACE;
		if (r == 0) {
			q->pub_len = ka->pub_len;
			r = ke_get_public(c->ke, q->pub, q->pub_len);
		}
		if (r < 0)
			goto out;
	}
	be32_store(spi_be, c->spi_in);
	r = proposal_to_wire(&c->conn.esp, spi_be, 4, &q->pw);
	if (r < 0)
		goto out;
	ike_ts_to_wire(c->ts_l, c->n_l, q->tsi);
	ike_ts_to_wire(c->ts_r, c->n_r, q->tsr);
	r = ike_sa_send_req(sa, tx, IKEV2_EXCH_CREATE_CHILD_SA, kind, c->spi_in,
			    fill_child_req, q);
	if (r == 0)
		c->state = IKE_CHILD_CREATING;
out:
	if (r < 0) {
		log_warn(LS_IKE,
			 "CREATE_CHILD_SA: cannot build the request: %s",
			 err_str(r));
		rekey_undo(sa, c);
		ike_child_remove(sa, c);
	}
	if (q)
		crypto_wipe(q, sizeof(*q));
	free(q);
	return r;
}

int ike_sa_child_create(struct ike_sa *sa, const struct ike_conn *conn,
			struct ike_tx *tx)
{
	struct ike_child *c;
	int r;

	if (sa->state == IKE_S_FAILED || sa->peer_deleted)
		return ERR_INVAL;
	if (n_children(sa) >= IKE_CHILD_MAX)
		return ERR_LIMIT;
	c = ike_child_alloc(sa, conn);
	if (!c)
		return ERR_LIMIT;
	memcpy(c->ts_l, conn->local_ts, sizeof(c->ts_l));
	memcpy(c->ts_r, conn->remote_ts, sizeof(c->ts_r));
	c->n_l = conn->n_local_ts;
	c->n_r = conn->n_remote_ts;
	r = ike_sa_enqueue(sa, IKE_REQ_NEW, c->spi_in, false);
	if (r < 0) {
		ike_child_remove(sa, c);
		return r;
	}
	return ike_sa_kick(sa, tx);
}

int ike_sa_child_rekey(struct ike_sa *sa, uint32_t spi_in, struct ike_tx *tx)
{
	struct ike_child *old = ike_sa_child_find(sa, spi_in), *n;
	int r;

	if (!old)
		return ERR_NOTFOUND;
	if (sa->state != IKE_S_ESTABLISHED)
		return ERR_INVAL;
	if (old->state != IKE_CHILD_INSTALLED)
		return ERR_EXISTS;
	n = ike_child_alloc(sa, &old->conn);
	if (!n)
		return ERR_LIMIT;
	/* §2.8: the same selectors and mode as the old pair. */
	n->rekeyed_from = old->spi_in;
	n->mode = old->mode;
	n->ke_group = old->esp.ke ? old->esp.ke->iana_id : 0;
	memcpy(n->ts_l, old->ts_l, sizeof(n->ts_l));
	memcpy(n->ts_r, old->ts_r, sizeof(n->ts_r));
	n->n_l = old->n_l;
	n->n_r = old->n_r;
	r = ike_sa_enqueue(sa, IKE_REQ_REKEY, n->spi_in, false);
	if (r < 0) {
		ike_child_remove(sa, n);
		return r;
	}
	old->state = IKE_CHILD_REKEYING;
	return ike_sa_kick(sa, tx);
}

/* ---- initiator: the response ---- */

/* An error notify in the answer; true if there was one. */
static bool child_refused(struct ike_sa *sa, struct ike_child *n,
			  const struct ikev2_msg *inner, struct ike_tx *tx)
{
	const struct ikev2_payload *pl;
	struct ikev2_notify nt;
	struct ike_child *old;
	size_t from = 0;
	uint16_t group;

	while ((pl = ikev2_msg_next(inner, IKEV2_PL_NOTIFY, &from)))
		if (ikev2_decode_notify(pl, &nt) == 0 &&
		    nt.type <= IKEV2_N_ERROR_MAX)
			break;
	if (!pl)
		return false;
	sa->child_err = nt.type;
	/* §1.3, §3.10.1: retry once per group with the one asked for. */
	if (nt.type == IKEV2_N_INVALID_KE_PAYLOAD && nt.len == 2) {
		group = be16_load(nt.data);
		if (n->ke_retries < 2 && group != n->ke_group &&
		    offers_group(&n->conn.esp, group) &&
		    ike_sa_enqueue(
			    sa, n->rekeyed_from ? IKE_REQ_REKEY : IKE_REQ_NEW,
			    n->spi_in, true) == 0) {
			ike_sa_peer_log("CREATE_CHILD_SA: the peer wants KE "
					"group %u; retrying",
					group);
			n->ke_retries++;
			n->ke_group = group;
			n->state = IKE_CHILD_QUEUED;
			return true;
		}
	}
	ike_sa_peer_log("CREATE_CHILD_SA: the peer refused the %s Child SA "
			"(notify %u)",
			n->rekeyed_from ? "rekeyed" : "new", nt.type);
	/* §2.25: the peer no longer has the SA we wanted to rekey. */
	old = n->rekeyed_from ? ike_sa_child_find(sa, n->rekeyed_from) : NULL;
	if (old && nt.type == IKEV2_N_CHILD_SA_NOT_FOUND) {
		ike_child_event(sa, IKE_CHILD_DOWN, old, NULL, NULL);
		ike_child_remove(sa, old);
	} else {
		rekey_undo(sa, n);
	}
	ike_child_remove(sa, n);
	(void)tx;
	return true;
}

int ike_child_recv_response(struct ike_sa *sa, const struct ikev2_msg *inner,
			    struct ike_tx *tx)
{
	struct ike_child *n = ike_sa_child_find(sa, sa->cur_spi), *old, *y;
	const struct ikev2_payload *sp = first_of(inner, IKEV2_PL_SA);
	const struct ikev2_payload *np = first_of(inner, IKEV2_PL_NONCE);
	const struct ikev2_payload *kp = first_of(inner, IKEV2_PL_KE);
	const struct ikev2_payload *tip = first_of(inner, IKEV2_PL_TSI);
	const struct ikev2_payload *trp = first_of(inner, IKEV2_PL_TSR);
	struct ikev2_sa *reply = malloc(sizeof(*reply));
	struct ikev2_ts_list *tsi = malloc(sizeof(*tsi));
	struct ikev2_ts_list *tsr = malloc(sizeof(*tsr));
	uint8_t secret[KE_BUF_MAX];
	size_t secret_len = 0;
	struct ts_sel ts_l[SA_MAX_TS], ts_r[SA_MAX_TS];
	uint8_t n_l = 0, n_r = 0;
	struct proposal_chosen c;
	struct ikev2_nonce nonce;
	struct ikev2_notify nt;
	struct ikev2_ke ke;
	char why[1024];
	uint32_t victim = 0;
	int r = 0;

	if (!reply || !tsi || !tsr) {
		r = ERR_NOMEM;
		goto out;
	}
	if (sa->cur_kind == IKE_REQ_REKEY_IKE) {
		/* Our IKE SA rekey (§2.18): x_rekey.c. */
		r = ike_rekey_recv_response(sa, inner, tx);
		goto out;
	}
	if (!n || n->state != IKE_CHILD_CREATING)
		goto out;
	if (child_refused(sa, n, inner, tx))
		goto out;
	r = ERR_PROTO;
	if (!sp || !np || !tip || !trp || ikev2_decode_sa(sp, reply) < 0 ||
	    ikev2_decode_nonce(np, &nonce) < 0 ||
	    ikev2_decode_ts(tip, tsi) < 0 || ikev2_decode_ts(trp, tsr) < 0) {
		snprintf(why, sizeof(why), "payloads missing");
		goto bad;
	}
	if (proposal_check_reply(&n->conn.esp, reply, true, &c, why,
				 sizeof(why)) < 0)
		goto bad;
	if (c.spi_size != 4 || c.protocol != IKEV2_PROTO_ESP) {
		snprintf(why, sizeof(why), "not an ESP SA with a 4-octet SPI");
		goto bad;
	}
	/* §1.3.1: a KEr of our group when the chosen proposal has one. */
	if (c.ke) {
		const struct ke_alg *ka = n->ke ? ke_get_alg(n->ke) : NULL;

		if (!ka || c.ke->iana_id != n->ke_group || !kp ||
		    ikev2_decode_ke(kp, &ke) < 0 || ke.group != n->ke_group ||
		    ke.len != ka->pub_len || ka->secret_len > sizeof(secret) ||
		    ke_derive(n->ke, ke.data, ke.len, secret, ka->secret_len) <
			    0) {
			snprintf(why, sizeof(why), "bad or missing KEr");
			goto bad;
		}
		secret_len = ka->secret_len;
	}
	/* §2.9: the responder may narrow, never widen. */
	if (ike_ts_narrow(tsi, n->ts_l, n->n_l, ts_l, &n_l) < 0 ||
	    ike_ts_narrow(tsr, n->ts_r, n->n_r, ts_r, &n_r) < 0) {
		snprintf(why, sizeof(why), "selectors outside ours");
		goto bad;
	}
	memcpy(n->ts_l, ts_l, sizeof(ts_l));
	memcpy(n->ts_r, ts_r, sizeof(ts_r));
	n->n_l = n_l;
	n->n_r = n_r;
	/* §1.3.1: transport only if we asked and the responder agreed. */
	if (n->mode == IPSEC_MODE_TRANSPORT &&
	    !ikev2_msg_notify(inner, IKEV2_N_USE_TRANSPORT_MODE, &nt))
		n->mode = IPSEC_MODE_TUNNEL;
	n->spi_out = be32_load(c.spi);
	n->esp = c;
	r = ike_child_keys_up(sa, n, true, n->ni, n->ni_len, nonce.data,
			      nonce.len, secret_len ? secret : NULL, secret_len,
			      IKE_CHILD_UP);
	ke_free(n->ke);
	n->ke = NULL;
	if (r < 0) {
		snprintf(why, sizeof(why), "key derivation failed");
		goto bad;
	}
	n->ours = true;
	set_nmin(n, n->ni, n->ni_len, nonce.data, nonce.len);
	old = n->rekeyed_from ? ike_sa_child_find(sa, n->rekeyed_from) : NULL;
	y = n->rekeyed_from ? rekey_sibling(sa, n, false) : NULL;
	if (y && collision_ours_lost(n, y)) {
		/* §2.8.1: ours is redundant; the peer, which started the
		 * surviving exchange, deletes the old pair. */
		if (old && old->state == IKE_CHILD_REKEYING) {
			old->state = IKE_CHILD_REKEYED;
			old->replaced_by = y->spi_in;
		}
		victim = n->spi_in;
	} else if (old) {
		/* §2.8: the new pair carries the traffic now; delete the
		 * old one. */
		old->state = IKE_CHILD_REKEYED;
		old->replaced_by = n->spi_in;
		victim = old->spi_in;
	}
	if (victim && ike_sa_enqueue(sa, IKE_REQ_DELETE, victim, true) < 0)
		log_warn(LS_IKE,
			 "CREATE_CHILD_SA: queue full, Child SA %08x "
			 "is not deleted",
			 victim);
	r = 0;
	goto out;
bad:
	/* The peer may have made the pair: delete it by our SPI, which is
	 * the peer's outbound SPI (§1.4.1). */
	ike_sa_peer_log("CREATE_CHILD_SA: bad answer (%s); deleting the "
			"Child SA",
			why);
	sa->child_err = IKEV2_N_NO_PROPOSAL_CHOSEN;
	(void)ike_sa_enqueue(sa, IKE_REQ_DELETE, n->spi_in, true);
	rekey_undo(sa, n);
	ike_child_remove(sa, n);
	r = 0;
out:
	crypto_wipe(secret, sizeof(secret));
	free(reply);
	free(tsi);
	free(tsr);
	return r;
}

/* ---- responder ---- */

struct child_resp {
	uint16_t error; /* an error notify alone */
	uint8_t err_data[2];
	size_t err_len;
	bool transport;
	struct ikev2_prop_desc d;
	struct ikev2_xform_desc t[5];
	uint8_t nr[IKE_NONCE_LEN];
	uint8_t pub[KE_BUF_MAX];
	size_t pub_len;
	uint16_t group;
	struct ikev2_ts tsi[SA_MAX_TS], tsr[SA_MAX_TS];
	uint8_t n_tsi, n_tsr;
};

static int fill_child_resp(struct ike_sa *sa, struct ikev2_builder *b,
			   void *arg)
{
	struct child_resp *p = arg;
	int r = 0;

	(void)sa;
	if (p->error)
		return ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0, p->error,
					p->err_len ? p->err_data : NULL,
					p->err_len);
	if (p->transport)
		r = ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0,
				     IKEV2_N_USE_TRANSPORT_MODE, NULL, 0);
	if (r == 0)
		r = ikev2_add_sa(b, &p->d, 1);
	if (r == 0)
		r = ikev2_add_nonce(b, p->nr, sizeof(p->nr));
	if (r == 0 && p->pub_len)
		r = ikev2_add_ke(b, p->group, p->pub, p->pub_len);
	if (r == 0)
		r = ikev2_add_ts(b, IKEV2_PL_TSI, p->tsi, p->n_tsi);
	if (r == 0)
		r = ikev2_add_ts(b, IKEV2_PL_TSR, p->tsr, p->n_tsr);
	return r;
}

/* The Child SA a REKEY_SA notify names (by the peer's inbound SPI, our
 * outbound one); 0 without REKEY_SA, 1 with one we do not know. */
static int rekey_target(struct ike_sa *sa, const struct ikev2_msg *inner,
			struct ike_child **old)
{
	struct ikev2_notify nt;
	size_t i;

	*old = NULL;
	if (!ikev2_msg_notify(inner, IKEV2_N_REKEY_SA, &nt))
		return 0;
	if (nt.protocol != IKEV2_PROTO_ESP || nt.spi_size != 4)
		return 1;
	for (i = 0; i < IKE_CHILD_SLOTS; i++) {
		struct ike_child *c = sa->child[i];

		if (!c || c->spi_out != be32_load(nt.spi))
			continue;
		/* §2.8.1: also a pair we just rekeyed ourselves (our
		 * answer came first; the requests crossed). */
		if (c->state == IKE_CHILD_INSTALLED ||
		    c->state == IKE_CHILD_REKEYING ||
		    ((c->state == IKE_CHILD_REKEYED ||
		      c->state == IKE_CHILD_DELETING) &&
		     ike_sa_child_find(sa, c->replaced_by) &&
		     ike_sa_child_find(sa, c->replaced_by)->ours)) {
			*old = c;
			return 0;
		}
	}
	return 1;
}

/* Choose for a rekey: the old pair's connection (§2.8). */
static int select_rekey(struct ike_sa *sa, const struct ikev2_msg *inner,
			const struct ike_child *old, uint16_t ke_group,
			struct proposal_chosen *c, struct ts_sel *ts_l,
			uint8_t *n_l, struct ts_sel *ts_r, uint8_t *n_r)
{
	const struct ikev2_payload *sp = first_of(inner, IKEV2_PL_SA);
	const struct ikev2_payload *tip = first_of(inner, IKEV2_PL_TSI);
	const struct ikev2_payload *trp = first_of(inner, IKEV2_PL_TSR);
	struct ikev2_sa *offered = malloc(sizeof(*offered));
	struct ikev2_ts_list *tsi = malloc(sizeof(*tsi));
	struct ikev2_ts_list *tsr = malloc(sizeof(*tsr));
	int r;

	if (!offered || !tsi || !tsr)
		r = ERR_NOMEM;
	else if (!sp || !tip || !trp || ikev2_decode_sa(sp, offered) < 0 ||
		 ikev2_decode_ts(tip, tsi) < 0 || ikev2_decode_ts(trp, tsr) < 0)
		r = IKEV2_N_INVALID_SYNTAX;
	else if (ike_ts_narrow(tsi, old->conn.remote_ts, old->conn.n_remote_ts,
			       ts_r, n_r) < 0 ||
		 ike_ts_narrow(tsr, old->conn.local_ts, old->conn.n_local_ts,
			       ts_l, n_l) < 0)
		r = IKEV2_N_TS_UNACCEPTABLE;
	else if (proposal_select(&old->conn.esp, offered, ke_group, true, c,
				 sa->detail, sizeof(sa->detail)) < 0)
		r = IKEV2_N_NO_PROPOSAL_CHOSEN;
	else
		r = 0;
	if (r > 0)
		ike_sa_peer_log("CREATE_CHILD_SA rekey refused (notify %d)%s%s",
				r, r == IKEV2_N_NO_PROPOSAL_CHOSEN ? ": " : "",
				r == IKEV2_N_NO_PROPOSAL_CHOSEN ? sa->detail
								: "");
	free(offered);
	free(tsi);
	free(tsr);
	return r;
}

/* §3.3.1: is the first proposal for the IKE SA (IKE SA rekeying)? */
static bool is_ike_rekey(const struct ikev2_msg *inner)
{
	const struct ikev2_payload *sp = first_of(inner, IKEV2_PL_SA);
	struct ikev2_sa *s;
	bool ike;

	if (!sp)
		return false;
	s = malloc(sizeof(*s));
	if (!s)
		return false;
	ike = ikev2_decode_sa(sp, s) == 0 && s->n &&
	      s->p[0].protocol == IKEV2_PROTO_IKE;
	free(s);
	return ike;
}

/* We answered the peer's rekey of old with the new pair n. */
static void rekey_answered(struct ike_sa *sa, struct ike_child *old,
			   struct ike_child *n)
{
	struct ike_child *x;

	if (old->state == IKE_CHILD_INSTALLED) {
		/* §2.8: the peer deletes the old pair. */
		old->state = IKE_CHILD_REKEYED;
		old->replaced_by = n->spi_in;
		return;
	}
	/* §2.8.1: our own rekey of old is out; the comparison happens
	 * when its answer comes (ike_child_recv_response). */
	if (old->state == IKE_CHILD_REKEYING)
		return;
	/* Our rekey of old was answered first and we are deleting old:
	 * compare now. */
	x = ike_sa_child_find(sa, old->replaced_by);
	if (x && x->ours && collision_ours_lost(x, n) &&
	    ike_sa_enqueue(sa, IKE_REQ_DELETE, x->spi_in, true) < 0)
		log_warn(LS_IKE,
			 "CREATE_CHILD_SA: queue full, Child SA %08x "
			 "is not deleted",
			 x->spi_in);
}

int ike_child_recv_request(struct ike_sa *sa, const struct ikev2_msg *inner,
			   uint32_t id, struct ike_tx *tx)
{
	struct child_resp *p = calloc(1, sizeof(*p));
	const struct ikev2_payload *np = first_of(inner, IKEV2_PL_NONCE);
	const struct ikev2_payload *kp = first_of(inner, IKEV2_PL_KE);
	const struct ike_conn *conn = NULL;
	struct ike_child *old = NULL, *n = NULL;
	struct ts_sel ts_l[SA_MAX_TS], ts_r[SA_MAX_TS];
	uint8_t n_l = 0, n_r = 0, spi[4], secret[KE_BUF_MAX];
	size_t secret_len = 0;
	struct proposal_chosen c = {0};
	struct ikev2_nonce ni;
	struct ikev2_notify nt;
	struct ikev2_ke ke = {0};
	struct ke *our = NULL;
	const struct ke_alg *ka;
	int r, k;

	sa->next_peer_id = id + 1;
	if (!p)
		return ERR_NOMEM;
	if (kp && ikev2_decode_ke(kp, &ke) < 0)
		kp = NULL;
	if (!np || ikev2_decode_nonce(np, &ni) < 0) {
		p->error = IKEV2_N_INVALID_SYNTAX;
		goto send;
	}
	if (is_ike_rekey(inner)) {
		/* Rekeying the IKE SA (§1.3.2): x_rekey.c. */
		free(p);
		return ike_rekey_recv_request(sa, inner, id, tx);
	}
	if (rekey_target(sa, inner, &old)) {
		/* §2.25: we do not have the SA to rekey. */
		ike_sa_peer_log("CREATE_CHILD_SA: rekey of an unknown Child "
				"SA; CHILD_SA_NOT_FOUND");
		p->error = IKEV2_N_CHILD_SA_NOT_FOUND;
		goto send;
	}
	if (!old && n_children(sa) >= IKE_CHILD_MAX) {
		ike_sa_peer_log("CREATE_CHILD_SA: %d Child SAs already; "
				"NO_ADDITIONAL_SAS",
				IKE_CHILD_MAX);
		p->error = IKEV2_N_NO_ADDITIONAL_SAS;
		goto send;
	}
	if (old) {
		conn = &old->conn;
		k = select_rekey(sa, inner, old, kp ? ke.group : 0, &c, ts_l,
				 &n_l, ts_r, &n_r);
	} else {
		k = ike_child_select(sa, inner, true, kp ? ke.group : 0, &conn,
				     &c, ts_l, &n_l, ts_r, &n_r);
	}
	if (k < 0) {
		r = k;
		goto out;
	}
	if (k > 0) {
		p->error = (uint16_t)k;
		goto send;
	}
	/* §1.3: the KEi must be of the chosen group, else tell which. */
	if (c.ke && (!kp || ke.group != c.ke->iana_id)) {
		ike_sa_peer_log("CREATE_CHILD_SA: KE group %u, asking for %s",
				kp ? ke.group : 0, c.ke->name);
		p->error = IKEV2_N_INVALID_KE_PAYLOAD;
		be16_store(p->err_data, c.ke->iana_id);
		p->err_len = 2;
		goto send;
	}
	if (c.ke) {
		ka = c.ke;
		if (ka->pub_len > sizeof(p->pub) ||
		    ka->secret_len > sizeof(secret) || ke.len != ka->pub_len ||
		    ke_new(ka, &our) < 0 ||
		    ke_get_public(our, p->pub, ka->pub_len) < 0 ||
		    ke_derive(our, ke.data, ke.len, secret, ka->secret_len) <
			    0) {
			/* §2.21: a bad public value. */
			p->error = IKEV2_N_INVALID_SYNTAX;
			goto send;
		}
		p->pub_len = ka->pub_len;
		p->group = ka->iana_id;
		secret_len = ka->secret_len;
	}
	n = ike_child_alloc(sa, conn);
	if (!n) {
		p->error = IKEV2_N_NO_ADDITIONAL_SAS;
		goto send;
	}
	r = crypto_random(p->nr, sizeof(p->nr));
	if (r < 0)
		goto out;
	n->spi_out = be32_load(c.spi);
	n->esp = c;
	n->rekeyed_from = old ? old->spi_in : 0;
	memcpy(n->ts_l, ts_l, sizeof(ts_l));
	memcpy(n->ts_r, ts_r, sizeof(ts_r));
	n->n_l = n_l;
	n->n_r = n_r;
	/* §1.3.1: transport only if both sides want it. */
	p->transport = conn->mode == IPSEC_MODE_TRANSPORT &&
		       ikev2_msg_notify(inner, IKEV2_N_USE_TRANSPORT_MODE, &nt);
	n->mode = p->transport ? IPSEC_MODE_TRANSPORT : IPSEC_MODE_TUNNEL;
	be32_store(spi, n->spi_in);
	proposal_chosen_to_wire(&c, spi, 4, &p->d, p->t);
	ike_ts_to_wire(ts_r, n_r, p->tsi);
	ike_ts_to_wire(ts_l, n_l, p->tsr);
	p->n_tsi = n_r;
	p->n_tsr = n_l;
send:
	r = ike_sa_send_sk(sa, tx, IKEV2_EXCH_CREATE_CHILD_SA, true, id,
			   fill_child_resp, p);
	if (r == 0 && n) {
		/* §2.8: a rekey responder adds the new inbound SA now and
		 * the outbound one when the old pair is deleted. */
		set_nmin(n, ni.data, ni.len, p->nr, sizeof(p->nr));
		r = ike_child_keys_up(sa, n, false, ni.data, ni.len, p->nr,
				      sizeof(p->nr), secret_len ? secret : NULL,
				      secret_len,
				      old ? IKE_CHILD_UP_IN : IKE_CHILD_UP);
		if (r == 0 && old)
			rekey_answered(sa, old, n);
	}
out:
	if (r < 0 && n)
		ike_child_remove(sa, n);
	ke_free(our);
	crypto_wipe(secret, sizeof(secret));
	crypto_wipe(p, sizeof(*p));
	free(p);
	return r;
}
