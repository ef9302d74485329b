/* SPDX-License-Identifier: MIT */
/*
 * Data-plane worker threads.
 *
 * Design: a pipeline split by direction.  TUN workers read cleartext from
 * the TUN device (one IFF_MULTI_QUEUE queue each, so the kernel spreads
 * flows over them while keeping each flow in order), look up the SPD,
 * encapsulate and send in batches with sendmmsg().  The one NET worker
 * reads the ESP/AH/UDP sockets in batches with recvmmsg(), decapsulates
 * and writes to the TUN device.  With the default of two workers, an
 * outbound SA is only ever used by the TUN worker and an inbound SA only
 * by the NET worker, so the per-SA locks in src/esp are never contended
 * and each crypto context stays hot in one core's cache.  One NET worker
 * keeps inbound packets of a flow in order (several threads reading one
 * socket would reorder TCP segments and stress the replay window).
 *
 * Small packets cost system calls and passes through the kernel, not
 * crypto, so both directions batch what the kernel lets them: ESP-in-UDP
 * leaves as UDP_SEGMENT runs and arrives as UDP_GRO trains, and
 * decrypted TCP segments and UDP datagrams of one flow are written to
 * TUN as one TSO/USO packet (gso.c).  TUN itself reads one packet (or
 * one super-packet) per read().
 *
 * Per packet there is no allocation: each worker owns DP_BATCH buffers
 * of PKT_BUF_SIZE (pkt.h) plus DP_ACQ_QUEUE buffers for packets held
 * while an SA is being acquired, and the NET worker GRO_RX_BUFS
 * receive buffers for UDP_GRO trains.  The control thread never touches
 * packets; workers report to it through dp_raise().
 */
#include "dataplane/dp_impl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "esp/esp.h"
#include "esp/ipsec.h"

#define ACQ_RL_SLOTS 16
#define CTRL_LEN 128

struct acq_slot {
	struct pkt p;
	uint8_t *mem;		/* PKT_BUF_SIZE, owned by the worker */
	uint32_t reqid;
	uint64_t t_ms;
	bool used;
};

struct acq_rl {
	uint32_t policy_id;
	uint64_t t_ms;
};

struct tx_batch {
	struct mmsghdr mm[DP_BATCH];
	struct iovec iov[DP_BATCH];
	struct sockaddr_storage to[DP_BATCH];
	unsigned n;
};

/* Runs of equal-sized datagrams to one peer, sent as UDP GSO packets. */
struct gso_batch {
	struct mmsghdr mm[DP_BATCH];
	unsigned first[DP_BATCH];	/* index of the run's first message */
	unsigned count[DP_BATCH];
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(uint16_t))];
	} ctl[DP_BATCH];
	unsigned n;
};

/* UDP_GRO receive: few big buffers, each cut into the batch slots. */
#define GRO_RX_BUFS 4

/* The receive-side coalescing train (see gro_* in gso.c). */
struct gro_train {
	struct pkt *head;	/* first segment; later payloads appended */
	struct gro_seg h;
	size_t seg_size;
	uint32_t next;		/* gro_next() of the last packet */
	unsigned n;
	bool psh;
};

#define GRO_MAX_SEGS 64

struct worker {
	struct dp *dp;
	enum worker_role role;
	unsigned idx;
	int tun_fd;
	pthread_t th;
	bool started;
	uint8_t *slot[DP_BATCH];	/* PKT_BUF_SIZE each, owned */
	uint8_t *spare;			/* swapped in for a TSO packet */
	struct pkt pkts[DP_BATCH];
	struct tx_batch tx[DS__COUNT];
	struct gso_batch gso;
	bool no_gso;		/* the kernel refused UDP_SEGMENT */
	uint8_t *gro_buf[GRO_RX_BUFS];	/* PKT_MAX_DATA each, NET only */
	/* receive side */
	struct mmsghdr rmm[DP_BATCH];
	struct iovec riov[DP_BATCH];
	struct sockaddr_storage from[DP_BATCH];
	uint8_t ctrl[DP_BATCH][CTRL_LEN];
	/* acquire */
	struct acq_slot acq[DP_ACQ_QUEUE];
	unsigned acq_used;
	struct acq_rl rl[ACQ_RL_SLOTS];
	struct gro_train gro;
	struct dp_counters c;
};

