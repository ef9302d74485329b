/* SPDX-License-Identifier: MIT */
/* Certificate keys of [conn] sections (conn_pki.h). */
#include "config/conn_pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/log.h"
#include "config/ini.h"
#include "config/value.h"
#include "crypto/crypto.h"
#include "crypto/sig.h"
#include "ike/auth_sig.h"
#include "ike/cert.h"
#include "ike/ike_pki.h"
#include "ike/ikev2_wire.h"

struct psec {
	struct ini_section *s;
	const char *file, *title;
	int errs;
};

/* Errors go through the one file:line reporter shared with conn.c. */
#define perr(c, kv, ...) \
	ini_kv_err((c)->s, (kv), (c)->title, &(c)->errs, __VA_ARGS__)

static void get_kind(struct psec *c, struct ini_kv *kv, enum ike_auth_kind *k)
{
	if (!strcasecmp(kv->value, "psk"))
		*k = IKE_AUTHK_PSK;
	else if (!strcasecmp(kv->value, "pubkey"))
		*k = IKE_AUTHK_PUBKEY;
	else
		perr(c, kv, "'%s' is not supported (use psk or pubkey)",
		     kv->value);
}

static bool get_bool(struct psec *c, struct ini_kv *kv)
{
	if (!kv)
		return false;
	if (!strcasecmp(kv->value, "yes"))
		return true;
	if (strcasecmp(kv->value, "no"))
		perr(c, kv, "'%s' is not valid (use yes or no)", kv->value);
	return false;
}

/* Larger files are not fingerprinted.  The fingerprints only tell a
 * reload what to log: every load reads the files themselves again. */
#define FP_FILE_MAX (64u << 20)

/* SHA-256 of a file's contents; zeros if it cannot be read, which the
 * loader that reads it next reports.  Taken before the loader reads the
 * file: if it changes in between, the next reload loads it again. */
static void file_sha256(const char *path, uint8_t out[32])
{
	uint8_t *buf = NULL;
	struct stat st;
	size_t len = 0;
	FILE *f;

	memset(out, 0, 32);
	f = fopen(path, "rb");
	if (!f)
		return;
	if (fstat(fileno(f), &st) < 0 || st.st_size < 0 ||
	    (uint64_t)st.st_size > FP_FILE_MAX)
		goto out;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto out;
	len = fread(buf, 1, (size_t)st.st_size + 1, f);
	if (!ferror(f) && len <= (size_t)st.st_size)
		crypto_digest("SHA256", buf, len, out, 32);
	crypto_wipe(buf, len); /* may be a private key */
out:
	free(buf);
	fclose(f);
}

/* Remember what kv names and its contents, for reload (ike_pki.h). */
static void file_fp(struct ike_pki *p, enum ike_pki_file which,
		    const struct ini_kv *kv, const char *const *items,
		    size_t n)
{
	struct ike_pki_fp *fp = &p->files[which];
	uint8_t *all = calloc(n ? n : 1, 32);
	size_t i;

	snprintf(fp->path, sizeof(fp->path), "%s", kv->value);
	memset(fp->sha256, 0, sizeof(fp->sha256));
	if (!all)
		return;
	for (i = 0; i < n; i++)
		file_sha256(items[i], all + 32 * i);
	if (n == 1)
		memcpy(fp->sha256, all, 32);
	else
		crypto_digest("SHA256", all, 32 * n, fp->sha256, 32);
	free(all);
}

/* cert and key: our certificate (and chain) and its private key. */
static void get_local(struct psec *c, struct ini_kv *auth, struct ike_pki *p)
{
	struct ini_kv *ck = ini_get_kv(c->s, "cert");
	struct ini_kv *kk = ini_get_kv(c->s, "key");
	struct stat st;

	if (!ck || !kk) {
		perr(c,
		     ck	  ? ck
		     : kk ? kk
			  : auth,
		     "auth = pubkey needs both 'cert' (our certificate, "
		     "PEM) and 'key' (its private key, mode 600)");
		return;
	}
	if (stat(kk->value, &st) < 0) {
		perr(c, kk, "cannot read %s: %m", kk->value);
		return;
	}
	/* A key others can read is refused, as PSK files are. */
	if (st.st_mode & 077) {
		perr(c, kk,
		     "%s can be read by %s (mode %03o); run chmod 600 %s",
		     kk->value, st.st_mode & 007 ? "everyone" : "its group",
		     (unsigned)(st.st_mode & 0777), kk->value);
		return;
	}
	file_fp(p, IKE_PKI_CERT, ck, &ck->value, 1);
	file_fp(p, IKE_PKI_KEY, kk, &kk->value, 1);
	if (cert_local_load(ck->value, kk->value, &p->local) < 0)
		perr(c, ck,
		     "cannot use %s with key %s (see the message above: a "
		     "PEM/DER certificate and the private key that belongs "
		     "to it)",
		     ck->value, kk->value);
}

/* ca and crl: comma lists of files. */
static void get_files(struct psec *c, struct ini_kv *kv, struct ike_pki *p,
		      bool crl)
{
	char **items = NULL;
	size_t n = 0, i;

	if (cfg_parse_list(kv->value, &items, &n)) {
		perr(c, kv, "'%s' is not a comma-separated list of files",
		     kv->value);
		return;
	}
	file_fp(p, crl ? IKE_PKI_CRL : IKE_PKI_CA, kv,
		(const char *const *)items, n);
	for (i = 0; i < n; i++) {
		int r = crl ? cert_store_add_crl_file(p->store, items[i])
			    : cert_store_add_ca_file(p->store, items[i]);

		if (r < 0)
			perr(c, kv,
			     "cannot load %s (see the message above; a PEM "
			     "or DER %s)",
			     items[i], crl ? "CRL" : "CA certificate");
	}
	cfg_list_free(items, n);
}

