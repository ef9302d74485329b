/* SPDX-License-Identifier: MIT */
/*
 * The IKE SA object, receive dispatch, NAT detection, identities, traffic
 * selectors and the Child SA hand-over; see ike_sa.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "ike/ike_pki.h"
#include "ike/ike_sa.h"

static struct log_ratelimit drop_rl = LOG_RATELIMIT_INIT(10, 5);
static struct log_ratelimit peer_rl = LOG_RATELIMIT_INIT(20, 5);

void ike_sa_peer_log(const char *fmt, ...)
{
	char line[1400];
	uint32_t held;
	va_list ap;

	if (!log_enabled(LS_IKE, LL_INFO) || !log_ratelimit_ok(&peer_rl, &held))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (held)
		log_info(LS_IKE, "%s (%u similar lines suppressed before)",
			 line, held);
	else
		log_info(LS_IKE, "%s", line);
}

static void drop_log(struct ike_sa *sa, const char *why, int r)
{
	uint32_t held;

	sa->dropped++;
	if (log_ratelimit_ok(&drop_rl, &held))
		log_warn(LS_IKE,
			 "IKE SA: datagram dropped: %s (%s; %u similar "
			 "lines suppressed before)",
			 why, err_str(r), held);
}

void ike_tx_clear(struct ike_tx *tx)
{
	size_t i;

	for (i = 0; i < tx->n && i < IKE_TX_MAX; i++)
		free(tx->d[i].p);
	memset(tx, 0, sizeof(*tx));
}

const char *ike_state_name(enum ike_state s)
{
	switch (s) {
	case IKE_S_IDLE:
		return "idle";
	case IKE_S_INIT_SENT:
		return "init-sent";
	case IKE_S_INIT_DONE:
		return "init-done";
	case IKE_S_AUTH_SENT:
		return "auth-sent";
	case IKE_S_ESTABLISHED:
		return "established";
	case IKE_S_FAILED:
		return "failed";
	}
	return "?";
}

int ike_sa_new(const struct ike_conn *conn, bool initiator, ike_child_cb cb,
	       void *cb_arg, struct ike_sa **out)
{
	struct ike_sa *sa;

	*out = NULL;
	if (conn->ike.n == 0 || conn->esp.n == 0 ||
	    (conn->psk_len == 0 && ike_pki_uses_psk(conn->pki)) ||
	    conn->n_local_ts == 0 || conn->n_remote_ts == 0)
		return ERR_INVAL;
	sa = calloc(1, sizeof(*sa));
	if (!sa)
		return ERR_NOMEM;
	sa->conn = *conn;
	ike_pki_ref(sa->conn.pki);
	sa->initiator = initiator;
	sa->child_cb = cb;
	sa->cb_arg = cb_arg;
	sa->local = conn->local_addr;
	sa->remote = conn->remote_addr;
	sa->lport = conn->local_port ? conn->local_port : IKE_PORT;
	sa->rport = conn->remote_port ? conn->remote_port : IKE_PORT;
	*out = sa;
	return 0;
}

void ike_sa_free(struct ike_sa *sa)
{
	size_t i;

	if (!sa)
		return;
	for (i = 0; i < IKE_CHILD_SLOTS; i++)
		if (sa->child[i])
			ike_child_remove(sa, sa->child[i]);
	ke_free(sa->ke);
	ke_free(sa->rk_ke);
	ike_sa_free(sa->rekeyed_to);
	ike_sa_free(sa->rk_theirs);
	ike_sa_free(sa->rk_loser);
	ikev2_sk_free(sa->sk);
	free(sa->init_req);
	free(sa->init_resp);
	free(sa->resp_cache);
	free(sa->req_cache);
	ike_keys_wipe(&sa->keys);
	ike_pki_unref(sa->conn.pki);
	crypto_wipe(sa, sizeof(*sa));
	free(sa);
}

int ike_sa_initiate(struct ike_sa *sa, struct ike_tx *tx)
{
	if (!sa->initiator || sa->state != IKE_S_IDLE)
		return ERR_INVAL;
	return ike_init_build_request(sa, tx);
}

int ike_sa_retransmit(struct ike_sa *sa, struct ike_tx *tx)
{
	if (sa->state == IKE_S_INIT_SENT && sa->init_req)
		return ike_init_retransmit(sa, tx);
	if (sa->state == IKE_S_AUTH_SENT && sa->req_cache)
		return ike_sa_queue(sa, tx, sa->req_cache, sa->req_cache_len);
	/* A CREATE_CHILD_SA or INFORMATIONAL request of ours (§2.1). */
	if (sa->state == IKE_S_ESTABLISHED && sa->req_out && sa->req_cache)
		return ike_sa_queue(sa, tx, sa->req_cache, sa->req_cache_len);
	return ERR_NOTFOUND;
}

