/* SPDX-License-Identifier: MIT */
/*
 * X.509 certificates for IKEv2 (RFC 7296 §3.6, §3.7; RFC 4945 profile):
 *   - our own certificate and private key (PEM or DER; RSA, ECDSA,
 *     Ed25519/Ed448), sent as CERT payloads of encoding 4 (X.509
 *     Certificate - Signature, the DER certificate);
 *   - a store of trust anchors, intermediates and CRLs, which checks a
 *     peer's chain (validity, basic constraints, key usage, revocation
 *     when a CRL of that CA is loaded) and gives the CERTREQ data;
 *   - matching an IKE identity against a certificate, with the reason
 *     in words when it does not match;
 *   - issuing keys, certificates, CRLs and PKCS#12 bundles, for
 *     `ipsecctl pki` and the tests.
 *
 * OpenSSL types appear as their struct tags: struct x509_st is X509,
 * struct evp_pkey_st EVP_PKEY, struct X509_crl_st X509_CRL.
 *
 * Errors a peer causes (a bad chain, a mismatching ID) are not logged
 * here: the functions fill a reason text and the IKE code logs it once,
 * rate-limited, with the peer's address.  Local file problems are
 * logged (LS_CFG) where they are found.
 */
#ifndef IPSECD_IKE_CERT_H
#define IPSECD_IKE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"

struct x509_st;
struct evp_pkey_st;
struct X509_crl_st;

/* SHA-1 of a SubjectPublicKeyInfo, one CERTREQ entry (RFC 7296 §3.7). */
#define CERT_KEYID_LEN 20
/* Room for a reason text. */
#define CERT_WHY_MAX 256
/* Peer chain length we look at (end entity plus intermediates). */
#define CERT_CHAIN_MAX 8

/* ---- Loading ---- */

/*
 * Every certificate in a PEM file (one or more), or the one DER
 * certificate of a DER file.  *out is an owned array of n owned X509;
 * free with cert_list_free().  ERR_IO (logged) if unreadable,
 * ERR_MALFORMED (logged) if it holds no certificate.
 */
int cert_load_file(const char *path, struct x509_st ***out, size_t *n);
void cert_list_free(struct x509_st **list, size_t n);

/* A DER certificate of exactly len octets (a CERT payload body after
 * the encoding octet).  Owned: cert_free().  ERR_MALFORMED otherwise. */
int cert_from_der(const uint8_t *der, size_t len, struct x509_st **out);
void cert_free(struct x509_st *c);

/*
 * A CERT payload's content (RFC 7296 §3.6): only encoding 4, X.509
 * Certificate - Signature, is taken (ERR_UNSUPPORTED for others).
 */
int cert_from_payload(uint8_t encoding, const uint8_t *data, size_t len,
		      struct x509_st **out);
/* Append the DER of c to w: the data of a CERT payload of encoding 4. */
int cert_to_der(const struct x509_st *c, struct wbuf *w);

/* ---- Our certificate and key ---- */

struct cert_local;

/*
 * Load our certificate (the first one of cert_path; more certificates
 * in it are taken as its chain, sent after it) and the private key of
 * key_path, which must not be readable by group or others (ERR_PERM,
 * logged) and must belong to the certificate (ERR_CONFIG, logged).
 * Owned: cert_local_free().
 */
int cert_local_load(const char *cert_path, const char *key_path,
		    struct cert_local **out);
/* The same from objects (taken over: freed on failure too). */
int cert_local_new(struct x509_st *cert, struct evp_pkey_st *key,
		   struct cert_local **out);
void cert_local_free(struct cert_local *l);
/* Borrowed, valid while l lives. */
struct x509_st *cert_local_cert(const struct cert_local *l);
struct evp_pkey_st *cert_local_key(const struct cert_local *l);
/* Chain certificates to send after ours (borrowed); i < n. */
size_t cert_local_chain_len(const struct cert_local *l);
struct x509_st *cert_local_chain_at(const struct cert_local *l, size_t i);
/* Add an intermediate to send after our certificate (taken over). */
int cert_local_add_chain(struct cert_local *l, struct x509_st *c);

