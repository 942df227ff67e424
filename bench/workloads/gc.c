/* bench/workloads/gc.c — the cycle detector's workloads.
 *
 *   cyclic           clusters of 8 nodes, rings and graphs in turn,
 *                    dropped: garbage only the cycle detector frees, at
 *                    its default thresholds;
 *   gc_pause_N       one full collection of a live heap of N = 10k,
 *                    100k, 300k or 1m containers (a list holding N - 1
 *                    lists, every 8th holding itself; the cpython-gc peer
 *                    builds the same in CPython): one op is one
 *                    collection, so ns per op is the pause;
 *   gc_young         young collections at the default thresholds:
 *                    2-tuples of fresh ints appended to a list dropped
 *                    every 10000; one op is one tuple, and the gc columns
 *                    (the strategy's gc_figures) give the pauses.
 * Threading: bench/workloads/workloads.h; gc_pause and gc_young are
 * single-threaded.
 */
#include <stdlib.h>

#include "bench/workloads/workloads.h"
#include "gc/gc.h"

/* ---- cyclic ----------------------------------------------------------------------- */

/* Clusters of 8 two-slot nodes: slot 0 links them in a ring; in every
 * other cluster slot 1 adds a chord to the node 3 ahead, a graph with
 * many cycles. Then the cluster is dropped: garbage only the collector
 * frees, at its default thresholds. */
#define CLUSTER 8

static uint64_t cyclic(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    uint64_t sum = 0;
    for (uint64_t done = 0; done < n; done += CLUSTER) {
        bool graph = (done / CLUSTER) & 1;
        rc_obj_t *nd[CLUSTER];
        for (int i = 0; i < CLUSTER; i++)
            nd[i] = must(rc_node_new(2, i));
        for (int i = 0; i < CLUSTER; i++) {
            rc_obj_t *next = nd[(i + 1) % CLUSTER], *chord = nd[(i + 3) % CLUSTER];
            rc_incref(next);
            rc_node_set(nd[i], 0, next);
            if (graph) {
                rc_incref(chord);
                rc_node_set(nd[i], 1, chord);
            }
        }
        sum += (uint64_t)rc_int_value(nd[0]);
        for (int i = 0; i < CLUSTER; i++)
            rc_decref(nd[i]);                /* ours gone: only the cycles hold them */
        if ((done & 255) < CLUSTER)
            rc_safepoint();
    }
    return sum;
}

/* ---- gc_pause --------------------------------------------------------------------- */

/* The live heap: a list holding n - 1 lists, every 8th of which holds
 * itself (a live cycle; the others are empty), so n tracked containers,
 * all reachable (the cpython-gc peer builds the same shape in CPython).
 * Built with automatic collection off (the build is not measured), then
 * settled in the oldest generation by one full collection; the
 * collector's enabled state is left as it was. Dropping the root leaves
 * the cycles to a collection. */
static void *heap_new(uint64_t n)
{
    bool was = gc_is_enabled();
    gc_disable();
    rc_obj_t *root = must(rc_list_new());
    for (uint64_t i = 1; i < n; i++) {
        rc_obj_t *l = must(rc_list_new());
        if (!rc_list_append(root, l) || ((i - 1) % 8 == 0 && !rc_list_append(l, l)))
            must(NULL);
        rc_decref(l);
        if ((i & 4095) == 0)
            rc_safepoint();
    }
    gc_collect(2);
    if (was)
        gc_enable();
    return root;
}

static void *heap_10k(const bench_params_t *p, unsigned t) { (void)p, (void)t; return heap_new(10000); }
static void *heap_100k(const bench_params_t *p, unsigned t) { (void)p, (void)t; return heap_new(100000); }
static void *heap_300k(const bench_params_t *p, unsigned t) { (void)p, (void)t; return heap_new(300000); }
static void *heap_1m(const bench_params_t *p, unsigned t) { (void)p, (void)t; return heap_new(1000000); }

static uint64_t gc_pause(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    uint64_t found = 0;
    for (uint64_t i = 0; i < n; i++)
        found += (uint64_t)gc_collect(2);
    if (found != 0)
        rc_fatal("gc_pause: the heap is all reachable, yet the collector found %llu garbage",
                 (unsigned long long)found);
    return found;
}

