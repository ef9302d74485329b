/* SPDX-License-Identifier: MIT */
/*
 * The userspace data plane's system interfaces: the TUN device, netlink
 * routes/rules/links (libmnl), and the ESP/AH/ESP-in-UDP sockets.  Internal
 * to src/dataplane and src/daemon; keying only sees dp.h.
 */
#ifndef IPSECD_DATAPLANE_DP_IO_H
#define IPSECD_DATAPLANE_DP_IO_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "esp/pkt.h"

/* ---- TUN (tun.c) ---- */

/*
 * Open one queue of the layer-3 TUN device name (IFF_TUN | IFF_NO_PI, and
 * IFF_MULTI_QUEUE when multi).  ifname gets the kernel's name (IFNAMSIZ).
 * The fd is non-blocking.  With *offload set, IFF_VNET_HDR is asked for
 * and checksum/TSO offloads turned on (every read and write then starts
 * with a struct virtio_net_hdr, TUN_VNET_HDR_LEN bytes); *offload is
 * cleared if the kernel refuses.  0 or ERR_IO.
 */
int tun_open(const char *name, bool multi, bool *offload, char *ifname,
	     int *fd);

#define TUN_VNET_HDR_LEN 10

/* ---- TCP segmentation of TUN offload packets (gso.c) ---- */

/* What a virtio_net_hdr said about one packet read from TUN. */
struct tun_gso {
	uint8_t flags;		/* VIRTIO_NET_HDR_F_NEEDS_CSUM */
	uint8_t gso_type;	/* VIRTIO_NET_HDR_GSO_*, ECN bit cleared */
	uint16_t gso_size;	/* payload bytes per segment */
	uint16_t csum_start;	/* offset of the L4 header */
	uint16_t csum_offset;	/* of the checksum field in L4 */
};

/* Parse the TUN_VNET_HDR_LEN bytes at h. */
void tun_gso_parse(const uint8_t *h, struct tun_gso *g);
/*
 * Finish a partial checksum (NEEDS_CSUM): the field already holds the
 * pseudo-header sum; add the bytes from csum_start on.  ERR_MALFORMED if
 * the offsets do not fit.
 */
int gso_csum_finish(uint8_t *p, size_t len, const struct tun_gso *g);

/*
 * Linux 6.2 UDP segmentation offload (USO) on TUN; the constants are
 * missing from older userspace headers.
 */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/* A TCP (TSO) or UDP (USO) super-packet prepared for cutting. */
struct tso {
	const uint8_t *p;	/* the big packet (borrowed) */
	size_t len;
	size_t l4_off;		/* TCP/UDP header offset */
	size_t hdr_len;		/* IP + extension + TCP/UDP headers */
	size_t gso_size;
	unsigned n_seg;
	bool v6;
	bool udp;
};

/*
 * Check a GSO_TCPV4/TCPV6/UDP_L4 packet; 0 or ERR_MALFORMED/
 * ERR_UNSUPPORTED.
 */
int tso_prepare(const uint8_t *p, size_t len, const struct tun_gso *g,
		struct tso *t);
/*
 * Write segment i (0..n_seg-1) to out (room for hdr_len + gso_size):
 * headers copied, lengths, IPv4 ID and checksum fixed.  TCP: sequence
 * number, flags (FIN/PSH only on the last, CWR only on the first) and
 * the full checksum, as the NIC would (RFC 7414 ignores TSO; this
 * follows Linux tcp_gso_segment).  UDP: length and full checksum, as
 * Linux __udp_gso_segment.  Returns the segment length.
 */
size_t tso_segment(const struct tso *t, unsigned i, uint8_t *out);

/*
 * Receive-side coalescing (GRO) of decrypted TCP segments and UDP
 * datagrams before they are written to TUN: one write and one pass
 * through the kernel's IP receive path for a train of packets instead of
 * one each.  A UDP train is written as a USO packet, which the kernel
 * cuts back into the original datagrams before the socket sees them
 * (udp_rcv_segment), exactly as after its own UDP GRO.
 */
struct gro_seg {
	bool v6;
	bool udp;
	size_t l4_off;		/* TCP/UDP header offset */
	size_t hdr_len;		/* IP + TCP/UDP headers */
	size_t plen;		/* payload bytes */
	uint32_t seq;		/* TCP sequence number */
	uint16_t ip_id;		/* IPv4 Identification */
	uint8_t flags;		/* TCP flags byte */
};

/*
 * May this packet join a train: IPv4 without options or fragmentation,
 * or IPv6 without extension headers, carrying TCP with payload and only
 * ACK (and PSH) set, or UDP with payload and a checksum.  Fills *s.
 */
bool gro_eligible(const uint8_t *p, size_t len, struct gro_seg *s);
/*
 * The value gro_follows() expects of the packet after s: the next TCP
 * sequence number, or for UDP the next IPv4 Identification.
 */
uint32_t gro_next(const struct gro_seg *s);
/*
 * Does packet b (at q) continue the train whose first packet is at head
 * (described by h) and which expects next (gro_next of the last one):
 * same addresses, protocol, ports, and the IP fields the kernel's GRO
 * compares; for TCP also ack, window and options.
 */
