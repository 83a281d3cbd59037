/*
 * smtpprobe - an SMTP client for sendwrap's integration tests and demo.
 *
 * It opens one or many connections at once, from a chosen source
 * address, and either waits politely for the greeting (then says QUIT)
 * or talks first, as a spam bot does, by sending EHLO the moment the
 * connection is up.  For each connection it prints what it saw and
 * when, so a test can tell a prompt greeting from a delayed one and a
 * greeting from a dropped connection:
 *
 *   conn=1 port=40312 result=greeted after=2.004 line="220 ..."
 *   conn=2 port=40314 result=closed after=0.001 bytes=0 data=""
 *
 * result is greeted (a reply line came), closed (end of file before
 * any line), reset (connection reset), timeout or error.  With -n more
 * than 1 a summary line follows.  Only loopback addresses are used by
 * the tests; the probe itself does not care.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS	1000
#define LINE_MAX_SHOWN	200	/* bytes of a reply kept for the report */
#define EARLY_TEXT	"EHLO probe.example\r\n"
#define QUIT_TEXT	"QUIT\r\n"

enum state { S_CONNECTING, S_WAITING, S_QUITTING, S_DONE };
enum result { R_NONE, R_GREETED, R_CLOSED, R_RESET, R_TIMEOUT, R_ERROR };
static const char *const result_names[] = {
	"none", "greeted", "closed", "reset", "timeout", "error"
};

struct conn {
	int		 fd;
	enum state	 state;
	enum result	 result;
	int64_t		 t0, after;	/* ns: start, and when result was known */
	unsigned	 lport;
	size_t		 bytes;		/* received before the result */
	char		 buf[LINE_MAX_SHOWN + 1];
	size_t		 len;
	char		 what[128];	/* R_ERROR: why */
};

static int verbose;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
usage(void)
{
	fprintf(stderr, "usage: smtpprobe [-ev] [-b source] [-n count] "
	    "[-t seconds] host port\n"
	    "  -e  talk first: send EHLO right after connecting\n"
	    "  -v  print the conversation as it happens\n");
	exit(64);
}

/* Bytes as a quoted, single-line string. */
static void
print_quoted(const char *s, size_t n)
{
	size_t i;

	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r')
			fputs("\\r", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
trace(const struct conn *c, const char *dir, const char *s, size_t n)
{
	int64_t t = now_ns() - c->t0;

	if (!verbose)
		return;
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	printf("    %3lld.%03llds %s %.*s\n", (long long)(t / 1000000000),
	    (long long)(t / 1000000 % 1000), dir, (int)n, s);
	fflush(stdout);
}

static void
finish(struct conn *c, enum result r)
{
	if (c->result == R_NONE) {
		c->result = r;
		c->after = now_ns() - c->t0;
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = S_DONE;
}

static void
fail(struct conn *c, const char *what)
{
	snprintf(c->what, sizeof(c->what), "%s: %s", what, strerror(errno));
	finish(c, R_ERROR);
}

static void
say(struct conn *c, const char *text)
{
	size_t n = strlen(text);

	trace(c, "->", text, n);
	if (send(c->fd, text, n, MSG_NOSIGNAL) != (ssize_t)n)
		fail(c, "send");
}

static void
start(struct conn *c, const struct addrinfo *dst, const struct addrinfo *src)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(c, 0, sizeof(*c));
	c->t0 = now_ns();
	c->fd = socket(dst->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd == -1) {
		fail(c, "socket");
		return;
	}
	if (src != NULL && bind(c->fd, src->ai_addr, src->ai_addrlen) == -1) {
		fail(c, "bind");
		return;
	}
	if (connect(c->fd, dst->ai_addr, dst->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		fail(c, "connect");
		return;
	}
	memset(&ss, 0, sizeof(ss));
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0)
		c->lport = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	c->state = S_CONNECTING;
}

/* The connection is up: a polite client waits, a bot talks at once. */
static void
connected(struct conn *c, int early)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		errno = err;
		fail(c, "connect");
		return;
	}
	c->state = S_WAITING;
	if (early)
		say(c, EARLY_TEXT);
}

static void
readable(struct conn *c)
{
	char buf[4096], *nl;
	ssize_t n;
	size_t room;

	n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (errno == ECONNRESET) {
			if (c->state == S_QUITTING)
				finish(c, R_GREETED);
			else
				finish(c, R_RESET);
			return;
		}
		fail(c, "recv");
		return;
	}
	if (n == 0) {
		finish(c, c->state == S_QUITTING ? R_GREETED : R_CLOSED);
		return;
	}
	if (c->state == S_QUITTING) {
		trace(c, "<-", buf, (size_t)n);
		return;
	}
	c->bytes += (size_t)n;
	room = LINE_MAX_SHOWN - c->len;
	if ((size_t)n < room)
		room = (size_t)n;
	memcpy(c->buf + c->len, buf, room);
	c->len += room;
	c->buf[c->len] = '\0';
	if ((nl = memchr(c->buf, '\n', c->len)) == NULL &&
	    c->len < LINE_MAX_SHOWN)
		return;
	/* The first whole line is the greeting (or an early reply). */
	if (nl != NULL)
		c->len = (size_t)(nl - c->buf) + 1;
	trace(c, "<-", c->buf, c->len);
	c->result = R_GREETED;
	c->after = now_ns() - c->t0;
	c->state = S_QUITTING;
	say(c, QUIT_TEXT);
}

