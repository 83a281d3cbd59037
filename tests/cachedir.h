/*
 * cachedir.h - a pass cache directory by hand, for the tests of -c:
 * plant an entry with a chosen age, count entries, remove a tree.
 * Header-only, every function static, like harness.h; the including
 * file brings cmocka.
 */
#ifndef SENDWRAP_CACHEDIR_H
#define SENDWRAP_CACHEDIR_H

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Create dir/name as a pass would, dated now + offset seconds.  Returns
 * the "now" used, for a lookup that must not see the clock tick.
 */
static time_t
cd_plant(const char *dir, const char *name, long offset)
{
	struct timespec ts[2];
	time_t now;

	/* The clock sendwrap dates its entries by, not time(NULL). */
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	now = ts[0].tv_sec;
	char p[1024];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd != -1);
	close(fd);
	ts[0].tv_sec = ts[1].tv_sec = now + offset;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	return now;
}

/* The number of entries in dir, "." and ".." aside. */
static int
cd_count(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* rm -rf, for a test's own temporary directory. */
static void
cd_remove_tree(const char *path)
{
	struct dirent *e;
	char p[1024];
	DIR *d;

	chmod(path, 0700);
	if ((d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			struct stat st;

			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				cd_remove_tree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

#endif
