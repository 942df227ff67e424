/* bench/bench.c — the tables rcbench runs: its strategies (one
 * bench_<strategy>_workloads table each, bench/workloads/table.c compiled
 * per strategy) and the peers (bench/peers/), and the walks over a
 * table's families. Each list is written here once; everything else
 * (the CLI, --list, tools/ and tests/ through --list) reads it.
 * Threading: read-only tables; bench_scratch's slots are under a lock
 * (one call per thread and run, never per op).
 */
#include "bench/bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc/strategies.h"

#define X(s) extern const bench_strategy_t bench_##s##_workloads;
RC_FOR_EACH_STRATEGY(X)
#undef X
#define X(s) &bench_##s##_workloads,
const bench_strategy_t *const bench_strategies[] = { RC_FOR_EACH_STRATEGY(X) };
#undef X
const unsigned bench_nstrategies = sizeof bench_strategies / sizeof bench_strategies[0];

const bench_strategy_t *const bench_peers[] = {
    &bench_none_peer, &bench_shared_ptr_peer,
#if RC_PEER_BOEHM
    &bench_boehm_peer,
#endif
    &bench_cpython_gc_peer,
    &bench_ocaml_peer,
};
const unsigned bench_npeers = sizeof bench_peers / sizeof bench_peers[0];

const bench_strategy_t *bench_census_table(void)
{
    for (unsigned i = 0; i < bench_nstrategies; i++)
        if (bench_strategies[i]->census)
            return bench_strategies[i];
    return NULL;
}

unsigned bench_workload_count(const bench_strategy_t *s)
{
    unsigned n = 0;
    for (unsigned f = 0; f < BENCH_MAX_FAMILIES && s->families[f]; f++)
        n += s->families[f]->n;
    return n;
}

const bench_workload_t *bench_workload_at(const bench_strategy_t *s, unsigned i)
{
    for (unsigned f = 0; f < BENCH_MAX_FAMILIES && s->families[f]; f++) {
        if (i < s->families[f]->n)
            return &s->families[f]->w[i];
        i -= s->families[f]->n;
    }
    return NULL;
}

const bench_workload_t *bench_workload_find(const bench_strategy_t *s, const char *name)
{
    for (unsigned i = 0, n = bench_workload_count(s); i < n; i++)
        if (strcmp(bench_workload_at(s, i)->name, name) == 0)
            return bench_workload_at(s, i);
    return NULL;
}

const char *bench_unit_name(bench_unit_t u)
{
    static const char *const names[] = {
#define X(e, name) [BENCH_UNIT_##e] = #name,
        BENCH_FOR_EACH_UNIT(X)
#undef X
    };
    return (unsigned)u < sizeof names / sizeof names[0] ? names[u] : names[BENCH_UNIT_OP];
}

const char *bench_workload_unit(const char *name)
{
    const bench_workload_t *w = bench_nstrategies ? bench_workload_find(bench_strategies[0], name) : NULL;
    for (unsigned p = 0; w == NULL && p < bench_npeers; p++)
        w = bench_workload_find(bench_peers[p], name);
    return bench_unit_name(w ? w->unit : BENCH_UNIT_OP);
}

bool bench_threads_fit(const bench_workload_t *w, unsigned t)
{
    return t >= w->min_threads && (w->thread_step == 0 || t % w->thread_step == 0) &&
           (w->max_threads == 0 || t <= w->max_threads);
}

void bench_no_collections(uint64_t *collections, uint64_t *p50, uint64_t *p99, uint64_t *max)
{
    *collections = *p50 = *p99 = *max = 0;
}

void *bench_must_mem(void *p)
{
    if (p == NULL) {
        fprintf(stderr, "rcbench: error: out of memory for a benchmark's context\n");
        fflush(stderr);
        quick_exit(3);                   /* as rc_fatal_os: other threads may run */
    }
    return p;
}

static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch { void *p; size_t bytes; } *scratch;   /* under scratch_lock */
static unsigned nscratch;                                     /* under scratch_lock */

void *bench_scratch(unsigned thread, size_t bytes)
{
    pthread_mutex_lock(&scratch_lock);
    if (thread >= nscratch) {
        struct scratch *grown = bench_must_mem(realloc(scratch, (thread + 1u) * sizeof *grown));
        memset(grown + nscratch, 0, (thread + 1u - nscratch) * sizeof *grown);
        scratch = grown;
        nscratch = thread + 1u;
    }
    struct scratch *s = &scratch[thread];
    if (s->bytes < bytes) {
        free(s->p);
        s->p = bench_must_mem(malloc(bytes));
        s->bytes = bytes;
    }
    void *p = s->p;
    pthread_mutex_unlock(&scratch_lock);
    return p;
}

