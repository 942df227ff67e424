/* tests/unit/test_deferred.c — deferred counting's own rules
 * (rc/strategy/deferred.h), deterministic.
 *
 *   bound        the reclamation bound: W attached threads, driven one at a
 *                time by main in a fixed order (stepped helpers), drop everything
 *                they made (garbage chains, lists of ints, objects made by
 *                another thread); nothing is freed before a safepoint, nor
 *                after one round of safepoints (a decrement waits two
 *                epochs), and everything is freed after three rounds:
 *                one to seal, two epochs. A detached thread does not hold
 *                that up; an attached thread that stops passing safepoints
 *                does, until it detaches.
 *   alone        a thread that is the only one attached frees at its first
 *                safepoint (it advances the epoch twice itself).
 *   buffer       100 million increfs (then as many decrefs) on one thread,
 *                spread over more objects than the table has slots so
 *                nearly every one is logged: the thread's buffers never
 *                exceed table + log + the sealed batches of one flush.
 *   coalescing   an incref and a decref of the same object cancel in the
 *                table: no log entry, no atomic; immortals are never
 *                logged and never written.
 *   unattached   a thread that never attached applies increments at once
 *                and queues decrements on the shared list, applied at a
 *                later safepoint of anyone.
 *   exit         a thread that exits attached, with changes in its table
 *                and no safepoint, has them applied (thread exit flushes).
 *   read section a reader loads a pointer a writer then unlinks and
 *                releases, and does enough other increfs to force flushes
 *                before it increfs the pointer: inside a read section the
 *                object stays alive however often the writer passes
 *                safepoints (outside one it would be freed: the review's
 *                reproducer).
 *   left alone   a thread whose peers detached while its older batch
 *                waited frees everything at its next safepoint.
 *   sync         rc_deferred_sync waits for other threads' batches (they
 *                keep passing safepoints) and for the shared list.
 *   unattached bound  a thread that never attaches makes and drops a
 *                million objects: the shared list stays within two
 *                batches.
 * --scale N divides the buffer test's 100 million.
 * Threading: main plus stepped helper threads (tests/stepped.h).
 */
#include <pthread.h>
#include <string.h>

#include "rc/rc.h"
#include "tests/check.h"
#include "tests/stepped.h"

static uint64_t live(void) { return rc_stats_get().live; }
static rc_deferred_stats_t dstats(void)
{
    rc_deferred_stats_t s;
    rc_deferred_stats_get(&s);
    return s;
}

/* ---- helpers (tests/stepped.h) and what their steps work on ----------- */

typedef struct worker {
    rc_obj_t *held[64];
    int nheld;
    int index;
} worker_t;

static void do_attach(void *arg) { (void)arg; rc_thread_attach(); }
static void do_detach(void *arg) { (void)arg; rc_thread_detach(); }
static void do_safepoint(void *arg) { (void)arg; rc_safepoint(); }

/* ---- bound ------------------------------------------------------------- */

#define WORKERS 4
#define CHAIN 1000
#define LISTS 20
/* Objects each worker makes: a chain, LISTS lists of two ints, and one
 * int handed to the next worker. */
#define PER_WORKER (CHAIN + 3 * LISTS + 1)

static helper_t helpers[WORKERS + 1];
static worker_t wk[WORKERS + 1];
static rc_obj_t *handed[WORKERS];

static void make_garbage(void *arg)
{
    worker_t *p = arg;
    rc_obj_t *head = rc_node_new(1, 0);
    REQUIRE(head != NULL);
    for (int i = 1; i < CHAIN; i++) {
        rc_obj_t *n = rc_node_new(1, i);
        REQUIRE(n != NULL);
        rc_node_set(n, 0, head);
        head = n;
    }
    p->held[p->nheld++] = head;
    for (int i = 0; i < LISTS; i++) {
        rc_obj_t *l = rc_list_new(), *a = rc_int_new(1000 + i), *b = rc_int_new(2000 + i);
        REQUIRE(l && a && b && rc_list_append(l, a) && rc_list_append(l, b));
        rc_decref(a);
        rc_decref(b);
        p->held[p->nheld++] = l;
    }
    handed[p->index] = rc_int_new(5000 + p->index);
    REQUIRE(handed[p->index] != NULL);
    rc_safepoint();
}

/* Takes the int the previous worker made (its maker drops its own). */
static void take_handed(void *arg)
{
    worker_t *p = arg;
    rc_obj_t *o = handed[(p->index + WORKERS - 1) % WORKERS];
    rc_incref(o);
    p->held[p->nheld++] = o;
    rc_safepoint();
}

