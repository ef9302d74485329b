/* SPDX-License-Identifier: MIT */
/*
 * Public-key signatures (sig.h): RSASSA-PKCS1-v1_5, RSASSA-PSS, ECDSA,
 * EdDSA through EVP_DigestSign/EVP_DigestVerify, with the digests
 * fetched once.  No signature arithmetic here, only encodings.
 */
#include "crypto/sig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/log.h"

static const struct sig_alg algs[] = {
	{"rsa-sha1", SIG_KIND_RSA_PKCS1, SIG_HASH_SHA1, "SHA1",
	 NID_sha1WithRSAEncryption, "RSA"},
	{"rsa-sha256", SIG_KIND_RSA_PKCS1, SIG_HASH_SHA256, "SHA256",
	 NID_sha256WithRSAEncryption, "RSA"},
	{"rsa-sha384", SIG_KIND_RSA_PKCS1, SIG_HASH_SHA384, "SHA384",
	 NID_sha384WithRSAEncryption, "RSA"},
	{"rsa-sha512", SIG_KIND_RSA_PKCS1, SIG_HASH_SHA512, "SHA512",
	 NID_sha512WithRSAEncryption, "RSA"},
	{"rsa-pss-sha256", SIG_KIND_RSA_PSS, SIG_HASH_SHA256, "SHA256",
	 NID_rsassaPss, "RSA"},
	{"rsa-pss-sha384", SIG_KIND_RSA_PSS, SIG_HASH_SHA384, "SHA384",
	 NID_rsassaPss, "RSA"},
	{"rsa-pss-sha512", SIG_KIND_RSA_PSS, SIG_HASH_SHA512, "SHA512",
	 NID_rsassaPss, "RSA"},
	{"ecdsa-sha1", SIG_KIND_ECDSA, SIG_HASH_SHA1, "SHA1",
	 NID_ecdsa_with_SHA1, "EC"},
	{"ecdsa-sha256", SIG_KIND_ECDSA, SIG_HASH_SHA256, "SHA256",
	 NID_ecdsa_with_SHA256, "EC"},
	{"ecdsa-sha384", SIG_KIND_ECDSA, SIG_HASH_SHA384, "SHA384",
	 NID_ecdsa_with_SHA384, "EC"},
	{"ecdsa-sha512", SIG_KIND_ECDSA, SIG_HASH_SHA512, "SHA512",
	 NID_ecdsa_with_SHA512, "EC"},
	{"ed25519", SIG_KIND_EDDSA, SIG_HASH_IDENTITY, NULL, NID_ED25519,
	 "ED25519"},
	{"ed448", SIG_KIND_EDDSA, SIG_HASH_IDENTITY, NULL, NID_ED448, "ED448"},
};
#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

/* The digests, fetched once (crypto.h: no implicit fetch per use). */
static const char *const md_names[] = {"SHA1", "SHA256", "SHA384", "SHA512"};
#define N_MDS (sizeof(md_names) / sizeof(md_names[0]))
static EVP_MD *mds[N_MDS];
static pthread_once_t mds_once = PTHREAD_ONCE_INIT;

static void fetch_mds(void)
{
	size_t i;

	for (i = 0; i < N_MDS; i++)
		mds[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
	ERR_clear_error();
}

static const EVP_MD *md_get(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	pthread_once(&mds_once, fetch_mds);
	for (i = 0; i < N_MDS; i++)
		if (!strcmp(md_names[i], name))
			return mds[i];
	return NULL;
}

const struct sig_alg *sig_alg_at(size_t i)
{
	return i < N_ALGS ? &algs[i] : NULL;
}

const struct sig_alg *sig_alg_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < N_ALGS; i++)
		if (!strcmp(algs[i].name, name))
			return &algs[i];
	return NULL;
}

const struct sig_alg *sig_alg_find(enum sig_kind kind, enum sig_hash hash)
{
	size_t i;

	for (i = 0; i < N_ALGS; i++)
		if (algs[i].kind == kind && algs[i].hash == hash &&
		    kind != SIG_KIND_EDDSA)
			return &algs[i];
	return NULL;
}

