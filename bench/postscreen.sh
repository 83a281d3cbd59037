# bench/postscreen.sh - Postfix's postscreen for bench/run, sourced by it.
#
# Postfix is not installed system-wide: its package would replace Exim,
# which the tests use.  The full run fetches the postfix package
# (apt-get download) and unpacks it (dpkg-deb -x) into $PF_DIR/root,
# which is kept from run to run; a quick run uses that root, or a
# Postfix installed system-wide, and skips postscreen when there is
# neither.  Postfix's master must start as root and wants a mail_owner
# user and a setgid group: the full run creates the system user
# "postfix" and the group "postdrop" if they are missing, and says so.
#
# Each instance gets its own configuration and queue directories and a
# master with three services: postscreen on a loopback port, smtpd as
# postscreen's "pass" service, and postlogd writing the log to a file.
# The master runs in a PID namespace of its own, so that stopping it
# (SIGTERM to its pid) ends every process it started, reaped.
#
# Needs from bench/run: OUT, QUICK, LOAD, note, pids.

PF_DIR=$OUT/postfix

# pf_prepare: find or fetch a Postfix that can run here.  Sets PF_SBIN
# and PF_LIB, PF_NOTES (what was done to the machine) and PF_SKIP (why
# postscreen cannot run; empty when it can).
pf_prepare() {
	local root="" miss deb
	PF_SKIP="" PF_NOTES="" PF_SBIN="" PF_LIB="" PF_ENV=()
	if [ "$(id -u)" != 0 ]; then
		PF_SKIP="not root (Postfix's master must start as root)"
		return
	fi
	if ! unshare --pid --fork --kill-child true 2>/dev/null; then
		PF_SKIP="unshare --pid does not work here"
		return
	fi
	if [ -x "$PF_DIR/root/usr/lib/postfix/sbin/postscreen" ]; then
		root=$PF_DIR/root
	elif [ -x /usr/lib/postfix/sbin/postscreen ]; then
		root=""
	elif [ "$QUICK" = 1 ]; then
		PF_SKIP="no Postfix unpacked (make bench fetches it)"
		return
	elif command -v apt-get >/dev/null; then
		note "bench: fetching the postfix package, unpacked under $PF_DIR"
		rm -rf "$PF_DIR"
		mkdir -p "$PF_DIR/deb"
		# apt's sandbox user downloads into it.
		chown _apt "$PF_DIR/deb" 2>/dev/null || true
		if ! (cd "$PF_DIR/deb" && apt-get download postfix >&2) ||
		    ! deb=$(ls "$PF_DIR"/deb/postfix_*.deb 2>/dev/null) ||
		    ! dpkg-deb -x "$deb" "$PF_DIR/root"; then
			PF_SKIP="the postfix package could not be fetched"
			return
		fi
		root=$PF_DIR/root
		PF_NOTES="postfix $(dpkg-deb -f "$deb" Version) unpacked under build/bench/postfix"
	else
		PF_SKIP="no Postfix, and no apt-get to fetch it"
		return
	fi
	PF_SBIN=$root/usr/lib/postfix/sbin
	PF_LIB=$root/usr/lib/postfix
	[ -n "$root" ] && PF_ENV=(LD_LIBRARY_PATH="$PF_LIB")
	# Its libraries: those beside it, and the system's (libssl, libicu...).
	miss=$(env "${PF_ENV[@]}" ldd "$PF_SBIN/master" "$PF_SBIN/postscreen" \
	    "$PF_SBIN/smtpd" 2>&1 | awk '/not found/ { print $1 }' | sort -u)
	if [ -n "$miss" ] && [ "$QUICK" = 0 ]; then
		note "bench: Postfix needs $miss; installing the postfix package's library dependencies"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends $(apt-cache depends postfix |
		    awk '$1 == "Depends:" && $2 ~ /^lib/ { print $2 }') >&2 || true
		miss=$(env "${PF_ENV[@]}" ldd "$PF_SBIN/master" \
		    "$PF_SBIN/postscreen" "$PF_SBIN/smtpd" 2>&1 |
		    awk '/not found/ { print $1 }' | sort -u)
	fi
	if [ -n "$miss" ]; then
		PF_SKIP="Postfix's libraries are missing: $(echo $miss)"
		return
	fi
	if ! getent group postdrop >/dev/null || ! getent passwd postfix >/dev/null; then
		if [ "$QUICK" = 1 ]; then
			PF_SKIP="no user postfix or group postdrop (make bench creates them)"
			return
		fi
		if ! getent group postdrop >/dev/null; then
			groupadd --system postdrop || { PF_SKIP="cannot create group postdrop"; return; }
			PF_NOTES="${PF_NOTES:+$PF_NOTES; }created the system group postdrop"
		fi
		if ! getent passwd postfix >/dev/null; then
			useradd --system --user-group --home-dir /nonexistent \
			    --no-create-home --shell /usr/sbin/nologin postfix ||
			    { PF_SKIP="cannot create user postfix"; return; }
			PF_NOTES="${PF_NOTES:+$PF_NOTES; }created the system user postfix"
		fi
		note "bench: $PF_NOTES"
	fi
	PF_VERSION=$(env "${PF_ENV[@]}" "$root/usr/sbin/postconf" -d -h mail_version 2>/dev/null || echo '?')
}

