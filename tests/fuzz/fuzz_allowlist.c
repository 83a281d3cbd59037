/*
 * fuzz_allowlist.c - libFuzzer target for the allowlist parser.
 *
 * The input is a whole allowlist file, any bytes at all, behind a
 * two-byte header that the fuzzer mutates like the rest:
 *
 *   byte 0, bits 0-1  the peer: none (check only), the 16 bytes after
 *                     the header, an IPv4 peer from 4 bytes, or loopback
 *   byte 0, bit 2     feed the text up to 1 + byte 1 times over
 *   byte 1            the chunk size for the second pass
 *
 * Besides the sanitizers, each input is held to what the module
 * promises: the text scanned in one piece and in small chunks gives the
 * same counts and the same decision; the line count is the newline
 * count; the match covers the peer and is a masked network; every
 * problem message is printable and names a line that exists; every
 * entry, printed back as "net/plen delay", parses to itself; and the
 * table built from the text decides the peer exactly as the scan does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"

#define REPEAT_MAX	256
#define REPEAT_BYTES	((size_t)16 * 1024)	/* keeps repeats quick */
#define LINE_CHECKS	4096	/* lines re-parsed per input */

struct tally {
	unsigned long	 problems;
	unsigned long	 last_line;
	const struct al_scan *scan;
};

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_allowlist: broken promise: %s\n", what);
		abort();
	}
}

static void
on_problem(void *ctx, const struct al_problem *p)
{
	struct tally *t = ctx;
	size_t i, n = strnlen(p->msg, sizeof(p->msg));

	t->problems++;
	check(n < sizeof(p->msg), "message is terminated");
	check(n > 0, "message is not empty");
	/* A message goes to syslog: it must not be able to forge a line. */
	for (i = 0; i < n; i++)
		check(p->msg[i] >= 0x20 && p->msg[i] < 0x7f,
		    "message is printable ASCII");
	check(p->file != NULL && strcmp(p->file, "fuzz.allow") == 0,
	    "problem names the file");
	check(p->line >= t->last_line, "problems come in line order");
	check(p->line == t->scan->line, "problem is on the current line");
	t->last_line = p->line;
}

struct pass {
	struct al_scan	 s;
	struct al_match	 m;
	struct tally	 t;
};

static void
run_pass(struct pass *ps, const unsigned char *peer, const char *text,
    size_t len, size_t step, unsigned repeat)
{
	unsigned r;
	size_t off;

	memset(&ps->t, 0, sizeof(ps->t));
	ps->t.scan = &ps->s;
	al_match_init(&ps->m, peer);
	al_scan_init(&ps->s, "fuzz.allow", peer, &ps->m, on_problem, &ps->t);
	for (r = 0; r < repeat; r++)
		for (off = 0; off < len; off += step)
			al_scan_feed(&ps->s, text + off,
			    len - off < step ? len - off : step);
	al_scan_end(&ps->s);
}

static int
same_match(const struct al_match *a, const struct al_match *b)
{
	if (a->found != b->found)
		return 0;
	if (!a->found)
		return 1;
	return a->builtin == b->builtin && a->line == b->line &&
	    a->entry.plen == b->entry.plen &&
	    a->entry.delay_ms == b->entry.delay_ms &&
	    memcmp(a->entry.net, b->entry.net, 16) == 0;
}

/* Every entry printed back in the file syntax must parse to itself. */
static void
check_round_trip(const struct al_entry *e)
{
	struct al_entry back;
	struct al_problem p;
	char net[AL_ADDR_MAX], delay[32], line[AL_ADDR_MAX + 40];
	int n;

	check(e->plen <= 128, "prefix length is at most 128");
	check(e->delay_ms <= AL_DELAY_MAX_MS, "delay is at most 300 s");
	check(al_covers(e, e->net), "an entry covers its own network");
	al_net_format(e, net, sizeof(net));
	al_delay_format(e->delay_ms, delay, sizeof(delay));
	n = snprintf(line, sizeof(line), "%s %s", net, delay);
	check(n > 0 && (size_t)n < sizeof(line), "entry prints in full");
	check(al_parse_line(line, (size_t)n, &back, &p) == 1,
	    "a printed entry parses");
	check(p.msg[0] == '\0', "a printed entry has no problem");
	check(back.plen == e->plen && back.delay_ms == e->delay_ms &&
	    memcmp(back.net, e->net, 16) == 0, "a printed entry round-trips");
}

