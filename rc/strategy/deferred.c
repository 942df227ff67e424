/* rc/strategy/deferred.c — deferred counting's slow paths: table misses,
 * flushes, epochs, sealed batches of decrements, attach and detach.
 *
 * Epochs are crossbeam-epoch's: a flush fences, reads the epoch G, applies
 * its increments, seals its decrements tagged G, announces G (release
 * store, fence), tries to advance (every attached slot announced G: a
 * release CAS to G + 1, at most twice) and applies the batches tagged
 * G - 2 or older. A batch is due at T + 2, not T + 1: the advance to T + 1
 * may rest on announcements made before the batch was sealed.
 *
 * Threading: miss, flush and attach/detach run on the calling thread over
 * its own record. Records are never freed (reused after a detach), so the
 * registry only grows and is walked without a lock. The epoch and each
 * record's slot (alone on its line) are shared, paired at each operation.
 * Batches of detached threads and decrements of unattached threads sit on
 * a shared list under shared_lock, which flushes take with trylock.
 *
 * Design: docs/deferred.md.
 */
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "rc/rc.h"

#define IDLE UINT64_MAX                      /* epoch slot of a detached thread */
_Static_assert(RC_DEFERRED_SLOTS <= 65536, "dirty slot indices are 16-bit");

typedef rc_deferred_slot_t entry_t;          /* {object, delta}: a table slot or a log entry */

typedef struct batch {
    struct batch *next;
    uint64_t tag;                            /* epoch read when sealed; due at tag + 2 */
    uint64_t n;
    entry_t e[RC_DEFERRED_BATCH];
} batch_t;

typedef struct rc_deferred_thread {
    /* Shared: the epoch slot, alone on its line (written at every flush). */
    _Alignas(RC_CACHE_LINE) RC_ATOMIC(uint64_t) announce;
    _Alignas(RC_CACHE_LINE) struct rc_deferred_thread *next;   /* registry link, written once before publication */
    RC_ATOMIC(bool) in_use;                  /* claimed by an attached thread */
    /* Owner only. */
    bool flushing;                           /* re-entry guard */
    uint32_t ndirty, nlog;
    uint16_t dirty[RC_DEFERRED_SLOTS];       /* table slots that hold an object */
    entry_t *log;                            /* RC_DEFERRED_LOG entries, kept with the record */
    batch_t *head, *tail;                    /* sealed batches, oldest first */
    batch_t *spare;                          /* one empty batch kept for reuse */
    /* Figures: owner-written (relaxed load + store), read by stats. */
    RC_ATOMIC(uint64_t) batches;             /* sealed batches held (head..tail) */
    RC_ATOMIC(uint64_t) flushes, forced, logged, inc_applied, dec_applied, pending, peak_bytes, max_delay;
} rc_deferred_thread_t;
_Static_assert(_Alignof(rc_deferred_thread_t) == RC_CACHE_LINE &&
               offsetof(rc_deferred_thread_t, next) == RC_CACHE_LINE,
               "the epoch slot must sit alone on its cache line (base/arch.h)");

_Thread_local rc_deferred_slot_t _rc_deferred_table[RC_DEFERRED_SLOTS];
_Thread_local rc_deferred_thread_t *_rc_deferred_self;
_Thread_local unsigned _rc_deferred_read_depth;

static RC_ATOMIC(uint64_t) global_epoch = 1;
static RC_ATOMIC(rc_deferred_thread_t *) registry;
static RC_ATOMIC(uint64_t) attached_now;

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static batch_t *shared_head, *shared_tail;   /* under shared_lock, oldest first */
static RC_ATOMIC(uint64_t) shared_pending;   /* entries on the shared list; written under the lock */
static RC_ATOMIC(uint64_t) shared_batches;   /* batches on it; written under the lock */
static RC_ATOMIC(uint64_t) shared_dec_applied, shared_max_delay;   /* written under the lock */
static RC_ATOMIC(uint64_t) shared_newest;    /* largest tag on the list; written under the lock */
static RC_ATOMIC(uint64_t) shared_applying;  /* taken off the list, not yet applied */