static struct log_ratelimit rl_encap = LOG_RATELIMIT_INIT(5, 10);
static struct log_ratelimit rl_send = LOG_RATELIMIT_INIT(5, 10);
static struct log_ratelimit rl_nosa = LOG_RATELIMIT_INIT(5, 10);
static struct log_ratelimit rl_decap = LOG_RATELIMIT_INIT(5, 10);

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- sending ---- */

/* Put p (already in its final form) into the batch of its socket. */
static int batch_add(struct worker *w, const struct dp_tx *tx)
{
	struct tx_batch *b = &w->tx[tx->sock];
	socklen_t sl;
	unsigned i = b->n;

	if (w->dp->socks.fd[tx->sock] < 0 || i >= DP_BATCH)
		return ERR_INVAL;
	if (addr_to_sockaddr(&tx->dst, tx->dport, &b->to[i], &sl))
		return ERR_INVAL;
	b->iov[i].iov_base = (void *)tx->data;
	b->iov[i].iov_len = tx->len;
	memset(&b->mm[i], 0, sizeof(b->mm[i]));
	b->mm[i].msg_hdr.msg_name = &b->to[i];
	b->mm[i].msg_hdr.msg_namelen = sl;
	b->mm[i].msg_hdr.msg_iov = &b->iov[i];
	b->mm[i].msg_hdr.msg_iovlen = 1;
	b->n++;
	return 0;
}

/* Wait briefly for room in a socket's send buffer. */
static bool wait_writable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	return poll(&pfd, 1, 10) == 1;
}

/*
 * Largest UDP GSO train: the kernel's UDP_MAX_SEGMENTS was 64 before
 * Linux 6.14, and the whole train must fit one IP packet.
 */
#define GSO_MAX_SEGS 64
#define GSO_MAX_BYTES 60000

/*
 * ESP-in-UDP: group consecutive datagrams to the same peer of the same
 * size (the last of a run may be shorter) into one sendmsg with
 * UDP_SEGMENT, so the kernel builds, routes and passes on one packet
 * per run and cuts it at the last moment (or never: a receiver with
 * UDP_GRO takes it whole).  The datagrams on the wire are the same.
 * Returns how many messages of b went out; the caller sends the rest
 * one by one.
 */
static unsigned flush_gso(struct worker *w, struct tx_batch *b, int fd)
{
	struct gso_batch *g = &w->gso;
	struct msghdr *mh, *first;
	struct cmsghdr *cm;
	uint16_t seg;
	size_t bytes;
	unsigned i, j, done = 0;
	uint32_t held;
	int n;

	g->n = 0;
	for (i = 0; i < b->n; i = j) {
		first = &b->mm[i].msg_hdr;
		seg = (uint16_t)b->iov[i].iov_len;
		bytes = seg;
		for (j = i + 1; j < b->n && j - i < GSO_MAX_SEGS; j++) {
			mh = &b->mm[j].msg_hdr;
			if (b->iov[j].iov_len > seg ||
			    bytes + b->iov[j].iov_len > GSO_MAX_BYTES ||
			    mh->msg_namelen != first->msg_namelen ||
			    memcmp(mh->msg_name, first->msg_name,
				   first->msg_namelen))
				break;
			bytes += b->iov[j].iov_len;
			/* a shorter datagram ends the run */
			if (b->iov[j].iov_len < seg) {
				j++;
				break;
			}
		}
		g->first[g->n] = i;
		g->count[g->n] = j - i;
		mh = &g->mm[g->n].msg_hdr;
		*mh = *first;
		mh->msg_iov = &b->iov[i];
		mh->msg_iovlen = j - i;
		mh->msg_control = NULL;
		mh->msg_controllen = 0;
		if (j - i > 1) {
			mh->msg_control = g->ctl[g->n].b;
			mh->msg_controllen = sizeof(g->ctl[g->n].b);
			cm = CMSG_FIRSTHDR(mh);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
		}
		g->n++;
	}
	i = 0;
	while (i < g->n) {
		n = sendmmsg(fd, g->mm + i, g->n - i, 0);
		if (n > 0) {
			for (j = i; j < i + (unsigned)n; j++) {
				done += g->count[j];
				w->c.sent += g->count[j];
			}
			i += (unsigned)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == ENOBUFS) &&
		    wait_writable(fd))
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		/* EINVAL: this run does not suit the path (a segment
		 * above its MTU...): send this batch one by one. */
		if (g->count[i] > 1 && errno == EINVAL)
			return g->first[i];
		if (g->count[i] > 1 &&
		    (errno == EIO || errno == ENOPROTOOPT ||
		     errno == EOPNOTSUPP)) {
			/* The kernel cannot segment on this path at all:
			 * plain sends from now on, starting with this
			 * run. */
			log_info(LS_DP, "UDP GSO refused (%s): sending "
				 "datagrams one by one", strerror(errno));
			w->no_gso = true;
			return g->first[i];
		}
		if (log_ratelimit_ok(&rl_send, &held))
			log_warn(LS_DP, "send %u datagram(s) on UDP: %s "
				 "(%u more suppressed)", g->count[i],
				 strerror(errno), held);
		w->c.send_err += g->count[i];
		done += g->count[i];
		i++;
	}
	return done;
}

