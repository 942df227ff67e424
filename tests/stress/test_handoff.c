/* tests/stress/test_handoff.c — objects made on one thread, used and
 * released on others, by threads that come and go.
 *
 * GENERATIONS worker threads run, THREADS (default 4) at a time; main
 * starts the next one whenever it has joined the oldest. Each worker runs
 * a seeded random mix for a random lifetime: it makes objects (ints,
 * 2-tuples and nodes whose children it also made, lists), keeps up to
 * STASH references, swaps references into and out of SLOTS shared slots
 * by atomic exchange, publishes extra references of what it holds, drops
 * references and passes safepoints (not always: some exit with objects
 * still queued to them). When it exits it publishes or drops what it
 * holds, so objects routinely outlive the thread that made them and die
 * on another one. Every object carries a checked payload, verified on
 * every take and before every drop: a freed object still in use shows as
 * a bad payload, as a use-after-free under AddressSanitizer, and as a
 * fault in debug builds (freed objects are poisoned). At the end main
 * drains the slots: frees == allocations exactly. Generic (rc API only,
 * every strategy; plain's threads attach and so run under the GIL).
 *
 * Biased adds checks: every object queued to an owner was merged
 * (queued_total == merged_total), both merge paths ran (queues and
 * orphan merges after an owner's exit), and a targeted phase races an
 * exiting owner's queue drain against non-owners orphan-merging children
 * of what the drain frees; witnesses held by each child find any child
 * that was never freed without touching freed memory.
 * Options: --scale N (or xN: longer), --seed N, --threads N (1..16).
 * Threading: slots are RC_ATOMIC and exchanged acq_rel; objects follow the
 * strategy's rules.
 */
#include <pthread.h>

#include "rc/rc.h"
#include "tests/check.h"

#define MAX_THREADS 16
#define SLOTS 128
#define STASH 32

static RC_ATOMIC(rc_obj_t *) slots[SLOTS];
static uint64_t base_seed, ops_per_thread;

/* ---- payloads --------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= UINT64_C(0x7fb5d329728ea185);
    x ^= x >> 27;
    return x;
}

/* A value that carries its own check: tag (< 2^40) above, 16 hash bits
 * below; never a small int. */
static int64_t tagged(uint64_t tag) { return (int64_t)((tag << 16) | (mix(tag) & 0xFFFF)) + 1000; }
static bool tagged_ok(int64_t v)
{
    uint64_t u = (uint64_t)(v - 1000);
    return v >= 1000 && (u & 0xFFFF) == (mix(u >> 16) & 0xFFFF);
}

/* Makes one object of a kind chosen by r; children are made here too. */
static rc_obj_t *make_object(uint64_t r, uint64_t tag)
{
    int64_t v = tagged(tag);
    rc_obj_t *o;
    switch (r % 4) {
    case 0:
        o = rc_int_new(v);
        break;
    case 1:
        o = rc_tuple_new(2);
        REQUIRE(o != NULL);
        rc_tuple_set(o, 0, rc_int_new(v));
        rc_tuple_set(o, 1, rc_int_new(-v));
        break;
    case 2:
        o = rc_node_new(2, v);
        REQUIRE(o != NULL);
        rc_node_set(o, 0, rc_small_int((int64_t)(tag % 200)));   /* immortal: shared, never written */
        rc_node_set(o, 1, rc_int_new(v));
        break;
    default: {
        o = rc_list_new();
        REQUIRE(o != NULL);
        rc_obj_t *item = rc_int_new(v);
        REQUIRE(item != NULL && rc_list_append(o, item));
        rc_decref(item);                /* the list holds the only reference */
        break;
    }
    }
    REQUIRE(o != NULL);
    return o;
}

static bool object_ok(const rc_obj_t *o)
{
    if (o->type == &rc_type_int)
        return tagged_ok(rc_int_value(o));
    if (o->type == &rc_type_tuple)
        return rc_tuple_size(o) == 2 && tagged_ok(rc_int_value(rc_tuple_get(o, 0))) &&
               rc_int_value(rc_tuple_get(o, 1)) == -rc_int_value(rc_tuple_get(o, 0));
    if (o->type == &rc_type_node) {
        const rc_node_t *n = (const rc_node_t *)o;
        return n->nslots == 2 && tagged_ok(n->value) && rc_node_get(o, 1) != NULL &&
               rc_int_value(rc_node_get(o, 1)) == n->value &&
               rc_node_get(o, 0) == rc_small_int((int64_t)(((uint64_t)(n->value - 1000) >> 16) % 200));
    }
    if (o->type == &rc_type_list)
        return rc_list_size(o) == 1 && tagged_ok(rc_int_value(rc_list_get(o, 0)));
    return false;
}

