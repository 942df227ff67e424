/* tests/unit/test_gc.c — the cycle detector, Python's test_gc scenarios in
 * C, under the strategy this binary is built for.
 *
 *   self cycle        a list that contains itself: collect returns 1;
 *   pair              a['b'] = b; b['a'] = a; del a, b: collect returns 2;
 *   many              N two-object cycles: 2N;
 *   reachable         a cycle hanging off a live object is not collected;
 *   generations       survivors move up one generation per collection of
 *                     theirs, counted exactly (examined per generation);
 *   thresholds        a collection of generation 0 at exactly the 701st
 *                     net allocation (the 11th with threshold 10),
 *                     generation 1 after every threshold1 + 1 of those;
 *   disabled          nothing is collected automatically; gc_collect
 *                     still is;
 *   finalizers        each runs once; a finalizer that resurrects its
 *                     object keeps it and what it references intact,
 *                     while the rest of the garbage is freed; later, the
 *                     resurrected object is freed without a second call;
 *   tuples            CPython's MAYBE_UNTRACK: a collection untracks a
 *                     full tuple of ints or of untracked tuples, keeps
 *                     one that holds a list or an empty slot, and the
 *                     untracked ones still die and count as CPython's;
 *   debug check       a count lower than the references tracked
 *                     containers hold aborts the collection with one line
 *                     naming the object (in a child process).
 * Every section ends with live objects back at the immortal baseline.
 * Threading: main, attached (collections need an attached thread).
 */
#include <signal.h>

#include "gc/gc.h"
#include "rc/rc.h"
#include "tests/check.h"
#include "tests/death.h"
#include "tests/objects.h"

static void self_cycle(void)
{
    rc_obj_t *l = rc_list_new();
    REQUIRE(l != NULL && rc_list_append(l, l));
    CHECK(gc_is_tracked(l));
    rc_decref(l);
    CHECK_EQ(live(), 1);                        /* counting alone cannot free it */
    CHECK_EQ(gc_collect(2), 1);
    CHECK_EQ(live(), 0);
}

static void pair(void)
{
    rc_obj_t *a = rc_node_new(1, 1), *b = rc_node_new(1, 2);
    link_nodes(a, 0, b);
    link_nodes(b, 0, a);
    CHECK_EQ(gc_collect(2), 0);                 /* still referenced from here */
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(live(), 2);
    CHECK_EQ(gc_collect(2), 2);
    CHECK_EQ(live(), 0);
}

static void many_cycles(void)
{
    enum { N = 1000 };
    gc_disable();                               /* or thresholds collect some on the way */
    for (int i = 0; i < N; i++) {
        rc_obj_t *a = rc_tuple_new(1), *b = rc_list_new();
        REQUIRE(a && b && rc_list_append(b, a));
        rc_incref(b);
        rc_tuple_set(a, 0, b);
        rc_decref(a);
        rc_decref(b);
    }
    CHECK_EQ(gc_collect(2), 2 * N);
    gc_enable();
    CHECK_EQ(live(), 0);
}

static void reachable_cycle_survives(void)
{
    rc_obj_t *root = rc_list_new(), *a = rc_node_new(1, 1), *b = rc_node_new(2, 2);
    link_nodes(a, 0, b);
    link_nodes(b, 0, a);
    b = rc_int_new(424242), rc_node_set(rc_node_get(a, 0), 1, b);   /* a non-container child */
    REQUIRE(rc_list_append(root, a));
    rc_decref(a);
    rc_decref(rc_node_get(a, 0));
    CHECK_EQ(gc_collect(2), 0);
    CHECK_EQ(live(), 4);
    CHECK_EQ(rc_int_value(rc_node_get(rc_node_get(a, 0), 1)), 424242);
    rc_decref(root);                            /* now only the cycle holds them */
    CHECK_EQ(gc_collect(2), 2);
    CHECK_EQ(live(), 0);
}

