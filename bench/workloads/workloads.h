/* bench/workloads/workloads.h — what the workload families share (internal
 * to bench/workloads/; others include bench/bench.h).
 *
 * Every file here is written against the generic rc API and compiled once
 * per strategy (cmake: flavour_module(workloads)); each exports one
 * family, bench_<strategy>_<family>_family through rc/map.h.in, and
 * bench/workloads/table.c gathers them into the strategy's table.
 * Threading: see bench/bench.h; every loop passes a safepoint at least
 * every 4096 operations, every 256 container allocations where the cycle
 * detector may stop the world (a stop waits for every thread to reach
 * one: at 4096 the median young collection with 2 threads of tree_gc took
 * 86 us, at 256 11-25 us).
 */
#ifndef RC_BENCH_WORKLOADS_WORKLOADS_H
#define RC_BENCH_WORKLOADS_WORKLOADS_H

#ifndef RC_FLAVOUR_H
#error "bench/workloads/ is compiled per strategy (flavour_module(workloads))"
#endif

#include "alloc/alloc.h"
#include "bench/bench.h"
#include "rc/rc.h"

/* The families (one file each). */
extern const bench_family_t bench_counting_family;   /* counting.c */
extern const bench_family_t bench_tree_family;       /* trees.c */
extern const bench_family_t bench_handoff_family;    /* handoff.c */
extern const bench_family_t bench_gc_family;         /* gc.c */
/* The programs (BENCH_FOR_EACH_PROGRAM), one file each. */
extern const bench_family_t bench_nqueens_family;    /* nqueens.c */
extern const bench_family_t bench_binarytrees_family; /* binarytrees.c */
extern const bench_family_t bench_deriv_family;      /* deriv.c */
extern const bench_family_t bench_cfold_family;      /* cfold.c */
extern const bench_family_t bench_rbtree_family;     /* rbtree.c */

/* A constructor that returns NULL means the allocator could not get memory
 * from the OS: one clear line, and the run stops (no figure from it). */
static inline rc_obj_t *must(rc_obj_t *o)
{
    if (RC_UNLIKELY(o == NULL))
        rc_fatal_os("out of memory (allocator %s): benchmark stopped", alloc_current->name);
    return o;
}

#endif /* RC_BENCH_WORKLOADS_WORKLOADS_H */
