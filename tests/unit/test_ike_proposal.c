/* SPDX-License-Identifier: MIT */
/*
 * Proposal strings (src/ike/proposal.c): a numbered table of good and bad
 * strings, the SA payload round trip through the codec, and the
 * responder's selection (RFC 7296 §2.7, §3.3.6).
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
#include "ike/ikev2_msg.h"
#include "ike/proposal.h"

struct prop_case {
	int num;
	uint8_t protocol;
	const char *in;
	int want;	     /* 0 or ERR_INVAL */
	const char *fmt;     /* canonical format when good */
	const char *err_has; /* substring of the error when bad */
};

#define IKE IKEV2_PROTO_IKE
#define ESP IKEV2_PROTO_ESP

static const struct prop_case cases[] = {
	{1, IKE, "aes256gcm16-prfsha384-x25519", 0,
	 "aes256gcm16-prfsha384-x25519", NULL},
	{2, IKE, "aes128-sha256-modp2048", 0,
	 "aes128-sha256-prfsha256-modp2048", NULL},
	{3, IKE, "aes256gcm16-prfsha384-x25519, aes128-sha256-modp2048", 0,
	 "aes256gcm16-prfsha384-x25519, aes128-sha256-prfsha256-modp2048",
	 NULL},
	{4, IKE, "aes128-aes256-sha256-sha384-modp2048-ecp256", 0,
	 "aes128-aes256-sha256-sha384-prfsha256-prfsha384-modp2048-ecp256",
	 NULL},
	{5, IKE, "aes256-sha256-prfsha512-ecp384", 0,
	 "aes256-sha256-prfsha512-ecp384", NULL},
	{6, IKE, "chacha20poly1305-prfsha256-ecp256", 0,
	 "chacha20poly1305-prfsha256-ecp256", NULL},
	{7, IKE, "  aes128gcm128-prfsha2_256-curve25519  ", 0,
	 "aes128gcm16-prfsha256-x25519", NULL},
	{8, IKE, PROPOSAL_IKE_DEFAULT, 0, NULL, NULL},
	{9, ESP, PROPOSAL_ESP_DEFAULT, 0,
	 "aes256gcm16, aes128gcm16, aes256-sha256, aes128-sha256, "
	 "aes256-sha1, aes128-sha1", NULL},
	{10, ESP, "aes256gcm16, aes128-sha256, aes128gcm16-x25519", 0,
	 "aes256gcm16, aes128-sha256, aes128gcm16-x25519", NULL},
	{11, ESP, "aes128-sha256-esn-noesn", 0, "aes128-sha256-esn-noesn",
	 NULL},
	{12, ESP, "aes128gmac", 0, "aes128gmac", NULL},
	{13, IKE, "aes128-sha1-modp1024", 0, "aes128-sha1-prfsha1-modp1024",
	 NULL},
	/* bad */
	{20, IKE, "aes256gcm16-prfsha384-x2551", ERR_INVAL, NULL,
	 "unknown algorithm 'x2551'"},
	{21, IKE, "aes256gcm16-x25519", ERR_INVAL, NULL, "needs a PRF"},
	{22, IKE, "aes128-modp2048", ERR_INVAL, NULL,
	 "needs an integrity algorithm"},
	{23, IKE, "aes128gcm16-sha256-prfsha256-x25519", ERR_INVAL, NULL,
	 "takes no integrity"},
	{24, IKE, "aes128-sha256", ERR_INVAL, NULL, "no key exchange"},
	{25, IKE, "sha256-prfsha256-x25519", ERR_INVAL, NULL, "no encryption"},
	{26, IKE, "aes128--sha256-x25519", ERR_INVAL, NULL, "empty algorithm"},
	{27, IKE, "aes128-sha256-x25519,", ERR_INVAL, NULL, "empty proposal"},
	{28, IKE, "", ERR_INVAL, NULL, "empty"},
	{29, IKE, "aes128-aes128gcm16-sha256-x25519", ERR_INVAL, NULL,
	 "mix AEAD"},
	{30, IKE, "null-sha256-x25519", ERR_INVAL, NULL, "no confidentiality"},
	{31, IKE, "aes128gmac-prfsha256-x25519", ERR_INVAL, NULL,
	 "no confidentiality"},
	{32, ESP, "aes128-sha256-prfsha256", ERR_INVAL, NULL, "is a PRF"},
	{33, ESP, "aes128", ERR_INVAL, NULL, "needs an integrity"},
	{34, IKE, "aes128-sha256-x25519-esn", ERR_INVAL, NULL,
	 "unknown algorithm 'esn'"},
	{35, ESP, "aes999", ERR_INVAL, NULL, "valid: encryption"},
	{36, IKE, ",aes128-sha256-x25519", ERR_INVAL, NULL, "empty proposal"},
	{37, IKE, "aes128-sha256-x25519-", ERR_INVAL, NULL, "empty algorithm"},
	{38, IKE,
	 "aes128-sha256-x25519,aes128-sha256-x25519,aes128-sha256-x25519,"
	 "aes128-sha256-x25519,aes128-sha256-x25519,aes128-sha256-x25519,"
	 "aes128-sha256-x25519,aes128-sha256-x25519,aes128-sha256-x25519,"
	 "aes128-sha256-x25519,aes128-sha256-x25519,aes128-sha256-x25519,"
	 "aes128-sha256-x25519,aes128-sha256-x25519,aes128-sha256-x25519,"
	 "aes128-sha256-x25519,aes128-sha256-x25519",
	 ERR_INVAL, NULL, "more than 16 proposals"},
	{39, 7, "aes128-sha256", ERR_INVAL, NULL, "IKE or ESP only"},
	{40, IKE, "  , aes128-sha256-x25519", ERR_INVAL, NULL,
	 "empty proposal"},
	{41, IKE, "aes128-sha256-x25519 ,  ", ERR_INVAL, NULL,
	 "empty proposal"},
	{42, ESP, "aes128-sha256-x25519-sha256-aes128", 0,
	 "aes128-sha256-x25519", NULL},
	{43, IKE, "AES128-SHA256-X25519", ERR_INVAL, NULL, "'AES128'"},
};

