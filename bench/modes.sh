# bench/modes.sh - sendwrap's listener, sendwrap per connection and Postfix's
# postscreen side by side; sourced by bench/run.
#
#   5. waiting peers: how many each holds at once, and what each costs;
#   6. early talkers: the highest rate each turns away, and its CPU;
#   7. on time under load: a polite peer's lateness during 5 and 6;
#   8. an allowlisted peer: connect to greeting, 10 and 100,000 entries.
#
# One load client (bench/load.c) for every column, several processes
# strong, from source addresses counted up through 127.0.0.0/8.  The
# listener runs under the bench launcher with the listening socket on
# fd 0 (launch -w, inetd's "wait" style); a sendwrap that refuses a
# listening socket (1.0) makes that column say "not available in this
# build" instead of failing the run.  Per connection runs under the
# bench launcher (launch, "nowait").  postscreen comes from
# bench/postscreen.sh.
#
# Needs from bench/run: OUT, QUICK, SW, MTA, LOAD, LAUNCH, SCALE, pids,
# out, note, die, kv, calc, fmt, have_ssa.

if [ "$QUICK" = 1 ]; then
	M_HOLDS="100:1" M_CONN_HOLDS="100:1" M_RATE=1000
	O_N=200 O_DELAY=3
	E_DELAY=1 E_SECS=1 E_RATES="200" E_DEMO_RATE=0 LAT_ROUNDS=10
else
	M_HOLDS="2000:3 10000:3 19000:10" M_CONN_HOLDS="2000:3 10000:3"
	O_N=10000 O_DELAY=10
	M_RATE=5000 E_DELAY=3 E_SECS=10 E_RATES="1000 2000 5000 10000"
	E_DEMO_RATE=100 LAT_ROUNDS=100
fi
M_WORKERS=4		# load client processes: 4 x 20,000 descriptors
LISTEN_N=${BENCH_LISTEN_N:-19500}	# the listener's -n: peers waiting at most
LIST_BIG=${SCALE##* }	# the largest allowlist of section 4
NBASE=0

# base: a fresh range of 262,144 source addresses for the next run of
# the client, so that no address meets a server twice within a run.
base() {
	BASE="127.$((16 + 4 * (NBASE % 59))).0.0"
	NBASE=$((NBASE + 1))
}

stop_pid() {	# stop_pid PID: SIGTERM, reap, forget
	local p=$1 i
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	for i in "${!pids[@]}"; do
		[ "${pids[$i]}" = "$p" ] && unset "pids[$i]"
	done
	pids=("${pids[@]}")
}

# label KEY: a column's name in the tables.
label() {
	case $1 in
	listener) echo "sendwrap listener" ;;
	listener_g) echo "sendwrap listener -g" ;;
	conn) echo "sendwrap per connection" ;;
	conn_g) echo "sendwrap per connection -g" ;;
	ps) echo "postscreen (teaser on)" ;;
	esac
}

# absent KEY CELLS: the row of a server that was not measured, and true;
# CELLS are the row's empty cells after the reason.
absent() {
	local why=""
	case $1 in
	listener*) [ "$LISTENER" = 1 ] || why="not available in this build" ;;
	ps*) [ -z "$PF_SKIP" ] || why="not run: $PF_SKIP" ;;
	esac
	[ -n "$why" ] || return 1
	out "| $(label "$1") | $why |$2"
}

