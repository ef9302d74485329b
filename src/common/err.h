/* SPDX-License-Identifier: MIT */
/*
 * The project-wide error enum.  Every function that can fail returns int:
 * 0 on success, or one of these negative values.  bool is for predicates.
 */
#ifndef IPSECD_COMMON_ERR_H
#define IPSECD_COMMON_ERR_H

enum ipsecd_err {
	ERR_OK = 0,
	ERR_NOMEM = -1,		/* allocation failed */
	ERR_SHORT = -2,		/* input ended before a declared length */
	ERR_NOSPACE = -3,	/* output buffer too small */
	ERR_OVERFLOW = -4,	/* a value does not fit its field */
	ERR_INVAL = -5,		/* bad argument from our own code or config */
	ERR_MALFORMED = -6,	/* bad structure in input from a peer */
	ERR_UNSUPPORTED = -7,	/* known but not implemented or disabled */
	ERR_CRYPTO = -8,	/* the crypto library failed */
	ERR_AUTH = -9,		/* an ICV, tag or signature did not verify */
	ERR_REPLAY = -10,	/* anti-replay rejected a sequence number */
	ERR_NOTFOUND = -11,	/* lookup missed (SA, policy, name) */
	ERR_EXISTS = -12,	/* the thing is there already */
	ERR_PEERKEY = -13,	/* a peer's public key value is invalid */
	ERR_IO = -14,		/* a system call failed; errno says why */
	ERR_PROTO = -15,	/* protocol rule broken (wrong proto, NH) */
	ERR_CONFIG = -16,	/* configuration error (already logged) */
	ERR_PERM = -17,		/* permissions refused (file mode, caps) */
	ERR_LIMIT = -18,	/* a configured limit was reached */
	ERR_EXPIRED = -19,	/* a lifetime or sequence space ran out */
	ERR_DROP = -20,		/* dropped on purpose (dummy, policy) */
	ERR_TIMEOUT = -21,
	ERR__MIN = -22,
};

/* A short, static, human-readable description of r. */
const char *err_str(int r);

#endif
