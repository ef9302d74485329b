/* SPDX-License-Identifier: MIT */
/*
 * Known answers for key exchange: RFC 5903 §8 (groups 19/20/21, with the
 * complete KE payloads), RFC 7748 §5.2/§6.1 and RFC 8031 (X25519), and
 * strongSwan's RFC 5114 ECP and Curve25519 vectors.  Plus the peer-value
 * checks: MODP range, off-curve points, low-order X25519 points.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>

#include "common/err.h"
#include "crypto/crypto.h"
#include "vectors.h"

#define F_RFC5903 "ke_rfc5903_ecp_groups_19_20_21.json"
#define F_X25519 "ke_x25519_rfc7748.json"
#define F_STRONGSWAN "dh_ecp_x25519_strongswan.json"

#define MAX_PUB 1024

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

/* Our public value from a known private one equals want (if given). */
static struct ke *known(const struct ke_alg *a, const uint8_t *priv,
			size_t priv_len, const uint8_t *want, size_t want_len)
{
	uint8_t pub[MAX_PUB];
	struct ke *k = NULL;

	if (ke_new_private(a, priv, priv_len, &k))
		return NULL;
	if (want &&
	    (want_len != a->pub_len || ke_get_public(k, pub, sizeof(pub)) ||
	     memcmp(pub, want, want_len))) {
		ke_free(k);
		return NULL;
	}
	return k;
}

static bool derive_eq(struct ke *k, const uint8_t *peer, size_t peer_len,
		      const uint8_t *want, size_t want_len)
{
	uint8_t s[MAX_PUB];

	return k && want_len == ke_get_alg(k)->secret_len &&
	       ke_derive(k, peer, peer_len, s, sizeof(s)) == 0 &&
	       memcmp(s, want, want_len) == 0;
}

/* RFC 5903 §8: the KE payload is a 4-byte generic header, the group
 * (2 bytes), RESERVED (2 bytes), then x || y. */
static bool ke_payload_ok(const struct ke_alg *a, const uint8_t *ke, size_t len,
			  const uint8_t *pub)
{
	return len == 8 + (size_t)a->pub_len &&
	       ((size_t)ke[2] << 8 | ke[3]) == len &&
	       ((unsigned)ke[4] << 8 | ke[5]) == a->iana_id &&
	       memcmp(ke + 8, pub, a->pub_len) == 0;
}

static bool rfc5903_case(const cJSON *v)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(v, "ike_group");
	const struct ke_alg *a = ke_by_iana((uint16_t)g->valueint);
	uint8_t *f[10];
	size_t l[10];
	static const char *const keys[10] = {
		"i",   "gix", "giy", "kei",  "r",
		"grx", "gry", "ker", "girx", "shared_secret_for_SKEYSEED"};
	uint8_t pi[2 * 66], pr[2 * 66];
	struct ke *ki = NULL, *kr = NULL;
	bool ok = false;
	size_t n;

	for (n = 0; n < 10; n++)
		f[n] = hexf(v, keys[n], &l[n]);
	if (!a || a->kind != KE_KIND_ECP || l[1] + l[2] != a->pub_len ||
	    l[5] + l[6] != a->pub_len)
		goto out;
	memcpy(pi, f[1], l[1]);
	memcpy(pi + l[1], f[2], l[2]);
	memcpy(pr, f[5], l[5]);
	memcpy(pr + l[5], f[6], l[6]);
	ki = known(a, f[0], l[0], pi, a->pub_len);
	kr = known(a, f[4], l[4], pr, a->pub_len);
	/* g^ir is the x-coordinate only (RFC 5903 §7, §9). */
	ok = ki && kr && ke_payload_ok(a, f[3], l[3], pi) &&
	     ke_payload_ok(a, f[7], l[7], pr) && l[8] == l[9] &&
	     memcmp(f[8], f[9], l[8]) == 0 &&
	     derive_eq(ki, pr, a->pub_len, f[8], l[8]) &&
	     derive_eq(kr, pi, a->pub_len, f[8], l[8]);
out:
	ke_free(ki);
	ke_free(kr);
	for (n = 0; n < 10; n++)
		free(f[n]);
	return ok;
}

