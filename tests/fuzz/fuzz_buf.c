/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the reader and writer (common/buf.h).
 *
 * The input is a little TLV program: each op byte picks a getter; length
 * operands come from the input too, so declared lengths are as often too
 * large as right.  Sub-readers run the same program recursively to a
 * bounded depth.  Every successful read is mirrored into two writers (a
 * growing one and a small fixed one), with nested subs written as
 * reserve + body + patch_len16, so patching and overflow get exercised.
 * Invariants are checked with abort(): a failed getter must not move the
 * reader, a sub must advance its parent by exactly its length, the fixed
 * writer's first error must stick.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"

#define MAX_DEPTH 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	struct wbuf grow;
	struct wbuf fixed;
	uint8_t mem[64];
	int fixed_err;	/* first error the fixed writer reported */
};

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Mirror a put into both writers; the fixed one may fill up. */
static void put(struct out *o, uint64_t v, unsigned width)
{
	int r1 = 0, r2 = 0;

	switch (width) {
	case 1:
		r1 = wbuf_put_u8(&o->grow, (uint8_t)v);
		r2 = wbuf_put_u8(&o->fixed, (uint8_t)v);
		break;
	case 2:
		r1 = wbuf_put_u16(&o->grow, (uint16_t)v);
		r2 = wbuf_put_u16(&o->fixed, (uint16_t)v);
		break;
	case 3:
		/* Values above 24 bits come from u32 reads: overflow. */
		r1 = wbuf_put_u24(&o->grow, (uint32_t)v & 0xffffff);
		r2 = wbuf_put_u24(&o->fixed, (uint32_t)v);
		break;
	case 4:
		r1 = wbuf_put_u32(&o->grow, (uint32_t)v);
		r2 = wbuf_put_u32(&o->fixed, (uint32_t)v);
		break;
	default:
		r1 = wbuf_put_u64(&o->grow, v);
		r2 = wbuf_put_u64(&o->fixed, v);
		break;
	}
	check(r1 == 0 || r1 == ERR_NOMEM);
	if (o->fixed_err)
		check(r2 == o->fixed_err && o->fixed.err == o->fixed_err);
	else if (r2)
		o->fixed_err = r2;
	check(o->fixed.len <= o->fixed.cap);
}

static void put_bytes(struct out *o, const uint8_t *p, size_t n)
{
	int r;

	check(wbuf_put_bytes(&o->grow, p, n) == 0);
	r = wbuf_put_bytes(&o->fixed, p, n);
	if (o->fixed_err)
		check(r == o->fixed_err);
	else if (r)
		o->fixed_err = r;
}

static void run(struct buf *b, struct out *o, unsigned depth);

static void nested(struct buf *b, struct out *o, unsigned depth, size_t n)
{
	size_t before = buf_pos(b), left = buf_left(b), at, fat = 0;
	struct buf sub;
	int r, fr;

	r = buf_get_sub(b, &sub, n);
	if (r) {
		check(r == ERR_SHORT && n > left && buf_pos(b) == before);
		return;
	}
	check(buf_pos(b) == before + n && buf_left(&sub) == n);
	check(buf_pos(&sub) == 0);
	if (depth >= MAX_DEPTH)
		return;
	check(wbuf_reserve(&o->grow, 2, &at) == 0);
	fr = wbuf_reserve(&o->fixed, 2, &fat);
	if (!o->fixed_err && fr)
		o->fixed_err = fr;
	run(&sub, o, depth + 1);
	/* Whatever happened inside, the parent did not move. */
	check(buf_pos(b) == before + n);
	r = wbuf_patch_len16(&o->grow, at, at + 2);
	if (o->grow.len - at - 2 > 0xffff) {
		check(r == ERR_OVERFLOW);
		/* Sticky: start a fresh growing writer for the rest. */
		wbuf_free(&o->grow);
		check(wbuf_init(&o->grow, 0) == 0);
	} else {
		check(r == 0);
		check(be16_load(wbuf_at(&o->grow, at)) ==
		      o->grow.len - at - 2);
	}
	if (!o->fixed_err) {
		fr = wbuf_patch_len16(&o->fixed, fat, fat + 2);
		check(fr == 0);
	}
}

