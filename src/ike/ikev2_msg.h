/* SPDX-License-Identifier: MIT */
/*
 * The IKEv2 message codec (RFC 7296 §3): parse a datagram into a payload
 * list with typed decoders, and build messages payload by payload.
 *
 * Parsing.  ikev2_parse_msg() checks the header and walks the payload
 * chain, validating every known payload completely (so the typed decoders
 * cannot fail on a payload that came out of a successful parse).  The
 * result holds BORROWED views into the caller's datagram: keep the
 * datagram alive and unchanged while the ikev2_msg is used.  Nothing is
 * allocated; every count a peer controls is capped (IKEV2_MAX_*).  A
 * parse uses about 24 KB of stack (a scratch SA decode) and struct
 * ikev2_msg is about 3 KB; struct ikev2_sa is about 21 KB, so callers
 * should not put one on a small thread stack.
 *
 * Errors (negative ERR_*), with msg->notify telling the caller what to
 * answer to a request (RFC 7296 §2.21.1, §2.5):
 *   ERR_MALFORMED / ERR_LIMIT   notify INVALID_SYNTAX
 *   ERR_PROTO                   major version > 2: INVALID_MAJOR_VERSION
 *                               (major < 2: notify 0, not IKEv2 at all)
 *   ERR_UNSUPPORTED             unknown payload with the critical bit:
 *                               UNSUPPORTED_CRITICAL_PAYLOAD, its type in
 *                               msg->notify_data
 * On every error msg->hdr is filled as far as it was read, msg->err_off is
 * the offset of the offending field and msg->why a static reason.
 *
 * Encrypted payloads (SK, SKF) are returned as raw views; decryption is
 * the caller's job, after which ikev2_parse_chain() parses the plaintext.
 *
 * Building.  struct ikev2_builder writes into a struct wbuf (normally a
 * growing one).  ikev2_build_begin() writes the header; each ikev2_add_*()
 * appends one payload and patches the Next Payload field of the one
 * before; ikev2_build_end() patches the header Length.  An SK envelope
 * (ikev2_sk_begin/end) reserves IV, padding and ICV room so the crypto
 * code can encrypt in place; see struct ikev2_sk_frame.
 */
#ifndef IPSECD_IKE_IKEV2_MSG_H
#define IPSECD_IKE_IKEV2_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/buf.h"
#include "ike/ikev2_wire.h"

/* Caps on what a peer can make us hold (no allocation per element). */
#define IKEV2_MAX_PAYLOADS 64
#define IKEV2_MAX_PROPOSALS 32
#define IKEV2_MAX_TRANSFORMS 64	/* per proposal */
#define IKEV2_MAX_TS 16
#define IKEV2_MAX_CP_ATTRS 64
#define IKEV2_MAX_SPI_LEN 8

/* RFC 7296 §3.1 */
struct ikev2_hdr {
	uint8_t spi_i[IKEV2_SPI_LEN];
	uint8_t spi_r[IKEV2_SPI_LEN];
	uint8_t next;		/* first payload type */
	uint8_t version;	/* raw octet: major << 4 | minor */
	uint8_t exchange;
	uint8_t flags;
	uint32_t msg_id;
	uint32_t length;	/* as declared */
};

/* One payload as found in the chain (RFC 7296 §3.2). */
struct ikev2_payload {
	uint8_t type;
	uint8_t next;		/* Next Payload field as received */
	bool critical;
	uint16_t len;		/* Payload Length, generic header included */
	size_t off;		/* offset of the generic header in the parsed
				 * buffer (datagram or decrypted SK body) */
	struct buf body;	/* borrowed view of the body */
};

struct ikev2_msg {
	struct ikev2_hdr hdr;
	struct ikev2_payload pl[IKEV2_MAX_PAYLOADS];
	size_t n;		/* payloads in pl[] */
	size_t n_skipped;	/* unknown non-critical payloads skipped */
	int sk_index;		/* index of SK/SKF in pl[], or -1 */
	/* On error: */
	uint16_t notify;	/* notify type to answer with, or 0 */
	uint8_t notify_data;	/* payload type for UNSUPPORTED_CRITICAL */
	size_t err_off;
	const char *why;	/* static string */
};

/* --- decoded payloads (all pointers borrowed from the datagram) --- */

struct ikev2_transform {
	uint16_t len;		/* Transform Length */
	uint8_t type;
	uint16_t id;
	uint16_t key_bits;	/* Key Length attribute, 0 if absent */
	bool has_key_len;
	uint8_t unknown_attrs;	/* other attributes seen (RFC 7296 §3.3.6:
				 * the policy must reject the transform) */
};

