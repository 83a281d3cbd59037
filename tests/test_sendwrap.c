/*
 * test_sendwrap.c - the logic short of a connection: option parsing,
 * finding and checking the program, the verdict, and log field
 * formatting.  sendwrap.c is included so that its static functions can
 * be reached; peer.c's are linked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#define main sendwrap_main
#include "sendwrap.c"
#undef main

/* Option problem i, or "" if there is none. */
static const char *
err(const struct config *c, unsigned i)
{
	return c->error != NULL && i < c->nerrors ? c->error[i] : "";
}

/*
 * parse_options(), and free what it allocated; the error records stay
 * for the test to read, until the next call.
 */
static int
parse(int argc, char **argv, struct config *c)
{
	static char (*last)[AL_MSG_MAX];
	int r;

	free(last);
	r = parse_options(argc, argv, c);
	free(c->src);
	last = c->error;
	return r;
}

static void
test_defaults_match_the_documentation(void **state)
{
	char *argv[] = { "sendwrap", NULL };
	struct config c;

	(void)state;
	assert_int_equal(parse_options(1, argv, &c), 0);
	assert_int_equal(c.delay_ms, 35000);
	assert_int_equal(c.action, ACT_DROP);
	assert_int_equal(c.nsrc, 1);
	assert_true(c.default_src);
	assert_string_equal(c.src[0].text, "/etc/sendwrap.allow");
	assert_string_equal(c.prog[0], "/usr/sbin/sendmail");
	assert_string_equal(c.prog[1], "-bs");
	assert_null(c.prog[2]);
	assert_false(c.check || c.help || c.version || c.verbose ||
	    c.use_stderr);
	assert_null(c.query);
	free(c.src);
}

static void
test_sources_keep_command_line_order_and_number_each_A(void **state)
{
	char *argv[] = { "sendwrap", "-a", "one.allow", "-A", "10.0.0.0/8",
	    "-afile2", "-A", "192.0.2.1 5", NULL };
	struct config c;

	(void)state;
	assert_int_equal(parse_options(8, argv, &c), 0);
	assert_int_equal(c.nsrc, 4);
	assert_false(c.default_src);
	assert_true(c.src[0].is_file);
	assert_string_equal(c.src[0].text, "one.allow");
	assert_false(c.src[1].is_file);
	assert_int_equal(c.src[1].index, 1);
	assert_string_equal(c.src[2].text, "file2");
	assert_int_equal(c.src[3].index, 2);
	assert_string_equal(c.src[3].text, "192.0.2.1 5");
	free(c.src);
}

static void
test_program_options_are_left_to_the_program(void **state)
{
	char *argv[] = { "sendwrap", "-d", "5", "/usr/sbin/exim4", "-bs",
	    "-d", "9", NULL };
	char *argv2[] = { "sendwrap", "-e", "log", "--", "-weird-name", NULL };
	struct config c;

	(void)state;
	assert_int_equal(parse_options(7, argv, &c), 0);
	assert_int_equal(c.delay_ms, 5000);
	assert_string_equal(c.prog[0], "/usr/sbin/exim4");
	assert_string_equal(c.prog[1], "-bs");
	assert_string_equal(c.prog[2], "-d");
	assert_string_equal(c.prog[3], "9");
	free(c.src);
	assert_int_equal(parse_options(5, argv2, &c), 0);
	assert_int_equal(c.action, ACT_LOG);
	assert_string_equal(c.prog[0], "-weird-name");
	free(c.src);
}

static void
test_every_action_is_accepted_and_others_rejected(void **state)
{
	static const char *names[] = { "drop", "tempfail", "reject", "log" };
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		char *argv[] = { "sendwrap", "-e", (char *)names[i], NULL };

		assert_int_equal(parse_options(3, argv, &c), 0);
		assert_int_equal(c.action, (enum action)i);
		free(c.src);
	}
	{
		char *argv[] = { "sendwrap", "-e", "bounce", NULL };

		assert_int_equal(parse(3, argv, &c), -1);
		assert_string_equal(err(&c, 0), "-e: unknown action \"bounce\" "
		    "(use drop, tempfail, reject or log)");
	}
}

