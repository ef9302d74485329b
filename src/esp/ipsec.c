/* SPDX-License-Identifier: MIT */
/*
 * IP header parsing, inbound demultiplexing (RFC 3948 §2.2), packet
 * selectors (RFC 4301 §4.4.1.1) and checksums.
 */
#include "esp/ipsec.h"

#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "esp/ip.h"

uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	/* Keep the accumulator from overflowing on long inputs. */
	return (sum & 0xffff) + (sum >> 16);
}

uint16_t inet_csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t sum = 0;
	size_t chunk;

	while (len) {
		chunk = len > 4096 ? 4096 : len;
		sum = csum_add(sum, b, chunk);
		b += chunk;
		len -= chunk;
	}
	return csum_fold(sum);
}

void ipv4_set_csum(uint8_t *hdr, size_t hdr_len)
{
	hdr[10] = 0;
	hdr[11] = 0;
	be16_store(hdr + 10, inet_csum(hdr, hdr_len));
}

static bool is_ext_hdr(uint8_t nh)
{
	/* RFC 8200 §4: headers that come before ESP/AH and that we walk. */
	return nh == IPPROTO_NUM_HOPOPTS || nh == IPPROTO_NUM_ROUTING ||
	       nh == IPPROTO_NUM_DSTOPTS;
}

static int parse_v4(struct buf *b, const uint8_t *p, size_t len,
		    struct ip_info *ii)
{
	uint8_t vihl, proto;
	uint16_t tot, frag;
	int r;

	if ((r = buf_get_u8(b, &vihl)) || (r = buf_skip(b, 1)) ||
	    (r = buf_get_u16(b, &tot)) || (r = buf_skip(b, 2)) ||
	    (r = buf_get_u16(b, &frag)) || (r = buf_skip(b, 1)) ||
	    (r = buf_get_u8(b, &proto)))
		return r;
	ii->hdr_len = (size_t)(vihl & 0x0f) * 4;
	if (ii->hdr_len < IPV4_HDR_MIN || tot < ii->hdr_len || tot > len)
		return ERR_MALFORMED;
	if (inet_csum(p, ii->hdr_len) != 0)
		return ERR_MALFORMED;
	ii->tot_len = tot;
	ii->hdr_end = ii->hdr_len;
	ii->nh_off = 9;
	ii->proto = proto;
	/* MF set or a non-zero offset: a fragment. */
	ii->frag = (frag & 0x3fff) != 0;
	return 0;
}

static int parse_v6(struct buf *b, size_t len, struct ip_info *ii)
{
	struct buf hb, ext;
	uint16_t plen;
	uint8_t nh, ehl;
	size_t off;
	int r;

	if ((r = buf_skip(b, 4)) || (r = buf_get_u16(b, &plen)) ||
	    (r = buf_get_u8(b, &nh)))
		return r;
	/* Jumbograms (payload length 0, RFC 2675) are not supported. */
	if (plen == 0 || (size_t)plen + IPV6_HDR_LEN > len)
		return ERR_MALFORMED;
	ii->hdr_len = IPV6_HDR_LEN;
	ii->tot_len = (size_t)plen + IPV6_HDR_LEN;
	ii->nh_off = 6;
	ii->frag = false;
	off = IPV6_HDR_LEN;
	buf_init(&hb, b->p, ii->tot_len);
	if ((r = buf_skip(&hb, IPV6_HDR_LEN)))
		return r;
	while (is_ext_hdr(nh)) {
		/* RFC 8200 §4.3-4.6: NH(1) | len in 8-octet units - 1. */
		if ((r = buf_peek_u16(&hb, &plen)))
			return ERR_MALFORMED;
		ehl = (uint8_t)plen;
		if (buf_get_sub(&hb, &ext, ((size_t)ehl + 1) * 8))
			return ERR_MALFORMED;
		ii->nh_off = off;
		nh = (uint8_t)(plen >> 8);
		off += ((size_t)ehl + 1) * 8;
	}
	if (nh == IPPROTO_NUM_FRAGMENT)
		ii->frag = true;
	ii->hdr_end = off;
	ii->proto = nh;
	return 0;
}

