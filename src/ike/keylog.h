/* SPDX-License-Identifier: MIT */
/*
 * Key-log lines in the formats of Wireshark's decryption tables, for the
 * opt-in key log (off by default: it writes live keys in clear).  One
 * record per call, formatted into caller memory; writing the file is the
 * key-log feature's business.
 *
 * Both tables are Wireshark "UAT" files, one record per line, fields
 * separated by commas, text fields in double quotes, byte fields in
 * bare hex.  Algorithm fields must be one of Wireshark's own labels,
 * spelt exactly (they are enum values in the UAT).  Checked against
 * Wireshark 4.0 (tshark decrypts our lines); see keylog.c for the label
 * tables and for what Wireshark cannot decrypt.
 *
 * ikev2_decryption_table (ISAKMP preferences, "IKEv2 Decryption Table"):
 *   SPIi,SPIr,SK_ei,SK_er,"encryption",SK_ai,SK_ar,"integrity"
 *   e.g. d5480df7589922f5,4ca098a795646a8e,2adab3...,959de7...,
 *        "AES-GCM-128 with 16 octet ICV [RFC5282]",,,"NONE [RFC4306]"
 *
 * esp_sa (ESP preferences, "ESP SAs"), one line per direction:
 *   "IPv4","src","dst","0xSPI","encryption","0xKEY","integrity","0xKEY"
 *   e.g. "IPv4","192.0.2.10","192.0.2.20","0xc22b9b6d",
 *        "AES-GCM with 16 octet ICV [RFC4106]","0xa4006053...","NULL",""
 */
#ifndef IPSECD_IKE_KEYLOG_H
#define IPSECD_IKE_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "esp/sa.h"
#include "ike/ikev2_keymat.h"

/*
 * Room for the longest line either function writes (64-byte integrity
 * keys, IPv6 addresses) with its newline and NUL.
 */
#define KEYLOG_LINE_MAX 512

/*
 * One ikev2_decryption_table record for an IKE SA, ending in "\n",
 * NUL-terminated in out (cap bytes, KEYLOG_LINE_MAX is always enough).
 * encr/integ are the IKE SA's transforms (integ NULL with AEAD), keys as
 * ikev2_derive_ike_keys() made them.  ERR_UNSUPPORTED if Wireshark has no
 * label for the cipher (ChaCha20-Poly1305, GMAC); ERR_NOSPACE if cap is
 * too small; ERR_INVAL on a key length that does not match the
 * transforms.
 */
int keylog_ikev2_line(const uint8_t spi_i[IKE_SPI_LEN],
		      const uint8_t spi_r[IKE_SPI_LEN],
		      const struct encr_alg *encr,
		      const struct integ_alg *integ,
		      const struct ike_keys *keys, char *out, size_t cap);

/*
 * One esp_sa record for one ESP SA (one direction), ending in "\n".
 * sa->src/dst, spi, encr, integ and the keys are used; an AH SA is
 * ERR_UNSUPPORTED (the table is ESP only), as are AES-CCM and GMAC.
 * ChaCha20-Poly1305 gets the label newer Wireshark releases define;
 * Wireshark 4.0 rejects that record.
 */
int keylog_esp_line(const struct sa_params *sa, char *out, size_t cap);

#endif
