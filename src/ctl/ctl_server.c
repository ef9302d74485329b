/* SPDX-License-Identifier: MIT */
/*
 * Control socket, daemon side.  Runs inside the control thread's event
 * loop: the daemon polls one fd (our own epoll set, which holds the
 * listening socket and every client) and calls ctl_server_handle(), which
 * does whatever is ready without blocking.
 *
 * A client is a local process, normally root; still, nothing it sends
 * may crash or stall the daemon: reads go into a fixed per-client buffer
 * no bigger than one request, a frame that breaks the rules drops the
 * client, and at most CTL_MAX_CLIENTS are kept.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"

/* epoll data of the listening socket; clients carry slot | gen << 8. */
#define LISTEN_TAG UINT64_MAX
/* Reply buffers above this are given back after they are sent. */
#define OUT_KEEP (64u * 1024)

struct ctl_client {
	int fd;
	uint32_t gen;		/* tells a reused slot from a stale event */
	unsigned id;		/* for log lines */
	uint32_t events;	/* current epoll interest */
	bool eof;		/* the peer shut its side: no more requests */
	bool bad;		/* close once the error reply is out */
	int64_t last_ms;	/* last time it sent or took bytes */
	size_t in_len;
	uint8_t in[CTL_HDR_LEN + CTL_MAX_REQUEST];
	struct wbuf out;	/* reply bytes not yet sent */
	size_t out_off;
};

struct ctl_server {
	int lfd;
	int ep;
	int spare_fd;		/* given up to accept-and-close at EMFILE */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;		/* the socket file we made */
	ino_t ino;
	const struct ctl_handler *handlers;	/* borrowed */
	void *arg;
	struct ctl_client *cl[CTL_MAX_CLIENTS];
	uint32_t gen;
	unsigned next_id;
	struct log_ratelimit rl;
	struct ctl_request rq;	/* scratch: too big for the stack */
};

/* Log lines a client can cause go through one rate limit. */
#define peer_log(srv, lvl, ...)                                         \
	do {                                                            \
		uint32_t held_;                                         \
		if (log_ratelimit_ok(&(srv)->rl, &held_)) {             \
			if (held_)                                      \
				log_msg(lvl, LS_CTL, "(%u similar lines " \
					"suppressed)", held_);          \
			log_msg(lvl, LS_CTL, __VA_ARGS__);              \
		}                                                       \
	} while (0)

