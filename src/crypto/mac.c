/* SPDX-License-Identifier: MIT */
/*
 * The MAC core under integrity and PRF: HMAC and AES-CMAC through EVP_MAC,
 * AES-XCBC-MAC (RFC 3566) as a mode built here over AES-128-ECB.
 */
#include "crypto/crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/err.h"
#include "common/log.h"

#define XCBC_BLOCK 16

struct mac_ctx {
	enum mac_kind kind;
	size_t size;
	EVP_MAC_CTX *mac; /* HMAC, CMAC */
	/* XCBC (RFC 3566 §4): ECB keyed with K1, and K2/K3 for the end. */
	EVP_CIPHER_CTX *ecb;
	uint8_t k2[XCBC_BLOCK];
	uint8_t k3[XCBC_BLOCK];
	uint8_t e[XCBC_BLOCK];	 /* chaining value E[i-1] */
	uint8_t buf[XCBC_BLOCK]; /* pending block, maybe the last */
	size_t buf_len;
};

/* One block through the ECB context: out = AES-K(in). */
static int ecb_block(EVP_CIPHER_CTX *ecb, const uint8_t *in, uint8_t *out,
		     size_t len)
{
	int outl;

	if (!EVP_EncryptUpdate(ecb, out, &outl, in, (int)len) ||
	    (size_t)outl != len)
		return ERR_CRYPTO;
	return 0;
}

/*
 * RFC 3566 §4: K1 = E(K, 0x01..), K2 = E(K, 0x02..), K3 = E(K, 0x03..),
 * then key the ECB context with K1 for the CBC-MAC itself.
 */
