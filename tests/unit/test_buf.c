/* SPDX-License-Identifier: MIT */
/* Unit tests for the bounds-checked reader and writer (common/buf.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"

/* Name the table row in every failure. */
#define CHECK_EQ(i, got, want)                                              \
	do {                                                                \
		long long g_ = (long long)(got), w_ = (long long)(want);    \
		if (g_ != w_)                                               \
			fail_msg("case %u: %s = %lld, want %lld",           \
				 (unsigned)(i), #got, g_, w_);              \
	} while (0)

static const uint8_t data[] = { 0x01, 0x02, 0x03, 0x04, 0x05,
				0x06, 0x07, 0x08, 0x09 };

enum op { GET_U8, GET_U16, GET_U24, GET_U32, GET_U64, GET_BYTES, GET_PTR,
	  SKIP, SUB, PEEK_U8, PEEK_U16, PEEK_U32 };

struct get_case {
	enum op op;
	size_t avail;	/* bytes of data the reader sees */
	size_t pre;	/* bytes skipped first */
	size_t n;	/* for BYTES/PTR/SKIP/SUB */
	int want;
	uint64_t val;	/* expected value on success */
};

static const struct get_case get_cases[] = {
	/* 0..4: empty input */
	{ GET_U8, 0, 0, 0, ERR_SHORT, 0 },
	{ GET_U16, 0, 0, 0, ERR_SHORT, 0 },
	{ GET_U32, 0, 0, 0, ERR_SHORT, 0 },
	{ GET_BYTES, 0, 0, 0, 0, 0 },		/* zero bytes of nothing */
	{ SUB, 0, 0, 0, 0, 0 },
	/* 5..11: one byte short */
	{ GET_U16, 1, 0, 0, ERR_SHORT, 0 },
	{ GET_U24, 2, 0, 0, ERR_SHORT, 0 },
	{ GET_U32, 3, 0, 0, ERR_SHORT, 0 },
	{ GET_U64, 7, 0, 0, ERR_SHORT, 0 },
	{ GET_BYTES, 4, 0, 5, ERR_SHORT, 0 },
	{ GET_PTR, 9, 1, 9, ERR_SHORT, 0 },
	{ SKIP, 9, 5, 5, ERR_SHORT, 0 },
	/* 12..20: exact fit */
	{ GET_U8, 1, 0, 0, 0, 0x01 },
	{ GET_U16, 2, 0, 0, 0, 0x0102 },
	{ GET_U24, 3, 0, 0, 0, 0x010203 },
	{ GET_U32, 4, 0, 0, 0, 0x01020304 },
	{ GET_U64, 8, 0, 0, 0, 0x0102030405060708ull },
	{ GET_BYTES, 9, 0, 9, 0, 0x01 },
	{ GET_PTR, 9, 4, 5, 0, 0x05 },
	{ SKIP, 9, 4, 5, 0, 0 },
	{ SUB, 9, 1, 8, 0, 0x02 },
	/* 21..24: declared lengths larger than what is left */
	{ SUB, 9, 0, 10, ERR_SHORT, 0 },
	{ SUB, 9, 8, 2, ERR_SHORT, 0 },
	{ SUB, 9, 0, SIZE_MAX, ERR_SHORT, 0 },
	{ GET_BYTES, 9, 1, SIZE_MAX, ERR_SHORT, 0 },
	/* 25..30: peeks never move the reader */
	{ PEEK_U8, 1, 0, 0, 0, 0x01 },
	{ PEEK_U16, 1, 0, 0, ERR_SHORT, 0 },
	{ PEEK_U16, 3, 1, 0, 0, 0x0203 },
	{ PEEK_U32, 3, 0, 0, ERR_SHORT, 0 },
	{ PEEK_U32, 9, 5, 0, 0, 0x06070809 },
	{ PEEK_U8, 9, 9, 0, ERR_SHORT, 0 },
};

static size_t op_width(const struct get_case *c)
{
	switch (c->op) {
	case GET_U8: return 1;
	case GET_U16: return 2;
	case GET_U24: return 3;
	case GET_U32: return 4;
	case GET_U64: return 8;
	case PEEK_U8: case PEEK_U16: case PEEK_U32: return 0;
	default: return c->n;
	}
}

static void test_getters(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(get_cases) / sizeof(get_cases[0]); i++) {
		const struct get_case *c = &get_cases[i];
		struct buf b, sub = { 0 };
		uint8_t u8 = 0xee, out[16];
		uint16_t u16 = 0xeeee;
		uint32_t u32 = 0xeeeeeeee;
		uint64_t u64 = 0, val = 0;
		const uint8_t *p = NULL;
		size_t before;
		int r = 0;

		buf_init(&b, data, c->avail);
		CHECK_EQ(i, buf_skip(&b, c->pre), 0);
		before = buf_pos(&b);
		switch (c->op) {
		case GET_U8: r = buf_get_u8(&b, &u8); val = u8; break;
		case GET_U16: r = buf_get_u16(&b, &u16); val = u16; break;
		case GET_U24: r = buf_get_u24(&b, &u32); val = u32; break;
		case GET_U32: r = buf_get_u32(&b, &u32); val = u32; break;
		case GET_U64: r = buf_get_u64(&b, &u64); val = u64; break;
		case GET_BYTES:
			/* Failing cases ask for more than out holds on
			 * purpose: nothing may be copied. */
			r = buf_get_bytes(&b, out, c->n);
			val = c->n ? out[0] : 0;
			break;
		case GET_PTR:
			r = buf_get_ptr(&b, &p, c->n);
			val = p ? p[0] : 0;
			break;
		case SKIP: r = buf_skip(&b, c->n); break;
		case SUB:
			r = buf_get_sub(&b, &sub, c->n);
			if (r == 0) {
				CHECK_EQ(i, buf_left(&sub), c->n);
				if (c->n)
					CHECK_EQ(i, buf_get_u8(&sub, &u8), 0);
				val = c->n ? u8 : 0;
			}
			break;
		case PEEK_U8: r = buf_peek_u8(&b, &u8); val = u8; break;
		case PEEK_U16: r = buf_peek_u16(&b, &u16); val = u16; break;
		case PEEK_U32: r = buf_peek_u32(&b, &u32); val = u32; break;
		}
		CHECK_EQ(i, r, c->want);
		if (r) {
			/* A failed getter leaves reader and output alone. */
			CHECK_EQ(i, buf_pos(&b), before);
			if (c->op == GET_U8 || c->op == PEEK_U8)
				CHECK_EQ(i, u8, 0xee);
			if (c->op == GET_U16 || c->op == PEEK_U16)
				CHECK_EQ(i, u16, 0xeeee);
			if (c->op == GET_U32 || c->op == GET_U24 ||
			    c->op == PEEK_U32)
				CHECK_EQ(i, u32, 0xeeeeeeee);
			if (c->op == GET_PTR)
				CHECK_EQ(i, p == NULL, 1);
			continue;
		}
		CHECK_EQ(i, buf_pos(&b), before + op_width(c));
		if (c->op != SKIP)
			CHECK_EQ(i, val, c->val);
	}
}

