/* SPDX-License-Identifier: MIT */
/*
 * The userspace data plane: TUN device + raw/UDP sockets + worker
 * threads over the SAD/SPD of src/esp.  This is what the daemon creates;
 * keying then talks to it only through dp_get_ops() (dp.h).
 *
 * Threads: dp_start() runs workers (see worker.c); everything else here
 * is called from the control thread.
 */
#ifndef IPSECD_DATAPLANE_DP_USER_H
#define IPSECD_DATAPLANE_DP_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dataplane/dp.h"

struct dp_config {
	const char *tun;	/* TUN name ("ipsec0") */
	unsigned tun_mtu;	/* 0: path_mtu - worst-case overhead */
	unsigned path_mtu;	/* outer path MTU (1500) */
	unsigned workers;	/* >= 2: half TUN readers, rest socket
				 * readers (see worker.c) */
	uint32_t route_table;	/* table for the protected routes (220) */
	uint32_t fwmark;	/* SO_MARK of our sockets; rule skips it */
	uint16_t natt_port;	/* RFC 3948 port (4500) */
	uint64_t keepalive_s;	/* NAT keepalive interval, 0 = off */
	bool no_offload;	/* no IFF_VNET_HDR / TSO on the TUN device */
};

/* Create TUN, sockets and netlink; nothing runs yet.  Owned. */
int dp_new(const struct dp_config *c, struct dp **out);
/* Stops workers if running, closes everything, wipes all SAs. */
void dp_free(struct dp *dp);
int dp_start(struct dp *dp);
void dp_stop(struct dp *dp);

/* Interface name and MTU of the TUN device. */
const char *dp_ifname(const struct dp *dp);
unsigned dp_tun_mtu(const struct dp *dp);

/*
 * Worst-case bytes an SA adds to a packet (outer IP + UDP + ESP header
 * + IV + max padding + trailer + ICV, or the AH equivalent): the TUN
 * MTU must leave room for it so large packets are not black-holed.
 */
unsigned dp_sa_overhead(const struct sa_params *p);
/* Largest overhead any SA may have (IPv6 + UDP + CBC + 32-byte ICV). */
unsigned dp_max_overhead(void);
/* Set the TUN MTU (RTM_NEWLINK). */
int dp_set_mtu(struct dp *dp, unsigned mtu);

/*
 * Route dst into the TUN device (table from dp_config), with prefsrc as
 * preferred source (may be NULL).  The fwmark rules are added by the
 * first route of a family and removed by dp_free.
 */
int dp_route_add(struct dp *dp, const struct ip_prefix *dst,
		 const struct ip_addr *prefsrc);

/* An fd that becomes readable when events wait; then dispatch them. */
int dp_event_fd(const struct dp *dp);
void dp_dispatch_events(struct dp *dp);

/*
 * Once a second from the control thread: lifetimes (soft -> event,
 * hard -> delete + event, RFC 4301 §4.4.2.1) and RFC 3948 §2.3 NAT
 * keepalives for UDP-encapsulated SAs.
 */
void dp_tick(struct dp *dp);

/*
 * IKE on the shared port (RFC 3948 §2.2, RFC 7296 §2.23): a datagram
 * whose first four bytes are the non-ESP marker.  cb gets the IKE
 * message after the marker.  It runs on the network worker thread and
 * must only copy and queue (e.g. to the control thread through a pipe);
 * the buffer is reused after it returns.  Set before dp_start(); without
 * a callback such datagrams are logged at debug level and dropped.
 */
typedef void (*dp_ike_cb)(const uint8_t *msg, size_t len,
			  const struct ip_addr *src, uint16_t sport,
			  const struct ip_addr *dst, uint16_t dport,
			  void *arg);
void dp_set_ike_cb(struct dp *dp, dp_ike_cb cb, void *arg);
/*
 * The data plane's UDP socket on the NAT-T port for family af, or -1.
 * IKE sends on it once it has moved to port 4500, so that IKE and ESP
 * keep one NAT mapping (RFC 3948 §2.2, RFC 7296 §2.23); a second socket
 * on the port would split the incoming ESP.  Borrowed; sendmsg() on it
 * is thread-safe.
 */
int dp_natt_fd(const struct dp *dp, sa_family_t af);

/* Log every SA's counters and the data plane's own (SIGUSR1). */
void dp_log_stats(struct dp *dp);

/*
 * RFC 4301 §5.2: cleartext packets for protected selectors that did not
 * come through the TUN device, dropped by the data plane's nftables table
 * (nft.h), read back from the kernel; dp_log_stats() logs them too.
 */
int dp_cleartext_drops(struct dp *dp, uint64_t *packets, uint64_t *bytes);

#endif
