/* SPDX-License-Identifier: MIT */
/*
 * SA runtime objects and the SA database (RFC 4301 §4.4.2).  See sad.h
 * for the locking rules.
 */
#include "esp/sad.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"

#define SAD_KEY_BUCKETS 4096u /* power of two */
#define SAD_REQID_BUCKETS 1024u

uint64_t ipsec_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec;
}

static int check_esp_algs(const struct sa_params *p)
{
	const struct encr_alg *e = p->encr;

	if (!e)
		return ERR_INVAL;
	if (p->enc_key_len != (size_t)e->key_len + e->salt_len)
		return ERR_INVAL;
	if (e->aead) {
		/* RFC 4303 §3.2.3: a combined mode has no separate ICV. */
		if (p->integ)
			return ERR_INVAL;
		return 0;
	}
	/* RFC 4303 §3.2.2: NULL encryption and no integrity is invalid. */
	if (e->kind == ENCR_KIND_NULL && !p->integ)
		return ERR_INVAL;
	if (p->integ && p->integ_key_len != p->integ->key_len)
		return ERR_INVAL;
	return 0;
}

static int check_ah_algs(const struct sa_params *p)
{
	/* RFC 4302: AH only authenticates; RFC 3948 is ESP only. */
	if (p->encap_sport || p->encap_dport)
		return ERR_INVAL;
	if (p->encr) {
		/* RFC 4543 §3: AH with AES-GMAC, keyed as an encr alg. */
		if (p->encr->kind != ENCR_KIND_GMAC || p->integ)
			return ERR_INVAL;
		if (p->enc_key_len !=
		    (size_t)p->encr->key_len + p->encr->salt_len)
			return ERR_INVAL;
		return 0;
	}
	if (!p->integ || p->integ_key_len != p->integ->key_len)
		return ERR_INVAL;
	return 0;
}

static void sa_destroy(struct ipsec_sa *sa)
{
	unsigned i;

	for (i = 0; i < sa->n_cs; i++) {
		encr_ctx_free(sa->cs[i].encr);
		integ_ctx_free(sa->cs[i].integ);
		pthread_mutex_destroy(&sa->cs[i].lock);
	}
	pthread_mutex_destroy(&sa->lock);
	crypto_wipe(sa, sizeof(*sa));
	free(sa);
}

/* One set of contexts; on failure nothing of it is left. */
static int sa_crypto_init(struct sa_crypto *c, const struct sa_params *p,
			  bool enc)
{
	int r = 0;

	if (pthread_mutex_init(&c->lock, NULL))
		return ERR_NOMEM;
	if (p->encr && p->encr->kind != ENCR_KIND_NULL)
		r = encr_ctx_new(p->encr, p->enc_key, p->enc_key_len, enc,
				 &c->encr);
	if (r == 0 && p->integ)
		r = integ_ctx_new(p->integ, p->integ_key, p->integ_key_len,
				  &c->integ);
	if (r) {
		encr_ctx_free(c->encr);
		c->encr = NULL;
		pthread_mutex_destroy(&c->lock);
	}
	return r;
}

