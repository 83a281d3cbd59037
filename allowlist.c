/*
 * allowlist.c - parse and match sendwrap's CIDR allowlists.
 *
 * A line is "address[/prefix] [delay] [# comment]".  Lines are checked
 * as strictly as Postfix checks a cidr table: a bad address, a prefix
 * out of range, host bits below the prefix, a bad delay or anything
 * left over is an error.  What was written is never widened: a
 * "192.0.2.1/2" meant as a /24 is not taken for the quarter of IPv4
 * that a masked /2 would be.  The caller decides what an error costs
 * (sendwrap: the whole allowlist is not trusted).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

int
al_addr_is_v4(const unsigned char a[16])
{
	return memcmp(a, v4mapped, sizeof(v4mapped)) == 0;
}

/*
 * Parse a NUL-terminated IPv4 or IPv6 address into 16 bytes.  glibc's
 * inet_pton() takes only dotted quads for IPv4 (no "10.1", no octal)
 * and no zone index for IPv6, which is the strictness wanted here.
 */
int
al_addr_parse(const char *s, unsigned char out[16])
{
	struct in_addr in4;

	if (strchr(s, ':') != NULL)
		return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
	if (inet_pton(AF_INET, s, &in4) != 1)
		return -1;
	memcpy(out, v4mapped, sizeof(v4mapped));
	memcpy(out + 12, &in4, 4);
	return 0;
}

/*
 * The site an address stands for: an IPv4 address alone, an IPv6 one
 * for its /64, the unit one host or site is given.  Per-address limits
 * and pass cache keys both count by it.
 */
void
al_site(const unsigned char a[16], unsigned char site[16])
{
	memcpy(site, a, 16);
	if (!al_addr_is_v4(a))
		memset(site + 8, 0, 8);
}

void
al_addr_format(const unsigned char a[16], char *buf, size_t size)
{
	const char *ok;

	if (al_addr_is_v4(a))
		ok = inet_ntop(AF_INET, a + 12, buf, size);
	else
		ok = inet_ntop(AF_INET6, a, buf, size);
	if (ok == NULL && size > 0)
		buf[0] = '\0';
}

void
al_net_format(const struct al_entry *e, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned plen = e->plen;

	al_addr_format(e->net, addr, sizeof(addr));
	if (al_addr_is_v4(e->net) && plen >= 96)
		plen -= 96;
	snprintf(buf, size, "%s/%u", addr, plen);
}

/*
 * Escape bytes for a log line or a message: a peer must not be able to
 * start a new syslog line, fake a field or hide text behind a control
 * character.  Printable ASCII other than \ and " is copied; everything
 * else becomes \\, \", \r, \n, \t or \xHH.  The output is always
 * terminated and never ends inside an escape.  Returns the number of
 * input bytes that fitted.
 */
size_t
al_escape(const void *in, size_t n, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = in;
	size_t i, o = 0;
	char e[5];
	size_t elen;

	if (size == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		elen = 2;
		e[0] = '\\';
		switch (c) {
		case '\\': e[1] = '\\'; break;
		case '"': e[1] = '"'; break;
		case '\r': e[1] = 'r'; break;
		case '\n': e[1] = 'n'; break;
		case '\t': e[1] = 't'; break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				e[0] = (char)c;
				elen = 1;
			} else {
				e[1] = 'x';
				e[2] = hex[c >> 4];
				e[3] = hex[c & 0xf];
				elen = 4;
			}
		}
		if (o + elen >= size)
			break;
		memcpy(out + o, e, elen);
		o += elen;
	}
	out[o] = '\0';
	return i;
}

/*
 * Quote text for a message: escaped, in double quotes, and cut after
 * AL_QUOTE_BYTES bytes with "...".  Every message that shows what a
 * person or a peer wrote quotes it this way.
 */
void
al_quote(const char *s, size_t len, char *out, size_t size)
{
	size_t shown = len > AL_QUOTE_BYTES ? AL_QUOTE_BYTES : len;
	char esc[AL_ESCAPE_MAX(AL_QUOTE_BYTES)];

	al_escape(s, shown, esc, sizeof(esc));
	snprintf(out, size, "\"%s%s\"", esc, len > AL_QUOTE_BYTES ? "..." : "");
}

static void
problem(struct al_problem *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct al_problem *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
}

static int
isdigits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return len > 0;
}

/*
 * Seconds with at most millisecond precision: "35", "0.25".  No sign,
 * no exponent, no hex, no "inf" or "nan": strtod() takes all of those,
 * so the grammar is checked by hand.  Range 0 to 300 seconds.
 */
