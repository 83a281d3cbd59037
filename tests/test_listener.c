/*
 * test_listener.c - the real sendwrap as a listener, on loopback.
 *
 * The test plays inetd in "wait" mode: it makes a listening socket and
 * starts sendwrap with it on fds 0 and 1 (fd 2 a pipe for the -s log),
 * or passes sockets as systemd does (LISTEN_PID, LISTEN_FDS, from fd
 * 3).  Then it connects peers from chosen loopback addresses and checks
 * what each hears, when, what the fake MTA inherited, and the one log
 * line each connection gets.  Delays are fractions of a second; only
 * lower bounds and generous upper bounds on time are asserted.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <grp.h>
#include <sysexits.h>

#include "harness.h"

#define ARGS(...)	((const char *const[]){ __VA_ARGS__, NULL })
#define SOON_MS		3000
#define NOBODY		65534

struct lsn {
	pid_t	 pid;
	int	 logfd;
	unsigned short port;
	char	 log[262144];
	size_t	 loglen;
};

static const char *mta;
static char tmpdir[128];
static int launcher_blocks_term, launcher_nproc_one, launcher_ignores_chld;

static int
setup(void **state)
{
	(void)state;
	h_mark_reset(tmpdir);
	launcher_blocks_term = launcher_nproc_one = launcher_ignores_chld = 0;
	return 0;
}

/* A listening socket on 127.0.0.1 (or [::]), any free port. */
static int
listen_on(const char *ip, unsigned short *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, zero = 0, af;

	if ((af = h_sockaddr(ip, 0, &ss, &len)) == -1)
		return -1;
	if ((fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (af == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 4096) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(af == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/*
 * Start sendwrap with args.  systemd: the socket goes to fd 3 with
 * LISTEN_PID and LISTEN_FDS, fd 0 is /dev/null; else it is fds 0 and 1,
 * as inetd "wait" gives it.
 */
static void
l_start(struct lsn *l, int systemd, const char *const *args)
{
	const char *argv[H_ARGV_MAX];
	int ls, pfd[2];
	size_t n = 0;

	memset(l, 0, sizeof(*l));
	assert_true((ls = listen_on("127.0.0.1", &l->port)) != -1);
	argv[n++] = h_env("SENDWRAP", "./sendwrap");
	while (*args != NULL && n < H_ARGV_MAX - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	l->pid = fork();
	assert_true(l->pid != -1);
	if (l->pid == 0) {
		char pid[32];
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		dup2(pfd[1], 2);
		if (systemd) {
			dup2(null, 0);
			dup2(null, 1);
			if (ls == 3)	/* dup2() would leave close-on-exec */
				fcntl(3, F_SETFD, 0);
			else
				dup2(ls, 3);
			snprintf(pid, sizeof(pid), "%ld", (long)getpid());
			setenv("LISTEN_PID", pid, 1);
			setenv("LISTEN_FDS", "1", 1);
		} else {
			dup2(ls, 0);
			dup2(ls, 1);
		}
		if (launcher_blocks_term) {
			sigset_t set;

			sigemptyset(&set);
			sigaddset(&set, SIGTERM);
			sigprocmask(SIG_BLOCK, &set, NULL);
		}
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, launcher_ignores_chld ? SIG_IGN : SIG_DFL);
		if (launcher_nproc_one) {
			struct rlimit one = { 1, 1 };

			/* A sanitizer's leak check needs a thread of its own. */
			setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
			if (setrlimit(RLIMIT_NPROC, &one) == -1 ||
			    setgroups(0, NULL) == -1 || setgid(NOBODY) == -1 ||
			    setuid(NOBODY) == -1)
				_exit(126);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (h_npids < H_PIDS_MAX)
		h_pids[h_npids++] = l->pid;
	close(pfd[1]);
	close(ls);
	l->logfd = pfd[0];
	fcntl(l->logfd, F_SETFL, O_NONBLOCK);
}

static void
l_read_log(struct lsn *l)
{
	ssize_t n;

	while (l->loglen < sizeof(l->log) - 1 && (n = read(l->logfd,
	    l->log + l->loglen, sizeof(l->log) - 1 - l->loglen)) > 0)
		l->loglen += (size_t)n;
	l->log[l->loglen] = '\0';
}

/* Wait until the log holds needle (count times); 1 if it does. */
static int
l_wait_log(struct lsn *l, const char *needle, int count, int timeout_ms)
{
	double end = h_now() + timeout_ms / 1000.0;

	for (;;) {
		const char *p;
		int n = 0;

		l_read_log(l);
		for (p = l->log; (p = strstr(p, needle)) != NULL;
		    p += strlen(needle))
			n++;
		if (n >= count)
			return 1;
		if (h_now() > end)
			return 0;
		usleep(5000);
	}
}

static int
l_count(struct lsn *l, const char *needle)
{
	const char *p;
	int n = 0;

	l_read_log(l);
	for (p = l->log; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* SIGTERM, and the exit status; -1 if it had to be killed. */
static int
l_stop(struct lsn *l)
{
	double end = h_now() + 5.0;
	int status = 0;

	kill(l->pid, SIGTERM);
	while (waitpid(l->pid, &status, WNOHANG) == 0) {
		if (h_now() > end) {
			kill(l->pid, SIGKILL);
			waitpid(l->pid, &status, 0);
			return -1;
		}
		usleep(5000);
	}
	l_read_log(l);
	close(l->logfd);
	if (getenv("H_DEBUG") != NULL)
		fprintf(stderr, "[listener status %#x]\n%s", status, l->log);
	return status;
}

/* A peer from src to the listener. */
static int
l_connect(const struct lsn *l, const char *src)
{
	struct sockaddr_storage ca, to;
	socklen_t clen = 0, tlen = 0;
	int fd, af;

	assert_true((af = h_sockaddr(src, 0, &ca, &clen)) != -1);
	h_sockaddr(af == AF_INET ? "127.0.0.1" : "::1", l->port, &to, &tlen);
	fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&ca, clen), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&to, tlen), 0);
	return fd;
}

/* The fake MTA's records, one line per run. */
static int
mta_runs(char *buf, size_t size)
{
	ssize_t n;
	int fd, lines = 0;
	char *p;

	buf[0] = '\0';
	if ((fd = open(h_mark, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (p = buf; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	return lines;
}

static void
expect_greeting(int fd, int timeout_ms)
{
	char line[512];

	assert_true(h_read_line(fd, line, sizeof(line), timeout_ms) > 0);
	if (strncmp(line, "220 fakemta fds=0,1,2 ", 22) != 0)
		print_error("got \"%s\"\n", line);
	assert_true(strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0);
}

static void
quit(int fd)
{
	char buf[256];

	assert_int_equal(write(fd, "QUIT\r\n", 6), 6);
	h_read_all(fd, buf, sizeof(buf), SOON_MS);
	close(fd);
}

/* ---- who gets the program, and what it inherits ---- */

static void
test_allowlisted_peer_gets_the_program_as_a_launcher_would_start_it(
    void **state)
{
	char rec[2048], want[128];
	struct rlimit rl;
	struct lsn l;
	int c, w;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-A", "127.0.0.2 5", "--", mta));
	assert_true(l_wait_log(&l, "listening on 1 socket:", 1, SOON_MS));
	w = l_connect(&l, "127.0.0.2");		/* one waiting meanwhile */
	c = l_connect(&l, "127.0.0.1");
	expect_greeting(c, SOON_MS);
	assert_true(l_wait_log(&l, "allow ip=127.0.0.1 port=", 1, SOON_MS));
	quit(c);
	assert_int_equal(mta_runs(rec, sizeof(rec)), 1);
	/* No listening socket, no other peer, blocking, no LISTEN_*. */
	assert_non_null(strstr(rec, " fds=0,1,2 "));
	assert_non_null(strstr(rec, " nonblock=0 "));
	assert_non_null(strstr(rec, " listen=0\n"));
	assert_non_null(strstr(rec, " blocked=0 ignored=0 "));
	assert_non_null(strstr(rec, " remote=127.0.0.1:"));
	getrlimit(RLIMIT_NOFILE, &rl);
	snprintf(want, sizeof(want), " nofile=%lu ", (unsigned long)rl.rlim_cur);
	assert_non_null(strstr(rec, want));
	close(w);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, " delay=0.000 rule=builtin:loopback\n"));
}

static void
test_silent_peer_gets_the_program_after_its_delay(void **state)
{
	struct lsn l;
	double t0;
	int c;

	(void)state;
	l_start(&l, 1, ARGS("-s", "-A", "127.0.0.0/8 0.4", "--", mta));
	assert_true(l_wait_log(&l, "listening on 1 socket:", 1, SOON_MS));
	t0 = h_now();
	c = l_connect(&l, "127.0.0.2");
	expect_greeting(c, SOON_MS);
	assert_true(h_now() - t0 >= 0.4);
	quit(c);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, "pass ip=127.0.0.2 port="));
	assert_non_null(strstr(l.log, " delay=0.400 rule=-A:1\n"));
}

/* The launcher's mask reaches the program; the listener still stops. */
static void
test_a_launcher_that_blocks_sigterm_is_obeyed_and_passed_on(void **state)
{
	char rec[2048];
	struct lsn l;
	int c;

	(void)state;
	launcher_blocks_term = 1;
	l_start(&l, 0, ARGS("-s", "--", mta));
	assert_true(l_wait_log(&l, "listening on", 1, SOON_MS));
	c = l_connect(&l, "127.0.0.1");
	expect_greeting(c, SOON_MS);
	quit(c);
	mta_runs(rec, sizeof(rec));
	assert_non_null(strstr(rec, " blocked=4000 "));	/* SIGTERM, 15 */
	assert_int_equal(l_stop(&l), 0);
}

/* ---- early talkers and hangups ---- */

static void
expect_early(const char *action, const char *reply)
{
	char buf[512], rec[2048];
	struct lsn l;
	int c;

	unlink(h_mark);
	l_start(&l, 0, ARGS("-s", "-e", action, "-A", "127.0.0.2 2", "--",
	    mta));
	assert_true(l_wait_log(&l, "listening on", 1, SOON_MS));
	c = l_connect(&l, "127.0.0.2");
	usleep(100000);
	assert_int_equal(write(c, "EHLO bot\r\n", 10), 10);
	h_read_line(c, buf, sizeof(buf), SOON_MS);
	if (reply == NULL) {
		assert_true(strncmp(buf, "220 fakemta ", 12) == 0);
		h_read_line(c, buf, sizeof(buf), SOON_MS);
		assert_string_equal(buf, "250 got EHLO bot\r\n");
		assert_int_equal(mta_runs(rec, sizeof(rec)), 1);
	} else {
		assert_true(strncmp(buf, reply, strlen(reply)) == 0);
		assert_int_equal(mta_runs(rec, sizeof(rec)), 0);
	}
	assert_true(l_wait_log(&l, "early ip=127.0.0.2 ", 1, SOON_MS));
	close(c);
	assert_int_equal(l_stop(&l), 0);
	snprintf(buf, sizeof(buf), " bytes=10 data=\"EHLO bot\\r\\n\" "
	    "action=%s rule=-A:1\n", action);
	assert_non_null(strstr(l.log, buf));
	assert_int_equal(l_count(&l, "ip=127.0.0.2 "), 1);
}

static void
test_early_talkers_get_what_minus_e_says(void **state)
{
	(void)state;
	expect_early("drop", "");
	expect_early("tempfail", "421 4.5.0 ");
	expect_early("reject", "554 5.5.0 ");
	expect_early("log", NULL);	/* the MTA reads the early bytes */
}

/* A bot that sent before it was even accepted is turned away at once. */
static void
test_a_peer_that_talks_before_accept_is_early_at_once(void **state)
{
	struct lsn l;
	char buf[64];
	int c;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-e", "reject", "-A", "127.0.0.2 5", "--",
	    mta));
	assert_true(l_wait_log(&l, "listening on", 1, SOON_MS));
	kill(l.pid, SIGSTOP);
	c = l_connect(&l, "127.0.0.2");
	assert_int_equal(write(c, "HELO x\r\n", 8), 8);
	usleep(50000);
	kill(l.pid, SIGCONT);
	assert_true(h_read_line(c, buf, sizeof(buf), SOON_MS) > 0);
	assert_true(strncmp(buf, "554 5.5.0 ", 10) == 0);
	close(c);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, "early ip=127.0.0.2 "));
}

static void
test_an_urgent_byte_is_early_talk(void **state)
{
	struct lsn l;
	char buf[64];
	int c;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-e", "tempfail", "-A", "127.0.0.2 3", "--",
	    mta));
	assert_true(l_wait_log(&l, "listening on", 1, SOON_MS));
	c = l_connect(&l, "127.0.0.2");
	usleep(100000);
	assert_int_equal(send(c, "!", 1, MSG_OOB), 1);
	assert_true(h_read_line(c, buf, sizeof(buf), SOON_MS) > 0);
	assert_true(strncmp(buf, "421 4.5.0 ", 10) == 0);
	close(c);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, " urgent=1 "));
	assert_false(h_mta_ran());
}

