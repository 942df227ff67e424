/* bench/workloads.c — rcbench's workloads, written once, compiled per
 * strategy (bench_<strategy>_workloads; see bench/workloads.h).
 *
 *   tl_incdec        incref+decref pairs on one object per thread: the
 *                    strategy's fast path and nothing else;
 *   foreign_incdec   the same on an object a thread that has exited made:
 *                    biased's non-owner path;
 *   shared_read      every thread takes and drops references to the same
 *                    64 objects (incref, read the payload, decref): where
 *                    counts share cache lines this is the worst case;
 *   smallint         ints drawn from a skewed distribution (about 95% in
 *                    the cached -5..256) made, held in a 64-slot window
 *                    and dropped: the immortal cache at work;
 *   smallint_nocache the same values, every one a new mortal int;
 *   list_churn       lists of fresh ints and 2-tuples built and dropped
 *                    every 1000 items (dropping a list decrements every
 *                    element);
 *   tree             GCBench-style binary trees of nodes, depth settable,
 *                    built and dropped whole, the cycle detector off; one
 *                    op is one node;
 *   tree_gc          the same with the cycle detector on;
 *   handoff          producer/consumer pairs: thread 2i makes 2-tuples,
 *                    thread 2i+1 takes them from a ring and drops them
 *                    (biased's non-owner path, the allocator's remote
 *                    frees);
 *   cyclic           clusters of 8 nodes, rings and graphs in turn,
 *                    dropped: garbage only the cycle detector frees, at
 *                    its default thresholds;
 *   gc_pause_10k/100k/1m  one full collection of a live heap of that many
 *                    containers (bench/gcheap.h: lists, every 8th
 *                    holding itself; the cpython-gc peer and rcbench-gc
 *                    build the same in CPython): one op is one
 *                    collection, so ns per op is the pause.
 * Threading: see bench/workloads.h; every loop passes a safepoint at
 * least every 4096 operations, every 256 container allocations where
 * the cycle detector may stop the world (a stop waits for every thread
 * to reach one: at 4096 the median young collection with 2 threads of
 * tree_gc took 86 us, at 256 11-25 us).
 */
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdlib.h>

#include "alloc/alloc.h"
#include "bench/gcheap.h"
#include "bench/workloads.h"
#include "gc/gc.h"
#include "rc/rc.h"

/* A constructor that returns NULL means the allocator could not get memory
 * from the OS: one clear line, and the run stops (no figure from it). */
static rc_obj_t *must(rc_obj_t *o)
{
    if (RC_UNLIKELY(o == NULL))
        rc_fatal("out of memory (allocator %s): benchmark stopped", alloc_current->name);
    return o;
}

static void *must_mem(void *p)
{
    if (RC_UNLIKELY(p == NULL))
        rc_fatal("out of memory for a benchmark's context: benchmark stopped");
    return p;
}

/* ---- tl_incdec -------------------------------------------------------------- */

static uint64_t tl_incdec(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    rc_obj_t *o = must(rc_int_new(1 << 20));
    for (uint64_t i = 0; i < n; i++) {
        rc_incref(o);
        RC_COMPILER_BARRIER();      /* one real incref and decref per iteration */
        rc_decref(o);
        if ((i & 4095) == 4095)
            rc_safepoint();
    }
    uint64_t sum = (uint64_t)rc_int_value(o);
    rc_decref(o);
    return sum;
}

/* ---- foreign_incdec --------------------------------------------------------- */

static void *make_foreign(void *arg)
{
    rc_thread_attach();
    *(rc_obj_t **)arg = must(rc_int_new(1 << 21));
    rc_thread_detach();
    return NULL;
}

/* tl_incdec on an object another thread made and has exited: biased's
 * non-owner path (atomic on the shared word); plain, atomic and deferred
 * count as in tl_incdec. */
