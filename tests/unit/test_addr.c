/* SPDX-License-Identifier: MIT */
/* Unit tests for addresses and prefixes (common/addr.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "common/addr.h"
#include "common/err.h"

#define CHECK_EQ(i, got, want)                                              \
	do {                                                                \
		long long g_ = (long long)(got), w_ = (long long)(want);    \
		if (g_ != w_)                                               \
			fail_msg("case %u: %s = %lld, want %lld",           \
				 (unsigned)(i), #got, g_, w_);              \
	} while (0)
#define CHECK_STR(i, got, want)                                             \
	do {                                                                \
		if (strcmp((got), (want)))                                  \
			fail_msg("case %u: '%s', want '%s'", (unsigned)(i), \
				 (got), (want));                            \
	} while (0)

static void test_addr_parse(void **state)
{
	static const struct {
		const char *in;
		int want;
		int af;
		const char *fmt;	/* canonical text */
	} cases[] = {
		{ "192.0.2.1", 0, AF_INET, "192.0.2.1" },
		{ "0.0.0.0", 0, AF_INET, "0.0.0.0" },
		{ "255.255.255.255", 0, AF_INET, "255.255.255.255" },
		{ "2001:db8::1", 0, AF_INET6, "2001:db8::1" },
		{ "2001:DB8:0:0:0:0:0:1", 0, AF_INET6, "2001:db8::1" },
		{ "::", 0, AF_INET6, "::" },
		{ "::ffff:192.0.2.1", 0, AF_INET6, "::ffff:192.0.2.1" },
		{ "", ERR_INVAL, 0, NULL },
		{ "256.0.0.1", ERR_INVAL, 0, NULL },
		{ "192.0.2", ERR_INVAL, 0, NULL },
		{ "192.0.2.1 ", ERR_INVAL, 0, NULL },
		{ "2001:db8::1::2", ERR_INVAL, 0, NULL },
		{ "192.0.2.1/32", ERR_INVAL, 0, NULL },
		{ "example.org", ERR_INVAL, 0, NULL },
		{ NULL, ERR_INVAL, 0, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_addr a;
		char buf[ADDR_STRLEN];

		CHECK_EQ(i, addr_parse(cases[i].in, &a), cases[i].want);
		if (cases[i].want) {
			CHECK_EQ(i, addr_is_unspec(&a), 1);
			CHECK_STR(i, addr_fmt(&a, buf, sizeof(buf)), "%any");
			continue;
		}
		CHECK_EQ(i, a.af, cases[i].af);
		CHECK_EQ(i, addr_len(&a), cases[i].af == AF_INET ? 4 : 16);
		CHECK_STR(i, addr_fmt(&a, buf, sizeof(buf)), cases[i].fmt);
	}
}

