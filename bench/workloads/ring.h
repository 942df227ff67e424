/* bench/workloads/ring.h — the bounded single-producer single-consumer
 * ring that hands work from one thread of a pair to the other (handoff's
 * tuples, alloc_prodcons's blocks): one ring, whose users differ only in
 * their policy (bench_ring_policy_t).
 *
 * Indices count items; slot i % BENCH_RING_SLOTS holds item i. Each side
 * publishes its own index every `publish` items and before it waits (and,
 * by bench_ring_publish_*, at the end of its run). handoff runs in
 * lockstep, as the shared_ptr peer's ring does (its versus table compares
 * the two): every index published at once, the partner's read before
 * every item, 64 tight spins before a waiting side detaches. alloc_prodcons
 * publishes every 64 and reads its partner's index only when the ring
 * looks full (producer) or empty (consumer), so the ring's own cache-line
 * traffic stays a small part of what it measures, the allocator's remote
 * free (the block itself still crosses from one core to the other); it
 * spins with rc_cpu_relax, then yields. A detached side holds neither the
 * GIL nor a collection.
 * Threading: one producer and one consumer per ring; each side keeps its
 * private view (bench_ring_end_t) on its own stack. Not compiled per
 * strategy (base/ only).
 */
#ifndef RC_BENCH_WORKLOADS_RING_H
#define RC_BENCH_WORKLOADS_RING_H

#include <sched.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arch.h"
#include "base/atomic.h"

/* Slots (a power of two): as many as a batch of alloc_batch, so the
 * producer can run up to a batch ahead. */
#define BENCH_RING_SLOTS 1024u
_Static_assert((BENCH_RING_SLOTS & (BENCH_RING_SLOTS - 1)) == 0, "BENCH_RING_SLOTS must be a power of two");

/* Invariants: head <= tail <= head + BENCH_RING_SLOTS; tail is written by
 * the producer only, head by the consumer only, each alone on its cache
 * line. Slots are plain: the release/acquire pairs on the indices hand
 * them over. */
typedef struct bench_ring_spsc {
    alignas(RC_CACHE_LINE) RC_ATOMIC(uint64_t) tail;   /* shared: producer writes */
    alignas(RC_CACHE_LINE) RC_ATOMIC(uint64_t) head;   /* shared: consumer writes */
    alignas(RC_CACHE_LINE) void *slot[BENCH_RING_SLOTS];
} bench_ring_spsc_t;

/* One side's private view: its own index, the value of it last
 * published, its partner's index as last read. */
typedef struct bench_ring_end {
    uint64_t next, published, seen;
} bench_ring_end_t;

/* A user's policy. Its index is published every `publish` items (1 ..
 * BENCH_RING_SLOTS); its partner's is read before every item (`poll`) or
 * only when the ring looks full or empty. A wait is `spins` re-reads of
 * the partner's index (each after an rc_cpu_relax if `relax`), then either
 * sched_yield and spin again (park NULL), or park() once, sched_yield
 * until the partner moves, and unpark(). */
typedef struct bench_ring_policy {
    unsigned publish;
    bool poll;
    bool relax;
    unsigned spins;
    void (*park)(void);
    void (*unpark)(void);
} bench_ring_policy_t;

/* Empties the ring (both indices 0). No side may be running. */
static inline void bench_ring_init(bench_ring_spsc_t *r)
{
    at_store_relaxed(&r->tail, 0);
    at_store_relaxed(&r->head, 0);
}

/* A side's view at the start of its run, which starts with the ring empty
 * (both sides ran as many items, and published, in the run before; the
 * caller orders that run before this one). Its own index: relaxed, only
 * this side writes it. */
static inline bench_ring_end_t bench_ring_producer_spsc(bench_ring_spsc_t *r)
{
    uint64_t tail = at_load_relaxed(&r->tail);
    return (bench_ring_end_t){ .next = tail, .published = tail, .seen = tail };
}