/* ---- workers ---------------------------------------------------------- */

typedef struct worker {
    pthread_t th;
    uint64_t gen;
    uint64_t bad;                       /* payload failures: read by main after join */
} worker_t;

/* acq_rel: release publishes o (its initialisation, our uses) to whoever
 * takes it out; acquire pairs with the exchange that put the old one in. */
static rc_obj_t *swap_slot(uint64_t r, rc_obj_t *o) { return at_exchange_acq_rel(&slots[r % SLOTS], o); }

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    uint64_t seed = mix(base_seed * 1000003 + w->gen + 1) | 1;
    rc_obj_t *stash[STASH];
    int n = 0;
    uint64_t bad = 0, serial = 0;
    uint64_t ops = ops_per_thread / 2 + test_rand(&seed) % (ops_per_thread + 1);
    uint64_t quiet_from = (test_rand(&seed) & 1) ? ops - ops / 8 : ops;   /* no safepoints at the end */
    rc_thread_attach();
    for (uint64_t i = 0; i < ops; i++) {
        uint64_t r = test_rand(&seed), s = r >> 32;
        int j = n ? (int)((r >> 20) % (uint64_t)n) : 0;
        switch ((r >> 8) % 16) {
        case 0: case 1: case 2: case 3: {               /* make */
            rc_obj_t *o = make_object(r >> 12, (w->gen << 24) | (serial++ & 0xFFFFFF));
            if (n < STASH) {
                stash[n++] = o;
            } else {
                rc_obj_t *old = swap_slot(s, o);
                if (old) {
                    bad += !object_ok(old);
                    rc_decref(old);
                }
            }
            break;
        }
        case 4: case 5: case 6:                         /* publish one we hold, keep what comes out */
            if (n) {
                rc_obj_t *old = swap_slot(s, stash[j]);
                if (old) {
                    bad += !object_ok(old);
                    stash[j] = old;
                } else {
                    stash[j] = stash[--n];
                }
            }
            break;
        case 7: case 8: case 9:                         /* take one */
            if (n < STASH) {
                rc_obj_t *old = swap_slot(s, NULL);
                if (old) {
                    bad += !object_ok(old);
                    stash[n++] = old;
                }
            }
            break;
        case 10: case 11:                               /* share: publish another reference */
            if (n) {
                rc_incref(stash[j]);
                rc_obj_t *old = swap_slot(s, stash[j]);
                if (old) {
                    bad += !object_ok(old);
                    rc_decref(old);
                }
            }
            break;
        case 12: case 13:                               /* drop */
            if (n) {
                bad += !object_ok(stash[j]);
                rc_decref(stash[j]);
                stash[j] = stash[--n];
            }
            break;
        case 14:                                        /* touch */
            if (n) {
                rc_incref(stash[j]);
                rc_incref(stash[j]);
                bad += !object_ok(stash[j]);
                rc_decref(stash[j]);
                rc_decref(stash[j]);
            }
            break;
        default:
            if (i < quiet_from)
                rc_safepoint();
            break;
        }
        if ((i & 63) == 0 && i < quiet_from)
            rc_safepoint();
    }
    /* Leaving: what we hold outlives us in the slots, or is dropped here. */
    while (n > 0) {
        rc_obj_t *o = stash[--n];
        bad += !object_ok(o);
        if (test_rand(&seed) & 1) {
            o = swap_slot(test_rand(&seed), o);
            if (o == NULL)
                continue;
            bad += !object_ok(o);
        }
        rc_decref(o);
    }
    rc_thread_detach();
    w->bad = bad;
    return NULL;
}

/* ---- biased: an exiting owner's drain against orphan merges ------------ */

#ifdef RC_STRATEGY_BIASED
#define RACE_CHILDREN 512

/* Owner A makes a parent tuple of RACE_CHILDREN nodes; each node holds a
 * reference to witness[i] (main's) and is referenced twice, both counted
 * in A's local count: by the parent and by non-owner B. B drops the
 * parent (queued to A, which is alive), lets A exit, waits until A's exit
 * drain is freeing the parent (child 0's count falls), then drops its
 * references from the last child down while A's drain drops the parent's
 * from the first child up: B's decrefs orphan-merge the children A is
 * still decrementing. Every child must be freed exactly once; one that was
 * not still holds its witness reference. */
