/* SPDX-License-Identifier: MIT */
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/err.h"

void buf_init(struct buf *b, const void *p, size_t len)
{
	b->p = p;
	b->len = p ? len : 0;
	b->off = 0;
}

/* Every getter funnels through here: the only place that moves off. */
static int take(struct buf *b, size_t n, const uint8_t **p)
{
	if (n > buf_left(b))
		return ERR_SHORT;
	/* An empty reader may have p == NULL; NULL + 0 is undefined in C. */
	*p = b->p ? b->p + b->off : b->p;
	b->off += n;
	return 0;
}

static uint64_t load_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int get_be(struct buf *b, size_t n, uint64_t *v)
{
	const uint8_t *p;
	int r;

	r = take(b, n, &p);
	if (r == 0)
		*v = load_be(p, n);
	return r;
}

int buf_get_u8(struct buf *b, uint8_t *v)
{
	uint64_t t;
	int r = get_be(b, 1, &t);

	if (r == 0)
		*v = (uint8_t)t;
	return r;
}

int buf_get_u16(struct buf *b, uint16_t *v)
{
	uint64_t t;
	int r = get_be(b, 2, &t);

	if (r == 0)
		*v = (uint16_t)t;
	return r;
}

int buf_get_u24(struct buf *b, uint32_t *v)
{
	uint64_t t;
	int r = get_be(b, 3, &t);

	if (r == 0)
		*v = (uint32_t)t;
	return r;
}

int buf_get_u32(struct buf *b, uint32_t *v)
{
	uint64_t t;
	int r = get_be(b, 4, &t);

	if (r == 0)
		*v = (uint32_t)t;
	return r;
}

int buf_get_u64(struct buf *b, uint64_t *v)
{
	return get_be(b, 8, v);
}

int buf_get_bytes(struct buf *b, void *dst, size_t n)
{
	const uint8_t *p;
	int r;

	r = take(b, n, &p);
	if (r == 0 && n)
		memcpy(dst, p, n);
	return r;
}

int buf_get_ptr(struct buf *b, const uint8_t **p, size_t n)
{
	return take(b, n, p);
}

int buf_skip(struct buf *b, size_t n)
{
	const uint8_t *p;

	return take(b, n, &p);
}

int buf_get_sub(struct buf *b, struct buf *sub, size_t n)
{
	const uint8_t *p;
	int r;

	r = take(b, n, &p);
	if (r == 0)
		buf_init(sub, p, n);
	return r;
}

void buf_get_rest(struct buf *b, struct buf *sub)
{
	const uint8_t *p;
	size_t n = buf_left(b);

	take(b, n, &p);
	buf_init(sub, p, n);
}

static int peek_be(const struct buf *b, size_t n, uint64_t *v)
{
	if (n > buf_left(b))
		return ERR_SHORT;
	*v = load_be(b->p + b->off, n);
	return 0;
}

int buf_peek_u8(const struct buf *b, uint8_t *v)
{
	uint64_t t;
	int r = peek_be(b, 1, &t);

	if (r == 0)
		*v = (uint8_t)t;
	return r;
}

int buf_peek_u16(const struct buf *b, uint16_t *v)
{
	uint64_t t;
	int r = peek_be(b, 2, &t);

	if (r == 0)
		*v = (uint16_t)t;
	return r;
}

int buf_peek_u32(const struct buf *b, uint32_t *v)
{
	uint64_t t;
	int r = peek_be(b, 4, &t);

	if (r == 0)
		*v = (uint32_t)t;
	return r;
}

void wbuf_init_fixed(struct wbuf *w, void *mem, size_t cap)
{
	w->p = mem;
	w->len = 0;
	w->cap = mem ? cap : 0;
	w->grow = false;
	w->err = 0;
}

int wbuf_init(struct wbuf *w, size_t initial_cap)
{
	wbuf_init_fixed(w, NULL, 0);
	w->grow = true;
	if (initial_cap == 0)
		initial_cap = 64;
	w->p = malloc(initial_cap);
	if (!w->p) {
		w->err = ERR_NOMEM;
		return ERR_NOMEM;
	}
	w->cap = initial_cap;
	return 0;
}

void wbuf_free(struct wbuf *w)
{
	if (!w)
		return;
	if (w->grow && w->p) {
		/* Builders write keys and AUTH data here: wipe before free. */
		OPENSSL_cleanse(w->p, w->cap);
		free(w->p);
	}
	w->p = NULL;
	w->len = w->cap = 0;
}

