/* SPDX-License-Identifier: MIT */
/*
 * The IKE manager's Child SAs (see ike.h, docs/ike.md): what each IKE SA
 * installed in the data plane per Child SA, following the events of the
 * state machine (src/ike/ike_child.h) make-before-break; which [conn]s
 * share an IKE SA (same addresses, identities and PSK); ipsecctl rekey
 * and the Child SA part of ipsecctl down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "config/conn.h"
#include "daemon/daemon.h"
#include "daemon/ike_impl.h"
#include "esp/sad.h"
#include "ike/ike_sa.h"
#include "ike/keylog.h"

/* ---- Child SAs in the data plane ---- */

/* The longest a responder's new outbound SA waits (kid_up). */
#define OUT_WAIT_S 3

struct ike_kid *ike_ent_kid(struct ike_ent *e, uint32_t spi_in)
{
	size_t i;

	for (i = 0; i < IKE_KIDS_MAX; i++)
		if (e->kids[i].used && e->kids[i].in.spi == spi_in)
			return &e->kids[i];
	return NULL;
}

static void out_wait_free(struct ike_kid *k)
{
	if (!k->out_wait)
		return;
	crypto_wipe(k->out_wait, sizeof(*k->out_wait));
	free(k->out_wait);
	k->out_wait = NULL;
}

/* Remove one Child SA's directions from the data plane. */
static void kid_down(struct ike_ent *e, struct ike_kid *k)
{
	struct daemon *d = e->m->d;
	bool out_went = k->out_installed && !k->out_replaced;
	uint32_t reqid = k->reqid;

	if (k->in_installed)
		d->ops->del_sa(d->dp, IPSEC_PROTO_ESP, k->in.spi, SA_DIR_IN);
	if (out_went)
		d->ops->del_sa(d->dp, IPSEC_PROTO_ESP, k->out.spi, SA_DIR_OUT);
	log_info(LS_IKE, "conn %s: Child SA removed (in 0x%08x, out 0x%08x)",
		 k->name, k->in.spi, k->out.spi);
	if (k->used)
		e->n_kids--;
	out_wait_free(k);
	memset(k, 0, sizeof(*k));
	if (out_went)
		ike_mgr_out_gone(e->m, reqid);
}

void ike_ent_kid_down(struct ike_ent *e, struct ike_kid *k)
{
	kid_down(e, k);
}

/* Remove every Child SA of e from the data plane. */
void ike_ent_child_down(struct ike_ent *e)
{
	size_t i;

	for (i = 0; i < IKE_KIDS_MAX; i++)
		if (e->kids[i].used)
			kid_down(e, &e->kids[i]);
}

/* The connection of a Child SA (a reload may renumber the array, not
 * the reqids of the connections it keeps). */
static struct conn_cfg *conn_by_reqid(struct ike_mgr *m, uint32_t reqid)
{
	struct conn_set *cs = m->d->conns;
	size_t i;

	for (i = 0; i < cs->n; i++)
		if (cs->conns[i].ike.reqid == reqid)
			return &cs->conns[i];
	return NULL;
}

static void keylog_sa(struct ike_mgr *m, const struct sa_params *p)
{
	char line[KEYLOG_LINE_MAX];

	if (m->keylog_fd >= 0 && keylog_esp_line(p, line, sizeof(line)) == 0)
		ike_mgr_keylog(m, line);
}

static void keep_params(struct sa_params *dst, const struct sa_params *src)
{
	*dst = *src;
	crypto_wipe(dst->enc_key, sizeof(dst->enc_key));
	crypto_wipe(dst->integ_key, sizeof(dst->integ_key));
}

/*
 * A newer Child SA of the same connection (the peer restarted, both
 * sides initiated at once, or another IKE SA) takes over outbound
 * traffic: the older outbound SA goes, so the SA of the reqid is
 * unambiguous.  The older inbound SA stays while it lives, because the
 * peer may still send on it (in a simultaneous start each side may have
 * picked a different one, RFC 7296 §2.8.1).  The pair a rekey replaces
 * is left alone: its Delete follows (§2.8).
 */
static void take_over_out(struct ike_mgr *m, struct ike_ent *e, uint32_t reqid,
			  const char *name, uint32_t rekeyed_from)
{
	struct daemon *d = m->d;
	struct ike_ent *o;
	struct ike_kid *k;
	size_t i;

	for (o = m->ents; o; o = o->next)
		for (i = 0; i < IKE_KIDS_MAX && o->n_kids; i++) {
			k = &o->kids[i];
			if (!k->used || k->reqid != reqid ||
			    !k->out_installed || k->out_replaced ||
			    (o == e && k->in.spi == rekeyed_from))
				continue;
			log_info(LS_IKE,
				 "conn %s: outbound SA 0x%08x replaced "
				 "by a newer Child SA",
				 name, k->out.spi);
			d->ops->del_sa(d->dp, IPSEC_PROTO_ESP, k->out.spi,
				       SA_DIR_OUT);
			k->out_replaced = true;
		}
}

