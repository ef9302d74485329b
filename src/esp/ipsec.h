/* SPDX-License-Identifier: MIT */
/*
 * Inbound demultiplexing and packet selectors.
 *
 * ipsec_demux() looks at a received IP packet (starting at the IPv4 or
 * IPv6 header) and tells what it is: ESP, AH, ESP-in-UDP (RFC 3948),
 * IKE on port 4500 (non-ESP marker), a NAT keepalive (0xFF), or
 * something else, and for ESP/AH the SPI to look up in the SAD.
 *
 * flow_from_packet() extracts the RFC 4301 §4.4.1.1 selectors of a
 * cleartext packet (addresses, protocol, ports) for SPD lookups and for
 * the inbound traffic-selector check.
 *
 * Both only read, through the bounds-checked reader; both are
 * thread-safe and allocation-free.
 */
#ifndef IPSECD_ESP_IPSEC_H
#define IPSECD_ESP_IPSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "esp/sa.h"

/* RFC 3948 §2.2 / RFC 7296 §2.23: the port for ESP-in-UDP and IKE. */
#define IPSEC_NATT_PORT 4500

enum demux_kind {
	DEMUX_OTHER = 0, /* not ours: neither ESP, AH nor UDP 4500 */
	DEMUX_ESP,	 /* ESP directly over IP (protocol 50) */
	DEMUX_AH,	 /* AH (protocol 51) */
	DEMUX_ESP_UDP,	 /* RFC 3948 ESP-in-UDP */
	DEMUX_IKE,	 /* UDP 4500 with the 4-byte non-ESP marker */
	DEMUX_KEEPALIVE, /* RFC 3948 §2.3 NAT-keepalive (one 0xFF) */
};

struct demux_info {
	enum demux_kind kind;
	uint8_t ip_version; /* 4 or 6 */
	struct ip_addr src; /* outer addresses */
	struct ip_addr dst;
	/* Offset of the ESP/AH header (DEMUX_ESP/AH/ESP_UDP), or of the
	 * IKE header after the marker (DEMUX_IKE); from the packet start. */
	size_t off;
	enum ipsec_proto proto; /* ESP or AH (ESP for DEMUX_ESP_UDP) */
	uint32_t spi;		/* host order; valid for ESP/AH kinds */
	uint16_t sport;		/* UDP ports (host order), UDP kinds */
	uint16_t dport;
};

/*
 * Classify a received packet.  0 and *d filled, or ERR_MALFORMED /
 * ERR_SHORT for a broken IP header (bad version, length, IPv4 header
 * checksum), or ERR_UNSUPPORTED for a fragment (no reassembly here).
 * A non-IPsec packet is not an error: kind is DEMUX_OTHER.  IPv6
 * hop-by-hop, routing and destination-options headers are walked.
 */
int ipsec_demux(const uint8_t *pkt, size_t len, struct demux_info *d);

/* The selectors of one cleartext packet (RFC 4301 §4.4.1.1). */
struct flow {
	struct ip_addr src;
	struct ip_addr dst;
	uint8_t proto; /* upper-layer protocol after ext headers */
	/* Ports in host order for TCP/UDP/SCTP/UDP-Lite; for ICMP and
	 * ICMPv6 both are type << 8 | code (RFC 7296 §3.13.1); else 0. */
	uint16_t sport;
	uint16_t dport;
};

/*
 * Selectors of an IPv4/IPv6 packet.  Ports are 0 when the transport
 * header is absent (non-first fragment, truncated).  ERR_MALFORMED or
 * ERR_SHORT only if the IP header itself is unusable.
 */
int flow_from_packet(const uint8_t *pkt, size_t len, struct flow *f);

/* true if f's destination/protocol/port fit one selector of the set
 * (n == 0 matches anything).  use_src picks the source side instead. */
bool ts_set_match(const struct ts_sel *ts, unsigned n, const struct flow *f,
		  bool use_src);

/* RFC 1071 Internet checksum of len bytes (folded, complemented). */
uint16_t inet_csum(const void *p, size_t len);

#endif
