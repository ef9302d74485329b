/* SPDX-License-Identifier: MIT */
/*
 * The SPD (RFC 4301 §4.4.1): an ordered list of policies per direction,
 * checked in priority order (lower first; equal priorities keep their
 * insertion order), first match wins.
 *
 * Storage is a sorted array per direction behind a rwlock: lookups take
 * it for reading (many workers in parallel), add/del for writing.  A
 * lookup copies the matching policy out, so no pointer into the SPD
 * escapes the lock.  Per-packet cost: a linear scan with prefix compares,
 * no allocation.
 */
#ifndef IPSECD_ESP_SPD_H
#define IPSECD_ESP_SPD_H

#include <stdbool.h>
#include <stdint.h>

#include "esp/ipsec.h"
#include "esp/sa.h"

struct spd;

/* Owned: free with spd_free(). */
int spd_new(struct spd **out);
void spd_free(struct spd *s);

/*
 * Add a policy (copied).  ERR_EXISTS if its id is taken, ERR_INVAL for a
 * selector whose prefixes are of mixed families or whose port range is
 * reversed.
 */
int spd_add(struct spd *s, const struct policy_params *p);
/* ERR_NOTFOUND if absent. */
int spd_del(struct spd *s, uint32_t id);
unsigned spd_count(struct spd *s);

/* true if f matches the policy's source and destination selectors. */
bool policy_match(const struct policy_params *p, const struct flow *f);

/*
 * First policy of direction dir that f matches, copied to *out (out may
 * be NULL).  ERR_NOTFOUND if none: the caller's default applies
 * (ipsecd: bypass, like the kernel without a matching policy).
 * Outbound: f is the cleartext packet to send.  Inbound: f is the packet
 * as received (cleartext) or the inner packet after decapsulation.
 */
int spd_lookup(struct spd *s, enum sa_dir dir, const struct flow *f,
	       struct policy_params *out);

/*
 * RFC 4301 §5.2 step 3a/4: may a packet that arrived in the clear (not
 * through an SA) be delivered?  0 if no inbound policy matches or the
 * first match is BYPASS; ERR_DROP if the first match is DROP or PROTECT
 * (protected traffic must not arrive in the clear).
 */
int spd_check_in_clear(struct spd *s, const struct flow *f);

#endif
