/* SPDX-License-Identifier: MIT */
/*
 * Helpers for known-answer tests: load a vector file from the shared
 * folder (IPSECD_VECTORS, set by tests/run.sh) as it is, and decode hex.
 */
#ifndef IPSECD_TESTS_VECTORS_H
#define IPSECD_TESTS_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Parse IPSECD_VECTORS/relpath; NULL (and a message) if missing/bad. */
cJSON *vec_load(const char *relpath);
/* Full path of a vector file (static buffer). */
const char *vec_path(const char *relpath);
/* String member, or NULL if absent or not a string. */
const char *vec_str(const cJSON *obj, const char *key);
/*
 * Decode a hex string (whitespace and a leading "0x" ignored) into a new
 * buffer (owned: free()).  An empty string gives len 0 and a non-NULL
 * pointer.  0, or -1 on bad hex.
 */
int vec_hex(const char *hex, uint8_t **out, size_t *len);
/* Print the per-file tally as a TAP comment the runner picks up. */
void vec_report(const char *file, unsigned passed, unsigned total);

#endif
