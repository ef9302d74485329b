/* SPDX-License-Identifier: MIT */
/* Unit tests for logging: level specs, rate limits, line output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

#define CHECK_EQ(i, got, want)                                              \
	do {                                                                \
		long long g_ = (long long)(got), w_ = (long long)(want);    \
		if (g_ != w_)                                               \
			fail_msg("case %u: %s = %lld, want %lld",           \
				 (unsigned)(i), #got, g_, w_);              \
	} while (0)

/* The highest level enabled for sub, read back through log_enabled(). */
static int level_of(enum log_sub sub)
{
	int l;

	for (l = LL_DEBUG; l >= LL_ERR; l--)
		if (log_enabled(sub, (enum log_level)l))
			return l;
	return -1;
}

static void test_parse_levels(void **state)
{
	static const struct {
		const char *spec;
		int want;
		int ike, esp, cfg;	/* levels afterwards */
	} cases[] = {
		/* every case starts from all = info */
		{ "debug", 0, LL_DEBUG, LL_DEBUG, LL_DEBUG },
		{ "error", 0, LL_ERR, LL_ERR, LL_ERR },
		{ "WARN", 0, LL_WARN, LL_WARN, LL_WARN },
		{ "ike=debug,esp=info", 0, LL_DEBUG, LL_INFO, LL_INFO },
		{ "ike=debug,esp=error", 0, LL_DEBUG, LL_ERR, LL_INFO },
		{ "warn,ike=debug", 0, LL_DEBUG, LL_WARN, LL_WARN },
		{ "ike=debug,warn", 0, LL_WARN, LL_WARN, LL_WARN },
		{ "cfg=debug,", 0, LL_INFO, LL_INFO, LL_DEBUG },
		{ "", 0, LL_INFO, LL_INFO, LL_INFO },
		/* 9..: bad specs change nothing at all */
		{ "verbose", ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
		{ "ike=loud", ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
		{ "bogus=debug", ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
		{ "ike=debug,bogus=debug", ERR_INVAL, LL_INFO, LL_INFO,
		  LL_INFO },
		{ "ike=debug,esp=", ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
		{ "=debug", ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
		{ ",debug", ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
		{ "ike", ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
		{ "debugx", ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
		{ "debu", ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
		{ "ike =debug", ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
		{ "ikev2=debug", ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
		{ NULL, ERR_INVAL, LL_INFO, LL_INFO, LL_INFO },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		log_set_all_levels(LL_INFO);
		CHECK_EQ(i, log_parse_levels(cases[i].spec), cases[i].want);
		CHECK_EQ(i, level_of(LS_IKE), cases[i].ike);
		CHECK_EQ(i, level_of(LS_ESP), cases[i].esp);
		CHECK_EQ(i, level_of(LS_CFG), cases[i].cfg);
	}
	log_set_all_levels(LL_INFO);
}

static void test_set_level(void **state)
{
	log_set_all_levels(LL_WARN);
	log_set_level(LS_DP, LL_DEBUG);
	assert_int_equal(level_of(LS_DP), LL_DEBUG);
	assert_int_equal(level_of(LS_MAIN), LL_WARN);
	/* Out-of-range subsystems are ignored and never enabled. */
	log_set_level(LS__COUNT, LL_DEBUG);
	log_set_level((enum log_sub)-1, LL_DEBUG);
	assert_false(log_enabled(LS__COUNT, LL_ERR));
	assert_false(log_enabled((enum log_sub)99, LL_ERR));
	log_set_all_levels(LL_INFO);
}

static void test_ratelimit(void **state)
{
	static const struct {
		uint32_t burst;
		uint32_t calls;
		uint32_t passed;	/* calls that returned true */
		uint32_t suppressed;
	} cases[] = {
		{ 1, 1, 1, 0 },
		{ 1, 5, 1, 4 },
		{ 5, 5, 5, 0 },
		{ 5, 6, 5, 1 },
		{ 10, 1000, 10, 990 },
		{ 0, 3, 0, 3 },
	};
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct log_ratelimit rl = LOG_RATELIMIT_INIT(cases[i].burst,
							     3600);
		uint32_t held, passed = 0;

		for (k = 0; k < cases[i].calls; k++) {
			if (log_ratelimit_ok(&rl, &held))
				passed++;
			/* Inside one window nothing is reported as held. */
			CHECK_EQ(i, held, 0);
		}
		CHECK_EQ(i, passed, cases[i].passed);
		CHECK_EQ(i, rl.suppressed, cases[i].suppressed);
		/* Move the window into the past: the next line passes (if
		 * burst allows) and reports what was held back. */
		rl.window_start_ms -= 3600 * 1000 + 1;
		CHECK_EQ(i, log_ratelimit_ok(&rl, &held), cases[i].burst > 0);
		CHECK_EQ(i, held, cases[i].suppressed);
		CHECK_EQ(i, rl.suppressed, cases[i].burst == 0);
	}
}

static int pipe_fds[2];

static int pipe_setup(void **state)
{
	if (pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	/* Room for the long-line case in one go. */
	fcntl(pipe_fds[1], F_SETPIPE_SZ, 1 << 16);
	log_set_fd(pipe_fds[1]);
	log_set_all_levels(LL_INFO);
	return 0;
}

static int pipe_teardown(void **state)
{
	log_set_fd(2);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	log_set_all_levels(LL_INFO);
	return 0;
}

static ssize_t drain(char *buf, size_t cap)
{
	ssize_t n = read(pipe_fds[0], buf, cap - 1);

	if (n < 0 && errno == EAGAIN)
		n = 0;
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static void test_log_msg(void **state)
{
	static const struct {
		enum log_level lvl;
		enum log_sub sub;
		const char *msg;
		const char *want;	/* substring; NULL: no output */
	} cases[] = {
		{ LL_ERR, LS_CFG, "bad key", "error [cfg] bad key\n" },
		{ LL_WARN, LS_IKE, "peer slow", "warn  [ike] peer slow\n" },
		{ LL_INFO, LS_ESP, "sa up", "info  [esp] sa up\n" },
		{ LL_DEBUG, LS_ESP, "hidden", NULL },
		{ LL_INFO, LS__COUNT, "no such sub", NULL },
		{ LL_INFO, LS_MAIN, "", "info  [main] \n" },
		/* control bytes cannot split or forge lines */
		{ LL_WARN, LS_IKE, "id a\nerror [main] fake\r\t\x7f.",
		  "warn  [ike] id a?error [main] fake???.\n" },
	};
	char buf[4096];
	size_t i;
	ssize_t n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		log_msg(cases[i].lvl, cases[i].sub, "%s", cases[i].msg);
		n = drain(buf, sizeof(buf));
		if (!cases[i].want) {
			CHECK_EQ(i, n, 0);
			continue;
		}
		CHECK_EQ(i, n > 0, 1);
		CHECK_EQ(i, count_char(buf, '\n'), 1);
		CHECK_EQ(i, buf[n - 1], '\n');
		if (!strstr(buf, cases[i].want))
			fail_msg("case %u: '%s' lacks '%s'", (unsigned)i, buf,
				 cases[i].want);
		/* "HH:MM:SS.mmm " prefix */
		CHECK_EQ(i, buf[2] == ':' && buf[5] == ':' && buf[8] == '.', 1);
	}
}

static void test_log_long_line(void **state)
{
	char big[3000], buf[4096];
	ssize_t n;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* A line longer than the buffer is cut, still ending in one newline. */
	log_err(LS_TEST, "%s", big);
	n = drain(buf, sizeof(buf));
	assert_true(n > 0);
	assert_true(n <= 1024);
	assert_int_equal(buf[n - 1], '\n');
	assert_int_equal(count_char(buf, '\n'), 1);
	/* dbg is compiled to a level check first. */
	log_set_level(LS_TEST, LL_DEBUG);
	log_dbg(LS_TEST, "value %d", 42);
	n = drain(buf, sizeof(buf));
	assert_non_null(strstr(buf, "debug [test] value 42\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_levels),
		cmocka_unit_test(test_set_level),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test_setup_teardown(test_log_msg, pipe_setup,
						pipe_teardown),
		cmocka_unit_test_setup_teardown(test_log_long_line, pipe_setup,
						pipe_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
