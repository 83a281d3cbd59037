/*
 * listener.h - one sendwrap process that holds every waiting peer.
 *
 * Given a listening socket (inetd "wait", xinetd "wait = yes", a
 * systemd socket with Accept=no, or systemd's LISTEN_FDS), sendwrap
 * accepts connections itself, holds each waiting peer in one event
 * loop with its own deadline, and forks the program only for the peers
 * that get it.  The rules, replies and log lines are peer.c's, the same
 * as per connection.
 */
#ifndef SENDWRAP_LISTENER_H
#define SENDWRAP_LISTENER_H

#include "peer.h"

int	 listener_fds_from_env(void);
int	 listener_run(const struct config *, int);

#endif
