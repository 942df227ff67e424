#!/bin/sh
# tests/asm/check_fastpath_aarch64.sh OBJDUMP OBJECT STRATEGY ATOMICS
# The aarch64 counterpart of check_fastpath.sh: proves the fast paths in
# OBJECT (tests/asm/fastpath.c built for STRATEGY) are what the strategy
# headers promise, for the atomics the build chose (ATOMICS, from
# RCBENCH_ARM64_ATOMICS):
#   lse      an atomic read-modify-write is one LSE instruction
#            (ldadd/stadd in any ordering), with no exclusive loop;
#   llsc     it is one load-exclusive/store-exclusive loop (ld[a]xr, then
#            st[l]xr, then a cbnz back to the load), with no LSE instruction;
#   outline  (empty ATOMICS: the compiler's default) it is one call to
#            libgcc's __aarch64_ldadd*/cas*/swp* helper.
# Per strategy:
#   plain    incref: a sign test of the count (tbnz #31 or #63, the
#            immortal check) before exactly one store to [x0]; no atomic at
#            all. decref: no atomic; leaves only for _rc_plain_decref_slow.
#   atomic   incref: the sign test, then exactly one atomic RMW. decref:
#            exactly one atomic RMW; leaves only for _rc_atomic_decref_slow.
#   biased   incref: the owner test (eor with the thread's id, compare with
#            0x7fffffff) before the owner's one plain store to [x0]; an
#            immortal test (tbnz #31) before the other threads' one atomic
#            RMW. decref: no atomic at all; leaves only for
#            _rc_biased_merge_zero_slow or _rc_biased_decref_shared_slow.
#   deferred neither function has an atomic or stores to the object ([x0]);
#            the hit path compares the slot with x0, then changes the
#            slot's delta ([xN, #8]) by one add or sub of 1; a miss tests
#            the sign (tbnz #63) before _rc_deferred_miss_slow, the only
#            symbol reached besides the thread's table (TLSIE relocations).
# Exit 0 when all hold; 1 with the disassembly otherwise, and for a timed
# strategy without stated expectations (add them here).
set -eu
objdump=$1 obj=$2 strategy=$3 atomics=${4:-outline}
[ -n "$atomics" ] || atomics=outline

case $strategy in plain|atomic|biased|deferred) ;; *) echo "no fast-path expectations for '$strategy'"; exit 1 ;; esac
case $atomics in lse|llsc|outline) ;; *) echo "unknown atomics '$atomics'"; exit 1 ;; esac

body() { # disassembly of function $1 and of any split-off $1.cold, relocations shown
    "$objdump" -dr --no-show-raw-insn "$obj" |
        F="<$1>:" C="<$1.cold>:" awk '$2 == ENVIRON["F"] || $2 == ENVIRON["C"] { on = 1; next }
                                     /^[0-9a-f]+ </ { on = 0 } on && NF'
}
# before TEXT A B: a line of TEXT matching the regex A comes before the first
# line matching B, and there is one (regexes through the environment: awk -v
# would rewrite their backslashes).
before() {
    printf '%s\n' "$1" | A="$2" B="$3" awk '$0 ~ ENVIRON["A"] { a = 1 }
        $0 ~ ENVIRON["B"] { found = 1; ok = a; exit }
        END { exit !(found && ok) }'
}
fail() { echo "FAIL ($strategy, $atomics): $1"; echo "--- asm_incref"; body asm_incref; echo "--- asm_decref"; body asm_decref; exit 1; }

# The instruction classes (objdump's mnemonics, after the address and a tab).
lse_re='[[:space:]](ld(add|clr|set|eor)|st(add|clr|set|eor))(a|l|al)?[bh]?[[:space:]]|[[:space:]](cas|swp)(a|l|al)?[bh]?[[:space:]]'
excl_re='[[:space:]](ld(a)?xr|st(l)?xr)[bh]?[[:space:]]'
outline_re='__aarch64_(ldadd|ldclr|ldset|ldeor|cas|swp)[0-9]+_(relax|acq|rel|acq_rel)'

# count_rmw TEXT: how many atomic read-modify-writes TEXT has, for $atomics.
count_rmw() {
    case $atomics in
        lse)     printf '%s\n' "$1" | grep -Ec "$lse_re" || true ;;
        llsc)    printf '%s\n' "$1" | grep -Ec '[[:space:]]ld(a)?xr[bh]?[[:space:]]' || true ;;
        outline) printf '%s\n' "$1" | grep -E 'R_AARCH64_CALL26' | grep -Ec "$outline_re" || true ;;
    esac
}
# no_atomics TEXT WHAT: fail if TEXT has any atomic, of any kind.
no_atomics() {
    printf '%s\n' "$1" | grep -Eq "$lse_re|$excl_re|$outline_re" && fail "$2: an atomic instruction"
    return 0
}
# rmw_shape TEXT WHAT: the build's atomics and no other kind; an LL/SC
# loop is ld[a]xr, st[l]xr, cbnz back to the load.
rmw_shape() {
    case $atomics in
        lse)  printf '%s\n' "$1" | grep -Eq "$excl_re|$outline_re" && fail "$2: not LSE-only" ;;
        llsc) printf '%s\n' "$1" | grep -Eq "$lse_re|$outline_re" && fail "$2: an LSE instruction or helper in an LL/SC build"
              printf '%s\n' "$1" | awk '
                  /[[:space:]]ld(a)?xr[bh]?[[:space:]]/ { sub(":", "", $1); ld = $1; st = 0; next }
                  ld && /[[:space:]]st(l)?xr[bh]?[[:space:]]/ { st = 1; next }
                  ld && st && /[[:space:]]cbnz[[:space:]]/ { if ($(NF-1) == ld) ok++; ld = 0 }
                  END { exit !ok }' || fail "$2: no ld[a]xr/st[l]xr/cbnz loop" ;;
        outline) printf '%s\n' "$1" | grep -Eq "$lse_re|$excl_re" && fail "$2: inline atomics in an outline-atomics build" ;;
    esac
    return 0
}
# leaves_only TEXT WHAT SYMBOL-REGEX: every relocation in TEXT other than
# TLS and the atomics helpers names SYMBOL-REGEX.
leaves_only() {
    others=$(printf '%s\n' "$1" | grep -E 'R_AARCH64_' | grep -Ev 'R_AARCH64_TLSIE_' |
             grep -Ev "$outline_re" | grep -Ev "$3" || true)
    [ -z "$others" ] || fail "$2 reaches something else: $others"
}