static void
test_delay_option_is_checked_strictly(void **state)
{
	static const char *bad[] = { "1e9", "-1", "nan", "0x10", "301", "",
	    "inf", "1,5" };
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "sendwrap", "-d", (char *)bad[i], NULL };

		assert_int_equal(parse(3, argv, &c), -1);
		assert_true(strncmp(err(&c, 0), "-d: delay \"", 11) == 0);
	}
	{
		char *argv[] = { "sendwrap", "-d", "0.25", NULL };

		assert_int_equal(parse(3, argv, &c), 0);
		assert_int_equal(c.delay_ms, 250);
	}
	{
		char *argv[] = { "sendwrap", "-d", "0", NULL };

		assert_int_equal(parse(3, argv, &c), 0);
		assert_int_equal(c.delay_ms, 0);
	}
}

static void
test_unknown_and_incomplete_options_are_errors(void **state)
{
	char *argv[] = { "sendwrap", "-x", NULL };
	char *argv2[] = { "sendwrap", "-s", "-d", NULL };
	struct config c;

	(void)state;
	assert_int_equal(parse(2, argv, &c), -1);
	assert_string_equal(err(&c, 0), "unknown option -x");
	assert_int_equal(parse(3, argv2, &c), -1);
	assert_string_equal(err(&c, 0), "option -d needs an argument");
}

static void
test_all_option_errors_are_collected(void **state)
{
	char *argv[] = { "sendwrap", "-d", "x", "-e", "y", "-Z", NULL };
	char line[LOG_LINE_MAX];
	struct config c;

	(void)state;
	assert_int_equal(parse(6, argv, &c), -1);
	assert_int_equal(c.nerrors, 3);
	config_errors_joined(&c, line, sizeof(line));
	assert_string_equal(line, "-d: delay \"x\" is not a number of seconds "
	    "like 35 or 0.25; -e: unknown action \"y\" (use drop, tempfail, "
	    "reject or log); unknown option -Z");
}

/* A log line holds whole messages, and counts the ones that do not fit. */
static void
test_many_option_errors_are_never_cut_mid_word(void **state)
{
	static char *argv[202];
	char line[LOG_LINE_MAX];
	struct config c;
	size_t len;
	int i;

	(void)state;
	argv[0] = "sendwrap";
	for (i = 1; i <= 200; i++)
		argv[i] = "-Z";
	argv[201] = NULL;
	assert_int_equal(parse(201, argv, &c), -1);
	assert_int_equal(c.nerrors, 200);
	config_errors_joined(&c, line, sizeof(line));
	len = strlen(line);
	assert_true(len < sizeof(line));
	assert_non_null(strstr(line, "unknown option -Z; unknown option -Z"));
	assert_non_null(strstr(line, " more"));
	assert_int_equal(strncmp(line + len - 5, " more", 5), 0);
	assert_non_null(strstr(line, "unknown option -Z; and 18"));
}

/* Every quoted user text is escaped and cut as DIAGNOSTICS says. */
static void
test_option_messages_quote_what_was_given(void **state)
{
	char long_e[200];
	char *argv[] = { "sendwrap", "-e", long_e, "-m", "0", "-n", "x",
	    "-p", "-1", "-w", "301", NULL };
	struct config c;

	(void)state;
	memset(long_e, 'z', sizeof(long_e) - 1);
	long_e[sizeof(long_e) - 1] = '\0';
	long_e[0] = '\x1b';
	assert_int_equal(parse(11, argv, &c), -1);
	assert_int_equal(c.nerrors, 5);
	assert_non_null(strstr(err(&c, 0), "-e: unknown action \"\\x1bzzz"));
	assert_non_null(strstr(err(&c, 0), "zzz...\" (use drop"));
	assert_string_equal(err(&c, 1), "-m: \"0\" is not a whole number from "
	    "1 to 1000000");
	assert_string_equal(err(&c, 2), "-n: \"x\" is not a whole number from "
	    "1 to 1000000");
	assert_string_equal(err(&c, 3), "-p: \"-1\" is not a whole number from "
	    "0 to 1000000");
	assert_non_null(strstr(err(&c, 4), "-w: delay \"301\" is more than"));
}

static void
test_listener_options_and_their_defaults(void **state)
{
	char *none[] = { "sendwrap", NULL };
	char *all[] = { "sendwrap", "-m", "7", "-n", "19000", "-p", "0", "-w",
	    "2.5", NULL };
	struct config c;

	(void)state;
	assert_int_equal(parse(1, none, &c), 0);
	assert_int_equal(c.sessions, 100);
	assert_int_equal(c.max_waiting, 0);
	assert_int_equal(c.per_address, 50);
	assert_int_equal(c.hold_ms, 60000);
	assert_int_equal(parse(9, all, &c), 0);
	assert_int_equal(c.sessions, 7);
	assert_int_equal(c.max_waiting, 19000);
	assert_int_equal(c.per_address, 0);
	assert_int_equal(c.hold_ms, 2500);
}

