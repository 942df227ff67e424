/* bench/lite.c — rcbench-lite, the placeholder benchmark driver.
 *
 * Runs every kernel of bench/kernels.c under every strategy built, on one
 * thread, and prints ns per operation (median of REPS repetitions, the
 * repetitions interleaved across strategies so drift hits all alike) with
 * the ratio to atomic. The Google Benchmark harness replaces it.
 * Usage: rcbench-lite [--ops N]   (default 20000000 per repetition)
 * Threading: single-threaded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "rc/rc.h"
#include "rc/strategies.h"

#define DECLARE(s) extern const bench_kernels_t bench_##s##_kernels;
RC_FOR_EACH_STRATEGY(DECLARE)
#define ENTRY(s) &bench_##s##_kernels,
static const bench_kernels_t *const strategies[] = { RC_FOR_EACH_STRATEGY(ENTRY) };
#define NSTRAT (sizeof strategies / sizeof strategies[0])
#define REPS 5

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    uint64_t ops = 20000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            long long v = strtoll(argv[++i], &end, 10);
            if (errno || *end || v <= 0 || v > 1000000000000LL) {
                fprintf(stderr, "rcbench-lite: --ops: expected a positive integer, got '%s'\n", argv[i]);
                return 2;
            }
            ops = (uint64_t)v;
        } else {
            fprintf(stderr, "rcbench-lite: unknown argument '%s' (usage: rcbench-lite [--ops N])\n", argv[i]);
            return 2;
        }
    }
    rc_gil_acquire();   /* plain's kernels run under the (uncontended) GIL */
    static double t[NSTRAT][BENCH_KERNELS][REPS];
    volatile uint64_t sink = 0;
    for (int r = 0; r < REPS; r++)
        for (int k = 0; k < BENCH_KERNELS; k++)
            for (size_t s = 0; s < NSTRAT; s++) {
                double t0 = now_ns();
                sink += strategies[s]->k[k].run(ops);
                t[s][k][r] = (now_ns() - t0) / (double)ops;
            }
    rc_gil_release();
    (void)sink;

    printf("rcbench-lite: 1 thread, %" PRIu64 " ops x %d repetitions (median), interleaved\n", ops, REPS);
    printf("%-15s %-8s %7s %10s %9s  %s\n", "kernel", "strategy", "header", "ns/op", "/atomic", "one op is");
    for (int k = 0; k < BENCH_KERNELS; k++) {
        double med[NSTRAT], atomic_med = 0;
        for (size_t s = 0; s < NSTRAT; s++) {
            qsort(t[s][k], REPS, sizeof(double), cmp_double);
            med[s] = t[s][k][REPS / 2];
            if (strcmp(strategies[s]->strategy, "atomic") == 0)
                atomic_med = med[s];
        }
        for (size_t s = 0; s < NSTRAT; s++)
            printf("%-15s %-8s %6uB %10.3f %8.2fx  %s\n", strategies[s]->k[k].name,
                   strategies[s]->strategy, strategies[s]->header_bytes, med[s],
                   atomic_med > 0 ? med[s] / atomic_med : 0.0, strategies[s]->k[k].op);
    }
    rc_stats_t st = rc_stats_get();
    if (st.live != 0) {
        fprintf(stderr, "rcbench-lite: leak: %" PRIu64 " objects still live after the run\n", st.live);
        return 1;
    }
    return 0;
}
