/* SPDX-License-Identifier: MIT */
/*
 * IKEv2 codec tests, part 2 (part 1, the vector files, is
 * test_ikev2_codec.c):
 *
 * 2. build -> parse round trips for every payload type and for the SK and
 *    SKF envelopes (src/ike/ikev2_build.c against ikev2_parse.c);
 * 3. malformed input, table-driven: bad lengths and counts in every
 *    payload type, unknown critical / non-critical payloads, header
 *    length and version rules, SK placement, payload limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "ike/ikev2_msg.h"
#include "vectors.h"


static const uint8_t spi4[4] = { 0xc1, 0xa9, 0x65, 0x6b };
static const uint8_t blob[300] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29 };

static const struct ikev2_xform_desc xf_ike[] = {
	{ IKEV2_TRANS_ENCR, 20, 256 }, { IKEV2_TRANS_PRF, 5, 0 },
	{ IKEV2_TRANS_KE, 19, 0 },
};
static const struct ikev2_xform_desc xf_esp[] = {
	{ IKEV2_TRANS_ENCR, 12, 128 }, { IKEV2_TRANS_INTEG, 12, 0 },
	{ IKEV2_TRANS_ESN, 0, 0 },
};

static void hdr_for(struct ikev2_hdr *h, uint8_t exch)
{
	memset(h, 0, sizeof(*h));
	memset(h->spi_i, 0x11, 8);
	memset(h->spi_r, exch == IKEV2_EXCH_IKE_SA_INIT ? 0 : 0x22, 8);
	h->exchange = exch;
	h->flags = IKEV2_FLAG_INITIATOR;
	h->msg_id = 7;
}

static void ts_make(struct ikev2_ts *t, const char *a, const char *b2,
		    uint8_t proto, uint16_t p0, uint16_t p1)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(addr_parse(a, &t->start), 0);
	assert_int_equal(addr_parse(b2, &t->end), 0);
	t->ip_proto = proto;
	t->start_port = p0;
	t->end_port = p1;
}

static int rt_build(int c, struct ikev2_builder *b)
{
	struct ikev2_prop_desc p[2];
	struct ikev2_ts ts[2];
	struct ikev2_cp_attr a[3] = {
		{ IKEV2_CFG_INTERNAL_IP4_ADDRESS, NULL, 0 },
		{ IKEV2_CFG_INTERNAL_IP4_DNS, blob, 4 },
		{ IKEV2_CFG_APPLICATION_VERSION, blob + 4, 6 },
	};
	static const uint8_t eap[] = { 1, 7, 0, 9, 1, 'a', 'l', 'i', 'c' };

	memset(p, 0, sizeof(p));
	switch (c) {
	case 1:		/* IKE_SA_INIT SA with two proposals */
		p[0] = (struct ikev2_prop_desc){ 0, IKEV2_PROTO_IKE, 0, { 0 },
						 3, xf_ike };
		p[1] = (struct ikev2_prop_desc){ 0, IKEV2_PROTO_IKE, 0, { 0 },
						 2, xf_ike + 1 };
		return ikev2_add_sa(b, p, 2);
	case 2:		/* CREATE_CHILD_SA: ESP then IKE rekey */
		p[0] = (struct ikev2_prop_desc){ 0, IKEV2_PROTO_ESP, 4,
			{ 0xc1, 0xa9, 0x65, 0x6b }, 3, xf_esp };
		p[1] = (struct ikev2_prop_desc){ 0, IKEV2_PROTO_IKE, 8,
			{ 1, 2, 3, 4, 5, 6, 7, 8 }, 3, xf_ike };
		return ikev2_add_sa(b, p, 2);
	case 3:
		return ikev2_add_ke(b, 31, blob, 32);
	case 4:
		return ikev2_add_id(b, IKEV2_PL_IDI, IKEV2_ID_FQDN,
				    (const uint8_t *)"vpn.example", 11) ||
		       ikev2_add_id(b, IKEV2_PL_IDR, IKEV2_ID_IPV4_ADDR, blob,
				    4);
	case 5:
		return ikev2_add_cert(b, IKEV2_PL_CERT, IKEV2_CERT_X509_SIG,
				      blob, 100) ||
		       ikev2_add_cert(b, IKEV2_PL_CERTREQ,
				      IKEV2_CERT_X509_SIG, blob, 40);
	case 6:
		return ikev2_add_auth(b, IKEV2_AUTH_PSK, blob, 32);
	case 7:
		return ikev2_add_nonce(b, blob, 16) ||
		       ikev2_add_nonce(b, blob, 256);
	case 8:
		return ikev2_add_notify(b, IKEV2_PROTO_ESP, spi4, 4,
					IKEV2_N_REKEY_SA, NULL, 0) ||
		       ikev2_add_notify(b, 0, NULL, 0, IKEV2_N_COOKIE, blob,
					20);
	case 9:
		return ikev2_add_delete(b, IKEV2_PROTO_ESP, 4, blob, 3) ||
		       ikev2_add_delete(b, IKEV2_PROTO_IKE, 0, NULL, 0);
	case 10:
		return ikev2_add_vid(b, blob, 16);
	case 11:
		ts_make(&ts[0], "198.51.100.0", "198.51.100.255", 6, 0, 65535);
		ts_make(&ts[1], "2001:db8::", "2001:db8::ffff", 17, 500, 500);
		return ikev2_add_ts(b, IKEV2_PL_TSI, ts, 2) ||
		       ikev2_add_ts(b, IKEV2_PL_TSR, ts + 1, 1);
	case 12:
		return ikev2_add_cp(b, IKEV2_CFG_REPLY, a, 3);
	case 13:
		return ikev2_add_eap(b, eap, sizeof(eap));
	case 14:	/* unknown, not critical: skipped by the parser */
		return ikev2_add_raw(b, 200, false, blob, 5) ||
		       ikev2_add_vid(b, blob, 3);
	}
	return ERR_INVAL;
}

