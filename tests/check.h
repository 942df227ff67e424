/* tests/check.h — assertions for rcbench tests that survive NDEBUG.
 *
 * CHECK(cond) and CHECK_EQ(a, b) print file:line, the expression and (for
 * _EQ) both values, count the failure and carry on; TEST_END() prints the
 * closing "N passed, N failed" line and returns the exit status, a
 * failure when no check ran. A test's
 * options: --scale N divides iteration counts (sanitizer builds pass it),
 * --scale xN multiplies them (soak runs: the stress tests, through
 * test_size; both may be given), --seed N seeds the PRNG (stress tests
 * print the seed they used).
 * Threading: the counters are atomic, so worker threads may CHECK too.
 */
#ifndef RC_TESTS_CHECK_H
#define RC_TESTS_CHECK_H

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "base/clock.h"

static atomic_long check_passed, check_failed;

#define CHECK(cond) do {                                                       \
    if (cond) atomic_fetch_add(&check_passed, 1);                              \
    else { atomic_fetch_add(&check_failed, 1);                                 \
           fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_EQ(a, b) do {                                                    \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b);           \
    if (check_a_ == check_b_) atomic_fetch_add(&check_passed, 1);              \
    else { atomic_fetch_add(&check_failed, 1);                                 \
           fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", \
                   __FILE__, __LINE__, #a, #b, check_a_, check_b_); }          \
} while (0)

/* Fails the test at once (for states where carrying on means crashing). */
#define REQUIRE(cond) do {                                                     \
    if (!(cond)) { fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
                   exit(1); }                                                  \
} while (0)

/* Prints "N passed, N failed" and returns the exit status: 1 when a check
 * failed, and 1 too when none ran at all (a test that checks nothing
 * passes whatever the code does), with a line saying so. */
static inline int test_end(void)
{
    long passed = atomic_load(&check_passed), failed = atomic_load(&check_failed);
    printf("%ld passed, %ld failed\n", passed, failed);
    if (passed + failed == 0) {
        fprintf(stderr, "FAIL: no check ran: a test must check what it claims\n");
        return 1;
    }
    return failed ? 1 : 0;
}
#define TEST_END() test_end()

/* scale divides sizes, soak multiplies them (1 and 1 by default). */
typedef struct test_opts { uint64_t scale; uint64_t seed; int argi; uint64_t soak; } test_opts_t;

/* A positive decimal count, whole string; 0 when it is not one. */
static inline uint64_t test_count_arg(const char *s)
{
    char *end;
    if (*s < '0' || *s > '9')
        return 0;
    unsigned long long v = strtoull(s, &end, 10);
    return *end == '\0' && v <= UINT32_MAX ? (uint64_t)v : 0;
}

/* Parses --scale N, --scale xN, --seed N and --alloc NAME (makes backend
 * NAME current; the object-model tests run once per backend); leaves
 * other arguments from argi on. */
static inline test_opts_t test_opts(int argc, char **argv)
{
    test_opts_t o = { 1, 42, 1, 1 };
    for (; o.argi + 1 < argc; o.argi += 2) {
        if (strcmp(argv[o.argi], "--scale") == 0) {
            const char *v = argv[o.argi + 1];
            uint64_t n = test_count_arg(v[0] == 'x' ? v + 1 : v);
            if (n == 0) {
                fprintf(stderr, "--scale: expected N (divide sizes) or xN (multiply them), N >= 1; got %s\n", v);
                exit(2);
            }
            if (v[0] == 'x')
                o.soak = n;
            else
                o.scale = n;
        } else if (strcmp(argv[o.argi], "--seed") == 0)
            o.seed = strtoull(argv[o.argi + 1], NULL, 10);
        else if (strcmp(argv[o.argi], "--alloc") == 0) {
            if (!alloc_backend_select(argv[o.argi + 1])) {
                fprintf(stderr, "--alloc: %s\n", alloc_backend_error());
                exit(2);
            }
            printf("allocator: %s\n", alloc_current->name);
        } else
            break;
    }
    if (o.soak > 1)
        printf("soak: sizes x%llu\n", (unsigned long long)o.soak);
    return o;
}

/* n scaled for this run: n * soak / scale. Stress tests size their loops
 * with it, so --scale xN runs them N times longer. */
static inline uint64_t test_size(test_opts_t o, uint64_t n)
{
    return n * o.soak / o.scale;
}

/* The thread count of a threaded test: parses what test_opts left, which
 * may only be "--threads N" with 1 <= N <= max; anything else is a usage
 * error (exit 2). */
static inline int test_threads_opt(int argc, char **argv, int argi, int dflt, int max)
{
    int n = dflt;
    for (int i = argi; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            n = atoi(argv[++i]);
        } else {
            fprintf(stderr, "unknown argument: %s\n", argv[i]);
            exit(2);
        }
    }
    if (n < 1 || n > max) {
        fprintf(stderr, "--threads: expected 1..%d, got %d\n", max, n);
        exit(2);
    }
    return n;
}

/* For deadlines (liveness bounds, never timings). */
static inline uint64_t test_now_ns(void) { return rc_now_ns(); }

/* xorshift64*: small, seeded, reproducible. */
static inline uint64_t test_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    *s = x;
    return x * UINT64_C(2685821657736338717);
}

#endif /* RC_TESTS_CHECK_H */
