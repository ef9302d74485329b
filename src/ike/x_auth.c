/* SPDX-License-Identifier: MIT */
/*
 * The IKE_AUTH exchange, RFC 7296 §1.2, §2.15:
 *   HDR, SK {IDi, [CERT,] [N(INITIAL_CONTACT),] [CERTREQ,] AUTH, SAi2,
 *            TSi, TSr, [N(USE_TRANSPORT_MODE)]}  -->
 *      <--  HDR, SK {IDr, [CERT,] AUTH, [N(USE_TRANSPORT_MODE)], SAr2,
 *                    TSi, TSr}
 * Each side authenticates with a pre-shared key (AUTH method 2) or a
 * signature with its certificate's key (methods 1, 9-11, 14; auth_sig.h),
 * independently of the other (conn.pki, ike_pki.h).  A peer with a
 * certificate is checked in this order: its chain (cert.h), its ID
 * against the certificate, its ID against our remote_id, the signature.
 * Whatever fails is logged in words and answered with
 * AUTHENTICATION_FAILED (§2.21.2); an initiator that rejects the
 * responder says so in an INFORMATIONAL request, which x_info.c handles
 * on the other side.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "ike/auth_sig.h"
#include "ike/cert.h"
#include "ike/ike_pki.h"
#include "ike/ike_sa.h"

#define ID_BODY_MAX (4 + IKE_ID_MAX)
#define WHY_MAX 512

/* RestOfIDPayload (§2.15): ID Type | RESERVED | data. */
static size_t id_body(uint8_t type, const uint8_t *data, size_t len,
		      uint8_t *out)
{
	out[0] = type;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, data, len);
	return len + 4;
}

static bool local_pubkey(const struct ike_sa *sa)
{
	return sa->conn.pki && sa->conn.pki->local_auth == IKE_AUTHK_PUBKEY &&
	       sa->conn.pki->local;
}

static bool remote_pubkey(const struct ike_sa *sa)
{
	return sa->conn.pki && sa->conn.pki->remote_auth == IKE_AUTHK_PUBKEY &&
	       sa->conn.pki->store;
}

/* An identity for logs: "fqdn gw.example", "DN C=CH, CN=gw-a", ... */
static const char *id_fmt(uint8_t type, const uint8_t *d, size_t len, char *out,
			  size_t n)
{
	char a[INET6_ADDRSTRLEN], dn[WHY_MAX / 2];
	size_t i, k;

	switch (type) {
	case IKEV2_ID_IPV4_ADDR:
	case IKEV2_ID_IPV6_ADDR:
		if (len != (type == IKEV2_ID_IPV4_ADDR ? 4u : 16u) ||
		    !inet_ntop(type == IKEV2_ID_IPV4_ADDR ? AF_INET : AF_INET6,
			       d, a, sizeof(a)))
			break;
		snprintf(out, n, "address %s", a);
		return out;
	case IKEV2_ID_FQDN:
	case IKEV2_ID_RFC822_ADDR:
		k = (size_t)snprintf(out, n, "%s ",
				     type == IKEV2_ID_FQDN ? "fqdn" : "email");
		for (i = 0; i < len && k + 1 < n; i++)
			out[k++] =
				d[i] >= 0x20 && d[i] < 0x7f ? (char)d[i] : '?';
		out[k < n ? k : n - 1] = 0;
		return out;
	case IKEV2_ID_DER_ASN1_DN:
		snprintf(out, n, "DN %s", ike_dn_str(d, len, dn, sizeof(dn)));
		return out;
	default:
		break;
	}
	snprintf(out, n, "ID of type %u (%zu octets)", type, len);
	return out;
}

/* How a side authenticated, for ipsecctl status (ike_sa.h); c and key
 * NULL for a PSK. */
