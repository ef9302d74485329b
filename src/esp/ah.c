/* SPDX-License-Identifier: MIT */
/*
 * AH (RFC 4302) encapsulation and decapsulation, in place, with HMAC /
 * XCBC / CMAC integrity or AES-GMAC (RFC 4543).  See esp.h.
 *
 * The ICV covers the IP header with its mutable fields zeroed
 * (§3.3.3.1), the AH header with the ICV field zeroed, the payload, and
 * the high ESN bits (§3.3.3.3 / RFC 4303 Appendix A).  To feed it as one
 * contiguous run (GMAC needs that: the crypto API takes the whole AAD at
 * once), the header is copied aside, zeroed in place, and restored.
 */
#include "esp/esp.h"

#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "esp/ip.h"
#include "esp/ipsec.h"

#define AH_HDR_LEN 12	/* NH, len, reserved, SPI, seq */
#define AH_MAX_FIELD 40 /* ICV field incl. alignment padding */
#define GMAC_IV_LEN 8

/* RFC 4302 §2.6: the authenticator bytes (GMAC: IV || tag). */
static size_t ah_field_len(const struct ipsec_sa *sa)
{
	return sa->aead ? GMAC_IV_LEN + sa->icv_len : sa->icv_len;
}

/* §3.3.3.2.1: the AH header is 32-bit aligned (IPv4) or 64-bit (IPv6). */
static size_t ah_len_for(const struct ipsec_sa *sa, uint8_t version)
{
	size_t n = AH_HDR_LEN + ah_field_len(sa);
	size_t a = version == 6 ? 8 : 4;

	return (n + a - 1) / a * a;
}

/* RFC 4302 Appendix A.1: IPv4 options that are immutable. */
static bool v4_opt_immutable(uint8_t t)
{
	return t == 0 || t == 1 || t == 130 || t == 133 || t == 134 ||
	       t == 148 || t == 149;
}

/*
 * The walks below read through struct buf over the header copy being
 * zeroed; a position the reader has validated is then cleared in place.
 */
static int zero_v4(uint8_t *h, size_t hl)
{
	struct buf b;
	uint8_t t, ol;
	size_t at;

	h[1] = 0; /* TOS */
	h[6] = 0; /* flags, fragment offset */
	h[7] = 0;
	h[8] = 0;  /* TTL */
	h[10] = 0; /* checksum */
	h[11] = 0;
	buf_init(&b, h, hl);
	if (buf_skip(&b, IPV4_HDR_MIN))
		return ERR_MALFORMED;
	while (buf_left(&b)) {
		at = buf_pos(&b);
		if (buf_get_u8(&b, &t))
			return ERR_MALFORMED;
		if (t == 0)
			break; /* end of list: the rest is padding */
		if (t == 1)
			continue; /* NOP */
		if (buf_get_u8(&b, &ol) || ol < 2 || buf_skip(&b, ol - 2u))
			return ERR_MALFORMED;
		/* Appendix A.1: a mutable option is zeroed whole. */
		if (!v4_opt_immutable(t))
			memset(h + at, 0, ol);
	}
	return 0;
}

/* RFC 8200 §4.2: zero the data of options whose type has bit 0x20. */
static int zero_v6_opts(uint8_t *e, size_t len)
{
	struct buf b;
	uint8_t t, ol;
	size_t at;

	buf_init(&b, e, len);
	if (buf_skip(&b, 2))
		return ERR_MALFORMED;
	while (buf_left(&b)) {
		if (buf_get_u8(&b, &t))
			return ERR_MALFORMED;
		if (t == 0)
			continue; /* Pad1 */
		if (buf_get_u8(&b, &ol))
			return ERR_MALFORMED;
		at = buf_pos(&b);
		if (buf_skip(&b, ol))
			return ERR_MALFORMED;
		if (t & 0x20)
			memset(e + at, 0, ol);
	}
	return 0;
}

