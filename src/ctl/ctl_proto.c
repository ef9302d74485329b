/* SPDX-License-Identifier: MIT */
/*
 * Control protocol codec: frames, requests, responses (docs/ctl.md).
 * Everything read from the socket goes through struct buf; everything
 * sent is built with struct wbuf.
 */
#include "ctl/ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

int ctl_frame_put(struct wbuf *w, const void *body, size_t len)
{
	size_t at;

	if (len > CTL_MAX_MSG) {
		if (!w->err)
			w->err = ERR_OVERFLOW;
		return w->err;
	}
	if (wbuf_reserve(w, CTL_HDR_LEN, &at))
		return w->err;
	wbuf_put_bytes(w, body, len);
	return wbuf_patch_len32(w, at, at + CTL_HDR_LEN);
}

int ctl_frame_get(struct buf *in, size_t max, struct buf *body)
{
	struct buf look = *in;
	uint32_t len;
	int r;

	/* Work on a copy so that a short frame leaves in untouched. */
	r = buf_get_u32(&look, &len);
	if (r)
		return r;
	if (len > max)
		return ERR_OVERFLOW;
	if (len == 0)
		return ERR_MALFORMED;
	r = buf_get_sub(&look, body, len);
	if (r)
		return r;
	*in = look;
	return 0;
}

static bool is_word_byte(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e;
}

static bool is_cmd_byte(uint8_t c, bool first)
{
	if (c >= 'a' && c <= 'z')
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '-');
}

int ctl_request_parse(struct buf *body, struct ctl_request *rq)
{
	size_t n = buf_left(body), wlen = 0, out = 0;
	bool cmd = true;
	uint8_t c;

	memset(rq, 0, sizeof(*rq));
	if (n > CTL_MAX_REQUEST)
		return ERR_OVERFLOW;
	if (n == 0)
		return ERR_MALFORMED;
	rq->argv[0] = rq->text;
	rq->argc = 1;
	while (buf_get_u8(body, &c) == 0) {
		if (c == ' ') {
			/* One space between words, none at the ends. */
			if (wlen == 0 || buf_left(body) == 0 ||
			    rq->argc == CTL_MAX_ARGS)
				return ERR_MALFORMED;
			rq->text[out++] = '\0';
			rq->argv[rq->argc++] = rq->text + out;
			wlen = 0;
			cmd = false;
			continue;
		}
		if (!is_word_byte(c) || (cmd && !is_cmd_byte(c, wlen == 0)) ||
		    wlen == CTL_MAX_WORD)
			return ERR_MALFORMED;
		rq->text[out++] = (char)c;
		wlen++;
	}
	rq->text[out] = '\0';
	return 0;
}

int ctl_request_build(struct wbuf *w, unsigned argc,
		      const char *const *argv)
{
	size_t at, n, i;
	unsigned k;

	if (argc == 0 || argc > CTL_MAX_ARGS)
		goto inval;
	if (wbuf_reserve(w, CTL_HDR_LEN, &at))
		return w->err;
	for (k = 0; k < argc; k++) {
		n = strlen(argv[k]);
		if (n == 0 || n > CTL_MAX_WORD)
			goto inval;
		for (i = 0; i < n; i++) {
			uint8_t c = (uint8_t)argv[k][i];

			if (!is_word_byte(c) ||
			    (k == 0 && !is_cmd_byte(c, i == 0)))
				goto inval;
		}
		if (k)
			wbuf_put_u8(w, ' ');
		wbuf_put_bytes(w, argv[k], n);
	}
	if (!w->err && w->len - at - CTL_HDR_LEN > CTL_MAX_REQUEST)
		goto inval;
	return wbuf_patch_len32(w, at, at + CTL_HDR_LEN);
inval:
	if (!w->err)
		w->err = ERR_INVAL;
	return w->err;
}

