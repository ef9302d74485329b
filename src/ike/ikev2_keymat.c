/* SPDX-License-Identifier: MIT */
/*
 * IKEv2 key derivation (RFC 7296 §2.13-§2.18) and the shared-key AUTH
 * value (§2.15).  See ikev2_keymat.h for the contract.
 */
#include "ike/ikev2_keymat.h"

#include <stdbool.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

/* RFC 7296 §2.15: 17 ASCII characters, no terminating NUL. */
static const char key_pad[] = "Key Pad for IKEv2";
#define KEY_PAD_LEN (sizeof(key_pad) - 1)

/* A length with no memory behind it is a caller bug. */
static bool bad_span(const void *p, size_t len)
{
	return len && !p;
}

void ike_keys_wipe(struct ike_keys *k)
{
	if (k)
		crypto_wipe(k, sizeof(*k));
}

void child_keys_wipe(struct child_keys *k)
{
	if (k)
		crypto_wipe(k, sizeof(*k));
}

int ikev2_encr_key_len(const struct encr_alg *encr, size_t *len)
{
	size_t n;

	*len = 0;
	if (!encr)
		return 0;
	/* RFC 5282 §7.1, RFC 3686 §5.1, RFC 7634 §2: the salt is keying
	 * material taken right after the cipher key. */
	n = (size_t)encr->key_len + encr->salt_len;
	if (n > IKE_ENCR_KEY_MAX) {
		log_err(LS_IKE, "keymat: %s needs a %zu-byte key", encr->name,
			n);
		return ERR_UNSUPPORTED;
	}
	*len = n;
	return 0;
}

int ikev2_integ_key_len(const struct integ_alg *integ, size_t *len)
{
	*len = 0;
	if (!integ)
		return 0;
	if (integ->key_len > IKE_INTEG_KEY_MAX) {
		log_err(LS_IKE, "keymat: %s needs a %u-byte key", integ->name,
			integ->key_len);
		return ERR_UNSUPPORTED;
	}
	*len = integ->key_len;
	return 0;
}

/* Append up to three pieces to a growing writer (NULL/0 pieces skipped). */
static int put3(struct wbuf *w, const uint8_t *a, size_t al, const uint8_t *b,
		size_t bl, const uint8_t *c, size_t cl)
{
	if (al)
		wbuf_put_bytes(w, a, al);
	if (bl)
		wbuf_put_bytes(w, b, bl);
	if (cl)
		wbuf_put_bytes(w, c, cl);
	return w->err;
}

int ikev2_skeyseed(const struct prf_alg *pa, const uint8_t *ni, size_t ni_len,
		   const uint8_t *nr, size_t nr_len, const uint8_t *g_ir,
		   size_t g_ir_len, uint8_t *out, size_t out_len)
{
	struct wbuf key;
	size_t half;
	int r;

	if (!pa || !out || bad_span(ni, ni_len) || bad_span(nr, nr_len) ||
	    bad_span(g_ir, g_ir_len))
		return ERR_INVAL;
	if (out_len < pa->out_len)
		return ERR_NOSPACE;
	r = wbuf_init(&key, ni_len + nr_len);
	if (r)
		return r;
	if (pa->kind == MAC_KIND_HMAC) {
		r = put3(&key, ni, ni_len, nr, nr_len, NULL, 0);
	} else {
		/*
		 * RFC 7296 §2.14: AES-XCBC-PRF-128 and AES-CMAC-PRF-128
		 * take only the first 64 bits of Ni and of Nr here (all of
		 * them go into prf+).  Without this, prf() would hash the
		 * long key (RFC 4434 §2, RFC 4615 §3) and peers disagree.
		 */
		half = pa->key_len / 2;
		if (ni_len < half || nr_len < half) {
			log_err(LS_IKE, "keymat: nonces shorter than %zu bytes",
				half);
			r = ERR_INVAL;
			goto out;
		}
		r = put3(&key, ni, half, nr, half, NULL, 0);
	}
	if (!r)
		r = prf(pa, key.p, key.len, g_ir, g_ir_len, out);
out:
	wbuf_free(&key);
	return r;
}

