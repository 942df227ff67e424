#!/bin/sh
# tests/faults_test.sh EXE DIR — rcbench under faults keeps
# TESTING.md's P7: exit 0 ok, 1 a failed benchmark, 2 bad input, 3 out of
# memory or an OS error, one line, and no partial report: a user's file is
# replaced only by a whole one, and no temp file is left. Each attack of
# issue 17 is a case here:
#   a device as a report target; stdout to a full device; a full disk
#   (RLIMIT_FSIZE everywhere; a 64 KiB tmpfs too when root) under every
#   report flag, isolated and in-process; out of memory (ulimit -v; not
#   under a sanitizer, whose shadow memory needs the address space); too
#   few file descriptors; terminating signals mid-run (SIGTERM, SIGHUP,
#   SIGUSR1, and SIGPIPE from `| head -1`); mmap failures injected by
#   strace into the workers.
# RCBENCH_RUN: the emulator prefix (qemu-user for the arm64 presets);
# RCBENCH_SANITIZER: address or thread in a sanitizer build.
exe=$1; dir=$2/faults; san=${RCBENCH_SANITIZER:-}
checks=0
fail() { echo "FAIL: $*"; exit 1; }
ok() { checks=$((checks + 1)); echo "ok: $*"; }
rm -rf "$dir"; mkdir -p "$dir" || fail "mkdir $dir"
sel="--quick --workloads=tl_incdec,empty --strategies=plain,none --allocators=arena --threads=1"
run() { # shellcheck disable=SC2086  # $RCBENCH_RUN and $sel are words
    $RCBENCH_RUN "$exe" "$@"; }

# keep DIR: the user's reports, which a failed run must leave as they were.
keep() { for f in keep.csv keep.json keep.txt; do echo keep > "$1/$f"; done; }
kept() { # DIR WHAT: the user's files unchanged, no temp file of ours left
    for f in keep.csv keep.json keep.txt; do
        [ "$(cat "$1/$f")" = keep ] || fail "$2: $f was replaced"
    done
    ! ls "$1" | grep -Eq '^keep[.](csv|json|txt)[.]' || fail "$2: a temp file was left: $(ls "$1")"
}
reports() { echo --csv="$1/keep.csv" --summary="$1/keep.txt" --benchmark_out="$1/keep.json"; }
# started PID WHAT: waits until the run PID has staged its JSON temp file
# (past its start-up), at most 30 s.
started() {
    n=0
    until ls "$dir" | grep -q '^keep[.]json[.]'; do
        n=$((n + 1)); [ $n -lt 300 ] || { kill -KILL "$1"; fail "$2: no temp file after 30 s"; }
        sleep 0.1
    done
}
# one_line FILE WHAT: exactly one error line on stderr, "rcbench: ..." (Google
# Benchmark's context lines, which every run prints there, aside).
one_line() { [ "$(grep -c '^rcbench: ' "$1")" = 1 ] || { cat "$1"; fail "$2: expected one error line on stderr"; }; }

# ---- a device is not a report ---------------------------------------------
if [ -w /dev/full ]; then
    # shellcheck disable=SC2086
    run $sel --csv=/dev/full >/dev/null 2>"$dir/err"; rc=$?
    [ $rc = 2 ] || fail "--csv=/dev/full: exit $rc, expected 2"
    [ -c /dev/full ] || fail "--csv=/dev/full replaced the device"
    one_line "$dir/err" "--csv=/dev/full"
    ok "--csv=/dev/full: exit 2, one line, the device untouched"
    # ---- stdout to a full device --------------------------------------------
    # shellcheck disable=SC2086
    run $sel >/dev/full 2>"$dir/err"; rc=$?
    [ $rc = 3 ] || fail "stdout to /dev/full: exit $rc, expected 3"
    ok "a run with stdout to /dev/full: exit 3"
fi

