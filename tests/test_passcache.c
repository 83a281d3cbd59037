/*
 * test_passcache.c - the pass cache module on a real directory.
 *
 * Each test gets a fresh directory (mode 0700) under a private temporary
 * one.  Times are set with utimensat(), so expiry needs no waiting.
 * Where a test needs a directory its process cannot write to and runs
 * as root (who writes anywhere), it forks and drops to nobody first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "allowlist.h"
#include "passcache.h"
#include "cachedir.h"

#define NOBODY		65534
#define DAY		86400L

static char top[128];		/* the private temporary directory */
static char dir[256];		/* this test's cache */
static int ntest;

static void
addr(const char *text, unsigned char a[16])
{
	assert_int_equal(al_addr_parse(text, a), 0);
}

static void
path_of(const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static time_t
plant(const char *name, long offset)
{
	return cd_plant(dir, name, offset);
}

static int
exists(const char *name)
{
	struct stat st;
	char p[512];

	path_of(name, p, sizeof(p));
	return lstat(p, &st) == 0;
}

static time_t
mtime_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mtime;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/c%d", top, ++ntest);
	if (mkdir(dir, 0700) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cd_remove_tree(dir);
	return 0;
}

/* ---- -C ---- */

static void
test_ttl_takes_whole_seconds_from_1_to_a_year(void **state)
{
	char msg[AL_MSG_MAX];
	unsigned long ttl = 7;

	(void)state;
	assert_int_equal(pc_ttl_parse("1", &ttl, msg, sizeof(msg)), 0);
	assert_int_equal(ttl, 1);
	assert_int_equal(pc_ttl_parse("86400", &ttl, msg, sizeof(msg)), 0);
	assert_int_equal(ttl, 86400);
	assert_int_equal(pc_ttl_parse("31536000", &ttl, msg, sizeof(msg)), 0);
	assert_int_equal(ttl, PC_TTL_MAX);
}

static void
test_ttl_rejects_signs_blanks_units_hex_zero_and_overflow(void **state)
{
	static const char *const bad[] = {
		"", "0", "-1", "+5", " 5", "5 ", "5s", "1.5", "0x10",
		"31536001", "99999999999999999999999999", "1e3",
	};
	char msg[AL_MSG_MAX];
	unsigned long ttl = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pc_ttl_parse(bad[i], &ttl, msg, sizeof(msg)),
		    -1);
		assert_non_null(strstr(msg, "is not a whole number of seconds "
		    "from 1 to 31536000"));
	}
	assert_int_equal(ttl, 42);
	pc_ttl_parse("5\n", &ttl, msg, sizeof(msg));
	assert_non_null(strstr(msg, "\"5\\n\""));	/* escaped */
}

/* ---- the directory ---- */