void ike_sa_fail(struct ike_sa *sa, uint16_t notify, const char *why)
{
	sa->state = IKE_S_FAILED;
	sa->error = notify;
	sa->why = why;
	ike_sa_peer_log("IKE SA failed: %s%s%s", why, sa->detail[0] ? ": " : "",
			sa->detail);
}

void ike_sa_hdr(const struct ike_sa *sa, struct ikev2_hdr *h, uint8_t exch,
		bool response, uint32_t id)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->spi_i, sa->spi_i, IKE_SPI_LEN);
	memcpy(h->spi_r, sa->spi_r, IKE_SPI_LEN);
	h->exchange = exch;
	/* RFC 7296 §3.1: I marks the original initiator, R a response. */
	h->flags = (uint8_t)((sa->initiator ? IKEV2_FLAG_INITIATOR : 0) |
			     (response ? IKEV2_FLAG_RESPONSE : 0));
	h->msg_id = id;
}

int ike_sa_queue(struct ike_sa *sa, struct ike_tx *tx, const uint8_t *msg,
		 size_t len)
{
	struct ike_dgram_out *d;
	size_t marker = sa->lport == IKE_NATT_PORT ? 4 : 0;

	if (tx->n >= IKE_TX_MAX)
		return ERR_LIMIT;
	d = &tx->d[tx->n];
	d->p = malloc(len + marker);
	if (!d->p)
		return ERR_NOMEM;
	/* RFC 3948 §2.2: IKE on port 4500 starts with four zero octets. */
	memset(d->p, 0, marker);
	memcpy(d->p + marker, msg, len);
	d->len = len + marker;
	d->src = sa->local;
	d->dst = sa->remote;
	d->sport = sa->lport;
	d->dport = sa->rport;
	tx->n++;
	return 0;
}

int ike_sa_cache_resp(struct ike_sa *sa, uint32_t id, const uint8_t *msg,
		      size_t len)
{
	uint8_t *copy = malloc(len);

	if (!copy)
		return ERR_NOMEM;
	memcpy(copy, msg, len);
	free(sa->resp_cache);
	sa->resp_cache = copy;
	sa->resp_cache_len = len;
	sa->resp_cache_id = id;
	sa->has_resp_cache = true;
	return 0;
}

int ike_sa_send_sk(struct ike_sa *sa, struct ike_tx *tx, uint8_t exch,
		   bool response, uint32_t id, ike_fill_fn fill, void *arg)
{
	struct ikev2_builder b;
	struct ikev2_sk_frame f;
	struct ikev2_hdr h;
	struct wbuf w;
	int r;

	r = wbuf_init(&w, 512);
	if (r < 0)
		return r;
	ike_sa_hdr(sa, &h, exch, response, id);
	r = ikev2_build_begin(&b, &w, &h);
	if (r == 0)
		r = ikev2_sk_begin(&b, ikev2_sk_iv_len(sa->sk));
	if (r == 0 && fill)
		r = fill(sa, &b, arg);
	if (r == 0)
		r = ikev2_sk_end(&b, ikev2_sk_block(sa->sk),
				 ikev2_sk_icv_len(sa->sk), &f);
	if (r == 0)
		r = ikev2_sk_seal(sa->sk, w.p, &f);
	if (r == 0 && response)
		r = ike_sa_cache_resp(sa, id, w.p, f.total);
	if (r == 0 && !response) {
		free(sa->req_cache);
		sa->req_cache = malloc(f.total);
		sa->req_cache_len = sa->req_cache ? f.total : 0;
		if (sa->req_cache)
			memcpy(sa->req_cache, w.p, f.total);
		else
			r = ERR_NOMEM;
	}
	if (r == 0)
		r = ike_sa_queue(sa, tx, w.p, f.total);
	wbuf_free(&w);
	return r;
}

/* ---- NAT detection, RFC 7296 §2.23 ---- */

int ike_natd_hash(const uint8_t spi_i[8], const uint8_t spi_r[8],
		  const struct ip_addr *a, uint16_t port, uint8_t out[20])
{
	uint8_t data[16 + 16 + 2];
	size_t n = 0, alen = addr_len(a);

	memcpy(data, spi_i, 8);
	memcpy(data + 8, spi_r, 8);
	n = 16;
	memcpy(data + n, a->u.b, alen);
	n += alen;
	be16_store(data + n, port);
	n += 2;
	/* RFC 7296 §2.23: SHA-1 is fixed by the protocol here; it
	 * identifies addresses, it does not protect anything. */
	return crypto_digest("SHA1", data, n, out, 20);
}

