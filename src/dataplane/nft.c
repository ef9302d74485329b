/* SPDX-License-Identifier: MIT */
/*
 * Kernel filtering of inbound cleartext for protected selectors
 * (RFC 4301 §5.2), through libnftables.
 *
 * The table, for tun = ipsec0:
 *
 *   table inet ipsecd_ipsec0 {
 *     counter cleartext_drops { }
 *     chain prerouting {
 *       type filter hook prerouting priority raw; policy accept;
 *       iif "ipsec0" accept
 *       iif "lo" accept
 *       fib daddr type local meta l4proto { esp, ah } accept
 *       fib daddr type local udp dport { 500, 4500 } accept
 *       icmpv6 type { nd-... } ip6 hoplimit 255 accept
 *       ip saddr 203.0.113.0/24 ip daddr 198.51.100.0/24
 *           counter name "cleartext_drops" drop comment "policy 1"
 *     }
 *   }
 *
 * Priority raw (-300): after IP defragmentation (-400), before conntrack
 * (-200) and destination NAT (-100).  Dropped cleartext so creates no
 * conntrack entry (it cannot pre-seed state for a protected flow or fill
 * the table), and the addresses are matched as they arrived, before any
 * DNAT rewrites them.  Prerouting covers traffic to this host and
 * traffic forwarded to the protected subnet behind it alike.
 *
 * Which policies: the inbound policies (dir = in) if there are any;
 * otherwise each outbound policy is mirrored (src and dst, and their
 * ports, swapped), which is what a manual config with only [policy out]
 * sections means.  Rules follow the SPD order (priority, then insertion),
 * and the verdicts are those of spd_check_in_clear(): PROTECT drops
 * cleartext, BYPASS accepts it (so a bypass carved out of a protected
 * range stays reachable), DROP drops (inbound policies only: an outbound
 * DROP policy says nothing about what may arrive).
 *
 * What is never dropped, in any mode:
 * - the TUN device: the data plane decapsulated it and checked it against
 *   the SA's traffic selectors;
 * - lo: only this host can send there;
 * - ESP and AH (RFC 4303, RFC 4302), IKE (UDP 500, RFC 7296 §2) and
 *   ESP-in-UDP (the natt_port, RFC 3948 §2.2) addressed to this host:
 *   they go to the data plane's sockets, which accept nothing without an
 *   SA.  In transport mode the selectors are the two hosts, so without
 *   this the SAs' own packets would be dropped; in tunnel mode a selector
 *   can cover the peer's outer address too (0.0.0.0/0);
 * - IPv6 neighbor and router discovery with hop limit 255 (RFC 4861 §7.1:
 *   only on-link senders can produce it).  The kernel sends ND on the
 *   outer link, never through TUN, so the peer's ND is cleartext; in
 *   transport mode dropping it would break address resolution.
 *
 * A selector with ports only matches a first fragment unless the
 * namespace reassembles before the hook (conntrack loaded); address-only
 * selectors, the usual case, catch every fragment.
 */
#include "dataplane/nft.h"

#include <ctype.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

#define NFT_CHAIN "prerouting"
#define NFT_COUNTER "cleartext_drops"
#define IKE_PORT 500		/* RFC 7296 §2 */

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define PROTO_SCTP 132
#define PROTO_UDPLITE 136

struct dp_nft {
	struct nft_ctx *ctx;
	char table[IFNAMSIZ + 8];	/* "ipsecd_" + sanitised name */
	int tun_ifindex;
	uint16_t natt_port;
	bool created;
	/* Policies in SPD order: priority, then insertion. */
	struct policy_params *pol;
	size_t n_pol, cap_pol;
};

/* Run one nftables script (one transaction). */
static int nft_run(struct dp_nft *n, const char *cmd, const char *what)
{
	const char *e;
	int r;

	r = nft_run_cmd_from_buffer(n->ctx, cmd);
	e = nft_ctx_get_error_buffer(n->ctx);
	if (r) {
		log_err(LS_DP, "nftables: %s (table inet %s): %s", what,
			n->table, e && *e ? e : "failed");
		return ERR_IO;
	}
	return 0;
}

