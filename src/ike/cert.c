/* SPDX-License-Identifier: MIT */
/*
 * X.509 certificates for IKEv2 (cert.h): loading, chain checks with
 * X509_STORE_CTX, identity matching, CERTREQ hashes, and issuing.
 */
#include "ike/cert.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "crypto/sig.h"
#include "ike/ikev2_wire.h"

#define FILE_MAX (4u << 20)

static void why_fmt(char *why, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void why_fmt(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!why || !n)
		return;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
}

/* Copy text for a log line: anything not printable ASCII becomes '?'. */
static void safe_text(const uint8_t *p, size_t len, char *out, size_t n)
{
	size_t i, k = 0;

	if (!n)
		return;
	for (i = 0; i < len && k + 1 < n; i++)
		out[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[k] = 0;
}

/* ---- Loading ---- */

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *p;
	FILE *f;
	int r = 0;

	f = fopen(path, "rb");
	if (!f) {
		log_err(LS_CFG, "cannot read %s: %m", path);
		return ERR_IO;
	}
	if (fstat(fileno(f), &st) < 0 || st.st_size <= 0 ||
	    (size_t)st.st_size > FILE_MAX) {
		log_err(LS_CFG, "%s: empty, too large or not a file", path);
		fclose(f);
		return ERR_IO;
	}
	p = malloc((size_t)st.st_size);
	if (!p) {
		fclose(f);
		return ERR_NOMEM;
	}
	*len = fread(p, 1, (size_t)st.st_size, f);
	if (*len != (size_t)st.st_size) {
		log_err(LS_CFG, "cannot read %s", path);
		free(p);
		r = ERR_IO;
	} else {
		*out = p;
	}
	fclose(f);
	return r;
}

static bool is_pem(const uint8_t *p, size_t len)
{
	return memmem(p, len, "-----BEGIN ", 11) != NULL;
}

void cert_list_free(struct x509_st **list, size_t n)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < n; i++)
		X509_free(list[i]);
	free(list);
}

/* Every certificate in data (PEM: all of them; DER: exactly one). */
static int certs_from_mem(const uint8_t *data, size_t len, X509 ***out,
			  size_t *n)
{
	X509 **list = NULL, **nl, *c;
	size_t cnt = 0;
	BIO *bio;
	int r = 0;

	if (!is_pem(data, len)) {
		r = cert_from_der(data, len, &c);
		if (r < 0)
			return r;
		list = malloc(sizeof(*list));
		if (!list) {
			X509_free(c);
			return ERR_NOMEM;
		}
		list[0] = c;
		*out = list;
		*n = 1;
		return 0;
	}
	bio = BIO_new_mem_buf(data, (int)len);
	if (!bio)
		return ERR_NOMEM;
	while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		nl = realloc(list, (cnt + 1) * sizeof(*list));
		if (!nl) {
			X509_free(c);
			r = ERR_NOMEM;
			break;
		}
		list = nl;
		list[cnt++] = c;
	}
	ERR_clear_error();
	BIO_free(bio);
	if (r == 0 && cnt == 0)
		r = ERR_MALFORMED;
	if (r < 0) {
		cert_list_free(list, cnt);
		return r;
	}
	*out = list;
	*n = cnt;
	return 0;
}

int cert_load_file(const char *path, struct x509_st ***out, size_t *n)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	*n = 0;
	r = read_file(path, &data, &len);
	if (r < 0)
		return r;
	r = certs_from_mem(data, len, out, n);
	if (r == ERR_MALFORMED)
		log_err(LS_CFG, "%s: no X.509 certificate in it (PEM or DER)",
			path);
	free(data);
	return r;
}

int cert_from_der(const uint8_t *der, size_t len, struct x509_st **out)
{
	const unsigned char *p = der;
	X509 *c;

	*out = NULL;
	if (len == 0 || len > FILE_MAX)
		return ERR_MALFORMED;
	c = d2i_X509(NULL, &p, (long)len);
	ERR_clear_error();
	/* Trailing octets after the certificate are not DER of one. */
	if (!c || p != der + len) {
		X509_free(c);
		return ERR_MALFORMED;
	}
	*out = c;
	return 0;
}

void cert_free(struct x509_st *c)
{
	X509_free(c);
}

int cert_from_payload(uint8_t encoding, const uint8_t *data, size_t len,
		      struct x509_st **out)
{
	*out = NULL;
	/* RFC 7296 §3.6: "X.509 Certificate - Signature" is a DER
	 * certificate; the hash-and-URL and other forms are not taken. */
	if (encoding != IKEV2_CERT_X509_SIG)
		return ERR_UNSUPPORTED;
	return cert_from_der(data, len, out);
}

