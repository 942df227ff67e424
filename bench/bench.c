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

#include "rc/rc.h"
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
};
const unsigned bench_npeers = sizeof bench_peers / sizeof bench_peers[0];

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

/* ---- programs --------------------------------------------------------------------- */

static const struct program_size { const char *name; uint64_t size[3]; } program_sizes[] = {
#define X(name, quick, dflt, paper) { #name, { quick, dflt, paper } },
    BENCH_FOR_EACH_PROGRAM(X)
#undef X
};

uint64_t bench_program_size(const char *program, const bench_params_t *p)
{
    for (size_t i = 0; i < sizeof program_sizes / sizeof program_sizes[0]; i++)
        if (strcmp(program_sizes[i].name, program) == 0)
            return program_sizes[i].size[p->quick ? 0 : p->size == BENCH_SIZE_PAPER ? 2 : 1];
    rc_fatal("bench_program_size: '%s' is not a program", program);
}

/* What each program computes at each of its sizes: a fact about the
 * program (nqueens: the number of solutions), checked by every
 * implementation, never a measurement. */
static const struct program_answer { const char *name; uint64_t n, answer; } program_answers[] = {
    { "nqueens", 8, 92 }, { "nqueens", 11, 2680 }, { "nqueens", 13, 73712 },
};

bool bench_program_answer(const char *program, uint64_t n, uint64_t *answer)
{
    for (size_t i = 0; i < sizeof program_answers / sizeof program_answers[0]; i++)
        if (strcmp(program_answers[i].name, program) == 0 && program_answers[i].n == n) {
            *answer = program_answers[i].answer;
            return true;
        }
    return false;
}

struct bench_answers {
    const char *program;
    uint64_t n, expect;
    unsigned threads;
    char why[200];
    struct answer_slot { uint64_t runs, wrong, got; bool part; char pad[32]; } slot[];   /* one line each */
};

bench_answers_t *bench_answers_new(const char *program, uint64_t n, unsigned threads)
{
    bench_answers_t *a = bench_must_mem(calloc(1, sizeof *a + threads * sizeof a->slot[0]));
    if (!bench_program_answer(program, n, &a->expect))
        rc_fatal("no known answer for %s at size %llu (bench/bench.c)", program, (unsigned long long)n);
    a->program = program;
    a->n = n;
    a->threads = threads;
    return a;
}

void bench_answers_check(bench_answers_t *a, unsigned thread, uint64_t got)
{
    struct answer_slot *s = &a->slot[thread];
    s->runs++;
    if (got != a->expect && s->wrong++ == 0)
        s->got = got;
}

void bench_answers_part(bench_answers_t *a, unsigned thread, uint64_t part)
{
    struct answer_slot *s = &a->slot[thread];
    s->part = true;
    if (s->runs++ == 0)
        s->got = part;
    else if (part != s->got)
        s->wrong++;
}

const char *bench_answers_verdict(bench_answers_t *a)
{
    if (a->threads && a->slot[0].part) {     /* split by bench_answers_part */
        uint64_t sum = 0;
        for (unsigned t = 0; t < a->threads; t++) {
            if (a->slot[t].wrong || a->slot[t].runs == 0) {
                snprintf(a->why, sizeof a->why, "wrong answer: %s at size %llu, thread %u's part "
                         "changed from run to run (%llu of %llu runs)", a->program,
                         (unsigned long long)a->n, t, (unsigned long long)a->slot[t].wrong,
                         (unsigned long long)a->slot[t].runs);
                return a->why;
            }
            sum += a->slot[t].got;
        }
        if (sum != a->expect) {
            snprintf(a->why, sizeof a->why, "wrong answer: %s at size %llu, the %u threads' parts add "
                     "up to %llu, expected %llu", a->program, (unsigned long long)a->n, a->threads,
                     (unsigned long long)sum, (unsigned long long)a->expect);
            return a->why;
        }
        return NULL;
    }
    for (unsigned t = 0; t < a->threads; t++)
        if (a->slot[t].wrong) {
            snprintf(a->why, sizeof a->why, "wrong answer: %s at size %llu gave %llu on thread %u "
                     "(%llu of %llu runs wrong), expected %llu", a->program, (unsigned long long)a->n,
                     (unsigned long long)a->slot[t].got, t, (unsigned long long)a->slot[t].wrong,
                     (unsigned long long)a->slot[t].runs, (unsigned long long)a->expect);
            return a->why;
        }
    return NULL;
}

void bench_answers_free(bench_answers_t *a) { free(a); }
