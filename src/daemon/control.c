/* SPDX-License-Identifier: MIT */
/*
 * Commands served on the control socket (docs/ctl.md): status of IKE and
 * manually keyed SAs, up/down of IKE connections (daemon/ike.c), and
 * reload of the config file (here and daemon/ike_reload.c).
 */
#include "daemon/daemon.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "ctl/json.h"
#include "daemon/ike.h"
#include "esp/sad.h"

static int ctl_status(const struct ctl_request *rq, struct ctl_reply *rp,
		      void *arg)
{
	struct daemon *d = arg;
	struct json *j = rp->json;
	uint64_t now = ipsec_now_s();
	const struct sa_params *p;
	struct sa_stats st;
	size_t i;

	json_obj_begin(j);
	json_kv_obj(j, "daemon");
	json_kv_str(j, "version", IPSECD_VERSION);
	json_kv_u64(j, "uptime", now - d->started);
	json_obj_end(j);
	json_kv_arr(j, "ike_sas");
	ike_mgr_status(d->ike, j, now);
	json_arr_end(j);
	json_kv_arr(j, "static_sas");
	for (i = 0; i < d->cfg->n_sas; i++) {
		p = &d->cfg->sas[i].p;
		/* A hard-expired SA is gone from the data plane. */
		if (d->ops->get_stats(d->dp, p->proto, p->spi, p->dir, &st))
			continue;
		ctl_json_static_sa(j, d->cfg->sas[i].name, p, &st, now);
	}
	json_arr_end(j);
	return json_obj_end(j);
}

/* rekey NAME: RFC 7296 §2.8 for each Child SA of the connection. */
static int ctl_rekey(const struct ctl_request *rq, struct ctl_reply *rp,
		     void *arg)
{
	struct daemon *d = arg;
	char msg[CTL_MAX_REASON];
	int r;

	if (!d->ike)
		return ctl_reply_error(rp, ERR_NOTFOUND,
				       "no IKE connection '%s'", rq->argv[1]);
	/* "ike": the IKE SA instead (§1.3.2, §2.18). */
	if (rq->argc == 3 && strcmp(rq->argv[2], "ike"))
		return ctl_reply_error(rp, ERR_INVAL, "rekey: unknown '%s'",
				       rq->argv[2]);
	r = rq->argc == 3
		    ? ike_mgr_rekey_ike(d->ike, rq->argv[1], msg, sizeof(msg))
		    : ike_mgr_rekey(d->ike, rq->argv[1], msg, sizeof(msg));
	if (r)
		return ctl_reply_error(rp, r, "%s", msg);
	json_obj_begin(rp->json);
	json_kv_str(rp->json, "message", msg);
	return json_obj_end(rp->json);
}

/* up/down: the IKE manager's message goes back either way. */
static int ctl_updown(const struct ctl_request *rq, struct ctl_reply *rp,
		      void *arg, bool up)
{
	struct daemon *d = arg;
	char msg[CTL_MAX_REASON];
	int r;

	if (!d->ike)
		return ctl_reply_error(rp, ERR_NOTFOUND,
				       "no IKE connection '%s' (the config "
				       "has no [conn] sections)", rq->argv[1]);
	r = up ? ike_mgr_up(d->ike, rq->argv[1], msg, sizeof(msg))
	       : ike_mgr_down(d->ike, rq->argv[1], msg, sizeof(msg));
	if (r)
		return ctl_reply_error(rp, r, "%s", msg);
	json_obj_begin(rp->json);
	json_kv_str(rp->json, "message", msg);
	return json_obj_end(rp->json);
}

static int ctl_up(const struct ctl_request *rq, struct ctl_reply *rp,
		  void *arg)
{
	return ctl_updown(rq, rp, arg, true);
}

static int ctl_down(const struct ctl_request *rq, struct ctl_reply *rp,
		    void *arg)
{
	return ctl_updown(rq, rp, arg, false);
}

