/*
 * load - the bench's client and measuring tool.
 *
 *   load latency [-n rounds] [-w warmup] [-s srcip] label=port ...
 *	Sequential connections, round-robin over the ports, so that drift
 *	in the machine's load falls on every variant alike.  Each one is
 *	timed from just before connect() to the first byte received; the
 *	line must be the fake MTA's "220 fakemta" greeting.  Then QUIT and
 *	wait for the close, so the MTA has exited before the next connect.
 *	Prints "label n= median_us= p95_us= mean_us= min_us= max_us=
 *	added_us=", the last the median per-round difference from the
 *	first label's connection.
 *
 *   load hold -p port -n peers -d delay -P launcher_pid -c comm
 *	      [-r connects_per_s] [-t timeout_s]
 *	Opens peers silent connections (source addresses spread over
 *	127.0.0.2-251 so ephemeral ports never run out), waits until the
 *	launcher has that many children named comm (all waiting), then
 *	measures their memory (smaps_rollup) and the drop in MemAvailable.
 *	Then it waits for every greeting: each must be "220 fakemta" and
 *	come no sooner than the delay after connect.  Prints key=value.
 *
 *   load spawn [-n runs] [-w warmup] [-x status] -- program [arg ...]
 *	      [:: program [arg ...]] ...
 *	Runs each program (output to /dev/null), round-robin, and prints
 *	"spawnN" lines of figures for one run's wall time, as latency does.
 *
 *   load gen -n entries [-s seed] [-p peer]
 *	Writes an allowlist of random IPv4 and IPv6 networks (a quarter
 *	with a delay), then "peer/32 0", so that a lookup for the peer
 *	must read the whole list to find its rule on the last line.
 *
 *   load freeport
 *	Prints a loopback port that is free now.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS	16
#define GREETING	"220 fakemta"
#define IO_TIMEOUT_MS	10000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "load: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static long
number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		die("bad number \"%s\" (%ld to %ld)", s, min, max);
	return v;
}

static double
seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0 && v < 1e6))
		die("bad number of seconds \"%s\"", s);
	return v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values. */
static double
pct(const double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/*
 * One line of figures for a series.  With a reference series taken in
 * the same rounds, "added_us" is the median of the per-round
 * differences: a burst of load from elsewhere on the machine falls on
 * both samples of a round, so it cancels better than in a difference
 * of two medians.
 */
static void
stats(const char *label, const double *v, const double *ref, size_t n)
{
	double sum = 0, *s, *d;
	size_t i;

	if ((s = calloc(n ? n : 1, sizeof(*s))) == NULL ||
	    (d = calloc(n ? n : 1, sizeof(*d))) == NULL)
		die("out of memory");
	for (i = 0; i < n; i++) {
		s[i] = v[i];
		sum += v[i];
		d[i] = ref != NULL ? v[i] - ref[i] : 0;
	}
	qsort(s, n, sizeof(*s), cmp_double);
	qsort(d, n, sizeof(*d), cmp_double);
	printf("%s n=%zu median_us=%.1f p95_us=%.1f mean_us=%.1f min_us=%.1f "
	    "max_us=%.1f added_us=%.1f\n", label, n, pct(s, n, 50) * 1e6,
	    pct(s, n, 95) * 1e6, n ? sum / (double)n * 1e6 : 0,
	    n ? s[0] * 1e6 : 0, n ? s[n - 1] * 1e6 : 0, pct(d, n, 50) * 1e6);
	free(s);
	free(d);
}

static void
loopback(struct sockaddr_in *sin, const char *ip, unsigned short port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		die("bad address %s", ip);
}

/* Wait for fd to be readable; -1 on timeout. */
static int
wait_readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r == -1 && errno == EINTR);
	return r == 1 ? 0 : -1;
}

/* ---- latency ---- */

/*
 * One pass-through connection: seconds from connect() to the first
 * byte of the greeting, or a negative number after saying why.
 */
