/* SPDX-License-Identifier: MIT */
/*
 * Logging with levels and subsystem tags.  One line per call, written with
 * a single write() so lines from worker threads never interleave.
 * Secrets are never logged (the opt-in key log is separate).
 */
#ifndef IPSECD_COMMON_LOG_H
#define IPSECD_COMMON_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LL_ERR = 0,
	LL_WARN,
	LL_INFO,
	LL_DEBUG,
};

enum log_sub {
	LS_MAIN = 0,	/* daemon, startup */
	LS_CFG,		/* configuration */
	LS_CRYPTO,
	LS_ESP,		/* ESP/AH, replay, SAD/SPD */
	LS_DP,		/* data plane I/O */
	LS_IKE,
	LS_CTL,		/* control socket */
	LS_TEST,
	LS__COUNT,
};

void log_set_level(enum log_sub sub, enum log_level lvl);
void log_set_all_levels(enum log_level lvl);
/* Write to this fd (default 2, stderr). */
void log_set_fd(int fd);
/*
 * From now on log through syslog(3) (facility daemon, with the PID), for
 * a daemon that has left its terminal; call after daemon().
 */
void log_use_syslog(const char *ident);
/* Parse "ike=debug,esp=info" or a single level name; 0 or ERR_INVAL. */
int log_parse_levels(const char *spec);
bool log_enabled(enum log_sub sub, enum log_level lvl);

void log_msg(enum log_level lvl, enum log_sub sub, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(sub, ...) log_msg(LL_ERR, sub, __VA_ARGS__)
#define log_warn(sub, ...) log_msg(LL_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...) log_msg(LL_INFO, sub, __VA_ARGS__)
#define log_dbg(sub, ...)                                   \
	do {                                                \
		if (log_enabled(sub, LL_DEBUG))             \
			log_msg(LL_DEBUG, sub, __VA_ARGS__); \
	} while (0)

/*
 * Rate limit for log lines a peer can trigger: at most burst lines per
 * interval seconds; the next allowed line reports how many were held back.
 * Lock-free; a lost race only lets one extra line through.
 */
struct log_ratelimit {
	uint64_t window_start_ms;
	uint32_t count;
	uint32_t suppressed;
	uint32_t burst;
	uint32_t interval_s;
};
#define LOG_RATELIMIT_INIT(b, s) { 0, 0, 0, (b), (s) }
/* true if a line may be printed now; *held gets lines suppressed before. */
bool log_ratelimit_ok(struct log_ratelimit *rl, uint32_t *held);

#endif
