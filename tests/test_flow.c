/*
 * test_flow.c - the real sendwrap binary on real loopback connections.
 *
 * Each test is one connection's life as a peer sees it: what it reads,
 * when, whether the MTA ran (tests/fakemta greets and leaves a mark),
 * and the one log line sendwrap wrote.  Delays are fractions of a
 * second; a test asserts only lower bounds on waits and generous upper
 * bounds on what must be immediate, so a loaded machine cannot fail it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <sysexits.h>

#include "harness.h"

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })
#define SOON_MS		3000	/* "at once", generously */
#define FINISH_MS	5000

static const char *mta;
static char tmpdir[128];

static int
setup(void **state)
{
	(void)state;
	h_mark_reset(tmpdir);
	return 0;
}

static void
expect_greeting(const struct h_run *r, const char *line)
{
	(void)r;
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
}

static void
test_loopback_peer_gets_mta_at_once_with_only_fds_0_1_2(void **state)
{
	struct h_run r;
	char line[512];
	double t0 = h_now();

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.1", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_now() - t0 < 30.0);	/* not the 35 s default */
	expect_greeting(&r, line);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "allow ip=127.0.0.1 port="));
	assert_non_null(strstr(r.log, " delay=0.000 rule=builtin:loopback\n"));
	assert_true(h_mta_ran());
}

static void
test_allowlisted_peer_log_names_the_rule(void **state)
{
	struct h_run r;
	char line[512];

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "10.0.0.0/8", "-A", "127.0.0.2/32", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	expect_greeting(&r, line);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "allow ip=127.0.0.2 "));
	assert_non_null(strstr(r.log, " rule=-A:2\n"));
}

static void
test_silent_peer_waits_the_delay_then_reaches_mta(void **state)
{
	struct h_run r;
	char line[512];
	double t0 = h_now();

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 0.4", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_now() - t0 >= 0.4);
	expect_greeting(&r, line);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, " delay=0.400 rule=-A:1\n"));
	assert_true(h_mta_ran());
}

static void
test_default_delay_applies_to_unlisted_peer(void **state)
{
	struct h_run r;
	char line[512];
	double t0 = h_now();

	(void)state;
	/* Loopback carved out of the built-in rule, so -d decides. */
	assert_int_equal(h_start(&r, "127.0.0.3", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-d", "0.3", "-A", "127.0.0.2", "-A", "127.0.0.3/32 0.3",
	    "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_now() - t0 >= 0.3);
	expect_greeting(&r, line);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "pass ip=127.0.0.3 "));
}

/* Send bytes as soon as connected, like a bot that does not wait. */
static void
talk_early(const char *action, const char *data, size_t len, struct h_run *r,
    char *line, size_t size)
{
	assert_int_equal(h_start(r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-e", action, "-A", "127.0.0.2 2", "--", mta)), 0);
	assert_int_equal(write(r->client, data, len), (ssize_t)len);
	h_read_line(r->client, line, size, SOON_MS);
}

static void
test_early_talker_is_dropped_and_mta_never_runs(void **state)
{
	struct h_run r;
	char line[512];

	(void)state;
	talk_early("drop", "EHLO early\r\n", 12, &r, line, sizeof(line));
	assert_string_equal(line, "");
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "early ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, " delay=2.000 after="));
	assert_non_null(strstr(r.log,
	    " bytes=12 data=\"EHLO early\\r\\n\" action=drop rule=-A:1\n"));
	assert_false(h_mta_ran());
}

static void
test_early_talker_gets_421_with_tempfail(void **state)
{
	struct h_run r;
	char line[512];

	(void)state;
	talk_early("tempfail", "EHLO early\r\n", 12, &r, line, sizeof(line));
	assert_true(strncmp(line, "421 4.5.0 ", 10) == 0);
	assert_non_null(strstr(line, "\r\n"));
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, " action=tempfail"));
	assert_false(h_mta_ran());
}

static void
test_early_talker_gets_554_with_reject(void **state)
{
	struct h_run r;
	char line[512];

	(void)state;
	talk_early("reject", "EHLO early\r\n", 12, &r, line, sizeof(line));
	assert_true(strncmp(line, "554 5.5.0 ", 10) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, " action=reject"));
	assert_false(h_mta_ran());
}

static void
test_early_talker_reaches_mta_with_its_bytes_under_log(void **state)
{
	struct h_run r;
	char line[512];

	(void)state;
	talk_early("log", "EHLO early\r\n", 12, &r, line, sizeof(line));
	expect_greeting(&r, line);
	/* The early bytes were left unread for the MTA. */
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_string_equal(line, "250 got EHLO early\r\n");
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "early ip=127.0.0.2 "));
	assert_non_null(strstr(r.log, " action=log"));
	assert_true(h_mta_ran());
}

