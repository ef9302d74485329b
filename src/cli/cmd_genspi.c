/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl genspi: a random SPI for a manually keyed SA.  SPIs 1..255 are
 * reserved by IANA and 0 means none (RFC 4303 §2.1), so the value is
 * drawn uniformly from 0x100..0xffffffff.  Works without the daemon.
 */
#include <stdint.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "crypto/crypto.h"

int cmd_genspi(struct cli *cli, int argc, char **argv)
{
	uint8_t b[4];
	uint32_t spi;
	int rc;

	rc = cli_args(cli, &argc, argv, 0, 0, "genspi");
	if (rc >= 0)
		return rc;
	/* Rejection sampling keeps the result uniform. */
	do {
		if (crypto_random(b, sizeof(b))) {
			fprintf(stderr, "ipsecctl: genspi: no random bytes "
				"from OpenSSL\n");
			return CLI_FAIL;
		}
		spi = be32_load(b);
	} while (spi < 0x100);
	printf("0x%08x\n", spi);
	return fflush(stdout) ? CLI_FAIL : CLI_OK;
}
