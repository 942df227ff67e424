#!/bin/sh
# tests/ocaml_peer_test.sh EXE DIR BUILT — the ocaml peer (bench/peers/
# ocaml.c): with rcbench-ocaml built (BUILT=1), each program's row is there
# at one thread only, with its answer checked, the child's peak RSS and
# empty gc cells; a stand-in rcbench-ocaml (a shell script next to a copy of
# EXE) that answers wrongly makes every row a "wrong answer" error, one
# that dies makes an error row and the run goes on; a copy of EXE with no
# rcbench-ocaml next to it leaves the peer's rows out with one line on
# stderr and exits 0 (BUILT=0: built without ocamlopt, that line says so,
# and only this part runs). RCBENCH_RUN: the emulator prefix.
exe=$1; dir=$2; built=$3
checks=0
fail() { echo "FAIL: $*"; exit 1; }
ok() { checks=$((checks + 1)); echo "ok: $*"; }
programs="binarytrees rbtree rbtree_ck deriv nqueens cfold"
csv_col() {   # csv_col FILE COLUMN: that column of every row but the header
    /usr/bin/python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print("\n".join(x[sys.argv[2]] for x in r))' "$1" "$2"
}

if [ "$built" = 1 ]; then
    # shellcheck disable=SC2086  # $RCBENCH_RUN is words
    $RCBENCH_RUN "$exe" --quick --strategies=ocaml --threads=1,2 --csv="$dir/ocaml.csv" >"$dir/ocaml.out" 2>&1 ||
        { tail -5 "$dir/ocaml.out"; fail "ocaml: exit $?"; }
    [ "$(csv_col "$dir/ocaml.csv" workload | sort | tr '\n' ' ')" = "binarytrees cfold deriv nqueens rbtree rbtree_ck " ] ||
        { cat "$dir/ocaml.csv"; fail "ocaml: not one row per program"; }
    [ "$(csv_col "$dir/ocaml.csv" threads | sort -u)" = 1 ] || fail "ocaml: a row at more than one thread"
    [ "$(csv_col "$dir/ocaml.csv" allocator | sort -u)" = ocaml ] || fail "ocaml: allocator column"
    [ "$(csv_col "$dir/ocaml.csv" header_bytes | sort -u)" = 8 ] || fail "ocaml: header_bytes"
    [ -z "$(csv_col "$dir/ocaml.csv" error | tr -d '\n')" ] || { cat "$dir/ocaml.csv"; fail "ocaml: an error row"; }
    [ -z "$(csv_col "$dir/ocaml.csv" gc_collections | tr -d '\n')" ] || fail "ocaml: gc cells not empty"
    for kib in $(csv_col "$dir/ocaml.csv" peak_rss_kib); do
        [ "$kib" -gt 500 ] 2>/dev/null || fail "ocaml: peak_rss_kib '$kib'"
    done
    ok "ocaml: one row per program at 1 thread, answers right, rcbench-ocaml's peak RSS"
fi

# A stand-in rcbench-ocaml next to a copy of EXE: the protocol, with a
# wrong answer (7) for every run, or dying at the first request (only
# where the peer was built: otherwise it never looks for its program).
mkdir -p "$dir/ocaml-fake" "$dir/ocaml-dies" "$dir/ocaml-none"
for d in ocaml-fake ocaml-dies ocaml-none; do
    rm -f "$dir/$d/rcbench-ocaml"
    cp "$exe" "$dir/$d/rcbench" || fail "cannot copy $exe"
done
cat > "$dir/ocaml-fake/rcbench-ocaml" <<'SH'
#!/bin/sh
echo "rcbench-ocaml fake"
while read -r program size runs; do
    line=1000
    i=0; while [ "$i" -lt "$runs" ]; do line="$line 7"; i=$((i + 1)); done
    echo "$line"
done
SH
cat > "$dir/ocaml-dies/rcbench-ocaml" <<'SH'
#!/bin/sh
echo "rcbench-ocaml dies"
read -r request
echo "rcbench-ocaml: gives up on '$request'" >&2
exit 1
SH
chmod +x "$dir/ocaml-fake/rcbench-ocaml" "$dir/ocaml-dies/rcbench-ocaml"

if [ "$built" = 1 ]; then

# shellcheck disable=SC2086
$RCBENCH_RUN "$dir/ocaml-fake/rcbench" --quick --strategies=ocaml --workloads=nqueens,cfold --threads=1 \
    --csv="$dir/ocaml-fake.csv" >"$dir/ocaml-fake.out" 2>&1
rc=$?
[ "$rc" = 1 ] || { tail -5 "$dir/ocaml-fake.out"; fail "wrong answers: exit $rc, expected 1"; }
grep -q '^nqueens,ocaml,ocaml,1,.*wrong answer: nqueens at size 8 gave 7 ' "$dir/ocaml-fake.csv" &&
    grep -q '^cfold,ocaml,ocaml,1,.*wrong answer: cfold at size 8 gave 7 ' "$dir/ocaml-fake.csv" ||
    { cat "$dir/ocaml-fake.csv"; fail "wrong answers: no 'wrong answer' error rows"; }
ok "a wrong answer from rcbench-ocaml is an error row"

# shellcheck disable=SC2086
$RCBENCH_RUN "$dir/ocaml-dies/rcbench" --quick --strategies=ocaml,none --workloads=nqueens,empty --threads=1 \
    --csv="$dir/ocaml-dies.csv" >"$dir/ocaml-dies.out" 2>&1
rc=$?
[ "$rc" = 1 ] || { tail -5 "$dir/ocaml-dies.out"; fail "dies: exit $rc, expected 1"; }
grep -q '^nqueens,ocaml,ocaml,1,.*rcbench-ocaml stopped answering' "$dir/ocaml-dies.csv" ||
    { cat "$dir/ocaml-dies.csv"; fail "dies: no error row"; }
grep -Eq '^empty,none,none,1,0,[0-9]+,[0-9.]+,' "$dir/ocaml-dies.csv" || fail "dies: the run did not go on"
ok "an rcbench-ocaml that dies is an error row, and the run goes on"
fi

# No rcbench-ocaml: the rows are left out, one line says why, exit 0.
why="no rcbench-ocaml next to rcbench"
[ "$built" = 1 ] || why="built without ocamlopt"
# shellcheck disable=SC2086
$RCBENCH_RUN "$dir/ocaml-none/rcbench" --quick --strategies=ocaml,none --workloads=nqueens,empty --threads=1 \
    --csv="$dir/ocaml-none.csv" >"$dir/ocaml-none.out" 2>"$dir/ocaml-none.err" ||
    { tail -5 "$dir/ocaml-none.err"; fail "missing: exit $?"; }
[ "$(grep -c '^rcbench: .*ocaml' "$dir/ocaml-none.err")" = 1 ] &&
    grep -q "^rcbench: peer ocaml left out: $why" "$dir/ocaml-none.err" ||
    { cat "$dir/ocaml-none.err"; fail "missing: not one line saying why"; }
[ "$(csv_col "$dir/ocaml-none.csv" strategy | tr '\n' ' ')" = "none " ] ||
    { cat "$dir/ocaml-none.csv"; fail "missing: the rows are not only none's"; }
# shellcheck disable=SC2086
$RCBENCH_RUN "$dir/ocaml-none/rcbench" --list=peers | grep -qx ocaml || fail "missing: ocaml not listed as a peer"
ok "without rcbench-ocaml: rows left out, one line on stderr, exit 0, the peer still listed"
echo "ocaml peer: $checks checks passed"
