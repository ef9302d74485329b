/* SPDX-License-Identifier: MIT */
/* Unit tests for the INI reader and typed values (src/config). */
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "config/ini.h"
#include "config/value.h"

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

/* Log lines land in a pipe so that tests can check file:line. */
static int log_pipe[2];
static char logbuf[16384];

static int setup(void **state)
{
	if (pipe2(log_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	fcntl(log_pipe[1], F_SETPIPE_SZ, 1 << 16);
	log_set_fd(log_pipe[1]);
	return 0;
}

static int teardown(void **state)
{
	log_set_fd(2);
	close(log_pipe[0]);
	close(log_pipe[1]);
	return 0;
}

/* Everything logged since the last call. */
static const char *logged(void)
{
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(logbuf) - 1) {
		r = read(log_pipe[0], logbuf + n, sizeof(logbuf) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	logbuf[n] = '\0';
	return logbuf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Write text to a fresh temp file; path gets its name. */
static void write_temp(const char *text, size_t len, char *path, size_t cap)
{
	int fd;

	snprintf(path, cap, "/tmp/ipsecd-test-ini-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

struct parse_case {
	const char *text;
	size_t len;		/* 0: strlen(text) */
	int want;
	const char *err;	/* expected after "PATH:", or NULL */
	unsigned nerr;		/* number of log lines */
	/* on success: section, key, expected value (NULL: skip) */
	const char *type, *name, *key, *value;
	unsigned line;		/* line of key */
};

static const struct parse_case parse_cases[] = {
	/* 0: the documented example */
	{ "[daemon]\n"
	  "tun = ipsec0                 ; TUN device name\n"
	  "[conn office]\n"
	  "local = 192.0.2.10           ; comment\n"
	  "esp = aes256gcm16, aes128-sha256\n", 0, 0, NULL, 0,
	  "conn", "office", "esp", "aes256gcm16, aes128-sha256", 5 },
	/* 1 */
	{ "[daemon]\ntun = ipsec0 ; x\n", 0, 0, NULL, 0,
	  "daemon", NULL, "tun", "ipsec0", 2 },
	/* 2: empty file */
	{ "", 0, 0, NULL, 0, NULL, NULL, NULL, NULL, 0 },
	/* 3: comments, blanks and whitespace everywhere */
	{ "; c\n# c\n\n   \n\t[daemon] ; c\n  k  =  v w  \n", 0, 0, NULL, 0,
	  "daemon", NULL, "k", "v w", 6 },
	/* 4: '#' or ';' without whitespace before it is data */
	{ "[d]\nk = a#b;c\n", 0, 0, NULL, 0, "d", NULL, "k", "a#b;c", 2 },
	/* 5: tab before the comment */
	{ "[d]\nk = a\t#c\n", 0, 0, NULL, 0, "d", NULL, "k", "a", 2 },
	/* 6: CRLF line ends */
	{ "[d]\r\nk = v\r\n", 0, 0, NULL, 0, "d", NULL, "k", "v", 2 },
	/* 7: no final newline */
	{ "[d]\nk = v", 0, 0, NULL, 0, "d", NULL, "k", "v", 2 },
	/* 8: '=' inside the value */
	{ "[d]\nk = a = b\n", 0, 0, NULL, 0, "d", NULL, "k", "a = b", 2 },
	/* 9: same type, different names; a nameless one too */
	{ "[conn a]\n[conn b]\n[conn]\nx = 1\n", 0, 0, NULL, 0,
	  "conn", NULL, "x", "1", 4 },
	/* 10: extra spaces inside the header */
	{ "[  conn   office  ]\nx=1\n", 0, 0, NULL, 0,
	  "conn", "office", "x", "1", 2 },
	/* 11..: errors with file:line */
	{ "[daemon]\nfoo\n", 0, ERR_CONFIG, ":2: expected 'key = value'", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "tun = x\n", 0, ERR_CONFIG, ":1: key 'tun' outside a section", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "[daemon]\na=1\na = 2\n", 0, ERR_CONFIG,
	  ":3: duplicate key 'a' in [daemon] (first at line 2)", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "[conn a]\n\n[conn a]\n", 0, ERR_CONFIG,
	  ":3: duplicate section [conn a] (first at line 1)", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "[daemon]\n[daemon]\n", 0, ERR_CONFIG,
	  ":2: duplicate section [daemon]", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "[daemon\n", 0, ERR_CONFIG, ":1: section header without ']'", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "[]\n", 0, ERR_CONFIG, ":1: bad section header", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "[a b c]\n", 0, ERR_CONFIG, ":1: bad section header", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "[a/b]\n", 0, ERR_CONFIG, ":1: bad section header", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "[d]\n= x\n", 0, ERR_CONFIG, ":2: bad key name", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "[d]\nmy key = x\n", 0, ERR_CONFIG, ":2: bad key name", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "[d]\nk =\n", 0, ERR_CONFIG, ":2: empty value for 'k'", 1,
	  NULL, NULL, NULL, NULL, 0 },
	{ "[d]\nk = ; only a comment\n", 0, ERR_CONFIG,
	  ":2: empty value for 'k'", 1,
	  NULL, NULL, NULL, NULL, 0 },
	/* 24: keys under a bad header are not reported again */
	{ "[bad\nk = v\nj = w\n", 0, ERR_CONFIG, ":1: section header", 1,
	  NULL, NULL, NULL, NULL, 0 },
	/* 25: every error is reported, not only the first */
	{ "[d]\nx\ny = 1\nz\n", 0, ERR_CONFIG, ":4: expected", 2,
	  NULL, NULL, NULL, NULL, 0 },
	/* 26: a NUL byte */
	{ "[d]\nk = v\0w\n", 10, ERR_CONFIG, ":2: NUL byte", 1,
	  NULL, NULL, NULL, NULL, 0 },
	/* 27: a value that is only ';' is a comment, so empty */
	{ "[d]\nk = ;\n", 0, ERR_CONFIG, ":2: empty value", 1,
	  NULL, NULL, NULL, NULL, 0 },
};

static void test_parse(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		char path[64], want[256];
		struct ini *ini = (struct ini *)1;
		struct ini_section *s;
		struct ini_kv *kv;
		const char *log;

		write_temp(c->text, len, path, sizeof(path));
		logged();
		CHECK_EQ(i, ini_load(path, &ini), c->want);
		log = logged();
		unlink(path);
		CHECK_EQ(i, count_lines(log), c->nerr);
		if (c->want) {
			CHECK_EQ(i, ini == NULL, 1);
			snprintf(want, sizeof(want), "%s%s", path, c->err);
			if (!strstr(log, want))
				fail_msg("case %u: log '%s' lacks '%s'",
					 (unsigned)i, log, want);
			continue;
		}
		CHECK_STR(i, ini_path(ini), path);
		if (c->type) {
			s = ini_find(ini, c->type, c->name);
			CHECK_EQ(i, s != NULL, 1);
			kv = ini_get_kv(s, c->key);
			CHECK_EQ(i, kv != NULL, 1);
			CHECK_STR(i, kv->value, c->value);
			CHECK_EQ(i, kv->line, c->line);
			CHECK_EQ(i, kv->used, 1);
		} else {
			CHECK_EQ(i, ini_first(ini) == NULL, 1);
		}
		ini_free(ini);
	}
}

/* The same through ini_parse_mem, which the fuzzer uses. */
static void test_parse_mem(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		char want[256];
		struct ini *ini;
		const char *log;

		logged();
		CHECK_EQ(i, ini_parse_mem(c->text, len, "mem.ini", &ini),
			 c->want);
		log = logged();
		if (c->want) {
			snprintf(want, sizeof(want), "mem.ini%s", c->err);
			if (!strstr(log, want))
				fail_msg("case %u: log '%s' lacks '%s'",
					 (unsigned)i, log, want);
			continue;
		}
		ini_free(ini);
	}
}

static void test_iterate(void **state)
{
	static const char text[] = "[daemon]\na = 1\nb = 2\n"
				   "[conn office]\nc = 3\n"
				   "[conn home]\n"
				   "[peer]\nd = 4\n";
	static const char *const titles[] = { "[daemon]", "[conn office]",
					      "[conn home]", "[peer]" };
	static const unsigned nkeys[] = { 2, 1, 0, 1 };
	struct ini_section *s;
	struct ini_kv *kv;
	struct ini *ini;
	char buf[64];
	size_t i = 0;
	unsigned n;

	assert_int_equal(ini_parse_mem(text, strlen(text), "it", &ini), 0);
	for (s = ini_first(ini); s; s = ini_next(s), i++) {
		assert_true(i < 4);
		CHECK_STR(i, ini_section_fmt(s, buf, sizeof(buf)), titles[i]);
		n = 0;
		for (kv = s->keys; kv; kv = kv->next)
			n++;
		CHECK_EQ(i, n, nkeys[i]);
	}
	assert_int_equal(i, 4);
	s = ini_first(ini);
	assert_string_equal(s->keys->key, "a");
	assert_string_equal(s->keys->next->key, "b");
	assert_int_equal(s->line, 1);
	/* Lookups: absent sections and keys, a NULL section. */
	assert_null(ini_find(ini, "conn", NULL));
	assert_null(ini_find(ini, "conn", "work"));
	assert_null(ini_find(ini, "daemon", "x"));
	assert_non_null(ini_find(ini, "conn", "home"));
	assert_null(ini_get(NULL, "a"));
	assert_null(ini_get(s, "zz"));
	assert_null(ini_get(s, "A"));	/* keys are case-sensitive */
	ini_free(ini);
	ini_free(NULL);
}

static void test_unused(void **state)
{
	static const char text[] = "[daemon]\ntun = x\nfoo = 1\n"
				   "[conn office]\nlocal = 1.2.3.4\nbar = 2\n"
				   "[plugin]\nanything = 3\n";
	struct ini_section *d, *c;
	struct ini *ini;
	const char *log;

	assert_int_equal(ini_parse_mem(text, strlen(text), "u.conf", &ini),
			 0);
	d = ini_find(ini, "daemon", NULL);
	c = ini_find(ini, "conn", "office");
	assert_string_equal(ini_get(d, "tun"), "x");
	assert_string_equal(ini_get(c, "local"), "1.2.3.4");
	ini_mark_all_used(ini_find(ini, "plugin", NULL));
	logged();
	assert_int_equal(ini_check_unused(ini), ERR_CONFIG);
	log = logged();
	assert_int_equal(count_lines(log), 2);
	assert_non_null(strstr(log, "u.conf:3: unknown key 'foo' in [daemon]"));
	assert_non_null(strstr(log,
			       "u.conf:6: unknown key 'bar' in [conn office]"));
	/* Once asked for, the keys are known. */
	assert_string_equal(ini_get(d, "foo"), "1");
	assert_string_equal(ini_get(c, "bar"), "2");
	assert_int_equal(ini_check_unused(ini), 0);
	assert_string_equal(logged(), "");
	ini_free(ini);
}

static void test_load_errors(void **state)
{
	struct ini *ini = (struct ini *)1;
	const char *log;

	/* 0: missing file */
	logged();
	assert_int_equal(ini_load("/nonexistent/ipsecd.conf", &ini), ERR_IO);
	assert_null(ini);
	log = logged();
	assert_non_null(strstr(log, "/nonexistent/ipsecd.conf: cannot open"));
	/* 1: a directory */
	assert_int_equal(ini_load("/tmp", &ini), ERR_IO);
	assert_non_null(strstr(logged(), "/tmp: not a regular file"));
}

static void test_duration(void **state)
{
	static const struct {
		const char *in;
		int want;
		uint64_t v;
	} cases[] = {
		{ "30s", 0, 30 }, { "1h", 0, 3600 }, { "90m", 0, 5400 },
		{ "4h", 0, 14400 }, { "2d", 0, 172800 }, { "45", 0, 45 },
		{ "0", 0, 0 }, { "0s", 0, 0 },
		{ "", ERR_INVAL, 0 }, { "s", ERR_INVAL, 0 },
		{ "10x", ERR_INVAL, 0 }, { "10ss", ERR_INVAL, 0 },
		{ "-5s", ERR_INVAL, 0 }, { " 5s", ERR_INVAL, 0 },
		{ "5 s", ERR_INVAL, 0 }, { "1.5h", ERR_INVAL, 0 },
		{ "10H", ERR_INVAL, 0 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", ERR_OVERFLOW, 0 },
		{ "18446744073709551615m", ERR_OVERFLOW, 0 },
		{ "307445734561825860m", 0, 18446744073709551600ull },
		{ "307445734561825861m", ERR_OVERFLOW, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 7;

		CHECK_EQ(i, cfg_parse_duration(cases[i].in, &v), cases[i].want);
		if (!cases[i].want && v != cases[i].v)
			fail_msg("case %u: %llu", (unsigned)i,
				 (unsigned long long)v);
		if (cases[i].want)
			CHECK_EQ(i, v, 7);
	}
}

static void test_size(void **state)
{
	static const struct {
		const char *in;
		int want;
		uint64_t v;
	} cases[] = {
		{ "1G", 0, 1ull << 30 }, { "500M", 0, 500ull << 20 },
		{ "4096", 0, 4096 }, { "0", 0, 0 }, { "1k", 0, 1024 },
		{ "2T", 0, 2ull << 40 }, { "16777215T", 0, 16777215ull << 40 },
		{ "16777216T", ERR_OVERFLOW, 0 },
		{ "", ERR_INVAL, 0 }, { "G", ERR_INVAL, 0 },
		{ "1GB", ERR_INVAL, 0 }, { "1 G", ERR_INVAL, 0 },
		{ "1P", ERR_INVAL, 0 }, { "-1", ERR_INVAL, 0 },
		{ "0x10", ERR_INVAL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 7;

		CHECK_EQ(i, cfg_parse_size(cases[i].in, &v), cases[i].want);
		if (!cases[i].want && v != cases[i].v)
			fail_msg("case %u: %llu", (unsigned)i,
				 (unsigned long long)v);
	}
}

static void test_bool(void **state)
{
	static const struct {
		const char *in;
		int want;
		bool v;
	} cases[] = {
		{ "yes", 0, true }, { "no", 0, false }, { "on", 0, true },
		{ "off", 0, false }, { "true", 0, true }, { "false", 0, false },
		{ "YES", 0, true }, { "Off", 0, false }, { "1", 0, true },
		{ "0", 0, false },
		{ "", ERR_INVAL, 0 }, { "y", ERR_INVAL, 0 },
		{ "yes ", ERR_INVAL, 0 }, { "enabled", ERR_INVAL, 0 },
		{ "2", ERR_INVAL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool v = !cases[i].v;

		CHECK_EQ(i, cfg_parse_bool(cases[i].in, &v), cases[i].want);
		if (!cases[i].want)
			CHECK_EQ(i, v, cases[i].v);
	}
}

static void test_hex(void **state)
{
	static const struct {
		const char *in;
		size_t cap;
		int want;
		size_t len;
		uint8_t first, last;
	} cases[] = {
		{ "0x0123456789abcdef", 8, 0, 8, 0x01, 0xef },
		{ "0X0123456789ABCDEF", 8, 0, 8, 0x01, 0xef },
		{ "0123", 2, 0, 2, 0x01, 0x23 },	/* no 0x */
		{ "ff", 1, 0, 1, 0xff, 0xff },
		{ "0x0123", 1, ERR_OVERFLOW, 0, 0, 0 },	/* one byte short */
		{ "0x", 4, ERR_INVAL, 0, 0, 0 },
		{ "", 4, ERR_INVAL, 0, 0, 0 },
		{ "0x123", 4, ERR_INVAL, 0, 0, 0 },	/* odd */
		{ "0x12g4", 4, ERR_INVAL, 0, 0, 0 },
		{ "0x12 34", 4, ERR_INVAL, 0, 0, 0 },
		{ "0x0x12", 4, ERR_INVAL, 0, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t out[16];
		size_t len = 99;

		memset(out, 0xaa, sizeof(out));
		CHECK_EQ(i, cfg_parse_hex(cases[i].in, out, cases[i].cap,
					  &len), cases[i].want);
		CHECK_EQ(i, len, cases[i].len);
		if (!cases[i].want) {
			CHECK_EQ(i, out[0], cases[i].first);
			CHECK_EQ(i, out[len - 1], cases[i].last);
		}
		/* Never writes past cap. */
		CHECK_EQ(i, out[cases[i].cap], 0xaa);
	}
}

static void test_list(void **state)
{
	static const struct {
		const char *in;
		int want;
		size_t n;
		const char *items[3];
	} cases[] = {
		{ "aes256gcm16, aes128-sha256", 0, 2,
		  { "aes256gcm16", "aes128-sha256" } },
		{ "one", 0, 1, { "one" } },
		{ " a ,\tb\t, c ", 0, 3, { "a", "b", "c" } },
		{ "a b, c", 0, 2, { "a b", "c" } },
		{ "", ERR_INVAL, 0, { NULL } },
		{ " ", ERR_INVAL, 0, { NULL } },
		{ "a,", ERR_INVAL, 0, { NULL } },
		{ ",a", ERR_INVAL, 0, { NULL } },
		{ "a,,b", ERR_INVAL, 0, { NULL } },
		{ "a, ,b", ERR_INVAL, 0, { NULL } },
	};
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char **items = (char **)1;
		size_t n = 99;

		CHECK_EQ(i, cfg_parse_list(cases[i].in, &items, &n),
			 cases[i].want);
		CHECK_EQ(i, n, cases[i].n);
		if (cases[i].want) {
			CHECK_EQ(i, items == NULL, 1);
			continue;
		}
		for (k = 0; k < n; k++)
			CHECK_STR(i, items[k], cases[i].items[k]);
		cfg_list_free(items, n);
	}
	cfg_list_free(NULL, 0);
}

static void test_typed_getters(void **state)
{
	static const char text[] = "[conn office]\nlife = 4h\nbad = 4y\n"
				   "size = 1G\nbig = 99999999999999999999\n"
				   "on = yes\nmaybe = perhaps\n";
	struct ini_section *s;
	struct ini *ini;
	uint64_t v;
	bool b;

	assert_int_equal(ini_parse_mem(text, strlen(text), "t.conf", &ini),
			 0);
	s = ini_first(ini);
	logged();
	/* 0..2: duration */
	assert_int_equal(ini_get_duration(s, "life", &v), 0);
	assert_int_equal(v, 14400);
	assert_int_equal(ini_get_duration(s, "absent", &v), ERR_NOTFOUND);
	assert_string_equal(logged(), "");
	assert_int_equal(ini_get_duration(s, "bad", &v), ERR_CONFIG);
	assert_non_null(strstr(logged(), "t.conf:3: bad value '4y' for 'bad' "
				       "in [conn office]"));
	/* 3..4: size */
	assert_int_equal(ini_get_size(s, "size", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(ini_get_size(s, "big", &v), ERR_CONFIG);
	assert_non_null(strstr(logged(), "t.conf:5: bad value"));
	/* 5..6: bool */
	assert_int_equal(ini_get_bool(s, "on", &b), 0);
	assert_true(b);
	assert_int_equal(ini_get_bool(s, "maybe", &b), ERR_CONFIG);
	assert_non_null(strstr(logged(), "t.conf:7: bad value 'perhaps'"));
	/* All were looked at, so none is unknown. */
	assert_int_equal(ini_check_unused(ini), 0);
	ini_free(ini);
}

static void test_secret_file(void **state)
{
	static const struct {
		mode_t mode;
		int want;
	} cases[] = {
		{ 0600, 0 }, { 0400, 0 }, { 0200, 0 }, { 0700, 0 },
		{ 0640, ERR_PERM }, { 0620, ERR_PERM }, { 0610, ERR_PERM },
		{ 0604, ERR_PERM }, { 0602, ERR_PERM }, { 0601, ERR_PERM },
		{ 0644, ERR_PERM }, { 0666, ERR_PERM },
	};
	char path[64], want[128];
	const char *log;
	size_t i;

	write_temp("0x00", 4, path, sizeof(path));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ(i, chmod(path, cases[i].mode), 0);
		logged();
		CHECK_EQ(i, secret_file_check(path), cases[i].want);
		log = logged();
		if (!cases[i].want) {
			CHECK_EQ(i, strlen(log), 0);
			continue;
		}
		snprintf(want, sizeof(want), "chmod 600 %s", path);
		if (!strstr(log, path) || !strstr(log, want))
			fail_msg("case %u: log '%s'", (unsigned)i, log);
	}
	unlink(path);
	/* A missing file is an I/O error, and says so. */
	assert_int_equal(secret_file_check(path), ERR_IO);
	assert_non_null(strstr(logged(), "cannot stat"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_mem),
		cmocka_unit_test(test_iterate),
		cmocka_unit_test(test_unused),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_typed_getters),
		cmocka_unit_test(test_secret_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
