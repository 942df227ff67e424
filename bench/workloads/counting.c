/* bench/workloads/counting.c — the counting kernels: the strategies' fast
 * and slow paths with as little else as possible.
 *
 *   tl_incdec        incref+decref pairs on one object per thread: the
 *                    strategy's fast path and nothing else;
 *   foreign_incdec   the same on an object a thread that has exited made:
 *                    biased's non-owner path;
 *   shared_read      every thread takes and drops references to the same
 *                    64 objects (incref, read the payload, decref): where
 *                    counts share cache lines this is the worst case;
 *   smallint         ints made, held in a 64-slot window and dropped, their
 *                    values drawn from CPython's small-int census (each v
 *                    as often as CPython 3.11 references it after start-up
 *                    and a few imports: all in the cached -5..256,
 *                    results/census/cpython-smallint.csv, docs/census.md):
 *                    the immortal cache at work;
 *   smallint_nocache the same values, every one a new mortal int;
 *   list_churn       lists of fresh ints and 2-tuples built and dropped
 *                    every 1000 items (dropping a list decrements every
 *                    element).
 * Threading: bench/workloads/workloads.h.
 */
#include <pthread.h>
#include <stdlib.h>

#include "bench/workloads/workloads.h"

/* ---- tl_incdec -------------------------------------------------------------- */

static uint64_t tl_incdec(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    rc_obj_t *o = must(rc_int_new(1 << 20));
    for (uint64_t i = 0; i < n; i++) {
        rc_incref(o);
        RC_COMPILER_BARRIER();      /* one real incref and decref per iteration */
        rc_decref(o);
        if ((i & 4095) == 4095)
            rc_safepoint();
    }
    uint64_t sum = (uint64_t)rc_int_value(o);
    rc_decref(o);
    return sum;
}

/* ---- foreign_incdec --------------------------------------------------------- */

static void *make_foreign(void *arg)
{
    rc_thread_attach();
    *(rc_obj_t **)arg = must(rc_int_new(1 << 21));
    rc_thread_detach();
    return NULL;
}

/* tl_incdec on an object another thread made and has exited: biased's
 * non-owner path (atomic on the shared word); plain, atomic and deferred
 * count as in tl_incdec. */
static uint64_t foreign_incdec(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    rc_obj_t *o = NULL;
    pthread_t t;
    rc_thread_detach();                      /* plain: the maker needs the GIL */
    if (pthread_create(&t, NULL, make_foreign, &o) != 0 || pthread_join(t, NULL) != 0)
        rc_fatal_os("foreign_incdec: cannot run the thread that makes the object");
    rc_thread_attach();
    for (uint64_t i = 0; i < n; i++) {
        rc_incref(o);
        RC_COMPILER_BARRIER();
        rc_decref(o);
        if ((i & 4095) == 4095)
            rc_safepoint();
    }
    uint64_t sum = (uint64_t)rc_int_value(o);
    rc_decref(o);                            /* biased: its owner is gone, merged here */
    return sum;
}

/* ---- shared_read ------------------------------------------------------------ */

#define SHARED_OBJECTS 64

static void *shared_setup(const bench_params_t *p, unsigned threads)
{
    (void)p, (void)threads;
    rc_obj_t **objs = bench_must_mem(calloc(SHARED_OBJECTS, sizeof *objs));
    for (int i = 0; i < SHARED_OBJECTS; i++)
        objs[i] = must(rc_int_new(1000 + i));
    return objs;
}

static uint64_t shared_read(void *ctx, unsigned thread, uint64_t n)
{
    rc_obj_t *const *objs = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        rc_obj_t *o = objs[(i + thread * 7) & (SHARED_OBJECTS - 1)];
        rc_incref(o);
        sum += (uint64_t)rc_int_value(o);
        rc_decref(o);
        if ((i & 4095) == 4095)
            rc_safepoint();
    }
    return sum;
}

static void shared_teardown(void *ctx)
{
    rc_obj_t **objs = ctx;
    for (int i = 0; i < SHARED_OBJECTS; i++)
        rc_decref(objs[i]);
    free(objs);
}

/* ---- smallint ----------------------------------------------------------------- */

/* 4096 values drawn from CPython's census with a fixed xorshift64 seed, so
 * every run and strategy sees the same sequence. The table is generated at
 * build time from the checked-in CSV by tools/gen-smallint-table (weight of
 * v: the interpreter's references to v; v > 256 weigh 0, docs/census.md). */
