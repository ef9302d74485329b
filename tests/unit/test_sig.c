/* SPDX-License-Identifier: MIT */
/*
 * Signatures (src/crypto/sig.c) and signature AUTH data
 * (src/ike/auth_sig.c):
 *   1. known answer: strongSwan 5.9.8's Ed25519 IKE_AUTH exchange
 *      (interop/results/capture-aes128gcm16/ed25519: pcap + charon log):
 *      decrypt both IKE_AUTH messages, rebuild the signed octets with
 *      ikev2_signed_octets() and compare them with charon's dump, then
 *      verify both AUTH payloads (method 14, Ed25519) with the key of
 *      the CERT payload next to them;
 *   2. sign -> verify round trips for every algorithm and key, wrong key,
 *      tampered data, tampered signature, SHA-1 refused unless allowed,
 *      ECDSA r || s widths;
 *   3. AlgorithmIdentifiers: ours equal what OpenSSL puts in certificates
 *      signed the same way, parse back to the same algorithm; bad DER,
 *      wrong parameters, unknown OIDs;
 *   4. auth_sig: methods 1, 9, 10, 11, 14 both ways, the RFC 7427 §4
 *      choice, and the refusals with their reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "charonlog.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "crypto/sig.h"
#include "ike/auth_sig.h"
#include "ike/cert.h"
#include "ike/ikev2_keymat.h"
#include "ike/ikev2_msg.h"
#include "ike/ikev2_sk.h"
#include "ike/ikev2_wire.h"
#include "vectors.h"

#define INTEROP "../interop/results/"
#define MAX_IKE_MSGS 16

enum { K_RSA, K_P256, K_P384, K_P521, K_ED25519, K_ED448, K_N };
static EVP_PKEY *keys[K_N];
static EVP_PKEY *other[K_N]; /* a second key of each kind */

static EVP_PKEY *gen(int k)
{
	switch (k) {
	case K_RSA:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case K_P256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case K_P384:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	case K_P521:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	case K_ED25519:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	default:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
	}
}

