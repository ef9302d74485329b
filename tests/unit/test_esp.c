/* SPDX-License-Identifier: MIT */
/*
 * ESP (esp/esp.h) round trips and drop paths: every ESP algorithm of
 * the crypto table x tunnel/transport x IPv4/IPv6 outer and inner x
 * udp-encap, then tampering, truncation, padding, SPI, replay, traffic
 * selectors, sequence/lifetime limits and SA isolation.
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

#define SPI 0x1000a001u

struct cfg {
	const struct encr_alg *e;
	const struct integ_alg *i;
	enum ipsec_mode mode;
	int outer;		/* 4 or 6 (transport: the packet's family) */
	int inner;		/* 4 or 6 */
	bool udp;
	bool esn;
	bool tfc;
};

static uint8_t buf[PKT_BUF_SIZE];
static uint8_t orig[PKT_MAX_DATA];

static void set_addr(struct ip_addr *a, int fam, uint8_t last)
{
	uint8_t b[16] = { 0 };

	if (fam == 4) {
		b[0] = 192;
		b[2] = 2;
		b[3] = last;
		addr_from_bytes(a, b, 4);
	} else {
		b[0] = 0x20;
		b[1] = 0x01;
		b[2] = 0x0d;
		b[3] = 0xb8;
		b[15] = last;
		addr_from_bytes(a, b, 16);
	}
}

static void params(const struct cfg *c, enum sa_dir dir, uint32_t spi,
		   struct sa_params *p)
{
	size_t k;

	memset(p, 0, sizeof(*p));
	p->spi = spi;
	p->proto = IPSEC_PROTO_ESP;
	p->mode = c->mode;
	p->dir = dir;
	set_addr(&p->src, c->outer, dir == SA_DIR_OUT ? 1 : 2);
	set_addr(&p->dst, c->outer, dir == SA_DIR_OUT ? 2 : 1);
	if (c->udp) {
		p->encap_sport = IPSEC_NATT_PORT;
		p->encap_dport = IPSEC_NATT_PORT;
	}
	p->encr = c->e;
	p->enc_key_len = (uint8_t)(c->e->key_len + c->e->salt_len);
	for (k = 0; k < p->enc_key_len; k++)
		p->enc_key[k] = (uint8_t)(0x11 * k + 3);
	p->integ = c->i;
	if (c->i) {
		p->integ_key_len = c->i->key_len;
		for (k = 0; k < p->integ_key_len; k++)
			p->integ_key[k] = (uint8_t)(0x5a ^ k);
	}
	p->esn = c->esn;
	p->replay_window = 64;
	p->tfc_pad = c->tfc;
}

static void make_pair(const struct cfg *c, struct ipsec_sa **out,
		      struct ipsec_sa **in)
{
	struct sa_params p;

	params(c, SA_DIR_OUT, SPI, &p);
	assert_int_equal(ipsec_sa_new(&p, out), 0);
	params(c, SA_DIR_IN, SPI, &p);
	assert_int_equal(ipsec_sa_new(&p, in), 0);
}

/*
 * A UDP packet of family fam with n payload bytes into p (correct IP and
 * UDP checksums); returns its length.  proto other than UDP gives a
 * plain payload with that protocol number.
 */