# sw NAME MODE DELAY [ARG ...]: sendwrap on a fresh loopback port, MODE
# "listener" (launch -w) or "conn" (launch); 127.0.0.1 allowlisted (the
# start-up probe, section 8), the rest of loopback delayed.  The fake
# MTA marks each run in $OUT/tmp/mark.NAME.  Sets SRV_PORT and SRV_PID
# (the listener itself, or the per-connection launcher); returns 1
# with SRV_WHY when the first allowlisted connection gets no greeting.
# With SW_NOLISTS=1 the caller's -a file is the only allowlist.
sw() {
	local name=$1 mode=$2 d=$3 i st wflag=() opts=() lists=()
	shift 3
	[ "${SW_NOLISTS:-0}" = 1 ] || lists=(-A "127.0.0.0/8 $d" -A "127.0.0.1/32 0")
	rm -f "$OUT/tmp/port.$name" "$OUT/tmp/mark.$name"
	if [ "$mode" = listener ]; then
		wflag=(-w)
		opts=(-n "$LISTEN_N" -p 0)
	fi
	FAKEMTA_MARK=$OUT/tmp/mark.$name "$LAUNCH" "${wflag[@]}" \
	    -o "$OUT/tmp/port.$name" "$SW" sendwrap -s -d "$d" "${opts[@]}" \
	    "${lists[@]}" "$@" "$MTA" \
	    </dev/null >/dev/null 2>"$OUT/tmp/log.$name" &
	SRV_PID=$!
	pids+=("$SRV_PID")
	for i in $(seq 100); do
		[ -s "$OUT/tmp/port.$name" ] && break
		sleep 0.05
	done
	SRV_PORT=$(cat "$OUT/tmp/port.$name" 2>/dev/null || echo 0)
	if [ "$SRV_PORT" = 0 ] ||
	    ! "$LOAD" latency -n 1 -w 0 "$name=$SRV_PORT" >/dev/null 2>&1; then
		st=running
		kill -0 "$SRV_PID" 2>/dev/null || { wait "$SRV_PID" && st=0 || st=$?; }
		SRV_WHY="it did not greet (exit status $st: $(head -1 "$OUT/tmp/log.$name" | sed 's/^sendwrap\[[0-9]*\]: //'))"
		stop_pid "$SRV_PID"
		return 1
	fi
}

# Is the listener in this build?  Asked once, under the bench launcher
# and under systemd-socket-activate (LISTEN_FDS, no --accept).
listener_check() {
	local p
	LISTENER=0 LISTENER_SSA="not tried (systemd-socket-activate is not installed)"
	if sw check-listener listener "$E_DELAY"; then
		LISTENER=1
		stop_pid "$SRV_PID"
	else
		LISTENER_WHY=$SRV_WHY
	fi
	[ "$have_ssa" = 1 ] || return 0
	p=$("$LOAD" freeport)
	FAKEMTA_MARK=/dev/null systemd-socket-activate -l "127.0.0.1:$p" -- \
	    "$SW" -s -d "$E_DELAY" -n "$LISTEN_N" -p 0 \
	    -A "127.0.0.0/8 $E_DELAY" -A "127.0.0.1/32 0" "$MTA" \
	    </dev/null >/dev/null 2>"$OUT/tmp/log.check-ssa" &
	pids+=($!)
	local ssa=$!
	for i in $(seq 100); do
		grep -q "^ *[0-9]*: 0100007F:$(printf '%04X' "$p") 00000000:0000 0A" \
		    /proc/net/tcp && break
		sleep 0.05
	done
	if "$LOAD" latency -n 1 -w 0 "ssa=$p" >/dev/null 2>&1; then
		LISTENER_SSA="greets"
	else
		LISTENER_SSA="does not greet ($(grep -v '^Listening\|^Communication\|^Execing' \
		    "$OUT/tmp/log.check-ssa" | head -1 | sed 's/^sendwrap\[[0-9]*\]: //'))"
	fi
	stop_pid "$ssa"
}

# ---- 5. waiting peers ----