static void rt_check(int c, const struct ikev2_msg *m)
{
	static struct ikev2_sa sa;
	struct ikev2_ke ke;
	struct ikev2_id id;
	struct ikev2_cert ce;
	struct ikev2_auth au;
	struct ikev2_nonce no;
	struct ikev2_notify n;
	struct ikev2_delete d;
	struct ikev2_ts_list tl;
	static struct ikev2_cp cp;
	struct ikev2_eap e;
	struct ikev2_vid v;
	char s[ADDR_STRLEN];

	switch (c) {
	case 1:
	case 2:
		assert_int_equal(m->n, 1);
		assert_int_equal(ikev2_decode_sa(&m->pl[0], &sa), 0);
		assert_int_equal(sa.n, 2);
		assert_int_equal(sa.p[0].num, 1);
		assert_int_equal(sa.p[1].num, 2);
		assert_int_equal(sa.p[0].n_transforms, 3);
		assert_int_equal(sa.p[1].n_transforms, c == 1 ? 2 : 3);
		if (c == 1) {
			assert_int_equal(sa.p[0].t[0].key_bits, 256);
			assert_true(sa.p[0].t[0].has_key_len);
			assert_false(sa.p[0].t[1].has_key_len);
			assert_int_equal(sa.p[1].t[1].id, 19);
		} else {
			assert_int_equal(sa.p[0].protocol, IKEV2_PROTO_ESP);
			assert_memory_equal(sa.p[0].spi, spi4, 4);
			assert_int_equal(sa.p[1].spi_size, 8);
			assert_int_equal(sa.p[0].t[1].type, IKEV2_TRANS_INTEG);
		}
		break;
	case 3:
		assert_int_equal(ikev2_decode_ke(&m->pl[0], &ke), 0);
		assert_int_equal(ke.group, 31);
		assert_int_equal(ke.len, 32);
		assert_memory_equal(ke.data, blob, 32);
		break;
	case 4:
		assert_int_equal(ikev2_decode_id(&m->pl[0], &id), 0);
		assert_int_equal(id.type, IKEV2_ID_FQDN);
		assert_memory_equal(id.data, "vpn.example", 11);
		assert_int_equal(id.body_len, 15);
		assert_int_equal(ikev2_decode_id(&m->pl[1], &id), 0);
		assert_int_equal(m->pl[1].type, IKEV2_PL_IDR);
		assert_int_equal(id.len, 4);
		break;
	case 5:
		assert_int_equal(ikev2_decode_cert(&m->pl[0], &ce), 0);
		assert_int_equal(ce.encoding, IKEV2_CERT_X509_SIG);
		assert_int_equal(ce.len, 100);
		assert_int_equal(ikev2_decode_cert(&m->pl[1], &ce), 0);
		assert_int_equal(m->pl[1].type, IKEV2_PL_CERTREQ);
		assert_int_equal(ce.len, 40);
		break;
	case 6:
		assert_int_equal(ikev2_decode_auth(&m->pl[0], &au), 0);
		assert_int_equal(au.method, IKEV2_AUTH_PSK);
		assert_memory_equal(au.data, blob, 32);
		break;
	case 7:
		assert_int_equal(ikev2_decode_nonce(&m->pl[0], &no), 0);
		assert_int_equal(no.len, 16);
		assert_int_equal(ikev2_decode_nonce(&m->pl[1], &no), 0);
		assert_int_equal(no.len, 256);
		break;
	case 8:
		assert_non_null(ikev2_msg_notify(m, IKEV2_N_REKEY_SA, &n));
		assert_int_equal(n.protocol, IKEV2_PROTO_ESP);
		assert_memory_equal(n.spi, spi4, 4);
		assert_int_equal(n.len, 0);
		assert_non_null(ikev2_msg_notify(m, IKEV2_N_COOKIE, &n));
		assert_null(n.spi);
		assert_int_equal(n.len, 20);
		assert_null(ikev2_msg_notify(m, IKEV2_N_INITIAL_CONTACT, &n));
		break;
	case 9:
		assert_int_equal(ikev2_decode_delete(&m->pl[0], &d), 0);
		assert_int_equal(d.count, 3);
		assert_memory_equal(d.spis, blob, 12);
		assert_int_equal(ikev2_decode_delete(&m->pl[1], &d), 0);
		assert_int_equal(d.protocol, IKEV2_PROTO_IKE);
		assert_int_equal(d.count, 0);
		break;
	case 10:
		assert_int_equal(ikev2_decode_vid(&m->pl[0], &v), 0);
		assert_int_equal(v.len, 16);
		break;
	case 11:
		assert_int_equal(ikev2_decode_ts(&m->pl[0], &tl), 0);
		assert_int_equal(tl.n, 2);
		assert_int_equal(tl.ts[0].type, IKEV2_TS_IPV4_ADDR_RANGE);
		assert_string_equal(addr_fmt(&tl.ts[0].end, s, sizeof(s)),
				    "198.51.100.255");
		assert_int_equal(tl.ts[0].ip_proto, 6);
		assert_int_equal(tl.ts[1].type, IKEV2_TS_IPV6_ADDR_RANGE);
		assert_string_equal(addr_fmt(&tl.ts[1].end, s, sizeof(s)),
				    "2001:db8::ffff");
		assert_int_equal(tl.ts[1].start_port, 500);
		assert_int_equal(ikev2_decode_ts(&m->pl[1], &tl), 0);
		assert_int_equal(tl.n, 1);
		break;
	case 12:
		assert_int_equal(ikev2_decode_cp(&m->pl[0], &cp), 0);
		assert_int_equal(cp.cfg_type, IKEV2_CFG_REPLY);
		assert_int_equal(cp.n, 3);
		assert_int_equal(cp.a[0].len, 0);
		assert_int_equal(cp.a[2].type, IKEV2_CFG_APPLICATION_VERSION);
		assert_memory_equal(cp.a[2].value, blob + 4, 6);
		break;
	case 13:
		assert_int_equal(ikev2_decode_eap(&m->pl[0], &e), 0);
		assert_int_equal(e.code, IKEV2_EAP_REQUEST);
		assert_int_equal(e.id, 7);
		assert_int_equal(e.type, 1);
		assert_int_equal(e.type_data_len, 4);
		break;
	case 14:
		assert_int_equal(m->n, 1);
		assert_int_equal(m->n_skipped, 1);
		assert_int_equal(m->pl[0].type, IKEV2_PL_VID);
		break;
	}
}

