/* SPDX-License-Identifier: MIT */
/*
 * The IKE manager (see ike.h): sockets, the IKE SA table, timers, and the
 * hand-over of Child SAs to the data plane.
 *
 * Ports.  Port 500 is ours: one UDP socket per family with SO_MARK (the
 * daemon's fwmark), so IKE is routed by the main table and never into
 * TUN, like the data plane's own sockets.  Port 4500 belongs to the data
 * plane (RFC 3948 §2.2: ESP and IKE share it, told apart by the non-ESP
 * marker).  Received IKE arrives through dp_set_ike_cb() on the network
 * worker; the callback copies it into a SOCK_DGRAM socketpair, read here
 * on the control thread.  IKE on 4500 is sent from the data plane's own
 * port-4500 socket (a second socket on the port would split the incoming
 * ESP between the two), so the NAT mapping is the same for IKE and ESP.
 *
 * Table.  A list of entries, looked up by the initiator's SPI and the
 * I flag (RFC 7296 §2.6: the SPIs identify the IKE SA); a few SAs per
 * gateway, so a linear scan is enough.
 */
#include "daemon/ike.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "config/conn.h"
#include "daemon/daemon.h"
#include "daemon/ike_impl.h"
#include "dataplane/dp_user.h"
#include "ike/cookie.h"
#include "ike/ike_sa.h"
#include "esp/sad.h"
#include "ike/keylog.h"

static struct log_ratelimit rx_rl = LOG_RATELIMIT_INIT(10, 5);

/* ---- sockets ---- */

static int open_500(int af, uint32_t mark, int *out)
{
	struct sockaddr_storage ss;
	struct ip_addr any;
	socklen_t sl;
	int fd, one = 1;

	*out = -1;
	memset(&any, 0, sizeof(any));
	any.af = (sa_family_t)af;
	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ERR_IO;
	/* Like the data plane's sockets: the fwmark rule keeps our own
	 * packets out of the routes into TUN (docs/architecture.md). */
	if ((mark &&
	     setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (af == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			       sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			       sizeof(one)) < 0)
			goto fail;
	} else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) <
		   0) {
		goto fail;
	}
	if (addr_to_sockaddr(&any, IKE_PORT, &ss, &sl) ||
	    bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto fail;
	*out = fd;
	return 0;
fail:
	close(fd);
	return ERR_IO;
}

/* Send one datagram from src:sport (IP_PKTINFO picks the source). */
static int udp_send(int fd, const struct ike_dgram_out *o)
{
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cb;
	struct sockaddr_storage ss;
	struct iovec iov = {o->p, o->len};
	struct msghdr mh;
	struct cmsghdr *cm;
	socklen_t sl;

	if (fd < 0 || addr_to_sockaddr(&o->dst, o->dport, &ss, &sl))
		return ERR_INVAL;
	memset(&mh, 0, sizeof(mh));
	memset(&cb, 0, sizeof(cb));
	mh.msg_name = &ss;
	mh.msg_namelen = sl;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (o->src.af == AF_INET) {
		struct in_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi_spec_dst, o->src.u.b, 4);
		mh.msg_control = cb.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else if (o->src.af == AF_INET6) {
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		memcpy(&pi.ipi6_addr, o->src.u.b, 16);
		mh.msg_control = cb.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	if (sendmsg(fd, &mh, 0) < 0)
		return ERR_IO;
	return 0;
}

static void send_tx(struct ike_mgr *m, struct ike_tx *tx)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10, 5);
	char ab[ADDR_STRLEN];
	uint32_t held;
	size_t i;
	int fd;

	for (i = 0; i < tx->n; i++) {
		const struct ike_dgram_out *o = &tx->d[i];

		if (o->sport == IKE_NATT_PORT)
			fd = dp_natt_fd(m->d->dp, o->dst.af);
		else
			fd = o->dst.af == AF_INET ? m->fd4 : m->fd6;
		if (udp_send(fd, o) && log_ratelimit_ok(&rl, &held))
			log_warn(LS_IKE, "cannot send IKE to %s port %u: %s",
				 addr_fmt(&o->dst, ab, sizeof(ab)), o->dport,
				 strerror(errno));
	}
	ike_tx_clear(tx);
}

/* Network worker thread: copy and queue, nothing else (dp_user.h). */
static void on_ike_4500(const uint8_t *msg, size_t len,
			const struct ip_addr *src, uint16_t sport,
			const struct ip_addr *dst, uint16_t dport, void *arg)
{
	struct ike_mgr *m = arg;
	static const uint8_t marker[4];
	struct rx_hdr h;
	struct iovec iov[3];
	struct msghdr mh;

	if (len > IKE_MSG_MAX)
		return;
	memset(&h, 0, sizeof(h));
	h.src = *src;
	h.dst = *dst;
	h.sport = sport;
	h.dport = dport;
	/* ike_sa_recv() wants the datagram as on the wire: put the
	 * non-ESP marker back (RFC 3948 §2.2). */
	iov[0] = (struct iovec){&h, sizeof(h)};
	iov[1] = (struct iovec){(void *)marker, sizeof(marker)};
	iov[2] = (struct iovec){(void *)msg, len};
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 3;
	/* A full queue drops the datagram: the peer retransmits. */
	(void)sendmsg(m->q_wr, &mh, MSG_DONTWAIT);
}

/* ---- the table ---- */

