/* SPDX-License-Identifier: MIT */
/* Manual keying: [daemon], [sa NAME] and [policy NAME] sections. */
#include "config/manual.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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
struct sec {
	struct ini_section *s;
	const char *file;
	char title[MANUAL_NAME_MAX + 16];
	int errs;
};

static void sec_init(struct sec *c, struct ini_section *s)
{
	c->s = s;
	c->file = ini_path(s->ini);
	ini_section_fmt(s, c->title, sizeof(c->title));
	c->errs = 0;
}

/* "file:line: [sa x] key 'k': message" (kv NULL: the section line). */
__attribute__((format(printf, 3, 4)))
static void serr(struct sec *c, const struct ini_kv *kv, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (kv)
		log_err(LS_CFG, "%s:%u: %s %s: %s", c->file, kv->line,
			c->title, kv->key, msg);
	else
		log_err(LS_CFG, "%s:%u: %s: %s", c->file, c->s->line,
			c->title, msg);
	c->errs++;
}

/* A required key: NULL (and an error) if absent. */
static struct ini_kv *need(struct sec *c, const char *key, const char *hint)
{
	struct ini_kv *kv = ini_get_kv(c->s, key);

	if (!kv)
		serr(c, NULL, "missing '%s' (%s)", key, hint);
	return kv;
}

/* One of names[] (case-insensitive) -> vals[]; absent keeps *out. */
static void get_enum(struct sec *c, const char *key, const char *const *names,
		     const int *vals, size_t n, int *out)
{
	struct ini_kv *kv = ini_get_kv(c->s, key);
	char opts[128] = "";
	size_t i;

	if (!kv)
		return;
	for (i = 0; i < n; i++) {
		if (!strcasecmp(kv->value, names[i])) {
			*out = vals[i];
			return;
		}
		snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts),
			 "%s%s", i ? " | " : "", names[i]);
	}
	serr(c, kv, "'%s' is not valid (use %s)", kv->value, opts);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (!*s || *s == '-')
		return ERR_INVAL;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end)
		return ERR_INVAL;
	if (x > max)
		return ERR_OVERFLOW;
	*v = x;
	return 0;
}

/* A number (decimal or 0x hex) up to max; absent keeps *out. */
static void get_num(struct sec *c, const char *key, uint64_t max,
		    uint64_t *out)
{
	struct ini_kv *kv = ini_get_kv(c->s, key);

	if (kv && parse_u64(kv->value, max, out))
		serr(c, kv, "'%s' is not a number from 0 to %llu", kv->value,
		     (unsigned long long)max);
}

static void get_addr(struct sec *c, const char *key, const char *hint,
		     struct ip_addr *a)
{
	struct ini_kv *kv = need(c, key, hint);

	if (kv && addr_parse(kv->value, a))
		serr(c, kv, "'%s' is not an IPv4 or IPv6 address", kv->value);
}

static void get_bool(struct sec *c, const char *key, bool *v)
{
	struct ini_kv *kv = ini_get_kv(c->s, key);

	if (kv && cfg_parse_bool(kv->value, v))
		serr(c, kv, "'%s' is not yes or no", kv->value);
}

static void get_duration(struct sec *c, const char *key, uint64_t *v)
{
	struct ini_kv *kv = ini_get_kv(c->s, key);

	if (kv && cfg_parse_duration(kv->value, v))
		serr(c, kv, "'%s' is not a duration (e.g. 30s, 90m, 4h)",
		     kv->value);
}

static void get_size(struct sec *c, const char *key, uint64_t *v)
{
	struct ini_kv *kv = ini_get_kv(c->s, key);

	if (kv && cfg_parse_size(kv->value, v))
		serr(c, kv, "'%s' is not a size (e.g. 500M, 1G)", kv->value);
}

/* A comma list of prefixes into a selector set. */
static void get_ts(struct sec *c, const char *key, struct ts_sel *ts,
		   uint8_t *n)
{
	struct ini_kv *kv = ini_get_kv(c->s, key);
	char **items = NULL;
	size_t i, cnt = 0;

	if (!kv)
		return;
	if (cfg_parse_list(kv->value, &items, &cnt)) {
		serr(c, kv, "'%s' is not a comma-separated list", kv->value);
		return;
	}
	if (cnt > SA_MAX_TS) {
		serr(c, kv, "at most %d selectors are allowed", SA_MAX_TS);
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		memset(&ts[i], 0, sizeof(ts[i]));
		ts[i].port_hi = 65535;
		if (prefix_parse(items[i], &ts[i].net)) {
			serr(c, kv,
			     "'%s' is not a prefix like 198.51.100.0/24 "
			     "(host bits must be zero)", items[i]);
			goto out;
		}
	}
	*n = (uint8_t)cnt;
out:
	cfg_list_free(items, cnt);
}

