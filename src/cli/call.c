/* SPDX-License-Identifier: MIT */
/* ipsecctl: talking to the daemon and printing what it says. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "common/err.h"

int cli_args(struct cli *cli, int *argc, char **argv, int min, int max,
	     const char *usage)
{
	bool opts = true;
	int i, n = 1;

	for (i = 1; i < *argc; i++) {
		if (!opts) {
			argv[n++] = argv[i];
		} else if (!strcmp(argv[i], "--")) {
			opts = false;	/* a NAME may start with '-' */
		} else if (!strcmp(argv[i], "--json")) {
			cli->json = true;
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help")) {
			printf("usage: ipsecctl %s\n", usage);
			return CLI_OK;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "ipsecctl: %s: unknown option '%s'\n"
				"usage: ipsecctl %s\n", argv[0], argv[i],
				usage);
			return CLI_USAGE;
		} else {
			argv[n++] = argv[i];
		}
	}
	argv[n] = NULL;
	*argc = n;
	if (n - 1 < min || n - 1 > max) {
		fprintf(stderr, "usage: ipsecctl %s\n", usage);
		return CLI_USAGE;
	}
	return -1;
}

/* Why a connect failed, in words a user can act on. */
static void connect_error(const char *path, int r, int e)
{
	if (r == ERR_INVAL) {
		fprintf(stderr, "ipsecctl: socket path '%s' is too long\n",
			path);
		return;
	}
	switch (e) {
	case ENOENT:
	case ECONNREFUSED:
		fprintf(stderr, "ipsecctl: cannot connect to %s: is ipsecd "
			"running? (use -S to choose the socket)\n", path);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr, "ipsecctl: cannot connect to %s: permission "
			"denied (the socket is root's: try sudo)\n", path);
		break;
	default:
		fprintf(stderr, "ipsecctl: cannot connect to %s: %s\n", path,
			strerror(e));
		break;
	}
}

int cli_call(const struct cli *cli, unsigned argc, const char *const *argv,
	     struct ctl_result *res)
{
	int fd, r, e;

	memset(res, 0, sizeof(*res));
	r = ctl_connect(cli->sock, &fd);
	if (r) {
		connect_error(cli->sock, r, errno);
		return CLI_FAIL;
	}
	r = ctl_call(fd, argc, argv, CLI_TIMEOUT_MS, res);
	e = errno;
	close(fd);
	if (!r)
		return 0;
	if (r == ERR_INVAL)
		fprintf(stderr, "ipsecctl: %s: arguments must be printable "
			"words without spaces\n", argv[0]);
	else if (r == ERR_TIMEOUT)
		fprintf(stderr, "ipsecctl: %s: no answer from ipsecd within "
			"%d s\n", argv[0], CLI_TIMEOUT_MS / 1000);
	else if (r == ERR_IO)
		fprintf(stderr, "ipsecctl: %s: connection to ipsecd lost: "
			"%s\n", argv[0], strerror(e));
	else
		fprintf(stderr, "ipsecctl: %s: bad answer from ipsecd: %s\n",
			argv[0], err_str(r));
	return CLI_FAIL;
}

int cli_action(struct cli *cli, unsigned argc, const char *const *argv)
{
	char buf[512], what[256];
	struct ctl_result res;
	const cJSON *msg;
	cJSON *root;
	int rc;

	rc = cli_call(cli, argc, argv, &res);
	if (rc)
		return rc;
	snprintf(what, sizeof(what), "%s%s%s", argv[0], argc > 1 ? " " : "",
		 argc > 1 ? argv[1] : "");
	if (!res.rs.ok) {
		fprintf(stderr, "ipsecctl: %s: %s\n", cli_safe(what, buf,
			sizeof(buf)), res.rs.reason);
		if (cli->json)
			cli_print_json(stdout, res.rs.json, res.rs.json_len);
		ctl_result_free(&res);
		return CLI_FAIL;
	}
	if (cli->json) {
		cli_print_json(stdout, res.rs.json, res.rs.json_len);
	} else {
		root = cJSON_ParseWithLength(res.rs.json, res.rs.json_len);
		msg = cJSON_GetObjectItemCaseSensitive(root, "message");
		if (cJSON_IsString(msg))
			printf("%s\n", cli_safe(msg->valuestring, buf,
						sizeof(buf)));
		else
			printf("ok: %s\n", cli_safe(what, buf, sizeof(buf)));
		cJSON_Delete(root);
	}
	ctl_result_free(&res);
	return CLI_OK;
}

const char *cli_safe(const char *s, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t i = 0;

	if (!n)
		return out;
	for (; *p && i + 1 < n; p++) {
		/* C0, DEL, and C1 controls (UTF-8 0xc2 0x80..0x9f). */
		if (*p < 0x20 || *p == 0x7f) {
			out[i++] = '?';
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			out[i++] = '?';
			p++;
		} else {
			out[i++] = (char)*p;
		}
	}
	out[i] = '\0';
	return out;
}

static void indent(FILE *f, unsigned depth)
{
	fputc('\n', f);
	while (depth--)
		fputs("  ", f);
}

/* Next byte that is not JSON whitespace, from i; len if none. */
static size_t skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
			   s[i] == '\r'))
		i++;
	return i;
}

void cli_print_json(FILE *f, const char *s, size_t len)
{
	bool in_str = false, esc = false;
	unsigned depth = 0;
	size_t i, k;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			if (in_str)
				fputc('?', f);
			continue;	/* whitespace outside strings */
		}
		if (in_str) {
			fputc(c, f);
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case ' ':
			break;
		case '"':
			in_str = true;
			fputc(c, f);
			break;
		case '{':
		case '[':
			k = skip_ws(s, i + 1, len);
			if (k < len && (s[k] == '}' || s[k] == ']')) {
				fputc(c, f);
				fputc(s[k], f);
				i = k;
				break;
			}
			fputc(c, f);
			indent(f, ++depth);
			break;
		case '}':
		case ']':
			if (depth)
				depth--;
			indent(f, depth);
			fputc(c, f);
			break;
		case ',':
			fputc(c, f);
			indent(f, depth);
			break;
		case ':':
			fputs(": ", f);
			break;
		default:
			fputc(c, f);
			break;
		}
	}
	fputc('\n', f);
}
