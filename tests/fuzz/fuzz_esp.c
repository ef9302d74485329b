/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the inbound ESP/AH path: arbitrary bytes go to
 * the demultiplexer, then through a SAD lookup to ESP or AH decap, and
 * also straight to every fixed SA (so SPI/proto mismatches and every
 * header check are hit whatever the SPI).  The SAs: AES-GCM tunnel,
 * AES-CBC+HMAC-SHA256 transport, ESP-in-UDP (GCM transport), AES-CBC
 * without integrity (so the fuzzer reaches padding and next-header
 * checks), AH HMAC-SHA256 and AH-GMAC.  Invariants: decap never
 * succeeds with a result outside the buffer, and any error leaves the
 * packet as it was given (offset and length).
 *
 * Built with -DFUZZ_ESP_GEN instead, this file is a program that writes
 * the seed corpus (valid packets for these SAs) into the folder given:
 *   cc -DFUZZ_ESP_GEN -Isrc ... tests/fuzz/fuzz_esp.c libipsecd.a
 *   ./gen tests/fuzz/corpus/esp
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "esp/esp.h"
#include "esp/ip.h"
#include "esp/ipsec.h"
#include "esp/sad.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_sa {
	uint32_t spi;
	enum ipsec_proto proto;
	enum ipsec_mode mode;
	const char *enc;	/* kat name; AH-GMAC: the GMAC alg */
	const char *integ;	/* proposal keyword or NULL */
	bool udp;
	bool esn;
	int fam;
};

static const struct fz_sa fz_sas[] = {
	{ 0x100, IPSEC_PROTO_ESP, IPSEC_MODE_TUNNEL, "aes-gcm-128-icv16",
	  NULL, false, false, 4 },
	{ 0x200, IPSEC_PROTO_ESP, IPSEC_MODE_TRANSPORT, "aes-cbc-128",
	  "sha256", false, true, 4 },
	{ 0x300, IPSEC_PROTO_ESP, IPSEC_MODE_TRANSPORT, "aes-gcm-256-icv16",
	  NULL, true, false, 4 },
	{ 0x400, IPSEC_PROTO_ESP, IPSEC_MODE_TUNNEL, "aes-cbc-128", NULL,
	  false, false, 6 },
	{ 0x500, IPSEC_PROTO_AH, IPSEC_MODE_TRANSPORT, NULL, "sha256", false,
	  false, 4 },
	{ 0x600, IPSEC_PROTO_AH, IPSEC_MODE_TUNNEL, "aes-gmac-128", NULL,
	  false, false, 6 },
};
#define N_SAS (sizeof(fz_sas) / sizeof(fz_sas[0]))

static void fz_params(const struct fz_sa *f, enum sa_dir dir,
		      struct sa_params *p)
{
	uint8_t a[16] = { 0 };
	size_t k;

	memset(p, 0, sizeof(*p));
	p->spi = f->spi;
	p->proto = f->proto;
	p->mode = f->mode;
	p->dir = dir;
	a[0] = f->fam == 4 ? 192 : 0x20;
	a[f->fam == 4 ? 3 : 15] = dir == SA_DIR_OUT ? 1 : 2;
	addr_from_bytes(&p->src, a, f->fam == 4 ? 4 : 16);
	a[f->fam == 4 ? 3 : 15] = dir == SA_DIR_OUT ? 2 : 1;
	addr_from_bytes(&p->dst, a, f->fam == 4 ? 4 : 16);
	if (f->udp) {
		p->encap_sport = IPSEC_NATT_PORT;
		p->encap_dport = IPSEC_NATT_PORT;
	}
	if (f->enc) {
		p->encr = encr_by_kat_name(f->enc);
		p->enc_key_len = (uint8_t)(p->encr->key_len +
					   p->encr->salt_len);
		for (k = 0; k < p->enc_key_len; k++)
			p->enc_key[k] = (uint8_t)(k + f->spi);
	}
	if (f->integ) {
		p->integ = integ_by_name(f->integ);
		p->integ_key_len = p->integ->key_len;
		for (k = 0; k < p->integ_key_len; k++)
			p->integ_key[k] = (uint8_t)(0x80 + k);
	}
	p->esn = f->esn;
	p->replay_window = 64;
}

#ifndef FUZZ_ESP_GEN

static struct sad *fz_sad;
static struct ipsec_sa *fz_in[N_SAS];
static uint8_t fz_buf[PKT_BUF_SIZE];

static void fz_init(void)
{
	struct sa_params p;
	unsigned i;

	log_set_all_levels(LL_ERR);
	if (crypto_init() || sad_new(&fz_sad))
		abort();
	for (i = 0; i < N_SAS; i++) {
		fz_params(&fz_sas[i], SA_DIR_IN, &p);
		if (ipsec_sa_new(&p, &fz_in[i]) || sad_insert(fz_sad, fz_in[i]))
			abort();
	}
}

