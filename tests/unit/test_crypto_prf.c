/* SPDX-License-Identifier: MIT */
/*
 * Known answers for the MAC core, integrity transforms, PRFs and prf+:
 * strongSwan's PRF/signer vectors (RFC 2202, 3566, 4434, 4493/4494, 4615,
 * 4868), the CAVP SP 800-135 IKEv2 KDF vectors (strongSwan and
 * Libreswan), and Libreswan's IKEv1 SKEYID vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "crypto/crypto.h"
#include "vectors.h"

#define F_PRF_INTEG "ikev2_prf_integ_strongswan.json"
#define F_KDF "ikev2_kdf_strongswan_cavp.json"
#define F_LIBRESWAN "ike_kdf_libreswan_cavp_sha1.json"

static uint8_t *hexf(const cJSON *o, const char *key, size_t *len)
{
	const char *s = vec_str(o, key);
	uint8_t *b;

	if (!s)
		s = "";
	if (vec_hex(s, &b, len))
		fail_msg("bad hex in %s", key);
	return b;
}

static long numf(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsNumber(v))
		return (long)v->valuedouble;
	if (cJSON_IsString(v))
		return strtol(v->valuestring, NULL, 10);
	return -1;
}

/* strongSwan PRF_* identifiers to our table. */
static const struct prf_alg *ss_prf(const char *id)
{
	static const struct {
		const char *ss, *name;
	} map[] = {
		{"PRF_HMAC_MD5", "prfmd5"},
		{"PRF_HMAC_SHA1", "prfsha1"},
		{"PRF_AES128_XCBC", "prfaesxcbc"},
		{"PRF_HMAC_SHA2_256", "prfsha256"},
		{"PRF_HMAC_SHA2_384", "prfsha384"},
		{"PRF_HMAC_SHA2_512", "prfsha512"},
		{"PRF_AES128_CMAC", "prfaescmac"},
	};
	size_t i;

	for (i = 0; id && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].ss, id) == 0)
			return prf_by_name(map[i].name);
	return NULL;
}

/*
 * strongSwan AUTH_* identifiers: the IKEv2 integrity transforms, plus
 * the untruncated HMAC-MD5/SHA1 signers, which exist in no IKEv2
 * registry we implement but test the MAC core (digest, icv bytes).
 */
static bool ss_signer(const char *id, const struct integ_alg **integ,
		      const char **digest, size_t *icv)
{
	static const struct {
		const char *ss, *name, *digest;
		size_t icv;
	} map[] = {
		{"AUTH_HMAC_MD5_96", "md5", NULL, 0},
		{"AUTH_HMAC_SHA1_96", "sha1", NULL, 0},
		{"AUTH_AES_XCBC_96", "aesxcbc", NULL, 0},
		{"AUTH_AES_CMAC_96", "aescmac", NULL, 0},
		{"AUTH_HMAC_SHA2_256_128", "sha256", NULL, 0},
		{"AUTH_HMAC_SHA2_384_192", "sha384", NULL, 0},
		{"AUTH_HMAC_SHA2_512_256", "sha512", NULL, 0},
		{"AUTH_HMAC_MD5_128", NULL, "MD5", 16},
		{"AUTH_HMAC_SHA1_128", NULL, "SHA1", 16},
		{"AUTH_HMAC_SHA1_160", NULL, "SHA1", 20},
	};
	size_t i;

	*integ = NULL;
	*digest = NULL;
	for (i = 0; id && i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(map[i].ss, id) != 0)
			continue;
		if (map[i].name) {
			*integ = integ_by_name(map[i].name);
			*icv = *integ ? (*integ)->icv_len : 0;
			return *integ != NULL;
		}
		*digest = map[i].digest;
		*icv = map[i].icv;
		return true;
	}
	return false;
}

/* One-shot and byte-at-a-time integrity, plus verify and a bad ICV. */
static bool check_integ(const struct integ_alg *a, const uint8_t *key,
			size_t kl, const uint8_t *data, size_t len,
			const uint8_t *mac)
{
	struct integ_ctx *c = NULL;
	uint8_t icv[64], bad[64];
	bool ok = false;
	size_t i;

	if (integ_ctx_new(a, key, kl, &c))
		return false;
	if (integ_update(c, data, len) || integ_final(c, icv) ||
	    memcmp(icv, mac, a->icv_len))
		goto out;
	/* Streamed in odd pieces on the same, re-initialised context. */
	if (integ_init(c))
		goto out;
	for (i = 0; i < len; i++)
		if (integ_update(c, data + i, 1))
			goto out;
	if (integ_verify(c, mac))
		goto out;
	memcpy(bad, mac, a->icv_len);
	bad[a->icv_len - 1] ^= 1;
	if (integ_init(c) || integ_update(c, data, len) ||
	    integ_verify(c, bad) != ERR_AUTH)
		goto out;
	ok = true;
out:
	integ_ctx_free(c);
	return ok;
}

