/* SPDX-License-Identifier: MIT */
/*
 * The IKE_SA_INIT exchange, RFC 7296 §1.2:
 *   HDR, [N(COOKIE),] SAi1, KEi, Ni, N(NAT_DETECTION_*),
 *        N(SIGNATURE_HASH_ALGORITHMS)  -->
 *       <--  HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*),
 *            [N(SIGNATURE_HASH_ALGORITHMS)]
 * with the initiator's retries: COOKIE (§2.6), INVALID_KE_PAYLOAD
 * (§1.2, §2.7), both in one attempt (§2.6: the cookie is kept when the
 * group changes), each bounded.  Other error notifies in the response
 * are unauthenticated (§2.21.1): they are noted, and the attempt goes
 * on for a little while in case the real answer is still coming.
 *
 * The responder's stateless part (COOKIE requests, error answers to
 * requests that do not parse) is in cookie.c and runs before an IKE SA
 * exists; this file handles a request that passed it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "ike/cookie.h"
#include "ike/ike_sa.h"

/* The largest shared secret: MODP-8192. */
#define KE_SECRET_MAX 1024
#define KE_PUB_MAX 1024
/* §2.6: a responder that keeps asking for cookies is broken or hostile. */
#define IKE_COOKIE_TRIES 3
/* §2.21.1: retransmissions still sent after an error notify. */
#define IKE_INIT_ERR_WAIT 1

static struct log_ratelimit init_rl = LOG_RATELIMIT_INIT(10, 5);

/* What a peer made us do: debug level, rate-limited (HACKING.md). */
__attribute__((format(printf, 1, 2))) static void init_dbg(const char *fmt, ...)
{
	char line[512];
	uint32_t held;
	va_list ap;

	if (!log_enabled(LS_IKE, LL_DEBUG) ||
	    !log_ratelimit_ok(&init_rl, &held))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_dbg(LS_IKE, "IKE_SA_INIT: %s (%u similar lines suppressed before)",
		line, held);
}

static int random_nonzero(uint8_t *p, size_t len)
{
	static const uint8_t zero[IKE_SPI_LEN];
	int r;

	do {
		r = crypto_random(p, len);
	} while (r == 0 && len <= sizeof(zero) && memcmp(p, zero, len) == 0);
	return r;
}

static int keep_copy(uint8_t **dst, size_t *dst_len, const uint8_t *p,
		     size_t len)
{
	uint8_t *c = malloc(len);

	if (!c)
		return ERR_NOMEM;
	memcpy(c, p, len);
	free(*dst);
	*dst = c;
	*dst_len = len;
	return 0;
}

/* An unencrypted error answer (no state kept): SPIr is zero (§2.6). */
static int send_error(struct ike_sa *sa, const struct ikev2_hdr *req,
		      uint16_t type, const uint8_t *data, size_t len,
		      struct ike_tx *tx)
{
	return ike_plain_notify(req, type, data, len, &sa->local, sa->lport,
				&sa->remote, sa->rport, tx);
}

/* RFC 7427 §4: the hashes we can sign and verify with (SHA-1 is not
 * offered); Identity (RFC 8420) for Ed25519. */
static int add_sig_hashes(struct ikev2_builder *b)
{
	static const uint8_t algs[] = {
		0, IKE_HASH_SHA2_256, 0, IKE_HASH_SHA2_384,
		0, IKE_HASH_SHA2_512, 0, IKE_HASH_IDENTITY,
	};

	return ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0,
				IKEV2_N_SIGNATURE_HASH_ALGORITHMS, algs,
				sizeof(algs));
}

/* The peer's SIGNATURE_HASH_ALGORITHMS as a bit set; 0 if absent.
 * Unknown values above 31 are ignored, as is an odd trailing octet. */
static uint32_t peer_sig_hashes(const struct ikev2_msg *msg)
{
	struct ikev2_notify n;
	uint32_t set = 0;
	uint16_t id;
	struct buf b;

	if (!ikev2_msg_notify(msg, IKEV2_N_SIGNATURE_HASH_ALGORITHMS, &n))
		return 0;
	buf_init(&b, n.data, n.len);
	while (buf_get_u16(&b, &id) == 0)
		if (id < 32)
			set |= 1u << id;
	return set;
}

