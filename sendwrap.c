/*
 * sendwrap - make SMTP clients wait for the greeting; turn away those
 * that talk first.
 *
 * inetd, xinetd, tcpserver or a systemd socket unit (Accept=yes) starts
 * sendwrap with the accepted connection on fd 0.  An allowlisted peer,
 * or one the pass cache knows passed lately, gets the mail program at
 * once.  Any other peer must stay silent for the delay, as RFC 5321
 * requires of a client waiting for the 220 greeting (with -g, after a
 * "220-" teaser line): if it does, the program is exec'd in sendwrap's
 * place and greets it; if it talks first, it is dropped or answered and
 * never reaches the MTA.
 *
 * Given a listening socket instead (inetd "wait", Accept=no), sendwrap
 * is the listener (listener.c): one process holds every waiting peer.
 *
 * This file is the front: the options, -t, -q and -P for a person, and
 * one connection's wait.  The rules a peer meets, its replies, its log
 * line and the exec are in peer.c, shared with the listener.  Under
 * inetd fds 1 and 2 are the connection too, so nothing but SMTP reply
 * lines is ever written to a socket; diagnostics go through log.c.
 */
#include <sys/types.h>
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
#include <time.h>
#include <unistd.h>

#include "allowlist.h"
#include "listener.h"
#include "log.h"
#include "passcache.h"
#include "peer.h"

#define DGRAMS_MAX	1024	/* datagrams taken off a misused UDP socket */
#define COUNT_MAX	1000000ul	/* -m, -n, -p */

/*
 * A waiting process keeps every stack page it touched before the wait,
 * for the whole delay, and thousands of them wait at once.  So the work
 * before the wait runs in a shallow stack: functions used only by -t,
 * -q and -P, or only after the wait, are kept out of main's frame.
 */
#define NOINLINE	__attribute__((noinline))

static char sendmail_path[] = "/usr/sbin/sendmail", sendmail_bs[] = "-bs";
static char *default_prog[] = { sendmail_path, sendmail_bs, NULL };

static int64_t started;			/* CLOCK_MONOTONIC, ns */

enum wait_result { W_SILENT, W_EARLY, W_URGENT, W_EOF, W_RESET, W_SIGNAL,
    W_ERROR };

/* What the manual's SYNOPSIS says, and nothing more. */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sendwrap [-hstVv] [-a file]... [-A entry]... [-d delay] "
	    "[-e action]\n"
	    "                [-g text] [-c dir [-C ttl]] [-m sessions] "
	    "[-n peers]\n"
	    "                [-p peers] [-w seconds] [-q address] [--]\n"
	    "                [program [arg ...]]\n"
	    "       sendwrap -c dir [-C ttl] [-v] -P\n");
}

/* ---- options ---- */

static void
config_error(struct config *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Keep each problem as a record of its own, until it is printed.  The
 * records are allocated at the first: a good command line, the usual
 * one, costs a waiting process no memory for them.
 */
static void
config_error(struct config *c, const char *fmt, ...)
{
	va_list ap;

	if (c->error == NULL &&
	    (c->error = calloc(OPT_ERRORS_MAX, sizeof(*c->error))) == NULL) {
		c->no_memory = 1;
		c->nerrors++;
		return;
	}
	if (c->nerrors < OPT_ERRORS_MAX) {
		va_start(ap, fmt);
		vsnprintf(c->error[c->nerrors], sizeof(c->error[0]), fmt, ap);
		va_end(ap);
	}
	c->nerrors++;
}

/* The option problems for a person, one a line. */
static void
print_errors(const struct config *c)
{
	unsigned i;

	if (c->no_memory)
		fprintf(stderr, "sendwrap: out of memory\n");
	for (i = 0; c->error != NULL && i < c->nerrors && i < OPT_ERRORS_MAX;
	    i++)
		fprintf(stderr, "sendwrap: %s\n", c->error[i]);
	if (c->nerrors > OPT_ERRORS_MAX)
		fprintf(stderr, "sendwrap: and %u more option problems\n",
		    c->nerrors - OPT_ERRORS_MAX);
}

/*
 * The teaser's text goes on the wire as it is, so it must be one line
 * of printable ASCII that fits RFC 5321's 512-octet reply line.
 */
static int
teaser_check(const char *text, char *msg, size_t size)
{
	char q[AL_QUOTE_MAX];
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
			al_quote(text + i, n - i, q, sizeof(q));
			snprintf(msg, size, "the teaser text has a control or "
			    "non-ASCII character at %s (position %zu)", q,
			    i + 1);
			return -1;
		}
	return 0;
}