static void test_parse_table(void **state)
{
	struct proposal_list l;
	char err[4096], fmt[2048];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct prop_case *c = &cases[i];

		r = proposal_parse(c->in, c->protocol, &l, err, sizeof(err));
		if (r != c->want) {
			print_error("case %d: '%s': got %d want %d (%s)\n",
				    c->num, c->in, r, c->want, err);
			fail();
		}
		if (r == 0 && c->fmt) {
			proposal_list_fmt(&l, fmt, sizeof(fmt));
			if (strcmp(fmt, c->fmt) != 0) {
				print_error("case %d: '%s' -> '%s'\n", c->num,
					    c->fmt, fmt);
				fail();
			}
		}
		if (r != 0 && c->err_has && !strstr(err, c->err_has)) {
			print_error("case %d: error '%s' lacks '%s'\n", c->num,
				    err, c->err_has);
			fail();
		}
	}
}

static void test_defaults_secure(void **state)
{
	struct proposal_list l;
	char err[512];
	size_t i, j;

	(void)state;
	assert_int_equal(
		proposal_parse(PROPOSAL_IKE_DEFAULT, IKE, &l, err, sizeof(err)),
		0);
	assert_true(l.n >= 3);
	for (i = 0; i < l.n; i++) {
		for (j = 0; j < l.p[i].n_encr; j++)
			assert_false(l.p[i].encr[j]->legacy);
		for (j = 0; j < l.p[i].n_integ; j++)
			assert_string_not_equal(l.p[i].integ[j]->name, "sha1");
		for (j = 0; j < l.p[i].n_ke; j++)
			assert_true(l.p[i].ke[j]->iana_id >= 14);
	}
	assert_int_equal(
		proposal_parse(PROPOSAL_ESP_DEFAULT, ESP, &l, err, sizeof(err)),
		0);
	/* GCM, CBC with SHA-256, and CBC with SHA-1 for Windows. */
	assert_int_equal(l.n, 6);
	for (i = 0; i < l.n; i++) {
		for (j = 0; j < l.p[i].n_encr; j++)
			assert_false(l.p[i].encr[j]->legacy);
		for (j = 0; j < l.p[i].n_integ; j++)
			assert_string_not_equal(l.p[i].integ[j]->name, "md5");
		for (j = 0; j < l.p[i].n_ke; j++)
			assert_true(l.p[i].ke[j]->iana_id >= 14);
	}
}