static size_t make_ip(uint8_t *p, int fam, size_t n, uint8_t proto,
		      bool tunnel_addrs)
{
	size_t hl = fam == 4 ? 20 : 40, i, tot = hl + 8 + n;
	uint8_t *u = p + hl;

	memset(p, 0, tot);
	if (fam == 4) {
		p[0] = 0x45;
		p[1] = 0x10;
		be16_store(p + 2, (uint16_t)tot);
		be16_store(p + 4, 0x1234);
		p[6] = 0x40;
		p[8] = 63;
		p[9] = proto;
		/* Tunnel: 198.51.100.5 -> 198.51.100.146 inside, else
		 * 192.0.2.1 -> 192.0.2.2 like the outer header. */
		p[12] = tunnel_addrs ? 198 : 192;
		p[13] = tunnel_addrs ? 51 : 0;
		p[14] = tunnel_addrs ? 100 : 2;
		p[15] = tunnel_addrs ? 5 : 1;
		p[16] = tunnel_addrs ? 198 : 192;
		p[17] = tunnel_addrs ? 51 : 0;
		p[18] = tunnel_addrs ? 100 : 2;
		p[19] = tunnel_addrs ? 146 : 2;
		ipv4_set_csum(p, 20);
	} else {
		p[0] = 0x60;
		p[1] = 0x20;
		p[3] = 0x07;
		be16_store(p + 4, (uint16_t)(tot - 40));
		p[6] = proto;
		p[7] = 61;
		/* Tunnel: 2001:db8:1::1 -> 2001:db8:9::2 inside, else
		 * 2001:db8::1 -> 2001:db8::2 like the outer header. */
		p[8] = 0x20;
		p[9] = 0x01;
		p[10] = 0x0d;
		p[11] = 0xb8;
		p[13] = tunnel_addrs ? 0x01 : 0x00;
		p[23] = 1;
		p[24] = 0x20;
		p[25] = 0x01;
		p[26] = 0x0d;
		p[27] = 0xb8;
		p[29] = tunnel_addrs ? 0x09 : 0x00;
		p[39] = 2;
	}
	be16_store(u, 5000);
	be16_store(u + 2, 53);
	be16_store(u + 4, (uint16_t)(8 + n));
	for (i = 0; i < n; i++)
		u[8 + i] = (uint8_t)(i * 7 + n);
	/* Non-zero first: l4_csum_fix keeps an IPv4 "no checksum" 0. */
	u[6] = 0xff;
	if (proto == IPPROTO_NUM_UDP)
		l4_csum_fix(p, (uint8_t)fam, proto, u, 8 + n);
	return tot;
}

static void load(struct pkt *pkt, const uint8_t *p, size_t len)
{
	pkt_init(pkt, buf, sizeof(buf), PKT_HEADROOM);
	memcpy(pkt_data(pkt), p, len);
	pkt->len = len;
}

static size_t encap_one(const struct cfg *c, struct ipsec_sa *out,
			size_t n, struct pkt *pkt)
{
	size_t len = make_ip(orig, c->inner, n, IPPROTO_NUM_UDP,
			     c->mode == IPSEC_MODE_TUNNEL);

	load(pkt, orig, len);
	assert_int_equal(esp_encap(out, pkt), 0);
	return len;
}

static bool roundtrip(const struct cfg *c, size_t n, char *why, size_t wl)
{
	struct ipsec_sa *out, *in;
	struct demux_info d;
	struct sa_stats st;
	struct pkt pkt;
	size_t len;
	int r;
	bool ok = false;

	make_pair(c, &out, &in);
	len = encap_one(c, out, n, &pkt);
	r = ipsec_demux(pkt_data(&pkt), pkt.len, &d);
	if (r || d.spi != SPI ||
	    d.kind != (c->udp ? DEMUX_ESP_UDP : DEMUX_ESP) ||
	    d.ip_version != c->outer) {
		snprintf(why, wl, "demux r=%d kind=%d", r, d.kind);
		goto out;
	}
	r = esp_decap(in, &pkt);
	if (r) {
		snprintf(why, wl, "decap: %s", err_str(r));
		goto out;
	}
	if (pkt.len != len || memcmp(pkt_data(&pkt), orig, len)) {
		snprintf(why, wl, "output differs (%zu vs %zu bytes)", pkt.len,
			 len);
		goto out;
	}
	ipsec_sa_get_stats(in, &st);
	if (st.packets != 1 || st.seq != 1 || st.auth_fails) {
		snprintf(why, wl, "stats");
		goto out;
	}
	ok = true;
out:
	ipsec_sa_put(out);
	ipsec_sa_put(in);
	return ok;
}

