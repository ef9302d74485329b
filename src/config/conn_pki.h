/* SPDX-License-Identifier: MIT */
/*
 * The certificate keys of a [conn] section (docs/pki.md):
 *   auth = psk | pubkey          how we authenticate (default psk)
 *   remote_auth = psk | pubkey   how the peer must (default: auth)
 *   cert = PATH                  our certificate, then its chain (PEM)
 *   key = PATH                   its private key, mode 600
 *   ca = PATH[, PATH...]         trust anchors for the peer's certificate
 *   crl = PATH[, PATH...]        CRLs of those CAs (optional)
 *   send_cert = always | ifasked | never   (default always)
 *   rsa_pss = yes | no           RSA keys sign with RSASSA-PSS (no)
 *   allow_sha1 = yes | no        SHA-1 signatures, both ways (no)
 * Errors are logged "file:line: [conn x] key: what (fix)".
 */
#ifndef IPSECD_CONFIG_CONN_PKI_H
#define IPSECD_CONFIG_CONN_PKI_H

#include "config/ini.h"
#include "ike/ike_conn.h"

/*
 * Fill ic->pki (NULL when both sides use the PSK) from section s, whose
 * local_id and remote_id keys conn.c has parsed into ic already: with
 * auth = pubkey and no local_id, our ID is the certificate's subject
 * DN; with remote_auth = pubkey and no remote_id, any ID the peer's
 * certificate proves is taken.  file and title are for messages.
 * Returns the number of errors logged.
 */
int conn_pki_parse(struct ini_section *s, const char *file, const char *title,
		   struct ike_conn *ic);

#endif
