/* SPDX-License-Identifier: MIT */
/*
 * Integrity transforms (type 3): a MAC truncated to the ICV length
 * (RFC 2404 §2, RFC 3566 §4, RFC 4494 §2, RFC 4868 §2.3).
 */
#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/err.h"
#include "common/log.h"

#define MAX_MAC 64

struct integ_ctx {
	const struct integ_alg *alg;
	struct mac_ctx *mac;
};

int integ_ctx_new(const struct integ_alg *alg, const uint8_t *key,
		  size_t key_len, struct integ_ctx **out)
{
	struct integ_ctx *c;
	int r;

	if (!out)
		return ERR_INVAL;
	*out = NULL;
	if (!alg || !key)
		return ERR_INVAL;
	/* RFC 4868 §2.1.1: the key is exactly the hash output size. */
	if (key_len != alg->key_len) {
		log_err(LS_CRYPTO, "%s: key is %zu bytes, want %u", alg->name,
			key_len, alg->key_len);
		return ERR_INVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return ERR_NOMEM;
	c->alg = alg;
	r = mac_ctx_new(alg->kind, alg->digest, key, key_len, &c->mac);
	if (r)
		goto out;
	if (mac_size(c->mac) < alg->icv_len || mac_size(c->mac) > MAX_MAC) {
		r = ERR_INVAL;
		goto out;
	}
	*out = c;
	return 0;
out:
	integ_ctx_free(c);
	return r;
}

void integ_ctx_free(struct integ_ctx *c)
{
	if (!c)
		return;
	mac_ctx_free(c->mac);
	free(c);
}

const struct integ_alg *integ_ctx_alg(const struct integ_ctx *c)
{
	return c ? c->alg : NULL;
}

int integ_init(struct integ_ctx *c)
{
	return c ? mac_init(c->mac) : ERR_INVAL;
}

int integ_update(struct integ_ctx *c, const void *p, size_t len)
{
	return c ? mac_update(c->mac, p, len) : ERR_INVAL;
}

int integ_final(struct integ_ctx *c, uint8_t *icv)
{
	uint8_t full[MAX_MAC];
	int r;

	if (!c || !icv)
		return ERR_INVAL;
	r = mac_final(c->mac, full);
	if (!r)
		memcpy(icv, full, c->alg->icv_len);
	OPENSSL_cleanse(full, sizeof(full));
	return r;
}

int integ_verify(struct integ_ctx *c, const uint8_t *icv)
{
	uint8_t mine[MAX_MAC];
	int r;

	if (!c || !icv)
		return ERR_INVAL;
	r = integ_final(c, mine);
	if (!r && !crypto_memeq(mine, icv, c->alg->icv_len))
		r = ERR_AUTH;
	OPENSSL_cleanse(mine, sizeof(mine));
	return r;
}