int ctl_response_parse(struct buf *body, struct ctl_response *rs)
{
	static const char err_word[] = "error ";
	const uint8_t *p;
	struct buf line;
	size_t n, i;
	uint8_t c;

	memset(rs, 0, sizeof(*rs));
	/* The status line: everything up to the first '\n'. */
	line = *body;
	for (n = 0;; n++) {
		if (buf_get_u8(&line, &c))
			return ERR_MALFORMED;
		if (c == '\n')
			break;
	}
	if (buf_get_ptr(body, &p, n) || buf_skip(body, 1))
		return ERR_MALFORMED;
	if (n == 2 && !memcmp(p, "ok", 2)) {
		rs->ok = true;
	} else if (n > sizeof(err_word) - 1 &&
		   n - (sizeof(err_word) - 1) <= CTL_MAX_REASON &&
		   !memcmp(p, err_word, sizeof(err_word) - 1)) {
		for (i = sizeof(err_word) - 1; i < n; i++) {
			if (p[i] < 0x20 || p[i] > 0x7e)
				return ERR_MALFORMED;
		}
		memcpy(rs->reason, p + sizeof(err_word) - 1,
		       n - (sizeof(err_word) - 1));
	} else {
		return ERR_MALFORMED;
	}
	/* The JSON text: the rest, non-empty, usable as a C string. */
	n = buf_left(body);
	if (n == 0 || buf_get_ptr(body, &p, n))
		return ERR_MALFORMED;
	if (memchr(p, '\0', n))
		return ERR_MALFORMED;
	rs->json = (const char *)p;
	rs->json_len = n;
	return 0;
}

int ctl_response_build(struct wbuf *w, bool ok, const char *reason,
		       const char *json, size_t json_len)
{
	size_t at, i, n;
	char c;

	if (!json || !json_len) {
		json = "{}";
		json_len = 2;
	}
	if (wbuf_reserve(w, CTL_HDR_LEN, &at))
		return w->err;
	if (ok) {
		wbuf_put_bytes(w, "ok\n", 3);
	} else {
		if (!reason || !reason[0])
			reason = "failed";
		n = strnlen(reason, CTL_MAX_REASON);
		wbuf_put_bytes(w, "error ", 6);
		for (i = 0; i < n; i++) {
			c = reason[i];
			wbuf_put_u8(w, c >= 0x20 && c <= 0x7e ? (uint8_t)c :
				    '?');
		}
		wbuf_put_u8(w, '\n');
	}
	wbuf_put_bytes(w, json, json_len);
	if (!w->err && w->len - at - CTL_HDR_LEN > CTL_MAX_MSG) {
		w->err = ERR_OVERFLOW;
		return w->err;
	}
	return wbuf_patch_len32(w, at, at + CTL_HDR_LEN);
}

int ctl_reply_error(struct ctl_reply *rp, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rp->reason, sizeof(rp->reason), fmt, ap);
	va_end(ap);
	return r < 0 ? r : ERR_INVAL;
}

/* ---- The static SA entry of "status" (docs/ctl.md) ---- */

static int json_kv_addr(struct json *j, const char *key,
			const struct ip_addr *a)
{
	char t[ADDR_STRLEN];

	if (addr_is_unspec(a))
		return json_kv_str(j, key, "");
	return json_kv_str(j, key, addr_fmt(a, t, sizeof(t)));
}

static int json_kv_hex32(struct json *j, const char *key, uint32_t v)
{
	char t[16];

	snprintf(t, sizeof(t), "0x%08x", v);
	return json_kv_str(j, key, t);
}

int ctl_json_static_sa(struct json *j, const char *name,
		       const struct sa_params *p, const struct sa_stats *st,
		       uint64_t now)
{
	char encap[16];

	if (p->encap_sport && p->encap_dport)
		snprintf(encap, sizeof(encap), "udp/%u", p->encap_dport);
	else
		snprintf(encap, sizeof(encap), "none");
	json_obj_begin(j);
	json_kv_str(j, "name", name);
	json_kv_hex32(j, "spi", p->spi);
	json_kv_str(j, "dir", p->dir == SA_DIR_OUT ? "out" : "in");
	json_kv_str(j, "proto", p->proto == IPSEC_PROTO_AH ? "ah" : "esp");
	json_kv_str(j, "mode", p->mode == IPSEC_MODE_TRANSPORT ?
		    "transport" : "tunnel");
	json_kv_addr(j, "src", &p->src);
	json_kv_addr(j, "dst", &p->dst);
	json_kv_str(j, "encap", encap);
	json_kv_str(j, "enc", p->encr ? p->encr->name : "none");
	json_kv_str(j, "integ", p->integ ? p->integ->name : "none");
	json_kv_u64(j, "bytes", st->bytes);
	json_kv_u64(j, "packets", st->packets);
	json_kv_u64(j, "replay_drops", st->replay_drops);
	json_kv_u64(j, "auth_fails", st->auth_fails);
	json_kv_u64(j, "malformed", st->malformed);
	json_kv_u64(j, "ts_drops", st->ts_drops);
	json_kv_u64(j, "age_s", now >= st->add_time ? now - st->add_time : 0);
	return json_obj_end(j);
}
