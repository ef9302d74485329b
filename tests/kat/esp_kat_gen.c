/* SPDX-License-Identifier: MIT */
/*
 * esp-kat --gen FILE: the outbound half of the known-answer story.  It
 * encapsulates packets with ipsecd's own esp_encap/ah_encap over a
 * matrix of algorithms x mode x IPv4/IPv6 x udp-encap x ESN and writes
 * them as a canonical vector file (shared/vectors/esp/README.md), with
 * the original packet as "expect".  Checking that file with the
 * independent verifier (python3 verify.py FILE) validates the encap
 * side, including ESN, CCM and the GCM ICV lengths that no published
 * vector covers.  esp-kat FILE then runs it through our decap as well.
 */
#include "esp_kat.h"

#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "esp/esp.h"
#include "esp/ip.h"
#include "esp/ipsec.h"

static const char *const gen_encs[] = {
	"null",		     "aes-cbc-128",	  "aes-cbc-256",
	"aes-ctr-128",	     "aes-ctr-256",	  "aes-gcm-128-icv8",
	"aes-gcm-192-icv12", "aes-gcm-256-icv16", "aes-ccm-128-icv8",
	"aes-ccm-192-icv12", "aes-ccm-256-icv16", "aes-gmac-128",
	"aes-gmac-256",	     "chacha20-poly1305", "3des-cbc",
};

static const char *const gen_integs[] = {
	"hmac-sha1-96",	   "hmac-sha256-128", "hmac-sha384-192",
	"hmac-sha512-256", "aes-xcbc-96",     "aes-cmac-96",
};

/* AH: every integrity algorithm, then AH-GMAC. */
static const char *const gen_ah[] = {
	"hmac-sha1-96",	   "hmac-sha256-128", "hmac-sha384-192",
	"hmac-sha512-256", "aes-xcbc-96",     "aes-cmac-96",
	"aes-gmac-128",	   "aes-gmac-256",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void put_hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
	fputc('"', f);
}

/* A UDP packet with valid checksums; tunnel packets use ULA/10/8. */
static size_t gen_packet(uint8_t *p, int fam, size_t n, bool tunnel)
{
	size_t hl = fam == 4 ? 20 : 40, tot = hl + 8 + n, i;

	memset(p, 0, tot);
	if (fam == 4) {
		p[0] = 0x45;
		p[1] = 0x10;
		be16_store(p + 2, (uint16_t)tot);
		p[5] = 7;
		p[8] = 55;
		p[9] = IPPROTO_NUM_UDP;
		p[12] = tunnel ? 10 : 198;
		p[15] = 1;
		p[16] = tunnel ? 10 : 198;
		p[19] = 2;
		ipv4_set_csum(p, 20);
	} else {
		p[0] = 0x60;
		p[1] = 0x10;
		be16_store(p + 4, (uint16_t)(tot - 40));
		p[6] = IPPROTO_NUM_UDP;
		p[7] = 50;
		p[8] = tunnel ? 0xfd : 0x20;
		p[23] = 1;
		p[24] = tunnel ? 0xfd : 0x20;
		p[39] = 2;
	}
	be16_store(p + hl, 1111);
	be16_store(p + hl + 2, 2222);
	be16_store(p + hl + 4, (uint16_t)(8 + n));
	for (i = 0; i < n; i++)
		p[hl + 8 + i] = (uint8_t)(i * 3);
	p[hl + 6] = 0xff;	/* else IPv4 keeps "no checksum" */
	l4_csum_fix(p, (uint8_t)fam, IPPROTO_NUM_UDP, p + hl, 8 + n);
	return tot;
}

struct gen_case {
	bool ah;
	const char *enc;	/* kat name, "null" for AH */
	const char *integ;	/* kat name or "none" */
	bool transport;
	int fam, infam;
	bool udp, esn;
};

/* Fill p from g; keys derived from idx.  0 or an ERR_*. */
static int gen_params(const struct gen_case *g, unsigned idx,
		      struct sa_params *p)
{
	const char *gm = g->ah && strncmp(g->integ, "aes-gmac", 8) == 0
				 ? g->integ
				 : NULL;
	size_t k;

	memset(p, 0, sizeof(*p));
	p->spi = 0x1000 + idx;
	p->proto = g->ah ? IPSEC_PROTO_AH : IPSEC_PROTO_ESP;
	p->mode = g->transport ? IPSEC_MODE_TRANSPORT : IPSEC_MODE_TUNNEL;
	p->dir = SA_DIR_OUT;
	addr_parse(g->fam == 4 ? "198.51.100.1" : "2001:db8::1", &p->src);
	addr_parse(g->fam == 4 ? "198.51.100.2" : "2001:db8::2", &p->dst);
	if (g->udp) {
		p->encap_sport = IPSEC_NATT_PORT;
		p->encap_dport = IPSEC_NATT_PORT;
	}
	if (!g->ah || gm) {
		p->encr = encr_by_kat_name(gm ? gm : g->enc);
		if (!p->encr)
			return ERR_UNSUPPORTED;
		p->enc_key_len =
			(uint8_t)(p->encr->key_len + p->encr->salt_len);
		for (k = 0; k < p->enc_key_len; k++)
			p->enc_key[k] = (uint8_t)(k * 7 + idx);
	}
	if (!gm && strcmp(g->integ, "none") != 0) {
		p->integ = integ_by_kat_name(g->integ);
		if (!p->integ)
			return ERR_UNSUPPORTED;
		p->integ_key_len = p->integ->key_len;
		for (k = 0; k < p->integ_key_len; k++)
			p->integ_key[k] = (uint8_t)(k ^ idx);
	}
	p->esn = g->esn;
	return 0;
}

