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

/* What the manager installed for one Child SA (keys wiped). */
struct ike_kid {
	bool used;
	/* Its connection, by value: a reload may free the conn_cfg. */
	uint32_t reqid;
	char name[CONN_NAME_MAX];
	struct sa_params in, out;
	bool in_installed, out_installed;
	bool out_replaced; /* a newer Child SA took over outbound */
	uint64_t added;	   /* when the inbound SA was installed */
};

#define IKE_KIDS_MAX IKE_CHILD_SLOTS

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
	struct ike_kid kids[IKE_KIDS_MAX]; /* !used = free */
	uint32_t rtx_req_id; /* sa->next_req_id when the timer started */
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
	/* RFC 7296 §2.6: the stateless front door for new IKE_SA_INIT
	 * requests (src/ike/cookie.h) and what it and handle() refused. */
	struct ike_cookies *cookies;
	unsigned cookie_threshold; /* half-open SAs before COOKIEs */
	uint64_t half_open_drops;  /* IKE_HALF_OPEN_MAX reached */
	uint64_t init_failed;	   /* requests refused by an IKE SA */
	uint64_t dos_logged_at;	   /* last summary line, ipsec_now_s() */
	uint64_t dos_logged_sum;   /* counters at that time */
};

/* ---- ike_child.c: Child SAs in the data plane ---- */
/* A Child SA's record by our inbound SPI, or NULL. */
struct ike_kid *ike_ent_kid(struct ike_ent *e, uint32_t spi_in);
/* Remove every Child SA of e from the data plane. */
void ike_ent_child_down(struct ike_ent *e);
/* The hooks of each IKE SA (ike_sa_set_hooks(), arg = the entry). */
void ike_ent_child_ev(void *arg, enum ike_child_event ev,
		      const struct ike_child *c, const struct sa_params *in,
		      const struct sa_params *out);
const struct ike_conn *ike_ent_conn_iter(void *arg, const struct ike_sa *sa,
					 size_t k);
/* May a and b share one IKE SA (same addresses, identities, PSK)? */
bool ike_conn_same_peer(const struct conn_cfg *a, const struct conn_cfg *b);
/* Does e carry (or make) a Child SA of a connection other than c? */
bool ike_ent_shared(const struct ike_ent *e, const struct conn_cfg *c);
/* Send a Delete for each Child SA of c in e; how many. */
unsigned ike_ent_delete_children(struct ike_mgr *m, struct ike_ent *e,
				 const struct conn_cfg *c);
/* ike.c, for ike_child.c */
void ike_mgr_send_tx(struct ike_mgr *m, struct ike_tx *tx);
void ike_mgr_ent_check(struct ike_mgr *m, struct ike_ent *e);
bool ike_ent_active(const struct ike_ent *e);
void ike_mgr_keylog(struct ike_mgr *m, const char *line);

/*
 * The id of a connection's outbound policy for local_ts[i] x remote_ts[j]:
 * fixed, so that a reload can remove exactly these (SA_MAX_TS^2 = 64).
 */
static inline uint32_t ike_policy_id(uint32_t reqid, unsigned i, unsigned j)
{
	return reqid * 64 + i * SA_MAX_TS + j;
}

/* ---- ike.c, for ike_reload.c ---- */
/* Install c's outbound policies and routes into TUN. */
int ike_mgr_install_conn(struct ike_mgr *m, struct conn_cfg *c);
/* Initiate c (logged either way). */
int ike_mgr_initiate(struct ike_mgr *m, struct conn_cfg *c);
/*
 * Send a Delete for e if it is established, remove its Child SAs, unlink
 * and free it now.
 */
void ike_mgr_ent_drop(struct ike_mgr *m, struct ike_ent *e);

/* "aes128gcm16-prfsha256-x25519"-style names of negotiated transforms. */
void ike_algs_fmt(const struct proposal_chosen *c, char *buf, size_t len);

#endif
