/*
 * test_faults.c - the real sendwrap binary against faults and hostile
 * peers: a program or an allowlist that cannot be used, no syslog
 * socket, peers that reset, leave, flood or talk at the last moment,
 * signals while waiting, odd things on fd 0, hostile command lines and
 * descriptors leaked by the launcher.
 *
 * The promise tested throughout: sendwrap never crashes or hangs, never
 * puts anything but SMTP reply lines on the connection, never lets an
 * early talker reach the program, and never loses a peer that waited.
 * Bounds on time are generous upper bounds or plain lower bounds, so a
 * slow machine does not fail a test.
 */
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/capability.h>
#include <sched.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sysexits.h>

#define H_ARGV_MAX	16384	/* thousands of -A entries */
#include "harness.h"

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })
#define SOON_MS		3000	/* "at once", generously */
#define FINISH_MS	5000
#define LONG_ARG	100000	/* below Linux's 128 KiB per argument */

static const char *mta;
static char tmpdir[128];
static char noexec[256];	/* a script without an x bit */
static char garbage[256];	/* executable, but no exec header */
static char unreadable[256];	/* an allowlist with mode 000 */
static char fifo[256];		/* a FIFO nobody writes */
static char empty[256];		/* to mount over /dev/log */

/* The MTA's own record of its run, "" if it did not run. */
static const char *
mta_record(void)
{
	static char buf[512];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	if ((fd = open(h_mark, O_RDONLY | O_CLOEXEC)) == -1)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	return buf;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

/*
 * What came over the wire is nothing but SMTP reply lines: a code,
 * a space or a hyphen, printable text, CRLF; and no log text.
 */
static void
expect_only_replies(const char *buf, size_t len, int max_lines)
{
	size_t i = 0;
	int lines = 0;

	assert_int_equal(strlen(buf), len);	/* no NUL byte */
	while (i < len) {
		const char *line = buf + i, *eol = strstr(line, "\r\n");
		size_t n, j;

		assert_non_null(eol);
		n = (size_t)(eol - line);
		assert_true(n >= 4);
		assert_true(line[0] >= '2' && line[0] <= '5');
		assert_true(line[1] >= '0' && line[1] <= '9');
		assert_true(line[2] >= '0' && line[2] <= '9');
		assert_true(line[3] == ' ' || line[3] == '-');
		for (j = 0; j < n; j++)
			assert_true(line[j] >= 0x20 && line[j] < 0x7f);
		lines++;
		i += n + 2;
	}
	assert_true(lines <= max_lines);
	assert_null(strstr(buf, "sendwrap["));
	assert_null(strstr(buf, "usage"));
}

static int
setup(void **state)
{
	(void)state;
	unlink(h_mark);
	h_child_setup = NULL;
	return 0;
}

static int
teardown(void **state)
{
	h_child_setup = NULL;
	return h_cleanup(state);
}

/* ---- the program cannot run ---- */

static void
expect_program_refused(const char *prog, const char *why)
{
	struct h_run r;
	char line[512];

	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 5", "--", prog, "-bs")), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.0 ", 10) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), EX_OSERR << 8);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "error ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, prog));
	assert_non_null(strstr(r.log, why));
	assert_false(h_mta_ran());
}

static void
test_program_without_execute_permission_gives_421_at_once(void **state)
{
	(void)state;
	expect_program_refused(noexec, "Permission denied");
}

static void
test_program_that_is_a_directory_gives_421_at_once(void **state)
{
	(void)state;
	expect_program_refused(tmpdir, "Permission denied");
}

/* ---- an allowlist cannot be used ---- */

/*
 * Root reads a mode 000 file all the same, so the child gives up the
 * two capabilities that let it; the exec'd sendwrap cannot get them
 * back, as the bounding set limits what exec grants.
 */
static void
drop_file_read_override(void)
{
	if (geteuid() != 0)
		return;
	if (prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) == -1 ||
	    prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0) == -1)
		_exit(126);
}

/* Whether a child set up by drop_file_read_override() cannot read path. */
static int
unreadable_in_child(const char *path)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		int fd;

		drop_file_read_override();
		if (geteuid() == 0)	/* the drop applies after an exec */
			execl("/bin/sh", "sh", "-c",
			    "exec 2>/dev/null 3<\"$0\"", path, (char *)NULL);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		_exit(fd == -1 ? 1 : 0);
	}
	if (pid == -1 || waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
	    WEXITSTATUS(status) != 126;
}

/*
 * A list that cannot be read might have carved a delayed subnet out of
 * what another source allows (here all of 127.0.0.0/8): the allowlist
 * is not trusted, so the peer waits the longest delay named (-d 0.4),
 * the problem is logged, and its mail still goes through.
 */
static void
expect_list_refused_and_delay_applied(const char *list, const char *why)
{
	char line[512], want[512];
	struct h_run r;
	double t0 = h_now();

	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-d", "0.4", "-A", "127.0.0.0/8", "-a", list, "--",
	    mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_now() - t0 >= 0.4);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	snprintf(want, sizeof(want), "%s: %s", list, why);
	assert_non_null(strstr(r.log, want));
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, " delay=0.400 allowlist=untrusted\n"));
	assert_true(h_mta_ran());
}

static void
test_unreadable_allowlist_is_reported_and_the_delay_applies(void **state)
{
	(void)state;
	if (!unreadable_in_child(unreadable)) {
		print_message("SKIP: cannot make a file unreadable here "
		    "(no way to drop CAP_DAC_OVERRIDE)\n");
		skip();
	}
	h_child_setup = drop_file_read_override;
	expect_list_refused_and_delay_applied(unreadable,
	    "cannot open: Permission denied");
}