/*
 * A key: "0x..." hex, or "file:/path" whose content is that hex.  The
 * file must not be readable by group or other (secret_file_check).
 */
static int get_key(struct sec *c, struct ini_kv *kv, uint8_t *out,
		   size_t cap, uint8_t *len)
{
	char text[1024];
	const char *hex = kv->value;
	size_t n = 0, l;
	ssize_t got;
	int fd, r;

	if (!strncmp(hex, "file:", 5)) {
		if (secret_file_check(hex + 5)) {
			c->errs++;
			return ERR_CONFIG;
		}
		fd = open(hex + 5, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			serr(c, kv, "cannot open %s: %s", hex + 5,
			     strerror(errno));
			return ERR_CONFIG;
		}
		got = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (got < 0) {
			serr(c, kv, "cannot read %s", hex + 5);
			return ERR_CONFIG;
		}
		text[got] = 0;
		l = strcspn(text, " \t\r\n");
		text[l] = 0;
		hex = text;
	}
	r = cfg_parse_hex(hex, out, cap, &n);
	crypto_wipe(text, sizeof(text));
	if (r) {
		serr(c, kv, "%s (write the key as 0x followed by %s)",
		     r == ERR_OVERFLOW ? "key too long" : "not valid hex",
		     "an even number of hex digits");
		return ERR_CONFIG;
	}
	*len = (uint8_t)n;
	return 0;
}

static int parse_daemon(struct ini *ini, struct daemon_cfg *d)
{
	struct ini_section *s = ini_find(ini, "daemon", NULL);
	struct ini_kv *kv;
	struct sec c;
	uint64_t v;

	memset(d, 0, sizeof(*d));
	snprintf(d->tun, sizeof(d->tun), "ipsec0");
	d->path_mtu = 1500;
	d->route_table = 220;
	d->fwmark = 0x1f4e;
	d->keepalive_s = 20;
	d->workers = 2;
	d->natt_port = 4500;
	d->offload = true;
	if (!s)
		return 0;
	sec_init(&c, s);
	kv = ini_get_kv(s, "tun");
	if (kv && strlen(kv->value) >= IFNAMSIZ)
		serr(&c, kv, "interface name longer than %d", IFNAMSIZ - 1);
	else if (kv)
		snprintf(d->tun, sizeof(d->tun), "%s", kv->value);
	v = d->path_mtu;
	get_num(&c, "path_mtu", 65535, &v);
	if (v < 1280)
		serr(&c, ini_get_kv(s, "path_mtu"),
		     "must be at least 1280 (the IPv6 minimum)");
	d->path_mtu = (unsigned)v;
	v = d->route_table;
	get_num(&c, "route_table", 0xfffffffe, &v);
	d->route_table = (uint32_t)v;
	v = d->fwmark;
	get_num(&c, "fwmark", 0xffffffff, &v);
	if (!v)
		serr(&c, ini_get_kv(s, "fwmark"), "must not be 0");
	d->fwmark = (uint32_t)v;
	get_duration(&c, "keepalive", &d->keepalive_s);
	v = d->workers;
	get_num(&c, "workers", 16, &v);
	if (v < 2)
		serr(&c, ini_get_kv(s, "workers"),
		     "at least 2 (one per direction)");
	d->workers = (unsigned)v;
	v = d->natt_port;
	get_num(&c, "natt_port", 65535, &v);
	d->natt_port = (uint16_t)v;
	get_bool(&c, "offload", &d->offload);
	kv = ini_get_kv(s, "pid_file");
	if (kv)
		snprintf(d->pid_file, sizeof(d->pid_file), "%s", kv->value);
	return c.errs ? ERR_CONFIG : 0;
}

