/* SPDX-License-Identifier: MIT */
/* IKEv2 connections: [conn NAME] sections, [daemon] keylog and
 * cookie_threshold. */
#include "config/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "config/conn_pki.h"
#include "config/value.h"
#include "crypto/crypto.h"
#include "ike/ike_pki.h"

/* Parsing state for one section; errs counts problems found in it. */
struct csec {
	struct ini_section *s;
	const char *file;
	char title[CONN_NAME_MAX + 16];
	int errs;
};

/* "file:line: [conn x] key: message" (kv NULL: the section line). */
#define cerr(c, kv, ...) \
	ini_kv_err((c)->s, (kv), (c)->title, &(c)->errs, __VA_ARGS__)

/* A comma list of prefixes into a selector set (any protocol/port). */
static void get_ts(struct csec *c, struct ini_kv *kv, struct ts_sel *ts,
		   uint8_t *n)
{
	char **items = NULL;
	size_t i, cnt = 0;

	if (cfg_parse_list(kv->value, &items, &cnt)) {
		cerr(c, kv, "'%s' is not a comma-separated list", kv->value);
		return;
	}
	if (cnt > SA_MAX_TS) {
		cerr(c, kv, "at most %d selectors are allowed (merge prefixes)",
		     SA_MAX_TS);
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		memset(&ts[i], 0, sizeof(ts[i]));
		ts[i].port_hi = 65535;
		if (prefix_parse(items[i], &ts[i].net)) {
			cerr(c, kv,
			     "'%s' is not a prefix like 198.51.100.0/24 "
			     "(host bits must be zero)",
			     items[i]);
			goto out;
		}
	}
	*n = (uint8_t)cnt;
out:
	cfg_list_free(items, cnt);
}

/*
 * An inline key is only as secret as the config file.  A secret file
 * (psk = file:) that group or others can read is refused; the config
 * file only gets a warning, because it is commonly written with the
 * default umask (0644) and refusing would stop a running VPN from coming
 * back after an upgrade.  The warning names the fix.
 */
static void inline_psk_check(struct csec *c, const struct ini_kv *kv)
{
	struct stat st;

	if (stat(c->file, &st) < 0 || !(st.st_mode & (S_IRWXG | S_IRWXO)))
		return;
	log_warn(LS_CFG,
		 "%s:%u: %s psk: the key is inline in a file that %s can "
		 "read (mode %03o); run chmod 600 %s, or move the key to "
		 "psk = file:/etc/ipsecd/NAME.psk (mode 600)",
		 c->file, kv->line, c->title,
		 st.st_mode & S_IRWXO ? "everyone" : "its group",
		 (unsigned)(st.st_mode & 0777), c->file);
}

/*
 * The pre-shared key: "file:/path" (mode 600, first line) or inline.
 * Either form is text as strongSwan takes it, or "0x" + hex for binary.
 */
static void get_psk(struct csec *c, struct ini_kv *kv, struct ike_conn *ic)
{
	char text[IKE_PSK_MAX * 2 + 8];
	const char *v = kv->value;
	size_t n = 0;
	ssize_t got;
	int fd;

	text[0] = 0;
	if (!strncmp(v, "file:", 5)) {
		if (secret_file_check(v + 5)) {
			cerr(c, kv,
			     "%s refused (it must exist and have mode "
			     "600: chmod 600 %s)",
			     v + 5, v + 5);
			return;
		}
		fd = open(v + 5, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cerr(c, kv, "cannot open %s: %s", v + 5,
			     strerror(errno));
			return;
		}
		got = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (got < 0) {
			cerr(c, kv, "cannot read %s", v + 5);
			return;
		}
		text[got] = 0;
		text[strcspn(text, "\r\n")] = 0;
		v = text;
	} else {
		inline_psk_check(c, kv);
	}
	if (!strncmp(v, "0x", 2)) {
		if (cfg_parse_hex(v, ic->psk, sizeof(ic->psk), &n) || !n)
			cerr(c, kv,
			     "not valid hex (write 0x and an even number "
			     "of hex digits, or the key as text)");
	} else {
		n = strlen(v);
		if (n > sizeof(ic->psk))
			cerr(c, kv, "longer than %d bytes", IKE_PSK_MAX);
		else
			memcpy(ic->psk, v, n);
	}
	ic->psk_len = c->errs ? 0 : n;
	/* RFC 7296 §2.15: a short PSK is open to offline guessing. */
	if (ic->psk_len && ic->psk_len < 16)
		log_warn(LS_CFG,
			 "%s:%u: %s psk: only %zu bytes; use at least "
			 "16 random bytes (ipsecctl genkey 32)",
			 c->file, kv->line, c->title, ic->psk_len);
	crypto_wipe(text, sizeof(text));
}