static uint64_t foreign_incdec(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    rc_obj_t *o = NULL;
    pthread_t t;
    rc_thread_detach();                      /* plain: the maker needs the GIL */
    if (pthread_create(&t, NULL, make_foreign, &o) != 0 || pthread_join(t, NULL) != 0)
        rc_fatal("foreign_incdec: cannot run the thread that makes the object");
    rc_thread_attach();
    for (uint64_t i = 0; i < n; i++) {
        rc_incref(o);
        RC_COMPILER_BARRIER();
        rc_decref(o);
        if ((i & 4095) == 4095)
            rc_safepoint();
    }
    uint64_t sum = (uint64_t)rc_int_value(o);
    rc_decref(o);                            /* biased: its owner is gone, merged here */
    return sum;
}

/* ---- shared_read ------------------------------------------------------------ */

#define SHARED_OBJECTS 64

static void *shared_setup(const bench_params_t *p, unsigned threads)
{
    (void)p, (void)threads;
    rc_obj_t **objs = must_mem(calloc(SHARED_OBJECTS, sizeof *objs));
    for (int i = 0; i < SHARED_OBJECTS; i++)
        objs[i] = must(rc_int_new(1000 + i));
    return objs;
}

static uint64_t shared_read(void *ctx, unsigned thread, uint64_t n)
{
    rc_obj_t *const *objs = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        rc_obj_t *o = objs[(i + thread * 7) & (SHARED_OBJECTS - 1)];
        rc_incref(o);
        sum += (uint64_t)rc_int_value(o);
        rc_decref(o);
        if ((i & 4095) == 4095)
            rc_safepoint();
    }
    return sum;
}

static void shared_teardown(void *ctx)
{
    rc_obj_t **objs = ctx;
    for (int i = 0; i < SHARED_OBJECTS; i++)
        rc_decref(objs[i]);
    free(objs);
}

/* ---- smallint ----------------------------------------------------------------- */

/* 4096 values, v = floor(300 u^3) - 5 for u uniform in [0, 1): dense near
 * -5, P(v > 256) = 1 - (261/300)^(1/3), about 4.5%. A fixed table (same
 * seed every run) so every strategy sees the same sequence. */
#define SMALLINT_VALUES 4096
#define WINDOW 64

typedef struct smallint_ctx {
    int64_t values[SMALLINT_VALUES];
} smallint_ctx_t;

static void *smallint_setup(const bench_params_t *p, unsigned threads)
{
    (void)p, (void)threads;
    smallint_ctx_t *c = must_mem(malloc(sizeof *c));
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < SMALLINT_VALUES; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;          /* xorshift64 */
        double u = (double)(x >> 11) / (double)(UINT64_C(1) << 53);
        c->values[i] = (int64_t)(300.0 * u * u * u) - 5;
    }
    return c;
}

static RC_ALWAYS_INLINE uint64_t smallint_loop(const smallint_ctx_t *c, unsigned thread, uint64_t n, bool cache)
{
    rc_obj_t *window[WINDOW] = { 0 };
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        int64_t v = c->values[(i + thread * 613) & (SMALLINT_VALUES - 1)];
        rc_obj_t *o = must(cache ? rc_int_new(v) : rc_int_new_uncached(v));
        sum += (uint64_t)rc_int_value(o);
        rc_obj_t **slot = &window[i & (WINDOW - 1)];
        if (*slot)
            rc_decref(*slot);
        *slot = o;
        if ((i & 4095) == 4095)
            rc_safepoint();
    }
    for (int i = 0; i < WINDOW; i++)
        if (window[i])
            rc_decref(window[i]);
    return sum;
}

static uint64_t smallint(void *ctx, unsigned thread, uint64_t n) { return smallint_loop(ctx, thread, n, true); }
static uint64_t smallint_nocache(void *ctx, unsigned thread, uint64_t n) { return smallint_loop(ctx, thread, n, false); }

/* ---- list_churn ---------------------------------------------------------------- */

static uint64_t list_churn(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    uint64_t sum = 0;
    rc_obj_t *l = must(rc_list_new());
    for (uint64_t i = 0; i < n; i++) {
        rc_obj_t *x;
        if (i & 1) {
            x = must(rc_tuple_new(2));
            rc_tuple_set(x, 0, must(rc_int_new(1000 + (int64_t)(i & 0xffff))));
            rc_tuple_set(x, 1, must(rc_int_new((int64_t)(i & 127))));
        } else {
            x = must(rc_int_new(1000 + (int64_t)(i & 0xffff)));
        }
        if (!rc_list_append(l, x))
            must(NULL);
        rc_decref(x);
        if (rc_list_size(l) == 1000) {
            sum += (uint64_t)rc_list_size(l);
            rc_decref(l);
            l = must(rc_list_new());
            rc_safepoint();
        }
    }
    rc_decref(l);
    return sum;
}

