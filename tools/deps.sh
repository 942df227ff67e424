#!/bin/sh
# tools/deps.sh — make sure the Debian packages rcbench builds with are here.
#
# Checks each package with dpkg-query. Missing ones are installed with
# apt-get when run as root (one `apt-get update` first); otherwise prints
# the exact apt-get line to run and exits 1. Exit 0 when all are present.
# `tools/deps.sh --list` prints the package list and exits; `--missing PKG...`
# prints which of PKG are not installed and exits.
set -eu

# What each is for: compilers and build (gcc, g++, clang, cmake, ninja,
# binutils for the objdump fast-path check, pkg-config); allocators compared
# (jemalloc, mimalloc, tcmalloc); Google Benchmark and its compare.py; hwloc
# for pinning; libgc-dev for the Boehm GC peer; python3 for the report tools
# and the cpython-gc peer, ocaml-nox (ocamlopt) for the ocaml peer's
# native programs, python3-scipy for Google
# Benchmark's compare.py (its Mann-Whitney U test), python3-matplotlib for
# the plots (tools/rcbench-plot, rcbench-report's inline SVG, the census
# plot tools/rcbench-census-plot, rcbench-history's --plot; its database
# is Python's own sqlite3),
# valgrind for callgrind's client requests (bench/run/harness.c) and the
# instruction counts of tools/rcbench-icount, strace for the fault
# injection of tests/faults_test.sh, chromium for the test that opens the
# HTML report in a real browser, headless (tests/report_test.sh).
PACKAGES="gcc g++ clang cmake ninja-build binutils pkg-config make
libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev
libbenchmark-dev libbenchmark-tools libhwloc-dev libgc-dev python3 ocaml-nox python3-scipy
python3-matplotlib valgrind strace chromium"

# missing PKG...: those of PKG dpkg does not have installed, each after a space.
missing() {
    for p in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case $status in
            *"install ok installed"*) ;;
            *) printf ' %s' "$p" ;;
        esac
    done
}

if [ "${1:-}" = "--list" ]; then
    echo $PACKAGES
    exit 0
fi
# `tools/deps.sh --missing PKG...` (tools/deps-arm64.sh): print, do not install.
if [ "${1:-}" = "--missing" ]; then
    shift
    missing "$@"
    exit 0
fi

# shellcheck disable=SC2086  # the list is words
missing=$(missing $PACKAGES)
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
    echo "rcbench: missing Debian packages:$missing" >&2
    echo "rcbench: run as root:  apt-get update && $line" >&2
    exit 1
fi
echo "rcbench: installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
