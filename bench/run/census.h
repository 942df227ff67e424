/* bench/run/census.h — one census run of a workload (rcbench --census):
 * the census flavour's records over a run, untimed, into a report row.
 * Threading: the driver's thread only.
 */
#ifndef RC_BENCH_RUN_CENSUS_H
#define RC_BENCH_RUN_CENSUS_H

#include "bench/bench.h"
#include "bench/report/report.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs w (a workload of S, the census table) on THREADS threads, one
 * harness iteration, on the arena, and fills ROW's counts (the caller
 * set its names); a run that fails (it cannot start, a leak, a wrong
 * answer) leaves the reason in row->reason. */
void census_run(const bench_strategy_t *s, const bench_workload_t *w, unsigned threads,
                const bench_params_t *p, report_census_row_t *row);

#ifdef __cplusplus
}
#endif

#endif /* RC_BENCH_RUN_CENSUS_H */
