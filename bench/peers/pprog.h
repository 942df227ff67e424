/* bench/peers/pprog.h — the programs (BENCH_FOR_EACH_PROGRAM) over plain
 * structs, for the C peers: a program's context and answer checking
 * (every peer, every program), and binarytrees and cfold written once for
 * the two peers that run them, none (malloc/free) and boehm (GC_MALLOC).
 *
 * The second part is a template: a file defines PPROG_NEW(bytes) (a node,
 * never NULL), PPROG_FREES (1: PPROG_FREE(p, bytes) frees a node; 0: a
 * collector reclaims them, and dropping a structure walks nothing), and
 * PPROG_STACK_GROW(p, bytes) / PPROG_STACK_FREE(p) (cfold's explicit stack:
 * it holds nodes, so a collector must scan it), then includes this header
 * once; each call inlines, as rcbench's flavours do, with no indirect
 * call per node. The algorithms are Koka's (koka-lang/koka test/bench/
 * koka/binarytrees.kk, cfold.kk): every node Koka's code builds is one
 * PPROG_NEW; every node it takes apart and drops is one PPROG_FREE (Perceus
 * without reuse, by hand: ownership is unique in both programs).
 * Threading: each run's nodes are its thread's own.
 */
#ifndef RC_BENCH_PEERS_PPROG_H
#define RC_BENCH_PEERS_PPROG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "bench/bench.h"

/* The C peers' program families (bench/peers/programs_<peer>.c). */
extern const bench_family_t bench_none_programs_family;
extern const bench_family_t bench_boehm_programs_family;

/* A program's run: its size and the answers of every thread's runs. */
typedef struct pprog_ctx {
    uint64_t n;
    unsigned threads;
    bench_answers_t *answers;
} pprog_ctx_t;

/* C for PROGRAM (or a variant of it), at the size of SIZE_OF (a
 * BENCH_FOR_EACH_PROGRAM name: rbtree_shared runs at rbtree's). */
static inline void pprog_ctx_init(pprog_ctx_t *c, const char *program, const char *size_of, const bench_params_t *p,
                                  unsigned threads)
{
    c->n = bench_program_size(size_of, p);
    c->threads = threads;
    c->answers = bench_answers_new(program, c->n, threads);
}

static inline pprog_ctx_t *pprog_ctx_new(const char *program, const bench_params_t *p, unsigned threads)
{
    pprog_ctx_t *c = bench_must_mem(malloc(sizeof *c));
    pprog_ctx_init(c, program, program, p, threads);
    return c;
}

static inline void pprog_teardown(void *ctx)
{
    pprog_ctx_t *c = ctx;
    bench_answers_free(c->answers);
    free(c);
}

static inline const char *pprog_verdict(void *ctx) { return bench_answers_verdict(((pprog_ctx_t *)ctx)->answers); }

/* A setup function for PROGRAM (its name in BENCH_FOR_EACH_PROGRAM). */
#define PPROG_SETUP(fn, program) \
    static void *fn(const bench_params_t *p, unsigned threads) { return pprog_ctx_new(program, p, threads); }

/* The benchmarks game's binary trees (as Koka's binarytrees.kk): a tree is
 * a node with two subtrees, Tip (NULL) at the bottom. */
typedef struct pbt {
    struct pbt *l, *r;
} pbt_t;

/* cfold's expressions (Koka's cfold.kk): Var and Val carry an int, Add and
 * Mul two subexpressions. */
typedef enum { CF_VAR, CF_VAL, CF_ADD, CF_MUL } cf_kind_t;
typedef struct cexpr {
    cf_kind_t kind;
    union {
        int64_t v;                           /* CF_VAR, CF_VAL */
        struct { struct cexpr *l, *r; };     /* CF_ADD, CF_MUL */
    };
} cexpr_t;

#endif /* RC_BENCH_PEERS_PPROG_H */

/* ---- the template: binarytrees and cfold ------------------------------------------- */

#ifdef PPROG_NEW
#ifdef PPROG_TEMPLATE_DONE
#error "bench/peers/pprog.h: the template is included once per file"
#endif
#define PPROG_TEMPLATE_DONE

/* binarytrees ------------------------------------------------------------------------ */

/* A perfect tree of DEPTH (make-rec: depth 0 is one node over two Tips;
 * the children made before their parent, as Koka evaluates them). */
