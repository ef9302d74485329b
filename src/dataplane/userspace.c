/* SPDX-License-Identifier: MIT */
/*
 * The userspace data plane: struct dp_ops over the SAD/SPD of src/esp,
 * the TUN device and its routes, events to the control thread, and the
 * lifetime/keepalive tick.  Workers are in worker.c.
 */
#include "dataplane/dp_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "esp/ipsec.h"

#define RULE_PRIO 220

/* ---- dp_ops ---- */

static int u_add_sa(struct dp *dp, const struct sa_params *p)
{
	int r = sad_add(dp->sad, p);

	if (r)
		log_err(LS_DP, "add SA SPI 0x%08x: %s", p->spi, err_str(r));
	return r;
}

static int u_update_sa(struct dp *dp, const struct sa_params *p)
{
	return sad_update(dp->sad, p);
}

static int u_del_sa(struct dp *dp, enum ipsec_proto proto, uint32_t spi,
		    enum sa_dir dir)
{
	return sad_del(dp->sad, proto, spi, dir);
}

static int u_add_policy(struct dp *dp, const struct policy_params *p)
{
	int r = spd_add(dp->spd, p);

	/* RFC 4301 §5.2: the kernel must drop what the SPD cannot see. */
	if (!r) {
		r = dp_nft_add_policy(dp->nft, p);
		if (r)
			spd_del(dp->spd, p->id);
	}
	if (r)
		log_err(LS_DP, "add policy %u: %s", p->id, err_str(r));
	return r;
}

static int u_del_policy(struct dp *dp, uint32_t id)
{
	int r = spd_del(dp->spd, id);

	if (!r)
		r = dp_nft_del_policy(dp->nft, id);
	return r;
}

static int u_get_stats(struct dp *dp, enum ipsec_proto proto, uint32_t spi,
		       enum sa_dir dir, struct sa_stats *out)
{
	return sad_get_stats(dp->sad, proto, spi, dir, out);
}

static const struct dp_ops user_ops = {
	.name = "userspace",
	.add_sa = u_add_sa,
	.update_sa = u_update_sa,
	.del_sa = u_del_sa,
	.add_policy = u_add_policy,
	.del_policy = u_del_policy,
	.get_stats = u_get_stats,
};

const struct dp_ops *dp_get_ops(const struct dp *dp)
{
	return &user_ops;
}

/* ---- overhead and MTU ---- */

unsigned dp_sa_overhead(const struct sa_params *p)
{
	unsigned ip = 0, n, align, icv;

	if (p->mode == IPSEC_MODE_TUNNEL)
		ip = p->src.af == AF_INET6 ? 40 : 20;
	if (p->proto == IPSEC_PROTO_AH) {
		icv = p->integ ? p->integ->icv_len :
		      p->encr ? p->encr->icv_len : 32;
		/* RFC 4302 §3.3.3.2.1: AH is 32-bit aligned in IPv4,
		 * 64-bit in IPv6 */
		align = p->src.af == AF_INET6 ? 8 : 4;
		n = 12 + icv;
		return ip + (n + align - 1) / align * align;
	}
	icv = p->encr && p->encr->aead ? p->encr->icv_len :
	      p->integ ? p->integ->icv_len : 32;
	align = p->encr && p->encr->block_len > 4 ? p->encr->block_len : 4;
	/* RFC 4303 §2: SPI + seq, IV, up to align-1 padding, pad length
	 * and next header, ICV; RFC 3948 §2.1: 8 more for UDP. */
	n = 8 + (p->encr ? p->encr->iv_len : 16) + (align - 1) + 2 + icv;
	if (p->encap_dport)
		n += 8;
	return ip + n;
}

unsigned dp_max_overhead(void)
{
	/* IPv6 + UDP + ESP + 16-byte IV + 15 pad + 2 + 32-byte ICV */
	return 40 + 8 + 8 + 16 + 15 + 2 + 32;
}

/*
 * A TUN device drops (rather than queues) what its reader has not taken
 * once txqueuelen packets wait, and TCP reads every such drop as
 * congestion.  The default of 500 is a few hundred microseconds at the
 * rates a worker reaches; this absorbs scheduling hiccups of a worker
 * sharing its core with the kernel and the applications.
 */
#define TUN_TXQLEN 4096

int dp_set_mtu(struct dp *dp, unsigned mtu)
{
	int r = nl_link_up(dp->nl, dp->ifindex, mtu, TUN_TXQLEN);

	if (!r) {
		dp->tun_mtu = mtu;
		log_info(LS_DP, "%s: MTU %u", dp->ifname, mtu);
	}
	return r;
}

