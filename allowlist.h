/*
 * allowlist.h - parse and match sendwrap's CIDR allowlists.
 *
 * The module is pure: text in, decision and problem records out.  It
 * opens no file, writes no log and never exits, so the wrapper, the
 * listener, the checker (-t, -q), the unit tests and the fuzzers all
 * drive it the same way.
 *
 * Two ways to ask it, with one rule for which entry wins
 * (al_match_offer): a scan, a single pass over the text that stores
 * nothing but the best match so far, for one peer per process; and a
 * table, built once from the same scan, for a listener that decides
 * many peers.
 *
 * Every address is kept as 16 bytes: IPv4 as the IPv4-mapped IPv6
 * address ::ffff:a.b.c.d, its prefix length counted in that space.  An
 * IPv4 entry therefore matches a dual-stack listener's mapped peers
 * without a special case.
 */
#ifndef SENDWRAP_ALLOWLIST_H
#define SENDWRAP_ALLOWLIST_H

#include <stddef.h>

#define AL_LINE_MAX	1023		/* longest line, without CR LF */
#define AL_DELAY_MAX_MS	300000u		/* RFC 5321 4.5.3.2.1: 5 minutes */
#define AL_MSG_MAX	320		/* one problem message, quote included */
#define AL_ADDR_MAX	64		/* address text incl. "/128" and NUL */
#define AL_QUOTE_BYTES	48		/* input shown when a message quotes */
#define AL_ESCAPE_MAX(n) ((n) * 4 + 1)	/* al_escape() output for n bytes */
#define AL_QUOTE_MAX	(AL_ESCAPE_MAX(AL_QUOTE_BYTES) + 5)	/* al_quote() */

/*
 * A problem is always an error: the line, or the whole source, is not
 * used, and the caller stops trusting the allowlist (see sendwrap.8).
 */
struct al_problem {
	const char	*file;
	unsigned long	 line;		/* 0: about the whole source */
	char		 msg[AL_MSG_MAX];
};

typedef void al_report_fn(void *ctx, const struct al_problem *);

struct al_entry {
	unsigned char	 net[16];
	unsigned	 plen;		/* 0..128, IPv4 as 96..128 */
	unsigned	 delay_ms;
};

/* The decision for one peer: the most specific entry that covers it. */
struct al_match {
	int		 found;
	int		 builtin;	/* the loopback default, not a rule */
	struct al_entry	 entry;
	const char	*file;
	unsigned long	 line;
};

struct al_table;

/* One source (a file or a -A argument) being scanned. */
struct al_scan {
	const char	*file;
	unsigned long	 line;
	const unsigned char *peer;	/* NULL: no match wanted */
	struct al_match	*best;
	struct al_table	*table;		/* non-NULL: every entry goes in */
	al_report_fn	*report;
	void		*ctx;
	unsigned long	 entries, errors;
	unsigned	 max_delay_ms;	/* the longest delay of a good entry */
	size_t		 len;		/* of a line split across feeds */
	int		 overlong;
	char		 buf[AL_LINE_MAX + 1];	/* + the CR of CRLF */
};

int	 al_addr_parse(const char *, unsigned char[16]);
int	 al_addr_is_v4(const unsigned char[16]);
void	 al_site(const unsigned char[16], unsigned char[16]);
void	 al_addr_format(const unsigned char[16], char *, size_t);
void	 al_net_format(const struct al_entry *, char *, size_t);
int	 al_delay_parse(const char *, size_t, unsigned *, char *, size_t);
void	 al_delay_format(unsigned, char *, size_t);
size_t	 al_escape(const void *, size_t, char *, size_t);
void	 al_quote(const char *, size_t, char *, size_t);

int	 al_parse_line(const char *, size_t, struct al_entry *,
	    struct al_problem *);
int	 al_covers(const struct al_entry *, const unsigned char[16]);

void	 al_match_init(struct al_match *, const unsigned char[16]);
void	 al_match_offer(struct al_match *, const struct al_entry *,
	    const char *, unsigned long);
void	 al_scan_init(struct al_scan *, const char *, const unsigned char *,
	    struct al_match *, al_report_fn *, void *);
void	 al_scan_line(struct al_scan *, const char *, size_t);
void	 al_scan_feed(struct al_scan *, const char *, size_t);
void	 al_scan_end(struct al_scan *);
void	 al_scan_problem(struct al_scan *, unsigned long, const char *);

struct al_table	*al_table_new(void);
void	 al_table_free(struct al_table *);
int	 al_table_add(struct al_table *, const struct al_entry *,
	    const char *, unsigned long);
size_t	 al_table_size(const struct al_table *);
void	 al_table_lookup(const struct al_table *, const unsigned char[16],
	    struct al_match *);

#endif