static double
one_connection(const char *label, const char *src, unsigned short port)
{
	struct sockaddr_in from, to;
	char line[512] = "";
	size_t len = 0;
	double t0, t1 = 0;
	ssize_t n;
	int s, one = 1;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	loopback(&from, src, 0);
	loopback(&to, "127.0.0.1", port);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&from, sizeof(from)) == -1)
		die("bind %s: %s", src, strerror(errno));
	t0 = now();
	if (connect(s, (struct sockaddr *)&to, sizeof(to)) == -1)
		die("%s: connect: %s", label, strerror(errno));
	/* The greeting line, its first byte timed. */
	while (len == 0 || memchr(line, '\n', len) == NULL) {
		if (wait_readable(s, IO_TIMEOUT_MS) == -1)
			die("%s: no greeting in %d ms", label, IO_TIMEOUT_MS);
		n = recv(s, line + len, sizeof(line) - 1 - len, 0);
		if (n <= 0)
			die("%s: connection closed before the greeting (%s)",
			    label, n == 0 ? "eof" : strerror(errno));
		if (len == 0)
			t1 = now();
		len += (size_t)n;
		if (len >= sizeof(line) - 1)
			break;
	}
	line[len] = '\0';
	if (strncmp(line, GREETING, strlen(GREETING)) != 0)
		die("%s: greeting is not the fake MTA's: %.60s", label, line);
	/* QUIT and read to the close: the MTA is gone before the next. */
	if (send(s, "QUIT\r\n", 6, MSG_NOSIGNAL) != 6)
		die("%s: send QUIT: %s", label, strerror(errno));
	for (;;) {
		if (wait_readable(s, IO_TIMEOUT_MS) == -1)
			die("%s: no close after QUIT", label);
		n = recv(s, line, sizeof(line), 0);
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			break;
		if (n == -1 && errno != EINTR)
			die("%s: recv: %s", label, strerror(errno));
	}
	close(s);
	return t1 - t0;
}

static int
cmd_latency(int argc, char **argv)
{
	const char *label[MAX_PORTS], *src = "127.0.0.1";
	unsigned short port[MAX_PORTS];
	double *v[MAX_PORTS];
	long rounds = 300, warm = 20, r;
	int ch, np = 0, i;

	while ((ch = getopt(argc, argv, "n:s:w:")) != -1) {
		switch (ch) {
		case 'n': rounds = number(optarg, 1, 1000000); break;
		case 's': src = optarg; break;
		case 'w': warm = number(optarg, 0, 1000000); break;
		default: die("usage: load latency [-n rounds] [-w warmup] "
		    "[-s srcip] label=port ...");
		}
	}
	for (i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq == NULL || np == MAX_PORTS)
			die("want label=port, at most %d", MAX_PORTS);
		*eq = '\0';
		label[np] = argv[i];
		port[np] = (unsigned short)number(eq + 1, 1, 65535);
		if ((v[np] = calloc((size_t)rounds, sizeof(double))) == NULL)
			die("out of memory");
		np++;
	}
	if (np == 0)
		die("no ports");
	for (r = 0; r < warm; r++)
		for (i = 0; i < np; i++)
			(void)one_connection(label[i], src, port[i]);
	for (r = 0; r < rounds; r++)
		for (i = 0; i < np; i++)
			v[i][r] = one_connection(label[i], src, port[i]);
	for (i = 0; i < np; i++)
		stats(label[i], v[i], v[0], (size_t)rounds);
	for (i = 0; i < np; i++)
		free(v[i]);
	return 0;
}

/* ---- memory ---- */

