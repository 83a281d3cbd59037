/*
 * fuzz_options.c - libFuzzer target for sendwrap's command line and
 * the delay parser.
 *
 * The input, split at NUL bytes, is an argument vector after
 * "sendwrap".  sendwrap.c is included so that its static option parser
 * can be reached.  Each input is held to what the parser promises:
 * a result of 0 exactly when no error was collected, errors that are
 * printable and bounded, a delay and an action in range, a source for
 * every -a and -A, and log fields that a peer's or an admin's bytes
 * cannot break out of.
 *
 * Every argument is also run through al_delay_parse() and compared with
 * a plain reference reading of the grammar "digits[.1-3 digits]", at
 * most 300 s; a parsed delay printed back must parse to itself.  The
 * cache ttl parser must keep its range, and a greeting teaser that is
 * accepted must be printable, as it goes to the peer.
 */
#include <stdint.h>

#define main sendwrap_main
#include "sendwrap.c"
#undef main

#define FUZZ_ARGS	512

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_options: broken promise: %s\n", what);
		abort();
	}
}

/* The delay grammar, read the obvious way: -1, or milliseconds. */
static long
reference_delay(const char *s, size_t len)
{
	size_t i = 0, digits = 0, frac = 0;
	unsigned long sec = 0, ms = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (sec <= 1000)
			sec = sec * 10 + (unsigned long)(s[i] - '0');
		i++;
		digits++;
	}
	if (digits == 0)
		return -1;
	if (i < len) {
		if (s[i++] != '.')
			return -1;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (frac < 3)
				ms = ms * 10 + (unsigned long)(s[i] - '0');
			i++;
			frac++;
		}
		if (frac == 0 || frac > 3 || i < len)
			return -1;
		while (frac++ < 3)
			ms *= 10;
	}
	if (sec > 300 || sec * 1000 + ms > 300000)
		return -1;
	return (long)(sec * 1000 + ms);
}

static void
check_printable(const char *s, int newline_ok, const char *what)
{
	for (; *s != '\0'; s++)
		check((*s >= 0x20 && *s < 0x7f) || (newline_ok && *s == '\n'),
		    what);
}

static void
check_delay(const char *s, size_t len)
{
	char msg[AL_MSG_MAX], back[32];
	unsigned ms = 12345, again = 0;
	long want = reference_delay(s, len);
	int r;

	msg[0] = '\0';
	r = al_delay_parse(s, len, &ms, msg, sizeof(msg));
	check((r == 0) == (want >= 0), "delay parser agrees with the grammar");
	if (r == 0) {
		check(ms == (unsigned long)want, "delay value is right");
		al_delay_format(ms, back, sizeof(back));
		check(al_delay_parse(back, strlen(back), &again, msg,
		    sizeof(msg)) == 0 && again == ms, "delay round-trips");
	} else {
		check(ms == 12345, "a bad delay leaves the value alone");
		check(strnlen(msg, sizeof(msg)) < sizeof(msg) && msg[0] != '\0',
		    "a bad delay says why");
		check_printable(msg, 0, "delay message is printable");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *argv[FUZZ_ARGS + 2];
	char *copy, *p, *end, errline[LOG_LINE_MAX];
	struct config c;
	struct line l = { "", 0 };
	unsigned long nsrc = 0;
	int argc = 1, i, r;

	check_delay((const char *)data, size);

	/* NUL-separated arguments; the copy ends in a NUL of its own. */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = "sendwrap";
	for (p = copy, end = copy + size; argc <= FUZZ_ARGS; ) {
		argv[argc++] = p;
		p += strlen(p) + 1;
		if (p > end)
			break;
	}
	if (size == 0)
		argc = 1;
	argv[argc] = NULL;

	r = parse_options(argc, argv, &c);
	check((r == 0) == (c.nerrors == 0 && !c.no_memory),
	    "0 exactly when no error");
	for (i = 0; (unsigned)i < c.nerrors && i < OPT_ERRORS_MAX; i++) {
		check(strnlen(c.error[i], sizeof(c.error[i])) <
		    sizeof(c.error[i]) && c.error[i][0] != '\0',
		    "each error is terminated and says something");
		check_printable(c.error[i], 0, "errors are printable");
	}
	check(c.sessions >= 1 && c.per_address <= 1000000 &&
	    c.hold_ms <= AL_DELAY_MAX_MS, "listener limits in range");
	check(c.delay_ms <= AL_DELAY_MAX_MS, "delay in range");
	check((unsigned)c.action < 4, "action in range");
	check(c.nsrc >= 1 && c.nsrc <= (size_t)argc, "sources counted");
	check(c.prog != NULL && c.prog[0] != NULL, "a program to run");
	if (c.default_src)
		check(c.nsrc == 1 && c.src[0].is_file &&
		    strcmp(c.src[0].text, DEFAULT_ALLOWLIST) == 0,
		    "the default list stands alone");
	for (i = 0; (size_t)i < c.nsrc; i++) {
		check(c.src[i].text != NULL, "every source has text");
		if (!c.src[i].is_file && !c.default_src)
			check(c.src[i].index == ++nsrc, "-A entries numbered");
	}
	if (c.prog != default_prog)
		check(c.prog >= argv + 1 && c.prog < argv + argc,
		    "the program comes from the command line");

	config_errors_joined(&c, errline, sizeof(errline));
	check(strchr(errline, '\n') == NULL, "error log line is one line");
	check_printable(errline, 0, "error log line is printable");

	/* Whatever an argument holds, a log field stays one printable field. */
	for (i = 1; i < argc; i++)
		line_value(&l, "v", argv[i], i & 1);
	check(l.len < sizeof(l.buf) && strlen(l.buf) == l.len,
	    "log line is bounded");
	check_printable(l.buf, 0, "log line is printable");

	/* The teaser goes on the wire: it must be one printable line. */
	if (c.teaser != NULL)
		check_printable(c.teaser, 0, "the teaser is printable");

	for (i = 1; i < argc; i++) {
		char msg[AL_MSG_MAX];
		unsigned long ttl = 0;

		check_delay(argv[i], strlen(argv[i]));
		msg[0] = '\0';
		if (pc_ttl_parse(argv[i], &ttl, msg, sizeof(msg)) == 0)
			check(ttl >= 1 && ttl <= PC_TTL_MAX, "ttl in range");
		else
			check_printable(msg, 0, "ttl message is printable");
	}

	free(c.src);
	free(c.error);
	free(copy);
	return 0;
}