static void drop_client(struct ctl_server *srv, unsigned slot)
{
	struct ctl_client *c = srv->cl[slot];

	if (!c)
		return;
	log_dbg(LS_CTL, "client %u: closed", c->id);
	epoll_ctl(srv->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	wbuf_free(&c->out);
	free(c);
	srv->cl[slot] = NULL;
}

static bool out_pending(const struct ctl_client *c)
{
	return c->out_off < c->out.len;
}

static int set_events(struct ctl_server *srv, unsigned slot, uint32_t ev)
{
	struct ctl_client *c = srv->cl[slot];
	struct epoll_event e = { .events = ev };

	if (c->events == ev)
		return 0;
	e.data.u64 = slot | (uint64_t)c->gen << 8;
	if (epoll_ctl(srv->ep, EPOLL_CTL_MOD, c->fd, &e) < 0) {
		log_err(LS_CTL, "epoll_ctl: %s", strerror(errno));
		return ERR_IO;
	}
	c->events = ev;
	return 0;
}

/* Send what the socket takes.  0 (maybe still pending) or ERR_IO. */
static int flush_out(struct ctl_client *c)
{
	ssize_t k;

	while (out_pending(c)) {
		k = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			c->out_off += (size_t)k;
			c->last_ms = (int64_t)mono_ms();
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return ERR_IO;
	}
	c->out_off = 0;
	c->out.len = 0;
	if (c->out.cap > OUT_KEEP) {
		wbuf_free(&c->out);
		return wbuf_init(&c->out, 256);
	}
	return 0;
}

static const struct ctl_handler *find_handler(const struct ctl_server *srv,
					      const char *cmd)
{
	const struct ctl_handler *h;

	for (h = srv->handlers; h->cmd; h++)
		if (!strcmp(h->cmd, cmd))
			return h;
	return NULL;
}

/* Build {"error": reason} and the "error" frame. */
static int reply_error(struct ctl_client *c, const char *reason)
{
	struct wbuf jw;
	struct json j;
	int r;

	r = wbuf_init(&jw, 64 + strlen(reason));
	if (r)
		return r;
	json_init(&j, &jw);
	json_obj_begin(&j);
	json_kv_str(&j, "error", reason);
	json_obj_end(&j);
	r = json_finish(&j);
	if (!r)
		r = ctl_response_build(&c->out, false, reason,
				       (const char *)jw.p, jw.len);
	wbuf_free(&jw);
	return r;
}

/* Run the handler for one request and queue its reply. */
static int dispatch(struct ctl_server *srv, struct ctl_client *c,
		    struct buf *body)
{
	struct ctl_request *rq = &srv->rq;
	const struct ctl_handler *h;
	struct ctl_reply rp;
	char why[CTL_MAX_REASON + 1];
	struct wbuf jw;
	struct json j;
	unsigned nargs;
	int r;

	r = ctl_request_parse(body, rq);
	if (r) {
		peer_log(srv, LL_WARN, "client %u: malformed request (%s); "
			 "closing", c->id, err_str(r));
		c->bad = true;
		return reply_error(c, "malformed request");
	}
	h = find_handler(srv, rq->argv[0]);
	if (!h) {
		/* The command word is [a-z0-9-]: safe to echo. */
		snprintf(why, sizeof(why), "unknown command '%s'",
			 rq->argv[0]);
		return reply_error(c, why);
	}
	nargs = rq->argc - 1;
	if (nargs < h->min_args || nargs > h->max_args) {
		snprintf(why, sizeof(why), "usage: %s",
			 h->usage ? h->usage : h->cmd);
		return reply_error(c, why);
	}
	log_dbg(LS_CTL, "client %u: %s (%u args)", c->id, h->cmd, nargs);
	r = wbuf_init(&jw, 256);
	if (r)
		return r;
	json_init(&j, &jw);
	memset(&rp, 0, sizeof(rp));
	rp.json = &j;
	r = h->fn(rq, &rp, srv->arg);
	if (r) {
		r = reply_error(c, rp.reason[0] ? rp.reason :
				err_str(r < 0 ? r : ERR_INVAL));
	} else if (json_empty(&j)) {
		r = ctl_response_build(&c->out, true, NULL, NULL, 0);
	} else if (json_finish(&j)) {
		log_err(LS_CTL, "command %s built bad JSON: %s", h->cmd,
			err_str(j.err));
		r = reply_error(c, "internal error: bad reply");
	} else if (jw.len > CTL_MAX_MSG - 3) {
		log_err(LS_CTL, "command %s: reply of %zu bytes is over the "
			"%u limit", h->cmd, jw.len, CTL_MAX_MSG);
		r = reply_error(c, "reply too large");
	} else {
		r = ctl_response_build(&c->out, true, NULL,
				       (const char *)jw.p, jw.len);
	}
	wbuf_free(&jw);
	return r;
}

/*
 * Serve the complete requests in the input buffer, one at a time: the
 * next is only looked at once the previous reply is fully sent, so a
 * client that does not read its replies holds no more than one.
 */
static int serve(struct ctl_server *srv, unsigned slot)
{
	struct ctl_client *c = srv->cl[slot];
	struct buf in, body;
	size_t used;
	int r;

	while (!out_pending(c) && !c->bad) {
		buf_init(&in, c->in, c->in_len);
		r = ctl_frame_get(&in, CTL_MAX_REQUEST, &body);
		if (r == ERR_SHORT)
			break;
		if (r) {
			peer_log(srv, LL_WARN, "client %u: %s frame; closing",
				 c->id, r == ERR_OVERFLOW ? "oversized" :
				 "empty");
			return r;
		}
		used = buf_pos(&in);
		r = dispatch(srv, c, &body);
		if (r) {
			log_err(LS_CTL, "client %u: cannot build reply: %s",
				c->id, err_str(r));
			return r;
		}
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		r = flush_out(c);
		if (r)
			return r;
	}
	if (!out_pending(c) && (c->bad || c->eof)) {
		if (c->eof && !c->bad && c->in_len)
			peer_log(srv, LL_INFO, "client %u: closed in the "
				 "middle of a request", c->id);
		return ERR_IO;	/* done with it */
	}
	return set_events(srv, slot, out_pending(c) ? EPOLLOUT : EPOLLIN);
}

/* Read what is there.  0, or ERR_IO to drop the client. */
static int read_in(struct ctl_server *srv, struct ctl_client *c)
{
	ssize_t k;

	while (c->in_len < sizeof(c->in) && !c->eof) {
		k = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
			 MSG_DONTWAIT);
		if (k > 0) {
			c->in_len += (size_t)k;
			c->last_ms = (int64_t)mono_ms();
			continue;
		}
		if (k == 0) {
			c->eof = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		return ERR_IO;
	}
	return 0;
}

static void client_event(struct ctl_server *srv, uint64_t tag, uint32_t ev)
{
	unsigned slot = (unsigned)(tag & 0xff);
	struct ctl_client *c;
	int r = 0;

	if (slot >= CTL_MAX_CLIENTS)
		return;
	c = srv->cl[slot];
	/* Dropped earlier in this batch, maybe the slot already reused. */
	if (!c || c->gen != (uint32_t)(tag >> 8))
		return;
	if (ev & EPOLLOUT)
		r = flush_out(c);
	if (!r && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !out_pending(c))
		r = read_in(srv, c);
	if (!r && (ev & EPOLLERR))
		r = ERR_IO;
	if (!r)
		r = serve(srv, slot);
	if (r)
		drop_client(srv, slot);
}

static bool free_slot(const struct ctl_server *srv, unsigned *slot)
{
	unsigned i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (!srv->cl[i]) {
			*slot = i;
			return true;
		}
	}
	return false;
}