int cert_to_der(const struct x509_st *c, struct wbuf *w)
{
	unsigned char *p;
	size_t at;
	int n, r;

	n = i2d_X509(c, NULL);
	if (n <= 0)
		return ERR_CRYPTO;
	r = wbuf_reserve(w, (size_t)n, &at);
	if (r < 0)
		return r;
	p = wbuf_at(w, at);
	return i2d_X509(c, &p) == n ? 0 : ERR_CRYPTO;
}

/* ---- Our certificate and key ---- */

struct cert_local {
	X509 *cert;
	EVP_PKEY *key;
	X509 *chain[CERT_CHAIN_MAX];
	size_t n_chain;
};

int cert_local_new(struct x509_st *cert, struct evp_pkey_st *key,
		   struct cert_local **out)
{
	struct cert_local *l;
	char subj[128];

	*out = NULL;
	if (!cert || !key || X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		if (cert)
			log_err(LS_CFG,
				"the private key does not belong to "
				"certificate %s",
				cert_subject(cert, subj, sizeof(subj)));
		X509_free(cert);
		EVP_PKEY_free(key);
		return ERR_CONFIG;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		X509_free(cert);
		EVP_PKEY_free(key);
		return ERR_NOMEM;
	}
	l->cert = cert;
	l->key = key;
	*out = l;
	return 0;
}

int cert_local_load(const char *cert_path, const char *key_path,
		    struct cert_local **out)
{
	X509 **list = NULL;
	EVP_PKEY *key = NULL;
	struct stat st;
	size_t n = 0, i;
	int r;

	*out = NULL;
	if (stat(key_path, &st) < 0) {
		log_err(LS_CFG, "cannot read key %s: %m", key_path);
		return ERR_IO;
	}
	/* Like the PSK files: a key others can read is a configuration
	 * error, not something to warn about and use. */
	if (st.st_mode & 077) {
		log_err(LS_CFG,
			"key %s can be read by group or others "
			"(chmod 600 %s)",
			key_path, key_path);
		return ERR_PERM;
	}
	r = cert_load_file(cert_path, &list, &n);
	if (r < 0)
		return r;
	r = sig_key_load(key_path, &key);
	if (r < 0)
		goto out;
	r = cert_local_new(list[0], key, out);
	list[0] = NULL;
	for (i = 1; r == 0 && i < n; i++) {
		r = cert_local_add_chain(*out, list[i]);
		list[i] = NULL;
	}
	if (r < 0) {
		cert_local_free(*out);
		*out = NULL;
	}
out:
	cert_list_free(list, n);
	return r;
}

void cert_local_free(struct cert_local *l)
{
	size_t i;

	if (!l)
		return;
	X509_free(l->cert);
	EVP_PKEY_free(l->key); /* OpenSSL clears private key material */
	for (i = 0; i < l->n_chain; i++)
		X509_free(l->chain[i]);
	free(l);
}

struct x509_st *cert_local_cert(const struct cert_local *l)
{
	return l->cert;
}

struct evp_pkey_st *cert_local_key(const struct cert_local *l)
{
	return l->key;
}

size_t cert_local_chain_len(const struct cert_local *l)
{
	return l->n_chain;
}

struct x509_st *cert_local_chain_at(const struct cert_local *l, size_t i)
{
	return i < l->n_chain ? l->chain[i] : NULL;
}

int cert_local_add_chain(struct cert_local *l, struct x509_st *c)
{
	if (l->n_chain >= CERT_CHAIN_MAX) {
		X509_free(c);
		return ERR_LIMIT;
	}
	l->chain[l->n_chain++] = c;
	return 0;
}

/* ---- Trust ---- */

struct cert_store {
	X509_STORE *store;
	STACK_OF(X509) * anchors; /* for CERTREQ */
	STACK_OF(X509) * inter;	  /* untrusted path builders */
	size_t n_crl;
};

int cert_store_new(struct cert_store **out)
{
	struct cert_store *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return ERR_NOMEM;
	s->store = X509_STORE_new();
	s->anchors = sk_X509_new_null();
	s->inter = sk_X509_new_null();
	if (!s->store || !s->anchors || !s->inter) {
		cert_store_free(s);
		return ERR_NOMEM;
	}
	*out = s;
	return 0;
}

void cert_store_free(struct cert_store *s)
{
	if (!s)
		return;
	X509_STORE_free(s->store);
	sk_X509_pop_free(s->anchors, X509_free);
	sk_X509_pop_free(s->inter, X509_free);
	free(s);
}