static void gen_write(FILE *f, const struct gen_case *g,
		      const struct sa_params *p, unsigned idx,
		      uint32_t seq_hi, const struct pkt *pkt,
		      const uint8_t *orig, size_t olen)
{
	const struct encr_alg *e = p->encr;
	size_t kl = e ? e->key_len : 0, sl = e ? e->salt_len : 0;

	fprintf(f,
		"{\"name\": \"ipsecd-encap/%u %s %s %s v%d/v%d%s%s\", "
		"\"proto\": \"%s\", \"mode\": \"%s\", \"udp_encap\": %s, "
		"\"enc\": \"%s\", \"enc_key\": ",
		idx, g->enc, g->integ, g->transport ? "transport" : "tunnel",
		g->fam, g->infam, g->udp ? " udp" : "", g->esn ? " esn" : "",
		g->ah ? "ah" : "esp", g->transport ? "transport" : "tunnel",
		g->udp ? "true" : "false", g->ah ? "null" : g->enc);
	if (e && !g->ah && kl)
		put_hex(f, p->enc_key, kl);
	else
		fputs("null", f);
	fputs(", \"enc_salt\": ", f);
	if (sl)
		put_hex(f, p->enc_key + kl, sl);
	else
		fputs("null", f);
	fprintf(f, ", \"integ\": \"%s\", \"integ_key\": ", g->integ);
	if (g->ah && e)
		put_hex(f, p->enc_key, kl);	/* AH-GMAC key */
	else if (p->integ)
		put_hex(f, p->integ_key, p->integ_key_len);
	else
		fputs("null", f);
	fprintf(f, ", \"spi\": %u, \"esn\": %s, \"seq_hi\": %u, \"packet\": ",
		p->spi, g->esn ? "true" : "false", seq_hi);
	put_hex(f, pkt_data(pkt), pkt->len);
	fputs(", \"expect\": ", f);
	put_hex(f, orig, olen);
	fputs(", \"expect_error\": null, \"note\": \"generated by "
	      "esp-kat --gen from ipsecd's own encapsulation\"}",
	      f);
}

int kat_generate(const char *path, uint8_t *buf, uint8_t *orig)
{
	struct gen_case g;
	struct sa_params p, keep;
	struct ipsec_sa *sa;
	struct pkt pkt;
	unsigned idx = 0, a, k, n_alg = N_OF(gen_encs) + N_OF(gen_ah);
	uint32_t seq_hi;
	size_t olen;
	FILE *f = fopen(path, "w");
	int r = 0;

	if (!f)
		return ERR_IO;
	fputs("{\"source\": \"ipsecd esp-kat --gen (own encapsulation)\", "
	      "\"cases\": [\n",
	      f);
	for (a = 0; a < n_alg; a++) {
		/* Bits of k: transport, outer v6, inner v6, udp, esn. */
		for (k = 0; k < 32; k++) {
			memset(&g, 0, sizeof(g));
			g.ah = a >= N_OF(gen_encs);
			g.enc = g.ah ? "null" : gen_encs[a];
			g.integ = g.ah ? gen_ah[a - N_OF(gen_encs)] : "none";
			g.transport = k & 1;
			g.fam = k & 2 ? 6 : 4;
			g.infam = k & 4 ? 6 : 4;
			g.udp = k & 8;
			g.esn = k & 16;
			if ((g.transport && g.fam != g.infam) ||
			    (g.ah && g.udp))
				continue;
			r = gen_params(&g, idx, &p);
			if (r == 0 && !g.ah && !p.encr->aead) {
				/* Rotate integrity; now and then none. */
				g.integ = gen_integs[idx % N_OF(gen_integs)];
				if (idx % 9 == 4 &&
				    p.encr->kind != ENCR_KIND_NULL)
					g.integ = "none";
				r = gen_params(&g, idx, &p);
			}
			if (r)
				goto out;
			keep = p;	/* ipsec_sa_new wipes its copy only */
			r = ipsec_sa_new(&p, &sa);
			if (r)
				goto out;
			/* README §1: seq_hi is the packet's high half. */
			seq_hi = g.esn ? 7 + idx : 0;
			ipsec_sa_set_seq_out(sa, (uint64_t)seq_hi << 32 |
							 (idx % 5));
			olen = gen_packet(orig, g.infam, idx % 40,
					  !g.transport);
			pkt_init(&pkt, buf, PKT_BUF_SIZE, PKT_HEADROOM);
			memcpy(pkt_data(&pkt), orig, olen);
			pkt.len = olen;
			r = ipsec_encap(sa, &pkt);
			ipsec_sa_put(sa);
			if (r)
				goto out;
			if (idx)
				fputs(",\n", f);
			gen_write(f, &g, &keep, idx, seq_hi, &pkt, orig, olen);
			crypto_wipe(&keep, sizeof(keep));
			idx++;
		}
	}
	fputs("\n]}\n", f);
	printf("%u cases written to %s\n", idx, path);
out:
	if (r)
		fprintf(stderr, "esp-kat --gen: case %u: %s\n", idx,
			err_str(r));
	if (fclose(f) && !r)
		r = ERR_IO;
	return r;
}