static void flush(struct worker *w)
{
	struct tx_batch *b;
	unsigned k, done;
	uint32_t held;
	int n, fd;

	for (k = 0; k < DS__COUNT; k++) {
		b = &w->tx[k];
		fd = w->dp->socks.fd[k];
		done = 0;
		if (w->dp->socks.gso[k] && b->n > 1 && !w->no_gso)
			done = flush_gso(w, b, fd);
		while (done < b->n) {
			n = sendmmsg(fd, b->mm + done, b->n - done, 0);
			if (n > 0) {
				done += (unsigned)n;
				w->c.sent += (unsigned)n;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == ENOBUFS) &&
			    wait_writable(fd))
				continue;
			if (n < 0 && errno == EINTR)
				continue;
			/* This message failed (no route, EMSGSIZE...):
			 * count it and go on with the rest. */
			if (log_ratelimit_ok(&rl_send, &held))
				log_warn(LS_DP, "send on socket %u: %s "
					 "(%u more suppressed)", k,
					 strerror(errno), held);
			w->c.send_err++;
			done++;
		}
		b->n = 0;
	}
}

/* ---- TUN -> network ---- */

/* RFC 4301 §5.1: raise an acquire at most once a second per policy. */
static void acquire(struct worker *w, const struct policy_params *pol,
		    const struct flow *f)
{
	struct dp_event ev;
	uint64_t now = now_ms();
	unsigned i, old = 0;

	for (i = 0; i < ACQ_RL_SLOTS; i++) {
		if (w->rl[i].policy_id == pol->id) {
			if (now - w->rl[i].t_ms < 1000)
				return;
			old = i;
			break;
		}
		if (w->rl[i].t_ms < w->rl[old].t_ms)
			old = i;
	}
	w->rl[old].policy_id = pol->id;
	w->rl[old].t_ms = now;
	memset(&ev, 0, sizeof(ev));
	ev.type = DP_EV_ACQUIRE;
	ev.policy_id = pol->id;
	ev.reqid = pol->reqid;
	ev.proto = IPSEC_PROTO_ESP;
	ev.src = f->src;
	ev.dst = f->dst;
	dp_raise(w->dp, &ev);
}

/* Hold a copy of p until its SA shows up (or DP_ACQ_HOLD_MS pass). */
static void acq_hold(struct worker *w, const struct pkt *p, uint32_t reqid)
{
	struct acq_slot *s;
	unsigned i;

	for (i = 0; i < DP_ACQ_QUEUE; i++) {
		s = &w->acq[i];
		if (s->used)
			continue;
		pkt_init(&s->p, s->mem, PKT_BUF_SIZE, PKT_HEADROOM);
		memcpy(pkt_data(&s->p), pkt_data(p), p->len);
		s->p.len = p->len;
		s->reqid = reqid;
		s->t_ms = now_ms();
		s->used = true;
		w->acq_used++;
		w->c.acq_queued++;
		return;
	}
	w->c.acq_dropped++;
}

static int protect(struct worker *w, struct ipsec_sa *sa, struct pkt *p)
{
	struct dp_tx tx;
	uint32_t held;
	int r;

	r = ipsec_encap(sa, p);
	if (r) {
		w->c.encap_err++;
		if (log_ratelimit_ok(&rl_encap, &held))
			log_warn(LS_DP, "encap SPI 0x%08x: %s (%u more)",
				 sa->p.spi, err_str(r), held);
		return r;
	}
	r = dp_tx_route(p, &tx);
	if (!r)
		r = batch_add(w, &tx);
	if (r)
		w->c.send_err++;
	return r;
}

