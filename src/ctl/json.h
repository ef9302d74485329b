/* SPDX-License-Identifier: MIT */
/*
 * A tiny streaming JSON writer over struct wbuf, for control replies.
 *
 * Keys come out in the order they are written, so output is stable as
 * long as the caller writes them in a fixed order (docs/ctl.md gives the
 * order for "status").  Output is compact (no spaces, no newlines).
 *
 * Misuse (a value inside an object without a key, a key outside an
 * object, an unbalanced end, nesting deeper than JSON_MAX_DEPTH) is
 * ERR_INVAL; like the writer's own errors it is sticky in j->err, so a
 * builder may write a whole document and check json_finish() once.
 *
 * Strings: '"', '\\' and control characters are escaped; valid UTF-8 is
 * kept as it is; each byte of an invalid UTF-8 sequence becomes U+FFFD,
 * so the output is always valid JSON whatever bytes come in.
 */
#ifndef IPSECD_CTL_JSON_H
#define IPSECD_CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define JSON_MAX_DEPTH 16

struct json {
	struct wbuf *w;		/* borrowed */
	int err;		/* first error, sticky */
	unsigned depth;
	bool after_key;		/* a key was written, its value is due */
	bool root_done;		/* the one top-level value is complete */
	/* Per open level: object (true) or array; has a member already. */
	bool is_obj[JSON_MAX_DEPTH];
	bool has_member[JSON_MAX_DEPTH];
};

/* Write into w (not owned); w's own errors end up in j->err too. */
void json_init(struct json *j, struct wbuf *w);
/* 0 if exactly one complete value was written and nothing failed. */
int json_finish(struct json *j);
/* true if nothing has been written yet. */
bool json_empty(const struct json *j);

int json_obj_begin(struct json *j);
int json_obj_end(struct json *j);
int json_arr_begin(struct json *j);
int json_arr_end(struct json *j);
/* A member name; the next call must write its value. */
int json_key(struct json *j, const char *key);

int json_str(struct json *j, const char *s);	/* NULL writes null */
int json_strn(struct json *j, const char *s, size_t n);
int json_u64(struct json *j, uint64_t v);
int json_i64(struct json *j, int64_t v);
int json_bool(struct json *j, bool v);
int json_null(struct json *j);

/* key + value in one call, for the common case. */
int json_kv_str(struct json *j, const char *key, const char *s);
int json_kv_u64(struct json *j, const char *key, uint64_t v);
int json_kv_i64(struct json *j, const char *key, int64_t v);
int json_kv_bool(struct json *j, const char *key, bool v);
/* "key": { / "key": [ */
int json_kv_obj(struct json *j, const char *key);
int json_kv_arr(struct json *j, const char *key);

/*
 * Write s as a JSON string literal (with quotes) straight into w, without
 * structure checks.  Exposed for tests and the fuzz target.
 */
int json_put_string(struct wbuf *w, const char *s, size_t n);

#endif
