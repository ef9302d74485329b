/* SPDX-License-Identifier: MIT */
/*
 * The control protocol between ipsecd and ipsecctl (docs/ctl.md).
 *
 * Transport: a Unix stream socket, default CTL_DEFAULT_SOCKET, chosen with
 * -S PATH on both sides.  Every message is a frame: a 4-byte big-endian
 * body length, then the body.  A request body is a command word and its
 * arguments separated by single spaces ("up office"); a response body is
 * a status line ("ok" or "error REASON") ending in '\n', then one JSON
 * value.  A connection may carry several requests, answered in order.
 *
 * ---- Wiring it into the daemon (src/daemon/main.c) ----
 *
 *   #include "ctl/ctl.h"
 *   #include "ctl/json.h"
 *
 *   1. Handlers: one function per command, and a table ending in a
 *      zeroed entry.  A handler writes one JSON value (normally an
 *      object) with the json_* calls, or leaves it empty ("{}" is sent).
 *      It returns 0 for "ok", or a negative ERR_* for "error REASON",
 *      REASON being what ctl_reply_error() set, else err_str(r).
 *
 *	static int ctl_status(const struct ctl_request *rq,
 *			      struct ctl_reply *rp, void *arg)
 *	{
 *		struct daemon *d = arg;
 *		struct json *j = rp->json;
 *		uint64_t now = monotonic_s();	// same clock as add_time
 *		const struct sa_params *p;
 *		struct sa_stats st;
 *		size_t i;
 *
 *		json_obj_begin(j);
 *		json_kv_obj(j, "daemon");
 *		json_kv_str(j, "version", IPSECD_VERSION);
 *		json_kv_u64(j, "uptime", now - d->started);
 *		json_obj_end(j);
 *		json_kv_arr(j, "ike_sas");	// entries: docs/ctl.md
 *		json_arr_end(j);
 *		json_kv_arr(j, "static_sas");
 *		for (i = 0; i < d->cfg->n_sas; i++) {
 *			p = &d->cfg->sas[i].p;
 *			if (d->ops->get_stats(d->dp, p->proto, p->spi,
 *					      p->dir, &st))
 *				continue;	// expired and removed
 *			ctl_json_static_sa(j, d->cfg->sas[i].name, p, &st,
 *					   now);
 *		}
 *		json_arr_end(j);
 *		return json_obj_end(j);	// errors are sticky: one check
 *	}
 *	static int ctl_up(const struct ctl_request *rq,
 *			  struct ctl_reply *rp, void *arg)
 *	{
 *		// rq->argv[1] is the connection name (argc checked: 2)
 *		return ctl_reply_error(rp, ERR_UNSUPPORTED,
 *				       "no IKE connection '%s'", rq->argv[1]);
 *	}
 *	static const struct ctl_handler ctl_handlers[] = {
 *		{ "status", ctl_status, 0, 0, "status" },
 *		{ "up", ctl_up, 1, 1, "up NAME" },
 *		...
 *		{ NULL, NULL, 0, 0, NULL },
 *	};
 *
 *   2. In main(): keep the -S argument (case 'S': sock_path = optarg;
 *      default CTL_DEFAULT_SOCKET).  Create the server after
 *      load_config() and before daemon(), so that "already running"
 *      still reaches the terminal (its fds survive daemon()'s fork):
 *
 *	r = ctl_server_new(sock_path, ctl_handlers, &d, &d.ctl);
 *	if (r)
 *		goto out;	// logged; ERR_EXISTS: another ipsecd runs
 *
 *      and add its fd to the loop in setup_loop(), next to the others:
 *
 *	ev.data.fd = ctl_server_fd(d->ctl);
 *	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
 *		return ERR_IO;
 *
 *   3. In run(): a branch before the final "else" (which is the data
 *      plane's event fd):
 *
 *	} else if (evs[i].data.fd == ctl_server_fd(d->ctl)) {
 *		ctl_server_handle(d->ctl);	// never blocks, never fails
 *	} else {
 *		dp_dispatch_events(d->dp);
 *	}
 *
 *   4. At exit (the out: label): ctl_server_free(d.ctl), which also
 *      removes the socket file (only if it is still ours).  struct daemon
 *      gets a "struct ctl_server *ctl;" member, NULL until created;
 *      ctl_server_free(NULL) does nothing.
 *
 * Handlers run on the control thread, inside ctl_server_handle(), so they
 * may read daemon state without locks but must not block.  The server
 * needs SIGPIPE ignored (main.c does) and sends with MSG_NOSIGNAL anyway.
 */
#ifndef IPSECD_CTL_CTL_H
#define IPSECD_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "ctl/json.h"
#include "esp/sa.h"

#define CTL_DEFAULT_SOCKET "/run/ipsecd.sock"

/* Frame header: the body length, 4 bytes big-endian. */
#define CTL_HDR_LEN 4
/* Largest body either side accepts (a full status reply). */
#define CTL_MAX_MSG (1u << 20)
/* Requests are a few words: the server drops a client declaring more. */
#define CTL_MAX_REQUEST 4096u
/* Words in a request, command included, and bytes per word. */
#define CTL_MAX_ARGS 16
#define CTL_MAX_WORD 255
/* Bytes of the reason after "error ". */
#define CTL_MAX_REASON 255
/* Concurrent clients the server keeps; see ctl_server_handle(). */
#define CTL_MAX_CLIENTS 16
/* A client quiet this long may be dropped to make room for a new one. */
#define CTL_IDLE_MS 5000