static bool ent_active(const struct ike_ent *e)
{
	return !e->dead_at && e->sa->state != IKE_S_FAILED;
}

static size_t spi_bucket(const struct ike_mgr *m, const uint8_t *spi)
{
	uint64_t x = 0;
	int i;

	for (i = 0; i < IKE_SPI_LEN; i++)
		x = x << 8 | spi[i];
	/* Fibonacci hashing of the seeded SPI: the top bits. */
	return (size_t)(((x ^ m->spi_seed) * 0x9e3779b97f4a7c15ULL) >>
			(64 - IKE_SPI_HASH_BITS));
}

/* An SPIi is set once (RFC 7296 §2.6: kept through retries) and never
 * changes: the initiator's when it sends IKE_SA_INIT, the responder's
 * from that request, a rekeyed SA's from the CREATE_CHILD_SA. */
static void ent_index(struct ike_mgr *m, struct ike_ent *e)
{
	static const uint8_t zero[IKE_SPI_LEN];
	size_t b;

	if (e->spi_hashed || !memcmp(e->sa->spi_i, zero, IKE_SPI_LEN))
		return;
	b = spi_bucket(m, e->sa->spi_i);
	e->spi_next = m->spi_tab[b];
	m->spi_tab[b] = e;
	e->spi_hashed = true;
}

void ike_mgr_ent_link(struct ike_mgr *m, struct ike_ent *e)
{
	e->next = m->ents;
	if (m->ents)
		m->ents->pprev = &e->next;
	e->pprev = &m->ents;
	m->ents = e;
	ent_index(m, e);
}

static void ent_unlink(struct ike_mgr *m, struct ike_ent *e)
{
	struct ike_ent **pp;

	if (e->pprev) {
		*e->pprev = e->next;
		if (e->next)
			e->next->pprev = e->pprev;
		e->pprev = NULL;
	}
	if (!e->spi_hashed)
		return;
	for (pp = &m->spi_tab[spi_bucket(m, e->sa->spi_i)]; *pp;
	     pp = &(*pp)->spi_next)
		if (*pp == e) {
			*pp = e->spi_next;
			break;
		}
	e->spi_hashed = false;
}

static void ent_child_down(struct ike_ent *e)
{
	ike_ent_child_down(e);
}

static void ent_free(struct ike_ent *e)
{
	if (!e)
		return;
	ent_child_down(e);
	ike_sa_free(e->sa);
	free(e);
}

static void keylog_write(struct ike_mgr *m, const char *line)
{
	size_t n = strlen(line);

	if (m->keylog_fd >= 0 && write(m->keylog_fd, line, n) != (ssize_t)n)
		log_warn(LS_IKE, "key log: write failed: %s", strerror(errno));
}

static int ent_new(struct ike_mgr *m, struct conn_cfg *c, bool initiator,
		   struct ike_ent **out)
{
	struct ike_ent *e;
	int r;

	e = calloc(1, sizeof(*e));
	if (!e)
		return ERR_NOMEM;
	r = ike_sa_new(&c->ike, initiator, NULL, NULL, &e->sa);
	if (r) {
		free(e);
		return r;
	}
	ike_sa_set_hooks(e->sa, ike_ent_child_ev, ike_ent_conn_iter, e);
	e->conn = c;
	e->m = m;
	e->created = ipsec_now_s();
	ike_mgr_ent_link(m, e);
	*out = e;
	return 0;
}

void ike_algs_fmt(const struct proposal_chosen *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s-%s-%s", c->encr ? c->encr->name : "?",
		 c->integ ? "-" : "", c->integ ? c->integ->name : "",
		 c->prf ? c->prf->name : "?", c->ke ? c->ke->name : "?");
}

/* The SA moved to a new state: timers, log lines, failure clean-up. */
static void ent_state_changed(struct ike_ent *e, uint64_t now)
{
	struct ike_sa *sa = e->sa;
	char ab[ADDR_STRLEN], alg[128];

	switch (sa->state) {
	case IKE_S_INIT_SENT:
	case IKE_S_AUTH_SENT:
		/* RFC 7296 §2.1: a new request; restart the timer. */
		e->tries = 0;
		e->rtx_at_ms = mono_ms() + IKE_RTX_FIRST_MS;
		break;
	case IKE_S_ESTABLISHED:
		e->established = now;
		ike_life_established(e, now);
		ike_life_initial_contact(e->m, e);
		ike_algs_fmt(&sa->ike, alg, sizeof(alg));
		log_info(LS_IKE,
			 "conn %s: IKE SA established with %s port "
			 "%u as %s (%s)%s",
			 e->conn->name, addr_fmt(&sa->remote, ab, sizeof(ab)),
			 sa->rport, sa->initiator ? "initiator" : "responder",
			 alg,
			 sa->nat_local || sa->nat_remote ? ", NAT detected"
							 : "");
		break;
	case IKE_S_FAILED:
		if (sa->error == IKEV2_N_AUTHENTICATION_FAILED)
			log_err(LS_IKE,
				"conn %s: authentication failed with "
				"%s: %s%s%s (check that psk or certificates, "
				"local_id and remote_id match on both sides)",
				e->conn->name,
				addr_fmt(&sa->remote, ab, sizeof(ab)),
				sa->why ? sa->why : "",
				sa->detail[0] ? ": " : "", sa->detail);
		else
			log_err(LS_IKE,
				"conn %s: IKE SA with %s failed: %s%s%s",
				e->conn->name,
				addr_fmt(&sa->remote, ab, sizeof(ab)),
				sa->why ? sa->why : "unknown reason",
				sa->detail[0] ? ": " : "", sa->detail);
		ent_child_down(e);
		e->dead_at = now + IKE_FAILED_KEEP_S;
		ike_life_setup_failed(e->m, e);
		break;
	default:
		break;
	}
}

