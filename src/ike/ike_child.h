/* SPDX-License-Identifier: MIT */
/*
 * The Child SAs of one IKE SA (RFC 7296 §1.3, §2.8, §2.17), as the pure
 * state machine of ike_sa.h keeps them: the first one made by IKE_AUTH,
 * more made by CREATE_CHILD_SA (x_child.c), rekeyed make-before-break
 * and deleted with INFORMATIONAL Deletes (x_info.c).
 *
 * The caller learns what to install through ike_child_ev_cb:
 *   IKE_CHILD_UP      both directions (a new Child SA, or the rekey
 *                     initiator's new pair): add both
 *   IKE_CHILD_UP_IN   the rekey responder's new pair: add the inbound SA
 *                     only; the outbound one follows with UP_OUT when the
 *                     initiator deletes the old pair (it has installed
 *                     its new inbound SA by then, §2.8)
 *   IKE_CHILD_UP_OUT  add the outbound SA announced with UP_IN
 *   IKE_CHILD_DOWN    remove both directions of c (by c->spi_in and
 *                     c->spi_out)
 * in/out are borrowed for the call (NULL where not given) and hold keys:
 * the callee copies what it needs.
 */
#ifndef IPSECD_IKE_IKE_CHILD_H
#define IPSECD_IKE_IKE_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp/sa.h"
#include "ike/ike_conn.h"
#include "ike/ikev2_wire.h"
#include "ike/proposal.h"

struct ke;

enum ike_child_state {
	IKE_CHILD_QUEUED,    /* ours: waiting for the IKE SA or the window */
	IKE_CHILD_CREATING,  /* ours: CREATE_CHILD_SA request out */
	IKE_CHILD_INSTALLED, /* both directions negotiated */
	IKE_CHILD_REKEYING,  /* we sent a rekey request for it */
	IKE_CHILD_REKEYED,   /* replaced by a new pair; the rekey initiator
			      * deletes it (§2.8) */
	IKE_CHILD_DELETING,  /* we sent a Delete for it */
};

/* New Child SAs one IKE SA accepts (then NO_ADDITIONAL_SAS, §3.10.1);
 * a rekey may briefly need one slot more per Child SA. */
#define IKE_CHILD_MAX 8
#define IKE_CHILD_SLOTS (2 * IKE_CHILD_MAX)

struct ike_child {
	enum ike_child_state state;
	uint32_t spi_in;  /* ours: the peer sends with it; host order */
	uint32_t spi_out; /* the peer's; 0 until known */
	struct proposal_chosen esp;
	struct ts_sel ts_l[SA_MAX_TS], ts_r[SA_MAX_TS]; /* ours, peer's */
	uint8_t n_l, n_r;
	enum ipsec_mode mode;
	uint32_t reqid;	       /* = conn.reqid: which connection */
	uint32_t rekeyed_from; /* spi_in of the pair this one replaced */
	uint32_t replaced_by;  /* spi_in of the pair that replaced it */
	bool out_installed;    /* UP or UP_OUT was given */
	/* The connection it belongs to (copy; the PSK is not kept). */
	struct ike_conn conn;
	/* Our CREATE_CHILD_SA request while it is out (§1.3). */
	uint8_t ni[IKEV2_NONCE_MAX];
	size_t ni_len;
	struct ke *ke;
	uint16_t ke_group;
	unsigned ke_retries;
	/* UP_IN given: the outbound SA waiting for UP_OUT (owned). */
	struct sa_params *out_pending;
	/* §2.8.1: the lower nonce of the exchange that made it, whether
	 * we started that exchange, and whether it lost a simultaneous
	 * rekey (the end that made it deletes it). */
	uint8_t nmin[IKEV2_NONCE_MAX];
	size_t nmin_len;
	bool ours;
	bool redundant;
};

enum ike_child_event {
	IKE_CHILD_UP,
	IKE_CHILD_UP_IN,
	IKE_CHILD_UP_OUT,
	IKE_CHILD_DOWN,
};

typedef void (*ike_child_ev_cb)(void *arg, enum ike_child_event ev,
				const struct ike_child *c,
				const struct sa_params *in,
				const struct sa_params *out);

struct ike_sa;

/*
 * Responder of CREATE_CHILD_SA (and of IKE_AUTH): the k-th connection
 * (k = 0, 1, ...) that may carry a Child SA with the peer of sa, besides
 * sa's own; NULL when there are no more.  Borrowed for the call.
 */
typedef const struct ike_conn *(*ike_conn_iter)(void *arg,
						const struct ike_sa *sa,
						size_t k);

#endif
