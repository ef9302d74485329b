/* SPDX-License-Identifier: MIT */
/*
 * Dropping root once everything privileged is open ([daemon] user,
 * docs/ike.md "Privileges").
 *
 * After the TUN device, the raw/UDP sockets, netlink, nftables, the
 * control socket and the key log are open, the daemon becomes an
 * ordinary user and keeps only the capabilities it still uses:
 *   CAP_NET_ADMIN        routes, nftables rules and counters, SO_MARK;
 *                        needed for every Child SA and every reload
 *   CAP_DAC_READ_SEARCH  ipsecctl reload rereads the config file and
 *                        root-owned mode-600 PSK files
 * Nothing else: no socket is opened after start (so no CAP_NET_RAW or
 * CAP_NET_BIND_SERVICE), no file is written but the already open key
 * log.  The bounding set is cut to the same two, ambient capabilities
 * are cleared and PR_SET_NO_NEW_PRIVS is set, so neither exec nor a
 * setuid binary can win anything back.
 *
 * Capabilities are per thread: call before any thread exists (before
 * dp_start()); workers inherit the reduced set.
 */
#ifndef IPSECD_DAEMON_PRIVDROP_H
#define IPSECD_DAEMON_PRIVDROP_H

#include <sys/types.h>

#define PRIVDROP_USER_MAX 64
#define PRIVDROP_DEFAULT_USER "nobody"

/*
 * Look user up: 0 with its uid and gid, ERR_NOTFOUND if there is no
 * such user (not logged: the config loader names file:line).
 */
int privdrop_lookup(const char *user, uid_t *uid, gid_t *gid);

/*
 * Become user, keeping the capabilities above.  "root" (uid 0) keeps
 * everything and only logs a warning.  0, or ERR_PERM / ERR_NOTFOUND
 * (logged): the caller must not go on as root then.
 */
int privdrop(const char *user);

#endif