static void
test_allowlist_that_is_a_directory_is_reported_and_the_delay_applies(
    void **state)
{
	(void)state;
	expect_list_refused_and_delay_applied(tmpdir, "is a directory");
}

/* A list that never ends must not hold the connection. */
static void
test_allowlist_that_is_a_device_or_fifo_does_not_hang(void **state)
{
	(void)state;
	expect_list_refused_and_delay_applied("/dev/zero",
	    "is not a regular file");
	unlink(h_mark);
	expect_list_refused_and_delay_applied(fifo, "is not a regular file");
}

/* tmpdir/big.allow: lines host entries in 10/8, then last. */
static void
write_big_list(char *path, size_t size, long lines, const char *last)
{
	FILE *f;
	long i;

	snprintf(path, size, "%s/big.allow", tmpdir);
	assert_non_null(f = fopen(path, "we"));
	for (i = 0; i < lines; i++)
		fprintf(f, "10.%ld.%ld.%ld/32 1\n", i >> 16, (i >> 8) & 255,
		    i & 255);
	fputs(last, f);
	assert_int_equal(fclose(f), 0);
}

static void
test_million_line_allowlist_is_scanned_to_its_last_line(void **state)
{
	enum { LINES = 1000000 };
	char path[256], line[512], want[512];
	struct h_run r;
	int status;

	(void)state;
	write_big_list(path, sizeof(path), LINES, "127.0.0.2 0.2\n");
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-v", "-a", path, "--", mta)), 0);
	h_read_line(r.client, line, sizeof(line), 30000);
	status = h_finish(&r, FINISH_MS);
	unlink(path);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
	assert_int_equal(status, 0);
	snprintf(want, sizeof(want), " delay=0.200 rule=%s:%d\n", path,
	    LINES + 1);
	assert_non_null(strstr(r.log, want));
	assert_non_null(strstr(r.log, "1000001 allowlist entries scanned"));
}

/* ---- no syslog ---- */

/*
 * Make /dev/log unusable for this child only: a private mount namespace
 * with an empty file over it.  Nothing else on the machine notices.
 */
static void
hide_dev_log(void)
{
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount(empty, "/dev/log", NULL, MS_BIND, NULL) == -1)
		_exit(126);
}

static int
syslog_reachable(void)
{
	struct sockaddr_un sun;
	int s, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "/dev/log");
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	ok = connect(s, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(s);
	return ok;
}

/* Whether hide_dev_log() works here and leaves no syslog socket. */
static int
can_hide_dev_log(void)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		hide_dev_log();
		_exit(syslog_reachable() ? 1 : 0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
test_without_a_syslog_socket_mail_still_flows(void **state)
{
	struct h_run r;
	char line[512], buf[4096];
	double t0;

	(void)state;
	if (access("/dev/log", F_OK) == 0) {
		if (!can_hide_dev_log()) {
			print_message("SKIP: /dev/log exists and cannot be "
			    "hidden (no private mount namespace)\n");
			skip();
		}
		h_child_setup = hide_dev_log;
	}
	/* Logging to syslog: no -s, fd 2 a pipe that must stay empty. */
	t0 = h_now();
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-v", "-d", "0.3", "-A", "127.0.0.2 0.3", "-A", "junk", "--",
	    mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_now() - t0 >= 0.3);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(r.loglen, 0);
	assert_true(h_mta_ran());

	/* An early talker is still turned away, with only the reply. */
	unlink(h_mark);
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_SOCKET,
	    ARGS("-e", "reject", "-A", "127.0.0.2 2", "--", mta)), 0);
	assert_int_equal(write(r.client, "EHLO x\r\n", 8), 8);
	h_read_all(r.client, buf, sizeof(buf), SOON_MS);
	assert_true(strncmp(buf, "554 5.5.0 ", 10) == 0);
	expect_only_replies(buf, strlen(buf), 1);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_false(h_mta_ran());
}

/* ---- hostile peers ---- */

static void
test_peer_reset_during_the_wait_is_a_hangup(void **state)
{
	struct linger lg = { 1, 0 };
	struct h_run r;
	double t0;

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 5", "--", mta)), 0);
	usleep(200000);
	assert_int_equal(setsockopt(r.client, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	t0 = h_now();
	assert_int_equal(h_finish(&r, FINISH_MS), 0);	/* closes: a RST */
	assert_true(h_now() - t0 < 2.0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "hangup ip=127.0.0.2 "));
	assert_non_null(strstr(r.log, " reason=reset rule=-A:1\n"));
	assert_false(h_mta_ran());
}

static void
test_peer_closing_half_way_through_the_wait_is_noticed_at_once(void **state)
{
	struct h_run r;
	const char *after;
	double t0;

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 2", "--", mta)), 0);
	usleep(1000000);
	t0 = h_now();
	assert_int_equal(h_finish(&r, FINISH_MS), 0);	/* closes */
	assert_true(h_now() - t0 < 0.9);	/* not at the 2 s deadline */
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "hangup ip=127.0.0.2 "));
	assert_non_null(after = strstr(r.log, " delay=2.000 after="));
	assert_true(strtod(after + 19, NULL) >= 0.9);
	assert_non_null(strstr(r.log, " reason=eof rule=-A:1\n"));
	assert_false(h_mta_ran());
}