int cert_store_add_ca(struct cert_store *s, struct x509_st *c)
{
	int i;

	/* The same anchor twice is harmless, but must not appear twice in
	 * CERTREQ. */
	for (i = 0; i < sk_X509_num(s->anchors); i++)
		if (!X509_cmp(sk_X509_value(s->anchors, i), c))
			return 0;
	if (X509_STORE_add_cert(s->store, c) != 1) {
		ERR_clear_error();
		return ERR_CRYPTO;
	}
	if (!X509_up_ref(c))
		return ERR_CRYPTO;
	if (!sk_X509_push(s->anchors, c)) {
		X509_free(c);
		return ERR_NOMEM;
	}
	return 0;
}

int cert_store_add_intermediate(struct cert_store *s, struct x509_st *c)
{
	if (!X509_up_ref(c))
		return ERR_CRYPTO;
	if (!sk_X509_push(s->inter, c)) {
		X509_free(c);
		return ERR_NOMEM;
	}
	return 0;
}

int cert_store_add_crl(struct cert_store *s, struct X509_crl_st *crl)
{
	if (X509_STORE_add_crl(s->store, crl) != 1) {
		ERR_clear_error();
		return ERR_CRYPTO;
	}
	s->n_crl++;
	return 0;
}

size_t cert_store_n_ca(const struct cert_store *s)
{
	return (size_t)sk_X509_num(s->anchors);
}

static int add_file(struct cert_store *s, const char *path, bool anchor)
{
	X509 **list = NULL;
	size_t n = 0, i;
	int r;

	r = cert_load_file(path, &list, &n);
	for (i = 0; r == 0 && i < n; i++)
		r = anchor ? cert_store_add_ca(s, list[i])
			   : cert_store_add_intermediate(s, list[i]);
	cert_list_free(list, n);
	return r;
}

int cert_store_add_ca_file(struct cert_store *s, const char *path)
{
	return add_file(s, path, true);
}

int cert_store_add_intermediate_file(struct cert_store *s, const char *path)
{
	return add_file(s, path, false);
}

int cert_store_add_crl_file(struct cert_store *s, const char *path)
{
	X509_CRL *crl = NULL;
	const unsigned char *p;
	uint8_t *data = NULL;
	size_t len = 0;
	BIO *bio;
	int r;

	r = read_file(path, &data, &len);
	if (r < 0)
		return r;
	if (is_pem(data, len)) {
		bio = BIO_new_mem_buf(data, (int)len);
		if (bio)
			crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else {
		p = data;
		crl = d2i_X509_CRL(NULL, &p, (long)len);
	}
	ERR_clear_error();
	free(data);
	if (!crl) {
		log_err(LS_CFG, "%s: no CRL in it (PEM or DER)", path);
		return ERR_MALFORMED;
	}
	r = cert_store_add_crl(s, crl);
	X509_CRL_free(crl);
	return r;
}

/*
 * RFC 5280 §6.3 wants a CRL for every certificate on the path; we check
 * those we have one for and let the others pass, so that loading one CA's
 * CRL does not break every other CA (strongSwan behaves the same way
 * unless told to be strict).
 */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	if (!ok &&
	    X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL)
		return 1;
	return ok;
}

int cert_verify(const struct cert_store *s, struct x509_st *ee,
		struct x509_st *const *peer_chain, size_t n, time_t now,
		char *why, size_t why_len)
{
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	X509 *bad;
	char subj[128];
	unsigned long flags = 0;
	int i, err, r = ERR_NOMEM;

	if (n > CERT_CHAIN_MAX) {
		why_fmt(why, why_len,
			"peer sent %zu certificates (at most "
			"%d are used)",
			n, CERT_CHAIN_MAX);
		return ERR_AUTH;
	}
	ctx = X509_STORE_CTX_new();
	untrusted = sk_X509_new_null();
	if (!ctx || !untrusted)
		goto out;
	for (i = 0; i < sk_X509_num(s->inter); i++)
		if (!sk_X509_push(untrusted, sk_X509_value(s->inter, i)))
			goto out;
	for (i = 0; i < (int)n; i++)
		if (!sk_X509_push(untrusted, peer_chain[i]))
			goto out;
	if (X509_STORE_CTX_init(ctx, s->store, ee, untrusted) != 1)
		goto out;
	if (s->n_crl)
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	if (now)
		X509_STORE_CTX_set_time(ctx, 0, now);
	if (flags)
		X509_STORE_CTX_set_flags(ctx, flags);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		bad = X509_STORE_CTX_get_current_cert(ctx);
		why_fmt(why, why_len, "%s (depth %d, %s)",
			X509_verify_cert_error_string(err),
			X509_STORE_CTX_get_error_depth(ctx),
			bad ? cert_subject(bad, subj, sizeof(subj)) : "?");
		r = ERR_AUTH;
		goto out;
	}
	/* RFC 4945 §5.1.3.2: a keyUsage, if present, must allow
	 * digitalSignature or nonRepudiation for IKE signatures. */
	if ((X509_get_extension_flags(ee) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(ee) &
	      (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))) {
		why_fmt(why, why_len,
			"keyUsage of %s allows no signatures "
			"(needs digitalSignature)",
			cert_subject(ee, subj, sizeof(subj)));
		r = ERR_AUTH;
		goto out;
	}
	r = 0;
