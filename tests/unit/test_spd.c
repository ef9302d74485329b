/* SPDX-License-Identifier: MIT */
/* Unit tests for the SPD (esp/spd.h) and packet selectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "esp/ip.h"
#include "esp/ipsec.h"
#include "esp/spd.h"

struct pol_row {
	uint32_t id;
	uint32_t prio;
	enum sa_dir dir;
	enum policy_action act;
	const char *src;	/* NULL = any */
	const char *dst;
	uint8_t proto;
	uint16_t sp_lo, sp_hi, dp_lo, dp_hi;
};

static const struct pol_row pols[] = {
	{ 1, 10, SA_DIR_OUT, POLICY_PROTECT, "198.51.100.0/24",
	  "198.51.100.144/28", 0, 0, 65535, 0, 65535 },
	{ 2, 5, SA_DIR_OUT, POLICY_BYPASS, NULL, "198.51.100.152/30", 17, 0,
	  65535, 53, 53 },
	{ 3, 20, SA_DIR_OUT, POLICY_DROP, NULL, NULL, 0, 0, 65535, 0, 65535 },
	{ 4, 10, SA_DIR_OUT, POLICY_PROTECT, "2001:db8::/32", "2001:db8:9::/48",
	  6, 0, 65535, 1000, 2000 },
	/* Same priority as 1, added later: checked after it. */
	{ 5, 10, SA_DIR_OUT, POLICY_BYPASS, "198.51.100.0/24", NULL, 0, 0,
	  65535, 0, 65535 },
	{ 10, 1, SA_DIR_IN, POLICY_PROTECT, "198.51.100.144/28",
	  "198.51.100.0/24", 0, 0, 65535, 0, 65535 },
	{ 11, 0, SA_DIR_IN, POLICY_BYPASS, NULL, NULL, 17, 500, 500, 0,
	  65535 },
	{ 12, 2, SA_DIR_IN, POLICY_DROP, "192.0.2.66", NULL, 0, 0, 65535, 0,
	  65535 },
};

struct flow_row {
	enum sa_dir dir;
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport;
	int want_id;		/* -1: no policy */
	int clear;		/* spd_check_in_clear result (IN rows) */
};

static const struct flow_row flows[] = {
	/* 0 */ { SA_DIR_OUT, "198.51.100.19", "198.51.100.145", 6, 1234, 80,
		  1, 0 },
	/* 1: bypass wins by priority over protect */
	{ SA_DIR_OUT, "198.51.100.19", "198.51.100.153", 17, 1234, 53, 2, 0 },
	/* 2: same but TCP: the UDP-only bypass does not match */
	{ SA_DIR_OUT, "198.51.100.19", "198.51.100.153", 6, 1234, 53, 1, 0 },
	/* 3: port 54 is outside 53..53 */
	{ SA_DIR_OUT, "198.51.100.19", "198.51.100.153", 17, 1234, 54, 1, 0 },
	/* 4: outside .144/28: insertion order puts 5 after 1 */
	{ SA_DIR_OUT, "198.51.100.19", "198.51.100.161", 6, 1, 2, 5, 0 },
	/* 5: catch-all drop */
	{ SA_DIR_OUT, "203.0.113.1", "192.0.2.8", 17, 1, 53, 3, 0 },
	/* 6..9: IPv6, TCP port range edges */
	{ SA_DIR_OUT, "2001:db8:1::1", "2001:db8:9::5", 6, 40000, 1000, 4, 0 },
	{ SA_DIR_OUT, "2001:db8:1::1", "2001:db8:9::5", 6, 40000, 2000, 4, 0 },
	{ SA_DIR_OUT, "2001:db8:1::1", "2001:db8:9::5", 6, 40000, 2001, 3, 0 },
	{ SA_DIR_OUT, "2001:db8:1::1", "2001:db8:9::5", 17, 40000, 1500, 3,
	  0 },
	/* 10..14: inbound, and cleartext admission (RFC 4301 §5.2) */
	{ SA_DIR_IN, "198.51.100.151", "198.51.100.1", 1, 0x0800, 0x0800, 10,
	  ERR_DROP },
	{ SA_DIR_IN, "198.51.100.151", "198.51.100.1", 17, 500, 500, 11, 0 },
	{ SA_DIR_IN, "192.0.2.66", "198.51.100.1", 6, 5, 6, 12, ERR_DROP },
	{ SA_DIR_IN, "192.0.2.67", "198.51.100.1", 6, 5, 6, -1, 0 },
	{ SA_DIR_IN, "2001:db8:9::1", "2001:db8:1::1", 6, 5, 6, -1, 0 },
};

static void sel(struct ts_sel *t, const char *net, uint8_t proto,
		uint16_t lo, uint16_t hi)
{
	memset(t, 0, sizeof(*t));
	if (net)
		assert_int_equal(prefix_parse(net, &t->net), 0);
	t->proto = proto;
	t->port_lo = lo;
	t->port_hi = hi;
}

static struct spd *load_spd(void)
{
	struct policy_params p;
	struct spd *s;
	unsigned i;