static pbt_t *pbt_make(unsigned depth)
{
    pbt_t *l = depth > 0 ? pbt_make(depth - 1) : NULL;
    pbt_t *r = depth > 0 ? pbt_make(depth - 1) : NULL;
    pbt_t *t = PPROG_NEW(sizeof *t);
    t->l = l;
    t->r = r;
    return t;
}

/* Its nodes (Koka's check); the recursion is as deep as the tree. */
static uint64_t pbt_check(const pbt_t *t) { return t ? pbt_check(t->l) + pbt_check(t->r) + 1 : 0; }

/* Drops a tree: a node, then its children, as a count reaching zero does. */
static void pbt_drop(pbt_t *t)
{
    while (PPROG_FREES && t) {
        pbt_t *l = t->l, *r = t->r;
        PPROG_FREE(t, sizeof *t);
        pbt_drop(l);
        t = r;
    }
}

static uint64_t pbt_made_checked(unsigned depth)
{
    pbt_t *t = pbt_make(depth);
    uint64_t check = pbt_check(t);
    pbt_drop(t);
    return check;
}

/* One run at max depth N (the benchmarks game's rules, min depth 4): the
 * sum of every check figure it prints (stretch tree, each depth's trees,
 * long-lived tree). */
static uint64_t pprog_binarytrees(uint64_t n)
{
    const unsigned min_depth = 4, max_depth = n > min_depth + 2 ? (unsigned)n : min_depth + 2;
    uint64_t sum = pbt_made_checked(max_depth + 1);            /* the stretch tree */
    pbt_t *long_lived = pbt_make(max_depth);
    for (unsigned d = min_depth; d <= max_depth; d += 2) {
        uint64_t iterations = UINT64_C(1) << (max_depth - d + min_depth);
        for (uint64_t i = 0; i < iterations; i++)
            sum += pbt_made_checked(d);
    }
    sum += pbt_check(long_lived);
    pbt_drop(long_lived);
    return sum;
}

/* cfold ------------------------------------------------------------------------------ */

static inline cexpr_t *cf_leaf(cf_kind_t kind, int64_t v)
{
    cexpr_t *e = PPROG_NEW(sizeof *e);
    e->kind = kind;
    e->v = v;
    return e;
}

static inline cexpr_t *cf_op(cf_kind_t kind, cexpr_t *l, cexpr_t *r)
{
    cexpr_t *e = PPROG_NEW(sizeof *e);
    e->kind = kind;
    e->l = l;
    e->r = r;
    return e;
}

static inline bool cf_is_op(const cexpr_t *e) { return e->kind == CF_ADD || e->kind == CF_MUL; }

/* mk_expr: a perfect tree of Adds N deep (recursion N deep). */
static cexpr_t *cf_make(int64_t n, int64_t v)
{
    if (n == 0)
        return v == 0 ? cf_leaf(CF_VAR, 1) : cf_leaf(CF_VAL, v);
    cexpr_t *l = cf_make(n - 1, v + 1);
    return cf_op(CF_ADD, l, cf_make(n - 1, v > 1 ? v - 1 : 0));
}

/* eval, borrowing: a loop down the right spine (a reassociated expression
 * is a spine as long as it has leaves), recursion only to the left. The
 * spine so far is acc + mul * (the rest); wrapping arithmetic, as the
 * values stay far inside int64 (3447966 at depth 20). */
static uint64_t cf_eval(const cexpr_t *e)
{
    uint64_t acc = 0, mul = 1;
    for (; cf_is_op(e); e = e->r) {
        if (e->kind == CF_ADD)
            acc += mul * cf_eval(e->l);
        else
            mul *= cf_eval(e->l);
    }
    return acc + mul * (e->kind == CF_VAL ? (uint64_t)e->v : 0);
}

/* append_add/append_mul, consuming E0: its KIND spine copied, E3 at the
 * end; a loop with a hole where Koka's is tail recursive modulo cons. */
static cexpr_t *cf_append(cf_kind_t kind, cexpr_t *e0, cexpr_t *e3)
{
    cexpr_t *head, **hole = &head;
    while (e0->kind == kind) {
        cexpr_t *next = e0->r;
        *hole = cf_op(kind, e0->l, NULL);
        hole = &(*hole)->r;
        PPROG_FREE(e0, sizeof *e0);
        e0 = next;
    }
    *hole = cf_op(kind, e0, e3);
    return head;
}

/* reassoc, consuming E: recursion as deep as E (mk_expr's tree: N). */
static cexpr_t *cf_reassoc(cexpr_t *e)
{
    if (!cf_is_op(e))
        return e;
    cf_kind_t kind = e->kind;
    cexpr_t *l = e->l, *r = e->r;
    PPROG_FREE(e, sizeof *e);
    l = cf_reassoc(l);
    return cf_append(kind, l, cf_reassoc(r));
}

