// SPDX-License-Identifier: MIT
/*
 * ike-load: IKEv2 handshake-rate generator (bench/ike.sh runs it).
 *
 * Runs many initiator IKE SAs (struct ike_sa from libipsecd, PSK) over UDP
 * against one responder for a fixed time, with at most -n exchanges in
 * flight, and prints how many IKE_SA_INIT + IKE_AUTH handshakes completed
 * per second.  Each IKE SA that reaches ESTABLISHED is deleted at once
 * (INFORMATIONAL Delete, RFC 7296 §1.4.1) so the responder does not
 * accumulate them.  With -p PID, the responder's CPU time over the window
 * (utime + stime of /proc/PID/stat, all threads) gives handshakes per
 * CPU-second, i.e. per core.
 *
 * One socket on LOCAL:500 and one on LOCAL:4500: a responder that sees a
 * NAT (strongSwan's kernel-libipsec fakes one) moves IKE_AUTH to 4500
 * (RFC 7296 §2.23), and ike_sa says so in each datagram's ports.
 * Responses are matched to IKE SAs by the initiator's SPI (§2.6 of RFC
 * 7296: SPIi is ours, chosen at random by ike_sa).  A request not
 * answered within 1 s is retransmitted (§2.1), at most 3 times; then the
 * attempt counts as timed out.  A COOKIE answer (§2.6) is handled inside
 * ike_sa, so -n above the responder's cookie_threshold also measures the
 * cookie round trip.  The first -w seconds warm up and are not counted.
 *
 * Output, one line: "ike-load: handshakes N failed F timeouts T seconds S
 * rate R per_core C responder_cpu_s X loadgen_cpu_s Y p50_ms A p99_ms B".
 * Nothing here asserts on the numbers.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "config/conn.h"
#include "crypto/crypto.h"
#include "ike/ike_sa.h"
#include "ike/ikev2_msg.h"

#define MAX_INFLIGHT 256
#define RTX_AFTER_S 1.0
#define RTX_TRIES 3
#define MAX_SAMPLES 1000000

struct slot {
	struct ike_sa *sa; /* owned; NULL when free */
	double started;	   /* first IKE_SA_INIT sent */
	double last_tx;
	unsigned tries;
};

