/* SPDX-License-Identifier: MIT */
/*
 * The layer-3 TUN device the userspace data plane sits behind.  Packets
 * the kernel routes to it are candidates for protection; packets written
 * to it are delivered to the local stack as if received on it.
 */
#include "dataplane/dp_io.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

int tun_open(const char *name, bool multi, bool *offload, char *ifname,
	     int *fd)
{
	struct ifreq ifr;
	int f, r;

	f = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (f < 0) {
		log_err(LS_DP, "open /dev/net/tun: %s", strerror(errno));
		return ERR_IO;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* No packet-info header: every read/write is exactly one IP packet
	 * and the family comes from the version nibble. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (multi)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (*offload)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (name && *name) {
		if (strlen(name) >= IFNAMSIZ) {
			log_err(LS_DP, "TUN name '%s' is longer than %d",
				name, IFNAMSIZ - 1);
			r = ERR_INVAL;
			goto out;
		}
		memcpy(ifr.ifr_name, name, strlen(name) + 1);
	}
	if (ioctl(f, TUNSETIFF, &ifr) < 0) {
		log_err(LS_DP, "TUNSETIFF %s: %s", name ? name : "",
			strerror(errno));
		r = ERR_IO;
		goto out;
	}
	/* Checksum, TSO and USO offload: the kernel may hand us partial
	 * checksums and TCP or UDP super-packets (gso.c cuts them).  ECN
	 * on super-packets is fine too: segments keep the bits.  USO is
	 * Linux 6.2+: without it, UDP_SEGMENT senders are cut by the
	 * kernel before TUN. */
	if (*offload &&
	    ioctl(f, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
				    TUN_F_TSO_ECN | TUN_F_USO4 |
				    TUN_F_USO6) < 0 &&
	    ioctl(f, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
				    TUN_F_TSO_ECN) < 0) {
		log_warn(LS_DP, "TUN offloads refused: %s", strerror(errno));
		if (ioctl(f, TUNSETOFFLOAD, 0) < 0) {
			r = ERR_IO;
			goto out;
		}
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = 0;
	*fd = f;
	return 0;
out:
	close(f);
	return r;
}
