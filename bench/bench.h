/* bench/bench.h — benchmark kernels, compiled once per strategy.
 *
 * A kernel does `n` operations of its workload per thread and returns a
 * checksum (so the optimiser must do the work). A kernel with threads > 1
 * runs on that many threads at once over one context that setup made
 * (the objects they share) and teardown releases. Each strategy's build of
 * bench/kernels.c exports one bench_<strategy>_kernels table, with the
 * strategy's attach, detach and safepoint for strategy-neutral drivers;
 * the driver iterates over the strategies with RC_FOR_EACH_STRATEGY.
 * Threading: setup and teardown run on one attached thread; run on each
 * of `threads` threads, attached (a kernel may detach and re-attach around
 * a helper thread).
 */
#ifndef RC_BENCH_BENCH_H
#define RC_BENCH_BENCH_H

#include <stdint.h>

typedef struct bench_kernel {
    const char *name;
    const char *op;                      /* what one operation is */
    unsigned threads;                    /* threads running it together */
    void *(*setup)(void);                /* NULL: no shared context */
    uint64_t (*run)(uint64_t n, void *ctx, unsigned thread);   /* n operations */
    void (*teardown)(void *ctx);         /* NULL: nothing to release */
} bench_kernel_t;

#define BENCH_KERNELS 6

typedef struct bench_kernels {
    const char *strategy;
    unsigned header_bytes;
    void (*attach)(void);
    void (*detach)(void);
    void (*safepoint)(void);
    /* Writes strategy-specific figures since start (one line, no newline)
     * into buf, or "" when the strategy has none. */
    void (*figures)(char *buf, unsigned size);
    bench_kernel_t k[BENCH_KERNELS];
} bench_kernels_t;

#endif /* RC_BENCH_BENCH_H */