static void test_rfc5903(void **state)
{
	cJSON *j = vec_load(F_RFC5903), *v;
	unsigned total = 0, passed = 0;

	(void)state;
	assert_non_null(j);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "vectors"))
	{
		total++;
		if (rfc5903_case(v))
			passed++;
		else
			printf("# FAIL group %d\n",
			       cJSON_GetObjectItemCaseSensitive(v, "ike_group")
				       ->valueint);
	}
	vec_report(F_RFC5903, passed, total);
	cJSON_Delete(j);
	assert_int_equal(total, 3);
	assert_int_equal(passed, total);
}

/* Both sides of one exchange from their private values. */
static bool dh_pair(const struct ke_alg *a, const uint8_t *xi,
		    const uint8_t *xr, size_t xl, const uint8_t *pi, size_t pil,
		    const uint8_t *pr, size_t prl, const uint8_t *shared,
		    size_t sl)
{
	struct ke *ki = known(a, xi, xl, pi, pil);
	struct ke *kr = known(a, xr, xl, pr, prl);
	bool ok;

	ok = ki && kr && derive_eq(ki, pr, prl, shared, sl) &&
	     derive_eq(kr, pi, pil, shared, sl);
	ke_free(ki);
	ke_free(kr);
	return ok;
}

static void test_x25519(void **state)
{
	const struct ke_alg *a = ke_by_name("x25519");
	cJSON *j = vec_load(F_X25519), *v;
	unsigned total = 0, passed = 0;

	(void)state;
	assert_non_null(j);
	assert_non_null(a);
	/* RFC 7748 §5.2: X25519(scalar, u) = out. */
	cJSON_ArrayForEach(v,
			   cJSON_GetObjectItemCaseSensitive(j, "scalar_mult"))
	{
		uint8_t *k, *u, *o;
		size_t kl, ul, ol;
		struct ke *ke;

		total++;
		k = hexf(v, "scalar", &kl);
		u = hexf(v, "u", &ul);
		o = hexf(v, "out", &ol);
		ke = known(a, k, kl, NULL, 0);
		if (derive_eq(ke, u, ul, o, ol))
			passed++;
		else
			printf("# FAIL %s\n", vec_str(v, "rfc7748_section"));
		ke_free(ke);
		free(k);
		free(u);
		free(o);
	}
	/* RFC 7748 §6.1 and RFC 8031 Appendix A. */
	cJSON_ArrayForEach(
		v, cJSON_GetObjectItemCaseSensitive(j, "diffie_hellman"))
	{
		uint8_t *xi, *xr, *pi, *pr, *s;
		size_t xil, xrl, pil, prl, sl;

		total++;
		xi = hexf(v, "private_i", &xil);
		xr = hexf(v, "private_r", &xrl);
		pi = hexf(v, "pub_i", &pil);
		pr = hexf(v, "pub_r", &prl);
		s = hexf(v, "shared", &sl);
		if (xil == xrl &&
		    dh_pair(a, xi, xr, xil, pi, pil, pr, prl, s, sl))
			passed++;
		else
			printf("# FAIL %s\n", vec_str(v, "name"));
		free(xi);
		free(xr);
		free(pi);
		free(pr);
		free(s);
	}
	vec_report(F_X25519, passed, total);
	cJSON_Delete(j);
	assert_int_equal(total, 4);
	assert_int_equal(passed, total);
}

/* strongSwan's key_exchange_method_t names. */
static const struct ke_alg *ss_method(const char *m, const char **why)
{
	*why = NULL;
	if (strcmp(m, "ECP_256_BIT") == 0)
		return ke_by_name("ecp256");
	if (strcmp(m, "ECP_384_BIT") == 0)
		return ke_by_name("ecp384");
	if (strcmp(m, "ECP_521_BIT") == 0)
		return ke_by_name("ecp521");
	if (strcmp(m, "CURVE_25519") == 0)
		return ke_by_name("x25519");
	if (strcmp(m, "CURVE_448") == 0)
		return ke_by_name("x448");
	if (strcmp(m, "ECP_192_BIT") == 0)
		return ke_by_name("ecp192");
	if (strcmp(m, "ECP_224_BIT") == 0)
		return ke_by_name("ecp224");
	*why = "method not in our list";
	return NULL;
}

