/* SPDX-License-Identifier: MIT */
#include "vectors.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vec_path(const char *relpath)
{
	static char path[4096];
	const char *dir = getenv("IPSECD_VECTORS");

	if (!dir || !*dir)
		dir = "../shared/vectors";
	snprintf(path, sizeof(path), "%s/%s", dir, relpath);
	return path;
}

cJSON *vec_load(const char *relpath)
{
	const char *path = vec_path(relpath);
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long n;
	cJSON *j = NULL;

	if (!f) {
		fprintf(stderr, "vectors: cannot open %s\n", path);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		goto out;
	text = malloc((size_t)n + 1);
	if (!text || fread(text, 1, (size_t)n, f) != (size_t)n)
		goto out;
	text[n] = '\0';
	j = cJSON_Parse(text);
	if (!j)
		fprintf(stderr, "vectors: %s is not valid JSON\n", path);
out:
	free(text);
	fclose(f);
	return j;
}

const char *vec_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int nibble(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int vec_hex(const char *hex, uint8_t **out, size_t *len)
{
	size_t n = 0, cap;
	uint8_t *b;
	int hi = -1, v;

	*out = NULL;
	*len = 0;
	if (!hex)
		return -1;
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	cap = strlen(hex) / 2 + 1;
	b = malloc(cap);
	if (!b)
		return -1;
	for (; *hex; hex++) {
		if (isspace((unsigned char)*hex) || *hex == ':')
			continue;
		v = nibble((unsigned char)*hex);
		if (v < 0)
			goto bad;
		if (hi < 0) {
			hi = v;
		} else {
			b[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		goto bad;
	*out = b;
	*len = n;
	return 0;
bad:
	free(b);
	return -1;
}

void vec_report(const char *file, unsigned passed, unsigned total)
{
	printf("# vectors: %s: %u/%u cases passed\n", file, passed, total);
	fflush(stdout);
}