bool gro_follows(const uint8_t *head, const struct gro_seg *h,
		 const uint8_t *q, const struct gro_seg *b, uint32_t next);
/*
 * Finish a train of n segments of seg_size payload bytes each (the last
 * may be shorter) now held contiguously at head, total bytes long: fix
 * the IP length (and IPv4 checksum), leave the TCP/UDP checksum as the
 * pseudo-header sum, for TCP set PSH if psh, and write the
 * virtio_net_hdr for a TSO or USO packet with a partial checksum into
 * vh (TUN_VNET_HDR_LEN bytes).
 */
void gro_finish(uint8_t *head, const struct gro_seg *h, size_t total,
		size_t seg_size, bool psh, uint8_t *vh);

/* ---- netlink (route.c) ---- */

struct nl;

/* Owned: free with nl_close(). */
int nl_open(struct nl **out);
void nl_close(struct nl *nl);
/* Interface index of name; ERR_NOTFOUND if there is none. */
int nl_ifindex(const char *name, int *ifindex);
/* MTU of name, or ERR_NOTFOUND. */
int nl_get_mtu(struct nl *nl, const char *name, unsigned *mtu);
/*
 * RTM_NEWLINK: set the MTU and the transmit queue length (0 = leave
 * either) and bring the link up.
 */
int nl_link_up(struct nl *nl, int ifindex, unsigned mtu, unsigned txqlen);
/*
 * Add (or delete) a route to dst via ifindex in table, with an optional
 * preferred source (prefsrc may be NULL or AF_UNSPEC).  Adding a route
 * that exists is not an error.
 */
int nl_route(struct nl *nl, bool add, const struct ip_prefix *dst,
	     int ifindex, uint32_t table, const struct ip_addr *prefsrc);
/*
 * Add (or delete) the rule "not fwmark mark/mark lookup table" at prio
 * for family af: everything except the daemon's own marked sockets sees
 * the protected routes (so transport-mode ESP to the peer does not loop
 * back into the TUN device).
 */
int nl_rule(struct nl *nl, bool add, int af, uint32_t table, uint32_t mark,
	    uint32_t prio);

/* ---- sockets (socket.c) ---- */

/* Which socket a packet came in on or goes out by. */
enum dp_sock_kind {
	DS_ESP4, DS_AH4, DS_RAW4,	/* RAW4/6: IPPROTO_RAW, send only */
	DS_ESP6, DS_AH6, DS_RAW6,
	DS_UDP4, DS_UDP6,
	DS__COUNT,
};

struct dp_socks {
	int fd[DS__COUNT];		/* -1 if not open */
	/* UDP_GRO is on: a datagram read may hold a train of several of
	 * the same size, with their size in a SOL_UDP/UDP_GRO cmsg */
	bool gro[DS__COUNT];
	/* UDP_SEGMENT is known (Linux 4.18): sendmsg may carry a run of
	 * equal-sized datagrams (older kernels would ignore the cmsg and
	 * send them as one) */
	bool gso[DS__COUNT];
	uint16_t port;			/* ESP-in-UDP port (4500) */
};

/*
 * Open every socket: raw protocol 50/51 receive sockets (v4 and v6), the
 * IPPROTO_RAW send socket, and the UDP encapsulation sockets on port.
 * mark is set as SO_MARK on all of them (see nl_rule).  v6 failures are
 * logged and leave that family off.  0 or ERR_IO.
 */
int dp_socks_open(struct dp_socks *s, uint16_t port, uint32_t mark);
void dp_socks_close(struct dp_socks *s);

/* What socket.c made of one received datagram. */
enum dp_rx_kind {
	RX_IPSEC,	/* p holds a full outer IP packet (ESP or AH) */
	RX_IKE,		/* non-ESP marker: p holds the IKE message */
	RX_KEEPALIVE,	/* RFC 3948 §2.3 NAT keepalive */
	RX_BAD,		/* too short, wrong family, ... */
};

/*
 * Classify a datagram received on socket kind k, data at pkt_data(p),
 * from src/port sport to dst/dport (dst from IP_PKTINFO).  For IPv6 raw
 * and for UDP sockets the outer header(s) the kernel stripped are put
 * back in the headroom, so the ESP layer always sees a full IP packet
 * (RFC 3948 §2.1 for the UDP header).
 */
enum dp_rx_kind dp_rx_classify(enum dp_sock_kind k, struct pkt *p,
			       const struct ip_addr *src, uint16_t sport,
			       const struct ip_addr *dst, uint16_t dport,
			       uint8_t hlim);

/*
 * Where to send a full outer packet built by encap: which socket, which
 * bytes (after stripping what the kernel will add back) and to whom.
 * ERR_MALFORMED if the packet is not IP.
 */
struct dp_tx {
	enum dp_sock_kind sock;
	const uint8_t *data;
	size_t len;
	struct ip_addr dst;
	uint16_t dport;
};
int dp_tx_route(const struct pkt *p, struct dp_tx *tx);

/* Build a NAT keepalive (one 0xFF byte, RFC 3948 §2.3) and send it. */
int dp_send_keepalive(const struct dp_socks *s, const struct ip_addr *dst,
		      uint16_t dport);

#endif
