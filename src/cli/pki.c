/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl pki: a small CA for ipsecd gateways and their clients, so
 * nobody needs an openssl recipe (docs/pki.md).  Works without the
 * daemon.
 *
 *   ipsecctl pki ca NAME                      NAME.key, NAME.crt
 *   ipsecctl pki ca NAME --ca PARENT          an intermediate CA
 *   ipsecctl pki server NAME --san DNS:vpn.example [--ca CA]
 *   ipsecctl pki client NAME [--p12-pass PASS] [--ca CA]
 *                                             + NAME.p12 (key, cert, CA)
 * A certificate whose issuer is not a self-signed root also gets
 * NAME.chain.pem: itself, then the issuer's chain, which is what a
 * [conn]'s cert = sends (RFC 7296 §3.6: the end entity first, then the
 * intermediates).
 *
 * Everything is made in memory first; then the files are created with
 * O_CREAT|O_EXCL (never overwritten, never through a symlink) and their
 * mode set with fchmod, so the umask cannot widen or narrow it: keys and
 * PKCS#12 bundles 0600, certificates 0644.  If one file cannot be
 * written, the ones written before it are removed again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "crypto/sig.h"
#include "ike/cert.h"

#define PKI_USAGE                                                             \
	"pki ca NAME [--ca PARENT] [--type T] [--days N] [--dir DIR]\n"       \
	"                            [--cn TEXT]\n"                           \
	"       ipsecctl pki server NAME [--san SAN]... [--ca CA] [--type T]" \
	"\n"                                                                  \
	"                            [--days N] [--dir DIR] [--cn TEXT]\n"    \
	"       ipsecctl pki client NAME [--san SAN]... [--ca CA] [--type T]" \
	"\n"                                                                  \
	"                            [--p12-pass PASS | --no-p12] "           \
	"[--p12-legacy]\n"                                                    \
	"                            [--days N] [--dir DIR] [--cn TEXT]\n"    \
	"  T: ecdsa (P-256, default), ecdsa384, rsa3072, ed25519\n"           \
	"  SAN: DNS:host.example, IP:192.0.2.1, email:user@example"

#define PASS_MAX 256
#define PATH_LEN 4096
#define N_FILES 4 /* key, crt, chain.pem, p12 */
/* Leave the issued notAfter this far before the issuer's, so that the
 * seconds between our clock reading and cert_issue()'s cannot push it
 * past. */
#define CLAMP_MARGIN 300

struct pki_opts {
	enum cert_role role;
	const char *name;
	const char *dir;
	const char *ca;
	bool ca_given; /* pki ca --ca: an intermediate */
	const char *cn;
	const char *san[CERT_SAN_MAX];
	size_t n_san;
	enum cert_key_type type;
	long days;
	const char *p12_pass;
	bool no_p12;
	bool p12_legacy;
};

/* The issuing CA: its certificate, key and the certificates a peer
 * needs between it and a root (it first; empty for a root). */
struct issuer {
	X509 *crt;
	EVP_PKEY *key;
	X509 **list; /* from CA.chain.pem or CA.crt; list[0] is crt */
	size_t n;
};

struct out_file {
	char path[PATH_LEN];
	struct wbuf data;
	mode_t mode;
	bool secret;
	bool written;
};

static int usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "ipsecctl: pki: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: ipsecctl %s\n", PKI_USAGE);
	return CLI_USAGE;
}

/* A file name part: no path separators, no leading dot or dash. */
static bool name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '-' || s[i] == '_' || s[i] == '@'))
			return false;
	return true;
}

