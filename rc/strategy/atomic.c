/* rc/strategy/atomic.c — the atomic strategy's out-of-line rare path.
 *
 * Reached from rc_atomic_decref when fetch_sub returned old <= 1: old == 1
 * means this thread dropped the last reference and owns the object alone;
 * old == 0 is an underflow (the word now reads as immortal, so the object
 * leaks rather than being freed twice).
 * Threading: called by the thread whose decrement hit zero.
 */
#include "rc/rc.h"

RC_SLOW_PATH void _rc_atomic_decref_slow(rc_atomic_obj_t *o, uint64_t old)
{
    if (old == 1) {
        /* acquire: pairs with the release fetch_sub of every other thread
         * that dropped a reference; their uses happen before the free. */
        at_fence_acquire_on(&o->refcnt_shared);
        _rc_atomic_dealloc(o);
    } else if (rc_cfg_debug) {
        _rc_fault_underflow(o);
    }
}
