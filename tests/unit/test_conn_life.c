/* SPDX-License-Identifier: MIT */
/* Unit tests for the lifetime and DPD keys of [conn] (conn_life.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "config/conn.h"
#include "config/manual.h"
#include "crypto/crypto.h"

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

#define BASE                                                                   \
	"[conn gw]\n"                                                          \
	"local = 192.0.2.10\n"                                                 \
	"remote = 192.0.2.20\n"                                                \
	"psk = some-text-secret-0123456789\n"                                  \
	"local_ts = 198.51.100.0/24\n"                                         \
	"remote_ts = 203.0.113.0/24\n"

/* conn_load() then manual_load() (which checks for unused keys). */
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

static void test_defaults(void **state)
{
	struct conn_set *cs;
	struct conn_cfg *c;
	uint64_t t;
	int i;

	(void)state;
	assert_int_equal(load(BASE "start = on\n", &cs), 0);
	c = conn_find(cs, "gw");
	assert_non_null(c);
	assert_int_equal(c->life.ike_lifetime, 4 * 3600);
	assert_int_equal(c->life.child_lifetime, 3600);
	assert_int_equal(c->life.rekey_margin, 0);
	assert_int_equal(c->life.dpd, 0);
	assert_int_equal(c->life.dpd_timeout, 30);
	assert_int_equal(c->life.life_bytes, 0);
	assert_int_equal(c->life.dpd_action, CONN_ACT_RESTART);
	assert_int_equal(c->life.close_action, CONN_ACT_CLEAR);
	/* 10 % margin (360 s) and up to half of it as jitter. */
	for (i = 0; i < 200; i++) {
		t = conn_life_rekey_after(&c->life, 3600);
		assert_true(t <= 3600 - 360 && t >= 3600 - 360 - 180);
	}
	conn_free(cs);
	assert_int_equal(load(BASE "start = trap\n", &cs), 0);
	assert_int_equal(cs->conns[0].life.dpd_action, CONN_ACT_TRAP);
	conn_free(cs);
	assert_int_equal(load(BASE, &cs), 0);
	assert_int_equal(cs->conns[0].life.dpd_action, CONN_ACT_CLEAR);
	conn_free(cs);
}

static void test_keys(void **state)
{
	struct conn_set *cs;
	struct conn_life *l;
	uint64_t t;
	int i;

	(void)state;
	assert_int_equal(load(BASE "ike_lifetime = 2h\n"
				   "child_lifetime = 20m\n"
				   "rekey_margin = 2m\n"
				   "life_bytes = 1G\n"
				   "life_packets = 1000000\n"
				   "dpd = 30s\n"
				   "dpd_timeout = 2m\n"
				   "dpd_action = trap\n"
				   "close_action = restart\n",
			      &cs),
			 0);
	l = &cs->conns[0].life;
	assert_int_equal(l->ike_lifetime, 7200);
	assert_int_equal(l->child_lifetime, 1200);
	assert_int_equal(l->rekey_margin, 120);
	assert_int_equal(l->life_bytes, 1024ull * 1024 * 1024);
	assert_int_equal(l->life_packets, 1000000);
	assert_int_equal(l->dpd, 30);
	assert_int_equal(l->dpd_timeout, 120);
	assert_int_equal(l->dpd_action, CONN_ACT_TRAP);
	assert_int_equal(l->close_action, CONN_ACT_RESTART);
	for (i = 0; i < 200; i++) {
		t = conn_life_rekey_after(l, 1200);
		assert_true(t <= 1080 && t >= 1020);
	}
	conn_free(cs);
	assert_int_equal(load(BASE "close_action = none\n", &cs), 0);
	assert_int_equal(cs->conns[0].life.close_action, CONN_ACT_CLEAR);
	conn_free(cs);
}

static void test_errors(void **state)
{
	struct conn_set *cs;

	(void)state;
	assert_int_equal(load(BASE "child_lifetime = 5s\n", &cs), ERR_CONFIG);
	assert_non_null(strstr(logged(), "t.conf:7: [conn gw] "
					 "child_lifetime: 5s is too short"));
	assert_int_equal(load(BASE "child_lifetime = 20s\n"
				   "rekey_margin = 11s\n",
			      &cs),
			 ERR_CONFIG);
	assert_non_null(strstr(logged(), "t.conf:8: [conn gw] rekey_margin: "
					 "must be at most half"));
	assert_int_equal(load(BASE "dpd_action = reboot\n", &cs), ERR_CONFIG);
	assert_non_null(strstr(logged(), "dpd_action: 'reboot' is not valid"));
	assert_int_equal(load(BASE "life_packets = lots\n", &cs), ERR_CONFIG);
	assert_non_null(strstr(logged(), "life_packets: 'lots' is not a"));
	assert_int_equal(load(BASE "dpd = soon\n", &cs), ERR_CONFIG);
	assert_int_equal(load(BASE "ike_lifetime = 0\n", &cs), ERR_CONFIG);
	assert_non_null(strstr(logged(), "ike_lifetime: must not be 0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
