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
# biased instead: incref compares the owner word with the thread's id (one
# xor and an unsigned compare against 0x7fffffff, which also rules out
# immortals) before the owner's plain store of the word (no
# read-modify-write, no lock); an immortal test (bit 31) guards the other
# path, one `lock add` on the shared word at 8(%rdi). decref has no lock at
# all (the owner's store, or a jump to _merge_zero_slow /
# _decref_shared_slow).
# deferred instead: neither function has a locked or exchanging
# instruction or writes the object (no store to an address based on
# %rdi); the hit path is one +-1 read-modify-write of the thread-local
# table slot's delta (at 8 off a register, not %rdi) after comparing the
# slot's object with %rdi; a miss tests the sign of the count word
# (immortal) before going to _rc_deferred_miss_slow, the only symbol
# reached besides the table itself (GOTTPOFF/TPOFF relocations).
# Exit 0 when all hold; 1 with the disassembly otherwise, and for a timed
# strategy without stated expectations (add them here).
set -eu
objdump=$1 obj=$2 strategy=$3

case $strategy in plain|atomic|biased|deferred) ;; *) echo "no fast-path expectations for '$strategy'"; exit 1 ;; esac

body() { # disassembly of function $1, relocations shown
    "$objdump" -dr --no-show-raw-insn "$obj" |
        awk -v f="<$1>:" '$2 == f { on = 1; next } /^[0-9a-f]+ </ { on = 0 } on && NF'
}
fail() { echo "FAIL ($strategy): $1"; echo "--- asm_incref"; body asm_incref; echo "--- asm_decref"; body asm_decref; exit 1; }

if [ "$strategy" = deferred ]; then
    for f in asm_incref asm_decref; do
        b=$(body $f)
        [ -n "$b" ] || fail "$f not found in $obj"
        echo "$b" | grep -Eq 'lock|xchg' && fail "$f: a locked or exchanging instruction"
        echo "$b" | grep -Eq '(mov|add|sub|inc|dec|or|and)[bwlq]?[[:space:]]+[^,]+,(0x[0-9a-f]+)?\(%rdi\)' &&
            fail "$f: writes the object"
        # gcc: addq $0x1,0x8(%rax) / subq $0x1; clang: addq $0x1 / addq $-1 at
        # %fs:0x8(%rcx,%rax,1). Either way one RMW of the delta, not of (%rdi).
        delta_re='(add|sub)q?[[:space:]]+\$0x(1|ffffffffffffffff),(%fs:)?0x8\(%r[a-z0-9]+(,%r[a-z0-9]+,1)?\)'
        [ "$(echo "$b" | grep -Ec "$delta_re")" -eq 1 ] ||
            fail "$f: expected one +-1 read-modify-write of the table slot's delta"
        echo "$b" | awk -v re="$delta_re" '/cmp[bwlq]?[[:space:]]/ && /%rdi/ && /\(/ { c = 1 } $0 ~ re { exit !c } END { }' ||
            fail "$f: the delta is changed before the slot is compared with the object"
        others=$(echo "$b" | grep -E 'R_X86_64_' | grep -Ev 'R_X86_64_(GOTTPOFF|TPOFF32)[[:space:]]+_rc_deferred_table' |
                 grep -v '_rc_deferred_miss_slow' || true)
        [ -z "$others" ] || fail "$f reaches something other than its miss path: $others"
        echo "$b" | awk '/[[:space:]]j(s|ns)[[:space:]]/ { s = 1 } /_rc_deferred_miss_slow/ { exit !s } END { }' ||
            fail "$f: no sign test (immortal check) before the miss path"
    done
    echo "ok (deferred): no lock, the object is never written; the hit path is one add to the thread's table"
    body asm_incref | sed 's/^/    /'
    exit 0
fi

inc=$(body asm_incref)
[ -n "$inc" ] || fail "asm_incref not found in $obj"
echo "$inc" | grep -Eq 'call|R_X86_64_(PLT|PC)' && fail "incref calls out"

if [ "$strategy" = biased ]; then
    echo "$inc" | awk '/xor[[:space:]]/ { x = 1 } x && /cmp[[:space:]]+\$0x7fffffff,/ { t = 1 }
                       /\(%rdi\)$/ && /mov[[:space:]]+%r/ { exit !t } END { }' ||
        fail "incref: no owner/immortal compare before the owner's store"
    echo "$inc" | awk '/test[[:space:]]+\$0x80000000/ { t = 1 } /lock/ { exit !t } END { }' ||
        fail "incref: no immortal test before the shared lock add"
    [ "$(echo "$inc" | grep -Ec 'mov[[:space:]]+%r[a-z0-9]+,\(%rdi\)')" -eq 1 ] ||
        fail "incref: expected one plain store of the owner word"
    [ "$(echo "$inc" | grep -Ec 'lock[[:space:]]+add[bwlq]?[[:space:]]+[^,]*,0x8\(%rdi\)')" -eq 1 ] ||
        fail "incref: expected one lock add on the shared word"
    echo "$inc" | grep -E '(add|sub|inc|xadd)[bwlq]?[[:space:]]+[^,]*,?\(%rdi\)' | grep -vq lock &&
        fail "incref: the owner path must not read-modify-write memory"
    dec=$(body asm_decref)
    echo "$dec" | grep -q lock && fail "decref: no locked instruction on the inline path"
    others=$(echo "$dec" | grep -E 'R_X86_64_(PLT|PC)' |
             grep -Ev "_rc_biased_(merge_zero|decref_shared)_slow" || true)
    [ -z "$others" ] || fail "decref reaches something other than its slow paths: $others"
    echo "ok (biased): owner incref is a plain store, other threads' one lock add"
    echo "$inc" | sed 's/^/    /'
    exit 0
fi
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