static void
test_peer_gone_before_sendwrap_starts_is_a_hangup(void **state)
{
	struct linger lg = { 1, 0 };
	struct h_run r;
	int client, server;

	(void)state;
	assert_int_equal(h_connect("127.0.0.2", "127.0.0.1", &client,
	    &server), 0);
	setsockopt(client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(client);
	usleep(50000);
	assert_int_equal(h_spawn(&r, server, server, H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 5", "--", mta)), 0);
	close(server);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "hangup reason=gone\n"));
	assert_false(h_mta_ran());
}

static void
test_one_byte_just_before_the_delay_ends_is_an_early_talker(void **state)
{
	struct h_run r;
	char line[512];
	const char *after;

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-e", "tempfail", "-A", "127.0.0.2 1", "--", mta)), 0);
	usleep(800000);
	assert_int_equal(write(r.client, "E", 1), 1);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.5.0 ", 10) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "early ip=127.0.0.2 "));
	assert_non_null(after = strstr(r.log, " after="));
	assert_true(strtod(after + 7, NULL) >= 0.75);
	assert_non_null(strstr(r.log,
	    " bytes=1 data=\"E\" action=tempfail rule=-A:1\n"));
	assert_false(h_mta_ran());
}

/*
 * Send up to total bytes while reading what comes back, until the peer
 * closes or timeout_ms passes.  Returns what was read.
 */
static size_t
flood(int fd, size_t total, char *reply, size_t size, int timeout_ms)
{
	static char junk[65536];
	double end = h_now() + timeout_ms / 1000.0;
	size_t sent = 0, got = 0;

	memset(junk, 'x', sizeof(junk));
	reply[0] = '\0';
	while (h_now() < end && got < size - 1) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;

		if (sent < total)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (pfd.revents & POLLIN) {
			n = recv(fd, reply + got, size - 1 - got, MSG_DONTWAIT);
			if (n <= 0)
				break;
			got += (size_t)n;
			reply[got] = '\0';
		}
		if ((pfd.revents & POLLOUT) && sent < total) {
			size_t k = total - sent < sizeof(junk) ?
			    total - sent : sizeof(junk);

			n = send(fd, junk, k, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (errno != EAGAIN)
				break;
		}
		if (pfd.revents & (POLLERR | POLLHUP))
			break;
	}
	return got;
}

static void
test_one_megabyte_at_once_is_turned_away_in_bounded_time(void **state)
{
	struct h_run r;
	char reply[4096], want[80];
	double t0 = h_now();

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-e", "reject", "-A", "127.0.0.2 2", "--", mta)), 0);
	flood(r.client, 1 << 20, reply, sizeof(reply), 8000);
	assert_true(strncmp(reply, "554 5.5.0 ", 10) == 0);
	expect_only_replies(reply, strlen(reply), 1);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_true(h_now() - t0 < 6.0);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "early ip=127.0.0.2 "));
	memset(want, 'x', 64);
	snprintf(want + 64, sizeof(want) - 64, "\" action=reject");
	/* The first 64 bytes are shown, and no more. */
	assert_non_null(strstr(r.log, want));
	assert_false(h_mta_ran());
}

static void
test_peer_that_never_stops_sending_is_turned_away_in_bounded_time(
    void **state)
{
	struct h_run r;
	char reply[4096];
	pid_t writer;
	double t0 = h_now();

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-e", "tempfail", "-A", "127.0.0.2 2", "--", mta)), 0);
	/* A second process keeps the pipe full for up to 10 s. */
	if ((writer = fork()) == 0) {
		static char junk[65536];
		double end = h_now() + 10.0;

		memset(junk, 'y', sizeof(junk));
		while (h_now() < end &&
		    send(r.client, junk, sizeof(junk), MSG_NOSIGNAL) > 0)
			;
		_exit(0);
	}
	assert_true(writer > 0);
	if (h_npids < H_PIDS_MAX)
		h_pids[h_npids++] = writer;
	h_read_all(r.client, reply, sizeof(reply), 8000);
	assert_int_equal(h_finish(&r, 8000), 0);
	assert_true(h_now() - t0 < 7.0);
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);
	assert_true(strncmp(reply, "421 4.5.0 ", 10) == 0);
	assert_non_null(strstr(r.log, " action=tempfail"));
	assert_false(h_mta_ran());
}

/* A peer that waited is handed over whole: every line reaches the MTA. */
static void
test_patient_peer_conversation_reaches_the_mta_intact(void **state)
{
	static const char talk[] = "EHLO client.example\r\n"
	    "MAIL FROM:<a@example.org>\r\nQUIT\r\n";
	struct h_run r;
	char line[512];

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 0.3", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
	assert_int_equal(write(r.client, talk, sizeof(talk) - 1),
	    (ssize_t)sizeof(talk) - 1);
	h_read_line(r.client, line, sizeof(line), SOON_MS);
	assert_string_equal(line, "250 got EHLO client.example\r\n");
	h_read_line(r.client, line, sizeof(line), SOON_MS);
	assert_string_equal(line, "250 got MAIL FROM:<a@example.org>\r\n");
	h_read_line(r.client, line, sizeof(line), SOON_MS);
	assert_string_equal(line, "221 fakemta bye\r\n");
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
}

/* ---- signals while waiting ---- */

/* What the launcher set up before starting sendwrap, for the tests. */
static int launcher_blocks = 0, launcher_ignores = 0, launcher_alarm = 0;

/*
 * A launcher that leaves every signal at its default (the test runner
 * may have been started with some ignored), then does what the test
 * asks: block one, ignore some, or leave an alarm running.
 */
