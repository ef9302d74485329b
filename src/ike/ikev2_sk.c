/* SPDX-License-Identifier: MIT */
/*
 * SK payload protection, RFC 7296 §3.14 and RFC 5282; see ikev2_sk.h.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "ike/ikev2_sk.h"

#define SK_IV_MAX 16
#define SK_ICV_MAX 32

struct ikev2_sk_ctx {
	const struct encr_alg *encr;
	const struct integ_alg *integ;
	struct encr_ctx *enc_out; /* what we send */
	struct encr_ctx *enc_in;  /* what we receive */
	struct integ_ctx *integ_out;
	struct integ_ctx *integ_in;
	uint64_t iv_counter; /* counter and AEAD modes */
};

void ikev2_sk_free(struct ikev2_sk_ctx *s)
{
	if (!s)
		return;
	encr_ctx_free(s->enc_out);
	encr_ctx_free(s->enc_in);
	integ_ctx_free(s->integ_out);
	integ_ctx_free(s->integ_in);
	crypto_wipe(s, sizeof(*s));
	free(s);
}

int ikev2_sk_new(const struct encr_alg *encr, const struct integ_alg *integ,
		 const struct ike_keys *keys, bool initiator,
		 struct ikev2_sk_ctx **out)
{
	const uint8_t *ke_out, *ke_in, *ka_out, *ka_in;
	struct ikev2_sk_ctx *s;
	int r;

	*out = NULL;
	if (!encr || encr->kind == ENCR_KIND_GMAC ||
	    encr->kind == ENCR_KIND_NULL || encr->aead != !integ ||
	    encr->iv_len > SK_IV_MAX || encr->icv_len > SK_ICV_MAX ||
	    (integ && integ->icv_len > SK_ICV_MAX))
		return ERR_INVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ERR_NOMEM;
	s->encr = encr;
	s->integ = integ;
	/* RFC 7296 §2.14: SK_ei/SK_ai protect the initiator's messages. */
	ke_out = initiator ? keys->sk_ei : keys->sk_er;
	ke_in = initiator ? keys->sk_er : keys->sk_ei;
	ka_out = initiator ? keys->sk_ai : keys->sk_ar;
	ka_in = initiator ? keys->sk_ar : keys->sk_ai;
	r = encr_ctx_new(encr, ke_out, keys->sk_e_len, true, &s->enc_out);
	if (r < 0)
		goto out;
	r = encr_ctx_new(encr, ke_in, keys->sk_e_len, false, &s->enc_in);
	if (r < 0)
		goto out;
	if (integ) {
		r = integ_ctx_new(integ, ka_out, keys->sk_a_len, &s->integ_out);
		if (r < 0)
			goto out;
		r = integ_ctx_new(integ, ka_in, keys->sk_a_len, &s->integ_in);
		if (r < 0)
			goto out;
	}
	*out = s;
	return 0;
out:
	ikev2_sk_free(s);
	return r;
}

size_t ikev2_sk_iv_len(const struct ikev2_sk_ctx *s)
{
	return s->encr->iv_len;
}

size_t ikev2_sk_block(const struct ikev2_sk_ctx *s)
{
	/* RFC 7296 §3.14: only block ciphers need whole blocks; AEAD and
	 * counter modes take any length (RFC 5282 §3, RFC 5930 §2). */
	return s->encr->kind == ENCR_KIND_CBC ? s->encr->block_len : 1;
}

size_t ikev2_sk_icv_len(const struct ikev2_sk_ctx *s)
{
	return s->encr->aead ? s->encr->icv_len : s->integ->icv_len;
}

static int make_iv(struct ikev2_sk_ctx *s, uint8_t *iv, size_t len)
{
	uint8_t ctr[8];

	if (s->encr->kind == ENCR_KIND_CBC)
		return crypto_random(iv, len);
	/* RFC 5282 §3.1 / RFC 5930 §2: the IV must never repeat under a
	 * key; a counter guarantees that where random bits would not. */
	s->iv_counter++;
	if (s->iv_counter == 0)
		return ERR_EXPIRED;
	be64_store(ctr, s->iv_counter);
	memset(iv, 0, len);
	if (len >= 8)
		memcpy(iv + len - 8, ctr, 8);
	else
		memcpy(iv, ctr + 8 - len, len);
	return 0;
}