static void test_addr_from_bytes(void **state)
{
	static const uint8_t raw[16] = { 192, 0, 2, 7, 0, 0, 0, 0,
					 0, 0, 0, 0, 0, 0, 0, 1 };
	static const struct {
		size_t len;
		int want;
		const char *fmt;
	} cases[] = {
		{ 4, 0, "192.0.2.7" },
		{ 16, 0, "c000:207::1" },
		{ 0, ERR_INVAL, NULL },
		{ 3, ERR_INVAL, NULL },
		{ 5, ERR_INVAL, NULL },
		{ 15, ERR_INVAL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_addr a;
		char buf[ADDR_STRLEN];

		CHECK_EQ(i, addr_from_bytes(&a, raw, cases[i].len),
			 cases[i].want);
		if (!cases[i].want)
			CHECK_STR(i, addr_fmt(&a, buf, sizeof(buf)),
				  cases[i].fmt);
	}
}

static void test_prefix_parse(void **state)
{
	static const struct {
		const char *in;
		int want;
		unsigned len;
		const char *fmt;
	} cases[] = {
		/* 0..9: good */
		{ "192.0.2.0/24", 0, 24, "192.0.2.0/24" },
		{ "0.0.0.0/0", 0, 0, "0.0.0.0/0" },
		{ "192.0.2.1/32", 0, 32, "192.0.2.1/32" },
		{ "192.0.2.1", 0, 32, "192.0.2.1/32" },
		{ "::/0", 0, 0, "::/0" },
		{ "2001:db8::/32", 0, 32, "2001:db8::/32" },
		{ "2001:db8::1/128", 0, 128, "2001:db8::1/128" },
		{ "2001:db8::1", 0, 128, "2001:db8::1/128" },
		{ "11.0.0.0/7", ERR_INVAL, 0, NULL },	/* 11 = 00001011 */
		{ "198.51.100.128/25", 0, 25, "198.51.100.128/25" },
		/* 10..14: host bits set */
		{ "192.0.2.1/24", ERR_INVAL, 0, NULL },
		{ "192.0.2.1/31", ERR_INVAL, 0, NULL },
		{ "1.0.0.0/0", ERR_INVAL, 0, NULL },
		{ "2001:db8::1/64", ERR_INVAL, 0, NULL },
		{ "2001:db8::1/127", ERR_INVAL, 0, NULL },
		/* 15..27: bad lengths */
		{ "192.0.2.0/33", ERR_INVAL, 0, NULL },
		{ "2001:db8::/129", ERR_INVAL, 0, NULL },
		{ "192.0.2.0/-1", ERR_INVAL, 0, NULL },
		{ "192.0.2.0/abc", ERR_INVAL, 0, NULL },
		{ "192.0.2.0/", ERR_INVAL, 0, NULL },
		{ "192.0.2.0/24x", ERR_INVAL, 0, NULL },
		{ "192.0.2.0/ 24", ERR_INVAL, 0, NULL },
		{ "192.0.2.0/+24", ERR_INVAL, 0, NULL },
		{ "192.0.2.0/99999999999999999999999", ERR_INVAL, 0, NULL },
		{ "192.0.2.0/4294967320", ERR_INVAL, 0, NULL },
		{ "", ERR_INVAL, 0, NULL },
		{ "/24", ERR_INVAL, 0, NULL },
		{ "192.0.2.0/24/24", ERR_INVAL, 0, NULL },
		/* 28..30: odd but fine, or too long */
		{ "192.0.2.0/024", 0, 24, "192.0.2.0/24" },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999/64", ERR_INVAL,
		  0, NULL },
		{ NULL, ERR_INVAL, 0, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_prefix p;
		char buf[PREFIX_STRLEN];

		CHECK_EQ(i, prefix_parse(cases[i].in, &p), cases[i].want);
		if (cases[i].want)
			continue;
		CHECK_EQ(i, p.len, cases[i].len);
		CHECK_STR(i, prefix_fmt(&p, buf, sizeof(buf)), cases[i].fmt);
	}
}

static void test_prefix_from_addr(void **state)
{
	static const struct {
		const char *addr;
		unsigned len;
		const char *fmt;
	} cases[] = {
		{ "192.0.2.77", 24, "192.0.2.0/24" },
		{ "192.0.2.77", 0, "0.0.0.0/0" },
		{ "192.0.2.77", 32, "192.0.2.77/32" },
		{ "192.0.2.77", 200, "192.0.2.77/32" },	/* clamped */
		{ "192.0.2.255", 25, "192.0.2.128/25" },
		{ "2001:db8:ffff::1", 35, "2001:db8:e000::/35" },
		{ "2001:db8::1", 255, "2001:db8::1/128" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_addr a;
		struct ip_prefix p;
		char buf[PREFIX_STRLEN];

		CHECK_EQ(i, addr_parse(cases[i].addr, &a), 0);
		prefix_from_addr(&p, &a, (uint8_t)cases[i].len);
		CHECK_STR(i, prefix_fmt(&p, buf, sizeof(buf)), cases[i].fmt);
	}
}

static void test_contains(void **state)
{
	static const struct {
		const char *prefix;
		const char *addr;
		bool want;
	} cases[] = {
		{ "192.0.2.0/24", "192.0.2.0", true },
		{ "192.0.2.0/24", "192.0.2.255", true },
		{ "192.0.2.0/24", "192.0.3.0", false },
		{ "192.0.2.0/24", "192.0.1.255", false },
		{ "0.0.0.0/0", "203.0.113.9", true },
		{ "0.0.0.0/0", "::", false },		/* across families */
		{ "::/0", "192.0.2.1", false },
		{ "::/0", "2001:db8::1", true },
		{ "192.0.2.1/32", "192.0.2.1", true },
		{ "192.0.2.1/32", "192.0.2.2", false },
		{ "2001:db8::/32", "2001:db8:ffff::1", true },
		{ "2001:db8::/32", "2001:db9::", false },
		{ "2001:db8::1/128", "2001:db8::1", true },
		{ "2001:db8::1/128", "2001:db8::", false },
		{ "::ffff:192.0.2.0/120", "192.0.2.1", false },
		{ "198.51.100.128/25", "198.51.100.255", true },
		{ "198.51.100.128/25", "198.51.100.127", false },
		/* A boundary inside a byte with whole host bytes after it. */
		{ "2001:db8:8000::/33",
		  "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
		{ "2001:db8:8000::/33",
		  "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_prefix p;
		struct ip_addr a;

		CHECK_EQ(i, prefix_parse(cases[i].prefix, &p), 0);
		CHECK_EQ(i, addr_parse(cases[i].addr, &a), 0);
		CHECK_EQ(i, prefix_contains(&p, &a), cases[i].want);
	}
}

static void test_covers(void **state)
{
	static const struct {
		const char *outer;
		const char *inner;
		bool want;
	} cases[] = {
		{ "192.0.2.0/24", "192.0.2.0/24", true },
		{ "192.0.2.0/24", "192.0.2.128/25", true },
		{ "192.0.2.128/25", "192.0.2.0/24", false },
		{ "192.0.2.0/24", "192.0.2.7", true },
		{ "0.0.0.0/0", "192.0.2.0/24", true },
		{ "0.0.0.0/0", "::/0", false },
		{ "::/0", "0.0.0.0/0", false },
		{ "::/0", "2001:db8::/32", true },
		{ "2001:db8::/32", "2001:db8::/31", false },
		{ "2001:db8::/32", "2001:db9::/32", false },
		{ "192.0.2.0/24", "192.0.3.0/24", false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_prefix o, n;

		CHECK_EQ(i, prefix_parse(cases[i].outer, &o), 0);
		CHECK_EQ(i, prefix_parse(cases[i].inner, &n), 0);
		CHECK_EQ(i, prefix_covers(&o, &n), cases[i].want);
	}
}

static int sign(int v)
{
	return v < 0 ? -1 : v > 0;
}

static void test_cmp(void **state)
{
	static const struct {
		const char *a, *b;	/* NULL: AF_UNSPEC */
		int want;
	} cases[] = {
		{ "192.0.2.1", "192.0.2.1", 0 },
		{ "192.0.2.1", "192.0.2.2", -1 },
		{ "192.0.2.1", "127.0.0.1", 1 },
		{ "255.255.255.255", "::", -1 },	/* v4 before v6 */
		{ "::", "0.0.0.0", 1 },
		{ "2001:db8::1", "2001:db8::2", -1 },
		{ NULL, "0.0.0.0", -1 },		/* unset first */
		{ "::", NULL, 1 },
		{ NULL, NULL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_addr a = { 0 }, b = { 0 };

		if (cases[i].a)
			CHECK_EQ(i, addr_parse(cases[i].a, &a), 0);
		if (cases[i].b)
			CHECK_EQ(i, addr_parse(cases[i].b, &b), 0);
		CHECK_EQ(i, sign(addr_cmp(&a, &b)), cases[i].want);
		/* Antisymmetric, as qsort needs. */
		CHECK_EQ(i, sign(addr_cmp(&b, &a)), -cases[i].want);
		CHECK_EQ(i, addr_equal(&a, &b), cases[i].want == 0);
	}
}

static void test_sockaddr(void **state)
{
	static const struct {
		const char *addr;
		uint16_t port;
		socklen_t sl;
	} cases[] = {
		{ "192.0.2.1", 500, sizeof(struct sockaddr_in) },
		{ "192.0.2.1", 0, sizeof(struct sockaddr_in) },
		{ "2001:db8::1", 4500, sizeof(struct sockaddr_in6) },
		{ "::", 65535, sizeof(struct sockaddr_in6) },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		struct ip_addr a, back;
		socklen_t sl = 0;
		uint16_t port = 1;

		CHECK_EQ(i, addr_parse(cases[i].addr, &a), 0);
		CHECK_EQ(i, addr_to_sockaddr(&a, cases[i].port, &ss, &sl), 0);
		CHECK_EQ(i, sl, cases[i].sl);
		CHECK_EQ(i, ss.ss_family, a.af);
		CHECK_EQ(i, addr_from_sockaddr(&back, &port,
					       (struct sockaddr *)&ss, sl), 0);
		CHECK_EQ(i, addr_equal(&a, &back), 1);
		CHECK_EQ(i, port, cases[i].port);
		/* The port is in network order on the wire side. */
		CHECK_EQ(i, ntohs(((struct sockaddr_in *)&ss)->sin_port),
			 cases[i].port);
		/* A port pointer is optional. */
		CHECK_EQ(i, addr_from_sockaddr(&back, NULL,
					       (struct sockaddr *)&ss, sl), 0);
		/* A truncated sockaddr is refused. */
		CHECK_EQ(i, addr_from_sockaddr(&back, &port,
					       (struct sockaddr *)&ss,
					       sl - 1), ERR_INVAL);
	}
}

static void test_sockaddr_bad(void **state)
{
	struct sockaddr_storage ss;
	struct ip_addr a = { 0 };
	socklen_t sl;

	/* 0: an unset address has no sockaddr */
	assert_int_equal(addr_to_sockaddr(&a, 1, &ss, &sl), ERR_INVAL);
	/* 1: an unknown family is refused */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_int_equal(addr_from_sockaddr(&a, NULL, (struct sockaddr *)&ss,
					    sizeof(ss)), ERR_INVAL);
	assert_true(addr_is_unspec(&a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_addr_from_bytes),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_from_addr),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_covers),
		cmocka_unit_test(test_cmp),
		cmocka_unit_test(test_sockaddr),
		cmocka_unit_test(test_sockaddr_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
