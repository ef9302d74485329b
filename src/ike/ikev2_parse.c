/* SPDX-License-Identifier: MIT */
/*
 * IKEv2 message parser (RFC 7296 §3).  Everything goes through the
 * bounds-checked reader: every declared length is split off with
 * buf_get_sub() before anything inside it is read, so a length that is
 * larger than what is left is ERR_MALFORMED, never a read past the end.
 */
#include "ike/ikev2_msg.h"

#include <string.h>

#include "common/err.h"
#include "common/log.h"

static uint64_t parse_errors;
static struct log_ratelimit parse_rl = LOG_RATELIMIT_INIT(10, 60);

uint64_t ikev2_parse_errors(void)
{
	return __atomic_load_n(&parse_errors, __ATOMIC_RELAXED);
}

const char *ikev2_payload_name(uint8_t type)
{
	switch (type) {
	case IKEV2_PL_NONE: return "none";
	case IKEV2_PL_SA: return "SA";
	case IKEV2_PL_KE: return "KE";
	case IKEV2_PL_IDI: return "IDi";
	case IKEV2_PL_IDR: return "IDr";
	case IKEV2_PL_CERT: return "CERT";
	case IKEV2_PL_CERTREQ: return "CERTREQ";
	case IKEV2_PL_AUTH: return "AUTH";
	case IKEV2_PL_NONCE: return "Ni/Nr";
	case IKEV2_PL_NOTIFY: return "N";
	case IKEV2_PL_DELETE: return "D";
	case IKEV2_PL_VID: return "V";
	case IKEV2_PL_TSI: return "TSi";
	case IKEV2_PL_TSR: return "TSr";
	case IKEV2_PL_SK: return "SK";
	case IKEV2_PL_CP: return "CP";
	case IKEV2_PL_EAP: return "EAP";
	case IKEV2_PL_SKF: return "SKF";
	default: return "?";
	}
}

/* RFC 7296 §3.2: the payload types this implementation understands. */
static bool known_payload(uint8_t type)
{
	return (type >= IKEV2_PL_SA && type <= IKEV2_PL_EAP) ||
	       type == IKEV2_PL_SKF;
}

/* A fresh reader on a payload body, so decoders never share position. */
static void body_reader(const struct ikev2_payload *pl, struct buf *b)
{
	buf_init(b, pl->body.p, pl->body.len);
}

/*
 * Decoders report a static reason through *why (the public wrappers
 * ignore it; the chain parser logs it once).
 */
static int bad(const char **why, const char *reason)
{
	*why = reason;
	return ERR_MALFORMED;
}

/* A count over one of the IKEV2_MAX_* caps. */
static int over_limit(const char **why, const char *reason)
{
	*why = reason;
	return ERR_LIMIT;
}

/* --- SA: RFC 7296 §3.3 --- */

static int dec_attrs(struct buf *tb, struct ikev2_transform *t,
		     const char **why)
{
	uint16_t at, v;
	struct buf val;

	while (buf_left(tb)) {
		if (buf_get_u16(tb, &at) || buf_get_u16(tb, &v))
			return bad(why, "truncated transform attribute");
		if (at & IKEV2_ATTR_TV) {
			/* RFC 7296 §3.3.5: Key Length is TV and only once. */
			if ((at & ~IKEV2_ATTR_TV) == IKEV2_ATTR_KEY_LENGTH) {
				if (t->has_key_len)
					return bad(why, "duplicate Key Length");
				t->has_key_len = true;
				t->key_bits = v;
			} else if (t->unknown_attrs < UINT8_MAX) {
				t->unknown_attrs++;
			}
			continue;
		}
		/* TLV: v is the value length; skip it. */
		if (at == IKEV2_ATTR_KEY_LENGTH)
			return bad(why, "Key Length attribute in TLV form");
		if (buf_get_sub(tb, &val, v))
			return bad(why, "attribute exceeds transform");
		if (t->unknown_attrs < UINT8_MAX)
			t->unknown_attrs++;
	}
	return 0;
}

