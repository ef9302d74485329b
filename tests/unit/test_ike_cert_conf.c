/* SPDX-License-Identifier: MIT */
/*
 * The certificate keys of [conn] (src/config/conn_pki.c) with files
 * written by cert_issue(): what loads, the default IDs, and the errors,
 * each with file:line and the fix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "config/conn.h"
#include "config/manual.h"
#include "crypto/sig.h"
#include "ike/cert.h"
#include "ike/ike_pki.h"
#include "ike/ikev2_wire.h"

static int log_pipe[2];
static char logbuf[1 << 16];
static char dir[] = "/tmp/ipsecd-certconf.XXXXXX";
static char path[512];

static const char *logged(void)
{
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(logbuf) - 1) {
		r = read(log_pipe[0], logbuf + n, sizeof(logbuf) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	logbuf[n] = '\0';
	return logbuf;
}

static void put(const char *name, struct wbuf *w, mode_t mode)
{
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, w->p, w->len), (ssize_t)w->len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	wbuf_free(w);
}

/* ca.crt; gw.crt (CN=gw, DNS:gw.example) with gw.key (600) and
 * open.key (644, the same key). */
static int setup(void **state)
{
	struct cert_spec s = {.role = CERT_ROLE_CA, .cn = "CA"};
	struct evp_pkey_st *ck, *k;
	struct x509_st *ca, *c;
	struct wbuf w;
	char why[256];

	(void)state;
	if (!mkdtemp(dir) || pipe2(log_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	fcntl(log_pipe[1], F_SETPIPE_SZ, 1 << 16);
	log_set_fd(log_pipe[1]);
	if (cert_keygen(CERT_KEY_ECDSA_P256, &ck) ||
	    cert_keygen(CERT_KEY_ECDSA_P256, &k))
		return -1;
	s.key = ck;
	if (cert_issue(&s, &ca, why, sizeof(why)))
		return -1;
	s.role = CERT_ROLE_SERVER;
	s.cn = "gw";
	s.san[0] = "DNS:gw.example";
	s.n_san = 1;
	s.key = k;
	s.issuer = ca;
	s.issuer_key = ck;
	if (cert_issue(&s, &c, why, sizeof(why)))
		return -1;
	wbuf_init(&w, 2048);
	cert_pem(ca, &w);
	put("ca.crt", &w, 0644);
	wbuf_init(&w, 2048);
	cert_pem(c, &w);
	put("gw.crt", &w, 0644);
	wbuf_init(&w, 2048);
	cert_key_pem(k, &w);
	put("gw.key", &w, 0600);
	wbuf_init(&w, 2048);
	cert_key_pem(k, &w);
	put("open.key", &w, 0644);
	cert_free(ca);
	cert_free(c);
	sig_key_free(ck);
	sig_key_free(k);
	return 0;
}

static int teardown(void **state)
{
	static const char *const f[] = {"ca.crt", "gw.crt", "gw.key",
					"open.key"};
	size_t i;

	(void)state;
	log_set_fd(2);
	close(log_pipe[0]);
	close(log_pipe[1]);
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, f[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

/* A [conn c] with the common keys and then extra (%s: dir). */
static int load(const char *extra, struct conn_set **cs)
{
	char text[4096], body[2048];
	struct manual_cfg *m = NULL;
	struct ini *ini = NULL;
	int r, rc;

	snprintf(body, sizeof(body), extra, dir, dir, dir);
	snprintf(text, sizeof(text),
		 "[conn c]\n"
		 "local = 192.0.2.1\n"
		 "remote = 192.0.2.2\n"
		 "local_ts = 198.51.100.0/28\n"
		 "remote_ts = 198.51.100.16/28\n"
		 "%s",
		 body);
	*cs = NULL;
	logged();
	r = ini_parse_mem(text, strlen(text), "t.conf", &ini);
	if (r)
		return r;
	rc = conn_load(ini, cs);
	r = manual_load(ini, &m);
	manual_free(m);
	ini_free(ini);
	return rc ? rc : r;
}

static void test_pubkey(void **state)
{
	struct conn_set *cs;
	struct ike_conn *ic;
	char dn[128];

	(void)state;
	assert_int_equal(load("auth = pubkey\n"
			      "cert = %s/gw.crt\n"
			      "key = %s/gw.key\n"
			      "ca = %s/ca.crt\n",
			      &cs),
			 0);
	ic = &cs->conns[0].ike;
	assert_non_null(ic->pki);
	assert_int_equal(ic->pki->local_auth, IKE_AUTHK_PUBKEY);
	assert_int_equal(ic->pki->remote_auth, IKE_AUTHK_PUBKEY);
	assert_int_equal(ic->pki->send_cert, IKE_SEND_CERT_ALWAYS);
	assert_non_null(ic->pki->local);
	assert_non_null(ic->pki->store);
	assert_int_equal(ic->psk_len, 0);
	/* Our ID is the certificate's subject; any peer ID is accepted. */
	assert_int_equal(ic->local_id.type, IKEV2_ID_DER_ASN1_DN);
	assert_string_equal(
		ike_dn_str(ic->local_id.data, ic->local_id.len, dn, sizeof(dn)),
		"CN=gw");
	assert_int_equal(ic->remote_id.type, 0);
	conn_free(cs);

	/* Mixed: our certificate, the peer's PSK, which is then needed. */
	assert_int_equal(load("auth = pubkey\n"
			      "remote_auth = psk\n"
			      "cert = %s/gw.crt\n"
			      "key = %s/gw.key\n"
			      "local_id = gw.example\n"
			      "send_cert = ifasked\n",
			      &cs),
			 ERR_CONFIG);
	assert_non_null(strstr(logged(), "[conn c]: missing 'psk'"));
	assert_int_equal(load("auth = pubkey\n"
			      "remote_auth = psk\n"
			      "cert = %s/gw.crt\n"
			      "key = %s/gw.key\n"
			      "local_id = gw.example\n"
			      "send_cert = ifasked\n"
			      "psk = 0x00112233445566778899aabbccddeeff\n",
			      &cs),
			 0);
	ic = &cs->conns[0].ike;
	assert_int_equal(ic->local_id.type, IKEV2_ID_FQDN);
	assert_int_equal(ic->pki->send_cert, IKE_SEND_CERT_IFASKED);
	assert_null(ic->pki->store);
	/* The remote_id default stays the peer's address for a PSK. */
	assert_int_equal(ic->remote_id.type, IKEV2_ID_IPV4_ADDR);
	conn_free(cs);
}

static void test_errors(void **state)
{
	struct conn_set *cs;
	const char *log;

	(void)state;
	assert_int_equal(load("auth = pubkey\n"
			      "cert = %s/gw.crt\n"
			      "key = %s/open.key\n"
			      "ca = %s/ca.crt\n",
			      &cs),
			 ERR_CONFIG);
	log = logged();
	assert_non_null(strstr(log, "t.conf:8: [conn c] key: "));
	assert_non_null(strstr(log, "(mode 644); run chmod 600"));

	assert_int_equal(load("auth = pubkey\n"
			      "cert = %s/gw.crt\n"
			      "key = %s/gw.key\n"
			      "send_cert = sometimes\n"
			      "remote_auth = cert\n"
			      "crl = %s/none.crl\n",
			      &cs),
			 ERR_CONFIG);
	log = logged();
	assert_non_null(strstr(log, "t.conf:9: [conn c] send_cert: "
				    "'sometimes' is not valid"));
	assert_non_null(strstr(log, "t.conf:10: [conn c] remote_auth: 'cert'"));
	/* remote_auth stays pubkey (from auth), which needs a ca. */
	assert_non_null(strstr(log, "t.conf:1: [conn c]: remote_auth = pubkey "
				    "needs 'ca'"));
	assert_int_equal(load("auth = psk\n"
			      "psk = a-long-enough-pre-shared-key\n"
			      "ca = %s/ca.crt\n",
			      &cs),
			 ERR_CONFIG);
	assert_non_null(strstr(logged(), "t.conf:8: [conn c] ca: only used "
					 "with remote_auth = pubkey"));

	assert_int_equal(load("auth = pubkey\n"
			      "remote_auth = pubkey\n"
			      "key = %s/gw.key\n",
			      &cs),
			 ERR_CONFIG);
	log = logged();
	assert_non_null(strstr(log, "t.conf:8: [conn c] key: auth = pubkey "
				    "needs both 'cert'"));
	assert_non_null(strstr(log, "t.conf:1: [conn c]: remote_auth = pubkey "
				    "needs 'ca'"));
	/* A local_id the certificate does not hold: a warning. */
	assert_int_equal(load("auth = pubkey\n"
			      "cert = %s/gw.crt\n"
			      "key = %s/gw.key\n"
			      "ca = %s/ca.crt\n"
			      "local_id = other.example\n",
			      &cs),
			 0);
	assert_non_null(strstr(logged(), "t.conf:10: [conn c] local_id: "
					 "'other.example' is not in our "
					 "certificate"));
	conn_free(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pubkey),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
