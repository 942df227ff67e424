#!/bin/sh
# tests/report_test.sh TOOLS RCBENCH DIR — tools/rcbench-report's HTML,
# opened in a real browser (issue 21): a --quick run's CSV (two thread
# counts, peers, two gc_pause heaps, a program) made into report.html,
# which headless Chromium (Debian's chromium: tools/deps.sh installs it)
# loads from disk; tests/report_check.py checks the DOM Chromium built
# (one section per workload of the CSV, every plot present as SVG, no NaN,
# inf or empty cell where a number belongs, each workload in the CSV's
# unit: the program per run) and the screenshot, kept as
# DIR/report-test.png. A CSV without the unit column (an older run's)
# still makes a page, in the old units. Then bad input (a missing, empty,
# foreign or header-only CSV): exit 2, one line on stderr, nothing written.
# Without chromium the test fails: it must not pass having checked nothing.
# Exit 0 on success, 1 with a FAIL line.
set -u
tools=${1:?usage: report_test.sh TOOLS RCBENCH DIR}
exe=${2:?usage: report_test.sh TOOLS RCBENCH DIR}
dir=${3:?usage: report_test.sh TOOLS RCBENCH DIR}
here=$(dirname "$0")
fail() { echo "FAIL: $*"; exit 1; }
browser=$(command -v chromium) || fail "chromium not installed (tools/deps.sh installs it: apt-get install chromium)"

csv=$dir/report-test.csv html=$dir/report-test.html shot=$dir/report-test.png
rm -f "$csv" "$html" "$shot" "$dir/report-test-dom.html"
NO_COLOR=1 ${RCBENCH_RUN:-} "$exe" --quick --workloads=tl_incdec,tree,handoff,gc_pause_10k,gc_pause_100k,nqueens \
    --threads=1,2 --allocators=arena,glibc --csv="$csv" > "$dir/report-test.out" 2>&1 ||
    { tail -20 "$dir/report-test.out"; fail "rcbench exit $?"; }
"$tools/rcbench-report" "$csv" --out "$html" > "$dir/report-test.tool" 2>&1 ||
    { cat "$dir/report-test.tool"; fail "rcbench-report exit $?"; }
grep -qx "rcbench-report: wrote $html" "$dir/report-test.tool" || fail "the path not printed: $(cat "$dir/report-test.tool")"
grep -Eq '<(script|link)[ >]|src="http|href="http' "$html" && fail "report.html is not self-contained"

# The browser: a profile of our own, no sandbox (ctest may run as root).
chrome() {
    timeout 180 "$browser" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$dir/chromium-profile" \
        "$@" "file://$html" 2>> "$dir/report-test-chromium.log"
}
: > "$dir/report-test-chromium.log"
chrome --dump-dom > "$dir/report-test-dom.html" || fail "chromium --dump-dom exit $? (log: $dir/report-test-chromium.log)"
chrome --window-size=1280,2400 --screenshot="$shot" > /dev/null || fail "chromium --screenshot exit $?"
/usr/bin/python3 "$here/report_check.py" "$csv" "$dir/report-test-dom.html" "$shot" || exit 1
echo "ok: screenshot in $shot"

# A CSV from before the unit column: read as before (gc_pause per
# collection, the rest per op), no crash.
/usr/bin/python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
k = rows[0].index("unit")
csv.writer(open(sys.argv[2], "w", newline="")).writerows(r[:k] + r[k + 1:] for r in rows)
' "$csv" "$dir/report-old.csv" || fail "cannot write the old CSV"
rm -f "$dir/report-old.html"
"$tools/rcbench-report" "$dir/report-old.csv" --out "$dir/report-old.html" > "$dir/report-old.tool" 2>&1 ||
    { cat "$dir/report-old.tool"; fail "rcbench-report on a CSV without unit: exit $?"; }
grep -q 'data-workload="gc_pause_10k" data-unit="collection"' "$dir/report-old.html" &&
    grep -q 'data-workload="nqueens" data-unit="op"' "$dir/report-old.html" ||
    fail "a CSV without unit: not the old units"
echo "ok: a CSV without unit: gc_pause per collection, the rest per op"

# Bad input: exit 2, one line, nothing written (nor a temp file left).
: > "$dir/report-empty.csv"
printf 'name,value\nx,1\n' > "$dir/report-foreign.csv"
head -1 "$csv" > "$dir/report-header.csv"
${RCBENCH_RUN:-} "$exe" --list=census-columns | paste -sd, > "$dir/report-census.csv"
for bad in missing empty foreign header census; do
    rm -f "$dir/report-bad.html"
    "$tools/rcbench-report" "$dir/report-$bad.csv" --out "$dir/report-bad.html" > /dev/null 2> "$dir/report-bad.err"; rc=$?
    [ "$rc" -eq 2 ] || fail "$bad CSV: exit $rc, expected 2: $(cat "$dir/report-bad.err")"
    [ "$(wc -l < "$dir/report-bad.err")" -eq 1 ] || fail "$bad CSV: not one line: $(cat "$dir/report-bad.err")"
    grep -q "report-$bad.csv" "$dir/report-bad.err" || fail "$bad CSV: file not named: $(cat "$dir/report-bad.err")"
    [ -e "$dir/report-bad.html" ] && fail "$bad CSV: report written"
    ls -a "$dir" | grep -q '^\.report-bad\.html\.' && fail "$bad CSV: a temp file left"
    echo "ok: $bad CSV -> exit 2: $(cat "$dir/report-bad.err")"
done
echo "ok: report_test"