/* Split the text at newlines as a reader would, and re-parse lines. */
static void
check_lines(const char *text, size_t len, unsigned long *lines,
    unsigned long *entries)
{
	const char *p = text, *end = text + len, *nl;
	unsigned long checked = 0;

	*lines = *entries = 0;
	while (p < end) {
		size_t k;

		nl = memchr(p, '\n', (size_t)(end - p));
		k = (size_t)((nl ? nl : end) - p);
		(*lines)++;
		/* The CR of CRLF does not count toward the line limit. */
		if (k > 0 && p[k - 1] == '\r')
			k--;
		if (k <= AL_LINE_MAX && checked++ < LINE_CHECKS) {
			struct al_entry e;
			struct al_problem pr;
			int r = al_parse_line(p, k, &e, &pr);

			check(r >= -1 && r <= 1, "parse result is -1, 0 or 1");
			check((r == -1) == (pr.msg[0] != '\0'),
			    "an error, and only an error, has a message");
			if (r == 1) {
				(*entries)++;
				check_round_trip(&e);
			}
		} else if (k <= AL_LINE_MAX) {
			struct al_entry e;
			struct al_problem pr;

			if (al_parse_line(p, k, &e, &pr) == 1)
				(*entries)++;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pass whole, chunked;
	unsigned char peerbuf[16];
	const unsigned char *peer = NULL;
	const char *text;
	unsigned long lines, entries;
	unsigned repeat = 1;
	size_t len, step;

	if (size < 2)
		return 0;
	text = (const char *)data + 2;
	len = size - 2;
	switch (data[0] & 3) {
	case 0:
		break;
	case 1:
		if (len >= 16) {
			memcpy(peerbuf, text, 16);
			peer = peerbuf;
		}
		break;
	case 2:
		if (len >= 4) {
			al_addr_parse("::ffff:0.0.0.0", peerbuf);
			memcpy(peerbuf + 12, text, 4);
			peer = peerbuf;
		}
		break;
	default:
		al_addr_parse("127.0.0.1", peerbuf);
		peer = peerbuf;
		break;
	}
	if ((data[0] & 4) && len > 0) {
		repeat = 1 + data[1] % REPEAT_MAX;
		if (repeat > REPEAT_BYTES / len)
			repeat = 1 + (unsigned)(REPEAT_BYTES / len);
	}
	step = 1 + data[1] % 97;

	run_pass(&whole, peer, text, len, len > 0 ? len : 1, 1);
	run_pass(&chunked, peer, text, len, step, 1);
	check(whole.s.line == chunked.s.line, "same line count in chunks");
	check(whole.s.entries == chunked.s.entries, "same entries in chunks");
	check(whole.s.errors == chunked.s.errors, "same errors in chunks");
	check(whole.s.max_delay_ms == chunked.s.max_delay_ms,
	    "same longest delay in chunks");
	check(same_match(&whole.m, &chunked.m), "same decision in chunks");
	check(whole.t.problems == whole.s.errors,
	    "every problem is reported once");
	check(whole.s.max_delay_ms <= AL_DELAY_MAX_MS,
	    "the longest delay is a delay");
	if (peer != NULL) {
		struct al_table *t = al_table_new();
		struct al_match tm, sm;
		struct al_scan ts;

		check(t != NULL, "a table");
		al_match_init(&sm, NULL);
		al_scan_init(&ts, "fuzz.allow", NULL, &sm, NULL, NULL);
		ts.table = t;
		al_scan_feed(&ts, text, len);
		al_scan_end(&ts);
		check(ts.errors == whole.s.errors, "a table scan finds the "
		    "same problems");
		al_match_init(&tm, peer);
		al_table_lookup(t, peer, &tm);
		check(same_match(&tm, &whole.m), "the table decides as the "
		    "scan does");
		al_table_free(t);
	}
	check(whole.s.entries + whole.s.errors <= whole.s.line,
	    "at most one entry or error per line");

	check_lines(text, len, &lines, &entries);
	check(whole.s.line == lines, "line count is the newline count");
	check(whole.s.entries == entries, "entries as a reader counts them");

	if (whole.m.found) {
		check(peer != NULL, "no match without a peer");
		check(al_covers(&whole.m.entry, peer),
		    "the match covers the peer");
		check(whole.m.builtin || (whole.m.line >= 1 &&
		    whole.m.line <= whole.s.line), "the match names a line");
		if (!whole.m.builtin)
			check_round_trip(&whole.m.entry);
	}

	if (repeat > 1 && len > 0 && text[len - 1] == '\n') {
		static struct pass many;

		run_pass(&many, peer, text, len, len, repeat);
		check(many.s.line == whole.s.line * repeat,
		    "repeated text: lines multiply");
		check(many.s.entries == whole.s.entries * repeat,
		    "repeated text: entries multiply");
		check(many.s.errors == whole.s.errors * repeat,
		    "repeated text: errors multiply");
		/* The first of equal entries wins: the same line as once. */
		check(same_match(&many.m, &whole.m),
		    "repeated text: the first copy decides");
	}
	return 0;
}
