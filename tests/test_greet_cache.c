/*
 * test_greet_cache.c - the greeting teaser (-g) and the pass cache
 * (-c, -C, -P) with the real sendwrap binary on real loopback
 * connections, as tests/harness.h sets them up.
 *
 * The teaser tests read the wire as a client does: "220-text" at once,
 * then after the wait either the MTA's "220 " line, or, for an early
 * talker, whatever -e says, in replies that stay valid RFC 5321.  The
 * cache tests look at the directory itself as well as the log.  Delays
 * are fractions of a second; a test asserts lower bounds on waits and
 * generous upper bounds on what must be immediate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <grp.h>
#include <sysexits.h>

#include "harness.h"
#include "cachedir.h"

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })
#define SOON_MS		3000	/* "at once", generously */
#define FINISH_MS	5000
#define NOBODY		65534
#define DAY		86400L
#define OUT_MAX		4096

static const char *mta;
static char tmpdir[128];
static char cache[256];		/* this test's cache directory */
static int ntest;

static int
setup(void **state)
{
	(void)state;
	h_mark_reset(tmpdir);
	snprintf(cache, sizeof(cache), "%s/cache%d", tmpdir, ++ntest);
	return mkdir(cache, 0700);
}

static int
teardown(void **state)
{
	cd_remove_tree(cache);
	return h_cleanup(state);
}

static void
entry_path(const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", cache, name);
}

static void
plant(const char *name, long offset)
{
	cd_plant(cache, name, offset);
}

/* Seconds since the entry was last touched, or -1 if there is none. */
static long
entry_age(const char *name)
{
	struct stat st;
	char p[512];

	struct timespec now;

	entry_path(name, p, sizeof(p));
	if (lstat(p, &st) == -1)
		return -1;
	/* The clock sendwrap dates entries by: never behind them. */
	clock_gettime(CLOCK_REALTIME, &now);
	return (long)(now.tv_sec - st.st_mtime);
}

/*
 * Run sendwrap with args outside a connection (-t, -q, -P): stdout and
 * stderr together in out.  Returns the exit status.
 */
static int
run_cmd(const char *const *args, char *out, size_t size)
{
	const char *argv[H_ARGV_MAX];
	char path[] = "/tmp/sendwrap-out.XXXXXX";
	size_t n = 0;
	ssize_t got;
	int fd, status;
	pid_t pid;

	argv[n++] = h_env("SENDWRAP", "./sendwrap");
	while (*args != NULL && n < H_ARGV_MAX - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	fd = mkstemp(path);
	assert_true(fd != -1);
	unlink(path);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	got = pread(fd, out, size - 1, 0);
	out[got > 0 ? got : 0] = '\0';
	close(fd);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* A "220 " line that ends a multi-line greeting: "220 HOST\r\n". */
static void
assert_greeting_end(const char *line)
{
	size_t n = strlen(line);

	assert_true(n > 6);
	assert_memory_equal(line, "220 ", 4);
	assert_string_equal(line + n - 2, "\r\n");
	assert_null(strchr(line + 4, ' '));	/* just the host name */
}

/* ---- -g: the greeting teaser ---- */

static void
test_teaser_comes_at_once_and_the_mta_greeting_completes_it(void **state)
{
	struct h_run r;
	char line[600];
	double t0 = h_now();

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-g", "mx.example.test ESMTP", "-A", "127.0.0.2 1.5",
	    "--", mta)), 0);
	assert_int_equal(h_read_line(r.client, line, sizeof(line), 1400), 27);
	assert_string_equal(line, "220-mx.example.test ESMTP\r\n");
	assert_true(h_now() - t0 < 1.4);	/* before the wait is over */
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_now() - t0 >= 1.5);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
	assert_int_equal(write(r.client, "EHLO x\r\n", 8), 8);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_string_equal(line, "250 got EHLO x\r\n");
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 port="));
	assert_true(h_mta_ran());
}