static void test_roundtrip(void **state)
{
	static struct ikev2_msg m;
	struct ikev2_builder b;
	struct ikev2_hdr h;
	struct wbuf w;
	uint8_t exch;
	int c;

	for (c = 1; c <= 14; c++) {
		exch = c == 1 ? IKEV2_EXCH_IKE_SA_INIT
			      : c == 2 ? IKEV2_EXCH_CREATE_CHILD_SA
				       : IKEV2_EXCH_IKE_AUTH;
		hdr_for(&h, exch);
		assert_int_equal(wbuf_init(&w, 16), 0);
		assert_int_equal(ikev2_build_begin(&b, &w, &h), 0);
		assert_int_equal(rt_build(c, &b), 0);
		assert_int_equal(ikev2_build_end(&b), 0);
		if (ikev2_parse_msg(w.p, w.len, &m))
			fail_msg("round trip %d: %s", c, m.why);
		assert_int_equal(m.hdr.length, w.len);
		assert_int_equal(m.hdr.version, IKEV2_VERSION);
		assert_int_equal(m.hdr.exchange, exch);
		assert_int_equal(m.hdr.msg_id, 7);
		assert_int_equal(m.sk_index, -1);
		rt_check(c, &m);
		wbuf_free(&w);
	}
}

/* SK and SKF envelopes: layout, then the plaintext parses as a chain. */
static void test_sk_envelope(void **state)
{
	static struct ikev2_msg m, in;
	struct ikev2_builder b, cb;
	struct ikev2_sk_frame f;
	struct ikev2_hdr h;
	struct ikev2_sk sk;
	struct wbuf w, cw;
	uint8_t padlen;

	hdr_for(&h, IKEV2_EXCH_IKE_AUTH);
	assert_int_equal(wbuf_init(&w, 16), 0);
	assert_int_equal(ikev2_build_begin(&b, &w, &h), 0);
	assert_int_equal(ikev2_add_vid(&b, blob, 4), 0);
	assert_int_equal(ikev2_sk_begin(&b, 16), 0);
	assert_int_equal(ikev2_add_id(&b, IKEV2_PL_IDI, IKEV2_ID_KEY_ID, blob,
				      5), 0);
	assert_int_equal(ikev2_add_auth(&b, IKEV2_AUTH_PSK, blob, 32), 0);
	assert_int_equal(ikev2_sk_end(&b, 16, 12, &f), 0);
	assert_int_equal(f.total, w.len);
	assert_int_equal(f.aad_len, 28 + 8 + 4);
	assert_int_equal(f.iv_off, f.aad_len);
	assert_int_equal(f.pt_off, f.iv_off + 16);
	assert_int_equal(f.pt_len % 16, 0);
	assert_int_equal(f.icv_off + 12, w.len);
	assert_int_equal(ikev2_parse_msg(w.p, w.len, &m), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.sk_index, 1);
	assert_int_equal(ikev2_decode_sk(&m.pl[1], &sk), 0);
	assert_int_equal(sk.inner_next, IKEV2_PL_IDI);
	assert_int_equal(sk.aad_len, f.aad_len);
	assert_int_equal(sk.enc_len, 16 + f.pt_len + 12);
	/* "Decrypt" (it is in clear) and strip padding as the caller will. */
	padlen = w.p[f.pt_off + f.pt_len - 1];
	assert_int_equal(ikev2_parse_chain(w.p + f.pt_off,
					   f.pt_len - padlen - 1,
					   sk.inner_next, m.hdr.exchange, &in),
			 0);
	assert_int_equal(in.n, 2);
	assert_int_equal(in.pl[1].type, IKEV2_PL_AUTH);
	wbuf_free(&w);

	/* SKF: fragment 2 of 3 of a chain built separately. */
	assert_int_equal(wbuf_init(&cw, 16), 0);
	assert_int_equal(ikev2_build_begin_chain(&cb, &cw), 0);
	assert_int_equal(ikev2_add_nonce(&cb, blob, 32), 0);
	assert_int_equal(ikev2_add_vid(&cb, blob, 8), 0);
	assert_int_equal(cb.first, IKEV2_PL_NONCE);
	assert_int_equal(wbuf_init(&w, 16), 0);
	assert_int_equal(ikev2_build_begin(&b, &w, &h), 0);
	assert_int_equal(ikev2_skf_begin(&b, 2, 3, 0, 8), 0);
	assert_int_equal(ikev2_sk_put_plain(&b, 0, cw.p, cw.len), 0);
	assert_int_equal(ikev2_sk_end(&b, 1, 16, &f), 0);
	assert_int_equal(f.pt_len, cw.len + 1);
	assert_int_equal(ikev2_parse_msg(w.p, w.len, &m), 0);
	assert_int_equal(m.pl[0].type, IKEV2_PL_SKF);
	assert_int_equal(ikev2_decode_sk(&m.pl[0], &sk), 0);
	assert_true(sk.fragment);
	assert_int_equal(sk.frag_num, 2);
	assert_int_equal(sk.frag_total, 3);
	assert_int_equal(sk.inner_next, 0);
	assert_int_equal(sk.aad_len, 28 + 8);
	assert_int_equal(ikev2_parse_chain(w.p + f.pt_off, f.pt_len - 1,
					   cb.first, m.hdr.exchange, &in), 0);
	assert_int_equal(in.n, 2);
	wbuf_free(&w);
	wbuf_free(&cw);
}

