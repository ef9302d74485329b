/* SPDX-License-Identifier: MIT */
/*
 * ipsecd: the IPsec daemon.  It loads static SAs and policies (manual
 * keying, docs/manual-keying.md) into the userspace data plane, runs
 * IKEv2 for [conn] sections (ike.c, docs/ike.md), and runs the control
 * event loop: epoll over a signalfd (SIGINT/SIGTERM
 * stop cleanly, SIGUSR1 logs SA counters, SIGHUP reloads the config
 * file like ipsecctl reload), a 1-second timerfd (lifetimes,
 * NAT keepalives), the data plane's event fd and the control socket
 * (docs/ctl.md; commands in control.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "config/ini.h"
#include "config/manual.h"
#include "crypto/crypto.h"
#include "daemon/daemon.h"
#include "daemon/ike.h"
#include "daemon/privdrop.h"
#include "dataplane/dp_user.h"
#include "esp/sad.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ipsecd [-f] [-c FILE] [-S SOCKET] [-d LEVELS]\n"
		"  -c FILE    configuration file (default /etc/ipsecd/ipsecd.conf)\n"
		"  -f         stay in the foreground, log to stderr\n"
		"  -S SOCKET  control socket (default /run/ipsecd.sock)\n"
		"  -d LEVELS  log levels: debug, or ike=debug,esp=info\n"
		"  -V         print the version\n");
}

static const char *dir_str(enum sa_dir d)
{
	return d == SA_DIR_OUT ? "out" : "in";
}

/*
 * Events from the data plane.  Manual SAs cannot be rekeyed: a soft
 * expire is only logged, a hard expire already removed the SA
 * (RFC 4301 §4.4.2.1); an acquire means a policy has no SA configured.
 */
static void on_event(const struct dp_event *ev, void *arg)
{
	struct daemon *d = arg;
	char sb[ADDR_STRLEN], db[ADDR_STRLEN];

	switch (ev->type) {
	case DP_EV_ACQUIRE:
		/* A [conn] policy: the IKE manager decides (start = trap). */
		if (ike_mgr_acquire(d->ike, ev))
			break;
		log_warn(LS_MAIN, "acquire: policy %u (reqid %u) has no SA "
			 "for %s -> %s; manual keying cannot create one",
			 ev->policy_id, ev->reqid,
			 addr_fmt(&ev->src, sb, sizeof(sb)),
			 addr_fmt(&ev->dst, db, sizeof(db)));
		break;
	case DP_EV_SOFT_EXPIRE:
		/* An IKE Child SA: rekeyed (ike_life.c). */
		if (ike_mgr_expire(d->ike, false, ev->spi))
			break;
		log_warn(LS_MAIN, "SA spi 0x%08x reached its soft lifetime "
			 "(manual SA: not rekeyed)", ev->spi);
		break;
	case DP_EV_HARD_EXPIRE:
		if (ike_mgr_expire(d->ike, true, ev->spi))
			break;
		log_warn(LS_MAIN, "SA spi 0x%08x reached its hard lifetime "
			 "and was deleted", ev->spi);
		break;
	}
}

/* TUN MTU: the path MTU minus the largest outbound SA overhead. */
static unsigned tun_mtu(const struct manual_cfg *c)
{
	unsigned worst = 0, o;
	size_t i;

	for (i = 0; i < c->n_sas; i++) {
		if (c->sas[i].p.dir != SA_DIR_OUT)
			continue;
		o = dp_sa_overhead(&c->sas[i].p);
		if (o > worst)
			worst = o;
	}
	if (!worst)
		worst = dp_max_overhead();
	return c->d.path_mtu - worst;
}

