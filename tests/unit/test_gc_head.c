/* tests/unit/test_gc_head.c — the cycle detector's 16-byte header
 * (docs/gc.md, "The header"), under the strategy this binary is built for.
 *
 *   address check   a header at an address with a bit set at 2^48 or
 *                   above, or not 16-byte aligned, is refused with one
 *                   fatal line (in a child process); every container
 *                   made here is 16-byte aligned below 2^48;
 *   flags survive   finalized objects interleaved with plain ones on one
 *                   list: their neighbours unlinked around them (the fast
 *                   path rewrites their prev), collections of every
 *                   generation, then their deaths: each finalizer runs
 *                   once, each stays tracked until it dies, every object
 *                   is freed;
 *   another thread  a second thread's containers die on this one in the
 *                   middle of its lists: onto its remote stack between
 *                   collections (taken back by the next collection or its
 *                   next allocation), and by a finalizer in the middle of
 *                   a collection (unlinked at once); its list stays whole
 *                   (tracked count and a cycle through the survivors).
 * Every section ends with live objects back at the immortal baseline.
 * Threading: main, attached while it works; the second thread attached
 * while it works, detached while it waits for main.
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>

#include "gc/gc.h"
#include "rc/rc.h"
#include "tests/check.h"
#include "tests/death.h"
#include "tests/objects.h"

/* ---- the address check ----------------------------------------------------- */

static void bit48(void) { _rc_gc_check_head((void *)(UINT64_C(1) << 48)); }
static void top_byte(void) { _rc_gc_check_head((void *)UINT64_C(0xFF00000000001000)); }
static void misaligned(void) { _rc_gc_check_head((void *)UINT64_C(0x100008)); }

/* In children: forks, so first, while single-threaded. */
static void address_check(void)
{
    void (*cases[])(void) = { bit48, top_byte, misaligned };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        death_t d = death_run(cases[i]);
        int lines = 0;
        for (const char *p = d.msg; (p = strstr(p, "rcbench: fatal:")); p++)
            lines++;
        printf("address check %zu: %s", i, d.msg[0] ? d.msg : "(no message)\n");
        CHECK(WIFSIGNALED(d.status) && WTERMSIG(d.status) == SIGABRT);
        CHECK_EQ(lines, 1);
        CHECK(strstr(d.msg, "is not 16-byte aligned below 2^48") != NULL);
    }
}

static void real_heads(void)
{
    CHECK_EQ(sizeof(rc_gc_head_t), 16);
    rc_obj_t *objs[3] = { rc_list_new(), rc_tuple_new(3), rc_node_new(2, 0) };
    for (int i = 0; i < 3; i++) {
        REQUIRE(objs[i] != NULL);
        _rc_gc_check_head(rc_gc_head(objs[i]));   /* returns: a real header passes */
        CHECK_EQ((uintptr_t)rc_gc_head(objs[i]) & ~RC_GC_PTR_MASK, 0);
        CHECK(gc_is_tracked(objs[i]));
    }
    for (int i = 0; i < 3; i++)
        rc_decref(objs[i]);
    CHECK_EQ(live(), 0);
}

/* ---- flags survive -------------------------------------------------------- */

enum { RUN = 64 };
static int fin_calls[RUN];
static rc_obj_t *kept[RUN];
static rc_type_t fin_type;

/* Resurrects its object (kept[value]) the first time it is found. */
static void fin(rc_obj_t *o)
{
    int64_t v = ((rc_node_t *)o)->value;
    fin_calls[v]++;
    rc_incref(o);
    kept[v] = o;
}

static void flags_survive(void)
{
    fin_type = rc_type_node;
    fin_type.name = "finalizable node";
    fin_type.finalize = fin;
    gc_collect(2);
    /* Odd positions: a finalizable node in a self-cycle (garbage at once);
     * even positions: a plain node this test holds. */
    rc_obj_t *plain[RUN] = { 0 };
    for (int i = 0; i < RUN; i++) {
        if (i % 2) {
            rc_obj_t *f = rc_node_new_typed(&fin_type, 1, i);
            REQUIRE(f != NULL);
            link_nodes(f, 0, f);
            rc_decref(f);
        } else {
            plain[i] = rc_node_new(1, i);
            REQUIRE(plain[i] != NULL);
        }
    }
    CHECK_EQ(gc_collect(0), 0);                  /* every finalizer resurrects */
    for (int i = 1; i < RUN; i += 2) {
        CHECK_EQ(fin_calls[i], 1);
        CHECK(kept[i] != NULL && gc_is_tracked(kept[i]));
    }
    /* Neighbours die around the finalized objects: each unlink rewrites
     * a finalized object's prev pointer, which must keep its flags. */
    for (int i = 0; i < RUN; i += 4) {
        rc_decref(plain[i]);
        plain[i] = NULL;
    }
    CHECK_EQ(gc_collect(1), 0);                  /* promoted again, still not garbage */
    for (int i = 2; i < RUN; i += 4) {
        rc_decref(plain[i]);
        plain[i] = NULL;
    }
    /* Dropped: garbage now, and collected without a second call. */
    for (int i = 1; i < RUN; i += 2) {
        CHECK(gc_is_tracked(kept[i]));
        rc_decref(kept[i]);
        kept[i] = NULL;
    }
    CHECK_EQ(gc_collect(2), RUN / 2);
    for (int i = 1; i < RUN; i += 2)
        CHECK_EQ(fin_calls[i], 1);
    CHECK_EQ(gc_tracked_count(), 0);
    CHECK_EQ(live(), 0);
}

/* ---- another thread's containers ----------------------------------------- */

