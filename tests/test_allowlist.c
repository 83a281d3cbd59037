/*
 * test_allowlist.c - the allowlist module: every line form, every
 * error with its line number, the matching rules, and the table that
 * the listener decides with, which must agree with the scan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "allowlist.h"

#define MAX_PROBLEMS 16

struct collected {
	int		 n;
	struct al_problem p[MAX_PROBLEMS];
};

static void
collect(void *ctx, const struct al_problem *p)
{
	struct collected *c = ctx;

	if (c->n < MAX_PROBLEMS)
		c->p[c->n++] = *p;
}

/* Scan text as the file "t.allow", fed in chunks of step bytes. */
static struct al_scan
scan(const char *text, size_t len, size_t step, const char *peer_text,
    struct al_match *m, struct collected *c)
{
	static unsigned char peer[16];
	struct al_scan s;
	size_t off;

	memset(c, 0, sizeof(*c));
	if (peer_text != NULL)
		assert_int_equal(al_addr_parse(peer_text, peer), 0);
	al_match_init(m, peer_text ? peer : NULL);
	al_scan_init(&s, "t.allow", peer_text ? peer : NULL, m, collect, c);
	for (off = 0; off < len; off += step)
		al_scan_feed(&s, text + off, len - off < step ? len - off : step);
	al_scan_end(&s);
	return s;
}

static struct al_scan
scan_str(const char *text, const char *peer, struct al_match *m,
    struct collected *c)
{
	return scan(text, strlen(text), strlen(text) + 1, peer, m, c);
}

/* The delay a peer gets from text, or -1 when no entry covers it. */
static long
delay_for(const char *text, const char *peer, unsigned long *line)
{
	struct collected c;
	struct al_match m;

	scan_str(text, peer, &m, &c);
	if (line != NULL)
		*line = m.line;
	return m.found ? (long)m.entry.delay_ms : -1;
}

static void
expect_problem(const char *text, unsigned long line, const char *msg)
{
	struct collected c;
	struct al_match m;

	scan_str(text, NULL, &m, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.p[0].file, "t.allow");
	assert_int_equal(c.p[0].line, line);
	assert_string_equal(c.p[0].msg, msg);
}

static void
test_every_line_form_is_an_entry(void **state)
{
	static const char text[] =
	    "# comment\n"
	    "\n"
	    "   \t  \n"
	    "10.0.1.0/24            # trailing comment\n"
	    "192.0.2.7\n"
	    "2001:db8::/32\n"
	    "198.51.100.0/24   5    # partner\n"
	    "  203.0.113.0/24\t0.25  \n"
	    "::ffff:192.0.2.128/121\n"
	    "0.0.0.0/0 10\n";
	struct collected c;
	struct al_match m;
	struct al_scan s = scan_str(text, NULL, &m, &c);

	(void)state;
	assert_int_equal(c.n, 0);
	assert_int_equal(s.entries, 7);
	assert_int_equal(s.line, 10);
}

static void
test_bare_address_is_a_host_route(void **state)
{
	(void)state;
	assert_int_equal(delay_for("192.0.2.7 3\n", "192.0.2.7", NULL), 3000);
	assert_int_equal(delay_for("192.0.2.7 3\n", "192.0.2.8", NULL), -1);
	assert_int_equal(delay_for("2001:db8::1 3\n", "2001:db8::1", NULL), 3000);
	assert_int_equal(delay_for("2001:db8::1 3\n", "2001:db8::2", NULL), -1);
}

static void
test_entry_without_delay_allowlists(void **state)
{
	unsigned long line;

	(void)state;
	assert_int_equal(delay_for("# x\n10.0.1.0/24\n", "10.0.1.200", &line), 0);
	assert_int_equal(line, 2);
	assert_int_equal(delay_for("10.0.1.0/24\n", "10.0.2.1", NULL), -1);
}