/* g^ir, SKEYSEED and the SK_* keys (§2.14), then the SK contexts. */
static int derive(struct ike_sa *sa, const struct ikev2_ke *peer)
{
	uint8_t secret[KE_SECRET_MAX], skeyseed[IKE_PRF_KEY_MAX];
	const struct ke_alg *ka = ke_get_alg(sa->ke);
	int r;

	if (peer->len != ka->pub_len)
		return ERR_PEERKEY;
	r = ke_derive(sa->ke, peer->data, peer->len, secret, ka->secret_len);
	if (r == 0)
		r = ikev2_skeyseed(sa->ike.prf, sa->ni, sa->ni_len, sa->nr,
				   sa->nr_len, secret, ka->secret_len, skeyseed,
				   sizeof(skeyseed));
	if (r == 0)
		r = ikev2_derive_ike_keys(
			sa->ike.prf, sa->ike.encr, sa->ike.integ, skeyseed,
			sa->ike.prf->out_len, sa->ni, sa->ni_len, sa->nr,
			sa->nr_len, sa->spi_i, sa->spi_r, &sa->keys);
	if (r == 0)
		r = ikev2_sk_new(sa->ike.encr, sa->ike.integ, &sa->keys,
				 sa->initiator, &sa->sk);
	crypto_wipe(secret, sizeof(secret));
	crypto_wipe(skeyseed, sizeof(skeyseed));
	/* The private value is not needed any more; on failure the
	 * initiator keeps it for the real response (§2.21.1). */
	if (r == 0) {
		ke_free(sa->ke);
		sa->ke = NULL;
	}
	return r;
}

/* SA, KE and Nonce of an IKE_SA_INIT message; ERR_MALFORMED if absent. */
static int get_init_payloads(const struct ikev2_msg *msg, struct ikev2_sa *s,
			     struct ikev2_ke *ke, struct ikev2_nonce *n)
{
	const struct ikev2_payload *pl;
	size_t from = 0;

	pl = ikev2_msg_next(msg, IKEV2_PL_SA, &from);
	if (!pl || ikev2_decode_sa(pl, s) < 0)
		return ERR_MALFORMED;
	from = 0;
	pl = ikev2_msg_next(msg, IKEV2_PL_KE, &from);
	if (!pl || ikev2_decode_ke(pl, ke) < 0)
		return ERR_MALFORMED;
	from = 0;
	pl = ikev2_msg_next(msg, IKEV2_PL_NONCE, &from);
	if (!pl || ikev2_decode_nonce(pl, n) < 0 || n->len > IKEV2_NONCE_MAX)
		return ERR_MALFORMED;
	return 0;
}

int ike_init_build_request(struct ike_sa *sa, struct ike_tx *tx)
{
	struct proposal_wire *pw = NULL;
	struct ikev2_builder b;
	struct ikev2_hdr h;
	struct wbuf w = {0};
	uint8_t pub[KE_PUB_MAX];
	const struct ke_alg *ka;
	int r;

	if (!sa->ke_group)
		sa->ke_group = sa->conn.ike.p[0].ke[0]->iana_id;
	ka = ke_by_iana(sa->ke_group);
	if (!ka)
		return ERR_INVAL;
	/* §2.6: a COOKIE retry resends the request unchanged, KEi
	 * included; only a new group (§1.2) needs a new key pair. */
	if (!sa->ke || ke_get_alg(sa->ke) != ka) {
		ke_free(sa->ke);
		sa->ke = NULL;
		r = ke_new(ka, &sa->ke);
		if (r < 0)
			return r;
	}
	r = ke_get_public(sa->ke, pub, ka->pub_len);
	if (r < 0)
		return r;
	/* SPIi and Ni stay the same through every retry (§2.6: the
	 * cookie covers them). */
	if (!sa->ni_len) {
		sa->ni_len = IKE_NONCE_LEN;
		r = crypto_random(sa->ni, sa->ni_len);
		if (r == 0)
			r = random_nonzero(sa->spi_i, IKE_SPI_LEN);
		if (r < 0)
			return r;
	}
	pw = malloc(sizeof(*pw));
	if (!pw)
		return ERR_NOMEM;
	r = proposal_to_wire(&sa->conn.ike, NULL, 0, pw);
	if (r == 0)
		r = wbuf_init(&w, 512);
	if (r < 0)
		goto out;
	ike_sa_hdr(sa, &h, IKEV2_EXCH_IKE_SA_INIT, false, 0);
	r = ikev2_build_begin(&b, &w, &h);
	/* §2.6: the cookie is the first payload. */
	if (r == 0 && sa->cookie_len)
		r = ikev2_add_notify(&b, IKEV2_PROTO_NONE, NULL, 0,
				     IKEV2_N_COOKIE, sa->cookie,
				     sa->cookie_len);
	if (r == 0)
		r = ikev2_add_sa(&b, pw->d, pw->n);
	if (r == 0)
		r = ikev2_add_ke(&b, sa->ke_group, pub, ka->pub_len);
	if (r == 0)
		r = ikev2_add_nonce(&b, sa->ni, sa->ni_len);
	if (r == 0)
		r = ike_sa_add_natd(sa, &b);
	if (r == 0)
		r = add_sig_hashes(&b);
	if (r == 0)
		r = ikev2_build_end(&b);
	if (r == 0)
		r = keep_copy(&sa->init_req, &sa->init_req_len, w.p, w.len);
	if (r == 0)
		r = ike_sa_queue(sa, tx, w.p, w.len);
	if (r == 0) {
		sa->state = IKE_S_INIT_SENT;
		sa->next_req_id = 1;
	}
out:
	wbuf_free(&w);
	free(pw);
	return r;
}