int ipsec_sa_new(const struct sa_params *p, struct ipsec_sa **out)
{
	struct ipsec_sa *sa;
	bool enc = p->dir == SA_DIR_OUT;
	unsigned n;
	int r;

	*out = NULL;
	if (p->dir != SA_DIR_IN && p->dir != SA_DIR_OUT)
		return ERR_INVAL;
	if (p->mode != IPSEC_MODE_TUNNEL && p->mode != IPSEC_MODE_TRANSPORT)
		return ERR_INVAL;
	if (p->proto == IPSEC_PROTO_ESP)
		r = check_esp_algs(p);
	else if (p->proto == IPSEC_PROTO_AH)
		r = check_ah_algs(p);
	else
		r = ERR_INVAL;
	if (r)
		return r;
	if (p->replay_window > REPLAY_WINDOW_MAX)
		return ERR_INVAL;
	/* Tunnel mode needs the outer endpoints of one family. */
	if (p->mode == IPSEC_MODE_TUNNEL && p->dir == SA_DIR_OUT &&
	    (addr_len(&p->src) == 0 || p->src.af != p->dst.af))
		return ERR_INVAL;
	if ((p->encap_sport == 0) != (p->encap_dport == 0))
		return ERR_INVAL;
	sa = calloc(1, sizeof(*sa));
	if (!sa)
		return ERR_NOMEM;
	if (pthread_mutex_init(&sa->lock, NULL)) {
		free(sa);
		return ERR_NOMEM;
	}
	sa->p = *p;
	sa->refs = 1;
	sa->udp = p->encap_sport && p->encap_dport;
	n = p->dir == SA_DIR_OUT ? SA_CRYPTO_SLOTS_OUT : SA_CRYPTO_SLOTS_IN;
	for (; sa->n_cs < n; sa->n_cs++) {
		r = sa_crypto_init(&sa->cs[sa->n_cs], p, enc);
		if (r)
			goto out;
	}
	if (p->proto == IPSEC_PROTO_ESP) {
		sa->aead = p->encr->aead;
		sa->iv_len = p->encr->iv_len;
		sa->icv_len = sa->aead ? p->encr->icv_len
				       : (p->integ ? p->integ->icv_len : 0);
		/* RFC 4303 §2.4: pad to the cipher block, at least 4. */
		sa->align = p->encr->block_len > 4 ? p->encr->block_len : 4;
	} else if (p->encr) {
		/* RFC 4543 §3.1: the AH ICV field is IV(8) || tag(16). */
		sa->aead = true;
		sa->iv_len = p->encr->iv_len;
		sa->icv_len = p->encr->icv_len;
		sa->align = 4;
	} else {
		sa->icv_len = p->integ->icv_len;
		sa->align = 4;
	}
	r = replay_init(&sa->replay, p->replay_window, p->esn, 0);
	if (r)
		goto out;
	sa->stats.add_time = ipsec_now_s();
	sa->stats.use_time = 0;
	r = crypto_random(&sa->ip_id, sizeof(sa->ip_id));
out:
	/* The contexts hold the keys now; no second copy lingers. */
	crypto_wipe(sa->p.enc_key, sizeof(sa->p.enc_key));
	crypto_wipe(sa->p.integ_key, sizeof(sa->p.integ_key));
	if (r) {
		sa_destroy(sa);
		return r;
	}
	*out = sa;
	return 0;
}

struct sa_crypto *ipsec_sa_crypto_get(struct ipsec_sa *sa)
{
	unsigned start, i;
	struct sa_crypto *c;

	start = __atomic_fetch_add(&sa->cs_next, 1, __ATOMIC_RELAXED);
	for (i = 0; i < sa->n_cs; i++) {
		c = &sa->cs[(start + i) % sa->n_cs];
		if (pthread_mutex_trylock(&c->lock) == 0)
			return c;
	}
	c = &sa->cs[start % sa->n_cs];
	pthread_mutex_lock(&c->lock);
	return c;
}

void ipsec_sa_get(struct ipsec_sa *sa)
{
	__atomic_add_fetch(&sa->refs, 1, __ATOMIC_RELAXED);
}

void ipsec_sa_put(struct ipsec_sa *sa)
{
	if (!sa)
		return;
	if (__atomic_sub_fetch(&sa->refs, 1, __ATOMIC_ACQ_REL) == 0)
		sa_destroy(sa);
}

int ipsec_sa_set_replay_top(struct ipsec_sa *sa, uint64_t top)
{
	int r;

	pthread_mutex_lock(&sa->lock);
	r = replay_init(&sa->replay, sa->p.replay_window, sa->p.esn, top);
	if (r == 0)
		sa->stats.seq = top;
	pthread_mutex_unlock(&sa->lock);
	return r;
}

void ipsec_sa_set_seq_out(struct ipsec_sa *sa, uint64_t seq)
{
	pthread_mutex_lock(&sa->lock);
	sa->seq_out = seq;
	sa->stats.seq = seq;
	pthread_mutex_unlock(&sa->lock);
}

