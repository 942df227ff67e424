/* rc/strategy/plain.c — the plain strategy's out-of-line rare path.
 *
 * Reached from rc_plain_decref when the word read <= 1 as a signed number:
 * immortal or poisoned (negative), underflow (0) or the last reference (1).
 * Threading: as for plain.h — the single writer of the object's word.
 */
#include "rc/rc.h"

RC_SLOW_PATH void _rc_plain_decref_slow(rc_plain_obj_t *o)
{
    uint64_t c = o->refcnt;
    if (c == 1) {
        o->refcnt = 0;
        _rc_plain_dealloc(o);
    } else if (c == 0) {
        if (rc_cfg_debug)
            _rc_fault_underflow(o);
        o->refcnt = RC_REFCNT_IMMORTAL_INIT;    /* release: leak, never free twice */
    } else if (rc_cfg_debug && c == RC_REFCNT_FREED) {
        _rc_plain_fault_freed(o, "decref");
    }
    /* else immortal: nothing to do, nothing written */
}