static int install(struct daemon *d)
{
	struct manual_cfg *c = d->cfg;
	struct manual_policy *mp;
	const struct ip_addr *src;
	char pb[PREFIX_STRLEN];
	size_t i;
	int r;

	for (i = 0; i < c->n_sas; i++) {
		r = d->ops->add_sa(d->dp, &c->sas[i].p);
		if (r) {
			log_err(LS_MAIN, "[sa %s]: cannot install: %s",
				c->sas[i].name, err_str(r));
			return r;
		}
		log_info(LS_MAIN, "SA %s: %s spi 0x%08x %s reqid %u",
			 c->sas[i].name,
			 c->sas[i].p.proto == IPSEC_PROTO_AH ? "ah" : "esp",
			 c->sas[i].p.spi, dir_str(c->sas[i].p.dir),
			 c->sas[i].p.reqid);
	}
	/* The data plane copied the keys into its contexts. */
	manual_wipe_keys(c);
	for (i = 0; i < c->n_pols; i++) {
		mp = &c->pols[i];
		r = d->ops->add_policy(d->dp, &mp->p);
		if (r) {
			log_err(LS_MAIN, "[policy %s]: cannot install: %s",
				mp->name, err_str(r));
			return r;
		}
		if (mp->p.dir != SA_DIR_OUT || mp->p.action == POLICY_DROP)
			continue;
		/* Route the protected destination into TUN.  Transport
		 * mode: prefer the SA's local address as source, so the
		 * packet matches the policy (RFC 4301 §4.1). */
		src = mp->mode == IPSEC_MODE_TRANSPORT && mp->local.af ?
		      &mp->local : NULL;
		r = dp_route_add(d->dp, &mp->p.dst.net, src);
		if (r)
			return r;
		log_info(LS_MAIN, "route %s via %s",
			 prefix_fmt(&mp->p.dst.net, pb, sizeof(pb)),
			 dp_ifname(d->dp));
	}
	return 0;
}

static int write_pid(struct daemon *d)
{
	char buf[32];
	int fd, n;

	if (!d->cfg->d.pid_file[0])
		return 0;
	fd = open(d->cfg->d.pid_file, O_WRONLY | O_CREAT | O_TRUNC |
		  O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err(LS_MAIN, "pid file %s: %s", d->cfg->d.pid_file,
			strerror(errno));
		return ERR_IO;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return ERR_IO;
	}
	close(fd);
	d->pid_written = true;
	return 0;
}

static int setup_loop(struct daemon *d)
{
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGUSR1);
	sigaddset(&ss, SIGHUP);
	/* Block before workers start so they inherit the mask. */
	if (pthread_sigmask(SIG_BLOCK, &ss, NULL))
		return ERR_IO;
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_CLOEXEC | TFD_NONBLOCK);
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->sig_fd < 0 || d->timer_fd < 0 || d->ep < 0 ||
	    timerfd_settime(d->timer_fd, 0, &its, NULL) < 0)
		return ERR_IO;
	ev.data.fd = d->sig_fd;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->sig_fd, &ev) < 0)
		return ERR_IO;
	ev.data.fd = d->timer_fd;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, d->timer_fd, &ev) < 0)
		return ERR_IO;
	ev.data.fd = dp_event_fd(d->dp);
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
		return ERR_IO;
	ev.data.fd = ctl_server_fd(d->ctl);
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
		return ERR_IO;
	return 0;
}

/* The control loop; returns when told to stop. */
static void run(struct daemon *d)
{
	struct epoll_event evs[8];
	struct signalfd_siginfo si;
	uint64_t ticks;
	int n, i;

	for (;;) {
		n = epoll_wait(d->ep, evs, 8, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err(LS_MAIN, "epoll_wait: %s", strerror(errno));
			return;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == d->timer_fd) {
				if (read(d->timer_fd, &ticks,
					 sizeof(ticks)) > 0) {
					dp_tick(d->dp);
					ike_mgr_tick(d->ike);
				}
			} else if (evs[i].data.fd == d->sig_fd) {
				if (read(d->sig_fd, &si, sizeof(si)) !=
				    sizeof(si))
					continue;
				if (si.ssi_signo == SIGUSR1) {
					dp_log_stats(d->dp);
					continue;
				}
				if (si.ssi_signo == SIGHUP) {
					/* What init systems send for reload;
					 * the result is logged. */
					struct daemon_reload_result res;

					daemon_reload(d, &res);
					log_info(LS_MAIN, "SIGHUP: %s",
						 res.msg);
					continue;
				}
				log_info(LS_MAIN, "signal %u: stopping",
					 si.ssi_signo);
				return;
			} else if (evs[i].data.fd == ctl_server_fd(d->ctl)) {
				ctl_server_handle(d->ctl);
			} else if (ike_mgr_input(d->ike, evs[i].data.fd)) {
				continue;
			} else {
				dp_dispatch_events(d->dp);
			}
		}
	}
}

