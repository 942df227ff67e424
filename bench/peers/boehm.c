/* bench/peers/boehm.c — the `boehm` peer: rcbench's trees of plain structs
 * (bench/peers/ptree.h) from GC_MALLOC, dropped and left to the
 * Boehm-Demers-Weiser collector (Debian's libgc, its default settings:
 * parallel marking on), and the programs (bench/peers/programs_boehm.c).
 * Pauses from its collection events.
 * Threading: the first attach, on the driver (the main thread),
 * initialises the collector; every other thread registers itself at its
 * first attach and unregisters when it exits (a thread-specific key's
 * destructor), as Boehm requires of threads it did not start. Compiled
 * only where RC_PEER_BOEHM (not under ThreadSanitizer: bench/CMakeLists.txt).
 */
#define GC_THREADS
#include RC_BOEHM_HEADER                 /* <gc/gc.h>, by its full path: see bench/CMakeLists.txt */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/compiler.h"
#include "bench/bench.h"
#include "bench/peers/pprog.h"
#include "bench/peers/ptree.h"
#include "rc/rc.h"

/* Threads Boehm did not start must register before they allocate from it
 * and unregister before they exit. */
static pthread_key_t boehm_key;
static int boehm_ready;                  /* the driver only: attach runs there first */

static void boehm_unregister(void *unused)
{
    (void)unused;
    GC_unregister_my_thread();
}

static void boehm_attach(void)
{
    if (!boehm_ready) {                  /* the driver, which is the main thread */
        /* No static roots: nothing in rcbench's data (5.6 MB of .bss:
         * jemalloc's tables, the collectors' records) or a library's
         * points into Boehm's heap, and a program of its own would not
         * have them; scanning them at every collection would charge Boehm
         * for rcbench. What holds the trees is scanned still: the threads'
         * stacks and the uncollectable level arrays. */
        GC_set_no_dls(1);
        GC_INIT();
        GC_clear_roots();
        GC_allow_register_threads();
        if (pthread_key_create(&boehm_key, boehm_unregister) != 0)
            rc_fatal_os("boehm: pthread_key_create failed");
        boehm_ready = 1;
    }
    if (!GC_thread_is_registered()) {
        struct GC_stack_base sb;
        if (GC_get_stack_base(&sb) != GC_SUCCESS)
            rc_fatal("boehm: cannot find this thread's stack");
        GC_register_my_thread(&sb);
        pthread_setspecific(boehm_key, &boehm_key);   /* any non-NULL value: the destructor runs */
    }
}

static pnode_t *boehm_node(void)
{
    pnode_t *n = GC_MALLOC(sizeof *n);
    if (RC_UNLIKELY(n == NULL))
        rc_fatal_os("out of memory (Boehm GC): benchmark stopped");
    return n;
}

static uint64_t boehm_tree(void *ctx, unsigned thread, uint64_t n)
{
    (void)thread;
    const ptree_ctx_t *c = ctx;
    const uint64_t nodes = bench_tree_nodes(c->depth);
    /* The level array holds the only references to half-built trees, so
     * the collector must scan it: uncollectable, not malloc'ed. */
    pnode_t **level = GC_MALLOC_UNCOLLECTABLE(sizeof *level << c->depth);
    if (level == NULL)
        rc_fatal_os("out of memory (Boehm GC): benchmark stopped");
    uint64_t sum = 0;
    for (uint64_t done = 0; done < n; done += nodes) {
        pnode_t *root = ptree_build(c->depth, level, boehm_node, true);
        sum += (uint64_t)root->v + 1;
        level[0] = NULL;                 /* the last reference: the tree is garbage now */
    }
    GC_FREE(level);
    return sum;
}

/* Pauses, from Boehm's collection events (GC_EVENT_START to GC_EVENT_END,
 * on the thread that collects, under the allocation lock): the last 4096
 * and the largest since the run's reset. */
#define BOEHM_PAUSES 4096
static uint64_t boehm_t0, boehm_pause[BOEHM_PAUSES], boehm_npause, boehm_max, boehm_gc_no0;

static void boehm_event(GC_EventType e)
{
    if (e == GC_EVENT_START) {
        boehm_t0 = rc_now_ns();
    } else if (e == GC_EVENT_END && boehm_t0 != 0) {
        uint64_t d = rc_now_ns() - boehm_t0;
        boehm_pause[boehm_npause++ % BOEHM_PAUSES] = d;
        if (d > boehm_max)
            boehm_max = d;
        boehm_t0 = 0;
    }
}

/* At a run's start (only the driver attached): the counts start from
 * zero. No collection here: a collection just before the timed window
 * would hand it an empty heap, so a whole depth-20 tree (64 MB) fits
 * without collecting (measured: 0 collections in 4 of 5 repetitions,
 * 11.7 ns a node). Without it each run starts from where the last left
 * Boehm's heap, as a program that keeps making trees does. */
static void boehm_gc_reset(void)
{
    GC_set_on_collection_event(NULL);
    boehm_npause = boehm_max = boehm_t0 = 0;
    boehm_gc_no0 = (uint64_t)GC_get_gc_no();
    GC_set_on_collection_event(boehm_event);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* At a run's end (the workers gone, so no collection runs). */
static void boehm_gc_figures(uint64_t *collections, uint64_t *p50, uint64_t *p99, uint64_t *max)
{
    *collections = (uint64_t)GC_get_gc_no() - boehm_gc_no0;
    uint64_t n = boehm_npause < BOEHM_PAUSES ? boehm_npause : BOEHM_PAUSES;
    *p50 = *p99 = 0;
    if (n > 0) {
        qsort(boehm_pause, n, sizeof boehm_pause[0], cmp_u64);
        *p50 = boehm_pause[(n - 1) / 2];
        *p99 = boehm_pause[(n - 1) * 99 / 100];
    }
    *max = boehm_max;
}

static const bench_workload_t boehm_w[] = {
    { .name = "tree", .op = "tree node from GC_MALLOC, reclaimed by tracing", .ops_per_iter = 1 << 17,
      .setup = ptree_setup, .run = boehm_tree, .teardown = free, .ops = ptree_ops },
};
static const bench_family_t boehm_family = BENCH_FAMILY(boehm_w);

const bench_strategy_t bench_boehm_peer = {
    .name = "boehm",
    .attach = boehm_attach,
    .gc_reset = boehm_gc_reset, .gc_figures = boehm_gc_figures,
    .peer = true,
    .own_allocator = "bdwgc",
    .families = { &boehm_family, &bench_boehm_programs_family },
};