static void
test_open_accepts_a_private_directory(void **state)
{
	struct pc pc;

	(void)state;
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_true(pc.fd >= 0);
	assert_int_equal(fcntl(pc.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	pc_close(&pc);
	assert_int_equal(pc.fd, -1);
	pc_close(&pc);		/* twice is harmless */
}

static void
test_open_refuses_missing_file_and_symlinked_directory(void **state)
{
	struct pc pc;
	char p[512], q[512];

	(void)state;
	path_of("missing", p, sizeof(p));
	assert_int_equal(pc_open(&pc, p, DAY), -1);
	assert_int_equal(pc.fd, -1);
	assert_non_null(strstr(pc.msg, "/missing: cannot open: No such file"));

	plant("file", 0);
	path_of("file", p, sizeof(p));
	assert_int_equal(pc_open(&pc, p, DAY), -1);
	assert_non_null(strstr(pc.msg, "/file: is not a directory"));

	path_of("link", p, sizeof(p));
	assert_int_equal(symlink(dir, p), 0);
	assert_int_equal(pc_open(&pc, p, DAY), -1);
	assert_non_null(strstr(pc.msg, "/link: is a symbolic link"));

	/* A symlink higher up is the administrator's choice. */
	snprintf(q, sizeof(q), "%s/sub", dir);
	assert_int_equal(mkdir(q, 0700), 0);
	snprintf(q, sizeof(q), "%s/link/sub", dir);
	assert_int_equal(pc_open(&pc, q, DAY), 0);
	pc_close(&pc);
}

static void
test_open_refuses_a_directory_others_can_write(void **state)
{
	static const mode_t loose[] = { 0770, 0707, 0720, 0702, 01777 };
	struct pc pc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(loose) / sizeof(loose[0]); i++) {
		assert_int_equal(chmod(dir, loose[i]), 0);
		assert_int_equal(pc_open(&pc, dir, DAY), -1);
		assert_non_null(strstr(pc.msg, "is writable by group or "
		    "others"));
		assert_int_equal(pc.fd, -1);
	}
	assert_int_equal(chmod(dir, 0755), 0);	/* readable is fine */
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	pc_close(&pc);
}

/*
 * Run f in a child that cannot write dir: as nobody (owning a 0500
 * directory) when we are root, else just with the directory 0500.
 */
static void
as_reader(void (*f)(void))
{
	int status;
	pid_t pid;

	if (getuid() == 0) {
		assert_int_equal(chmod(top, 0711), 0);
		assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
	}
	assert_int_equal(chmod(dir, 0500), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if (getuid() == 0 && (setgroups(0, NULL) == -1 ||
		    setgid(NOBODY) == -1 || setuid(NOBODY) == -1))
			_exit(2);
		f();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	chmod(dir, 0700);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
read_only_child(void)
{
	struct pc pc;

	if (pc_open(&pc, dir, DAY) != -1 || pc.fd != -1 ||
	    strstr(pc.msg, "is not writable: Permission denied") == NULL)
		_exit(1);
}

static void
test_open_refuses_a_directory_we_cannot_write(void **state)
{
	(void)state;
	plant("192.0.2.1", 0);	/* fresh, but it cannot be trusted */
	as_reader(read_only_child);
}

/* ---- entries ---- */

static void
test_a_pass_creates_a_0600_file_named_by_inet_ntop(void **state)
{
	unsigned char a[16], b[16], m[16];
	struct stat st;
	struct pc pc;
	char p[512];
	mode_t old;

	(void)state;
	addr("192.0.2.1", a);
	addr("2001:db8:0:0::1", b);
	addr("::ffff:198.51.100.7", m);
	old = umask(0);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_int_equal(pc_pass(&pc, a, pc_now()), 0);
	assert_int_equal(pc_pass(&pc, b, pc_now()), 0);
	assert_int_equal(pc_pass(&pc, m, pc_now()), 0);
	umask(old);
	pc_close(&pc);
	path_of("192.0.2.1", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 0);
	assert_true(exists("2001:db8::_64"));	/* IPv6: its /64 */
	assert_true(exists("198.51.100.7"));	/* mapped: IPv4 form */
	assert_int_equal(cd_count(dir), 3);
}

static void
test_lookup_hits_within_the_ttl_and_misses_after(void **state)
{
	unsigned char a[16];
	unsigned long age = 99;
	time_t now = pc_now();
	struct pc pc;

	(void)state;
	addr("192.0.2.1", a);
	assert_int_equal(pc_open(&pc, dir, 3600), 0);
	assert_int_equal(pc_lookup(&pc, a, now, &age), 0);	/* none yet */
	assert_int_equal(pc_pass(&pc, a, pc_now()), 0);
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), 1);
	assert_true(age <= 1);

	now = plant("192.0.2.1", -3599);
	assert_int_equal(pc_lookup(&pc, a, now, &age), 1);
	assert_int_equal(age, 3599);
	now = plant("192.0.2.1", -3600);	/* exactly the ttl: too old */
	assert_int_equal(pc_lookup(&pc, a, now, &age), 0);
	assert_int_equal(age, 3600);
	plant("192.0.2.1", -2 * DAY);
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), 0);
	pc_close(&pc);
}

