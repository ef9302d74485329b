/* SPDX-License-Identifier: MIT */
/*
 * The crypto layer: every primitive ipsecd uses, over OpenSSL 3 EVP only.
 *
 * Algorithms are described by static tables (alg.c) that map each one to
 * its IANA IKEv2 transform ID (RFC 7296 §3.3.2 and the IANA registry), to
 * its keyword in strongSwan's proposal syntax ("aes128gcm16", "prfsha256",
 * "x25519"), because users and our config speak that syntax, and to the
 * spelling used by the canonical ESP vector files ("aes-gcm-128-icv16").
 *
 * Each EVP algorithm is fetched once (crypto_init) and every context is
 * made once per SA and reused per packet.  Contexts are NOT thread-safe:
 * one context serves one thread at a time.
 *
 * Secrets (keys held in contexts, DH private values) are wiped when the
 * owning object is freed.
 */
#ifndef IPSECD_CRYPTO_CRYPTO_H
#define IPSECD_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IKEv2 transform types, RFC 7296 §3.3.2. */
enum xform_type {
	XF_ENCR = 1,
	XF_PRF = 2,
	XF_INTEG = 3,
	XF_KE = 4,
	XF_ESN = 5,
};

/* Fetch all algorithms; call once at start.  0 or ERR_CRYPTO. */
int crypto_init(void);
/* Release what crypto_init fetched. */
void crypto_fini(void);

/*
 * Internal to src/crypto (fetch.c): the algorithms crypto_init() fetched,
 * by OpenSSL name ("AES-128-GCM", "HMAC").  Borrowed, valid until
 * crypto_fini(); NULL if the provider lacks it.  Calls crypto_init()
 * lazily (thread-safe) if nobody did.  Not for use outside src/crypto.
 */
struct evp_cipher_st;
struct evp_mac_st;
const struct evp_cipher_st *crypto_cipher(const char *name);
struct evp_mac_st *crypto_mac(const char *name);

/* Random bytes from OpenSSL's DRBG.  0 or ERR_CRYPTO. */
int crypto_random(void *buf, size_t len);
/* Wipe memory the compiler may not optimise away. */
void crypto_wipe(void *p, size_t len);
/*
 * out = digest name ("SHA1", "SHA256") of data, exactly out_len bytes
 * (ERR_INVAL if that is not the digest's size).  For protocol
 * identifiers such as NAT detection hashes (RFC 7296 §2.23), not keys.
 */
int crypto_digest(const char *name, const void *data, size_t len,
		  uint8_t *out, size_t out_len);
/* Constant-time compare: true if equal. */
bool crypto_memeq(const void *a, const void *b, size_t len);

/* ---- Encryption: AEAD and plain ciphers (transform type 1) ---- */

enum encr_kind {
	ENCR_KIND_NULL,		/* RFC 2410 */
	ENCR_KIND_CBC,		/* AES-CBC RFC 3602, 3DES-CBC RFC 2451 */
	ENCR_KIND_CTR,		/* AES-CTR RFC 3686 */
	ENCR_KIND_GCM,		/* RFC 4106 */
	ENCR_KIND_CCM,		/* RFC 4309 */
	ENCR_KIND_CHACHA,	/* RFC 7634 */
	ENCR_KIND_GMAC,		/* RFC 4543: authentication only */
};

struct encr_alg {
	const char *name;	/* proposal keyword: "aes128gcm16" */
	const char *kat_name;	/* vector spelling: "aes-gcm-128-icv16" */
	uint16_t iana_id;	/* transform ID, e.g. 20 = AES-GCM-16 */
	uint16_t key_bits;	/* Key Length attribute value, 0 if none */
	enum encr_kind kind;
	uint8_t key_len;	/* cipher key bytes, without salt */
	uint8_t salt_len;	/* implicit salt/nonce bytes after the key */
	uint8_t iv_len;		/* explicit IV bytes on the wire */
	uint8_t icv_len;	/* AEAD tag bytes; 0 for non-AEAD */
	uint8_t block_len;	/* payload alignment (ESP pads to >= 4) */
	bool aead;		/* combined mode: no separate integrity */
	bool legacy;		/* offered only when configured explicitly */
};

