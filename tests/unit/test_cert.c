/* SPDX-License-Identifier: MIT */
/*
 * Certificates (src/ike/cert.c), with keys and certificates made by the
 * same code `ipsecctl pki` uses (cert_keygen, cert_issue, cert_p12):
 *   1. chains: good (direct and through an intermediate), untrusted CA,
 *      expired, not yet valid, revoked by a CRL, a CRL of another CA,
 *      keyUsage without digitalSignature, an issuer that is no CA;
 *   2. IKE identities against certificates, with the reason texts;
 *   3. CERTREQ hashes (RFC 7296 §3.7), cross-checked with the "keyid"
 *      strongSwan's pki prints (SHA-1 of the SubjectPublicKeyInfo);
 *   4. files in a temporary folder: PEM and DER, key modes, chains,
 *      CRLs; `openssl verify` and strongSwan `pki --print` read them;
 *   5. PKCS#12 bundles (modern and legacy) open with the password only;
 *   6. CERT payload data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/sig.h"
#include "ike/cert.h"
#include "ike/ikev2_wire.h"

static char tmpdir[64];

/* A CA, an intermediate CA under it, and a second, unrelated CA. */
static EVP_PKEY *ca_key, *int_key, *other_key;
static X509 *ca, *inter, *other_ca;

static X509 *issue(enum cert_role role, const char *cn, const char *san0,
		   const char *san1, EVP_PKEY *key, X509 *by, EVP_PKEY *by_key)
{
	struct cert_spec s;
	char why[CERT_WHY_MAX];
	X509 *x = NULL;

	memset(&s, 0, sizeof(s));
	s.role = role;
	s.cn = cn;
	s.key = key;
	s.issuer = by;
	s.issuer_key = by_key;
	if (san0)
		s.san[s.n_san++] = san0;
	if (san1)
		s.san[s.n_san++] = san1;
	assert_int_equal(cert_issue(&s, &x, why, sizeof(why)), 0);
	return x;
}

