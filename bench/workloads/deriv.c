/* bench/workloads/deriv.c — Koka's test/bench/koka/deriv.kk (after Lean's
 * IFL'19 deriv.ml): f = x^x differentiated N times in x, each derivative
 * simplified as built (add, mul, powr, ln: Koka's patterns, in order) and
 * counted (Koka's count: the leaves, a shared one once per path). The answer is the Nth count, the last figure Koka's main
 * prints: 598592 at N = 8, 40230090 at N = 10. A node's value is its tag:
 * Val and Var hold an int in slot 0 (the constant; the name's character
 * code, 'x'), Ln its argument, Add, Mul and Pow their operands. Constants
 * are ints as Python's, immortal when small (up to N = 10 all are -1..1;
 * one outside int64, where Koka goes to a bigint, is fatal). d borrows its
 * input, so a derivative shares its input's subexpressions. Recursion as
 * Koka's (d and count over the expression, add and mul down a chain): its
 * depth is the expression's, 545 at N = 10.
 *
 *   deriv         T independent runs, one per thread;
 *   deriv_shared  setup (one thread) makes the (N-1)th derivative; each
 *                 run on every thread differentiates that one expression,
 *                 counting its nodes from every thread (biased: non-owners
 *                 through the shared count); teardown drops it.
 * Threading: workloads.h; a safepoint every 256 nodes made or counted.
 */
#include <stdlib.h>

#include "bench/workloads/workloads.h"

enum { VAL, VAR, ADD, MUL, POW, LN };    /* a node's value */
enum { VAR_X = 'x' };                    /* the variable's name */

typedef struct dv_ctx {
    uint64_t n;
    rc_obj_t *shared;                    /* deriv_shared: the (n-1)th derivative; NULL for deriv */
    bench_answers_t *answers;
} dv_ctx_t;

static inline void tick(unsigned *ticks)
{
    if ((++*ticks & 255) == 0)
        rc_safepoint();
}

static inline int64_t tag(const rc_obj_t *e) { return ((const rc_node_t *)e)->value; }
static inline rc_obj_t *left(const rc_obj_t *e) { return rc_node_get(e, 0); }
static inline rc_obj_t *right(const rc_obj_t *e) { return rc_node_get(e, 1); }
static inline bool is_val(const rc_obj_t *e) { return tag(e) == VAL; }
static inline int64_t val(const rc_obj_t *e) { return rc_int_value(rc_node_get(e, 0)); }
static inline bool is_val_of(const rc_obj_t *e, int64_t v) { return is_val(e) && val(e) == v; }
static inline rc_obj_t *dup(rc_obj_t *e)
{
    rc_incref(e);
    return e;
}

/* Constructors: a new reference; Bin and Un steal their operands. */
static rc_obj_t *mk_val(int64_t v, unsigned *ticks)
{
    rc_obj_t *e = must(rc_node_new(1, VAL));
    rc_node_set(e, 0, must(rc_int_new(v)));     /* immortal when small: no count written */
    tick(ticks);
    return e;
}

static rc_obj_t *mk_var(int64_t name, unsigned *ticks)
{
    rc_obj_t *e = must(rc_node_new(1, VAR));
    rc_node_set(e, 0, must(rc_int_new(name)));
    tick(ticks);
    return e;
}

static rc_obj_t *mk_bin(int64_t t, rc_obj_t *l, rc_obj_t *r, unsigned *ticks)
{
    rc_obj_t *e = must(rc_node_new(2, t));
    rc_node_set(e, 0, l);
    rc_node_set(e, 1, r);
    tick(ticks);
    return e;
}

static rc_obj_t *mk_un(int64_t t, rc_obj_t *a, unsigned *ticks)
{
    rc_obj_t *e = must(rc_node_new(1, t));
    rc_node_set(e, 0, a);
    tick(ticks);
    return e;
}

static int64_t checked_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        rc_fatal("deriv: %lld + %lld leaves int64 (Koka: a bigint)", (long long)a, (long long)b);
    return r;
}

static int64_t checked_mul(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        rc_fatal("deriv: %lld * %lld leaves int64 (Koka: a bigint)", (long long)a, (long long)b);
    return r;
}

/* Koka's pown: a^b for b >= 0. Never reached by the program (every power's
 * base is x): a negative exponent, where Koka's int pow and the C++
 * version disagree, is fatal rather than guessed. */
static int64_t pown(int64_t a, int64_t b)
{
    if (b < 0)
        rc_fatal("deriv: pown(%lld, %lld), a negative exponent", (long long)a, (long long)b);
    int64_t r = 1;
    for (; b > 0; b >>= 1) {
        if (b & 1)
            r = checked_mul(r, a);
        if (b > 1)
            a = checked_mul(a, a);
    }
    return r;
}

