/* SPDX-License-Identifier: MIT */
/*
 * What ipsecctl status shows of IKE_AUTH (ike_sa.auth_local and
 * auth_remote, filled by x_auth.c): two IKE SAs in one process with
 * certificates issued in memory.
 *   - certificate one way, PSK the other: method 14 with key, algorithm,
 *     subject and serial on the certificate side, method 2 and empty
 *     strings on the PSK side, the same seen from both ends;
 *   - a responder without SIGNATURE_HASH_ALGORITHMS from the peer signs
 *     with method 10 (ECDSA P-384, RFC 4754); Ed25519 with method 14;
 *   - a refused peer leaves remote auth at method 0;
 *   - an IKE SA rekey (RFC 7296 §2.18) keeps both;
 *   - auth_sig_alg_name() on good and bad AUTH data.
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

static struct evp_pkey_st *ca_key;
static struct x509_st *ca;

static int setup(void **state)
{
	struct cert_spec s = {.role = CERT_ROLE_CA, .cn = "Test CA"};
	char why[256];

	(void)state;
	assert_int_equal(cert_keygen(CERT_KEY_ECDSA_P256, &ca_key), 0);
	s.key = ca_key;
	assert_int_equal(cert_issue(&s, &ca, why, sizeof(why)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cert_free(ca);
	sig_key_free(ca_key);
	return 0;
}

/*
 * Our connection as gw-a (the initiator) or gw-b: with cert, our
 * certificate of key type t (CN=gw-a, DNS:gw-a.example), else the PSK;
 * with peer_cert, the peer's certificate is checked against the CA, else
 * it uses the PSK.  *x: our certificate (borrowed from the pki) or NULL.
 */
static void conn(struct ike_conn *c, bool initiator, bool cert,
		 enum cert_key_type t, bool peer_cert, struct x509_st **x)
{
	const char *why;

	fx_conn(c, initiator, NULL, NULL, "auth-info-test-pre-shared-key",
		initiator ? "198.51.100.0/28" : "203.0.113.0/28",
		initiator ? "203.0.113.0/28" : "198.51.100.0/28");
	c->reqid = 9;
	assert_int_equal(conn_id_parse(initiator ? "gw-a.example"
						 : "gw-b.example",
				       &c->local_id, &why),
			 0);
	assert_int_equal(conn_id_parse("%any", &c->remote_id, &why), 0);
	c->pki = fx_pki(t, initiator ? "gw-a" : "gw-b",
			initiator ? "DNS:gw-a.example" : "DNS:gw-b.example",
			cert ? ca : NULL, ca_key, peer_cert ? ca : NULL);
	*x = cert ? cert_local_cert(c->pki->local) : NULL;
}

/* Deliver tx back and forth until nobody has anything to send. */
static void pump(struct ike_sa *i, struct ike_sa *r, struct ike_tx *tx,
		 bool to_r, bool no_hashes)
{
	struct ike_tx next;
	struct ike_dgram_out d;
	size_t k;
	int step;

	for (step = 0; step < 10 && tx->n; step++) {
		struct ike_sa *to = to_r == !(step % 2) ? r : i;

		memset(&next, 0, sizeof(next));
		for (k = 0; k < tx->n; k++) {
			d = tx->d[k];
			ike_sa_recv(to, d.p, d.len, &d.src, d.sport, &d.dst,
				    d.dport, &next);
		}
		ike_tx_clear(tx);
		*tx = next;
		/* RFC 7427 §4: as if the initiator had not announced
		 * its hashes, the responder uses a classic method. */
		if (step == 0 && no_hashes)
			r->peer_sig_hashes = 0;
	}
	ike_tx_clear(tx);
}

static void handshake(struct ike_conn *ci, struct ike_conn *cr,
		      struct ike_sa **i, struct ike_sa **r, bool no_hashes)
{
	struct ike_tx tx = {0};

