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
#define IKE_RTX_FIRST_MS 1000 /* the first retransmission, at the least */
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
	/* Lifetimes (ike_life.c): when to rekey it and when it expires
	 * (ipsec_now_s(); 0 = never), why a rekey is due, how many rekeys
	 * led to it. */
	uint64_t rekey_at, expire_at;
	const char *rekey_why, *expire_why;
	unsigned rekeys;
	bool lingering; /* replaced: only the inbound SA, until expire_at */
	/* Responder of a new pair while another pair of the connection
	 * carries its outbound traffic: the new outbound SA, keys and all,
	 * until the peer shows it has the new inbound one (ike_child.c;
	 * owned, wiped when freed), and the latest time to install it. */
	struct sa_params *out_wait;
	uint64_t out_wait_until;
};

#define IKE_KIDS_MAX IKE_CHILD_SLOTS

/* IKE SAs are found by SPIi in a table of 2^IKE_SPI_HASH_BITS chains. */
#define IKE_SPI_HASH_BITS 10
#define IKE_SPI_BUCKETS (1u << IKE_SPI_HASH_BITS)

/* One IKE SA and what it installed. */
struct ike_ent {
	struct ike_ent *next, **pprev; /* m->ents (ike_mgr_ent_link) */
	struct ike_ent *spi_next;      /* its chain in m->spi_tab */
	bool spi_hashed;	       /* in m->spi_tab (SPIi set) */
	struct conn_cfg *conn; /* borrowed from d->conns */
	struct ike_sa *sa;
	struct ike_mgr *m;
	enum ike_state seen; /* state when last looked at */
	uint64_t created, established;
	uint64_t rtx_at_ms; /* mono_ms() of the next retransmission */
	unsigned tries;
	uint64_t dead_at; /* 0, or when to free it */
	bool ike_logged;  /* key log line written */
	struct ike_kid kids[IKE_KIDS_MAX]; /* !used = free */
	unsigned n_kids; /* kids[] used: lets scans over all SAs skip */
	uint32_t rtx_req_id; /* sa->next_req_id when the timer started */
	/* Lifetime and liveness (ike_life.c): reauthentication and expiry
	 * times (0 = none), the IKE SA that replaces this one, the last
	 * sign of life from the peer (IKE or ESP), the liveness check out. */
	uint64_t rekey_at, expire_at;
	unsigned rekeys;
	struct ike_ent *reauth;	 /* the new IKE SA (check it is listed) */
	uint64_t reauth_started; /* 0: none */
	bool replaced;		 /* superseded: its Delete is no close */
	uint64_t last_rx, rx_packets, dpd_sent;
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
	/* IKE SAs by SPIi.  The seed is secret so that a peer choosing
	 * SPIs cannot aim them all at one chain. */
	uint64_t spi_seed;
	struct ike_ent *spi_tab[IKE_SPI_BUCKETS];
};

/* ---- ike_child.c: Child SAs in the data plane ---- */
/* Install waiting outbound SAs of e whose time has come (each tick). */
void ike_ent_out_wait_tick(struct ike_ent *e, uint64_t now);
/* An outbound SA of reqid was removed: a waiting one takes over. */
void ike_mgr_out_gone(struct ike_mgr *m, uint32_t reqid);
/* A Child SA's record by our inbound SPI, or NULL. */
struct ike_kid *ike_ent_kid(struct ike_ent *e, uint32_t spi_in);
/* Remove every Child SA of e from the data plane. */
void ike_ent_child_down(struct ike_ent *e);
/* Remove one Child SA of e from the data plane and forget it. */
void ike_ent_kid_down(struct ike_ent *e, struct ike_kid *k);
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
/* List e in m->ents, and in the SPI table once its SPIi is set. */
void ike_mgr_ent_link(struct ike_mgr *m, struct ike_ent *e);
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

/* A new IKE SA for c, even if c has one (reauthentication). */
int ike_mgr_initiate_ike(struct ike_mgr *m, struct conn_cfg *c);

/* ---- ike_life.c: lifetimes, rekeys, DPD (docs/ike.md) ---- */
/* A Child SA was installed (k is its record, c the state machine's). */
void ike_life_kid_up(struct ike_ent *e, struct ike_kid *k,
		     const struct ike_child *c);
/* k was replaced by a rekey: remove its outbound SA now, the inbound
 * one a little later. */
void ike_life_linger(struct ike_ent *e, struct ike_kid *k);
/* Byte/packet limits of c into an SA about to be installed. */
void ike_life_sa_params(const struct conn_cfg *c, struct sa_params *p);
/* The IKE SA of e was established. */
void ike_life_established(struct ike_ent *e, uint64_t now);
/* One timer step for e; true if e is now being torn down. */
bool ike_life_tick(struct ike_mgr *m, struct ike_ent *e, uint64_t now);
/* Once per tick: restart connections (dpd_action/close_action). */
void ike_life_mgr_tick(struct ike_mgr *m, uint64_t now);
/* The peer of e is gone (DPD, no answer): why; apply dpd_action. */
void ike_life_dead(struct ike_mgr *m, struct ike_ent *e, const char *why);
/* e's IKE SA was rekeyed (sa->rekeyed_to, §2.18): a new entry takes it
 * and the Child SAs; e goes. */
void ike_life_rekeyed(struct ike_mgr *m, struct ike_ent *e);
/* e was established: INITIAL_CONTACT (§2.4) removes stale IKE SAs. */
void ike_life_initial_contact(struct ike_mgr *m, struct ike_ent *e);
/* The peer deleted e: apply close_action unless e was replaced. */
void ike_life_closed(struct ike_mgr *m, struct ike_ent *e);
/* e, which we initiated, failed before it was established: a start = on
 * connection is tried again later. */
void ike_life_setup_failed(struct ike_mgr *m, struct ike_ent *e);
/* The peer deleted Child SA c of e without a rekey (§1.4.1): apply
 * close_action if it was the last Child SA of its connection. */
void ike_life_child_closed(struct ike_mgr *m, struct ike_ent *e,
			   const struct ike_child *c);

/* "aes128gcm16-prfsha256-x25519"-style names of negotiated transforms. */
void ike_algs_fmt(const struct proposal_chosen *c, char *buf, size_t len);

#endif
