/* bench/run/harness.h — one benchmark run of a workload on N pinned
 * threads, and the run's calibration of the machine.
 *
 * A run (harness_open .. harness_close) owns N - 1 worker threads plus the
 * calling thread, which is worker 0 (Google Benchmark's thread: its timer
 * then measures work, not waiting). Each worker pins itself with hwloc to
 * its own core (one PU per core, cores before SMT siblings), or to nothing
 * when there are more threads than PUs. At open, the run calibrates: the
 * fraction of a short window each thread actually ran, the fraction in
 * which all of them ran at once, and the core-to-core round trip between
 * workers 0 and 1. harness_iteration runs one chunk of the workload on
 * every worker at once; each worker attaches before its chunk and detaches
 * after it, so no thread between chunks holds a collection or the GIL.
 * harness_close tears down, and checks that every object was freed.
 *
 * Threading: one run at a time, driven from one thread; the allocator is
 * switched (alloc_backend_select) only between runs.
 */
#ifndef RC_BENCH_RUN_HARNESS_H
#define RC_BENCH_RUN_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/bench.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct harness harness_t;

typedef struct harness_figures {
    uint64_t ops;                        /* operations done over every iteration, all threads */
    uint64_t wall_ns;                    /* the iterations' wall time, as the driver saw it */
    double cpu_ns;                       /* CPU time of every worker while running chunks */
    double availability;                 /* calibration: the least any thread ran, 0..1 */
    double overlap;                      /* calibration: all threads ran at once, 0..1 */
    double c2c_ns;                       /* round trip 0 <-> 1; negative with one thread */
    char binding[512];                   /* "pu0;pu1" (OS indices), or "none"; "+" ends a cut list */
    uint64_t peak_rss_kib;
    bool gc_reported;                    /* the four below are set (the strategy has gc_figures) */
    uint64_t gc_collections, gc_p50_ns, gc_p99_ns, gc_max_ns;
    int64_t gc_tracked;                  /* containers tracked at the end; -1: not reported */
    bool deferred;                       /* the three below are set */
    uint64_t epochs, buffer_peak_bytes, max_delay_epochs;
    char error[200];                     /* "" or why the run is not a number (a leak) */
} harness_figures_t;

/* Starts a run of w (one of s's workloads). Returns NULL
 * with a one-line reason in err when it cannot start. */
harness_t *harness_open(const bench_strategy_t *s, const bench_workload_t *w, unsigned threads,
                        const bench_params_t *p, char *err, size_t errlen);
/* Operations one iteration does, all threads together, and one thread's
 * (hand-off: a tuple made by one thread and dropped by another is one). */
uint64_t harness_iteration_ops(const harness_t *h);
uint64_t harness_thread_ops(const harness_t *h);
void harness_iteration(harness_t *h);
/* For a strategy that times its kernels itself (self_ns): the ns the
 * last iteration's kernel measured. */
uint64_t harness_self_ns(const harness_t *h);
/* One iteration with callgrind collecting only inside the kernel (run
 * under `valgrind --tool=callgrind --collect-atstart=no`; outside valgrind
 * the requests do nothing), then a dump of the counts named `name`. */
void harness_icount(harness_t *h, const char *name);
/* Ends the run; figures of the whole run. */
void harness_close(harness_t *h, harness_figures_t *out);

/* PUs and cores hwloc found within the process's binding (taskset is
 * respected); threads bind to PUs in order, cores' first PUs first. */
unsigned harness_pus(void);
unsigned harness_cores(void);

#ifdef __cplusplus
}
#endif

#endif /* RC_BENCH_RUN_HARNESS_H */