int ike_sa_add_natd(struct ike_sa *sa, struct ikev2_builder *b)
{
	uint8_t src[20], dst[20];
	int r;

	r = ike_natd_hash(sa->spi_i, sa->spi_r, &sa->local, sa->lport, src);
	if (r == 0)
		r = ike_natd_hash(sa->spi_i, sa->spi_r, &sa->remote, sa->rport,
				  dst);
	if (r == 0)
		r = ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0,
				     IKEV2_N_NAT_DETECTION_SOURCE_IP, src, 20);
	if (r == 0)
		r = ikev2_add_notify(b, IKEV2_PROTO_NONE, NULL, 0,
				     IKEV2_N_NAT_DETECTION_DESTINATION_IP, dst,
				     20);
	return r;
}

void ike_sa_check_natd(struct ike_sa *sa, const struct ikev2_msg *msg)
{
	struct ikev2_notify n;
	uint8_t h[20];
	size_t from = 0;
	const struct ikev2_payload *pl;
	bool any_src = false, src_ok = false;

	/* The destination hash tells whether our address was changed. */
	if (ikev2_msg_notify(msg, IKEV2_N_NAT_DETECTION_DESTINATION_IP, &n)) {
		if (ike_natd_hash(msg->hdr.spi_i, msg->hdr.spi_r, &sa->local,
				  sa->lport, h) == 0)
			sa->nat_local =
				n.len != 20 || !crypto_memeq(h, n.data, 20);
	}
	/* Any of the source hashes may match (multi-homed peer). */
	if (ike_natd_hash(msg->hdr.spi_i, msg->hdr.spi_r, &sa->remote,
			  sa->rport, h) < 0)
		return;
	while ((pl = ikev2_msg_next(msg, IKEV2_PL_NOTIFY, &from))) {
		if (ikev2_decode_notify(pl, &n) < 0 ||
		    n.type != IKEV2_N_NAT_DETECTION_SOURCE_IP)
			continue;
		any_src = true;
		if (n.len == 20 && crypto_memeq(h, n.data, 20))
			src_ok = true;
	}
	sa->nat_remote = any_src && !src_ok;
}

/* ---- identities, RFC 7296 §3.5 ---- */

void ike_sa_local_id(const struct ike_sa *sa, uint8_t *type,
		     const uint8_t **data, size_t *len)
{
	if (sa->conn.local_id.type) {
		*type = sa->conn.local_id.type;
		*data = sa->conn.local_id.data;
		*len = sa->conn.local_id.len;
		return;
	}
	*type = sa->conn.local_addr.af == AF_INET6 ? IKEV2_ID_IPV6_ADDR
						   : IKEV2_ID_IPV4_ADDR;
	*data = sa->conn.local_addr.u.b;
	*len = addr_len(&sa->conn.local_addr);
}

bool ike_sa_id_ok(const struct ike_sa *sa, const struct ikev2_id *id)
{
	const struct ike_id *want = &sa->conn.remote_id;

	if (want->type == 0)
		return true;
	return id->type == want->type && id->len == want->len &&
	       memcmp(id->data, want->data, want->len) == 0;
}

/* ---- traffic selectors, RFC 7296 §2.9, §3.13 ---- */

static bool bit_set(const struct ip_addr *a, unsigned k)
{
	size_t nb = addr_len(a);

	return a->u.b[nb - 1 - k / 8] >> (k % 8) & 1;
}

/* a with its low k bits set to 1. */
static void set_low(struct ip_addr *a, unsigned k)
{
	size_t nb = addr_len(a);
	unsigned i;

	for (i = 0; i < k; i++)
		a->u.b[nb - 1 - i / 8] |= (uint8_t)(1u << (i % 8));
}

/* a + 1; false on wrap-around. */
static bool addr_inc(struct ip_addr *a)
{
	size_t i = addr_len(a);

	while (i-- > 0)
		if (++a->u.b[i] != 0)
			return true;
	return false;
}

static void prefix_range(const struct ip_prefix *p, struct ip_addr *lo,
			 struct ip_addr *hi)
{
	*lo = p->addr;
	*hi = p->addr;
	set_low(hi, addr_bits(p->addr.af) - p->len);
}

/* Append [lo, hi] as the fewest prefixes; false if out is full. */
static bool range_to_sel(struct ip_addr lo, const struct ip_addr *hi,
			 uint8_t proto, uint16_t plo, uint16_t phi,
			 struct ts_sel *out, uint8_t *n)
{
	unsigned bits = addr_bits(lo.af), k;
	struct ip_addr end;