const char *dp_ifname(const struct dp *dp)
{
	return dp->ifname;
}

unsigned dp_tun_mtu(const struct dp *dp)
{
	return dp->tun_mtu;
}

int dp_route_add(struct dp *dp, const struct ip_prefix *dst,
		 const struct ip_addr *prefsrc)
{
	bool *rule = dst->addr.af == AF_INET ? &dp->rule4 : &dp->rule6;
	int r;

	if (!*rule) {
		r = nl_rule(dp->nl, true, dst->addr.af, dp->cfg.route_table,
			    dp->cfg.fwmark, RULE_PRIO);
		if (r)
			return r;
		*rule = true;
	}
	return nl_route(dp->nl, true, dst, dp->ifindex, dp->cfg.route_table,
			prefsrc);
}

/* ---- events ---- */

void dp_raise(struct dp *dp, const struct dp_event *ev)
{
	uint64_t one = 1;

	pthread_mutex_lock(&dp->ev_lock);
	if (dp->ev_tail - dp->ev_head >= DP_EV_RING) {
		dp->ev_lost++;
	} else {
		dp->ev[dp->ev_tail % DP_EV_RING] = *ev;
		dp->ev_tail++;
	}
	pthread_mutex_unlock(&dp->ev_lock);
	if (write(dp->ev_fd, &one, sizeof(one)) < 0)
		return;	/* counter saturated: a wakeup is pending anyway */
}

int dp_event_fd(const struct dp *dp)
{
	return dp->ev_fd;
}

void dp_set_event_cb(struct dp *dp, dp_event_cb cb, void *arg)
{
	dp->cb = cb;
	dp->cb_arg = arg;
}

void dp_set_ike_cb(struct dp *dp, dp_ike_cb cb, void *arg)
{
	dp->ike_cb = cb;
	dp->ike_arg = arg;
}

int dp_natt_fd(const struct dp *dp, sa_family_t af)
{
	if (af == AF_INET)
		return dp->socks.fd[DS_UDP4];
	if (af == AF_INET6)
		return dp->socks.fd[DS_UDP6];
	return -1;
}