/* Look at an SA after it processed something: key log, state, Delete. */
static void ent_check(struct ike_mgr *m, struct ike_ent *e)
{
	struct ike_sa *sa = e->sa;
	char line[KEYLOG_LINE_MAX];
	uint64_t now = ipsec_now_s();

	ent_index(m, e);
	if (!e->ike_logged && sa->sk && sa->ike.encr) {
		e->ike_logged = true;
		if (m->keylog_fd >= 0 &&
		    keylog_ikev2_line(sa->spi_i, sa->spi_r, sa->ike.encr,
				      sa->ike.integ, &sa->keys, line,
				      sizeof(line)) == 0)
			keylog_write(m, line);
	}
	if (sa->state != e->seen) {
		e->seen = sa->state;
		ent_state_changed(e, now);
	}
	/* §2.1: a new request of ours after IKE_AUTH: restart the timer. */
	if (ike_sa_req_pending(sa) && sa->next_req_id != e->rtx_req_id) {
		e->rtx_req_id = sa->next_req_id;
		e->tries = 0;
		e->rtx_at_ms = mono_ms() + IKE_RTX_FIRST_MS;
	}
	/* §2.25.2: deleted by the peer while our rekeys collided: the
	 * peer's new IKE SA takes the Child SAs. */
	if (sa->peer_deleted && sa->rk_theirs)
		ike_sa_rekey_take_theirs(sa);
	/* RFC 7296 §2.18: a new IKE SA took over (ike_life.c). */
	if (sa->rekeyed_to)
		ike_life_rekeyed(m, e);
	if (sa->peer_deleted && !e->dead_at) {
		log_info(LS_IKE, "conn %s: the peer deleted the IKE SA",
			 e->conn->name);
		ike_life_closed(m, e);
		ent_child_down(e);
		e->dead_at = now;
	}
}

/* ---- receiving ---- */

struct ike_peek {
	uint8_t spi_i[IKE_SPI_LEN], spi_r[IKE_SPI_LEN];
	uint8_t ver, exch, flags;
	uint32_t msg_id;
};

/* RFC 7296 §3.1: just the fixed header, to find the SA. */
static int peek_hdr(const uint8_t *p, size_t len, uint16_t dport,
		    struct ike_peek *h)
{
	uint8_t np;
	uint32_t marker;
	struct buf b;

	buf_init(&b, p, len);
	if (dport == IKE_NATT_PORT && (buf_get_u32(&b, &marker) || marker != 0))
		return ERR_PROTO;
	if (buf_get_bytes(&b, h->spi_i, IKE_SPI_LEN) ||
	    buf_get_bytes(&b, h->spi_r, IKE_SPI_LEN) || buf_get_u8(&b, &np) ||
	    buf_get_u8(&b, &h->ver) || buf_get_u8(&b, &h->exch) ||
	    buf_get_u8(&b, &h->flags) || buf_get_u32(&b, &h->msg_id))
		return ERR_MALFORMED;
	return 0;
}

static struct ike_ent *ent_find(struct ike_mgr *m, const struct ike_peek *h)
{
	bool from_i = h->flags & IKEV2_FLAG_INITIATOR;
	struct ike_ent *e;

	for (e = m->spi_tab[spi_bucket(m, h->spi_i)]; e; e = e->spi_next)
		if (e->sa->initiator != from_i &&
		    !memcmp(e->sa->spi_i, h->spi_i, IKE_SPI_LEN))
			return e;
	return NULL;
}

/* A [conn] that accepts a new IKE_SA_INIT from src to dst. */
static struct conn_cfg *conn_for(struct ike_mgr *m, const struct ip_addr *src,
				 const struct ip_addr *dst)
{
	struct conn_set *cs = m->d->conns;
	struct conn_cfg *c;
	size_t i;

	for (i = 0; i < cs->n; i++) {
		c = &cs->conns[i];
		if (!addr_equal(&c->ike.local_addr, dst))
			continue;
		if (c->remote_any ? c->ike.local_addr.af == src->af
				  : addr_equal(&c->ike.remote_addr, src))
			return c;
	}
	return NULL;
}

static size_t half_open(const struct ike_mgr *m)
{
	const struct ike_ent *e;
	size_t n = 0;

	for (e = m->ents; e; e = e->next)
		if (!e->sa->initiator && !e->dead_at &&
		    (e->sa->state == IKE_S_IDLE ||
		     e->sa->state == IKE_S_INIT_DONE))
			n++;
	return n;
}

__attribute__((format(printf, 2, 3))) static void rx_log(const char *what,
							 const char *fmt, ...)
{
	char msg[256];
	uint32_t held;
	va_list ap;

	if (!log_ratelimit_ok(&rx_rl, &held))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info(LS_IKE, "%s: %s (%u similar lines suppressed before)", what,
		 msg, held);
}