out:
	if (r == ERR_NOMEM)
		why_fmt(why, why_len, "out of memory checking the chain");
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted); /* the certificates are borrowed */
	return r;
}

int cert_keyid(const struct x509_st *c, uint8_t out[CERT_KEYID_LEN])
{
	unsigned char *der = NULL;
	int n, r;

	/* RFC 7296 §3.7: SHA-1 of the whole SubjectPublicKeyInfo. */
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c), &der);
	if (n <= 0)
		return ERR_CRYPTO;
	r = crypto_digest("SHA1", der, (size_t)n, out, CERT_KEYID_LEN);
	OPENSSL_free(der);
	return r;
}

int cert_store_certreq(const struct cert_store *s, struct wbuf *w)
{
	uint8_t id[CERT_KEYID_LEN];
	int i, r = 0;

	for (i = 0; r == 0 && i < sk_X509_num(s->anchors); i++) {
		r = cert_keyid(sk_X509_value(s->anchors, i), id);
		if (r == 0)
			r = wbuf_put_bytes(w, id, sizeof(id));
	}
	return r;
}

bool cert_certreq_lists(const uint8_t *data, size_t len,
			const struct x509_st *ca)
{
	uint8_t want[CERT_KEYID_LEN], got[CERT_KEYID_LEN];
	struct buf b;

	if (len == 0 || len % CERT_KEYID_LEN || cert_keyid(ca, want) < 0)
		return false;
	buf_init(&b, data, len);
	while (buf_get_bytes(&b, got, sizeof(got)) == 0)
		if (!memcmp(got, want, sizeof(got)))
			return true;
	return false;
}

/* ---- Identities ---- */

const char *cert_subject(const struct x509_st *c, char *out, size_t n)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long len;

	if (!n)
		return out;
	out[0] = 0;
	if (!bio)
		return out;
	/* "C=XX, O=Example, CN=gw-b", in certificate order, as strongSwan
	 * prints DNs, so the two logs read the same. */
	if (X509_NAME_print_ex(bio, X509_get_subject_name(c), 0,
			       XN_FLAG_SEP_CPLUS_SPC |
				       (ASN1_STRFLGS_RFC2253 &
					~ASN1_STRFLGS_ESC_MSB)) >= 0) {
		len = BIO_get_mem_data(bio, &p);
		safe_text((const uint8_t *)p, (size_t)len, out, n);
	}
	BIO_free(bio);
	return out;
}

const char *cert_serial(const struct x509_st *c, char *out, size_t n)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	if (n)
		snprintf(out, n, "%s", hex ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
	return out;
}

struct evp_pkey_st *cert_pubkey(const struct x509_st *c)
{
	return X509_get0_pubkey(c);
}

int cert_subject_der(const struct x509_st *c, struct wbuf *w)
{
	unsigned char *der = NULL;
	int n, r;

	n = i2d_X509_NAME(X509_get_subject_name(c), &der);
	if (n <= 0)
		return ERR_CRYPTO;
	r = wbuf_put_bytes(w, der, (size_t)n);
	OPENSSL_free(der);
	return r;
}

/* Append "sep text" to a list in out. */
static void list_add(char *out, size_t n, size_t *k, const char *text)
{
	int m;

	if (*k >= n)
		return;
	m = snprintf(out + *k, n - *k, "%s%s", *k ? ", " : "", text);
	if (m > 0)
		*k += (size_t)m < n - *k ? (size_t)m : n - *k;
}

static void gen_text(int type, const ASN1_STRING *v, char *out, size_t n)
{
	const uint8_t *p = ASN1_STRING_get0_data(v);
	int len = ASN1_STRING_length(v);

	if (type == GEN_IPADD && len == 4)
		inet_ntop(AF_INET, p, out, (socklen_t)n);
	else if (type == GEN_IPADD && len == 16)
		inet_ntop(AF_INET6, p, out, (socklen_t)n);
	else
		safe_text(p, (size_t)len, out, n);
}

