/* SPDX-License-Identifier: MIT */
/*
 * The IKE_AUTH exchange with a pre-shared key, RFC 7296 §1.2, §2.15:
 *   HDR, SK {IDi, [N(INITIAL_CONTACT)], AUTH, SAi2, TSi, TSr,
 *            [N(USE_TRANSPORT_MODE)]}  -->
 *      <--  HDR, SK {IDr, AUTH, [N(USE_TRANSPORT_MODE)], SAr2, TSi, TSr}
 * An initiator that rejects the responder's AUTH says so in an
 * INFORMATIONAL request (§2.21.2); x_info.c handles the rest of that
 * exchange.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "ike/ike_sa.h"

#define ID_BODY_MAX (4 + IKE_ID_MAX)

/* RestOfIDPayload (§2.15): ID Type | RESERVED | data. */
static size_t id_body(uint8_t type, const uint8_t *data, size_t len,
		      uint8_t *out)
{
	out[0] = type;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, data, len);
	return len + 4;
}

/*
 * AUTH = prf(prf(PSK, "Key Pad for IKEv2"), <SignedOctets>), §2.15.
 * mine: the octets of our side (our first message, the peer's nonce,
 * our SK_p); else the peer's side, to verify.
 */
static int auth_octets(struct ike_sa *sa, bool mine, const uint8_t *idb,
		       size_t idb_len, struct wbuf *w)
{
	bool i_side = mine == sa->initiator;
	const uint8_t *first = i_side ? sa->init_req : sa->init_resp;
	size_t first_len = i_side ? sa->init_req_len : sa->init_resp_len;
	/* §2.15: the initiator signs Nr, the responder Ni. */
	const uint8_t *nonce = i_side ? sa->nr : sa->ni;
	size_t nonce_len = i_side ? sa->nr_len : sa->ni_len;
	const uint8_t *sk_p = i_side ? sa->keys.sk_pi : sa->keys.sk_pr;

	return ikev2_signed_octets(sa->ike.prf, sk_p, sa->keys.sk_p_len, first,
				   first_len, nonce, nonce_len, idb, idb_len,
				   w);
}

static int make_auth(struct ike_sa *sa, const uint8_t *idb, size_t idb_len,
		     uint8_t *auth)
{
	struct wbuf w;
	int r = wbuf_init(&w, 1024);

	if (r < 0)
		return r;
	r = auth_octets(sa, true, idb, idb_len, &w);
	if (r == 0)
		r = ikev2_psk_auth(sa->ike.prf, sa->conn.psk, sa->conn.psk_len,
				   w.p, w.len, auth, sa->ike.prf->out_len);
	wbuf_free(&w);
	return r;
}

static int check_auth(struct ike_sa *sa, const struct ikev2_id *id,
		      const struct ikev2_auth *a)
{
	struct wbuf w;
	int r;

	if (a->method != IKEV2_AUTH_PSK)
		return ERR_AUTH;
	r = wbuf_init(&w, 1024);
	if (r < 0)
		return r;
	r = auth_octets(sa, false, id->body, id->body_len, &w);
	if (r == 0)
		r = ikev2_psk_verify(sa->ike.prf, sa->conn.psk,
				     sa->conn.psk_len, w.p, w.len, a->data,
				     a->len);
	wbuf_free(&w);
	return r;
}

/* The ESP proposals of IKE_AUTH carry no KE transform: IKE_AUTH has no
 * KE payload (§1.2); a PFS group only applies to rekeying. */
static void esp_no_ke(const struct ike_sa *sa, struct proposal_list *l)
{
	size_t i;

	*l = sa->conn.esp;
	for (i = 0; i < l->n; i++)
		l->p[i].n_ke = 0;
}

/* ---- initiator: the request ---- */

struct auth_req {
	uint8_t id_type;
	const uint8_t *id;
	size_t id_len;
	uint8_t auth[IKE_PRF_KEY_MAX];
	struct proposal_wire pw;
	struct ikev2_ts tsi[SA_MAX_TS], tsr[SA_MAX_TS];
};