static void
test_a_pass_refreshes_an_old_entry(void **state)
{
	unsigned char a[16];
	unsigned long age;
	struct pc pc;
	char p[512];

	(void)state;
	addr("192.0.2.1", a);
	plant("192.0.2.1", -2 * DAY);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), 0);
	assert_int_equal(pc_pass(&pc, a, pc_now()), 0);
	path_of("192.0.2.1", p, sizeof(p));
	assert_true(pc_now() - mtime_of(p) <= 1);
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), 1);
	pc_close(&pc);
}

static void
test_an_entry_dated_in_the_future_is_a_problem_not_a_hit(void **state)
{
	unsigned char a[16];
	unsigned long age;
	struct pc pc;

	(void)state;
	addr("192.0.2.1", a);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_int_equal(pc_lookup(&pc, a, plant("192.0.2.1", 3), &age), -1);
	assert_non_null(strstr(pc.msg, "/192.0.2.1: last pass is in the "
	    "future; ignored"));
	/* One tick ahead is a clock's grain, not a forgery. */
	assert_int_equal(pc_lookup(&pc, a, plant("192.0.2.1", 1), &age), 1);
	assert_int_equal(age, 0);
	plant("192.0.2.1", 3600);
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), -1);
	assert_non_null(strstr(pc.msg, "/192.0.2.1: last pass is in the "
	    "future; ignored"));
	pc_close(&pc);
}

static void
test_a_planted_symlink_is_never_followed(void **state)
{
	unsigned char a[16];
	unsigned long age;
	struct pc pc;
	char target[512], link[512];
	time_t before;

	(void)state;
	addr("192.0.2.1", a);
	plant("target", -2 * DAY);		/* old, so a touch would show */
	path_of("target", target, sizeof(target));
	path_of("192.0.2.1", link, sizeof(link));
	assert_int_equal(symlink(target, link), 0);
	before = mtime_of(target);

	assert_int_equal(pc_open(&pc, dir, 3 * DAY), 0);
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), -1);
	assert_non_null(strstr(pc.msg, "/192.0.2.1: is not a regular file; "
	    "ignored"));
	assert_int_equal(pc_pass(&pc, a, pc_now()), -1);
	assert_non_null(strstr(pc.msg, "/192.0.2.1: is not a regular file; "
	    "left alone"));
	assert_int_equal(mtime_of(target), before);

	/* A dangling one must not be created through, either. */
	assert_int_equal(unlink(target), 0);
	assert_int_equal(pc_pass(&pc, a, pc_now()), -1);
	assert_false(exists("target"));

	/* An early talker's removal takes the link, not its target. */
	plant("target", 0);
	assert_int_equal(pc_forget(&pc, a), 0);
	assert_false(exists("192.0.2.1"));
	assert_true(exists("target"));
	pc_close(&pc);
}

static void
test_a_fifo_or_directory_under_the_name_is_left_alone(void **state)
{
	unsigned char a[16], b[16];
	unsigned long age;
	struct pc pc;
	char p[512];

	(void)state;
	addr("192.0.2.1", a);
	addr("192.0.2.2", b);
	path_of("192.0.2.1", p, sizeof(p));
	assert_int_equal(mkfifo(p, 0600), 0);
	path_of("192.0.2.2", p, sizeof(p));
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), -1);
	assert_int_equal(pc_pass(&pc, a, pc_now()), -1);		/* and does not hang */
	assert_int_equal(pc_lookup(&pc, b, pc_now(), &age), -1);
	assert_int_equal(pc_pass(&pc, b, pc_now()), -1);
	assert_int_equal(pc_forget(&pc, b), -1);
	assert_non_null(strstr(pc.msg, "/192.0.2.2: cannot remove: "));
	pc_close(&pc);
}

