/* bench/harness.h — what rcbench's C++ shim calls: one benchmark run of a
 * workload on N pinned threads, the machine's calibration, and reports.
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
#ifndef RC_BENCH_HARNESS_H
#define RC_BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/workloads.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every strategy built (RC_FOR_EACH_STRATEGY order), and the peers
 * (bench/peers.c). */
extern const bench_strategy_t *const harness_strategies[];
extern const unsigned harness_nstrategies;
extern const bench_strategy_t *const harness_peers[];
extern const unsigned harness_npeers;

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
/* uname's machine, e.g. "x86_64"; the CPU's model name; the C compiler;
 * the source revision; which atomics the build uses. */
const char *harness_arch(void);
const char *harness_cpu_model(void);
const char *harness_compiler(void);
const char *harness_revision(void);
const char *harness_atomics(void);

/* ---- reports ---------------------------------------------------------- */

typedef struct report_row {
    char workload[48], strategy[24], allocator[24];
    unsigned threads, repetition;
    uint64_t iterations;
    double ns_per_op, ops_per_sec, cpu_ns_per_op;
    uint64_t peak_rss_kib;
    unsigned header_bytes;
    uint64_t gc_collections;
    double gc_p50_us, gc_p99_us, gc_max_us;
    bool gc_reported, rss_reported;      /* false: those cells are empty (a peer's figures are not ours) */
    int64_t gc_tracked;                  /* -1: not reported */
    bool peer;
    char binding[512];
    double availability, overlap, c2c_ns;
    char timestamp[32];
    bool deferred;                       /* the deferred_* figures are set */
    uint64_t deferred_epochs, deferred_buffer_peak_kib, deferred_max_delay_epochs;
    char error[200];                     /* "": a number; else why not */
    unsigned order;                      /* set by report_add */
} report_row_t;

/* The benchmarks' names (workload/strategy/allocator/threads:N) in the
 * order rows are written and summarised, whatever order they ran in. */
void report_set_order(const char *const *names, unsigned n);
void report_add(const report_row_t *row);
/* Checks that path can be written: a regular file or none, and a temp
 * file can be made next to it (made and removed). Returns false with a
 * one-line reason. */
bool report_check_path(const char *path, char *err, size_t errlen);
/* Writes every row to path atomically (a mkstemp file next to it, then
 * rename). */
bool report_write_csv(const char *path, char *err, size_t errlen);
unsigned report_rows(void);
/* The summary: per workload, strategies side by side as ratios to atomic
 * (median over repetitions), multi-thread rows grouped by placement. */
void report_summary(FILE *out);
/* The summary to path, atomically, as the CSV. */
bool report_write_summary(const char *path, char *err, size_t errlen);
/* Rows that are errors. */
unsigned report_errors(void);

#ifdef __cplusplus
}
#endif

#endif /* RC_BENCH_HARNESS_H */
