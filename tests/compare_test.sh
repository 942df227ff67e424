#!/bin/sh
# tests/compare_test.sh — tools/rcbench-compare on synthetic reports.
# Usage: compare_test.sh TOOL. Exit 0 when every case holds, 1 with a FAIL line.
# The reports are made here with a fixed seed: 3 benchmarks x 5 repetitions,
# +-5% noise; "slow" makes tree 30% slower, "uniform" makes everything 40%
# slower (a slower machine), a JSON copy of "a" checks the JSON reader.
set -u
tool=$1
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 - "$dir" <<'PY' || { echo "FAIL: cannot make the reports"; exit 1; }
import json, random, sys
d = sys.argv[1]
H = ("workload,strategy,allocator,threads,repetition,iterations,ns_per_op,ops_per_sec,cpu_ns_per_op,"
     "peak_rss_kib,header_bytes,gc_collections,gc_pause_p50_us,gc_pause_p99_us,gc_pause_max_us,binding,"
     "arch,cpu_model,compiler,revision,timestamp,availability,overlap,c2c_ns,atomics,error")
def samples(seed, slow=1.0, scale=1.0):
    r = random.Random(seed)
    for w, base in (("tl_incdec", 4.0), ("tree", 30.0), ("alloc_pairs", 6.0)):
        s = "none" if w == "alloc_pairs" else "atomic"
        for rep in range(5):
            yield w, s, rep, base * scale * (1 + r.uniform(-0.05, 0.05)) * (slow if w == "tree" else 1.0)
def write(name, **kw):
    with open(f"{d}/{name}.csv", "w") as f:
        f.write(H + "\n")
        for w, s, rep, v in samples(**kw):
            f.write(f'{w},{s},arena,1,{rep},10,{v:.4f},1,1,1,16,0,0,0,0,pu0,x86_64,"AMD EPYC, x",gcc,abc,'
                    f'2026-01-01T00:00:00Z,1,1,,x86-lock,\n')
write("a", seed=1); write("b", seed=2); write("slow", seed=3, slow=1.3); write("uniform", seed=4, scale=1.4)
bench = [{"name": f"{w}/{s}/arena/threads:1", "run_name": f"{w}/{s}/arena/threads:1", "run_type": "iteration",
          "repetition_index": rep, "real_time": v * 1000, "time_unit": "ns", "ops_per_iter": 1000}
         for w, s, rep, v in samples(seed=1)]
json.dump({"context": {}, "benchmarks": bench}, open(f"{d}/a.json", "w"))
open(f"{d}/bad.csv", "w").write("workload,strategy\nx,y\n")
open(f"{d}/badnum.csv", "w").write(open(f"{d}/a.csv").read().replace("tl_incdec,atomic,arena,1,0,10,", "tl_incdec,atomic,arena,1,0,10,fast", 1))
open(f"{d}/bad.json", "w").write('{"benchmarks": [')
# Faults (issue 17): a field over csv's 128 KiB limit, JSON nested past
# Python's recursion limit.
open(f"{d}/bigfield.csv", "w").write(H + "\n" + 'tree,atomic,arena,1,0,10,"' + "9" * 300000 + '"' + ",1" * 19 + "\n")
# UTF-8 (a CPU's name with "®"), and with a byte-order mark, as the C
# locale reads it.
open(f"{d}/utf8.csv", "w", encoding="utf-8").write(open(f"{d}/b.csv").read().replace("AMD EPYC, x", "Intel\u00ae Xeon\u00ae"))
open(f"{d}/utf8-name.csv", "w", encoding="utf-8").write(open(f"{d}/b.csv").read().replace("tree,", "tr\u00e9e,"))
open(f"{d}/bom.csv", "w", encoding="utf-8-sig").write(open(f"{d}/b.csv").read())
# b with the unit column rcbench writes now (a, as before it).
open(f"{d}/unit.csv", "w").write("".join(line + (",unit\n" if i == 0 else ",op\n")
                                         for i, line in enumerate(open(f"{d}/b.csv").read().splitlines())))
