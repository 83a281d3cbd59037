/*
 * smtpprobe - an SMTP client for sendwrap's integration tests and demo.
 *
 * It opens one or many connections, at once or at a steady rate, from a
 * chosen source address or spread over a network of them, and either
 * waits politely for the greeting (then says QUIT) or talks first, as
 * a spam bot does, by sending EHLO (or an urgent byte) the moment the
 * connection is up.  For each connection it prints what it saw and
 * when, so a test can tell a prompt greeting from a delayed one and a
 * greeting from a refusal or a dropped connection:
 *
 *   conn=1 port=40312 result=greeted after=2.004 line="220 ..."
 *   conn=2 port=40314 result=closed after=0.001 bytes=0 data=""
 *   conn=3 port=40316 result=replied after=0.002 line="421 4.7.0 ..."
 *
 * result is greeted (a "220" greeting came; for a multi-line one, its
 * last line, after which first= holds its first), replied (another
 * reply came first, such as a 421: the connection is then closed),
 * closed (end of file before any line), reset (connection reset),
 * hungup (-c: it hung up first), timeout or error.  With -k the session
 * is kept open a while after the greeting, and bye= is the reply to
 * QUIT.  With -n more than 1 a summary line follows; -q prints only
 * that.  It counts each result, and gives the bytes received before
 * the results (bytes_in), the most connections waiting for a reply at
 * once (waiting_max), and when, from the first connect, the last was
 * started and connected and the first reply came.  One process holds up to 100,000 connections (one epoll set;
 * its descriptor limit is raised to the hard one).  Only loopback
 * addresses are used by the tests; the probe itself does not care.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS	100000
#define LINE_MAX_SHOWN	200	/* bytes of a reply kept for the report */
#define EVENTS_MAX	512
#define STARTS_A_TURN	256	/* -r: so that replies are read on time */
#define EARLY_TEXT	"EHLO probe.example\r\n"
#define QUIT_TEXT	"QUIT\r\n"
#define NS		1000000000LL

enum state { S_IDLE, S_CONNECTING, S_WAITING, S_HOLDING, S_QUITTING, S_DONE };
enum result { R_NONE, R_GREETED, R_REPLIED, R_CLOSED, R_RESET, R_HUNGUP,
    R_TIMEOUT, R_ERROR, R_COUNT };
static const char *const result_names[R_COUNT] = {
	"none", "greeted", "replied", "closed", "reset", "hungup",
	"timeout", "error"
};

struct conn {
	int		 fd;
	enum state	 state;
	enum result	 result;
	int64_t		 t0, after;	/* ns: start, and when result was known */
	int64_t		 first_after;	/* a multi-line greeting's first line */
	int64_t		 quit_at;	/* -k: when to say QUIT */
	unsigned	 lport;
	size_t		 bytes;		/* received before the result */
	char		 buf[LINE_MAX_SHOWN + 1];
	size_t		 len;
	char		 first[LINE_MAX_SHOWN + 1];	/* "220-..." */
	char		 bye[LINE_MAX_SHOWN + 1];	/* reply to QUIT */
	size_t		 byelen;
	char		 what[128];	/* R_ERROR: why */
};

/* What every connection is told to do. */
static struct {
	int		 early;		/* 1: EHLO at once; 2: an urgent byte */
	int		 verbose, quiet;
	int64_t		 timeout, keep, hangup;	/* ns; keep, hangup 0: off */
} opt;

static struct conn *conns;
static int ep;
static long nwaiting, waiting_max;	/* connected, no reply yet */
static long ndone;
static int64_t connected_by;		/* when the last one was connected */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void
usage(void)
{
	fprintf(stderr, "usage: smtpprobe [-eqUv] [-b source[/prefix]] "
	    "[-c seconds] [-k seconds] [-n count]\n"
	    "                 [-r per-second] [-t seconds] host port\n"
	    "  -b  bind to source; with /prefix (IPv4), spread the connections\n"
	    "      over that network's addresses, one each in turn\n"
	    "  -c  hang up after this many seconds without a reply\n"
	    "  -e  talk first: send EHLO right after connecting\n"
	    "  -k  keep the session this many seconds after the greeting\n"
	    "  -q  print the summary line only\n"
	    "  -r  start this many connections a second, not all at once\n"
	    "  -U  talk first with one urgent (out-of-band) byte\n"
	    "  -v  print the conversation as it happens\n");
	exit(64);
}

/* Seconds, with up to nine decimals, as nanoseconds; -1 if bad. */
static int64_t
seconds(const char *s, double lo, double hi)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || isnan(d) || d < lo ||
	    d > hi)
		return -1;
	return (int64_t)(d * 1e9);
}