int ikev2_sk_seal(struct ikev2_sk_ctx *s, uint8_t *msg,
		  const struct ikev2_sk_frame *f)
{
	uint8_t *base = msg + f->msg_off;
	uint8_t *iv = msg + f->iv_off;
	uint8_t *pt = msg + f->pt_off;
	uint8_t *icv = msg + f->icv_off;
	int r;

	if (f->iv_len != s->encr->iv_len || f->icv_len != ikev2_sk_icv_len(s) ||
	    f->pt_len % ikev2_sk_block(s) != 0)
		return ERR_INVAL;
	r = make_iv(s, iv, f->iv_len);
	if (r < 0)
		return r;
	if (s->encr->aead) {
		/* RFC 5282 §5.1: the associated data is the IKE header
		 * and the SK payload header, up to the IV. */
		return aead_seal(s->enc_out, iv, base, f->aad_len, pt,
				 f->pt_len, pt, icv);
	}
	r = cipher_encrypt(s->enc_out, iv, pt, f->pt_len, pt);
	if (r < 0)
		return r;
	/* RFC 7296 §3.14: the checksum covers the whole message from the
	 * IKE header up to the ICV, the encrypted data included. */
	r = integ_init(s->integ_out);
	if (r == 0)
		r = integ_update(s->integ_out, base, f->icv_off - f->msg_off);
	if (r == 0)
		r = integ_final(s->integ_out, icv);
	return r;
}

int ikev2_sk_open(struct ikev2_sk_ctx *s, const uint8_t *dgram,
		  size_t dgram_len, const struct ikev2_msg *msg, uint8_t *pt,
		  size_t pt_cap, size_t *pt_len, uint8_t *first)
{
	struct ikev2_sk sk;
	struct buf b;
	size_t iv_len = s->encr->iv_len, icv_len = ikev2_sk_icv_len(s);
	size_t ct_len, pad;
	const uint8_t *iv, *ct, *icv;
	int r;

	if (msg->sk_index < 0 || (size_t)msg->sk_index >= msg->n)
		return ERR_INVAL;
	r = ikev2_decode_sk(&msg->pl[msg->sk_index], &sk);
	if (r < 0)
		return r;
	if (sk.fragment)
		return ERR_UNSUPPORTED;
	/* RFC 7296 §3.1: the header Length is the whole message, and the
	 * SK payload is the last one (§3.14): its data ends the datagram. */
	if (msg->hdr.length != dgram_len || sk.aad_len > dgram_len ||
	    sk.enc_len != dgram_len - sk.aad_len)
		return ERR_MALFORMED;
	if (sk.enc_len < iv_len + icv_len + 1)
		return ERR_MALFORMED;
	ct_len = sk.enc_len - iv_len - icv_len;
	if (ct_len % ikev2_sk_block(s) != 0 || ct_len > pt_cap)
		return ERR_MALFORMED;
	buf_init(&b, dgram, dgram_len);
	if (buf_skip(&b, sk.aad_len) || buf_get_ptr(&b, &iv, iv_len) ||
	    buf_get_ptr(&b, &ct, ct_len) || buf_get_ptr(&b, &icv, icv_len))
		return ERR_MALFORMED;
	if (s->encr->aead) {
		/* The tag check is part of the open: nothing is released
		 * unless it verifies (RFC 5282 §5). */
		r = aead_open(s->enc_in, iv, dgram, sk.aad_len, ct, ct_len, pt,
			      icv);
		if (r < 0) {
			crypto_wipe(pt, ct_len);
			return r;
		}
	} else {
		/* RFC 7296 §3.14: verify the ICV over everything up to it
		 * before decrypting. */
		r = integ_init(s->integ_in);
		if (r == 0)
			r = integ_update(s->integ_in, dgram,
					 dgram_len - icv_len);
		if (r == 0)
			r = integ_verify(s->integ_in, icv);
		if (r < 0)
			return r;
		r = cipher_decrypt(s->enc_in, iv, ct, ct_len, pt);
		if (r < 0)
			return r;
	}
	/* RFC 7296 §3.14: the last octet is the Pad Length. */
	pad = pt[ct_len - 1];
	if (pad + 1 > ct_len) {
		crypto_wipe(pt, ct_len);
		return ERR_MALFORMED;
	}
	*pt_len = ct_len - pad - 1;
	*first = sk.inner_next;
	return 0;
}