/* A whole number from lo to hi, fully checked, for -m, -n and -p. */
static int
count_parse(const char *s, unsigned long lo, unsigned long hi,
    unsigned long *out, char *msg, size_t size)
{
	char q[AL_QUOTE_MAX];
	size_t i, n = strlen(s);
	unsigned long v = 0;

	for (i = 0; i < n && v <= hi; i++) {
		if (s[i] < '0' || s[i] > '9')
			break;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (n == 0 || i < n || v < lo || v > hi) {
		al_quote(s, n, q, sizeof(q));
		snprintf(msg, size, "%s is not a whole number from %lu to %lu",
		    q, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Parse the command line.  Problems are collected in c->error rather
 * than printed: the caller knows whether a person or a peer is at the
 * other end.  Returns 0 or -1.  Option parsing stops at the first
 * non-option ("+"), so the program's own flags are left alone.
 */
static int
parse_options(int argc, char **argv, struct config *c)
{
	char msg[AL_MSG_MAX], q[AL_QUOTE_MAX];
	unsigned long nA = 0;
	int ch, ttl_given = 0;

	memset(c, 0, sizeof(*c));
	c->delay_ms = DEFAULT_DELAY_MS;
	c->action = ACT_DROP;
	c->cache_ttl = PC_TTL_DEFAULT;
	c->sessions = DEFAULT_SESSIONS;
	c->per_address = DEFAULT_PER_ADDRESS;
	c->hold_ms = DEFAULT_HOLD_MS;
	/* Out of memory is sendwrap's failure, not the admin's mistake. */
	if ((c->src = calloc((size_t)argc + 1, sizeof(*c->src))) == NULL)
		c->no_memory = 1;
	opterr = 0;
	optind = 0;		/* glibc: a full reset, for repeated calls */
	while ((ch = getopt(argc, argv, "+:hPstVva:A:c:C:d:e:g:m:n:p:q:w:"))
	    != -1) {
		switch (ch) {
		case 'a':
		case 'A':
			if (c->src == NULL)
				break;
			c->src[c->nsrc].text = optarg;
			c->src[c->nsrc].is_file = ch == 'a';
			c->src[c->nsrc].index = ch == 'A' ? ++nA : 0;
			c->nsrc++;
			break;
		case 'c': c->cache_dir = optarg; break;
		case 'C':
			if (pc_ttl_parse(optarg, &c->cache_ttl, msg,
			    sizeof(msg)) == -1)
				config_error(c, "-C: %s", msg);
			ttl_given = 1;
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
				al_quote(optarg, strlen(optarg), q, sizeof(q));
				config_error(c, "-e: unknown action %s (use "
				    "drop, tempfail, reject or log)", q);
			} else
				c->action = (enum action)i;
			break;
		}
		case 'g':
			if (teaser_check(optarg, msg, sizeof(msg)) == -1)
				config_error(c, "-g: %s", msg);
			else
				c->teaser = optarg;
			break;
		case 'h': c->help = 1; break;
		case 'm':
			if (count_parse(optarg, 1, COUNT_MAX, &c->sessions, msg,
			    sizeof(msg)) == -1)
				config_error(c, "-m: %s", msg);
			break;
		case 'n':
			if (count_parse(optarg, 1, COUNT_MAX, &c->max_waiting,
			    msg, sizeof(msg)) == -1)
				config_error(c, "-n: %s", msg);
			break;
		case 'p':
			if (count_parse(optarg, 0, COUNT_MAX, &c->per_address,
			    msg, sizeof(msg)) == -1)
				config_error(c, "-p: %s", msg);
			break;
		case 'P': c->prune = 1; break;
		case 'q': c->query = optarg; break;
		case 's': c->use_stderr = 1; break;
		case 't': c->check = 1; break;
		case 'V': c->version = 1; break;
		case 'v': c->verbose = 1; break;
		case 'w':
			if (al_delay_parse(optarg, strlen(optarg), &c->hold_ms,
			    msg, sizeof(msg)) == -1)
				config_error(c, "-w: %s", msg);
			break;
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
	if (c->nsrc == 0 && c->src != NULL) {
		c->src[0].text = DEFAULT_ALLOWLIST;
		c->src[0].is_file = 1;
		c->nsrc = 1;
		c->default_src = 1;
	}
	c->prog = optind < argc ? argv + optind : default_prog;
	return c->nerrors == 0 && !c->no_memory ? 0 : -1;
}

/* ---- fd 0 ---- */

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

static int
sock_int(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int v = 0;

	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len) == -1)
		return -1;
	return v;
}

/*
 * A datagram launcher line starts sendwrap when a datagram arrives and
 * again as long as one is queued: take them off, so that the mistake
 * costs one log line, not a restart loop.
 */
static void
drop_datagrams(void)
{
	char buf[512];
	int i;

	for (i = 0; i < DGRAMS_MAX; i++)
		if (recv(STDIN_FILENO, buf, sizeof(buf), MSG_DONTWAIT) == -1 &&
		    errno != EINTR)
			break;
}

/*
 * Who is on fd 0.  An internet stream socket is a peer to judge; a
 * pipe, a terminal or an AF_UNIX socket has no remote address, so it
 * is local and runs the program at once.  A connected TCP socket whose
 * peer already left is a hangup.  A listening TCP socket makes sendwrap
 * the listener.  A datagram socket is a launcher mistake.
 */
static void
get_peer(struct peer *p)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int type;

	memset(p, 0, sizeof(*p));
	p->fd = STDIN_FILENO;
	memset(&ss, 0, sizeof(ss));
	if (getpeername(STDIN_FILENO, (struct sockaddr *)&ss, &len) == -1 &&
	    errno != ENOTCONN) {
		if (errno == ENOTSOCK || errno == EBADF) {
			p->kind = IN_LOCAL;
			p->what = fd_kind(STDIN_FILENO);
			return;
		}
		p->kind = IN_BAD;
		p->what = "getpeername on stdin failed";
		return;
	}
	if (!fd_is_inet_socket(STDIN_FILENO)) {
		p->kind = IN_LOCAL;
		p->what = ss.ss_family == AF_UNIX || ss.ss_family == 0 ?
		    "unix" : "other";
		return;
	}
	type = sock_int(STDIN_FILENO, SO_TYPE);
	if (type != SOCK_STREAM) {
		drop_datagrams();
		p->kind = IN_BAD;
		p->what = "stdin is not a stream socket (a dgram or udp "
		    "launcher line?)";
		return;
	}
	if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
		peer_from_sockaddr(p, &ss);
		p->fd = STDIN_FILENO;
		return;
	}
	p->kind = sock_int(STDIN_FILENO, SO_ACCEPTCONN) == 1 ? IN_LISTEN :
	    IN_GONE;
}