static long
count_arg(const char *s, long lo, long hi)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || n < lo || n > hi)
		usage();
	return n;
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

	if (!opt.verbose)
		return;
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	printf("    %3lld.%03llds %s %.*s\n", (long long)(t / NS),
	    (long long)(t / 1000000 % 1000), dir, (int)n, s);
	fflush(stdout);
}

static void
set_result(struct conn *c, enum result r)
{
	if (c->result != R_NONE)
		return;
	c->result = r;
	c->after = now_ns() - c->t0;
	if (c->state == S_WAITING)
		nwaiting--;
}

static void
finish(struct conn *c, enum result r)
{
	if (c->state == S_DONE)
		return;
	ndone++;
	set_result(c, r);
	if (c->fd != -1)
		close(c->fd);		/* and out of the epoll set with it */
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
start(struct conn *c, int i, const struct sockaddr *dst, socklen_t dstlen,
    const struct sockaddr *src, socklen_t srclen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct epoll_event ev;

	c->t0 = now_ns();
	c->fd = socket(dst->sa_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd == -1) {
		fail(c, "socket");
		return;
	}
	if (src != NULL && bind(c->fd, src, srclen) == -1) {
		fail(c, "bind");
		return;
	}
	if (connect(c->fd, dst, dstlen) == -1 && errno != EINPROGRESS) {
		fail(c, "connect");
		return;
	}
	memset(&ss, 0, sizeof(ss));
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0)
		c->lport = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	c->state = S_CONNECTING;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
	ev.data.u32 = (uint32_t)i;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		fail(c, "epoll_ctl");
}

