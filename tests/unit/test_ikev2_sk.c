/* SPDX-License-Identifier: MIT */
/*
 * SK payload protection (src/ike/ikev2_sk.c):
 *   1. known answer: decrypt both IKE_AUTH messages of real strongSwan
 *      exchanges (interop/results/capture-*, pcap + charon logs with the
 *      SK_e keys; the pcap reader is pcap_read_ike() in charonlog.c) and
 *      parse the inner chain;
 *   2. seal -> open round trips for every IKE encryption and integrity
 *      combination;
 *   3. tampering: every single-bit flip and every truncation is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "charonlog.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "ike/ikev2_msg.h"
#include "ike/ikev2_sk.h"
#include "vectors.h"

#define INTEROP "../interop/results/"
#define MAX_IKE_MSGS 16

static bool has_pl(const struct ikev2_msg *m, uint8_t type)
{
	size_t from = 0;

	return ikev2_msg_next(m, type, &from) != NULL;
}

static void kat_dir(const char *dir, const char *encr_name, unsigned *passed,
		    unsigned *total)
{
	char rel[256];
	struct pcap_ike d[MAX_IKE_MSGS];
	struct ikev2_msg *msg = malloc(sizeof(*msg));
	struct ikev2_msg *inner = malloc(sizeof(*inner));
	struct ike_keys keys;
	struct ikev2_sk_ctx *resp = NULL, *init = NULL, *s;
	uint8_t *ei, *er, *pt, first;
	size_t ei_len, er_len, n, i, pt_len, n_auth = 0;
	char *log;
	bool is_resp;
	int r;

	assert_non_null(msg);
	assert_non_null(inner);
	snprintf(rel, sizeof(rel), INTEROP "%s/charon-A.log", dir);
	log = charonlog_slurp(rel, NULL);
	assert_non_null(log);
	ei = charonlog_dump(log, "Sk_ei secret", 0, &ei_len);
	er = charonlog_dump(log, "Sk_er secret", 0, &er_len);
	assert_non_null(ei);
	assert_non_null(er);
	assert_int_equal(ei_len, er_len);
	memset(&keys, 0, sizeof(keys));
	memcpy(keys.sk_ei, ei, ei_len);
	memcpy(keys.sk_er, er, er_len);
	keys.sk_e_len = (uint8_t)ei_len;
	assert_int_equal(ikev2_sk_new(encr_by_name(encr_name), NULL, &keys,
				      false, &resp),
			 0);
	assert_int_equal(
		ikev2_sk_new(encr_by_name(encr_name), NULL, &keys, true, &init),
		0);

	snprintf(rel, sizeof(rel), INTEROP "%s/veth-a.pcap", dir);
	r = pcap_read_ike(rel, d, MAX_IKE_MSGS);
	assert_true(r >= 4);
	n = (size_t)r;
	for (i = 0; i < n; i++) {
		assert_int_equal(ikev2_parse_msg(d[i].p, d[i].len, msg), 0);
		if (msg->hdr.exchange != IKEV2_EXCH_IKE_AUTH)
			continue;
		(*total)++;
		is_resp = msg->hdr.flags & IKEV2_FLAG_RESPONSE;
		/* The responder opens the request with SK_ei, the
		 * initiator the response with SK_er. */
		s = is_resp ? init : resp;
		pt = malloc(d[i].len);
		assert_non_null(pt);
		assert_int_equal(ikev2_sk_open(s, d[i].p, d[i].len, msg, pt,
					       d[i].len, &pt_len, &first),
				 0);
		assert_int_equal(ikev2_parse_chain(pt, pt_len, first,
						   IKEV2_EXCH_IKE_AUTH, inner),
				 0);
		assert_true(
			has_pl(inner, is_resp ? IKEV2_PL_IDR : IKEV2_PL_IDI));
		assert_true(has_pl(inner, IKEV2_PL_AUTH));
		assert_true(has_pl(inner, IKEV2_PL_SA));
		assert_true(has_pl(inner, IKEV2_PL_TSI));
		assert_true(has_pl(inner, IKEV2_PL_TSR));
		/* With the wrong direction's key it must not open. */
		assert_int_equal(ikev2_sk_open(is_resp ? resp : init, d[i].p,
					       d[i].len, msg, pt, d[i].len,
					       &pt_len, &first),
				 ERR_AUTH);
		free(pt);
		n_auth++;
		(*passed)++;
	}
	assert_int_equal(n_auth, 2);
	for (i = 0; i < n; i++)
		free(d[i].p);
	ikev2_sk_free(resp);
	ikev2_sk_free(init);
	free(ei);
	free(er);
	free(log);
	free(msg);
	free(inner);
}

