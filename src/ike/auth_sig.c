/* SPDX-License-Identifier: MIT */
/*
 * Signature AUTH data: which method and algorithm a key signs with, and
 * the wire form of each method (auth_sig.h).
 */
#include "ike/auth_sig.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "ike/ikev2_wire.h"

/* RFC 7427 §3: the AlgorithmIdentifier length is one octet. */
#define ALGID_MAX 255

const char *auth_sig_hash_name(unsigned hash)
{
	switch (hash) {
	case SIG_HASH_SHA1:
		return "SHA1";
	case SIG_HASH_SHA256:
		return "SHA2-256";
	case SIG_HASH_SHA384:
		return "SHA2-384";
	case SIG_HASH_SHA512:
		return "SHA2-512";
	case SIG_HASH_IDENTITY:
		return "Identity";
	}
	return "?";
}

bool auth_sig_method_ok(uint8_t method)
{
	return method == IKEV2_AUTH_RSA_SIG || method == IKEV2_AUTH_ECDSA_256 ||
	       method == IKEV2_AUTH_ECDSA_384 ||
	       method == IKEV2_AUTH_ECDSA_521 ||
	       method == IKEV2_AUTH_DIGITAL_SIG;
}

static void why_set(char *why, size_t n, const char *fmt, const char *a,
		    const char *b)
{
	if (why && n)
		snprintf(why, n, fmt, a, b);
}

/*
 * The algorithm a legacy method fixes (RFC 7296 §3.8, RFC 4754 §3), and
 * the ECDSA field width it requires of the key (0: RSA).
 */
static const struct sig_alg *legacy_alg(uint8_t method, size_t *flen)
{
	*flen = 0;
	switch (method) {
	case IKEV2_AUTH_RSA_SIG:
		return sig_alg_by_name("rsa-sha1");
	case IKEV2_AUTH_ECDSA_256:
		*flen = 32;
		return sig_alg_by_name("ecdsa-sha256");
	case IKEV2_AUTH_ECDSA_384:
		*flen = 48;
		return sig_alg_by_name("ecdsa-sha384");
	case IKEV2_AUTH_ECDSA_521:
		*flen = 66;
		return sig_alg_by_name("ecdsa-sha512");
	}
	return NULL;
}

static uint8_t ecdsa_method(size_t flen)
{
	return flen == 32   ? IKEV2_AUTH_ECDSA_256
	       : flen == 48 ? IKEV2_AUTH_ECDSA_384
	       : flen == 66 ? IKEV2_AUTH_ECDSA_521
			    : 0;
}

int auth_sig_choose(const struct evp_pkey_st *key, uint32_t peer_hashes,
		    unsigned flags, uint8_t *method, const struct sig_alg **alg,
		    char *why, size_t why_len)
{
	/* Preference orders: ECDSA's own hash first (set below). */
	enum sig_hash order[5] = {SIG_HASH_SHA256, SIG_HASH_SHA384,
				  SIG_HASH_SHA512, SIG_HASH_SHA1, 0};
	enum sig_kind kind;
	char desc[48];
	size_t flen = sig_ec_field_len(key), i;
	uint32_t ok = peer_hashes;

	sig_key_desc(key, desc, sizeof(desc));
	if (!(flags & SIG_ALLOW_SHA1))
		ok &= ~AUTH_SIG_HASH_BIT(SIG_HASH_SHA1);
	if (sig_key_is(key, SIG_KIND_EDDSA)) {
		/* RFC 8420 §2: EdDSA only in method 14, hash Identity. */
		if (!(peer_hashes & AUTH_SIG_HASH_BIT(SIG_HASH_IDENTITY))) {
			why_set(why, why_len,
				"%s needs the peer to announce the Identity "
				"hash (RFC 8420)%s",
				desc,
				peer_hashes ? ""
					    : "; it sent no hash algorithms");
			return ERR_UNSUPPORTED;
		}
		*method = IKEV2_AUTH_DIGITAL_SIG;
		*alg = sig_alg_by_name(sig_key_is_ed448(key) ? "ed448"
							     : "ed25519");
		return 0;
	}
	if (flen) {
		kind = SIG_KIND_ECDSA;
		order[0] = flen == 32	? SIG_HASH_SHA256
			   : flen == 48 ? SIG_HASH_SHA384
					: SIG_HASH_SHA512;
		for (i = 1; i < 3; i++)
			if (order[i] == order[0])
				order[i] = SIG_HASH_SHA256;
	} else if (sig_key_is(key, SIG_KIND_RSA_PKCS1)) {
		kind = (flags & AUTH_SIG_RSA_PSS) ? SIG_KIND_RSA_PSS
						  : SIG_KIND_RSA_PKCS1;
	} else if (sig_key_is(key, SIG_KIND_RSA_PSS)) {
		kind = SIG_KIND_RSA_PSS;
	} else {
		why_set(why, why_len, "%s keys cannot sign IKE AUTH%s", desc,
			"");
		return ERR_UNSUPPORTED;
	}
	if (!peer_hashes) {
		/* RFC 7427 §4: no notify, so only the legacy methods. */
		if (kind == SIG_KIND_ECDSA) {
			*method = ecdsa_method(flen);
			*alg = legacy_alg(*method, &flen);
			return 0;
		}
		if (kind == SIG_KIND_RSA_PKCS1 && (flags & SIG_ALLOW_SHA1)) {
			*method = IKEV2_AUTH_RSA_SIG;
			*alg = legacy_alg(*method, &flen);
			return 0;
		}
		why_set(why, why_len,
			"the peer sent no SIGNATURE_HASH_ALGORITHMS and %s "
			"would need RSA with SHA-1 (method 1)%s",
			desc,
			kind == SIG_KIND_RSA_PSS
				? ", not PSS"
				: ", which is off (allow SHA-1 to use it)");
		return ERR_UNSUPPORTED;
	}
	for (i = 0; order[i]; i++) {
		if (!(ok & AUTH_SIG_HASH_BIT(order[i])))
			continue;
		*alg = sig_alg_find(kind, order[i]);
		if (*alg) {
			*method = IKEV2_AUTH_DIGITAL_SIG;
			return 0;
		}
	}
	why_set(why, why_len,
		"no hash the peer announced fits %s (SHA-1 is %s)", desc,
		(flags & SIG_ALLOW_SHA1) ? "allowed" : "off");
	return ERR_UNSUPPORTED;
}