static int match_san(const X509 *c, int want, const uint8_t *data, size_t len,
		     const char *id_text, char *why, size_t why_len)
{
	static const char *const kind[] = {
		[GEN_DNS] = "DNS", [GEN_EMAIL] = "email", [GEN_IPADD] = "IP"};
	GENERAL_NAMES *gens;
	const ASN1_STRING *v;
	char seen[160], one[80];
	size_t k = 0;
	int i, type, r = ERR_AUTH;

	seen[0] = 0;
	gens = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i),
					    &type);
		if (type != want)
			continue;
		if ((size_t)ASN1_STRING_length(v) == len &&
		    (want == GEN_IPADD
			     ? !memcmp(ASN1_STRING_get0_data(v), data, len)
			     : !strncasecmp(
				       (const char *)ASN1_STRING_get0_data(v),
				       (const char *)data, len) &&
				       !memchr(data, 0, len))) {
			r = 0;
			break;
		}
		gen_text(type, v, one, sizeof(one));
		list_add(seen, sizeof(seen), &k, one);
	}
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
	if (r < 0)
		why_fmt(why, why_len, "ID %s not in subjectAltName (%s: %s)",
			id_text, kind[want], k ? seen : "none");
	return r;
}

int cert_match_id(const struct x509_st *c, uint8_t id_type, const uint8_t *data,
		  size_t len, char *why, size_t why_len)
{
	const unsigned char *p = data;
	char text[128], subj[128];
	X509_NAME *name;
	int r;

	switch (id_type) {
	case IKEV2_ID_FQDN:
		safe_text(data, len, text, sizeof(text));
		return match_san(c, GEN_DNS, data, len, text, why, why_len);
	case IKEV2_ID_RFC822_ADDR:
		safe_text(data, len, text, sizeof(text));
		return match_san(c, GEN_EMAIL, data, len, text, why, why_len);
	case IKEV2_ID_IPV4_ADDR:
	case IKEV2_ID_IPV6_ADDR:
		if (len != (id_type == IKEV2_ID_IPV4_ADDR ? 4u : 16u)) {
			why_fmt(why, why_len,
				"ID of type IP address has %zu "
				"octets",
				len);
			return ERR_AUTH;
		}
		inet_ntop(len == 4 ? AF_INET : AF_INET6, data, text,
			  sizeof(text));
		return match_san(c, GEN_IPADD, data, len, text, why, why_len);
	case IKEV2_ID_DER_ASN1_DN:
		/* RFC 4945 §3.1.5: the DN is the subject, compared as a
		 * name (X509_NAME_cmp uses the canonical form). */
		name = len ? d2i_X509_NAME(NULL, &p, (long)len) : NULL;
		if (!name || p != data + len) {
			X509_NAME_free(name);
			ERR_clear_error();
			why_fmt(why, why_len,
				"ID of type DER_ASN1_DN is not "
				"a DER name");
			return ERR_AUTH;
		}
		r = X509_NAME_cmp(name, X509_get_subject_name(c)) ? ERR_AUTH
								  : 0;
		if (r < 0) {
			BIO *bio = BIO_new(BIO_s_mem());
			char *bp = NULL;
			long bl = 0;

			text[0] = 0;
			if (bio &&
			    X509_NAME_print_ex(
				    bio, name, 0,
				    XN_FLAG_SEP_CPLUS_SPC |
					    (ASN1_STRFLGS_RFC2253 &
					     ~ASN1_STRFLGS_ESC_MSB)) >= 0) {
				bl = BIO_get_mem_data(bio, &bp);
				safe_text((const uint8_t *)bp, (size_t)bl, text,
					  sizeof(text));
			}
			BIO_free(bio);
			why_fmt(why, why_len,
				"ID %s is not the certificate "
				"subject (%s)",
				text, cert_subject(c, subj, sizeof(subj)));
		}
		X509_NAME_free(name);
		return r;
	default:
		why_fmt(why, why_len,
			"ID type %u cannot be matched against "
			"a certificate (use a DN, FQDN, email or IP ID)",
			id_type);
		return ERR_UNSUPPORTED;
	}
}

/* ---- Issuing ---- */

