/* SPDX-License-Identifier: MIT */
/*
 * The algorithm tables: IANA IKEv2 transform IDs (RFC 7296 §3.3.2 and the
 * IANA "IKEv2 Transform Type 1/2/3/4" registries), strongSwan proposal
 * keywords and the spellings of the canonical ESP vector files.
 */
#include "crypto/crypto.h"

#include <string.h>

/* IANA Transform Type 1 (encryption) IDs. */
enum {
	ID_ENCR_3DES = 3,	/* RFC 2451 */
	ID_ENCR_NULL = 11,	/* RFC 2410 */
	ID_ENCR_AES_CBC = 12,	/* RFC 3602 */
	ID_ENCR_AES_CTR = 13,	/* RFC 3686 */
	ID_ENCR_AES_CCM_8 = 14, /* RFC 4309 */
	ID_ENCR_AES_CCM_12 = 15,
	ID_ENCR_AES_CCM_16 = 16,
	ID_ENCR_AES_GCM_8 = 18, /* RFC 4106 */
	ID_ENCR_AES_GCM_12 = 19,
	ID_ENCR_AES_GCM_16 = 20,
	ID_ENCR_NULL_AUTH_AES_GMAC = 21, /* RFC 4543 */
	ID_ENCR_CHACHA20_POLY1305 = 28,	 /* RFC 7634 */
};

#define AES_CBC(bits)                                                         \
	{                                                                     \
		"aes" #bits, "aes-cbc-" #bits, ID_ENCR_AES_CBC, bits,         \
			ENCR_KIND_CBC, (bits) / 8, 0, 16, 0, 16, false, false \
	}
/* RFC 3686 §5.1: 4-byte nonce after the key; 8-byte IV; pad to 4. */
#define AES_CTR(bits)                                                       \
	{                                                                   \
		"aes" #bits "ctr", "aes-ctr-" #bits, ID_ENCR_AES_CTR, bits, \
			ENCR_KIND_CTR, (bits) / 8, 4, 8, 0, 4, false, false \
	}
/* RFC 4106 §8.1: 4-byte salt after the key. */
#define AES_GCM(bits, icv, id)                                               \
	{                                                                    \
		"aes" #bits "gcm" #icv, "aes-gcm-" #bits "-icv" #icv, id,    \
			bits, ENCR_KIND_GCM, (bits) / 8, 4, 8, icv, 4, true, \
			false                                                \
	}
/* RFC 4309 §7.1: 3-byte salt after the key. */
#define AES_CCM(bits, icv, id)                                               \
	{                                                                    \
		"aes" #bits "ccm" #icv, "aes-ccm-" #bits "-icv" #icv, id,    \
			bits, ENCR_KIND_CCM, (bits) / 8, 3, 8, icv, 4, true, \
			false                                                \
	}
/* RFC 4543 §3.2: as GCM, 16-byte tag, nothing encrypted. */
#define AES_GMAC(bits)                                                    \
	{                                                                 \
		"aes" #bits "gmac", "aes-gmac-" #bits,                    \
			ID_ENCR_NULL_AUTH_AES_GMAC, bits, ENCR_KIND_GMAC, \
			(bits) / 8, 4, 8, 16, 4, true, false              \
	}

static const struct encr_alg encr_table[] = {
	AES_GCM(128, 16, ID_ENCR_AES_GCM_16),
	AES_GCM(192, 16, ID_ENCR_AES_GCM_16),
	AES_GCM(256, 16, ID_ENCR_AES_GCM_16),
	AES_GCM(128, 12, ID_ENCR_AES_GCM_12),
	AES_GCM(192, 12, ID_ENCR_AES_GCM_12),
	AES_GCM(256, 12, ID_ENCR_AES_GCM_12),
	AES_GCM(128, 8, ID_ENCR_AES_GCM_8),
	AES_GCM(192, 8, ID_ENCR_AES_GCM_8),
	AES_GCM(256, 8, ID_ENCR_AES_GCM_8),
	{"chacha20poly1305", "chacha20-poly1305", ID_ENCR_CHACHA20_POLY1305, 0,
	 ENCR_KIND_CHACHA, 32, 4, 8, 16, 4, true, false},
	AES_CCM(128, 16, ID_ENCR_AES_CCM_16),
	AES_CCM(192, 16, ID_ENCR_AES_CCM_16),
	AES_CCM(256, 16, ID_ENCR_AES_CCM_16),
	AES_CCM(128, 12, ID_ENCR_AES_CCM_12),
	AES_CCM(192, 12, ID_ENCR_AES_CCM_12),
	AES_CCM(256, 12, ID_ENCR_AES_CCM_12),
	AES_CCM(128, 8, ID_ENCR_AES_CCM_8),
	AES_CCM(192, 8, ID_ENCR_AES_CCM_8),
	AES_CCM(256, 8, ID_ENCR_AES_CCM_8),
	AES_CBC(128),
	AES_CBC(192),
	AES_CBC(256),
	AES_CTR(128),
	AES_CTR(192),
	AES_CTR(256),
	AES_GMAC(128),
	AES_GMAC(192),
	AES_GMAC(256),
	/* RFC 2451: three 8-byte DES keys, no Key Length attribute. */
	{"3des", "3des-cbc", ID_ENCR_3DES, 0, ENCR_KIND_CBC, 24, 0, 8, 0, 8,
	 false, true},
	/* RFC 2410; RFC 4303 §2.4 still wants 4-byte alignment. */
	{"null", "null", ID_ENCR_NULL, 0, ENCR_KIND_NULL, 0, 0, 0, 0, 4, false,
	 true},
};
#define N_ENCR (sizeof(encr_table) / sizeof(encr_table[0]))