	for (;;) {
		for (k = 0; k < bits && !bit_set(&lo, k); k++) {
			end = lo;
			set_low(&end, k + 1);
			if (addr_cmp(&end, hi) > 0)
				break;
		}
		if (*n >= SA_MAX_TS)
			return false;
		prefix_from_addr(&out[*n].net, &lo, (uint8_t)(bits - k));
		out[*n].proto = proto;
		out[*n].port_lo = plo;
		out[*n].port_hi = phi;
		(*n)++;
		end = lo;
		set_low(&end, k);
		if (addr_cmp(&end, hi) >= 0 || !addr_inc(&end))
			return true;
		lo = end;
	}
}

int ike_ts_narrow(const struct ikev2_ts_list *proposed,
		  const struct ts_sel *conf, size_t n_conf, struct ts_sel *out,
		  uint8_t *n_out)
{
	struct ip_addr clo, chi, lo, hi;
	uint16_t plo, phi;
	uint8_t proto;
	size_t i, j;

	*n_out = 0;
	for (i = 0; i < proposed->n; i++) {
		const struct ikev2_ts *t = &proposed->ts[i];

		for (j = 0; j < n_conf; j++) {
			const struct ts_sel *c = &conf[j];

			if (t->start.af != c->net.addr.af)
				continue;
			prefix_range(&c->net, &clo, &chi);
			lo = addr_cmp(&t->start, &clo) > 0 ? t->start : clo;
			hi = addr_cmp(&t->end, &chi) < 0 ? t->end : chi;
			if (addr_cmp(&lo, &hi) > 0)
				continue;
			plo = t->start_port > c->port_lo ? t->start_port
							 : c->port_lo;
			phi = t->end_port < c->port_hi ? t->end_port
						       : c->port_hi;
			if (plo > phi)
				continue;
			if (t->ip_proto && c->proto && t->ip_proto != c->proto)
				continue;
			proto = t->ip_proto ? t->ip_proto : c->proto;
			if (!range_to_sel(lo, &hi, proto, plo, phi, out, n_out))
				return *n_out ? 0 : ERR_NOTFOUND;
		}
	}
	return *n_out ? 0 : ERR_NOTFOUND;
}

void ike_ts_to_wire(const struct ts_sel *s, size_t n, struct ikev2_ts *w)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].type = s[i].net.addr.af == AF_INET6
				    ? IKEV2_TS_IPV6_ADDR_RANGE
				    : IKEV2_TS_IPV4_ADDR_RANGE;
		w[i].ip_proto = s[i].proto;
		w[i].start_port = s[i].port_lo;
		w[i].end_port = s[i].port_hi;
		prefix_range(&s[i].net, &w[i].start, &w[i].end);
	}
}

/* ---- Child SAs: bookkeeping, keys (RFC 7296 §2.17), events ---- */

void ike_sa_set_hooks(struct ike_sa *sa, ike_child_ev_cb ev,
		      ike_conn_iter iter, void *arg)
{
	sa->ev_cb = ev;
	sa->conn_iter = iter;
	sa->hook_arg = arg;
}

const char *ike_child_state_name(enum ike_child_state s)
{
	switch (s) {
	case IKE_CHILD_QUEUED:
		return "QUEUED";
	case IKE_CHILD_CREATING:
		return "CREATING";
	case IKE_CHILD_INSTALLED:
		return "INSTALLED";
	case IKE_CHILD_REKEYING:
		return "REKEYING";
	case IKE_CHILD_REKEYED:
		return "REKEYED";
	case IKE_CHILD_DELETING:
		return "DELETING";
	}
	return "?";
}

struct ike_child *ike_sa_child_find(const struct ike_sa *sa, uint32_t spi_in)
{
	size_t i;

	for (i = 0; i < IKE_CHILD_SLOTS; i++)
		if (sa->child[i] && sa->child[i]->spi_in == spi_in)
			return sa->child[i];
	return NULL;
}

bool ike_sa_has_conn(const struct ike_sa *sa, uint32_t reqid)
{
	size_t i;

	if (sa->state != IKE_S_ESTABLISHED && sa->state != IKE_S_FAILED &&
	    sa->conn.reqid == reqid)
		return true;
	for (i = 0; i < IKE_CHILD_SLOTS; i++)
		if (sa->child[i] && sa->child[i]->reqid == reqid)
			return true;
	return false;
}

bool ike_sa_req_pending(const struct ike_sa *sa)
{
	return sa->state == IKE_S_ESTABLISHED && sa->req_out;
}

int ike_new_child_spi(const struct ike_sa *sa, uint32_t *spi)
{
	uint8_t b[4];
	int r;

	/* RFC 4303 §2.1: SPIs 1..255 are reserved; ours must also be
	 * unique among this IKE SA's Child SAs (the daemon's SAD rejects
	 * duplicates across IKE SAs). */
	do {
		r = crypto_random(b, 4);
		*spi = be32_load(b);
	} while (r == 0 && (*spi < 256 || ike_sa_child_find(sa, *spi)));
	return r;
}

