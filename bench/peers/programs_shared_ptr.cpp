// bench/peers/programs_shared_ptr.cpp — the shared_ptr peer's programs:
// Koka's (koka-lang/koka test/bench/koka/NAME.kk) as a C++ programmer
// writes them with std::shared_ptr: nodes from make_shared, immutable once
// built; a parameter Koka borrows is a const reference, one Koka consumes is
// taken by value and passed with std::move; a node that reuses a part of
// another copies its shared_ptr (one atomic increment, and a decrement
// when the other dies). Counts are atomic in every run (make_counts_atomic).
//
//   binarytrees, cfold   one owner per node: every count stays at 1;
//   rbtree, rbtree_ck    persistent red-black trees, each inserted path
//                        copied, the rest shared with the last version
//                        (rbtree_ck keeps every 5th version in a vector);
//   rbtree_shared        as bench/workloads/rbtree.c's: setup builds one
//                        tree of the N keys 2k (true iff k % 10 == 0); every
//                        run copies its shared_ptr and inserts the N/10 odd
//                        keys 20j + 11 into its own version;
//   deriv                d/dx of x^x nested N times, results sharing
//                        subexpressions of their inputs;
//   deriv_shared         as bench/workloads/deriv.c's: setup makes the
//                        (N-1)th derivative; every run differentiates that
//                        one expression once more and counts the result;
//   nqueens, nqueens_shared  lists of queens sharing tails (as
//                        bench/workloads/nqueens.c; _shared splits the first
//                        queen's columns across the threads).
// Long structures are never dropped by recursion: a list is consumed cell
// by cell, and cfold's expression (a right spine 2^N long) unlinks its
// spine in its node's destructor; elsewhere recursion is as deep as a
// balanced tree or deriv's expressions (545 at the 10th derivative).
// Threading: T independent instances (nqueens_shared: T parts of one),
// each thread's nodes its own, but for the structure rbtree_shared and
// deriv_shared's setup builds: the context holds it in a shared_ptr that
// no run writes (the runs see a const Ctx), and the runs of every thread copy it (or shared_ptrs
// inside its immutable nodes) into shared_ptr objects of their own, which
// is race-free: only the control blocks are shared, their counts atomic.
// Teardown, on the driver after the runs, drops it.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "bench/peers/shared_ptr.h"

namespace {

using rcbench_shared_ptr::make_counts_atomic;

// ---- the programs' context ---------------------------------------------------

struct RB;
using RBP = std::shared_ptr<const RB>;                 // nullptr: Leaf
struct DExpr;
using DP = std::shared_ptr<const DExpr>;

struct Ctx {
    uint64_t n;
    unsigned threads;
    bench_answers_t *answers;
    // rbtree_shared's tree, deriv_shared's expression (else empty): built
    // by setup, dropped with the context. The runs see the context as a
    // const Ctx: they only copy from these, never write them.
    RBP rb_shared;
    DP dv_shared;
};

// PROGRAM's context (or a variant's), at the size of SIZE_OF (a
// BENCH_FOR_EACH_PROGRAM name: rbtree_shared runs at rbtree's).
Ctx *ctx_new(const char *program, const char *size_of, const bench_params_t *p, unsigned threads)
{
    make_counts_atomic();
    uint64_t n = bench_program_size(size_of, p);
    return new Ctx{n, threads, bench_answers_new(program, n, threads), nullptr, nullptr};
}

void *setup(const char *program, const bench_params_t *p, unsigned threads)
{
    return ctx_new(program, program, p, threads);
}

void teardown(void *ctx)
{
    auto *c = static_cast<Ctx *>(ctx);
    bench_answers_free(c->answers);
    delete c;
}

const char *verdict(void *ctx) { return bench_answers_verdict(static_cast<Ctx *>(ctx)->answers); }

// T independent runs of PROGRAM, each checked.
template <uint64_t (*Program)(uint64_t)> uint64_t run(void *ctx, unsigned thread, uint64_t n)
{
    auto *c = static_cast<Ctx *>(ctx);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t got = Program(c->n);
        bench_answers_check(c->answers, thread, got);
        sum += got;
    }
    return sum;
}

// ---- binarytrees ---------------------------------------------------------------

struct Tree {
    std::shared_ptr<const Tree> l, r;                  // nullptr: Tip
    Tree(std::shared_ptr<const Tree> a, std::shared_ptr<const Tree> b) : l(std::move(a)), r(std::move(b)) {}
};
using TreeP = std::shared_ptr<const Tree>;

