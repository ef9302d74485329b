/* SPDX-License-Identifier: MIT */
#include "ctl/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

void json_init(struct json *j, struct wbuf *w)
{
	memset(j, 0, sizeof(*j));
	j->w = w;
}

bool json_empty(const struct json *j)
{
	return !j->root_done && j->depth == 0 && !j->err;
}

static int fail(struct json *j, int r)
{
	if (!j->err)
		j->err = r;
	return j->err;
}

/* Take over the writer's sticky error, if any. */
static int sync_err(struct json *j)
{
	if (j->w->err)
		return fail(j, j->w->err);
	return j->err;
}

/*
 * Called before every value: checks that a value may go here and writes
 * the separator.  Inside an object a value needs its key first (RFC 8259
 * §4: an object is a set of name/value pairs).
 */
static int before_value(struct json *j)
{
	unsigned d = j->depth;

	if (j->err)
		return j->err;
	if (d == 0) {
		if (j->root_done)
			return fail(j, ERR_INVAL);
		return 0;
	}
	if (j->is_obj[d - 1]) {
		if (!j->after_key)
			return fail(j, ERR_INVAL);
		j->after_key = false;
		return 0;
	}
	if (j->has_member[d - 1])
		wbuf_put_u8(j->w, ',');
	j->has_member[d - 1] = true;
	return sync_err(j);
}

/* After a scalar or a closed container: the root may be complete. */
static int after_value(struct json *j)
{
	if (j->depth == 0)
		j->root_done = true;
	return sync_err(j);
}

static int open_level(struct json *j, bool obj)
{
	if (before_value(j))
		return j->err;
	if (j->depth >= JSON_MAX_DEPTH)
		return fail(j, ERR_INVAL);
	j->is_obj[j->depth] = obj;
	j->has_member[j->depth] = false;
	j->depth++;
	wbuf_put_u8(j->w, obj ? '{' : '[');
	return sync_err(j);
}

static int close_level(struct json *j, bool obj)
{
	if (j->err)
		return j->err;
	if (j->depth == 0 || j->is_obj[j->depth - 1] != obj || j->after_key)
		return fail(j, ERR_INVAL);
	j->depth--;
	wbuf_put_u8(j->w, obj ? '}' : ']');
	return after_value(j);
}

int json_obj_begin(struct json *j)
{
	return open_level(j, true);
}

int json_obj_end(struct json *j)
{
	return close_level(j, true);
}

int json_arr_begin(struct json *j)
{
	return open_level(j, false);
}

int json_arr_end(struct json *j)
{
	return close_level(j, false);
}

int json_key(struct json *j, const char *key)
{
	unsigned d = j->depth;

	if (j->err)
		return j->err;
	if (!key || d == 0 || !j->is_obj[d - 1] || j->after_key)
		return fail(j, ERR_INVAL);
	if (j->has_member[d - 1])
		wbuf_put_u8(j->w, ',');
	j->has_member[d - 1] = true;
	json_put_string(j->w, key, strlen(key));
	wbuf_put_u8(j->w, ':');
	j->after_key = true;
	return sync_err(j);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629 §4), 0 if invalid. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* UTF-16 surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < need || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return need;
}

int json_put_string(struct wbuf *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	static const uint8_t repl[] = { 0xef, 0xbf, 0xbd };	/* U+FFFD */
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, run, k;
	uint8_t c;
	char esc[6];

	wbuf_put_u8(w, '"');
	while (i < n && !w->err) {
		/* Copy the longest run that needs no escaping in one put. */
		run = 0;
		while (i + run < n) {
			c = p[i + run];
			if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f)
				break;
			run++;
		}
		if (run) {
			wbuf_put_bytes(w, p + i, run);
			i += run;
			continue;
		}
		c = p[i];
		if (c >= 0x80) {
			k = utf8_seq(p + i, n - i);
			if (k) {
				wbuf_put_bytes(w, p + i, k);
				i += k;
			} else {
				wbuf_put_bytes(w, repl, sizeof(repl));
				i++;
			}
			continue;
		}
		/* RFC 8259 §7: quote, backslash and controls must be escaped. */
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			/* Other controls, and DEL for the terminal's sake. */
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			wbuf_put_bytes(w, esc, 6);
			i++;
			continue;
		}
		wbuf_put_bytes(w, esc, 2);
		i++;
	}
	return wbuf_put_u8(w, '"');
}

int json_strn(struct json *j, const char *s, size_t n)
{
	if (before_value(j))
		return j->err;
	json_put_string(j->w, s, n);
	return after_value(j);
}

int json_str(struct json *j, const char *s)
{
	if (!s)
		return json_null(j);
	return json_strn(j, s, strlen(s));
}

static int put_raw(struct json *j, const char *txt)
{
	if (before_value(j))
		return j->err;
	wbuf_put_bytes(j->w, txt, strlen(txt));
	return after_value(j);
}

int json_u64(struct json *j, uint64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%" PRIu64, v);
	return put_raw(j, t);
}

int json_i64(struct json *j, int64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%" PRId64, v);
	return put_raw(j, t);
}

int json_bool(struct json *j, bool v)
{
	return put_raw(j, v ? "true" : "false");
}

int json_null(struct json *j)
{
	return put_raw(j, "null");
}

int json_kv_str(struct json *j, const char *key, const char *s)
{
	if (json_key(j, key))
		return j->err;
	return json_str(j, s);
}

int json_kv_u64(struct json *j, const char *key, uint64_t v)
{
	if (json_key(j, key))
		return j->err;
	return json_u64(j, v);
}

int json_kv_i64(struct json *j, const char *key, int64_t v)
{
	if (json_key(j, key))
		return j->err;
	return json_i64(j, v);
}

int json_kv_bool(struct json *j, const char *key, bool v)
{
	if (json_key(j, key))
		return j->err;
	return json_bool(j, v);
}

int json_kv_obj(struct json *j, const char *key)
{
	if (json_key(j, key))
		return j->err;
	return json_obj_begin(j);
}

int json_kv_arr(struct json *j, const char *key)
{
	if (json_key(j, key))
		return j->err;
	return json_arr_begin(j);
}

int json_finish(struct json *j)
{
	if (sync_err(j))
		return j->err;
	if (j->depth || !j->root_done)
		return fail(j, ERR_INVAL);
	return 0;
}