static void handle(struct ike_mgr *m, const uint8_t *p, size_t len,
		   const struct ip_addr *src, uint16_t sport,
		   const struct ip_addr *dst, uint16_t dport)
{
	static const uint8_t zero[IKE_SPI_LEN];
	char ab[ADDR_STRLEN], si[IKE_SPI_STRLEN], sr[IKE_SPI_STRLEN];
	struct ike_tx tx = {0};
	struct ike_peek h;
	struct ike_ent *e;
	struct conn_cfg *c;
	bool created = false;
	size_t n;
	int r;

	if (peek_hdr(p, len, dport, &h)) {
		rx_log("IKE datagram dropped", "from %s: too short",
		       addr_fmt(src, ab, sizeof(ab)));
		return;
	}
	/* RFC 7296 §2.5: a request of a higher major version is answered
	 * with INVALID_MAJOR_VERSION by the stateless front door. */
	if (h.ver >> 4 > IKEV2_MAJOR && !(h.flags & IKEV2_FLAG_RESPONSE)) {
		ike_init_gate(m->cookies, false, p, len, src, sport, dst, dport,
			      &tx);
		send_tx(m, &tx);
		return;
	}
	e = ent_find(m, &h);
	if (!e) {
		/* RFC 7296 §2.2: a new IKE_SA_INIT request has a zero
		 * responder SPI and message ID 0. */
		if (h.exch != IKEV2_EXCH_IKE_SA_INIT ||
		    (h.flags & IKEV2_FLAG_RESPONSE) ||
		    !(h.flags & IKEV2_FLAG_INITIATOR) || h.msg_id != 0 ||
		    memcmp(h.spi_r, zero, IKE_SPI_LEN)) {
			/* §1.4.1: the answer to a Delete is not awaited;
			 * it finds its IKE SA gone, as expected. */
			if (h.flags & IKEV2_FLAG_RESPONSE &&
			    h.exch == IKEV2_EXCH_INFORMATIONAL) {
				log_dbg(LS_IKE,
					"INFORMATIONAL response from %s for "
					"IKE SA %s, gone",
					addr_fmt(src, ab, sizeof(ab)),
					ike_spi_fmt(h.spi_i, si));
				return;
			}
			rx_log("IKE datagram dropped",
			       "from %s: no IKE SA for its SPIs (SPIi %s, "
			       "SPIr %s, exchange %u, %s %u)",
			       addr_fmt(src, ab, sizeof(ab)),
			       ike_spi_fmt(h.spi_i, si),
			       ike_spi_fmt(h.spi_r, sr), h.exch,
			       h.flags & IKEV2_FLAG_RESPONSE ? "response"
							     : "request",
			       h.msg_id);
			return;
		}
		c = conn_for(m, src, dst);
		if (!c) {
			rx_log("IKE_SA_INIT ignored",
			       "from %s: no [conn] for this pair of "
			       "addresses",
			       addr_fmt(src, ab, sizeof(ab)));
			return;
		}
		/* §2.6: from cookie_threshold half-open SAs on, a request
		 * must bring a valid COOKIE; the front door answers the
		 * others, and requests that do not parse (§2.21.1),
		 * without keeping anything. */
		n = half_open(m);
		r = ike_init_gate(m->cookies, n >= m->cookie_threshold, p, len,
				  src, sport, dst, dport, &tx);
		send_tx(m, &tx);
		if (r < 0)
			return;
		/* Even with cookies (a peer that receives at its address
		 * can return them), bound the state it can make. */
		if (n >= IKE_HALF_OPEN_MAX) {
			m->half_open_drops++;
			rx_log("IKE_SA_INIT dropped",
			       "from %s: %d half-open IKE SAs already",
			       addr_fmt(src, ab, sizeof(ab)),
			       IKE_HALF_OPEN_MAX);
			return;
		}
		if (ent_new(m, c, false, &e))
			return;
		created = true;
	}
	/* A drop is logged and counted by the SA (ike_sa.dropped). */
	if (ike_sa_recv(e->sa, p, len, src, sport, dst, dport, &tx) == 0)
		e->last_rx = ipsec_now_s(); /* for DPD (ike_life.c) */
	send_tx(m, &tx);
	if (created && e->sa->state != IKE_S_INIT_DONE) {
		/* The request did not make a half-open SA: it was
		 * answered with INVALID_KE_PAYLOAD (§1.2: no state kept),
		 * NO_PROPOSAL_CHOSEN or INVALID_SYNTAX (§2.21.1), or
		 * dropped.  Keep nothing; a retry is a new request. */
		m->init_failed++;
		/* (ike_sa_fail() logged the details, rate-limited.) */
		if (e->sa->state == IKE_S_FAILED)
			rx_log("IKE_SA_INIT refused", "conn %s from %s: %s",
			       e->conn->name, addr_fmt(src, ab, sizeof(ab)),
			       e->sa->why ? e->sa->why : "?");
		ent_unlink(m, e);
		ent_free(e);
		return;
	}
	if (created)
		log_info(LS_IKE, "conn %s: IKE_SA_INIT from %s port %u",
			 e->conn->name, addr_fmt(src, ab, sizeof(ab)), sport);
	ent_check(m, e);
}

