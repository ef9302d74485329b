/* SPDX-License-Identifier: MIT */
/*
 * Test helper: the struct ike_conn the IKE unit tests give their two
 * peers.  The initiator is 192.0.2.1 and the responder 192.0.2.2 unless
 * fx_addrs() says otherwise; one tunnel-mode selector pair; the PSK,
 * or certificates when a pki part from fx_pki() is set as c->pki.  Any
 * bad input ends the running test through cmocka.
 */
#ifndef IPSECD_TESTS_IKE_CONN_FIXTURE_H
#define IPSECD_TESTS_IKE_CONN_FIXTURE_H

#include <stdbool.h>

#include "ike/cert.h"
#include "ike/ike_conn.h"
#include "ike/ike_pki.h"

/* A selector for prefix ("198.51.100.16/28"), any protocol, any port. */
void fx_ts(struct ts_sel *t, const char *prefix);

/*
 * Our address and the peer's: init is the initiator's address and resp
 * the responder's, so both sides pass the same two strings.
 */
void fx_addrs(struct ike_conn *c, bool initiator, const char *init,
	      const char *resp);

/*
 * Zero *c and fill it for one side: the default addresses above, the IKE
 * and ESP proposal strings (NULL: PROPOSAL_IKE_DEFAULT /
 * PROPOSAL_ESP_DEFAULT), the PSK (a string, without its NUL), our
 * selector local_ts and the peer's remote_ts (each side's own view, not
 * mirrored here), tunnel mode.  reqid, IDs and certificates stay zero
 * for the caller to set.
 */
void fx_conn(struct ike_conn *c, bool initiator, const char *ike,
	     const char *esp, const char *psk, const char *local_ts,
	     const char *remote_ts);

/*
 * A pki part for one side (owned: ike_pki_unref()).  With an issuer, our
 * own certificate (key type t, CN cn, SAN san, e.g. "DNS:gw-a.example")
 * signed by issuer/issuer_key; without, we authenticate with the PSK.
 * With trust, the peer's certificate must chain to it; without, the peer
 * uses the PSK.
 */
struct ike_pki *fx_pki(enum cert_key_type t, const char *cn, const char *san,
		       struct x509_st *issuer, struct evp_pkey_st *issuer_key,
		       struct x509_st *trust);

#endif
