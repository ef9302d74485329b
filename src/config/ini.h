/* SPDX-License-Identifier: MIT */
/*
 * INI configuration reader.
 *
 *   [daemon]
 *   tun = ipsec0            ; trailing comment after whitespace
 *   [conn office]           # a section with a type and a name
 *   esp = aes256gcm16, aes128-sha256
 *
 * Sections are "[type]" or "[type name]"; keys are "key = value".  ';' and
 * '#' start a comment at the start of a line or after whitespace ("a#b" is
 * a value).  Keys outside a section, lines without '=', empty keys or
 * values, duplicate keys in a section and duplicate sections (same type
 * and name) are errors, each logged once as "file:line: ..." under LS_CFG.
 *
 * Ownership: ini_load()/ini_parse_mem() return a struct ini owned by the
 * caller (free with ini_free()).  Every string and section pointer handed
 * out is borrowed from it and valid until ini_free().
 *
 * Unknown keys: consumers look keys up with ini_get()/ini_get_kv(), which
 * mark them used; ini_check_unused() then logs every key nobody asked for
 * ("file:line: unknown key 'foo' in [conn office]").
 */
#ifndef IPSECD_CONFIG_INI_H
#define IPSECD_CONFIG_INI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ini;

/* One "key = value" line (read-only for callers except through ini_*). */
struct ini_kv {
	const char *key;
	const char *value;	/* trimmed, never empty */
	unsigned line;
	bool used;
	struct ini_kv *next;
};

struct ini_section {
	const char *type;	/* "conn" in "[conn office]" */
	const char *name;	/* "office", or NULL for "[daemon]" */
	unsigned line;
	struct ini_kv *keys;	/* in file order */
	struct ini_section *next;
	const struct ini *ini;	/* back pointer, for file names in errors */
};

/*
 * Read and parse a file.  0 and *out (owned), ERR_IO if it cannot be read
 * (logged), ERR_CONFIG on any syntax error (each logged), ERR_NOMEM.
 */
int ini_load(const char *path, struct ini **out);
/* The same over memory; name is used in messages ("file:line"). */
int ini_parse_mem(const char *buf, size_t len, const char *name,
		  struct ini **out);
void ini_free(struct ini *ini);

/* The file name given to ini_load()/ini_parse_mem() (borrowed). */
const char *ini_path(const struct ini *ini);

/*
 * Log a configuration error once, as "file:line: TITLE KEY: message"
 * (kv NULL: the section's line, "file:line: TITLE: message"), and count
 * it in *errs.  TITLE names the section, e.g. "[conn office]".
 */
__attribute__((format(printf, 5, 6))) void
ini_kv_err(const struct ini_section *s, const struct ini_kv *kv,
	   const char *title, int *errs, const char *fmt, ...);

/* Iteration in file order; NULL at the end. */
struct ini_section *ini_first(const struct ini *ini);
struct ini_section *ini_next(const struct ini_section *s);
/* The section [type] (name NULL) or [type name]; NULL if absent. */
struct ini_section *ini_find(const struct ini *ini, const char *type,
			     const char *name);

/*
 * Lookups take a section from ini_find() as it is: s may be NULL (an
 * absent section), which finds nothing.
 */
/* Value of key (borrowed) and mark it used; NULL if absent. */
const char *ini_get(struct ini_section *s, const char *key);
/* The whole entry (for its line number); marks it used; NULL if absent. */
struct ini_kv *ini_get_kv(struct ini_section *s, const char *key);
/* Mark every key of a section used (a section handed to a plugin). */
void ini_mark_all_used(struct ini_section *s);
/* Log each key never looked up; ERR_CONFIG if there was one, else 0. */
int ini_check_unused(const struct ini *ini);

/* "[conn office]" or "[daemon]" into buf; returns buf. */
const char *ini_section_fmt(const struct ini_section *s, char *buf,
			    size_t len);

#endif
