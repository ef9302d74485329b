/* SPDX-License-Identifier: MIT */
/*
 * RFC 4301 §5.2 for cleartext that never reaches the data plane: with a
 * TUN data plane the kernel delivers an unprotected packet from a
 * protected remote selector directly, so the SPD cannot see it.  This
 * module mirrors the SPD into one nftables table (libnftables), table
 * "inet ipsecd_<tun>", that drops and counts such packets unless they
 * arrived on the TUN device (decapsulated and TS-checked by the data
 * plane).  Control thread only.
 */
#ifndef IPSECD_DATAPLANE_NFT_H
#define IPSECD_DATAPLANE_NFT_H

#include <stdint.h>

#include "esp/sa.h"

struct dp_nft;

/*
 * Create the table for the TUN device tun (index tun_ifindex), replacing
 * a stale table of the same name (a crashed daemon's).  natt_port is the
 * local ESP-in-UDP port.  Owned: free with dp_nft_free(), which deletes
 * the table.  ERR_NOMEM, or ERR_IO if nftables refused (logged).
 */
int dp_nft_new(const char *tun, int tun_ifindex, uint16_t natt_port,
	       struct dp_nft **out);
void dp_nft_free(struct dp_nft *n);

/*
 * Follow the SPD: the chain is rebuilt from all policies in one
 * nftables transaction.  ERR_EXISTS / ERR_NOTFOUND for the id, ERR_IO if
 * nftables refused (logged; the previous rules stay).
 */
int dp_nft_add_policy(struct dp_nft *n, const struct policy_params *p);
int dp_nft_del_policy(struct dp_nft *n, uint32_t id);

/* Packets and bytes dropped so far (read back from the kernel). */
int dp_nft_drops(struct dp_nft *n, uint64_t *packets, uint64_t *bytes);

/* "ipsecd_<tun>" (borrowed). */
const char *dp_nft_table(const struct dp_nft *n);

#endif
