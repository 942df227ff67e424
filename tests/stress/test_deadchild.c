/* tests/stress/test_deadchild.c — children of dying parents, shared and
 * not, dropped while other threads copy, pass and drop references to them.
 *
 * A dead parent's reference to a child whose count reads 1 frees the child
 * at once, without a decrement (every strategy but census; deferred reads
 * its applied count: docs/deferred.md, "A dead parent's only reference").
 * This test makes that decision often and with other references around:
 * T threads (default 2) run a seeded random mix over SLOTS shared parent
 * slots and PASS hand-off slots:
 * - build a parent node of 1..4 slots whose children are fresh ints, fresh
 *   nodes with a fresh child (a chain: the child of a dead child), one of
 *   POOL long-lived objects main made, or a copy of a reference the thread
 *   holds; exchange it into a parent slot and release what came out;
 * - take a parent out of its slot, copy one child's reference from it into
 *   the thread's own HELD references, then drop the parent (its other
 *   children die with it) or put it back;
 * - deferred only: inside a read section, load a parent without taking it,
 *   incref one of its children (the uncounted load the section protects);
 *   other strategies take the parent, copy, and put it back instead;
 * - pass a held reference to another thread through a hand-off slot, or
 *   drop one; deferred threads also detach and re-attach now and then.
 * Every object carries a payload (value serial * 1000 + 999, a node's
 * children checked to depth 2); a freed object shows as a bad payload, as a
 * fault in debug builds (poisoned) and as a use after free under ASan.
 * Checked at the end: no bad payload, each pool object back at count 1,
 * frees == allocations (every object made, freed exactly once: a double
 * free is fatal in debug and ASan builds), nothing live.
 * Options: --scale N (or xN), --seed N, --threads N (1..16).
 * Threading: slots are RC_ATOMIC: exchanged acq_rel, loaded acquire inside
 * read sections; objects follow the strategy's rules.
 */
#include <pthread.h>

#include "rc/rc.h"
#include "tests/check.h"

#define SLOTS 32
#define PASS 8
#define POOL 8
#define HELD 16
#define MAX_THREADS 16

static RC_ATOMIC(rc_obj_t *) slots[SLOTS];   /* parents (nodes), one counted reference each */
static RC_ATOMIC(rc_obj_t *) pass[PASS];     /* any object, one counted reference each */
static rc_obj_t *pool[POOL];                 /* main's; shared as children by every thread */
static uint64_t ops_per_thread, base_seed;
static RC_ATOMIC(uint64_t) bad_total, made_total, deaths_total;

static int64_t tagged(uint64_t serial) { return (int64_t)(serial * 1000 + 999); }

/* Does o look alive: its payload (and its children's, to `depth`) intact? */
static bool intact(const rc_obj_t *o, int depth)
{
    if (o->type == &rc_type_int)
        return rc_int_value(o) % 1000 == 999;
    if (o->type != &rc_type_node || ((const rc_node_t *)o)->value % 1000 != 999)
        return false;
    size_t n = rc_node_items(o);
    if (n < 1 || n > 4)
        return false;
    for (uint32_t i = 0; depth > 0 && i < n; i++) {
        const rc_obj_t *c = rc_node_get(o, i);
        if (c && !intact(c, depth - 1))
            return false;
    }
    return true;
}

static void check_intact(const rc_obj_t *o)
{
    if (!intact(o, 2))
        at_fetch_add_relaxed(&bad_total, 1);
}

/* Main, after the join: checks and drops what n shared slots still hold.
 * acq_rel: pairs with the workers' exchanges (joined already; kept for
 * the slots' one pattern). */
static void drain(RC_ATOMIC(rc_obj_t *) *a, int n)
{
    for (int i = 0; i < n; i++) {
        rc_obj_t *o = at_exchange_acq_rel(&a[i], NULL);
        if (o) {
            check_intact(o);
            rc_decref(o);
        }
    }
}

typedef struct worker {
    uint64_t seed, serial, made;
    rc_obj_t *held[HELD];
} worker_t;