static const struct integ_alg integ_table[] = {
	{"sha256", "hmac-sha256-128", 12, MAC_KIND_HMAC, "SHA256", 32, 16,
	 false}, /* RFC 4868 */
	{"sha384", "hmac-sha384-192", 13, MAC_KIND_HMAC, "SHA384", 48, 24,
	 false},
	{"sha512", "hmac-sha512-256", 14, MAC_KIND_HMAC, "SHA512", 64, 32,
	 false},
	{"sha1", "hmac-sha1-96", 2, MAC_KIND_HMAC, "SHA1", 20, 12,
	 false}, /* RFC 2404 */
	{"aesxcbc", "aes-xcbc-96", 5, MAC_KIND_XCBC, NULL, 16, 12,
	 false}, /* RFC 3566 */
	{"aescmac", "aes-cmac-96", 8, MAC_KIND_CMAC, NULL, 16, 12,
	 false}, /* RFC 4494 */
	{"md5", "hmac-md5-96", 1, MAC_KIND_HMAC, "MD5", 16, 12,
	 true}, /* RFC 2403 */
};
#define N_INTEG (sizeof(integ_table) / sizeof(integ_table[0]))

/* RFC 7296 §2.13: the preferred key length is the PRF output size. */
static const struct prf_alg prf_table[] = {
	{"prfsha256", 5, MAC_KIND_HMAC, "SHA256", 32, 32, false},
	{"prfsha384", 6, MAC_KIND_HMAC, "SHA384", 48, 48, false},
	{"prfsha512", 7, MAC_KIND_HMAC, "SHA512", 64, 64, false},
	{"prfsha1", 2, MAC_KIND_HMAC, "SHA1", 20, 20, false},
	{"prfaesxcbc", 4, MAC_KIND_XCBC, NULL, 16, 16, false}, /* RFC 4434 */
	{"prfaescmac", 8, MAC_KIND_CMAC, NULL, 16, 16, false}, /* RFC 4615 */
	{"prfmd5", 1, MAC_KIND_HMAC, "MD5", 16, 16, true},
};
#define N_PRF (sizeof(prf_table) / sizeof(prf_table[0]))

/* Transform Type 4: RFC 3526 (MODP), RFC 5903 (ECP), RFC 8031 (ECX). */
static const struct ke_alg ke_table[] = {
	{"ecp256", 19, KE_KIND_ECP, 64, 32, false},
	{"ecp384", 20, KE_KIND_ECP, 96, 48, false},
	{"ecp521", 21, KE_KIND_ECP, 132, 66, false},
	{"x25519", 31, KE_KIND_ECX, 32, 32, false},
	{"x448", 32, KE_KIND_ECX, 56, 56, false},
	{"modp2048", 14, KE_KIND_MODP, 256, 256, false},
	{"modp3072", 15, KE_KIND_MODP, 384, 384, false},
	{"modp4096", 16, KE_KIND_MODP, 512, 512, false},
	{"modp6144", 17, KE_KIND_MODP, 768, 768, false},
	{"modp8192", 18, KE_KIND_MODP, 1024, 1024, false},
	{"modp1536", 5, KE_KIND_MODP, 192, 192, false},
	/* RFC 8247 §2.4: group 2 MUST NOT be used; config may force it. */
	{"modp1024", 2, KE_KIND_MODP, 128, 128, true},
	/* RFC 5114 §2.6/§2.7: groups 25 and 26 are the NIST P-192 and
	 * P-224 curves with RFC 5903 encoding.  Too weak for a default;
	 * here for peers configured with them. */
	{"ecp192", 25, KE_KIND_ECP, 48, 24, true},
	{"ecp224", 26, KE_KIND_ECP, 56, 28, true},
};
#define N_KE (sizeof(ke_table) / sizeof(ke_table[0]))

