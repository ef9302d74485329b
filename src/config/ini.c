/* SPDX-License-Identifier: MIT */
#include "config/ini.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

/* A configuration file is small; refuse anything absurd before reading. */
#define INI_MAX_FILE (16u << 20)

struct ini {
	char *path;		/* owned copy of the name */
	char *text;		/* owned copy of the input, cut up in place */
	struct ini_section *first, *last;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static bool ident_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_ident(*s))
			return false;
	return true;
}

/* Trim in place: returns the first non-space char, cuts trailing space. */
static char *trim(char *s)
{
	char *e;

	while (is_space(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_space(e[-1]))
		*--e = '\0';
	return s;
}

/* Cut a comment: ';' or '#' at the start or after whitespace. */
static void cut_comment(char *s)
{
	char *p;

	for (p = s; *p; p++) {
		if ((*p == ';' || *p == '#') && (p == s || is_space(p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

static bool same_name(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

const char *ini_section_fmt(const struct ini_section *s, char *buf,
			    size_t len)
{
	if (s->name)
		snprintf(buf, len, "[%s %s]", s->type, s->name);
	else
		snprintf(buf, len, "[%s]", s->type);
	return buf;
}

static int parse_section(struct ini *ini, char *s, unsigned line)
{
	struct ini_section *sec, *o;
	char *end, *type, *name = NULL, *p;
	char what[160];

	end = s + strlen(s) - 1;
	if (*end != ']') {
		log_err(LS_CFG, "%s:%u: section header without ']' "
			"(write [type] or [type name])", ini->path, line);
		return ERR_CONFIG;
	}
	*end = '\0';
	type = trim(s + 1);
	for (p = type; *p && !is_space(*p); p++)
		;
	if (*p) {
		*p = '\0';
		name = trim(p + 1);
	}
	if (!ident_ok(type) || (name && !ident_ok(name))) {
		log_err(LS_CFG, "%s:%u: bad section header (write [type] or "
			"[type name] with letters, digits, '_', '-', '.')",
			ini->path, line);
		return ERR_CONFIG;
	}
	for (o = ini->first; o; o = o->next) {
		if (!strcmp(o->type, type) && same_name(o->name, name)) {
			log_err(LS_CFG, "%s:%u: duplicate section %s "
				"(first at line %u)", ini->path, line,
				ini_section_fmt(o, what, sizeof(what)),
				o->line);
			return ERR_CONFIG;
		}
	}
	sec = calloc(1, sizeof(*sec));
	if (!sec)
		return ERR_NOMEM;
	sec->type = type;
	sec->name = name;
	sec->line = line;
	sec->ini = ini;
	if (ini->last)
		ini->last->next = sec;
	else
		ini->first = sec;
	ini->last = sec;
	return 0;
}

static int parse_kv(struct ini *ini, struct ini_section *sec,
		    struct ini_kv **tail, char *s, unsigned line)
{
	struct ini_kv *kv, *o;
	char *eq, *key, *val;
	char what[160];

	eq = strchr(s, '=');
	if (!eq) {
		/* The text itself is not echoed: it may be half a secret. */
		log_err(LS_CFG, "%s:%u: expected 'key = value' or '[section]'"
			" (missing '='?)", ini->path, line);
		return ERR_CONFIG;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!ident_ok(key)) {
		log_err(LS_CFG, "%s:%u: bad key name (use letters, digits, "
			"'_', '-', '.')", ini->path, line);
		return ERR_CONFIG;
	}
	if (!sec) {
		log_err(LS_CFG, "%s:%u: key '%s' outside a section (add a "
			"[section] line above it)", ini->path, line, key);
		return ERR_CONFIG;
	}
	if (!*val) {
		log_err(LS_CFG, "%s:%u: empty value for '%s' (remove the line"
			" to use the default)", ini->path, line, key);
		return ERR_CONFIG;
	}
	for (o = sec->keys; o; o = o->next) {
		if (!strcmp(o->key, key)) {
			log_err(LS_CFG, "%s:%u: duplicate key '%s' in %s "
				"(first at line %u)", ini->path, line, key,
				ini_section_fmt(sec, what, sizeof(what)),
				o->line);
			return ERR_CONFIG;
		}
	}
	kv = calloc(1, sizeof(*kv));
	if (!kv)
		return ERR_NOMEM;
	kv->key = key;
	kv->value = val;
	kv->line = line;
	*tail = kv;
	return 0;
}

static int parse_text(struct ini *ini)
{
	struct ini_section *sec = NULL;
	struct ini_kv **tail = NULL;
	char *line = ini->text, *nl, *s;
	unsigned lineno = 0;
	bool skip = false;
	int r, first_err = 0;

	while (line) {
		lineno++;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		cut_comment(line);
		s = trim(line);
		r = 0;
		if (*s == '[') {
			r = parse_section(ini, s, lineno);
			/* Keys below a bad header would only add noise. */
			skip = r != 0;
			sec = r ? NULL : ini->last;
			tail = r ? NULL : &sec->keys;
		} else if (*s && !skip) {
			r = parse_kv(ini, sec, tail, s, lineno);
			if (r == 0)
				tail = &(*tail)->next;
		}
		if (r == ERR_NOMEM)
			return r;
		if (r && !first_err)
			first_err = r;
		line = nl ? nl + 1 : NULL;
	}
	return first_err;
}

void ini_free(struct ini *ini)
{
	struct ini_section *s, *sn;
	struct ini_kv *k, *kn;

	if (!ini)
		return;
	for (s = ini->first; s; s = sn) {
		sn = s->next;
		for (k = s->keys; k; k = kn) {
			kn = k->next;
			free(k);
		}
		free(s);
	}
	free(ini->text);
	free(ini->path);
	free(ini);
}

int ini_parse_mem(const char *buf, size_t len, const char *name,
		  struct ini **out)
{
	struct ini *ini;
	const char *nul;
	int r;

	*out = NULL;
	if (!name)
		name = "(config)";
	ini = calloc(1, sizeof(*ini));
	if (!ini)
		return ERR_NOMEM;
	ini->path = strdup(name);
	ini->text = malloc(len + 1);
	if (!ini->path || !ini->text) {
		r = ERR_NOMEM;
		goto out;
	}
	if (len)
		memcpy(ini->text, buf, len);
	ini->text[len] = '\0';
	nul = memchr(ini->text, '\0', len);
	if (nul) {
		unsigned line = 1;
		const char *p;

		for (p = ini->text; p < nul; p++)
			line += *p == '\n';
		log_err(LS_CFG, "%s:%u: NUL byte (is this a text file?)",
			ini->path, line);
		r = ERR_CONFIG;
		goto out;
	}
	r = parse_text(ini);
out:
	if (r) {
		ini_free(ini);
		return r;
	}
	*out = ini;
	return 0;
}

int ini_load(const char *path, struct ini **out)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, r;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_err(LS_CFG, "%s: cannot open: %s", path, strerror(errno));
		return ERR_IO;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > INI_MAX_FILE) {
		log_err(LS_CFG, "%s: not a regular file of at most %u bytes",
			path, INI_MAX_FILE);
		r = ERR_IO;
		goto out;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		r = ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err(LS_CFG, "%s: read: %s", path, strerror(errno));
			r = ERR_IO;
			goto out;
		}
		if (n == 0)
			break;	/* shrank under us: parse what is there */
		got += (size_t)n;
	}
	r = ini_parse_mem(data, got, path, out);
out:
	free(data);
	close(fd);
	return r;
}

const char *ini_path(const struct ini *ini)
{
	return ini->path;
}

void ini_kv_err(const struct ini_section *s, const struct ini_kv *kv,
		const char *title, int *errs, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (kv)
		log_err(LS_CFG, "%s:%u: %s %s: %s", ini_path(s->ini), kv->line,
			title, kv->key, msg);
	else
		log_err(LS_CFG, "%s:%u: %s: %s", ini_path(s->ini), s->line,
			title, msg);
	if (errs)
		(*errs)++;
}

struct ini_section *ini_first(const struct ini *ini)
{
	return ini->first;
}

struct ini_section *ini_next(const struct ini_section *s)
{
	return s->next;
}

struct ini_section *ini_find(const struct ini *ini, const char *type,
			     const char *name)
{
	struct ini_section *s;

	for (s = ini->first; s; s = s->next)
		if (!strcmp(s->type, type) && same_name(s->name, name))
			return s;
	return NULL;
}

struct ini_kv *ini_get_kv(struct ini_section *s, const char *key)
{
	struct ini_kv *k;

	if (!s)
		return NULL;
	for (k = s->keys; k; k = k->next) {
		if (!strcmp(k->key, key)) {
			k->used = true;
			return k;
		}
	}
	return NULL;
}

const char *ini_get(struct ini_section *s, const char *key)
{
	struct ini_kv *k = ini_get_kv(s, key);

	return k ? k->value : NULL;
}

void ini_mark_all_used(struct ini_section *s)
{
	struct ini_kv *k;

	for (k = s ? s->keys : NULL; k; k = k->next)
		k->used = true;
}

int ini_check_unused(const struct ini *ini)
{
	const struct ini_section *s;
	const struct ini_kv *k;
	char what[160];
	int r = 0;

	for (s = ini->first; s; s = s->next) {
		for (k = s->keys; k; k = k->next) {
			if (k->used)
				continue;
			log_err(LS_CFG, "%s:%u: unknown key '%s' in %s",
				ini->path, k->line, k->key,
				ini_section_fmt(s, what, sizeof(what)));
			r = ERR_CONFIG;
		}
	}
	return r;
}