static void get_addr(struct csec *c, struct ini_kv *kv, struct ip_addr *a)
{
	if (addr_parse(kv->value, a))
		cerr(c, kv, "'%s' is not an IPv4 or IPv6 address", kv->value);
}

static int hex_nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* "0a0b..." (no 0x, even length) into the ID's data. */
static int id_hex(const char *s, struct ike_id *id, const char **why)
{
	size_t n = strlen(s), i;
	int hi, lo;

	if (!n || n % 2 || n / 2 > sizeof(id->data)) {
		*why = "needs an even number of hex digits (at most 510)";
		return ERR_INVAL;
	}
	for (i = 0; i < n / 2; i++) {
		hi = hex_nibble(s[2 * i]);
		lo = hex_nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			*why = "has a character that is not a hex digit";
			return ERR_INVAL;
		}
		id->data[i] = (uint8_t)(hi << 4 | lo);
	}
	id->len = (uint8_t)(n / 2);
	return 0;
}

/* Text IDs (FQDN, RFC822, KEY_ID as text): printable, at most 255. */
static int id_text(const char *s, struct ike_id *id, const char **why)
{
	size_t n = strlen(s), i;

	if (!n || n > sizeof(id->data)) {
		*why = "must be 1 to 255 characters";
		return ERR_INVAL;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] == 0x7f) {
			*why = "has a space or control character";
			return ERR_INVAL;
		}
	memcpy(id->data, s, n);
	id->len = (uint8_t)n;
	return 0;
}

static int id_addr(const char *s, uint8_t type, struct ike_id *id,
		   const char **why)
{
	struct ip_addr a;

	if (addr_parse(s, &a) ||
	    (type == IKEV2_ID_IPV4_ADDR) != (a.af == AF_INET)) {
		*why = type == IKEV2_ID_IPV4_ADDR ? "is not an IPv4 address"
						  : "is not an IPv6 address";
		return ERR_INVAL;
	}
	id->len = (uint8_t)addr_len(&a);
	memcpy(id->data, a.u.b, id->len);
	return 0;
}

/* strongSwan's type prefixes ("fqdn:vpn.example"). */
static const struct {
	const char *prefix;
	uint8_t type;
} id_prefixes[] = {
	{ "ipv4:", IKEV2_ID_IPV4_ADDR },    { "ipv6:", IKEV2_ID_IPV6_ADDR },
	{ "fqdn:", IKEV2_ID_FQDN },	    { "dns:", IKEV2_ID_FQDN },
	{ "rfc822:", IKEV2_ID_RFC822_ADDR }, { "email:", IKEV2_ID_RFC822_ADDR },
	{ "userfqdn:", IKEV2_ID_RFC822_ADDR }, { "keyid:", IKEV2_ID_KEY_ID },
};

