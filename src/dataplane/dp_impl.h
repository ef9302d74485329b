/* SPDX-License-Identifier: MIT */
/* Internals shared by userspace.c and worker.c only. */
#ifndef IPSECD_DATAPLANE_DP_IMPL_H
#define IPSECD_DATAPLANE_DP_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "dataplane/dp_io.h"
#include "dataplane/dp_user.h"
#include "dataplane/nft.h"
#include "esp/sad.h"
#include "esp/spd.h"

#define DP_MAX_WORKERS 16
#define DP_BATCH 32		/* packets per recvmmsg/sendmmsg */
#define DP_ACQ_QUEUE 8		/* packets held while an SA is acquired */
#define DP_ACQ_HOLD_MS 1000
#define DP_EV_RING 64

/* Counters of one worker; only that worker writes them. */
struct dp_counters {
	uint64_t tun_in;	/* packets read from TUN */
	uint64_t tun_out;	/* packets written to TUN */
	uint64_t tun_out_err;
	uint64_t sent;		/* protected packets handed to a socket */
	uint64_t send_err;
	uint64_t encap_err;
	uint64_t no_policy;	/* TUN packet matched no policy: dropped */
	uint64_t policy_drop;	/* DROP policy */
	uint64_t bypass;	/* BYPASS policy: sent in the clear */
	uint64_t acq_queued;
	uint64_t acq_dropped;	/* queue full or hold time over */
	uint64_t rx;		/* datagrams from the sockets */
	uint64_t rx_ike;
	uint64_t rx_keepalive;
	uint64_t rx_bad;
	uint64_t rx_no_sa;
	uint64_t rx_decap_err;
};

enum worker_role {
	WORKER_TUN,		/* TUN -> SPD -> encap -> sockets */
	WORKER_NET,		/* sockets -> SAD -> decap -> TUN */
};

struct worker;

struct dp {
	struct dp_config cfg;
	char ifname[IFNAMSIZ];
	int ifindex;
	unsigned tun_mtu;
	int tun_fd[DP_MAX_WORKERS];	/* one queue per TUN worker */
	unsigned n_tun;
	bool vnet;		/* TUN reads/writes carry a virtio_net_hdr */
	struct dp_socks socks;
	struct nl *nl;
	bool rule4, rule6;
	struct dp_nft *nft;	/* RFC 4301 §5.2 cleartext filter */

	struct sad *sad;
	struct spd *spd;

	unsigned n_workers;
	struct worker *workers[DP_MAX_WORKERS];
	bool running;
	atomic_bool stop;
	int stop_fd;		/* eventfd: wakes workers to stop */

	/* Events from workers to the control thread. */
	pthread_mutex_t ev_lock;
	struct dp_event ev[DP_EV_RING];
	unsigned ev_head, ev_tail;
	uint64_t ev_lost;
	int ev_fd;		/* eventfd */
	dp_event_cb cb;
	void *cb_arg;

	uint64_t last_keepalive;
	dp_ike_cb ike_cb;
	void *ike_arg;
};

/* Queue an event for the control thread (any thread). */
void dp_raise(struct dp *dp, const struct dp_event *ev);

/* worker.c */
int worker_new(struct dp *dp, enum worker_role role, unsigned idx,
	       struct worker **out);
int worker_start(struct worker *w);
void worker_join(struct worker *w);
void worker_free(struct worker *w);
const struct dp_counters *worker_counters(const struct worker *w);
enum worker_role worker_role(const struct worker *w);

#endif