int ip_parse(const uint8_t *p, size_t len, struct ip_info *ii)
{
	struct buf b;
	uint8_t v;
	int r;

	memset(ii, 0, sizeof(*ii));
	buf_init(&b, p, len);
	if ((r = buf_peek_u8(&b, &v)))
		return ERR_MALFORMED;
	ii->version = v >> 4;
	if (ii->version == 4)
		r = parse_v4(&b, p, len, ii);
	else if (ii->version == 6)
		r = parse_v6(&b, len, ii);
	else
		r = ERR_MALFORMED;
	return r == ERR_SHORT ? ERR_MALFORMED : r;
}

static void addrs_from(const uint8_t *p, uint8_t version, struct ip_addr *src,
		       struct ip_addr *dst)
{
	if (version == 4) {
		addr_from_bytes(src, p + 12, 4);
		addr_from_bytes(dst, p + 16, 4);
	} else {
		addr_from_bytes(src, p + 8, 16);
		addr_from_bytes(dst, p + 24, 16);
	}
}

int ipsec_demux(const uint8_t *pkt, size_t len, struct demux_info *d)
{
	struct ip_info ii;
	struct buf b, udp;
	uint16_t ulen;
	uint32_t v;
	uint8_t k;
	int r;

	memset(d, 0, sizeof(*d));
	r = ip_parse(pkt, len, &ii);
	if (r)
		return r;
	d->ip_version = ii.version;
	addrs_from(pkt, ii.version, &d->src, &d->dst);
	if (ii.frag)
		return ERR_UNSUPPORTED;
	buf_init(&b, pkt, ii.tot_len);
	if (buf_skip(&b, ii.hdr_end))
		return ERR_MALFORMED;
	d->off = ii.hdr_end;
	switch (ii.proto) {
	case IPPROTO_NUM_ESP:
		/* RFC 4303 §2: SPI is the first word. */
		if (buf_peek_u32(&b, &d->spi))
			return ERR_MALFORMED;
		d->kind = DEMUX_ESP;
		d->proto = IPSEC_PROTO_ESP;
		return 0;
	case IPPROTO_NUM_AH:
		/* RFC 4302 §2: NH, len, reserved, then the SPI. */
		if (buf_skip(&b, 4) || buf_peek_u32(&b, &d->spi))
			return ERR_MALFORMED;
		d->kind = DEMUX_AH;
		d->proto = IPSEC_PROTO_AH;
		return 0;
	case IPPROTO_NUM_UDP:
		break;
	default:
		return 0;
	}
	if (buf_get_u16(&b, &d->sport) || buf_get_u16(&b, &d->dport) ||
	    buf_get_u16(&b, &ulen) || buf_skip(&b, 2))
		return ERR_MALFORMED;
	if (d->sport != IPSEC_NATT_PORT && d->dport != IPSEC_NATT_PORT)
		return 0;
	if (ulen < UDP_HDR_LEN || (size_t)ulen - UDP_HDR_LEN > buf_left(&b))
		return ERR_MALFORMED;
	buf_get_sub(&b, &udp, ulen - UDP_HDR_LEN);
	d->off = ii.hdr_end + UDP_HDR_LEN;
	/* RFC 3948 §2.3: a single 0xFF byte is a NAT-keepalive. */
	if (buf_left(&udp) == 1 && buf_peek_u8(&udp, &k) == 0 && k == 0xff) {
		d->kind = DEMUX_KEEPALIVE;
		return 0;
	}
	if (buf_peek_u32(&udp, &v))
		return ERR_MALFORMED;
	/* RFC 3948 §2.2: SPI 0 is the non-ESP marker in front of IKE. */
	if (v == 0) {
		d->kind = DEMUX_IKE;
		d->off += 4;
		return 0;
	}
	d->kind = DEMUX_ESP_UDP;
	d->proto = IPSEC_PROTO_ESP;
	d->spi = v;
	return 0;
}

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_NUM_TCP || proto == IPPROTO_NUM_UDP ||
	       proto == IPPROTO_NUM_SCTP || proto == IPPROTO_NUM_UDPLITE;
}

