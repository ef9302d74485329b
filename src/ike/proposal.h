/* SPDX-License-Identifier: MIT */
/*
 * IKE and ESP proposals: strongSwan's proposal syntax, conversion to and
 * from the SA payload (RFC 7296 §3.3), and the responder's choice
 * (RFC 7296 §2.7, §3.3.6).
 *
 * Syntax.  A proposal string is a comma-separated list of proposals; each
 * proposal is a dash-separated list of algorithm keywords as in
 * strongSwan ("aes256gcm16-prfsha384-x25519").  A proposal may name
 * several algorithms of one transform type ("aes128-aes256-sha256-
 * modp2048-ecp256"): the peer may pick any combination.
 *   IKE: ENCR+, then for a non-AEAD cipher INTEG+ (PRF optional: when
 *        absent, one PRF per integrity algorithm, sha256 -> prfsha256);
 *        for AEAD no INTEG and PRF+ required; KE+ required.
 *   ESP: ENCR+, INTEG+ for non-AEAD (none with AEAD), optional KE (the
 *        PFS group of CREATE_CHILD_SA; ignored in IKE_AUTH, RFC 7296
 *        §1.2), optional "esn"/"noesn" (default noesn).
 * AEAD and non-AEAD ciphers may not be mixed in one proposal, because the
 * integrity transform would be required for some and forbidden for others
 * (RFC 5282 §8); write two proposals instead.
 *
 * Selection (documented choice): the RESPONDER's preference wins.  Our
 * proposals are tried in our configured order; for each, the initiator's
 * proposals are tried in their order, and the first pair that intersects
 * wins.  Within that pair each transform type takes our first algorithm
 * the peer also offered, except the KE group: if the group of the KE
 * payload the initiator already sent is acceptable it is taken, so no
 * INVALID_KE_PAYLOAD round trip is needed (RFC 7296 §1.2, §2.7).
 */
#ifndef IPSECD_IKE_PROPOSAL_H
#define IPSECD_IKE_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "ike/ikev2_msg.h"

#define PROP_MAX 16	/* proposals per list */
#define PROP_MAX_ALGS 8 /* algorithms per transform type */
/* ENCR, INTEG, PRF, KE lists plus both ESN values. */
#define PROP_MAX_XFORMS (4 * PROP_MAX_ALGS + 2)

/*
 * Secure defaults: no DES, 3DES, MD5, SHA-1 PRF or MODP-1024.  The ESP
 * default is what Windows, Apple and Android clients propose, minus
 * broken ones: AES-GCM (Android, newer Apple), AES-CBC with SHA-256
 * (Apple), and AES-CBC with HMAC-SHA1-96, which is all that Windows'
 * built-in client offers for ESP unless reconfigured; HMAC-SHA1 as a MAC
 * is not broken (RFC 8221 still lists it for ESP as MUST-).
 */
#define PROPOSAL_IKE_DEFAULT                                           \
	"aes256gcm16-prfsha384-x25519, aes128gcm16-prfsha256-ecp256, " \
	"aes256gcm16-prfsha384-ecp384, aes256-sha256-modp2048"
#define PROPOSAL_ESP_DEFAULT \
	"aes256gcm16, aes128gcm16, aes256-sha256, aes128-sha256, " \
	"aes256-sha1, aes128-sha1"

struct proposal {
	uint8_t protocol; /* IKEV2_PROTO_IKE or IKEV2_PROTO_ESP */
	uint8_t n_encr, n_integ, n_prf, n_ke, n_esn;
	const struct encr_alg *encr[PROP_MAX_ALGS]; /* borrowed (tables) */
	const struct integ_alg *integ[PROP_MAX_ALGS];
	const struct prf_alg *prf[PROP_MAX_ALGS];
	const struct ke_alg *ke[PROP_MAX_ALGS];
	uint8_t esn[2]; /* ESN transform IDs: 0 = no, 1 = yes */
};

struct proposal_list {
	size_t n;
	struct proposal p[PROP_MAX];
};

/*
 * Parse a proposal string for protocol IKEV2_PROTO_IKE or _ESP.  0, or
 * ERR_INVAL with a message in err (if not NULL) naming the bad keyword
 * and listing the valid ones; nothing is logged (the config loader adds
 * file:line and reports it).
 */
int proposal_parse(const char *s, uint8_t protocol, struct proposal_list *out,
		   char *err, size_t err_len);

/* Format one proposal / a list in proposal syntax into buf; returns buf. */
const char *proposal_fmt(const struct proposal *p, char *buf, size_t len);
const char *proposal_list_fmt(const struct proposal_list *l, char *buf,
			      size_t len);
/* Format a received SA payload ("IKE:aes128gcm16/prfsha256/x25519, ..."),
 * unknown transforms as TYPE_ID numbers. */
const char *proposal_sa_fmt(const struct ikev2_sa *sa, char *buf, size_t len);

/*
 * SA payload descriptions for ikev2_add_sa().  Proposal numbers are 1..n;
 * every proposal carries the same SPI (spi_len 0 for IKE_SA_INIT, 4 for
 * ESP).  The descriptions point into *w: keep it alive until built.
 */
struct proposal_wire {
	size_t n;
	struct ikev2_prop_desc d[PROP_MAX];
	struct ikev2_xform_desc t[PROP_MAX][PROP_MAX_XFORMS];
};

int proposal_to_wire(const struct proposal_list *l, const uint8_t *spi,
		     size_t spi_len, struct proposal_wire *w);

/* One transform of each type: what was agreed. */
struct proposal_chosen {
	uint8_t num; /* the initiator's proposal number */
	uint8_t protocol;
	uint8_t spi_size;
	uint8_t spi[IKEV2_MAX_SPI_LEN]; /* the proposer's SPI */
	const struct encr_alg *encr;
	const struct integ_alg *integ; /* NULL with AEAD */
	const struct prf_alg *prf;     /* NULL for ESP */
	const struct ke_alg *ke;       /* NULL: no (PFS) group */
	bool esn;
};

/*
 * Responder side, RFC 7296 §2.7: pick from the initiator's SA payload.
 * ke_group is the group of the initiator's KE payload (0 if none): if
 * acceptable in the chosen pair it is preferred.  With want_ke false (ESP
 * in IKE_AUTH, RFC 7296 §1.2) any KE transform is ignored and none is
 * chosen.  ERR_NOTFOUND if nothing matches: the caller answers
 * NO_PROPOSAL_CHOSEN, and why (if not NULL) tells what each side offered.
 */
int proposal_select(const struct proposal_list *ours,
		    const struct ikev2_sa *offered, uint16_t ke_group,
		    bool want_ke, struct proposal_chosen *out, char *why,
		    size_t why_len);

/*
 * Initiator side: check the responder's SA payload, which must hold
 * exactly one proposal with exactly one transform of each type we need,
 * all taken from what we offered (RFC 7296 §2.7, §3.3.6).  0 or
 * ERR_PROTO (why says what is wrong).
 */
int proposal_check_reply(const struct proposal_list *ours,
			 const struct ikev2_sa *reply, bool want_ke,
			 struct proposal_chosen *out, char *why,
			 size_t why_len);

/*
 * The SA payload of a response: the chosen proposal, with its number and
 * our SPI.  t must hold 5 entries and stay alive until built.
 */
void proposal_chosen_to_wire(const struct proposal_chosen *c,
			     const uint8_t *spi, size_t spi_len,
			     struct ikev2_prop_desc *d,
			     struct ikev2_xform_desc t[5]);

#endif
