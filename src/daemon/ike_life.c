/* SPDX-License-Identifier: MIT */
/*
 * Tunnels that stay up (docs/ike.md, "Lifetimes, rekeying, DPD"): the
 * IKE manager's timers for the lifetimes of Child SAs and IKE SAs, the
 * data plane's byte/packet lifetime events, dead peer detection and what
 * happens to a connection when its peer is gone or deletes it.
 *
 * Child SAs are rekeyed with CREATE_CHILD_SA + REKEY_SA (RFC 7296
 * §1.3.3, §2.8) at the soft limit and deleted at the hard limit.  IKE
 * SAs are rekeyed in place (§2.18, src/ike/x_rekey.c: the Child SAs move
 * to the new IKE SA, the rekey initiator deletes the old one), or with
 * reauth = yes replaced by reauthentication (§2.8.3, make-before-break:
 * a new IKE SA with new Child SAs first, then the old one's Delete).
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

#define LIFE_RETRY_S 10	  /* a failed rekey is tried again after this */
#define REAUTH_DRAIN_S 2  /* old IKE SA kept after the new one is up */
#define REAUTH_GIVEUP_S 60 /* new IKE SA not up: try again */
#define RESTART_RETRY_S 30 /* dpd_action = restart: next attempt */
#define LINGER_S 2	   /* a rekeyed pair's inbound SA stays */

static struct conn_cfg *conn_of(struct ike_mgr *m, uint32_t reqid)
{
	struct conn_set *cs = m->d->conns;
	size_t i;

	for (i = 0; i < cs->n; i++)
		if (cs->conns[i].ike.reqid == reqid)
			return &cs->conns[i];
	return NULL;
}

/* A Child SA record of the connection reqid in e, or NULL. */
static struct ike_kid *ike_ent_kid_of(struct ike_ent *e, uint32_t reqid)
{
	size_t i;

	for (i = 0; i < IKE_KIDS_MAX; i++)
		if (e->kids[i].used && e->kids[i].reqid == reqid)
			return &e->kids[i];
	return NULL;
}

static void kids_tick(struct ike_mgr *m, struct ike_ent *e, uint64_t now);

static bool ent_listed(struct ike_mgr *m, const struct ike_ent *x)
{
	const struct ike_ent *e;

	for (e = m->ents; e; e = e->next)
		if (e == x)
			return true;
	return false;
}

void ike_life_sa_params(const struct conn_cfg *c, struct sa_params *p)
{
	/* RFC 4301 §4.4.2.1: the soft limit starts the rekey early enough
	 * for it to finish before the hard one (90 %). */
	if (!c)
		return;
	p->hard.bytes = c->life.life_bytes;
	p->soft.bytes = c->life.life_bytes - c->life.life_bytes / 10;
	p->hard.packets = c->life.life_packets;
	p->soft.packets = c->life.life_packets - c->life.life_packets / 10;
}

void ike_life_kid_up(struct ike_ent *e, struct ike_kid *k,
		     const struct ike_child *c)
{
	struct conn_cfg *conn = conn_of(e->m, k->reqid);
	struct ike_kid *old;
	uint64_t now = ipsec_now_s();
	size_t i;

	if (c->rekeyed_from) {
		old = ike_ent_kid(e, c->rekeyed_from);
		if (old)
			k->rekeys = old->rekeys + 1;
	} else {
		/* Reauthentication: count on from the pair it replaces. */
		struct ike_ent *o;

		for (o = e->m->ents; o; o = o->next)
			for (i = 0; o->reauth == e && i < IKE_KIDS_MAX; i++)
				if (o->kids[i].used &&
				    o->kids[i].reqid == k->reqid &&
				    o->kids[i].rekeys + 1 > k->rekeys)
					k->rekeys = o->kids[i].rekeys + 1;
	}
	if (!conn)
		return;
	k->expire_at = now + conn->life.child_lifetime;
	k->rekey_at = now + conn_life_rekey_after(&conn->life,
						  conn->life.child_lifetime);
	k->rekey_why = "soft lifetime";
	k->expire_why = "hard lifetime";
}