open(f"{d}/header.csv", "w").write(H + "\n")
open(f"{d}/header-icount.csv", "w").write("benchmark,ops,instructions,instructions_per_op\n")
# 300k benchmarks (20 MB): parsed, far more than the 80 MB we allow below.
b = '{"name": "tree/atomic/arena/threads:1", "real_time": 1.5, "ops_per_iter": 1}'
open(f"{d}/huge.json", "w").write('{"benchmarks": [' + ",".join([b] * 300000) + "]}")
open(f"{d}/deep.json", "w").write('{"benchmarks": ' + "[" * 100000 + "]" * 100000 + "}")
PY
files() { find "$dir" -mindepth 1 -maxdepth 1 ! -name err ! -name out ! -name ls.before -printf '%f %s %T@\n' | sort; }
expect() {
    want=$1; shift
    files > "$dir/ls.before"
    out=$("$tool" "$@" 2>"$dir/err"); rc=$?
    printf '%s\n' "$out" > "$dir/out"
    check "$want" "$rc" "$*" "$out"
}
check() { # want rc what stdout: the exit, one stderr line on failure, no traceback, no file written
    if [ "$2" -ne "$1" ]; then
        echo "FAIL: $3 -> exit $2, expected $1: $4 $(cat "$dir/err")"; exit 1
    fi
    if [ "$1" -ge 2 ] && [ "$(wc -l < "$dir/err")" -ne 1 ]; then
        echo "FAIL: $3 -> not one line on stderr: $(cat "$dir/err")"; exit 1
    fi
    if grep -q Traceback "$dir/err"; then
        echo "FAIL: $3 -> a traceback: $(cat "$dir/err")"; exit 1
    fi
    files | diff "$dir/ls.before" - > /dev/null || { echo "FAIL: $3 -> wrote a file"; files; exit 1; }
    echo "ok: $3 -> exit $2$([ -s "$dir/err" ] && printf ': %s' "$(head -c 200 "$dir/err")")"
}
cd "$dir" || exit 1
expect 0 a.csv b.csv                      # noise only
expect 1 a.csv slow.csv                   # tree 30% slower
"$tool" --quiet a.csv slow.csv | grep -q '^tree/atomic/arena/threads:1 .*REGRESSED' || { echo "FAIL: tree not named"; exit 1; }
"$tool" --quiet a.csv slow.csv | grep -q 'tl_incdec.*REGRESSED' && { echo "FAIL: tl_incdec flagged"; exit 1; }
expect 1 a.csv uniform.csv                # a slower machine reads as slower ...
expect 0 --reference alloc_pairs/none/arena/threads:1 a.csv uniform.csv   # ... unless normalised
expect 0 a.json a.csv                     # JSON and CSV of the same samples
expect 0 a.json b.csv
expect 2 a.csv bad.csv
expect 2 a.csv badnum.csv
expect 2 a.csv bad.json
expect 2 a.csv no-such.csv
expect 2 --reference no/such/bench/threads:1 a.csv b.csv
expect 2 a.csv bigfield.csv              # a 300 KB field: csv.Error, once a traceback and exit 1
grep -q '^rcbench-compare: bigfield.csv:2: ' "$dir/err" || { echo "FAIL: no file:line for a huge field"; exit 1; }
expect 2 a.csv deep.json                  # 100k-deep JSON: RecursionError, once exit 1
grep -q '^rcbench-compare: deep.json: ' "$dir/err" || { echo "FAIL: deep JSON not named"; exit 1; }
(   # P8: UTF-8 whatever the locale's encoding (here ASCII, once "not text")
    LC_ALL=C PYTHONCOERCECLOCALE=0 PYTHONUTF8=0
    export LC_ALL PYTHONCOERCECLOCALE PYTHONUTF8
    expect 0 a.csv utf8.csv
    expect 0 utf8-name.csv utf8-name.csv  # a name ASCII cannot print: escaped, not a failure
    grep -q '^tr\\xe9e/atomic' "$dir/out" || { echo "FAIL: tr\xe9e not in the table"; exit 1; }
) || exit 1
expect 0 a.csv bom.csv
expect 0 a.csv unit.csv                   # with the unit column against one without
expect 1 unit.csv slow.csv
expect 2 a.csv header.csv                 # the header only: no rows (was "no benchmark in common")
grep -qx 'rcbench-compare: header.csv:1: no rows, only the header' "$dir/err" || { echo "FAIL: header only: line not named"; exit 1; }
expect 2 header-icount.csv header-icount.csv
grep -qx 'rcbench-compare: header-icount.csv:1: no rows, only the header' "$dir/err" || { echo "FAIL: header only: line not named"; exit 1; }
expect 2 --no-such-flag a.csv b.csv       # one line, not usage + error
if [ -w /dev/full ]; then                 # the table cannot be written: an OS error, once exit 1
    files > "$dir/ls.before"
    "$tool" a.csv b.csv > /dev/full 2>"$dir/err"; check 3 $? "a.csv b.csv > /dev/full" ""
    grep -q '^rcbench-compare: standard output: ' "$dir/err" || { echo "FAIL: stdout not named"; exit 1; }
fi
files > "$dir/ls.before"                  # out of memory (MemoryError): exit 3, one line
(ulimit -v 80000 && exec "$tool" a.csv huge.json) > /dev/null 2>"$dir/err"; check 3 $? "a.csv huge.json, ulimit -v 80000" ""
grep -qx 'rcbench-compare: out of memory' "$dir/err" || { echo "FAIL: out of memory not said"; exit 1; }
files > "$dir/ls.before"                  # stdout closed: once an AttributeError traceback
"$tool" a.csv b.csv >&- 2>"$dir/err"; check 3 $? "a.csv b.csv >&-" ""
"$tool" a.csv b.csv >&- 2>&-; rc=$?      # nowhere to say it: the status alone
[ "$rc" -eq 3 ] || { echo "FAIL: a.csv b.csv >&- 2>&- -> exit $rc, expected 3"; exit 1; }
echo "ok: a.csv b.csv >&- 2>&- -> exit 3"
"$tool" a.csv badnum.csv 2>&1 >/dev/null | grep -q '^rcbench-compare: badnum.csv:2: ' || { echo "FAIL: no file:line for a bad number"; exit 1; }
echo "compare: all cases hold"
