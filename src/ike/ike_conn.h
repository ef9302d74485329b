/* SPDX-License-Identifier: MIT */
/*
 * One configured IKEv2 connection: who we are, who the peer is, the
 * pre-shared key, proposals and traffic selectors.  A plain value: the
 * IKE SA copies it at creation.
 */
#ifndef IPSECD_IKE_IKE_CONN_H
#define IPSECD_IKE_IKE_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "esp/sa.h"
#include "ike/proposal.h"

#define IKE_ID_MAX 256
#define IKE_PSK_MAX 256
#define IKE_PORT 500
#define IKE_NATT_PORT 4500 /* RFC 3948 §2.2, RFC 7296 §2.23 */

/* An identity, RFC 7296 §3.5: type 0 means "not configured" (any). */
struct ike_id {
	uint8_t type; /* enum ikev2_id_type */
	uint8_t len;
	uint8_t data[IKE_ID_MAX - 1];
};

struct ike_conn {
	struct ip_addr local_addr;
	struct ip_addr remote_addr;
	uint16_t local_port;	 /* 0 = 500 */
	uint16_t remote_port;	 /* 0 = 500 */
	struct ike_id local_id;	 /* type 0: our address */
	struct ike_id remote_id; /* type 0: accept any peer ID */
	uint8_t psk[IKE_PSK_MAX];
	size_t psk_len;
	struct proposal_list ike;
	struct proposal_list esp;
	/* Our side and the peer's side of the Child SA (tunnel: subnets;
	 * transport: the hosts). */
	struct ts_sel local_ts[SA_MAX_TS];
	uint8_t n_local_ts;
	struct ts_sel remote_ts[SA_MAX_TS];
	uint8_t n_remote_ts;
	enum ipsec_mode mode;
	uint32_t reqid;
	/* Certificates (ike_pki.h); NULL: PSK both ways.  Shared and
	 * reference-counted: copies other than the IKE SA's borrow it. */
	struct ike_pki *pki;
};


#endif
