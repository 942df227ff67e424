/* bench/neutral.c — the strategy-neutral workloads and the strategy table.
 *
 *   alloc_pairs  the allocator alone: malloc of 16..256 bytes (a fixed
 *                cycle of sizes), the block touched, freed 64 operations
 *                later (a window, so blocks are not reused at once);
 *   empty        a loop with nothing in it: what the harness itself adds
 *                to an operation (it must be well under 1 ns).
 * Threading: each thread its own window; no shared state.
 */
#include <stdint.h>
#include <string.h>

#include "alloc/alloc.h"
#include "base/compiler.h"
#include "bench/harness.h"
#include "rc/rc.h"
#include "rc/strategies.h"

#define X(s) extern const bench_strategy_t bench_##s##_workloads;
RC_FOR_EACH_STRATEGY(X)
#undef X
#define X(s) &bench_##s##_workloads,
const bench_strategy_t *const harness_strategies[] = { RC_FOR_EACH_STRATEGY(X) };
#undef X
const unsigned harness_nstrategies = sizeof harness_strategies / sizeof harness_strategies[0];

#define PAIR_WINDOW 64

static uint64_t alloc_pairs(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    static const uint16_t sizes[8] = { 16, 32, 48, 64, 96, 128, 192, 256 };
    void *window[PAIR_WINDOW] = { 0 };
    uint16_t wsize[PAIR_WINDOW] = { 0 };
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        unsigned slot = (unsigned)(i & (PAIR_WINDOW - 1));
        if (window[slot])
            alloc_free(window[slot], wsize[slot]);
        size_t sz = sizes[(i * 7) & 7];
        unsigned char *p = alloc_malloc(sz);
        if (RC_UNLIKELY(p == NULL))
            rc_fatal("out of memory (allocator %s): benchmark stopped", alloc_current->name);
        p[0] = (unsigned char)i;
        sum += p[0];
        window[slot] = p;
        wsize[slot] = (uint16_t)sz;
    }
    for (unsigned i = 0; i < PAIR_WINDOW; i++)
        if (window[i])
            alloc_free(window[i], wsize[i]);
    return sum;
}

static uint64_t empty(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    for (uint64_t i = 0; i < n; i++)
        RC_COMPILER_BARRIER();
    return n;
}

const bench_workload_t bench_alloc_pairs = {
    "alloc_pairs", "malloc + free of 16-256 bytes", 1, 1, 0, false, 1 << 20, NULL, alloc_pairs, NULL, NULL,
};
const bench_workload_t bench_empty = {
    "empty", "nothing (the harness's own cost)", 1, 1, 0, false, 1 << 22, NULL, empty, NULL, NULL,
};
