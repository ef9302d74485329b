/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the IKEv2 message parser (src/ike/ikev2_msg.h).
 *
 * The input is parsed twice: as a whole message, and (first octet = the
 * first payload type) as a decrypted SK body chain.  After a successful
 * parse every typed decoder runs on every payload and must succeed, since
 * the parser promises it validated them; a decoder failure is a bug and
 * aborts.  Successful messages are also rebuilt payload by payload with
 * ikev2_add_raw() and must come out octet for octet the same, which checks
 * the builder's length and Next Payload patching against the parser.
 * Peer-caused rejections are logged (rate-limited); the target raises the
 * IKE log level to errors only so runs stay readable.
 *
 * Seeds: tests/fuzz/corpus/ikev2/, the frames of
 * ikev2_messages_scapy.json (IKE message octets, one file per frame).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "ike/ikev2_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static int decode_one(const struct ikev2_payload *pl)
{
	static struct ikev2_sa sa;
	static struct ikev2_cp cp;
	union {
		struct ikev2_ke ke;
		struct ikev2_id id;
		struct ikev2_cert cert;
		struct ikev2_auth auth;
		struct ikev2_nonce nonce;
		struct ikev2_notify n;
		struct ikev2_delete d;
		struct ikev2_vid vid;
		struct ikev2_ts_list ts;
		struct ikev2_sk sk;
		struct ikev2_eap eap;
	} u;

	switch (pl->type) {
	case IKEV2_PL_SA:
		return ikev2_decode_sa(pl, &sa);
	case IKEV2_PL_KE:
		return ikev2_decode_ke(pl, &u.ke);
	case IKEV2_PL_IDI:
	case IKEV2_PL_IDR:
		return ikev2_decode_id(pl, &u.id);
	case IKEV2_PL_CERT:
	case IKEV2_PL_CERTREQ:
		return ikev2_decode_cert(pl, &u.cert);
	case IKEV2_PL_AUTH:
		return ikev2_decode_auth(pl, &u.auth);
	case IKEV2_PL_NONCE:
		return ikev2_decode_nonce(pl, &u.nonce);
	case IKEV2_PL_NOTIFY:
		return ikev2_decode_notify(pl, &u.n);
	case IKEV2_PL_DELETE:
		return ikev2_decode_delete(pl, &u.d);
	case IKEV2_PL_VID:
		return ikev2_decode_vid(pl, &u.vid);
	case IKEV2_PL_TSI:
	case IKEV2_PL_TSR:
		return ikev2_decode_ts(pl, &u.ts);
	case IKEV2_PL_SK:
	case IKEV2_PL_SKF:
		return ikev2_decode_sk(pl, &u.sk);
	case IKEV2_PL_CP:
		return ikev2_decode_cp(pl, &cp);
	case IKEV2_PL_EAP:
		return ikev2_decode_eap(pl, &u.eap);
	}
	return ERR_INVAL;	/* an unknown type must never be listed */
}

static void decode_all(const struct ikev2_msg *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		check(decode_one(&m->pl[i]) == 0);
		check(m->pl[i].len == m->pl[i].body.len + IKEV2_GEN_HDR_LEN);
	}
}

/*
 * Rebuild a message from its parts with the builder.  It must equal the
 * input except for the reserved bits of each payload's flags octet (the
 * builder writes only the critical bit).  Skipped payloads are not kept,
 * so such messages are left out.
 */
static void rebuild(const uint8_t *data, size_t size,
		    const struct ikev2_msg *m)
{
	struct ikev2_builder b;
	struct wbuf w;
	uint8_t *want;
	size_t i;

	if (m->n_skipped)
		return;
	want = malloc(size);
	if (!want || wbuf_init(&w, size + 1)) {
		free(want);
		return;
	}
	memcpy(want, data, size);
	for (i = 0; i < m->n; i++)
		want[m->pl[i].off + 1] &= IKEV2_CRITICAL;
	ikev2_build_begin(&b, &w, &m->hdr);
	for (i = 0; i < m->n; i++)
		ikev2_add_raw(&b, m->pl[i].type, m->pl[i].critical,
			      m->pl[i].body.p, m->pl[i].body.len);
	/* SK's Next Payload is the inner type, not a following payload. */
	if (m->sk_index >= 0)
		wbuf_patch_u8(&w, m->pl[m->sk_index].off,
			      m->pl[m->sk_index].next);
	check(ikev2_build_end(&b) == 0);
	check(w.len == size && memcmp(w.p, want, size) == 0);
	wbuf_free(&w);
	free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ikev2_msg m;
	static bool quiet;

	if (!quiet) {
		/* Peer-caused rejections are logged; keep the run readable. */
		log_set_level(LS_IKE, LL_ERR);
		quiet = true;
	}
	if (ikev2_parse_msg(data, size, &m) == 0) {
		check(m.hdr.length == size);
		decode_all(&m);
		rebuild(data, size, &m);
	}
	if (size >= 1 &&
	    ikev2_parse_chain(data + 1, size - 1, data[0],
			      IKEV2_EXCH_IKE_AUTH, &m) == 0) {
		check(m.sk_index < 0);
		decode_all(&m);
	}
	return 0;
}