/* ---- -t, -q, -P: a person at a terminal, so plain stdout and stderr ---- */

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
		print_errors(c);
		return c->no_memory ? EX_OSERR : EX_USAGE;
	}
	if (pc_open(&pc, c->cache_dir, c->cache_ttl) == -1) {
		fprintf(stderr, "%s\n", pc.msg);
		return EX_CONFIG;
	}
	rc = pc_prune(&pc, pc_now(), &n, print_problem, NULL);
	pc_close(&pc);
	if (c->verbose)
		printf("%s: %lu entries, %lu expired and removed\n",
		    c->cache_dir, n.entries, n.removed);
	return rc == -1 ? EX_IOERR : 0;
}

static void
print_source(const struct source *src, const struct al_scan *s)
{
	/* Named as in rule= and problem lines: FILE or -A:N. */
	if (src->is_file)
		printf("%s: ", src->text);
	else
		printf("-A:%lu: ", src->index);
	printf("%lu entries, %lu errors\n", s->entries, s->errors);
}

/*
 * Where a connection's log lines would go with these options, and a
 * warning when they would be lost.  -s sends them to standard error,
 * except under inetd and xinetd, where that is the connection.
 */
static void
print_log_destination(const struct config *c)
{
	const char *sys = "syslog (facility mail, through " LOG_SOCKET ")";

	if (c->use_stderr)
		printf("connection logs: standard error (the journal under "
		    "systemd, the supervisor's log under tcpserver); %s "
		    "under inetd and xinetd\n", sys);
	else
		printf("connection logs: %s\n", sys);
	if (!log_syslog_reachable())
		fprintf(stderr, "sendwrap: warning: cannot reach %s: %s; "
		    "connection logs sent to syslog would be lost (start a "
		    "syslog daemon or systemd-journald, or use -s where "
		    "standard error is a log)\n", LOG_SOCKET, strerror(errno));
}

