/* tests/unit/test_biased.c — biased reference counting's own rules: who
 * counts where, the merge queue, merges (explicit at the owner's safepoint,
 * implicit at local zero, at owner exit, by a non-owner once the owner is
 * gone) and saturation of both counters.
 *
 * Deterministic: helper threads run one step at a time on main's command
 * (helper_run waits for the step to finish), so every count is known
 * exactly; only merge_queue_race lets threads loose at once, and its
 * outcome does not depend on the interleaving. Objects queued to an owner
 * are merged only at that owner's rc_safepoint or exit, so main calls
 * rc_safepoint before it checks counts of objects it owns. Every section
 * ends with the objects it made freed (checked against rc_stats_get) and
 * with queued_total == merged_total again.
 * Threading: main plus helpers (persistent, stepped) and short-lived
 * racers and owners (joined before their results are read).
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "rc/rc.h"
#include "tests/check.h"
#include "tests/stepped.h"

#ifndef RC_STRATEGY_BIASED
#error "test_biased.c is built for the biased strategy only"
#endif

static uint64_t scale = 1;
static uint32_t main_tid;               /* owner id of what main makes */

static uint64_t freed(void) { return rc_stats_get().freed; }
static uint64_t live(void) { return rc_stats_get().live; }

/* Steps: incref or decref one object n times. */
typedef struct step { rc_obj_t *o; int n; } step_t;
static void do_incref(void *p) { step_t *s = p; for (int i = 0; i < s->n; i++) rc_incref(s->o); }
static void do_decref(void *p) { step_t *s = p; for (int i = 0; i < s->n; i++) rc_decref(s->o); }
static void run_incref(helper_t *h, rc_obj_t *o, int n) { step_t s = { o, n }; helper_run(h, do_incref, &s); }
static void run_decref(helper_t *h, rc_obj_t *o, int n) { step_t s = { o, n }; helper_run(h, do_decref, &s); }
static void do_make(void *p) { rc_obj_t **o = p; *o = rc_int_new(700001); }
static void do_safepoint(void *p) { (void)p; rc_safepoint(); }

/* ---- owner counts locally, everyone else in shared -------------------- */

static void owner_local_others_shared(void)
{
    uint64_t q0 = rc_biased_queued_total(), f0 = freed();
    rc_obj_t *x = rc_int_new(100001), *y = rc_int_new(100002);
    REQUIRE(x != NULL && y != NULL);
    main_tid = rc_biased_owner_of(x);
    CHECK(main_tid != 0 && main_tid != RC_BIASED_NO_TID);
    CHECK_EQ(rc_biased_owner_of(y), main_tid);
    CHECK_EQ(rc_biased_shared_state(x), 0);
    CHECK_EQ(rc_refcount(x), 1);

    helper_t h;
    helper_start(&h, true);
    rc_obj_t *z = NULL;
    helper_run(&h, do_make, &z);
    REQUIRE(z != NULL);
    CHECK(rc_biased_owner_of(z) != main_tid && rc_biased_owner_of(z) != 0);

    /* The helper's increfs go to shared: taking them back never queues. */
    run_incref(&h, x, 5);
    CHECK_EQ(rc_refcount(x), 6);
    CHECK_EQ(rc_biased_owner_of(x), main_tid);
    CHECK_EQ(rc_biased_shared_state(x), 0);
    run_decref(&h, x, 5);
    CHECK_EQ(rc_refcount(x), 1);
    CHECK_EQ(rc_biased_queued_total(), q0);

    /* The owner's increfs go to local: a non-owner dropping one of those
     * references finds shared at 0 and queues the object. */
    rc_incref(x);
    rc_incref(x);
    CHECK_EQ(rc_refcount(x), 3);
    run_decref(&h, x, 1);
    CHECK_EQ(rc_biased_queued_total(), q0 + 1);
    CHECK_EQ(rc_biased_shared_state(x), RC_BIASED_QUEUED);
    CHECK_EQ(rc_refcount(x), 3);        /* local 3, shared 0: the queue holds one */
    rc_safepoint();
    CHECK_EQ(rc_biased_shared_state(x), RC_BIASED_MERGED);
    CHECK_EQ(rc_biased_owner_of(x), 0);
    CHECK_EQ(rc_refcount(x), 2);

    /* Main's rc_decref of the helper's object is a non-owner decref. */
    rc_decref(z);                       /* queued to the helper, freed at its safepoint */
    CHECK_EQ(rc_biased_shared_state(z), RC_BIASED_QUEUED);
    CHECK_EQ(freed(), f0);
    helper_run(&h, do_safepoint, NULL);
    CHECK_EQ(freed() - f0, 1);
    rc_decref(x);
    rc_decref(x);
    rc_decref(y);
    helper_stop(&h);
    CHECK_EQ(freed() - f0, 3);
}