static void
odd_launcher(void)
{
	sigset_t set;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&set);
	if (launcher_blocks)
		sigaddset(&set, launcher_blocks);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (launcher_ignores) {
		signal(launcher_ignores, SIG_IGN);
		signal(SIGUSR1, SIG_IGN);
	}
	if (launcher_alarm)
		alarm((unsigned)launcher_alarm);
}

/*
 * A signal while the peer waits: the peer hears 421 4.3.2 and one line
 * says which signal, whatever the launcher left behind; the program
 * never runs.
 */
static void
expect_signal_stops_the_wait(int sig, const char *name)
{
	struct h_run r;
	char line[512], want[64];

	unlink(h_mark);
	h_child_setup = odd_launcher;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 5", "--", mta)), 0);
	usleep(300000);
	kill(r.pid, sig);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	if (strncmp(line, "421 4.3.2 ", 10) != 0)
		print_error("SIG%s: got \"%s\"\n", name, line);
	assert_true(strncmp(line, "421 4.3.2 ", 10) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	snprintf(want, sizeof(want), " signal=%s rule=-A:1\n", name);
	assert_non_null(strstr(r.log, want));
	assert_non_null(strstr(r.log, "shutdown ip=127.0.0.2 port="));
	assert_int_equal(h_log_lines(&r), 1);
	assert_false(h_mta_ran());
}

/* Every catchable signal whose default action ends the process. */
static void
test_every_ending_signal_while_waiting_gives_421_and_one_line(void **state)
{
	static const struct {
		int		 sig;
		const char	*name;
	} sigs[] = {
		{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
		{ SIGUSR1, "USR1" }, { SIGUSR2, "USR2" }, { SIGALRM, "ALRM" },
		{ SIGTERM, "TERM" }, { SIGVTALRM, "VTALRM" },
		{ SIGPROF, "PROF" }, { SIGXCPU, "XCPU" }, { SIGXFSZ, "XFSZ" },
		{ SIGIO, "IO" }, { SIGPWR, "PWR" }, { SIGSTKFLT, "STKFLT" },
	};
	char rt[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		expect_signal_stops_the_wait(sigs[i].sig, sigs[i].name);
	snprintf(rt, sizeof(rt), "RTMIN+%d", 3);
	expect_signal_stops_the_wait(SIGRTMIN + 3, rt);
}

static unsigned long long
bit(int sig)
{
	return 1ull << (sig - 1);
}

/* The blocked= or ignored= set in the program's record, as a number. */
static unsigned long long
record_set(const char *key)
{
	const char *p = strstr(mta_record(), key);

	assert_non_null(p);
	return strtoull(p + strlen(key), NULL, 16);
}

/*
 * A launcher that blocks SIGTERM: the wait still hears it; and the
 * program still starts with SIGTERM blocked, as the launcher wanted.
 */
static void
test_a_launcher_that_blocks_sigterm_still_stops_the_wait(void **state)
{
	struct h_run r;
	char line[512];

	(void)state;
	launcher_blocks = SIGTERM;
	h_child_setup = odd_launcher;
	expect_signal_stops_the_wait(SIGTERM, "TERM");
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 0.2", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_int_equal(record_set("blocked="), bit(SIGTERM));
	launcher_blocks = 0;
}

/*
 * Signals the launcher ignored stay ignored: not events while waiting,
 * and still ignored in the program, on every path to it.  SIGPIPE,
 * which sendwrap ignores for itself, is the launcher's again.
 */
static void
test_ignored_signals_stay_ignored_and_reach_the_program_unchanged(
    void **state)
{
	const char *const *paths[] = {
		ARGS("-s", "--", mta),				/* allow */
		ARGS("-s", "-A", "127.0.0.2 0.5", "--", mta),	/* pass */
		ARGS("-s", "-e", "log", "-A", "127.0.0.2 2", "--", mta),
	};
	struct h_run r;
	char line[512];
	size_t i;

	(void)state;
	launcher_ignores = SIGHUP;
	h_child_setup = odd_launcher;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		unlink(h_mark);
		assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1",
		    H_STDERR_PIPE, paths[i]), 0);
		if (i == 1) {
			usleep(100000);
			kill(r.pid, SIGHUP);	/* ignored: no event */
			kill(r.pid, SIGUSR1);
		}
		if (i == 2)
			assert_int_equal(write(r.client, "X\r\n", 3), 3);
		assert_true(h_read_line(r.client, line, sizeof(line),
		    SOON_MS) > 0);
		assert_true(strncmp(line, "220 fakemta ", 12) == 0);
		assert_int_equal(h_finish(&r, FINISH_MS), 0);
		assert_int_equal(record_set("ignored="),
		    bit(SIGHUP) | bit(SIGUSR1));
		assert_int_equal(record_set("blocked="), 0);
		assert_null(strstr(r.log, "shutdown"));
	}
	launcher_ignores = 0;
}

/* An alarm() the launcher left running ends the wait with a 421. */
static void
test_an_inherited_alarm_during_the_wait_gives_421(void **state)
{
	struct h_run r;
	char line[512];
	double t0 = h_now();

	(void)state;
	launcher_alarm = 1;
	h_child_setup = odd_launcher;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 4", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), 4000) > 0);
	assert_true(h_now() - t0 < 3.0);
	assert_true(strncmp(line, "421 4.3.2 ", 10) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, " signal=ALRM rule=-A:1\n"));
	assert_int_equal(h_log_lines(&r), 1);
	assert_false(h_mta_ran());
	launcher_alarm = 0;
}

/* Whether pid has path open: it has got that far. */
static int
has_open(pid_t pid, const char *path)
{
	char dir[64], link[128], target[512];
	int fd;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	for (fd = 0; fd < 64; fd++) {
		ssize_t n;

		snprintf(link, sizeof(link), "%s/%d", dir, fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) == 0)
			return 1;
	}
	return 0;
}