void ike_life_linger(struct ike_ent *e, struct ike_kid *k)
{
	struct daemon *d = e->m->d;
	bool out_went = k->out_installed && !k->out_replaced;

	/* RFC 7296 §2.8 lets the old pair go once the new one is in
	 * use; packets the peer sent on the old SA just before may still
	 * be queued on the way, so its inbound SA lives LINGER_S more. */

	if (out_went)
		d->ops->del_sa(d->dp, IPSEC_PROTO_ESP, k->out.spi, SA_DIR_OUT);
	k->out_installed = false;
	k->lingering = true;
	k->rekey_at = 0;
	k->expire_at = ipsec_now_s() + LINGER_S;
	log_dbg(LS_IKE, "conn %s: Child SA 0x%08x replaced; its inbound SA "
		"stays %d s", k->name, k->in.spi, LINGER_S);
	if (out_went)
		ike_mgr_out_gone(e->m, k->reqid);
}

void ike_life_established(struct ike_ent *e, uint64_t now)
{
	const struct conn_life *l = &e->conn->life;

	e->last_rx = now;
	e->expire_at = now + l->ike_lifetime;
	/* §2.18: either end may rekey (the jitter keeps them apart).
	 * Reauthentication (§2.8.3): only the end that can reach the peer
	 * (a known remote) and started this IKE SA; the other end waits
	 * for that, up to the hard limit. */
	if (!l->reauth || (e->sa->initiator && !e->conn->remote_any))
		e->rekey_at = now + conn_life_rekey_after(l, l->ike_lifetime);
}

/* A listed entry for nsa, an established IKE SA that a rekey of one of
 * conn's IKE SAs made; NULL when out of memory (nsa is not taken). */
static struct ike_ent *ent_of_new_sa(struct ike_mgr *m,
				     struct conn_cfg *conn,
				     struct ike_sa *nsa)
{
	uint64_t now = ipsec_now_s();
	struct ike_ent *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->sa = nsa;
	n->conn = conn;
	n->m = m;
	n->created = n->established = now;
	n->seen = IKE_S_ESTABLISHED;
	ike_sa_set_hooks(nsa, ike_ent_child_ev, ike_ent_conn_iter, n);
	ike_mgr_ent_link(m, n);
	return n;
}

/* §2.8.2: the peer's redundant new IKE SA of a rekey collision we won.
 * The peer deletes it: keep it, without Child SAs, to answer that Delete
 * (not a close: replaced), then free it. */
static void keep_loser(struct ike_mgr *m, struct ike_ent *e)
{
	struct ike_sa *l = e->sa->rk_loser;
	struct ike_ent *n;

	e->sa->rk_loser = NULL;
	n = ent_of_new_sa(m, e->conn, l);
	if (!n) {
		ike_sa_free(l);
		return;
	}
	n->replaced = true;
	n->dead_at = n->created + IKE_FAILED_KEEP_S;
}