/* ---- the merge queue: a queued object waits for its owner ------------- */

/* Main hands references to a helper; the helper drops them. The object is
 * queued once, stays alive while queued (the queue holds a reference) even
 * when main drops everything, and is freed at main's safepoint. */
static void queued_object_waits_for_the_safepoint(void)
{
    enum { N = 64 };
    uint64_t q0 = rc_biased_queued_total(), m0 = rc_biased_merged_total(), f0 = freed();
    helper_t h;
    helper_start(&h, false);
    rc_obj_t *o[N];
    for (int i = 0; i < N; i++) {
        o[i] = rc_int_new(200000 + i);
        for (int k = 0; k < 3; k++)
            rc_incref(o[i]);            /* local 4: main's and three for the helper */
    }
    for (int i = 0; i < N; i++)
        run_decref(&h, o[i], 3);        /* one queues, two take shared below zero */
    CHECK_EQ(rc_biased_queued_total() - q0, N);
    for (int i = 0; i < N; i++) {
        CHECK_EQ(rc_biased_shared_state(o[i]), RC_BIASED_QUEUED);
        CHECK_EQ(rc_refcount(o[i]), 2);  /* 4 - 2: main's and the queue's */
        if (i % 2)
            rc_decref(o[i]);            /* main lets go: only the queue holds it */
    }
    CHECK_EQ(freed(), f0);              /* nothing freed before the owner merges */
    for (int i = 0; i < N; i += 2)
        CHECK_EQ(rc_int_value(o[i]), 200000 + i);
    rc_safepoint();
    CHECK_EQ(rc_biased_merged_total() - m0, N);
    CHECK_EQ(freed() - f0, N / 2);      /* the odd ones went at the merge */
    for (int i = 0; i < N; i += 2) {
        CHECK_EQ(rc_biased_shared_state(o[i]), RC_BIASED_MERGED);
        CHECK_EQ(rc_biased_owner_of(o[i]), 0);
        CHECK_EQ(rc_refcount(o[i]), 1);
        rc_incref(o[i]);                /* merged: main counts in shared now */
        CHECK_EQ(rc_refcount(o[i]), 2);
        rc_decref(o[i]);
        rc_decref(o[i]);
    }
    CHECK_EQ(freed() - f0, N);
    CHECK_EQ(rc_biased_queued_total() - q0, N);   /* merged objects never queue again */
    rc_safepoint();
    CHECK_EQ(rc_biased_merged_total() - m0, N);
    helper_stop(&h);
}

/* ---- merge-queue race: many non-owners cross zero at once ------------- */

#define RACERS 6
#define RACE_OBJS 128
typedef struct racer {
    pthread_t th;
    int index;
    bool attach, churn;
    uint64_t bad_payloads;
} racer_t;
static rc_obj_t *race_objs[RACE_OBJS];
static pthread_barrier_t race_barrier;

/* Each racer holds one reference (counted in main's local count) to every
 * object and drops it, starting at its own offset; with churn it first
 * takes and drops a reference of its own, so shared goes up and down
 * across zero. Only one decrement per object may queue it. */
static void *racer_main(void *p)
{
    racer_t *r = p;
    if (r->attach)
        rc_thread_attach();
    pthread_barrier_wait(&race_barrier);
    for (int k = 0; k < RACE_OBJS; k++) {
        int i = (k + r->index * (RACE_OBJS / RACERS)) % RACE_OBJS;
        rc_obj_t *o = race_objs[i];
        if (rc_int_value(o) != 300000 + i)
            r->bad_payloads++;
        if (r->churn) {
            rc_incref(o);
            rc_decref(o);
            rc_incref(o);
            rc_decref(o);
        }
        rc_decref(o);
    }
    if (r->attach)
        rc_thread_detach();
    return NULL;
}