static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;

static void bump(RC_ATOMIC(uint64_t) *c, uint64_t by) { at_store_relaxed(c, at_load_relaxed(c) + by); }
static void raise_to(RC_ATOMIC(uint64_t) *c, uint64_t v)
{
    if (v > at_load_relaxed(c))
        at_store_relaxed(c, v);
}

static uint64_t thread_bytes(const rc_deferred_thread_t *t)
{
    return sizeof _rc_deferred_table + RC_DEFERRED_LOG * sizeof(entry_t) +
           (at_load_relaxed(&t->batches) + (t->spare != NULL)) * sizeof(batch_t);
}

/* ---- applying counts ---------------------------------------------------- */

static void apply_increment(rc_deferred_obj_t *o, uint64_t n)
{
    uint64_t c = at_load_relaxed(&o->refcnt);
    if ((int64_t)c < 0) {                    /* immortal (saturated since it was logged) */
        if (rc_cfg_debug && c == RC_REFCNT_FREED)
            _rc_deferred_fault_freed(o, "incref");
        return;
    }
    /* relaxed: a new reference orders nothing (it is made from one that
     * exists); what orders it before later decrements is the announce. */
    at_fetch_add_relaxed(&o->refcnt, n);
}

/* Drops n references of o now; frees it when they were the last. */
static void apply_decrement(rc_deferred_obj_t *o, uint64_t n)
{
    uint64_t c = at_load_relaxed(&o->refcnt);
    if ((int64_t)c < 0) {                    /* immortal: never written */
        if (rc_cfg_debug && c == RC_REFCNT_FREED)
            _rc_deferred_fault_freed(o, "decref");
        return;
    }
    /* release: pairs with the acquire below of whichever thread drops the
     * last reference; publishes this thread's uses of o, which precede the
     * decrement's logging. */
    uint64_t old = at_fetch_sub_release(&o->refcnt, n);
    if (RC_UNLIKELY(old <= n)) {
        if (old < n) {
            if (rc_cfg_debug)
                _rc_fault_underflow(o);
            return;                          /* release: reads as immortal, leaks */
        }
        at_fence_acquire_on(&o->refcnt);     /* pairs with every earlier release decrement */
        _rc_deferred_dealloc(o);
    }
}

/* A dead object's reference to a child: dropped at once. No thread can
 * reach the child through the dead object any more, and every increment
 * made through it was applied before the parent's count could reach 0.
 * An applied count of exactly 1 is then the dead parent's reference alone
 * (docs/deferred.md, "A dead parent's only reference"): every other
 * reference's increment, or that of the counted reference it was copied
 * from, is applied by now. So the child dies without the locked
 * decrement, pushed on the dealloc stack as under atomic and plain. */
void _rc_deferred_drop_dead_ref(rc_deferred_obj_t *o)
{
    /* acquire: pairs with the release fetch_sub of every decrement applied
     * to the child before (the increments between them are read-modify-
     * writes too, so the release sequences reach this load): their
     * threads' uses happen before the free, as after the acquire fence in
     * apply_decrement. An immortal or a freed word is never 1. */
    if (at_load_acquire(&o->refcnt) == 1)
        _rc_deferred_dealloc(o);
    else
        apply_decrement(o, 1);
}

static void apply_batch(const batch_t *b)
{
    for (uint64_t i = 0; i < b->n; i++)
        apply_decrement(b->e[i].obj, (uint64_t)-b->e[i].delta);
}

/* ---- batches ------------------------------------------------------------ */

static batch_t *batch_new(rc_deferred_thread_t *t)
{
    batch_t *b = t ? t->spare : NULL;
    if (b)
        t->spare = NULL;
    else if ((b = malloc(sizeof *b)) == NULL)
        rc_fatal_os("deferred: out of memory for a batch of %d decrements", RC_DEFERRED_BATCH);
    b->next = NULL;
    b->n = 0;
    return b;
}

