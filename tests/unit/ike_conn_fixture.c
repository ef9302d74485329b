/* SPDX-License-Identifier: MIT */
/* IKE connection fixture for the unit tests; see ike_conn_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ike_conn_fixture.h"

void fx_ts(struct ts_sel *t, const char *prefix)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(prefix_parse(prefix, &t->net), 0);
	t->port_hi = 65535;
}

void fx_addrs(struct ike_conn *c, bool initiator, const char *init,
	      const char *resp)
{
	assert_int_equal(addr_parse(initiator ? init : resp, &c->local_addr),
			 0);
	assert_int_equal(addr_parse(initiator ? resp : init, &c->remote_addr),
			 0);
}

/* Print the parser's reason before failing, so a typo in a test's
 * proposal string says what is wrong with it. */
static void proposals(struct ike_conn *c, const char *ike, const char *esp)
{
	char err[1024];

	if (proposal_parse(ike ? ike : PROPOSAL_IKE_DEFAULT, IKEV2_PROTO_IKE,
			   &c->ike, err, sizeof(err)) ||
	    proposal_parse(esp ? esp : PROPOSAL_ESP_DEFAULT, IKEV2_PROTO_ESP,
			   &c->esp, err, sizeof(err))) {
		print_error("%s\n", err);
		fail();
	}
}

void fx_conn(struct ike_conn *c, bool initiator, const char *ike,
	     const char *esp, const char *psk, const char *local_ts,
	     const char *remote_ts)
{
	size_t n = strlen(psk);

	memset(c, 0, sizeof(*c));
	fx_addrs(c, initiator, "192.0.2.1", "192.0.2.2");
	proposals(c, ike, esp);
	assert_in_range(n, 1, sizeof(c->psk));
	memcpy(c->psk, psk, n);
	c->psk_len = n;
	fx_ts(&c->local_ts[0], local_ts);
	fx_ts(&c->remote_ts[0], remote_ts);
	c->n_local_ts = c->n_remote_ts = 1;
	c->mode = IPSEC_MODE_TUNNEL;
}

struct ike_pki *fx_pki(enum cert_key_type t, const char *cn, const char *san,
		       struct x509_st *issuer, struct evp_pkey_st *issuer_key,
		       struct x509_st *trust)
{
	struct cert_spec s = {.role = CERT_ROLE_SERVER, .cn = cn};
	struct ike_pki *p;
	struct evp_pkey_st *k;
	struct x509_st *x;
	char why[256];

	assert_int_equal(ike_pki_new(&p), 0);
	p->local_auth = issuer ? IKE_AUTHK_PUBKEY : IKE_AUTHK_PSK;
	p->remote_auth = trust ? IKE_AUTHK_PUBKEY : IKE_AUTHK_PSK;
	if (issuer) {
		assert_int_equal(cert_keygen(t, &k), 0);
		s.key = k;
		s.san[0] = san;
		s.n_san = 1;
		s.issuer = issuer;
		s.issuer_key = issuer_key;
		assert_int_equal(cert_issue(&s, &x, why, sizeof(why)), 0);
		assert_int_equal(cert_local_new(x, k, &p->local), 0);
	}
	if (trust) {
		assert_int_equal(cert_store_new(&p->store), 0);
		assert_int_equal(cert_store_add_ca(p->store, trust), 0);
	}
	return p;
}
