#!/bin/sh
# tests/plot_test.sh TOOL — checks tools/rcbench-plot (path TOOL) on a small
# synthetic tidy CSV: the three PNGs are written and are PNGs, nothing
# temporary is left; a bad header, a non-numeric ns_per_op, a missing file,
# the header alone and only errored rows each give exit 2, one line on stderr naming FILE:LINE, and no PNG; faults
# (issue 17: a huge field, stdout on /dev/full, an --outdir that cannot be
# written) give exit 2 or 3, one line, no traceback, no PNG written or changed.
# Exit 0 on success, 1 with a FAIL line, 77 (ctest: skipped) without
# python3-matplotlib (tools/deps.sh installs it).
set -u
tool=${1:?usage: plot_test.sh PATH-TO-rcbench-plot}

/usr/bin/python3 -c 'import matplotlib' 2>/dev/null ||
    { echo "python3-matplotlib not installed (tools/deps.sh installs it): skipped"; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/plot_test.XXXXXX") || { echo "FAIL: mktemp"; exit 1; }
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

header=workload,strategy,allocator,threads,repetition,iterations,ns_per_op,ops_per_sec
header=$header,cpu_ns_per_op,peak_rss_kib,header_bytes,gc_collections,gc_pause_p50_us
header=$header,gc_pause_p99_us,gc_pause_max_us,binding,arch,cpu_model,compiler,revision,timestamp,peer
tail='c,x86_64,"Synthetic CPU, 2 cores",gcc 12.2,abc1234,2024-01-01T00:00:00Z'
row() { # workload strategy allocator threads rep ns
    ops=$(awk -v t="$4" -v ns="$6" 'BEGIN { printf "%.1f", t * 1e9 / ns }')
    case $2 in shared_ptr | boehm | cpython-gc | none) peer=yes ;; *) peer=no ;; esac
    echo "$1,$2,$3,$4,$5,1000000,$6,$ops,$6,2048,16,0,,,,$tail,$peer"
}

# Two workloads x four strategies x threads 1, 2 x two repetitions; a peer
# on another allocator; the GC pause at two heap sizes (plus CPython's);
# one errored row (empty ns_per_op), which is skipped.
{
    echo "$header"
    i=0
    for w in incref_decref tree_build; do
        for s in plain atomic biased deferred; do
            i=$((i + 1))
            for t in 1 2; do
                for r in 0 1; do row "$w" "$s" arena "$t" "$r" "$((i * t + r + 1)).5"; done
            done
        done
    done
    row incref_decref shared_ptr system 1 0 7.25
    i=0
    for s in plain atomic biased deferred cpython-gc; do
        i=$((i + 1))
        for r in 0 1; do
            row gc_pause_10k "$s" arena 1 "$r" "$((90000 + i * 20000 + r * 1000))"
            row gc_pause_100k "$s" arena 1 "$r" "$((900000 + i * 300000 + r * 9000))"
        done
    done
    echo "tree_build,plain,arena,1,2,1000000,,,,,,,,,,$tail,no"
} > "$dir/run.csv"

"$tool" --help > "$dir/help.out" 2>&1 || fail "--help exit $?"
grep -q -- --allocator "$dir/help.out" || fail "--help does not show --allocator"

"$tool" "$dir/run.csv" > "$dir/out" 2> "$dir/err" || fail "exit $? on a good CSV: $(cat "$dir/err")"
[ -s "$dir/err" ] && fail "stderr on a good CSV: $(cat "$dir/err")"
for p in ns_per_op threads gc_pause; do
    f=$dir/run-$p.png
    [ -s "$f" ] || fail "$f not written (stdout: $(cat "$dir/out"))"
    sig=$(od -An -tx1 -N8 "$f" | tr -d ' \n')
    [ "$sig" = 89504e470d0a1a0a ] || fail "$f does not start with the PNG signature ($sig)"
    echo "ok: run-$p.png"
done

mkdir "$dir/other"
"$tool" --outdir "$dir/other" --allocator arena "$dir/run.csv" > /dev/null 2>&1 ||
    fail "--outdir exit $?"
for p in ns_per_op threads gc_pause; do
    [ -s "$dir/other/run-$p.png" ] || fail "--outdir: run-$p.png not written there"
done
echo "ok: --outdir"

for f in "$dir"/.*.tmp "$dir"/other/.*.tmp; do
    [ -e "$f" ] && fail "temporary file left: $f"
