/* bench/workloads/alloc.c — the allocator alone: workloads of the `none`
 * peer (no counting), run on every selected allocator. One op is one
 * alloc_malloc + alloc_free pair of SIZE bytes (16, 32, 64, 128, 256):
 *
 *   alloc_lifo_SIZE      malloc, touch, free: the block just freed is the
 *                        next one handed out (the best case);
 *   alloc_batch_SIZE     malloc BATCH blocks, then free them in allocation
 *                        order: free lists and pages are walked, not reused;
 *   alloc_prodcons_SIZE  thread 2i mallocs and hands each block through an
 *                        SPSC ring (bench/workloads/ring.h) to thread 2i+1,
 *                        which frees it: every free is remote.
 *
 * The first word of every block gets a sequence number: one store per
 * block (memory a program writes, and resident on every backend), which
 * batch and prodcons read back to check that no block was handed out
 * twice, lost or reordered. At teardown the arena's counts must show the
 * pairs exactly (on the arena; prodcons's frees all remote) with its live
 * blocks back where they were, and must not have moved on any other
 * backend, which proves the selection took effect; the harness's own leak
 * check sees only rcbench's objects. A failed check stops the run.
 * Threading: lifo and batch: every thread alone; prodcons: one ring per
 * pair. Not compiled per strategy (alloc/ and base/ only).
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "base/arch.h"
#include "base/atomic.h"
#include "base/compiler.h"
#include "base/fatal.h"
#include "bench/bench.h"
#include "bench/workloads/ring.h"

/* Blocks per batch in alloc_batch. */
#define BATCH 1000

/* The index published every 64 blocks; a waiting side spins 1024 times,
 * then yields its CPU: short enough that two threads sharing one CPU, or
 * a partner the host descheduled, cost a few microseconds per stall, not
 * a time slice. */
static const bench_ring_policy_t prodcons_ring = { .publish = 64, .poll = false, .relax = true, .spins = 1024 };

typedef struct alloc_ctx {
    size_t size;
    const char *backend;                 /* alloc_current at setup */
    alloc_stats_t s0;                    /* the arena's counts at setup */
    RC_ATOMIC(uint64_t) pairs;           /* shared: pairs done, every thread */
    unsigned nrings;
    bench_ring_spsc_t *rings;            /* prodcons: one per pair of threads */
} alloc_ctx_t;

static RC_NORETURN RC_COLD RC_PRINTF(2, 3) void fail(const alloc_ctx_t *c, const char *fmt, ...)
{
    char who[96];
    snprintf(who, sizeof who, "alloc workload, %zu bytes, allocator %s", c->size, c->backend);
    va_list ap;
    va_start(ap, fmt);
    rc_vfatal_line(who, fmt, ap);
}

static inline uint64_t *must_block(const alloc_ctx_t *c, size_t size)
{
    uint64_t *p = alloc_malloc(size);
    if (RC_UNLIKELY(p == NULL))
        fail(c, "out of memory: benchmark stopped");
    return p;
}

static uint64_t lifo(void *ctx, unsigned thread, uint64_t n)
{
    (void)thread;
    alloc_ctx_t *c = ctx;
    const size_t size = c->size;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t *p = must_block(c, size);
        *p = i;
        RC_COMPILER_BARRIER();           /* the store is not dead: free may read it */
        alloc_free(p, size);
    }
    at_fetch_add_relaxed(&c->pairs, n);
    return n;
}

static uint64_t batch(void *ctx, unsigned thread, uint64_t n)
{
    (void)thread;
    alloc_ctx_t *c = ctx;
    const size_t size = c->size;
    uint64_t *blocks[BATCH];
    for (uint64_t done = 0; done < n;) {
        unsigned k = n - done < BATCH ? (unsigned)(n - done) : BATCH;
        for (unsigned j = 0; j < k; j++) {
            uint64_t *p = must_block(c, size);
            *p = done + j;
            blocks[j] = p;
        }
        /* Freed in allocation order (FIFO): LIFO order is alloc_lifo's. */
        for (unsigned j = 0; j < k; j++) {
            if (RC_UNLIKELY(*blocks[j] != done + j))
                fail(c, "batch: block %u of a batch was overwritten (handed out twice?)", j);
            alloc_free(blocks[j], size);
        }
        done += k;
    }
    at_fetch_add_relaxed(&c->pairs, n);
    return n;
}

/* The sequence number of a block is its ring index, which runs on from
 * one call to the next. */
