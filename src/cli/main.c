/* SPDX-License-Identifier: MIT */
/* ipsecctl: control and helper tool for ipsecd. */
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: ipsecctl [-S SOCKET] COMMAND [ARGS]\n"
		   "  version    print the version\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "version") ||
			  !strcmp(argv[1], "--version"))) {
		printf("ipsecctl %s\n", IPSECD_VERSION);
		return 0;
	}
	usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
	return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
}