inc=$(body asm_incref)
dec=$(body asm_decref)
[ -n "$inc" ] || fail "asm_incref not found in $obj"
[ -n "$dec" ] || fail "asm_decref not found in $obj"
store_x0_re='[[:space:]]st(r|ur|p)[bh]?[[:space:]].*\[x0(, #0x?0)?\]'

case $strategy in
plain)
    no_atomics "$inc" incref; no_atomics "$dec" decref
    [ "$(printf '%s\n' "$inc" | grep -Ec "$store_x0_re")" -eq 1 ] || fail "incref: expected one store of the count"
    before "$inc" '[[:space:]]tbnz[[:space:]].*#(31|63)' "$store_x0_re" ||
        fail "incref: no sign test (immortal check) before the store"
    leaves_only "$inc" incref '^$'
    leaves_only "$dec" decref '_rc_plain_decref_slow'
    ;;
atomic)
    for f in incref decref; do
        b=$([ $f = incref ] && echo "$inc" || echo "$dec")
        n=$(count_rmw "$b")
        [ "$n" -eq 1 ] || fail "$f: expected one atomic read-modify-write, found $n"
        rmw_shape "$b" $f
    done
    before "$inc" '[[:space:]]tbnz[[:space:]].*#(31|63)' '[[:space:]](ld|st)(add|xr|axr)|__aarch64_' ||
        fail "incref: no sign test (immortal check) before the atomic"
    leaves_only "$inc" incref '^$'
    leaves_only "$dec" decref '_rc_atomic_decref_slow'
    ;;
biased)
    n=$(count_rmw "$inc")
    [ "$n" -eq 1 ] || fail "incref: expected one atomic read-modify-write (other threads), found $n"
    rmw_shape "$inc" incref
    [ "$(printf '%s\n' "$inc" | grep -Ec "$store_x0_re")" -eq 1 ] || fail "incref: expected one plain store of the owner word"
    before "$inc" '[[:space:]]eor[[:space:]]' '[[:space:]]cmp[[:space:]]' &&
        before "$inc" '[[:space:]]cmp[[:space:]]' "$store_x0_re" ||
        fail "incref: no owner compare (eor, cmp) before the owner's store"
    printf '%s\n' "$inc" | grep -q '#0x7fffffff' || fail "incref: the owner compare is not against 0x7fffffff"
    before "$inc" '[[:space:]]tbnz[[:space:]].*#31' '[[:space:]](ld|st)(add|xr|axr)|__aarch64_' ||
        fail "incref: no immortal test before the shared atomic"
    no_atomics "$dec" decref
    leaves_only "$inc" incref '^$'
    leaves_only "$dec" decref '_rc_biased_(merge_zero|decref_shared)_slow'
    ;;
deferred)
    for f in incref decref; do
        b=$([ $f = incref ] && echo "$inc" || echo "$dec")
        no_atomics "$b" $f
        printf '%s\n' "$b" | grep -Eq "$store_x0_re|[[:space:]]st(r|ur|p)[bh]?[[:space:]].*\[x0, #" && fail "$f: writes the object"
        [ "$(printf '%s\n' "$b" | grep -Ec '[[:space:]](add|sub)[[:space:]]+x[0-9]+, x[0-9]+, #0x1$')" -eq 1 ] ||
            fail "$f: expected one +-1 of the slot's delta"
        before "$b" '[[:space:]]cmp[[:space:]]+x0, |[[:space:]]cmp[[:space:]]+x[0-9]+, x0$' \
               '[[:space:]]str[[:space:]]+x[0-9]+, [[]x[0-9]+, #8[]]' ||
            fail "$f: no store of the slot's delta after comparing the slot with the object"
        before "$b" '[[:space:]]tbnz[[:space:]].*#63' '_rc_deferred_miss_slow' ||
            fail "$f: no sign test (immortal check) before the miss path"
        printf '%s\n' "$b" | grep -E 'R_AARCH64_TLSIE_' | grep -qv '_rc_deferred_table' && fail "$f: TLS other than the table"
        leaves_only "$b" $f '_rc_deferred_miss_slow'
    done
    ;;
esac

echo "ok ($strategy, $atomics atomics): the fast paths are as promised"
echo "--- asm_incref"; echo "$inc" | sed 's/^/    /'