struct load {
	struct ike_conn conn;
	int fd500, fd4500;
	struct slot slots[MAX_INFLIGHT];
	unsigned n_slots;
	uint64_t done, failed, timeouts, send_err;
	double *lat; /* ms, per completed handshake */
	size_t n_lat;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of a process in seconds, or -1. */
static double proc_cpu_s(long pid)
{
	char path[64], line[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = 0;
	/* proc(5): the command name may hold spaces; fields after ')' are
	 * state ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime stime. */
	p = strrchr(line, ')');
	if (!p || sscanf(p + 1,
			 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%lu %lu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int open_udp(const struct ip_addr *a, uint16_t port, int *out)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, sz = 4 << 20;

	if (addr_to_sockaddr(a, port, &ss, &sl))
		return ERR_INVAL;
	fd = socket(a->af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ERR_IO;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&ss, sl)) {
		fprintf(stderr, "ike-load: bind port %u: %s\n", port,
			strerror(errno));
		close(fd);
		return ERR_IO;
	}
	*out = fd;
	return 0;
}

static void send_tx(struct load *l, struct ike_tx *tx)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t i;
	int fd;

	for (i = 0; i < tx->n; i++) {
		struct ike_dgram_out *d = &tx->d[i];

		fd = d->sport == IKE_NATT_PORT ? l->fd4500 : l->fd500;
		if (addr_to_sockaddr(&d->dst, d->dport, &ss, &sl) ||
		    sendto(fd, d->p, d->len, 0, (struct sockaddr *)&ss, sl) < 0)
			l->send_err++;
	}
	ike_tx_clear(tx);
}

static void slot_start(struct load *l, struct slot *s)
{
	struct ike_tx tx = {0};

	if (ike_sa_new(&l->conn, true, NULL, NULL, &s->sa) ||
	    ike_sa_initiate(s->sa, &tx)) {
		ike_tx_clear(&tx);
		ike_sa_free(s->sa);
		s->sa = NULL;
		l->failed++;
		return;
	}
	s->started = s->last_tx = now_s();
	s->tries = 0;
	send_tx(l, &tx);
}

static void slot_end(struct slot *s)
{
	ike_sa_free(s->sa);
	s->sa = NULL;
}

/* SPIi of a received IKE message (RFC 7296 §3.1), after the non-ESP
 * marker on port 4500 (RFC 3948 §2.2). */
static int peek_spi_i(const uint8_t *p, size_t len, uint16_t dport,
		      uint8_t spi[IKE_SPI_LEN])
{
	struct buf b;
	uint32_t marker;

	buf_init(&b, p, len);
	if (dport == IKE_NATT_PORT && (buf_get_u32(&b, &marker) || marker != 0))
		return ERR_PROTO;
	return buf_get_bytes(&b, spi, IKE_SPI_LEN);
}

static void on_datagram(struct load *l, const uint8_t *p, size_t len,
			const struct ip_addr *src, uint16_t sport,
			uint16_t dport, bool counting)
{
	uint8_t spi[IKE_SPI_LEN];
	struct ike_tx tx = {0};
	struct slot *s = NULL;
	unsigned i;
	double t;

	if (peek_spi_i(p, len, dport, spi))
		return;
	for (i = 0; i < l->n_slots; i++)
		if (l->slots[i].sa &&
		    !memcmp(l->slots[i].sa->spi_i, spi, IKE_SPI_LEN)) {
			s = &l->slots[i];
			break;
		}
	/* E.g. the answer to a Delete of an IKE SA already freed. */
	if (!s)
		return;
	ike_sa_recv(s->sa, p, len, src, sport, &l->conn.local_addr, dport, &tx);
	if (tx.n)
		s->last_tx = now_s();
	send_tx(l, &tx);
	if (s->sa->state == IKE_S_ESTABLISHED) {
		t = now_s();
		if (counting) {
			l->done++;
			if (l->n_lat < MAX_SAMPLES)
				l->lat[l->n_lat++] = (t - s->started) * 1e3;
		}
		/* §1.4.1: delete it so the responder does not keep it. */
		if (!ike_sa_delete(s->sa, &tx))
			send_tx(l, &tx);
		ike_tx_clear(&tx);
		slot_end(s);
	} else if (s->sa->state == IKE_S_FAILED) {
		if (counting)
			l->failed++;
		slot_end(s);
	}
}

static void drain(struct load *l, int fd, uint16_t dport, bool counting)
{
	static uint8_t rx[65536];
	struct sockaddr_storage ss;
	struct ip_addr src;
	socklen_t sl;
	uint16_t sport;
	ssize_t n;
	int i;

	for (i = 0; i < 256; i++) {
		sl = sizeof(ss);
		n = recvfrom(fd, rx, sizeof(rx), 0, (struct sockaddr *)&ss,
			     &sl);
		if (n < 0)
			return;
		if (addr_from_sockaddr(&src, &sport, (struct sockaddr *)&ss,
				       sl))
			continue;
		on_datagram(l, rx, (size_t)n, &src, sport, dport, counting);
	}
}

/* §2.1: the initiator retransmits; after RTX_TRIES it gives up. */
static void timers(struct load *l, double t, bool counting)
{
	struct ike_tx tx = {0};
	struct slot *s;
	unsigned i;

	for (i = 0; i < l->n_slots; i++) {
		s = &l->slots[i];
		if (!s->sa || t - s->last_tx < RTX_AFTER_S)
			continue;
		if (s->tries >= RTX_TRIES || ike_sa_retransmit(s->sa, &tx)) {
			ike_tx_clear(&tx);
			if (counting)
				l->timeouts++;
			slot_end(s);
			continue;
		}
		s->tries++;
		s->last_tx = t;
		send_tx(l, &tx);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double q)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i];
}

static int set_ts(const char *s, struct ts_sel *ts, uint8_t *n)
{
	memset(ts, 0, sizeof(*ts));
	if (prefix_parse(s, &ts->net))
		return ERR_INVAL;
	ts->port_hi = 65535;
	*n = 1;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ike-load -l LOCAL -r REMOTE -k PSK -a LOCAL_TS "
		"-b REMOTE_TS\n"
		"                [-i LOCAL_ID] [-I IKE] [-E ESP] [-n INFLIGHT]"
		" [-t SECONDS]\n"
		"                [-w WARMUP_S] [-p RESPONDER_PID]\n"
		"defaults: -I aes128gcm16-prfsha256-x25519 -E aes128gcm16 "
		"-n 8 -t 10 -w 1\n");
}

