/* bench/peers/programs_boehm.c — the boehm peer's programs: Koka's
 * (koka-lang/koka test/bench/koka/NAME.kk) written as a C programmer with a
 * tracing collector writes them: every node Koka's code builds is one
 * GC_MALLOC, nothing is freed, dropped structures are left to the
 * Boehm-Demers-Weiser collector.
 *
 *   binarytrees, cfold   bench/peers/pprog.h, shared with the none peer;
 *   rbtree, rbtree_ck    Koka's persistent red-black tree (rbtree.kk,
 *                        rbtree-ck.kk: the same insertion, so one ins
 *                        here), every inserted path a new copy; rbtree_ck
 *                        keeps every 5th version in a list;
 *   rbtree_shared        as bench/workloads/rbtree.c's: setup builds one
 *                        tree of the N keys 2k (true iff k % 10 == 0);
 *                        every run inserts the N/10 odd keys 20j + 11 into
 *                        its own version of it;
 *   deriv                Koka's deriv.kk: d/dx of x^x, nested N times,
 *                        each derivative's count taken; results share
 *                        subexpressions of their inputs;
 *   deriv_shared         as bench/workloads/deriv.c's: setup makes the
 *                        (N-1)th derivative; every run differentiates that
 *                        one expression once more and counts the result;
 *   nqueens, nqueens_shared  as bench/workloads/nqueens.c (lists of
 *                        queens sharing tails; _shared splits the first
 *                        queen's columns across the threads).
 * Only roots the collector scans hold nodes: locals (the thread stacks)
 * and GC_MALLOC'ed memory; never a malloc'ed context (boehm.c clears the
 * static roots), so the _shared variants' context, which holds what setup
 * built, is GC_MALLOC_UNCOLLECTABLE (scanned, never collected) and freed
 * by teardown. Threading: T independent instances (nqueens_shared: T
 * parts of one), each thread's nodes its own, but for the _shared
 * variants' structure, which every thread reads at once and none writes
 * (a node is never written after it is made: no race); threads are
 * registered by the peer's attach (bench/peers/boehm.c).
 */
#define GC_THREADS
#include RC_BOEHM_HEADER                 /* <gc/gc.h>, by its full path: see bench/CMakeLists.txt */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/compiler.h"
#include "bench/bench.h"
#include "rc/rc.h"

static inline void *boehm_new(size_t bytes)
{
    void *p = GC_MALLOC(bytes);
    if (RC_UNLIKELY(p == NULL))
        rc_fatal_os("out of memory (Boehm GC): benchmark stopped");
    return p;
}

static inline void *boehm_stack_grow(void *p, size_t bytes)
{
    void *q = GC_REALLOC(p, bytes);
    if (RC_UNLIKELY(q == NULL))
        rc_fatal_os("out of memory (Boehm GC): benchmark stopped");
    return q;
}

#define PPROG_NEW(bytes) boehm_new(bytes)
#define PPROG_FREES 0
#define PPROG_FREE(p, bytes) ((void)(p), (void)(bytes))
#define PPROG_STACK_GROW(p, bytes) boehm_stack_grow((p), (bytes))
#define PPROG_STACK_FREE(p) GC_FREE(p)
#include "bench/peers/pprog.h"

/* ---- rbtree, rbtree_ck --------------------------------------------------------------- */

/* A node of the persistent tree; NULL is Leaf. */
typedef struct rbn {
    struct rbn *l, *r;
    int32_t key;
    bool val, red;
} rbn_t;

static inline rbn_t *rb_node(bool red, rbn_t *l, int32_t key, bool val, rbn_t *r)
{
    rbn_t *t = boehm_new(sizeof *t);
    *t = (rbn_t){ .l = l, .r = r, .key = key, .val = val, .red = red };
    return t;
}

static inline bool rb_is_red(const rbn_t *t) { return t && t->red; }

/* balance-left: L (just inserted into, not NULL) was the left child of a
 * black node (K, V, R) and is red with a red child, or not. */
static rbn_t *rb_balance_left(const rbn_t *l, int32_t k, bool v, rbn_t *r)
{
    if (rb_is_red(l->l)) {
        const rbn_t *x = l->l;
        return rb_node(true, rb_node(false, x->l, x->key, x->val, x->r), l->key, l->val,
                       rb_node(false, l->r, k, v, r));
    }
    if (rb_is_red(l->r)) {
        const rbn_t *x = l->r;
        return rb_node(true, rb_node(false, l->l, l->key, l->val, x->l), x->key, x->val,
                       rb_node(false, x->r, k, v, r));
    }
    return rb_node(false, rb_node(true, l->l, l->key, l->val, l->r), k, v, r);
}