static void
test_a_peer_that_leaves_is_a_hangup(void **state)
{
	struct lsn l;
	int c;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-A", "127.0.0.2 3", "--", mta));
	assert_true(l_wait_log(&l, "listening on", 1, SOON_MS));
	c = l_connect(&l, "127.0.0.2");
	usleep(200000);
	close(c);
	assert_true(l_wait_log(&l, "hangup ip=127.0.0.2 ", 1, SOON_MS));
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, " reason=eof rule=-A:1\n"));
	assert_false(h_mta_ran());
}

/* ---- the teaser and the pass cache ---- */

static void
test_teaser_then_the_program_completes_the_greeting(void **state)
{
	struct lsn l;
	char line[512];
	double t0;
	int c;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-g", "mx.example.test", "-A",
	    "127.0.0.2 0.3", "--", mta));
	assert_true(l_wait_log(&l, "listening on", 1, SOON_MS));
	t0 = h_now();
	c = l_connect(&l, "127.0.0.2");
	assert_true(h_read_line(c, line, sizeof(line), SOON_MS) > 0);
	assert_string_equal(line, "220-mx.example.test\r\n");
	assert_true(h_now() - t0 < 0.25);
	expect_greeting(c, SOON_MS);
	quit(c);
	assert_int_equal(l_stop(&l), 0);
}

