/* SPDX-License-Identifier: MIT */
/* IPv4 and IPv6 addresses and prefixes: parsing, formatting, matching. */
#ifndef IPSECD_COMMON_ADDR_H
#define IPSECD_COMMON_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct ip_addr {
	sa_family_t af;		/* AF_INET, AF_INET6, or AF_UNSPEC (unset) */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t b[16];	/* network order; 4 or 16 bytes used */
	} u;
};

struct ip_prefix {
	struct ip_addr addr;	/* host bits are always zero */
	uint8_t len;		/* 0..32 or 0..128 */
};

/* "inet" text: ADDR_STRLEN covers an IPv6 address, PREFIX_STRLEN "/128". */
#define ADDR_STRLEN 46
#define PREFIX_STRLEN (ADDR_STRLEN + 4)

static inline size_t addr_len(const struct ip_addr *a)
{
	return a->af == AF_INET ? 4 : a->af == AF_INET6 ? 16 : 0;
}
static inline unsigned addr_bits(sa_family_t af)
{
	return af == AF_INET ? 32 : 128;
}

/* Parse a literal v4 or v6 address.  ERR_INVAL if it is not one. */
int addr_parse(const char *s, struct ip_addr *a);
/* Build from 4 or 16 raw network-order bytes. */
int addr_from_bytes(struct ip_addr *a, const void *p, size_t len);
/*
 * Parse "ADDR/LEN" or a bare ADDR (a host prefix).  A prefix with host bits
 * set ("192.0.2.1/24") is ERR_INVAL, as ip-route does: it is almost always
 * a typo for the network, and guessing would widen a policy silently.
 */
int prefix_parse(const char *s, struct ip_prefix *p);
/* Canonicalise: clear host bits (used when building from wire data). */
void prefix_from_addr(struct ip_prefix *p, const struct ip_addr *a,
		      uint8_t len);

/* Format into buf (at least ADDR_STRLEN / PREFIX_STRLEN); returns buf. */
const char *addr_fmt(const struct ip_addr *a, char *buf, size_t len);
const char *prefix_fmt(const struct ip_prefix *p, char *buf, size_t len);

bool addr_equal(const struct ip_addr *a, const struct ip_addr *b);
/* Compare as unsigned big-endian numbers; families order v4 < v6. */
int addr_cmp(const struct ip_addr *a, const struct ip_addr *b);
bool addr_is_unspec(const struct ip_addr *a);
bool prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);
/* true if every address of inner lies in outer. */
bool prefix_covers(const struct ip_prefix *outer,
		   const struct ip_prefix *inner);

/* sockaddr conversion; port in host order. */
int addr_to_sockaddr(const struct ip_addr *a, uint16_t port,
		     struct sockaddr_storage *ss, socklen_t *sl);
int addr_from_sockaddr(struct ip_addr *a, uint16_t *port,
		       const struct sockaddr *sa, socklen_t sl);

#endif