int
al_delay_parse(const char *s, size_t len, unsigned *ms, char *msg,
    size_t msgsz)
{
	const char *dot = memchr(s, '.', len);
	size_t ilen = dot ? (size_t)(dot - s) : len;
	size_t flen = dot ? len - ilen - 1 : 0;
	unsigned long sec = 0, frac = 0;
	char q[AL_QUOTE_MAX];
	size_t i;

	/*
	 * The text is quoted only for a message: a good delay, on every
	 * line of a long list, must not cost a formatted copy.
	 */
	if (!isdigits(s, ilen) || (dot && !isdigits(dot + 1, flen))) {
		al_quote(s, len, q, sizeof(q));
		snprintf(msg, msgsz,
		    "delay %s is not a number of seconds like 35 or 0.25", q);
		return -1;
	}
	if (flen > 3) {
		al_quote(s, len, q, sizeof(q));
		snprintf(msg, msgsz,
		    "delay %s has more than 3 decimal places", q);
		return -1;
	}
	for (i = 0; i < ilen; i++) {
		sec = sec * 10 + (unsigned long)(s[i] - '0');
		if (sec > AL_DELAY_MAX_MS / 1000)
			break;
	}
	for (i = 0; i < 3; i++)
		frac = frac * 10 + (i < flen ? (unsigned long)(dot[1 + i] - '0') : 0);
	if (sec * 1000 + frac > AL_DELAY_MAX_MS) {
		al_quote(s, len, q, sizeof(q));
		snprintf(msg, msgsz, "delay %s is more than %u seconds "
		    "(RFC 5321 clients wait 5 minutes for the greeting)", q,
		    AL_DELAY_MAX_MS / 1000);
		return -1;
	}
	*ms = (unsigned)(sec * 1000 + frac);
	return 0;
}

void
al_delay_format(unsigned ms, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%03u", ms / 1000, ms % 1000);
}

