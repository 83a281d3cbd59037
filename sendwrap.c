/*
 * sendwrap - make SMTP clients wait for the greeting; turn away those
 * that talk first.
 *
 * inetd, xinetd, tcpserver or a systemd socket unit (Accept=yes) starts
 * sendwrap with the accepted connection on fd 0.  An allowlisted peer,
 * or one the pass cache (passcache.c) knows passed lately, gets the
 * mail program at once.  Any other peer must stay silent for the delay,
 * as RFC 5321 requires of a client waiting for the 220 greeting (with
 * -g, after a "220-" teaser line): if it does, the program is exec'd in
 * sendwrap's place and greets it; if it talks first, it is dropped or
 * answered and never reaches the MTA.
 *
 * Under inetd fds 1 and 2 are the connection too, so nothing but SMTP
 * reply lines is ever written to a socket; diagnostics go to syslog.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "allowlist.h"
#include "passcache.h"

#define DEFAULT_ALLOWLIST	"/etc/sendwrap.allow"
#define DEFAULT_DELAY_MS	35000u
#define DEFAULT_PATH		"/usr/sbin:/usr/bin:/sbin:/bin"
#define LOG_LINE_MAX		1024	/* one log line */
#define EARLY_SHOWN		64	/* early bytes quoted in the log */
#define READ_CHUNK		8192	/* allowlist read buffer */
#define PROBLEMS_LOGGED		10	/* allowlist problems per connection */
#define DRAIN_MS		2000	/* wait for the peer to close after a reply */
#define DRAIN_BYTES		65536
#define ERROR_MAX		512	/* option errors, joined */
#define HOST_MAX		256
#define REPLY_MAX		(2 * HOST_MAX + 128)	/* a "220 " line, a reply */
#define TEASER_MAX		506	/* "220-" TEXT CRLF: RFC 5321's 512 */

/*
 * A waiting process keeps every stack page it touched before the wait,
 * for the whole delay, and thousands of them wait at once.  So the work
 * before the wait runs in a shallow stack: functions used only by -t,
 * -q and -P, or only after the wait, are kept out of main's frame, and
 * buffers that only build a log line are no larger than one.
 */
#define NOINLINE		__attribute__((noinline))

enum action { ACT_DROP, ACT_TEMPFAIL, ACT_REJECT, ACT_LOG };
static const char *const action_names[] = { "drop", "tempfail", "reject", "log" };

struct source {
	const char	*text;		/* file name, or -A entry */
	int		 is_file;
	unsigned long	 index;		/* Nth -A, for its rule name */
};

struct config {
	struct source	*src;
	size_t		 nsrc;
	int		 default_src;	/* no -a/-A: the default file */
	unsigned	 delay_ms;
	enum action	 action;
	int		 check, help, version, verbose, use_stderr;
	const char	*query;
	const char	*teaser;	/* -g: the "220-" line's text */
	const char	*cache_dir;	/* -c */
	unsigned long	 cache_ttl;	/* -C */
	int		 prune;		/* -P */
	char		**prog;		/* program and its arguments */
	char		 error[ERROR_MAX];
};

enum stdin_kind { IN_INET, IN_LOCAL, IN_GONE, IN_BAD };

struct peer {
	enum stdin_kind	 kind;
	unsigned char	 addr[16];
	char		 ip[INET6_ADDRSTRLEN];
	unsigned	 port;
	const char	*what;		/* IN_LOCAL: what fd 0 is; IN_BAD: why */
};

enum wait_result { W_SILENT, W_EARLY, W_EOF, W_RESET, W_SIGNAL, W_ERROR };

/* A log line under construction. */
struct line {
	char	 buf[LOG_LINE_MAX];
	size_t	 len;
};

static char sendmail_path[] = "/usr/sbin/sendmail", sendmail_bs[] = "-bs";
static char *default_prog[] = { sendmail_path, sendmail_bs, NULL };

static int log_stderr;
static int log_verbose;
static int64_t started;			/* CLOCK_MONOTONIC, ns */
static volatile sig_atomic_t got_signal;
static int teaser_sent;			/* a "220-" line is on the wire */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sendwrap [-hstVv] [-a file]... [-A entry]... [-d delay] "
	    "[-e action]\n"
	    "                [-g text] [-c dir [-C ttl]] [-q address] [--]\n"
	    "                [program [arg ...]]\n"
	    "       sendwrap -c dir [-C ttl] [-v] -P\n"
	    "  -a file    allowlist file (default " DEFAULT_ALLOWLIST ")\n"
	    "  -A entry   allowlist entry, as a file line\n"
	    "  -d delay   seconds a peer must stay silent, 0 to 300 "
	    "(default 35)\n"
	    "  -e action  for early talkers: drop, tempfail, reject or log "
	    "(default drop)\n"
	    "  -g text    send \"220-text\" at once, before the wait\n"
	    "  -c dir     pass cache: peers that passed skip the delay\n"
	    "  -C ttl     seconds a pass is remembered (default 86400)\n"
	    "  -P         remove expired pass cache entries, then exit\n"
	    "  -s         log to stderr instead of syslog\n"
	    "  -t         check the allowlists and options, then exit\n"
	    "  -q address print the decision for address, then exit\n"
	    "  -v         log more\n"
	    "  -V         print the version\n"
	    "  -h         print this help\n"
	    "The program defaults to \"/usr/sbin/sendmail -bs\".\n");
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static unsigned
elapsed_ms(void)
{
	return (unsigned)((now_ns() - started) / 1000000);
}

