/*
 * log.h - sendwrap's one exit for diagnostics.
 *
 * Every line sendwrap logs goes through logmsg(): to syslog (facility
 * mail, through /dev/log), or to standard error when asked and safe.
 * Nothing else in sendwrap writes to fds 1 and 2, which under inetd are
 * the SMTP connection.
 *
 * The listener must never wait for its log: log_nonblocking() makes
 * every write one that cannot block, and a line that could not be
 * written is counted (log_lost()) instead, for a later line to report.
 */
#ifndef SENDWRAP_LOG_H
#define SENDWRAP_LOG_H

#include <stddef.h>
#include <syslog.h>

#define LOG_LINE_MAX	1024		/* one log line, without its prefix */
#define LOG_SOCKET	"/dev/log"

enum log_dest { LOG_TO_SYSLOG, LOG_TO_STDERR };

enum log_dest	 log_choose(int);
void		 log_open(int, int);
void		 log_nonblocking(void);
void		 logmsg(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 log_flush(void);
unsigned long	 log_lost(void);
void		 log_report_lost(void);
int		 log_syslog_reachable(void);
int		 fd_is_inet_socket(int);

#endif