static int zero_v6(uint8_t *h, size_t end)
{
	struct buf b, ext;
	uint8_t nh = h[6], next, el, sl;
	uint16_t w;
	size_t at;
	int r;

	h[0] &= 0xf0; /* traffic class, flow label */
	h[1] = 0;
	h[2] = 0;
	h[3] = 0;
	h[7] = 0; /* hop limit */
	buf_init(&b, h, end);
	if (buf_skip(&b, IPV6_HDR_LEN))
		return ERR_MALFORMED;
	while (buf_left(&b)) {
		/* RFC 8200 §4.3: next header, length in 8-octet units - 1. */
		at = buf_pos(&b);
		if (buf_peek_u16(&b, &w))
			return ERR_MALFORMED;
		next = (uint8_t)(w >> 8);
		el = (uint8_t)w;
		if (buf_get_sub(&b, &ext, ((size_t)el + 1) * 8))
			return ERR_MALFORMED;
		if (nh == IPPROTO_NUM_HOPOPTS || nh == IPPROTO_NUM_DSTOPTS) {
			r = zero_v6_opts(h + at, ext.len);
			if (r)
				return r;
		} else if (nh == IPPROTO_NUM_ROUTING) {
			/* §3.3.3.1.2.2: with segments left the final
			 * address order would have to be predicted. */
			if (buf_skip(&ext, 3) || buf_get_u8(&ext, &sl) || sl)
				return ERR_UNSUPPORTED;
		} else {
			return ERR_UNSUPPORTED;
		}
		nh = next;
	}
	return 0;
}

/*
 * Compute (icv_out != NULL) or verify (icv_in) the authenticator of the
 * AH packet at pkt data whose AH header is at ah_off.  The ICV field
 * must already be zero in the packet (GMAC: only the tag part).
 * sa->lock held.
 */
static int ah_icv(const struct ipsec_sa *sa, struct sa_crypto *c,
		  struct pkt *pkt, const struct ip_info *ii, size_t ah_off,
		  uint64_t seq, uint8_t *icv_out, const uint8_t *icv_in)
{
	uint8_t saved[IP_HDR_MAX], hi[4], *p = pkt_data(pkt), *t;
	size_t n = pkt->len;
	int r;

	if (ah_off > sizeof(saved))
		return ERR_UNSUPPORTED;
	memcpy(saved, p, ah_off);
	r = ii->version == 4 ? zero_v4(p, ii->hdr_len) : zero_v6(p, ah_off);
	if (r)
		goto out;
	be32_store(hi, (uint32_t)(seq >> 32));
	if (sa->aead) {
		const uint8_t *iv = p + ah_off + AH_HDR_LEN;

		/* RFC 4543 §3.3/§5: all of it is AAD; for ESN the high
		 * bits follow contiguously, so borrow the tailroom. */
		if (sa->p.esn) {
			r = pkt_put(pkt, sizeof(hi), &t);
			if (r)
				goto out;
			memcpy(t, hi, sizeof(hi));
			n += sizeof(hi);
		}
		if (icv_out)
			r = aead_seal(c->encr, iv, p, n, NULL, 0, NULL,
				      icv_out);
		else
			r = aead_open(c->encr, iv, p, n, NULL, 0, NULL, icv_in);
		if (sa->p.esn)
			pkt->len -= sizeof(hi);
		goto out;
	}
	if ((r = integ_init(c->integ)) || (r = integ_update(c->integ, p, n)))
		goto out;
	if (sa->p.esn && (r = integ_update(c->integ, hi, sizeof(hi))))
		goto out;
	r = icv_out ? integ_final(c->integ, icv_out)
		    : integ_verify(c->integ, icv_in);
out:
	memcpy(p, saved, ah_off);
	return r;
}

static void ah_write_hdr(const struct ipsec_sa *sa, uint8_t *ah, uint8_t nh,
			 size_t ah_len, uint64_t seq)
{
	ah[0] = nh;
	/* §2.2: length in 32-bit words minus 2. */
	ah[1] = (uint8_t)(ah_len / 4 - 2);
	ah[2] = 0;
	ah[3] = 0;
	be32_store(ah + 4, sa->p.spi);
	be32_store(ah + 8, (uint32_t)seq);
	memset(ah + AH_HDR_LEN, 0, ah_len - AH_HDR_LEN);
	/* RFC 4543 §3.1: the IV (here the sequence number) is sent. */
	if (sa->aead)
		be64_store(ah + AH_HDR_LEN, seq);
}

