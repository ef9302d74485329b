/* SPDX-License-Identifier: MIT */
/*
 * ESP micro-benchmark: esp_encap and esp_decap per second on one thread,
 * tunnel mode, IPv4 outer and inner (a UDP packet), for 64- and
 * 1400-byte inner packets, so the per-packet cost of the crypto and ESP
 * layers can be measured without sockets or TUN.
 *
 *   esp-micro [-t SECONDS] [-a ALG] [-s SIZE] [-o encap|decap|seal]
 *
 * Each timed iteration first copies the packet into the work buffer
 * (ESP works in place), so the figures include one memcpy of the packet;
 * the "copy" line shows what that costs alone.  "seal" is aead_seal
 * alone on the same payload, the floor under encap for the AEADs.
 * Decap runs over a ring of packets with consecutive sequence numbers;
 * the replay window is reset between rounds of the ring.
 *
 * Each figure is the best of TRIALS runs of SECONDS/TRIALS each: on a
 * shared machine the minimum filters out time lost to preemption.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "esp/esp.h"
#include "esp/ip.h"
#include "esp/sad.h"

#define RING 256
#define TRIALS 5
#define SPI 0x1000a001u

struct bench_alg {
	const char *encr;
	const char *integ; /* NULL for AEAD */
};

static const struct bench_alg algs[] = {
	{"aes128gcm16", NULL},
	{"aes256gcm16", NULL},
	{"chacha20poly1305", NULL},
	{"aes128", "sha256"},
};

static const size_t sizes[] = {64, 1400};

static uint8_t work[PKT_BUF_SIZE];
static uint8_t ring[RING][PKT_HEADROOM + 1600];
static size_t ring_len[RING];

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void v4(struct ip_addr *a, uint8_t b0, uint8_t b1, uint8_t b2,
	       uint8_t b3)
{
	uint8_t b[4] = {b0, b1, b2, b3};

	addr_from_bytes(a, b, 4);
}

/* An IPv4/UDP packet of exactly len bytes (len >= 28). */
static void make_inner(uint8_t *p, size_t len)
{
	size_t i;

	memset(p, 0, len);
	p[0] = 0x45;
	be16_store(p + 2, (uint16_t)len);
	p[6] = 0x40;
	p[8] = 64;
	p[9] = IPPROTO_NUM_UDP;
	p[12] = 10;
	p[15] = 1;
	p[16] = 10;
	p[17] = 9;
	p[19] = 2;
	ipv4_set_csum(p, 20);
	be16_store(p + 20, 1234);
	be16_store(p + 22, 5678);
	be16_store(p + 24, (uint16_t)(len - 20));
	for (i = 28; i < len; i++)
		p[i] = (uint8_t)i;
}

static int make_sa(const struct bench_alg *ba, enum sa_dir dir,
		   struct ipsec_sa **out)
{
	struct sa_params p;
	size_t k;

	memset(&p, 0, sizeof(p));
	p.spi = SPI;
	p.proto = IPSEC_PROTO_ESP;
	p.mode = IPSEC_MODE_TUNNEL;
	p.dir = dir;
	v4(&p.src, 192, 0, 2, dir == SA_DIR_OUT ? 1 : 2);
	v4(&p.dst, 192, 0, 2, dir == SA_DIR_OUT ? 2 : 1);
	p.encr = encr_by_name(ba->encr);
	p.integ = ba->integ ? integ_by_name(ba->integ) : NULL;
	if (!p.encr || (ba->integ && !p.integ))
		return ERR_UNSUPPORTED;
	p.enc_key_len = (uint8_t)(p.encr->key_len + p.encr->salt_len);
	for (k = 0; k < p.enc_key_len; k++)
		p.enc_key[k] = (uint8_t)(0x11 * k + 3);
	if (p.integ) {
		p.integ_key_len = p.integ->key_len;
		for (k = 0; k < p.integ_key_len; k++)
			p.integ_key[k] = (uint8_t)(0x5a ^ k);
	}
	p.replay_window = REPLAY_WINDOW_DEFAULT;
	return ipsec_sa_new(&p, out);
}

/* Iterations per timing check: cheap enough to look at the clock. */
#define BATCH 1024

static double run_copy(const uint8_t *inner, size_t len, double secs)
{
	struct pkt pkt;
	double t0 = now_ns(), t;
	unsigned long n = 0;
	unsigned i;

	do {
		for (i = 0; i < BATCH; i++) {
			pkt_init(&pkt, work, sizeof(work), PKT_HEADROOM);
			memcpy(pkt_data(&pkt), inner, len);
			pkt.len = len;
			__asm__ volatile("" : : "r"(work) : "memory");
		}
		n += BATCH;
		t = now_ns() - t0;
	} while (t < secs * 1e9);
	return t / (double)n;
}

static double run_encap(struct ipsec_sa *out, const uint8_t *inner, size_t len,
			double secs)
{
	struct pkt pkt;
	double t0 = now_ns(), t;
	unsigned long n = 0;
	unsigned i;

	do {
		for (i = 0; i < BATCH; i++) {
			pkt_init(&pkt, work, sizeof(work), PKT_HEADROOM);
			memcpy(pkt_data(&pkt), inner, len);
			pkt.len = len;
			if (esp_encap(out, &pkt)) {
				fprintf(stderr, "encap failed\n");
				exit(1);
			}
		}
		n += BATCH;
		t = now_ns() - t0;
	} while (t < secs * 1e9);
	return t / (double)n;
}

