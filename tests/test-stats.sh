#!/bin/sh
#
# test-stats.sh - check examples/sendwrap-stats under every awk there is.
#
# Which awk "awk" is depends on the machine (Debian: mawk, or gawk once
# gawk is installed), and a bug of one awk hides behind another.  So
# every case below runs once under each awk found: the default "awk"
# (AWK unset), gawk, gawk --posix, mawk, busybox awk and original-awk;
# each line names its awk, and the output of the sample must be the same
# byte for byte under all of them.  An awk that is not installed is
# reported as skipped.  The same goes for the shell that runs the script
# (/bin/sh is dash on Debian, bash or busybox sh elsewhere), with fewer
# cases: the shell only reads the options and the file names.
#
# tests/stats-sample.log mixes every prefix the script accepts (syslog,
# journalctl short-precise and short-iso, RFC 5424, sendwrap -s, -o
# verbose, none) with lines that are not outcomes (allowlist and cache
# problems, debug lines, listener notices, other programs, one of them
# with an "error reason=" of its own).  Its figures were worked out by
# hand, 63 lines:
#   outcomes: allow 3, cached 3, pass 9, early 10, hangup 4, local 1,
#   error 13, limit 3, busy 1, forkfail 2, shutdown 1 = 50 connections;
#   waited (pass, early, hangup, busy, shutdown with a delay= above 0):
#   9 + 10 + 3 + 1 + 1 = 24, early talkers 10/24 = 41.7%.
#   after= of the early talkers, sorted: 0.050 0.200 0.900 1.500 3.000
#   4.999 7.250 12.000 30.000 34.900.
#   hangup: eof 1, reset 2, gone 1; limit: address 2, total 1; pass
#   held 2 (2.500 and 0.250); allowlist=untrusted 3 (pass, hangup,
#   cached); forkfail: 2 of one reason.
#   error reasons, in the order first seen: exec 3, getsockname 1,
#   cannot open 4, none 1, cannot run 2, out of memory 1, SIGHUP 1;
#   shown most frequent first, ties in the order first seen, five rows,
#   then "other" for the last 2.
# Hostile quotes: one early line has a fake ' after=99.000
# action=reject reason=total allowlist=untrusted held=99' in data=, an
# error line a fake ' reason=' in its quoted rule=, another a reason
# with quotes, " reason=" and printf conversions in it; none may count
# or be taken as a format.
#
# Last, sendwrap-stats.1 against the script: mandoc -Tlint, its SYNOPSIS
# as rendered against the usage line of -h, its options against the
# script's getopts, the defaults and the exit codes.
#
# Usage: tests/test-stats.sh [script [sample [manual]]]
# Ends with "N passed, N failed, N skipped"; exits 1 when any failed.