static const char *const proto_names[] = { "esp", "ah" };
static const int proto_vals[] = { IPSEC_PROTO_ESP, IPSEC_PROTO_AH };
static const char *const mode_names[] = { "tunnel", "transport" };
static const int mode_vals[] = { IPSEC_MODE_TUNNEL, IPSEC_MODE_TRANSPORT };
static const char *const dir_names[] = { "out", "in" };
static const int dir_vals[] = { SA_DIR_OUT, SA_DIR_IN };

static void sa_algs(struct sec *c, struct sa_params *p)
{
	struct ini_kv *kv;
	size_t want;

	kv = ini_get_kv(c->s, "enc");
	if (kv) {
		p->encr = encr_by_name(kv->value);
		if (!p->encr)
			serr(c, kv, "unknown algorithm '%s' (e.g. aes128gcm16, "
			     "aes256, chacha20poly1305, null)", kv->value);
	} else if (p->proto == IPSEC_PROTO_ESP) {
		serr(c, NULL, "missing 'enc' (e.g. enc = aes128gcm16)");
	}
	kv = ini_get_kv(c->s, "integ");
	if (kv && strcasecmp(kv->value, "none")) {
		p->integ = integ_by_name(kv->value);
		if (!p->integ)
			serr(c, kv, "unknown algorithm '%s' (e.g. sha256, "
			     "sha512, sha1)", kv->value);
	}
	if (p->encr && p->encr->aead && p->integ) {
		serr(c, kv, "'%s' is a combined mode; remove 'integ'",
		     p->encr->name);
		p->integ = NULL;
		ini_get_kv(c->s, "integ_key");
	}
	if (p->proto == IPSEC_PROTO_ESP && p->encr && !p->encr->aead &&
	    !p->integ && c->errs == 0)
		serr(c, NULL, "'%s' needs 'integ' (e.g. integ = sha256)",
		     p->encr->name);
	if (p->proto == IPSEC_PROTO_AH && !p->integ &&
	    !(p->encr && p->encr->kind == ENCR_KIND_GMAC))
		serr(c, NULL, "AH needs 'integ' (e.g. integ = sha256)");
	if (p->proto == IPSEC_PROTO_AH && p->encr &&
	    p->encr->kind != ENCR_KIND_GMAC)
		serr(c, ini_get_kv(c->s, "enc"),
		     "AH does not encrypt; remove 'enc' or use proto = esp");
	if (p->encr) {
		want = (size_t)p->encr->key_len + p->encr->salt_len;
		kv = ini_get_kv(c->s, "enc_key");
		if (!kv && want)
			serr(c, NULL, "missing 'enc_key' (%zu bytes: key%s)",
			     want, p->encr->salt_len ? " || salt" : "");
		else if (kv && !get_key(c, kv, p->enc_key,
					sizeof(p->enc_key), &p->enc_key_len) &&
			 p->enc_key_len != want)
			serr(c, kv, "%s needs %zu bytes (key%s), got %u",
			     p->encr->name, want,
			     p->encr->salt_len ? " || salt" : "",
			     p->enc_key_len);
	}
	if (p->integ) {
		kv = need(c, "integ_key", "the integrity key as 0x hex");
		if (kv && !get_key(c, kv, p->integ_key, sizeof(p->integ_key),
				   &p->integ_key_len) &&
		    p->integ_key_len != p->integ->key_len)
			serr(c, kv, "%s needs a %u-byte key, got %u",
			     p->integ->name, p->integ->key_len,
			     p->integ_key_len);
	}
}

static void sa_lifetimes(struct sec *c, struct sa_params *p)
{
	get_size(c, "soft_bytes", &p->soft.bytes);
	get_size(c, "hard_bytes", &p->hard.bytes);
	get_num(c, "soft_packets", UINT64_MAX, &p->soft.packets);
	get_num(c, "hard_packets", UINT64_MAX, &p->hard.packets);
	get_duration(c, "soft_time", &p->soft.seconds);
	get_duration(c, "hard_time", &p->hard.seconds);
}

static void host_ts(struct ts_sel *ts, uint8_t *n, const struct ip_addr *a)
{
	memset(ts, 0, sizeof(*ts));
	prefix_from_addr(&ts->net, a, (uint8_t)addr_bits(a->af));
	ts->port_hi = 65535;
	*n = 1;
}

