/* SPDX-License-Identifier: MIT */
/*
 * Proposal strings, SA payload conversion and selection; see proposal.h.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "ike/proposal.h"

#define KEYWORD_MAX 64
#define TEXT_MAX 512

/* Append to buf at *pos; output is truncated, never overrun. */
static void sappend(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void sappend(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!buf || len == 0 || *pos >= len - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*pos += (size_t)n;
	if (*pos > len - 1)
		*pos = len - 1;
}

static void set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* "valid: encryption aes128gcm16 ...; integrity ...; ..." */
static void list_valid(char *err, size_t len, size_t *pos, uint8_t protocol)
{
	const struct encr_alg *e;
	const struct integ_alg *ia;
	const struct prf_alg *pa;
	const struct ke_alg *ka;
	size_t i;

	sappend(err, len, pos, "; valid: encryption");
	for (i = 0; (e = encr_at(i)); i++) {
		if (protocol == IKEV2_PROTO_IKE &&
		    (e->kind == ENCR_KIND_GMAC || e->kind == ENCR_KIND_NULL))
			continue;
		sappend(err, len, pos, " %s", e->name);
	}
	sappend(err, len, pos, "; integrity");
	for (i = 0; (ia = integ_at(i)); i++)
		sappend(err, len, pos, " %s", ia->name);
	if (protocol == IKEV2_PROTO_IKE) {
		sappend(err, len, pos, "; prf");
		for (i = 0; (pa = prf_at(i)); i++)
			sappend(err, len, pos, " %s", pa->name);
	}
	sappend(err, len, pos, "; key exchange");
	for (i = 0; (ka = ke_at(i)); i++)
		sappend(err, len, pos, " %s", ka->name);
	if (protocol == IKEV2_PROTO_ESP)
		sappend(err, len, pos, "; esn noesn");
}

/* Add p to arr[*n] unless present; ERR_LIMIT if full. */
static int add_ptr(const void **arr, uint8_t *n, const void *p)
{
	uint8_t i;

	for (i = 0; i < *n; i++)
		if (arr[i] == p)
			return 0;
	if (*n >= PROP_MAX_ALGS)
		return ERR_LIMIT;
	arr[(*n)++] = p;
	return 0;
}

static int add_esn(struct proposal *p, uint8_t v)
{
	uint8_t i;

	for (i = 0; i < p->n_esn; i++)
		if (p->esn[i] == v)
			return 0;
	p->esn[p->n_esn++] = v;
	return 0;
}

/* One keyword into p; ERR_INVAL (err set) if unknown or misplaced. */
static int parse_keyword(const char *kw, struct proposal *p, size_t idx,
			 char *err, size_t err_len)
{
	const struct encr_alg *e;
	const struct integ_alg *ia;
	const struct prf_alg *pa;
	const struct ke_alg *ka;
	bool esp = p->protocol == IKEV2_PROTO_ESP;
	size_t pos = 0;
	int r;

	if (esp && (strcmp(kw, "esn") == 0 || strcmp(kw, "noesn") == 0))
		return add_esn(p, kw[0] == 'e' ? 1 : 0);
	if ((e = encr_by_name(kw))) {
		/* RFC 5282 §1, RFC 7296 §5: IKE needs confidentiality;
		 * GMAC and NULL give none. */
		if (!esp &&
		    (e->kind == ENCR_KIND_GMAC || e->kind == ENCR_KIND_NULL)) {
			set_err(err, err_len,
				"proposal %zu: '%s' gives no confidentiality "
				"and is not allowed for IKE",
				idx, kw);
			return ERR_INVAL;
		}
		r = add_ptr((const void **)p->encr, &p->n_encr, e);
	} else if ((ia = integ_by_name(kw))) {
		r = add_ptr((const void **)p->integ, &p->n_integ, ia);
	} else if ((pa = prf_by_name(kw))) {
		if (esp) {
			set_err(err, err_len,
				"proposal %zu: '%s' is a PRF, which an ESP "
				"proposal does not take",
				idx, kw);
			return ERR_INVAL;
		}
		r = add_ptr((const void **)p->prf, &p->n_prf, pa);
	} else if ((ka = ke_by_name(kw))) {
		r = add_ptr((const void **)p->ke, &p->n_ke, ka);
	} else {
		sappend(err, err_len, &pos,
			"proposal %zu: unknown algorithm '%s'", idx, kw);
		list_valid(err, err_len, &pos, p->protocol);
		return ERR_INVAL;
	}
	if (r < 0) {
		set_err(err, err_len,
			"proposal %zu: more than %d algorithms of one type",
			idx, PROP_MAX_ALGS);
		return ERR_INVAL;
	}
	return 0;
}

/* The rules of proposal.h once all keywords are in. */
static int check_proposal(struct proposal *p, size_t idx, const char *text,
			  char *err, size_t err_len)
{
	bool aead, ike = p->protocol == IKEV2_PROTO_IKE;
	uint8_t i;
	char name[KEYWORD_MAX];
	const struct prf_alg *pa;

	if (p->n_encr == 0) {
		set_err(err, err_len,
			"proposal %zu ('%s'): no encryption algorithm", idx,
			text);
		return ERR_INVAL;
	}
	aead = p->encr[0]->aead;
	for (i = 1; i < p->n_encr; i++) {
		if (p->encr[i]->aead != aead) {
			set_err(err, err_len,
				"proposal %zu ('%s'): '%s' and '%s' mix AEAD "
				"and non-AEAD ciphers; use two proposals",
				idx, text, p->encr[0]->name, p->encr[i]->name);
			return ERR_INVAL;
		}
	}
	/* RFC 5282 §8: an AEAD cipher has no integrity transform. */
	if (aead && p->n_integ) {
		set_err(err, err_len,
			"proposal %zu ('%s'): '%s' is AEAD and takes no "
			"integrity algorithm ('%s')",
			idx, text, p->encr[0]->name, p->integ[0]->name);
		return ERR_INVAL;
	}
	if (!aead && p->n_integ == 0) {
		set_err(err, err_len,
			"proposal %zu ('%s'): '%s' needs an integrity "
			"algorithm (e.g. sha256)",
			idx, text, p->encr[0]->name);
		return ERR_INVAL;
	}
	if (!ike)
		return 0;
	if (p->n_prf == 0) {
		if (aead) {
			set_err(err, err_len,
				"proposal %zu ('%s'): an AEAD IKE proposal "
				"needs a PRF (e.g. prfsha256)",
				idx, text);
			return ERR_INVAL;
		}
		/* strongSwan's rule: the PRF follows the integrity alg. */
		for (i = 0; i < p->n_integ; i++) {
			snprintf(name, sizeof(name), "prf%s",
				 p->integ[i]->name);
			pa = prf_by_name(name);
			if (!pa) {
				set_err(err, err_len,
					"proposal %zu ('%s'): no PRF matches "
					"'%s'; name one",
					idx, text, p->integ[i]->name);
				return ERR_INVAL;
			}
			add_ptr((const void **)p->prf, &p->n_prf, pa);
		}
	}
	if (p->n_ke == 0) {
		set_err(err, err_len,
			"proposal %zu ('%s'): no key exchange group "
			"(e.g. x25519)",
			idx, text);
		return ERR_INVAL;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_one(char *text, size_t idx, struct proposal *p, char *err,
		     size_t err_len)
{
	char *kw, *save = NULL, *cur;
	char copy[TEXT_MAX];
	int r;

	snprintf(copy, sizeof(copy), "%s", text);
	if (*text == '\0') {
		set_err(err, err_len, "proposal %zu is empty", idx);
		return ERR_INVAL;
	}
	if (text[0] == '-' || text[strlen(text) - 1] == '-' ||
	    strstr(text, "--")) {
		set_err(err, err_len,
			"proposal %zu ('%s'): empty algorithm name", idx, copy);
		return ERR_INVAL;
	}
	for (cur = text; (kw = strtok_r(cur, "-", &save)); cur = NULL) {
		kw = trim(kw);
		if (*kw == '\0' || strlen(kw) >= KEYWORD_MAX) {
			set_err(err, err_len,
				"proposal %zu ('%s'): bad algorithm name", idx,
				copy);
			return ERR_INVAL;
		}
		r = parse_keyword(kw, p, idx, err, err_len);
		if (r < 0)
			return r;
	}
	return check_proposal(p, idx, copy, err, err_len);
}

int proposal_parse(const char *s, uint8_t protocol, struct proposal_list *out,
		   char *err, size_t err_len)
{
	char text[TEXT_MAX * 4];
	char *item, *save = NULL, *cur, *t, *start;
	size_t idx = 0;
	int r;

	if (err && err_len)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (protocol != IKEV2_PROTO_IKE && protocol != IKEV2_PROTO_ESP) {
		set_err(err, err_len, "proposals are for IKE or ESP only");
		return ERR_INVAL;
	}
	if (!s || strlen(s) >= sizeof(text)) {
		set_err(err, err_len, "proposal string missing or too long");
		return ERR_INVAL;
	}
	snprintf(text, sizeof(text), "%s", s);
	start = trim(text);
	if (*start == '\0') {
		set_err(err, err_len, "proposal string is empty");
		return ERR_INVAL;
	}
	/* strtok_r would skip an empty item ("a,,b"): look for those. */
	for (t = start; *t; t++) {
		if (*t == ',' && (t == start || *trim(t + 1) == ',' ||
				  *trim(t + 1) == '\0')) {
			set_err(err, err_len, "empty proposal in '%s'", s);
			return ERR_INVAL;
		}
	}
	snprintf(text, sizeof(text), "%s", s);
	for (cur = text; (item = strtok_r(cur, ",", &save)); cur = NULL) {
		idx++;
		if (out->n >= PROP_MAX) {
			set_err(err, err_len, "more than %d proposals",
				PROP_MAX);
			return ERR_INVAL;
		}
		item = trim(item);
		if (strlen(item) >= TEXT_MAX) {
			set_err(err, err_len, "proposal %zu is too long", idx);
			return ERR_INVAL;
		}
		out->p[out->n].protocol = protocol;
		r = parse_one(item, idx, &out->p[out->n], err, err_len);
		if (r < 0) {
			memset(out, 0, sizeof(*out));
			return r;
		}
		out->n++;
	}
	return 0;
}

const char *proposal_fmt(const struct proposal *p, char *buf, size_t len)
{
	size_t pos = 0, i;
	const char *sep = "";

	if (len)
		buf[0] = '\0';
	for (i = 0; i < p->n_encr; i++, sep = "-")
		sappend(buf, len, &pos, "%s%s", sep, p->encr[i]->name);
	for (i = 0; i < p->n_integ; i++, sep = "-")
		sappend(buf, len, &pos, "%s%s", sep, p->integ[i]->name);
	for (i = 0; i < p->n_prf; i++, sep = "-")
		sappend(buf, len, &pos, "%s%s", sep, p->prf[i]->name);
	for (i = 0; i < p->n_ke; i++, sep = "-")
		sappend(buf, len, &pos, "%s%s", sep, p->ke[i]->name);
	for (i = 0; i < p->n_esn; i++, sep = "-")
		sappend(buf, len, &pos, "%s%s", sep,
			p->esn[i] ? "esn" : "noesn");
	return buf;
}

const char *proposal_list_fmt(const struct proposal_list *l, char *buf,
			      size_t len)
{
	char one[TEXT_MAX];
	size_t pos = 0, i;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < l->n; i++)
		sappend(buf, len, &pos, "%s%s", i ? ", " : "",
			proposal_fmt(&l->p[i], one, sizeof(one)));
	return buf;
}

static void xform_fmt(const struct ikev2_transform *t, char *buf, size_t len)
{
	const struct encr_alg *e;
	const struct integ_alg *ia;
	const struct prf_alg *pa;
	const struct ke_alg *ka;
	const char *name = NULL;

	switch (t->type) {
	case IKEV2_TRANS_ENCR:
		e = encr_by_iana(t->id, t->key_bits);
		name = e ? e->name : NULL;
		break;
	case IKEV2_TRANS_INTEG:
		ia = integ_by_iana(t->id);
		name = ia ? ia->name : t->id == 0 ? "nointeg" : NULL;
		break;
	case IKEV2_TRANS_PRF:
		pa = prf_by_iana(t->id);
		name = pa ? pa->name : NULL;
		break;
	case IKEV2_TRANS_KE:
		ka = ke_by_iana(t->id);
		name = ka ? ka->name : t->id == 0 ? "none" : NULL;
		break;
	case IKEV2_TRANS_ESN:
		name = t->id == 1 ? "esn" : t->id == 0 ? "noesn" : NULL;
		break;
	}
	if (name)
		snprintf(buf, len, "%s", name);
	else if (t->has_key_len)
		snprintf(buf, len, "T%u_%u_%u", t->type, t->id, t->key_bits);
	else
		snprintf(buf, len, "T%u_%u", t->type, t->id);
}

const char *proposal_sa_fmt(const struct ikev2_sa *sa, char *buf, size_t len)
{
	static const char *const proto_names[] = {"?", "IKE", "AH", "ESP"};
	char one[48];
	size_t pos = 0, i, j;
	const struct ikev2_proposal *op;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < sa->n; i++) {
		op = &sa->p[i];
		sappend(buf, len, &pos, "%s%s:", i ? ", " : "",
			op->protocol < 4 ? proto_names[op->protocol] : "?");
		for (j = 0; j < op->n_transforms; j++) {
			xform_fmt(&op->t[j], one, sizeof(one));
			sappend(buf, len, &pos, "%s%s", j ? "/" : "", one);
		}
	}
	return buf;
}

static void put_xf(struct ikev2_xform_desc *t, size_t *n, uint8_t type,
		   uint16_t id, uint16_t key_bits)
{
	t[*n].type = type;
	t[*n].id = id;
	t[*n].key_bits = key_bits;
	(*n)++;
}

int proposal_to_wire(const struct proposal_list *l, const uint8_t *spi,
		     size_t spi_len, struct proposal_wire *w)
{
	const struct proposal *p;
	struct ikev2_xform_desc *t;
	size_t i, j, n;

	memset(w, 0, sizeof(*w));
	if (spi_len > IKEV2_MAX_SPI_LEN || l->n > PROP_MAX)
		return ERR_INVAL;
	for (i = 0; i < l->n; i++) {
		p = &l->p[i];
		t = w->t[i];
		n = 0;
		/* RFC 7296 §3.3: transform order is free; we use the
		 * numeric order of the types, except PRF before INTEG as
		 * most implementations send it. */
		for (j = 0; j < p->n_encr; j++)
			put_xf(t, &n, IKEV2_TRANS_ENCR, p->encr[j]->iana_id,
			       p->encr[j]->key_bits);
		for (j = 0; j < p->n_prf; j++)
			put_xf(t, &n, IKEV2_TRANS_PRF, p->prf[j]->iana_id, 0);
		for (j = 0; j < p->n_integ; j++)
			put_xf(t, &n, IKEV2_TRANS_INTEG, p->integ[j]->iana_id,
			       0);
		for (j = 0; j < p->n_ke; j++)
			put_xf(t, &n, IKEV2_TRANS_KE, p->ke[j]->iana_id, 0);
		if (p->protocol == IKEV2_PROTO_ESP) {
			/* RFC 7296 §3.3.3: ESN is mandatory for ESP. */
			if (p->n_esn == 0)
				put_xf(t, &n, IKEV2_TRANS_ESN, 0, 0);
			for (j = 0; j < p->n_esn; j++)
				put_xf(t, &n, IKEV2_TRANS_ESN, p->esn[j], 0);
		}
		w->d[i].num = (uint8_t)(i + 1);
		w->d[i].protocol = p->protocol;
		w->d[i].spi_size = (uint8_t)spi_len;
		if (spi_len)
			memcpy(w->d[i].spi, spi, spi_len);
		w->d[i].n = n;
		w->d[i].t = t;
	}
	w->n = l->n;
	return 0;
}

/* Does op offer transform (type, id, key_bits) with no unknown attrs? */
static bool offers(const struct ikev2_proposal *op, uint8_t type, uint16_t id,
		   uint16_t key_bits)
{
	size_t i;

	for (i = 0; i < op->n_transforms; i++) {
		const struct ikev2_transform *t = &op->t[i];

		/* RFC 7296 §3.3.6: a transform with an attribute we do
		 * not understand is unacceptable. */
		if (t->unknown_attrs)
			continue;
		if (t->type == type && t->id == id && t->key_bits == key_bits)
			return true;
	}
	return false;
}

static bool has_type(const struct ikev2_proposal *op, uint8_t type,
		     bool except_none)
{
	size_t i;

	for (i = 0; i < op->n_transforms; i++)
		if (op->t[i].type == type && !(except_none && op->t[i].id == 0))
			return true;
	return false;
}

/* Intersect our p with the offered op; true and *c filled on success. */
static bool match_pair(const struct proposal *p,
		       const struct ikev2_proposal *op, uint16_t ke_group,
		       bool want_ke, struct proposal_chosen *c)
{
	size_t i;
	uint8_t esn_default = 0;
	const uint8_t *esn_list = p->n_esn ? p->esn : &esn_default;
	size_t n_esn = p->n_esn ? p->n_esn : 1;

	memset(c, 0, sizeof(*c));
	if (op->protocol != p->protocol)
		return false;
	if (p->protocol == IKEV2_PROTO_ESP && op->spi_size != 4)
		return false;
	/* Transform types we do not know (RFC 9370 ADDKE...) are only
	 * acceptable when NONE is among them. */
	for (i = 0; i < op->n_transforms; i++) {
		uint8_t ty = op->t[i].type;

		if (ty > IKEV2_TRANS_ESN && !offers(op, ty, 0, 0))
			return false;
	}
	for (i = 0; i < p->n_encr && !c->encr; i++)
		if (offers(op, IKEV2_TRANS_ENCR, p->encr[i]->iana_id,
			   p->encr[i]->key_bits))
			c->encr = p->encr[i];
	if (!c->encr)
		return false;
	if (c->encr->aead) {
		/* RFC 5282 §8: INTEG absent or NONE only. */
		if (has_type(op, IKEV2_TRANS_INTEG, true))
			return false;
	} else {
		for (i = 0; i < p->n_integ && !c->integ; i++)
			if (offers(op, IKEV2_TRANS_INTEG, p->integ[i]->iana_id,
				   0))
				c->integ = p->integ[i];
		if (!c->integ)
			return false;
	}
	if (p->protocol == IKEV2_PROTO_IKE) {
		for (i = 0; i < p->n_prf && !c->prf; i++)
			if (offers(op, IKEV2_TRANS_PRF, p->prf[i]->iana_id, 0))
				c->prf = p->prf[i];
		if (!c->prf)
			return false;
	}
	if (want_ke && p->n_ke) {
		for (i = 0; i < p->n_ke && ke_group; i++)
			if (p->ke[i]->iana_id == ke_group &&
			    offers(op, IKEV2_TRANS_KE, ke_group, 0))
				c->ke = p->ke[i];
		for (i = 0; i < p->n_ke && !c->ke; i++)
			if (offers(op, IKEV2_TRANS_KE, p->ke[i]->iana_id, 0))
				c->ke = p->ke[i];
		if (!c->ke)
			return false;
	} else if (want_ke && has_type(op, IKEV2_TRANS_KE, true) &&
		   !offers(op, IKEV2_TRANS_KE, 0, 0)) {
		return false; /* peer insists on PFS we do not do */
	}
	if (p->protocol == IKEV2_PROTO_ESP &&
	    has_type(op, IKEV2_TRANS_ESN, false)) {
		bool found = false;

		for (i = 0; i < n_esn && !found; i++) {
			if (offers(op, IKEV2_TRANS_ESN, esn_list[i], 0)) {
				c->esn = esn_list[i] == 1;
				found = true;
			}
		}
		if (!found)
			return false;
	}
	c->num = op->num;
	c->protocol = op->protocol;
	c->spi_size = op->spi_size;
	memcpy(c->spi, op->spi,
	       op->spi_size <= IKEV2_MAX_SPI_LEN ? op->spi_size
						 : IKEV2_MAX_SPI_LEN);
	return true;
}

static void explain(const struct proposal_list *ours, const struct ikev2_sa *sa,
		    const char *what, char *why, size_t why_len)
{
	char peer[TEXT_MAX * 2], us[TEXT_MAX * 2];

	set_err(why, why_len, "%s: peer offered %s; we accept %s", what,
		proposal_sa_fmt(sa, peer, sizeof(peer)),
		proposal_list_fmt(ours, us, sizeof(us)));
}

int proposal_select(const struct proposal_list *ours,
		    const struct ikev2_sa *offered, uint16_t ke_group,
		    bool want_ke, struct proposal_chosen *out, char *why,
		    size_t why_len)
{
	size_t i, j;

	/* RFC 7296 §2.7: the responder picks one proposal; our order of
	 * preference decides (see proposal.h). */
	for (i = 0; i < ours->n; i++)
		for (j = 0; j < offered->n; j++)
			if (match_pair(&ours->p[i], &offered->p[j], ke_group,
				       want_ke, out))
				return 0;
	memset(out, 0, sizeof(*out));
	explain(ours, offered, "no proposal chosen", why, why_len);
	return ERR_NOTFOUND;
}

int proposal_check_reply(const struct proposal_list *ours,
			 const struct ikev2_sa *reply, bool want_ke,
			 struct proposal_chosen *out, char *why, size_t why_len)
{
	const struct ikev2_proposal *rp;
	uint8_t seen[IKEV2_TRANS_ESN + 1] = {0};
	size_t i;

	memset(out, 0, sizeof(*out));
	/* RFC 7296 §2.7: the reply holds one proposal with one transform
	 * of each type. */
	if (reply->n != 1) {
		explain(ours, reply, "reply must hold one proposal", why,
			why_len);
		return ERR_PROTO;
	}
	rp = &reply->p[0];
	for (i = 0; i < rp->n_transforms; i++) {
		uint8_t ty = rp->t[i].type;

		if (ty > IKEV2_TRANS_ESN || seen[ty]++) {
			explain(ours, reply, "reply holds an extra transform",
				why, why_len);
			return ERR_PROTO;
		}
	}
	for (i = 0; i < ours->n; i++) {
		if (!match_pair(&ours->p[i], rp, 0, want_ke, out))
			continue;
		/* Every transform in the reply must have been used. */
		if (seen[IKEV2_TRANS_KE] && !out->ke &&
		    !offers(rp, IKEV2_TRANS_KE, 0, 0))
			continue;
		if (seen[IKEV2_TRANS_INTEG] && !out->integ &&
		    !offers(rp, IKEV2_TRANS_INTEG, 0, 0))
			continue;
		if (seen[IKEV2_TRANS_PRF] && !out->prf)
			continue;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	explain(ours, reply, "reply is not one of our proposals", why, why_len);
	return ERR_PROTO;
}

void proposal_chosen_to_wire(const struct proposal_chosen *c,
			     const uint8_t *spi, size_t spi_len,
			     struct ikev2_prop_desc *d,
			     struct ikev2_xform_desc t[5])
{
	size_t n = 0;

	memset(d, 0, sizeof(*d));
	put_xf(t, &n, IKEV2_TRANS_ENCR, c->encr->iana_id, c->encr->key_bits);
	if (c->prf)
		put_xf(t, &n, IKEV2_TRANS_PRF, c->prf->iana_id, 0);
	if (c->integ)
		put_xf(t, &n, IKEV2_TRANS_INTEG, c->integ->iana_id, 0);
	if (c->ke)
		put_xf(t, &n, IKEV2_TRANS_KE, c->ke->iana_id, 0);
	if (c->protocol == IKEV2_PROTO_ESP)
		put_xf(t, &n, IKEV2_TRANS_ESN, c->esn ? 1 : 0, 0);
	d->num = c->num;
	d->protocol = c->protocol;
	if (spi_len > IKEV2_MAX_SPI_LEN)
		spi_len = IKEV2_MAX_SPI_LEN;
	d->spi_size = (uint8_t)spi_len;
	if (spi_len)
		memcpy(d->spi, spi, spi_len);
	d->n = n;
	d->t = t;
}