static void
test_flags_are_recognised(void **state)
{
	char *argv[] = { "sendwrap", "-hstVv", "-q", "192.0.2.1", NULL };
	struct config c;

	(void)state;
	assert_int_equal(parse(4, argv, &c), 0);
	assert_true(c.help && c.use_stderr && c.check && c.version &&
	    c.verbose);
	assert_string_equal(c.query, "192.0.2.1");
}

static void
test_thousands_of_A_entries_are_kept(void **state)
{
	enum { N = 5000 };
	static char *argv[2 * N + 2];
	static char text[N][24];
	struct config c;
	int i;

	(void)state;
	argv[0] = "sendwrap";
	for (i = 0; i < N; i++) {
		snprintf(text[i], sizeof(text[i]), "10.%d.%d.0/24", i / 256,
		    i % 256);
		argv[1 + 2 * i] = "-A";
		argv[2 + 2 * i] = text[i];
	}
	assert_int_equal(parse_options(2 * N + 1, argv, &c), 0);
	assert_int_equal(c.nsrc, N);
	assert_int_equal(c.src[N - 1].index, N);
	free(c.src);
}

static void
test_parsing_twice_gives_the_same_result(void **state)
{
	char *argv[] = { "sendwrap", "-d", "7", "-A", "10.0.0.1", "/bin/true",
	    NULL };
	struct config c;

	(void)state;
	assert_int_equal(parse(6, argv, &c), 0);
	assert_int_equal(parse(6, argv, &c), 0);
	assert_int_equal(c.delay_ms, 7000);
	assert_string_equal(c.prog[0], "/bin/true");
}

static void
test_program_is_found_and_checked(void **state)
{
	char out[PATH_MAX], why[PATH_MAX + 64], tmp[] = "/tmp/sw-prog.XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(program_find("/bin/sh", out, sizeof(out), why,
	    sizeof(why)), 0);
	assert_string_equal(out, "/bin/sh");
	assert_int_equal(program_find("/nonexistent/mta", out, sizeof(out),
	    why, sizeof(why)), -1);
	assert_string_equal(why, "cannot run /nonexistent/mta: "
	    "No such file or directory");
	assert_int_equal(program_find("/tmp", out, sizeof(out), why,
	    sizeof(why)), -1);
	assert_string_equal(why, "cannot run /tmp: Permission denied");
	assert_true((fd = mkstemp(tmp)) != -1);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	chmod(tmp, 0644);
	if (geteuid() != 0) {	/* root may execute anything with an x bit */
		assert_int_equal(program_find(tmp, out, sizeof(out), why,
		    sizeof(why)), -1);
	}
	chmod(tmp, 0600);
	assert_int_equal(program_find(tmp, out, sizeof(out), why,
	    sizeof(why)), -1);
	unlink(tmp);
}

static void
test_program_without_slash_is_looked_up_in_path(void **state)
{
	char out[PATH_MAX], why[PATH_MAX + 64];
	const char *saved = getenv("PATH");
	char keep[4096];

	(void)state;
	snprintf(keep, sizeof(keep), "%s", saved ? saved : "");
	setenv("PATH", "/nonexistent::/bin", 1);
	assert_int_equal(program_find("sh", out, sizeof(out), why,
	    sizeof(why)), 0);
	assert_string_equal(out, "/bin/sh");
	/* "." (an empty element) is never searched. */
	setenv("PATH", ":", 1);
	assert_int_equal(program_find("sh", out, sizeof(out), why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "(searched the absolute directories in "
	    "PATH)"));
	unsetenv("PATH");
	assert_int_equal(program_find("sh", out, sizeof(out), why,
	    sizeof(why)), 0);
	setenv("PATH", keep, 1);
}