/* Lookups return borrowed pointers into the static table, or NULL. */
const struct encr_alg *encr_by_name(const char *name);
const struct encr_alg *encr_by_kat_name(const char *kat_name);
const struct encr_alg *encr_by_iana(uint16_t id, uint16_t key_bits);
/* Iterate: i = 0,1,... until NULL. */
const struct encr_alg *encr_at(size_t i);

struct encr_ctx;

/*
 * New context for one direction of one SA.  key is the keying material
 * exactly as IKE derives it: cipher key followed by the salt
 * (key_len + salt_len bytes; RFC 4106 §8.1, RFC 3686 §5.1, RFC 7634 §2).
 * ERR_INVAL on a wrong key length.  Owned: free with encr_ctx_free().
 */
int encr_ctx_new(const struct encr_alg *alg, const uint8_t *key,
		 size_t key_len, bool encrypt, struct encr_ctx **out);
void encr_ctx_free(struct encr_ctx *c);
const struct encr_alg *encr_ctx_alg(const struct encr_ctx *c);

/*
 * AEAD (GCM, CCM, ChaCha20-Poly1305, GMAC).  The nonce is salt || iv,
 * with iv the alg->iv_len explicit bytes.  in and out may be the same
 * buffer (in-place).  For GMAC the payload is authenticated, not
 * encrypted (RFC 4543 §3): it is taken as AAD after aad and copied to out.
 * aead_open returns ERR_AUTH if the tag does not verify; out is then
 * unspecified and must not be used.
 * GMAC adds nothing to aad itself: for ESP the caller passes
 * aad = SPI || [seq_hi] || seq || IV (RFC 4543 §3.3), so the MAC covers
 * aad || payload.  The tag is alg->icv_len bytes.
 */
int aead_seal(struct encr_ctx *c, const uint8_t *iv, const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	      uint8_t *tag);
int aead_open(struct encr_ctx *c, const uint8_t *iv, const uint8_t *aad,
	      size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	      const uint8_t *tag);

/*
 * Plain ciphers (CBC, CTR, NULL), no padding added or removed here.
 * CBC needs len to be a multiple of the block size (ERR_INVAL if not).
 * iv is alg->iv_len bytes.  In-place allowed.
 */
int cipher_encrypt(struct encr_ctx *c, const uint8_t *iv, const uint8_t *in,
		   size_t len, uint8_t *out);
int cipher_decrypt(struct encr_ctx *c, const uint8_t *iv, const uint8_t *in,
		   size_t len, uint8_t *out);

/* ---- MAC core shared by integrity and PRF ---- */

enum mac_kind {
	MAC_KIND_HMAC,
	MAC_KIND_XCBC,		/* RFC 3566 */
	MAC_KIND_CMAC,		/* RFC 4493 */
};

struct mac_ctx;

/*
 * Keyed MAC context, reusable: mac_init() restarts it with the same key.
 * digest is the OpenSSL digest name for HMAC ("SHA256"), unused else.
 */
int mac_ctx_new(enum mac_kind kind, const char *digest, const uint8_t *key,
		size_t key_len, struct mac_ctx **out);
void mac_ctx_free(struct mac_ctx *m);
int mac_init(struct mac_ctx *m);
int mac_update(struct mac_ctx *m, const void *p, size_t len);
/* Writes the full MAC (mac_size bytes). */
int mac_final(struct mac_ctx *m, uint8_t *out);
size_t mac_size(const struct mac_ctx *m);

/* ---- Integrity (transform type 3) ---- */

struct integ_alg {
	const char *name;	/* proposal keyword: "sha256" */
	const char *kat_name;	/* vector spelling: "hmac-sha256-128" */
	uint16_t iana_id;	/* e.g. 12 = AUTH_HMAC_SHA2_256_128 */
	enum mac_kind kind;
	const char *digest;	/* OpenSSL digest for HMAC */
	uint8_t key_len;
	uint8_t icv_len;	/* truncated output */
	bool legacy;
};

const struct integ_alg *integ_by_name(const char *name);
const struct integ_alg *integ_by_kat_name(const char *kat_name);
const struct integ_alg *integ_by_iana(uint16_t id);
const struct integ_alg *integ_at(size_t i);

struct integ_ctx;

/* ERR_INVAL if key_len != alg->key_len.  Owned. */
int integ_ctx_new(const struct integ_alg *alg, const uint8_t *key,
		  size_t key_len, struct integ_ctx **out);