/*
 * SIGTERM before there is any wait, while a long allowlist is read: the
 * peer, allowlisted, still hears 421 rather than a silent close.
 */
static void
test_sigterm_during_the_allowlist_scan_gives_421(void **state)
{
	enum { LINES = 3000000 };
	char path[256], line[512];
	struct h_run r;
	double t0;

	(void)state;
	write_big_list(path, sizeof(path), LINES, "127.0.0.2\n");
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-a", path, "--", mta)), 0);
	t0 = h_now();
	while (!has_open(r.pid, path) && h_now() - t0 < 5.0)
		usleep(1000);
	kill(r.pid, SIGTERM);
	assert_true(h_read_line(r.client, line, sizeof(line), 30000) > 0);
	unlink(path);
	assert_true(strncmp(line, "421 4.3.2 ", 10) == 0);
	assert_int_equal(h_finish(&r, 30000), 0);
	assert_non_null(strstr(r.log, "shutdown ip=127.0.0.2 "));
	assert_non_null(strstr(r.log, " signal=TERM rule="));
	assert_null(strstr(r.log, "allow ip="));
	assert_false(h_mta_ran());
}

static void
test_sigstop_and_sigcont_neither_shorten_nor_lengthen_the_wait(void **state)
{
	struct h_run r;
	char line[512];
	double t0 = h_now(), t;

	(void)state;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 1.5", "--", mta)), 0);
	usleep(300000);
	kill(r.pid, SIGSTOP);
	usleep(800000);
	kill(r.pid, SIGCONT);
	assert_true(h_read_line(r.client, line, sizeof(line), 4000) > 0);
	t = h_now() - t0;
	assert_true(strncmp(line, "220 fakemta ", 12) == 0);
	if (t >= 2.2)
		print_error("greeting after %.3f s\n", t);
	assert_true(t >= 1.5);		/* not shortened */
	assert_true(t < 2.2);		/* not lengthened by the stop */
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "pass ip=127.0.0.2 "));
	assert_non_null(strstr(r.log, " delay=1.500 "));
}

/* ---- inetd: fd 2 is the connection ---- */

struct wire_case {
	const char		*what;
	const char *const	*args;
	const char		*early;	/* sent at once */
	int			 sig;	/* sent after 300 ms */
	int			 hangup; /* close the writing side */
	const char		*want;	/* how the reply starts */
};

static void
expect_wire_clean(const struct wire_case *w)
{
	struct h_run r;
	char buf[8192];
	size_t len;

	unlink(h_mark);
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_SOCKET,
	    w->args), 0);
	if (w->early != NULL)
		assert_int_equal(write(r.client, w->early, strlen(w->early)),
		    (ssize_t)strlen(w->early));
	if (w->sig != 0) {
		usleep(300000);
		kill(r.pid, w->sig);
	}
	if (w->hangup)
		shutdown(r.client, SHUT_WR);
	if (strncmp(w->want, "220 fakemta", 11) == 0) {
		ssize_t n = h_read_line(r.client, buf, sizeof(buf), SOON_MS);

		assert_true(n > 0);
		len = (size_t)n;
		assert_int_equal(write(r.client, "QUIT\r\n", 6), 6);
		len += h_read_all(r.client, buf + len, sizeof(buf) - len,
		    SOON_MS);
	} else
		len = h_read_all(r.client, buf, sizeof(buf), SOON_MS);
	if (strncmp(buf, w->want, strlen(w->want)) != 0)
		print_error("%s: got \"%s\"\n", w->what, buf);
	assert_true(strncmp(buf, w->want, strlen(w->want)) == 0);
	if (w->want[0] == '\0')
		assert_int_equal(len, 0);
	expect_only_replies(buf, len, 2);
	assert_true(h_finish(&r, FINISH_MS) != -1);
}