/* Build an SA payload from a string, parse it back with the codec. */
static void wire_sa(const char *s, uint8_t protocol, struct ikev2_sa *sa)
{
	static const uint8_t spi4[4] = {1, 2, 3, 4};
	struct proposal_list l;
	struct proposal_wire pw;
	struct ikev2_builder b;
	struct ikev2_hdr h;
	struct wbuf w;
	struct ikev2_msg msg;
	size_t from = 0;
	const struct ikev2_payload *pl;
	char err[1024];
	uint8_t exch = protocol == IKE ? IKEV2_EXCH_IKE_SA_INIT
				       : IKEV2_EXCH_CREATE_CHILD_SA;

	assert_int_equal(proposal_parse(s, protocol, &l, err, sizeof(err)), 0);
	assert_int_equal(proposal_to_wire(&l, protocol == ESP ? spi4 : NULL,
					  protocol == ESP ? 4 : 0, &pw),
			 0);
	memset(&h, 0, sizeof(h));
	memset(h.spi_i, 0x11, 8);
	if (exch != IKEV2_EXCH_IKE_SA_INIT)
		memset(h.spi_r, 0x22, 8);
	h.exchange = exch;
	h.flags = IKEV2_FLAG_INITIATOR;
	assert_int_equal(wbuf_init(&w, 256), 0);
	assert_int_equal(ikev2_build_begin(&b, &w, &h), 0);
	assert_int_equal(ikev2_add_sa(&b, pw.d, pw.n), 0);
	assert_int_equal(ikev2_build_end(&b), 0);
	assert_int_equal(ikev2_parse_msg(w.p, w.len, &msg), 0);
	pl = ikev2_msg_next(&msg, IKEV2_PL_SA, &from);
	assert_non_null(pl);
	assert_int_equal(ikev2_decode_sa(pl, sa), 0);
	/* The decoded SA points into w; the tests only use ids and counts,
	 * which are copied, so the writer may go. */
	wbuf_free(&w);
}

static void test_round_trip(void **state)
{
	static const char *const ike[] = {
		"aes256gcm16-prfsha384-x25519, aes128-sha256-modp2048",
		"aes128-aes256-sha256-sha384-modp2048-ecp256",
		PROPOSAL_IKE_DEFAULT,
	};
	struct ikev2_sa *sa = malloc(sizeof(*sa));
	struct proposal_list l;
	char err[1024], fmt[2048];
	size_t i;

	(void)state;
	assert_non_null(sa);
	for (i = 0; i < 3; i++) {
		wire_sa(ike[i], IKE, sa);
		assert_int_equal(
			proposal_parse(ike[i], IKE, &l, err, sizeof(err)), 0);
		assert_int_equal(sa->n, l.n);
		assert_int_equal(sa->p[0].num, 1);
		assert_int_equal(sa->p[0].spi_size, 0);
		proposal_sa_fmt(sa, fmt, sizeof(fmt));
		assert_non_null(strstr(fmt, "IKE:"));
		assert_null(strstr(fmt, "T1_"));
	}
	wire_sa("aes128gcm16-esn-noesn, aes256-sha512", ESP, sa);
	assert_int_equal(sa->n, 2);
	assert_int_equal(sa->p[0].spi_size, 4);
	assert_int_equal(sa->p[0].spi[3], 4);
	proposal_sa_fmt(sa, fmt, sizeof(fmt));
	assert_string_equal(fmt, "ESP:aes128gcm16/esn/noesn, "
				 "ESP:aes256/sha512/noesn");
	free(sa);
}

struct sel_case {
	int num;
	uint8_t protocol;
	const char *ours;
	const char *theirs;
	uint16_t ke_group;
	int want;
	const char *encr, *integ, *prf, *ke; /* expected names */
	uint8_t prop_num;
	bool esn;
};