static void merge_queue_race(void)
{
    uint64_t episodes = 300 / scale + 4;
    uint64_t f0 = freed(), bad = 0;
    REQUIRE(pthread_barrier_init(&race_barrier, NULL, RACERS) == 0);
    for (uint64_t e = 0; e < episodes; e++) {
        uint64_t q0 = rc_biased_queued_total(), m0 = rc_biased_merged_total(), fe = freed();
        for (int i = 0; i < RACE_OBJS; i++) {
            race_objs[i] = rc_int_new(300000 + i);
            for (int t = 0; t < RACERS; t++)
                rc_incref(race_objs[i]);    /* local 1 + RACERS */
        }
        racer_t r[RACERS];
        for (int t = 0; t < RACERS; t++) {
            r[t] = (racer_t){ .index = t, .attach = t % 2, .churn = (e + (uint64_t)t) % 3 == 0 };
            REQUIRE(pthread_create(&r[t].th, NULL, racer_main, &r[t]) == 0);
        }
        for (int t = 0; t < RACERS; t++) {
            REQUIRE(pthread_join(r[t].th, NULL) == 0);
            bad += r[t].bad_payloads;
        }
        /* Queued exactly once each, nothing freed, and the count is exact:
         * local 1 + RACERS, shared -(RACERS - 1) = main's + the queue's. */
        CHECK_EQ(rc_biased_queued_total() - q0, RACE_OBJS);
        CHECK_EQ(freed(), fe);
        int not_queued = 0, wrong_count = 0;
        for (int i = 0; i < RACE_OBJS; i++) {
            not_queued += rc_biased_shared_state(race_objs[i]) != RC_BIASED_QUEUED;
            wrong_count += rc_refcount(race_objs[i]) != 2;
            if (i % 2)
                rc_decref(race_objs[i]);    /* main's own: the queue's is the last */
        }
        CHECK_EQ(not_queued, 0);
        CHECK_EQ(wrong_count, 0);
        CHECK_EQ(freed(), fe);
        rc_safepoint();
        CHECK_EQ(rc_biased_merged_total() - m0, RACE_OBJS);
        CHECK_EQ(freed() - fe, RACE_OBJS / 2);
        int not_merged = 0;
        for (int i = 0; i < RACE_OBJS; i += 2) {
            not_merged += rc_biased_shared_state(race_objs[i]) != RC_BIASED_MERGED ||
                          rc_biased_owner_of(race_objs[i]) != 0 || rc_refcount(race_objs[i]) != 1;
            rc_decref(race_objs[i]);
        }
        CHECK_EQ(not_merged, 0);
        CHECK_EQ(freed() - fe, RACE_OBJS);
    }
    pthread_barrier_destroy(&race_barrier);
    CHECK_EQ(bad, 0);
    CHECK_EQ(freed() - f0, episodes * RACE_OBJS);
    printf("merge-queue race: %llu episodes x %d objects x %d racers, each queued once\n",
           (unsigned long long)episodes, RACE_OBJS, RACERS);
}

/* ---- owner exit ------------------------------------------------------- */

#define EXIT_OBJS 64
typedef struct exiting {
    rc_obj_t *objs[EXIT_OBJS];          /* even: ints; odd: 2-tuples of the owner's ints */
    int extra;                          /* references per object handed to main */
    pthread_barrier_t made, released;
    bool wait_for_release;
} exiting_t;

static void *exiting_owner(void *p)
{
    exiting_t *x = p;
    rc_thread_attach();
    for (int i = 0; i < EXIT_OBJS; i++) {
        if (i % 2 == 0) {
            x->objs[i] = rc_int_new(400000 + i);
        } else {
            x->objs[i] = rc_tuple_new(2);
            rc_tuple_set(x->objs[i], 0, rc_int_new(400000 + i));
            rc_tuple_set(x->objs[i], 1, rc_int_new(-400000 - i));
        }
        for (int k = 0; k < x->extra; k++)
            rc_incref(x->objs[i]);      /* local: every reference main gets */
    }
    pthread_barrier_wait(&x->made);
    if (x->wait_for_release)
        pthread_barrier_wait(&x->released);
    rc_thread_detach();
    return NULL;                        /* no safepoint: the exit drains the queue */
}

static bool exit_payload_ok(const rc_obj_t *o, int i)
{
    if (i % 2 == 0)
        return rc_int_value(o) == 400000 + i;
    return rc_tuple_size(o) == 2 && rc_int_value(rc_tuple_get(o, 0)) == 400000 + i &&
           rc_int_value(rc_tuple_get(o, 1)) == -400000 - i;
}

/* Objects queued to an owner that exits without a safepoint are merged
 * (and here freed) by its exit. */
static void owner_exit_drains_its_queue(void)
{
    static exiting_t x;
    uint64_t q0 = rc_biased_queued_total(), m0 = rc_biased_merged_total(),
             o0 = rc_biased_orphan_merges(), f0 = freed();
    memset(&x, 0, sizeof x);
    x.wait_for_release = true;
    REQUIRE(pthread_barrier_init(&x.made, NULL, 2) == 0 && pthread_barrier_init(&x.released, NULL, 2) == 0);
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, exiting_owner, &x) == 0);
    pthread_barrier_wait(&x.made);
    int bad = 0;
    for (int i = 0; i < EXIT_OBJS; i++) {
        bad += !exit_payload_ok(x.objs[i], i);
        CHECK(rc_biased_owner_of(x.objs[i]) != main_tid);
        rc_decref(x.objs[i]);           /* main's only reference: queued to the owner */
        CHECK_EQ(rc_biased_shared_state(x.objs[i]), RC_BIASED_QUEUED);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(rc_biased_queued_total() - q0, EXIT_OBJS);
    CHECK_EQ(freed(), f0);
    pthread_barrier_wait(&x.released);
    REQUIRE(pthread_join(th, NULL) == 0);
    CHECK_EQ(rc_biased_merged_total() - m0, EXIT_OBJS);
    CHECK_EQ(rc_biased_orphan_merges(), o0);
    CHECK_EQ(freed() - f0, EXIT_OBJS + EXIT_OBJS);   /* and each tuple's two ints */
    pthread_barrier_destroy(&x.made);
    pthread_barrier_destroy(&x.released);
}