/* add, mul, powr, ln: steal both operands, return a new reference;
 * Koka's patterns, in order. */
static rc_obj_t *add(rc_obj_t *n0, rc_obj_t *m0, unsigned *ticks)
{
    if (is_val(n0) && is_val(m0)) {
        rc_obj_t *e = mk_val(checked_add(val(n0), val(m0)), ticks);
        rc_decref(n0);
        rc_decref(m0);
        return e;
    }
    if (is_val_of(n0, 0)) {
        rc_decref(n0);
        return m0;
    }
    if (is_val_of(m0, 0)) {
        rc_decref(m0);
        return n0;
    }
    if (is_val(m0))
        return add(m0, n0, ticks);
    if (is_val(n0) && tag(m0) == ADD && is_val(left(m0))) {
        rc_obj_t *v = mk_val(checked_add(val(n0), val(left(m0))), ticks), *f = dup(right(m0));
        rc_decref(n0);
        rc_decref(m0);
        return add(v, f, ticks);
    }
    if (tag(m0) == ADD && is_val(left(m0))) {
        rc_obj_t *v = dup(left(m0)), *g = dup(right(m0));
        rc_decref(m0);
        return add(v, add(n0, g, ticks), ticks);
    }
    if (tag(n0) == ADD) {
        rc_obj_t *f = dup(left(n0)), *g = dup(right(n0));
        rc_decref(n0);
        return add(f, add(g, m0, ticks), ticks);
    }
    return mk_bin(ADD, n0, m0, ticks);
}

static rc_obj_t *mul(rc_obj_t *n0, rc_obj_t *m0, unsigned *ticks)
{
    if (is_val(n0) && is_val(m0)) {
        rc_obj_t *e = mk_val(checked_mul(val(n0), val(m0)), ticks);
        rc_decref(n0);
        rc_decref(m0);
        return e;
    }
    if (is_val_of(n0, 0) || is_val_of(m0, 0)) {
        rc_decref(n0);
        rc_decref(m0);
        return mk_val(0, ticks);
    }
    if (is_val_of(n0, 1)) {
        rc_decref(n0);
        return m0;
    }
    if (is_val_of(m0, 1)) {
        rc_decref(m0);
        return n0;
    }
    if (is_val(m0))
        return mul(m0, n0, ticks);
    if (is_val(n0) && tag(m0) == MUL && is_val(left(m0))) {
        rc_obj_t *v = mk_val(checked_mul(val(n0), val(left(m0))), ticks), *f = dup(right(m0));
        rc_decref(n0);
        rc_decref(m0);
        return mul(v, f, ticks);
    }
    if (tag(m0) == MUL && is_val(left(m0))) {
        rc_obj_t *v = dup(left(m0)), *g = dup(right(m0));
        rc_decref(m0);
        return mul(v, mul(n0, g, ticks), ticks);
    }
    if (tag(n0) == MUL) {
        rc_obj_t *f = dup(left(n0)), *g = dup(right(n0));
        rc_decref(n0);
        return mul(f, mul(g, m0, ticks), ticks);
    }
    return mk_bin(MUL, n0, m0, ticks);
}

static rc_obj_t *powr(rc_obj_t *m0, rc_obj_t *n0, unsigned *ticks)
{
    rc_obj_t *e;
    if (is_val(m0) && is_val(n0))
        e = mk_val(pown(val(m0), val(n0)), ticks);
    else if (is_val_of(n0, 0))
        e = mk_val(1, ticks);
    else if (is_val_of(n0, 1)) {
        rc_decref(n0);
        return m0;
    } else if (is_val_of(m0, 0))
        e = mk_val(0, ticks);
    else
        return mk_bin(POW, m0, n0, ticks);
    rc_decref(m0);
    rc_decref(n0);
    return e;
}

static rc_obj_t *ln(rc_obj_t *n, unsigned *ticks)
{
    if (is_val_of(n, 1)) {
        rc_decref(n);
        return mk_val(0, ticks);
    }
    return mk_un(LN, n, ticks);
}

/* The derivative of e (borrowed) in x: a new reference, sharing e's
 * subexpressions. Operands are evaluated left to right, as Koka does. */