/* ---- rule text ---- */

/* One selector side: a prefix and a port range (RFC 4301 §4.4.1.1). */
struct side {
	const struct ts_sel *ts;
	const char *dir;	/* "saddr"/"daddr", "sport"/"dport" */
};

static bool full_ports(const struct ts_sel *t)
{
	return t->port_lo == 0 && t->port_hi == 65535;
}

static bool has_ports(uint8_t proto)
{
	return proto == PROTO_TCP || proto == PROTO_UDP ||
	       proto == PROTO_SCTP || proto == PROTO_UDPLITE;
}

static bool in_range(const struct ts_sel *t, uint16_t v)
{
	return v >= t->port_lo && v <= t->port_hi;
}

static void put_addr(FILE *f, const struct side *s)
{
	const struct ip_prefix *p = &s->ts->net;
	char pb[PREFIX_STRLEN];
	const char *fam = p->addr.af == AF_INET ? "ip" : "ip6";

	if (p->addr.af == AF_UNSPEC)
		return;		/* any address of any family */
	if (p->len == 0)
		fprintf(f, "meta nfproto ipv%c ",
			p->addr.af == AF_INET ? '4' : '6');
	else
		fprintf(f, "%s %s %s ", fam, s->dir,
			prefix_fmt(p, pb, sizeof(pb)));
}

/* field: "th sport", "th dport" or "@th,0,16" (ICMP type << 8 | code). */
static void put_range(FILE *f, const char *field, const struct ts_sel *t)
{
	if (full_ports(t))
		return;
	if (t->port_lo == t->port_hi)
		fprintf(f, "%s %u ", field, t->port_lo);
	else
		fprintf(f, "%s %u-%u ", field, t->port_lo, t->port_hi);
}

/*
 * One rule.  l4: "" or the protocol condition; kind: how the ports of
 * the flow are read (spd.c sel_match over flow_from_packet): 'p' for
 * TCP/UDP/SCTP/UDP-Lite ports, 'i' for ICMP type/code, 0 for none.
 */
static void put_rule(FILE *f, const struct dp_nft *n, const struct side *s,
		     const struct side *d, const char *l4, char kind,
		     bool drop, uint32_t id)
{
	fprintf(f, "add rule inet %s " NFT_CHAIN " ", n->table);
	put_addr(f, s);
	put_addr(f, d);
	fputs(l4, f);
	if (kind == 'p') {
		put_range(f, "th sport", s->ts);
		put_range(f, "th dport", d->ts);
	} else if (kind == 'i') {
		put_range(f, "@th,0,16", s->ts);
		put_range(f, "@th,0,16", d->ts);
	}
	if (drop)
		fputs("counter name \"" NFT_COUNTER "\" drop", f);
	else
		fputs("accept", f);
	fprintf(f, " comment \"policy %u\"\n", id);
}

/*
 * The rules of one policy.  s: the remote side (packet source), d: the
 * local side (packet destination).
 */