static int dec_transforms(struct buf *pb, struct ikev2_proposal *p,
			  uint8_t declared, const char **why)
{
	uint8_t last = IKEV2_MORE_TRANSFORMS, res;
	uint16_t tlen;
	struct buf tb;
	struct ikev2_transform *t;
	size_t n = 0;
	int r;

	while (buf_left(pb)) {
		if (last != IKEV2_MORE_TRANSFORMS)
			return bad(why, "data after the last transform");
		if (n == IKEV2_MAX_TRANSFORMS)
			return over_limit(why, "too many transforms");
		if (buf_get_u8(pb, &last) || buf_get_u8(pb, &res) ||
		    buf_get_u16(pb, &tlen))
			return bad(why, "truncated transform header");
		/* RFC 7296 §3.3.2: 0 (last) or 3 (more). */
		if (last != IKEV2_LAST && last != IKEV2_MORE_TRANSFORMS)
			return bad(why, "bad transform last-substructure");
		if (tlen < 8)
			return bad(why, "transform length < 8");
		if (buf_get_sub(pb, &tb, tlen - 4u))
			return bad(why, "transform length exceeds proposal");
		t = &p->t[n];
		memset(t, 0, sizeof(*t));
		t->len = tlen;
		/* tlen >= 8 guarantees these four octets. */
		buf_get_u8(&tb, &t->type);
		buf_get_u8(&tb, &res);
		buf_get_u16(&tb, &t->id);
		r = dec_attrs(&tb, t, why);
		if (r)
			return r;
		n++;
	}
	if (n == 0)
		return bad(why, "proposal without transforms");
	if (last != IKEV2_LAST)
		return bad(why, "last transform not marked last");
	/* RFC 7296 §3.3: lengths must agree with the counts. */
	if (n != declared)
		return bad(why, "transform count mismatch");
	p->n_transforms = (uint8_t)n;
	return 0;
}

static int dec_sa(struct buf *b, struct ikev2_sa *sa, const char **why)
{
	uint8_t last = IKEV2_MORE_PROPOSALS, res, ntrans;
	uint16_t plen;
	struct buf pb;
	struct ikev2_proposal *p;
	int r;

	sa->n = 0;
	while (buf_left(b)) {
		if (last != IKEV2_MORE_PROPOSALS)
			return bad(why, "data after the last proposal");
		if (sa->n == IKEV2_MAX_PROPOSALS)
			return over_limit(why, "too many proposals");
		if (buf_get_u8(b, &last) || buf_get_u8(b, &res) ||
		    buf_get_u16(b, &plen))
			return bad(why, "truncated proposal header");
		/* RFC 7296 §3.3.1: 0 (last) or 2 (more). */
		if (last != IKEV2_LAST && last != IKEV2_MORE_PROPOSALS)
			return bad(why, "bad proposal last-substructure value");
		if (plen < 8)
			return bad(why, "proposal length < 8");
		if (buf_get_sub(b, &pb, plen - 4u))
			return bad(why, "proposal length exceeds SA payload");
		p = &sa->p[sa->n];
		p->len = plen;
		buf_get_u8(&pb, &p->num);
		buf_get_u8(&pb, &p->protocol);
		buf_get_u8(&pb, &p->spi_size);
		buf_get_u8(&pb, &ntrans);
		/*
		 * RFC 7296 §3.3.1: the first proposal is 1 and each next one
		 * is one more; a reply carries the single accepted number.
		 */
		if (p->num == 0)
			return bad(why, "proposal number 0");
		if (sa->n &&
		    (sa->p[0].num != 1 || p->num != sa->p[sa->n - 1].num + 1))
			return bad(why, "proposals not numbered 1, 2, ...");
		/* RFC 7296 §3.3.1: SPI size 0/8 for IKE, 4 for AH/ESP. */
		switch (p->protocol) {
		case IKEV2_PROTO_IKE:
			if (p->spi_size != 0 && p->spi_size != 8)
				return bad(why, "IKE SPI size not 0 or 8");
			break;
		case IKEV2_PROTO_AH:
		case IKEV2_PROTO_ESP:
			if (p->spi_size != 4)
				return bad(why, "AH/ESP SPI size not 4");
			break;
		default:
			return bad(why, "unknown proposal protocol ID");
		}
		if (buf_get_bytes(&pb, p->spi, p->spi_size))
			return bad(why, "proposal SPI exceeds proposal length");
		r = dec_transforms(&pb, p, ntrans, why);
		if (r)
			return r;
		sa->n++;
	}
	if (sa->n == 0)
		return bad(why, "SA payload without proposals");
	if (last != IKEV2_LAST)
		return bad(why, "last proposal not marked last");
	return 0;
}

