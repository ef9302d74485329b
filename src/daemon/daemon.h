/* SPDX-License-Identifier: MIT */
/* The daemon's state, shared by main.c and control.c. */
#ifndef IPSECD_DAEMON_DAEMON_H
#define IPSECD_DAEMON_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "config/conn.h"
#include "config/manual.h"
#include "ctl/ctl.h"
#include "dataplane/dp.h"

struct daemon {
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

/* The control socket's command table (control.c). */
extern const struct ctl_handler daemon_ctl_handlers[];

#endif
