/* tests/bench/test_answers.c — the programs' answer checking
 * (bench/programs.c): known answers are found, right runs pass, a wrong
 * run or parts of a split run that change or do not add up give one
 * verdict line naming the program, and every program of
 * BENCH_FOR_EACH_PROGRAM has a size and an answer at each of its sizes.
 * Threading: one thread (each slot is a thread's own: no sharing here).
 */
#include <string.h>

#include "bench/bench.h"
#include "tests/check.h"

static void known_answers(void)
{
    uint64_t a = 0;
    CHECK(bench_program_answer("nqueens", 8, &a));
    CHECK_EQ(a, 92);
    CHECK(bench_program_answer("nqueens", 13, &a));
    CHECK_EQ(a, 73712);
    CHECK(!bench_program_answer("nqueens", 3, &a));
    CHECK(!bench_program_answer("no_such_program", 8, &a));
}

/* Every program, at each size, has its answer in the table: a program
 * run without one would be fatal at setup. */
static void every_size_has_an_answer(void)
{
    bench_params_t p = { .tree_depth = 14 };
    const char *names[] = {
#define X(name, quick, dflt, paper) #name,
        BENCH_FOR_EACH_PROGRAM(X)
#undef X
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        for (int k = 0; k < 3; k++) {
            p.quick = k == 0;
            p.size = k == 2 ? BENCH_SIZE_PAPER : BENCH_SIZE_DEFAULT;
            uint64_t n = bench_program_size(names[i], &p), a;
            CHECK(n > 0);
            if (!bench_program_answer(names[i], n, &a))
                fprintf(stderr, "no answer for %s at size %llu\n", names[i], (unsigned long long)n);
            CHECK(bench_program_answer(names[i], n, &a));
        }
    }
}

static void whole_runs(void)
{
    bench_answers_t *a = bench_answers_new("nqueens", 8, 2);
    bench_answers_check(a, 0, 92);
    bench_answers_check(a, 1, 92);
    CHECK(bench_answers_verdict(a) == NULL);
    bench_answers_check(a, 1, 91);
    bench_answers_check(a, 1, 92);
    const char *v = bench_answers_verdict(a);
    CHECK(v != NULL);
    if (v) {
        printf("verdict: %s\n", v);
        CHECK(strstr(v, "nqueens") != NULL);
        CHECK(strstr(v, "gave 91 on thread 1") != NULL);
        CHECK(strstr(v, "(1 of 3 runs wrong)") != NULL);
        CHECK(strchr(v, '\n') == NULL);
    }
    bench_answers_free(a);
}

static void split_runs(void)
{
    bench_answers_t *a = bench_answers_new("nqueens", 8, 2);
    bench_answers_part(a, 0, 50);
    bench_answers_part(a, 1, 42);
    bench_answers_part(a, 0, 50);
    bench_answers_part(a, 1, 42);
    CHECK(bench_answers_verdict(a) == NULL);
    bench_answers_free(a);

    a = bench_answers_new("nqueens", 8, 2);      /* parts that do not add up */
    bench_answers_part(a, 0, 50);
    bench_answers_part(a, 1, 41);
    const char *v = bench_answers_verdict(a);
    CHECK(v != NULL && strstr(v, "add up to 91, expected 92") != NULL);
    bench_answers_free(a);

    a = bench_answers_new("nqueens", 8, 2);      /* a part that changes between runs */
    bench_answers_part(a, 0, 50);
    bench_answers_part(a, 0, 51);
    bench_answers_part(a, 1, 42);
    v = bench_answers_verdict(a);
    CHECK(v != NULL && strstr(v, "thread 0's part changed") != NULL);
    bench_answers_free(a);
}

int main(void)
{
    known_answers();
    every_size_has_an_answer();
    whole_runs();
    split_runs();
    return TEST_END();
}
