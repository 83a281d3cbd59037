/*
 * test_log.c - log.c against a syslog socket of the test's own.
 *
 * The test binds an AF_UNIX datagram socket, points log.c at it instead
 * of /dev/log, and reads what arrives: the datagram syslog(3) would
 * send, one per line.  A socket that is never read must not stall a
 * non-blocking logger (the listener's): lines are lost and counted
 * instead.  log.c is included so that the socket path can be set.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "log.c"

static char dir[64], sock_path[96];

static int
bind_syslog(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	unlink(sock_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* log.c as a connection would open it, to the test's socket. */
static void
open_to_syslog(int nonblocking)
{
	if (lg.fd != -1 && lg.dest == LOG_TO_SYSLOG)
		close(lg.fd);
	memset(&lg, 0, sizeof(lg));
	lg.fd = -1;
	log_socket = sock_path;
	log_open(0, 0);
	lg.dest = LOG_TO_SYSLOG;	/* even if the test runs at a tty */
	if (lg.fd == -1)
		lg.fd = syslog_connect();
	lg.is_socket = 1;
	if (nonblocking)
		log_nonblocking();
}

static void
test_a_line_is_the_datagram_syslog_would_send(void **state)
{
	char buf[2048], want[64];
	ssize_t n;
	int s;

	(void)state;
	s = bind_syslog();
	open_to_syslog(0);
	logmsg(LOG_INFO, "pass ip=%s port=%d", "192.0.2.1", 25);
	n = recv(s, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	/* <mail.info>Mmm dd hh:mm:ss sendwrap[PID]: text */
	assert_int_equal(strncmp(buf, "<22>", 4), 0);
	snprintf(want, sizeof(want), " sendwrap[%ld]: pass ip=192.0.2.1 "
	    "port=25", (long)getpid());
	assert_non_null(strstr(buf, want));
	assert_int_equal(buf[n - 1], '5');	/* no newline */
	logmsg(LOG_DEBUG, "not without -v");
	assert_int_equal(recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
	close(s);
}

/*
 * A syslog daemon that reads nothing: the listener's logger goes on at
 * once, and counts what it could not write.
 */
static void
test_a_full_log_socket_never_blocks_and_lost_lines_are_counted(void **state)
{
	unsigned long lost;
	int s, i, got = 0;
	char buf[2048];

	(void)state;
	s = bind_syslog();
	open_to_syslog(1);
	for (i = 0; i < 20000; i++)
		logmsg(LOG_INFO, "line %d", i);
	lost = log_lost();
	assert_true(lost > 0);
	assert_int_equal(log_lost(), 0);	/* taken, so reset */
	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		got++;
	assert_int_equal((unsigned long)got + lost, 20000);
	/* The count is said once there is room, and kept until then. */
	for (i = 0; i < 20000; i++)
		logmsg(LOG_INFO, "line %d", i);
	lost = lg.lost;
	log_report_lost();
	assert_int_equal(lg.lost, lost);
	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	log_report_lost();
	assert_int_equal(lg.lost, 0);
	assert_true(recv(s, buf, sizeof(buf) - 1, MSG_DONTWAIT) > 0);
	assert_non_null(strstr(buf, " log lines lost: the log did not keep "
	    "up"));
	close(s);
}

/* A daemon restarted since: its new socket is found again. */
static void
test_a_restarted_syslog_daemon_is_reconnected_to(void **state)
{
	char buf[2048];
	ssize_t n;
	int s;

	(void)state;
	s = bind_syslog();
	open_to_syslog(0);
	logmsg(LOG_INFO, "before");
	close(s);
	s = bind_syslog();
	logmsg(LOG_INFO, "after");
	n = recv(s, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, ": after"));
	close(s);
}

/* No syslog at all: every line is lost, counted, and nothing hangs. */
static void
test_no_syslog_socket_loses_lines_without_hanging(void **state)
{
	(void)state;
	unlink(sock_path);
	open_to_syslog(1);
	assert_false(log_syslog_reachable());
	logmsg(LOG_INFO, "nobody hears this");
	assert_int_equal(log_lost(), 1);
}

/* fd 2 an internet socket (inetd): never chosen, even with -s. */
static void
test_stderr_that_is_an_internet_socket_is_never_chosen(void **state)
{
	int saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	enum log_dest d;

	(void)state;
	assert_true(saved != -1 && s != -1);
	dup2(s, 2);
	d = log_choose(1);
	dup2(saved, 2);
	close(saved);
	close(s);
	assert_int_equal(d, LOG_TO_SYSLOG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_line_is_the_datagram_syslog_would_send),
		cmocka_unit_test(test_a_full_log_socket_never_blocks_and_lost_lines_are_counted),
		cmocka_unit_test(test_a_restarted_syslog_daemon_is_reconnected_to),
		cmocka_unit_test(test_no_syslog_socket_loses_lines_without_hanging),
		cmocka_unit_test(test_stderr_that_is_an_internet_socket_is_never_chosen),
	};
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/sendwrap-log.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/log", dir);
	rc = cmocka_run_group_tests_name("log", tests, NULL, NULL);
	unlink(sock_path);
	rmdir(dir);
	return rc;
}