	assert_int_equal(ike_sa_new(ci, true, NULL, NULL, i), 0);
	assert_int_equal(ike_sa_new(cr, false, NULL, NULL, r), 0);
	ike_pki_unref(ci->pki);
	ike_pki_unref(cr->pki);
	assert_int_equal(ike_sa_initiate(*i, &tx), 0);
	pump(*i, *r, &tx, true, no_hashes);
}

static void expect_cert(const struct ike_auth_info *ai, uint8_t method,
			const char *key, const char *sig, const char *subject,
			const struct x509_st *x)
{
	char serial[64];

	assert_int_equal(ai->method, method);
	assert_string_equal(ai->key, key);
	assert_string_equal(ai->sig, sig);
	assert_string_equal(ai->subject, subject);
	assert_string_equal(ai->serial, cert_serial(x, serial, sizeof(serial)));
	assert_true(strlen(ai->serial) >= 2);
}

static void expect_psk(const struct ike_auth_info *ai)
{
	assert_int_equal(ai->method, IKEV2_AUTH_PSK);
	assert_string_equal(ai->key, "");
	assert_string_equal(ai->sig, "");
	assert_string_equal(ai->subject, "");
	assert_string_equal(ai->serial, "");
}

static void test_cert_and_psk(void **state)
{
	struct ike_conn ci, cr;
	struct ike_sa *i, *r;
	struct x509_st *xa, *xb;

	(void)state;
	conn(&ci, true, true, CERT_KEY_ECDSA_P256, false, &xa);
	conn(&cr, false, false, CERT_KEY_ECDSA_P256, true, &xb);
	handshake(&ci, &cr, &i, &r, false);
	assert_int_equal(i->state, IKE_S_ESTABLISHED);
	assert_int_equal(r->state, IKE_S_ESTABLISHED);
	expect_cert(&i->auth_local, IKEV2_AUTH_DIGITAL_SIG, "ECDSA P-256",
		    "ecdsa-sha256", "CN=gw-a", xa);
	expect_cert(&r->auth_remote, IKEV2_AUTH_DIGITAL_SIG, "ECDSA P-256",
		    "ecdsa-sha256", "CN=gw-a", xa);
	expect_psk(&i->auth_remote);
	expect_psk(&r->auth_local);
	ike_sa_free(i);
	ike_sa_free(r);
}

static void test_methods(void **state)
{
	struct ike_conn ci, cr;
	struct ike_sa *i, *r;
	struct x509_st *xa, *xb;

	(void)state;
	/* Classic: the responder's P-384 key signs with method 10. */
	conn(&ci, true, true, CERT_KEY_ECDSA_P256, true, &xa);
	conn(&cr, false, true, CERT_KEY_ECDSA_P384, true, &xb);
	handshake(&ci, &cr, &i, &r, true);
	assert_int_equal(i->state, IKE_S_ESTABLISHED);
	expect_cert(&r->auth_local, IKEV2_AUTH_ECDSA_384, "ECDSA P-384",
		    "ecdsa-sha384", "CN=gw-b", xb);
	expect_cert(&i->auth_remote, IKEV2_AUTH_ECDSA_384, "ECDSA P-384",
		    "ecdsa-sha384", "CN=gw-b", xb);
	expect_cert(&r->auth_remote, IKEV2_AUTH_DIGITAL_SIG, "ECDSA P-256",
		    "ecdsa-sha256", "CN=gw-a", xa);
	ike_sa_free(i);
	ike_sa_free(r);

	/* Ed25519 (RFC 8420): method 14 with the Identity hash. */
	conn(&ci, true, true, CERT_KEY_ED25519, true, &xa);
	conn(&cr, false, true, CERT_KEY_ED25519, true, &xb);
	handshake(&ci, &cr, &i, &r, false);
	assert_int_equal(i->state, IKE_S_ESTABLISHED);
	expect_cert(&i->auth_remote, IKEV2_AUTH_DIGITAL_SIG, "Ed25519",
		    "ed25519", "CN=gw-b", xb);
	expect_cert(&r->auth_remote, IKEV2_AUTH_DIGITAL_SIG, "Ed25519",
		    "ed25519", "CN=gw-a", xa);
	ike_sa_free(i);
	ike_sa_free(r);
}