static void batch_free(rc_deferred_thread_t *t, batch_t *b)
{
    if (t && t->spare == NULL)
        t->spare = b;
    else
        free(b);
}

/* Appends decrement e to the thread's batch tagged `tag`. */
static void seal(rc_deferred_thread_t *t, entry_t e, uint64_t tag)
{
    batch_t *b = t->tail;
    if (b == NULL || b->tag != tag || b->n == RC_DEFERRED_BATCH) {
        b = batch_new(t);
        b->tag = tag;
        if (t->tail)
            t->tail->next = b;
        else
            t->head = b;
        t->tail = b;
        bump(&t->batches, 1);
        raise_to(&t->peak_bytes, thread_bytes(t));
    }
    b->e[b->n++] = e;
    bump(&t->pending, 1);
}

/* Moves the thread's batches to the shared list (detach). */
static void hand_off(rc_deferred_thread_t *t)
{
    if (t->head == NULL)
        return;
    uint64_t n = 0;
    for (batch_t *b = t->head; b; b = b->next)
        n += b->n;
    pthread_mutex_lock(&shared_lock);
    if (shared_tail)
        shared_tail->next = t->head;
    else
        shared_head = t->head;
    shared_tail = t->tail;
    raise_to(&shared_newest, t->tail->tag);
    at_store_relaxed(&shared_pending, at_load_relaxed(&shared_pending) + n);
    at_store_relaxed(&shared_batches, at_load_relaxed(&shared_batches) + at_load_relaxed(&t->batches));
    pthread_mutex_unlock(&shared_lock);
    at_store_relaxed(&t->pending, at_load_relaxed(&t->pending) - n);
    t->head = t->tail = NULL;
    at_store_relaxed(&t->batches, 0);
}

static void flush(rc_deferred_thread_t *t, bool forced);

/* A decrement by a thread that is not attached: sealed onto the shared
 * list with the epoch read after a full fence, as a flush would. Every
 * RC_DEFERRED_BATCH of them the thread helps the epoch and applies what is
 * due, so a thread that never attaches cannot grow the list without bound
 * (unless attached threads stop passing safepoints). */
static void seal_shared(rc_deferred_obj_t *o, int64_t delta)
{
    at_fence_seq_cst();                      /* as flush step 1 */
    uint64_t g = at_load_relaxed(&global_epoch);
    pthread_mutex_lock(&shared_lock);
    batch_t *b = shared_tail;
    if (b == NULL || b->tag != g || b->n == RC_DEFERRED_BATCH) {
        b = batch_new(NULL);
        b->tag = g;
        if (shared_tail)
            shared_tail->next = b;
        else
            shared_head = b;
        shared_tail = b;
        at_store_relaxed(&shared_batches, at_load_relaxed(&shared_batches) + 1);
    }
    b->e[b->n++] = (entry_t){ o, delta };
    raise_to(&shared_newest, g);
    at_store_relaxed(&shared_pending, at_load_relaxed(&shared_pending) + 1);
    pthread_mutex_unlock(&shared_lock);
    static _Thread_local unsigned sealed_here;
    if (++sealed_here % RC_DEFERRED_BATCH == 0)
        flush(NULL, true);
}

/* ---- epochs ------------------------------------------------------------- */

/* Moves the epoch on if every attached thread announced it; returns the
 * epoch now (moved or not). */
static uint64_t try_advance(void)
{
    uint64_t g = at_load_relaxed(&global_epoch);
    at_fence_seq_cst();                      /* crossbeam's try_advance: slots read after the epoch */
    /* acquire: pairs with the release CAS that pushed each record. */
    for (rc_deferred_thread_t *t = at_load_acquire(&registry); t; t = t->next) {
        /* acquire: pairs with the thread's release announce; the increments
         * it applied before announcing happen before our advance. */
        uint64_t a = at_load_acquire(&t->announce);
        if (a != IDLE && a != g)
            return a > g ? at_load_relaxed(&global_epoch) : g;
    }
    /* release: pairs with the acquire load in reclaim (and in later
     * advancers); carries the announcements acquired above. */
    if (at_cas_strong_release(&global_epoch, &g, g + 1))
        return g + 1;
    return g;                                /* someone else advanced: g is the new value */
}

