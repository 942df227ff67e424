/* bench/run/harness.c — one benchmark run on pinned threads, and the
 * machine's calibration (see bench/run/harness.h).
 *
 * Workers wait for a command (run a chunk, probe, ping-pong) by watching a
 * generation counter; the driver bumps it with a release store after
 * writing the command, the workers' acquire loads pair with it; each
 * worker's release increment of `done` pairs with the driver's acquire
 * load, so everything a worker wrote (its times, its checksum) is visible
 * when the driver reads it. Waits spin, yielding the CPU every 256 spins:
 * with one thread per core nothing else wants it, and with more threads
 * than cores the yield lets the others run.
 *
 * Calibration, at open (the start of each repetition):
 *   - availability: each thread spins reading the monotonic clock for a
 *     window; a gap over 10 us between two reads is time it did not run
 *     (an interrupt, the host preempting the vCPU: invisible to the guest
 *     otherwise). Availability = 1 - gaps / window, the least over threads.
 *   - overlap: the fraction of the window outside every thread's gaps,
 *     i.e. with all of them running at once.
 *   - c2c: workers 0 and 1 bounce one cache line; the round trip is the
 *     median over 21 batches of 100.
 * Threading: one run at a time, from one driver thread.
 */
#include "bench/run/harness.h"

#include <hwloc.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif
#include <time.h>
#include <valgrind/callgrind.h>

#include "alloc/alloc.h"
#include "base/arch.h"
#include "base/atomic.h"
#include "base/clock.h"
#include "rc/rc.h"

#define GAP_NS       10000           /* a clock gap this long is time not run */
#define MAX_GAPS     512
#define C2C_BATCHES  21
#define C2C_TRIPS    100

/* ---- topology ------------------------------------------------------------- */

static hwloc_topology_t topo;
static hwloc_obj_t *pu_order;        /* cores' first PUs, then second PUs, ... */
static unsigned npus, ncores_seen;
static pthread_once_t topo_once = PTHREAD_ONCE_INIT;

static void topo_load(void)
{
    /* Only the PUs the process may run on (taskset, cgroups): a user who
     * keeps rcbench off a core is obeyed. */
    if (hwloc_topology_init(&topo) != 0) {
        topo = NULL;
        return;
    }
    (void)hwloc_topology_set_flags(topo, HWLOC_TOPOLOGY_FLAG_IS_THISSYSTEM |
                                             HWLOC_TOPOLOGY_FLAG_RESTRICT_TO_CPUBINDING);   /* else: all PUs */
    if (hwloc_topology_load(topo) != 0) {
        topo = NULL;
        return;
    }
    int all = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    int ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    if (all <= 0)
        return;
    pu_order = calloc((size_t)all, sizeof *pu_order);
    if (pu_order == NULL)
        return;
    ncores_seen = ncores > 0 ? (unsigned)ncores : (unsigned)all;
    if (ncores <= 0) {                   /* no core level: PUs in order */
        for (int i = 0; i < all; i++)
            pu_order[npus++] = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, (unsigned)i);
        return;
    }
    for (unsigned sib = 0; npus < (unsigned)all; sib++) {
        unsigned before = npus;
        for (int c = 0; c < ncores; c++) {
            hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)c);
            hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(topo, core->cpuset, HWLOC_OBJ_PU, sib);
            if (pu)
                pu_order[npus++] = pu;
        }
        if (npus == before)
            break;
    }
}

unsigned harness_pus(void)
{
    pthread_once(&topo_once, topo_load);
    return npus;
}

unsigned harness_cores(void)
{
    pthread_once(&topo_once, topo_load);
    return ncores_seen;
}

/* Binds the calling thread to the k-th PU of the order when all `threads`
 * fit; writes the OS index of the PU it then runs on, or -1 unbound. */