static int parse_args(int argc, char **argv, struct pki_opts *o)
{
	const char *opt, *val;
	char *end;
	int i;

	memset(o, 0, sizeof(*o));
	o->dir = ".";
	o->ca = "ca";
	o->type = CERT_KEY_ECDSA_P256;
	if (argc < 2)
		return usage_err("%s", "which kind: ca, server or client?");
	if (!strcmp(argv[1], "ca"))
		o->role = CERT_ROLE_CA;
	else if (!strcmp(argv[1], "server"))
		o->role = CERT_ROLE_SERVER;
	else if (!strcmp(argv[1], "client"))
		o->role = CERT_ROLE_CLIENT;
	else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		printf("usage: ipsecctl %s\n", PKI_USAGE);
		return CLI_OK;
	} else
		return usage_err("unknown kind '%s' (ca, server, client)",
				 argv[1]);
	for (i = 2; i < argc; i++) {
		opt = argv[i];
		if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
			printf("usage: ipsecctl %s\n", PKI_USAGE);
			return CLI_OK;
		}
		if (opt[0] != '-') {
			if (o->name)
				return usage_err("one NAME only ('%s')", opt);
			o->name = opt;
			continue;
		}
		if (!strcmp(opt, "--no-p12")) {
			o->no_p12 = true;
			continue;
		}
		if (!strcmp(opt, "--p12-legacy")) {
			o->p12_legacy = true;
			continue;
		}
		if (i + 1 >= argc)
			return usage_err("%s needs a value", opt);
		val = argv[++i];
		if (!strcmp(opt, "--dir")) {
			o->dir = val;
		} else if (!strcmp(opt, "--ca")) {
			if (!name_ok(val))
				return usage_err("bad CA name '%s'", val);
			o->ca = val;
			o->ca_given = true;
		} else if (!strcmp(opt, "--cn")) {
			o->cn = val;
		} else if (!strcmp(opt, "--san")) {
			if (o->role == CERT_ROLE_CA)
				return usage_err("%s: a CA has no SAN", opt);
			if (o->n_san >= CERT_SAN_MAX)
				return usage_err("at most 8 %s", "--san");
			o->san[o->n_san++] = val;
		} else if (!strcmp(opt, "--type")) {
			if (cert_key_type_parse(val, &o->type) < 0)
				return usage_err("unknown key type '%s'", val);
		} else if (!strcmp(opt, "--days")) {
			errno = 0;
			o->days = strtol(val, &end, 10);
			if (errno || *end || o->days < 1 || o->days > 36500)
				return usage_err("--days '%s': 1..36500", val);
		} else if (!strcmp(opt, "--p12-pass")) {
			o->p12_pass = val;
		} else {
			return usage_err("unknown option '%s'", opt);
		}
	}
	if (!o->name)
		return usage_err("%s", "NAME is missing");
	if (!name_ok(o->name))
		return usage_err("bad NAME '%s' (letters, digits, . - _ @)",
				 o->name);
	if (o->role == CERT_ROLE_CA && o->ca_given && !strcmp(o->ca, o->name))
		return usage_err("a CA cannot be its own parent ('%s')",
				 o->name);
	if (o->role != CERT_ROLE_CLIENT &&
	    (o->p12_pass || o->no_p12 || o->p12_legacy))
		return usage_err("%s", "PKCS#12 options are for client only");
	if (o->no_p12 && (o->p12_pass || o->p12_legacy))
		return usage_err("%s", "--no-p12 with other --p12 options");
	return -1;
}

static int path_of(char *out, const char *dir, const char *name,
		   const char *ext)
{
	int n = snprintf(out, PATH_LEN, "%s/%s.%s", dir, name, ext);

	return n > 0 && n < PATH_LEN ? 0 : ERR_OVERFLOW;
}