done

expect2() { # name where: the tool on $dir/name.csv exits 2, one stderr line with where, no PNG
    "$tool" "$dir/$1.csv" > /dev/null 2> "$dir/err"; rc=$?
    lines=$(wc -l < "$dir/err")
    [ "$rc" -eq 2 ] || fail "$1: exit $rc, expected 2: $(cat "$dir/err")"
    [ "$lines" -eq 1 ] || fail "$1: $lines lines on stderr: $(cat "$dir/err")"
    grep -q "$2" "$dir/err" || fail "$1: stderr does not name '$2': $(cat "$dir/err")"
    for f in "$dir/$1"-*.png "$dir/.$1"-*.tmp; do
        [ -e "$f" ] && fail "$1: $f written"
    done
    echo "ok: $1 -> exit 2: $(cat "$dir/err")"
}

sed '1s/,ns_per_op,/,ns,/' "$dir/run.csv" > "$dir/badheader.csv"
expect2 badheader "badheader.csv:1:"
sed '3s/^\([^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,\)[^,]*/\1fast/' "$dir/run.csv" > "$dir/badvalue.csv"
grep -q ',fast,' "$dir/badvalue.csv" || fail "badvalue.csv not made"
expect2 badvalue "badvalue.csv:3:.*ns_per_op"
expect2 missing "missing.csv"
head -1 "$dir/run.csv" > "$dir/headeronly.csv"     # once exit 0 and three "not drawn" notes
expect2 headeronly "headeronly.csv:1: no rows"
{ head -1 "$dir/run.csv"; grep ',,,,,,,,,,' "$dir/run.csv"; } > "$dir/allerrored.csv"
[ "$(wc -l < "$dir/allerrored.csv")" -eq 2 ] || fail "allerrored.csv not made"
expect2 allerrored "allerrored.csv: no rows with an ns_per_op"

pngs() { find "$dir" \( -name '*.png' -o -name '*.tmp' \) -printf '%p %s %T@\n' | sort; }
attack() { # want what stdout args...: exit want, one stderr line, no traceback, no PNG changed
    want=$1 what=$2 out=$3; shift 3
    pngs > "$dir/pngs.before"
    if [ "$1" = --stdout-closed ]; then
        shift; "$tool" "$@" >&- 2> "$dir/err"; rc=$?
    else
        "$tool" "$@" > "$out" 2> "$dir/err"; rc=$?
    fi
    [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want: $(cat "$dir/err")"
    [ "$(wc -l < "$dir/err")" -eq 1 ] || fail "$what: not one line on stderr: $(cat "$dir/err")"
    grep -q Traceback "$dir/err" && fail "$what: a traceback: $(cat "$dir/err")"
    pngs | diff "$dir/pngs.before" - > /dev/null || fail "$what: PNGs written or changed: $(pngs)"
    echo "ok: $what -> exit $rc: $(cat "$dir/err")"
}

{ head -1 "$dir/run.csv"; printf 'incref_decref,plain,arena,1,0,1,"'
  head -c 300000 /dev/zero | tr '\0' 9; echo '",1'; } > "$dir/bigfield.csv"
attack 2 "a 300 KB field" /dev/null "$dir/bigfield.csv"
grep -q 'bigfield.csv' "$dir/err" || fail "a 300 KB field: file not named"
if [ -w /dev/full ]; then              # stdout on a full disk: once a traceback and one PNG
    attack 3 "stdout on /dev/full" /dev/full "$dir/run.csv"
    grep -q '^rcbench-plot: standard output: ' "$dir/err" || fail "/dev/full: stdout not named"
fi
attack 3 "stdout closed" /dev/null --stdout-closed "$dir/run.csv"
# A directory that cannot be written, as root too (root ignores a mode of
# 555): /proc/self takes no new files.
if [ -d /proc/self ]; then
    attack 3 "--outdir /proc/self" "$dir/out" --outdir /proc/self "$dir/run.csv"
fi
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$dir/ro" && chmod 555 "$dir/ro"
    attack 3 "--outdir read-only" "$dir/out" --outdir "$dir/ro" "$dir/run.csv"
    [ -z "$(ls -A "$dir/ro")" ] || fail "--outdir read-only: $(ls -A "$dir/ro") left"
    chmod 755 "$dir/ro"
fi

echo "ok: plot_test"
exit 0
