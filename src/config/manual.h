/* SPDX-License-Identifier: MIT */
/*
 * Manual keying: static SAs and policies from the ipsecd config file, the
 * analogue of "ip xfrm state/policy" or setkey.  See docs/manual-keying.md.
 *
 *   [daemon]         tun, path_mtu, route_table, fwmark, pid_file,
 *                    keepalive, workers
 *   [sa NAME]        one SA (struct sa_params)
 *   [policy NAME]    one SPD entry (struct policy_params)
 *
 * Every error is logged as "file:line: what is wrong (how to fix it)";
 * manual_load() fails on the first section with errors after logging all
 * of that section's problems.
 */
#ifndef IPSECD_CONFIG_MANUAL_H
#define IPSECD_CONFIG_MANUAL_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "config/ini.h"
#include "esp/sa.h"

#define MANUAL_NAME_MAX 64

struct manual_sa {
	char name[MANUAL_NAME_MAX];
	struct sa_params p;	/* holds keys: wiped by manual_wipe_keys */
};

struct manual_policy {
	char name[MANUAL_NAME_MAX];
	struct policy_params p;
	/* PROTECT: the mode and local address of its SA (for routes). */
	enum ipsec_mode mode;
	struct ip_addr local;
};

struct daemon_cfg {
	char tun[IFNAMSIZ];	/* default "ipsec0" */
	unsigned path_mtu;	/* outer path MTU; default 1500 */
	uint32_t route_table;	/* default 220 */
	uint32_t fwmark;	/* default 0x1f4e (see route.c) */
	uint64_t keepalive_s;	/* RFC 3948 §2.3 interval; default 20 */
	unsigned workers;	/* worker threads, default 2 */
	char pid_file[256];	/* "" = none */
	uint16_t natt_port;	/* default 4500 */
	bool offload;		/* TUN checksum/TSO offload; default yes */
};

struct manual_cfg {
	struct daemon_cfg d;
	struct manual_sa *sas;		/* owned array */
	size_t n_sas;
	struct manual_policy *pols;	/* owned array */
	size_t n_pols;
};

/* Parse [daemon], [sa *] and [policy *].  Owned; ERR_CONFIG (logged). */
int manual_load(struct ini *ini, struct manual_cfg **out);
/* Wipe every key held in the SAs (after they went to the data plane). */
void manual_wipe_keys(struct manual_cfg *m);
/* Wipes and frees; NULL is a no-op. */
void manual_free(struct manual_cfg *m);

#endif