static void
test_longest_prefix_wins_whatever_the_order(void **state)
{
	static const char text[] =
	    "10.0.0.0/8\n"
	    "10.1.2.0/24 30\n"
	    "10.1.0.0/16 5\n";
	unsigned long line;

	(void)state;
	assert_int_equal(delay_for(text, "10.1.2.3", &line), 30000);
	assert_int_equal(line, 2);
	assert_int_equal(delay_for(text, "10.1.3.3", &line), 5000);
	assert_int_equal(line, 3);
	assert_int_equal(delay_for(text, "10.2.0.1", &line), 0);
	assert_int_equal(line, 1);
}

static void
test_first_of_equal_prefixes_wins(void **state)
{
	unsigned long line;

	(void)state;
	assert_int_equal(delay_for("10.0.0.0/8 1\n10.0.0.0/8 2\n", "10.9.9.9",
	    &line), 1000);
	assert_int_equal(line, 1);
}

static void
test_ipv6_prefixes_match_on_bit_boundaries(void **state)
{
	static const char text[] = "2001:db8::/33 7\n";

	(void)state;
	assert_int_equal(delay_for(text, "2001:db8:7fff::1", NULL), 7000);
	assert_int_equal(delay_for(text, "2001:db8:8000::1", NULL), -1);
	assert_int_equal(delay_for("::/0 4\n", "fe80::1", NULL), 4000);
}

static void
test_ipv4_mapped_peer_matches_ipv4_entry(void **state)
{
	unsigned long line;

	(void)state;
	assert_int_equal(delay_for("192.0.2.0/24 9\n", "::ffff:192.0.2.1",
	    &line), 9000);
	assert_int_equal(line, 1);
	assert_int_equal(delay_for("0.0.0.0/0 2\n", "::ffff:8.8.8.8", NULL),
	    2000);
	/* An IPv4 entry never covers a native IPv6 peer. */
	assert_int_equal(delay_for("0.0.0.0/0 2\n", "2001:db8::1", NULL), -1);
}

static void
test_loopback_is_allowlisted_by_default(void **state)
{
	struct collected c;
	struct al_match m;

	(void)state;
	scan_str("", "127.0.0.1", &m, &c);
	assert_true(m.found && m.builtin);
	assert_int_equal(m.entry.delay_ms, 0);
	scan_str("", "127.255.0.9", &m, &c);
	assert_true(m.found && m.builtin);
	scan_str("", "::1", &m, &c);
	assert_true(m.found && m.builtin);
	scan_str("", "::ffff:127.0.0.2", &m, &c);
	assert_true(m.found && m.builtin);
	scan_str("", "128.0.0.1", &m, &c);
	assert_false(m.found);
	scan_str("", "::2", &m, &c);
	assert_false(m.found);
}

static void
test_an_entry_overrides_the_loopback_default(void **state)
{
	struct collected c;
	struct al_match m;

	(void)state;
	scan_str("127.0.0.0/8 5\n", "127.0.0.1", &m, &c);
	assert_true(m.found && !m.builtin);
	assert_int_equal(m.entry.delay_ms, 5000);
	scan_str("127.0.0.2 1\n", "127.0.0.2", &m, &c);
	assert_int_equal(m.entry.delay_ms, 1000);
	scan_str("127.0.0.2 1\n", "127.0.0.3", &m, &c);
	assert_true(m.builtin);
	scan_str("::1 3\n", "::1", &m, &c);
	assert_true(m.found && !m.builtin);
	assert_int_equal(m.entry.delay_ms, 3000);
	/* A wider entry does not beat the more specific default. */
	scan_str("0.0.0.0/0 8\n", "127.0.0.1", &m, &c);
	assert_true(m.builtin);
}

static void
test_crlf_line_ends_are_accepted(void **state)
{
	struct collected c;
	struct al_match m;
	struct al_scan s;

	(void)state;
	s = scan_str("10.0.0.0/8 3\r\n# x\r\n\r\n192.0.2.1\r\n", "10.1.1.1",
	    &m, &c);
	assert_int_equal(c.n, 0);
	assert_int_equal(s.entries, 2);
	assert_int_equal(m.entry.delay_ms, 3000);
}

static void
test_last_line_without_newline_counts(void **state)
{
	unsigned long line;

	(void)state;
	assert_int_equal(delay_for("10.0.0.0/8\n192.0.2.1 4", "192.0.2.1",
	    &line), 4000);
	assert_int_equal(line, 2);
}