/* A peer whose certificate we refuse is not recorded. */
static void test_refused(void **state)
{
	struct ike_conn ci, cr;
	struct ike_sa *i, *r;
	struct x509_st *xa, *xb;

	(void)state;
	conn(&ci, true, true, CERT_KEY_ECDSA_P256, false, &xa);
	conn(&cr, false, false, CERT_KEY_ECDSA_P256, true, &xb);
	/* The responder wants gw-c.example. */
	{
		const char *why;

		assert_int_equal(conn_id_parse("gw-c.example", &cr.remote_id,
					       &why),
				 0);
	}
	handshake(&ci, &cr, &i, &r, false);
	assert_int_equal(r->state, IKE_S_FAILED);
	assert_int_equal(r->auth_remote.method, 0);
	assert_int_equal(r->auth_local.method, 0);
	assert_int_equal(i->auth_remote.method, 0);
	ike_sa_free(i);
	ike_sa_free(r);
}

/* RFC 7296 §2.18: the new IKE SA is not authenticated again; it keeps
 * what the old one was authenticated with. */
static void test_rekey_keeps(void **state)
{
	struct ike_conn ci, cr;
	struct ike_sa *i, *r, *ni, *nr;
	struct x509_st *xa, *xb;
	struct ike_tx tx = {0};

	(void)state;
	conn(&ci, true, true, CERT_KEY_ECDSA_P256, true, &xa);
	conn(&cr, false, true, CERT_KEY_ECDSA_P256, true, &xb);
	handshake(&ci, &cr, &i, &r, false);
	assert_int_equal(i->state, IKE_S_ESTABLISHED);
	assert_int_equal(ike_sa_rekey(i, &tx), 0);
	pump(i, r, &tx, true, false);
	ni = i->rekeyed_to;
	nr = r->rekeyed_to;
	assert_non_null(ni);
	assert_non_null(nr);
	expect_cert(&ni->auth_local, IKEV2_AUTH_DIGITAL_SIG, "ECDSA P-256",
		    "ecdsa-sha256", "CN=gw-a", xa);
	expect_cert(&ni->auth_remote, IKEV2_AUTH_DIGITAL_SIG, "ECDSA P-256",
		    "ecdsa-sha256", "CN=gw-b", xb);
	expect_cert(&nr->auth_remote, IKEV2_AUTH_DIGITAL_SIG, "ECDSA P-256",
		    "ecdsa-sha256", "CN=gw-a", xa);
	ike_sa_free(i);
	ike_sa_free(r);
}

static void test_alg_name(void **state)
{
	/* RFC 7427 §3: length 12, then ecdsa-with-SHA384
	 * (1.2.840.10045.4.3.3), then a (short, fake) signature. */
	static const uint8_t m14[] = {
		0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
		0xce, 0x3d, 0x04, 0x03, 0x03, 0x01, 0x02,
	};
	uint8_t bad[sizeof(m14)];

	(void)state;
	assert_string_equal(auth_sig_alg_name(IKEV2_AUTH_DIGITAL_SIG, m14,
					      sizeof(m14)),
			    "ecdsa-sha384");
	assert_string_equal(auth_sig_alg_name(IKEV2_AUTH_ECDSA_256, NULL, 0),
			    "ecdsa-sha256");
	assert_null(auth_sig_alg_name(IKEV2_AUTH_PSK, NULL, 0));
	/* The declared length runs past the data. */
	assert_null(auth_sig_alg_name(IKEV2_AUTH_DIGITAL_SIG, m14, 5));
	memcpy(bad, m14, sizeof(bad));
	bad[4] = 0x07; /* not an OID tag */
	assert_null(auth_sig_alg_name(IKEV2_AUTH_DIGITAL_SIG, bad,
				      sizeof(bad)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_name),
		cmocka_unit_test(test_cert_and_psk),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_rekey_keeps),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