static EVP_PKEY *keygen(enum cert_key_type t)
{
	EVP_PKEY *k = NULL;

	assert_int_equal(cert_keygen(t, &k), 0);
	return k;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ipsecd-test-cert.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	if (cert_keygen(CERT_KEY_ECDSA_P256, &ca_key) ||
	    cert_keygen(CERT_KEY_ECDSA_P384, &int_key) ||
	    cert_keygen(CERT_KEY_ED25519, &other_key))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	X509_free(ca);
	X509_free(inter);
	X509_free(other_ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(other_key);
	/* Only our own mkdtemp folder. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void make_cas(void)
{
	if (ca)
		return;
	ca = issue(CERT_ROLE_CA, "ipsecd test CA", NULL, NULL, ca_key, NULL,
		   NULL);
	inter = issue(CERT_ROLE_CA, "ipsecd test intermediate", NULL, NULL,
		      int_key, ca, ca_key);
	other_ca = issue(CERT_ROLE_CA, "someone else's CA", NULL, NULL,
			 other_key, NULL, NULL);
}

static struct cert_store *store_with(X509 *anchor)
{
	struct cert_store *s = NULL;

	assert_int_equal(cert_store_new(&s), 0);
	if (anchor)
		assert_int_equal(cert_store_add_ca(s, anchor), 0);
	return s;
}

static void expect_bad(struct cert_store *s, X509 *ee, X509 *const *chain,
		       size_t n, time_t now, const char *reason)
{
	char why[CERT_WHY_MAX] = "";

	assert_int_equal(cert_verify(s, ee, chain, n, now, why, sizeof(why)),
			 ERR_AUTH);
	if (!strstr(why, reason))
		fail_msg("reason '%s' lacks '%s'", why, reason);
}

/* ---- 1. chains ---- */

static void test_chains(void **state)
{
	static const enum cert_key_type types[] = {
		CERT_KEY_ECDSA_P256, CERT_KEY_ECDSA_P384, CERT_KEY_RSA3072,
		CERT_KEY_ED25519};
	struct cert_store *s, *s2;
	struct cert_spec spec;
	EVP_PKEY *k;
	X509 *ee, *ee2, *x;
	X509_CRL *crl;
	char why[CERT_WHY_MAX];
	size_t i;

	(void)state;
	make_cas();
	s = store_with(ca);
	/* Every key type `ipsecctl pki` makes, issued by the CA. */
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		k = keygen(types[i]);
		ee = issue(CERT_ROLE_SERVER, "gw", "DNS:gw.example", NULL, k,
			   ca, ca_key);
		assert_int_equal(
			cert_verify(s, ee, NULL, 0, 0, why, sizeof(why)), 0);
		X509_free(ee);
		EVP_PKEY_free(k);
	}
	/* Through the intermediate, which the peer sends. */
	k = keygen(CERT_KEY_ECDSA_P256);
	ee = issue(CERT_ROLE_CLIENT, "alice", "email:alice@example.org", NULL,
		   k, inter, int_key);
	assert_int_equal(cert_verify(s, ee, &inter, 1, 0, why, sizeof(why)), 0);
	/* Without it there is no path. */
	expect_bad(s, ee, NULL, 0, 0, "unable to get local issuer");
	/* With it configured as intermediate, no path needed from peer. */
	assert_int_equal(cert_store_add_intermediate(s, inter), 0);
	assert_int_equal(cert_verify(s, ee, NULL, 0, 0, why, sizeof(why)), 0);
	/* Another CA's store does not trust it. */
	s2 = store_with(other_ca);
	expect_bad(s2, ee, &inter, 1, 0, "unable to get local issuer");
	/* An empty store trusts nothing. */
	cert_store_free(s2);
	s2 = store_with(NULL);
	expect_bad(s2, ee, &inter, 1, 0, "unable to get local issuer");
	cert_store_free(s2);
	/* Expired in 900 days (825-day validity, the CAs live longer);
	 * not yet valid a day ago. */
	expect_bad(s, ee, NULL, 0, time(NULL) + 900L * 86400,
		   "certificate has expired (depth 0, CN=alice)");
	expect_bad(s, ee, NULL, 0, time(NULL) - 86400,
		   "certificate is not yet valid");
	/* Issued expired: validity ended yesterday. */
	memset(&spec, 0, sizeof(spec));
	spec.role = CERT_ROLE_SERVER;
	spec.cn = "old";
	spec.key = k;
	spec.issuer = ca;
	spec.issuer_key = ca_key;
	spec.not_before = -10L * 86400;
	spec.days = 9;
	assert_int_equal(cert_issue(&spec, &x, why, sizeof(why)), 0);
	expect_bad(s, x, NULL, 0, 0, "certificate has expired");
	X509_free(x);
	/* keyUsage keyEncipherment only: no IKE signatures (RFC 4945). */
	spec.not_before = 0;
	spec.days = 0;
	spec.key_usage = KU_KEY_ENCIPHERMENT;
	assert_int_equal(cert_issue(&spec, &x, why, sizeof(why)), 0);
	expect_bad(s, x, NULL, 0, 0, "keyUsage of CN=old allows no signatures");
	X509_free(x);
	/* nonRepudiation alone is accepted (RFC 4945 §5.1.3.2). */
	spec.key_usage = KU_NON_REPUDIATION;
	assert_int_equal(cert_issue(&spec, &x, why, sizeof(why)), 0);
	assert_int_equal(cert_verify(s, x, NULL, 0, 0, why, sizeof(why)), 0);
	X509_free(x);
	/* An end entity is no CA: what it signs is refused. */
	ee2 = issue(CERT_ROLE_SERVER, "sub", "DNS:sub.example", NULL, k, ee, k);
	expect_bad(s, ee2, &ee, 1, 0, "invalid CA certificate");
	X509_free(ee2);

	/* Revocation: a CRL of the intermediate listing ee. */
	ee2 = issue(CERT_ROLE_CLIENT, "bob", "email:bob@example.org", NULL, k,
		    inter, int_key);
	assert_int_equal(cert_crl_issue(inter, int_key, &ee, 1, 7, &crl), 0);
	assert_int_equal(cert_store_add_crl(s, crl), 0);
	expect_bad(s, ee, NULL, 0, 0,
		   "certificate revoked (depth 0, "
		   "CN=alice)");
	/* bob is not listed; the root has no CRL loaded, which is fine. */
	assert_int_equal(cert_verify(s, ee2, NULL, 0, 0, why, sizeof(why)), 0);
	cert_crl_free(crl);
	/* A CRL of an unrelated CA changes nothing for this chain. */
	s2 = store_with(ca);
	assert_int_equal(cert_crl_issue(other_ca, other_key, NULL, 0, 7, &crl),
			 0);
	assert_int_equal(cert_store_add_crl(s2, crl), 0);
	assert_int_equal(cert_verify(s2, ee, &inter, 1, 0, why, sizeof(why)),
			 0);
	cert_crl_free(crl);
	cert_store_free(s2);
	/* Too many certificates from a peer. */
	{
		X509 *many[CERT_CHAIN_MAX + 1];

		for (i = 0; i <= CERT_CHAIN_MAX; i++)
			many[i] = inter;
		expect_bad(s, ee, many, CERT_CHAIN_MAX + 1, 0, "certificates");
	}
	X509_free(ee);
	X509_free(ee2);
	EVP_PKEY_free(k);
	cert_store_free(s);
	cert_store_free(NULL);
}

/* ---- 2. identities ---- */

static void expect_id(X509 *x, uint8_t type, const void *data, size_t len,
		      int want, const char *reason)
{
	char why[CERT_WHY_MAX] = "";

	assert_int_equal(cert_match_id(x, type, data, len, why, sizeof(why)),
			 want);
	if (reason)
		assert_string_equal(why, reason);
}

static void test_ids(void **state)
{
	struct wbuf dn;
	EVP_PKEY *k;
	X509 *gw, *gw2, *alice, *bare;
	uint8_t v4[4], v6[16];

	(void)state;
	make_cas();
	k = keygen(CERT_KEY_ECDSA_P256);
	gw = issue(CERT_ROLE_SERVER, "gw-c", "DNS:gw-c.example",
		   "IP:192.0.2.20", k, ca, ca_key);
	gw2 = issue(CERT_ROLE_SERVER, "gw-d", "2001:db8::20", "gw-d.example", k,
		    ca, ca_key);
	alice = issue(CERT_ROLE_CLIENT, "alice", "alice@example.org", NULL, k,
		      ca, ca_key);
	bare = issue(CERT_ROLE_SERVER, "bare", NULL, NULL, k, ca, ca_key);

	expect_id(gw, IKEV2_ID_FQDN, "gw-c.example", 12, 0, NULL);
	expect_id(gw, IKEV2_ID_FQDN, "GW-C.Example", 12, 0, NULL);
	expect_id(gw, IKEV2_ID_FQDN, "gw-b.example", 12, ERR_AUTH,
		  "ID gw-b.example not in subjectAltName (DNS: gw-c.example)");
	/* A prefix or a NUL trick is no match. */
	expect_id(gw, IKEV2_ID_FQDN, "gw-c.exampl", 11, ERR_AUTH, NULL);
	expect_id(gw, IKEV2_ID_FQDN, "gw-c.example\0x", 14, ERR_AUTH, NULL);
	/* The CN is not looked at (RFC 4945 §3.1). */
	expect_id(gw, IKEV2_ID_FQDN, "gw-c", 4, ERR_AUTH, NULL);
	expect_id(bare, IKEV2_ID_FQDN, "bare", 4, ERR_AUTH,
		  "ID bare not in subjectAltName (DNS: none)");
	inet_pton(AF_INET, "192.0.2.20", v4);
	expect_id(gw, IKEV2_ID_IPV4_ADDR, v4, 4, 0, NULL);
	inet_pton(AF_INET, "192.0.2.21", v4);
	expect_id(gw, IKEV2_ID_IPV4_ADDR, v4, 4, ERR_AUTH,
		  "ID 192.0.2.21 not in subjectAltName (IP: 192.0.2.20)");
	inet_pton(AF_INET6, "2001:db8::20", v6);
	expect_id(gw2, IKEV2_ID_IPV6_ADDR, v6, 16, 0, NULL);
	expect_id(gw, IKEV2_ID_IPV6_ADDR, v6, 16, ERR_AUTH,
		  "ID 2001:db8::20 not in subjectAltName (IP: 192.0.2.20)");
	expect_id(gw, IKEV2_ID_IPV6_ADDR, v6, 4, ERR_AUTH, NULL);
	expect_id(gw2, IKEV2_ID_FQDN, "gw-d.example", 12, 0, NULL);
	expect_id(alice, IKEV2_ID_RFC822_ADDR, "alice@example.org", 17, 0,
		  NULL);
	expect_id(alice, IKEV2_ID_RFC822_ADDR, "bob@example.org", 15, ERR_AUTH,
		  "ID bob@example.org not in subjectAltName (email: "
		  "alice@example.org)");
	expect_id(alice, IKEV2_ID_FQDN, "example.org", 11, ERR_AUTH,
		  "ID example.org not in subjectAltName (DNS: none)");
	/* DER_ASN1_DN: the subject. */
	assert_int_equal(wbuf_init(&dn, 64), 0);
	assert_int_equal(cert_subject_der(gw, &dn), 0);
	expect_id(gw, IKEV2_ID_DER_ASN1_DN, dn.p, dn.len, 0, NULL);
	expect_id(alice, IKEV2_ID_DER_ASN1_DN, dn.p, dn.len, ERR_AUTH,
		  "ID CN=gw-c is not the certificate subject (CN=alice)");
	expect_id(gw, IKEV2_ID_DER_ASN1_DN, dn.p, dn.len - 1, ERR_AUTH,
		  "ID of type DER_ASN1_DN is not a DER name");
	wbuf_free(&dn);
	expect_id(gw, IKEV2_ID_KEY_ID, "\x01\x02", 2, ERR_UNSUPPORTED, NULL);

	X509_free(gw);
	X509_free(gw2);
	X509_free(alice);
	X509_free(bare);
	EVP_PKEY_free(k);
}

/* ---- helpers for files ---- */

static void write_file(const char *name, const void *p, size_t len, mode_t mode,
		       char *path, size_t n)
{
	FILE *f;

	snprintf(path, n, "%s/%s", tmpdir, name);
	unlink(path);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void write_pem(const char *name, X509 *x, char *path, size_t n)
{
	struct wbuf w;

	assert_int_equal(wbuf_init(&w, 1024), 0);
	assert_int_equal(cert_pem(x, &w), 0);
	write_file(name, w.p, w.len, 0644, path, n);
	wbuf_free(&w);
}

static bool have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/* Run a shell command quietly; its exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- 3. CERTREQ ---- */

static void test_certreq(void **state)
{
	struct cert_store *s;
	struct wbuf w;
	uint8_t id[CERT_KEYID_LEN];
	char path[256], line[512], hex[64];
	FILE *p;
	size_t i;
	bool seen = false;

	(void)state;
	make_cas();
	s = store_with(ca);
	assert_int_equal(cert_store_add_ca(s, other_ca), 0);
	assert_int_equal(cert_store_add_ca(s, ca), 0); /* once only */
	assert_int_equal(cert_store_n_ca(s), 2);
	assert_int_equal(wbuf_init(&w, 64), 0);
	assert_int_equal(cert_store_certreq(s, &w), 0);
	assert_int_equal(w.len, 2 * CERT_KEYID_LEN);
	assert_true(cert_certreq_lists(w.p, w.len, ca));
	assert_true(cert_certreq_lists(w.p, w.len, other_ca));
	assert_false(cert_certreq_lists(w.p, w.len, inter));
	assert_false(cert_certreq_lists(w.p, w.len - 1, ca));
	assert_false(cert_certreq_lists(w.p, 0, ca));
	assert_int_equal(cert_keyid(ca, id), 0);
	assert_memory_equal(w.p, id, CERT_KEYID_LEN);
	wbuf_free(&w);
	cert_store_free(s);

	/* strongSwan prints the same SHA-1 as "keyid". */
	if (!have("pki")) {
		print_message("# skip: strongSwan pki not installed\n");
		return;
	}
	write_pem("ca-keyid.crt", ca, path, sizeof(path));
	for (i = 0; i < CERT_KEYID_LEN; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x%s", id[i],
			 i + 1 < CERT_KEYID_LEN ? ":" : "");
	snprintf(line, sizeof(line), "pki --print --in '%s' 2>/dev/null", path);
	p = popen(line, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		if (strstr(line, "keyid:") && strstr(line, hex))
			seen = true;
	assert_int_equal(pclose(p), 0);
	if (!seen)
		fail_msg("pki --print shows no keyid %s", hex);
}

/* ---- 4. files ---- */

static void test_files(void **state)
{
	struct cert_store *s;
	struct cert_local *l = NULL;
	struct wbuf w;
	EVP_PKEY *k, *k2;
	X509 *ee, *revoked, **list = NULL;
	X509_CRL *crl;
	unsigned char *der = NULL;
	char ca_pem[256], int_pem[256], ee_pem[256], chain_pem[256],
		key_pem[256], key_der[256], ee_der[256], crl_pem[256],
		crl_der[256], two_ca[256], rev_pem[256], why[CERT_WHY_MAX];
	size_t n = 0;
	int len;

	(void)state;
	make_cas();
	k = keygen(CERT_KEY_ECDSA_P256);
	k2 = keygen(CERT_KEY_ECDSA_P256);
	ee = issue(CERT_ROLE_SERVER, "gw-a.example", "DNS:gw-a.example",
		   "IP:192.0.2.10", k, inter, int_key);
	revoked = issue(CERT_ROLE_CLIENT, "mallory", "email:m@example.org",
			NULL, k2, inter, int_key);
	write_pem("ca.crt", ca, ca_pem, sizeof(ca_pem));
	write_pem("inter.crt", inter, int_pem, sizeof(int_pem));
	write_pem("gw.crt", ee, ee_pem, sizeof(ee_pem));
	write_pem("mallory.crt", revoked, rev_pem, sizeof(rev_pem));
	/* Our certificate followed by its intermediate, one file. */
	assert_int_equal(wbuf_init(&w, 2048), 0);
	assert_int_equal(cert_pem(ee, &w), 0);
	assert_int_equal(cert_pem(inter, &w), 0);
	write_file("gw-chain.crt", w.p, w.len, 0644, chain_pem,
		   sizeof(chain_pem));
	wbuf_free(&w);
	assert_int_equal(wbuf_init(&w, 2048), 0);
	assert_int_equal(cert_pem(ca, &w), 0);
	assert_int_equal(cert_pem(other_ca, &w), 0);
	write_file("cas.crt", w.p, w.len, 0644, two_ca, sizeof(two_ca));
	wbuf_free(&w);
	assert_int_equal(wbuf_init(&w, 512), 0);
	assert_int_equal(cert_key_pem(k, &w), 0);
	write_file("gw.key", w.p, w.len, 0644, key_pem, sizeof(key_pem));
	wbuf_free(&w);
	len = i2d_PrivateKey(k, &der);
	assert_true(len > 0);
	write_file("gw.der.key", der, (size_t)len, 0600, key_der,
		   sizeof(key_der));
	OPENSSL_clear_free(der, (size_t)len);
	der = NULL;
	len = i2d_X509(ee, &der);
	write_file("gw.der", der, (size_t)len, 0644, ee_der, sizeof(ee_der));
	OPENSSL_free(der);
	der = NULL;
	assert_int_equal(cert_crl_issue(inter, int_key, &revoked, 1, 30, &crl),
			 0);
	assert_int_equal(wbuf_init(&w, 512), 0);
	assert_int_equal(cert_crl_pem(crl, &w), 0);
	write_file("inter.crl", w.p, w.len, 0644, crl_pem, sizeof(crl_pem));
	wbuf_free(&w);
	len = i2d_X509_CRL(crl, &der);
	write_file("inter.der.crl", der, (size_t)len, 0644, crl_der,
		   sizeof(crl_der));
	OPENSSL_free(der);
	cert_crl_free(crl);

	/* A key others can read is refused; at 0600 it loads. */
	assert_int_equal(cert_local_load(chain_pem, key_pem, &l), ERR_PERM);
	assert_null(l);
	assert_int_equal(chmod(key_pem, 0600), 0);
	assert_int_equal(cert_local_load(chain_pem, key_pem, &l), 0);
	assert_int_equal(cert_local_chain_len(l), 1);
	assert_int_equal(X509_cmp(cert_local_chain_at(l, 0), inter), 0);
	assert_int_equal(X509_cmp(cert_local_cert(l), ee), 0);
	assert_int_equal(EVP_PKEY_eq(cert_local_key(l), k), 1);
	cert_local_free(l);
	/* DER certificate and DER key. */
	assert_int_equal(cert_local_load(ee_der, key_der, &l), 0);
	assert_int_equal(cert_local_chain_len(l), 0);
	cert_local_free(l);
	cert_local_free(NULL);
	/* The key of another certificate. */
	assert_int_equal(cert_local_load(rev_pem, key_pem, &l), ERR_CONFIG);
	/* Not a certificate at all. */
	assert_int_equal(cert_load_file(key_pem, &list, &n), ERR_MALFORMED);
	assert_int_equal(cert_load_file("/nonexistent.crt", &list, &n), ERR_IO);

	/* A store from files. */
	assert_int_equal(cert_store_new(&s), 0);
	assert_int_equal(cert_store_add_ca_file(s, two_ca), 0);
	assert_int_equal(cert_store_n_ca(s), 2);
	assert_int_equal(cert_store_add_intermediate_file(s, int_pem), 0);
	assert_int_equal(cert_verify(s, ee, NULL, 0, 0, why, sizeof(why)), 0);
	assert_int_equal(cert_verify(s, revoked, NULL, 0, 0, why, sizeof(why)),
			 0);
	assert_int_equal(cert_store_add_crl_file(s, crl_der), 0);
	expect_bad(s, revoked, NULL, 0, 0, "certificate revoked");
	assert_int_equal(cert_verify(s, ee, NULL, 0, 0, why, sizeof(why)), 0);
	assert_int_equal(cert_store_add_crl_file(s, crl_pem), 0);
	assert_int_equal(cert_store_add_crl_file(s, ca_pem), ERR_MALFORMED);
	cert_store_free(s);

	/* The same files through OpenSSL's and strongSwan's tools. */
	if (have("openssl")) {
		assert_int_equal(run("openssl verify -CAfile '%s' -untrusted "
				     "'%s' '%s' >/dev/null 2>&1",
				     ca_pem, int_pem, ee_pem),
				 0);
		assert_int_equal(run("openssl verify -CAfile '%s' -untrusted "
				     "'%s' '%s' >/dev/null 2>&1",
				     ca_pem, int_pem, rev_pem),
				 0);
		/* With the CRL, OpenSSL refuses mallory too. */
		assert_int_not_equal(run("openssl verify -crl_check -CAfile "
					 "'%s' -untrusted '%s' -CRLfile '%s' "
					 "'%s' >/dev/null 2>&1",
					 ca_pem, int_pem, crl_pem, rev_pem),
				     0);
		assert_int_equal(run("openssl verify -crl_check -CAfile '%s' "
				     "-untrusted '%s' -CRLfile '%s' '%s' "
				     ">/dev/null 2>&1",
				     ca_pem, int_pem, crl_pem, ee_pem),
				 0);
		/* Not trusted without the root. */
		assert_int_not_equal(run("openssl verify -CAfile '%s' '%s' "
					 ">/dev/null 2>&1",
					 int_pem, ee_pem),
				     0);
	} else {
		print_message("# skip: openssl not installed\n");
	}
	if (have("pki")) {
		assert_int_equal(run("pki --print --in '%s' 2>/dev/null | "
				     "grep -q 'altNames:  gw-a.example, "
				     "192.0.2.10'",
				     ee_pem),
				 0);
		assert_int_equal(run("pki --print --in '%s' 2>/dev/null | "
				     "grep -q 'serverAuth ikeIntermediate'",
				     ee_pem),
				 0);
		assert_int_equal(
			run("pki --print --type crl --in '%s' "
			    "2>/dev/null | grep -q '1 revoked certificate'",
			    crl_pem),
			0);
		assert_int_equal(
			run("pki --print --type crl --in '%s' "
			    "2>/dev/null | grep -q 'authKeyId: [0-9a-f]'",
			    crl_pem),
			0);
		assert_int_equal(run("pki --print --type priv --in '%s' "
				     "2>/dev/null | grep -q 'ECDSA 256'",
				     key_pem),
				 0);
		assert_int_equal(run("pki --verify --in '%s' --cacert '%s' "
				     "--cacert '%s' >/dev/null 2>&1",
				     ee_pem, int_pem, ca_pem),
				 0);
	} else {
		print_message("# skip: strongSwan pki not installed\n");
	}
	X509_free(ee);
	X509_free(revoked);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* ---- 5. PKCS#12 ---- */

static void test_p12(void **state)
{
	struct wbuf w;
	PKCS12 *p12;
	EVP_PKEY *k, *got_k = NULL;
	X509 *ee, *got_c = NULL;
	STACK_OF(X509) *got_ca = NULL;
	const unsigned char *p;
	char path[256];
	int legacy;

	(void)state;
	make_cas();
	k = keygen(CERT_KEY_ECDSA_P256);
	ee = issue(CERT_ROLE_CLIENT, "carol", "email:carol@example.org", NULL,
		   k, ca, ca_key);
	for (legacy = 0; legacy < 2; legacy++) {
		assert_int_equal(wbuf_init(&w, 4096), 0);
		assert_int_equal(
			cert_p12(k, ee, ca, "s3cret", "carol", legacy, &w), 0);
		p = w.p;
		p12 = d2i_PKCS12(NULL, &p, (long)w.len);
		assert_non_null(p12);
		assert_int_equal(PKCS12_verify_mac(p12, "wrong", -1), 0);
		assert_int_equal(
			PKCS12_parse(p12, "wrong", &got_k, &got_c, &got_ca), 0);
		assert_int_equal(
			PKCS12_parse(p12, "s3cret", &got_k, &got_c, &got_ca),
			1);
		assert_int_equal(EVP_PKEY_eq(got_k, k), 1);
		assert_int_equal(X509_cmp(got_c, ee), 0);
		assert_int_equal(sk_X509_num(got_ca), 1);
		assert_int_equal(X509_cmp(sk_X509_value(got_ca, 0), ca), 0);
		if (have("openssl")) {
			write_file(legacy ? "carol-legacy.p12" : "carol.p12",
				   w.p, w.len, 0600, path, sizeof(path));
			/* The algorithms each mode promises. */
			assert_int_equal(
				run("openssl pkcs12 -in '%s' -passin "
				    "pass:s3cret -info -noout 2>&1 | grep -q "
				    "'%s'",
				    path,
				    legacy ? "pbeWithSHA1And3-KeyTripleDES-CBC"
					   : "AES-256-CBC"),
				0);
			assert_int_equal(run("openssl pkcs12 -in '%s' -passin "
					     "pass:s3cret -info -noout 2>&1 "
					     "| grep -q 'MAC: %s'",
					     path, legacy ? "sha1" : "sha256"),
					 0);
		}
		EVP_PKEY_free(got_k);
		X509_free(got_c);
		sk_X509_pop_free(got_ca, X509_free);
		got_k = NULL;
		got_c = NULL;
		got_ca = NULL;
		PKCS12_free(p12);
		wbuf_free(&w);
	}
	X509_free(ee);
	EVP_PKEY_free(k);
}

/* ---- 6. CERT payloads and issuing errors ---- */

static void test_payload(void **state)
{
	struct wbuf w;
	struct cert_spec s;
	EVP_PKEY *k;
	X509 *x, *got = NULL;
	char why[CERT_WHY_MAX], subj[128];

	(void)state;
	make_cas();
	k = keygen(CERT_KEY_ED25519);
	x = issue(CERT_ROLE_SERVER, "gw-e", "DNS:gw-e.example", NULL, k, ca,
		  ca_key);
	assert_int_equal(wbuf_init(&w, 1024), 0);
	assert_int_equal(cert_to_der(x, &w), 0);
	assert_int_equal(
		cert_from_payload(IKEV2_CERT_X509_SIG, w.p, w.len, &got), 0);
	assert_int_equal(X509_cmp(got, x), 0);
	assert_string_equal(cert_subject(got, subj, sizeof(subj)), "CN=gw-e");
	assert_int_equal(EVP_PKEY_eq(cert_pubkey(got), k), 1);
	cert_free(got);
	got = NULL;
	/* RFC 7296 §3.6: only encoding 4 is taken. */
	assert_int_equal(
		cert_from_payload(IKEV2_CERT_HASH_URL_X509, w.p, w.len, &got),
		ERR_UNSUPPORTED);
	assert_int_equal(
		cert_from_payload(IKEV2_CERT_X509_SIG, w.p, w.len - 1, &got),
		ERR_MALFORMED);
	assert_int_equal(wbuf_put_u8(&w, 0), 0);
	assert_int_equal(
		cert_from_payload(IKEV2_CERT_X509_SIG, w.p, w.len, &got),
		ERR_MALFORMED);
	assert_int_equal(cert_from_payload(IKEV2_CERT_X509_SIG, w.p, 0, &got),
			 ERR_MALFORMED);
	assert_null(got);
	wbuf_free(&w);

	/* SANs that could smuggle another name, or are not names. */
	memset(&s, 0, sizeof(s));
	s.role = CERT_ROLE_SERVER;
	s.cn = "x";
	s.key = k;
	s.n_san = 1;
	s.san[0] = "DNS:a.example,DNS:b.example";
	assert_int_equal(cert_issue(&s, &got, why, sizeof(why)), ERR_INVAL);
	assert_non_null(strstr(why, "bad subjectAltName"));
	s.san[0] = "IP:192.0.2.300";
	assert_int_equal(cert_issue(&s, &got, why, sizeof(why)), ERR_INVAL);
	s.san[0] = "email:a,b@example.org";
	assert_int_equal(cert_issue(&s, &got, why, sizeof(why)), ERR_INVAL);
	s.san[0] = "DNS:";
	assert_int_equal(cert_issue(&s, &got, why, sizeof(why)), ERR_INVAL);
	/* Issuer without its key. */
	s.san[0] = "DNS:ok.example";
	s.issuer = ca;
	assert_int_equal(cert_issue(&s, &got, why, sizeof(why)), ERR_INVAL);
	assert_null(got);
	/* A self-signed end entity is fine (and not a CA). */
	s.issuer = NULL;
	assert_int_equal(cert_issue(&s, &got, why, sizeof(why)), 0);
	assert_false(X509_check_ca(got));
	assert_true(X509_check_ca(ca));
	cert_free(got);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* ---- 7. certificates and keys made by strongSwan's pki ---- */

static void test_strongswan_made(void **state)
{
	struct cert_store *s;
	struct cert_local *l = NULL;
	X509 **gw = NULL, **r = NULL;
	size_t n_gw = 0, n_r = 0;
	char dir[128], p1[192], p2[192], why[CERT_WHY_MAX];
	uint8_t v4[4];

	(void)state;
	if (!have("pki")) {
		print_message("# skip: strongSwan pki not installed\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/ss", tmpdir);
	/* DER keys as pki writes them: ECDSA (RFC 5915), Ed25519 (PKCS#8),
	 * RSA (PKCS#1); PEM certificates and CRL. */
	assert_int_equal(
		run("(mkdir -p '%s' && cd '%s' && export "
		    "LEAK_DETECTIVE_DISABLE=1 && "
		    "pki --gen --type ecdsa --size 256 > ca.key && "
		    "pki --self --ca --lifetime 3650 --in ca.key --type ecdsa "
		    "--dn 'C=XX, O=Test, CN=ss CA' --outform pem > ca.crt && "
		    "pki --gen --type ed25519 > gw.key && "
		    "pki --pub --in gw.key | pki --issue --cacert ca.crt "
		    "--cakey ca.key --type pub --dn 'CN=gw' --san gw.example "
		    "--flag serverAuth --outform pem > gw.crt && "
		    "pki --gen --type rsa --size 2048 > r.key && "
		    "pki --pub --in r.key | pki --issue --cacert ca.crt "
		    "--cakey ca.key --type pub --dn 'CN=r' --san 192.0.2.5 "
		    "--outform pem > r.crt && "
		    "pki --signcrl --cacert ca.crt --cakey ca.key --reason "
		    "key-compromise --cert r.crt --outform pem > crl.pem && "
		    "chmod 600 *.key) >/dev/null 2>&1",
		    dir, dir),
		0);
	assert_int_equal(cert_store_new(&s), 0);
	snprintf(p1, sizeof(p1), "%s/ca.crt", dir);
	assert_int_equal(cert_store_add_ca_file(s, p1), 0);
	snprintf(p1, sizeof(p1), "%s/gw.crt", dir);
	assert_int_equal(cert_load_file(p1, &gw, &n_gw), 0);
	snprintf(p1, sizeof(p1), "%s/r.crt", dir);
	assert_int_equal(cert_load_file(p1, &r, &n_r), 0);
	assert_int_equal(cert_verify(s, gw[0], NULL, 0, 0, why, sizeof(why)),
			 0);
	assert_int_equal(cert_verify(s, r[0], NULL, 0, 0, why, sizeof(why)), 0);
	expect_id(gw[0], IKEV2_ID_FQDN, "gw.example", 10, 0, NULL);
	inet_pton(AF_INET, "192.0.2.5", v4);
	expect_id(r[0], IKEV2_ID_IPV4_ADDR, v4, 4, 0, NULL);
	/* strongSwan's CRL revokes r, not gw. */
	snprintf(p1, sizeof(p1), "%s/crl.pem", dir);
	assert_int_equal(cert_store_add_crl_file(s, p1), 0);
	expect_bad(s, r[0], NULL, 0, 0, "certificate revoked");
	assert_int_equal(cert_verify(s, gw[0], NULL, 0, 0, why, sizeof(why)),
			 0);
	/* Each DER key with its certificate. */
	snprintf(p1, sizeof(p1), "%s/gw.crt", dir);
	snprintf(p2, sizeof(p2), "%s/gw.key", dir);
	assert_int_equal(cert_local_load(p1, p2, &l), 0);
	cert_local_free(l);
	snprintf(p1, sizeof(p1), "%s/r.crt", dir);
	snprintf(p2, sizeof(p2), "%s/r.key", dir);
	assert_int_equal(cert_local_load(p1, p2, &l), 0);
	cert_local_free(l);
	snprintf(p1, sizeof(p1), "%s/ca.crt", dir);
	snprintf(p2, sizeof(p2), "%s/ca.key", dir);
	assert_int_equal(cert_local_load(p1, p2, &l), 0);
	cert_local_free(l);
	cert_list_free(gw, n_gw);
	cert_list_free(r, n_r);
	cert_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chains),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_certreq),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_p12),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_strongswan_made),
	};

	log_set_all_levels(LL_ERR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