int ikev2_decode_sa(const struct ikev2_payload *pl, struct ikev2_sa *sa)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_SA)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_sa(&b, sa, &why);
}

int ikev2_sa_check_exchange(const struct ikev2_sa *sa, uint8_t exchange)
{
	size_t i;

	for (i = 0; i < sa->n; i++) {
		if (sa->p[i].protocol != IKEV2_PROTO_IKE)
			continue;
		/* RFC 7296 §3.3.1: no SPI in IKE_SA_INIT (it is in the
		 * header); the new SPI when rekeying the IKE SA. */
		if (exchange == IKEV2_EXCH_IKE_SA_INIT && sa->p[i].spi_size)
			return ERR_MALFORMED;
		if (exchange == IKEV2_EXCH_CREATE_CHILD_SA &&
		    sa->p[i].spi_size != 8)
			return ERR_MALFORMED;
	}
	return 0;
}

/* --- simple payloads --- */

static int dec_ke(struct buf *b, struct ikev2_ke *ke, const char **why)
{
	uint16_t res;

	/* RFC 7296 §3.4: group (2), reserved (2), KE data. */
	if (buf_get_u16(b, &ke->group) || buf_get_u16(b, &res))
		return bad(why, "KE payload too short");
	ke->len = buf_left(b);
	ke->data = buf_cur(b);
	if (ke->len == 0)
		return bad(why, "KE payload without data");
	return 0;
}

static int dec_id(struct buf *b, struct ikev2_id *id, const char **why)
{
	uint8_t res[3];

	id->body = buf_cur(b);
	id->body_len = buf_left(b);
	/* RFC 7296 §3.5: type (1), reserved (3), identification data. */
	if (buf_get_u8(b, &id->type) || buf_get_bytes(b, res, sizeof(res)))
		return bad(why, "ID payload too short");
	id->len = buf_left(b);
	id->data = buf_cur(b);
	if (id->type == IKEV2_ID_IPV4_ADDR && id->len != 4)
		return bad(why, "ID_IPV4_ADDR not 4 octets");
	if (id->type == IKEV2_ID_IPV6_ADDR && id->len != 16)
		return bad(why, "ID_IPV6_ADDR not 16 octets");
	/* RFC 7619 §3: only ID_NULL may be empty. */
	if (id->type != IKEV2_ID_NULL && id->len == 0)
		return bad(why, "empty identification data");
	return 0;
}

static int dec_cert(struct buf *b, struct ikev2_cert *c, bool req,
		    const char **why)
{
	/* RFC 7296 §3.6/§3.7: encoding (1), data; CERTREQ may be empty. */
	if (buf_get_u8(b, &c->encoding))
		return bad(why, "CERT/CERTREQ payload too short");
	c->len = buf_left(b);
	c->data = buf_cur(b);
	if (!req && c->len == 0)
		return bad(why, "CERT payload without data");
	return 0;
}

static int dec_auth(struct buf *b, struct ikev2_auth *a, const char **why)
{
	uint8_t res[3];

	/* RFC 7296 §3.8: method (1), reserved (3), authentication data. */
	if (buf_get_u8(b, &a->method) || buf_get_bytes(b, res, sizeof(res)))
		return bad(why, "AUTH payload too short");
	a->len = buf_left(b);
	a->data = buf_cur(b);
	if (a->len == 0)
		return bad(why, "AUTH payload without data");
	return 0;
}

