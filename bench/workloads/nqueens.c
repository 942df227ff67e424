/* bench/workloads/nqueens.c — every solution of the n-queens problem, as
 * Koka's test/bench/nqueens (Perceus, PLDI 2021): a solution is a list of
 * queens, each a cons cell (a 2-slot node: the queen, an immortal small
 * int, and the tail); extending a partial solution conses one cell onto it,
 * so the solutions of one row share their tails with those of the last.
 * The answer is the number of solutions (73712 at n = 13).
 *
 *   nqueens         T independent runs, one per thread;
 *   nqueens_shared  one run split by the first queen's column across the
 *                   threads (thread t takes the columns c with c % T == t):
 *                   every thread conses the same immortal small ints.
 * Lists are built by loops (no recursion deeper than nothing), and the
 * last row's list of lists is dropped whole: the object model's iterative
 * dealloc frees every cell no other solution shares.
 * Threading: bench/workloads/workloads.h; each thread's lists are its own.
 */
#include <stdlib.h>

#include "bench/workloads/workloads.h"

typedef struct nq_ctx {
    uint64_t n;
    unsigned threads;
    bench_answers_t *answers;
} nq_ctx_t;

/* A cons cell: steals head (NULL: the empty list) and tail (NULL: end). */
static inline rc_obj_t *cons(rc_obj_t *head, rc_obj_t *tail, unsigned *made)
{
    rc_obj_t *c = must(rc_node_new(2, 0));
    rc_node_set(c, 0, head);
    rc_node_set(c, 1, tail);
    if ((++*made & 255) == 0)
        rc_safepoint();
    return c;
}

/* Can a queen go in column q of the next row, given the queens xs of the
 * rows before it (nearest first)? Reads only: no count changes. */
static bool safe(int64_t q, const rc_obj_t *xs)
{
    for (int64_t d = 1; xs; d++, xs = rc_node_get(xs, 1)) {
        int64_t c = rc_int_value(rc_node_get(xs, 0));
        if (c == q || c == q + d || c == q - d)
            return false;
    }
    return true;
}

/* The solutions with every row placed whose first queen's column c has
 * c % step == first; the number of them. */
static uint64_t queens(int64_t n, int64_t first, int64_t step)
{
    unsigned made = 0;
    rc_obj_t *xss = cons(NULL, NULL, &made);         /* [[]]: one empty partial solution */
    for (int64_t row = 0; row < n; row++) {
        rc_obj_t *acc = NULL;
        for (const rc_obj_t *l = xss; l; l = rc_node_get(l, 1)) {
            rc_obj_t *xs = rc_node_get(l, 0);
            for (int64_t q = n; q >= 1; q--) {
                if (row == 0 && (q - 1) % step != first)
                    continue;
                if (!safe(q, xs))
                    continue;
                rc_obj_t *queen = rc_small_int(q);
                rc_incref(queen);                     /* immortal: never written */
                if (xs)
                    rc_incref(xs);                    /* the tail, now shared */
                acc = cons(cons(queen, xs, &made), acc, &made);
            }
        }
        rc_decref(xss);                               /* the last row's partial solutions */
        xss = acc;
    }
    uint64_t count = 0;
    for (const rc_obj_t *l = xss; l; l = rc_node_get(l, 1))
        count++;
    if (xss)
        rc_decref(xss);
    return count;
}

static void *nq_setup(const bench_params_t *p, unsigned threads)
{
    nq_ctx_t *c = bench_must_mem(malloc(sizeof *c));
    c->n = bench_program_size("nqueens", p);
    if (c->n > 256)
        rc_fatal("nqueens: n = %llu is outside the small-int cache", (unsigned long long)c->n);
    c->threads = threads;
    c->answers = bench_answers_new("nqueens", c->n, threads);
    return c;
}

static void nq_teardown(void *ctx)
{
    nq_ctx_t *c = ctx;
    bench_answers_free(c->answers);
    free(c);
}

static const char *nq_verdict(void *ctx) { return bench_answers_verdict(((nq_ctx_t *)ctx)->answers); }

static uint64_t nqueens(void *ctx, unsigned thread, uint64_t n)
{
    nq_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t got = queens((int64_t)c->n, 0, 1);
        bench_answers_check(c->answers, thread, got);
        sum += got;
    }
    return sum;
}

static uint64_t nqueens_shared(void *ctx, unsigned thread, uint64_t n)
{
    nq_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t got = queens((int64_t)c->n, thread, c->threads);
        bench_answers_part(c->answers, thread, got);
        sum += got;
    }
    return sum;
}

static const bench_workload_t programs[] = {
    { .name = "nqueens", .op = "run of nqueens (every solution, lists sharing tails)", .ops_per_iter = 1,
      .setup = nq_setup, .run = nqueens, .teardown = nq_teardown, .verdict = nq_verdict, .acyclic = true,
      .unit = BENCH_UNIT_RUN },
    { .name = "nqueens_shared", .op = "run of nqueens split by first column across the threads",
      .ops_per_iter = 1, .setup = nq_setup, .run = nqueens_shared, .teardown = nq_teardown,
      .verdict = nq_verdict, .acyclic = true,
      .unit = BENCH_UNIT_RUN },
};
const bench_family_t bench_nqueens_family = BENCH_FAMILY(programs);