/* After the owner has exited, the non-owner whose decrement would take
 * shared below zero merges the object itself (once), and the last
 * reference frees it. Freeing a tuple orphan-merges its ints too. */
static void orphans_merged_by_non_owners(void)
{
    static exiting_t x;
    uint64_t q0 = rc_biased_queued_total(), m0 = rc_biased_merged_total(),
             o0 = rc_biased_orphan_merges(), f0 = freed();
    memset(&x, 0, sizeof x);
    x.extra = 2;                        /* main holds 3 references, all in local */
    REQUIRE(pthread_barrier_init(&x.made, NULL, 2) == 0);
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, exiting_owner, &x) == 0);
    pthread_barrier_wait(&x.made);
    REQUIRE(pthread_join(th, NULL) == 0);
    CHECK_EQ(freed(), f0);
    int bad = 0, wrong = 0;
    for (int i = 0; i < EXIT_OBJS; i++) {
        rc_obj_t *o = x.objs[i];
        bad += !exit_payload_ok(o, i);
        if (i % 4 == 0) {
            rc_incref(o);               /* shared 1: the first decref takes it back */
            rc_decref(o);
            wrong += rc_biased_shared_state(o) != 0 || rc_refcount(o) != 3;
        }
        rc_decref(o);                   /* shared would go below zero: orphan merge */
        wrong += rc_biased_shared_state(o) != RC_BIASED_MERGED || rc_biased_owner_of(o) != 0 ||
                 rc_refcount(o) != 2;
        bad += !exit_payload_ok(o, i);
        rc_decref(o);
        rc_decref(o);                   /* the last reference frees it here */
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(wrong, 0);
    CHECK_EQ(freed() - f0, EXIT_OBJS + EXIT_OBJS);
    CHECK_EQ(rc_biased_orphan_merges() - o0, EXIT_OBJS + EXIT_OBJS);  /* each object and tuple item once */
    CHECK_EQ(rc_biased_queued_total(), q0);
    CHECK_EQ(rc_biased_merged_total(), m0);
    pthread_barrier_destroy(&x.made);
}

/* ---- implicit merge: the owner's local count reaches zero ------------- */

static void implicit_merge_at_local_zero(void)
{
    uint64_t q0 = rc_biased_queued_total(), m0 = rc_biased_merged_total(), f0 = freed();
    helper_t h1, h2;
    helper_start(&h1, true);
    helper_start(&h2, false);

    /* Default state: another thread still holds a reference. */
    rc_obj_t *x = rc_int_new(500001);
    run_incref(&h1, x, 1);              /* borrowed from main, a reference of its own */
    rc_decref(x);                       /* local 0, shared 1: unbiased, not freed */
    CHECK_EQ(rc_biased_shared_state(x), RC_BIASED_MERGED);
    CHECK_EQ(rc_biased_owner_of(x), 0);
    CHECK_EQ(rc_refcount(x), 1);
    CHECK_EQ(freed(), f0);
    CHECK_EQ(rc_int_value(x), 500001);
    run_decref(&h1, x, 1);              /* the helper's is the last: it frees */
    CHECK_EQ(freed() - f0, 1);

    /* Queued state: local reaches zero while the queue holds a reference;
     * the merge at the safepoint frees it. */
    rc_obj_t *y = rc_int_new(500002);
    rc_incref(y);                       /* local 2: one for h2 */
    run_decref(&h2, y, 1);              /* h2 drops it: queued */
    CHECK_EQ(rc_biased_shared_state(y), RC_BIASED_QUEUED);
    run_incref(&h1, y, 1);              /* h1 takes one (shared 1) and hands it to main */
    CHECK_EQ(rc_refcount(y), 3);        /* local 2 + shared 1: main's two and the queue's */
    rc_decref(y);
    rc_decref(y);                       /* local 0 while queued: unbiased, shared 1 (the queue's) */
    CHECK_EQ(rc_biased_shared_state(y), RC_BIASED_MERGED);
    CHECK_EQ(rc_biased_owner_of(y), 0);
    CHECK_EQ(rc_refcount(y), 1);
    CHECK_EQ(freed() - f0, 1);
    rc_safepoint();                     /* the queue lets go */
    CHECK_EQ(freed() - f0, 2);
    CHECK_EQ(rc_biased_queued_total() - q0, 1);
    CHECK_EQ(rc_biased_merged_total() - m0, 1);

    /* Local zero with shared zero: freed at once, nothing queued. */
    rc_obj_t *z = rc_int_new(500003);
    run_incref(&h2, z, 2);
    run_decref(&h1, z, 2);              /* another thread's references, dropped by a third */
    rc_decref(z);
    CHECK_EQ(freed() - f0, 3);
    CHECK_EQ(rc_biased_queued_total() - q0, 1);
    helper_stop(&h1);
    helper_stop(&h2);
}

