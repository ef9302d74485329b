/* SPDX-License-Identifier: MIT */
/*
 * IKEv2 connections: [conn NAME] sections and the IKE keys of [daemon]
 * (keylog, cookie_threshold).  See docs/ike.md for every key.
 *
 *   [conn office]
 *   local = 192.0.2.10
 *   remote = 192.0.2.20            ; or %any (responder only)
 *   auth = psk
 *   psk = file:/etc/ipsecd/office.psk
 *   local_ts = 198.51.100.0/24
 *   remote_ts = 203.0.113.0/24
 *   start = on                     ; on | trap | off
 *
 * Errors are logged as "file:line: [conn x] key: what is wrong (fix)";
 * conn_load() reports every error of the file, then fails.  It marks the
 * keys it reads as used, so it must run before manual_load(), which ends
 * with ini_check_unused().
 */
#ifndef IPSECD_CONFIG_CONN_H
#define IPSECD_CONFIG_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "config/conn_life.h"
#include "config/ini.h"
#include "ike/ike_conn.h"

#define CONN_NAME_MAX 64
#define CONN_REQID_BASE 0x20000 /* manual SAs use 0x10000 + i */

enum conn_start {
	CONN_START_OFF,	 /* only "ipsecctl up" or a peer starts it */
	CONN_START_TRAP, /* first packet for remote_ts starts it */
	CONN_START_ON,	 /* initiated when the daemon starts */
};

struct conn_cfg {
	char name[CONN_NAME_MAX];
	struct ike_conn ike; /* holds the PSK: wiped by conn_free() */
	bool remote_any;     /* remote = %any: responder only */
	enum conn_start start;
	uint8_t fingerprint[32]; /* the section's text and PSK (reload) */
	struct conn_life life;	 /* lifetimes, DPD (conn_life.h) */
	/* The IKE manager's state for dpd_action/close_action: initiate
	 * again at retry_at (0: no), or on the next packet (trapped). */
	uint64_t retry_at;
	bool trapped;
};

struct conn_set {
	struct conn_cfg *conns; /* owned array, file order */
	size_t n;
	char keylog[256]; /* [daemon] keylog; "" = off */
	/* [daemon] cookie_threshold: half-open IKE SAs from which a new
	 * IKE_SA_INIT must bring a COOKIE (RFC 7296 §2.6); 0 = always. */
	unsigned cookie_threshold;
};
#define CONN_COOKIE_THRESHOLD 10 /* its default */

/* Parse every [conn NAME] and [daemon] keylog and cookie_threshold.
 * Owned; ERR_CONFIG. */
int conn_load(struct ini *ini, struct conn_set **out);
/* By name; NULL if absent (borrowed). */
struct conn_cfg *conn_find(struct conn_set *cs, const char *name);
/*
 * Reload: true if b is a's section unchanged (same name, same keys and
 * values in the same order, same PSK, also when read from a file), not
 * counting "start".
 */
bool conn_same(const struct conn_cfg *a, const struct conn_cfg *b);
/*
 * An identity as strongSwan writes it (RFC 7296 §3.5): an IPv4 or IPv6
 * address; "vpn.example" or "@vpn.example" (FQDN); "user@example" or
 * "@@user" (RFC822_ADDR); "@#0a0b..." (KEY_ID, hex); a type prefix
 * "ipv4: ipv6: fqdn: dns: rfc822: email: userfqdn: keyid:" with text, or
 * with "#HEX" for binary; "%any" / "*" (type 0: any peer); a DN (a value
 * with '=', "C=CH, O=example, CN=gw-a", or "asn1dn:#30..." in hex) as
 * ID_DER_ASN1_DN (ike_pki.h).  On error *why is a phrase to put after
 * the value ("is not an IPv6 address").  0, ERR_INVAL, ERR_UNSUPPORTED.
 */
int conn_id_parse(const char *s, struct ike_id *id, const char **why);
/* Wipes the PSKs and frees; NULL is a no-op. */
void conn_free(struct conn_set *cs);

#endif