static void read_500(struct ike_mgr *m, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cb;
	struct sockaddr_storage ss;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	struct ip_addr src, dst;
	uint16_t sport;
	ssize_t n;
	int i;

	for (i = 0; i < 32; i++) {
		iov.iov_base = m->rxbuf;
		iov.iov_len = IKE_MSG_MAX;
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &ss;
		mh.msg_namelen = sizeof(ss);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cb.b;
		mh.msg_controllen = sizeof(cb.b);
		n = recvmsg(fd, &mh, 0);
		if (n < 0)
			return;
		if (addr_from_sockaddr(&src, &sport, (struct sockaddr *)&ss,
				       mh.msg_namelen))
			continue;
		memset(&dst, 0, sizeof(dst));
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				dst.af = AF_INET;
				memcpy(dst.u.b, &pi.ipi_addr, 4);
			} else if (cm->cmsg_level == IPPROTO_IPV6 &&
				   cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				dst.af = AF_INET6;
				memcpy(dst.u.b, &pi.ipi6_addr, 16);
			}
		}
		if (!dst.af)
			continue;
		handle(m, m->rxbuf, (size_t)n, &src, sport, &dst, IKE_PORT);
	}
}

static void read_queue(struct ike_mgr *m)
{
	struct rx_hdr h;
	ssize_t n;
	int i;

	for (i = 0; i < 32; i++) {
		n = recv(m->q_rd, m->rxbuf, IKE_MSG_MAX + sizeof(h), 0);
		if (n < 0)
			return;
		if ((size_t)n < sizeof(h))
			continue;
		/* Our own record, written by on_ike_4500(). */
		memcpy(&h, m->rxbuf, sizeof(h));
		handle(m, m->rxbuf + sizeof(h), (size_t)n - sizeof(h), &h.src,
		       h.sport, &h.dst, h.dport);
	}
}

bool ike_mgr_input(struct ike_mgr *m, int fd)
{
	if (!m)
		return false;
	if (fd == m->q_rd)
		read_queue(m);
	else if (fd >= 0 && (fd == m->fd4 || fd == m->fd6))
		read_500(m, fd);
	else
		return false;
	return true;
}

/* ---- initiating, timers ---- */

/* An IKE SA that carries (or is making) a Child SA of c, or that is
 * being set up for c. */
static struct ike_ent *conn_ent(struct ike_mgr *m, const struct conn_cfg *c)
{
	struct ike_ent *e;

	for (e = m->ents; e; e = e->next)
		if (ent_active(e) && ike_sa_has_conn(e->sa, c->ike.reqid))
			return e;
	return NULL;
}

/* An IKE SA with c's peer that a Child SA of c can use (RFC 7296
 * §1.3.1): established, or being initiated by us (the request waits). */
static struct ike_ent *shared_ent(struct ike_mgr *m, const struct conn_cfg *c)
{
	struct ike_ent *e, *connecting = NULL;

	for (e = m->ents; e; e = e->next) {
		if (!ent_active(e) || e->sa->peer_deleted ||
		    !ike_conn_same_peer(e->conn, c) ||
		    !addr_equal(&e->sa->remote, &c->ike.remote_addr))
			continue;
		if (e->sa->state == IKE_S_ESTABLISHED)
			return e;
		if (e->sa->initiator && !connecting)
			connecting = e;
	}
	return connecting;
}

static int initiate_ike(struct ike_mgr *m, struct conn_cfg *c);

/* Bring c up: a Child SA over an IKE SA with the same peer if there is
 * one, else a new IKE SA. */
static int initiate(struct ike_mgr *m, struct conn_cfg *c)
{
	struct ike_tx tx = {0};
	struct ike_ent *e = shared_ent(m, c);
	int r;

	if (!e)
		return initiate_ike(m, c);
	r = ike_sa_child_create(e->sa, &c->ike, &tx);
	send_tx(m, &tx);
	if (r) {
		log_err(LS_IKE,
			"conn %s: cannot create a Child SA over the IKE SA "
			"of conn %s: %s",
			c->name, e->conn->name, err_str(r));
		return r;
	}
	log_info(LS_IKE,
		 "conn %s: creating a Child SA over the IKE SA of conn %s "
		 "(CREATE_CHILD_SA)",
		 c->name, e->conn->name);
	ent_check(m, e);
	return 0;
}

static int initiate_ike(struct ike_mgr *m, struct conn_cfg *c)
{
	struct ike_tx tx = {0};
	char ab[ADDR_STRLEN];
	struct ike_ent *e;
	int r;

	r = ent_new(m, c, true, &e);
	if (r)
		return r;
	r = ike_sa_initiate(e->sa, &tx);
	if (r) {
		ike_tx_clear(&tx);
		ent_unlink(m, e);
		ent_free(e);
		log_err(LS_IKE, "conn %s: cannot initiate: %s", c->name,
			err_str(r));
		return r;
	}
	log_info(LS_IKE, "conn %s: initiating IKE_SA_INIT to %s", c->name,
		 addr_fmt(&c->ike.remote_addr, ab, sizeof(ab)));
	send_tx(m, &tx);
	ent_check(m, e);
	return 0;
}

/* What unauthenticated IKE_SA_INIT requests caused: one line at most
 * every 10 s, and only when something happened (RFC 7296 §2.6). */