int cert_key_type_parse(const char *s, enum cert_key_type *t)
{
	if (!strcmp(s, "ecdsa") || !strcmp(s, "ecdsa256") || !strcmp(s, "p256"))
		*t = CERT_KEY_ECDSA_P256;
	else if (!strcmp(s, "ecdsa384") || !strcmp(s, "p384"))
		*t = CERT_KEY_ECDSA_P384;
	else if (!strcmp(s, "rsa3072") || !strcmp(s, "rsa"))
		*t = CERT_KEY_RSA3072;
	else if (!strcmp(s, "ed25519"))
		*t = CERT_KEY_ED25519;
	else
		return ERR_INVAL;
	return 0;
}

int cert_keygen(enum cert_key_type t, struct evp_pkey_st **out)
{
	EVP_PKEY *k = NULL;

	switch (t) {
	case CERT_KEY_ECDSA_P256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case CERT_KEY_ECDSA_P384:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case CERT_KEY_RSA3072:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	case CERT_KEY_ED25519:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	}
	*out = k;
	if (!k) {
		log_err(LS_CRYPTO, "key generation failed");
		ERR_clear_error();
		return ERR_CRYPTO;
	}
	return 0;
}

/* Digest to sign a certificate with key: none for EdDSA, else the SHA-2
 * that matches an ECDSA curve, SHA-256 for RSA. */
static const char *cert_md(const EVP_PKEY *key)
{
	size_t f = sig_ec_field_len(key);

	if (sig_key_is(key, SIG_KIND_EDDSA))
		return NULL;
	return f == 48 ? "SHA384" : f == 66 ? "SHA512" : "SHA256";
}

static bool dns_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '.' && !(s[i] == '*' && i == 0))
			return false;
	return true;
}