static int pin_self(unsigned k, unsigned threads)
{
    if (harness_pus() == 0 || threads > npus)
        return -1;
    hwloc_obj_t pu = pu_order[k];
    if (hwloc_set_cpubind(topo, pu->cpuset, HWLOC_CPUBIND_THREAD) != 0)
        return -1;
    sched_yield();                       /* let the scheduler move us there */
    hwloc_bitmap_t where = hwloc_bitmap_alloc();
    int got = -1;
    if (where && hwloc_get_last_cpu_location(topo, where, HWLOC_CPUBIND_THREAD) == 0 &&
        hwloc_bitmap_isincluded(where, pu->cpuset))
        got = (int)pu->os_index;
    hwloc_bitmap_free(where);
    return got;
}

/* ---- resident memory ------------------------------------------------------------ */

static void rss_peak_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");   /* "5": reset the peak (Linux 4.0+) */
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static uint64_t rss_peak_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    uint64_t kib = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lu kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* ---- the run ---------------------------------------------------------------------- */

enum { CMD_RUN, CMD_PROBE, CMD_C2C, CMD_EXIT };

typedef struct gap {
    uint64_t from, to;
} gap_t;

typedef struct worker {
    struct harness *h;
    unsigned k;
    pthread_t thread;
    int pu;                              /* OS index pinned to, -1 none */
    uint64_t cpu_ns, sum;
    gap_t gaps[MAX_GAPS];
    unsigned ngaps;
    uint64_t lost_ns;
    char pad[64];
} worker_t;

struct harness {
    const bench_strategy_t *s;
    const bench_workload_t *w;
    void *ctx;
    unsigned threads;
    uint64_t chunk;                      /* per thread per iteration */
    RC_ATOMIC(uint64_t) gen;             /* bumped per command */
    int cmd;
    uint64_t probe_start, probe_ns;
    alignas(RC_CACHE_LINE) RC_ATOMIC(unsigned) done;
    alignas(RC_CACHE_LINE) RC_ATOMIC(unsigned) arrived;   /* start barrier, counts up over the run */
    alignas(RC_CACHE_LINE) RC_ATOMIC(uint64_t) ping;      /* c2c: the bounced line */
    uint64_t c2c[C2C_BATCHES];
    uint64_t ops, iterations, wall_ns;
    uint64_t epoch0;                     /* deferred: the epoch at the start */
    uint64_t live0;                      /* objects live before setup (a leak of an earlier run) */
    bool collect;                        /* harness_icount: callgrind collects around the kernel */
    harness_figures_t cal;               /* the calibration at open, until close */
    hwloc_bitmap_t saved;                /* the driver's binding before the run */
    worker_t *wk;
};

/* A strategy hook that may be NULL (nothing to do). */
static inline void call(void (*hook)(void))
{
    if (hook)
        hook();
}