static void
test_inetd_mode_puts_only_reply_lines_on_the_wire_whatever_goes_wrong(
    void **state)
{
	char bad[16][16];
	const char *many[2 * 16 + 8];
	size_t i, n = 0;

	(void)state;
	many[n++] = "-s";
	many[n++] = "-v";
	many[n++] = "-d";
	many[n++] = "0.2";
	for (i = 0; i < 12; i++) {
		snprintf(bad[i], sizeof(bad[i]), "junk%zu", i);
		many[n++] = "-A";
		many[n++] = bad[i];
	}
	many[n++] = "-A";
	many[n++] = "127.0.0.2 0.2";
	many[n++] = "--";
	many[n++] = mta;
	many[n] = NULL;
	{
		const struct wire_case cases[] = {
		    { "unreadable list, -v", ARGS("-s", "-v", "-d", "0.2",
		      "-a", tmpdir, "-a", "/nonexistent", "-A", "127.0.0.2 0.2",
		      "--", mta),
		      NULL, 0, 0, "220 fakemta" },
		    { "many bad entries", many, NULL, 0, 0, "220 fakemta" },
		    { "missing program", ARGS("-s", "-v", "--",
		      "/nonexistent/mta"), NULL, 0, 0, "421 4.3.0 " },
		    { "program not executable", ARGS("-s", "--", noexec),
		      NULL, 0, 0, "421 4.3.0 " },
		    { "not a program", ARGS("-s", "-v", "-A",
		      "127.0.0.2 0.2", "--", garbage), NULL, 0, 0,
		      "421 4.3.0 " },
		    { "bad action", ARGS("-s", "-e", "bounce", "--", mta),
		      NULL, 0, 0, "421 4.3.5 " },
		    { "unknown option", ARGS("-s", "-Z", "--", mta), NULL, 0,
		      0, "421 4.3.5 " },
		    { "SIGHUP", ARGS("-s", "-v", "-A", "127.0.0.2 5", "--",
		      mta), NULL, SIGHUP, 0, "421 4.3.2 " },
		    { "early, dropped", ARGS("-s", "-v", "-A", "127.0.0.2 2",
		      "--", mta), "HELO x\r\n", 0, 0, "" },
		    { "early, tempfail", ARGS("-s", "-v", "-e", "tempfail",
		      "-A", "127.0.0.2 2", "--", mta), "HELO \x01\xff\r\n", 0,
		      0, "421 4.5.0 " },
		    { "hangup", ARGS("-s", "-v", "-A", "127.0.0.2 2", "--",
		      mta), NULL, 0, 1, "" },
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			expect_wire_clean(&cases[i]);
	}
}

/* ---- what fd 0 is ---- */

/* fd 0 is not a peer: the program runs at once, with fds 0-2 only. */
static void
expect_local(int in, int out, const char *kind)
{
	char want[64];
	struct h_run r;

	assert_int_equal(h_spawn(&r, in, out, H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.0/8 5", "--", mta)), 0);
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	snprintf(want, sizeof(want), "local stdin=%s\n", kind);
	assert_non_null(strstr(r.log, want));
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(mta_record(), " fds=0,1,2 blocked="));
}

static void
test_closed_stdin_runs_the_program_at_once_on_dev_null(void **state)
{
	(void)state;
	expect_local(-1, -1, "chardev");
}

static void
test_pipe_stdin_runs_the_program_at_once(void **state)
{
	char line[512];
	int in[2], out[2];

	(void)state;
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(write(in[1], "QUIT\r\n", 6), 6);
	close(in[1]);
	expect_local(in[0], out[1], "pipe");
	assert_true(h_read_line(out[0], line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
	close(out[0]);
}

static void
test_unix_socket_stdin_runs_the_program_at_once(void **state)
{
	struct h_run r;
	char line[512];
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(h_spawn(&r, sv[1], sv[1], H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.0/8 5", "--", mta)), 0);
	close(sv[1]);
	assert_true(h_read_line(sv[0], line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
	close(sv[0]);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "local stdin=unix\n"));
}

/*
 * A datagram socket on fd 0 is a launcher mistake (an inetd "dgram"
 * line): exit 64 with one line, and the datagram that started us taken
 * off the socket, or the launcher would start us again at once.
 */
static void
test_datagram_socket_stdin_is_refused_and_its_datagram_taken(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct h_run r;
	int u, c, queued = -1;

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(u != -1 && c != -1);
	assert_int_equal(bind(u, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(u, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(sendto(c, "x", 1, 0, (struct sockaddr *)&sin,
	    sizeof(sin)), 1);
	usleep(50000);
	assert_int_equal(h_spawn(&r, u, u, H_STDERR_PIPE,
	    ARGS("-s", "--", mta)), 0);
	assert_int_equal(h_finish(&r, FINISH_MS), EX_USAGE << 8);
	assert_non_null(strstr(r.log, "error reason=\"stdin is not a stream "
	    "socket"));
	assert_null(strstr(r.log, "hangup"));
	assert_int_equal(h_log_lines(&r), 1);
	assert_int_equal(ioctl(u, FIONREAD, &queued), 0);
	assert_int_equal(queued, 0);
	assert_false(h_mta_ran());
	close(u);
	close(c);
}

/* An urgent (out-of-band) byte is talk before the greeting too. */
static void
test_an_urgent_byte_during_the_wait_is_an_early_talker(void **state)
{
	char cache[256], entry[300];
	struct h_run r;
	char line[512];

	(void)state;
	snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
	assert_int_equal(mkdir(cache, 0700), 0);
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-c", cache, "-e", "reject", "-A", "127.0.0.2 1.5",
	    "--", mta)), 0);
	usleep(200000);
	assert_int_equal(send(r.client, "!", 1, MSG_OOB), 1);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "554 5.5.0 ", 10) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	assert_non_null(strstr(r.log, "early ip=127.0.0.2 "));
	assert_non_null(strstr(r.log, " urgent=1 "));
	assert_false(h_mta_ran());
	snprintf(entry, sizeof(entry), "%s/127.0.0.2", cache);
	assert_int_equal(access(entry, F_OK), -1);	/* not cached */
	rmdir(cache);
}

/* ---- hostile command lines ---- */

static char *
long_string(const char *head, int fill)
{
	size_t n = strlen(head);
	char *s = malloc(LONG_ARG + 1);

	assert_non_null(s);
	memcpy(s, head, n);
	memset(s + n, fill, LONG_ARG - n);
	s[LONG_ARG] = '\0';
	return s;
}

/* Every log line stays within syslog's reach: one bounded line. */
static void
expect_bounded_log(const struct h_run *r)
{
	const char *p = r->log, *nl;

	while ((nl = strchr(p, '\n')) != NULL) {
		assert_true(nl - p <= 1024 + 32);
		p = nl + 1;
	}
	assert_int_equal(*p, '\0');
}

static void
test_very_long_arguments_are_refused_or_used_safely(void **state)
{
	char *entry = long_string("127.0.0.2 ", '5');
	char *path = long_string("/", 'p');
	char *action = long_string("drop", 'x');
	char *delay = long_string("1", '0');
	char *prog = long_string("/usr/sbin/", 'm');
	char *bare = long_string("m", 'm');
	struct h_run r;
	char line[512];

	(void)state;
	/* An entry and a file name too long: reported, nobody trusted. */
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-d", "0.2", "-A", entry, "-a", path, "-A",
	    "127.0.0.2 0.2", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	expect_bounded_log(&r);
	assert_non_null(strstr(r.log, "-A:1: line is longer than 1023 bytes"));
	assert_non_null(strstr(r.log, ": /pppppppp"));	/* cut short */
	assert_non_null(strstr(r.log, " delay=0.200 allowlist=untrusted\n"));
	assert_true(h_mta_ran());
	unlink(h_mark);

	/* Options that cannot be right: the peer gets a 421 at once. */
	{
		const char *const *bad[] = {
			ARGS("-s", "-e", action, "--", mta),
			ARGS("-s", "-d", delay, "--", mta),
		};
		size_t i;

		for (i = 0; i < 2; i++) {
			assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1",
			    H_STDERR_PIPE, bad[i]), 0);
			assert_true(h_read_line(r.client, line, sizeof(line),
			    SOON_MS) > 0);
			assert_true(strncmp(line, "421 4.3.5 ", 10) == 0);
			assert_int_equal(h_finish(&r, FINISH_MS),
			    EX_USAGE << 8);
			expect_bounded_log(&r);
			assert_int_equal(h_log_lines(&r), 1);
		}
	}
	{
		const char *progs[] = { prog, bare };
		size_t i;

		for (i = 0; i < 2; i++) {
			assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1",
			    H_STDERR_PIPE, ARGS("-s", "--", progs[i])), 0);
			assert_true(h_read_line(r.client, line, sizeof(line),
			    SOON_MS) > 0);
			assert_true(strncmp(line, "421 4.3.0 ", 10) == 0);
			assert_int_equal(h_finish(&r, FINISH_MS),
			    EX_OSERR << 8);
			expect_bounded_log(&r);
			assert_int_equal(h_log_lines(&r), 1);
		}
	}
	assert_false(h_mta_ran());
	free(entry);
	free(path);
	free(action);
	free(delay);
	free(prog);
	free(bare);
}

static void
test_thousands_of_A_entries_all_count_and_the_last_decides(void **state)
{
	enum { N = 5000 };
	static char text[N][24];
	static const char *argv[2 * N + 8];
	struct h_run r;
	char line[512], want[64];
	size_t n = 0;
	int i;

	(void)state;
	argv[n++] = "-s";
	for (i = 0; i < N; i++) {
		snprintf(text[i], sizeof(text[i]), "10.%d.%d.0/24 1", i / 256,
		    i % 256);
		argv[n++] = "-A";
		argv[n++] = text[i];
	}
	argv[n++] = "-A";
	argv[n++] = "127.0.0.2/32 0.2";
	argv[n++] = "--";
	argv[n++] = mta;
	argv[n] = NULL;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    argv), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
	snprintf(want, sizeof(want), " delay=0.200 rule=-A:%d\n", N + 1);
	assert_non_null(strstr(r.log, want));
}