static int ah_build(const struct ipsec_sa *sa, struct sa_crypto *c,
		    const struct ipsec_tx *tx, struct pkt *pkt)
{
	struct ip_info ii;
	struct outer_info oi;
	uint8_t *ah, icv[AH_MAX_FIELD];
	size_t ah_len;
	int r;

	if (sa->p.mode == IPSEC_MODE_TUNNEL) {
		r = ip_inner_info(pkt_data(pkt), pkt->len, &oi);
		if (r)
			return ERR_INVAL;
		ah_len = ah_len_for(sa, tx->src.af == AF_INET6 ? 6 : 4);
		if ((r = pkt_push(pkt, ah_len, &ah)))
			return r;
		ah_write_hdr(sa, ah, oi.nh, ah_len, tx->seq);
		r = ip_push_outer(pkt, &tx->src, &tx->dst, IPPROTO_NUM_AH, &oi,
				  tx->ttl, tx->id);
		if (r)
			return r;
		r = ip_parse(pkt_data(pkt), pkt->len, &ii);
		if (r)
			return ERR_INVAL;
	} else {
		r = ip_parse(pkt_data(pkt), pkt->len, &ii);
		if (r)
			return ERR_INVAL;
		ah_len = ah_len_for(sa, ii.version);
		r = ip_open_gap(pkt, ah_len, &ii, &ah);
		if (r)
			return r == ERR_MALFORMED ? ERR_INVAL : r;
		ah_write_hdr(sa, ah, ii.proto, ah_len, tx->seq);
		r = ip_fix_header(pkt, &ii, IPPROTO_NUM_AH);
		if (r)
			return r;
	}
	r = ah_icv(sa, c, pkt, &ii, ii.hdr_end, tx->seq, icv, NULL);
	if (r)
		return r;
	ah = pkt_data(pkt) + ii.hdr_end + AH_HDR_LEN;
	memcpy(ah + (sa->aead ? GMAC_IV_LEN : 0), icv, sa->icv_len);
	return 0;
}

int ah_encap(struct ipsec_sa *sa, struct pkt *pkt)
{
	struct ipsec_tx tx;
	struct sa_crypto *c;
	struct pkt save;
	int r;

	if (!sa || !pkt || sa->p.proto != IPSEC_PROTO_AH ||
	    sa->p.dir != SA_DIR_OUT || pkt->len == 0)
		return ERR_INVAL;
	save = *pkt;
	/* RFC 4302 §3.3.2: the counter must not cycle (tx_begin). */
	r = ipsec_sa_tx_begin(sa, pkt->len, &tx);
	if (r)
		return r;
	c = ipsec_sa_crypto_get(sa);
	r = ah_build(sa, c, &tx, pkt);
	ipsec_sa_crypto_put(c);
	if (r)
		*pkt = save;
	return r;
}

/* Parse outer header and AH header; lengths per RFC 4302 §2.2. */
static int ah_rx_parse(const struct ipsec_sa *sa, struct pkt *pkt,
		       struct ip_info *ii, size_t *ah_len, uint8_t *nh,
		       uint32_t *seq_lo)
{
	struct buf b;
	uint8_t plen;
	uint32_t spi;
	int r;

	r = ip_parse(pkt_data(pkt), pkt->len, ii);
	if (r)
		return r;
	if (ii->frag)
		return ERR_UNSUPPORTED;
	pkt->len = ii->tot_len;
	if (ii->proto != IPPROTO_NUM_AH)
		return ERR_PROTO;
	buf_init(&b, pkt_data(pkt), pkt->len);
	if (buf_skip(&b, ii->hdr_end) || buf_get_u8(&b, nh) ||
	    buf_get_u8(&b, &plen) || buf_skip(&b, 2) || buf_get_u32(&b, &spi) ||
	    buf_get_u32(&b, seq_lo))
		return ERR_MALFORMED;
	if (spi != sa->p.spi)
		return ERR_NOTFOUND;
	*ah_len = ((size_t)plen + 2) * 4;
	if (*ah_len < AH_HDR_LEN + ah_field_len(sa) ||
	    *ah_len > AH_HDR_LEN + AH_MAX_FIELD ||
	    *ah_len - AH_HDR_LEN > buf_left(&b))
		return ERR_MALFORMED;
	if (ii->version == 6 && *ah_len % 8)
		return ERR_MALFORMED;
	return 0;
}