int conn_id_parse(const char *s, struct ike_id *id, const char **why)
{
	const char *v;
	size_t i;
	int r;

	memset(id, 0, sizeof(*id));
	*why = NULL;
	/* strongSwan's wildcards: type 0 accepts any peer ID. */
	if (!strcmp(s, "%any") || !strcmp(s, "%any6") || !strcmp(s, "*"))
		return 0;
	for (i = 0; i < sizeof(id_prefixes) / sizeof(id_prefixes[0]); i++) {
		size_t pl = strlen(id_prefixes[i].prefix);

		if (strncasecmp(s, id_prefixes[i].prefix, pl))
			continue;
		v = s + pl;
		id->type = id_prefixes[i].type;
		/* "type:#0a0b": the binary value in hex. */
		if (v[0] == '#')
			r = id_hex(v + 1, id, why);
		else if (id->type == IKEV2_ID_IPV4_ADDR ||
			 id->type == IKEV2_ID_IPV6_ADDR)
			r = id_addr(v, id->type, id, why);
		else
			r = id_text(v, id, why);
		if (!r && (id->type == IKEV2_ID_IPV4_ADDR ||
			   id->type == IKEV2_ID_IPV6_ADDR) &&
		    id->len != (id->type == IKEV2_ID_IPV4_ADDR ? 4 : 16)) {
			*why = "has the wrong length for an address";
			r = ERR_INVAL;
		}
		return r;
	}
	/* RFC 7296 §3.5 ID_DER_ASN1_DN, what certificates carry. */
	if (!strncasecmp(s, "asn1gn:", 7)) {
		*why = "is a DER_ASN1_GN, which is not supported";
		return ERR_UNSUPPORTED;
	}
	if (strchr(s, '=') || !strncasecmp(s, "asn1dn:", 7)) {
		size_t n = 0;

		id->type = IKEV2_ID_DER_ASN1_DN;
		r = ike_dn_parse(s, id->data, sizeof(id->data), &n, why);
		id->len = (uint8_t)n;
		return r;
	}
	if (!strncmp(s, "@#", 2)) {
		id->type = IKEV2_ID_KEY_ID;
		return id_hex(s + 2, id, why);
	}
	if (!strncmp(s, "@@", 2)) {
		id->type = IKEV2_ID_RFC822_ADDR;
		return id_text(s + 2, id, why);
	}
	if (s[0] == '@') {
		id->type = IKEV2_ID_FQDN;
		return id_text(s + 1, id, why);
	}
	if (strchr(s, '@')) {
		id->type = IKEV2_ID_RFC822_ADDR;
		return id_text(s, id, why);
	}
	if (strchr(s, ':')) {
		/* strongSwan would fall back to KEY_ID here; an address
		 * typo is the likelier meaning, so say so. */
		id->type = IKEV2_ID_IPV6_ADDR;
		return id_addr(s, IKEV2_ID_IPV6_ADDR, id, why);
	}
	id->type = IKEV2_ID_FQDN;
	if (!id_addr(s, IKEV2_ID_IPV4_ADDR, id, why)) {
		id->type = IKEV2_ID_IPV4_ADDR;
		return 0;
	}
	*why = NULL;
	return id_text(s, id, why);
}

static void get_id(struct csec *c, struct ini_kv *kv, struct ike_id *id,
		   bool local)
{
	const char *why = NULL;

	if (conn_id_parse(kv->value, id, &why))
		cerr(c, kv,
		     "'%s' %s (write an address, vpn.example.org or "
		     "@vpn.example.org, user@example.org, a DN like \"C=CH, "
		     "O=example, CN=gw-a\", or @#0a0b... for a KEY_ID in hex)",
		     kv->value, why ? why : "is not an identity");
	else if (local && !id->type)
		cerr(c, kv,
		     "'%s' is a wildcard; our own identity must be exact "
		     "(leave local_id out to use our address)",
		     kv->value);
}

static void get_proposals(struct csec *c, struct ini_kv *kv, const char *dflt,
			  uint8_t proto, struct proposal_list *l)
{
	char why[1024];

	if (proposal_parse(kv ? kv->value : dflt, proto, l, why, sizeof(why)))
		cerr(c, kv, "%s", why);
}

/* Transport mode without selectors: the two hosts. */
static void host_ts(const struct ip_addr *a, struct ts_sel *ts, uint8_t *n)
{
	memset(ts, 0, sizeof(*ts));
	prefix_from_addr(&ts->net, a, (uint8_t)addr_bits(a->af));
	ts->port_hi = 65535;
	*n = 1;
}

/*
 * Fingerprint of a section for reload: SHA-256 over its keys and values
 * in file order, and the PSK (a psk = file: may change behind an
 * unchanged line).  Any key, including ones added later, takes part,
 * except "start", which a reload applies without a restart.
 */
static int conn_fingerprint(struct ini_section *s, struct conn_cfg *cc)
{
	const struct ini_kv *kv;
	size_t n = cc->ike.psk_len + 1, off = 0, kl, vl;
	uint8_t *buf;
	int r;

	for (kv = s->keys; kv; kv = kv->next)
		n += strlen(kv->key) + strlen(kv->value) + 2;
	buf = malloc(n);
	if (!buf)
		return ERR_NOMEM;
	for (kv = s->keys; kv; kv = kv->next) {
		if (!strcmp(kv->key, "start"))
			continue;
		kl = strlen(kv->key) + 1;
		vl = strlen(kv->value) + 1;
		memcpy(buf + off, kv->key, kl);
		memcpy(buf + off + kl, kv->value, vl);
		off += kl + vl;
	}
	buf[off++] = 0;
	memcpy(buf + off, cc->ike.psk, cc->ike.psk_len);
	off += cc->ike.psk_len;
	r = crypto_digest("SHA256", buf, off, cc->fingerprint,
			  sizeof(cc->fingerprint));
	crypto_wipe(buf, n);
	free(buf);
	return r;
}

