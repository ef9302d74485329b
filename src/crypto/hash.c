/* SPDX-License-Identifier: MIT */
/* One-shot message digests for protocol identifiers (NAT-D, CERTREQ). */
#include "crypto/crypto.h"

#include <openssl/evp.h>

#include "common/err.h"
#include "common/log.h"

int crypto_digest(const char *name, const void *data, size_t len,
		  uint8_t *out, size_t out_len)
{
	size_t got = 0;

	if (out_len > EVP_MAX_MD_SIZE)
		return ERR_INVAL;
	if (!EVP_Q_digest(NULL, name, NULL, data, len, out, &got)) {
		log_err(LS_CRYPTO, "digest %s failed", name);
		return ERR_CRYPTO;
	}
	return got == out_len ? 0 : ERR_INVAL;
}