static void
test_lines_split_across_feeds_parse_the_same(void **state)
{
	static const char text[] =
	    "# a comment long enough to straddle several chunks\n"
	    "10.0.0.0/8 1\n"
	    "2001:db8::/32 2.5\n"
	    "bogus\n"
	    "192.0.2.0/24 3\n";
	size_t step;

	(void)state;
	for (step = 1; step <= sizeof(text); step++) {
		struct collected c;
		struct al_match m;
		struct al_scan s;

		s = scan(text, sizeof(text) - 1, step, "2001:db8::9", &m, &c);
		assert_int_equal(s.entries, 3);
		assert_int_equal(c.n, 1);
		assert_int_equal(c.p[0].line, 4);
		assert_int_equal(m.entry.delay_ms, 2500);
		assert_int_equal(m.line, 3);
	}
}

static void
test_bad_address_is_an_error_with_its_line(void **state)
{
	(void)state;
	expect_problem("10.0.0.1\n10.0.0.256\n", 2,
	    "\"10.0.0.256\" is not an IPv4 or IPv6 address");
	expect_problem("\n\nmail.example.com\n", 3,
	    "\"mail.example.com\" is not an IPv4 or IPv6 address");
	expect_problem("10.1/16\n", 1,
	    "\"10.1\" is not an IPv4 or IPv6 address");
	expect_problem("010.0.0.1\n", 1,
	    "\"010.0.0.1\" is not an IPv4 or IPv6 address");
	expect_problem("fe80::1%eth0\n", 1,
	    "\"fe80::1%eth0\" is not an IPv4 or IPv6 address");
	expect_problem("2001:db8:::1\n", 1,
	    "\"2001:db8:::1\" is not an IPv4 or IPv6 address");
	expect_problem("/24\n", 1,
	    "\"\" is not an IPv4 or IPv6 address");
}

static void
test_prefix_out_of_range_is_an_error(void **state)
{
	(void)state;
	expect_problem("10.0.0.0/33\n", 1,
	    "prefix /33 is longer than 32 for an IPv4 address");
	expect_problem("2001:db8::/129\n", 1,
	    "prefix /129 is longer than 128 for an IPv6 address");
	expect_problem("10.0.0.0/\n", 1,
	    "prefix \"/\" is not a number from 0 to 32");
	expect_problem("10.0.0.0/-1\n", 1,
	    "prefix \"/-1\" is not a number from 0 to 32");
	expect_problem("10.0.0.0/1000\n", 1,
	    "prefix \"/1000\" is not a number from 0 to 32");
	expect_problem("10.0.0.0/8/8\n", 1,
	    "prefix \"/8/8\" is not a number from 0 to 32");
}

static void
test_bad_delay_is_an_error(void **state)
{
	(void)state;
	expect_problem("10.0.0.0/8 soon\n", 1,
	    "delay \"soon\" is not a number of seconds like 35 or 0.25");
	expect_problem("10.0.0.0/8 -1\n", 1,
	    "delay \"-1\" is not a number of seconds like 35 or 0.25");
	expect_problem("10.0.0.0/8 301\n", 1,
	    "delay \"301\" is more than 300 seconds (RFC 5321 clients wait "
	    "5 minutes for the greeting)");
	expect_problem("10.0.0.0/8 0.0001\n", 1,
	    "delay \"0.0001\" has more than 3 decimal places");
}

static void
test_trailing_junk_is_an_error(void **state)
{
	(void)state;
	expect_problem("10.0.0.0/8 5 extra words\n", 1,
	    "unexpected \"extra words\" after the delay");
	expect_problem("10.0.0.0/8\r5\n", 1,
	    "prefix \"/8\\r5\" is not a number from 0 to 32");
}

static void
test_overlong_line_is_an_error_and_skipped(void **state)
{
	char text[3000];
	struct collected c;
	struct al_match m;
	struct al_scan s;
	size_t i;

	(void)state;
	i = (size_t)snprintf(text, sizeof(text), "10.0.0.1 ");
	memset(text + i, ' ', 2000);
	i += 2000;
	i += (size_t)snprintf(text + i, sizeof(text) - i, "\n10.0.0.2\n");
	for (size_t step = 7; step <= i; step += 997) {
		s = scan(text, i, step, "10.0.0.1", &m, &c);
		assert_int_equal(c.n, 1);
		assert_int_equal(c.p[0].line, 1);
		assert_string_equal(c.p[0].msg, "line is longer than 1023 bytes");
		assert_false(m.found);
		assert_int_equal(s.entries, 1);
	}
}

