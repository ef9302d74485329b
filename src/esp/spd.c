/* SPDX-License-Identifier: MIT */
/*
 * The SPD (RFC 4301 §4.4.1): per direction a priority-sorted array
 * behind a rwlock.  See spd.h.
 */
#include "esp/spd.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

struct spd_dir {
	struct policy_params *v;
	unsigned n;
	unsigned cap;
};

struct spd {
	pthread_rwlock_t lock;
	struct spd_dir dir[2]; /* SA_DIR_IN, SA_DIR_OUT */
};

int spd_new(struct spd **out)
{
	struct spd *s = calloc(1, sizeof(*s));

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

void spd_free(struct spd *s)
{
	if (!s)
		return;
	free(s->dir[0].v);
	free(s->dir[1].v);
	pthread_rwlock_destroy(&s->lock);
	free(s);
}

static bool sel_valid(const struct ts_sel *t)
{
	if (t->port_lo > t->port_hi)
		return false;
	if (t->net.addr.af != AF_INET && t->net.addr.af != AF_INET6 &&
	    t->net.addr.af != AF_UNSPEC)
		return false;
	return t->net.len <= addr_bits(t->net.addr.af);
}

static bool dir_has_id(const struct spd_dir *d, uint32_t id)
{
	unsigned i;

	for (i = 0; i < d->n; i++)
		if (d->v[i].id == id)
			return true;
	return false;
}

int spd_add(struct spd *s, const struct policy_params *p)
{
	struct spd_dir *d;
	struct policy_params *nv;
	unsigned i, cap;
	int r = 0;

	if (p->dir != SA_DIR_IN && p->dir != SA_DIR_OUT)
		return ERR_INVAL;
	if (!sel_valid(&p->src) || !sel_valid(&p->dst))
		return ERR_INVAL;
	if (p->src.net.addr.af != AF_UNSPEC &&
	    p->dst.net.addr.af != AF_UNSPEC &&
	    p->src.net.addr.af != p->dst.net.addr.af)
		return ERR_INVAL;
	if (p->action != POLICY_PROTECT && p->action != POLICY_BYPASS &&
	    p->action != POLICY_DROP)
		return ERR_INVAL;
	d = &s->dir[p->dir];
	pthread_rwlock_wrlock(&s->lock);
	if (dir_has_id(&s->dir[0], p->id) || dir_has_id(&s->dir[1], p->id)) {
		r = ERR_EXISTS;
		goto out;
	}
	if (d->n == d->cap) {
		cap = d->cap ? d->cap * 2 : 16;
		nv = realloc(d->v, cap * sizeof(*nv));
		if (!nv) {
			r = ERR_NOMEM;
			goto out;
		}
		d->v = nv;
		d->cap = cap;
	}
	/* Stable: after every policy of the same or a lower priority. */
	for (i = d->n; i > 0 && d->v[i - 1].priority > p->priority; i--)
		;
	memmove(&d->v[i + 1], &d->v[i], (d->n - i) * sizeof(*d->v));
	d->v[i] = *p;
	d->n++;
out:
	pthread_rwlock_unlock(&s->lock);
	return r;
}

int spd_del(struct spd *s, uint32_t id)
{
	struct spd_dir *d;
	unsigned k, i;
	int r = ERR_NOTFOUND;

	pthread_rwlock_wrlock(&s->lock);
	for (k = 0; k < 2 && r; k++) {
		d = &s->dir[k];
		for (i = 0; i < d->n; i++) {
			if (d->v[i].id != id)
				continue;
			memmove(&d->v[i], &d->v[i + 1],
				(d->n - i - 1) * sizeof(*d->v));
			d->n--;
			r = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&s->lock);
	return r;
}

unsigned spd_count(struct spd *s)
{
	unsigned n;

	pthread_rwlock_rdlock(&s->lock);
	n = s->dir[0].n + s->dir[1].n;
	pthread_rwlock_unlock(&s->lock);
	return n;
}

/* An unset (AF_UNSPEC) prefix means any address of any family. */
static bool sel_match(const struct ts_sel *t, const struct ip_addr *a,
		      uint8_t proto, uint16_t port)
{
	if (t->net.addr.af != AF_UNSPEC && !prefix_contains(&t->net, a))
		return false;
	if (t->proto && t->proto != proto)
		return false;
	return port >= t->port_lo && port <= t->port_hi;
}

bool policy_match(const struct policy_params *p, const struct flow *f)
{
	return sel_match(&p->src, &f->src, f->proto, f->sport) &&
	       sel_match(&p->dst, &f->dst, f->proto, f->dport);
}

int spd_lookup(struct spd *s, enum sa_dir dir, const struct flow *f,
	       struct policy_params *out)
{
	const struct spd_dir *d;
	unsigned i;
	int r = ERR_NOTFOUND;

	if (dir != SA_DIR_IN && dir != SA_DIR_OUT)
		return ERR_INVAL;
	pthread_rwlock_rdlock(&s->lock);
	d = &s->dir[dir];
	for (i = 0; i < d->n; i++) {
		if (!policy_match(&d->v[i], f))
			continue;
		if (out)
			*out = d->v[i];
		r = 0;
		break;
	}
	pthread_rwlock_unlock(&s->lock);
	return r;
}

int spd_check_in_clear(struct spd *s, const struct flow *f)
{
	const struct spd_dir *d;
	unsigned i;
	int r = 0;

	pthread_rwlock_rdlock(&s->lock);
	d = &s->dir[SA_DIR_IN];
	for (i = 0; i < d->n; i++) {
		if (!policy_match(&d->v[i], f))
			continue;
		/* RFC 4301 §5.2: only BYPASS lets cleartext in; traffic a
		 * PROTECT policy covers must have come through an SA. */
		if (d->v[i].action != POLICY_BYPASS)
			r = ERR_DROP;
		break;
	}
	pthread_rwlock_unlock(&s->lock);
	return r;
}