static const struct sel_case sels[] = {
	/* our preference wins over the initiator's order */
	{1, IKE, "aes256gcm16-prfsha384-x25519, aes128-sha256-modp2048",
	 "aes128-sha256-modp2048, aes256gcm16-prfsha384-x25519", 0, 0,
	 "aes256gcm16", NULL, "prfsha384", "x25519", 2, false},
	/* the group of the KE payload is preferred when acceptable */
	{2, IKE, "aes128-sha256-x25519-ecp256-modp2048",
	 "aes128-sha256-modp2048-ecp256", 19, 0, "aes128", "sha256",
	 "prfsha256", "ecp256", 1, false},
	{3, IKE, "aes128-sha256-x25519-ecp256", "aes128-sha256-modp2048-ecp256",
	 14, 0, "aes128", "sha256", "prfsha256", "ecp256", 1, false},
	/* no overlap */
	{4, IKE, "aes256gcm16-prfsha384-x25519", "aes128-sha1-modp1024", 2,
	 ERR_NOTFOUND, NULL, NULL, NULL, NULL, 0, false},
	{5, IKE, "aes256gcm16-prfsha384-x25519", "aes128gcm16-prfsha384-x25519",
	 31, ERR_NOTFOUND, NULL, NULL, NULL, NULL, 0, false},
	/* ESP without PFS in IKE_AUTH: KE ignored */
	{6, ESP, "aes256gcm16, aes128-sha256",
	 "aes128-sha256-x25519, aes256gcm16-x25519", 0, 0, "aes256gcm16", NULL,
	 NULL, NULL, 2, false},
	{7, ESP, "aes128-sha256-esn", "aes128-sha256-noesn-esn", 0, 0, "aes128",
	 "sha256", NULL, NULL, 1, true},
	{8, ESP, "aes128-sha256-esn", "aes128-sha256-noesn", 0, ERR_NOTFOUND,
	 NULL, NULL, NULL, NULL, 0, false},
	{9, ESP, "aes128-sha256", "aes128-sha384", 0, ERR_NOTFOUND, NULL, NULL,
	 NULL, NULL, 0, false},
	{10, ESP, "aes256-sha256", "aes128-sha256", 0, ERR_NOTFOUND, NULL, NULL,
	 NULL, NULL, 0, false},
};

static void check_name(const char *want, const char *got)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(want, got);
}

static void test_select(void **state)
{
	struct ikev2_sa *sa = malloc(sizeof(*sa));
	struct proposal_list ours;
	struct proposal_chosen c;
	char err[1024], why[4096];
	size_t i;
	int r;

	(void)state;
	assert_non_null(sa);
	for (i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
		const struct sel_case *s = &sels[i];
		bool want_ke = s->protocol == IKE;

		wire_sa(s->theirs, s->protocol, sa);
		assert_int_equal(proposal_parse(s->ours, s->protocol, &ours,
						err, sizeof(err)),
				 0);
		r = proposal_select(&ours, sa, s->ke_group, want_ke, &c, why,
				    sizeof(why));
		if (r != s->want) {
			print_error("select %d: got %d want %d (%s)\n", s->num,
				    r, s->want, why);
			fail();
		}
		if (r < 0) {
			assert_non_null(strstr(why, "peer offered"));
			assert_non_null(strstr(why, "we accept"));
			continue;
		}
		check_name(s->encr, c.encr->name);
		check_name(s->integ, c.integ ? c.integ->name : NULL);
		check_name(s->prf, c.prf ? c.prf->name : NULL);
		check_name(s->ke, c.ke ? c.ke->name : NULL);
		assert_int_equal(c.num, s->prop_num);
		assert_int_equal(c.esn, s->esn);
	}
	free(sa);
}

/* The chosen proposal goes back on the wire and the initiator accepts
 * it; a reply that is not ours is refused. */
