/* SPDX-License-Identifier: MIT */
/*
 * The one narrow seam between keying (manual config or IKE) and the data
 * plane.  Keying never touches packets, and the data plane never parses
 * IKE.  The userspace TUN data plane implements it today; a kernel XFRM
 * backend can implement the same table later.
 */
#ifndef IPSECD_DATAPLANE_DP_H
#define IPSECD_DATAPLANE_DP_H

#include <stdint.h>

#include "esp/sa.h"

/* Events the data plane raises up to keying (on the control thread). */
enum dp_event_type {
	DP_EV_ACQUIRE,		/* outbound traffic for a PROTECT policy
				 * whose SA is missing: start it */
	DP_EV_SOFT_EXPIRE,	/* rekey now */
	DP_EV_HARD_EXPIRE,	/* the SA was removed */
};

struct dp_event {
	enum dp_event_type type;
	uint32_t spi;		/* soft/hard expire */
	enum ipsec_proto proto;
	uint32_t policy_id;	/* acquire */
	uint32_t reqid;
	struct ip_addr src;	/* acquire: the triggering packet */
	struct ip_addr dst;
};

typedef void (*dp_event_cb)(const struct dp_event *ev, void *arg);

struct dp;

struct dp_ops {
	const char *name;
	/* Copies p; keys are wiped by the data plane when the SA goes. */
	int (*add_sa)(struct dp *dp, const struct sa_params *p);
	/* Replace lifetimes, addresses, encap ports (MOBIKE, NAT change). */
	int (*update_sa)(struct dp *dp, const struct sa_params *p);
	int (*del_sa)(struct dp *dp, enum ipsec_proto proto, uint32_t spi,
		      enum sa_dir dir);
	int (*add_policy)(struct dp *dp, const struct policy_params *p);
	int (*del_policy)(struct dp *dp, uint32_t id);
	int (*get_stats)(struct dp *dp, enum ipsec_proto proto, uint32_t spi,
			 enum sa_dir dir, struct sa_stats *out);
};

/* ---- Additions: instance-level calls every data plane provides ---- */

/* The instance's operations table (borrowed, static). */
const struct dp_ops *dp_get_ops(const struct dp *dp);
/*
 * Register the event callback.  Events are queued by the workers and
 * delivered on the control thread, from dp_dispatch_events() (see
 * dp_user.h); cb NULL drops them.
 */
void dp_set_event_cb(struct dp *dp, dp_event_cb cb, void *arg);

#endif
