/* SPDX-License-Identifier: MIT */
/*
 * IP header helpers shared by esp.c, ah.c and ipsec.c (internal to
 * src/esp; not part of the data-plane contract).
 */
#ifndef IPSECD_ESP_IP_H
#define IPSECD_ESP_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "esp/pkt.h"

#define IPPROTO_NUM_HOPOPTS 0
#define IPPROTO_NUM_ICMP 1
#define IPPROTO_NUM_IPIP 4
#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17
#define IPPROTO_NUM_IPV6 41
#define IPPROTO_NUM_ROUTING 43
#define IPPROTO_NUM_FRAGMENT 44
#define IPPROTO_NUM_ESP 50
#define IPPROTO_NUM_AH 51
#define IPPROTO_NUM_ICMPV6 58
#define IPPROTO_NUM_NONE 59
#define IPPROTO_NUM_DSTOPTS 60
#define IPPROTO_NUM_SCTP 132
#define IPPROTO_NUM_UDPLITE 136

#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define UDP_HDR_LEN 8
/* Largest IPv4 header plus IPv6 extension headers we handle in AH. */
#define IP_HDR_MAX 512

struct ip_info {
	uint8_t version; /* 4 or 6 */
	size_t hdr_len;	 /* IPv4 IHL*4 / 40 */
	size_t hdr_end;	 /* end of IP header + walked ext headers */
	size_t nh_off;	 /* byte holding the protocol/next header */
	uint8_t proto;	 /* value at nh_off: the next protocol */
	size_t tot_len;	 /* declared total length (<= buffer) */
	bool frag;	 /* IPv4 MF/offset set or IPv6 fragment hdr */
};

/*
 * Parse an outer header: version, lengths (declared length may be shorter
 * than len: link padding), IPv4 header checksum, IPv6 hop-by-hop/routing/
 * destination-options walk (stops at anything else; a fragment header
 * sets frag).  0, ERR_MALFORMED or ERR_SHORT.
 */
int ip_parse(const uint8_t *p, size_t len, struct ip_info *ii);

/* Recompute the IPv4 header checksum of hdr (hdr_len bytes). */
void ipv4_set_csum(uint8_t *hdr, size_t hdr_len);

/* Sum 16-bit big-endian words into an unfolded 32-bit accumulator. */
uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len);
static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Recompute a TCP/UDP checksum in place over the pseudo-header of the IP
 * header at ip (RFC 768, RFC 793, RFC 8200 §8.1).  l4 points at the
 * transport header, l4_len bytes.  No-op for other protocols, or for a
 * zero IPv4 UDP checksum (RFC 768: none computed).
 */
void l4_csum_fix(const uint8_t *ip, uint8_t version, uint8_t proto, uint8_t *l4,
		 size_t l4_len);

/*
 * Transport mode, outbound: open a gap of n bytes right after the IP
 * header and the extension headers ip_parse walks (RFC 4303 §3.1.1,
 * RFC 4302 §3.1.1) by moving that header n bytes to the front.  *ii
 * describes the packet as it was (offsets still valid from the new
 * start); *gap points at the n bytes.  Trims link padding.
 * ERR_UNSUPPORTED for a fragment, ERR_NOSPACE without headroom.
 */
int ip_open_gap(struct pkt *pkt, size_t n, struct ip_info *ii, uint8_t **gap);

/*
 * Set the protocol/next-header byte at ii->nh_off of the header at the
 * packet start, the total (IPv4) or payload (IPv6) length from pkt->len,
 * and recompute the IPv4 header checksum.  ERR_OVERFLOW if too long.
 */
int ip_fix_header(struct pkt *pkt, const struct ip_info *ii, uint8_t proto);

/* Outer header fields taken from the inner packet (RFC 4301 §5.1.2). */
struct outer_info {
	uint8_t tos; /* DSCP + ECN, copied (RFC 6040 normal mode) */
	bool df;     /* IPv4 DF copied; IPv6 inner: clear */
	uint8_t nh;  /* 4 or 41 */
};

/* Inner packet check for tunnel mode: IPv4 or IPv6 with a sane header. */
int ip_inner_info(const uint8_t *p, size_t len, struct outer_info *oi);

/*
 * Tunnel mode, outbound: push an outer IPv4 or IPv6 header (family of
 * src) in front of pkt's data with protocol proto, lengths and (IPv4)
 * checksum set.
 */
int ip_push_outer(struct pkt *pkt, const struct ip_addr *src,
		  const struct ip_addr *dst, uint8_t proto,
		  const struct outer_info *oi, uint8_t ttl, uint16_t id);

#endif