bool sig_key_is(const struct evp_pkey_st *key, enum sig_kind kind)
{
	if (!key)
		return false;
	switch (kind) {
	case SIG_KIND_RSA_PKCS1:
		return EVP_PKEY_is_a(key, "RSA");
	case SIG_KIND_RSA_PSS:
		/* An RSA-PSS key (id-RSASSA-PSS SPKI) only does PSS. */
		return EVP_PKEY_is_a(key, "RSA") ||
		       EVP_PKEY_is_a(key, "RSA-PSS");
	case SIG_KIND_ECDSA:
		return EVP_PKEY_is_a(key, "EC") && sig_ec_field_len(key);
	case SIG_KIND_EDDSA:
		return EVP_PKEY_is_a(key, "ED25519") ||
		       EVP_PKEY_is_a(key, "ED448");
	}
	return false;
}

bool sig_key_is_ed448(const struct evp_pkey_st *key)
{
	return key && EVP_PKEY_is_a(key, "ED448");
}

size_t sig_ec_field_len(const struct evp_pkey_st *key)
{
	char group[64];

	if (!key || !EVP_PKEY_is_a(key, "EC"))
		return 0;
	if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
					    group, sizeof(group), NULL)) {
		ERR_clear_error();
		return 0;
	}
	/* RFC 4754 §3 names exactly these three curves. */
	if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"))
		return 32;
	if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384"))
		return 48;
	if (!strcmp(group, "secp521r1") || !strcmp(group, "P-521"))
		return 66;
	return 0;
}

const char *sig_key_desc(const struct evp_pkey_st *key, char *out, size_t n)
{
	size_t f = sig_ec_field_len(key);

	if (!key)
		snprintf(out, n, "no key");
	else if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS"))
		snprintf(out, n, "RSA %d", EVP_PKEY_get_bits(key));
	else if (f)
		snprintf(out, n, "ECDSA P-%d", f == 66 ? 521 : (int)f * 8);
	else if (EVP_PKEY_is_a(key, "ED25519"))
		snprintf(out, n, "Ed25519");
	else if (EVP_PKEY_is_a(key, "ED448"))
		snprintf(out, n, "Ed448");
	else
		snprintf(out, n, "%s", EVP_PKEY_get0_type_name(key));
	return out;
}

bool sig_alg_fits(const struct sig_alg *alg, const struct evp_pkey_st *key)
{
	if (!alg || !key)
		return false;
	if (alg->kind == SIG_KIND_EDDSA)
		return EVP_PKEY_is_a(key, alg->key_type);
	/* An RSA-PSS restricted key must not make PKCS#1 v1.5 signatures. */
	if (alg->kind == SIG_KIND_RSA_PKCS1)
		return EVP_PKEY_is_a(key, "RSA");
	return sig_key_is(key, alg->kind);
}

static int check_alg(const struct sig_alg *alg, const EVP_PKEY *key,
		     unsigned flags)
{
	if (!sig_alg_fits(alg, key))
		return ERR_UNSUPPORTED;
	if (alg->hash == SIG_HASH_SHA1 && !(flags & SIG_ALLOW_SHA1))
		return ERR_UNSUPPORTED;
	if (alg->md && !md_get(alg->md))
		return ERR_UNSUPPORTED;
	return 0;
}

/* Padding for the RSA schemes; salt -1 is "as long as the hash". */
static int set_rsa_padding(EVP_PKEY_CTX *pctx, const struct sig_alg *alg,
			   int salt)
{
	if (alg->kind == SIG_KIND_RSA_PKCS1)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0
			       ? 0
			       : ERR_CRYPTO;
	if (alg->kind != SIG_KIND_RSA_PSS)
		return 0;
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md_get(alg->md)) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(
		    pctx, salt < 0 ? RSA_PSS_SALTLEN_DIGEST : salt) <= 0)
		return ERR_CRYPTO;
	return 0;
}

/* DER ECDSA-Sig-Value -> r || s, each padded to flen (RFC 4754 §7). */
static int ecdsa_der_to_raw(const uint8_t *der, size_t der_len, size_t flen,
			    struct wbuf *w)
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *es;
	size_t at;
	int ret = ERR_CRYPTO;

	es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (!es)
		return ERR_CRYPTO;
	ECDSA_SIG_get0(es, &r, &s);
	if (wbuf_reserve(w, 2 * flen, &at) == 0 &&
	    BN_bn2binpad(r, wbuf_at(w, at), (int)flen) == (int)flen &&
	    BN_bn2binpad(s, wbuf_at(w, at) + flen, (int)flen) == (int)flen)
		ret = 0;
	ECDSA_SIG_free(es);
	return ret ? ret : w->err;
}

