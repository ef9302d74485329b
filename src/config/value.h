/* SPDX-License-Identifier: MIT */
/*
 * Typed configuration values.
 *
 * cfg_parse_*() convert one string and do not log: 0, ERR_INVAL for bad
 * syntax, ERR_OVERFLOW for a number too large.  The ini_get_*() wrappers
 * look a key up in a section (marking it used) and log bad values as
 * "file:line: ..." under LS_CFG: 0, ERR_NOTFOUND if the key is absent (not
 * logged, so callers apply their default), or ERR_CONFIG (logged).
 */
#ifndef IPSECD_CONFIG_VALUE_H
#define IPSECD_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/ini.h"

/* "30" or "30s", "90m", "4h", "2d" into seconds. */
int cfg_parse_duration(const char *s, uint64_t *secs);
/* "4096", "500K", "500M", "1G", "2T" (binary: 1K = 1024) into bytes. */
int cfg_parse_size(const char *s, uint64_t *bytes);
/* yes/no, on/off, true/false, 1/0 (case-insensitive). */
int cfg_parse_bool(const char *s, bool *v);
/*
 * "0x0123..." (the 0x is optional, an even number of hex digits) into out
 * of capacity cap; *len gets the byte count.  ERR_INVAL for bad hex,
 * ERR_OVERFLOW if it does not fit cap.  out is wiped on failure.
 */
int cfg_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len);
/*
 * Split "a, b ,c" into trimmed items.  *items is owned: free it with
 * cfg_list_free(*items, *n).  An empty item ("a,,b", "a,") is ERR_INVAL.
 */
int cfg_parse_list(const char *s, char ***items, size_t *n);
void cfg_list_free(char **items, size_t n);

int ini_get_duration(struct ini_section *s, const char *key, uint64_t *secs);
int ini_get_size(struct ini_section *s, const char *key, uint64_t *bytes);
int ini_get_bool(struct ini_section *s, const char *key, bool *v);

/*
 * Refuse a secret file that group or other may read or write: ERR_PERM
 * with a log line naming the file and the fix (chmod 600), ERR_IO if it
 * cannot be stat()ed (logged), else 0.
 */
int secret_file_check(const char *path);

#endif