/* balance-right: the mirror image, R just inserted into. */
static rbn_t *rb_balance_right(rbn_t *l, int32_t k, bool v, const rbn_t *r)
{
    if (rb_is_red(r->l)) {
        const rbn_t *x = r->l;
        return rb_node(true, rb_node(false, l, k, v, x->l), x->key, x->val,
                       rb_node(false, x->r, r->key, r->val, r->r));
    }
    if (rb_is_red(r->r)) {
        const rbn_t *x = r->r;
        return rb_node(true, rb_node(false, l, k, v, r->l), r->key, r->val,
                       rb_node(false, x->l, x->key, x->val, x->r));
    }
    return rb_node(false, l, k, v, rb_node(true, r->l, r->key, r->val, r->r));
}

/* ins: a new version of T with K -> V, T itself unchanged (recursion as
 * deep as the tree: O(log n)). */
static rbn_t *rb_ins(const rbn_t *t, int32_t k, bool v)
{
    if (t == NULL)
        return rb_node(true, NULL, k, v, NULL);
    if (t->red) {
        if (k < t->key)
            return rb_node(true, rb_ins(t->l, k, v), t->key, t->val, t->r);
        if (k == t->key)
            return rb_node(true, t->l, k, v, t->r);
        return rb_node(true, t->l, t->key, t->val, rb_ins(t->r, k, v));
    }
    if (k < t->key)
        return rb_is_red(t->l) ? rb_balance_left(rb_ins(t->l, k, v), t->key, t->val, t->r)
                               : rb_node(false, rb_ins(t->l, k, v), t->key, t->val, t->r);
    if (k == t->key)
        return rb_node(false, t->l, k, v, t->r);
    return rb_is_red(t->r) ? rb_balance_right(t->l, t->key, t->val, rb_ins(t->r, k, v))
                           : rb_node(false, t->l, t->key, t->val, rb_ins(t->r, k, v));
}

static rbn_t *rb_insert(const rbn_t *t, int32_t k, bool v)
{
    rbn_t *u = rb_ins(t, k, v);
    return rb_is_red(t) ? rb_node(false, u->l, u->key, u->val, u->r) : u;   /* set-black */
}

/* fold, counting the true values (in order, as Koka's). */
static uint64_t rb_count_true(const rbn_t *t)
{
    uint64_t n = 0;
    for (; t; t = t->r)
        n += rb_count_true(t->l) + t->val;
    return n;
}

/* rbtree.kk's make-tree with keys STRIDE * k, k from N-1 down to 0, each
 * true iff k % 10 == 0. */
static rbn_t *rb_make(uint64_t n, int32_t stride)
{
    rbn_t *t = NULL;
    for (int32_t k = (int32_t)n; k > 0;) {
        k--;
        t = rb_insert(t, stride * k, k % 10 == 0);
    }
    return t;
}

static uint64_t rbtree_run(uint64_t n) { return rb_count_true(rb_make(n, 1)); }   /* keys N-1 down to 0 */

/* rbtree-ck.kk's: keys N down to 1, every version whose key is a multiple
 * of 5 kept in a list (so versions share subtrees), the last at its head. */
typedef struct rb_versions {
    rbn_t *t;
    struct rb_versions *next;
} rb_versions_t;

static rb_versions_t *rb_keep(rbn_t *t, rb_versions_t *next)
{
    rb_versions_t *c = boehm_new(sizeof *c);
    c->t = t;
    c->next = next;
    return c;
}

static uint64_t rbtree_ck_run(uint64_t n)
{
    const int32_t freq = 5;
    rbn_t *t = NULL;
    rb_versions_t *kept = NULL;
    for (int32_t k = (int32_t)n; k > 0; k--) {
        t = rb_insert(t, k, k % 10 == 0);
        if (k % freq == 0)
            kept = rb_keep(t, kept);
    }
    kept = rb_keep(t, kept);
    return rb_count_true(kept->t);
}

/* ---- deriv --------------------------------------------------------------------------- */

typedef enum { D_VAL, D_VAR, D_ADD, D_MUL, D_POW, D_LN } d_kind_t;
typedef struct dexpr {
    d_kind_t kind;
    union {
        int64_t v;                           /* D_VAL */
        const char *name;                    /* D_VAR */
        struct { const struct dexpr *l, *r; };   /* D_ADD, D_MUL, D_POW; D_LN: l */
    };
} dexpr_t;