static rc_obj_t *d(int64_t x, const rc_obj_t *e, unsigned *ticks)
{
    switch (tag(e)) {
    case VAL:
        return mk_val(0, ticks);
    case VAR:
        return mk_val(val(e) == x ? 1 : 0, ticks);
    case ADD: {
        rc_obj_t *df = d(x, left(e), ticks);
        return add(df, d(x, right(e), ticks), ticks);
    }
    case MUL: {
        rc_obj_t *f = left(e), *g = right(e);
        rc_obj_t *a = mul(dup(f), d(x, g, ticks), ticks);
        return add(a, mul(dup(g), d(x, f, ticks), ticks), ticks);
    }
    case POW: {
        rc_obj_t *f = left(e), *g = right(e);
        rc_obj_t *p = powr(dup(f), dup(g), ticks);
        rc_obj_t *gdf = mul(dup(g), d(x, f, ticks), ticks);
        rc_obj_t *a = mul(gdf, powr(dup(f), mk_val(-1, ticks), ticks), ticks);
        rc_obj_t *lf = ln(dup(f), ticks);
        rc_obj_t *b = mul(lf, d(x, g, ticks), ticks);
        return mul(p, add(a, b, ticks), ticks);
    }
    case LN: {
        rc_obj_t *f = left(e);
        rc_obj_t *df = d(x, f, ticks);
        return mul(df, powr(dup(f), mk_val(-1, ticks), ticks), ticks);
    }
    }
    rc_fatal("deriv: a node of tag %lld", (long long)tag(e));
}

/* Koka's count: the leaves of e (borrowed), a shared one once per path. */
static uint64_t count(const rc_obj_t *e, unsigned *ticks)
{
    tick(ticks);
    switch (tag(e)) {
    case VAL:
    case VAR:
        return 1;
    case LN:
        return count(left(e), ticks);
    default:
        return count(left(e), ticks) + count(right(e), ticks);
    }
}

/* x^x (a new reference), as Koka's main makes it: powr(x, x). */
static rc_obj_t *start(unsigned *ticks)
{
    rc_obj_t *x = mk_var(VAR_X, ticks);
    return powr(dup(x), x, ticks);
}

/* e (stolen) differentiated `times` times: a new reference; *last: the
 * last derivative's count (unchanged when times is 0). */
static rc_obj_t *nest(rc_obj_t *e, uint64_t times, uint64_t *last, unsigned *ticks)
{
    for (uint64_t i = 0; i < times; i++) {
        rc_obj_t *de = d(VAR_X, e, ticks);
        *last = count(de, ticks);
        rc_decref(e);
        e = de;
    }
    return e;
}

static void *dv_setup_as(const char *program, bool shared, const bench_params_t *p, unsigned threads)
{
    dv_ctx_t *c = bench_must_mem(malloc(sizeof *c));
    c->n = bench_program_size("deriv", p);
    if (c->n == 0)
        rc_fatal("deriv: the nest count must be at least 1");
    c->shared = NULL;
    if (shared) {
        unsigned ticks = 0;
        uint64_t last = 0;
        c->shared = nest(start(&ticks), c->n - 1, &last, &ticks);
    }
    c->answers = bench_answers_new(program, c->n, threads);
    return c;
}

static void *dv_setup(const bench_params_t *p, unsigned threads) { return dv_setup_as("deriv", false, p, threads); }
static void *dv_shared_setup(const bench_params_t *p, unsigned threads)
{
    return dv_setup_as("deriv_shared", true, p, threads);
}

static void dv_teardown(void *ctx)
{
    dv_ctx_t *c = ctx;
    if (c->shared)
        rc_decref(c->shared);
    bench_answers_free(c->answers);
    free(c);
}

static const char *dv_verdict(void *ctx) { return bench_answers_verdict(((dv_ctx_t *)ctx)->answers); }

static uint64_t deriv(void *ctx, unsigned thread, uint64_t n)
{
    dv_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        unsigned ticks = 0;
        uint64_t got = 0;
        rc_decref(nest(start(&ticks), c->n, &got, &ticks));
        bench_answers_check(c->answers, thread, got);
        sum += got;
    }
    return sum;
}

static uint64_t deriv_shared(void *ctx, unsigned thread, uint64_t n)
{
    dv_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        unsigned ticks = 0;
        rc_obj_t *de = d(VAR_X, c->shared, &ticks);   /* increfs shared subexpressions */
        uint64_t got = count(de, &ticks);
        rc_decref(de);
        bench_answers_check(c->answers, thread, got);
        sum += got;
    }
    return sum;
}

static const bench_workload_t programs[] = {
    { .name = "deriv", .op = "run of deriv (x^x differentiated N times, each counted)", .ops_per_iter = 1,
      .setup = dv_setup, .run = deriv, .teardown = dv_teardown, .verdict = dv_verdict, .acyclic = true,
      .unit = BENCH_UNIT_RUN },
    { .name = "deriv_shared", .op = "run of deriv's last step on one expression all threads share",
      .ops_per_iter = 1, .setup = dv_shared_setup, .run = deriv_shared, .teardown = dv_teardown,
      .verdict = dv_verdict, .acyclic = true,
      .unit = BENCH_UNIT_RUN },
};
const bench_family_t bench_deriv_family = BENCH_FAMILY(programs);
