/*
 * harness.h - run the real sendwrap binary on a real loopback connection.
 *
 * The test plays the launcher: it listens on a fresh loopback port,
 * connects from a chosen source address, accepts, and starts sendwrap
 * with the accepted socket on fd 0 and 1, as inetd does.  Loopback is
 * allowlisted by default, so a test that needs a waiting peer gives
 * its source address (127.0.0.2, ::1) a per-entry delay.  fd 2 is a pipe that collects
 * sendwrap's log (run with -s), or the socket itself (inetd mode), in
 * which case nothing but SMTP replies may ever come out of it.
 *
 * Header-only so that each test program stays one file; every function
 * is static.  The environment gives the binaries: SENDWRAP, FAKEMTA.
 */
#ifndef SENDWRAP_HARNESS_H
#define SENDWRAP_HARNESS_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef H_ARGV_MAX		/* a test with huge command lines sets more */
#define H_ARGV_MAX	64
#endif
#define H_LOG_MAX	8192
#define H_PIDS_MAX	256

enum h_stderr { H_STDERR_PIPE, H_STDERR_SOCKET };

struct h_run {
	pid_t	 pid;
	int	 client;		/* the peer's end */
	int	 logfd;			/* read end of sendwrap's stderr, or -1 */
	char	 log[H_LOG_MAX];
	size_t	 loglen;
};

/* Every child started, so that a failed test leaves none running. */
static pid_t h_pids[H_PIDS_MAX];
static size_t h_npids;

/* If set, run in the child just before the exec: a test's launcher quirk. */
static void (*h_child_setup)(void);

static const char *
h_env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : def;
}

/*
 * The fake MTA from the environment, made absolute: some tests run
 * sendwrap from another directory, or as another user.
 */
static const char *
h_fakemta(void)
{
	static char abs[512];
	const char *path = h_env("FAKEMTA", "build/plain/fakemta");
	char cwd[400];

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return path;
	snprintf(abs, sizeof(abs), "%s/%s", cwd, path);
	return abs;
}

/* FAKEMTA_MARK: the file the fake MTA leaves behind when it runs. */
static char h_mark[512];

/* Before each test: no MTA has run yet. */
static void __attribute__((unused))
h_mark_reset(const char *dir)
{
	snprintf(h_mark, sizeof(h_mark), "%s/mta-ran", dir);
	unlink(h_mark);
	setenv("FAKEMTA_MARK", h_mark, 1);
}

static int __attribute__((unused))
h_mta_ran(void)
{
	return access(h_mark, F_OK) == 0;
}

/* Copy the file src to dst, mode mode: a program a test may remove. */
static void __attribute__((unused))
h_copy(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in, out;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) == -1) {
		fprintf(stderr, "h_copy %s %s: %s\n", src, dst, strerror(errno));
		abort();
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			abort();
	close(in);
	close(out);
	chmod(dst, mode);
}

static double
h_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
h_sockaddr(const char *ip, unsigned short port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return AF_INET6;
	}
	return -1;
}

/*
 * A connected pair over loopback: *client connects from src to a
 * listener on dst, *server is the accepted end.  A dst of "::" is a
 * dual-stack listener, which sees an IPv4 client as ::ffff:a.b.c.d.
 * Returns 0 or -1.
 */