static void
test_forget_removes_the_entry_and_a_missing_one_is_fine(void **state)
{
	unsigned char a[16];
	unsigned long age;
	struct pc pc;

	(void)state;
	addr("192.0.2.1", a);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_int_equal(pc_pass(&pc, a, pc_now()), 0);
	assert_int_equal(pc_forget(&pc, a), 0);
	assert_false(exists("192.0.2.1"));
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), 0);
	assert_int_equal(pc_forget(&pc, a), 0);
	pc_close(&pc);
}

static void
test_calls_on_a_closed_cache_fail_with_a_message(void **state)
{
	struct pc pc = { "somewhere", -1, DAY, "" };
	struct pc_counts n;
	unsigned char a[16];
	unsigned long age;

	(void)state;
	addr("192.0.2.1", a);
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), -1);
	assert_string_equal(pc.msg, "somewhere: not open");
	assert_int_equal(pc_pass(&pc, a, pc_now()), -1);
	assert_int_equal(pc_forget(&pc, a), -1);
	pc.msg[0] = '\0';
	assert_int_equal(pc_prune(&pc, pc_now(), &n, NULL, NULL), -1);
	assert_string_equal(pc.msg, "somewhere: not open");
}

/*
 * Many processes passing, and some talking early, at once: every call
 * succeeds, and what is left is the one entry or none, never a stray
 * file.
 */
static void
test_processes_passing_at_once_need_no_lock(void **state)
{
	enum { KIDS = 8, ROUNDS = 300 };
	unsigned char a[16];
	unsigned long age;
	struct stat st;
	struct pc pc;
	pid_t kids[KIDS];
	char p[512];
	int i, status;

	(void)state;
	addr("192.0.2.1", a);
	for (i = 0; i < KIDS; i++) {
		kids[i] = fork();
		assert_true(kids[i] != -1);
		if (kids[i] == 0) {
			int r, bad = 0;

			for (r = 0; r < ROUNDS; r++) {
				struct pc k;
				unsigned long ag;

				if (pc_open(&k, dir, DAY) == -1)
					_exit(1);
				if (pc_lookup(&k, a, pc_now(), &ag) == -1)
					bad++;
				/* One in four is an early talker. */
				if ((i == 0 && r % 4 == 0 ? pc_forget(&k, a) :
				    pc_pass(&k, a, pc_now())) == -1)
					bad++;
				pc_close(&k);
			}
			_exit(bad > 0 ? 3 : 0);
		}
	}
	for (i = 0; i < KIDS; i++) {
		assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_true(cd_count(dir) <= 1);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_int_equal(pc_pass(&pc, a, pc_now()), 0);
	pc_close(&pc);
	assert_int_equal(cd_count(dir), 1);
	path_of("192.0.2.1", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), 1);
	pc_close(&pc);
}

/* A pass just written never reads back as one from the future. */
static void
test_a_fresh_pass_is_never_in_the_future(void **state)
{
	unsigned char a[16];
	unsigned long age;
	struct pc pc;
	int i, bad = 0;

	(void)state;
	addr("192.0.2.1", a);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	for (i = 0; i < 20000; i++) {
		assert_int_equal(pc_pass(&pc, a, pc_now()), 0);
		if (pc_lookup(&pc, a, pc_now(), &age) != 1)
			bad++;
	}
	pc_close(&pc);
	assert_int_equal(bad, 0);
}

/* One IPv6 /64 is one entry, however many addresses it uses. */
static void
test_ipv6_passes_count_for_their_64(void **state)
{
	unsigned char a[16], b[16], other[16];
	unsigned long age;
	char key[PC_KEY_MAX], text[64];
	struct pc pc;
	int i;

	(void)state;
	addr("2001:db8:1:2::1", a);
	addr("2001:db8:1:2:ffff::9", b);
	addr("2001:db8:1:3::1", other);
	pc_key(a, key);
	assert_string_equal(key, "2001:db8:1:2::/64");
	addr("192.0.2.77", other);
	pc_key(other, key);
	assert_string_equal(key, "192.0.2.77");
	addr("2001:db8:1:3::1", other);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_int_equal(pc_pass(&pc, a, pc_now()), 0);
	assert_int_equal(pc_lookup(&pc, b, pc_now(), &age), 1);
	assert_int_equal(pc_lookup(&pc, other, pc_now(), &age), 0);
	for (i = 0; i < 1000; i++) {
		unsigned char x[16];

		snprintf(text, sizeof(text), "2001:db8:1:2:%x::%x", i, i + 1);
		addr(text, x);
		assert_int_equal(pc_pass(&pc, x, pc_now()), 0);
	}
	assert_int_equal(cd_count(dir), 1);
	assert_true(exists("2001:db8:1:2::_64"));
	/* An early talker anywhere in it costs the whole /64 its pass. */
	assert_int_equal(pc_forget(&pc, b), 0);
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), 0);
	pc_close(&pc);
}