static uint64_t prodcons(void *ctx, unsigned thread, uint64_t n)
{
    alloc_ctx_t *c = ctx;
    const size_t size = c->size;
    bench_ring_spsc_t *r = &c->rings[thread / 2];
    if ((thread & 1) == 0) {             /* producer */
        bench_ring_end_t e = bench_ring_producer_spsc(r);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t *p = must_block(c, size);
            *p = e.next;
            bench_ring_push_spsc(r, &e, p, &prodcons_ring);
        }
        bench_ring_publish_tail(r, &e);
        at_fetch_add_relaxed(&c->pairs, n);
        return n;
    }
    bench_ring_end_t e = bench_ring_consumer_spsc(r);   /* consumer */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t due = e.next;
        uint64_t *p = bench_ring_pop_spsc(r, &e, &prodcons_ring);
        if (RC_UNLIKELY(*p != due))
            fail(c, "prodcons: thread %u received block %llu where %llu was due (ring or allocator lost, "
                    "reordered or duplicated a block)", thread, (unsigned long long)*p, (unsigned long long)due);
        alloc_free(p, size);
    }
    bench_ring_publish_head(r, &e);
    return n;
}

static void *setup(size_t size, unsigned threads, bool rings)
{
    alloc_ctx_t *c = bench_must_mem(calloc(1, sizeof *c));
    c->size = size;
    c->backend = alloc_current->name;
    if (rings) {
        c->nrings = threads / 2;
        c->rings = bench_must_mem(aligned_alloc(RC_CACHE_LINE, sizeof *c->rings * c->nrings));
        for (unsigned i = 0; i < c->nrings; i++)
            bench_ring_init(&c->rings[i]);
    }
    alloc_arena_stats(&c->s0);           /* no thread runs yet: exact */
    return c;
}

/* After the run's threads have exited: the counts are exact. */
static void teardown(void *ctx)
{
    alloc_ctx_t *c = ctx;
    alloc_stats_t s1;
    alloc_arena_stats(&s1);
    for (unsigned i = 0; i < c->nrings; i++) {
        uint64_t head = at_load_relaxed(&c->rings[i].head), tail = at_load_relaxed(&c->rings[i].tail);
        if (head != tail)
            fail(c, "prodcons: ring %u ended at head %llu, tail %llu: blocks lost", i,
                 (unsigned long long)head, (unsigned long long)tail);
    }
    const uint64_t pairs = at_load_relaxed(&c->pairs);
    const bool arena = strcmp(c->backend, "arena") == 0;
    const uint64_t want = arena ? pairs : 0;
    const uint64_t allocated = s1.allocated - c->s0.allocated, freed = s1.freed - c->s0.freed;
    const uint64_t remote = s1.remote_frees - c->s0.remote_frees;
    if (allocated != want || freed != want || s1.live_blocks != c->s0.live_blocks)
        fail(c, "the arena counted %llu allocations and %llu frees (expected %llu each), live blocks "
                "%llu -> %llu", (unsigned long long)allocated, (unsigned long long)freed,
             (unsigned long long)want, (unsigned long long)c->s0.live_blocks,
             (unsigned long long)s1.live_blocks);
    if (arena && c->rings && c->size <= ALLOC_ARENA_MAX_SMALL && remote != pairs)
        fail(c, "prodcons: %llu of %llu frees were remote in the arena's count", (unsigned long long)remote,
             (unsigned long long)pairs);
    free(c->rings);
    free(c);
}

/* The table: patterns x sizes. One setup per (pattern, size), since a
 * workload's setup is told only the thread count. */
#define SIZES(X, pattern) X(pattern, 16) X(pattern, 32) X(pattern, 64) X(pattern, 128) X(pattern, 256)
#define PATTERNS(X) SIZES(X, lifo) SIZES(X, batch) SIZES(X, prodcons)

#define RINGS_lifo false
#define RINGS_batch false
#define RINGS_prodcons true
#define SETUP(pattern, size)                                                              \
    static void *setup_##pattern##_##size(const bench_params_t *p, unsigned threads)      \
    {                                                                                     \
        (void)p;                                                                          \
        return setup(size, threads, RINGS_##pattern);                                     \
    }
PATTERNS(SETUP)

/* ops_per_iter: 8-15 ms a chunk on the arena (rcbench-alloc measured
 * 5.5-7 ns a pair for lifo and batch, 23-38 ns for prodcons: BENCHMARKS.md). */
#define FIELDS_lifo(size)                                                                 \
    .op = "malloc + free of " #size " bytes, the block reused at once", .ops_per_iter = 1 << 21
#define FIELDS_batch(size)                                                                \
    .op = "malloc + free of " #size " bytes, 1000 at a time, freed in order", .ops_per_iter = 1 << 21
#define FIELDS_prodcons(size)                                                             \
    .op = "malloc of " #size " bytes on one thread, free on another", .min_threads = 2,   \
    .thread_step = 2, .pairs = true, .ops_per_iter = 1 << 18
#define ENTRY(pattern, size)                                                              \
    { .name = "alloc_" #pattern "_" #size, FIELDS_##pattern(size), .setup = setup_##pattern##_##size, \
      .run = pattern, .teardown = teardown },

static const bench_workload_t alloc_w[] = { PATTERNS(ENTRY) };
const bench_family_t bench_alloc_family = BENCH_FAMILY(alloc_w);
