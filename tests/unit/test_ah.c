/* SPDX-License-Identifier: MIT */
/*
 * AH (RFC 4302) round trips through ah_encap/ah_decap: every integrity
 * algorithm and AES-GMAC (RFC 4543) x tunnel/transport x IPv4/IPv6, with
 * and without ESN; mutable header fields changed in transit still
 * verify, immutable ones do not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "esp/esp.h"
#include "esp/ip.h"
#include "esp/ipsec.h"
#include "esp/sad.h"

#define SPI 0x2000b002u

struct cfg {
	const struct integ_alg *i;
	const struct encr_alg *gmac;	/* AH-GMAC instead of i */
	enum ipsec_mode mode;
	int outer;
	int inner;
	bool esn;
	bool hbh;		/* IPv6 packet with a hop-by-hop header */
};

static uint8_t buf[PKT_BUF_SIZE];
static uint8_t orig[PKT_MAX_DATA];

static void set_addr(struct ip_addr *a, int fam, uint8_t last)
{
	uint8_t b[16] = { 0 };

	b[0] = fam == 4 ? 198 : 0x20;
	b[1] = fam == 4 ? 51 : 0x01;
	b[fam == 4 ? 3 : 15] = last;
	addr_from_bytes(a, b, fam == 4 ? 4 : 16);
}

static void params(const struct cfg *c, enum sa_dir dir, struct sa_params *p)
{
	size_t k;

	memset(p, 0, sizeof(*p));
	p->spi = SPI;
	p->proto = IPSEC_PROTO_AH;
	p->mode = c->mode;
	p->dir = dir;
	set_addr(&p->src, c->outer, dir == SA_DIR_OUT ? 1 : 2);
	set_addr(&p->dst, c->outer, dir == SA_DIR_OUT ? 2 : 1);
	if (c->gmac) {
		p->encr = c->gmac;
		p->enc_key_len = (uint8_t)(c->gmac->key_len +
					   c->gmac->salt_len);
		for (k = 0; k < p->enc_key_len; k++)
			p->enc_key[k] = (uint8_t)(k * 3 + 1);
	} else {
		p->integ = c->i;
		p->integ_key_len = c->i->key_len;
		for (k = 0; k < p->integ_key_len; k++)
			p->integ_key[k] = (uint8_t)(0xa5 ^ k);
	}
	p->esn = c->esn;
	p->replay_window = 32;
}

static void make_pair(const struct cfg *c, struct ipsec_sa **out,
		      struct ipsec_sa **in)
{
	struct sa_params p;

	params(c, SA_DIR_OUT, &p);
	assert_int_equal(ipsec_sa_new(&p, out), 0);
	params(c, SA_DIR_IN, &p);
	assert_int_equal(ipsec_sa_new(&p, in), 0);
}

/* An ICMP-ish packet (protocol 1 / 58) with n payload bytes. */
static size_t make_ip(uint8_t *p, int fam, size_t n, bool hbh)
{
	size_t hl = fam == 4 ? 20 : 40 + (hbh ? 8 : 0), i, tot = hl + n;

	memset(p, 0, tot);
	if (fam == 4) {
		p[0] = 0x45;
		p[1] = 0x28;
		be16_store(p + 2, (uint16_t)tot);
		be16_store(p + 4, 0x4321);
		p[8] = 17;
		p[9] = IPPROTO_NUM_ICMP;
		p[12] = 198;	/* 198.51.100.1 -> 198.51.100.2 */
		p[13] = 51;
		p[14] = 100;
		p[15] = 1;
		p[16] = 198;
		p[17] = 51;
		p[18] = 100;
		p[19] = 2;
		ipv4_set_csum(p, 20);
	} else {
		p[0] = 0x60;
		p[1] = 0x0a;
		p[2] = 0xbc;
		p[3] = 0xde;
		be16_store(p + 4, (uint16_t)(tot - 40));
		p[6] = hbh ? IPPROTO_NUM_HOPOPTS : IPPROTO_NUM_ICMPV6;
		p[7] = 9;
		p[8] = 0x20;
		p[9] = 0x01;
		p[23] = 1;
		p[24] = 0x20;
		p[25] = 0x01;
		p[39] = 2;
		if (hbh) {
			/* RFC 8200 §4.3: one option with the 0x20 "may
			 * change" bit (type 0x3e), 4 bytes of data. */
			p[40] = IPPROTO_NUM_ICMPV6;
			p[41] = 0;
			p[42] = 0x3e;
			p[43] = 4;
			p[44] = 0xaa;
		}
	}
	for (i = 0; i < n; i++)
		p[hl + i] = (uint8_t)(i + 0x30);
	return tot;
}

static void load(struct pkt *pkt, const uint8_t *p, size_t len)
{
	pkt_init(pkt, buf, sizeof(buf), PKT_HEADROOM);
	memcpy(pkt_data(pkt), p, len);
	pkt->len = len;
}

static void fresh_in(const struct cfg *c, struct ipsec_sa **in)
{
	struct sa_params p;

	ipsec_sa_put(*in);
	params(c, SA_DIR_IN, &p);
	assert_int_equal(ipsec_sa_new(&p, in), 0);
}