/* ---- tree ------------------------------------------------------------------------ */

typedef struct tree_ctx {
    unsigned depth;
} tree_ctx_t;

/* Trees are acyclic: "tree" runs with the cycle detector off (as a
 * program that calls gc.disable()), so it measures counting and the
 * allocator; "tree_gc" leaves it on at its default thresholds. A tree
 * being built is pure growth, so a young collection comes every 700
 * nodes and every survivor climbs the generations: the collector's cost
 * (and with threads, each collection's stop-the-world) on top. */
static void *tree_setup_gc(bool gc, const bench_params_t *p)
{
    tree_ctx_t *c = must_mem(malloc(sizeof *c));
    c->depth = p->tree_depth;
    if (!gc)
        gc_disable();
    return c;
}

static void *tree_setup(const bench_params_t *p, unsigned threads) { (void)threads; return tree_setup_gc(false, p); }
static void *tree_gc_setup(const bench_params_t *p, unsigned threads) { (void)threads; return tree_setup_gc(true, p); }

static void tree_teardown(void *ctx)
{
    gc_enable();
    free(ctx);
}

/* Bottom-up, level by level, so the C stack stays flat at any depth;
 * GCBench builds top-down, the set of nodes and links is the same. */
static rc_obj_t *tree_build(unsigned depth, rc_obj_t **level)
{
    uint64_t width = UINT64_C(1) << depth;
    for (uint64_t i = 0; i < width; i++) {
        level[i] = must(rc_node_new(2, (int64_t)i));
        if ((i & 255) == 255)
            rc_safepoint();
    }
    uint64_t made = width;
    while (width > 1) {
        for (uint64_t i = 0; i < width / 2; i++) {
            rc_obj_t *p = must(rc_node_new(2, (int64_t)i));
            rc_node_set(p, 0, level[2 * i]);
            rc_node_set(p, 1, level[2 * i + 1]);
            level[i] = p;
            if ((++made & 255) == 0)
                rc_safepoint();
        }
        width /= 2;
    }
    return level[0];
}

static uint64_t tree_ops(const void *ctx, uint64_t n) { return bench_tree_ops(((const tree_ctx_t *)ctx)->depth, n); }

static uint64_t tree(void *ctx, unsigned thread, uint64_t n)
{
    (void)thread;
    const tree_ctx_t *c = ctx;
    const uint64_t nodes = bench_tree_nodes(c->depth);
    rc_obj_t **level = must_mem(malloc(sizeof *level << c->depth));
    uint64_t sum = 0;
    for (uint64_t done = 0; done < n; done += nodes) {
        rc_obj_t *root = tree_build(c->depth, level);
        sum += (uint64_t)rc_int_value(root) + 1;
        rc_decref(root);
        rc_safepoint();
    }
    free(level);
    return sum;
}

/* ---- handoff ------------------------------------------------------------------- */

/* One single-producer single-consumer ring per pair. The producer writes
 * a slot, then publishes it with a release store of `tail`; the consumer's
 * acquire load of `tail` pairs with it, so the object's initialisation is
 * visible before the consumer touches it; symmetrically the consumer's
 * release store of `head` (after reading the slot) pairs with the
 * producer's acquire load before it reuses the slot. A side that waits
 * spins briefly, then detaches until the other side moves, as a Python
 * thread blocked on a queue releases the GIL: it never holds up a
 * collection or the other side (with plain, spinning under the GIL would
 * cost a whole switch interval per hand-over). */
