/* SPDX-License-Identifier: MIT */
/* Unit tests for the anti-replay window (esp/replay.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "esp/replay.h"

#define CHECK_EQ(i, j, got, want)                                         \
	do {                                                              \
		long long g_ = (long long)(got), w_ = (long long)(want);  \
		if (g_ != w_)                                             \
			fail_msg("case %u step %u: %s = %lld, want %lld", \
				 (unsigned)(i), (unsigned)(j), #got, g_, w_); \
	} while (0)

#define MAX_STEPS 12
#define HI(h) ((uint64_t)(h) << 32)

struct step {
	uint32_t lo;		/* sequence number on the wire */
	int want;		/* replay_check result */
	uint64_t seq;		/* inferred 64-bit number when accepted */
};

struct replay_case {
	const char *what;
	uint32_t window;
	bool esn;
	uint64_t top;		/* initial highest received */
	unsigned n;
	struct step s[MAX_STEPS];
};

/* Every accepted step is followed by replay_update(). */
static const struct replay_case cases[] = {
	/* 0 */ { "in order", 64, false, 0, 5,
		  { { 1, 0, 1 }, { 2, 0, 2 }, { 3, 0, 3 }, { 4, 0, 4 },
		    { 5, 0, 5 } } },
	/* 1 */ { "out of order", 64, false, 0, 6,
		  { { 5, 0, 5 }, { 3, 0, 3 }, { 4, 0, 4 }, { 1, 0, 1 },
		    { 2, 0, 2 }, { 6, 0, 6 } } },
	/* 2 */ { "duplicate", 64, false, 0, 5,
		  { { 1, 0, 1 }, { 2, 0, 2 }, { 2, ERR_REPLAY, 0 },
		    { 1, ERR_REPLAY, 0 }, { 3, 0, 3 } } },
	/* 3 */ { "too old, window 32", 32, false, 0, 4,
		  { { 100, 0, 100 }, { 68, ERR_REPLAY, 0 }, { 69, 0, 69 },
		    { 69, ERR_REPLAY, 0 } } },
	/* 4 */ { "window edge, 64", 64, false, 0, 5,
		  { { 64, 0, 64 }, { 1, 0, 1 }, { 65, 0, 65 },
		    { 1, ERR_REPLAY, 0 }, { 2, 0, 2 } } },
	/* 5 */ { "sequence number 0 is never valid", 64, false, 0, 2,
		  { { 0, ERR_REPLAY, 0 }, { 1, 0, 1 } } },
	/* 6 */ { "32-bit wrap refused without ESN", 64, false, 0xfffffff0u,
		  4,
		  { { 0xffffffffu, 0, 0xffffffffu },
		    { 0xffffffffu, ERR_REPLAY, 0 }, { 1, ERR_REPLAY, 0 },
		    { 0xfffffff1u, 0, 0xfffffff1u } } },
	/* 7 */ { "ESN: low half wraps into epoch 1", 64, true,
		  0xfffffff6u, 4,
		  { { 5, 0, HI(1) | 5 }, { 0xfffffff0u, 0, 0xfffffff0u },
		    { 0xfffffff0u, ERR_REPLAY, 0 }, { 6, 0, HI(1) | 6 } } },
	/* 8 */ { "ESN: start in epoch 5 (KAT style)", 64, true, HI(5), 3,
		  { { 1, 0, HI(5) | 1 }, { 1, ERR_REPLAY, 0 },
		    { 0x1235, 0, HI(5) | 0x1235 } } },
	/* 9 */ { "ESN: old part of window in previous epoch", 128, true,
		  HI(7) | 3, 4,
		  { { 0xffffffc0u, 0, HI(6) | 0xffffffc0u },
		    { 0xffffffc0u, ERR_REPLAY, 0 }, { 2, 0, HI(7) | 2 },
		    { 2, ERR_REPLAY, 0 } } },
	/* 10: A2.2 takes a number left of the window for the next epoch
	 * (its ICV then fails); it is not a replay by itself. */
	/* 10 */ { "ESN: left of the window means next epoch", 64, true,
		   HI(2) | 100, 4,
		   { { 200, 0, HI(2) | 200 }, { 150, 0, HI(2) | 150 },
		     { 150, ERR_REPLAY, 0 }, { 130, 0, HI(3) | 130 } } },
	/* 11 */ { "ESN: the 2^64 space runs out", 64, true,
		   HI(0xffffffffu) | 0xfffffff0u, 2,
		   { { 0xfffffff1u, 0, HI(0xffffffffu) | 0xfffffff1u },
		     { 3, ERR_REPLAY, 0 } } },
	/* 12 */ { "ESN: epoch 0 cannot go back", 64, true, 10, 2,
		   { { 0xfffffff0u, ERR_REPLAY, 0 }, { 9, 0, 9 } } },
	/* 13 */ { "window off: duplicates pass", 0, false, 0, 3,
		   { { 1, 0, 1 }, { 1, 0, 1 }, { 0, ERR_REPLAY, 0 } } },
	/* 14 */ { "small window clamped to 32", 8, false, 0, 3,
		   { { 40, 0, 40 }, { 10, 0, 10 }, { 8, ERR_REPLAY, 0 } } },
	/* 15 */ { "big jump clears the ring", 64, false, 0, 5,
		   { { 3, 0, 3 }, { 100000, 0, 100000 },
		     { 99999, 0, 99999 }, { 99937, 0, 99937 },
		     { 99936, ERR_REPLAY, 0 } } },
};