static bool email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t i;

	if (!at || at == s || strchr(at + 1, '@') || !dns_ok(at + 1))
		return false;
	for (i = 0; s + i < at; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == ',' ||
		    s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

/*
 * One SAN "DNS:x", "IP:x", "email:x" (or a bare value: an address is IP,
 * with '@' email, else DNS) -> the config form OpenSSL's extension
 * parser takes.  Checked first: no ',' can smuggle in another name.
 */
static int san_conf(const char *in, char *out, size_t n)
{
	uint8_t a[16];
	const char *v = in;
	int kind = 0; /* 1 DNS, 2 IP, 3 email */

	if (!strncasecmp(in, "DNS:", 4)) {
		kind = 1;
		v = in + 4;
	} else if (!strncasecmp(in, "IP:", 3)) {
		kind = 2;
		v = in + 3;
	} else if (!strncasecmp(in, "email:", 6)) {
		kind = 3;
		v = in + 6;
	} else if (inet_pton(AF_INET, in, a) == 1 ||
		   inet_pton(AF_INET6, in, a) == 1) {
		kind = 2;
	} else {
		kind = strchr(in, '@') ? 3 : 1;
	}
	if ((kind == 1 && !dns_ok(v)) ||
	    (kind == 2 && inet_pton(AF_INET, v, a) != 1 &&
	     inet_pton(AF_INET6, v, a) != 1) ||
	    (kind == 3 && !email_ok(v)))
		return ERR_INVAL;
	snprintf(out, n, "%s:%s",
		 kind == 1   ? "DNS"
		 : kind == 2 ? "IP"
			     : "email",
		 v);
	return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (!ext)
		return ERR_CRYPTO;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : ERR_CRYPTO;
}

static void ku_text(unsigned ku, char *out, size_t n)
{
	static const struct {
		unsigned bit;
		const char *name;
	} t[] = {
		{KU_DIGITAL_SIGNATURE, "digitalSignature"},
		{KU_NON_REPUDIATION, "nonRepudiation"},
		{KU_KEY_ENCIPHERMENT, "keyEncipherment"},
		{KU_DATA_ENCIPHERMENT, "dataEncipherment"},
		{KU_KEY_AGREEMENT, "keyAgreement"},
		{KU_KEY_CERT_SIGN, "keyCertSign"},
		{KU_CRL_SIGN, "cRLSign"},
	};
	size_t i, k;

	k = (size_t)snprintf(out, n, "critical");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (ku & t[i].bit) {
			k += (size_t)snprintf(out + k, k < n ? n - k : 0, ",%s",
					      t[i].name);
		}
}

static int set_serial(X509 *x)
{
	uint8_t rnd[16];
	BIGNUM *bn;
	int r;

	r = crypto_random(rnd, sizeof(rnd));
	if (r < 0)
		return r;
	/* RFC 5280 §4.1.2.2: positive, at most 20 octets, unique. */
	rnd[0] = (uint8_t)((rnd[0] & 0x7f) | 0x40);
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	if (!bn)
		return ERR_NOMEM;
	r = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ? 0 : ERR_CRYPTO;
	BN_free(bn);
	return r;
}

int cert_issue(const struct cert_spec *spec, struct x509_st **out, char *why,
	       size_t why_len)
{
	X509 *x = NULL;
	X509V3_CTX ctx;
	EVP_PKEY *signer = spec->issuer_key ? spec->issuer_key : spec->key;
	EVP_MD *md = NULL;
	const char *mdname = cert_md(signer), *bc;
	char san[CERT_SAN_MAX * 270], one[270], ku[160];
	long days = spec->days;
	size_t i, k = 0;
	unsigned kus = spec->key_usage;
	int r = ERR_CRYPTO;

	*out = NULL;
	if (!spec->key || !spec->cn || !*spec->cn ||
	    spec->n_san > CERT_SAN_MAX ||
	    (!spec->issuer) != (!spec->issuer_key)) {
		why_fmt(why, why_len, "incomplete certificate request");
		return ERR_INVAL;
	}
	san[0] = 0;
	for (i = 0; i < spec->n_san; i++) {
		if (san_conf(spec->san[i], one, sizeof(one)) < 0) {
			why_fmt(why, why_len,
				"bad subjectAltName '%s' (use "
				"DNS:host.example, IP:192.0.2.1 or "
				"email:user@example)",
				spec->san[i]);
			return ERR_INVAL;
		}
		k += (size_t)snprintf(san + k, sizeof(san) - k, "%s%s",
				      k ? "," : "", one);
	}
	if (!days)
		days = spec->role == CERT_ROLE_CA ? 3650 : 825;
	if (!kus)
		kus = spec->role == CERT_ROLE_CA
			      ? KU_KEY_CERT_SIGN | KU_CRL_SIGN
			      : KU_DIGITAL_SIGNATURE;
	ku_text(kus, ku, sizeof(ku));
	x = X509_new();
	if (!x)
		return ERR_NOMEM;
	if (mdname) {
		md = EVP_MD_fetch(NULL, mdname, NULL);
		if (!md)
			goto out;
	}
	if (!X509_set_version(x, X509_VERSION_3) || set_serial(x) < 0 ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), spec->not_before) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)days,
			      spec->not_before, NULL) ||
	    !X509_NAME_add_entry_by_txt(
		    X509_get_subject_name(x), "CN", MBSTRING_UTF8,
		    (const unsigned char *)spec->cn, -1, -1, 0) ||
	    !X509_set_issuer_name(
		    x, spec->issuer ? X509_get_subject_name(spec->issuer)
				    : X509_get_subject_name(x)) ||
	    !X509_set_pubkey(x, spec->key))
		goto out;
	X509V3_set_ctx(&ctx, spec->issuer ? spec->issuer : x, x, NULL, NULL, 0);
	bc = spec->role != CERT_ROLE_CA ? "CA:FALSE"
	     : spec->ca_pathlen0	? "critical,CA:TRUE,pathlen:0"
					: "critical,CA:TRUE";
	if (add_ext(x, &ctx, NID_basic_constraints, bc) < 0 ||
	    add_ext(x, &ctx, NID_key_usage, ku) < 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0)
		goto out;
	/* Windows and macOS/iOS IKEv2 clients want serverAuth on the
	 * gateway's certificate; ikeIntermediate (1.3.6.1.5.5.8.2.2) is
	 * what older Windows versions looked for. */
	if (spec->role == CERT_ROLE_SERVER &&
	    add_ext(x, &ctx, NID_ext_key_usage,
		    "serverAuth,1.3.6.1.5.5.8.2.2") < 0)
		goto out;
	if (spec->role == CERT_ROLE_CLIENT &&
	    add_ext(x, &ctx, NID_ext_key_usage, "clientAuth") < 0)
		goto out;
	if (spec->n_san && add_ext(x, &ctx, NID_subject_alt_name, san) < 0)
		goto out;
	if (X509_sign(x, signer, md) <= 0)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
out:
	if (r < 0) {
		why_fmt(why, why_len, "OpenSSL could not make the certificate");
		log_err(LS_CRYPTO, "issuing certificate %s failed", spec->cn);
	}
	ERR_clear_error();
	EVP_MD_free(md);
	X509_free(x);
	return r;
}

