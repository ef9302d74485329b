/* SPDX-License-Identifier: MIT */
#include "common/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

int addr_parse(const char *s, struct ip_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!s)
		return ERR_INVAL;
	if (inet_pton(AF_INET, s, &a->u.v4) == 1) {
		a->af = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->u.v6) == 1) {
		a->af = AF_INET6;
		return 0;
	}
	return ERR_INVAL;
}

int addr_from_bytes(struct ip_addr *a, const void *p, size_t len)
{
	memset(a, 0, sizeof(*a));
	if (len == 4)
		a->af = AF_INET;
	else if (len == 16)
		a->af = AF_INET6;
	else
		return ERR_INVAL;
	memcpy(a->u.b, p, len);
	return 0;
}

static void mask_host_bits(struct ip_addr *a, unsigned len)
{
	size_t n = addr_len(a), i;

	for (i = 0; i < n; i++) {
		if (len >= 8) {
			len -= 8;
			continue;
		}
		a->u.b[i] &= (uint8_t)(0xff << (8 - len));
		len = 0;
	}
}

void prefix_from_addr(struct ip_prefix *p, const struct ip_addr *a,
		      uint8_t len)
{
	p->addr = *a;
	if (len > addr_bits(a->af))
		len = (uint8_t)addr_bits(a->af);
	p->len = len;
	mask_host_bits(&p->addr, len);
}

int prefix_parse(const char *s, struct ip_prefix *p)
{
	char tmp[ADDR_STRLEN + 8];
	const char *slash;
	char *end;
	unsigned long len;
	struct ip_addr a;
	int r;

	memset(p, 0, sizeof(*p));
	if (!s)
		return ERR_INVAL;
	slash = strchr(s, '/');
	if (!slash) {
		r = addr_parse(s, &a);
		if (r)
			return r;
		prefix_from_addr(p, &a, (uint8_t)addr_bits(a.af));
		return 0;
	}
	if ((size_t)(slash - s) >= sizeof(tmp))
		return ERR_INVAL;
	memcpy(tmp, s, (size_t)(slash - s));
	tmp[slash - s] = '\0';
	r = addr_parse(tmp, &a);
	if (r)
		return r;
	if (slash[1] < '0' || slash[1] > '9')
		return ERR_INVAL;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || len > addr_bits(a.af))
		return ERR_INVAL;
	prefix_from_addr(p, &a, (uint8_t)len);
	if (!addr_equal(&p->addr, &a))
		return ERR_INVAL;
	return 0;
}

const char *addr_fmt(const struct ip_addr *a, char *buf, size_t len)
{
	if (a->af != AF_INET && a->af != AF_INET6) {
		snprintf(buf, len, "%%any");
		return buf;
	}
	if (!inet_ntop(a->af, a->u.b, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *prefix_fmt(const struct ip_prefix *p, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	snprintf(buf, len, "%s/%u", addr_fmt(&p->addr, a, sizeof(a)),
		 p->len);
	return buf;
}

bool addr_is_unspec(const struct ip_addr *a)
{
	return a->af != AF_INET && a->af != AF_INET6;
}

bool addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->af == b->af && !memcmp(a->u.b, b->u.b, addr_len(a));
}

static int af_rank(sa_family_t af)
{
	return af == AF_INET ? 1 : af == AF_INET6 ? 2 : 0;
}

int addr_cmp(const struct ip_addr *a, const struct ip_addr *b)
{
	/*
	 * Rank families (unset < v4 < v6) so that the order is total and
	 * antisymmetric even when one side is AF_UNSPEC.
	 */
	if (af_rank(a->af) != af_rank(b->af))
		return af_rank(a->af) < af_rank(b->af) ? -1 : 1;
	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	return memcmp(a->u.b, b->u.b, addr_len(a));
}

bool prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	struct ip_addr m;

	if (p->addr.af != a->af)
		return false;
	m = *a;
	mask_host_bits(&m, p->len);
	return addr_equal(&m, &p->addr);
}

bool prefix_covers(const struct ip_prefix *outer,
		   const struct ip_prefix *inner)
{
	return outer->addr.af == inner->addr.af && outer->len <= inner->len &&
	       prefix_contains(outer, &inner->addr);
}

int addr_to_sockaddr(const struct ip_addr *a, uint16_t port,
		     struct sockaddr_storage *ss, socklen_t *sl)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->af == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr = a->u.v4;
		*sl = sizeof(*s4);
		return 0;
	}
	if (a->af == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = a->u.v6;
		*sl = sizeof(*s6);
		return 0;
	}
	return ERR_INVAL;
}

int addr_from_sockaddr(struct ip_addr *a, uint16_t *port,
		       const struct sockaddr *sa, socklen_t sl)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET && sl >= (socklen_t)sizeof(*s4)) {
		a->af = AF_INET;
		a->u.v4 = s4->sin_addr;
		if (port)
			*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && sl >= (socklen_t)sizeof(*s6)) {
		a->af = AF_INET6;
		a->u.v6 = s6->sin6_addr;
		if (port)
			*port = ntohs(s6->sin6_port);
		return 0;
	}
	return ERR_INVAL;
}