/* Send the held packets whose SA arrived; drop the stale ones. */
static void acq_service(struct worker *w)
{
	struct ipsec_sa *sa;
	struct acq_slot *s;
	uint64_t now = now_ms();
	unsigned i;
	bool sent = false;

	for (i = 0; i < DP_ACQ_QUEUE; i++) {
		s = &w->acq[i];
		if (!s->used)
			continue;
		sa = sad_lookup_out(w->dp->sad, s->reqid);
		if (sa) {
			if (!protect(w, sa, &s->p))
				sent = true;
			ipsec_sa_put(sa);
		} else if (now - s->t_ms < DP_ACQ_HOLD_MS) {
			continue;
		} else {
			w->c.acq_dropped++;
		}
		if (sent)
			flush(w);
		s->used = false;
		w->acq_used--;
	}
}

/*
 * One cleartext packet from TUN.  true if it went into a send batch (its
 * buffer is then in use until flush()).
 */
static bool tun_packet(struct worker *w, struct pkt *p)
{
	struct policy_params pol;
	struct ipsec_sa *sa;
	struct flow f;
	struct dp_tx tx;

	if (flow_from_packet(pkt_data(p), p->len, &f)) {
		w->c.no_policy++;
		return false;
	}
	if (spd_lookup(w->dp->spd, SA_DIR_OUT, &f, &pol)) {
		/* Only our routes lead into TUN, so traffic without a
		 * policy (e.g. IPv6 router solicitations of the TUN link
		 * itself) has nowhere to go. */
		w->c.no_policy++;
		return false;
	}
	switch (pol.action) {
	case POLICY_PROTECT:
		sa = sad_lookup_out(w->dp->sad, pol.reqid);
		if (!sa) {
			/* RFC 4301 §5.1 step 3b: never in the clear; hold
			 * a few and ask keying for an SA. */
			acquire(w, &pol, &f);
			acq_hold(w, p, pol.reqid);
			return false;
		}
		if (protect(w, sa, p)) {
			ipsec_sa_put(sa);
			return false;
		}
		ipsec_sa_put(sa);
		return true;
	case POLICY_BYPASS:
		/* RFC 4301 §5.1 BYPASS: send it on unprotected.  A raw
		 * IPPROTO_RAW socket with our fwmark skips the TUN routes
		 * and leaves through the main table. */
		tx.sock = f.src.af == AF_INET ? DS_RAW4 : DS_RAW6;
		tx.data = pkt_data(p);
		tx.len = p->len;
		tx.dst = f.dst;
		tx.dport = 0;
		if (batch_add(w, &tx)) {
			w->c.send_err++;
			return false;
		}
		w->c.bypass++;
		return true;
	case POLICY_DROP:
	default:
		w->c.policy_drop++;
		return false;
	}
}

/*
 * A TCP super-packet (TSO, gso.c) sits in slot n: move its memory aside
 * and cut it into segments in the slots from n on, flushing whenever
 * the batch is full.  Returns the new number of slots in use.
 */
static unsigned tun_tso(struct worker *w, unsigned n, const struct tun_gso *g)
{
	struct pkt *src = &w->pkts[n], *p;
	struct tso t;
	uint8_t *big = w->slot[n];
	unsigned i;

	if (tso_prepare(pkt_data(src), src->len, g, &t)) {
		w->c.no_policy++;
		return n;
	}
	w->slot[n] = w->spare;
	w->spare = big;
	for (i = 0; i < t.n_seg; i++) {
		if (n == DP_BATCH) {
			flush(w);
			n = 0;
		}
		p = &w->pkts[n];
		pkt_init(p, w->slot[n], PKT_BUF_SIZE, PKT_HEADROOM);
		p->len = tso_segment(&t, i, pkt_data(p));
		w->c.tun_in++;
		if (tun_packet(w, p))
			n++;
	}
	return n;
}

/*
 * Read one packet from TUN into slot n and process it.  Returns the new
 * number of slots in use, or -1 when TUN is empty.
 */
