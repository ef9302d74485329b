/* SPDX-License-Identifier: MIT */
/*
 * IKEv2 key derivation, PSK AUTH and the Wireshark key-log lines:
 *   1. NIST CAVP SP 800-135 IKEv2 vectors (strongSwan's SHA-2 set and
 *      Libreswan's SHA-1 one) through ikev2_keymat.h: SKEYSEED, the IKE
 *      SA key stream and SK_* split, Child SA KEYMAT with and without a
 *      new DH, and the rekey SKEYSEED;
 *   2. real strongSwan 5.9.8 exchanges (both peers' charon logs at level
 *      4, read at run time) recomputed end to end: SKEYSEED, SK_*, the
 *      signed octets and PSK AUTH of both sides, the Child SA keys;
 *   3. the rules the vectors do not reach (AES PRF nonce halves, key
 *      order for CBC+HMAC and AH, bad arguments, AUTH mismatches);
 *   4. the key-log line formats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "ike/ikev2_keymat.h"
#include "ike/keylog.h"
#include "vectors.h"

#define F_KDF "ikev2_kdf_strongswan_cavp.json"
#define F_LIBRESWAN "ike_kdf_libreswan_cavp_sha1.json"
#define INTEROP "../interop/results/"

static uint8_t *hexf(const cJSON *o, const char *key, size_t *len)
{
	const char *s = vec_str(o, key);
	uint8_t *b;

	if (vec_hex(s ? s : "", &b, len))
		fail_msg("bad hex in %s", key);
	return b;
}

static bool same(const char *what, const uint8_t *a, size_t al,
		 const uint8_t *b, size_t bl)
{
	if (al == bl && memcmp(a, b, al) == 0)
		return true;
	printf("# mismatch: %s (%zu vs %zu bytes)\n", what, al, bl);
	return false;
}

/* strongSwan PRF_* identifiers to our table. */
static const struct prf_alg *ss_prf(const char *id)
{
	if (!id)
		return NULL;
	if (strcmp(id, "PRF_HMAC_SHA2_256") == 0)
		return prf_by_name("prfsha256");
	if (strcmp(id, "PRF_HMAC_SHA2_384") == 0)
		return prf_by_name("prfsha384");
	if (strcmp(id, "PRF_HMAC_SHA2_512") == 0)
		return prf_by_name("prfsha512");
	return NULL;
}

/* The HMAC integrity transform over the PRF's hash (same key length). */
static const struct integ_alg *integ_for(const struct prf_alg *p)
{
	size_t i;
	const struct integ_alg *a;

	for (i = 0; (a = integ_at(i)); i++)
		if (a->kind == MAC_KIND_HMAC &&
		    strcmp(a->digest, p->digest) == 0)
			return a;
	return NULL;
}

/* The IKE SA keys in prf+ order (RFC 7296 §2.14), for a prefix compare. */
static size_t ike_keys_cat(const struct ike_keys *k, uint8_t *out)
{
	size_t n = 0;

#define CAT(f, l) (memcpy(out + n, k->f, k->l), n += k->l)
	CAT(sk_d, sk_d_len);
	CAT(sk_ai, sk_a_len);
	CAT(sk_ar, sk_a_len);
	CAT(sk_ei, sk_e_len);
	CAT(sk_er, sk_e_len);
	CAT(sk_pi, sk_p_len);
	CAT(sk_pr, sk_p_len);
#undef CAT
	return n;
}

/* Child SA keys in KEYMAT order (RFC 7296 §2.17). */
static size_t child_keys_cat(const struct child_keys *k, uint8_t *out)
{
	size_t n = 0;

	memcpy(out + n, k->encr_i, k->encr_len);
	n += k->encr_len;
	memcpy(out + n, k->integ_i, k->integ_len);
	n += k->integ_len;
	memcpy(out + n, k->encr_r, k->encr_len);
	n += k->encr_len;
	memcpy(out + n, k->integ_r, k->integ_len);
	n += k->integ_len;
	return n;
}

/* The keys must be the first bytes of the expected stream. */
static bool prefix_eq(const char *what, const uint8_t *keys, size_t kl,
		      const uint8_t *want, size_t wl)
{
	size_t n = kl < wl ? kl : wl;

	if (n && memcmp(keys, want, n) == 0)
		return true;
	printf("# mismatch: %s\n", what);
	return false;
}

/*
 * (1a) strongSwan's CAVP set.  KDF_PRF: key = g^ir, salt = Ni | Nr (equal
 * halves).  KDF_PRF_PLUS: key = SKEYSEED, salt = Ni | Nr | SPIi | SPIr
 * (8-octet SPIs, equal nonces), except the RFC 4868-derived vector whose
 * 8-octet seed is no IKE SA seed: it goes through the Child SA KEYMAT
 * function as Ni | Nr (4 + 4), which is prf+(K, Ni | Nr) as well.
 */
static void test_cavp_strongswan(void **state)
{
	cJSON *j = vec_load(F_KDF), *v;
	unsigned total = 0, passed = 0;

	(void)state;
	assert_non_null(j);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "vectors"))
	{
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, "fields");
		const struct prf_alg *pa = ss_prf(vec_str(f, "arg.prf"));
		const char *alg = vec_str(f, "alg");
		const struct encr_alg *aes = encr_by_name("aes256");
		struct ike_keys keys;
		uint8_t *key, *salt, *want, *out, cat[512];
		size_t kl, sl, wl, nl, n;
		bool ok = false;

		total++;
		key = hexf(f, "key", &kl);
		salt = hexf(f, "salt", &sl);
		want = hexf(f, "out", &wl);
		out = malloc(wl + 64);
		assert_non_null(out);
		if (!pa || !alg) {
			/* counted as a failure below */
		} else if (strcmp(alg, "KDF_PRF") == 0 && sl % 2 == 0) {
			nl = sl / 2;
			ok = ikev2_skeyseed(pa, salt, nl, salt + nl, nl, key,
					    kl, out, wl) == 0 &&
			     same("SKEYSEED", out, pa->out_len, want, wl);
		} else if (strcmp(alg, "KDF_PRF_PLUS") == 0 && sl == 8) {
			ok = ikev2_child_keymat(pa, key, kl, NULL, 0, salt, 4,
						salt + 4, 4, out, wl) == 0 &&
			     same("KEYMAT", out, wl, want, wl);
		} else if (strcmp(alg, "KDF_PRF_PLUS") == 0 && sl > 16 &&
			   (sl - 16) % 2 == 0) {
			const uint8_t *spis = salt + sl - 16;

			nl = (sl - 16) / 2;
			ok = ikev2_ike_keymat(pa, key, kl, salt, nl, salt + nl,
					      nl, spis, spis + 8, out,
					      wl) == 0 &&
			     same("prf+", out, wl, want, wl);
			/* The SK_* split of the same stream (AES-256-CBC and
			 * the PRF's HMAC): a prefix of the vector's output. */
			ok = ok &&
			     ikev2_derive_ike_keys(pa, aes, integ_for(pa), key,
						   kl, salt, nl, salt + nl, nl,
						   spis, spis + 8,
						   &keys) == 0 &&
			     keys.sk_d_len == pa->key_len &&
			     keys.sk_a_len == integ_for(pa)->key_len &&
			     keys.sk_e_len == 32;
			if (ok) {
				n = ike_keys_cat(&keys, cat);
				ok = prefix_eq("SK_*", cat, n, want, wl);
			}
			ike_keys_wipe(&keys);
		}
		if (ok)
			passed++;
		else
			printf("# FAIL %s\n", vec_str(v, "name"));
		free(key);
		free(salt);
		free(want);
		free(out);
	}
	vec_report(F_KDF, passed, total);
	cJSON_Delete(j);
	assert_int_equal(total, 13);
	assert_int_equal(passed, total);
}