/* Every combination, numbered so a failure names its case. */
static void test_roundtrip_all(void **state)
{
	const struct integ_alg *sha256 = integ_by_name("sha256");
	const struct encr_alg *e;
	struct cfg c;
	unsigned idx = 0, ei, k;
	char why[128];

	(void)state;
	for (ei = 0; (e = encr_at(ei)); ei++) {
		/* Bits of k: mode, outer family, inner family, udp. */
		for (k = 0; k < 16; k++) {
			memset(&c, 0, sizeof(c));
			c.e = e;
			c.i = e->aead ? NULL : sha256;
			c.mode = k & 1 ? IPSEC_MODE_TRANSPORT
				       : IPSEC_MODE_TUNNEL;
			c.outer = k & 2 ? 6 : 4;
			c.inner = k & 4 ? 6 : 4;
			c.udp = k & 8;
			c.esn = (idx % 3) == 1;
			c.tfc = (idx % 5) == 2;
			if ((k & 1) && c.outer != c.inner)
				continue;
			if (!roundtrip(&c, idx % 61, why, sizeof(why)))
				fail_msg("case %u (%s k=%u): %s", idx,
					 e->kat_name, k, why);
			idx++;
		}
	}
	assert_true(idx > 100);
}

/* Every integrity algorithm with AES-CBC and with NULL encryption. */
static void test_roundtrip_integ(void **state)
{
	const struct integ_alg *ia;
	struct cfg c;
	unsigned idx = 0, i, k;
	char why[128];

	(void)state;
	for (i = 0; (ia = integ_at(i)); i++) {
		for (k = 0; k < 4; k++) {
			memset(&c, 0, sizeof(c));
			c.e = encr_by_kat_name(k & 1 ? "null" : "aes-cbc-128");
			c.i = ia;
			c.mode = k & 2 ? IPSEC_MODE_TRANSPORT
				       : IPSEC_MODE_TUNNEL;
			c.outer = 4 + 2 * (int)(k & 1);
			c.inner = c.outer;
			c.esn = k == 3;
			if (!roundtrip(&c, 10 + idx, why, sizeof(why)))
				fail_msg("case %u (%s %s): %s", idx,
					 c.e->kat_name, ia->kat_name, why);
			idx++;
		}
	}
	/* Confidentiality only (RFC 4303 §3.2.2 allows it; RFC 3602). */
	memset(&c, 0, sizeof(c));
	c.e = encr_by_kat_name("aes-cbc-128");
	c.mode = IPSEC_MODE_TUNNEL;
	c.outer = 4;
	c.inner = 6;
	if (!roundtrip(&c, 33, why, sizeof(why)))
		fail_msg("case %u (cbc, no integ): %s", idx, why);
}

static struct cfg gcm_cfg(void)
{
	struct cfg c;

	memset(&c, 0, sizeof(c));
	c.e = encr_by_kat_name("aes-gcm-128-icv16");
	c.mode = IPSEC_MODE_TUNNEL;
	c.outer = 4;
	c.inner = 4;
	return c;
}

static struct cfg cbc_cfg(void)
{
	struct cfg c = gcm_cfg();

	c.e = encr_by_kat_name("aes-cbc-128");
	c.i = integ_by_name("sha256");
	return c;
}