static inline bench_ring_end_t bench_ring_consumer_spsc(bench_ring_spsc_t *r)
{
    uint64_t head = at_load_relaxed(&r->head);
    return (bench_ring_end_t){ .next = head, .published = head, .seen = head };
}

static inline void bench_ring_publish_tail(bench_ring_spsc_t *r, bench_ring_end_t *e)
{
    /* release: pairs with the consumer's acquire load of tail in
     * _bench_ring_blocked: publishes the slots below e->next and what they
     * point to (the objects' initialisation, the blocks' sequence numbers,
     * and the allocator's writes, so a malloc happens-before its remote
     * free). A plain mov on x86-64 (TSO), stlr on ARM64. */
    at_store_release(&r->tail, e->next);
    e->published = e->next;
}

static inline void bench_ring_publish_head(bench_ring_spsc_t *r, bench_ring_end_t *e)
{
    /* release: pairs with the producer's acquire load of head in
     * _bench_ring_blocked: our reads of the slots below e->next are done,
     * so they may be overwritten. */
    at_store_release(&r->head, e->next);
    e->published = e->next;
}

/* Reads the partner's index into e->seen; whether this side still has to
 * wait (producer: the ring is full; consumer: it is empty). */
static inline bool _bench_ring_blocked(bench_ring_spsc_t *r, bench_ring_end_t *e, bool producer)
{
    if (producer) {
        /* acquire: pairs with the consumer's release in
         * bench_ring_publish_head: its reads of the slots we are about to
         * reuse happened before. */
        e->seen = at_load_acquire(&r->head);
        return e->next - e->seen == BENCH_RING_SLOTS;
    }
    /* acquire: pairs with the producer's release in
     * bench_ring_publish_tail: the slots below tail, and what they point
     * to, are ready. */
    e->seen = at_load_acquire(&r->tail);
    return e->next == e->seen;
}

static inline void _bench_ring_wait(bench_ring_spsc_t *r, bench_ring_end_t *e, bool producer,
                                    const bench_ring_policy_t *pol)
{
    unsigned spins = 0;
    while (_bench_ring_blocked(r, e, producer)) {
        if (++spins < pol->spins) {
            if (pol->relax)
                rc_cpu_relax();
        } else if (pol->park == NULL) {
            spins = 0;
            sched_yield();
        } else {
            pol->park();
            while (_bench_ring_blocked(r, e, producer))
                sched_yield();
            pol->unpark();
            return;
        }
    }
}

static inline void bench_ring_push_spsc(bench_ring_spsc_t *r, bench_ring_end_t *e, void *item,
                                        const bench_ring_policy_t *pol)
{
    if (pol->poll ? _bench_ring_blocked(r, e, true /* producer */) : e->next - e->seen == BENCH_RING_SLOTS) {
        if (e->published != e->next)
            bench_ring_publish_tail(r, e);   /* the consumer must see all before we wait */
        _bench_ring_wait(r, e, true /* producer */, pol);
    }
    r->slot[e->next++ & (BENCH_RING_SLOTS - 1)] = item;
    if (e->next - e->published >= pol->publish)
        bench_ring_publish_tail(r, e);
}

static inline void *bench_ring_pop_spsc(bench_ring_spsc_t *r, bench_ring_end_t *e, const bench_ring_policy_t *pol)
{
    if (pol->poll ? _bench_ring_blocked(r, e, false /* producer */) : e->next == e->seen) {
        if (e->published != e->next)
            bench_ring_publish_head(r, e);   /* a producer waiting on a full ring needs it */
        _bench_ring_wait(r, e, false /* producer */, pol);
    }
    void *item = r->slot[e->next++ & (BENCH_RING_SLOTS - 1)];
    if (e->next - e->published >= pol->publish)
        bench_ring_publish_head(r, e);
    return item;
}

#endif /* RC_BENCH_WORKLOADS_RING_H */