#define RING_FULL(r, tail)  ((tail) - at_load_acquire(&(r)->head) == RING)
#define RING_EMPTY(r, head) (at_load_acquire(&(r)->tail) == (head))
#define RING_WAIT(cond)                                                       \
    do {                                                                     \
        for (unsigned spins_ = 0; (cond); spins_++)                          \
            if (spins_ == 64) {                                              \
                rc_thread_detach();                                          \
                while (cond)                                                 \
                    sched_yield();                                           \
                rc_thread_attach();                                          \
                break;                                                       \
            }                                                                \
    } while (0)
#define RING 1024

typedef struct ring {
    alignas(64) RC_ATOMIC(uint64_t) tail;
    alignas(64) RC_ATOMIC(uint64_t) head;
    alignas(64) rc_obj_t *slot[RING];
} ring_t;

typedef struct handoff_ctx {
    unsigned pairs;
    ring_t *rings;
} handoff_ctx_t;

static void *handoff_setup(const bench_params_t *p, unsigned threads)
{
    (void)p;
    handoff_ctx_t *c = must_mem(malloc(sizeof *c));
    c->pairs = threads / 2;
    c->rings = must_mem(aligned_alloc(64, sizeof(ring_t) * c->pairs));
    for (unsigned i = 0; i < c->pairs; i++) {
        at_store_relaxed(&c->rings[i].tail, 0);
        at_store_relaxed(&c->rings[i].head, 0);
    }
    return c;
}

static uint64_t handoff(void *ctx, unsigned thread, uint64_t n)
{
    handoff_ctx_t *c = ctx;
    ring_t *r = &c->rings[thread / 2];
    uint64_t sum = 0;
    if ((thread & 1) == 0) {                 /* producer */
        uint64_t tail = at_load_relaxed(&r->tail);
        for (uint64_t i = 0; i < n; i++) {
            rc_obj_t *t = must(rc_tuple_new(2));
            rc_tuple_set(t, 0, must(rc_int_new(1000 + (int64_t)(i & 1023))));
            rc_tuple_set(t, 1, must(rc_small_int((int64_t)(i & 127))));
            /* acquire: pairs with the consumer's release store of head. */
            RING_WAIT(RING_FULL(r, tail));
            r->slot[tail & (RING - 1)] = t;
            /* release: publishes the slot (pairs with the consumer's acquire). */
            at_store_release(&r->tail, ++tail);
            if ((i & 4095) == 4095)
                rc_safepoint();
        }
    } else {                                 /* consumer */
        uint64_t head = at_load_relaxed(&r->head);
        for (uint64_t i = 0; i < n; i++) {
            /* acquire: pairs with the producer's release store of tail. */
            RING_WAIT(RING_EMPTY(r, head));
            rc_obj_t *t = r->slot[head & (RING - 1)];
            /* release: the slot is read; pairs with the producer's acquire. */
            at_store_release(&r->head, ++head);
            sum += (uint64_t)rc_int_value(rc_tuple_get(t, 0));
            rc_decref(t);
            if ((i & 4095) == 4095)
                rc_safepoint();
        }
    }
    return sum;
}

static void handoff_teardown(void *ctx)
{
    handoff_ctx_t *c = ctx;
    for (unsigned i = 0; i < c->pairs; i++) {   /* both sides ran n: every ring is empty */
        ring_t *r = &c->rings[i];
        for (uint64_t h = at_load_relaxed(&r->head); h != at_load_relaxed(&r->tail); h++)
            rc_decref(r->slot[h & (RING - 1)]);
    }
    free(c->rings);
    free(c);
}

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

static void *heap_new(uint64_t n) { return bench_gc_heap_new(n, must); }

static void *heap_10k(const bench_params_t *p, unsigned t) { (void)p, (void)t; return heap_new(10000); }
static void *heap_100k(const bench_params_t *p, unsigned t) { (void)p, (void)t; return heap_new(100000); }
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

/* ---- the table ---------------------------------------------------------------------- */


/* Deferred frees what it buffered after two epochs, which a thread alone
 * advances at its safepoints; the collection (with the world stopped,
 * counts exact) frees what only it can. */
static void quiesce(void)
{
    for (int i = 0; i < 3; i++)
        rc_safepoint();
    gc_collect(2);
    for (int i = 0; i < 3; i++)
        rc_safepoint();
}