struct ike_child *ike_child_alloc(struct ike_sa *sa,
				  const struct ike_conn *conn)
{
	struct ike_child *c;
	size_t i;

	for (i = 0; i < IKE_CHILD_SLOTS && sa->child[i]; i++)
		;
	if (i == IKE_CHILD_SLOTS)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (ike_new_child_spi(sa, &c->spi_in) < 0) {
		free(c);
		return NULL;
	}
	c->conn = *conn;
	/* The Child SA does not authenticate anyone. */
	crypto_wipe(c->conn.psk, sizeof(c->conn.psk));
	c->conn.psk_len = 0;
	c->reqid = conn->reqid;
	c->mode = conn->mode;
	c->state = IKE_CHILD_QUEUED;
	sa->child[i] = c;
	return c;
}

void ike_child_remove(struct ike_sa *sa, struct ike_child *c)
{
	size_t i;

	for (i = 0; i < IKE_CHILD_SLOTS; i++)
		if (sa->child[i] == c)
			sa->child[i] = NULL;
	ke_free(c->ke);
	if (c->out_pending) {
		crypto_wipe(c->out_pending, sizeof(*c->out_pending));
		free(c->out_pending);
	}
	crypto_wipe(c, sizeof(*c));
	free(c);
}

void ike_child_event(struct ike_sa *sa, enum ike_child_event ev,
		     const struct ike_child *c, const struct sa_params *in,
		     const struct sa_params *out)
{
	if (sa->ev_cb)
		sa->ev_cb(sa->hook_arg, ev, c, in, out);
	else if (ev == IKE_CHILD_UP && sa->child_cb)
		sa->child_cb(sa->cb_arg, in, out);
}

static void fill_params(struct ike_sa *sa, const struct ike_child *c,
			struct sa_params *p, enum sa_dir dir, uint32_t spi,
			const uint8_t *ek, const uint8_t *ik,
			const struct child_keys *ck)
{
	bool nat = sa->nat_local || sa->nat_remote;

	memset(p, 0, sizeof(*p));
	p->spi = spi;
	p->proto = IPSEC_PROTO_ESP;
	p->mode = c->mode;
	p->dir = dir;
	p->src = dir == SA_DIR_OUT ? sa->local : sa->remote;
	p->dst = dir == SA_DIR_OUT ? sa->remote : sa->local;
	if (nat) {
		/* RFC 7296 §2.23, RFC 3948: ESP in UDP on the IKE ports. */
		p->encap_sport = dir == SA_DIR_OUT ? sa->lport : sa->rport;
		p->encap_dport = dir == SA_DIR_OUT ? sa->rport : sa->lport;
	}
	p->encr = c->esp.encr;
	p->integ = c->esp.integ;
	memcpy(p->enc_key, ek, ck->encr_len);
	p->enc_key_len = ck->encr_len;
	memcpy(p->integ_key, ik, ck->integ_len);
	p->integ_key_len = ck->integ_len;
	p->esn = c->esp.esn;
	p->replay_window = REPLAY_WINDOW_DEFAULT;
	p->reqid = c->reqid;
	memcpy(p->ts_local, c->ts_l, c->n_l * sizeof(c->ts_l[0]));
	memcpy(p->ts_remote, c->ts_r, c->n_r * sizeof(c->ts_r[0]));
	p->n_ts_local = c->n_l;
	p->n_ts_remote = c->n_r;
}

int ike_child_keys_up(struct ike_sa *sa, struct ike_child *c, bool we_init,
		      const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		      size_t nr_len, const uint8_t *g_ir, size_t g_ir_len,
		      enum ike_child_event ev)
{
	struct child_keys ck;
	struct sa_params *in, *out;
	int r;