static const dexpr_t *d_val(int64_t v)
{
    dexpr_t *e = boehm_new(sizeof *e);
    e->kind = D_VAL;
    e->v = v;
    return e;
}

static const dexpr_t *d_op(d_kind_t kind, const dexpr_t *l, const dexpr_t *r)
{
    dexpr_t *e = boehm_new(sizeof *e);
    e->kind = kind;
    e->l = l;
    e->r = r;
    return e;
}

static inline bool d_is(const dexpr_t *e, int64_t v) { return e->kind == D_VAL && e->v == v; }

/* Koka's pow on ints (a negative exponent: the integer part of 1/a^-b). */
static int64_t d_pown(int64_t a, int64_t b)
{
    if (b < 0)
        return a == 1 ? 1 : a == -1 ? (b % 2 ? -1 : 1) : 0;
    int64_t r = 1;
    for (; b > 0; b >>= 1, a *= a)
        if (b & 1)
            r *= a;
    return r;
}

/* add and mul: Koka's cases, in Koka's order (recursion as long as the
 * Add/Mul chains they walk: bounded by the expression's depth). */
static const dexpr_t *d_add(const dexpr_t *n, const dexpr_t *m)
{
    if (n->kind == D_VAL && m->kind == D_VAL)
        return d_val(n->v + m->v);
    if (d_is(n, 0))
        return m;
    if (d_is(m, 0))
        return n;
    if (m->kind == D_VAL)
        return d_add(m, n);
    if (n->kind == D_VAL && m->kind == D_ADD && m->l->kind == D_VAL)
        return d_add(d_val(n->v + m->l->v), m->r);
    if (m->kind == D_ADD && m->l->kind == D_VAL)
        return d_add(m->l, d_add(n, m->r));
    if (n->kind == D_ADD)
        return d_add(n->l, d_add(n->r, m));
    return d_op(D_ADD, n, m);
}

static const dexpr_t *d_mul(const dexpr_t *n, const dexpr_t *m)
{
    if (n->kind == D_VAL && m->kind == D_VAL)
        return d_val(n->v * m->v);
    if (d_is(n, 0) || d_is(m, 0))
        return d_val(0);
    if (d_is(n, 1))
        return m;
    if (d_is(m, 1))
        return n;
    if (m->kind == D_VAL)
        return d_mul(m, n);
    if (n->kind == D_VAL && m->kind == D_MUL && m->l->kind == D_VAL)
        return d_mul(d_val(n->v * m->l->v), m->r);
    if (m->kind == D_MUL && m->l->kind == D_VAL)
        return d_mul(m->l, d_mul(n, m->r));
    if (n->kind == D_MUL)
        return d_mul(n->l, d_mul(n->r, m));
    return d_op(D_MUL, n, m);
}

static const dexpr_t *d_powr(const dexpr_t *m, const dexpr_t *n)
{
    if (m->kind == D_VAL && n->kind == D_VAL)
        return d_val(d_pown(m->v, n->v));
    if (d_is(n, 0))
        return d_val(1);
    if (d_is(n, 1))
        return m;
    if (d_is(m, 0))
        return d_val(0);
    return d_op(D_POW, m, n);
}

static const dexpr_t *d_ln(const dexpr_t *n) { return d_is(n, 1) ? d_val(0) : d_op(D_LN, n, NULL); }

/* d/dX of E (recursion as deep as E: 545 at the 10th derivative). */
static const dexpr_t *d_deriv(const char *x, const dexpr_t *e)
{
    if (e->kind == D_VAL)
        return d_val(0);
    if (e->kind == D_VAR)
        return d_val(strcmp(x, e->name) == 0);
    const dexpr_t *f = e->l, *g = e->r;
    switch (e->kind) {
    case D_ADD:
        return d_add(d_deriv(x, f), d_deriv(x, g));
    case D_MUL:
        return d_add(d_mul(f, d_deriv(x, g)), d_mul(g, d_deriv(x, f)));
    case D_POW:
        return d_mul(d_powr(f, g), d_add(d_mul(d_mul(g, d_deriv(x, f)), d_powr(f, d_val(-1))),
                                         d_mul(d_ln(f), d_deriv(x, g))));
    default:                             /* D_LN */
        return d_mul(d_deriv(x, f), d_powr(f, d_val(-1)));
    }
}

/* Koka's count: the leaves, each shared subexpression as often as it is
 * reached. */
static uint64_t d_count(const dexpr_t *e)
{
    switch (e->kind) {
    case D_VAL:
    case D_VAR:
        return 1;
    case D_LN:
        return d_count(e->l);
    default:
        return d_count(e->l) + d_count(e->r);
    }
}

