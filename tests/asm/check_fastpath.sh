#!/bin/sh
# tests/asm/check_fastpath.sh OBJDUMP OBJECT STRATEGY
# Proves the fast paths are what the strategy headers promise, on x86-64:
#   incref: no call or jump out of the function, and exactly one
#           read-modify-write of the count word — a plain `add` to memory
#           (plain) or a `lock add` (atomic);
#   decref: its only exit besides `ret` is a branch to the strategy's
#           out-of-line _slow path (no other call).
# Exit 0 when both hold, 1 with the disassembly otherwise.
set -eu
objdump=$1 obj=$2 strategy=$3

body() { # disassembly of function $1, relocations shown
    "$objdump" -dr --no-show-raw-insn "$obj" |
        awk -v f="<$1>:" '$2 == f { on = 1; next } /^[0-9a-f]+ </ { on = 0 } on && NF'
}
fail() { echo "FAIL ($strategy): $1"; echo "--- asm_incref"; body asm_incref; echo "--- asm_decref"; body asm_decref; exit 1; }

inc=$(body asm_incref)
[ -n "$inc" ] || fail "asm_incref not found in $obj"
echo "$inc" | grep -Eq 'call|R_X86_64_PLT32' && fail "incref calls out"
rmw=$(echo "$inc" | grep -Ec '(add|sub|inc|xadd)[bwlq]?[[:space:]]+[^,]*,?\(%rdi\)' || true)
[ "$rmw" -eq 1 ] || fail "incref: expected one add on the count word, found $rmw"
case $strategy in
    plain)  echo "$inc" | grep -q 'lock' && fail "plain incref must not be locked" ;;
    atomic) echo "$inc" | grep -Eq 'lock[[:space:]]+add' || fail "atomic incref must be one lock add" ;;
    *)      fail "no expectation for strategy '$strategy'" ;;
esac

dec=$(body asm_decref)
[ -n "$dec" ] || fail "asm_decref not found"
others=$(echo "$dec" | grep -E 'R_X86_64_PLT32|call' | grep -v '_decref_slow' || true)
[ -z "$others" ] || fail "decref calls something other than its slow path: $others"

echo "ok ($strategy): incref is $(echo "$inc" | grep -E '\(%rdi\)' | grep -E 'add' | sed 's/^ *[0-9a-f]*:[[:space:]]*//')"
echo "$inc" | sed 's/^/    /'