	/* §2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), with the
	 * nonces of the exchange that made this Child SA. */
	r = ikev2_derive_child_keys(sa->ike.prf, sa->keys.sk_d,
				    sa->keys.sk_d_len, g_ir, g_ir_len, ni,
				    ni_len, nr, nr_len, c->esp.encr,
				    c->esp.integ, &ck);
	if (r < 0)
		return r;
	in = calloc(2, sizeof(*in));
	if (!in) {
		child_keys_wipe(&ck);
		return ERR_NOMEM;
	}
	out = in + 1;
	/* §2.17: the "i" keys carry data from the initiator of this
	 * exchange (not necessarily the IKE SA's original initiator). */
	if (we_init) {
		fill_params(sa, c, in, SA_DIR_IN, c->spi_in, ck.encr_r,
			    ck.integ_r, &ck);
		fill_params(sa, c, out, SA_DIR_OUT, c->spi_out, ck.encr_i,
			    ck.integ_i, &ck);
	} else {
		fill_params(sa, c, in, SA_DIR_IN, c->spi_in, ck.encr_i,
			    ck.integ_i, &ck);
		fill_params(sa, c, out, SA_DIR_OUT, c->spi_out, ck.encr_r,
			    ck.integ_r, &ck);
	}
	child_keys_wipe(&ck);
	c->state = IKE_CHILD_INSTALLED;
	c->ours = we_init; /* the event handler may ask */
	ike_sa_peer_log("Child SA up: in SPI %08x, out SPI %08x (%s%s%s)%s",
			in->spi, out->spi, c->esp.encr->name,
			c->esp.ke ? ", PFS " : "",
			c->esp.ke ? c->esp.ke->name : "",
			c->rekeyed_from ? " (rekeyed)" : "");
	if (ev == IKE_CHILD_UP_IN) {
		/* §2.8: the outbound SA waits until the peer has its new
		 * inbound SA (it deletes the old pair then). */
		c->out_pending = malloc(sizeof(*out));
		if (c->out_pending)
			*c->out_pending = *out;
		else
			ev = IKE_CHILD_UP;
	}
	c->out_installed = ev == IKE_CHILD_UP;
	ike_child_event(sa, ev, c, in, ev == IKE_CHILD_UP ? out : NULL);
	crypto_wipe(in, 2 * sizeof(*in));
	free(in);
	return 0;
}

int ike_sa_child_up(struct ike_sa *sa, const struct ike_conn *conn,
		    const struct proposal_chosen *esp, uint32_t peer_spi,
		    const struct ts_sel *ts_l, uint8_t n_l,
		    const struct ts_sel *ts_r, uint8_t n_r,
		    enum ipsec_mode mode)
{
	struct ike_child *c = ike_child_alloc(sa, conn ? conn : &sa->conn);
	int r;

	if (!c)
		return ERR_NOMEM;
	/* The SPI we proposed or answered with in IKE_AUTH. */
	c->spi_in = sa->auth_spi;
	c->spi_out = peer_spi;
	c->esp = *esp;
	c->mode = mode;
	memcpy(c->ts_l, ts_l, n_l * sizeof(*ts_l));
	memcpy(c->ts_r, ts_r, n_r * sizeof(*ts_r));
	c->n_l = n_l;
	c->n_r = n_r;
	/* §2.17: the IKE_AUTH Child SA uses the IKE_SA_INIT nonces. */
	r = ike_child_keys_up(sa, c, sa->initiator, sa->ni, sa->ni_len, sa->nr,
			      sa->nr_len, NULL, 0, IKE_CHILD_UP);
	if (r < 0)
		ike_child_remove(sa, c);
	return r;
}

/* ---- our requests after IKE_AUTH: one at a time (§2.3) ---- */

int ike_sa_enqueue(struct ike_sa *sa, uint8_t kind, uint32_t spi, bool front)
{
	if (sa->q_n >= IKE_QUEUE_MAX)
		return ERR_LIMIT;
	if (front) {
		memmove(sa->q_kind + 1, sa->q_kind, sa->q_n);
		memmove(sa->q_spi + 1, sa->q_spi, sa->q_n * sizeof(uint32_t));
		sa->q_kind[0] = kind;
		sa->q_spi[0] = spi;
	} else {
		sa->q_kind[sa->q_n] = kind;
		sa->q_spi[sa->q_n] = spi;
	}
	sa->q_n++;
	return 0;
}

int ike_sa_send_req(struct ike_sa *sa, struct ike_tx *tx, uint8_t exch,
		    uint8_t kind, uint32_t spi,
		    int (*fill)(struct ike_sa *, struct ikev2_builder *,
				void *),
		    void *arg)
{
	int r;

	r = ike_sa_send_sk(sa, tx, exch, false, sa->next_req_id, fill, arg);
	if (r < 0)
		return r;
	sa->next_req_id++;
	sa->req_out = true;
	sa->req_exch = exch;
	sa->cur_kind = kind;
	sa->cur_spi = spi;
	return 0;
}

