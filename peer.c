/*
 * peer.c - what sendwrap does with one peer, in either mode.
 *
 * The rules a peer meets, its replies, its log line and the exec of the
 * program are written once, here, and used per connection (sendwrap.c),
 * by the listener (listener.c) and by -q, so that the modes cannot
 * drift apart.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "peer.h"

#define DEFAULT_PATH	"/usr/sbin:/usr/bin:/sbin:/bin"
#define READ_CHUNK	8192	/* allowlist read buffer */
#define RULE_PATH_MAX	200	/* a rule's file name, shortened from the left */
#define SCRIPT_DEPTH	4	/* #! interpreters in a row, as Linux allows */

const char *const action_names[4] = { "drop", "tempfail", "reject", "log" };

int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Milliseconds since a now_ns() time. */
int
now_ms_since(int64_t then)
{
	return (int)((now_ns() - then) / 1000000);
}

/* ---- the allowlist sources ---- */

static void
report(void *ctx, const struct al_problem *p)
{
	struct reporter *r = ctx;
	char where[PATH_MAX + 32];

	if (p->line > 0)
		snprintf(where, sizeof(where), "%s:%lu", p->file, p->line);
	else
		snprintf(where, sizeof(where), "%s", p->file);
	r->count++;
	if (r->to_stderr)
		fprintf(stderr, "%s: %s\n", where, p->msg);
	else if (r->count <= PROBLEMS_LOGGED)
		logmsg(LOG_ERR, "%s: %s", where, p->msg);
}

/* After a connection's problems: say how many more were not logged. */
void
report_more(const struct reporter *r)
{
	if (!r->to_stderr && r->count > PROBLEMS_LOGGED)
		logmsg(LOG_ERR, "%lu more allowlist problems; run sendwrap -t",
		    r->count - PROBLEMS_LOGGED);
}

/*
 * Scan one allowlist file through a small buffer: a large list costs
 * time, not memory, and a file being rewritten cannot fault us as a
 * mapping could.  O_NONBLOCK keeps the open of a FIFO without a
 * writer from hanging a connection.  The buffer is anonymous memory,
 * mapped for the scan and unmapped after it: on the stack, its pages
 * would stay with a waiting process through the whole wait.
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
		al_scan_problem(s, 0, msg);
		return;
	}
	/* A device or FIFO may never end; only a plain file is read. */
	if (fstat(fd, &st) == -1)
		st.st_mode = 0;
	if (!S_ISREG(st.st_mode)) {
		al_scan_problem(s, 0, S_ISDIR(st.st_mode) ?
		    "is a directory, not a file" : "is not a regular file");
		close(fd);
		return;
	}
	buf = mmap(NULL, READ_CHUNK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		snprintf(msg, sizeof(msg), "no read buffer: %s",
		    strerror(errno));
		al_scan_problem(s, 0, msg);
		close(fd);
		return;
	}
	while ((n = read(fd, buf, READ_CHUNK)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			snprintf(msg, sizeof(msg), "read error: %s",
			    strerror(errno));
			al_scan_problem(s, s->line + 1, msg);
			break;
		}
		al_scan_feed(s, buf, (size_t)n);
	}
	munmap(buf, READ_CHUNK);
	al_scan_end(s);
	close(fd);
}

/*
 * Read every source, in command-line order: match the peer (if given)
 * into m, put every entry into the table (if given), and count.  The
 * implicit default file alone may be missing.  r->source_done, if set,
 * hears about each source when it has been read (-t -v).
 */
void
sources_read(const struct config *c, const unsigned char *peer,
    struct al_match *m, struct al_table *table, struct reporter *r,
    struct sources_state *st)
{
	size_t i;