static int parse_sa(struct ini_section *s, struct manual_sa *m)
{
	struct sa_params *p = &m->p;
	struct ini_kv *kv;
	struct sec c;
	int v;
	uint64_t u;
	bool encap = false;

	sec_init(&c, s);
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", s->name ? s->name : "");
	v = IPSEC_PROTO_ESP;
	get_enum(&c, "proto", proto_names, proto_vals, 2, &v);
	p->proto = (enum ipsec_proto)v;
	v = IPSEC_MODE_TUNNEL;
	get_enum(&c, "mode", mode_names, mode_vals, 2, &v);
	p->mode = (enum ipsec_mode)v;
	v = -1;
	get_enum(&c, "dir", dir_names, dir_vals, 2, &v);
	if (v < 0 && !ini_get_kv(s, "dir"))
		serr(&c, NULL, "missing 'dir' (out | in)");
	p->dir = v == SA_DIR_IN ? SA_DIR_IN : SA_DIR_OUT;
	get_addr(&c, "src", "the outer source address", &p->src);
	get_addr(&c, "dst", "the outer destination address", &p->dst);
	if (p->src.af && p->dst.af && p->src.af != p->dst.af)
		serr(&c, ini_get_kv(s, "dst"),
		     "src and dst must be of the same family");
	kv = need(&c, "spi", "e.g. spi = 0x1000");
	u = 0;
	if (kv && parse_u64(kv->value, 0xffffffff, &u))
		serr(&c, kv, "'%s' is not a 32-bit number", kv->value);
	/* RFC 4303 §2.1: SPIs 1..255 are reserved by IANA, 0 is local. */
	else if (kv && u < 256)
		serr(&c, kv, "SPI %llu is reserved (use 256 or more)",
		     (unsigned long long)u);
	p->spi = (uint32_t)u;
	kv = ini_get_kv(s, "encap");
	if (kv && !strcasecmp(kv->value, "udp"))
		encap = true;
	else if (kv && cfg_parse_bool(kv->value, &encap))
		serr(&c, kv, "'%s' is not valid (use udp | no)", kv->value);
	if (encap) {
		u = 4500;
		get_num(&c, "encap_sport", 65535, &u);
		p->encap_sport = (uint16_t)u;
		u = 4500;
		get_num(&c, "encap_dport", 65535, &u);
		p->encap_dport = (uint16_t)u;
		/* RFC 3948 covers ESP only. */
		if (p->proto == IPSEC_PROTO_AH)
			serr(&c, kv, "AH cannot be UDP-encapsulated "
			     "(RFC 3948 is ESP only); use encap = no");
	}
	sa_algs(&c, p);
	get_bool(&c, "esn", &p->esn);
	u = REPLAY_WINDOW_DEFAULT;
	get_num(&c, "replay_window", REPLAY_WINDOW_MAX, &u);
	p->replay_window = (uint32_t)u;
	get_ts(&c, "local_ts", p->ts_local, &p->n_ts_local);
	get_ts(&c, "remote_ts", p->ts_remote, &p->n_ts_remote);
	/* Transport mode protects the two hosts themselves (RFC 4301
	 * §4.1): default the selectors to them. */
	if (p->mode == IPSEC_MODE_TRANSPORT && p->src.af && p->dst.af) {
		if (!p->n_ts_local)
			host_ts(p->ts_local, &p->n_ts_local,
				p->dir == SA_DIR_OUT ? &p->src : &p->dst);
		if (!p->n_ts_remote)
			host_ts(p->ts_remote, &p->n_ts_remote,
				p->dir == SA_DIR_OUT ? &p->dst : &p->src);
	}
	sa_lifetimes(&c, p);
	u = 0;
	get_num(&c, "reqid", 0xffffffff, &u);
	p->reqid = (uint32_t)u;
	u = 0;
	get_num(&c, "ttl", 255, &u);
	p->ttl = (uint8_t)u;
	get_bool(&c, "tfc_pad", &p->tfc_pad);
	return c.errs ? ERR_CONFIG : 0;
}

