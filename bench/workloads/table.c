/* bench/workloads/table.c — one strategy's table (bench_<strategy>_workloads):
 * its families of workloads and the hooks the harness calls around a run
 * (quiesce, the collector's figures, deferred's own figures).
 * Threading: the hooks run on the driver thread, attached.
 */
#include "bench/workloads/workloads.h"
#include "gc/gc.h"

/* Deferred frees what it buffered after two epochs, which a thread alone
 * advances at its safepoints; the collection (with the world stopped,
 * counts exact) frees what only it can. */
static void quiesce(void)
{
    for (int i = 0; i < 3; i++)
        rc_safepoint();
    gc_collect(2);
    for (int i = 0; i < 3; i++)
        rc_safepoint();
}

static void gc_figures(uint64_t *collections, uint64_t *p50, uint64_t *p99, uint64_t *max)
{
    *collections = 0;
    for (int g = 0; g < GC_GENERATIONS; g++)
        *collections += gc_get_stats(g).collections;
    /* The quantiles come from the last 4096 pauses of each generation;
     * the max from every collection since the reset. */
    *p50 = gc_pause_quantile_ns(GC_ALL, 0.5);
    *p99 = gc_pause_quantile_ns(GC_ALL, 0.99);
    *max = 0;
    for (int g = 0; g < GC_GENERATIONS; g++)
        if (gc_get_stats(g).pause_ns_max > *max)
            *max = gc_get_stats(g).pause_ns_max;
}

static void gc_switch(bool on)
{
    if (on)
        gc_enable();
    else
        gc_disable();
}

static uint64_t tracked(void *ctx)
{
    (void)ctx;
    return gc_tracked_count();
}

#ifdef RC_STRATEGY_DEFERRED
static void figures(uint64_t *epoch, uint64_t *buffer_peak_bytes, uint64_t *max_delay_epochs)
{
    rc_deferred_stats_t st;
    rc_deferred_stats_get(&st);
    *epoch = st.epoch;
    *buffer_peak_bytes = st.thread_buffer_peak;
    *max_delay_epochs = st.max_delay_epochs;
}
#define FIGURES_RESET rc_deferred_stats_reset_peaks
#define FIGURES figures
#else
#define FIGURES_RESET NULL
#define FIGURES NULL
#endif

#ifdef RC_STRATEGY_CENSUS
#define CENSUS true
#define CENSUS_READ rc_census_read
#else
#define CENSUS false
#define CENSUS_READ NULL
#endif

const bench_strategy_t bench_workloads = {
    .name = RC_STRATEGY_NAME,
    .header_bytes = (unsigned)sizeof(rc_obj_t),
    .gc_header_bytes = RC_GC_HEAD_BYTES,
    .attach = rc_thread_attach,          /* the strategy's own (an out-of-line copy of the inline) */
    .detach = rc_thread_detach,
    .quiesce = quiesce,
    .gc_reset = gc_reset_stats,
    .gc_switch = gc_switch,
    .gc_figures = gc_figures,
    .figures_reset = FIGURES_RESET,
    .figures = FIGURES,
    .gc_tracked = tracked,
    .census = CENSUS,                    /* never timed: rcbench --census only */
    .census_read = CENSUS_READ,
    .families = { &bench_counting_family, &bench_tree_family, &bench_handoff_family, &bench_gc_family,
                  &bench_nqueens_family, &bench_binarytrees_family, &bench_deriv_family,
                  &bench_cfold_family, &bench_rbtree_family },
};
