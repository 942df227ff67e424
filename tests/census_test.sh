#!/bin/sh
# tests/census_test.sh TOOLS — checks tools/cpython-census (in directory
# TOOLS): both methods write -5..1000 in order, every refs >= 1, exactly 1
# above 256, 0 and 1 with more references than 700; the checked-in census
# has the same schema; bad flags exit 2 and an unwritable directory exit 3,
# each with one line on stderr, no traceback and no file written.
# tools/gen-smallint-table: its table sums the census's weights, and it
# refuses a CSV of another schema (exit 2, no header written).
# Exit 0 on success, 1 with a FAIL line.
set -u
tools=${1:?usage: census_test.sh TOOLS-DIR}
top=$(dirname "$tools")
census=$tools/cpython-census

dir=$(mktemp -d "${TMPDIR:-/tmp}/census_test.XXXXXX") || { echo "FAIL: mktemp"; exit 1; }
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# check_census FILE METHOD: the CSV's rows and the census's invariants.
check_census() {
    awk -F, -v method="$2" '
        NR == 1 { if ($0 != "value,refs,python,method") { print "header: " $0; exit 1 } next }
        {
            want = NR - 7                                    # row 2 is -5
            if (NF != 4 || $1 != want) { print "line " NR ": value " $1 ", expected " want; exit 1 }
            if ($2 !~ /^[0-9]+$/ || $2 < 1) { print "line " NR ": refs " $2 " not >= 1"; exit 1 }
            if ($1 > 256 && $2 != 1) { print "value " $1 ": refs " $2 ", a fresh int reads 1"; exit 1 }
            if ($3 !~ /^3[.][0-9]+[.][0-9]+$/ || $4 != method) { print "line " NR ": " $3 "," $4; exit 1 }
            refs[$1] = $2
        }
        END {
            if (NR != 1007) { print NR - 1 " rows, expected 1006"; exit 1 }
            if (!(refs[0] > refs[700] && refs[1] > refs[700])) {
                print "0: " refs[0] ", 1: " refs[1] ", not above 700: " refs[700]; exit 1
            }
            if (refs[0] < 10 || refs[1] < 10) { print "0: " refs[0] ", 1: " refs[1] ": too few"; exit 1 }
        }' "$1"
}

"$census" "$dir/auto.csv" 2> "$dir/err" || fail "exit $? on a good run: $(cat "$dir/err")"
[ -s "$dir/err" ] && fail "stderr on a good run: $(cat "$dir/err")"
msg=$(check_census "$dir/auto.csv" getrefcount) || fail "auto: $msg"
echo "ok: getrefcount census: 0: $(grep '^0,' "$dir/auto.csv"), 1: $(grep '^1,' "$dir/auto.csv")"
"$census" "$dir/again.csv" && cmp -s "$dir/auto.csv" "$dir/again.csv" || fail "two runs differ"
echo "ok: deterministic"
"$census" --method=referents "$dir/ref.csv" || fail "--method=referents exit $?"
msg=$(check_census "$dir/ref.csv" referents) || fail "referents: $msg"
echo "ok: referents census"
msg=$(check_census "$top/results/census/cpython-smallint.csv" getrefcount) || fail "checked-in census: $msg"
echo "ok: results/census/cpython-smallint.csv"
[ -z "$(ls -A "$dir" | grep -v -x -e auto.csv -e again.csv -e ref.csv -e err)" ] ||
    fail "left behind: $(ls -A "$dir")"

# expect CODE WHAT ARGS...: exit CODE, one stderr line, no traceback, out.csv absent.
expect() {
    want=$1 what=$2; shift 2
    "$census" "$@" > /dev/null 2> "$dir/err"; rc=$?
    [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want: $(cat "$dir/err")"
    [ "$(wc -l < "$dir/err")" -eq 1 ] || fail "$what: not one line on stderr: $(cat "$dir/err")"
    grep -q Traceback "$dir/err" && fail "$what: a traceback"
    [ -e "$dir/out.csv" ] && fail "$what: out.csv written"
    ls -A "$dir" | grep -q '^\.out\.csv\.' && fail "$what: a temporary file left"
    echo "ok: $what -> exit $rc: $(cat "$dir/err")"
}
expect 2 "unknown flag" --frobnicate "$dir/out.csv"
expect 2 "bad method" --method=guess "$dir/out.csv"
expect 2 "no output" --method=referents
expect 2 "bad module list" --modules="os;rm" "$dir/out.csv"
expect 2 "module that does not import" --modules=no_such_module_xyz "$dir/out.csv"
expect 2 "a directory as output" "$dir"
expect 3 "no such directory" "$dir/no/such/out.csv"
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$dir/ro" && chmod 555 "$dir/ro"
    expect 3 "read-only directory" "$dir/ro/out.csv"
    chmod 755 "$dir/ro"
fi
# tools/gen-smallint-table: the smallint workload's table from the census.
gen=$tools/gen-smallint-table
"$gen" "$top/results/census/cpython-smallint.csv" "$dir/t.h" || fail "gen-smallint-table exit $?"
total=$(awk -F, 'NR > 1 && $2 > 1 { t += $2 - 1 } END { print t }' "$top/results/census/cpython-smallint.csv")
grep -qx "#define SMALLINT_CENSUS_TOTAL ${total}u" "$dir/t.h" || fail "table total is not $total: $(grep TOTAL "$dir/t.h")"
last=$(sed -n '/smallint_census_cum/,/};/p' "$dir/t.h" | tr -s ' ,' '\n\n' | grep -x '[0-9][0-9]*' | tail -1)
[ "$last" = "$total" ] || fail "the last cumulative weight is $last, not $total"
grep -qE '^ +(-3|-2|-1), ' "$dir/t.h" || fail "table lacks the negative small ints"
echo "ok: gen-smallint-table: total $total"
# A CSV that is not the census (rcbench's own census schema): exit 2, no header.
printf 'workload,threads,value,refs\nsmallint,1,0,5\n' > "$dir/foreign.csv"
"$gen" "$dir/foreign.csv" "$dir/f.h" 2> "$dir/err"; rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l < "$dir/err")" -eq 1 ] && [ ! -e "$dir/f.h" ] ||
    fail "gen-smallint-table on a foreign CSV: exit $rc: $(cat "$dir/err")"
grep -q 'foreign.csv:1:' "$dir/err" || fail "foreign CSV: file and line not named: $(cat "$dir/err")"
echo "ok: gen-smallint-table on a foreign CSV -> exit 2: $(cat "$dir/err")"
echo "ok: census_test"
exit 0
