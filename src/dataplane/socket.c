/* SPDX-License-Identifier: MIT */
/*
 * The data plane's network sockets.
 *
 * Receive: raw IPPROTO_ESP and IPPROTO_AH sockets (v4 and v6) and the
 * ESP-in-UDP socket on port 4500 (RFC 3948), shared with IKE.  IPv4 raw
 * sockets hand us the IPv4 header, IPv6 raw sockets and UDP sockets do
 * not, so dp_rx_classify() puts a synthetic outer header back: the ESP
 * layer then has one uniform input, a full outer IP packet.
 *
 * Send: encap builds a full outer IP packet.
 *  - IPv4 ESP/AH goes out as is through one IPPROTO_RAW (IP_HDRINCL)
 *    socket.  This is required for AH: RFC 4302 §3.3.3.1.1.1 makes the
 *    Identification field immutable and covered by the ICV, so the kernel
 *    must not choose its own header.
 *  - IPv6 ESP/AH: the IPv6 header is stripped and the rest sent through
 *    the raw protocol-50/51 socket; the kernel rebuilds the same header
 *    (AH covers only immutable IPv6 fields, RFC 4302 §3.3.3.1.2.1, which
 *    are the ones the kernel sets the same way: addresses, length, NH).
 *  - ESP-in-UDP: outer IP and UDP headers are stripped and the ESP packet
 *    is sent from the port-4500 socket itself, so it leaves with the same
 *    source port as IKE and keeps the NAT mapping IKE opened (RFC 3948
 *    §2.2); the kernel also computes the UDP checksum.
 * Every socket carries SO_MARK so its traffic skips the routes into TUN.
 */
#include "dataplane/dp_io.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"

#define SOCK_RCVBUF (8 << 20)
#define SOCK_SNDBUF (8 << 20)

static int sock_common(int fd, uint32_t mark)
{
	int v;

	if (mark &&
	    setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
		return ERR_IO;
	/* Bursts of a whole batch must not overflow the default buffers;
	 * FORCE needs CAP_NET_ADMIN, fall back to the capped option. */
	v = SOCK_RCVBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	v = SOCK_SNDBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	return 0;
}

static int open_raw(int af, int proto, uint32_t mark, int *out)
{
	int fd, one = 1;

	fd = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return ERR_IO;
	if (sock_common(fd, mark))
		goto fail;
	if (af == AF_INET6 && proto != IPPROTO_RAW &&
	    (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			sizeof(one)) < 0 ||
	     setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one,
			sizeof(one)) < 0))
		goto fail;
	*out = fd;
	return 0;
fail:
	close(fd);
	return ERR_IO;
}

static int open_udp(int af, uint16_t port, uint32_t mark, int *out,
		    bool *gro, bool *gso)
{
	struct sockaddr_storage ss;
	struct ip_addr any;
	socklen_t sl, vl;
	int fd, one = 1, v;

	memset(&any, 0, sizeof(any));
	any.af = (sa_family_t)af;
	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ERR_IO;
	if (sock_common(fd, mark))
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (af == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			       sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			       sizeof(one)) < 0)
			goto fail;
	} else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one,
			      sizeof(one)) < 0) {
		goto fail;
	}
	if (addr_to_sockaddr(&any, port, &ss, &sl) ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto fail;
	/* Linux 5.0: take trains of ESP-in-UDP datagrams whole (a peer
	 * sending with UDP_SEGMENT, or GRO on the NIC): one receive and
	 * one pass through the socket layer for up to 64 datagrams. */
	*gro = setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
	/* Linux 4.18: send runs of equal-sized datagrams in one call
	 * (UDP_SEGMENT cmsg); the option's presence says the kernel
	 * knows the cmsg. */
	vl = sizeof(v);
	*gso = getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &v, &vl) == 0;
	*out = fd;
	return 0;
fail:
	close(fd);
	return ERR_IO;
}

