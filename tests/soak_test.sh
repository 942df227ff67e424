#!/bin/sh
# tests/soak_test.sh — the stress tests' soak flag works (README, Testing).
# Usage: soak_test.sh TEST_WORLD_BINARY. test_world stops the world
# 200 / min(scale, 4) times, times the soak factor: --scale 4 alone gives
# 50 stops, with --scale x2 100; a bad factor (x0, x, xy) is a usage error
# (exit 2). Exit 0 when every case holds, 1 with a FAIL line.
# RCBENCH_RUN: the emulator prefix (qemu-user for the arm64 presets).
set -u
bin=$1
run() {   # run ARGS... -> the binary's stdout in $out, its status in $st
    # shellcheck disable=SC2086  # $RCBENCH_RUN is words
    out=$(${RCBENCH_RUN:-} "$bin" --alloc arena "$@" 2>&1); st=$?
    printf '%s\n' "$out"
}
run --scale 4 --scale x2
[ "$st" -eq 0 ] || { echo "FAIL: --scale 4 --scale x2 exited $st"; exit 1; }
case $out in *", 100 stops,"*) ;; *) echo "FAIL: --scale x2 did not double the stops (want 100)"; exit 1;; esac
case $out in *"soak: sizes x2"*) ;; *) echo "FAIL: the soak factor is not announced"; exit 1;; esac
for bad in x0 x xy 0 -3; do
    run --scale "$bad"
    [ "$st" -eq 2 ] || { echo "FAIL: --scale $bad exited $st, want 2 (usage)"; exit 1; }
done
echo "soak flag: ok"
