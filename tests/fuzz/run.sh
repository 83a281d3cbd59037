#!/bin/sh
# run.sh FUZZER NAME SECONDS - run one libFuzzer target for a bounded time.
#
# First every input in tests/fuzz/seed/NAME and tests/fuzz/regress/NAME
# (the reproducer of each problem ever found) is run once; then the
# target fuzzes for SECONDS, starting from those and from what earlier
# runs found (build/fuzz/corpus-NAME).  A crash, a leak, a broken
# promise or an input slower than 10 s fails the run; the input is left
# in build/fuzz/crash-NAME-*, to be fixed and then added to regress/.
set -u
bin=$1 name=$2 secs=$3
dir=$(dirname "$bin")
corpus=$dir/corpus-$name
log=$dir/$name.log
seeds=tests/fuzz/seed/$name
regress=tests/fuzz/regress/$name

mkdir -p "$corpus"
set -- "$seeds"
[ -d "$regress" ] && set -- "$@" "$regress"

if ! "$bin" -runs=0 "$@" >"$log" 2>&1; then
	tail -n 40 "$log"
	echo "fuzz_$name: FAIL: a seed or a past reproducer fails again"
	exit 1
fi
replayed=$(find "$@" -type f | wc -l)

if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$dir/crash-$name-" \
    "$corpus" "$@" >"$log" 2>&1; then
	tail -n 60 "$log"
	echo "fuzz_$name: FAIL: see $log; the input is in $dir/crash-$name-*"
	exit 1
fi
stat_of() {
	sed -n "s/^stat::$1: *//p" "$log"
}
echo "fuzz_$name: $replayed seeds and reproducers replayed;" \
    "$(stat_of number_of_executed_units) executions in ${secs} s" \
    "($(stat_of average_exec_per_sec)/s)," \
    "corpus $(find "$corpus" -type f | wc -l)," \
    "peak $(stat_of peak_rss_mb) MB; nothing found"