/* r || s -> DER, for EVP_DigestVerify.  Owned result in *der. */
static int ecdsa_raw_to_der(const uint8_t *sig, size_t len, size_t flen,
			    uint8_t **der, size_t *der_len)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *out = NULL;
	int n, ret = ERR_AUTH;

	/* RFC 4754 §7: exactly two field-width integers. */
	if (len != 2 * flen)
		return ERR_AUTH;
	r = BN_bin2bn(sig, (int)flen, NULL);
	s = BN_bin2bn(sig + flen, (int)flen, NULL);
	es = ECDSA_SIG_new();
	if (!r || !s || !es || !ECDSA_SIG_set0(es, r, s)) {
		ret = ERR_NOMEM;
		goto out;
	}
	r = s = NULL; /* owned by es now */
	n = i2d_ECDSA_SIG(es, &out);
	if (n <= 0) {
		ret = ERR_NOMEM;
		goto out;
	}
	*der = out;
	*der_len = (size_t)n;
	ret = 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return ret;
}

int sig_sign(const struct sig_alg *alg, struct evp_pkey_st *key, unsigned flags,
	     const uint8_t *data, size_t len, struct wbuf *w)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *sig = NULL;
	size_t sig_len = 0, at, flen = 0;
	int r;

	r = check_alg(alg, key, flags);
	if (r < 0)
		return r;
	if (alg->kind == SIG_KIND_ECDSA)
		flen = sig_ec_field_len(key);
	mctx = EVP_MD_CTX_new();
	if (!mctx) {
		r = ERR_NOMEM;
		goto out;
	}
	r = ERR_CRYPTO;
	if (EVP_DigestSignInit(mctx, &pctx, md_get(alg->md), NULL, key) != 1)
		goto out;
	if (set_rsa_padding(pctx, alg, -1) < 0)
		goto out;
	/* EdDSA is one-shot only; EVP_DigestSign serves every kind. */
	if (EVP_DigestSign(mctx, NULL, &sig_len, data, len) != 1)
		goto out;
	sig = malloc(sig_len);
	if (!sig) {
		r = ERR_NOMEM;
		goto out;
	}
	if (EVP_DigestSign(mctx, sig, &sig_len, data, len) != 1)
		goto out;
	if (alg->kind == SIG_KIND_ECDSA && (flags & SIG_ECDSA_RAW)) {
		r = ecdsa_der_to_raw(sig, sig_len, flen, w);
	} else {
		r = wbuf_reserve(w, sig_len, &at);
		if (r == 0)
			memcpy(wbuf_at(w, at), sig, sig_len);
	}
out:
	if (r == ERR_CRYPTO) {
		log_err(LS_CRYPTO, "signing with %s failed", alg->name);
		ERR_clear_error();
	}
	free(sig);
	EVP_MD_CTX_free(mctx);
	return r;
}

int sig_verify(const struct sig_alg *alg, int pss_salt, struct evp_pkey_st *key,
	       unsigned flags, const uint8_t *data, size_t len,
	       const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *der = NULL;
	int r;

	r = check_alg(alg, key, flags);
	if (r < 0)
		return r;
	if (alg->kind == SIG_KIND_ECDSA && (flags & SIG_ECDSA_RAW)) {
		r = ecdsa_raw_to_der(sig, sig_len, sig_ec_field_len(key), &der,
				     &sig_len);
		if (r < 0)
			return r;
		sig = der;
	}
	mctx = EVP_MD_CTX_new();
	if (!mctx) {
		r = ERR_NOMEM;
		goto out;
	}
	r = ERR_AUTH;
	if (EVP_DigestVerifyInit(mctx, &pctx, md_get(alg->md), NULL, key) !=
		    1 ||
	    set_rsa_padding(pctx, alg, pss_salt) < 0)
		goto out;
	if (EVP_DigestVerify(mctx, sig, sig_len, data, len) == 1)
		r = 0;
out:
	/* A bad signature leaves OpenSSL errors queued; they say nothing
	 * more than ERR_AUTH does. */
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_MD_CTX_free(mctx);
	return r;
}