TreeP make(unsigned depth)                             // make-rec: depth 0 is one node over two Tips
{
    if (depth == 0)
        return std::make_shared<const Tree>(nullptr, nullptr);
    TreeP l = make(depth - 1);
    return std::make_shared<const Tree>(std::move(l), make(depth - 1));
}

uint64_t check(const Tree *t) { return t ? check(t->l.get()) + check(t->r.get()) + 1 : 0; }

uint64_t made_checked(unsigned depth) { return check(make(depth).get()); }   // and dropped

// The benchmarks game's rules (min depth 4): the sum of every check figure.
uint64_t binarytrees(uint64_t n)
{
    const unsigned min_depth = 4, max_depth = std::max<unsigned>(min_depth + 2, (unsigned)n);
    uint64_t sum = made_checked(max_depth + 1);                   // the stretch tree
    TreeP long_lived = make(max_depth);
    for (unsigned d = min_depth; d <= max_depth; d += 2)
        for (uint64_t i = 0, iterations = UINT64_C(1) << (max_depth - d + min_depth); i < iterations; i++)
            sum += made_checked(d);
    return sum + check(long_lived.get());
}

// ---- rbtree, rbtree_ck -----------------------------------------------------------

struct RB {
    bool red, val;
    int32_t key;
    RBP l, r;
    RB(bool c, RBP a, int32_t k, bool v, RBP b) : red(c), val(v), key(k), l(std::move(a)), r(std::move(b)) {}
};

RBP node(bool red, RBP l, int32_t k, bool v, RBP r)
{
    return std::make_shared<const RB>(red, std::move(l), k, v, std::move(r));
}

bool is_red(const RBP &t) { return t && t->red; }

// balance-left: L (just inserted into) was the left child of a black node.
RBP balance_left(RBP l, int32_t k, bool v, RBP r)
{
    if (is_red(l->l)) {
        const RB &x = *l->l;
        return node(true, node(false, x.l, x.key, x.val, x.r), l->key, l->val, node(false, l->r, k, v, std::move(r)));
    }
    if (is_red(l->r)) {
        const RB &x = *l->r;
        return node(true, node(false, l->l, l->key, l->val, x.l), x.key, x.val, node(false, x.r, k, v, std::move(r)));
    }
    return node(false, node(true, l->l, l->key, l->val, l->r), k, v, std::move(r));
}

// balance-right: the mirror image, R just inserted into.
RBP balance_right(RBP l, int32_t k, bool v, RBP r)
{
    if (is_red(r->l)) {
        const RB &x = *r->l;
        return node(true, node(false, std::move(l), k, v, x.l), x.key, x.val, node(false, x.r, r->key, r->val, r->r));
    }
    if (is_red(r->r)) {
        const RB &x = *r->r;
        return node(true, node(false, std::move(l), k, v, r->l), r->key, r->val, node(false, x.l, x.key, x.val, x.r));
    }
    return node(false, std::move(l), k, v, node(true, r->l, r->key, r->val, r->r));
}

// ins: a new version of T with K -> V (recursion as deep as the tree).
RBP ins(const RBP &t, int32_t k, bool v)
{
    if (!t)
        return node(true, nullptr, k, v, nullptr);
    if (t->red) {
        if (k < t->key)
            return node(true, ins(t->l, k, v), t->key, t->val, t->r);
        if (k == t->key)
            return node(true, t->l, k, v, t->r);
        return node(true, t->l, t->key, t->val, ins(t->r, k, v));
    }
    if (k < t->key)
        return is_red(t->l) ? balance_left(ins(t->l, k, v), t->key, t->val, t->r)
                            : node(false, ins(t->l, k, v), t->key, t->val, t->r);
    if (k == t->key)
        return node(false, t->l, k, v, t->r);
    return is_red(t->r) ? balance_right(t->l, t->key, t->val, ins(t->r, k, v))
                        : node(false, t->l, t->key, t->val, ins(t->r, k, v));
}

RBP insert(RBP t, int32_t k, bool v)                  // consumes the old version
{
    RBP u = ins(t, k, v);
    return is_red(t) ? node(false, u->l, u->key, u->val, u->r) : u;   // set-black
}

uint64_t count_true(const RB *t)                       // Koka's fold, counting true values
{
    uint64_t n = 0;
    for (; t; t = t->r.get())
        n += count_true(t->l.get()) + t->val;
    return n;
}

