/* tests/objects.h — what the object-model tests ask of the heap, written
 * once: live() counts the objects alive after the calling thread's
 * safepoint (deferred's buffered decrements and biased's queued ones are
 * applied there, so a death is counted when the test expects it), and
 * link_nodes() stores a new reference to `to` in a node's slot.
 * Threading: the calling thread's, attached as its strategy requires.
 * (test_biased and test_deferred read the count without a safepoint on
 * purpose: they check what is still pending.)
 */
#ifndef RC_TESTS_OBJECTS_H
#define RC_TESTS_OBJECTS_H

#include <stdint.h>

#include "rc/rc.h"

static inline uint64_t live(void)
{
    rc_safepoint();
    return rc_stats_get().live;
}

static inline void link_nodes(rc_obj_t *from, uint32_t slot, rc_obj_t *to)
{
    rc_incref(to);
    rc_node_set(from, slot, to);
}

#endif
