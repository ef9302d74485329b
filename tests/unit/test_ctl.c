/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the control protocol (src/ctl): framing, requests,
 * responses, the JSON writer, and the server end to end over a real Unix
 * socket in a temporary folder, served from a thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "ctl/ctl.h"
#include "ctl/json.h"

#define CHECK_EQ(i, got, want)                                              \
	do {                                                                \
		long long g_ = (long long)(got), w_ = (long long)(want);    \
		if (g_ != w_)                                               \
			fail_msg("case %u: %s = %lld, want %lld",           \
				 (unsigned)(i), #got, g_, w_);              \
	} while (0)
#define CHECK_STR(i, got, want)                                             \
	do {                                                                \
		const char *g_ = (got);                                     \
		if (!g_ || strcmp(g_, (want)))                              \
			fail_msg("case %u: %s = '%s', want '%s'",           \
				 (unsigned)(i), #got, g_ ? g_ : "(null)",   \
				 (want));                                   \
	} while (0)

/* ---- framing ---- */

struct frame_case {
	const char *in;		/* bytes */
	size_t len;
	size_t max;
	int want;
	size_t body_len;	/* on success */
};

static const struct frame_case frame_cases[] = {
	/* 0..3: short header or body: wait for more */
	{ "", 0, 100, ERR_SHORT, 0 },
	{ "\0\0\0", 3, 100, ERR_SHORT, 0 },
	{ "\0\0\0\5abcd", 8, 100, ERR_SHORT, 0 },
	{ "\0\0\0\1", 4, 100, ERR_SHORT, 0 },
	/* 4..6: garbage: over the limit, empty */
	{ "\0\0\0\145", 4, 100, ERR_OVERFLOW, 0 },	/* 101 > 100 */
	{ "\xff\xff\xff\xff", 4, CTL_MAX_MSG, ERR_OVERFLOW, 0 },
	{ "\0\0\0\0xyz", 7, 100, ERR_MALFORMED, 0 },
	/* 7..9: whole frames, with and without trailing bytes */
	{ "\0\0\0\1a", 5, 100, 0, 1 },
	{ "\0\0\0\5abcde\0\0", 11, 100, 0, 5 },
	{ "\0\0\0\144", 4, 100, ERR_SHORT, 0 },		/* exactly max */
};

static void test_frame(void **state)
{
	static uint8_t big[CTL_MAX_MSG + 1];
	uint8_t mem[64];
	struct buf in, body;
	struct wbuf w;
	unsigned i;
	int r;

	for (i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
		const struct frame_case *c = &frame_cases[i];

		buf_init(&in, c->in, c->len);
		r = ctl_frame_get(&in, c->max, &body);
		CHECK_EQ(i, r, c->want);
		if (r) {
			CHECK_EQ(i, buf_pos(&in), 0);	/* untouched */
			continue;
		}
		CHECK_EQ(i, buf_left(&body), c->body_len);
		CHECK_EQ(i, buf_pos(&in), 4 + c->body_len);
		CHECK_EQ(i, memcmp(buf_cur(&body), c->in + 4, c->body_len), 0);
	}
	/* 10: put then get round trip, two frames back to back */
	i = 10;
	wbuf_init_fixed(&w, mem, sizeof(mem));
	CHECK_EQ(i, ctl_frame_put(&w, "hello", 5), 0);
	CHECK_EQ(i, ctl_frame_put(&w, "x", 1), 0);
	CHECK_EQ(i, w.len, 4 + 5 + 4 + 1);
	buf_init(&in, mem, w.len);
	CHECK_EQ(i, ctl_frame_get(&in, 100, &body), 0);
	CHECK_EQ(i, buf_left(&body), 5);
	CHECK_EQ(i, memcmp(buf_cur(&body), "hello", 5), 0);
	CHECK_EQ(i, ctl_frame_get(&in, 100, &body), 0);
	CHECK_EQ(i, buf_left(&body), 1);
	CHECK_EQ(i, buf_left(&in), 0);
	/* 11: a body over CTL_MAX_MSG is refused, sticky */
	i = 11;
	memset(big, 'a', sizeof(big));
	CHECK_EQ(i, wbuf_init(&w, 0), 0);
	CHECK_EQ(i, ctl_frame_put(&w, big, sizeof(big)), ERR_OVERFLOW);
	CHECK_EQ(i, ctl_frame_put(&w, "x", 1), ERR_OVERFLOW);
	wbuf_free(&w);
	/* 12: exactly CTL_MAX_MSG is fine and reads back */
	i = 12;
	CHECK_EQ(i, wbuf_init(&w, 0), 0);
	CHECK_EQ(i, ctl_frame_put(&w, big, CTL_MAX_MSG), 0);
	buf_init(&in, w.p, w.len);
	CHECK_EQ(i, ctl_frame_get(&in, CTL_MAX_MSG, &body), 0);
	CHECK_EQ(i, buf_left(&body), CTL_MAX_MSG);
	/* 13: every truncation of it is ERR_SHORT */
	i = 13;
	buf_init(&in, w.p, w.len - 1);
	CHECK_EQ(i, ctl_frame_get(&in, CTL_MAX_MSG, &body), ERR_SHORT);
	wbuf_free(&w);
	/* 14: a small fixed writer fills up: ERR_NOSPACE */
	i = 14;
	wbuf_init_fixed(&w, mem, 6);
	CHECK_EQ(i, ctl_frame_put(&w, "abc", 3), ERR_NOSPACE);
}

/* ---- requests ---- */

struct req_case {
	const char *in;
	int want;
	unsigned argc;
	const char *argv[3];	/* the first three, when they exist */
};

static const struct req_case req_cases[] = {
	/* 0..4: good */
	{ "status", 0, 1, { "status" } },
	{ "up office", 0, 2, { "up", "office" } },
	{ "rekey a-b_c.d@x", 0, 2, { "rekey", "a-b_c.d@x" } },
	{ "set-level ike debug", 0, 3, { "set-level", "ike", "debug" } },
	{ "x9 \"q\" {}", 0, 3, { "x9", "\"q\"", "{}" } },
	/* 5..16: bad */
	{ "", ERR_MALFORMED, 0, { NULL } },
	{ " status", ERR_MALFORMED, 0, { NULL } },
	{ "status ", ERR_MALFORMED, 0, { NULL } },
	{ "up  office", ERR_MALFORMED, 0, { NULL } },
	{ "Status", ERR_MALFORMED, 0, { NULL } },
	{ "1up", ERR_MALFORMED, 0, { NULL } },
	{ "-up", ERR_MALFORMED, 0, { NULL } },
	{ "up\toffice", ERR_MALFORMED, 0, { NULL } },
	{ "up off\x01ice", ERR_MALFORMED, 0, { NULL } },
	{ "up off\x7fice", ERR_MALFORMED, 0, { NULL } },
	{ "up caf\xc3\xa9", ERR_MALFORMED, 0, { NULL } },
	{ "st_atus", ERR_MALFORMED, 0, { NULL } },
};

static void test_request(void **state)
{
	static struct ctl_request rq, rq2;
	const char *argv[CTL_MAX_ARGS + 1];
	char text[CTL_MAX_REQUEST + 2], word[CTL_MAX_WORD + 2];
	struct buf b, body;
	struct wbuf w;
	unsigned i, k;
	int r;

	for (i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *c = &req_cases[i];

		buf_init(&b, c->in, strlen(c->in));
		r = ctl_request_parse(&b, &rq);
		CHECK_EQ(i, r, c->want);
		if (r)
			continue;
		CHECK_EQ(i, rq.argc, c->argc);
		for (k = 0; k < c->argc && k < 3; k++)
			CHECK_STR(i, rq.argv[k], c->argv[k]);
		/* 100 + i: build gives back the same bytes */
		CHECK_EQ(100 + i, wbuf_init(&w, 0), 0);
		CHECK_EQ(100 + i, ctl_request_build(&w, rq.argc, rq.argv), 0);
		buf_init(&b, w.p, w.len);
		CHECK_EQ(100 + i, ctl_frame_get(&b, CTL_MAX_REQUEST, &body), 0);
		CHECK_EQ(100 + i, buf_left(&body), strlen(c->in));
		CHECK_EQ(100 + i, memcmp(buf_cur(&body), c->in,
					 strlen(c->in)), 0);
		CHECK_EQ(100 + i, ctl_request_parse(&body, &rq2), 0);
		CHECK_EQ(100 + i, rq2.argc, rq.argc);
		wbuf_free(&w);
	}
	/* 20: CTL_MAX_ARGS words are fine, one more is not */
	i = 20;
	for (k = 0; k < CTL_MAX_ARGS + 1; k++)
		argv[k] = k ? "a" : "cmd";
	strcpy(text, "cmd");
	for (k = 1; k < CTL_MAX_ARGS; k++)
		strcat(text, " a");
	buf_init(&b, text, strlen(text));
	CHECK_EQ(i, ctl_request_parse(&b, &rq), 0);
	CHECK_EQ(i, rq.argc, CTL_MAX_ARGS);
	strcat(text, " a");
	buf_init(&b, text, strlen(text));
	CHECK_EQ(i, ctl_request_parse(&b, &rq), ERR_MALFORMED);
	CHECK_EQ(i, wbuf_init(&w, 0), 0);
	CHECK_EQ(i, ctl_request_build(&w, CTL_MAX_ARGS + 1, argv), ERR_INVAL);
	wbuf_free(&w);
	/* 21: a word of CTL_MAX_WORD bytes is fine, one more is not */
	i = 21;
	memset(word, 'w', CTL_MAX_WORD + 1);
	word[CTL_MAX_WORD] = '\0';
	snprintf(text, sizeof(text), "up %s", word);
	buf_init(&b, text, strlen(text));
	CHECK_EQ(i, ctl_request_parse(&b, &rq), 0);
	CHECK_EQ(i, strlen(rq.argv[1]), CTL_MAX_WORD);
	word[CTL_MAX_WORD] = 'w';
	word[CTL_MAX_WORD + 1] = '\0';
	snprintf(text, sizeof(text), "up %s", word);
	buf_init(&b, text, strlen(text));
	CHECK_EQ(i, ctl_request_parse(&b, &rq), ERR_MALFORMED);
	/* 22: longer than CTL_MAX_REQUEST */
	i = 22;
	memset(text, 'a', CTL_MAX_REQUEST + 1);
	buf_init(&b, text, CTL_MAX_REQUEST + 1);
	CHECK_EQ(i, ctl_request_parse(&b, &rq), ERR_OVERFLOW);
	/* 23: build refuses what parse would refuse */
	i = 23;
	{
		const char *bad[][2] = {
			{ "up", "two words" }, { "up", "" }, { "Up", "x" },
			{ "up", "tab\t" }, { "", "x" },
		};

		for (k = 0; k < 5; k++) {
			CHECK_EQ(i * 10 + k, wbuf_init(&w, 0), 0);
			CHECK_EQ(i * 10 + k, ctl_request_build(&w, 2, bad[k]),
				 ERR_INVAL);
			wbuf_free(&w);
		}
		CHECK_EQ(i, wbuf_init(&w, 0), 0);
		CHECK_EQ(i, ctl_request_build(&w, 0, argv), ERR_INVAL);
		wbuf_free(&w);
	}
}

/* ---- responses ---- */

struct resp_case {
	const char *in;
	size_t len;		/* 0: strlen */
	int want;
	bool ok;
	const char *reason;
	const char *json;
};

static const struct resp_case resp_cases[] = {
	/* 0..3: good */
	{ "ok\n{}", 0, 0, true, "", "{}" },
	{ "ok\n{\"a\":1}\n", 0, 0, true, "", "{\"a\":1}\n" },
	{ "error no such connection 'x'\n{}", 0, 0, false,
	  "no such connection 'x'", "{}" },
	{ "error  \n[]", 0, 0, false, " ", "[]" },
	/* 4..12: bad */
	{ "ok\n", 0, ERR_MALFORMED, false, NULL, NULL },	/* no JSON */
	{ "ok{}", 0, ERR_MALFORMED, false, NULL, NULL },	/* no '\n' */
	{ "OK\n{}", 0, ERR_MALFORMED, false, NULL, NULL },
	{ "error\n{}", 0, ERR_MALFORMED, false, NULL, NULL },
	{ "error \n{}", 0, ERR_MALFORMED, false, NULL, NULL },
	{ "error a\x01\n{}", 0, ERR_MALFORMED, false, NULL, NULL },
	{ "ok\n{\0}", 5, ERR_MALFORMED, false, NULL, NULL },
	{ "", 0, ERR_MALFORMED, false, NULL, NULL },
	{ "okay\n{}", 0, ERR_MALFORMED, false, NULL, NULL },
};

static void test_response(void **state)
{
	char text[CTL_MAX_REASON + 64], reason[CTL_MAX_REASON + 2];
	struct ctl_response rs;
	struct buf b, body;
	struct wbuf w;
	unsigned i;
	size_t len;
	int r;

	for (i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]); i++) {
		const struct resp_case *c = &resp_cases[i];

		len = c->len ? c->len : strlen(c->in);
		buf_init(&b, c->in, len);
		r = ctl_response_parse(&b, &rs);
		CHECK_EQ(i, r, c->want);
		if (r)
			continue;
		CHECK_EQ(i, rs.ok, c->ok);
		CHECK_STR(i, rs.reason, c->reason);
		CHECK_EQ(i, rs.json_len, strlen(c->json));
		CHECK_EQ(i, memcmp(rs.json, c->json, rs.json_len), 0);
	}
	/* 20: reason of CTL_MAX_REASON bytes, then one more */
	i = 20;
	memset(reason, 'r', sizeof(reason));
	reason[CTL_MAX_REASON] = '\0';
	snprintf(text, sizeof(text), "error %s\n{}", reason);
	buf_init(&b, text, strlen(text));
	CHECK_EQ(i, ctl_response_parse(&b, &rs), 0);
	CHECK_EQ(i, strlen(rs.reason), CTL_MAX_REASON);
	reason[CTL_MAX_REASON] = 'r';
	reason[CTL_MAX_REASON + 1] = '\0';
	snprintf(text, sizeof(text), "error %s\n{}", reason);
	buf_init(&b, text, strlen(text));
	CHECK_EQ(i, ctl_response_parse(&b, &rs), ERR_MALFORMED);
	/* 21: build/parse round trips; a long reason is cut, controls
	 * become '?', an empty JSON becomes {} */
	i = 21;
	CHECK_EQ(i, wbuf_init(&w, 0), 0);
	CHECK_EQ(i, ctl_response_build(&w, true, NULL, "[1]", 3), 0);
	CHECK_EQ(i, ctl_response_build(&w, false, "bad\tthing\n", NULL, 0),
		 0);
	CHECK_EQ(i, ctl_response_build(&w, false, reason, "{}", 2), 0);
	CHECK_EQ(i, ctl_response_build(&w, false, NULL, "{}", 2), 0);
	buf_init(&b, w.p, w.len);
	CHECK_EQ(i, ctl_frame_get(&b, CTL_MAX_MSG, &body), 0);
	CHECK_EQ(i, ctl_response_parse(&body, &rs), 0);
	CHECK_EQ(i, rs.ok, true);
	CHECK_EQ(i, rs.json_len, 3);
	CHECK_EQ(i, ctl_frame_get(&b, CTL_MAX_MSG, &body), 0);
	CHECK_EQ(i, ctl_response_parse(&body, &rs), 0);
	CHECK_EQ(i, rs.ok, false);
	CHECK_STR(i, rs.reason, "bad?thing?");
	CHECK_EQ(i, rs.json_len, 2);
	CHECK_EQ(i, ctl_frame_get(&b, CTL_MAX_MSG, &body), 0);
	CHECK_EQ(i, ctl_response_parse(&body, &rs), 0);
	CHECK_EQ(i, strlen(rs.reason), CTL_MAX_REASON);
	CHECK_EQ(i, ctl_frame_get(&b, CTL_MAX_MSG, &body), 0);
	CHECK_EQ(i, ctl_response_parse(&body, &rs), 0);
	CHECK_STR(i, rs.reason, "failed");
	CHECK_EQ(i, buf_left(&b), 0);
	wbuf_free(&w);
}