static void
test_a_pass_is_cached_and_the_next_connection_skips_the_wait(void **state)
{
	char cache[256], entry[300];
	struct lsn l;
	double t0;
	int c;

	(void)state;
	snprintf(cache, sizeof(cache), "%s/cache", tmpdir);
	assert_int_equal(mkdir(cache, 0700), 0);
	l_start(&l, 0, ARGS("-s", "-c", cache, "-A", "127.0.0.2 0.5", "--",
	    mta));
	assert_true(l_wait_log(&l, "listening on", 1, SOON_MS));
	c = l_connect(&l, "127.0.0.2");
	expect_greeting(c, SOON_MS);
	quit(c);
	snprintf(entry, sizeof(entry), "%s/127.0.0.2", cache);
	assert_int_equal(access(entry, F_OK), 0);
	t0 = h_now();
	c = l_connect(&l, "127.0.0.2");
	expect_greeting(c, SOON_MS);
	assert_true(h_now() - t0 < 0.45);
	quit(c);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, "pass ip=127.0.0.2 port="));
	assert_non_null(strstr(l.log, " delay=0.500 key=127.0.0.2 rule=-A:1\n"));
	assert_non_null(strstr(l.log, "cached ip=127.0.0.2 port="));
	assert_non_null(strstr(l.log, " delay=0.000 age="));
	unlink(entry);
	rmdir(cache);
}