static int dec_nonce(struct buf *b, struct ikev2_nonce *n, const char **why)
{
	n->len = buf_left(b);
	n->data = buf_cur(b);
	/* RFC 7296 §3.9: at least 16 and at most 256 octets. */
	if (n->len < IKEV2_NONCE_MIN || n->len > IKEV2_NONCE_MAX)
		return bad(why, "nonce length outside 16..256");
	return 0;
}

static int dec_notify(struct buf *b, struct ikev2_notify *n,
		      const char **why)
{
	/* RFC 7296 §3.10: protocol (1), SPI size (1), type (2), SPI, data.
	 * The protocol is not checked: with no SPI it MUST be ignored. */
	if (buf_get_u8(b, &n->protocol) || buf_get_u8(b, &n->spi_size) ||
	    buf_get_u16(b, &n->type))
		return bad(why, "Notify payload too short");
	if (buf_get_ptr(b, &n->spi, n->spi_size))
		return bad(why, "Notify SPI exceeds payload");
	if (n->spi_size == 0)
		n->spi = NULL;
	n->len = buf_left(b);
	n->data = buf_cur(b);
	return 0;
}

static int dec_delete(struct buf *b, struct ikev2_delete *d,
		      const char **why)
{
	/* RFC 7296 §3.11: protocol (1), SPI size (1), count (2), SPIs. */
	if (buf_get_u8(b, &d->protocol) || buf_get_u8(b, &d->spi_size) ||
	    buf_get_u16(b, &d->count))
		return bad(why, "Delete payload too short");
	switch (d->protocol) {
	case IKEV2_PROTO_IKE:
		if (d->spi_size != 0)
			return bad(why, "Delete of IKE SA with an SPI");
		break;
	case IKEV2_PROTO_AH:
	case IKEV2_PROTO_ESP:
		if (d->spi_size != 4)
			return bad(why, "Delete SPI size not 4");
		break;
	default:
		return bad(why, "Delete with unknown protocol ID");
	}
	/* count * size must be exactly what is left (no overflow: both
	 * factors are at most 16 bits). */
	if ((size_t)d->count * d->spi_size != buf_left(b))
		return bad(why, "Delete SPI count vs length");
	d->spis = buf_cur(b);
	return 0;
}

static int dec_ts(struct buf *b, struct ikev2_ts_list *l, const char **why)
{
	uint8_t cnt, res[3], type, proto;
	uint16_t slen;
	struct buf sb;
	struct ikev2_ts *ts;
	uint8_t a[16];
	size_t alen, i;

	/* RFC 7296 §3.13: count (1), reserved (3), selectors. */
	if (buf_get_u8(b, &cnt) || buf_get_bytes(b, res, sizeof(res)))
		return bad(why, "TS payload too short");
	if (cnt == 0)
		return bad(why, "TS payload without selectors");
	if (cnt > IKEV2_MAX_TS)
		return over_limit(why, "too many traffic selectors");
	l->n = 0;
	for (i = 0; i < cnt; i++) {
		if (buf_get_u8(b, &type) || buf_get_u8(b, &proto) ||
		    buf_get_u16(b, &slen))
			return bad(why, "truncated traffic selector");
		/* RFC 7296 §3.13.1: the length is fixed by the type. */
		if (type == IKEV2_TS_IPV4_ADDR_RANGE) {
			if (slen != IKEV2_TS_IPV4_LEN)
				return bad(why, "IPv4 selector length not 16");
			alen = 4;
		} else if (type == IKEV2_TS_IPV6_ADDR_RANGE) {
			if (slen != IKEV2_TS_IPV6_LEN)
				return bad(why, "IPv6 selector length not 40");
			alen = 16;
		} else {
			return bad(why, "unknown traffic selector type");
		}
		if (buf_get_sub(b, &sb, slen - 4u))
			return bad(why, "selector length exceeds TS payload");
		ts = &l->ts[i];
		ts->type = type;
		ts->ip_proto = proto;
		/* The sub-reader holds exactly 4 + 2 * alen octets. */
		buf_get_u16(&sb, &ts->start_port);
		buf_get_u16(&sb, &ts->end_port);
		buf_get_bytes(&sb, a, alen);
		addr_from_bytes(&ts->start, a, alen);
		buf_get_bytes(&sb, a, alen);
		addr_from_bytes(&ts->end, a, alen);
	}
	if (buf_left(b))
		return bad(why, "TS payload longer than its selectors");
	l->n = cnt;
	return 0;
}

