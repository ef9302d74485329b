/* SPDX-License-Identifier: MIT */
/*
 * Lifetimes, rekeying and liveness of one [conn] (docs/ike.md, "Tunnels
 * that stay up"): ike_lifetime, child_lifetime, rekey_margin,
 * life_bytes, life_packets, dpd, dpd_timeout, dpd_action, close_action.
 * Parsed by conn_life_parse() from conn.c; a plain value.
 */
#ifndef IPSECD_CONFIG_CONN_LIFE_H
#define IPSECD_CONFIG_CONN_LIFE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/ini.h"

#define CONN_IKE_LIFETIME_S (4 * 3600)
#define CONN_CHILD_LIFETIME_S 3600
#define CONN_DPD_TIMEOUT_S 30

/* What to do when the peer is gone (DPD) or deleted the SA itself. */
enum conn_action {
	CONN_ACT_CLEAR,	  /* forget it (close_action "none") */
	CONN_ACT_RESTART, /* initiate again, retried until it works */
	CONN_ACT_TRAP,	  /* initiate on the next packet for remote_ts */
};

struct conn_life {
	uint64_t ike_lifetime;	 /* s; the IKE SA is reauthenticated at
				  * ike_lifetime - margin - jitter */
	uint64_t child_lifetime; /* s; hard limit, rekeyed before */
	uint64_t rekey_margin;	 /* s; 0: 10% of each lifetime */
	uint64_t life_bytes;	 /* hard, per direction; 0 = none */
	uint64_t life_packets;	 /* hard; 0 = none */
	uint64_t dpd;		 /* s of silence before a liveness check;
				  * 0 = off */
	uint64_t dpd_timeout;	 /* s without an answer: peer dead */
	enum conn_action dpd_action;
	enum conn_action close_action;
	bool reauth; /* replace the IKE SA by a new one (RFC 7296 §2.8.3)
		      * instead of rekeying it (§2.18) */
};

/*
 * Parse the lifetime keys of section s into l (defaults for absent
 * keys; dpd_action defaults by start, enum conn_start: 2 on: restart,
 * 1 trap: trap, 0 off: clear).  Errors are
 * logged as "file:line: [conn x] key: ..." and counted in *errs.
 */
void conn_life_parse(struct ini_section *s, const char *title, int start,
		     struct conn_life *l, int *errs);
/*
 * Seconds from now to rekey an SA of lifetime life: life - margin -
 * a random jitter of up to margin/2 (so both ends rarely start a rekey
 * at once, RFC 7296 §2.8.1).  Never below 1 s, never above life.
 */
uint64_t conn_life_rekey_after(const struct conn_life *l, uint64_t life);
const char *conn_action_name(enum conn_action a);

#endif