/* ---- limits ---- */

static void
test_per_address_limit_turns_the_next_peer_away_with_421(void **state)
{
	struct lsn l;
	char line[512];
	int a, b, c, d;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-p", "2", "-A", "127.0.0.0/8 2", "--",
	    mta));
	assert_true(l_wait_log(&l, " 2 from one address", 1, SOON_MS));
	a = l_connect(&l, "127.0.0.2");
	b = l_connect(&l, "127.0.0.2");
	c = l_connect(&l, "127.0.0.2");
	assert_true(h_read_line(c, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.7.0 ", 10) == 0);
	d = l_connect(&l, "127.0.0.3");		/* another address waits */
	assert_true(l_wait_log(&l, "limit ip=127.0.0.2 ", 1, SOON_MS));
	assert_int_equal(h_read_line(d, line, sizeof(line), 300), 0);
	close(a);
	close(b);
	close(c);
	close(d);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, " reason=address\n"));
	assert_int_equal(l_count(&l, "limit "), 1);
}

static void
test_total_limit_turns_the_next_peer_away_but_allowlisted_ones_pass(
    void **state)
{
	struct lsn l;
	char line[512];
	int a, b, c, ok;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-n", "2", "-A", "127.0.0.0/8 2", "-A",
	    "127.0.0.9", "--", mta));
	assert_true(l_wait_log(&l, "at most 2 waiting", 1, SOON_MS));
	a = l_connect(&l, "127.0.0.2");
	b = l_connect(&l, "127.0.0.3");
	c = l_connect(&l, "127.0.0.4");
	assert_true(h_read_line(c, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.7.0 ", 10) == 0);
	ok = l_connect(&l, "127.0.0.9");	/* never waits: exempt */
	expect_greeting(ok, SOON_MS);
	quit(ok);
	close(a);
	close(b);
	close(c);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, "limit ip=127.0.0.4 "));
	assert_non_null(strstr(l.log, " reason=total\n"));
}

/*
 * -m 1: while one session runs, a peer that passes is held, silent,
 * and gets the program when the session ends; one held past -w gets
 * 421 4.3.2 instead.
 */