/* Any single bit flipped behind the outer header: ERR_AUTH, counted. */
static void test_bitflip(void **state)
{
	struct cfg cs[3];
	struct ipsec_sa *out, *in;
	struct sa_stats st;
	struct pkt pkt;
	uint8_t enc[512];
	size_t elen, pos, off;
	unsigned k, fails;
	int r;

	(void)state;
	cs[0] = gcm_cfg();
	cs[1] = cbc_cfg();
	cs[2] = cbc_cfg();
	cs[2].udp = true;
	cs[2].mode = IPSEC_MODE_TRANSPORT;
	for (k = 0; k < 3; k++) {
		make_pair(&cs[k], &out, &in);
		encap_one(&cs[k], out, 40, &pkt);
		elen = pkt.len;
		memcpy(enc, pkt_data(&pkt), elen);
		/* Skip outer header, UDP and SPI (SPI changes are lookups). */
		off = 20 + (cs[k].udp ? 8 : 0) + 4;
		fails = 0;
		for (pos = off; pos < elen; pos++) {
			load(&pkt, enc, elen);
			pkt_data(&pkt)[pos] ^= (uint8_t)(1u << (pos % 8));
			r = esp_decap(in, &pkt);
			if (r != ERR_AUTH &&
			    !(pos < off + 4 && r == ERR_REPLAY))
				fail_msg("case %u pos %zu: %s", k, pos,
					 err_str(r));
			fails += r == ERR_AUTH;
		}
		ipsec_sa_get_stats(in, &st);
		assert_int_equal(st.auth_fails, fails);
		assert_int_equal(st.packets, 0);
		/* The good packet still passes: nothing moved the window. */
		load(&pkt, enc, elen);
		assert_int_equal(esp_decap(in, &pkt), 0);
		ipsec_sa_put(out);
		ipsec_sa_put(in);
	}
}

/* Every truncation (with and without fixed IP lengths) fails cleanly. */
static void test_truncated(void **state)
{
	struct cfg c = cbc_cfg();
	struct ipsec_sa *out, *in;
	struct pkt pkt;
	uint8_t enc[512];
	size_t elen, n;
	int r;

	(void)state;
	make_pair(&c, &out, &in);
	encap_one(&c, out, 21, &pkt);
	elen = pkt.len;
	memcpy(enc, pkt_data(&pkt), elen);
	for (n = 0; n < elen; n++) {
		load(&pkt, enc, n);
		r = esp_decap(in, &pkt);
		if (r == 0)
			fail_msg("case %zu: truncated packet accepted", n);
		if (n < 20)
			continue;
		load(&pkt, enc, n);
		be16_store(pkt_data(&pkt) + 2, (uint16_t)n);
		ipv4_set_csum(pkt_data(&pkt), 20);
		r = esp_decap(in, &pkt);
		if (r != ERR_MALFORMED && r != ERR_AUTH && r != ERR_PROTO)
			fail_msg("case %zu: %s", n, err_str(r));
	}
	ipsec_sa_put(out);
	ipsec_sa_put(in);
}

/*
 * Bad padding under a valid ICV: NULL encryption, so the trailer is in
 * the clear; the ICV is recomputed with the same key.
 */
static void test_bad_padding(void **state)
{
	static const struct {
		int byte;	/* offset from the end of the trailer */
		uint8_t val;
		int want;
	} cases[] = {
		{ -3, 0x07, ERR_MALFORMED },	/* padding not 1,2,3 */
		{ -2, 0xf0, ERR_MALFORMED },	/* pad length too large */
		{ -1, 0x05, ERR_MALFORMED },	/* tunnel NH not 4/41 */
		{ -1, 0x29, ERR_MALFORMED },	/* NH 41, inner is IPv4 */
	};
	struct cfg c = cbc_cfg();
	struct ipsec_sa *out, *in;
	struct integ_ctx *ic;
	struct sa_params p;
	struct sa_stats st;
	struct pkt pkt;
	uint8_t enc[512];
	size_t elen, icv = 16, end;
	unsigned k;

	(void)state;
	c.e = encr_by_kat_name("null");
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		make_pair(&c, &out, &in);
		params(&c, SA_DIR_IN, SPI, &p);
		assert_int_equal(integ_ctx_new(p.integ, p.integ_key,
					       p.integ_key_len, &ic), 0);
		/* 41 bytes of payload: 3 bytes of padding. */
		encap_one(&c, out, 41 - 28 + 0, &pkt);
		elen = pkt.len;
		memcpy(enc, pkt_data(&pkt), elen);
		end = elen - icv;
		enc[end + cases[k].byte] = cases[k].val;
		assert_int_equal(integ_init(ic), 0);
		assert_int_equal(integ_update(ic, enc + 20, end - 20), 0);
		assert_int_equal(integ_final(ic, enc + end), 0);
		load(&pkt, enc, elen);
		if (esp_decap(in, &pkt) != cases[k].want)
			fail_msg("case %u: wrong result", k);
		ipsec_sa_get_stats(in, &st);
		assert_int_equal(st.malformed, 1);
		assert_int_equal(st.auth_fails, 0);
		integ_ctx_free(ic);
		ipsec_sa_put(out);
		ipsec_sa_put(in);
	}
}

