/* bench/workloads/cfold.c — Koka's test/bench/koka/cfold.kk (after Lean's
 * IFL'19 const_fold.hs): mk_expr(N, 1) builds a perfect tree of Add of
 * depth N over 2^N leaves (Val(v), or Var(1) where v reaches 0); eval
 * gives v1; reassoc turns every chain of Add into one right-leaning list
 * (append_add copies the left list's spine onto the right one: no reuse,
 * every step a new node, the old spine dropped), cfold folds constants,
 * eval of the result gives v2. Koka prints v1 and v2, which are equal;
 * each run checks both: 396354 at N = 17, 3447966 at N = 20. Int64 holds
 * every value (Koka's are bigints): only Add is made and no leaf is
 * negative, so v1 bounds every sum; an overflow would be fatal. A node's
 * value is its tag; Val and Var hold an int in slot 0 (immortal when
 * small, as Python's), Add and Mul their operands. Recursion only where
 * Koka's is on the balanced tree (mk_expr, reassoc: depth N); the list is
 * 2^N long, so append_add loops and cfold and eval use explicit stacks
 * (kept per thread across runs, as a program keeps its arrays).
 *
 *   cfold   T independent runs, one per thread.
 * Threading: bench/workloads/workloads.h; a thread's expressions and
 * stacks are its own. A safepoint every 256 nodes made or visited.
 */
#include <stdlib.h>

#include "bench/workloads/workloads.h"

enum { VAL, VAR, ADD, MUL };             /* a node's value */

/* A thread's explicit stacks for cfold and eval (work to do, results);
 * grown, never shrunk. */
typedef struct cf_frame { rc_obj_t *e; int64_t v; } cf_frame_t;
typedef struct cf_stack { cf_frame_t *f; size_t cap, sp; } cf_stack_t;
typedef struct cf_stacks {
    cf_stack_t work, done;
    char pad[16];                        /* one line per thread */
} cf_stacks_t;

typedef struct cf_ctx {
    uint64_t n, answer;
    bench_answers_t *answers;
    unsigned threads;
    cf_stacks_t stacks[];                /* one per thread, written only by it */
} cf_ctx_t;

typedef struct cf_run {
    unsigned ticks;
    cf_stacks_t *stacks;
} cf_run_t;

static inline void tick(cf_run_t *r)
{
    if ((++r->ticks & 255) == 0)
        rc_safepoint();
}

static inline int64_t tag(const rc_obj_t *e) { return ((const rc_node_t *)e)->value; }
static inline rc_obj_t *left(const rc_obj_t *e) { return rc_node_get(e, 0); }
static inline rc_obj_t *right(const rc_obj_t *e) { return rc_node_get(e, 1); }
static inline int64_t val(const rc_obj_t *e) { return rc_int_value(rc_node_get(e, 0)); }
static inline rc_obj_t *dup(rc_obj_t *e)
{
    rc_incref(e);
    return e;
}

/* Constructors: a new reference; mk_bin steals its operands (r may be
 * NULL, a slot filled later). */
static rc_obj_t *mk_leaf(int64_t t, int64_t v, cf_run_t *r)
{
    rc_obj_t *e = must(rc_node_new(1, t));
    rc_node_set(e, 0, must(rc_int_new(v)));    /* immortal when small: no count written */
    tick(r);
    return e;
}

static rc_obj_t *mk_bin(int64_t t, rc_obj_t *a, rc_obj_t *b, cf_run_t *r)
{
    rc_obj_t *e = must(rc_node_new(2, t));
    rc_node_set(e, 0, a);
    rc_node_set(e, 1, b);
    tick(r);
    return e;
}

/* a + b or a * b (op ADD or MUL), where Koka would go to a bigint: fatal. */
static int64_t arith(int64_t op, int64_t a, int64_t b)
{
    int64_t x;
    if (op == ADD ? __builtin_add_overflow(a, b, &x) : __builtin_mul_overflow(a, b, &x))
        rc_fatal("cfold: %lld %c %lld leaves int64", (long long)a, op == ADD ? '+' : '*', (long long)b);
    return x;
}