int flow_from_packet(const uint8_t *pkt, size_t len, struct flow *f)
{
	struct ip_info ii;
	struct buf b;
	uint16_t a, c;
	int r;

	memset(f, 0, sizeof(*f));
	r = ip_parse(pkt, len, &ii);
	if (r)
		return r;
	addrs_from(pkt, ii.version, &f->src, &f->dst);
	f->proto = ii.proto;
	if (ii.version == 6 && ii.proto == IPPROTO_NUM_FRAGMENT) {
		/* RFC 8200 §4.5: the upper protocol is behind it; ports only
		 * in the first fragment. */
		buf_init(&b, pkt, ii.tot_len);
		if (buf_skip(&b, ii.hdr_end) || buf_get_u8(&b, &f->proto) ||
		    buf_skip(&b, 1) || buf_get_u16(&b, &a) || buf_skip(&b, 4))
			return 0;
		if (a & 0xfff8)
			return 0;
		ii.hdr_end += 8;
	} else if (ii.version == 4 && (be16_load(pkt + 6) & 0x1fff)) {
		return 0; /* non-first fragment: no ports */
	}
	buf_init(&b, pkt, ii.tot_len);
	if (buf_skip(&b, ii.hdr_end))
		return 0;
	if (has_ports(f->proto)) {
		if (buf_get_u16(&b, &a) || buf_get_u16(&b, &c))
			return 0;
		f->sport = a;
		f->dport = c;
	} else if (f->proto == IPPROTO_NUM_ICMP ||
		   f->proto == IPPROTO_NUM_ICMPV6) {
		if (buf_get_u16(&b, &a))
			return 0;
		f->sport = a;
		f->dport = a;
	}
	return 0;
}

static bool sel_match(const struct ts_sel *t, const struct ip_addr *a,
		      uint8_t proto, uint16_t port)
{
	/* An unset (AF_UNSPEC) prefix is "any address". */
	if (t->net.addr.af != AF_UNSPEC && !prefix_contains(&t->net, a))
		return false;
	if (t->proto && t->proto != proto)
		return false;
	return port >= t->port_lo && port <= t->port_hi;
}

bool ts_set_match(const struct ts_sel *ts, unsigned n, const struct flow *f,
		  bool use_src)
{
	const struct ip_addr *a = use_src ? &f->src : &f->dst;
	uint16_t port = use_src ? f->sport : f->dport;
	unsigned i;

	if (n == 0)
		return true;
	for (i = 0; i < n; i++)
		if (sel_match(&ts[i], a, f->proto, port))
			return true;
	return false;
}

void l4_csum_fix(const uint8_t *ip, uint8_t version, uint8_t proto, uint8_t *l4,
		 size_t l4_len)
{
	uint32_t sum = 0;
	uint16_t c;
	size_t at, done, n;
	uint8_t ph[4];

	if (proto == IPPROTO_NUM_TCP && l4_len >= 20)
		at = 16;
	else if (proto == IPPROTO_NUM_UDP && l4_len >= 8)
		at = 6;
	else
		return;
	/* RFC 768: an IPv4 UDP checksum of 0 means none was computed. */
	if (proto == IPPROTO_NUM_UDP && version == 4 && be16_load(l4 + 6) == 0)
		return;
	if (version == 4)
		sum = csum_add(sum, ip + 12, 8);
	else
		sum = csum_add(sum, ip + 8, 32);
	/* Pseudo-header: zero, protocol, length (RFC 8200 §8.1 uses a
	 * 32-bit length; the sum is the same for lengths < 65536). */
	ph[0] = 0;
	ph[1] = proto;
	be16_store(ph + 2, (uint16_t)l4_len);
	sum = csum_add(sum, ph, 4);
	l4[at] = 0;
	l4[at + 1] = 0;
	/* Even-sized chunks keep the 16-bit word alignment. */
	for (done = 0; done < l4_len; done += n) {
		n = l4_len - done > 4096 ? 4096 : l4_len - done;
		sum = csum_add(sum, l4 + done, n);
	}
	c = csum_fold(sum);
	/* RFC 768: a computed 0 is sent as all ones for UDP. */
	if (c == 0 && proto == IPPROTO_NUM_UDP)
		c = 0xffff;
	be16_store(l4 + at, c);
}

