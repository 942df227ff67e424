/* bench/kernels.c — workload kernels, written once, compiled per strategy.
 *
 * The placeholder suite until the Google Benchmark harness lands:
 *   tl_incdec   incref+decref pairs on one thread-local object (the
 *               strategy's fast path and nothing else);
 *   foreign_incdec  the same on an object another thread made (and has
 *               exited): biased's non-owner path; plain and atomic count
 *               the same way as in tl_incdec;
 *   list_churn  append a fresh int (outside the small-int cache) to a list,
 *               dropping the list every 1000 appends: allocation, incref on
 *               append, decref of every element on drop;
 *   tree        build and drop binary trees of depth 10 (2047 nodes): one
 *               operation is one node made and freed;
 *   shared_read the read-mostly workload: 2 threads take and drop
 *               references to the same 64 objects (incref, read the
 *               payload, decref), round-robin; where counts live on
 *               shared cache lines this is the worst case;
 *   shared_read1 the same on one thread, the single-thread reference
 *               for shared_read's scaling.
 * Threading: run on the calling thread(s), attached; safepoint every
 * batch (every 4096 operations in the loops).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc/alloc.h"
#include "bench/bench.h"
#include "rc/rc.h"

/* A constructor that returns NULL means the allocator could not get memory
 * from the OS: one clear line, and the run stops (no figure from it). */
static rc_obj_t *must(rc_obj_t *o)
{
    if (RC_UNLIKELY(o == NULL))
        rc_fatal("out of memory (allocator %s): benchmark stopped", alloc_current->name);
    return o;
}

static uint64_t tl_incdec(uint64_t n, void *ctx, unsigned thread)
{
    (void)ctx, (void)thread;
    rc_obj_t *o = must(rc_int_new(1 << 20));
    for (uint64_t i = 0; i < n; i++) {
        rc_incref(o);
        RC_COMPILER_BARRIER();      /* one real incref and decref per iteration */
        rc_decref(o);
        if ((i & 4095) == 0)
            rc_safepoint();
    }
    uint64_t sum = (uint64_t)rc_refcount(o);
    rc_decref(o);
    return sum;
}

static void *make_foreign(void *arg)
{
    rc_thread_attach();
    *(rc_obj_t **)arg = must(rc_int_new(1 << 21));
    rc_thread_detach();
    return NULL;
}

static uint64_t foreign_incdec(uint64_t n, void *ctx, unsigned thread)
{
    (void)ctx, (void)thread;
    rc_obj_t *o = NULL;
    pthread_t t;
    rc_thread_detach();                 /* plain: the maker needs the GIL */
    if (pthread_create(&t, NULL, make_foreign, &o) != 0 || pthread_join(t, NULL) != 0)
        rc_fatal("foreign_incdec: cannot run the thread that makes the object");
    rc_thread_attach();
    for (uint64_t i = 0; i < n; i++) {
        rc_incref(o);
        RC_COMPILER_BARRIER();
        rc_decref(o);
        if ((i & 4095) == 0)
            rc_safepoint();
    }
    uint64_t sum = (uint64_t)rc_refcount(o);
    rc_decref(o);                       /* biased: its owner is gone, merged here */
    return sum;
}

static uint64_t list_churn(uint64_t n, void *ctx, unsigned thread)
{
    (void)ctx, (void)thread;
    uint64_t sum = 0;
    rc_obj_t *l = must(rc_list_new());
    for (uint64_t i = 0; i < n; i++) {
        rc_obj_t *x = must(rc_int_new(1000 + (int64_t)(i & 0xffff)));
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

static rc_obj_t *tree_build(int depth)
{
    /* Iterative bottom-up build keeps the kernel's stack flat. */
    rc_obj_t *level[1 << 10];
    int width = 1 << depth;
    for (int i = 0; i < width; i++)
        level[i] = must(rc_node_new(2, i));
    while (width > 1) {
        for (int i = 0; i < width / 2; i++) {
            rc_obj_t *p = must(rc_node_new(2, i));
            rc_node_set(p, 0, level[2 * i]);
            rc_node_set(p, 1, level[2 * i + 1]);
            level[i] = p;
        }
        width /= 2;
    }
    return level[0];
}

static uint64_t tree(uint64_t n, void *ctx, unsigned thread)
{
    (void)ctx, (void)thread;
    const uint64_t nodes = (1u << 11) - 1;
    uint64_t sum = 0;
    for (uint64_t done = 0; done < n; done += nodes) {
        rc_obj_t *root = tree_build(10);
        sum += (uint64_t)rc_refcount(root);
        rc_decref(root);
        rc_safepoint();
    }
    return sum;
}

#define SHARED_OBJECTS 64

static void *shared_setup(void)
{
    rc_obj_t **objs = calloc(SHARED_OBJECTS, sizeof *objs);
    if (objs == NULL)
        rc_fatal("out of memory for the shared objects");
    for (int i = 0; i < SHARED_OBJECTS; i++)
        objs[i] = must(rc_int_new(1000 + i));
    return objs;
}

static uint64_t shared_read(uint64_t n, void *ctx, unsigned thread)
{
    rc_obj_t *const *objs = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        rc_obj_t *o = objs[(i + thread * 7) & (SHARED_OBJECTS - 1)];
        rc_incref(o);
        sum += (uint64_t)rc_int_value(o);
        rc_decref(o);
        if ((i & 4095) == 0)
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

static void attach(void) { rc_thread_attach(); }
static void detach(void) { rc_thread_detach(); }
static void safepoint(void) { rc_safepoint(); }

static void figures(char *buf, unsigned size)
{
#ifdef RC_STRATEGY_DEFERRED
    rc_deferred_stats_t st;
    rc_deferred_stats_get(&st);
    snprintf(buf, size,
             "%" PRIu64 " epochs, %" PRIu64 " flushes (%" PRIu64 " forced by a full log), "
             "buffers %" PRIu64 " KiB per thread at most (table %zu B + log %zu B + sealed "
             "decrements), reclamation delay at most %" PRIu64 " epochs",
             st.epoch - 1, st.flushes, st.forced_flushes, st.thread_buffer_peak / 1024,
             sizeof(rc_deferred_slot_t) * RC_DEFERRED_SLOTS, sizeof(rc_deferred_slot_t) * RC_DEFERRED_LOG,
             st.max_delay_epochs);
#else
    if (size)
        buf[0] = '\0';
#endif
}

const bench_kernels_t bench_kernels = {
    .strategy = RC_STRATEGY_NAME,
    .header_bytes = (unsigned)sizeof(rc_obj_t),
    .attach = attach,
    .detach = detach,
    .safepoint = safepoint,
    .figures = figures,
    .k = {
        { "tl_incdec", "incref+decref pair", 1, NULL, tl_incdec, NULL },
        { "foreign_incdec", "incref+decref pair, object of another thread", 1, NULL, foreign_incdec, NULL },
        { "list_churn", "append of a new int, later freed", 1, NULL, list_churn, NULL },
        { "tree", "node made and freed", 1, NULL, tree, NULL },
        { "shared_read1", "incref+read+decref of a shared object", 1, shared_setup, shared_read, shared_teardown },
        { "shared_read", "incref+read+decref of a shared object", 2, shared_setup, shared_read, shared_teardown },
    },
};