int ike_sa_kick(struct ike_sa *sa, struct ike_tx *tx)
{
	uint8_t kind;
	uint32_t spi;
	int r = 0;

	/* Each queued request is sent or dropped; one that cannot be sent
	 * (its Child SA went away meanwhile) lets the next one go. */
	while (sa->state == IKE_S_ESTABLISHED && !sa->req_out && sa->q_n &&
	       tx->n < IKE_TX_MAX) {
		kind = sa->q_kind[0];
		spi = sa->q_spi[0];
		sa->q_n--;
		memmove(sa->q_kind, sa->q_kind + 1, sa->q_n);
		memmove(sa->q_spi, sa->q_spi + 1, sa->q_n * sizeof(uint32_t));
		if (kind == IKE_REQ_NEW || kind == IKE_REQ_REKEY)
			r = ike_child_send_request(sa, kind, spi, tx);
		else if (kind == IKE_REQ_REKEY_IKE)
			r = sa->rekeyed_to ? 0
					   : ike_rekey_send_request(sa, tx);
		else
			r = ike_info_send_request(sa, kind, spi, tx);
	}
	return r;
}

/* ---- receiving ---- */

/* Decrypt the SK payload and parse the inner chain into inner. */
static int open_sk(struct ike_sa *sa, const uint8_t *m, size_t len,
		   const struct ikev2_msg *msg, uint8_t **pt,
		   struct ikev2_msg *inner)
{
	size_t pt_len;
	uint8_t first;
	int r;

	*pt = malloc(len);
	if (!*pt)
		return ERR_NOMEM;
	r = ikev2_sk_open(sa->sk, m, len, msg, *pt, len, &pt_len, &first);
	if (r == 0)
		r = ikev2_parse_chain(*pt, pt_len, first, msg->hdr.exchange,
				      inner);
	return r;
}

struct peer_addrs {
	const struct ip_addr *src, *dst;
	uint16_t sport, dport;
};

static int recv_encrypted(struct ike_sa *sa, const uint8_t *m, size_t len,
			  const struct ikev2_msg *msg,
			  const struct peer_addrs *pa, struct ike_tx *tx)
{
	struct ikev2_msg *inner = malloc(sizeof(*inner));
	const struct ikev2_hdr *h = &msg->hdr;
	bool response = h->flags & IKEV2_FLAG_RESPONSE;
	uint8_t *pt = NULL;
	int r;

	if (!inner)
		return ERR_NOMEM;
	if (!sa->sk || msg->sk_index < 0) {
		r = ERR_PROTO;
		goto out;
	}
	/* Cheap checks first: a response must answer our outstanding
	 * request, a request must be the next or the last one (§2.3). */
	if (response) {
		if (sa->next_req_id == 0 || h->msg_id != sa->next_req_id - 1 ||
		    !((sa->state == IKE_S_AUTH_SENT &&
		       h->exchange == IKEV2_EXCH_IKE_AUTH) ||
		      (sa->req_out && h->exchange == sa->req_exch) ||
		      h->exchange == IKEV2_EXCH_INFORMATIONAL)) {
			r = ERR_PROTO;
			goto out;
		}
	} else if (h->msg_id != sa->next_peer_id &&
		   !(sa->has_resp_cache && h->msg_id == sa->resp_cache_id)) {
		r = ERR_PROTO;
		goto out;
	}
	r = open_sk(sa, m, len, msg, &pt, inner);
	if (r < 0)
		goto out;
	/* §2.23: follow the peer's address and port on authenticated
	 * requests (the NAT mapping may change, or we float to 4500). */
	if (!response) {
		sa->local = *pa->dst;
		sa->remote = *pa->src;
		sa->lport = pa->dport;
		sa->rport = pa->sport;
	}
	if (!response && sa->has_resp_cache && h->msg_id == sa->resp_cache_id &&
	    h->msg_id != sa->next_peer_id) {
		/* §2.1: a retransmitted request gets the same response. */
		r = ike_sa_queue(sa, tx, sa->resp_cache, sa->resp_cache_len);
		goto out;
	}
	if (response) {
		if (h->exchange == IKEV2_EXCH_IKE_AUTH) {
			r = ike_auth_recv_response(sa, inner, tx);
		} else if (!sa->req_out || h->exchange != sa->req_exch) {
			r = 0; /* a late copy, or AUTHENTICATION_FAILED's */
		} else {
			/* §2.3: the window opens again; the handler may
			 * send the next request itself. */
			sa->req_out = false;
			if (h->exchange == IKEV2_EXCH_CREATE_CHILD_SA)
				r = ike_child_recv_response(sa, inner, tx);
			else
				r = ike_info_recv_response(sa, inner, tx);
		}
		/* A request that cannot go out is logged and dropped
		 * there; it does not make this datagram a bad one. */
		if (r == 0)
			(void)ike_sa_kick(sa, tx);
		goto out;
	}
	if (h->exchange == IKEV2_EXCH_IKE_AUTH && sa->state == IKE_S_INIT_DONE)
		r = ike_auth_recv_request(sa, inner, tx);
	else if (h->exchange == IKEV2_EXCH_INFORMATIONAL &&
		 sa->state == IKE_S_ESTABLISHED)
		r = ike_info_recv_request(sa, inner, h->msg_id, tx);
	else if (h->exchange == IKEV2_EXCH_CREATE_CHILD_SA &&
		 sa->state == IKE_S_ESTABLISHED)
		r = ike_child_recv_request(sa, inner, h->msg_id, tx);
	else
		r = ERR_PROTO;
	/* Our own queued requests (e.g. made while IKE_AUTH ran). */
	if (r == 0)
		(void)ike_sa_kick(sa, tx);
out:
	if (pt)
		crypto_wipe(pt, len);
	free(pt);
	free(inner);
	return r;
}