/* ------------------------------------------------------------------ */
/* (3) malformed input                                                 */

struct bad_case {
	const char *name;
	uint8_t exch;
	uint8_t type;
	bool critical;
	const char *body;	/* hex */
	int err;
	uint16_t notify;
};

/* Each case is one payload with this body after a valid header. */
static const struct bad_case bad_cases[] = {
	{ "1 transform length < 8", IKEV2_EXCH_IKE_SA_INIT, IKEV2_PL_SA, 0,
	  "00000010 01010001 00000007 01000014", ERR_MALFORMED, 7 },
	{ "2 transform count mismatch", IKEV2_EXCH_IKE_SA_INIT, IKEV2_PL_SA,
	  0, "00000014 01010003 03000008 0100000c 00000008 02000005",
	  ERR_MALFORMED, 7 },
	{ "3 transform length beyond proposal", IKEV2_EXCH_IKE_SA_INIT,
	  IKEV2_PL_SA, 0, "0000000c 01010001 00000010 01000014",
	  ERR_MALFORMED, 7 },
	{ "4 proposal length < 8", IKEV2_EXCH_IKE_SA_INIT, IKEV2_PL_SA, 0,
	  "00000007 010100", ERR_MALFORMED, 7 },
	{ "5 proposal numbering 1,3", IKEV2_EXCH_IKE_SA_INIT, IKEV2_PL_SA, 0,
	  "0200000c 01010001 00000008 01000014"
	  "0000000c 03010001 00000008 01000014", ERR_MALFORMED, 7 },
	{ "6 last proposal flagged more", IKEV2_EXCH_IKE_SA_INIT,
	  IKEV2_PL_SA, 0, "0200000c 01010001 00000008 01000014",
	  ERR_MALFORMED, 7 },
	{ "7 bad substructure value", IKEV2_EXCH_IKE_SA_INIT, IKEV2_PL_SA, 0,
	  "0100000c 01010001 00000008 01000014", ERR_MALFORMED, 7 },
	{ "8 IKE SPI in IKE_SA_INIT", IKEV2_EXCH_IKE_SA_INIT, IKEV2_PL_SA, 0,
	  "00000014 01010801 1122334455667788 00000008 01000014",
	  ERR_MALFORMED, 7 },
	{ "9 no IKE SPI in rekey", IKEV2_EXCH_CREATE_CHILD_SA, IKEV2_PL_SA, 0,
	  "0000000c 01010001 00000008 01000014", ERR_MALFORMED, 7 },
	{ "10 ESP SPI size 8", IKEV2_EXCH_CREATE_CHILD_SA, IKEV2_PL_SA, 0,
	  "00000014 01030801 1122334455667788 00000008 01000014",
	  ERR_MALFORMED, 7 },
	{ "11 Key Length as TLV", IKEV2_EXCH_IKE_SA_INIT, IKEV2_PL_SA, 0,
	  "00000012 01010001 0000000e 0100000c 000e0002 0080",
	  ERR_MALFORMED, 7 },
	{ "12 TS selector length 15", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_TSI, 0,
	  "01000000 0700000f 0000ffff c6336400 c63364", ERR_MALFORMED, 7 },
	{ "13 TS v6 length 16", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_TSI, 0,
	  "01000000 08000010 0000ffff c6336400 c63364ff", ERR_MALFORMED, 7 },
	{ "14 TS count 2, one selector", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_TSR, 0,
	  "02000000 07000010 0000ffff c6336400 c63364ff", ERR_MALFORMED, 7 },
	{ "15 TS count 0", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_TSR, 0, "00000000",
	  ERR_MALFORMED, 7 },
	{ "16 TS unknown type", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_TSR, 0,
	  "01000000 09000010 0000ffff c6336400 c63364ff", ERR_MALFORMED, 7 },
	{ "17 nonce 15 octets", IKEV2_EXCH_IKE_SA_INIT, IKEV2_PL_NONCE, 0,
	  "000102030405060708090a0b0c0d0e", ERR_MALFORMED, 7 },
	{ "18 delete count mismatch", IKEV2_EXCH_INFORMATIONAL,
	  IKEV2_PL_DELETE, 0, "03040002 11223344", ERR_MALFORMED, 7 },
	{ "19 delete IKE with SPI size", IKEV2_EXCH_INFORMATIONAL,
	  IKEV2_PL_DELETE, 0, "01040001 11223344", ERR_MALFORMED, 7 },
	{ "20 notify SPI beyond payload", IKEV2_EXCH_INFORMATIONAL,
	  IKEV2_PL_NOTIFY, 0, "03044009 1122", ERR_MALFORMED, 7 },
	{ "21 KE without data", IKEV2_EXCH_IKE_SA_INIT, IKEV2_PL_KE, 0,
	  "00130000", ERR_MALFORMED, 7 },
	{ "22 ID_IPV4_ADDR of 3 octets", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_IDI, 0,
	  "01000000 c63364", ERR_MALFORMED, 7 },
	{ "23 AUTH without data", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_AUTH, 0,
	  "02000000", ERR_MALFORMED, 7 },
	{ "24 CP attribute beyond payload", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_CP,
	  0, "01000000 00010004 c633", ERR_MALFORMED, 7 },
	{ "25 EAP length mismatch", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_EAP, 0,
	  "0201000a 01", ERR_MALFORMED, 7 },
	{ "26 EAP success with data", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_EAP, 0,
	  "03010005 00", ERR_MALFORMED, 7 },
	{ "27 SKF fragment 0", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_SKF, 0,
	  "00000003 00112233", ERR_MALFORMED, 7 },
	{ "28 SKF fragment 4 of 3", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_SKF, 0,
	  "00040003 00112233", ERR_MALFORMED, 7 },
	{ "29 empty SK", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_SK, 0, "",
	  ERR_MALFORMED, 7 },
	{ "30 unknown critical payload", IKEV2_EXCH_IKE_AUTH, 99, 1,
	  "00112233", ERR_UNSUPPORTED, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD },
	{ "31 unknown non-critical payload", IKEV2_EXCH_IKE_AUTH, 99, 0,
	  "00112233", 0, 0 },
	{ "32 known payload with critical bit", IKEV2_EXCH_IKE_AUTH,
	  IKEV2_PL_VID, 1, "00112233", 0, 0 },
	{ "33 empty SA", IKEV2_EXCH_IKE_SA_INIT, IKEV2_PL_SA, 0, "",
	  ERR_MALFORMED, 7 },
	{ "34 proposal protocol 9", IKEV2_EXCH_IKE_AUTH, IKEV2_PL_SA, 0,
	  "0000000c 01090001 00000008 01000014", ERR_MALFORMED, 7 },
};