# pf_start NAME BANNER WAIT ACCESS: a Postfix instance with postscreen on a
# fresh loopback port.  BANNER is the teaser text (empty: no teaser, and
# so no pregreet test), WAIT the postscreen_greet_wait in seconds,
# ACCESS a cidr table for postscreen_access_list.  Sets PF_PORT,
# PF_MASTER (the master's pid), PF_SCREEN (postscreen's), PF_LOG; returns
# 1 and sets PF_SKIP if it does not answer.
pf_start() {
	local name=$1 banner=$2 wait=$3 access=$4 d=$OUT/pf-$1 i p
	rm -rf "$d"
	mkdir -p "$d/conf" "$d/data" "$d/spool/pid" "$d/spool/public" \
	    "$d/spool/private"
	chown postfix "$d/data" "$d/spool/private"
	chown postfix:postdrop "$d/spool/public"
	chmod 700 "$d/spool/private"
	chmod 710 "$d/spool/public"
	cp "$access" "$d/conf/access.cidr"
	PF_PORT=$("$LOAD" freeport)
	PF_LOG=$d/maillog
	cat >"$d/conf/main.cf" <<-EOF
	# bench/postscreen.sh: one instance, private directories, loopback only.
	compatibility_level = 3.6
	queue_directory = $d/spool
	data_directory = $d/data
	meta_directory = $d/conf
	daemon_directory = $PF_SBIN
	shlib_directory = $PF_LIB
	mail_owner = postfix
	setgid_group = postdrop
	import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C ${PF_ENV[*]}
	maillog_file = $PF_LOG
	maillog_file_prefixes = $d
	myhostname = bench.invalid
	mydestination =
	local_recipient_maps =
	relay_domains =
	alias_maps =
	alias_database =
	inet_interfaces = 127.0.0.1
	inet_protocols = ipv4
	mynetworks = 127.0.0.1/32
	# The greeting the bench's client checks: "220 fakemta".
	smtpd_banner = fakemta
	smtpd_peername_lookup = no
	smtpd_client_connection_count_limit = 0
	# The master's listen() backlog for postscreen is this limit (capped
	# by net.core.somaxconn), as bench/launch's is 4096; smtpd's own
	# process limit is in master.cf.
	default_process_limit = 4096
	max_idle = 3600
	# The pregreet test alone, as sendwrap: no DNSBL, no deep tests.
	postscreen_greet_wait = ${wait}s
	postscreen_greet_banner = $banner
	postscreen_greet_action = drop
	postscreen_access_list = cidr:$d/conf/access.cidr
	postscreen_cache_map =
	postscreen_client_connection_count_limit = 0
	postscreen_pre_queue_limit = 30000
	postscreen_post_queue_limit = 30000
	EOF
	# At most 100 smtpd sessions at once, as sendwrap's listener has at
	# most 100 MTA sessions by default.
	cat >"$d/conf/master.cf" <<-EOF
	127.0.0.1:$PF_PORT inet n - n - 1 postscreen
	smtpd pass - - n - 100 smtpd
	postlog unix-dgram n - n - 1 postlogd
	EOF
	(cd "$d" && exec unshare --pid --fork --kill-child -- env \
	    "${PF_ENV[@]}" "$PF_SBIN/master" -c "$d/conf" -d \
	    </dev/null >"$d/master.out" 2>&1) &
	PF_NS=$!
	pids+=("$PF_NS")
	PF_MASTER="" PF_SCREEN=""
	for i in $(seq 100); do
		PF_MASTER=$(cat "/proc/$PF_NS/task/$PF_NS/children" 2>/dev/null | awk '{ print $1 }')
		[ -n "$PF_MASTER" ] && grep -q "^ *[0-9]*: 0100007F:$(printf '%04X' "$PF_PORT") 00000000:0000 0A" \
		    /proc/net/tcp && break
		sleep 0.05
	done
	# One allowlisted connection starts postscreen and proves the way
	# through to smtpd.
	if [ -z "$PF_MASTER" ] ||
	    ! "$LOAD" latency -n 1 -w 0 "postscreen=$PF_PORT" >/dev/null 2>&1; then
		PF_SKIP="postscreen did not answer: $(tail -2 "$d/master.out" "$PF_LOG" 2>/dev/null | tr '\n' ' ')"
		pf_stop
		return 1
	fi
	for i in $(seq 50); do
		for p in $(cat "/proc/$PF_MASTER/task/$PF_MASTER/children"); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = postscreen ] &&
			    PF_SCREEN=$p
		done
		[ -n "$PF_SCREEN" ] && break
		sleep 0.05
	done
	[ -n "$PF_SCREEN" ] || { PF_SKIP="no postscreen process"; pf_stop; return 1; }
}

# pf_stop: SIGTERM to the master, which passes it to its services.  It
# then sends SIGTERM to itself, which the kernel does not deliver to
# the first process of a PID namespace (that master here): so once its
# services are gone it gets SIGKILL, and the namespace's end takes
# and reaps what is left (the logger).  Then nothing of it runs.
pf_stop() {
	local p i live
	if [ -n "$PF_MASTER" ] && kill "$PF_MASTER" 2>/dev/null; then
		# Until every service but the logger (kept to the end) exits.
		for i in $(seq 100); do
			live=0
			for p in $(cat "/proc/$PF_MASTER/task/$PF_MASTER/children" \
			    2>/dev/null); do
				[ "$(cat "/proc/$p/comm" 2>/dev/null)" = postlogd ] ||
				    [ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null |
				    cut -d' ' -f1)" = Z ] || live=1
			done
			[ $live = 0 ] && break
			sleep 0.05
		done
		kill -KILL "$PF_MASTER" 2>/dev/null || true
	fi
	wait "$PF_NS" 2>/dev/null || true
	for p in "${!pids[@]}"; do
		[ "${pids[$p]}" = "$PF_NS" ] && unset "pids[$p]"
	done
	pids=("${pids[@]}")
	PF_MASTER="" PF_SCREEN=""
}