static void drop_all(void *arg)
{
    worker_t *p = arg;
    while (p->nheld > 0)
        rc_decref(p->held[--p->nheld]);
    rc_decref(handed[p->index]);
}

/* One round: every worker in order passes a safepoint. */
static void round_of_safepoints(int workers)
{
    for (int i = 0; i < workers; i++)
        helper_run(&helpers[i], do_safepoint, &wk[i]);
}

static void bound_check(void)
{
    uint64_t base = live();
    for (int i = 0; i < WORKERS; i++) {
        wk[i] = (worker_t){ .index = i };
    helper_start(&helpers[i], false);
        helper_run(&helpers[i], do_attach, &wk[i]);
    }
    for (int i = 0; i < WORKERS; i++)
        helper_run(&helpers[i], make_garbage, &wk[i]);
    for (int i = 0; i < WORKERS; i++)
        helper_run(&helpers[i], take_handed, &wk[i]);
    round_of_safepoints(WORKERS);
    const uint64_t full = base + WORKERS * PER_WORKER;
    CHECK_EQ(live(), full);

    /* A fifth thread attaches, then detaches (blocked, idle): it must not
     * hold the epoch back. */
    wk[WORKERS] = (worker_t){ .index = WORKERS };
    helper_start(&helpers[WORKERS], false);
    helper_run(&helpers[WORKERS], do_attach, &wk[WORKERS]);
    helper_run(&helpers[WORKERS], do_detach, &wk[WORKERS]);

    uint64_t e0 = dstats().epoch;
    for (int i = 0; i < WORKERS; i++)
        helper_run(&helpers[i], drop_all, &wk[i]);
    CHECK_EQ(live(), full);                    /* dropped, logged, nothing applied */
    uint64_t after[4];
    after[0] = live();
    for (int r = 1; r <= 3; r++) {
        round_of_safepoints(WORKERS);
        after[r] = live();
    }
    printf("bound: %d threads dropped %d objects each; live after 0..3 rounds of safepoints: "
           "%llu %llu %llu %llu (baseline %llu), epochs %llu\n", WORKERS, PER_WORKER,
           (unsigned long long)after[0], (unsigned long long)after[1], (unsigned long long)after[2],
           (unsigned long long)after[3], (unsigned long long)base,
           (unsigned long long)(dstats().epoch - e0));
    CHECK_EQ(after[1], full);                  /* sealed, not yet two epochs old */
    CHECK_EQ(after[3], base);                  /* one round to seal, two epochs */
    CHECK(dstats().max_delay_epochs >= 2);
    CHECK_EQ(dstats().pending_decrements, 0);

    /* The same again, but worker 0 stops passing safepoints while attached
     * (the others' batches wait for it), then detaches: the next round
     * frees everything. */
    for (int i = 0; i < WORKERS; i++)
        helper_run(&helpers[i], make_garbage, &wk[i]);
    for (int i = 0; i < WORKERS; i++)
        helper_run(&helpers[i], take_handed, &wk[i]);
    round_of_safepoints(WORKERS);
    CHECK_EQ(live(), full);
    for (int i = 0; i < WORKERS; i++)
        helper_run(&helpers[i], drop_all, &wk[i]);
    for (int r = 0; r < 5; r++)
        for (int i = 1; i < WORKERS; i++)
            helper_run(&helpers[i], do_safepoint, &wk[i]);
    uint64_t stalled = live();
    printf("bound: with one attached thread stalled, after 5 rounds of the others: %llu live\n",
           (unsigned long long)stalled);
    CHECK_EQ(stalled, full);                   /* worker 0's increments might still be unapplied */
    helper_run(&helpers[0], do_detach, &wk[0]);             /* flushes, leaves the epoch, hands its batch over */
    for (int r = 0; r < 3; r++)
        for (int i = 1; i < WORKERS; i++)
            helper_run(&helpers[i], do_safepoint, &wk[i]);
    CHECK_EQ(live(), base);

    for (int i = 1; i < WORKERS; i++)
        helper_run(&helpers[i], do_detach, &wk[i]);
    for (int i = 0; i <= WORKERS; i++)
        helper_stop(&helpers[i]);
    CHECK_EQ(dstats().attached, 0);
}

/* ---- alone ------------------------------------------------------------- */

static void alone_frees_at_first_safepoint(void)
{
    rc_thread_attach();
    uint64_t base = live();
    rc_obj_t *l = rc_list_new();
    for (int i = 0; i < 100; i++) {
        rc_obj_t *x = rc_int_new(10000 + i);
        REQUIRE(x && rc_list_append(l, x));
        rc_decref(x);
    }
    rc_decref(l);
    CHECK_EQ(live(), base + 101);              /* logged: nothing freed before a safepoint */
    rc_safepoint();
    CHECK_EQ(live(), base);
    rc_thread_detach();
}

