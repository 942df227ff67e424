/* bench/peers/cpython_gc.c — the `cpython-gc` peer: Debian's python3
 * builds the gc_pause heap (bench/workloads/gc.c gives the shape) and times
 * gc.collect() on it; this side asks for collections over a pipe and
 * reports CPython's own timings (self_ns), so the pipe is not timed.
 * python runs isolated (-I) as a helper process (bench/peers/child.h:
 * no shell, close-on-exec pipes, its exit status checked).
 * Threading: single-threaded (max_threads 1).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/peers/child.h"
#include "rc/rc.h"

/* gc_pause's heap (bench/workloads/gc.c), in Python: a list of n - 1
 * lists, every 8th holding itself (a live cycle), so n tracked containers
 * plus the interpreter's own. Then, per line "K" on stdin, K full
 * collections, answered with their total ns on stdout (perf_counter_ns
 * around each gc.collect()). Anything found unreachable is a broken heap:
 * exit 3. */
static const char cpython_gc_script[] =
    "import gc, sys, time\n"
    "n = int(sys.argv[1])\n"
    "gc.disable()\n"
    "x = [[] for _ in range(n - 1)]\n"
    "for l in x[::8]:\n"
    "    l.append(l)\n"
    "gc.collect()\n"
    "print(len(gc.get_objects()), flush=True)\n"
    "for line in sys.stdin:\n"
    "    t = 0\n"
    "    for _ in range(int(line)):\n"
    "        t0 = time.perf_counter_ns()\n"
    "        if gc.collect() != 0:\n"
    "            sys.exit(3)\n"
    "        t += time.perf_counter_ns() - t0\n"
    "    print(t, flush=True)\n";

typedef struct cpy_ctx {
    child_t child;
    uint64_t tracked, last_ns;
} cpy_ctx_t;

#define PYTHON "/usr/bin/python3"

static void *cpy_setup(uint64_t n)
{
    cpy_ctx_t *c = bench_must_mem(calloc(1, sizeof *c));
    char nbuf[32];
    snprintf(nbuf, sizeof nbuf, "%llu", (unsigned long long)n);
    /* -I: isolated, so no PYTHON* variable or user site changes the heap. */
    char *argv[] = { "python3", "-I", "-c", (char *)cpython_gc_script, nbuf, NULL };
    extern char **environ;
    child_spawn(&c->child, "cpython-gc", PYTHON, argv, environ, 0, " (tools/deps.sh installs python3)");
    unsigned long long tracked;
    if (fscanf(c->child.from, "%llu", &tracked) != 1)
        rc_fatal("cpython-gc: %s did not build the heap", PYTHON);
    c->tracked = tracked;
    return c;
}

static uint64_t cpy_run(void *ctx, unsigned thread, uint64_t n)
{
    (void)thread;
    cpy_ctx_t *c = ctx;
    child_follow_pin(&c->child);         /* as rcbench's own gc_pause runs */
    unsigned long long ns;
    if (fprintf(c->child.to, "%llu\n", (unsigned long long)n) < 0 || fflush(c->child.to) != 0 ||
        fscanf(c->child.from, "%llu", &ns) != 1)
        rc_fatal("cpython-gc: %s stopped answering (a collection found garbage, or it died)", PYTHON);
    c->last_ns = ns;
    return ns;
}

static void cpy_teardown(void *ctx)
{
    cpy_ctx_t *c = ctx;
    child_end(&c->child);
    free(c);
}

static uint64_t cpy_self_ns(void *ctx) { return ((cpy_ctx_t *)ctx)->last_ns; }
static uint64_t cpy_tracked(void *ctx) { return ((cpy_ctx_t *)ctx)->tracked; }

static void *cpy_10k(const bench_params_t *p, unsigned t) { (void)p, (void)t; return cpy_setup(10000); }
static void *cpy_100k(const bench_params_t *p, unsigned t) { (void)p, (void)t; return cpy_setup(100000); }
static void *cpy_300k(const bench_params_t *p, unsigned t) { (void)p, (void)t; return cpy_setup(300000); }
static void *cpy_1m(const bench_params_t *p, unsigned t) { (void)p, (void)t; return cpy_setup(1000000); }

static const bench_workload_t cpython_w[] = {
    { .name = "gc_pause_10k", .op = "gc.collect(), 10k live containers", .max_threads = 1, .ops_per_iter = 1,
      .repetitions = BENCH_GC_PAUSE_REPETITIONS,
      .setup = cpy_10k, .run = cpy_run, .teardown = cpy_teardown },
    { .name = "gc_pause_100k", .op = "gc.collect(), 100k live containers", .max_threads = 1, .ops_per_iter = 1,
      .repetitions = BENCH_GC_PAUSE_REPETITIONS,
      .setup = cpy_100k, .run = cpy_run, .teardown = cpy_teardown },
    { .name = "gc_pause_300k", .op = "gc.collect(), 300k live containers", .max_threads = 1, .ops_per_iter = 1,
      .repetitions = BENCH_GC_PAUSE_REPETITIONS,
      .setup = cpy_300k, .run = cpy_run, .teardown = cpy_teardown },
    { .name = "gc_pause_1m", .op = "gc.collect(), 1M live containers", .max_threads = 1, .ops_per_iter = 1,
      .repetitions = BENCH_GC_PAUSE_REPETITIONS,
      .setup = cpy_1m, .run = cpy_run, .teardown = cpy_teardown },
};
static const bench_family_t cpython_family = BENCH_FAMILY(cpython_w);

const bench_strategy_t bench_cpython_gc_peer = {
    .name = "cpython-gc",
    .header_bytes = 16,                  /* ob_refcnt, ob_type (PyGC_Head not counted, as ours is not) */
    /* gc_figures NULL: its collections are the workload itself, timed in
     * python; the gc cells stay empty rather than show rcbench's zeros. */
    .gc_tracked = cpy_tracked,
    .peer = true,
    .own_allocator = "pymalloc",
    .self_ns = cpy_self_ns,
    .families = { &cpython_family },
};