cd "$(dirname "$0")/.." || exit 1
# grep, sed and tr on bytes; the script sets its own locale for awk.
LC_ALL=C
export LC_ALL
script=${1:-examples/sendwrap-stats}
case $script in /*) ;; *) script=$PWD/$script ;; esac
sample=${2:-tests/stats-sample.log}
case $sample in /*) ;; *) sample=$PWD/$sample ;; esac
man=${3:-sendwrap-stats.1}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sendwrap-stats.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
skipped=0
tag=		# "[gawk --posix] ": the awk every line names

# printf, not echo: names hold backslashes, which dash's echo expands.
ok() {
	passed=$((passed + 1))
	printf 'ok - %s%s\n' "$tag" "$1"
}

not_ok() {
	failed=$((failed + 1))
	printf 'not ok - %s%s\n' "$tag" "$1"
	[ -f "$tmp/out" ] && sed 's/^/#   /' "$tmp/out"
}

skip() {
	skipped=$((skipped + 1))
	printf 'SKIP - %s\n' "$1"
}

# has NAME REGEX: the last output has a line matching the ERE.
has() {
	if grep -Eq -- "$2" "$tmp/out"; then ok "$1"; else not_ok "$1: no line /$2/"; fi
}

# has_text NAME TEXT: the last output has TEXT as a whole line.
has_text() {
	if grep -Fxq -- "$2" "$tmp/out"; then ok "$1"; else not_ok "$1: no line \"$2\""; fi
}

lacks() {
	if grep -Eq -- "$2" "$tmp/out"; then not_ok "$1: line /$2/"; else ok "$1"; fi
}

# run EXPECTED-STATUS NAME ARGS...: run the script, output in $tmp/out.
run() {
	want=$1
	name=$2
	shift 2
	"$script" "$@" >"$tmp/out" 2>&1
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name: exit $want"; else
		not_ok "$name: exit $got, not $want"; fi
}

# log NAME LINE...: a log file of these lines, $tmp/NAME.log.
log() {
	f=$tmp/$1.log
	shift
	printf '%s\n' "$@" >"$f"
}

check_sample() {
	run 0 "sample" "$sample"
	has "connections (notices and other programs skipped)" '^connections: 50 \(63 lines read\)$'
	has "allow" '^allow +3 +6\.0%$'
	has "cached" '^cached +3 +6\.0%$'
	has "pass (not another program's)" '^pass +9 +18\.0%$'
	has "early" '^early +10 +20\.0%$'
	has "hangup" '^hangup +4 +8\.0%$'
	has "local" '^local +1 +2\.0%$'
	has "error (not another program's)" '^error +13 +26\.0%$'
	has "limit" '^limit +3 +6\.0%$'
	has "busy" '^busy +1 +2\.0%$'
	has "forkfail" '^forkfail +2 +4\.0%$'
	has "shutdown" '^shutdown +1 +2\.0%$'
	has "waited" '^waited: 24 \(pass, early, hangup, busy, shutdown\); early talkers: 10, 41\.7% of those that waited$'
	has "actions, quoted data ignored" '^early by action: drop 7, tempfail 2, log 1$'
	has "hangup reasons" '^hangup by reason: eof 1, reset 2, gone 1$'
	has "limit reasons, quoted data ignored" '^limit by reason: address 2, total 1$'
	has "pass held, quoted data ignored" '^pass held for a session slot: 2 of 9, longest 2\.500 s$'
	has "allowlist=untrusted, quoted data ignored" '^allowlist=untrusted: 3 connections \(an allowlist source had a problem, so$'
	sed -n '/^error by reason/,/^[^ ]/p' "$tmp/out" | sed '$d' >"$tmp/errors"
	cat >"$tmp/errors.want" <<-'EOF'
	error by reason, most frequent first:
	        4 "/etc/sendwrap.allow: cannot open: Permission denied"
	        3 "exec /usr/sbin/exim4: Permission denied"
	        2 "cannot run \"/opt/x reason=fake\": 100%d %s done"
	        1 "getsockname: Bad file descriptor"
	        1 unknown (no reason=)
	        2 other (2 more reasons)
	EOF
	if cmp -s "$tmp/errors.want" "$tmp/errors"; then
		ok "errors by reason: most frequent first, ties as first seen, 5 rows, then other"
	else
		not_ok "errors by reason: not as worked out by hand"
		diff "$tmp/errors.want" "$tmp/errors" | sed 's/^/#   /'
	fi
	has_text "forkfail by reason" '        2 "fork: Resource temporarily unavailable"'
	has "percentiles" '^  min 0\.050  p10 0\.050  p25 0\.900  p50 3\.000  p75 12\.000$'
	has "high percentiles" '^  p90 30\.000  p95 34\.900  p99 34\.900  max 34\.900$'
	has "bin 0-0.5" '^ +0-0\.5 s +2 #{50}$'
	has "bin 0.5-1" '^ +0\.5-1 s +1 #{25}$'
	has "bin 1-2" '^ +1-2 s +1 #'
	has "bin 2-5 (4.999 in it)" '^ +2-5 s +2 #'
	has "bin 5-10" '^ +5-10 s +1 #'
	has "bin 10-20" '^ +10-20 s +1 #'
	has "bin 20-35" '^ +20-35 s +2 #'
	lacks "no empty bins past the last talker" '^ +35-60 s'
	has "delay 5" '^ +5 s +6 +60\.0%$'
	has "delay 10" '^ +10 s +7 +70\.0%$'
	has "delay 20" '^ +20 s +8 +80\.0%$'
	has "delay 35, above the 20 s rule" '^ +35 s +10 +100\.0% \*$'
	has "delay 85" '^ +85 s +10 +100\.0% \*$'
	has "footnote names the shortest delay" '^\* longer than the shortest delay in force in this log \(20\.000 s\):$'
}

# Every case, under the awk in $AWK (or the default awk).
cases() {
	check_sample
	cp "$tmp/out" "$tmp/sample.out"

	# Standard input, "-", two files, and a file name awk would take
	# for an assignment.
	"$script" <"$sample" >"$tmp/out" 2>&1
	if cmp -s "$tmp/sample.out" "$tmp/out"; then ok "stdin: same as the file"
	else not_ok "stdin: differs from the file"; fi
	run 0 "dash for stdin" - <"$sample"
	has "dash for stdin" '^connections: 50 '
	run 0 "two files" "$sample" "$sample"
	has "two files add up" '^connections: 100 \(126 lines read\)$'
	has "two files: delay 5" '^ +5 s +12 +60\.0%$'
	has "two files: errors add up" '^ +8 "/etc/sendwrap\.allow: cannot open: Permission denied"$'
	cp "$sample" "$tmp/x=1"
	(cd "$tmp" && "$script" "x=1") >"$tmp/out" 2>&1
	has "a file named x=1 is read, not assigned" '^connections: 50 '

	# Candidate delays: "<", so a talker at 4.999 s is caught by 5.
	run 0 "-d" -d "1,4.999 5" "$sample"
	has "-d 1" '^ +1 s +3 +30\.0%$'
	has "-d 4.999 (strictly less)" '^ +4\.999 s +5 +50\.0%$'
	has "-d 5" '^ +5 s +6 +60\.0%$'
	lacks "-d replaces the defaults" '^ +85 s'
	run 0 "-b" -b "10 30" "$sample"
	has "-b first bin" '^ +0-10 s +7 #'
	has "-b middle bin" '^ +10-30 s +1 #'
	has "-b open bin" '^ +30\+ s +2 #'

	# Without the 20 s rule, only delays above 35 s are marked.
	grep -v 'delay=20\.000' "$sample" >"$tmp/no-rule.log"
	run 0 "no rule" "$tmp/no-rule.log"
	has "no rule: 35 not marked" '^ +35 s +10 +100\.0%$'
	has "no rule: 60 marked" '^ +60 s +10 +100\.0% \*$'
	has "no rule: footnote" '\(35\.000 s\):$'

	# Nothing to go on.
	run 0 "empty input" /dev/null
	has "empty: zero connections" '^connections: 0 \(0 lines read\)$'
	has "empty: says so" '^no early talk times in the log'

	# No early talker: the outcomes never seen stay unset in the awk
	# until printed (gawk 5.2.1 aborted here: exit 134, "double free").
	log pass 'pass ip=192.0.2.1 port=1 delay=35.000'
	run 0 "a lone pass line" "$tmp/pass.log"
	has "a lone pass line: counted" '^pass +1 +100\.0%$'
	has "a lone pass line: early 0" '^early +0 +0\.0%$'
	has "a lone pass line: waited" '^waited: 1 .*early talkers: 0, 0\.0% of those that waited$'
	lacks "a lone pass line: no table" 'would have caught'
	log hangup 'hangup ip=192.0.2.1 port=1 delay=35.000 after=2.000 reason=eof'
	run 0 "a lone hangup line" "$tmp/hangup.log"
	has "a lone hangup line: counted" '^hangup +1 +100\.0%$'
	has "a lone hangup line: its reason" '^hangup by reason: eof 1$'
	for w in limit busy forkfail shutdown error; do
		log "$w" "$w ip=192.0.2.1 port=1 delay=35.000 after=1.000 reason=x"
		run 0 "a lone $w line" "$tmp/$w.log"
		has "a lone $w line: counted" "^$w +1 +100\\.0%\$"
	done

	# Reasons and values that are not the usual ones.
	log limits 'limit ip=192.0.2.1 port=1 reason=total' \
	    'limit ip=192.0.2.1 port=2' 'limit ip=192.0.2.1 port=3 reason=new'
	run 0 "limit reasons" "$tmp/limits.log"
	has "limit reasons: unknown and other" '^limit by reason: total 1, unknown 1, other 1$'
	log actions 'early ip=192.0.2.1 port=1 delay=9.000 after=1.000 action=new' \
	    'early ip=192.0.2.1 port=2 delay=9.000 after=1.000' \
	    'early ip=192.0.2.1 port=3 delay=9.000 after=1.000 action=reject'
	run 0 "actions" "$tmp/actions.log"
	has "actions: unknown and other" '^early by action: reject 1, unknown 1, other 1$'
	i=0
	: >"$tmp/six.log"
	for r in a b c d e f; do
		i=$((i + 1))
		printf 'error ip=192.0.2.1 port=%d reason="%s"\n' "$i" "$r" >>"$tmp/six.log"
	done
	run 0 "six error reasons" "$tmp/six.log"
	has_text "six error reasons: the fifth shown" '        1 "e"'
	has_text "six error reasons: one left, said in the singular" '        1 other (1 more reason)'
	lacks "six error reasons: the sixth not shown" '"f"$'

	# A cut line: a quote that never closes hides the rest of it.
	log cut 'early ip=192.0.2.1 port=1 delay=35.000 after=1.000 bytes=9 data="EHLO allowlist=untrusted action=reject'
	run 0 "a cut line" "$tmp/cut.log"
	has "a cut line: no action taken from the data" '^early by action: unknown 1$'
	lacks "a cut line: no allowlist=untrusted from the data" '^allowlist='

	# A line forged into the log (logger -t sendwrap) with raw bytes:
	# escaped as sendwrap would, never sent to the terminal; and under
	# a UTF-8 locale a byte that is not UTF-8 does not hide the line.
	printf 'error reason="\033]0;owned\007 caf\303\251 \377"\n' >"$tmp/raw.log"
	LC_ALL=C.UTF-8 "$script" "$tmp/raw.log" >"$tmp/out" 2>&1
	has "raw bytes, UTF-8 locale: the line counts" '^error +1 +100\.0%$'
	has_text "raw bytes: escaped" '        1 "\x1b]0;owned\x07 caf\xc3\xa9 \xff"'
	if [ -n "$(tr -d '\n -~' <"$tmp/out")" ]; then
		not_ok "raw bytes: output has bytes outside printable ASCII"
	else
		ok "raw bytes: output is printable ASCII only"
	fi

	# Bad use.
	run 64 "bad -d" -d "5 x" "$sample"
	has "bad -d: names the value" '^sendwrap-stats: -d: "x" is not a number of seconds'
	run 64 "-d out of order" -d "10 5" "$sample"
	has "-d out of order: says so" 'is not more than "10"'
	run 64 "-d over 300" -d "301" "$sample"
	run 64 "-b zero" -b "0 5" "$sample"
	run 64 "unknown option" -x "$sample"
	has "unknown option: usage" '^usage: sendwrap-stats'
	run 66 "missing file" "$tmp/nosuch"
	has "missing file: named" 'nosuch: cannot read$'
	run 66 "a directory" "$tmp"
	has "a directory: named" "^sendwrap-stats: $tmp: cannot read\$"
	run 66 "a file name with backslashes" 'no\tsuch\\n'
	has_text "a file name with backslashes: shown as given" 'sendwrap-stats: no\tsuch\\n: cannot read'
	run 0 "-h" -h
	has "-h: usage" '^usage: sendwrap-stats'
}

# The awks: the default one, then each by name.  AWK may hold arguments.
found=
default=$(command -v awk 2>/dev/null) &&
    default=$(readlink -f "$default" 2>/dev/null || echo "$default")
echo "# awk here is ${default:-missing}"
for a in awk gawk "gawk --posix" mawk "busybox awk" original-awk; do
	case $a in
	awk) ;;
	"busybox awk")
		if ! busybox awk 'BEGIN {}' </dev/null >/dev/null 2>&1; then
			skip "busybox awk: not installed, not tried"
			continue
		fi ;;
	*)
		if ! command -v "${a%% *}" >/dev/null 2>&1; then
			skip "$a: not installed, not tried"
			continue
		fi ;;
	esac
	if [ "$a" = awk ]; then
		unset AWK
		tag="[awk] "
	else
		AWK=$a
		export AWK
		tag="[$a] "
	fi
	p0=$passed f0=$failed
	cases
	if [ -z "$found" ]; then
		cp "$tmp/sample.out" "$tmp/first.out"
		first=$a
	elif cmp -s "$tmp/first.out" "$tmp/sample.out"; then
		ok "sample: same output as [$first]"
	else
		cp "$tmp/sample.out" "$tmp/out"
		not_ok "sample: output differs from [$first]'s"
		diff "$tmp/first.out" "$tmp/sample.out" | sed 's/^/#   /'
	fi
	found=1
	printf '#   %-14s %4d ok, %d not ok%s\n' "$a:" $((passed - p0)) \
	    $((failed - f0)) "$([ "$a" = awk ] && echo " (${default:-missing})")" \
	    >>"$tmp/per-awk"
done
unset AWK
tag=

# The script is POSIX sh: the same under each shell found (/bin/sh is
# dash on Debian, bash or busybox sh elsewhere).
for sh in dash "bash --posix" "busybox sh"; do
	if ! ${sh} -c : >/dev/null 2>&1; then
		skip "$sh: not installed, not tried"
		continue
	fi
	tag="[$sh] "
	${sh} "$script" "$sample" >"$tmp/out" 2>&1
	if cmp -s "$tmp/first.out" "$tmp/out"; then ok "sample: same output as [$first]"
	else not_ok "sample: output differs from [$first]'s"; fi
	${sh} "$script" -x >"$tmp/out" 2>&1
	got=$?
	if [ "$got" -eq 64 ]; then ok "unknown option: exit 64"
	else not_ok "unknown option: exit $got, not 64"; fi
	${sh} "$script" 'no\tsuch' >"$tmp/out" 2>&1
	has_text "a file name with a backslash: shown as given" 'sendwrap-stats: no\tsuch: cannot read'
done
tag=

# ---- the manual: sendwrap-stats.1 and the script agree ----
tag="[$man] "

# mandoc -Tlint finds nothing in the page.  Set aside, as notes: a
# referenced page not installed here and a stale mandoc.db, which depend
# on the machine, not on the page.
if command -v mandoc >/dev/null 2>&1; then
	mandoc -Tlint "$man" >"$tmp/lint" 2>&1
	grep -v -e 'STYLE: referenced manual not found' \
	    -e 'outdated mandoc.db' "$tmp/lint" >"$tmp/out"
	if [ -s "$tmp/out" ]; then not_ok "mandoc -Tlint reports problems"
	else ok "mandoc -Tlint reports nothing about the page"; fi
	# The rendered SYNOPSIS is the usage line, word for word.
	rm -f "$tmp/out"
	bs=$(printf '\b')
	syn=$(mandoc -Tascii -Owidth=400 "$man" 2>/dev/null | sed "s/.$bs//g" |
	    sed -n '/^SYNOPSIS$/,/^[A-Z]/p' | sed '1d;$d' | tr -s ' \n' '  ' |
	    sed 's/^ //; s/ $//')
	use=$("$script" -h | sed 's/^usage: //')
	if [ -n "$syn" ] && [ "$syn" = "$use" ]; then
		ok "SYNOPSIS as rendered is the usage line of -h: $use"
	else
		not_ok "SYNOPSIS as rendered, \"$syn\", is not the usage line of -h, \"$use\""
	fi
else
	skip "$man: no mandoc, not linted or rendered (.ci/run installs it)"
fi

# The options as "LETTER ARITY" lines, four ways: the script's getopts,
# its usage line, the page's SYNOPSIS and its option list.
letters() {	# "b: d: h" -> "b 1" "d 1" "h 0"
	set -f
	for w in $1; do
		case $w in
		?:) echo "${w%:} 1" ;;
		*) echo "$w 0" ;;
		esac
	done | sort
	set +f
}
g=$(sed -n 's/.*getopts "\([^"]*\)".*/\1/p' "$script" | sed 's/^://; s/\(.\)/ \1/g; s/ :/:/g')
letters "$g" >"$tmp/o.getopts"
u=$("$script" -h | grep -o '\[-[A-Za-z0-9][^]]*\]' |
    sed 's/^\[-\(.\)\]$/\1/; s/^\[-\(.\) .*/\1:/' | tr '\n' ' ')