static bool check_hmac(const char *digest, size_t icv, const uint8_t *key,
		       size_t kl, const uint8_t *data, size_t len,
		       const uint8_t *mac)
{
	struct mac_ctx *m = NULL;
	uint8_t out[64];
	bool ok;

	if (mac_ctx_new(MAC_KIND_HMAC, digest, key, kl, &m))
		return false;
	ok = mac_size(m) >= icv && mac_update(m, data, len) == 0 &&
	     mac_final(m, out) == 0 && memcmp(out, mac, icv) == 0;
	mac_ctx_free(m);
	return ok;
}

static void test_prf_integ(void **state)
{
	cJSON *j = vec_load(F_PRF_INTEG), *v;
	unsigned total = 0, passed = 0;

	(void)state;
	assert_non_null(j);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "vectors"))
	{
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, "fields");
		const char *kind = vec_str(v, "kind");
		const struct integ_alg *ia;
		const struct prf_alg *pa;
		const char *digest;
		uint8_t *key, *data, *want, out[64];
		size_t kl, dl, wl, icv;
		long len = numf(f, "len"), ks = numf(f, "key_size");
		bool ok = false;

		total++;
		key = hexf(f, "key", &kl);
		/* Cut the C initialisers to len/key_size (see NOTE). */
		if (ks >= 0 && (size_t)ks <= kl)
			kl = (size_t)ks;
		if (strcmp(kind, "prf") == 0) {
			data = hexf(f, "seed", &dl);
			want = hexf(f, "out", &wl);
			pa = ss_prf(vec_str(f, "alg"));
			ok = pa && len >= 0 && (size_t)len <= dl &&
			     wl >= pa->out_len &&
			     prf(pa, key, kl, data, (size_t)len, out) == 0 &&
			     memcmp(out, want, pa->out_len) == 0;
		} else {
			data = hexf(f, "data", &dl);
			want = hexf(f, "mac", &wl);
			if (ss_signer(vec_str(f, "alg"), &ia, &digest, &icv) &&
			    len >= 0 && (size_t)len <= dl && wl >= icv)
				ok = ia ? check_integ(ia, key, kl, data,
						      (size_t)len, want)
					: check_hmac(digest, icv, key, kl, data,
						     (size_t)len, want);
		}
		if (ok)
			passed++;
		else
			printf("# FAIL %s\n", vec_str(v, "name"));
		free(key);
		free(data);
		free(want);
	}
	vec_report(F_PRF_INTEG, passed, total);
	cJSON_Delete(j);
	assert_int_equal(total, 69);
	assert_int_equal(passed, total);
}

static void test_kdf(void **state)
{
	cJSON *j = vec_load(F_KDF), *v;
	unsigned total = 0, passed = 0;

	(void)state;
	assert_non_null(j);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "vectors"))
	{
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, "fields");
		const struct prf_alg *pa = ss_prf(vec_str(f, "arg.prf"));
		const char *alg = vec_str(f, "alg");
		uint8_t *key, *salt, *want, *out;
		size_t kl, sl, wl;
		bool ok = false;

		total++;
		key = hexf(f, "key", &kl);
		salt = hexf(f, "salt", &sl);
		want = hexf(f, "out", &wl);
		out = malloc(wl + 64);
		if (pa && out && strcmp(alg, "KDF_PRF") == 0) {
			/* SKEYSEED = prf(Ni | Nr, g^ir), RFC 7296 §2.14. */
			ok = wl == pa->out_len &&
			     prf(pa, salt, sl, key, kl, out) == 0 &&
			     memcmp(out, want, wl) == 0;
		} else if (pa && out && strcmp(alg, "KDF_PRF_PLUS") == 0) {
			ok = prf_plus(pa, key, kl, salt, sl, out, wl) == 0 &&
			     memcmp(out, want, wl) == 0;
		}
		if (ok)
			passed++;
		else
			printf("# FAIL %s\n", vec_str(v, "name"));
		free(key);
		free(salt);
		free(want);
		free(out);
	}
	vec_report(F_KDF, passed, total);
	cJSON_Delete(j);
	assert_int_equal(total, 13);
	assert_int_equal(passed, total);
}

/* Concatenate up to four hex members of o (NULL ends). */
static size_t cat(const cJSON *o, uint8_t *out, size_t cap, const char *a,
		  const char *b, const char *c, const char *d)
{
	const char *keys[] = {a, b, c, d};
	size_t n = 0, l, i;
	uint8_t *t;

	for (i = 0; i < 4 && keys[i]; i++) {
		t = hexf(o, keys[i], &l);
		assert_true(n + l <= cap);
		memcpy(out + n, t, l);
		n += l;
		free(t);
	}
	return n;
}