/* ---- Trust ---- */

struct cert_store;

/* Owned: cert_store_free(). */
int cert_store_new(struct cert_store **out);
void cert_store_free(struct cert_store *s);
/* Trust anchors: every certificate in the file (PEM) or the DER one. */
int cert_store_add_ca_file(struct cert_store *s, const char *path);
/* Intermediates: used to build chains, never trusted by themselves. */
int cert_store_add_intermediate_file(struct cert_store *s, const char *path);
/* A CRL, PEM or DER.  From then on, any certificate whose issuer has a
 * CRL loaded is checked against it. */
int cert_store_add_crl_file(struct cert_store *s, const char *path);
/* The same from objects; the store takes its own reference. */
int cert_store_add_ca(struct cert_store *s, struct x509_st *c);
int cert_store_add_intermediate(struct cert_store *s, struct x509_st *c);
int cert_store_add_crl(struct cert_store *s, struct X509_crl_st *crl);
size_t cert_store_n_ca(const struct cert_store *s);

/*
 * Check a peer's end-entity certificate ee, with the other certificates
 * it sent (peer_chain, n of them, may be 0) as untrusted intermediates,
 * against the store at time now (0: the current time): a path to a trust
 * anchor with valid dates, CA basic constraints on every issuer,
 * revocation by any loaded CRL of an issuer on the path (RFC 5280 §6),
 * and a keyUsage of ee, if present, that allows digitalSignature or
 * nonRepudiation (RFC 4945 §5.1.3.2).  0, or ERR_AUTH with why filled:
 * "certificate has expired (depth 0, CN=gw-b)".
 */
int cert_verify(const struct cert_store *s, struct x509_st *ee,
		struct x509_st *const *peer_chain, size_t n, time_t now,
		char *why, size_t why_len);

/*
 * CERTREQ Certification Authority data (RFC 7296 §3.7): the SHA-1 of
 * each trust anchor's SubjectPublicKeyInfo, concatenated, appended to w.
 */
int cert_store_certreq(const struct cert_store *s, struct wbuf *w);
/* SHA-1 of c's SubjectPublicKeyInfo (DER). */
int cert_keyid(const struct x509_st *c, uint8_t out[CERT_KEYID_LEN]);
/*
 * Is ca's key among the hashes of a peer's CERTREQ data?  false also if
 * data is not a whole number of 20-octet hashes (RFC 7296 §3.7).
 */
bool cert_certreq_lists(const uint8_t *data, size_t len,
			const struct x509_st *ca);

/* ---- Identities ---- */

/*
 * Does the IKE identity (RFC 7296 §3.5 type and data) name c?
 *   ID_DER_ASN1_DN   the subject DN, compared as names (RFC 4945 §3.1.5)
 *   ID_FQDN          a subjectAltName dNSName, case-insensitive (§3.1.3)
 *   ID_RFC822_ADDR   a subjectAltName rfc822Name, case-insensitive
 *   ID_IPV4/6_ADDR   a subjectAltName iPAddress, octet for octet (§3.1.1)
 * 0, or ERR_AUTH with why filled, e.g.
 *   "ID gw-b.example not in subjectAltName (DNS: gw-c.example)";
 * ERR_UNSUPPORTED for other ID types.
 */
int cert_match_id(const struct x509_st *c, uint8_t id_type, const uint8_t *data,
		  size_t len, char *why, size_t why_len);

/* Subject DN as one line ("CN=gw-b, O=Example") for logs. */
const char *cert_subject(const struct x509_st *c, char *out, size_t n);
/* Serial number in upper-case hex as `openssl x509 -serial` prints it
 * ("1F2E..."), for logs and ipsecctl status. */