/*
 * Where diagnostics go.  stderr only when asked (-s) or a person is
 * watching (a terminal), and never when fd 2 is an internet socket:
 * under inetd that is the SMTP connection, and a copied inetd line
 * with -s must not put log text on the wire.
 */
static int
fd_is_inet_socket(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));	/* for the analyzer: no garbage read */
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	return ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
}

static void
log_init(int want_stderr, int verbose)
{
	log_verbose = verbose;
	log_stderr = (want_stderr || isatty(STDERR_FILENO)) &&
	    !fd_is_inet_socket(STDERR_FILENO);
	if (!log_stderr)
		openlog("sendwrap", LOG_PID, LOG_MAIL);
}

static void
logmsg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
logmsg(int prio, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	if (prio == LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_stderr)
		dprintf(STDERR_FILENO, "sendwrap[%ld]: %s\n", (long)getpid(),
		    msg);
	else
		syslog(prio, "%s", msg);
}

static void
add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= sizeof(l->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
	if (l->len > sizeof(l->buf) - 1)
		l->len = sizeof(l->buf) - 1;
}

/* A value that a log parser can split on spaces: quoted when it must be. */
static void
add_value(struct line *l, const char *key, const char *val, int always_quote)
{
	char esc[AL_ESCAPE_MAX(256)];
	size_t n = strlen(val), i;
	int plain = !always_quote && n > 0;

	for (i = 0; plain && i < n; i++)
		if (!(val[i] > 0x20 && val[i] < 0x7f) || val[i] == '"' ||
		    val[i] == '\\')
			plain = 0;
	if (plain) {
		add(l, " %s=%s", key, val);
		return;
	}
	al_escape(val, n, esc, sizeof(esc));
	add(l, " %s=\"%s\"", key, esc);
}

static void
add_seconds(struct line *l, const char *key, unsigned ms)
{
	char s[32];

	al_delay_format(ms, s, sizeof(s));
	add(l, " %s=%s", key, s);
}

static void
add_rule(struct line *l, const struct al_match *m)
{
	char rule[LOG_LINE_MAX];

	if (!m->found)
		return;
	if (m->builtin)
		snprintf(rule, sizeof(rule), "builtin:loopback");
	else
		snprintf(rule, sizeof(rule), "%s:%lu", m->file, m->line);
	add_value(l, "rule", rule, 0);
}

static void
add_peer(struct line *l, const struct peer *p)
{
	if (p->kind == IN_INET)
		add(l, " ip=%s port=%u", p->ip, p->port);
}

static void
log_line(int prio, const struct line *l)
{
	logmsg(prio, "%s", l->buf);
}

/* Start a connection's log line: the outcome, then who it was. */
static void
begin(struct line *l, const char *outcome, const struct peer *p)
{
	add(l, "%s", outcome);
	add_peer(l, p);
}


/* ---- options ---- */