static bool hex_eq(const cJSON *o, const char *key, const uint8_t *p,
		   size_t len)
{
	uint8_t *w;
	size_t wl;
	bool ok;

	w = hexf(o, key, &wl);
	ok = wl == len && memcmp(w, p, len) == 0;
	if (!ok)
		printf("# mismatch: %s\n", key);
	free(w);
	return ok;
}

/* RFC 7296 §2.14 and §2.17, CAVP SP 800-135 IKEv2 with HMAC-SHA1. */
static bool libreswan_ikev2(const cJSON *o, const struct prf_alg *p)
{
	uint8_t s[1024], seed[1024], skeyseed[20], dkm[256], skd[20];
	size_t sl, gl, dl = (size_t)numf(o, "DKM_length_bits") / 8;
	uint8_t *g;
	bool ok = true;

	if (dl == 0 || dl > sizeof(dkm))
		return false;
	g = hexf(o, "g_ir", &gl);
	sl = cat(o, s, sizeof(s), "Ni", "Nr", NULL, NULL);
	ok &= prf(p, s, sl, g, gl, skeyseed) == 0 &&
	      hex_eq(o, "SKEYSEED", skeyseed, 20);
	free(g);
	/* DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) */
	sl = cat(o, s, sizeof(s), "Ni", "Nr", "SPIi", "SPIr");
	ok &= prf_plus(p, skeyseed, 20, s, sl, dkm, dl) == 0 &&
	      hex_eq(o, "DKM", dkm, dl);
	/* Child SA: prf+(SK_d, Ni | Nr), SK_d = the first 20 bytes. */
	memcpy(skd, dkm, sizeof(skd));
	sl = cat(o, s, sizeof(s), "Ni", "Nr", NULL, NULL);
	ok &= prf_plus(p, skd, 20, s, sl, dkm, dl) == 0 &&
	      hex_eq(o, "DKM_child", dkm, dl);
	/* With a new DH: prf+(SK_d, g^ir (new) | Ni | Nr). */
	sl = cat(o, seed, sizeof(seed), "g_ir_new", "Ni", "Nr", NULL);
	ok &= prf_plus(p, skd, 20, seed, sl, dkm, dl) == 0 &&
	      hex_eq(o, "DKM_child_dh", dkm, dl);
	/* Rekey: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr). */
	ok &= prf(p, skd, 20, seed, sl, skeyseed) == 0 &&
	      hex_eq(o, "SKEYSEED_rekey", skeyseed, 20);
	return ok;
}

/* RFC 2409 §5: IKEv1 SKEYID and SKEYID_d/a/e, all prf calls. */
static bool libreswan_ikev1(const cJSON *o, const struct prf_alg *p, bool psk)
{
	uint8_t s[512], m[512], skeyid[20], d[20], a[20], e[20];
	uint8_t *k, *g, *cky;
	size_t sl, kl, gl, cl, n;
	bool ok = true;

	g = hexf(o, "g_xy", &gl);
	sl = cat(o, s, sizeof(s), "Ni", "Nr", NULL, NULL);
	if (psk) {
		/* SKEYID = prf(pre-shared-key, Ni_b | Nr_b) */
		k = hexf(o, "pre_shared_key", &kl);
		ok &= prf(p, k, kl, s, sl, skeyid) == 0;
		free(k);
	} else {
		/* Signatures: SKEYID = prf(Ni_b | Nr_b, g^xy) */
		ok &= prf(p, s, sl, g, gl, skeyid) == 0;
	}
	ok &= hex_eq(o, "SKEYID", skeyid, 20);
	cky = s;
	cl = cat(o, cky, sizeof(s), "CKY_I", "CKY_R", NULL, NULL);
	assert_true(gl + cl + 21 <= sizeof(m));
	/* SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0) */
	memcpy(m, g, gl);
	n = gl;
	memcpy(m + n, cky, cl);
	n += cl;
	m[n++] = 0;
	ok &= prf(p, skeyid, 20, m, n, d) == 0 && hex_eq(o, "SKEYID_d", d, 20);
	/* SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1) */
	memcpy(m, d, 20);
	n = 20;
	memcpy(m + n, g, gl);
	n += gl;
	memcpy(m + n, cky, cl);
	n += cl;
	m[n++] = 1;
	ok &= prf(p, skeyid, 20, m, n, a) == 0 && hex_eq(o, "SKEYID_a", a, 20);
	/* SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2) */
	memcpy(m, a, 20);
	m[n - 1] = 2;
	ok &= prf(p, skeyid, 20, m, n, e) == 0 && hex_eq(o, "SKEYID_e", e, 20);
	free(g);
	return ok;
}