/* -t and -q. */
static int NOINLINE
check_config(const struct config *c, int optrc)
{
	struct reporter r = { 1, 0, NULL };
	struct pc pc = { NULL, -1, 0, "" };
	struct sources_state st;
	struct verdict v;
	struct al_match m;
	unsigned char addr[16];
	unsigned long problems = 0;
	char path[PATH_MAX], why[LOG_LINE_MAX], q[AL_QUOTE_MAX];
	char delay[32];

	if (optrc == -1) {
		print_errors(c);
		if (c->no_memory)
			return EX_OSERR;
		problems++;
	}
	if (c->query != NULL && al_addr_parse(c->query, addr) == -1) {
		al_quote(c->query, strlen(c->query), q, sizeof(q));
		fprintf(stderr, "sendwrap: -q: %s is not an IPv4 or IPv6 "
		    "address\n", q);
		return EX_USAGE;
	}
	if (program_find(c->prog[0], path, sizeof(path), why,
	    sizeof(why)) == -1) {
		fprintf(stderr, "sendwrap: %s\n", why);
		problems++;
	}
	if (c->verbose && c->check)
		r.source_done = print_source;
	sources_read(c, c->query ? addr : NULL, &m, NULL, &r, &st);
	if (c->cache_dir != NULL && pc_open(&pc, c->cache_dir,
	    c->cache_ttl) == -1) {
		fprintf(stderr, "%s\n", pc.msg);
		problems++;
	}
	if (c->query != NULL) {
		struct line l;
		char ip[INET6_ADDRSTRLEN], net[AL_ADDR_MAX];

		if (verdict_of(c, &st, &m, &pc, addr, &v) == -1) {
			fprintf(stderr, "%s\n", pc.msg);
			problems++;
		}
		al_addr_format(addr, ip, sizeof(ip));
		line_begin(&l, v.kind == V_ALLOW ? "allow" :
		    v.kind == V_CACHED ? "cached" : "delay", NULL);
		line_add(&l, " ip=%s", ip);
		line_seconds(&l, "delay", v.kind == V_CACHED ? 0 : v.delay_ms);
		if (v.kind == V_CACHED)
			line_add(&l, " age=%lu", v.age);
		if (v.key[0] != '\0')
			line_add(&l, " key=%s", v.key);
		if (v.m.found) {
			line_rule(&l, &v.m);
			al_net_format(&v.m.entry, net, sizeof(net));
			line_add(&l, " net=%s", net);
		}
		if (v.untrusted)
			line_add(&l, " allowlist=untrusted");
		printf("%s\n", l.buf);
	}
	if (st.problems > 0) {
		al_delay_format(st.longest_ms, delay, sizeof(delay));
		fprintf(stderr, "sendwrap: allowlist problems: until they are "
		    "fixed, no peer is allowlisted and every peer waits %s "
		    "seconds\n", delay);
	}
	if (c->check)
		print_log_destination(c);
	pc_close(&pc);
	fflush(stdout);
	return problems + st.problems > 0 ? EX_CONFIG : 0;
}

/* ---- one connection ---- */

/*
 * Wait until the deadline for the peer to stay silent.  The remainder
 * is recomputed from CLOCK_MONOTONIC on every turn, so an interrupted
 * select, or a SIGSTOP/SIGCONT pair, neither shortens nor lengthens the
 * wait.  The event signals are blocked except inside pselect(), so one
 * that arrives between the check and the call is not lost.  An urgent
 * (out-of-band) byte is talk too: select() shows it as an exception.
 */
