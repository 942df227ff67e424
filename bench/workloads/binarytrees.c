/* bench/workloads/binarytrees.c — the benchmarks game's binary-trees, as
 * Koka's test/bench/koka/binarytrees.kk runs it: max depth N (at least
 * min depth 4 + 2); a stretch tree of depth N + 1 made, checked, dropped;
 * a long-lived tree of depth N made; for d = 4, 6, ..., N, 2^(N - d + 4)
 * trees of depth d made, checked, dropped; the long-lived tree checked
 * and dropped last. A tree is 2-slot nodes (a leaf: both slots NULL),
 * made top-down as Koka's make-rec (children first, then their parent;
 * recursion depth N); check counts its nodes (2^(d+1) - 1 at depth d).
 * The answer is the sum of every check figure the game prints (stretch,
 * each depth's, long-lived): 3222190 at N = 14. The trees are acyclic:
 * the cycle detector's collections are off, as for every program
 * (bench_workload_t.acyclic); every node is still tracked.
 *
 *   binarytrees      T independent runs, one per thread;
 *   binarytrees_gc   the same with the collections on.
 * Threading: bench/workloads/workloads.h; each thread's trees are its own.
 * A thread passes a safepoint every 256 nodes made or checked.
 */
#include <stdlib.h>

#include "bench/workloads/workloads.h"

enum { BT_MIN_DEPTH = 4 };

typedef struct bt_ctx {
    unsigned max_depth;                  /* N, at least BT_MIN_DEPTH + 2 */
    bench_answers_t *answers;
} bt_ctx_t;

/* Every 256 calls, a safepoint (a node made or checked). */
static inline void tick(unsigned *ticks)
{
    if ((++*ticks & 255) == 0)
        rc_safepoint();
}

/* A perfect tree of `depth` (a new reference): its children made first. */
static rc_obj_t *bt_make(unsigned depth, unsigned *ticks)
{
    rc_obj_t *l = NULL, *r = NULL;
    if (depth > 0) {
        l = bt_make(depth - 1, ticks);
        r = bt_make(depth - 1, ticks);
    }
    rc_obj_t *n = must(rc_node_new(2, 0));
    rc_node_set(n, 0, l);
    rc_node_set(n, 1, r);
    tick(ticks);
    return n;
}

/* The nodes of t (borrowed). */
static uint64_t bt_check(const rc_obj_t *t, unsigned *ticks)
{
    tick(ticks);
    const rc_obj_t *l = rc_node_get(t, 0);
    return l ? 1 + bt_check(l, ticks) + bt_check(rc_node_get(t, 1), ticks) : 1;
}

/* One whole run at max depth n: the sum of its check figures. */
static uint64_t bt_run(unsigned n)
{
    unsigned ticks = 0;
    rc_obj_t *t = bt_make(n + 1, &ticks);                         /* stretch */
    uint64_t sum = bt_check(t, &ticks);
    rc_decref(t);
    rc_obj_t *long_lived = bt_make(n, &ticks);
    for (unsigned d = BT_MIN_DEPTH; d <= n; d += 2) {
        const uint64_t iterations = UINT64_C(1) << (n - d + BT_MIN_DEPTH);
        for (uint64_t i = 0; i < iterations; i++) {
            t = bt_make(d, &ticks);
            sum += bt_check(t, &ticks);
            rc_decref(t);
        }
    }
    sum += bt_check(long_lived, &ticks);
    rc_decref(long_lived);
    return sum;
}

static void *bt_setup(const bench_params_t *p, unsigned threads)
{
    bt_ctx_t *c = bench_must_mem(malloc(sizeof *c));
    uint64_t n = bench_program_size("binarytrees", p);
    if (n > 40)
        rc_fatal("binarytrees: depth %llu is beyond any memory", (unsigned long long)n);
    c->max_depth = n < BT_MIN_DEPTH + 2 ? BT_MIN_DEPTH + 2 : (unsigned)n;
    c->answers = bench_answers_new("binarytrees", n, threads);
    return c;
}

static void bt_teardown(void *ctx)
{
    bt_ctx_t *c = ctx;
    bench_answers_free(c->answers);
    free(c);
}

static const char *bt_verdict(void *ctx) { return bench_answers_verdict(((bt_ctx_t *)ctx)->answers); }

static uint64_t binarytrees(void *ctx, unsigned thread, uint64_t n)
{
    bt_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t got = bt_run(c->max_depth);
        bench_answers_check(c->answers, thread, got);
        sum += got;
    }
    return sum;
}

static const bench_workload_t programs[] = {
    { .name = "binarytrees", .op = "run of binarytrees (the benchmarks game's, every tree checked)",
      .ops_per_iter = 1, .setup = bt_setup, .run = binarytrees, .teardown = bt_teardown,
      .verdict = bt_verdict, .acyclic = true,
      .unit = BENCH_UNIT_RUN },
    /* The same with the cycle detector on (the programs are acyclic and
     * run with it off): what a collector that cannot know so costs. */
    { .name = "binarytrees_gc", .op = "run of binarytrees with the cycle detector on",
      .ops_per_iter = 1, .setup = bt_setup, .run = binarytrees, .teardown = bt_teardown,
      .verdict = bt_verdict,
      .unit = BENCH_UNIT_RUN },
};
const bench_family_t bench_binarytrees_family = BENCH_FAMILY(programs);