# hold_row LABEL N DELAY LOAD-ARGS...: one hold run, one table row.
hold_row() {
	local label=$1 n=$2 d=$3 f h
	shift 3
	base
	f=$OUT/hold-$(echo "$label-$n" | tr -c 'a-z0-9-' '-').txt
	h=$("$LOAD" hold -n "$n" -d "$d" -r "$M_RATE" -j "$M_WORKERS" \
	    -k 0.25 -t 60 -a "$BASE" "$@" 2>&1) || true
	printf '%s\n' "$h" >"$f"
	h=$(printf '%s' "$h" | tr '\n' ' ')
	[ -n "$(kv greeted "$h")" ] || die "hold, $label, $n peers: no result ($h)"
	local priv
	priv=$(kv server_private_kib_per_peer "$h")
	[ -n "$priv" ] || priv=$(kv private_kib_mean "$h")
	out "| $label | $(fmt "$n") | $d | $(fmt "$(kv waiting "$h")") | $(kv greeted "$h") | $(kv early "$h") | $(( $(kv failed "$h") + $(kv unanswered "$h") )) | $(kv memavailable_drop_kib_per_peer "$h") | ${priv:-—} | $(kv peer_late_ms_median "$h" | cut -d. -f1) / $(kv peer_late_ms_p99 "$h" | cut -d. -f1) | $(kv probe_late_ms_median "$h" | cut -d. -f1) / $(kv probe_late_ms_max "$h" | cut -d. -f1) |"
	HOLD_OUT=$h
}