/* Entries 1.0 wrote for one IPv6 address count until they expire. */
static void
test_old_per_address_entries_still_count_and_are_pruned(void **state)
{
	unsigned char a[16];
	unsigned long age;
	struct pc_counts n;
	struct pc pc;

	(void)state;
	addr("2001:db8::5", a);
	plant("2001:db8::5", -60);
	plant("2001:db8::6", -2 * DAY);
	plant("2001:db8:9::_64", -2 * DAY);
	plant("2001:db8:9::1_64", -2 * DAY);	/* host bits: not ours */
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), 1);
	assert_int_equal(pc_prune(&pc, pc_now(), &n, NULL, NULL), 0);
	assert_int_equal(n.entries, 3);
	assert_int_equal(n.removed, 2);
	assert_true(exists("2001:db8::5"));
	assert_false(exists("2001:db8::6"));
	assert_false(exists("2001:db8:9::_64"));
	assert_true(exists("2001:db8:9::1_64"));
	/* Forgetting takes the old entry too. */
	assert_int_equal(pc_forget(&pc, a), 0);
	assert_false(exists("2001:db8::5"));
	assert_int_equal(pc_lookup(&pc, a, pc_now(), &age), 0);
	pc_close(&pc);
}

/*
 * A directory of another user's, even one we may write as root, would
 * let that user plant a pass for any address.
 */
static void
test_open_refuses_a_directory_owned_by_another_user(void **state)
{
	struct pc pc;

	(void)state;
	if (geteuid() != 0)
		skip();		/* only root can give it away */
	assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
	assert_int_equal(pc_open(&pc, dir, DAY), -1);
	assert_non_null(strstr(pc.msg, "is owned by uid 65534, not by root "
	    "or this user (uid 0)"));
	assert_int_equal(chown(dir, 0, 0), 0);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	pc_close(&pc);
}

/* ---- -P ---- */

struct collected {
	int	 n;
	char	 text[2048];
};

static void
collect(void *ctx, const char *msg)
{
	struct collected *c = ctx;
	size_t len = strlen(c->text);

	c->n++;
	snprintf(c->text + len, sizeof(c->text) - len, "%s\n", msg);
}

static void
test_prune_removes_expired_and_future_entries_only(void **state)
{
	struct collected got = { 0, "" };
	struct pc_counts n;
	struct pc pc;

	(void)state;
	plant("192.0.2.1", -60);		/* fresh */
	plant("192.0.2.2", -2 * DAY);		/* expired */
	plant("192.0.2.3", DAY);		/* in the future */
	plant("2001:db8::1", -2 * DAY);		/* expired */
	plant("2001:db8::2", -60);		/* fresh */
	plant("2001:DB8::3", -2 * DAY);		/* not a name we write */
	plant("::ffff:192.0.2.4", -2 * DAY);	/* nor this */
	plant("notes.txt", -2 * DAY);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_int_equal(pc_prune(&pc, pc_now(), &n, collect, &got), 0);
	pc_close(&pc);
	assert_int_equal(got.n, 0);
	assert_int_equal(n.entries, 5);
	assert_int_equal(n.removed, 3);
	assert_int_equal(n.failed, 0);
	assert_true(exists("192.0.2.1"));
	assert_false(exists("192.0.2.2"));
	assert_false(exists("192.0.2.3"));
	assert_false(exists("2001:db8::1"));
	assert_true(exists("2001:db8::2"));
	assert_true(exists("2001:DB8::3"));
	assert_true(exists("::ffff:192.0.2.4"));
	assert_true(exists("notes.txt"));
}