static void generations(void)
{
    gc_collect(2);
    gc_stats_t s0[GC_GENERATIONS];
    for (int g = 0; g < GC_GENERATIONS; g++)
        s0[g] = gc_get_stats(g);
    rc_obj_t *keep[5];
    for (int i = 0; i < 5; i++)
        keep[i] = rc_list_new();
    CHECK_EQ(gc_collect(0), 0);                 /* examines the 5: they move to generation 1 */
    CHECK_EQ(gc_get_stats(0).examined - s0[0].examined, 5);
    CHECK_EQ(gc_collect(0), 0);                 /* generation 0 is empty now */
    CHECK_EQ(gc_get_stats(0).examined - s0[0].examined, 5);
    CHECK_EQ(gc_collect(1), 0);                 /* generations 0 and 1: the 5, to generation 2 */
    CHECK_EQ(gc_get_stats(1).examined - s0[1].examined, 5);
    CHECK_EQ(gc_collect(1), 0);
    CHECK_EQ(gc_get_stats(1).examined - s0[1].examined, 5);
    CHECK_EQ(gc_collect(2), 0);                 /* everything: the 5 stay in generation 2 */
    CHECK_EQ(gc_get_stats(2).examined - s0[2].examined, 5);
    CHECK_EQ(gc_get_stats(0).collections - s0[0].collections, 2);
    CHECK_EQ(gc_get_stats(1).collections - s0[1].collections, 2);
    CHECK_EQ(gc_get_stats(2).collections - s0[2].collections, 1);
    for (int i = 0; i < 5; i++)
        rc_decref(keep[i]);
    CHECK_EQ(live(), 0);
}

static void thresholds(void)
{
    gc_collect(2);
    uint64_t saved[GC_GENERATIONS], count[GC_GENERATIONS];
    gc_get_threshold(saved);
    CHECK_EQ(saved[0], 700);
    CHECK_EQ(saved[1], 10);
    CHECK_EQ(saved[2], 10);
    gc_set_threshold(10, 2, 1000);
    gc_enable();
    gc_stats_t g0 = gc_get_stats(0), g1 = gc_get_stats(1);
    static rc_obj_t *keep[200];
    int n = 0;
    for (; n < 10; n++)
        keep[n] = rc_list_new();
    gc_get_count(count);
    CHECK_EQ(count[0], 10);
    CHECK_EQ(gc_get_stats(0).collections, g0.collections);      /* 10 is not above 10 */
    keep[n++] = rc_list_new();                                  /* the 11th: collect */
    CHECK_EQ(gc_get_stats(0).collections, g0.collections + 1);
    gc_get_count(count);
    CHECK_EQ(count[0], 0);
    CHECK_EQ(count[1], 1);
    /* Two more generation-0 collections (count1 = 3 > 2), then the next
     * threshold crossing collects generation 1. */
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 11; i++)
            keep[n++] = rc_list_new();
    CHECK_EQ(gc_get_stats(0).collections, g0.collections + 3);
    CHECK_EQ(gc_get_stats(1).collections, g1.collections);
    for (int i = 0; i < 11; i++)
        keep[n++] = rc_list_new();
    CHECK_EQ(gc_get_stats(1).collections, g1.collections + 1);
    CHECK_EQ(gc_get_stats(0).collections, g0.collections + 3);
    gc_get_count(count);
    CHECK_EQ(count[1], 0);
    CHECK_EQ(count[2], 1);
    /* Deallocations count against allocations (net). */
    for (int i = 0; i < n; i++)
        rc_decref(keep[i]);
    gc_get_count(count);
    CHECK_EQ(count[0], 0);
    gc_set_threshold(saved[0], saved[1], saved[2]);
    CHECK_EQ(live(), 0);
}