// rbtree.kk's make-tree with keys STRIDE * k, k from n-1 down to 0, each
// true iff k % 10 == 0.
RBP make_tree(uint64_t n, int32_t stride)
{
    RBP t;
    for (auto k = (int32_t)n; k > 0;) {
        k--;
        t = insert(std::move(t), stride * k, k % 10 == 0);
    }
    return t;
}

uint64_t rbtree(uint64_t n) { return count_true(make_tree(n, 1).get()); }   // keys n-1 down to 0

uint64_t rbtree_ck(uint64_t n)                         // keys n down to 1, every 5th version kept
{
    const int32_t freq = 5;
    std::vector<RBP> kept;
    RBP t;
    for (auto k = (int32_t)n; k > 0; k--) {
        t = insert(std::move(t), k, k % 10 == 0);
        if (k % freq == 0)
            kept.push_back(t);
    }
    kept.push_back(std::move(t));
    return count_true(kept.back().get());
}

// ---- deriv -------------------------------------------------------------------------

enum class DK : uint8_t { Val, Var, Add, Mul, Pow, Ln };
struct DExpr {
    DK kind;
    int64_t v = 0;                                     // Val
    const char *name = nullptr;                        // Var
    DP l, r;                                           // Add, Mul, Pow; Ln: l
    DExpr(DK k, DP a, DP b) : kind(k), l(std::move(a)), r(std::move(b)) {}
    explicit DExpr(int64_t x) : kind(DK::Val), v(x) {}
    explicit DExpr(const char *x) : kind(DK::Var), name(x) {}
};

DP val(int64_t v) { return std::make_shared<const DExpr>(v); }
DP op(DK k, DP a, DP b) { return std::make_shared<const DExpr>(k, std::move(a), std::move(b)); }
bool is(const DP &e, int64_t v) { return e->kind == DK::Val && e->v == v; }

int64_t pown(int64_t a, int64_t b)                     // a negative b: the integer part of 1/a^-b
{
    if (b < 0)
        return a == 1 ? 1 : a == -1 ? (b % 2 ? -1 : 1) : 0;
    int64_t r = 1;
    for (; b > 0; b >>= 1, a *= a)
        if (b & 1)
            r *= a;
    return r;
}

// add and mul consume both operands: Koka's cases in Koka's order.
DP add(DP n, DP m)
{
    if (n->kind == DK::Val && m->kind == DK::Val)
        return val(n->v + m->v);
    if (is(n, 0))
        return m;
    if (is(m, 0))
        return n;
    if (m->kind == DK::Val)
        return add(std::move(m), std::move(n));
    if (n->kind == DK::Val && m->kind == DK::Add && m->l->kind == DK::Val)
        return add(val(n->v + m->l->v), m->r);
    if (m->kind == DK::Add && m->l->kind == DK::Val)
        return add(m->l, add(std::move(n), m->r));
    if (n->kind == DK::Add)
        return add(n->l, add(n->r, std::move(m)));
    return op(DK::Add, std::move(n), std::move(m));
}

DP mul(DP n, DP m)
{
    if (n->kind == DK::Val && m->kind == DK::Val)
        return val(n->v * m->v);
    if (is(n, 0) || is(m, 0))
        return val(0);
    if (is(n, 1))
        return m;
    if (is(m, 1))
        return n;
    if (m->kind == DK::Val)
        return mul(std::move(m), std::move(n));
    if (n->kind == DK::Val && m->kind == DK::Mul && m->l->kind == DK::Val)
        return mul(val(n->v * m->l->v), m->r);
    if (m->kind == DK::Mul && m->l->kind == DK::Val)
        return mul(m->l, mul(std::move(n), m->r));
    if (n->kind == DK::Mul)
        return mul(n->l, mul(n->r, std::move(m)));
    return op(DK::Mul, std::move(n), std::move(m));
}

DP powr(DP m, DP n)
{
    if (m->kind == DK::Val && n->kind == DK::Val)
        return val(pown(m->v, n->v));
    if (is(n, 0))
        return val(1);
    if (is(n, 1))
        return m;
    if (is(m, 0))
        return val(0);
    return op(DK::Pow, std::move(m), std::move(n));
}

DP ln(DP n) { return is(n, 1) ? val(0) : op(DK::Ln, std::move(n), nullptr); }

