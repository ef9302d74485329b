/* SPDX-License-Identifier: MIT */
/*
 * Anti-replay window as a bitmap ring (RFC 6479) with RFC 4303
 * Appendix A2.2 ESN inference.  See replay.h.
 */
#include "esp/replay.h"

#include <string.h>

#include "common/err.h"

#define WORD_BITS 64u
#define WORD_SHIFT 6u

static uint32_t ring_words_for(uint32_t window)
{
	uint32_t need = (window + WORD_BITS - 1) / WORD_BITS + 1;
	uint32_t n = 1;

	/* RFC 6479 §2: one spare word so the oldest and the newest part
	 * of the window never share one; a power of two for the mask. */
	while (n < need)
		n <<= 1;
	return n;
}

int replay_init(struct replay *r, uint32_t window, bool esn, uint64_t top)
{
	memset(r, 0, sizeof(*r));
	if (!esn && top > UINT32_MAX)
		return ERR_INVAL;
	if (window) {
		if (window < REPLAY_WINDOW_MIN)
			window = REPLAY_WINDOW_MIN;
		if (window > REPLAY_WINDOW_MAX)
			window = REPLAY_WINDOW_MAX;
	}
	r->window = window;
	r->mask = ring_words_for(window ? window : 1) - 1;
	r->esn = esn;
	r->top = top;
	return 0;
}

/*
 * RFC 4303 Appendix A2.2: with T = Th || Tl the highest authenticated
 * number and W the window, the received low half s belongs to
 *   Tl >= W - 1:  Th if s >= Tl - W + 1, else Th + 1 (the window wrapped
 *                 ahead of us);
 *   Tl <  W - 1:  Th - 1 if s >= Tl - W + 1 (mod 2^32), i.e. it lies in
 *                 the part of the window still in the previous epoch,
 *                 else Th.
 * With anti-replay off (W = 0) the same rule with W = 1 applies.
 */
static int infer_hi(const struct replay *r, uint32_t seq_lo, uint32_t *hi)
{
	uint32_t th = (uint32_t)(r->top >> 32);
	uint32_t tl = (uint32_t)r->top;
	uint32_t w = r->window ? r->window : 1;
	uint32_t bottom = tl - w + 1; /* mod 2^32 on purpose */

	if (tl >= w - 1) {
		if (seq_lo >= bottom) {
			*hi = th;
			return 0;
		}
		if (th == UINT32_MAX)
			return ERR_REPLAY; /* 2^64 space used up */
		*hi = th + 1;
		return 0;
	}
	if (seq_lo >= bottom) {
		if (th == 0)
			return ERR_REPLAY; /* before the first epoch */
		*hi = th - 1;
		return 0;
	}
	*hi = th;
	return 0;
}

static bool bit_is_set(const struct replay *r, uint64_t seq)
{
	uint64_t w = r->ring[(seq >> WORD_SHIFT) & r->mask];

	return (w >> (seq & (WORD_BITS - 1))) & 1;
}

int replay_check(const struct replay *r, uint32_t seq_lo, uint64_t *seq)
{
	uint32_t hi = 0;
	uint64_t s;
	int err;

	if (r->esn) {
		err = infer_hi(r, seq_lo, &hi);
		if (err)
			return err;
	}
	s = (uint64_t)hi << 32 | seq_lo;
	/* RFC 4303 §3.3.3: the first packet carries 1; 0 is never sent. */
	if (s == 0)
		return ERR_REPLAY;
	*seq = s;
	if (!r->window || s > r->top)
		return 0;
	if (r->top - s >= r->window)
		return ERR_REPLAY; /* left of the window */
	if (bit_is_set(r, s))
		return ERR_REPLAY; /* duplicate */
	return 0;
}

int replay_update(struct replay *r, uint64_t seq)
{
	uint64_t cur, want, n;

	if (!r->window) {
		if (seq > r->top)
			r->top = seq;
		return 0;
	}
	if (seq > r->top) {
		/* RFC 6479 §2: clear the words the window slides over,
		 * at most the whole ring. */
		cur = r->top >> WORD_SHIFT;
		want = seq >> WORD_SHIFT;
		n = want - cur;
		if (n > (uint64_t)r->mask + 1)
			n = (uint64_t)r->mask + 1;
		while (n--) {
			cur++;
			r->ring[cur & r->mask] = 0;
		}
		r->top = seq;
	} else {
		if (r->top - seq >= r->window || bit_is_set(r, seq))
			return ERR_REPLAY;
	}
	r->ring[(seq >> WORD_SHIFT) & r->mask] |= (uint64_t)1
						  << (seq & (WORD_BITS - 1));
	return 0;
}
