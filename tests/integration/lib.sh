# Shared by tests/integration/run and tests/integration/demo (bash).
#
# Nothing here starts a process it does not also stop: every process is
# remembered by its pid and ended by that pid.

# The user the examples run sendwrap and Exim as.
# shellcheck disable=SC2034
SW_RUNAS=Debian-exim

# Compare decimals: sw_le A B is true when A <= B.
sw_le() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'
}

# A key=value field of a smtpprobe report line ("" when absent).
sw_field() {
	sed -n "s/.* $2=\\([^ ]*\\).*/\\1/p" <<<" $1" | head -n 1
}

# A quoted field (first="...", bye="...") of a smtpprobe report line,
# unquoted ("" when absent).
sw_quoted() {
	sed -n "s/.* $2=\"\([^\"]*\)\".*/\1/p" <<<" $1" | head -n 1
}

# The line= part of a smtpprobe report line, unquoted.
sw_line() {
	sed -n 's/.* line="\(.*\)"$/\1/p' <<<"$1" | head -n 1
}

# Wait until something listens on TCP port $1, while pid $2 lives.
sw_wait_listen() {
	local i
	for i in $(seq 100); do
		if ss -Hltn "( sport = :$1 )" 2>/dev/null | grep -q .; then
			return 0
		fi
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# Stop pid $1 (one we started): TERM, then KILL after 3 seconds.
sw_stop() {
	local i
	kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 60); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# Pids of processes whose command line mentions $1 (a private temporary
# directory, so they can only be ours), leaving out pids $2...
sw_pids_under() {
	local dir=$1 pid args
	shift
	ps -ww -e -o pid=,args= | while read -r pid args; do
		case " $* " in *" $pid "*) continue ;; esac
		[ "$pid" = "$$" ] && continue
		case "$args" in
		*"$dir/"*) echo "$pid" ;;
		esac
	done
}

# Wait up to $2 seconds for sw_pids_under $1 (minus $3...) to be empty;
# print what is left.
sw_wait_gone() {
	local dir=$1 secs=$2 left i
	shift 2
	for i in $(seq $((secs * 20))); do
		left=$(sw_pids_under "$dir" "$@")
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	for i in $left; do
		ps -o pid=,user=,args= -p "$i"
	done
	return 1
}

# A private Exim in directory $1, run as user $2 and group $3: its own
# configuration, spool and log, queue_only so it delivers nothing and
# forks nothing, and $1/exim4, a wrapper that runs /usr/sbin/exim4 with
# that configuration (-C).  Exim gives up root for a -C file that is
# not in its TRUSTED_CONFIG_LIST and runs as the calling user, which is
# all SMTP reception needs: spool and log belong to that user.  The
# wrapper sends Exim's stderr to a file, because under inetd stderr is
# the connection and Exim says there that -C cost it its privilege.
# PIPECONNECT is not offered, as sendwrap's manual asks of an Exim
# behind it: a sender that used it would send EHLO before the greeting.
sw_exim_setup() {
	local dir=$1 user=$2 group=$3
	mkdir -p "$dir/spool" "$dir/log" || return 1
	cat >"$dir/exim.conf" <<-EOF
	# Private Exim for sendwrap's tests: receive and queue, nothing else.
	exim_user = $user
	exim_group = $group
	primary_hostname = mta.sendwrap.test
	spool_directory = $dir/spool
	log_file_path = $dir/log/%slog
	log_selector = +smtp_connection +incoming_port
	keep_environment =
	host_lookup =
	rfc1413_hosts =
	pipelining_connect_advertise_hosts =
	queue_only = true
	domainlist local_domains = sendwrap.test
	acl_smtp_rcpt = acl_check_rcpt

	begin acl
	acl_check_rcpt:
	  accept domains = +local_domains
	  deny   message = relay not permitted

	begin routers
	begin transports
	EOF
	cat >"$dir/exim4" <<-EOF
	#!/bin/sh
	exec /usr/sbin/exim4 -C $dir/exim.conf "\$@" 2>>$dir/exim.stderr
	EOF
	: >"$dir/exim.stderr"
	chmod 644 "$dir/exim.conf"
	chmod 755 "$dir/exim4" "$dir"
	chmod 666 "$dir/exim.stderr"
	chown -R "$user:$group" "$dir/spool" "$dir/log" || return 1
}