// d/dX of E, borrowed: the result shares E's subexpressions.
DP d(const char *x, const DP &e)
{
    const DP &f = e->l, &g = e->r;
    switch (e->kind) {
    case DK::Val:
        return val(0);
    case DK::Var:
        return val(std::strcmp(x, e->name) == 0);
    case DK::Add:
        return add(d(x, f), d(x, g));
    case DK::Mul:
        return add(mul(f, d(x, g)), mul(g, d(x, f)));
    case DK::Pow:
        return mul(powr(f, g), add(mul(mul(g, d(x, f)), powr(f, val(-1))), mul(ln(f), d(x, g))));
    case DK::Ln:
        break;
    }
    return mul(d(x, f), powr(f, val(-1)));
}

uint64_t count(const DExpr *e)                         // leaves, a shared one as often as reached
{
    switch (e->kind) {
    case DK::Val:
    case DK::Var:
        return 1;
    case DK::Ln:
        return count(e->l.get());
    default:
        return count(e->l.get()) + count(e->r.get());
    }
}

// F differentiated TIMES times, each derivative counted into *last.
DP nest(DP f, uint64_t times, uint64_t *last)
{
    for (uint64_t i = 0; i < times; i++) {
        f = d("x", f);
        *last = count(f.get());
    }
    return f;
}

DP x_pow_x()
{
    DP x = std::make_shared<const DExpr>("x");
    return powr(x, x);
}

// x^x differentiated N times, each counted; the answer the last count.
uint64_t deriv(uint64_t n)
{
    uint64_t c = 0;
    nest(x_pow_x(), n, &c);
    return c;
}

// ---- nqueens ------------------------------------------------------------------------

struct Queens {                                        // a partial solution, nearest row first
    int64_t q;
    std::shared_ptr<const Queens> next;
};
using QP = std::shared_ptr<const Queens>;
struct Solutions {                                     // a list of them, consumed cell by cell
    QP xs;
    std::shared_ptr<Solutions> next;
};
using SP = std::shared_ptr<Solutions>;

bool safe(int64_t q, const Queens *xs)
{
    for (int64_t dist = 1; xs; dist++, xs = xs->next.get())
        if (xs->q == q || xs->q == q + dist || xs->q == q - dist)
            return false;
    return true;
}

// The solutions whose first queen's column c has (c - 1) % step == first;
// the number of them. Each row's list is consumed as the next is built.
uint64_t queens(int64_t n, int64_t first, int64_t step)
{
    SP xss = std::make_shared<Solutions>();            // [[]]
    for (int64_t row = 0; row < n; row++) {
        SP acc;
        for (SP l = std::move(xss); l; l = std::move(l->next))
            for (int64_t q = n; q >= 1; q--) {
                if ((row == 0 && (q - 1) % step != first) || !safe(q, l->xs.get()))
                    continue;
                acc = std::make_shared<Solutions>(
                    Solutions{std::make_shared<const Queens>(Queens{q, l->xs}), std::move(acc)});
            }
        xss = std::move(acc);
    }
    uint64_t solutions = 0;
    for (SP l = std::move(xss); l; l = std::move(l->next))
        solutions++;
    return solutions;
}

uint64_t nqueens(uint64_t n) { return queens((int64_t)n, 0, 1); }

uint64_t nqueens_shared(void *ctx, unsigned thread, uint64_t n)
{
    auto *c = static_cast<Ctx *>(ctx);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t got = queens((int64_t)c->n, thread, c->threads);
        bench_answers_part(c->answers, thread, got);
        sum += got;
    }
    return sum;
}

// ---- cfold ----------------------------------------------------------------------------

enum class CK : uint8_t { Var, Val, Add, Mul };
struct CExpr;
using CP = std::shared_ptr<CExpr>;                     // built through a hole (append), then immutable
struct CExpr {
    CK kind;
    int64_t v = 0;                                     // Var, Val
    CP l, r;                                           // Add, Mul
    CExpr(CK k, int64_t x) : kind(k), v(x) {}
    CExpr(CK k, CP a, CP b) : kind(k), l(std::move(a)), r(std::move(b)) {}
    // A reassociated expression is a right spine 2^N long: unlinked here
    // while this is its only owner, else the destructors would recurse
    // as deep. use_count() == 1 is exact: no other thread can gain a
    // reference to a node only we hold.
    ~CExpr()
    {
        CP next = std::move(r);
        while (next && next.use_count() == 1)
            next = std::move(next->r);
    }
};