static void
test_sessions_are_capped_and_passed_peers_held(void **state)
{
	struct lsn l;
	char line[512];
	double t0;
	int a, b, c;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-m", "1", "-w", "0.8", "-A",
	    "127.0.0.0/8 0.2", "--", mta));
	assert_true(l_wait_log(&l, " 1 sessions", 1, SOON_MS));
	a = l_connect(&l, "127.0.0.2");
	expect_greeting(a, SOON_MS);		/* its session runs on */
	b = l_connect(&l, "127.0.0.3");
	t0 = h_now();
	usleep(400000);
	quit(a);				/* b's turn */
	expect_greeting(b, SOON_MS);
	assert_true(h_now() - t0 >= 0.3);
	c = l_connect(&l, "127.0.0.4");		/* held past -w */
	assert_true(h_read_line(c, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.2 ", 10) == 0);
	quit(b);
	close(c);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, "pass ip=127.0.0.3 "));
	assert_non_null(strstr(l.log, " held=0."));
	assert_non_null(strstr(l.log, "busy ip=127.0.0.4 port="));
	assert_int_equal(l_count(&l, "ip=127.0.0.4 "), 1);
}

/* -e log, and the session must wait: still one line, the early one. */
static void
test_an_early_talker_let_in_by_minus_e_log_gets_one_line(void **state)
{
	struct lsn l;
	char line[512];
	int a, b;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-e", "log", "-m", "1", "-A",
	    "127.0.0.0/8 0.2", "--", mta));
	assert_true(l_wait_log(&l, " 1 sessions", 1, SOON_MS));
	a = l_connect(&l, "127.0.0.2");
	expect_greeting(a, SOON_MS);
	b = l_connect(&l, "127.0.0.3");
	assert_int_equal(write(b, "EHLO b\r\n", 8), 8);
	usleep(300000);
	quit(a);
	expect_greeting(b, SOON_MS);
	assert_true(h_read_line(b, line, sizeof(line), SOON_MS) > 0);
	assert_string_equal(line, "250 got EHLO b\r\n");
	quit(b);
	assert_int_equal(l_stop(&l), 0);
	assert_int_equal(l_count(&l, "ip=127.0.0.3 "), 1);
	assert_non_null(strstr(l.log, "early ip=127.0.0.3 "));
	assert_non_null(strstr(l.log, " action=log rule=-A:1\n"));
}

/* A peer held for a session that leaves: one hangup line, eof or reset. */
static void
test_a_held_peer_that_leaves_is_a_hangup_with_its_reason(void **state)
{
	struct linger lg = { 1, 0 };
	struct lsn l;
	int a, b, c;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-m", "1", "-A", "127.0.0.0/8 0.1", "--",
	    mta));
	assert_true(l_wait_log(&l, " 1 sessions", 1, SOON_MS));
	a = l_connect(&l, "127.0.0.2");
	expect_greeting(a, SOON_MS);		/* holds the one session */
	b = l_connect(&l, "127.0.0.3");
	c = l_connect(&l, "127.0.0.4");
	usleep(400000);				/* both passed, both held */
	close(b);
	assert_int_equal(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	close(c);
	assert_true(l_wait_log(&l, "hangup ip=127.0.0.4 ", 1, SOON_MS));
	quit(a);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, "hangup ip=127.0.0.3 "));
	assert_int_equal(l_count(&l, " reason=eof held=0."), 1);
	assert_int_equal(l_count(&l, " reason=reset held=0."), 1);
	assert_int_equal(l_count(&l, "ip=127.0.0.3 "), 1);
	assert_int_equal(l_count(&l, "ip=127.0.0.4 "), 1);
}

/*
 * The program cannot be run any more (it was removed): the peer hears
 * 421 after a "220 HOST" that ends the teaser's greeting, the line says
 * why, and its session is free again, once, so that -m still holds.
 */
