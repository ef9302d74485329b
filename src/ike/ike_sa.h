/* SPDX-License-Identifier: MIT */
/*
 * The IKE SA: IKE_SA_INIT and IKE_AUTH with a pre-shared key (RFC 7296
 * §1.2, §2.15), both roles, as a pure state machine.  No sockets, no
 * timers: the caller feeds each received UDP payload with its addresses
 * and gets back the UDP payloads to send; when the first Child SA is
 * negotiated, its two directions arrive through a callback as struct
 * sa_params, ready for dp_ops.add_sa().
 *
 * Datagrams in and out are UDP payloads exactly as on the wire: on port
 * 4500 they begin with the four-zero-octet non-ESP marker (RFC 3948
 * §2.2), which ike_sa_recv() checks and strips and ike_tx adds.
 *
 * Message IDs (RFC 7296 §2.3) use a window of 1.  The responder keeps
 * its last response and sends it again, unchanged, when the request is
 * retransmitted (§2.1).  Anything that fails to parse, decrypt or verify
 * is dropped without any change of state (§2.21.1); it is logged
 * rate-limited and counted in ike_sa.dropped.
 *
 * COOKIE (§2.6): the initiator retries with the responder's cookie
 * (x_init.c); a responder asks for one in the stateless front door of
 * cookie.h, before any struct ike_sa exists.
 *
 * After IKE_AUTH: more Child SAs, rekeying and Deletes of Child SAs
 * with CREATE_CHILD_SA and INFORMATIONAL (ike_child.h), our requests one
 * at a time in a queue (§2.3), liveness requests (ike_sa_liveness()).
 * An IKE SA Delete is sent by ike_sa_delete() and flagged in
 * peer_deleted when received.
 *
 * Authentication (x_auth.c): a pre-shared key or a certificate on each
 * side, independently (conn.pki, ike_pki.h).
 *
 * Rekeying the IKE SA (§1.3.2, §2.18, x_rekey.c): ike_sa_rekey(), or a
 * peer's request; the new SA appears in rekeyed_to with the Child SAs.
 *
 * Not implemented yet: IKE fragmentation (RFC 7383), EAP, retransmission
 * timers (the caller runs them and calls ike_sa_retransmit()).
 *
 * Files: ike_sa.c (object, receive dispatch, NAT detection, IDs, traffic
 * selectors, Child SA bookkeeping, keys and events, the request queue),
 * x_init.c (IKE_SA_INIT), x_auth.c (IKE_AUTH), x_child.c
 * (CREATE_CHILD_SA), x_rekey.c (CREATE_CHILD_SA for the IKE SA),
 * x_info.c (INFORMATIONAL: Deletes, liveness, AUTHENTICATION_FAILED).
 */
#ifndef IPSECD_IKE_IKE_SA_H
#define IPSECD_IKE_IKE_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "esp/sa.h"
#include "ike/ike_child.h"
#include "ike/ike_conn.h"
#include "ike/ikev2_keymat.h"
#include "ike/ikev2_msg.h"
#include "ike/ikev2_sk.h"
#include "ike/proposal.h"

enum ike_state {
	IKE_S_IDLE,	 /* responder before a request; initiator
				 * before ike_sa_initiate() */
	IKE_S_INIT_SENT, /* initiator: IKE_SA_INIT request out */
	IKE_S_INIT_DONE, /* responder: IKE_SA_INIT answered */
	IKE_S_AUTH_SENT, /* initiator: IKE_AUTH request out */
	IKE_S_ESTABLISHED,
	IKE_S_FAILED, /* see ike_sa.error */
};

/* Datagrams to send (UDP payloads, owned). */
#define IKE_TX_MAX 2
struct ike_dgram_out {
	uint8_t *p;
	size_t len;
	struct ip_addr src, dst;
	uint16_t sport, dport;
};
struct ike_tx {
	size_t n;
	struct ike_dgram_out d[IKE_TX_MAX];
};
/* Free what a tx list holds; it may be reused afterwards. */
void ike_tx_clear(struct ike_tx *tx);

/* in: what the peer sends us; out: what we send.  Borrowed for the call. */
typedef void (*ike_child_cb)(void *arg, const struct sa_params *in,
			     const struct sa_params *out);