static int ah_result(const struct ipsec_sa *sa, struct pkt *pkt,
		     const struct ip_info *ii, size_t ah_len, uint8_t nh)
{
	struct outer_info oi;
	struct buf b;
	uint8_t *p = pkt_data(pkt);
	size_t pl_off = ii->hdr_end + ah_len, plen = pkt->len - pl_off;
	size_t inner;
	uint16_t l;

	if (sa->p.mode == IPSEC_MODE_TRANSPORT) {
		memmove(p + ah_len, p, ii->hdr_end);
		pkt_pull(pkt, ah_len);
		return ip_fix_header(pkt, ii, nh) ? ERR_MALFORMED : 0;
	}
	/* Tunnel mode: as ESP, RFC 4303 §2.6 dummy and NH 4/41. */
	if (nh == IPPROTO_NUM_NONE)
		return ERR_DROP;
	if (ip_inner_info(p + pl_off, plen, &oi) || oi.nh != nh)
		return ERR_MALFORMED;
	buf_init(&b, p + pl_off, plen);
	if (buf_skip(&b, nh == IPPROTO_NUM_IPIP ? 2 : 4) || buf_get_u16(&b, &l))
		return ERR_MALFORMED;
	inner = nh == IPPROTO_NUM_IPIP ? l : (size_t)l + IPV6_HDR_LEN;
	if (inner > plen || inner < IPV4_HDR_MIN)
		return ERR_MALFORMED;
	pkt_pull(pkt, pl_off);
	pkt->len = inner;
	return 0;
}

int ah_decap(struct ipsec_sa *sa, struct pkt *pkt)
{
	struct sa_crypto *c;
	struct ip_info ii;
	struct pkt save;
	uint8_t tag[AH_MAX_FIELD], *field, nh = 0;
	uint64_t seq = 0;
	uint32_t seq_lo = 0;
	size_t ah_len = 0, toff;
	bool authentic = false;
	const char *what = "header";
	int r;

	if (!sa || !pkt || sa->p.dir != SA_DIR_IN)
		return ERR_INVAL;
	if (sa->p.proto != IPSEC_PROTO_AH)
		return ERR_PROTO;
	save = *pkt;
	pthread_mutex_lock(&sa->lock);
	r = ah_rx_parse(sa, pkt, &ii, &ah_len, &nh, &seq_lo);
	if (r == 0 && (sa->life_hit & SA_LIFE_HARD))
		r = ERR_EXPIRED;
	if (r == 0) {
		what = "replay";
		r = replay_check(&sa->replay, seq_lo, &seq);
	}
	if (r) {
		r = ipsec_sa_drop(sa, what, r, seq_lo);
		pthread_mutex_unlock(&sa->lock);
		*pkt = save;
		return r;
	}
	pthread_mutex_unlock(&sa->lock);

	/* Take the ICV out and zero its place (GMAC: keep the IV). */
	what = "integrity";
	toff = sa->aead ? GMAC_IV_LEN : 0;
	field = pkt_data(pkt) + ii.hdr_end + AH_HDR_LEN + toff;
	memcpy(tag, field, sa->icv_len);
	memset(field, 0, sa->icv_len);
	c = ipsec_sa_crypto_get(sa);
	r = ah_icv(sa, c, pkt, &ii, ii.hdr_end, seq, NULL, tag);
	ipsec_sa_crypto_put(c);
	memcpy(field, tag, sa->icv_len);
	if (r) {
		if (r != ERR_AUTH && r != ERR_MALFORMED && r != ERR_UNSUPPORTED)
			r = ERR_CRYPTO;
		goto out;
	}
	authentic = true;
	what = "next header";
	r = ah_result(sa, pkt, &ii, ah_len, nh);
	if (r)
		goto out;
	what = "traffic selectors";
	r = ipsec_sa_check_ts(sa, pkt);
out:
	r = ipsec_sa_rx_finish(sa, pkt->len, r, authentic, seq, what);
	if (r && r != ERR_DROP)
		*pkt = save;
	return r;
}
