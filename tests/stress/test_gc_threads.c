/* tests/stress/test_gc_threads.c — the cycle detector with threads, under
 * every strategy.
 *
 * T mutators (default 2) run a seeded mix: incref/decref pairs on shared
 * objects, hand-offs through slots (containers die on threads other than
 * their maker's: the remote untrack path), and garbage cycles (two nodes
 * referencing each other, dropped) that only the collector can free. The
 * default thresholds make the mutators collect now and then themselves,
 * each collection stopping the world while the others run, sometimes two
 * at once (the second parks). Meanwhile main repeatedly builds a cycle
 * across threads — one node made by a helper thread that then exits (under
 * biased its owner is gone), one by main — whose first node holds a
 * witness, drops it, and collects with the mutators running; the witness's
 * count shows whether the cycle was freed. A timer thread also collects
 * every millisecond for part of the run.
 * At the end: every witness back at count 1, everything freed once the
 * slots are drained and a last collection ran, nothing tracked.
 * Options: --scale N (or xN: longer), --seed N, --threads N (1..8).
 * Threading: slots RC_ATOMIC, exchanged acq_rel; objects follow the
 * strategy's rules.
 */
#include <pthread.h>
#include <time.h>

#include "gc/gc.h"
#include "rc/rc.h"
#include "tests/check.h"
#include "tests/mutator.h"

#define SHARED 8
#define SLOTS 32
#define MAX_THREADS 8

static rc_obj_t *shared[SHARED];
static RC_ATOMIC(rc_obj_t *) slots[SLOTS];
static RC_ATOMIC(bool) done;
static uint64_t base_seed, cycles_made[MAX_THREADS];

static rc_obj_t *make_pair(int64_t v)
{
    rc_obj_t *a = rc_node_new(2, v), *b = rc_node_new(1, -v);
    REQUIRE(a && b);
    rc_incref(b);
    rc_node_set(a, 0, b);
    rc_incref(a);
    rc_node_set(b, 0, a);
    rc_decref(b);
    return a;                                   /* the caller's reference to the cycle */
}

static void *mutator(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint64_t seed = base_seed * 1000003 + id + 1;
    rc_thread_attach();
    while (!at_load_relaxed(&done)) {
        for (int i = 0; i < 64; i++) {
            uint64_t r = test_rand(&seed);
            switch (r % 4) {
            case 0: case 1: {
                rc_obj_t *o = shared[(r >> 8) % SHARED];
                rc_incref(o);
                rc_decref(o);
                break;
            }
            case 2: {
                rc_obj_t *o = (r & 16) ? make_pair((int64_t)(r >> 40)) : rc_list_new();
                REQUIRE(o != NULL);
                /* the one taken out may be another thread's: remote untrack */
                mutator_handoff(&slots[(r >> 8) % SLOTS], o);
                break;
            }
            default:
                rc_decref(make_pair((int64_t)(r >> 40)));   /* garbage for the collector */
                cycles_made[id]++;
                break;
            }
        }
        rc_safepoint();
    }
    rc_thread_detach();
    return NULL;
}

static rc_obj_t *cross_node;
static void *make_cross(void *arg)
{
    rc_thread_attach();
    cross_node = rc_node_new(2, 77);
    REQUIRE(cross_node != NULL);
    rc_incref(arg);
    rc_node_set(cross_node, 1, arg);            /* holds the witness */
    rc_thread_detach();
    return NULL;                                /* exits: biased owner gone */
}

static void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    test_opts_t opt = test_opts(argc, argv);
    int nthreads = test_threads_opt(argc, argv, opt.argi, 2, MAX_THREADS);
    base_seed = opt.seed;
    int rounds = (int)(60 * opt.soak / (opt.scale > 6 ? 6 : opt.scale));
    if (rc_strategy_desc.uses_gil)
        rc_gil_set_switch_interval_ns(100000);
    printf("%s: %d mutators, %d cross-thread cycles, seed %llu\n", rc_strategy_desc.name, nthreads,
           rounds, (unsigned long long)opt.seed);

    uint64_t base = rc_stats_get().live;
    rc_thread_attach();
    for (int i = 0; i < SHARED; i++)
        REQUIRE((shared[i] = rc_int_new(1000000 + i)) != NULL);
    rc_obj_t *witness = rc_int_new(555555);
    rc_thread_detach();

    pthread_t th[MAX_THREADS];
    for (int t = 0; t < nthreads; t++)
        REQUIRE(pthread_create(&th[t], NULL, mutator, (void *)(uintptr_t)t) == 0);
    uint64_t freed_cross = 0;
    for (int k = 0; k < rounds; k++) {
        if (k == rounds / 3)
            gc_set_timer_ms(1);
        if (k == 2 * rounds / 3)
            gc_set_timer_ms(0);
        pthread_t h;
        REQUIRE(pthread_create(&h, NULL, make_cross, witness) == 0);
        REQUIRE(pthread_join(h, NULL) == 0);
        rc_thread_attach();
        rc_obj_t *mine = rc_node_new(1, 88);
        rc_incref(cross_node);
        rc_node_set(mine, 0, cross_node);
        rc_incref(mine);
        rc_node_set(cross_node, 0, mine);
        rc_decref(cross_node);
        rc_decref(mine);                        /* only the cycle holds them now */
        gc_collect(2);                          /* with the mutators running */
        rc_world_stop();                        /* counts exact: is the witness released? */
        freed_cross += rc_refcount(witness) == 1;
        rc_world_resume();
        rc_thread_detach();
        nap_ms(2);
    }
    at_store_relaxed(&done, true);
    for (int t = 0; t < nthreads; t++)
        REQUIRE(pthread_join(th[t], NULL) == 0);

    rc_thread_attach();
    for (int i = 0; i < SLOTS; i++) {
        rc_obj_t *o = at_exchange_acq_rel(&slots[i], NULL);   /* acq_rel: as the mutators */
        if (o)
            rc_decref(o);
    }
    gc_collect(2);
    uint64_t garbage = 0;
    for (int t = 0; t < nthreads; t++)
        garbage += cycles_made[t];
    uint64_t collections = 0, collected = 0;
    for (int g = 0; g < GC_GENERATIONS; g++) {
        collections += gc_get_stats(g).collections;
        collected += gc_get_stats(g).collected;
    }
    printf("%llu garbage cycles made by mutators; %llu collections found %llu unreachable objects; "
           "%llu of %d cross-thread cycles freed by main's collection; pause p50 %llu us, p99 %llu us "
           "(generation 0)\n", (unsigned long long)garbage, (unsigned long long)collections,
           (unsigned long long)collected, (unsigned long long)freed_cross, rounds,
           (unsigned long long)(gc_pause_quantile_ns(0, 0.5) / 1000),
           (unsigned long long)(gc_pause_quantile_ns(0, 0.99) / 1000));
    CHECK_EQ(freed_cross, (uint64_t)rounds);    /* each freed by the collection right after it */
    CHECK_EQ(rc_refcount(witness), 1);
    CHECK(collected >= 2 * garbage);
    for (int i = 0; i < SHARED; i++) {
        CHECK_EQ(rc_refcount(shared[i]), 1);
        rc_decref(shared[i]);
    }
    rc_decref(witness);
    rc_safepoint();
    CHECK_EQ(gc_tracked_count(), 0);
    rc_thread_detach();
    rc_safepoint();
    CHECK_EQ(rc_stats_get().live, base);
    return TEST_END();
}