static void put_policy(FILE *f, const struct dp_nft *n,
		       const struct policy_params *p, bool derived)
{
	struct side s, d;
	uint8_t proto;
	bool drop, zero;
	char l4[32];

	if (derived && p->action == POLICY_DROP)
		return;
	drop = p->action != POLICY_BYPASS;
	s.ts = derived ? &p->dst : &p->src;
	d.ts = derived ? &p->src : &p->dst;
	s.dir = "saddr";
	d.dir = "daddr";
	if (s.ts->proto && d.ts->proto && s.ts->proto != d.ts->proto)
		return;		/* matches nothing */
	proto = s.ts->proto ? s.ts->proto : d.ts->proto;
	if (full_ports(s.ts) && full_ports(d.ts)) {
		if (proto)
			snprintf(l4, sizeof(l4), "meta l4proto %u ", proto);
		else
			l4[0] = '\0';
		put_rule(f, n, &s, &d, l4, 0, drop, p->id);
		return;
	}
	/* Port ranges: a flow without ports has port 0 (flow_from_packet). */
	zero = in_range(s.ts, 0) && in_range(d.ts, 0);
	if (proto) {
		snprintf(l4, sizeof(l4), "meta l4proto %u ", proto);
		if (has_ports(proto))
			put_rule(f, n, &s, &d, l4, 'p', drop, p->id);
		else if (proto == PROTO_ICMP || proto == PROTO_ICMPV6)
			put_rule(f, n, &s, &d, l4, 'i', drop, p->id);
		else if (zero)
			put_rule(f, n, &s, &d, l4, 0, drop, p->id);
		return;
	}
	put_rule(f, n, &s, &d, "meta l4proto { tcp, udp, sctp, udplite } ",
		 'p', drop, p->id);
	put_rule(f, n, &s, &d, "meta l4proto { icmp, ipv6-icmp } ", 'i',
		 drop, p->id);
	if (zero)
		put_rule(f, n, &s, &d, "meta l4proto != { tcp, udp, sctp, "
			 "udplite, icmp, ipv6-icmp } ", 0, drop, p->id);
}

/* Rebuild the chain from n->pol in one transaction. */
static int nft_sync(struct dp_nft *n)
{
	char *text = NULL;
	size_t len = 0, i;
	bool derived = true;
	FILE *f;
	int r;

	f = open_memstream(&text, &len);
	if (!f)
		return ERR_NOMEM;
	fprintf(f, "flush chain inet %s " NFT_CHAIN "\n", n->table);
	fprintf(f, "add rule inet %s " NFT_CHAIN " iif %d accept\n", n->table,
		n->tun_ifindex);
	fprintf(f, "add rule inet %s " NFT_CHAIN " iif \"lo\" accept\n",
		n->table);
	fprintf(f, "add rule inet %s " NFT_CHAIN " fib daddr type local "
		"meta l4proto { esp, ah } accept\n", n->table);
	if (n->natt_port == IKE_PORT)
		fprintf(f, "add rule inet %s " NFT_CHAIN " fib daddr type "
			"local udp dport %u accept\n", n->table, IKE_PORT);
	else
		fprintf(f, "add rule inet %s " NFT_CHAIN " fib daddr type "
			"local udp dport { %u, %u } accept\n", n->table,
			IKE_PORT, n->natt_port);
	fprintf(f, "add rule inet %s " NFT_CHAIN " icmpv6 type { "
		"nd-router-solicit, nd-router-advert, nd-neighbor-solicit, "
		"nd-neighbor-advert } ip6 hoplimit 255 accept\n", n->table);
	for (i = 0; i < n->n_pol; i++)
		if (n->pol[i].dir == SA_DIR_IN)
			derived = false;
	for (i = 0; i < n->n_pol; i++)
		if ((n->pol[i].dir == SA_DIR_OUT) == derived)
			put_policy(f, n, &n->pol[i], derived);
	if (fclose(f) || !text) {
		r = ERR_NOMEM;
		goto out;
	}
	log_dbg(LS_DP, "nftables:\n%s", text);
	r = nft_run(n, text, "rules");
out:
	free(text);
	return r;
}

/* ---- API ---- */

int dp_nft_new(const char *tun, int tun_ifindex, uint16_t natt_port,
	       struct dp_nft **out)
{
	struct dp_nft *n;
	char cmd[512];
	size_t i, k;
	int r;