/* x^x, as deriv.kk's main makes it. */
static const dexpr_t *d_x_pow_x(void)
{
    dexpr_t *x = boehm_new(sizeof *x);
    x->kind = D_VAR;
    x->name = "x";
    return d_powr(x, x);
}

/* F differentiated TIMES times, each derivative counted into *last. */
static const dexpr_t *d_nest(const dexpr_t *f, uint64_t times, uint64_t *last)
{
    for (uint64_t i = 0; i < times; i++) {
        f = d_deriv("x", f);
        *last = d_count(f);
    }
    return f;
}

/* deriv.kk's main: x^x differentiated N times, each result counted; the
 * answer is the last count it prints. */
static uint64_t deriv_run(uint64_t n)
{
    uint64_t count = 0;
    d_nest(d_x_pow_x(), n, &count);
    return count;
}

/* ---- nqueens --------------------------------------------------------------------------- */

typedef struct queens {                  /* a partial solution: the queens, nearest row first */
    int64_t q;
    const struct queens *next;
} queens_t;
typedef struct solutions {
    const queens_t *xs;
    struct solutions *next;
} solutions_t;

static bool nq_safe(int64_t q, const queens_t *xs)
{
    for (int64_t d = 1; xs; d++, xs = xs->next)
        if (xs->q == q || xs->q == q + d || xs->q == q - d)
            return false;
    return true;
}

/* Every solution whose first queen's column c has (c - 1) % step ==
 * first, as bench/workloads/nqueens.c builds them; the number of them. */
static uint64_t nqueens_run(int64_t n, int64_t first, int64_t step)
{
    solutions_t *xss = boehm_new(sizeof *xss);   /* [[]] */
    xss->xs = NULL;
    xss->next = NULL;
    for (int64_t row = 0; row < n; row++) {
        solutions_t *acc = NULL;
        for (const solutions_t *l = xss; l; l = l->next)
            for (int64_t q = n; q >= 1; q--) {
                if ((row == 0 && (q - 1) % step != first) || !nq_safe(q, l->xs))
                    continue;
                queens_t *xs = boehm_new(sizeof *xs);
                xs->q = q;
                xs->next = l->xs;
                solutions_t *s = boehm_new(sizeof *s);
                s->xs = xs;
                s->next = acc;
                acc = s;
            }
        xss = acc;
    }
    uint64_t count = 0;
    for (const solutions_t *l = xss; l; l = l->next)
        count++;
    return count;
}

/* ---- the workloads ----------------------------------------------------------------------- */

PPROG_SETUP(binarytrees_setup, "binarytrees")
PPROG_SETUP(rbtree_setup, "rbtree")
PPROG_SETUP(rbtree_ck_setup, "rbtree_ck")
PPROG_SETUP(deriv_setup, "deriv")
PPROG_SETUP(nqueens_setup, "nqueens")
PPROG_SETUP(cfold_setup, "cfold")

#define BOEHM_RUN(fn, expr)                                                   \
    static uint64_t fn(void *ctx, unsigned thread, uint64_t n)                \
    {                                                                         \
        pprog_ctx_t *c = ctx;                                                 \
        uint64_t sum = 0;                                                     \
        for (uint64_t i = 0; i < n; i++) {                                    \
            uint64_t got = (expr);                                            \
            bench_answers_check(c->answers, thread, got);                     \
            sum += got;                                                       \
        }                                                                     \
        return sum;                                                           \
    }
BOEHM_RUN(rbtree, rbtree_run(c->n))
BOEHM_RUN(rbtree_ck, rbtree_ck_run(c->n))
BOEHM_RUN(deriv, deriv_run(c->n))
BOEHM_RUN(nqueens, nqueens_run((int64_t)c->n, 0, 1))
#undef BOEHM_RUN

static uint64_t nqueens_shared(void *ctx, unsigned thread, uint64_t n)
{
    pprog_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t got = nqueens_run((int64_t)c->n, thread, c->threads);
        bench_answers_part(c->answers, thread, got);
        sum += got;
    }
    return sum;
}

/* rbtree_shared, deriv_shared: a program's context and what setup built
 * for every thread's runs to start from. The collector must see it while
 * the runs go on, and it scans no malloc'ed memory (nor static data:
 * boehm.c clears those roots), so the context is GC_MALLOC_UNCOLLECTABLE:
 * scanned at every collection, never collected, until teardown's GC_FREE
 * leaves the structure to the collector. */
