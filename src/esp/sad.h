/* SPDX-License-Identifier: MIT */
/*
 * The SA runtime object and the SA database (RFC 4301 §4.4.2).
 *
 * struct ipsec_sa is built once from struct sa_params: crypto contexts
 * are created at add time and reused for every packet; the copy of the
 * keys in the params is wiped as soon as the contexts hold them.
 *
 * Locking:
 *  - Each SA has a mutex (sa->lock).  esp_encap/esp_decap/ah_encap/
 *    ah_decap take it themselves, briefly, around everything that
 *    touches mutable SA state: the outbound sequence counter, the replay
 *    window, the counters, the lifetime flags.  Callers never lock it
 *    for packet work; any number of worker threads may process packets
 *    of the same or of different SAs concurrently.
 *  - Crypto contexts are not thread-safe (crypto.h), so an SA holds a
 *    few sets of them (struct sa_crypto), each with its own mutex; the
 *    crypto work runs outside sa->lock on whichever set is free, so
 *    workers sharing one SA encrypt and decrypt in parallel.
 *  - The SAD has one rwlock: lookups take it for reading, add/update/del
 *    for writing.  A lookup returns a counted reference, so a worker may
 *    keep using an SA that keying deletes meanwhile; the SA is freed (and
 *    its keys wiped) when the last reference is dropped (ipsec_sa_put).
 */
#ifndef IPSECD_ESP_SAD_H
#define IPSECD_ESP_SAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "esp/replay.h"
#include "esp/sa.h"

/* Lifetime flags (RFC 4301 §4.4.2.1): returned by ipsec_sa_poll_life. */
#define SA_LIFE_SOFT 0x1u /* soft limit crossed: rekey */
#define SA_LIFE_HARD 0x2u /* hard limit crossed: SA unusable */

/* Context sets per SA: outbound SAs are shared by the TUN workers. */
#define SA_CRYPTO_SLOTS_OUT 4
#define SA_CRYPTO_SLOTS_IN 2
#define SA_CRYPTO_SLOTS 4

/* One set of crypto contexts for one SA, used by one thread at a time. */
struct sa_crypto {
	pthread_mutex_t lock;
	struct encr_ctx *encr;	 /* ESP cipher/AEAD, AH-GMAC; else NULL */
	struct integ_ctx *integ; /* separate integrity; else NULL */
};

struct ipsec_sa {
	/* Immutable after creation, except what sad_update() replaces
	 * (lifetimes, addresses, encap ports, ttl) under sa->lock. */
	struct sa_params p; /* copy; keys wiped after the contexts */
	struct sa_crypto cs[SA_CRYPTO_SLOTS];
	unsigned n_cs;	  /* sets in use */
	unsigned cs_next; /* atomic: where the next search starts */
	uint8_t iv_len;	  /* explicit IV bytes on the wire */
	uint8_t icv_len;  /* ESP ICV / AH authenticator bytes */
	uint8_t align;	  /* ESP: max(4, block); AH: 4 */
	bool aead;	  /* encr is a combined mode (incl. GMAC) */
	bool udp;	  /* RFC 3948 encapsulation on */

	pthread_mutex_t lock; /* guards everything below */
	struct replay replay; /* inbound */
	uint64_t seq_out;     /* outbound: last sequence number sent */
	struct sa_stats stats;
	unsigned life_hit;  /* SA_LIFE_* limits crossed */
	unsigned life_told; /* SA_LIFE_* already returned by poll */
	uint16_t ip_id;	    /* outbound IPv4 identification */

	/* SAD bookkeeping (sad.c only). */
	int refs;		     /* atomic */
	struct ipsec_sa *next_key;   /* chain by (proto, spi, dir) */
	struct ipsec_sa *next_reqid; /* chain of outbound SAs by reqid */
};

/*
 * Build an SA from p (copied).  Checks the algorithm/key/mode
 * combination: ESP needs encr (null allowed) and integ unless encr is
 * AEAD; AH needs integ, or an AES-GMAC encr (RFC 4543 AH), and no
 * udp-encap.  The replay window starts empty (ipsec_sa_set_replay_top
 * to start elsewhere).  ERR_INVAL / ERR_UNSUPPORTED / ERR_NOMEM /
 * ERR_CRYPTO.  Owned: one reference, dropped with ipsec_sa_put().
 */
int ipsec_sa_new(const struct sa_params *p, struct ipsec_sa **out);
/* Take another reference. */
void ipsec_sa_get(struct ipsec_sa *sa);
/* Drop a reference; the last one frees the SA.  NULL is a no-op. */
void ipsec_sa_put(struct ipsec_sa *sa);

/*
 * Start the inbound window with this highest-received number (ESN: use
 * seq_hi << 32 to start in that epoch).  ERR_INVAL if out of range.
 */
int ipsec_sa_set_replay_top(struct ipsec_sa *sa, uint64_t top);
/* Start the outbound counter: the next packet gets seq + 1 (tests). */
void ipsec_sa_set_seq_out(struct ipsec_sa *sa, uint64_t seq);

/* A consistent snapshot of the counters. */
void ipsec_sa_get_stats(struct ipsec_sa *sa, struct sa_stats *out);

/*
 * Lifetimes.  Byte and packet limits are checked on every packet: past
 * the hard limit, packets are refused with ERR_EXPIRED.  Time limits
 * are checked here.  Returns the SA_LIFE_* flags crossed since the last
 * call (each reported once), so the data plane can raise
 * DP_EV_SOFT_EXPIRE / DP_EV_HARD_EXPIRE exactly once; call it
 * periodically (e.g. each second) and after traffic.
 */
