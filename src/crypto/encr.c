/* SPDX-License-Identifier: MIT */
/*
 * Encryption transforms over one cipher context per SA direction: the key
 * is set once in encr_ctx_new(), and each packet only re-initialises the
 * context with its IV.
 *
 * Two ways to run a context:
 *  - EVP (CBC, CTR, CCM, and any cipher the direct way cannot find): an
 *    EVP_CIPHER_CTX, re-initialised per packet with EVP_CipherInit_ex2
 *    and a NULL cipher and key.
 *  - Direct (GCM, GMAC, ChaCha20-Poly1305, the per-packet AEADs): the
 *    provider's own cipher functions (provider-cipher(7)), taken from the
 *    same provider and algorithm EVP fetched, through the public
 *    OSSL_PROVIDER_query_operation().  Why: in OpenSSL 3.0 every
 *    EVP_CipherInit_ex2 with an IV forgets the cached IV length and asks
 *    the provider again through an OSSL_PARAM query (about eight
 *    strcmp() lookups), and the EVP wrappers add their own checks; for a
 *    64-byte packet that was half of the AES-GCM time.  The provider
 *    functions are exactly what EVP calls underneath, so results are the
 *    same; the unit tests and the ESP known answers cover both ways.
 */
#include "crypto/crypto.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "common/err.h"
#include "common/log.h"

#define MAX_SALT 4
#define MAX_NONCE 16
#define MAX_TAG 16

/* The provider entry points the direct way needs (provider-cipher(7)). */
struct prov_ops {
	OSSL_FUNC_cipher_newctx_fn *newctx;
	OSSL_FUNC_cipher_freectx_fn *freectx;
	OSSL_FUNC_cipher_encrypt_init_fn *einit;
	OSSL_FUNC_cipher_decrypt_init_fn *dinit;
	OSSL_FUNC_cipher_update_fn *update;
	OSSL_FUNC_cipher_final_fn *final;
	OSSL_FUNC_cipher_get_ctx_params_fn *get_ctx_params;
	OSSL_FUNC_cipher_set_ctx_params_fn *set_ctx_params;
};

struct encr_ctx {
	const struct encr_alg *alg;
	EVP_CIPHER_CTX *ctx; /* EVP way; NULL for ENCR_NULL and direct */
	/* Direct way: the provider's context, and a reference to the
	 * fetched cipher that keeps its provider loaded. */
	void *pctx;
	EVP_CIPHER *cipher;
	struct prov_ops ops;
	/*
	 * The nonce/counter block, salt already in place: per packet only
	 * the explicit IV is written behind it.  Wiped with the context.
	 */
	uint8_t nonce[MAX_NONCE];
	/*
	 * AEAD tag exchange with the provider, built once: an OSSL_PARAM
	 * array per packet costs a construction on top of the lookups the
	 * provider does anyway.  tag_param[0] points at tag.
	 */
	uint8_t tag[MAX_TAG];
	OSSL_PARAM tag_param[2];
	bool encrypt;
};

/* The OpenSSL cipher an entry of the table runs on. */
static int cipher_name(const struct encr_alg *alg, char *buf, size_t len)
{
	const char *mode;

	switch (alg->kind) {
	case ENCR_KIND_CBC:
		if (alg->block_len == 8) { /* RFC 2451 3DES */
			snprintf(buf, len, "DES-EDE3-CBC");
			return 0;
		}
		mode = "CBC";
		break;
	case ENCR_KIND_CTR:
		mode = "CTR";
		break;
	case ENCR_KIND_GCM:
	case ENCR_KIND_GMAC: /* RFC 4543: GMAC is GCM without plaintext */
		mode = "GCM";
		break;
	case ENCR_KIND_CCM:
		mode = "CCM";
		break;
	case ENCR_KIND_CHACHA:
		snprintf(buf, len, "ChaCha20-Poly1305");
		return 0;
	default:
		return -1;
	}
	snprintf(buf, len, "AES-%u-%s", alg->key_len * 8u, mode);
	return 0;
}

/* AEAD nonce length: salt || explicit IV (RFC 4106 §4, RFC 4309 §4). */
static size_t nonce_len(const struct encr_alg *alg)
{
	return (size_t)alg->salt_len + alg->iv_len;
}