static void auth_info_set(struct ike_auth_info *ai, uint8_t method,
			  const uint8_t *auth, size_t len,
			  const struct x509_st *c,
			  const struct evp_pkey_st *key)
{
	const char *alg;

	memset(ai, 0, sizeof(*ai));
	ai->method = method;
	if (!c)
		return;
	sig_key_desc(key, ai->key, sizeof(ai->key));
	alg = auth_sig_alg_name(method, auth, len);
	snprintf(ai->sig, sizeof(ai->sig), "%s", alg ? alg : "");
	cert_subject(c, ai->subject, sizeof(ai->subject));
	cert_serial(c, ai->serial, sizeof(ai->serial));
}

/*
 * AUTH = prf(prf(PSK, "Key Pad for IKEv2"), <SignedOctets>), or a
 * signature over <SignedOctets>, §2.15.  mine: the octets of our side
 * (our first message, the peer's nonce, our SK_p); else the peer's
 * side, to verify.
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

/* Our AUTH payload: its method and data (w, initialised by the caller).
 * ERR_UNSUPPORTED with why filled if our key cannot sign for this peer. */
static int make_auth(struct ike_sa *sa, const uint8_t *idb, size_t idb_len,
		     uint8_t *method, struct wbuf *w, char *why, size_t n)
{
	struct wbuf o;
	size_t at;
	int r = wbuf_init(&o, 1024);

	if (r < 0)
		return r;
	r = auth_octets(sa, true, idb, idb_len, &o);
	if (r < 0)
		goto out;
	if (local_pubkey(sa)) {
		/* RFC 7427 §4: method 14 if the peer announced its hashes,
		 * else the key's classic method. */
		r = auth_sig_make(cert_local_key(sa->conn.pki->local),
				  sa->peer_sig_hashes, sa->conn.pki->sig_flags,
				  o.p, o.len, method, w, why, n);
		goto out;
	}
	*method = IKEV2_AUTH_PSK;
	r = wbuf_reserve(w, sa->ike.prf->out_len, &at);
	if (r == 0)
		r = ikev2_psk_auth(sa->ike.prf, sa->conn.psk, sa->conn.psk_len,
				   o.p, o.len, wbuf_at(w, at),
				   sa->ike.prf->out_len);
out:
	wbuf_free(&o);
	return r;
}

/* Our ID and AUTH, ready for the builder. */
struct my_auth {
	uint8_t id_type;
	const uint8_t *id;
	size_t id_len;
	uint8_t method;
	struct wbuf w;
};

static int my_auth_make(struct ike_sa *sa, struct my_auth *m, char *why,
			size_t n)
{
	uint8_t idb[ID_BODY_MAX];
	size_t idb_len;
	int r;

	ike_sa_local_id(sa, &m->id_type, &m->id, &m->id_len);
	idb_len = id_body(m->id_type, m->id, m->id_len, idb);
	r = wbuf_init(&m->w, 512);
	if (r == 0)
		r = make_auth(sa, idb, idb_len, &m->method, &m->w, why, n);
	if (r == 0 && local_pubkey(sa))
		auth_info_set(&sa->auth_local, m->method, m->w.p, m->w.len,
			      cert_local_cert(sa->conn.pki->local),
			      cert_local_key(sa->conn.pki->local));
	else if (r == 0)
		auth_info_set(&sa->auth_local, m->method, NULL, 0, NULL, NULL);
	return r;
}

static void my_auth_free(struct my_auth *m)
{
	if (m->w.p)
		crypto_wipe(m->w.p, m->w.len);
	wbuf_free(&m->w);
}