/* Create path exclusively with exactly mode, whatever the umask. */
static int write_new(struct out_file *f)
{
	size_t off = 0;
	ssize_t n;
	int fd, r = 0;

	fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  f->mode);
	if (fd < 0) {
		fprintf(stderr, "ipsecctl: pki: cannot create %s: %s%s\n",
			f->path, strerror(errno),
			errno == EEXIST ? " (not overwritten)" : "");
		return ERR_IO;
	}
	f->written = true;
	if (fchmod(fd, f->mode) < 0)
		r = ERR_IO;
	while (r == 0 && off < f->data.len) {
		n = write(fd, f->data.p + off, f->data.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = ERR_IO;
		else
			off += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = ERR_IO;
	if (close(fd) < 0 && r == 0)
		r = ERR_IO;
	if (r < 0)
		fprintf(stderr, "ipsecctl: pki: writing %s: %s\n", f->path,
			strerror(errno));
	return r;
}

static bool self_signed(X509 *c)
{
	return (X509_get_extension_flags(c) & EXFLAG_SS) != 0;
}

static void issuer_free(struct issuer *is)
{
	cert_list_free(is->list, is->n);
	EVP_PKEY_free(is->key);
	memset(is, 0, sizeof(*is));
}

/*
 * May c issue certificates?  RFC 5280 §4.2.1.9: cA TRUE in
 * basicConstraints, and keyCertSign if it has a keyUsage (§4.2.1.3).
 * child_ca: it is to sign a CA, so no pathLenConstraint of 0.
 */
static int check_issuer(const struct pki_opts *o, X509 *c, bool child_ca)
{
	uint32_t flags = X509_get_extension_flags(c);

	if (X509_check_ca(c) != 1 ||
	    ((flags & EXFLAG_KUSAGE) &&
	     !(X509_get_key_usage(c) & KU_KEY_CERT_SIGN))) {
		fprintf(stderr,
			"ipsecctl: pki: %s/%s.crt is not a CA certificate "
			"(needs basicConstraints CA:TRUE and keyCertSign)\n",
			o->dir, o->ca);
		return ERR_INVAL;
	}
	if (child_ca && X509_get_pathlen(c) == 0) {
		fprintf(stderr,
			"ipsecctl: pki: CA %s has pathlen 0: it issues only "
			"server and client certificates, no CAs\n",
			o->ca);
		return ERR_INVAL;
	}
	return 0;
}

/*
 * The CA's certificate and key from DIR/CA.crt and DIR/CA.key, and its
 * chain: DIR/CA.chain.pem if there is one (an intermediate below
 * another), else the certificates in DIR/CA.crt.
 */
static int load_ca(const struct pki_opts *o, struct issuer *is)
{
	char path[PATH_LEN];
	X509 **list = NULL;
	size_t n = 0;
	int r;

	memset(is, 0, sizeof(*is));
	r = path_of(path, o->dir, o->ca, "crt");
	if (r == 0)
		r = cert_load_file(path, &is->list, &is->n);
	if (r < 0) {
		fprintf(stderr,
			"ipsecctl: pki: no CA certificate %s (make "
			"one with: ipsecctl pki ca %s --dir %s)\n",
			path, o->ca, o->dir);
		goto out;
	}
	is->crt = is->list[0];
	r = path_of(path, o->dir, o->ca, "key");
	if (r == 0)
		r = sig_key_load(path, &is->key);
	if (r == 0 && X509_check_private_key(is->crt, is->key) != 1) {
		fprintf(stderr,
			"ipsecctl: pki: %s does not belong to the CA "
			"certificate\n",
			path);
		r = ERR_CONFIG;
	}
	if (r == 0)
		r = check_issuer(o, is->crt, o->role == CERT_ROLE_CA);
	if (r < 0)
		goto out;
	r = path_of(path, o->dir, o->ca, "chain.pem");
	if (r < 0 || access(path, F_OK) != 0)
		goto out;
	r = cert_load_file(path, &list, &n);
	if (r == 0 && X509_cmp(list[0], is->crt) != 0) {
		fprintf(stderr,
			"ipsecctl: pki: %s does not start with the "
			"certificate of %s/%s.crt\n",
			path, o->dir, o->ca);
		r = ERR_CONFIG;
	}
	if (r < 0)
		goto out;
	cert_list_free(is->list, is->n);
	is->list = list;
	is->n = n;
	is->crt = list[0];
	list = NULL;
out:
	cert_list_free(list, n);
	if (r < 0)
		issuer_free(is);
	ERR_clear_error();
	return r;
}

/*
 * The validity in days: the role's default or --days, clamped so that
 * the certificate ends before its issuer does (RFC 5280 §6.1.3 rejects
 * a path with an expired CA anyway; a longer life would only mislead).
 */
static int clamp_days(const struct pki_opts *o, X509 *ca, long *days)
{
	int pday = 0, psec = 0;
	long left, max;

	*days = o->days ? o->days : o->role == CERT_ROLE_CA ? 3650 : 825;
	if (!ca)
		return 0;
	if (!ASN1_TIME_diff(&pday, &psec, NULL, X509_get0_notAfter(ca)))
		return ERR_CRYPTO;
	left = (long)pday * 86400 + psec - CLAMP_MARGIN;
	max = left / 86400;
	if (left < 86400) {
		fprintf(stderr,
			"ipsecctl: pki: CA %s %s: nothing left to issue "
			"from\n",
			o->ca,
			left + CLAMP_MARGIN <= 0 ? "has expired"
						 : "expires within a day");
		return ERR_EXPIRED;
	}
	if (*days > max) {
		if (o->days)
			fprintf(stderr,
				"ipsecctl: pki: --days %ld shortened to %ld: "
				"CA %s ends then\n",
				o->days, max, o->ca);
		*days = max;
	}
	return 0;
}

/* DIR/NAME.EXT with mode, to be filled; NULL if the path is too long. */
static struct out_file *add_file(struct out_file *files, size_t *n,
				 const struct pki_opts *o, const char *ext,
				 mode_t mode)
{
	struct out_file *f = &files[*n];

	if (*n >= N_FILES || path_of(f->path, o->dir, o->name, ext) < 0)
		return NULL;
	f->mode = mode;
	f->secret = mode == 0600;
	(*n)++;
	return f;
}

/* NAME.chain.pem: c, then is's certificates up to (not including) a
 * self-signed root, which the peer must have as its trust anchor. */
static int chain_pem(X509 *c, const struct issuer *is, struct wbuf *w)
{
	size_t i;
	int r;

	r = cert_pem(c, w);
	for (i = 0; r == 0 && i < is->n; i++)
		if (!self_signed(is->list[i]))
			r = cert_pem(is->list[i], w);
	return r;
}

static int ask_pass(const struct pki_opts *o, char *pass, size_t n)
{
	if (o->p12_pass) {
		if (strlen(o->p12_pass) >= n)
			return ERR_OVERFLOW;
		strcpy(pass, o->p12_pass);
		return 0;
	}
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr,
			"ipsecctl: pki: no terminal to ask for the "
			"PKCS#12 password: give --p12-pass or --no-p12\n");
		return ERR_INVAL;
	}
	/* Asked twice; at least 4 characters (what macOS and Windows
	 * import dialogs accept without complaint). */
	if (EVP_read_pw_string_min(pass, 4, (int)n,
				   "PKCS#12 password (min. 4): ", 1) != 0) {
		fprintf(stderr, "ipsecctl: pki: no password entered\n");
		return ERR_INVAL;
	}
	return 0;
}

