/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink through libmnl: link MTU and state, routes to the protected
 * remote subnets via the TUN device, and the fwmark rule that keeps the
 * daemon's own ESP traffic out of those routes.
 */
#include "dataplane/dp_io.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"

struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char buf[8192];
};

int nl_open(struct nl **out)
{
	struct nl *nl;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return ERR_NOMEM;
	nl->sock = mnl_socket_open(NETLINK_ROUTE);
	if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_err(LS_DP, "netlink socket: %s", strerror(errno));
		nl_close(nl);
		return ERR_IO;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	*out = nl;
	return 0;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

int nl_ifindex(const char *name, int *ifindex)
{
	unsigned i = if_nametoindex(name);

	if (!i)
		return ERR_NOTFOUND;
	*ifindex = (int)i;
	return 0;
}

/* Send one request and wait for its ACK (or a dump's data via cb). */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *arg)
{
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int r;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, arg);
		if (r <= MNL_CB_STOP)
			return r < 0 ? -errno : 0;
	}
}

static struct nlmsghdr *nl_req(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

struct mtu_arg {
	unsigned mtu;
	bool found;
};

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct mtu_arg *m = data;

	if (mnl_attr_get_type(a) == IFLA_MTU &&
	    mnl_attr_validate(a, MNL_TYPE_U32) >= 0) {
		m->mtu = mnl_attr_get_u32(a);
		m->found = true;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb, data);
	return MNL_CB_OK;
}

int nl_get_mtu(struct nl *nl, const char *name, unsigned *mtu)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct mtu_arg m = { 0, false };
	int ifindex, r;

	r = nl_ifindex(name, &ifindex);
	if (r)
		return r;
	nlh = nl_req(nl, RTM_GETLINK, 0);
	nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	r = nl_talk(nl, nlh, link_cb, &m);
	if (r || !m.found)
		return ERR_NOTFOUND;
	*mtu = m.mtu;
	return 0;
}

int nl_link_up(struct nl *nl, int ifindex, unsigned mtu, unsigned txqlen)
{
	struct nlmsghdr *nlh = nl_req(nl, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi;
	int r;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (txqlen)
		mnl_attr_put_u32(nlh, IFLA_TXQLEN, txqlen);
	r = nl_talk(nl, nlh, NULL, NULL);
	if (r) {
		log_err(LS_DP, "RTM_NEWLINK ifindex %d mtu %u: %s", ifindex,
			mtu, strerror(-r));
		return ERR_IO;
	}
	return 0;
}

int nl_route(struct nl *nl, bool add, const struct ip_prefix *dst,
	     int ifindex, uint32_t table, const struct ip_addr *prefsrc)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	char pb[PREFIX_STRLEN];
	int r;

	nlh = nl_req(nl, add ? RTM_NEWROUTE : RTM_DELROUTE,
		     add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = dst->addr.af;
	rtm->rtm_dst_len = dst->len;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put(nlh, RTA_DST, addr_len(&dst->addr), dst->addr.u.b);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	if (prefsrc && prefsrc->af == dst->addr.af)
		mnl_attr_put(nlh, RTA_PREFSRC, addr_len(prefsrc),
			     prefsrc->u.b);
	r = nl_talk(nl, nlh, NULL, NULL);
	if (r && !(!add && r == -ESRCH)) {
		log_err(LS_DP, "%s route %s table %u: %s",
			add ? "add" : "del",
			prefix_fmt(dst, pb, sizeof(pb)), table, strerror(-r));
		return ERR_IO;
	}
	log_dbg(LS_DP, "%s route %s table %u", add ? "added" : "deleted",
		prefix_fmt(dst, pb, sizeof(pb)), table);
	return 0;
}

int nl_rule(struct nl *nl, bool add, int af, uint32_t table, uint32_t mark,
	    uint32_t prio)
{
	struct nlmsghdr *nlh;
	struct fib_rule_hdr *frh;
	int r;

	nlh = nl_req(nl, add ? RTM_NEWRULE : RTM_DELRULE,
		     add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)af;
	frh->action = FR_ACT_TO_TBL;
	frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	frh->flags = FIB_RULE_INVERT;
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, prio);
	mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
	mnl_attr_put_u32(nlh, FRA_FWMASK, mark);
	r = nl_talk(nl, nlh, NULL, NULL);
	if (r && !(add && r == -EEXIST) && !(!add && r == -ENOENT)) {
		log_err(LS_DP, "%s rule (family %d table %u): %s",
			add ? "add" : "del", af, table, strerror(-r));
		return ERR_IO;
	}
	return 0;
}
