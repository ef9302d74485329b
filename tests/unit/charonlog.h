/* SPDX-License-Identifier: MIT */
/*
 * Test helper: read strongSwan charon logs (log level 4) recorded in the
 * shared interop folder, and pull out the chunk hexdumps charon prints
 * ("Sk_ei secret => 20 bytes @ 0x..." followed by offset lines).
 */
#ifndef IPSECD_TESTS_CHARONLOG_H
#define IPSECD_TESTS_CHARONLOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

/*
 * Read a whole file, relative to the vectors folder (vec_path()), as a
 * NUL-terminated string.  Owned: free().  NULL (with a TAP comment) if it
 * cannot be read.  *len (if not NULL) gets the byte count.
 */
char *charonlog_slurp(const char *relpath, size_t *len);

/*
 * The nth (0-based) dump called name ("Sk_ei secret") as a new buffer
 * (owned: free()), its length in *len; NULL if absent or incomplete.
 */
uint8_t *charonlog_dump(const char *text, const char *name, int nth,
			size_t *len);

/* One IKE datagram from a capture. */
struct pcap_ike {
	uint8_t *p; /* owned: the IKE message, no marker */
	size_t len;
	struct ip_addr src, dst;
	uint16_t sport, dport;
};

/*
 * The IKE datagrams of a libpcap capture (relative to the vectors
 * folder) of Ethernet/IPv4/UDP frames: UDP port 500, or 4500 with the
 * non-ESP marker (RFC 3948 §2.2), which is stripped; ESP is skipped.
 * Returns how many were stored in out (at most max), or -1 if the file
 * cannot be read or is not such a capture.  Free each p.
 */
int pcap_read_ike(const char *relpath, struct pcap_ike *out, size_t max);

#endif