/* The CR of a CRLF line end is not part of the line. */
static void
test_longest_line_with_crlf_is_accepted(void **state)
{
	char text[AL_LINE_MAX + 3];
	struct collected c;
	struct al_match m;
	size_t step;

	(void)state;
	memset(text, ' ', AL_LINE_MAX);
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): not a string */
	memcpy(text, "10.0.0.1 # ", 11);
	text[AL_LINE_MAX] = '\r';
	text[AL_LINE_MAX + 1] = '\n';
	for (step = 1; step <= AL_LINE_MAX + 2; step += 97) {
		scan(text, AL_LINE_MAX + 2, step, "10.0.0.1", &m, &c);
		assert_int_equal(c.n, 0);
		assert_true(m.found);
	}
	/* One byte more is too long, CR or not. */
	text[AL_LINE_MAX] = ' ';
	text[AL_LINE_MAX + 1] = '\r';
	text[AL_LINE_MAX + 2] = '\n';
	scan(text, AL_LINE_MAX + 3, 50, "10.0.0.1", &m, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.p[0].msg, "line is longer than 1023 bytes");
}

static void
test_longest_allowed_line_is_accepted(void **state)
{
	char text[AL_LINE_MAX + 2];
	struct collected c;
	struct al_match m;

	(void)state;
	memset(text, ' ', AL_LINE_MAX);
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): not a string */
	memcpy(text, "10.0.0.1 # ", 11);
	text[AL_LINE_MAX] = '\n';
	scan(text, AL_LINE_MAX + 1, 100, "10.0.0.1", &m, &c);
	assert_int_equal(c.n, 0);
	assert_true(m.found);
}

static void
test_nul_byte_is_an_error(void **state)
{
	static const char text[] = "10.0.0.1\n10.0.0.2\0 5\n10.0.0.3\n";
	struct collected c;
	struct al_match m;
	struct al_scan s;

	(void)state;
	s = scan(text, sizeof(text) - 1, 4, "10.0.0.3", &m, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.p[0].line, 2);
	assert_string_equal(c.p[0].msg, "NUL byte in line");
	assert_int_equal(s.entries, 2);
	assert_int_equal(m.line, 3);
}

/* A typo for /24 must not become a quarter of IPv4. */
static void
test_host_bits_are_an_error_never_a_wider_network(void **state)
{
	struct collected c;
	struct al_match m;
	struct al_scan s;

	(void)state;
	expect_problem("10.0.1.5/24\n", 1,
	    "host bits set in \"10.0.1.5/24\"; did you mean 10.0.1.0/24?");
	expect_problem("2001:db8::1/32 2\n", 1,
	    "host bits set in \"2001:db8::1/32\"; did you mean 2001:db8::/32?");
	s = scan_str("192.0.2.1/2\n", "250.1.2.3", &m, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.p[0].msg,
	    "host bits set in \"192.0.2.1/2\"; did you mean 192.0.0.0/2?");
	assert_int_equal(s.entries, 0);
	assert_int_equal(s.errors, 1);
	assert_false(m.found);
}

static void
test_one_bad_line_never_costs_the_others(void **state)
{
	static const char text[] =
	    "10.0.0.0/8 1\n"
	    "10.0.0.0/33\n"
	    "junk\n"
	    "10.1.0.0/16 2 x\n"
	    "10.1.2.0/24 3\n";
	struct collected c;
	struct al_match m;
	struct al_scan s;

	(void)state;
	s = scan_str(text, "10.1.2.3", &m, &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.p[0].line, 2);
	assert_int_equal(c.p[1].line, 3);
	assert_int_equal(c.p[2].line, 4);
	assert_int_equal(s.errors, 3);
	assert_int_equal(s.entries, 2);
	assert_int_equal(m.entry.delay_ms, 3000);
}