int ike_init_retransmit(struct ike_sa *sa, struct ike_tx *tx)
{
	/* §2.21.1: an error notify is unauthenticated, so we kept trying
	 * for a while; nothing better came: believe it now. */
	if (sa->init_err) {
		if (!sa->init_err_wait) {
			ike_sa_fail(sa, sa->init_err,
				    sa->init_err == IKEV2_N_NO_PROPOSAL_CHOSEN
					    ? "responder: no proposal chosen"
				    : sa->init_err == IKEV2_N_COOKIE
					    ? "responder keeps asking for a "
					      "new cookie"
					    : "responder refused IKE_SA_INIT");
			return ERR_NOTFOUND;
		}
		sa->init_err_wait--;
	}
	return ike_sa_queue(sa, tx, sa->init_req, sa->init_req_len);
}

int ike_init_recv_request(struct ike_sa *sa, const uint8_t *msg_buf, size_t len,
			  const struct ikev2_msg *msg, struct ike_tx *tx)
{
	struct ikev2_sa *offered = malloc(sizeof(*offered));
	struct proposal_chosen c;
	struct ikev2_prop_desc d;
	struct ikev2_xform_desc t[5];
	struct ikev2_ke ke;
	struct ikev2_nonce n;
	struct ikev2_builder b;
	struct ikev2_hdr h;
	struct wbuf w = {0};
	uint8_t pub[KE_PUB_MAX], grp[2];
	const struct ke_alg *ka;
	int r;

	if (!offered)
		return ERR_NOMEM;
	r = get_init_payloads(msg, offered, &ke, &n);
	if (r < 0) {
		/* §2.21.1: INVALID_SYNTAX, no state kept. */
		send_error(sa, &msg->hdr, IKEV2_N_INVALID_SYNTAX, NULL, 0, tx);
		goto out;
	}
	/* §2.7: choose one proposal; none acceptable -> NO_PROPOSAL_CHOSEN. */
	r = proposal_select(&sa->conn.ike, offered, ke.group, true, &c,
			    sa->detail, sizeof(sa->detail));
	if (r < 0) {
		send_error(sa, &msg->hdr, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0,
			   tx);
		ike_sa_fail(sa, IKEV2_N_NO_PROPOSAL_CHOSEN,
			    "no IKE proposal chosen");
		r = 0;
		goto out;
	}
	/* §1.2, §3.10.1: the KE payload is for another group: tell the
	 * initiator which one we want; keep no state. */
	if (c.ke->iana_id != ke.group) {
		be16_store(grp, c.ke->iana_id);
		ike_sa_peer_log("IKE_SA_INIT: KE group %u, asking for %s",
				ke.group, c.ke->name);
		r = send_error(sa, &msg->hdr, IKEV2_N_INVALID_KE_PAYLOAD, grp,
			       2, tx);
		goto out;
	}
	sa->ike = c;
	memcpy(sa->spi_i, msg->hdr.spi_i, IKE_SPI_LEN);
	memcpy(sa->ni, n.data, n.len);
	sa->ni_len = n.len;
	sa->nr_len = IKE_NONCE_LEN;
	ka = c.ke;
	r = crypto_random(sa->nr, sa->nr_len);
	if (r == 0)
		r = random_nonzero(sa->spi_r, IKE_SPI_LEN);
	if (r == 0)
		r = ke_new(ka, &sa->ke);
	if (r == 0)
		r = ke_get_public(sa->ke, pub, ka->pub_len);
	if (r == 0)
		r = derive(sa, &ke);
	if (r < 0) {
		/* A bad public value: §2.21.1 INVALID_SYNTAX. */
		send_error(sa, &msg->hdr, IKEV2_N_INVALID_SYNTAX, NULL, 0, tx);
		ike_sa_fail(sa, IKEV2_N_INVALID_SYNTAX, "key exchange failed");
		r = 0;
		goto out;
	}
	ike_sa_check_natd(sa, msg);
	sa->peer_sig_hashes = peer_sig_hashes(msg);

	r = wbuf_init(&w, 512);
	if (r < 0)
		goto out;
	proposal_chosen_to_wire(&c, NULL, 0, &d, t);
	ike_sa_hdr(sa, &h, IKEV2_EXCH_IKE_SA_INIT, true, 0);
	r = ikev2_build_begin(&b, &w, &h);
	if (r == 0)
		r = ikev2_add_sa(&b, &d, 1);
	if (r == 0)
		r = ikev2_add_ke(&b, ka->iana_id, pub, ka->pub_len);
	if (r == 0)
		r = ikev2_add_nonce(&b, sa->nr, sa->nr_len);
	if (r == 0)
		r = ike_sa_add_natd(sa, &b);
	/* RFC 7427 §4: answered only to an initiator that sent its own. */
	if (r == 0 && sa->peer_sig_hashes)
		r = add_sig_hashes(&b);
	/* §1.2, §3.7: a responder wanting a certificate asks here. */
	if (r == 0)
		r = ike_auth_add_certreq(sa, &b);
	if (r == 0)
		r = ikev2_build_end(&b);
	if (r == 0)
		r = keep_copy(&sa->init_req, &sa->init_req_len, msg_buf, len);
	if (r == 0)
		r = keep_copy(&sa->init_resp, &sa->init_resp_len, w.p, w.len);
	if (r == 0)
		r = ike_sa_cache_resp(sa, 0, w.p, w.len);
	if (r == 0)
		r = ike_sa_queue(sa, tx, w.p, w.len);
	if (r == 0) {
		sa->state = IKE_S_INIT_DONE;
		sa->next_peer_id = 1;
	}
out:
	wbuf_free(&w);
	free(offered);
	return r;
}

