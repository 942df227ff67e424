/* rc/strategy/plain.h — plain (non-atomic) reference counting.
 *
 * The count word (layout in rc/rc.h) is read and written with ordinary
 * loads and stores. Correct for objects confined to one thread; when
 * threads share objects every thread runs under the global interpreter lock
 * (rc_gil_*): rc_plain_thread_attach takes it, rc_plain_safepoint hands it
 * over when another thread waits, rc_plain_thread_detach drops it. That is
 * CPython with a GIL, the baseline the other strategies are measured
 * against. Attach and detach follow rc/rc.h's contract (a repeat does
 * nothing); a thread that blocks holding the GIL (pthread_join on a thread
 * that attaches) deadlocks, which the GIL's stall warning reports.
 *
 * incref: one test of the immortal bit through the word's high half, then
 * one add on memory (x86-64: cmpl $0,4(%rdi); js; addq $1,(%rdi) — checked
 * by tests/asm). decref: one load, one folded test `count <= 1` that catches
 * immortal (negative), underflow (0) and last reference (1), then a store;
 * behind that test an immortal returns without a call.
 * Threading: single writer at a time — the owning thread, or the GIL holder.
 */
#ifndef RC_RC_H_INSIDE
#error "include rc/rc.h, not rc/strategy/plain.h"
#endif
#ifndef RC_STRATEGY_PLAIN_H
#define RC_STRATEGY_PLAIN_H

typedef struct rc_plain_type rc_plain_type_t;

typedef struct rc_plain_obj {
    union {
        uint64_t refcnt;                          /* the count word */
        struct { uint32_t refcnt_lo; int32_t refcnt_hi; };  /* hi < 0 <=> immortal (little-endian) */
        struct rc_plain_obj *dead_next;           /* once dead: link on the dealloc stack */
    };
    const rc_plain_type_t *type;
} rc_plain_obj_t;

void _rc_plain_dealloc(rc_plain_obj_t *o);
void _rc_plain_decref_slow(rc_plain_obj_t *o);
RC_NORETURN void _rc_plain_fault_freed(const rc_plain_obj_t *o, const char *op);

static RC_ALWAYS_INLINE bool rc_plain_is_immortal(const rc_plain_obj_t *o)
{
    return o->refcnt_hi < 0;
}

static RC_ALWAYS_INLINE void rc_plain_incref(rc_plain_obj_t *o)
{
    if (RC_LIKELY(o->refcnt_hi >= 0))
        o->refcnt++;                 /* 2^63 increments saturate: see rc.h */
    else if (rc_cfg_debug && o->refcnt == RC_REFCNT_FREED)
        _rc_plain_fault_freed(o, "incref");
}

static RC_ALWAYS_INLINE void rc_plain_decref(rc_plain_obj_t *o)
{
    uint64_t c = o->refcnt;
    if (RC_UNLIKELY((int64_t)c <= 1)) {   /* immortal, underflow or last reference */
        /* An immortal returns here, inline, not through the call: a
         * workload of small ints drops immortals most of the time
         * (rcbench smallint: plain 1.6x atomic with the call). Debug
         * builds take the call, which tells a freed object from one. */
        if ((int64_t)c < 0 && !rc_cfg_debug)
            return;
        _rc_plain_decref_slow(o);
        return;
    }
    o->refcnt = c - 1;
}

/* The true count; RC_REFCNT_IMMORTAL for an immortal object. */
static inline int64_t rc_plain_refcount(const rc_plain_obj_t *o)
{
    if (rc_cfg_debug && o->refcnt == RC_REFCNT_FREED)
        _rc_plain_fault_freed(o, "refcount");
    return rc_plain_is_immortal(o) ? RC_REFCNT_IMMORTAL : (int64_t)o->refcnt;
}

static inline void _rc_plain_init_mortal(rc_plain_obj_t *o) { o->refcnt = 1; }
static inline void _rc_plain_init_immortal(rc_plain_obj_t *o) { o->refcnt = RC_REFCNT_IMMORTAL_INIT; }
static inline void _rc_plain_word_set(rc_plain_obj_t *o, uint64_t w) { o->refcnt = w; }
#define _rc_plain_dead_next(o) ((o)->dead_next)
/* A dead object's reference to a child: an ordinary decref, except that
 * the last reference goes straight to deallocation (no call through the
 * rare path; the count word is the dealloc link from here on). */
static RC_ALWAYS_INLINE void _rc_plain_drop_dead_ref(rc_plain_obj_t *o)
{
    if (o->refcnt == 1)
        _rc_plain_dealloc(o);
    else
        rc_plain_decref(o);
}

/* Threads: attach before touching shared objects, detach before blocking
 * or exiting; call rc_plain_safepoint regularly (every few thousand ops). */
/* Test hook: the count (the whole word for a mortal object). */
static inline void _rc_plain_count_set(rc_plain_obj_t *o, uint64_t n) { o->refcnt = n; }
#define rc_plain_count_max INT64_MAX   /* counts saturate above this */
#define rc_plain_refcount_max INT64_MAX   /* one count word: the same bound */
#define rc_plain_uses_gil 1   /* shared work runs under the GIL */
/* Perceus's reuse test: is the caller's reference the only one? One
 * read: objects are confined to their thread or shared under the GIL. */
static inline bool rc_plain_is_unique(const rc_plain_obj_t *o) { return o->refcnt == 1; }
/* Attach takes the GIL (registering the thread), detach drops it; a repeat
 * does nothing, as under every strategy (rc/rc.h, "Threads"). Not a fast
 * path: a thread-local read, then the GIL's mutex. */
static inline void rc_plain_thread_attach(void)
{
    if (!rc_gil_held())
        rc_gil_acquire();
}
static inline void rc_plain_thread_detach(void)
{
    if (rc_gil_held())
        rc_gil_release();
}
static inline void rc_plain_safepoint(void) { rc_gil_safepoint(); }
/* The GIL is plain's world lock: the attached caller holds it and pins it (no
 * hand-over at safepoints until resumed), so no other
 * thread runs; nothing more to stop, every count is exact. */
static inline void rc_plain_world_stop(void) { rc_gil_pin(); }
/* May this thread stop the world (it is attached)? */
static inline bool rc_plain_is_attached(void) { return rc_gil_held(); }
static inline void rc_plain_world_resume(void) { rc_gil_unpin(); }
static inline void rc_plain_world_sync(void) { }

#endif /* RC_STRATEGY_PLAIN_H */
