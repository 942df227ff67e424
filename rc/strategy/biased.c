/* rc/strategy/biased.c — biased counting's rare paths: the shared decrement,
 * merge queues, implicit and explicit merges, thread ids and thread exit.
 *
 * Merge queues. Each thread id has one queue head in a table that is never
 * freed (ids are never reused), so a thread can find any owner's queue
 * without a lock: a two-level array of RC_ATOMIC(uintptr_t) heads, chunks
 * of 65536 made on first need. A push is a Treiber push (release CAS); the
 * owner takes the whole list with one acquire exchange (no pop, no ABA).
 * At exit the owner exchanges in QUEUE_DEAD: a pusher that sees it merges
 * the object itself, the owner's local count being final by then.
 *
 * The queue holds a reference: the decrement that queues an object does
 * not subtract (CPython's protocol), so a queued object cannot be freed
 * before its owner merges it; the merge subtracts that reference.
 *
 * Threading: decref_shared, queue pushes and orphan merges run on any
 * thread; merge_zero and merge_queue on the owner only; thread exit on the
 * exiting thread (pthread key destructor).
 */
#include <pthread.h>
#include <stdlib.h>

#include "rc/rc.h"

_Thread_local uint32_t _rc_biased_tid = RC_BIASED_NO_TID;
_Thread_local uint64_t _rc_biased_tid_hi = (uint64_t)RC_BIASED_NO_TID << 32;
_Thread_local RC_ATOMIC(uintptr_t) *_rc_biased_queue;

#define QUEUE_DEAD   ((uintptr_t)1)
#define CHUNK_SHIFT  16
#define CHUNK_SIZE   ((size_t)1 << CHUNK_SHIFT)

static RC_ATOMIC(RC_ATOMIC(uintptr_t) *) queue_chunks[(size_t)1 << (32 - CHUNK_SHIFT)];
static RC_ATOMIC(uint32_t) next_tid = 1;    /* 0: no owner */
static RC_ATOMIC(uint64_t) queued_total, merged_total, orphan_merges;
void (*_rc_biased_test_hook_queue)(rc_biased_obj_t *o);
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;

uint64_t rc_biased_queued_total(void) { return at_load_relaxed(&queued_total); }
uint64_t rc_biased_merged_total(void) { return at_load_relaxed(&merged_total); }
uint64_t rc_biased_orphan_merges(void) { return at_load_relaxed(&orphan_merges); }

/* The queue head of thread TID, its chunk made on first need. */
static RC_ATOMIC(uintptr_t) *queue_of(uint32_t tid)
{
    RC_ATOMIC(RC_ATOMIC(uintptr_t) *) *slot = &queue_chunks[tid >> CHUNK_SHIFT];
    /* acquire: pairs with the release CAS below; the chunk's zeroes are
     * visible before its heads are used. */
    RC_ATOMIC(uintptr_t) *chunk = at_load_acquire(slot);
    if (RC_UNLIKELY(chunk == NULL)) {
        RC_ATOMIC(uintptr_t) *fresh = calloc(CHUNK_SIZE, sizeof *fresh);
        if (fresh == NULL)
            rc_fatal_os("out of memory for a chunk of biased merge queues");
        /* release: publishes the zeroed chunk; acquire on failure: we use
         * the winner's chunk. */
        if (atomic_compare_exchange_strong_explicit(slot, &chunk, fresh, memory_order_acq_rel,
                                                    memory_order_acquire))
            chunk = fresh;
        else
            free(fresh);
    }
    return &chunk[tid & (CHUNK_SIZE - 1)];
}

/* local + shared + extra becomes the merged shared count; the owner fields
 * are cleared first (once the CAS publishes "merged", another thread may
 * free the object). Caller: the owner, or anyone once the owner is gone;
 * the object is queued, so no other thread queues it meanwhile (a queuer
 * that finds it merged instead drops the queue's reference, see
 * queue_object). Returns the merged count. */
static int64_t explicit_merge(rc_biased_obj_t *o, int64_t extra)
{
    uint64_t w = at_load_relaxed(&o->owner_local);
    if (w & RC_BIASED_LOCAL_IMMORTAL) {
        /* The local count saturated while queued: immortal for good (the
         * increfs since were never counted). The owner word stays, so no
         * fast path writes it; only the state says merged. */
        int64_t s = at_load_relaxed(&o->shared);
        while (!atomic_compare_exchange_weak_explicit(&o->shared, &s, s | RC_BIASED_MERGED,
                                                      memory_order_relaxed, memory_order_relaxed))
            ;
        return 1;                                  /* never freed */
    }
    int64_t local = (int64_t)(w & RC_BIASED_LOCAL_MASK);
    at_store_relaxed(&o->owner_local, 0);         /* no owner, local 0 */
    int64_t s = at_load_relaxed(&o->shared), n, count;
    do {
        count = (s >> RC_BIASED_SHARED_SHIFT) + local + extra;
        n = (int64_t)((uint64_t)count << RC_BIASED_SHARED_SHIFT) | RC_BIASED_MERGED;
        /* acq_rel: acquire pairs with other threads' release decrements
         * (their uses happen before a free at 0); release publishes ours. */
    } while (!atomic_compare_exchange_weak_explicit(&o->shared, &s, n, memory_order_acq_rel,
                                                    memory_order_relaxed));
    if (rc_cfg_debug && count < 0)
        _rc_fault_underflow(o);                    /* more releases than references */
    return count;
}

