/*
 * listener.c - one sendwrap process that holds every waiting peer.
 *
 * Per connection, a waiting peer costs a process for its whole delay;
 * here it costs a socket and a few dozen bytes.  One epoll loop accepts,
 * decides each peer when it arrives (peer.c's verdict, from an
 * allowlist table read once and reloaded when a file changes), keeps
 * the waiting peers in a heap ordered by deadline, and starts the
 * program only for the peers that get it: allowlisted, cached, or
 * silent for the whole delay.  The program's sessions are capped too; a
 * peer that passes while all are busy is held, silent, until one ends.
 *
 * Nothing here may wait: sockets are non-blocking, the log never
 * blocks (log.c), and the program is started with vfork(), so that a
 * process holding thousands of sockets does not copy itself for a
 * child that only calls exec.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "allowlist.h"
#include "listener.h"
#include "log.h"
#include "passcache.h"
#include "peer.h"

#define LISTEN_MAX	16	/* listening sockets */
#define FD_RESERVE	32	/* fds kept free, so accept and reply work */
#define EVENTS_MAX	256	/* epoll events a turn */
#define ACCEPTS_A_TURN	64	/* per socket, so that timers keep time */
#define ACCEPT_PAUSE_MS	100	/* after accept() ran out of fds or memory */
#define TICK_MS		1000	/* reload checks, lost-line reports */
#define STILL_MS	1000	/* a changed file must stand still this long */
#define DRAIN_MAX	256	/* early talkers drained at once; others closed */
#define SP_BUF		(1024 * 1024)	/* the starter's socket buffers */
#define SP_WAIT_MS	2000	/* at shutdown, for programs being started */

enum lstate { L_FREE, L_WAITING, L_HELD, L_DRAINING, L_STARTING };

/* Flags of a peer. */
#define F_TEASED	0x01
#define F_UNTRUSTED	0x02
#define F_RULE		0x04
#define F_BUILTIN	0x08
#define F_KEYED		0x10	/* the pass cache knows its key */
#define F_CACHED	0x20	/* let in by the pass cache */
#define F_EARLY		0x40	/* talked early; -e log lets it in */
#define F_PASSED	0x80	/* waited out its delay in silence */

/*
 * One held connection, indexed by its fd.  Kept small: the text of its
 * address and its log fields are made again when its line is written.
 */
struct lpeer {
	int64_t		 since;		/* accepted, CLOCK_MONOTONIC ns */
	int64_t		 deadline;
	int64_t		 held_since;
	const char	*rule_file;
	unsigned long	 rule_line;
	unsigned char	 addr[16];
	unsigned	 heap;		/* its place in the deadline heap */
	unsigned	 delay_ms;
	unsigned	 age;		/* F_CACHED: seconds since its pass */
	unsigned	 drained;	/* L_DRAINING: bytes read */
	struct line	*early;		/* F_EARLY: its line, made as it talked */
	int		 prev, next;	/* L_HELD: the queue for a session */
	unsigned short	 port;
	unsigned short	 flags;
	unsigned char	 state;
};

/* A count of waiting peers per address (IPv4) or /64 (IPv6). */
struct slot {
	unsigned char	 key[16];
	unsigned	 n;
};

/* What the rules were read into. */
struct rules {
	struct al_table	*table;
	struct sources_state st;
};

/* A file source as last read, to see when it changes. */
struct seen {
	int		 exists;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime, ctime;
};

static struct {
	const struct config *c;
	const char	*path;		/* the program */
	const char	*broken;	/* why nobody gets the program */
	char		*why;		/* room for that reason */
	const char	*broken_code;
	int		 lfd[LISTEN_MAX];
	int		 nlisten;
	int		 fd2_is_listener;	/* inetd, xinetd: 0, 1, 2 */
	int		 ep, sigfd;
	struct lpeer	*peer;
	unsigned	 npeer;		/* the size of peer[]: the fd limit */
	unsigned	*heap;		/* fds, soonest deadline first */
	unsigned	 nheap;
	struct slot	*slot;		/* per-address counts */
	size_t		 nslot;		/* a power of two */
	unsigned long	 held_conns;	/* waiting or held */
	unsigned long	 draining;	/* answered early talkers, closing */
	unsigned long	 starting;	/* handed to the starter, unanswered */
	unsigned long	 max_conns;
	unsigned long	 sessions;	/* programs running */
	int		 held_head, held_tail;
	struct rules	 rules;
	struct seen	*seen, *pending;
	int64_t		 pending_since;
	int		 reload_now;
	struct pc	 pc;
	int64_t		 paused_until;	/* accept() backing off */
	int64_t		 next_tick;
	int64_t		 last_broken_log;
	unsigned long	 broken_unlogged;
	char		**envp;		/* the program's environment */
	char		 fail[REPLY_MAX];	/* the child's 421, made for it */
	size_t		 fail_len;
	char		 remote_addr[INET6_ADDRSTRLEN + 16];
	char		 remote_port[32];
	int		 sp;		/* the starter's socket, or -1 */
	pid_t		 sp_pid;
	volatile int	 spawn_errno;	/* set by a vfork() child */
	const char * volatile spawn_step;	/* what failed in it */
} L;

/* ---- the sockets we were given ---- */

static int
is_listening_tcp(int fd)
{
	socklen_t len = sizeof(int);
	int on = 0, type = 0;

	if (!fd_is_inet_socket(fd))
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == -1 || !on)
		return 0;
	len = sizeof(int);
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	    type == SOCK_STREAM;
}

/*
 * systemd's convention: LISTEN_PID is us, LISTEN_FDS sockets from fd 3.
 * Only listening TCP sockets count: with Accept=yes, systemd passes the
 * connection itself this way, and that is a peer, not a listener.
 */
int
listener_fds_from_env(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long n, i;

	if (pid == NULL || fds == NULL)
		return 0;
	errno = 0;
	if (strtol(pid, &end, 10) != (long)getpid() || *end != '\0')
		return 0;
	n = strtol(fds, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > LISTEN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_listening_tcp(3 + (int)i))
			return 0;
	return (int)n;
}