struct ikev2_proposal {
	uint16_t len;		/* Proposal Length */
	uint8_t num;
	uint8_t protocol;	/* enum ikev2_proto */
	uint8_t spi_size;
	uint8_t spi[IKEV2_MAX_SPI_LEN];
	uint8_t n_transforms;
	struct ikev2_transform t[IKEV2_MAX_TRANSFORMS];
};

struct ikev2_sa {
	size_t n;
	struct ikev2_proposal p[IKEV2_MAX_PROPOSALS];
};

struct ikev2_ke {
	uint16_t group;
	const uint8_t *data;
	size_t len;
};

struct ikev2_id {
	uint8_t type;		/* enum ikev2_id_type */
	const uint8_t *data;
	size_t len;
	/* RFC 7296 §2.15: the AUTH octets are the body, type included. */
	const uint8_t *body;
	size_t body_len;
};

struct ikev2_cert {		/* CERT and CERTREQ */
	uint8_t encoding;
	const uint8_t *data;
	size_t len;
};

struct ikev2_auth {
	uint8_t method;
	const uint8_t *data;
	size_t len;
};

struct ikev2_nonce {
	const uint8_t *data;
	size_t len;
};

struct ikev2_notify {
	uint8_t protocol;
	uint8_t spi_size;
	uint16_t type;
	const uint8_t *spi;
	const uint8_t *data;
	size_t len;
};

struct ikev2_delete {
	uint8_t protocol;
	uint8_t spi_size;
	uint16_t count;
	const uint8_t *spis;	/* count * spi_size octets */
};

struct ikev2_vid {
	const uint8_t *data;
	size_t len;
};

/* RFC 7296 §3.13.1; also the input of ikev2_add_ts(). */
struct ikev2_ts {
	uint8_t type;		/* enum ikev2_ts_type */
	uint8_t ip_proto;	/* 0 = any */
	uint16_t start_port;
	uint16_t end_port;
	struct ip_addr start;
	struct ip_addr end;
};

struct ikev2_ts_list {
	size_t n;
	struct ikev2_ts ts[IKEV2_MAX_TS];
};

/*
 * SK (RFC 7296 §3.14) and SKF (RFC 7383 §2.5).  enc is IV || ciphertext
 * || ICV; the caller knows the IV and ICV lengths.  The integrity and
 * AEAD associated data run from the start of the parsed buffer (the IKE
 * header) to aad_len, which is where the IV starts.
 */
struct ikev2_sk {
	uint8_t inner_next;	/* type of the first inner payload */
	bool fragment;		/* SKF */
	uint16_t frag_num;
	uint16_t frag_total;
	const uint8_t *enc;
	size_t enc_len;
	size_t aad_len;
};

struct ikev2_cp_attr {
	uint16_t type;		/* 15 bits */
	const uint8_t *value;
	uint16_t len;
};

struct ikev2_cp {
	uint8_t cfg_type;
	size_t n;
	struct ikev2_cp_attr a[IKEV2_MAX_CP_ATTRS];
};

struct ikev2_eap {
	uint8_t code;
	uint8_t id;
	uint16_t len;		/* EAP Length: the whole EAP message */
	uint8_t type;		/* Request/Response only, else 0 */
	const uint8_t *msg;	/* the whole EAP message */
	const uint8_t *type_data;
	size_t type_data_len;
};

/* --- parsing --- */

/*
 * Parse only the 28-octet header at p (len bytes available) and check the
 * version.  The header Length is not compared with len: that is
 * ikev2_parse_msg's job.  0, ERR_MALFORMED (short) or ERR_PROTO.
 */
int ikev2_parse_header(const uint8_t *p, size_t len, struct ikev2_hdr *h);

/*
 * Parse a whole IKEv2 message (no non-ESP marker): header, then the
 * payload chain, which must use up exactly the declared length, which
 * must equal len.  On success msg->sk_index tells whether the message
 * carries an SK/SKF payload (always the last one).
 */
int ikev2_parse_msg(const uint8_t *dgram, size_t len, struct ikev2_msg *msg);

/*
 * Parse a decrypted SK body (payloads only, padding already removed) as a
 * chain starting with payload type first.  exchange is the header's
 * exchange type (for SA SPI-size rules).  msg->hdr is left zero; an SK
 * or SKF inside is ERR_MALFORMED.  Offsets are relative to p.
 */
int ikev2_parse_chain(const uint8_t *p, size_t len, uint8_t first,
		      uint8_t exchange, struct ikev2_msg *msg);