static rc_obj_t *fresh_int(worker_t *w)
{
    rc_obj_t *o = rc_int_new(tagged(w->serial++));
    REQUIRE(o != NULL);
    w->made++;
    return o;
}

static rc_obj_t *fresh_node(worker_t *w, uint32_t n)
{
    rc_obj_t *o = rc_node_new(n, tagged(w->serial++));
    REQUIRE(o != NULL);
    w->made++;
    return o;
}

/* A new parent whose children R's bits choose: unshared (count 1: they
 * die with it, without a decrement), or shared with the pool or with the
 * thread's held references (count >= 2: an ordinary decrement). */
static rc_obj_t *build_parent(worker_t *w, uint64_t r)
{
    uint32_t n = 1 + (uint32_t)((r >> 4) & 3);
    rc_obj_t *p = fresh_node(w, n);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t k = (r >> (16 + 3 * i)) & 7;
        rc_obj_t *c;
        if (k < 3) {
            c = fresh_int(w);
        } else if (k < 5) {                 /* a chain: the child of a dead child */
            c = fresh_node(w, 1);
            rc_node_set(c, 0, fresh_int(w));
        } else if (k == 5) {
            c = pool[(r >> 40) % POOL];
            rc_incref(c);
        } else {
            c = w->held[(r >> 44) % HELD];
            if (c)
                rc_incref(c);
            else
                c = fresh_int(w);
        }
        rc_node_set(p, i, c);
    }
    return p;
}

/* Keeps c (the caller's reference) in held slot j, dropping what was there. */
static void hold(worker_t *w, uint32_t j, rc_obj_t *c)
{
    rc_obj_t *old = w->held[j];
    w->held[j] = c;
    if (old) {
        check_intact(old);
        rc_decref(old);
    }
}

/* Copies one child of parent p (a reference the caller holds, counted or
 * inside a read section) into the held references. */
static void copy_child(worker_t *w, const rc_obj_t *p, uint64_t r)
{
    rc_obj_t *c = rc_node_get(p, (uint32_t)((r >> 20) % rc_node_items(p)));
    check_intact(c);
    rc_incref(c);
    hold(w, (uint32_t)((r >> 28) % HELD), c);
}

static void step(worker_t *w, uint64_t r)
{
    RC_ATOMIC(rc_obj_t *) *slot = &slots[(r >> 8) % SLOTS];
    unsigned op = (unsigned)(r & 15);
    if (op < 6) {                           /* build a parent, release the one it replaces */
        rc_obj_t *p = build_parent(w, r);
        /* acq_rel: release publishes p's contents to whoever takes it;
         * acquire pairs with the exchange that put `old` in. */
        rc_obj_t *old = at_exchange_acq_rel(slot, p);
        if (old) {
            check_intact(old);
            rc_decref(old);                 /* usually its last reference: it dies */
            at_fetch_add_relaxed(&deaths_total, 1);
        }
    } else if (op < 10) {                   /* take a parent, copy a child, drop or put back */
        rc_obj_t *p = at_exchange_acq_rel(slot, NULL);   /* acq_rel: as above */
        if (p == NULL)
            return;
        check_intact(p);
        copy_child(w, p, r);
        if (op < 9) {
            rc_decref(p);
            at_fetch_add_relaxed(&deaths_total, 1);
        } else {
            rc_obj_t *old = at_exchange_acq_rel(slot, p);   /* acq_rel: as above */
            if (old)
                rc_decref(old);
        }
    } else if (op < 12) {                   /* a child of a parent someone else may be dropping */
#ifdef RC_STRATEGY_DEFERRED
        rc_deferred_read_begin();
        /* acquire: pairs with the exchange that published the parent. */
        rc_obj_t *p = at_load_acquire(slot);
        if (p) {
            check_intact(p);
            copy_child(w, p, r);            /* its incref logged inside the section */
        }
        rc_deferred_read_end();
#else
        rc_obj_t *p = at_exchange_acq_rel(slot, NULL);   /* acq_rel: as above */
        if (p) {
            copy_child(w, p, r);
            rc_obj_t *old = at_exchange_acq_rel(slot, p);   /* acq_rel: as above */
            if (old)
                rc_decref(old);
        }
#endif
    } else if (op < 14) {                   /* pass a held reference to another thread */
        uint32_t j = (uint32_t)((r >> 28) % HELD);
        /* acq_rel: release publishes what we pass; acquire pairs with the
         * exchange that passed what we take. */
        rc_obj_t *got = at_exchange_acq_rel(&pass[(r >> 36) % PASS], w->held[j]);
        w->held[j] = got;
        if (got)
            check_intact(got);
    } else {                                /* drop a held reference */
        hold(w, (uint32_t)((r >> 28) % HELD), NULL);
    }
}

