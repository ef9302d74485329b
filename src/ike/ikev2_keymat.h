/* SPDX-License-Identifier: MIT */
/*
 * IKEv2 key derivation and the shared-key AUTH payload:
 *   SKEYSEED and the seven SK_* keys of an IKE SA   (RFC 7296 §2.14),
 *   SKEYSEED of a rekeyed IKE SA                     (RFC 7296 §2.18),
 *   KEYMAT of a Child SA and its split into keys     (RFC 7296 §2.17),
 *   the signed octets and the PSK/MSK AUTH value     (RFC 7296 §2.15, §2.16).
 *
 * Everything here is a pure function of its inputs over the PRF and prf+
 * of crypto.h: no state, no allocation that outlives a call.  Algorithm
 * pointers are borrowed from the static tables of crypto.h; pa is always
 * the IKE SA's negotiated PRF.  All input buffers are borrowed.  Key structs
 * are plain values the caller embeds in its SA; whoever owns one calls
 * ike_keys_wipe()/child_keys_wipe() when done with it (the SA's _free).
 *
 * Nonce lengths are not checked against RFC 7296 §2.10 (16..256 octets)
 * here: the codec enforces that on the wire, and the NIST CAVP vectors
 * use shorter ones.
 */
#ifndef IPSECD_IKE_IKEV2_KEYMAT_H
#define IPSECD_IKE_IKEV2_KEYMAT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "crypto/crypto.h"

/* Largest PRF output and preferred key: HMAC-SHA-512 (RFC 4868). */
#define IKE_PRF_KEY_MAX 64
/* Largest encryption key with salt: AES-256 + 4, ChaCha20 + 4. */
#define IKE_ENCR_KEY_MAX 36
/* Largest integrity key: HMAC-SHA-512-256 (RFC 4868 §2.1.2). */
#define IKE_INTEG_KEY_MAX 64
/* IKE SPIs are 8 octets (RFC 7296 §3.1). */
#define IKE_SPI_LEN 8

/*
 * The keys of one IKE SA, RFC 7296 §2.14.  Lengths:
 *   sk_d_len = sk_p_len = the PRF's preferred key length (§2.13);
 *   sk_a_len = the integrity key length, 0 with an AEAD cipher, which
 *              has no integrity transform (RFC 5282 §7);
 *   sk_e_len = cipher key plus salt/nonce (RFC 5282 §7.1: 4 octets for
 *              GCM, 3 for CCM; RFC 5930 §2 for CTR; RFC 7634 §4).
 * "i" keys protect what the original initiator sends, "r" the other
 * direction.
 */
struct ike_keys {
	uint8_t sk_d[IKE_PRF_KEY_MAX];
	uint8_t sk_ai[IKE_INTEG_KEY_MAX];
	uint8_t sk_ar[IKE_INTEG_KEY_MAX];
	uint8_t sk_ei[IKE_ENCR_KEY_MAX];
	uint8_t sk_er[IKE_ENCR_KEY_MAX];
	uint8_t sk_pi[IKE_PRF_KEY_MAX];
	uint8_t sk_pr[IKE_PRF_KEY_MAX];
	uint8_t sk_d_len;
	uint8_t sk_a_len;
	uint8_t sk_e_len;
	uint8_t sk_p_len;
};

/*
 * The keys of one ESP or AH Child SA pair, RFC 7296 §2.17: "i" for the
 * SA carrying data from the initiator to the responder, "r" for the
 * other one.  encr_len includes the salt (RFC 4106 §8.1, RFC 4309 §7.1,
 * RFC 3686 §5.1, RFC 7634 §2); it is 0 for AH.  integ_len is 0 for an
 * AEAD cipher.
 */
struct child_keys {
	uint8_t encr_i[IKE_ENCR_KEY_MAX];
	uint8_t integ_i[IKE_INTEG_KEY_MAX];
	uint8_t encr_r[IKE_ENCR_KEY_MAX];
	uint8_t integ_r[IKE_INTEG_KEY_MAX];
	uint8_t encr_len;
	uint8_t integ_len;
};

/* Wipe every key and length.  NULL does nothing. */
void ike_keys_wipe(struct ike_keys *k);
void child_keys_wipe(struct child_keys *k);

/*
 * Key lengths a transform set needs, without deriving anything:
 * encr may be NULL (AH), integ NULL (AEAD, or none).  ERR_UNSUPPORTED if
 * a key would not fit the structs above.
 */
int ikev2_encr_key_len(const struct encr_alg *encr, size_t *len);
int ikev2_integ_key_len(const struct integ_alg *integ, size_t *len);

/*
 * SKEYSEED = prf(Ni | Nr, g^ir), RFC 7296 §2.14.  For the two PRFs with a
 * fixed 128-bit key (AES-XCBC-PRF-128, AES-CMAC-PRF-128) the key is the
 * first 64 bits of Ni and the first 64 bits of Nr (§2.14; RFC 4306 said
 * "half the bits from Ni and half from Nr"): ERR_INVAL if a nonce is
 * shorter than that.  Writes pa->out_len octets; out_len must be at
 * least that (ERR_NOSPACE).
 */
int ikev2_skeyseed(const struct prf_alg *pa, const uint8_t *ni, size_t ni_len,
		   const uint8_t *nr, size_t nr_len, const uint8_t *g_ir,
		   size_t g_ir_len, uint8_t *out, size_t out_len);

