/* rc/strategy/atomic.h — atomic reference counting (the Rust Arc pattern).
 *
 * The count word (layout in rc/rc.h) is an atomic 64-bit integer.
 * incref: relaxed load to test the immortal bit, then a relaxed
 * fetch_add — a new reference can only be made from an existing one, so no
 * ordering is needed (x86-64: one `lock addq`; ARM64 LSE: one `ldadd`).
 * decref: relaxed load for the immortal test, then a release fetch_sub so
 * every use of the object by this thread happens before the free; the thread
 * that takes the count from 1 to 0 issues an acquire fence (at_fence_acquire_on)
 * pairing with every other thread's release decrement before it tears the
 * object down. The immortal test comes first so an immortal word is never
 * written; the read-modify-write itself cannot be skipped, so decref has two
 * rare branches (immortal; old <= 1) instead of plain's one. A dead
 * object's references to its children skip the read-modify-write when
 * the child's count is 1 (_rc_atomic_drop_dead_ref).
 * Threading: any thread may incref/decref any object it holds a reference to.
 */
#ifndef RC_RC_H_INSIDE
#error "include rc/rc.h, not rc/strategy/atomic.h"
#endif
#ifndef RC_STRATEGY_ATOMIC_H
#define RC_STRATEGY_ATOMIC_H

typedef struct rc_atomic_type rc_atomic_type_t;

typedef struct rc_atomic_obj {
    union {
        RC_ATOMIC(uint64_t) refcnt_shared;        /* the count word, any thread */
        struct rc_atomic_obj *dead_next;          /* once dead (one owner left): dealloc stack link */
    };
    const rc_atomic_type_t *type;
} rc_atomic_obj_t;

void _rc_atomic_dealloc(rc_atomic_obj_t *o);
void _rc_atomic_decref_slow(rc_atomic_obj_t *o, uint64_t old);
RC_NORETURN void _rc_atomic_fault_freed(const rc_atomic_obj_t *o, const char *op);

static RC_ALWAYS_INLINE bool rc_atomic_is_immortal(const rc_atomic_obj_t *o)
{
    return (int64_t)at_load_relaxed(&((rc_atomic_obj_t *)o)->refcnt_shared) < 0;
}

static RC_ALWAYS_INLINE void rc_atomic_incref(rc_atomic_obj_t *o)
{
    uint64_t c = at_load_relaxed(&o->refcnt_shared);
    if (RC_LIKELY((int64_t)c >= 0))
        at_fetch_add_relaxed(&o->refcnt_shared, 1);
    else if (rc_cfg_debug && c == RC_REFCNT_FREED)
        _rc_atomic_fault_freed(o, "incref");
}

static RC_ALWAYS_INLINE void rc_atomic_decref(rc_atomic_obj_t *o)
{
    uint64_t c = at_load_relaxed(&o->refcnt_shared);
    if (RC_UNLIKELY((int64_t)c < 0)) {            /* immortal (or poisoned): never written */
        if (rc_cfg_debug && c == RC_REFCNT_FREED)
            _rc_atomic_fault_freed(o, "decref");
        return;
    }
    /* release: pairs with the acquire in _rc_atomic_decref_slow of whichever
     * thread drops the last reference; publishes this thread's uses. */
    uint64_t old = at_fetch_sub_release(&o->refcnt_shared, 1);
    if (RC_UNLIKELY(old <= 1))                     /* last reference, or underflow */
        _rc_atomic_decref_slow(o, old);
}

/* The true count at this instant; RC_REFCNT_IMMORTAL for an immortal. */
static inline int64_t rc_atomic_refcount(const rc_atomic_obj_t *o)
{
    uint64_t c = at_load_relaxed(&((rc_atomic_obj_t *)o)->refcnt_shared);
    if (rc_cfg_debug && c == RC_REFCNT_FREED)
        _rc_atomic_fault_freed(o, "refcount");
    return (int64_t)c < 0 ? RC_REFCNT_IMMORTAL : (int64_t)c;
}

/* Initialisation happens before the object is published to other threads
 * (publication carries its own release), so relaxed stores suffice. */
static inline void _rc_atomic_init_mortal(rc_atomic_obj_t *o) { at_store_relaxed(&o->refcnt_shared, 1); }
static inline void _rc_atomic_init_immortal(rc_atomic_obj_t *o) { at_store_relaxed(&o->refcnt_shared, RC_REFCNT_IMMORTAL_INIT); }
static inline void _rc_atomic_word_set(rc_atomic_obj_t *o, uint64_t w) { at_store_relaxed(&o->refcnt_shared, w); }
#define _rc_atomic_dead_next(o) ((o)->dead_next)
/* A dead object's reference to a child. A count read as 1 is this
 * reference alone: the dead object was its only holder, so no other
 * thread can add to it, and the child dies without a locked instruction
 * (libstdc++'s shared_ptr releases a unique owner the same way). Any
 * other count: an ordinary decref. */
static RC_ALWAYS_INLINE void _rc_atomic_drop_dead_ref(rc_atomic_obj_t *o)
{
    /* acquire: pairs with the release fetch_sub of every thread that
     * dropped a reference to the child before; their uses happen before
     * the free, as after the fence in _rc_atomic_decref_slow. */
    if (at_load_acquire(&o->refcnt_shared) == 1)
        _rc_atomic_dealloc(o);
    else
        rc_atomic_decref(o);
}

/* Test hook: the count (the whole word for a mortal object). */
static inline void _rc_atomic_count_set(rc_atomic_obj_t *o, uint64_t n) { at_store_relaxed(&o->refcnt_shared, n); }
#define rc_atomic_count_max INT64_MAX   /* counts saturate above this */
#define rc_atomic_refcount_max INT64_MAX   /* one count word: the same bound */
#define rc_atomic_uses_gil 0   /* no GIL: threads share objects freely */
/* Perceus's reuse test: is the caller's reference the only one? A count
 * of 1 held by the caller cannot rise (no one else can incref), so one
 * load answers. acquire: pairs with the release fetch_sub of every thread
 * that dropped a reference before, so its uses happen before the caller
 * rewrites the object in place. */
static inline bool rc_atomic_is_unique(const rc_atomic_obj_t *o)
{
    return at_load_acquire(&((rc_atomic_obj_t *)o)->refcnt_shared) == 1;
}
static inline void rc_atomic_thread_attach(void) { _rc_world_attach(); }
static inline void rc_atomic_thread_detach(void) { _rc_world_detach(); }
static inline void rc_atomic_safepoint(void) { rc_world_poll(); }
/* Every count is exact at any time: stopping is all there is to do. */
static inline void rc_atomic_world_stop(void) { _rc_world_stop_slow(); }
/* May this thread stop the world (it is attached)? */
static inline bool rc_atomic_is_attached(void) { return _rc_world_attached(); }
static inline void rc_atomic_world_resume(void) { _rc_world_resume_slow(); }
static inline void rc_atomic_world_sync(void) { }   /* counts are always exact */

#endif /* RC_STRATEGY_ATOMIC_H */
