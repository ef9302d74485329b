/* SPDX-License-Identifier: MIT */
/* Control protocol, client side: one blocking call at a time. */
#include "ctl/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"

int ctl_connect(const char *path, int *fd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int s, e;

	*fd = -1;
	if (!path || !path[0] || strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return ERR_INVAL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return ERR_IO;
	if (connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		close(s);
		errno = e;
		return ERR_IO;
	}
	*fd = s;
	return 0;
}

/* Wait for fd to be ready for ev before the deadline (< 0: none). */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	int64_t left;
	int n;

	for (;;) {
		left = -1;
		if (deadline >= 0) {
			left = deadline - (int64_t)mono_ms();
			if (left < 0)
				left = 0;
			if (left > 0x7fffffff)
				left = 0x7fffffff;
		}
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return ERR_TIMEOUT;
		if (errno != EINTR)
			return ERR_IO;
	}
}

static int send_all(int fd, const uint8_t *p, size_t n, int64_t deadline)
{
	ssize_t k;
	int r;

	while (n) {
		r = wait_fd(fd, POLLOUT, deadline);
		if (r)
			return r;
		k = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return ERR_IO;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int recv_all(int fd, uint8_t *p, size_t n, int64_t deadline)
{
	ssize_t k;
	int r;

	while (n) {
		r = wait_fd(fd, POLLIN, deadline);
		if (r)
			return r;
		k = recv(fd, p, n, MSG_DONTWAIT);
		if (k == 0) {
			errno = ECONNRESET;
			return ERR_IO;
		}
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return ERR_IO;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

void ctl_result_free(struct ctl_result *res)
{
	if (!res)
		return;
	free(res->raw);
	memset(res, 0, sizeof(*res));
}

int ctl_call(int fd, unsigned argc, const char *const *argv,
	     int timeout_ms, struct ctl_result *res)
{
	int64_t deadline =
		timeout_ms < 0 ? -1 : (int64_t)mono_ms() + timeout_ms;
	uint8_t hdr[CTL_HDR_LEN];
	struct wbuf w;
	struct buf b;
	uint32_t len;
	int r;

	memset(res, 0, sizeof(*res));
	r = wbuf_init(&w, 64);
	if (r)
		return r;
	r = ctl_request_build(&w, argc, argv);
	if (!r)
		r = send_all(fd, w.p, w.len, deadline);
	wbuf_free(&w);
	if (r)
		return r;
	r = recv_all(fd, hdr, sizeof(hdr), deadline);
	if (r)
		return r;
	buf_init(&b, hdr, sizeof(hdr));
	buf_get_u32(&b, &len);
	if (len == 0 || len > CTL_MAX_MSG)
		return ERR_MALFORMED;
	res->raw = malloc(len);
	if (!res->raw)
		return ERR_NOMEM;
	res->raw_len = len;
	r = recv_all(fd, res->raw, len, deadline);
	if (!r) {
		buf_init(&b, res->raw, len);
		r = ctl_response_parse(&b, &res->rs);
	}
	if (r)
		ctl_result_free(res);
	return r;
}