/* One step of cfold: the folded children A and B of a KIND node, consumed
 * (Koka's inner match, its cases in its order). */
static cexpr_t *cf_fold_step(cf_kind_t kind, cexpr_t *a, cexpr_t *b)
{
    if (a->kind != CF_VAL)
        return cf_op(kind, a, b);
    const uint64_t x = (uint64_t)a->v;
#define CF_APPLY(y) (int64_t)(kind == CF_ADD ? x + (uint64_t)(y) : x * (uint64_t)(y))
    if (b->kind == CF_VAL) {                                   /* Val(a+b) */
        cexpr_t *e = cf_leaf(CF_VAL, CF_APPLY(b->v));
        PPROG_FREE(a, sizeof *a);
        PPROG_FREE(b, sizeof *b);
        return e;
    }
    if (b->kind == kind && (b->r->kind == CF_VAL || b->l->kind == CF_VAL)) {
        bool right = b->r->kind == CF_VAL;                    /* Add(f,Val(b)) first, then Add(Val(b),f) */
        cexpr_t *val = right ? b->r : b->l, *f = right ? b->l : b->r;
        cexpr_t *e = cf_op(kind, cf_leaf(CF_VAL, CF_APPLY(val->v)), f);
        PPROG_FREE(a, sizeof *a);
        PPROG_FREE(val, sizeof *val);
        PPROG_FREE(b, sizeof *b);
        return e;
    }
#undef CF_APPLY
    return cf_op(kind, a, b);
}

/* cfold, consuming E: Koka's recursion folds the left child, then the
 * right, then combines. A reassociated expression's right spine is as long
 * as its leaves (2^N), so the spine is walked with an explicit stack of
 * (kind, folded left child) and combined from its end back; recursion
 * only to the left. */
typedef struct cf_frame {
    cexpr_t *left;
    cf_kind_t kind;
} cf_frame_t;

static cexpr_t *cf_fold(cexpr_t *e)
{
    cf_frame_t *stack = NULL;
    size_t depth = 0, cap = 0;
    while (cf_is_op(e)) {
        if (depth == cap) {
            cap = cap ? 2 * cap : 256;
            stack = PPROG_STACK_GROW(stack, cap * sizeof *stack);
        }
        cf_kind_t kind = e->kind;
        cexpr_t *l = e->l, *r = e->r;
        PPROG_FREE(e, sizeof *e);
        stack[depth].left = cf_fold(l);
        stack[depth++].kind = kind;
        e = r;
    }
    while (depth > 0) {
        depth--;
        e = cf_fold_step(stack[depth].kind, stack[depth].left, e);
        stack[depth].left = NULL;                              /* a collector must not see it any more */
    }
    if (stack)
        PPROG_STACK_FREE(stack);
    return e;
}

/* Drops an expression: a loop down the right spine, recursion left. */
static void cf_drop(cexpr_t *e)
{
    while (PPROG_FREES && e) {
        cexpr_t *next = NULL;
        if (cf_is_op(e)) {
            cf_drop(e->l);
            next = e->r;
        }
        PPROG_FREE(e, sizeof *e);
        e = next;
    }
}

/* One run at depth N: Koka prints eval of the expression and of it
 * reassociated and folded; they agree, so *before is the first and the
 * result the second. */
static uint64_t pprog_cfold(uint64_t n, uint64_t *before)
{
    cexpr_t *e = cf_make((int64_t)n, 1);
    *before = cf_eval(e);
    e = cf_fold(cf_reassoc(e));
    uint64_t after = cf_eval(e);
    cf_drop(e);
    return after;
}

/* The template's two kernels, one run an operation, each answer checked
 * (cfold's unfolded value too). */
static uint64_t pprog_binarytrees_run(void *ctx, unsigned thread, uint64_t n)
{
    pprog_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t got = pprog_binarytrees(c->n);
        bench_answers_check(c->answers, thread, got);
        sum += got;
    }
    return sum;
}

static uint64_t pprog_cfold_run(void *ctx, unsigned thread, uint64_t n)
{
    pprog_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t before, got = pprog_cfold(c->n, &before);
        bench_answers_check(c->answers, thread, got);
        if (before != got)
            bench_answers_check(c->answers, thread, before);
        sum += got;
    }
    return sum;
}

#endif /* PPROG_NEW */