/* ---- buffer ------------------------------------------------------------ */

#define SPREAD 65536                           /* objects: far more than table slots */

static void buffer_bound(uint64_t scale)
{
    const uint64_t n = UINT64_C(100000000) / scale;
    /* A thread alone: a forced flush applies its increments and, advancing
     * the epoch itself, the decrements it sealed. Its buffers hold at most
     * the table, the log and the batches one flush seals (the log's and the
     * table's entries), plus one spare. */
    const uint64_t batch = sizeof(rc_deferred_slot_t) * RC_DEFERRED_BATCH + 32;
    const uint64_t cap = sizeof(rc_deferred_slot_t) * (RC_DEFERRED_SLOTS + RC_DEFERRED_LOG) +
                         ((RC_DEFERRED_SLOTS + RC_DEFERRED_LOG) / RC_DEFERRED_BATCH + 2) * batch;
    static rc_obj_t *objs[SPREAD];
    rc_thread_attach();
    uint64_t base = live();
    for (int i = 0; i < SPREAD; i++)
        REQUIRE((objs[i] = rc_int_new(100000 + i)) != NULL);
    rc_deferred_stats_t s0 = dstats();
    uint64_t worst = 0;
    for (uint64_t i = 0; i < n; i++) {
        rc_incref(objs[(i * 977) & (SPREAD - 1)]);  /* 977 odd: visits every object */
        if ((i & 0xFFFFF) == 0) {
            uint64_t b = rc_deferred_thread_buffer_bytes();
            if (b > worst)
                worst = b;
        }
    }
    rc_deferred_stats_t s1 = dstats();
    for (uint64_t i = 0; i < n; i++) {
        rc_decref(objs[(i * 977) & (SPREAD - 1)]);
        if ((i & 0xFFFFF) == 0) {
            uint64_t b = rc_deferred_thread_buffer_bytes();
            if (b > worst)
                worst = b;
        }
    }
    rc_deferred_stats_t s2 = dstats();
    printf("buffer: %llu increfs then %llu decrefs over %d objects: %llu + %llu forced flushes, "
           "%llu entries logged; buffers at most %llu bytes (sampled %llu, cap %llu)\n",
           (unsigned long long)n, (unsigned long long)n, SPREAD,
           (unsigned long long)(s1.forced_flushes - s0.forced_flushes),
           (unsigned long long)(s2.forced_flushes - s1.forced_flushes),
           (unsigned long long)(s2.logged - s0.logged), (unsigned long long)s2.thread_buffer_peak,
           (unsigned long long)worst, (unsigned long long)cap);
    CHECK(s1.forced_flushes - s0.forced_flushes >= n / RC_DEFERRED_LOG / 2);   /* the log did fill */
    CHECK(s2.thread_buffer_peak <= cap);
    CHECK(worst <= cap);
    rc_safepoint();
    int wrong = 0;
    for (int i = 0; i < SPREAD; i++) {
        wrong += rc_refcount(objs[i]) != 1;    /* every incref and decref applied */
        rc_decref(objs[i]);
    }
    CHECK_EQ(wrong, 0);
    rc_safepoint();
    CHECK_EQ(live(), base);
    rc_thread_detach();
}

/* ---- coalescing and immortals ------------------------------------------ */

static void coalescing_and_immortals(void)
{
    rc_thread_attach();
    rc_obj_t *x = rc_int_new(777777);
    rc_safepoint();
    rc_deferred_stats_t s0 = dstats();
    for (int i = 0; i < 100000; i++) {
        rc_incref(x);
        rc_decref(x);
    }
    rc_deferred_stats_t s1 = dstats();
    CHECK_EQ(s1.logged - s0.logged, 0);         /* one slot the whole time */
    CHECK_EQ(rc_refcount(x), 1);                /* nothing applied, and nothing to apply */
    rc_safepoint();
    rc_deferred_stats_t s2 = dstats();
    CHECK_EQ(s2.increments_applied - s1.increments_applied, 0);   /* the pairs cancelled */
    CHECK_EQ(s2.pending_decrements, 0);

    rc_obj_t *small = rc_small_int(7);
    unsigned char before[sizeof(rc_int_t)];
    memcpy(before, small, sizeof before);
    for (int i = 0; i < 100000; i++) {
        rc_incref(small);
        rc_decref(small);
        rc_decref(small);
    }
    CHECK_EQ(_rc_deferred_table[RC_DEFERRED_SLOT_OF(small)].obj == small, 0);   /* never taken a slot */
    rc_safepoint();
    CHECK_EQ(dstats().logged - s2.logged, 0);
    CHECK(memcmp(before, small, sizeof before) == 0);
    CHECK_EQ(rc_refcount(small), RC_REFCNT_IMMORTAL);
    rc_decref(x);
    rc_safepoint();
    rc_thread_detach();
}

