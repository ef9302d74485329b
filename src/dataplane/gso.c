/* SPDX-License-Identifier: MIT */
/*
 * TUN offloads.  With IFF_VNET_HDR and TUN_F_TSO4/6 the kernel hands the
 * TUN reader whole TCP super-packets (up to 64 KiB) with one header, with
 * TUN_F_USO4/6 (Linux 6.2) the UDP super-packets of senders using
 * UDP_SEGMENT, and packets whose checksum is only partial (TUN_F_CSUM).
 * Cutting them here saves the kernel's stack and the TUN read system
 * call per segment: one read per ~45 segments instead of one each.  The
 * segments are what a NIC doing TSO/USO would put on the wire; each is
 * then protected on its own.  In the other direction (gro_*), decrypted
 * packets of one flow are merged back into such super-packets.
 */
#include "dataplane/dp_io.h"

#include <linux/virtio_net.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"

void tun_gso_parse(const uint8_t *h, struct tun_gso *g)
{
	/* virtio_net_hdr fields are in the host's byte order for TUN
	 * (no TUNSETVNETLE/BE): flags, gso_type, hdr_len, gso_size,
	 * csum_start, csum_offset. */
	struct virtio_net_hdr v;

	memcpy(&v, h, sizeof(v));
	g->flags = v.flags;
	g->gso_type = v.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	g->gso_size = v.gso_size;
	g->csum_start = v.csum_start;
	g->csum_offset = v.csum_offset;
}

/*
 * One's complement sum of len bytes as big-endian 16-bit words, added to
 * s (unfolded).  RFC 1071 §2(B): the sum is independent of byte order up
 * to a final swap, so whole 32-bit native words are added and the folded
 * result swapped once; this is the hot loop of TSO and GRO.
 */