static void test_strongswan(void **state)
{
	cJSON *j = vec_load(F_STRONGSWAN), *v;
	unsigned total = 0, passed = 0, skipped = 0;

	(void)state;
	assert_non_null(j);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "vectors"))
	{
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, "fields");
		const struct ke_alg *a;
		const char *why;
		uint8_t *seed, *pi, *pr, *s;
		size_t sdl, pil, prl, sl;

		total++;
		a = ss_method(vec_str(f, "method"), &why);
		if (!a) {
			skipped++;
			printf("# skip %s: %s\n", vec_str(v, "name"), why);
			continue;
		}
		/* seed = initiator private || responder private. */
		seed = hexf(f, "seed", &sdl);
		pi = hexf(f, "pub_i", &pil);
		pr = hexf(f, "pub_r", &prl);
		s = hexf(f, "shared", &sl);
		if (sdl % 2 == 0 && dh_pair(a, seed, seed + sdl / 2, sdl / 2,
					    pi, pil, pr, prl, s, sl))
			passed++;
		else
			printf("# FAIL %s\n", vec_str(v, "name"));
		free(seed);
		free(pi);
		free(pr);
		free(s);
	}
	vec_report(F_STRONGSWAN, passed, total);
	cJSON_Delete(j);
	assert_int_equal(total, 7);
	assert_int_equal(skipped, 0);
	assert_int_equal(passed, total);
}

static void test_tables(void **state)
{
	static const struct {
		const char *name;
		uint16_t id, pub, secret;
	} want[] = {
		{"modp1024", 2, 128, 128},    {"modp1536", 5, 192, 192},
		{"modp2048", 14, 256, 256},   {"modp3072", 15, 384, 384},
		{"modp4096", 16, 512, 512},   {"modp6144", 17, 768, 768},
		{"modp8192", 18, 1024, 1024}, {"ecp256", 19, 64, 32},
		{"ecp384", 20, 96, 48},	      {"ecp521", 21, 132, 66},
		{"x25519", 31, 32, 32},	      {"x448", 32, 56, 56},
		{"ecp192", 25, 48, 24},	      {"ecp224", 26, 56, 28},
	};
	const struct ke_alg *a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		a = ke_by_name(want[i].name);
		assert_non_null(a);
		assert_ptr_equal(ke_by_iana(want[i].id), a);
		assert_int_equal(a->pub_len, want[i].pub);
		assert_int_equal(a->secret_len, want[i].secret);
	}
	for (i = 0; (a = ke_at(i)); i++)
		assert_ptr_equal(ke_by_name(a->name), a);
	assert_int_equal(i, 14);
	assert_ptr_equal(ke_by_name("curve25519"), ke_by_name("x25519"));
	assert_ptr_equal(ke_by_name("curve448"), ke_by_name("x448"));
	assert_true(ke_by_name("modp1024")->legacy);
	assert_true(ke_by_name("ecp192")->legacy);
	assert_true(ke_by_name("ecp224")->legacy);
	assert_null(ke_by_name("modp768"));
	assert_null(ke_by_iana(1));
}

/* Fresh key pairs on both sides agree, for every group. */
static void test_roundtrip(void **state)
{
	uint8_t pa[MAX_PUB], pb[MAX_PUB], sa[MAX_PUB], sb[MAX_PUB];
	const struct ke_alg *a;
	struct ke *x, *y;
	size_t i;

	(void)state;
	for (i = 0; (a = ke_at(i)); i++) {
		assert_int_equal(ke_new(a, &x), 0);
		assert_int_equal(ke_new(a, &y), 0);
		assert_ptr_equal(ke_get_alg(x), a);
		assert_int_equal(ke_get_public(x, pa, a->pub_len), 0);
		assert_int_equal(ke_get_public(y, pb, a->pub_len), 0);
		assert_int_equal(ke_get_public(x, pa, a->pub_len - 1),
				 ERR_NOSPACE);
		assert_int_equal(ke_derive(x, pb, a->pub_len, sa, sizeof(sa)),
				 0);
		assert_int_equal(ke_derive(y, pa, a->pub_len, sb, sizeof(sb)),
				 0);
		assert_memory_equal(sa, sb, a->secret_len);
		assert_memory_not_equal(pa, pb, a->pub_len);
		ke_free(x);
		ke_free(y);
	}
	ke_free(NULL);
	assert_null(ke_get_alg(NULL));
}

/* MODP with tiny known exponents: g^2 = 4, g^3 = 8, g^6 = 64, all
 * left-padded to the modulus length (RFC 7296 §3.4, §2.14). */