static void
test_hostile_early_bytes_are_escaped_in_the_log(void **state)
{
	static const char evil[] = "EHLO \x1b[31m\"x\\\r\nearly ip=6.6.6.6\0z";
	struct h_run r;
	char line[512];

	(void)state;
	talk_early("drop", evil, sizeof(evil) - 1, &r, line, sizeof(line));
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_null(strchr(r.log, '\x1b'));
	assert_int_equal(strlen(r.log), r.loglen);	/* no NUL */
	assert_non_null(strstr(r.log, "data=\"EHLO \\x1b[31m\\\"x\\\\\\r\\n"
	    "early ip=6.6.6.6\\x00z\""));
}

static void
test_peer_that_leaves_during_the_wait_is_a_hangup(void **state)
{
	struct h_run r;

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 3", "--", mta)), 0);
	usleep(100000);
	shutdown(r.client, SHUT_WR);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "hangup ip=127.0.0.2 "));
	assert_non_null(strstr(r.log, " reason=eof rule=-A:1\n"));
	assert_false(h_mta_ran());
}

static void
test_ipv6_peer_is_matched_and_logged(void **state)
{
	struct h_run r;
	char line[512];
	double t0 = h_now();

	(void)state;
	if (h_start(&r, "::1", "::1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "::1/128 0.3", "--", mta)) == -1)
		skip();		/* no IPv6 loopback here */
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_now() - t0 >= 0.3);
	expect_greeting(&r, line);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "pass ip=::1 port="));
}

static void
test_mapped_peer_on_dual_stack_listener_matches_ipv4_entry(void **state)
{
	struct h_run r;
	char line[512];
	double t0 = h_now();

	(void)state;
	if (h_start(&r, "127.0.0.2", "::", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.0/30 0.3", "--", mta)) == -1)
		skip();
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_now() - t0 >= 0.3);
	expect_greeting(&r, line);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, " rule=-A:1\n"));
}

/*
 * A bad line makes the whole allowlist untrusted: here 127.0.0.0/8 is
 * allowlisted and the bad line was meant to make 127.0.0.2 wait, so
 * skipping just that line would let 127.0.0.2 in at once.  Instead
 * everyone waits the longest delay named (-d 0.3 over the 0.2 of a
 * good line), and the line says so.
 */
static void
test_bad_allowlist_line_makes_everyone_wait_the_longest_delay(void **state)
{
	char file[256], line[512], want[400];
	struct h_run r;
	double t0 = h_now();
	FILE *f;

	(void)state;
	snprintf(file, sizeof(file), "%s/bad.allow", tmpdir);
	assert_non_null(f = fopen(file, "we"));
	fputs("# partners\n127.0.0.0/8\n127.0.0.2/32 30s\n127.0.0.3 0.2\r\n",
	    f);
	fclose(f);
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-d", "0.3", "-a", file, "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_now() - t0 >= 0.3);
	expect_greeting(&r, line);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	snprintf(want, sizeof(want), "%s:3: delay \"30s\" is not a number of "
	    "seconds", file);
	assert_non_null(strstr(r.log, want));
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, " delay=0.300 allowlist=untrusted\n"));
	assert_int_equal(h_log_lines(&r), 2);
	assert_true(h_mta_ran());
}

/* Loopback is not allowlisted either while the allowlist is untrusted. */
static void
test_host_bits_typo_lets_nobody_skip_the_wait(void **state)
{
	struct h_run r;
	char line[512];
	double t0 = h_now();

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.1", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-d", "0.3", "-A", "192.0.2.1/2", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_now() - t0 >= 0.3);
	expect_greeting(&r, line);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "-A:1: host bits set in \"192.0.2.1/2\"; "
	    "did you mean 192.0.0.0/2?\n"));
	assert_non_null(strstr(r.log, "pass ip=127.0.0.1 port="));
	assert_non_null(strstr(r.log, " allowlist=untrusted\n"));
}

static void
test_endless_device_as_allowlist_is_refused_not_read(void **state)
{
	struct h_run r;
	char line[512];

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-d", "0.2", "-a", "/dev/zero", "-A", "127.0.0.2 0.2",
	    "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	expect_greeting(&r, line);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "/dev/zero: is not a regular file\n"));
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 "));
}

