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
 *   load hold -p port -n peers -d delay [-r per_s] [-j workers]
 *	      [-a first_source] [-k probe_every_s [-D probe_delay]
 *	      [-b probe_first_source] [-K probe_until_s]] [-t timeout_s]
 *	      [-P launcher_pid [-c comm] | -S server_pid] [-T cpu_pid]
 *	      [-M file [-m pattern]] [-v]
 *	Opens peers silent connections at per_s a second, shared among
 *	workers processes (each has the descriptor limit, raised to the
 *	hard one), each from its own source address counted up from
 *	first_source (default 127.16.0.0) so that ephemeral ports never
 *	run out; with -k, a polite probe every probe_every_s seconds
 *	beside them until the last peer is answered (or probe_until_s
 *	after the first), from probe_first_source up if given, and with
 *	its own delay if the server gives it one (-D).  Each waits for the
 *	greeting ("220 fakemta", after any "220-" teaser lines), QUITs
 *	and reads to the close; no greeting within delay + timeout_s
 *	(default 60) is unanswered.  Meanwhile, every 0.2 s, it counts
 *	what the server holds: -P, the launcher's children named comm
 *	(default sendwrap: one process per waiting peer), whose memory
 *	is read once, at the peak; -S, one process holding every peer,
 *	its descriptors above idle (at most the peers connected and
 *	unanswered) and its private memory (smaps_rollup).  At the peak
 *	it also reads MemAvailable.  -T: CPU seconds of cpu_pid and every
 *	process below it, with what each reaped.  -M: lines of file (with
 *	pattern) added meanwhile, such as the fake MTA's mark.  -v: each
 *	sample on stderr.  Prints key=value lines: the peak, memory per
 *	waiting peer, greetings (none may come before the delay), the
 *	lateness of peers and probes (ms after the delay); exits 1 unless
 *	every peer was greeted, none early.
 *
 *   load early -p port -n peers -d delay [options as hold]
 *	The same, but each peer sends EHLO as soon as it is connected and
 *	reads the answer: a close or a reply other than the greeting is
 *	turned away, the greeting reached the MTA, nothing within
 *	timeout_s (default 10) is unanswered.  The probes stay polite.
 *	Prints how many of each, how fast they were turned away, the
 *	probes' lateness, and with -T the CPU seconds per 1,000 peers.
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
#include <sys/mman.h>
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
 * /proc/PID/stat (pid as its /proc entry) cut at the end of the command
 * name, which may hold spaces and parentheses: returns the fields after
 * it (" S ppid ..."), with the name in buf after its "(", or NULL.
 */
