/* SPDX-License-Identifier: MIT */
/*
 * The IKE manager: IKEv2 SAs for the [conn] sections, on the control
 * thread.  It owns the UDP port-500 sockets, receives port-4500 IKE from
 * the data plane's callback (queued through a socketpair, because the
 * callback runs on a worker thread), keeps a table of IKE SAs (struct
 * ike_sa from src/ike, a pure state machine), runs their retransmission
 * timers on the daemon's 1-s tick, and installs negotiated Child SAs into
 * the data plane through dp_ops.  See docs/ike.md.
 */
#ifndef IPSECD_DAEMON_IKE_H
#define IPSECD_DAEMON_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/json.h"
#include "dataplane/dp.h"

struct conn_set;
struct daemon;
struct ike_mgr;

/*
 * Open the port-500 sockets and the key log and register the port-4500
 * callback; call after dp_new() and before dp_start().  d->conns must be
 * loaded.  Owned: ike_mgr_free().
 */
int ike_mgr_new(struct daemon *d, struct ike_mgr **out);
/* Sends a Delete for established IKE SAs, removes their SAs, frees. */
void ike_mgr_free(struct ike_mgr *m);
/*
 * Install each connection's outbound policies and routes into TUN, add
 * the manager's fds to the epoll set ep, and initiate start = on.
 */
int ike_mgr_start(struct ike_mgr *m, int ep);
/* An epoll fd became readable: true if it was one of the manager's. */
bool ike_mgr_input(struct ike_mgr *m, int fd);
/* Once a second: retransmissions, half-open and failed SA cleanup. */
void ike_mgr_tick(struct ike_mgr *m);
/* An acquire from the data plane: true if it belongs to a [conn]. */
bool ike_mgr_acquire(struct ike_mgr *m, const struct dp_event *ev);
/* A soft (hard: true) byte/packet lifetime event of the data plane for
 * the SA spi: true if it is an IKE Child SA (rekeyed, or deleted). */
bool ike_mgr_expire(struct ike_mgr *m, bool hard, uint32_t spi);

/*
 * ipsecctl reload (ike_reload.c): switch to the connections of ncs (taken
 * over, owned by the daemon afterwards; the old set is freed).  Added
 * connections are installed and, with start = on, initiated; removed
 * ones are deleted; changed ones are deleted and started again;
 * unchanged ones keep their IKE and Child SAs.  0, or ERR_IO if some
 * connection could not be installed (logged; the others are applied).
 */
struct ike_reload_counts {
	unsigned added, removed, changed, unchanged, failed;
	unsigned files; /* unchanged ones with new certificate files */
};
int ike_mgr_reload(struct ike_mgr *m, struct conn_set *ncs,
		   struct ike_reload_counts *rc);

/* ipsecctl up/down NAME: 0 with msg, or a negative ERR_* with msg. */
int ike_mgr_up(struct ike_mgr *m, const char *name, char *msg, size_t len);
int ike_mgr_down(struct ike_mgr *m, const char *name, char *msg, size_t len);
/* ipsecctl rekey NAME: rekey each Child SA of the connection (RFC 7296
 * §2.8); 0 with msg, or a negative ERR_* with msg. */
int ike_mgr_rekey(struct ike_mgr *m, const char *name, char *msg, size_t len);
/* ipsecctl rekey --ike NAME: rekey its IKE SAs now (§1.3.2, §2.18). */
int ike_mgr_rekey_ike(struct ike_mgr *m, const char *name, char *msg,
		      size_t len);
/* The entries of the status "ike_sas" array (docs/ctl.md). */
void ike_mgr_status(struct ike_mgr *m, struct json *j, uint64_t now);

#endif
