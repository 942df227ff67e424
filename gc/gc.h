/* gc/gc.h — the generational cycle detector (CPython's gc, generalised to
 * threads), compiled once per strategy like the object model.
 *
 * Containers (tuple, list, node) are tracked from construction to death
 * (tuples that can hold no cycle are untracked by a collection, as in
 * CPython) and carry a 16-byte header (two list links whose spare bits hold the
 * flags, generation and owner record; the scratch count takes one link's
 * place during a collection, as in CPython).
 * Three generations with CPython's thresholds (700, 10, 10). A collection
 * of generation g stops the world (every count exact), copies each count
 * into the scratch field, subtracts references from inside 0..g, keeps
 * what stays reachable from outside, runs finalizers once (resurrection
 * honoured), clears and frees the rest, and promotes the survivors.
 *
 * Linking is what turns it on: a program that links gc_<s> (the CMake
 * target, or libgc_<s>.a) has the collector, installed before main by a
 * constructor, whether or not it names a gc_ symbol; one that does not
 * link it has none (containers untracked, cycles never freed). CMake puts
 * --undefined=gc_<s>_install on gc_<s>'s INTERFACE; a hand-written link
 * line passes -Wl,--undefined=gc_<s>_install (or calls gc_install()).
 *
 * Threading: a thread that makes, drops or uses containers while a
 * collection may run is attached: with the collector linked in, making
 * one unattached is fatal (one line saying so), under every strategy. Each
 * thread links its containers on its own lists (no lock; the link and
 * unlink are inline in rc/object.c, the slow paths here); one that dies on
 * another thread goes on its owner's remote stack (one release CAS).
 * Finalizers run with the world stopped and must not wait for a thread.
 *
 * Design: docs/gc.md.
 */
#ifndef RC_GC_GC_H
#define RC_GC_GC_H

#include "rc/rc.h"

#ifndef RC_FLAVOUR_H
#error "gc/gc.h is compiled per strategy (RC_FLAVOUR_H)"
#endif

#define GC_GENERATIONS 3

/* Installs the collector's hooks into the object model. A constructor
 * calls it before main whenever this module is linked; calling it again
 * does nothing. It exists so a link line can name it
 * (-Wl,--undefined=gc_<s>_install): the explicit way to link the
 * collector in. */
void gc_install(void);

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