static void *worker(void *arg)
{
    worker_t w = { .seed = base_seed * 1000003 + (uint64_t)(uintptr_t)arg + 1,
                   .serial = ((uint64_t)(uintptr_t)arg + 1) << 40 };
    rc_thread_attach();
    for (uint64_t i = 0; i < ops_per_thread; i++) {
        uint64_t r = test_rand(&w.seed);
        step(&w, r);
        if ((i & 63) == 0)
            rc_safepoint();
#ifdef RC_STRATEGY_DEFERRED
        if ((i & 1023) == 512) {   /* now and then: leave and rejoin the epoch */
            rc_thread_detach();
            hold(&w, (uint32_t)((r >> 28) % HELD), NULL);   /* a drop through the slow path */
            rc_thread_attach();
        }
#endif
    }
    for (uint32_t j = 0; j < HELD; j++)
        hold(&w, j, NULL);
    at_fetch_add_relaxed(&made_total, w.made);
    rc_thread_detach();
    return NULL;
}

int main(int argc, char **argv)
{
    test_opts_t opt = test_opts(argc, argv);
    int nthreads = test_threads_opt(argc, argv, opt.argi, 2, MAX_THREADS);
    ops_per_thread = test_size(opt, 2000000);
    base_seed = opt.seed;
    printf("%s: %d threads x %llu ops, seed %llu\n", rc_strategy_desc.name, nthreads,
           (unsigned long long)ops_per_thread, (unsigned long long)opt.seed);

    rc_stats_t before = rc_stats_get();
    for (int i = 0; i < POOL; i++) {
        pool[i] = rc_node_new(1, tagged(i));
        REQUIRE(pool[i] != NULL);
        rc_node_set(pool[i], 0, rc_int_new(tagged(100 + i)));
    }
    pthread_t th[MAX_THREADS];
    for (int t = 0; t < nthreads; t++)
        REQUIRE(pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t) == 0);
    for (int t = 0; t < nthreads; t++)
        REQUIRE(pthread_join(th[t], NULL) == 0);

    drain(slots, SLOTS);
    drain(pass, PASS);
#ifdef RC_STRATEGY_DEFERRED
    rc_deferred_sync();                      /* every sealed decrement applied: counts exact */
#endif
    rc_safepoint();
    for (int i = 0; i < POOL; i++) {
        check_intact(pool[i]);
        CHECK_EQ(rc_refcount(pool[i]), 1);   /* every shared use given back */
        rc_decref(pool[i]);
    }
#ifdef RC_STRATEGY_DEFERRED
    rc_deferred_sync();
#endif
    rc_safepoint();
    rc_stats_t s = rc_stats_get();
    uint64_t made = at_load_relaxed(&made_total) + 2 * POOL;
    CHECK_EQ(at_load_relaxed(&bad_total), 0);
    CHECK(at_load_relaxed(&deaths_total) > 0);
    CHECK_EQ(s.allocated - before.allocated, made);
    CHECK_EQ(s.freed - before.freed, made);
    CHECK_EQ(s.live, 0);
    printf("%llu objects made, %llu parents dropped, %llu freed\n", (unsigned long long)made,
           (unsigned long long)at_load_relaxed(&deaths_total),
           (unsigned long long)(s.freed - before.freed));
    return TEST_END();
}