/* Start sendwrap for 127.0.0.2 with "-g mx.example.test"; read the teaser. */
static void
start_teased(struct h_run *r, const char *action, const char *entry)
{
	char line[600];

	assert_int_equal(h_start(r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-g", "mx.example.test", "-e", action, "-A", entry,
	    "--", mta)), 0);
	assert_true(h_read_line(r->client, line, sizeof(line), SOON_MS) > 0);
	assert_string_equal(line, "220-mx.example.test\r\n");
}

static void
test_teaser_answered_at_once_is_early_and_dropped(void **state)
{
	struct h_run r;
	char line[600];

	(void)state;
	start_teased(&r, "drop", "127.0.0.2 2");
	assert_int_equal(write(r.client, "EHLO bot\r\n", 10), 10);
	/* Closed (or reset: the EHLO was not read), nothing more said. */
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) <= 0);
	assert_string_equal(line, "");
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "early ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, " data=\"EHLO bot\\r\\n\" action=drop"));
	assert_false(h_mta_ran());
}

/* After "220-", a 421 or 554 comes only once "220 HOST" ends the reply. */
static void
early_after_teaser_gets(const char *action, const char *code)
{
	struct h_run r;
	char line[600];

	start_teased(&r, action, "127.0.0.2 2");
	assert_int_equal(write(r.client, "EHLO bot\r\n", 10), 10);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_greeting_end(line);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_memory_equal(line, code, 10);
	assert_non_null(strstr(line, "Protocol error: talked before the "
	    "greeting\r\n"));
	assert_int_equal(h_read_line(r.client, line, sizeof(line), SOON_MS),
	    0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "early ip=127.0.0.2 port="));
	assert_false(h_mta_ran());
}

static void
test_teaser_then_tempfail_ends_the_greeting_before_421(void **state)
{
	(void)state;
	early_after_teaser_gets("tempfail", "421 4.5.0 ");
}

static void
test_teaser_then_reject_ends_the_greeting_before_554(void **state)
{
	(void)state;
	early_after_teaser_gets("reject", "554 5.5.0 ");
}

static void
test_teaser_then_log_lets_the_mta_complete_the_greeting(void **state)
{
	struct h_run r;
	char line[600];

	(void)state;
	start_teased(&r, "log", "127.0.0.2 2");
	assert_int_equal(write(r.client, "EHLO bot\r\n", 10), 10);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta ", 12) == 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_string_equal(line, "250 got EHLO bot\r\n");
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "early ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, " action=log"));
	assert_true(h_mta_ran());
}

static void
test_teaser_then_sigterm_ends_the_greeting_before_421(void **state)
{
	struct h_run r;
	char line[600];

	(void)state;
	start_teased(&r, "drop", "127.0.0.2 5");
	usleep(200000);		/* into the wait, where SIGTERM is caught */
	kill(r.pid, SIGTERM);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_greeting_end(line);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_memory_equal(line, "421 4.3.2 ", 10);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_false(h_mta_ran());
}

static void
test_allowlisted_peer_gets_no_teaser(void **state)
{
	struct h_run r;
	char line[600];

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.1", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-g", "mx.example.test", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta ", 12) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "allow ip=127.0.0.1 "));
}