/*
 * A TLV inside a TLV: the inner declared length is checked against the
 * sub-reader, never the parent, and running out inside the sub-reader
 * does not move the parent.
 */
struct nest_case {
	uint8_t msg[12];
	size_t len;
	int outer;		/* result of the outer buf_get_sub */
	int inner;		/* result of the inner buf_get_sub */
	size_t parent_after;	/* parent position after everything */
};

static const struct nest_case nest_cases[] = {
	/* 0: outer len 4 holds inner len 2 + 2 bytes */
	{ { 4, 2, 0xaa, 0xbb, 0xcc }, 5, 0, 0, 5 },
	/* 1: inner declares 4 but the sub-reader has only 3 left, although
	 * the parent has more bytes after the outer TLV */
	{ { 4, 4, 0xaa, 0xbb, 0xcc, 0xdd, 0xee }, 7, 0, ERR_SHORT, 5 },
	/* 2: outer declares more than the message */
	{ { 9, 1, 0xaa }, 3, ERR_SHORT, 0, 1 },
	/* 3: outer len 0: the sub is empty, inner read fails */
	{ { 0, 1, 0xaa }, 3, 0, ERR_SHORT, 1 },
	/* 4: exact fit at both levels */
	{ { 2, 1, 0xaa }, 3, 0, 0, 3 },
	/* 5: inner 0-length inside outer 1 */
	{ { 1, 0 }, 2, 0, 0, 2 },
};

