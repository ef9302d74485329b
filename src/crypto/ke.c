/* SPDX-License-Identifier: MIT */
/*
 * Key exchange (transform type 4) over EVP_PKEY: MODP "DH" (RFC 2409 §6,
 * RFC 3526), ECP "EC" (RFC 5903) and X25519/X448 (RFC 8031).
 *
 * Every peer value is checked before use and a bad one gives ERR_PEERKEY;
 * nothing a peer sends may crash us or leak through a degenerate secret.
 */
#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "common/err.h"
#include "common/log.h"

/*
 * RFC 2409 §6.2, the Second Oakley Group: 2^1024 - 2^960 - 1 +
 * 2^64 * { [2^894 pi] + 129093 }, generator 2.  OpenSSL 3.0 has no name
 * for it, so it is given explicitly.
 */
static const char modp1024_p[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
	"29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
	"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381"
	"FFFFFFFFFFFFFFFF";

struct ke {
	const struct ke_alg *alg;
	EVP_PKEY *key; /* our key pair; private part is secret */
	BIGNUM *p;     /* MODP modulus, for the peer range check */
};

static struct log_ratelimit peer_rl = LOG_RATELIMIT_INIT(10, 60);

static void peer_bad(const struct ke_alg *alg, const char *why)
{
	uint32_t held;

	if (log_ratelimit_ok(&peer_rl, &held))
		log_warn(LS_CRYPTO, "%s: bad peer public value: %s (%u held)",
			 alg->name, why, held);
}

/* OpenSSL's name for a MODP group (RFC 3526), NULL for group 2. */
static const char *modp_group(uint16_t id)
{
	switch (id) {
	case 5:
		return "modp_1536";
	case 14:
		return "modp_2048";
	case 15:
		return "modp_3072";
	case 16:
		return "modp_4096";
	case 17:
		return "modp_6144";
	case 18:
		return "modp_8192";
	default:
		return NULL;
	}
}

/* RFC 5903 §3 curves; secret_len is the field size in bytes. */
static const char *ecp_curve(uint16_t id, int *nid)
{
	switch (id) {
	case 19:
		*nid = NID_X9_62_prime256v1;
		return "P-256";
	case 20:
		*nid = NID_secp384r1;
		return "P-384";
	case 21:
		*nid = NID_secp521r1;
		return "P-521";
	case 25:
		*nid = NID_X9_62_prime192v1;
		return "P-192";
	case 26:
		*nid = NID_secp224r1;
		return "P-224";
	default:
		return NULL;
	}
}

static const char *ecx_name(uint16_t id)
{
	return id == 31 ? "X25519" : id == 32 ? "X448" : NULL;
}

/* Domain parameters (group name or p, g) into a param builder. */
static int modp_domain(const struct ke_alg *alg, OSSL_PARAM_BLD *bld,
		       BIGNUM **pp, BIGNUM **gp)
{
	const char *name = modp_group(alg->iana_id);

	if (name)
		return OSSL_PARAM_BLD_push_utf8_string(
			       bld, OSSL_PKEY_PARAM_GROUP_NAME, name, 0)
			       ? 0
			       : ERR_CRYPTO;
	if (alg->iana_id != 2)
		return ERR_UNSUPPORTED;
	if (!BN_hex2bn(pp, modp1024_p) || !(*gp = BN_new()) ||
	    !BN_set_word(*gp, 2))
		return ERR_NOMEM;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, *pp) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, *gp))
		return ERR_CRYPTO;
	return 0;
}

/*
 * Make an EVP_PKEY of the given selection from the domain plus extra
 * parameters: priv (secret) and/or pub for MODP.
 */
static int modp_pkey(const struct ke_alg *alg, int selection,
		     const BIGNUM *priv, const BIGNUM *pub, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *p = NULL, *g = NULL;
	int r;

	*out = NULL;
	if (!bld)
		return ERR_NOMEM;
	r = modp_domain(alg, bld, &p, &g);
	if (r)
		goto out;
	if ((priv &&
	     !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)) ||
	    (pub &&
	     !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, pub))) {
		r = ERR_CRYPTO;
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, out, selection, params) <= 0) {
		r = ERR_CRYPTO;
		goto out;
	}
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params); /* holds a copy of priv */
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(g);
	return r;
}

/* Keep the modulus for the peer range check (RFC 7296 §3.4). */
static int modp_set_p(struct ke *k, const EVP_PKEY *key)
{
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_FFC_P, &k->p) <= 0)
		return ERR_CRYPTO;
	if ((size_t)BN_num_bytes(k->p) != k->alg->pub_len)
		return ERR_CRYPTO;
	return 0;
}