static void
test_bad_teaser_at_run_time_gives_421_and_no_teaser(void **state)
{
	struct h_run r;
	char line[600];

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-g", "mx\r\n250 fake", "-A", "127.0.0.2 2", "--",
	    mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_memory_equal(line, "421 4.3.5 ", 10);
	assert_int_equal(h_read_line(r.client, line, sizeof(line), SOON_MS),
	    0);
	assert_int_equal(h_finish(&r, FINISH_MS), EX_USAGE << 8);
	assert_non_null(strstr(r.log, "error ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, "-g: the teaser text has a control"));
	assert_false(h_mta_ran());
}

static void
test_check_mode_judges_the_teaser_text(void **state)
{
	char out[OUT_MAX], text[600];

	(void)state;
	memset(text, 'x', 506);
	text[506] = '\0';
	assert_int_equal(run_cmd(ARGS("-t", "-A", "10.0.0.0/8", "-g", text,
	    "--", mta), out, sizeof(out)), 0);
	text[506] = 'x';
	text[507] = '\0';
	assert_int_equal(run_cmd(ARGS("-t", "-A", "10.0.0.0/8", "-g", text,
	    "--", mta), out, sizeof(out)), EX_CONFIG);
	assert_non_null(strstr(out, "sendwrap: -g: the teaser text is longer "
	    "than 506 characters\n"));
	assert_int_equal(run_cmd(ARGS("-t", "-A", "10.0.0.0/8", "-g", "",
	    "--", mta), out, sizeof(out)), EX_CONFIG);
	assert_non_null(strstr(out, "sendwrap: -g: the teaser text is empty\n"));
	assert_int_equal(run_cmd(ARGS("-t", "-A", "10.0.0.0/8", "-g",
	    "mx\tx", "--", mta), out, sizeof(out)), EX_CONFIG);
	assert_non_null(strstr(out, "control or non-ASCII character at "
	    "\"\\tx\" (position 3)"));
	assert_int_equal(run_cmd(ARGS("-t", "-A", "10.0.0.0/8", "-g",
	    "caf\xc3\xa9", "--", mta), out, sizeof(out)), EX_CONFIG);
	assert_non_null(strstr(out, "(position 4)"));
}

/* ---- -c: the pass cache ---- */

static void
test_a_pass_is_remembered_and_the_next_connection_skips_the_wait(void **state)
{
	struct h_run r;
	struct stat st;
	char line[600], p[512];
	double t0;

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-c", cache, "-g", "mx.example.test", "-A",
	    "127.0.0.2 1.5", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_string_equal(line, "220-mx.example.test\r\n");
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta ", 12) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 port="));
	entry_path("127.0.0.2", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(entry_age("127.0.0.2") <= 2);
	assert_int_equal(cd_count(cache), 1);

	/* Next time: the MTA at once, and no teaser. */
	t0 = h_now();
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-c", cache, "-g", "mx.example.test", "-A",
	    "127.0.0.2 1.5", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
	assert_true(h_now() - t0 < 1.4);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "cached ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, " delay=0.000 age="));
	assert_non_null(strstr(r.log, " rule=-A:1\n"));
}

/*
 * One connection from 127.0.0.2 with a 0.3 s delay, silent or talking
 * at once.  The peer reads all it is sent (with -e log, up to the MTA's
 * answer to its EHLO), so that nothing dies of writing to it.
 */
static void
connect_once(const char *const *extra, struct h_run *r, int talk)
{
	const char *args[24] = { "-s", "-c", cache, "-A", "127.0.0.2 0.3" };
	char line[600];
	size_t n = 5;
	int i;

	while (*extra != NULL && n < 20)
		args[n++] = *extra++;
	args[n++] = "--";
	args[n++] = mta;
	args[n] = NULL;
	assert_int_equal(h_start(r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    args), 0);
	if (talk) {
		assert_int_equal(write(r->client, "EHLO bot\r\n", 10), 10);
		for (i = 0; i < 3 && h_read_line(r->client, line,
		    sizeof(line), SOON_MS) > 0 && strncmp(line, "250 ", 4) != 0;
		    i++)
			;
	} else
		assert_true(h_read_line(r->client, line, sizeof(line),
		    SOON_MS) > 0);
	assert_int_equal(h_finish(r, FINISH_MS), 0);
}

static void
test_an_expired_entry_means_the_full_delay_and_a_fresh_pass(void **state)
{
	struct h_run r;

	(void)state;
	plant("127.0.0.2", -DAY);		/* the default ttl is a day */
	connect_once(ARGS(NULL), &r, 0);
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 "));
	assert_true(entry_age("127.0.0.2") <= 2);	/* touched again */

	plant("127.0.0.2", -1800);
	connect_once(ARGS("-C", "3600"), &r, 0);
	assert_non_null(strstr(r.log, "cached ip=127.0.0.2 "));
	assert_non_null(strstr(r.log, " age=18"));	/* 1800 or so */
	assert_true(entry_age("127.0.0.2") >= 1800);	/* a hit is no pass */

	plant("127.0.0.2", -7200);
	connect_once(ARGS("-C", "3600"), &r, 0);
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 "));
}

static void
test_an_early_talker_loses_its_entry(void **state)
{
	struct h_run r;

	(void)state;
	plant("127.0.0.2", -2 * DAY);
	connect_once(ARGS(NULL), &r, 1);
	assert_non_null(strstr(r.log, "early ip=127.0.0.2 "));
	assert_int_equal(entry_age("127.0.0.2"), -1);
	assert_false(h_mta_ran());

	/* -e log lets it reach the MTA, but it is not remembered. */
	plant("127.0.0.2", -2 * DAY);
	connect_once(ARGS("-e", "log"), &r, 1);
	assert_non_null(strstr(r.log, " action=log"));
	assert_int_equal(entry_age("127.0.0.2"), -1);
	assert_true(h_mta_ran());
}

static void
test_a_peer_that_leaves_or_is_allowlisted_is_not_written(void **state)
{
	struct h_run r;
	char line[600];

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-c", cache, "-A", "127.0.0.2 1", "--", mta)), 0);
	usleep(100000);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);	/* closes first */
	assert_non_null(strstr(r.log, "hangup ip=127.0.0.2 "));
	assert_int_equal(cd_count(cache), 0);

	assert_int_equal(h_start(&r, "127.0.0.1", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-c", cache, "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "allow ip=127.0.0.1 "));
	assert_int_equal(cd_count(cache), 0);
}