static void test_strongswan_capture(void **state)
{
	unsigned passed = 0, total = 0;

	(void)state;
	kat_dir("capture-aes128gcm16/psk", "aes128gcm16", &passed, &total);
	kat_dir("capture-chacha20poly1305/psk", "chacha20poly1305", &passed,
		&total);
	vec_report("interop/results/capture-*/psk/veth-a.pcap (IKE_AUTH)",
		   passed, total);
}

/* ---- round trips ---- */

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void make_keys(const struct encr_alg *e, const struct integ_alg *ia,
		      struct ike_keys *k)
{
	memset(k, 0, sizeof(*k));
	k->sk_e_len = (uint8_t)(e->key_len + e->salt_len);
	k->sk_a_len = ia ? ia->key_len : 0;
	fill(k->sk_ei, k->sk_e_len, 1);
	fill(k->sk_er, k->sk_e_len, 2);
	fill(k->sk_ai, k->sk_a_len, 3);
	fill(k->sk_ar, k->sk_a_len, 4);
}

/* An IKE_AUTH-like message from the initiator; returns it (owned). */
static uint8_t *build_msg(struct ikev2_sk_ctx *s, size_t inner_len, size_t *len,
			  uint8_t *plain, size_t *plain_len)
{
	static const uint8_t blob[300] = {1, 2, 3};
	struct ikev2_builder b;
	struct ikev2_sk_frame f;
	struct ikev2_hdr h;
	struct wbuf w;
	uint8_t *out;

	memset(&h, 0, sizeof(h));
	memset(h.spi_i, 0x11, 8);
	memset(h.spi_r, 0x22, 8);
	h.exchange = IKEV2_EXCH_IKE_AUTH;
	h.flags = IKEV2_FLAG_INITIATOR;
	h.msg_id = 1;
	assert_int_equal(wbuf_init(&w, 256), 0);
	assert_int_equal(ikev2_build_begin(&b, &w, &h), 0);
	assert_int_equal(ikev2_sk_begin(&b, ikev2_sk_iv_len(s)), 0);
	assert_int_equal(ikev2_add_id(&b, IKEV2_PL_IDI, IKEV2_ID_FQDN,
				      (const uint8_t *)"a.example", 9),
			 0);
	if (inner_len)
		assert_int_equal(ikev2_add_vid(&b, blob, inner_len), 0);
	assert_int_equal(ikev2_add_notify(&b, 0, NULL, 0,
					  IKEV2_N_INITIAL_CONTACT, NULL, 0),
			 0);
	assert_int_equal(
		ikev2_sk_end(&b, ikev2_sk_block(s), ikev2_sk_icv_len(s), &f),
		0);
	/* The plaintext chain without padding, before sealing. */
	*plain_len = f.pt_len - 1 - w.p[f.pt_off + f.pt_len - 1];
	memcpy(plain, w.p + f.pt_off, *plain_len);
	assert_int_equal(ikev2_sk_seal(s, w.p, &f), 0);
	/* The plaintext is gone from the buffer. */
	if (*plain_len >= 16)
		assert_memory_not_equal(w.p + f.pt_off, plain, 16);
	out = wbuf_steal(&w, len);
	assert_non_null(out);
	return out;
}