static void
test_a_failed_exec_frees_its_session_once_and_ends_the_greeting(void **state)
{
	char prog[256], line[512], host[256], want[300];
	struct lsn l;
	int a, b, c, d;

	(void)state;
	snprintf(prog, sizeof(prog), "%s/flaky-mta", tmpdir);
	h_copy(mta, prog, 0755);
	l_start(&l, 0, ARGS("-s", "-m", "2", "-w", "0.5", "-g", "mx.test",
	    "-A", "127.0.0.0/8 0.2", "--", prog));
	assert_true(l_wait_log(&l, " 2 sessions", 1, SOON_MS));
	a = l_connect(&l, "127.0.0.2");
	assert_true(h_read_line(a, line, sizeof(line), SOON_MS) > 0);
	expect_greeting(a, SOON_MS);		/* one session runs on */
	assert_int_equal(unlink(prog), 0);
	b = l_connect(&l, "127.0.0.3");
	assert_true(h_read_line(b, line, sizeof(line), SOON_MS) > 0);
	assert_string_equal(line, "220-mx.test\r\n");
	assert_true(h_read_line(b, line, sizeof(line), SOON_MS) > 0);
	gethostname(host, sizeof(host));
	snprintf(want, sizeof(want), "220 %s\r\n", host);
	assert_string_equal(line, want);
	assert_true(h_read_line(b, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.0 ", 10) == 0);
	close(b);
	h_copy(mta, prog, 0755);
	c = l_connect(&l, "127.0.0.4");		/* the second session */
	assert_true(h_read_line(c, line, sizeof(line), SOON_MS) > 0);
	expect_greeting(c, SOON_MS);
	d = l_connect(&l, "127.0.0.5");		/* no third: held, then busy */
	assert_true(h_read_line(d, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_read_line(d, line, sizeof(line), SOON_MS) > 0);
	assert_true(h_read_line(d, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.2 ", 10) == 0);
	close(d);
	quit(a);
	quit(c);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, "error ip=127.0.0.3 port="));
	assert_non_null(strstr(l.log, "reason=\"exec "));
	assert_non_null(strstr(l.log, "busy ip=127.0.0.5 "));
	assert_int_equal(l_count(&l, "ip=127.0.0.3 "), 1);
	unlink(prog);
}

/* A launcher that ignores SIGCHLD: sessions still end, and free -m. */
static void
test_a_launcher_that_ignores_sigchld_still_frees_sessions(void **state)
{
	char rec[4096];
	struct lsn l;
	int i, c;

	(void)state;
	launcher_ignores_chld = 1;
	l_start(&l, 0, ARGS("-s", "-m", "1", "-w", "1", "--", mta));
	assert_true(l_wait_log(&l, " 1 sessions", 1, SOON_MS));
	for (i = 0; i < 3; i++) {
		c = l_connect(&l, "127.0.0.1");
		expect_greeting(c, SOON_MS);
		quit(c);
		usleep(100000);
	}
	assert_int_equal(l_stop(&l), 0);
	assert_int_equal(l_count(&l, "allow ip=127.0.0.1 "), 3);
	/* And the program gets SIGCHLD ignored, as the launcher gave it. */
	assert_int_equal(mta_runs(rec, sizeof(rec)), 3);
	assert_non_null(strstr(rec, " ignored=10000 "));
}

/* ---- the allowlist, read again ---- */

static void
write_list(const char *path, const char *text)
{
	char tmp[300];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	assert_non_null(f = fopen(tmp, "we"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

static void
test_an_edited_allowlist_takes_effect_without_a_restart(void **state)
{
	char list[256];
	struct lsn l;
	double t0;
	int c;

	(void)state;
	snprintf(list, sizeof(list), "%s/edit.allow", tmpdir);
	write_list(list, "127.0.0.2 5\n");
	l_start(&l, 0, ARGS("-s", "-d", "0.5", "-a", list, "--", mta));
	assert_true(l_wait_log(&l, "allowlist read: 1 entry", 1, SOON_MS));
	write_list(list, "127.0.0.2\n127.0.0.3 0.2\n");
	assert_true(l_wait_log(&l, "allowlist reloaded: 2 entries", 1, 5000));
	t0 = h_now();
	c = l_connect(&l, "127.0.0.2");
	expect_greeting(c, SOON_MS);
	assert_true(h_now() - t0 < 1.0);
	quit(c);
	/* A broken edit: nobody allowlisted, everyone waits the longest. */
	write_list(list, "127.0.0.2\n127.0.0.3 0.6\n127.0.0.4 soon\n");
	assert_true(l_wait_log(&l, "allowlist reloaded: 1 problem;", 1, 5000));
	t0 = h_now();
	c = l_connect(&l, "127.0.0.2");
	expect_greeting(c, SOON_MS);
	assert_true(h_now() - t0 >= 0.6);
	quit(c);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, ":3: delay \"soon\" is not"));
	assert_non_null(strstr(l.log, "every peer waits 0.600 seconds"));
	assert_non_null(strstr(l.log, " delay=0.600 allowlist=untrusted\n"));
	unlink(list);
}

static void
test_sighup_reloads_at_once(void **state)
{
	char list[256];
	struct lsn l;

	(void)state;
	snprintf(list, sizeof(list), "%s/hup.allow", tmpdir);
	write_list(list, "127.0.0.2 5\n");
	l_start(&l, 0, ARGS("-s", "-a", list, "--", mta));
	assert_true(l_wait_log(&l, "allowlist read", 1, SOON_MS));
	kill(l.pid, SIGHUP);
	assert_true(l_wait_log(&l, "allowlist reloaded on SIGHUP: 1 entry",
	    1, SOON_MS));
	assert_int_equal(l_stop(&l), 0);
	unlink(list);
}

/* ---- stopping, and failing ---- */

static void
test_sigterm_tells_every_waiting_peer_and_spares_running_sessions(
    void **state)
{
	struct lsn l;
	char line[512];
	int w1, w2, s;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-A", "127.0.0.0/8 5", "-A", "127.0.0.9",
	    "--", mta));
	assert_true(l_wait_log(&l, "listening on", 1, SOON_MS));
	s = l_connect(&l, "127.0.0.9");
	expect_greeting(s, SOON_MS);
	w1 = l_connect(&l, "127.0.0.2");
	w2 = l_connect(&l, "127.0.0.3");
	usleep(100000);
	assert_int_equal(l_stop(&l), 0);
	assert_true(h_read_line(w1, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.2 ", 10) == 0);
	assert_true(h_read_line(w2, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.2 ", 10) == 0);
	assert_int_equal(l_count(&l, "shutdown ip="), 2);
	assert_int_equal(l_count(&l, " signal=TERM "), 2);
	/* The session started before the stop goes on. */
	assert_int_equal(write(s, "NOOP\r\n", 6), 6);
	assert_true(h_read_line(s, line, sizeof(line), SOON_MS) > 0);
	assert_string_equal(line, "250 got NOOP\r\n");
	quit(s);
	close(w1);
	close(w2);
}

/* Bad options: the listener stays up and every peer hears 421 4.3.5. */
static void
test_bad_options_keep_the_listener_up_answering_421(void **state)
{
	struct lsn l;
	char line[512];
	int i, c;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-d", "forever", "--", mta));
	for (i = 0; i < 5; i++) {
		c = l_connect(&l, "127.0.0.2");
		assert_true(h_read_line(c, line, sizeof(line), SOON_MS) > 0);
		assert_true(strncmp(line, "421 4.3.5 ", 10) == 0);
		close(c);
	}
	assert_int_equal(waitpid(l.pid, NULL, WNOHANG), 0);	/* still up */
	assert_int_equal(l_stop(&l), 0);
	/* One line a second at most: five quick peers, one or two lines. */
	assert_true(l_count(&l, "error ip=") >= 1);
	assert_true(l_count(&l, "error ip=") <= 2);
	assert_non_null(strstr(l.log, "-d: delay \\\"forever\\\" is not"));
	assert_false(h_mta_ran());
}

/* vfork() fails (no process left under RLIMIT_NPROC): 421 4.3.0. */
static void
test_a_fork_that_fails_gives_421_and_a_forkfail_line(void **state)
{
	struct lsn l;
	char line[512];
	int c;

	(void)state;
	if (geteuid() != 0)
		skip();		/* the limit must hold the listener alone */
	launcher_nproc_one = 1;
	l_start(&l, 0, ARGS("-s", "--", mta));
	assert_true(l_wait_log(&l, "listening on", 1, SOON_MS));
	c = l_connect(&l, "127.0.0.1");
	assert_true(h_read_line(c, line, sizeof(line), SOON_MS) > 0);
	assert_true(strncmp(line, "421 4.3.0 ", 10) == 0);
	close(c);
	assert_int_equal(l_stop(&l), 0);
	assert_non_null(strstr(l.log, "forkfail ip=127.0.0.1 port="));
	assert_non_null(strstr(l.log, "reason=\"fork: Resource temporarily "
	    "unavailable\""));
	assert_false(h_mta_ran());
}

/* The listener's one child: the process that starts programs. */
static pid_t
starter_of(pid_t listener)
{
	char path[64], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)listener, (long)listener);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

/*
 * Programs are started by a child of the listener; if it dies, the
 * listener says so and starts them itself: no peer goes without.
 */
static void
test_without_its_starter_the_listener_starts_programs_itself(void **state)
{
	struct lsn l;
	pid_t sp;
	int c;

	(void)state;
	l_start(&l, 0, ARGS("-s", "-A", "127.0.0.2 0.2", "--", mta));
	assert_true(l_wait_log(&l, "listening on", 1, SOON_MS));
	c = l_connect(&l, "127.0.0.2");
	expect_greeting(c, SOON_MS);
	quit(c);
	sp = starter_of(l.pid);
	assert_true(sp > 0);
	assert_int_equal(kill(sp, SIGKILL), 0);
	assert_true(l_wait_log(&l, "the process that starts programs stopped; "
	    "the listener starts them itself", 1, SOON_MS));
	c = l_connect(&l, "127.0.0.2");
	expect_greeting(c, SOON_MS);
	quit(c);
	assert_int_equal(l_stop(&l), 0);
	assert_int_equal(l_count(&l, "pass ip=127.0.0.2 "), 2);
}

/* ---- many at once ---- */

/*
 * A thousand peers wait at once and all reach the program, while the
 * log is not read at all: a log that does not keep up costs log lines,
 * counted and reported once it has room again, never a greeting.
 */
static void
test_a_thousand_peers_are_greeted_while_the_log_is_stuck(void **state)
{
	enum { N = 1000 };
	static int fd[N];
	struct lsn l;
	const char *p;
	double t0;
	int i, greeted = 0;
	unsigned long lost = 0;
	char src[32];

	(void)state;
	l_start(&l, 0, ARGS("-s", "-p", "0", "-m", "50", "-A",
	    "127.0.0.0/8 1", "--", mta));
	assert_true(l_wait_log(&l, "listening on", 1, SOON_MS));
	t0 = h_now();
	for (i = 0; i < N; i++) {
		snprintf(src, sizeof(src), "127.0.%d.%d", 1 + i / 200,
		    1 + i % 200);
		fd[i] = l_connect(&l, src);
	}
	for (i = 0; i < N; i++) {
		char line[512];

		if (h_read_line(fd[i], line, sizeof(line), 15000) > 0 &&
		    strncmp(line, "220 fakemta fds=0,1,2 ", 22) == 0)
			greeted++;
		close(fd[i]);
	}
	assert_true(h_now() - t0 >= 1.0);
	assert_int_equal(greeted, N);
	/* Room again: the count of what was lost comes within a tick. */
	l_read_log(&l);
	assert_true(l_wait_log(&l, " log lines lost", 1, 3000));
	assert_int_equal(l_stop(&l), 0);
	for (p = l.log; (p = strstr(p, " log lines lost")) != NULL; p++) {
		const char *q = p;

		while (q > l.log && q[-1] != ' ')
			q--;
		lost += strtoul(q, NULL, 10);
	}
	assert_true(lost > 0);
	assert_true((unsigned long)l_count(&l, "pass ip=") + lost >= N);
	/* What was written is whole lines. */
	assert_int_equal(l.log[l.loglen - 1], '\n');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, h_cleanup)
		T(test_allowlisted_peer_gets_the_program_as_a_launcher_would_start_it),
		T(test_silent_peer_gets_the_program_after_its_delay),
		T(test_a_launcher_that_blocks_sigterm_is_obeyed_and_passed_on),
		T(test_early_talkers_get_what_minus_e_says),
		T(test_a_peer_that_talks_before_accept_is_early_at_once),
		T(test_an_urgent_byte_is_early_talk),
		T(test_a_peer_that_leaves_is_a_hangup),
		T(test_teaser_then_the_program_completes_the_greeting),
		T(test_a_pass_is_cached_and_the_next_connection_skips_the_wait),
		T(test_per_address_limit_turns_the_next_peer_away_with_421),
		T(test_total_limit_turns_the_next_peer_away_but_allowlisted_ones_pass),
		T(test_sessions_are_capped_and_passed_peers_held),
		T(test_an_early_talker_let_in_by_minus_e_log_gets_one_line),
		T(test_a_held_peer_that_leaves_is_a_hangup_with_its_reason),
		T(test_a_failed_exec_frees_its_session_once_and_ends_the_greeting),
		T(test_a_launcher_that_ignores_sigchld_still_frees_sessions),
		T(test_an_edited_allowlist_takes_effect_without_a_restart),
		T(test_sighup_reloads_at_once),
		T(test_sigterm_tells_every_waiting_peer_and_spares_running_sessions),
		T(test_bad_options_keep_the_listener_up_answering_421),
		T(test_a_fork_that_fails_gives_421_and_a_forkfail_line),
		T(test_without_its_starter_the_listener_starts_programs_itself),
		T(test_a_thousand_peers_are_greeted_while_the_log_is_stuck),
#undef T
	};
	struct rlimit rl;
	int rc;

	mta = h_fakemta();
	/* The fake MTA runs as nobody in the fork test: let it in. */
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sendwrap-listener.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	chmod(tmpdir, 0777);
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 &&
	    rl.rlim_max >= 4096) {
		rl.rlim_cur = 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	rc = cmocka_run_group_tests_name("sendwrap listener", tests, NULL,
	    NULL);
	unlink(h_mark);
	rmdir(tmpdir);
	return rc;
}