static void test_wrong_spi_and_proto(void **state)
{
	struct cfg c = gcm_cfg();
	struct ipsec_sa *out, *in, *other;
	struct sa_params p;
	struct sa_stats st;
	struct pkt pkt;

	(void)state;
	make_pair(&c, &out, &in);
	params(&c, SA_DIR_IN, SPI + 1, &p);
	assert_int_equal(ipsec_sa_new(&p, &other), 0);
	encap_one(&c, out, 30, &pkt);
	assert_int_equal(esp_decap(other, &pkt), ERR_NOTFOUND);
	ipsec_sa_get_stats(other, &st);
	assert_int_equal(st.malformed + st.auth_fails + st.packets, 0);
	/* ESP-in-UDP to a plain SA, and an outbound SA: refused. */
	assert_int_equal(esp_decap(out, &pkt), ERR_INVAL);
	assert_int_equal(ah_decap(in, &pkt), ERR_PROTO);
	pkt_data(&pkt)[9] = IPPROTO_NUM_UDP;
	ipv4_set_csum(pkt_data(&pkt), 20);
	assert_int_equal(esp_decap(in, &pkt), ERR_PROTO);
	ipsec_sa_put(out);
	ipsec_sa_put(in);
	ipsec_sa_put(other);
}

static void test_replay_drop(void **state)
{
	struct cfg c = cbc_cfg();
	struct ipsec_sa *out, *in;
	struct sa_stats st;
	struct pkt pkt;
	uint8_t p1[512], p2[512];
	size_t l1, l2;

	(void)state;
	make_pair(&c, &out, &in);
	encap_one(&c, out, 10, &pkt);
	l1 = pkt.len;
	memcpy(p1, pkt_data(&pkt), l1);
	encap_one(&c, out, 11, &pkt);
	l2 = pkt.len;
	memcpy(p2, pkt_data(&pkt), l2);
	load(&pkt, p2, l2);
	assert_int_equal(esp_decap(in, &pkt), 0);
	load(&pkt, p1, l1);
	assert_int_equal(esp_decap(in, &pkt), 0);	/* out of order ok */
	load(&pkt, p1, l1);
	assert_int_equal(esp_decap(in, &pkt), ERR_REPLAY);
	load(&pkt, p2, l2);
	assert_int_equal(esp_decap(in, &pkt), ERR_REPLAY);
	ipsec_sa_get_stats(in, &st);
	assert_int_equal(st.replay_drops, 2);
	assert_int_equal(st.packets, 2);
	assert_int_equal(st.seq, 2);
	ipsec_sa_put(out);
	ipsec_sa_put(in);
}

