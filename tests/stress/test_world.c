/* tests/stress/test_world.c — stop-the-world under every strategy.
 *
 * T mutator threads (default 2) run a seeded mix over objects main made:
 * incref/decref pairs on SHARED objects, and hand-offs — a new object
 * exchanged into one of SLOTS slots, the old one released — so objects die
 * on threads other than their maker's (biased queues them to their owner;
 * deferred seals their decrements). Between two safepoints a mutator may
 * hold extra references; at a safepoint it holds none. Now and then a
 * mutator detaches, sleeps and re-attaches; one extra thread attaches and
 * then stays detached, blocked, for the whole run: neither may hold the
 * world up (a stop that waited for them would hang the test).
 *
 * A stopper thread stops the world STOPS times. While it is stopped:
 *   - no mutator runs: the mutators' operation counter does not move
 *     while the stopper spins for a while;
 *   - every count is exact with nothing pending: each shared object has
 *     count 1 (main's reference), each object in a slot count 1 (the
 *     slot's), and the live objects are exactly those (biased: every
 *     queue merged; deferred: every sealed decrement applied).
 * Under plain the GIL is the world lock: the stopper holds it, so the
 * same checks hold with nothing to stop.
 * Options: --scale N (or xN: longer), --seed N, --threads N (1..8).
 * Threading: slots are RC_ATOMIC and exchanged acq_rel; objects follow the
 * strategy's rules; the blocked thread waits on a mutex/condvar.
 */
#include <pthread.h>
#include <time.h>

#include "rc/rc.h"
#include "tests/check.h"
#include "tests/mutator.h"

#define SHARED 16
#define SLOTS 32
#define MAX_THREADS 8
#define STOPS 200

static rc_obj_t *shared[SHARED];
static RC_ATOMIC(rc_obj_t *) slots[SLOTS];
static RC_ATOMIC(uint64_t) ops_done;
static RC_ATOMIC(bool) stopping_done;
static uint64_t base_seed, base_live;

static void nap_us(long us)
{
    struct timespec ts = { 0, us * 1000 };
    nanosleep(&ts, NULL);
}

static void *mutator(void *arg)
{
    uint64_t seed = base_seed * 1000003 + (uint64_t)(uintptr_t)arg + 1;
    rc_thread_attach();
    while (!at_load_relaxed(&stopping_done)) {
        for (int i = 0; i < 64; i++) {
            mutator_step(test_rand(&seed), shared, SHARED, slots, SLOTS);
            at_fetch_add_relaxed(&ops_done, 1);
        }
        rc_safepoint();                     /* holds nothing here: may park */
        if ((test_rand(&seed) & 255) == 0) {
            rc_thread_detach();             /* blocked for a moment */
            nap_us(50);
            rc_thread_attach();
        }
    }
    rc_thread_detach();
    return NULL;
}

/* Attaches once, then detaches and blocks until the end. */
static pthread_mutex_t blocked_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t blocked_cv = PTHREAD_COND_INITIALIZER;
static bool blocked_release;

static void *blocked(void *arg)
{
    (void)arg;
    rc_thread_attach();
    rc_safepoint();
    rc_thread_detach();
    pthread_mutex_lock(&blocked_mu);
    while (!blocked_release)
        pthread_cond_wait(&blocked_cv, &blocked_mu);
    pthread_mutex_unlock(&blocked_mu);
    return NULL;
}

static uint64_t bad_ops, bad_counts, bad_live, stops_done;

static void check_stopped_world(void)
{
    uint64_t before = at_load_relaxed(&ops_done);
    for (volatile int spin = 0; spin < 20000; spin++)
        ;
    bad_ops += at_load_relaxed(&ops_done) != before;
    uint64_t expect_live = base_live + SHARED;
    for (int i = 0; i < SHARED; i++)
        bad_counts += rc_refcount(shared[i]) != 1;
    for (int i = 0; i < SLOTS; i++) {
        rc_obj_t *o = at_load_acquire(&slots[i]);   /* acquire: pairs with the mutators' exchange */
        if (o) {
            expect_live++;
            bad_counts += rc_refcount(o) != 1;
        }
    }
    bad_live += rc_stats_get().live != expect_live;
}

static void *stopper(void *arg)
{
    uint64_t stops = *(uint64_t *)arg;
    rc_thread_attach();
    for (uint64_t k = 0; k < stops; k++) {
        rc_world_stop();
        check_stopped_world();
        stops_done++;
        rc_world_resume();
        rc_safepoint();                     /* plain: hands the GIL over */
        nap_us(200);
    }
    at_store_relaxed(&stopping_done, true);
    rc_thread_detach();
    return NULL;
}

int main(int argc, char **argv)
{
    test_opts_t opt = test_opts(argc, argv);
    int nthreads = test_threads_opt(argc, argv, opt.argi, 2, MAX_THREADS);
    uint64_t stops = STOPS * opt.soak / (opt.scale > 4 ? 4 : opt.scale);
    base_seed = opt.seed;
    if (rc_strategy_desc.uses_gil)
        rc_gil_set_switch_interval_ns(100000);
    printf("%s: %d mutators, %llu stops, seed %llu\n", rc_strategy_desc.name, nthreads,
           (unsigned long long)stops, (unsigned long long)opt.seed);

    base_live = rc_stats_get().live;
    for (int i = 0; i < SHARED; i++)
        REQUIRE((shared[i] = rc_int_new(1000000 + i)) != NULL);
    pthread_t th[MAX_THREADS], st, bl;
    REQUIRE(pthread_create(&bl, NULL, blocked, NULL) == 0);
    for (int t = 0; t < nthreads; t++)
        REQUIRE(pthread_create(&th[t], NULL, mutator, (void *)(uintptr_t)t) == 0);
    REQUIRE(pthread_create(&st, NULL, stopper, &stops) == 0);
    REQUIRE(pthread_join(st, NULL) == 0);
    for (int t = 0; t < nthreads; t++)
        REQUIRE(pthread_join(th[t], NULL) == 0);
    pthread_mutex_lock(&blocked_mu);
    blocked_release = true;
    pthread_cond_broadcast(&blocked_cv);
    pthread_mutex_unlock(&blocked_mu);
    REQUIRE(pthread_join(bl, NULL) == 0);

    rc_world_stats_t ws = rc_world_stats();
    printf("%llu stops, %llu mutator operations; waiting for threads to park: mean %.1f us, max %.1f us\n",
           (unsigned long long)stops_done, (unsigned long long)at_load_relaxed(&ops_done),
           ws.stops ? (double)ws.wait_ns_total / (double)ws.stops / 1e3 : 0.0, (double)ws.wait_ns_max / 1e3);
    CHECK_EQ(stops_done, stops);
    CHECK_EQ(bad_ops, 0);
    CHECK_EQ(bad_counts, 0);
    CHECK_EQ(bad_live, 0);
    CHECK(at_load_relaxed(&ops_done) > 0);
    CHECK_EQ(ws.running, 0);

    rc_thread_attach();
    for (int i = 0; i < SLOTS; i++) {
        rc_obj_t *o = at_exchange_acq_rel(&slots[i], NULL);   /* acq_rel: as the mutators */
        if (o)
            rc_decref(o);
    }
    for (int i = 0; i < SHARED; i++)
        rc_decref(shared[i]);
    rc_safepoint();
    rc_thread_detach();
    rc_safepoint();
    CHECK_EQ(rc_stats_get().live, base_live);
    return TEST_END();
}
