/* SPDX-License-Identifier: MIT */
/*
 * Wireshark decryption-table lines for IKEv2 and ESP keys (keylog.h).
 *
 * The labels below are the strings of Wireshark's UAT enums
 * (epan/dissectors/packet-isakmp.c vs_ikev2_encr_algs and
 * vs_ikev2_auth_algs; packet-ipsec.c esp_encryption_type_vals and
 * esp_authentication_type_vals), which is why they are copied exactly,
 * odd spacing and all.  What Wireshark cannot decrypt:
 *   - IKEv2 with ChaCha20-Poly1305 (no entry in its IKEv2 table);
 *   - ESP with AES-CCM or AES-GMAC (no entry in its ESP table);
 *   - AES-XCBC/CMAC integrity in either table: we fall back to the
 *     "ANY 96 bits, no checking" entries, so packets still decrypt but
 *     their ICVs are not checked.  The IKEv2 table insists that those
 *     entries come with empty SK_ai/SK_ar (it checks the key length).
 * Wireshark 4.0 loads every other record of a table that holds one
 * record it has no label for (it reports the line and skips it); the
 * ESP ChaCha20-Poly1305 label is from later releases and could not be
 * checked with the 4.0 installed here.
 */
#include "ike/keylog.h"

#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"

/* IANA Transform Type 3 IDs with a Wireshark label (RFC 7296 §3.3.2). */
enum {
	INTEG_HMAC_MD5_96 = 1,
	INTEG_HMAC_SHA1_96 = 2,
	INTEG_AES_XCBC_96 = 5,
	INTEG_AES_CMAC_96 = 8,
	INTEG_HMAC_SHA2_256_128 = 12,
	INTEG_HMAC_SHA2_384_192 = 13,
	INTEG_HMAC_SHA2_512_256 = 14,
};

#define IANA_ENCR_3DES 3

/* The IKEv2 table's label for an encryption transform, into buf. */
static int ike_encr_label(const struct encr_alg *e, char *buf, size_t len)
{
	unsigned bits = e->key_len * 8u;

	switch (e->kind) {
	case ENCR_KIND_NULL:
		snprintf(buf, len, "NULL [RFC2410]");
		return 0;
	case ENCR_KIND_CBC:
		if (e->iana_id == IANA_ENCR_3DES)
			snprintf(buf, len, "3DES [RFC2451]");
		else
			snprintf(buf, len, "AES-CBC-%u [RFC3602]", bits);
		return 0;
	case ENCR_KIND_CTR:
		snprintf(buf, len, "AES-CTR-%u [RFC5930]", bits);
		return 0;
	case ENCR_KIND_GCM:
		snprintf(buf, len, "AES-GCM-%u with %u octet ICV [RFC5282]",
			 bits, e->icv_len);
		return 0;
	case ENCR_KIND_CCM:
		snprintf(buf, len, "AES-CCM-%u with %u octet ICV [RFC5282]",
			 bits, e->icv_len);
		return 0;
	case ENCR_KIND_CHACHA:
	case ENCR_KIND_GMAC:
		break;
	}
	return ERR_UNSUPPORTED;
}

static const char *ike_integ_label(const struct integ_alg *i)
{
	if (!i)
		return "NONE [RFC4306]";
	switch (i->iana_id) {
	case INTEG_HMAC_MD5_96:
		return "HMAC_MD5_96 [RFC2403]";
	case INTEG_HMAC_SHA1_96:
		return "HMAC_SHA1_96 [RFC2404]";
	case INTEG_HMAC_SHA2_256_128:
		return "HMAC_SHA2_256_128 [RFC4868]";
	case INTEG_HMAC_SHA2_384_192:
		return "HMAC_SHA2_384_192 [RFC4868]";
	case INTEG_HMAC_SHA2_512_256:
		return "HMAC_SHA2_512_256 [RFC4868]";
	case INTEG_AES_XCBC_96:
	case INTEG_AES_CMAC_96:
		return "ANY 96-bits of Authentication [No Checking]";
	}
	return NULL;
}

static int esp_encr_label(const struct encr_alg *e, char *buf, size_t len)
{
	switch (e->kind) {
	case ENCR_KIND_NULL:
		snprintf(buf, len, "NULL");
		return 0;
	case ENCR_KIND_CBC:
		snprintf(buf, len, "%s",
			 e->iana_id == IANA_ENCR_3DES
				 ? "TripleDES-CBC [RFC2451]"
				 : "AES-CBC [RFC3602]");
		return 0;
	case ENCR_KIND_CTR:
		snprintf(buf, len, "AES-CTR [RFC3686]");
		return 0;
	case ENCR_KIND_GCM:
		snprintf(buf, len, "AES-GCM with %u octet ICV [RFC4106]",
			 e->icv_len);
		return 0;
	case ENCR_KIND_CHACHA:
		snprintf(buf, len, "ChaCha20 with Poly1305 [RFC7634]");
		return 0;
	case ENCR_KIND_CCM:
	case ENCR_KIND_GMAC:
		break;
	}
	return ERR_UNSUPPORTED;
}

static const char *esp_integ_label(const struct integ_alg *i)
{
	if (!i)
		return "NULL";
	switch (i->iana_id) {
	case INTEG_HMAC_MD5_96:
		return "HMAC-MD5-96 [RFC2403]";
	case INTEG_HMAC_SHA1_96:
		return "HMAC-SHA-1-96 [RFC2404]";
	case INTEG_HMAC_SHA2_256_128:
		return "HMAC-SHA-256-128 [RFC4868]";
	case INTEG_HMAC_SHA2_384_192:
		return "HMAC-SHA-384-192 [RFC4868]";
	case INTEG_HMAC_SHA2_512_256:
		return "HMAC-SHA-512-256 [RFC4868]";
	case INTEG_AES_XCBC_96:
	case INTEG_AES_CMAC_96:
		return "ANY 96 bit authentication [no checking]";
	}
	return NULL;
}

