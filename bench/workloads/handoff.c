/* bench/workloads/handoff.c — producer/consumer pairs: thread 2i makes
 * 2-tuples, thread 2i+1 takes them from a ring and drops them (biased's
 * non-owner path, the allocator's remote frees). One op is one tuple,
 * counted once for the pair.
 * Threading: one SPSC ring per pair (bench/workloads/ring.h); a side that
 * waits spins briefly, then detaches until the other side moves, as a
 * Python thread blocked on a queue releases the GIL: it never holds up a
 * collection or the other side (with plain, spinning under the GIL would
 * cost a whole switch interval per hand-over).
 */
#include <stdlib.h>

#include "base/arch.h"
#include "bench/workloads/ring.h"
#include "bench/workloads/workloads.h"

/* ---- handoff ------------------------------------------------------------------- */

/* In lockstep, as the shared_ptr peer's ring: every tuple published at
 * once, the partner's index read before every tuple; 64 tight spins, then
 * detached, so a waiting side holds the GIL (plain) only that long while
 * its partner cannot move. */
static const bench_ring_policy_t handoff_ring = {
    .publish = 1, .poll = true, .relax = false, .spins = 64, .park = rc_thread_detach, .unpark = rc_thread_attach,
};

typedef struct handoff_ctx {
    unsigned pairs;
    bench_ring_spsc_t *rings;
} handoff_ctx_t;

static void *handoff_setup(const bench_params_t *p, unsigned threads)
{
    (void)p;
    handoff_ctx_t *c = bench_must_mem(malloc(sizeof *c));
    c->pairs = threads / 2;
    c->rings = bench_must_mem(aligned_alloc(RC_CACHE_LINE, sizeof(bench_ring_spsc_t) * c->pairs));
    for (unsigned i = 0; i < c->pairs; i++)
        bench_ring_init(&c->rings[i]);
    return c;
}

static uint64_t handoff(void *ctx, unsigned thread, uint64_t n)
{
    handoff_ctx_t *c = ctx;
    bench_ring_spsc_t *r = &c->rings[thread / 2];
    uint64_t sum = 0;
    if ((thread & 1) == 0) {                 /* producer */
        bench_ring_end_t e = bench_ring_producer_spsc(r);
        for (uint64_t i = 0; i < n; i++) {
            rc_obj_t *t = must(rc_tuple_new(2));
            rc_tuple_set(t, 0, must(rc_int_new(1000 + (int64_t)(i & 1023))));
            rc_tuple_set(t, 1, must(rc_small_int((int64_t)(i & 127))));
            bench_ring_push_spsc(r, &e, t, &handoff_ring);
            if ((i & 4095) == 4095)
                rc_safepoint();
        }
        bench_ring_publish_tail(r, &e);
    } else {                                 /* consumer */
        bench_ring_end_t e = bench_ring_consumer_spsc(r);
        for (uint64_t i = 0; i < n; i++) {
            rc_obj_t *t = bench_ring_pop_spsc(r, &e, &handoff_ring);
            sum += (uint64_t)rc_int_value(rc_tuple_get(t, 0));
            rc_decref(t);
            if ((i & 4095) == 4095)
                rc_safepoint();
        }
        bench_ring_publish_head(r, &e);
    }
    return sum;
}

static void handoff_teardown(void *ctx)
{
    handoff_ctx_t *c = ctx;
    for (unsigned i = 0; i < c->pairs; i++) {   /* both sides ran n: every ring is empty */
        bench_ring_spsc_t *r = &c->rings[i];
        for (uint64_t h = at_load_relaxed(&r->head); h != at_load_relaxed(&r->tail); h++)
            rc_decref(r->slot[h & (BENCH_RING_SLOTS - 1)]);
    }
    free(c->rings);
    free(c);
}

static const bench_workload_t handoff_w[] = {
    { .name = "handoff", .op = "2-tuple made on one thread, freed on another", .min_threads = 2, .thread_step = 2,
      .pairs = true, .ops_per_iter = 1 << 16, .setup = handoff_setup, .run = handoff, .teardown = handoff_teardown },
};
const bench_family_t bench_handoff_family = BENCH_FAMILY(handoff_w);
