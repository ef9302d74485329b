/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the control protocol codec (src/ctl).
 *
 * The first input byte picks what the rest is:
 *   0: a byte stream a client sent the daemon: frames are taken off it
 *      as the server does (limit CTL_MAX_REQUEST) and parsed as
 *      requests; every request that parses must build back to the very
 *      same bytes, and every argv word must obey the word rules.
 *   1: a stream the daemon sent the CLI: frames (limit CTL_MAX_MSG)
 *      parsed as responses; each must build back to the same bytes.
 *   2: a string for the JSON escaper: the output must be one JSON
 *      string literal of valid UTF-8 with no raw control bytes.
 *   3: a little program for the JSON writer (open/close/key/values);
 *      whatever it does, a document json_finish() accepts must have
 *      balanced brackets outside its strings.
 * Invariants are checked with abort().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "ctl/ctl.h"
#include "ctl/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void requests(struct buf *in)
{
	static struct ctl_request rq;
	struct buf body, copy;
	struct wbuf w;
	size_t before, i, j;
	int r;

	for (;;) {
		before = buf_pos(in);
		r = ctl_frame_get(in, CTL_MAX_REQUEST, &body);
		if (r) {
			/* A failed take leaves the stream where it was. */
			check(buf_pos(in) == before);
			check(r == ERR_SHORT || r == ERR_OVERFLOW ||
			      r == ERR_MALFORMED);
			return;
		}
		check(buf_left(&body) >= 1 &&
		      buf_left(&body) <= CTL_MAX_REQUEST);
		copy = body;
		if (ctl_request_parse(&body, &rq))
			continue;
		check(rq.argc >= 1 && rq.argc <= CTL_MAX_ARGS);
		for (i = 0; i < rq.argc; i++) {
			size_t n = strlen(rq.argv[i]);

			check(n >= 1 && n <= CTL_MAX_WORD);
			for (j = 0; j < n; j++)
				check(rq.argv[i][j] > 0x20 &&
				      rq.argv[i][j] < 0x7f);
		}
		if (wbuf_init(&w, 64))
			return;
		check(ctl_request_build(&w, rq.argc, rq.argv) == 0);
		check(w.len == CTL_HDR_LEN + buf_left(&copy));
		check(!memcmp(w.p + CTL_HDR_LEN, buf_cur(&copy),
			      buf_left(&copy)));
		wbuf_free(&w);
	}
}

static void responses(struct buf *in)
{
	struct ctl_response rs;
	struct buf body, copy;
	struct wbuf w;
	int r;

	for (;;) {
		r = ctl_frame_get(in, CTL_MAX_MSG, &body);
		if (r)
			return;
		copy = body;
		if (ctl_response_parse(&body, &rs))
			continue;
		check(rs.json_len >= 1);
		check(rs.ok == (rs.reason[0] == '\0'));
		check(!memchr(rs.json, '\0', rs.json_len));
		if (wbuf_init(&w, 64))
			return;
		check(ctl_response_build(&w, rs.ok, rs.reason, rs.json,
					 rs.json_len) == 0);
		check(w.len == CTL_HDR_LEN + buf_left(&copy));
		check(!memcmp(w.p + CTL_HDR_LEN, buf_cur(&copy),
			      buf_left(&copy)));
		wbuf_free(&w);
	}
}

/* Length of a valid UTF-8 sequence at p (the oracle), 0 if invalid. */
static size_t utf8_ok(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t need, i;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		need = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		need = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		need = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((need == 2 && cp < 0x80) || (need == 3 && cp < 0x800) ||
	    (need == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

static void escape(const uint8_t *p, size_t n)
{
	struct wbuf w;
	size_t i, k;

	if (wbuf_init(&w, 16))
		return;
	check(json_put_string(&w, (const char *)p, n) == 0);
	check(w.len >= 2 && w.p[0] == '"' && w.p[w.len - 1] == '"');
	for (i = 1; i + 1 < w.len; i += k) {
		check(w.p[i] >= 0x20 && w.p[i] != 0x7f);
		check(w.p[i] != '"');
		if (w.p[i] == '\\') {
			check(i + 2 < w.len);
			check(strchr("\"\\bfnrtu", w.p[i + 1]) != NULL);
			k = w.p[i + 1] == 'u' ? 6 : 2;
			check(i + k < w.len);
			continue;
		}
		k = utf8_ok(w.p + i, w.len - 1 - i);
		check(k != 0);
	}
	wbuf_free(&w);
}

static void writer(const uint8_t *p, size_t n)
{
	uint8_t mem[256];
	struct wbuf w, fixed;
	struct json j, jf;
	bool in_str = false, esc = false;
	int depth = 0;
	size_t i;

	if (wbuf_init(&w, 16))
		return;
	wbuf_init_fixed(&fixed, mem, sizeof(mem));
	json_init(&j, &w);
	json_init(&jf, &fixed);
	for (i = 0; i < n; i++) {
		struct json *t[2] = { &j, &jf };
		unsigned k;

		for (k = 0; k < 2; k++) {
			switch (p[i] % 9) {
			case 0:
				json_obj_begin(t[k]);
				break;
			case 1:
				json_obj_end(t[k]);
				break;
			case 2:
				json_arr_begin(t[k]);
				break;
			case 3:
				json_arr_end(t[k]);
				break;
			case 4:
				json_key(t[k], p[i] & 0x80 ? "k\"\x01" : "k");
				break;
			case 5:
				json_u64(t[k], p[i]);
				break;
			case 6:
				json_i64(t[k], -(int64_t)p[i]);
				break;
			case 7:
				json_strn(t[k], (const char *)p + i,
					  n - i < 24 ? n - i : 24);
				break;
			default:
				json_bool(t[k], p[i] & 0x10);
				break;
			}
		}
	}
	/* The growing writer never fails for want of room, so if the fixed
	 * one finished cleanly, both agree byte for byte. */
	if (json_finish(&jf) == 0) {
		check(json_finish(&j) == 0);
		check(fixed.len == w.len && !memcmp(mem, w.p, w.len));
	}
	if (json_finish(&j) == 0) {
		for (i = 0; i < w.len; i++) {
			uint8_t c = w.p[i];

			if (in_str) {
				if (esc)
					esc = false;
				else if (c == '\\')
					esc = true;
				else if (c == '"')
					in_str = false;
				continue;
			}
			if (c == '"')
				in_str = true;
			else if (c == '{' || c == '[')
				depth++;
			else if (c == '}' || c == ']')
				check(--depth >= 0);
		}
		check(!in_str && depth == 0);
	}
	wbuf_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf in;

	if (size < 1)
		return 0;
	buf_init(&in, data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		requests(&in);
		break;
	case 1:
		responses(&in);
		break;
	case 2:
		escape(data + 1, size - 1);
		break;
	default:
		writer(data + 1, size - 1);
		break;
	}
	return 0;
}