/* Announces epoch g for t: everything t logged before reading g is applied. */
static void announce(rc_deferred_thread_t *t, uint64_t g)
{
    /* release: pairs with the acquire slot load in try_advance; publishes
     * the increments applied in this flush. */
    at_store_release(&t->announce, g);
    at_fence_seq_cst();                      /* crossbeam's pin: announce before reading pointers */
}

/* Is a sealed batch (the thread's newest, or the shared list's) not yet
 * due at g? Then advancing the epoch is worth a try. */
static bool newest_waits(const rc_deferred_thread_t *t, uint64_t g)
{
    return (t && t->tail && t->tail->tag + 2 > g) ||
           (at_load_relaxed(&shared_pending) != 0 && at_load_relaxed(&shared_newest) + 2 > g);
}

/* Applies the shared list's batches that are due at epoch g (trylock: a
 * flush does not wait for another), or every batch (with the world
 * stopped: the lock is taken). */
static void reclaim_shared(uint64_t g, bool everything)
{
    if (at_load_relaxed(&shared_pending) == 0)
        return;
    if (everything)
        pthread_mutex_lock(&shared_lock);
    else if (pthread_mutex_trylock(&shared_lock) != 0)
        return;                              /* someone else is at it */
    /* The whole list: a detaching thread's hand-off may put older batches
     * behind newer ones. It is short (batches of threads that left). */
    batch_t *due = NULL, **end = &due, *keep = NULL, **kend = &keep, *last = NULL;
    uint64_t n = 0, batches = 0, delay = 0;
    for (batch_t *b = shared_head, *next; b; b = next) {
        next = b->next;
        b->next = NULL;
        if (everything || b->tag + 2 <= g) {
            *end = b;
            end = &b->next;
            n += b->n;
            batches++;
            if (g - b->tag > delay)
                delay = g - b->tag;
        } else {
            *kend = b;
            kend = &b->next;
            last = b;
        }
    }
    shared_head = keep;
    shared_tail = last;
    /* A read-modify-write: appliers lower it outside the lock. */
    at_fetch_add_relaxed(&shared_applying, n);
    at_store_relaxed(&shared_pending, at_load_relaxed(&shared_pending) - n);
    at_store_relaxed(&shared_batches, at_load_relaxed(&shared_batches) - batches);
    at_store_relaxed(&shared_dec_applied, at_load_relaxed(&shared_dec_applied) + n);
    raise_to(&shared_max_delay, delay);
    pthread_mutex_unlock(&shared_lock);
    /* Applied outside the lock: freeing may take a while, and a free never
     * comes back here (children are dropped at once, not sealed). */
    while (due) {
        batch_t *b = due;
        due = b->next;
        uint64_t bn = b->n;
        apply_batch(b);
        free(b);
        /* release: pairs with the acquire load in rc_deferred_sync; these
         * decrements (and the frees they caused) are done. */
        at_fetch_sub_release(&shared_applying, bn);
    }
}

static void reclaim(rc_deferred_thread_t *t)
{
    /* acquire: pairs with the advancer's release CAS; every increment
     * announced before the advance happens before our decrements. */
    uint64_t g = at_load_acquire(&global_epoch);
    while (t && t->head && t->head->tag + 2 <= g) {
        batch_t *b = t->head;
        t->head = b->next;
        if (t->head == NULL)
            t->tail = NULL;
        at_store_relaxed(&t->batches, at_load_relaxed(&t->batches) - 1);
        raise_to(&t->max_delay, g - b->tag);
        bump(&t->dec_applied, b->n);
        apply_batch(b);
        /* release: pairs with the acquire load in rc_deferred_sync; these
         * decrements (and the frees they caused) are done. */
        at_store_release(&t->pending, at_load_relaxed(&t->pending) - b->n);
        batch_free(t, b);
    }
    reclaim_shared(g, false);
}