#define IKE_NONCE_LEN 32 /* RFC 7296 §2.10: at least half the PRF key */
#define IKE_QUEUE_MAX 16 /* our requests waiting for the window */
#define IKE_COOKIE_MAX 64 /* RFC 7296 §3.10.1: COOKIE data is 1-64 octets */

/* RFC 7427 §7 (IANA "IKEv2 Hash Algorithms"; 5 is RFC 8420), the values
 * of SIGNATURE_HASH_ALGORITHMS and bits of ike_sa.peer_sig_hashes. */
enum ike_hash_alg {
	IKE_HASH_SHA1 = 1,
	IKE_HASH_SHA2_256 = 2,
	IKE_HASH_SHA2_384 = 3,
	IKE_HASH_SHA2_512 = 4,
	IKE_HASH_IDENTITY = 5, /* Ed25519/Ed448 sign the data itself */
};

/*
 * How one side proved its identity in IKE_AUTH (RFC 7296 §2.15), for
 * ipsecctl status; method 0 until then.  An IKE SA rekey keeps it: it
 * does not authenticate again (§2.18).  Strings are "" for a PSK.
 */
struct ike_auth_info {
	uint8_t method;	   /* RFC 7296 §3.8 AUTH method */
	char key[32];	   /* the certificate's key: "ECDSA P-256" */
	char sig[32];	   /* signature algorithm: "ecdsa-sha256" */
	char subject[256]; /* the certificate's subject DN */
	char serial[48];   /* its serial, hex as openssl prints it */
};

struct ike_sa {
	struct ike_conn conn; /* copy */
	bool initiator;	      /* original initiator */
	enum ike_state state;
	uint16_t error;	   /* notify type that ended it, or 0 */
	const char *why;   /* static reason when FAILED */
	char detail[1024]; /* e.g. what each side offered (§2.7) */
	ike_child_cb child_cb;
	void *cb_arg;

	/* Where the peer is now (NAT may move it; RFC 7296 §2.23). */
	struct ip_addr local, remote;
	uint16_t lport, rport;
	bool nat_local, nat_remote; /* behind a NAT: us / the peer */

	uint8_t spi_i[IKE_SPI_LEN];
	uint8_t spi_r[IKE_SPI_LEN];
	struct proposal_chosen ike; /* negotiated IKE transforms */
	struct ke *ke;
	uint16_t ke_group; /* group of our KE payload */
	unsigned ke_retries;
	/* Initiator, x_init.c: the responder's cookie, sent first in every
	 * IKE_SA_INIT retry (RFC 7296 §2.6), and how often it asked. */
	uint8_t cookie[IKE_COOKIE_MAX];
	size_t cookie_len;
	unsigned cookie_tries;
	/* §2.21.1: an unauthenticated error notify answered IKE_SA_INIT;
	 * we keep waiting for a real answer for init_err_wait more
	 * retransmissions, then fail with it. */
	uint16_t init_err;
	unsigned init_err_wait;
	/* RFC 7427 §4: the peer's SIGNATURE_HASH_ALGORITHMS, bit n set for
	 * hash algorithm n (1 SHA1 .. 5 Identity); 0 if it sent none. */
	uint32_t peer_sig_hashes;
	/* RFC 7296 §3.7: the peer sent a CERTREQ (x_init.c, x_auth.c). */
	bool peer_certreq;
	uint8_t ni[IKEV2_NONCE_MAX];
	size_t ni_len;
	uint8_t nr[IKEV2_NONCE_MAX];
	size_t nr_len;
	/* The IKE_SA_INIT messages, as sent, for AUTH (§2.15). */
	uint8_t *init_req;
	size_t init_req_len;
	uint8_t *init_resp;
	size_t init_resp_len;
	struct ike_keys keys;
	struct ikev2_sk_ctx *sk;

	/* §2.3: next ID we send a request with / expect a request with. */
	uint32_t next_req_id;
	uint32_t next_peer_id;
	/* §2.1: our last encrypted request, for ike_sa_retransmit(). */
	uint8_t *req_cache;
	size_t req_cache_len;
	/* §2.1: the last response, for retransmitted requests. */
	uint8_t *resp_cache;
	size_t resp_cache_len;
	uint32_t resp_cache_id;
	bool has_resp_cache;