enum { MANY = 200 };
static rc_obj_t *theirs[MANY];               /* made by the second thread */
static sem_t to_them, to_us;

static void wait_for(sem_t *s)
{
    rc_thread_detach();                      /* never hold the world (or the GIL) while waiting */
    while (sem_wait(s) != 0)
        ;
    rc_thread_attach();
}

static void *second_thread(void *arg)
{
    (void)arg;
    rc_thread_attach();
    for (int i = 0; i < MANY; i++) {
        theirs[i] = i % 3 ? rc_node_new(2, i) : rc_list_new();
        REQUIRE(theirs[i] != NULL);
    }
    sem_post(&to_us);                        /* phase 1: main drops some */
    wait_for(&to_them);
    /* phase 2: the survivors, in a ring (a cycle only a collection frees),
     * dropped here */
    rc_obj_t *first = NULL, *prev = NULL;
    for (int i = 0; i < MANY; i++) {
        if (theirs[i] == NULL || theirs[i]->type != &rc_type_node)
            continue;
        if (prev)
            link_nodes(prev, 1, theirs[i]);
        else
            first = theirs[i];
        prev = theirs[i];
    }
    link_nodes(prev, 1, first);
    for (int i = 0; i < MANY; i++)
        if (theirs[i] != NULL && theirs[i]->type != &rc_type_node) {
            rc_decref(theirs[i]);            /* lists: die here, on their owner's fast path */
            theirs[i] = NULL;
        }
    sem_post(&to_us);
    wait_for(&to_them);
    rc_thread_detach();
    return NULL;
}

static rc_obj_t *victim;                     /* a second thread's node, dropped by fin_drop */
static int fin_drop_calls;
static void fin_drop(rc_obj_t *o)
{
    (void)o;
    fin_drop_calls++;
    if (victim) {
        rc_obj_t *v = victim;
        victim = NULL;
        rc_decref(v);                        /* dies here, mid-collection, on its owner's list */
    }
}
static rc_type_t fin_drop_type;

static void another_thread(void)
{
    REQUIRE(sem_init(&to_them, 0, 0) == 0 && sem_init(&to_us, 0, 0) == 0);
    gc_collect(2);
    uint64_t base = gc_tracked_count();
    pthread_t th;
    rc_thread_detach();
    REQUIRE(pthread_create(&th, NULL, second_thread, NULL) == 0);
    while (sem_wait(&to_us) != 0)
        ;
    rc_thread_attach();
    CHECK_EQ(gc_tracked_count(), base + MANY);
    /* Between collections: every fifth dies here, in the middle of the
     * second thread's generation-0 list: onto its remote stack. */
    int dropped = 0;
    for (int i = 0; i < MANY; i += 5) {
        rc_decref(theirs[i]);
        theirs[i] = NULL;
        dropped++;
    }
    CHECK_EQ(gc_collect(0), 0);                  /* takes the remote stack: unlinked, freed */
    CHECK_EQ(gc_tracked_count(), base + MANY - dropped);
    /* Promoted to generation 1 now; more die in the middle of that list. */
    for (int i = 1; i < MANY; i += 7)
        if (theirs[i] != NULL) {
            rc_decref(theirs[i]);
            theirs[i] = NULL;
            dropped++;
        }
    /* Mid-way through a collection: a finalizer drops one of theirs. */
    fin_drop_type = rc_type_node;
    fin_drop_type.name = "dropping node";
    fin_drop_type.finalize = fin_drop;
    for (int i = 2; i < MANY && victim == NULL; i++)
        if (theirs[i] != NULL && theirs[i]->type == &rc_type_node) {
            victim = theirs[i];
            theirs[i] = NULL;
            dropped++;
        }
    REQUIRE(victim != NULL);
    rc_obj_t *g = rc_node_new_typed(&fin_drop_type, 1, 0);
    REQUIRE(g != NULL);
    link_nodes(g, 0, g);
    rc_decref(g);
    CHECK_EQ(gc_collect(2), 1);                  /* the dropping node; the victim was not garbage */
    CHECK_EQ(fin_drop_calls, 1);
    CHECK(victim == NULL);
    CHECK_EQ(gc_tracked_count(), base + MANY - dropped);
    int lists = 0, nodes = 0;
    for (int i = 0; i < MANY; i++)
        if (theirs[i] != NULL)
            *(theirs[i]->type == &rc_type_node ? &nodes : &lists) += 1;
    /* Phase 2 on the second thread: its lists die there; its nodes form
     * a ring, which this thread drops and collects. */
    rc_thread_detach();
    sem_post(&to_them);
    while (sem_wait(&to_us) != 0)
        ;
    rc_thread_attach();
    CHECK_EQ(gc_collect(0), 0);                  /* every count applied (deferred: the lists' last decrefs) */
    CHECK_EQ(gc_tracked_count(), base + (uint64_t)nodes);
    for (int i = 0; i < MANY; i++)
        if (theirs[i] != NULL) {
            rc_decref(theirs[i]);
            theirs[i] = NULL;
        }
    CHECK_EQ(gc_collect(2), nodes);
    CHECK_EQ(gc_tracked_count(), base);
    CHECK(lists > 0 && nodes > 1);
    rc_thread_detach();
    sem_post(&to_them);
    REQUIRE(pthread_join(th, NULL) == 0);
    rc_thread_attach();
    CHECK_EQ(live(), 0);
    sem_destroy(&to_them);
    sem_destroy(&to_us);
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    printf("gc header under %s: %d bytes\n", rc_strategy_desc.name, RC_GC_HEAD_BYTES);
    address_check();
    rc_thread_attach();
    real_heads();
    flags_survive();
    another_thread();
    rc_thread_detach();
    return TEST_END();
}
