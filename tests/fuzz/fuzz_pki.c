/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what a peer sends for certificate authentication:
 * CERT payload data (cert.c: DER certificate, then identity matching
 * against it and a chain check against an empty store) and AUTH data of
 * the signature methods (auth_sig.c: RFC 7427 ASN.1 length,
 * AlgorithmIdentifier, signature; RFC 4754 r || s).
 *
 * Input: one selector octet, one ID type octet, then the payload.  The
 * verifying keys are made once.  Any accepted signature over the fixed
 * octets would be a forgery: abort().
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/log.h"
#include "crypto/sig.h"
#include "ike/auth_sig.h"
#include "ike/cert.h"
#include "ike/ikev2_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *keys[4];

static void init_keys(void)
{
	if (keys[0])
		return;
	log_set_all_levels(LL_ERR);
	keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	keys[2] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	keys[3] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (!keys[0] || !keys[1] || !keys[2] || !keys[3])
		abort();
}

static void fuzz_cert(uint8_t id_type, const uint8_t *p, size_t len)
{
	struct cert_store *s = NULL;
	struct x509_st *c = NULL;
	char why[CERT_WHY_MAX];
	size_t cut = len ? p[0] : 0;

	/* The first octet says how much of the end is the ID. */
	if (cut > len - (len ? 1 : 0))
		cut = len ? len - 1 : 0;
	if (len)
		p++, len--;
	if (cert_from_payload(IKEV2_CERT_X509_SIG, p, len - cut, &c) < 0)
		return;
	cert_match_id(c, id_type, p + len - cut, cut, why, sizeof(why));
	if (cert_store_new(&s) == 0) {
		/* Nothing is trusted: a pass would be a bug. */
		if (cert_verify(s, c, NULL, 0, 0, why, sizeof(why)) == 0)
			abort();
		cert_store_free(s);
	}
	cert_subject(c, why, sizeof(why));
	cert_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t methods[] = {
		IKEV2_AUTH_RSA_SIG, IKEV2_AUTH_ECDSA_256, IKEV2_AUTH_ECDSA_384,
		IKEV2_AUTH_DIGITAL_SIG};
	static const uint8_t octets[] = "signed octets, RFC 7296 2.15";
	struct sig_algid aid;
	char why[AUTH_SIG_WHY_MAX];
	uint8_t sel, id_type;

	if (size < 2)
		return 0;
	init_keys();
	sel = data[0];
	id_type = data[1];
	data += 2;
	size -= 2;
	if (sel & 0x80) {
		fuzz_cert(id_type, data, size);
		return 0;
	}
	sig_algid_parse(data, size, &aid);
	if (auth_sig_verify(methods[sel & 3], keys[(sel >> 2) & 3],
			    (sel & 0x10) ? SIG_ALLOW_SHA1 : 0, 0, octets,
			    sizeof(octets), data, size, why, sizeof(why)) == 0)
		abort();
	return 0;
}