	/* Child SAs (ike_child.h); the first one comes with IKE_AUTH. */
	uint32_t auth_spi;    /* ours (inbound) in IKE_AUTH, host order */
	bool initial_contact; /* peer sent INITIAL_CONTACT */
	/* Set by the caller before ike_sa_initiate() when other IKE SAs
	 * with this peer stay (reauthentication, RFC 7296 §2.8.3): do not
	 * send INITIAL_CONTACT (§2.4), or the peer drops them at once. */
	bool no_initial_contact;
	bool peer_deleted; /* the peer sent a Delete of the IKE SA */
	struct ike_child *child[IKE_CHILD_SLOTS]; /* owned; NULL = free */
	ike_child_ev_cb ev_cb;
	ike_conn_iter conn_iter;
	void *hook_arg;
	/* Our requests after IKE_AUTH (§2.3: one at a time): the one out,
	 * and the ones waiting (IKE_REQ_*, with a Child SA's spi_in). */
	bool req_out;
	uint8_t req_exch; /* exchange of the request out */
	uint8_t cur_kind;
	uint32_t cur_spi;
	uint8_t q_kind[IKE_QUEUE_MAX];
	uint32_t q_spi[IKE_QUEUE_MAX];
	size_t q_n;
	uint64_t alive_acks; /* answers to ike_sa_liveness() */
	/* IKE SA rekey (x_rekey.c, §2.18): the new SA once made (owned
	 * until the caller takes it, then NULL again), and our request:
	 * out or queued, its nonce, KE, SPI and group, retries, failures. */
	struct ike_sa *rekeyed_to;
	bool rk_out;
	uint8_t rk_ni[IKE_NONCE_LEN];
	size_t rk_ni_len;
	struct ke *rk_ke;
	uint8_t rk_spi[IKE_SPI_LEN];
	uint16_t rk_group;
	unsigned rk_tries, rk_failed;
	/* §2.8.2 simultaneous IKE SA rekeying (x_rekey.c): the new SA of
	 * the peer's rekey, answered while ours was out (owned, no Child
	 * SAs yet); after the collision is resolved, the peer's redundant
	 * new SA, which the peer deletes (owned until the caller takes it
	 * to answer that Delete).  rk_replaced: the Child SAs moved. */
	struct ike_sa *rk_theirs;
	struct ike_sa *rk_loser;
	bool rk_replaced;
	unsigned rk_collisions, rk_won;
	struct ike_auth_info auth_local, auth_remote; /* x_auth.c */
	struct ike_id peer_id; /* the ID the peer proved (type 0: none yet) */
	uint16_t child_err;  /* last error notify about our Child SA */
	uint64_t dropped;  /* datagrams dropped */
};

/*
 * New IKE SA for conn (copied).  initiator: call ike_sa_initiate() next;
 * else feed the first IKE_SA_INIT request to ike_sa_recv().  cb (may be
 * NULL) gets each Child SA that comes up in both directions, unless
 * ike_sa_set_hooks() gave an event callback.  Owned: ike_sa_free().
 */
int ike_sa_new(const struct ike_conn *conn, bool initiator, ike_child_cb cb,
	       void *cb_arg, struct ike_sa **out);
void ike_sa_free(struct ike_sa *sa);

/* Initiator: build the IKE_SA_INIT request into tx. */
int ike_sa_initiate(struct ike_sa *sa, struct ike_tx *tx);

/*
 * Feed one received UDP payload (from src:sport to dst:dport).  Answers
 * go to tx.  0 when the datagram was processed (state may have moved to
 * FAILED on a notify), a negative ERR_* when it was dropped without a
 * change of state.
 */
int ike_sa_recv(struct ike_sa *sa, const uint8_t *udp, size_t len,
		const struct ip_addr *src, uint16_t sport,
		const struct ip_addr *dst, uint16_t dport, struct ike_tx *tx);

/*
 * Initiator side of §2.1: the caller's retransmission timer fired; send
 * the outstanding request again, byte for byte.  ERR_NOTFOUND if no
 * request is outstanding.
 */
int ike_sa_retransmit(struct ike_sa *sa, struct ike_tx *tx);

/*
 * Build an INFORMATIONAL request deleting this IKE SA (RFC 7296 §1.4.1)
 * into tx.  The caller tears down locally; the answer is not awaited.
 * ERR_INVAL unless ESTABLISHED.
 */
int ike_sa_delete(struct ike_sa *sa, struct ike_tx *tx);