static void test_ts(void **state)
{
	struct cfg c = gcm_cfg();
	struct ipsec_sa *out, *in, *in2;
	struct sa_params p;
	struct sa_stats st;
	struct pkt pkt;
	uint8_t enc[512];
	size_t elen;

	(void)state;
	make_pair(&c, &out, &in);
	encap_one(&c, out, 10, &pkt);
	elen = pkt.len;
	memcpy(enc, pkt_data(&pkt), elen);
	/* Remote side 198.51.100.112/28 only: source 198.51.100.5 is
	 * outside. */
	params(&c, SA_DIR_IN, SPI, &p);
	assert_int_equal(prefix_parse("198.51.100.112/28", &p.ts_remote[0].net),
			 0);
	p.ts_remote[0].port_hi = 65535;
	p.n_ts_remote = 1;
	assert_int_equal(ipsec_sa_new(&p, &in2), 0);
	load(&pkt, enc, elen);
	assert_int_equal(esp_decap(in2, &pkt), ERR_PERM);
	ipsec_sa_get_stats(in2, &st);
	assert_int_equal(st.ts_drops, 1);
	assert_int_equal(st.packets, 0);
	ipsec_sa_put(in2);
	/* 198.51.100.0/24 port 5000 -> 198.51.100.144/28 port 53
	 * matches. */
	assert_int_equal(prefix_parse("198.51.100.0/24", &p.ts_remote[0].net),
			 0);
	p.ts_remote[0].proto = IPPROTO_NUM_UDP;
	p.ts_remote[0].port_lo = 5000;
	p.ts_remote[0].port_hi = 5000;
	assert_int_equal(prefix_parse("198.51.100.144/28", &p.ts_local[0].net),
			 0);
	p.ts_local[0].port_lo = 53;
	p.ts_local[0].port_hi = 53;
	p.n_ts_local = 1;
	assert_int_equal(ipsec_sa_new(&p, &in2), 0);
	load(&pkt, enc, elen);
	assert_int_equal(esp_decap(in2, &pkt), 0);
	ipsec_sa_put(in2);
	/* Wrong local port range. */
	p.ts_local[0].port_lo = 54;
	p.ts_local[0].port_hi = 80;
	assert_int_equal(ipsec_sa_new(&p, &in2), 0);
	load(&pkt, enc, elen);
	assert_int_equal(esp_decap(in2, &pkt), ERR_PERM);
	ipsec_sa_put(in2);
	ipsec_sa_put(out);
	ipsec_sa_put(in);
}

/* NH 59 (RFC 4303 §2.6): a transport packet of protocol 59 decapped by
 * a tunnel SA with the same keys is a dummy: ERR_DROP, no drop count. */
static void test_dummy(void **state)
{
	struct cfg c = gcm_cfg();
	struct ipsec_sa *out, *in;
	struct sa_params p;
	struct sa_stats st;
	struct pkt pkt;
	size_t len;

	(void)state;
	c.mode = IPSEC_MODE_TRANSPORT;
	params(&c, SA_DIR_OUT, SPI, &p);
	assert_int_equal(ipsec_sa_new(&p, &out), 0);
	c.mode = IPSEC_MODE_TUNNEL;
	params(&c, SA_DIR_IN, SPI, &p);
	assert_int_equal(ipsec_sa_new(&p, &in), 0);
	len = make_ip(orig, 4, 0, IPPROTO_NUM_NONE, false);
	len -= 8;	/* no payload at all */
	be16_store(orig + 2, (uint16_t)len);
	ipv4_set_csum(orig, 20);
	load(&pkt, orig, len);
	assert_int_equal(esp_encap(out, &pkt), 0);
	assert_int_equal(esp_decap(in, &pkt), ERR_DROP);
	ipsec_sa_get_stats(in, &st);
	assert_int_equal(st.malformed + st.auth_fails + st.replay_drops, 0);
	ipsec_sa_put(out);
	ipsec_sa_put(in);
}

/* Bad packets for one SA never change another SA's state. */
static void test_isolation(void **state)
{
	struct cfg c = cbc_cfg();
	struct ipsec_sa *out_a, *in_a, *out_b, *in_b;
	struct sa_params p;
	struct sa_stats st;
	struct pkt pkt;
	uint8_t good_b[512];
	size_t lb, i;

	(void)state;
	make_pair(&c, &out_a, &in_a);
	params(&c, SA_DIR_OUT, SPI + 7, &p);
	assert_int_equal(ipsec_sa_new(&p, &out_b), 0);
	params(&c, SA_DIR_IN, SPI + 7, &p);
	assert_int_equal(ipsec_sa_new(&p, &in_b), 0);
	encap_one(&c, out_b, 9, &pkt);
	lb = pkt.len;
	memcpy(good_b, pkt_data(&pkt), lb);
	for (i = 0; i < 50; i++) {
		encap_one(&c, out_a, i, &pkt);
		pkt_data(&pkt)[pkt.len - 1 - i % 8] ^= 0x40;
		assert_int_equal(esp_decap(in_a, &pkt), ERR_AUTH);
		/* The same bad packet offered to B: not B's SPI. */
		encap_one(&c, out_a, i, &pkt);
		assert_int_equal(esp_decap(in_b, &pkt), ERR_NOTFOUND);
	}
	ipsec_sa_get_stats(in_b, &st);
	assert_int_equal(st.auth_fails + st.malformed + st.replay_drops +
				 st.packets + st.seq,
			 0);
	load(&pkt, good_b, lb);
	assert_int_equal(esp_decap(in_b, &pkt), 0);
	ipsec_sa_put(out_a);
	ipsec_sa_put(in_a);
	ipsec_sa_put(out_b);
	ipsec_sa_put(in_b);
}