void dp_dispatch_events(struct dp *dp)
{
	struct dp_event ev[DP_EV_RING];
	unsigned n = 0, i;
	uint64_t v;

	if (read(dp->ev_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn(LS_DP, "event fd: %s", strerror(errno));
	pthread_mutex_lock(&dp->ev_lock);
	while (dp->ev_head != dp->ev_tail && n < DP_EV_RING)
		ev[n++] = dp->ev[dp->ev_head++ % DP_EV_RING];
	pthread_mutex_unlock(&dp->ev_lock);
	for (i = 0; i < n; i++)
		if (dp->cb)
			dp->cb(&ev[i], dp->cb_arg);
}

/* ---- lifetimes and keepalives ---- */

struct tick_item {
	enum ipsec_proto proto;
	uint32_t spi;
	enum sa_dir dir;
	uint32_t reqid;
	unsigned life;
	bool keepalive;
	struct ip_addr dst;
	uint16_t dport;
};

struct tick_ctx {
	struct tick_item *it;
	size_t n, cap;
	uint64_t now;
	bool keepalive;
};

static void tick_sa(struct ipsec_sa *sa, void *arg)
{
	struct tick_ctx *t = arg;
	struct tick_item *i;
	unsigned life = ipsec_sa_poll_life(sa, t->now);
	bool ka = t->keepalive && sa->udp && sa->p.dir == SA_DIR_OUT;

	if ((!life && !ka) || t->n >= t->cap)
		return;
	i = &t->it[t->n++];
	i->proto = sa->p.proto;
	i->spi = sa->p.spi;
	i->dir = sa->p.dir;
	i->reqid = sa->p.reqid;
	i->life = life;
	i->keepalive = ka;
	i->dst = sa->p.dst;
	i->dport = sa->p.encap_dport;
}

void dp_tick(struct dp *dp)
{
	struct tick_ctx t;
	struct dp_event ev;
	struct tick_item *i;
	size_t k;

	memset(&t, 0, sizeof(t));
	t.now = ipsec_now_s();
	t.cap = sad_count(dp->sad) + 16;
	t.it = calloc(t.cap, sizeof(*t.it));
	if (!t.it)
		return;
	/* RFC 3948 §2.3: keepalives keep the NAT mapping alive. */
	if (dp->cfg.keepalive_s &&
	    t.now - dp->last_keepalive >= dp->cfg.keepalive_s) {
		t.keepalive = true;
		dp->last_keepalive = t.now;
	}
	sad_foreach(dp->sad, tick_sa, &t);
	for (k = 0; k < t.n; k++) {
		i = &t.it[k];
		if (i->keepalive &&
		    dp_send_keepalive(&dp->socks, &i->dst, i->dport))
			log_dbg(LS_DP, "keepalive for SPI 0x%08x failed",
				i->spi);
		if (!i->life)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.spi = i->spi;
		ev.proto = i->proto;
		ev.reqid = i->reqid;
		/* RFC 4301 §4.4.2.1: soft -> rekey; hard -> SA gone. */
		if (i->life & SA_LIFE_HARD) {
			sad_del(dp->sad, i->proto, i->spi, i->dir);
			ev.type = DP_EV_HARD_EXPIRE;
			dp_raise(dp, &ev);
		} else if (i->life & SA_LIFE_SOFT) {
			ev.type = DP_EV_SOFT_EXPIRE;
			dp_raise(dp, &ev);
		}
	}
	free(t.it);
}

/* ---- statistics ---- */

static void log_sa(struct ipsec_sa *sa, void *arg)
{
	struct sa_stats s;
	char sb[ADDR_STRLEN], db[ADDR_STRLEN];

	ipsec_sa_get_stats(sa, &s);
	log_info(LS_DP, "SA %s %s spi 0x%08x %s->%s%s: %llu packets "
		 "%llu bytes seq %llu replay_drops %llu auth_fails %llu "
		 "malformed %llu ts_drops %llu",
		 sa->p.proto == IPSEC_PROTO_AH ? "ah" : "esp",
		 sa->p.dir == SA_DIR_OUT ? "out" : "in", sa->p.spi,
		 addr_fmt(&sa->p.src, sb, sizeof(sb)),
		 addr_fmt(&sa->p.dst, db, sizeof(db)),
		 sa->udp ? " udp" : "", (unsigned long long)s.packets,
		 (unsigned long long)s.bytes, (unsigned long long)s.seq,
		 (unsigned long long)s.replay_drops,
		 (unsigned long long)s.auth_fails,
		 (unsigned long long)s.malformed,
		 (unsigned long long)s.ts_drops);
}

int dp_cleartext_drops(struct dp *dp, uint64_t *packets, uint64_t *bytes)
{
	return dp_nft_drops(dp->nft, packets, bytes);
}

static void log_cleartext(struct dp *dp)
{
	uint64_t pk, by;

	if (!dp_cleartext_drops(dp, &pk, &by))
		log_info(LS_DP, "dp: cleartext_drops %llu (%llu bytes, "
			 "nftables table inet %s)", (unsigned long long)pk,
			 (unsigned long long)by, dp_nft_table(dp->nft));
}

void dp_log_stats(struct dp *dp)
{
	struct dp_counters t;
	const struct dp_counters *c;
	uint64_t *a;
	const uint64_t *b;
	unsigned i, k;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < dp->n_workers; i++) {
		c = worker_counters(dp->workers[i]);
		a = (uint64_t *)&t;
		b = (const uint64_t *)c;
		for (k = 0; k < sizeof(t) / sizeof(uint64_t); k++)
			a[k] += b[k];
	}
	sad_foreach(dp->sad, log_sa, NULL);
	log_info(LS_DP, "dp: tun_in %llu sent %llu send_err %llu encap_err "
		 "%llu no_policy %llu policy_drop %llu bypass %llu "
		 "acq_queued %llu acq_dropped %llu",
		 (unsigned long long)t.tun_in, (unsigned long long)t.sent,
		 (unsigned long long)t.send_err,
		 (unsigned long long)t.encap_err,
		 (unsigned long long)t.no_policy,
		 (unsigned long long)t.policy_drop,
		 (unsigned long long)t.bypass,
		 (unsigned long long)t.acq_queued,
		 (unsigned long long)t.acq_dropped);
	log_info(LS_DP, "dp: rx %llu tun_out %llu tun_out_err %llu ike %llu "
		 "keepalive %llu bad %llu no_sa %llu decap_err %llu "
		 "events_lost %llu",
		 (unsigned long long)t.rx, (unsigned long long)t.tun_out,
		 (unsigned long long)t.tun_out_err,
		 (unsigned long long)t.rx_ike,
		 (unsigned long long)t.rx_keepalive,
		 (unsigned long long)t.rx_bad,
		 (unsigned long long)t.rx_no_sa,
		 (unsigned long long)t.rx_decap_err,
		 (unsigned long long)dp->ev_lost);
	log_cleartext(dp);
}

/* ---- lifecycle ---- */

int dp_new(const struct dp_config *c, struct dp **out)
{
	struct dp *dp;
	unsigned i, mtu;
	int r;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return ERR_NOMEM;
	dp->cfg = *c;
	dp->stop_fd = dp->ev_fd = -1;
	for (i = 0; i < DP_MAX_WORKERS; i++)
		dp->tun_fd[i] = -1;
	for (i = 0; i < DS__COUNT; i++)
		dp->socks.fd[i] = -1;
	pthread_mutex_init(&dp->ev_lock, NULL);
	dp->n_workers = c->workers < 2 ? 2 :
			c->workers > DP_MAX_WORKERS ? DP_MAX_WORKERS :
			c->workers;
	/* One NET worker (keeps inbound order), the rest read TUN. */
	dp->n_tun = dp->n_workers - 1;
	r = sad_new(&dp->sad);
	if (!r)
		r = spd_new(&dp->spd);
	if (r)
		goto fail;
	dp->vnet = !c->no_offload;
	for (i = 0; i < dp->n_tun; i++) {
		r = tun_open(c->tun, true, &dp->vnet, dp->ifname,
			     &dp->tun_fd[i]);
		if (r)
			goto fail;
	}
	r = nl_open(&dp->nl);
	if (r)
		goto fail;
	r = nl_ifindex(dp->ifname, &dp->ifindex);
	if (r)
		goto fail;
	mtu = c->tun_mtu ? c->tun_mtu : c->path_mtu - dp_max_overhead();
	r = dp_set_mtu(dp, mtu);
	if (r)
		goto fail;
	r = dp_nft_new(dp->ifname, dp->ifindex, c->natt_port, &dp->nft);
	if (r)
		goto fail;
	r = dp_socks_open(&dp->socks, c->natt_port, c->fwmark);
	if (r)
		goto fail;
	dp->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dp->ev_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dp->stop_fd < 0 || dp->ev_fd < 0) {
		r = ERR_IO;
		goto fail;
	}
	for (i = 0; i < dp->n_workers; i++) {
		r = worker_new(dp, i < dp->n_tun ? WORKER_TUN : WORKER_NET,
			       i, &dp->workers[i]);
		if (r)
			goto fail;
	}
	log_info(LS_DP, "%s up: %u TUN worker(s), 1 network worker",
		 dp->ifname, dp->n_tun);
	*out = dp;
	return 0;
fail:
	dp_free(dp);
	return r;
}

