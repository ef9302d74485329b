/* SPDX-License-Identifier: MIT */
/*
 * Public-key signatures for IKEv2 authentication, over OpenSSL 3 EVP:
 *   RSASSA-PKCS1-v1_5 with SHA-1/256/384/512          (RFC 8017 §8.2)
 *   RSASSA-PSS with SHA-256/384/512, MGF1 same hash    (RFC 8017 §8.1)
 *   ECDSA on P-256/384/521 with SHA-1/256/384/512      (FIPS 186-4)
 *   Ed25519, Ed448, "Identity" hash                    (RFC 8032, 8420)
 *
 * This layer knows nothing of IKE except two encodings: ECDSA signatures
 * are DER (ECDSA-Sig-Value, RFC 3279 §2.2.3, as RFC 7427 §3 wants) unless
 * SIG_ECDSA_RAW asks for r || s of fixed width (RFC 4754 §7), and the
 * DER AlgorithmIdentifier of RFC 7427 §3 is made and parsed here, with
 * OpenSSL's own encoder (the "algorithm-id" signature parameter) and
 * decoder (X509_ALGOR, RSA_PSS_PARAMS).  Method choice is src/ike/auth_sig.
 *
 * SHA-1 is refused unless SIG_ALLOW_SHA1 is given (RFC 8247 §3: SHA-1
 * signatures are no longer to be relied on).
 *
 * Keys are EVP_PKEY (struct evp_pkey_st), borrowed by every call here.
 */
#ifndef IPSECD_CRYPTO_SIG_H
#define IPSECD_CRYPTO_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct evp_pkey_st;

enum sig_kind {
	SIG_KIND_RSA_PKCS1,
	SIG_KIND_RSA_PSS,
	SIG_KIND_ECDSA,
	SIG_KIND_EDDSA,
};

/*
 * Hash numbers of the IANA "IKEv2 Hash Algorithms" registry (RFC 7427
 * §7; Identity is RFC 8420 §2), the values of SIGNATURE_HASH_ALGORITHMS.
 */
enum sig_hash {
	SIG_HASH_SHA1 = 1,
	SIG_HASH_SHA256 = 2,
	SIG_HASH_SHA384 = 3,
	SIG_HASH_SHA512 = 4,
	SIG_HASH_IDENTITY = 5,
};

struct sig_alg {
	const char *name; /* "rsa-pss-sha256", "ecdsa-sha384", ... */
	enum sig_kind kind;
	enum sig_hash hash;
	const char *md;	      /* OpenSSL digest name, NULL for EdDSA */
	int nid;	      /* signature OID (NID_rsassaPss for PSS) */
	const char *key_type; /* EVP_PKEY_is_a() name: "RSA", "EC", ... */
};

/* Flags for sign and verify. */
#define SIG_ALLOW_SHA1 0x1u /* accept SHA-1 (off by default) */
#define SIG_ECDSA_RAW 0x2u  /* ECDSA as r || s (RFC 4754 §7) */

/* Table lookups: borrowed, NULL if unknown.  sig_alg_at(i) iterates. */
const struct sig_alg *sig_alg_by_name(const char *name);
const struct sig_alg *sig_alg_find(enum sig_kind kind, enum sig_hash hash);
const struct sig_alg *sig_alg_at(size_t i);

/* Key family helpers (key borrowed). */
bool sig_key_is(const struct evp_pkey_st *key, enum sig_kind kind);
/* EdDSA: true for Ed448 (false for Ed25519 and other keys). */
bool sig_key_is_ed448(const struct evp_pkey_st *key);
/*
 * ECDSA field width in octets: 32 (P-256), 48 (P-384), 66 (P-521);
 * 0 for any other key, including other curves.
 */
size_t sig_ec_field_len(const struct evp_pkey_st *key);
/* Short description for logs: "ECDSA P-256", "RSA 3072", "Ed25519". */
const char *sig_key_desc(const struct evp_pkey_st *key, char *out, size_t n);

/*
 * Does alg fit key (RSA scheme and RSA key, ECDSA and an EC key of a
 * supported curve, Ed25519 or Ed448 matching the key)?
 */
bool sig_alg_fits(const struct sig_alg *alg, const struct evp_pkey_st *key);

/*
 * Sign data with key; the signature is appended to w.  RSASSA-PSS uses
 * MGF1 with the same hash and a salt as long as the hash (RFC 8017
 * §9.1, the parameters RFC 7427 Appendix A uses).  ERR_UNSUPPORTED if
 * alg does not fit key or is SHA-1 without SIG_ALLOW_SHA1, ERR_CRYPTO if
 * OpenSSL fails.
 */
int sig_sign(const struct sig_alg *alg, struct evp_pkey_st *key, unsigned flags,
	     const uint8_t *data, size_t len, struct wbuf *w);

/*
 * Verify sig over data with key.  pss_salt: RSASSA-PSS salt length from
 * the peer's parameters, or -1 for the hash length.  0 if valid, ERR_AUTH
 * if not (wrong key, tampered data, bad encoding, an ECDSA r || s of the
 * wrong width), ERR_UNSUPPORTED as for sig_sign.  Nothing is logged: a
 * peer causes these, its caller logs.
 */
int sig_verify(const struct sig_alg *alg, int pss_salt, struct evp_pkey_st *key,
	       unsigned flags, const uint8_t *data, size_t len,
	       const uint8_t *sig, size_t sig_len);

/*
 * The DER AlgorithmIdentifier naming alg for key (RFC 7427 §3; for PSS
 * with the parameters sig_sign uses), appended to w.  It comes from the
 * OpenSSL signature provider, so it is what a certificate signed the
 * same way carries.
 */
int sig_algid(const struct sig_alg *alg, struct evp_pkey_st *key,
	      struct wbuf *w);

/* What a peer's AlgorithmIdentifier says. */
struct sig_algid {
	const struct sig_alg *alg;
	int pss_salt; /* RSASSA-PSS salt length, else -1 */
};

/*
 * Parse a DER AlgorithmIdentifier of exactly len octets.  Known: the
 * sha*WithRSAEncryption family (parameters NULL or absent, RFC 4055
 * §5), ecdsa-with-SHA* (absent, RFC 5758 §3.2), Ed25519/Ed448 (absent,
 * RFC 8410 §3) and RSASSA-PSS with MGF1 over the same SHA-2 hash and
 * trailer field 1 (RFC 4055 §3.1).  ERR_MALFORMED if it is not DER of
 * that shape, ERR_UNSUPPORTED for anything else (another OID, PSS with
 * SHA-1 or mixed hashes).
 */
int sig_algid_parse(const uint8_t *der, size_t len, struct sig_algid *out);

/*
 * Load a private key, PEM or DER (PKCS#8, or the traditional RSA/EC
 * forms), from memory.  Owned: EVP_PKEY_free() (sig_key_free).
 * ERR_MALFORMED if nothing in it is a private key.
 */
int sig_key_from_mem(const uint8_t *p, size_t len, struct evp_pkey_st **out);
/* The same from a file; ERR_IO if it cannot be read (logged). */
int sig_key_load(const char *path, struct evp_pkey_st **out);
void sig_key_free(struct evp_pkey_st *key);

#endif