int
al_covers(const struct al_entry *e, const unsigned char a[16])
{
	unsigned full = e->plen / 8, rest = e->plen % 8;
	unsigned char mask;

	if (memcmp(e->net, a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff00u >> rest);
	return (e->net[full] & mask) == (a[full] & mask);
}

/* Clear the host bits below plen; returns whether any were set. */
static int
mask_host_bits(unsigned char a[16], unsigned plen)
{
	int changed = 0;
	unsigned i;

	for (i = 0; i < 16; i++) {
		unsigned char mask;

		if (plen >= 8 * (i + 1))
			continue;
		mask = plen > 8 * i ? (unsigned char)(0xff00u >> (plen - 8 * i))
		    : 0;
		if (a[i] & ~mask)
			changed = 1;
		a[i] &= mask;
	}
	return changed;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int
parse_network(const char *tok, size_t len, struct al_entry *e,
    struct al_problem *p)
{
	const char *slash = memchr(tok, '/', len);
	size_t alen = slash ? (size_t)(slash - tok) : len;
	char addr[AL_ADDR_MAX], q[AL_QUOTE_MAX];
	unsigned maxlen, plen, i;
	int v4;

	if (alen >= sizeof(addr) || memchr(tok, '\0', alen) != NULL)
		goto bad_addr;
	memcpy(addr, tok, alen);
	addr[alen] = '\0';
	if (al_addr_parse(addr, e->net) == -1)
		goto bad_addr;
	v4 = strchr(addr, ':') == NULL;
	maxlen = v4 ? 32 : 128;
	plen = maxlen;
	if (slash) {
		size_t plen_len = len - alen - 1;

		if (!isdigits(slash + 1, plen_len) || plen_len > 3) {
			al_quote(slash, plen_len + 1, q, sizeof(q));
			problem(p, "prefix %s is not a number "
			    "from 0 to %u", q, maxlen);
			return -1;
		}
		for (plen = 0, i = 0; i < plen_len; i++)
			plen = plen * 10 + (unsigned)(slash[1 + i] - '0');
		if (plen > maxlen) {
			problem(p, "prefix /%u is longer than %u "
			    "for an %s address", plen, maxlen,
			    v4 ? "IPv4" : "IPv6");
			return -1;
		}
	}
	e->plen = v4 ? plen + 96 : plen;
	if (mask_host_bits(e->net, e->plen)) {
		char net[AL_ADDR_MAX];

		al_net_format(e, net, sizeof(net));
		al_quote(tok, len, q, sizeof(q));
		problem(p, "host bits set in %s; did you mean %s?", q, net);
		return -1;
	}
	return 0;

bad_addr:
	al_quote(tok, alen, q, sizeof(q));
	problem(p, "%s is not an IPv4 or IPv6 address", q);
	return -1;
}

/*
 * Parse one line (no newline).  Returns 1 for an entry, 0 for a blank
 * or comment line, -1 for an error, described in p->msg.
 */
int
al_parse_line(const char *line, size_t len, struct al_entry *e,
    struct al_problem *p)
{
	const char *tok[3], *end, *hash;
	size_t tlen[3];
	char q[AL_QUOTE_MAX];
	int n = 0;

	p->msg[0] = '\0';
	memset(e, 0, sizeof(*e));
	if (memchr(line, '\0', len) != NULL) {
		problem(p, "NUL byte in line");
		return -1;
	}
	if ((hash = memchr(line, '#', len)) != NULL)
		len = (size_t)(hash - line);
	/* A CR is white space only at the end, where CRLF files put it. */
	while (len > 0 && (is_space(line[len - 1]) || line[len - 1] == '\r'))
		len--;
	end = line + len;
	while (line < end && n < 3) {
		while (line < end && is_space(*line))
			line++;
		if (line == end)
			break;
		tok[n] = line;
		while (line < end && !is_space(*line))
			line++;
		tlen[n] = (size_t)(line - tok[n]);
		n++;
	}
	if (n == 0)
		return 0;
	if (parse_network(tok[0], tlen[0], e, p) == -1)
		return -1;
	if (n >= 2) {
		char msg[AL_MSG_MAX];

		if (al_delay_parse(tok[1], tlen[1], &e->delay_ms, msg,
		    sizeof(msg)) == -1) {
			problem(p, "%s", msg);
			return -1;
		}
	}
	if (n == 3) {
		al_quote(tok[2], (size_t)(end - tok[2]), q, sizeof(q));
		problem(p, "unexpected %s after the delay", q);
		return -1;
	}
	return 1;
}

/*
 * Start a decision: loopback is allowlisted unless an entry says
 * otherwise, so the built-in rule loses every tie with a real entry.
 */
void
al_match_init(struct al_match *m, const unsigned char peer[16])
{
	static const struct al_entry loop4 = {
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 0 },
		104, 0
	};
	static const struct al_entry loop6 = {
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128, 0
	};

	memset(m, 0, sizeof(*m));
	if (peer == NULL)
		return;
	if (al_covers(&loop4, peer))
		m->entry = loop4;
	else if (al_covers(&loop6, peer))
		m->entry = loop6;
	else
		return;
	m->found = m->builtin = 1;
	m->file = "builtin";
}

/*
 * The one rule for which entry decides, whatever asks: the longest
 * prefix wins; between equal prefixes the first offered wins, except
 * that the built-in loopback rule loses every tie.  The caller offers
 * only entries that cover the peer.
 */
void
al_match_offer(struct al_match *m, const struct al_entry *e, const char *file,
    unsigned long line)
{
	if (m->found && e->plen < m->entry.plen)
		return;
	if (m->found && e->plen == m->entry.plen && !m->builtin)
		return;
	m->found = 1;
	m->builtin = 0;
	m->entry = *e;
	m->file = file;
	m->line = line;
}

void
al_scan_init(struct al_scan *s, const char *file, const unsigned char *peer,
    struct al_match *best, al_report_fn *report, void *ctx)
{
	memset(s, 0, offsetof(struct al_scan, buf));
	s->file = file;
	s->peer = peer;
	s->best = best;
	s->report = report;
	s->ctx = ctx;
}

void
al_scan_problem(struct al_scan *s, unsigned long line, const char *msg)
{
	struct al_problem p;

	p.file = s->file;
	p.line = line;
	snprintf(p.msg, sizeof(p.msg), "%s", msg);
	s->errors++;
	if (s->report != NULL)
		s->report(s->ctx, &p);
}

/* Scan one complete line: count it, check it, and weigh it as a match. */
static void
scan_line(struct al_scan *s, const char *line, size_t len, int overlong)
{
	struct al_problem p;
	struct al_entry e;

	s->line++;
	/* The CR of a CRLF line end is not part of the line. */
	if (!overlong && len > 0 && line[len - 1] == '\r')
		len--;
	if (overlong || len > AL_LINE_MAX) {
		char msg[AL_MSG_MAX];

		snprintf(msg, sizeof(msg), "line is longer than %d bytes",
		    AL_LINE_MAX);
		al_scan_problem(s, s->line, msg);
		return;
	}
	switch (al_parse_line(line, len, &e, &p)) {
	case -1:
		al_scan_problem(s, s->line, p.msg);
		return;
	case 0:
		return;
	}
	s->entries++;
	if (e.delay_ms > s->max_delay_ms)
		s->max_delay_ms = e.delay_ms;
	if (s->table != NULL && al_table_add(s->table, &e, s->file,
	    s->line) == -1)
		al_scan_problem(s, s->line, "out of memory");
	if (s->peer != NULL && s->best != NULL && al_covers(&e, s->peer))
		al_match_offer(s->best, &e, s->file, s->line);
}

/* A source that is one line by definition, such as a -A argument. */
void
al_scan_line(struct al_scan *s, const char *line, size_t len)
{
	scan_line(s, line, len, 0);
}

/*
 * Feed a chunk of a source.  Lines that lie whole in the chunk are
 * parsed where they are; only a line split across chunks is copied,
 * and one that grows past the buffer is only counted, not stored.
 */
void
al_scan_feed(struct al_scan *s, const char *data, size_t n)
{
	const char *p = data, *end = data + n, *nl;

	while (p < end) {
		size_t k;

		nl = memchr(p, '\n', (size_t)(end - p));
		k = (size_t)((nl ? nl : end) - p);
		if (nl != NULL && s->len == 0 && !s->overlong) {
			scan_line(s, p, k, 0);
		} else {
			if (s->len + k > sizeof(s->buf))
				s->overlong = 1;
			else {
				memcpy(s->buf + s->len, p, k);
				s->len += k;
			}
			if (nl == NULL)
				return;
			scan_line(s, s->buf, s->len, s->overlong);
			s->len = 0;
			s->overlong = 0;
		}
		p += k + 1;	/* past the newline */
	}
}

/* A last line without a newline still counts. */
void
al_scan_end(struct al_scan *s)
{
	if (s->len > 0 || s->overlong)
		scan_line(s, s->buf, s->len, s->overlong);
	s->len = 0;
	s->overlong = 0;
}

/*
 * The table: every entry of every source, for a process that decides
 * many peers (the listener).  One open-addressing hash keyed by prefix
 * length and network, and a note of which lengths occur: a lookup tries
 * each length that occurs, longest first, so it costs at most 129
 * probes whatever the number of entries.
 */
struct al_slot {
	struct al_entry	 e;
	const char	*file;
	unsigned long	 line;
	int		 used;
};

struct al_table {
	struct al_slot	*slot;
	size_t		 cap;		/* a power of two, or 0 */
	size_t		 n;
	unsigned char	 has_len[129];
};

struct al_table *
al_table_new(void)
{
	return calloc(1, sizeof(struct al_table));
}

void
al_table_free(struct al_table *t)
{
	if (t == NULL)
		return;
	free(t->slot);
	free(t);
}

size_t
al_table_size(const struct al_table *t)
{
	return t->n;
}

/* FNV-1a over the prefix length and the network's bytes. */
static size_t
slot_hash(const unsigned char net[16], unsigned plen)
{
	uint64_t h = 14695981039346656037ull;
	size_t i;

	h = (h ^ plen) * 1099511628211ull;
	for (i = 0; i < 16; i++)
		h = (h ^ net[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

static struct al_slot *
slot_find(const struct al_table *t, const unsigned char net[16], unsigned plen)
{
	size_t i = slot_hash(net, plen) & (t->cap - 1);

	while (t->slot[i].used) {
		if (t->slot[i].e.plen == plen &&
		    memcmp(t->slot[i].e.net, net, 16) == 0)
			return &t->slot[i];
		i = (i + 1) & (t->cap - 1);
	}
	return &t->slot[i];
}

static int
grow(struct al_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64, i;
	struct al_table bigger = *t;

	if (cap > SIZE_MAX / sizeof(*t->slot) / 2)
		return -1;
	if ((bigger.slot = calloc(cap, sizeof(*t->slot))) == NULL)
		return -1;
	bigger.cap = cap;
	for (i = 0; i < t->cap; i++)
		if (t->slot[i].used)
			*slot_find(&bigger, t->slot[i].e.net,
			    t->slot[i].e.plen) = t->slot[i];
	free(t->slot);
	*t = bigger;
	return 0;
}

/*
 * Add an entry.  An entry for the same network as one already there
 * comes later, so by al_match_offer()'s rule it never decides: it is
 * not stored.  Returns 0, or -1 when memory runs out.
 */
int
al_table_add(struct al_table *t, const struct al_entry *e, const char *file,
    unsigned long line)
{
	struct al_slot *s;

	if ((t->n + 1) * 2 > t->cap && grow(t) == -1)
		return -1;
	s = slot_find(t, e->net, e->plen);
	if (s->used)
		return 0;
	s->used = 1;
	s->e = *e;
	s->file = file;
	s->line = line;
	t->has_len[e->plen] = 1;
	t->n++;
	return 0;
}

/*
 * Offer m the longest entry that covers addr.  m starts as
 * al_match_init() left it, so the built-in loopback rule and the tie
 * between them are settled by al_match_offer(), as in a scan.
 */
void
al_table_lookup(const struct al_table *t, const unsigned char addr[16],
    struct al_match *m)
{
	unsigned char net[16];
	int plen;

	if (t->n == 0)
		return;
	for (plen = 128; plen >= 0; plen--) {
		const struct al_slot *s;

		if (!t->has_len[plen])
			continue;
		memcpy(net, addr, 16);
		mask_host_bits(net, (unsigned)plen);
		s = slot_find(t, net, (unsigned)plen);
		if (s->used) {
			al_match_offer(m, &s->e, s->file, s->line);
			return;
		}
	}
}