/* IDx, [CERT...,] AUTH; the initiator's CERTREQ between (§1.2). */
static int add_id_cert_auth(struct ike_sa *sa, struct ikev2_builder *b,
			    const struct my_auth *m, bool certreq)
{
	const struct ike_pki *p = sa->conn.pki;
	struct x509_st *c;
	struct wbuf w;
	size_t i, n;
	int r;

	r = ikev2_add_id(b, sa->initiator ? IKEV2_PL_IDI : IKEV2_PL_IDR,
			 m->id_type, m->id, m->id_len);
	/* §3.6: our end-entity certificate first, then the chain.
	 * send_cert = ifasked waits for a CERTREQ (§3.7). */
	if (r == 0 && local_pubkey(sa) &&
	    (p->send_cert == IKE_SEND_CERT_ALWAYS ||
	     (p->send_cert == IKE_SEND_CERT_IFASKED && sa->peer_certreq))) {
		n = cert_local_chain_len(p->local);
		for (i = 0; r == 0 && i <= n; i++) {
			c = i ? cert_local_chain_at(p->local, i - 1)
			      : cert_local_cert(p->local);
			r = wbuf_init(&w, 1024);
			if (r == 0)
				r = cert_to_der(c, &w);
			if (r == 0)
				r = ikev2_add_cert(b, IKEV2_PL_CERT,
						   IKEV2_CERT_X509_SIG, w.p,
						   w.len);
			wbuf_free(&w);
		}
	}
	/* §3.10.1: we keep no other SAs with this peer. */
	if (r == 0 && sa->initiator && !sa->no_initial_contact)
		r = ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0,
				     IKEV2_N_INITIAL_CONTACT, NULL, 0);
	if (r == 0 && certreq)
		r = ike_auth_add_certreq(sa, b);
	if (r == 0)
		r = ikev2_add_auth(b, m->method, m->w.p, m->w.len);
	return r;
}

int ike_auth_add_certreq(struct ike_sa *sa, struct ikev2_builder *b)
{
	struct wbuf w;
	int r;

	if (!remote_pubkey(sa))
		return 0;
	r = wbuf_init(&w, 128);
	if (r == 0)
		r = cert_store_certreq(sa->conn.pki->store, &w);
	/* §3.7: the SHA-1 hashes of our trust anchors' keys. */
	if (r == 0 && w.len)
		r = ikev2_add_cert(b, IKEV2_PL_CERTREQ, IKEV2_CERT_X509_SIG,
				   w.p, w.len);
	wbuf_free(&w);
	return r;
}

/* Does the peer's ID fit the configured remote_id?  DNs compare as
 * names (RFC 4945 §3.1.5), the rest octet for octet. */
static bool remote_id_ok(const struct ike_sa *sa, const struct ikev2_id *id)
{
	const struct ike_id *want = &sa->conn.remote_id;

	if (want->type == IKEV2_ID_DER_ASN1_DN &&
	    id->type == IKEV2_ID_DER_ASN1_DN)
		return ike_dn_equal(want->data, want->len, id->data, id->len);
	return ike_sa_id_ok(sa, id);
}

/* The peer's CERT payloads of encoding 4: the first is its own. */
struct peer_certs {
	struct x509_st *c[CERT_CHAIN_MAX];
	size_t n;
};

static void peer_certs_free(struct peer_certs *pc)
{
	size_t i;

	for (i = 0; i < pc->n; i++)
		cert_free(pc->c[i]);
	pc->n = 0;
}

static int peer_certs_get(const struct ikev2_msg *m, struct peer_certs *pc,
			  char *why, size_t n)
{
	const struct ikev2_payload *pl;
	struct ikev2_cert ce;
	size_t from = 0;
	int r;

	pc->n = 0;
	while ((pl = ikev2_msg_next(m, IKEV2_PL_CERT, &from))) {
		if (pc->n == CERT_CHAIN_MAX)
			break;
		if (ikev2_decode_cert(pl, &ce) < 0) {
			snprintf(why, n, "malformed CERT payload");
			return ERR_AUTH;
		}
		r = cert_from_payload(ce.encoding, ce.data, ce.len,
				      &pc->c[pc->n]);
		/* §3.6: other encodings we cannot use; a bad DER in
		 * the first one is fatal, later ones are ignored. */
		if (r < 0 && pc->n == 0) {
			snprintf(why, n,
				 "CERT of encoding %u %s (we take X.509 "
				 "Certificate - Signature, 4)",
				 ce.encoding,
				 r == ERR_UNSUPPORTED ? "not supported"
						      : "does not parse");
			return ERR_AUTH;
		}
		if (r == 0)
			pc->n++;
	}
	if (!pc->n) {
		snprintf(why, n,
			 "peer sent no certificate (remote_auth = pubkey; "
			 "does it send_cert only when asked?)");
		return ERR_AUTH;
	}
	return 0;
}