static void dos_log(struct ike_mgr *m, uint64_t now)
{
	const struct ike_gate_stats *st = ike_cookies_stats(m->cookies);
	uint64_t sum = st->cookies_sent + st->cookies_ok + st->cookies_bad +
		       st->errors_sent + st->dropped + m->half_open_drops +
		       m->init_failed;

	if (sum == m->dos_logged_sum || now < m->dos_logged_at + 10)
		return;
	m->dos_logged_sum = sum;
	m->dos_logged_at = now;
	log_info(LS_IKE,
		 "IKE_SA_INIT front door: %zu half-open IKE SAs (COOKIE "
		 "from %u, cap %d); so far %llu COOKIE answers, %llu "
		 "cookies accepted, %llu bad cookies, %llu error answers, "
		 "%llu dropped, %llu over the cap, %llu refused",
		 half_open(m), m->cookie_threshold, IKE_HALF_OPEN_MAX,
		 (unsigned long long)st->cookies_sent,
		 (unsigned long long)st->cookies_ok,
		 (unsigned long long)st->cookies_bad,
		 (unsigned long long)st->errors_sent,
		 (unsigned long long)st->dropped,
		 (unsigned long long)m->half_open_drops,
		 (unsigned long long)m->init_failed);
}

/* RFC 7296 §2.1: the wait before retransmission n (1, 2, ...): it
 * doubles from 1 s, capped at 8 s.  Deadlines are in milliseconds: with
 * whole seconds, a request sent just before a second boundary went out
 * again a few ms later, before any answer could have come. */
static uint64_t rtx_wait_ms(unsigned n)
{
	return n < 3 ? (uint64_t)IKE_RTX_FIRST_MS << n : 8000;
}

/* RFC 7296 §2.1, §2.4: our CREATE_CHILD_SA or INFORMATIONAL request is
 * retransmitted like IKE_AUTH; no answer at all means the peer is gone,
 * and the IKE SA with all its Child SAs is deleted. */
static void ent_rtx_established(struct ike_mgr *m, struct ike_ent *e,
				uint64_t now_ms)
{
	struct ike_tx tx = {0};
	char why[64];

	if (now_ms < e->rtx_at_ms)
		return;
	if (e->tries >= IKE_RTX_TRIES) {
		snprintf(why, sizeof(why),
			 "no answer after %u retransmissions of a request",
			 e->tries);
		ike_life_dead(m, e, why);
		return;
	}
	e->tries++;
	e->rtx_at_ms = now_ms + rtx_wait_ms(e->tries);
	if (ike_sa_retransmit(e->sa, &tx) == 0)
		log_dbg(LS_IKE, "conn %s: retransmission %u", e->conn->name,
			e->tries);
	send_tx(m, &tx);
}

void ike_mgr_tick(struct ike_mgr *m)
{
	struct ike_ent *e, *next;
	struct ike_tx tx = {0};
	uint64_t now = ipsec_now_s(), now_ms = mono_ms();
	char ab[ADDR_STRLEN];

	if (!m)
		return;
	for (e = m->ents; e; e = next) {
		next = e->next;
		if (e->dead_at) {
			if (now >= e->dead_at) {
				ent_unlink(m, e);
				ent_free(e);
			}
			continue;
		}
		if (!e->sa->initiator &&
		    (e->sa->state == IKE_S_IDLE ||
		     e->sa->state == IKE_S_INIT_DONE) &&
		    now - e->created > IKE_HALF_OPEN_S) {
			log_info(LS_IKE,
				 "conn %s: half-open IKE SA from %s "
				 "timed out (no IKE_AUTH)",
				 e->conn->name,
				 addr_fmt(&e->sa->remote, ab, sizeof(ab)));
			e->dead_at = now;
			continue;
		}
		ike_ent_out_wait_tick(e, now);
		/* Lifetimes, rekeys, DPD (ike_life.c). */
		if (ike_life_tick(m, e, now))
			continue;
		if (ike_sa_req_pending(e->sa)) {
			ent_rtx_established(m, e, now_ms);
			continue;
		}
		if (!e->sa->initiator ||
		    (e->sa->state != IKE_S_INIT_SENT &&
		     e->sa->state != IKE_S_AUTH_SENT) ||
		    now_ms < e->rtx_at_ms)
			continue;
		if (e->tries >= IKE_RTX_TRIES) {
			log_err(LS_IKE,
				"conn %s: no answer from %s after %u "
				"retransmissions of %s; giving up (is the "
				"peer running, and do UDP 500 and 4500 "
				"pass?)",
				e->conn->name,
				addr_fmt(&e->sa->remote, ab, sizeof(ab)),
				e->tries,
				e->sa->state == IKE_S_INIT_SENT ? "IKE_SA_INIT"
								: "IKE_AUTH");
			e->dead_at = now;
			ike_life_setup_failed(m, e);
			continue;
		}
		/* RFC 7296 §2.1: back off exponentially, capped at 8 s so
		 * that the attempt ends after about 30 s (sent at 0, 1, 3,
		 * 7, 15, 23; given up at 31). */
		e->tries++;
		e->rtx_at_ms = now_ms + rtx_wait_ms(e->tries);
		if (ike_sa_retransmit(e->sa, &tx) == 0)
			log_dbg(LS_IKE, "conn %s: retransmission %u",
				e->conn->name, e->tries);
		send_tx(m, &tx);
		/* §2.21.1: it may give up after an error notify. */
		ent_check(m, e);
	}
	ike_life_mgr_tick(m, now);
	if (ike_cookies_tick(m->cookies, now))
		log_warn(LS_IKE,
			 "cannot renew the COOKIE secret; kept the old");
	dos_log(m, now);
}