bool conn_same(const struct conn_cfg *a, const struct conn_cfg *b)
{
	return !strcmp(a->name, b->name) &&
	       crypto_memeq(a->fingerprint, b->fingerprint,
			    sizeof(a->fingerprint));
}

static int parse_conn(struct ini_section *s, struct conn_cfg *cc,
		      uint32_t reqid)
{
	struct ike_conn *ic = &cc->ike;
	struct ini_kv *kv;
	struct csec c;
	int pki_errs;

	c.s = s;
	c.file = ini_path(s->ini);
	ini_section_fmt(s, c.title, sizeof(c.title));
	c.errs = 0;
	snprintf(cc->name, sizeof(cc->name), "%s", s->name);
	if (strlen(s->name) >= sizeof(cc->name))
		cerr(&c, NULL, "name longer than %d characters",
		     CONN_NAME_MAX - 1);
	ic->mode = IPSEC_MODE_TUNNEL;
	ic->reqid = reqid;

	kv = ini_get_kv(s, "local");
	if (kv)
		get_addr(&c, kv, &ic->local_addr);
	else
		cerr(&c, NULL,
		     "missing 'local' (our address, e.g. "
		     "local = 192.0.2.10)");
	kv = ini_get_kv(s, "remote");
	if (kv && !strcasecmp(kv->value, "%any"))
		cc->remote_any = true;
	else if (kv)
		get_addr(&c, kv, &ic->remote_addr);
	else
		cerr(&c, NULL,
		     "missing 'remote' (the peer's address, or "
		     "%%any to accept any peer as responder)");
	if (ic->local_addr.af && ic->remote_addr.af &&
	    ic->local_addr.af != ic->remote_addr.af)
		cerr(&c, kv, "local and remote are of different families");

	/* Identities: by default our address, and the peer's address
	 * (%any accepts any ID; RFC 7296 §3.5). */
	kv = ini_get_kv(s, "local_id");
	if (kv)
		get_id(&c, kv, &ic->local_id, true);
	kv = ini_get_kv(s, "remote_id");
	if (kv)
		get_id(&c, kv, &ic->remote_id, false);
	else if (ic->remote_addr.af) {
		ic->remote_id.type = ic->remote_addr.af == AF_INET6
					     ? IKEV2_ID_IPV6_ADDR
					     : IKEV2_ID_IPV4_ADDR;
		ic->remote_id.len = (uint8_t)addr_len(&ic->remote_addr);
		memcpy(ic->remote_id.data, ic->remote_addr.u.b,
		       ic->remote_id.len);
	}

	/* auth, remote_auth and the certificate keys (conn_pki.c). */
	pki_errs = conn_pki_parse(s, c.file, c.title, ic);
	c.errs += pki_errs;
	kv = ini_get_kv(s, "psk");
	if (kv)
		get_psk(&c, kv, ic);
	else if (!pki_errs && ike_pki_uses_psk(ic->pki))
		cerr(&c, NULL,
		     "missing 'psk' (psk = file:/etc/ipsecd/NAME.psk "
		     "with mode 600, or the key inline)");

	get_proposals(&c, ini_get_kv(s, "ike"), PROPOSAL_IKE_DEFAULT,
		      IKEV2_PROTO_IKE, &ic->ike);
	get_proposals(&c, ini_get_kv(s, "esp"), PROPOSAL_ESP_DEFAULT,
		      IKEV2_PROTO_ESP, &ic->esp);

	kv = ini_get_kv(s, "mode");
	if (kv && !strcasecmp(kv->value, "transport"))
		ic->mode = IPSEC_MODE_TRANSPORT;
	else if (kv && strcasecmp(kv->value, "tunnel"))
		cerr(&c, kv, "'%s' is not valid (use tunnel | transport)",
		     kv->value);

	kv = ini_get_kv(s, "start");
	if (!kv || !strcasecmp(kv->value, "off"))
		cc->start = CONN_START_OFF;
	else if (!strcasecmp(kv->value, "on"))
		cc->start = CONN_START_ON;
	else if (!strcasecmp(kv->value, "trap"))
		cc->start = CONN_START_TRAP;
	else
		cerr(&c, kv, "'%s' is not valid (use on | trap | off)",
		     kv->value);
	if (cc->remote_any && cc->start != CONN_START_OFF)
		cerr(&c, kv,
		     "remote = %%any can only respond (use start = "
		     "off, or name the peer's address in remote)");
	conn_life_parse(s, c.title, (int)cc->start, &cc->life, &c.errs);

	kv = ini_get_kv(s, "local_ts");
	if (kv)
		get_ts(&c, kv, ic->local_ts, &ic->n_local_ts);
	else if (ic->mode == IPSEC_MODE_TRANSPORT && ic->local_addr.af)
		host_ts(&ic->local_addr, ic->local_ts, &ic->n_local_ts);
	else
		cerr(&c, NULL,
		     "missing 'local_ts' (the networks behind us, "
		     "e.g. local_ts = 198.51.100.0/24)");
	kv = ini_get_kv(s, "remote_ts");
	if (kv)
		get_ts(&c, kv, ic->remote_ts, &ic->n_remote_ts);
	else if (ic->mode == IPSEC_MODE_TRANSPORT && ic->remote_addr.af)
		host_ts(&ic->remote_addr, ic->remote_ts, &ic->n_remote_ts);
	else
		cerr(&c, NULL,
		     "missing 'remote_ts' (the networks behind the "
		     "peer, e.g. remote_ts = 203.0.113.0/24)");
	if (!c.errs && conn_fingerprint(s, cc))
		cerr(&c, NULL, "out of memory");
	return c.errs ? ERR_CONFIG : 0;
}