static enum wait_result
wait_silent(int64_t deadline)
{
	enum wait_result res = W_SILENT;
	sigset_t wait_mask;
	char c;

	launcher_block_events(&wait_mask);
	for (;;) {
		int64_t left = deadline - now_ns();
		struct timespec ts;
		fd_set rfds, efds;
		ssize_t n;
		int r;

		if (launcher_signal_pending())
			return W_SIGNAL;
		if (left <= 0)
			break;
		ts.tv_sec = (time_t)(left / 1000000000);
		ts.tv_nsec = (long)(left % 1000000000);
		FD_ZERO(&rfds);
		FD_ZERO(&efds);
		FD_SET(STDIN_FILENO, &rfds);
		FD_SET(STDIN_FILENO, &efds);
		r = pselect(STDIN_FILENO + 1, &rfds, NULL, &efds, &ts,
		    &wait_mask);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			res = W_ERROR;
			break;
		}
		if (r == 0)
			continue;
		if (FD_ISSET(STDIN_FILENO, &efds)) {
			res = W_URGENT;
			break;
		}
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
	return res;
}

/*
 * A signal ended sendwrap's part: the peer is told to come back, one
 * line says why.  Exit 0: the launcher asked for it.
 */
static int NOINLINE
shut_down(struct peer *p, const struct verdict *v, int sig)
{
	char name[32];
	struct line l;

	line_begin(&l, "shutdown", p);
	if (v != NULL) {
		line_seconds(&l, "delay", v->kind == V_WAIT ? v->delay_ms : 0);
		line_seconds(&l, "after", (unsigned)now_ms_since(started));
	}
	line_add(&l, " signal=%s", signal_name(sig, name, sizeof(name)));
	line_end(&l, LOG_NOTICE, v);
	reply(p, "421 4.3.2", "Service shutting down");
	return 0;
}

/*
 * Hand the peer to the program, after its outcome line.  The last
 * check for a signal comes first; one that arrives after it belongs to
 * the program.  If the exec fails, a pass just recorded is taken back,
 * and the peer is told to come back later.
 */
static void NOINLINE __attribute__((noreturn))
hand_over(const struct config *c, const char *path, struct peer *p,
    struct line *l, const struct verdict *v, struct pc *pc, int passed)
{
	char why[LOG_LINE_MAX];
	int sig;

	if ((sig = launcher_signal_pending()) != 0)
		exit(shut_down(p, v, sig));
	line_end(l, LOG_INFO, v);
	if (passed)
		cache_note(pc, v, p->addr, 1);
	program_exec(c, path, why, sizeof(why));
	if (passed)
		cache_note(pc, v, p->addr, 0);
	exit(give_up(p, why, "421 4.3.0", EX_OSERR));
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

/* Tell the early talker what -e says, then leave. */
static int NOINLINE
turn_away(const struct config *c, struct peer *p)
{
	if (c->action == ACT_DROP)
		return 0;
	/* Read what it sent, so that the close below is not a reset. */
	(void)read_sent(STDIN_FILENO, 0, DRAIN_BYTES);
	reply_early(c, p);
	drain();
	return 0;
}

/*
 * One peer, per connection: decide, maybe wait, then exec the program
 * or turn the peer away.  The manual's DESCRIPTION, in order.
 */
static int
one_connection(const struct config *c, const char *path, struct peer *p)
{
	struct reporter r = { 0, 0, NULL };
	struct pc pc = { NULL, -1, 0, "" };
	struct sources_state st;
	struct al_match m;
	struct verdict v;
	struct line l;
	enum wait_result res;
	char why[LOG_LINE_MAX];
	int sig;

	sources_read(c, p->addr, &m, NULL, &r, &st);
	report_more(&r);
	logmsg(LOG_DEBUG, "%lu allowlist entries scanned in %d ms", st.entries,
	    now_ms_since(started));
	if (c->cache_dir != NULL && pc_open(&pc, c->cache_dir,
	    c->cache_ttl) == -1)
		logmsg(LOG_ERR, "%s", pc.msg);
	if (verdict_of(c, &st, &m, &pc, p->addr, &v) == -1)
		logmsg(LOG_ERR, "%s", pc.msg);
	if (v.kind == V_ALLOW) {
		line_begin(&l, "allow", p);
		line_seconds(&l, "delay", 0);
		hand_over(c, path, p, &l, &v, &pc, 0);
	}
	if (v.kind == V_CACHED) {
		line_begin(&l, "cached", p);
		line_seconds(&l, "delay", 0);
		line_add(&l, " age=%lu", v.age);
		hand_over(c, path, p, &l, &v, &pc, 0);
	}

	send_teaser(c, p);
	res = wait_silent(started + (int64_t)v.delay_ms * 1000000);
	switch (res) {
	case W_SILENT:
		line_begin(&l, "pass", p);
		line_seconds(&l, "delay", v.delay_ms);
		hand_over(c, path, p, &l, &v, &pc, 1);
	case W_EARLY:
	case W_URGENT:
		cache_note(&pc, &v, p->addr, 0);
		if (c->action == ACT_LOG) {
			if ((sig = launcher_signal_pending()) != 0)
				return shut_down(p, &v, sig);
			log_early(c, p, &v, (unsigned)now_ms_since(started),
			    res == W_URGENT);
			program_exec(c, path, why, sizeof(why));
			return give_up(p, why, "421 4.3.0", EX_OSERR);
		}
		log_early(c, p, &v, (unsigned)now_ms_since(started),
		    res == W_URGENT);
		return turn_away(c, p);
	case W_EOF:
	case W_RESET:
		line_begin(&l, "hangup", p);
		line_seconds(&l, "delay", v.delay_ms);
		line_seconds(&l, "after", (unsigned)now_ms_since(started));
		line_add(&l, " reason=%s", res == W_EOF ? "eof" : "reset");
		line_end(&l, LOG_INFO, &v);
		return 0;
	case W_SIGNAL:
		return shut_down(p, &v, launcher_signal_pending());
	case W_ERROR:
		break;
	}
	snprintf(why, sizeof(why), "waiting failed: %s", strerror(errno));
	line_begin(&l, "error", p);
	line_seconds(&l, "delay", v.delay_ms);
	line_seconds(&l, "after", (unsigned)now_ms_since(started));
	line_value(&l, "reason", why, 1);
	line_end(&l, LOG_ERR, &v);
	reply_unavailable(p, "421 4.3.0");
	return EX_OSERR;
}

/* Put /dev/null on any of fds 0-2 that is closed, so no file we open
 * later, the log socket included, can land there and reach the MTA. */
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
	struct line l;
	char path[PATH_MAX], why[LOG_LINE_MAX];
	int optrc, sig;