/* ---- flush -------------------------------------------------------------- */

static void take(rc_deferred_thread_t *t, entry_t e, uint64_t tag)
{
    if (e.delta > 0) {
        apply_increment(e.obj, (uint64_t)e.delta);
        bump(&t->inc_applied, 1);
    } else if (e.delta < 0) {
        seal(t, e, tag);
    }
}

static void flush(rc_deferred_thread_t *t, bool forced)
{
    if (t == NULL) {                         /* not attached: nothing logged; help the epoch */
        for (int k = 0; k < 2 && newest_waits(NULL, at_load_relaxed(&global_epoch)); k++)
            (void)try_advance();
        reclaim(NULL);
        return;
    }
    if (RC_UNLIKELY(t->flushing))
        rc_fatal("deferred: a flush re-entered itself (a free logged a count change)");
    if (RC_UNLIKELY(!forced && _rc_deferred_read_depth != 0))
        rc_fatal("deferred: rc_safepoint or rc_thread_detach inside a read section");
    t->flushing = true;
    at_fence_seq_cst();                      /* step 1: the program's unlinks before the epoch read */
    uint64_t g = at_load_relaxed(&global_epoch);
    for (uint32_t i = 0; i < t->ndirty; i++) {
        rc_deferred_slot_t *s = &_rc_deferred_table[t->dirty[i]];
        take(t, *s, g);
        s->obj = NULL;
        s->delta = 0;
    }
    t->ndirty = 0;
    for (uint32_t i = 0; i < t->nlog; i++)
        take(t, t->log[i], g);
    t->nlog = 0;
    /* Inside a read section the thread may hold pointers it loaded but has
     * not counted yet: no announcement, so the epoch cannot pass them. */
    bool quiescent = _rc_deferred_read_depth == 0;
    if (quiescent)
        announce(t, g);
    for (int k = 0; quiescent && k < 2 && newest_waits(t, g); k++) {
        uint64_t now = try_advance();
        if (now == g)
            break;                           /* someone has not announced g yet */
        g = now;
        announce(t, g);                      /* nothing logged since the flush above */
    }
    reclaim(t);
    bump(&t->flushes, 1);
    if (forced)
        bump(&t->forced, 1);
    t->flushing = false;
}

/* The normal safepoint path, not a rare one: noinline, not cold. */
RC_NOINLINE void _rc_deferred_flush(void) { flush(_rc_deferred_self, false); }

/* ---- the table's miss path ---------------------------------------------- */

RC_SLOW_PATH void _rc_deferred_miss_slow(rc_deferred_obj_t *o, int64_t delta)
{
    rc_deferred_thread_t *t = _rc_deferred_self;
    if (RC_UNLIKELY(t == NULL)) {            /* not attached: no buffering */
        if (delta > 0)
            apply_increment(o, (uint64_t)delta);
        else
            seal_shared(o, delta);
        return;
    }
    uint32_t i = (uint32_t)RC_DEFERRED_SLOT_OF(o);
    rc_deferred_slot_t *s = &_rc_deferred_table[i];
    if (s->obj == NULL) {
        t->dirty[t->ndirty++] = (uint16_t)i;
    } else if (s->delta != 0) {
        t->log[t->nlog++] = *s;              /* evicted; a zero delta is dropped */
        bump(&t->logged, 1);
    }
    s->obj = o;
    s->delta = delta;
    if (RC_UNLIKELY(t->nlog == RC_DEFERRED_LOG))
        flush(t, true);                      /* bounded buffers: a full log flushes here */
}

/* ---- attach, detach, thread exit ---------------------------------------- */