static int
same_file(int a, int b)
{
	struct stat x, y;

	return fstat(a, &x) == 0 && fstat(b, &y) == 0 &&
	    x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static int
take_listeners(void)
{
	int n, i, fl;

	if (is_listening_tcp(STDIN_FILENO)) {
		L.lfd[L.nlisten++] = STDIN_FILENO;
		L.fd2_is_listener = same_file(STDIN_FILENO, STDERR_FILENO);
	} else {
		n = listener_fds_from_env();
		for (i = 0; i < n; i++)
			L.lfd[L.nlisten++] = 3 + i;
	}
	for (i = 0; i < L.nlisten; i++) {
		/*
		 * The launcher does not accept on these sockets itself
		 * (inetd "wait", Accept=no), so O_NONBLOCK on them is ours
		 * to set; the children never see them.
		 */
		fl = fcntl(L.lfd[i], F_GETFL);
		if (fl == -1 || fcntl(L.lfd[i], F_SETFL, fl | O_NONBLOCK) == -1)
			return -1;
		fcntl(L.lfd[i], F_SETFD, FD_CLOEXEC);
	}
	return L.nlisten > 0 ? 0 : -1;
}

/* ---- the deadline heap ---- */

static int
sooner(unsigned a, unsigned b)
{
	return L.peer[L.heap[a]].deadline < L.peer[L.heap[b]].deadline;
}

static void
heap_swap(unsigned a, unsigned b)
{
	unsigned t = L.heap[a];

	L.heap[a] = L.heap[b];
	L.heap[b] = t;
	L.peer[L.heap[a]].heap = a;
	L.peer[L.heap[b]].heap = b;
}

static void
heap_fix(unsigned i)
{
	while (i > 0 && sooner(i, (i - 1) / 2)) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= L.nheap)
			break;
		if (c + 1 < L.nheap && sooner(c + 1, c))
			c++;
		if (!sooner(c, i))
			break;
		heap_swap(c, i);
		i = c;
	}
}

static void
heap_add(int fd, int64_t deadline)
{
	L.peer[fd].deadline = deadline;
	L.peer[fd].heap = L.nheap;
	L.heap[L.nheap++] = (unsigned)fd;
	heap_fix(L.nheap - 1);
}

static void
heap_remove(int fd)
{
	unsigned i = L.peer[fd].heap;

	if (i >= L.nheap || L.heap[i] != (unsigned)fd)
		return;
	L.nheap--;
	if (i < L.nheap) {
		heap_swap(i, L.nheap);
		heap_fix(i);
	}
}

/* ---- waiting peers per address ---- */

static size_t
slot_at(const unsigned char key[16])
{
	uint64_t h = 14695981039346656037ull;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 1099511628211ull;
	i = (size_t)(h ^ (h >> 31)) & (L.nslot - 1);
	while (L.slot[i].n > 0 && memcmp(L.slot[i].key, key, 16) != 0)
		i = (i + 1) & (L.nslot - 1);
	return i;
}

static unsigned
slot_count(const unsigned char addr[16])
{
	unsigned char key[16];

	al_site(addr, key);
	return L.slot[slot_at(key)].n;
}

static void
slot_add(const unsigned char addr[16])
{
	unsigned char key[16];
	size_t i;

	al_site(addr, key);
	i = slot_at(key);
	memcpy(L.slot[i].key, key, 16);
	L.slot[i].n++;
}

/* Linear probing: an emptied slot takes later entries back, so that
 * every key stays reachable without tombstones. */
static void
slot_remove(const unsigned char addr[16])
{
	unsigned char key[16];
	size_t i, j, home;

	al_site(addr, key);
	i = slot_at(key);
	if (L.slot[i].n == 0 || --L.slot[i].n > 0)
		return;
	for (j = (i + 1) & (L.nslot - 1); L.slot[j].n > 0;
	    j = (j + 1) & (L.nslot - 1)) {
		unsigned n = L.slot[j].n;

		L.slot[j].n = 0;
		home = slot_at(L.slot[j].key);
		L.slot[j].n = n;
		if (home == j)
			continue;
		L.slot[home] = L.slot[j];
		L.slot[j].n = 0;
	}
}

/* ---- a peer's log line ---- */

static void
as_peer(int fd, const struct lpeer *lp, struct peer *p)
{
	memset(p, 0, sizeof(*p));
	p->kind = IN_INET;
	p->fd = fd;
	memcpy(p->addr, lp->addr, 16);
	al_addr_format(lp->addr, p->ip, sizeof(p->ip));
	p->port = lp->port;
	p->teased = (lp->flags & F_TEASED) != 0;
}

static void
as_verdict(const struct lpeer *lp, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->delay_ms = lp->delay_ms;
	v->untrusted = (lp->flags & F_UNTRUSTED) != 0;
	v->kind = lp->flags & F_CACHED ? V_CACHED : lp->delay_ms == 0 &&
	    !v->untrusted ? V_ALLOW : V_WAIT;
	v->age = lp->age;
	if (lp->flags & F_RULE) {
		v->m.found = 1;
		v->m.builtin = (lp->flags & F_BUILTIN) != 0;
		v->m.file = lp->rule_file;
		v->m.line = lp->rule_line;
	}
	if (lp->flags & F_KEYED)
		pc_key(lp->addr, v->key);
}

/* "OUTCOME ip= port= [delay= [after=]]", for the caller to finish. */
static void
begin_line(struct line *l, const char *outcome, int fd, struct peer *p,
    struct verdict *v, int with_after)
{
	const struct lpeer *lp = &L.peer[fd];

	as_peer(fd, lp, p);
	as_verdict(lp, v);
	line_begin(l, outcome, p);
	line_seconds(l, "delay", v->kind == V_WAIT ? lp->delay_ms : 0);
	if (with_after)
		line_seconds(l, "after", (unsigned)now_ms_since(lp->since));
}

/* ---- peers coming and going ---- */

static void
watch(int fd, uint32_t events, int op)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	(void)epoll_ctl(L.ep, op, fd, &ev);
}

