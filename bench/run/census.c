/* bench/run/census.c — one census run (rcbench --census): a workload under
 * the census flavour, on the arena, through the harness as a timed run
 * would go (setup, one iteration on every thread, teardown, leak check),
 * but nothing is timed. The census is read before and after; the
 * difference is the run's, setup and teardown included (an object's
 * record is complete only when it dies, and every object dies by the
 * leak check). The driver (bench/cli.cpp) decides which runs cannot
 * happen and says why.
 * Threading: the driver's thread; the harness makes the workers.
 */
#include "bench/run/census.h"

#include <stdio.h>
#include <string.h>

#include "alloc/alloc.h"
#include "bench/run/harness.h"
#include "rc/rc.h"

_Static_assert(REPORT_CENSUS_VALUE_MIN == RC_SMALL_INT_MIN && REPORT_CENSUS_VALUES == RC_CENSUS_SMALL_INTS,
               "the census report's small ints are base/config.h's");
_Static_assert(REPORT_CENSUS_BITS == RC_CENSUS_BITS, "the census report's bits are rc.h's");
_Static_assert(REPORT_CENSUS_OPS_BUCKETS == RC_CENSUS_OPS_BUCKETS, "the census report's op buckets are rc.h's");
_Static_assert(sizeof(((harness_figures_t *)0)->error) == sizeof(((report_census_row_t *)0)->reason),
               "a run's error is copied whole into the row's reason");

void census_run(const bench_strategy_t *s, const bench_workload_t *w, unsigned threads,
                const bench_params_t *p, report_census_row_t *row)
{
    if (!alloc_backend_select("arena")) {
        snprintf(row->reason, sizeof row->reason, "%s", alloc_backend_error());
        return;
    }
    rc_census_t before, now;
    s->census_read(&before);
    char err[sizeof row->reason];
    harness_t *h = harness_open(s, w, threads, p, err, sizeof err);
    if (h == NULL) {
        memcpy(row->reason, err, sizeof row->reason);
        return;
    }
    harness_iteration(h);
    harness_figures_t f;
    harness_close(h, &f);
    s->census_read(&now);
    if (f.error[0]) {
        memcpy(row->reason, f.error, sizeof row->reason);   /* both 200 bytes */
        return;
    }
    rc_census_since(&now, &before);
    row->workload_ops = f.ops;
    row->immortal_ops = now.immortal_ops;
    row->owner_ops = now.owner_ops;
    row->other_ops = now.other_ops;
    row->objects = now.objects;
    row->private_objects = now.private_objects;
    row->object_ops = now.object_ops;
    row->private_ops = now.private_ops;
    memcpy(row->bits, now.max_bits, sizeof row->bits);
    memcpy(row->ops_log2, now.ops_log2, sizeof row->ops_log2);
    memcpy(row->small_int_refs, now.small_int_refs, sizeof row->small_int_refs);
    /* Every object died (the leak check passed), so each op on a mortal
     * object is in exactly one dead object's record. */
    if (now.object_ops != now.owner_ops + now.other_ops)
        snprintf(row->reason, sizeof row->reason,
                 "census mismatch: dead objects' ops %llu, threads' ops on mortal objects %llu",
                 (unsigned long long)now.object_ops, (unsigned long long)(now.owner_ops + now.other_ops));
}