/* Other spellings strongSwan accepts for the same algorithm. */
static const struct {
	const char *alias;
	const char *name;
} aliases[] = {
	{"aes128gcm64", "aes128gcm8"},
	{"aes128gcm96", "aes128gcm12"},
	{"aes128gcm128", "aes128gcm16"},
	{"aes192gcm64", "aes192gcm8"},
	{"aes192gcm96", "aes192gcm12"},
	{"aes192gcm128", "aes192gcm16"},
	{"aes256gcm64", "aes256gcm8"},
	{"aes256gcm96", "aes256gcm12"},
	{"aes256gcm128", "aes256gcm16"},
	{"aes128ccm64", "aes128ccm8"},
	{"aes128ccm96", "aes128ccm12"},
	{"aes128ccm128", "aes128ccm16"},
	{"aes192ccm64", "aes192ccm8"},
	{"aes192ccm96", "aes192ccm12"},
	{"aes192ccm128", "aes192ccm16"},
	{"aes256ccm64", "aes256ccm8"},
	{"aes256ccm96", "aes256ccm12"},
	{"aes256ccm128", "aes256ccm16"},
	{"aes128cbc", "aes128"},
	{"aes192cbc", "aes192"},
	{"aes256cbc", "aes256"},
	{"sha2_256", "sha256"},
	{"sha2_384", "sha384"},
	{"sha2_512", "sha512"},
	{"prfsha2_256", "prfsha256"},
	{"prfsha2_384", "prfsha384"},
	{"prfsha2_512", "prfsha512"},
	{"curve25519", "x25519"},
	{"curve448", "x448"},
};
#define N_ALIASES (sizeof(aliases) / sizeof(aliases[0]))

static const char *canonical(const char *name)
{
	size_t i;

	for (i = 0; i < N_ALIASES; i++)
		if (strcmp(aliases[i].alias, name) == 0)
			return aliases[i].name;
	return name;
}

const struct encr_alg *encr_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	name = canonical(name);
	for (i = 0; i < N_ENCR; i++)
		if (strcmp(encr_table[i].name, name) == 0)
			return &encr_table[i];
	return NULL;
}

const struct encr_alg *encr_by_kat_name(const char *kat_name)
{
	size_t i;

	if (!kat_name)
		return NULL;
	for (i = 0; i < N_ENCR; i++)
		if (strcmp(encr_table[i].kat_name, kat_name) == 0)
			return &encr_table[i];
	return NULL;
}

const struct encr_alg *encr_by_iana(uint16_t id, uint16_t key_bits)
{
	size_t i;

	/* RFC 7296 §3.3.5: AES needs the Key Length attribute, the
	 * fixed-length ciphers must not carry one. */
	for (i = 0; i < N_ENCR; i++)
		if (encr_table[i].iana_id == id &&
		    encr_table[i].key_bits == key_bits)
			return &encr_table[i];
	return NULL;
}

const struct encr_alg *encr_at(size_t i)
{
	return i < N_ENCR ? &encr_table[i] : NULL;
}

const struct integ_alg *integ_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	name = canonical(name);
	for (i = 0; i < N_INTEG; i++)
		if (strcmp(integ_table[i].name, name) == 0)
			return &integ_table[i];
	return NULL;
}

const struct integ_alg *integ_by_kat_name(const char *kat_name)
{
	size_t i;

	if (!kat_name)
		return NULL;
	for (i = 0; i < N_INTEG; i++)
		if (strcmp(integ_table[i].kat_name, kat_name) == 0)
			return &integ_table[i];
	return NULL;
}

const struct integ_alg *integ_by_iana(uint16_t id)
{
	size_t i;

	for (i = 0; i < N_INTEG; i++)
		if (integ_table[i].iana_id == id)
			return &integ_table[i];
	return NULL;
}

const struct integ_alg *integ_at(size_t i)
{
	return i < N_INTEG ? &integ_table[i] : NULL;
}

const struct prf_alg *prf_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	name = canonical(name);
	for (i = 0; i < N_PRF; i++)
		if (strcmp(prf_table[i].name, name) == 0)
			return &prf_table[i];
	return NULL;
}

const struct prf_alg *prf_by_iana(uint16_t id)
{
	size_t i;

	for (i = 0; i < N_PRF; i++)
		if (prf_table[i].iana_id == id)
			return &prf_table[i];
	return NULL;
}

const struct prf_alg *prf_at(size_t i)
{
	return i < N_PRF ? &prf_table[i] : NULL;
}

const struct ke_alg *ke_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	name = canonical(name);
	for (i = 0; i < N_KE; i++)
		if (strcmp(ke_table[i].name, name) == 0)
			return &ke_table[i];
	return NULL;
}

const struct ke_alg *ke_by_iana(uint16_t id)
{
	size_t i;

	for (i = 0; i < N_KE; i++)
		if (ke_table[i].iana_id == id)
			return &ke_table[i];
	return NULL;
}

const struct ke_alg *ke_at(size_t i)
{
	return i < N_KE ? &ke_table[i] : NULL;
}
