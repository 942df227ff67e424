/* rc/strategy/census.c — the census flavour's recording (census.h).
 *
 * incref/decref count as atomic.h does and record: on a mortal object,
 * one relaxed fetch_add of its ops, a relaxed CAS raising its max, and its
 * shared flag (relaxed store) when the caller is not its maker; in the
 * caller's record, one single-writer counter (immortal, owner or other
 * ops; an immortal small int's increfs per value). The thread whose
 * decref takes a count to zero folds the object (its ops, its largest
 * count's bit length, private or not) into its own record before freeing
 * it: its acquire pairs with every other thread's release decrement, so
 * their updates of the object's fields are visible then.
 * Records: one per thread, malloc'ed on its first operation, on a list
 * under census_lock; a pthread key's destructor folds the record into the
 * exited-threads totals (as rc/core.c folds objs_allocated) and frees it;
 * rc_census_read sums totals and live records with relaxed loads.
 * Threading: record counters have one writer (their thread); the list
 * and totals are under census_lock; object fields as above.
 */
#include <pthread.h>
#include <stdlib.h>

#include "rc/rc.h"

#define NFIELDS (sizeof(rc_census_t) / sizeof(uint64_t))
#define F(field) (offsetof(rc_census_t, field) / sizeof(uint64_t))
_Static_assert(sizeof(rc_census_t) == NFIELDS * sizeof(uint64_t), "rc_census_t holds uint64_t fields only");

typedef struct census_rec {
    rc_dlink_t link;                     /* on `records`, under census_lock */
    uint64_t thread_id;                  /* rc_thread_t id of its thread, taken once */
    RC_ATOMIC(uint64_t) v[NFIELDS];      /* rc_census_t's fields; written by its thread only */
} census_rec_t;

static pthread_mutex_t census_lock = PTHREAD_MUTEX_INITIALIZER;
static rc_dlist_t records;               /* live threads' records, under census_lock */
static uint64_t exited[NFIELDS];         /* exited threads' sums, under census_lock */
static pthread_key_t rec_key;
static pthread_once_t rec_once = PTHREAD_ONCE_INIT;
static _Thread_local census_rec_t *tls_rec;

static void rec_exit(void *arg)
{
    census_rec_t *r = arg;
    pthread_mutex_lock(&census_lock);
    for (size_t i = 0; i < NFIELDS; i++)
        exited[i] += at_load_relaxed(&r->v[i]);
    rc_dlist_remove(&records, &r->link);
    pthread_mutex_unlock(&census_lock);
    tls_rec = NULL;                      /* a later destructor's op makes a new record */
    free(r);
}

static void rec_key_create(void)
{
    if (pthread_key_create(&rec_key, rec_exit) != 0)
        rc_fatal_os("pthread_key_create failed: cannot fold census records at thread exit");
}

static RC_SLOW_PATH census_rec_t *rec_create(void)
{
    (void)pthread_once(&rec_once, rec_key_create);
    census_rec_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        rc_fatal_os("out of memory creating a census record");
    r->thread_id = rc_thread_self()->id;
    pthread_mutex_lock(&census_lock);
    rc_dlist_push_front(&records, &r->link);
    pthread_mutex_unlock(&census_lock);
    if (pthread_setspecific(rec_key, r) != 0)
        rc_fatal_os("pthread_setspecific failed: cannot fold census records at thread exit");
    tls_rec = r;
    return r;
}

static inline census_rec_t *rec_self(void)
{
    census_rec_t *r = tls_rec;
    return RC_LIKELY(r != NULL) ? r : rec_create();
}

/* Single writer: a relaxed load and store, no read-modify-write. */
static inline void bump(census_rec_t *r, size_t i, uint64_t by)
{
    at_store_relaxed(&r->v[i], at_load_relaxed(&r->v[i]) + by);
}

static inline unsigned bit_length(uint64_t x) { return x ? 64u - (unsigned)__builtin_clzll(x) : 0u; }

void _rc_census_init_mortal(rc_census_obj_t *o)
{
    o->owner = rec_self()->thread_id;
    at_store_relaxed(&o->ops, 0);
    at_store_relaxed(&o->max, 1);
    at_store_relaxed(&o->shared, 0);
    at_store_relaxed(&o->refcnt_shared, 1);
}

