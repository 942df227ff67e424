/* gc/gc.h — the generational cycle detector (CPython's gc, generalised to
 * threads), compiled once per strategy like the object model.
 *
 * Containers (tuple, list, node) are tracked from the moment their
 * constructor returns until they die; ints are not. Each carries a
 * RC_GC_HEAD_BYTES (24-byte) header in front: two links on a generation
 * list, and one word holding flags (bits 2-5: tracked, finalized,
 * collecting, unreachable), the id of the owning thread's record (bits
 * 8-31) and, during a collection, the scratch count (bits 32-63). The word
 * holds no generation: an object's generation is the list it is on.
 * CPython's header is 16 bytes (it keeps the scratch count in a link
 * during a collection).
 *
 * Three generations with CPython's policy as defaults: a collection of
 * generation 0 after 700 net container allocations; generation 1 every 10
 * generation-0 collections; generation 2 every 10 generation-1 collections
 * and only when the objects promoted into it since its last collection
 * exceed 25% of it. A collection of generation g examines generations
 * 0..g: it stops the world (every count exact: biased queues merged,
 * deferred decrements applied), copies each object's count into the
 * scratch field, subtracts the references from inside the set, propagates
 * reachability from what stays above zero, and the rest is garbage.
 * Finalizers run once per object; what they resurrect (and what that
 * reaches) survives; the rest is cleared and freed. Survivors move one
 * generation up. Then the world resumes.
 *
 * Collections run on a thread that is attached: the allocating thread
 * when a threshold is crossed (as in CPython, a container allocation may
 * collect and run finalizers; not while the thread has the world stopped
 * itself, nor inside a deferred read section), the timer thread
 * (gc_set_timer_ms), or any thread calling gc_collect. Finalizers run
 * with the world stopped: they must not wait for another thread.
 *
 * Contract: a thread that makes, drops or uses containers while a
 * collection may run is attached (a collection parks attached threads
 * only). Making a container unattached is fatal; a container freed by a
 * thread that is not attached (a deferred decrement applied late, a
 * thread exit) joins the world for the unlink. A container freed on
 * another thread waits on its owner's stack until the owner's next
 * container allocation, the owner's exit (or right away when the owner
 * has exited), or the next collection: an idle owner pins those blocks
 * until then.
 *
 * Threading: each thread links the containers it makes on its own lists
 * (no lock, no atomic); a container that dies on another thread is pushed
 * on its owner's remote stack (one release CAS) and unlinked — its block
 * freed — at the owner's next container allocation or at the next
 * collection. Settings are atomics; statistics are written by collectors
 * (one at a time) and read under the collection lock.
 */
#ifndef RC_GC_GC_H
#define RC_GC_GC_H

#include "rc/rc.h"

#ifndef RC_FLAVOUR_H
#error "gc/gc.h is compiled per strategy (RC_FLAVOUR_H)"
#endif

#define GC_GENERATIONS 3

/* Collects generations 0..generation (0..2; -1: the policy's choice, as
 * after an allocation) with the world stopped. Returns the number of
 * unreachable objects freed or left uncollectable, resurrected ones not
 * counted (what Python's gc.collect returns since 3.9), or -1 when the
 * calling thread is not attached (no collection); 0 when called from a
 * finalizer. */
int64_t gc_collect(int generation);

void gc_enable(void);
void gc_disable(void);          /* no automatic collection; gc_collect still works */
bool gc_is_enabled(void);
void gc_set_threshold(uint64_t t0, uint64_t t1, uint64_t t2);
void gc_get_threshold(uint64_t out[GC_GENERATIONS]);
/* Net container allocations since the last collection of generation 0;
 * collections of the younger generation since the last of 1 and of 2. */
void gc_get_count(uint64_t out[GC_GENERATIONS]);
/* Containers tracked now, in every thread's lists (exact with the world
 * quiescent). */
uint64_t gc_tracked_count(void);
bool gc_is_tracked(const rc_obj_t *o);

typedef struct gc_stats {
    uint64_t collections;       /* of this generation (examining 0..g) */
    uint64_t examined;          /* objects in the collected generations */
    uint64_t collected;         /* unreachable objects found */
    uint64_t uncollectable;     /* found unreachable but still alive after clearing */
    uint64_t resurrected;       /* found unreachable, alive again after finalizers */
    uint64_t pause_ns_total, pause_ns_max;
} gc_stats_t;
gc_stats_t gc_get_stats(int generation);
/* The q-quantile (0..1) of the last pauses of this generation's
 * collections (up to 4096 kept per generation), in ns; 0 with none.
 * GC_ALL: over every generation's kept pauses. */
#define GC_ALL (-1)
uint64_t gc_pause_quantile_ns(int generation, double q);
/* Zeroes the statistics and forgets the kept pauses (between benchmark
 * runs); the collector's policy counts are untouched. */
void gc_reset_stats(void);

/* Collects generation 0 every ms milliseconds from a timer thread (0:
 * stop the timer). */
void gc_set_timer_ms(uint64_t ms);

/* Before each collection, check that no object has fewer references than
 * tracked containers hold to it, and abort with one line naming it if so
 * (a corrupted count): references from the generations being collected.
 * On by default in debug builds. */
void gc_set_debug_check(bool on);

#endif /* RC_GC_GC_H */
