/* SPDX-License-Identifier: MIT */
/*
 * Anti-replay window (RFC 4303 §3.4.3, RFC 4302 §3.4.3) kept as a bitmap
 * ring (RFC 6479): the bit of sequence number s lives in word
 * (s / 64) mod n_words, bit s mod 64.  Advancing the window clears only
 * the words it skips, so both the check and the update are O(1) for any
 * window size.  One spare word beyond the window is kept, so a word is
 * never shared between the oldest and the newest part of the window.
 *
 * 64-bit Extended Sequence Numbers (RFC 4303 Appendix A): only the low
 * 32 bits travel; replay_check() infers the high half (Appendix A2.2).
 *
 * Use: replay_check() before the ICV is verified (cheap drop of replays,
 * and it yields the 64-bit number the ICV needs), replay_update() after
 * it verified (RFC 4303 §3.4.3: the window moves only for authenticated
 * packets).
 *
 * Thread safety: none inside.  A struct replay belongs to one SA and the
 * caller serialises check+update per SA; struct ipsec_sa does that with
 * its mutex (sad.h).  replay_update() re-checks, so a duplicate that got
 * past two concurrent pre-checks is still caught by the second update.
 */
#ifndef IPSECD_ESP_REPLAY_H
#define IPSECD_ESP_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "esp/sa.h"

#define REPLAY_WINDOW_MIN 32
/* Words in the ring: a power of two covering REPLAY_WINDOW_MAX + 64. */
#define REPLAY_RING_WORDS 128

struct replay {
	uint64_t top;	 /* highest authenticated seq (T), 64-bit */
	uint32_t window; /* W in packets; 0 = anti-replay off */
	uint32_t mask;	 /* ring words - 1 (power of two - 1) */
	bool esn;	 /* infer the high 32 bits (Appendix A2.2) */
	uint64_t ring[REPLAY_RING_WORDS];
};

/*
 * Set up an empty window.  window 0 turns the duplicate check off (the
 * ESN inference still runs); other values are clamped to
 * REPLAY_WINDOW_MIN..REPLAY_WINDOW_MAX.  top is the highest sequence
 * number to assume received: 0 normally, seq_hi << 32 to start an ESN SA
 * in a later epoch (known-answer tests).  ERR_INVAL if top is not
 * representable (above 2^32-1 without ESN).
 */
int replay_init(struct replay *r, uint32_t window, bool esn, uint64_t top);

/*
 * Pre-check of a received low-half sequence number.  On success *seq is
 * the full (inferred) 64-bit number.  ERR_REPLAY for a duplicate, a
 * number left of the window, sequence number 0 (never sent, RFC 4303
 * §3.3.3) or an inferred high half outside 0..2^32-1.  Reads only.
 */
int replay_check(const struct replay *r, uint32_t seq_lo, uint64_t *seq);

/*
 * Mark seq (from replay_check) as received and move the window if it is
 * new.  Call only after the ICV verified.  ERR_REPLAY if seq became a
 * duplicate or too old since the pre-check (a concurrent update).
 */
int replay_update(struct replay *r, uint64_t seq);

/* The window size in use (after clamping); 0 if off. */
static inline uint32_t replay_window(const struct replay *r)
{
	return r->window;
}

#endif