static void
test_messages_quote_hostile_text_safely(void **state)
{
	struct collected c;
	struct al_match m;
	char text[400];

	(void)state;
	snprintf(text, sizeof(text), "\x1b[2J%0200d\n", 7);
	scan_str(text, NULL, &m, &c);
	assert_int_equal(c.n, 1);
	assert_null(strchr(c.p[0].msg, '\x1b'));
	assert_non_null(strstr(c.p[0].msg, "\"\\x1b[2J000"));
	assert_non_null(strstr(c.p[0].msg, "...\" is not"));
	assert_true(strlen(c.p[0].msg) < AL_MSG_MAX);
}

/* What fail safe needs: the longest delay of the good entries. */
static void
test_scan_knows_the_longest_good_delay(void **state)
{
	struct collected c;
	struct al_match m;
	struct al_scan s;

	(void)state;
	s = scan_str("10.0.0.0/8\n10.9.0.0/16 30s\n10.8.0.0/16 12.5\n"
	    "10.7.0.0/16 299 x\n", NULL, &m, &c);
	assert_int_equal(s.errors, 2);
	assert_int_equal(s.max_delay_ms, 12500);
}

static void
test_quote_escapes_and_cuts_after_48_bytes(void **state)
{
	char q[AL_QUOTE_MAX], long_text[100];

	(void)state;
	al_quote("a\nb\x1b", 4, q, sizeof(q));
	assert_string_equal(q, "\"a\\nb\\x1b\"");
	memset(long_text, 'x', sizeof(long_text));
	al_quote(long_text, sizeof(long_text), q, sizeof(q));
	assert_int_equal(strlen(q), 1 + 48 + 3 + 1);
	assert_non_null(strstr(q, "xxx...\""));
}

static void
test_delay_parsing(void **state)
{
	static const struct {
		const char	*text;
		long		 ms;	/* -1: rejected */
	} cases[] = {
		{ "0", 0 }, { "35", 35000 }, { "0.25", 250 }, { "1.5", 1500 },
		{ "300", 300000 }, { "300.000", 300000 }, { "007", 7000 },
		{ "0.001", 1 }, { "300.001", -1 }, { "301", -1 },
		{ "1e9", -1 }, { "-1", -1 }, { "+1", -1 }, { "nan", -1 },
		{ "inf", -1 }, { "0x10", -1 }, { "", -1 }, { ".5", -1 },
		{ "5.", -1 }, { "1.2.3", -1 }, { " 5", -1 }, { "5 ", -1 },
		{ "99999999999999999999", -1 }, { "0.0001", -1 },
	};
	char msg[AL_MSG_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned ms = 12345;
		int r = al_delay_parse(cases[i].text, strlen(cases[i].text),
		    &ms, msg, sizeof(msg));

		if (cases[i].ms == -1) {
			assert_int_equal(r, -1);
			assert_true(strlen(msg) > 0);
			assert_int_equal(ms, 12345);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(ms, cases[i].ms);
		}
	}
}

static void
test_delay_format_has_millisecond_precision(void **state)
{
	char buf[32];

	(void)state;
	al_delay_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0.000");
	al_delay_format(35000, buf, sizeof(buf));
	assert_string_equal(buf, "35.000");
	al_delay_format(1234, buf, sizeof(buf));
	assert_string_equal(buf, "1.234");
}