static struct {
    rc_obj_t *parent, *child[RACE_CHILDREN], *witness[RACE_CHILDREN];
    RC_ATOMIC(int) published, go;
    uint64_t slow_drains;
} er;

static void *exit_race_owner(void *arg)
{
    (void)arg;
    rc_thread_attach();
    er.parent = rc_tuple_new(RACE_CHILDREN);
    for (int i = 0; i < RACE_CHILDREN; i++) {
        rc_obj_t *c = rc_node_new(1, tagged((uint64_t)i));
        rc_incref(er.witness[i]);
        rc_node_set(c, 0, er.witness[i]);
        rc_incref(c);                   /* local 2: the parent's and B's */
        rc_tuple_set(er.parent, i, c);
        er.child[i] = c;
    }
    /* release: publishes the objects to B; pairs with B's acquire. */
    at_store_release(&er.published, 1);
    /* acquire: pairs with B's release; B has queued the parent to us. */
    while (!at_load_acquire(&er.go))
        rc_cpu_relax();
    return NULL;                        /* exit: the drain frees the parent */
}

static void *exit_race_other(void *arg)
{
    (void)arg;
    /* acquire: pairs with A's release; the objects are initialised. */
    while (!at_load_acquire(&er.published))
        rc_cpu_relax();
    rc_decref(er.parent);               /* A's only reference to it: queued to A */
    /* release: pairs with A's acquire. */
    at_store_release(&er.go, 1);
    uint64_t deadline = test_now_ns() + 200000000u;
    for (unsigned spins = 0; rc_refcount(er.child[0]) == 2; spins++)
        if ((spins & 1023) == 0 && test_now_ns() > deadline) {
            er.slow_drains++;
            break;
        }
    for (int i = RACE_CHILDREN - 1; i >= 0; i--)
        rc_decref(er.child[i]);
    return NULL;
}