	n = calloc(1, sizeof(*n));
	if (!n)
		return ERR_NOMEM;
	n->tun_ifindex = tun_ifindex;
	n->natt_port = natt_port;
	/* nft identifiers: letters, digits, '_'. */
	k = (size_t)snprintf(n->table, sizeof(n->table), "ipsecd_");
	for (i = 0; tun[i] && k + 1 < sizeof(n->table); i++, k++)
		n->table[k] = isalnum((unsigned char)tun[i]) ? tun[i] : '_';
	n->table[k] = '\0';
	n->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!n->ctx) {
		r = ERR_NOMEM;
		goto fail;
	}
	if (nft_ctx_buffer_output(n->ctx) || nft_ctx_buffer_error(n->ctx)) {
		r = ERR_NOMEM;
		goto fail;
	}
	/* "add; delete; add" in one transaction: a stale table of a crashed
	 * daemon goes, with nothing unfiltered in between. */
	snprintf(cmd, sizeof(cmd),
		 "add table inet %1$s\n"
		 "delete table inet %1$s\n"
		 "add table inet %1$s\n"
		 "add counter inet %1$s " NFT_COUNTER "\n"
		 "add chain inet %1$s " NFT_CHAIN " { type filter hook "
		 "prerouting priority raw; policy accept; }\n", n->table);
	r = nft_run(n, cmd, "create table");
	if (r)
		goto fail;
	n->created = true;
	r = nft_sync(n);
	if (r)
		goto fail;
	log_info(LS_DP, "nftables table inet %s: cleartext for protected "
		 "selectors is dropped unless it arrives on %s", n->table,
		 tun);
	*out = n;
	return 0;
fail:
	dp_nft_free(n);
	return r;
}

void dp_nft_free(struct dp_nft *n)
{
	char cmd[64];

	if (!n)
		return;
	if (n->created) {
		snprintf(cmd, sizeof(cmd), "delete table inet %s\n", n->table);
		nft_run(n, cmd, "delete table");
	}
	if (n->ctx)
		nft_ctx_free(n->ctx);
	free(n->pol);
	free(n);
}

int dp_nft_add_policy(struct dp_nft *n, const struct policy_params *p)
{
	struct policy_params *v;
	size_t i, at;
	int r;

	for (i = 0; i < n->n_pol; i++)
		if (n->pol[i].id == p->id)
			return ERR_EXISTS;
	if (n->n_pol == n->cap_pol) {
		v = realloc(n->pol, (n->cap_pol ? n->cap_pol * 2 : 8) *
			    sizeof(*v));
		if (!v)
			return ERR_NOMEM;
		n->pol = v;
		n->cap_pol = n->cap_pol ? n->cap_pol * 2 : 8;
	}
	/* RFC 4301 §4.4.1: ordered; lower priority first, ties in order. */
	for (at = 0; at < n->n_pol; at++)
		if (n->pol[at].priority > p->priority)
			break;
	memmove(&n->pol[at + 1], &n->pol[at],
		(n->n_pol - at) * sizeof(*n->pol));
	n->pol[at] = *p;
	n->n_pol++;
	r = nft_sync(n);
	if (r) {
		n->n_pol--;
		memmove(&n->pol[at], &n->pol[at + 1],
			(n->n_pol - at) * sizeof(*n->pol));
	}
	return r;
}

int dp_nft_del_policy(struct dp_nft *n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n->n_pol; i++)
		if (n->pol[i].id == id)
			break;
	if (i == n->n_pol)
		return ERR_NOTFOUND;
	n->n_pol--;
	memmove(&n->pol[i], &n->pol[i + 1], (n->n_pol - i) * sizeof(*n->pol));
	return nft_sync(n);
}

int dp_nft_drops(struct dp_nft *n, uint64_t *packets, uint64_t *bytes)
{
	char cmd[128];
	const char *o, *s;
	char *end;
	int r;

	snprintf(cmd, sizeof(cmd), "list counter inet %s " NFT_COUNTER "\n",
		 n->table);
	r = nft_run(n, cmd, "list counter");
	o = nft_ctx_get_output_buffer(n->ctx);
	if (r)
		return r;
	/* "counter cleartext_drops { packets N bytes M }" */
	s = o ? strstr(o, "packets ") : NULL;
	if (!s)
		return ERR_NOTFOUND;
	*packets = strtoull(s + 8, &end, 10);
	s = strstr(end, "bytes ");
	*bytes = s ? strtoull(s + 6, NULL, 10) : 0;
	return 0;
}

const char *dp_nft_table(const struct dp_nft *n)
{
	return n->table;
}
