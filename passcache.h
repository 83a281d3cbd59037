/*
 * passcache.h - sendwrap's memory of peers that passed the wait.
 *
 * The launcher starts one sendwrap per connection, so the cache is a
 * directory they share: one empty file per key that stayed silent for
 * the whole delay, its mtime the time it last passed.  The key is an
 * IPv4 address, or an IPv6 /64: the unit one host or one site is given,
 * so that a single /64 cannot fill the directory with one entry per
 * address.  Its name is the key's text with "/" written "_":
 * "192.0.2.1", "2001:db8:1:2::_64".  (Entries that 1.0 wrote for a
 * single IPv6 address, named by the address, still count until they
 * expire.)
 *
 * The directory is made by the administrator, never by sendwrap, and is
 * refused if it is a symbolic link, writable by group or others, or
 * owned by anyone but root or the user sendwrap runs as: then nobody
 * else can plant an entry.  Every entry is reached
 * through the directory's descriptor with O_NOFOLLOW, and entries are
 * created mode 0600.  No locks: two passes at once both create or touch
 * the same file, and either result is right.
 *
 * Like the allowlist module, this one never logs and never exits: a
 * problem is returned as -1 with a message in pc->msg, and the caller
 * decides.  sendwrap's rule is that any problem means the full delay.
 */
#ifndef SENDWRAP_PASSCACHE_H
#define SENDWRAP_PASSCACHE_H

#include <stddef.h>
#include <time.h>

#define PC_TTL_DEFAULT	86400ul		/* one day, as postscreen */
#define PC_TTL_MAX	31536000ul	/* one year */
#define PC_MSG_MAX	512
#define PC_KEY_MAX	48		/* "ffff:...:ffff::/64" and NUL */

struct pc {
	const char	*dir;
	int		 fd;		/* the directory, or -1 */
	unsigned long	 ttl;		/* seconds a pass is remembered */
	char		 msg[PC_MSG_MAX];	/* the last problem */
};

/* What pc_prune() did. */
struct pc_counts {
	unsigned long	 entries;	/* files named like an address */
	unsigned long	 removed;	/* expired, and removed */
	unsigned long	 failed;	/* expired, but not removed */
};

typedef void pc_report_fn(void *ctx, const char *msg);

void	 pc_key(const unsigned char[16], char[PC_KEY_MAX]);
time_t	 pc_now(void);
int	 pc_ttl_parse(const char *, unsigned long *, char *, size_t);
int	 pc_open(struct pc *, const char *, unsigned long);
void	 pc_close(struct pc *);
int	 pc_lookup(struct pc *, const unsigned char[16], time_t,
	    unsigned long *);
int	 pc_pass(struct pc *, const unsigned char[16], time_t);
int	 pc_forget(struct pc *, const unsigned char[16]);
int	 pc_prune(struct pc *, time_t, struct pc_counts *, pc_report_fn *,
	    void *);

#endif