/* Only absolute PATH elements: "", "." and "bin" are the cwd's. */
static void
test_path_lookup_never_searches_the_current_directory(void **state)
{
	char out[PATH_MAX], why[PATH_MAX + 64], dir[] = "/tmp/sw-cwd.XXXXXX";
	char cwd[PATH_MAX], prog[PATH_MAX + 16];
	const char *saved = getenv("PATH");
	char keep[4096];
	FILE *f;

	(void)state;
	snprintf(keep, sizeof(keep), "%s", saved ? saved : "");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(mkdtemp(dir));
	snprintf(prog, sizeof(prog), "%s/mta-here", dir);
	assert_non_null(f = fopen(prog, "we"));
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	chmod(prog, 0755);
	assert_int_equal(chdir(dir), 0);
	setenv("PATH", ":.:./:mta-dir:/nonexistent", 1);
	assert_int_equal(program_find("mta-here", out, sizeof(out), why,
	    sizeof(why)), -1);
	setenv("PATH", dir, 1);
	assert_int_equal(program_find("mta-here", out, sizeof(out), why,
	    sizeof(why)), 0);
	assert_string_equal(out, prog);
	assert_int_equal(chdir(cwd), 0);
	setenv("PATH", keep, 1);
	unlink(prog);
	rmdir(dir);
}

/* What execv() would refuse only after the wait is refused at start. */
static void
test_programs_that_cannot_be_executed_are_refused_at_once(void **state)
{
	static const struct {
		const char	*body;
		const char	*why;
	} cases[] = {
		{ "echo no shebang\n", "not a program: neither a #! script "
		    "nor a binary (Exec format error)" },
		{ "#!/nonexistent/sh\n", "its #! interpreter "
		    "/nonexistent/sh: No such file or directory" },
		{ "#!\n", "its #! line names no interpreter" },
		/* An x86-64 ELF header on an aarch64 machine and back. */
		{ "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0"
		    "\x03\0", "a binary for another machine" },
	};
	char out[PATH_MAX], why[PATH_MAX + 64], tmp[] = "/tmp/sw-bad.XXXXXX";
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = i == 3 ? 20 : strlen(cases[i].body);

		strcpy(tmp, "/tmp/sw-bad.XXXXXX");
		assert_true((fd = mkstemp(tmp)) != -1);
		assert_int_equal(write(fd, cases[i].body, n), (ssize_t)n);
		close(fd);
		chmod(tmp, 0755);
		assert_int_equal(program_find(tmp, out, sizeof(out), why,
		    sizeof(why)), -1);
		assert_non_null(strstr(why, cases[i].why));
		unlink(tmp);
	}
	/* A script whose interpreter exists is fine. */
	strcpy(tmp, "/tmp/sw-ok.XXXXXX");
	assert_true((fd = mkstemp(tmp)) != -1);
	assert_int_equal(write(fd, "#! /bin/sh -e\n", 14), 14);
	close(fd);
	chmod(tmp, 0755);
	assert_int_equal(program_find(tmp, out, sizeof(out), why,
	    sizeof(why)), 0);
	unlink(tmp);
}

/* An inetd line's argv[0] left in xinetd's server_args. */
static void
test_sendwrap_itself_is_refused_as_the_program(void **state)
{
	char out[PATH_MAX], why[PATH_MAX + 64], self[PATH_MAX];
	ssize_t n;

	(void)state;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_int_equal(program_find(self, out, sizeof(out), why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "it is sendwrap itself"));
}

/* Any allowlist problem: nobody skips the wait, everyone waits longest. */
static void
test_verdict_distrusts_an_allowlist_with_problems(void **state)
{
	char *argv[] = { "sendwrap", "-d", "5", "-A", "10.0.0.0/8",
	    "-A", "10.9.0.0/16 30s", "-A", "192.0.2.0/24 40", NULL };
	struct reporter r = { 1, 0, NULL };
	struct sources_state st;
	struct al_match m;
	struct verdict v;
	struct config c;
	unsigned char a[16];

	(void)state;
	assert_int_equal(parse_options(9, argv, &c), 0);
	al_addr_parse("10.9.1.1", a);
	sources_read(&c, a, &m, NULL, &r, &st);
	assert_int_equal(st.problems, 1);
	assert_int_equal(st.longest_ms, 40000);
	assert_true(m.found);		/* the /8 matched ... */
	assert_int_equal(verdict_of(&c, &st, &m, NULL, a, &v), 0);
	assert_int_equal(v.kind, V_WAIT);	/* ... but is not trusted */
	assert_true(v.untrusted);
	assert_false(v.m.found);
	assert_int_equal(v.delay_ms, 40000);
	/* Loopback too. */
	al_addr_parse("127.0.0.1", a);
	sources_read(&c, a, &m, NULL, &r, &st);
	assert_int_equal(verdict_of(&c, &st, &m, NULL, a, &v), 0);
	assert_int_equal(v.kind, V_WAIT);
	free(c.src);
}