static int dec_sk(const struct ikev2_payload *pl, struct buf *b,
		  struct ikev2_sk *sk, const char **why)
{
	memset(sk, 0, sizeof(*sk));
	sk->inner_next = pl->next;
	sk->aad_len = pl->off + IKEV2_GEN_HDR_LEN;
	if (pl->type == IKEV2_PL_SKF) {
		/* RFC 7383 §2.5: fragment number and total, both >= 1. */
		sk->fragment = true;
		if (buf_get_u16(b, &sk->frag_num) ||
		    buf_get_u16(b, &sk->frag_total))
			return bad(why, "SKF payload too short");
		if (sk->frag_num == 0 || sk->frag_total == 0 ||
		    sk->frag_num > sk->frag_total)
			return bad(why, "bad SKF fragment numbering");
		sk->aad_len += 4;
	}
	sk->enc = buf_cur(b);
	sk->enc_len = buf_left(b);
	if (sk->enc_len == 0)
		return bad(why, "empty encrypted payload");
	return 0;
}

static int dec_cp(struct buf *b, struct ikev2_cp *cp, const char **why)
{
	uint8_t res[3];
	uint16_t at;
	struct ikev2_cp_attr *a;

	/* RFC 7296 §3.15: type (1), reserved (3), attributes. */
	if (buf_get_u8(b, &cp->cfg_type) || buf_get_bytes(b, res, sizeof(res)))
		return bad(why, "CP payload too short");
	cp->n = 0;
	while (buf_left(b)) {
		if (cp->n == IKEV2_MAX_CP_ATTRS)
			return over_limit(why, "too many CP attributes");
		a = &cp->a[cp->n];
		/* RFC 7296 §3.15.1: R bit (ignored), type (15), length. */
		if (buf_get_u16(b, &at) || buf_get_u16(b, &a->len))
			return bad(why, "truncated configuration attribute");
		a->type = at & IKEV2_CFG_ATTR_TYPE_MASK;
		if (buf_get_ptr(b, &a->value, a->len))
			return bad(why, "CP attribute exceeds payload");
		cp->n++;
	}
	return 0;
}

static int dec_eap(struct buf *b, struct ikev2_eap *e, const char **why)
{
	memset(e, 0, sizeof(*e));
	e->msg = buf_cur(b);
	/* RFC 3748 §4: code (1), identifier (1), length (2), [type]. */
	if (buf_get_u8(b, &e->code) || buf_get_u8(b, &e->id) ||
	    buf_get_u16(b, &e->len))
		return bad(why, "EAP payload too short");
	/* RFC 7296 §3.16: the payload holds exactly one EAP message. */
	if (e->len != buf_left(b) + 4)
		return bad(why, "EAP length does not match payload length");
	switch (e->code) {
	case IKEV2_EAP_REQUEST:
	case IKEV2_EAP_RESPONSE:
		if (buf_get_u8(b, &e->type))
			return bad(why, "EAP request/response without type");
		e->type_data = buf_cur(b);
		e->type_data_len = buf_left(b);
		break;
	case IKEV2_EAP_SUCCESS:
	case IKEV2_EAP_FAILURE:
		if (buf_left(b))
			return bad(why, "EAP success/failure with data");
		break;
	default:
		return bad(why, "unknown EAP code");
	}
	return 0;
}

/* --- public decoders: a type check, then the internal one --- */

int ikev2_decode_ke(const struct ikev2_payload *pl, struct ikev2_ke *out)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_KE)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_ke(&b, out, &why);
}