static size_t build_one(const struct bad_case *c, struct wbuf *w)
{
	struct ikev2_builder b;
	struct ikev2_hdr h;
	uint8_t *body;
	size_t len;

	assert_int_equal(vec_hex(c->body, &body, &len), 0);
	hdr_for(&h, c->exch);
	assert_int_equal(wbuf_init(w, 16), 0);
	assert_int_equal(ikev2_build_begin(&b, w, &h), 0);
	assert_int_equal(ikev2_add_raw(&b, c->type, c->critical, body, len),
			 0);
	assert_int_equal(ikev2_build_end(&b), 0);
	free(body);
	return w->len;
}

static bool known_type(uint8_t t)
{
	return strcmp(ikev2_payload_name(t), "?") != 0;
}

static void test_bad_payloads(void **state)
{
	static struct ikev2_msg m;
	const struct bad_case *c;
	struct wbuf w;
	size_t i;
	int r;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		c = &bad_cases[i];
		build_one(c, &w);
		r = ikev2_parse_msg(w.p, w.len, &m);
		if (r != c->err || m.notify != c->notify)
			fail_msg("case %s: got %d (%s) notify %u", c->name, r,
				 m.why ? m.why : "-", m.notify);
		if (c->err == ERR_UNSUPPORTED)
			assert_int_equal(m.notify_data, c->type);
		if (c->err == 0 && !known_type(c->type))
			assert_int_equal(m.n_skipped, 1);
		/* The chain parser sees the same body the same way, except
		 * that SK/SKF are never allowed inside a decrypted body. */
		r = ikev2_parse_chain(w.p + 28, w.len - 28, c->type, c->exch,
				      &m);
		if (c->type == IKEV2_PL_SK || c->type == IKEV2_PL_SKF)
			assert_int_equal(r, ERR_MALFORMED);
		else
			assert_int_equal(r, c->err);
		wbuf_free(&w);
	}
}