/* ---- rc_refcount == local + shared, exact at safepoints --------------- */

/* A seeded random script over objects main owns: main increfs, decrefs
 * and hands references to helpers; helpers take references of their own,
 * drop them and hand them back. A model counts who holds what. After each
 * round (every thread quiescent, main past its safepoint) each live
 * object's count equals the model's, none is still queued, and exactly
 * the objects the model says are dead have been freed. */
#define MODEL_OBJS 48
#define MODEL_HELPERS 3
#define MODEL_OPS 64

typedef enum { OP_INCREF, OP_DECREF } op_kind_t;
typedef struct script {
    int n;
    struct { op_kind_t kind; int obj; } op[MODEL_OPS];
} script_t;
static rc_obj_t *model_obj[MODEL_OBJS];

static void run_script(void *p)
{
    const script_t *s = p;
    for (int i = 0; i < s->n; i++) {
        if (s->op[i].kind == OP_INCREF)
            rc_incref(model_obj[s->op[i].obj]);
        else
            rc_decref(model_obj[s->op[i].obj]);
    }
}

static void refcount_exact_at_safepoints(uint64_t seed)
{
    uint64_t f0 = freed(), rounds = 400 / scale + 10;
    int64_t held[MODEL_HELPERS + 1][MODEL_OBJS];    /* [0]: main */
    bool dead[MODEL_OBJS] = { false };
    uint64_t ndead = 0;
    helper_t h[MODEL_HELPERS];
    memset(held, 0, sizeof held);
    for (int k = 0; k < MODEL_OBJS; k++) {
        model_obj[k] = rc_int_new(600000 + k);
        held[0][k] = 1;
    }
    for (int t = 0; t < MODEL_HELPERS; t++)
        helper_start(&h[t], t != 0);
    int mismatches = 0, still_queued = 0, bad_payloads = 0;
    for (uint64_t r = 0; r < rounds && ndead < MODEL_OBJS; r++) {
        for (int a = 0; a <= MODEL_HELPERS; a++) {    /* 0: main, then each helper */
            script_t s = { 0 };
            for (int tries = 0; s.n < MODEL_OPS && tries < 8 * MODEL_OPS; tries++) {
                uint64_t x = test_rand(&seed);
                int k = (int)((x >> 8) % MODEL_OBJS);
                if (dead[k] || held[a][k] == 0)
                    continue;
                int64_t total = 0;
                for (int b = 0; b <= MODEL_HELPERS; b++)
                    total += held[b][k];
                switch (x % 8) {
                case 0: case 1: case 2:                /* take another reference */
                    s.op[s.n].kind = OP_INCREF;
                    s.op[s.n++].obj = k;
                    held[a][k]++;
                    break;
                case 3: case 4: case 5:                /* drop one */
                    if (total == 1 && (x & 0x10000) == 0)
                        continue;                      /* keep most objects alive longer */
                    s.op[s.n].kind = OP_DECREF;
                    s.op[s.n++].obj = k;
                    held[a][k]--;
                    if (total == 1) {
                        dead[k] = true;
                        ndead++;
                    }
                    break;
                default: {                             /* hand one to another thread */
                    int b = (int)((x >> 40) % (MODEL_HELPERS + 1));
                    held[a][k]--;
                    held[b][k]++;
                    break;
                }
                }
                if (s.n > 0 && (x >> 60) == 0)
                    break;                             /* vary the batch length */
            }
            if (a == 0)
                run_script(&s);
            else
                helper_run(&h[a - 1], run_script, &s);
        }
        rc_safepoint();
        for (int k = 0; k < MODEL_OBJS; k++) {
            if (dead[k])
                continue;
            int64_t total = 0;
            for (int b = 0; b <= MODEL_HELPERS; b++)
                total += held[b][k];
            mismatches += rc_refcount(model_obj[k]) != total;
            still_queued += rc_biased_shared_state(model_obj[k]) == RC_BIASED_QUEUED;
            bad_payloads += rc_int_value(model_obj[k]) != 600000 + k;
        }
        CHECK_EQ(freed() - f0, ndead);
    }
    CHECK_EQ(mismatches, 0);
    CHECK_EQ(still_queued, 0);
    CHECK_EQ(bad_payloads, 0);
    /* Drop what is left, each reference from the thread that holds it. */
    for (int a = 0; a <= MODEL_HELPERS; a++) {
        script_t s = { 0 };
        for (int k = 0; k < MODEL_OBJS; k++)
            for (; !dead[k] && held[a][k] > 0; held[a][k]--) {
                if (s.n == MODEL_OPS) {
                    if (a == 0) run_script(&s); else helper_run(&h[a - 1], run_script, &s);
                    s.n = 0;
                }
                s.op[s.n].kind = OP_DECREF;
                s.op[s.n++].obj = k;
            }
        if (a == 0) run_script(&s); else helper_run(&h[a - 1], run_script, &s);
    }
    rc_safepoint();
    for (int t = 0; t < MODEL_HELPERS; t++)
        helper_stop(&h[t]);
    CHECK_EQ(freed() - f0, MODEL_OBJS);
    printf("refcount model: %llu objects died during the rounds\n", (unsigned long long)ndead);
}