int ikev2_skeyseed_rekey(const struct prf_alg *old_prf, const uint8_t *sk_d_old,
			 size_t sk_d_len, const uint8_t *g_ir, size_t g_ir_len,
			 const uint8_t *ni, size_t ni_len, const uint8_t *nr,
			 size_t nr_len, uint8_t *out, size_t out_len)
{
	struct wbuf data;
	int r;

	if (!old_prf || !out || bad_span(sk_d_old, sk_d_len) ||
	    bad_span(g_ir, g_ir_len) || bad_span(ni, ni_len) ||
	    bad_span(nr, nr_len))
		return ERR_INVAL;
	if (out_len < old_prf->out_len)
		return ERR_NOSPACE;
	/* RFC 7296 §2.18: a rekey MUST include a new DH exchange. */
	if (g_ir_len == 0) {
		log_err(LS_IKE, "keymat: IKE SA rekey without g^ir");
		return ERR_INVAL;
	}
	/* g^ir is secret: wbuf_free() wipes the copy. */
	r = wbuf_init(&data, g_ir_len + ni_len + nr_len);
	if (r)
		return r;
	r = put3(&data, g_ir, g_ir_len, ni, ni_len, nr, nr_len);
	if (!r)
		r = prf(old_prf, sk_d_old, sk_d_len, data.p, data.len, out);
	wbuf_free(&data);
	return r;
}

int ikev2_ike_keymat(const struct prf_alg *pa, const uint8_t *skeyseed,
		     size_t skeyseed_len, const uint8_t *ni, size_t ni_len,
		     const uint8_t *nr, size_t nr_len,
		     const uint8_t spi_i[IKE_SPI_LEN],
		     const uint8_t spi_r[IKE_SPI_LEN], uint8_t *out,
		     size_t out_len)
{
	struct wbuf seed;
	int r;

	if (!pa || !spi_i || !spi_r || bad_span(skeyseed, skeyseed_len) ||
	    bad_span(ni, ni_len) || bad_span(nr, nr_len) ||
	    bad_span(out, out_len))
		return ERR_INVAL;
	r = wbuf_init(&seed, ni_len + nr_len + 2 * IKE_SPI_LEN);
	if (r)
		return r;
	/* RFC 7296 §2.14: S = Ni | Nr | SPIi | SPIr. */
	put3(&seed, ni, ni_len, nr, nr_len, spi_i, IKE_SPI_LEN);
	r = put3(&seed, spi_r, IKE_SPI_LEN, NULL, 0, NULL, 0);
	if (!r)
		r = prf_plus(pa, skeyseed, skeyseed_len, seed.p, seed.len, out,
			     out_len);
	wbuf_free(&seed);
	return r;
}

/* Take the next n octets of the key stream. */
static void take(uint8_t *dst, const uint8_t *km, size_t *off, size_t n)
{
	if (n)
		memcpy(dst, km + *off, n);
	*off += n;
}

int ikev2_derive_ike_keys(const struct prf_alg *pa, const struct encr_alg *encr,
			  const struct integ_alg *integ,
			  const uint8_t *skeyseed, size_t skeyseed_len,
			  const uint8_t *ni, size_t ni_len, const uint8_t *nr,
			  size_t nr_len, const uint8_t spi_i[IKE_SPI_LEN],
			  const uint8_t spi_r[IKE_SPI_LEN],
			  struct ike_keys *keys)
{
	uint8_t km[3 * IKE_PRF_KEY_MAX + 2 * IKE_INTEG_KEY_MAX +
		   2 * IKE_ENCR_KEY_MAX];
	size_t e_len, a_len, p_len, total, off = 0;
	int r;

