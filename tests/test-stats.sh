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
# reported as skipped.
#
# tests/stats-sample.log mixes every prefix the script accepts (syslog,
# journalctl short-precise and short-iso, RFC 5424, sendwrap -s, -o
# verbose, none) with lines that are not outcomes (allowlist and cache
# problems, debug lines, other programs).  Its figures were worked out by
# hand:
#   outcomes: allow 3, cached 2, pass 6, early 10, hangup 3, local 1,
#   error 1 = 26 connections; waited (a delay= above 0) 6 + 10 + 2 = 18.
#   after= of the early talkers, sorted: 0.050 0.200 0.900 1.500 3.000
#   4.999 7.250 12.000 30.000 34.900.
# One early line quotes a fake ' after=99.000 action=reject' in data=,
# which must not count.
#
# Usage: tests/test-stats.sh [script [sample]]
# Ends with "N passed, N failed, N skipped"; exits 1 when any failed.

cd "$(dirname "$0")/.." || exit 1
script=${1:-examples/sendwrap-stats}
case $script in /*) ;; *) script=$PWD/$script ;; esac
sample=${2:-tests/stats-sample.log}
case $sample in /*) ;; *) sample=$PWD/$sample ;; esac
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
	has "connections" '^connections: 26 \(32 lines read\)$'
	has "allow" '^allow +3 +11\.5%$'
	has "cached" '^cached +2 +7\.7%$'
	has "pass (not another program's)" '^pass +6 +23\.1%$'
	has "early" '^early +10 +38\.5%$'
	has "hangup" '^hangup +3 +11\.5%$'
	has "local" '^local +1 +3\.8%$'
	has "error" '^error +1 +3\.8%$'
	has "waited" '^waited: 18 .*early talkers: 10, 55\.6% of those that waited$'
	has "actions, quoted data ignored" '^early by action: drop 7, tempfail 2, log 1$'
	has "hangup reasons" '^hangup by reason: eof 1, reset 1, gone 1$'
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
	has "dash for stdin" '^connections: 26 '
	run 0 "two files" "$sample" "$sample"
	has "two files add up" '^connections: 52 \(64 lines read\)$'
	has "two files: delay 5" '^ +5 s +12 +60\.0%$'
	cp "$sample" "$tmp/x=1"
	(cd "$tmp" && "$script" "x=1") >"$tmp/out" 2>&1
	has "a file named x=1 is read, not assigned" '^connections: 26 '

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
	run 0 "-h" -h
	has "-h: usage" '^usage: sendwrap-stats'
}

# The awks: the default one, then each by name.  AWK may hold arguments.
found=
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
	printf '#   %-14s %4d ok, %d not ok\n' "$a:" $((passed - p0)) \
	    $((failed - f0)) >>"$tmp/per-awk"
done
unset AWK
tag=

echo "# per awk:"
cat "$tmp/per-awk"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