int cert_crl_issue(struct x509_st *issuer, struct evp_pkey_st *key,
		   struct x509_st *const *revoked, size_t n, long days,
		   struct X509_crl_st **out)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *now = ASN1_TIME_adj(NULL, time(NULL), 0, 0);
	ASN1_TIME *next = ASN1_TIME_adj(NULL, time(NULL), (int)days, 0);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	const char *mdname = cert_md(key);
	EVP_MD *md = NULL;
	X509_REVOKED *rv;
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	size_t i;
	int ok, r = ERR_CRYPTO;

	*out = NULL;
	if (!crl || !now || !next || !num)
		goto out;
	if (mdname && !(md = EVP_MD_fetch(NULL, mdname, NULL)))
		goto out;
	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
	    !X509_CRL_set1_lastUpdate(crl, now) ||
	    !X509_CRL_set1_nextUpdate(crl, next) ||
	    !ASN1_INTEGER_set_int64(num, (int64_t)time(NULL)) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
		goto out;
	/* RFC 5280 §5.2.1: authorityKeyIdentifier, which strongSwan uses to
	 * find the CA a CRL belongs to. */
	X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
				  "keyid:always");
	ok = ext && X509_CRL_add_ext(crl, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ok)
		goto out;
	for (i = 0; i < n; i++) {
		rv = X509_REVOKED_new();
		if (!rv ||
		    !X509_REVOKED_set_serialNumber(
			    rv, X509_get_serialNumber(revoked[i])) ||
		    !X509_REVOKED_set_revocationDate(rv, now) ||
		    !X509_CRL_add0_revoked(crl, rv)) {
			X509_REVOKED_free(rv);
			goto out;
		}
	}
	if (!X509_CRL_sort(crl) || X509_CRL_sign(crl, key, md) <= 0)
		goto out;
	*out = crl;
	crl = NULL;
	r = 0;
out:
	if (r < 0)
		log_err(LS_CRYPTO, "issuing a CRL failed");
	ERR_clear_error();
	EVP_MD_free(md);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
	return r;
}

void cert_crl_free(struct X509_crl_st *crl)
{
	X509_CRL_free(crl);
}

/* Move what a memory BIO holds to w. */
static int bio_to_wbuf(BIO *bio, struct wbuf *w)
{
	char *p;
	long len = BIO_get_mem_data(bio, &p);

	if (len <= 0)
		return ERR_CRYPTO;
	return wbuf_put_bytes(w, p, (size_t)len);
}

int cert_pem(const struct x509_st *c, struct wbuf *w)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int r = ERR_CRYPTO;

	if (bio && PEM_write_bio_X509(bio, c))
		r = bio_to_wbuf(bio, w);
	BIO_free(bio);
	return r;
}

int cert_crl_pem(struct X509_crl_st *crl, struct wbuf *w)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int r = ERR_CRYPTO;

	if (bio && PEM_write_bio_X509_CRL(bio, crl))
		r = bio_to_wbuf(bio, w);
	BIO_free(bio);
	return r;
}

int cert_key_pem(struct evp_pkey_st *key, struct wbuf *w)
{
	/* The secure-heap BIO wipes its memory when freed. */
	BIO *bio = BIO_new(BIO_s_secmem());
	int r = ERR_CRYPTO;

	if (bio &&
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
		r = bio_to_wbuf(bio, w);
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

int cert_p12(struct evp_pkey_st *key, struct x509_st *c, struct x509_st *ca,
	     const char *pass, const char *name, bool legacy, struct wbuf *w)
{
	STACK_OF(X509) *cas = NULL;
	PKCS12 *p12 = NULL;
	EVP_MD *sha1 = NULL;
	unsigned char *der = NULL;
	int nid = legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : 0;
	int n = 0, r = ERR_CRYPTO;

	if (ca) {
		cas = sk_X509_new_null();
		if (!cas || !sk_X509_push(cas, ca))
			goto out;
	}
	/* Legacy: no MAC from PKCS12_create, a SHA-1 one added below; the
	 * default is PBES2 (AES-256-CBC, PBKDF2) with an HMAC-SHA-256 MAC. */
	p12 = PKCS12_create(pass, name, key, c, cas, nid, nid, 0,
			    legacy ? -1 : 0, 0);
	if (!p12)
		goto out;
	if (legacy) {
		sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
		if (!sha1 || !PKCS12_set_mac(p12, pass, -1, NULL, 0,
					     PKCS12_DEFAULT_ITER, sha1))
			goto out;
	}
	n = i2d_PKCS12(p12, &der);
	if (n <= 0)
		goto out;
	r = wbuf_put_bytes(w, der, (size_t)n);
out:
	if (r == ERR_CRYPTO)
		log_err(LS_CRYPTO, "making the PKCS#12 bundle failed");
	ERR_clear_error();
	if (der) {
		OPENSSL_cleanse(der, (size_t)n);
		OPENSSL_free(der);
	}
	EVP_MD_free(sha1);
	PKCS12_free(p12);
	sk_X509_free(cas);
	return r;
}