/* A "Key:   N kB" field of a /proc file, in KiB; -1 if absent. */
static long
proc_field(const char *path, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

struct smaps {
	long	 rss, pss, shared_clean, private_clean, private_dirty;
};

static int
read_smaps(pid_t pid, struct smaps *m)
{
	char path[64], line[256];
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');
		long v;

		if (colon == NULL)
			continue;
		*colon = '\0';
		v = strtol(colon + 1, NULL, 10);
		if (strcmp(line, "Rss") == 0) m->rss = v;
		else if (strcmp(line, "Pss") == 0) m->pss = v;
		else if (strcmp(line, "Shared_Clean") == 0) m->shared_clean = v;
		else if (strcmp(line, "Private_Clean") == 0) m->private_clean = v;
		else if (strcmp(line, "Private_Dirty") == 0) m->private_dirty = v;
	}
	fclose(f);
	return m->rss > 0 ? 0 : -1;
}

/*
 * The children of ppid whose command name is comm, with the state
 * letter of each.  Returns how many; pids (if not NULL) gets them.
 */
static size_t
children(pid_t ppid, const char *comm, pid_t *pids, size_t max,
    size_t *sleeping)
{
	struct dirent *d;
	size_t n = 0;
	DIR *dir;

	*sleeping = 0;
	if ((dir = opendir("/proc")) == NULL)
		die("/proc: %s", strerror(errno));
	while ((d = readdir(dir)) != NULL) {
		char path[300], buf[512], *rp, *end, state;
		long pp;
		ssize_t r;
		int fd;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = '\0';
		/* "pid (comm) state ppid ..."; comm may hold spaces. */
		if ((rp = strrchr(buf, ')')) == NULL || rp[1] != ' ' ||
		    rp[2] == '\0' || rp[3] != ' ')
			continue;
		state = rp[2];
		errno = 0;
		pp = strtol(rp + 4, &end, 10);
		if (errno != 0 || end == rp + 4 || pp != (long)ppid)
			continue;
		*rp = '\0';
		if (strchr(buf, '(') == NULL ||
		    strcmp(strchr(buf, '(') + 1, comm) != 0)
			continue;
		if (pids != NULL && n < max)
			pids[n] = (pid_t)strtol(d->d_name, NULL, 10);
		n++;
		if (state == 'S')
			(*sleeping)++;
	}
	closedir(dir);
	return n;
}

/* ---- hold ---- */

struct conn {
	int	 fd;
	double	 t_connect, t_greet;
	int	 state;			/* 0 waiting, 1 greeted, 2 failed */
	size_t	 len;
	char	 buf[64];
};

static void
raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want)
		rl.rlim_max = want;	/* root may raise it, in this process */
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("cannot raise RLIMIT_NOFILE to %lu: %s",
		    (unsigned long)want, strerror(errno));
}

/* Read what a held connection got; the greeting line ends it. */
static void
conn_input(struct conn *c, double delay, long *early)
{
	ssize_t n;

	for (;;) {
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
		    MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			c->state = 2;
			return;
		}
		if (c->len == 0)
			c->t_greet = now();
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		if (memchr(c->buf, '\n', c->len) != NULL ||
		    c->len >= sizeof(c->buf) - 1)
			break;
	}
	if (strncmp(c->buf, GREETING, strlen(GREETING)) != 0) {
		c->state = 2;
		return;
	}
	c->state = 1;
	if (c->t_greet - c->t_connect < delay)
		(*early)++;
}