void _rc_census_small_int_ref(int64_t value)
{
    bump(rec_self(), F(small_int_refs) + (size_t)(value - RC_SMALL_INT_MIN), 1);
}

/* An op on an immortal object: counted, its header never written. */
static void immortal_op(rc_census_obj_t *o, bool incref)
{
    census_rec_t *r = rec_self();
    bump(r, F(immortal_ops), 1);
    if (!incref || o->type != &rc_type_int)
        return;
    int64_t value = rc_int_value(o);
    if (rc_small_int(value) == o)        /* the cache's, not a mortal int saturated into immortality */
        bump(r, F(small_int_refs) + (size_t)(value - RC_SMALL_INT_MIN), 1);
}

static void mortal_op(rc_census_obj_t *o)
{
    census_rec_t *r = rec_self();
    at_fetch_add_relaxed(&o->ops, 1);
    if (o->owner == r->thread_id) {
        bump(r, F(owner_ops), 1);
    } else {
        bump(r, F(other_ops), 1);
        if (at_load_relaxed(&o->shared) == 0)
            at_store_relaxed(&o->shared, 1);
    }
}

void _rc_census_incref(rc_census_obj_t *o)
{
    uint64_t c = at_load_relaxed(&o->refcnt_shared);
    if ((int64_t)c < 0) {
        if (rc_cfg_debug && c == RC_REFCNT_FREED)
            _rc_census_fault_freed(o, "incref");
        immortal_op(o, true);
        return;
    }
    mortal_op(o);
    uint64_t now = at_fetch_add_relaxed(&o->refcnt_shared, 1) + 1;
    if ((int64_t)now < 0)
        return;                          /* saturated into immortality */
    uint64_t seen = at_load_relaxed(&o->max);
    while (now > seen && !at_cas_weak_relaxed(&o->max, &seen, now))
        ;
}

/* The object died on this thread: its fields into this thread's record. */
static void fold_dead(rc_census_obj_t *o)
{
    census_rec_t *r = rec_self();
    uint64_t ops = at_load_relaxed(&o->ops);
    unsigned bits = bit_length(at_load_relaxed(&o->max));
    bump(r, F(objects), 1);
    bump(r, F(object_ops), ops);
    if (at_load_relaxed(&o->shared) == 0) {
        bump(r, F(private_objects), 1);
        bump(r, F(private_ops), ops);
    }
    bump(r, F(max_bits) + (bits ? bits - 1 : 0), 1);
    bump(r, F(ops_log2) + bit_length(ops), 1);
}

void _rc_census_decref(rc_census_obj_t *o)
{
    uint64_t c = at_load_relaxed(&o->refcnt_shared);
    if ((int64_t)c < 0) {                /* immortal (or poisoned): never written */
        if (rc_cfg_debug && c == RC_REFCNT_FREED)
            _rc_census_fault_freed(o, "decref");
        immortal_op(o, false);
        return;
    }
    mortal_op(o);
    /* release: pairs with the acquire below of whichever thread drops the
     * last reference; publishes this thread's uses of o and its updates
     * of o's census fields (ops, max, shared) before fold_dead reads them. */
    uint64_t old = at_fetch_sub_release(&o->refcnt_shared, 1);
    if (old == 1) {
        /* acquire: pairs with the release fetch_sub above of every other
         * thread that dropped a reference. */
        at_fence_acquire_on(&o->refcnt_shared);
        fold_dead(o);
        _rc_census_dealloc(o);
    } else if (old == 0 && rc_cfg_debug) {
        _rc_fault_underflow(o);
    }
}

void rc_census_read(rc_census_t *out)
{
    uint64_t *v = (uint64_t *)out;
    pthread_mutex_lock(&census_lock);
    for (size_t i = 0; i < NFIELDS; i++)
        v[i] = exited[i];
    for (rc_dlink_t *l = records.first; l; l = l->next) {
        census_rec_t *r = RC_DLIST_ENTRY(l, census_rec_t, link);
        for (size_t i = 0; i < NFIELDS; i++)
            v[i] += at_load_relaxed(&r->v[i]);
    }
    pthread_mutex_unlock(&census_lock);
}

void rc_census_since(rc_census_t *now, const rc_census_t *before)
{
    uint64_t *n = (uint64_t *)now;
    const uint64_t *b = (const uint64_t *)before;
    for (size_t i = 0; i < NFIELDS; i++)
        n[i] -= b[i];
}