/* Serve what the clients have sent so far (hang-ups included). */
static void client_events(struct ctl_server *srv)
{
	struct epoll_event evs[CTL_MAX_CLIENTS + 1];
	int n, i;

	n = epoll_wait(srv->ep, evs, CTL_MAX_CLIENTS + 1, 0);
	for (i = 0; i < n; i++)
		if (evs[i].data.u64 != LISTEN_TAG)
			client_event(srv, evs[i].data.u64, evs[i].events);
}

/*
 * A free slot; when full, first look whether a client has hung up since
 * the last epoll_wait, then take the slot of the client idle longest.
 */
static int find_slot(struct ctl_server *srv, unsigned *slot)
{
	int64_t now = (int64_t)mono_ms(), oldest = 0;
	unsigned i, victim = CTL_MAX_CLIENTS;

	if (free_slot(srv, slot))
		return 0;
	client_events(srv);
	if (free_slot(srv, slot))
		return 0;
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		const struct ctl_client *c = srv->cl[i];

		if (now - c->last_ms < CTL_IDLE_MS)
			continue;
		if (victim == CTL_MAX_CLIENTS || c->last_ms < oldest) {
			victim = i;
			oldest = c->last_ms;
		}
	}
	if (victim == CTL_MAX_CLIENTS)
		return ERR_LIMIT;
	peer_log(srv, LL_INFO, "client %u: idle, dropped for a new client",
		 srv->cl[victim]->id);
	drop_client(srv, victim);
	*slot = victim;
	return 0;
}

/* Only our own user (normally root) may talk to the daemon. */
static bool peer_allowed(int fd, unsigned id)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	log_dbg(LS_CTL, "client %u: pid %ld uid %u", id, (long)cr.pid,
		(unsigned)cr.uid);
	return cr.uid == 0 || cr.uid == geteuid();
}

