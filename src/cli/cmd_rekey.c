/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl rekey: ask the daemon to rekey connection NAME now instead of at its
 * soft lifetime (IKE: CREATE_CHILD_SA, RFC 7296 §1.3.3).
 */
#include "cli/cli.h"

int cmd_rekey(struct cli *cli, int argc, char **argv)
{
	int rc;

	rc = cli_args(cli, &argc, argv, 1, 1, "rekey NAME [--json]");
	if (rc >= 0)
		return rc;
	return cli_action(cli, (unsigned)argc, (const char *const *)argv);
}