/* ---- unattached threads and thread exit -------------------------------- */

static rc_obj_t *target;

static void *exit_attached(void *arg)
{
    (void)arg;
    rc_thread_attach();
    for (int i = 0; i < 10; i++)
        rc_incref(target);
    rc_decref(target);
    return NULL;                                /* no safepoint, no detach */
}

static void unattached_and_exit(void)
{
    /* main is not attached here */
    uint64_t base = live();
    rc_obj_t *o = rc_int_new(424242);
    rc_incref(o);
    CHECK_EQ(rc_refcount(o), 2);                /* applied at once */
    rc_decref(o);
    CHECK_EQ(rc_refcount(o), 2);                /* queued on the shared list */
    CHECK(dstats().pending_decrements >= 1);
    rc_safepoint();                             /* no thread attached: due at once */
    CHECK_EQ(rc_refcount(o), 1);
    CHECK_EQ(dstats().pending_decrements, 0);

    target = o;
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, exit_attached, NULL) == 0);
    REQUIRE(pthread_join(th, NULL) == 0);
    CHECK_EQ(rc_refcount(o), 10);               /* the exiting thread flushed: 1 + 10 - 1 */
    for (int i = 0; i < 10; i++)
        rc_decref(o);
    CHECK_EQ(live(), base + 1);
    rc_safepoint();
    CHECK_EQ(live(), base);
}

/* ---- read sections ------------------------------------------------------ */

#define WINDOW_OBJS (RC_DEFERRED_LOG + 2 * RC_DEFERRED_SLOTS + 16)
static RC_ATOMIC(rc_obj_t *) window_slot;
static rc_obj_t *window_loaded, *window_others[WINDOW_OBJS];
static int64_t window_seen;

static void r_begin_and_load(void *arg)
{
    (void)arg;
    rc_deferred_read_begin();
    /* acquire: pairs with main's release store; the node is initialised. */
    window_loaded = at_load_acquire(&window_slot);
}
static void r_other_increfs(void *arg)
{
    (void)arg;
    for (int i = 0; i < WINDOW_OBJS; i++)
        rc_incref(window_others[i]);      /* enough misses to fill the log */
}
static void r_incref_loaded_and_end(void *arg)
{
    (void)arg;
    rc_incref(window_loaded);
    window_seen = ((rc_node_t *)window_loaded)->value;
    rc_deferred_read_end();
}
static void r_cleanup(void *arg)
{
    (void)arg;
    for (int i = 0; i < WINDOW_OBJS; i++)
        rc_decref(window_others[i]);
    rc_decref(window_loaded);
    rc_safepoint();
}

static void read_section_keeps_loaded_pointers(void)
{
    rc_thread_attach();
    for (int i = 0; i < WINDOW_OBJS; i++)
        REQUIRE((window_others[i] = rc_int_new(1000000 + i)) != NULL);
    rc_obj_t *b = rc_node_new(1, 4242);
    REQUIRE(b != NULL);
    /* release: publishes b to the reader's acquire load. */
    at_store_release(&window_slot, b);
    rc_safepoint();
    uint64_t base = live();
    helper_t *r = &helpers[0];
    helper_start(r, false);
    helper_run(r, do_attach, NULL);
    helper_run(r, r_begin_and_load, NULL);
    rc_obj_t *old = at_exchange_acq_rel(&window_slot, NULL);   /* acq_rel: the writer's unlink */
    rc_decref(old);
    rc_safepoint();
    uint64_t f0 = dstats().forced_flushes;
    helper_run(r, r_other_increfs, NULL);
    uint64_t forced = dstats().forced_flushes - f0;
    for (int i = 0; i < 4; i++)
        rc_safepoint();                   /* the writer tries to move the epoch on */
    printf("read section: %llu forced flushes in the reader's window; live %llu (base %llu)\n",
           (unsigned long long)forced, (unsigned long long)live(), (unsigned long long)base);
    CHECK(forced >= 1);
    CHECK_EQ(live(), base);               /* b still alive: the reader may count it */
    helper_run(r, r_incref_loaded_and_end, NULL);
    CHECK_EQ(window_seen, 4242);
    helper_run(r, r_cleanup, NULL);
    helper_run(r, do_detach, NULL);
    helper_stop(r);
    rc_safepoint();
    CHECK_EQ(live(), base - 1);           /* b, dropped by the reader */
    for (int i = 0; i < WINDOW_OBJS; i++)
        rc_decref(window_others[i]);
    rc_thread_detach();
    rc_safepoint();
}