	al_match_init(m, peer);
	memset(st, 0, sizeof(*st));
	st->longest_ms = c->delay_ms;
	for (i = 0; i < c->nsrc; i++) {
		const struct source *src = &c->src[i];
		struct al_scan s;

		if (src->is_file) {
			al_scan_init(&s, src->text, peer, m, report, r);
			s.table = table;
			scan_file(&s, src, c->default_src);
		} else {
			al_scan_init(&s, "-A", peer, m, report, r);
			s.table = table;
			s.line = src->index - 1;
			al_scan_line(&s, src->text, strlen(src->text));
		}
		st->problems += s.errors;
		st->entries += s.entries;
		if (s.max_delay_ms > st->longest_ms)
			st->longest_ms = s.max_delay_ms;
		if (r->source_done != NULL)
			r->source_done(src, &s);
	}
}

/* ---- the verdict ---- */

/*
 * The rules, in the manual's order.  With any allowlist problem the
 * allowlist is not trusted: nobody is allowlisted, loopback included,
 * and every peer waits the longest delay the configuration names, so a
 * mistake can make peers wait but never lets one skip the wait.  A
 * pass in the cache still counts: it was earned by waiting.  Returns 0,
 * or -1 when the cache had a problem (in pc->msg); the peer then waits.
 */
int
verdict_of(const struct config *c, const struct sources_state *st,
    const struct al_match *m, struct pc *pc, const unsigned char addr[16],
    struct verdict *v)
{
	int r;

	memset(v, 0, sizeof(*v));
	if (st->problems > 0) {
		v->untrusted = 1;
		v->delay_ms = st->longest_ms;
	} else {
		v->m = *m;
		v->delay_ms = m->found ? m->entry.delay_ms : c->delay_ms;
	}
	v->kind = v->delay_ms == 0 && !v->untrusted ? V_ALLOW : V_WAIT;
	if (v->kind == V_ALLOW || pc == NULL || pc->fd == -1)
		return 0;
	pc_key(addr, v->key);
	if ((r = pc_lookup(pc, addr, pc_now(), &v->age)) == 1)
		v->kind = V_CACHED;
	return r == -1 ? -1 : 0;
}

/*
 * Remember a peer that passed, or forget one that talked early (or
 * whose pass did not reach the program after all).  A problem is
 * logged; it costs the peer a wait next time, never its mail.
 */
void
cache_note(struct pc *pc, const struct verdict *v, const unsigned char addr[16],
    int passed)
{
	if (pc == NULL || pc->fd == -1 || v->key[0] == '\0')
		return;
	if ((passed ? pc_pass(pc, addr, pc_now()) : pc_forget(pc, addr)) == -1)
		logmsg(LOG_ERR, "%s", pc->msg);
}

/* ---- the peer ---- */

void
peer_from_sockaddr(struct peer *p, const struct sockaddr_storage *ss)
{
	p->kind = IN_INET;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		memset(p->addr, 0, 10);
		p->addr[10] = p->addr[11] = 0xff;
		memcpy(p->addr + 12, &sin->sin_addr, 4);
		p->port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)ss;

		memcpy(p->addr, &sin6->sin6_addr, 16);
		p->port = ntohs(sin6->sin6_port);
	}
	/* A mapped peer is logged as the IPv4 address admins grep for. */
	al_addr_format(p->addr, p->ip, sizeof(p->ip));
}

/* ---- the log line ---- */

void
line_add(struct line *l, const char *fmt, ...)
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
void
line_value(struct line *l, const char *key, const char *val, int always_quote)
{
	char esc[AL_ESCAPE_MAX(256)];
	size_t n = strlen(val), i;
	int plain = !always_quote && n > 0;

	for (i = 0; plain && i < n; i++)
		if (!(val[i] > 0x20 && val[i] < 0x7f) || val[i] == '"' ||
		    val[i] == '\\')
			plain = 0;
	if (plain) {
		line_add(l, " %s=%s", key, val);
		return;
	}
	al_escape(val, n, esc, sizeof(esc));
	line_add(l, " %s=\"%s\"", key, esc);
}

void
line_seconds(struct line *l, const char *key, unsigned ms)
{
	char s[32];

	al_delay_format(ms, s, sizeof(s));
	line_add(l, " %s=%s", key, s);
}

