/* rc/strategy/deferred.h — deferred reference counting: buffered,
 * coalesced counts applied at safepoints, decrements two epochs late.
 *
 * Family: buffered / coalesced counting. Each thread logs its count
 * changes instead of making them (Bacon, Attanasio, Lee, Rajan, Smith,
 * "Java without the coffee breaks", PLDI 2001 — the Recycler's mutation
 * buffers, increments applied at once, decrements an epoch later); the
 * log coalesces repeated changes to one object into one delta
 * (Levanoni and Petrank, "An on-the-fly reference-counting garbage
 * collector for Java", OOPSLA 2001). The epochs that tell when a
 * decrement is safe are epoch-based reclamation's (Fraser, "Practical
 * lock-freedom", 2004; the fence placement follows crossbeam-epoch).
 *
 * Mutator fast path (incref/decref): no atomic read-modify-write, no lock,
 * and the object is not written. The thread's coalescing table is a
 * direct-mapped array of RC_DEFERRED_SLOTS {object, delta} slots in
 * thread-local storage, indexed by the object's address. A hit adds +-1 to
 * the slot's delta (a plain add to thread-local memory); a miss checks the
 * immortal bit (immortals are never logged) and calls
 * _rc_deferred_miss_slow, which moves the slot's old {object, delta} to
 * the thread's log (dropped if the delta is 0: an incref and a decref of
 * the same object cancel, the common case) and takes the slot. The log
 * holds RC_DEFERRED_LOG entries; a full log forces a flush on this thread,
 * so buffer memory is fixed: the table, the log, and the decrements
 * waiting for their epoch (below).
 *
 * The count word has the layout of rc/rc.h; it holds the applied count
 * only, and is changed only by flushes, with atomic read-modify-writes
 * (several threads flush the same object).
 *
 * Flush (rc_deferred_safepoint, a full log, detach, thread exit): apply
 * every positive delta at once (an early increment is always safe); seal
 * the negative ones into a batch tagged with the global epoch G read
 * after a full fence; announce "I have applied everything I logged before
 * reading G" in the thread's epoch slot; try to advance the epoch; apply
 * the batches whose tag is at most G - 2. The epoch advances from G to
 * G + 1 once every attached thread has announced G, so a batch tagged T is
 * applied only after every attached thread has flushed at least once
 * after the batch was sealed. Why that suffices: a thread can only log an
 * increment for a reference it got before the decrement that would free
 * the object (the program is race-free under immediate counting), and it
 * logs it before its next flush; so every increment that must precede a
 * decrement is applied before the decrement is, and an applied count never
 * reaches zero while a reference exists. A count that reaches zero frees
 * the object at once; its children's references die with it and are
 * dropped at once too (no thread can still get a reference through a dead
 * object), so a chain is freed in one flush, not one epoch per link.
 *
 * Bounds. Reclamation: an object whose last reference is dropped is freed
 * at the first flush of the dropping thread at which the epoch has moved
 * two past the batch's tag — two epochs after every attached thread
 * passed a safepoint. A thread alone (the others detached) advances the
 * epoch twice itself and frees at the same safepoint. Buffers: the table
 * and the log are fixed; sealed batches live for at most two epochs, so
 * they hold what a thread logs while every other attached thread passes
 * two safepoints (an attached thread that never passes one holds every
 * other thread's batches; detach around blocking, as with the GIL).
 *
 * Threads. rc_deferred_thread_attach joins the epoch; detach (and thread
 * exit, which detaches) flushes, leaves the epoch and hands the thread's
 * sealed batches to a shared list that any flush applies when due. A
 * detached or never-attached thread does not hold epochs back; it may
 * still use objects, through the slow path: increments applied at once,
 * decrements sealed onto the shared list (every RC_DEFERRED_BATCH of them
 * it helps the epoch and applies what is due, so the list stays bounded).
 *
 * Read sections (RCU's read side). Any incref or decref may flush (a full
 * log), and a flush announces the epoch, so outside a section a pointer a
 * thread loaded from shared memory but has not counted yet is safe only
 * until its next count operation, or its next container allocation when
 * the cycle detector is linked (an allocation may collect, and a
 * collection applies every decrement; not inside a section). Between rc_deferred_read_begin and
 * rc_deferred_read_end a forced flush applies and seals but does not
 * announce, so the thread may load pointers from slots other threads are
 * replacing and releasing, and incref them any time before the section
 * ends: no object it could have loaded is freed meanwhile (the torture
 * test). Sections nest; rc_safepoint, detach and sync inside one are
 * fatal; a long section holds every thread's frees back, as in RCU.
 *
 * Exact counts: rc_refcount reads the applied count. It is exact once
 * every thread that touched the object has flushed since, and the
 * decrements are due: after rc_safepoint on a thread that is the only one
 * attached (the usual test), or in a stop-the-world where every thread
 * flushed (the cycle detector). rc_deferred_sync() makes that explicit.
 *
 * Threading: the table, the log and the sealed batches are the thread's
 * own; epoch slots, the epoch and the shared batch list are shared (see
 * rc/strategy/deferred.c for each operation's pairing).
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
void _rc_deferred_flush_slow(void);
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
 * rc_deferred_sync(), see above. */
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

#define rc_deferred_uses_gil 0   /* no GIL */
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
    _rc_deferred_flush_slow();
    rc_world_poll();
}
/* Flushes, stops the world (every other thread flushed when it parked),
 * then applies every sealed decrement of every thread and of the shared
 * list regardless of its epoch: with no thread running, no increment can
 * be missing. Every count is then exact. */
void _rc_deferred_drain_stopped(void);
static inline void rc_deferred_world_stop(void)
{
    _rc_deferred_flush_slow();
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
    _rc_deferred_flush_slow();
    _rc_deferred_drain_stopped();
}

/* A read section (above): pointers loaded inside stay valid, counted or
 * not, until it ends. Costs one thread-local add each. */
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