void ipsec_sa_get_stats(struct ipsec_sa *sa, struct sa_stats *out)
{
	pthread_mutex_lock(&sa->lock);
	*out = sa->stats;
	pthread_mutex_unlock(&sa->lock);
}

/* Flags of the limits in l that the counters have reached (0 = none). */
static bool limit_hit(const struct sa_lifetime *l, const struct sa_stats *st,
		      uint64_t now_s)
{
	if (l->bytes && st->bytes >= l->bytes)
		return true;
	if (l->packets && st->packets >= l->packets)
		return true;
	return l->seconds && now_s - st->add_time >= l->seconds;
}

int ipsec_sa_account(struct ipsec_sa *sa, size_t len)
{
	const struct sa_lifetime *h = &sa->p.hard;
	uint64_t now = ipsec_now_s();

	/* RFC 4301 §4.4.2.1: past the hard limit the SA must not be used;
	 * time is checked here too, so no packet depends on the poll. */
	if (sa->life_hit & SA_LIFE_HARD)
		return ERR_EXPIRED;
	if ((h->bytes && sa->stats.bytes + len > h->bytes) ||
	    (h->packets && sa->stats.packets >= h->packets) ||
	    (h->seconds && now - sa->stats.add_time >= h->seconds)) {
		ipsec_sa_mark_life(sa, SA_LIFE_HARD | SA_LIFE_SOFT);
		return ERR_EXPIRED;
	}
	sa->stats.bytes += len;
	sa->stats.packets++;
	sa->stats.use_time = now;
	if (!(sa->life_hit & SA_LIFE_SOFT) &&
	    limit_hit(&sa->p.soft, &sa->stats, now))
		ipsec_sa_mark_life(sa, SA_LIFE_SOFT);
	return 0;
}

/* Rekey hint when a 32-bit sequence space is this close to its end. */
#define SEQ_SOFT_MARGIN (1u << 24)

int ipsec_sa_tx_begin(struct ipsec_sa *sa, size_t len, struct ipsec_tx *tx)
{
	uint64_t max = sa->p.esn ? UINT64_MAX : UINT32_MAX;
	int r;

	pthread_mutex_lock(&sa->lock);
	if (sa->seq_out >= max) {
		/* The counter must not cycle: the SA is finished. */
		ipsec_sa_mark_life(sa, SA_LIFE_HARD | SA_LIFE_SOFT);
		r = ERR_EXPIRED;
		goto out;
	}
	r = ipsec_sa_account(sa, len);
	if (r)
		goto out;
	tx->seq = ++sa->seq_out;
	sa->stats.seq = tx->seq;
	if (!sa->p.esn && tx->seq >= UINT32_MAX - SEQ_SOFT_MARGIN)
		ipsec_sa_mark_life(sa, SA_LIFE_SOFT);
	tx->src = sa->p.src;
	tx->dst = sa->p.dst;
	tx->sport = sa->udp ? sa->p.encap_sport : 0;
	tx->dport = sa->udp ? sa->p.encap_dport : 0;
	tx->ttl = sa->p.ttl ? sa->p.ttl : 64;
	tx->id = sa->ip_id++;
out:
	pthread_mutex_unlock(&sa->lock);
	return r;
}

unsigned ipsec_sa_poll_life(struct ipsec_sa *sa, uint64_t now_s)
{
	unsigned fresh;

	pthread_mutex_lock(&sa->lock);
	if (limit_hit(&sa->p.soft, &sa->stats, now_s))
		ipsec_sa_mark_life(sa, SA_LIFE_SOFT);
	if (limit_hit(&sa->p.hard, &sa->stats, now_s))
		ipsec_sa_mark_life(sa, SA_LIFE_HARD | SA_LIFE_SOFT);
	fresh = sa->life_hit & ~sa->life_told;
	sa->life_told |= fresh;
	pthread_mutex_unlock(&sa->lock);
	return fresh;
}

