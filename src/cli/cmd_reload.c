/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl reload: ask the daemon to reread its configuration file.
 */
#include "cli/cli.h"

int cmd_reload(struct cli *cli, int argc, char **argv)
{
	int rc;

	rc = cli_args(cli, &argc, argv, 0, 0, "reload [--json]");
	if (rc >= 0)
		return rc;
	return cli_action(cli, (unsigned)argc, (const char *const *)argv);
}