/*
 * Fingerprint of the [sa] and [policy] sections (types, names, keys and
 * values in file order): a reload compares it to tell the admin that
 * manually keyed SAs did not change, because it cannot change them.
 */
static int manual_fingerprint(const struct ini *ini, uint8_t out[32])
{
	const struct ini_section *s;
	const struct ini_kv *kv;
	size_t n = 1, off = 0;
	char *buf;
	int r;

	for (s = ini_first(ini); s; s = ini_next(s)) {
		if (strcmp(s->type, "sa") && strcmp(s->type, "policy"))
			continue;
		n += strlen(s->type) + (s->name ? strlen(s->name) : 0) + 2;
		for (kv = s->keys; kv; kv = kv->next)
			n += strlen(kv->key) + strlen(kv->value) + 2;
	}
	buf = malloc(n);
	if (!buf)
		return ERR_NOMEM;
	for (s = ini_first(ini); s; s = ini_next(s)) {
		if (strcmp(s->type, "sa") && strcmp(s->type, "policy"))
			continue;
		off += (size_t)sprintf(buf + off, "%s%c%s%c", s->type, 0,
				       s->name ? s->name : "", 0);
		for (kv = s->keys; kv; kv = kv->next)
			off += (size_t)sprintf(buf + off, "%s%c%s%c", kv->key,
					       0, kv->value, 0);
	}
	r = crypto_digest("SHA256", buf, off, out, 32);
	/* Inline keys of [sa] sections were in there. */
	crypto_wipe(buf, n);
	free(buf);
	return r;
}

/* [daemon] user: who the daemon becomes after start (privdrop.h). */
static int get_user(struct ini *ini, char *user, size_t len)
{
	struct ini_kv *kv = ini_get_kv(ini_find(ini, "daemon", NULL), "user");
	uid_t uid;
	gid_t gid;

	snprintf(user, len, "%s", PRIVDROP_DEFAULT_USER);
	if (!kv)
		return 0;
	if (strlen(kv->value) >= len) {
		log_err(LS_CFG, "%s:%u: [daemon] user: name too long",
			ini_path(ini), kv->line);
		return ERR_CONFIG;
	}
	if (privdrop_lookup(kv->value, &uid, &gid)) {
		log_err(LS_CFG, "%s:%u: [daemon] user: no user '%s' (create "
			"it, e.g. useradd --system ipsecd, or use user = "
			"nobody; user = root keeps root)", ini_path(ini),
			kv->line, kv->value);
		return ERR_CONFIG;
	}
	snprintf(user, len, "%s", kv->value);
	return 0;
}

int daemon_conf_load(const char *path, struct daemon_conf *dc)
{
	struct ini *ini = NULL;
	int r, rc, ru;

	memset(dc, 0, sizeof(*dc));
	r = ini_load(path, &ini);
	/* [conn] and [daemon] user first: they mark their keys used
	 * before manual_load() reports unknown ones; all report all
	 * their errors. */
	if (!r) {
		rc = conn_load(ini, &dc->conns);
		ru = get_user(ini, dc->user, sizeof(dc->user));
		r = manual_load(ini, &dc->cfg);
		if (!r)
			r = rc ? rc : ru;
		if (!r)
			r = manual_fingerprint(ini, dc->manual_fp);
	}
	ini_free(ini);
	if (r) {
		daemon_conf_free(dc);
		log_err(LS_MAIN, "%s: configuration has errors", path);
	}
	return r;
}

void daemon_conf_free(struct daemon_conf *dc)
{
	manual_free(dc->cfg);
	conn_free(dc->conns);
	dc->cfg = NULL;
	dc->conns = NULL;
}