/* The first payload of this type at or after index *from; NULL if none.
 * *from is set past the match, so a loop can find them all. */
const struct ikev2_payload *ikev2_msg_next(const struct ikev2_msg *msg,
					   uint8_t type, size_t *from);
/* The first Notify of this type, decoded into *n; NULL if none. */
const struct ikev2_payload *ikev2_msg_notify(const struct ikev2_msg *msg,
					     uint16_t type,
					     struct ikev2_notify *n);

/*
 * Typed decoders: 0, or ERR_MALFORMED / ERR_LIMIT / ERR_INVAL (wrong
 * payload type).  They never fail on a payload that came from a
 * successful parse.  Output pointers are borrowed from the datagram.
 */
int ikev2_decode_sa(const struct ikev2_payload *pl, struct ikev2_sa *sa);
/* RFC 7296 §3.3.1: IKE proposals have SPI size 0 in IKE_SA_INIT and 8 in
 * CREATE_CHILD_SA (rekeying the IKE SA).  0 or ERR_MALFORMED. */
int ikev2_sa_check_exchange(const struct ikev2_sa *sa, uint8_t exchange);
int ikev2_decode_ke(const struct ikev2_payload *pl, struct ikev2_ke *ke);
int ikev2_decode_id(const struct ikev2_payload *pl, struct ikev2_id *id);
int ikev2_decode_cert(const struct ikev2_payload *pl, struct ikev2_cert *c);
int ikev2_decode_auth(const struct ikev2_payload *pl, struct ikev2_auth *a);
int ikev2_decode_nonce(const struct ikev2_payload *pl, struct ikev2_nonce *n);
int ikev2_decode_notify(const struct ikev2_payload *pl,
			struct ikev2_notify *n);
int ikev2_decode_delete(const struct ikev2_payload *pl,
			struct ikev2_delete *d);
int ikev2_decode_vid(const struct ikev2_payload *pl, struct ikev2_vid *v);
int ikev2_decode_ts(const struct ikev2_payload *pl, struct ikev2_ts_list *ts);
int ikev2_decode_sk(const struct ikev2_payload *pl, struct ikev2_sk *sk);
int ikev2_decode_cp(const struct ikev2_payload *pl, struct ikev2_cp *cp);
int ikev2_decode_eap(const struct ikev2_payload *pl, struct ikev2_eap *e);

/* Short name of a payload type for logs ("SA", "N", ...; "?" unknown). */
const char *ikev2_payload_name(uint8_t type);
/* Messages that failed to parse since start (all threads). */
uint64_t ikev2_parse_errors(void);

/* --- building --- */

struct ikev2_builder {
	struct wbuf *w;
	size_t start;		/* offset of the message (or chain) start */
	size_t next_at;		/* where the next Next Payload field is */
	bool has_hdr;
	bool has_next_at;
	uint8_t first;		/* first payload type (chain mode) */
	bool in_sk;
	bool closed;		/* SK ended: the message is complete */
	size_t sk_start;	/* SK generic header offset */
	size_t sk_iv_off;
	size_t sk_iv_len;
};

/* Description of one transform / proposal for ikev2_add_sa(). */
struct ikev2_xform_desc {
	uint8_t type;
	uint16_t id;
	uint16_t key_bits;	/* 0: no Key Length attribute */
};

struct ikev2_prop_desc {
	uint8_t num;		/* 0: position + 1 */
	uint8_t protocol;
	uint8_t spi_size;	/* 0, 4 or 8 */
	uint8_t spi[IKEV2_MAX_SPI_LEN];
	size_t n;
	const struct ikev2_xform_desc *t;
};

/*
 * Start a message: writes the header with Next Payload 0 and Length 0.
 * h->length and h->next are ignored (patched later); h->version 0 means
 * 2.0.  The builder keeps offsets, not pointers, so the writer may grow.
 */
int ikev2_build_begin(struct ikev2_builder *b, struct wbuf *w,
		      const struct ikev2_hdr *h);
/* Start a bare payload chain (an SK plaintext); b->first gets the type of
 * the first payload added. */
int ikev2_build_begin_chain(struct ikev2_builder *b, struct wbuf *w);
/* Patch the header Length (no-op for a chain); 0 or the writer's error. */
int ikev2_build_end(struct ikev2_builder *b);

int ikev2_add_sa(struct ikev2_builder *b, const struct ikev2_prop_desc *p,
		 size_t n);
int ikev2_add_ke(struct ikev2_builder *b, uint16_t group,
		 const uint8_t *data, size_t len);