static int setup(void **state)
{
	int k;

	(void)state;
	for (k = 0; k < K_N; k++) {
		keys[k] = gen(k);
		other[k] = gen(k);
		if (!keys[k] || !other[k])
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	int k;

	(void)state;
	for (k = 0; k < K_N; k++) {
		EVP_PKEY_free(keys[k]);
		EVP_PKEY_free(other[k]);
	}
	return 0;
}

/* The key of the table's kind that fits alg (ECDSA: P-256). */
static EVP_PKEY *key_for(const struct sig_alg *a, EVP_PKEY **set)
{
	switch (a->kind) {
	case SIG_KIND_RSA_PKCS1:
	case SIG_KIND_RSA_PSS:
		return set[K_RSA];
	case SIG_KIND_ECDSA:
		return set[K_P256];
	case SIG_KIND_EDDSA:
		return set[strcmp(a->name, "ed448") ? K_ED25519 : K_ED448];
	}
	return NULL;
}

static const uint8_t msg[] = "IKE signed octets stand-in, RFC 7296 2.15";

/* ---- 1. strongSwan Ed25519 capture ---- */

static bool has_nonce(const struct ikev2_msg *m, struct ikev2_nonce *n)
{
	size_t from = 0;
	const struct ikev2_payload *pl =
		ikev2_msg_next(m, IKEV2_PL_NONCE, &from);

	return pl && ikev2_decode_nonce(pl, n) == 0;
}

static void test_strongswan_ed25519(void **state)
{
	const char *dir = INTEROP "capture-aes128gcm16/ed25519/";
	char rel[256];
	struct pcap_ike d[MAX_IKE_MSGS];
	struct ikev2_msg *m = calloc(1, sizeof(*m));
	struct ikev2_msg *in = calloc(1, sizeof(*in));
	struct ikev2_nonce ni = {0}, nr = {0};
	struct ike_keys k;
	struct ikev2_sk_ctx *open_req = NULL, *open_resp = NULL;
	const uint8_t *init_req = NULL, *init_resp = NULL;
	size_t init_req_len = 0, init_resp_len = 0, n, i, from;
	unsigned passed = 0, total = 0;
	uint8_t *ei, *er, *pi, *pr, *logged, *pt, first;
	size_t ei_len, er_len, pi_len, pr_len, logged_len, pt_len;
	char *log, why[AUTH_SIG_WHY_MAX];
	int r, n_auth = 0;

	(void)state;
	assert_non_null(m);
	assert_non_null(in);
	snprintf(rel, sizeof(rel), "%scharon-A.log", dir);
	log = charonlog_slurp(rel, NULL);
	assert_non_null(log);
	ei = charonlog_dump(log, "Sk_ei secret", 0, &ei_len);
	er = charonlog_dump(log, "Sk_er secret", 0, &er_len);
	pi = charonlog_dump(log, "Sk_pi secret", 0, &pi_len);
	pr = charonlog_dump(log, "Sk_pr secret", 0, &pr_len);
	assert_true(ei && er && pi && pr && ei_len == er_len);
	memset(&k, 0, sizeof(k));
	memcpy(k.sk_ei, ei, ei_len);
	memcpy(k.sk_er, er, er_len);
	k.sk_e_len = (uint8_t)ei_len;
	assert_int_equal(ikev2_sk_new(encr_by_name("aes128gcm16"), NULL, &k,
				      false, &open_req),
			 0);
	assert_int_equal(ikev2_sk_new(encr_by_name("aes128gcm16"), NULL, &k,
				      true, &open_resp),
			 0);

	snprintf(rel, sizeof(rel), "%sveth-a.pcap", dir);
	r = pcap_read_ike(rel, d, MAX_IKE_MSGS);
	assert_true(r >= 4);
	n = (size_t)r;
	/* The IKE_SA_INIT pair first: messages and nonces (§2.15). */
	for (i = 0; i < n; i++) {
		assert_int_equal(ikev2_parse_msg(d[i].p, d[i].len, m), 0);
		if (m->hdr.exchange != IKEV2_EXCH_IKE_SA_INIT)
			continue;
		if (m->hdr.flags & IKEV2_FLAG_RESPONSE) {
			assert_true(has_nonce(m, &nr));
			init_resp = d[i].p;
			init_resp_len = d[i].len;
		} else {
			assert_true(has_nonce(m, &ni));
			init_req = d[i].p;
			init_req_len = d[i].len;
		}
	}
	assert_non_null(init_req);
	assert_non_null(init_resp);
	/* The nonce pointers point into d[].p, which m no longer uses. */
	for (i = 0; i < n; i++) {
		const struct ikev2_payload *pl;
		struct ikev2_id id;
		struct ikev2_cert c;
		struct ikev2_auth a;
		struct wbuf w;
		X509 *cert = NULL;
		bool resp;

		assert_int_equal(ikev2_parse_msg(d[i].p, d[i].len, m), 0);
		if (m->hdr.exchange != IKEV2_EXCH_IKE_AUTH)
			continue;
		resp = m->hdr.flags & IKEV2_FLAG_RESPONSE;
		pt = malloc(d[i].len);
		assert_non_null(pt);
		assert_int_equal(ikev2_sk_open(resp ? open_resp : open_req,
					       d[i].p, d[i].len, m, pt,
					       d[i].len, &pt_len, &first),
				 0);
		assert_int_equal(ikev2_parse_chain(pt, pt_len, first,
						   IKEV2_EXCH_IKE_AUTH, in),
				 0);
		from = 0;
		pl = ikev2_msg_next(in, resp ? IKEV2_PL_IDR : IKEV2_PL_IDI,
				    &from);
		assert_non_null(pl);
		assert_int_equal(ikev2_decode_id(pl, &id), 0);
		from = 0;
		pl = ikev2_msg_next(in, IKEV2_PL_CERT, &from);
		assert_non_null(pl);
		assert_int_equal(ikev2_decode_cert(pl, &c), 0);
		from = 0;
		pl = ikev2_msg_next(in, IKEV2_PL_AUTH, &from);
		assert_non_null(pl);
		assert_int_equal(ikev2_decode_auth(pl, &a), 0);
		assert_int_equal(a.method, IKEV2_AUTH_DIGITAL_SIG);

		/* RFC 7296 §2.15 octets, as charon dumped them. */
		total++;
		assert_int_equal(wbuf_init(&w, 1024), 0);
		assert_int_equal(
			ikev2_signed_octets(prf_by_name("prfsha256"),
					    resp ? pr : pi, pi_len,
					    resp ? init_resp : init_req,
					    resp ? init_resp_len : init_req_len,
					    resp ? ni.data : nr.data,
					    resp ? ni.len : nr.len, id.body,
					    id.body_len, &w),
			0);
		logged = charonlog_dump(log,
					"octets = message + nonce + "
					"prf(Sk_px, IDx')",
					resp ? 1 : 0, &logged_len);
		assert_non_null(logged);
		assert_int_equal(w.len, logged_len);
		assert_memory_equal(w.p, logged, logged_len);

		/* CERT encoding 4, the peer's name in its SAN. */
		assert_int_equal(
			cert_from_payload(c.encoding, c.data, c.len, &cert), 0);
		assert_int_equal(cert_match_id(cert, id.type, id.data, id.len,
					       why, sizeof(why)),
				 0);
		assert_int_equal(auth_sig_verify(a.method, cert_pubkey(cert), 0,
						 0, w.p, w.len, a.data, a.len,
						 why, sizeof(why)),
				 0);
		/* One changed octet anywhere in the octets: refused. */
		w.p[w.len / 2] ^= 0x01;
		assert_int_equal(auth_sig_verify(a.method, cert_pubkey(cert), 0,
						 0, w.p, w.len, a.data, a.len,
						 why, sizeof(why)),
				 ERR_AUTH);
		assert_non_null(strstr(why, "ed25519"));
		/* Ed25519 without Identity announced by us: refused. */
		w.p[w.len / 2] ^= 0x01;
		assert_int_equal(
			auth_sig_verify(a.method, cert_pubkey(cert), 0,
					AUTH_SIG_HASH_BIT(SIG_HASH_SHA256), w.p,
					w.len, a.data, a.len, why, sizeof(why)),
			ERR_UNSUPPORTED);
		passed++;
		n_auth++;
		cert_free(cert);
		wbuf_free(&w);
		free(logged);
		free(pt);
	}
	assert_int_equal(n_auth, 2);
	vec_report("interop/results/capture-aes128gcm16/ed25519 (AUTH)", passed,
		   total);
	for (i = 0; i < n; i++)
		free(d[i].p);
	ikev2_sk_free(open_req);
	ikev2_sk_free(open_resp);
	free(ei);
	free(er);
	free(pi);
	free(pr);
	free(log);
	free(m);
	free(in);
}

/* ---- 2. round trips ---- */

static void test_round_trips(void **state)
{
	const struct sig_alg *a;
	struct wbuf w;
	EVP_PKEY *key, *wrong;
	uint8_t data[sizeof(msg)];
	size_t i;
	unsigned flags;

	(void)state;
	memcpy(data, msg, sizeof(msg));
	for (i = 0; (a = sig_alg_at(i)); i++) {
		key = key_for(a, keys);
		wrong = key_for(a, other);
		flags = a->hash == SIG_HASH_SHA1 ? SIG_ALLOW_SHA1 : 0;
		assert_true(sig_alg_fits(a, key));
		assert_int_equal(wbuf_init(&w, 64), 0);
		assert_int_equal(
			sig_sign(a, key, flags, data, sizeof(data), &w), 0);
		assert_true(w.len > 0);
		assert_int_equal(sig_verify(a, -1, key, flags, data,
					    sizeof(data), w.p, w.len),
				 0);
		assert_int_equal(sig_verify(a, -1, wrong, flags, data,
					    sizeof(data), w.p, w.len),
				 ERR_AUTH);
		data[3] ^= 0x80;
		assert_int_equal(sig_verify(a, -1, key, flags, data,
					    sizeof(data), w.p, w.len),
				 ERR_AUTH);
		data[3] ^= 0x80;
		w.p[w.len - 1] ^= 0x01;
		assert_int_equal(sig_verify(a, -1, key, flags, data,
					    sizeof(data), w.p, w.len),
				 ERR_AUTH);
		w.p[w.len - 1] ^= 0x01;
		assert_int_equal(sig_verify(a, -1, key, flags, data,
					    sizeof(data), w.p, w.len - 1),
				 ERR_AUTH);
		/* SHA-1 needs the flag both ways. */
		if (a->hash == SIG_HASH_SHA1) {
			assert_int_equal(sig_verify(a, -1, key, 0, data,
						    sizeof(data), w.p, w.len),
					 ERR_UNSUPPORTED);
			assert_int_equal(
				sig_sign(a, key, 0, data, sizeof(data), &w),
				ERR_UNSUPPORTED);
		}
		/* A key of another family never fits. */
		assert_int_equal(sig_sign(a,
					  a->kind == SIG_KIND_EDDSA
						  ? keys[K_P256]
						  : keys[K_ED25519],
					  flags, data, sizeof(data), &w),
				 ERR_UNSUPPORTED);
		wbuf_free(&w);
	}
	assert_null(sig_alg_by_name("rsa-md5"));
	assert_ptr_equal(sig_alg_find(SIG_KIND_RSA_PSS, SIG_HASH_SHA384),
			 sig_alg_by_name("rsa-pss-sha384"));
}

static void test_ecdsa_raw(void **state)
{
	static const struct {
		int k;
		const char *alg;
		size_t flen;
	} t[] = {
		{K_P256, "ecdsa-sha256", 32},
		{K_P384, "ecdsa-sha384", 48},
		{K_P521, "ecdsa-sha512", 66},
	};
	const struct sig_alg *a;
	struct wbuf w;
	size_t i, j;
	uint8_t longer[140];

	(void)state;
	for (i = 0; i < 3; i++) {
		a = sig_alg_by_name(t[i].alg);
		assert_int_equal(sig_ec_field_len(keys[t[i].k]), t[i].flen);
		/* Many signatures: r or s with leading zeros must still be
		 * padded to the full width (RFC 4754 §7). */
		for (j = 0; j < 16; j++) {
			assert_int_equal(wbuf_init(&w, 64), 0);
			assert_int_equal(sig_sign(a, keys[t[i].k],
						  SIG_ECDSA_RAW, msg,
						  sizeof(msg), &w),
					 0);
			assert_int_equal(w.len, 2 * t[i].flen);
			assert_int_equal(sig_verify(a, -1, keys[t[i].k],
						    SIG_ECDSA_RAW, msg,
						    sizeof(msg), w.p, w.len),
					 0);
			/* DER verification of raw octets fails. */
			assert_int_equal(sig_verify(a, -1, keys[t[i].k], 0, msg,
						    sizeof(msg), w.p, w.len),
					 ERR_AUTH);
			/* A leading zero octet more: wrong width. */
			longer[0] = 0;
			memcpy(longer + 1, w.p, w.len);
			assert_int_equal(
				sig_verify(a, -1, keys[t[i].k], SIG_ECDSA_RAW,
					   msg, sizeof(msg), longer, w.len + 1),
				ERR_AUTH);
			wbuf_free(&w);
		}
	}
	assert_int_equal(sig_ec_field_len(keys[K_RSA]), 0);
	assert_int_equal(sig_ec_field_len(keys[K_ED25519]), 0);
}

/* ---- 3. AlgorithmIdentifiers ---- */

/* The signature AlgorithmIdentifier of a certificate X509_sign made. */
static void cert_algid(EVP_PKEY *key, const char *md, struct wbuf *w)
{
	X509 *x = X509_new();
	EVP_MD *m = md ? EVP_MD_fetch(NULL, md, NULL) : NULL;
	const X509_ALGOR *alg;
	unsigned char *der = NULL;
	int n;

	assert_non_null(x);
	assert_true(X509_set_pubkey(x, key));
	assert_true(X509_sign(x, key, m) > 0);
	X509_get0_signature(NULL, &alg, x);
	n = i2d_X509_ALGOR(alg, &der);
	assert_true(n > 0);
	assert_int_equal(wbuf_put_bytes(w, der, (size_t)n), 0);
	OPENSSL_free(der);
	EVP_MD_free(m);
	X509_free(x);
}

static void test_algid(void **state)
{
	const struct sig_alg *a;
	struct sig_algid got;
	struct wbuf ours, theirs;
	size_t i;
	int hash_len;

	(void)state;
	for (i = 0; (a = sig_alg_at(i)); i++) {
		assert_int_equal(wbuf_init(&ours, 64), 0);
		assert_int_equal(sig_algid(a, key_for(a, keys), &ours), 0);
		assert_int_equal(sig_algid_parse(ours.p, ours.len, &got), 0);
		assert_ptr_equal(got.alg, a);
		if (a->kind == SIG_KIND_RSA_PSS) {
			hash_len = a->hash == SIG_HASH_SHA256	? 32
				   : a->hash == SIG_HASH_SHA384 ? 48
								: 64;
			assert_int_equal(got.pss_salt, hash_len);
		} else {
			assert_int_equal(got.pss_salt, -1);
			/* Same bytes as in a certificate signed this way. */
			assert_int_equal(wbuf_init(&theirs, 64), 0);
			cert_algid(key_for(a, keys), a->md, &theirs);
			assert_int_equal(ours.len, theirs.len);
			assert_memory_equal(ours.p, theirs.p, ours.len);
			wbuf_free(&theirs);
		}
		/* Truncated and padded DER are malformed. */
		assert_int_equal(sig_algid_parse(ours.p, ours.len - 1, &got),
				 ERR_MALFORMED);
		assert_int_equal(wbuf_put_u8(&ours, 0), 0);
		assert_int_equal(sig_algid_parse(ours.p, ours.len, &got),
				 ERR_MALFORMED);
		wbuf_free(&ours);
	}
	{
		/* An OID that is no signature algorithm (sha256 itself). */
		X509_ALGOR *x = X509_ALGOR_new();
		unsigned char *der = NULL;
		int n;

		assert_true(X509_ALGOR_set0(x, OBJ_nid2obj(NID_sha256),
					    V_ASN1_UNDEF, NULL));
		n = i2d_X509_ALGOR(x, &der);
		assert_int_equal(sig_algid_parse(der, (size_t)n, &got),
				 ERR_UNSUPPORTED);
		OPENSSL_free(der);
		der = NULL;
		/* ecdsa-with-SHA256 must have no parameters (RFC 5758). */
		assert_true(X509_ALGOR_set0(x,
					    OBJ_nid2obj(NID_ecdsa_with_SHA256),
					    V_ASN1_NULL, NULL));
		n = i2d_X509_ALGOR(x, &der);
		assert_int_equal(sig_algid_parse(der, (size_t)n, &got),
				 ERR_MALFORMED);
		OPENSSL_free(der);
		X509_ALGOR_free(x);
	}
	assert_int_equal(sig_algid_parse(NULL, 0, &got), ERR_MALFORMED);
}

/* ---- 4. auth_sig ---- */

static void auth_round_trip(EVP_PKEY *key, EVP_PKEY *wrong, uint8_t method,
			    const char *alg, unsigned flags)
{
	struct wbuf w;
	uint8_t data[sizeof(msg)];
	char why[AUTH_SIG_WHY_MAX];

	memcpy(data, msg, sizeof(msg));
	assert_int_equal(wbuf_init(&w, 64), 0);
	assert_int_equal(auth_sig_sign(method,
				       alg ? sig_alg_by_name(alg) : NULL, key,
				       flags, data, sizeof(data), &w),
			 0);
	assert_int_equal(auth_sig_verify(method, key, flags, 0, data,
					 sizeof(data), w.p, w.len, why,
					 sizeof(why)),
			 0);
	assert_int_equal(auth_sig_verify(method, wrong, flags, 0, data,
					 sizeof(data), w.p, w.len, why,
					 sizeof(why)),
			 ERR_AUTH);
	assert_non_null(strstr(why, "does not verify"));
	data[0] ^= 1;
	assert_int_equal(auth_sig_verify(method, key, flags, 0, data,
					 sizeof(data), w.p, w.len, why,
					 sizeof(why)),
			 ERR_AUTH);
	/* RFC 7427 §3: the ASN.1 length must be the AlgorithmIdentifier's. */
	if (method == IKEV2_AUTH_DIGITAL_SIG) {
		data[0] ^= 1;
		w.p[0]++;
		assert_int_not_equal(auth_sig_verify(method, key, flags, 0,
						     data, sizeof(data), w.p,
						     w.len, why, sizeof(why)),
				     0);
		w.p[0] = 0xff;
		assert_int_equal(auth_sig_verify(method, key, flags, 0, data,
						 sizeof(data), w.p, 10, why,
						 sizeof(why)),
				 ERR_MALFORMED);
	}
	wbuf_free(&w);
}

static void test_auth_methods(void **state)
{
	const struct sig_alg *a;
	size_t i;

	(void)state;
	auth_round_trip(keys[K_RSA], other[K_RSA], IKEV2_AUTH_RSA_SIG, NULL,
			SIG_ALLOW_SHA1);
	auth_round_trip(keys[K_P256], other[K_P256], IKEV2_AUTH_ECDSA_256, NULL,
			0);
	auth_round_trip(keys[K_P384], other[K_P384], IKEV2_AUTH_ECDSA_384, NULL,
			0);
	auth_round_trip(keys[K_P521], other[K_P521], IKEV2_AUTH_ECDSA_521, NULL,
			0);
	for (i = 0; (a = sig_alg_at(i)); i++)
		if (a->hash != SIG_HASH_SHA1)
			auth_round_trip(key_for(a, keys), key_for(a, other),
					IKEV2_AUTH_DIGITAL_SIG, a->name, 0);
}

static void test_auth_refusals(void **state)
{
	struct wbuf w;
	char why[AUTH_SIG_WHY_MAX];
	uint8_t sig[200] = {0};

	(void)state;
	assert_int_equal(wbuf_init(&w, 64), 0);
	/* RFC 4754 §3: the curve belongs to the method. */
	assert_int_equal(auth_sig_sign(IKEV2_AUTH_ECDSA_256, NULL, keys[K_P384],
				       0, msg, sizeof(msg), &w),
			 ERR_UNSUPPORTED);
	assert_int_equal(auth_sig_verify(IKEV2_AUTH_ECDSA_384, keys[K_P256], 0,
					 0, msg, sizeof(msg), sig, 96, why,
					 sizeof(why)),
			 ERR_UNSUPPORTED);
	assert_non_null(strstr(why, "ECDSA P-256"));
	/* Method 1 is SHA-1: off by default, both ways. */
	assert_int_equal(auth_sig_sign(IKEV2_AUTH_RSA_SIG, NULL, keys[K_RSA], 0,
				       msg, sizeof(msg), &w),
			 ERR_UNSUPPORTED);
	assert_int_equal(auth_sig_verify(IKEV2_AUTH_RSA_SIG, keys[K_RSA], 0, 0,
					 msg, sizeof(msg), sig, 256, why,
					 sizeof(why)),
			 ERR_UNSUPPORTED);
	assert_non_null(strstr(why, "SHA-1"));
	/* PSK and unknown methods are not signatures. */
	assert_false(auth_sig_method_ok(IKEV2_AUTH_PSK));
	assert_int_equal(auth_sig_verify(IKEV2_AUTH_PSK, keys[K_RSA], 0, 0, msg,
					 sizeof(msg), sig, 32, why,
					 sizeof(why)),
			 ERR_UNSUPPORTED);
	/* Method 14 with SHA-1 (ecdsa-with-SHA1): signed with the flag,
	 * refused without it even though the signature is good. */
	wbuf_free(&w);
	assert_int_equal(wbuf_init(&w, 64), 0);
	assert_int_equal(auth_sig_sign(IKEV2_AUTH_DIGITAL_SIG,
				       sig_alg_by_name("ecdsa-sha1"),
				       keys[K_P256], SIG_ALLOW_SHA1, msg,
				       sizeof(msg), &w),
			 0);
	assert_int_equal(auth_sig_verify(IKEV2_AUTH_DIGITAL_SIG, keys[K_P256],
					 0, 0, msg, sizeof(msg), w.p, w.len,
					 why, sizeof(why)),
			 ERR_UNSUPPORTED);
	assert_non_null(strstr(why, "SHA1"));
	assert_int_equal(
		auth_sig_verify(IKEV2_AUTH_DIGITAL_SIG, keys[K_P256],
				SIG_ALLOW_SHA1,
				AUTH_SIG_HASHES_DEFAULT |
					AUTH_SIG_HASH_BIT(SIG_HASH_SHA1),
				msg, sizeof(msg), w.p, w.len, why, sizeof(why)),
		0);
	/* An Ed25519 signature checked with an ECDSA certificate key. */
	wbuf_free(&w);
	assert_int_equal(wbuf_init(&w, 64), 0);
	assert_int_equal(auth_sig_sign(IKEV2_AUTH_DIGITAL_SIG,
				       sig_alg_by_name("ed25519"),
				       keys[K_ED25519], 0, msg, sizeof(msg),
				       &w),
			 0);
	assert_int_equal(auth_sig_verify(IKEV2_AUTH_DIGITAL_SIG, keys[K_P256],
					 0, 0, msg, sizeof(msg), w.p, w.len,
					 why, sizeof(why)),
			 ERR_UNSUPPORTED);
	assert_string_equal(why, "ed25519 signature but the certificate key "
				 "is ECDSA P-256");
	wbuf_free(&w);
}

static void expect_choice(EVP_PKEY *key, uint32_t hashes, unsigned flags,
			  int want_r, uint8_t want_method, const char *want)
{
	const struct sig_alg *a = NULL;
	uint8_t method = 0;
	char why[AUTH_SIG_WHY_MAX] = "";

	assert_int_equal(auth_sig_choose(key, hashes, flags, &method, &a, why,
					 sizeof(why)),
			 want_r);
	if (want_r == 0) {
		assert_int_equal(method, want_method);
		assert_string_equal(a->name, want);
	} else {
		assert_true(strlen(why) > 10);
	}
}

static void test_auth_choice(void **state)
{
	const uint32_t all = AUTH_SIG_HASHES_DEFAULT;
	const uint32_t s256 = AUTH_SIG_HASH_BIT(SIG_HASH_SHA256);
	const uint32_t s1 = AUTH_SIG_HASH_BIT(SIG_HASH_SHA1);
	struct wbuf w;
	uint8_t method;
	char why[AUTH_SIG_WHY_MAX];

	(void)state;
	/* RFC 7427 §4: with the notify, method 14. */
	expect_choice(keys[K_P256], all, 0, 0, 14, "ecdsa-sha256");
	expect_choice(keys[K_P384], all, 0, 0, 14, "ecdsa-sha384");
	expect_choice(keys[K_P521], all, 0, 0, 14, "ecdsa-sha512");
	expect_choice(keys[K_P384], s256, 0, 0, 14, "ecdsa-sha256");
	expect_choice(keys[K_RSA], all, 0, 0, 14, "rsa-sha256");
	expect_choice(keys[K_RSA], all, AUTH_SIG_RSA_PSS, 0, 14,
		      "rsa-pss-sha256");
	expect_choice(keys[K_ED25519], all, 0, 0, 14, "ed25519");
	expect_choice(keys[K_ED448], all, 0, 0, 14, "ed448");
	/* Only SHA-1 announced: off unless allowed. */
	expect_choice(keys[K_RSA], s1, 0, ERR_UNSUPPORTED, 0, NULL);
	expect_choice(keys[K_RSA], s1, SIG_ALLOW_SHA1, 0, 14, "rsa-sha1");
	/* RFC 8420: EdDSA needs Identity. */
	expect_choice(keys[K_ED25519], s256, 0, ERR_UNSUPPORTED, 0, NULL);
	expect_choice(keys[K_ED25519], 0, 0, ERR_UNSUPPORTED, 0, NULL);
	/* No notify: the legacy methods. */
	expect_choice(keys[K_P256], 0, 0, 0, 9, "ecdsa-sha256");
	expect_choice(keys[K_P384], 0, 0, 0, 10, "ecdsa-sha384");
	expect_choice(keys[K_P521], 0, 0, 0, 11, "ecdsa-sha512");
	expect_choice(keys[K_RSA], 0, 0, ERR_UNSUPPORTED, 0, NULL);
	expect_choice(keys[K_RSA], 0, SIG_ALLOW_SHA1, 0, 1, "rsa-sha1");

	/* auth_sig_make: choice and signature that the peer verifies. */
	assert_int_equal(wbuf_init(&w, 64), 0);
	assert_int_equal(auth_sig_make(keys[K_P384], 0, 0, msg, sizeof(msg),
				       &method, &w, why, sizeof(why)),
			 0);
	assert_int_equal(method, IKEV2_AUTH_ECDSA_384);
	assert_int_equal(w.len, 96);
	assert_int_equal(auth_sig_verify(method, keys[K_P384], 0, 0, msg,
					 sizeof(msg), w.p, w.len, why,
					 sizeof(why)),
			 0);
	wbuf_free(&w);
	assert_string_equal(auth_sig_hash_name(SIG_HASH_IDENTITY), "Identity");
}

/* Keys from PEM and DER, and what is not a key. */
static void test_key_load(void **state)
{
	struct wbuf pem;
	unsigned char *der = NULL;
	EVP_PKEY *k = NULL;
	int n, i;

	(void)state;
	for (i = 0; i < K_N; i++) {
		assert_int_equal(wbuf_init(&pem, 256), 0);
		assert_int_equal(cert_key_pem(keys[i], &pem), 0);
		assert_int_equal(sig_key_from_mem(pem.p, pem.len, &k), 0);
		assert_int_equal(EVP_PKEY_eq(k, keys[i]), 1);
		sig_key_free(k);
		k = NULL;
		n = i2d_PrivateKey(keys[i], &der);
		assert_true(n > 0);
		assert_int_equal(sig_key_from_mem(der, (size_t)n, &k), 0);
		assert_int_equal(EVP_PKEY_eq(k, keys[i]), 1);
		sig_key_free(k);
		k = NULL;
		OPENSSL_free(der);
		der = NULL;
		/* Half a key is no key. */
		assert_int_equal(sig_key_from_mem(pem.p, pem.len / 2, &k),
				 ERR_MALFORMED);
		assert_null(k);
		wbuf_free(&pem);
	}
	assert_int_equal(sig_key_load("/nonexistent/key.pem", &k), ERR_IO);
	sig_key_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strongswan_ed25519),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_ecdsa_raw),
		cmocka_unit_test(test_algid),
		cmocka_unit_test(test_auth_methods),
		cmocka_unit_test(test_auth_refusals),
		cmocka_unit_test(test_auth_choice),
		cmocka_unit_test(test_key_load),
	};

	log_set_all_levels(LL_ERR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