/* The connection is up: a polite client waits, a bot talks at once. */
static void
connected(struct conn *c, int i)
{
	struct epoll_event ev;
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		errno = err;
		fail(c, "connect");
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u32 = (uint32_t)i;
	(void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->state = S_WAITING;
	connected_by = now_ns();
	if (++nwaiting > waiting_max)
		waiting_max = nwaiting;
	if (opt.early == 1)
		say(c, EARLY_TEXT);
	else if (opt.early == 2) {
		trace(c, "->", "(urgent byte)", 13);
		if (send(c->fd, "!", 1, MSG_OOB | MSG_NOSIGNAL) != 1)
			fail(c, "send");
	}
}

/* A whole line of a reply to QUIT, kept for the report. */
static void
quit_reply(struct conn *c, const char *buf, size_t n)
{
	size_t room = LINE_MAX_SHOWN - c->byelen;
	char *nl;

	trace(c, "<-", buf, n);
	if (n < room)
		room = n;
	memcpy(c->bye + c->byelen, buf, room);
	c->byelen += room;
	c->bye[c->byelen] = '\0';
	if ((nl = memchr(c->bye, '\n', c->byelen)) != NULL)
		c->byelen = (size_t)(nl - c->bye);
	while (c->byelen > 0 && c->bye[c->byelen - 1] == '\r')
		c->byelen--;
	c->bye[c->byelen] = '\0';
}

/*
 * Whole lines from the server.  A greeting may take several lines
 * ("220-..." first, as sendwrap's -g sends it); the last one, "220 ",
 * ends it.  Anything else ends the wait too, as a refusal.  A client
 * that talked first reads on past a greeting (sendwrap's "220 HOST"
 * after a teaser, or the MTA's under -e log) to the reply to what it
 * said: replied, with the first greeting line as first=.  An urgent
 * byte is not in the stream an MTA reads, and gets no reply there: a
 * client that sent one takes a greeting as a polite one does.
 */
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
			finish(c, c->state == S_QUITTING ||
			    c->state == S_HOLDING ? R_GREETED : R_RESET);
			return;
		}
		fail(c, "recv");
		return;
	}
	if (n == 0) {
		finish(c, c->state == S_QUITTING || c->state == S_HOLDING ?
		    R_GREETED : R_CLOSED);
		return;
	}
	if (c->state == S_QUITTING || c->state == S_HOLDING) {
		if (c->state == S_QUITTING && c->byelen == 0)
			quit_reply(c, buf, (size_t)n);
		else
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
	for (;;) {
		size_t used;

		if ((nl = memchr(c->buf, '\n', c->len)) == NULL) {
			if (c->len < LINE_MAX_SHOWN)
				return;
			nl = c->buf + c->len - 1;	/* a line too long */
		}
		used = (size_t)(nl - c->buf) + 1;
		trace(c, "<-", c->buf, used);
		if (used >= 4 && (strncmp(c->buf, "220-", 4) == 0 ||
		    (opt.early == 1 && strncmp(c->buf, "220", 3) == 0))) {
			/* The greeting goes on: keep its first line. */
			if (c->first[0] == '\0') {
				size_t k = used;

				while (k > 0 && (c->buf[k - 1] == '\n' ||
				    c->buf[k - 1] == '\r'))
					k--;
				memcpy(c->first, c->buf, k);
				c->first[k] = '\0';
				c->first_after = now_ns() - c->t0;
			}
			memmove(c->buf, c->buf + used, c->len - used);
			c->len -= used;
			c->buf[c->len] = '\0';
			continue;
		}
		c->len = used;
		break;
	}
	if (strncmp(c->buf, "220", 3) != 0) {
		finish(c, R_REPLIED);
		return;
	}
	set_result(c, R_GREETED);
	if (opt.keep > 0) {
		c->state = S_HOLDING;
		c->quit_at = now_ns() + opt.keep;
		return;
	}
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
print_secs(const char *name, int64_t t)
{
	if (t < 0)
		t = 0;
	printf(" %s=%lld.%03lld", name, (long long)(t / NS),
	    (long long)(t / 1000000 % 1000));
}

static void
report(const struct conn *c, int i)
{
	printf("conn=%d port=%u result=%s", i + 1, c->lport,
	    result_names[c->result]);
	print_secs("after", c->after);
	if (c->result == R_GREETED || c->result == R_REPLIED) {
		size_t n = c->len;

		while (n > 0 && (c->buf[n - 1] == '\n' || c->buf[n - 1] == '\r'))
			n--;
		if (c->first[0] != '\0') {
			print_secs("first_after", c->first_after);
			fputs(" first=", stdout);
			print_quoted(c->first, strlen(c->first));
		}
		if (opt.keep > 0 && c->result == R_GREETED) {
			fputs(" bye=", stdout);
			print_quoted(c->bye, c->byelen);
		}
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

/* The source address of connection i: one address, or the i-th host of
 * a network, round and round (its first and last addresses left out). */
static void
source_of(long i, const struct addrinfo *src, uint32_t net, uint32_t hosts,
    struct sockaddr_storage *ss, socklen_t *len)
{
	memcpy(ss, src->ai_addr, src->ai_addrlen);
	*len = src->ai_addrlen;
	if (hosts > 0)
		((struct sockaddr_in *)ss)->sin_addr.s_addr =
		    htonl(net + 1 + (uint32_t)(i % hosts));
}

int
main(int argc, char **argv)
{
	static struct epoll_event ev[EVENTS_MAX];
	struct addrinfo *dst, *src = NULL;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct rlimit rl;
	char source[INET6_ADDRSTRLEN + 8] = "", *slash;
	long count = 1, rate = 0, prefix = -1, started = 0, i;
	long tally[R_COUNT] = { 0 }, oldest = 0;
	unsigned long long bytes_in = 0;
	int64_t begin, last_start = 0, first_reply = -1;
	int64_t min = -1, max = 0, timeout = 15 * NS;
	uint32_t net = 0, hosts = 0;
	int ch, n, k;

	while ((ch = getopt(argc, argv, "b:c:ek:n:qr:t:Uv")) != -1) {
		switch (ch) {
		case 'b':
			if ((size_t)snprintf(source, sizeof(source), "%s",
			    optarg) >= sizeof(source))
				usage();
			if ((slash = strchr(source, '/')) != NULL) {
				*slash = '\0';
				prefix = count_arg(slash + 1, 8, 30);
			}
			break;
		case 'c':
			if ((opt.hangup = seconds(optarg, 0.001, 600)) == -1)
				usage();
			break;
		case 'e': opt.early = 1; break;
		case 'k':
			if ((opt.keep = seconds(optarg, 0.001, 600)) == -1)
				usage();
			break;
		case 'n': count = count_arg(optarg, 1, MAX_CONNS); break;
		case 'q': opt.quiet = 1; break;
		case 'r': rate = count_arg(optarg, 1, 1000000); break;
		case 't':
			if ((timeout = seconds(optarg, 0.001, 600)) == -1)
				usage();
			break;
		case 'U': opt.early = 2; break;
		case 'v': opt.verbose = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	opt.timeout = timeout;
	if (resolve(argv[optind], argv[optind + 1], &dst) == -1)
		return 1;
	if (source[0] != '\0' && resolve(source, NULL, &src) == -1)
		return 1;
	if (prefix != -1) {
		if (src == NULL || src->ai_family != AF_INET) {
			fprintf(stderr, "smtpprobe: -b %s/%ld: IPv4 only\n",
			    source, prefix);
			return 64;
		}
		hosts = (1u << (32 - prefix)) - 2;
		net = ntohl(((struct sockaddr_in *)src->ai_addr)->
		    sin_addr.s_addr) & ~((1u << (32 - prefix)) - 1);
	}
	/* Many connections need many descriptors. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((conns = calloc((size_t)count, sizeof(*conns))) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("smtpprobe");
		return 1;
	}
	for (i = 0; i < count; i++)
		conns[i].fd = -1;
	begin = now_ns();
	while (ndone < count) {
		int64_t now = now_ns(), next = now + NS / 10;
		long want, turn = 0;

		/* Start what is due: all at once, or rate a second. */
		want = rate > 0 ? (long)((now - begin) * rate / NS) + 1 : count;
		if (want > count)
			want = count;
		while (started < want && (rate == 0 || turn++ < STARTS_A_TURN)) {
			const struct sockaddr *s = NULL;

			salen = 0;
			if (src != NULL) {
				source_of(started, src, net, hosts, &sa, &salen);
				s = (struct sockaddr *)&sa;
			}
			start(&conns[started], (int)started, dst->ai_addr,
			    dst->ai_addrlen, s, salen);
			last_start = now_ns();
			started++;
		}
		if (started < count && rate > 0) {
			int64_t due = begin + started * NS / rate;

			if (due < next)
				next = due;
		}
		/* Time: replies that never came, sessions to end, hang-ups. */
		now = now_ns();
		while (oldest < started && (conns[oldest].state == S_DONE ||
		    conns[oldest].t0 + opt.timeout <= now)) {
			if (conns[oldest].state != S_DONE)
				finish(&conns[oldest], R_TIMEOUT);
			oldest++;
		}
		if (oldest < started && conns[oldest].t0 + opt.timeout < next)
			next = conns[oldest].t0 + opt.timeout;
		if (opt.keep > 0 || opt.hangup > 0)
			for (i = oldest; i < started; i++) {
				struct conn *c = &conns[i];

				if (c->state == S_HOLDING && c->quit_at <= now) {
					c->state = S_QUITTING;
					say(c, QUIT_TEXT);
				} else if (c->state == S_HOLDING &&
				    c->quit_at < next)
					next = c->quit_at;
				if (opt.hangup > 0 && c->result == R_NONE &&
				    c->state != S_DONE) {
					if (c->t0 + opt.hangup <= now)
						finish(c, R_HUNGUP);
					else if (c->t0 + opt.hangup < next)
						next = c->t0 + opt.hangup;
				}
			}
		if (ndone >= count)
			break;
		now = now_ns();
		n = epoll_wait(ep, ev, EVENTS_MAX, next > now ?
		    (int)((next - now + 999999) / 1000000) : 0);
		if (n == -1 && errno != EINTR) {
			perror("smtpprobe: epoll_wait");
			return 1;
		}
		for (k = 0; k < n; k++) {
			struct conn *c = &conns[ev[k].data.u32];

			if (c->fd == -1)
				continue;
			if (c->state == S_CONNECTING) {
				if (ev[k].events & (EPOLLOUT | EPOLLERR |
				    EPOLLHUP))
					connected(c, (int)ev[k].data.u32);
				if (c->state != S_WAITING)
					continue;
			}
			readable(c);
			if (first_reply == -1 && (c->result == R_GREETED ||
			    c->result == R_REPLIED))
				first_reply = now_ns();
		}
	}
	for (i = 0; i < count; i++) {
		const struct conn *c = &conns[i];

		if (!opt.quiet)
			report(c, (int)i);
		tally[c->result]++;
		bytes_in += c->bytes;
		if (c->result == R_GREETED) {
			if (min < 0 || c->after < min)
				min = c->after;
			if (c->after > max)
				max = c->after;
		}
	}
	if (count > 1) {
		printf("total=%ld", count);
		for (k = R_GREETED; k < R_COUNT; k++)
			printf(" %s=%ld", result_names[k], tally[k]);
		print_secs("min", min);
		print_secs("max", max);
		printf(" bytes_in=%llu waiting_max=%ld", bytes_in, waiting_max);
		print_secs("started_by", last_start - begin);
		print_secs("connected_by", connected_by - begin);
		print_secs("first_reply", first_reply == -1 ? 0 :
		    first_reply - begin);
		if (rate > 0 && last_start > begin)
			printf(" rate=%.0f",
			    (double)(count - 1) * NS / (double)(last_start - begin));
		putchar('\n');
	}
	freeaddrinfo(dst);
	if (src != NULL)
		freeaddrinfo(src);
	return 0;
}
