/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl up: ask the daemon to bring connection NAME up (IKE: start the
 * exchange).  The daemon answers at once; the SA comes up in the
 * background, as `ipsecctl status` shows.
 */
#include "cli/cli.h"

int cmd_up(struct cli *cli, int argc, char **argv)
{
	int rc;

	rc = cli_args(cli, &argc, argv, 1, 1, "up NAME [--json]");
	if (rc >= 0)
		return rc;
	return cli_action(cli, (unsigned)argc, (const char *const *)argv);
}
