#!/bin/sh
# tests/gate_test.sh TOOLS — tools/rcbench-icount and tools/rcbench-gate
# (in the directory TOOLS) under faults, without a real valgrind run: a
# stand-in `valgrind` on PATH writes one callgrind dump per benchmark and
# prints rcbench --icount's lines (FAKE_VG=fail: valgrind fails;
# =badtotals: a garbled dump). Each case checks the exit status (P7), one
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
    total=$((n * 1000))
    [ "${FAKE_VG:-}" = badtotals ] && total=lots
    printf 'desc: Trigger: Client Request: %s\ntotals: %s\n' "$b" "$total" > "$(echo "$out" | sed "s/%p/$$.$n/")"
    echo "icount $b 100"
done
EOF
chmod +x "$dir/bin/valgrind"
PATH=$dir/bin:$PATH
export PATH
unset RCBENCH_GATE_OUT FAKE_VG

files() { find "$dir/w" -mindepth 1 -printf '%P %s %T@\n' | sort; }
# expect WANT WHAT STDOUT CMD...: CMD run in $dir/w exits WANT; when WANT
# is not 0, one line on stderr; never a traceback; no file written or changed.
expect() {
    want=$1 what=$2 out=$3; shift 3
    files > "$dir/files.before"
    (cd "$dir/w" && "$@") > "$out" 2> "$dir/err"; rc=$?
    [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want: $(cat "$dir/err")"
    if [ "$want" -ne 0 ]; then
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

echo "ok: gate_test"
exit 0
