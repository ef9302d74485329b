/* SPDX-License-Identifier: MIT */
/*
 * udp-flood: a light 64-byte UDP load for bench/run.sh, next to iperf3.
 *
 *   udp-flood recv ADDR PORT SECONDS
 *   udp-flood send SRC DST PORT SECONDS [LEN]
 *
 * iperf3 sends and receives one datagram per system call and keeps its
 * own accounting per packet; on this 2-core machine its sender alone
 * takes about one core, so with small packets it measures iperf3 as much
 * as the tunnel.  This tool moves batches of 64 datagrams per sendmmsg()
 * and recvmmsg() and does nothing else, so that more of the two cores is
 * left to the tunnel under test.  It is used the same way for every peer
 * (plaintext, ipsecd, strongSwan, wireguard-go).
 *
 * send: as fast as the socket takes them, for SECONDS; prints
 *   "sent N".
 * recv: counts datagrams from the first one until none came for 1 s (or
 *   SECONDS + 5 s passed); prints "received N in S s: P pkt/s", where S
 *   runs from the first datagram to the last.
 * IPv4 only: the bench's inner addresses are IPv4.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define LEN_MAX 1472

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int addr_of(const char *s, unsigned port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, s, &sa->sin_addr) != 1) {
		fprintf(stderr, "udp-flood: not an IPv4 address: %s\n", s);
		return -1;
	}
	return 0;
}

static int do_recv(const char *addr, unsigned port, double secs)
{
	static char bufs[BATCH][LEN_MAX];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in sa;
	struct pollfd pfd;
	double first = 0, last = 0, start;
	unsigned long long n = 0;
	int fd, i, got, size = 8 << 20;

	if (addr_of(addr, port, &sa))
		return 1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("udp-flood: bind");
		return 1;
	}
	/* Room for bursts; FORCE works as root, the plain one otherwise. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
				 sizeof(size));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = LEN_MAX;
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	pfd.fd = fd;
	pfd.events = POLLIN;
	start = now_s();
	for (;;) {
		if (poll(&pfd, 1, 1000) <= 0) {
			if (n || now_s() - start > secs + 5)
				break;
			continue;
		}
		got = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0)
			continue;
		last = now_s();
		if (!n)
			first = last;
		n += (unsigned long long)got;
	}
	close(fd);
	printf("received %llu in %.3f s: %.0f pkt/s\n", n, last - first,
	       last > first ? (double)n / (last - first) : 0.0);
	return 0;
}

static int do_send(const char *src, const char *dst, unsigned port,
		   double secs, size_t len)
{
	static char payload[LEN_MAX];
	struct mmsghdr mm[BATCH];
	struct iovec iov;
	struct sockaddr_in sa, da;
	unsigned long long n = 0;
	double end;
	int fd, i, r;

	if (addr_of(src, 0, &sa) || addr_of(dst, port, &da))
		return 1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    connect(fd, (struct sockaddr *)&da, sizeof(da)) < 0) {
		perror("udp-flood: socket");
		return 1;
	}
	memset(payload, 0x5a, sizeof(payload));
	iov.iov_base = payload;
	iov.iov_len = len;
	for (i = 0; i < BATCH; i++) {
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_iov = &iov;
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	end = now_s() + secs;
	while (now_s() < end) {
		r = sendmmsg(fd, mm, BATCH, 0);
		if (r > 0)
			n += (unsigned long long)r;
		else if (r < 0 && errno != ENOBUFS && errno != EAGAIN &&
			 errno != ECONNREFUSED && errno != EINTR) {
			perror("udp-flood: sendmmsg");
			break;
		}
	}
	close(fd);
	printf("sent %llu\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	size_t len = 64;

	if (argc == 5 && !strcmp(argv[1], "recv"))
		return do_recv(argv[2], (unsigned)atoi(argv[3]), atof(argv[4]));
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "send")) {
		if (argc == 7)
			len = (size_t)atoi(argv[6]);
		if (len < 1 || len > LEN_MAX) {
			fprintf(stderr, "udp-flood: LEN is 1 to %d\n", LEN_MAX);
			return 1;
		}
		return do_send(argv[2], argv[3], (unsigned)atoi(argv[4]),
			       atof(argv[5]), len);
	}
	fprintf(stderr, "usage: udp-flood recv ADDR PORT SECONDS\n"
			"       udp-flood send SRC DST PORT SECONDS [LEN]\n");
	return 2;
}