static int parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
	uint64_t a, b;
	char tmp[32];
	char *dash;

	if (strlen(s) >= sizeof(tmp))
		return ERR_INVAL;
	snprintf(tmp, sizeof(tmp), "%s", s);
	dash = strchr(tmp, '-');
	if (dash)
		*dash++ = 0;
	if (parse_u64(tmp, 65535, &a) ||
	    (dash ? parse_u64(dash, 65535, &b) : (b = a, 0)) || a > b)
		return ERR_INVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static void get_upper(struct sec *c, struct policy_params *p)
{
	static const struct {
		const char *name;
		uint8_t num;
	} protos[] = {
		{ "any", 0 },	 { "icmp", IPPROTO_ICMP },
		{ "tcp", IPPROTO_TCP },	 { "udp", IPPROTO_UDP },
		{ "icmp6", IPPROTO_ICMPV6 }, { "ipv6-icmp", IPPROTO_ICMPV6 },
		{ "sctp", IPPROTO_SCTP },
	};
	struct ini_kv *kv = ini_get_kv(c->s, "proto");
	uint64_t n;
	size_t i;

	if (kv) {
		for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			if (!strcasecmp(kv->value, protos[i].name))
				break;
		if (i < sizeof(protos) / sizeof(protos[0]))
			n = protos[i].num;
		else if (parse_u64(kv->value, 255, &n))
			serr(c, kv, "'%s' is not valid (use any | icmp | tcp "
			     "| udp | icmp6 | sctp | a number)", kv->value);
		p->src.proto = p->dst.proto = (uint8_t)n;
	}
	kv = ini_get_kv(c->s, "sport");
	if (kv && parse_ports(kv->value, &p->src.port_lo, &p->src.port_hi))
		serr(c, kv, "'%s' is not a port or range like 1024-65535",
		     kv->value);
	kv = ini_get_kv(c->s, "dport");
	if (kv && parse_ports(kv->value, &p->dst.port_lo, &p->dst.port_hi))
		serr(c, kv, "'%s' is not a port or range like 1024-65535",
		     kv->value);
}

static const struct manual_sa *find_sa(const struct manual_cfg *m,
				       const char *name)
{
	size_t i;

	for (i = 0; i < m->n_sas; i++)
		if (!strcmp(m->sas[i].name, name))
			return &m->sas[i];
	return NULL;
}

static int parse_policy(struct ini_section *s, const struct manual_cfg *m,
			struct manual_policy *mp, uint32_t id)
{
	static const char *const act_names[] = { "protect", "bypass", "drop" };
	static const int act_vals[] = { POLICY_PROTECT, POLICY_BYPASS,
					POLICY_DROP };
	struct policy_params *p = &mp->p;
	const struct manual_sa *sa = NULL;
	struct ini_kv *kv;
	struct sec c;
	uint64_t u;
	int v;

	sec_init(&c, s);
	memset(mp, 0, sizeof(*mp));
	snprintf(mp->name, sizeof(mp->name), "%s", s->name ? s->name : "");
	p->id = id;
	v = -1;
	get_enum(&c, "dir", dir_names, dir_vals, 2, &v);
	if (v < 0 && !ini_get_kv(s, "dir"))
		serr(&c, NULL, "missing 'dir' (out | in)");
	p->dir = v == SA_DIR_IN ? SA_DIR_IN : SA_DIR_OUT;
	p->src.port_hi = p->dst.port_hi = 65535;
	kv = need(&c, "src", "a prefix like 198.51.100.0/24");
	if (kv && prefix_parse(kv->value, &p->src.net))
		serr(&c, kv, "'%s' is not a prefix (host bits must be zero)",
		     kv->value);
	kv = need(&c, "dst", "a prefix like 203.0.113.0/24");
	if (kv && prefix_parse(kv->value, &p->dst.net))
		serr(&c, kv, "'%s' is not a prefix (host bits must be zero)",
		     kv->value);
	if (p->src.net.addr.af && p->dst.net.addr.af &&
	    p->src.net.addr.af != p->dst.net.addr.af)
		serr(&c, kv, "src and dst must be of the same family");
	get_upper(&c, p);
	v = POLICY_PROTECT;
	get_enum(&c, "action", act_names, act_vals, 3, &v);
	p->action = (enum policy_action)v;
	u = 1000;
	get_num(&c, "priority", 0xffffffff, &u);
	p->priority = (uint32_t)u;
	kv = ini_get_kv(s, "sa");
	if (kv) {
		sa = find_sa(m, kv->value);
		if (!sa)
			serr(&c, kv, "no [sa %s] section", kv->value);
		else if (sa->p.dir != p->dir)
			serr(&c, kv, "[sa %s] has the other direction",
			     kv->value);
	}
	u = sa ? sa->p.reqid : 0;
	get_num(&c, "reqid", 0xffffffff, &u);
	p->reqid = (uint32_t)u;
	if (p->action == POLICY_PROTECT && !p->reqid && !c.errs)
		serr(&c, NULL, "action = protect needs 'sa = NAME' or 'reqid'");
	if (sa) {
		p->tmpl_src = sa->p.src;
		p->tmpl_dst = sa->p.dst;
		mp->mode = sa->p.mode;
		mp->local = p->dir == SA_DIR_OUT ? sa->p.src : sa->p.dst;
	}
	return c.errs ? ERR_CONFIG : 0;
}