static void test_nested(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(nest_cases) / sizeof(nest_cases[0]); i++) {
		const struct nest_case *c = &nest_cases[i];
		struct buf b, outer, inner;
		uint8_t l1, l2, x;
		size_t opos;
		int r;

		buf_init(&b, c->msg, c->len);
		CHECK_EQ(i, buf_get_u8(&b, &l1), 0);
		r = buf_get_sub(&b, &outer, l1);
		CHECK_EQ(i, r, c->outer);
		if (r) {
			CHECK_EQ(i, buf_pos(&b), c->parent_after);
			continue;
		}
		if (buf_get_u8(&outer, &l2)) {
			CHECK_EQ(i, ERR_SHORT, c->inner);
			CHECK_EQ(i, buf_pos(&b), c->parent_after);
			continue;
		}
		opos = buf_pos(&outer);
		r = buf_get_sub(&outer, &inner, l2);
		CHECK_EQ(i, r, c->inner);
		if (r)
			CHECK_EQ(i, buf_pos(&outer), opos);
		/* Drain the sub-reader completely, then one read too many. */
		while (buf_get_u8(&outer, &x) == 0)
			;
		CHECK_EQ(i, buf_left(&outer), 0);
		CHECK_EQ(i, buf_get_u8(&outer, &x), ERR_SHORT);
		CHECK_EQ(i, buf_pos(&b), c->parent_after);
	}
}

static void test_rest_and_null(void **state)
{
	struct buf b, rest, sub;
	const uint8_t *p = data;
	uint8_t x;

	/* 0: buf_get_rest empties the parent */
	buf_init(&b, data, sizeof(data));
	assert_int_equal(buf_skip(&b, 3), 0);
	buf_get_rest(&b, &rest);
	assert_int_equal(buf_left(&b), 0);
	assert_int_equal(buf_left(&rest), 6);
	assert_int_equal(buf_get_u8(&rest, &x), 0);
	assert_int_equal(x, 0x04);
	/* 1: a NULL reader is empty whatever len says */
	buf_init(&b, NULL, 100);
	assert_int_equal(buf_left(&b), 0);
	assert_int_equal(buf_get_u8(&b, &x), ERR_SHORT);
	/* 2: zero-length reads from a NULL reader are fine */
	assert_int_equal(buf_get_ptr(&b, &p, 0), 0);
	assert_int_equal(buf_get_sub(&b, &sub, 0), 0);
	assert_int_equal(buf_left(&sub), 0);
	buf_get_rest(&b, &rest);
	assert_int_equal(buf_left(&rest), 0);
}

/* Fixed writer: overflow is ERR_NOSPACE and sticky. */
static void test_fixed_writer(void **state)
{
	static const struct {
		size_t cap;
		size_t puts;	/* number of u16 puts */
		int want;
		size_t len;
	} cases[] = {
		{ 0, 0, 0, 0 },
		{ 0, 1, ERR_NOSPACE, 0 },
		{ 1, 1, ERR_NOSPACE, 0 },
		{ 2, 1, 0, 2 },
		{ 7, 3, 0, 6 },
		{ 7, 4, ERR_NOSPACE, 6 },
		{ 8, 4, 0, 8 },
	};
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t mem[16];
		struct wbuf w;
		size_t at;
		int r = 0;

		memset(mem, 0x55, sizeof(mem));
		wbuf_init_fixed(&w, mem, cases[i].cap);
		for (k = 0; k < cases[i].puts && !r; k++)
			r = wbuf_put_u16(&w, (uint16_t)(0x0102 + k));
		CHECK_EQ(i, r, cases[i].want);
		CHECK_EQ(i, w.err, cases[i].want);
		CHECK_EQ(i, w.len, cases[i].len);
		/* Nothing past cap was touched. */
		CHECK_EQ(i, mem[cases[i].cap], 0x55);
		if (!r)
			continue;
		/* Sticky: even a put that would fit now fails. */
		CHECK_EQ(i, wbuf_put_bytes(&w, "", 0), cases[i].want);
		CHECK_EQ(i, wbuf_put_u8(&w, 1), cases[i].want);
		CHECK_EQ(i, wbuf_reserve(&w, 0, &at), cases[i].want);
		CHECK_EQ(i, wbuf_patch_u8(&w, 0, 1), cases[i].want);
		CHECK_EQ(i, w.len, cases[i].len);
		wbuf_free(&w);	/* safe on a fixed writer */
	}
}

static void test_fixed_writer_null(void **state)
{
	struct wbuf w;
	size_t at = 99, len;

	wbuf_init_fixed(&w, NULL, 64);
	assert_int_equal(w.cap, 0);
	assert_int_equal(wbuf_put_bytes(&w, NULL, 0), 0);
	assert_int_equal(wbuf_reserve(&w, 0, &at), 0);
	assert_int_equal(at, 0);
	assert_int_equal(wbuf_put_u8(&w, 1), ERR_NOSPACE);
	/* A fixed writer's memory is the caller's: no steal. */
	assert_null(wbuf_steal(&w, &len));
	assert_int_equal(len, 0);
}

