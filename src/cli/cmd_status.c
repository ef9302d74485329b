/* SPDX-License-Identifier: MIT */
/*
 * ipsecctl status [--json]: the daemon, its IKE SAs with their child SAs,
 * and the static (manually keyed) SAs.
 *
 * The daemon only speaks JSON (schema: docs/ctl.md).  --json prints it
 * re-indented but otherwise as sent, so the key order is the daemon's
 * fixed one and 64-bit counters keep every digit.  Without --json the
 * JSON is parsed with libcjson and drawn as text; there, counters go
 * through a double, which is exact up to 2^53 and fine for reading.
 * Fields the daemon leaves out print as "-", so an older or newer daemon
 * still gives a readable view.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"

#define TABLE_MAX_COLS 16
#define CELL_LEN 128

/* A text table: columns padded to their widest cell. */
struct table {
	size_t ncol;
	size_t nrow;
	size_t cap;
	char (*cell)[CELL_LEN];	/* nrow * ncol */
	size_t width[TABLE_MAX_COLS];
};

/* Terminal width of UTF-8 text: one column per code point. */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int table_add(struct table *t, const char *const *cells)
{
	size_t i, w;
	void *np;

	if (t->nrow == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		np = realloc(t->cell, t->cap * t->ncol * CELL_LEN);
		if (!np)
			return -1;
		t->cell = np;
	}
	for (i = 0; i < t->ncol; i++) {
		cli_safe(cells[i], t->cell[t->nrow * t->ncol + i], CELL_LEN);
		w = text_width(t->cell[t->nrow * t->ncol + i]);
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrow++;
	return 0;
}

static void table_print(const struct table *t, const char *prefix)
{
	const char *s;
	size_t r, i, pad;

	for (r = 0; r < t->nrow; r++) {
		fputs(prefix, stdout);
		for (i = 0; i < t->ncol; i++) {
			s = t->cell[r * t->ncol + i];
			fputs(s, stdout);
			if (i + 1 == t->ncol)
				break;
			pad = t->width[i] - text_width(s) + 2;
			while (pad--)
				fputc(' ', stdout);
		}
		fputc('\n', stdout);
	}
}

/* ---- reading the JSON ---- */

static const cJSON *jget(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);

	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : "-";
}

static bool jnum(const cJSON *o, const char *key, uint64_t *out)
{
	const cJSON *v = jget(o, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble >= 18446744073709551616.0)
		return false;
	*out = (uint64_t)v->valuedouble;
	return true;
}

static const char *fmt_u64(char *b, size_t n, const cJSON *o,
			   const char *key)
{
	uint64_t v;

	if (!jnum(o, key, &v))
		return "-";
	snprintf(b, n, "%" PRIu64, v);
	return b;
}

