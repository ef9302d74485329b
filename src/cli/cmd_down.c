/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl down: ask the daemon to take connection NAME down; its SAs
 * are deleted (IKE: with an INFORMATIONAL Delete, RFC 7296 §1.4.1).
 */
#include "cli/cli.h"

int cmd_down(struct cli *cli, int argc, char **argv)
{
	int rc;

	rc = cli_args(cli, &argc, argv, 1, 1, "down NAME [--json]");
	if (rc >= 0)
		return rc;
	return cli_action(cli, (unsigned)argc, (const char *const *)argv);
}