letters "$u" >"$tmp/o.usage"
m=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$man" |
    sed -n 's/^\.Op Fl \(.\) Ar .*/\1:/p; s/^\.Op Fl \(.\)$/\1/p' | tr '\n' ' ')
letters "$m" >"$tmp/o.synopsis"
l=$(sed -n '/^\.Sh DESCRIPTION/,/^\.Sh /p' "$man" |
    sed -n 's/^\.It Fl \(.\) Ar .*/\1:/p; s/^\.It Fl \(.\)$/\1/p' | tr '\n' ' ')
letters "$l" >"$tmp/o.list"
for w in usage synopsis list; do
	if [ -s "$tmp/o.getopts" ] && cmp -s "$tmp/o.getopts" "$tmp/o.$w"; then
		ok "options: the $w names those of getopts, with the same arguments ($(tr '\n' ' ' <"$tmp/o.getopts"| sed 's/ $//'))"
	else
		not_ok "options: the $w and getopts differ: $(tr '\n' ' ' <"$tmp/o.$w") / $(tr '\n' ' ' <"$tmp/o.getopts")"
	fi
done

# Each default the script sets is the one its option's entry states.
for o in d:delays b:edges; do
	letter=${o%%:*}
	want=$(sed -n "s/^${o#*:}=\"\\(.*\\)\"\$/\\1/p" "$script")
	sed -n "/^\\.It Fl $letter /,/^\\.It /p" "$man" >"$tmp/entry"
	if [ -n "$want" ] && grep -qxF ".Dq $want ." "$tmp/entry"; then
		ok "default of -$letter is stated in its entry: \"$want\""
	else
		not_ok "default of -$letter (\"$want\") is not stated in its entry"
	fi
done

# The exit codes the script uses are those EXIT STATUS lists.
grep -o '\(exit\|die\) [0-9][0-9]*' "$script" | sed 's/.* //' | sort -u \
    >"$tmp/codes.script"
sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$man" | sed -n 's/^\.It \([0-9][0-9]*\)$/\1/p' |
    sort -u >"$tmp/codes.man"
if [ -s "$tmp/codes.man" ] && cmp -s "$tmp/codes.script" "$tmp/codes.man"; then
	ok "exit codes: EXIT STATUS lists those the script uses ($(tr '\n' ' ' <"$tmp/codes.man" | sed 's/ $//'))"
else
	not_ok "exit codes: script $(tr '\n' ' ' <"$tmp/codes.script")/ EXIT STATUS $(tr '\n' ' ' <"$tmp/codes.man")"
fi
tag=

echo "# per awk:"
cat "$tmp/per-awk"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