static void
held_unlink(int fd)
{
	struct lpeer *lp = &L.peer[fd];

	if (lp->prev != -1)
		L.peer[lp->prev].next = lp->next;
	else
		L.held_head = lp->next;
	if (lp->next != -1)
		L.peer[lp->next].prev = lp->prev;
	else
		L.held_tail = lp->prev;
	lp->prev = lp->next = -1;
}

/* Forget a connection: out of the heap, the counts and the queue. */
static void
release(int fd, int close_it)
{
	struct lpeer *lp = &L.peer[fd];

	if (lp->state == L_FREE)
		return;
	if (close_it) {		/* a held -e log talker that never got in */
		free(lp->early);
		lp->early = NULL;
	}
	heap_remove(fd);
	if (lp->state == L_WAITING)
		slot_remove(lp->addr);
	if (lp->state == L_HELD)
		held_unlink(fd);
	if (lp->state == L_DRAINING)
		L.draining--;
	else
		L.held_conns--;
	lp->state = L_FREE;
	if (close_it)
		close(fd);		/* and out of epoll with it */
	else
		(void)epoll_ctl(L.ep, EPOLL_CTL_DEL, fd, NULL);
}

/*
 * Start the program for the peer on fd: fd on 0 and 1 (and 2 when the
 * launcher put the listening socket there, as inetd does), every other
 * fd closed, the launcher's signals and limits, LISTEN_* gone and
 * REMOTE_ADDR/REMOTE_PORT set as systemd's Accept=yes sets them.  Only
 * system calls run in the vfork() child, on memory prepared here.
 * Returns 0, or -1 with errno: vfork() failed (L.spawn_errno 0) or a
 * step in the child did (L.spawn_errno set, L.spawn_step names it; the
 * child has told the peer).
 */
static int
spawn(int fd, const char *ip, unsigned port, int teased)
{
	struct peer p;
	pid_t pid;
	int fl;

	/* What the child tells the peer if it fails, made here. */
	memset(&p, 0, sizeof(p));
	p.kind = IN_INET;
	p.teased = teased;
	L.fail_len = reply_format(&p, "421 4.3.0", UNAVAILABLE, L.fail,
	    sizeof(L.fail));
	snprintf(L.remote_addr, sizeof(L.remote_addr), "REMOTE_ADDR=%s", ip);
	snprintf(L.remote_port, sizeof(L.remote_port), "REMOTE_PORT=%u", port);
	/* The program gets a blocking socket, as from any launcher. */
	if ((fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	L.spawn_errno = 0;
	L.spawn_step = "exec";
	/*
	 * vfork(), not posix_spawn(): the same borrowed-memory child, but
	 * one that can also give back the launcher's descriptor limit.
	 * The child makes system calls only, then execs or _exits.
	 */
	/* NOLINTBEGIN(clang-analyzer-security.insecureAPI.vfork,clang-analyzer-unix.Vfork) */
	pid = vfork();
	if (pid == 0) {
		if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1 ||
		    (L.fd2_is_listener && dup2(fd, 2) == -1)) {
			L.spawn_errno = errno;
			L.spawn_step = "dup2";
			(void)send(fd, L.fail, L.fail_len, MSG_NOSIGNAL);
			_exit(EX_OSERR);
		}
		(void)close_range(3, ~0U, 0);
		launcher_restore();
		execve(L.path, L.c->prog, L.envp);
		L.spawn_errno = errno;
		(void)send(0, L.fail, L.fail_len, MSG_NOSIGNAL);
		_exit(EX_OSERR);
	}
	/* NOLINTEND(clang-analyzer-security.insecureAPI.vfork,clang-analyzer-unix.Vfork) */
	if (pid == -1)
		return -1;
	if (L.spawn_errno != 0) {
		/* It has _exited: reaped now, it is no session to end. */
		(void)waitpid(pid, NULL, 0);
		errno = L.spawn_errno;
		return -1;
	}
	return 0;
}

/* ---- the starter ---- */

/*
 * Even a vfork() copies the parent's table of descriptors, and the
 * listener holds one per waiting peer: with thousands, every start
 * would stop the loop for milliseconds, and new connections would pile
 * up unaccepted.  So a small process, forked at start while the
 * listener holds few descriptors, starts the programs: the listener
 * hands it each connection (SCM_RIGHTS) and hears back whether the
 * program started and when each session ends.  It runs on the other
 * core, if there is one.
 */
enum { SP_STARTED, SP_FAILED, SP_ENDED };

struct sp_req {
	int		 id;		/* the connection's fd in the listener */
	int		 teased;	/* a "220-" line is on the wire */
	unsigned	 port;
	char		 ip[INET6_ADDRSTRLEN];
};

struct sp_rep {
	int		 kind;
	int		 id;
	int		 err;
	char		 step[8];	/* "fork", "dup2", "exec" */
};

static void
sp_answer(int sock, int kind, int id, int err, const char *step)
{
	struct sp_rep rep;

	memset(&rep, 0, sizeof(rep));
	rep.kind = kind;
	rep.id = id;
	rep.err = err;
	snprintf(rep.step, sizeof(rep.step), "%s", step);
	while (send(sock, &rep, sizeof(rep), MSG_NOSIGNAL) == -1 &&
	    errno == EINTR)
		;
}

/* The starter's whole life: it ends when the listener does. */
static void __attribute__((noreturn))
sp_main(int sock)
{
	struct pollfd pf[2];
	sigset_t all, chld;
	int status;

	if (sock > 3)
		(void)close_range(3, (unsigned)sock - 1, 0);
	(void)close_range((unsigned)sock + 1, ~0U, 0);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pf[0].fd = sock;
	pf[0].events = POLLIN;
	/* Unable to hear its children end, it must not start any. */
	if ((pf[1].fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		_exit(EX_OSERR);
	pf[1].events = POLLIN;
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct signalfd_siginfo si;
		struct sp_req req;
		struct iovec iov = { &req, sizeof(req) };
		struct msghdr mh;
		struct cmsghdr *cm;
		ssize_t n;
		int fd = -1;

		if (poll(pf, 2, -1) == -1 && errno != EINTR)
			_exit(EX_OSERR);
		if (pf[1].revents & POLLIN) {
			while (read(pf[1].fd, &si, sizeof(si)) > 0)
				;
			while (waitpid(-1, &status, WNOHANG) > 0)
				sp_answer(sock, SP_ENDED, -1, 0, "");
		}
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		if ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) <= 0) {
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			_exit(0);	/* the listener is gone */
		}
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_RIGHTS)
				memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
		if ((size_t)n != sizeof(req)) {	/* cannot happen */
			if (fd != -1)
				close(fd);
			continue;
		}
		if (fd == -1) {
			sp_answer(sock, SP_FAILED, req.id, EBADF, "fork");
			continue;
		}
		req.ip[sizeof(req.ip) - 1] = '\0';
		if (spawn(fd, req.ip, req.port, req.teased) == 0)
			sp_answer(sock, SP_STARTED, req.id, 0, "");
		else
			sp_answer(sock, SP_FAILED, req.id, errno,
			    L.spawn_errno != 0 ? L.spawn_step : "fork");
		close(fd);
	}
}