static int modp_new(struct ke *k, const uint8_t *priv, size_t priv_len)
{
	EVP_PKEY *dom = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *x = NULL, *y = NULL, *g = NULL;
	BN_CTX *bnctx = NULL;
	int r;

	r = modp_pkey(k->alg, EVP_PKEY_KEY_PARAMETERS, NULL, NULL, &dom);
	if (!r)
		r = modp_set_p(k, dom);
	if (r)
		goto out;
	if (!priv) {
		ctx = EVP_PKEY_CTX_new_from_pkey(NULL, dom, NULL);
		if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
		    EVP_PKEY_generate(ctx, &k->key) <= 0)
			r = ERR_CRYPTO;
		goto out;
	}
	/* A known exponent x: y = g^x mod p, then import (x, y). */
	bnctx = BN_CTX_secure_new();
	x = BN_secure_new();
	y = BN_new();
	g = BN_new();
	if (!bnctx || !x || !y || !g) {
		r = ERR_NOMEM;
		goto out;
	}
	/* Every group here has generator 2 (RFC 2409 §6, RFC 3526). */
	if (!BN_bin2bn(priv, (int)priv_len, x) || !BN_set_word(g, 2)) {
		r = ERR_CRYPTO;
		goto out;
	}
	if (BN_cmp(x, BN_value_one()) <= 0 || BN_cmp(x, k->p) >= 0) {
		r = ERR_INVAL;
		goto out;
	}
	BN_set_flags(x, BN_FLG_CONSTTIME);
	if (!BN_mod_exp_mont_consttime(y, g, x, k->p, bnctx, NULL)) {
		r = ERR_CRYPTO;
		goto out;
	}
	r = modp_pkey(k->alg, EVP_PKEY_KEYPAIR, x, y, &k->key);
out:
	ERR_clear_error();
	EVP_PKEY_free(dom);
	EVP_PKEY_CTX_free(ctx);
	BN_clear_free(x);
	BN_free(y);
	BN_free(g);
	BN_CTX_free(bnctx);
	return r;
}

/* Build an EC key from a group name, optional private scalar and point. */
static int ecp_pkey(const char *curve, int selection, const BIGNUM *priv,
		    const uint8_t *pub, size_t pub_len, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int r = ERR_CRYPTO;

	*out = NULL;
	if (!bld)
		return ERR_NOMEM;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					     curve, 0) ||
	    (priv &&
	     !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
					      pub_len))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	/* For a public key this decodes the point and checks it lies on
	 * the curve (EC_POINT_oct2point); a failure here is the peer's. */
	if (EVP_PKEY_fromdata(ctx, out, selection, params) <= 0) {
		r = ERR_PEERKEY;
		goto out;
	}
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

static int ecp_new(struct ke *k, const uint8_t *priv, size_t priv_len)
{
	EC_GROUP *group = NULL;
	EC_POINT *pt = NULL;
	BIGNUM *d = NULL;
	BN_CTX *bnctx = NULL;
	uint8_t pub[1 + 2 * 66];
	const char *curve;
	size_t n;
	int nid, r;

	curve = ecp_curve(k->alg->iana_id, &nid);
	if (!curve)
		return ERR_UNSUPPORTED;
	if (!priv) {
		k->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
		r = k->key ? 0 : ERR_CRYPTO;
		goto out;
	}
	/* A known scalar: compute Q = dG, then import (d, Q). */
	group = EC_GROUP_new_by_curve_name_ex(NULL, NULL, nid);
	pt = group ? EC_POINT_new(group) : NULL;
	d = BN_secure_new();
	bnctx = BN_CTX_secure_new();
	if (!pt || !d || !bnctx) {
		r = ERR_NOMEM;
		goto out;
	}
	if (priv_len > k->alg->secret_len ||
	    !BN_bin2bn(priv, (int)priv_len, d) || BN_is_zero(d) ||
	    BN_cmp(d, EC_GROUP_get0_order(group)) >= 0) {
		r = ERR_INVAL;
		goto out;
	}
	BN_set_flags(d, BN_FLG_CONSTTIME);
	if (!EC_POINT_mul(group, pt, d, NULL, NULL, bnctx)) {
		r = ERR_CRYPTO;
		goto out;
	}
	n = EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, pub,
			       sizeof(pub), bnctx);
	if (n != 1 + (size_t)k->alg->pub_len) {
		r = ERR_CRYPTO;
		goto out;
	}
	r = ecp_pkey(curve, EVP_PKEY_KEYPAIR, d, pub, n, &k->key);
	if (r)
		r = ERR_CRYPTO;