static void merge_list(rc_biased_obj_t *o)
{
    while (o != NULL) {
        rc_biased_obj_t *next = o->merge_next;
        at_fetch_add_relaxed(&merged_total, 1);
        if (explicit_merge(o, -1) == 0)               /* -1: the queue's reference */
            _rc_biased_dealloc(o);
        o = next;
    }
}

/* Queues O (state just set to queued by this thread) on its owner's queue,
 * or merges it here when the owner has exited. */
static void queue_object(rc_biased_obj_t *o)
{
    uint32_t owner = rc_biased_owner_of(o);
    if (owner == 0) {
        /* Between our CAS to queued and here the owner's local count hit
         * zero and merge_zero unbiased the object (the queue's reference
         * kept it alive). There is no queue to join: drop that reference as
         * any merged object's, which cannot queue again (the state is not
         * 0) and frees it if it was the last. CPython's brc does the same. */
        _rc_biased_decref_shared_slow(o);
        return;
    }
    RC_ATOMIC(uintptr_t) *q = queue_of(owner);
    uintptr_t head = at_load_relaxed(q);
    for (;;) {
        if (head == QUEUE_DEAD) {
            /* acquire: pairs with the owner's exchange at exit; its last
             * local count is visible. */
            (void)at_load_acquire(q);
            at_fetch_add_relaxed(&orphan_merges, 1);
            if (explicit_merge(o, -1) == 0)
                _rc_biased_dealloc(o);
            return;
        }
        o->merge_next = (rc_biased_obj_t *)head;
        /* release: pairs with the owner's acquire exchange; publishes the
         * link and the queued state. */
        if (at_cas_weak_release(q, &head, (uintptr_t)o))
            break;
    }
    at_fetch_add_relaxed(&queued_total, 1);
}

RC_SLOW_PATH void _rc_biased_decref_shared_slow(rc_biased_obj_t *o)
{
    int64_t s = at_load_relaxed(&o->shared), n;
    bool queue;
    do {
        /* A saturated shared count stays saturated (sticky immortality). */
        if (RC_UNLIKELY((s >> RC_BIASED_SHARED_SHIFT) >= RC_BIASED_SHARED_SATURATED))
            return;
        /* Count 0, default state: taking it negative means the owner's local
         * count holds this reference. Queue instead, and let the queue keep
         * the reference until the owner merges. */
        queue = s == 0;
        n = queue ? RC_BIASED_QUEUED : s - RC_BIASED_SHARED_ONE;
        if (rc_cfg_debug && (s & RC_BIASED_STATE_MASK) == RC_BIASED_MERGED &&
            (s >> RC_BIASED_SHARED_SHIFT) <= 0)
            _rc_fault_underflow(o);
        /* release: pairs with the acquire of whichever thread frees o;
         * publishes this thread's uses of it. */
    } while (!at_cas_weak_release(&o->shared, &s, n));
    if (queue) {
        if (RC_UNLIKELY(_rc_biased_test_hook_queue != NULL))
            _rc_biased_test_hook_queue(o);
        queue_object(o);
    } else if (n == RC_BIASED_MERGED) {              /* merged, count 0: ours to free */
        at_fence_acquire_on(&o->shared);             /* pairs with the other release decrements */
        _rc_biased_dealloc(o);
    }
}

RC_SLOW_PATH void _rc_biased_merge_zero_slow(rc_biased_obj_t *o)
{
    /* acquire: pairs with non-owners' release decrements, so their uses
     * happen before a free. */
    int64_t s = at_load_acquire(&o->shared);
    if (s == 0) {                                    /* no other reference anywhere */
        _rc_biased_dealloc(o);
        return;
    }
    /* Unbias: no owner from now on (cleared before the CAS, which may let
     * another thread free o), shared state merged, count kept. */
    at_store_relaxed(&o->owner_local, 0);
    int64_t n;
    do {
        n = (s & ~(int64_t)RC_BIASED_STATE_MASK) | RC_BIASED_MERGED;
        /* acq_rel: as in explicit_merge. */
    } while (!atomic_compare_exchange_weak_explicit(&o->shared, &s, n, memory_order_acq_rel,
                                                    memory_order_relaxed));
    if (rc_cfg_debug && (n >> RC_BIASED_SHARED_SHIFT) < 0)
        _rc_fault_underflow(o);                      /* more releases than references */
    if (n == RC_BIASED_MERGED)                       /* count 0 (only possible unqueued) */
        _rc_biased_dealloc(o);
}