/* Start a connection's log line: the outcome, then who it was. */
void
line_begin(struct line *l, const char *outcome, const struct peer *p)
{
	l->len = 0;
	l->buf[0] = '\0';
	line_add(l, "%s", outcome);
	if (p != NULL && p->kind == IN_INET)
		line_add(l, " ip=%s port=%u", p->ip, p->port);
}

/*
 * The rule's name: FILE:LINE, or -A:N, or builtin:loopback.  A file name
 * too long for a log line loses its start, never its line number.
 */
void
line_rule(struct line *l, const struct al_match *m)
{
	char rule[RULE_PATH_MAX + 32];
	size_t n;

	if (!m->found)
		return;
	n = strlen(m->file);
	if (m->builtin)
		snprintf(rule, sizeof(rule), "builtin:loopback");
	else if (n > RULE_PATH_MAX)
		snprintf(rule, sizeof(rule), "...%s:%lu",
		    m->file + n - (RULE_PATH_MAX - 3), m->line);
	else
		snprintf(rule, sizeof(rule), "%s:%lu", m->file, m->line);
	line_value(l, "rule", rule, 0);
}

/*
 * End a connection's line with what the rules said, and log it: the
 * pass cache key, the deciding rule, and whether the allowlist was
 * trusted.  Every outcome of either mode ends here.
 */
void
line_end(struct line *l, int prio, const struct verdict *v)
{
	if (v != NULL) {
		if (v->key[0] != '\0')
			line_add(l, " key=%s", v->key);
		line_rule(l, &v->m);
		if (v->untrusted)
			line_add(l, " allowlist=untrusted");
	}
	logmsg(prio, "%s", l->buf);
}

/*
 * The early talker's line, with what it sent so far (peeked: it stays
 * unread for the program under -e log), up to its verdict's fields,
 * which line_end() adds.  urgent: an out-of-band byte.
 */
void
line_early(struct line *l, const struct config *c, const struct peer *p,
    const struct verdict *v, unsigned after_ms, int urgent)
{
	char data[EARLY_SHOWN], esc[AL_ESCAPE_MAX(EARLY_SHOWN)];
	ssize_t n;
	int avail = 0;

	n = recv(p->fd, data, sizeof(data), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0)
		n = 0;
	if (ioctl(p->fd, FIONREAD, &avail) == -1 || avail < n)
		avail = (int)n;
	al_escape(data, (size_t)n, esc, sizeof(esc));
	line_begin(l, "early", p);
	line_seconds(l, "delay", v->delay_ms);
	line_seconds(l, "after", after_ms);
	line_add(l, " bytes=%d data=\"%s\" action=%s", avail + (urgent != 0),
	    esc, action_names[c->action]);
	if (urgent)
		line_add(l, " urgent=1");
}

void
log_early(const struct config *c, const struct peer *p,
    const struct verdict *v, unsigned after_ms, int urgent)
{
	struct line l;

	line_early(&l, c, p, v, after_ms, urgent);
	line_end(&l, LOG_NOTICE, v);
}

/* ---- replies: the only bytes sendwrap ever writes to the peer ---- */

/*
 * A reply's bytes, in buf; their length, 0 if they do not fit.  Apart
 * from reply() so that the listener can make them before a vfork(),
 * for its child to send.
 */
size_t
reply_format(const struct peer *p, const char *code, const char *text,
    char *buf, size_t size)
{
	char host[HOST_MAX];
	const char *h;
	size_t i, used = 0;
	int n;

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
	if (p->teased && strncmp(code, "220", 3) != 0) {
		n = snprintf(buf, size, "220 %s\r\n", h);
		if (n > 0 && (size_t)n < size)
			used = (size_t)n;
	}
	n = snprintf(buf + used, size - used, "%s %s %s\r\n", code, h, text);
	return n > 0 && used + (size_t)n < size ? used + (size_t)n : 0;
}

