/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the TUN offload helpers (dataplane/gso.c): UDP trains
 * merged by gro_* must come back out of tso_segment (which cuts the way
 * Linux __udp_gso_segment does) as exactly the datagrams that went in,
 * checksums included; what must not merge does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "dataplane/dp_io.h"

#define MAXP 2048

/* RFC 1071, the plain way: an independent reference. */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The pseudo-header sum (RFC 768, RFC 8200 §8.1) of an IP/UDP packet. */
static uint32_t ref_pseudo(const uint8_t *p, bool v6, size_t l4len)
{
	if (v6)
		return ref_sum(0, p + 8, 32) + 17 + (uint32_t)l4len;
	return ref_sum(0, p + 12, 8) + 17 + (uint32_t)l4len;
}

/* One UDP datagram with valid IPv4/IPv6 and UDP checksums. */
static size_t mk_udp(uint8_t *p, bool v6, uint16_t id, uint16_t sport,
		     size_t plen, uint8_t fill)
{
	size_t l4 = v6 ? 40 : 20, n = l4 + 8 + plen, i;
	uint16_t c;

	memset(p, 0, l4 + 8);
	if (v6) {
		be32_store(p, 0x60012345);
		be16_store(p + 4, (uint16_t)(n - 40));
		p[6] = 17;
		p[7] = 64;
		p[8] = 0x20;
		p[9] = 0x01;
		p[10] = 0x0d;
		p[11] = 0xb8;
		p[23] = 1;
		p[24] = 0x20;
		p[25] = 0x01;
		p[26] = 0x0d;
		p[27] = 0xb8;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		be16_store(p + 2, (uint16_t)n);
		be16_store(p + 4, id);
		p[6] = 0x40;		/* DF */
		p[8] = 64;
		p[9] = 17;
		p[12] = 198;
		p[13] = 51;
		p[14] = 100;
		p[15] = 1;
		p[16] = 203;
		p[17] = 0;
		p[18] = 113;
		p[19] = 1;
		be16_store(p + 10, (uint16_t)~ref_fold(ref_sum(0, p, 20)));
	}
	be16_store(p + l4, sport);
	be16_store(p + l4 + 2, 5201);
	be16_store(p + l4 + 4, (uint16_t)(8 + plen));
	for (i = 0; i < plen; i++)
		p[l4 + 8 + i] = (uint8_t)(fill + i * 7);
	c = (uint16_t)~ref_fold(ref_sum(ref_pseudo(p, v6, 8 + plen),
					p + l4, 8 + plen));
	be16_store(p + l4 + 6, c ? c : 0xffff);
	return n;
}

/*
 * Merge n packets as worker.c's tun_deliver does; returns how many
 * joined the train (the rest did not follow).
 */
static unsigned merge(uint8_t pk[][MAXP], const size_t *len, unsigned n,
		      uint8_t *head, size_t *total, struct gro_seg *h)
{
	struct gro_seg s;
	uint32_t next;
	unsigned i;

	assert_true(gro_eligible(pk[0], len[0], h));
	memcpy(head, pk[0], len[0]);
	*total = len[0];
	next = gro_next(h);
	for (i = 1; i < n; i++) {
		assert_true(gro_eligible(pk[i], len[i], &s));
		if (s.plen > h->plen ||
		    !gro_follows(head, h, pk[i], &s, next))
			break;
		memcpy(head + *total, pk[i] + s.hdr_len, s.plen);
		*total += s.plen;
		next = gro_next(&s);
	}
	return i;
}