int cmd_pki(struct cli *cli, int argc, char **argv)
{
	static const char *const kind[] = {"CA", "server", "client"};
	struct pki_opts o;
	struct out_file files[N_FILES], *f;
	struct cert_spec spec;
	struct issuer is;
	X509 *crt = NULL;
	EVP_PKEY *key = NULL;
	char why[CERT_WHY_MAX], pass[PASS_MAX], desc[48];
	const char *default_san = NULL;
	size_t n_files = 0, i;
	bool chain;
	int rc, r;

	(void)cli;
	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	memset(files, 0, sizeof(files));
	memset(&is, 0, sizeof(is));
	memset(&spec, 0, sizeof(spec));
	pass[0] = 0;
	rc = CLI_FAIL;
	if ((o.role != CERT_ROLE_CA || o.ca_given) && load_ca(&o, &is) < 0)
		goto out;
	if (clamp_days(&o, is.crt, &spec.days) < 0)
		goto out;
	if (cert_keygen(o.type, &key) < 0)
		goto out;
	spec.role = o.role;
	spec.cn = o.cn ? o.cn : o.name;
	spec.key = key;
	spec.issuer = is.crt;
	spec.issuer_key = is.key;
	/* An intermediate we make signs end entities only, so a chain from
	 * ipsecctl pki is never longer than root, intermediate, leaf. */
	spec.ca_pathlen0 = o.role == CERT_ROLE_CA && is.crt;
	memcpy(spec.san, o.san, sizeof(o.san));
	spec.n_san = o.n_san;
	/* An end entity without --san is named by NAME: Windows and Apple
	 * clients check the server's name in the subjectAltName, and
	 * RFC 4945 §3.1 matches IKE IDs there, not in the CN. */
	if (o.role != CERT_ROLE_CA && !o.n_san) {
		default_san = o.name;
		spec.san[0] = default_san;
		spec.n_san = 1;
	}
	if (cert_issue(&spec, &crt, why, sizeof(why)) < 0) {
		fprintf(stderr, "ipsecctl: pki: %s\n", why);
		rc = CLI_USAGE;
		goto out;
	}
	for (i = 0; i < N_FILES; i++)
		if (wbuf_init(&files[i].data, 4096) < 0)
			goto out;
	f = add_file(files, &n_files, &o, "key", 0600);
	if (!f || cert_key_pem(key, &f->data) < 0)
		goto out;
	f = add_file(files, &n_files, &o, "crt", 0644);
	if (!f || cert_pem(crt, &f->data) < 0)
		goto out;
	/* Issued by an intermediate: what cert = in a [conn] wants. */
	chain = is.crt && !self_signed(is.crt);
	if (chain) {
		f = add_file(files, &n_files, &o, "chain.pem", 0644);
		if (!f || chain_pem(crt, &is, &f->data) < 0)
			goto out;
	}
	if (o.role == CERT_ROLE_CLIENT && !o.no_p12) {
		f = add_file(files, &n_files, &o, "p12", 0600);
		if (!f)
			goto out;
		/* Before asking for a password, make sure we will not fail
		 * on a file that is already there. */
		for (i = 0; i < n_files; i++)
			if (access(files[i].path, F_OK) == 0) {
				fprintf(stderr,
					"ipsecctl: pki: %s exists "
					"(not overwritten)\n",
					files[i].path);
				goto out;
			}
		/* The issuer goes with it: a root to trust, or the
		 * intermediate the client must send with its own. */
		if (ask_pass(&o, pass, sizeof(pass)) < 0 ||
		    cert_p12(key, crt, is.crt, pass, o.name, o.p12_legacy,
			     &f->data) < 0)
			goto out;
	}
	for (i = 0; i < n_files; i++) {
		r = write_new(&files[i]);
		if (r < 0)
			goto out;
	}
	printf("%s%s certificate '%s' (%s",
	       o.role == CERT_ROLE_CA && is.crt ? "intermediate " : "",
	       kind[o.role], spec.cn, sig_key_desc(key, desc, sizeof(desc)));
	if (default_san)
		printf(", subjectAltName %s", default_san);
	if (is.crt)
		printf(", issued by %s", o.ca);
	printf(", %ld days)\n", spec.days);
	for (i = 0; i < n_files; i++)
		printf("  %s (mode %03o)\n", files[i].path,
		       (unsigned)files[i].mode);
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		for (i = 0; i < n_files; i++)
			if (files[i].written)
				unlink(files[i].path);
	for (i = 0; i < N_FILES; i++)
		wbuf_free(&files[i].data); /* wipes */
	crypto_wipe(pass, sizeof(pass));
	X509_free(crt);
	EVP_PKEY_free(key);
	issuer_free(&is);
	return rc;
}