static void
config_error(struct config *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
config_error(struct config *c, const char *fmt, ...)
{
	size_t len = strlen(c->error);
	va_list ap;

	if (len > 0 && len < sizeof(c->error) - 1) {
		c->error[len++] = '\n';
		c->error[len] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(c->error + len, sizeof(c->error) - len, fmt, ap);
	va_end(ap);
}

/* The collected option errors for a person, one a line. */
static void
print_errors(const char *errors)
{
	const char *e = errors;
	size_t n;

	while (*e != '\0') {
		n = strcspn(e, "\n");
		fprintf(stderr, "sendwrap: %.*s\n", (int)n, e);
		e += n + (e[n] == '\n');
	}
}

/* The collected option errors as one log line. */
static void
config_error_line(const struct config *c, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; c->error[i] != '\0' && o + 3 < size; i++) {
		if (c->error[i] == '\n') {
			out[o++] = ';';
			out[o++] = ' ';
		} else
			out[o++] = c->error[i];
	}
	out[o] = '\0';
}

/*
 * The teaser's text goes on the wire as it is, so it must be one line
 * of printable ASCII that fits RFC 5321's 512-octet reply line.
 */
static int
teaser_check(const char *text, char *msg, size_t size)
{
	char esc[AL_ESCAPE_MAX(8)];
	size_t i, n = strlen(text);

	if (n == 0) {
		snprintf(msg, size, "the teaser text is empty");
		return -1;
	}
	if (n > TEASER_MAX) {
		snprintf(msg, size, "the teaser text is longer than %d "
		    "characters", TEASER_MAX);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (text[i] < 0x20 || text[i] > 0x7e) {
			al_escape(text + i, n - i, esc, sizeof(esc));
			snprintf(msg, size, "the teaser text has a control or "
			    "non-ASCII character at \"%s\" (position %zu)",
			    esc, i + 1);
			return -1;
		}
	return 0;
}

/*
 * Parse the command line.  Problems are collected in c->error, one a
 * line, rather
 * than printed: the caller knows whether a person or a peer is at the
 * other end.  Returns 0 or -1.  Option parsing stops at the first
 * non-option ("+"), so the program's own flags are left alone.
 */
static int
parse_options(int argc, char **argv, struct config *c)
{
	char msg[AL_MSG_MAX];
	unsigned long nA = 0;
	int ch, ttl_given = 0;

	memset(c, 0, sizeof(*c));
	c->delay_ms = DEFAULT_DELAY_MS;
	c->action = ACT_DROP;
	c->cache_ttl = PC_TTL_DEFAULT;
	c->src = calloc((size_t)argc + 1, sizeof(*c->src));
	if (c->src == NULL) {
		config_error(c, "out of memory");
		return -1;
	}
	opterr = 0;
	optind = 0;		/* glibc: a full reset, for repeated calls */
	while ((ch = getopt(argc, argv, "+:hPstVva:A:c:C:d:e:g:q:")) != -1) {
		switch (ch) {
		case 'c': c->cache_dir = optarg; break;
		case 'C':
			if (pc_ttl_parse(optarg, &c->cache_ttl, msg,
			    sizeof(msg)) == -1)
				config_error(c, "-C: %s", msg);
			ttl_given = 1;
			break;
		case 'g':
			if (teaser_check(optarg, msg, sizeof(msg)) == -1)
				config_error(c, "-g: %s", msg);
			else
				c->teaser = optarg;
			break;
		case 'P': c->prune = 1; break;
		case 'a':
		case 'A':
			c->src[c->nsrc].text = optarg;
			c->src[c->nsrc].is_file = ch == 'a';
			c->src[c->nsrc].index = ch == 'A' ? ++nA : 0;
			c->nsrc++;
			break;
		case 'd':
			if (al_delay_parse(optarg, strlen(optarg), &c->delay_ms,
			    msg, sizeof(msg)) == -1)
				config_error(c, "-d: %s", msg);
			break;
		case 'e': {
			size_t i;

			for (i = 0; i < 4; i++)
				if (strcmp(optarg, action_names[i]) == 0)
					break;
			if (i == 4) {
				al_escape(optarg, strlen(optarg), msg,
				    sizeof(msg) / 2);
				config_error(c, "-e: unknown action \"%s\" "
				    "(use drop, tempfail, reject or log)", msg);
			} else
				c->action = (enum action)i;
			break;
		}
		case 'h': c->help = 1; break;
		case 'q': c->query = optarg; break;
		case 's': c->use_stderr = 1; break;
		case 't': c->check = 1; break;
		case 'V': c->version = 1; break;
		case 'v': c->verbose = 1; break;
		case ':':
			config_error(c, "option -%c needs an argument", optopt);
			break;
		default:
			if (optopt > 0x20 && optopt < 0x7f)
				config_error(c, "unknown option -%c", optopt);
			else
				config_error(c, "unknown option");
			break;
		}
	}
	if (c->cache_dir == NULL && (ttl_given || c->prune))
		config_error(c, "-%c needs a pass cache directory (-c dir)",
		    c->prune ? 'P' : 'C');
	if (c->prune && (c->check || c->query != NULL))
		config_error(c, "-P cannot be combined with -%c",
		    c->check ? 't' : 'q');
	if (c->nsrc == 0) {
		c->src[0].text = DEFAULT_ALLOWLIST;
		c->src[0].is_file = 1;
		c->nsrc = 1;
		c->default_src = 1;
	}
	c->prog = optind < argc ? argv + optind : default_prog;
	return c->error[0] == '\0' ? 0 : -1;
}

/* ---- the program to run ---- */

static int
executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) == -1) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

/*
 * Find the program now, before any peer waits for it: a missing MTA is
 * then reported at once.  A name without a slash is looked up in PATH;
 * execv() is used later, never execvp(), which would hand a file
 * without an exec header to /bin/sh.
 */
static int
resolve_program(const char *name, char *out, size_t size, char *why,
    size_t whysz)
{
	const char *path, *p, *colon;
	int saved = ENOENT;

	if (strchr(name, '/') != NULL) {
		if (strlen(name) >= size) {
			snprintf(why, whysz, "program name is too long");
			return -1;
		}
		if (executable(name) == -1) {
			snprintf(why, whysz, "cannot run %s: %s", name,
			    strerror(errno));
			return -1;
		}
		snprintf(out, size, "%s", name);
		return 0;
	}
	if ((path = getenv("PATH")) == NULL || *path == '\0')
		path = DEFAULT_PATH;
	for (p = path; ; p = colon + 1) {
		size_t dlen;

		colon = strchr(p, ':');
		dlen = colon ? (size_t)(colon - p) : strlen(p);
		/* An empty PATH element means ".", which a daemon never wants. */
		if (dlen > 0 && dlen + 1 + strlen(name) < size) {
			snprintf(out, size, "%.*s/%s", (int)dlen, p, name);
			if (executable(out) == 0)
				return 0;
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;
		}
		if (colon == NULL)
			break;
	}
	snprintf(why, whysz, "cannot run %s: %s (searched PATH)", name,
	    strerror(saved));
	return -1;
}