static void test_modp_padding(void **state)
{
	const struct ke_alg *a = ke_by_name("modp2048");
	uint8_t two = 2, three = 3, pub[256], s[256], want[256];
	struct ke *x, *y;

	(void)state;
	assert_int_equal(ke_new_private(a, &two, 1, &x), 0);
	assert_int_equal(ke_new_private(a, &three, 1, &y), 0);
	memset(want, 0, sizeof(want));
	want[255] = 4;
	assert_int_equal(ke_get_public(x, pub, sizeof(pub)), 0);
	assert_memory_equal(pub, want, 256);
	assert_int_equal(ke_get_public(y, pub, sizeof(pub)), 0);
	want[255] = 8;
	assert_memory_equal(pub, want, 256);
	assert_int_equal(ke_derive(x, pub, 256, s, sizeof(s)), 0);
	want[255] = 64;
	assert_memory_equal(s, want, 256);
	ke_free(x);
	ke_free(y);
}

/* p from OpenSSL's own copy of the RFC 2409/3526 primes. */
static void modp_peer_checks(const char *name, BIGNUM *(*prime)(BIGNUM *))
{
	const struct ke_alg *a = ke_by_name(name);
	uint8_t p[MAX_PUB], v[MAX_PUB], s[MAX_PUB];
	size_t n = a->pub_len, i;
	BIGNUM *bp = prime(NULL);
	struct ke *k;

	assert_non_null(bp);
	assert_int_equal(BN_bn2binpad(bp, p, (int)n), (int)n);
	BN_free(bp);
	assert_int_equal(ke_new(a, &k), 0);
	/* 0 and 1 */
	memset(v, 0, n);
	assert_int_equal(ke_derive(k, v, n, s, sizeof(s)), ERR_PEERKEY);
	v[n - 1] = 1;
	assert_int_equal(ke_derive(k, v, n, s, sizeof(s)), ERR_PEERKEY);
	/* 2 is the generator itself and allowed. */
	v[n - 1] = 2;
	assert_int_equal(ke_derive(k, v, n, s, sizeof(s)), 0);
	/* p - 1 (p ends in 0xff...ff, so just the last byte changes) */
	memcpy(v, p, n);
	v[n - 1] -= 1;
	assert_int_equal(ke_derive(k, v, n, s, sizeof(s)), ERR_PEERKEY);
	/* p, p + 1 and 2^n - 1 */
	assert_int_equal(ke_derive(k, p, n, s, sizeof(s)), ERR_PEERKEY);
	memcpy(v, p, n);
	for (i = n; i-- > 0;)
		if (++v[i] != 0)
			break;
	assert_int_equal(ke_derive(k, v, n, s, sizeof(s)), ERR_PEERKEY);
	memset(v, 0xff, n);
	assert_int_equal(ke_derive(k, v, n, s, sizeof(s)), ERR_PEERKEY);
	/* wrong lengths */
	assert_int_equal(ke_derive(k, p, n - 1, s, sizeof(s)), ERR_PEERKEY);
	assert_int_equal(ke_derive(k, v, n + 1, s, sizeof(s)), ERR_PEERKEY);
	assert_int_equal(ke_derive(k, p, 0, s, sizeof(s)), ERR_PEERKEY);
	ke_free(k);
}

static void test_modp_peer(void **state)
{
	(void)state;
	modp_peer_checks("modp1024", BN_get_rfc2409_prime_1024);
	modp_peer_checks("modp1536", BN_get_rfc3526_prime_1536);
	modp_peer_checks("modp2048", BN_get_rfc3526_prime_2048);
	modp_peer_checks("modp3072", BN_get_rfc3526_prime_3072);
}