void
reply(struct peer *p, const char *code, const char *text)
{
	char buf[REPLY_MAX];
	size_t n;

	if (p->kind != IN_INET)
		return;
	if ((n = reply_format(p, code, text, buf, sizeof(buf))) > 0)
		(void)send(p->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void
reply_unavailable(struct peer *p, const char *code)
{
	reply(p, code, UNAVAILABLE);
}

/*
 * Read what an early talker sent, up to limit bytes in all, so that the
 * close that follows a reply is not a reset.  Returns the bytes read.
 */
size_t
read_sent(int fd, size_t done, size_t limit)
{
	char buf[2048];
	ssize_t n;

	while (done < limit &&
	    (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		done += (size_t)n;
	return done;
}

/* What -e tempfail or reject tells an early talker. */
void
reply_early(const struct config *c, struct peer *p)
{
	reply(p, c->action == ACT_TEMPFAIL ? "421 4.5.0" : "554 5.5.0",
	    "Protocol error: talked before the greeting");
}

/*
 * The greeting teaser.  "220-text" opens a multi-line greeting, and an
 * RFC 5321 client must wait for its last line ("220 ", with a space),
 * which the program's own greeting supplies after the wait.  A bot that
 * answers the first line it sees is an early talker, caught sooner than
 * by silence alone.  Only a peer that waits is sent one: an allowlisted
 * or cached peer meets the program's plain greeting at once.
 */
void
send_teaser(const struct config *c, struct peer *p)
{
	char buf[TEASER_MAX + 8];
	int n;

	if (c->teaser == NULL || p->kind != IN_INET)
		return;
	n = snprintf(buf, sizeof(buf), "220-%s\r\n", c->teaser);
	if (n > 0 && (size_t)n < sizeof(buf) && send(p->fd, buf, (size_t)n,
	    MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
		p->teased = 1;
}

/*
 * sendwrap cannot go on: log why and, if there is a peer and a code,
 * tell it to come back later, so that no mail is lost.  Returns the
 * exit status.
 */
int
give_up(struct peer *p, const char *why, const char *code, int status)
{
	struct line l;

	line_begin(&l, "error", p);
	line_value(&l, "reason", why, 1);
	line_end(&l, LOG_ERR, NULL);
	if (code != NULL)
		reply_unavailable(p, code);
	return status;
}

/*
 * The option problems as one log line: whole messages joined by "; ",
 * and as many as fit; the rest counted, never cut mid-word.
 */
void
config_errors_joined(const struct config *c, char *out, size_t size)
{
	size_t used = 0, len;
	unsigned i;
	char more[48];

	out[0] = '\0';
	for (i = 0; c->error != NULL && i < c->nerrors && i < OPT_ERRORS_MAX;
	    i++) {
		len = strlen(c->error[i]);
		snprintf(more, sizeof(more), "; and %u more", c->nerrors - i);
		if (used + 2 + len + strlen(more) >= size &&
		    !(i + 1 == c->nerrors && used + 2 + len < size))
			break;
		used += (size_t)snprintf(out + used, size - used, "%s%s",
		    i > 0 ? "; " : "", c->error[i]);
	}
	if (i < c->nerrors)
		snprintf(out + used, size - used, "%s and %u more",
		    i > 0 ? ";" : "", c->nerrors - i);
}

/* ---- the program ---- */

/* The ELF header of a file, or of ourselves; -1 if it has none. */
static int
elf_header(int fd, unsigned char *ident, uint16_t *machine)
{
	unsigned char h[20];

	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h, ELFMAG, SELFMAG) != 0)
		return -1;
	memcpy(ident, h, EI_NIDENT < 16 ? EI_NIDENT : 16);
	/* e_machine sits after e_type, in the file's byte order. */
	*machine = h[EI_DATA] == ELFDATA2MSB ?
	    (uint16_t)(h[18] << 8 | h[19]) : (uint16_t)(h[19] << 8 | h[18]);
	return 0;
}

/*
 * Can the kernel exec path?  execv() itself would say, but only after
 * the peer waited its delay: a script without "#!", a "#!" naming a
 * missing interpreter, or a binary for another machine is caught here,
 * at start and by -t.  A file we may run but not read is given the
 * benefit of the doubt.
 */
static int
exec_check(const char *path, char *why, size_t whysz, int depth)
{
	unsigned char ident[16], self_ident[16];
	uint16_t machine, self_machine;
	char head[256], interp[256], sub[256];
	struct stat st;
	ssize_t n;
	size_t i, len;
	int fd, self;

	if (stat(path, &st) == -1) {
		snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || access(path, X_OK) == -1) {
		snprintf(why, whysz, "%s", strerror(EACCES));
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK))
	    == -1)
		return 0;
	n = pread(fd, head, sizeof(head) - 1, 0);
	if (n >= 2 && head[0] == '#' && head[1] == '!') {
		close(fd);
		head[n] = '\0';
		for (i = 2; head[i] == ' ' || head[i] == '\t'; i++)
			;
		len = strcspn(head + i, " \t\n");
		if (len == 0 || len >= sizeof(interp)) {
			snprintf(why, whysz, "its #! line names no interpreter");
			return -1;
		}
		memcpy(interp, head + i, len);
		interp[len] = '\0';
		if (depth >= SCRIPT_DEPTH) {
			snprintf(why, whysz, "too many #! interpreters in a row");
			return -1;
		}
		if (exec_check(interp, sub, sizeof(sub), depth + 1) == -1) {
			snprintf(why, whysz, "its #! interpreter %.200s: %s",
			    interp, sub);
			return -1;
		}
		return 0;
	}
	if (elf_header(fd, ident, &machine) == -1) {
		close(fd);
		snprintf(why, whysz, "not a program: neither a #! script nor "
		    "a binary (%s)", strerror(ENOEXEC));
		return -1;
	}
	close(fd);
	if ((self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (elf_header(self, self_ident, &self_machine) == 0 &&
	    (ident[EI_CLASS] != self_ident[EI_CLASS] ||
	    ident[EI_DATA] != self_ident[EI_DATA] ||
	    machine != self_machine)) {
		close(self);
		snprintf(why, whysz, "a binary for another machine (ELF "
		    "machine %u, class %u; this one is %u, class %u)",
		    machine, ident[EI_CLASS], self_machine,
		    self_ident[EI_CLASS]);
		return -1;
	}
	close(self);
	return 0;
}

/* Is path this very sendwrap?  Then sendwrap would run itself. */
static int
is_self(const char *path)
{
	struct stat a, b;

	return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * Find the program now, before any peer waits for it, and check that
 * it can be run: a missing MTA is then reported at once, not after a
 * delay.  A name without a slash is looked up in the absolute elements
 * of PATH only: an empty, "." or relative element would search the
 * current directory, which a daemon never means.  execv() is used
 * later, never execvp(), which would hand a file without an exec header
 * to /bin/sh.
 */
int
program_find(const char *name, char *out, size_t size, char *why,
    size_t whysz)
{
	const char *path, *p, *colon;
	char sub[LOG_LINE_MAX / 2];
	int saved = ENOENT;

	if (strchr(name, '/') != NULL) {
		if (strlen(name) >= size) {
			snprintf(why, whysz, "program name is too long");
			return -1;
		}
		snprintf(out, size, "%s", name);
	} else {
		if ((path = getenv("PATH")) == NULL || *path == '\0')
			path = DEFAULT_PATH;
		out[0] = '\0';
		for (p = path; ; p = colon + 1) {
			size_t dlen;
			struct stat st;

			colon = strchr(p, ':');
			dlen = colon ? (size_t)(colon - p) : strlen(p);
			if (dlen > 0 && p[0] == '/' &&
			    dlen + 1 + strlen(name) < size) {
				snprintf(out, size, "%.*s/%s", (int)dlen, p,
				    name);
				if (stat(out, &st) == 0)
					break;
				if (errno != ENOENT && errno != ENOTDIR)
					saved = errno;
			}
			out[0] = '\0';
			if (colon == NULL)
				break;
		}
		if (out[0] == '\0') {
			snprintf(why, whysz, "cannot run %s: %s (searched the "
			    "absolute directories in PATH)", name,
			    strerror(saved));
			return -1;
		}
	}
	if (exec_check(out, sub, sizeof(sub), 0) == -1) {
		snprintf(why, whysz, "cannot run %s: %s", out, sub);
		return -1;
	}
	if (is_self(out)) {
		snprintf(why, whysz, "cannot run %s: it is sendwrap itself "
		    "(a launcher line whose program name was taken for the "
		    "program?)", out);
		return -1;
	}
	return 0;
}

/* ---- signals, and what the launcher gave ---- */

/*
 * The launcher's signal mask, the dispositions sendwrap changed, and
 * its descriptor limit: the program gets them back, as if the launcher
 * had started it.  A process just exec'd has every signal at its
 * default or ignored, so two sets say all there is to give back.
 */
static struct {
	sigset_t	 mask;
	sigset_t	 events;	/* caught: they end the connection */
	sigset_t	 changed;	/* by sendwrap */
	sigset_t	 ignored;	/* by the launcher, of those */
	struct rlimit	 nofile;
	int		 have_nofile;
} launcher;

static volatile sig_atomic_t got_signal;

static void
on_event(int sig)
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
 * A signal that would end sendwrap, and so must end the connection
 * with a 421 and a log line instead: every catchable one whose default
 * action ends the process, except the faults, which are bugs.  SIGPIPE
 * is left out: sendwrap never wants it, so it is ignored while
 * sendwrap runs.
 */
int
launcher_event_signal(int sig)
{
	switch (sig) {
	case SIGHUP: case SIGINT: case SIGQUIT: case SIGUSR1: case SIGUSR2:
	case SIGALRM: case SIGTERM: case SIGSTKFLT: case SIGXCPU:
	case SIGXFSZ: case SIGVTALRM: case SIGPROF: case SIGIO: case SIGPWR:
		return 1;
	}
	return sig >= SIGRTMIN && sig <= SIGRTMAX;
}

static void
change(int sig, void (*handler)(int), const sigset_t *mask)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_mask = *mask;
	if (sigaction(sig, &sa, &old) == -1)
		return;
	sigaddset(&launcher.changed, sig);
	if (old.sa_handler == SIG_IGN)
		sigaddset(&launcher.ignored, sig);
}

/*
 * At the start of main.  Event signals that the launcher left at their
 * default are caught and kept blocked: one that arrives is pending until
 * the next check (launcher_signal_pending()) or until the wait unblocks
 * them, so none can end sendwrap without its 421 and its line.  Those
 * the launcher ignored stay ignored; they are not events.
 */
void
launcher_save(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	sigprocmask(SIG_SETMASK, NULL, &launcher.mask);
	launcher.have_nofile = getrlimit(RLIMIT_NOFILE, &launcher.nofile) == 0;
	sigemptyset(&launcher.events);
	sigemptyset(&launcher.changed);
	sigemptyset(&launcher.ignored);
	for (sig = 1; sig < NSIG; sig++)
		if (launcher_event_signal(sig) && sigaction(sig, NULL, &sa) == 0
		    && sa.sa_handler != SIG_IGN)
			sigaddset(&launcher.events, sig);
	sigprocmask(SIG_BLOCK, &launcher.events, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&launcher.events, sig) == 1)
			change(sig, on_event, &launcher.events);
	sigemptyset(&none);
	change(SIGPIPE, SIG_IGN, &none);
	if (sigaction(SIGCONT, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
		change(SIGCONT, on_continue, &none);
}

/*
 * Set sig to its default for sendwrap, and give the program the
 * launcher's disposition back: the listener must hear SIGCHLD even from
 * a launcher that ignored it.
 */
void
launcher_default(int sig)
{
	sigset_t none;

	sigemptyset(&none);
	change(sig, SIG_DFL, &none);
}

/* The signals that end a connection, or stop the listener. */
void
launcher_events(sigset_t *set)
{
	*set = launcher.events;
}

/* The mask for waiting: the event signals come through, nothing else. */
void
launcher_block_events(sigset_t *wait_mask)
{
	int sig;

	sigprocmask(SIG_SETMASK, NULL, wait_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&launcher.events, sig) == 1)
			sigdelset(wait_mask, sig);
}

/* The event signal that has arrived, taken, or 0. */
int
launcher_signal_pending(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t pending;
	int sig;

	if (got_signal)
		return got_signal;
	if (sigpending(&pending) == -1)
		return 0;
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&launcher.events, sig) == 1 &&
		    sigismember(&pending, sig) == 1) {
			sigset_t one;

			sigemptyset(&one);
			sigaddset(&one, sig);
			(void)sigtimedwait(&one, NULL, &zero);
			got_signal = sig;
			return sig;
		}
	return 0;
}

/*
 * Give the program what the launcher gave: dispositions, mask and
 * descriptor limit.  Only system calls, so that the listener's child
 * may call it between vfork() and exec.  A signal that arrives from
 * here on belongs to the program.
 */
void
launcher_restore(void)
{
	struct sigaction sa;
	int sig;

	memset(&sa, 0, sizeof(sa));
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&launcher.changed, sig) == 1) {
			sa.sa_handler = sigismember(&launcher.ignored, sig) == 1 ?
			    SIG_IGN : SIG_DFL;
			sigaction(sig, &sa, NULL);
		}
	if (launcher.have_nofile)
		setrlimit(RLIMIT_NOFILE, &launcher.nofile);
	sigprocmask(SIG_SETMASK, &launcher.mask, NULL);
}