	if (!keys)
		return ERR_INVAL;
	ike_keys_wipe(keys);
	if (!pa || !encr)
		return ERR_INVAL;
	/*
	 * RFC 5282 §8: with a combined-mode cipher the IKE SA has no
	 * integrity transform; RFC 7296 §3.3.3: otherwise it needs one.
	 */
	if (encr->aead == (integ != NULL)) {
		log_err(LS_IKE, "keymat: %s %s", encr->name,
			encr->aead ? "is AEAD: no integrity transform"
				   : "needs an integrity transform");
		return ERR_INVAL;
	}
	r = ikev2_encr_key_len(encr, &e_len);
	if (!r)
		r = ikev2_integ_key_len(integ, &a_len);
	if (r)
		return r;
	/* RFC 7296 §2.13: SK_d, SK_pi, SK_pr have the PRF's preferred key
	 * length. */
	p_len = pa->key_len;
	if (p_len == 0 || p_len > IKE_PRF_KEY_MAX)
		return ERR_UNSUPPORTED;
	total = 3 * p_len + 2 * a_len + 2 * e_len;
	r = ikev2_ike_keymat(pa, skeyseed, skeyseed_len, ni, ni_len, nr, nr_len,
			     spi_i, spi_r, km, total);
	if (r)
		goto out;
	/* RFC 7296 §2.14: taken in this order from the prf+ stream. */
	take(keys->sk_d, km, &off, p_len);
	take(keys->sk_ai, km, &off, a_len);
	take(keys->sk_ar, km, &off, a_len);
	take(keys->sk_ei, km, &off, e_len);
	take(keys->sk_er, km, &off, e_len);
	take(keys->sk_pi, km, &off, p_len);
	take(keys->sk_pr, km, &off, p_len);
	keys->sk_d_len = (uint8_t)p_len;
	keys->sk_a_len = (uint8_t)a_len;
	keys->sk_e_len = (uint8_t)e_len;
	keys->sk_p_len = (uint8_t)p_len;
out:
	crypto_wipe(km, sizeof(km));
	if (r)
		ike_keys_wipe(keys);
	return r;
}

int ikev2_child_keymat(const struct prf_alg *pa, const uint8_t *sk_d,
		       size_t sk_d_len, const uint8_t *g_ir, size_t g_ir_len,
		       const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		       size_t nr_len, uint8_t *out, size_t out_len)
{
	struct wbuf seed;
	int r;

	if (!pa || bad_span(sk_d, sk_d_len) || bad_span(g_ir, g_ir_len) ||
	    bad_span(ni, ni_len) || bad_span(nr, nr_len) ||
	    bad_span(out, out_len))
		return ERR_INVAL;
	/* The seed may hold g^ir: wbuf_free() wipes it. */
	r = wbuf_init(&seed, g_ir_len + ni_len + nr_len);
	if (r)
		return r;
	/* RFC 7296 §2.17: S = [g^ir (new) |] Ni | Nr. */
	r = put3(&seed, g_ir, g_ir_len, ni, ni_len, nr, nr_len);
	if (!r)
		r = prf_plus(pa, sk_d, sk_d_len, seed.p, seed.len, out,
			     out_len);
	wbuf_free(&seed);
	return r;
}

int ikev2_derive_child_keys(const struct prf_alg *pa, const uint8_t *sk_d,
			    size_t sk_d_len, const uint8_t *g_ir,
			    size_t g_ir_len, const uint8_t *ni, size_t ni_len,
			    const uint8_t *nr, size_t nr_len,
			    const struct encr_alg *encr,
			    const struct integ_alg *integ,
			    struct child_keys *keys)
{
	uint8_t km[2 * (IKE_ENCR_KEY_MAX + IKE_INTEG_KEY_MAX)];
	size_t e_len, a_len, off = 0;
	int r;