/*
 * Fork the starter, now, while the listener holds few descriptors.
 * Without one (no process to spare), the listener starts programs
 * itself.
 */
static void
sp_start(void)
{
	int sv[2], size = SP_BUF;

	L.sp = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		goto fail;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if ((L.sp_pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	if (L.sp_pid == 0) {
		close(sv[0]);
		sp_main(sv[1]);
	}
	close(sv[1]);
	L.sp = sv[0];
	fcntl(L.sp, F_SETFL, O_NONBLOCK);
	watch(L.sp, EPOLLIN, EPOLL_CTL_ADD);
	return;
fail:
	logmsg(LOG_WARNING, "cannot start a process to start programs: %s; "
	    "the listener starts them itself", strerror(errno));
}

/* Hand the peer on fd to the starter; -1 if it cannot take it now. */
static int
sp_send(int fd, const struct peer *p)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct sp_req req;
	struct iovec iov = { &req, sizeof(req) };
	struct msghdr mh;
	struct cmsghdr *cm;

	if (L.sp == -1)
		return -1;
	memset(&req, 0, sizeof(req));
	memset(cbuf, 0, sizeof(cbuf));
	req.id = fd;
	req.teased = p->teased;
	req.port = p->port;
	snprintf(req.ip, sizeof(req.ip), "%s", p->ip);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(L.sp, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(req) ? 0 : -1;
}

/* ---- sessions ---- */

/*
 * What became of a start: the peer's one line, and our copy of the
 * connection closed.  A pass is remembered once the program has the
 * peer; a start that failed frees its session.
 */
static void
session_done(int fd, int err, const char *step)
{
	struct lpeer *lp = &L.peer[fd];
	struct peer p;
	struct verdict v;
	struct line l;
	char why[LOG_LINE_MAX];
	const char *word = lp->flags & F_CACHED ? "cached" :
	    lp->delay_ms == 0 && !(lp->flags & F_UNTRUSTED) ? "allow" : "pass";

	as_peer(fd, lp, &p);
	as_verdict(lp, &v);
	lp->state = L_FREE;
	if (err != 0) {
		if (L.sessions > 0)
			L.sessions--;
		if (strcmp(step, "fork") == 0)
			snprintf(why, sizeof(why), "fork: %s", strerror(err));
		else if (strcmp(step, "dup2") == 0)
			snprintf(why, sizeof(why), "cannot give the connection "
			    "to %s: %s", L.path, strerror(err));
		else if (strcmp(step, "exec") == 0)
			snprintf(why, sizeof(why), "exec %s: %s", L.path,
			    strerror(err));
		else if (err == ETIMEDOUT)
			snprintf(why, sizeof(why), "not known whether %s "
			    "started: the process that starts programs did not "
			    "answer before the listener stopped", L.path);
		else
			snprintf(why, sizeof(why), "not known whether %s "
			    "started: the process that starts programs stopped",
			    L.path);
		/*
		 * Only a fork that failed leaves the peer to us; otherwise a
		 * child told it, or the program may be talking to it.
		 */
		if (strcmp(step, "fork") == 0) {
			line_begin(&l, "forkfail", &p);
			reply_unavailable(&p, "421 4.3.0");
		} else
			line_begin(&l, "error", &p);
		line_value(&l, "reason", why, 1);
		line_end(&l, LOG_ERR, &v);
		free(lp->early);
		lp->early = NULL;
		close(fd);
		return;
	}
	close(fd);
	if (lp->flags & F_PASSED)
		cache_note(&L.pc, &v, lp->addr, 1);
	if (lp->flags & F_EARLY) {
		/* -e log: its one line, now that it has the program. */
		if (lp->early != NULL)
			line_end(lp->early, LOG_NOTICE, &v);
		free(lp->early);
		lp->early = NULL;
		return;
	}
	line_begin(&l, word, &p);
	line_seconds(&l, "delay", v.kind == V_WAIT ? lp->delay_ms : 0);
	if (lp->flags & F_CACHED)
		line_add(&l, " age=%u", lp->age);
	if (lp->held_since != 0)
		line_seconds(&l, "held",
		    (unsigned)now_ms_since(lp->held_since));
	line_end(&l, LOG_INFO, &v);
}

/* Start the program for the peer on fd: through the starter, or here. */
static void
start_session(int fd)
{
	struct lpeer *lp = &L.peer[fd];
	struct peer p;

	as_peer(fd, lp, &p);
	/* The child shares the socket: epoll must be told, not closed. */
	release(fd, 0);
	lp->state = L_STARTING;
	L.sessions++;
	if (sp_send(fd, &p) == 0) {
		L.starting++;
		return;
	}
	if (spawn(fd, p.ip, p.port, p.teased) == 0)
		session_done(fd, 0, "");
	else
		session_done(fd, errno, L.spawn_errno != 0 ? L.spawn_step :
		    "fork");
}

/*
 * The peer gets the program now, or waits, silent, for a session to
 * end: RFC 5321 lets a client wait five minutes for the greeting, so
 * holding it a while longer (-w) costs no mail.  A peer held straight
 * from accept (allowlisted, cached) is registered only now.
 */
static void
give_program(int fd)
{
	struct lpeer *lp = &L.peer[fd];

	if (L.sessions < L.c->sessions) {
		start_session(fd);
		return;
	}
	if (lp->state == L_WAITING) {
		heap_remove(fd);
		slot_remove(lp->addr);
		watch(fd, EPOLLRDHUP, EPOLL_CTL_MOD);
	} else {
		L.held_conns++;
		watch(fd, EPOLLRDHUP, EPOLL_CTL_ADD);
	}
	/* It passed: what it says now is the program's business. */
	lp->state = L_HELD;
	lp->held_since = now_ns();
	heap_add(fd, lp->held_since + (int64_t)L.c->hold_ms * 1000000);
	lp->prev = L.held_tail;
	lp->next = -1;
	if (L.held_tail != -1)
		L.peer[L.held_tail].next = fd;
	else
		L.held_head = fd;
	L.held_tail = fd;
}

/* Sessions may have ended: the longest-held peers get their places. */
static void
resume(void)
{
	while (L.held_head != -1 && L.sessions < L.c->sessions)
		start_session(L.held_head);
}

/* Children the listener started itself (without the starter) ended. */
static void
reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == L.sp_pid) {	/* its pid may be reused from now */
			L.sp_pid = -1;
			continue;
		}
		if (L.sessions > 0)
			L.sessions--;
	}
}