int dp_start(struct dp *dp)
{
	unsigned i;
	int r;

	atomic_store(&dp->stop, false);
	for (i = 0; i < dp->n_workers; i++) {
		r = worker_start(dp->workers[i]);
		if (r) {
			dp_stop(dp);
			return r;
		}
	}
	dp->running = true;
	return 0;
}

void dp_stop(struct dp *dp)
{
	uint64_t one = 1;
	unsigned i;

	atomic_store(&dp->stop, true);
	if (dp->stop_fd >= 0 && write(dp->stop_fd, &one, sizeof(one)) < 0)
		log_warn(LS_DP, "stop fd: %s", strerror(errno));
	for (i = 0; i < dp->n_workers; i++)
		worker_join(dp->workers[i]);
	dp->running = false;
}

void dp_free(struct dp *dp)
{
	unsigned i;

	if (!dp)
		return;
	dp_stop(dp);
	for (i = 0; i < dp->n_workers; i++)
		worker_free(dp->workers[i]);
	/* Kept until here: while the workers stop, cleartext for the
	 * protected selectors is still dropped. */
	dp_nft_free(dp->nft);
	/* Routes die with the TUN link; the rules must go explicitly. */
	if (dp->nl && dp->rule4)
		nl_rule(dp->nl, false, AF_INET, dp->cfg.route_table,
			dp->cfg.fwmark, RULE_PRIO);
	if (dp->nl && dp->rule6)
		nl_rule(dp->nl, false, AF_INET6, dp->cfg.route_table,
			dp->cfg.fwmark, RULE_PRIO);
	nl_close(dp->nl);
	dp_socks_close(&dp->socks);
	for (i = 0; i < DP_MAX_WORKERS; i++)
		if (dp->tun_fd[i] >= 0)
			close(dp->tun_fd[i]);
	if (dp->stop_fd >= 0)
		close(dp->stop_fd);
	if (dp->ev_fd >= 0)
		close(dp->ev_fd);
	spd_free(dp->spd);
	sad_free(dp->sad);
	pthread_mutex_destroy(&dp->ev_lock);
	free(dp);
}