static void put_str(struct wbuf *w, const char *s)
{
	wbuf_put_bytes(w, s, strlen(s));
}

/* A text field: "s".  None of our labels or addresses holds a quote. */
static void put_quoted(struct wbuf *w, const char *s)
{
	wbuf_put_u8(w, '"');
	put_str(w, s);
	wbuf_put_u8(w, '"');
}

static void put_hex(struct wbuf *w, const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		wbuf_put_u8(w, (uint8_t)digits[p[i] >> 4]);
		wbuf_put_u8(w, (uint8_t)digits[p[i] & 15]);
	}
}

/* The ESP table's keys are text fields: "0x<hex>", or "" for none. */
static void put_quoted_key(struct wbuf *w, const uint8_t *p, size_t len)
{
	wbuf_put_u8(w, '"');
	if (len) {
		put_str(w, "0x");
		put_hex(w, p, len);
	}
	wbuf_put_u8(w, '"');
}

/* Newline, NUL, and the verdict; a short buffer is left as "". */
static int finish(struct wbuf *w, char *out, size_t cap)
{
	wbuf_put_u8(w, '\n');
	wbuf_put_u8(w, 0);
	if (w->err) {
		/* Do not leave half a line (with key bytes) behind. */
		crypto_wipe(out, cap);
		return w->err;
	}
	return 0;
}

int keylog_ikev2_line(const uint8_t spi_i[IKE_SPI_LEN],
		      const uint8_t spi_r[IKE_SPI_LEN],
		      const struct encr_alg *encr,
		      const struct integ_alg *integ,
		      const struct ike_keys *keys, char *out, size_t cap)
{
	char elabel[64];
	const char *ilabel;
	size_t e_len, a_len;
	struct wbuf w;
	int r;

	if (!spi_i || !spi_r || !encr || !keys || !out || cap == 0)
		return ERR_INVAL;
	r = ikev2_encr_key_len(encr, &e_len);
	if (!r)
		r = ikev2_integ_key_len(integ, &a_len);
	if (r)
		return r;
	if (keys->sk_e_len != e_len || keys->sk_a_len != a_len)
		return ERR_INVAL;
	r = ike_encr_label(encr, elabel, sizeof(elabel));
	ilabel = ike_integ_label(integ);
	if (r || !ilabel)
		return ERR_UNSUPPORTED;
	/* "ANY n-bits [No Checking]" takes no key. */
	if (integ && (integ->iana_id == INTEG_AES_XCBC_96 ||
		      integ->iana_id == INTEG_AES_CMAC_96))
		a_len = 0;
	wbuf_init_fixed(&w, out, cap);
	/* Byte fields are bare hex; an AEAD SA leaves SK_ai/SK_ar empty. */
	put_hex(&w, spi_i, IKE_SPI_LEN);
	wbuf_put_u8(&w, ',');
	put_hex(&w, spi_r, IKE_SPI_LEN);
	wbuf_put_u8(&w, ',');
	put_hex(&w, keys->sk_ei, e_len);
	wbuf_put_u8(&w, ',');
	put_hex(&w, keys->sk_er, e_len);
	wbuf_put_u8(&w, ',');
	put_quoted(&w, elabel);
	wbuf_put_u8(&w, ',');
	put_hex(&w, keys->sk_ai, a_len);
	wbuf_put_u8(&w, ',');
	put_hex(&w, keys->sk_ar, a_len);
	wbuf_put_u8(&w, ',');
	put_quoted(&w, ilabel);
	return finish(&w, out, cap);
}

int keylog_esp_line(const struct sa_params *sa, char *out, size_t cap)
{
	char elabel[64], src[ADDR_STRLEN], dst[ADDR_STRLEN], spi[16];
	const char *ilabel;
	struct wbuf w;
	int r;

	if (!sa || !out || cap == 0)
		return ERR_INVAL;
	if (sa->proto != IPSEC_PROTO_ESP)
		return ERR_UNSUPPORTED;
	if (!sa->encr || sa->src.af != sa->dst.af ||
	    (sa->src.af != AF_INET && sa->src.af != AF_INET6))
		return ERR_INVAL;
	r = esp_encr_label(sa->encr, elabel, sizeof(elabel));
	ilabel = esp_integ_label(sa->integ);
	if (r || !ilabel)
		return ERR_UNSUPPORTED;
	snprintf(spi, sizeof(spi), "0x%08x", sa->spi);
	wbuf_init_fixed(&w, out, cap);
	put_quoted(&w, sa->src.af == AF_INET ? "IPv4" : "IPv6");
	wbuf_put_u8(&w, ',');
	put_quoted(&w, addr_fmt(&sa->src, src, sizeof(src)));
	wbuf_put_u8(&w, ',');
	put_quoted(&w, addr_fmt(&sa->dst, dst, sizeof(dst)));
	wbuf_put_u8(&w, ',');
	put_quoted(&w, spi);
	wbuf_put_u8(&w, ',');
	put_quoted(&w, elabel);
	wbuf_put_u8(&w, ',');
	/* The key as IKE derived it: cipher key then salt (RFC 4106 §8.1),
	 * which is also how Wireshark takes it. */
	put_quoted_key(&w, sa->enc_key, sa->enc_key_len);
	wbuf_put_u8(&w, ',');
	put_quoted(&w, ilabel);
	wbuf_put_u8(&w, ',');
	put_quoted_key(&w, sa->integ_key, sa->integ ? sa->integ_key_len : 0);
	return finish(&w, out, cap);
}