	if (!keys)
		return ERR_INVAL;
	child_keys_wipe(keys);
	if (!pa || (!encr && !integ))
		return ERR_INVAL;
	/* A combined-mode cipher carries its own integrity (RFC 4303
	 * §3.2.3); two integrity mechanisms on one SA is a caller bug. */
	if (encr && encr->aead && integ) {
		log_err(LS_IKE, "keymat: %s takes no integrity transform",
			encr->name);
		return ERR_INVAL;
	}
	r = ikev2_encr_key_len(encr, &e_len);
	if (!r)
		r = ikev2_integ_key_len(integ, &a_len);
	if (r)
		return r;
	r = ikev2_child_keymat(pa, sk_d, sk_d_len, g_ir, g_ir_len, ni, ni_len,
			       nr, nr_len, km, 2 * (e_len + a_len));
	if (r)
		goto out;
	/*
	 * RFC 7296 §2.17: initiator-to-responder SA first, then the other;
	 * within each SA the encryption key first, the integrity key next.
	 */
	take(keys->encr_i, km, &off, e_len);
	take(keys->integ_i, km, &off, a_len);
	take(keys->encr_r, km, &off, e_len);
	take(keys->integ_r, km, &off, a_len);
	keys->encr_len = (uint8_t)e_len;
	keys->integ_len = (uint8_t)a_len;
out:
	crypto_wipe(km, sizeof(km));
	if (r)
		child_keys_wipe(keys);
	return r;
}

int ikev2_signed_octets(const struct prf_alg *pa, const uint8_t *sk_p,
			size_t sk_p_len, const uint8_t *msg, size_t msg_len,
			const uint8_t *nonce, size_t nonce_len,
			const uint8_t *id, size_t id_len, struct wbuf *w)
{
	uint8_t maced[IKE_PRF_KEY_MAX];
	int r;

	if (!pa || !w || bad_span(sk_p, sk_p_len) || bad_span(msg, msg_len) ||
	    bad_span(nonce, nonce_len) || bad_span(id, id_len))
		return ERR_INVAL;
	if (pa->out_len > sizeof(maced))
		return ERR_UNSUPPORTED;
	/* RFC 7296 §2.15: MACedIDForI = prf(SK_pi, RestOfInitIDPayload),
	 * and the same with SK_pr for the responder. */
	r = prf(pa, sk_p, sk_p_len, id, id_len, maced);
	if (r)
		goto out;
	/* SignedOctets = RealMessage | NonceData | MACedID */
	r = put3(w, msg, msg_len, nonce, nonce_len, maced, pa->out_len);
out:
	crypto_wipe(maced, sizeof(maced));
	return r;
}

int ikev2_psk_auth(const struct prf_alg *pa, const uint8_t *secret,
		   size_t secret_len, const uint8_t *octets, size_t octets_len,
		   uint8_t *auth, size_t auth_len)
{
	uint8_t k[IKE_PRF_KEY_MAX];
	int r;

	if (!pa || !auth || bad_span(secret, secret_len) ||
	    bad_span(octets, octets_len))
		return ERR_INVAL;
	if (pa->out_len > sizeof(k))
		return ERR_UNSUPPORTED;
	if (auth_len < pa->out_len)
		return ERR_NOSPACE;
	/*
	 * RFC 7296 §2.15: AUTH = prf(prf(Shared Secret, "Key Pad for
	 * IKEv2"), <SignedOctets>).  The pad lets a password-derived secret
	 * be stored as the inner prf value instead of in clear.
	 */
	r = prf(pa, secret, secret_len, (const uint8_t *)key_pad, KEY_PAD_LEN,
		k);
	if (!r)
		r = prf(pa, k, pa->out_len, octets, octets_len, auth);
	crypto_wipe(k, sizeof(k));
	return r;
}

int ikev2_psk_verify(const struct prf_alg *pa, const uint8_t *secret,
		     size_t secret_len, const uint8_t *octets,
		     size_t octets_len, const uint8_t *auth, size_t auth_len)
{
	uint8_t want[IKE_PRF_KEY_MAX];
	int r;

	if (bad_span(auth, auth_len))
		return ERR_INVAL;
	r = ikev2_psk_auth(pa, secret, secret_len, octets, octets_len, want,
			   sizeof(want));
	if (r)
		goto out;
	/* RFC 7296 §3.8: the AUTH data of a shared-key MIC is the full
	 * prf output; any other length cannot match. */
	if (auth_len != pa->out_len || !crypto_memeq(want, auth, pa->out_len))
		r = ERR_AUTH;
out:
	crypto_wipe(want, sizeof(want));
	return r;
}