static int fill_auth_req(struct ike_sa *sa, struct ikev2_builder *b, void *arg)
{
	struct auth_req *q = arg;
	int r;

	r = ikev2_add_id(b, IKEV2_PL_IDI, q->id_type, q->id, q->id_len);
	/* §3.10.1: we keep no other SAs with this peer. */
	if (r == 0)
		r = ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0,
				     IKEV2_N_INITIAL_CONTACT, NULL, 0);
	if (r == 0)
		r = ikev2_add_auth(b, IKEV2_AUTH_PSK, q->auth,
				   sa->ike.prf->out_len);
	if (r == 0)
		r = ikev2_add_sa(b, q->pw.d, q->pw.n);
	if (r == 0)
		r = ikev2_add_ts(b, IKEV2_PL_TSI, q->tsi, sa->conn.n_local_ts);
	if (r == 0)
		r = ikev2_add_ts(b, IKEV2_PL_TSR, q->tsr, sa->conn.n_remote_ts);
	/* §1.3.1: ask for transport mode. */
	if (r == 0 && sa->conn.mode == IPSEC_MODE_TRANSPORT)
		r = ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0,
				     IKEV2_N_USE_TRANSPORT_MODE, NULL, 0);
	return r;
}

int ike_auth_build_request(struct ike_sa *sa, struct ike_tx *tx)
{
	struct auth_req *q = calloc(1, sizeof(*q));
	struct proposal_list *esp = malloc(sizeof(*esp));
	uint8_t idb[ID_BODY_MAX], spi[4];
	size_t idb_len;
	int r = ERR_NOMEM;

	if (!q || !esp)
		goto out;
	ike_sa_local_id(sa, &q->id_type, &q->id, &q->id_len);
	idb_len = id_body(q->id_type, q->id, q->id_len, idb);
	r = make_auth(sa, idb, idb_len, q->auth);
	if (r == 0)
		r = ike_new_child_spi(sa, &sa->auth_spi);
	if (r < 0)
		goto out;
	be32_store(spi, sa->auth_spi);
	esp_no_ke(sa, esp);
	r = proposal_to_wire(esp, spi, 4, &q->pw);
	if (r < 0)
		goto out;
	ike_ts_to_wire(sa->conn.local_ts, sa->conn.n_local_ts, q->tsi);
	ike_ts_to_wire(sa->conn.remote_ts, sa->conn.n_remote_ts, q->tsr);
	r = ike_sa_send_sk(sa, tx, IKEV2_EXCH_IKE_AUTH, false, 1, fill_auth_req,
			   q);
	if (r == 0) {
		sa->state = IKE_S_AUTH_SENT;
		sa->next_req_id = 2;
	}
out:
	if (q)
		crypto_wipe(q, sizeof(*q));
	free(q);
	free(esp);
	return r;
}

/* ---- responder: the request ---- */

struct auth_resp {
	uint16_t error; /* AUTHENTICATION_FAILED etc.: only that */
	uint8_t id_type;
	const uint8_t *id;
	size_t id_len;
	uint8_t auth[IKE_PRF_KEY_MAX];
	uint16_t child_error; /* NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE */
	bool transport;
	struct ikev2_prop_desc d;
	struct ikev2_xform_desc t[5];
	struct ikev2_ts tsi[SA_MAX_TS], tsr[SA_MAX_TS];
	uint8_t n_tsi, n_tsr;
};

static int fill_auth_resp(struct ike_sa *sa, struct ikev2_builder *b, void *arg)
{
	struct auth_resp *p = arg;
	int r;

	if (p->error)
		return ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0, p->error,
					NULL, 0);
	r = ikev2_add_id(b, IKEV2_PL_IDR, p->id_type, p->id, p->id_len);
	if (r == 0)
		r = ikev2_add_auth(b, IKEV2_AUTH_PSK, p->auth,
				   sa->ike.prf->out_len);
	if (r == 0 && p->child_error)
		return ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0,
					p->child_error, NULL, 0);
	if (r == 0 && p->transport)
		r = ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0,
				     IKEV2_N_USE_TRANSPORT_MODE, NULL, 0);
	if (r == 0)
		r = ikev2_add_sa(b, &p->d, 1);
	if (r == 0)
		r = ikev2_add_ts(b, IKEV2_PL_TSI, p->tsi, p->n_tsi);
	if (r == 0)
		r = ikev2_add_ts(b, IKEV2_PL_TSR, p->tsr, p->n_tsr);
	return r;
}

static const struct ikev2_payload *first_of(const struct ikev2_msg *m,
					    uint8_t type)
{
	size_t from = 0;

	return ikev2_msg_next(m, type, &from);
}

/* The Child SA part of an IKE_AUTH message: SA, TSi, TSr. */
struct child_in {
	struct ikev2_sa sa;
	struct ikev2_ts_list tsi, tsr;
};

