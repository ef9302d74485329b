/* SPDX-License-Identifier: MIT */
/*
 * Encryption transforms over one EVP_CIPHER_CTX per SA direction: the key
 * is set once in encr_ctx_new(), and each packet only re-initialises the
 * context with its IV (EVP_CipherInit_ex2 with a NULL cipher and key).
 */
#include "crypto/crypto.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/err.h"
#include "common/log.h"

#define MAX_SALT 4
#define MAX_NONCE 16

struct encr_ctx {
	const struct encr_alg *alg;
	EVP_CIPHER_CTX *ctx; /* NULL for ENCR_NULL */
	uint8_t salt[MAX_SALT];
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
	if (!alg || (key_len && !key) || alg->salt_len > MAX_SALT)
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
	memcpy(c->salt, key + alg->key_len, alg->salt_len);
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
	/* EVP_CIPHER_CTX_free cleanses the key schedule. */
	EVP_CIPHER_CTX_free(c->ctx);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

const struct encr_alg *encr_ctx_alg(const struct encr_ctx *c)
{
	return c ? c->alg : NULL;
}

/* Per-packet re-init with a new nonce; the key stays. */
static int set_nonce(struct encr_ctx *c, const uint8_t *iv)
{
	uint8_t nonce[MAX_NONCE];
	size_t salt = c->alg->salt_len;
	int r = 0;

	memcpy(nonce, c->salt, salt);
	memcpy(nonce + salt, iv, c->alg->iv_len);
	if (c->alg->kind == ENCR_KIND_CTR) {
		/* RFC 3686 §4: counter block = nonce || IV || 00000001. */
		memset(nonce + salt + c->alg->iv_len, 0, 3);
		nonce[15] = 1;
	}
	if (!EVP_CipherInit_ex2(c->ctx, NULL, NULL, nonce, c->encrypt, NULL))
		r = ERR_CRYPTO;
	OPENSSL_cleanse(nonce, sizeof(nonce));
	return r;
}

/* Feed AAD in int-sized pieces (EVP takes int lengths). */
static int feed_aad(EVP_CIPHER_CTX *ctx, const uint8_t *p, size_t len)
{
	int outl;
	size_t n;

	while (len > 0) {
		n = len > INT_MAX ? INT_MAX : len;
		if (!EVP_CipherUpdate(ctx, NULL, &outl, p, (int)n))
			return ERR_CRYPTO;
		p += n;
		len -= n;
	}
	return 0;
}

static bool aead_ok(const struct encr_ctx *c, const uint8_t *iv,
		    const uint8_t *aad, size_t aad_len, const uint8_t *in,
		    size_t len, const uint8_t *out, const uint8_t *tag)
{
	if (!c || !c->alg->aead || !c->ctx || !iv || !tag)
		return false;
	if ((aad_len && !aad) || (len && (!in || !out)))
		return false;
	/* One EVP_CipherUpdate per payload; CCM has a 4-byte length. */
	if (len > INT_MAX || aad_len > INT_MAX)
		return false;
	return true;
}

/*
 * One AEAD pass.  tag is read (open) or written (seal).  For CCM the
 * expected tag and the total length go in before the AAD (RFC 3610 §2.2
 * puts l(m) in B_0), which is why this is not split into update calls.
 */
static int aead_run(struct encr_ctx *c, const uint8_t *iv, const uint8_t *aad,
		    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
		    uint8_t *tag, bool seal)
{
	const struct encr_alg *alg = c->alg;
	OSSL_PARAM params[2];
	uint8_t dummy[1];
	int outl, r;

	if (seal != c->encrypt)
		return ERR_INVAL;
	r = set_nonce(c, iv);
	if (r)
		goto out;
	if (!seal && alg->kind != ENCR_KIND_GMAC) {
		params[0] = OSSL_PARAM_construct_octet_string(
			OSSL_CIPHER_PARAM_AEAD_TAG, tag, alg->icv_len);
		params[1] = OSSL_PARAM_construct_end();
		if (!EVP_CIPHER_CTX_set_params(c->ctx, params)) {
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
			params[0] = OSSL_PARAM_construct_octet_string(
				OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag,
				alg->icv_len);
			params[1] = OSSL_PARAM_construct_end();
			if (!EVP_CIPHER_CTX_set_params(c->ctx, params)) {
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
		params[0] = OSSL_PARAM_construct_octet_string(
			OSSL_CIPHER_PARAM_AEAD_TAG, tag, alg->icv_len);
		params[1] = OSSL_PARAM_construct_end();
		if (!EVP_CIPHER_CTX_get_params(c->ctx, params)) {
			r = ERR_CRYPTO;
			goto out;
		}
	}
	return 0;
out:
	ERR_clear_error();
	return r;
}

int aead_seal(struct encr_ctx *c, const uint8_t *iv, const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	      uint8_t *tag)
{
	if (!aead_ok(c, iv, aad, aad_len, in, len, out, tag))
		return ERR_INVAL;
	return aead_run(c, iv, aad, aad_len, in, len, out, tag, true);
}

int aead_open(struct encr_ctx *c, const uint8_t *iv, const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	      const uint8_t *tag)
{
	uint8_t t[16];
	int r;

	if (!aead_ok(c, iv, aad, aad_len, in, len, out, tag) ||
	    c->alg->icv_len > sizeof(t))
		return ERR_INVAL;
	/* A private copy: OpenSSL takes the tag through a non-const param. */
	memcpy(t, tag, c->alg->icv_len);
	r = aead_run(c, iv, aad, aad_len, in, len, out, t, false);
	return r;
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