static int tun_read_one(struct worker *w, unsigned n)
{
	struct pkt *p = &w->pkts[n];
	struct tun_gso g;
	size_t hl = w->dp->vnet ? TUN_VNET_HDR_LEN : 0;
	ssize_t r;

	pkt_init(p, w->slot[n], PKT_BUF_SIZE, PKT_HEADROOM);
	r = read(w->tun_fd, pkt_data(p) - hl, PKT_MAX_DATA + hl);
	if (r <= (ssize_t)hl)
		return -1;
	p->len = (size_t)r - hl;
	if (hl) {
		tun_gso_parse(pkt_data(p) - hl, &g);
		if (g.gso_type != 0)
			return (int)tun_tso(w, n, &g);
		if (gso_csum_finish(pkt_data(p), p->len, &g)) {
			w->c.no_policy++;
			return (int)n;
		}
	}
	w->c.tun_in++;
	return (int)(tun_packet(w, p) ? n + 1 : n);
}

static void *tun_worker(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd[2];
	int n, m;
	int timeout;

	pfd[0].fd = w->tun_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = w->dp->stop_fd;
	pfd[1].events = POLLIN;
	while (!atomic_load(&w->dp->stop)) {
		timeout = w->acq_used ? 100 : -1;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (atomic_load(&w->dp->stop))
			break;
		if (w->acq_used)
			acq_service(w);
		if (!(pfd[0].revents & POLLIN))
			continue;
		/* Drain TUN: one read per packet or TSO super-packet (TUN
		 * has no batch read), one sendmmsg per socket per batch. */
		n = 0;
		for (;;) {
			m = tun_read_one(w, (unsigned)n);
			if (m < 0)
				break;
			n = m;
			if (n == DP_BATCH) {
				flush(w);
				n = 0;
			}
		}
		flush(w);
	}
	return NULL;
}

/* ---- network -> TUN ---- */

/* Write one plain packet to TUN. */
static void tun_write(struct worker *w, struct pkt *p)
{
	uint8_t *vh;

	/* With offloads on, every TUN write starts with a virtio_net_hdr;
	 * all zero: no GSO, checksum complete. */
	if (w->dp->vnet) {
		if (pkt_push(p, TUN_VNET_HDR_LEN, &vh)) {
			w->c.tun_out_err++;
			return;
		}
		memset(vh, 0, TUN_VNET_HDR_LEN);
	}
	if (write(w->tun_fd, pkt_data(p), p->len) < 0)
		w->c.tun_out_err++;
	else
		w->c.tun_out++;
}

/* Write the pending train: one TSO packet, or the lone segment. */
static void gro_flush(struct worker *w)
{
	struct gro_train *t = &w->gro;
	struct pkt *p = t->head;
	uint8_t *vh;

	if (!p)
		return;
	t->head = NULL;
	if (t->n == 1) {
		tun_write(w, p);
		return;
	}
	if (pkt_push(p, TUN_VNET_HDR_LEN, &vh)) {
		w->c.tun_out_err++;
		return;
	}
	gro_finish(vh + TUN_VNET_HDR_LEN, &t->h, p->len - TUN_VNET_HDR_LEN,
		   t->seg_size, t->psh, vh);
	if (write(w->tun_fd, pkt_data(p), p->len) < 0)
		w->c.tun_out_err++;
	else
		w->c.tun_out++;
}

/*
 * Deliver a decrypted packet: TCP segments or UDP datagrams that
 * continue the pending train are appended to it (the train lives in
 * this batch's buffers, so rx_socket flushes it before they are
 * reused), anything else goes out on its own.
 */
static void tun_deliver(struct worker *w, struct pkt *p)
{
	struct gro_train *t = &w->gro;
	struct gro_seg s;
	uint8_t *tail;

	if (!w->dp->vnet) {
		tun_write(w, p);
		return;
	}
	if (!gro_eligible(pkt_data(p), p->len, &s)) {
		gro_flush(w);
		tun_write(w, p);
		return;
	}
	if (t->head && t->n < GRO_MAX_SEGS && s.plen <= t->seg_size &&
	    t->head->len + s.plen <= 65535 &&
	    gro_follows(pkt_data(t->head), &t->h, pkt_data(p), &s,
			t->next) &&
	    !pkt_put(t->head, s.plen, &tail)) {
		memcpy(tail, pkt_data(p) + s.hdr_len, s.plen);
		t->next = gro_next(&s);
		t->n++;
		if (!s.udp && (s.flags & 0x08))
			t->psh = true;
		/* a short segment or PSH ends the train */
		if (s.plen < t->seg_size || t->psh)
			gro_flush(w);
		return;
	}
	gro_flush(w);
	t->head = p;
	t->h = s;
	t->seg_size = s.plen;
	t->next = gro_next(&s);
	t->n = 1;
	t->psh = !s.udp && (s.flags & 0x08);
	if (t->psh)
		gro_flush(w);
}