/* type is IKEV2_PL_IDI or IKEV2_PL_IDR. */
int ikev2_add_id(struct ikev2_builder *b, uint8_t type, uint8_t id_type,
		 const uint8_t *data, size_t len);
/* type is IKEV2_PL_CERT or IKEV2_PL_CERTREQ. */
int ikev2_add_cert(struct ikev2_builder *b, uint8_t type, uint8_t encoding,
		   const uint8_t *data, size_t len);
int ikev2_add_auth(struct ikev2_builder *b, uint8_t method,
		   const uint8_t *data, size_t len);
/* ERR_INVAL unless 16 <= len <= 256 (RFC 7296 §3.9). */
int ikev2_add_nonce(struct ikev2_builder *b, const uint8_t *data,
		    size_t len);
int ikev2_add_notify(struct ikev2_builder *b, uint8_t protocol,
		     const uint8_t *spi, size_t spi_len, uint16_t type,
		     const uint8_t *data, size_t len);
/* spis holds count * spi_size octets. */
int ikev2_add_delete(struct ikev2_builder *b, uint8_t protocol,
		     uint8_t spi_size, const uint8_t *spis, size_t count);
int ikev2_add_vid(struct ikev2_builder *b, const uint8_t *data, size_t len);
/* type is IKEV2_PL_TSI or IKEV2_PL_TSR; the address family of each
 * selector's start picks type 7 or 8 (ts->type is ignored). */
int ikev2_add_ts(struct ikev2_builder *b, uint8_t type,
		 const struct ikev2_ts *ts, size_t n);
int ikev2_add_cp(struct ikev2_builder *b, uint8_t cfg_type,
		 const struct ikev2_cp_attr *a, size_t n);
/* A whole EAP message (RFC 3748), as the EAP layer produced it. */
int ikev2_add_eap(struct ikev2_builder *b, const uint8_t *msg, size_t len);
/* Any payload with a ready body (tests, extensions). */
int ikev2_add_raw(struct ikev2_builder *b, uint8_t type, bool critical,
		  const uint8_t *body, size_t len);

/*
 * The SK envelope (RFC 7296 §3.14; RFC 7383 §2.5 for SKF).
 *
 *   ikev2_sk_begin(b, iv_len)      SK generic header + iv_len zero bytes
 *   ikev2_add_*(b, ...)            the inner payloads, in clear
 *   ikev2_sk_end(b, blk, icv, &f)  padding, Pad Length, icv zero bytes;
 *                                  patches the SK and header lengths
 *
 * SK must be the last payload, so ikev2_sk_end() also ends the message.
 * blk is the cipher block size (1 for AEAD and stream modes): padding
 * makes plaintext + padding + Pad Length a multiple of it.  The padding
 * is zeros (any value is allowed).  Afterwards the crypto code, working
 * on w->p, writes the IV at iv_off, encrypts pt_len octets at pt_off in
 * place, and writes the ICV at icv_off, computed (or authenticated as AEAD
 * associated data) over [msg_off, msg_off + aad_len) for AEAD, or over
 * [msg_off, icv_off) for a separate integrity algorithm.
 *
 * For SKF, ikev2_skf_begin() also writes Fragment Number and Total
 * Fragments, and the inner content is usually a slice of an already
 * built chain added with ikev2_sk_put_plain(); inner_next is the first
 * inner payload type for fragment 1 and 0 for the others (RFC 7383 §2.5).
 */
struct ikev2_sk_frame {
	size_t msg_off;		/* IKE header */
	size_t aad_len;		/* header .. end of SK(F) fixed fields */
	size_t iv_off;
	size_t iv_len;
	size_t pt_off;		/* plaintext to encrypt in place */
	size_t pt_len;		/* inner payloads + padding + Pad Length */
	size_t icv_off;
	size_t icv_len;
	size_t total;		/* message length */
};

int ikev2_sk_begin(struct ikev2_builder *b, size_t iv_len);
int ikev2_skf_begin(struct ikev2_builder *b, uint16_t frag_num,
		    uint16_t frag_total, uint8_t inner_next, size_t iv_len);
/* Append prebuilt inner octets; if first is not 0 and no inner payload
 * was added yet, it becomes the SK Next Payload. */
int ikev2_sk_put_plain(struct ikev2_builder *b, uint8_t first,
		       const uint8_t *p, size_t len);
int ikev2_sk_end(struct ikev2_builder *b, size_t block, size_t icv_len,
		 struct ikev2_sk_frame *f);

#endif