bool ike_mgr_acquire(struct ike_mgr *m, const struct dp_event *ev)
{
	struct conn_cfg *c = NULL;
	size_t i;

	if (!m || ev->reqid < CONN_REQID_BASE)
		return false;
	/* By reqid, not index: a reload keeps the reqids of kept
	 * connections (ike_reload.c).  A late acquire for a connection
	 * that a reload removed is ours too, and ignored. */
	for (i = 0; i < m->d->conns->n; i++)
		if (m->d->conns->conns[i].ike.reqid == ev->reqid)
			c = &m->d->conns->conns[i];
	if (!c)
		return true;
	/* Only start = trap initiates on traffic; others wait (the
	 * packets are held briefly, then dropped: never sent in clear). */
	if ((c->start == CONN_START_TRAP || c->trapped) && !conn_ent(m, c)) {
		/* dpd_action/close_action = trap arms it once. */
		c->trapped = false;
		initiate(m, c);
	}
	return true;
}

/* ---- set-up ---- */

/* Outbound protect policies and routes for every selector pair. */
static int install_policies(struct ike_mgr *m, struct conn_cfg *c)
{
	struct daemon *d = m->d;
	struct ike_conn *ic = &c->ike;
	struct policy_params p;
	char pb[PREFIX_STRLEN];
	uint8_t i, j;
	int r;

	for (i = 0; i < ic->n_local_ts; i++)
		for (j = 0; j < ic->n_remote_ts; j++) {
			if (ic->local_ts[i].net.addr.af !=
			    ic->remote_ts[j].net.addr.af)
				continue;
			memset(&p, 0, sizeof(p));
			/* Fixed per connection, so that a reload can
			 * remove them (ike_reload.c). */
			p.id = ike_policy_id(ic->reqid, i, j);
			p.priority = 1000;
			p.dir = SA_DIR_OUT;
			p.action = POLICY_PROTECT;
			p.src = ic->local_ts[i];
			p.dst = ic->remote_ts[j];
			p.reqid = ic->reqid;
			p.tmpl_src = ic->local_addr;
			p.tmpl_dst = ic->remote_addr;
			r = d->ops->add_policy(d->dp, &p);
			if (r) {
				log_err(LS_IKE,
					"conn %s: cannot install a "
					"policy: %s",
					c->name, err_str(r));
				return r;
			}
		}
	for (j = 0; j < ic->n_remote_ts; j++) {
		/* Transport mode: prefer our address as the source, so the
		 * packet matches the policy (RFC 4301 §4.1). */
		r = dp_route_add(d->dp, &ic->remote_ts[j].net,
				 ic->mode == IPSEC_MODE_TRANSPORT
					 ? &ic->local_addr
					 : NULL);
		if (r)
			return r;
		log_info(LS_IKE, "conn %s: route %s via %s", c->name,
			 prefix_fmt(&ic->remote_ts[j].net, pb, sizeof(pb)),
			 dp_ifname(d->dp));
	}
	return 0;
}

int ike_mgr_new(struct daemon *d, struct ike_mgr **out)
{
	struct ike_mgr *m;
	int sv[2], r;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return ERR_NOMEM;
	m->d = d;
	m->fd4 = m->fd6 = m->q_rd = m->q_wr = m->keylog_fd = -1;
	m->rxbuf = malloc(IKE_MSG_MAX + sizeof(struct rx_hdr));
	if (!m->rxbuf) {
		r = ERR_NOMEM;
		goto out;
	}
	r = open_500(AF_INET, d->cfg->d.fwmark, &m->fd4);
	if (r) {
		log_err(LS_IKE,
			"UDP port %u: %s (is another IKE daemon "
			"running?)",
			IKE_PORT, strerror(errno));
		goto out;
	}
	if (open_500(AF_INET6, d->cfg->d.fwmark, &m->fd6))
		log_warn(LS_IKE, "no IPv6 socket on UDP port %u: %s", IKE_PORT,
			 strerror(errno));
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0) {
		r = ERR_IO;
		goto out;
	}
	m->q_rd = sv[0];
	m->q_wr = sv[1];
	m->cookie_threshold = d->conns->cookie_threshold;
	r = crypto_random(&m->spi_seed, sizeof(m->spi_seed));
	if (r == 0)
		r = ike_cookies_new(ipsec_now_s(), &m->cookies);
	if (r)
		goto out;
	if (d->conns->keylog[0]) {
		m->keylog_fd =
			open(d->conns->keylog,
			     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (m->keylog_fd < 0) {
			log_err(LS_IKE, "key log %s: %s", d->conns->keylog,
				strerror(errno));
			r = ERR_IO;
			goto out;
		}
		log_warn(LS_IKE,
			 "*** KEY LOG ON: every IKE and ESP key is "
			 "written IN CLEAR to %s; anyone who can read it "
			 "can decrypt all traffic. For debugging only: "
			 "remove [daemon] keylog in production ***",
			 d->conns->keylog);
	}
	dp_set_ike_cb(d->dp, on_ike_4500, m);
	*out = m;
	return 0;
out:
	ike_mgr_free(m);
	return r;
}

int ike_mgr_start(struct ike_mgr *m, int ep)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct conn_set *cs = m->d->conns;
	int fds[3] = {m->fd4, m->fd6, m->q_rd};
	size_t i;
	int r;

	for (i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		ev.data.fd = fds[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			return ERR_IO;
	}
	for (i = 0; i < cs->n; i++) {
		r = install_policies(m, &cs->conns[i]);
		if (r)
			return r;
	}
	for (i = 0; i < cs->n; i++)
		if (cs->conns[i].start == CONN_START_ON)
			initiate(m, &cs->conns[i]);
	return 0;
}