void ike_life_rekeyed(struct ike_mgr *m, struct ike_ent *e)
{
	struct ike_sa *nsa = e->sa->rekeyed_to;
	uint64_t now = ipsec_now_s();
	char s0[IKE_SPI_STRLEN], s1[IKE_SPI_STRLEN];
	struct ike_tx tx = {0};
	struct ike_ent *n;

	e->sa->rekeyed_to = NULL;
	n = ent_of_new_sa(m, e->conn, nsa);
	if (!n) {
		log_err(LS_IKE, "conn %s: IKE SA rekey: out of memory; its "
			"Child SAs are lost", e->conn->name);
		ike_sa_free(nsa);
		return;
	}
	/* §2.18: the Child SAs, installed as they are, now belong to
	 * the new IKE SA. */
	memcpy(n->kids, e->kids, sizeof(n->kids));
	memset(e->kids, 0, sizeof(e->kids));
	n->n_kids = e->n_kids;
	e->n_kids = 0;
	n->rekeys = e->rekeys + 1;
	ike_life_established(n, now);
	e->replaced = true;
	log_info(LS_IKE, "conn %s: IKE SA rekeyed by %s (RFC 7296 §2.18, "
		 "rekey %u): SPIi %s -> %s",
		 e->conn->name, nsa->initiator ? "us" : "the peer", n->rekeys,
		 ike_spi_fmt(e->sa->spi_i, s0), ike_spi_fmt(nsa->spi_i, s1));
	if (nsa->initiator) {
		/* §2.18: the end that started the rekey deletes the old
		 * IKE SA (it has no Child SAs any more). */
		if (ike_sa_delete(e->sa, &tx) == 0)
			ike_mgr_send_tx(m, &tx);
		e->dead_at = now;
	} else {
		/* The peer deletes it; answer that and retransmissions. */
		e->dead_at = now + IKE_FAILED_KEEP_S;
	}
	if (e->sa->rk_loser)
		keep_loser(m, e);
	/* Requests that waited on the old SA go out on the new one. */
	(void)ike_sa_kick(nsa, &tx);
	ike_mgr_send_tx(m, &tx);
	ike_mgr_ent_check(m, n);
}

bool ike_mgr_expire(struct ike_mgr *m, bool hard, uint32_t spi)
{
	struct ike_ent *e;
	struct ike_kid *k;
	uint64_t now = ipsec_now_s();
	size_t i;

	if (!m)
		return false;
	for (e = m->ents; e; e = e->next)
		for (i = 0; i < IKE_KIDS_MAX; i++) {
			k = &e->kids[i];
			if (!k->used || (k->in.spi != spi && k->out.spi != spi))
				continue;
			if (hard) {
				/* The data plane removed that SA already. */
				if (k->in.spi == spi)
					k->in_installed = false;
				else
					k->out_installed = false;
				k->expire_at = now;
				k->expire_why = "hard byte/packet limit";
			} else if (k->rekey_at > now || !k->rekey_at) {
				k->rekey_at = now;
				k->rekey_why = "soft byte/packet limit";
				/* At once: the hard limit may be less than
				 * a tick away. */
				if (ike_ent_active(e) &&
				    e->sa->state == IKE_S_ESTABLISHED &&
				    !e->reauth_started)
					kids_tick(m, e, now);
			}
			return true;
		}
	return false;
}

/* Is c carried by an established IKE SA other than x? */
static bool conn_up_elsewhere(struct ike_mgr *m, const struct ike_ent *x,
			      uint32_t reqid)
{
	struct ike_ent *e;

	for (e = m->ents; e; e = e->next)
		if (e != x && ike_ent_active(e) && !e->replaced &&
		    ike_sa_has_conn(e->sa, reqid))
			return true;
	return false;
}

static void apply(struct ike_mgr *m, struct ike_ent *e, bool dpd)
{
	uint32_t done[IKE_KIDS_MAX + 1];
	size_t n = 0, i, j;
	uint64_t now = ipsec_now_s();

	/* The connections e carried: its own and its Child SAs'. */
	done[n++] = e->conn->ike.reqid;
	for (i = 0; i < IKE_KIDS_MAX; i++) {
		if (!e->kids[i].used)
			continue;
		for (j = 0; j < n && done[j] != e->kids[i].reqid; j++)
			;
		if (j == n)
			done[n++] = e->kids[i].reqid;
	}
	for (i = 0; i < n; i++) {
		struct conn_cfg *c = conn_of(m, done[i]);
		enum conn_action a;

		if (!c || conn_up_elsewhere(m, e, c->ike.reqid))
			continue;
		a = dpd ? c->life.dpd_action : c->life.close_action;
		if (a == CONN_ACT_RESTART && c->remote_any)
			a = CONN_ACT_CLEAR;
		log_info(LS_IKE, "conn %s: %s = %s", c->name,
			 dpd ? "dpd_action" : "close_action",
			 conn_action_name(a));
		if (a == CONN_ACT_RESTART)
			c->retry_at = now + 1;
		else if (a == CONN_ACT_TRAP)
			c->trapped = true;
	}
}