#include "bench/smallint_census.h"

#define SMALLINT_VALUES 4096
#define WINDOW 64

typedef struct smallint_ctx {
    int64_t values[SMALLINT_VALUES];
} smallint_ctx_t;

/* The census value whose cumulative weight first exceeds r (r < TOTAL). */
static int64_t smallint_census_pick(uint32_t r)
{
    unsigned lo = 0, hi = SMALLINT_CENSUS_N - 1;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (smallint_census_cum[mid] > r)
            hi = mid;
        else
            lo = mid + 1;
    }
    return smallint_census_value[lo];
}

static void *smallint_setup(const bench_params_t *p, unsigned threads)
{
    (void)p, (void)threads;
    smallint_ctx_t *c = bench_must_mem(malloc(sizeof *c));
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < SMALLINT_VALUES; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;          /* xorshift64 */
        /* r uniform in [0, TOTAL): the top 32 bits scaled, no float */
        c->values[i] = smallint_census_pick((uint32_t)(((x >> 32) * SMALLINT_CENSUS_TOTAL) >> 32));
    }
    return c;
}

static RC_ALWAYS_INLINE uint64_t smallint_loop(const smallint_ctx_t *c, unsigned thread, uint64_t n, bool cache)
{
    rc_obj_t *window[WINDOW] = { 0 };
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        int64_t v = c->values[(i + thread * 613) & (SMALLINT_VALUES - 1)];
        rc_obj_t *o = must(cache ? rc_int_new(v) : rc_int_new_uncached(v));
        sum += (uint64_t)rc_int_value(o);
        rc_obj_t **slot = &window[i & (WINDOW - 1)];
        if (*slot)
            rc_decref(*slot);
        *slot = o;
        if ((i & 4095) == 4095)
            rc_safepoint();
    }
    for (int i = 0; i < WINDOW; i++)
        if (window[i])
            rc_decref(window[i]);
    return sum;
}

static uint64_t smallint(void *ctx, unsigned thread, uint64_t n) { return smallint_loop(ctx, thread, n, true); }
static uint64_t smallint_nocache(void *ctx, unsigned thread, uint64_t n) { return smallint_loop(ctx, thread, n, false); }

/* ---- list_churn ---------------------------------------------------------------- */

static uint64_t list_churn(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    uint64_t sum = 0;
    rc_obj_t *l = must(rc_list_new());
    for (uint64_t i = 0; i < n; i++) {
        rc_obj_t *x;
        if (i & 1) {
            x = must(rc_tuple_new(2));
            rc_tuple_set(x, 0, must(rc_int_new(1000 + (int64_t)(i & 0xffff))));
            rc_tuple_set(x, 1, must(rc_int_new((int64_t)(i & 127))));
        } else {
            x = must(rc_int_new(1000 + (int64_t)(i & 0xffff)));
        }
        if (!rc_list_append(l, x))
            must(NULL);
        rc_decref(x);
        if (rc_list_size(l) == 1000) {
            sum += (uint64_t)rc_list_size(l);
            rc_decref(l);
            l = must(rc_list_new());
            rc_safepoint();
        }
    }
    rc_decref(l);
    return sum;
}

static const bench_workload_t counting[] = {
    { .name = "tl_incdec", .op = "incref+decref pair", .ops_per_iter = 1 << 20, .run = tl_incdec, .gate = true },
    { .name = "foreign_incdec", .op = "incref+decref pair, object of an exited thread", .ops_per_iter = 1 << 20,
      .run = foreign_incdec, .gate = true },
    { .name = "shared_read", .op = "incref+read+decref of a shared object", .ops_per_iter = 1 << 20,
      .setup = shared_setup, .run = shared_read, .teardown = shared_teardown, .gate = true },
    { .name = "smallint", .op = "int made from a census-drawn value, later dropped", .ops_per_iter = 1 << 18,
      .setup = smallint_setup, .run = smallint, .teardown = free, .gate = true },
    { .name = "smallint_nocache", .op = "int made (never cached), later dropped", .ops_per_iter = 1 << 18,
      .setup = smallint_setup, .run = smallint_nocache, .teardown = free, .gate = true },
    { .name = "list_churn", .op = "append of a new int or 2-tuple, later freed", .ops_per_iter = 1 << 17,
      .run = list_churn, .gate = true },
};
const bench_family_t bench_counting_family = BENCH_FAMILY(counting);