/* RFC 4303 §3.3.3: no wrap; ESN crosses 2^32 and decap infers it. */
static void test_seq_limits(void **state)
{
	struct cfg c = gcm_cfg();
	struct ipsec_sa *out, *in;
	struct sa_stats st;
	struct pkt pkt;
	unsigned i;

	(void)state;
	make_pair(&c, &out, &in);
	ipsec_sa_set_seq_out(out, UINT32_MAX - 1);
	encap_one(&c, out, 5, &pkt);
	load(&pkt, orig, 40);
	assert_int_equal(esp_encap(out, &pkt), ERR_EXPIRED);
	assert_true(ipsec_sa_is_dead(out));
	ipsec_sa_put(out);
	ipsec_sa_put(in);

	c.esn = true;
	make_pair(&c, &out, &in);
	ipsec_sa_set_seq_out(out, UINT32_MAX - 2);
	assert_int_equal(ipsec_sa_set_replay_top(in, UINT32_MAX - 3), 0);
	for (i = 0; i < 6; i++) {
		encap_one(&c, out, i, &pkt);
		if (esp_decap(in, &pkt))
			fail_msg("case %u: ESN decap failed", i);
	}
	ipsec_sa_get_stats(in, &st);
	assert_int_equal(st.seq, (uint64_t)UINT32_MAX + 4);
	ipsec_sa_put(out);
	ipsec_sa_put(in);
}

static void test_lifetime(void **state)
{
	struct cfg c = gcm_cfg();
	struct ipsec_sa *out;
	struct sa_params p;
	struct pkt pkt;

	(void)state;
	params(&c, SA_DIR_OUT, SPI, &p);
	p.soft.packets = 2;
	p.hard.packets = 3;
	assert_int_equal(ipsec_sa_new(&p, &out), 0);
	assert_int_equal(ipsec_sa_poll_life(out, ipsec_now_s()), 0);
	encap_one(&c, out, 1, &pkt);
	encap_one(&c, out, 1, &pkt);
	assert_int_equal(ipsec_sa_poll_life(out, ipsec_now_s()), SA_LIFE_SOFT);
	assert_int_equal(ipsec_sa_poll_life(out, ipsec_now_s()), 0);
	encap_one(&c, out, 1, &pkt);
	load(&pkt, orig, 40);
	assert_int_equal(esp_encap(out, &pkt), ERR_EXPIRED);
	assert_int_equal(ipsec_sa_poll_life(out, ipsec_now_s()), SA_LIFE_HARD);
	ipsec_sa_put(out);
	/* Time limits are seen by the poll. */
	p.soft.packets = p.hard.packets = 0;
	p.soft.seconds = 10;
	p.hard.seconds = 20;
	assert_int_equal(ipsec_sa_new(&p, &out), 0);
	assert_int_equal(ipsec_sa_poll_life(out, ipsec_now_s() + 11),
			 SA_LIFE_SOFT);
	assert_int_equal(ipsec_sa_poll_life(out, ipsec_now_s() + 21),
			 SA_LIFE_HARD);
	ipsec_sa_put(out);
}

