/* SPDX-License-Identifier: MIT */
#include "common/err.h"

static const char *const err_names[] = {
	[-ERR_OK] = "success",
	[-ERR_NOMEM] = "out of memory",
	[-ERR_SHORT] = "input truncated",
	[-ERR_NOSPACE] = "no space in output buffer",
	[-ERR_OVERFLOW] = "value does not fit its field",
	[-ERR_INVAL] = "invalid argument",
	[-ERR_MALFORMED] = "malformed input",
	[-ERR_UNSUPPORTED] = "not supported",
	[-ERR_CRYPTO] = "crypto library error",
	[-ERR_AUTH] = "integrity check failed",
	[-ERR_REPLAY] = "replayed sequence number",
	[-ERR_NOTFOUND] = "not found",
	[-ERR_EXISTS] = "already exists",
	[-ERR_PEERKEY] = "invalid peer public value",
	[-ERR_IO] = "I/O error",
	[-ERR_PROTO] = "protocol violation",
	[-ERR_CONFIG] = "configuration error",
	[-ERR_PERM] = "permission denied",
	[-ERR_LIMIT] = "limit reached",
	[-ERR_EXPIRED] = "expired",
	[-ERR_DROP] = "dropped",
	[-ERR_TIMEOUT] = "timed out",
};

const char *err_str(int r)
{
	if (r > 0 || r <= ERR__MIN)
		return "unknown error";
	return err_names[-r];
}