/* Does another Child SA of reqid carry its outbound traffic? */
static bool out_in_use(struct ike_mgr *m, uint32_t reqid)
{
	struct ike_ent *o;
	size_t i;

	for (o = m->ents; o; o = o->next)
		for (i = 0; i < IKE_KIDS_MAX && o->n_kids; i++)
			if (o->kids[i].used && o->kids[i].reqid == reqid &&
			    o->kids[i].out_installed &&
			    !o->kids[i].out_replaced)
				return true;
	return false;
}

/* Install k's waiting outbound SA (kid_up); the older one goes. */
static void kid_out_go(struct ike_ent *e, struct ike_kid *k, const char *why)
{
	struct daemon *d = e->m->d;
	struct sa_params *out = k->out_wait;
	int r;

	k->out_wait = NULL;
	take_over_out(e->m, e, k->reqid, k->name, 0);
	r = d->ops->add_sa(d->dp, out);
	if (r) {
		log_err(LS_IKE, "conn %s: cannot install the outbound SA: %s",
			k->name, err_str(r));
	} else {
		k->out_installed = true;
		keylog_sa(e->m, out);
		log_info(LS_IKE, "conn %s: outbound SA 0x%08x in use (%s)",
			 k->name, out->spi, why);
	}
	crypto_wipe(out, sizeof(*out));
	free(out);
}

void ike_ent_out_wait_tick(struct ike_ent *e, uint64_t now)
{
	struct daemon *d = e->m->d;
	struct sa_stats st;
	size_t i;

	for (i = 0; i < IKE_KIDS_MAX && e->n_kids; i++) {
		struct ike_kid *k = &e->kids[i];

		if (!k->used || !k->out_wait)
			continue;
		memset(&st, 0, sizeof(st));
		if (d->ops->get_stats(d->dp, IPSEC_PROTO_ESP, k->in.spi,
				      SA_DIR_IN, &st) == 0 && st.packets)
			kid_out_go(e, k, "the peer sends on the new pair");
		else if (now >= k->out_wait_until)
			kid_out_go(e, k, "waited long enough");
		else if (!out_in_use(e->m, k->reqid))
			kid_out_go(e, k, "the older outbound SA is gone");
	}
}

void ike_mgr_out_gone(struct ike_mgr *m, uint32_t reqid)
{
	struct ike_ent *o;
	size_t i;

	for (o = m->ents; o; o = o->next)
		for (i = 0; i < IKE_KIDS_MAX && o->n_kids; i++)
			if (o->kids[i].used && o->kids[i].out_wait &&
			    o->kids[i].reqid == reqid) {
				kid_out_go(o, &o->kids[i],
					   "the older outbound SA is gone");
				return;
			}
}

