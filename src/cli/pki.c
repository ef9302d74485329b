/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl pki: a small CA for ipsecd gateways and their clients, so
 * nobody needs an openssl recipe (docs/pki.md).  Works without the
 * daemon.
 *
 *   ipsecctl pki ca NAME                      NAME.key, NAME.crt
 *   ipsecctl pki server NAME --san DNS:vpn.example [--ca CA]
 *   ipsecctl pki client NAME [--p12-pass PASS] [--ca CA]
 *                                             + NAME.p12 (key, cert, CA)
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

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "crypto/sig.h"
#include "ike/cert.h"

#define PKI_USAGE                                                             \
	"pki ca NAME [--type T] [--days N] [--dir DIR] [--cn TEXT]\n"         \
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

struct pki_opts {
	enum cert_role role;
	const char *name;
	const char *dir;
	const char *ca;
	const char *cn;
	const char *san[CERT_SAN_MAX];
	size_t n_san;
	enum cert_key_type type;
	long days;
	const char *p12_pass;
	bool no_p12;
	bool p12_legacy;
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

/* The CA's certificate and key from DIR/CA.crt and DIR/CA.key. */
static int load_ca(const struct pki_opts *o, X509 **ca, EVP_PKEY **key)
{
	char path[PATH_LEN];
	X509 **list = NULL;
	size_t n = 0;
	int r;

	*ca = NULL;
	*key = NULL;
	r = path_of(path, o->dir, o->ca, "crt");
	if (r == 0)
		r = cert_load_file(path, &list, &n);
	if (r < 0) {
		fprintf(stderr,
			"ipsecctl: pki: no CA certificate %s (make "
			"one with: ipsecctl pki ca %s --dir %s)\n",
			path, o->ca, o->dir);
		return r;
	}
	*ca = list[0];
	list[0] = NULL;
	cert_list_free(list, n);
	r = path_of(path, o->dir, o->ca, "key");
	if (r == 0)
		r = sig_key_load(path, key);
	if (r == 0 && X509_check_private_key(*ca, *key) != 1) {
		fprintf(stderr,
			"ipsecctl: pki: %s does not belong to the CA "
			"certificate\n",
			path);
		r = ERR_CONFIG;
	}
	if (r < 0) {
		X509_free(*ca);
		EVP_PKEY_free(*key);
		*ca = NULL;
		*key = NULL;
	}
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
	struct out_file files[3];
	struct cert_spec spec;
	X509 *ca = NULL, *crt = NULL;
	EVP_PKEY *ca_key = NULL, *key = NULL;
	char why[CERT_WHY_MAX], pass[PASS_MAX], desc[48];
	const char *default_san = NULL;
	size_t n_files = 0, i;
	int rc, r;

	(void)cli;
	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	memset(files, 0, sizeof(files));
	pass[0] = 0;
	rc = CLI_FAIL;
	if (o.role != CERT_ROLE_CA && load_ca(&o, &ca, &ca_key) < 0)
		goto out;
	if (cert_keygen(o.type, &key) < 0)
		goto out;
	memset(&spec, 0, sizeof(spec));
	spec.role = o.role;
	spec.cn = o.cn ? o.cn : o.name;
	spec.days = o.days;
	spec.key = key;
	spec.issuer = ca;
	spec.issuer_key = ca_key;
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
	for (i = 0; i < 3; i++)
		if (wbuf_init(&files[i].data, 4096) < 0)
			goto out;
	files[0].mode = 0600;
	files[0].secret = true;
	if (path_of(files[0].path, o.dir, o.name, "key") < 0 ||
	    cert_key_pem(key, &files[0].data) < 0)
		goto out;
	files[1].mode = 0644;
	if (path_of(files[1].path, o.dir, o.name, "crt") < 0 ||
	    cert_pem(crt, &files[1].data) < 0)
		goto out;
	n_files = 2;
	if (o.role == CERT_ROLE_CLIENT && !o.no_p12) {
		files[2].mode = 0600;
		files[2].secret = true;
		if (path_of(files[2].path, o.dir, o.name, "p12") < 0)
			goto out;
		/* Before asking for a password, make sure we will not fail
		 * on a file that is already there. */
		for (i = 0; i < 3; i++)
			if (access(files[i].path, F_OK) == 0) {
				fprintf(stderr,
					"ipsecctl: pki: %s exists "
					"(not overwritten)\n",
					files[i].path);
				goto out;
			}
		if (ask_pass(&o, pass, sizeof(pass)) < 0 ||
		    cert_p12(key, crt, ca, pass, o.name, o.p12_legacy,
			     &files[2].data) < 0)
			goto out;
		n_files = 3;
	}
	for (i = 0; i < n_files; i++) {
		r = write_new(&files[i]);
		if (r < 0)
			goto out;
	}
	printf("%s certificate '%s' (%s", kind[o.role], spec.cn,
	       sig_key_desc(key, desc, sizeof(desc)));
	if (default_san)
		printf(", subjectAltName %s", default_san);
	printf(")\n");
	for (i = 0; i < n_files; i++)
		printf("  %s (mode %03o)\n", files[i].path,
		       (unsigned)files[i].mode);
	rc = CLI_OK;
out:
	if (rc != CLI_OK)
		for (i = 0; i < n_files; i++)
			if (files[i].written)
				unlink(files[i].path);
	for (i = 0; i < 3; i++)
		wbuf_free(&files[i].data); /* wipes */
	crypto_wipe(pass, sizeof(pass));
	X509_free(crt);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return rc;
}
