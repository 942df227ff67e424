/* rc/strategy/biased.h — biased reference counting (Choi, Shull, Torrellas,
 * PACT 2018; CPython's free-threaded build, PEP 703).
 *
 * Every object is owned by the thread that made it. The owner counts in a
 * local field with a relaxed load and store (it is the only writer); any
 * other thread counts in an atomic shared field; the true count is local +
 * shared. A non-owner whose decrement would take a default-state shared
 * count below zero queues the object, once, on its owner's lock-free merge
 * queue instead; the owner merges at its next safepoint (free at 0, else
 * the object is merged: unowned, counted in shared by every thread). The
 * owner's local count reaching zero merges implicitly. An exiting owner
 * drains and closes its queue; a later queuer merges the object itself.
 *
 * Threading: any thread may incref/decref any object it holds a reference
 * to; call rc_biased_safepoint regularly on threads that own objects.
 *
 * Design: docs/biased.md.
 */
#ifndef RC_RC_H_INSIDE
#error "include rc/rc.h, not rc/strategy/biased.h"
#endif
#ifndef RC_STRATEGY_BIASED_H
#define RC_STRATEGY_BIASED_H

#define RC_STRATEGY_BIASED 1

typedef struct rc_biased_type rc_biased_type_t;

/* The header's words:
 *   owner_local  bits 63..32: owner thread id (0: none — immortal, or merged)
 *                bits 31..0 : local count; bit 31 set = immortal. 2^31 - 1
 *                owner increfs carry into bit 31 (saturation = immortality).
 *   shared       (count << 2) | state, count signed 62-bit; state 0 default,
 *                2 queued (on the owner's merge queue), 3 merged (unowned:
 *                every thread uses shared; the owner fields are 0, or
 *                the owner word kept when local had saturated: immortal).
 *   merge_next   link on the owner's merge queue; the dealloc stack's link
 *                once the object is dead.
 * Thread ids are 32-bit, handed out once, never reused. */
#define RC_BIASED_LOCAL_MASK      UINT64_C(0xFFFFFFFF)
#define RC_BIASED_LOCAL_IMMORTAL  UINT64_C(0x80000000)      /* bit 31 of owner_local */
#define RC_BIASED_IMMORTAL_INIT   UINT64_C(0xC0000000)      /* no owner, local immortal */
#define RC_BIASED_SHARED_SHIFT    2
#define RC_BIASED_SHARED_ONE      ((int64_t)1 << RC_BIASED_SHARED_SHIFT)
#define RC_BIASED_STATE_MASK      3
#define RC_BIASED_QUEUED          2
#define RC_BIASED_MERGED          3
/* A shared count this high is saturated: reported immortal, never
 * decremented again (the shared decrement is out of line and checks), so
 * never freed. The incref fast path needs no test: fetch_add cannot
 * overflow the 62-bit count from here (2^60 more increments). */
#define RC_BIASED_SHARED_SATURATED ((int64_t)1 << 60)
#define RC_BIASED_NO_TID          UINT32_MAX                /* a thread without an id */
_Static_assert((RC_BIASED_IMMORTAL_INIT & RC_BIASED_LOCAL_IMMORTAL) != 0, "immortal init must be immortal");
_Static_assert((RC_REFCNT_FREED & RC_BIASED_LOCAL_IMMORTAL) != 0, "the freed poison must read as immortal");

typedef struct rc_biased_obj {
    RC_ATOMIC(uint64_t) owner_local;       /* owner-written (tid << 32 | local) */
    RC_ATOMIC(int64_t) shared;             /* any thread: count << 2 | state */
    union {
        struct rc_biased_obj *merge_next;  /* queued: written by the queuing thread before its push */
        struct rc_biased_obj *dead_next;   /* once dead: link on the dealloc stack */
    };
    const rc_biased_type_t *type;
} rc_biased_obj_t;

/* The calling thread's id and its merge queue (RC_BIASED_NO_TID / NULL
 * until the thread first makes an object or attaches). */