bool ipsec_sa_is_dead(struct ipsec_sa *sa)
{
	bool dead;

	pthread_mutex_lock(&sa->lock);
	dead = sa->life_hit & SA_LIFE_HARD;
	pthread_mutex_unlock(&sa->lock);
	return dead;
}

/* ---- SAD ---- */

struct sad {
	pthread_rwlock_t lock;
	unsigned count;
	struct ipsec_sa *by_key[SAD_KEY_BUCKETS];
	struct ipsec_sa *by_reqid[SAD_REQID_BUCKETS];
};

static unsigned key_hash(enum ipsec_proto proto, uint32_t spi, enum sa_dir dir)
{
	uint32_t h = spi * 0x9e3779b1u;

	h ^= (uint32_t)proto << 1 ^ (uint32_t)dir;
	h ^= h >> 15;
	return h & (SAD_KEY_BUCKETS - 1);
}

static unsigned reqid_hash(uint32_t reqid)
{
	uint32_t h = reqid * 0x9e3779b1u;

	return (h ^ h >> 16) & (SAD_REQID_BUCKETS - 1);
}

int sad_new(struct sad **out)
{
	struct sad *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return ERR_NOMEM;
	if (pthread_rwlock_init(&s->lock, NULL)) {
		free(s);
		return ERR_NOMEM;
	}
	*out = s;
	return 0;
}

void sad_free(struct sad *s)
{
	struct ipsec_sa *sa, *next;
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < SAD_KEY_BUCKETS; i++) {
		for (sa = s->by_key[i]; sa; sa = next) {
			next = sa->next_key;
			ipsec_sa_put(sa);
		}
	}
	pthread_rwlock_destroy(&s->lock);
	free(s);
}

static struct ipsec_sa **find_key(struct sad *s, enum ipsec_proto proto,
				  uint32_t spi, enum sa_dir dir)
{
	struct ipsec_sa **pp = &s->by_key[key_hash(proto, spi, dir)];

	for (; *pp; pp = &(*pp)->next_key)
		if ((*pp)->p.spi == spi && (*pp)->p.proto == proto &&
		    (*pp)->p.dir == dir)
			return pp;
	return pp;
}

int sad_insert(struct sad *s, struct ipsec_sa *sa)
{
	struct ipsec_sa **pp;
	unsigned h;
	int r = 0;

	pthread_rwlock_wrlock(&s->lock);
	pp = find_key(s, sa->p.proto, sa->p.spi, sa->p.dir);
	if (*pp) {
		r = ERR_EXISTS;
		goto out;
	}
	ipsec_sa_get(sa);
	sa->next_key = NULL;
	*pp = sa;
	if (sa->p.dir == SA_DIR_OUT) {
		/* Newest first: a rekeyed SA takes over at once. */
		h = reqid_hash(sa->p.reqid);
		sa->next_reqid = s->by_reqid[h];
		s->by_reqid[h] = sa;
	}
	s->count++;
out:
	pthread_rwlock_unlock(&s->lock);
	return r;
}

int sad_add(struct sad *s, const struct sa_params *p)
{
	struct ipsec_sa *sa;
	int r;

	r = ipsec_sa_new(p, &sa);
	if (r) {
		log_warn(LS_ESP, "SA 0x%08x: cannot create: %s", p->spi,
			 err_str(r));
		return r;
	}
	r = sad_insert(s, sa);
	ipsec_sa_put(sa);
	return r;
}

