/* SPDX-License-Identifier: MIT */
/*
 * Dropping root (privdrop.h).  Raw capget/capset system calls rather
 * than libcap: two capabilities do not need a library, and the kernel's
 * interface (struct __user_cap_data_struct, version 3: two 32-bit words
 * per set) is stable.
 */
#include "daemon/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

/* The capabilities kept after the drop; see privdrop.h for why. */
static const int keep_caps[] = { CAP_NET_ADMIN, CAP_DAC_READ_SEARCH };
#define N_KEEP (sizeof(keep_caps) / sizeof(keep_caps[0]))

static bool kept(int cap)
{
	size_t i;

	for (i = 0; i < N_KEEP; i++)
		if (keep_caps[i] == cap)
			return true;
	return false;
}

int privdrop_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		return ERR_NOTFOUND;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* Permitted = effective = keep_caps, nothing inheritable. */
static int set_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	size_t i;

	memset(data, 0, sizeof(data));
	for (i = 0; i < N_KEEP; i++) {
		data[keep_caps[i] / 32].permitted |= 1u << (keep_caps[i] % 32);
		data[keep_caps[i] / 32].effective |= 1u << (keep_caps[i] % 32);
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return ERR_PERM;
	return 0;
}

int privdrop(const char *user)
{
	uid_t uid;
	gid_t gid;
	int cap;

	if (privdrop_lookup(user, &uid, &gid)) {
		log_err(LS_MAIN, "[daemon] user: no user '%s' (create it, or "
			"set user = root to keep root)", user);
		return ERR_NOTFOUND;
	}
	if (uid == 0) {
		log_warn(LS_MAIN, "running as root with all capabilities "
			 "([daemon] user = %s); set user = nobody or a "
			 "dedicated user to limit what a flaw could do", user);
		return 0;
	}
	/* The bounding set caps what any later exec could get; cutting it
	 * needs CAP_SETPCAP, so before the uid changes.  Capabilities the
	 * running kernel does not know give EINVAL: the end of the list. */
	for (cap = 0; cap < 64; cap++) {
		if (kept(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			log_err(LS_MAIN, "cannot drop capability %d from the "
				"bounding set: %s", cap, strerror(errno));
			return ERR_PERM;
		}
	}
	/* Keep the permitted set across setuid(), then cut it down. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    initgroups(user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		log_err(LS_MAIN, "cannot become user %s (uid %u, gid %u): %s",
			user, (unsigned)uid, (unsigned)gid, strerror(errno));
		return ERR_PERM;
	}
	if (set_caps() || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err(LS_MAIN, "cannot set the capabilities of user %s: %s",
			user, strerror(errno));
		return ERR_PERM;
	}
	/* Make sure it took: root must be out of reach now. */
	if (setuid(0) == 0 || geteuid() == 0) {
		log_err(LS_MAIN, "still able to become root after dropping "
			"privileges; refusing to run");
		return ERR_PERM;
	}
	log_info(LS_MAIN, "running as user %s (uid %u, gid %u) with "
		 "CAP_NET_ADMIN and CAP_DAC_READ_SEARCH only", user,
		 (unsigned)uid, (unsigned)gid);
	return 0;
}