static void test_grow_writer(void **state)
{
	static const size_t initial[] = { 0, 1, 3, 64, 4096 };
	size_t i, k, len;
	uint8_t *p;

	for (i = 0; i < sizeof(initial) / sizeof(initial[0]); i++) {
		struct wbuf w;

		CHECK_EQ(i, wbuf_init(&w, initial[i]), 0);
		/* 0..9999 as u32, then a byte run: many reallocations. */
		for (k = 0; k < 10000; k++)
			CHECK_EQ(i, wbuf_put_u32(&w, (uint32_t)k), 0);
		CHECK_EQ(i, wbuf_put_zero(&w, 3), 0);
		CHECK_EQ(i, wbuf_put_u64(&w, 0x1122334455667788ull), 0);
		CHECK_EQ(i, wbuf_put_u24(&w, 0xabcdef), 0);
		CHECK_EQ(i, w.len, 40000 + 3 + 8 + 3);
		CHECK_EQ(i, w.cap >= w.len, 1);
		for (k = 0; k < 10000; k++)
			CHECK_EQ(i, be32_load(w.p + 4 * k), k);
		CHECK_EQ(i, w.p[40003], 0x11);
		CHECK_EQ(i, w.p[40010], 0x88);
		CHECK_EQ(i, w.p[40011], 0xab);
		CHECK_EQ(i, w.p[40013], 0xef);
		p = wbuf_steal(&w, &len);
		CHECK_EQ(i, p != NULL, 1);
		CHECK_EQ(i, len, 40014);
		CHECK_EQ(i, w.p == NULL && w.len == 0 && w.cap == 0, 1);
		CHECK_EQ(i, be32_load(p + 4 * 9999), 9999);
		free(p);
		/* The emptied writer still works and frees cleanly. */
		CHECK_EQ(i, wbuf_put_u8(&w, 7), 0);
		CHECK_EQ(i, w.len, 1);
		wbuf_free(&w);
		wbuf_free(&w);
	}
	wbuf_free(NULL);
}

/* reserve + patch: lengths up to the field's range, offsets in range. */
static void test_patch(void **state)
{
	static const struct {
		size_t body;	/* bytes after the length field */
		int bits;	/* 16 or 32 */
		size_t from_delta; /* from = at + from_delta */
		int want;
		uint32_t val;
	} cases[] = {
		{ 0, 16, 0, 0, 2 },		/* counts itself */
		{ 0, 16, 2, 0, 0 },
		{ 0xfffd, 16, 0, 0, 0xffff },	/* exactly 0xffff */
		{ 0xfffe, 16, 0, ERR_OVERFLOW, 0 }, /* 0x10000 */
		{ 0xffff, 16, 2, 0, 0xffff },
		{ 0x10000, 16, 2, ERR_OVERFLOW, 0 },
		{ 0x10000, 32, 4, 0, 0x10000 },
		{ 5, 32, 0, 0, 9 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wbuf w;
		size_t at;
		int r;

		CHECK_EQ(i, wbuf_init(&w, 16), 0);
		CHECK_EQ(i, wbuf_put_u8(&w, 0x99), 0);
		CHECK_EQ(i, wbuf_reserve(&w, cases[i].bits / 8, &at), 0);
		CHECK_EQ(i, at, 1);
		CHECK_EQ(i, wbuf_at(&w, at)[0], 0);
		CHECK_EQ(i, wbuf_put_zero(&w, cases[i].body), 0);
		if (cases[i].bits == 16)
			r = wbuf_patch_len16(&w, at, at + cases[i].from_delta);
		else
			r = wbuf_patch_len32(&w, at, at + cases[i].from_delta);
		CHECK_EQ(i, r, cases[i].want);
		CHECK_EQ(i, w.err, cases[i].want);
		if (!r && cases[i].bits == 16)
			CHECK_EQ(i, be16_load(wbuf_at(&w, at)), cases[i].val);
		if (!r && cases[i].bits == 32)
			CHECK_EQ(i, be32_load(wbuf_at(&w, at)), cases[i].val);
		if (r)	/* sticky */
			CHECK_EQ(i, wbuf_put_u8(&w, 0), cases[i].want);
		wbuf_free(&w);
	}
}

static void test_patch_range(void **state)
{
	static const struct {
		/* 0 u8, 1 u16, 2 u32, 3 len16 at, 4 len16 from */
		int kind;
		size_t at;
		int want;
	} cases[] = {
		{ 0, 3, 0 },
		{ 0, 4, ERR_INVAL },	/* one past the end */
		{ 1, 2, 0 },
		{ 1, 3, ERR_INVAL },	/* straddles the end */
		{ 2, 0, 0 },
		{ 2, 1, ERR_INVAL },
		{ 2, SIZE_MAX, ERR_INVAL },
		{ 3, 3, ERR_INVAL },
		{ 4, 5, ERR_INVAL },	/* from beyond the end */
		{ 4, 4, 0 },		/* from at the end: length 0 */
	};
	uint8_t mem[4];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wbuf w;
		int r = 0;

		wbuf_init_fixed(&w, mem, sizeof(mem));
		CHECK_EQ(i, wbuf_put_u32(&w, 0xdeadbeef), 0);
		switch (cases[i].kind) {
		case 0: r = wbuf_patch_u8(&w, cases[i].at, 1); break;
		case 1: r = wbuf_patch_u16(&w, cases[i].at, 1); break;
		case 2: r = wbuf_patch_u32(&w, cases[i].at, 1); break;
		case 3: r = wbuf_patch_len16(&w, cases[i].at, 0); break;
		case 4: r = wbuf_patch_len16(&w, 0, cases[i].at); break;
		}
		CHECK_EQ(i, r, cases[i].want);
		CHECK_EQ(i, w.err, cases[i].want);
		if (r)	/* nothing written */
			CHECK_EQ(i, be32_load(mem), 0xdeadbeef);
	}
}

