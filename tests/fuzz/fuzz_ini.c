/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the INI reader (config/ini.h) and the typed value
 * parsers (config/value.h).  The input is a whole configuration file.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "config/ini.h"
#include "config/value.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Every rejected input logs a line: keep the fuzzer's output
	 * readable. */
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd >= 0)
		log_set_fd(fd);
	return 0;
}

static void check(int cond)
{
	if (!cond)
		abort();
}

static void values(const char *v)
{
	uint8_t key[64];
	char **items;
	uint64_t n;
	size_t len, cnt, i;
	bool b;

	check(*v != '\0');
	(void)cfg_parse_duration(v, &n);
	(void)cfg_parse_size(v, &n);
	(void)cfg_parse_bool(v, &b);
	if (cfg_parse_hex(v, key, sizeof(key), &len) == 0)
		check(len > 0 && len <= sizeof(key));
	if (cfg_parse_list(v, &items, &cnt) == 0) {
		check(cnt > 0);
		for (i = 0; i < cnt; i++)
			check(items[i][0] != '\0');
		cfg_list_free(items, cnt);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ini_section *s;
	struct ini_kv *kv;
	struct ini *ini;
	char title[160];

	if (ini_parse_mem((const char *)data, size, "fuzz.ini", &ini))
		return 0;
	for (s = ini_first(ini); s; s = ini_next(s)) {
		check(s->type && *s->type);
		check(ini_find(ini, s->type, s->name) == s);
		ini_section_fmt(s, title, sizeof(title));
		for (kv = s->keys; kv; kv = kv->next) {
			check(kv->line > 0 && kv->line >= s->line);
			check(ini_get(s, kv->key) == kv->value);
			values(kv->value);
		}
	}
	/* Everything was looked up, so nothing is unknown. */
	check(ini_check_unused(ini) == 0);
	ini_free(ini);
	return 0;
}
