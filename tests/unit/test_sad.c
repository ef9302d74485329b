/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the SA database (esp/sad.h): keys, reqid lookup,
 * update, delete with references outstanding, and worker threads
 * sharing SAs while keying adds and deletes others.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "esp/esp.h"
#include "esp/ip.h"
#include "esp/sad.h"

static void params(struct sa_params *p, enum ipsec_proto proto, uint32_t spi,
		   enum sa_dir dir, uint32_t reqid)
{
	memset(p, 0, sizeof(*p));
	p->spi = spi;
	p->proto = proto;
	p->dir = dir;
	p->mode = IPSEC_MODE_TUNNEL;
	addr_parse("192.0.2.1", dir == SA_DIR_OUT ? &p->src : &p->dst);
	addr_parse("192.0.2.2", dir == SA_DIR_OUT ? &p->dst : &p->src);
	p->reqid = reqid;
	p->replay_window = 128;
	if (proto == IPSEC_PROTO_ESP) {
		p->encr = encr_by_kat_name("aes-gcm-128-icv16");
		p->enc_key_len = 20;
		memset(p->enc_key, 0x42, 20);
	} else {
		p->integ = integ_by_name("sha256");
		p->integ_key_len = 32;
		memset(p->integ_key, 0x24, 32);
	}
}

struct key_row {
	enum ipsec_proto proto;
	uint32_t spi;
	enum sa_dir dir;
	uint32_t reqid;
	int want;
};

static const struct key_row rows[] = {
	/* 0 */ { IPSEC_PROTO_ESP, 0x100, SA_DIR_IN, 1, 0 },
	/* 1: same SPI, other direction */
	{ IPSEC_PROTO_ESP, 0x100, SA_DIR_OUT, 1, 0 },
	/* 2: same SPI, other protocol */
	{ IPSEC_PROTO_AH, 0x100, SA_DIR_IN, 1, 0 },
	/* 3: duplicate key */
	{ IPSEC_PROTO_ESP, 0x100, SA_DIR_IN, 2, ERR_EXISTS },
	/* 4..5: rekeyed outbound SA of reqid 1, and another reqid */
	{ IPSEC_PROTO_ESP, 0x200, SA_DIR_OUT, 1, 0 },
	{ IPSEC_PROTO_ESP, 0x300, SA_DIR_OUT, 7, 0 },
	/* 6: SPI 0 and a colliding hash bucket still work */
	{ IPSEC_PROTO_ESP, 0, SA_DIR_IN, 3, 0 },
	{ IPSEC_PROTO_ESP, 0x100 + 4096, SA_DIR_IN, 3, 0 },
};

static void test_keys(void **state)
{
	struct sa_params p;
	struct ipsec_sa *sa;
	struct sa_stats st;
	struct sad *s;
	unsigned i;

	(void)state;
	assert_int_equal(sad_new(&s), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		params(&p, rows[i].proto, rows[i].spi, rows[i].dir,
		       rows[i].reqid);
		if (sad_add(s, &p) != rows[i].want)
			fail_msg("case %u: add", i);
	}
	assert_int_equal(sad_count(s), 7);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].want)
			continue;
		sa = sad_lookup(s, rows[i].proto, rows[i].spi, rows[i].dir);
		if (!sa || sa->p.spi != rows[i].spi ||
		    sa->p.proto != rows[i].proto || sa->p.dir != rows[i].dir)
			fail_msg("case %u: lookup", i);
		/* Keys are wiped from the copy once contexts exist. */
		assert_int_equal(sa->p.enc_key[0] | sa->p.integ_key[0], 0);
		ipsec_sa_put(sa);
	}
	assert_null(sad_lookup_in(s, IPSEC_PROTO_AH, 0x200));
	assert_null(sad_lookup_in(s, IPSEC_PROTO_ESP, 0x101));
	/* Newest outbound SA of a reqid wins. */
	sa = sad_lookup_out(s, 1);
	assert_non_null(sa);
	assert_int_equal(sa->p.spi, 0x200);
	ipsec_sa_put(sa);
	assert_int_equal(sad_del(s, IPSEC_PROTO_ESP, 0x200, SA_DIR_OUT), 0);
	sa = sad_lookup_out(s, 1);
	assert_non_null(sa);
	assert_int_equal(sa->p.spi, 0x100);
	ipsec_sa_put(sa);
	assert_null(sad_lookup_out(s, 99));
	assert_int_equal(sad_del(s, IPSEC_PROTO_ESP, 0x200, SA_DIR_OUT),
			 ERR_NOTFOUND);
	assert_int_equal(sad_get_stats(s, IPSEC_PROTO_ESP, 0x100, SA_DIR_IN,
				       &st),
			 0);
	assert_int_equal(sad_get_stats(s, IPSEC_PROTO_ESP, 0x999, SA_DIR_IN,
				       &st),
			 ERR_NOTFOUND);
	sad_free(s);
}

