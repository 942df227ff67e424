/* tests/stress/test_torture.c — deferred counting under torture, in the
 * style of userspace-rcu's rcutorture: readers take and drop references to
 * objects that writers are replacing and releasing at the same time.
 *
 * SLOTS shared slots each hold one counted reference. Writers make a new
 * object and exchange it into a slot, check what came out and release it.
 * Readers, inside a read section (rc_deferred_read_begin/end), load a
 * slot and incref what they found with no lock and no retry, which is safe
 * under deferred counting only: the writer's decrement waits two epochs,
 * and a reader in a section does not announce one (under immediate
 * counting this is the textbook use-after-free). Now and then a reader
 * does thousands of other increfs between the load and the incref, so
 * its log fills and flushes inside the window. Readers check the object
 * both as a borrowed pointer and after the incref, keep some references
 * across safepoints in a stash and check them again when they drop them.
 * Threads detach and re-attach now and then (a detached thread must not
 * hold the epoch back, and still uses its stash through the slow path).
 *
 * Every object carries a self-checking payload (a node whose value, two
 * int children and an immortal small int agree); a freed object shows as
 * a bad payload, as a fault in debug builds (freed objects are poisoned)
 * and as a use-after-free under AddressSanitizer. At the end, after
 * rc_deferred_sync: every object made was freed (frees == allocations; a
 * double free is fatal in debug and ASan builds), nothing is pending, no
 * mortal object is alive, and the immortals' headers are unchanged.
 * Options: --scale N (or xN: longer), --seed N, --readers N, --writers N (1..8 each).
 * Threading: slots are RC_ATOMIC: writers exchange acq_rel, readers load
 * acquire; objects follow the strategy's rules.
 */
#include <pthread.h>
#include <sched.h>

#include "rc/rc.h"
#include "tests/check.h"

#define SLOTS 16
#define STASH 8
#define PRIVATE 6000                     /* a reader's own objects: more than its log holds */
#define MAX_THREADS 8

static RC_ATOMIC(rc_obj_t *) slots[SLOTS];
static uint64_t ops_per_thread, base_seed;
static RC_ATOMIC(uint64_t) bad_total, made_total, taken_total;

static int64_t tagged(uint64_t serial) { return (int64_t)(serial * 1000 + 999); }

static rc_obj_t *make_object(uint64_t serial)
{
    int64_t v = tagged(serial);
    rc_obj_t *n = rc_node_new(3, v), *a = rc_int_new(v), *b = rc_int_new(-v);
    REQUIRE(n && a && b);
    rc_node_set(n, 0, a);
    rc_node_set(n, 1, b);
    rc_node_set(n, 2, rc_small_int((int64_t)(serial % 200)));   /* immortal child */
    return n;
}

static bool object_ok(const rc_obj_t *o)
{
    if (o == NULL || o->type != &rc_type_node)
        return false;
    const rc_node_t *n = (const rc_node_t *)o;
    if (n->nslots != 3 || n->value < 999 || (n->value - 999) % 1000 != 0)
        return false;
    const rc_obj_t *a = rc_node_get(o, 0), *b = rc_node_get(o, 1), *c = rc_node_get(o, 2);
    uint64_t serial = (uint64_t)(n->value - 999) / 1000;
    return a && b && a->type == &rc_type_int && b->type == &rc_type_int &&
           rc_int_value(a) == n->value && rc_int_value(b) == -n->value &&
           c == rc_small_int((int64_t)(serial % 200));
}

static void maybe_detach(uint64_t r)
{
    if ((r & 1023) == 0) {             /* blocked for a moment: out of the epoch */
        rc_thread_detach();
        sched_yield();
        rc_thread_attach();
    }
}

static void *writer(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg, seed = base_seed * 7919 + id + 1, bad = 0;
    rc_thread_attach();
    for (uint64_t i = 0; i < ops_per_thread; i++) {
        uint64_t r = test_rand(&seed);
        rc_obj_t *o = make_object((id << 40) | i);
        /* acq_rel: release publishes o's initialisation to readers (their
         * acquire load) and to the next writer; acquire pairs with the
         * exchange that put `old` in. */
        rc_obj_t *old = at_exchange_acq_rel(&slots[r % SLOTS], o);
        bad += !object_ok(old);
        rc_decref(old);
        at_fetch_add_relaxed(&made_total, 1);
        if ((i & 31) == 0)
            rc_safepoint();
        maybe_detach(r >> 20);
    }
    rc_thread_detach();
    at_fetch_add_relaxed(&bad_total, bad);
    return NULL;
}

