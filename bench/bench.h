/* bench/bench.h — benchmark kernels, compiled once per strategy.
 *
 * A kernel is a C function that does `n` operations of its workload and
 * returns a checksum (so the optimiser must do the work). Each strategy's
 * build of bench/kernels.c exports one bench_<strategy>_kernels table; the
 * driver iterates over the strategies with RC_FOR_EACH_STRATEGY.
 * Threading: kernels run on the calling thread, which must be attached
 * (a kernel may detach and re-attach it around a helper thread).
 */
#ifndef RC_BENCH_BENCH_H
#define RC_BENCH_BENCH_H

#include <stdint.h>

typedef struct bench_kernel {
    const char *name;
    const char *op;                      /* what one operation is */
    uint64_t (*run)(uint64_t n);         /* does n operations */
} bench_kernel_t;

#define BENCH_KERNELS 4

typedef struct bench_kernels {
    const char *strategy;
    unsigned header_bytes;
    bench_kernel_t k[BENCH_KERNELS];
} bench_kernels_t;

#endif /* RC_BENCH_BENCH_H */