unsigned ipsec_sa_poll_life(struct ipsec_sa *sa, uint64_t now_s);
/* true once the hard lifetime ran out (or the sequence space did). */
bool ipsec_sa_is_dead(struct ipsec_sa *sa);

/* Monotonic seconds (CLOCK_MONOTONIC_COARSE): the clock used above. */
uint64_t ipsec_now_s(void);

/*
 * For esp.c/ah.c: a free set of crypto contexts, locked (waits for one
 * if all are busy); give it back with ipsec_sa_crypto_put().
 */
struct sa_crypto *ipsec_sa_crypto_get(struct ipsec_sa *sa);
static inline void ipsec_sa_crypto_put(struct sa_crypto *c)
{
	pthread_mutex_unlock(&c->lock);
}

/* What one outbound packet needs, taken under sa->lock. */
struct ipsec_tx {
	uint64_t seq;	    /* this packet's sequence number */
	struct ip_addr src; /* tunnel endpoints */
	struct ip_addr dst;
	uint16_t sport; /* RFC 3948 ports; both 0 = no UDP */
	uint16_t dport;
	uint8_t ttl;
	uint16_t id; /* outer IPv4 identification */
};

/*
 * For esp.c/ah.c: start one outbound packet of len bytes: lifetimes,
 * the next sequence number (RFC 4303 §3.3.3, RFC 4302 §3.3.2: the
 * counter never cycles; an SA close to the end turns soft-expired), and
 * a snapshot of the addresses.  ERR_EXPIRED.  Takes sa->lock itself.
 */
int ipsec_sa_tx_begin(struct ipsec_sa *sa, size_t len, struct ipsec_tx *tx);

/*
 * Record crossed lifetime limits (sa->lock held).  Atomic because
 * sad_lookup_out() reads the flags without the SA lock.
 */
static inline void ipsec_sa_mark_life(struct ipsec_sa *sa, unsigned flags)
{
	__atomic_fetch_or(&sa->life_hit, flags, __ATOMIC_RELAXED);
}

/*
 * For esp.c/ah.c, with sa->lock held: account one packet of len bytes
 * against the lifetimes and counters.  ERR_EXPIRED (nothing counted) if
 * the hard byte/packet limit is already reached.
 */
int ipsec_sa_account(struct ipsec_sa *sa, size_t len);

/*
 * sa_rx.c, for esp.c/ah.c.  ipsec_sa_drop (sa->lock held): count a drop
 * of reason r in the SA and log it rate-limited; returns r.  ERR_PROTO
 * and ERR_NOTFOUND (never this SA's packet) are not counted.
 * ipsec_sa_rx_finish (takes sa->lock): the end of every inbound packet:
 * move the window if authentic, then count the packet (len bytes) or the
 * drop.  ipsec_sa_check_ts: RFC 4301 §5.2, the decapsulated packet must
 * fit the SA's selectors (ERR_PERM).
 */
struct pkt;
int ipsec_sa_drop(struct ipsec_sa *sa, const char *what, int r, uint64_t seq);
int ipsec_sa_rx_finish(struct ipsec_sa *sa, size_t len, int r, bool authentic,
		       uint64_t seq, const char *what);
int ipsec_sa_check_ts(const struct ipsec_sa *sa, const struct pkt *pkt);

/* ---- The SAD ---- */

struct sad;

/* Owned: free with sad_free() (drops its references to every SA). */
int sad_new(struct sad **out);
void sad_free(struct sad *s);

/* Add an SA built from p.  ERR_EXISTS if (proto, spi, dir) is taken. */
int sad_add(struct sad *s, const struct sa_params *p);
/* Insert an SA built by the caller; the SAD takes its own reference. */
int sad_insert(struct sad *s, struct ipsec_sa *sa);
/*
 * Replace lifetimes, outer addresses, encap ports and ttl of the SA with
 * p's (proto, spi, dir) (MOBIKE, NAT change).  Keys, algorithms and mode
 * cannot change: ERR_INVAL if they differ.  ERR_NOTFOUND if absent.
 */
int sad_update(struct sad *s, const struct sa_params *p);
int sad_del(struct sad *s, enum ipsec_proto proto, uint32_t spi,
	    enum sa_dir dir);

/*
 * Lookups return a counted reference (drop with ipsec_sa_put), or NULL.
 * sad_lookup_out returns the newest outbound SA of reqid (the one added
 * last, i.e. the rekeyed one) that is not dead.
 */
struct ipsec_sa *sad_lookup(struct sad *s, enum ipsec_proto proto, uint32_t spi,
			    enum sa_dir dir);
static inline struct ipsec_sa *
sad_lookup_in(struct sad *s, enum ipsec_proto proto, uint32_t spi)
{
	return sad_lookup(s, proto, spi, SA_DIR_IN);
}
struct ipsec_sa *sad_lookup_out(struct sad *s, uint32_t reqid);

/* Counters of one SA.  ERR_NOTFOUND if absent. */
int sad_get_stats(struct sad *s, enum ipsec_proto proto, uint32_t spi,
		  enum sa_dir dir, struct sa_stats *out);

/*
 * Call fn for every SA (under the read lock: fn must not call back into
 * this SAD's add/update/del; collect and act afterwards).
 */
void sad_foreach(struct sad *s, void (*fn)(struct ipsec_sa *sa, void *arg),
		 void *arg);
/* Number of SAs. */
unsigned sad_count(struct sad *s);

#endif