/*
 * The starter's answers.  If it is gone, the programs it started are
 * no longer counted, the peers it had not answered for are told so, and
 * the listener starts programs itself from then on.
 */
static void
on_starter(void)
{
	struct sp_rep rep;
	ssize_t n;
	unsigned fd;

	while ((n = recv(L.sp, &rep, sizeof(rep), MSG_DONTWAIT)) ==
	    (ssize_t)sizeof(rep)) {
		rep.step[sizeof(rep.step) - 1] = '\0';
		if (rep.kind == SP_ENDED) {
			if (L.sessions > 0)
				L.sessions--;
		} else if (rep.id >= 0 && (unsigned)rep.id < L.npeer &&
		    L.peer[rep.id].state == L_STARTING) {
			L.starting--;
			session_done(rep.id, rep.kind == SP_STARTED ? 0 :
			    rep.err, rep.step);
		}
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	logmsg(LOG_ERR, "the process that starts programs stopped; the "
	    "listener starts them itself");
	(void)epoll_ctl(L.ep, EPOLL_CTL_DEL, L.sp, NULL);
	close(L.sp);
	L.sp = -1;
	L.sessions = 0;
	L.starting = 0;
	for (fd = 0; fd < L.npeer; fd++)
		if (L.peer[fd].state == L_STARTING)
			session_done((int)fd, EPIPE, "start");
}

/* At shutdown: the starter's answers for the programs being started. */
static void
sp_finish(void)
{
	int64_t end = now_ns() + (int64_t)SP_WAIT_MS * 1000000;
	struct pollfd pf;
	unsigned fd;

	while (L.sp != -1 && L.starting > 0 && now_ns() < end) {
		pf.fd = L.sp;
		pf.events = POLLIN;
		if (poll(&pf, 1, (int)((end - now_ns()) / 1000000) + 1) > 0)
			on_starter();
	}
	for (fd = 0; fd < L.npeer; fd++)
		if (L.peer[fd].state == L_STARTING)
			session_done((int)fd, ETIMEDOUT, "start");
}

/* ---- what a waiting peer does ---- */

static void
end_with(int fd, const char *outcome, const char *field, int prio)
{
	struct peer p;
	struct verdict v;
	struct line l;

	begin_line(&l, outcome, fd, &p, &v, 1);
	if (field != NULL)
		line_add(&l, "%s", field);
	if (L.peer[fd].held_since != 0)
		line_seconds(&l, "held",
		    (unsigned)now_ms_since(L.peer[fd].held_since));
	line_end(&l, prio, &v);
}

static void
early(int fd, int urgent)
{
	struct lpeer *lp = &L.peer[fd];
	struct peer p;
	struct verdict v;

	as_peer(fd, lp, &p);
	as_verdict(lp, &v);
	cache_note(&L.pc, &v, lp->addr, 0);
	if (L.c->action == ACT_LOG) {
		/*
		 * It gets the program anyway, maybe after a wait for a
		 * session: its early line, made now while what it sent is
		 * still unread, is the one it ends with then.
		 */
		if ((lp->early = malloc(sizeof(*lp->early))) != NULL)
			line_early(lp->early, L.c, &p, &v,
			    (unsigned)now_ms_since(lp->since), urgent);
		else
			log_early(L.c, &p, &v,
			    (unsigned)now_ms_since(lp->since), urgent);
		lp->flags |= F_EARLY;
		give_program(fd);
		return;
	}
	log_early(L.c, &p, &v, (unsigned)now_ms_since(lp->since), urgent);
	if (L.c->action == ACT_DROP) {
		release(fd, 1);
		return;
	}
	/* Read what it sent, reply, and let it see the close. */
	lp->drained = (unsigned)read_sent(fd, lp->drained, DRAIN_BYTES);
	reply_early(L.c, &p);
	(void)shutdown(fd, SHUT_WR);
	/* A flood must not fill the descriptors with closing talkers. */
	if (L.draining >= DRAIN_MAX) {
		release(fd, 1);
		return;
	}
	heap_remove(fd);
	slot_remove(lp->addr);
	lp->state = L_DRAINING;
	L.held_conns--;
	L.draining++;
	heap_add(fd, now_ns() + (int64_t)DRAIN_MS * 1000000);
	watch(fd, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
}

static void
drain(int fd)
{
	struct lpeer *lp = &L.peer[fd];
	char buf[2048];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		lp->drained += (unsigned)n;
		if (lp->drained >= DRAIN_BYTES)
			break;
	}
	if (n == 0 || lp->drained >= DRAIN_BYTES ||
	    (n == -1 && errno != EAGAIN && errno != EINTR))
		release(fd, 1);
}

static void
on_peer(int fd, uint32_t events)
{
	struct lpeer *lp = &L.peer[fd];
	char c;
	ssize_t n;

	switch (lp->state) {
	case L_DRAINING:
		drain(fd);
		return;
	case L_HELD:
		if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
			n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
			end_with(fd, "hangup", n == -1 && errno == ECONNRESET ?
			    " reason=reset" : " reason=eof", LOG_INFO);
			release(fd, 1);
		}
		return;
	case L_WAITING:
		break;
	default:
		return;
	}
	if (events & EPOLLPRI) {
		early(fd, 1);
		return;
	}
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0) {
		early(fd, 0);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	end_with(fd, "hangup", n == 0 ? " reason=eof" : " reason=reset",
	    LOG_INFO);
	release(fd, 1);
}