static void detach(rc_deferred_thread_t *t)
{
    flush(t, false);
    hand_off(t);
    /* release: pairs with the acquire slot load in try_advance: our last
     * increments happen before an advance that no longer waits for us. */
    at_store_release(&t->announce, IDLE);
    _rc_deferred_self = NULL;
    at_fetch_sub_relaxed(&attached_now, 1);
    /* release: pairs with the acquire CAS of the next thread to claim it;
     * the record's owner-only fields are handed over clean. */
    at_store_release(&t->in_use, false);
}

/* Thread exit: run first by the core's exit handler (rc_core_on_thread_exit);
 * the strategy's own key is the fallback for a thread without a core
 * record. Idempotent. */
static void exit_hook(void)
{
    if (_rc_deferred_self)
        detach(_rc_deferred_self);
}

static void thread_exit(void *arg)
{
    (void)arg;
    exit_hook();
}

static void exit_key_create(void)
{
    if (pthread_key_create(&exit_key, thread_exit) != 0)
        rc_fatal_os("pthread_key_create failed: cannot flush deferred counts at thread exit");
    rc_core_on_thread_exit(exit_hook);
}

static rc_deferred_thread_t *claim_record(void)
{
    /* acquire: pairs with the release CAS that pushed each record. */
    for (rc_deferred_thread_t *t = at_load_acquire(&registry); t; t = t->next) {
        bool free_rec = false;
        /* acquire: pairs with the release store in detach; the record's
         * owner-only fields are the last owner's, clean. */
        if (!at_load_relaxed(&t->in_use) && at_cas_strong_acquire(&t->in_use, &free_rec, true))
            return t;
    }
    rc_deferred_thread_t *t = aligned_alloc(RC_CACHE_LINE, sizeof *t);
    entry_t *log = malloc(RC_DEFERRED_LOG * sizeof *log);
    if (t == NULL || log == NULL)
        rc_fatal_os("deferred: out of memory for a thread record");
    memset(t, 0, sizeof *t);
    t->log = log;
    at_store_relaxed(&t->announce, IDLE);
    at_store_relaxed(&t->in_use, true);
    rc_deferred_thread_t *head = at_load_relaxed(&registry);
    do
        t->next = head;
    /* release: publishes the record's initialisation to registry walkers. */
    while (!at_cas_weak_release(&registry, &head, t));
    return t;
}

RC_SLOW_PATH void _rc_deferred_attach_slow(void)
{
    (void)rc_thread_self();
    (void)pthread_once(&exit_key_once, exit_key_create);
    rc_deferred_thread_t *t = claim_record();
    if (pthread_setspecific(exit_key, t) != 0)
        rc_fatal_os("pthread_setspecific failed: cannot flush deferred counts at thread exit");
    raise_to(&t->peak_bytes, thread_bytes(t));
    /* Join at the current epoch (possibly one behind by the time it is
     * seen: that only delays the next advance until our next flush). */
    announce(t, at_load_relaxed(&global_epoch));
    at_fetch_add_relaxed(&attached_now, 1);
    _rc_deferred_self = t;
}

RC_SLOW_PATH void _rc_deferred_detach_slow(void) { detach(_rc_deferred_self); }

/* The world is stopped by the caller (rc_deferred_world_stop): every other
 * attached thread flushed before it parked and holds no uncounted
 * reference, so every sealed decrement can be applied now, whatever its
 * epoch. The parked owners' batch lists are written here; the world lock
 * orders that between their parking and their resuming. */
void _rc_deferred_drain_stopped(void)
{
    if (!rc_world_is_stopped())
        rc_fatal("deferred: draining every thread's batches needs the world stopped");
    /* acquire: pairs with the release CAS that pushed each record. */
    for (rc_deferred_thread_t *t = at_load_acquire(&registry); t; t = t->next) {
        while (t->head) {
            batch_t *b = t->head;
            t->head = b->next;
            if (t->head == NULL)
                t->tail = NULL;
            at_store_relaxed(&t->batches, at_load_relaxed(&t->batches) - 1);
            bump(&t->dec_applied, b->n);
            apply_batch(b);
            at_store_release(&t->pending, at_load_relaxed(&t->pending) - b->n);
            batch_free(t, b);
        }
    }
    reclaim_shared(at_load_acquire(&global_epoch), true);   /* acquire: as in reclaim */
}

