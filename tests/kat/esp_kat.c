/* SPDX-License-Identifier: MIT */
/*
 * esp-kat: run canonical ESP/AH known-answer files
 * (shared/vectors/esp/README.md) through the inbound ESP/AH code.
 *
 *   esp-kat [-v] FILE.json...
 *   esp-kat --gen OUT.json      (see esp_kat_gen.c)
 *
 * One line per failing case (every case with -v), a per-file tally as a
 * "# kat:" comment, and last "N passed, M failed"; exit 1 if any failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "esp/esp.h"
#include "esp/ipsec.h"
#include "esp/sad.h"
#include "esp_kat.h"

/* Any window >= 1 satisfies every replay case (README §1). */
#define KAT_WINDOW 64

static bool verbose;

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex into out (cap bytes).  -1 on bad hex or overflow. */
static int unhex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 0;
	int hi, lo;

	*len = 0;
	if (!s)
		return -1;
	while (*s) {
		if (*s == ' ' || *s == '\n' || *s == '\t') {
			s++;
			continue;
		}
		hi = hexval(s[0]);
		lo = s[1] ? hexval(s[1]) : -1;
		if (hi < 0 || lo < 0 || n >= cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	*len = n;
	return 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jbool(const cJSON *o, const char *k)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *err_class(int r)
{
	switch (r) {
	case ERR_AUTH:
		return "integrity";
	case ERR_REPLAY:
		return "replay";
	case ERR_NOTFOUND:
		return "unknown-spi";
	case ERR_PROTO:
		return "wrong-proto";
	case ERR_MALFORMED:
	case ERR_SHORT:
	case ERR_UNSUPPORTED:	/* fragments: no reassembly here */
		return "malformed";
	default:
		return err_str(r);
	}
}

/* Fill SA parameters from a case; a message in *why on failure. */
static int case_params(const cJSON *c, struct sa_params *p, const char **why)
{
	const char *proto = jstr(c, "proto"), *mode = jstr(c, "mode");
	const char *enc = jstr(c, "enc"), *integ = jstr(c, "integ");
	uint8_t salt[8];
	size_t kl = 0, sl = 0, il = 0;
	double spi = jnum(c, "spi");

	memset(p, 0, sizeof(*p));
	if (!proto || !mode || !enc || !integ || spi < 0 ||
	    spi > 4294967295.0) {
		*why = "bad case fields";
		return ERR_INVAL;
	}
	p->spi = (uint32_t)spi;
	p->proto = strcmp(proto, "ah") == 0 ? IPSEC_PROTO_AH : IPSEC_PROTO_ESP;
	p->mode = strcmp(mode, "transport") == 0 ? IPSEC_MODE_TRANSPORT
						  : IPSEC_MODE_TUNNEL;
	p->dir = SA_DIR_IN;
	p->esn = jbool(c, "esn");
	p->replay_window = KAT_WINDOW;
	if (jbool(c, "udp_encap")) {
		p->encap_sport = IPSEC_NATT_PORT;
		p->encap_dport = IPSEC_NATT_PORT;
	}
	if (jstr(c, "enc_salt") &&
	    unhex(jstr(c, "enc_salt"), salt, sizeof(salt), &sl)) {
		*why = "bad enc_salt";
		return ERR_INVAL;
	}
	if (p->proto == IPSEC_PROTO_AH && strncmp(integ, "aes-gmac-", 9) == 0) {
		/* RFC 4543 AH: GMAC keyed as the encr alg; salt in enc_salt. */
		p->encr = encr_by_kat_name(integ);
		if (!p->encr || unhex(jstr(c, "integ_key"), p->enc_key,
				      SA_MAX_KEY - sl, &kl)) {
			*why = "unsupported AH-GMAC";
			return ERR_UNSUPPORTED;
		}
		memcpy(p->enc_key + kl, salt, sl);
		p->enc_key_len = (uint8_t)(kl + sl);
		return 0;
	}
	if (p->proto == IPSEC_PROTO_ESP) {
		p->encr = encr_by_kat_name(enc);
		if (!p->encr) {
			*why = "unsupported enc";
			return ERR_UNSUPPORTED;
		}
		if (jstr(c, "enc_key") &&
		    unhex(jstr(c, "enc_key"), p->enc_key, SA_MAX_KEY - sl,
			  &kl)) {
			*why = "bad enc_key";
			return ERR_INVAL;
		}
		memcpy(p->enc_key + kl, salt, sl);
		p->enc_key_len = (uint8_t)(kl + sl);
	}
	if (strcmp(integ, "none") != 0) {
		p->integ = integ_by_kat_name(integ);
		if (!p->integ) {
			*why = "unsupported integ";
			return ERR_UNSUPPORTED;
		}
		if (unhex(jstr(c, "integ_key"), p->integ_key, SA_MAX_KEY,
			  &il)) {
			*why = "bad integ_key";
			return ERR_INVAL;
		}
		p->integ_key_len = (uint8_t)il;
	}
	return 0;
}

/*
 * One inbound packet.  lookup: go through a SAD holding only the case
 * SA (unknown-spi path); else hand it straight to the SA.
 */
static int run_packet(struct ipsec_sa *sa, struct sad *sad, bool lookup,
		      const char *hex, uint8_t *buf, struct pkt *pkt)
{
	struct demux_info d;
	struct ipsec_sa *found;
	size_t n;
	int r;

	pkt_init(pkt, buf, PKT_BUF_SIZE, PKT_HEADROOM);
	if (unhex(hex, pkt_data(pkt), PKT_MAX_DATA, &n))
		return ERR_INVAL;
	pkt->len = n;
	if (!lookup)
		return ipsec_decap(sa, pkt);
	r = ipsec_demux(pkt_data(pkt), pkt->len, &d);
	if (r)
		return r;
	if (d.kind != DEMUX_ESP && d.kind != DEMUX_AH &&
	    d.kind != DEMUX_ESP_UDP)
		return ERR_PROTO;
	found = sad_lookup_in(sad, d.proto, d.spi);
	if (!found)
		return ERR_NOTFOUND;
	r = ipsec_decap(found, pkt);
	ipsec_sa_put(found);
	return r;
}

static bool run_case(const cJSON *c, uint8_t *buf, uint8_t *exp,
		     const char **why, char *detail, size_t dlen)
{
	const char *want_err = jstr(c, "expect_error");
	const char *packet = jstr(c, "packet"), *expect = jstr(c, "expect");
	const cJSON *prior =
		cJSON_GetObjectItemCaseSensitive(c, "replay_prior");
	const cJSON *it;
	struct sa_params p;
	struct ipsec_sa *sa = NULL;
	struct sad *sad = NULL;
	struct pkt pkt;
	bool lookup = want_err && strcmp(want_err, "unknown-spi") == 0;
	bool ok = false;
	double seq_hi = jnum(c, "seq_hi");
	size_t elen;
	int r;

	detail[0] = '\0';
	r = case_params(c, &p, why);
	if (r)
		return false;
	r = ipsec_sa_new(&p, &sa);
	crypto_wipe(&p, sizeof(p));
	if (r) {
		snprintf(detail, dlen, "SA setup: %s", err_str(r));
		*why = detail;
		return false;
	}
	/* README §1: start at seq_hi << 32; Appendix A2.2 does the rest. */
	if (jbool(c, "esn")) {
		if (seq_hi < 0 || seq_hi > 4294967295.0) {
			*why = "bad seq_hi";
			goto out;
		}
		r = ipsec_sa_set_replay_top(sa, (uint64_t)seq_hi << 32);
		if (r) {
			*why = "bad seq_hi";
			goto out;
		}
	}
	if (sad_new(&sad) || sad_insert(sad, sa)) {
		*why = "SAD setup";
		goto out;
	}
	cJSON_ArrayForEach(it, prior)
	{
		if (cJSON_IsString(it))
			run_packet(sa, sad, lookup, it->valuestring, buf, &pkt);
	}
	if (!packet) {
		*why = "no packet";
		goto out;
	}
	r = run_packet(sa, sad, lookup, packet, buf, &pkt);
	if (want_err) {
		ok = r != 0 && r != ERR_DROP &&
		     strcmp(err_class(r), want_err) == 0;
		if (!ok) {
			snprintf(detail, dlen, "expected %s, got %s", want_err,
				 r ? err_class(r) : "success");
			*why = detail;
		}
		goto out;
	}
	if (r == ERR_DROP)
		pkt.len = 0;	/* RFC 4303 §2.6 dummy: no packet */
	else if (r) {
		snprintf(detail, dlen, "decap failed: %s", err_class(r));
		*why = detail;
		goto out;
	}
	if (!expect || unhex(expect, exp, PKT_MAX_DATA, &elen)) {
		*why = "bad expect";
		goto out;
	}
	if (elen != pkt.len || memcmp(exp, pkt_data(&pkt), elen) != 0) {
		size_t i = 0;

		while (i < elen && i < pkt.len && exp[i] == pkt_data(&pkt)[i])
			i++;
		snprintf(detail, dlen,
			 "output differs at byte %zu (got %zu, want %zu bytes)",
			 i, pkt.len, elen);
		*why = detail;
		goto out;
	}
	ok = true;
out:
	sad_free(sad);
	ipsec_sa_put(sa);
	return ok;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		text = malloc((size_t)n + 1);
		if (text && fread(text, 1, (size_t)n, f) == (size_t)n) {
			text[n] = '\0';
		} else {
			free(text);
			text = NULL;
		}
	}
	fclose(f);
	return text;
}

static void run_file(const char *path, unsigned *pass, unsigned *fail,
		     uint8_t *buf, uint8_t *exp)
{
	char *text = read_file(path);
	cJSON *root = text ? cJSON_Parse(text) : NULL;
	const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
	const cJSON *c;
	unsigned p0 = *pass, f0 = *fail;
	char detail[160];
	const char *why, *name;

	free(text);
	if (!cJSON_IsArray(cases)) {
		printf("FAIL %s: not a canonical vector file\n", path);
		(*fail)++;
		cJSON_Delete(root);
		return;
	}
	cJSON_ArrayForEach(c, cases)
	{
		name = jstr(c, "name");
		why = "?";
		if (run_case(c, buf, exp, &why, detail, sizeof(detail))) {
			(*pass)++;
			if (verbose)
				printf("PASS %s\n", name ? name : "?");
		} else {
			(*fail)++;
			printf("FAIL %s: %s\n", name ? name : "?", why);
		}
	}
	printf("# kat: %s: %u passed, %u failed\n", path, *pass - p0,
	       *fail - f0);
	cJSON_Delete(root);
}

int main(int argc, char **argv)
{
	unsigned pass = 0, fail = 0;
	uint8_t *buf, *exp;
	int i, nfiles = 0;

	log_set_level(LS_ESP, LL_ERR);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			verbose = true;
			log_set_level(LS_ESP, LL_DEBUG);
		}
	}
	if (crypto_init()) {
		fprintf(stderr, "esp-kat: crypto_init failed\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	buf = malloc(PKT_BUF_SIZE);
	exp = malloc(PKT_MAX_DATA);
	if (!buf || !exp)
		return 1;
	if (argc == 3 && strcmp(argv[1], "--gen") == 0) {
		i = kat_generate(argv[2], buf, exp);
		free(buf);
		free(exp);
		crypto_fini();
		return i ? 1 : 0;
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			continue;
		nfiles++;
		run_file(argv[i], &pass, &fail, buf, exp);
	}
	if (!nfiles) {
		fprintf(stderr, "usage: esp-kat [-v] FILE.json...\n");
		free(buf);
		free(exp);
		return 2;
	}
	free(buf);
	free(exp);
	crypto_fini();
	printf("%u passed, %u failed\n", pass, fail);
	return fail ? 1 : 0;
}
