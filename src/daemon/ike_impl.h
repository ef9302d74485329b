/* SPDX-License-Identifier: MIT */
/*
 * Internals of the IKE manager shared by the files of src/daemon that
 * implement it (ike.c: sockets, table, timers, Child SA hand-over, status).
 * Not for use outside the IKE manager.
 */
#ifndef IPSECD_DAEMON_IKE_IMPL_H
#define IPSECD_DAEMON_IKE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "config/conn.h"
#include "daemon/ike.h"
#include "esp/sa.h"
#include "ike/ike_sa.h"

#define IKE_HALF_OPEN_MAX 32 /* responder SAs before IKE_AUTH */
#define IKE_HALF_OPEN_S 30   /* a half-open SA is dropped after this */
#define IKE_RTX_TRIES 5	     /* RFC 7296 §2.1: then give up */
#define IKE_FAILED_KEEP_S 10 /* answer retransmissions, then free */
#define IKE_MSG_MAX 65535

/* One IKE SA and what it installed. */
struct ike_ent {
	struct ike_ent *next;
	struct conn_cfg *conn; /* borrowed from d->conns */
	struct ike_sa *sa;
	struct ike_mgr *m;
	enum ike_state seen; /* state when last looked at */
	uint64_t created, established;
	uint64_t next_rtx;
	unsigned tries;
	uint64_t dead_at; /* 0, or when to free it */
	bool ike_logged;  /* key log line written */
	bool child_installed;
	bool out_replaced; /* a newer Child SA took over outbound */
	struct sa_params child_in, child_out; /* keys wiped */
	uint64_t child_added;
};

/* What the worker thread queues for each datagram received on 4500. */
struct rx_hdr {
	struct ip_addr src, dst;
	uint16_t sport, dport;
};

struct ike_mgr {
	struct daemon *d;
	int fd4, fd6;	/* UDP port 500 */
	int q_rd, q_wr; /* socketpair: worker -> control thread */
	int keylog_fd;	/* -1 = off */
	struct ike_ent *ents;
	size_t n_policies;
	uint8_t *rxbuf; /* IKE_MSG_MAX + header */
};

/* "aes128gcm16-prfsha256-x25519"-style names of negotiated transforms. */
void ike_algs_fmt(const struct proposal_chosen *c, char *buf, size_t len);

#endif