int dp_socks_open(struct dp_socks *s, uint16_t port, uint32_t mark)
{
	static const struct {
		enum dp_sock_kind k;
		int af, proto;
	} raws[] = {
		{ DS_ESP4, AF_INET, IPPROTO_ESP },
		{ DS_AH4, AF_INET, IPPROTO_AH },
		{ DS_RAW4, AF_INET, IPPROTO_RAW },
		{ DS_ESP6, AF_INET6, IPPROTO_ESP },
		{ DS_AH6, AF_INET6, IPPROTO_AH },
		{ DS_RAW6, AF_INET6, IPPROTO_RAW },
	};
	size_t i;
	int r;

	for (i = 0; i < DS__COUNT; i++) {
		s->fd[i] = -1;
		s->gro[i] = s->gso[i] = false;
	}
	s->port = port;
	for (i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
		r = open_raw(raws[i].af, raws[i].proto, mark,
			     &s->fd[raws[i].k]);
		if (r && raws[i].af == AF_INET) {
			log_err(LS_DP, "raw socket proto %d: %s",
				raws[i].proto, strerror(errno));
			goto fail;
		}
		if (r)
			log_warn(LS_DP, "no IPv6 raw socket proto %d: %s",
				 raws[i].proto, strerror(errno));
	}
	r = open_udp(AF_INET, port, mark, &s->fd[DS_UDP4], &s->gro[DS_UDP4],
		     &s->gso[DS_UDP4]);
	if (r) {
		log_err(LS_DP, "UDP socket port %u: %s", port,
			strerror(errno));
		goto fail;
	}
	if (open_udp(AF_INET6, port, mark, &s->fd[DS_UDP6],
		     &s->gro[DS_UDP6], &s->gso[DS_UDP6]))
		log_warn(LS_DP, "no IPv6 UDP socket port %u: %s", port,
			 strerror(errno));
	return 0;
fail:
	dp_socks_close(s);
	return ERR_IO;
}

void dp_socks_close(struct dp_socks *s)
{
	int i;

	for (i = 0; i < DS__COUNT; i++) {
		if (s->fd[i] >= 0)
			close(s->fd[i]);
		s->fd[i] = -1;
	}
}