	assert_int_equal(spd_new(&s), 0);
	for (i = 0; i < sizeof(pols) / sizeof(pols[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.id = pols[i].id;
		p.priority = pols[i].prio;
		p.dir = pols[i].dir;
		p.action = pols[i].act;
		p.reqid = pols[i].id * 100;
		sel(&p.src, pols[i].src, pols[i].proto, pols[i].sp_lo,
		    pols[i].sp_hi);
		sel(&p.dst, pols[i].dst, pols[i].proto, pols[i].dp_lo,
		    pols[i].dp_hi);
		if (spd_add(s, &p))
			fail_msg("policy row %u refused", i);
	}
	return s;
}

static void test_lookup(void **state)
{
	struct policy_params got;
	struct spd *s = load_spd();
	struct flow f;
	unsigned i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		memset(&f, 0, sizeof(f));
		assert_int_equal(addr_parse(flows[i].src, &f.src), 0);
		assert_int_equal(addr_parse(flows[i].dst, &f.dst), 0);
		f.proto = flows[i].proto;
		f.sport = flows[i].sport;
		f.dport = flows[i].dport;
		r = spd_lookup(s, flows[i].dir, &f, &got);
		if (flows[i].want_id < 0) {
			if (r != ERR_NOTFOUND)
				fail_msg("case %u: matched policy %u", i,
					 got.id);
		} else if (r || got.id != (uint32_t)flows[i].want_id) {
			fail_msg("case %u: got %d/%u, want policy %d", i, r,
				 r ? 0 : got.id, flows[i].want_id);
		}
		if (flows[i].dir == SA_DIR_IN &&
		    spd_check_in_clear(s, &f) != flows[i].clear)
			fail_msg("case %u: cleartext admission wrong", i);
	}
	spd_free(s);
}

static void test_add_del(void **state)
{
	struct policy_params p;
	struct spd *s = load_spd();
	struct flow f;

	(void)state;
	assert_int_equal(spd_count(s), sizeof(pols) / sizeof(pols[0]));
	memset(&p, 0, sizeof(p));
	p.id = 1;
	p.dir = SA_DIR_IN;
	assert_int_equal(spd_add(s, &p), ERR_EXISTS);
	p.id = 99;
	p.src.port_lo = 10;
	p.src.port_hi = 9;
	assert_int_equal(spd_add(s, &p), ERR_INVAL);
	sel(&p.src, "198.51.100.0/24", 0, 0, 65535);
	sel(&p.dst, "2001:db8::/32", 0, 0, 65535);
	assert_int_equal(spd_add(s, &p), ERR_INVAL);	/* mixed families */
	/* Deleting the bypass exposes the protect policy below it. */
	memset(&f, 0, sizeof(f));
	addr_parse("198.51.100.19", &f.src);
	addr_parse("198.51.100.153", &f.dst);
	f.proto = 17;
	f.dport = 53;
	assert_int_equal(spd_lookup(s, SA_DIR_OUT, &f, &p), 0);
	assert_int_equal(p.id, 2);
	assert_int_equal(spd_del(s, 2), 0);
	assert_int_equal(spd_del(s, 2), ERR_NOTFOUND);
	assert_int_equal(spd_lookup(s, SA_DIR_OUT, &f, &p), 0);
	assert_int_equal(p.id, 1);
	assert_int_equal(p.reqid, 100);
	spd_free(s);
	spd_free(NULL);
}

/* Selectors of real packets: ports, ICMP type/code, fragments. */
static void test_flow_from_packet(void **state)
{
	uint8_t p[80];
	struct flow f;

	(void)state;
	memset(p, 0, sizeof(p));
	p[0] = 0x45;
	be16_store(p + 2, 28);
	p[8] = 64;
	p[9] = IPPROTO_NUM_UDP;
	p[12] = 192;
	p[14] = 2;
	p[15] = 1;
	p[16] = 192;
	p[18] = 2;
	p[19] = 2;
	be16_store(p + 20, 4500);
	be16_store(p + 22, 53);
	ipv4_set_csum(p, 20);
	assert_int_equal(flow_from_packet(p, 28, &f), 0);
	assert_int_equal(f.proto, 17);
	assert_int_equal(f.sport, 4500);
	assert_int_equal(f.dport, 53);
	/* ICMP echo: type 8 code 0 as the "port" (RFC 7296 §3.13.1). */
	p[9] = IPPROTO_NUM_ICMP;
	p[20] = 8;
	p[21] = 0;
	ipv4_set_csum(p, 20);
	assert_int_equal(flow_from_packet(p, 28, &f), 0);
	assert_int_equal(f.sport, 0x0800);
	/* Non-first fragment: no ports. */
	p[9] = IPPROTO_NUM_UDP;
	be16_store(p + 6, 0x0010);
	ipv4_set_csum(p, 20);
	assert_int_equal(flow_from_packet(p, 28, &f), 0);
	assert_int_equal(f.sport, 0);
	/* Broken header checksum and truncation. */
	p[10] ^= 1;
	assert_int_equal(flow_from_packet(p, 28, &f), ERR_MALFORMED);
	assert_int_equal(flow_from_packet(p, 10, &f), ERR_MALFORMED);
	assert_int_equal(flow_from_packet(p, 0, &f), ERR_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_add_del),
		cmocka_unit_test(test_flow_from_packet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