static uint64_t sum_bytes(uint64_t s, const uint8_t *p, size_t len)
{
	uint64_t acc = 0;
	uint32_t w;
	uint16_t h;

	while (len >= 4) {
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		h = 0;
		memcpy(&h, p, 1);	/* padded with a zero byte */
		acc += h;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	acc = (uint16_t)(acc << 8 | acc >> 8);
#endif
	return s + acc;
}

static uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

int gso_csum_finish(uint8_t *p, size_t len, const struct tun_gso *g)
{
	size_t at = (size_t)g->csum_start + g->csum_offset;
	uint16_t c;

	if (!(g->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	if (g->csum_start >= len || at + 2 > len)
		return ERR_MALFORMED;
	c = (uint16_t)~fold(sum_bytes(0, p + g->csum_start,
				      len - g->csum_start));
	/* RFC 768: a computed UDP checksum of 0 is sent as all ones. */
	if (!c)
		c = 0xffff;
	be16_store(p + at, c);
	return 0;
}

int tso_prepare(const uint8_t *p, size_t len, const struct tun_gso *g,
		struct tso *t)
{
	struct buf b;
	uint8_t v, doff;

	if (g->gso_type != VIRTIO_NET_HDR_GSO_TCPV4 &&
	    g->gso_type != VIRTIO_NET_HDR_GSO_TCPV6 &&
	    g->gso_type != VIRTIO_NET_HDR_GSO_UDP_L4)
		return ERR_UNSUPPORTED;
	buf_init(&b, p, len);
	if (buf_peek_u8(&b, &v))
		return ERR_MALFORMED;
	t->v6 = v >> 4 == 6;
	t->udp = g->gso_type == VIRTIO_NET_HDR_GSO_UDP_L4;
	if ((!t->udp &&
	     t->v6 != (g->gso_type == VIRTIO_NET_HDR_GSO_TCPV6)) ||
	    (!t->v6 && v >> 4 != 4))
		return ERR_MALFORMED;
	t->l4_off = g->csum_start;
	if (t->udp) {
		/* USO: the partial checksum is the UDP one (offset 6) */
		t->hdr_len = t->l4_off + 8;
		if (g->csum_offset != 6)
			return ERR_MALFORMED;
	} else {
		/* TCP data offset: the high nibble of byte 12. */
		if (buf_skip(&b, t->l4_off + 12) || buf_get_u8(&b, &doff))
			return ERR_MALFORMED;
		if ((doff >> 4) < 5)
			return ERR_MALFORMED;
		t->hdr_len = t->l4_off + (size_t)(doff >> 4) * 4;
	}
	if (t->hdr_len > len || !g->gso_size ||
	    (!t->v6 && t->l4_off < 20) || (t->v6 && t->l4_off < 40))
		return ERR_MALFORMED;
	t->p = p;
	t->len = len;
	t->gso_size = g->gso_size;
	t->n_seg = (unsigned)((len - t->hdr_len + t->gso_size - 1) /
			      t->gso_size);
	if (!t->n_seg)
		t->n_seg = 1;
	return 0;
}

size_t tso_segment(const struct tso *t, unsigned i, uint8_t *out)
{
	size_t off = (size_t)i * t->gso_size;
	size_t plen = t->len - t->hdr_len - off;
	uint8_t *l4 = out + t->l4_off;
	size_t l4len, n;
	uint64_t s;
	uint8_t fl;
	uint16_t c;

	if (plen > t->gso_size)
		plen = t->gso_size;
	n = t->hdr_len + plen;
	memcpy(out, t->p, t->hdr_len);
	memcpy(out + t->hdr_len, t->p + t->hdr_len + off, plen);
	l4len = n - t->l4_off;
	if (t->v6) {
		be16_store(out + 4, (uint16_t)(n - 40));
		s = sum_bytes(0, out + 8, 32);
	} else {
		be16_store(out + 2, (uint16_t)n);
		/* Consecutive IDs, as tcp_gso_segment/inet_gso_segment. */
		be16_store(out + 4, (uint16_t)(be16_load(t->p + 4) + i));
		out[10] = out[11] = 0;
		be16_store(out + 10,
			   (uint16_t)~fold(sum_bytes(0, out, t->l4_off)));
		s = sum_bytes(0, out + 12, 8);
	}
	if (t->udp) {
		/* RFC 768 / RFC 8200 §8.1 pseudo-header, header, data */
		be16_store(l4 + 4, (uint16_t)l4len);
		l4[6] = l4[7] = 0;
		s = sum_bytes(s + 17 + l4len, l4, l4len);
		c = (uint16_t)~fold(s);
		/* RFC 768: a computed checksum of 0 is sent as all ones */
		be16_store(l4 + 6, c ? c : 0xffff);
		return n;
	}
	be32_store(l4 + 4, be32_load(t->p + t->l4_off + 4) + (uint32_t)off);
	fl = l4[13];
	if (i + 1 < t->n_seg)
		fl &= (uint8_t)~0x09;	/* FIN, PSH only on the last */
	if (i > 0)
		fl &= (uint8_t)~0x80;	/* CWR only on the first */
	l4[13] = fl;
	/* RFC 793 / RFC 8200 §8.1 pseudo-header, then header + data. */
	s += 6 + l4len;
	l4[16] = l4[17] = 0;
	s = sum_bytes(s, l4, l4len);
	be16_store(l4 + 16, (uint16_t)~fold(s));
	return n;
}

/* The UDP part of gro_eligible: s->l4_off is set. */
static bool gro_udp(const uint8_t *p, size_t len, struct gro_seg *s)
{
	struct buf b;
	uint16_t ulen, csum;

	buf_init(&b, p, len);
	if (buf_skip(&b, s->l4_off + 4) || buf_get_u16(&b, &ulen) ||
	    buf_get_u16(&b, &csum))
		return false;
	s->udp = true;
	s->flags = 0;
	s->seq = 0;
	s->hdr_len = s->l4_off + 8;
	/* The UDP length must be the IP payload (no trailing bytes), and
	 * an IPv4 datagram sent without checksum keeps going alone, so
	 * that what the kernel cuts out again is what was sent. */
	if (ulen != len - s->l4_off || s->hdr_len >= len ||
	    (!s->v6 && !csum))
		return false;
	s->plen = len - s->hdr_len;
	return true;
}

bool gro_eligible(const uint8_t *p, size_t len, struct gro_seg *s)
{
	struct buf b;
	uint8_t v, proto, doff;
	uint16_t frag, tot;

	buf_init(&b, p, len);
	if (buf_peek_u8(&b, &v))
		return false;
	s->ip_id = 0;
	if (v == 0x45) {
		if (buf_skip(&b, 2) || buf_get_u16(&b, &tot) ||
		    buf_get_u16(&b, &s->ip_id) || buf_get_u16(&b, &frag) ||
		    buf_skip(&b, 1) || buf_get_u8(&b, &proto) ||
		    tot != len || (frag & 0x3fff) ||
		    (proto != 6 && proto != 17))
			return false;
		s->v6 = false;
		s->l4_off = 20;
	} else if (v >> 4 == 6) {
		if (buf_skip(&b, 4) || buf_get_u16(&b, &tot) ||
		    buf_get_u8(&b, &proto) || (proto != 6 && proto != 17) ||
		    (size_t)tot + 40 != len)
			return false;
		s->v6 = true;
		s->l4_off = 40;
	} else {
		return false;
	}
	if (proto == 17)
		return gro_udp(p, len, s);
	s->udp = false;
	buf_init(&b, p, len);
	if (buf_skip(&b, s->l4_off + 4) || buf_get_u32(&b, &s->seq) ||
	    buf_skip(&b, 4) || buf_get_u8(&b, &doff) ||
	    buf_get_u8(&b, &s->flags))
		return false;
	s->hdr_len = s->l4_off + (size_t)(doff >> 4) * 4;
	if ((doff >> 4) < 5 || s->hdr_len >= len)
		return false;
	s->plen = len - s->hdr_len;
	/* Only ACK or ACK|PSH: SYN, FIN, RST, URG, ECE, CWR end a train,
	 * as in the kernel's tcp_gro_receive. */
	return (s->flags & ~0x08) == 0x10;
}

uint32_t gro_next(const struct gro_seg *s)
{
	if (s->udp)
		return (uint16_t)(s->ip_id + 1);
	return s->seq + (uint32_t)s->plen;
}

bool gro_follows(const uint8_t *head, const struct gro_seg *h,
		 const uint8_t *q, const struct gro_seg *b, uint32_t next)
{
	if (b->v6 != h->v6 || b->udp != h->udp || b->hdr_len != h->hdr_len)
		return false;
	/* TCP: in sequence.  UDP over IPv4: the next Identification, so
	 * the IDs the kernel gives the segments when it cuts the train
	 * (inet_gso_segment counts up from the first) are the original
	 * ones. */
	if (h->udp ? !h->v6 && b->ip_id != next : b->seq != next)
		return false;
	if (h->v6) {
		/* version/class/flow label, next header, hop limit,
		 * addresses; the payload length differs */
		if (memcmp(head, q, 4) || memcmp(head + 6, q + 6, 34))
			return false;
	} else {
		/* TOS, DF, TTL, protocol, addresses (not the length,
		 * ID or checksum) */
		if (head[1] != q[1] || head[6] != q[6] || head[8] != q[8] ||
		    memcmp(head + 12, q + 12, 8))
			return false;
	}
	/* ports */
	if (memcmp(head + h->l4_off, q + h->l4_off, 4))
		return false;
	if (h->udp)
		return true;
	/* TCP: ack; data offset and window; options (the flags byte is
	 * checked by gro_eligible, PSH may differ) */
	return !memcmp(head + h->l4_off + 8, q + h->l4_off + 8, 5) &&
	       !memcmp(head + h->l4_off + 14, q + h->l4_off + 14, 2) &&
	       !memcmp(head + h->l4_off + 20, q + h->l4_off + 20,
		       h->hdr_len - h->l4_off - 20);
}

void gro_finish(uint8_t *head, const struct gro_seg *h, size_t total,
		size_t seg_size, bool psh, uint8_t *vh)
{
	struct virtio_net_hdr v;
	uint8_t *l4 = head + h->l4_off;
	size_t l4len = total - h->l4_off;
	uint64_t s;

	if (h->v6) {
		be16_store(head + 4, (uint16_t)(total - 40));
		s = sum_bytes(0, head + 8, 32);
	} else {
		be16_store(head + 2, (uint16_t)total);
		head[10] = head[11] = 0;
		be16_store(head + 10,
			   (uint16_t)~fold(sum_bytes(0, head, h->l4_off)));
		s = sum_bytes(0, head + 12, 8);
	}
	memset(&v, 0, sizeof(v));
	/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum, not
	 * complemented; the payload is ESP-authenticated, so nothing is
	 * lost by not verifying the segments' own checksums. */
	v.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	v.csum_start = (uint16_t)h->l4_off;
	if (h->udp) {
		/* The UDP length of the whole train: __udp_gso_segment
		 * swaps it for each segment's in the pseudo-header sum. */
		be16_store(l4 + 4, (uint16_t)l4len);
		be16_store(l4 + 6, fold(s + 17 + l4len));
		v.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
		v.hdr_len = (uint16_t)h->hdr_len;
		v.gso_size = (uint16_t)seg_size;
		v.csum_offset = 6;
		memcpy(vh, &v, sizeof(v));
		return;
	}
	if (psh)
		l4[13] |= 0x08;
	s += 6 + l4len;
	be16_store(l4 + 16, fold(s));
	v.gso_type = h->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
			     VIRTIO_NET_HDR_GSO_TCPV4;
	v.hdr_len = (uint16_t)h->hdr_len;
	v.gso_size = (uint16_t)seg_size;
	v.csum_offset = 16;
	memcpy(vh, &v, sizeof(v));
}