/* ---- Child SAs (x_child.c, x_info.c; see ike_child.h) ---- */

/*
 * Hooks: ev gets every Child SA event (the ike_child_cb of ike_sa_new()
 * is then not called); iter (may be NULL) offers the other connections
 * with this peer to a responder.  arg goes to both.
 */
void ike_sa_set_hooks(struct ike_sa *sa, ike_child_ev_cb ev,
		      ike_conn_iter iter, void *arg);
/*
 * A new Child SA for conn (copied) over this IKE SA, RFC 7296 §1.3.1.
 * Sent at once when the IKE SA is established and no request of ours is
 * out, else queued (a queued one is sent when IKE_AUTH is done).
 * ERR_LIMIT when IKE_CHILD_MAX Child SAs exist or the queue is full;
 * ERR_INVAL on a FAILED IKE SA.
 */
int ike_sa_child_create(struct ike_sa *sa, const struct ike_conn *conn,
			struct ike_tx *tx);
/* Rekey the INSTALLED Child SA with our inbound SPI spi_in (§1.3.3,
 * §2.8); ERR_NOTFOUND if there is none, ERR_EXISTS if it is busy. */
int ike_sa_child_rekey(struct ike_sa *sa, uint32_t spi_in, struct ike_tx *tx);
/* Delete the Child SA with our inbound SPI spi_in (§1.4.1); its DOWN
 * event comes with the answer. */
int ike_sa_child_delete(struct ike_sa *sa, uint32_t spi_in,
			struct ike_tx *tx);
/*
 * Rekey the IKE SA (§1.3.2, §2.18) with CREATE_CHILD_SA; when the answer
 * comes, the new SA is in sa->rekeyed_to with all Child SAs (the caller
 * takes it, and deletes sa).  A peer's rekey is answered the same way.
 * ERR_EXISTS if ours is out; a refusal counts in rk_failed.
 */
int ike_sa_rekey(struct ike_sa *sa, struct ike_tx *tx);
/* The peer deleted sa while our colliding rekey was out (§2.25.2): the
 * peer's new SA (rk_theirs) takes the Child SAs, into rekeyed_to. */
void ike_sa_rekey_take_theirs(struct ike_sa *sa);
/* An empty INFORMATIONAL request (liveness check, §1.4, §2.4); each
 * answer counts in alive_acks.  ERR_INVAL unless ESTABLISHED. */
int ike_sa_liveness(struct ike_sa *sa, struct ike_tx *tx);
/* The Child SA with our inbound SPI spi_in, or NULL (borrowed). */
struct ike_child *ike_sa_child_find(const struct ike_sa *sa,
				    uint32_t spi_in);
/* Does a Child SA (any state) or the IKE_AUTH exchange belong to the
 * connection with this reqid? */
bool ike_sa_has_conn(const struct ike_sa *sa, uint32_t reqid);
/* Is a request of ours out (for the caller's retransmission timer)? */
bool ike_sa_req_pending(const struct ike_sa *sa);
const char *ike_child_state_name(enum ike_child_state s);

const char *ike_state_name(enum ike_state s);

/* An IKE SPI as "0x" and 16 hex digits, for logs and status. */
#define IKE_SPI_STRLEN (2 + 2 * IKE_SPI_LEN + 1)
const char *ike_spi_fmt(const uint8_t spi[IKE_SPI_LEN],
			char buf[IKE_SPI_STRLEN]);

/* ---- internal to src/ike (ike_sa.c and the x_*.c exchanges) ---- */

/* Nonces in the order of RFC 7296 §2.8.1 (collisions): octet by octet,
 * and a nonce that is a prefix of the other is the lower one.  <0, 0,
 * >0 like memcmp(). */
int ike_nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
		  size_t blen);

/* Queue a message for sending; adds the non-ESP marker on 4500. */
int ike_sa_queue(struct ike_sa *sa, struct ike_tx *tx, const uint8_t *msg,
		 size_t len);
/* Keep a copy of a response for retransmissions (§2.1). */
int ike_sa_cache_resp(struct ike_sa *sa, uint32_t id, const uint8_t *msg,
		      size_t len);
