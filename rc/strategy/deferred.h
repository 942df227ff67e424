/* rc/strategy/deferred.h — deferred reference counting: buffered,
 * coalesced counts applied at safepoints, decrements two epochs late
 * (the Recycler's buffers, Levanoni-Petrank coalescing, EBR's epochs).
 *
 * incref/decref add +-1 to the calling thread's slot for the object in a
 * direct-mapped thread-local table: no atomic, no lock, the object not
 * written; a miss logs the slot's old delta (a full log flushes). A flush
 * (safepoint, full log, detach, exit) applies increments, seals decrements
 * tagged with the epoch, announces it, applies the batches two epochs old;
 * a count at zero frees at once, so does a dead object's child at count 1.
 *
 * Threading: the table, the log and the sealed batches are the thread's
 * own; the epoch, the epoch slots and the shared batch list are shared
 * (rc/strategy/deferred.c pairs each operation). Attached threads pass
 * safepoints and detach around blocking: one that stops holds every
 * thread's frees back. Unattached threads count through the slow path.
 * A pointer loaded but not yet counted is safe inside a read section.
 *
 * Design: docs/deferred.md.
 */
#ifndef RC_RC_H_INSIDE
#error "include rc/rc.h, not rc/strategy/deferred.h"
#endif
#ifndef RC_STRATEGY_DEFERRED_H
#define RC_STRATEGY_DEFERRED_H

#define RC_STRATEGY_DEFERRED 1

typedef struct rc_deferred_type rc_deferred_type_t;

typedef struct rc_deferred_obj {
    union {
        RC_ATOMIC(uint64_t) refcnt;               /* the applied count (rc/rc.h layout) */
        struct rc_deferred_obj *dead_next;        /* once dead: link on the dealloc stack */
    };
    const rc_deferred_type_t *type;
} rc_deferred_obj_t;

/* The coalescing table: slot i holds the calling thread's unapplied delta
 * for one object whose address maps to i (obj NULL: empty). */
typedef struct rc_deferred_slot {
    rc_deferred_obj_t *obj;
    int64_t delta;
} rc_deferred_slot_t;

#define RC_DEFERRED_SLOT_OF(o) (((uintptr_t)(o) >> 4) & (RC_DEFERRED_SLOTS - 1))
_Static_assert((RC_DEFERRED_SLOTS & (RC_DEFERRED_SLOTS - 1)) == 0, "the table size must be a power of two");

extern _Thread_local rc_deferred_slot_t _rc_deferred_table[RC_DEFERRED_SLOTS];
extern _Thread_local unsigned _rc_deferred_read_depth;

void _rc_deferred_dealloc(rc_deferred_obj_t *o);
void _rc_deferred_miss_slow(rc_deferred_obj_t *o, int64_t delta);
/* Every safepoint runs it: out of line (noinline keeps the safepoint one
 * call), but not cold, hence not named _slow. */
void _rc_deferred_flush(void);
/* A dead object's reference to a child: applied count 1, the child dies
 * (no locked instruction); otherwise the decrement is applied at once. */
void _rc_deferred_drop_dead_ref(rc_deferred_obj_t *o);
void _rc_deferred_attach_slow(void);
void _rc_deferred_detach_slow(void);
RC_NORETURN void _rc_deferred_fault_freed(const rc_deferred_obj_t *o, const char *op);

static RC_ALWAYS_INLINE bool rc_deferred_is_immortal(const rc_deferred_obj_t *o)
{
    return (int64_t)at_load_relaxed(&((rc_deferred_obj_t *)o)->refcnt) < 0;
}

/* The hit path touches only the thread's table; the object's word is read
 * on a miss (immortal test) and in debug builds (use after free). */
static RC_ALWAYS_INLINE void _rc_deferred_log(rc_deferred_obj_t *o, int64_t delta, const char *op)
{
    if (rc_cfg_debug && at_load_relaxed(&o->refcnt) == RC_REFCNT_FREED)
        _rc_deferred_fault_freed(o, op);
    rc_deferred_slot_t *s = &_rc_deferred_table[RC_DEFERRED_SLOT_OF(o)];
    if (RC_LIKELY(s->obj == o)) {
        s->delta += delta;
        return;
    }
    if (RC_UNLIKELY((int64_t)at_load_relaxed(&o->refcnt) < 0))
        return;                                     /* immortal: never logged, never written */
    _rc_deferred_miss_slow(o, delta);
}

static RC_ALWAYS_INLINE void rc_deferred_incref(rc_deferred_obj_t *o) { _rc_deferred_log(o, 1, "incref"); }
static RC_ALWAYS_INLINE void rc_deferred_decref(rc_deferred_obj_t *o) { _rc_deferred_log(o, -1, "decref"); }

/* The applied count (RC_REFCNT_IMMORTAL for an immortal): exact after
 * rc_deferred_sync() (docs/deferred.md, "Exact counts"). */
static inline int64_t rc_deferred_refcount(const rc_deferred_obj_t *o)
{
    uint64_t c = at_load_relaxed(&((rc_deferred_obj_t *)o)->refcnt);
    if (rc_cfg_debug && c == RC_REFCNT_FREED)
        _rc_deferred_fault_freed(o, "refcount");
    return (int64_t)c < 0 ? RC_REFCNT_IMMORTAL : (int64_t)c;
}

/* Initialisation happens before the object is published to other threads
 * (publication carries its own release), so relaxed stores suffice. The
 * creator's reference is applied at once: a new object owes no epoch. */