static void get_remote(struct psec *c, struct ike_pki *p)
{
	struct ini_kv *kv = ini_get_kv(c->s, "ca");

	if (!kv) {
		perr(c, NULL,
		     "remote_auth = pubkey needs 'ca' (the CA certificate(s) "
		     "that issued the peer's certificate, comma-separated)");
		return;
	}
	if (cert_store_new(&p->store) < 0) {
		perr(c, kv, "out of memory");
		return;
	}
	get_files(c, kv, p, false);
	kv = ini_get_kv(c->s, "crl");
	if (kv)
		get_files(c, kv, p, true);
}

/* Our ID: the certificate's subject by default, and its exact DER when
 * local_id names the same DN, so peers comparing octets agree. */
static void local_id(struct psec *c, struct ike_pki *p, struct ike_conn *ic)
{
	struct x509_st *x = cert_local_cert(p->local);
	struct ini_kv *kv = ini_get_kv(c->s, "local_id");
	uint8_t buf[1024];
	struct wbuf w;

	wbuf_init_fixed(&w, buf, sizeof(buf));
	if (cert_subject_der(x, &w) < 0 || w.len > sizeof(ic->local_id.data))
		w.len = 0;
	if (!kv) {
		if (!w.len) {
			perr(c, NULL,
			     "the certificate's subject DN is too long for an "
			     "ID; set local_id to a subjectAltName of it");
			return;
		}
		ic->local_id.type = IKEV2_ID_DER_ASN1_DN;
	} else if (ic->local_id.type != IKEV2_ID_DER_ASN1_DN || !w.len ||
		   !ike_dn_equal(ic->local_id.data, ic->local_id.len, w.p,
				 w.len)) {
		return;
	}
	memcpy(ic->local_id.data, w.p, w.len);
	ic->local_id.len = (uint8_t)w.len;
}

/* Does our own local_id match our certificate?  A warning: the peer
 * will refuse us, and says why only in its own log. */
static void check_own_id(struct psec *c, struct ike_pki *p,
			 const struct ike_conn *ic)
{
	char why[CERT_WHY_MAX];
	struct ini_kv *kv = ini_get_kv(c->s, "local_id");

	if (!kv || !ic->local_id.type)
		return;
	if (cert_match_id(cert_local_cert(p->local), ic->local_id.type,
			  ic->local_id.data, ic->local_id.len, why,
			  sizeof(why)) < 0)
		log_warn(LS_CFG,
			 "%s:%u: %s local_id: '%s' is not in our certificate "
			 "(%s); peers will refuse it (use the subject DN or "
			 "a subjectAltName)",
			 c->file, kv->line, c->title, kv->value, why);
}

int conn_pki_parse(struct ini_section *s, const char *file, const char *title,
		   struct ike_conn *ic)
{
	struct psec c = {.s = s, .file = file, .title = title, .errs = 0};
	struct ike_pki *p = NULL;
	struct ini_kv *kv;

	ic->pki = NULL;
	if (ike_pki_new(&p) < 0) {
		perr(&c, NULL, "out of memory");
		return c.errs;
	}
	kv = ini_get_kv(s, "auth");
	if (kv)
		get_kind(&c, kv, &p->local_auth);
	p->remote_auth = p->local_auth;
	kv = ini_get_kv(s, "remote_auth");
	if (kv)
		get_kind(&c, kv, &p->remote_auth);
	kv = ini_get_kv(s, "send_cert");
	if (kv && !strcasecmp(kv->value, "ifasked"))
		p->send_cert = IKE_SEND_CERT_IFASKED;
	else if (kv && !strcasecmp(kv->value, "never"))
		p->send_cert = IKE_SEND_CERT_NEVER;
	else if (kv && strcasecmp(kv->value, "always"))
		perr(&c, kv, "'%s' is not valid (use always | ifasked | never)",
		     kv->value);
	if (get_bool(&c, ini_get_kv(s, "rsa_pss")))
		p->sig_flags |= AUTH_SIG_RSA_PSS;
	if (get_bool(&c, ini_get_kv(s, "allow_sha1")))
		p->sig_flags |= SIG_ALLOW_SHA1;

	if (p->local_auth == IKE_AUTHK_PUBKEY)
		get_local(&c, ini_get_kv(s, "auth"), p);
	else if ((kv = ini_get_kv(s, "cert")) || (kv = ini_get_kv(s, "key")))
		perr(&c, kv, "only used with auth = pubkey");
	if (p->remote_auth == IKE_AUTHK_PUBKEY)
		get_remote(&c, p);
	else if ((kv = ini_get_kv(s, "ca")) || (kv = ini_get_kv(s, "crl")))
		perr(&c, kv, "only used with remote_auth = pubkey");
	if (c.errs)
		goto out;
	if (p->local)
		local_id(&c, p, ic);
	if (p->local)
		check_own_id(&c, p, ic);
	/* The peer's certificate binds its ID (RFC 4945 §3.1): without a
	 * remote_id, any ID its valid certificate holds is accepted. */
	if (p->remote_auth == IKE_AUTHK_PUBKEY && !ini_get_kv(s, "remote_id"))
		memset(&ic->remote_id, 0, sizeof(ic->remote_id));
out:
	if (c.errs || (p->local_auth == IKE_AUTHK_PSK &&
		       p->remote_auth == IKE_AUTHK_PSK)) {
		ike_pki_unref(p);
		p = NULL;
	}
	ic->pki = p;
	return c.errs;
}