static int
resolve(const char *host, const char *port, struct addrinfo **out)
{
	struct addrinfo hints;
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | (port ? AI_NUMERICSERV : 0);
	if ((e = getaddrinfo(host, port ? port : "0", &hints, out)) != 0) {
		fprintf(stderr, "smtpprobe: %s: %s\n", host, gai_strerror(e));
		return -1;
	}
	return 0;
}

static void
report(const struct conn *c, int i)
{
	printf("conn=%d port=%u result=%s after=%lld.%03lld", i + 1, c->lport,
	    result_names[c->result], (long long)(c->after / 1000000000),
	    (long long)(c->after / 1000000 % 1000));
	if (c->result == R_GREETED) {
		size_t n = c->len;

		while (n > 0 && (c->buf[n - 1] == '\n' || c->buf[n - 1] == '\r'))
			n--;
		fputs(" line=", stdout);
		print_quoted(c->buf, n);
	} else if (c->result == R_ERROR) {
		fputs(" what=", stdout);
		print_quoted(c->what, strlen(c->what));
	} else {
		printf(" bytes=%zu data=", c->bytes);
		print_quoted(c->buf, c->len);
	}
	putchar('\n');
}

int
main(int argc, char **argv)
{
	static struct conn conns[MAX_CONNS];
	static struct pollfd pfd[MAX_CONNS];
	struct addrinfo *dst, *src = NULL;
	const char *source = NULL;
	long count = 1, timeout = 15;
	int64_t deadline;
	int ch, early = 0, i, n;
	int tally[R_ERROR + 1] = { 0 };
	int64_t min = -1, max = 0;
	char *end;

	while ((ch = getopt(argc, argv, "b:en:t:v")) != -1) {
		switch (ch) {
		case 'b': source = optarg; break;
		case 'e': early = 1; break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end != '\0' || count < 1 || count > MAX_CONNS)
				usage();
			break;
		case 't':
			timeout = strtol(optarg, &end, 10);
			if (*end != '\0' || timeout < 1 || timeout > 600)
				usage();
			break;
		case 'v': verbose = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if (resolve(argv[optind], argv[optind + 1], &dst) == -1)
		return 1;
	if (source != NULL && resolve(source, NULL, &src) == -1)
		return 1;
	n = (int)count;
	for (i = 0; i < n; i++)
		start(&conns[i], dst, src);
	deadline = now_ns() + (int64_t)timeout * 1000000000;
	for (;;) {
		int64_t left = deadline - now_ns();
		int open = 0, r;

		for (i = 0; i < n; i++) {
			pfd[i].fd = conns[i].fd;
			pfd[i].events = conns[i].state == S_CONNECTING ?
			    POLLOUT : POLLIN;
			pfd[i].revents = 0;
			if (conns[i].fd != -1)
				open++;
		}
		if (open == 0)
			break;
		if (left <= 0) {
			for (i = 0; i < n; i++)
				if (conns[i].fd != -1)
					finish(&conns[i], R_TIMEOUT);
			break;
		}
		r = poll(pfd, (nfds_t)n, (int)(left / 1000000) + 1);
		if (r == -1 && errno != EINTR) {
			perror("smtpprobe: poll");
			return 1;
		}
		for (i = 0; r > 0 && i < n; i++) {
			if (pfd[i].revents == 0 || conns[i].fd == -1)
				continue;
			if (conns[i].state == S_CONNECTING)
				connected(&conns[i], early);
			else
				readable(&conns[i]);
		}
	}
	for (i = 0; i < n; i++) {
		const struct conn *c = &conns[i];

		report(c, i);
		tally[c->result]++;
		if (c->result == R_GREETED) {
			if (min < 0 || c->after < min)
				min = c->after;
			if (c->after > max)
				max = c->after;
		}
	}
	if (n > 1) {
		if (min < 0)
			min = 0;
		printf("total=%d greeted=%d closed=%d reset=%d timeout=%d "
		    "error=%d min=%lld.%03lld max=%lld.%03lld\n", n,
		    tally[R_GREETED], tally[R_CLOSED], tally[R_RESET],
		    tally[R_TIMEOUT], tally[R_ERROR],
		    (long long)(min / 1000000000),
		    (long long)(min / 1000000 % 1000),
		    (long long)(max / 1000000000),
		    (long long)(max / 1000000 % 1000));
	}
	freeaddrinfo(dst);
	if (src != NULL)
		freeaddrinfo(src);
	return 0;
}