/* Out of fds: accept with the spare one and close, so we do not spin. */
static void shed_connection(struct ctl_server *srv)
{
	int fd;

	if (srv->spare_fd < 0)
		return;
	close(srv->spare_fd);
	fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void accept_clients(struct ctl_server *srv)
{
	struct epoll_event e = { .events = EPOLLIN };
	struct ctl_client *c;
	unsigned slot, id;
	int fd;

	for (;;) {
		fd = accept4(srv->lfd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			peer_log(srv, LL_ERR, "accept: %s", strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				shed_connection(srv);
			return;
		}
		id = ++srv->next_id;
		if (!peer_allowed(fd, id)) {
			peer_log(srv, LL_WARN, "client %u: not our user; "
				 "refused", id);
			close(fd);
			continue;
		}
		if (find_slot(srv, &slot)) {
			peer_log(srv, LL_WARN, "client %u: refused, %u "
				 "clients already connected", id,
				 CTL_MAX_CLIENTS);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c || wbuf_init(&c->out, 256)) {
			log_err(LS_CTL, "client %u: out of memory", id);
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->id = id;
		c->gen = ++srv->gen & 0xffffff;
		c->events = EPOLLIN;
		c->last_ms = (int64_t)mono_ms();
		e.data.u64 = slot | (uint64_t)c->gen << 8;
		if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			log_err(LS_CTL, "epoll_ctl: %s", strerror(errno));
			wbuf_free(&c->out);
			free(c);
			close(fd);
			continue;
		}
		srv->cl[slot] = c;
		log_dbg(LS_CTL, "client %u: connected", id);
	}
}

void ctl_server_handle(struct ctl_server *srv)
{
	if (!srv)
		return;
	/* Clients first: one that hung up frees its slot for a new one. */
	client_events(srv);
	accept_clients(srv);
}

int ctl_server_fd(const struct ctl_server *srv)
{
	return srv->ep;
}

/* true if something accepts connections on path (RFC-free: plain Unix). */
static bool socket_alive(const struct sockaddr_un *sun)
{
	int s, rc, e;

	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return true;	/* cannot tell: do not remove anything */
	rc = connect(s, (const struct sockaddr *)sun, sizeof(*sun));
	e = errno;
	close(s);
	/* EAGAIN: a listener with a full backlog is still a listener. */
	return rc == 0 || e != ECONNREFUSED;
}

static int bind_socket(struct ctl_server *srv, const struct sockaddr_un *sun)
{
	struct stat st;
	mode_t old;
	int rc, e, tries;

	for (tries = 0; tries < 2; tries++) {
		/* The file is born 0600: no window where others connect. */
		old = umask(0177);
		rc = bind(srv->lfd, (const struct sockaddr *)sun,
			  sizeof(*sun));
		e = errno;
		umask(old);
		if (rc == 0)
			return 0;
		if (e != EADDRINUSE || tries)
			break;
		if (lstat(srv->path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
			log_err(LS_CTL, "%s exists and is not a socket; "
				"not touching it", srv->path);
			return ERR_EXISTS;
		}
		if (socket_alive(sun)) {
			log_err(LS_CTL, "%s: another process is listening "
				"(is ipsecd already running?)", srv->path);
			return ERR_EXISTS;
		}
		log_info(LS_CTL, "removing stale control socket %s",
			 srv->path);
		if (unlink(srv->path) < 0 && errno != ENOENT) {
			e = errno;
			break;
		}
	}
	log_err(LS_CTL, "bind %s: %s", srv->path, strerror(e));
	return e == EACCES || e == EPERM ? ERR_PERM : ERR_IO;
}

static int check_table(const struct ctl_handler *h)
{
	struct buf b;
	struct ctl_request *rq;
	int r = 0;

	rq = malloc(sizeof(*rq));
	if (!rq)
		return ERR_NOMEM;
	for (; h->cmd && !r; h++) {
		/* A command the protocol could not carry is a bug. */
		buf_init(&b, h->cmd, strlen(h->cmd));
		r = ctl_request_parse(&b, rq);
		if (r || rq->argc != 1 || !h->fn || h->min_args > h->max_args ||
		    h->max_args >= CTL_MAX_ARGS) {
			log_err(LS_CTL, "bad control handler '%s'", h->cmd);
			r = ERR_INVAL;
		}
	}
	free(rq);
	return r;
}

int ctl_server_new(const char *path, const struct ctl_handler *handlers,
		   void *arg, struct ctl_server **out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct epoll_event e = { .events = EPOLLIN };
	struct ctl_server *srv;
	struct stat st;
	int r;

	*out = NULL;
	if (!path || !path[0] || strlen(path) >= sizeof(sun.sun_path)) {
		log_err(LS_CTL, "control socket path '%s' is empty or too "
			"long (max %zu bytes)", path ? path : "",
			sizeof(sun.sun_path) - 1);
		return ERR_INVAL;
	}
	if (!handlers)
		return ERR_INVAL;
	r = check_table(handlers);
	if (r)
		return r;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return ERR_NOMEM;
	srv->lfd = srv->ep = srv->spare_fd = -1;
	srv->handlers = handlers;
	srv->arg = arg;
	srv->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(10, 5);
	memcpy(srv->path, path, strlen(path) + 1);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  0);
	if (srv->lfd < 0) {
		log_err(LS_CTL, "socket: %s", strerror(errno));
		r = ERR_IO;
		goto out;
	}
	r = bind_socket(srv, &sun);
	if (r)
		goto out;
	/* Belt and braces for filesystems that ignore the umask. */
	if (chmod(path, 0600) < 0 || stat(path, &st) < 0) {
		log_err(LS_CTL, "chmod %s: %s", path, strerror(errno));
		unlink(path);
		r = ERR_IO;
		goto out;
	}
	srv->dev = st.st_dev;
	srv->ino = st.st_ino;
	srv->ep = epoll_create1(EPOLL_CLOEXEC);
	e.data.u64 = LISTEN_TAG;
	if (listen(srv->lfd, CTL_MAX_CLIENTS) < 0 || srv->ep < 0 ||
	    epoll_ctl(srv->ep, EPOLL_CTL_ADD, srv->lfd, &e) < 0) {
		log_err(LS_CTL, "listen %s: %s", path, strerror(errno));
		r = ERR_IO;
		goto out;
	}
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	log_info(LS_CTL, "control socket %s", path);
	*out = srv;
	return 0;
out:
	ctl_server_free(srv);
	return r;
}

void ctl_server_free(struct ctl_server *srv)
{
	struct stat st;
	unsigned i;

	if (!srv)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		drop_client(srv, i);
	/* Remove the file only if it is still the one we bound: a newer
	 * daemon may have taken the path over. */
	if (srv->ino && stat(srv->path, &st) == 0 && st.st_dev == srv->dev &&
	    st.st_ino == srv->ino)
		unlink(srv->path);
	if (srv->ep >= 0)
		close(srv->ep);
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->spare_fd >= 0)
		close(srv->spare_fd);
	free(srv);
}
