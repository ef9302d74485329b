/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked byte reader and writer.  Every parser and builder in
 * ipsecd goes through these; nothing casts packets to structs or does raw
 * offset arithmetic on peer data.
 *
 * Reader: a view on borrowed memory.  Each getter returns 0 or a negative
 * ERR_* and, on failure, leaves the reader where it was, so a caller may
 * report the exact place of the error.  All integers are big-endian
 * (network order), as every IPsec and IKE wire format is.
 *
 * Writer: either over caller memory (fixed capacity) or over a heap buffer
 * that grows.  The first failure is sticky in w->err, so a builder may do a
 * run of puts and check once; every put also returns it.
 */
#ifndef IPSECD_COMMON_BUF_H
#define IPSECD_COMMON_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	const uint8_t *p;	/* borrowed */
	size_t len;
	size_t off;
};

void buf_init(struct buf *b, const void *p, size_t len);
static inline size_t buf_left(const struct buf *b)
{
	return b->len - b->off;
}
/* Pointer to the next unread byte (borrowed; valid while p is). */
static inline const uint8_t *buf_cur(const struct buf *b)
{
	/* An empty reader may hold NULL; NULL + 0 is undefined in C. */
	return b->p ? b->p + b->off : b->p;
}
static inline size_t buf_pos(const struct buf *b)
{
	return b->off;
}

int buf_get_u8(struct buf *b, uint8_t *v);
int buf_get_u16(struct buf *b, uint16_t *v);
int buf_get_u24(struct buf *b, uint32_t *v);
int buf_get_u32(struct buf *b, uint32_t *v);
int buf_get_u64(struct buf *b, uint64_t *v);
/* Copy n bytes out. */
int buf_get_bytes(struct buf *b, void *dst, size_t n);
/* Borrow n bytes in place: *p points into the reader's memory. */
int buf_get_ptr(struct buf *b, const uint8_t **p, size_t n);
int buf_skip(struct buf *b, size_t n);
/*
 * Split off the next n bytes as a nested reader and advance past them.
 * This is how a declared length is checked against what is left before
 * anything inside it is read.
 */
int buf_get_sub(struct buf *b, struct buf *sub, size_t n);
/* The rest of the input as a nested reader; b ends up empty. */
void buf_get_rest(struct buf *b, struct buf *sub);
int buf_peek_u8(const struct buf *b, uint8_t *v);
int buf_peek_u16(const struct buf *b, uint16_t *v);
int buf_peek_u32(const struct buf *b, uint32_t *v);

struct wbuf {
	uint8_t *p;
	size_t len;	/* bytes written */
	size_t cap;
	bool grow;	/* heap buffer owned by the writer */
	int err;	/* first error, sticky */
};

/* A writer over caller memory; it never grows and never frees. */
void wbuf_init_fixed(struct wbuf *w, void *mem, size_t cap);
/* A growing heap writer; free with wbuf_free(). */
int wbuf_init(struct wbuf *w, size_t initial_cap);
/* Wipes and frees a growing writer's memory; safe on a fixed one. */
void wbuf_free(struct wbuf *w);
/*
 * Hand the heap buffer to the caller (owned: free with free() after
 * wiping if secret).  The writer is left empty.
 */
uint8_t *wbuf_steal(struct wbuf *w, size_t *len);

/*
 * Reserve n bytes at the end and return their offset in *at (an offset,
 * not a pointer: a growing writer may move its memory).  The bytes are
 * zeroed.  Use wbuf_at() for a pointer valid until the next put.
 */
int wbuf_reserve(struct wbuf *w, size_t n, size_t *at);
static inline uint8_t *wbuf_at(struct wbuf *w, size_t at)
{
	return w->p ? w->p + at : w->p;
}
int wbuf_put_u8(struct wbuf *w, uint8_t v);
int wbuf_put_u16(struct wbuf *w, uint16_t v);
int wbuf_put_u24(struct wbuf *w, uint32_t v);
int wbuf_put_u32(struct wbuf *w, uint32_t v);
int wbuf_put_u64(struct wbuf *w, uint64_t v);
int wbuf_put_bytes(struct wbuf *w, const void *src, size_t n);
int wbuf_put_zero(struct wbuf *w, size_t n);

/* Overwrite reserved bytes at offset at. */
int wbuf_patch_u8(struct wbuf *w, size_t at, uint8_t v);
int wbuf_patch_u16(struct wbuf *w, size_t at, uint16_t v);
int wbuf_patch_u32(struct wbuf *w, size_t at, uint32_t v);
/*
 * Patch a length field at offset at with the number of bytes written
 * since offset from (w->len - from).  ERR_OVERFLOW if it does not fit.
 */
int wbuf_patch_len16(struct wbuf *w, size_t at, size_t from);
int wbuf_patch_len32(struct wbuf *w, size_t at, size_t from);

/* Plain big-endian helpers for fixed-size fields in our own memory. */
static inline uint16_t be16_load(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t be32_load(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline void be16_store(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void be32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void be64_store(uint8_t *p, uint64_t v)
{
	be32_store(p, (uint32_t)(v >> 32));
	be32_store(p + 4, (uint32_t)v);
}

#endif
