#!/bin/sh
# tests/console_test.sh RCBENCH DIR — rcbench's console (issue 21): by
# default one short line per benchmark as it finishes (name, median time
# per op, or per the workload's unit: a program per run, gc_pause per
# collection; +- the spread over repetitions, N/M, the time left) and no
# counter; --benchmark_format=console gives Google Benchmark's full lines
# (the counters) instead. Small --quick runs; no timing is asserted.
# Exit 0 on success, 1 with a FAIL line.
set -u
exe=${1:?usage: console_test.sh RCBENCH DIR}
dir=${2:?usage: console_test.sh RCBENCH DIR}
fail() { echo "FAIL: $*"; exit 1; }
run=${RCBENCH_RUN:-}
flags="--quick --workloads=tl_incdec,tree,gc_pause_10k,cfold --strategies=plain,atomic,none --allocators=arena --threads=1"
n=$($run "$exe" --list $flags | wc -l)
[ "$n" -ge 4 ] || fail "--list gave $n benchmarks"

# The short lines: exactly one per benchmark, each [i/N] NAME TIME/UNIT,
# the workload's unit: /collection for gc_pause, /run for a program.
$run "$exe" $flags > "$dir/console-short.out" 2>&1 || { tail -20 "$dir/console-short.out"; fail "rcbench exit $?"; }
lines=$(grep -Ec '^\[ *[0-9]+/[0-9]+\] [a-z0-9_]+/[a-z_-]+/[a-z]+/threads:[0-9]+ +[0-9.]+ (ns|us|ms|s)/(op|collection|run)' "$dir/console-short.out")
[ "$lines" -eq "$n" ] || { cat "$dir/console-short.out"; fail "$lines short lines for $n benchmarks"; }
for u in "gc_pause_10k/ collection" "cfold/ run" "tree/ op"; do
    set -- $u
    grep -Eq "^\[ *[0-9]+/[0-9]+\] $1[a-z_-]+/[a-z]+/threads:1 +[0-9.]+ (ns|us|ms|s)/$2( |\$)" "$dir/console-short.out" ||
        { cat "$dir/console-short.out"; fail "$1 not per $2"; }
done
grep -q "^\[ *$n/$n\] " "$dir/console-short.out" || fail "no [$n/$n] line"
for c in ops_per_sec gc_p50_us availability peak_rss_kib _mean _median _stddev; do
    grep -v '^Summary\|^ \|^$' "$dir/console-short.out" | grep -q "$c" && { cat "$dir/console-short.out"; fail "counter $c on the console"; }
done
[ "$(awk 'length > 120' "$dir/console-short.out" | grep -c '^\[')" -eq 0 ] || fail "a short line over 120 columns"
echo "ok: $n benchmarks, $lines short lines, no counter"

# Repetitions: the spread, and still one line per benchmark.
$run "$exe" $flags --benchmark_repetitions=3 > "$dir/console-reps.out" 2>&1 || fail "3 repetitions: exit $?"
lines=$(grep -Ec '^\[ *[0-9]+/[0-9]+\] .* [+]-[0-9.]+%' "$dir/console-reps.out")
[ "$lines" -eq "$n" ] || { cat "$dir/console-reps.out"; fail "$lines lines with a spread for $n benchmarks"; }
grep -q 'left' "$dir/console-reps.out" || fail "no time left shown"
echo "ok: 3 repetitions: one line per benchmark with its spread and the time left"

# Google Benchmark's own lines behind its own flag: the counters are back.
$run "$exe" $flags --benchmark_format=console > "$dir/console-full.out" 2>&1 || fail "--benchmark_format=console: exit $?"
grep -q 'ops_per_sec' "$dir/console-full.out" || { cat "$dir/console-full.out"; fail "--benchmark_format=console: no counters"; }
grep -q '^\[ *[0-9]*/[0-9]*\] ' "$dir/console-full.out" && fail "--benchmark_format=console: short lines too"
echo "ok: --benchmark_format=console: Google Benchmark's lines, counters and all"
