/* SPDX-License-Identifier: MIT */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"

static enum log_level levels[LS__COUNT] = {
	LL_INFO, LL_INFO, LL_INFO, LL_INFO, LL_INFO, LL_INFO, LL_INFO, LL_INFO,
};
static int log_fd = 2;
static bool log_syslog; /* after log_use_syslog() */

static const char *const sub_names[LS__COUNT] = {
	[LS_MAIN] = "main", [LS_CFG] = "cfg", [LS_CRYPTO] = "crypto",
	[LS_ESP] = "esp",   [LS_DP] = "dp",   [LS_IKE] = "ike",
	[LS_CTL] = "ctl",   [LS_TEST] = "test",
};
static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO,
				   LOG_DEBUG};

static const char *const level_names[] = {
	[LL_ERR] = "error", [LL_WARN] = "warn", [LL_INFO] = "info",
	[LL_DEBUG] = "debug",
};

void log_set_level(enum log_sub sub, enum log_level lvl)
{
	if ((unsigned)sub < LS__COUNT)
		levels[sub] = lvl;
}

void log_set_all_levels(enum log_level lvl)
{
	int i;

	for (i = 0; i < LS__COUNT; i++)
		levels[i] = lvl;
}

void log_set_fd(int fd)
{
	log_fd = fd;
}

bool log_enabled(enum log_sub sub, enum log_level lvl)
{
	return (unsigned)sub < LS__COUNT && lvl <= levels[sub];
}

static int level_from_name(const char *s, size_t n, enum log_level *lvl)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strlen(level_names[i]) == n &&
		    strncasecmp(level_names[i], s, n) == 0) {
			*lvl = (enum log_level)i;
			return 0;
		}
	}
	return ERR_INVAL;
}

int log_parse_levels(const char *spec)
{
	enum log_level lvl, next[LS__COUNT];
	const char *p = spec, *end, *eq;
	int i;

	/*
	 * Parse into a copy and apply only if the whole spec is good: a typo
	 * late in the list must not leave earlier parts half applied.
	 */
	if (!spec)
		return ERR_INVAL;
	memcpy(next, levels, sizeof(next));

	while (*p) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (!eq) {
			if (level_from_name(p, (size_t)(end - p), &lvl))
				return ERR_INVAL;
			for (i = 0; i < LS__COUNT; i++)
				next[i] = lvl;
		} else {
			if (level_from_name(eq + 1, (size_t)(end - eq - 1),
					    &lvl))
				return ERR_INVAL;
			for (i = 0; i < LS__COUNT; i++)
				if (strlen(sub_names[i]) == (size_t)(eq - p) &&
				    !strncmp(sub_names[i], p,
					     (size_t)(eq - p)))
					break;
			if (i == LS__COUNT)
				return ERR_INVAL;
			next[i] = lvl;
		}
		p = *end ? end + 1 : end;
	}
	memcpy(levels, next, sizeof(levels));
	return 0;
}

void log_msg(enum log_level lvl, enum log_sub sub, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	if (!log_enabled(sub, lvl))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "%02d:%02d:%02d.%03ld %-5s [%s] ", tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl],
		     sub_names[sub]);
	if (n < 0)
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	/* Cut to the buffer, leaving room for the newline. */
	if ((size_t)m > sizeof(line) - 2 - (size_t)n)
		m = (int)(sizeof(line) - 2 - (size_t)n);
	m += n;
	/*
	 * One call is one line: a newline or other control byte in a
	 * peer-supplied string (an identity, a name) must not forge or
	 * split log lines.
	 */
	for (; n < m; n++)
		if ((unsigned char)line[n] < 0x20 || line[n] == 0x7f)
			line[n] = '?';
	line[n++] = '\n';
	/* One write per line; a failed log write has nowhere to be logged. */
	if (log_syslog) {
		/* syslog stamps the time itself: skip our "hh:mm:ss.mmm " (13 chars). */
		line[n - 1] = '\0';
		syslog(syslog_prio[lvl], "%s", line + 13);
		return;
	}
	if (write(log_fd, line, (size_t)n) < 0)
		return;
}

void log_use_syslog(const char *ident)
{
	/* LOG_NDELAY: connect now, while /dev/log is still reachable
	 * (before privileges are dropped). */
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = true;
}

bool log_ratelimit_ok(struct log_ratelimit *rl, uint32_t *held)
{
	uint64_t now = mono_ms();

	*held = 0;
	if (now - rl->window_start_ms >= (uint64_t)rl->interval_s * 1000) {
		*held = rl->suppressed;
		rl->window_start_ms = now;
		rl->count = 0;
		rl->suppressed = 0;
	}
	if (rl->count < rl->burst) {
		rl->count++;
		return true;
	}
	rl->suppressed++;
	return false;
}