/* Header rules, payload lengths, SK placement, limits. */
static void test_bad_structure(void **state)
{
	static struct ikev2_msg m;
	static const struct bad_case vid = { "vid", IKEV2_EXCH_IKE_AUTH,
		IKEV2_PL_VID, 0, "0011223344", 0, 0 };
	struct ikev2_builder b;
	struct ikev2_sk_frame f;
	struct ikev2_hdr h;
	struct wbuf w;
	uint8_t buf[64];
	size_t len, i;

	len = build_one(&vid, &w);
	assert_true(len <= sizeof(buf));
	memcpy(buf, w.p, len);
	wbuf_free(&w);
	assert_int_equal(ikev2_parse_msg(buf, len, &m), 0);
	/* 1 header Length larger / smaller than the datagram */
	buf[27]++;
	assert_int_equal(ikev2_parse_msg(buf, len, &m), ERR_MALFORMED);
	assert_int_equal(m.notify, IKEV2_N_INVALID_SYNTAX);
	buf[27] -= 2;
	assert_int_equal(ikev2_parse_msg(buf, len, &m), ERR_MALFORMED);
	buf[27]++;
	/* 2 major version 3: INVALID_MAJOR_VERSION, header still read */
	buf[17] = 0x30;
	assert_int_equal(ikev2_parse_msg(buf, len, &m), ERR_PROTO);
	assert_int_equal(m.notify, IKEV2_N_INVALID_MAJOR_VERSION);
	assert_int_equal(m.hdr.msg_id, 7);
	/* 3 major version 1: not ours, no notify */
	buf[17] = 0x10;
	assert_int_equal(ikev2_parse_msg(buf, len, &m), ERR_PROTO);
	assert_int_equal(m.notify, 0);
	/* 4 minor version is ignored */
	buf[17] = 0x21;
	assert_int_equal(ikev2_parse_msg(buf, len, &m), 0);
	buf[17] = 0x20;
	/* 5 payload length too large, 6 too small (< 4), 7 shorter than
	 * the data, which leaves trailing octets */
	buf[31] = (uint8_t)(len - 28 + 1);
	assert_int_equal(ikev2_parse_msg(buf, len, &m), ERR_MALFORMED);
	buf[31] = 3;
	assert_int_equal(ikev2_parse_msg(buf, len, &m), ERR_MALFORMED);
	buf[31] = (uint8_t)(len - 28 - 1);
	assert_int_equal(ikev2_parse_msg(buf, len, &m), ERR_MALFORMED);
	buf[31] = (uint8_t)(len - 28);
	/* 8 next payload set on the last payload: chain runs off the end */
	buf[28] = IKEV2_PL_VID;
	assert_int_equal(ikev2_parse_msg(buf, len, &m), ERR_MALFORMED);
	buf[28] = 0;
	/* 9 datagram shorter than a header */
	assert_int_equal(ikev2_parse_msg(buf, 27, &m), ERR_MALFORMED);
	assert_int_equal(ikev2_parse_msg(NULL, 0, &m), ERR_MALFORMED);

	/* 10 SK not the last payload */
	hdr_for(&h, IKEV2_EXCH_IKE_AUTH);
	assert_int_equal(wbuf_init(&w, 16), 0);
	ikev2_build_begin(&b, &w, &h);
	ikev2_sk_begin(&b, 8);
	ikev2_add_vid(&b, blob, 4);
	assert_int_equal(ikev2_sk_end(&b, 8, 8, &f), 0);
	assert_int_equal(ikev2_parse_msg(w.p, w.len, &m), 0);
	/* The builder refuses payloads after SK. */
	assert_int_equal(ikev2_add_vid(&b, blob, 4), ERR_INVAL);
	assert_int_equal(ikev2_sk_begin(&b, 8), ERR_INVAL);
	/* Append a VID after it and fix up the header length. */
	wbuf_put_bytes(&w, (const uint8_t[]){ 0, 0, 0, 5, 9 }, 5);
	wbuf_patch_len32(&w, 24, 0);
	assert_int_equal(ikev2_parse_msg(w.p, w.len, &m), ERR_MALFORMED);
	wbuf_free(&w);

	/* 11 65 payloads: over the limit, ERR_LIMIT, answered as syntax */
	assert_int_equal(wbuf_init(&w, 16), 0);
	ikev2_build_begin(&b, &w, &h);
	for (i = 0; i < IKEV2_MAX_PAYLOADS + 1; i++)
		ikev2_add_vid(&b, blob, 1);
	assert_int_equal(ikev2_build_end(&b), 0);
	assert_int_equal(ikev2_parse_msg(w.p, w.len, &m), ERR_LIMIT);
	assert_int_equal(m.notify, IKEV2_N_INVALID_SYNTAX);
	wbuf_free(&w);

	/* 12 builder argument checks */
	assert_int_equal(wbuf_init(&w, 16), 0);
	ikev2_build_begin(&b, &w, &h);
	assert_int_equal(ikev2_add_nonce(&b, blob, 15), ERR_INVAL);
	assert_int_equal(ikev2_add_nonce(&b, blob, 257), ERR_INVAL);
	assert_int_equal(ikev2_add_sa(&b, NULL, 0), ERR_INVAL);
	assert_int_equal(ikev2_add_id(&b, IKEV2_PL_AUTH, 1, blob, 4),
			 ERR_INVAL);
	assert_int_equal(ikev2_skf_begin(&b, 0, 1, 0, 8), ERR_INVAL);
	assert_int_equal(ikev2_sk_end(&b, 16, 16, &f), ERR_INVAL);
	wbuf_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_sk_envelope),
		cmocka_unit_test(test_bad_payloads),
		cmocka_unit_test(test_bad_structure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
