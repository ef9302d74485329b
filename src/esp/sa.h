/* SPDX-License-Identifier: MIT */
/*
 * What keying hands to the data plane: the parameters of one SA and of one
 * policy.  These are plain values, copied at add time; the data plane owns
 * its runtime state (crypto contexts, replay window, counters) privately.
 * Manual keying (config) and IKE both fill these in.
 */
#ifndef IPSECD_ESP_SA_H
#define IPSECD_ESP_SA_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "crypto/crypto.h"

enum ipsec_proto {
	IPSEC_PROTO_ESP = 50,
	IPSEC_PROTO_AH = 51,
};

enum ipsec_mode {
	IPSEC_MODE_TUNNEL,
	IPSEC_MODE_TRANSPORT,
};

enum sa_dir {
	SA_DIR_IN,
	SA_DIR_OUT,
};

/* RFC 4301 §4.4.1.1 selectors, one range of each kind. */
struct ts_sel {
	struct ip_prefix net;
	uint8_t proto;		/* 0 = any */
	uint16_t port_lo;	/* 0..65535 = any */
	uint16_t port_hi;
};

#define SA_MAX_TS 8
#define SA_MAX_KEY 68		/* 64-byte key + 4-byte salt */
#define REPLAY_WINDOW_DEFAULT 128
#define REPLAY_WINDOW_MAX 4096

struct sa_lifetime {
	uint64_t bytes;		/* 0 = no limit */
	uint64_t packets;
	uint64_t seconds;
};

struct sa_params {
	uint32_t spi;		/* host order */
	enum ipsec_proto proto;
	enum ipsec_mode mode;
	enum sa_dir dir;
	/* Outer addresses: tunnel endpoints, or the hosts in transport. */
	struct ip_addr src;
	struct ip_addr dst;
	/* RFC 3948 ESP-in-UDP: both ports non-zero (normally 4500). */
	uint16_t encap_sport;
	uint16_t encap_dport;
	/* ESP: encr is required (may be null cipher); integ NULL for AEAD.
	 * AH: encr NULL, integ required (or an AES-GMAC encr for AH-GMAC). */
	const struct encr_alg *encr;
	const struct integ_alg *integ;
	uint8_t enc_key[SA_MAX_KEY];	/* cipher key || salt */
	uint8_t enc_key_len;
	uint8_t integ_key[SA_MAX_KEY];
	uint8_t integ_key_len;
	bool esn;		/* RFC 4303 Appendix A */
	uint32_t replay_window;	/* packets; 0 = anti-replay off */
	/* Inbound: the inner packet must match these (RFC 4301 §5.2). */
	struct ts_sel ts_local[SA_MAX_TS];
	uint8_t n_ts_local;
	struct ts_sel ts_remote[SA_MAX_TS];
	uint8_t n_ts_remote;
	struct sa_lifetime soft;
	struct sa_lifetime hard;
	uint32_t reqid;		/* links SAs to their policies */
	bool tfc_pad;		/* RFC 4303 §2.7 TFC padding */
	uint8_t ttl;		/* outer TTL/hop limit; 0 = 64 */
};

/* RFC 4301 §4.4.1: what to do with traffic that matches a policy. */
enum policy_action {
	POLICY_PROTECT,
	POLICY_BYPASS,
	POLICY_DROP,
};

struct policy_params {
	uint32_t id;		/* unique, chosen by keying */
	uint32_t priority;	/* lower is checked first */
	enum sa_dir dir;
	enum policy_action action;
	struct ts_sel src;
	struct ts_sel dst;
	uint32_t reqid;		/* PROTECT: the SAs that carry it */
	/* PROTECT outbound: template for an acquire (which peer). */
	struct ip_addr tmpl_src;
	struct ip_addr tmpl_dst;
};

/* Counters kept per SA; all read as a consistent-enough snapshot. */
struct sa_stats {
	uint64_t bytes;
	uint64_t packets;
	uint64_t replay_drops;
	uint64_t auth_fails;
	uint64_t malformed;	/* bad padding, length, next header */
	uint64_t ts_drops;	/* inner packet outside the SA's TS */
	uint64_t add_time;	/* monotonic seconds at add */
	uint64_t use_time;	/* monotonic seconds of last packet */
	uint64_t seq;		/* highest sent (out) or received (in) */
};

#endif