static void
test_bad_delay_numbers_are_refused_with_421(void **state)
{
	static const char *bad[] = {
		"-1", "nan", "0x10", "", "301", "0.0001", " 5", "+5", "inf",
		"1,5", "5s",
	};
	struct h_run r;
	char line[512], want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1",
		    H_STDERR_PIPE, ARGS("-s", "-d", bad[i], "--", mta)), 0);
		assert_true(h_read_line(r.client, line, sizeof(line),
		    SOON_MS) > 0);
		assert_true(strncmp(line, "421 4.3.5 ", 10) == 0);
		assert_int_equal(h_finish(&r, FINISH_MS), EX_USAGE << 8);
		snprintf(want, sizeof(want), "-d: delay \\\"%s\\\"", bad[i]);
		if (strstr(r.log, want) == NULL)
			print_error("-d \"%s\": log %s\n", bad[i], r.log);
		assert_non_null(strstr(r.log, want));
	}
	assert_false(h_mta_ran());
}

/* ---- no memory ---- */

static void
fail_calloc(void)
{
	const char *shim = getenv("FAILALLOC");

	if (shim != NULL)
		setenv("LD_PRELOAD", shim, 1);
	unsetenv("FAILALLOC_MIN");
}

/*
 * No memory to hold the options is sendwrap's failure, not a mistake
 * in them: 421 4.3.0, exit 71, and the one line goes where -s says.
 */
static void
test_no_memory_for_the_options_is_an_internal_failure(void **state)
{
	const char *shim = getenv("FAILALLOC");
	struct h_run r;
	char line[512];

	(void)state;
	if (shim == NULL || *shim == '\0') {
		print_message("SKIP: no FAILALLOC shim (sanitizer build)\n");
		skip();
	}
	h_child_setup = fail_calloc;
	assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1", H_STDERR_PIPE,
	    ARGS("-s", "-A", "127.0.0.2 5", "--", mta)), 0);
	assert_true(h_read_line(r.client, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.0 ", 10) == 0);
	assert_int_equal(h_finish(&r, FINISH_MS), EX_OSERR << 8);
	assert_int_equal(h_log_lines(&r), 1);
	assert_non_null(strstr(r.log, "error ip=127.0.0.2 port="));
	assert_non_null(strstr(r.log, " reason=\"out of memory\"\n"));
	assert_false(h_mta_ran());
}

/* ---- descriptors leaked by the launcher ---- */

static void
leak_fds(void)
{
	struct rlimit rl;
	int fd, top = 1000;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 1000)
		top = (int)rl.rlim_cur - 1;
	/* NOLINTNEXTLINE(android-cloexec-open): the leak is the test */
	if ((fd = open("/dev/null", O_RDONLY)) == -1)
		_exit(126);
	dup2(fd, 3);
	dup2(fd, 9);
	dup2(fd, 100);
	dup2(fd, top);
	if (fd != 3 && fd != 9)
		close(fd);
}