static void test_libreswan(void **state)
{
	cJSON *j = vec_load(F_LIBRESWAN);
	const struct prf_alg *p = prf_by_name("prfsha1");
	const cJSON *o;
	unsigned total = 0, passed = 0;

	(void)state;
	assert_non_null(j);
	assert_non_null(p);
	o = cJSON_GetObjectItemCaseSensitive(j, "ikev2");
	total++;
	if (o && libreswan_ikev2(o, p))
		passed++;
	else
		printf("# FAIL ikev2\n");
	o = cJSON_GetObjectItemCaseSensitive(j, "ikev1_psk");
	total++;
	if (o && libreswan_ikev1(o, p, true))
		passed++;
	else
		printf("# FAIL ikev1_psk\n");
	o = cJSON_GetObjectItemCaseSensitive(j, "ikev1_dsa");
	total++;
	if (o && libreswan_ikev1(o, p, false))
		passed++;
	else
		printf("# FAIL ikev1_dsa\n");
	vec_report(F_LIBRESWAN, passed, total);
	cJSON_Delete(j);
	assert_int_equal(passed, total);
}

static void test_tables(void **state)
{
	const struct integ_alg *i;
	const struct prf_alg *p;
	size_t n;

	(void)state;
	for (n = 0; (i = integ_at(n)); n++) {
		assert_ptr_equal(integ_by_name(i->name), i);
		assert_ptr_equal(integ_by_kat_name(i->kat_name), i);
		assert_ptr_equal(integ_by_iana(i->iana_id), i);
	}
	assert_int_equal(n, 7);
	for (n = 0; (p = prf_at(n)); n++) {
		assert_ptr_equal(prf_by_name(p->name), p);
		assert_ptr_equal(prf_by_iana(p->iana_id), p);
	}
	assert_int_equal(n, 7);
	assert_int_equal(integ_by_name("sha256")->iana_id, 12);
	assert_int_equal(integ_by_kat_name("hmac-sha384-192")->icv_len, 24);
	assert_int_equal(integ_by_name("aesxcbc")->iana_id, 5);
	assert_int_equal(integ_by_name("aescmac")->iana_id, 8);
	assert_int_equal(prf_by_name("prfaesxcbc")->iana_id, 4);
	assert_int_equal(prf_by_name("prfaescmac")->iana_id, 8);
	assert_int_equal(prf_by_name("prfsha512")->out_len, 64);
	assert_null(integ_by_kat_name("none"));
	assert_null(prf_by_name("prfsha3"));
}

static void test_negative(void **state)
{
	const struct prf_alg *p256 = prf_by_name("prfsha256");
	const struct prf_alg *px = prf_by_name("prfaesxcbc");
	const struct integ_alg *i256 = integ_by_name("sha256");
	const struct integ_alg *ix = integ_by_name("aesxcbc");
	uint8_t key[64] = {1}, out[255 * 32 + 1];
	struct integ_ctx *c = NULL;
	struct mac_ctx *m = NULL;

	(void)state;
	/* prf+ counter is one octet (RFC 7296 §2.13). */
	assert_int_equal(prf_plus(p256, key, 32, key, 8, out, 255 * 32), 0);
	assert_int_equal(prf_plus(p256, key, 32, key, 8, out, 255 * 32 + 1),
			 ERR_OVERFLOW);
	assert_int_equal(prf_plus(px, key, 16, key, 8, out, 255 * 16 + 1),
			 ERR_OVERFLOW);
	assert_int_equal(prf_plus(p256, key, 32, key, 8, out, 0), 0);
	/* Integrity keys have one length. */
	assert_int_equal(integ_ctx_new(i256, key, 31, &c), ERR_INVAL);
	assert_null(c);
	assert_int_equal(integ_ctx_new(i256, key, 33, &c), ERR_INVAL);
	assert_int_equal(integ_ctx_new(ix, key, 20, &c), ERR_INVAL);
	assert_int_equal(mac_ctx_new(MAC_KIND_XCBC, NULL, key, 15, &m),
			 ERR_INVAL);
	assert_int_equal(mac_ctx_new(MAC_KIND_CMAC, NULL, key, 32, &m),
			 ERR_INVAL);
	assert_int_equal(
		mac_ctx_new(MAC_KIND_HMAC, "NO-SUCH-HASH", key, 32, &m),
		ERR_UNSUPPORTED);
	assert_null(m);
	assert_int_equal(prf(NULL, key, 1, key, 1, out), ERR_INVAL);
	/* Empty keys are legal for HMAC and both AES PRFs. */
	assert_int_equal(prf(p256, NULL, 0, key, 4, out), 0);
	assert_int_equal(prf(px, NULL, 0, key, 4, out), 0);
	integ_ctx_free(NULL);
	mac_ctx_free(NULL);
	assert_int_equal(mac_size(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_prf_integ),
		cmocka_unit_test(test_kdf),
		cmocka_unit_test(test_libreswan),
		cmocka_unit_test(test_negative),
	};

	if (crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