int ikev2_decode_auth(const struct ikev2_payload *pl, struct ikev2_auth *out)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_AUTH)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_auth(&b, out, &why);
}

int ikev2_decode_nonce(const struct ikev2_payload *pl, struct ikev2_nonce *out)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_NONCE)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_nonce(&b, out, &why);
}

int ikev2_decode_notify(const struct ikev2_payload *pl,
			struct ikev2_notify *out)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_NOTIFY)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_notify(&b, out, &why);
}

int ikev2_decode_delete(const struct ikev2_payload *pl,
			struct ikev2_delete *out)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_DELETE)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_delete(&b, out, &why);
}

int ikev2_decode_cp(const struct ikev2_payload *pl, struct ikev2_cp *out)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_CP)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_cp(&b, out, &why);
}

int ikev2_decode_eap(const struct ikev2_payload *pl, struct ikev2_eap *out)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_EAP)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_eap(&b, out, &why);
}

int ikev2_decode_id(const struct ikev2_payload *pl, struct ikev2_id *id)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_IDI && pl->type != IKEV2_PL_IDR)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_id(&b, id, &why);
}

int ikev2_decode_cert(const struct ikev2_payload *pl, struct ikev2_cert *c)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_CERT && pl->type != IKEV2_PL_CERTREQ)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_cert(&b, c, pl->type == IKEV2_PL_CERTREQ, &why);
}

int ikev2_decode_vid(const struct ikev2_payload *pl, struct ikev2_vid *v)
{
	if (pl->type != IKEV2_PL_VID)
		return ERR_INVAL;
	v->data = pl->body.p;
	v->len = pl->body.len;
	return 0;
}

int ikev2_decode_ts(const struct ikev2_payload *pl, struct ikev2_ts_list *ts)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_TSI && pl->type != IKEV2_PL_TSR)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_ts(&b, ts, &why);
}

int ikev2_decode_sk(const struct ikev2_payload *pl, struct ikev2_sk *sk)
{
	const char *why;
	struct buf b;

	if (pl->type != IKEV2_PL_SK && pl->type != IKEV2_PL_SKF)
		return ERR_INVAL;
	body_reader(pl, &b);
	return dec_sk(pl, &b, sk, &why);
}

/* --- the payload chain --- */

/* Full validation of one known payload, so decoders cannot fail later. */
static int check_payload(const struct ikev2_payload *pl, uint8_t exchange,
			 const char **why)
{
	union {
		struct ikev2_sa sa;
		struct ikev2_ke ke;
		struct ikev2_id id;
		struct ikev2_cert cert;
		struct ikev2_auth auth;
		struct ikev2_nonce nonce;
		struct ikev2_notify n;
		struct ikev2_delete d;
		struct ikev2_ts_list ts;
		struct ikev2_sk sk;
		struct ikev2_cp cp;
		struct ikev2_eap eap;
	} u;
	struct buf b;
	int r;

	body_reader(pl, &b);
	switch (pl->type) {
	case IKEV2_PL_SA:
		r = dec_sa(&b, &u.sa, why);
		if (r == 0 && ikev2_sa_check_exchange(&u.sa, exchange)) {
			*why = "IKE proposal SPI size wrong for exchange";
			r = ERR_MALFORMED;
		}
		return r;
	case IKEV2_PL_KE:
		return dec_ke(&b, &u.ke, why);
	case IKEV2_PL_IDI:
	case IKEV2_PL_IDR:
		return dec_id(&b, &u.id, why);
	case IKEV2_PL_CERT:
	case IKEV2_PL_CERTREQ:
		return dec_cert(&b, &u.cert, pl->type == IKEV2_PL_CERTREQ,
				why);
	case IKEV2_PL_AUTH:
		return dec_auth(&b, &u.auth, why);
	case IKEV2_PL_NONCE:
		return dec_nonce(&b, &u.nonce, why);
	case IKEV2_PL_NOTIFY:
		return dec_notify(&b, &u.n, why);
	case IKEV2_PL_DELETE:
		return dec_delete(&b, &u.d, why);
	case IKEV2_PL_TSI:
	case IKEV2_PL_TSR:
		return dec_ts(&b, &u.ts, why);
	case IKEV2_PL_SK:
	case IKEV2_PL_SKF:
		return dec_sk(pl, &b, &u.sk, why);
	case IKEV2_PL_CP:
		return dec_cp(&b, &u.cp, why);
	case IKEV2_PL_EAP:
		return dec_eap(&b, &u.eap, why);
	default:
		return 0;	/* VID: any octets */
	}
}