void ike_mgr_free(struct ike_mgr *m)
{
	struct ike_tx tx = {0};
	struct ike_ent *e;

	if (!m)
		return;
	while ((e = m->ents)) {
		m->ents = e->next;
		/* RFC 7296 §1.4.1: tell the peer, so it does not keep a
		 * dead SA until its liveness check. */
		if (!e->dead_at && ike_sa_delete(e->sa, &tx) == 0)
			send_tx(m, &tx);
		ent_free(e);
	}
	if (m->fd4 >= 0)
		close(m->fd4);
	if (m->fd6 >= 0)
		close(m->fd6);
	if (m->q_rd >= 0)
		close(m->q_rd);
	if (m->q_wr >= 0)
		close(m->q_wr);
	if (m->keylog_fd >= 0)
		close(m->keylog_fd);
	ike_cookies_free(m->cookies);
	free(m->rxbuf);
	free(m);
}

/* ---- control ---- */

int ike_mgr_up(struct ike_mgr *m, const char *name, char *msg, size_t len)
{
	struct conn_cfg *c = m ? conn_find(m->d->conns, name) : NULL;
	int r;

	if (!c) {
		snprintf(msg, len, "no connection '%s'", name);
		return ERR_NOTFOUND;
	}
	if (c->remote_any) {
		snprintf(msg, len,
			 "connection '%s' has remote = %%any and "
			 "can only respond",
			 name);
		return ERR_INVAL;
	}
	if (conn_ent(m, c)) {
		snprintf(msg, len,
			 "connection '%s' is already up or "
			 "connecting",
			 name);
		return ERR_EXISTS;
	}
	r = initiate(m, c);
	if (r) {
		snprintf(msg, len, "cannot initiate '%s': %s", name,
			 err_str(r));
		return r;
	}
	snprintf(msg, len, "initiating %s", name);
	return 0;
}

int ike_mgr_down(struct ike_mgr *m, const char *name, char *msg, size_t len)
{
	struct conn_cfg *c = m ? conn_find(m->d->conns, name) : NULL;
	struct ike_tx tx = {0};
	struct ike_ent *e;
	unsigned n = 0, nc = 0;

	if (!c) {
		snprintf(msg, len, "no connection '%s'", name);
		return ERR_NOTFOUND;
	}
	for (e = m->ents; e; e = e->next) {
		if (e->dead_at ||
		    (e->conn != c && !ike_sa_has_conn(e->sa, c->ike.reqid)))
			continue;
		/* An IKE SA that other connections use stays; only c's
		 * Child SAs go (§1.4.1).  One still being set up for
		 * another connection only forgets c's queued request. */
		if (e->sa->state == IKE_S_ESTABLISHED ? ike_ent_shared(e, c)
						      : e->conn != c) {
			nc += ike_ent_delete_children(m, e, c);
			continue;
		}
		if (ike_sa_delete(e->sa, &tx) == 0)
			send_tx(m, &tx);
		ent_child_down(e);
		e->dead_at = ipsec_now_s();
		n++;
	}
	/* No dpd_action/close_action after an explicit down. */
	c->retry_at = 0;
	c->trapped = false;
	if (!n && !nc) {
		snprintf(msg, len, "connection '%s' has no IKE SA", name);
		return ERR_NOTFOUND;
	}
	log_info(LS_IKE, "conn %s: deleted by ipsecctl down", name);
	if (nc)
		snprintf(msg, len,
			 "deleting %u Child SA%s of %s (the IKE SA stays for "
			 "other connections)%s",
			 nc, nc == 1 ? "" : "s", name,
			 n ? "; deleted its other IKE SAs" : "");
	else
		snprintf(msg, len, "deleted %u IKE SA%s of %s", n,
			 n == 1 ? "" : "s", name);
	return 0;
}

/* ---- for the reload (ike_reload.c) ---- */

int ike_mgr_install_conn(struct ike_mgr *m, struct conn_cfg *c)
{
	return install_policies(m, c);
}

int ike_mgr_initiate(struct ike_mgr *m, struct conn_cfg *c)
{
	return initiate(m, c);
}

int ike_mgr_initiate_ike(struct ike_mgr *m, struct conn_cfg *c)
{
	return initiate_ike(m, c);
}

void ike_mgr_ent_drop(struct ike_mgr *m, struct ike_ent *e)
{
	struct ike_tx tx = {0};

	/* RFC 7296 §1.4.1: tell the peer (only an established SA can
	 * send a Delete; ike_sa_delete() refuses others). */
	if (!e->dead_at && ike_sa_delete(e->sa, &tx) == 0)
		send_tx(m, &tx);
	ent_unlink(m, e);
	ent_free(e);
}

/* ---- for ike_child.c ---- */

void ike_mgr_send_tx(struct ike_mgr *m, struct ike_tx *tx)
{
	send_tx(m, tx);
}

void ike_mgr_ent_check(struct ike_mgr *m, struct ike_ent *e)
{
	ent_check(m, e);
}

bool ike_ent_active(const struct ike_ent *e)
{
	return ent_active(e);
}

void ike_mgr_keylog(struct ike_mgr *m, const char *line)
{
	keylog_write(m, line);
}