typedef struct shared_ctx {
    pprog_ctx_t prog;
    const rbn_t *tree;                   /* rbtree_shared's; else NULL */
    const dexpr_t *expr;                 /* deriv_shared's; else NULL */
} shared_ctx_t;

static shared_ctx_t *shared_ctx_new(const char *program, const char *size_of, const bench_params_t *p,
                                    unsigned threads)
{
    shared_ctx_t *c = GC_MALLOC_UNCOLLECTABLE(sizeof *c);
    if (c == NULL)
        rc_fatal_os("out of memory (Boehm GC): benchmark stopped");
    pprog_ctx_init(&c->prog, program, size_of, p, threads);   /* fatal where no answer is known */
    c->tree = NULL;
    c->expr = NULL;
    return c;
}

static void shared_teardown(void *ctx)
{
    shared_ctx_t *c = ctx;
    bench_answers_free(c->prog.answers);
    GC_FREE(c);
}

static const char *shared_verdict(void *ctx) { return pprog_verdict(&((shared_ctx_t *)ctx)->prog); }

/* The tree of rbtree with keys doubled (2k, true iff k % 10 == 0, k < N). */
static void *rbtree_shared_setup(const bench_params_t *p, unsigned threads)
{
    shared_ctx_t *c = shared_ctx_new("rbtree_shared", "rbtree", p, threads);
    c->tree = rb_make(c->prog.n, 2);
    return c;
}

/* Each run: its own version of the shared tree, the odd keys 20j + 11
 * (j < N/10, in rising order, true) inserted into it, its true entries
 * counted. */
static uint64_t rbtree_shared(void *ctx, unsigned thread, uint64_t n)
{
    const shared_ctx_t *c = ctx;
    const int32_t inserts = (int32_t)(c->prog.n / 10);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        const rbn_t *t = c->tree;
        for (int32_t j = 0; j < inserts; j++)
            t = rb_insert(t, 20 * j + 11, true);
        uint64_t got = rb_count_true(t);
        bench_answers_check(c->prog.answers, thread, got);
        sum += got;
    }
    return sum;
}

/* The (N-1)th derivative of x^x. */
static void *deriv_shared_setup(const bench_params_t *p, unsigned threads)
{
    shared_ctx_t *c = shared_ctx_new("deriv_shared", "deriv", p, threads);   /* fatal at N = 0 */
    uint64_t last = 0;
    c->expr = d_nest(d_x_pow_x(), c->prog.n - 1, &last);
    return c;
}

/* Each run: the shared expression differentiated once more, the result
 * counted. */
static uint64_t deriv_shared(void *ctx, unsigned thread, uint64_t n)
{
    const shared_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t got = d_count(d_deriv("x", c->expr));
        bench_answers_check(c->prog.answers, thread, got);
        sum += got;
    }
    return sum;
}

#define PROGRAM(name_, op_, run_, setup_)                                                     \
    { .name = name_, .op = op_, .ops_per_iter = 1, .setup = setup_, .run = run_,             \
      .teardown = pprog_teardown, .verdict = pprog_verdict }
#define SHARED(name_, op_, run_, setup_)                                                      \
    { .name = name_, .op = op_, .ops_per_iter = 1, .setup = setup_, .run = run_,             \
      .teardown = shared_teardown, .verdict = shared_verdict }
static const bench_workload_t programs[] = {
    PROGRAM("binarytrees", "run of binarytrees (GC_MALLOC, traced)", pprog_binarytrees_run, binarytrees_setup),
    PROGRAM("rbtree", "run of rbtree (persistent, path copied, traced)", rbtree, rbtree_setup),
    PROGRAM("rbtree_ck", "run of rbtree_ck (every 5th version kept, traced)", rbtree_ck, rbtree_ck_setup),
    SHARED("rbtree_shared", "run of N/10 inserts into a version of one shared tree (traced)", rbtree_shared,
           rbtree_shared_setup),
    PROGRAM("deriv", "run of deriv (shared subexpressions, traced)", deriv, deriv_setup),
    SHARED("deriv_shared", "run of deriv's last step on one expression all threads share (traced)", deriv_shared,
           deriv_shared_setup),
    PROGRAM("nqueens", "run of nqueens (lists sharing tails, traced)", nqueens, nqueens_setup),
    PROGRAM("nqueens_shared", "run of nqueens split by first column across the threads", nqueens_shared,
            nqueens_setup),
    PROGRAM("cfold", "run of cfold (GC_MALLOC, traced)", pprog_cfold_run, cfold_setup),
};
#undef PROGRAM
#undef SHARED
const bench_family_t bench_boehm_programs_family = BENCH_FAMILY(programs);