/* Under inetd fd 2 is the connection: only reply lines may reach it. */
static void
test_bad_option_under_inetd_gives_421_and_nothing_else(void **state)
{
	struct h_run r;
	char line[512];

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_SOCKET,
	    ARGS("-s", "-d", "1e9", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.5 ", 10) == 0);
	assert_int_equal(strchr(line, '\n') - line, (long)strlen(line) - 1);
	assert_int_equal(h_read_line(r.client, line, sizeof(line), 500), 0);
	assert_int_equal(h_finish(&r, FINISH_MS), EX_USAGE << 8);
	assert_false(h_mta_ran());
}

static void
test_missing_program_gives_421_and_exit_71(void **state)
{
	struct h_run r;
	char line[512];

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "--", "/nonexistent/mta", "-bs")), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.0 ", 10) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 71 << 8);
	assert_non_null(strstr(r.log, "error ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, "/nonexistent/mta: No such file"));
}

/* A file execv() would refuse is caught at once, not after the wait. */
static void
test_program_that_cannot_be_executed_gives_421_at_once(void **state)
{
	char prog[256], line[512];
	struct h_run r;
	double t0 = h_now();
	FILE *f;

	(void)state;
	/* Executable, but no exec header and no #! line. */
	snprintf(prog, sizeof(prog), "%s/not-a-binary", tmpdir);
	assert_non_null(f = fopen(prog, "we"));
	fputs("this is not a program\n", f);
	fclose(f);
	chmod(prog, 0755);
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 2", "--", prog)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_now() - t0 < 1.5);
	assert_true(strncmp(line, "421 4.3.0 ", 10) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 71 << 8);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "error ip=127.0.0.2 "));
	assert_non_null(strstr(r.log, "neither a #! script nor a binary"));
	assert_null(strstr(r.log, "pass "));
}

static void
test_sigterm_while_waiting_tempfails_without_exec(void **state)
{
	struct h_run r;
	char line[512];

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 5", "--", mta)), 0);
	usleep(200000);
	kill(r.pid, SIGTERM);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.2 ", 10) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "shutdown ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, " signal=TERM rule=-A:1\n"));
	assert_int_equal(h_log_lines(&r), 1);
	assert_false(h_mta_ran());
}

static void
test_inetd_mode_early_reject_puts_only_the_reply_on_the_wire(void **state)
{
	struct h_run r;
	char buf[1024];
	ssize_t n;

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_SOCKET,
	    ARGS("-s", "-v", "-e", "reject", "-A", "127.0.0.2 2", "-A", "junk",
	    "--", mta)), 0);
	assert_int_equal(write(r.client, "EHLO x\r\n", 8), 8);
	n = h_read_line(r.client, buf, sizeof(buf), SOON_MS);
	assert_true(n > 0);
	assert_true(strncmp(buf, "554 5.5.0 ", 10) == 0);
	assert_null(strstr(buf, "sendwrap"));
	assert_int_equal(h_read_line(r.client, buf, sizeof(buf), 500), 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, h_cleanup)
		T(test_loopback_peer_gets_mta_at_once_with_only_fds_0_1_2),
		T(test_allowlisted_peer_log_names_the_rule),
		T(test_silent_peer_waits_the_delay_then_reaches_mta),
		T(test_default_delay_applies_to_unlisted_peer),
		T(test_early_talker_is_dropped_and_mta_never_runs),
		T(test_early_talker_gets_421_with_tempfail),
		T(test_early_talker_gets_554_with_reject),
		T(test_early_talker_reaches_mta_with_its_bytes_under_log),
		T(test_hostile_early_bytes_are_escaped_in_the_log),
		T(test_peer_that_leaves_during_the_wait_is_a_hangup),
		T(test_ipv6_peer_is_matched_and_logged),
		T(test_mapped_peer_on_dual_stack_listener_matches_ipv4_entry),
		T(test_bad_allowlist_line_makes_everyone_wait_the_longest_delay),
		T(test_host_bits_typo_lets_nobody_skip_the_wait),
		T(test_endless_device_as_allowlist_is_refused_not_read),
		T(test_bad_option_under_inetd_gives_421_and_nothing_else),
		T(test_missing_program_gives_421_and_exit_71),
		T(test_program_that_cannot_be_executed_gives_421_at_once),
		T(test_sigterm_while_waiting_tempfails_without_exec),
		T(test_inetd_mode_early_reject_puts_only_the_reply_on_the_wire),
#undef T
	};
	int rc;

	mta = h_fakemta();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sendwrap-flow.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests_name("sendwrap flow", tests, NULL, NULL);
	unlink(h_mark);
	{
		static const char *const left[] = { "bad.allow", "not-a-binary" };
		char path[256];
		size_t i;

		for (i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "%s/%s", tmpdir, left[i]);
			unlink(path);
		}
	}
	rmdir(tmpdir);
	return rc;
}