extern _Thread_local uint32_t _rc_biased_tid;
/* The id in the owner word's position (tid << 32): owner_local ^ this is
 * below RC_BIASED_LOCAL_IMMORTAL exactly when the caller owns a mortal
 * object, so the owner's fast path is one xor and one compare. */
extern _Thread_local uint64_t _rc_biased_tid_hi;
extern _Thread_local RC_ATOMIC(uintptr_t) *_rc_biased_queue;

void _rc_biased_dealloc(rc_biased_obj_t *o);
uint32_t _rc_biased_thread_init_slow(void);
void _rc_biased_decref_shared_slow(rc_biased_obj_t *o);
void _rc_biased_merge_zero_slow(rc_biased_obj_t *o);
void _rc_biased_merge_queue_slow(void);
RC_NORETURN void _rc_biased_fault_freed(const rc_biased_obj_t *o, const char *op);
RC_NORETURN void _rc_biased_fault_underflow(const rc_biased_obj_t *o);

/* Immortal: the local count's bit, or a saturated shared count (sticky:
 * _rc_biased_decref_shared_slow never decrements one). */
static RC_ALWAYS_INLINE bool rc_biased_is_immortal(const rc_biased_obj_t *o)
{
    rc_biased_obj_t *m = (rc_biased_obj_t *)o;
    return (at_load_relaxed(&m->owner_local) & RC_BIASED_LOCAL_IMMORTAL) != 0 ||
           (at_load_relaxed(&m->shared) >> RC_BIASED_SHARED_SHIFT) >= RC_BIASED_SHARED_SATURATED;
}

#ifdef RC_INJECT_SLOWDOWN_BIASED_OWNER
/* The regression gate's trial only (tools/gate-trial.sh): an extra atomic
 * on the owner's path, which the gate must flag. */
extern RC_ATOMIC(uint64_t) _rc_inject_sink;
#endif

static RC_ALWAYS_INLINE void rc_biased_incref(rc_biased_obj_t *o)
{
    uint64_t w = at_load_relaxed(&o->owner_local);
    if (RC_LIKELY((w ^ _rc_biased_tid_hi) < RC_BIASED_LOCAL_IMMORTAL)) {
        at_store_relaxed(&o->owner_local, w + 1);        /* owner, mortal: single writer */
#ifdef RC_INJECT_SLOWDOWN_BIASED_OWNER
        at_fetch_add_relaxed(&_rc_inject_sink, 1);
#endif
        return;
    }
    if (RC_UNLIKELY(w & RC_BIASED_LOCAL_IMMORTAL)) {    /* immortal (or poisoned): never written */
        if (rc_cfg_debug && w == RC_REFCNT_FREED)
            _rc_biased_fault_freed(o, "incref");
        return;
    }
    at_fetch_add_relaxed(&o->shared, RC_BIASED_SHARED_ONE);  /* a new reference orders nothing */
}

static RC_ALWAYS_INLINE void rc_biased_decref(rc_biased_obj_t *o)
{
    uint64_t w = at_load_relaxed(&o->owner_local);
    if (RC_LIKELY((w ^ _rc_biased_tid_hi) < RC_BIASED_LOCAL_IMMORTAL)) {
        if (rc_cfg_debug && (w & RC_BIASED_LOCAL_MASK) == 0)
            _rc_biased_fault_underflow(o);
        at_store_relaxed(&o->owner_local, w - 1);        /* owner, mortal: single writer */
        if (RC_UNLIKELY((w & RC_BIASED_LOCAL_MASK) == 1))
            _rc_biased_merge_zero_slow(o);                /* implicit merge */
        return;
    }
    if (RC_UNLIKELY(w & RC_BIASED_LOCAL_IMMORTAL)) {
        if (rc_cfg_debug && w == RC_REFCNT_FREED)
            _rc_biased_fault_freed(o, "decref");
        return;
    }
    _rc_biased_decref_shared_slow(o);
}