static inline void push(cf_stack_t *s, rc_obj_t *e, int64_t v)
{
    if (RC_UNLIKELY(s->sp == s->cap)) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->f = bench_must_mem(realloc(s->f, s->cap * sizeof *s->f));
    }
    s->f[s->sp++] = (cf_frame_t){ e, v };
}

static inline cf_frame_t pop(cf_stack_t *s) { return s->f[--s->sp]; }

static rc_obj_t *mk_expr(uint64_t n, int64_t v, cf_run_t *r)
{
    if (n == 0)
        return v == 0 ? mk_leaf(VAR, 1, r) : mk_leaf(VAL, v, r);
    rc_obj_t *a = mk_expr(n - 1, v + 1, r);
    return mk_bin(ADD, a, mk_expr(n - 1, v > 1 ? v - 1 : 0, r), r);
}

/* Koka's append_add/append_mul (op): e0's spine of op nodes copied, e3 at
 * its end; steals e0 and e3. A loop: e0 may be a list of any length. */
static rc_obj_t *append(int64_t op, rc_obj_t *e0, rc_obj_t *e3, cf_run_t *r)
{
    rc_obj_t *root = NULL, *last = NULL, *cur = e0;
    for (;;) {
        bool more = tag(cur) == op;
        rc_obj_t *n = more ? mk_bin(op, dup(left(cur)), NULL, r) : mk_bin(op, dup(cur), e3, r);
        if (last)
            rc_node_set(last, 1, n);          /* the empty slot: drops nothing */
        else
            root = n;
        if (!more)
            break;
        last = n;
        cur = right(cur);
    }
    rc_decref(e0);                            /* e0's spine (borrowed above) goes now */
    return root;
}

/* Koka's reassoc: steals e. Recursion on mk_expr's tree (depth N). */
static rc_obj_t *reassoc(rc_obj_t *e, cf_run_t *r)
{
    int64_t t = tag(e);
    if (t != ADD && t != MUL)
        return e;
    rc_obj_t *e1 = dup(left(e)), *e2 = dup(right(e));
    rc_decref(e);
    rc_obj_t *a = reassoc(e1, r);
    return append(t, a, reassoc(e2, r), r);
}

/* One step of Koka's cfold on Add/Mul (op) whose operands folded to e1
 * and e2 (stolen). */
static rc_obj_t *fold(int64_t op, rc_obj_t *e1, rc_obj_t *e2, cf_run_t *r)
{
    if (tag(e1) == VAL) {
        int64_t a = val(e1);
        rc_obj_t *e;
        if (tag(e2) == VAL)
            e = mk_leaf(VAL, arith(op, a, val(e2)), r);
        else if (tag(e2) == op && tag(right(e2)) == VAL)
            e = mk_bin(op, mk_leaf(VAL, arith(op, a, val(right(e2))), r), dup(left(e2)), r);
        else if (tag(e2) == op && tag(left(e2)) == VAL)
            e = mk_bin(op, mk_leaf(VAL, arith(op, a, val(left(e2))), r), dup(right(e2)), r);
        else
            return mk_bin(op, e1, e2, r);
        rc_decref(e1);
        rc_decref(e2);
        return e;
    }
    return mk_bin(op, e1, e2, r);
}

enum { EXPAND = -1 };                    /* a work frame: the node e still to do */

/* Koka's cfold: steals e. Post-order on the stacks: a work frame expands
 * a node (its operands to do, then its fold) or folds the last two
 * results (v: the operator). */