/*
 * (1b) Libreswan's CAVP SHA-1 vector: five relations, each through our
 * functions.  The 1056-bit DKM is exactly the SK_* of an IKE SA with
 * AES-128-CBC, HMAC-SHA1-96 and PRF-HMAC-SHA1 (3 * 20 + 2 * 20 + 2 * 16
 * octets), so the split is checked octet for octet.
 */
static void test_cavp_libreswan(void **state)
{
	cJSON *j = vec_load(F_LIBRESWAN);
	const struct prf_alg *p = prf_by_name("prfsha1");
	const struct encr_alg *aes = encr_by_name("aes128");
	const struct integ_alg *sha1 = integ_by_name("sha1");
	const cJSON *o;
	struct ike_keys keys;
	struct child_keys ck;
	uint8_t *ni, *nr, *g, *gn, *spii, *spir, *w;
	uint8_t seed[20], dkm[256], cat[512];
	size_t nil, nrl, gl, gnl, sl, wl, dl, n;
	unsigned total = 0, passed = 0;
	bool ok;

	(void)state;
	assert_non_null(j);
	assert_non_null(p);
	o = cJSON_GetObjectItemCaseSensitive(j, "ikev2");
	assert_non_null(o);
	ni = hexf(o, "Ni", &nil);
	nr = hexf(o, "Nr", &nrl);
	g = hexf(o, "g_ir", &gl);
	gn = hexf(o, "g_ir_new", &gnl);
	spii = hexf(o, "SPIi", &sl);
	assert_int_equal(sl, 8);
	spir = hexf(o, "SPIr", &sl);
	assert_int_equal(sl, 8);
	dl = (size_t)cJSON_GetObjectItemCaseSensitive(o, "DKM_length_bits")
		     ->valuedouble /
	     8;
	assert_true(dl > 0 && dl <= sizeof(dkm));

	/* SKEYSEED = prf(Ni | Nr, g^ir) */
	total++;
	w = hexf(o, "SKEYSEED", &wl);
	ok = ikev2_skeyseed(p, ni, nil, nr, nrl, g, gl, seed, sizeof(seed)) ==
		     0 &&
	     same("SKEYSEED", seed, p->out_len, w, wl);
	passed += ok;
	free(w);

	/* DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), and its split */
	total++;
	w = hexf(o, "DKM", &wl);
	ok = wl == dl &&
	     ikev2_ike_keymat(p, seed, 20, ni, nil, nr, nrl, spii, spir, dkm,
			      dl) == 0 &&
	     same("DKM", dkm, dl, w, wl);
	ok = ok && ikev2_derive_ike_keys(p, aes, sha1, seed, 20, ni, nil, nr,
					 nrl, spii, spir, &keys) == 0;
	if (ok) {
		n = ike_keys_cat(&keys, cat);
		ok = same("SK_* split", cat, n, w, wl);
	}
	passed += ok;
	free(w);

	/* Child SA: prf+(SK_d, Ni | Nr); ESP AES-128-CBC + HMAC-SHA1 keys
	 * are its first 2 * (16 + 20) octets. */
	total++;
	w = hexf(o, "DKM_child", &wl);
	ok = ikev2_child_keymat(p, keys.sk_d, keys.sk_d_len, NULL, 0, ni, nil,
				nr, nrl, dkm, dl) == 0 &&
	     same("DKM_child", dkm, dl, w, wl) &&
	     ikev2_derive_child_keys(p, keys.sk_d, keys.sk_d_len, NULL, 0, ni,
				     nil, nr, nrl, aes, sha1, &ck) == 0 &&
	     ck.encr_len == 16 && ck.integ_len == 20;
	if (ok) {
		n = child_keys_cat(&ck, cat);
		ok = prefix_eq("child keys", cat, n, w, wl);
	}
	passed += ok;
	free(w);

	/* With a new DH: prf+(SK_d, g^ir (new) | Ni | Nr) */
	total++;
	w = hexf(o, "DKM_child_dh", &wl);
	ok = ikev2_child_keymat(p, keys.sk_d, keys.sk_d_len, gn, gnl, ni, nil,
				nr, nrl, dkm, dl) == 0 &&
	     same("DKM_child_dh", dkm, dl, w, wl) &&
	     ikev2_derive_child_keys(p, keys.sk_d, keys.sk_d_len, gn, gnl, ni,
				     nil, nr, nrl, aes, sha1, &ck) == 0;
	if (ok) {
		n = child_keys_cat(&ck, cat);
		ok = prefix_eq("child keys (PFS)", cat, n, w, wl);
	}
	passed += ok;
	free(w);

	/* Rekey: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) */
	total++;
	w = hexf(o, "SKEYSEED_rekey", &wl);
	ok = ikev2_skeyseed_rekey(p, keys.sk_d, keys.sk_d_len, gn, gnl, ni, nil,
				  nr, nrl, seed, sizeof(seed)) == 0 &&
	     same("SKEYSEED_rekey", seed, p->out_len, w, wl);
	passed += ok;
	free(w);

	ike_keys_wipe(&keys);
	child_keys_wipe(&ck);
	free(ni);
	free(nr);
	free(g);
	free(gn);
	free(spii);
	free(spir);
	vec_report(F_LIBRESWAN " (ikev2)", passed, total);
	cJSON_Delete(j);
	assert_int_equal(passed, total);
}