/* Each [daemon] setting that differs: what a restart would apply. */
static size_t daemon_diff(const struct daemon *d, const struct daemon_conf *nc,
			  const char **what, size_t max)
{
	const struct daemon_cfg *a = &d->cfg->d, *b = &nc->cfg->d;
	size_t n = 0;

#define DIFF(cond, name)                       \
	do {                                   \
		if ((cond) && n < max)         \
			what[n++] = name;      \
	} while (0)
	DIFF(strcmp(a->tun, b->tun), "[daemon] tun");
	DIFF(a->path_mtu != b->path_mtu, "[daemon] path_mtu");
	DIFF(a->route_table != b->route_table, "[daemon] route_table");
	DIFF(a->fwmark != b->fwmark, "[daemon] fwmark");
	DIFF(a->keepalive_s != b->keepalive_s, "[daemon] keepalive");
	DIFF(a->workers != b->workers, "[daemon] workers");
	DIFF(strcmp(a->pid_file, b->pid_file), "[daemon] pid_file");
	DIFF(a->natt_port != b->natt_port, "[daemon] natt_port");
	DIFF(a->offload != b->offload, "[daemon] offload");
	DIFF(strcmp(d->user, nc->user), "[daemon] user");
	DIFF(strcmp(d->conns->keylog, nc->conns->keylog), "[daemon] keylog");
	DIFF(memcmp(d->manual_fp, nc->manual_fp, sizeof(d->manual_fp)),
	     "[sa]/[policy] sections");
	DIFF(!d->ike && nc->conns->n, "[conn] sections (ipsecd started "
				       "without any)");
#undef DIFF
	return n;
}

int daemon_reload(struct daemon *d, struct daemon_reload_result *res)
{
	struct daemon_conf nc;
	size_t i;
	int r = 0, off;

	memset(res, 0, sizeof(*res));
	log_info(LS_MAIN, "reload: reading %s", d->conf_path);
	if (daemon_conf_load(d->conf_path, &nc)) {
		snprintf(res->msg, sizeof(res->msg),
			 "%s has errors (the daemon's log names each "
			 "file:line); the running configuration is unchanged",
			 d->conf_path);
		log_err(LS_MAIN, "reload: %s", res->msg);
		return ERR_CONFIG;
	}
	res->n_what = daemon_diff(d, &nc, res->what,
				  sizeof(res->what) / sizeof(res->what[0]));
	for (i = 0; i < res->n_what; i++)
		log_warn(LS_MAIN, "reload: %s changed: not applied, the "
			 "running value stays (restart ipsecd to apply it)",
			 res->what[i]);
	if (d->ike) {
		/* The manager takes the new set over. */
		r = ike_mgr_reload(d->ike, nc.conns, &res->rc);
		nc.conns = NULL;
	}
	daemon_conf_free(&nc);
	off = snprintf(res->msg, sizeof(res->msg),
		       "reloaded: %u added, %u removed, %u changed, %u "
		       "unchanged%s%s", res->rc.added, res->rc.removed,
		       res->rc.changed, res->rc.unchanged,
		       res->rc.files ? " (some with new certificate files, "
				       "see the log)" : "",
		       res->rc.failed ? "; some could not be installed (see "
					"the log)" : "");
	for (i = 0; i < res->n_what && off > 0 &&
		    (size_t)off < sizeof(res->msg); i++)
		off += snprintf(res->msg + off, sizeof(res->msg) - (size_t)off,
				"%s%s", i ? ", " : "; restart to apply: ",
				res->what[i]);
	return r;
}

static int ctl_reload(const struct ctl_request *rq, struct ctl_reply *rp,
		      void *arg)
{
	struct daemon_reload_result res;
	size_t i;
	int r;

	r = daemon_reload(arg, &res);
	if (r)
		return ctl_reply_error(rp, r, "%s", res.msg);
	json_obj_begin(rp->json);
	json_kv_str(rp->json, "message", res.msg);
	json_kv_u64(rp->json, "added", res.rc.added);
	json_kv_u64(rp->json, "removed", res.rc.removed);
	json_kv_u64(rp->json, "changed", res.rc.changed);
	json_kv_u64(rp->json, "unchanged", res.rc.unchanged);
	json_kv_arr(rp->json, "restart_needed");
	for (i = 0; i < res.n_what; i++)
		json_str(rp->json, res.what[i]);
	json_arr_end(rp->json);
	/* Added last: docs/ctl.md only lets new keys come at the end. */
	json_kv_u64(rp->json, "new_cert_files", res.rc.files);
	return json_obj_end(rp->json);
}

const struct ctl_handler daemon_ctl_handlers[] = {
	{ "status", ctl_status, 0, 0, "status" },
	{ "up", ctl_up, 1, 1, "up NAME" },
	{ "down", ctl_down, 1, 1, "down NAME" },
	{ "rekey", ctl_rekey, 1, 2, "rekey NAME [ike]" },
	{ "reload", ctl_reload, 0, 0, "reload" },
	{ NULL, NULL, 0, 0, NULL },
};