/* The self-holding lists are left to the collection the harness's quiesce
 * runs after teardown. */
static void heap_free(void *root) { rc_decref(root); }

/* ---- gc_young --------------------------------------------------------------------- */

/* Every tuple is tracked and lives until its list is dropped: net growth,
 * so a young collection every 700 tuples (gc's default threshold), with
 * an older one every 10 of those; the tuples that survive are promoted
 * until the list goes. The list carries on from one call to the next. */
#define YOUNG_BATCH 10000

typedef struct young_ctx {
    rc_obj_t *batch;                     /* the list being filled */
    uint64_t made;                       /* tuples made, all calls */
} young_ctx_t;

static void *young_setup(const bench_params_t *p, unsigned t)
{
    (void)p, (void)t;
    young_ctx_t *c = bench_must_mem(malloc(sizeof *c));
    c->batch = must(rc_list_new());
    c->made = 0;
    return c;
}

static uint64_t gc_young(void *ctx, unsigned thread, uint64_t n)
{
    (void)thread;
    young_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t k = 0; k < n; k++) {
        int64_t v = (int64_t)(c->made++ & 1023);
        rc_obj_t *t = must(rc_tuple_new(2));
        rc_tuple_set(t, 0, must(rc_int_new(1000 + v)));
        rc_tuple_set(t, 1, must(rc_int_new(-1000 - v)));
        if (!rc_list_append(c->batch, t))
            must(NULL);
        rc_decref(t);
        sum += (uint64_t)v;
        if (rc_list_size(c->batch) == YOUNG_BATCH) {
            rc_decref(c->batch);
            c->batch = must(rc_list_new());
        }
        if ((k & 255) == 255)
            rc_safepoint();
    }
    return sum;
}

/* The figure is the collections' pauses: a run that made two thresholds'
 * worth of tuples without one young collection measured nothing. */
static void young_teardown(void *ctx)
{
    young_ctx_t *c = ctx;
    uint64_t threshold[GC_GENERATIONS];
    gc_get_threshold(threshold);
    if (c->made >= 2 * threshold[0] && gc_get_stats(0).collections == 0)
        rc_fatal("gc_young: %llu tuples made, no young collection (collector %s, threshold %llu)",
                 (unsigned long long)c->made, gc_is_enabled() ? "enabled" : "disabled",
                 (unsigned long long)threshold[0]);
    rc_decref(c->batch);
    free(c);
}

static const bench_workload_t gc_w[] = {
    { .name = "cyclic", .op = "node of a garbage ring or graph, made and collected", .ops_per_iter = 1 << 16,
      .run = cyclic, .gate = true },
    { .name = "gc_pause_10k", .op = "full collection, 10k live containers", .max_threads = 1, .ops_per_iter = 1,
      .unit = BENCH_UNIT_COLLECTION, .repetitions = BENCH_GC_PAUSE_REPETITIONS,
      .setup = heap_10k, .run = gc_pause, .teardown = heap_free },
    { .name = "gc_pause_100k", .op = "full collection, 100k live containers", .max_threads = 1, .ops_per_iter = 1,
      .unit = BENCH_UNIT_COLLECTION, .repetitions = BENCH_GC_PAUSE_REPETITIONS,
      .setup = heap_100k, .run = gc_pause, .teardown = heap_free },
    { .name = "gc_pause_300k", .op = "full collection, 300k live containers", .max_threads = 1, .ops_per_iter = 1,
      .unit = BENCH_UNIT_COLLECTION, .repetitions = BENCH_GC_PAUSE_REPETITIONS,
      .setup = heap_300k, .run = gc_pause, .teardown = heap_free },
    { .name = "gc_pause_1m", .op = "full collection, 1M live containers", .max_threads = 1, .ops_per_iter = 1,
      .unit = BENCH_UNIT_COLLECTION, .repetitions = BENCH_GC_PAUSE_REPETITIONS,
      .setup = heap_1m, .run = gc_pause, .teardown = heap_free },
    { .name = "gc_young", .op = "2-tuple of fresh ints kept in a list of 10000 (young collections)", .max_threads = 1,
      .ops_per_iter = 1 << 17, .setup = young_setup, .run = gc_young, .teardown = young_teardown },
};
const bench_family_t bench_gc_family = BENCH_FAMILY(gc_w);