static int
cmd_hold(int argc, char **argv)
{
	const char *comm = "sendwrap";
	double delay = -1, timeout = 120, rate = 1000, t_start, t_all;
	long peers = 0, port = 0, launcher = 0, early = 0, greeted = 0;
	long failed = 0, memavail0, memavail1, left;
	struct conn *c;
	struct epoll_event ev, evs[256];
	pid_t *pids;
	size_t nch = 0, sleeping = 0, i;
	double *greet;
	int ch, ep;

	while ((ch = getopt(argc, argv, "c:d:n:P:p:r:t:")) != -1) {
		switch (ch) {
		case 'c': comm = optarg; break;
		case 'd': delay = seconds(optarg); break;
		case 'n': peers = number(optarg, 1, 1000000); break;
		case 'P': launcher = number(optarg, 1, 1L << 30); break;
		case 'p': port = number(optarg, 1, 65535); break;
		case 'r': rate = seconds(optarg); break;
		case 't': timeout = seconds(optarg); break;
		default: goto usage;
		}
	}
	if (peers == 0 || port == 0 || launcher == 0 || delay < 0 || rate <= 0)
		goto usage;
	raise_nofile((rlim_t)peers + 64);
	if ((c = calloc((size_t)peers, sizeof(*c))) == NULL ||
	    (pids = calloc((size_t)peers, sizeof(*pids))) == NULL ||
	    (greet = calloc((size_t)peers, sizeof(*greet))) == NULL)
		die("out of memory");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll: %s", strerror(errno));

	memavail0 = proc_field("/proc/meminfo", "MemAvailable");
	t_start = now();
	for (i = 0; i < (size_t)peers; i++) {
		struct sockaddr_in from, to;
		char src[32];
		int one = 1;
		double due = t_start + (double)i / rate, w;

		if ((w = due - now()) > 0)
			usleep((useconds_t)(w * 1e6));
		snprintf(src, sizeof(src), "127.0.0.%zu", 2 + i % 250);
		loopback(&from, src, 0);
		loopback(&to, "127.0.0.1", (unsigned short)port);
		c[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c[i].fd == -1)
			die("socket %zu: %s", i, strerror(errno));
		setsockopt(c[i].fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(c[i].fd, (struct sockaddr *)&from, sizeof(from)) == -1)
			die("bind %s: %s", src, strerror(errno));
		c[i].t_connect = now();
		if (connect(c[i].fd, (struct sockaddr *)&to, sizeof(to)) == -1)
			die("connect %zu: %s", i, strerror(errno));
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.u64 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev) == -1)
			die("epoll_ctl: %s", strerror(errno));
	}
	t_all = now();

	/* Every peer held: wait until each has its own waiting process. */
	while (now() - t_start < delay) {
		nch = children((pid_t)launcher, comm, NULL, 0, &sleeping);
		if (nch >= (size_t)peers && sleeping >= (size_t)peers)
			break;
		usleep(100000);
	}
	usleep(200000);
	nch = children((pid_t)launcher, comm, pids, (size_t)peers, &sleeping);
	memavail1 = proc_field("/proc/meminfo", "MemAvailable");
	{
		long sum_priv = 0, max_priv = 0, min_priv = -1, sum_rss = 0;
		long sum_pss = 0, sum_pc = 0, sum_pd = 0;
		double t_meas = now();
		size_t nm = 0;
		double *pv = calloc(nch ? nch : 1, sizeof(double));

		if (pv == NULL)
			die("out of memory");
		for (i = 0; i < nch && i < (size_t)peers; i++) {
			struct smaps m;
			long priv;

			if (read_smaps(pids[i], &m) == -1)
				continue;
			priv = m.private_clean + m.private_dirty;
			pv[nm++] = (double)priv;
			sum_priv += priv;
			sum_pc += m.private_clean;
			sum_pd += m.private_dirty;
			sum_rss += m.rss;
			sum_pss += m.pss;
			if (priv > max_priv)
				max_priv = priv;
			if (min_priv == -1 || priv < min_priv)
				min_priv = priv;
		}
		qsort(pv, nm, sizeof(*pv), cmp_double);
		printf("peers=%ld connect_s=%.2f waiting=%zu sleeping=%zu "
		    "measured=%zu at_s=%.2f\n", peers, t_all - t_start, nch,
		    sleeping, nm, t_meas - t_start);
		if (nm > 0)
			printf("private_kib_mean=%.1f private_kib_median=%.0f "
			    "private_kib_min=%ld private_kib_max=%ld "
			    "private_clean_kib_mean=%.1f "
			    "private_dirty_kib_mean=%.1f rss_kib_mean=%.1f "
			    "pss_kib_mean=%.1f private_mib_total=%.1f\n",
			    (double)sum_priv / (double)nm, pct(pv, nm, 50),
			    min_priv, max_priv, (double)sum_pc / (double)nm,
			    (double)sum_pd / (double)nm,
			    (double)sum_rss / (double)nm,
			    (double)sum_pss / (double)nm,
			    (double)sum_priv / 1024.0);
		printf("memavailable_drop_mib=%.1f memavailable_drop_kib_per_peer"
		    "=%.1f\n", (double)(memavail0 - memavail1) / 1024.0,
		    (double)(memavail0 - memavail1) / (double)peers);
		free(pv);
	}
	fflush(stdout);

	/* Now every greeting, each no sooner than the delay. */
	left = peers;
	while (left > 0 && now() - t_start < delay + timeout) {
		int n = epoll_wait(ep, evs, 256, 1000), k;

		for (k = 0; k < n; k++) {
			struct conn *cc = &c[evs[k].data.u64];

			if (cc->state != 0)
				continue;
			conn_input(cc, delay, &early);
			if (cc->state != 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, cc->fd, NULL);
				left--;
				if (cc->state == 1)
					greet[greeted++] = cc->t_greet -
					    cc->t_connect;
				else
					failed++;
			}
		}
	}
	qsort(greet, (size_t)greeted, sizeof(*greet), cmp_double);
	printf("greeted=%ld failed=%ld early=%ld unanswered=%ld "
	    "greet_s_min=%.3f greet_s_median=%.3f greet_s_max=%.3f "
	    "last_greeting_at_s=%.2f\n", greeted, failed, early, left,
	    greeted ? greet[0] : 0, pct(greet, (size_t)greeted, 50),
	    greeted ? greet[greeted - 1] : 0, now() - t_start);
	for (i = 0; i < (size_t)peers; i++)
		close(c[i].fd);
	free(c);
	free(pids);
	free(greet);
	/* Let the MTAs see the close and exit before the next test. */
	for (i = 0; i < 600; i++) {
		size_t s2;

		if (children((pid_t)launcher, "fakemta", NULL, 0, &s2) == 0 &&
		    children((pid_t)launcher, comm, NULL, 0, &s2) == 0)
			break;
		usleep(100000);
	}
	fflush(stdout);
	return greeted == peers && early == 0 ? 0 : 1;