static int get_child(const struct ikev2_msg *m, struct child_in *c)
{
	const struct ikev2_payload *sa = first_of(m, IKEV2_PL_SA);
	const struct ikev2_payload *tsi = first_of(m, IKEV2_PL_TSI);
	const struct ikev2_payload *tsr = first_of(m, IKEV2_PL_TSR);

	if (!sa || !tsi || !tsr || ikev2_decode_sa(sa, &c->sa) < 0 ||
	    ikev2_decode_ts(tsi, &c->tsi) < 0 ||
	    ikev2_decode_ts(tsr, &c->tsr) < 0)
		return ERR_MALFORMED;
	return 0;
}

int ike_auth_recv_request(struct ike_sa *sa, const struct ikev2_msg *inner,
			  struct ike_tx *tx)
{
	struct auth_resp *p = calloc(1, sizeof(*p));
	struct child_in *ci = malloc(sizeof(*ci));
	const struct ikev2_payload *idp = first_of(inner, IKEV2_PL_IDI);
	const struct ikev2_payload *ap = first_of(inner, IKEV2_PL_AUTH);
	struct ts_sel ts_l[SA_MAX_TS], ts_r[SA_MAX_TS];
	uint8_t n_l = 0, n_r = 0, idb[ID_BODY_MAX], spi[4];
	struct proposal_chosen c = {0};
	const struct ike_conn *cc = NULL;
	struct ikev2_id id;
	struct ikev2_auth a;
	struct ikev2_notify n;
	size_t idb_len;
	uint32_t peer_spi = 0;
	int r = ERR_NOMEM, k;

	if (!p || !ci)
		goto out;
	sa->next_peer_id = 2;
	if (!idp || !ap || ikev2_decode_id(idp, &id) < 0 ||
	    ikev2_decode_auth(ap, &a) < 0) {
		p->error = IKEV2_N_INVALID_SYNTAX;
		ike_sa_fail(sa, p->error, "IKE_AUTH request lacks IDi/AUTH");
		goto send;
	}
	/* §2.15: the peer must be who we expect and prove the PSK. */
	if (!ike_sa_id_ok(sa, &id) || check_auth(sa, &id, &a) < 0) {
		p->error = IKEV2_N_AUTHENTICATION_FAILED;
		ike_sa_fail(sa, p->error,
			    "peer authentication failed (ID or PSK)");
		goto send;
	}
	sa->initial_contact =
		ikev2_msg_notify(inner, IKEV2_N_INITIAL_CONTACT, &n) != NULL;
	ike_sa_local_id(sa, &p->id_type, &p->id, &p->id_len);
	idb_len = id_body(p->id_type, p->id, p->id_len, idb);
	r = make_auth(sa, idb, idb_len, p->auth);
	if (r < 0)
		goto out;
	sa->state = IKE_S_ESTABLISHED;

	/* The Child SA; its failure leaves the IKE SA up (§2.21.3).  It
	 * may belong to another [conn] with this peer (x_child.c). */
	if (get_child(inner, ci) < 0) {
		p->child_error = IKEV2_N_INVALID_SYNTAX;
	} else if ((k = ike_child_select(sa, inner, false, 0, &cc, &c, ts_l,
					 &n_l, ts_r, &n_r)) != 0) {
		p->child_error = (uint16_t)k;
	} else {
		peer_spi = be32_load(c.spi);
		r = ike_new_child_spi(sa, &sa->auth_spi);
		if (r < 0)
			goto out;
		be32_store(spi, sa->auth_spi);
		proposal_chosen_to_wire(&c, spi, 4, &p->d, p->t);
		/* §1.3.1: transport only if both sides want it. */
		p->transport =
			cc->mode == IPSEC_MODE_TRANSPORT &&
			ikev2_msg_notify(inner, IKEV2_N_USE_TRANSPORT_MODE, &n);
		ike_ts_to_wire(ts_r, n_r, p->tsi);
		ike_ts_to_wire(ts_l, n_l, p->tsr);
		p->n_tsi = n_r;
		p->n_tsr = n_l;
	}
send:
	r = ike_sa_send_sk(sa, tx, IKEV2_EXCH_IKE_AUTH, true, 1, fill_auth_resp,
			   p);
	if (r == 0 && !p->error && !p->child_error)
		r = ike_sa_child_up(sa, cc, &c, peer_spi, ts_l, n_l, ts_r, n_r,
				    p->transport ? IPSEC_MODE_TRANSPORT
						 : IPSEC_MODE_TUNNEL);
out:
	if (p)
		crypto_wipe(p, sizeof(*p));
	free(p);
	free(ci);
	return r;
}

/* ---- initiator: the response ---- */

static int fill_auth_failed(struct ike_sa *sa, struct ikev2_builder *b,
			    void *arg)
{
	return ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0,
				IKEV2_N_AUTHENTICATION_FAILED, NULL, 0);
}