static void
on_deadline(int fd)
{
	struct lpeer *lp = &L.peer[fd];
	struct peer p;

	switch (lp->state) {
	case L_WAITING:
		lp->flags |= F_PASSED;
		give_program(fd);
		return;
	case L_HELD:
		end_with(fd, "busy", NULL, LOG_WARNING);
		as_peer(fd, lp, &p);
		reply(&p, "421 4.3.2", "Too busy; come back later");
		release(fd, 1);
		return;
	case L_DRAINING:
		release(fd, 1);
		return;
	}
}

/* ---- a new connection ---- */

/* A connection turned away at once: told why, and closed. */
static void
refuse(int fd, const struct peer *p, const char *outcome, const char *field,
    const char *code, const char *text)
{
	struct peer q = *p;
	struct line l;

	if (outcome != NULL) {
		line_begin(&l, outcome, &q);
		line_add(&l, "%s", field);
		line_end(&l, LOG_NOTICE, NULL);
	}
	reply(&q, code, text);
	close(fd);
}

/* sendwrap cannot run the program: every peer hears 421, and one line
 * a second says why, so a launcher never restarts us in a loop. */
static void
refuse_broken(int fd, struct peer *p)
{
	struct line l;

	if (now_ms_since(L.last_broken_log) >= 1000 || L.last_broken_log == 0) {
		L.last_broken_log = now_ns();
		line_begin(&l, "error", p);
		line_value(&l, "reason", L.broken, 1);
		if (L.broken_unlogged > 0)
			line_add(&l, " unlogged=%lu", L.broken_unlogged);
		line_end(&l, LOG_ERR, NULL);
		L.broken_unlogged = 0;
	} else
		L.broken_unlogged++;
	reply_unavailable(p, L.broken_code);
	close(fd);
}

/* A new connection, accepted at since: decide, then wait or go on. */
static void
admit(int fd, const struct sockaddr_storage *ss, int64_t since)
{
	struct lpeer *lp;
	struct al_match m;
	struct verdict v;
	struct peer p;
	char c;

	memset(&p, 0, sizeof(p));
	p.fd = fd;
	peer_from_sockaddr(&p, ss);
	if ((unsigned)fd >= L.npeer) {		/* cannot happen: the fd limit */
		refuse(fd, &p, "limit", " reason=total", "421 4.7.0",
		    "Too many connections; come back later");
		return;
	}
	if (L.broken != NULL) {
		refuse_broken(fd, &p);
		return;
	}
	al_match_init(&m, p.addr);
	if (L.rules.table != NULL)
		al_table_lookup(L.rules.table, p.addr, &m);
	if (verdict_of(L.c, &L.rules.st, &m, &L.pc, p.addr, &v) == -1)
		logmsg(LOG_ERR, "%s", L.pc.msg);
	/* Allowlisted and cached peers never wait: no limit applies. */
	if (v.kind == V_WAIT) {
		if (L.held_conns >= L.max_conns) {
			refuse(fd, &p, "limit", " reason=total", "421 4.7.0",
			    "Too many connections; come back later");
			return;
		}
		if (L.c->per_address > 0 &&
		    slot_count(p.addr) >= L.c->per_address) {
			refuse(fd, &p, "limit", " reason=address", "421 4.7.0",
			    "Too many connections from your address; come "
			    "back later");
			return;
		}
	}
	lp = &L.peer[fd];
	memset(lp, 0, sizeof(*lp));
	lp->since = since;	/* the delay counts from the accept */
	memcpy(lp->addr, p.addr, 16);
	lp->port = (unsigned short)p.port;
	lp->delay_ms = v.delay_ms;
	lp->age = (unsigned)v.age;
	lp->prev = lp->next = -1;
	lp->flags = (v.untrusted ? F_UNTRUSTED : 0) |
	    (v.key[0] != '\0' ? F_KEYED : 0) |
	    (v.kind == V_CACHED ? F_CACHED : 0) |
	    (v.m.found ? F_RULE : 0) | (v.m.builtin ? F_BUILTIN : 0);
	lp->rule_file = v.m.file;
	lp->rule_line = v.m.line;
	if (v.kind != V_WAIT) {
		lp->state = L_FREE;
		give_program(fd);
		return;
	}
	lp->state = L_WAITING;
	L.held_conns++;
	slot_add(lp->addr);
	heap_add(fd, lp->since + (int64_t)v.delay_ms * 1000000);
	watch(fd, EPOLLIN | EPOLLPRI | EPOLLRDHUP, EPOLL_CTL_ADD);
	send_teaser(L.c, &p);
	if (p.teased)
		lp->flags |= F_TEASED;
	/* A bot that sent its lines already is turned away at once. */
	if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
		early(fd, 0);
}

static void
pause_accepting(int err)
{
	int i;

	logmsg(LOG_WARNING, "accept: %s; pausing %d ms", strerror(err),
	    ACCEPT_PAUSE_MS);
	L.paused_until = now_ns() + (int64_t)ACCEPT_PAUSE_MS * 1000000;
	for (i = 0; i < L.nlisten; i++)
		watch(L.lfd[i], 0, EPOLL_CTL_MOD);
}

static void
on_listener(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i, fd;

	for (i = 0; i < ACCEPTS_A_TURN; i++) {
		len = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				pause_accepting(errno);
			return;		/* EAGAIN, or a peer gone already */
		}
		if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
			close(fd);
			continue;
		}
		admit(fd, &ss, now_ns());
	}
}