usage:
	die("usage: load hold -p port -n peers -d delay -P launcher_pid "
	    "[-c comm] [-r connects_per_s] [-t timeout_s]");
}

/* ---- spawn ---- */

/* Run one command to its exit, output to /dev/null; wall seconds. */
static double
run_once(char **cmd, long want)
{
	double t0;
	int st;
	pid_t pid;

	if (cmd[0] == NULL)
		die("empty command");
	t0 = now();
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null == -1)
			_exit(126);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(cmd[0], cmd);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1)
		die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != want)
		die("%s: exit status %d, wanted %ld", cmd[0],
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1, want);
	return now() - t0;
}

static int
cmd_spawn(int argc, char **argv)
{
	char **cmd[MAX_PORTS];
	double *v[MAX_PORTS];
	long runs = 50, warm = 3, want = 0, r;
	int ch, nc = 0, i;

	while ((ch = getopt(argc, argv, "+n:w:x:")) != -1) {
		switch (ch) {
		case 'n': runs = number(optarg, 1, 1000000); break;
		case 'w': warm = number(optarg, 0, 1000000); break;
		case 'x': want = number(optarg, 0, 255); break;
		default: die("usage: load spawn [-n runs] [-w warmup] "
		    "[-x status] -- program [arg ...] [:: program ...]");
		}
	}
	/* Commands separated by "::", taken round-robin like latency. */
	for (i = optind; i < argc; i++) {
		if (i == optind || argv[i - 1] == NULL) {
			if (nc == MAX_PORTS)
				die("at most %d commands", MAX_PORTS);
			if (strcmp(argv[i], "::") == 0)
				die("empty command");
			cmd[nc] = argv + i;
			if ((v[nc] = calloc((size_t)runs, sizeof(double))) ==
			    NULL)
				die("out of memory");
			nc++;
		}
		if (strcmp(argv[i], "::") == 0)
			argv[i] = NULL;	/* ends the command before it */
	}
	if (nc == 0)
		die("no program");
	for (r = -warm; r < runs; r++)
		for (i = 0; i < nc; i++) {
			double t = run_once(cmd[i], want);

			if (r >= 0)
				v[i][r] = t;
		}
	for (i = 0; i < nc; i++) {
		char label[32];

		snprintf(label, sizeof(label), "spawn%d", i);
		stats(label, v[i], v[0], (size_t)runs);
	}
	for (i = 0; i < nc; i++)
		free(v[i]);
	return 0;
}