# ---- a full disk: RLIMIT_FSIZE (no root needed) -----------------------------
# A limit of one block (512 bytes in dash, 1 KiB in bash) cuts each report
# of five benchmarks short (the CSV is about 1.5 KiB, the summary more,
# the JSON 6 KiB). SIGXFSZ is ignored here, as rcbench itself does: the
# write fails with EFBIG.
sel5="--quick --workloads=tl_incdec,empty --strategies=plain,atomic,biased,deferred,none --allocators=arena --threads=1"
for mode in isolated no-isolate; do
    extra=; [ $mode = no-isolate ] && extra=--no-isolate
    for flags in all json csv summary; do
        keep "$dir"
        case $flags in
            all) r=$(reports "$dir") ;;
            json) r=--benchmark_out="$dir/keep.json" ;;
            csv) r=--csv="$dir/keep.csv" ;;
            summary) r=--summary="$dir/keep.txt" ;;
        esac
        # shellcheck disable=SC2086
        (trap '' XFSZ; ulimit -f 1; exec $RCBENCH_RUN "$exe" $sel5 $extra $r >/dev/null 2>"$dir/err"); rc=$?
        [ $rc = 3 ] || { cat "$dir/err"; fail "full disk ($mode, $flags): exit $rc, expected 3"; }
        one_line "$dir/err" "full disk ($mode, $flags)"
        kept "$dir" "full disk ($mode, $flags)"
        ok "full disk ($mode, $flags): exit 3, one line, the user's reports untouched"
    done
done
# ... and with room, the same run replaces all three.
keep "$dir"
# shellcheck disable=SC2086
run $sel $(reports "$dir") >/dev/null 2>&1 || fail "a run with room: exit $?"
head -1 "$dir/keep.csv" | grep -q '^workload,' || fail "with room: the CSV was not written"
grep -q '"benchmarks"' "$dir/keep.json" || fail "with room: the JSON was not written"
ok "with room, every report is replaced"

# ---- a full disk: a real one, when root ---------------------------------------
if [ "$(id -u)" = 0 ] && mkdir -p "$dir/tmpfs" && mount -t tmpfs -o size=64k tmpfs "$dir/tmpfs" 2>/dev/null; then
    keep "$dir/tmpfs"
    dd if=/dev/zero of="$dir/tmpfs/filler" bs=1k count=60 2>/dev/null
    # shellcheck disable=SC2086
    run $sel $(reports "$dir/tmpfs") >/dev/null 2>"$dir/err"; rc=$?
    kept "$dir/tmpfs" "64 KiB tmpfs"
    umount "$dir/tmpfs"
    [ $rc = 3 ] || { cat "$dir/err"; fail "64 KiB tmpfs: exit $rc, expected 3"; }
    one_line "$dir/err" "64 KiB tmpfs"
    ok "a full 64 KiB tmpfs: exit 3, one line, the user's reports untouched"
else
    echo "skip: a real full disk needs root (mount -t tmpfs); RLIMIT_FSIZE covered it"
fi

# ---- out of memory --------------------------------------------------------------
if [ -z "$san" ]; then
    for mode in isolated no-isolate; do
        extra=; [ $mode = no-isolate ] && extra=--no-isolate
        keep "$dir"
        # shellcheck disable=SC2046
        (ulimit -v 600000; exec $RCBENCH_RUN "$exe" --quick --workloads=tree --tree-depth=24 --strategies=plain \
            --allocators=arena --threads=1 $extra $(reports "$dir") >/dev/null 2>"$dir/err"); rc=$?
        [ $rc = 3 ] || { cat "$dir/err"; fail "out of memory ($mode): exit $rc, expected 3"; }
        grep -q 'out of memory' "$dir/err" || { cat "$dir/err"; fail "out of memory ($mode): not said"; }
        if [ $mode = no-isolate ]; then
            one_line "$dir/err" "out of memory ($mode)"
            kept "$dir" "out of memory ($mode)"
        else
            # The run went on to write whole reports: the error row says it.
            grep -q '^tree,plain,arena,1,0,.*out of memory' "$dir/keep.csv" || fail "out of memory: no error row"
        fi
        ok "out of memory ($mode): exit 3, said once"
    done
else
    echo "skip: out of memory under $san (its shadow memory needs the address space)"
fi

# ---- too few file descriptors ----------------------------------------------------
# prlimit, so the limit is the program's alone (the shell's own redirections
# need descriptors of their own); not under an emulator or a sanitizer,
# whose runtimes need descriptors too (UBSan reads /proc/self/maps).
if [ -z "$RCBENCH_RUN" ] && [ -z "$san" ]; then
    for mode in isolated no-isolate; do
        extra=; [ $mode = no-isolate ] && extra=--no-isolate
        keep "$dir"
        # fds 3-5 closed first: an inherited one (ctest -j's) would leave too
        # few for Google Benchmark's own sysinfo reads, which exit 1.
        # shellcheck disable=SC2046
        (exec 3<&- 4<&- 5<&-; prlimit --nofile=6 -- "$exe" --quick --workloads=gc_pause_10k --strategies=cpython-gc --threads=1 $extra \
            $(reports "$dir")) >/dev/null 2>"$dir/err"; rc=$?
        [ $rc = 3 ] || { cat "$dir/err"; fail "--nofile=6 ($mode): exit $rc, expected 3"; }
        grep -q 'Too many open files' "$dir/err" || { cat "$dir/err"; fail "--nofile=6 ($mode): not said"; }
        one_line "$dir/err" "--nofile=6 ($mode)"
        kept "$dir" "--nofile=6 ($mode)"
        ok "too few file descriptors ($mode): exit 3, one line, the user's reports untouched"
    done