/* ---- immortals are never written -------------------------------------- */

#define IMMORTAL_THREADS 4
static pthread_barrier_t immortal_barrier;
static uint64_t immortal_iters;

static void *immortal_hammer(void *p)
{
    (void)p;
    pthread_barrier_wait(&immortal_barrier);
    for (uint64_t n = 0; n < immortal_iters; n++)
        for (int64_t v = RC_SMALL_INT_MIN; v <= RC_SMALL_INT_MAX; v++) {
            rc_obj_t *o = rc_small_int(v);
            rc_incref(o);
            rc_decref(o);
            rc_decref(o);               /* more decrefs than increfs: still nothing */
        }
    return NULL;
}

static void immortals_never_written(void)
{
    enum { N = RC_SMALL_INT_MAX - RC_SMALL_INT_MIN + 1 };
    static unsigned char before[N][sizeof(rc_int_t)];
    uint64_t q0 = rc_biased_queued_total(), a0 = rc_stats_get().allocated;
    for (int i = 0; i < N; i++)
        memcpy(before[i], rc_small_int(RC_SMALL_INT_MIN + i), sizeof(rc_int_t));
    immortal_iters = 2000 / scale + 1;
    REQUIRE(pthread_barrier_init(&immortal_barrier, NULL, IMMORTAL_THREADS) == 0);
    pthread_t th[IMMORTAL_THREADS];
    for (int t = 0; t < IMMORTAL_THREADS; t++)
        REQUIRE(pthread_create(&th[t], NULL, immortal_hammer, NULL) == 0);
    for (int t = 0; t < IMMORTAL_THREADS; t++)
        REQUIRE(pthread_join(th[t], NULL) == 0);
    pthread_barrier_destroy(&immortal_barrier);
    int changed = 0, mortal = 0;
    for (int i = 0; i < N; i++) {
        rc_obj_t *o = rc_small_int(RC_SMALL_INT_MIN + i);
        changed += memcmp(before[i], o, sizeof(rc_int_t)) != 0;
        mortal += !rc_is_immortal(o) || rc_refcount(o) != RC_REFCNT_IMMORTAL ||
                  rc_biased_owner_of(o) != 0 || rc_biased_shared_state(o) != 0;
    }
    CHECK_EQ(changed, 0);
    CHECK_EQ(mortal, 0);
    CHECK_EQ(rc_biased_queued_total(), q0);
    CHECK_EQ(rc_stats_get().allocated, a0);
}

/* ---- saturation ------------------------------------------------------- */

/* The window between a non-owner's queuing CAS and its push: the owner's
 * local count reaches zero there and unbiases the object (owner 0), so
 * there is no queue to join; the queuer must drop the queue's reference
 * (freeing the object) instead of pushing onto thread id 0. A test hook
 * holds the window open. */
static RC_ATOMIC(int) window_stage;      /* 1: queuer in the window; 2: owner done */

static void window_hook(rc_obj_t *o)
{
    rc_incref(o);                        /* a reference for main, counted in shared */
    at_store_release(&window_stage, 1);  /* pairs with main's acquire: publishes the incref */
    while (at_load_acquire(&window_stage) != 2)   /* pairs with main's release */
        sched_yield();
}

static void *window_queuer(void *p)
{
    rc_decref((rc_obj_t *)p);            /* 0 -> queued, then the hook, then the push */
    return NULL;
}