void ike_life_dead(struct ike_mgr *m, struct ike_ent *e, const char *why)
{
	char ab[ADDR_STRLEN];

	log_err(LS_IKE, "conn %s: peer %s is dead (%s); deleting the IKE SA "
		"and its Child SAs", e->conn->name,
		addr_fmt(&e->sa->remote, ab, sizeof(ab)), why);
	if (!e->replaced)
		apply(m, e, true);
	ike_ent_child_down(e);
	e->dead_at = ipsec_now_s();
}

void ike_life_initial_contact(struct ike_mgr *m, struct ike_ent *e)
{
	struct ike_ent *o;
	char ab[ADDR_STRLEN];

	if (!e->sa->initial_contact || e->sa->initiator)
		return;
	/* RFC 7296 §2.4: the peer keeps no other IKE SA with us (it
	 * restarted): the IKE SAs it had set up with us are stale.  Ours
	 * (we initiated) are left to DPD and their lifetimes: in a
	 * simultaneous start both ends send INITIAL_CONTACT. */
	for (o = m->ents; o; o = o->next) {
		if (o == e || !ike_ent_active(o) || o->sa->initiator ||
		    o->sa->state != IKE_S_ESTABLISHED ||
		    !ike_conn_same_peer(o->conn, e->conn) ||
		    !addr_equal(&o->sa->remote, &e->sa->remote))
			continue;
		log_info(LS_IKE, "conn %s: INITIAL_CONTACT from %s: removing "
			 "its stale IKE SA and Child SAs", o->conn->name,
			 addr_fmt(&e->sa->remote, ab, sizeof(ab)));
		o->replaced = true;
		ike_ent_child_down(o);
		o->dead_at = ipsec_now_s();
	}
}

void ike_life_closed(struct ike_mgr *m, struct ike_ent *e)
{
	if (!e->replaced)
		apply(m, e, false);
}

void ike_life_setup_failed(struct ike_mgr *m, struct ike_ent *e)
{
	struct conn_cfg *c = e->conn;

	/* A start = on tunnel whose peer is not there yet (or refused us)
	 * is tried again every RESTART_RETRY_S, like dpd_action =
	 * restart, until it is up or `ipsecctl down` says stop: an
	 * administrator expects it to come up once the peer does. */
	if (!e->sa->initiator || e->established || e->replaced ||
	    c->start != CONN_START_ON || c->retry_at ||
	    conn_up_elsewhere(m, e, c->ike.reqid))
		return;
	c->retry_at = ipsec_now_s() + RESTART_RETRY_S;
	log_info(LS_IKE, "conn %s: start = on: trying again in %u s",
		 c->name, RESTART_RETRY_S);
}

void ike_life_child_closed(struct ike_mgr *m, struct ike_ent *e,
			   const struct ike_child *c)
{
	struct conn_cfg *cc = conn_of(m, c->reqid);
	enum conn_action a;
	size_t i;

	if (!cc || e->replaced || e->dead_at || e->sa->peer_deleted ||
	    conn_up_elsewhere(m, e, c->reqid))
		return;
	/* Another Child SA of the connection (any state) on e. */
	for (i = 0; i < IKE_CHILD_SLOTS; i++)
		if (e->sa->child[i] && e->sa->child[i] != c &&
		    e->sa->child[i]->reqid == c->reqid)
			return;
	a = cc->life.close_action;
	if (a == CONN_ACT_RESTART && cc->remote_any)
		a = CONN_ACT_CLEAR;
	log_info(LS_IKE, "conn %s: the peer deleted its last Child SA "
		 "(RFC 7296 §1.4.1): close_action = %s", cc->name,
		 conn_action_name(a));
	if (a == CONN_ACT_RESTART)
		cc->retry_at = ipsec_now_s() + 1;
	else if (a == CONN_ACT_TRAP)
		cc->trapped = true;
}

