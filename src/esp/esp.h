/* SPDX-License-Identifier: MIT */
/*
 * ESP (RFC 4303) and AH (RFC 4302) packet processing, in place in a
 * struct pkt (pkt.h), with no allocation and no context creation per
 * packet.  The functions lock the SA themselves (sad.h); they are safe to
 * call from any number of threads.
 *
 * Outbound (encap):
 *   in:  tunnel mode: the inner IP packet (IPv4 or IPv6);
 *        transport mode: the IP packet to protect (not a fragment).
 *   out: the complete outer packet: IPv4 header (checksum set) or IPv6
 *        header, then UDP (RFC 3948, if sa->p.encap_sport/dport are set;
 *        IPv4 UDP checksum 0), then ESP or AH.  The outer family is that
 *        of sa->p.src/dst in tunnel mode; any inner/outer mix works.
 *   Needs pkt headroom >= 80 and tailroom >= 64 (PKT_HEADROOM and
 *   PKT_TAILROOM are enough, plus TFC padding if on).
 *
 * Inbound (decap):
 *   in:  the received IP packet from the outer IPv4/IPv6 header on
 *        (IPv6 hop-by-hop/routing/destination-options headers walked),
 *        then UDP if the SA is udp-encap, then ESP/AH.
 *   out: tunnel mode: the inner packet.  Transport mode: the received IP
 *        header (and IPv6 extension headers before ESP/AH) with the
 *        protocol/next header set to the trailer's, lengths fixed and the
 *        IPv4 checksum recomputed, followed by the payload.
 *   Order (RFC 4303 §3.4): header checks -> replay pre-check -> ICV/tag
 *   -> decrypt -> padding check -> replay update -> next-header/inner
 *   checks -> traffic selectors (RFC 4301 §5.2).  Every drop is counted
 *   in the SA's stats and logged rate-limited; no input crashes.
 *
 * On failure pkt's offset and length are as they were given; its bytes
 * may have changed (in-place work), so a failed packet is only dropped.
 *
 * Return values (decap; encap uses the first four):
 *   0                success, pkt holds the result
 *   ERR_INVAL        bad call (no SA, wrong direction, no room)
 *   ERR_NOSPACE      not enough head/tailroom (encap)
 *   ERR_OVERFLOW     result longer than an IP packet may be (encap)
 *   ERR_EXPIRED      hard lifetime or sequence space exhausted (§3.3.3)
 *   ERR_CRYPTO       the crypto library failed
 *   ERR_PROTO        packet is not of the SA's protocol / encapsulation
 *   ERR_NOTFOUND     SPI differs from the SA's
 *   ERR_MALFORMED    bad IP/UDP/ESP/AH structure, padding, next header
 *   ERR_SHORT        (mapped to ERR_MALFORMED: never returned)
 *   ERR_UNSUPPORTED  fragment, or a header we cannot process
 *   ERR_REPLAY       anti-replay rejected the sequence number
 *   ERR_AUTH         ICV/tag did not verify
 *   ERR_DROP         RFC 4303 §2.6 dummy packet (tunnel mode, NH 59):
 *                    authentic, counted as received, no packet to deliver
 *   ERR_PERM         the inner packet is outside the SA's traffic
 *                    selectors (RFC 4301 §5.2), counted in ts_drops
 *
 * RFC 3948 §3.1.2: after a transport-mode ESP-in-UDP SA, TCP/UDP
 * checksums were computed over the pre-NAT addresses.  esp_decap leaves
 * an IPv4 UDP checksum of 0 as it is and otherwise recomputes TCP and UDP
 * checksums over the delivered header's addresses (the payload is
 * authenticated, so a full recomputation is safe).
 */
#ifndef IPSECD_ESP_ESP_H
#define IPSECD_ESP_ESP_H

#include "esp/pkt.h"
#include "esp/sad.h"

/* Headroom/tailroom encap needs at most (without TFC padding). */
#define ESP_MAX_OVERHEAD_HEAD 80 /* IPv6 40 + UDP 8 + ESP 8 + IV 16 */
#define ESP_MAX_OVERHEAD_TAIL 64 /* pad 15 + 2 + ICV 32, rounded */

int esp_encap(struct ipsec_sa *sa, struct pkt *pkt);
int esp_decap(struct ipsec_sa *sa, struct pkt *pkt);

int ah_encap(struct ipsec_sa *sa, struct pkt *pkt);
int ah_decap(struct ipsec_sa *sa, struct pkt *pkt);

/* Dispatch on sa->p.proto. */
int ipsec_encap(struct ipsec_sa *sa, struct pkt *pkt);
int ipsec_decap(struct ipsec_sa *sa, struct pkt *pkt);

#endif