static void rx_packet(struct worker *w, enum dp_sock_kind k, struct pkt *p,
		      const struct ip_addr *src, uint16_t sport,
		      const struct ip_addr *dst, uint8_t hlim)
{
	struct demux_info d;
	struct ipsec_sa *sa;
	char ab[ADDR_STRLEN];
	uint32_t held;
	int r;

	switch (dp_rx_classify(k, p, src, sport, dst, w->dp->socks.port,
			       hlim)) {
	case RX_IKE:
		/* RFC 3948 §2.2: IKE on 4500, after the 4-byte marker. */
		w->c.rx_ike++;
		if (w->dp->ike_cb) {
			w->dp->ike_cb(pkt_data(p) + 4, p->len - 4, src, sport,
				      dst, w->dp->socks.port,
				      w->dp->ike_arg);
			return;
		}
		log_dbg(LS_DP, "IKE message from %s:%u (%zu bytes) dropped: "
			"no IKE yet", addr_fmt(src, ab, sizeof(ab)), sport,
			p->len);
		return;
	case RX_KEEPALIVE:
		w->c.rx_keepalive++;
		return;
	case RX_BAD:
		w->c.rx_bad++;
		return;
	case RX_IPSEC:
		break;
	}
	if (ipsec_demux(pkt_data(p), p->len, &d) ||
	    (d.kind != DEMUX_ESP && d.kind != DEMUX_AH &&
	     d.kind != DEMUX_ESP_UDP)) {
		w->c.rx_bad++;
		return;
	}
	sa = sad_lookup_in(w->dp->sad, d.proto, d.spi);
	if (!sa) {
		/* RFC 4303 §3.4.2: no SA -> discard, auditable event. */
		w->c.rx_no_sa++;
		if (log_ratelimit_ok(&rl_nosa, &held))
			log_info(LS_DP, "no inbound SA for SPI 0x%08x from "
				 "%s (%u more suppressed)", d.spi,
				 addr_fmt(&d.src, ab, sizeof(ab)), held);
		return;
	}
	r = ipsec_decap(sa, p);
	ipsec_sa_put(sa);
	if (r == ERR_DROP)	/* RFC 4303 §2.6 dummy packet */
		return;
	if (r) {
		w->c.rx_decap_err++;
		if (log_ratelimit_ok(&rl_decap, &held))
			log_dbg(LS_DP, "decap SPI 0x%08x: %s (%u more)",
				d.spi, err_str(r), held);
		return;
	}
	tun_deliver(w, p);
}

/*
 * Destination address and hop limit from IP(V6)_PKTINFO/HOPLIMIT, and
 * the datagram size of a UDP_GRO train (left alone if there is none).
 */
static void rx_cmsg(struct msghdr *mh, struct ip_addr *dst, uint8_t *hlim,
		    int *gso)
{
	struct cmsghdr *cm;
	struct in_pktinfo pi4;
	struct in6_pktinfo pi6;
	int hl;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
			memcpy(gso, CMSG_DATA(cm), sizeof(*gso));
			continue;
		}
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO) {
			memcpy(&pi4, CMSG_DATA(cm), sizeof(pi4));
			addr_from_bytes(dst, &pi4.ipi_addr, 4);
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
			   cm->cmsg_type == IPV6_PKTINFO) {
			memcpy(&pi6, CMSG_DATA(cm), sizeof(pi6));
			addr_from_bytes(dst, &pi6.ipi6_addr, 16);
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
			   cm->cmsg_type == IPV6_HOPLIMIT) {
			memcpy(&hl, CMSG_DATA(cm), sizeof(hl));
			*hlim = (uint8_t)hl;
		}
	}
}

