#!/bin/sh
# tests/isolation_test.sh EXE DIR — rcbench's worker processes: a worker
# that crashes, hangs or exits early is one error row naming why, the other
# benchmarks still run, the reports are written whole (the CSV has every
# row, the JSON parses) and rcbench exits 1 (3 when the worker ran out of
# memory: an OS error, P7); in-process mode (--no-isolate)
# still runs; --list=KIND prints each list. RCBENCH_RUN: the emulator prefix.
exe=$1; dir=$2
checks=0
fail() { echo "FAIL: $*"; exit 1; }
ok() { checks=$((checks + 1)); echo "ok: $*"; }
sel="--quick --workloads=tl_incdec,empty --strategies=plain,none --allocators=arena --threads=1"
victim=empty/none/none/threads:1
for fault in segv hang exit oom; do
    rm -f "$dir/iso-$fault.csv" "$dir/iso-$fault.json"
    # shellcheck disable=SC2086  # $sel and $RCBENCH_RUN are words
    RCBENCH_TEST_WORKER_FAULT=$fault:$victim $RCBENCH_RUN "$exe" $sel --timeout=3 \
        --csv="$dir/iso-$fault.csv" --benchmark_out="$dir/iso-$fault.json" >"$dir/iso-$fault.out" 2>&1
    rc=$?
    want=1; [ $fault = oom ] && want=3
    [ "$rc" = $want ] || { tail -5 "$dir/iso-$fault.out"; fail "$fault: exit $rc, expected $want"; }
    case $fault in
        segv) why='worker killed by SIGSEGV' ;;
        hang) why='worker killed: over the time limit of 3 s' ;;
        exit) why='worker exited with status 1 before reporting its run: rcbench: test: worker gives up' ;;
        oom) why='worker exited with status 3 before reporting its run: rcbench: error: out of memory (test)' ;;
    esac
    grep -q "^empty,none,none,1,0,.*,$why" "$dir/iso-$fault.csv" || { cat "$dir/iso-$fault.csv"; fail "$fault: no error row '$why'"; }
    grep -Eq '^tl_incdec,plain,arena,1,0,[0-9]+,[0-9.]+,' "$dir/iso-$fault.csv" || fail "$fault: the other benchmark has no figures"
    [ "$(wc -l < "$dir/iso-$fault.csv")" = 3 ] || fail "$fault: expected a header and 2 rows"
    /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert len(d['benchmarks']) == 2" \
        "$dir/iso-$fault.json" || fail "$fault: the JSON is not whole"
    ok "$fault: an error row ($why), the run went on, reports whole, exit $want"
done
# In-process mode.
# shellcheck disable=SC2086
$RCBENCH_RUN "$exe" $sel --no-isolate --csv="$dir/iso-inproc.csv" >/dev/null 2>&1 || fail "--no-isolate: exit $?"
[ "$(wc -l < "$dir/iso-inproc.csv")" = 3 ] || fail "--no-isolate: expected 2 rows"
ok "--no-isolate runs in-process"
# Isolated: every repetition of a case but the first runs the first's
# iteration count.
# shellcheck disable=SC2086
$RCBENCH_RUN "$exe" --workloads=tl_incdec --strategies=plain --allocators=arena --threads=1 --benchmark_min_time=0.01 \
    --benchmark_repetitions=3 --csv="$dir/iso-reps.csv" >/dev/null 2>&1 || fail "repetitions: exit $?"
[ "$(cut -d, -f6 "$dir/iso-reps.csv" | tail -n +2 | sort -u | wc -l)" = 1 ] || { cat "$dir/iso-reps.csv"; fail "iterations differ between repetitions"; }
ok "3 repetitions, one iteration count"
# --list=KIND.
for kind in strategies peers workloads allocators columns; do
    n=$($RCBENCH_RUN "$exe" --list=$kind | wc -l)
    [ "$n" -ge 1 ] || fail "--list=$kind printed nothing"
done
$RCBENCH_RUN "$exe" --list=strategies | grep -qx biased || fail "--list=strategies lacks biased"
$RCBENCH_RUN "$exe" --list=peers | grep -qx none || fail "--list=peers lacks none"
$RCBENCH_RUN "$exe" --list=columns | head -1 | grep -qx workload || fail "--list=columns does not start with workload"
[ "$($RCBENCH_RUN "$exe" --list=columns | paste -sd, -)" = "$(head -1 "$dir/iso-inproc.csv")" ] || fail "--list=columns is not the CSV header"
ok "--list=KIND prints each list; columns is the CSV's header"
# Output that cannot be written is an error (exit 3), not a silent success.
for args in --list --help; do
    $RCBENCH_RUN "$exe" $args >/dev/full 2>/dev/null
    rc=$?
    [ "$rc" = 3 ] || fail "$args >/dev/full: exit $rc, expected 3"
done
ok "--list and --help to a full device exit 3"
echo "$checks passed, 0 failed"
[ "$checks" -gt 0 ]