static void disabled(void)
{
    gc_collect(2);
    gc_set_threshold(10, 10, 10);
    gc_disable();
    CHECK(!gc_is_enabled());
    gc_stats_t g0 = gc_get_stats(0);
    for (int i = 0; i < 500; i++) {
        rc_obj_t *l = rc_list_new();
        REQUIRE(l && rc_list_append(l, l));
        rc_decref(l);
    }
    CHECK_EQ(gc_get_stats(0).collections, g0.collections);
    CHECK_EQ(live(), 500);
    CHECK_EQ(gc_collect(2), 500);               /* forced */
    CHECK_EQ(live(), 0);
    gc_enable();
    gc_set_threshold(700, 10, 10);
}

/* ---- finalizers ----------------------------------------------------------- */

static int finalized[4];
static rc_obj_t *saved;
static rc_type_t fin_type;

/* value 0..3 names the object; value 0 resurrects itself. */
static void fin(rc_obj_t *o)
{
    int64_t v = ((rc_node_t *)o)->value;
    finalized[v]++;
    if (v == 0) {
        rc_incref(o);
        saved = o;
    }
}

static void finalizers(void)
{
    fin_type = rc_type_node;
    fin_type.name = "finalizable node";
    fin_type.finalize = fin;
    /* A <-> B, A resurrects itself (and so keeps B); C <-> D plain garbage
     * with finalizers that do nothing. */
    rc_obj_t *n[4];
    for (int i = 0; i < 4; i++)
        n[i] = rc_node_new_typed(&fin_type, 2, i);
    link_nodes(n[0], 0, n[1]);
    link_nodes(n[1], 0, n[0]);
    link_nodes(n[2], 0, n[3]);
    link_nodes(n[3], 0, n[2]);
    rc_obj_t *payload = rc_int_new(777777);
    rc_node_set(n[1], 1, payload);               /* B's own child: must survive intact */
    for (int i = 0; i < 4; i++)
        rc_decref(n[i]);
    CHECK_EQ(live(), 5);
    int64_t found = gc_collect(2);
    CHECK_EQ(found, 2);                          /* CPython's count: the resurrected do not count */
    for (int i = 0; i < 4; i++)
        CHECK_EQ(finalized[i], 1);
    CHECK(saved == n[0]);
    CHECK_EQ(live(), 3);                         /* A, B and B's int: C and D freed */
    CHECK_EQ(gc_get_stats(2).resurrected >= 2, 1);
    CHECK(rc_node_get(saved, 0) == n[1]);
    CHECK(rc_node_get(n[1], 0) == saved);
    CHECK_EQ(rc_int_value(rc_node_get(n[1], 1)), 777777);
    CHECK_EQ(rc_refcount(saved), 2);             /* B's reference and the resurrection */
    /* Dropped again: collected without a second finalizer call. */
    rc_decref(saved);
    saved = NULL;
    CHECK_EQ(gc_collect(2), 2);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(finalized[i], 1);
    CHECK_EQ(live(), 0);
}

/* ---- the debug check ------------------------------------------------------ */

static void corrupted_count(void)
{
    rc_thread_attach();
    gc_set_debug_check(true);
    rc_obj_t *a = rc_node_new(1, 1), *b = rc_node_new(1, 2);
    link_nodes(a, 0, b);
    link_nodes(b, 0, a);
    printf("%p\n", (void *)b);
    fflush(stdout);
    rc_safepoint();
    rc_debug_set_refcnt(b, 0);                   /* a holds a reference the count lost */
    rc_safepoint();
    gc_collect(2);
}

static void debug_check(void)
{
    death_t d = death_run(corrupted_count);
    bool aborted = WIFSIGNALED(d.status) && WTERMSIG(d.status) == SIGABRT;
    int lines = 0;
    for (const char *p = d.msg; (p = strstr(p, "rcbench: fatal:")); p++)
        lines++;
    printf("debug check: %s", d.msg[0] ? d.msg : "(no message)\n");
    CHECK(aborted);
    CHECK_EQ(lines, 1);
    CHECK(d.addr[0] != '\0' && strstr(d.msg, d.addr) != NULL);
    CHECK(strstr(d.msg, "(node)") != NULL);
    CHECK(strstr(d.msg, "has count 0 but tracked containers hold 1 more") != NULL);
}