out:
	ERR_clear_error();
	EC_POINT_free(pt);
	EC_GROUP_free(group);
	BN_clear_free(d);
	BN_CTX_free(bnctx);
	return r;
}

static int ecx_new(struct ke *k, const uint8_t *priv, size_t priv_len)
{
	const char *name = ecx_name(k->alg->iana_id);

	if (!name)
		return ERR_UNSUPPORTED;
	if (!priv) {
		k->key = EVP_PKEY_Q_keygen(NULL, NULL, name);
	} else {
		/* RFC 7748 §5: the scalar is a byte string, clamped by
		 * X25519/X448 itself. */
		if (priv_len != k->alg->secret_len)
			return ERR_INVAL;
		k->key = EVP_PKEY_new_raw_private_key_ex(NULL, name, NULL, priv,
							 priv_len);
	}
	ERR_clear_error();
	return k->key ? 0 : ERR_CRYPTO;
}

static int ke_make(const struct ke_alg *alg, const uint8_t *priv,
		   size_t priv_len, struct ke **out)
{
	struct ke *k;
	int r;

	if (!out)
		return ERR_INVAL;
	*out = NULL;
	if (!alg || (priv && priv_len == 0))
		return ERR_INVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return ERR_NOMEM;
	k->alg = alg;
	switch (alg->kind) {
	case KE_KIND_MODP:
		if (priv && priv_len > alg->pub_len) {
			r = ERR_INVAL;
			break;
		}
		r = modp_new(k, priv, priv_len);
		break;
	case KE_KIND_ECP:
		r = ecp_new(k, priv, priv_len);
		break;
	case KE_KIND_ECX:
		r = ecx_new(k, priv, priv_len);
		break;
	default:
		r = ERR_INVAL;
		break;
	}
	if (r) {
		if (r != ERR_INVAL)
			log_err(LS_CRYPTO, "%s: key generation failed",
				alg->name);
		ke_free(k);
		return r;
	}
	*out = k;
	return 0;
}

int ke_new(const struct ke_alg *alg, struct ke **out)
{
	return ke_make(alg, NULL, 0, out);
}

int ke_new_private(const struct ke_alg *alg, const uint8_t *priv,
		   size_t priv_len, struct ke **out)
{
	if (!priv)
		return ERR_INVAL;
	return ke_make(alg, priv, priv_len, out);
}

void ke_free(struct ke *k)
{
	if (!k)
		return;
	/* EVP_PKEY_free clears the private key (BN_clear_free inside). */
	EVP_PKEY_free(k->key);
	BN_free(k->p);
	free(k);
}

const struct ke_alg *ke_get_alg(const struct ke *k)
{
	return k ? k->alg : NULL;
}

int ke_get_public(const struct ke *k, uint8_t *out, size_t out_len)
{
	uint8_t pt[1 + 2 * 66];
	BIGNUM *y = NULL;
	size_t n;
	int r = 0;

	if (!k || !out)
		return ERR_INVAL;
	if (out_len < k->alg->pub_len)
		return ERR_NOSPACE;
	switch (k->alg->kind) {
	case KE_KIND_MODP:
		/* RFC 7296 §3.4: zero-padded to the modulus length. */
		if (EVP_PKEY_get_bn_param(k->key, OSSL_PKEY_PARAM_PUB_KEY,
					  &y) <= 0 ||
		    BN_bn2binpad(y, out, k->alg->pub_len) < 0)
			r = ERR_CRYPTO;
		BN_free(y);
		break;
	case KE_KIND_ECP:
		/* RFC 5903 §7: x || y, without SEC1's 0x04 prefix. */
		if (EVP_PKEY_get_octet_string_param(k->key,
						    OSSL_PKEY_PARAM_PUB_KEY, pt,
						    sizeof(pt), &n) <= 0 ||
		    n != 1 + (size_t)k->alg->pub_len || pt[0] != 0x04) {
			r = ERR_CRYPTO;
			break;
		}
		memcpy(out, pt + 1, k->alg->pub_len);
		break;
	case KE_KIND_ECX:
		n = k->alg->pub_len;
		if (!EVP_PKEY_get_raw_public_key(k->key, out, &n) ||
		    n != k->alg->pub_len)
			r = ERR_CRYPTO;
		break;
	default:
		r = ERR_INVAL;
	}
	ERR_clear_error();
	return r;
}

