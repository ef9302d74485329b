/* SPDX-License-Identifier: MIT */
/*
 * The responder's stateless front door for new IKE_SA_INIT requests
 * (RFC 7296 §2.6, §2.5, §2.21.1, §3.10.1).  Before a struct ike_sa is
 * made for a request from an unauthenticated peer, ike_init_gate():
 *
 *   - answers a request that does not parse with an unauthenticated
 *     error notify and keeps nothing: INVALID_MAJOR_VERSION for a major
 *     version above 2 (§2.5), UNSUPPORTED_CRITICAL_PAYLOAD with the
 *     payload type for an unknown critical payload (§2.5, §3.10.1),
 *     INVALID_SYNTAX for a malformed IKE_SA_INIT request (§2.21.1);
 *   - when the caller says cookies are required (too many half-open
 *     IKE SAs), answers a request without a valid COOKIE notify with a
 *     COOKIE notify (§2.6) and keeps nothing.
 *
 * Cookie (§2.6) = VersionIDofSecret (4 octets) | HMAC-SHA-256(secret,
 * Ni | IPi | SPIi): nothing of it needs to be remembered per peer, and
 * it does not cover the KE payload, so the same cookie stays valid when
 * the initiator retries with another group after INVALID_KE_PAYLOAD
 * (§2.6, the shorter exchange).  The 32-octet secret is random, replaced
 * every IKE_COOKIE_ROTATE_S; cookies made with the previous one are
 * still taken for IKE_COOKIE_GRACE_S after the change.
 *
 * One struct ike_cookies per daemon, used from one thread.  Everything a
 * peer causes here is counted in struct ike_gate_stats and logged at
 * debug level, rate-limited.
 */
#ifndef IPSECD_IKE_COOKIE_H
#define IPSECD_IKE_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "ike/ike_sa.h"

#define IKE_COOKIE_VERSION_LEN 4
#define IKE_COOKIE_LEN (IKE_COOKIE_VERSION_LEN + 32)
#define IKE_COOKIE_ROTATE_S 300 /* a new secret this often */
#define IKE_COOKIE_GRACE_S 60	/* the previous one is taken this long */

/* What the front door did, since ike_cookies_new(). */
struct ike_gate_stats {
	uint64_t screened;     /* requests looked at */
	uint64_t cookies_sent; /* COOKIE answers */
	uint64_t cookies_ok;   /* requests with a valid cookie */
	uint64_t cookies_bad;  /* a cookie that did not verify (§2.6:
				 * treated as absent) */
	uint64_t errors_sent;  /* INVALID_SYNTAX, UNSUPPORTED_CRITICAL_
				 * PAYLOAD, INVALID_MAJOR_VERSION answers */
	uint64_t dropped;      /* not answerable (a response, garbage) */
};

struct ike_cookies;

/* A jar with a fresh random secret; now is ipsec_now_s().  Owned:
 * ike_cookies_free(). */
int ike_cookies_new(uint64_t now, struct ike_cookies **out);
/* Wipes the secrets; NULL is a no-op. */
void ike_cookies_free(struct ike_cookies *c);
/* Rotate the secret if IKE_COOKIE_ROTATE_S passed; call once a second. */
int ike_cookies_tick(struct ike_cookies *c, uint64_t now);
/* Rotate now (tests; a daemon relies on ike_cookies_tick()). */
int ike_cookies_rotate(struct ike_cookies *c, uint64_t now);
/* Borrowed; valid while c lives. */
const struct ike_gate_stats *ike_cookies_stats(const struct ike_cookies *c);

/* The cookie for this initiator with the current secret (§2.6). */
int ike_cookie_make(struct ike_cookies *c, const uint8_t *ni, size_t ni_len,
		    const struct ip_addr *ipi, const uint8_t spi_i[IKE_SPI_LEN],
		    uint8_t out[IKE_COOKIE_LEN]);
/* 0 if cookie is one of ours for this initiator, made with the current
 * secret or the previous one within its grace time; else ERR_AUTH. */
int ike_cookie_verify(struct ike_cookies *c, const uint8_t *cookie, size_t len,
		      const uint8_t *ni, size_t ni_len,
		      const struct ip_addr *ipi,
		      const uint8_t spi_i[IKE_SPI_LEN]);

/*
 * Screen one datagram (UDP payload from src:sport to dst:dport, with the
 * non-ESP marker on 4500) that no IKE SA claims and that looks like a
 * new request.  0: go ahead and make an IKE SA for it.  ERR_DROP: make
 * none; tx may hold the stateless answer to send.  need_cookie: the
 * caller's half-open count reached its threshold.
 */
int ike_init_gate(struct ike_cookies *c, bool need_cookie, const uint8_t *udp,
		  size_t len, const struct ip_addr *src, uint16_t sport,
		  const struct ip_addr *dst, uint16_t dport, struct ike_tx *tx);

/*
 * An unauthenticated answer to request req holding one notify (RFC 7296
 * §2.21.1): same SPIs, exchange and message ID, R set, version 2.0;
 * from local:lport to remote:rport (non-ESP marker added on 4500).  No
 * IKE SA needed.
 */
int ike_plain_notify(const struct ikev2_hdr *req, uint16_t type,
		     const uint8_t *data, size_t data_len,
		     const struct ip_addr *local, uint16_t lport,
		     const struct ip_addr *remote, uint16_t rport,
		     struct ike_tx *tx);

#endif