static void kid_up(struct ike_ent *e, const struct ike_child *c,
		   const struct sa_params *in, const struct sa_params *out)
{
	struct ike_mgr *m = e->m;
	struct daemon *d = m->d;
	struct conn_cfg *conn = conn_by_reqid(m, c->reqid);
	struct ike_kid *k = NULL;
	struct sa_params pin, pout;
	bool wait;
	size_t i;
	int r;

	memset(&pout, 0, sizeof(pout));
	for (i = 0; i < IKE_KIDS_MAX && !k; i++)
		if (!e->kids[i].used)
			k = &e->kids[i];
	if (!k || !conn || ike_ent_kid(e, c->spi_in)) {
		log_err(LS_IKE, "conn %s: no room for Child SA 0x%08x",
			e->conn->name, c->spi_in);
		return;
	}
	/* RFC 7296 §2.8 has a rekey responder send on the new pair only
	 * once the initiator has it (its outbound follows the Delete).  A
	 * new pair that replaces another one of the connection without a
	 * rekey (reauthentication, §2.8.3; a peer that restarted) gets the
	 * same care: if we answered, the initiator installs its inbound
	 * SA only when our response arrives, and ESP sent at once could
	 * overtake it.  The older outbound SA stays in use until the peer
	 * sends on the new pair, the older one goes, or OUT_WAIT_S pass. */
	wait = out && !c->ours && !c->rekeyed_from &&
	       out_in_use(m, conn->ike.reqid);
	if (out && !wait)
		take_over_out(m, e, conn->ike.reqid, conn->name,
			      c->rekeyed_from);
	/* Byte/packet lifetimes (ike_life.c) into copies. */
	pin = *in;
	ike_life_sa_params(conn, &pin);
	in = &pin;
	if (out) {
		pout = *out;
		ike_life_sa_params(conn, &pout);
		out = &pout;
	}
	/* RFC 4301 §4.4.2; §2.8: the inbound SA first. */
	r = d->ops->add_sa(d->dp, in);
	if (r) {
		log_err(LS_IKE, "conn %s: cannot install the Child SA: %s",
			conn->name, err_str(r));
		crypto_wipe(&pin, sizeof(pin));
		crypto_wipe(&pout, sizeof(pout));
		return;
	}
	k->used = true;
	e->n_kids++;
	k->reqid = conn->ike.reqid;
	snprintf(k->name, sizeof(k->name), "%s", conn->name);
	k->in_installed = true;
	k->added = ipsec_now_s();
	ike_life_kid_up(e, k, c);
	keep_params(&k->in, in);
	keylog_sa(m, in);
	if (wait) {
		k->out_wait = malloc(sizeof(*k->out_wait));
		if (k->out_wait) {
			*k->out_wait = *out;
			k->out_wait_until = ipsec_now_s() + OUT_WAIT_S;
		} else {
			wait = false;
			take_over_out(m, e, conn->ike.reqid, conn->name, 0);
		}
	}
	if (wait) {
		keep_params(&k->out, out);
	} else if (out) {
		r = d->ops->add_sa(d->dp, out);
		if (r)
			log_err(LS_IKE,
				"conn %s: cannot install the outbound SA: %s",
				conn->name, err_str(r));
		k->out_installed = r == 0;
		keep_params(&k->out, out);
		if (r == 0)
			keylog_sa(m, out);
	} else {
		/* Rekey responder: shown with its SPI until UP_OUT. */
		keep_params(&k->out, in);
		k->out.spi = c->spi_out;
		k->out.dir = SA_DIR_OUT;
		k->out.encap_sport = in->encap_dport;
		k->out.encap_dport = in->encap_sport;
	}
	log_info(LS_IKE,
		 "conn %s: Child SA installed: %s, in 0x%08x, out 0x%08x%s%s%s",
		 conn->name,
		 in->mode == IPSEC_MODE_TRANSPORT ? "transport" : "tunnel",
		 in->spi, c->spi_out,
		 in->encap_sport ? ", ESP in UDP (NAT)" : "",
		 c->rekeyed_from ? ", rekeyed" : "",
		 wait ? " (outbound waits for the peer to use the new pair)"
		 : out ? "" : " (outbound follows the old SA's Delete)");
	crypto_wipe(&pin, sizeof(pin));
	crypto_wipe(&pout, sizeof(pout));
}

/* ike_child_ev_cb: the data plane follows the Child SAs (ike_child.h). */
void ike_ent_child_ev(void *arg, enum ike_child_event ev,
		      const struct ike_child *c, const struct sa_params *in,
		      const struct sa_params *out)
{
	struct ike_ent *e = arg;
	struct daemon *d = e->m->d;
	struct ike_kid *k = ike_ent_kid(e, c->spi_in);
	struct sa_params pout;
	int r;

	switch (ev) {
	case IKE_CHILD_UP:
	case IKE_CHILD_UP_IN:
		if (in)
			kid_up(e, c, in, ev == IKE_CHILD_UP ? out : NULL);
		break;
	case IKE_CHILD_UP_OUT:
		if (!k || !out || k->out_installed)
			break;
		take_over_out(e->m, e, k->reqid, k->name, c->rekeyed_from);
		pout = *out;
		ike_life_sa_params(conn_by_reqid(e->m, k->reqid), &pout);
		out = &pout;
		r = d->ops->add_sa(d->dp, out);
		if (r) {
			log_err(LS_IKE,
				"conn %s: cannot install the outbound SA: %s",
				k->name, err_str(r));
			crypto_wipe(&pout, sizeof(pout));
			break;
		}
		k->out_installed = true;
		keep_params(&k->out, out);
		keylog_sa(e->m, out);
		log_info(LS_IKE, "conn %s: outbound SA 0x%08x in use (rekey)",
			 k->name, out->spi);
		crypto_wipe(&pout, sizeof(pout));
		break;
	case IKE_CHILD_DOWN:
		/* A pair replaced by a rekey, or the redundant pair of a
		 * collision (§2.8.1: the peer may have sent on it before
		 * it learnt it lost): its inbound SA stays a moment for
		 * packets already on the way (ike_life.c). */
		if (k && (c->replaced_by || c->redundant) && k->in_installed)
			ike_life_linger(e, k);
		else if (k)
			kid_down(e, k);
		/* §1.4.1: closed by the peer (not a rekey, not ours). */
		if (!c->replaced_by && !c->redundant &&
		    c->state == IKE_CHILD_INSTALLED)
			ike_life_child_closed(e->m, e, c);
		break;
	}
}