static rc_obj_t *cfold(rc_obj_t *e, cf_run_t *r)
{
    cf_stack_t *work = &r->stacks->work, *done = &r->stacks->done;
    push(work, e, EXPAND);
    while (work->sp) {
        cf_frame_t f = pop(work);
        tick(r);
        if (f.v != EXPAND) {
            rc_obj_t *e2 = pop(done).e, *e1 = pop(done).e;
            push(done, fold(f.v, e1, e2, r), 0);
            continue;
        }
        int64_t t = tag(f.e);
        if (t != ADD && t != MUL) {
            push(done, f.e, 0);               /* a leaf folds to itself */
            continue;
        }
        rc_obj_t *e1 = dup(left(f.e)), *e2 = dup(right(f.e));
        rc_decref(f.e);
        push(work, NULL, t);
        push(work, e2, EXPAND);
        push(work, e1, EXPAND);               /* on top: folded first, as Koka */
    }
    return pop(done).e;
}

/* Koka's eval of e (borrowed), on the stacks as cfold. */
static int64_t eval(rc_obj_t *e, cf_run_t *r)
{
    cf_stack_t *work = &r->stacks->work, *done = &r->stacks->done;
    push(work, e, EXPAND);
    while (work->sp) {
        cf_frame_t f = pop(work);
        tick(r);
        if (f.v != EXPAND) {
            int64_t b = pop(done).v, a = pop(done).v;
            push(done, NULL, arith(f.v, a, b));
            continue;
        }
        switch (tag(f.e)) {
        case VAR:
            push(done, NULL, 0);
            break;
        case VAL:
            push(done, NULL, val(f.e));
            break;
        default:
            push(work, NULL, tag(f.e));
            push(work, right(f.e), EXPAND);
            push(work, left(f.e), EXPAND);
        }
    }
    return pop(done).v;
}

/* One whole run at depth n: v1 (eval of the tree) and v2 (eval of it
 * reassociated and folded), which Koka prints. */
static void cf_run(uint64_t n, cf_run_t *r, int64_t *v1, int64_t *v2)
{
    rc_obj_t *e = mk_expr(n, 1, r);
    *v1 = eval(e, r);
    rc_obj_t *c = cfold(reassoc(e, r), r);
    *v2 = eval(c, r);
    rc_decref(c);
}

static void *cf_setup(const bench_params_t *p, unsigned threads)
{
    cf_ctx_t *c = bench_must_mem(calloc(1, sizeof *c + threads * sizeof c->stacks[0]));
    c->n = bench_program_size("cfold", p);
    if (c->n > 40)
        rc_fatal("cfold: depth %llu is beyond any memory", (unsigned long long)c->n);
    c->threads = threads;
    c->answers = bench_answers_new("cfold", c->n, threads);
    if (!bench_program_answer("cfold", c->n, &c->answer))
        rc_fatal("cfold: no answer at %llu", (unsigned long long)c->n);
    return c;
}

static void cf_teardown(void *ctx)
{
    cf_ctx_t *c = ctx;
    for (unsigned t = 0; t < c->threads; t++) {
        free(c->stacks[t].work.f);
        free(c->stacks[t].done.f);
    }
    bench_answers_free(c->answers);
    free(c);
}

static const char *cf_verdict(void *ctx) { return bench_answers_verdict(((cf_ctx_t *)ctx)->answers); }

/* Each run checks both of Koka's figures: the first wrong one, else v2. */
static uint64_t cfold_program(void *ctx, unsigned thread, uint64_t n)
{
    cf_ctx_t *c = ctx;
    cf_run_t r = { .ticks = 0, .stacks = &c->stacks[thread] };
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        int64_t v1, v2;
        cf_run(c->n, &r, &v1, &v2);
        bench_answers_check(c->answers, thread, (uint64_t)v1 != c->answer ? (uint64_t)v1 : (uint64_t)v2);
        sum += (uint64_t)v2;
    }
    return sum;
}

static const bench_workload_t programs[] = {
    { .name = "cfold", .op = "run of cfold (build, reassociate, fold, evaluate)", .ops_per_iter = 1,
      .setup = cf_setup, .run = cfold_program, .teardown = cf_teardown, .verdict = cf_verdict, .acyclic = true,
      .unit = BENCH_UNIT_RUN },
};
const bench_family_t bench_cfold_family = BENCH_FAMILY(programs);
