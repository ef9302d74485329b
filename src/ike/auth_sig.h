/* SPDX-License-Identifier: MIT */
/*
 * The AUTH payload data of the signature methods (RFC 7296 §3.8):
 *   1   RSA Digital Signature: RSASSA-PKCS1-v1_5 with SHA-1
 *   9   ECDSA with SHA-256 on P-256   (RFC 4754 §3, r || s, §7)
 *   10  ECDSA with SHA-384 on P-384
 *   11  ECDSA with SHA-512 on P-521
 *   14  Digital Signature (RFC 7427 §3): ASN.1 Length (1 octet) |
 *       AlgorithmIdentifier (DER) | Signature Value, for RSASSA-PSS,
 *       sha*WithRSAEncryption, ecdsa-with-SHA* (DER signature) and
 *       Ed25519/Ed448 (RFC 8420).
 *
 * What is signed are the octets of RFC 7296 §2.15 (InitiatorSignedOctets
 * or ResponderSignedOctets), made by ikev2_signed_octets() in
 * ikev2_keymat.h exactly as for a PSK; this file only signs and checks
 * them.  Keys are borrowed EVP_PKEYs (sig.h).
 *
 * Hash sets are bit masks with bit n set for hash algorithm n of RFC 7427
 * §7 (enum sig_hash: 1 SHA-1 .. 5 Identity), the same convention as
 * ike_sa.peer_sig_hashes.
 */
#ifndef IPSECD_IKE_AUTH_SIG_H
#define IPSECD_IKE_AUTH_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "crypto/sig.h"

#define AUTH_SIG_HASH_BIT(h) (1u << (h))
/* What we announce in SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4, RFC 8420
 * §2): SHA2-256, SHA2-384, SHA2-512, Identity. */
#define AUTH_SIG_HASHES_DEFAULT               \
	(AUTH_SIG_HASH_BIT(SIG_HASH_SHA256) | \
	 AUTH_SIG_HASH_BIT(SIG_HASH_SHA384) | \
	 AUTH_SIG_HASH_BIT(SIG_HASH_SHA512) | \
	 AUTH_SIG_HASH_BIT(SIG_HASH_IDENTITY))

/* Flags: SIG_ALLOW_SHA1 (sig.h) allows method 1 and SHA-1 in method 14
 * both ways; AUTH_SIG_RSA_PSS makes an RSA key sign with RSASSA-PSS in
 * method 14 (default RSASSA-PKCS1-v1_5, which every peer verifies). */
#define AUTH_SIG_RSA_PSS 0x100u

/* Why text buffers: room for one log line. */
#define AUTH_SIG_WHY_MAX 160

/*
 * Choose how key signs for a peer that announced peer_hashes (0: it sent
 * no SIGNATURE_HASH_ALGORITHMS).  RFC 7427 §4: with the notify, method
 * 14 with a hash from the peer's list (ECDSA prefers the hash of its
 * curve's size, RSA SHA2-256, EdDSA needs Identity); without it, the
 * legacy method of the key (9/10/11 by curve, 1 for RSA if SHA-1 is
 * allowed).  *alg is borrowed from sig.h's table.  ERR_UNSUPPORTED with
 * why filled if there is no way (Ed25519 to a peer without Identity).
 */
int auth_sig_choose(const struct evp_pkey_st *key, uint32_t peer_hashes,
		    unsigned flags, uint8_t *method, const struct sig_alg **alg,
		    char *why, size_t why_len);

/*
 * Append the AUTH data (what follows the AUTH payload's method and
 * reserved octets) for method (1, 9, 10, 11 or 14) to w: the signature
 * over octets, with, for 14, the ASN.1 length and AlgorithmIdentifier
 * of alg first.  alg is ignored for 1 and 9-11 (they fix it).
 * ERR_UNSUPPORTED if method and key do not fit (P-384 key for method 9).
 */
int auth_sig_sign(uint8_t method, const struct sig_alg *alg,
		  struct evp_pkey_st *key, unsigned flags,
		  const uint8_t *octets, size_t octets_len, struct wbuf *w);

/* auth_sig_choose() and auth_sig_sign() together; *method gets the
 * method for the AUTH payload. */
int auth_sig_make(struct evp_pkey_st *key, uint32_t peer_hashes, unsigned flags,
		  const uint8_t *octets, size_t octets_len, uint8_t *method,
		  struct wbuf *w, char *why, size_t why_len);

/*
 * Check a peer's AUTH data for method with pub (its certificate's key).
 * our_hashes: what we announced (0: AUTH_SIG_HASHES_DEFAULT); a method
 * 14 signature with another hash is refused.  0 if good; else why gets
 * the reason for the log ("Ed25519 signature but the certificate key is
 * ECDSA P-256") and the result is ERR_AUTH (does not verify),
 * ERR_MALFORMED (bad encoding) or ERR_UNSUPPORTED (method, algorithm or
 * hash not accepted).  Nothing is logged here.
 */
int auth_sig_verify(uint8_t method, struct evp_pkey_st *pub, unsigned flags,
		    uint32_t our_hashes, const uint8_t *octets,
		    size_t octets_len, const uint8_t *auth, size_t auth_len,
		    char *why, size_t why_len);

/* "SHA2-256" etc. for a hash number, "?" if unknown. */
const char *auth_sig_hash_name(unsigned hash);
/* true for the signature methods this file handles. */
bool auth_sig_method_ok(uint8_t method);
/* The signature algorithm of AUTH data of a signature method, for
 * ipsecctl status: "ecdsa-sha256", "rsa-pss-sha384", "ed25519"; NULL if
 * the method is not one of ours or a method 14 AlgorithmIdentifier does
 * not parse. */
const char *auth_sig_alg_name(uint8_t method, const uint8_t *auth, size_t len);

#endif