/* ---- strongSwan charon logs ---- */

/* Read a whole text file; NULL if missing. Owned: free(). */
static char *slurp(const char *relpath)
{
	const char *path = vec_path(relpath);
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long n;

	if (!f) {
		printf("# cannot open %s\n", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		text = malloc((size_t)n + 1);
		if (text && fread(text, 1, (size_t)n, f) == (size_t)n)
			text[n] = '\0';
		else {
			free(text);
			text = NULL;
		}
	}
	fclose(f);
	return text;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * charon's chunk dump at log level 4 ("%B"):
 *   ... <ss|1> NAME => 32 bytes @ 0x7f...
 *   ... <ss|1>    0: 46 2B 78 ...  F+x.
 *   ... <ss|1>   16: 55 83 ...
 * Return the nth (0-based) dump called NAME as a new buffer (owned), or
 * NULL.  The name is matched right after the "<...> " context tag.
 */
static uint8_t *log_dump(const char *text, const char *name, int nth,
			 size_t *len)
{
	char head[128];
	const char *p = text, *line, *q;
	unsigned long want;
	uint8_t *out;
	size_t n = 0;
	int hi, lo;

	snprintf(head, sizeof(head), "> %s => ", name);
	for (;;) {
		p = strstr(p, head);
		if (!p)
			return NULL;
		if (nth-- == 0)
			break;
		p += strlen(head);
	}
	want = strtoul(p + strlen(head), NULL, 10);
	out = malloc(want ? want : 1);
	assert_non_null(out);
	line = strchr(p, '\n');
	while (line && n < want) {
		line++;
		/* past the timestamp, thread and "<...>" tag */
		q = strstr(line, "> ");
		if (!q || q > strchr(line, '\n'))
			break;
		q += 2;
		while (*q == ' ')
			q++;
		if (strtoul(q, (char **)&q, 10) != n || *q != ':')
			break;
		q++;
		while (n < want && q[0] == ' ' && (hi = hexval(q[1])) >= 0 &&
		       (lo = hexval(q[2])) >= 0) {
			out[n++] = (uint8_t)(hi << 4 | lo);
			q += 3;
			if (n % 16 == 0)
				break;
		}
		line = strchr(line, '\n');
	}
	if (n != want) {
		free(out);
		return NULL;
	}
	*len = n;
	return out;
}

/* The value of "key = value" in a swanctl.conf, quotes stripped. */
static bool conf_value(const char *text, const char *key, char *out, size_t cap)
{
	char pat[64];
	const char *p = text, *e;
	size_t n;

	snprintf(pat, sizeof(pat), " %s = ", key);
	p = strstr(p, pat);
	if (!p)
		return false;
	p += strlen(pat);
	if (*p == '"')
		p++;
	e = p + strcspn(p, "\"\n");
	n = (size_t)(e - p);
	if (n >= cap)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

struct logged {
	uint8_t *v;
	size_t len;
};

static bool need(const char *text, const char *name, int nth, struct logged *l)
{
	l->v = log_dump(text, name, nth, &l->len);
	if (!l->v)
		printf("# not in log: %s #%d\n", name, nth);
	return l->v != NULL;
}

static bool check_logged(const char *what, const uint8_t *ours, size_t len,
			 const struct logged *l)
{
	return same(what, ours, len, l->v, l->len);
}

/* One AUTH computation as charon logged it (nth = 0 initiator, 1 responder). */
struct auth_log {
	struct logged id, skp, octets, secret, padkey, auth;
};

static bool load_auth(const char *text, int nth, struct auth_log *a)
{
	bool ok = true;

	ok &= need(text, "IDx'", nth, &a->id);
	ok &= need(text, "SK_p", nth, &a->skp);
	ok &= need(text, "octets = message + nonce + prf(Sk_px, IDx')", nth,
		   &a->octets);
	ok &= need(text, "secret", nth, &a->secret);
	ok &= need(text, "prf(secret, keypad)", nth, &a->padkey);
	ok &= need(text, "AUTH = prf(prf(secret, keypad), octets)", nth,
		   &a->auth);
	return ok;
}

static void free_auth(struct auth_log *a)
{
	free(a->id.v);
	free(a->skp.v);
	free(a->octets.v);
	free(a->secret.v);
	free(a->padkey.v);
	free(a->auth.v);
}

/* The IKE_SA_INIT message at the head of logged signed octets. */
static size_t msg_len(const struct logged *octets)
{
	/* RFC 7296 §3.1: Length is the last header field, octets 24-27. */
	if (octets->len < 28)
		return 0;
	return be32_load(octets->v + 24);
}

/*
 * Recompute one side's AUTH: signed octets from the message, the peer's
 * nonce and the ID; then AUTH from the swanctl.conf PSK; then verify.
 */
static bool check_auth(const struct prf_alg *pa, const uint8_t *sk_p,
		       size_t sk_p_len, const uint8_t *nonce, size_t nl,
		       const struct auth_log *a, const char *psk)
{
	uint8_t auth[64], pad[64];
	size_t ml = msg_len(&a->octets);
	struct wbuf w;
	bool ok;

	if (ml == 0 || ml > a->octets.len ||
	    !same("SK_p used", sk_p, sk_p_len, a->skp.v, a->skp.len) ||
	    !same("PSK", (const uint8_t *)psk, strlen(psk), a->secret.v,
		  a->secret.len))
		return false;
	assert_int_equal(wbuf_init(&w, 64), 0);
	ok = ikev2_signed_octets(pa, sk_p, sk_p_len, a->octets.v, ml, nonce, nl,
				 a->id.v, a->id.len, &w) == 0 &&
	     same("signed octets", w.p, w.len, a->octets.v, a->octets.len);
	wbuf_free(&w);
	/* charon's intermediate value, straight from RFC 7296 §2.15. */
	ok = ok &&
	     prf(pa, (const uint8_t *)psk, strlen(psk),
		 (const uint8_t *)"Key Pad for IKEv2", 17, pad) == 0 &&
	     check_logged("prf(secret, keypad)", pad, pa->out_len, &a->padkey);
	ok = ok &&
	     ikev2_psk_auth(pa, (const uint8_t *)psk, strlen(psk), a->octets.v,
			    a->octets.len, auth, sizeof(auth)) == 0 &&
	     check_logged("AUTH", auth, pa->out_len, &a->auth);
	ok = ok && ikev2_psk_verify(pa, (const uint8_t *)psk, strlen(psk),
				    a->octets.v, a->octets.len, a->auth.v,
				    a->auth.len) == 0;
	/* One flipped octet of the message, or of AUTH, must fail. */
	a->octets.v[ml / 2] ^= 0x01;
	ok = ok && ikev2_psk_verify(pa, (const uint8_t *)psk, strlen(psk),
				    a->octets.v, a->octets.len, a->auth.v,
				    a->auth.len) == ERR_AUTH;
	a->octets.v[ml / 2] ^= 0x01;
	a->auth.v[0] ^= 0x80;
	ok = ok && ikev2_psk_verify(pa, (const uint8_t *)psk, strlen(psk),
				    a->octets.v, a->octets.len, a->auth.v,
				    a->auth.len) == ERR_AUTH;
	a->auth.v[0] ^= 0x80;
	return ok;
}

/*
 * One charon log (either peer: both log the whole derivation) against
 * our functions.  Inputs taken from the log: g^ir ("shared Diffie Hellman
 * secret"), the SPIs and both IKE_SA_INIT messages (the head of the
 * "octets" dumps), the nonces (what follows the peer's message in each
 * octets dump, cross-checked with the CHILD_SA "seed" = Ni | Nr), the IDs
 * ("IDx'" = RestOfIDPayload).  The PSK and proposals come from the
 * swanctl.conf.  Not logged by charon, so not compared: SK_ai/SK_ar (the
 * IKE SA is AEAD, they are empty: we check that), the integrity keys of
 * the Child SA (AEAD too), g^ir's inputs (private values), any rekey (the
 * captures hold none).  veth-a.pcap is not read: the IKE_SA_INIT messages
 * are in the octets dumps, and the key-log lines were checked against it
 * with tshark 4.0 by hand (IKE_AUTH and ESP of the GCM capture decrypt).
 */
static bool check_charon_log(const char *dir, const char *peer)
{
	char path[256], ike[96], esp[64], psk[128], *text, *conf;
	char *enc_name, *prf_name;
	const struct prf_alg *pa;
	const struct encr_alg *ike_encr, *esp_encr;
	struct logged gir = {0}, skeyseed = {0}, skd = {0}, skei = {0},
		      sker = {0}, skpi = {0}, skpr = {0}, seed = {0},
		      ekey_i = {0}, ekey_r = {0};
	struct auth_log ai = {0}, ar = {0};
	struct ike_keys keys;
	struct child_keys ck;
	uint8_t ss[64], ninr[512];
	const uint8_t *ni, *nr, *spi_i, *spi_r;
	size_t nil, nrl, ml;
	bool ok = true;

	snprintf(path, sizeof(path), INTEROP "%s/charon-%s.log", dir, peer);
	text = slurp(path);
	snprintf(path, sizeof(path), INTEROP "%s/swanctl-%s.conf", dir, peer);
	conf = slurp(path);
	if (!text || !conf ||
	    !conf_value(conf, "proposals", ike, sizeof(ike)) ||
	    !conf_value(conf, "esp_proposals", esp, sizeof(esp)) ||
	    !conf_value(conf, "secret", psk, sizeof(psk))) {
		free(text);
		free(conf);
		return false;
	}
	/* "aes128gcm16-prfsha256-x25519": encryption, PRF, KE. */
	enc_name = strtok(ike, "-");
	prf_name = strtok(NULL, "-");
	pa = prf_name ? prf_by_name(prf_name) : NULL;
	ike_encr = enc_name ? encr_by_name(enc_name) : NULL;
	esp_encr = encr_by_name(esp);
	ok &= pa && ike_encr && esp_encr && ike_encr->aead && esp_encr->aead;

	ok &= need(text, "shared Diffie Hellman secret", 0, &gir);
	ok &= need(text, "SKEYSEED", 0, &skeyseed);
	ok &= need(text, "Sk_d secret", 0, &skd);
	ok &= need(text, "Sk_ei secret", 0, &skei);
	ok &= need(text, "Sk_er secret", 0, &sker);
	ok &= need(text, "Sk_pi secret", 0, &skpi);
	ok &= need(text, "Sk_pr secret", 0, &skpr);
	ok &= need(text, "seed", 0, &seed);
	ok &= need(text, "encryption initiator key", 0, &ekey_i);
	ok &= need(text, "encryption responder key", 0, &ekey_r);
	ok &= load_auth(text, 0, &ai) && load_auth(text, 1, &ar);
	if (!ok)
		goto out;

	/* Nr follows IKE_SA_INIT request in the initiator's octets, Ni the
	 * response in the responder's; the prf output ends each. */
	ml = msg_len(&ai.octets);
	ok &= ml > 0 && ai.octets.len > ml + pa->out_len;
	nr = ai.octets.v + ml;
	nrl = ok ? ai.octets.len - ml - pa->out_len : 0;
	ml = msg_len(&ar.octets);
	ok &= ml > 0 && ar.octets.len > ml + pa->out_len;
	ni = ar.octets.v + ml;
	nil = ok ? ar.octets.len - ml - pa->out_len : 0;
	ok &= nil + nrl <= sizeof(ninr);
	if (!ok)
		goto out;
	memcpy(ninr, ni, nil);
	memcpy(ninr + nil, nr, nrl);
	ok &= check_logged("seed = Ni | Nr", ninr, nil + nrl, &seed);
	/* SPIi from the request header, SPIr from the response's. */
	spi_i = ai.octets.v;
	spi_r = ar.octets.v + 8;

	/* RFC 7296 §2.14 */
	ok &= ikev2_skeyseed(pa, ni, nil, nr, nrl, gir.v, gir.len, ss,
			     sizeof(ss)) == 0 &&
	      check_logged("SKEYSEED", ss, pa->out_len, &skeyseed);
	ok &= ikev2_derive_ike_keys(pa, ike_encr, NULL, ss, pa->out_len, ni,
				    nil, nr, nrl, spi_i, spi_r, &keys) == 0;
	ok &= check_logged("SK_d", keys.sk_d, keys.sk_d_len, &skd) &&
	      check_logged("SK_ei", keys.sk_ei, keys.sk_e_len, &skei) &&
	      check_logged("SK_er", keys.sk_er, keys.sk_e_len, &sker) &&
	      check_logged("SK_pi", keys.sk_pi, keys.sk_p_len, &skpi) &&
	      check_logged("SK_pr", keys.sk_pr, keys.sk_p_len, &skpr) &&
	      keys.sk_a_len == 0;

	/* RFC 7296 §2.15, both directions */
	ok &= check_auth(pa, keys.sk_pi, keys.sk_p_len, nr, nrl, &ai, psk);
	ok &= check_auth(pa, keys.sk_pr, keys.sk_p_len, ni, nil, &ar, psk);

	/* RFC 7296 §2.17: the first Child SA uses the IKE_SA_INIT nonces */
	ok &= ikev2_derive_child_keys(pa, keys.sk_d, keys.sk_d_len, NULL, 0, ni,
				      nil, nr, nrl, esp_encr, NULL, &ck) == 0 &&
	      ck.integ_len == 0 &&
	      check_logged("ESP key i->r", ck.encr_i, ck.encr_len, &ekey_i) &&
	      check_logged("ESP key r->i", ck.encr_r, ck.encr_len, &ekey_r);
	ike_keys_wipe(&keys);
	child_keys_wipe(&ck);
out:
	free(gir.v);
	free(skeyseed.v);
	free(skd.v);
	free(skei.v);
	free(sker.v);
	free(skpi.v);
	free(skpr.v);
	free(seed.v);
	free(ekey_i.v);
	free(ekey_r.v);
	free_auth(&ai);
	free_auth(&ar);
	free(text);
	free(conf);
	return ok;
}

/* (2) strongSwan interop captures, both peers' logs. */
static void test_charon_logs(void **state)
{
	static const char *const dirs[] = {
		"capture-aes128gcm16/psk",
		"capture-chacha20poly1305/psk",
	};
	static const char *const peers[] = {"A", "B"};
	unsigned total = 0, passed = 0;
	size_t d, p;

	(void)state;
	for (d = 0; d < 2; d++) {
		for (p = 0; p < 2; p++) {
			total++;
			if (check_charon_log(dirs[d], peers[p]))
				passed++;
			else
				printf("# FAIL %s charon-%s.log\n", dirs[d],
				       peers[p]);
		}
	}
	vec_report("interop/results/capture-*/psk/charon-{A,B}.log", passed,
		   total);
	assert_int_equal(total, 4);
	assert_int_equal(passed, total);
}

/* ---- (3) rules and edges ---- */

static void test_aes_prf_nonce_halves(void **state)
{
	const struct prf_alg *px = prf_by_name("prfaesxcbc");
	const struct prf_alg *pc = prf_by_name("prfaescmac");
	const struct prf_alg *ps = prf_by_name("prfsha256");
	uint8_t ni[32], nr[32], g[32], k[16], a[64], b[64];
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++) {
		ni[i] = (uint8_t)i;
		nr[i] = (uint8_t)(0x80 + i);
		g[i] = (uint8_t)(0x40 ^ i);
	}
	/* RFC 7296 §2.14: key = first 64 bits of Ni | first 64 of Nr. */
	memcpy(k, ni, 8);
	memcpy(k + 8, nr, 8);
	assert_int_equal(ikev2_skeyseed(px, ni, 32, nr, 32, g, 32, a, 16), 0);
	assert_int_equal(prf(px, k, 16, g, 32, b), 0);
	assert_memory_equal(a, b, 16);
	assert_int_equal(prf(px, ni, 32, g, 32, b), 0);
	assert_memory_not_equal(a, b, 16);
	assert_int_equal(ikev2_skeyseed(pc, ni, 32, nr, 32, g, 32, a, 16), 0);
	assert_int_equal(prf(pc, k, 16, g, 32, b), 0);
	assert_memory_equal(a, b, 16);
	/* 8-octet nonces give exactly the 16-octet key. */
	assert_int_equal(ikev2_skeyseed(pc, ni, 8, nr, 8, g, 32, a, 16), 0);
	assert_memory_equal(a, b, 16);
	assert_int_equal(ikev2_skeyseed(pc, ni, 7, nr, 32, g, 32, a, 16),
			 ERR_INVAL);
	/* HMAC PRFs take all of Ni | Nr. */
	memcpy(a, ni, 32);
	memcpy(a + 32, nr, 32);
	assert_int_equal(prf(ps, a, 64, g, 32, b), 0);
	assert_int_equal(ikev2_skeyseed(ps, ni, 32, nr, 32, g, 32, a, 32), 0);
	assert_memory_equal(a, b, 32);
	/* prf+ still gets the whole nonces (§2.14): SK_d differs if cut. */
	{
		static const uint8_t spi[8] = {1, 2, 3, 4, 5, 6, 7, 8};
		uint8_t km1[16], km2[16];

		assert_int_equal(ikev2_ike_keymat(px, k, 16, ni, 32, nr, 32,
						  spi, spi, km1, 16),
				 0);
		assert_int_equal(ikev2_ike_keymat(px, k, 16, ni, 8, nr, 8, spi,
						  spi, km2, 16),
				 0);
		assert_memory_not_equal(km1, km2, 16);
	}
}

/* SK_* sizes and order for a non-AEAD set, against the raw stream. */
static void test_ike_key_layout(void **state)
{
	const struct prf_alg *p = prf_by_name("prfsha384");
	const struct encr_alg *e = encr_by_name("aes256ctr");
	const struct integ_alg *i = integ_by_name("sha512");
	static const uint8_t spi_i[8] = {0xde, 0xad}, spi_r[8] = {0xbe, 0xef};
	uint8_t seed[48], ni[16], nr[24], km[512], cat[512];
	struct ike_keys k;
	size_t n;

	(void)state;
	memset(seed, 0x11, sizeof(seed));
	memset(ni, 0x22, sizeof(ni));
	memset(nr, 0x33, sizeof(nr));
	assert_int_equal(ikev2_derive_ike_keys(p, e, i, seed, 48, ni, 16, nr,
					       24, spi_i, spi_r, &k),
			 0);
	/* §2.13: SK_d/SK_p = 48 (preferred key); HMAC-SHA-512 key 64;
	 * AES-256-CTR 32 + 4-octet nonce (RFC 5930 §2, RFC 3686 §5.1). */
	assert_int_equal(k.sk_d_len, 48);
	assert_int_equal(k.sk_p_len, 48);
	assert_int_equal(k.sk_a_len, 64);
	assert_int_equal(k.sk_e_len, 36);
	n = ike_keys_cat(&k, cat);
	assert_int_equal(n, 3 * 48 + 2 * 64 + 2 * 36);
	assert_int_equal(ikev2_ike_keymat(p, seed, 48, ni, 16, nr, 24, spi_i,
					  spi_r, km, n),
			 0);
	assert_memory_equal(cat, km, n);
	/* SPIs are in the seed: swapping them changes everything. */
	assert_int_equal(ikev2_ike_keymat(p, seed, 48, ni, 16, nr, 24, spi_r,
					  spi_i, km, n),
			 0);
	assert_memory_not_equal(cat, km, 16);
	ike_keys_wipe(&k);
	/* Bad combinations (RFC 5282 §8, RFC 7296 §3.3.3) leave k wiped. */
	memset(&k, 0xa5, sizeof(k));
	assert_int_equal(ikev2_derive_ike_keys(p, encr_by_name("aes128gcm16"),
					       i, seed, 48, ni, 16, nr, 24,
					       spi_i, spi_r, &k),
			 ERR_INVAL);
	assert_int_equal(k.sk_e_len, 0);
	assert_int_equal(k.sk_d[0], 0);
	assert_int_equal(ikev2_derive_ike_keys(p, e, NULL, seed, 48, ni, 16, nr,
					       24, spi_i, spi_r, &k),
			 ERR_INVAL);
	assert_int_equal(ikev2_derive_ike_keys(p, NULL, NULL, seed, 48, ni, 16,
					       nr, 24, spi_i, spi_r, &k),
			 ERR_INVAL);
	assert_int_equal(ikev2_derive_ike_keys(NULL, e, i, seed, 48, ni, 16, nr,
					       24, spi_i, spi_r, &k),
			 ERR_INVAL);
	/* AES-CCM: 3-octet salt (RFC 5282 §7.1, RFC 4309 §7.1). */
	assert_int_equal(ikev2_derive_ike_keys(p, encr_by_name("aes192ccm12"),
					       NULL, seed, 48, ni, 16, nr, 24,
					       spi_i, spi_r, &k),
			 0);
	assert_int_equal(k.sk_e_len, 27);
	assert_int_equal(k.sk_a_len, 0);
	ike_keys_wipe(&k);
	ike_keys_wipe(NULL);
}

/* Child SA: ESP CBC+HMAC, ESP AEAD, AH, with and without PFS. */
static void test_child_key_layout(void **state)
{
	const struct prf_alg *p = prf_by_name("prfsha256");
	const struct encr_alg *cbc = encr_by_name("aes128");
	const struct encr_alg *gcm = encr_by_name("aes256gcm16");
	const struct integ_alg *sha = integ_by_name("sha256");
	uint8_t skd[32], ni[32], nr[32], g[56], km[512], cat[512];
	struct child_keys k;
	size_t n;

	(void)state;
	memset(skd, 0x5a, sizeof(skd));
	memset(ni, 0x01, sizeof(ni));
	memset(nr, 0x02, sizeof(nr));
	memset(g, 0x03, sizeof(g));
	/* ESP AES-128-CBC + HMAC-SHA-256-128:
	 * encr_i(16) | integ_i(32) | encr_r(16) | integ_r(32). */
	assert_int_equal(ikev2_derive_child_keys(p, skd, 32, NULL, 0, ni, 32,
						 nr, 32, cbc, sha, &k),
			 0);
	assert_int_equal(k.encr_len, 16);
	assert_int_equal(k.integ_len, 32);
	n = child_keys_cat(&k, cat);
	assert_int_equal(
		ikev2_child_keymat(p, skd, 32, NULL, 0, ni, 32, nr, 32, km, n),
		0);
	assert_memory_equal(cat, km, n);
	assert_memory_equal(k.integ_i, km + 16, 32);
	assert_memory_equal(k.encr_r, km + 48, 16);
	/* PFS: g^ir goes first in the seed (§2.17). */
	assert_int_equal(ikev2_derive_child_keys(p, skd, 32, g, 56, ni, 32, nr,
						 32, cbc, sha, &k),
			 0);
	assert_memory_not_equal(k.encr_i, km, 16);
	memcpy(cat, g, 56);
	memcpy(cat + 56, ni, 32);
	memcpy(cat + 88, nr, 32);
	assert_int_equal(prf_plus(p, skd, 32, cat, 120, km, 16), 0);
	assert_memory_equal(k.encr_i, km, 16);
	/* AEAD: 32 + 4 salt each way, no integrity key. */
	assert_int_equal(ikev2_derive_child_keys(p, skd, 32, NULL, 0, ni, 32,
						 nr, 32, gcm, NULL, &k),
			 0);
	assert_int_equal(k.encr_len, 36);
	assert_int_equal(k.integ_len, 0);
	assert_int_equal(
		ikev2_child_keymat(p, skd, 32, NULL, 0, ni, 32, nr, 32, km, 72),
		0);
	assert_memory_equal(k.encr_i, km, 36);
	assert_memory_equal(k.encr_r, km + 36, 36);
	/* AH: integrity keys only. */
	assert_int_equal(ikev2_derive_child_keys(p, skd, 32, NULL, 0, ni, 32,
						 nr, 32, NULL, sha, &k),
			 0);
	assert_int_equal(k.encr_len, 0);
	assert_memory_equal(k.integ_i, km, 32);
	assert_memory_equal(k.integ_r, km + 32, 32);
	/* AEAD plus integrity, or nothing at all, is a caller bug. */
	assert_int_equal(ikev2_derive_child_keys(p, skd, 32, NULL, 0, ni, 32,
						 nr, 32, gcm, sha, &k),
			 ERR_INVAL);
	assert_int_equal(k.encr_len, 0);
	assert_int_equal(ikev2_derive_child_keys(p, skd, 32, NULL, 0, ni, 32,
						 nr, 32, NULL, NULL, &k),
			 ERR_INVAL);
	child_keys_wipe(&k);
	child_keys_wipe(NULL);
}

static void test_rekey_and_args(void **state)
{
	const struct prf_alg *p = prf_by_name("prfsha256");
	const struct prf_alg *px = prf_by_name("prfaesxcbc");
	uint8_t skd[32], ni[32], nr[32], g[32], out[64], data[96];

	(void)state;
	memset(skd, 0x44, sizeof(skd));
	memset(ni, 0x55, sizeof(ni));
	memset(nr, 0x66, sizeof(nr));
	memset(g, 0x77, sizeof(g));
	/* §2.18: prf(SK_d (old), g^ir (new) | Ni | Nr) */
	memcpy(data, g, 32);
	memcpy(data + 32, ni, 32);
	memcpy(data + 64, nr, 32);
	assert_int_equal(ikev2_skeyseed_rekey(p, skd, 32, g, 32, ni, 32, nr, 32,
					      out, 32),
			 0);
	assert_int_equal(prf(p, skd, 32, data, 96, out + 32), 0);
	assert_memory_equal(out, out + 32, 32);
	/* The old SA's PRF, whatever the new SA negotiated: an AES PRF
	 * takes the 16-octet SK_d as is (no nonce halving here). */
	assert_int_equal(ikev2_skeyseed_rekey(px, skd, 16, g, 32, ni, 32, nr,
					      32, out, 16),
			 0);
	assert_int_equal(prf(px, skd, 16, data, 96, out + 16), 0);
	assert_memory_equal(out, out + 16, 16);
	/* §2.18: a rekey without a DH exchange is not allowed. */
	assert_int_equal(ikev2_skeyseed_rekey(p, skd, 32, NULL, 0, ni, 32, nr,
					      32, out, 32),
			 ERR_INVAL);
	assert_int_equal(ikev2_skeyseed_rekey(p, skd, 32, g, 32, ni, 32, nr, 32,
					      out, 31),
			 ERR_NOSPACE);
	assert_int_equal(ikev2_skeyseed(p, ni, 32, nr, 32, g, 32, out, 31),
			 ERR_NOSPACE);
	assert_int_equal(ikev2_skeyseed(NULL, ni, 32, nr, 32, g, 32, out, 64),
			 ERR_INVAL);
	assert_int_equal(ikev2_skeyseed(p, NULL, 32, nr, 32, g, 32, out, 64),
			 ERR_INVAL);
	assert_int_equal(ikev2_child_keymat(p, skd, 32, NULL, 5, ni, 32, nr, 32,
					    out, 32),
			 ERR_INVAL);
	/* prf+ stops at 255 rounds (§2.13). */
	{
		static uint8_t big[255 * 32 + 1];

		assert_int_equal(ikev2_child_keymat(p, skd, 32, NULL, 0, ni, 32,
						    nr, 32, big, sizeof(big)),
				 ERR_OVERFLOW);
	}
}

static void test_psk_edges(void **state)
{
	const struct prf_alg *p = prf_by_name("prfsha256");
	const struct prf_alg *px = prf_by_name("prfaesxcbc");
	static const uint8_t id[] = {2, 0, 0, 0, 'a', '.', 'b'};
	uint8_t skp[32], msg[40], nonce[16], fixed[60], auth[32], tmp[32];
	uint8_t pad[32];
	struct wbuf w;

	(void)state;
	memset(skp, 9, sizeof(skp));
	memset(msg, 1, sizeof(msg));
	memset(nonce, 2, sizeof(nonce));
	/* A fixed writer that is too short: the sticky ERR_NOSPACE. */
	wbuf_init_fixed(&w, fixed, sizeof(fixed));
	assert_int_equal(ikev2_signed_octets(p, skp, 32, msg, 40, nonce, 16, id,
					     sizeof(id), &w),
			 ERR_NOSPACE);
	wbuf_init_fixed(&w, fixed, 40);
	assert_int_equal(ikev2_signed_octets(p, skp, 32, NULL, 40, nonce, 16,
					     id, sizeof(id), &w),
			 ERR_INVAL);
	/* AUTH = prf(prf(secret, pad), octets), also for AES-XCBC, whose
	 * prf() takes the long secret per RFC 4434 §2. */
	assert_int_equal(
		ikev2_psk_auth(p, (const uint8_t *)"s", 1, msg, 40, auth, 32),
		0);
	assert_int_equal(prf(p, (const uint8_t *)"s", 1,
			     (const uint8_t *)"Key Pad for IKEv2", 17, pad),
			 0);
	assert_int_equal(prf(p, pad, 32, msg, 40, tmp), 0);
	assert_memory_equal(auth, tmp, 32);
	assert_int_equal(
		ikev2_psk_auth(p, (const uint8_t *)"s", 1, msg, 40, auth, 31),
		ERR_NOSPACE);
	assert_int_equal(ikev2_psk_auth(px, skp, 32, msg, 40, auth, 16), 0);
	assert_int_equal(ikev2_psk_verify(px, skp, 32, msg, 40, auth, 16), 0);
	/* A truncated or over-long AUTH never matches. */
	assert_int_equal(ikev2_psk_verify(px, skp, 32, msg, 40, auth, 15),
			 ERR_AUTH);
	assert_int_equal(ikev2_psk_auth(p, skp, 32, msg, 40, auth, 32), 0);
	assert_int_equal(ikev2_psk_verify(p, skp, 32, msg, 40, auth, 31),
			 ERR_AUTH);
	assert_int_equal(ikev2_psk_verify(p, skp, 31, msg, 40, auth, 32),
			 ERR_AUTH);
	assert_int_equal(ikev2_psk_verify(p, skp, 32, msg, 40, NULL, 32),
			 ERR_INVAL);
}

/* ---- (4) key-log lines ---- */

static void fill(uint8_t *p, size_t n, uint8_t start)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

static void test_keylog_ikev2(void **state)
{
	static const uint8_t spi_i[8] = {0xd5, 0x48, 0x0d, 0xf7,
					 0x58, 0x99, 0x22, 0xf5};
	static const uint8_t spi_r[8] = {0x4c, 0xa0, 0x98, 0xa7,
					 0x95, 0x64, 0x6a, 0x8e};
	struct ike_keys k;
	char line[KEYLOG_LINE_MAX];

	(void)state;
	memset(&k, 0, sizeof(k));
	k.sk_e_len = 20;
	fill(k.sk_ei, 20, 0x00);
	fill(k.sk_er, 20, 0xa0);
	assert_int_equal(keylog_ikev2_line(spi_i, spi_r,
					   encr_by_name("aes128gcm16"), NULL,
					   &k, line, sizeof(line)),
			 0);
	assert_string_equal(line,
			    "d5480df7589922f5,4ca098a795646a8e,"
			    "000102030405060708090a0b0c0d0e0f10111213,"
			    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3,"
			    "\"AES-GCM-128 with 16 octet ICV [RFC5282]\",,,"
			    "\"NONE [RFC4306]\"\n");
	k.sk_e_len = 32;
	k.sk_a_len = 32;
	fill(k.sk_ai, 32, 0x10);
	fill(k.sk_ar, 32, 0x30);
	assert_int_equal(keylog_ikev2_line(spi_i, spi_r, encr_by_name("aes256"),
					   integ_by_name("sha256"), &k, line,
					   sizeof(line)),
			 0);
	assert_non_null(strstr(line, ",\"AES-CBC-256 [RFC3602]\","
				     "101112131415161718191a1b1c1d1e1f"
				     "202122232425262728292a2b2c2d2e2f,"));
	assert_non_null(strstr(line, "4f,\"HMAC_SHA2_256_128 [RFC4868]\"\n"));
	/* AES-XCBC: Wireshark's "no checking" entry takes no SK_ai/SK_ar. */
	k.sk_e_len = 16;
	k.sk_a_len = 16;
	assert_int_equal(keylog_ikev2_line(spi_i, spi_r, encr_by_name("aes128"),
					   integ_by_name("aesxcbc"), &k, line,
					   sizeof(line)),
			 0);
	assert_non_null(strstr(line, "\"AES-CBC-128 [RFC3602]\",,,"
				     "\"ANY 96-bits of Authentication "
				     "[No Checking]\"\n"));
	k.sk_e_len = 32;
	k.sk_a_len = 32;
	/* Lengths must match the transforms. */
	assert_int_equal(keylog_ikev2_line(spi_i, spi_r, encr_by_name("aes128"),
					   integ_by_name("sha256"), &k, line,
					   sizeof(line)),
			 ERR_INVAL);
	/* Wireshark has no IKEv2 ChaCha20-Poly1305 entry. */
	k.sk_e_len = 36;
	k.sk_a_len = 0;
	assert_int_equal(keylog_ikev2_line(spi_i, spi_r,
					   encr_by_name("chacha20poly1305"),
					   NULL, &k, line, sizeof(line)),
			 ERR_UNSUPPORTED);
	/* Too small: error, nothing half-written left behind. */
	k.sk_e_len = 20;
	assert_int_equal(keylog_ikev2_line(spi_i, spi_r,
					   encr_by_name("aes128gcm16"), NULL,
					   &k, line, 40),
			 ERR_NOSPACE);
	assert_int_equal(line[0], 0);
	ike_keys_wipe(&k);
}

static void test_keylog_esp(void **state)
{
	struct sa_params sa;
	char line[KEYLOG_LINE_MAX];

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.proto = IPSEC_PROTO_ESP;
	sa.spi = 0xc22b9b6d;
	assert_int_equal(addr_parse("192.0.2.10", &sa.src), 0);
	assert_int_equal(addr_parse("192.0.2.20", &sa.dst), 0);
	sa.encr = encr_by_name("aes128gcm16");
	sa.enc_key_len = 20;
	fill(sa.enc_key, 20, 0xe0);
	assert_int_equal(keylog_esp_line(&sa, line, sizeof(line)), 0);
	assert_string_equal(line,
			    "\"IPv4\",\"192.0.2.10\",\"192.0.2.20\","
			    "\"0xc22b9b6d\","
			    "\"AES-GCM with 16 octet ICV [RFC4106]\","
			    "\"0xe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3\","
			    "\"NULL\",\"\"\n");
	/* IPv6, AES-CBC + HMAC-SHA1-96 */
	assert_int_equal(addr_parse("2001:db8::1", &sa.src), 0);
	assert_int_equal(addr_parse("2001:db8::2", &sa.dst), 0);
	sa.spi = 0x00000102;
	sa.encr = encr_by_name("aes128");
	sa.enc_key_len = 16;
	sa.integ = integ_by_name("sha1");
	sa.integ_key_len = 20;
	fill(sa.integ_key, 20, 0);
	assert_int_equal(keylog_esp_line(&sa, line, sizeof(line)), 0);
	assert_string_equal(line,
			    "\"IPv6\",\"2001:db8::1\",\"2001:db8::2\","
			    "\"0x00000102\",\"AES-CBC [RFC3602]\","
			    "\"0xe0e1e2e3e4e5e6e7e8e9eaebecedeeef\","
			    "\"HMAC-SHA-1-96 [RFC2404]\","
			    "\"0x000102030405060708090a0b0c0d0e0f10111213\"\n");
	/* AES-XCBC: decrypt without ICV checks. */
	sa.integ = integ_by_name("aesxcbc");
	sa.integ_key_len = 16;
	assert_int_equal(keylog_esp_line(&sa, line, sizeof(line)), 0);
	assert_non_null(
		strstr(line, "\"ANY 96 bit authentication [no checking]\""));
	/* ChaCha20-Poly1305: the label of Wireshark releases after 4.0. */
	sa.integ = NULL;
	sa.encr = encr_by_name("chacha20poly1305");
	sa.enc_key_len = 36;
	assert_int_equal(keylog_esp_line(&sa, line, sizeof(line)), 0);
	assert_non_null(strstr(line, "\"ChaCha20 with Poly1305 [RFC7634]\","));
	/* No Wireshark label: AES-CCM, GMAC; AH is not an ESP SA. */
	sa.integ = NULL;
	sa.encr = encr_by_name("aes128ccm16");
	assert_int_equal(keylog_esp_line(&sa, line, sizeof(line)),
			 ERR_UNSUPPORTED);
	sa.encr = encr_by_name("aes128gmac");
	assert_int_equal(keylog_esp_line(&sa, line, sizeof(line)),
			 ERR_UNSUPPORTED);
	sa.encr = encr_by_name("aes128");
	sa.proto = IPSEC_PROTO_AH;
	assert_int_equal(keylog_esp_line(&sa, line, sizeof(line)),
			 ERR_UNSUPPORTED);
	sa.proto = IPSEC_PROTO_ESP;
	sa.dst.af = AF_INET;
	assert_int_equal(keylog_esp_line(&sa, line, sizeof(line)), ERR_INVAL);
	crypto_wipe(&sa, sizeof(sa));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cavp_strongswan),
		cmocka_unit_test(test_cavp_libreswan),
		cmocka_unit_test(test_charon_logs),
		cmocka_unit_test(test_aes_prf_nonce_halves),
		cmocka_unit_test(test_ike_key_layout),
		cmocka_unit_test(test_child_key_layout),
		cmocka_unit_test(test_rekey_and_args),
		cmocka_unit_test(test_psk_edges),
		cmocka_unit_test(test_keylog_ikev2),
		cmocka_unit_test(test_keylog_esp),
	};

	if (crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