/* Source, destination and hop limit of received message i. */
static bool rx_addrs(struct worker *w, unsigned i, enum dp_sock_kind k,
		     struct ip_addr *src, uint16_t *sport,
		     struct ip_addr *dst, uint8_t *hlim, int *gso)
{
	memset(dst, 0, sizeof(*dst));
	*hlim = 64;
	*sport = 0;
	if (addr_from_sockaddr(src, sport, (struct sockaddr *)&w->from[i],
			       w->rmm[i].msg_hdr.msg_namelen))
		return false;
	rx_cmsg(&w->rmm[i].msg_hdr, dst, hlim, gso);
	return k == DS_ESP4 || k == DS_AH4 || dst->af == src->af;
}

static void rx_prepare(struct worker *w, unsigned i, uint8_t *buf)
{
	w->riov[i].iov_base = buf;
	w->riov[i].iov_len = PKT_MAX_DATA;
	memset(&w->rmm[i], 0, sizeof(w->rmm[i]));
	w->rmm[i].msg_hdr.msg_name = &w->from[i];
	w->rmm[i].msg_hdr.msg_namelen = sizeof(w->from[i]);
	w->rmm[i].msg_hdr.msg_iov = &w->riov[i];
	w->rmm[i].msg_hdr.msg_iovlen = 1;
	w->rmm[i].msg_hdr.msg_control = w->ctrl[i];
	w->rmm[i].msg_hdr.msg_controllen = CTRL_LEN;
}

/*
 * A UDP socket with UDP_GRO, read dry: each message may be a train of
 * datagrams of gso bytes (the last may be shorter).  Each datagram is
 * copied into a batch slot of its own, with the headroom the outer
 * headers and decapsulation need; the copy is small next to the system
 * calls and the pass through the kernel it saves.
 */
static void rx_socket_gro(struct worker *w, enum dp_sock_kind k, int fd)
{
	struct ip_addr src, dst;
	struct pkt *p;
	size_t len, off, l;
	uint16_t sport;
	uint8_t hlim;
	unsigned slot = 0;
	int n, i, gso;

	do {
		for (i = 0; i < GRO_RX_BUFS; i++)
			rx_prepare(w, (unsigned)i, w->gro_buf[i]);
		n = recvmmsg(fd, w->rmm, GRO_RX_BUFS, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			len = w->rmm[i].msg_len;
			gso = 0;
			if ((w->rmm[i].msg_hdr.msg_flags & MSG_TRUNC) ||
			    !rx_addrs(w, (unsigned)i, k, &src, &sport, &dst,
				      &hlim, &gso) || !len) {
				w->c.rx++;
				w->c.rx_bad++;
				continue;
			}
			if (gso <= 0 || (size_t)gso > len)
				gso = (int)len;
			for (off = 0; off < len; off += l) {
				l = len - off < (size_t)gso ? len - off :
							      (size_t)gso;
				/* The train may sit in any slot: write it
				 * before the slots are reused. */
				if (slot == DP_BATCH) {
					gro_flush(w);
					slot = 0;
				}
				p = &w->pkts[slot];
				pkt_init(p, w->slot[slot], PKT_BUF_SIZE,
					 PKT_HEADROOM);
				slot++;
				memcpy(pkt_data(p), w->gro_buf[i] + off, l);
				p->len = l;
				w->c.rx++;
				rx_packet(w, k, p, &src, sport, &dst, hlim);
			}
		}
	} while (n == GRO_RX_BUFS);
	gro_flush(w);
}

/* Read one socket dry, a batch at a time. */
static void rx_socket(struct worker *w, enum dp_sock_kind k, int fd)
{
	struct ip_addr src, dst;
	struct pkt *p;
	uint16_t sport;
	uint8_t hlim;
	int n, i, gso;

	if (w->dp->socks.gro[k] && w->gro_buf[0]) {
		rx_socket_gro(w, k, fd);
		return;
	}
	do {
		for (i = 0; i < DP_BATCH; i++) {
			p = &w->pkts[i];
			pkt_init(p, w->slot[i], PKT_BUF_SIZE, PKT_HEADROOM);
			rx_prepare(w, (unsigned)i, pkt_data(p));
		}
		n = recvmmsg(fd, w->rmm, DP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			p = &w->pkts[i];
			p->len = w->rmm[i].msg_len;
			w->c.rx++;
			if ((w->rmm[i].msg_hdr.msg_flags & MSG_TRUNC) ||
			    !rx_addrs(w, (unsigned)i, k, &src, &sport, &dst,
				      &hlim, &gso)) {
				w->c.rx_bad++;
				continue;
			}
			rx_packet(w, k, p, &src, sport, &dst, hlim);
		}
		gro_flush(w);
	} while (n == DP_BATCH);
}

