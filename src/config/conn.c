/* SPDX-License-Identifier: MIT */
/* IKEv2 connections: [conn NAME] sections and [daemon] keylog. */
#include "config/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "config/value.h"
#include "crypto/crypto.h"

/* Parsing state for one section; errs counts problems found in it. */
struct csec {
	struct ini_section *s;
	const char *file;
	char title[CONN_NAME_MAX + 16];
	int errs;
};

/* "file:line: [conn x] key: message" (kv NULL: the section line). */
__attribute__((format(printf, 3, 4))) static void
cerr(struct csec *c, const struct ini_kv *kv, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (kv)
		log_err(LS_CFG, "%s:%u: %s %s: %s", c->file, kv->line, c->title,
			kv->key, msg);
	else
		log_err(LS_CFG, "%s:%u: %s: %s", c->file, c->s->line, c->title,
			msg);
	c->errs++;
}

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

static void get_id(struct csec *c, struct ini_kv *kv, struct ike_id *id)
{
	if (ike_id_parse(kv->value, id))
		cerr(c, kv,
		     "'%s' is not an identity (use an address, "
		     "host.example.org, user@example.org or keyid:HEX)",
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

static int parse_conn(struct ini_section *s, struct conn_cfg *cc,
		      uint32_t reqid)
{
	struct ike_conn *ic = &cc->ike;
	struct ini_kv *kv;
	struct csec c;

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
		get_id(&c, kv, &ic->local_id);
	kv = ini_get_kv(s, "remote_id");
	if (kv && strcasecmp(kv->value, "%any"))
		get_id(&c, kv, &ic->remote_id);
	else if (!kv && ic->remote_addr.af) {
		ic->remote_id.type = ic->remote_addr.af == AF_INET6
					     ? IKEV2_ID_IPV6_ADDR
					     : IKEV2_ID_IPV4_ADDR;
		ic->remote_id.len = (uint8_t)addr_len(&ic->remote_addr);
		memcpy(ic->remote_id.data, ic->remote_addr.u.b,
		       ic->remote_id.len);
	}

	kv = ini_get_kv(s, "auth");
	if (kv && strcasecmp(kv->value, "psk"))
		cerr(&c, kv, "'%s' is not supported (use auth = psk)",
		     kv->value);
	kv = ini_get_kv(s, "psk");
	if (kv)
		get_psk(&c, kv, ic);
	else
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
	for (i = 0; cs->conns && i < cs->n; i++)
		crypto_wipe(cs->conns[i].ike.psk, sizeof(cs->conns[i].ike.psk));
	free(cs->conns);
	free(cs);
}
