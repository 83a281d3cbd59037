/*
 * test_valgrind.c - the real sendwrap binary under valgrind's memcheck,
 * one run for each shape a connection's life can take.
 *
 * SENDWRAP names the binary to check (a build without sanitizers);
 * each run goes through a small script that execs
 *   valgrind --error-exitcode=99 --leak-check=full --trace-children=no
 * with its report in an XML file named for the pid.  A run that ends
 * in sendwrap itself must exit with its own status, not 99.  A run that
 * execs the program ends valgrind there, before any leak check, so its
 * report is read instead: it must exist and hold no <error>.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sysexits.h>

#include "harness.h"

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })
#define VG_MS		20000	/* valgrind starts slowly */
#define VG_ERROR	99

static const char *mta;
static char tmpdir[128];
static char wrapper[256];
static char badlist[256];
static char garbage[256];

/* The run's valgrind report exists and records no error. */
static void
expect_clean_report(pid_t pid)
{
	char path[256], buf[65536];
	ssize_t n;
	size_t len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/vg.%ld.xml", tmpdir, (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		print_error("no valgrind report %s\n", path);
	assert_true(fd != -1);
	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	assert_non_null(strstr(buf, "<tool>memcheck</tool>"));
	if (strstr(buf, "<error>") != NULL)
		print_error("%s\n", buf);
	assert_null(strstr(buf, "<error>"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/vg.%ld.log", tmpdir, (long)pid);
	unlink(path);
}

/* A connection shape: what the peer sends, what it reads, the status. */
static void
run_shape(const char *const *args, enum h_stderr mode, const char *early,
    int hangup, const char *want, int status)
{
	struct h_run r;
	char line[512];

	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", mode, args), 0);
	if (early != NULL)
		assert_int_equal(write(r.client, early, strlen(early)),
		    (ssize_t)strlen(early));
	if (hangup)
		shutdown(r.client, SHUT_WR);
	h_read_line(r.client, line, sizeof(line), VG_MS);
	if (strncmp(line, want, strlen(want)) != 0)
		print_error("wanted \"%s\", got \"%s\"\n", want, line);
	assert_true(strncmp(line, want, strlen(want)) == 0);
	if (want[0] == '\0')
		assert_string_equal(line, "");
	assert_int_equal(h_finish(&r, VG_MS), status << 8);
	if (mode == H_STDERR_PIPE)	/* sendwrap's own log */
		assert_true(h_log_lines(&r) >= 1);
	expect_clean_report(r.pid);
}

static void
test_allowlisted_peer(void **state)
{
	(void)state;
	run_shape(ARGS("-s", "-v", "--", mta), H_STDERR_PIPE, NULL, 0,
	    "220 fakemta", 0);
}

static void
test_silent_peer_with_a_bad_list(void **state)
{
	(void)state;
	run_shape(ARGS("-s", "-v", "-d", "0.3", "-a", badlist, "-a", tmpdir,
	    "-A", "127.0.0.2 0.3", "--", mta), H_STDERR_PIPE, NULL, 0,
	    "220 fakemta", 0);
}

static void
test_early_talker_dropped(void **state)
{
	(void)state;
	run_shape(ARGS("-s", "-A", "127.0.0.2 3", "--", mta), H_STDERR_PIPE,
	    "EHLO x\r\n", 0, "", 0);
}

static void
test_early_talker_rejected_under_inetd(void **state)
{
	(void)state;
	run_shape(ARGS("-s", "-e", "reject", "-A", "127.0.0.2 3", "--", mta),
	    H_STDERR_SOCKET, "EHLO \xff\r\n", 0, "554 5.5.0 ", 0);
}

static void
test_early_talker_logged_and_passed(void **state)
{
	(void)state;
	run_shape(ARGS("-s", "-e", "log", "-A", "127.0.0.2 3", "--", mta),
	    H_STDERR_PIPE, "EHLO x\r\n", 0, "220 fakemta", 0);
}

static void
test_peer_hangs_up(void **state)
{
	(void)state;
	run_shape(ARGS("-s", "-A", "127.0.0.2 3", "--", mta), H_STDERR_PIPE,
	    NULL, 1, "", 0);
}

static void
test_bad_options(void **state)
{
	(void)state;
	run_shape(ARGS("-s", "-d", "nan", "-e", "x", "-Z", "--", mta),
	    H_STDERR_PIPE, NULL, 0, "421 4.3.5 ", EX_USAGE);
}

static void
test_missing_program(void **state)
{
	(void)state;
	run_shape(ARGS("-s", "--", "/nonexistent/mta"), H_STDERR_PIPE, NULL, 0,
	    "421 4.3.0 ", EX_OSERR);
}

static void
test_program_that_cannot_be_executed(void **state)
{
	(void)state;
	run_shape(ARGS("-s", "-A", "127.0.0.2 0.2", "--", garbage),
	    H_STDERR_PIPE, NULL, 0, "421 4.3.0 ", EX_OSERR);
}

/* -t, -q and -h: no connection, a person reads the output. */
static void
run_tool(const char *const *args, int status)
{
	struct h_run r;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	assert_true(null != -1);
	assert_int_equal(h_spawn(&r, null, null, H_STDERR_PIPE, args), 0);
	close(null);
	assert_int_equal(h_finish(&r, VG_MS), status << 8);
	expect_clean_report(r.pid);
}

static void
test_check_and_query_and_help(void **state)
{
	(void)state;
	run_tool(ARGS("-t", "-v", "-a", badlist, "-A", "junk", "--", mta),
	    EX_CONFIG);
	run_tool(ARGS("-q", "192.0.2.1", "-A", "192.0.2.0/24 5", "--", mta), 0);
	run_tool(ARGS("-q", "not-an-address", "--", mta), EX_USAGE);
	run_tool(ARGS("-h"), 0);
}

static void
test_local_stdin(void **state)
{
	struct h_run r;
	char line[512];
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(h_spawn(&r, sv[1], sv[1], H_STDERR_PIPE,
	    ARGS("-s", "--", mta)), 0);
	close(sv[1]);
	assert_true(h_read_line(sv[0], line, sizeof(line), VG_MS) > 0);
	assert_true(strncmp(line, "220 fakemta", 11) == 0);
	close(sv[0]);
	assert_int_equal(h_finish(&r, VG_MS), 0);
	expect_clean_report(r.pid);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd != -1) {
		if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
			perror(path);
		close(fd);
	}
}

static int
group_setup(void **state)
{
	const char *real = h_env("SENDWRAP", "build/plain/sendwrap");
	char script[1024];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sendwrap-valgrind.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(wrapper, sizeof(wrapper), "%s/sendwrap", tmpdir);
	snprintf(script, sizeof(script), "#!/bin/sh\n"
	    "exec valgrind -q --error-exitcode=%d --leak-check=full "
	    "--trace-children=no --xml=yes --xml-file=%s/vg.%%p.xml "
	    "--log-file=%s/vg.%%p.log %s \"$@\"\n", VG_ERROR, tmpdir, tmpdir,
	    real);
	write_file(wrapper, script, 0755);
	setenv("SENDWRAP", wrapper, 1);
	snprintf(badlist, sizeof(badlist), "%s/bad.allow", tmpdir);
	write_file(badlist, "10.0.0.0/33\n10.0.0.1/24 5\njunk\n"
	    "192.0.2.1 1e9\n", 0644);
	snprintf(garbage, sizeof(garbage), "%s/not-a-binary", tmpdir);
	write_file(garbage, "this is not a program\n", 0755);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	/* The reports left are those of failed runs: keep them to read. */
	unlink(wrapper);
	unlink(badlist);
	unlink(garbage);
	if (rmdir(tmpdir) == -1)
		fprintf(stderr, "valgrind reports kept in %s\n", tmpdir);
	return 0;
}

static int
have_valgrind(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(null, 1);
		dup2(null, 2);
		execlp("valgrind", "valgrind", "--version", (char *)NULL);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, h_cleanup)
		T(test_allowlisted_peer),
		T(test_silent_peer_with_a_bad_list),
		T(test_early_talker_dropped),
		T(test_early_talker_rejected_under_inetd),
		T(test_early_talker_logged_and_passed),
		T(test_peer_hangs_up),
		T(test_bad_options),
		T(test_missing_program),
		T(test_program_that_cannot_be_executed),
		T(test_check_and_query_and_help),
		T(test_local_stdin),
#undef T
	};

	mta = h_fakemta();
	if (!have_valgrind()) {
		printf("SKIP: valgrind is not installed\n");
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("sendwrap under valgrind", tests,
	    group_setup, group_teardown);
}
