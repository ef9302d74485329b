/* SPDX-License-Identifier: MIT */
/*
 * Commands served on the control socket (docs/ctl.md): status of IKE and
 * manually keyed SAs, and up/down of IKE connections (daemon/ike.c).
 */
#include "daemon/daemon.h"

#include <stdio.h>

#include "common/err.h"
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

static int ctl_no_ike(const struct ctl_request *rq, struct ctl_reply *rp,
		      void *arg)
{
	struct daemon *d = arg;

	if (d->conns && conn_find(d->conns, rq->argv[1]))
		return ctl_reply_error(rp, ERR_UNSUPPORTED,
				       "rekeying is not supported yet: use "
				       "down and up");
	return ctl_reply_error(rp, ERR_NOTFOUND, "no IKE connection '%s'",
			       rq->argv[1]);
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

static int ctl_reload(const struct ctl_request *rq, struct ctl_reply *rp,
		      void *arg)
{
	/* Static SAs would have to be torn down to change keys; refuse
	 * rather than drop traffic.  IKE connections will reload. */
	return ctl_reply_error(rp, ERR_UNSUPPORTED,
			       "reload of manually keyed SAs is not supported: "
			       "restart ipsecd to change them");
}

const struct ctl_handler daemon_ctl_handlers[] = {
	{ "status", ctl_status, 0, 0, "status" },
	{ "up", ctl_up, 1, 1, "up NAME" },
	{ "down", ctl_down, 1, 1, "down NAME" },
	{ "rekey", ctl_no_ike, 1, 1, "rekey NAME" },
	{ "reload", ctl_reload, 0, 0, "reload" },
	{ NULL, NULL, 0, 0, NULL },
};