static void test_update_and_refs(void **state)
{
	struct sa_params p;
	struct ipsec_sa *sa;
	struct sad *s;

	(void)state;
	assert_int_equal(sad_new(&s), 0);
	params(&p, IPSEC_PROTO_ESP, 0x55, SA_DIR_OUT, 9);
	assert_int_equal(sad_add(s, &p), 0);
	/* MOBIKE / NAT: new address and encap ports. */
	addr_parse("198.51.100.9", &p.src);
	p.encap_sport = 4500;
	p.encap_dport = 4501;
	p.hard.packets = 10;
	assert_int_equal(sad_update(s, &p), 0);
	sa = sad_lookup(s, IPSEC_PROTO_ESP, 0x55, SA_DIR_OUT);
	assert_non_null(sa);
	assert_true(sa->udp);
	assert_int_equal(sa->p.encap_dport, 4501);
	assert_int_equal(sa->p.src.u.b[0], 198);
	/* Algorithms cannot change. */
	p.encr = encr_by_kat_name("aes-gcm-256-icv16");
	assert_int_equal(sad_update(s, &p), ERR_INVAL);
	p.spi = 0x56;
	assert_int_equal(sad_update(s, &p), ERR_NOTFOUND);
	/* Deleted while referenced: still usable until put. */
	assert_int_equal(sad_del(s, IPSEC_PROTO_ESP, 0x55, SA_DIR_OUT), 0);
	assert_int_equal(sad_count(s), 0);
	assert_int_equal(sa->p.spi, 0x55);
	ipsec_sa_put(sa);
	sad_free(s);
	sad_free(NULL);
	ipsec_sa_put(NULL);
}

#define N_THREADS 4
#define N_PKTS 300

struct worker_arg {
	struct sad *sad;
	uint8_t pkts[N_PKTS / N_THREADS][160];
	size_t lens[N_PKTS / N_THREADS];
	unsigned ok;
};

static void *worker(void *v)
{
	struct worker_arg *w = v;
	static __thread uint8_t buf[PKT_BUF_SIZE];
	struct ipsec_sa *sa;
	struct pkt pkt;
	unsigned i;

	for (i = 0; i < N_PKTS / N_THREADS; i++) {
		sa = sad_lookup_in(w->sad, IPSEC_PROTO_ESP, 0x77);
		if (!sa)
			continue;
		pkt_init(&pkt, buf, sizeof(buf), PKT_HEADROOM);
		memcpy(pkt_data(&pkt), w->pkts[i], w->lens[i]);
		pkt.len = w->lens[i];
		if (esp_decap(sa, &pkt) == 0)
			w->ok++;
		ipsec_sa_put(sa);
	}
	return NULL;
}

static void *churn(void *v)
{
	struct sad *s = v;
	struct sa_params p;
	unsigned i;

	for (i = 0; i < 200; i++) {
		params(&p, IPSEC_PROTO_ESP, 0x1000 + i % 16, SA_DIR_IN, 1);
		sad_add(s, &p);
		sad_del(s, IPSEC_PROTO_ESP, 0x1000 + (i + 8) % 16, SA_DIR_IN);
	}
	return NULL;
}