static void untrack_tuples(void)
{
    gc_collect(2);
    uint64_t count[GC_GENERATIONS];
    rc_obj_t *ints = rc_tuple_new(2), *nested = rc_tuple_new(1), *holds_list = rc_tuple_new(2),
             *unfilled = rc_tuple_new(2), *empty = rc_tuple_new(0);
    REQUIRE(ints && nested && holds_list && unfilled && empty);
    rc_tuple_set(ints, 0, rc_int_new(1));
    rc_tuple_set(ints, 1, rc_int_new(1000000));            /* a mortal int: not a container either */
    rc_incref(ints);
    rc_tuple_set(nested, 0, ints);
    rc_tuple_set(holds_list, 0, rc_int_new(2));
    rc_tuple_set(holds_list, 1, rc_list_new());
    rc_tuple_set(unfilled, 0, rc_int_new(3));
    CHECK(gc_is_tracked(ints) && gc_is_tracked(nested) && gc_is_tracked(empty));
    gc_get_count(count);
    CHECK_EQ(count[0], 6);                                  /* five tuples and a list */
    CHECK_EQ(gc_collect(0), 0);
    CHECK(!gc_is_tracked(ints));
    CHECK(!gc_is_tracked(empty));
    CHECK(!gc_is_tracked(nested));          /* after ints in the list: seen untracked the same pass */
    CHECK(gc_is_tracked(holds_list));
    CHECK(gc_is_tracked(rc_tuple_get(holds_list, 1)));
    CHECK(gc_is_tracked(unfilled));
    CHECK_EQ(gc_tracked_count(), 3);                        /* holds_list, its list, unfilled */
    /* Untracked, they still die by counting, and their deaths count
     * against births since the collection, as every container's. */
    rc_obj_t *fresh[3] = { rc_list_new(), rc_list_new(), rc_list_new() };
    REQUIRE(fresh[0] && fresh[1] && fresh[2]);
    rc_decref(ints);
    rc_decref(nested);                                      /* and ints with it */
    rc_safepoint();                                         /* deferred: decrements applied */
    gc_get_count(count);
    CHECK_EQ(count[0], 1);                                  /* 3 births, 2 deaths */
    rc_decref(empty);
    rc_decref(holds_list);
    rc_tuple_set(unfilled, 1, rc_int_new(4));
    rc_decref(unfilled);
    for (int i = 0; i < 3; i++)
        rc_decref(fresh[i]);
    rc_safepoint();
    gc_get_count(count);
    CHECK_EQ(count[0], 0);                                  /* never below zero */
    CHECK_EQ(gc_tracked_count(), 0);
    CHECK_EQ(live(), 0);
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    printf("gc under %s: header %d bytes in front of each container\n", rc_strategy_desc.name,
           RC_GC_HEAD_BYTES);
    debug_check();                               /* forks: first, while single-threaded */
    rc_thread_attach();
    CHECK_EQ(gc_collect(2), 0);
    CHECK_EQ(gc_tracked_count(), 0);
    self_cycle();
    pair();
    many_cycles();
    reachable_cycle_survives();
    generations();
    thresholds();
    disabled();
    finalizers();
    untrack_tuples();
    CHECK_EQ(gc_tracked_count(), 0);
    printf("pauses: generation 2 p50 %llu ns, max %llu ns over %llu collections\n",
           (unsigned long long)gc_pause_quantile_ns(2, 0.5), (unsigned long long)gc_get_stats(2).pause_ns_max,
           (unsigned long long)gc_get_stats(2).collections);
    rc_thread_detach();
    return TEST_END();
}