/* The peer's value as an EVP_PKEY, checked; ERR_PEERKEY if it is bad. */
static int peer_key(const struct ke *k, const uint8_t *peer, size_t len,
		    EVP_PKEY **out)
{
	const struct ke_alg *alg = k->alg;
	uint8_t pt[1 + 2 * 66];
	BIGNUM *y = NULL, *pm1 = NULL;
	const char *curve;
	int nid, r;

	*out = NULL;
	if (len != alg->pub_len) {
		peer_bad(alg, "wrong length");
		return ERR_PEERKEY;
	}
	switch (alg->kind) {
	case KE_KIND_MODP:
		/* RFC 7296 §3.4 and NIST SP 800-56A §5.6.2.3.1:
		 * 1 < y < p-1, else the secret is 0, 1 or +-1. */
		y = BN_bin2bn(peer, (int)len, NULL);
		pm1 = BN_dup(k->p);
		if (!y || !pm1 || !BN_sub_word(pm1, 1)) {
			r = ERR_NOMEM;
			break;
		}
		if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, pm1) >= 0) {
			peer_bad(alg, "out of range");
			r = ERR_PEERKEY;
			break;
		}
		r = modp_pkey(alg, EVP_PKEY_PUBLIC_KEY, NULL, y, out);
		break;
	case KE_KIND_ECP:
		curve = ecp_curve(alg->iana_id, &nid);
		pt[0] = 0x04;
		memcpy(pt + 1, peer, len);
		r = ecp_pkey(curve, EVP_PKEY_PUBLIC_KEY, NULL, pt, len + 1,
			     out);
		if (r == ERR_PEERKEY)
			peer_bad(alg, "not a point on the curve");
		break;
	case KE_KIND_ECX:
		*out = EVP_PKEY_new_raw_public_key_ex(
			NULL, ecx_name(alg->iana_id), NULL, peer, len);
		r = *out ? 0 : ERR_CRYPTO;
		break;
	default:
		r = ERR_INVAL;
	}
	BN_free(y);
	BN_free(pm1);
	ERR_clear_error();
	return r;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;
	size_t i;

	/* No early exit: the secret's bytes do not steer timing. */
	for (i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

int ke_derive(struct ke *k, const uint8_t *peer, size_t peer_len,
	      uint8_t *secret, size_t secret_len)
{
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t n, want;
	int r;

	if (!k || !k->key || !secret || (peer_len && !peer))
		return ERR_INVAL;
	want = k->alg->secret_len;
	if (secret_len < want)
		return ERR_NOSPACE;
	r = peer_key(k, peer, peer_len, &pk);
	if (r)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->key, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) <= 0) {
		r = ERR_CRYPTO;
		goto out;
	}
	/* RFC 7296 §2.14: g^ir keeps its leading zeros (modulus length). */
	if (k->alg->kind == KE_KIND_MODP &&
	    EVP_PKEY_CTX_set_dh_pad(ctx, 1) <= 0) {
		r = ERR_CRYPTO;
		goto out;
	}
	if (EVP_PKEY_derive_set_peer(ctx, pk) <= 0) {
		/* OpenSSL re-checks the peer key here. */
		peer_bad(k->alg, "rejected by OpenSSL");
		r = ERR_PEERKEY;
		goto out;
	}
	n = want;
	if (EVP_PKEY_derive(ctx, secret, &n) <= 0) {
		/* X25519/X448 fail on an all-zero output (low order). */
		if (k->alg->kind == KE_KIND_ECX) {
			peer_bad(k->alg, "low-order point");
			r = ERR_PEERKEY;
		} else {
			r = ERR_CRYPTO;
		}
		goto out;
	}
	if (n < want) {
		/* Left-pad a short result to the fixed length. */
		memmove(secret + (want - n), secret, n);
		memset(secret, 0, want - n);
	} else if (n != want) {
		r = ERR_CRYPTO;
		goto out;
	}
	/* RFC 8031 §2.3: an all-zero X25519/X448 result is an error. */
	if (k->alg->kind == KE_KIND_ECX && all_zero(secret, want)) {
		peer_bad(k->alg, "all-zero shared secret");
		r = ERR_PEERKEY;
		goto out;
	}
	r = 0;
out:
	if (r)
		OPENSSL_cleanse(secret, want <= secret_len ? want : 0);
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return r;
}
