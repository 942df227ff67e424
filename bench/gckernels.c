/* bench/gckernels.c — the cycle detector's workloads, compiled per strategy
 * (for rcbench-gc, bench/gcbench.c).
 *
 *   heap_new(n)      bench/gcheap.h's heap (n - 1 lists, every 8th
 *                    holding itself): n tracked containers, all
 *                    reachable (the shape gcbench also builds in
 *                    CPython);
 *   full_collect     gc_collect(2) on it: ns, and objects examined;
 *   churn(ops)       young-generation collections at the default
 *                    thresholds: 2-tuples of fresh ints appended to a list
 *                    that is dropped every 10000 (net growth, so a young
 *                    collection every 700 tuples); returns the pause
 *                    quantiles of generation 0.
 * Threading: the calling thread, attached by the driver.
 */
#include <stdlib.h>

#include "base/clock.h"
#include "bench/gcbench.h"
#include "bench/gcheap.h"
#include "gc/gc.h"
#include "rc/rc.h"

static rc_obj_t *must(rc_obj_t *o)
{
    if (RC_UNLIKELY(o == NULL))
        rc_fatal("out of memory: gc benchmark stopped");
    return o;
}

static void *heap_new(uint64_t n)
{
    void *root = bench_gc_heap_new(n, must);
    gc_disable();                           /* heap_free enables it again */
    return root;
}

static void heap_free(void *root)
{
    rc_decref(root);
    gc_collect(2);                          /* the self-holding lists */
    rc_safepoint();
    gc_enable();
}

static uint64_t full_collect(uint64_t *examined)
{
    uint64_t e0 = gc_get_stats(2).examined, t0 = rc_now_ns();
    if (gc_collect(2) != 0)
        rc_fatal("gc benchmark: the heap is all reachable, yet the collector found garbage");
    uint64_t t = rc_now_ns() - t0;
    *examined = gc_get_stats(2).examined - e0;
    return t;
}

static void churn(uint64_t ops, uint64_t q[4])
{
    gc_enable();
    uint64_t c0 = gc_get_stats(0).collections;
    rc_obj_t *batch = must(rc_list_new());
    for (uint64_t i = 0; i < ops; i++) {
        rc_obj_t *t = must(rc_tuple_new(2));
        rc_tuple_set(t, 0, must(rc_int_new(1000 + (int64_t)(i & 1023))));
        rc_tuple_set(t, 1, must(rc_int_new(-1000 - (int64_t)(i & 1023))));
        if (!rc_list_append(batch, t))
            must(NULL);
        rc_decref(t);
        if (rc_list_size(batch) == 10000) {  /* net growth: young collections every 700 */
            rc_decref(batch);
            batch = must(rc_list_new());
            rc_safepoint();
        }
    }
    rc_decref(batch);
    rc_safepoint();
    q[0] = gc_pause_quantile_ns(0, 0.5);
    q[1] = gc_pause_quantile_ns(0, 0.99);
    q[2] = gc_pause_quantile_ns(0, 1.0);
    q[3] = gc_get_stats(0).collections - c0;
}


const bench_gc_t bench_gc = {
    .strategy = RC_STRATEGY_NAME,
    .attach = rc_thread_attach,
    .detach = rc_thread_detach,
    .heap_new = heap_new,
    .heap_free = heap_free,
    .full_collect = full_collect,
    .churn = churn,
};