/* RFC 791 header checksum over our own synthetic header. */
static uint16_t ip4_csum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += be16_load(h + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Push an outer IPv4 or IPv6 header carrying proto in front of p. */
static int push_ip(struct pkt *p, const struct ip_addr *src,
		   const struct ip_addr *dst, uint8_t proto, uint8_t hlim)
{
	struct wbuf w;
	uint8_t *h;
	size_t hl = src->af == AF_INET ? 20 : 40;
	size_t plen = p->len;
	int r;

	if (src->af != dst->af)
		return ERR_INVAL;
	r = pkt_push(p, hl, &h);
	if (r)
		return r;
	wbuf_init_fixed(&w, h, hl);
	if (src->af == AF_INET) {
		if (plen + 20 > 0xffff)
			return ERR_OVERFLOW;
		wbuf_put_u8(&w, 0x45);
		wbuf_put_u8(&w, 0);
		wbuf_put_u16(&w, (uint16_t)(plen + 20));
		wbuf_put_u32(&w, 0);	/* id, flags, fragment offset */
		wbuf_put_u8(&w, hlim);
		wbuf_put_u8(&w, proto);
		wbuf_put_u16(&w, 0);
		wbuf_put_bytes(&w, src->u.b, 4);
		wbuf_put_bytes(&w, dst->u.b, 4);
		be16_store(h + 10, ip4_csum(h, 20));
	} else {
		if (plen > 0xffff)
			return ERR_OVERFLOW;
		wbuf_put_u32(&w, 0x60000000);
		wbuf_put_u16(&w, (uint16_t)plen);
		wbuf_put_u8(&w, proto);
		wbuf_put_u8(&w, hlim);
		wbuf_put_bytes(&w, src->u.b, 16);
		wbuf_put_bytes(&w, dst->u.b, 16);
	}
	return w.err;
}

enum dp_rx_kind dp_rx_classify(enum dp_sock_kind k, struct pkt *p,
			       const struct ip_addr *src, uint16_t sport,
			       const struct ip_addr *dst, uint16_t dport,
			       uint8_t hlim)
{
	struct buf b;
	struct wbuf w;
	uint32_t marker;
	uint8_t v, *h;

	buf_init(&b, pkt_data(p), p->len);
	switch (k) {
	case DS_ESP4:
	case DS_AH4:
		if (buf_peek_u8(&b, &v) || v >> 4 != 4)
			return RX_BAD;
		return RX_IPSEC;
	case DS_ESP6:
	case DS_AH6:
		if (push_ip(p, src, dst,
			    k == DS_ESP6 ? IPPROTO_ESP : IPPROTO_AH, hlim))
			return RX_BAD;
		return RX_IPSEC;
	case DS_UDP4:
	case DS_UDP6:
		/* RFC 3948 §2.3: a one-octet 0xFF payload is a keepalive. */
		if (p->len == 1 && !buf_peek_u8(&b, &v) && v == 0xff)
			return RX_KEEPALIVE;
		if (buf_peek_u32(&b, &marker))
			return RX_BAD;
		/* RFC 3948 §2.2: the non-ESP marker (SPI 0) means IKE. */
		if (marker == 0)
			return RX_IKE;
		if (pkt_push(p, 8, &h))
			return RX_BAD;
		wbuf_init_fixed(&w, h, 8);
		wbuf_put_u16(&w, sport);
		wbuf_put_u16(&w, dport);
		wbuf_put_u16(&w, (uint16_t)p->len);
		/* RFC 3948 §2.1: zero checksum; the kernel checked it. */
		wbuf_put_u16(&w, 0);
		if (w.err || push_ip(p, src, dst, IPPROTO_UDP, hlim))
			return RX_BAD;
		return RX_IPSEC;
	default:
		return RX_BAD;
	}
}

int dp_tx_route(const struct pkt *p, struct dp_tx *tx)
{
	struct buf b;
	const uint8_t *a;
	uint8_t vihl, proto;
	uint16_t dport;
	size_t hl;

	buf_init(&b, pkt_data(p), p->len);
	if (buf_peek_u8(&b, &vihl))
		return ERR_MALFORMED;
	tx->dport = 0;
	if (vihl >> 4 == 4) {
		hl = (size_t)(vihl & 15) * 4;
		if (hl < 20 || buf_skip(&b, 9) || buf_get_u8(&b, &proto) ||
		    buf_skip(&b, 6) || buf_get_ptr(&b, &a, 4) ||
		    buf_skip(&b, hl - 20))
			return ERR_MALFORMED;
		addr_from_bytes(&tx->dst, a, 4);
		if (proto == IPPROTO_UDP) {
			if (buf_skip(&b, 2) || buf_get_u16(&b, &dport) ||
			    buf_skip(&b, 4))
				return ERR_MALFORMED;
			tx->sock = DS_UDP4;
			tx->dport = dport;
			tx->data = buf_cur(&b);
			tx->len = buf_left(&b);
			return 0;
		}
		/* IP_HDRINCL: the whole packet, header included. */
		tx->sock = DS_RAW4;
		tx->data = pkt_data(p);
		tx->len = p->len;
		return 0;
	}
	if (vihl >> 4 != 6)
		return ERR_MALFORMED;
	if (buf_skip(&b, 6) || buf_get_u8(&b, &proto) || buf_skip(&b, 17) ||
	    buf_get_ptr(&b, &a, 16))
		return ERR_MALFORMED;
	addr_from_bytes(&tx->dst, a, 16);
	switch (proto) {
	case IPPROTO_UDP:
		if (buf_skip(&b, 2) || buf_get_u16(&b, &dport) ||
		    buf_skip(&b, 4))
			return ERR_MALFORMED;
		tx->sock = DS_UDP6;
		tx->dport = dport;
		break;
	case IPPROTO_ESP:
		tx->sock = DS_ESP6;
		break;
	case IPPROTO_AH:
		tx->sock = DS_AH6;
		break;
	default:
		return ERR_MALFORMED;
	}
	tx->data = buf_cur(&b);
	tx->len = buf_left(&b);
	return 0;
}

int dp_send_keepalive(const struct dp_socks *s, const struct ip_addr *dst,
		      uint16_t dport)
{
	static const uint8_t ka = 0xff;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = s->fd[dst->af == AF_INET ? DS_UDP4 : DS_UDP6];

	if (fd < 0 || addr_to_sockaddr(dst, dport, &ss, &sl))
		return ERR_INVAL;
	if (sendto(fd, &ka, 1, 0, (struct sockaddr *)&ss, sl) < 0)
		return ERR_IO;
	return 0;
}