/* 45s, 5m12s, 3h04m, 2d03h: two units are enough to read. */
static const char *dur(char *b, size_t n, uint64_t s)
{
	if (s < 60)
		snprintf(b, n, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(b, n, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(b, n, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
			 s / 60 % 60);
	else
		snprintf(b, n, "%" PRIu64 "d%02" PRIu64 "h", s / 86400,
			 s / 3600 % 24);
	return b;
}

/* A duration field; JSON null means "not scheduled". */
static const char *fmt_dur(char *b, size_t n, const cJSON *o,
			   const char *key)
{
	uint64_t v;

	if (cJSON_IsNull(jget(o, key)))
		return "never";
	if (!jnum(o, key, &v))
		return "-";
	return dur(b, n, v);
}

static const char *fmt_bytes(char *b, size_t n, const cJSON *o,
			     const char *key)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	uint64_t v;
	double d;
	unsigned u = 0;

	if (!jnum(o, key, &v))
		return "-";
	if (v < 1024) {
		snprintf(b, n, "%" PRIu64 " B", v);
		return b;
	}
	d = (double)v / 1024;
	while (d >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		d /= 1024;
		u++;
	}
	snprintf(b, n, "%.1f %s", d, unit[u]);
	return b;
}

/* The strings of an array joined with ", ". */
static const char *fmt_list(char *b, size_t n, const cJSON *o,
			    const char *key)
{
	const cJSON *arr = jget(o, key), *e;
	size_t used = 0;
	int k;

	b[0] = '\0';
	if (!cJSON_IsArray(arr))
		return "-";
	cJSON_ArrayForEach(e, arr) {
		if (!cJSON_IsString(e))
			continue;
		k = snprintf(b + used, n - used, "%s%s", used ? ", " : "",
			     e->valuestring);
		if (k < 0 || (size_t)k >= n - used)
			break;
		used += (size_t)k;
	}
	return used ? b : "-";
}

/* "in 5m12s" for a scheduled event, "never" for null. */
static const char *fmt_in(char *b, size_t n, const cJSON *o,
			  const char *key)
{
	char d[CELL_LEN];
	const char *t = fmt_dur(d, sizeof(d), o, key);

	if (!strcmp(t, "never") || !strcmp(t, "-"))
		return t;
	snprintf(b, n, "in %s", t);
	return b;
}

/* ---- drawing ---- */

static void print_child(const cJSON *c)
{
	char b[8][CELL_LEN], lts[512], rts[512], line[1200];

	snprintf(line, sizeof(line), "%s: %s %s, encap %s, spi in %s out %s, "
		 "%s", jstr(c, "name"), jstr(c, "mode"), jstr(c, "proto"),
		 jstr(c, "encap"), jstr(c, "spi_in"), jstr(c, "spi_out"),
		 jstr(c, "algorithms"));
	printf("    %s\n", cli_safe(line, line, sizeof(line)));
	snprintf(line, sizeof(line), "%s === %s",
		 fmt_list(lts, sizeof(lts), c, "local_ts"),
		 fmt_list(rts, sizeof(rts), c, "remote_ts"));
	printf("      %s\n", cli_safe(line, line, sizeof(line)));
	printf("      in %s / %s pkts, out %s / %s pkts\n",
	       fmt_bytes(b[0], CELL_LEN, c, "bytes_in"),
	       fmt_u64(b[1], CELL_LEN, c, "packets_in"),
	       fmt_bytes(b[2], CELL_LEN, c, "bytes_out"),
	       fmt_u64(b[3], CELL_LEN, c, "packets_out"));
	printf("      replay drops %s, auth fails %s; age %s, rekey %s, "
	       "expiry %s\n",
	       fmt_u64(b[4], CELL_LEN, c, "replay_drops"),
	       fmt_u64(b[5], CELL_LEN, c, "auth_fails"),
	       fmt_dur(b[6], CELL_LEN, c, "age_s"),
	       fmt_in(b[7], CELL_LEN, c, "rekey_in_s"),
	       fmt_in(b[0], CELL_LEN, c, "expire_in_s"));
}

/* "local auth: digital-signature (14), ECDSA P-256, ecdsa-sha256, cert
 * "CN=gw-a", serial 1F2E"; nothing before IKE_AUTH (null) or from a
 * daemon that does not send the key. */
static void print_auth(const cJSON *ike, const char *key, const char *who)
{
	const cJSON *a = jget(ike, key);
	char line[1200], m[32];
	int k;

	if (!cJSON_IsObject(a))
		return;
	k = snprintf(line, sizeof(line), "%s auth: %s (%s)", who,
		     jstr(a, "method_name"),
		     fmt_u64(m, sizeof(m), a, "method"));
	if (cJSON_IsString(jget(a, "key")) && k > 0 &&
	    (size_t)k < sizeof(line))
		k += snprintf(line + k, sizeof(line) - (size_t)k, ", %s",
			      jstr(a, "key"));
	if (cJSON_IsString(jget(a, "signature")) && k > 0 &&
	    (size_t)k < sizeof(line))
		k += snprintf(line + k, sizeof(line) - (size_t)k, ", %s",
			      jstr(a, "signature"));
	if (cJSON_IsString(jget(a, "cert_subject")) && k > 0 &&
	    (size_t)k < sizeof(line))
		snprintf(line + k, sizeof(line) - (size_t)k,
			 ", cert \"%s\", serial %s", jstr(a, "cert_subject"),
			 jstr(a, "cert_serial"));
	printf("    %s\n", cli_safe(line, line, sizeof(line)));
}

static void print_ike(const cJSON *ike)
{
	char b[2][CELL_LEN], line[1200];
	const cJSON *children, *c;

	snprintf(line, sizeof(line), "%s: %s, %s [%s] ... %s [%s]",
		 jstr(ike, "name"), jstr(ike, "state"), jstr(ike, "local"),
		 jstr(ike, "local_id"), jstr(ike, "remote"),
		 /* Who the peer proved to be; before that (or from an
		  * older daemon), what we accept. */
		 cJSON_IsString(jget(ike, "peer_id")) ? jstr(ike, "peer_id")
						     : jstr(ike, "remote_id"));
	printf("  %s\n", cli_safe(line, line, sizeof(line)));
	snprintf(line, sizeof(line), "spi %s_i %s_r, %s", jstr(ike, "spi_i"),
		 jstr(ike, "spi_r"), jstr(ike, "algorithms"));
	printf("    %s\n", cli_safe(line, line, sizeof(line)));
	printf("    established %s ago, rekey %s\n",
	       fmt_dur(b[0], CELL_LEN, ike, "established_s"),
	       fmt_in(b[1], CELL_LEN, ike, "rekey_in_s"));
	print_auth(ike, "local_auth", "local");
	print_auth(ike, "remote_auth", "remote");
	children = jget(ike, "child_sas");
	if (!cJSON_IsArray(children) || !cJSON_GetArraySize(children)) {
		printf("    no child SAs\n");
		return;
	}
	cJSON_ArrayForEach(c, children)
		print_child(c);
}

static int print_static(const cJSON *sas)
{
	static const char *const head[] = {
		"NAME", "DIR", "SPI", "PROTO", "MODE", "SRC -> DST", "ENCAP",
		"ALGORITHMS", "BYTES", "PACKETS", "REPLAY", "AUTH",
		"MALFORMED", "TS", "AGE",
	};
	char b[15][CELL_LEN];
	const char *row[15];
	struct table t = { .ncol = 15 };
	const cJSON *s;
	int rc = 0;

	if (table_add(&t, head))
		return -1;
	cJSON_ArrayForEach(s, sas) {
		row[0] = jstr(s, "name");
		row[1] = jstr(s, "dir");
		row[2] = jstr(s, "spi");
		row[3] = jstr(s, "proto");
		row[4] = jstr(s, "mode");
		snprintf(b[5], CELL_LEN, "%s -> %s", jstr(s, "src"),
			 jstr(s, "dst"));
		row[5] = b[5];
		row[6] = jstr(s, "encap");
		if (!strcmp(jstr(s, "integ"), "none") ||
		    !strcmp(jstr(s, "integ"), "-"))
			snprintf(b[7], CELL_LEN, "%s", jstr(s, "enc"));
		else
			snprintf(b[7], CELL_LEN, "%s/%s", jstr(s, "enc"),
				 jstr(s, "integ"));
		row[7] = b[7];
		row[8] = fmt_bytes(b[8], CELL_LEN, s, "bytes");
		row[9] = fmt_u64(b[9], CELL_LEN, s, "packets");
		row[10] = fmt_u64(b[10], CELL_LEN, s, "replay_drops");
		row[11] = fmt_u64(b[11], CELL_LEN, s, "auth_fails");
		row[12] = fmt_u64(b[12], CELL_LEN, s, "malformed");
		row[13] = fmt_u64(b[13], CELL_LEN, s, "ts_drops");
		row[14] = fmt_dur(b[14], CELL_LEN, s, "age_s");
		if (table_add(&t, row)) {
			rc = -1;
			break;
		}
	}
	if (!rc)
		table_print(&t, "  ");
	free(t.cell);
	return rc;
}

static int render(const cJSON *root)
{
	const cJSON *d = jget(root, "daemon"), *ikes, *sas, *e;
	char b[CELL_LEN], v[CELL_LEN];
	int n;

	if (!cJSON_IsObject(root))
		return -1;
	printf("ipsecd %s, up %s\n", cli_safe(jstr(d, "version"), v,
					      sizeof(v)),
	       fmt_dur(b, sizeof(b), d, "uptime"));
	ikes = jget(root, "ike_sas");
	n = cJSON_IsArray(ikes) ? cJSON_GetArraySize(ikes) : 0;
	if (n) {
		printf("\nIKE SAs (%d):\n", n);
		cJSON_ArrayForEach(e, ikes)
			print_ike(e);
	} else {
		printf("\nIKE SAs: none\n");
	}
	sas = jget(root, "static_sas");
	n = cJSON_IsArray(sas) ? cJSON_GetArraySize(sas) : 0;
	if (!n) {
		printf("\nStatic SAs: none\n");
		return 0;
	}
	printf("\nStatic SAs (%d):\n", n);
	return print_static(sas);
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const char *const req[] = { "status" };
	struct ctl_result res;
	cJSON *root;
	int rc;

	rc = cli_args(cli, &argc, argv, 0, 0, "status [--json]");
	if (rc >= 0)
		return rc;
	rc = cli_call(cli, 1, req, &res);
	if (rc)
		return rc;
	if (!res.rs.ok) {
		fprintf(stderr, "ipsecctl: status: %s\n", res.rs.reason);
		ctl_result_free(&res);
		return CLI_FAIL;
	}
	if (cli->json) {
		cli_print_json(stdout, res.rs.json, res.rs.json_len);
		ctl_result_free(&res);
		return CLI_OK;
	}
	root = cJSON_ParseWithLength(res.rs.json, res.rs.json_len);
	rc = root ? render(root) : -1;
	if (rc) {
		fprintf(stderr, "ipsecctl: status: the daemon's answer is "
			"not the expected JSON\n");
		rc = CLI_FAIL;
	}
	cJSON_Delete(root);
	ctl_result_free(&res);
	return rc ? CLI_FAIL : (fflush(stdout) ? CLI_FAIL : CLI_OK);
}