int sad_update(struct sad *s, const struct sa_params *p)
{
	struct ipsec_sa *sa;
	int r = 0;

	pthread_rwlock_rdlock(&s->lock);
	sa = *find_key(s, p->proto, p->spi, p->dir);
	if (!sa) {
		r = ERR_NOTFOUND;
		goto out;
	}
	if (sa->p.encr != p->encr || sa->p.integ != p->integ ||
	    sa->p.mode != p->mode || sa->p.esn != p->esn ||
	    sa->p.reqid != p->reqid) {
		r = ERR_INVAL;
		goto out;
	}
	if ((p->encap_sport == 0) != (p->encap_dport == 0) ||
	    (sa->p.proto == IPSEC_PROTO_AH && p->encap_sport)) {
		r = ERR_INVAL;
		goto out;
	}
	pthread_mutex_lock(&sa->lock);
	sa->p.src = p->src;
	sa->p.dst = p->dst;
	sa->p.encap_sport = p->encap_sport;
	sa->p.encap_dport = p->encap_dport;
	sa->udp = p->encap_sport && p->encap_dport;
	sa->p.soft = p->soft;
	sa->p.hard = p->hard;
	sa->p.ttl = p->ttl;
	pthread_mutex_unlock(&sa->lock);
out:
	pthread_rwlock_unlock(&s->lock);
	return r;
}

int sad_del(struct sad *s, enum ipsec_proto proto, uint32_t spi,
	    enum sa_dir dir)
{
	struct ipsec_sa **pp, *sa;
	int r = 0;

	pthread_rwlock_wrlock(&s->lock);
	pp = find_key(s, proto, spi, dir);
	sa = *pp;
	if (!sa) {
		r = ERR_NOTFOUND;
		goto out;
	}
	*pp = sa->next_key;
	if (dir == SA_DIR_OUT) {
		pp = &s->by_reqid[reqid_hash(sa->p.reqid)];
		while (*pp && *pp != sa)
			pp = &(*pp)->next_reqid;
		if (*pp)
			*pp = sa->next_reqid;
	}
	s->count--;
	/* Workers holding a reference keep it alive until they drop it. */
	ipsec_sa_put(sa);
out:
	pthread_rwlock_unlock(&s->lock);
	return r;
}

struct ipsec_sa *sad_lookup(struct sad *s, enum ipsec_proto proto, uint32_t spi,
			    enum sa_dir dir)
{
	struct ipsec_sa *sa;

	pthread_rwlock_rdlock(&s->lock);
	sa = *find_key(s, proto, spi, dir);
	if (sa)
		ipsec_sa_get(sa);
	pthread_rwlock_unlock(&s->lock);
	return sa;
}

struct ipsec_sa *sad_lookup_out(struct sad *s, uint32_t reqid)
{
	struct ipsec_sa *sa;

	pthread_rwlock_rdlock(&s->lock);
	for (sa = s->by_reqid[reqid_hash(reqid)]; sa; sa = sa->next_reqid) {
		if (sa->p.reqid != reqid)
			continue;
		/* life_hit is read without sa->lock: a stale answer only
		 * picks the old SA once more, which then refuses. */
		if (__atomic_load_n(&sa->life_hit, __ATOMIC_RELAXED) &
		    SA_LIFE_HARD)
			continue;
		ipsec_sa_get(sa);
		break;
	}
	pthread_rwlock_unlock(&s->lock);
	return sa;
}

int sad_get_stats(struct sad *s, enum ipsec_proto proto, uint32_t spi,
		  enum sa_dir dir, struct sa_stats *out)
{
	struct ipsec_sa *sa = sad_lookup(s, proto, spi, dir);

	if (!sa)
		return ERR_NOTFOUND;
	ipsec_sa_get_stats(sa, out);
	ipsec_sa_put(sa);
	return 0;
}

void sad_foreach(struct sad *s, void (*fn)(struct ipsec_sa *sa, void *arg),
		 void *arg)
{
	struct ipsec_sa *sa;
	unsigned i;

	pthread_rwlock_rdlock(&s->lock);
	for (i = 0; i < SAD_KEY_BUCKETS; i++)
		for (sa = s->by_key[i]; sa; sa = sa->next_key)
			fn(sa, arg);
	pthread_rwlock_unlock(&s->lock);
}

unsigned sad_count(struct sad *s)
{
	unsigned n;

	pthread_rwlock_rdlock(&s->lock);
	n = s->count;
	pthread_rwlock_unlock(&s->lock);
	return n;
}
