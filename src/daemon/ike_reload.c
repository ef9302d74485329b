/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl reload for the IKE manager: move from the running [conn] set
 * to a freshly loaded one without touching connections that did not
 * change (docs/ike.md, "Reload").
 *
 * A connection is the same when its section has the same keys and
 * values in the same order and the same PSK (conn_same(): a fingerprint
 * made by conn_load()).  Same: its IKE SA entries are re-pointed to the
 * new struct conn_cfg and it keeps its reqid, so its policies, routes,
 * IKE SA and Child SA stay exactly as they are.  Removed or changed: its
 * IKE SAs are deleted (RFC 7296 §1.4.1, a Delete to the peer), their
 * Child SAs, its policies and its routes removed; a changed one is then
 * installed again like an added one.  Only "start" may change without a
 * restart: it is not part of the fingerprint, and becoming "on" initiates
 * a connection that is down.
 */
#include "daemon/ike.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "config/conn.h"
#include "config/manual.h"
#include "daemon/daemon.h"
#include "daemon/ike_impl.h"
#include "dataplane/dp_io.h"
#include "dataplane/dp_user.h"
#include "ike/ike_pki.h"
#include "ike/ike_sa.h"

static bool prefix_same(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->len == b->len && addr_equal(&a->addr, &b->addr);
}

/* Does a connection of cs or a manual policy still route p into TUN? */
static bool route_needed(const struct daemon *d, const struct conn_set *cs,
			 const struct conn_cfg *skip, const struct ip_prefix *p)
{
	const struct manual_policy *mp;
	size_t i;
	uint8_t j;

	for (i = 0; i < cs->n; i++) {
		if (&cs->conns[i] == skip)
			continue;
		for (j = 0; j < cs->conns[i].ike.n_remote_ts; j++)
			if (prefix_same(&cs->conns[i].ike.remote_ts[j].net, p))
				return true;
	}
	for (i = 0; i < d->cfg->n_pols; i++) {
		mp = &d->cfg->pols[i];
		if (mp->p.dir == SA_DIR_OUT && mp->p.action != POLICY_DROP &&
		    prefix_same(&mp->p.dst.net, p))
			return true;
	}
	return false;
}

/*
 * Take c's policies and routes out; routes that a connection of cs or a
 * manual policy also uses stay (an added or changed one re-adds its own).
 */
static void conn_uninstall(struct ike_mgr *m, const struct conn_cfg *c,
			   const struct conn_set *cs)
{
	struct daemon *d = m->d;
	const struct ike_conn *ic = &c->ike;
	char pb[PREFIX_STRLEN];
	struct nl *nl = NULL;
	int ifindex = 0;
	uint8_t i, j;

	for (i = 0; i < ic->n_local_ts; i++)
		for (j = 0; j < ic->n_remote_ts; j++)
			if (ic->local_ts[i].net.addr.af ==
			    ic->remote_ts[j].net.addr.af)
				d->ops->del_policy(
					d->dp, ike_policy_id(ic->reqid, i, j));
	if (nl_open(&nl) || nl_ifindex(dp_ifname(d->dp), &ifindex)) {
		log_err(LS_IKE, "conn %s: cannot remove its routes (netlink)",
			c->name);
		goto out;
	}
	for (j = 0; j < ic->n_remote_ts; j++) {
		if (route_needed(d, cs, NULL, &ic->remote_ts[j].net))
			continue;
		if (nl_route(nl, false, &ic->remote_ts[j].net, ifindex,
			     d->cfg->d.route_table, NULL) == 0)
			log_info(LS_IKE, "conn %s: route %s removed", c->name,
				 prefix_fmt(&ic->remote_ts[j].net, pb,
					    sizeof(pb)));
	}
out:
	if (nl)
		nl_close(nl);
}

/*
 * A kept connection of the new set that may take over e, an IKE SA of
 * the removed or changed c that also carries other connections' Child
 * SAs: same peer as e's (addresses, IDs, PSK) and a Child SA in e.
 */
static struct conn_cfg *heir(struct ike_ent *e, const struct conn_cfg *c,
			     struct conn_set *ocs, struct conn_set *ncs)
{
	struct conn_cfg *o, *n;
	size_t i;