int auth_sig_sign(uint8_t method, const struct sig_alg *alg,
		  struct evp_pkey_st *key, unsigned flags,
		  const uint8_t *octets, size_t octets_len, struct wbuf *w)
{
	size_t flen, len_at, start;
	int r;

	if (method != IKEV2_AUTH_DIGITAL_SIG) {
		alg = legacy_alg(method, &flen);
		if (!alg)
			return ERR_UNSUPPORTED;
		/* RFC 4754 §3: the curve is part of the method. */
		if (flen && sig_ec_field_len(key) != flen)
			return ERR_UNSUPPORTED;
		return sig_sign(alg, key, flags | (flen ? SIG_ECDSA_RAW : 0),
				octets, octets_len, w);
	}
	if (!alg)
		return ERR_INVAL;
	/* RFC 7427 §3: ASN.1 Length | AlgorithmIdentifier | Signature. */
	r = wbuf_reserve(w, 1, &len_at);
	if (r < 0)
		return r;
	start = w->len;
	r = sig_algid(alg, key, w);
	if (r < 0)
		return r;
	if (w->len - start > ALGID_MAX)
		return ERR_OVERFLOW;
	r = wbuf_patch_u8(w, len_at, (uint8_t)(w->len - start));
	if (r < 0)
		return r;
	/* RFC 7427 §3: ECDSA here is the DER ECDSA-Sig-Value. */
	return sig_sign(alg, key, flags & ~SIG_ECDSA_RAW, octets, octets_len,
			w);
}

int auth_sig_make(struct evp_pkey_st *key, uint32_t peer_hashes, unsigned flags,
		  const uint8_t *octets, size_t octets_len, uint8_t *method,
		  struct wbuf *w, char *why, size_t why_len)
{
	const struct sig_alg *alg = NULL;
	int r;

	r = auth_sig_choose(key, peer_hashes, flags, method, &alg, why,
			    why_len);
	if (r < 0)
		return r;
	r = auth_sig_sign(*method, alg, key, flags, octets, octets_len, w);
	if (r < 0)
		why_set(why, why_len, "signing with %s failed: %s", alg->name,
			err_str(r));
	return r;
}

