/* SPDX-License-Identifier: MIT */
/* Unit tests for the inbound demultiplexer (esp/ipsec.h). */
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

enum mut { M_NONE, M_CSUM, M_FRAG, M_V6FRAG, M_VERSION, M_LONG, M_ULEN };

struct row {
	int ver;
	uint8_t proto;		/* 50, 51, 17, 6 */
	uint16_t sport, dport;	/* UDP */
	unsigned n_ext;		/* IPv6: hop-by-hop + dest-opts */
	const uint8_t body[8];
	size_t body_len;
	enum mut mut;
	int want;
	enum demux_kind kind;
	uint32_t spi;
	size_t off;
};

static const struct row rows[] = {
	/* 0 */ { 4, 50, 0, 0, 0, { 0, 0, 1, 2, 0, 0, 0, 1 }, 8, M_NONE, 0,
		  DEMUX_ESP, 0x102, 20 },
	/* 1: AH: SPI is the second word */
	{ 4, 51, 0, 0, 0, { 50, 4, 0, 0, 0xde, 0xad, 0xbe, 0xef }, 8,
	  M_NONE, 0, DEMUX_AH, 0xdeadbeef, 20 },
	/* 2: ESP-in-UDP */
	{ 4, 17, 4500, 4500, 0, { 0, 0, 0, 9, 0, 0, 0, 1 }, 8, M_NONE, 0,
	  DEMUX_ESP_UDP, 9, 28 },
	/* 3: non-ESP marker: IKE behind it */
	{ 4, 17, 4500, 4500, 0, { 0, 0, 0, 0, 1, 2, 3, 4 }, 8, M_NONE, 0,
	  DEMUX_IKE, 0, 32 },
	/* 4: NAT keepalive */
	{ 4, 17, 4500, 4500, 0, { 0xff }, 1, M_NONE, 0, DEMUX_KEEPALIVE, 0,
	  28 },
	/* 5: other UDP and TCP are not ours */
	{ 4, 17, 500, 500, 0, { 0, 0, 0, 9 }, 4, M_NONE, 0, DEMUX_OTHER, 0,
	  20 },
	{ 4, 6, 0, 0, 0, { 0 }, 8, M_NONE, 0, DEMUX_OTHER, 0, 20 },
	/* 7..8: IPv6, with hop-by-hop and destination options */
	{ 6, 50, 0, 0, 0, { 0, 0, 0, 7 }, 8, M_NONE, 0, DEMUX_ESP, 7, 40 },
	{ 6, 50, 0, 0, 2, { 0, 0, 0, 7 }, 8, M_NONE, 0, DEMUX_ESP, 7, 56 },
	{ 6, 17, 1, 4500, 1, { 0, 0, 0, 5, 0, 0, 0, 1 }, 8, M_NONE, 0,
	  DEMUX_ESP_UDP, 5, 56 },
	/* 10..: broken input */
	{ 4, 50, 0, 0, 0, { 0 }, 8, M_CSUM, ERR_MALFORMED,
	  DEMUX_OTHER, 0, 0 },
	{ 4, 50, 0, 0, 0, { 0 }, 8, M_FRAG, ERR_UNSUPPORTED,
	  DEMUX_OTHER, 0, 0 },
	{ 6, 50, 0, 0, 0, { 0 }, 8, M_V6FRAG, ERR_UNSUPPORTED,
	  DEMUX_OTHER, 0, 0 },
	{ 4, 50, 0, 0, 0, { 0 }, 8, M_VERSION, ERR_MALFORMED,
	  DEMUX_OTHER, 0, 0 },
	{ 4, 50, 0, 0, 0, { 0 }, 8, M_LONG, ERR_MALFORMED,
	  DEMUX_OTHER, 0, 0 },
	{ 6, 50, 0, 0, 0, { 0 }, 8, M_LONG, ERR_MALFORMED,
	  DEMUX_OTHER, 0, 0 },
	{ 4, 17, 4500, 4500, 0, { 1, 2, 3, 4 }, 4, M_ULEN, ERR_MALFORMED,
	  DEMUX_OTHER, 0, 0 },
	{ 4, 50, 0, 0, 0, { 1, 2 }, 2, M_NONE, ERR_MALFORMED,
	  DEMUX_OTHER, 0, 0 },
	{ 4, 17, 4500, 4500, 0, { 1, 2 }, 2, M_NONE, ERR_MALFORMED,
	  DEMUX_OTHER, 0, 0 },
};