section_waiting() {
	local nd n d h
	note "bench: 5. waiting peers"
	out "## 5. Waiting peers: listener, per connection, postscreen"
	out ""
	out "Silent peers opened at up to $(fmt "$M_RATE")/s by $M_WORKERS client processes (each raises its"
	out "RLIMIT_NOFILE to the hard limit, $(ulimit -Hn)), every one from its own address in"
	out "127.0.0.0/8; each QUITs after the greeting.  Polite probes, one every 0.25 s"
	out "from another address each, wait beside them.  A fresh server for every row."
	out "Waiting at once: the most the server held at one time, probes included,"
	out "sampled every 0.2 s (listener and postscreen: descriptors above idle, at"
	out "most the peers connected and unanswered; per connection: sendwrap"
	out "processes).  MemAvailable drop per waiting peer: at that peak, both ends"
	out "of each connection and the client included.  Server private KiB per"
	out "waiting peer: listener and postscreen, growth of the process's"
	out "Private_Clean + Private_Dirty (smaps_rollup) from idle to the peak; per"
	out "connection, the mean per sendwrap process.  Lateness: greeting time after"
	out "connect, less the delay (negative: greeted before the delay)."
	out ""
	out "| server | peers | delay s | waiting at once | greeted | before the delay | failed or unanswered | MemAvailable drop KiB/waiting peer | server private KiB/waiting peer | peer lateness p50 / p99 ms | polite probe lateness median / max ms |"
	out "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	HOLD_ROWS=()
	for nd in $M_HOLDS; do
		n=${nd%:*} d=${nd#*:}
		if [ "$LISTENER" = 1 ]; then
			note "bench: 5. listener, $n peers"
			sw hold-listener listener "$d" || die "listener: $SRV_WHY"
			hold_row "sendwrap listener" "$n" "$d" -p "$SRV_PORT" \
			    -S "$SRV_PID" -T "$SRV_PID"
			stop_pid "$SRV_PID"
			eval "H_listener_$n=\$HOLD_OUT"
		fi
	done
	absent listener " | | | | | | | | |" || true
	for nd in $M_CONN_HOLDS; do
		n=${nd%:*} d=${nd#*:}
		note "bench: 5. per connection, $n peers"
		sw hold-conn conn "$d" || die "per connection: $SRV_WHY"
		hold_row "sendwrap per connection" "$n" "$d" -p "$SRV_PORT" \
		    -P "$SRV_PID" -c sendwrap -T "$SRV_PID"
		stop_pid "$SRV_PID"
		eval "H_conn_$n=\$HOLD_OUT"
	done
	for nd in $M_HOLDS; do
		n=${nd%:*} d=${nd#*:}
		[ -z "$PF_SKIP" ] || break
		note "bench: 5. postscreen, $n peers"
		pf_start hold fakemta "$d" "$OUT/access.cidr" || break
		hold_row "postscreen (teaser on)" "$n" "$d" -p "$PF_PORT" \
		    -S "$PF_SCREEN" -T "$PF_MASTER"
		pf_stop
		eval "H_ps_$n=\$HOLD_OUT"
	done
	absent ps " | | | | | | | | |" || true
	out ""
	out "The listener runs as \`launch -w ... sendwrap -s -d D -n $LISTEN_N -p 0 -A '127.0.0.0/8 D'"
	out "-A '127.0.0.1/32 0' fakemta\`, per connection the same under \`launch\` (no -n, -p)."
	out "postscreen (Postfix ${PF_VERSION:-not run}) runs with postscreen_greet_wait = D,"
	out "postscreen_greet_banner on (without it postscreen runs no pregreet test and"
	out "does not wait: see section 6), greet action drop, no DNSBL, no cache,"
	out "pre- and post-queue limits 30,000, and hands each peer that passes to"
	out "smtpd (at most 100 at once, as the listener's -m default) whose banner is"
	out "\"fakemta\", so that the client checks the same greeting everywhere.  Its"
	out "timers count whole seconds: a D-second wait ends up to about 0.8 s early"
	out "or 0.5 s late."
	[ -n "$PF_NOTES" ] && out "On this machine the bench $PF_NOTES."
	out ""
	local pidmax big
	pidmax=$(cat /proc/sys/kernel/pid_max)
	big=${M_CONN_HOLDS##* }; big=${big%:*}
	out "Per connection is shown up to $(fmt "$big") peers: each waiting peer is a process"
	out "(kernel.pid_max here is $pidmax), and with a short delay the launcher's one"
	out "fork and exec per connection, not memory, limits how many wait at once."
	out ""
	# Targets, on the largest row.
	local top=${M_HOLDS##* } tn hl hp t ml mp pl pp
	tn=${top%:*}
	if [ "$QUICK" = 1 ]; then
		:	# a hundred peers prove nothing about 19,000
	elif [ "$LISTENER" = 1 ]; then
		hl=$(eval "printf '%s' \"\$H_listener_$tn\"")
		t=MISS
		[ "$(kv waiting "$hl")" -ge 19000 ] 2>/dev/null &&
		    [ "$(kv greeted "$hl")" = "$tn" ] && [ "$(kv early "$hl")" = 0 ] && t=PASS
		out "Target, at least 19,000 peers held at once by the listener, all greeted after the delay: $t ($(kv waiting "$hl") at once, $(kv greeted "$hl") of $(fmt "$tn") greeted, $(kv early "$hl") before the delay)."
		if [ -z "$PF_SKIP" ]; then
			hp=$(eval "printf '%s' \"\${H_ps_$tn:-}\"")
			ml=$(kv memavailable_drop_kib_per_peer "$hl") mp=$(kv memavailable_drop_kib_per_peer "$hp")
			pl=$(kv server_private_kib_per_peer "$hl") pp=$(kv server_private_kib_per_peer "$hp")
			t=MISS; awk "BEGIN { exit !($ml < $mp) }" && t=PASS
			out "Target, MemAvailable drop per waiting peer below postscreen's ($(fmt "$tn") peers): $t ($ml vs $mp KiB)."
			t=MISS; awk "BEGIN { exit !($pl < $pp) }" && t=PASS
			out "Target, the server's own memory growth per waiting peer below postscreen's: $t ($pl vs $pp KiB)."
		fi
	else
		out "Target, 19,000 peers held at once by the listener: not measured, the listener is not available in this build ($LISTENER_WHY)."
	fi
	out ""
}

# ---- 6. early talkers ----

# early_column LABEL KEY TREE LOAD-ARGS...: the step rates on one server
# until one is not sustained.  Sets E_BEST_KEY, E_CPU1000_KEY (at the
# lowest rate), E_LATE_KEY (probe lateness at the best rate).
early_column() {
	local label=$1 key=$2 mark=$3 r h f ok best=0 cpu_low="" late_best="—"
	local reached achieved probes pg p90 pmax cpu
	shift 3
	for r in $E_RATES; do
		note "bench: 6. $label, $r early talkers/s"
		base
		f=$OUT/early-$key-$r.txt
		h=$("$LOAD" early -n $((r * E_SECS)) -d "$E_DELAY" -r "$r" \
		    -j "$M_WORKERS" -k 0.5 -t 5 -a "$BASE" "$@" 2>&1) || true
		printf '%s\n' "$h" >"$f"
		h=$(printf '%s' "$h" | tr '\n' ' ')
		[ -n "$(kv offered "$h")" ] || die "early, $label, $r/s: no result ($h)"
		reached=$(kv reached "$h")
		probes=$(kv probes "$h") pg=$(kv probes_greeted "$h")
		# The fake MTA's mark: every run of the MTA, probes included.
		if [ -n "$mark" ] && [ -n "$(kv mark_lines "$h")" ]; then
			local m=$(( $(kv mark_lines "$h") - pg ))
			[ "$m" -gt "$reached" ] && reached=$m
		fi
		achieved=$(kv rate "$h")
		p90=$(kv probe_late_ms_p90 "$h") pmax=$(kv probe_late_ms_max "$h")
		cpu=$(kv cpu_s_per_1000 "$h")
		ok=yes
		awk "BEGIN { exit !($achieved >= 0.95 * $r) }" || ok="no: offered $achieved/s"
		[ "$(( $(kv unanswered "$h") + $(kv connfail "$h") + $(kv badgreet "$h") ))" = 0 ] ||
		    ok="no: $(( $(kv unanswered "$h") + $(kv connfail "$h") )) unanswered"
		awk "BEGIN { exit !($reached <= 0.01 * $(kv offered "$h")) }" ||
		    ok="no: $(fmt "$reached") reached the MTA"
		[ "$pg" = "$probes" ] && awk "BEGIN { exit !($pmax <= 1000) }" ||
		    [ "$ok" != yes ] || ok="no: polite peers late"
		out "| $label | $(fmt "$r") | $achieved | $(fmt "$(kv turned_away "$h")") | $(fmt "$reached") | $(( $(kv unanswered "$h") + $(kv connfail "$h") )) | $(kv turned_away_ms_median "$h") / $(kv turned_away_ms_p99 "$h") | $(kv cpu_s "$h") | $cpu | $pg/$probes, $(printf %.0f "$p90") / $(printf %.0f "$pmax") | $ok |"
		[ -n "$cpu_low" ] || cpu_low=$cpu
		if [ "$ok" = yes ]; then
			best=$r late_best="$(printf %.0f "$p90") / $(printf %.0f "$pmax")"
			eval "E_CPUBEST_$key=\$cpu"
		else
			break
		fi
	done
	eval "E_BEST_$key=\$best E_CPU1000_$key=\$cpu_low E_LATE_$key=\"\$late_best\""
}

# early_demo: one short step at a low rate (postscreen, teaser off).
early_demo() {
	local E_RATES=$E_DEMO_RATE E_SECS=2
	early_column "postscreen, teaser off" ps_off "" -p "$PF_PORT" -T "$PF_MASTER"
}

section_early() {
	note "bench: 6. early talkers"
	out "## 6. Early talkers"
	out ""
	out "Each step: early talkers opened at the rate for $E_SECS s by $M_WORKERS client processes,"
	out "each from its own address; each sends EHLO at once, before any greeting,"
	out "and reads the answer: a close or a 4xx/5xx reply is turned away, the MTA's"
	out "greeting (then QUIT) reached the MTA (for sendwrap also counted from the fake"
	out "MTA's mark file; the larger count is shown), no answer in 5 s is unanswered."
	out "Meanwhile a polite peer every 0.5 s waits silently for its ${E_DELAY} s delay."
	out "CPU: user + system seconds from /proc/PID/stat of the server and every"
	out "process below it, with what each reaped (cutime + cstime), from the step's"
	out "start until its last process ended: the listener and the fake MTAs it ran;"
	out "per connection, the bench launcher with every sendwrap it forked (the"
	out "launcher's accept and fork are part of that mode's cost); postscreen, the"
	out "whole Postfix instance (master, postscreen, smtpd, postlogd writing the log)."
	out "The load client runs on the same 2 cores.  A step is sustained when the"
	out "client opened at ≥ 95% of the rate, every early talker was answered, at"
	out "most 1% reached the MTA, and every polite peer was greeted no more than"
	out "1 s after its delay (postscreen's timers count whole seconds: its own"
	out "greetings come up to about 0.8 s early or 0.5 s late with no load at all;"
	out "section 7 holds each server to 50 ms).  The steps stop at the first that"
	out "is not sustained."
	out ""
	out "| server | offered /s | opened /s | turned away | reached the MTA | unanswered | turned away after, median / p99 ms | server CPU s | CPU s per 1,000 | polite peers greeted, lateness p90 / max ms | sustained |"
	out "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	local g s
	for s in "" _g; do
		g=(); [ -z "$s" ] || g=(-g fakemta)
		if [ "$LISTENER" = 1 ]; then
			sw "early-listener$s" listener "$E_DELAY" "${g[@]}" ||
			    die "listener: $SRV_WHY"
			early_column "sendwrap listener${s:+ -g}" "listener$s" mark \
			    -p "$SRV_PORT" -T "$SRV_PID" -M "$OUT/tmp/mark.early-listener$s"
			stop_pid "$SRV_PID"
		else
			absent "listener$s" " | | | | | | | | |"
		fi
		# The quick run's smoke test needs -g through one mode only.
		[ "$QUICK" = 1 ] && [ -n "$s" ] && continue
		sw "early-conn$s" conn "$E_DELAY" "${g[@]}" ||
		    die "per connection: $SRV_WHY"
		early_column "sendwrap per connection${s:+ -g}" "conn$s" mark \
		    -p "$SRV_PORT" -T "$SRV_PID" -M "$OUT/tmp/mark.early-conn$s"
		stop_pid "$SRV_PID"
	done
	if [ -z "$PF_SKIP" ] && pf_start early fakemta "$E_DELAY" "$OUT/access.cidr"; then
		early_column "postscreen (teaser on)" ps "" -p "$PF_PORT" -T "$PF_MASTER"
		pf_stop
		[ "$E_DEMO_RATE" = 0 ] ||
		    { pf_start early-nobanner "" "$E_DELAY" "$OUT/access.cidr" &&
		    early_demo && pf_stop; }
	else
		absent ps " | | | | | | | | |" || true
	fi
	out ""
	if [ "$E_DEMO_RATE" != 0 ] && [ -z "$PF_SKIP" ]; then
		out "postscreen, teaser off: with postscreen_greet_banner empty, postscreen"
		out "runs no pregreet test and so does not wait at all: every peer is handed"
		out "to smtpd at once (one short step shown)."
		out ""
	fi
	out "| server | highest rate sustained /s | CPU s per 1,000 at $(fmt "${E_RATES%% *}")/s | polite peer lateness at that rate, p90 / max ms |"
	out "|---|---:|---:|---:|"
	local k
	for k in listener listener_g conn conn_g ps; do
		absent "$k" " | |" && continue
		# per connection -g is not in the quick run
		[ -n "$(eval "printf '%s' \"\${E_CPU1000_$k:-}\"")" ] || continue
		out "| $(label "$k") | $(fmt "$(eval "printf '%s' \"\${E_BEST_$k:-0}\"")") | $(eval "printf '%s' \"\${E_CPU1000_$k:-—}\"") | $(eval "printf '%s' \"\${E_LATE_$k:-—}\"") |"
	done
	out ""
	if [ "$LISTENER" = 1 ] && [ -z "$PF_SKIP" ]; then
		local t k2
		for k2 in listener listener_g; do
			t=MISS
			[ "$(eval "printf '%s' \"\$E_BEST_$k2\"")" -ge "$E_BEST_ps" ] && t=PASS
			out "Target, early talkers turned away at postscreen's highest rate or higher, $(label $k2): $t."
			t=MISS
			awk "BEGIN { exit !($(eval "printf '%s' \"\$E_CPU1000_$k2\"") < $E_CPU1000_ps) }" && t=PASS
			out "Target, fewer CPU-seconds per 1,000 early talkers than postscreen (at $(fmt "${E_RATES%% *}")/s), $(label $k2): $t."
		done
	elif [ "$LISTENER" != 1 ]; then
		out "Targets for the listener: not measured, it is not available in this build."
	fi
	out ""
}

# ---- 7. on time ----

section_ontime() {
	local k h n=${M_CONN_HOLDS##* } hm hx el t o sn
	n=${n%:*}
	note "bench: 7. on time while $O_N others wait"
	out "## 7. On time under load"
	out ""
	out "A polite delayed peer's lateness, ms (connect to greeting, less its"
	out "delay).  While others wait: $(fmt "$O_N") silent peers connect at $(fmt "$M_RATE")/s and wait"
	out "$O_DELAY s; a polite peer every 0.1 s, from 127.250.0.0/16, which the"
	out "server gives a 1 s delay (-A '127.250.0.0/16 1'), connects during the"
	out "first $((O_DELAY - 2)) s, so that each is greeted while all the others still wait."
	out "postscreen has one delay for every peer, so its figure is the polite"
	out "probes of section 5's $(fmt "$n")-peer row, which share the others' delay and"
	out "are greeted among them.  While early talkers arrive: the polite peers of"
	out "section 6 at each server's highest sustained rate."
	out ""
	out "| server | while $(fmt "$O_N") others wait: median / max ms | while early talkers arrive: p90 / max ms | within 50 ms |"
	out "|---|---:|---:|---:|"
	for k in listener conn ps; do
		absent "$k" " | |" && continue
		hm= hx=
		if [ "$k" = ps ]; then
			h=$(eval "printf '%s' \"\${H_${k}_$n:-}\"")
			sn=" (section 5)"
		else
			sn=
			o=$([ "$k" = listener ] && echo listener || echo conn)
			if sw "ontime-$k" "$o" "$O_DELAY" -A "127.250.0.0/16 1"; then
				base
				h=$("$LOAD" hold -n "$O_N" -d "$O_DELAY" -r "$M_RATE" \
				    -j "$M_WORKERS" -k 0.1 -D 1 -b 127.250.0.1 \
				    -K "$((O_DELAY - 2))" -t 60 -a "$BASE" \
				    -p "$SRV_PORT" 2>&1 | tr '\n' ' ') || true
				stop_pid "$SRV_PID"
				printf '%s\n' "$h" >"$OUT/ontime-$k.txt"
			else
				h=
			fi
		fi
		hm=$(kv probe_late_ms_median "$h" | cut -d. -f1)
		hx=$(kv probe_late_ms_max "$h" | cut -d. -f1)
		el=$(eval "printf '%s' \"\${E_LATE_$k:-—}\"")
		t=MISS
		[ -n "$hx" ] && [ "$hx" -le 50 ] && [ "${el##* }" != "—" ] &&
		    [ "${el##* }" -le 50 ] 2>/dev/null && t=PASS
		out "| $(label "$k")$sn | ${hm:-—} / ${hx:-—} | $el | $t |"
	done
	out ""
}

# ---- 8. allowlisted peer ----

section_allowed() {
	local args=() lat v
	note "bench: 8. allowlisted peer, listener vs per connection"
	out "## 8. Allowlisted peer: connect to greeting"
	out ""
	out "$LAT_ROUNDS sequential connections from 127.0.0.1 per variant, round-robin; the"
	out "allowlist is section 4's (random networks, the peer's /32 last): sendwrap -a"
	out "FILE, postscreen a cidr table of the same networks (\`permit\`), read by"
	out "postscreen at its start; first greeting byte timed, then QUIT."
	out ""
	local size n pfs=()
	for v in conn listener ps; do
		[ $v != listener ] || [ "$LISTENER" = 1 ] || continue
		[ $v != ps ] || [ -z "$PF_SKIP" ] || continue
		for size in 10 big; do
			n=$size; [ $size = big ] && n=$LIST_BIG
			if [ $v = ps ]; then
				awk '!/^#/ { print $1, "permit" }' "$OUT/list$n" \
				    >"$OUT/list$n.cidr"
				pf_start "lat$size" fakemta 3 "$OUT/list$n.cidr" ||
				    die "postscreen: $PF_SKIP"
				args+=("ps$size=$PF_PORT")
				pfs+=("$PF_MASTER $PF_NS")
			else
				SW_NOLISTS=1 sw "lat-$v$size" $v 3 -a "$OUT/list$n" ||
				    die "$(label $v): $SRV_WHY"
				args+=("$v$size=$SRV_PORT")
			fi
		done
	done
	lat=$("$LOAD" latency -n "$LAT_ROUNDS" -w 5 "${args[@]}")
	printf '%s\n' "$lat" >"$OUT/allowed.txt"
	cleanup_servers "${pfs[@]}"
	out "| variant | $(fmt 10) entries: median µs | p95 µs | $(fmt "$LIST_BIG") entries: median µs | p95 µs |"
	out "|---|---:|---:|---:|---:|"
	lrow() { printf '%s\n' "$lat" | grep "^$1 "; }
	for v in conn listener ps; do
		absent "$v" " | | |" && continue
		out "| $(label "$v") | $(kv median_us "$(lrow "${v}10")" | cut -d. -f1) | $(kv p95_us "$(lrow "${v}10")" | cut -d. -f1) | $(kv median_us "$(lrow "${v}big")" | cut -d. -f1) | $(kv p95_us "$(lrow "${v}big")" | cut -d. -f1) |"
	done
	out ""
	if [ "$LISTENER" = 1 ]; then
		local t s
		for s in 10 big; do
			t=MISS
			awk "BEGIN { exit !($(kv median_us "$(lrow "listener$s")") <= $(kv median_us "$(lrow "conn$s")")) }" && t=PASS
			out "Target, listener no slower than per connection ($([ $s = 10 ] && echo 10 || fmt "$LIST_BIG")-entry allowlist, median): $t."
		done
	else
		out "Target, listener no slower than per connection: not measured, the listener is not available in this build."
	fi
	out ""
}

# cleanup_servers "MASTER NS" ...: the section's Postfix instances, then
# every launcher it started.
cleanup_servers() {
	local i
	for i in "$@"; do
		[ -n "$i" ] || continue
		PF_MASTER=${i% *} PF_NS=${i#* }
		pf_stop
	done
	cleanup
}

section_modes() {
	printf '127.0.0.1/32 permit\n' >"$OUT/access.cidr"
	listener_check
	out "Listener mode in this build: $([ "$LISTENER" = 1 ] && echo "yes" || echo "not available in this build: $LISTENER_WHY");"
	out "under systemd-socket-activate (LISTEN_FDS): $LISTENER_SSA."
	out "postscreen: $([ -z "$PF_SKIP" ] && echo "Postfix $PF_VERSION" || echo "not run: $PF_SKIP")."
	out ""
	section_waiting
	section_early
	section_ontime
	section_allowed
}
