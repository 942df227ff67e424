#!/bin/sh
# tests/asm/check_fastpath.sh OBJDUMP OBJECT STRATEGY
# Proves the fast paths are what the strategy headers promise, on x86-64
# (GNU objdump, AT&T syntax):
#   incref: no call out; a sign test of the count word (test/cmp, then js or
#           jns) before exactly one read-modify-write of it — a plain add to
#           memory (plain) or a `lock add` (atomic);
#   decref: atomic: the decrement is one locked RMW (lock xadd/sub/add);
#           every call or jump out of the function goes to the strategy's
#           own _decref_slow (matched on the relocation, so a tail jmp and a
#           call are judged alike).
# Exit 0 when all hold; 77 (ctest: skipped) for a strategy without stated
# expectations; 1 with the disassembly otherwise.
set -eu
objdump=$1 obj=$2 strategy=$3

case $strategy in plain|atomic) ;; *) echo "no fast-path expectations for '$strategy'"; exit 77 ;; esac

body() { # disassembly of function $1, relocations shown
    "$objdump" -dr --no-show-raw-insn "$obj" |
        awk -v f="<$1>:" '$2 == f { on = 1; next } /^[0-9a-f]+ </ { on = 0 } on && NF'
}
fail() { echo "FAIL ($strategy): $1"; echo "--- asm_incref"; body asm_incref; echo "--- asm_decref"; body asm_decref; exit 1; }

inc=$(body asm_incref)
[ -n "$inc" ] || fail "asm_incref not found in $obj"
echo "$inc" | grep -Eq 'call|R_X86_64_' && fail "incref calls out"
rmw_re='(add|sub|inc|xadd)[bwlq]?[[:space:]]+[^,]*,?\(%rdi\)'
rmw=$(echo "$inc" | grep -Ec "$rmw_re" || true)
[ "$rmw" -eq 1 ] || fail "incref: expected one read-modify-write of the count word, found $rmw"
# The immortal test: a sign branch that comes before the add.
echo "$inc" | awk -v re="$rmw_re" '/[[:space:]]j(s|ns)[[:space:]]/ { seen = 1 } $0 ~ re { exit !seen } END { }' ||
    fail "incref: no sign test (immortal check) before the add"
case $strategy in
    plain)  echo "$inc" | grep -q 'lock' && fail "plain incref must not be locked" ;;
    atomic) echo "$inc" | grep -Eq 'lock[[:space:]]+add' || fail "atomic incref must be one lock add" ;;
esac

dec=$(body asm_decref)
[ -n "$dec" ] || fail "asm_decref not found"
others=$(echo "$dec" | grep -E 'R_X86_64_' | grep -v "_rc_${strategy}_decref_slow" || true)
[ -z "$others" ] || fail "decref reaches something other than its slow path: $others"
if [ "$strategy" = atomic ]; then
    echo "$dec" | grep -Eq 'lock[[:space:]]+(xadd|sub|add)[bwlq]?[[:space:]]+[^,]*,?\(%rdi\)' ||
        fail "atomic decref must be one locked read-modify-write"
fi

echo "ok ($strategy): incref is $(echo "$inc" | grep -E "$rmw_re" | sed 's/^ *[0-9a-f]*:[[:space:]]*//')"
echo "$inc" | sed 's/^/    /'
