/* SPDX-License-Identifier: MIT */
/*
 * What a connection needs for certificate authentication (RFC 7296
 * §2.15, §3.6-3.8): how each side authenticates, when we send our
 * certificate, our certificate and key, and the store that checks the
 * peer's.  struct ike_conn is a plain value that IKE SAs copy; this part
 * holds OpenSSL objects, so it is shared and reference-counted:
 * conn.c creates it, ike_sa_new() takes a reference, ike_sa_free() and
 * conn_free() drop theirs.  IKE runs in one thread, so the count is a
 * plain integer.
 *
 * Also here: identities as distinguished names (RFC 7296 §3.5
 * ID_DER_ASN1_DN) in strongSwan's text syntax, and comparing two of them
 * as names (RFC 4945 §3.1.5) rather than octet for octet.
 */
#ifndef IPSECD_IKE_IKE_PKI_H
#define IPSECD_IKE_IKE_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cert_local;
struct cert_store;

enum ike_auth_kind {
	IKE_AUTHK_PSK,
	IKE_AUTHK_PUBKEY,
};

enum ike_send_cert {
	IKE_SEND_CERT_ALWAYS,  /* default: also to peers without CERTREQ */
	IKE_SEND_CERT_IFASKED, /* only after a CERTREQ (RFC 7296 §3.7) */
	IKE_SEND_CERT_NEVER,
};

/* The files a [conn]'s certificate keys name (conn_pki.c), fingerprinted
 * so that a reload sees new contents behind unchanged lines. */
enum ike_pki_file {
	IKE_PKI_CERT,
	IKE_PKI_KEY,
	IKE_PKI_CA,
	IKE_PKI_CRL,
	IKE_PKI_FILES
};

struct ike_pki_fp {
	uint8_t sha256[32]; /* of the contents (of each file, for lists) */
	char path[256];	    /* the value as configured, for the log */
};

struct ike_pki {
	unsigned refs;
	enum ike_auth_kind local_auth;	/* how we prove who we are */
	enum ike_auth_kind remote_auth; /* how the peer must */
	enum ike_send_cert send_cert;
	unsigned sig_flags;	  /* AUTH_SIG_RSA_PSS, SIG_ALLOW_SHA1 */
	struct cert_local *local; /* owned; set iff local_auth is PUBKEY */
	struct cert_store *store; /* owned; set iff remote_auth is PUBKEY */
	struct ike_pki_fp files[IKE_PKI_FILES]; /* path "" if not set */
};

/* A new one with one reference, PSK both ways.  Owned: ike_pki_unref(). */
int ike_pki_new(struct ike_pki **out);
/* Another reference to p (p may be NULL); returns p. */
struct ike_pki *ike_pki_ref(struct ike_pki *p);
/* Drop a reference; the last one frees.  NULL is a no-op. */
void ike_pki_unref(struct ike_pki *p);

/* Does conn's PSK take part (either side authenticates with it)?
 * p NULL: PSK both ways. */
bool ike_pki_uses_psk(const struct ike_pki *p);

/*
 * A DN as strongSwan writes it, "C=CH, O=example, CN=gw-a" (RDNs
 * separated by ',' or '/', attribute names C ST L O OU CN SN
 * serialNumber DC UID E/email, or any OpenSSL knows), into the DER
 * Name of an ID_DER_ASN1_DN.  "asn1dn:#30..." gives the DER in hex.
 * 0; else ERR_INVAL with *why a phrase to put after the value.
 */
int ike_dn_parse(const char *s, uint8_t *der, size_t max, size_t *len,
		 const char **why);
/* Are two DER Names the same name (RFC 5280 §7.1 comparison, via
 * OpenSSL's canonical form)?  false if either does not parse. */
bool ike_dn_equal(const uint8_t *a, size_t a_len, const uint8_t *b,
		  size_t b_len);
/* A DER Name as one line for logs ("C=CH, O=example, CN=gw-a"). */
const char *ike_dn_str(const uint8_t *der, size_t len, char *out, size_t n);

#endif
