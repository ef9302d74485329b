/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl: control and helper tool for ipsecd.  Global options come
 * before the subcommand; each subcommand lives in its own cmd_*.c and is
 * found through the table below.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_cmd commands[] = {
	{ "status", cmd_status, "[--json]",
	  "show the daemon, its IKE SAs and static SAs" },
	{ "up", cmd_up, "NAME", "bring a connection up" },
	{ "down", cmd_down, "NAME", "take a connection down" },
	{ "reload", cmd_reload, "", "reread the configuration" },
	{ "rekey", cmd_rekey, "[--ike] NAME",
	  "rekey a connection's Child SAs (--ike: its IKE SA) now" },
	{ "genkey", cmd_genkey, "[BYTES]",
	  "print a random hex key (default 36: AES-256-GCM+salt)" },
	{ "genspi", cmd_genspi, "", "print a random SPI for manual keying" },
	{ "pki", cmd_pki, "KIND NAME",
	  "make a CA, server or client certificate (docs/pki.md)" },
	{ NULL, NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	const struct cli_cmd *c;

	fprintf(f, "usage: ipsecctl [-S SOCKET] [--json] COMMAND [ARGS]\n"
		   "\n"
		   "options:\n"
		   "  -S, --socket SOCKET  control socket (default %s)\n"
		   "  --json               print the daemon's JSON answer\n"
		   "  -h, --help           this help\n"
		   "  -V, --version        print the version\n"
		   "\n"
		   "commands:\n", CTL_DEFAULT_SOCKET);
	for (c = commands; c->name; c++)
		fprintf(f, "  %-7s %-9s %s\n", c->name, c->args, c->help);
	fprintf(f, "  %-7s %-9s %s\n", "version", "", "print the version");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .sock = CTL_DEFAULT_SOCKET };
	const struct cli_cmd *c;
	int o;

	/* '+': stop at the subcommand; its options are its own. */
	while ((o = getopt_long(argc, argv, "+S:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'S':
			cli.sock = optarg;
			break;
		case 'j':
			cli.json = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		case 'V':
			printf("ipsecctl %s\n", IPSECD_VERSION);
			return CLI_OK;
		default:
			usage(stderr);
			return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "version")) {
		printf("ipsecctl %s\n", IPSECD_VERSION);
		return CLI_OK;
	}
	if (!strcmp(argv[0], "help")) {
		usage(stdout);
		return CLI_OK;
	}
	for (c = commands; c->name; c++)
		if (!strcmp(c->name, argv[0]))
			return c->fn(&cli, argc, argv);
	fprintf(stderr, "ipsecctl: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return CLI_USAGE;
}