CP leaf(CK k, int64_t v) { return std::make_shared<CExpr>(k, v); }
CP op(CK k, CP a, CP b) { return std::make_shared<CExpr>(k, std::move(a), std::move(b)); }
bool is_op(const CExpr &e) { return e.kind == CK::Add || e.kind == CK::Mul; }

CP mk_expr(int64_t n, int64_t v)                       // recursion n deep
{
    if (n == 0)
        return v == 0 ? leaf(CK::Var, 1) : leaf(CK::Val, v);
    CP l = mk_expr(n - 1, v + 1);
    return op(CK::Add, std::move(l), mk_expr(n - 1, std::max<int64_t>(v - 1, 0)));
}

// eval, borrowed: down the right spine in a loop (acc + mul * the rest),
// recursion to the left; wrapping arithmetic (the values stay small).
uint64_t eval(const CExpr *e)
{
    uint64_t acc = 0, mul = 1;
    for (; is_op(*e); e = e->r.get()) {
        if (e->kind == CK::Add)
            acc += mul * eval(e->l.get());
        else
            mul *= eval(e->l.get());
    }
    return acc + mul * (e->kind == CK::Val ? (uint64_t)e->v : 0);
}

// append_add/append_mul: E0's KIND spine copied with E3 at its end (Koka's
// is tail recursive modulo cons: a loop with a hole).
CP append(CK kind, CP e0, CP e3)
{
    CP head;
    CP *hole = &head;
    while (e0->kind == kind) {
        *hole = op(kind, e0->l, nullptr);
        hole = &(*hole)->r;
        e0 = CP(e0->r);                                // the rest, then the old cell dropped
    }
    *hole = op(kind, std::move(e0), std::move(e3));
    return head;
}

CP reassoc(CP e)                                       // recursion as deep as mk_expr's tree
{
    if (!is_op(*e))
        return e;
    CP l = reassoc(e->l), r = reassoc(e->r);
    CK kind = e->kind;
    e.reset();
    return append(kind, std::move(l), std::move(r));
}

// One step of cfold: folded children A and B of a KIND node (Koka's inner
// match, its cases in its order).
CP fold_step(CK kind, CP a, CP b)
{
    if (a->kind != CK::Val)
        return op(kind, std::move(a), std::move(b));
    auto apply = [&](int64_t y) {
        return (int64_t)(kind == CK::Add ? (uint64_t)a->v + (uint64_t)y : (uint64_t)a->v * (uint64_t)y);
    };
    if (b->kind == CK::Val)
        return leaf(CK::Val, apply(b->v));
    if (b->kind == kind && b->r->kind == CK::Val)
        return op(kind, leaf(CK::Val, apply(b->r->v)), b->l);
    if (b->kind == kind && b->l->kind == CK::Val)
        return op(kind, leaf(CK::Val, apply(b->l->v)), b->r);
    return op(kind, std::move(a), std::move(b));
}

// cfold: Koka folds the left child, then the right, then combines; down a
// right spine 2^N long that is a loop pushing (kind, folded left child)
// and a loop combining from the spine's end back.
CP cfold(CP e)
{
    if (!is_op(*e))
        return e;
    struct Frame {
        CK kind;
        CP left;
    };
    std::vector<Frame> spine;
    while (is_op(*e)) {
        spine.push_back(Frame{e->kind, cfold(e->l)});
        e = CP(e->r);
    }
    while (!spine.empty()) {
        Frame f = std::move(spine.back());
        spine.pop_back();
        e = fold_step(f.kind, std::move(f.left), std::move(e));
    }
    return e;
}

// Koka prints eval before and after folding: both are checked.
uint64_t cfold_run(void *ctx, unsigned thread, uint64_t n)
{
    auto *c = static_cast<Ctx *>(ctx);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        CP e = mk_expr((int64_t)c->n, 1);
        uint64_t before = eval(e.get());
        e = cfold(reassoc(std::move(e)));
        uint64_t after = eval(e.get());
        bench_answers_check(c->answers, thread, after);
        if (before != after)
            bench_answers_check(c->answers, thread, before);
        sum += after;
    }
    return sum;
}

// ---- rbtree_shared, deriv_shared ---------------------------------------------------------

// The tree of rbtree with keys doubled (2k, true iff k % 10 == 0, k < N),
// built once by the driver and held by the context.
void *rbtree_shared_setup(const bench_params_t *p, unsigned threads)
{
    Ctx *c = ctx_new("rbtree_shared", "rbtree", p, threads);
    c->rb_shared = make_tree(c->n, 2);
    return c;
}