static void test_ecp_peer(void **state)
{
	uint8_t pub[132], bad[140], s[66];
	const struct ke_alg *a;
	struct ke *k, *peer;
	size_t i, n;
	uint8_t one = 1;

	(void)state;
	for (i = 0; (a = ke_at(i)); i++) {
		if (a->kind != KE_KIND_ECP)
			continue;
		n = a->pub_len;
		assert_int_equal(ke_new(a, &k), 0);
		assert_int_equal(ke_new(a, &peer), 0);
		assert_int_equal(ke_get_public(peer, pub, sizeof(pub)), 0);
		assert_int_equal(ke_derive(k, pub, n, s, sizeof(s)), 0);
		/* off the curve: one bit of y changed */
		memcpy(bad, pub, n);
		bad[n - 1] ^= 1;
		assert_int_equal(ke_derive(k, bad, n, s, sizeof(s)),
				 ERR_PEERKEY);
		/* x changed */
		memcpy(bad, pub, n);
		bad[3] ^= 0x10;
		assert_int_equal(ke_derive(k, bad, n, s, sizeof(s)),
				 ERR_PEERKEY);
		/* (0, 0), all ones (coordinates >= p), wrong lengths */
		memset(bad, 0, n);
		assert_int_equal(ke_derive(k, bad, n, s, sizeof(s)),
				 ERR_PEERKEY);
		memset(bad, 0xff, n);
		assert_int_equal(ke_derive(k, bad, n, s, sizeof(s)),
				 ERR_PEERKEY);
		assert_int_equal(ke_derive(k, pub, n - 1, s, sizeof(s)),
				 ERR_PEERKEY);
		memcpy(bad, pub, n);
		bad[n] = 0;
		assert_int_equal(ke_derive(k, bad, n + 1, s, sizeof(s)),
				 ERR_PEERKEY);
		/* a SEC1 04 || x || y value has one byte too many */
		bad[0] = 0x04;
		memcpy(bad + 1, pub, n);
		assert_int_equal(ke_derive(k, bad, n + 1, s, sizeof(s)),
				 ERR_PEERKEY);
		/* our secret buffer too small */
		assert_int_equal(ke_derive(k, pub, n, s, a->secret_len - 1),
				 ERR_NOSPACE);
		ke_free(k);
		ke_free(peer);
		/* private scalars 0 and >= n are refused */
		memset(bad, 0, sizeof(bad));
		assert_int_equal(ke_new_private(a, bad, a->secret_len, &k),
				 ERR_INVAL);
		assert_null(k);
		memset(bad, 0xff, sizeof(bad));
		assert_int_equal(ke_new_private(a, bad, a->secret_len, &k),
				 ERR_INVAL);
		assert_int_equal(ke_new_private(a, &one, 1, &k), 0);
		ke_free(k);
	}
}

/* RFC 7748 §7 / RFC 8031 §2.3: low-order points give an all-zero result. */
static void test_ecx_peer(void **state)
{
	static const char *const low[] = {
		"00000000000000000000000000000000"
		"00000000000000000000000000000000",
		"01000000000000000000000000000000"
		"00000000000000000000000000000000",
		/* p - 1, order 2 */
		"ecffffffffffffffffffffffffffffff"
		"ffffffffffffffffffffffffffffff7f",
		/* p, which is 0 mod p */
		"edffffffffffffffffffffffffffffff"
		"ffffffffffffffffffffffffffffff7f",
	};
	const struct ke_alg *a = ke_by_name("x25519");
	const struct ke_alg *b = ke_by_name("x448");
	uint8_t *u, s[56], z[56] = {0}, key[56] = {9};
	struct ke *k;
	size_t ul, i;

	(void)state;
	assert_int_equal(ke_new(a, &k), 0);
	for (i = 0; i < sizeof(low) / sizeof(low[0]); i++) {
		assert_int_equal(vec_hex(low[i], &u, &ul), 0);
		assert_int_equal(ke_derive(k, u, ul, s, sizeof(s)),
				 ERR_PEERKEY);
		free(u);
	}
	assert_int_equal(ke_derive(k, z, 31, s, sizeof(s)), ERR_PEERKEY);
	assert_int_equal(ke_derive(k, z, 33, s, sizeof(s)), ERR_PEERKEY);
	ke_free(k);
	assert_int_equal(ke_new_private(a, key, 31, &k), ERR_INVAL);
	assert_int_equal(ke_new_private(a, key, 33, &k), ERR_INVAL);
	assert_int_equal(ke_new(b, &k), 0);
	assert_int_equal(ke_derive(k, z, 56, s, sizeof(s)), ERR_PEERKEY);
	z[0] = 1;
	assert_int_equal(ke_derive(k, z, 56, s, sizeof(s)), ERR_PEERKEY);
	ke_free(k);
	assert_int_equal(ke_new(NULL, &k), ERR_INVAL);
	assert_int_equal(ke_new_private(a, NULL, 32, &k), ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_rfc5903),
		cmocka_unit_test(test_x25519),
		cmocka_unit_test(test_strongswan),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_modp_padding),
		cmocka_unit_test(test_modp_peer),
		cmocka_unit_test(test_ecp_peer),
		cmocka_unit_test(test_ecx_peer),
	};

	if (crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