uint8_t *wbuf_steal(struct wbuf *w, size_t *len)
{
	uint8_t *p = w->p;

	if (w->err || !w->grow) {
		*len = 0;
		return NULL;
	}
	*len = w->len;
	w->p = NULL;
	w->len = w->cap = 0;
	return p;
}

/* Make room for n more bytes; the only place a writer grows or fails. */
static int room(struct wbuf *w, size_t n, uint8_t **dst)
{
	size_t need, ncap;
	uint8_t *np;

	if (w->err)
		return w->err;
	if (n > SIZE_MAX - w->len) {
		w->err = ERR_OVERFLOW;
		return w->err;
	}
	need = w->len + n;
	if (need > w->cap) {
		if (!w->grow) {
			w->err = ERR_NOSPACE;
			return w->err;
		}
		ncap = w->cap ? w->cap : 64;
		while (ncap < need)
			ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
		np = malloc(ncap);
		if (!np) {
			w->err = ERR_NOMEM;
			return w->err;
		}
		/* Copy and wipe rather than realloc: old memory may be secret. */
		if (w->len)
			memcpy(np, w->p, w->len);
		if (w->p) {
			OPENSSL_cleanse(w->p, w->cap);
			free(w->p);
		}
		w->p = np;
		w->cap = ncap;
	}
	/* A fixed writer over NULL (cap 0) may still take n == 0. */
	*dst = w->p ? w->p + w->len : w->p;
	w->len = need;
	return 0;
}

static int put_be(struct wbuf *w, uint64_t v, size_t n)
{
	uint8_t *d;
	size_t i;
	int r;

	r = room(w, n, &d);
	if (r)
		return r;
	for (i = 0; i < n; i++)
		d[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return 0;
}

int wbuf_put_u8(struct wbuf *w, uint8_t v)
{
	return put_be(w, v, 1);
}

int wbuf_put_u16(struct wbuf *w, uint16_t v)
{
	return put_be(w, v, 2);
}

int wbuf_put_u24(struct wbuf *w, uint32_t v)
{
	if (v > 0xffffff) {
		/* Like every put: the first error stays and is returned. */
		if (!w->err)
			w->err = ERR_OVERFLOW;
		return w->err;
	}
	return put_be(w, v, 3);
}

int wbuf_put_u32(struct wbuf *w, uint32_t v)
{
	return put_be(w, v, 4);
}

int wbuf_put_u64(struct wbuf *w, uint64_t v)
{
	return put_be(w, v, 8);
}

int wbuf_put_bytes(struct wbuf *w, const void *src, size_t n)
{
	uint8_t *d;
	int r;

	r = room(w, n, &d);
	if (r == 0 && n)
		memcpy(d, src, n);
	return r;
}

int wbuf_put_zero(struct wbuf *w, size_t n)
{
	uint8_t *d;
	int r;

	r = room(w, n, &d);
	if (r == 0 && n)
		memset(d, 0, n);
	return r;
}

int wbuf_reserve(struct wbuf *w, size_t n, size_t *at)
{
	size_t start = w->len;
	int r;

	r = wbuf_put_zero(w, n);
	if (r == 0)
		*at = start;
	return r;
}

static int patch_be(struct wbuf *w, size_t at, uint64_t v, size_t n)
{
	size_t i;

	if (w->err)
		return w->err;
	if (at > w->len || n > w->len - at) {
		w->err = ERR_INVAL;
		return w->err;
	}
	for (i = 0; i < n; i++)
		w->p[at + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return 0;
}

int wbuf_patch_u8(struct wbuf *w, size_t at, uint8_t v)
{
	return patch_be(w, at, v, 1);
}

int wbuf_patch_u16(struct wbuf *w, size_t at, uint16_t v)
{
	return patch_be(w, at, v, 2);
}

int wbuf_patch_u32(struct wbuf *w, size_t at, uint32_t v)
{
	return patch_be(w, at, v, 4);
}

static int patch_len(struct wbuf *w, size_t at, size_t from, size_t n,
		     uint64_t max)
{
	size_t len;

	if (w->err)
		return w->err;
	if (from > w->len) {
		w->err = ERR_INVAL;
		return w->err;
	}
	len = w->len - from;
	if ((uint64_t)len > max) {
		w->err = ERR_OVERFLOW;
		return w->err;
	}
	return patch_be(w, at, len, n);
}

int wbuf_patch_len16(struct wbuf *w, size_t at, size_t from)
{
	return patch_len(w, at, from, 2, 0xffff);
}

int wbuf_patch_len32(struct wbuf *w, size_t at, size_t from)
{
	return patch_len(w, at, from, 4, 0xffffffffu);
}
