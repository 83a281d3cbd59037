#!/bin/sh
#
# test-stats.sh - check examples/sendwrap-stats against tests/stats-sample.log.
#
# The sample mixes every prefix the script accepts (syslog, journalctl
# short-precise and short-iso, RFC 5424, sendwrap -s, -o verbose, none)
# with lines that are not outcomes (allowlist and cache problems, debug
# lines, other programs).  Its figures were worked out by hand:
#   outcomes: allow 3, cached 2, pass 6, early 10, hangup 3, local 1,
#   error 1 = 26 connections; waited (a delay= above 0) 6 + 10 + 2 = 18.
#   after= of the early talkers, sorted: 0.050 0.200 0.900 1.500 3.000
#   4.999 7.250 12.000 30.000 34.900.
# One early line quotes a fake ' after=99.000 action=reject' in data=,
# which must not count.  Every awk found on the machine is tried.
#
# Usage: tests/test-stats.sh [script [sample]]

cd "$(dirname "$0")/.." || exit 1
script=${1:-examples/sendwrap-stats}
case $script in /*) ;; *) script=$PWD/$script ;; esac
sample=${2:-tests/stats-sample.log}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sendwrap-stats.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
skipped=0

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	[ -f "$tmp/out" ] && sed 's/^/#   /' "$tmp/out"
}

# has NAME REGEX: the last output has a line matching the ERE.
has() {
	if grep -Eq -- "$2" "$tmp/out"; then ok "$1"; else not_ok "$1: no line /$2/"; fi
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

check_sample() {
	tag=$1
	run 0 "$tag sample" "$sample"
	has "$tag connections" '^connections: 26 \(32 lines read\)$'
	has "$tag allow" '^allow +3 +11\.5%$'
	has "$tag cached" '^cached +2 +7\.7%$'
	has "$tag pass (not another program's)" '^pass +6 +23\.1%$'
	has "$tag early" '^early +10 +38\.5%$'
	has "$tag hangup" '^hangup +3 +11\.5%$'
	has "$tag local" '^local +1 +3\.8%$'
	has "$tag error" '^error +1 +3\.8%$'
	has "$tag waited" '^waited: 18 .*early talkers: 10, 55\.6% of those that waited$'
	has "$tag actions, quoted data ignored" '^early by action: drop 7, tempfail 2, log 1$'
	has "$tag hangup reasons" '^hangup by reason: eof 1, reset 1, gone 1$'
	has "$tag percentiles" '^  min 0\.050  p10 0\.050  p25 0\.900  p50 3\.000  p75 12\.000$'
	has "$tag high percentiles" '^  p90 30\.000  p95 34\.900  p99 34\.900  max 34\.900$'
	has "$tag bin 0-0.5" '^ +0-0\.5 s +2 #{50}$'
	has "$tag bin 0.5-1" '^ +0\.5-1 s +1 #{25}$'
	has "$tag bin 1-2" '^ +1-2 s +1 #'
	has "$tag bin 2-5 (4.999 in it)" '^ +2-5 s +2 #'
	has "$tag bin 5-10" '^ +5-10 s +1 #'
	has "$tag bin 10-20" '^ +10-20 s +1 #'
	has "$tag bin 20-35" '^ +20-35 s +2 #'
	lacks "$tag no empty bins past the last talker" '^ +35-60 s'
	has "$tag delay 5" '^ +5 s +6 +60\.0%$'
	has "$tag delay 10" '^ +10 s +7 +70\.0%$'
	has "$tag delay 20" '^ +20 s +8 +80\.0%$'
	has "$tag delay 35, above the 20 s rule" '^ +35 s +10 +100\.0% \*$'
	has "$tag delay 85" '^ +85 s +10 +100\.0% \*$'
	has "$tag footnote names the shortest delay" '^\* longer than the shortest delay in force in this log \(20\.000 s\):$'
}

awks=
for a in awk mawk gawk busybox; do
	command -v "$a" >/dev/null 2>&1 || continue
	case $a in
	gawk) awks="$awks|gawk --posix" ;;
	busybox) busybox awk 'BEGIN {}' 2>/dev/null && awks="$awks|busybox awk" ;;
	*) awks="$awks|$a" ;;
	esac
done
IFS='|'
for a in ${awks#|}; do
	unset IFS
	AWK=$a
	export AWK
	check_sample "[$a]"
	if [ -f "$tmp/first" ]; then
		if cmp -s "$tmp/first" "$tmp/out"; then ok "[$a] same output as [${first_awk}]"
		else not_ok "[$a] output differs from [${first_awk}]"; fi
	else
		cp "$tmp/out" "$tmp/first"
		first_awk=$a
	fi
	IFS='|'
done
unset IFS
unset AWK
for a in mawk gawk busybox; do
	command -v "$a" >/dev/null 2>&1 || {
		skipped=$((skipped + 1))
		echo "SKIP - $a: not installed, its awk not tried"
	}
done

# Standard input, "-", two files, and a file name awk would take for an
# assignment.
"$script" <"$sample" >"$tmp/out" 2>&1
if cmp -s "$tmp/first" "$tmp/out"; then ok "stdin: same as the file"; else not_ok "stdin: differs"; fi
run 0 "dash for stdin" - <"$sample"
has "dash for stdin" '^connections: 26 '
run 0 "two files" "$sample" "$sample"
has "two files add up" '^connections: 52 \(64 lines read\)$'
has "two files: delay 5" '^ +5 s +12 +60\.0%$'
cp "$sample" "$tmp/x=1"
(cd "$tmp" && "$script" "x=1") >"$tmp/out" 2>&1
has "a file named x=1 is read, not assigned" '^connections: 26 '

# Candidate delays: "<", so a talker at 4.999 s is caught by 5, not 4.999.
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
printf 'pass ip=192.0.2.1 port=1 delay=35.000\n' >"$tmp/pass.log"
run 0 "no early talkers" "$tmp/pass.log"
has "no early talkers: pass counted" '^pass +1 +100\.0%$'
lacks "no early talkers: no table" 'would have caught'

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

echo "stats: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