static char *
proc_stat(const char *pid, char *buf, size_t size)
{
	char path[300], *rp;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	r = read(fd, buf, size - 1);
	close(fd);
	if (r <= 0)
		return NULL;
	buf[r] = '\0';
	if ((rp = strrchr(buf, ')')) == NULL || rp[1] != ' ' || rp[2] == '\0' ||
	    strchr(buf, '(') == NULL)
		return NULL;
	*rp = '\0';
	return rp + 1;
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
		char buf[512], *rest, *end, state;
		long pp;

		if (!isdigit((unsigned char)d->d_name[0]) ||
		    (rest = proc_stat(d->d_name, buf, sizeof(buf))) == NULL ||
		    rest[2] != ' ')
			continue;
		/* " S ppid ...": the state letter, then the parent. */
		state = rest[1];
		errno = 0;
		pp = strtol(rest + 3, &end, 10);
		if (errno != 0 || end == rest + 3 || pp != (long)ppid)
			continue;
		if (strcmp(strchr(buf, '(') + 1, comm) != 0)
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

/* ---- the server's side: what it holds and what it costs ---- */

/* Descriptors pid has open now; -1 once it is gone. */
static long
fd_count(pid_t pid)
{
	char path[64];
	struct dirent *d;
	long n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/*
 * CPU seconds, user and system, of root and of every process below it,
 * each with what it has reaped (cutime, cstime): a per-connection
 * server's short-lived processes count once their launcher has reaped
 * them, a listener's sessions once the listener has.
 */
static double
cpu_tree(pid_t root)
{
	static unsigned char *mark;
	static long pidmax;
	struct proc { long pid, ppid; unsigned long long ticks; } *p = NULL;
	size_t n = 0, cap = 0, i;
	unsigned long long sum = 0;
	struct dirent *d;
	int changed;
	DIR *dir;

	if (mark == NULL) {
		char line[32] = "";
		FILE *f = fopen("/proc/sys/kernel/pid_max", "re");

		if (f == NULL || fgets(line, sizeof(line), f) == NULL)
			die("/proc/sys/kernel/pid_max: cannot read it");
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		pidmax = number(line, 1, 1L << 30);
		if ((mark = calloc((size_t)pidmax + 1, 1)) == NULL)
			die("out of memory");
	}
	if ((dir = opendir("/proc")) == NULL)
		die("/proc: %s", strerror(errno));
	while ((d = readdir(dir)) != NULL) {
		char buf[1024], *rest, *end;
		unsigned long long f[18];	/* fields 1-17, by number */
		int k;

		if (!isdigit((unsigned char)d->d_name[0]) ||
		    (rest = proc_stat(d->d_name, buf, sizeof(buf))) == NULL)
			continue;
		/*
		 * Field 3 is the state letter, 4 the parent, 14-17 utime,
		 * stime, cutime and cstime.
		 */
		end = rest + 2;
		for (k = 4; k <= 17; k++) {
			char *num = end;

			errno = 0;
			f[k] = strtoull(num, &end, 10);
			if (errno != 0 || end == num)
				break;
		}
		if (k <= 17)
			continue;
		if (n == cap) {
			struct proc *np;

			cap = cap ? 2 * cap : 1024;
			if ((np = realloc(p, cap * sizeof(*p))) == NULL)
				die("out of memory");
			p = np;
		}
		p[n].pid = strtol(d->d_name, NULL, 10);
		p[n].ppid = (long)f[4];
		p[n].ticks = f[14] + f[15] + f[16] + f[17];
		if (p[n].pid > 0 && p[n].pid <= pidmax)
			n++;
	}
	closedir(dir);
	/* The tree: marked parents mark their children, until none is new. */
	if (root > 0 && root <= pidmax)
		mark[root] = 1;
	do {
		changed = 0;
		for (i = 0; i < n; i++)
			if (!mark[p[i].pid] && p[i].ppid > 0 &&
			    p[i].ppid <= pidmax && mark[p[i].ppid]) {
				mark[p[i].pid] = 1;
				changed = 1;
			}
	} while (changed);
	for (i = 0; i < n; i++)
		if (mark[p[i].pid]) {
			sum += p[i].ticks;
			mark[p[i].pid] = 0;
		}
	if (root > 0 && root <= pidmax)
		mark[root] = 0;
	free(p);
	return (double)sum / (double)sysconf(_SC_CLK_TCK);
}

/* Lines of file that hold pattern (every line if NULL); 0 if none. */
static long
count_lines(const char *file, const char *pattern)
{
	char line[4096];
	long n = 0;
	FILE *f;

	if ((f = fopen(file, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (pattern == NULL || strstr(line, pattern) != NULL)
			n++;
	fclose(f);
	return n;
}

/* ---- peers: the client side of hold and early ---- */

/* Soft RLIMIT_NOFILE up to the hard one: every worker holds thousands. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit: %s", strerror(errno));
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("cannot raise RLIMIT_NOFILE to %lu: %s",
		    (unsigned long)rl.rlim_max, strerror(errno));
}


/*
 * Every peer has a slot in memory shared by the worker processes that
 * open the connections and the parent that watches them; its times
 * are CLOCK_MONOTONIC, the same in every process.
 */
enum peer_end {
	END_NONE,		/* still going */
	END_GREETED,		/* the MTA's greeting, "220 fakemta" */
	END_REFUSED,		/* another reply, 4xx or 5xx: turned away */
	END_CLOSED,		/* closed or reset before any greeting */
	END_CONNFAIL,		/* connect() failed */
	END_TIMEOUT,		/* no answer in time */
	END_BADGREET		/* a 220 that is not the fake MTA's */
};

struct slot {
	double	 t_connect;		/* just before connect() */
	double	 t_est;			/* connected, 0 until then */
	double	 t_teaser;		/* a "220-" line, 0 if none */
	double	 t_answer;		/* the greeting or the turning away */
	int	 end;			/* enum peer_end */
};

struct shared {
	volatile int	 stop_probes;	/* set by the parent */
	double		 t0;		/* when the first peer is due */
	struct slot	 slot[];	/* peers, then probes */
};

#define KIND_SILENT	0		/* waits for the greeting, then QUIT */
#define KIND_EARLY	1		/* sends EHLO at once, reads the answer */
#define PEER_LINE	128
#define QUIT_WAIT	5.0		/* seconds for the close after QUIT */
#define EHLO_LINE	"EHLO early.invalid\r\n"

struct plan {
	unsigned short	 port;
	long		 n;		/* peers */
	double		 rate;		/* peers opened per second, in all */
	double		 delay;		/* the server's delay for every peer */
	double		 timeout;	/* past the delay, a peer gives up */
	uint32_t	 base;		/* first source address, host order */
	int		 workers;
	double		 probe_every;	/* seconds, 0: no probes */
	long		 nprobes;	/* at most */
	double		 probe_delay;	/* the server's delay for a probe */
	double		 probe_until;	/* no probe opened after t0 + this */
	uint32_t	 probe_base;	/* probes' first source, or 0 */
};

struct peer {
	int	 fd;
	int	 state;			/* PS_* */
	size_t	 len;
	char	 buf[PEER_LINE];
};

enum { PS_IDLE, PS_CONNECTING, PS_WAITING, PS_QUITTING, PS_DONE };

struct worker {
	const struct plan *plan;
	struct shared	*sh;
	struct peer	*peer;		/* this worker's, by local index */
	long		 first, step, count;	/* global slots: first + k*step */
	int		 kind;
	int		 ep;
	long		 active;
};

static double
slot_due(const struct worker *w, long k)
{
	if (w->kind == KIND_SILENT && w->first >= w->plan->n)	/* probes */
		return w->sh->t0 + (double)k * w->plan->probe_every;
	return w->sh->t0 + (double)(w->first + k * w->step) / w->plan->rate;
}

static void
peer_end(struct worker *w, long k, int end)
{
	struct peer *p = &w->peer[k];
	struct slot *s = &w->sh->slot[w->first + k * w->step];

	if (s->end == END_NONE) {
		s->end = end;
		s->t_answer = now();
	}
	if (p->fd != -1) {
		close(p->fd);
		p->fd = -1;
	}
	p->state = PS_DONE;
	w->active--;
}

/* Connected: an early talker talks now; every peer then listens. */
static void
peer_connected(struct worker *w, long k)
{
	struct peer *p = &w->peer[k];
	struct epoll_event ev;

	w->sh->slot[w->first + k * w->step].t_est = now();
	if (w->kind == KIND_EARLY &&
	    send(p->fd, EHLO_LINE, strlen(EHLO_LINE), MSG_NOSIGNAL) !=
	    (ssize_t)strlen(EHLO_LINE)) {
		peer_end(w, k, END_CLOSED);
		return;
	}
	p->state = PS_WAITING;
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = (uint64_t)k;
	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, p->fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
}

static void
peer_open(struct worker *w, long k)
{
	struct peer *p = &w->peer[k];
	long g = w->first + k * w->step;
	struct slot *s = &w->sh->slot[g];
	struct sockaddr_in from, to;
	struct epoll_event ev;
	int one = 1;

	w->active++;
	memset(&from, 0, sizeof(from));
	from.sin_family = AF_INET;
	from.sin_addr.s_addr = htonl(g >= w->plan->n && w->plan->probe_base ?
	    w->plan->probe_base + (uint32_t)(g - w->plan->n) :
	    w->plan->base + (uint32_t)g);
	loopback(&to, "127.0.0.1", w->plan->port);
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd == -1 && (errno == EMFILE || errno == ENFILE)) {
		s->t_connect = now();	/* this client's limit: a failure */
		peer_end(w, k, END_CONNFAIL);
		return;
	}
	if (p->fd == -1)
		die("socket: %s", strerror(errno));
	setsockopt(p->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
	if (bind(p->fd, (struct sockaddr *)&from, sizeof(from)) == -1)
		die("bind: %s", strerror(errno));
	ev.events = EPOLLOUT;
	ev.data.u64 = (uint64_t)k;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, p->fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
	s->t_connect = now();
	if (connect(p->fd, (struct sockaddr *)&to, sizeof(to)) == 0)
		peer_connected(w, k);
	else if (errno == EINPROGRESS)
		p->state = PS_CONNECTING;
	else
		peer_end(w, k, END_CONNFAIL);
}

/* One line from the server, while the peer waits for the greeting. */
static void
peer_line(struct worker *w, long k, const char *line)
{
	struct peer *p = &w->peer[k];
	struct slot *s = &w->sh->slot[w->first + k * w->step];

	if (strncmp(line, "220-", 4) == 0) {
		if (s->t_teaser == 0)
			s->t_teaser = now();
		return;
	}
	if (strncmp(line, "220 ", 4) != 0) {
		peer_end(w, k, END_REFUSED);
		return;
	}
	if (strncmp(line, GREETING, strlen(GREETING)) != 0) {
		peer_end(w, k, END_BADGREET);
		return;
	}
	s->end = END_GREETED;
	s->t_answer = now();
	/* QUIT, then read to the close so that the session ends cleanly. */
	if (send(p->fd, "QUIT\r\n", 6, MSG_NOSIGNAL) != 6) {
		peer_end(w, k, END_GREETED);
		return;
	}
	p->state = PS_QUITTING;
}

static void
peer_input(struct worker *w, long k)
{
	struct peer *p = &w->peer[k];
	char junk[512], *nl;
	ssize_t n;

	if (p->state == PS_QUITTING) {
		while ((n = recv(p->fd, junk, sizeof(junk), 0)) > 0)
			;
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			peer_end(w, k, END_GREETED);
		return;
	}
	while (p->state == PS_WAITING) {
		n = recv(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len, 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			peer_end(w, k, END_CLOSED);
			return;
		}
		p->len += (size_t)n;
		p->buf[p->len] = '\0';
		while (p->state == PS_WAITING &&
		    (nl = memchr(p->buf, '\n', p->len)) != NULL) {
			size_t used = (size_t)(nl - p->buf) + 1;

			*nl = '\0';
			peer_line(w, k, p->buf);
			memmove(p->buf, p->buf + used, p->len - used);
			p->len -= used;
		}
		if (p->len == sizeof(p->buf) - 1) {	/* a line too long */
			peer_line(w, k, p->buf);
			p->len = 0;
		}
	}
}

/* Give up on peers that waited too long. */
static void
peer_sweep(struct worker *w, long opened, long *oldest)
{
	double t = now(), limit = (w->first >= w->plan->n ?
	    w->plan->probe_delay : w->plan->delay) + w->plan->timeout;
	long k;

	while (*oldest < opened && w->peer[*oldest].state == PS_DONE)
		(*oldest)++;
	for (k = *oldest; k < opened; k++) {
		const struct slot *s = &w->sh->slot[w->first + k * w->step];

		if (w->peer[k].state == PS_QUITTING &&
		    t - s->t_answer > QUIT_WAIT)
			peer_end(w, k, END_GREETED);
		else if ((w->peer[k].state == PS_CONNECTING ||
		    w->peer[k].state == PS_WAITING) && t - s->t_connect > limit)
			peer_end(w, k, END_TIMEOUT);
	}
}

/* A worker process: open its peers on time, follow each to its end. */
static void __attribute__((noreturn))
worker_run(struct worker *w)
{
	struct epoll_event evs[256];
	long opened = 0, oldest = 0, k;
	double last_sweep = 0;
	int probes = w->first >= w->plan->n;

	if ((w->peer = calloc((size_t)(w->count ? w->count : 1),
	    sizeof(*w->peer))) == NULL)
		die("out of memory");
	for (k = 0; k < w->count; k++)
		w->peer[k].fd = -1;
	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll: %s", strerror(errno));
	for (;;) {
		double t = now(), wait;
		int n, i;

		if (probes && (w->sh->stop_probes || (w->plan->probe_until > 0 &&
		    t > w->sh->t0 + w->plan->probe_until)))
			w->count = opened;	/* no more probes */
		while (opened < w->count && slot_due(w, opened) <= t)
			peer_open(w, opened++);
		if (opened == w->count && w->active == 0)
			break;
		if (t - last_sweep > 0.1) {
			peer_sweep(w, opened, &oldest);
			last_sweep = t;
		}
		wait = opened < w->count ? slot_due(w, opened) - now() : 0.05;
		if (wait > 0.05)
			wait = 0.05;
		n = epoll_wait(w->ep, evs, 256, wait > 0 ? (int)(wait * 1000) +
		    1 : 0);
		for (i = 0; i < n; i++) {
			struct peer *p;

			k = (long)evs[i].data.u64;
			p = &w->peer[k];
			if (p->state == PS_CONNECTING) {
				int err = 0;
				socklen_t len = sizeof(err);

				if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err,
				    &len) == -1 || err != 0)
					peer_end(w, k, END_CONNFAIL);
				else
					peer_connected(w, k);
			} else if (p->state == PS_WAITING ||
			    p->state == PS_QUITTING)
				peer_input(w, k);
		}
	}
	_exit(0);
}

/*
 * The parent's view: the server's own count of what it holds, sampled
 * while the peers come and go.
 */
struct server {
	pid_t		 launcher;	/* -P: per connection, children named comm */
	const char	*comm;
	pid_t		 holder;	/* -S: one process holds every peer */
	pid_t		 tree;		/* -T: CPU of this process and below */
	long		 fd_base;	/* holder's descriptors when idle */
	long		 priv_base;	/* holder's private KiB when idle */
};

struct sample {
	double	 at;
	long	 waiting;		/* the server's count */
	long	 client_waiting;	/* connected, no answer yet */
	long	 memavail;		/* KiB */
	long	 priv;			/* holder's private KiB */
};

static long
server_waiting(const struct server *sv, size_t *sleeping)
{
	long n;

	*sleeping = 0;
	if (sv->holder > 0) {
		n = fd_count(sv->holder);
		return n < 0 ? -1 : n > sv->fd_base ? n - sv->fd_base : 0;
	}
	if (sv->launcher > 0)
		return (long)children(sv->launcher, sv->comm, NULL, 0, sleeping);
	return 0;
}

static long
holder_private(pid_t pid)
{
	struct smaps m;

	if (read_smaps(pid, &m) == -1)
		return -1;
	return m.private_clean + m.private_dirty;
}

/* Memory of every waiting process of a per-connection server. */
static void
sweep_children(const struct server *sv, long peers)
{
	long sum_priv = 0, max_priv = 0, min_priv = -1, sum_rss = 0;
	long sum_pss = 0, sum_pc = 0, sum_pd = 0;
	size_t nch, sleeping, nm = 0, i;
	pid_t *pids;
	double *pv;

	if ((pids = calloc((size_t)peers + 1024, sizeof(*pids))) == NULL ||
	    (pv = calloc((size_t)peers + 1024, sizeof(*pv))) == NULL)
		die("out of memory");
	nch = children(sv->launcher, sv->comm, pids, (size_t)peers + 1024,
	    &sleeping);
	for (i = 0; i < nch && i < (size_t)peers + 1024; i++) {
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
	printf("measured=%zu\n", nm);
	if (nm > 0)
		printf("private_kib_mean=%.1f private_kib_median=%.0f "
		    "private_kib_min=%ld private_kib_max=%ld "
		    "private_clean_kib_mean=%.1f private_dirty_kib_mean=%.1f "
		    "rss_kib_mean=%.1f pss_kib_mean=%.1f private_mib_total=%.1f\n",
		    (double)sum_priv / (double)nm, pct(pv, nm, 50), min_priv,
		    max_priv, (double)sum_pc / (double)nm,
		    (double)sum_pd / (double)nm, (double)sum_rss / (double)nm,
		    (double)sum_pss / (double)nm, (double)sum_priv / 1024.0);
	fflush(stdout);
	free(pids);
	free(pv);
}

/* Peers and probes that have not ended, and those connected among them. */
static void
count_open(const struct shared *sh, long from, long to, long *open,
    long *connected)
{
	long i;

	*open = *connected = 0;
	for (i = from; i < to; i++) {
		const struct slot *s = &sh->slot[i];

		if (s->t_connect > 0 && s->end == END_NONE) {
			(*open)++;
			if (s->t_est > 0)
				(*connected)++;
		}
	}
}

/* Lateness, ms past the delay, of the greeted slots from..to. */
static size_t
lateness(const struct shared *sh, long from, long to, double delay,
    double *late, long *early, double *last)
{
	size_t n = 0;
	long i;

	*early = 0;
	for (i = from; i < to; i++) {
		const struct slot *s = &sh->slot[i];

		if (s->end != END_GREETED)
			continue;
		late[n++] = (s->t_answer - s->t_connect - delay) * 1000;
		if (s->t_answer - s->t_connect < delay)
			(*early)++;
		if (last != NULL && s->t_answer - sh->t0 > *last)
			*last = s->t_answer - sh->t0;
	}
	qsort(late, n, sizeof(*late), cmp_double);
	return n;
}

static void
print_late(const char *name, const double *late, size_t n)
{
	printf("%s_late_ms_min=%.1f %s_late_ms_median=%.1f "
	    "%s_late_ms_p90=%.1f %s_late_ms_p99=%.1f %s_late_ms_max=%.1f\n",
	    name, n ? late[0] : 0, name, pct(late, n, 50), name,
	    pct(late, n, 90), name, pct(late, n, 99), name,
	    n ? late[n - 1] : 0);
}

static int
peers_usage(void)
{
	die("usage: load hold|early -p port -n peers -d delay [-r per_s] "
	    "[-a first_source] [-j workers] [-k probe_every_s [-D probe_delay] "
	    "[-b probe_first_source] [-K probe_until_s]] [-t timeout_s] "
	    "[-P launcher_pid [-c comm] | -S server_pid] [-T cpu_pid] "
	    "[-M file [-m pattern]] [-v]");
}

/*
 * hold and early: peers opened at a steady rate by several worker
 * processes (each has the same descriptor limit, so together they
 * hold more than one could), from source addresses counted up from
 * -a so that no address is used twice and ephemeral ports never run
 * out; polite probes every -k seconds alongside.  The parent samples
 * the server meanwhile and prints key=value lines at the end.
 */
static int
cmd_peers(int argc, char **argv, int kind)
{
	struct plan pl;
	struct server sv;
	struct sample peak, smp;
	struct shared *sh;
	struct in_addr a;
	const char *mark = NULL, *pattern = NULL;
	const char *first = kind == KIND_EARLY ? "127.64.0.0" : "127.16.0.0";
	double cpu0 = 0, cpu1 = 0, t_done = 0, *late, last = 0;
	long memavail0, mark0 = 0, nslots, i, open, connected;
	long ended[END_BADGREET + 1] = { 0 }, early = 0, pearly = 0;
	size_t sleeping, nl, shsize;
	int ch, w, alive, swept = 0, verbose = 0;

	memset(&pl, 0, sizeof(pl));
	memset(&sv, 0, sizeof(sv));
	sv.comm = "sendwrap";
	pl.rate = 1000;
	pl.delay = -1;
	pl.probe_delay = -1;
	pl.timeout = kind == KIND_EARLY ? 10 : 60;
	pl.workers = 4;
	while ((ch = getopt(argc, argv, "a:b:c:D:d:j:K:k:M:m:n:P:p:r:S:T:t:v"))
	    != -1) {
		switch (ch) {
		case 'a': first = optarg; break;
		case 'b':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				die("bad address %s", optarg);
			pl.probe_base = ntohl(a.s_addr);
			break;
		case 'D': pl.probe_delay = seconds(optarg); break;
		case 'K': pl.probe_until = seconds(optarg); break;
		case 'c': sv.comm = optarg; break;
		case 'd': pl.delay = seconds(optarg); break;
		case 'j': pl.workers = (int)number(optarg, 1, 64); break;
		case 'k': pl.probe_every = seconds(optarg); break;
		case 'M': mark = optarg; break;
		case 'm': pattern = optarg; break;
		case 'n': pl.n = number(optarg, 1, 4000000); break;
		case 'P': sv.launcher = (pid_t)number(optarg, 1, 1L << 30); break;
		case 'p': pl.port = (unsigned short)number(optarg, 1, 65535); break;
		case 'r': pl.rate = seconds(optarg); break;
		case 'S': sv.holder = (pid_t)number(optarg, 1, 1L << 30); break;
		case 'T': sv.tree = (pid_t)number(optarg, 1, 1L << 30); break;
		case 't': pl.timeout = seconds(optarg); break;
		case 'v': verbose = 1; break;
		default: return peers_usage();
		}
	}
	if (pl.n == 0 || pl.port == 0 || pl.delay < 0 || pl.rate <= 0 ||
	    (sv.launcher > 0 && sv.holder > 0))
		return peers_usage();
	if (pl.probe_delay < 0)
		pl.probe_delay = pl.delay;
	if (pl.probe_every > 0)
		pl.nprobes = (long)(((double)pl.n / pl.rate + pl.delay +
		    pl.timeout) / pl.probe_every) + 1;
	nslots = pl.n + pl.nprobes;
	/* Sources: 127.0.0.2 and up, never past 127.255.255.254. */
	if (inet_pton(AF_INET, first, &a) != 1)
		die("bad address %s", first);
	pl.base = ntohl(a.s_addr);
	if (pl.base < 0x7f000002 || pl.base + (uint32_t)nslots > 0x7ffffffe)
		die("-a %s: %ld sources do not fit in 127.0.0.2-127.255.255.254",
		    first, nslots);
	raise_nofile();
	shsize = sizeof(*sh) + (size_t)nslots * sizeof(struct slot);
	sh = mmap(NULL, shsize, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	if ((late = calloc((size_t)nslots, sizeof(*late))) == NULL)
		die("out of memory");

	/* The idle server, before the first peer. */
	memavail0 = proc_field("/proc/meminfo", "MemAvailable");
	if (sv.holder > 0) {
		if ((sv.fd_base = fd_count(sv.holder)) < 0 ||
		    (sv.priv_base = holder_private(sv.holder)) < 0)
			die("server pid %ld: not running", (long)sv.holder);
	}
	if (sv.tree > 0)
		cpu0 = cpu_tree(sv.tree);
	if (mark != NULL)
		mark0 = count_lines(mark, pattern);
	fflush(stdout);
	sh->t0 = now() + 0.1;
	for (w = 0; w <= pl.workers; w++) {
		struct worker wk;
		pid_t pid;

		memset(&wk, 0, sizeof(wk));
		wk.plan = &pl;
		wk.sh = sh;
		if (w < pl.workers) {
			wk.first = w;
			wk.step = pl.workers;
			wk.count = pl.n > w ? (pl.n - w + pl.workers - 1) /
			    pl.workers : 0;
			wk.kind = kind;
		} else {
			if (pl.nprobes == 0)
				break;
			wk.first = pl.n;
			wk.step = 1;
			wk.count = pl.nprobes;
			wk.kind = KIND_SILENT;
		}
		if ((pid = fork()) == -1)
			die("fork: %s", strerror(errno));
		if (pid == 0)
			worker_run(&wk);
	}
	alive = pl.workers + (pl.nprobes > 0);

	/* Watch: the server's count, memory at its peak, the end. */
	memset(&peak, 0, sizeof(peak));
	while (alive > 0) {
		int st;

		usleep(200000);
		while (waitpid(-1, &st, WNOHANG) > 0) {
			alive--;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				die("a worker failed");
		}
		memset(&smp, 0, sizeof(smp));
		smp.at = now() - sh->t0;
		smp.waiting = server_waiting(&sv, &sleeping);
		smp.memavail = proc_field("/proc/meminfo", "MemAvailable");
		if (sv.holder > 0)
			smp.priv = holder_private(sv.holder);
		count_open(sh, 0, nslots, &open, &connected);
		smp.client_waiting = connected;
		/*
		 * A holder's descriptors above idle include its own helpers'
		 * (postscreen's hand-off to smtpd); it cannot hold more peers
		 * than are connected and unanswered.
		 */
		if (sv.holder > 0 && smp.waiting > connected)
			smp.waiting = connected;
		if (verbose)
			fprintf(stderr, "at_s=%.2f server=%ld client=%ld open=%ld "
			    "memavail_mib=%.0f private_kib=%ld\n", smp.at,
			    smp.waiting, connected, open,
			    (double)smp.memavail / 1024, smp.priv);
		if (smp.waiting > peak.waiting || peak.at == 0) {
			long cw = peak.client_waiting;

			peak = smp;
			if (cw > peak.client_waiting)
				peak.client_waiting = cw;
		} else if (smp.client_waiting > peak.client_waiting)
			peak.client_waiting = smp.client_waiting;
		/*
		 * A per-connection server's processes are read once: when
		 * every peer waits, or as soon as their number falls.
		 */
		if (sv.launcher > 0 && !swept && peak.waiting > 0 &&
		    ((smp.waiting >= pl.n && (long)sleeping >= pl.n) ||
		    smp.waiting < peak.waiting - peak.waiting / 50)) {
			printf("swept_waiting=%ld swept_sleeping=%zu "
			    "swept_at_s=%.2f\n", smp.waiting, sleeping, smp.at);
			sweep_children(&sv, pl.n);
			swept = 1;
		}
		count_open(sh, 0, pl.n, &open, &connected);
		if (open == 0 && t_done == 0) {
			int all = 1;

			for (i = 0; i < pl.n && all; i++)
				all = sh->slot[i].end != END_NONE;
			if (all) {
				t_done = now();
				sh->stop_probes = 1;
			}
		}
	}
	/* Settle: the last processes end and are reaped, the CPU count stops. */
	if (sv.tree > 0) {
		double t = now();

		cpu1 = cpu_tree(sv.tree);
		while (now() - t < 10) {
			double c;
			size_t s2;

			usleep(300000);
			c = cpu_tree(sv.tree);
			if (c == cpu1 && (sv.launcher <= 0 ||
			    children(sv.launcher, sv.comm, NULL, 0, &s2) == 0))
				break;
			cpu1 = c;
		}
	}

	for (i = 0; i < pl.n; i++)
		ended[sh->slot[i].end]++;
	if (kind == KIND_SILENT) {
		long drop = memavail0 - peak.memavail;

		printf("peers=%ld waiting=%ld\n", pl.n, peak.waiting);
		printf("waiting_at_s=%.2f client_waiting_peak=%ld "
		    "connect_s=%.2f\n", peak.at, peak.client_waiting,
		    pl.n > 0 ? sh->slot[pl.n - 1].t_connect - sh->t0 : 0);
		printf("memavailable_drop_mib=%.1f memavailable_drop_kib_per_peer"
		    "=%.1f\n", (double)drop / 1024.0, peak.waiting > 0 ?
		    (double)drop / (double)peak.waiting : 0);
		if (sv.holder > 0)
			printf("server_private_kib_idle=%ld server_private_kib_peak"
			    "=%ld server_private_kib_per_peer=%.2f\n",
			    sv.priv_base, peak.priv, peak.waiting > 0 ?
			    (double)(peak.priv - sv.priv_base) /
			    (double)peak.waiting : 0);
		nl = lateness(sh, 0, pl.n, pl.delay, late, &early, &last);
		printf("greeted=%ld failed=%ld early=%ld unanswered=%ld "
		    "greet_s_min=%.3f greet_s_median=%.3f greet_s_max=%.3f "
		    "last_greeting_at_s=%.2f\n", ended[END_GREETED],
		    ended[END_REFUSED] + ended[END_CLOSED] + ended[END_CONNFAIL] +
		    ended[END_BADGREET], early, ended[END_TIMEOUT],
		    nl ? late[0] / 1000 + pl.delay : 0,
		    pct(late, nl, 50) / 1000 + pl.delay,
		    nl ? late[nl - 1] / 1000 + pl.delay : 0, last);
		print_late("peer", late, nl);
	} else {
		double span = sh->slot[pl.n - 1].t_connect - sh->t0;
		size_t na = 0;

		for (i = 0; i < pl.n; i++) {
			const struct slot *s = &sh->slot[i];

			if (s->end == END_REFUSED || s->end == END_CLOSED)
				late[na++] = (s->t_answer - s->t_connect) * 1000;
		}
		qsort(late, na, sizeof(*late), cmp_double);
		printf("offered=%ld opened_s=%.2f rate=%.0f turned_away=%ld "
		    "reached=%ld connfail=%ld unanswered=%ld badgreet=%ld "
		    "turned_away_ms_median=%.1f turned_away_ms_p99=%.1f\n", pl.n,
		    span, span > 0 ? (double)(pl.n - 1) / span : 0,
		    ended[END_REFUSED] + ended[END_CLOSED], ended[END_GREETED],
		    ended[END_CONNFAIL], ended[END_TIMEOUT], ended[END_BADGREET],
		    pct(late, na, 50), pct(late, na, 99));
	}
	if (pl.nprobes > 0) {
		long opened = 0, pgreeted;

		for (i = pl.n; i < nslots; i++)
			opened += sh->slot[i].t_connect > 0;
		nl = lateness(sh, pl.n, nslots, pl.probe_delay, late, &pearly,
		    NULL);
		pgreeted = (long)nl;
		printf("probes=%ld probes_greeted=%ld probes_early=%ld\n",
		    opened, pgreeted, pearly);
		print_late("probe", late, nl);
	}
	if (sv.tree > 0)
		printf("cpu_s=%.2f cpu_s_per_1000=%.3f\n", cpu1 - cpu0,
		    (cpu1 - cpu0) * 1000.0 / (double)pl.n);
	if (mark != NULL)
		printf("mark_lines=%ld\n", count_lines(mark, pattern) - mark0);
	fflush(stdout);
	munmap(sh, shsize);
	free(late);
	if (kind == KIND_SILENT)
		return ended[END_GREETED] == pl.n && early == 0 ? 0 : 1;
	return 0;
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
		die("usage: load latency|hold|early|spawn|gen|freeport ...");
	optind = 1;
	if (strcmp(argv[1], "latency") == 0)
		return cmd_latency(argc - 1, argv + 1);
	if (strcmp(argv[1], "hold") == 0)
		return cmd_peers(argc - 1, argv + 1, KIND_SILENT);
	if (strcmp(argv[1], "early") == 0)
		return cmd_peers(argc - 1, argv + 1, KIND_EARLY);
	if (strcmp(argv[1], "spawn") == 0)
		return cmd_spawn(argc - 1, argv + 1);
	if (strcmp(argv[1], "gen") == 0)
		return cmd_gen(argc - 1, argv + 1);
	if (strcmp(argv[1], "freeport") == 0)
		return cmd_freeport();
	die("unknown command %s", argv[1]);
}