/* true if one of the colon-separated names is a name of cipher. */
static bool names_match(const EVP_CIPHER *cipher, const char *names)
{
	const char *p = names, *e;
	char one[64];
	size_t n;

	for (;;) {
		e = strchr(p, ':');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n < sizeof(one)) {
			memcpy(one, p, n);
			one[n] = '\0';
			if (EVP_CIPHER_is_a(cipher, one))
				return true;
		}
		if (!e)
			return false;
		p = e + 1;
	}
}

/*
 * The entry points of cipher in the provider EVP fetched it from, and
 * that provider's context.  ERR_UNSUPPORTED if anything is missing (the
 * caller then uses EVP).  The function pointers stay valid while the
 * provider is loaded, which the caller's cipher reference ensures.
 */
static int prov_lookup(const EVP_CIPHER *cipher, struct prov_ops *ops,
		       void **provctx)
{
	const OSSL_PROVIDER *prov = EVP_CIPHER_get0_provider(cipher);
	const OSSL_ALGORITHM *algs, *a;
	const OSSL_DISPATCH *d;
	int no_store = 0, r = ERR_UNSUPPORTED;

	if (!prov)
		return ERR_UNSUPPORTED;
	algs = OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_store);
	if (!algs)
		return ERR_UNSUPPORTED;
	for (a = algs; a->algorithm_names; a++)
		if (names_match(cipher, a->algorithm_names))
			break;
	memset(ops, 0, sizeof(*ops));
	for (d = a->algorithm_names ? a->implementation : NULL;
	     d && d->function_id; d++) {
		switch (d->function_id) {
		case OSSL_FUNC_CIPHER_NEWCTX:
			ops->newctx = OSSL_FUNC_cipher_newctx(d);
			break;
		case OSSL_FUNC_CIPHER_FREECTX:
			ops->freectx = OSSL_FUNC_cipher_freectx(d);
			break;
		case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
			ops->einit = OSSL_FUNC_cipher_encrypt_init(d);
			break;
		case OSSL_FUNC_CIPHER_DECRYPT_INIT:
			ops->dinit = OSSL_FUNC_cipher_decrypt_init(d);
			break;
		case OSSL_FUNC_CIPHER_UPDATE:
			ops->update = OSSL_FUNC_cipher_update(d);
			break;
		case OSSL_FUNC_CIPHER_FINAL:
			ops->final = OSSL_FUNC_cipher_final(d);
			break;
		case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
			ops->get_ctx_params =
				OSSL_FUNC_cipher_get_ctx_params(d);
			break;
		case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
			ops->set_ctx_params =
				OSSL_FUNC_cipher_set_ctx_params(d);
			break;
		default:
			break;
		}
	}
	if (ops->newctx && ops->freectx && ops->einit && ops->dinit &&
	    ops->update && ops->final && ops->get_ctx_params &&
	    ops->set_ctx_params) {
		*provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
		r = 0;
	}
	OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
	return r;
}

/*
 * Set up the direct way for c, keyed.  ERR_UNSUPPORTED: not available,
 * use EVP; other errors are final.
 */
static int direct_new(struct encr_ctx *c, const EVP_CIPHER *cipher,
		      const uint8_t *key)
{
	const struct encr_alg *alg = c->alg;
	void *provctx = NULL;
	int ok;

	if (alg->kind != ENCR_KIND_GCM && alg->kind != ENCR_KIND_GMAC &&
	    alg->kind != ENCR_KIND_CHACHA)
		return ERR_UNSUPPORTED;
	if (prov_lookup(cipher, &c->ops, &provctx))
		return ERR_UNSUPPORTED;
	if (!EVP_CIPHER_up_ref((EVP_CIPHER *)cipher))
		return ERR_CRYPTO;
	c->cipher = (EVP_CIPHER *)cipher;
	c->pctx = c->ops.newctx(provctx);
	if (!c->pctx)
		return ERR_NOMEM;
	/* The nonce length goes with every packet's IV (nonce_len()). */
	ok = c->encrypt
		     ? c->ops.einit(c->pctx, key, alg->key_len, NULL, 0, NULL)
		     : c->ops.dinit(c->pctx, key, alg->key_len, NULL, 0, NULL);
	return ok ? 0 : ERR_CRYPTO;
}