static void
test_only_fds_0_1_2_reach_the_program_whatever_the_launcher_leaks(
    void **state)
{
	const char *const *shapes[] = {
		/* allowed; passed after the wait, to syslog; early, -e log */
		ARGS("-s", "--", mta),
		ARGS("-d", "0.2", "-a", tmpdir, "-A", "127.0.0.2 0.2", "--",
		    mta),
		ARGS("-s", "-e", "log", "-A", "127.0.0.2 2", "--", mta),
	};
	struct h_run r;
	char line[512];
	size_t i;
	int sv[2];

	(void)state;
	h_child_setup = leak_fds;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		assert_int_equal(h_start(&r, "127.0.0.2", "127.0.0.1",
		    H_STDERR_PIPE, shapes[i]), 0);
		if (i == 2)
			assert_int_equal(write(r.client, "X\r\n", 3), 3);
		assert_true(h_read_line(r.client, line, sizeof(line),
		    SOON_MS) > 0);
		if (strncmp(line, "220 fakemta fds=0,1,2 ", 22) != 0)
			print_error("shape %zu: %s", i, line);
		assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
		assert_int_equal(h_finish(&r, FINISH_MS), 0);
	}
	/* fd 0 not a peer: the program runs at once, with the same care. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_int_equal(h_spawn(&r, sv[1], sv[1], H_STDERR_PIPE,
	    ARGS("-s", "--", mta)), 0);
	close(sv[1]);
	assert_true(h_read_line(sv[0], line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
	close(sv[0]);
	assert_int_equal(h_finish(&r, FINISH_MS), 0);
}

/* ---- the test group ---- */

static int
group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sendwrap-faults.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	h_mark_reset(tmpdir);
	snprintf(noexec, sizeof(noexec), "%s/noexec", tmpdir);
	write_file(noexec, "#!/bin/sh\nexit 0\n", 0644);
	snprintf(garbage, sizeof(garbage), "%s/not-a-binary", tmpdir);
	write_file(garbage, "this is not a program\n", 0755);
	snprintf(unreadable, sizeof(unreadable), "%s/unreadable.allow", tmpdir);
	write_file(unreadable, "127.0.0.2\n", 0);
	snprintf(empty, sizeof(empty), "%s/empty", tmpdir);
	write_file(empty, "", 0644);
	snprintf(fifo, sizeof(fifo), "%s/fifo.allow", tmpdir);
	return mkfifo(fifo, 0600);
}

static int
group_teardown(void **state)
{
	const char *files[] = {
		h_mark, noexec, garbage, unreadable, empty, fifo
	};
	char path[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	/* Left behind only by a test that failed half-way. */
	snprintf(path, sizeof(path), "%s/big.allow", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_program_without_execute_permission_gives_421_at_once),
		T(test_program_that_is_a_directory_gives_421_at_once),
		T(test_unreadable_allowlist_is_reported_and_the_delay_applies),
		T(test_allowlist_that_is_a_directory_is_reported_and_the_delay_applies),
		T(test_allowlist_that_is_a_device_or_fifo_does_not_hang),
		T(test_million_line_allowlist_is_scanned_to_its_last_line),
		T(test_without_a_syslog_socket_mail_still_flows),
		T(test_peer_reset_during_the_wait_is_a_hangup),
		T(test_peer_closing_half_way_through_the_wait_is_noticed_at_once),
		T(test_peer_gone_before_sendwrap_starts_is_a_hangup),
		T(test_one_byte_just_before_the_delay_ends_is_an_early_talker),
		T(test_one_megabyte_at_once_is_turned_away_in_bounded_time),
		T(test_peer_that_never_stops_sending_is_turned_away_in_bounded_time),
		T(test_patient_peer_conversation_reaches_the_mta_intact),
		T(test_every_ending_signal_while_waiting_gives_421_and_one_line),
		T(test_a_launcher_that_blocks_sigterm_still_stops_the_wait),
		T(test_ignored_signals_stay_ignored_and_reach_the_program_unchanged),
		T(test_an_inherited_alarm_during_the_wait_gives_421),
		T(test_sigterm_during_the_allowlist_scan_gives_421),
		T(test_sigstop_and_sigcont_neither_shorten_nor_lengthen_the_wait),
		T(test_inetd_mode_puts_only_reply_lines_on_the_wire_whatever_goes_wrong),
		T(test_closed_stdin_runs_the_program_at_once_on_dev_null),
		T(test_pipe_stdin_runs_the_program_at_once),
		T(test_unix_socket_stdin_runs_the_program_at_once),
		T(test_datagram_socket_stdin_is_refused_and_its_datagram_taken),
		T(test_an_urgent_byte_during_the_wait_is_an_early_talker),
		T(test_very_long_arguments_are_refused_or_used_safely),
		T(test_thousands_of_A_entries_all_count_and_the_last_decides),
		T(test_bad_delay_numbers_are_refused_with_421),
		T(test_no_memory_for_the_options_is_an_internal_failure),
		T(test_only_fds_0_1_2_reach_the_program_whatever_the_launcher_leaks),
#undef T
	};

	mta = h_fakemta();
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("sendwrap faults", tests,
	    group_setup, group_teardown);
}