static void
test_entries_are_named_by_the_address_text(void **state)
{
	struct h_run r;
	char line[600];

	(void)state;
	assert_int_equal(h_start(&r, "::1", "::1", H_STDERR_PIPE,
	    ARGS("-s", "-c", cache, "-A", "::1 0.2", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	/* IPv6: the pass counts for the peer's /64. */
	assert_true(entry_age("::_64") >= 0);
	assert_non_null(strstr(r.log, " key=::/64 "));

	/* A dual-stack listener sees ::ffff:127.0.0.2; the entry is IPv4. */
	assert_int_equal(h_start(&r, "127.0.0.2", "::", H_STDERR_PIPE,
	    ARGS("-s", "-c", cache, "-A", "127.0.0.2 0.2", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_true(entry_age("127.0.0.2") >= 0);
	assert_int_equal(cd_count(cache), 2);
}

/*
 * The program went away during the wait, so the exec fails after the
 * pass line: the peer hears 421, and the pass just recorded is taken
 * back, since it did not reach the program.
 */
static void
test_a_pass_whose_exec_fails_is_taken_back(void **state)
{
	char prog[256], line[600];
	struct h_run r;

	(void)state;
	snprintf(prog, sizeof(prog), "%s/vanishing-mta", tmpdir);
	h_copy(mta, prog, 0755);
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-c", cache, "-A", "127.0.0.2 0.6", "--", prog)), 0);
	usleep(200000);
	assert_int_equal(unlink(prog), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.0 ", 10) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), EX_OSERR << 8);
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 "));
	assert_non_null(strstr(r.log, "error ip=127.0.0.2 "));
	assert_non_null(strstr(r.log, "No such file or directory"));
	assert_false(h_mta_ran());
	assert_int_equal(entry_age("127.0.0.2"), -1);
	assert_int_equal(cd_count(cache), 0);
}

static void
test_a_missing_cache_means_the_full_delay_and_mail_still_flows(void **state)
{
	struct h_run r;
	char line[600], missing[300];
	double t0 = h_now();

	(void)state;
	snprintf(missing, sizeof(missing), "%s/missing", cache);
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-c", missing, "-A", "127.0.0.2 0.5", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta ", 12) == 0);
	assert_true(h_now() - t0 >= 0.5);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "/missing: cannot open: No such file "
	    "or directory\n"));
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 "));
	assert_true(h_mta_ran());
}

static void
test_a_loose_cache_is_not_trusted(void **state)
{
	struct h_run r;
	double t0 = h_now();

	(void)state;
	plant("127.0.0.2", 0);
	assert_int_equal(chmod(cache, 0770), 0);
	connect_once(ARGS(NULL), &r, 0);
	assert_true(h_now() - t0 >= 0.3);
	assert_non_null(strstr(r.log, ": is writable by group or others "
	    "(mode 0770)"));
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 "));
	assert_true(h_mta_ran());
}

/* Copy an executable where nobody can run it (the tree may be private). */
static void
copy_exe(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	in = open(from, O_RDONLY | O_CLOEXEC);
	assert_true(in != -1);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	assert_true(out != -1);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	assert_int_equal(close(out), 0);
}

static void
become_nobody(void)
{
	if (setgroups(0, NULL) == -1 || setgid(NOBODY) == -1 ||
	    setuid(NOBODY) == -1)
		_exit(126);
}

/*
 * A cache sendwrap cannot write, with a fresh entry in it: the full
 * delay all the same, and the mail still goes through.  Root writes
 * anywhere, so as root sendwrap runs as nobody.
 */
static void
test_a_read_only_cache_means_the_full_delay_and_mail_still_flows(void **state)
{
	char line[600], sw[300], saved[600], fake[300];
	const char *m = mta;
	struct h_run r;
	double t0;
	int rc;

	(void)state;
	plant("127.0.0.2", -10);
	snprintf(saved, sizeof(saved), "%s", h_env("SENDWRAP", "./sendwrap"));
	if (getuid() == 0) {
		snprintf(sw, sizeof(sw), "%s/sendwrap", tmpdir);
		snprintf(fake, sizeof(fake), "%s/fakemta", tmpdir);
		copy_exe(saved, sw);
		copy_exe(mta, fake);
		m = fake;
		setenv("SENDWRAP", sw, 1);
		assert_int_equal(chown(cache, NOBODY, NOBODY), 0);
		h_child_setup = become_nobody;
	}
	assert_int_equal(chmod(cache, 0500), 0);
	t0 = h_now();
	rc = h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-c", cache, "-A", "127.0.0.2 0.5", "--", m));
	h_child_setup = NULL;
	setenv("SENDWRAP", saved, 1);
	assert_int_equal(rc, 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta ", 12) == 0);
	assert_true(h_now() - t0 >= 0.5);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	chmod(cache, 0700);
	assert_non_null(strstr(r.log, ": is not writable: Permission "
	    "denied\n"));
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 "));
	assert_true(entry_age("127.0.0.2") >= 10);	/* not touched */
}

static void
test_a_planted_symlink_is_not_a_hit_and_not_followed(void **state)
{
	struct h_run r;
	char target[512], link[512], dirlink[512];
	struct stat st;
	double t0 = h_now();
	time_t before;

	(void)state;
	entry_path("target", target, sizeof(target));
	entry_path("127.0.0.2", link, sizeof(link));
	plant("target", -2 * DAY);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(lstat(target, &st), 0);
	before = st.st_mtime;
	connect_once(ARGS("-C", "31536000"), &r, 0);	/* target "fresh" */
	assert_true(h_now() - t0 >= 0.3);
	assert_non_null(strstr(r.log, "/127.0.0.2: is not a regular file; "
	    "ignored\n"));
	assert_non_null(strstr(r.log, "/127.0.0.2: is not a regular file; "
	    "left alone\n"));
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 "));
	assert_int_equal(lstat(target, &st), 0);
	assert_int_equal(st.st_mtime, before);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_true(h_mta_ran());

	/* The cache directory itself given as a symlink is refused. */
	assert_int_equal(unlink(link), 0);
	plant("127.0.0.2", 0);
	snprintf(dirlink, sizeof(dirlink), "%s-link", cache);
	assert_int_equal(symlink(cache, dirlink), 0);
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-c", dirlink, "-A", "127.0.0.2 0.3", "--", mta)), 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	unlink(dirlink);
	assert_non_null(strstr(r.log, "-link: is a symbolic link"));
	assert_non_null(strstr(r.log, "hangup ip=127.0.0.2 "));
}

static void
test_two_peers_passing_at_once_leave_one_entry(void **state)
{
	struct h_run a, b, c;
	char line[600], p[512];
	struct stat st;

	(void)state;
	assert_int_equal(h_start(&a, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-c", cache, "-A", "127.0.0.2 0.5", "--", mta)), 0);
	assert_int_equal(h_start(&b, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-c", cache, "-A", "127.0.0.2 0.5", "--", mta)), 0);
	assert_true(h_read_line(a.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta ", 12) == 0);
	assert_true(h_read_line(b.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta ", 12) == 0);
	assert_int_equal(h_finish(&a, FINISH_MS), 0);
	assert_int_equal(h_finish(&b, FINISH_MS), 0);
	assert_non_null(strstr(a.log, "pass ip=127.0.0.2 "));
	assert_non_null(strstr(b.log, "pass ip=127.0.0.2 "));
	assert_int_equal(h_log_lines(&a), 1);	/* no cache problem */
	assert_int_equal(h_log_lines(&b), 1);
	assert_int_equal(cd_count(cache), 1);
	entry_path("127.0.0.2", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	connect_once(ARGS(NULL), &c, 0);
	assert_non_null(strstr(c.log, "cached ip=127.0.0.2 "));
}

/* ---- -P, -q and -t with a cache ---- */

static void
test_prune_removes_expired_entries_for_cron(void **state)
{
	char out[OUT_MAX], p[512];

	(void)state;
	plant("192.0.2.1", -60);
	plant("192.0.2.2", -2 * DAY);
	plant("192.0.2.3", DAY);		/* in the future */
	plant("2001:db8::1", -2 * DAY);
	plant("notes", -2 * DAY);		/* not an entry */
	assert_int_equal(run_cmd(ARGS("-c", cache, "-P"), out, sizeof(out)),
	    0);
	assert_string_equal(out, "");		/* quiet for cron */
	assert_true(entry_age("192.0.2.1") >= 0);
	assert_int_equal(entry_age("192.0.2.2"), -1);
	assert_int_equal(entry_age("192.0.2.3"), -1);
	assert_int_equal(entry_age("2001:db8::1"), -1);
	assert_true(entry_age("notes") >= 0);

	plant("192.0.2.2", -120);
	assert_int_equal(run_cmd(ARGS("-c", cache, "-C", "100", "-v", "-P"),
	    out, sizeof(out)), 0);
	assert_non_null(strstr(out, ": 2 entries, 1 expired and removed\n"));
	assert_int_equal(entry_age("192.0.2.2"), -1);

	entry_path("192.0.2.9", p, sizeof(p));
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(run_cmd(ARGS("-c", cache, "-P"), out, sizeof(out)),
	    EX_IOERR);
	assert_non_null(strstr(out, "/192.0.2.9: is not a regular file; "
	    "left alone\n"));

	assert_int_equal(run_cmd(ARGS("-P"), out, sizeof(out)), EX_USAGE);
	assert_non_null(strstr(out, "-P needs a pass cache directory"));
	assert_int_equal(run_cmd(ARGS("-c", "/nonexistent/sendwrap", "-P"),
	    out, sizeof(out)), EX_CONFIG);
	assert_non_null(strstr(out, "cannot open: No such file"));
	assert_int_equal(run_cmd(ARGS("-c", cache, "-t", "-P"), out,
	    sizeof(out)), EX_USAGE);
}

static void
test_query_and_check_see_the_cache(void **state)
{
	char out[OUT_MAX];

	(void)state;
	plant("192.0.2.1", -100);
	assert_int_equal(run_cmd(ARGS("-q", "192.0.2.1", "-A", "10.0.0.0/8",
	    "-c", cache, "--", mta), out, sizeof(out)), 0);
	assert_non_null(strstr(out, "cached ip=192.0.2.1 delay=0.000 age=10"));
	assert_int_equal(run_cmd(ARGS("-q", "192.0.2.1", "-A", "10.0.0.0/8",
	    "-c", cache, "-C", "60", "--", mta), out, sizeof(out)), 0);
	assert_string_equal(out, "delay ip=192.0.2.1 delay=35.000 "
	    "key=192.0.2.1\n");
	assert_int_equal(run_cmd(ARGS("-t", "-A", "10.0.0.0/8", "-c", cache,
	    "--", mta), out, sizeof(out)), 0);
	assert_int_equal(chmod(cache, 0777), 0);
	assert_int_equal(run_cmd(ARGS("-t", "-A", "10.0.0.0/8", "-c", cache,
	    "--", mta), out, sizeof(out)), EX_CONFIG);
	assert_non_null(strstr(out, "is writable by group or others"));
	assert_int_equal(run_cmd(ARGS("-t", "-A", "10.0.0.0/8", "-C", "60",
	    "--", mta), out, sizeof(out)), EX_CONFIG);
	assert_non_null(strstr(out, "-C needs a pass cache directory"));
	assert_int_equal(run_cmd(ARGS("-t", "-A", "10.0.0.0/8", "-c", cache,
	    "-C", "1d", "--", mta), out, sizeof(out)), EX_CONFIG);
	assert_non_null(strstr(out, "-C: ttl \"1d\" is not a whole number"));
}

/* What a person typed is shown escaped and cut, never raw. */
static void
test_query_echoes_a_bad_address_escaped(void **state)
{
	char out[OUT_MAX], arg[200];

	(void)state;
	memset(arg, 'x', sizeof(arg) - 1);
	arg[sizeof(arg) - 1] = '\0';
	memcpy(arg, "a\nb\x1b[2J", 7);
	assert_int_equal(run_cmd(ARGS("-q", arg, "--", mta), out, sizeof(out)),
	    EX_USAGE);
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "sendwrap: -q: \"a\\nb\\x1b[2Jxxx"));
	assert_non_null(strstr(out, "xxx...\" is not an IPv4 or IPv6 "
	    "address\n"));
	assert_int_equal(strchr(out, '\n') - out, (long)strlen(out) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_teaser_comes_at_once_and_the_mta_greeting_completes_it),
		T(test_teaser_answered_at_once_is_early_and_dropped),
		T(test_teaser_then_tempfail_ends_the_greeting_before_421),
		T(test_teaser_then_reject_ends_the_greeting_before_554),
		T(test_teaser_then_log_lets_the_mta_complete_the_greeting),
		T(test_teaser_then_sigterm_ends_the_greeting_before_421),
		T(test_allowlisted_peer_gets_no_teaser),
		T(test_bad_teaser_at_run_time_gives_421_and_no_teaser),
		T(test_check_mode_judges_the_teaser_text),
		T(test_a_pass_is_remembered_and_the_next_connection_skips_the_wait),
		T(test_an_expired_entry_means_the_full_delay_and_a_fresh_pass),
		T(test_an_early_talker_loses_its_entry),
		T(test_a_peer_that_leaves_or_is_allowlisted_is_not_written),
		T(test_entries_are_named_by_the_address_text),
		T(test_a_pass_whose_exec_fails_is_taken_back),
		T(test_a_missing_cache_means_the_full_delay_and_mail_still_flows),
		T(test_a_loose_cache_is_not_trusted),
		T(test_a_read_only_cache_means_the_full_delay_and_mail_still_flows),
		T(test_a_planted_symlink_is_not_a_hit_and_not_followed),
		T(test_two_peers_passing_at_once_leave_one_entry),
		T(test_prune_removes_expired_entries_for_cron),
		T(test_query_and_check_see_the_cache),
		T(test_query_echoes_a_bad_address_escaped),
#undef T
	};
	int rc;

	mta = h_fakemta();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sendwrap-greet-cache.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	/* As root, one test runs sendwrap as nobody: it must reach in. */
	chmod(tmpdir, 0711);
	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests_name("sendwrap teaser and pass cache",
	    tests, NULL, NULL);
	cd_remove_tree(tmpdir);
	return rc;
}