/* The true count, local + shared (RC_REFCNT_IMMORTAL for an immortal or a
 * saturated object). Exact at a safepoint of every thread touching o; a
 * queued object's count includes the queue's reference. */
static inline int64_t rc_biased_refcount(const rc_biased_obj_t *o)
{
    rc_biased_obj_t *m = (rc_biased_obj_t *)o;
    uint64_t w = at_load_relaxed(&m->owner_local);
    if (rc_cfg_debug && w == RC_REFCNT_FREED)
        _rc_biased_fault_freed(o, "refcount");
    int64_t shared = at_load_relaxed(&m->shared) >> RC_BIASED_SHARED_SHIFT;   /* arithmetic */
    if ((w & RC_BIASED_LOCAL_IMMORTAL) || shared >= RC_BIASED_SHARED_SATURATED)
        return RC_REFCNT_IMMORTAL;
    return (int64_t)(w & RC_BIASED_LOCAL_MASK) + shared;
}

static inline uint32_t _rc_biased_self_tid(void)
{
    uint32_t tid = _rc_biased_tid;
    return RC_LIKELY(tid != RC_BIASED_NO_TID) ? tid : _rc_biased_thread_init_slow();
}

/* Initialisation happens before the object is published to other threads
 * (publication carries its own release), so relaxed stores suffice. */
static inline void _rc_biased_init_mortal(rc_biased_obj_t *o)
{
    at_store_relaxed(&o->owner_local, ((uint64_t)_rc_biased_self_tid() << 32) | 1);
    at_store_relaxed(&o->shared, 0);
}
static inline void _rc_biased_init_immortal(rc_biased_obj_t *o)
{
    at_store_relaxed(&o->owner_local, RC_BIASED_IMMORTAL_INIT);
    at_store_relaxed(&o->shared, 0);
}
/* The owner word, raw (debug poisoning). */
static inline void _rc_biased_word_set(rc_biased_obj_t *o, uint64_t w) { at_store_relaxed(&o->owner_local, w); }
/* Test hook: the owner-side count (local), owner kept; above INT32_MAX
 * it saturates (immortal), as increfs would. */
static inline void _rc_biased_count_set(rc_biased_obj_t *o, uint64_t n)
{
    uint64_t w = at_load_relaxed(&o->owner_local);
    uint64_t local = n > (uint64_t)INT32_MAX ? RC_BIASED_LOCAL_IMMORTAL : n;
    at_store_relaxed(&o->owner_local, (w & ~RC_BIASED_LOCAL_MASK) | local);
}
#define rc_biased_count_max ((int64_t)INT32_MAX)   /* local counts saturate above this */
/* Other threads count in shared, which saturates on its own at
 * RC_BIASED_SHARED_SATURATED (sticky, never decremented): a mortal object
 * reports at most local INT32_MAX + shared 2^60 - 1. The incref fast path
 * cannot saturate the sum without a test on the non-owner's fetch_add. */
#define rc_biased_refcount_max (rc_biased_count_max + RC_BIASED_SHARED_SATURATED - 1)
_Static_assert(rc_biased_refcount_max > rc_biased_count_max, "shared counts add to the local one");
#define _rc_biased_dead_next(o) ((o)->dead_next)
/* A dead object's reference to a child: an ordinary decref, except that
 * the owner's last local reference to a child no other thread counts
 * (shared 0: the test _rc_biased_merge_zero_slow makes) goes straight to
 * deallocation, without the store and the call. */
static RC_ALWAYS_INLINE void _rc_biased_drop_dead_ref(rc_biased_obj_t *o)
{
    /* acquire: pairs with non-owners' release decrements, so their uses
     * happen before the free (as in _rc_biased_merge_zero_slow). */
    if ((at_load_relaxed(&o->owner_local) ^ _rc_biased_tid_hi) == 1 && at_load_acquire(&o->shared) == 0)
        _rc_biased_dealloc(o);
    else
        rc_biased_decref(o);
}