static size_t count(struct ini *ini, const char *type)
{
	struct ini_section *s;
	size_t n = 0;

	for (s = ini_first(ini); s; s = ini_next(s))
		if (!strcmp(s->type, type))
			n++;
	return n;
}

int manual_load(struct ini *ini, struct manual_cfg **out)
{
	struct manual_cfg *m;
	struct ini_section *s;
	char t[MANUAL_NAME_MAX + 16];
	size_t i, j;
	int r, bad = 0;

	m = calloc(1, sizeof(*m));
	if (!m)
		return ERR_NOMEM;
	m->sas = calloc(count(ini, "sa") + 1, sizeof(*m->sas));
	m->pols = calloc(count(ini, "policy") + 1, sizeof(*m->pols));
	if (!m->sas || !m->pols) {
		r = ERR_NOMEM;
		goto out;
	}
	if (parse_daemon(ini, &m->d))
		bad++;
	for (s = ini_first(ini); s; s = ini_next(s)) {
		if (strcmp(s->type, "sa"))
			continue;
		if (!s->name) {
			log_err(LS_CFG, "%s:%u: [sa] needs a name ([sa NAME])",
				ini_path(ini), s->line);
			bad++;
			continue;
		}
		if (parse_sa(s, &m->sas[m->n_sas]))
			bad++;
		m->n_sas++;
	}
	/* SAs without a reqid each get their own (policies refer to them
	 * by name); keep clear of the explicit ones. */
	for (i = 0; i < m->n_sas; i++) {
		if (m->sas[i].p.reqid)
			continue;
		m->sas[i].p.reqid = 0x10000 + (uint32_t)i;
	}
	for (i = 0; i < m->n_sas; i++)
		for (j = i + 1; j < m->n_sas; j++)
			if (m->sas[i].p.spi == m->sas[j].p.spi &&
			    m->sas[i].p.proto == m->sas[j].p.proto &&
			    m->sas[i].p.dir == m->sas[j].p.dir) {
				log_err(LS_CFG, "%s: [sa %s] and [sa %s] have "
					"the same SPI, protocol and direction "
					"(change one spi)", ini_path(ini),
					m->sas[i].name, m->sas[j].name);
				bad++;
			}
	for (s = ini_first(ini); s; s = ini_next(s)) {
		if (!strcmp(s->type, "policy")) {
			if (parse_policy(s, m, &m->pols[m->n_pols],
					 (uint32_t)m->n_pols + 1))
				bad++;
			m->n_pols++;
		} else if (strcmp(s->type, "sa") && strcmp(s->type, "daemon") &&
			   strcmp(s->type, "conn")) {
			/* [conn NAME] belongs to conn_load() (conn.c). */
			log_err(LS_CFG, "%s:%u: unknown section %s (use "
				"[daemon], [conn NAME], [sa NAME] or "
				"[policy NAME])",
				ini_path(ini), s->line,
				ini_section_fmt(s, t, sizeof(t)));
			bad++;
		}
	}
	if (ini_check_unused(ini))
		bad++;
	if (bad) {
		r = ERR_CONFIG;
		goto out;
	}
	*out = m;
	return 0;
out:
	manual_free(m);
	return r;
}

void manual_wipe_keys(struct manual_cfg *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n_sas; i++) {
		crypto_wipe(m->sas[i].p.enc_key, sizeof(m->sas[i].p.enc_key));
		crypto_wipe(m->sas[i].p.integ_key,
			    sizeof(m->sas[i].p.integ_key));
	}
}

void manual_free(struct manual_cfg *m)
{
	if (!m)
		return;
	manual_wipe_keys(m);
	free(m->sas);
	free(m->pols);
	free(m);
}