/* ---- the peer ---- */

static const char *
fd_kind(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return "closed";
	if (isatty(fd))
		return "tty";
	if (S_ISFIFO(st.st_mode))
		return "pipe";
	if (S_ISREG(st.st_mode))
		return "file";
	if (S_ISCHR(st.st_mode))
		return "chardev";
	if (S_ISSOCK(st.st_mode))
		return "unix";
	return "other";
}

/*
 * Who is on fd 0.  An internet stream socket is a peer to judge; a
 * pipe, a terminal or an AF_UNIX socket has no remote address, so it
 * is local and runs the program at once.  A connected TCP socket whose
 * peer already left is a hangup; a listening socket means the launcher
 * was set up for "wait" instead of "nowait".
 */
static void
get_peer(struct peer *p)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int type = 0, listening = 0;
	socklen_t olen;

	memset(p, 0, sizeof(*p));
	memset(&ss, 0, sizeof(ss));
	if (getpeername(STDIN_FILENO, (struct sockaddr *)&ss, &len) == -1) {
		if (errno == ENOTSOCK || errno == EBADF) {
			p->kind = IN_LOCAL;
			p->what = fd_kind(STDIN_FILENO);
			return;
		}
		if (errno != ENOTCONN) {
			p->kind = IN_BAD;
			p->what = "getpeername on stdin failed";
			return;
		}
		olen = sizeof(listening);
		if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_ACCEPTCONN,
		    &listening, &olen) == 0 && listening) {
			p->kind = IN_BAD;
			p->what = "stdin is a listening socket "
			    "(set the launcher to nowait/Accept=yes)";
			return;
		}
		if (!fd_is_inet_socket(STDIN_FILENO)) {
			p->kind = IN_LOCAL;
			p->what = "unix";
			return;
		}
		p->kind = IN_GONE;
		return;
	}
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
		p->kind = IN_LOCAL;
		p->what = ss.ss_family == AF_UNIX ? "unix" : "other";
		return;
	}
	olen = sizeof(type);
	if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_TYPE, &type, &olen) == 0 &&
	    type != SOCK_STREAM) {
		p->kind = IN_BAD;
		p->what = "stdin is not a stream socket";
		return;
	}
	p->kind = IN_INET;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		memset(p->addr, 0, 10);
		p->addr[10] = p->addr[11] = 0xff;
		memcpy(p->addr + 12, &sin->sin_addr, 4);
		p->port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		memcpy(p->addr, &sin6->sin6_addr, 16);
		p->port = ntohs(sin6->sin6_port);
	}
	/* A mapped peer is logged as the IPv4 address admins grep for. */
	al_addr_format(p->addr, p->ip, sizeof(p->ip));
}

/* ---- replies: the only bytes sendwrap ever writes to the peer ---- */

