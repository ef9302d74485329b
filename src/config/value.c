/* SPDX-License-Identifier: MIT */
#include "config/value.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "common/err.h"
#include "common/log.h"

/*
 * Leading decimal digits of s into *v; *end after them.  No sign, no
 * spaces, no empty number: strtoull would accept " -1" and wrap.
 */
static int parse_u64(const char *s, uint64_t *v, const char **end)
{
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return ERR_INVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return ERR_OVERFLOW;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	*end = s;
	return 0;
}

static int scale(const char *s, uint64_t *out, const char *units,
		 const uint64_t *mult)
{
	const char *end, *u;
	uint64_t n, m = 1;
	int r;

	r = parse_u64(s, &n, &end);
	if (r)
		return r;
	if (*end) {
		if (end[1])
			return ERR_INVAL;
		u = strchr(units, *end);
		if (!u)
			return ERR_INVAL;
		m = mult[u - units];
	}
	if (n > UINT64_MAX / m)
		return ERR_OVERFLOW;
	*out = n * m;
	return 0;
}

int cfg_parse_duration(const char *s, uint64_t *secs)
{
	static const uint64_t mult[] = { 1, 60, 3600, 86400 };

	return scale(s, secs, "smhd", mult);
}

int cfg_parse_size(const char *s, uint64_t *bytes)
{
	static const uint64_t mult[] = {
		1ull << 10, 1ull << 20, 1ull << 30, 1ull << 40,
		1ull << 10, 1ull << 20, 1ull << 30, 1ull << 40,
	};

	return scale(s, bytes, "KMGTkmgt", mult);
}

int cfg_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*v = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*v = false;
			return 0;
		}
	}
	return ERR_INVAL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cfg_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n, i;
	int hi, lo, r = 0;

	*len = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	n = strlen(s);
	if (n == 0 || n % 2)
		return ERR_INVAL;
	if (n / 2 > cap)
		return ERR_OVERFLOW;
	for (i = 0; i < n / 2; i++) {
		hi = hex_digit(s[2 * i]);
		lo = hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			r = ERR_INVAL;
			goto out;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
out:
	/* Half a key is still secret. */
	if (r)
		OPENSSL_cleanse(out, i);
	return r;
}

void cfg_list_free(char **items, size_t n)
{
	size_t i;

	if (!items)
		return;
	for (i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

static bool space(char c)
{
	return c == ' ' || c == '\t';
}

int cfg_parse_list(const char *s, char ***items, size_t *n)
{
	const char *p, *b, *e;
	char **v = NULL;
	size_t cnt = 1, i = 0;
	int r;

	*items = NULL;
	*n = 0;
	for (p = s; *p; p++)
		cnt += *p == ',';
	v = calloc(cnt, sizeof(*v));
	if (!v)
		return ERR_NOMEM;
	for (p = s; i < cnt; i++) {
		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		b = p;
		while (b < e && space(*b))
			b++;
		while (e > b && space(e[-1]))
			e--;
		if (e == b) {
			r = ERR_INVAL;
			goto out;
		}
		v[i] = strndup(b, (size_t)(e - b));
		if (!v[i]) {
			r = ERR_NOMEM;
			goto out;
		}
		p = strchr(p, ',');
		p = p ? p + 1 : "";
	}
	*items = v;
	*n = cnt;
	return 0;
out:
	cfg_list_free(v, i);
	return r;
}

static int get_typed(struct ini_section *s, const char *key, void *out,
		     int (*parse)(const char *, void *), const char *hint)
{
	struct ini_kv *kv = ini_get_kv(s, key);
	char what[160];
	int r;

	if (!kv)
		return ERR_NOTFOUND;
	r = parse(kv->value, out);
	if (r == 0)
		return 0;
	log_err(LS_CFG, "%s:%u: bad value '%s' for '%s' in %s (%s)",
		ini_path(s->ini), kv->line, kv->value, key,
		ini_section_fmt(s, what, sizeof(what)),
		r == ERR_OVERFLOW ? "too large" : hint);
	return ERR_CONFIG;
}

static int duration_cb(const char *v, void *out)
{
	return cfg_parse_duration(v, out);
}

static int size_cb(const char *v, void *out)
{
	return cfg_parse_size(v, out);
}

static int bool_cb(const char *v, void *out)
{
	return cfg_parse_bool(v, out);
}

int ini_get_duration(struct ini_section *s, const char *key, uint64_t *secs)
{
	return get_typed(s, key, secs, duration_cb,
			 "expected a number with s, m, h or d, e.g. 30s, 4h");
}

int ini_get_size(struct ini_section *s, const char *key, uint64_t *bytes)
{
	return get_typed(s, key, bytes, size_cb,
			 "expected bytes or a number with K, M, G or T");
}

int ini_get_bool(struct ini_section *s, const char *key, bool *v)
{
	return get_typed(s, key, v, bool_cb,
			 "expected yes/no, on/off or true/false");
}

int secret_file_check(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		log_err(LS_CFG, "%s: cannot stat: %s", path, strerror(errno));
		return ERR_IO;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		log_err(LS_CFG, "%s: secret file is accessible by group or "
			"others (mode %03o); run: chmod 600 %s", path,
			(unsigned)(st.st_mode & 0777), path);
		return ERR_PERM;
	}
	return 0;
}