/* A file named with -a must be there; only the implicit default may not. */
static void
test_missing_named_file_is_a_problem_but_missing_default_is_not(void **state)
{
	char *named[] = { "sendwrap", "-a", "/nonexistent/allow", NULL };
	struct reporter r = { 1, 0, NULL };
	struct sources_state st;
	struct al_match m;
	struct config c;

	(void)state;
	assert_int_equal(parse_options(3, named, &c), 0);
	sources_read(&c, NULL, &m, NULL, &r, &st);
	assert_int_equal(st.problems, 1);
	free(c.src);
	c.src = NULL;
	{
		char *none[] = { "sendwrap", NULL };

		assert_int_equal(parse_options(1, none, &c), 0);
		c.src[0].text = "/nonexistent/default.allow";
		sources_read(&c, NULL, &m, NULL, &r, &st);
		assert_int_equal(st.problems, 0);
		free(c.src);
	}
}

static void
test_log_values_are_quoted_only_when_needed(void **state)
{
	struct line l = { "x", 1 };

	(void)state;
	line_value(&l, "rule", "/etc/sendwrap.allow:3", 0);
	line_value(&l, "rule", "/etc/my allow:3", 0);
	line_value(&l, "reason", "a \"b\"\n", 1);
	line_value(&l, "reason", "", 0);
	assert_string_equal(l.buf, "x rule=/etc/sendwrap.allow:3 "
	    "rule=\"/etc/my allow:3\" reason=\"a \\\"b\\\"\\n\" reason=\"\"");
}

static void
test_log_line_is_bounded(void **state)
{
	char big[3000];
	struct line l = { "", 0 };
	int i;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 5; i++)
		line_add(&l, "%s", big);
	assert_int_equal(l.len, sizeof(l.buf) - 1);
	assert_int_equal(strlen(l.buf), sizeof(l.buf) - 1);
}

static void
test_rule_names(void **state)
{
	struct al_match m;
	struct line l = { "", 0 };
	unsigned char lo[16];

	(void)state;
	al_addr_parse("127.0.0.1", lo);
	al_match_init(&m, lo);
	line_rule(&l, &m);
	m.builtin = 0;
	m.file = "-A";
	m.line = 4;
	line_rule(&l, &m);
	m.found = 0;
	line_rule(&l, &m);
	assert_string_equal(l.buf, " rule=builtin:loopback rule=-A:4");
}