/* The AEAD alone, on what encap would seal for this packet size. */
static double run_seal(struct ipsec_sa *out, size_t len, double secs)
{
	struct sa_crypto *c = &out->cs[0];
	uint8_t iv[8] = {0}, aad[8] = {1, 2, 3, 4, 0, 0, 0, 1}, tag[16];
	size_t pt = (len + 2 + 3) & ~(size_t)3;
	double t0 = now_ns(), t;
	unsigned long n = 0;
	unsigned i;

	if (!out->aead)
		return 0;
	do {
		for (i = 0; i < BATCH; i++) {
			be64_store(iv, n + i);
			if (aead_seal(c->encr, iv, aad, sizeof(aad), work, pt,
				      work, tag)) {
				fprintf(stderr, "seal failed\n");
				exit(1);
			}
		}
		n += BATCH;
		t = now_ns() - t0;
	} while (t < secs * 1e9);
	return t / (double)n;
}

static int fill_ring(struct ipsec_sa *out, const uint8_t *inner, size_t len)
{
	struct pkt pkt;
	unsigned i;
	int r;

	for (i = 0; i < RING; i++) {
		pkt_init(&pkt, work, sizeof(work), PKT_HEADROOM);
		memcpy(pkt_data(&pkt), inner, len);
		pkt.len = len;
		r = esp_encap(out, &pkt);
		if (r)
			return r;
		if (pkt.len > sizeof(ring[i]))
			return ERR_OVERFLOW;
		memcpy(ring[i], pkt_data(&pkt), pkt.len);
		ring_len[i] = pkt.len;
	}
	return 0;
}

static double run_decap(struct ipsec_sa *in, size_t inner_len, double secs)
{
	struct pkt pkt;
	double t0 = now_ns(), t;
	unsigned long n = 0;
	unsigned i;
	int r;

	do {
		ipsec_sa_set_replay_top(in, 0);
		for (i = 0; i < RING; i++) {
			pkt_init(&pkt, work, sizeof(work), PKT_HEADROOM);
			memcpy(pkt_data(&pkt), ring[i], ring_len[i]);
			pkt.len = ring_len[i];
			r = esp_decap(in, &pkt);
			if (r || pkt.len != inner_len) {
				fprintf(stderr, "decap failed: %s\n",
					err_str(r));
				exit(1);
			}
		}
		n += RING;
		t = now_ns() - t0;
	} while (t < secs * 1e9);
	return t / (double)n;
}

/* The smaller of two timings; 0 means none yet. */
static double best(double old, double ns)
{
	return old > 0 && old < ns ? old : ns;
}

static void usage(void)
{
	fprintf(stderr, "usage: esp-micro [-t SECONDS] [-a ALG] [-s SIZE] "
			"[-o encap|decap|seal]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static uint8_t inner[1600];
	const char *only_alg = NULL, *only_op = NULL;
	size_t only_size = 0, a, s, len;
	struct ipsec_sa *out, *in;
	double secs = 0.5, slice, ns;
	int opt, t;

	while ((opt = getopt(argc, argv, "t:a:s:o:")) != -1) {
		switch (opt) {
		case 't':
			secs = atof(optarg);
			break;
		case 'a':
			only_alg = optarg;
			break;
		case 's':
			only_size = (size_t)atoi(optarg);
			break;
		case 'o':
			only_op = optarg;
			break;
		default:
			usage();
		}
	}
	slice = secs / TRIALS;
	if (crypto_init()) {
		fprintf(stderr, "crypto_init failed\n");
		return 1;
	}
	printf("%-22s %5s %10s %10s %10s %10s\n", "algorithm", "size",
	       "encap ns", "decap ns", "seal ns", "Mpps enc");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		len = sizes[s];
		if (only_size && only_size != len)
			continue;
		make_inner(inner, len);
		if (!only_alg && !only_op)
			printf("%-22s %5zu %10.1f\n", "copy (included)", len,
			       run_copy(inner, len, secs / 4));
		for (a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
			char name[40];
			double enc = 0, dec = 0, seal = 0;

			if (only_alg && strcmp(only_alg, algs[a].encr))
				continue;
			if (make_sa(&algs[a], SA_DIR_OUT, &out) ||
			    make_sa(&algs[a], SA_DIR_IN, &in)) {
				fprintf(stderr, "%s: no SA\n", algs[a].encr);
				return 1;
			}
			for (t = 0; t < TRIALS; t++) {
				if (!only_op || !strcmp(only_op, "encap"))
					enc = best(enc, run_encap(out, inner,
								  len, slice));
				if (!only_op || !strcmp(only_op, "seal"))
					seal = best(seal,
						    run_seal(out, len, slice));
			}
			if (!only_op || !strcmp(only_op, "decap")) {
				if (fill_ring(out, inner, len)) {
					fprintf(stderr, "ring failed\n");
					return 1;
				}
				for (t = 0; t < TRIALS; t++)
					dec = best(dec,
						   run_decap(in, len, slice));
			}
			snprintf(name, sizeof(name), "%s%s%s", algs[a].encr,
				 algs[a].integ ? "-" : "",
				 algs[a].integ ? algs[a].integ : "");
			ns = enc;
			printf("%-22s %5zu %10.1f %10.1f %10.1f %10.2f\n", name,
			       len, enc, dec, seal, ns > 0 ? 1e3 / ns : 0.0);
			ipsec_sa_put(out);
			ipsec_sa_put(in);
		}
	}
	crypto_fini();
	return 0;
}