/* ---- the allowlist, read once and again when it changes ---- */

static void
look(const char *path, struct seen *s)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (stat(path, &st) == -1)
		return;
	s->exists = 1;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = st.st_mtim;
	s->ctime = st.st_ctim;
}

static int
same_seen(const struct seen *a, const struct seen *b)
{
	return a->exists == b->exists && a->dev == b->dev &&
	    a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/*
 * Read the sources into a new table.  With a problem the rules are not
 * trusted (peer.c's verdict), as per connection; the problems are
 * logged and so is what they mean for the peers to come.
 */
static void
load_rules(const char *why)
{
	struct reporter r = { 0, 0, NULL };
	struct rules fresh;
	struct al_match m;
	char delay[32];
	size_t i;

	memset(&fresh, 0, sizeof(fresh));
	if ((fresh.table = al_table_new()) == NULL) {
		if (L.rules.table != NULL) {
			logmsg(LOG_ERR, "allowlist %s: out of memory; the rules "
			    "stay as they were", why);
			return;
		}
		/* No rules yet: trust nothing. */
		L.rules.st.problems = 1;
		L.rules.st.longest_ms = L.c->delay_ms;
		al_delay_format(L.c->delay_ms, delay, sizeof(delay));
		logmsg(LOG_ERR, "allowlist %s: out of memory; no peer is "
		    "allowlisted and every peer waits %s seconds", why, delay);
		return;
	}
	/* What is read from now on; a failed reading is tried again. */
	for (i = 0; i < L.c->nsrc; i++)
		if (L.c->src[i].is_file)
			look(L.c->src[i].text, &L.seen[i]);
	sources_read(L.c, NULL, &m, fresh.table, &r, &fresh.st);
	report_more(&r);
	/* A pass cache that could not be used may have been mended. */
	if (L.c->cache_dir != NULL && L.pc.fd == -1 &&
	    pc_open(&L.pc, L.c->cache_dir, L.c->cache_ttl) == -1)
		logmsg(LOG_ERR, "%s", L.pc.msg);
	al_table_free(L.rules.table);
	L.rules = fresh;
	al_delay_format(fresh.st.longest_ms, delay, sizeof(delay));
	if (fresh.st.problems > 0)
		logmsg(LOG_ERR, "allowlist %s: %lu problem%s; until they are "
		    "fixed, no peer is allowlisted and every peer waits %s "
		    "seconds", why, fresh.st.problems,
		    fresh.st.problems == 1 ? "" : "s", delay);
	else
		logmsg(LOG_INFO, "allowlist %s: %lu entr%s", why,
		    fresh.st.entries, fresh.st.entries == 1 ? "y" : "ies");
}

/*
 * Once a tick: has a file changed?  It is read only once it has stood
 * still for STILL_MS, so that a file being written is not taken for a
 * shorter valid one.  SIGHUP reads at once.
 */
static void
check_rules(void)
{
	struct seen now;
	size_t i;
	int changed = 0;

	if (L.reload_now) {
		L.reload_now = 0;
		load_rules("reloaded on SIGHUP");
		return;
	}
	for (i = 0; i < L.c->nsrc; i++) {
		if (!L.c->src[i].is_file)
			continue;
		look(L.c->src[i].text, &now);
		if (same_seen(&now, &L.seen[i]))
			continue;
		if (!same_seen(&now, &L.pending[i])) {
			L.pending[i] = now;
			L.pending_since = now_ns();
		}
		changed = 1;
	}
	if (changed && now_ms_since(L.pending_since) >= STILL_MS)
		load_rules("reloaded");
}

/* ---- signals ---- */

static int
shut_down_all(int sig)
{
	char name[32], field[48];
	unsigned fd;
	int i;

	for (i = 0; i < L.nlisten; i++)
		close(L.lfd[i]);
	sp_finish();
	snprintf(field, sizeof(field), " signal=%s",
	    signal_name(sig, name, sizeof(name)));
	for (fd = 0; fd < L.npeer; fd++) {
		struct lpeer *lp = &L.peer[fd];
		struct peer p;

		if (lp->state == L_WAITING || lp->state == L_HELD) {
			end_with((int)fd, "shutdown", field, LOG_NOTICE);
			as_peer((int)fd, lp, &p);
			reply(&p, "421 4.3.2", "Service shutting down");
		}
		if (lp->state != L_FREE)
			close((int)fd);
	}
	log_report_lost();
	log_flush();
	return 0;
}

/* Returns -1 to go on, or the exit status. */
static int
on_signals(void)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(L.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (si.ssi_signo == SIGHUP)
			L.reload_now = 1;
		else if (!stop)
			stop = (int)si.ssi_signo;
	}
	reap();
	if (stop)
		return shut_down_all(stop);
	if (L.reload_now && L.broken == NULL)
		check_rules();
	resume();
	return -1;
}

/* ---- setting up ---- */

/* The program's environment: ours, less systemd's LISTEN_*, and two
 * slots for REMOTE_ADDR and REMOTE_PORT, filled for each peer. */
static int
make_env(void)
{
	size_t n = 0, i, k = 0;

	while (environ[n] != NULL)
		n++;
	if ((L.envp = calloc(n + 3, sizeof(*L.envp))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "LISTEN_", 7) != 0 &&
		    strncmp(environ[i], "REMOTE_ADDR=", 12) != 0 &&
		    strncmp(environ[i], "REMOTE_PORT=", 12) != 0)
			L.envp[k++] = environ[i];
	L.envp[k++] = L.remote_addr;
	L.envp[k++] = L.remote_port;
	L.envp[k] = NULL;
	return 0;
}

/*
 * How many connections the descriptors allow: the soft limit is raised
 * to the hard one (the children get the launcher's back), and a reserve
 * is kept so that accepting and answering never fail.
 */