// Each run: its own version of the shared tree (a copy of the const
// holder: one atomic increment of the root's count), the odd keys 20j + 11
// (j < N/10, in rising order, true) inserted into it, its true entries
// counted; then the version is dropped, the shared nodes' counts falling
// back.
uint64_t rbtree_shared(void *ctx, unsigned thread, uint64_t n)
{
    const auto *c = static_cast<const Ctx *>(ctx);
    const auto inserts = (int32_t)(c->n / 10);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        RBP t = c->rb_shared;
        for (int32_t j = 0; j < inserts; j++)
            t = insert(std::move(t), 20 * j + 11, true);
        uint64_t got = count_true(t.get());
        bench_answers_check(c->answers, thread, got);
        sum += got;
    }
    return sum;
}

// The (N-1)th derivative of x^x, made once by the driver and held by the
// context.
void *deriv_shared_setup(const bench_params_t *p, unsigned threads)
{
    Ctx *c = ctx_new("deriv_shared", "deriv", p, threads);   // fatal at n == 0 (no answer known)
    uint64_t last = 0;
    c->dv_shared = nest(x_pow_x(), c->n - 1, &last);
    return c;
}

// Each run: the shared expression (borrowed from the const holder; d
// copies shared_ptrs out of its nodes, atomically counted) differentiated
// once more, the result counted and dropped.
uint64_t deriv_shared(void *ctx, unsigned thread, uint64_t n)
{
    const auto *c = static_cast<const Ctx *>(ctx);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        DP de = d("x", c->dv_shared);
        uint64_t got = count(de.get());
        bench_answers_check(c->answers, thread, got);
        sum += got;
    }
    return sum;
}

// ---- the table --------------------------------------------------------------------------

#define SETUP(program) [](const bench_params_t *p, unsigned t) { return setup(program, p, t); }
constexpr bench_workload_t programs_w[] = {
    {"binarytrees", "run of binarytrees (make_shared, one owner a node)", 0, 0, 0, false, 1, SETUP("binarytrees"),
     run<binarytrees>, teardown, nullptr, 0, false, verdict, false, BENCH_UNIT_RUN},
    {"rbtree", "run of rbtree (persistent, path copied)", 0, 0, 0, false, 1, SETUP("rbtree"), run<rbtree>,
     teardown, nullptr, 0, false, verdict, false, BENCH_UNIT_RUN},
    {"rbtree_ck", "run of rbtree_ck (every 5th version kept)", 0, 0, 0, false, 1, SETUP("rbtree_ck"),
     run<rbtree_ck>, teardown, nullptr, 0, false, verdict, false, BENCH_UNIT_RUN},
    {"rbtree_shared", "run of N/10 inserts into a version of one shared tree", 0, 0, 0, false, 1,
     rbtree_shared_setup, rbtree_shared, teardown, nullptr, 0, false, verdict, false, BENCH_UNIT_RUN},
    {"deriv", "run of deriv (shared subexpressions)", 0, 0, 0, false, 1, SETUP("deriv"), run<deriv>, teardown,
     nullptr, 0, false, verdict, false, BENCH_UNIT_RUN},
    {"deriv_shared", "run of deriv's last step on one expression all threads share", 0, 0, 0, false, 1,
     deriv_shared_setup, deriv_shared, teardown, nullptr, 0, false, verdict, false, BENCH_UNIT_RUN},
    {"nqueens", "run of nqueens (lists sharing tails)", 0, 0, 0, false, 1, SETUP("nqueens"), run<nqueens>,
     teardown, nullptr, 0, false, verdict, false, BENCH_UNIT_RUN},
    {"nqueens_shared", "run of nqueens split by first column across the threads", 0, 0, 0, false, 1,
     SETUP("nqueens"), nqueens_shared, teardown, nullptr, 0, false, verdict, false, BENCH_UNIT_RUN},
    {"cfold", "run of cfold (make_shared, one owner a node)", 0, 0, 0, false, 1, SETUP("cfold"), cfold_run,
     teardown, nullptr, 0, false, verdict, false, BENCH_UNIT_RUN},
};
#undef SETUP

}  // namespace

namespace rcbench_shared_ptr {
constexpr bench_family_t programs_family = {sizeof programs_w / sizeof programs_w[0], programs_w};
}