/* ---- left alone, sync, unattached bound ------------------------------------ */

static void left_alone_frees_at_next_safepoint(void)
{
    rc_thread_attach();
    rc_obj_t *x = rc_int_new(900001), *y = rc_int_new(900002), *keep = rc_int_new(900003);
    rc_incref(keep);
    rc_safepoint();
    uint64_t base = live();
    wk[0] = (worker_t){ .index = 0 };
    helper_start(&helpers[0], false);
    helper_run(&helpers[0], do_attach, &wk[0]);
    rc_decref(x);
    rc_safepoint();                       /* sealed; the helper holds the epoch back */
    helper_run(&helpers[0], do_detach, &wk[0]);        /* alone from here */
    rc_decref(y);
    rc_decref(keep);
    rc_safepoint();
    CHECK_EQ(live(), base - 2);
    CHECK_EQ(rc_refcount(keep), 1);
    rc_decref(keep);
    rc_safepoint();
    helper_stop(&helpers[0]);
    rc_thread_detach();
}

static rc_obj_t *sync_obj;
static RC_ATOMIC(bool) ticking;
static void q_take(void *arg) { (void)arg; rc_incref(sync_obj); rc_safepoint(); }
static void q_drop(void *arg) { (void)arg; rc_decref(sync_obj); rc_safepoint(); }
static void *ticker(void *arg)
{
    while (at_load_relaxed(&ticking))
        helper_run(arg, do_safepoint, NULL);
    return NULL;
}

static void sync_is_exact(void)
{
    rc_thread_attach();
    sync_obj = rc_int_new(777001);
    wk[0] = (worker_t){ .index = 0 };
    helper_start(&helpers[0], false);
    helper_run(&helpers[0], do_attach, &wk[0]);
    helper_run(&helpers[0], q_take, &wk[0]);
    rc_deferred_sync();
    CHECK_EQ(rc_refcount(sync_obj), 2);
    helper_run(&helpers[0], q_drop, &wk[0]);           /* sealed on the helper, due two epochs on */
    at_store_relaxed(&ticking, true);
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, ticker, &helpers[0]) == 0);
    rc_deferred_sync();                   /* must wait for the helper's batch */
    int64_t c = rc_refcount(sync_obj);
    at_store_relaxed(&ticking, false);
    REQUIRE(pthread_join(th, NULL) == 0);
    CHECK_EQ(c, 1);
    helper_run(&helpers[0], do_detach, &wk[0]);
    helper_stop(&helpers[0]);
    rc_decref(sync_obj);
    rc_thread_detach();

    /* Unattached: a million decrefs onto the shared list, then sync. */
    enum { N = 1000000 };
    static rc_obj_t *objs[N];
    uint64_t base = live();
    for (int i = 0; i < N; i++)
        REQUIRE((objs[i] = rc_int_new(300000 + i)) != NULL);
    uint64_t worst = 0;
    for (int i = 0; i < N; i++) {
        rc_decref(objs[i]);
        if ((i & 1023) == 0 && dstats().pending_decrements > worst)
            worst = dstats().pending_decrements;
    }
    rc_deferred_sync();
    printf("unattached: %d decrefs, at most %llu pending at once\n", N, (unsigned long long)worst);
    CHECK(worst <= 2 * RC_DEFERRED_BATCH);
    CHECK_EQ(live(), base);
    CHECK_EQ(dstats().pending_decrements, 0);
}

int main(int argc, char **argv)
{
    test_opts_t opt = test_opts(argc, argv);
    printf("deferred: table %d slots, log %d entries, batches of %d\n", RC_DEFERRED_SLOTS,
           RC_DEFERRED_LOG, RC_DEFERRED_BATCH);
    alone_frees_at_first_safepoint();
    coalescing_and_immortals();
    unattached_and_exit();
    bound_check();
    read_section_keeps_loaded_pointers();
    left_alone_frees_at_next_safepoint();
    sync_is_exact();
    buffer_bound(opt.scale);
    CHECK_EQ(dstats().attached, 0);
    CHECK_EQ(dstats().pending_decrements, 0);
    CHECK_EQ(live(), 0);
    return TEST_END();
}