static int chain_fail(struct ikev2_msg *m, int r, size_t off,
		      const char *why)
{
	m->why = why;
	m->err_off = off;
	if (r == ERR_UNSUPPORTED) {
		m->notify = IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD;
	} else {
		/* RFC 7296 §2.21.1: malformed requests get INVALID_SYNTAX. */
		m->notify = IKEV2_N_INVALID_SYNTAX;
	}
	return r;
}

/*
 * Walk a chain starting with payload type first.  base is the offset of
 * b's start in the parsed buffer; outer says whether SK/SKF may appear
 * (not inside a decrypted body).
 */
static int parse_chain(struct ikev2_msg *m, struct buf *b, uint8_t first,
		       size_t base, uint8_t exchange, bool outer)
{
	uint8_t type = first, next, flags;
	uint16_t len;
	size_t off;
	struct buf body;
	struct ikev2_payload *pl;
	const char *why = NULL;
	int r;

	while (type != IKEV2_PL_NONE) {
		off = base + buf_pos(b);
		if (buf_get_u8(b, &next) || buf_get_u8(b, &flags) ||
		    buf_get_u16(b, &len))
			return chain_fail(m, ERR_MALFORMED, off,
					  "truncated payload header");
		/* RFC 7296 §3.2: the length includes the generic header. */
		if (len < IKEV2_GEN_HDR_LEN)
			return chain_fail(m, ERR_MALFORMED, off + 2,
					  "payload length < 4");
		if (buf_get_sub(b, &body, len - IKEV2_GEN_HDR_LEN))
			return chain_fail(m, ERR_MALFORMED, off + 2,
					  "payload length exceeds message");
		if (!known_payload(type)) {
			/* RFC 7296 §2.5: reject unknown critical payloads,
			 * skip the others. */
			if (flags & IKEV2_CRITICAL) {
				m->notify_data = type;
				return chain_fail(m, ERR_UNSUPPORTED, off,
						  "unknown critical payload");
			}
			m->n_skipped++;
			type = next;
			continue;
		}
		if (m->n == IKEV2_MAX_PAYLOADS)
			return chain_fail(m, ERR_LIMIT, off,
					  "too many payloads");
		pl = &m->pl[m->n];
		pl->type = type;
		pl->next = next;
		pl->critical = flags & IKEV2_CRITICAL;
		pl->len = len;
		pl->off = off;
		pl->body = body;
		if ((type == IKEV2_PL_SK || type == IKEV2_PL_SKF) && !outer)
			return chain_fail(m, ERR_MALFORMED, off,
					  "encrypted payload inside SK");
		r = check_payload(pl, exchange, &why);
		if (r)
			return chain_fail(m, r, off, why);
		m->n++;
		if (type == IKEV2_PL_SK || type == IKEV2_PL_SKF) {
			/* RFC 7296 §3.14: SK is the last payload; its Next
			 * Payload names the first inner one. */
			m->sk_index = (int)(m->n - 1);
			break;
		}
		type = next;
	}
	if (buf_left(b))
		return chain_fail(m, ERR_MALFORMED, base + buf_pos(b),
				  "data after the last payload");
	return 0;
}