int encr_ctx_new(const struct encr_alg *alg, const uint8_t *key, size_t key_len,
		 bool encrypt, struct encr_ctx **out)
{
	const EVP_CIPHER *cipher;
	struct encr_ctx *c = NULL;
	OSSL_PARAM params[3], *p = params;
	size_t ivlen, taglen;
	char name[32];
	int r;

	if (!out)
		return ERR_INVAL;
	*out = NULL;
	if (!alg || (key_len && !key) || alg->salt_len > MAX_SALT ||
	    (size_t)alg->salt_len + alg->iv_len > MAX_NONCE ||
	    alg->icv_len > MAX_TAG)
		return ERR_INVAL;
	if (key_len != (size_t)alg->key_len + alg->salt_len) {
		log_err(LS_CRYPTO, "%s: key is %zu bytes, want %u", alg->name,
			key_len, alg->key_len + alg->salt_len);
		return ERR_INVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return ERR_NOMEM;
	c->alg = alg;
	c->encrypt = encrypt;
	if (alg->kind == ENCR_KIND_NULL) {
		*out = c;
		return 0;
	}
	memcpy(c->nonce, key + alg->key_len, alg->salt_len);
	if (alg->kind == ENCR_KIND_CTR) {
		/* RFC 3686 §4: counter block = nonce || IV || 00000001. */
		c->nonce[MAX_NONCE - 1] = 1;
	}
	c->tag_param[0] = OSSL_PARAM_construct_octet_string(
		OSSL_CIPHER_PARAM_AEAD_TAG, c->tag, alg->icv_len);
	c->tag_param[1] = OSSL_PARAM_construct_end();
	if (cipher_name(alg, name, sizeof(name)) < 0) {
		r = ERR_UNSUPPORTED;
		goto out;
	}
	cipher = crypto_cipher(name);
	if (!cipher) {
		log_err(LS_CRYPTO, "%s: cipher %s not available", alg->name,
			name);
		r = ERR_UNSUPPORTED;
		goto out;
	}
	r = direct_new(c, cipher, key);
	if (r == 0) {
		*out = c;
		return 0;
	}
	if (r != ERR_UNSUPPORTED) {
		log_err(LS_CRYPTO, "%s: cipher init failed", alg->name);
		goto out;
	}
	c->ctx = EVP_CIPHER_CTX_new();
	if (!c->ctx) {
		r = ERR_NOMEM;
		goto out;
	}
	/*
	 * The nonce and tag lengths must be set before the key: CCM derives
	 * L from the nonce length (RFC 4309 §4: 11-byte nonce, L = 4) and
	 * needs M (the tag length) up front.
	 */
	ivlen = nonce_len(alg);
	taglen = alg->icv_len;
	if (alg->aead) {
		*p++ = OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN,
						   &ivlen);
		if (alg->kind == ENCR_KIND_CCM)
			*p++ = OSSL_PARAM_construct_octet_string(
				OSSL_CIPHER_PARAM_AEAD_TAG, NULL, taglen);
	}
	*p = OSSL_PARAM_construct_end();
	if (!EVP_CipherInit_ex2(c->ctx, (EVP_CIPHER *)cipher, NULL, NULL,
				encrypt, params) ||
	    !EVP_CipherInit_ex2(c->ctx, NULL, key, NULL, encrypt, NULL)) {
		log_err(LS_CRYPTO, "%s: cipher init failed", alg->name);
		r = ERR_CRYPTO;
		goto out;
	}
	/* ESP pads itself (RFC 4303 §2.4); the cipher must not. */
	if (alg->kind == ENCR_KIND_CBC &&
	    !EVP_CIPHER_CTX_set_padding(c->ctx, 0)) {
		r = ERR_CRYPTO;
		goto out;
	}
	*out = c;
	return 0;
out:
	ERR_clear_error();
	encr_ctx_free(c);
	return r;
}

