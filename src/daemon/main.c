/* SPDX-License-Identifier: MIT */
/* ipsecd: the IPsec daemon. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ipsecd [-f] [-c FILE] [-S SOCKET] [-d LEVELS]\n"
		"  -c FILE    configuration file (default /etc/ipsecd/ipsecd.conf)\n"
		"  -f         stay in the foreground, log to stderr\n"
		"  -S SOCKET  control socket (default /run/ipsecd.sock)\n"
		"  -d LEVELS  log levels: debug, or ike=debug,esp=info\n"
		"  -V         print the version\n");
}

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "c:fS:d:Vh")) != -1) {
		switch (c) {
		case 'V':
			printf("ipsecd %s\n", IPSECD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'd':
			if (log_parse_levels(optarg)) {
				fprintf(stderr, "ipsecd: bad -d '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'c':
		case 'f':
		case 'S':
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	usage(stderr);
	return 2;
}