static void gc_figures(uint64_t *collections, uint64_t *p50, uint64_t *p99, uint64_t *max)
{
    *collections = 0;
    for (int g = 0; g < GC_GENERATIONS; g++)
        *collections += gc_get_stats(g).collections;
    /* The quantiles come from the last 4096 pauses of each generation;
     * the max from every collection since the reset. */
    *p50 = gc_pause_quantile_ns(GC_ALL, 0.5);
    *p99 = gc_pause_quantile_ns(GC_ALL, 0.99);
    *max = 0;
    for (int g = 0; g < GC_GENERATIONS; g++)
        if (gc_get_stats(g).pause_ns_max > *max)
            *max = gc_get_stats(g).pause_ns_max;
}

static uint64_t tracked(void *ctx)
{
    (void)ctx;
    return gc_tracked_count();
}

#ifdef RC_STRATEGY_DEFERRED
static void figures(uint64_t *epoch, uint64_t *buffer_peak_bytes, uint64_t *max_delay_epochs)
{
    rc_deferred_stats_t st;
    rc_deferred_stats_get(&st);
    *epoch = st.epoch;
    *buffer_peak_bytes = st.thread_buffer_peak;
    *max_delay_epochs = st.max_delay_epochs;
}
#define FIGURES_RESET rc_deferred_stats_reset_peaks
#define FIGURES figures
#else
#define FIGURES_RESET NULL
#define FIGURES NULL
#endif

const bench_strategy_t bench_workloads = {
    .name = RC_STRATEGY_NAME,
    .header_bytes = (unsigned)sizeof(rc_obj_t),
    .gc_header_bytes = RC_GC_HEAD_BYTES,
    .attach = rc_thread_attach,          /* the strategy's own (an out-of-line copy of the inline) */
    .detach = rc_thread_detach,
    .quiesce = quiesce,
    .gc_reset = gc_reset_stats,
    .gc_figures = gc_figures,
    .figures_reset = FIGURES_RESET,
    .figures = FIGURES,
    .gc_tracked = tracked,
    .nworkloads = 13,
    .w = {
        { "tl_incdec", "incref+decref pair", 1, 1, 0, false, 1 << 20, NULL, tl_incdec, NULL, NULL },
        { "foreign_incdec", "incref+decref pair, object of an exited thread", 1, 1, 0, false, 1 << 20,
          NULL, foreign_incdec, NULL, NULL },
        { "shared_read", "incref+read+decref of a shared object", 1, 1, 0, false, 1 << 20,
          shared_setup, shared_read, shared_teardown, NULL },
        { "smallint", "int made from a skewed value, later dropped", 1, 1, 0, false, 1 << 18,
          smallint_setup, smallint, free, NULL },
        { "smallint_nocache", "int made (never cached), later dropped", 1, 1, 0, false, 1 << 18,
          smallint_setup, smallint_nocache, free, NULL },
        { "list_churn", "append of a new int or 2-tuple, later freed", 1, 1, 0, false, 1 << 17,
          NULL, list_churn, NULL, NULL },
        { "tree", "tree node made and freed (cycle detector off)", 1, 1, 0, false, 1 << 17, tree_setup, tree,
          tree_teardown, tree_ops },
        { "tree_gc", "tree node made and freed (cycle detector on)", 1, 1, 0, false, 1 << 17, tree_gc_setup, tree,
          tree_teardown, tree_ops },
        { "handoff", "2-tuple made on one thread, freed on another", 2, 2, 0, true, 1 << 16,
          handoff_setup, handoff, handoff_teardown, NULL },
        { "cyclic", "node of a garbage ring or graph, made and collected", 1, 1, 0, false, 1 << 16, NULL, cyclic, NULL, NULL },
        { "gc_pause_10k", "full collection, 10k live containers", 1, 1, 1, false, 1, heap_10k, gc_pause, heap_free, NULL },
        { "gc_pause_100k", "full collection, 100k live containers", 1, 1, 1, false, 1, heap_100k, gc_pause, heap_free, NULL },
        { "gc_pause_1m", "full collection, 1M live containers", 1, 1, 1, false, 1, heap_1m, gc_pause, heap_free, NULL },
    },
};
