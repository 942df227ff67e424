/* bench/lite.c — rcbench-lite, the placeholder benchmark driver.
 *
 * Runs every kernel of bench/kernels.c under every strategy built, each on
 * the number of threads the kernel names, and prints wall-clock ns per
 * operation per thread (median of REPS repetitions, the repetitions
 * interleaved across strategies so drift hits all alike) with the ratio to
 * atomic, then each strategy's own figures. Threads are not pinned (the
 * Google Benchmark harness, which replaces this driver, pins them). Each
 * thread attaches, runs and detaches inside the timed region, so a
 * strategy's attach cost (plain: taking the GIL) and detach cost
 * (deferred: the last flush) are counted.
 * Usage: rcbench-lite [--ops N]   (default 20000000 per thread and repetition)
 * Threading: main, plus threads - 1 workers per multi-threaded run.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
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

typedef struct run_arg {
    const bench_kernels_t *ks;
    const bench_kernel_t *k;
    uint64_t ops, sum;
    void *ctx;
    unsigned index;
    pthread_barrier_t *start;
    pthread_t th;
} run_arg_t;

static void *run_thread(void *p)
{
    run_arg_t *a = p;
    if (a->start)
        pthread_barrier_wait(a->start);
    a->ks->attach();
    a->sum = a->k->run(a->ops, a->ctx, a->index);
    a->ks->detach();
    return NULL;
}

/* One timed run of kernel k: ns per operation per thread. */
static double run_once(const bench_kernels_t *ks, const bench_kernel_t *k, uint64_t ops, uint64_t *sink)
{
    enum { MAX_THREADS = 64 };
    void *ctx = NULL;
    if (k->setup) {
        ks->attach();
        ctx = k->setup();
        ks->detach();
    }
    unsigned nt = k->threads ? k->threads : 1;
    if (nt > MAX_THREADS)
        rc_fatal("kernel %s wants %u threads, at most %d", k->name, nt, MAX_THREADS);
    run_arg_t a[MAX_THREADS];
    pthread_barrier_t start;
    if (nt > 1 && pthread_barrier_init(&start, NULL, nt) != 0)
        rc_fatal("pthread_barrier_init failed");
    for (unsigned i = 0; i < nt; i++)
        a[i] = (run_arg_t){ ks, k, ops, 0, ctx, i, i > 0 ? &start : NULL, 0 };   /* main waits below */
    for (unsigned i = 1; i < nt; i++)
        if (pthread_create(&a[i].th, NULL, run_thread, &a[i]) != 0)
            rc_fatal("cannot start benchmark thread %u of %u", i, nt);
    if (nt > 1)
        pthread_barrier_wait(&start);
    double t0 = now_ns();
    run_thread(&a[0]);
    for (unsigned i = 1; i < nt; i++)
        if (pthread_join(a[i].th, NULL) != 0)
            rc_fatal("cannot join benchmark thread %u", i);
    double t = now_ns() - t0;
    if (nt > 1)
        pthread_barrier_destroy(&start);
    for (unsigned i = 0; i < nt; i++)
        *sink += a[i].sum;
    if (k->teardown) {
        ks->attach();
        k->teardown(ctx);
        ks->detach();
    }
    ks->safepoint();   /* unattached: deferred applies what detached threads left */
    return t / (double)ops;
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
    static double t[NSTRAT][BENCH_KERNELS][REPS];
    uint64_t sink = 0;
    for (int r = 0; r < REPS; r++)
        for (int k = 0; k < BENCH_KERNELS; k++)
            for (size_t s = 0; s < NSTRAT; s++)
                t[s][k][r] = run_once(strategies[s], &strategies[s]->k[k], ops, &sink);

    printf("rcbench-lite: %" PRIu64 " ops per thread x %d repetitions (median), interleaved; "
           "checksum %" PRIu64 "\n", ops, REPS, sink);
    printf("%-15s %-8s %7s %7s %10s %9s  %s\n", "kernel", "strategy", "threads", "header", "ns/op",
           "/atomic", "one op is (ns/op: wall time / ops per thread)");
    for (int k = 0; k < BENCH_KERNELS; k++) {
        double med[NSTRAT], atomic_med = 0;
        for (size_t s = 0; s < NSTRAT; s++) {
            qsort(t[s][k], REPS, sizeof(double), cmp_double);
            med[s] = t[s][k][REPS / 2];
            if (strcmp(strategies[s]->strategy, "atomic") == 0)
                atomic_med = med[s];
        }
        for (size_t s = 0; s < NSTRAT; s++)
            printf("%-15s %-8s %7u %6uB %10.3f %8.2fx  %s\n", strategies[s]->k[k].name,
                   strategies[s]->strategy, strategies[s]->k[k].threads, strategies[s]->header_bytes, med[s],
                   atomic_med > 0 ? med[s] / atomic_med : 0.0, strategies[s]->k[k].op);
    }
    for (size_t s = 0; s < NSTRAT; s++) {
        char buf[512];
        strategies[s]->figures(buf, sizeof buf);
        if (buf[0])
            printf("%s: %s\n", strategies[s]->strategy, buf);
    }
    rc_stats_t st = rc_stats_get();
    if (st.live != 0) {
        fprintf(stderr, "rcbench-lite: leak: %" PRIu64 " objects still live after the run\n", st.live);
        return 1;
    }
    return 0;
}