static bool roundtrip(const struct cfg *c, size_t n, char *why, size_t wl)
{
	struct ipsec_sa *out, *in;
	struct demux_info d;
	struct pkt pkt;
	uint8_t enc[1024];
	size_t len, elen;
	int r;
	bool ok = false;

	make_pair(c, &out, &in);
	len = make_ip(orig, c->inner, n, c->hbh);
	load(&pkt, orig, len);
	r = ah_encap(out, &pkt);
	if (r) {
		snprintf(why, wl, "encap: %s", err_str(r));
		goto out;
	}
	elen = pkt.len;
	memcpy(enc, pkt_data(&pkt), elen);
	if (ipsec_demux(enc, elen, &d) || d.kind != DEMUX_AH ||
	    d.spi != SPI) {
		snprintf(why, wl, "demux");
		goto out;
	}
	r = ah_decap(in, &pkt);
	if (r || pkt.len != len || memcmp(pkt_data(&pkt), orig, len)) {
		snprintf(why, wl, "decap: %s", r ? err_str(r) : "differs");
		goto out;
	}
	/* Mutable fields change in transit (RFC 4302 §3.3.3.1). */
	fresh_in(c, &in);
	load(&pkt, enc, elen);
	if (enc[0] >> 4 == 4) {
		pkt_data(&pkt)[1] = 0xb8;	/* TOS */
		pkt_data(&pkt)[6] |= 0x40;	/* DF */
		pkt_data(&pkt)[8] = 1;		/* TTL */
		ipv4_set_csum(pkt_data(&pkt), 20);
	} else {
		pkt_data(&pkt)[1] ^= 0x5f;	/* traffic class, flow */
		pkt_data(&pkt)[7] = 1;		/* hop limit */
		if (c->hbh && c->mode == IPSEC_MODE_TRANSPORT)
			pkt_data(&pkt)[44] = 0x55;	/* 0x20 option */
	}
	r = ah_decap(in, &pkt);
	if (r) {
		snprintf(why, wl, "mutable change: %s", err_str(r));
		goto out;
	}
	/* An immutable byte (source address) changed: ERR_AUTH. */
	fresh_in(c, &in);
	load(&pkt, enc, elen);
	pkt_data(&pkt)[enc[0] >> 4 == 4 ? 13 : 9] ^= 1;
	if (enc[0] >> 4 == 4)
		ipv4_set_csum(pkt_data(&pkt), 20);
	r = ah_decap(in, &pkt);
	if (r != ERR_AUTH) {
		snprintf(why, wl, "immutable change: %s", err_str(r));
		goto out;
	}
	ok = true;
out:
	ipsec_sa_put(out);
	ipsec_sa_put(in);
	return ok;
}

static void test_roundtrip(void **state)
{
	static const char *const gmacs[] = { "aes-gmac-128", "aes-gmac-192",
					     "aes-gmac-256" };
	struct cfg c;
	unsigned idx = 0, a, g, k;
	char why[128];

	(void)state;
	for (a = 0;; a++) {
		memset(&c, 0, sizeof(c));
		c.i = integ_at(a);
		if (!c.i) {
			for (g = 0; integ_at(g); g++)
				;
			if (a - g >= 3)
				break;
			c.gmac = encr_by_kat_name(gmacs[a - g]);
			assert_non_null(c.gmac);
		}
		/* Bits of k: mode, outer family, inner family, hbh. */
		for (k = 0; k < 16; k++) {
			c.mode = k & 1 ? IPSEC_MODE_TRANSPORT
				       : IPSEC_MODE_TUNNEL;
			c.outer = k & 2 ? 6 : 4;
			c.inner = k & 4 ? 6 : 4;
			c.hbh = k & 8;
			c.esn = idx % 2;
			if (((k & 1) && c.outer != c.inner) ||
			    (c.hbh && c.inner != 6))
				continue;
			if (!roundtrip(&c, idx % 50 + 4, why, sizeof(why)))
				fail_msg("case %u (%s k=%u): %s", idx,
					 c.i ? c.i->kat_name
					     : c.gmac->kat_name,
					 k, why);
			idx++;
		}
	}
	assert_true(idx > 50);
}

static void test_replay_and_truncation(void **state)
{
	struct cfg c;
	struct ipsec_sa *out, *in;
	struct sa_stats st;
	struct pkt pkt;
	uint8_t enc[512];
	size_t len, elen, n;
	int r;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.i = integ_by_name("sha256");
	c.mode = IPSEC_MODE_TRANSPORT;
	c.outer = c.inner = 4;
	make_pair(&c, &out, &in);
	len = make_ip(orig, 4, 30, false);
	load(&pkt, orig, len);
	assert_int_equal(ah_encap(out, &pkt), 0);
	elen = pkt.len;
	memcpy(enc, pkt_data(&pkt), elen);
	assert_int_equal(ah_decap(in, &pkt), 0);
	load(&pkt, enc, elen);
	assert_int_equal(ah_decap(in, &pkt), ERR_REPLAY);
	for (n = 0; n < elen; n++) {
		load(&pkt, enc, n);
		if (n >= 20) {
			be16_store(pkt_data(&pkt) + 2, (uint16_t)n);
			ipv4_set_csum(pkt_data(&pkt), 20);
		}
		r = ah_decap(in, &pkt);
		if (r == 0)
			fail_msg("case %zu: truncated AH accepted", n);
	}
	ipsec_sa_get_stats(in, &st);
	assert_int_equal(st.packets, 1);
	assert_true(st.replay_drops >= 1);
	/* ESP SA handed an AH packet, AH SA an ESP one: wrong proto. */
	load(&pkt, enc, elen);
	assert_int_equal(esp_decap(in, &pkt), ERR_PROTO);
	ipsec_sa_put(out);
	ipsec_sa_put(in);
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LS_ESP, LL_ERR);
	return crypto_init();
}

static int teardown(void **state)
{
	(void)state;
	crypto_fini();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_replay_and_truncation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