static void
test_prune_follows_the_ttl_it_is_given(void **state)
{
	struct collected got = { 0, "" };
	struct pc_counts n;
	struct pc pc;

	(void)state;
	plant("192.0.2.1", -120);
	plant("192.0.2.2", -30);
	assert_int_equal(pc_open(&pc, dir, 60), 0);
	assert_int_equal(pc_prune(&pc, pc_now(), &n, collect, &got), 0);
	pc_close(&pc);
	assert_int_equal(n.removed, 1);
	assert_false(exists("192.0.2.1"));
	assert_true(exists("192.0.2.2"));
}

static void
test_prune_reports_what_it_leaves_and_fails(void **state)
{
	struct collected got = { 0, "" };
	struct pc_counts n;
	struct pc pc;
	char p[512];

	(void)state;
	plant("192.0.2.2", -2 * DAY);
	path_of("192.0.2.9", p, sizeof(p));
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(pc_open(&pc, dir, DAY), 0);
	assert_int_equal(pc_prune(&pc, pc_now(), &n, collect, &got), -1);
	pc_close(&pc);
	assert_int_equal(got.n, 1);
	assert_non_null(strstr(got.text, "/192.0.2.9: is not a regular file; "
	    "left alone\n"));
	assert_int_equal(n.removed, 1);
	assert_true(exists("192.0.2.9"));
	assert_int_equal(access("/etc/passwd", F_OK), 0);
}

static void
test_prune_of_a_closed_cache_reports_it(void **state)
{
	struct collected got = { 0, "" };
	struct pc pc = { "gone", -1, DAY, "" };
	struct pc_counts n;

	(void)state;
	assert_int_equal(pc_prune(&pc, pc_now(), &n, collect, &got), -1);
	assert_string_equal(got.text, "gone: not open\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_ttl_takes_whole_seconds_from_1_to_a_year),
		T(test_ttl_rejects_signs_blanks_units_hex_zero_and_overflow),
		T(test_open_accepts_a_private_directory),
		T(test_open_refuses_missing_file_and_symlinked_directory),
		T(test_open_refuses_a_directory_others_can_write),
		T(test_open_refuses_a_directory_we_cannot_write),
		T(test_a_pass_creates_a_0600_file_named_by_inet_ntop),
		T(test_lookup_hits_within_the_ttl_and_misses_after),
		T(test_a_pass_refreshes_an_old_entry),
		T(test_an_entry_dated_in_the_future_is_a_problem_not_a_hit),
		T(test_a_planted_symlink_is_never_followed),
		T(test_a_fifo_or_directory_under_the_name_is_left_alone),
		T(test_forget_removes_the_entry_and_a_missing_one_is_fine),
		T(test_calls_on_a_closed_cache_fail_with_a_message),
		T(test_processes_passing_at_once_need_no_lock),
		T(test_a_fresh_pass_is_never_in_the_future),
		T(test_ipv6_passes_count_for_their_64),
		T(test_old_per_address_entries_still_count_and_are_pruned),
		T(test_open_refuses_a_directory_owned_by_another_user),
		T(test_prune_removes_expired_and_future_entries_only),
		T(test_prune_follows_the_ttl_it_is_given),
		T(test_prune_reports_what_it_leaves_and_fails),
		T(test_prune_of_a_closed_cache_reports_it),
#undef T
	};
	int rc;

	snprintf(top, sizeof(top), "/tmp/sendwrap-passcache.XXXXXX");
	if (mkdtemp(top) == NULL)
		return 1;
	rc = cmocka_run_group_tests_name("passcache", tests, NULL, NULL);
	cd_remove_tree(top);
	return rc;
}