static void owner_exit_races_orphan_merges(uint64_t trials)
{
    uint64_t f0 = rc_stats_get().freed, o0 = rc_biased_orphan_merges(), leaked = 0, bad_trials = 0;
    rc_thread_attach();
    for (int i = 0; i < RACE_CHILDREN; i++)
        er.witness[i] = rc_int_new(tagged(UINT64_C(1) << 39 | (uint64_t)i));
    static int64_t base[RACE_CHILDREN];
    for (uint64_t t = 0; t < trials; t++) {
        for (int i = 0; i < RACE_CHILDREN; i++)
            base[i] = rc_refcount(er.witness[i]);   /* 1, unless an earlier leak still holds it */
        at_store_relaxed(&er.published, 0);
        at_store_relaxed(&er.go, 0);
        pthread_t a, b;
        REQUIRE(pthread_create(&a, NULL, exit_race_owner, NULL) == 0);
        REQUIRE(pthread_create(&b, NULL, exit_race_other, NULL) == 0);
        REQUIRE(pthread_join(a, NULL) == 0);
        REQUIRE(pthread_join(b, NULL) == 0);
        rc_safepoint();
        uint64_t leaked_now = 0;
        for (int i = 0; i < RACE_CHILDREN; i++) {
            if (rc_refcount(er.witness[i]) == base[i])
                continue;               /* child i was freed: it let go of its witness */
            rc_obj_t *c = er.child[i];  /* alive: safe to look at */
            if (leaked_now++ == 0 && bad_trials == 0)
                printf("BUG: child %d never freed after owner exit (trial %llu): owner %u, "
                       "state %d, rc_refcount %lld, witness count %lld\n", i,
                       (unsigned long long)t, rc_biased_owner_of(c), rc_biased_shared_state(c),
                       (long long)rc_refcount(c), (long long)rc_refcount(er.witness[i]));
            if (rc_biased_shared_state(c) == RC_BIASED_MERGED) {
                rc_biased_debug_set_counts(c, 0, 1);   /* test cleanup only: frees it */
                rc_decref(c);
            }                           /* else it stays leaked, and so does its witness */
        }
        leaked += leaked_now;
        bad_trials += leaked_now != 0;
    }
    int wrong = 0;
    for (int i = 0; i < RACE_CHILDREN; i++) {
        wrong += rc_refcount(er.witness[i]) != 1;
        rc_decref(er.witness[i]);
    }
    rc_safepoint();
    rc_thread_detach();
    printf("exit race: %llu trials, %llu orphan merges, %llu drains slower than 200 ms, "
           "%llu children leaked in %llu trials\n", (unsigned long long)trials,
           (unsigned long long)(rc_biased_orphan_merges() - o0), (unsigned long long)er.slow_drains,
           (unsigned long long)leaked, (unsigned long long)bad_trials);
    CHECK_EQ(leaked, 0);
    CHECK_EQ(wrong, 0);
    CHECK_EQ(rc_stats_get().freed - f0, trials * (RACE_CHILDREN + 1) + RACE_CHILDREN);
}
#endif

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv)
{
    test_opts_t opt = test_opts(argc, argv);
    int nthreads = test_threads_opt(argc, argv, opt.argi, 4, MAX_THREADS);
    uint64_t generations = test_size(opt, 3000) + 2 * (uint64_t)nthreads;
    ops_per_thread = test_size(opt, 8000) + 200;
    base_seed = opt.seed;
    printf("%s: %llu generations, %d at a time, ~%llu ops each, seed %llu\n", rc_strategy_desc.name,
           (unsigned long long)generations, nthreads, (unsigned long long)ops_per_thread,
           (unsigned long long)opt.seed);
    if (rc_strategy_desc.uses_gil)
        rc_gil_set_switch_interval_ns(100000);
    rc_stats_t s0 = rc_stats_get();
#ifdef RC_STRATEGY_BIASED
    uint64_t q0 = rc_biased_queued_total(), m0 = rc_biased_merged_total(), o0 = rc_biased_orphan_merges();
#endif

    /* Main's objects start in the slots: they are queued to main, which
     * merges them at its safepoints between joins. */
    rc_thread_attach();
    for (int i = 0; i < SLOTS; i += 2)
        at_store_relaxed(&slots[i], make_object((uint64_t)i, (UINT64_C(1) << 38) | (uint64_t)i));
    rc_thread_detach();

    static worker_t w[MAX_THREADS];
    uint64_t bad = 0;
    for (uint64_t g = 0; g < generations; g++) {
        worker_t *wk = &w[g % (uint64_t)nthreads];
        if (g >= (uint64_t)nthreads) {
            REQUIRE(pthread_join(wk->th, NULL) == 0);
            bad += wk->bad;
            rc_thread_attach();
            rc_safepoint();
            rc_thread_detach();
        }
        wk->gen = g;
        wk->bad = 0;
        REQUIRE(pthread_create(&wk->th, NULL, worker_main, wk) == 0);
    }
    for (uint64_t g = generations - (uint64_t)nthreads; g < generations; g++) {
        REQUIRE(pthread_join(w[g % (uint64_t)nthreads].th, NULL) == 0);
        bad += w[g % (uint64_t)nthreads].bad;
    }

    rc_thread_attach();
    uint64_t left = 0;
    for (int i = 0; i < SLOTS; i++) {
        /* acquire: pairs with the workers' exchanges (joined already). */
        rc_obj_t *o = at_exchange_acq_rel(&slots[i], NULL);
        if (o) {
            left++;
            bad += !object_ok(o);
            rc_decref(o);
        }
    }
    rc_safepoint();
    rc_thread_detach();
    rc_stats_t s = rc_stats_get();
    CHECK_EQ(bad, 0);
    CHECK_EQ(s.live, s0.live);
    CHECK_EQ(s.freed - s0.freed, s.allocated - s0.allocated);
    printf("%llu objects made, %llu freed, %llu left in the slots at the end\n",
           (unsigned long long)(s.allocated - s0.allocated), (unsigned long long)(s.freed - s0.freed),
           (unsigned long long)left);
#ifdef RC_STRATEGY_BIASED
    uint64_t queued = rc_biased_queued_total() - q0, merged = rc_biased_merged_total() - m0,
             orphans = rc_biased_orphan_merges() - o0;
    printf("biased: %llu queued, %llu merged from queues, %llu orphan merges\n",
           (unsigned long long)queued, (unsigned long long)merged, (unsigned long long)orphans);
    CHECK_EQ(queued, merged);
    CHECK(queued > 0);
    CHECK(orphans > 0);
    owner_exit_races_orphan_merges(test_size(opt, 400) + 40);
#endif
    return TEST_END();
}
