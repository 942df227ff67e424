#!/bin/sh
# tools/gate-trial.sh — proves the regression gate (tools/rcbench-gate) on
# this machine: N consecutive gate runs (default 10) on unchanged code must
# give no alarm, and N runs on each build with a deliberate slowdown
# (RCBENCH_INJECT_SLOWDOWN: an extra atomic on biased's owner path; about
# 10% more on the arena's allocation fast path) must all be flagged.
# Builds the two injected variants in build/inject-<kind> (release flags).
# Usage: tools/gate-trial.sh [N]   (after `make build-release`)
# Prints one line per run and a summary; exit 0 when the gate held, 1 not.
set -u
unset RCBENCH_HISTORY      # trial runs of one revision are no history (a second would be refused)
n=${1:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
for kind in biased-owner alloc; do
    cmake -S . -B "build/inject-$kind" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc \
        -DRCBENCH_INJECT_SLOWDOWN=$kind >/dev/null || exit 1
    cmake --build "build/inject-$kind" --target rcbench >/dev/null || exit 1
done
ok=0
trial() {    # trial LABEL EXE WANT: run the gate n times, count the verdicts
    label=$1 exe=$2 want=$3
    hits=0
    i=1
    while [ "$i" -le "$n" ]; do
        "$top/tools/rcbench-gate" "$exe" > /tmp/gate-trial.$$ 2>&1
        rc=$?
        [ "$rc" -eq 2 ] && { cat /tmp/gate-trial.$$; rm -f /tmp/gate-trial.$$; exit 1; }
        [ "$rc" -eq 1 ] && hits=$((hits + 1))
        echo "$label run $i: exit $rc: $(tail -1 /tmp/gate-trial.$$)"
        i=$((i + 1))
    done
    rm -f /tmp/gate-trial.$$
    echo "$label: flagged in $hits of $n runs (want $want)"
    if { [ "$want" = none ] && [ "$hits" -ne 0 ]; } || { [ "$want" = all ] && [ "$hits" -ne "$n" ]; }; then
        ok=1
    fi
}
trial unchanged build/release/bench/rcbench none
trial "injected biased-owner" build/inject-biased-owner/bench/rcbench all
trial "injected alloc" build/inject-alloc/bench/rcbench all
[ "$ok" -eq 0 ] && echo "gate-trial: the gate held" || echo "gate-trial: the gate did NOT hold"
exit $ok
