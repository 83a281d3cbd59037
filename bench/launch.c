/*
 * launch - the bench's inetd: accept on a loopback port, fork, put the
 * connection on fds 0, 1 and 2, exec the server program.
 *
 * It does what inetd does for a "nowait" TCP service and nothing more
 * (no per-connection logging, no rate limits, no unit files), so that
 * the same small, fixed launcher cost sits under every variant the
 * bench compares.  Like an inetd.conf line, the program's path and its
 * argv (argv[0] included) are given separately, which tcpd needs.
 *
 * With -w it is inetd's "wait" service instead: the listening socket
 * itself goes on fd 0 and the program, which accepts for itself, is
 * exec'd in launch's place, so its pid is the one launch was started
 * with.  inetd would put the socket on fds 1 and 2 as well and fork
 * first; the bench keeps its own fds 1 and 2 (the program's log) and
 * has nothing to do while the program runs.
 *
 * usage: launch [-w] [-b backlog] [-o portfile] [-p port] path argv0 [arg ...]
 * The port actually bound (port 0: one the kernel picks) is written to
 * portfile once the socket listens.  SIGTERM stops it; children are
 * left alone, their connections are the bench's to close.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * SIGTERM ends it at once: a flag checked around accept() would miss a
 * signal that comes just before the call, and then accept() would wait
 * for a connection that never comes.
 */
static void
on_term(int sig)
{
	(void)sig;
	_exit(0);
}

/* Reap exited children so that thousands of them leave no zombies. */
static void
on_chld(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static long
number(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max) {
		fprintf(stderr, "launch: bad number \"%s\"\n", s);
		exit(64);
	}
	return v;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	struct sigaction sa;
	socklen_t len;
	const char *portfile = NULL;
	long port = 0, backlog = 4096;
	int ch, ls, one = 1, wait_mode = 0;

	while ((ch = getopt(argc, argv, "+b:o:p:w")) != -1) {
		switch (ch) {
		case 'b': backlog = number(optarg, 65535); break;
		case 'o': portfile = optarg; break;
		case 'p': port = number(optarg, 65535); break;
		case 'w': wait_mode = 1; break;
		default:
			fprintf(stderr, "usage: launch [-w] [-b backlog] "
			    "[-o portfile] [-p port] path argv0 [arg ...]\n");
			return 64;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "launch: need the program's path and argv0\n");
		return 64;
	}

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_chld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_term;
	sa.sa_flags = 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if ((ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		perror("launch: socket");
		return 71;
	}
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(ls, (int)backlog) == -1) {
		perror("launch: bind/listen");
		return 71;
	}
	len = sizeof(sin);
	getsockname(ls, (struct sockaddr *)&sin, &len);
	if (portfile != NULL) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((f = fopen(tmp, "we")) == NULL) {
			perror("launch: portfile");
			return 71;
		}
		fprintf(f, "%u\n", ntohs(sin.sin_port));
		if (fclose(f) != 0 || rename(tmp, portfile) == -1) {
			perror("launch: portfile");
			return 71;
		}
	}

	if (wait_mode) {
		/* dup2 leaves fd 0 without FD_CLOEXEC: it survives the exec. */
		if (ls != 0 && (dup2(ls, 0) == -1 || close(ls) == -1)) {
			perror("launch: dup2");
			return 71;
		}
		execv(argv[optind], argv + optind + 1);
		perror("launch: execv");
		return 71;
	}

	for (;;) {
		pid_t pid;
		int s = accept(ls, NULL, NULL);

		if (s == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				usleep(10000);
				continue;
			}
			perror("launch: accept");
			return 71;
		}
		pid = fork();
		if (pid == 0) {
			sigset_t none;

			/* As inetd: the server starts with default signals. */
			signal(SIGCHLD, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			if (dup2(s, 0) == -1 || dup2(s, 1) == -1 ||
			    dup2(s, 2) == -1)
				_exit(71);
			if (s > 2)
				close(s);
			execv(argv[optind], argv + optind + 1);
			_exit(71);
		}
		if (pid == -1) {
			perror("launch: fork");
			usleep(10000);
		}
		close(s);
	}
	return 0;
}