/* ---- sync and figures ---------------------------------------------- */

/* Done when no decrement is sealed anywhere nor being applied: every
 * record's pending count (released by its owner after applying), the
 * shared list's and its in-flight batches (read under its lock, where
 * taking batches off raises shared_applying as it lowers shared_pending). */
static bool nothing_pending(void)
{
    /* acquire: pairs with the release CAS that pushed each record. */
    for (rc_deferred_thread_t *r = at_load_acquire(&registry); r; r = r->next)
        /* acquire: pairs with the owner's release store after applying. */
        if (at_load_acquire(&r->pending) != 0)
            return false;
    pthread_mutex_lock(&shared_lock);
    /* acquire: pairs with the release decrement after each batch applied. */
    bool done = at_load_relaxed(&shared_pending) == 0 && at_load_acquire(&shared_applying) == 0;
    pthread_mutex_unlock(&shared_lock);
    return done;
}

void rc_deferred_sync(void)
{
    rc_deferred_thread_t *t = _rc_deferred_self;
    for (unsigned spins = 0;; spins++) {
        flush(t, false);
        if (nothing_pending())
            return;
        if (spins > 64)
            sched_yield();                   /* other attached threads must pass safepoints */
    }
}

void rc_deferred_stats_get(rc_deferred_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->epoch = at_load_relaxed(&global_epoch);
    out->attached = at_load_relaxed(&attached_now);
    /* acquire: pairs with the release CAS that pushed each record. */
    for (rc_deferred_thread_t *t = at_load_acquire(&registry); t; t = t->next) {
        out->flushes += at_load_relaxed(&t->flushes);
        out->forced_flushes += at_load_relaxed(&t->forced);
        out->logged += at_load_relaxed(&t->logged);
        out->increments_applied += at_load_relaxed(&t->inc_applied);
        out->decrements_applied += at_load_relaxed(&t->dec_applied);
        out->pending_decrements += at_load_relaxed(&t->pending);
        uint64_t peak = at_load_relaxed(&t->peak_bytes), delay = at_load_relaxed(&t->max_delay);
        if (peak > out->thread_buffer_peak)
            out->thread_buffer_peak = peak;
        if (delay > out->max_delay_epochs)
            out->max_delay_epochs = delay;
        if (at_load_relaxed(&t->in_use))
            out->buffer_bytes += sizeof _rc_deferred_table;        /* the thread's table */
        out->buffer_bytes += RC_DEFERRED_LOG * sizeof(entry_t) +   /* kept with the record */
                             (at_load_relaxed(&t->batches) + 1) * sizeof(batch_t);   /* + spare, at most */
    }
    out->decrements_applied += at_load_relaxed(&shared_dec_applied);
    out->pending_decrements += at_load_relaxed(&shared_pending);
    out->buffer_bytes += at_load_relaxed(&shared_batches) * sizeof(batch_t);
    uint64_t delay = at_load_relaxed(&shared_max_delay);
    if (delay > out->max_delay_epochs)
        out->max_delay_epochs = delay;
}

void rc_deferred_stats_reset_peaks(void)
{
    /* acquire: pairs with the release CAS that pushed each record. */
    for (rc_deferred_thread_t *t = at_load_acquire(&registry); t; t = t->next) {
        at_store_relaxed(&t->peak_bytes, 0);
        at_store_relaxed(&t->max_delay, 0);
    }
    pthread_mutex_lock(&shared_lock);
    at_store_relaxed(&shared_max_delay, 0);
    pthread_mutex_unlock(&shared_lock);
}

uint64_t rc_deferred_thread_buffer_bytes(void)
{
    rc_deferred_thread_t *t = _rc_deferred_self;
    return t ? thread_bytes(t) : 0;
}
