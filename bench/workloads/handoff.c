/* bench/workloads/handoff.c — producer/consumer pairs: thread 2i makes
 * 2-tuples, thread 2i+1 takes them from a ring and drops them (biased's
 * non-owner path, the allocator's remote frees). One op is one tuple,
 * counted once for the pair.
 * Threading: one SPSC ring per pair (below); a side that waits detaches.
 */
#include <sched.h>
#include <stdalign.h>
#include <stdlib.h>

#include "base/arch.h"
#include "base/atomic.h"
#include "bench/workloads/workloads.h"

/* ---- handoff ------------------------------------------------------------------- */

/* One single-producer single-consumer ring per pair. The producer writes
 * a slot, then publishes it with a release store of `tail`; the consumer's
 * acquire load of `tail` pairs with it, so the object's initialisation is
 * visible before the consumer touches it; symmetrically the consumer's
 * release store of `head` (after reading the slot) pairs with the
 * producer's acquire load before it reuses the slot. A side that waits
 * spins briefly, then detaches until the other side moves, as a Python
 * thread blocked on a queue releases the GIL: it never holds up a
 * collection or the other side (with plain, spinning under the GIL would
 * cost a whole switch interval per hand-over). */
#define RING_FULL(r, tail)  ((tail) - at_load_acquire(&(r)->head) == RING)
#define RING_EMPTY(r, head) (at_load_acquire(&(r)->tail) == (head))
#define RING_WAIT(cond)                                                       \
    do {                                                                     \
        for (unsigned spins_ = 0; (cond); spins_++)                          \
            if (spins_ == 64) {                                              \
                rc_thread_detach();                                          \
                while (cond)                                                 \
                    sched_yield();                                           \
                rc_thread_attach();                                          \
                break;                                                       \
            }                                                                \
    } while (0)
#define RING 1024

typedef struct ring {
    alignas(RC_CACHE_LINE) RC_ATOMIC(uint64_t) tail;
    alignas(RC_CACHE_LINE) RC_ATOMIC(uint64_t) head;
    alignas(RC_CACHE_LINE) rc_obj_t *slot[RING];
} ring_t;

typedef struct handoff_ctx {
    unsigned pairs;
    ring_t *rings;
} handoff_ctx_t;

static void *handoff_setup(const bench_params_t *p, unsigned threads)
{
    (void)p;
    handoff_ctx_t *c = bench_must_mem(malloc(sizeof *c));
    c->pairs = threads / 2;
    c->rings = bench_must_mem(aligned_alloc(RC_CACHE_LINE, sizeof(ring_t) * c->pairs));
    for (unsigned i = 0; i < c->pairs; i++) {
        at_store_relaxed(&c->rings[i].tail, 0);
        at_store_relaxed(&c->rings[i].head, 0);
    }
    return c;
}

static uint64_t handoff(void *ctx, unsigned thread, uint64_t n)
{
    handoff_ctx_t *c = ctx;
    ring_t *r = &c->rings[thread / 2];
    uint64_t sum = 0;
    if ((thread & 1) == 0) {                 /* producer */
        uint64_t tail = at_load_relaxed(&r->tail);
        for (uint64_t i = 0; i < n; i++) {
            rc_obj_t *t = must(rc_tuple_new(2));
            rc_tuple_set(t, 0, must(rc_int_new(1000 + (int64_t)(i & 1023))));
            rc_tuple_set(t, 1, must(rc_small_int((int64_t)(i & 127))));
            /* acquire: pairs with the consumer's release store of head. */
            RING_WAIT(RING_FULL(r, tail));
            r->slot[tail & (RING - 1)] = t;
            /* release: publishes the slot (pairs with the consumer's acquire). */
            at_store_release(&r->tail, ++tail);
            if ((i & 4095) == 4095)
                rc_safepoint();
        }
    } else {                                 /* consumer */
        uint64_t head = at_load_relaxed(&r->head);
        for (uint64_t i = 0; i < n; i++) {
            /* acquire: pairs with the producer's release store of tail. */
            RING_WAIT(RING_EMPTY(r, head));
            rc_obj_t *t = r->slot[head & (RING - 1)];
            /* release: the slot is read; pairs with the producer's acquire. */
            at_store_release(&r->head, ++head);
            sum += (uint64_t)rc_int_value(rc_tuple_get(t, 0));
            rc_decref(t);
            if ((i & 4095) == 4095)
                rc_safepoint();
        }
    }
    return sum;
}

static void handoff_teardown(void *ctx)
{
    handoff_ctx_t *c = ctx;
    for (unsigned i = 0; i < c->pairs; i++) {   /* both sides ran n: every ring is empty */
        ring_t *r = &c->rings[i];
        for (uint64_t h = at_load_relaxed(&r->head); h != at_load_relaxed(&r->tail); h++)
            rc_decref(r->slot[h & (RING - 1)]);
    }
    free(c->rings);
    free(c);
}

static const bench_workload_t handoff_w[] = {
    { .name = "handoff", .op = "2-tuple made on one thread, freed on another", .min_threads = 2, .thread_step = 2,
      .pairs = true, .ops_per_iter = 1 << 16, .setup = handoff_setup, .run = handoff, .teardown = handoff_teardown },
};
const bench_family_t bench_handoff_family = BENCH_FAMILY(handoff_w);