/* ---- JSON ---- */

struct esc_case {
	const char *in;
	size_t len;		/* 0: strlen */
	const char *want;
};

static const struct esc_case esc_cases[] = {
	/* 0..5: plain and the two-character escapes (RFC 8259 §7) */
	{ "", 0, "\"\"" },
	{ "office", 0, "\"office\"" },
	{ "a\"b\\c", 0, "\"a\\\"b\\\\c\"" },
	{ "\b\f\n\r\t", 0, "\"\\b\\f\\n\\r\\t\"" },
	{ "/", 0, "\"/\"" },
	{ "x\x01y\x1f\x7f", 0, "\"x\\u0001y\\u001f\\u007f\"" },
	/* 6: a NUL inside a counted string */
	{ "a\0b", 3, "\"a\\u0000b\"" },
	/* 7..9: valid UTF-8 kept (2, 3, 4 bytes) */
	{ "caf\xc3\xa9", 0, "\"caf\xc3\xa9\"" },
	{ "\xe2\x82\xac", 0, "\"\xe2\x82\xac\"" },
	{ "\xf0\x9f\x94\x92", 0, "\"\xf0\x9f\x94\x92\"" },
	/* 10..15: invalid UTF-8: each bad byte becomes U+FFFD */
	{ "\xff", 0, "\"\xef\xbf\xbd\"" },
	{ "\xc3", 0, "\"\xef\xbf\xbd\"" },			/* cut */
	{ "\xc0\xaf", 0, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },	/* overlong */
	{ "\xed\xa0\x80", 0,					/* surrogate */
	  "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "\xf4\x90\x80\x80", 0,				/* > 10FFFF */
	  "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
	{ "a\x80" "b", 0, "\"a\xef\xbf\xbd" "b\"" },
};

static const char *json_text(struct wbuf *w)
{
	wbuf_put_u8(w, 0);
	w->len--;
	return (const char *)w->p;
}

static void test_json(void **state)
{
	struct wbuf w;
	struct json j;
	uint8_t mem[8];
	unsigned i, k;

	for (i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		const struct esc_case *c = &esc_cases[i];

		CHECK_EQ(i, wbuf_init(&w, 0), 0);
		json_init(&j, &w);
		CHECK_EQ(i, json_strn(&j, c->in, c->len ? c->len :
				      strlen(c->in)), 0);
		CHECK_EQ(i, json_finish(&j), 0);
		CHECK_STR(i, json_text(&w), c->want);
		wbuf_free(&w);
	}
	/* 20: a document with every kind of value, keys in call order */
	i = 20;
	CHECK_EQ(i, wbuf_init(&w, 0), 0);
	json_init(&j, &w);
	CHECK_EQ(i, json_empty(&j), true);
	json_obj_begin(&j);
	json_kv_str(&j, "z", "last?");
	json_kv_u64(&j, "max", UINT64_MAX);
	json_kv_i64(&j, "min", INT64_MIN);
	json_kv_bool(&j, "t", true);
	json_kv_bool(&j, "f", false);
	json_kv_str(&j, "n", NULL);
	json_kv_arr(&j, "a");
	json_u64(&j, 0);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_str(&j, "s");
	json_arr_end(&j);
	json_kv_obj(&j, "o");
	json_key(&j, "k\"");
	json_null(&j);
	json_obj_end(&j);
	json_obj_end(&j);
	CHECK_EQ(i, json_empty(&j), false);
	CHECK_EQ(i, json_finish(&j), 0);
	CHECK_STR(i, json_text(&w),
		  "{\"z\":\"last?\",\"max\":18446744073709551615,"
		  "\"min\":-9223372036854775808,\"t\":true,\"f\":false,"
		  "\"n\":null,\"a\":[0,{},[],\"s\"],\"o\":{\"k\\\"\":null}}");
	wbuf_free(&w);
	/* 21..28: misuse is ERR_INVAL, and sticky */
	for (k = 0; k < 8; k++) {
		i = 21 + k;
		CHECK_EQ(i, wbuf_init(&w, 0), 0);
		json_init(&j, &w);
		switch (k) {
		case 0:		/* value in an object without a key */
			json_obj_begin(&j);
			json_u64(&j, 1);
			break;
		case 1:		/* key outside an object */
			json_arr_begin(&j);
			json_key(&j, "k");
			break;
		case 2:		/* end of the wrong kind */
			json_obj_begin(&j);
			json_arr_end(&j);
			break;
		case 3:		/* end with nothing open */
			json_obj_end(&j);
			break;
		case 4:		/* two top-level values */
			json_u64(&j, 1);
			json_u64(&j, 2);
			break;
		case 5:		/* a key without its value */
			json_obj_begin(&j);
			json_key(&j, "k");
			json_obj_end(&j);
			break;
		case 6:		/* unbalanced at finish */
			json_arr_begin(&j);
			break;
		case 7:		/* deeper than JSON_MAX_DEPTH */
			for (unsigned d = 0; d <= JSON_MAX_DEPTH; d++)
				json_arr_begin(&j);
			break;
		}
		CHECK_EQ(i, json_finish(&j), ERR_INVAL);
		CHECK_EQ(i, json_u64(&j, 3), ERR_INVAL);
		wbuf_free(&w);
	}
	/* 29: nothing written is not a document */
	i = 29;
	CHECK_EQ(i, wbuf_init(&w, 0), 0);
	json_init(&j, &w);
	CHECK_EQ(i, json_finish(&j), ERR_INVAL);
	wbuf_free(&w);
	/* 30: the writer's own error comes through */
	i = 30;
	wbuf_init_fixed(&w, mem, sizeof(mem));
	json_init(&j, &w);
	json_arr_begin(&j);
	json_str(&j, "too long for eight bytes");
	CHECK_EQ(i, json_arr_end(&j), ERR_NOSPACE);
	CHECK_EQ(i, json_finish(&j), ERR_NOSPACE);
}

/* 0: the static SA entry has the documented keys in the documented order */
static void test_static_sa(void **state)
{
	struct sa_params p;
	struct sa_stats st;
	struct wbuf w;
	struct json j;
	unsigned i = 0;

	memset(&p, 0, sizeof(p));
	memset(&st, 0, sizeof(st));
	p.spi = 0x1234;
	p.proto = IPSEC_PROTO_ESP;
	p.mode = IPSEC_MODE_TUNNEL;
	p.dir = SA_DIR_OUT;
	assert_int_equal(addr_parse("192.0.2.1", &p.src), 0);
	assert_int_equal(addr_parse("2001:db8::2", &p.dst), 0);
	p.encap_sport = 4500;
	p.encap_dport = 4500;
	p.encr = encr_by_name("aes256gcm16");
	st.bytes = 1000;
	st.packets = 10;
	st.replay_drops = 1;
	st.auth_fails = 2;
	st.malformed = 3;
	st.ts_drops = 4;
	st.add_time = 100;
	CHECK_EQ(i, wbuf_init(&w, 0), 0);
	json_init(&j, &w);
	CHECK_EQ(i, ctl_json_static_sa(&j, "net\n1", &p, &st, 160), 0);
	CHECK_EQ(i, json_finish(&j), 0);
	CHECK_STR(i, json_text(&w),
		  "{\"name\":\"net\\n1\",\"spi\":\"0x00001234\",\"dir\":\"out\","
		  "\"proto\":\"esp\",\"mode\":\"tunnel\",\"src\":\"192.0.2.1\","
		  "\"dst\":\"2001:db8::2\",\"encap\":\"udp/4500\","
		  "\"enc\":\"aes256gcm16\",\"integ\":\"none\",\"bytes\":1000,"
		  "\"packets\":10,\"replay_drops\":1,\"auth_fails\":2,"
		  "\"malformed\":3,\"ts_drops\":4,\"age_s\":60}");
	wbuf_free(&w);
}

/* ---- the server, end to end ---- */

static char tmpdir[64];
static char sock_path[128];
static int log_pipe[2];

struct srv_thread {
	struct ctl_server *srv;
	pthread_t th;
	int stop[2];
};

struct app {
	int ups;		/* "up" calls seen */
	char last_name[64];
	size_t big;		/* bytes of filler "big" writes */
};

static int h_status(const struct ctl_request *rq, struct ctl_reply *rp,
		    void *arg)
{
	struct json *j = rp->json;

	json_obj_begin(j);
	json_kv_obj(j, "daemon");
	json_kv_str(j, "version", "test");
	json_kv_u64(j, "uptime", 42);
	json_obj_end(j);
	json_kv_arr(j, "ike_sas");
	json_arr_end(j);
	json_kv_arr(j, "static_sas");
	json_arr_end(j);
	return json_obj_end(j);
}

static int h_up(const struct ctl_request *rq, struct ctl_reply *rp,
		void *arg)
{
	struct app *a = arg;

	if (!strcmp(rq->argv[1], "nosuch"))
		return ctl_reply_error(rp, ERR_NOTFOUND,
				       "no connection '%s'", rq->argv[1]);
	a->ups++;
	snprintf(a->last_name, sizeof(a->last_name), "%s", rq->argv[1]);
	json_obj_begin(rp->json);
	json_kv_str(rp->json, "message", "initiating");
	return json_obj_end(rp->json);
}

/* Fails without a reason: the client sees err_str(). */
static int h_reload(const struct ctl_request *rq, struct ctl_reply *rp,
		    void *arg)
{
	return ERR_CONFIG;
}

/* Writes nothing: "{}" goes out. */
static int h_rekey(const struct ctl_request *rq, struct ctl_reply *rp,
		   void *arg)
{
	return 0;
}

/* A big reply, to make the server wait for EPOLLOUT. */
static int h_big(const struct ctl_request *rq, struct ctl_reply *rp,
		 void *arg)
{
	struct app *a = arg;
	static char filler[1000];
	size_t n;

	memset(filler, 'x', sizeof(filler) - 1);
	json_arr_begin(rp->json);
	for (n = 0; n < a->big; n += sizeof(filler) + 2)
		json_str(rp->json, filler);
	return json_arr_end(rp->json);
}

/* A handler that forgets to close its object. */
static int h_broken(const struct ctl_request *rq, struct ctl_reply *rp,
		    void *arg)
{
	return json_obj_begin(rp->json);
}

static const struct ctl_handler handlers[] = {
	{ "status", h_status, 0, 0, "status" },
	{ "up", h_up, 1, 1, "up NAME" },
	{ "reload", h_reload, 0, 0, "reload" },
	{ "rekey", h_rekey, 1, 1, "rekey NAME" },
	{ "big", h_big, 0, 0, "big" },
	{ "broken", h_broken, 0, 0, "broken" },
	{ NULL, NULL, 0, 0, NULL },
};

static struct app app;

static void *serve_thread(void *p)
{
	struct srv_thread *t = p;
	struct pollfd pfd[2] = {
		{ .fd = ctl_server_fd(t->srv), .events = POLLIN },
		{ .fd = t->stop[0], .events = POLLIN },
	};

	for (;;) {
		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents)
			return NULL;
		if (pfd[0].revents)
			ctl_server_handle(t->srv);
	}
}