int conn_load(struct ini *ini, struct conn_set **out)
{
	struct ini_section *s, *d;
	struct conn_set *cs;
	struct ini_kv *kv;
	size_t n = 0, i;
	int r, bad = 0;

	*out = NULL;
	for (s = ini_first(ini); s; s = ini_next(s))
		if (!strcmp(s->type, "conn"))
			n++;
	cs = calloc(1, sizeof(*cs));
	if (cs)
		cs->conns = calloc(n + 1, sizeof(*cs->conns));
	if (!cs || !cs->conns) {
		r = ERR_NOMEM;
		goto out;
	}
	d = ini_find(ini, "daemon", NULL);
	kv = ini_get_kv(d, "keylog");
	if (kv && kv->value[0] != '/') {
		log_err(LS_CFG,
			"%s:%u: [daemon] keylog: '%s' is not an "
			"absolute path (keylog = /path/to/keys.txt)",
			ini_path(ini), kv->line, kv->value);
		bad++;
	} else if (kv) {
		snprintf(cs->keylog, sizeof(cs->keylog), "%s", kv->value);
	}
	cs->cookie_threshold = CONN_COOKIE_THRESHOLD;
	kv = ini_get_kv(d, "cookie_threshold");
	if (kv) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(kv->value, &end, 10);
		if (errno || end == kv->value || *end || kv->value[0] == '-' ||
		    v > 100000) {
			log_err(LS_CFG,
				"%s:%u: [daemon] cookie_threshold: '%s' is not "
				"a number from 0 to 100000 (half-open IKE SAs "
				"before COOKIEs are required; 0 = always)",
				ini_path(ini), kv->line, kv->value);
			bad++;
		} else {
			cs->cookie_threshold = (unsigned)v;
		}
	}
	for (s = ini_first(ini); s; s = ini_next(s)) {
		if (strcmp(s->type, "conn"))
			continue;
		if (!s->name) {
			log_err(LS_CFG,
				"%s:%u: [conn] needs a name "
				"([conn NAME])",
				ini_path(ini), s->line);
			ini_mark_all_used(s);
			bad++;
			continue;
		}
		if (parse_conn(s, &cs->conns[cs->n],
			       CONN_REQID_BASE + (uint32_t)cs->n))
			bad++;
		cs->n++;
	}
	for (i = 0; i < cs->n; i++)
		if (conn_find(cs, cs->conns[i].name) != &cs->conns[i]) {
			log_err(LS_CFG,
				"%s: two [conn %s] sections (rename "
				"one)",
				ini_path(ini), cs->conns[i].name);
			bad++;
		}
	if (bad) {
		r = ERR_CONFIG;
		goto out;
	}
	*out = cs;
	return 0;
out:
	conn_free(cs);
	return r;
}

struct conn_cfg *conn_find(struct conn_set *cs, const char *name)
{
	size_t i;

	for (i = 0; cs && i < cs->n; i++)
		if (!strcmp(cs->conns[i].name, name))
			return &cs->conns[i];
	return NULL;
}

void conn_free(struct conn_set *cs)
{
	size_t i;

	if (!cs)
		return;
	for (i = 0; cs->conns && i < cs->n; i++) {
		crypto_wipe(cs->conns[i].ike.psk, sizeof(cs->conns[i].ike.psk));
		ike_pki_unref(cs->conns[i].ike.pki);
	}
	free(cs->conns);
	free(cs);
}
