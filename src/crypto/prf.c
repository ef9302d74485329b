/* SPDX-License-Identifier: MIT */
/*
 * PRFs (transform type 2) and prf+ (RFC 7296 §2.13).
 */
#include "crypto/crypto.h"

#include <string.h>

#include <openssl/crypto.h>

#include "common/err.h"
#include "common/log.h"

#define AES_KEY_LEN 16
#define MAX_PRF 64

/*
 * A MAC context keyed the way the PRF takes its key.
 * RFC 4434 §2 (AES-XCBC-PRF-128): a key shorter than 16 bytes is padded
 * with zeros, a longer one becomes AES-XCBC-MAC-96's full 128-bit output
 * under the all-zero key.  RFC 4615 §3 (AES-CMAC-PRF-128): any key that is
 * not 16 bytes, shorter or longer, becomes AES-CMAC(0^128, key).
 */
static int prf_mac_new(const struct prf_alg *alg, const uint8_t *key,
		       size_t key_len, struct mac_ctx **out)
{
	static const uint8_t zero[AES_KEY_LEN];
	uint8_t k[AES_KEY_LEN];
	struct mac_ctx *m = NULL;
	int r;

	if (alg->kind == MAC_KIND_HMAC || key_len == AES_KEY_LEN)
		return mac_ctx_new(alg->kind, alg->digest, key, key_len, out);
	if (alg->kind == MAC_KIND_XCBC && key_len < AES_KEY_LEN) {
		memset(k, 0, sizeof(k));
		if (key_len)
			memcpy(k, key, key_len);
	} else {
		r = mac_ctx_new(alg->kind, NULL, zero, sizeof(zero), &m);
		if (!r)
			r = mac_update(m, key, key_len);
		if (!r)
			r = mac_final(m, k);
		mac_ctx_free(m);
		if (r)
			goto out;
	}
	r = mac_ctx_new(alg->kind, NULL, k, sizeof(k), out);
out:
	OPENSSL_cleanse(k, sizeof(k));
	return r;
}

int prf(const struct prf_alg *alg, const uint8_t *key, size_t key_len,
	const uint8_t *data, size_t data_len, uint8_t *out)
{
	struct mac_ctx *m = NULL;
	int r;

	if (!alg || !out || (key_len && !key) || (data_len && !data))
		return ERR_INVAL;
	r = prf_mac_new(alg, key, key_len, &m);
	if (r)
		return r;
	if (mac_size(m) != alg->out_len) {
		r = ERR_INVAL;
		goto out;
	}
	r = mac_update(m, data, data_len);
	if (!r)
		r = mac_final(m, out);
out:
	mac_ctx_free(m);
	return r;
}

int prf_plus(const struct prf_alg *alg, const uint8_t *key, size_t key_len,
	     const uint8_t *seed, size_t seed_len, uint8_t *out, size_t out_len)
{
	uint8_t t[MAX_PRF];
	struct mac_ctx *m = NULL;
	size_t n, done = 0;
	uint8_t i;
	int r;

	if (!alg || (out_len && !out) || (key_len && !key) ||
	    (seed_len && !seed) || alg->out_len == 0 || alg->out_len > MAX_PRF)
		return ERR_INVAL;
	/* RFC 7296 §2.13: the counter is one octet, so at most 255 rounds. */
	if (out_len > (size_t)255 * alg->out_len) {
		log_err(LS_CRYPTO, "prf+: %zu bytes is more than 255 rounds",
			out_len);
		return ERR_OVERFLOW;
	}
	if (out_len == 0)
		return 0;
	r = prf_mac_new(alg, key, key_len, &m);
	if (r)
		return r;
	if (mac_size(m) != alg->out_len) {
		r = ERR_INVAL;
		goto out;
	}
	/* T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n). */
	for (i = 1; done < out_len; i++) {
		r = mac_init(m);
		if (!r && i > 1)
			r = mac_update(m, t, alg->out_len);
		if (!r)
			r = mac_update(m, seed, seed_len);
		if (!r)
			r = mac_update(m, &i, 1);
		if (!r)
			r = mac_final(m, t);
		if (r)
			goto out;
		n = out_len - done < alg->out_len ? out_len - done
						  : alg->out_len;
		memcpy(out + done, t, n);
		done += n;
	}
out:
	OPENSSL_cleanse(t, sizeof(t));
	mac_ctx_free(m);
	return r;
}
