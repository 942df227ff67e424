/* rc/strategy/census.h — the census flavour: atomic counting that also
 * records what every RC operation did (rcbench --census; never timed).
 *
 * Counting is atomic.h's: any thread may count any object, the count word
 * is one atomic 64-bit integer, decref releases and the thread that takes
 * it to zero acquires. Around it, out of line (rc/strategy/census.c), each
 * incref/decref records: on the object (a larger header: the creating
 * thread's id, its RC operations, the largest count it reached, a flag
 * once another thread counted it; relaxed read-modify-writes by any
 * thread), and in the calling thread's census record (ops on immortals,
 * by the owner, by others, small-int references: single-writer relaxed
 * counters). An object's fields are folded into its killer's record when
 * it dies; records are folded into process totals at thread exit, and
 * rc_census_read sums totals and live records (exact when quiescent).
 * An immortal object's header is never written. Design: docs/census.md.
 * Threading: as atomic.h.
 */
#ifndef RC_RC_H_INSIDE
#error "include rc/rc.h, not rc/strategy/census.h"
#endif
#ifndef RC_STRATEGY_CENSUS_H
#define RC_STRATEGY_CENSUS_H

#define RC_STRATEGY_CENSUS 1

typedef struct rc_census_type rc_census_type_t;

typedef struct rc_census_obj {
    union {
        RC_ATOMIC(uint64_t) refcnt_shared;        /* the count word, any thread */
        struct rc_census_obj *dead_next;          /* once dead: dealloc stack link */
    };
    uint64_t owner;                               /* the creating thread's rc_thread_t id; 0: immortal.
                                                   * Written before publication, then only read */
    RC_ATOMIC(uint64_t) ops;                      /* its RC operations: relaxed fetch_add, any thread */
    RC_ATOMIC(uint64_t) max;                      /* the largest count it reached: relaxed CAS, any thread */
    RC_ATOMIC(uint32_t) shared;                   /* 1 once a thread other than the owner counted it */
    const rc_census_type_t *type;
} rc_census_obj_t;

void _rc_census_dealloc(rc_census_obj_t *o);
void _rc_census_incref(rc_census_obj_t *o);
void _rc_census_decref(rc_census_obj_t *o);
void _rc_census_init_mortal(rc_census_obj_t *o);
RC_NORETURN void _rc_census_fault_freed(const rc_census_obj_t *o, const char *op);

static RC_ALWAYS_INLINE bool rc_census_is_immortal(const rc_census_obj_t *o)
{
    return (int64_t)at_load_relaxed(&((rc_census_obj_t *)o)->refcnt_shared) < 0;
}

static inline void rc_census_incref(rc_census_obj_t *o) { _rc_census_incref(o); }
static inline void rc_census_decref(rc_census_obj_t *o) { _rc_census_decref(o); }

/* The true count at this instant; RC_REFCNT_IMMORTAL for an immortal. */
static inline int64_t rc_census_refcount(const rc_census_obj_t *o)
{
    uint64_t c = at_load_relaxed(&((rc_census_obj_t *)o)->refcnt_shared);
    if (rc_cfg_debug && c == RC_REFCNT_FREED)
        _rc_census_fault_freed(o, "refcount");
    return (int64_t)c < 0 ? RC_REFCNT_IMMORTAL : (int64_t)c;
}

/* Initialisation happens before the object is published to other threads
 * (publication carries its own release), so relaxed stores suffice. */
static inline void _rc_census_init_immortal(rc_census_obj_t *o)
{
    o->owner = 0;
    at_store_relaxed(&o->ops, 0);
    at_store_relaxed(&o->max, 0);
    at_store_relaxed(&o->shared, 0);
    at_store_relaxed(&o->refcnt_shared, RC_REFCNT_IMMORTAL_INIT);
}
static inline void _rc_census_word_set(rc_census_obj_t *o, uint64_t w) { at_store_relaxed(&o->refcnt_shared, w); }
#define _rc_census_dead_next(o) ((o)->dead_next)
/* A dead object's reference to a child: an ordinary decref, counted (the
 * census is never timed: atomic.h's shortcut buys nothing here). */
static inline void _rc_census_drop_dead_ref(rc_census_obj_t *o) { _rc_census_decref(o); }

/* Test hook: the count (the whole word for a mortal object); not an RC
 * operation, so not recorded. */
static inline void _rc_census_count_set(rc_census_obj_t *o, uint64_t n) { at_store_relaxed(&o->refcnt_shared, n); }
#define rc_census_count_max INT64_MAX      /* counts saturate above this */
#define rc_census_refcount_max INT64_MAX   /* one count word: the same bound */
#define rc_census_uses_gil 0               /* no GIL: threads share objects freely */
/* Perceus's reuse test, as atomic.h. acquire: pairs with the release
 * fetch_sub in _rc_census_decref of every thread that dropped a reference
 * before, so its uses happen before the caller rewrites the object. */
static inline bool rc_census_is_unique(const rc_census_obj_t *o)
{
    return at_load_acquire(&((rc_census_obj_t *)o)->refcnt_shared) == 1;
}
static inline void rc_census_thread_attach(void) { _rc_world_attach(); }
static inline void rc_census_thread_detach(void) { _rc_world_detach(); }
static inline void rc_census_safepoint(void) { rc_world_poll(); }
/* Every count is exact at any time: stopping is all there is to do. */
static inline void rc_census_world_stop(void) { _rc_world_stop_slow(); }
static inline bool rc_census_is_attached(void) { return _rc_world_attached(); }
static inline void rc_census_world_resume(void) { _rc_world_resume_slow(); }
static inline void rc_census_world_sync(void) { }   /* counts are always exact */

/* rc_int_new handed out the cached small int VALUE: a new reference it
 * received without an incref (object.c, census builds only). */
void _rc_census_small_int_ref(int64_t value);

#endif /* RC_STRATEGY_CENSUS_H */
