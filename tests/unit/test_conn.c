/* SPDX-License-Identifier: MIT */
/* Unit tests for [conn NAME] parsing (src/config/conn.c). */
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
#include "crypto/crypto.h"

/* Log lines land in a pipe so that tests can check file:line. */
static int log_pipe[2];
static char logbuf[16384];

static int setup(void **state)
{
	(void)state;
	if (crypto_init() || pipe2(log_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	fcntl(log_pipe[1], F_SETPIPE_SZ, 1 << 16);
	log_set_fd(log_pipe[1]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_fd(2);
	close(log_pipe[0]);
	close(log_pipe[1]);
	crypto_fini();
	return 0;
}

/* Everything logged since the last call. */
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

/* conn_load() then manual_load() over text, as the daemon does. */
static int load(const char *text, struct conn_set **cs)
{
	struct manual_cfg *m = NULL;
	struct ini *ini = NULL;
	int r, rc;

	*cs = NULL;
	logged();
	r = ini_parse_mem(text, strlen(text), "t.conf", &ini);
	if (r)
		return r;
	rc = conn_load(ini, cs);
	r = manual_load(ini, &m);
	manual_free(m);
	ini_free(ini);
	if (rc) {
		conn_free(*cs);
		*cs = NULL;
	}
	return rc ? rc : r;
}

static void test_minimal(void **state)
{
	static const char text[] = "[daemon]\n"
				   "keylog = /tmp/keys\n"
				   "[conn gw]\n"
				   "local = 192.0.2.10\n"
				   "remote = 192.0.2.20\n"
				   "psk = some-text-secret-0123456789\n"
				   "local_ts = 198.51.100.0/24\n"
				   "remote_ts = 203.0.113.0/24, "
				   "192.0.2.128/25\n";
	struct conn_set *cs;
	struct conn_cfg *c;

	(void)state;
	assert_int_equal(load(text, &cs), 0);
	assert_non_null(cs);
	assert_int_equal(cs->n, 1);
	assert_string_equal(cs->keylog, "/tmp/keys");
	c = conn_find(cs, "gw");
	assert_non_null(c);
	assert_null(conn_find(cs, "other"));
	assert_int_equal(c->start, CONN_START_OFF);
	assert_false(c->remote_any);
	assert_int_equal(c->ike.mode, IPSEC_MODE_TUNNEL);
	assert_int_equal(c->ike.psk_len, strlen("some-text-secret-0123456789"));
	assert_int_equal(c->ike.n_local_ts, 1);
	assert_int_equal(c->ike.n_remote_ts, 2);
	assert_int_equal(c->ike.remote_ts[1].port_hi, 65535);
	/* Defaults: the proposals of proposal.h, the peer's address as
	 * its required ID, our own ID left to the address. */
	assert_true(c->ike.ike.n >= 2);
	assert_true(c->ike.esp.n >= 2);
	assert_int_equal(c->ike.remote_id.type, IKEV2_ID_IPV4_ADDR);
	assert_int_equal(c->ike.local_id.type, 0);
	assert_int_equal(c->ike.reqid, CONN_REQID_BASE);
	conn_free(cs);
}

static void test_options(void **state)
{
	static const char text[] = "[conn a]\n"
				   "local = 2001:db8::1\n"
				   "remote = %any\n"
				   "remote_id = @peer.example.org\n"
				   "local_id = me@example.org\n"
				   "auth = psk\n"
				   "psk = 0x00112233445566778899aabbccddeeff\n"
				   "local_ts = 2001:db8:a::/48\n"
				   "remote_ts = 2001:db8:b::/48\n"
				   "ike = aes128gcm16-prfsha256-x25519\n"
				   "esp = aes128gcm16\n"
				   "[conn b]\n"
				   "local = 192.0.2.1\n"
				   "remote = 192.0.2.2\n"
				   "remote_id = %any\n"
				   "psk = secret-secret-secret\n"
				   "mode = transport\n"
				   "start = trap\n";
	struct conn_set *cs;
	struct conn_cfg *c;

	(void)state;
	assert_int_equal(load(text, &cs), 0);
	c = conn_find(cs, "a");
	assert_non_null(c);
	assert_true(c->remote_any);
	assert_int_equal(c->ike.psk_len, 16);
	assert_int_equal(c->ike.remote_id.type, IKEV2_ID_FQDN);
	assert_int_equal(c->ike.local_id.type, IKEV2_ID_RFC822_ADDR);
	assert_int_equal(c->ike.ike.n, 1);
	assert_int_equal(c->ike.esp.n, 1);
	c = conn_find(cs, "b");
	assert_non_null(c);
	assert_int_equal(c->start, CONN_START_TRAP);
	assert_int_equal(c->ike.mode, IPSEC_MODE_TRANSPORT);
	/* Transport mode: the two hosts by default; %any: any peer ID. */
	assert_int_equal(c->ike.n_local_ts, 1);
	assert_int_equal(c->ike.local_ts[0].net.len, 32);
	assert_int_equal(c->ike.remote_id.type, 0);
	assert_int_equal(c->ike.reqid, CONN_REQID_BASE + 1);
	conn_free(cs);
}

static void test_errors(void **state)
{
	static const char text[] = "[conn x]\n"
				   "local = 192.0.2.1\n"
				   "remote = 192.0.2.300\n"
				   "psk = pw-pw-pw-pw-pw-pw-pw\n"
				   "local_ts = 198.51.100.0/24\n"
				   "remote_ts = 198.51.100.17/28\n"
				   "ike = aes128-nonsense\n"
				   "mode = tunel\n"
				   "start = maybe\n"
				   "auth = pubkey\n"
				   "colour = blue\n";
	struct conn_set *cs;
	const char *log;

	(void)state;
	assert_int_equal(load(text, &cs), ERR_CONFIG);
	assert_null(cs);
	log = logged();
	assert_non_null(strstr(log, "t.conf:3: [conn x] remote:"));
	assert_non_null(strstr(log, "t.conf:6: [conn x] remote_ts:"));
	assert_non_null(strstr(log, "t.conf:7: [conn x] ike:"));
	assert_non_null(strstr(log, "t.conf:8: [conn x] mode:"));
	assert_non_null(strstr(log, "t.conf:9: [conn x] start:"));
	assert_non_null(strstr(log, "t.conf:10: [conn x] auth:"));
	/* Unknown keys are reported by manual_load's ini_check_unused. */
	assert_non_null(strstr(log, "t.conf:11: unknown key 'colour'"));
}

static void test_missing(void **state)
{
	static const char text[] = "[conn y]\n"
				   "remote = %any\n"
				   "start = on\n";
	struct conn_set *cs;
	const char *log;

	(void)state;
	assert_int_equal(load(text, &cs), ERR_CONFIG);
	log = logged();
	assert_non_null(strstr(log, "missing 'local'"));
	assert_non_null(strstr(log, "missing 'psk'"));
	assert_non_null(strstr(log, "missing 'local_ts'"));
	assert_non_null(strstr(log, "missing 'remote_ts'"));
	assert_non_null(strstr(log, "can only respond"));
}

static void test_psk_file(void **state)
{
	char path[] = "/tmp/ipsecd-test-psk.XXXXXX", text[512];
	struct conn_set *cs;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "file-secret-0123456789\n", 23), 23);
	close(fd);
	snprintf(text, sizeof(text),
		 "[conn f]\nlocal = 192.0.2.1\nremote = 192.0.2.2\n"
		 "psk = file:%s\nlocal_ts = 198.51.100.0/24\n"
		 "remote_ts = 198.51.100.16/28\n",
		 path);
	/* mkstemp makes it 0600. */
	assert_int_equal(load(text, &cs), 0);
	assert_int_equal(cs->conns[0].ike.psk_len, 22);
	assert_memory_equal(cs->conns[0].ike.psk, "file-secret-0123456789", 22);
	conn_free(cs);
	/* Readable by others: refused, naming the line and the fix. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(load(text, &cs), ERR_CONFIG);
	assert_non_null(strstr(logged(), "t.conf:4: [conn f] psk:"));
	unlink(path);
}

/* RFC 7296 §3.5 ID types in strongSwan's syntax (conn_id_parse). */
static void test_id_types(void **state)
{
	static const struct {
		const char *in;
		int r;
		uint8_t type;
		const char *data; /* text, or NULL: check len only */
		size_t len;
	} v[] = {
		{ "192.0.2.7", 0, IKEV2_ID_IPV4_ADDR, "\xc0\x00\x02\x07", 4 },
		{ "2001:db8::1", 0, IKEV2_ID_IPV6_ADDR, NULL, 16 },
		{ "gw.example", 0, IKEV2_ID_FQDN, "gw.example", 10 },
		{ "@gw.example", 0, IKEV2_ID_FQDN, "gw.example", 10 },
		{ "user@example.com", 0, IKEV2_ID_RFC822_ADDR,
		  "user@example.com", 16 },
		{ "@@user", 0, IKEV2_ID_RFC822_ADDR, "user", 4 },
		{ "@#0a0B0c", 0, IKEV2_ID_KEY_ID, "\x0a\x0b\x0c", 3 },
		{ "keyid:abc", 0, IKEV2_ID_KEY_ID, "abc", 3 },
		{ "keyid:#00ff", 0, IKEV2_ID_KEY_ID, "\x00\xff", 2 },
		{ "fqdn:192.0.2.7", 0, IKEV2_ID_FQDN, "192.0.2.7", 9 },
		{ "email:a@b", 0, IKEV2_ID_RFC822_ADDR, "a@b", 3 },
		{ "ipv4:192.0.2.1", 0, IKEV2_ID_IPV4_ADDR, NULL, 4 },
		{ "ipv4:#c0000201", 0, IKEV2_ID_IPV4_ADDR, "\xc0\x00\x02\x01",
		  4 },
		{ "%any", 0, 0, NULL, 0 },
		{ "*", 0, 0, NULL, 0 },
		/* Errors. */
		{ "@#0a0", ERR_INVAL, 0, NULL, 0 },
		{ "@#zz", ERR_INVAL, 0, NULL, 0 },
		{ "@", ERR_INVAL, 0, NULL, 0 },
		{ "ipv4:2001:db8::1", ERR_INVAL, 0, NULL, 0 },
		{ "ipv4:#c00002", ERR_INVAL, 0, NULL, 0 },
		{ "2001:db8::g", ERR_INVAL, 0, NULL, 0 },
		/* DNs (ike_pki.c): the DER of the Name. */
		{ "C=CH, O=strongSwan, CN=gw", 0, IKEV2_ID_DER_ASN1_DN, NULL,
		  49 },
		{ "asn1dn:#3000", 0, IKEV2_ID_DER_ASN1_DN, "\x30\x00", 2 },
		{ "C=CHE, CN=gw", ERR_INVAL, 0, NULL, 0 },
		{ "asn1gn:#3000", ERR_UNSUPPORTED, 0, NULL, 0 },
	};
	struct ike_id id;
	const char *why;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		r = conn_id_parse(v[i].in, &id, &why);
		if (r != v[i].r)
			fail_msg("'%s': got %d, want %d", v[i].in, r, v[i].r);
		if (r) {
			assert_non_null(why);
			continue;
		}
		if (id.type != v[i].type || id.len != v[i].len)
			fail_msg("'%s': type %u len %u, want %u %zu", v[i].in,
				 id.type, id.len, v[i].type, v[i].len);
		if (v[i].data)
			assert_memory_equal(id.data, v[i].data, v[i].len);
	}
}

static void test_id_errors(void **state)
{
	static const char text[] = "[conn i]\n"
				   "local = 192.0.2.1\n"
				   "remote = 192.0.2.2\n"
				   "local_id = %any\n"
				   "remote_id = C=CHE, CN=peer\n"
				   "psk = secret-secret-secret\n"
				   "local_ts = 198.51.100.0/24\n"
				   "remote_ts = 198.51.100.16/28\n"
				   "[conn j]\n"
				   "local = 192.0.2.1\n"
				   "remote = 192.0.2.3\n"
				   "local_id = @#0a0b\n"
				   "remote_id = @@carol@example.org\n"
				   "psk = secret-secret-secret\n"
				   "local_ts = 198.51.100.32/28\n"
				   "remote_ts = 198.51.100.48/28\n";
	struct conn_set *cs;
	const char *log;

	(void)state;
	assert_int_equal(load(text, &cs), ERR_CONFIG);
	log = logged();
	assert_non_null(strstr(log, "t.conf:4: [conn i] local_id: '%any' is "
				    "a wildcard"));
	assert_non_null(strstr(log, "t.conf:5: [conn i] remote_id: 'C=CHE, "
				    "CN=peer' has a value that does not fit"));
	/* The valid section is not blamed. */
	assert_null(strstr(log, "[conn j]"));
}

/* What ipsecctl reload compares (conn_same). */
static void test_same(void **state)
{
	static const char base[] = "[conn s]\n"
				   "local = 192.0.2.1\n"
				   "remote = 192.0.2.2\n"
				   "psk = secret-secret-secret\n"
				   "local_ts = 198.51.100.0/24\n"
				   "remote_ts = 198.51.100.16/28\n"
				   "start = %s\n"
				   "esp = %s\n";
	char t1[512], t2[512];
	struct conn_set *a, *b;

	(void)state;
	snprintf(t1, sizeof(t1), base, "on", "aes128gcm16");
	assert_int_equal(load(t1, &a), 0);
	assert_int_equal(load(t1, &b), 0);
	assert_true(conn_same(&a->conns[0], &b->conns[0]));
	conn_free(b);
	/* Only start: applied without a restart. */
	snprintf(t2, sizeof(t2), base, "off", "aes128gcm16");
	assert_int_equal(load(t2, &b), 0);
	assert_true(conn_same(&a->conns[0], &b->conns[0]));
	conn_free(b);
	/* Anything else: a change. */
	snprintf(t2, sizeof(t2), base, "on", "aes256gcm16");
	assert_int_equal(load(t2, &b), 0);
	assert_false(conn_same(&a->conns[0], &b->conns[0]));
	conn_free(b);
	conn_free(a);
}

/* The same PSK file with new contents is a change. */
static void test_same_psk_file(void **state)
{
	char path[] = "/tmp/ipsecd-test-psk2.XXXXXX", text[512];
	struct conn_set *a, *b;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "first-secret-0123456789\n", 24), 24);
	close(fd);
	snprintf(text, sizeof(text),
		 "[conn f]\nlocal = 192.0.2.1\nremote = 192.0.2.2\n"
		 "psk = file:%s\nlocal_ts = 198.51.100.0/24\n"
		 "remote_ts = 198.51.100.16/28\n",
		 path);
	assert_int_equal(load(text, &a), 0);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "other-secret-0123456789\n", 24), 24);
	close(fd);
	assert_int_equal(load(text, &b), 0);
	assert_false(conn_same(&a->conns[0], &b->conns[0]));
	conn_free(a);
	conn_free(b);
	unlink(path);
}