/* ---- Framing ---- */

/* Append one frame (header + body) to w.  ERR_OVERFLOW above CTL_MAX_MSG. */
int ctl_frame_put(struct wbuf *w, const void *body, size_t len);
/*
 * Take the first whole frame from in, if there is one: *body becomes a
 * reader over it and in moves past it.  ERR_SHORT: not all there yet (in
 * unchanged, read more); ERR_OVERFLOW: the header declares more than max;
 * ERR_MALFORMED: an empty body.  The last two mean the stream is garbage.
 */
int ctl_frame_get(struct buf *in, size_t max, struct buf *body);

/* ---- Requests ---- */

struct ctl_request {
	unsigned argc;			/* >= 1; argv[0] is the command */
	const char *argv[CTL_MAX_ARGS];	/* point into text, NUL-terminated */
	char text[CTL_MAX_REQUEST + 1];
};

/*
 * Parse a request body strictly: 1..CTL_MAX_ARGS words of 1..CTL_MAX_WORD
 * printable ASCII bytes (0x21-0x7e), separated by exactly one space, no
 * space at either end; the command word is [a-z][a-z0-9-]*.
 * ERR_MALFORMED otherwise, ERR_OVERFLOW if longer than CTL_MAX_REQUEST.
 */
int ctl_request_parse(struct buf *body, struct ctl_request *rq);
/* Append a request frame for argv[0..argc-1]; same rules (ERR_INVAL). */
int ctl_request_build(struct wbuf *w, unsigned argc,
		      const char *const *argv);

/* ---- Responses ---- */

struct ctl_response {
	bool ok;
	char reason[CTL_MAX_REASON + 1];	/* "" when ok */
	const char *json;	/* borrowed from the body, not terminated */
	size_t json_len;	/* >= 1 */
};

/*
 * Parse a response body: "ok\n" or "error REASON\n" (REASON: 1..255 bytes
 * of 0x20-0x7e), then a non-empty JSON text without NUL bytes (the JSON
 * itself is checked by whoever reads it).  ERR_MALFORMED otherwise.
 */
int ctl_response_parse(struct buf *body, struct ctl_response *rs);
/*
 * Append a response frame.  ok false: reason is made safe (controls
 * become '?', cut to CTL_MAX_REASON).  json NULL or empty sends "{}".
 */
int ctl_response_build(struct wbuf *w, bool ok, const char *reason,
		       const char *json, size_t json_len);

/* ---- Server (daemon side) ---- */

struct ctl_reply {
	struct json *json;	/* write the reply's JSON value here */
	char reason[CTL_MAX_REASON + 1];
};

/* Set the reason sent with "error" and return r (a negative ERR_*). */
int ctl_reply_error(struct ctl_reply *rp, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

typedef int (*ctl_handler_fn)(const struct ctl_request *rq,
			      struct ctl_reply *rp, void *arg);

struct ctl_handler {
	const char *cmd;	/* NULL ends the table */
	ctl_handler_fn fn;
	unsigned min_args;	/* arguments after the command word */
	unsigned max_args;
	const char *usage;	/* "up NAME", sent back on a wrong count */
};

struct ctl_server;

/*
 * Listen on path with mode 0600.  A socket file already there is removed
 * only if nothing accepts on it (a connect is tried first): ERR_EXISTS if
 * something does, ERR_EXISTS too if the path is not a socket.  handlers
 * (borrowed; must outlive the server) and arg are passed to each call.
 */
int ctl_server_new(const char *path, const struct ctl_handler *handlers,
		   void *arg, struct ctl_server **out);
/* One fd for the caller's epoll (EPOLLIN, level-triggered). */
int ctl_server_fd(const struct ctl_server *srv);
/*
 * Accept, read, dispatch and write whatever is ready, without blocking.
 * Clients that break the framing or send oversized requests are logged
 * and dropped; past CTL_MAX_CLIENTS a new client is refused unless an
 * old one has been idle CTL_IDLE_MS, which is then dropped for it.
 */
void ctl_server_handle(struct ctl_server *srv);
/* Closes clients and removes the socket file if it is still ours. */
void ctl_server_free(struct ctl_server *srv);

/*
 * Write one entry of "static_sas" (docs/ctl.md) for a manual SA: its
 * parameters and a stats snapshot; now is monotonic seconds, as
 * st->add_time.
 */
int ctl_json_static_sa(struct json *j, const char *name,
		       const struct sa_params *p, const struct sa_stats *st,
		       uint64_t now);

/* ---- Client (ipsecctl, tests) ---- */

/*
 * Connect to the socket.  ERR_IO with errno kept (ENOENT, ECONNREFUSED:
 * no daemon; EACCES: not root); ERR_INVAL if the path is too long.
 */
int ctl_connect(const char *path, int *fd);

struct ctl_result {
	struct ctl_response rs;	/* rs.json points into raw */
	uint8_t *raw;		/* owned: the response body */
	size_t raw_len;
};

/*
 * Send one request on fd and wait up to timeout_ms (< 0: forever) for the
 * answer.  0 means a well-formed answer came (which may be "error");
 * free res with ctl_result_free().  ERR_TIMEOUT, ERR_IO (errno kept; EOF
 * is ERR_IO with errno ECONNRESET), ERR_MALFORMED.
 */
int ctl_call(int fd, unsigned argc, const char *const *argv,
	     int timeout_ms, struct ctl_result *res);
void ctl_result_free(struct ctl_result *res);

#endif