void integ_ctx_free(struct integ_ctx *c);
const struct integ_alg *integ_ctx_alg(const struct integ_ctx *c);
/* Streaming: init, update..., then final (writes icv_len bytes). */
int integ_init(struct integ_ctx *c);
int integ_update(struct integ_ctx *c, const void *p, size_t len);
int integ_final(struct integ_ctx *c, uint8_t *icv);
/* final and constant-time compare: 0, or ERR_AUTH on mismatch. */
int integ_verify(struct integ_ctx *c, const uint8_t *icv);

/* ---- PRF (transform type 2) and prf+ ---- */

struct prf_alg {
	const char *name;	/* proposal keyword: "prfsha256" */
	uint16_t iana_id;	/* e.g. 5 = PRF_HMAC_SHA2_256 */
	enum mac_kind kind;
	const char *digest;
	uint8_t out_len;	/* PRF output bytes */
	uint8_t key_len;	/* preferred key length (RFC 7296 §2.13) */
	bool legacy;
};

const struct prf_alg *prf_by_name(const char *name);
const struct prf_alg *prf_by_iana(uint16_t id);
const struct prf_alg *prf_at(size_t i);

/*
 * out = prf(key, data), alg->out_len bytes.  Any key length: HMAC takes
 * it as is; AES-XCBC-PRF-128 (RFC 4434 §2) pads short keys with zeros
 * and hashes long ones; AES-CMAC-PRF-128 (RFC 4615 §3) hashes every key
 * that is not 16 bytes, short ones included.
 */
int prf(const struct prf_alg *alg, const uint8_t *key, size_t key_len,
	const uint8_t *data, size_t data_len, uint8_t *out);
/*
 * prf+ (RFC 7296 §2.13): T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n).
 * ERR_OVERFLOW if out_len needs more than 255 iterations.
 */
int prf_plus(const struct prf_alg *alg, const uint8_t *key, size_t key_len,
	     const uint8_t *seed, size_t seed_len, uint8_t *out,
	     size_t out_len);

/* ---- Key exchange (transform type 4) ---- */

enum ke_kind {
	KE_KIND_MODP,		/* RFC 2409 §6, RFC 3526 */
	KE_KIND_ECP,		/* RFC 5903 */
	KE_KIND_ECX,		/* RFC 8031: Curve25519, Curve448 */
};

struct ke_alg {
	const char *name;	/* proposal keyword: "modp2048", "ecp256" */
	uint16_t iana_id;	/* e.g. 14, 19, 31 */
	enum ke_kind kind;
	uint16_t pub_len;	/* KE payload data bytes */
	uint16_t secret_len;	/* shared secret bytes */
	bool legacy;
};

const struct ke_alg *ke_by_name(const char *name);
const struct ke_alg *ke_by_iana(uint16_t id);
const struct ke_alg *ke_at(size_t i);

struct ke;

/* Generate a fresh key pair.  Owned: free with ke_free(). */
int ke_new(const struct ke_alg *alg, struct ke **out);
/*
 * Use a known private value (tests and known answers only): big-endian
 * exponent/scalar for MODP/ECP, RFC 7748 byte string for ECX.
 */
int ke_new_private(const struct ke_alg *alg, const uint8_t *priv,
		   size_t priv_len, struct ke **out);
void ke_free(struct ke *k);
const struct ke_alg *ke_get_alg(const struct ke *k);
/*
 * Our public value in KE payload form, exactly alg->pub_len bytes:
 * MODP zero-padded to the modulus length (RFC 7296 §3.4), ECP x || y
 * (RFC 5903 §7), ECX the u-coordinate (RFC 8031 §2).
 */
int ke_get_public(const struct ke *k, uint8_t *out, size_t out_len);
/*
 * The shared secret, exactly alg->secret_len bytes: MODP g^ir padded to
 * the modulus length, ECP the x-coordinate only (RFC 5903 §7), ECX the
 * X25519/X448 output.  The peer's value is validated first (range for
 * MODP, on-curve for ECP, non-zero result for ECX, RFC 8031 §2.3):
 * ERR_PEERKEY if it is bad.
 */
int ke_derive(struct ke *k, const uint8_t *peer, size_t peer_len,
	      uint8_t *secret, size_t secret_len);

#endif