static inline void _rc_deferred_init_mortal(rc_deferred_obj_t *o) { at_store_relaxed(&o->refcnt, 1); }
static inline void _rc_deferred_init_immortal(rc_deferred_obj_t *o) { at_store_relaxed(&o->refcnt, RC_REFCNT_IMMORTAL_INIT); }
static inline void _rc_deferred_word_set(rc_deferred_obj_t *o, uint64_t w) { at_store_relaxed(&o->refcnt, w); }
#define _rc_deferred_dead_next(o) ((o)->dead_next)
/* Test hook: the applied count (the whole word for a mortal object). */
static inline void _rc_deferred_count_set(rc_deferred_obj_t *o, uint64_t n) { at_store_relaxed(&o->refcnt, n); }
#define rc_deferred_count_max INT64_MAX   /* counts saturate above this */
#define rc_deferred_refcount_max INT64_MAX   /* one count word: the same bound */

#define rc_deferred_uses_gil 0   /* no GIL */
/* Perceus's reuse test: never yes. The applied count lags: any thread's
 * buffer may hold an increment not applied yet (a reference it holds), so
 * a count of 1 proves nothing until every thread has flushed, which only
 * a stopped world guarantees. Reuse under deferred counting needs the
 * compiler's static uniqueness (Lean's, Koka's), not a runtime test. */
static inline bool rc_deferred_is_unique(const rc_deferred_obj_t *o) { (void)o; return false; }
/* The calling thread's epoch record while attached (NULL otherwise). */
extern _Thread_local struct rc_deferred_thread *_rc_deferred_self;
static inline void rc_deferred_thread_attach(void)
{
    _rc_world_attach();
    if (_rc_deferred_self == NULL)
        _rc_deferred_attach_slow();
}
static inline void rc_deferred_thread_detach(void)
{
    if (_rc_deferred_self != NULL)
        _rc_deferred_detach_slow();
    _rc_world_detach();
}
/* Applies this thread's logged changes and whatever decrements are due,
 * then parks if the world is being stopped. */
static inline void rc_deferred_safepoint(void)
{
    _rc_deferred_flush();
    rc_world_poll();
}
/* Flushes, stops the world (every other thread flushed when it parked),
 * then applies every sealed decrement of every thread and of the shared
 * list regardless of its epoch: with no thread running, no increment can
 * be missing. Every count is then exact. */
void _rc_deferred_drain_stopped(void);
static inline void rc_deferred_world_stop(void)
{
    _rc_deferred_flush();
    _rc_world_stop_slow();
    _rc_deferred_drain_stopped();
}
/* May this thread stop the world (it is attached)? */
static inline bool rc_deferred_is_attached(void) { return _rc_world_attached(); }
static inline void rc_deferred_world_resume(void) { _rc_world_resume_slow(); }
/* With the world stopped by the caller: apply what the caller logged
 * since (and what that frees), so every count is exact again. */
static inline void rc_deferred_world_sync(void)
{
    _rc_deferred_flush();
    _rc_deferred_drain_stopped();
}

/* A read section (RCU's read side): pointers loaded inside stay valid,
 * counted or not, until it ends. Costs one thread-local add each; nests;
 * rc_safepoint, detach and rc_deferred_sync inside one are fatal. */
static inline void rc_deferred_read_begin(void) { _rc_deferred_read_depth++; }
static inline void rc_deferred_read_end(void)
{
    if (rc_cfg_debug && _rc_deferred_read_depth == 0)
        rc_fatal("deferred: rc_deferred_read_end without rc_deferred_read_begin");
    _rc_deferred_read_depth--;
}

/* Flushes until no decrement is sealed anywhere or being applied (every
 * thread's batches and the shared list): afterwards rc_refcount is exact
 * for any object no other thread touched since its last flush. Needs every
 * other attached thread to pass safepoints meanwhile (it spins otherwise)
 * and returns when they stop dropping references; a thread alone returns
 * after its own flush. For tests and quiescent points. */
void rc_deferred_sync(void);

/* Process-wide figures, for tests and the harness. Cumulative counters
 * count since start; "now" figures are exact when threads are quiescent. */
typedef struct rc_deferred_stats {
    uint64_t epoch;               /* the global epoch now */
    uint64_t attached;            /* threads attached now */
    uint64_t flushes;             /* flushes, forced ones included */
    uint64_t forced_flushes;      /* flushes forced by a full log */
    uint64_t logged;              /* entries moved from a table slot to a log */
    uint64_t increments_applied;  /* positive deltas applied (one atomic add each) */
    uint64_t decrements_applied;  /* negative deltas applied */
    uint64_t pending_decrements;  /* sealed, not yet applied (all threads, shared list) */
    uint64_t buffer_bytes;        /* tables + logs + sealed batches, all threads now */
    uint64_t thread_buffer_peak;  /* the most one thread's buffers held at once */
    uint64_t max_delay_epochs;    /* largest (epoch at apply - tag) of any batch */
} rc_deferred_stats_t;
void rc_deferred_stats_get(rc_deferred_stats_t *out);
/* Forgets thread_buffer_peak and max_delay_epochs (they restart from 0), so
 * a benchmark run reports its own. Call with no other thread attached:
 * the owners write these figures without a lock. */
void rc_deferred_stats_reset_peaks(void);
/* The calling thread's buffer bytes now (table + log + sealed batches). */
uint64_t rc_deferred_thread_buffer_bytes(void);

#endif /* RC_STRATEGY_DEFERRED_H */