int sig_algid(const struct sig_alg *alg, struct evp_pkey_st *key,
	      struct wbuf *w)
{
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t aid[256];
	OSSL_PARAM p[2];
	size_t at;
	int r;

	r = check_alg(alg, key, SIG_ALLOW_SHA1);
	if (r < 0)
		return r;
	mctx = EVP_MD_CTX_new();
	if (!mctx)
		return ERR_NOMEM;
	r = ERR_CRYPTO;
	if (EVP_DigestSignInit(mctx, &pctx, md_get(alg->md), NULL, key) != 1 ||
	    set_rsa_padding(pctx, alg, -1) < 0)
		goto out;
	/* The provider encodes the AlgorithmIdentifier it would put in a
	 * certificate signed this way: the same OIDs and PSS parameters
	 * RFC 7427 Appendix A lists. */
	p[0] = OSSL_PARAM_construct_octet_string(
		OSSL_SIGNATURE_PARAM_ALGORITHM_ID, aid, sizeof(aid));
	p[1] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_CTX_get_params(pctx, p) != 1 ||
	    !OSSL_PARAM_modified(&p[0]) || p[0].return_size == 0 ||
	    p[0].return_size > sizeof(aid))
		goto out;
	r = wbuf_reserve(w, p[0].return_size, &at);
	if (r == 0)
		memcpy(wbuf_at(w, at), aid, p[0].return_size);
out:
	if (r == ERR_CRYPTO) {
		log_err(LS_CRYPTO, "no AlgorithmIdentifier for %s", alg->name);
		ERR_clear_error();
	}
	EVP_MD_CTX_free(mctx);
	return r;
}

/* The hash named by a hash AlgorithmIdentifier (params NULL/absent). */
static enum sig_hash hash_of_algor(const X509_ALGOR *a)
{
	const ASN1_OBJECT *obj;
	const void *pval;
	int ptype;

	if (!a)
		return SIG_HASH_SHA1; /* RFC 4055 §3.1: default sha1 */
	X509_ALGOR_get0(&obj, &ptype, &pval, a);
	if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF)
		return 0;
	switch (OBJ_obj2nid(obj)) {
	case NID_sha1:
		return SIG_HASH_SHA1;
	case NID_sha256:
		return SIG_HASH_SHA256;
	case NID_sha384:
		return SIG_HASH_SHA384;
	case NID_sha512:
		return SIG_HASH_SHA512;
	default:
		return 0;
	}
}

/* RSASSA-PSS-params, RFC 4055 §3.1. */
static int parse_pss(const ASN1_STRING *seq, struct sig_algid *out)
{
	const unsigned char *p = ASN1_STRING_get0_data(seq);
	const unsigned char *mp;
	RSA_PSS_PARAMS *pp;
	X509_ALGOR *mgf_hash = NULL;
	const ASN1_OBJECT *obj;
	const void *pval;
	enum sig_hash h, mh = SIG_HASH_SHA1;
	int64_t salt = 20, trailer = 1;
	int ptype, len = ASN1_STRING_length(seq), r = ERR_UNSUPPORTED;

	pp = d2i_RSA_PSS_PARAMS(NULL, &p, len);
	if (!pp || p != ASN1_STRING_get0_data(seq) + len) {
		r = ERR_MALFORMED;
		goto out;
	}
	h = hash_of_algor(pp->hashAlgorithm);
	if (pp->maskGenAlgorithm) {
		X509_ALGOR_get0(&obj, &ptype, &pval, pp->maskGenAlgorithm);
		if (OBJ_obj2nid(obj) != NID_mgf1 || ptype != V_ASN1_SEQUENCE)
			goto out;
		mp = ASN1_STRING_get0_data(pval);
		mgf_hash = d2i_X509_ALGOR(NULL, &mp, ASN1_STRING_length(pval));
		if (!mgf_hash) {
			r = ERR_MALFORMED;
			goto out;
		}
		mh = hash_of_algor(mgf_hash);
	}
	if (pp->saltLength && !ASN1_INTEGER_get_int64(&salt, pp->saltLength))
		goto out;
	if (pp->trailerField &&
	    !ASN1_INTEGER_get_int64(&trailer, pp->trailerField))
		goto out;
	/* RFC 4055 §3.1: trailerField must be 1; we only sign and accept
	 * MGF1 over the message hash, as RFC 7427 Appendix A does. */
	if (trailer != 1 || h != mh || salt < 0 || salt > 1024)
		goto out;
	out->alg = sig_alg_find(SIG_KIND_RSA_PSS, h);
	if (!out->alg)
		goto out;
	out->pss_salt = (int)salt;
	r = 0;
out:
	X509_ALGOR_free(mgf_hash);
	RSA_PSS_PARAMS_free(pp);
	ERR_clear_error();
	return r;
}

