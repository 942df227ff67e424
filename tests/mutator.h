/* tests/mutator.h — the seeded mix the sharing stress tests run (scenario
 * S4's shape), one step at a time: test_share and test_world step it,
 * test_gc_threads hands its own objects off the same way.
 *
 * A step takes one random word R. Three times in four it increfs a shared
 * object twice and decrefs it twice; otherwise it makes a new object (an
 * int or a small tuple) and exchanges it into a slot, releasing the one it
 * takes out, so objects die on threads other than their maker's (biased
 * queues them to their owner; deferred seals their decrements). The bits
 * of R each choice reads are fixed, so a seed replays the same run.
 * Threading: slots are RC_ATOMIC and exchanged acq_rel; the caller follows
 * its strategy's rules (attached, or holding the GIL under plain).
 */
#ifndef RC_TESTS_MUTATOR_H
#define RC_TESTS_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

#include "rc/rc.h"
#include "tests/check.h"

/* Up by two and back down: the count ends where it started. */
static inline void mutator_share(rc_obj_t *o)
{
    rc_incref(o);
    rc_incref(o);
    rc_decref(o);
    rc_decref(o);
}

/* Puts O (the caller's reference) in SLOT and releases what was there. */
static inline void mutator_handoff(RC_ATOMIC(rc_obj_t *) *slot, rc_obj_t *o)
{
    /* acq_rel: release publishes o's initialisation to whichever thread
     * takes it out; acquire pairs with the exchange that put `old` in, so
     * its contents are visible before we release it. */
    rc_obj_t *old = at_exchange_acq_rel(slot, o);
    if (old)
        rc_decref(old);
}

/* A new int or tuple of 1..4 items, chosen by R's bits 2 and 20-21. */
static inline rc_obj_t *mutator_new(uint64_t r)
{
    rc_obj_t *o = (r & 4) ? rc_int_new(100000 + (int64_t)(r >> 40))
                          : rc_tuple_new(1 + (int64_t)((r >> 20) & 3));
    REQUIRE(o != NULL);
    return o;
}

/* One step of the mix: R's low two bits choose share or hand-off, bits 8
 * and up the shared object or the slot. */
static inline void mutator_step(uint64_t r, rc_obj_t *const *shared, size_t nshared,
                                RC_ATOMIC(rc_obj_t *) *slots, size_t nslots)
{
    if ((r & 3) != 0)
        mutator_share(shared[(r >> 8) % nshared]);
    else
        mutator_handoff(&slots[(r >> 8) % nslots], mutator_new(r));
}

#endif /* RC_TESTS_MUTATOR_H */