/* True if the TCP/UDP checksum of the IPv4 packet p verifies. */
static bool l4_csum_ok(const uint8_t *p, size_t len)
{
	uint8_t ph[4] = { 0, p[9], 0, 0 };
	uint32_t sum;

	be16_store(ph + 2, (uint16_t)(len - 20));
	sum = csum_add(0, p + 12, 8);
	sum = csum_add(sum, ph, 4);
	sum = csum_add(sum, p + 20, len - 20);
	return csum_fold(sum) == 0;
}

/*
 * RFC 3948 §3.1.2: a NAT rewrote the outer source address of a
 * transport-mode ESP-in-UDP packet; the delivered TCP/UDP checksum must
 * verify against the address we deliver.  An IPv4 UDP checksum of 0
 * stays 0.
 */
static void test_natt_checksum(void **state)
{
	static const struct {
		uint8_t proto;
		bool zero;	/* send a UDP checksum of 0 */
	} cases[] = {
		{ IPPROTO_NUM_TCP, false },
		{ IPPROTO_NUM_UDP, false },
		{ IPPROTO_NUM_UDP, true },
	};
	struct cfg c = cbc_cfg();
	struct ipsec_sa *out, *in;
	struct pkt pkt;
	size_t len;
	unsigned k;
	uint8_t *d;

	(void)state;
	c.mode = IPSEC_MODE_TRANSPORT;
	c.udp = true;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		make_pair(&c, &out, &in);
		len = make_ip(orig, 4, 40, cases[k].proto, false);
		if (cases[k].zero) {
			orig[26] = 0;
			orig[27] = 0;
		} else if (cases[k].proto == IPPROTO_NUM_TCP) {
			l4_csum_fix(orig, 4, IPPROTO_NUM_TCP, orig + 20,
				    len - 20);
		}
		if (!cases[k].zero && !l4_csum_ok(orig, len))
			fail_msg("case %u: bad test packet", k);
		load(&pkt, orig, len);
		assert_int_equal(esp_encap(out, &pkt), 0);
		/* The NAT: 192.0.2.1 becomes 203.0.113.9. */
		d = pkt_data(&pkt);
		d[12] = 203;
		d[13] = 0;
		d[14] = 113;
		d[15] = 9;
		ipv4_set_csum(d, 20);
		assert_int_equal(esp_decap(in, &pkt), 0);
		d = pkt_data(&pkt);
		assert_int_equal(pkt.len, len);
		assert_int_equal(d[12], 203);
		if (cases[k].zero)
			assert_int_equal(be16_load(d + 26), 0);
		else if (!l4_csum_ok(d, pkt.len))
			fail_msg("case %u: checksum not fixed", k);
		ipsec_sa_put(out);
		ipsec_sa_put(in);
	}
}

static void test_bad_params(void **state)
{
	struct cfg c = gcm_cfg();
	struct ipsec_sa *sa;
	struct sa_params p;

	(void)state;
	params(&c, SA_DIR_IN, SPI, &p);
	p.integ = integ_by_name("sha256");	/* AEAD + integ */
	assert_int_equal(ipsec_sa_new(&p, &sa), ERR_INVAL);
	params(&c, SA_DIR_IN, SPI, &p);
	p.enc_key_len--;
	assert_int_equal(ipsec_sa_new(&p, &sa), ERR_INVAL);
	c.e = encr_by_kat_name("null");
	params(&c, SA_DIR_IN, SPI, &p);		/* null + none */
	assert_int_equal(ipsec_sa_new(&p, &sa), ERR_INVAL);
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
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_roundtrip_integ),
		cmocka_unit_test(test_bitflip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_padding),
		cmocka_unit_test(test_wrong_spi_and_proto),
		cmocka_unit_test(test_replay_drop),
		cmocka_unit_test(test_ts),
		cmocka_unit_test(test_dummy),
		cmocka_unit_test(test_isolation),
		cmocka_unit_test(test_seq_limits),
		cmocka_unit_test(test_lifetime),
		cmocka_unit_test(test_natt_checksum),
		cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