/* Workers share one inbound SA; every packet is accepted exactly once. */
static void test_threads(void **state)
{
	static struct worker_arg args[N_THREADS];
	static uint8_t buf[PKT_BUF_SIZE];
	pthread_t th[N_THREADS + 1];
	struct ipsec_sa *out;
	struct sa_params p;
	struct sa_stats st;
	struct pkt pkt;
	struct sad *s;
	unsigned i, t, total = 0;
	uint8_t inner[60];

	(void)state;
	assert_int_equal(sad_new(&s), 0);
	params(&p, IPSEC_PROTO_ESP, 0x77, SA_DIR_IN, 1);
	/* Threads run at different speeds: keep all 300 in the window. */
	p.replay_window = REPLAY_WINDOW_MAX;
	assert_int_equal(sad_add(s, &p), 0);
	params(&p, IPSEC_PROTO_ESP, 0x77, SA_DIR_OUT, 1);
	assert_int_equal(ipsec_sa_new(&p, &out), 0);
	memset(inner, 0, sizeof(inner));
	inner[0] = 0x45;
	be16_store(inner + 2, sizeof(inner));
	inner[8] = 64;
	inner[9] = 17;
	ipv4_set_csum(inner, 20);
	for (i = 0; i < N_PKTS; i++) {
		struct worker_arg *w = &args[i % N_THREADS];

		pkt_init(&pkt, buf, sizeof(buf), PKT_HEADROOM);
		memcpy(pkt_data(&pkt), inner, sizeof(inner));
		pkt.len = sizeof(inner);
		assert_int_equal(esp_encap(out, &pkt), 0);
		assert_true(pkt.len <= sizeof(w->pkts[0]));
		memcpy(w->pkts[i / N_THREADS], pkt_data(&pkt), pkt.len);
		w->lens[i / N_THREADS] = pkt.len;
		w->sad = s;
		w->ok = 0;
	}
	/* Every thread also gets thread 0's packets: duplicates. */
	for (t = 1; t < N_THREADS; t++) {
		memcpy(args[t].pkts[0], args[0].pkts[0], args[0].lens[0]);
		args[t].lens[0] = args[0].lens[0];
	}
	for (t = 0; t < N_THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, worker,
						&args[t]),
				 0);
	assert_int_equal(pthread_create(&th[N_THREADS], NULL, churn, s), 0);
	for (t = 0; t <= N_THREADS; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < N_THREADS; t++)
		total += args[t].ok;
	/* N_THREADS - 1 packets were replaced by copies of packet 1. */
	assert_int_equal(sad_get_stats(s, IPSEC_PROTO_ESP, 0x77, SA_DIR_IN,
				       &st),
			 0);
	assert_int_equal(total, N_PKTS - (N_THREADS - 1));
	assert_int_equal(st.packets, total);
	assert_int_equal(st.replay_drops, N_THREADS - 1);
	ipsec_sa_put(out);
	sad_free(s);
}

#define N_ENC 100

struct enc_arg {
	struct ipsec_sa *out;
	uint8_t pkts[N_ENC][160];
	size_t lens[N_ENC];
	int err;
};

static void *encrypter(void *v)
{
	struct enc_arg *a = v;
	static __thread uint8_t buf[PKT_BUF_SIZE];
	struct pkt pkt;
	unsigned i;

	for (i = 0; i < N_ENC; i++) {
		pkt_init(&pkt, buf, sizeof(buf), PKT_HEADROOM);
		memset(pkt_data(&pkt), 0, 60);
		pkt_data(&pkt)[0] = 0x45;
		pkt_data(&pkt)[3] = 60;
		pkt_data(&pkt)[8] = 64;
		ipv4_set_csum(pkt_data(&pkt), 20);
		pkt.len = 60;
		a->err |= esp_encap(a->out, &pkt);
		if (pkt.len > sizeof(a->pkts[i]))
			a->err = 1;
		else
			memcpy(a->pkts[i], pkt_data(&pkt), pkt.len);
		a->lens[i] = pkt.len;
	}
	return NULL;
}

/* Threads share one outbound SA: every packet gets its own number. */
static void test_threads_encap(void **state)
{
	static struct enc_arg args[N_THREADS];
	static uint8_t buf[PKT_BUF_SIZE];
	pthread_t th[N_THREADS];
	struct ipsec_sa *out, *in;
	struct sa_params p;
	struct sa_stats st;
	struct pkt pkt;
	unsigned t, i;

	(void)state;
	params(&p, IPSEC_PROTO_ESP, 0x88, SA_DIR_OUT, 1);
	assert_int_equal(ipsec_sa_new(&p, &out), 0);
	params(&p, IPSEC_PROTO_ESP, 0x88, SA_DIR_IN, 1);
	p.replay_window = REPLAY_WINDOW_MAX;
	assert_int_equal(ipsec_sa_new(&p, &in), 0);
	for (t = 0; t < N_THREADS; t++) {
		args[t].out = out;
		args[t].err = 0;
		assert_int_equal(pthread_create(&th[t], NULL, encrypter,
						&args[t]),
				 0);
	}
	for (t = 0; t < N_THREADS; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < N_THREADS; t++) {
		assert_int_equal(args[t].err, 0);
		for (i = 0; i < N_ENC; i++) {
			pkt_init(&pkt, buf, sizeof(buf), PKT_HEADROOM);
			memcpy(pkt_data(&pkt), args[t].pkts[i],
			       args[t].lens[i]);
			pkt.len = args[t].lens[i];
			if (esp_decap(in, &pkt))
				fail_msg("case %u/%u: decap failed", t, i);
		}
	}
	ipsec_sa_get_stats(out, &st);
	assert_int_equal(st.seq, N_THREADS * N_ENC);
	ipsec_sa_get_stats(in, &st);
	assert_int_equal(st.packets, N_THREADS * N_ENC);
	assert_int_equal(st.replay_drops, 0);
	ipsec_sa_put(out);
	ipsec_sa_put(in);
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LS_ESP, LL_ERR);
	return crypto_init();
}

static int teardown(void **state)
{
	(void)state;
	crypto_fini();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_update_and_refs),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_threads_encap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