static size_t build(const struct row *r, uint8_t *p)
{
	size_t hl = r->ver == 4 ? 20 : 40, off, i, tot;
	uint8_t nh = r->proto;

	memset(p, 0, 256);
	off = hl + r->n_ext * 8;
	if (r->proto == 17) {
		be16_store(p + off, r->sport);
		be16_store(p + off + 2, r->dport);
		be16_store(p + off + 4, (uint16_t)(8 + r->body_len));
		off += 8;
	}
	memcpy(p + off, r->body, r->body_len);
	tot = off + r->body_len;
	if (r->ver == 6) {
		for (i = r->n_ext; i > 0; i--) {
			/* PadN filling the 8-byte header. */
			p[40 + (i - 1) * 8] = nh;
			p[40 + (i - 1) * 8 + 2] = 1;
			p[40 + (i - 1) * 8 + 3] = 4;
			nh = i == 1 ? IPPROTO_NUM_HOPOPTS
				    : IPPROTO_NUM_DSTOPTS;
		}
		if (r->mut == M_V6FRAG)
			nh = IPPROTO_NUM_FRAGMENT;
		p[0] = 0x60;
		be16_store(p + 4, (uint16_t)(tot - 40 +
					     (r->mut == M_LONG ? 1 : 0)));
		p[6] = nh;
		p[7] = 64;
		return tot;
	}
	p[0] = r->mut == M_VERSION ? 0x55 : 0x45;
	be16_store(p + 2, (uint16_t)(tot + (r->mut == M_LONG ? 1 : 0)));
	if (r->mut == M_FRAG)
		p[6] = 0x20;	/* MF */
	p[8] = 64;
	p[9] = r->proto;
	p[12] = 192;	/* 192.0.2.1 -> 198.51.100.1 */
	p[14] = 2;
	p[15] = 1;
	p[16] = 198;
	p[17] = 51;
	p[18] = 100;
	p[19] = 1;
	if (r->mut == M_ULEN)
		be16_store(p + 24, 200);
	ipv4_set_csum(p, 20);
	if (r->mut == M_CSUM)
		p[11] ^= 0x10;
	return tot;
}

static void test_demux(void **state)
{
	struct demux_info d;
	uint8_t p[256];
	unsigned i;
	size_t len;
	int got;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		len = build(&rows[i], p);
		got = ipsec_demux(p, len, &d);
		if (got != rows[i].want)
			fail_msg("case %u: got %d, want %d", i, got,
				 rows[i].want);
		if (got)
			continue;
		if (d.kind != rows[i].kind || d.spi != rows[i].spi ||
		    d.off != rows[i].off || d.ip_version != rows[i].ver)
			fail_msg("case %u: kind %d spi %x off %zu", i, d.kind,
				 d.spi, d.off);
	}
	/* Every prefix of a valid packet: never a crash, never success
	 * with a wrong offset. */
	len = build(&rows[8], p);
	for (i = 0; i < len; i++)
		assert_int_not_equal(ipsec_demux(p, i, &d), 0);
	assert_int_equal(ipsec_demux(NULL, 0, &d), ERR_MALFORMED);
}

static void test_csum(void **state)
{
	/* RFC 1071 §3 example bytes. */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03,
				     0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(inet_csum(b, sizeof(b)), (uint16_t)~0xddf2);
	assert_int_equal(inet_csum(b, 0), 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demux),
		cmocka_unit_test(test_csum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
