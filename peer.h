/*
 * peer.h - what sendwrap does with one peer, in either mode.
 *
 * Per connection (sendwrap.c) and in the listener (listener.c) a peer
 * meets the same rules, written once here: the verdict (allowlist,
 * fail safe, pass cache, delay), the replies it may get, the one log
 * line its connection ends with, and the exec of the program, which
 * starts as the launcher would have started it.
 */
#ifndef SENDWRAP_PEER_H
#define SENDWRAP_PEER_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <limits.h>
#include <signal.h>
#include <stdint.h>

#include "allowlist.h"
#include "log.h"
#include "passcache.h"

#define DEFAULT_ALLOWLIST	"/etc/sendwrap.allow"
#define DEFAULT_DELAY_MS	35000u
#define DEFAULT_SESSIONS	100ul	/* -m */
#define DEFAULT_PER_ADDRESS	50ul	/* -p, as postscreen's limit */
#define DEFAULT_HOLD_MS		60000u	/* -w */
#define OPT_ERRORS_MAX		16	/* option problems kept, one each */
#define EARLY_SHOWN		64	/* early bytes quoted in the log */
#define HOST_MAX		256
#define TEASER_MAX		506	/* "220-" TEXT CRLF: RFC 5321's 512 */
#define REPLY_MAX		(2 * HOST_MAX + 128)	/* "220 " line, reply */
#define UNAVAILABLE	"Service not available, closing transmission channel"
#define DRAIN_MS		2000	/* for an early talker to close, replied */
#define DRAIN_BYTES		65536

enum action { ACT_DROP, ACT_TEMPFAIL, ACT_REJECT, ACT_LOG };
extern const char *const action_names[4];

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
	unsigned long	 sessions;	/* -m */
	unsigned long	 max_waiting;	/* -n, 0: from RLIMIT_NOFILE */
	unsigned long	 per_address;	/* -p, 0: no limit */
	unsigned	 hold_ms;	/* -w */
	char		**prog;		/* program and its arguments */
	int		 no_memory;	/* an internal failure, not a mistake */
	unsigned	 nerrors;	/* option problems, all counted */
	char		(*error)[AL_MSG_MAX];	/* the first OPT_ERRORS_MAX */
};

/* Who is on fd 0. */
enum stdin_kind { IN_INET, IN_LOCAL, IN_GONE, IN_LISTEN, IN_BAD };

struct peer {
	enum stdin_kind	 kind;
	int		 fd;		/* the connection */
	unsigned char	 addr[16];
	char		 ip[INET6_ADDRSTRLEN];
	unsigned	 port;
	int		 teased;	/* a "220-" line is on the wire */
	const char	*what;		/* IN_LOCAL: what fd 0 is; IN_BAD: why */
};

/* What the rules give a peer, before it has done anything. */
enum verdict_kind { V_ALLOW, V_CACHED, V_WAIT };

struct verdict {
	enum verdict_kind kind;
	unsigned	 delay_ms;
	struct al_match	 m;		/* the deciding entry, if any */
	int		 untrusted;	/* a problem: nobody allowlisted */
	unsigned long	 age;		/* V_CACHED: seconds since the pass */
	char		 key[PC_KEY_MAX];	/* the pass cache key, or "" */
};

/* What the allowlist sources came to, for a scan or a table. */
struct sources_state {
	unsigned long	 entries;
	unsigned long	 problems;
	unsigned	 longest_ms;	/* the -d delay or a longer entry's */
};

/* A log line under construction. */
struct line {
	char	 buf[LOG_LINE_MAX];
	size_t	 len;
};

/* Allowlist problems, for the log (a connection) or a person (-t). */
struct reporter {
	int		 to_stderr;
	unsigned long	 count;
	void		(*source_done)(const struct source *,
			    const struct al_scan *);
};
#define PROBLEMS_LOGGED	10		/* allowlist problems per connection */

int	 now_ms_since(int64_t);
int64_t	 now_ns(void);

void	 sources_read(const struct config *, const unsigned char *,
	    struct al_match *, struct al_table *, struct reporter *,
	    struct sources_state *);
void	 report_more(const struct reporter *);
int	 verdict_of(const struct config *, const struct sources_state *,
	    const struct al_match *, struct pc *, const unsigned char[16],
	    struct verdict *);
void	 cache_note(struct pc *, const struct verdict *,
	    const unsigned char[16], int);

void	 peer_from_sockaddr(struct peer *, const struct sockaddr_storage *);

void	 line_begin(struct line *, const char *, const struct peer *);
void	 line_add(struct line *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 line_value(struct line *, const char *, const char *, int);
void	 line_seconds(struct line *, const char *, unsigned);
void	 line_rule(struct line *, const struct al_match *);
void	 line_end(struct line *, int, const struct verdict *);
void	 line_early(struct line *, const struct config *,
	    const struct peer *, const struct verdict *, unsigned, int);
void	 log_early(const struct config *, const struct peer *,
	    const struct verdict *, unsigned, int);

size_t	 reply_format(const struct peer *, const char *, const char *,
	    char *, size_t);
void	 reply(struct peer *, const char *, const char *);
void	 reply_unavailable(struct peer *, const char *);
void	 reply_early(const struct config *, struct peer *);
size_t	 read_sent(int, size_t, size_t);
void	 send_teaser(const struct config *, struct peer *);
int	 give_up(struct peer *, const char *, const char *, int);
void	 config_errors_joined(const struct config *, char *, size_t);

int	 program_find(const char *, char *, size_t, char *, size_t);

void	 launcher_save(void);
int	 launcher_signal_pending(void);
int	 launcher_event_signal(int);
void	 launcher_restore(void);
void	 launcher_block_events(sigset_t *);
void	 launcher_default(int);
void	 launcher_events(sigset_t *);
const char *signal_name(int, char *, size_t);
void	 program_exec(const struct config *, const char *, char *, size_t);

#endif