	started = now_ns();
	launcher_save();
	sanitize_fds();
	optrc = parse_options(argc, argv, &c);
	if (c.help || c.version || c.prune || c.check || c.query != NULL) {
		/* A person: signals act as they always do. */
		launcher_restore();
		if (c.prune)
			return prune_cache(&c, optrc);
		if (c.check || c.query != NULL)
			return check_config(&c, optrc);
		if (optrc == -1) {
			print_errors(&c);
			usage(stderr);
			return c.no_memory ? EX_OSERR : EX_USAGE;
		}
		if (c.version)
			printf("sendwrap %s\n", SENDWRAP_VERSION);
		else
			usage(stdout);
		return 0;
	}

	log_open(c.use_stderr, c.verbose);
	get_peer(&p);
	if (p.kind == IN_LISTEN || (p.kind != IN_INET &&
	    listener_fds_from_env() > 0))
		return listener_run(&c, optrc);
	if (c.no_memory)
		return give_up(&p, "out of memory", "421 4.3.0", EX_OSERR);
	if (optrc == -1) {
		config_errors_joined(&c, why, sizeof(why));
		return give_up(&p, why, "421 4.3.5", EX_USAGE);
	}
	if (program_find(c.prog[0], path, sizeof(path), why,
	    sizeof(why)) == -1)
		return give_up(&p, why, "421 4.3.0", EX_OSERR);
	switch (p.kind) {
	case IN_LOCAL:
		line_begin(&l, "local", &p);
		line_add(&l, " stdin=%s", p.what);
		if ((sig = launcher_signal_pending()) != 0)
			return shut_down(&p, NULL, sig);
		line_end(&l, LOG_INFO, NULL);
		program_exec(&c, path, why, sizeof(why));
		return give_up(&p, why, NULL, EX_OSERR);
	case IN_GONE:
		line_begin(&l, "hangup", &p);
		line_add(&l, " reason=gone");
		line_end(&l, LOG_INFO, NULL);
		return 0;
	case IN_BAD:
		return give_up(&p, p.what, NULL, EX_USAGE);
	case IN_LISTEN:
	case IN_INET:
		break;
	}
	return one_connection(&c, path, &p);
}
