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
 *               operation is one node made and freed.
 * Threading: run on the calling thread, attached; safepoint every batch.
 */
#include <pthread.h>

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

static uint64_t tl_incdec(uint64_t n)
{
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

static uint64_t foreign_incdec(uint64_t n)
{
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

static uint64_t list_churn(uint64_t n)
{
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

static uint64_t tree(uint64_t n)
{
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

const bench_kernels_t bench_kernels = {
    .strategy = RC_STRATEGY_NAME,
    .header_bytes = (unsigned)sizeof(rc_obj_t),
    .k = {
        { "tl_incdec", "incref+decref pair", tl_incdec },
        { "foreign_incdec", "incref+decref pair, object of another thread", foreign_incdec },
        { "list_churn", "append of a new int, later freed", list_churn },
        { "tree", "node made and freed", tree },
    },
};