void ike_sa_fail(struct ike_sa *sa, uint16_t notify, const char *why);
/* Log something a peer caused: info level, rate-limited. */
void ike_sa_peer_log(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* The header of a message of ours. */
void ike_sa_hdr(const struct ike_sa *sa, struct ikev2_hdr *h, uint8_t exch,
		bool response, uint32_t id);
/* NAT_DETECTION_*_IP data, RFC 7296 §2.23: SHA-1(SPIi | SPIr | IP | port). */
int ike_natd_hash(const uint8_t spi_i[8], const uint8_t spi_r[8],
		  const struct ip_addr *a, uint16_t port, uint8_t out[20]);
/* Add both NAT detection notifies to a message. */
int ike_sa_add_natd(struct ike_sa *sa, struct ikev2_builder *b);
/* Check the peer's NAT detection notifies; sets nat_local/nat_remote. */
void ike_sa_check_natd(struct ike_sa *sa, const struct ikev2_msg *msg);
/* Our ID payload body data. */
void ike_sa_local_id(const struct ike_sa *sa, uint8_t *type,
		     const uint8_t **data, size_t *len);
/* Does a received ID match the configured remote ID? */
bool ike_sa_id_ok(const struct ike_sa *sa, const struct ikev2_id *id);
/*
 * RFC 7296 §2.9 narrowing: out = proposed ∩ configured.  0, or
 * ERR_NOTFOUND if nothing remains.
 */
int ike_ts_narrow(const struct ikev2_ts_list *proposed,
		  const struct ts_sel *conf, size_t n_conf, struct ts_sel *out,
		  uint8_t *n_out);
/* Configured selectors as wire selectors. */
void ike_ts_to_wire(const struct ts_sel *s, size_t n, struct ikev2_ts *w);
/* The IKE_AUTH Child SA (conn: the connection it belongs to, NULL for
 * sa->conn): record it, derive its keys, hand both directions over. */
int ike_sa_child_up(struct ike_sa *sa, const struct ike_conn *conn,
		    const struct proposal_chosen *esp, uint32_t peer_spi,
		    const struct ts_sel *ts_l, uint8_t n_l,
		    const struct ts_sel *ts_r, uint8_t n_r,
		    enum ipsec_mode mode);
/* A random SPI for an inbound SA (RFC 4303 §2.1: not 1..255), not used
 * by another Child SA of sa. */
int ike_new_child_spi(const struct ike_sa *sa, uint32_t *spi);

/* x_init.c */
int ike_init_build_request(struct ike_sa *sa, struct ike_tx *tx);
int ike_init_recv_request(struct ike_sa *sa, const uint8_t *msg_buf, size_t len,
			  const struct ikev2_msg *msg, struct ike_tx *tx);
int ike_init_recv_response(struct ike_sa *sa, const uint8_t *msg_buf,
			   size_t len, const struct ikev2_msg *msg,
			   struct ike_tx *tx);
/* The IKE_SA_INIT request again, for ike_sa_retransmit(); fails the SA
 * instead once an error notify has waited long enough (§2.21.1). */
int ike_init_retransmit(struct ike_sa *sa, struct ike_tx *tx);
/* x_auth.c */
int ike_auth_build_request(struct ike_sa *sa, struct ike_tx *tx);
int ike_auth_recv_request(struct ike_sa *sa, const struct ikev2_msg *inner,
			  struct ike_tx *tx);
int ike_auth_recv_response(struct ike_sa *sa, const struct ikev2_msg *inner,
			   struct ike_tx *tx);
/* A CERTREQ naming our trust anchors if we want the peer's certificate
 * (nothing otherwise). */
int ike_auth_add_certreq(struct ike_sa *sa, struct ikev2_builder *b);
/* x_child.c: CREATE_CHILD_SA (§1.3) */
/* Responder's choice (§2.7, §2.9) among sa->conn and the conn_iter
 * connections: the first whose selectors intersect the proposal, then
 * its proposals.  0 with *conn (borrowed for the call), the chosen
 * proposal and the narrowed selectors; else the notify to answer with
 * (NO_PROPOSAL_CHOSEN or TS_UNACCEPTABLE), as a positive number. */
int ike_child_select(struct ike_sa *sa, const struct ikev2_msg *m,
		     bool want_ke, uint16_t ke_group,
		     const struct ike_conn **conn, struct proposal_chosen *c,
		     struct ts_sel *ts_l, uint8_t *n_l, struct ts_sel *ts_r,
		     uint8_t *n_r);
int ike_child_recv_request(struct ike_sa *sa, const struct ikev2_msg *inner,
			   uint32_t id, struct ike_tx *tx);
int ike_child_recv_response(struct ike_sa *sa, const struct ikev2_msg *inner,
			    struct ike_tx *tx);
/* Send the next queued request of ours if the window is free. */
int ike_sa_kick(struct ike_sa *sa, struct ike_tx *tx);
/* Give an event to the hooks (or the legacy callback for UP). */
void ike_child_event(struct ike_sa *sa, enum ike_child_event ev,
		     const struct ike_child *c, const struct sa_params *in,
		     const struct sa_params *out);
/* Derive a Child SA's keys (§2.17; g_ir NULL without PFS) from the
 * nonces of the exchange we_init started or answered, and give ev. */
int ike_child_keys_up(struct ike_sa *sa, struct ike_child *c, bool we_init,
		      const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		      size_t nr_len, const uint8_t *g_ir, size_t g_ir_len,
		      enum ike_child_event ev);
/* Free a slot's Child SA (after DOWN), wiping it. */
void ike_child_remove(struct ike_sa *sa, struct ike_child *c);
/* A free slot with a new Child SA in state QUEUED for conn; NULL if
 * all slots are taken or on allocation failure. */
struct ike_child *ike_child_alloc(struct ike_sa *sa,
				  const struct ike_conn *conn);
/* Append a request kind for spi to the queue; ERR_LIMIT when full. */
int ike_sa_enqueue(struct ike_sa *sa, uint8_t kind, uint32_t spi,
		   bool front);
/* Send an encrypted request with the next message ID (§2.3) and mark
 * it out (kind, spi: what it is about). */
int ike_sa_send_req(struct ike_sa *sa, struct ike_tx *tx, uint8_t exch,
		    uint8_t kind, uint32_t spi,
		    int (*fill)(struct ike_sa *, struct ikev2_builder *,
				void *),
		    void *arg);
/* Build the CREATE_CHILD_SA request for a NEW or REKEY request. */
int ike_child_send_request(struct ike_sa *sa, uint8_t kind, uint32_t spi,
			   struct ike_tx *tx);
/* x_rekey.c: the IKE SA rekey (§2.18) */
int ike_rekey_recv_request(struct ike_sa *sa, const struct ikev2_msg *inner,
			   uint32_t id, struct ike_tx *tx);
int ike_rekey_send_request(struct ike_sa *sa, struct ike_tx *tx);
int ike_rekey_recv_response(struct ike_sa *sa, const struct ikev2_msg *inner,
			    struct ike_tx *tx);
/* x_info.c: INFORMATIONAL (§1.4) */
int ike_info_recv_request(struct ike_sa *sa, const struct ikev2_msg *inner,
			  uint32_t id, struct ike_tx *tx);
int ike_info_recv_response(struct ike_sa *sa, const struct ikev2_msg *inner,
			   struct ike_tx *tx);
/* Build the INFORMATIONAL request for a DELETE or LIVENESS request. */
int ike_info_send_request(struct ike_sa *sa, uint8_t kind, uint32_t spi,
			  struct ike_tx *tx);

/* Kinds of our requests after IKE_AUTH. */
enum {
	IKE_REQ_NONE,
	IKE_REQ_NEW,	  /* CREATE_CHILD_SA for a QUEUED Child SA */
	IKE_REQ_REKEY,	  /* CREATE_CHILD_SA with REKEY_SA */
	IKE_REQ_DELETE,	  /* INFORMATIONAL Delete of a Child SA */
	IKE_REQ_LIVENESS, /* empty INFORMATIONAL */
	IKE_REQ_DELETE_IKE,
	IKE_REQ_OTHER,	  /* e.g. AUTHENTICATION_FAILED */
	IKE_REQ_REKEY_IKE, /* CREATE_CHILD_SA for the IKE SA (§2.18) */
};
/* An encrypted message with the payloads added by fill(). */
typedef int (*ike_fill_fn)(struct ike_sa *sa, struct ikev2_builder *b,
			   void *arg);
int ike_sa_send_sk(struct ike_sa *sa, struct ike_tx *tx, uint8_t exch,
		   bool response, uint32_t id, ike_fill_fn fill, void *arg);

#endif
