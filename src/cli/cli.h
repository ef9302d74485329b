/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl internals: global options, the subcommand table, and helpers
 * shared by the subcommands (src/cli/cmd_*.c, one file each).
 *
 * Exit codes: 0 success, 1 failure (the daemon said "error", or it could
 * not be reached), 2 bad usage.
 */
#ifndef IPSECD_CLI_CLI_H
#define IPSECD_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl/ctl.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

/* How long to wait for the daemon's answer. */
#define CLI_TIMEOUT_MS 15000

struct cli {
	const char *sock;	/* -S, default CTL_DEFAULT_SOCKET */
	bool json;		/* --json: print the daemon's JSON */
};

struct cli_cmd {
	const char *name;
	/* argv[0] is the subcommand name; returns an exit code. */
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *args;	/* "NAME", for the usage line */
	const char *help;
};

int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_up(struct cli *cli, int argc, char **argv);
int cmd_down(struct cli *cli, int argc, char **argv);
int cmd_reload(struct cli *cli, int argc, char **argv);
int cmd_rekey(struct cli *cli, int argc, char **argv);
int cmd_genkey(struct cli *cli, int argc, char **argv);
int cmd_genspi(struct cli *cli, int argc, char **argv);
int cmd_pki(struct cli *cli, int argc, char **argv);	/* pki.c */

/* ---- call.c ---- */

/*
 * Take the subcommand's own options (--json, -h/--help) out of argv and
 * check the number of the remaining arguments.  Returns -1 to go on, or
 * an exit code (help printed: 0; bad usage, printed: 2).
 */
int cli_args(struct cli *cli, int *argc, char **argv, int min, int max,
	     const char *usage);
/*
 * Connect and send argv as one request.  On failure prints why (a missing
 * daemon gets the "is ipsecd running?" hint) and returns CLI_FAIL; else 0
 * and res is to be freed with ctl_result_free().
 */
int cli_call(const struct cli *cli, unsigned argc, const char *const *argv,
	     struct ctl_result *res);
/*
 * The usual shape of an action: send it, print the answer (the "message"
 * of the JSON, or "ok"; with --json the JSON), exit 0 or 1.
 */
int cli_action(struct cli *cli, unsigned argc, const char *const *argv);
/* Print JSON text re-indented, numbers and strings exactly as sent. */
void cli_print_json(FILE *f, const char *json, size_t len);
/* Copy s for a terminal: control characters become '?'.  Returns out. */
const char *cli_safe(const char *s, char *out, size_t n);

#endif