/*
 * Is the peer who it says (§2.15)?  0, or ERR_AUTH (or another error)
 * with why saying what did not match.
 */
static int check_peer(struct ike_sa *sa, const struct ikev2_msg *m,
		      const struct ikev2_id *id, const struct ikev2_auth *a,
		      char *why, size_t n)
{
	const struct ike_pki *p = sa->conn.pki;
	struct peer_certs pc = {.n = 0};
	char s1[WHY_MAX / 2], s2[WHY_MAX / 2], w2[CERT_WHY_MAX];
	struct wbuf w;
	int r;

	w.p = NULL;
	if (!remote_id_ok(sa, id)) {
		snprintf(why, n, "peer's %s is not remote_id %s",
			 id_fmt(id->type, id->data, id->len, s1, sizeof(s1)),
			 id_fmt(sa->conn.remote_id.type,
				sa->conn.remote_id.data, sa->conn.remote_id.len,
				s2, sizeof(s2)));
		return ERR_AUTH;
	}
	r = wbuf_init(&w, 1024);
	if (r == 0)
		r = auth_octets(sa, false, id->body, id->body_len, &w);
	if (r < 0)
		goto out;
	if (!remote_pubkey(sa)) {
		if (a->method != IKEV2_AUTH_PSK) {
			snprintf(why, n,
				 "peer used AUTH method %u, we expect a "
				 "pre-shared key (remote_auth = psk)",
				 a->method);
			r = ERR_AUTH;
		} else if (ikev2_psk_verify(sa->ike.prf, sa->conn.psk,
					    sa->conn.psk_len, w.p, w.len,
					    a->data, a->len) < 0) {
			snprintf(why, n,
				 "PSK AUTH does not verify (not the same "
				 "pre-shared key)");
			r = ERR_AUTH;
		} else {
			auth_info_set(&sa->auth_remote, a->method, NULL, 0,
				      NULL, NULL);
		}
		goto out;
	}
	if (!auth_sig_method_ok(a->method)) {
		snprintf(why, n,
			 "peer used AUTH method %u, we expect a signature "
			 "(remote_auth = pubkey)",
			 a->method);
		r = ERR_AUTH;
		goto out;
	}
	r = peer_certs_get(m, &pc, why, n);
	if (r < 0)
		goto out;
	/* RFC 4945 §5: the chain to one of our CAs, then the binding of
	 * the ID to the certificate (§3.1), then the proof of the key. */
	r = cert_verify(p->store, pc.c[0], pc.c + 1, pc.n - 1, 0, w2,
			sizeof(w2));
	if (r < 0) {
		snprintf(why, n, "certificate not accepted: %s", w2);
		goto out;
	}
	r = cert_match_id(pc.c[0], id->type, id->data, id->len, w2, sizeof(w2));
	if (r < 0) {
		if (r == ERR_UNSUPPORTED)
			snprintf(w2, sizeof(w2),
				 "this ID type cannot be matched against "
				 "a certificate");
		snprintf(why, n,
			 "peer's %s does not match its certificate "
			 "%s: %s",
			 id_fmt(id->type, id->data, id->len, s1, sizeof(s1)),
			 cert_subject(pc.c[0], s2, sizeof(s2)), w2);
		r = ERR_AUTH;
		goto out;
	}
	r = auth_sig_verify(a->method, cert_pubkey(pc.c[0]), p->sig_flags, 0,
			    w.p, w.len, a->data, a->len, w2, sizeof(w2));
	if (r < 0) {
		snprintf(why, n, "AUTH signature (method %u) of %s: %s",
			 a->method, cert_subject(pc.c[0], s2, sizeof(s2)), w2);
		r = ERR_AUTH;
		goto out;
	}
	auth_info_set(&sa->auth_remote, a->method, a->data, a->len, pc.c[0],
		      cert_pubkey(pc.c[0]));
	log_info(LS_IKE,
		 "IKE_AUTH: peer %s authenticated by certificate "
		 "\"%s\" (AUTH method %u)",
		 id_fmt(id->type, id->data, id->len, s1, sizeof(s1)),
		 cert_subject(pc.c[0], s2, sizeof(s2)), a->method);
out:
	/* The identity the peer proved, for status: with remote_id = %any
	 * the configuration does not say who it is.  One too long for
	 * struct ike_id is left out (type 0). */
	if (r == 0 && id->len <= sizeof(sa->peer_id.data)) {
		sa->peer_id.type = id->type;
		sa->peer_id.len = (uint8_t)id->len;
		memcpy(sa->peer_id.data, id->data, id->len);
	}
	peer_certs_free(&pc);
	wbuf_free(&w);
	return r;
}