/* Rekey or expire each Child SA of e that is due. */
static void kids_tick(struct ike_mgr *m, struct ike_ent *e, uint64_t now)
{
	struct ike_tx tx = {0};
	struct ike_child *ch;
	struct ike_kid *k;
	size_t i;
	int r;

	for (i = 0; i < IKE_KIDS_MAX; i++) {
		k = &e->kids[i];
		if (!k->used)
			continue;
		ch = ike_sa_child_find(e->sa, k->in.spi);
		if (k->lingering) {
			if (now >= k->expire_at)
				ike_ent_kid_down(e, k);
			continue;
		}
		if (k->expire_at && now >= k->expire_at) {
			log_info(LS_IKE, "conn %s: deleting Child SA 0x%08x "
				 "(%s reached, %u rekeys)", k->name,
				 k->in.spi, k->expire_why, k->rekeys);
			k->expire_at = 0;
			k->rekey_at = 0;
			/* RFC 7296 §1.4.1; the data plane forgets it at
			 * once, whatever the answer. */
			if (ch && ike_sa_child_delete(e->sa, k->in.spi, &tx) ==
					  0)
				ike_mgr_send_tx(m, &tx);
			ike_ent_kid_down(e, k);
			continue;
		}
		if (!k->rekey_at || now < k->rekey_at || !ch)
			continue;
		if (ch->state != IKE_CHILD_INSTALLED) {
			/* Being rekeyed by the peer or deleted: wait. */
			k->rekey_at = now + 1;
			continue;
		}
		/* §2.8: CREATE_CHILD_SA with REKEY_SA; if it fails the
		 * Child SA goes back to INSTALLED and is tried again,
		 * until the hard limit. */
		r = ike_sa_child_rekey(e->sa, k->in.spi, &tx);
		ike_mgr_send_tx(m, &tx);
		log_info(LS_IKE, "conn %s: rekeying Child SA 0x%08x (%s, "
			 "rekey %u)%s%s", k->name, k->in.spi, k->rekey_why,
			 k->rekeys + 1, r ? ": " : "", r ? err_str(r) : "");
		k->rekey_at = now + LIFE_RETRY_S;
		k->rekey_why = "retry of a failed rekey";
	}
	ike_mgr_ent_check(m, e);
}

/* §2.18: rekey e in place; ike_life_rekeyed() follows the answer. */
static void ike_rekey_tick(struct ike_mgr *m, struct ike_ent *e, uint64_t now)
{
	struct ike_tx tx = {0};
	uint32_t rnd = 0;
	int r;

	if (e->sa->rk_out) {
		e->rekey_at = now + 1;
		return;
	}
	r = ike_sa_rekey(e->sa, &tx);
	ike_mgr_send_tx(m, &tx);
	log_info(LS_IKE, "conn %s: rekeying the IKE SA (%s, rekey %u)%s%s",
		 e->conn->name,
		 e->sa->rk_failed ? "retry of a failed rekey" : "soft lifetime",
		 e->rekeys + 1, r ? ": " : "", r ? err_str(r) : "");
	/* Tried again if it fails (e.g. TEMPORARY_FAILURE when both ends
	 * start at once): a random 5-15 s later. */
	(void)crypto_random(&rnd, sizeof(rnd));
	e->rekey_at = now + 5 + rnd % 11;
	ike_mgr_ent_check(m, e);
}