static void *reader(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg, seed = base_seed * 104729 + id + 1, bad = 0, taken = 0;
    rc_obj_t *stash[STASH] = { 0 };
    rc_obj_t **own = malloc(PRIVATE * sizeof *own);
    REQUIRE(own != NULL);
    for (int k = 0; k < PRIVATE; k++)
        REQUIRE((own[k] = rc_int_new(7000000 + k)) != NULL);
    rc_thread_attach();
    for (uint64_t i = 0; i < 4 * ops_per_thread; i++) {
        uint64_t r = test_rand(&seed);
        rc_deferred_read_begin();
        /* acquire: pairs with the writers' exchange; the object's contents
         * are visible. The pointer is uncounted until the incref below,
         * and safe until the section ends. */
        rc_obj_t *o = at_load_acquire(&slots[r % SLOTS]);
        bad += !object_ok(o);
        if ((i & 4095) == 4095) {        /* a long window: the log fills and flushes in it */
            for (int k = 0; k < PRIVATE; k++)
                rc_incref(own[k]);
            bad += !object_ok(o);
            rc_incref(o);
            rc_deferred_read_end();
            for (int k = 0; k < PRIVATE; k++)
                rc_decref(own[k]);
            rc_safepoint();
            bad += !object_ok(o);
            rc_decref(o);
            continue;
        }
        if (r & 0x100) {
            rc_incref(o);
            taken++;
            bad += !object_ok(o);
            int k = (int)((r >> 12) % STASH);
            if (r & 0x200) {
                rc_obj_t *old = stash[k];       /* keep o across safepoints */
                stash[k] = o;
                if (old) {
                    bad += !object_ok(old);
                    rc_decref(old);
                }
            } else {
                rc_decref(o);
            }
        }
        rc_deferred_read_end();
        if ((i & 63) == 0)
            rc_safepoint();
        maybe_detach(r >> 24);
    }
    for (int k = 0; k < STASH; k++)
        if (stash[k]) {
            bad += !object_ok(stash[k]);
            rc_decref(stash[k]);
        }
    for (int k = 0; k < PRIVATE; k++)
        rc_decref(own[k]);
    free(own);
    rc_thread_detach();
    at_fetch_add_relaxed(&bad_total, bad);
    at_fetch_add_relaxed(&taken_total, taken);
    return NULL;
}

int main(int argc, char **argv)
{
    test_opts_t opt = test_opts(argc, argv);
    int nreaders = 2, nwriters = 2;
    for (int i = opt.argi; i < argc; i++) {
        if (strcmp(argv[i], "--readers") == 0 && i + 1 < argc)
            nreaders = atoi(argv[++i]);
        else if (strcmp(argv[i], "--writers") == 0 && i + 1 < argc)
            nwriters = atoi(argv[++i]);
        else {
            fprintf(stderr, "unknown argument: %s\n", argv[i]);
            return 2;
        }
    }
    REQUIRE(nreaders >= 1 && nreaders <= MAX_THREADS && nwriters >= 1 && nwriters <= MAX_THREADS);
    ops_per_thread = test_size(opt, 1000000);
    base_seed = opt.seed;
    printf("torture: %d readers, %d writers, %llu replacements per writer, seed %llu\n", nreaders,
           nwriters, (unsigned long long)ops_per_thread, (unsigned long long)opt.seed);

    unsigned char immortal_before[200][sizeof(rc_int_t)];
    for (int i = 0; i < 200; i++)
        memcpy(immortal_before[i], rc_small_int(i), sizeof(rc_int_t));
    rc_stats_t s0 = rc_stats_get();
    rc_deferred_stats_t d0;
    rc_deferred_stats_get(&d0);
    for (int i = 0; i < SLOTS; i++)
        at_store_relaxed(&slots[i], make_object((UINT64_C(0xFF) << 40) | (uint64_t)i));

    pthread_t th[2 * MAX_THREADS];
    int n = 0;
    for (int i = 0; i < nwriters; i++)
        REQUIRE(pthread_create(&th[n++], NULL, writer, (void *)(uintptr_t)i) == 0);
    for (int i = 0; i < nreaders; i++)
        REQUIRE(pthread_create(&th[n++], NULL, reader, (void *)(uintptr_t)(i + 100)) == 0);
    for (int i = 0; i < n; i++)
        REQUIRE(pthread_join(th[i], NULL) == 0);

    uint64_t bad = at_load_relaxed(&bad_total);
    for (int i = 0; i < SLOTS; i++) {
        /* acquire: pairs with the last writer's exchange (joined already). */
        rc_obj_t *o = at_exchange_acq_rel(&slots[i], NULL);
        bad += !object_ok(o);
        rc_decref(o);
    }
    rc_deferred_sync();
    rc_stats_t s = rc_stats_get();
    rc_deferred_stats_t d;
    rc_deferred_stats_get(&d);
    printf("torture: %llu objects made, %llu freed, %llu references taken by readers; "
           "%llu epochs, %llu flushes (%llu forced), reclamation delay at most %llu epochs\n",
           (unsigned long long)(s.allocated - s0.allocated), (unsigned long long)(s.freed - s0.freed),
           (unsigned long long)at_load_relaxed(&taken_total), (unsigned long long)(d.epoch - d0.epoch),
           (unsigned long long)(d.flushes - d0.flushes),
           (unsigned long long)(d.forced_flushes - d0.forced_flushes), (unsigned long long)d.max_delay_epochs);
    CHECK_EQ(bad, 0);
    CHECK_EQ(s.freed - s0.freed, s.allocated - s0.allocated);
    CHECK_EQ(s.allocated - s0.allocated, 3 * (at_load_relaxed(&made_total) + SLOTS) + (uint64_t)nreaders * PRIVATE);
    CHECK_EQ(s.live, 0);
    CHECK_EQ(d.pending_decrements, 0);
    CHECK_EQ(d.attached, 0);
    CHECK(d.epoch - d0.epoch > 10);
    int changed = 0;
    for (int i = 0; i < 200; i++)
        changed += memcmp(immortal_before[i], rc_small_int(i), sizeof(rc_int_t)) != 0;
    CHECK_EQ(changed, 0);
    return TEST_END();
}