int ip_open_gap(struct pkt *pkt, size_t n, struct ip_info *ii, uint8_t **gap)
{
	uint8_t *old = pkt_data(pkt), *hdr;
	int r;

	r = ip_parse(old, pkt->len, ii);
	if (r)
		return r;
	/* RFC 4303 §3.1.1: transport mode applies to whole datagrams. */
	if (ii->frag)
		return ERR_UNSUPPORTED;
	pkt->len = ii->tot_len;
	r = pkt_push(pkt, n, &hdr);
	if (r)
		return r;
	memmove(hdr, old, ii->hdr_end);
	*gap = hdr + ii->hdr_end;
	return 0;
}

int ip_fix_header(struct pkt *pkt, const struct ip_info *ii, uint8_t proto)
{
	uint8_t *h = pkt_data(pkt);

	if (pkt->len > 65535 + (ii->version == 6 ? IPV6_HDR_LEN : 0))
		return ERR_OVERFLOW;
	h[ii->nh_off] = proto;
	if (ii->version == 4) {
		be16_store(h + 2, (uint16_t)pkt->len);
		ipv4_set_csum(h, ii->hdr_len);
	} else {
		be16_store(h + 4, (uint16_t)(pkt->len - IPV6_HDR_LEN));
	}
	return 0;
}

int ip_inner_info(const uint8_t *p, size_t len, struct outer_info *oi)
{
	struct buf b;
	uint8_t v, tc;
	uint16_t w;

	buf_init(&b, p, len);
	if (buf_get_u8(&b, &v))
		return ERR_MALFORMED;
	if (v >> 4 == 4) {
		if (len < IPV4_HDR_MIN || buf_get_u8(&b, &oi->tos) ||
		    buf_skip(&b, 4) || buf_get_u16(&b, &w))
			return ERR_MALFORMED;
		oi->df = w & 0x4000;
		oi->nh = IPPROTO_NUM_IPIP;
		return 0;
	}
	if (v >> 4 == 6) {
		if (len < IPV6_HDR_LEN || buf_get_u8(&b, &tc))
			return ERR_MALFORMED;
		oi->tos = (uint8_t)((v & 0x0f) << 4 | tc >> 4);
		oi->df = false;
		oi->nh = IPPROTO_NUM_IPV6;
		return 0;
	}
	return ERR_MALFORMED;
}

int ip_push_outer(struct pkt *pkt, const struct ip_addr *src,
		  const struct ip_addr *dst, uint8_t proto,
		  const struct outer_info *oi, uint8_t ttl, uint16_t id)
{
	uint8_t *h;
	int r;

	if (src->af == AF_INET) {
		if (pkt->len + IPV4_HDR_MIN > 65535)
			return ERR_OVERFLOW;
		r = pkt_push(pkt, IPV4_HDR_MIN, &h);
		if (r)
			return r;
		h[0] = 0x45;
		h[1] = oi->tos;
		be16_store(h + 2, (uint16_t)pkt->len);
		be16_store(h + 4, id);
		/* RFC 4301 §8.1: DF copied from the inner header. */
		be16_store(h + 6, oi->df ? 0x4000 : 0);
		h[8] = ttl;
		h[9] = proto;
		memcpy(h + 12, src->u.b, 4);
		memcpy(h + 16, dst->u.b, 4);
		ipv4_set_csum(h, IPV4_HDR_MIN);
		return 0;
	}
	if (src->af != AF_INET6)
		return ERR_INVAL;
	if (pkt->len > 65535)
		return ERR_OVERFLOW;
	r = pkt_push(pkt, IPV6_HDR_LEN, &h);
	if (r)
		return r;
	/* Version 6, traffic class copied, flow label 0 (RFC 6437 allows
	 * a tunnel to set its own; 0 is always valid). */
	h[0] = (uint8_t)(0x60 | oi->tos >> 4);
	h[1] = (uint8_t)(oi->tos << 4);
	h[2] = 0;
	h[3] = 0;
	be16_store(h + 4, (uint16_t)(pkt->len - IPV6_HDR_LEN));
	h[6] = proto;
	h[7] = ttl;
	memcpy(h + 8, src->u.b, 16);
	memcpy(h + 24, dst->u.b, 16);
	return 0;
}