	for (i = 0; i < ncs->n; i++) {
		n = &ncs->conns[i];
		o = conn_find(ocs, n->name);
		if (o && o != c && conn_same(o, n) &&
		    ike_conn_same_peer(o, c) &&
		    ike_sa_has_conn(e->sa, o->ike.reqid))
			return n;
	}
	return NULL;
}

/*
 * Take the removed or changed connection c out of the IKE SAs.  An IKE
 * SA of c alone is deleted (RFC 7296 §1.4.1).  One that other kept
 * connections share (docs/ike.md, "Several Child SAs") stays: it passes
 * to one of them, and only c's Child SAs are deleted, as ipsecctl down
 * does.  Entries that still point at c (also failed or dying ones) go
 * now, because c is freed after the reload.
 */
static unsigned conn_down(struct ike_mgr *m, struct conn_cfg *c,
			  struct conn_set *ocs, struct conn_set *ncs)
{
	struct ike_ent *e, *next;
	struct conn_cfg *h;
	unsigned n = 0;

	for (e = m->ents; e; e = next) {
		next = e->next;
		if (e->conn == c) {
			h = NULL;
			if (!e->dead_at && e->sa->state == IKE_S_ESTABLISHED &&
			    ike_ent_shared(e, c))
				h = heir(e, c, ocs, ncs);
			if (!h) {
				ike_mgr_ent_drop(m, e);
				n++;
				continue;
			}
			/* The heir is re-pointed to its new conn_cfg with
			 * the other kept entries; until then it is the old
			 * one (same name and reqid). */
			e->conn = conn_find(ocs, h->name);
			log_info(LS_IKE,
				 "conn %s: its IKE SA stays for conn %s",
				 c->name, h->name);
		} else if (e->dead_at ||
			   !ike_sa_has_conn(e->sa, c->ike.reqid)) {
			continue;
		}
		n += ike_ent_delete_children(m, e, c);
	}
	return n;
}

/* Is c up or being set up in some IKE SA (its own or a shared one)? */
static bool conn_carried(struct ike_mgr *m, const struct conn_cfg *c)
{
	struct ike_ent *e;

	for (e = m->ents; e; e = e->next)
		if (ike_ent_active(e) &&
		    (e->conn == c || ike_sa_has_conn(e->sa, c->ike.reqid)))
			return true;
	return false;
}

static bool reqid_used(const struct conn_set *cs, size_t upto, uint32_t reqid)
{
	size_t i;

	for (i = 0; i < upto; i++)
		if (cs->conns[i].ike.reqid == reqid)
			return true;
	return false;
}

/*
 * reqids for the new set: a kept or changed connection keeps its own (its
 * policies and SAs carry it); an added one gets the lowest reqid that no
 * old and no new connection has, so nothing stale can match it.
 */
static void assign_reqids(struct conn_set *ocs, struct conn_set *ncs)
{
	struct conn_cfg *o;
	uint32_t r;
	size_t i;

	for (i = 0; i < ncs->n; i++) {
		o = conn_find(ocs, ncs->conns[i].name);
		ncs->conns[i].ike.reqid = o ? o->ike.reqid : 0;
	}
	for (i = 0; i < ncs->n; i++) {
		if (ncs->conns[i].ike.reqid)
			continue;
		for (r = CONN_REQID_BASE;; r++)
			if (!reqid_used(ocs, ocs->n, r) &&
			    !reqid_used(ncs, ncs->n, r))
				break;
		ncs->conns[i].ike.reqid = r;
	}
}

/*
 * A kept connection whose certificate files have new contents behind
 * unchanged lines (a renewed certificate, a new CRL or CA): n was loaded
 * from them, so new IKE SAs use them; the IKE SAs up stay, with what
 * they authenticated with, until they are reauthenticated (docs/ike.md,
 * "Reload").  One log line naming the files; true if any changed.
 */