/* A long -a path loses its start, never its line number or quote. */
static void
test_long_rule_file_is_shortened_from_the_left(void **state)
{
	char path[900], want[64];
	struct al_match m;
	struct line l = { "pass ip=192.0.2.1", 17 };

	(void)state;
	memset(path, 'd', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	memcpy(path + sizeof(path) - 12, "/my allow", 9);
	memset(&m, 0, sizeof(m));
	m.found = 1;
	m.file = path;
	m.line = 123456;
	line_rule(&l, &m);
	assert_true(strlen(l.buf) < 300);
	assert_non_null(strstr(l.buf, " rule=\"...ddd"));
	snprintf(want, sizeof(want), "/my allowdd:123456\"");
	assert_non_null(strstr(l.buf, want));
}

static void
test_teaser_text_is_one_printable_line_within_rfc_5321(void **state)
{
	char msg[AL_MSG_MAX], text[TEASER_MAX + 2];

	(void)state;
	assert_int_equal(teaser_check("mx.example.org ESMTP", msg,
	    sizeof(msg)), 0);
	assert_int_equal(teaser_check(" ~!", msg, sizeof(msg)), 0);
	memset(text, 'x', TEASER_MAX);
	text[TEASER_MAX] = '\0';
	assert_int_equal(teaser_check(text, msg, sizeof(msg)), 0);
	text[TEASER_MAX] = 'x';
	text[TEASER_MAX + 1] = '\0';
	assert_int_equal(teaser_check(text, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "the teaser text is longer than 506 "
	    "characters");
	assert_int_equal(teaser_check("", msg, sizeof(msg)), -1);
	assert_string_equal(msg, "the teaser text is empty");
	assert_int_equal(teaser_check("mx\r\n250 x", msg, sizeof(msg)), -1);
	assert_string_equal(msg, "the teaser text has a control or non-ASCII "
	    "character at \"\\r\\n250 x\" (position 3)");
	assert_int_equal(teaser_check("a\tb", msg, sizeof(msg)), -1);
	assert_int_equal(teaser_check("a\x7f", msg, sizeof(msg)), -1);
	assert_int_equal(teaser_check("caf\xc3\xa9", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "\"\\xc3\\xa9\" (position 4)"));
}

static void
test_teaser_and_cache_options(void **state)
{
	char *ok[] = { "sendwrap", "-g", "mx ESMTP", "-c", "/var/lib/sw",
	    "-C", "3600", NULL };
	char *prune[] = { "sendwrap", "-c", "/d", "-P", NULL };
	char *bad_g[] = { "sendwrap", "-g", "a\nb", NULL };
	char *bad_C[] = { "sendwrap", "-c", "/d", "-C", "1h", NULL };
	char *lone_C[] = { "sendwrap", "-C", "60", NULL };
	char *lone_P[] = { "sendwrap", "-P", NULL };
	char *P_t[] = { "sendwrap", "-c", "/d", "-P", "-t", NULL };
	struct config c;

	(void)state;
	assert_int_equal(parse_options(7, ok, &c), 0);
	assert_string_equal(c.teaser, "mx ESMTP");
	assert_string_equal(c.cache_dir, "/var/lib/sw");
	assert_int_equal(c.cache_ttl, 3600);
	assert_false(c.prune);
	free(c.src);
	assert_int_equal(parse_options(4, prune, &c), 0);
	assert_true(c.prune);
	assert_int_equal(c.cache_ttl, PC_TTL_DEFAULT);
	assert_null(c.teaser);
	free(c.src);
	assert_int_equal(parse_options(3, bad_g, &c), -1);
	assert_null(c.teaser);
	assert_non_null(strstr(err(&c, 0), "-g: the teaser text has a "
	    "control"));
	free(c.src);
	free(c.error);
	assert_int_equal(parse(5, bad_C, &c), -1);
	assert_non_null(strstr(err(&c, 0), "-C: ttl \"1h\" is not a whole "
	    "number of seconds from 1 to 31536000"));
	assert_int_equal(parse(3, lone_C, &c), -1);
	assert_string_equal(err(&c, 0), "-C needs a pass cache directory "
	    "(-c dir)");
	assert_int_equal(parse(2, lone_P, &c), -1);
	assert_string_equal(err(&c, 0), "-P needs a pass cache directory "
	    "(-c dir)");
	assert_int_equal(parse(5, P_t, &c), -1);
	assert_string_equal(err(&c, 0), "-P cannot be combined with -t");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_match_the_documentation),
		cmocka_unit_test(test_sources_keep_command_line_order_and_number_each_A),
		cmocka_unit_test(test_program_options_are_left_to_the_program),
		cmocka_unit_test(test_every_action_is_accepted_and_others_rejected),
		cmocka_unit_test(test_delay_option_is_checked_strictly),
		cmocka_unit_test(test_unknown_and_incomplete_options_are_errors),
		cmocka_unit_test(test_all_option_errors_are_collected),
		cmocka_unit_test(test_many_option_errors_are_never_cut_mid_word),
		cmocka_unit_test(test_option_messages_quote_what_was_given),
		cmocka_unit_test(test_listener_options_and_their_defaults),
		cmocka_unit_test(test_flags_are_recognised),
		cmocka_unit_test(test_thousands_of_A_entries_are_kept),
		cmocka_unit_test(test_parsing_twice_gives_the_same_result),
		cmocka_unit_test(test_program_is_found_and_checked),
		cmocka_unit_test(test_program_without_slash_is_looked_up_in_path),
		cmocka_unit_test(test_path_lookup_never_searches_the_current_directory),
		cmocka_unit_test(test_programs_that_cannot_be_executed_are_refused_at_once),
		cmocka_unit_test(test_sendwrap_itself_is_refused_as_the_program),
		cmocka_unit_test(test_verdict_distrusts_an_allowlist_with_problems),
		cmocka_unit_test(test_missing_named_file_is_a_problem_but_missing_default_is_not),
		cmocka_unit_test(test_log_values_are_quoted_only_when_needed),
		cmocka_unit_test(test_log_line_is_bounded),
		cmocka_unit_test(test_rule_names),
		cmocka_unit_test(test_long_rule_file_is_shortened_from_the_left),
		cmocka_unit_test(test_teaser_text_is_one_printable_line_within_rfc_5321),
		cmocka_unit_test(test_teaser_and_cache_options),
	};

	return cmocka_run_group_tests_name("sendwrap", tests, NULL, NULL);
}