static void round_trip(const struct encr_alg *e, const struct integ_alg *ia)
{
	struct ike_keys k;
	struct ikev2_sk_ctx *i_sk = NULL, *r_sk = NULL;
	struct ikev2_msg *msg = malloc(sizeof(*msg));
	uint8_t plain[512], pt[1024], first, *m;
	size_t plain_len, len, pt_len, inner, bit;

	assert_non_null(msg);
	make_keys(e, ia, &k);
	assert_int_equal(ikev2_sk_new(e, ia, &k, true, &i_sk), 0);
	assert_int_equal(ikev2_sk_new(e, ia, &k, false, &r_sk), 0);
	for (inner = 0; inner < 40; inner += 13) {
		m = build_msg(i_sk, inner, &len, plain, &plain_len);
		assert_int_equal(ikev2_parse_msg(m, len, msg), 0);
		assert_int_equal(ikev2_sk_open(r_sk, m, len, msg, pt,
					       sizeof(pt), &pt_len, &first),
				 0);
		assert_int_equal(first, IKEV2_PL_IDI);
		assert_int_equal(pt_len, plain_len);
		assert_memory_equal(pt, plain, pt_len);
		/* Our own message does not open with our receive keys. */
		assert_int_equal(ikev2_sk_open(i_sk, m, len, msg, pt,
					       sizeof(pt), &pt_len, &first),
				 ERR_AUTH);
		/* Tamper: every single-bit flip is refused, by the parser
		 * (header, lengths) or by the ICV. */
		for (bit = 0; bit < len * 8; bit += (inner ? 5 : 1)) {
			m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (ikev2_parse_msg(m, len, msg) == 0)
				assert_true(ikev2_sk_open(r_sk, m, len, msg, pt,
							  sizeof(pt), &pt_len,
							  &first) < 0);
			m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		free(m);
	}
	ikev2_sk_free(i_sk);
	ikev2_sk_free(r_sk);
	free(msg);
}

static bool ike_encr(const struct encr_alg *e)
{
	return e->kind != ENCR_KIND_GMAC && e->kind != ENCR_KIND_NULL;
}

static void test_round_trips(void **state)
{
	const struct encr_alg *e;
	const struct integ_alg *ia;
	size_t i, j, combos = 0;

	(void)state;
	for (i = 0; (e = encr_at(i)); i++) {
		if (!ike_encr(e))
			continue;
		if (e->aead) {
			round_trip(e, NULL);
			combos++;
			continue;
		}
		for (j = 0; (ia = integ_at(j)); j++) {
			round_trip(e, ia);
			combos++;
		}
	}
	printf("# %zu encr/integ combinations\n", combos);
	assert_true(combos > 20);
}

/* Truncations and a header Length that lies are refused. */
static void test_lengths(void **state)
{
	const struct encr_alg *e = encr_by_name("aes256");
	const struct integ_alg *ia = integ_by_name("sha256");
	struct ike_keys k;
	struct ikev2_sk_ctx *i_sk = NULL, *r_sk = NULL;
	struct ikev2_msg *msg = malloc(sizeof(*msg));
	uint8_t plain[512], pt[1024], first, *m;
	size_t plain_len, len, pt_len, cut;

	(void)state;
	assert_non_null(msg);
	make_keys(e, ia, &k);
	assert_int_equal(ikev2_sk_new(e, ia, &k, true, &i_sk), 0);
	assert_int_equal(ikev2_sk_new(e, ia, &k, false, &r_sk), 0);
	m = build_msg(i_sk, 20, &len, plain, &plain_len);
	for (cut = 1; cut < len; cut++) {
		if (ikev2_parse_msg(m, len - cut, msg) == 0)
			assert_true(ikev2_sk_open(r_sk, m, len - cut, msg, pt,
						  sizeof(pt), &pt_len,
						  &first) < 0);
	}
	/* A parsed message checked against a shorter datagram length. */
	assert_int_equal(ikev2_parse_msg(m, len, msg), 0);
	assert_int_equal(ikev2_sk_open(r_sk, m, len - 1, msg, pt, sizeof(pt),
				       &pt_len, &first),
			 ERR_MALFORMED);
	/* Too small an output buffer. */
	assert_int_equal(
		ikev2_sk_open(r_sk, m, len, msg, pt, 8, &pt_len, &first),
		ERR_MALFORMED);
	free(m);
	/* Bad arguments. */
	{
		struct ikev2_sk_ctx *x = NULL;

		assert_int_equal(ikev2_sk_new(encr_by_name("aes128gcm16"), ia,
					      &k, true, &x),
				 ERR_INVAL);
		assert_int_equal(ikev2_sk_new(e, NULL, &k, true, &x),
				 ERR_INVAL);
		assert_int_equal(ikev2_sk_new(encr_by_name("aes128gmac"), NULL,
					      &k, true, &x),
				 ERR_INVAL);
		assert_null(x);
		ikev2_sk_free(NULL);
	}
	ikev2_sk_free(i_sk);
	ikev2_sk_free(r_sk);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strongswan_capture),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_lengths),
	};

	/* The tamper loop makes the parser warn thousands of times. */
	log_set_all_levels(LL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
