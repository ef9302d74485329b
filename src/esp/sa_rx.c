/* SPDX-License-Identifier: MIT */
/*
 * The end of the inbound path, the same for ESP and AH: counting and
 * logging a drop, moving the replay window once a packet proved
 * authentic, and the RFC 4301 §5.2 check of the inner packet against the
 * SA's traffic selectors.
 */
#include <pthread.h>

#include "common/err.h"
#include "common/log.h"
#include "esp/ipsec.h"
#include "esp/pkt.h"
#include "esp/sad.h"

static struct log_ratelimit rx_rl = LOG_RATELIMIT_INIT(10, 5);

int ipsec_sa_drop(struct ipsec_sa *sa, const char *what, int r, uint64_t seq)
{
	uint32_t held;

	if (r == ERR_SHORT)
		r = ERR_MALFORMED;
	switch (r) {
	case ERR_REPLAY:
		sa->stats.replay_drops++;
		break;
	case ERR_AUTH:
		sa->stats.auth_fails++;
		break;
	case ERR_PERM:
		sa->stats.ts_drops++;
		break;
	case ERR_MALFORMED:
	case ERR_UNSUPPORTED:
		sa->stats.malformed++;
		break;
	default:
		/* ERR_PROTO, ERR_NOTFOUND: never this SA's packet. */
		break;
	}
	if (log_ratelimit_ok(&rx_rl, &held))
		log_warn(LS_ESP, "%s SA 0x%08x: dropped (%s: %s), seq %llu%s%u",
			 sa->p.proto == IPSEC_PROTO_AH ? "AH" : "ESP",
			 sa->p.spi, what, err_str(r), (unsigned long long)seq,
			 held ? ", lines held back: " : "", held ? held : 0);
	return r;
}

int ipsec_sa_rx_finish(struct ipsec_sa *sa, size_t len, int r, bool authentic,
		       uint64_t seq, const char *what)
{
	int ru;

	pthread_mutex_lock(&sa->lock);
	/* RFC 4303 §3.4.3, RFC 4302 §3.4.3: the window moves only for an
	 * authentic packet; replay_update() checks again, because another
	 * worker may have taken the same number since the pre-check. */
	if (authentic) {
		ru = replay_update(&sa->replay, seq);
		if (ru && (r == 0 || r == ERR_DROP)) {
			r = ru;
			what = "replay";
		}
		if (!ru && seq > sa->stats.seq)
			sa->stats.seq = seq;
	}
	if (r == 0)
		r = ipsec_sa_account(sa, len);
	else if (r == ERR_DROP)
		ipsec_sa_account(sa, 0); /* RFC 4303 §2.6: valid, no data */
	if (r && r != ERR_DROP)
		r = ipsec_sa_drop(sa, what, r, seq);
	pthread_mutex_unlock(&sa->lock);
	return r;
}

int ipsec_sa_check_ts(const struct ipsec_sa *sa, const struct pkt *pkt)
{
	struct flow f;

	if (!sa->p.n_ts_local && !sa->p.n_ts_remote)
		return 0;
	if (flow_from_packet(pkt_data(pkt), pkt->len, &f))
		return ERR_MALFORMED;
	/* RFC 4301 §5.2 step 4: inbound, the source is the remote side. */
	if (!ts_set_match(sa->p.ts_remote, sa->p.n_ts_remote, &f, true) ||
	    !ts_set_match(sa->p.ts_local, sa->p.n_ts_local, &f, false))
		return ERR_PERM;
	return 0;
}