/* A failed authentication, logged once with the reason (§2.21.2). */
static void auth_fail(struct ike_sa *sa, const char *what, const char *why)
{
	snprintf(sa->detail, sizeof(sa->detail), "%s", why);
	ike_sa_fail(sa, IKEV2_N_AUTHENTICATION_FAILED, what);
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
	struct my_auth me;
	struct proposal_wire pw;
	struct ikev2_ts tsi[SA_MAX_TS], tsr[SA_MAX_TS];
};

static int fill_auth_req(struct ike_sa *sa, struct ikev2_builder *b, void *arg)
{
	struct auth_req *q = arg;
	int r;

	r = add_id_cert_auth(sa, b, &q->me, true);
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
	char why[WHY_MAX] = "";
	uint8_t spi[4];
	int r = ERR_NOMEM;

	if (!q || !esp)
		goto out;
	r = my_auth_make(sa, &q->me, why, sizeof(why));
	if (r < 0 && why[0]) {
		/* Our key cannot sign anything this peer takes. */
		auth_fail(sa, "cannot authenticate to the peer", why);
		r = 0;
		goto out;
	}
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
	if (q) {
		my_auth_free(&q->me);
		crypto_wipe(q, sizeof(*q));
	}
	free(q);
	free(esp);
	return r;
}

/* ---- responder: the request ---- */

struct auth_resp {
	uint16_t error; /* AUTHENTICATION_FAILED etc.: only that */
	struct my_auth me;
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
	r = add_id_cert_auth(sa, b, &p->me, false);
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
	uint8_t n_l = 0, n_r = 0, spi[4];
	struct proposal_chosen c = {0};
	const struct ike_conn *cc = NULL;
	struct ikev2_id id;
	struct ikev2_auth a;
	struct ikev2_notify n;
	char why[WHY_MAX] = "";
	size_t from = 0;
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
	/* §2.15: the peer must be who we expect and prove it. */
	r = check_peer(sa, inner, &id, &a, why, sizeof(why));
	if (r < 0) {
		p->error = IKEV2_N_AUTHENTICATION_FAILED;
		auth_fail(sa, "initiator authentication failed", why);
		goto send;
	}
	sa->initial_contact =
		ikev2_msg_notify(inner, IKEV2_N_INITIAL_CONTACT, &n) != NULL;
	/* §3.7: a CERTREQ asks for our certificate (send_cert ifasked). */
	sa->peer_certreq = ikev2_msg_next(inner, IKEV2_PL_CERTREQ, &from);
	r = my_auth_make(sa, &p->me, why, sizeof(why));
	if (r < 0 && why[0]) {
		p->error = IKEV2_N_AUTHENTICATION_FAILED;
		auth_fail(sa, "cannot authenticate to the peer", why);
		goto send;
	}
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
	if (p) {
		my_auth_free(&p->me);
		crypto_wipe(p, sizeof(*p));
	}
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
	if (check_peer(sa, inner, &id, &a, why, sizeof(why)) < 0) {
		/* §2.21.2: tell the responder in an INFORMATIONAL. */
		auth_fail(sa, "responder authentication failed", why);
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