static void run(struct buf *b, struct out *o, unsigned depth)
{
	uint8_t op, u8, tmp[256];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	const uint8_t *p;
	struct buf rest;
	size_t before, left;
	int r;

	while (buf_get_u8(b, &op) == 0) {
		before = buf_pos(b);
		left = buf_left(b);
		r = 0;
		switch (op % 14) {
		case 0:
			r = buf_get_u8(b, &u8);
			if (!r)
				put(o, u8, 1);
			break;
		case 1:
			r = buf_get_u16(b, &u16);
			if (!r)
				put(o, u16, 2);
			break;
		case 2:
			r = buf_get_u24(b, &u32);
			if (!r) {
				check(u32 <= 0xffffff);
				put(o, u32, 3);
			}
			break;
		case 3:
			r = buf_get_u32(b, &u32);
			if (!r)
				put(o, u32, (op & 0x80) ? 3 : 4);
			break;
		case 4:
			r = buf_get_u64(b, &u64);
			if (!r)
				put(o, u64, 8);
			break;
		case 5:
			/* Peeks agree with the getter that follows. */
			if (buf_peek_u32(b, &u32) == 0) {
				uint32_t again;

				check(buf_get_u32(b, &again) == 0);
				check(again == u32);
			} else if (buf_peek_u16(b, &u16) == 0) {
				check(left < 4);
			} else {
				check(buf_peek_u8(b, &u8) == (left ? 0 :
							      ERR_SHORT));
			}
			break;
		case 6:
			/* One-byte length, copy out. */
			if (buf_get_u8(b, &u8))
				return;
			before = buf_pos(b);
			left = buf_left(b);
			r = buf_get_bytes(b, tmp, u8);
			if (!r)
				put_bytes(o, tmp, u8);
			break;
		case 7:
			if (buf_get_u16(b, &u16))
				return;
			before = buf_pos(b);
			left = buf_left(b);
			r = buf_get_ptr(b, &p, u16);
			if (!r) {
				check(p == buf_cur(b) - u16);
				put_bytes(o, p, u16);
			}
			break;
		case 8:
		case 9:
			/* TLV: a type byte, a 16-bit length, a nested body. */
			if (buf_get_u8(b, &u8) || buf_get_u16(b, &u16))
				return;
			put(o, u8, 1);
			nested(b, o, depth, u16);
			continue;
		case 10:
			/* Short TLV: 8-bit length. */
			if (buf_get_u8(b, &u8))
				return;
			nested(b, o, depth, u8);
			continue;
		case 11:
			if (buf_get_u24(b, &u32))
				return;
			nested(b, o, depth, u32);
			continue;
		case 12:
			if (depth >= MAX_DEPTH)
				break;
			buf_get_rest(b, &rest);
			check(buf_left(b) == 0 && buf_left(&rest) == left);
			run(&rest, o, depth + 1);
			continue;
		case 13:
			if (buf_get_u8(b, &u8))
				return;
			before = buf_pos(b);
			left = buf_left(b);
			r = buf_skip(b, u8);
			if (!r)
				check(buf_pos(b) == before + u8);
			break;
		}
		if (r) {
			/* A failed getter leaves the reader unchanged. */
			check(r == ERR_SHORT);
			check(buf_pos(b) == before && buf_left(b) == left);
		}
	}
	check(buf_left(b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out o;
	struct buf b;
	uint8_t *stolen;
	size_t len;

	memset(&o, 0, sizeof(o));
	if (wbuf_init(&o.grow, size & 0xff))
		return 0;
	wbuf_init_fixed(&o.fixed, o.mem, sizeof(o.mem));
	buf_init(&b, data, size);
	run(&b, &o, 0);
	check(o.fixed.err == o.fixed_err);
	check(o.fixed.len <= sizeof(o.mem));
	check(o.grow.err == 0);
	stolen = wbuf_steal(&o.grow, &len);
	check(stolen != NULL || len == 0);
	free(stolen);
	wbuf_free(&o.grow);
	wbuf_free(&o.fixed);
	return 0;
}
