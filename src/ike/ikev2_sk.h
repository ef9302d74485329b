/* SPDX-License-Identifier: MIT */
/*
 * The Encrypted payload (SK), RFC 7296 §3.14, with AEAD ciphers per
 * RFC 5282 (GCM, CCM) and RFC 7634 (ChaCha20-Poly1305).
 *
 * One struct ikev2_sk_ctx per IKE SA holds the four crypto contexts, made
 * once when the keys are derived: encryption and integrity for what we
 * send (SK_ei/SK_ai for the original initiator, SK_er/SK_ar for the
 * responder, §2.14) and the other pair for what we receive.
 *
 * Sending: build the message with ikev2_sk_begin(b, ikev2_sk_iv_len())
 * ... ikev2_sk_end(b, ikev2_sk_block(), ikev2_sk_icv_len(), &f), then
 * ikev2_sk_seal() encrypts in place in the writer's memory.
 *
 * Receiving: ikev2_parse_msg() the datagram, then ikev2_sk_open() checks
 * the ICV BEFORE decrypting anything (RFC 7296 §3.14: integrity is over
 * the whole message) and writes the plaintext payload chain, padding
 * removed, for ikev2_parse_chain().
 */
#ifndef IPSECD_IKE_IKEV2_SK_H
#define IPSECD_IKE_IKEV2_SK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "ike/ikev2_keymat.h"
#include "ike/ikev2_msg.h"

struct ikev2_sk_ctx;

/*
 * New SK state for an IKE SA.  encr must not be GMAC or NULL; integ must
 * be NULL for an AEAD encr and set otherwise (RFC 5282 §8).  initiator:
 * we are the ORIGINAL initiator of the IKE SA (§2.14: "i" keys protect
 * the initiator's messages).  Owned: free with ikev2_sk_free().
 */
int ikev2_sk_new(const struct encr_alg *encr, const struct integ_alg *integ,
		 const struct ike_keys *keys, bool initiator,
		 struct ikev2_sk_ctx **out);
void ikev2_sk_free(struct ikev2_sk_ctx *s);

/* Arguments for ikev2_sk_begin()/ikev2_sk_end(). */
size_t ikev2_sk_iv_len(const struct ikev2_sk_ctx *s);
size_t ikev2_sk_block(const struct ikev2_sk_ctx *s);
size_t ikev2_sk_icv_len(const struct ikev2_sk_ctx *s);

/*
 * Encrypt in place the message at msg described by f (from
 * ikev2_sk_end): writes the IV, encrypts the plaintext, writes the ICV.
 * CBC gets a random IV (RFC 7296 §3.14: unpredictable); the counter and
 * AEAD modes a per-SA counter, which never repeats under one key
 * (RFC 5282 §3, RFC 3686 §3).
 */
int ikev2_sk_seal(struct ikev2_sk_ctx *s, uint8_t *msg,
		  const struct ikev2_sk_frame *f);

/*
 * Verify and decrypt the SK payload of msg, which was parsed from dgram
 * (dgram_len bytes, no non-ESP marker).  The plaintext chain, without
 * padding and Pad Length, goes to pt (pt_cap bytes; sk->enc_len is
 * always enough), its length to *pt_len, its first payload type to
 * *first.  ERR_AUTH if the ICV does not verify (nothing decrypted),
 * ERR_MALFORMED on bad lengths or padding, ERR_INVAL if msg has no SK.
 * SKF (fragments) is ERR_UNSUPPORTED.  Nothing is logged: the caller
 * knows the peer and logs once, rate-limited.
 */
int ikev2_sk_open(struct ikev2_sk_ctx *s, const uint8_t *dgram,
		  size_t dgram_len, const struct ikev2_msg *msg, uint8_t *pt,
		  size_t pt_cap, size_t *pt_len, uint8_t *first);

#endif