static void merge_inside_the_queuing_window(void)
{
    rc_obj_t *o = rc_int_new(700777);
    rc_incref(o);                        /* local 2: main's and the queuer's */
    uint64_t q0 = rc_biased_queued_total(), f0 = freed();
    at_store_relaxed(&window_stage, 0);
    _rc_biased_test_hook_queue = window_hook;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, window_queuer, o) == 0);
    while (at_load_acquire(&window_stage) != 1)   /* pairs with the hook's release */
        sched_yield();
    rc_decref(o);                        /* main's own reference */
    rc_decref(o);                        /* the one the queuer made for main: local 0 */
    CHECK_EQ(rc_biased_shared_state(o), RC_BIASED_MERGED);
    CHECK_EQ(rc_biased_owner_of(o), 0);
    CHECK_EQ(freed(), f0);               /* the queue's reference keeps it */
    at_store_release(&window_stage, 2);  /* pairs with the hook's acquire */
    REQUIRE(pthread_join(t, NULL) == 0);
    _rc_biased_test_hook_queue = NULL;
    CHECK_EQ(freed(), f0 + 1);           /* dropped by the queuer, not pushed */
    CHECK_EQ(rc_biased_queued_total(), q0);
}


/* The owner's increfs carry the local count into its immortal bit; from
 * then on no decref, by anyone, frees the object or queues it. */
static void local_count_saturates(void)
{
    uint64_t q0 = rc_biased_queued_total(), f0 = freed();
    rc_obj_t *o = rc_int_new(123457);
    rc_debug_set_refcnt(o, (uint64_t)rc_count_max - 2);
    CHECK_EQ(rc_refcount(o), rc_count_max - 2);
    rc_incref(o);
    rc_incref(o);
    CHECK(!rc_is_immortal(o));
    CHECK_EQ(rc_refcount(o), rc_count_max);
    rc_incref(o);                       /* 2^31: the immortal bit */
    CHECK(rc_is_immortal(o));
    CHECK_EQ(rc_refcount(o), RC_REFCNT_IMMORTAL);
    CHECK_EQ(rc_biased_owner_of(o), main_tid);   /* the carry stops at bit 31 */

    helper_t h;
    helper_start(&h, true);
    run_incref(&h, o, 1000);
    run_decref(&h, o, 3000);            /* a non-owner: never queues an immortal */
    for (int i = 0; i < 3000; i++)
        rc_decref(o);
    rc_safepoint();
    CHECK(rc_is_immortal(o));
    CHECK_EQ(rc_refcount(o), RC_REFCNT_IMMORTAL);
    CHECK_EQ(rc_biased_shared_state(o), 0);
    CHECK_EQ(rc_biased_queued_total(), q0);
    CHECK_EQ(freed(), f0);
    CHECK_EQ(rc_int_value(o), 123457);
    helper_stop(&h);

    /* Both counters set: the sum is exact beyond 32 bits. */
    rc_biased_debug_set_counts(o, (uint32_t)rc_count_max, 7);
    CHECK(!rc_is_immortal(o));
    CHECK_EQ(rc_refcount(o), rc_count_max + 7);
    rc_incref(o);
    CHECK_EQ(rc_refcount(o), RC_REFCNT_IMMORTAL);

    rc_biased_debug_set_counts(o, 1, 0);   /* test cleanup only */
    rc_decref(o);
    CHECK_EQ(freed() - f0, 1);
}

/* rc.h: rc_debug_set_refcnt counts above rc_count_max saturate into
 * immortality; they must not be truncated to 32 bits (2^32 would read as
 * local 0, a live object with no count). */
static void debug_set_refcnt_saturates(void)
{
    uint64_t f0 = freed();
    const uint64_t counts[] = { (uint64_t)rc_count_max + 1, UINT64_C(1) << 32,
                                (UINT64_C(1) << 40) + 5 };
    for (int i = 0; i < 3; i++) {
        rc_obj_t *o = rc_int_new(123458);
        rc_debug_set_refcnt(o, counts[i]);
        if (!rc_is_immortal(o))
            printf("rc_debug_set_refcnt(%#llx) left the object mortal, count %lld\n",
                   (unsigned long long)counts[i], (long long)rc_refcount(o));
        CHECK(rc_is_immortal(o));
        CHECK_EQ(rc_refcount(o), RC_REFCNT_IMMORTAL);
        rc_debug_set_refcnt(o, 1);      /* test cleanup only */
        rc_decref(o);
    }
    CHECK_EQ(freed() - f0, 3);
}

/* Non-owner increfs take shared to RC_BIASED_SHARED_SATURATED: reported
 * immortal, and no decref frees it (the owner's, which unbiases it, nor
 * the others'). */
