/* SPDX-License-Identifier: MIT */
/*
 * IKE_AUTH with certificates (x_auth.c, ike_pki.c): two IKE SAs in one
 * process, certificates issued in memory with cert_issue().
 *   - ECDSA P-256, P-384, RSA-3072 (PKCS#1 and PSS), Ed25519 both ways;
 *   - one side a certificate, the other a PSK;
 *   - an untrusted CA, an ID that is not in the certificate, a remote_id
 *     DN that is not the peer's: AUTHENTICATION_FAILED on both sides;
 *   - DN identities parsed and compared as names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "config/conn.h"
#include "crypto/sig.h"
#include "ike/auth_sig.h"
#include "ike/cert.h"
#include "ike/ike_pki.h"
#include "ike/ike_sa.h"
#include "ike_conn_fixture.h"

struct side {
	struct ike_sa *sa;
	int children;
};

static void child_cb(void *arg, const struct sa_params *in,
		     const struct sa_params *out)
{
	(void)in;
	(void)out;
	((struct side *)arg)->children++;
}

static void make_conn(struct ike_conn *c, bool initiator)
{
	fx_conn(c, initiator, NULL, NULL, "a-pre-shared-key-for-mixed",
		initiator ? "198.51.100.16/28" : "198.51.100.32/28",
		initiator ? "198.51.100.32/28" : "198.51.100.16/28");
	c->reqid = 7;
}

static struct evp_pkey_st *ca_key, *bad_ca_key;
static struct x509_st *ca, *bad_ca;

static struct x509_st *issue_ca(const char *cn, struct evp_pkey_st **k)
{
	struct cert_spec s = {.role = CERT_ROLE_CA, .cn = cn};
	struct x509_st *x;
	char why[256];

	assert_int_equal(cert_keygen(CERT_KEY_ECDSA_P256, k), 0);
	s.key = *k;
	assert_int_equal(cert_issue(&s, &x, why, sizeof(why)), 0);
	return x;
}

static int setup(void **state)
{
	(void)state;
	ca = issue_ca("Test CA", &ca_key);
	bad_ca = issue_ca("Other CA", &bad_ca_key);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cert_free(ca);
	cert_free(bad_ca);
	sig_key_free(ca_key);
	sig_key_free(bad_ca_key);
	return 0;
}

/* A pki part: our certificate (CN cn, SAN san) of key type t issued
 * by the test CA (or the other one), trusting the test CA. */
static struct ike_pki *pki(enum cert_key_type t, const char *cn,
			   const char *san, bool other_ca, bool psk_local,
			   bool psk_remote)
{
	struct x509_st *issuer = other_ca ? bad_ca : ca;
	struct evp_pkey_st *issuer_key = other_ca ? bad_ca_key : ca_key;

	return fx_pki(t, cn, san, psk_local ? NULL : issuer, issuer_key,
		      psk_remote ? NULL : ca);
}

static void set_id(struct ike_id *id, const char *s)
{
	const char *why;

	assert_int_equal(conn_id_parse(s, id, &why), 0);
}

/* Make the responder believe the initiator sent no
 * SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4): it must use a classic method. */
static bool no_hashes;

/* Run a handshake; both sides' final states and errors are checked by
 * the caller. */
static void handshake(struct ike_conn *ci, struct ike_conn *cr, struct side *i,
		      struct side *r)
{
	struct ike_tx tx = {0}, next;
	struct ike_dgram_out d;
	size_t k;
	int step;

	memset(i, 0, sizeof(*i));
	memset(r, 0, sizeof(*r));
	assert_int_equal(ike_sa_new(ci, true, child_cb, i, &i->sa), 0);
	assert_int_equal(ike_sa_new(cr, false, child_cb, r, &r->sa), 0);
	/* The SAs hold their own references now. */
	ike_pki_unref(ci->pki);
	ike_pki_unref(cr->pki);
	assert_int_equal(ike_sa_initiate(i->sa, &tx), 0);
	for (step = 0; step < 10 && tx.n; step++) {
		struct side *to = step % 2 ? i : r;

		memset(&next, 0, sizeof(next));
		for (k = 0; k < tx.n; k++) {
			d = tx.d[k];
			ike_sa_recv(to->sa, d.p, d.len, &d.src, d.sport, &d.dst,
				    d.dport, &next);
		}
		ike_tx_clear(&tx);
		tx = next;
		if (step == 0 && no_hashes)
			r->sa->peer_sig_hashes = 0;
	}
	ike_tx_clear(&tx);
}

