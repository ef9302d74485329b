/* SPDX-License-Identifier: MIT */
/* The daemon's state, shared by main.c and control.c. */
#ifndef IPSECD_DAEMON_DAEMON_H
#define IPSECD_DAEMON_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "config/conn.h"
#include "config/manual.h"
#include "ctl/ctl.h"
#include "daemon/ike.h"
#include "daemon/privdrop.h"
#include "dataplane/dp.h"

/* One reading of the config file (main.c): at start and at reload. */
struct daemon_conf {
	struct manual_cfg *cfg;		/* owned */
	struct conn_set *conns;		/* owned */
	char user[PRIVDROP_USER_MAX];	/* [daemon] user */
	uint8_t manual_fp[32];		/* the [sa] and [policy] sections */
};

/*
 * Read and check path: every error is logged as file:line.  0 and *dc
 * filled (free with daemon_conf_free()), or ERR_CONFIG / ERR_IO.
 */
int daemon_conf_load(const char *path, struct daemon_conf *dc);
void daemon_conf_free(struct daemon_conf *dc);

struct daemon {
	const char *conf_path;		/* -c FILE: reread by reload */
	char user[PRIVDROP_USER_MAX];	/* [daemon] user in effect */
	uint8_t manual_fp[32];		/* [sa]/[policy] running */
	struct manual_cfg *cfg;		/* owned */
	struct conn_set *conns;		/* owned: [conn] sections */
	struct ike_mgr *ike;		/* owned; NULL until created */
	struct dp *dp;			/* owned */
	const struct dp_ops *ops;	/* borrowed from dp */
	struct ctl_server *ctl;		/* owned; NULL until created */
	int ep, sig_fd, timer_fd;
	bool pid_written;
	uint64_t started;		/* ipsec_now_s() at start */
};

struct ike_mgr;

/*
 * Reread d->conf_path and apply it (control.c; docs/ike.md "Reload"):
 * ipsecctl reload and SIGHUP.  A file with errors changes nothing
 * (ERR_CONFIG).  msg is the answer's text either way.
 */
struct daemon_reload_result {
	struct ike_reload_counts rc;
	const char *what[16]; /* what needs a restart (static strings) */
	size_t n_what;
	char msg[CTL_MAX_REASON];
};
int daemon_reload(struct daemon *d, struct daemon_reload_result *res);

/* The control socket's command table (control.c). */
extern const struct ctl_handler daemon_ctl_handlers[];

#endif