int ikev2_parse_header(const uint8_t *p, size_t len, struct ikev2_hdr *h)
{
	struct buf b;
	uint8_t major;

	memset(h, 0, sizeof(*h));
	buf_init(&b, p, len);
	if (buf_get_bytes(&b, h->spi_i, IKEV2_SPI_LEN) ||
	    buf_get_bytes(&b, h->spi_r, IKEV2_SPI_LEN) ||
	    buf_get_u8(&b, &h->next) || buf_get_u8(&b, &h->version) ||
	    buf_get_u8(&b, &h->exchange) || buf_get_u8(&b, &h->flags) ||
	    buf_get_u32(&b, &h->msg_id) || buf_get_u32(&b, &h->length))
		return ERR_MALFORMED;
	/* RFC 7296 §3.1: the minor version is ignored; a major version
	 * other than 2 is not this protocol. */
	major = h->version >> 4;
	if (major != IKEV2_MAJOR)
		return ERR_PROTO;
	return 0;
}

/* Log once per rejected message, rate-limited: a peer can cause these. */
static void log_fail(const struct ikev2_msg *m, int r)
{
	uint32_t held;

	__atomic_fetch_add(&parse_errors, 1, __ATOMIC_RELAXED);
	if (log_ratelimit_ok(&parse_rl, &held))
		log_warn(LS_IKE,
			 "IKEv2 message rejected: %s at offset %zu (%s; %u "
			 "similar lines suppressed before)",
			 m->why ? m->why : "?", m->err_off, err_str(r), held);
}

static void msg_reset(struct ikev2_msg *m)
{
	memset(&m->hdr, 0, sizeof(m->hdr));
	m->n = 0;
	m->n_skipped = 0;
	m->sk_index = -1;
	m->notify = 0;
	m->notify_data = 0;
	m->err_off = 0;
	m->why = NULL;
}

int ikev2_parse_msg(const uint8_t *dgram, size_t len, struct ikev2_msg *msg)
{
	struct buf b, rest;
	int r;

	msg_reset(msg);
	r = ikev2_parse_header(dgram, len, &msg->hdr);
	if (r == ERR_PROTO) {
		/* RFC 7296 §2.5: answer a higher major version with
		 * INVALID_MAJOR_VERSION; a lower one is IKEv1's business. */
		if (msg->hdr.version >> 4 > IKEV2_MAJOR)
			msg->notify = IKEV2_N_INVALID_MAJOR_VERSION;
		msg->why = "unsupported major version";
		msg->err_off = 17;
		goto out;
	}
	if (r) {
		chain_fail(msg, r, 0, "datagram shorter than IKE header");
		goto out;
	}
	/* RFC 7296 §3.1: Length is the whole message, header included. */
	if (msg->hdr.length != len) {
		r = chain_fail(msg, ERR_MALFORMED, 24,
			       "header length differs from datagram length");
		goto out;
	}
	buf_init(&b, dgram, len);
	buf_skip(&b, IKEV2_HDR_LEN);
	buf_get_rest(&b, &rest);
	r = parse_chain(msg, &rest, msg->hdr.next, IKEV2_HDR_LEN,
			msg->hdr.exchange, true);
out:
	if (r)
		log_fail(msg, r);
	return r;
}

int ikev2_parse_chain(const uint8_t *p, size_t len, uint8_t first,
		      uint8_t exchange, struct ikev2_msg *msg)
{
	struct buf b;
	int r;

	msg_reset(msg);
	buf_init(&b, p, len);
	r = parse_chain(msg, &b, first, 0, exchange, false);
	if (r)
		log_fail(msg, r);
	return r;
}

const struct ikev2_payload *ikev2_msg_next(const struct ikev2_msg *msg,
					   uint8_t type, size_t *from)
{
	size_t i;

	for (i = *from; i < msg->n; i++) {
		if (msg->pl[i].type == type) {
			*from = i + 1;
			return &msg->pl[i];
		}
	}
	*from = msg->n;
	return NULL;
}

const struct ikev2_payload *ikev2_msg_notify(const struct ikev2_msg *msg,
					     uint16_t type,
					     struct ikev2_notify *n)
{
	const struct ikev2_payload *pl;
	size_t at = 0;

	while ((pl = ikev2_msg_next(msg, IKEV2_PL_NOTIFY, &at))) {
		if (ikev2_decode_notify(pl, n) == 0 && n->type == type)
			return pl;
	}
	return NULL;
}