static bool offered_group(const struct ike_sa *sa, uint16_t group)
{
	size_t i, j;

	for (i = 0; i < sa->conn.ike.n; i++)
		for (j = 0; j < sa->conn.ike.p[i].n_ke; j++)
			if (sa->conn.ike.p[i].ke[j]->iana_id == group)
				return true;
	return false;
}

/* §2.21.1: an unauthenticated error; note it and keep waiting for a
 * real answer (the caller's timer retransmits, ike_init_retransmit()
 * gives up). */
static int note_error(struct ike_sa *sa, uint16_t type)
{
	char why[1024];

	init_dbg("response with error notify %u; still waiting", type);
	if (sa->init_err)
		return 0;
	sa->init_err = type;
	sa->init_err_wait = IKE_INIT_ERR_WAIT;
	snprintf(sa->detail, sizeof(sa->detail), "we offered %s",
		 proposal_list_fmt(&sa->conn.ike, why, sizeof(why)));
	return 0;
}

/* §1.2: retry with the group the responder asked for, once per group. */
static int retry_ke(struct ike_sa *sa, const struct ikev2_notify *n,
		    struct ike_tx *tx)
{
	uint16_t group;

	if (n->len != 2)
		return ERR_MALFORMED;
	group = be16_load(n->data);
	if (!offered_group(sa, group))
		return note_error(sa, IKEV2_N_INVALID_KE_PAYLOAD);
	if (group == sa->ke_group || sa->ke_retries >= 2) {
		/* Asking for the group we sent: a broken or hostile
		 * responder; do not loop. */
		return ERR_PROTO;
	}
	sa->ke_retries++;
	sa->ke_group = group;
	ike_sa_peer_log("IKE_SA_INIT: responder wants KE group %u; retrying",
			group);
	/* §2.6: the cookie, if any, stays in the request. */
	return ike_init_build_request(sa, tx);
}