int ike_mgr_rekey_ike(struct ike_mgr *m, const char *name, char *msg,
		      size_t len)
{
	struct conn_cfg *c = m ? conn_find(m->d->conns, name) : NULL;
	struct ike_tx tx = {0};
	struct ike_ent *e;
	unsigned n = 0, busy = 0;
	int r;

	if (!c) {
		snprintf(msg, len, "no connection '%s'", name);
		return ERR_NOTFOUND;
	}
	for (e = m->ents; e; e = e->next) {
		if (e->conn != c || !ike_ent_active(e) ||
		    e->sa->state != IKE_S_ESTABLISHED)
			continue;
		/* §2.18: CREATE_CHILD_SA for the IKE SA; a collision with
		 * the peer's rekey is resolved by x_rekey.c (§2.8.2). */
		r = ike_sa_rekey(e->sa, &tx);
		ike_mgr_send_tx(m, &tx);
		if (r < 0) {
			busy++;
			continue;
		}
		n++;
		log_info(LS_IKE, "conn %s: rekeying the IKE SA (ipsecctl, "
			 "rekey %u)", name, e->rekeys + 1);
		ike_mgr_ent_check(m, e);
	}
	if (!n) {
		snprintf(msg, len, "connection '%s' has no IKE SA to rekey%s",
			 name, busy ? " (rekey under way)" : "");
		return busy ? ERR_EXISTS : ERR_NOTFOUND;
	}
	snprintf(msg, len, "rekeying the IKE SA of %s", name);
	return 0;
}

/* §2.8.3: replace e by a new IKE SA, then delete e. */
static void reauth_tick(struct ike_mgr *m, struct ike_ent *e, uint64_t now)
{
	struct ike_ent *n = e->reauth;
	struct ike_tx tx = {0};
	size_t i;

	if (n && !ent_listed(m, n))
		n = e->reauth = NULL;
	if (!e->reauth_started) {
		if (!e->rekey_at || now < e->rekey_at)
			return;
		if (!e->conn->life.reauth) {
			ike_rekey_tick(m, e, now);
			return;
		}
		log_info(LS_IKE, "conn %s: reauthenticating the IKE SA "
			 "(soft lifetime, rekey %u): new IKE SA first",
			 e->conn->name, e->rekeys + 1);
		e->reauth_started = now;
		if (ike_mgr_initiate_ike(m, e->conn) == 0 && m->ents &&
		    m->ents->conn == e->conn) {
			e->reauth = m->ents;
			e->reauth->rekeys = e->rekeys + 1;
			/* Its IKE_AUTH request is built later, when the
			 * IKE_SA_INIT answer comes. */
			e->reauth->sa->no_initial_contact = true;
		}
		return;
	}
	if (!n || !ike_ent_active(n)) {
		if (now >= e->reauth_started + REAUTH_GIVEUP_S ||
		    (n == NULL && now >= e->reauth_started + LIFE_RETRY_S)) {
			e->reauth_started = 0;
			e->reauth = NULL;
			e->rekey_at = now + LIFE_RETRY_S;
		}
		return;
	}
	if (n->sa->state != IKE_S_ESTABLISHED)
		return;
	/* The other connections on e move over with CREATE_CHILD_SA
	 * (§1.3.1), once each. */
	for (i = 0; i < IKE_KIDS_MAX; i++) {
		struct ike_kid *k = &e->kids[i];
		struct conn_cfg *c;

		if (!k->used || ike_sa_has_conn(n->sa, k->reqid))
			continue;
		c = conn_of(m, k->reqid);
		if (c && ike_sa_child_create(n->sa, &c->ike, &tx) == 0)
			log_info(LS_IKE, "conn %s: moving to the new IKE SA "
				 "(CREATE_CHILD_SA)", c->name);
		ike_mgr_send_tx(m, &tx);
	}
	ike_mgr_ent_check(m, n);
	for (i = 0; i < IKE_KIDS_MAX; i++)
		if (e->kids[i].used && !ike_ent_kid_of(n, e->kids[i].reqid) &&
		    now < e->reauth_started + REAUTH_GIVEUP_S)
			return;
	if (!n->established || now < n->established + REAUTH_DRAIN_S)
		return;
	log_info(LS_IKE, "conn %s: IKE SA reauthenticated; deleting the old "
		 "one", e->conn->name);
	e->replaced = true;
	if (ike_sa_delete(e->sa, &tx) == 0)
		ike_mgr_send_tx(m, &tx);
	ike_ent_child_down(e);
	e->dead_at = now;
}