static void start_server(struct srv_thread *t)
{
	assert_int_equal(ctl_server_new(sock_path, handlers, &app, &t->srv),
			 0);
	assert_int_equal(pipe2(t->stop, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&t->th, NULL, serve_thread, t), 0);
}

static void stop_server(struct srv_thread *t)
{
	assert_int_equal(write(t->stop[1], "x", 1), 1);
	pthread_join(t->th, NULL);
	close(t->stop[0]);
	close(t->stop[1]);
	ctl_server_free(t->srv);
}

static int call_words(int fd, const char *line, struct ctl_result *res)
{
	static char copy[512];
	const char *argv[CTL_MAX_ARGS];
	unsigned argc = 0;
	char *save = NULL, *w;

	snprintf(copy, sizeof(copy), "%s", line);
	for (w = strtok_r(copy, " ", &save); w && argc < CTL_MAX_ARGS;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	return ctl_call(fd, argc, argv, 5000, res);
}

/* One connection, one call: the result's status and JSON. */
static void expect_call(unsigned i, const char *line, bool ok,
			const char *reason, const char *json)
{
	struct ctl_result res;
	int fd;

	CHECK_EQ(i, ctl_connect(sock_path, &fd), 0);
	CHECK_EQ(i, call_words(fd, line, &res), 0);
	CHECK_EQ(i, res.rs.ok, ok);
	CHECK_STR(i, res.rs.reason, reason);
	if (json) {
		CHECK_EQ(i, res.rs.json_len, strlen(json));
		CHECK_EQ(i, memcmp(res.rs.json, json, res.rs.json_len), 0);
	}
	ctl_result_free(&res);
	close(fd);
}

/* true if the server closes fd within two seconds (reads drained). */
static bool closed_by_server(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char b[256];
	ssize_t k;

	for (;;) {
		if (poll(&pfd, 1, 2000) <= 0)
			return false;
		k = read(fd, b, sizeof(b));
		if (k == 0 || (k < 0 && errno == ECONNRESET))
			return true;
		if (k < 0)
			return false;
	}
}

static int raw_connect(void)
{
	int fd;

	assert_int_equal(ctl_connect(sock_path, &fd), 0);
	return fd;
}

static void raw_send(int fd, const void *p, size_t n)
{
	assert_int_equal(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static const char *logged(void)
{
	static char buf[65536];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(buf) - 1) {
		r = read(log_pipe[0], buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return buf;
}

static void test_end_to_end(void **state)
{
	struct srv_thread t;
	struct ctl_result res;
	struct stat st;
	unsigned i;
	int fd;

	memset(&app, 0, sizeof(app));
	start_server(&t);
	/* 0: the socket is there, a socket, mode 0600 */
	i = 0;
	CHECK_EQ(i, stat(sock_path, &st), 0);
	CHECK_EQ(i, S_ISSOCK(st.st_mode), 1);
	CHECK_EQ(i, st.st_mode & 0777, 0600);
	/* 1..8: dispatch, arguments, errors */
	expect_call(1, "status", true, "",
		    "{\"daemon\":{\"version\":\"test\",\"uptime\":42},"
		    "\"ike_sas\":[],\"static_sas\":[]}");
	expect_call(2, "up office", true, "", "{\"message\":\"initiating\"}");
	CHECK_EQ(2, app.ups, 1);
	CHECK_STR(2, app.last_name, "office");
	expect_call(3, "up nosuch", false, "no connection 'nosuch'",
		    "{\"error\":\"no connection 'nosuch'\"}");
	expect_call(4, "frobnicate", false, "unknown command 'frobnicate'",
		    NULL);
	expect_call(5, "up", false, "usage: up NAME", NULL);
	expect_call(6, "status now", false, "usage: status", NULL);
	expect_call(7, "reload", false, err_str(ERR_CONFIG), NULL);
	expect_call(8, "rekey office", true, "", "{}");
	/* 9: a handler that leaves its JSON open gets an error, no crash */
	expect_call(9, "broken", false, "internal error: bad reply", NULL);
	/* 10: several requests on one connection, answered in order */
	i = 10;
	fd = raw_connect();
	CHECK_EQ(i, call_words(fd, "up a", &res), 0);
	CHECK_EQ(i, res.rs.ok, true);
	ctl_result_free(&res);
	CHECK_EQ(i, call_words(fd, "status", &res), 0);
	CHECK_EQ(i, res.rs.ok, true);
	ctl_result_free(&res);
	CHECK_EQ(i, call_words(fd, "nope", &res), 0);
	CHECK_EQ(i, res.rs.ok, false);
	ctl_result_free(&res);
	close(fd);
	/* 11: two requests in one write (pipelined) */
	i = 11;
	{
		static const char two[] = "\0\0\0\4up b\0\0\0\4up c";
		struct buf b, body;
		struct ctl_response rs;
		uint8_t in[256];
		size_t got = 0;
		ssize_t k;

		fd = raw_connect();
		raw_send(fd, two, sizeof(two) - 1);
		while (got < sizeof(in)) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			if (poll(&pfd, 1, 2000) <= 0)
				break;
			k = read(fd, in + got, sizeof(in) - got);
			if (k <= 0)
				break;
			got += (size_t)k;
			buf_init(&b, in, got);
			if (!ctl_frame_get(&b, 256, &body) &&
			    !ctl_frame_get(&b, 256, &body))
				break;
		}
		buf_init(&b, in, got);
		CHECK_EQ(i, ctl_frame_get(&b, 256, &body), 0);
		CHECK_EQ(i, ctl_response_parse(&body, &rs), 0);
		CHECK_EQ(i, rs.ok, true);
		CHECK_EQ(i, ctl_frame_get(&b, 256, &body), 0);
		CHECK_EQ(i, ctl_response_parse(&body, &rs), 0);
		CHECK_EQ(i, rs.ok, true);
		CHECK_STR(i, app.last_name, "c");
		close(fd);
	}
	/* 12: a reply of ~900 KB arrives whole (partial writes) */
	i = 12;
	app.big = 900 * 1000;
	fd = raw_connect();
	CHECK_EQ(i, call_words(fd, "big", &res), 0);
	CHECK_EQ(i, res.rs.ok, true);
	CHECK_EQ(i, res.rs.json_len > 890 * 1000, 1);
	CHECK_EQ(i, res.rs.json[res.rs.json_len - 1], ']');
	ctl_result_free(&res);
	/* 13: over CTL_MAX_MSG: refused with a reason, same connection */
	i = 13;
	app.big = CTL_MAX_MSG + 1000;
	CHECK_EQ(i, call_words(fd, "big", &res), 0);
	CHECK_EQ(i, res.rs.ok, false);
	CHECK_STR(i, res.rs.reason, "reply too large");
	ctl_result_free(&res);
	close(fd);
	stop_server(&t);
	/* 14: the socket file is gone after free */
	CHECK_EQ(14, access(sock_path, F_OK), -1);
}

static void test_garbage(void **state)
{
	struct srv_thread t;
	int bad, good, fds[CTL_MAX_CLIENTS], extra;
	unsigned i, k;

	memset(&app, 0, sizeof(app));
	logged();
	start_server(&t);
	/* 0: a header declaring 4 GiB: dropped and logged, and a good
	 * client connected at the same time is still served */
	i = 0;
	bad = raw_connect();
	good = raw_connect();
	raw_send(bad, "\xff\xff\xff\xff", 4);
	CHECK_EQ(i, closed_by_server(bad), true);
	close(bad);
	{
		struct ctl_result res;

		CHECK_EQ(i, call_words(good, "status", &res), 0);
		CHECK_EQ(i, res.rs.ok, true);
		ctl_result_free(&res);
	}
	close(good);
	/* 1: just over CTL_MAX_REQUEST */
	i = 1;
	bad = raw_connect();
	raw_send(bad, "\0\0\x10\x01", 4);
	CHECK_EQ(i, closed_by_server(bad), true);
	close(bad);
	/* 2: an empty frame */
	i = 2;
	bad = raw_connect();
	raw_send(bad, "\0\0\0\0", 4);
	CHECK_EQ(i, closed_by_server(bad), true);
	close(bad);
	/* 3: a well-framed request that is not words: an error reply,
	 * then the server closes */
	i = 3;
	bad = raw_connect();
	raw_send(bad, "\0\0\0\3\x01\x02\x03", 7);
	{
		uint8_t in[256];
		struct buf b, body;
		struct ctl_response rs;
		struct pollfd pfd = { .fd = bad, .events = POLLIN };
		ssize_t n;

		CHECK_EQ(i, poll(&pfd, 1, 2000), 1);
		n = read(bad, in, sizeof(in));
		CHECK_EQ(i, n > 4, 1);
		buf_init(&b, in, (size_t)n);
		CHECK_EQ(i, ctl_frame_get(&b, sizeof(in), &body), 0);
		CHECK_EQ(i, ctl_response_parse(&body, &rs), 0);
		CHECK_EQ(i, rs.ok, false);
		CHECK_STR(i, rs.reason, "malformed request");
	}
	CHECK_EQ(i, closed_by_server(bad), true);
	close(bad);
	/* 4: half a request, then hang up: nothing breaks */
	i = 4;
	bad = raw_connect();
	raw_send(bad, "\0\0\0\6sta", 7);
	close(bad);
	expect_call(4, "status", true, "", NULL);
	/* 5: the garbage was logged */
	i = 5;
	{
		const char *log = logged();

		if (!strstr(log, "oversized frame") ||
		    !strstr(log, "empty frame") ||
		    !strstr(log, "malformed request"))
			fail_msg("case %u: log lacks the drops: %s", i, log);
	}
	/* 6: CTL_MAX_CLIENTS busy clients: one more is refused, and one
	 * leaving makes room */
	i = 6;
	for (k = 0; k < CTL_MAX_CLIENTS; k++) {
		struct ctl_result res;

		fds[k] = raw_connect();
		/* A call makes sure the server has taken it. */
		CHECK_EQ(i, call_words(fds[k], "rekey x", &res), 0);
		ctl_result_free(&res);
	}
	extra = raw_connect();
	CHECK_EQ(i, closed_by_server(extra), true);
	close(extra);
	close(fds[0]);
	expect_call(7, "status", true, "", NULL);
	for (k = 1; k < CTL_MAX_CLIENTS; k++)
		close(fds[k]);
	/* 9: a request, then shutdown(SHUT_WR): the answer still comes,
	 * then the server closes */
	i = 9;
	{
		struct pollfd pfd;
		struct buf b, body;
		struct ctl_response rs;
		uint8_t in[512];
		size_t got = 0;
		ssize_t n;

		bad = raw_connect();
		raw_send(bad, "\0\0\0\6status", 10);
		CHECK_EQ(i, shutdown(bad, SHUT_WR), 0);
		pfd.fd = bad;
		pfd.events = POLLIN;
		while (got < sizeof(in) && poll(&pfd, 1, 2000) == 1) {
			n = read(bad, in + got, sizeof(in) - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		buf_init(&b, in, got);
		CHECK_EQ(i, ctl_frame_get(&b, sizeof(in), &body), 0);
		CHECK_EQ(i, ctl_response_parse(&body, &rs), 0);
		CHECK_EQ(i, rs.ok, true);
		CHECK_EQ(i, buf_left(&b), 0);
		close(bad);
	}
	stop_server(&t);
	/* 8: the refusal was logged */
	if (!strstr(logged(), "refused"))
		fail_msg("case 8: refusal not logged");
}

static int h_none(const struct ctl_request *rq, struct ctl_reply *rp,
		  void *arg)
{
	return 0;
}

static void test_socket_file(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_server *srv = NULL, *srv2 = NULL;
	char longpath[200];
	struct stat st;
	unsigned i;
	int s, f;

	/* 0: a stale socket (nobody listening) is replaced */
	i = 0;
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(strlen(sock_path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	CHECK_EQ(i, bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(s);
	CHECK_EQ(i, access(sock_path, F_OK), 0);
	CHECK_EQ(i, ctl_server_new(sock_path, handlers, &app, &srv), 0);
	/* 1: a live one is not: ERR_EXISTS, and the first keeps working */
	i = 1;
	CHECK_EQ(i, ctl_server_new(sock_path, handlers, &app, &srv2),
		 ERR_EXISTS);
	CHECK_EQ(i, srv2 == NULL, 1);
	CHECK_EQ(i, stat(sock_path, &st), 0);
	CHECK_EQ(i, S_ISSOCK(st.st_mode), 1);
	ctl_server_free(srv);
	CHECK_EQ(i, access(sock_path, F_OK), -1);
	/* 2: a regular file in the way is left alone */
	i = 2;
	f = open(sock_path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK_EQ(i, f >= 0, 1);
	close(f);
	CHECK_EQ(i, ctl_server_new(sock_path, handlers, &app, &srv),
		 ERR_EXISTS);
	CHECK_EQ(i, stat(sock_path, &st), 0);
	CHECK_EQ(i, S_ISREG(st.st_mode), 1);
	unlink(sock_path);
	/* 3: a path too long for sun_path */
	i = 3;
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	longpath[0] = '/';
	CHECK_EQ(i, ctl_server_new(longpath, handlers, &app, &srv),
		 ERR_INVAL);
	CHECK_EQ(i, ctl_connect(longpath, &f), ERR_INVAL);
	/* 4: a handler table the protocol cannot carry */
	i = 4;
	{
		const struct ctl_handler bad1[] = {
			{ "Bad", h_none, 0, 0, NULL },
			{ NULL, NULL, 0, 0, NULL },
		};
		const struct ctl_handler bad2[] = {
			{ "ok", NULL, 0, 0, NULL },
			{ NULL, NULL, 0, 0, NULL },
		};
		const struct ctl_handler bad3[] = {
			{ "ok", h_none, 2, 1, NULL },
			{ NULL, NULL, 0, 0, NULL },
		};

		CHECK_EQ(i, ctl_server_new(sock_path, bad1, NULL, &srv),
			 ERR_INVAL);
		CHECK_EQ(i, ctl_server_new(sock_path, bad2, NULL, &srv),
			 ERR_INVAL);
		CHECK_EQ(i, ctl_server_new(sock_path, bad3, NULL, &srv),
			 ERR_INVAL);
		CHECK_EQ(i, access(sock_path, F_OK), -1);
	}
	/* 5: no daemon: connect says ENOENT (what ipsecctl explains) */
	i = 5;
	CHECK_EQ(i, ctl_connect(sock_path, &f), ERR_IO);
	CHECK_EQ(i, errno, ENOENT);
	/* 6: free(NULL) does nothing */
	ctl_server_free(NULL);
	ctl_result_free(NULL);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ipsecd-ctl.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/ctl.sock", tmpdir);
	if (pipe2(log_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	fcntl(log_pipe[1], F_SETPIPE_SZ, 1 << 20);
	log_set_fd(log_pipe[1]);
	return 0;
}

static int teardown(void **state)
{
	log_set_fd(2);
	close(log_pipe[0]);
	close(log_pipe[1]);
	unlink(sock_path);
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_static_sa),
		cmocka_unit_test(test_end_to_end),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_socket_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