/* Perceus's reuse test: is the caller's reference the only one? Yes when
 * the caller owns the object with local count 1 and no other thread
 * counts it (shared 0), or when the object is merged (unowned) with a
 * shared count of 1. A non-owner holding an owned object never knows:
 * the owner's local count is at least 1 until it merges. acquire: pairs
 * with non-owners' release decrements (their uses happen before the
 * rewrite), as in _rc_biased_drop_dead_ref. */
static inline bool rc_biased_is_unique(const rc_biased_obj_t *o)
{
    rc_biased_obj_t *m = (rc_biased_obj_t *)o;
    uint64_t w = at_load_relaxed(&m->owner_local);
    if ((w ^ _rc_biased_tid_hi) == 1)
        return at_load_acquire(&m->shared) == 0;
    return w == 0 && at_load_acquire(&m->shared) == (RC_BIASED_SHARED_ONE | RC_BIASED_MERGED);
}

#define rc_biased_uses_gil 0   /* no GIL */
static inline void rc_biased_thread_attach(void) { _rc_world_attach(); (void)_rc_biased_self_tid(); }
static inline void rc_biased_thread_detach(void) { _rc_world_detach(); }
/* Merges what other threads queued for this owner, then parks if the
 * world is being stopped. */
static inline void rc_biased_safepoint(void)
{
    RC_ATOMIC(uintptr_t) *q = _rc_biased_queue;
    if (RC_UNLIKELY(q != NULL && at_load_relaxed(q) != 0))
        _rc_biased_merge_queue_slow();
    rc_world_poll();
}
/* Stops the world, then merges every thread's queue (a non-owner may have
 * queued an object after its owner's last safepoint): every count is the
 * true local + shared count, with no queue's reference in it. */
void _rc_biased_drain_stopped(void);
static inline void rc_biased_world_stop(void)
{
    _rc_world_stop_slow();
    _rc_biased_drain_stopped();
}
/* May this thread stop the world (it is attached)? */
static inline bool rc_biased_is_attached(void) { return _rc_world_attached(); }
static inline void rc_biased_world_resume(void) { _rc_world_resume_slow(); }
/* With the world stopped by the caller: merge what its own count changes
 * queued since, so every count is exact again. */
static inline void rc_biased_world_sync(void) { _rc_biased_drain_stopped(); }

/* Test hook: called by a non-owner between marking an object queued and
 * pushing it (tests hold that window open). Set only while no other thread
 * runs; NULL otherwise. */
extern void (*_rc_biased_test_hook_queue)(rc_biased_obj_t *o);

/* Inspection, for tests and the harness. Process-wide counters. */
uint64_t rc_biased_queued_total(void);      /* objects pushed onto a merge queue */
uint64_t rc_biased_merged_total(void);      /* objects taken off one and merged */
uint64_t rc_biased_orphan_merges(void);     /* merged by a non-owner: owner had exited */
static inline uint32_t rc_biased_owner_of(const rc_biased_obj_t *o)
{
    return (uint32_t)(at_load_relaxed(&((rc_biased_obj_t *)o)->owner_local) >> 32);
}
static inline int rc_biased_shared_state(const rc_biased_obj_t *o)
{
    return (int)(at_load_relaxed(&((rc_biased_obj_t *)o)->shared) & RC_BIASED_STATE_MASK);
}
/* Test hook: set both counters (state kept). */
static inline void rc_biased_debug_set_counts(rc_biased_obj_t *o, uint32_t local, int64_t shared_count)
{
    uint64_t w = at_load_relaxed(&o->owner_local);
    at_store_relaxed(&o->owner_local, (w & ~RC_BIASED_LOCAL_MASK) | local);
    int64_t s = at_load_relaxed(&o->shared);
    at_store_relaxed(&o->shared, (int64_t)((uint64_t)shared_count << RC_BIASED_SHARED_SHIFT) |
                                 (s & RC_BIASED_STATE_MASK));
}

#endif /* RC_STRATEGY_BIASED_H */
