/* bench/programs.c — the programs' sizes (BENCH_FOR_EACH_PROGRAM, read
 * here), their known answers, and the checking every implementation of
 * them (bench/workloads/, bench/peers/) shares: each thread records its
 * own runs in its own slot, and the verdict, read after the harness has
 * joined the threads' chunks (its hand-over orders the slots' writes
 * before it), names the first wrong one.
 * Threading: bench_answers_check/part write only THREAD's slot; the rest
 * runs on the driver.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "rc/rc.h"

static const struct program_size { const char *name; uint64_t size[3]; } program_sizes[] = {
#define X(name, quick, dflt, paper) { #name, { quick, dflt, paper } },
    BENCH_FOR_EACH_PROGRAM(X)
#undef X
};

bool bench_is_program(const char *workload)
{
    for (size_t i = 0; i < sizeof program_sizes / sizeof program_sizes[0]; i++) {
        size_t len = strlen(program_sizes[i].name);
        if (strncmp(workload, program_sizes[i].name, len) == 0 && (workload[len] == '\0' || workload[len] == '_'))
            return true;
    }
    return false;
}

uint64_t bench_program_size(const char *program, const bench_params_t *p)
{
    for (size_t i = 0; i < sizeof program_sizes / sizeof program_sizes[0]; i++)
        if (strcmp(program_sizes[i].name, program) == 0)
            return program_sizes[i].size[p->quick ? 0 : p->size == BENCH_SIZE_PAPER ? 2 : 1];
    rc_fatal("bench_program_size: '%s' is not a program", program);
}

/* What each program computes at each of its sizes: a fact about the
 * program, checked by every implementation, never a measurement.
 * nqueens: solutions; binarytrees: the sum of every check the benchmarks
 * game prints (closed form); cfold: the folded expression's value (equal
 * to the unfolded one's); rbtree: entries whose value is true (keys with
 * k % 10 == 0); rbtree_ck: the same in the last version; rbtree_shared:
 * its own version's count; deriv: the leaf count of the n-th derivative.
 * Each was computed by two implementations (rcbench's, the peers' or
 * OCaml's) and a throw-away python3 one or the closed form. */
static const struct program_answer { const char *name; uint64_t n, answer; } program_answers[] = {
    { "nqueens", 8, 92 }, { "nqueens", 11, 2680 }, { "nqueens", 13, 73712 },
    { "binarytrees", 6, 4398 }, { "binarytrees", 14, 3222190 }, { "binarytrees", 21, 613766494 },
    { "cfold", 8, 537 }, { "cfold", 17, 396354 }, { "cfold", 20, 3447966 },
    { "rbtree", 1000, 100 }, { "rbtree", 200000, 20000 }, { "rbtree", 4200000, 420000 },
    { "rbtree_ck", 1000, 100 }, { "rbtree_ck", 100000, 10000 }, { "rbtree_ck", 4200000, 420000 },
    { "rbtree_shared", 1000, 200 }, { "rbtree_shared", 200000, 40000 }, { "rbtree_shared", 4200000, 840000 },
    { "deriv", 5, 2202 }, { "deriv", 8, 598592 }, { "deriv", 10, 40230090 },
    { "deriv_shared", 5, 2202 }, { "deriv_shared", 8, 598592 }, { "deriv_shared", 10, 40230090 },
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
    bench_answers_t *a = calloc(1, sizeof *a + threads * sizeof a->slot[0]);
    if (a == NULL)
        rc_fatal_os("out of memory for %s's answers", program);
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