static void test_table(void **state)
{
	struct replay r;
	uint64_t seq;
	unsigned i, j;
	int got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct replay_case *c = &cases[i];

		CHECK_EQ(i, 0, replay_init(&r, c->window, c->esn, c->top), 0);
		for (j = 0; j < c->n; j++) {
			seq = 0;
			got = replay_check(&r, c->s[j].lo, &seq);
			CHECK_EQ(i, j, got, c->s[j].want);
			if (got)
				continue;
			CHECK_EQ(i, j, seq, c->s[j].seq);
			CHECK_EQ(i, j, replay_update(&r, seq), 0);
		}
	}
}

/* Window sizes 32, 64, 1024, 4096 (and odd ones): edges and wrap. */
static void test_sizes(void **state)
{
	static const uint32_t sizes[] = { 32, 64, 1024, 4096, 100, 1000 };
	struct replay r;
	uint64_t seq, top, k;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t w = sizes[i];

		assert_int_equal(replay_init(&r, w, false, 0), 0);
		assert_int_equal(replay_window(&r), w);
		top = (uint64_t)w * 3 + 17;
		assert_int_equal(replay_check(&r, (uint32_t)top, &seq), 0);
		assert_int_equal(replay_update(&r, seq), 0);
		/* The oldest number still inside, and the first outside. */
		CHECK_EQ(i, 0, replay_check(&r, (uint32_t)(top - w + 1), &seq),
			 0);
		CHECK_EQ(i, 1, replay_update(&r, seq), 0);
		CHECK_EQ(i, 2, replay_check(&r, (uint32_t)(top - w + 1), &seq),
			 ERR_REPLAY);
		CHECK_EQ(i, 3, replay_check(&r, (uint32_t)(top - w), &seq),
			 ERR_REPLAY);
		/* Fill the whole window, then every number is a dup. */
		for (k = top - w + 2; k < top; k++) {
			CHECK_EQ(i, 4, replay_check(&r, (uint32_t)k, &seq), 0);
			CHECK_EQ(i, 5, replay_update(&r, seq), 0);
		}
		for (k = top - w + 1; k <= top; k++)
			CHECK_EQ(i, 6, replay_check(&r, (uint32_t)k, &seq),
				 ERR_REPLAY);
		/* Slide by less than the window: the new part is clear. */
		CHECK_EQ(i, 7, replay_check(&r, (uint32_t)(top + w / 2), &seq),
			 0);
		CHECK_EQ(i, 8, replay_update(&r, seq), 0);
		for (k = top + 1; k < top + w / 2; k++)
			CHECK_EQ(i, 9, replay_check(&r, (uint32_t)k, &seq), 0);
		/* ESN with the same window across the 2^32 boundary. */
		assert_int_equal(replay_init(&r, w, true, 0xffffffffull - 5),
				 0);
		CHECK_EQ(i, 10, replay_check(&r, 20, &seq), 0);
		CHECK_EQ(i, 11, seq, HI(1) | 20);
		CHECK_EQ(i, 12, replay_update(&r, seq), 0);
		CHECK_EQ(i, 13, replay_check(&r, 0xfffffffeu, &seq), 0);
		CHECK_EQ(i, 14, seq, 0xfffffffeull);
		CHECK_EQ(i, 15, replay_update(&r, seq), 0);
		CHECK_EQ(i, 16, replay_check(&r, 0xfffffffeu, &seq),
			 ERR_REPLAY);
	}
}

/* A duplicate that passed two pre-checks is caught by the update. */
static void test_concurrent_update(void **state)
{
	struct replay r;
	uint64_t a, b;

	(void)state;
	assert_int_equal(replay_init(&r, 64, false, 0), 0);
	assert_int_equal(replay_check(&r, 7, &a), 0);
	assert_int_equal(replay_check(&r, 7, &b), 0);
	assert_int_equal(replay_update(&r, a), 0);
	assert_int_equal(replay_update(&r, b), ERR_REPLAY);
	/* And an update that became too old meanwhile. */
	assert_int_equal(replay_check(&r, 8, &a), 0);
	assert_int_equal(replay_check(&r, 1000, &b), 0);
	assert_int_equal(replay_update(&r, b), 0);
	assert_int_equal(replay_update(&r, a), ERR_REPLAY);
}

static void test_init_errors(void **state)
{
	struct replay r;

	(void)state;
	assert_int_equal(replay_init(&r, 64, false, HI(1)), ERR_INVAL);
	assert_int_equal(replay_init(&r, 100000, false, 0), 0);
	assert_int_equal(replay_window(&r), REPLAY_WINDOW_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_concurrent_update),
		cmocka_unit_test(test_init_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
