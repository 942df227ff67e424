#!/bin/sh
# tests/census_plot_test.sh TOOLS — checks tools/rcbench-census-plot (in
# directory TOOLS): CPython's census alone and with a synthetic rcbench
# census-smallint.csv (three workloads, two thread counts, a zero) each give
# a PNG, the two different; a foreign CSV in either place, an empty one, a
# bad refs, an unknown flag and thread count each exit 2, an unwritable
# directory exit 3: one line on stderr, no traceback, no PNG or temporary
# file written. Exit 0 on success, 1 with a FAIL line, 77 (ctest: skipped)
# without python3-matplotlib.
set -u
tools=${1:?usage: census_plot_test.sh TOOLS-DIR}
tool=$tools/rcbench-census-plot
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null ||
    { echo "python3-matplotlib not installed (tools/deps.sh): skipped"; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/census_plot_test.XXXXXX") || { echo "FAIL: mktemp"; exit 1; }
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A synthetic CPython census: refs falling with the value, peaks at powers of two.
awk 'BEGIN { print "value,refs,python,method"
             for (v = -5; v <= 1000; v++) {
                 r = v > 256 ? 1 : int(300 / (v < 1 ? 1 + (0 - v) : v)) + 1
                 for (p = 1; p < v; p *= 2) ;
                 if (v > 0 && p == v) r *= 4
                 print v "," r ",3.11.2,getrefcount" } }' > "$dir/cpy.csv"
# rcbench's census: workload,threads,value,refs (plus a column it may grow).
awk 'BEGIN { print "workload,threads,value,refs,note"
             split("smallint list_churn tree", w, " ")
             for (i = 1; i <= 3; i++) for (t = 1; t <= 2; t++) for (v = -5; v <= 256; v++) {
                 r = (w[i] == "tree" && v % 7 == 3) ? 0 : int(100000 * i / (v < 1 ? 1 : v))
                 print w[i] "," t "," v "," r ",x" } }' > "$dir/rc.csv"

png() { # FILE: a PNG by its signature
    [ -s "$1" ] || fail "$1 not written"
    sig=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
    [ "$sig" = 89504e470d0a1a0a ] || fail "$1 does not start with the PNG signature ($sig)"
}
"$tool" "$dir/cpy.csv" --out "$dir/alone.png" > "$dir/out" 2> "$dir/err" ||
    fail "CPython alone: exit $?: $(cat "$dir/err")"
[ -s "$dir/err" ] && fail "stderr on a good run: $(cat "$dir/err")"
png "$dir/alone.png"
echo "ok: CPython's census alone"
"$tool" "$dir/cpy.csv" --rcbench "$dir/rc.csv" --out "$dir/both.png" > /dev/null 2> "$dir/err" ||
    fail "with rcbench's census: exit $?: $(cat "$dir/err")"
png "$dir/both.png"
"$tool" "$dir/cpy.csv" --rcbench "$dir/rc.csv" --threads 2 --out "$dir/both2.png" > /dev/null 2> "$dir/err" ||
    fail "--threads 2: exit $?: $(cat "$dir/err")"
png "$dir/both2.png"
cmp -s "$dir/alone.png" "$dir/both.png" && fail "the rcbench lines changed nothing"
echo "ok: with rcbench's census, 1 and 2 threads"
ls -A "$dir" | grep -q '\.tmp$' && fail "temporary file left: $(ls -A "$dir")"

expect() { # CODE WHAT ARGS...: exit CODE, one line, no traceback, no new PNG or temp file
    want=$1 what=$2; shift 2
    before=$(ls -A "$dir" | grep -e '\.png$' -e '\.tmp$')
    "$tool" "$@" > /dev/null 2> "$dir/err"; rc=$?
    [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want: $(cat "$dir/err")"
    [ "$(wc -l < "$dir/err")" -eq 1 ] || fail "$what: not one line on stderr: $(cat "$dir/err")"
    grep -q Traceback "$dir/err" && fail "$what: a traceback"
    [ "$(ls -A "$dir" | grep -e '\.png$' -e '\.tmp$')" = "$before" ] || fail "$what: a file written"
    echo "ok: $what -> exit $rc: $(cat "$dir/err")"
}
# rcbench's tidy report is not a census; nor is either census in the other's place.
printf 'workload,strategy,allocator,threads,ns_per_op\ntl_incdec,plain,arena,1,1.5\n' > "$dir/tidy.csv"
expect 2 "a foreign CSV" "$dir/tidy.csv" --out "$dir/x.png"
grep -q 'tidy.csv:1:' "$dir/err" || fail "foreign CSV: FILE:LINE not named"
expect 2 "rcbench's census as CPython's" "$dir/rc.csv" --out "$dir/x.png"
expect 2 "a foreign CSV as --rcbench" "$dir/cpy.csv" --rcbench "$dir/tidy.csv" --out "$dir/x.png"
: > "$dir/empty.csv"
expect 2 "an empty CSV" "$dir/empty.csv" --out "$dir/x.png"
sed '10s/,[0-9]*,3.11.2,/,many,3.11.2,/' "$dir/cpy.csv" > "$dir/badrefs.csv"
expect 2 "a refs that is not a number" "$dir/badrefs.csv" --out "$dir/x.png"
grep -q 'badrefs.csv:10:' "$dir/err" || fail "bad refs: line not named"
sed '10s/,[0-9]*,3.11.2,/,0,3.11.2,/' "$dir/cpy.csv" > "$dir/zerorefs.csv"
expect 2 "CPython refs 0" "$dir/zerorefs.csv" --out "$dir/x.png"
expect 2 "no rows of --threads" "$dir/cpy.csv" --rcbench "$dir/rc.csv" --threads 4 --out "$dir/x.png"
expect 2 "--threads 0" "$dir/cpy.csv" --rcbench "$dir/rc.csv" --threads 0 --out "$dir/x.png"
expect 2 "an unknown flag" "$dir/cpy.csv" --frobnicate --out "$dir/x.png"
expect 2 "no --out" "$dir/cpy.csv"
expect 2 "a missing file" "$dir/nosuch.csv" --out "$dir/x.png"
expect 3 "no such directory" "$dir/cpy.csv" --out "$dir/no/such/x.png"
if [ -d /proc/self ]; then                 # takes no new file, as root too
    expect 3 "/proc/self as the directory" "$dir/cpy.csv" --out /proc/self/x.png
fi
echo "ok: census_plot_test"
exit 0