int main(int argc, char **argv)
{
	const char *conf = "/etc/ipsecd/ipsecd.conf";
	const char *sock_path = CTL_DEFAULT_SOCKET;
	struct daemon d = { .ep = -1, .sig_fd = -1, .timer_fd = -1 };
	struct daemon_conf dc0;
	char conf_abs[PATH_MAX];
	struct dp_config dc;
	bool fg = false;
	int c, r, rc = 1;

	while ((c = getopt(argc, argv, "c:fS:d:Vh")) != -1) {
		switch (c) {
		case 'V':
			printf("ipsecd %s\n", IPSECD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'd':
			if (log_parse_levels(optarg)) {
				fprintf(stderr, "ipsecd: bad -d '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'c':
			conf = optarg;
			break;
		case 'f':
			fg = true;
			break;
		case 'S':
			sock_path = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (crypto_init()) {
		log_err(LS_MAIN, "crypto init failed");
		return 1;
	}
	if (daemon_conf_load(conf, &dc0)) {
		log_err(LS_MAIN, "not starting");
		goto out;
	}
	/* Reload rereads it after daemon() moved to "/". */
	d.conf_path = realpath(conf, conf_abs) ? conf_abs : conf;
	d.cfg = dc0.cfg;
	d.conns = dc0.conns;
	memcpy(d.user, dc0.user, sizeof(d.user));
	memcpy(d.manual_fp, dc0.manual_fp, sizeof(d.manual_fp));
	/* Before daemon(): "another ipsecd runs" must reach the terminal. */
	if (ctl_server_new(sock_path, daemon_ctl_handlers, &d, &d.ctl))
		goto out;
	d.started = ipsec_now_s();
	if (!fg && daemon(0, 0) < 0) {
		log_err(LS_MAIN, "daemon: %s", strerror(errno));
		goto out;
	}
	/* daemon() pointed stderr at /dev/null: an administrator expects
	 * the log in syslog/journald, as from any other daemon. */
	if (!fg)
		log_use_syslog("ipsecd");
	memset(&dc, 0, sizeof(dc));
	dc.tun = d.cfg->d.tun;
	dc.path_mtu = d.cfg->d.path_mtu;
	dc.tun_mtu = tun_mtu(d.cfg);
	dc.workers = d.cfg->d.workers;
	dc.route_table = d.cfg->d.route_table;
	dc.fwmark = d.cfg->d.fwmark;
	dc.natt_port = d.cfg->d.natt_port;
	dc.keepalive_s = d.cfg->d.keepalive_s;
	dc.no_offload = !d.cfg->d.offload;
	r = dp_new(&dc, &d.dp);
	if (r)
		goto out;
	d.ops = dp_get_ops(d.dp);
	dp_set_event_cb(d.dp, on_event, &d);
	if (d.conns->n && ike_mgr_new(&d, &d.ike))
		goto out;
	if (install(&d) || setup_loop(&d) ||
	    (d.ike && ike_mgr_start(d.ike, d.ep)) || write_pid(&d))
		goto out;
	/* Everything privileged is open now (TUN, sockets, netlink,
	 * nftables, control socket, key log, pid file).  Before
	 * dp_start(): capabilities are per thread, workers inherit. */
	if (privdrop(d.user))
		goto out;
	r = dp_start(d.dp);
	if (r)
		goto out;
	log_info(LS_MAIN, "ipsecd %s running: %zu SAs, %zu policies, %zu "
		 "IKE connections on %s", IPSECD_VERSION, d.cfg->n_sas,
		 d.cfg->n_pols, d.conns->n, dp_ifname(d.dp));
	run(&d);
	rc = 0;
out:
	if (d.dp)
		dp_stop(d.dp);
	/* Before dp_free: sends Deletes on the data plane's socket. */
	ike_mgr_free(d.ike);
	dp_free(d.dp);
	conn_free(d.conns);
	ctl_server_free(d.ctl);
	if (d.pid_written)
		unlink(d.cfg->d.pid_file);
	manual_free(d.cfg);
	if (d.ep >= 0)
		close(d.ep);
	if (d.sig_fd >= 0)
		close(d.sig_fd);
	if (d.timer_fd >= 0)
		close(d.timer_fd);
	crypto_fini();
	return rc;
}