static int parse_args(int argc, char **argv, struct load *l, double *secs,
		      double *warm, long *pid)
{
	const char *ike = "aes128gcm16-prfsha256-x25519";
	const char *esp = "aes128gcm16";
	char why[256];
	int c;

	while ((c = getopt(argc, argv, "l:r:k:a:b:i:I:E:n:t:w:p:h")) != -1) {
		switch (c) {
		case 'l':
			if (addr_parse(optarg, &l->conn.local_addr))
				return ERR_INVAL;
			break;
		case 'r':
			if (addr_parse(optarg, &l->conn.remote_addr))
				return ERR_INVAL;
			break;
		case 'k':
			l->conn.psk_len = strlen(optarg);
			if (l->conn.psk_len > sizeof(l->conn.psk))
				return ERR_INVAL;
			memcpy(l->conn.psk, optarg, l->conn.psk_len);
			break;
		case 'a':
			if (set_ts(optarg, l->conn.local_ts,
				   &l->conn.n_local_ts))
				return ERR_INVAL;
			break;
		case 'b':
			if (set_ts(optarg, l->conn.remote_ts,
				   &l->conn.n_remote_ts))
				return ERR_INVAL;
			break;
		case 'i': {
			const char *idwhy;

			if (conn_id_parse(optarg, &l->conn.local_id, &idwhy)) {
				fprintf(stderr, "ike-load: -i %s %s\n", optarg,
					idwhy ? idwhy : "is not an identity");
				return ERR_INVAL;
			}
			break;
		}
		case 'I':
			ike = optarg;
			break;
		case 'E':
			esp = optarg;
			break;
		case 'n':
			l->n_slots = (unsigned)atoi(optarg);
			if (l->n_slots < 1 || l->n_slots > MAX_INFLIGHT)
				return ERR_INVAL;
			break;
		case 't':
			*secs = atof(optarg);
			break;
		case 'w':
			*warm = atof(optarg);
			break;
		case 'p':
			*pid = atol(optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return ERR_INVAL;
		}
	}
	if (proposal_parse(ike, IKEV2_PROTO_IKE, &l->conn.ike, why,
			   sizeof(why)) ||
	    proposal_parse(esp, IKEV2_PROTO_ESP, &l->conn.esp, why,
			   sizeof(why))) {
		fprintf(stderr, "ike-load: %s\n", why);
		return ERR_INVAL;
	}
	if (!l->conn.local_addr.af || !l->conn.remote_addr.af ||
	    !l->conn.psk_len || !l->conn.n_local_ts || !l->conn.n_remote_ts ||
	    *secs <= 0 || *warm < 0)
		return ERR_INVAL;
	return 0;
}

/* Keep n_slots exchanges going until `until`; counting says whether
 * completions count (not during the warm-up). */
static void run(struct load *l, double until, bool counting)
{
	struct pollfd pf[2] = {
		{.fd = l->fd500, .events = POLLIN},
		{.fd = l->fd4500, .events = POLLIN},
	};
	unsigned i;
	double t;

	while ((t = now_s()) < until) {
		for (i = 0; i < l->n_slots; i++)
			if (!l->slots[i].sa)
				slot_start(l, &l->slots[i]);
		if (poll(pf, 2, 10) < 0 && errno != EINTR)
			break;
		drain(l, l->fd500, IKE_PORT, counting);
		drain(l, l->fd4500, IKE_NATT_PORT, counting);
		timers(l, now_s(), counting);
	}
}

int main(int argc, char **argv)
{
	struct load *l;
	double secs = 10, warm = 1, t0, t1, c0 = 0, c1 = 0, s0, s1, el;
	long pid = 0;
	unsigned i;
	int rc = 1;

	l = calloc(1, sizeof(*l));
	if (!l)
		return 1;
	l->n_slots = 8;
	l->fd500 = l->fd4500 = -1;
	l->conn.mode = IPSEC_MODE_TUNNEL;
	l->conn.reqid = 1;
	if (parse_args(argc, argv, l, &secs, &warm, &pid)) {
		usage(stderr);
		goto out;
	}
	log_set_all_levels(LL_WARN);
	l->lat = calloc(MAX_SAMPLES, sizeof(double));
	if (!l->lat || crypto_init() ||
	    open_udp(&l->conn.local_addr, IKE_PORT, &l->fd500) ||
	    open_udp(&l->conn.local_addr, IKE_NATT_PORT, &l->fd4500))
		goto out;

	run(l, now_s() + warm, false);
	t0 = now_s();
	s0 = self_cpu_s();
	if (pid)
		c0 = proc_cpu_s(pid);
	run(l, t0 + secs, true);
	t1 = now_s();
	s1 = self_cpu_s();
	if (pid)
		c1 = proc_cpu_s(pid);
	el = t1 - t0;

	qsort(l->lat, l->n_lat, sizeof(double), cmp_double);
	printf("ike-load: handshakes %llu failed %llu timeouts %llu "
	       "seconds %.2f rate %.0f per_core ",
	       (unsigned long long)l->done, (unsigned long long)l->failed,
	       (unsigned long long)l->timeouts, el, (double)l->done / el);
	if (pid && c0 >= 0 && c1 > c0)
		printf("%.0f responder_cpu_s %.2f ",
		       (double)l->done / (c1 - c0), c1 - c0);
	else
		printf("- responder_cpu_s - ");
	printf("loadgen_cpu_s %.2f inflight %u p50_ms %.3f p99_ms %.3f\n",
	       s1 - s0, l->n_slots, pct(l->lat, l->n_lat, 0.5),
	       pct(l->lat, l->n_lat, 0.99));
	if (l->send_err)
		fprintf(stderr, "ike-load: %llu sends failed\n",
			(unsigned long long)l->send_err);
	rc = l->done ? 0 : 1;
out:
	/* Leave nothing half-done on the responder that we could delete. */
	for (i = 0; i < MAX_INFLIGHT; i++)
		slot_end(&l->slots[i]);
	if (l->fd500 >= 0)
		close(l->fd500);
	if (l->fd4500 >= 0)
		close(l->fd4500);
	free(l->lat);
	free(l);
	return rc;
}
