/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl genkey [BYTES]: a random key in hex for manual keying, from
 * OpenSSL's DRBG, so nobody needs an openssl recipe.  The default of 36
 * bytes is an AES-256-GCM key and its 4-byte salt (RFC 4106 §8.1).  Works
 * without the daemon.
 */
#include <stdint.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "crypto/crypto.h"

#define GENKEY_DEFAULT 36
#define GENKEY_MAX 1024

int cmd_genkey(struct cli *cli, int argc, char **argv)
{
	uint8_t key[GENKEY_MAX];
	unsigned long n = GENKEY_DEFAULT;
	char *end;
	size_t i;
	int rc;

	rc = cli_args(cli, &argc, argv, 0, 1, "genkey [BYTES]");
	if (rc >= 0)
		return rc;
	if (argc == 2) {
		n = strtoul(argv[1], &end, 10);
		if (argv[1][0] < '0' || argv[1][0] > '9' || *end || n == 0 ||
		    n > GENKEY_MAX) {
			fprintf(stderr, "ipsecctl: genkey: BYTES must be "
				"1..%u\n", GENKEY_MAX);
			return CLI_USAGE;
		}
	}
	if (crypto_random(key, n)) {
		fprintf(stderr, "ipsecctl: genkey: no random bytes from "
			"OpenSSL\n");
		return CLI_FAIL;
	}
	for (i = 0; i < n; i++)
		printf("%02x", key[i]);
	printf("\n");
	crypto_wipe(key, sizeof(key));
	return fflush(stdout) ? CLI_FAIL : CLI_OK;
}
