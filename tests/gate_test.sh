#!/bin/sh
# tests/gate_test.sh TOOLS — tools/rcbench-icount and tools/rcbench-gate
# (in the directory TOOLS; the gate from a copy beside a results/ of the
# test's own) under faults, without a real valgrind run: a
# stand-in `valgrind` on PATH writes one callgrind dump per benchmark and
# prints rcbench --icount's lines (FAKE_VG=fail: valgrind fails;
# =badtotals: a garbled dump; the n-th benchmark counts n x FAKE_TOTAL
# instructions, 1000 unless told, per 100 ops). Each case checks the exit status (P7), one
# line on stderr, no traceback, and that no file was written or changed.
# Exit 0 on success, 1 with a FAIL line.
set -u
tools=${1:?usage: gate_test.sh TOOLS-DIRECTORY}
tools=$(cd "$tools" && pwd) || exit 1
dir=$(mktemp -d "${TMPDIR:-/tmp}/gate_test.XXXXXX") || { echo "FAIL: mktemp"; exit 1; }
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$dir/bin" "$dir/w"
cat > "$dir/bin/valgrind" <<'EOF'
#!/bin/sh
out=
for a; do case $a in --callgrind-out-file=*) out=${a#--callgrind-out-file=} ;; esac; done
[ "${FAKE_VG:-}" = fail ] && { echo "==1== valgrind: cannot run it" >&2; exit 1; }
n=0
for b in tl_incdec/plain/arena/threads:1 alloc_pairs/none/arena/threads:1; do
    n=$((n + 1))
    total=$((n * ${FAKE_TOTAL:-1000}))
    [ "${FAKE_VG:-}" = badtotals ] && total=lots
    printf 'desc: Trigger: Client Request: %s\ntotals: %s\n' "$b" "$total" > "$(echo "$out" | sed "s/%p/$$.$n/")"
    echo "icount $b 100"
done
EOF
chmod +x "$dir/bin/valgrind"
PATH=$dir/bin:$PATH
export PATH
unset RCBENCH_GATE_OUT FAKE_VG FAKE_TOTAL RCBENCH_HISTORY RCBENCH_HISTORY_MACHINE

files() { find "$dir/w" -mindepth 1 ! -type d -printf '%P %s %T@\n' | sort; }
# expect WANT WHAT STDOUT CMD...: CMD run in $dir/w exits WANT; when WANT
# is 2 or more, one line on stderr; never a traceback; no file written or changed.
expect() {
    want=$1 what=$2 out=$3; shift 3
    files > "$dir/files.before"
    (cd "$dir/w" && "$@") > "$out" 2> "$dir/err"; rc=$?
    [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want: $(cat "$dir/err")"
    if [ "$want" -ge 2 ]; then
        [ "$(wc -l < "$dir/err")" -eq 1 ] || fail "$what: not one line on stderr: $(cat "$dir/err")"
    fi
    grep -q Traceback "$dir/err" && fail "$what: a traceback: $(cat "$dir/err")"
    files | diff "$dir/files.before" - > /dev/null || fail "$what: files written or changed: $(files)"
    echo "ok: $what -> exit $rc$([ -s "$dir/err" ] && printf ': %s' "$(cat "$dir/err")")"
}

# rcbench-icount. The good run first: its CSV is what the faults must not touch.
icount=$tools/rcbench-icount
"$icount" --out "$dir/w/counts.csv" /bin/true 2> "$dir/err" || fail "icount --out: exit $?: $(cat "$dir/err")"
[ "$(head -1 "$dir/w/counts.csv")" = benchmark,ops,instructions,instructions_per_op ] || fail "icount: header"
[ "$(wc -l < "$dir/w/counts.csv")" -eq 3 ] || fail "icount: expected 2 benchmarks: $(cat "$dir/w/counts.csv")"
echo "ok: icount --out"
expect 0 "icount to stdout" "$dir/out" "$icount" /bin/true
cmp -s "$dir/out" "$dir/w/counts.csv" || fail "icount: stdout differs from --out"
expect 2 "icount without RCBENCH" /dev/null "$icount"
expect 2 "icount --out DIRECTORY" /dev/null "$icount" --out "$dir/w" /bin/true
expect 1 "icount, valgrind fails" /dev/null env FAKE_VG=fail "$icount" --out counts.csv /bin/true
expect 1 "icount, a garbled dump" /dev/null env FAKE_VG=badtotals "$icount" --out counts.csv /bin/true
if [ -w /dev/full ]; then       # once a traceback (exit 1)
    expect 3 "icount > /dev/full" /dev/full "$icount" /bin/true
    grep -q '^rcbench-icount: standard output: ' "$dir/err" || fail "icount /dev/full: stdout not named"
fi
if [ -d /proc/self ]; then      # a directory that takes no file, as root too; once exit 1
    expect 3 "icount --out /proc/self/x.csv" /dev/null "$icount" --out /proc/self/x.csv /bin/true
fi

# rcbench-gate, run from a copy of tools/ beside a results/<arch>/ of our own.
top=$dir/w/top
mkdir -p "$top/tools" "$top/results/$(uname -m)"
cp "$tools/rcbench-gate" "$tools/rcbench-icount" "$tools/rcbench-compare" "$tools/rcbench_tools.py" "$top/tools/"
gate=$top/tools/rcbench-gate
base=$top/results/$(uname -m)/icount-baseline.csv
expect 2 "gate without RCBENCH" /dev/null "$gate"
expect 2 "gate without a baseline" /dev/null "$gate" /bin/true
cp "$dir/w/counts.csv" "$base"
expect 0 "gate, same counts" /dev/null "$gate" /bin/true
sed 's/,1000,10.0000$/,900,9.0000/' "$dir/w/counts.csv" > "$base"
expect 1 "gate, tl_incdec 11% more instructions" "$dir/out" "$gate" /bin/true
grep -q '^tl_incdec/plain/arena/threads:1 .*REGRESSED' "$dir/out" || fail "gate: regression not named: $(cat "$dir/out")"
# A baseline with a 300 KB field: once a traceback and exit 1, "regressed".
{ head -1 "$dir/w/counts.csv"; printf '"'; head -c 300000 /dev/zero | tr '\0' x; echo '",1,1,1'; } > "$base"
expect 2 "gate, a 300 KB field in the baseline" /dev/null "$gate" /bin/true
head -1 "$dir/w/counts.csv" > "$base"
expect 2 "gate, a header-only baseline" /dev/null "$gate" /bin/true
cp "$dir/w/counts.csv" "$base"
expect 2 "gate, valgrind fails" /dev/null env FAKE_VG=fail "$gate" /bin/true
if [ -w /dev/full ]; then       # once a traceback and exit 1
    expect 3 "gate > /dev/full" /dev/full "$gate" /bin/true
fi
if [ -d /proc/self ]; then      # icount's exit 3 was reported as 2
    expect 3 "gate, RCBENCH_GATE_OUT unwritable" /dev/null env RCBENCH_GATE_OUT=/proc/self/x.csv "$gate" /bin/true
fi
# --baseline: a failed refresh is no regression (exit 1 was), and leaves
# the old baseline; stdout on /dev/full is exit 3 (the baseline, written
# atomically before, is whole).
expect 2 "gate --baseline, valgrind fails" /dev/null env FAKE_VG=fail "$gate" --baseline /bin/true
if [ -w /dev/full ]; then
    sed 's/,1000,10.0000$/,900,9.0000/' "$dir/w/counts.csv" > "$base"
    (cd "$dir/w" && "$gate" --baseline /bin/true) > /dev/full 2> "$dir/err"; rc=$?
    [ "$rc" -eq 3 ] || fail "gate --baseline > /dev/full: exit $rc, expected 3: $(cat "$dir/err")"
    [ "$(wc -l < "$dir/err")" -eq 1 ] || fail "gate --baseline > /dev/full: not one line: $(cat "$dir/err")"
    cmp -s "$base" "$dir/w/counts.csv" || fail "gate --baseline > /dev/full: baseline not whole"
    echo "ok: gate --baseline > /dev/full -> exit 3: $(cat "$dir/err")"
fi

# With a history (RCBENCH_HISTORY, tools/rcbench-history): each run is
# added under the binary's facts (a stand-in rcbench's --list=machine) and
# the history checked; a second run of one revision is refused (2) with
# the history unchanged; a 10% step the refreshed baseline no longer sees
# is caught by the history (1); a file that is not a history is 2.
cp "$tools/rcbench-history" "$top/tools/"
cat > "$dir/bin/fake-rcbench" <<'EOF'
#!/bin/sh
[ "$1" = --list=machine ] || exit 2
printf 'arch=x86_64\ncpu_model=Fake CPU, 2 cores\ncompiler=gcc 12.2.0\nrevision=%s\n' "$FAKE_REV"
EOF
chmod +x "$dir/bin/fake-rcbench"
hist=$dir/history.db
cp "$dir/w/counts.csv" "$base"
for i in 0 1 2 3 4 5; do
    (cd "$dir/w" && RCBENCH_HISTORY=$hist FAKE_REV=rev$i "$gate" "$dir/bin/fake-rcbench") > "$dir/out" 2> "$dir/err" ||
        fail "gate with a history, rev$i: exit $?: $(cat "$dir/err")"
done
"$top/tools/rcbench-history" --db "$hist" show tl_incdec/plain/arena/threads:1 > "$dir/out" 2> "$dir/err" ||
    fail "history show: $(cat "$dir/err")"
[ "$(grep -c '^  rev[0-5] ' "$dir/out")" -eq 6 ] || fail "history: not 6 runs: $(cat "$dir/out")"
grep -q '^tl_incdec/plain/arena/threads:1  instructions_per_op  on Fake CPU, 2 cores$' "$dir/out" ||
    fail "history: machine not the binary's cpu_model: $(cat "$dir/out")"
echo "ok: gate with a history: 6 runs added under the binary's facts"
sum=$(cksum < "$hist")
(cd "$dir/w" && RCBENCH_HISTORY=$hist FAKE_REV=rev5 "$gate" "$dir/bin/fake-rcbench") > /dev/null 2> "$dir/err"
rc=$?
[ "$rc" -eq 2 ] || fail "gate, a second run of rev5: exit $rc, expected 2: $(cat "$dir/err")"
[ "$(wc -l < "$dir/err")" -eq 1 ] || fail "gate, a second run of rev5: not one line: $(cat "$dir/err")"
[ "$(cksum < "$hist")" = "$sum" ] || fail "gate, a second run of rev5: the history changed"
echo "ok: gate, a second run of rev5 -> exit 2, history unchanged: $(cat "$dir/err")"
FAKE_TOTAL=1100 "$icount" --out "$base" /bin/true 2> "$dir/err" || fail "icount, FAKE_TOTAL: $(cat "$dir/err")"
(cd "$dir/w" && RCBENCH_HISTORY=$hist FAKE_REV=rev6 FAKE_TOTAL=1100 "$gate" "$dir/bin/fake-rcbench") \
    > "$dir/out" 2> "$dir/err"
rc=$?
[ "$rc" -eq 1 ] || fail "gate, a 10% step in the baseline too: exit $rc, expected 1: $(cat "$dir/out" "$dir/err")"
grep -q '^tl_incdec/plain/arena/threads:1  instructions_per_op  on Fake CPU, 2 cores: REGRESSED at rev6 ' "$dir/out" ||
    fail "gate: the history's step not named: $(cat "$dir/out")"
echo "ok: gate, a 10% step the refreshed baseline accepts -> exit 1 from the history"
echo "not a history" > "$dir/notes.db"
(cd "$dir/w" && RCBENCH_HISTORY=$dir/notes.db FAKE_REV=rev7 "$gate" "$dir/bin/fake-rcbench") > /dev/null 2> "$dir/err"
rc=$?
{ [ "$rc" -eq 2 ] && [ "$(wc -l < "$dir/err")" -eq 1 ]; } || fail "gate, not a history: exit $rc: $(cat "$dir/err")"
[ "$(cat "$dir/notes.db")" = "not a history" ] || fail "gate, not a history: the file changed"
echo "ok: gate, RCBENCH_HISTORY not a history -> exit 2: $(cat "$dir/err")"
cp "$dir/w/counts.csv" "$base"
(cd "$dir/w" && RCBENCH_HISTORY=$dir/new.db "$gate" /bin/true) > /dev/null 2> "$dir/err"
rc=$?
{ [ "$rc" -eq 2 ] && [ "$(wc -l < "$dir/err")" -eq 1 ]; } || fail "gate, no --list=machine: exit $rc: $(cat "$dir/err")"
[ -e "$dir/new.db" ] && fail "gate, no --list=machine: a history was made"
echo "ok: gate, a binary without --list=machine -> exit 2, no history made: $(cat "$dir/err")"

echo "ok: gate_test"
exit 0