/* ---- gen ---- */

static uint64_t rng;

static uint64_t
next(void)
{
	/* xorshift64*: reproducible lists from a seed. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static void
mask(unsigned char *a, unsigned bytes, unsigned plen)
{
	unsigned i;

	for (i = 0; i < bytes; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		a[i] &= plen > 8 * i ? (unsigned char)(0xff00u >> (plen - 8 * i))
		    : 0;
	}
}

static int
cmd_gen(int argc, char **argv)
{
	const char *peer = "127.0.0.1";
	long n = 0, i;
	int ch;

	rng = 88172645463325252ULL;
	while ((ch = getopt(argc, argv, "n:p:s:")) != -1) {
		switch (ch) {
		case 'n': n = number(optarg, 0, 100000000); break;
		case 'p': peer = optarg; break;
		case 's': rng ^= (uint64_t)number(optarg, 0, 1L << 62); break;
		default: die("usage: load gen -n entries [-s seed] [-p peer]");
		}
	}
	printf("# %ld random networks, then the bench peer\n", n);
	for (i = 0; i < n; i++) {
		unsigned char a[16];
		char text[INET6_ADDRSTRLEN];
		uint64_t x = next(), y = next();
		unsigned plen;

		memcpy(a, &x, 8);
		memcpy(a + 8, &y, 8);
		if (i % 2 == 0) {
			/* IPv4 unicast, never 0/8, 127/8 or multicast up. */
			a[0] = (unsigned char)(1 + a[0] % 222);
			if (a[0] == 127)
				a[0] = 128;
			plen = 8 + (unsigned)(next() % 25);
			mask(a, 4, plen);
			inet_ntop(AF_INET, a, text, sizeof(text));
		} else {
			/* IPv6 global unicast, 2000::/3. */
			a[0] = (unsigned char)(0x20 | (a[0] & 0x1f));
			plen = 16 + (unsigned)(next() % 113);
			mask(a, 16, plen);
			inet_ntop(AF_INET6, a, text, sizeof(text));
		}
		if (i % 4 == 3)
			printf("%s/%u %u\n", text, plen, (unsigned)(next() % 60));
		else
			printf("%s/%u\n", text, plen);
	}
	printf("%s/32 0\n", peer);
	return fflush(stdout) == 0 ? 0 : 1;
}

/*
 * A loopback port free right now, for a launcher that needs one named
 * (systemd-socket-activate); another program could take it first, and
 * then that launcher fails loudly.
 */
static int
cmd_freeport(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	loopback(&sin, "127.0.0.1", 0);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1)
		die("bind: %s", strerror(errno));
	printf("%u\n", ntohs(sin.sin_port));
	close(s);
	return 0;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		die("usage: load latency|hold|spawn|gen|freeport ...");
	optind = 1;
	if (strcmp(argv[1], "latency") == 0)
		return cmd_latency(argc - 1, argv + 1);
	if (strcmp(argv[1], "hold") == 0)
		return cmd_hold(argc - 1, argv + 1);
	if (strcmp(argv[1], "spawn") == 0)
		return cmd_spawn(argc - 1, argv + 1);
	if (strcmp(argv[1], "gen") == 0)
		return cmd_gen(argc - 1, argv + 1);
	if (strcmp(argv[1], "freeport") == 0)
		return cmd_freeport();
	die("unknown command %s", argv[1]);
}