static int xcbc_setup(struct mac_ctx *m, const uint8_t *key, size_t key_len)
{
	const EVP_CIPHER *aes = crypto_cipher("AES-128-ECB");
	uint8_t consts[3 * XCBC_BLOCK], k[3 * XCBC_BLOCK];
	int r;

	if (key_len != XCBC_BLOCK)
		return ERR_INVAL;
	if (!aes)
		return ERR_UNSUPPORTED;
	m->ecb = EVP_CIPHER_CTX_new();
	if (!m->ecb)
		return ERR_NOMEM;
	memset(consts, 0x01, XCBC_BLOCK);
	memset(consts + XCBC_BLOCK, 0x02, XCBC_BLOCK);
	memset(consts + 2 * XCBC_BLOCK, 0x03, XCBC_BLOCK);
	if (!EVP_EncryptInit_ex2(m->ecb, aes, key, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(m->ecb, 0)) {
		r = ERR_CRYPTO;
		goto out;
	}
	r = ecb_block(m->ecb, consts, k, sizeof(consts));
	if (r)
		goto out;
	memcpy(m->k2, k + XCBC_BLOCK, XCBC_BLOCK);
	memcpy(m->k3, k + 2 * XCBC_BLOCK, XCBC_BLOCK);
	if (!EVP_EncryptInit_ex2(m->ecb, NULL, k, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(m->ecb, 0))
		r = ERR_CRYPTO;
out:
	OPENSSL_cleanse(k, sizeof(k));
	return r;
}

int mac_ctx_new(enum mac_kind kind, const char *digest, const uint8_t *key,
		size_t key_len, struct mac_ctx **out)
{
	struct mac_ctx *m;
	OSSL_PARAM params[2];
	EVP_MAC *mac;
	int r;

	if (!out)
		return ERR_INVAL;
	*out = NULL;
	if (key_len && !key)
		return ERR_INVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return ERR_NOMEM;
	m->kind = kind;
	switch (kind) {
	case MAC_KIND_XCBC:
		m->size = XCBC_BLOCK;
		r = xcbc_setup(m, key, key_len);
		if (r)
			goto out;
		break;
	case MAC_KIND_HMAC:
	case MAC_KIND_CMAC:
		if (kind == MAC_KIND_HMAC) {
			if (!digest) {
				r = ERR_INVAL;
				goto out;
			}
			params[0] = OSSL_PARAM_construct_utf8_string(
				OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
		} else {
			/* RFC 4493 is AES-128 only. */
			if (key_len != 16) {
				r = ERR_INVAL;
				goto out;
			}
			params[0] = OSSL_PARAM_construct_utf8_string(
				OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", 0);
		}
		params[1] = OSSL_PARAM_construct_end();
		mac = crypto_mac(kind == MAC_KIND_HMAC ? "HMAC" : "CMAC");
		if (!mac) {
			r = ERR_UNSUPPORTED;
			goto out;
		}
		m->mac = EVP_MAC_CTX_new(mac);
		if (!m->mac) {
			r = ERR_NOMEM;
			goto out;
		}
		/* HMAC takes an empty key (RFC 2104 pads it with zeros);
		 * EVP_MAC_init wants a non-NULL pointer for it. */
		if (!EVP_MAC_init(m->mac, key ? key : (const uint8_t *)"",
				  key_len, params)) {
			log_err(LS_CRYPTO, "MAC init failed (%s)",
				digest ? digest : "CMAC");
			r = kind == MAC_KIND_HMAC ? ERR_UNSUPPORTED
						  : ERR_CRYPTO;
			goto out;
		}
		m->size = EVP_MAC_CTX_get_mac_size(m->mac);
		if (m->size == 0 || m->size > 64) {
			r = ERR_CRYPTO;
			goto out;
		}
		break;
	default:
		r = ERR_INVAL;
		goto out;
	}
	*out = m;
	return 0;
out:
	ERR_clear_error();
	mac_ctx_free(m);
	return r;
}

void mac_ctx_free(struct mac_ctx *m)
{
	if (!m)
		return;
	EVP_MAC_CTX_free(m->mac);
	EVP_CIPHER_CTX_free(m->ecb);
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
}

int mac_init(struct mac_ctx *m)
{
	if (!m)
		return ERR_INVAL;
	if (m->kind == MAC_KIND_XCBC) {
		/* RFC 3566 §4 step 3: E[0] = 0. */
		memset(m->e, 0, sizeof(m->e));
		m->buf_len = 0;
		return 0;
	}
	/* A NULL key restarts with the key given at creation. */
	if (!EVP_MAC_init(m->mac, NULL, 0, NULL)) {
		ERR_clear_error();
		return ERR_CRYPTO;
	}
	return 0;
}

/* E[i] = E_K1(M[i] XOR E[i-1]) for one buffered block. */
static int xcbc_absorb(struct mac_ctx *m, const uint8_t *blk)
{
	size_t i;

	for (i = 0; i < XCBC_BLOCK; i++)
		m->e[i] ^= blk[i];
	return ecb_block(m->ecb, m->e, m->e, XCBC_BLOCK);
}

static int xcbc_update(struct mac_ctx *m, const uint8_t *p, size_t len)
{
	size_t n;
	int r;

	while (len > 0) {
		/* A full pending block is absorbed only when more data
		 * follows: the last block is treated differently (§4). */
		if (m->buf_len == XCBC_BLOCK) {
			r = xcbc_absorb(m, m->buf);
			if (r)
				return r;
			m->buf_len = 0;
		}
		n = XCBC_BLOCK - m->buf_len;
		if (n > len)
			n = len;
		memcpy(m->buf + m->buf_len, p, n);
		m->buf_len += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int xcbc_final(struct mac_ctx *m, uint8_t *out)
{
	const uint8_t *k;
	size_t i;
	int r;

	if (m->buf_len == XCBC_BLOCK) {
		/* RFC 3566 §4 step 4a: complete last block, XOR K2. */
		k = m->k2;
	} else {
		/* Step 4b: pad with 0x80 00..., XOR K3. */
		m->buf[m->buf_len] = 0x80;
		memset(m->buf + m->buf_len + 1, 0, XCBC_BLOCK - m->buf_len - 1);
		k = m->k3;
	}
	for (i = 0; i < XCBC_BLOCK; i++)
		m->buf[i] ^= k[i];
	r = xcbc_absorb(m, m->buf);
	if (!r)
		memcpy(out, m->e, XCBC_BLOCK);
	OPENSSL_cleanse(m->buf, sizeof(m->buf));
	m->buf_len = 0;
	return r;
}

int mac_update(struct mac_ctx *m, const void *p, size_t len)
{
	if (!m || (len && !p))
		return ERR_INVAL;
	if (len == 0)
		return 0;
	if (m->kind == MAC_KIND_XCBC)
		return xcbc_update(m, p, len);
	if (!EVP_MAC_update(m->mac, p, len)) {
		ERR_clear_error();
		return ERR_CRYPTO;
	}
	return 0;
}

int mac_final(struct mac_ctx *m, uint8_t *out)
{
	size_t outl;

	if (!m || !out)
		return ERR_INVAL;
	if (m->kind == MAC_KIND_XCBC)
		return xcbc_final(m, out);
	if (!EVP_MAC_final(m->mac, out, &outl, m->size) || outl != m->size) {
		ERR_clear_error();
		return ERR_CRYPTO;
	}
	return 0;
}

size_t mac_size(const struct mac_ctx *m)
{
	return m ? m->size : 0;
}