/*
 * Rekeyed IKE SA, RFC 7296 §2.18:
 *   SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
 * with the OLD IKE SA's PRF; Ni and Nr are the CREATE_CHILD_SA nonces.
 * Then derive the new SA's keys with ikev2_derive_ike_keys() using the
 * new PRF and the new SPIs.
 */
int ikev2_skeyseed_rekey(const struct prf_alg *old_prf, const uint8_t *sk_d_old,
			 size_t sk_d_len, const uint8_t *g_ir, size_t g_ir_len,
			 const uint8_t *ni, size_t ni_len, const uint8_t *nr,
			 size_t nr_len, uint8_t *out, size_t out_len);

/*
 * The raw key stream prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), out_len
 * octets (RFC 7296 §2.14).  ikev2_derive_ike_keys() cuts it into keys.
 */
int ikev2_ike_keymat(const struct prf_alg *pa, const uint8_t *skeyseed,
		     size_t skeyseed_len, const uint8_t *ni, size_t ni_len,
		     const uint8_t *nr, size_t nr_len,
		     const uint8_t spi_i[IKE_SPI_LEN],
		     const uint8_t spi_r[IKE_SPI_LEN], uint8_t *out,
		     size_t out_len);

/*
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 *     = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)         (RFC 7296 §2.14)
 * encr is required.  With an AEAD encr, integ must be NULL (RFC 5282 §8:
 * no integrity transform); otherwise integ is required.  ERR_INVAL on a
 * bad combination.  On any error *keys is wiped.
 */
int ikev2_derive_ike_keys(const struct prf_alg *pa, const struct encr_alg *encr,
			  const struct integ_alg *integ,
			  const uint8_t *skeyseed, size_t skeyseed_len,
			  const uint8_t *ni, size_t ni_len, const uint8_t *nr,
			  size_t nr_len, const uint8_t spi_i[IKE_SPI_LEN],
			  const uint8_t spi_r[IKE_SPI_LEN],
			  struct ike_keys *keys);

/*
 * The raw Child SA key stream, RFC 7296 §2.17:
 *   KEYMAT = prf+(SK_d, Ni | Nr)                 (g_ir NULL, g_ir_len 0)
 *   KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr)    (PFS in CREATE_CHILD_SA)
 */
int ikev2_child_keymat(const struct prf_alg *pa, const uint8_t *sk_d,
		       size_t sk_d_len, const uint8_t *g_ir, size_t g_ir_len,
		       const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		       size_t nr_len, uint8_t *out, size_t out_len);

/*
 * The keys of one ESP or AH SA pair from KEYMAT (RFC 7296 §2.17): all
 * keys of the initiator-to-responder SA come first, then the other
 * direction; within one SA the encryption key (if any) comes first and
 * the integrity key (if any) after it (the order §2.17 takes from
 * [IPSECARCH]).  ESP: encr required, integ NULL with AEAD.  AH: encr
 * NULL, integ required.  On any error *keys is wiped.
 */
int ikev2_derive_child_keys(const struct prf_alg *pa, const uint8_t *sk_d,
			    size_t sk_d_len, const uint8_t *g_ir,
			    size_t g_ir_len, const uint8_t *ni, size_t ni_len,
			    const uint8_t *nr, size_t nr_len,
			    const struct encr_alg *encr,
			    const struct integ_alg *integ,
			    struct child_keys *keys);

/*
 * Append the signed octets of RFC 7296 §2.15 to w:
 *   RealMessage | NonceData(peer) | prf(SK_px, RestOfIDPayload)
 * msg is the first message this side sent (IKE_SA_INIT request for the
 * initiator, response for the responder), from the IKE header on,
 * without the four zero octets of port 4500.  nonce is the PEER's nonce
 * data (no payload header).  sk_p is SK_pi for the initiator's octets,
 * SK_pr for the responder's.  id is RestOfIDPayload: the ID payload body
 * after its 4-octet generic header (ID Type | RESERVED | data) exactly as
 * sent or received.  These octets are signed for every AUTH method.
 * Returns w's sticky error (ERR_NOSPACE, ERR_NOMEM) or the PRF's.
 */
int ikev2_signed_octets(const struct prf_alg *pa, const uint8_t *sk_p,
			size_t sk_p_len, const uint8_t *msg, size_t msg_len,
			const uint8_t *nonce, size_t nonce_len,
			const uint8_t *id, size_t id_len, struct wbuf *w);

/*
 * Shared Key Message Integrity Code, RFC 7296 §2.15:
 *   AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
 * With EAP the "secret" is the MSK (§2.16).  Writes pa->out_len octets
 * (ERR_NOSPACE if auth_len is smaller).
 */
int ikev2_psk_auth(const struct prf_alg *pa, const uint8_t *secret,
		   size_t secret_len, const uint8_t *octets, size_t octets_len,
		   uint8_t *auth, size_t auth_len);

/*
 * Check a peer's AUTH data: 0, or ERR_AUTH if it does not match (a wrong
 * length too).  The compare is constant-time.  Nothing is logged: the
 * caller knows the peer and logs the failure (rate-limited) once.
 */
int ikev2_psk_verify(const struct prf_alg *pa, const uint8_t *secret,
		     size_t secret_len, const uint8_t *octets,
		     size_t octets_len, const uint8_t *auth, size_t auth_len);

#endif