/* An inline PSK in a config file others can read: a warning. */
static void test_inline_psk_mode(void **state)
{
	static const char text[] = "[conn w]\n"
				   "local = 192.0.2.1\n"
				   "remote = 192.0.2.2\n"
				   "psk = inline-secret-0123456789\n"
				   "local_ts = 198.51.100.0/24\n"
				   "remote_ts = 198.51.100.16/28\n";
	char path[] = "/tmp/ipsecd-test-conf.XXXXXX";
	struct conn_set *cs;
	struct ini *ini;
	const char *log;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	logged();
	assert_int_equal(ini_load(path, &ini), 0);
	assert_int_equal(conn_load(ini, &cs), 0);
	conn_free(cs);
	ini_free(ini);
	log = logged();
	assert_non_null(strstr(log, "[conn w] psk: the key is inline in a "
				    "file that everyone can read (mode 644)"));
	assert_non_null(strstr(log, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(ini_load(path, &ini), 0);
	assert_int_equal(conn_load(ini, &cs), 0);
	conn_free(cs);
	ini_free(ini);
	assert_null(strstr(logged(), "inline"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),	 cmocka_unit_test(test_options),
		cmocka_unit_test(test_errors),	 cmocka_unit_test(test_missing),
		cmocka_unit_test(test_psk_file),
		cmocka_unit_test(test_id_types), cmocka_unit_test(test_id_errors),
		cmocka_unit_test(test_same),	 cmocka_unit_test(test_same_psk_file),
		cmocka_unit_test(test_inline_psk_mode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