const char *cert_serial(const struct x509_st *c, char *out, size_t n);
/* The public key of c (borrowed from c). */
struct evp_pkey_st *cert_pubkey(const struct x509_st *c);
/* Subject DN in DER, the data of an ID_DER_ASN1_DN, appended to w. */
int cert_subject_der(const struct x509_st *c, struct wbuf *w);

/* ---- Issuing (ipsecctl pki, tests) ---- */

enum cert_key_type {
	CERT_KEY_ECDSA_P256, /* default */
	CERT_KEY_ECDSA_P384,
	CERT_KEY_RSA3072,
	CERT_KEY_ED25519,
};

/* "ecdsa", "ecdsa384", "rsa3072", "ed25519" -> type; ERR_INVAL. */
int cert_key_type_parse(const char *s, enum cert_key_type *t);
/* A fresh key pair.  Owned: sig_key_free(). */
int cert_keygen(enum cert_key_type t, struct evp_pkey_st **out);

enum cert_role {
	CERT_ROLE_CA,
	CERT_ROLE_SERVER, /* EKU serverAuth + ikeIntermediate */
	CERT_ROLE_CLIENT, /* EKU clientAuth */
};

#define CERT_SAN_MAX 8

struct cert_spec {
	enum cert_role role;
	const char *cn;		       /* subject CN */
	const char *san[CERT_SAN_MAX]; /* "DNS:x", "IP:x", "email:x" */
	size_t n_san;
	long not_before; /* seconds from now (may be < 0) */
	long days;	 /* validity; 0: CA 3650, else 825 */
	/* keyUsage override (X509v3 KU_* bits); 0: by role. */
	unsigned key_usage;
	/* CA: pathLenConstraint 0, may issue only end entities (RFC 5280
	 * §4.2.1.9); for intermediates. */
	bool ca_pathlen0;
	struct evp_pkey_st *key; /* subject key (public part used) */
	/* Issuer; both NULL: self-signed with key. */
	struct x509_st *issuer;
	struct evp_pkey_st *issuer_key;
};

/*
 * Make a certificate: version 3, 128-bit random serial, subject CN,
 * basicConstraints (CA: critical cA=TRUE, pathLenConstraint 0 with
 * ca_pathlen0; else cA=FALSE), keyUsage
 * (critical; CA keyCertSign+cRLSign, else digitalSignature), the EKUs of
 * the role, subjectAltName, subject and authority key identifiers,
 * signed with SHA-256 (none for EdDSA).  SAN strings are checked:
 * ERR_INVAL for a bad one (why filled, if given).  Owned: cert_free().
 */
int cert_issue(const struct cert_spec *spec, struct x509_st **out, char *why,
	       size_t why_len);

/*
 * A CRL of issuer listing the serials of the n revoked certificates,
 * valid from now for days.  Owned: cert_crl_free().
 */
int cert_crl_issue(struct x509_st *issuer, struct evp_pkey_st *key,
		   struct x509_st *const *revoked, size_t n, long days,
		   struct X509_crl_st **out);
void cert_crl_free(struct X509_crl_st *crl);

/* PEM text, appended to w. */
int cert_pem(const struct x509_st *c, struct wbuf *w);
int cert_key_pem(struct evp_pkey_st *key, struct wbuf *w); /* PKCS#8 */
int cert_crl_pem(struct X509_crl_st *crl, struct wbuf *w);

/*
 * A PKCS#12 bundle (RFC 7292) of key, c and ca (may be NULL), protected
 * by pass, with friendly name name, appended to w.  legacy: 3DES and a
 * SHA-1 MAC for old clients that cannot open AES-encrypted bundles,
 * else AES-256-CBC with PBKDF2 and a SHA-256 MAC.
 */
int cert_p12(struct evp_pkey_st *key, struct x509_st *c, struct x509_st *ca,
	     const char *pass, const char *name, bool legacy, struct wbuf *w);

#endif