/*
 * "TERM" for SIGTERM, "RTMIN+3" for a real-time one, as kill -l.  Only
 * the signals that are events are named; a switch, not the C library's
 * table, which a static build would relocate into every process.
 */
const char *
signal_name(int sig, char *buf, size_t size)
{
	const char *name = NULL;

	switch (sig) {
	case SIGHUP: name = "HUP"; break;
	case SIGINT: name = "INT"; break;
	case SIGQUIT: name = "QUIT"; break;
	case SIGUSR1: name = "USR1"; break;
	case SIGUSR2: name = "USR2"; break;
	case SIGALRM: name = "ALRM"; break;
	case SIGTERM: name = "TERM"; break;
	case SIGSTKFLT: name = "STKFLT"; break;
	case SIGXCPU: name = "XCPU"; break;
	case SIGXFSZ: name = "XFSZ"; break;
	case SIGVTALRM: name = "VTALRM"; break;
	case SIGPROF: name = "PROF"; break;
	case SIGIO: name = "IO"; break;
	case SIGPWR: name = "PWR"; break;
	}
	if (name != NULL)
		snprintf(buf, size, "%s", name);
	else if (sig == SIGRTMIN || sig == SIGRTMAX)
		snprintf(buf, size, "%s", sig == SIGRTMIN ? "RTMIN" : "RTMAX");
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, size, "RTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, size, "%d", sig);
	return buf;
}

static void
mark_fds_cloexec(void)
{
	long max;
	int fd;

#ifdef CLOSE_RANGE_CLOEXEC
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/*
 * Become the program: only fds 0, 1 and 2 go with it, with the signal
 * handling and limits the launcher gave.  Returns only if execv()
 * failed, with the reason in why.
 */
void
program_exec(const struct config *c, const char *path, char *why,
    size_t whysz)
{
	int e;

	mark_fds_cloexec();
	launcher_restore();
	execv(path, c->prog);
	e = errno;
	/* Still sendwrap: back under its own rules, to report it. */
	launcher_save();
	snprintf(why, whysz, "exec %s: %s", path, strerror(e));
}