static int verify_legacy(uint8_t method, struct evp_pkey_st *pub,
			 unsigned flags, const uint8_t *octets,
			 size_t octets_len, const uint8_t *auth,
			 size_t auth_len, const char *desc, char *why,
			 size_t why_len)
{
	const struct sig_alg *alg;
	size_t flen;
	char m[16];
	int r;

	alg = legacy_alg(method, &flen);
	snprintf(m, sizeof(m), "%u", method);
	if (!alg) {
		why_set(why, why_len, "AUTH method %s is not a signature%s", m,
			"");
		return ERR_UNSUPPORTED;
	}
	if (flen ? sig_ec_field_len(pub) != flen : !sig_alg_fits(alg, pub)) {
		why_set(why, why_len,
			"AUTH method %s does not fit the certificate key (%s)",
			m, desc);
		return ERR_UNSUPPORTED;
	}
	if (alg->hash == SIG_HASH_SHA1 && !(flags & SIG_ALLOW_SHA1)) {
		why_set(why, why_len,
			"AUTH method %s is RSA with SHA-1, which is off%s", m,
			" (allow SHA-1 to accept it)");
		return ERR_UNSUPPORTED;
	}
	r = sig_verify(alg, -1, pub, flags | (flen ? SIG_ECDSA_RAW : 0), octets,
		       octets_len, auth, auth_len);
	if (r == ERR_AUTH)
		why_set(why, why_len,
			"%s signature (AUTH method %s) does "
			"not verify",
			alg->name, m);
	return r;
}

int auth_sig_verify(uint8_t method, struct evp_pkey_st *pub, unsigned flags,
		    uint32_t our_hashes, const uint8_t *octets,
		    size_t octets_len, const uint8_t *auth, size_t auth_len,
		    char *why, size_t why_len)
{
	struct sig_algid aid;
	struct buf b;
	const uint8_t *der;
	uint8_t der_len;
	char desc[48];
	int r;

	sig_key_desc(pub, desc, sizeof(desc));
	if (why && why_len)
		why[0] = 0;
	if (!our_hashes)
		our_hashes = AUTH_SIG_HASHES_DEFAULT;
	if (method != IKEV2_AUTH_DIGITAL_SIG)
		return verify_legacy(method, pub, flags, octets, octets_len,
				     auth, auth_len, desc, why, why_len);
	/* RFC 7427 §3. */
	buf_init(&b, auth, auth_len);
	if (buf_get_u8(&b, &der_len) < 0 ||
	    buf_get_ptr(&b, &der, der_len) < 0 || buf_left(&b) == 0) {
		why_set(why, why_len, "RFC 7427 AUTH data too short%s%s", "",
			"");
		return ERR_MALFORMED;
	}
	r = sig_algid_parse(der, der_len, &aid);
	if (r < 0) {
		why_set(why, why_len, "RFC 7427 AlgorithmIdentifier %s%s",
			r == ERR_MALFORMED ? "is malformed"
					   : "names an unsupported algorithm",
			"");
		return r;
	}
	if (!sig_alg_fits(aid.alg, pub)) {
		why_set(why, why_len,
			"%s signature but the certificate key is %s",
			aid.alg->name, desc);
		return ERR_UNSUPPORTED;
	}
	/* RFC 7427 §4: the signer uses a hash we announced. */
	if (!(our_hashes & AUTH_SIG_HASH_BIT(aid.alg->hash)) ||
	    (aid.alg->hash == SIG_HASH_SHA1 && !(flags & SIG_ALLOW_SHA1))) {
		why_set(why, why_len,
			"%s signature uses hash %s, which we do not accept",
			aid.alg->name, auth_sig_hash_name(aid.alg->hash));
		return ERR_UNSUPPORTED;
	}
	r = sig_verify(aid.alg, aid.pss_salt, pub, flags & ~SIG_ECDSA_RAW,
		       octets, octets_len, buf_cur(&b), buf_left(&b));
	if (r == ERR_AUTH)
		why_set(why, why_len,
			"%s signature (AUTH method 14) does not "
			"verify with the certificate key (%s)",
			aid.alg->name, desc);
	return r;
}

const char *auth_sig_alg_name(uint8_t method, const uint8_t *auth, size_t len)
{
	const struct sig_alg *alg;
	struct sig_algid aid;
	const uint8_t *der;
	uint8_t der_len;
	struct buf b;
	size_t flen;

	if (method != IKEV2_AUTH_DIGITAL_SIG) {
		alg = legacy_alg(method, &flen);
		return alg ? alg->name : NULL;
	}
	/* RFC 7427 §3: ASN.1 Length | AlgorithmIdentifier | Signature. */
	buf_init(&b, auth, len);
	if (buf_get_u8(&b, &der_len) < 0 ||
	    buf_get_ptr(&b, &der, der_len) < 0 ||
	    sig_algid_parse(der, der_len, &aid) < 0)
		return NULL;
	return aid.alg->name;
}
