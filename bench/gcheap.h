/* bench/gcheap.h — the live heap the cycle detector's benchmarks collect:
 * a list holding n - 1 lists, every 8th of which holds itself (a live
 * cycle; the others are empty), so n tracked containers, all reachable.
 * rcbench-gc and the cpython-gc peer (bench/peers/cpython_gc.c) build the same shape
 * in CPython. Dropping the root leaves the cycles to a collection. Built with
 * automatic collection off (the build is not measured), then settled in
 * the oldest generation by one full collection; the collector's enabled
 * state is left as it was. Included by flavoured sources (bench/workloads/gc.c,
 * bench/gckernels.c), so compiled once per strategy; `must`
 * is the includer's out-of-memory stop.
 * Threading: the calling thread, attached.
 */
#ifndef RC_BENCH_GCHEAP_H
#define RC_BENCH_GCHEAP_H

#include "gc/gc.h"
#include "rc/rc.h"

static inline rc_obj_t *bench_gc_heap_new(uint64_t n, rc_obj_t *(*must)(rc_obj_t *))
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

#endif /* RC_BENCH_GCHEAP_H */