static void
reply(const struct peer *p, const char *code, const char *text)
{
	char host[HOST_MAX], buf[REPLY_MAX];
	const char *h;
	size_t i, used = 0;
	int n;

	if (p->kind != IN_INET)
		return;
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (!(host[i] == '.' || host[i] == '-' ||
		    (host[i] >= '0' && host[i] <= '9') ||
		    ((host[i] | 0x20) >= 'a' && (host[i] | 0x20) <= 'z')))
			host[i] = '-';
	h = host[0] != '\0' ? host : "localhost";
	/*
	 * After the teaser, RFC 5321 (4.2.1) allows only 220 lines until
	 * the greeting ends: a 421 or 554 line there would make one reply
	 * with two codes (postscreen sends its 521 there all the same).
	 * So the greeting is ended first with a "220 HOST" line, and the
	 * reply follows as a reply of its own.  A patient client reads a
	 * whole greeting, then a 421, which RFC 5321 (3.8) lets a server
	 * send at any time before it closes; an early talker reads the 421
	 * or 554 as the answer to what it sent too soon.
	 */
	if (teaser_sent && strncmp(code, "220", 3) != 0) {
		n = snprintf(buf, sizeof(buf), "220 %s\r\n", h);
		if (n > 0 && (size_t)n < sizeof(buf))
			used = (size_t)n;
	}
	n = snprintf(buf + used, sizeof(buf) - used, "%s %s %s\r\n", code, h,
	    text);
	if (n > 0 && used + (size_t)n < sizeof(buf))
		(void)send(STDIN_FILENO, buf, used + (size_t)n,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
}

/*
 * The greeting teaser.  "220-text" opens a multi-line greeting, and an
 * RFC 5321 client must wait for its last line ("220 ", with a space),
 * which the program's own greeting supplies after the wait.  A bot that
 * answers the first line it sees is an early talker, caught sooner than
 * by silence alone.  Only a peer that waits is sent one: an allowlisted
 * or cached peer meets the program's plain greeting at once.
 */
static void
send_teaser(const struct config *c, const struct peer *p)
{
	char buf[TEASER_MAX + 8];
	int n;

	if (c->teaser == NULL || p->kind != IN_INET)
		return;
	n = snprintf(buf, sizeof(buf), "220-%s\r\n", c->teaser);
	if (n > 0 && (size_t)n < sizeof(buf) && send(STDIN_FILENO, buf,
	    (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
		teaser_sent = 1;
}

static void
reply_unavailable(const struct peer *p, const char *code)
{
	reply(p, code, "Service not available, closing transmission channel");
}

/*
 * sendwrap cannot go on: log why and, if there is a peer and a code,
 * tell it to come back later, so that no mail is lost.  Returns the
 * exit status.
 */
static int
give_up(const struct peer *p, const char *why, const char *code, int status)
{
	struct line l = { "", 0 };

	begin(&l, "error", p);
	add_value(&l, "reason", why, 1);
	log_line(LOG_ERR, &l);
	if (code != NULL)
		reply_unavailable(p, code);
	return status;
}

/*
 * After a reply to an early talker, read what it sent and let it see
 * the close: closing with unread data would send a reset, and the
 * client's kernel may throw the reply away with it.  Bounded in time
 * and bytes, as the peer is hostile.
 */
static void
drain(void)
{
	int64_t deadline = now_ns() + (int64_t)DRAIN_MS * 1000000;
	size_t total = 0;
	char buf[2048];

	(void)shutdown(STDIN_FILENO, SHUT_WR);
	while (total < DRAIN_BYTES) {
		int64_t left = deadline - now_ns();
		struct timeval tv;
		fd_set rfds;
		ssize_t n;

		if (left <= 0)
			break;
		tv.tv_sec = (time_t)(left / 1000000000);
		tv.tv_usec = (suseconds_t)(left % 1000000000 / 1000);
		FD_ZERO(&rfds);
		FD_SET(STDIN_FILENO, &rfds);
		if (select(STDIN_FILENO + 1, &rfds, NULL, NULL, &tv) <= 0)
			break;
		n = recv(STDIN_FILENO, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
}

/* ---- the allowlists ---- */

struct reporter {
	int		 to_stderr;	/* -t and -q: a person reads them */
	unsigned long	 count;
};

static void
report(void *ctx, const struct al_problem *p)
{
	struct reporter *r = ctx;
	const char *warn = p->severity == AL_WARNING ? "warning: " : "";
	char where[PATH_MAX + 32];

	if (p->line > 0)
		snprintf(where, sizeof(where), "%s:%lu", p->file, p->line);
	else
		snprintf(where, sizeof(where), "%s", p->file);
	r->count++;
	if (r->to_stderr)
		fprintf(stderr, "%s: %s%s\n", where, warn, p->msg);
	else if (r->count <= PROBLEMS_LOGGED)
		logmsg(p->severity == AL_WARNING ? LOG_WARNING : LOG_ERR,
		    "%s: %s%s", where, warn, p->msg);
}

/*
 * Scan one allowlist file through a small buffer: a large list costs
 * time, not memory, and a file being rewritten cannot fault us as a
 * mapping could.  O_NONBLOCK keeps the open of a FIFO without a
 * writer from hanging a connection.  The buffer is anonymous memory,
 * mapped for the scan and unmapped after it: on the stack, its pages
 * would stay with the process through the whole wait (see NOINLINE).
 */
static void
scan_file(struct al_scan *s, const struct source *src, int quiet_enoent)
{
	char *buf, msg[AL_MSG_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(src->text, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ENOENT && quiet_enoent)
			return;
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		al_scan_problem(s, AL_ERROR, 0, msg);
		return;
	}
	/* A device or FIFO may never end; only a plain file is read. */
	if (fstat(fd, &st) == -1)
		st.st_mode = 0;
	if (!S_ISREG(st.st_mode)) {
		al_scan_problem(s, AL_ERROR, 0, S_ISDIR(st.st_mode) ?
		    "is a directory, not a file" : "is not a regular file");
		close(fd);
		return;
	}
	buf = mmap(NULL, READ_CHUNK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		snprintf(msg, sizeof(msg), "no read buffer: %s",
		    strerror(errno));
		al_scan_problem(s, AL_ERROR, 0, msg);
		close(fd);
		return;
	}
	while ((n = read(fd, buf, READ_CHUNK)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			snprintf(msg, sizeof(msg), "read error: %s",
			    strerror(errno));
			al_scan_problem(s, AL_ERROR, s->line + 1, msg);
			break;
		}
		al_scan_feed(s, buf, (size_t)n);
	}
	munmap(buf, READ_CHUNK);
	al_scan_end(s);
	close(fd);
}

/*
 * Run every source past the peer (or just check them, peer NULL).
 * Returns the number of problems; the best match is left in m.
 */
static unsigned long
decide(const struct config *c, const unsigned char *peer, struct al_match *m,
    struct reporter *r, unsigned long *entries)
{
	unsigned long problems = 0;
	size_t i;

	al_match_init(m, peer);
	*entries = 0;
	for (i = 0; i < c->nsrc; i++) {
		const struct source *src = &c->src[i];
		struct al_scan s;

		if (src->is_file) {
			al_scan_init(&s, src->text, peer, m, report, r);
			scan_file(&s, src, c->default_src);
		} else {
			al_scan_init(&s, "-A", peer, m, report, r);
			s.line = src->index - 1;
			al_scan_line(&s, src->text, strlen(src->text));
		}
		problems += s.errors + s.warnings;
		*entries += s.entries;
		if (r->to_stderr && c->verbose && c->check) {
			/* Named as in rule= and problem lines: FILE or -A:N. */
			if (src->is_file)
				printf("%s: ", src->text);
			else
				printf("-A:%lu: ", src->index);
			printf("%lu entries, %lu warnings, %lu errors\n",
			    s.entries, s.warnings, s.errors);
		}
	}
	return problems;
}

/* ---- the pass cache ---- */

/*
 * Has the peer passed the wait lately?  Any problem with the cache is
 * logged and counts as "no": the peer waits the full delay, which costs
 * a patient client time, never its mail, and lets no bot in.
 */
static int
cache_hit(const struct config *c, struct pc *pc, const struct peer *p,
    unsigned long *age)
{
	int r;

	if (c->cache_dir == NULL)
		return 0;
	if (pc_open(pc, c->cache_dir, c->cache_ttl) == -1) {
		logmsg(LOG_ERR, "%s", pc->msg);
		return 0;
	}
	if ((r = pc_lookup(pc, p->addr, time(NULL), age)) == -1)
		logmsg(LOG_ERR, "%s", pc->msg);
	return r == 1;
}

/* Remember a peer that passed, or forget one that talked early. */
static void
cache_note(struct pc *pc, const struct peer *p, int passed)
{
	if (pc->fd == -1)
		return;
	if ((passed ? pc_pass(pc, p->addr) : pc_forget(pc, p->addr)) == -1)
		logmsg(LOG_ERR, "%s", pc->msg);
	pc_close(pc);
}

static void
print_problem(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

/* -P, for a cron job: quiet unless something is wrong, or -v. */
static int NOINLINE
prune_cache(const struct config *c, int optrc)
{
	struct pc pc;
	struct pc_counts n;
	int rc;

	if (optrc == -1) {
		print_errors(c->error);
		return EX_USAGE;
	}
	if (pc_open(&pc, c->cache_dir, c->cache_ttl) == -1) {
		fprintf(stderr, "%s\n", pc.msg);
		return EX_CONFIG;
	}
	rc = pc_prune(&pc, time(NULL), &n, print_problem, NULL);
	pc_close(&pc);
	if (c->verbose)
		printf("%s: %lu entries, %lu expired and removed\n",
		    c->cache_dir, n.entries, n.removed);
	return rc == -1 ? EX_IOERR : 0;
}

/* -t and -q: a person at a terminal, so plain stdout and stderr. */
static int NOINLINE
check_config(const struct config *c, int optrc)
{
	struct reporter r = { 1, 0 };
	struct pc pc = { NULL, -1, 0, "" };
	unsigned char addr[16];
	unsigned long problems = 0, entries;
	char path[PATH_MAX], why[PATH_MAX + 64];
	struct al_match m;

	if (optrc == -1) {
		print_errors(c->error);
		problems++;
	}
	if (c->query != NULL && al_addr_parse(c->query, addr) == -1) {
		fprintf(stderr, "sendwrap: -q: \"%s\" is not an IPv4 or IPv6 "
		    "address\n", c->query);
		return EX_USAGE;
	}
	if (resolve_program(c->prog[0], path, sizeof(path), why,
	    sizeof(why)) == -1) {
		fprintf(stderr, "sendwrap: %s\n", why);
		problems++;
	}
	problems += decide(c, c->query ? addr : NULL, &m, &r, &entries);
	if (c->cache_dir != NULL && pc_open(&pc, c->cache_dir,
	    c->cache_ttl) == -1) {
		fprintf(stderr, "%s\n", pc.msg);
		problems++;
	}
	if (c->query != NULL) {
		unsigned delay = m.found ? m.entry.delay_ms : c->delay_ms;
		struct line l = { "", 0 };
		char ip[INET6_ADDRSTRLEN], net[AL_ADDR_MAX];
		unsigned long age = 0;
		int cached = 0;

		if (delay != 0 && pc.fd != -1 &&
		    (cached = pc_lookup(&pc, addr, time(NULL), &age)) == -1) {
			fprintf(stderr, "%s\n", pc.msg);
			problems++;
		}
		al_addr_format(addr, ip, sizeof(ip));
		add(&l, "%s ip=%s", delay == 0 ? "allow" : cached == 1 ?
		    "cached" : "delay", ip);
		add_seconds(&l, "delay", cached == 1 ? 0 : delay);
		if (cached == 1)
			add(&l, " age=%lu", age);
		add_rule(&l, &m);
		if (m.found) {
			al_net_format(&m.entry, net, sizeof(net));
			add(&l, " net=%s", net);
		}
		printf("%s\n", l.buf);
	}
	pc_close(&pc);
	fflush(stdout);
	return problems > 0 ? EX_CONFIG : 0;
}

/* ---- waiting ---- */

static void
on_signal(int sig)
{
	got_signal = sig;
}

/*
 * Without a handler, the kernel restarts a pselect() stopped by SIGSTOP
 * with the time it had left, which would add the stop to the wait.
 */
static void
on_continue(int sig)
{
	(void)sig;
}

/*
 * Wait until the deadline for the peer to stay silent.  The remainder
 * is recomputed from CLOCK_MONOTONIC on every turn, so an interrupted
 * select, or a SIGSTOP/SIGCONT pair (SIGCONT is caught to make it one),
 * neither shortens nor lengthens the wait.  The stop signals are
 * blocked except inside pselect(), so one that arrives between the
 * check and the call is not lost.
 */
static enum wait_result
wait_silent(int64_t deadline)
{
	struct sigaction sa;
	sigset_t block, orig;
	enum wait_result res = W_SILENT;
	char c;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_continue;
	sigaction(SIGCONT, &sa, NULL);
	for (;;) {
		int64_t left = deadline - now_ns();
		struct timespec ts;
		fd_set rfds;
		ssize_t n;
		int r;

		if (got_signal) {
			res = W_SIGNAL;
			break;
		}
		if (left <= 0)
			break;
		ts.tv_sec = (time_t)(left / 1000000000);
		ts.tv_nsec = (long)(left % 1000000000);
		FD_ZERO(&rfds);
		FD_SET(STDIN_FILENO, &rfds);
		r = pselect(STDIN_FILENO + 1, &rfds, NULL, NULL, &ts, &orig);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			res = W_ERROR;
			break;
		}
		if (r == 0)
			continue;
		n = recv(STDIN_FILENO, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n > 0)
			res = W_EARLY;
		else if (n == 0)
			res = W_EOF;
		else if (errno == EAGAIN || errno == EINTR)
			continue;
		else if (errno == ECONNRESET || errno == ETIMEDOUT)
			res = W_RESET;
		else
			res = W_ERROR;
		break;
	}
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCONT, &sa, NULL);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return res;
}

/* ---- the end of sendwrap: exec, or exit ---- */

static void
mark_fds_cloexec(void)
{
#ifdef CLOSE_RANGE_CLOEXEC
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	{
		long max = sysconf(_SC_OPEN_MAX);
		int fd;

		if (max < 0 || max > 65536)
			max = 65536;
		for (fd = 3; fd < max; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
}

/*
 * Become the program.  Only fds 0, 1 and 2 go with it, and it starts
 * with default signal handling and an empty mask, as if the launcher
 * had run it.  If exec fails, the peer is told to come back later.
 */
static void NOINLINE __attribute__((noreturn))
run_program(const struct config *c, const char *path, const struct peer *p)
{
	char why[LOG_LINE_MAX];
	sigset_t none;

	mark_fds_cloexec();
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(path, c->prog);
	snprintf(why, sizeof(why), "exec %s: %s", path, strerror(errno));
	exit(give_up(p, why, "421 4.3.0", EX_OSERR));
}

/* Tell the early talker what -e says, then leave. */
static void NOINLINE __attribute__((noreturn))
turn_away(const struct config *c, const struct peer *p)
{
	char buf[2048];
	size_t total = 0;
	ssize_t n;

	/* Read what it sent, so that the close below is not a reset. */
	while (total < DRAIN_BYTES &&
	    (n = recv(STDIN_FILENO, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	if (c->action == ACT_TEMPFAIL)
		reply(p, "421 4.5.0",
		    "Protocol error: talked before the greeting");
	else
		reply(p, "554 5.5.0",
		    "Protocol error: talked before the greeting");
	drain();
	exit(0);
}

static void NOINLINE
log_early(const struct config *c, const struct peer *p,
    const struct al_match *m, unsigned delay)
{
	char data[EARLY_SHOWN], esc[AL_ESCAPE_MAX(EARLY_SHOWN)];
	struct line l = { "early", 5 };
	ssize_t n;
	int avail = 0;

	n = recv(STDIN_FILENO, data, sizeof(data), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0)
		n = 0;
	if (ioctl(STDIN_FILENO, FIONREAD, &avail) == -1 || avail < n)
		avail = (int)n;
	al_escape(data, (size_t)n, esc, sizeof(esc));
	add_peer(&l, p);
	add_seconds(&l, "delay", delay);
	add_seconds(&l, "after", elapsed_ms());
	add(&l, " bytes=%d data=\"%s\" action=%s", avail, esc,
	    action_names[c->action]);
	add_rule(&l, m);
	log_line(LOG_NOTICE, &l);
}

/* Put /dev/null on any of fds 0-2 that is closed, so no file we open
 * later, syslog's socket included, can land there and reach the MTA. */
static void
sanitize_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    /* NOLINTNEXTLINE(android-cloexec-open): for the program */
		    open("/dev/null", O_RDWR) != fd)
			_exit(EX_OSERR);
}

int
main(int argc, char **argv)
{
	/* Static: it lives as long as the process, whatever path it ends on. */
	static struct config c;
	struct peer p;
	struct al_match m;
	struct reporter r = { 0, 0 };
	struct pc pc = { NULL, -1, 0, "" };
	struct line l = { "", 0 };
	char path[PATH_MAX], why[LOG_LINE_MAX];
	enum wait_result res;
	unsigned long entries, age;
	unsigned delay;
	int optrc;

	started = now_ns();
	sanitize_fds();
	signal(SIGPIPE, SIG_IGN);
	optrc = parse_options(argc, argv, &c);
	if (c.help || c.version) {
		if (optrc == -1) {
			print_errors(c.error);
			usage(stderr);
			return EX_USAGE;
		}
		if (c.version)
			printf("sendwrap %s\n", SENDWRAP_VERSION);
		else
			usage(stdout);
		return 0;
	}
	if (c.prune)
		return prune_cache(&c, optrc);
	if (c.check || c.query != NULL)
		return check_config(&c, optrc);

	log_init(c.use_stderr, c.verbose);
	get_peer(&p);
	if (optrc == -1) {
		config_error_line(&c, why, sizeof(why));
		return give_up(&p, why, "421 4.3.5", EX_USAGE);
	}
	if (resolve_program(c.prog[0], path, sizeof(path), why,
	    sizeof(why)) == -1)
		return give_up(&p, why, "421 4.3.0", EX_OSERR);
	switch (p.kind) {
	case IN_LOCAL:
		add(&l, "local stdin=%s", p.what);
		log_line(LOG_INFO, &l);
		run_program(&c, path, &p);
	case IN_GONE:
		add(&l, "hangup reason=gone");
		log_line(LOG_INFO, &l);
		return 0;
	case IN_BAD:
		return give_up(&p, p.what, NULL, EX_USAGE);
	case IN_INET:
		break;
	}

	decide(&c, p.addr, &m, &r, &entries);
	if (r.count > PROBLEMS_LOGGED)
		logmsg(LOG_ERR, "%lu more allowlist problems; run sendwrap -t",
		    r.count - PROBLEMS_LOGGED);
	logmsg(LOG_DEBUG, "%lu allowlist entries scanned in %u ms", entries,
	    elapsed_ms());
	delay = m.found ? m.entry.delay_ms : c.delay_ms;
	if (delay == 0) {
		begin(&l, "allow", &p);
		add_seconds(&l, "delay", 0);
		add_rule(&l, &m);
		log_line(LOG_INFO, &l);
		run_program(&c, path, &p);
	}
	if (cache_hit(&c, &pc, &p, &age)) {
		begin(&l, "cached", &p);
		add_seconds(&l, "delay", 0);
		add(&l, " age=%lu", age);
		add_rule(&l, &m);
		log_line(LOG_INFO, &l);
		run_program(&c, path, &p);
	}

	send_teaser(&c, &p);
	res = wait_silent(started + (int64_t)delay * 1000000);
	switch (res) {
	case W_SILENT:
		cache_note(&pc, &p, 1);
		begin(&l, "pass", &p);
		add_seconds(&l, "delay", delay);
		add_rule(&l, &m);
		log_line(LOG_INFO, &l);
		run_program(&c, path, &p);
	case W_EARLY:
		cache_note(&pc, &p, 0);
		log_early(&c, &p, &m, delay);
		if (c.action == ACT_LOG)
			run_program(&c, path, &p);
		if (c.action == ACT_DROP)
			return 0;
		turn_away(&c, &p);
	case W_EOF:
	case W_RESET:
		begin(&l, "hangup", &p);
		add_seconds(&l, "delay", delay);
		add_seconds(&l, "after", elapsed_ms());
		add(&l, " reason=%s", res == W_EOF ? "eof" : "reset");
		add_rule(&l, &m);
		log_line(LOG_INFO, &l);
		return 0;
	case W_SIGNAL:
	case W_ERROR:
		if (res == W_SIGNAL)
			snprintf(why, sizeof(why), "stopped by SIG%s while "
			    "waiting", got_signal == SIGTERM ? "TERM" :
			    got_signal == SIGHUP ? "HUP" : "INT");
		else
			snprintf(why, sizeof(why), "waiting failed: %s",
			    strerror(errno));
		begin(&l, "error", &p);
		add_seconds(&l, "delay", delay);
		add_seconds(&l, "after", elapsed_ms());
		add_value(&l, "reason", why, 1);
		add_rule(&l, &m);
		log_line(LOG_ERR, &l);
		if (res == W_SIGNAL) {
			reply(&p, "421 4.3.2", "Service shutting down");
			return 0;
		}
		reply_unavailable(&p, "421 4.3.0");
		return EX_OSERR;
	}
	return EX_SOFTWARE;
}