static void
test_escape_makes_log_data_unforgeable(void **state)
{
	char out[AL_ESCAPE_MAX(16)];
	size_t used;

	(void)state;
	used = al_escape("EHLO x\r\n", 8, out, sizeof(out));
	assert_int_equal(used, 8);
	assert_string_equal(out, "EHLO x\\r\\n");
	al_escape("a\"b\\c\td", 7, out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\td");
	al_escape("\x00\x1b\x7f\xff", 4, out, sizeof(out));
	assert_string_equal(out, "\\x00\\x1b\\x7f\\xff");
}

static void
test_escape_never_overflows_or_splits_an_escape(void **state)
{
	char out[8];
	size_t used;

	(void)state;
	used = al_escape("\x01\x02", 2, out, sizeof(out));
	assert_int_equal(used, 1);
	assert_string_equal(out, "\\x01");
	used = al_escape("abcdefghij", 10, out, sizeof(out));
	assert_int_equal(used, 7);
	assert_string_equal(out, "abcdefg");
	assert_int_equal(al_escape("x", 1, out, 0), 0);
}

static void
test_address_format_shows_mapped_as_ipv4(void **state)
{
	unsigned char a[16];
	char buf[64];
	struct al_entry e;
	struct al_problem p;

	(void)state;
	assert_int_equal(al_addr_parse("::ffff:10.1.2.3", a), 0);
	al_addr_format(a, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.2.3");
	assert_int_equal(al_addr_parse("2001:DB8::0:1", a), 0);
	al_addr_format(a, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(al_parse_line("10.0.0.0/8", 10, &e, &p), 1);
	al_net_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.0/8");
	assert_int_equal(al_addr_parse("10.0.0.1/8", a), -1);
	assert_int_equal(al_addr_parse("", a), -1);
}

/* ---- the table ---- */

static void
table_lookup_text(struct al_table *t, const char *peer_text,
    struct al_match *m)
{
	unsigned char peer[16];

	assert_int_equal(al_addr_parse(peer_text, peer), 0);
	al_match_init(m, peer);
	al_table_lookup(t, peer, m);
}

static struct al_table *
table_of(const char *text)
{
	struct al_table *t = al_table_new();
	struct al_scan s;
	struct al_match m;

	assert_non_null(t);
	al_match_init(&m, NULL);
	al_scan_init(&s, "t.allow", NULL, &m, NULL, NULL);
	s.table = t;
	al_scan_feed(&s, text, strlen(text));
	al_scan_end(&s);
	return t;
}

static void
test_table_follows_the_rules_of_the_scan(void **state)
{
	struct al_table *t = table_of("10.0.0.0/8\n10.1.2.0/24 30\n"
	    "10.1.0.0/16 5\n10.1.0.0/16 6\n127.0.0.2 1\n0.0.0.0/0 8\n"
	    "::1 3\n");
	struct al_match m;

	(void)state;
	assert_int_equal(al_table_size(t), 6);
	table_lookup_text(t, "10.1.2.3", &m);
	assert_int_equal(m.entry.delay_ms, 30000);
	assert_int_equal(m.line, 2);
	table_lookup_text(t, "10.1.3.3", &m);	/* the first of equals */
	assert_int_equal(m.entry.delay_ms, 5000);
	assert_int_equal(m.line, 3);
	table_lookup_text(t, "127.0.0.2", &m);
	assert_true(m.found && !m.builtin);
	table_lookup_text(t, "127.0.0.3", &m);	/* /0 loses to /8 builtin */
	assert_true(m.found && m.builtin);
	table_lookup_text(t, "::1", &m);	/* a tie: the entry wins */
	assert_true(m.found && !m.builtin);
	assert_int_equal(m.entry.delay_ms, 3000);
	table_lookup_text(t, "192.0.2.1", &m);
	assert_int_equal(m.entry.delay_ms, 8000);
	table_lookup_text(t, "2001:db8::1", &m);
	assert_false(m.found);
	al_table_free(t);
}

/* Random lists and peers: the table decides exactly as the scan does. */
static void
test_table_and_scan_agree_on_random_lists(void **state)
{
	static char text[64 * 1024];
	unsigned seed = 20261201;
	int round;

	(void)state;
	for (round = 0; round < 40; round++) {
		struct al_table *t;
		size_t used = 0;
		int i, n = 1 + (int)(rand_r(&seed) % 300);

		for (i = 0; i < n; i++) {
			unsigned char a[16];
			struct al_entry e;
			char net[AL_ADDR_MAX];
			int v4 = rand_r(&seed) % 2, k;

			memset(&e, 0, sizeof(e));
			for (k = 0; k < 16; k++)
				a[k] = (unsigned char)(rand_r(&seed) % 4);
			if (v4) {
				memset(a, 0, 10);
				a[10] = a[11] = 0xff;
				a[12] = (unsigned char)(rand_r(&seed) % 3 + 126);
			}
			memcpy(e.net, a, 16);
			e.plen = v4 ? 96 + (unsigned)(rand_r(&seed) % 33) :
			    (unsigned)(rand_r(&seed) % 129);
			for (k = (int)e.plen; k < 128; k++)
				e.net[k / 8] &= (unsigned char)~(0x80 >> (k % 8));
			al_net_format(&e, net, sizeof(net));
			used += (size_t)snprintf(text + used, sizeof(text) - used,
			    "%s %u\n", net, (unsigned)(rand_r(&seed) % 4));
		}
		t = table_of(text);
		for (i = 0; i < 200; i++) {
			unsigned char peer[16];
			struct al_match ms, mt;
			struct al_scan s;
			int k;

			for (k = 0; k < 16; k++)
				peer[k] = (unsigned char)(rand_r(&seed) % 4);
			if (i % 2) {
				memset(peer, 0, 10);
				peer[10] = peer[11] = 0xff;
				peer[12] = (unsigned char)(rand_r(&seed) % 3 + 126);
			}
			al_match_init(&ms, peer);
			al_scan_init(&s, "t.allow", peer, &ms, NULL, NULL);
			al_scan_feed(&s, text, used);
			al_scan_end(&s);
			al_match_init(&mt, peer);
			al_table_lookup(t, peer, &mt);
			assert_int_equal(ms.found, mt.found);
			assert_int_equal(ms.builtin, mt.builtin);
			assert_int_equal(ms.line, mt.line);
			assert_int_equal(ms.entry.delay_ms, mt.entry.delay_ms);
			assert_int_equal(ms.entry.plen, mt.entry.plen);
		}
		al_table_free(t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_line_form_is_an_entry),
		cmocka_unit_test(test_bare_address_is_a_host_route),
		cmocka_unit_test(test_entry_without_delay_allowlists),
		cmocka_unit_test(test_longest_prefix_wins_whatever_the_order),
		cmocka_unit_test(test_first_of_equal_prefixes_wins),
		cmocka_unit_test(test_ipv6_prefixes_match_on_bit_boundaries),
		cmocka_unit_test(test_ipv4_mapped_peer_matches_ipv4_entry),
		cmocka_unit_test(test_loopback_is_allowlisted_by_default),
		cmocka_unit_test(test_an_entry_overrides_the_loopback_default),
		cmocka_unit_test(test_crlf_line_ends_are_accepted),
		cmocka_unit_test(test_last_line_without_newline_counts),
		cmocka_unit_test(test_lines_split_across_feeds_parse_the_same),
		cmocka_unit_test(test_bad_address_is_an_error_with_its_line),
		cmocka_unit_test(test_prefix_out_of_range_is_an_error),
		cmocka_unit_test(test_bad_delay_is_an_error),
		cmocka_unit_test(test_trailing_junk_is_an_error),
		cmocka_unit_test(test_overlong_line_is_an_error_and_skipped),
		cmocka_unit_test(test_longest_allowed_line_is_accepted),
		cmocka_unit_test(test_nul_byte_is_an_error),
		cmocka_unit_test(test_host_bits_are_an_error_never_a_wider_network),
		cmocka_unit_test(test_longest_line_with_crlf_is_accepted),
		cmocka_unit_test(test_scan_knows_the_longest_good_delay),
		cmocka_unit_test(test_quote_escapes_and_cuts_after_48_bytes),
		cmocka_unit_test(test_table_follows_the_rules_of_the_scan),
		cmocka_unit_test(test_table_and_scan_agree_on_random_lists),
		cmocka_unit_test(test_one_bad_line_never_costs_the_others),
		cmocka_unit_test(test_messages_quote_hostile_text_safely),
		cmocka_unit_test(test_delay_parsing),
		cmocka_unit_test(test_delay_format_has_millisecond_precision),
		cmocka_unit_test(test_escape_makes_log_data_unforgeable),
		cmocka_unit_test(test_escape_never_overflows_or_splits_an_escape),
		cmocka_unit_test(test_address_format_shows_mapped_as_ipv4),
	};

	return cmocka_run_group_tests_name("allowlist", tests, NULL, NULL);
}
