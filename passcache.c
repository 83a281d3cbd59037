/*
 * passcache.c - sendwrap's memory of peers that passed the wait.
 *
 * See passcache.h for the layout and the rules.  Every path here is
 * relative to the directory's descriptor, and every entry name comes
 * from inet_ntop(3), so a name can hold nothing but hex digits, dots,
 * colons and "_64": no slash, no "..", nothing a peer chose.
 *
 * Entries are dated by sendwrap itself, from one clock (CLOCK_REALTIME,
 * pc_now()), not by the file system's idea of "now", which may run a
 * tick ahead of time(NULL) and make a fresh pass look like one from the
 * future.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allowlist.h"
#include "passcache.h"

#define FUTURE_SLACK	1		/* seconds: a tick between clocks */

static int
problem(struct pc *pc, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The one clock every entry is written and read with. */
time_t
pc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

/* The key a pass is remembered under, as logged: "192.0.2.1" or
 * "2001:db8:1:2::/64". */
void
pc_key(const unsigned char addr[16], char key[PC_KEY_MAX])
{
	unsigned char net[16];

	if (al_addr_is_v4(addr)) {
		al_addr_format(addr, key, PC_KEY_MAX);
		return;
	}
	al_site(addr, net);
	al_addr_format(net, key, PC_KEY_MAX - 4);
	if (key[0] != '\0')
		memcpy(key + strlen(key), "/64", 4);
}

/* Record a problem as "DIR: text" or "DIR/NAME: text"; returns -1. */
static int
problem(struct pc *pc, const char *name, const char *fmt, ...)
{
	size_t len;
	va_list ap;

	snprintf(pc->msg, sizeof(pc->msg), "%s%s%s: ", pc->dir,
	    name ? "/" : "", name ? name : "");
	len = strlen(pc->msg);
	va_start(ap, fmt);
	vsnprintf(pc->msg + len, sizeof(pc->msg) - len, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Seconds, as a whole number: "86400".  strtoul() alone would take a
 * sign, leading blanks and "0x", so the digits are checked first.
 */
int
pc_ttl_parse(const char *s, unsigned long *ttl, char *msg, size_t msgsz)
{
	char esc[AL_ESCAPE_MAX(32)];
	unsigned long v;
	size_t i, n = strlen(s);
	char *end;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			break;
	errno = 0;
	v = n > 0 && i == n ? strtoul(s, &end, 10) : 0;
	if (n == 0 || i < n || errno != 0 || *end != '\0' || v == 0 ||
	    v > PC_TTL_MAX) {
		al_escape(s, n > 32 ? 32 : n, esc, sizeof(esc));
		snprintf(msg, msgsz, "ttl \"%s%s\" is not a whole number of "
		    "seconds from 1 to %lu", esc, n > 32 ? "..." : "",
		    PC_TTL_MAX);
		return -1;
	}
	*ttl = v;
	return 0;
}

/*
 * Open the directory and check that it can be trusted: not a symbolic
 * link (O_NOFOLLOW), owned by root or by us, and writable by nobody but
 * its owner, who alone can then plant or remove an entry.  (A directory
 * of another user's, even one root runs us as, would let that user
 * plant a pass for any address.)  It must also be writable by us,
 * or an early talker's entry could not be removed.  The checks are made
 * on the descriptor that every later call goes through, so the path
 * cannot be swapped in between.
 */
int
pc_open(struct pc *pc, const char *dir, unsigned long ttl)
{
	struct stat st;

	pc->dir = dir;
	pc->ttl = ttl;
	pc->msg[0] = '\0';
	pc->fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY);
	if (pc->fd == -1) {
		int e = errno;

		/* Linux says ENOTDIR for a symbolic link here, not ELOOP. */
		if ((e == ELOOP || e == ENOTDIR) && lstat(dir, &st) == 0 &&
		    S_ISLNK(st.st_mode))
			return problem(pc, NULL, "is a symbolic link; give "
			    "the directory itself");
		if (e == ENOTDIR)
			return problem(pc, NULL, "is not a directory");
		return problem(pc, NULL, "cannot open: %s", strerror(e));
	}
	if (fstat(pc->fd, &st) == -1) {
		problem(pc, NULL, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		problem(pc, NULL, "is owned by uid %lu, not by root or this "
		    "user (uid %lu), who alone may write passes; chown it",
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		problem(pc, NULL, "is writable by group or others "
		    "(mode %04o); chmod go-w it", (unsigned)st.st_mode & 07777);
		goto fail;
	}
	if (faccessat(pc->fd, ".", W_OK | X_OK, AT_EACCESS) == -1) {
		problem(pc, NULL, "is not writable: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	pc_close(pc);
	return -1;
}

void
pc_close(struct pc *pc)
{
	if (pc->fd != -1)
		close(pc->fd);
	pc->fd = -1;
}

/* The entry's name: the key, with its "/" written "_". */
static int
entry_name(struct pc *pc, const unsigned char addr[16], char name[PC_KEY_MAX])
{
	char *slash;

	if (pc->fd == -1) {
		if (pc->msg[0] == '\0')
			problem(pc, NULL, "not open");
		return -1;
	}
	pc_key(addr, name);
	if (name[0] == '\0')
		return problem(pc, NULL, "cannot name the peer's entry");
	if ((slash = strchr(name, '/')) != NULL)
		*slash = '_';
	return 0;
}

/* The name 1.0 gave an IPv6 peer's entry: the whole address. */
static int
old_name(const unsigned char addr[16], char name[PC_KEY_MAX])
{
	if (al_addr_is_v4(addr))
		return -1;
	al_addr_format(addr, name, PC_KEY_MAX);
	return name[0] == '\0' ? -1 : 0;
}

/* One entry's age: 1 young, 0 old or absent, -1 a problem. */
static int
entry_age(struct pc *pc, const char *name, time_t now, unsigned long *age)
{
	struct stat st;

	if (fstatat(pc->fd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		return problem(pc, name, "cannot read: %s", strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return problem(pc, name, "is not a regular file; ignored");
	if (st.st_mtime > now + FUTURE_SLACK)
		return problem(pc, name, "last pass is in the future; "
		    "ignored");
	*age = st.st_mtime >= now ? 0 : (unsigned long)(now - st.st_mtime);
	return *age < pc->ttl;
}

/*
 * Is the peer's last pass younger than the ttl?  Returns 1 (yes, *age
 * set), 0 (no entry, or an old one) or -1 (a problem, such as an entry
 * that is not a plain file, or one dated in the future, which no pass
 * wrote: the caller applies the full delay).  An IPv6 peer's 1.0-style
 * entry, for its address alone, still counts.
 */
int
pc_lookup(struct pc *pc, const unsigned char addr[16], time_t now,
    unsigned long *age)
{
	char name[PC_KEY_MAX];
	int r;

	if (entry_name(pc, addr, name) == -1)
		return -1;
	if ((r = entry_age(pc, name, now, age)) != 0)
		return r;
	if (old_name(addr, name) == -1)
		return 0;
	return entry_age(pc, name, now, age);
}

/*
 * The peer passed at now (pc_now()): create its entry, or date the one
 * it has.  No O_EXCL and no lock: two passes at once both open the same
 * file and both set its time.  O_NONBLOCK keeps a FIFO planted under the
 * name from hanging us; anything but a regular file is left alone.
 */
int
pc_pass(struct pc *pc, const unsigned char addr[16], time_t now)
{
	const struct timespec when[2] = { { now, 0 }, { now, 0 } };
	char name[PC_KEY_MAX];
	struct stat st;
	int fd;

	if (entry_name(pc, addr, name) == -1)
		return -1;
	if (fstatat(pc->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISREG(st.st_mode))
		return problem(pc, name, "is not a regular file; left alone");
	fd = openat(pc->fd, name, O_WRONLY | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno == ELOOP)
			return problem(pc, name, "is a symbolic link; left "
			    "alone");
		return problem(pc, name, "cannot write: %s", strerror(errno));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return problem(pc, name, "is not a regular file; left alone");
	}
	if (futimens(fd, when) == -1) {
		problem(pc, name, "cannot set its time: %s", strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The peer talked early, or a pass just recorded did not lead to the
 * program: it is no longer known to be patient.  Its 1.0-style entry
 * goes too.
 */
int
pc_forget(struct pc *pc, const unsigned char addr[16])
{
	char name[PC_KEY_MAX];

	if (entry_name(pc, addr, name) == -1)
		return -1;
	if (unlinkat(pc->fd, name, 0) == -1 && errno != ENOENT)
		return problem(pc, name, "cannot remove: %s", strerror(errno));
	if (old_name(addr, name) == 0 && unlinkat(pc->fd, name, 0) == -1 &&
	    errno != ENOENT)
		return problem(pc, name, "cannot remove: %s", strerror(errno));
	return 0;
}

/*
 * Is name one sendwrap writes?  A key's name, or a 1.0-style IPv6
 * address, each in canonical form; nothing else is ever touched.
 */
static int
is_entry_name(const char *name)
{
	char canon[PC_KEY_MAX], buf[PC_KEY_MAX];
	unsigned char a[16];
	size_t len = strlen(name);

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, name, len + 1);
	if (len > 3 && strcmp(buf + len - 3, "_64") == 0) {
		buf[len - 3] = '\0';
		if (strchr(buf, ':') == NULL || al_addr_parse(buf, a) == -1 ||
		    al_addr_is_v4(a))
			return 0;
		pc_key(a, canon);
		canon[strcspn(canon, "/")] = '\0';
		return strcmp(canon, buf) == 0 &&
		    memcmp(a + 8, "\0\0\0\0\0\0\0\0", 8) == 0;
	}
	if (al_addr_parse(buf, a) == -1)
		return 0;
	al_addr_format(a, canon, sizeof(canon));
	return strcmp(canon, buf) == 0;
}

static void
tell(pc_report_fn *report, void *ctx, const char *msg)
{
	if (report != NULL)
		report(ctx, msg);
}

/*
 * Remove the entries whose pass is older than the ttl (or dated in the
 * future), for a cron job.  Only names that sendwrap itself would write
 * are looked at (is_entry_name()).  A pass
 * that touches an entry just as it is removed costs that peer one more
 * wait, nothing worse.  Returns 0, or -1 if anything could not be done;
 * each problem goes to report, if given.
 */
int
pc_prune(struct pc *pc, time_t now, struct pc_counts *n,
    pc_report_fn *report, void *ctx)
{
	struct dirent *e;
	DIR *d;
	int fd, rc = 0;

	memset(n, 0, sizeof(*n));
	if (pc->fd == -1) {
		problem(pc, NULL, "not open");
		tell(report, ctx, pc->msg);
		return -1;
	}
	/* fdopendir() takes its descriptor; the cache keeps its own. */
	if ((fd = openat(pc->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
	    == -1 || (d = fdopendir(fd)) == NULL) {
		problem(pc, NULL, "cannot read: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		tell(report, ctx, pc->msg);
		return -1;
	}
	for (;;) {
		struct stat st;

		errno = 0;
		if ((e = readdir(d)) == NULL) {
			if (errno != 0) {
				problem(pc, NULL, "cannot read: %s",
				    strerror(errno));
				tell(report, ctx, pc->msg);
				rc = -1;
			}
			break;
		}
		if (!is_entry_name(e->d_name))
			continue;
		if (fstatat(pc->fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;
			problem(pc, e->d_name, "cannot read: %s",
			    strerror(errno));
		} else if (!S_ISREG(st.st_mode)) {
			problem(pc, e->d_name, "is not a regular file; left "
			    "alone");
		} else {
			n->entries++;
			if (st.st_mtime <= now + FUTURE_SLACK &&
			    (st.st_mtime >= now ||
			    (unsigned long)(now - st.st_mtime) < pc->ttl))
				continue;
			if (unlinkat(pc->fd, e->d_name, 0) == 0 ||
			    errno == ENOENT) {
				n->removed++;
				continue;
			}
			problem(pc, e->d_name, "cannot remove: %s",
			    strerror(errno));
			n->failed++;
		}
		tell(report, ctx, pc->msg);
		rc = -1;
	}
	closedir(d);
	return rc;
}