bool ike_life_tick(struct ike_mgr *m, struct ike_ent *e, uint64_t now)
{
	struct daemon *d = m->d;
	const struct conn_life *l = &e->conn->life;
	struct ike_tx tx = {0};
	struct sa_stats st;
	uint64_t pk = 0;
	char why[96];
	size_t i;

	if (e->dead_at || e->sa->state != IKE_S_ESTABLISHED)
		return false;
	if (e->expire_at && now >= e->expire_at) {
		log_info(LS_IKE, "conn %s: deleting the IKE SA (hard "
			 "lifetime %llu s reached, %u reauthentications)",
			 e->conn->name, (unsigned long long)l->ike_lifetime,
			 e->rekeys);
		if (ike_sa_delete(e->sa, &tx) == 0)
			ike_mgr_send_tx(m, &tx);
		if (!conn_up_elsewhere(m, e, e->conn->ike.reqid) &&
		    e->conn->start == CONN_START_ON)
			e->conn->retry_at = now + 1;
		ike_ent_child_down(e);
		e->dead_at = now;
		return true;
	}
	/* Any inbound ESP counts as a sign of life (RFC 7296 §2.4: a
	 * liveness check is only needed when nothing came). */
	for (i = 0; i < IKE_KIDS_MAX; i++) {
		memset(&st, 0, sizeof(st));
		if (e->kids[i].used && e->kids[i].in_installed &&
		    d->ops->get_stats(d->dp, IPSEC_PROTO_ESP,
				      e->kids[i].in.spi, SA_DIR_IN, &st) == 0)
			pk += st.packets;
	}
	if (pk != e->rx_packets) {
		e->rx_packets = pk;
		e->last_rx = now;
	}
	if (l->dpd) {
		if (e->dpd_sent && ike_sa_req_pending(e->sa) &&
		    e->sa->cur_kind == IKE_REQ_LIVENESS &&
		    now >= e->dpd_sent + l->dpd_timeout) {
			snprintf(why, sizeof(why),
				 "DPD: no answer for %llu s",
				 (unsigned long long)(now - e->dpd_sent));
			ike_life_dead(m, e, why);
			return true;
		}
		if (!ike_sa_req_pending(e->sa) &&
		    now >= e->last_rx + l->dpd && now >= e->dpd_sent + l->dpd) {
			/* §2.4: an empty INFORMATIONAL request. */
			if (ike_sa_liveness(e->sa, &tx) == 0) {
				e->dpd_sent = now;
				log_dbg(LS_IKE, "conn %s: DPD: nothing from "
					"the peer for %llu s; liveness check",
					e->conn->name,
					(unsigned long long)(now - e->last_rx));
			}
			ike_mgr_send_tx(m, &tx);
			ike_mgr_ent_check(m, e);
		}
	}
	if (!e->reauth_started)
		kids_tick(m, e, now);
	reauth_tick(m, e, now);
	return e->dead_at != 0;
}

void ike_life_mgr_tick(struct ike_mgr *m, uint64_t now)
{
	struct conn_set *cs = m->d->conns;
	struct conn_cfg *c;
	struct ike_ent *e;
	bool up, busy;
	size_t i;

	for (i = 0; i < cs->n; i++) {
		c = &cs->conns[i];
		if (!c->retry_at || now < c->retry_at)
			continue;
		up = busy = false;
		for (e = m->ents; e; e = e->next) {
			if (!ike_ent_active(e) ||
			    !ike_sa_has_conn(e->sa, c->ike.reqid))
				continue;
			busy = true;
			if (e->sa->state == IKE_S_ESTABLISHED &&
			    ike_ent_kid_of(e, c->ike.reqid))
				up = true;
		}
		if (up) {
			c->retry_at = 0;
			continue;
		}
		c->retry_at = now + RESTART_RETRY_S;
		if (!busy) {
			log_info(LS_IKE, "conn %s: restarting", c->name);
			ike_mgr_initiate(m, c);
		}
	}
}