static void test_put_u24(void **state)
{
	static const struct {
		uint32_t v;
		int want;
	} cases[] = {
		{ 0, 0 }, { 0xffffff, 0 }, { 0x1000000, ERR_OVERFLOW },
		{ 0xffffffff, ERR_OVERFLOW },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t mem[3];
		struct wbuf w;

		wbuf_init_fixed(&w, mem, sizeof(mem));
		CHECK_EQ(i, wbuf_put_u24(&w, cases[i].v), cases[i].want);
		CHECK_EQ(i, w.err, cases[i].want);
		CHECK_EQ(i, w.len, cases[i].want ? 0 : 3);
		if (!cases[i].want)
			CHECK_EQ(i, (uint32_t)mem[0] << 16 | mem[1] << 8 |
				 mem[2], cases[i].v);
	}
}

/* The first error is the one reported, by every later call. */
static void test_first_error_sticks(void **state)
{
	uint8_t mem[2];
	struct wbuf w;
	uint8_t *p;
	size_t len;

	wbuf_init_fixed(&w, mem, sizeof(mem));
	assert_int_equal(wbuf_put_u32(&w, 1), ERR_NOSPACE);
	assert_int_equal(wbuf_put_u24(&w, 0x1000000), ERR_NOSPACE);
	assert_int_equal(w.err, ERR_NOSPACE);

	assert_int_equal(wbuf_init(&w, 0), 0);
	assert_int_equal(wbuf_put_u24(&w, 0x1000000), ERR_OVERFLOW);
	assert_int_equal(wbuf_put_u8(&w, 1), ERR_OVERFLOW);
	assert_int_equal(wbuf_patch_len16(&w, 0, 0), ERR_OVERFLOW);
	/* A failed writer hands nothing out; wbuf_free still cleans up. */
	assert_null(wbuf_steal(&w, &len));
	assert_int_equal(len, 0);
	wbuf_free(&w);

	/* Size overflow of len + n. */
	assert_int_equal(wbuf_init(&w, 8), 0);
	assert_int_equal(wbuf_put_u8(&w, 1), 0);
	assert_int_equal(wbuf_put_bytes(&w, mem, SIZE_MAX), ERR_OVERFLOW);
	p = wbuf_steal(&w, &len);
	assert_null(p);
	wbuf_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_rest_and_null),
		cmocka_unit_test(test_fixed_writer),
		cmocka_unit_test(test_fixed_writer_null),
		cmocka_unit_test(test_grow_writer),
		cmocka_unit_test(test_patch),
		cmocka_unit_test(test_patch_range),
		cmocka_unit_test(test_put_u24),
		cmocka_unit_test(test_first_error_sticks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