static bool conn_files_new(struct ike_mgr *m, const struct conn_cfg *o,
			   const struct conn_cfg *n)
{
	static const char *const key[IKE_PKI_FILES] = {
		[IKE_PKI_CERT] = "cert",
		[IKE_PKI_KEY] = "key",
		[IKE_PKI_CA] = "ca",
		[IKE_PKI_CRL] = "crl",
	};
	const struct ike_pki *a = o->ike.pki, *b = n->ike.pki;
	const struct ike_ent *e;
	char what[1200];
	unsigned sas = 0;
	size_t off = 0;
	int i, k;

	if (!a || !b)
		return false;
	for (i = 0; i < IKE_PKI_FILES; i++) {
		if (!memcmp(a->files[i].sha256, b->files[i].sha256,
			    sizeof(a->files[i].sha256)))
			continue;
		k = snprintf(what + off, sizeof(what) - off, "%s%s %s",
			     off ? ", " : "", key[i], b->files[i].path);
		if (k > 0)
			off += (size_t)k < sizeof(what) - off
				       ? (size_t)k
				       : sizeof(what) - off - 1;
	}
	if (!off)
		return false;
	for (e = m->ents; e; e = e->next)
		if (e->conn == n && ike_ent_active(e))
			sas++;
	log_info(LS_IKE,
		 "conn %s: new contents in %s: used by new IKE SAs; %u IKE "
		 "SA%s up keep%s the old ones until reauthenticated",
		 n->name, what, sas, sas == 1 ? "" : "s", sas == 1 ? "s" : "");
	return true;
}

int ike_mgr_reload(struct ike_mgr *m, struct conn_set *ncs,
		   struct ike_reload_counts *rc)
{
	struct daemon *d = m->d;
	struct conn_set *ocs = d->conns;
	unsigned added = 0, removed = 0, changed = 0, kept = 0, failed = 0;
	unsigned files = 0;
	struct conn_cfg *o, *n;
	struct ike_ent *e;
	size_t i;

	assign_reqids(ocs, ncs);
	/* Removed and changed: down first, so that a changed connection
	 * can come back with the same reqid and policy ids. */
	for (i = 0; i < ocs->n; i++) {
		o = &ocs->conns[i];
		n = conn_find(ncs, o->name);
		if (n && conn_same(o, n))
			continue;
		conn_down(m, o, ocs, ncs);
		log_info(LS_IKE, "conn %s: %s by reload", o->name,
			 n ? "changed: restarted" : "removed");
		conn_uninstall(m, o, ncs);
		if (n)
			changed++;
		else
			removed++;
	}
	/* From here on, the new set is the configuration. */
	d->conns = ncs;
	m->cookie_threshold = ncs->cookie_threshold;
	/* Kept: re-point first, so that an added connection that shares
	 * their peer finds their IKE SAs under the new conn_cfg. */
	for (i = 0; i < ncs->n; i++) {
		n = &ncs->conns[i];
		o = conn_find(ocs, n->name);
		if (!o || !conn_same(o, n))
			continue;
		for (e = m->ents; e; e = e->next)
			if (e->conn == o)
				e->conn = n;
		/* A pending dpd_action/close_action (ike_life.c). */
		n->retry_at = o->retry_at;
		n->trapped = o->trapped;
		kept++;
		if (conn_files_new(m, o, n))
			files++;
	}
	for (i = 0; i < ncs->n; i++) {
		n = &ncs->conns[i];
		o = conn_find(ocs, n->name);
		if (o && conn_same(o, n))
			continue;
		if (!o) {
			added++;
			log_info(LS_IKE, "conn %s: added by reload", n->name);
		}
		if (ike_mgr_install_conn(m, n)) {
			failed++;
			continue;
		}
		if (n->start == CONN_START_ON)
			ike_mgr_initiate(m, n);
	}
	/* A kept start = on connection that is down now (it became
	 * start = on, or it lost a shared IKE SA above) is brought up. */
	for (i = 0; i < ncs->n; i++) {
		n = &ncs->conns[i];
		o = conn_find(ocs, n->name);
		if (o && conn_same(o, n) && n->start == CONN_START_ON &&
		    !conn_carried(m, n))
			ike_mgr_initiate(m, n);
	}
	conn_free(ocs);
	rc->added = added;
	rc->removed = removed;
	rc->changed = changed;
	rc->unchanged = kept;
	rc->failed = failed;
	rc->files = files;
	log_info(LS_IKE,
		 "reload: %u connections added, %u removed, %u changed, %u "
		 "unchanged%s%s",
		 added, removed, changed, kept,
		 files ? " (some with new certificate files)" : "",
		 failed ? "; some could not be installed" : "");
	return failed ? ERR_IO : 0;
}