int sig_algid_parse(const uint8_t *der, size_t len, struct sig_algid *out)
{
	const unsigned char *p = der;
	const ASN1_OBJECT *obj;
	const void *pval;
	X509_ALGOR *a;
	size_t i;
	int ptype, nid, r = ERR_UNSUPPORTED;

	out->alg = NULL;
	out->pss_salt = -1;
	if (len == 0 || len > 1024)
		return ERR_MALFORMED;
	a = d2i_X509_ALGOR(NULL, &p, (long)len);
	if (!a || p != der + len) {
		r = ERR_MALFORMED;
		goto out;
	}
	X509_ALGOR_get0(&obj, &ptype, &pval, a);
	nid = OBJ_obj2nid(obj);
	if (nid == NID_rsassaPss) {
		r = ptype == V_ASN1_SEQUENCE ? parse_pss(pval, out)
					     : ERR_UNSUPPORTED;
		goto out;
	}
	for (i = 0; i < N_ALGS; i++) {
		if (algs[i].nid != nid)
			continue;
		/* RFC 4055 §5: NULL (or absent) for RSA PKCS#1; RFC 5758
		 * §3.2 and RFC 8410 §3: absent for ECDSA and EdDSA. */
		if (ptype != V_ASN1_UNDEF &&
		    !(ptype == V_ASN1_NULL &&
		      algs[i].kind == SIG_KIND_RSA_PKCS1)) {
			r = ERR_MALFORMED;
			goto out;
		}
		out->alg = &algs[i];
		r = 0;
		break;
	}
out:
	X509_ALGOR_free(a);
	ERR_clear_error();
	return r;
}

int sig_key_from_mem(const uint8_t *p, size_t len, struct evp_pkey_st **out)
{
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *key = NULL;
	const unsigned char *d = p;
	size_t left = len;
	int r = ERR_MALFORMED;

	*out = NULL;
	/* Any input form (PEM or DER), any structure (PKCS#8 or the
	 * traditional ones), private keys only. */
	dctx = OSSL_DECODER_CTX_new_for_pkey(&key, NULL, NULL, NULL,
					     EVP_PKEY_KEYPAIR, NULL, NULL);
	if (!dctx)
		return ERR_NOMEM;
	if (OSSL_DECODER_from_data(dctx, &d, &left) == 1 && key) {
		*out = key;
		r = 0;
	}
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	return r;
}

int sig_key_load(const char *path, struct evp_pkey_st **out)
{
	uint8_t *data = NULL;
	struct stat st;
	size_t len = 0;
	FILE *f;
	int r;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		log_err(LS_CFG, "cannot read key %s: %m", path);
		return ERR_IO;
	}
	/* One allocation of the file's size: no copies of the key left
	 * behind by a growing buffer. */
	if (fstat(fileno(f), &st) < 0 || st.st_size <= 0 ||
	    st.st_size > (1 << 20)) {
		r = ERR_IO;
		goto out;
	}
	data = malloc((size_t)st.st_size);
	if (!data) {
		r = ERR_NOMEM;
		goto out;
	}
	len = fread(data, 1, (size_t)st.st_size, f);
	r = len != (size_t)st.st_size ? ERR_IO
				      : sig_key_from_mem(data, len, out);
out:
	if (r < 0)
		log_err(LS_CFG, "key %s: %s", path,
			r == ERR_MALFORMED ? "no unencrypted private key in it"
					   : err_str(r));
	if (data) {
		OPENSSL_cleanse(data, (size_t)st.st_size);
		free(data);
	}
	fclose(f);
	return r;
}

void sig_key_free(struct evp_pkey_st *key)
{
	EVP_PKEY_free(key);
}