/* Route a parsed message by exchange, direction and state.  Negative:
 * dropped, state unchanged. */
static int dispatch(struct ike_sa *sa, const uint8_t *m, size_t len,
		    const struct ikev2_msg *msg, const struct peer_addrs *pa,
		    struct ike_tx *tx)
{
	static const uint8_t zero[IKE_SPI_LEN];
	const struct ikev2_hdr *h = &msg->hdr;
	bool response = h->flags & IKEV2_FLAG_RESPONSE;
	bool from_initiator = h->flags & IKEV2_FLAG_INITIATOR;

	/* §3.1: the I flag marks the original initiator's messages. */
	if (from_initiator == sa->initiator)
		return ERR_PROTO;
	if (sa->state == IKE_S_IDLE) {
		if (sa->initiator || response ||
		    h->exchange != IKEV2_EXCH_IKE_SA_INIT || h->msg_id != 0 ||
		    memcmp(h->spi_r, zero, IKE_SPI_LEN) != 0)
			return ERR_PROTO;
		sa->local = *pa->dst;
		sa->remote = *pa->src;
		sa->lport = pa->dport;
		sa->rport = pa->sport;
		return ike_init_recv_request(sa, m, len, msg, tx);
	}
	if (memcmp(h->spi_i, sa->spi_i, IKE_SPI_LEN) != 0)
		return ERR_PROTO;
	if (h->exchange == IKEV2_EXCH_IKE_SA_INIT) {
		if (response && sa->state == IKE_S_INIT_SENT && h->msg_id == 0)
			return ike_init_recv_response(sa, m, len, msg, tx);
		/* §2.1: the same IKE_SA_INIT request again gets the same
		 * response. */
		if (!response && sa->has_resp_cache && sa->resp_cache_id == 0 &&
		    sa->init_req && sa->init_req_len == len &&
		    memcmp(sa->init_req, m, len) == 0)
			return ike_sa_queue(sa, tx, sa->resp_cache,
					    sa->resp_cache_len);
		return ERR_PROTO;
	}
	if (memcmp(h->spi_r, sa->spi_r, IKE_SPI_LEN) != 0)
		return ERR_PROTO;
	return recv_encrypted(sa, m, len, msg, pa, tx);
}

int ike_sa_recv(struct ike_sa *sa, const uint8_t *udp, size_t len,
		const struct ip_addr *src, uint16_t sport,
		const struct ip_addr *dst, uint16_t dport, struct ike_tx *tx)
{
	struct peer_addrs pa = {src, dst, sport, dport};
	struct ikev2_msg *msg;
	struct buf b;
	uint32_t marker;
	int r;

	/* RFC 3948 §2.2: on 4500, IKE follows a non-ESP marker. */
	if (dport == IKE_NATT_PORT) {
		buf_init(&b, udp, len);
		if (buf_get_u32(&b, &marker) || marker != 0) {
			drop_log(sa, "no non-ESP marker on port 4500",
				 ERR_PROTO);
			return ERR_PROTO;
		}
		udp = buf_cur(&b);
		len = buf_left(&b);
	}
	msg = malloc(sizeof(*msg));
	if (!msg)
		return ERR_NOMEM;
	r = ikev2_parse_msg(udp, len, msg);
	if (r < 0)
		drop_log(sa, msg->why ? msg->why : "does not parse", r);
	else if ((r = dispatch(sa, udp, len, msg, &pa, tx)) < 0)
		drop_log(sa, "unexpected message or bad integrity", r);
	free(msg);
	return r;
}

const char *ike_spi_fmt(const uint8_t spi[IKE_SPI_LEN],
			char buf[IKE_SPI_STRLEN])
{
	int i;

	buf[0] = '0';
	buf[1] = 'x';
	for (i = 0; i < IKE_SPI_LEN; i++)
		snprintf(buf + 2 + 2 * i, 3, "%02x", spi[i]);
	return buf;
}

int ike_nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
		  size_t blen)
{
	int d = memcmp(a, b, alen < blen ? alen : blen);

	if (d)
		return d;
	return alen < blen ? -1 : alen > blen;
}
