/*
 * log.c - sendwrap's one exit for diagnostics: syslog or standard error.
 *
 * syslog(3) is not used: glibc's blocks when the log socket's queue is
 * full, and a listener that holds thousands of peers must not stall on
 * a slow or rate-limiting log daemon.  So sendwrap writes the datagram
 * itself, as syslog(3) would ("<PRI>Mmm dd hh:mm:ss sendwrap[PID]: "),
 * to /dev/log; per connection it waits for a full socket as syslog(3)
 * does, in the listener it never waits and counts what it could not
 * write.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define PENDING_MAX	16384	/* a stream's unwritten tail (listener) */
#define RETRY_SECONDS	1	/* between tries to reach /dev/log */

/* Zero at start, set by log_open(). */
static struct {
	enum log_dest	 dest;
	int		 verbose;
	int		 nonblocking;
	int		 fd;		/* syslog socket, or the stderr to use */
	int		 is_socket;	/* fd takes send(MSG_DONTWAIT) */
	time_t		 last_try;	/* to connect to /dev/log */
	unsigned long	 lost;
	size_t		 pending;
	char		*tail;		/* PENDING_MAX, non-blocking only */
} lg;

static const char *log_socket = LOG_SOCKET;	/* tests point it elsewhere */

/*
 * Is fd an internet socket?  Under inetd, fd 2 is the connection, and
 * no log text may reach it.
 */
int
fd_is_inet_socket(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));	/* for the analyzer: no garbage read */
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	return ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
}

/*
 * Where diagnostics go.  stderr only when asked (-s) or a person is
 * watching (a terminal), and never when fd 2 is an internet socket:
 * under inetd that is the SMTP connection, and a copied inetd line
 * with -s must not put log text on the wire.
 */
enum log_dest
log_choose(int want_stderr)
{
	if ((want_stderr || isatty(STDERR_FILENO)) &&
	    !fd_is_inet_socket(STDERR_FILENO))
		return LOG_TO_STDERR;
	return LOG_TO_SYSLOG;
}

static int
syslog_connect(void)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", log_socket) >=
	    (int)sizeof(sun.sun_path))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Can a connection's log reach syslog?  For -t. */
int
log_syslog_reachable(void)
{
	int fd = syslog_connect();

	if (fd == -1)
		return 0;
	close(fd);
	return 1;
}

void
log_open(int want_stderr, int verbose)
{
	lg.fd = -1;
	lg.dest = log_choose(want_stderr);
	lg.verbose = verbose;
	if (lg.dest == LOG_TO_STDERR) {
		lg.fd = STDERR_FILENO;
		return;
	}
	lg.last_try = time(NULL);
	lg.fd = syslog_connect();
	lg.is_socket = 1;
}

/*
 * From now on no write may block.  A socket takes MSG_DONTWAIT on each
 * send.  For a pipe (tcpserver's logger), O_NONBLOCK on fd 2 itself
 * would reach the programs that inherit it, so a second open file
 * description of the same pipe is made, through /proc, and only that
 * one is non-blocking.
 */
void
log_nonblocking(void)
{
	struct stat st;
	int fd;

	lg.nonblocking = 1;
	if (lg.dest != LOG_TO_STDERR)
		return;
	/* Without it, a line a stream takes in part is lost, and counted. */
	lg.tail = malloc(PENDING_MAX);
	if (fstat(STDERR_FILENO, &st) == -1)
		return;
	if (S_ISSOCK(st.st_mode)) {
		lg.is_socket = 1;
		return;
	}
	if (S_ISFIFO(st.st_mode) && (fd = open("/proc/self/fd/2",
	    O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) != -1)
		lg.fd = fd;
}

unsigned long
log_lost(void)
{
	unsigned long n = lg.lost;

	lg.lost = 0;
	return n;
}

/*
 * Say how many lines were lost since it was last said.  If the log has
 * no room for that either, the count is kept for the next try.
 */
void
log_report_lost(void)
{
	unsigned long n = lg.lost;

	if (n == 0)
		return;
	lg.lost = 0;
	logmsg(LOG_WARNING, "%lu log lines lost: the log did not keep up", n);
	if (lg.lost > 0)
		lg.lost = n;
}

static ssize_t
put(const char *buf, size_t len)
{
	if (lg.is_socket)
		return send(lg.fd, buf, len, MSG_NOSIGNAL |
		    (lg.nonblocking ? MSG_DONTWAIT : 0));
	return write(lg.fd, buf, len);
}

/* Write out what a stream did not take before (listener only). */
void
log_flush(void)
{
	ssize_t n;

	while (lg.pending > 0) {
		if ((n = put(lg.tail, lg.pending)) <= 0) {
			if (n == -1 && (errno == EAGAIN || errno == EINTR))
				return;
			lg.pending = 0;		/* the reader is gone */
			return;
		}
		memmove(lg.tail, lg.tail + n, lg.pending - (size_t)n);
		lg.pending -= (size_t)n;
	}
}

/*
 * A whole line to stderr.  Blocking, it all goes out.  Non-blocking
 * (the listener), a line that finds no room is lost and counted; one
 * that a stream socket took in part is finished later, before any
 * other, so that no line is ever cut.  (A pipe takes a line of at most
 * PIPE_BUF bytes whole or not at all.)
 */
static void
to_stream(const char *line, size_t len)
{
	size_t done = 0;
	ssize_t n;

	log_flush();
	if (lg.pending > 0) {
		if (lg.pending + len > PENDING_MAX) {
			lg.lost++;
			return;
		}
		memcpy(lg.tail + lg.pending, line, len);
		lg.pending += len;
		return;
	}
	while (done < len) {
		n = put(line + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			if (lg.nonblocking && done < len)
				break;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (done == 0)
			lg.lost++;
		return;
	}
	if (done < len) {
		if (lg.tail == NULL) {
			lg.lost++;
			return;
		}
		memcpy(lg.tail, line + done, len - done);
		lg.pending = len - done;
	}
}

/* One datagram; a daemon restarted since is reconnected to, once. */
static void
to_syslog(int prio, const char *msg)
{
	char line[LOG_LINE_MAX + 64], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int n, tries;

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm) == 0)
		stamp[0] = '\0';
	n = snprintf(line, sizeof(line), "<%d>%s sendwrap[%ld]: %s",
	    LOG_MAIL | prio, stamp, (long)getpid(), msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	for (tries = 0; tries < 2; tries++) {
		if (lg.fd == -1) {
			if (lg.nonblocking && now - lg.last_try < RETRY_SECONDS)
				break;
			lg.last_try = now;
			if ((lg.fd = syslog_connect()) == -1)
				break;
		}
		if (put(line, (size_t)n) != -1)
			return;
		if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
			break;
		close(lg.fd);		/* ECONNREFUSED: a new daemon */
		lg.fd = -1;
	}
	lg.lost++;
}

void
logmsg(int prio, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 32];
	va_list ap;
	int n;

	if (prio == LOG_DEBUG && !lg.verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lg.dest == LOG_TO_SYSLOG) {
		to_syslog(prio, msg);
		return;
	}
	n = snprintf(line, sizeof(line), "sendwrap[%ld]: %s\n",
	    (long)getpid(), msg);
	if (n > 0)
		to_stream(line, (size_t)n < sizeof(line) ? (size_t)n :
		    sizeof(line) - 1);
}
