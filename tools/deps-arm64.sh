#!/bin/sh
# tools/deps-arm64.sh — what the aarch64 cross build needs (cmake/
# aarch64-linux-gnu.cmake): Debian's cross compilers, qemu-user, and the
# arm64 multiarch -dev packages of rcbench's dependencies. Enabling the arm64
# architecture and installing these can upgrade some host packages to the
# same versions, so this runs once, before any build (make test-arm64 runs
# it first). As root it installs what is missing; otherwise it prints the
# exact commands and exits 1.
set -eu
HOST="gcc-aarch64-linux-gnu g++-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-user"
# (valgrind's client-request header, /usr/include/valgrind, is the host
# package's: it is architecture-independent and has aarch64's sequences.)
ARM64="libc6-dev:arm64 libstdc++-12-dev:arm64 libhwloc-dev:arm64 libjemalloc2:arm64
libmimalloc-dev:arm64 libgoogle-perftools-dev:arm64 libbenchmark-dev:arm64
libgc-dev:arm64"
# libjemalloc-dev is not co-installable for two architectures (installing
# the arm64 one removes the host's, which the host build needs). The arm64
# build only needs its libjemalloc_pic.a (alloc/CMakeLists.txt relinks it),
# so that package is unpacked, not installed, under JE_ROOT, where
# cmake/aarch64-linux-gnu.cmake looks.
JE_ROOT=/opt/rcbench/arm64
JE_PIC=$JE_ROOT/usr/lib/aarch64-linux-gnu/libjemalloc_pic.a
# shellcheck disable=SC2086  # the lists are words
missing=$("$(dirname "$0")/deps.sh" --missing $HOST $ARM64)
[ -z "$missing" ] && [ -f "$JE_PIC" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "rcbench: missing packages for the arm64 build:$missing${missing:+ }(and $JE_PIC)" >&2
    echo "rcbench: run as root:  dpkg --add-architecture arm64 && apt-get update && apt-get install -y --no-install-recommends$missing && (cd /tmp && apt-get download libjemalloc-dev:arm64 && mkdir -p $JE_ROOT && dpkg-deb -x libjemalloc-dev_*_arm64.deb $JE_ROOT)" >&2
    exit 1
fi
echo "rcbench: installing the arm64 cross build's packages:$missing"
export DEBIAN_FRONTEND=noninteractive
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
fi
apt-get update -q
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
fi
if [ ! -f "$JE_PIC" ]; then
    tmp=$(mktemp -d)
    chmod 0755 "$tmp"                  # apt downloads as _apt
    (cd "$tmp" && apt-get download -q libjemalloc-dev:arm64) || { rm -rf "$tmp"; exit 1; }
    mkdir -p "$JE_ROOT"
    dpkg-deb -x "$tmp"/libjemalloc-dev_*_arm64.deb "$JE_ROOT"
    rm -rf "$tmp"
    [ -f "$JE_PIC" ] || { echo "rcbench: $JE_PIC not in libjemalloc-dev:arm64" >&2; exit 1; }
fi
