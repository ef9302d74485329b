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
 * Not implemented yet: COOKIE (§2.6; a COOKIE request ends the attempt),
 * IKE fragmentation (RFC 7383), certificates and EAP, CREATE_CHILD_SA
 * (rekeying, more Child SAs), Child SA Deletes and liveness beyond
 * acknowledging an INFORMATIONAL request (an IKE SA Delete is sent by
 * ike_sa_delete() and flagged in peer_deleted when received),
 * retransmission timers (the caller runs them and calls
 * ike_sa_retransmit()).
 *
 * Files: ike_sa.c (object, receive dispatch, NAT detection, IDs, traffic
 * selectors, Child SA output), x_init.c (IKE_SA_INIT), x_auth.c
 * (IKE_AUTH and the INFORMATIONAL that reports AUTHENTICATION_FAILED).
 */
#ifndef IPSECD_IKE_IKE_SA_H
#define IPSECD_IKE_IKE_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "esp/sa.h"
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

	/* The Child SA made with IKE_AUTH. */
	uint32_t child_spi;   /* ours (inbound), host order */
	bool initial_contact; /* peer sent INITIAL_CONTACT */
	bool child_up;
	bool peer_deleted; /* the peer sent a Delete of the IKE SA */
	uint64_t dropped;  /* datagrams dropped */
};

/*
 * New IKE SA for conn (copied).  initiator: call ike_sa_initiate() next;
 * else feed the first IKE_SA_INIT request to ike_sa_recv().  cb (may be
 * NULL) gets the Child SA.  Owned: ike_sa_free().
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

const char *ike_state_name(enum ike_state s);

/* ---- internal to src/ike (ike_sa.c, x_init.c, x_auth.c) ---- */

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
/* Derive the Child SA keys and hand both directions to the callback. */
int ike_sa_child_up(struct ike_sa *sa, const struct proposal_chosen *esp,
		    uint32_t peer_spi, const struct ts_sel *ts_l, uint8_t n_l,
		    const struct ts_sel *ts_r, uint8_t n_r,
		    enum ipsec_mode mode);

/* x_init.c */
int ike_init_build_request(struct ike_sa *sa, struct ike_tx *tx);
int ike_init_recv_request(struct ike_sa *sa, const uint8_t *msg_buf, size_t len,
			  const struct ikev2_msg *msg, struct ike_tx *tx);
int ike_init_recv_response(struct ike_sa *sa, const uint8_t *msg_buf,
			   size_t len, const struct ikev2_msg *msg,
			   struct ike_tx *tx);
/* x_auth.c */
int ike_auth_build_request(struct ike_sa *sa, struct ike_tx *tx);
int ike_auth_recv_request(struct ike_sa *sa, const struct ikev2_msg *inner,
			  struct ike_tx *tx);
int ike_auth_recv_response(struct ike_sa *sa, const struct ikev2_msg *inner,
			   struct ike_tx *tx);
int ike_info_recv_request(struct ike_sa *sa, const struct ikev2_msg *inner,
			  uint32_t id, struct ike_tx *tx);
/* An encrypted message with the payloads added by fill(). */
typedef int (*ike_fill_fn)(struct ike_sa *sa, struct ikev2_builder *b,
			   void *arg);
int ike_sa_send_sk(struct ike_sa *sa, struct ike_tx *tx, uint8_t exch,
		   bool response, uint32_t id, ike_fill_fn fill, void *arg);

#endif
