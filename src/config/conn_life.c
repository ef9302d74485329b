/* SPDX-License-Identifier: MIT */
/* Lifetimes, rekeying and liveness of a [conn] (conn_life.h). */
#include "config/conn_life.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/log.h"
#include "config/value.h"
#include "crypto/crypto.h"

static void dur(struct ini_section *s, const char *key, uint64_t dflt,
		uint64_t min, const char *title, uint64_t *out, int *errs)
{
	struct ini_kv *kv = ini_get_kv(s, key);
	int r;

	*out = dflt;
	r = ini_get_duration(s, key, out);
	if (r == ERR_NOTFOUND) {
		*out = dflt;
		return;
	}
	if (r) {
		(*errs)++;
		return;
	}
	if (*out && *out < min) {
		ini_kv_err(s, kv, title, errs, "%s is too short (at least %llu s)",
			   kv ? kv->value : "?", (unsigned long long)min);
	}
}

static void action(struct ini_section *s, const char *key,
		   enum conn_action dflt, const char *title,
		   enum conn_action *out, int *errs)
{
	struct ini_kv *kv = ini_get_kv(s, key);

	*out = dflt;
	if (!kv)
		return;
	if (!strcasecmp(kv->value, "clear") || !strcasecmp(kv->value, "none"))
		*out = CONN_ACT_CLEAR;
	else if (!strcasecmp(kv->value, "restart"))
		*out = CONN_ACT_RESTART;
	else if (!strcasecmp(kv->value, "trap"))
		*out = CONN_ACT_TRAP;
	else {
		ini_kv_err(s, kv, title, errs,
			   "'%s' is not valid (use clear | restart | trap; "
			   "none = clear)", kv->value);
	}
}

void conn_life_parse(struct ini_section *s, const char *title, int start,
		     struct conn_life *l, int *errs)
{
	struct ini_kv *kv;
	uint64_t v;
	int r;

	memset(l, 0, sizeof(*l));
	/* Below ~10 s a rekey could not finish before the hard limit
	 * (one exchange may take a few retransmissions, RFC 7296 §2.1). */
	dur(s, "ike_lifetime", CONN_IKE_LIFETIME_S, 10, title,
	    &l->ike_lifetime, errs);
	dur(s, "child_lifetime", CONN_CHILD_LIFETIME_S, 10, title,
	    &l->child_lifetime, errs);
	dur(s, "rekey_margin", 0, 1, title, &l->rekey_margin, errs);
	dur(s, "dpd", 0, 1, title, &l->dpd, errs);
	dur(s, "dpd_timeout", CONN_DPD_TIMEOUT_S, 2, title, &l->dpd_timeout,
	    errs);
	if (!l->ike_lifetime || !l->child_lifetime) {
		kv = ini_get_kv(s, l->ike_lifetime ? "child_lifetime"
						   : "ike_lifetime");
		ini_kv_err(s, kv, title, errs, "%smust not be 0 (SAs must "
			   "be rekeyed, RFC 7296 §2.8)",
			   kv ? "" : "a lifetime ");
	}
	if (l->rekey_margin &&
	    (2 * l->rekey_margin > l->child_lifetime ||
	     2 * l->rekey_margin > l->ike_lifetime)) {
		kv = ini_get_kv(s, "rekey_margin");
		ini_kv_err(s, kv, title, errs, "must be at most half of "
			   "ike_lifetime and child_lifetime");
	}
	r = ini_get_bool(s, "reauth", &l->reauth);
	if (r && r != ERR_NOTFOUND)
		(*errs)++;
	r = ini_get_size(s, "life_bytes", &v);
	if (r == 0)
		l->life_bytes = v;
	else if (r != ERR_NOTFOUND)
		(*errs)++;
	kv = ini_get_kv(s, "life_packets");
	if (kv) {
		char *end;

		v = strtoull(kv->value, &end, 10);
		if (*end || kv->value[0] == '-') {
			ini_kv_err(s, kv, title, errs, "'%s' is not a number",
				   kv->value);
		}
		l->life_packets = v;
	}
	/* A tunnel that should be up (start = on) comes back by itself;
	 * others are cleared and wait for traffic (trap) or an "up". */
	action(s, "dpd_action",
	       start == 2 ? CONN_ACT_RESTART
			  : start == 1 ? CONN_ACT_TRAP : CONN_ACT_CLEAR,
	       title, &l->dpd_action, errs);
	action(s, "close_action", CONN_ACT_CLEAR, title, &l->close_action,
	       errs);
}

uint64_t conn_life_rekey_after(const struct conn_life *l, uint64_t life)
{
	uint64_t margin = l->rekey_margin ? l->rekey_margin : life / 10;
	uint64_t jitter = 0, t;
	uint32_t rnd = 0;

	if (margin > life / 2)
		margin = life / 2;
	if (margin / 2 && crypto_random(&rnd, sizeof(rnd)) == 0)
		jitter = rnd % (margin / 2 + 1);
	t = life - margin - jitter;
	return t ? t : 1;
}

const char *conn_action_name(enum conn_action a)
{
	switch (a) {
	case CONN_ACT_RESTART:
		return "restart";
	case CONN_ACT_TRAP:
		return "trap";
	default:
		return "clear";
	}
}