static __attribute__((unused)) int
h_connect(const char *src, const char *dst, int *client, int *server)
{
	struct sockaddr_storage la, ca, to;
	socklen_t llen, clen, tlen = 0;
	int laf, caf, ls, c = -1, s, zero = 0, one = 1;

	if ((laf = h_sockaddr(dst, 0, &la, &llen)) == -1 ||
	    (caf = h_sockaddr(src, 0, &ca, &clen)) == -1)
		return -1;
	if ((ls = socket(laf, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (laf == AF_INET6)
		setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(ls, (struct sockaddr *)&la, llen) == -1 ||
	    listen(ls, 1) == -1 ||
	    getsockname(ls, (struct sockaddr *)&la, &llen) == -1)
		goto fail;
	h_sockaddr(caf == AF_INET ? "127.0.0.1" : "::1",
	    ntohs(laf == AF_INET ? ((struct sockaddr_in *)&la)->sin_port :
	    ((struct sockaddr_in6 *)&la)->sin6_port), &to, &tlen);
	if ((c = socket(caf, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(c, (struct sockaddr *)&ca, clen) == -1 ||
	    connect(c, (struct sockaddr *)&to, tlen) == -1 ||
	    (s = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) == -1)
		goto fail;
	close(ls);
	*client = c;
	*server = s;
	return 0;
fail:
	if (c != -1)
		close(c);
	close(ls);
	return -1;
}

/*
 * Start sendwrap with args (NULL-terminated, without argv[0]) with fd
 * in on its fd 0 and out on its fd 1, and on fd 2 too in inetd mode
 * (-1: closed).  The child also holds fd 7 open without close-on-exec,
 * as a careless launcher might: it must not reach the MTA.  The caller
 * keeps in and out; r->client is -1.
 */
static __attribute__((unused)) int
h_spawn(struct h_run *r, int in, int out, enum h_stderr mode,
    const char *const *args)
{
	const char *argv[H_ARGV_MAX];
	int pfd[2] = { -1, -1 };
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->client = r->logfd = -1;
	argv[n++] = h_env("SENDWRAP", "./sendwrap");
	while (*args != NULL && n < H_ARGV_MAX - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (mode == H_STDERR_PIPE && pipe2(pfd, O_CLOEXEC) == -1)
		return -1;
	if ((r->pid = fork()) == -1)
		return -1;
	if (r->pid > 0 && h_npids < H_PIDS_MAX)
		h_pids[h_npids++] = r->pid;
	if (r->pid == 0) {
		int leak;

		if (mode == H_STDERR_PIPE)
			dup2(pfd[1], 2);
		else if (out != -1)
			dup2(out, 2);
		else
			close(2);
		if (in != -1)
			dup2(in, 0);
		else
			close(0);
		if (out != -1)
			dup2(out, 1);
		else
			close(1);
		/*
		 * Only now: fd in or pfd[1] may itself be fd 7, which an
		 * earlier dup2() would have replaced with /dev/null.
		 */
		/* NOLINTNEXTLINE(android-cloexec-open): the leak is the test */
		leak = open("/dev/null", O_RDONLY);
		if (leak != -1 && leak != 7) {
			dup2(leak, 7);
			close(leak);
		}
		if (h_child_setup != NULL)
			h_child_setup();
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (mode == H_STDERR_PIPE) {
		close(pfd[1]);
		r->logfd = pfd[0];
	}
	return 0;
}

/* h_spawn() on a new loopback connection from src to dst. */
static __attribute__((unused)) int
h_start(struct h_run *r, const char *src, const char *dst,
    enum h_stderr mode, const char *const *args)
{
	int client, server, rc;

	memset(r, 0, sizeof(*r));
	r->client = r->logfd = -1;
	if (h_connect(src, dst, &client, &server) == -1)
		return -1;
	rc = h_spawn(r, server, server, mode, args);
	close(server);
	r->client = client;
	return rc;
}

/*
 * Read from fd until one CRLF-terminated line has arrived, the peer
 * closes, or timeout_ms passes.  A byte at a time, so that a second
 * line already in flight stays for the next call.  Returns bytes read,
 * or -1 on a reset before any byte.
 */
static ssize_t
h_read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	double end = h_now() + timeout_ms / 1000.0;
	size_t len = 0;

	buf[0] = '\0';
	while (len < size - 1) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int left = (int)((end - h_now()) * 1000);
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		n = read(fd, buf + len, 1);
		if (n == 0)
			break;
		if (n < 0)
			return errno == ECONNRESET && len == 0 ? -1 : (ssize_t)len;
		len += (size_t)n;
		buf[len] = '\0';
		if (len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n')
			break;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Read until the peer closes or resets, or timeout_ms passes. */
static size_t __attribute__((unused))
h_read_all(int fd, char *buf, size_t size, int timeout_ms)
{
	double end = h_now() + timeout_ms / 1000.0;
	size_t len = 0;

	while (len < size - 1) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int left = (int)((end - h_now()) * 1000);
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		if ((n = read(fd, buf + len, size - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

/*
 * Wait up to timeout_ms for sendwrap (or whatever it became) to exit,
 * killing it after that.  Then collect its log.  Returns the wait
 * status, or -1 if it had to be killed.
 */
static __attribute__((unused)) int
h_finish(struct h_run *r, int timeout_ms)
{
	double end = h_now() + timeout_ms / 1000.0;
	int status = 0, killed = 0;

	if (r->client != -1) {
		close(r->client);
		r->client = -1;
	}
	for (;;) {
		pid_t w = waitpid(r->pid, &status, WNOHANG);

		if (w == r->pid)
			break;
		if (h_now() > end) {
			kill(r->pid, SIGKILL);
			waitpid(r->pid, &status, 0);
			killed = 1;
			break;
		}
		usleep(5000);
	}
	if (r->logfd != -1) {
		ssize_t n;

		/* Whatever sendwrap became may still hold the pipe open. */
		fcntl(r->logfd, F_SETFL, O_NONBLOCK);
		while (r->loglen < sizeof(r->log) - 1 &&
		    (n = read(r->logfd, r->log + r->loglen,
		    sizeof(r->log) - 1 - r->loglen)) > 0)
			r->loglen += (size_t)n;
		r->log[r->loglen] = '\0';
		close(r->logfd);
		r->logfd = -1;
	}
	if (getenv("H_DEBUG") != NULL)
		fprintf(stderr, "[sendwrap status %#x] %s\n", status, r->log);
	return killed ? -1 : status;
}

/*
 * Stop whatever a test started and did not reap (an assertion that
 * fails leaves before h_finish): kill by pid, then reap.  For a
 * cmocka teardown.
 */
static int
h_cleanup(void **state)
{
	size_t i;
	int status;

	(void)state;
	for (i = 0; i < h_npids; i++) {
		if (waitpid(h_pids[i], &status, WNOHANG) == 0) {
			kill(h_pids[i], SIGKILL);
			waitpid(h_pids[i], &status, 0);
		}
	}
	h_npids = 0;
	return 0;
}

/* Count the log lines that contain needle. */
static __attribute__((unused)) int
h_log_count(const struct h_run *r, const char *needle)
{
	const char *p = r->log;
	int n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* The number of lines in the log. */
static __attribute__((unused)) int
h_log_lines(const struct h_run *r)
{
	return h_log_count(r, "\n");
}

#endif