static void roundtrip(bool v6)
{
	static uint8_t pk[5][MAXP];
	static uint8_t head[8 * MAXP], seg[MAXP];
	static const size_t plen[5] = { 100, 100, 100, 100, 37 };
	size_t len[5], total, n, l4 = v6 ? 40 : 20;
	struct gro_seg h;
	struct tun_gso g;
	struct tso t;
	uint8_t vh[TUN_VNET_HDR_LEN];
	unsigned i;

	for (i = 0; i < 5; i++)
		len[i] = mk_udp(pk[i], v6, (uint16_t)(0xfffe + i), 40000,
				plen[i], (uint8_t)i);
	assert_int_equal(merge(pk, len, 5, head, &total, &h), 5);
	gro_finish(head, &h, total, h.plen, false, vh);
	tun_gso_parse(vh, &g);
	assert_int_equal(g.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	assert_int_equal(g.gso_size, 100);
	assert_int_equal(g.csum_start, l4);
	assert_int_equal(g.csum_offset, 6);
	/* IP and UDP lengths of the whole train, the UDP checksum field
	 * the pseudo-header sum for that length (CHECKSUM_PARTIAL) */
	assert_int_equal(be16_load(head + l4 + 4), total - l4);
	assert_int_equal(be16_load(head + l4 + 6),
			 ref_fold(ref_pseudo(head, v6, total - l4)));
	if (v6) {
		assert_int_equal(be16_load(head + 4), total - 40);
	} else {
		assert_int_equal(be16_load(head + 2), total);
		assert_int_equal(ref_fold(ref_sum(0, head, 20)), 0xffff);
	}
	/* cut again: every datagram as it was sent, byte for byte */
	assert_int_equal(tso_prepare(head, total, &g, &t), 0);
	assert_int_equal(t.n_seg, 5);
	for (i = 0; i < 5; i++) {
		n = tso_segment(&t, i, seg);
		assert_int_equal(n, len[i]);
		assert_memory_equal(seg, pk[i], n);
	}
}

static void test_udp4_roundtrip(void **state)
{
	(void)state;
	roundtrip(false);
}

static void test_udp6_roundtrip(void **state)
{
	(void)state;
	roundtrip(true);
}

static void test_udp_breaks(void **state)
{
	static uint8_t pk[3][MAXP], head[4 * MAXP];
	size_t len[3], total;
	struct gro_seg h;

	(void)state;
	/* IPv4 Identification not consecutive */
	len[0] = mk_udp(pk[0], false, 10, 40000, 64, 0);
	len[1] = mk_udp(pk[1], false, 12, 40000, 64, 1);
	assert_int_equal(merge(pk, len, 2, head, &total, &h), 1);
	/* another source port */
	len[1] = mk_udp(pk[1], false, 11, 40001, 64, 1);
	assert_int_equal(merge(pk, len, 2, head, &total, &h), 1);
	/* a longer datagram after the first */
	len[1] = mk_udp(pk[1], false, 11, 40000, 65, 1);
	assert_int_equal(merge(pk, len, 2, head, &total, &h), 1);
	/* TTL differs */
	len[1] = mk_udp(pk[1], false, 11, 40000, 64, 1);
	pk[1][8] = 63;
	assert_int_equal(merge(pk, len, 2, head, &total, &h), 1);
	/* same flow, next ID: merges */
	len[1] = mk_udp(pk[1], false, 11, 40000, 64, 1);
	len[2] = mk_udp(pk[2], false, 12, 40000, 64, 2);
	assert_int_equal(merge(pk, len, 3, head, &total, &h), 3);
	/* not eligible: IPv4 without UDP checksum, a fragment, a UDP
	 * length short of the IP payload */
	pk[0][26] = pk[0][27] = 0;
	assert_false(gro_eligible(pk[0], len[0], &h));
	len[0] = mk_udp(pk[0], false, 10, 40000, 64, 0);
	pk[0][6] = 0x20;	/* MF */
	assert_false(gro_eligible(pk[0], len[0], &h));
	len[0] = mk_udp(pk[0], false, 10, 40000, 64, 0);
	be16_store(pk[0] + 24, 60);
	assert_false(gro_eligible(pk[0], len[0], &h));
	/* an empty datagram carries nothing to merge */
	len[0] = mk_udp(pk[0], false, 10, 40000, 0, 0);
	assert_false(gro_eligible(pk[0], len[0], &h));
}

/* A USO packet as the kernel hands it up: bad offsets are refused. */
static void test_uso_prepare_bad(void **state)
{
	static uint8_t p[MAXP];
	struct tun_gso g;
	struct tso t;
	size_t n;

	(void)state;
	n = mk_udp(p, false, 1, 40000, 300, 0);
	memset(&g, 0, sizeof(g));
	g.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
	g.gso_size = 100;
	g.csum_start = 20;
	g.csum_offset = 6;
	assert_int_equal(tso_prepare(p, n, &g, &t), 0);
	assert_int_equal(t.n_seg, 3);
	g.csum_offset = 16;
	assert_int_not_equal(tso_prepare(p, n, &g, &t), 0);
	g.csum_offset = 6;
	g.csum_start = 10;
	assert_int_not_equal(tso_prepare(p, n, &g, &t), 0);
	g.csum_start = 20;
	g.gso_size = 0;
	assert_int_not_equal(tso_prepare(p, n, &g, &t), 0);
	g.gso_size = 100;
	assert_int_not_equal(tso_prepare(p, 20, &g, &t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp4_roundtrip),
		cmocka_unit_test(test_udp6_roundtrip),
		cmocka_unit_test(test_udp_breaks),
		cmocka_unit_test(test_uso_prepare_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
