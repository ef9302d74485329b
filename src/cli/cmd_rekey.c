/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl rekey: ask the daemon to rekey connection NAME now instead of at
 * its soft lifetime: its Child SAs (CREATE_CHILD_SA with REKEY_SA, RFC 7296
 * §1.3.3), or with --ike its IKE SA (§1.3.2, §2.18).
 */
#include <string.h>

#include "cli/cli.h"

int cmd_rekey(struct cli *cli, int argc, char **argv)
{
	const char *av[3];
	bool ike = false, opts = true;
	int i, n = 1, rc;

	/* --ike anywhere before "--"; the rest goes to cli_args(). */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			opts = false;
		if (opts && !strcmp(argv[i], "--ike")) {
			ike = true;
			continue;
		}
		argv[n++] = argv[i];
	}
	argv[n] = NULL;
	argc = n;
	rc = cli_args(cli, &argc, argv, 1, 1, "rekey [--ike] NAME [--json]");
	if (rc >= 0)
		return rc;
	av[0] = argv[0];
	av[1] = argv[1];
	av[2] = "ike";
	return cli_action(cli, ike ? 3u : 2u, av);
}