int ike_auth_recv_response(struct ike_sa *sa, const struct ikev2_msg *inner,
			   struct ike_tx *tx)
{
	struct child_in *ci = NULL;
	struct proposal_list *esp = NULL;
	const struct ikev2_payload *idp = first_of(inner, IKEV2_PL_IDR);
	const struct ikev2_payload *ap = first_of(inner, IKEV2_PL_AUTH);
	const struct ikev2_payload *pl;
	struct ts_sel ts_l[SA_MAX_TS], ts_r[SA_MAX_TS];
	uint8_t n_l = 0, n_r = 0;
	struct proposal_chosen c = {0};
	struct ikev2_id id;
	struct ikev2_auth a;
	struct ikev2_notify n;
	enum ipsec_mode mode;
	char why[1024];
	size_t from = 0;
	int r;

	if (ikev2_msg_notify(inner, IKEV2_N_AUTHENTICATION_FAILED, &n)) {
		ike_sa_fail(sa, IKEV2_N_AUTHENTICATION_FAILED,
			    "responder: AUTHENTICATION_FAILED");
		return 0;
	}
	if (!idp || !ap || ikev2_decode_id(idp, &id) < 0 ||
	    ikev2_decode_auth(ap, &a) < 0) {
		ike_sa_fail(sa, IKEV2_N_INVALID_SYNTAX,
			    "IKE_AUTH response without IDr/AUTH");
		return 0;
	}
	if (!ike_sa_id_ok(sa, &id) || check_auth(sa, &id, &a) < 0) {
		/* §2.21.2: tell the responder in an INFORMATIONAL. */
		ike_sa_fail(sa, IKEV2_N_AUTHENTICATION_FAILED,
			    "responder authentication failed (ID or PSK)");
		r = ike_sa_send_sk(sa, tx, IKEV2_EXCH_INFORMATIONAL, false,
				   sa->next_req_id, fill_auth_failed, NULL);
		sa->next_req_id++;
		return r;
	}
	sa->state = IKE_S_ESTABLISHED;
	/* A Child SA error leaves the IKE SA up (§2.21.3). */
	while ((pl = ikev2_msg_next(inner, IKEV2_PL_NOTIFY, &from))) {
		if (ikev2_decode_notify(pl, &n) == 0 &&
		    n.type <= IKEV2_N_ERROR_MAX) {
			sa->error = n.type;
			sa->why = "responder refused the Child SA";
			/* §2.7: the responder does not say what it would
			 * accept, so name what we offered. */
			ike_sa_peer_log("IKE_AUTH: Child SA refused (%u%s); "
					"we offered ESP %s",
					n.type,
					n.type == IKEV2_N_NO_PROPOSAL_CHOSEN
						? " NO_PROPOSAL_CHOSEN"
						: "",
					proposal_list_fmt(&sa->conn.esp, why,
							  sizeof(why)));
			return 0;
		}
	}
	ci = malloc(sizeof(*ci));
	esp = malloc(sizeof(*esp));
	r = ERR_NOMEM;
	if (!ci || !esp)
		goto out;
	esp_no_ke(sa, esp);
	r = get_child(inner, ci);
	if (r == 0)
		r = proposal_check_reply(esp, &ci->sa, false, &c, why,
					 sizeof(why));
	if (r == 0 && c.spi_size != 4)
		r = ERR_PROTO;
	/* The responder's selectors must lie within ours (§2.9). */
	if (r == 0 && (ike_ts_narrow(&ci->tsi, sa->conn.local_ts,
				     sa->conn.n_local_ts, ts_l, &n_l) < 0 ||
		       ike_ts_narrow(&ci->tsr, sa->conn.remote_ts,
				     sa->conn.n_remote_ts, ts_r, &n_r) < 0))
		r = ERR_PROTO;
	if (r < 0) {
		sa->error = IKEV2_N_NO_PROPOSAL_CHOSEN;
		sa->why = "responder's Child SA is not what we offered";
		ike_sa_peer_log("IKE_AUTH: bad Child SA in response");
		r = 0;
		goto out;
	}
	/* §1.3.1: transport only if we asked and the responder agreed. */
	mode = sa->conn.mode == IPSEC_MODE_TRANSPORT &&
			       ikev2_msg_notify(inner,
						IKEV2_N_USE_TRANSPORT_MODE, &n)
		       ? IPSEC_MODE_TRANSPORT
		       : IPSEC_MODE_TUNNEL;
	r = ike_sa_child_up(sa, NULL, &c, be32_load(c.spi), ts_l, n_l, ts_r,
			    n_r, mode);
out:
	free(ci);
	free(esp);
	return r;
}