static void test_reply(void **state)
{
	struct ikev2_sa *sa = malloc(sizeof(*sa));
	struct proposal_list ours, init;
	struct proposal_chosen c, back;
	struct ikev2_prop_desc d;
	struct ikev2_xform_desc t[5];
	struct ikev2_builder b;
	struct ikev2_hdr h;
	struct ikev2_msg msg;
	struct wbuf w;
	size_t from = 0;
	char err[1024];
	static const uint8_t spi[4] = {9, 9, 9, 9};

	(void)state;
	assert_non_null(sa);
	const char *offer = "aes128-sha256-modp2048, "
			    "aes256gcm16-prfsha384-x25519";
	assert_int_equal(proposal_parse(offer, IKE, &init, err, sizeof(err)),
			 0);
	assert_int_equal(proposal_parse("aes256gcm16-prfsha384-x25519", IKE,
					&ours, err, sizeof(err)),
			 0);
	wire_sa(offer, IKE, sa);
	assert_int_equal(proposal_select(&ours, sa, 31, true, &c, NULL, 0), 0);
	proposal_chosen_to_wire(&c, NULL, 0, &d, t);
	memset(&h, 0, sizeof(h));
	h.exchange = IKEV2_EXCH_IKE_SA_INIT;
	h.flags = IKEV2_FLAG_RESPONSE;
	assert_int_equal(wbuf_init(&w, 128), 0);
	assert_int_equal(ikev2_build_begin(&b, &w, &h), 0);
	assert_int_equal(ikev2_add_sa(&b, &d, 1), 0);
	assert_int_equal(ikev2_build_end(&b), 0);
	assert_int_equal(ikev2_parse_msg(w.p, w.len, &msg), 0);
	assert_int_equal(
		ikev2_decode_sa(ikev2_msg_next(&msg, IKEV2_PL_SA, &from), sa),
		0);
	wbuf_free(&w);
	assert_int_equal(proposal_check_reply(&init, sa, true, &back, NULL, 0),
			 0);
	assert_ptr_equal(back.encr, c.encr);
	assert_ptr_equal(back.prf, c.prf);
	assert_ptr_equal(back.ke, c.ke);
	assert_int_equal(back.num, 2);

	/* A reply the initiator never offered. */
	assert_int_equal(proposal_parse("aes128gcm16-prfsha256-ecp256", IKE,
					&ours, err, sizeof(err)),
			 0);
	wire_sa("aes128gcm16-prfsha256-ecp256", IKE, sa);
	assert_int_equal(
		proposal_check_reply(&init, sa, true, &back, err, sizeof(err)),
		ERR_PROTO);
	/* Two transforms of one type in a reply. */
	wire_sa("aes256gcm16-prfsha384-x25519-ecp256", IKE, sa);
	assert_int_equal(
		proposal_check_reply(&init, sa, true, &back, err, sizeof(err)),
		ERR_PROTO);
	/* Two proposals in a reply. */
	wire_sa(offer, IKE, sa);
	assert_int_equal(
		proposal_check_reply(&init, sa, true, &back, err, sizeof(err)),
		ERR_PROTO);

	/* ESP reply carries the SPI given. */
	assert_int_equal(
		proposal_parse("aes128-sha256", ESP, &ours, err, sizeof(err)),
		0);
	wire_sa("aes128-sha256", ESP, sa);
	assert_int_equal(proposal_select(&ours, sa, 0, false, &c, NULL, 0), 0);
	assert_int_equal(c.spi_size, 4);
	proposal_chosen_to_wire(&c, spi, 4, &d, t);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.spi[0], 9);
	assert_int_equal(t[2].type, IKEV2_TRANS_ESN);
	free(sa);
}

/* RFC 7296 §3.3.6: a transform with an unknown attribute is unusable. */
static void test_unknown_attr(void **state)
{
	struct ikev2_sa *sa = calloc(1, sizeof(*sa));
	struct proposal_list ours;
	struct proposal_chosen c;
	char err[256];

	(void)state;
	assert_non_null(sa);
	assert_int_equal(proposal_parse("aes128-sha256-x25519", IKE, &ours, err,
					sizeof(err)),
			 0);
	wire_sa("aes128-sha256-x25519", IKE, sa);
	assert_int_equal(proposal_select(&ours, sa, 31, true, &c, NULL, 0), 0);
	sa->p[0].t[0].unknown_attrs = 1;
	assert_int_equal(proposal_select(&ours, sa, 31, true, &c, NULL, 0),
			 ERR_NOTFOUND);
	free(sa);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_defaults_secure),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_unknown_attr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
