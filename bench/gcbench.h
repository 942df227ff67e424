/* bench/gcbench.h — the cycle detector's benchmark kernels, one table per
 * strategy (bench/gckernels.c), driven by rcbench-gc (bench/gcbench.c).
 * Threading: every function on the calling thread, which is attached
 * (attach/detach are the strategy's).
 */
#ifndef RC_BENCH_GCBENCH_H
#define RC_BENCH_GCBENCH_H

#include <stdint.h>

typedef struct bench_gc {
    const char *strategy;
    void (*attach)(void);
    void (*detach)(void);
    void *(*heap_new)(uint64_t n);              /* n tracked containers, all reachable */
    void (*heap_free)(void *heap);
    uint64_t (*full_collect)(uint64_t *examined);   /* ns of one gc_collect(2) */
    void (*churn)(uint64_t ops, uint64_t q[4]); /* generation-0 pause p50, p99, max (ns), collections */
} bench_gc_t;

#endif /* RC_BENCH_GCBENCH_H */