void encr_ctx_free(struct encr_ctx *c)
{
	if (!c)
		return;
	/* EVP_CIPHER_CTX_free and the providers' freectx cleanse the key
	 * schedule. */
	EVP_CIPHER_CTX_free(c->ctx);
	if (c->pctx)
		c->ops.freectx(c->pctx);
	EVP_CIPHER_free(c->cipher);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

const struct encr_alg *encr_ctx_alg(const struct encr_ctx *c)
{
	return c ? c->alg : NULL;
}

/*
 * Per-packet re-init with a new nonce; the key stays.  The salt (and the
 * CTR block counter) sit in c->nonce since encr_ctx_new, so only the
 * explicit IV is copied here, and nothing on the stack needs wiping.
 */
static int set_nonce(struct encr_ctx *c, const uint8_t *iv)
{
	memcpy(c->nonce + c->alg->salt_len, iv, c->alg->iv_len);
	if (!EVP_CipherInit_ex2(c->ctx, NULL, NULL, c->nonce, c->encrypt, NULL))
		return ERR_CRYPTO;
	return 0;
}

/* Feed AAD; aead_ok() made sure len fits EVP's int. */
static int feed_aad(EVP_CIPHER_CTX *ctx, const uint8_t *p, size_t len)
{
	int outl;

	if (len && !EVP_CipherUpdate(ctx, NULL, &outl, p, (int)len))
		return ERR_CRYPTO;
	return 0;
}

static bool aead_ok(const struct encr_ctx *c, const uint8_t *iv,
		    const uint8_t *aad, size_t aad_len, const uint8_t *in,
		    size_t len, const uint8_t *out, const uint8_t *tag)
{
	if (!c || !c->alg->aead || (!c->ctx && !c->pctx) || !iv || !tag)
		return false;
	if ((aad_len && !aad) || (len && (!in || !out)))
		return false;
	/* One EVP_CipherUpdate per payload; CCM has a 4-byte length. */
	if (len > INT_MAX || aad_len > INT_MAX)
		return false;
	return true;
}

/*
 * One AEAD pass.  The tag travels in c->tag: the expected one is put
 * there before (open), the computed one is taken from there after (seal).
 * For CCM the expected tag and the total length go in before the AAD
 * (RFC 3610 §2.2 puts l(m) in B_0), which is why this is not split into
 * update calls.
 */
static int aead_run(struct encr_ctx *c, const uint8_t *iv, const uint8_t *aad,
		    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
		    bool seal)
{
	const struct encr_alg *alg = c->alg;
	uint8_t dummy[1];
	int outl, r;

	if (seal != c->encrypt)
		return ERR_INVAL;
	r = set_nonce(c, iv);
	if (r)
		goto out;
	if (!seal && alg->kind != ENCR_KIND_GMAC) {
		if (!EVP_CIPHER_CTX_set_params(c->ctx, c->tag_param)) {
			r = ERR_CRYPTO;
			goto out;
		}
	}
	if (alg->kind == ENCR_KIND_CCM &&
	    !EVP_CipherUpdate(c->ctx, NULL, &outl, NULL, (int)len)) {
		r = ERR_CRYPTO;
		goto out;
	}
	r = feed_aad(c->ctx, aad, aad_len);
	if (r)
		goto out;
	if (alg->kind == ENCR_KIND_GMAC) {
		/* RFC 4543 §3.3: the payload is authenticated, not hidden. */
		r = feed_aad(c->ctx, in, len);
		if (r)
			goto out;
		if (len && out != in)
			memmove(out, in, len);
		if (!seal) {
			if (!EVP_CIPHER_CTX_set_params(c->ctx, c->tag_param)) {
				r = ERR_CRYPTO;
				goto out;
			}
		}
	} else if (len || alg->kind == ENCR_KIND_CCM) {
		/* CCM needs this call even for an empty payload. */
		if (!EVP_CipherUpdate(c->ctx, len ? out : dummy, &outl,
				      len ? in : dummy, (int)len)) {
			/* CCM verifies the tag here. */
			r = seal ? ERR_CRYPTO : ERR_AUTH;
			goto out;
		}
	}
	if (alg->kind != ENCR_KIND_CCM || seal) {
		if (!EVP_CipherFinal_ex(c->ctx, dummy, &outl)) {
			r = seal ? ERR_CRYPTO : ERR_AUTH;
			goto out;
		}
	}
	if (seal) {
		if (!EVP_CIPHER_CTX_get_params(c->ctx, c->tag_param)) {
			r = ERR_CRYPTO;
			goto out;
		}
	}
	return 0;
out:
	ERR_clear_error();
	return r;
}

/*
 * aead_run the direct way (GCM, GMAC, ChaCha20-Poly1305): the same calls
 * EVP would make, without its per-packet parameter queries.  The
 * expected tag may go in before the data for all three.
 */
static int aead_run_direct(struct encr_ctx *c, const uint8_t *iv,
			   const uint8_t *aad, size_t aad_len,
			   const uint8_t *in, size_t len, uint8_t *out,
			   bool seal)
{
	const struct encr_alg *alg = c->alg;
	size_t nlen = nonce_len(alg), outl;
	uint8_t dummy[1];
	int r = ERR_CRYPTO, ok;

	if (seal != c->encrypt)
		return ERR_INVAL;
	memcpy(c->nonce + alg->salt_len, iv, alg->iv_len);
	ok = seal ? c->ops.einit(c->pctx, NULL, 0, c->nonce, nlen, NULL)
		  : c->ops.dinit(c->pctx, NULL, 0, c->nonce, nlen, NULL);
	if (!ok)
		goto out;
	if (!seal && !c->ops.set_ctx_params(c->pctx, c->tag_param))
		goto out;
	if (aad_len &&
	    !c->ops.update(c->pctx, NULL, &outl, aad_len, aad, aad_len))
		goto out;
	if (alg->kind == ENCR_KIND_GMAC) {
		/* RFC 4543 §3.3: the payload is authenticated, not hidden. */
		if (len && !c->ops.update(c->pctx, NULL, &outl, len, in, len))
			goto out;
		if (len && out != in)
			memmove(out, in, len);
	} else if (len) {
		if (!c->ops.update(c->pctx, out, &outl, len, in, len) ||
		    outl != len)
			goto out;
	}
	if (!c->ops.final(c->pctx, dummy, &outl, 0)) {
		r = seal ? ERR_CRYPTO : ERR_AUTH;
		goto out;
	}
	if (seal && !c->ops.get_ctx_params(c->pctx, c->tag_param))
		goto out;
	return 0;
out:
	ERR_clear_error();
	return r;
}

int aead_seal(struct encr_ctx *c, const uint8_t *iv, const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	      uint8_t *tag)
{
	int r;

	if (!aead_ok(c, iv, aad, aad_len, in, len, out, tag))
		return ERR_INVAL;
	if (c->pctx)
		r = aead_run_direct(c, iv, aad, aad_len, in, len, out, true);
	else
		r = aead_run(c, iv, aad, aad_len, in, len, out, true);
	if (r == 0)
		memcpy(tag, c->tag, c->alg->icv_len);
	return r;
}

int aead_open(struct encr_ctx *c, const uint8_t *iv, const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	      const uint8_t *tag)
{
	if (!aead_ok(c, iv, aad, aad_len, in, len, out, tag))
		return ERR_INVAL;
	/* A private copy: OpenSSL takes the tag through a non-const param,
	 * and the caller's tag may sit in the buffer being decrypted. */
	memcpy(c->tag, tag, c->alg->icv_len);
	if (c->pctx)
		return aead_run_direct(c, iv, aad, aad_len, in, len, out,
				       false);
	return aead_run(c, iv, aad, aad_len, in, len, out, false);
}

static int cipher_run(struct encr_ctx *c, const uint8_t *iv, const uint8_t *in,
		      size_t len, uint8_t *out, bool enc)
{
	const struct encr_alg *alg;
	size_t n;
	int outl, r;

	if (!c || (len && (!in || !out)))
		return ERR_INVAL;
	alg = c->alg;
	if (alg->aead || enc != c->encrypt)
		return ERR_INVAL;
	if (alg->kind == ENCR_KIND_NULL) {
		if (len && out != in)
			memmove(out, in, len);
		return 0;
	}
	if (!iv)
		return ERR_INVAL;
	/* RFC 3602 §3: CBC input is whole blocks (ESP padded it). */
	if (alg->kind == ENCR_KIND_CBC && len % alg->block_len)
		return ERR_INVAL;
	r = set_nonce(c, iv);
	if (r)
		goto out;
	while (len > 0) {
		/* Whole blocks per call, so CBC chaining carries over. */
		n = len > (INT_MAX & ~(size_t)15) ? (INT_MAX & ~(size_t)15)
						  : len;
		if (!EVP_CipherUpdate(c->ctx, out, &outl, in, (int)n) ||
		    (size_t)outl != n) {
			r = ERR_CRYPTO;
			goto out;
		}
		in += n;
		out += n;
		len -= n;
	}
	return 0;
out:
	ERR_clear_error();
	return r;
}

int cipher_encrypt(struct encr_ctx *c, const uint8_t *iv, const uint8_t *in,
		   size_t len, uint8_t *out)
{
	return cipher_run(c, iv, in, len, out, true);
}

int cipher_decrypt(struct encr_ctx *c, const uint8_t *iv, const uint8_t *in,
		   size_t len, uint8_t *out)
{
	return cipher_run(c, iv, in, len, out, false);
}