static void shared_count_saturates(void)
{
    uint64_t q0 = rc_biased_queued_total(), f0 = freed();
    helper_t h;
    helper_start(&h, false);
    rc_obj_t *o = rc_int_new(123459);
    rc_biased_debug_set_counts(o, 1, RC_BIASED_SHARED_SATURATED - 3);
    CHECK_EQ(rc_refcount(o), RC_BIASED_SHARED_SATURATED - 2);
    run_incref(&h, o, 2);
    CHECK_EQ(rc_refcount(o), RC_BIASED_SHARED_SATURATED);   /* local 1 + shared 2^60 - 1 */
    run_incref(&h, o, 3);
    CHECK_EQ(rc_refcount(o), RC_REFCNT_IMMORTAL);
    rc_decref(o);                       /* local 0: unbiased with shared 2^60 + 2 */
    CHECK_EQ(rc_biased_shared_state(o), RC_BIASED_MERGED);
    CHECK_EQ(rc_refcount(o), RC_REFCNT_IMMORTAL);
    run_decref(&h, o, 2);
    CHECK_EQ(rc_refcount(o), RC_REFCNT_IMMORTAL);
    run_decref(&h, o, 1000);
    rc_safepoint();
    CHECK_EQ(freed(), f0);
    CHECK_EQ(rc_int_value(o), 123459);
    CHECK_EQ(rc_biased_queued_total(), q0);
    if (rc_refcount(o) != RC_REFCNT_IMMORTAL || !rc_is_immortal(o))
        printf("note: shared saturation is a report only: after 1000 decrefs rc_refcount = %lld, "
               "rc_is_immortal = %d\n", (long long)rc_refcount(o), (int)rc_is_immortal(o));
    rc_biased_debug_set_counts(o, 0, 1);   /* test cleanup only: merged, one reference */
    run_decref(&h, o, 1);
    CHECK_EQ(freed() - f0, 1);
    helper_stop(&h);
}

/* An object queued while the owner's local count saturates: the merge must
 * keep it immortal. Increfs after saturation were not counted, so a
 * merged mortal count would be short of the real references and a later
 * decref could free it while still referenced. */
static void saturated_object_stays_immortal_through_merge(void)
{
    uint64_t f0 = freed();
    helper_t h;
    helper_start(&h, false);
    rc_obj_t *o = rc_int_new(123460);
    rc_incref(o);
    run_decref(&h, o, 1);               /* queued to main */
    CHECK_EQ(rc_biased_shared_state(o), RC_BIASED_QUEUED);
    rc_biased_debug_set_counts(o, (uint32_t)rc_count_max - 1, 0);
    rc_incref(o);
    rc_incref(o);                       /* saturated while queued */
    CHECK(rc_is_immortal(o));
    rc_safepoint();                     /* the merge */
    if (!rc_is_immortal(o))
        printf("BUG: the merge made a saturated object mortal again: count %lld, owner %u, state %d\n",
               (long long)rc_refcount(o), rc_biased_owner_of(o), rc_biased_shared_state(o));
    CHECK(rc_is_immortal(o));
    CHECK_EQ(rc_refcount(o), RC_REFCNT_IMMORTAL);
    for (int i = 0; i < 100; i++)
        rc_decref(o);
    CHECK_EQ(freed(), f0);
    CHECK_EQ(rc_int_value(o), 123460);
    /* Test cleanup only, whatever the merge left: owned by main, or unowned. */
    if (rc_biased_owner_of(o) == main_tid) {
        rc_biased_debug_set_counts(o, 1, 0);
        rc_decref(o);
    } else if (rc_biased_shared_state(o) == RC_BIASED_MERGED) {
        rc_biased_debug_set_counts(o, 0, 1);
        rc_decref(o);
    }
    CHECK_EQ(freed() - f0, 1);
    helper_stop(&h);
}

int main(int argc, char **argv)
{
    test_opts_t opt = test_opts(argc, argv);
    scale = opt.scale;
    rc_thread_attach();
    uint64_t q0 = rc_biased_queued_total(), m0 = rc_biased_merged_total();
    owner_local_others_shared();
    queued_object_waits_for_the_safepoint();
    merge_queue_race();
    owner_exit_drains_its_queue();
    orphans_merged_by_non_owners();
    implicit_merge_at_local_zero();
    refcount_exact_at_safepoints(opt.seed);
    immortals_never_written();
    merge_inside_the_queuing_window();
    local_count_saturates();
    debug_set_refcnt_saturates();
    shared_count_saturates();
    saturated_object_stays_immortal_through_merge();
    rc_safepoint();
    CHECK_EQ(rc_biased_queued_total() - q0, rc_biased_merged_total() - m0);
    CHECK_EQ(live(), 0);
    rc_thread_detach();
    return TEST_END();
}