/* §2.6: send the same request again with the responder's cookie first. */
static int retry_cookie(struct ike_sa *sa, const struct ikev2_notify *n,
			struct ike_tx *tx)
{
	/* §3.10.1: 1 to 64 octets. */
	if (n->len < 1 || n->len > IKE_COOKIE_MAX)
		return ERR_MALFORMED;
	if (sa->cookie_tries >= IKE_COOKIE_TRIES)
		return note_error(sa, IKEV2_N_COOKIE);
	sa->cookie_tries++;
	memcpy(sa->cookie, n->data, n->len);
	sa->cookie_len = n->len;
	init_dbg("responder asks for a cookie (%zu octets); retrying", n->len);
	return ike_init_build_request(sa, tx);
}

int ike_init_recv_response(struct ike_sa *sa, const uint8_t *msg_buf,
			   size_t len, const struct ikev2_msg *msg,
			   struct ike_tx *tx)
{
	struct ikev2_sa *reply = NULL;
	struct ikev2_notify n;
	struct ikev2_ke ke;
	struct ikev2_nonce nonce;
	const struct ikev2_payload *pl;
	size_t from = 0;
	char why[1024];
	int r;

	/* §2.6, §1.2: the two errors that say how to retry. */
	if (ikev2_msg_notify(msg, IKEV2_N_COOKIE, &n))
		return retry_cookie(sa, &n, tx);
	if (ikev2_msg_notify(msg, IKEV2_N_INVALID_KE_PAYLOAD, &n))
		return retry_ke(sa, &n, tx);
	/* §2.21.1: any other error notify means the exchange failed, if
	 * it is true; it is not authenticated, so keep trying a bit. */
	while ((pl = ikev2_msg_next(msg, IKEV2_PL_NOTIFY, &from)))
		if (ikev2_decode_notify(pl, &n) == 0 &&
		    n.type <= IKEV2_N_ERROR_MAX)
			return note_error(sa, n.type);
	reply = malloc(sizeof(*reply));
	if (!reply)
		return ERR_NOMEM;
	r = get_init_payloads(msg, reply, &ke, &nonce);
	if (r < 0)
		goto out;
	r = ERR_PROTO;
	if (!memcmp(msg->hdr.spi_r, (const uint8_t[IKE_SPI_LEN]){0},
		    IKE_SPI_LEN))
		goto out;
	r = proposal_check_reply(&sa->conn.ike, reply, true, &sa->ike, why,
				 sizeof(why));
	if (r < 0) {
		ike_sa_peer_log("IKE_SA_INIT response: %s", why);
		goto out;
	}
	if (sa->ike.ke->iana_id != sa->ke_group || ke.group != sa->ke_group) {
		r = ERR_PROTO;
		goto out;
	}
	memcpy(sa->spi_r, msg->hdr.spi_r, IKE_SPI_LEN);
	memcpy(sa->nr, nonce.data, nonce.len);
	sa->nr_len = nonce.len;
	r = derive(sa, &ke);
	if (r < 0) {
		/* §2.21.1: anyone can send a response with a bad KEr;
		 * drop it and wait for the real one. */
		init_dbg("response with an unusable KE payload: %s",
			 err_str(r));
		memset(sa->spi_r, 0, IKE_SPI_LEN);
		sa->nr_len = 0;
		goto out;
	}
	ike_sa_check_natd(sa, msg);
	sa->peer_sig_hashes = peer_sig_hashes(msg);
	sa->peer_certreq = ikev2_msg_next(msg, IKEV2_PL_CERTREQ, &(size_t){0});
	/* A real answer: an earlier forged error does not count. */
	sa->init_err = 0;
	sa->detail[0] = 0;
	/* §2.23: behind a NAT, continue on port 4500. */
	if (sa->nat_local || sa->nat_remote) {
		sa->lport = IKE_NATT_PORT;
		sa->rport = IKE_NATT_PORT;
	}
	r = keep_copy(&sa->init_resp, &sa->init_resp_len, msg_buf, len);
	if (r == 0)
		r = ike_auth_build_request(sa, tx);
out:
	free(reply);
	return r;
}