static void *net_worker(void *arg)
{
	static const enum dp_sock_kind kinds[] = {
		DS_ESP4, DS_AH4, DS_ESP6, DS_AH6, DS_UDP4, DS_UDP6,
	};
	struct worker *w = arg;
	struct pollfd pfd[8];
	enum dp_sock_kind pk[8];
	unsigned i, n = 0;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (w->dp->socks.fd[kinds[i]] < 0)
			continue;
		pfd[n].fd = w->dp->socks.fd[kinds[i]];
		pfd[n].events = POLLIN;
		pk[n++] = kinds[i];
	}
	pfd[n].fd = w->dp->stop_fd;
	pfd[n].events = POLLIN;
	while (!atomic_load(&w->dp->stop)) {
		if (poll(pfd, n + 1, -1) < 0 && errno != EINTR)
			break;
		if (atomic_load(&w->dp->stop))
			break;
		for (i = 0; i < n; i++)
			if (pfd[i].revents & POLLIN)
				rx_socket(w, pk[i], pfd[i].fd);
	}
	return NULL;
}

/* ---- lifecycle ---- */

int worker_new(struct dp *dp, enum worker_role role, unsigned idx,
	       struct worker **out)
{
	struct worker *w;
	unsigned i;

	w = calloc(1, sizeof(*w));
	if (!w)
		return ERR_NOMEM;
	w->dp = dp;
	w->role = role;
	w->idx = idx;
	w->tun_fd = dp->tun_fd[role == WORKER_TUN ? idx : 0];
	for (i = 0; i < DP_BATCH; i++) {
		w->slot[i] = malloc(PKT_BUF_SIZE);
		if (!w->slot[i])
			goto fail;
	}
	w->spare = malloc(PKT_BUF_SIZE);
	if (!w->spare)
		goto fail;
	if (role == WORKER_NET &&
	    (dp->socks.gro[DS_UDP4] || dp->socks.gro[DS_UDP6])) {
		for (i = 0; i < GRO_RX_BUFS; i++) {
			w->gro_buf[i] = malloc(PKT_MAX_DATA);
			if (!w->gro_buf[i])
				goto fail;
		}
	}
	if (role == WORKER_TUN) {
		for (i = 0; i < DP_ACQ_QUEUE; i++) {
			w->acq[i].mem = malloc(PKT_BUF_SIZE);
			if (!w->acq[i].mem)
				goto fail;
		}
	}
	*out = w;
	return 0;
fail:
	worker_free(w);
	return ERR_NOMEM;
}

int worker_start(struct worker *w)
{
	char name[16];
	int r;

	r = pthread_create(&w->th, NULL,
			   w->role == WORKER_TUN ? tun_worker : net_worker, w);
	if (r) {
		log_err(LS_DP, "pthread_create: %s", strerror(r));
		return ERR_IO;
	}
	w->started = true;
	/* For top -H and perf: which thread is which. */
	snprintf(name, sizeof(name), "dp-%s%u",
		 w->role == WORKER_TUN ? "tun" : "net", w->idx);
	pthread_setname_np(w->th, name);
	return 0;
}

void worker_join(struct worker *w)
{
	if (w && w->started) {
		pthread_join(w->th, NULL);
		w->started = false;
	}
}

void worker_free(struct worker *w)
{
	unsigned i;

	if (!w)
		return;
	worker_join(w);
	for (i = 0; i < DP_ACQ_QUEUE; i++)
		free(w->acq[i].mem);
	for (i = 0; i < DP_BATCH; i++)
		free(w->slot[i]);
	for (i = 0; i < GRO_RX_BUFS; i++)
		free(w->gro_buf[i]);
	free(w->spare);
	free(w);
}

const struct dp_counters *worker_counters(const struct worker *w)
{
	return &w->c;
}

enum worker_role worker_role(const struct worker *w)
{
	return w->role;
}