static void fz_decap(struct ipsec_sa *sa, const uint8_t *data, size_t size)
{
	struct pkt pkt;
	size_t off, len;
	int r;

	pkt_init(&pkt, fz_buf, sizeof(fz_buf), PKT_HEADROOM);
	memcpy(pkt_data(&pkt), data, size);
	pkt.len = size;
	off = pkt.off;
	len = pkt.len;
	/* Fresh window per input: runs stay independent. */
	ipsec_sa_set_replay_top(sa, 0);
	r = ipsec_decap(sa, &pkt);
	if (r == 0 && (pkt.off + pkt.len > pkt.cap || pkt.len > len))
		abort();
	if (r && r != ERR_DROP && (pkt.off != off || pkt.len != len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct demux_info d;
	struct ipsec_sa *sa;
	unsigned i;

	if (!fz_sad)
		fz_init();
	if (size > PKT_MAX_DATA)
		return 0;
	if (ipsec_demux(data, size, &d) == 0 &&
	    (d.kind == DEMUX_ESP || d.kind == DEMUX_AH ||
	     d.kind == DEMUX_ESP_UDP)) {
		if (d.off > size)
			abort();
		sa = sad_lookup_in(fz_sad, d.proto, d.spi);
		if (sa) {
			fz_decap(sa, data, size);
			ipsec_sa_put(sa);
		}
	}
	/* The first byte picks one SA to try directly. */
	if (size)
		fz_decap(fz_in[data[0] % N_SAS], data, size);
	for (i = 0; i < N_SAS && size < 64; i++)
		fz_decap(fz_in[i], data, size);
	return 0;
}

#else /* FUZZ_ESP_GEN: write the seed corpus */

static size_t inner_pkt(uint8_t *p, int fam, size_t n)
{
	size_t hl = fam == 4 ? 20 : 40, tot = hl + 8 + n, i;

	memset(p, 0, tot);
	if (fam == 4) {
		p[0] = 0x45;
		be16_store(p + 2, (uint16_t)tot);
		p[8] = 64;
		p[9] = IPPROTO_NUM_UDP;
		p[12] = 192;
		p[15] = 1;
		p[16] = 192;
		p[19] = 2;
		ipv4_set_csum(p, 20);
	} else {
		p[0] = 0x60;
		be16_store(p + 4, (uint16_t)(tot - 40));
		p[6] = IPPROTO_NUM_UDP;
		p[7] = 64;
		p[8] = 0x20;
		p[23] = 1;
		p[24] = 0x20;
		p[39] = 2;
	}
	be16_store(p + hl, 1000);
	be16_store(p + hl + 2, 2000);
	be16_store(p + hl + 4, (uint16_t)(8 + n));
	for (i = 0; i < n; i++)
		p[hl + 8 + i] = (uint8_t)i;
	p[hl + 6] = 0xff;	/* else IPv4 keeps "no checksum" */
	l4_csum_fix(p, (uint8_t)fam, IPPROTO_NUM_UDP, p + hl, 8 + n);
	return tot;
}

int main(int argc, char **argv)
{
	static uint8_t b[PKT_BUF_SIZE], c[PKT_BUF_SIZE];
	struct ipsec_sa *sa, *in;
	struct pkt chk;
	struct sa_params p;
	struct pkt pkt;
	char path[512];
	unsigned i, k;
	FILE *f;

	if (argc != 2 || crypto_init())
		return 2;
	for (i = 0; i < N_SAS; i++) {
		fz_params(&fz_sas[i], SA_DIR_OUT, &p);
		if (ipsec_sa_new(&p, &sa))
			return 1;
		fz_params(&fz_sas[i], SA_DIR_IN, &p);
		if (ipsec_sa_new(&p, &in))
			return 1;
		for (k = 0; k < 2; k++) {
			pkt_init(&pkt, b, sizeof(b), PKT_HEADROOM);
			pkt.len = inner_pkt(pkt_data(&pkt), fz_sas[i].fam,
					    k * 13 + 3);
			if (ipsec_encap(sa, &pkt))
				return 1;
			snprintf(path, sizeof(path), "%s/sa%x-%u.bin", argv[1],
				 fz_sas[i].spi, k);
			f = fopen(path, "wb");
			if (!f || fwrite(pkt_data(&pkt), 1, pkt.len, f) !=
					  pkt.len)
				return 1;
			fclose(f);
			/* Each seed must decapsulate with the fuzzed SA. */
			pkt_init(&chk, c, sizeof(c), PKT_HEADROOM);
			memcpy(pkt_data(&chk), pkt_data(&pkt), pkt.len);
			chk.len = pkt.len;
			if (ipsec_decap(in, &chk)) {
				fprintf(stderr, "seed %s does not decap\n",
					path);
				return 1;
			}
		}
		ipsec_sa_put(sa);
		ipsec_sa_put(in);
	}
	/* IKE behind the non-ESP marker, and a NAT keepalive. */
	{
		static const uint8_t ike[] = {
			0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 0,
			1, 192, 0, 0, 2, 0x11, 0x94, 0x11, 0x94, 0, 20, 0, 0,
			0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8
		};
		uint8_t m[40];

		memcpy(m, ike, sizeof(ike));
		ipv4_set_csum(m, 20);
		snprintf(path, sizeof(path), "%s/ike-marker.bin", argv[1]);
		f = fopen(path, "wb");
		if (!f || fwrite(m, 1, sizeof(m), f) != sizeof(m))
			return 1;
		fclose(f);
		m[3] = 29;
		m[25] = 9;
		m[28] = 0xff;
		ipv4_set_csum(m, 20);
		snprintf(path, sizeof(path), "%s/keepalive.bin", argv[1]);
		f = fopen(path, "wb");
		if (!f || fwrite(m, 1, 29, f) != 29)
			return 1;
		fclose(f);
	}
	crypto_fini();
	return 0;
}

#endif