static int
size_limits(void)
{
	struct rlimit rl;
	unsigned long room;
	size_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = { rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			rl.rlim_cur = rl.rlim_max;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576)
		rl.rlim_cur = 1048576;
	L.npeer = (unsigned)rl.rlim_cur;
	room = L.npeer > FD_RESERVE + DRAIN_MAX + (unsigned)L.nlisten + 8 ?
	    L.npeer - FD_RESERVE - DRAIN_MAX - (unsigned)L.nlisten - 8 : 1;
	L.max_conns = L.c->max_waiting > 0 && L.c->max_waiting < room ?
	    L.c->max_waiting : room;
	if (L.c->max_waiting > room)
		logmsg(LOG_WARNING, "-n %lu is more than the descriptor limit "
		    "allows; using %lu", L.c->max_waiting, room);
	for (want = 64; want < 2 * (size_t)L.max_conns; want *= 2)
		;
	L.nslot = want;
	L.peer = calloc(L.npeer, sizeof(*L.peer));
	L.heap = calloc(L.npeer, sizeof(*L.heap));
	L.slot = calloc(L.nslot, sizeof(*L.slot));
	L.seen = calloc(L.c->nsrc + 1, sizeof(*L.seen));
	L.pending = calloc(L.c->nsrc + 1, sizeof(*L.pending));
	if (L.peer == NULL || L.heap == NULL || L.slot == NULL ||
	    L.seen == NULL || L.pending == NULL)
		return -1;
	return 0;
}

static int
set_up(void)
{
	sigset_t sigs;
	int i;

	/* Children must be heard to end, whatever the launcher ignored. */
	launcher_default(SIGCHLD);
	launcher_events(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if ((L.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    (L.ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	watch(L.sigfd, EPOLLIN, EPOLL_CTL_ADD);
	for (i = 0; i < L.nlisten; i++)
		watch(L.lfd[i], EPOLLIN, EPOLL_CTL_ADD);
	L.held_head = L.held_tail = -1;
	return 0;
}

/* Milliseconds until the next thing to do. */
static int
next_timeout(void)
{
	int64_t next = L.next_tick, now = now_ns(), ms;

	if (L.nheap > 0 && L.peer[L.heap[0]].deadline < next)
		next = L.peer[L.heap[0]].deadline;
	if (L.paused_until != 0 && L.paused_until < next)
		next = L.paused_until;
	if (next <= now)
		return 0;
	ms = (next - now + 999999) / 1000000;	/* never early */
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void
on_time(void)
{
	int64_t now = now_ns();
	int i;

	while (L.nheap > 0 && L.peer[L.heap[0]].deadline <= now)
		on_deadline((int)L.heap[0]);
	if (L.paused_until != 0 && L.paused_until <= now) {
		L.paused_until = 0;
		for (i = 0; i < L.nlisten; i++)
			watch(L.lfd[i], EPOLLIN, EPOLL_CTL_MOD);
	}
	if (now >= L.next_tick) {
		L.next_tick = now + (int64_t)TICK_MS * 1000000;
		if (L.broken == NULL)
			check_rules();
		log_report_lost();
	}
	log_flush();
}

/*
 * Run until a signal stops us.  A configuration that cannot run does not
 * end the listener: it answers every connection 421 and says why once a
 * second, so that port 25 never goes dark in a restart loop.
 */
int
listener_run(const struct config *c, int optrc)
{
	struct epoll_event ev[EVENTS_MAX];
	char *path, *why;
	int n, i, rc;

	memset(&L, 0, sizeof(L));
	/* On the heap, not in .bss: a process per connection never needs them. */
	L.path = path = malloc(PATH_MAX);
	L.why = why = malloc(LOG_LINE_MAX);
	if (path == NULL || why == NULL) {
		logmsg(LOG_ERR, "error reason=\"out of memory\"");
		return EX_OSERR;
	}
	L.c = c;
	L.pc.fd = -1;
	L.sp = -1;
	L.sp_pid = -1;
	if (take_listeners() == -1) {
		logmsg(LOG_ERR, "error reason=\"cannot use the listening "
		    "socket: %s\"", strerror(errno));
		return EX_OSERR;
	}
	log_nonblocking();
	if (size_limits() == -1 || set_up() == -1 || make_env() == -1) {
		logmsg(LOG_ERR, "error reason=\"cannot start listening: %s\"",
		    strerror(errno));
		return EX_OSERR;
	}
	if (c->no_memory) {
		L.broken = "out of memory";
		L.broken_code = "421 4.3.0";
	} else if (optrc == -1) {
		config_errors_joined(c, why, LOG_LINE_MAX);
		L.broken = why;
		L.broken_code = "421 4.3.5";
	} else if (program_find(c->prog[0], path, PATH_MAX, why,
	    LOG_LINE_MAX) == -1) {
		L.broken = why;
		L.broken_code = "421 4.3.0";
	}
	if (L.broken != NULL)
		logmsg(LOG_ERR, "listener cannot run the program: %s; every "
		    "connection gets %s", L.broken, L.broken_code);
	else {
		load_rules("read");
		sp_start();
		logmsg(LOG_INFO, "listening on %d socket%s: at most %lu "
		    "waiting, %lu from one address, %lu sessions", L.nlisten,
		    L.nlisten == 1 ? "" : "s", L.max_conns, c->per_address,
		    c->sessions);
	}
	L.next_tick = now_ns() + (int64_t)TICK_MS * 1000000;
	for (;;) {
		n = epoll_wait(L.ep, ev, EVENTS_MAX, next_timeout());
		if (n == -1 && errno != EINTR) {
			logmsg(LOG_ERR, "error reason=\"epoll_wait: %s\"",
			    strerror(errno));
			return EX_OSERR;
		}
		for (i = 0; i < n; i++) {
			int fd = ev[i].data.fd, k;

			if (fd == L.sigfd) {
				if ((rc = on_signals()) != -1)
					return rc;
				continue;
			}
			if (fd == L.sp && L.sp != -1) {
				on_starter();
				continue;
			}
			for (k = 0; k < L.nlisten; k++)
				if (fd == L.lfd[k])
					break;
			if (k < L.nlisten)
				on_listener(fd);
			else if ((unsigned)fd < L.npeer)
				on_peer(fd, ev[i].events);
		}
		on_time();
		resume();
	}
}