else
    echo "skip: too few file descriptors under an emulator or a sanitizer"
fi

# ---- signals mid-run ------------------------------------------------------------------
# A long run (one benchmark, many repetitions), the signal once its JSON
# temp file exists; no temp file may be left, the user's files unchanged.
for sig in TERM HUP USR1; do
    keep "$dir"
    # shellcheck disable=SC2046,SC2086  # not through run(): $! must be rcbench's pid
    $RCBENCH_RUN "$exe" --workloads=tl_incdec --strategies=plain --allocators=arena --threads=1 \
        --benchmark_repetitions=1000 $(reports "$dir") >/dev/null 2>&1 &
    pid=$!
    started $pid "SIG$sig"
    sleep 0.5
    kill -s "$sig" $pid
    wait $pid; rc=$?
    [ $rc -gt 128 ] || fail "SIG$sig: exit $rc, expected death by the signal"
    kept "$dir" "SIG$sig"
    ok "SIG$sig mid-run: no temp file left, the user's reports untouched"
done
keep "$dir"
# shellcheck disable=SC2046
run --workloads=tl_incdec --strategies=plain --allocators=arena --threads=1 --benchmark_repetitions=50 \
    $(reports "$dir") 2>/dev/null | head -1 >/dev/null
kept "$dir" "SIGPIPE (| head -1)"
ok "SIGPIPE from | head -1: no temp file left, the user's reports untouched"

# ---- mmap failures injected into the workers ----------------------------------------
# A peer library that crashes costs an error row, not the run. strace
# attaches to a running orchestrator (past the loader, whose mmaps would
# fail first) and fails every later mmap from the Nth on, in it and in
# every worker it forks (each counts its own calls; a worker makes about
# 8): rcbench ends by exit (1 or 3), never by a signal, with whole reports
# or the user's own.
if command -v strace >/dev/null 2>&1 && [ -z "$RCBENCH_RUN" ] && [ -z "$san" ] &&
    [ "$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null || echo 0)" = 0 ]; then
    for when in 2 4 6; do
        keep "$dir"
        # shellcheck disable=SC2046
        "$exe" --quick --workloads=tl_incdec,tree,gc_pause_10k,handoff --strategies=atomic,biased,deferred \
            --allocators=arena,jemalloc --threads=1,2 --benchmark_repetitions=4 $(reports "$dir") \
            >/dev/null 2>"$dir/err" &
        pid=$!
        started $pid "mmap"
        strace -f -p $pid -o /dev/null -e trace=mmap -e inject=mmap:error=ENOMEM:when=$when+ 2>/dev/null &
        spid=$!
        wait $pid; rc=$?
        wait $spid
        case $rc in 1|3) ;; *) cat "$dir/err"; fail "mmap ENOMEM from call $when on: exit $rc" ;; esac
        if [ "$(cat "$dir/keep.csv")" != keep ]; then
            /usr/bin/python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$dir/keep.json" ||
                fail "mmap ENOMEM from call $when on: the JSON is not whole"
            head -1 "$dir/keep.csv" | grep -q '^workload,' || fail "mmap ENOMEM from call $when on: the CSV is not whole"
            grep -q ',worker ' "$dir/keep.csv" || fail "mmap ENOMEM from call $when on: no worker's error row"
        fi
        kept_tmp=$(ls "$dir" | grep -E '^keep[.](csv|json|txt)[.]' || true)
        [ -z "$kept_tmp" ] || fail "mmap ENOMEM from call $when on: a temp file was left: $kept_tmp"
        ok "mmap ENOMEM in the workers from call $when on: exit $rc, reports whole or untouched"
    done
else
    echo "skip: strace injection (no strace, ptrace restricted, an emulator or a sanitizer)"
fi

[ $checks -gt 0 ] || fail "no check ran"
echo "$checks checks passed"
