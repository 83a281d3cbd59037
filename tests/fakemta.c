/*
 * fakemta - a tiny SMTP-ish program for sendwrap's tests.
 *
 * It greets with "220 fakemta fds=LIST" where LIST is every descriptor it
 * inherited (from /proc/self/fd), so a test sees both that the MTA ran
 * and that nothing but 0, 1 and 2 leaked into it.  Each line it then
 * reads is echoed as "250 got LINE", until QUIT or end of input.  If
 * FAKEMTA_MARK names a file, a line is appended to it per run, for runs
 * whose fd 1 is not the test's:
 *
 *   ran pid=N args=N fds=LIST blocked=HEX ignored=HEX nonblock=0|1
 *       nofile=N remote=ADDR:PORT listen=0|1
 *
 * blocked and ignored are the signal mask and the ignored signals as
 * bit sets (bit N-1 for signal N), nonblock is O_NONBLOCK on fd 0,
 * nofile the soft descriptor limit, remote REMOTE_ADDR:REMOTE_PORT
 * ("-" when unset), listen whether any LISTEN_* variable was given: what
 * the program inherited from sendwrap, as a launcher would give it.
 */
#include <sys/resource.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
say(const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t n = write(1, s, len);

		if (n <= 0)
			exit(1);
		s += n;
		len -= (size_t)n;
	}
}

int
main(int argc, char **argv)
{
	char fds[256] = "", line[1024], out[1100];
	const char *mark = getenv("FAKEMTA_MARK");
	struct dirent *d;
	size_t len = 0;
	DIR *dir;
	char c;

	if ((dir = opendir("/proc/self/fd")) != NULL) {
		while ((d = readdir(dir)) != NULL) {
			size_t used = strlen(fds), n = strlen(d->d_name);

			if (d->d_name[0] == '.' ||
			    strtol(d->d_name, NULL, 10) == dirfd(dir))
				continue;
			if (used + n + 2 < sizeof(fds)) {
				if (used > 0)
					fds[used++] = ',';
				memcpy(fds + used, d->d_name, n + 1);
			}
		}
		closedir(dir);
	}
	if (mark != NULL) {
		int fd = open(mark, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		unsigned long long blocked = 0, ignored = 0;
		const char *ra = getenv("REMOTE_ADDR"), *rp = getenv("REMOTE_PORT");
		struct rlimit rl = { 0, 0 };
		sigset_t mask;
		int sig, fl = fcntl(0, F_GETFL);

		sigprocmask(SIG_SETMASK, NULL, &mask);
		for (sig = 1; sig < 64; sig++) {
			struct sigaction sa;

			if (sigismember(&mask, sig) == 1)
				blocked |= 1ull << (sig - 1);
			if (sigaction(sig, NULL, &sa) == 0 &&
			    sa.sa_handler == SIG_IGN)
				ignored |= 1ull << (sig - 1);
		}
		getrlimit(RLIMIT_NOFILE, &rl);
		if (fd != -1) {
			dprintf(fd, "ran pid=%ld args=%d fds=%s blocked=%llx "
			    "ignored=%llx nonblock=%d nofile=%lu remote=%s:%s "
			    "listen=%d\n", (long)getpid(), argc - 1, fds,
			    blocked, ignored, fl != -1 && (fl & O_NONBLOCK),
			    (unsigned long)rl.rlim_cur, ra ? ra : "-",
			    rp ? rp : "-", getenv("LISTEN_FDS") != NULL ||
			    getenv("LISTEN_PID") != NULL ||
			    getenv("LISTEN_FDNAMES") != NULL);
			close(fd);
		}
	}
	snprintf(out, sizeof(out), "220 fakemta fds=%s args=%d%s%s\r\n", fds,
	    argc - 1, argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
	say(out);
	while (read(0, &c, 1) == 1) {
		if (c != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = c;
			continue;
		}
		if (len > 0 && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		len = 0;
		if (strncmp(line, "QUIT", 4) == 0) {
			say("221 fakemta bye\r\n");
			return 0;
		}
		snprintf(out, sizeof(out), "250 got %s\r\n", line);
		say(out);
	}
	return 0;
}