static bool same_id(const struct ike_id *a, const struct ike_id *b)
{
	return a->type == b->type && a->len == b->len &&
	       memcmp(a->data, b->data, a->len) == 0;
}

/* Connections that may share one IKE SA: same addresses, identities and
 * PSK (so a Child SA is never given to a peer that proved another). */
bool ike_conn_same_peer(const struct conn_cfg *a, const struct conn_cfg *b)
{
	return addr_equal(&a->ike.local_addr, &b->ike.local_addr) &&
	       a->remote_any == b->remote_any &&
	       (a->remote_any ||
		addr_equal(&a->ike.remote_addr, &b->ike.remote_addr)) &&
	       same_id(&a->ike.local_id, &b->ike.local_id) &&
	       same_id(&a->ike.remote_id, &b->ike.remote_id) &&
	       a->ike.psk_len == b->ike.psk_len &&
	       crypto_memeq(a->ike.psk, b->ike.psk, a->ike.psk_len);
}

/* ike_conn_iter: the other [conn]s with the IKE SA's peer. */
const struct ike_conn *ike_ent_conn_iter(void *arg, const struct ike_sa *sa,
					 size_t k)
{
	struct ike_ent *e = arg;
	struct conn_set *cs = e->m->d->conns;
	size_t i;

	(void)sa;
	for (i = 0; i < cs->n; i++) {
		struct conn_cfg *c = &cs->conns[i];

		if (c == e->conn || !ike_conn_same_peer(c, e->conn))
			continue;
		if (k-- == 0)
			return &c->ike;
	}
	return NULL;
}

/* Does e carry (or make) a Child SA of a connection other than c? */
bool ike_ent_shared(const struct ike_ent *e, const struct conn_cfg *c)
{
	size_t i;

	for (i = 0; i < IKE_CHILD_SLOTS; i++)
		if (e->sa->child[i] && e->sa->child[i]->reqid != c->ike.reqid)
			return true;
	for (i = 0; i < IKE_KIDS_MAX; i++)
		if (e->kids[i].used && e->kids[i].reqid != c->ike.reqid)
			return true;
	return false;
}

/* Send a Delete for each Child SA of c in e (RFC 7296 §1.4.1). */
unsigned ike_ent_delete_children(struct ike_mgr *m, struct ike_ent *e,
				 const struct conn_cfg *c)
{
	struct ike_tx tx = {0};
	struct ike_child *ch;
	unsigned n = 0;
	size_t i;

	for (i = 0; i < IKE_CHILD_SLOTS; i++) {
		ch = e->sa->child[i];
		if (!ch || ch->reqid != c->ike.reqid)
			continue;
		if (ike_sa_child_delete(e->sa, ch->spi_in, &tx) == 0)
			n++;
		ike_mgr_send_tx(m, &tx);
	}
	ike_mgr_ent_check(m, e);
	return n;
}

int ike_mgr_rekey(struct ike_mgr *m, const char *name, char *msg, size_t len)
{
	struct conn_cfg *c = m ? conn_find(m->d->conns, name) : NULL;
	struct ike_tx tx = {0};
	struct ike_child *ch;
	struct ike_ent *e;
	unsigned n = 0, busy = 0;
	size_t i;
	int r;

	if (!c) {
		snprintf(msg, len, "no connection '%s'", name);
		return ERR_NOTFOUND;
	}
	for (e = m->ents; e; e = e->next) {
		if (!ike_ent_active(e) || e->sa->state != IKE_S_ESTABLISHED)
			continue;
		for (i = 0; i < IKE_CHILD_SLOTS; i++) {
			ch = e->sa->child[i];
			if (!ch || ch->reqid != c->ike.reqid)
				continue;
			if (ch->state != IKE_CHILD_INSTALLED) {
				busy++;
				continue;
			}
			/* §2.8: CREATE_CHILD_SA with REKEY_SA. */
			r = ike_sa_child_rekey(e->sa, ch->spi_in, &tx);
			ike_mgr_send_tx(m, &tx);
			if (r == 0) {
				n++;
				log_info(LS_IKE,
					 "conn %s: rekeying Child SA "
					 "0x%08x",
					 name, ch->spi_in);
			}
		}
		ike_mgr_ent_check(m, e);
	}
	if (!n) {
		snprintf(msg, len, "connection '%s' has no Child SA to rekey%s",
			 name, busy ? " (rekey or delete under way)" : "");
		return busy ? ERR_EXISTS : ERR_NOTFOUND;
	}
	snprintf(msg, len, "rekeying %u Child SA%s of %s", n, n == 1 ? "" : "s",
		 name);
	return 0;
}