static inline void relax(unsigned *spins)
{
    if ((++*spins & 255) == 0)
        sched_yield();
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* All threads of the run meet here before a chunk (detached: a thread
 * waiting attached would hold a collection or the GIL). */
static void start_barrier(struct harness *h, unsigned round)
{
    unsigned spins = 0;
    at_fetch_add_relaxed(&h->arrived, 1);
    while (at_load_relaxed(&h->arrived) < round * h->threads)
        relax(&spins);
}

static void do_chunk(worker_t *me)
{
    struct harness *h = me->h;
    start_barrier(h, (unsigned)h->iterations + 1);
    call(h->s->attach);
    uint64_t c0 = thread_cpu_ns();
    if (h->collect)
        CALLGRIND_TOGGLE_COLLECT;        /* count the kernel's instructions, nothing else */
    me->sum += h->w->run(h->ctx, me->k, h->chunk);
    if (h->collect)
        CALLGRIND_TOGGLE_COLLECT;
    me->cpu_ns += thread_cpu_ns() - c0;
    call(h->s->detach);
}

static void do_probe(worker_t *me)
{
    struct harness *h = me->h;
    uint64_t start = h->probe_start, end = start + h->probe_ns, prev = start;
    while (rc_now_ns() < start)
        ;
    me->ngaps = 0;
    me->lost_ns = 0;
    /* From the window's start to its end, whenever this thread looks: a
     * thread that first runs late, or stops before the end, has the
     * missing stretch counted as a gap. */
    for (;;) {
        uint64_t t = rc_now_ns(), to = t < end ? t : end;
        if (to > prev && to - prev > GAP_NS) {
            me->lost_ns += to - prev;
            if (me->ngaps < MAX_GAPS)
                me->gaps[me->ngaps++] = (gap_t){ prev, to };
        }
        if (t >= end)
            break;
        prev = t;
    }
}

static void do_c2c(worker_t *me)
{
    struct harness *h = me->h;
    if (me->k > 1)
        return;
    /* Worker 0 writes odd values, worker 1 answers with the next even
     * one. Relaxed is enough: the line's value is the whole message. */
    for (int b = 0; b < C2C_BATCHES; b++) {
        uint64_t base = (uint64_t)b * C2C_TRIPS * 2, t0 = rc_now_ns();
        for (uint64_t i = 0; i < C2C_TRIPS; i++) {
            uint64_t mine = base + 2 * i + (me->k == 0 ? 1 : 2);
            while (at_load_relaxed(&h->ping) != mine - 1)
                ;
            at_store_relaxed(&h->ping, mine);
        }
        if (me->k == 0) {
            while (at_load_relaxed(&h->ping) != base + 2 * C2C_TRIPS)
                ;
            h->c2c[b] = (rc_now_ns() - t0) / C2C_TRIPS;
        }
    }
}

static void do_cmd(worker_t *me, int cmd)
{
    if (cmd == CMD_RUN)
        do_chunk(me);
    else if (cmd == CMD_PROBE)
        do_probe(me);
    else if (cmd == CMD_C2C)
        do_c2c(me);
}

static void *worker_main(void *arg)
{
    worker_t *me = arg;
    struct harness *h = me->h;
    me->pu = pin_self(me->k, h->threads);
    /* release: pairs with the driver's acquire; the pin result is visible. */
    at_fetch_add_release(&h->done, 1);
    uint64_t seen = 0;
    for (;;) {
        unsigned spins = 0;
        uint64_t g;
        /* acquire: pairs with the driver's release store of gen; cmd and
         * the run's parameters are visible. */
        while ((g = at_load_acquire(&h->gen)) == seen)
            relax(&spins);
        seen = g;
        int cmd = h->cmd;
        if (cmd == CMD_EXIT)
            break;
        do_cmd(me, cmd);
        /* release: pairs with the driver's acquire load of done. */
        at_fetch_add_release(&h->done, 1);
    }
    return NULL;
}

/* The driver: every worker (itself as worker 0) runs cmd; returns when
 * all are done. */
static void command(struct harness *h, int cmd)
{
    at_store_relaxed(&h->done, 0);
    h->cmd = cmd;
    /* release: publishes cmd (pairs with the workers' acquire). */
    at_store_release(&h->gen, at_load_relaxed(&h->gen) + 1);
    if (cmd == CMD_EXIT)
        return;
    do_cmd(&h->wk[0], cmd);
    unsigned spins = 0;
    /* acquire: pairs with each worker's release increment. */
    while (at_load_acquire(&h->done) < h->threads - 1)
        relax(&spins);
}

/* n rounded up to whole cache lines (aligned_alloc's size rule). */
static size_t lines(size_t n) { return (n + RC_CACHE_LINE - 1) & ~(size_t)(RC_CACHE_LINE - 1); }

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_gap(const void *a, const void *b)
{
    const gap_t *x = a, *y = b;
    return (x->from > y->from) - (x->from < y->from);
}

static void calibrate(struct harness *h, harness_figures_t *f, bool quick)
{
    h->probe_ns = quick ? 2000000 : 20000000;   /* 2 or 20 ms */
    h->probe_start = rc_now_ns() + 1000000;
    command(h, CMD_PROBE);
    f->availability = 1.0;
    unsigned total = 0;
    for (unsigned k = 0; k < h->threads; k++) {
        double a = 1.0 - (double)h->wk[k].lost_ns / (double)h->probe_ns;
        if (a < f->availability)
            f->availability = a;
        total += h->wk[k].ngaps;
    }
    gap_t *all = malloc((total ? total : 1) * sizeof *all);
    uint64_t lost = 0;
    if (all) {
        unsigned n = 0;
        for (unsigned k = 0; k < h->threads; k++)
            for (unsigned i = 0; i < h->wk[k].ngaps; i++)
                all[n++] = h->wk[k].gaps[i];
        qsort(all, n, sizeof *all, cmp_gap);
        uint64_t from = 0, to = 0;        /* the union of the gaps */
        for (unsigned i = 0; i < n; i++) {
            if (all[i].from > to) {
                lost += to - from;
                from = all[i].from;
                to = all[i].to;
            } else if (all[i].to > to) {
                to = all[i].to;
            }
        }
        lost += to - from;
        free(all);
    }
    f->overlap = 1.0 - (double)lost / (double)h->probe_ns;
    if (f->overlap < 0)
        f->overlap = 0;
    f->c2c_ns = -1;
    if (h->threads >= 2) {
        at_store_relaxed(&h->ping, 0);
        command(h, CMD_C2C);
        qsort(h->c2c, C2C_BATCHES, sizeof h->c2c[0], cmp_u64);
        f->c2c_ns = (double)h->c2c[C2C_BATCHES / 2];
    }
}

harness_t *harness_open(const bench_strategy_t *s, const bench_workload_t *w, unsigned threads,
                        const bench_params_t *p, char *err, size_t errlen)
{
    struct harness *h = aligned_alloc(RC_CACHE_LINE, lines(sizeof *h));
    worker_t *wk = aligned_alloc(RC_CACHE_LINE, lines(sizeof *wk * threads));
    if (h == NULL || wk == NULL) {
        free(h);
        free(wk);
        snprintf(err, errlen, "out of memory for %u threads", threads);
        return NULL;
    }
    memset(h, 0, sizeof *h);
    memset(wk, 0, sizeof *wk * threads);
    h->s = s;
    h->w = w;
    h->threads = threads;
    h->wk = wk;
    h->chunk = p->quick ? (w->ops_per_iter + 63) / 64 : w->ops_per_iter;
    harness_pus();
    if (topo && (h->saved = hwloc_bitmap_alloc()) != NULL &&
        hwloc_get_cpubind(topo, h->saved, HWLOC_CPUBIND_THREAD) != 0) {
        hwloc_bitmap_free(h->saved);
        h->saved = NULL;
    }
    rss_peak_reset();
    h->live0 = rc_stats_get().live;
    call(s->attach);
    if (w->acyclic && s->gc_switch)
        s->gc_switch(false);
    h->ctx = w->setup ? w->setup(p, threads) : NULL;
    call(s->quiesce);                    /* what setup left to free is not the run's */
    call(s->gc_reset);
    call(s->detach);
    if (s->figures_reset) {              /* no worker yet: nothing else attached */
        uint64_t peak, delay;
        s->figures_reset();
        s->figures(&h->epoch0, &peak, &delay);
    }
    for (unsigned k = 0; k < threads; k++) {
        wk[k].h = h;
        wk[k].k = k;
    }
    wk[0].pu = pin_self(0, threads);
    for (unsigned k = 1; k < threads; k++)
        if (pthread_create(&wk[k].thread, NULL, worker_main, &wk[k]) != 0)
            rc_fatal_os("cannot start benchmark thread %u of %u", k, threads);
    unsigned spins = 0;
    /* acquire: pairs with each worker's release after pinning. */
    while (at_load_acquire(&h->done) < threads - 1)
        relax(&spins);
    calibrate(h, &h->cal, p->quick);
    return h;
}

uint64_t harness_thread_ops(const harness_t *h)
{
    return h->w->ops ? h->w->ops(h->ctx, h->chunk) : h->chunk;
}

uint64_t harness_iteration_ops(const harness_t *h)
{
    return harness_thread_ops(h) * (h->w->pairs ? h->threads / 2 : h->threads);
}

void harness_iteration(harness_t *h)
{
    uint64_t t0 = rc_now_ns();
    command(h, CMD_RUN);
    h->wall_ns += rc_now_ns() - t0;
    h->iterations++;
    h->ops += harness_iteration_ops(h);
}

uint64_t harness_self_ns(const harness_t *h)
{
    return h->s->self_ns ? h->s->self_ns(h->ctx) : 0;
}

void harness_icount(harness_t *h, const char *name)
{
    h->collect = true;
    harness_iteration(h);
    h->collect = false;
    CALLGRIND_DUMP_STATS_AT(name);
}

void harness_close(harness_t *h, harness_figures_t *out)
{
    *out = h->cal;
    command(h, CMD_EXIT);
    for (unsigned k = 1; k < h->threads; k++)
        pthread_join(h->wk[k].thread, NULL);
    out->ops = h->ops;
    out->wall_ns = h->wall_ns;
    out->cpu_ns = 0;
    for (unsigned k = 0; k < h->threads; k++)
        out->cpu_ns += (double)h->wk[k].cpu_ns;
    /* The binding obtained: every worker's PU, or none if any is unbound. */
    size_t len = 0;
    out->binding[0] = '\0';
    for (unsigned k = 0; k < h->threads; k++) {
        if (h->wk[k].pu < 0) {
            snprintf(out->binding, sizeof out->binding, "none");
            break;
        }
        int n = snprintf(out->binding + len, sizeof out->binding - len, "%spu%d", k ? ";" : "", h->wk[k].pu);
        if (n < 0 || (size_t)n >= sizeof out->binding - len - 1) {   /* keep room for the mark */
            out->binding[len] = '+';                                /* the list goes on */
            out->binding[len + 1] = '\0';
            break;
        }
        len += (size_t)n;
    }
    if (h->saved) {
        hwloc_set_cpubind(topo, h->saved, HWLOC_CPUBIND_THREAD);
        hwloc_bitmap_free(h->saved);
    }
    out->error[0] = '\0';
    out->gc_reported = h->s->gc_figures != NULL;
    if (out->gc_reported)
        h->s->gc_figures(&out->gc_collections, &out->gc_p50_ns, &out->gc_p99_ns, &out->gc_max_ns);
    out->deferred = h->s->figures != NULL;
    if (out->deferred) {
        h->s->figures(&out->epochs, &out->buffer_peak_bytes, &out->max_delay_epochs);
        out->epochs -= h->epoch0;
    }
    const char *verdict = h->w->verdict ? h->w->verdict(h->ctx) : NULL;
    if (!verdict && h->w->acyclic && out->gc_reported && out->gc_collections > 0)
        verdict = "the collector ran in an acyclic workload (it should be off)";
    if (verdict)
        snprintf(out->error, sizeof out->error, "%s", verdict);
    call(h->s->attach);
    out->gc_tracked = h->s->gc_tracked ? (int64_t)h->s->gc_tracked(h->ctx) : -1;
    /* A peer working in another process: that one's peak, before it ends. */
    const uint64_t peer_rss_kib = h->s->peak_rss_kib ? h->s->peak_rss_kib(h->ctx) : 0;
    if (h->w->teardown)
        h->w->teardown(h->ctx);
    if (h->w->acyclic && h->s->gc_switch)
        h->s->gc_switch(true);
    call(h->s->quiesce);
    call(h->s->detach);
    /* Peers make no rcbench objects, so for them this holds trivially. */
    rc_stats_t st = rc_stats_get();
    if (st.live != h->live0 && !verdict)
        snprintf(out->error, sizeof out->error,
                 "leak check: %lld objects still live after the run (%llu before it)",
                 (long long)(st.live - h->live0), (unsigned long long)h->live0);
    out->peak_rss_kib = h->s->peak_rss_kib ? peer_rss_kib : rss_peak_kib();
    uint64_t sink = 0;
    for (unsigned k = 0; k < h->threads; k++)
        sink += h->wk[k].sum;
    RC_COMPILER_BARRIER();
    (void)sink;
    free(h->wk);
    free(h);
}