/* The world is stopped by the caller: every owner is parked or detached,
 * so any queue can be merged here (the owners' local counts do not move).
 * Queues of exited owners are closed (QUEUE_DEAD) and empty. */
void _rc_biased_drain_stopped(void)
{
    if (!rc_world_is_stopped())
        rc_fatal("biased: merging every queue needs the world stopped");
    uint32_t end = at_load_relaxed(&next_tid);
    for (uint32_t tid = 1; tid < end; tid++) {
        /* acquire: pairs with the release CAS that published the chunk. */
        RC_ATOMIC(uintptr_t) *chunk = at_load_acquire(&queue_chunks[tid >> CHUNK_SHIFT]);
        if (chunk == NULL)
            continue;                        /* a thread still taking its id */
        RC_ATOMIC(uintptr_t) *q = &chunk[tid & (CHUNK_SIZE - 1)];
        uintptr_t head = at_load_relaxed(q);
        if (head == 0 || head == QUEUE_DEAD)
            continue;
        /* acquire: pairs with the pushers' release CAS. */
        merge_list((rc_biased_obj_t *)at_exchange_acquire(q, 0));
    }
}

RC_SLOW_PATH void _rc_biased_merge_queue_slow(void)
{
    /* acquire: pairs with the pushers' release CAS. */
    merge_list((rc_biased_obj_t *)at_exchange_acquire(_rc_biased_queue, 0));
}

/* Thread exit: merge until the queue is empty, then close it (pushers
 * now merge themselves). Closing only an empty queue matters: merging frees
 * objects, freeing decrefs children this thread still owns through the
 * owner's fast path, and a pusher must not orphan-merge such a child while
 * we may still write its owner word. Freeing may need this thread's id, so
 * the id goes last. */
static void drain_and_close(RC_ATOMIC(uintptr_t) *q)
{
    for (;;) {
        /* acquire: pairs with the pushers' release CAS. */
        uintptr_t head = at_exchange_acquire(q, 0);
        if (head != 0) {
            merge_list((rc_biased_obj_t *)head);
            continue;
        }
        /* release: pairs with the acquire of a pusher that sees QUEUE_DEAD,
         * so our last writes to owner words happen before its merge; fails
         * (and we merge again) if a push came in meanwhile. */
        uintptr_t empty = 0;
        if (atomic_compare_exchange_strong_explicit(q, &empty, QUEUE_DEAD, memory_order_acq_rel,
                                                    memory_order_relaxed))
            break;
    }
    _rc_biased_queue = NULL;
    _rc_biased_tid = RC_BIASED_NO_TID;
    _rc_biased_tid_hi = (uint64_t)RC_BIASED_NO_TID << 32;
}

/* Run first by the core's exit handler (rc_core_on_thread_exit), so the
 * drain's frees are counted on the thread's live record; the key above is
 * the fallback for a thread without one. Idempotent: the drain clears the
 * thread's queue pointer. */
static void exit_hook(void)
{
    if (_rc_biased_queue != NULL)
        drain_and_close(_rc_biased_queue);
}

static void thread_exit(void *arg)
{
    (void)arg;                               /* == _rc_biased_queue, unless the hook ran */
    exit_hook();
}

static void exit_key_create(void)
{
    if (pthread_key_create(&exit_key, thread_exit) != 0)
        rc_fatal_os("pthread_key_create failed: cannot drain biased merge queues at thread exit");
    rc_core_on_thread_exit(exit_hook);
}

RC_SLOW_PATH uint32_t _rc_biased_thread_init_slow(void)
{
    /* The core's thread record (and its pthread key) first: its exit
     * handler then runs before this strategy's fallback key, and so the
     * exit drain runs as its hook, attached to the world. */
    (void)rc_thread_self();
    uint32_t tid = at_fetch_add_relaxed(&next_tid, 1);
    if (tid >= RC_BIASED_NO_TID)
        rc_fatal("biased: more than 2^32 - 2 threads made objects; thread ids are 32-bit");
    RC_ATOMIC(uintptr_t) *q = queue_of(tid);
    pthread_once(&exit_key_once, exit_key_create);
    if (pthread_setspecific(exit_key, (void *)q) != 0)
        rc_fatal_os("pthread_setspecific failed: cannot drain biased merge queues at thread exit");
    _rc_biased_queue = q;
    _rc_biased_tid = tid;
    _rc_biased_tid_hi = (uint64_t)tid << 32;
    return tid;
}