static void expect_ok(struct side *i, struct side *r)
{
	assert_int_equal(i->sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(r->sa->state, IKE_S_ESTABLISHED);
	assert_int_equal(i->children, 1);
	assert_int_equal(r->children, 1);
	ike_sa_free(i->sa);
	ike_sa_free(r->sa);
}

static void expect_fail(struct side *i, struct side *r, const char *detail)
{
	assert_int_equal(i->sa->state, IKE_S_FAILED);
	assert_int_equal(r->sa->state, IKE_S_FAILED);
	assert_int_equal(i->sa->error, IKEV2_N_AUTHENTICATION_FAILED);
	assert_int_equal(r->sa->error, IKEV2_N_AUTHENTICATION_FAILED);
	/* A responder refused by the initiator had its Child SA up until
	 * the INFORMATIONAL came (§2.21.2). */
	assert_int_equal(i->children, 0);
	/* The side that refused says why. */
	if (!strstr(i->sa->detail, detail) && !strstr(r->sa->detail, detail)) {
		print_error("want '%s' in '%s' / '%s'\n", detail, i->sa->detail,
			    r->sa->detail);
		fail();
	}
	ike_sa_free(i->sa);
	ike_sa_free(r->sa);
}

static void test_key_types(void **state)
{
	static const enum cert_key_type t[] = {
		CERT_KEY_ECDSA_P256,
		CERT_KEY_ECDSA_P384,
		CERT_KEY_RSA3072,
		CERT_KEY_ED25519,
	};
	struct ike_conn ci, cr;
	struct side i, r;
	size_t k;

	(void)state;
	for (k = 0; k < 4; k++) {
		make_conn(&ci, true);
		make_conn(&cr, false);
		ci.pki = pki(t[k], "gw-a", "DNS:gw-a.example", false, false,
			     false);
		cr.pki = pki(t[k], "gw-b", "DNS:gw-b.example", false, false,
			     false);
		if (t[k] == CERT_KEY_RSA3072)
			ci.pki->sig_flags |= AUTH_SIG_RSA_PSS;
		set_id(&ci.local_id, "gw-a.example");
		set_id(&cr.local_id, "gw-b.example");
		set_id(&ci.remote_id, "gw-b.example");
		set_id(&cr.remote_id, "%any");
		handshake(&ci, &cr, &i, &r);
		expect_ok(&i, &r);
	}
}

/* The responder signs with a classic method: ECDSA 9 and 10 work; RSA
 * (method 1 is SHA-1) and Ed25519 cannot, and the responder says so. */
static void test_classic(void **state)
{
	static const struct {
		enum cert_key_type t;
		unsigned r_flags, i_flags;
		const char *fail;
	} v[] = {
		{CERT_KEY_ECDSA_P256, 0, 0, NULL},
		{CERT_KEY_ECDSA_P384, 0, 0, NULL},
		{CERT_KEY_RSA3072, 0, 0, "RSA"},
		{CERT_KEY_ED25519, 0, 0, "Identity hash"},
		/* Method 1 (SHA-1) made, refused by a default verifier
		 * (RFC 8247), taken by one that allows SHA-1. */
		{CERT_KEY_RSA3072, SIG_ALLOW_SHA1, 0, "SHA-1"},
		{CERT_KEY_RSA3072, SIG_ALLOW_SHA1, SIG_ALLOW_SHA1, NULL},
	};
	struct ike_conn ci, cr;
	struct side i, r;
	size_t k;

	(void)state;
	no_hashes = true;
	for (k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		make_conn(&ci, true);
		make_conn(&cr, false);
		ci.pki = pki(CERT_KEY_ECDSA_P256, "gw-a", "DNS:gw-a.example",
			     false, false, false);
		cr.pki = pki(v[k].t, "gw-b", "DNS:gw-b.example", false, false,
			     false);
		cr.pki->sig_flags = v[k].r_flags;
		ci.pki->sig_flags = v[k].i_flags;
		set_id(&ci.local_id, "gw-a.example");
		set_id(&cr.local_id, "gw-b.example");
		handshake(&ci, &cr, &i, &r);
		if (v[k].fail)
			expect_fail(&i, &r, v[k].fail);
		else
			expect_ok(&i, &r);
	}
	no_hashes = false;
}

static void test_dn_ids(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;
	struct wbuf w;
	uint8_t buf[512];

	(void)state;
	make_conn(&ci, true);
	make_conn(&cr, false);
	ci.pki = pki(CERT_KEY_ECDSA_P256, "gw-a", "DNS:gw-a.example", false,
		     false, false);
	cr.pki = pki(CERT_KEY_ECDSA_P256, "gw-b", "DNS:gw-b.example", false,
		     false, false);
	/* As conn.c does without local_id: the subject DER. */
	wbuf_init_fixed(&w, buf, sizeof(buf));
	assert_int_equal(cert_subject_der(cert_local_cert(ci.pki->local), &w),
			 0);
	ci.local_id.type = IKEV2_ID_DER_ASN1_DN;
	ci.local_id.len = (uint8_t)w.len;
	memcpy(ci.local_id.data, buf, w.len);
	set_id(&cr.local_id, "CN=gw-b");
	set_id(&ci.remote_id, "CN = gw-b");
	set_id(&cr.remote_id, "cn=GW-A");
	assert_int_equal(cr.remote_id.type, IKEV2_ID_DER_ASN1_DN);
	handshake(&ci, &cr, &i, &r);
	expect_ok(&i, &r);

	/* remote_id names another DN: the initiator refuses. */
	make_conn(&ci, true);
	make_conn(&cr, false);
	ci.pki = pki(CERT_KEY_ECDSA_P256, "gw-a", "DNS:gw-a.example", false,
		     false, false);
	cr.pki = pki(CERT_KEY_ECDSA_P256, "gw-b", "DNS:gw-b.example", false,
		     false, false);
	set_id(&ci.local_id, "CN=gw-a");
	set_id(&cr.local_id, "CN=gw-b");
	set_id(&ci.remote_id, "C=CH, CN=gw-b");
	handshake(&ci, &cr, &i, &r);
	expect_fail(&i, &r, "is not remote_id");
}

static void test_mixed(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;

	(void)state;
	/* Initiator: certificate; responder: PSK (and checks the cert). */
	make_conn(&ci, true);
	make_conn(&cr, false);
	ci.pki = pki(CERT_KEY_ECDSA_P256, "gw-a", "DNS:gw-a.example", false,
		     false, true);
	cr.pki = pki(CERT_KEY_ECDSA_P256, NULL, NULL, false, true, false);
	set_id(&ci.local_id, "gw-a.example");
	set_id(&cr.remote_id, "gw-a.example");
	handshake(&ci, &cr, &i, &r);
	expect_ok(&i, &r);
}

static void test_refused(void **state)
{
	struct ike_conn ci, cr;
	struct side i, r;

	(void)state;
	/* The initiator's certificate comes from a CA we do not trust. */
	make_conn(&ci, true);
	make_conn(&cr, false);
	ci.pki = pki(CERT_KEY_ECDSA_P256, "gw-a", "DNS:gw-a.example", true,
		     false, false);
	cr.pki = pki(CERT_KEY_ECDSA_P256, "gw-b", "DNS:gw-b.example", false,
		     false, false);
	set_id(&ci.local_id, "gw-a.example");
	set_id(&cr.local_id, "gw-b.example");
	handshake(&ci, &cr, &i, &r);
	expect_fail(&i, &r, "certificate not accepted");

	/* The responder claims an ID its certificate does not hold. */
	make_conn(&ci, true);
	make_conn(&cr, false);
	ci.pki = pki(CERT_KEY_ECDSA_P256, "gw-a", "DNS:gw-a.example", false,
		     false, false);
	cr.pki = pki(CERT_KEY_ECDSA_P256, "gw-b", "DNS:gw-b.example", false,
		     false, false);
	set_id(&ci.local_id, "gw-a.example");
	set_id(&cr.local_id, "gw-c.example");
	set_id(&ci.remote_id, "%any");
	handshake(&ci, &cr, &i, &r);
	expect_fail(&i, &r, "does not match its certificate");

	/* A certificate that is not sent. */
	make_conn(&ci, true);
	make_conn(&cr, false);
	ci.pki = pki(CERT_KEY_ECDSA_P256, "gw-a", "DNS:gw-a.example", false,
		     false, false);
	cr.pki = pki(CERT_KEY_ECDSA_P256, "gw-b", "DNS:gw-b.example", false,
		     false, false);
	ci.pki->send_cert = IKE_SEND_CERT_NEVER;
	set_id(&ci.local_id, "gw-a.example");
	set_id(&cr.local_id, "gw-b.example");
	handshake(&ci, &cr, &i, &r);
	expect_fail(&i, &r, "no certificate");
}

static void test_dn_parse(void **state)
{
	uint8_t a[256], b[256];
	size_t al, bl;
	const char *why;

	(void)state;
	assert_int_equal(ike_dn_parse("C=CH, O=example, CN=gw-a", a, sizeof(a),
				      &al, &why),
			 0);
	assert_int_equal(ike_dn_parse("/C=CH/O=Example/CN=GW-A", b, sizeof(b),
				      &bl, &why),
			 0);
	assert_true(ike_dn_equal(a, al, b, bl));
	assert_int_equal(ike_dn_parse("C=CH, CN=gw-a, O=example", b, sizeof(b),
				      &bl, &why),
			 0);
	assert_false(ike_dn_equal(a, al, b, bl));
	assert_int_equal(ike_dn_parse("C=CH, bogus=1", a, sizeof(a), &al, &why),
			 ERR_INVAL);
	assert_int_equal(ike_dn_parse("C=CHE", a, sizeof(a), &al, &why),
			 ERR_INVAL);
	assert_int_equal(ike_dn_parse("CN", a, sizeof(a), &al, &why),
			 ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dn_parse),
		cmocka_unit_test(test_key_types),
		cmocka_unit_test(test_classic),
		cmocka_unit_test(test_dn_ids),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
