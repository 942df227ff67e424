/* tests/unit/test_gc_semantics.c — CPython's counting (a regression test,
 * first written as review reproducers), single thread:
 * (a) after frees of old objects the next generation-0 collection comes at
 *     exactly allocation 701 (a free only counts against allocations since
 *     the last collection);
 * (b) gc_collect returns what it freed: resurrected objects do not count
 *     (CPython >= 3.9);
 * (c) threshold0 == 0 disables automatic collection.
 * Threading: single thread, attached. */
#include "gc/gc.h"
#include "rc/rc.h"
#include "tests/check.h"

static rc_obj_t *saved;
static void fin(rc_obj_t *o) { rc_incref(o); saved = o; }

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    rc_thread_attach();
    gc_collect(2);
    /* (a) */
    enum { N = 2000 };
    static rc_obj_t *keep[N];
    gc_disable();
    for (int i = 0; i < N; i++)
        keep[i] = rc_list_new();
    gc_enable();
    gc_collect(0);                              /* they move to generation 1; count0 = 0 */
    for (int i = 0; i < N; i++)
        rc_decref(keep[i]);                     /* CPython: count stays 0 */
    rc_safepoint();
    gc_stats_t s0 = gc_get_stats(0);
    static rc_obj_t *more[800];
    int at = 0;
    for (int i = 0; i < 800; i++) {
        more[i] = rc_list_new();
        if (!at && gc_get_stats(0).collections != s0.collections)
            at = i + 1;
    }
    printf("(a) first gen-0 collection at allocation %d after the frees (CPython: 701)\n", at);
    CHECK(at == 701);
    for (int i = 0; i < 800; i++)
        rc_decref(more[i]);
    gc_collect(2);

    /* (b) one self-cycle whose finalizer resurrects it, one plain self-cycle */
    static rc_type_t t;
    t = rc_type_node;
    t.finalize = fin;
    rc_obj_t *a = rc_node_new_typed(&t, 1, 0), *b = rc_node_new(1, 1);
    rc_incref(a); rc_node_set(a, 0, a);
    rc_incref(b); rc_node_set(b, 0, b);
    rc_decref(a); rc_decref(b);
    int64_t r = gc_collect(2);
    printf("(b) gc_collect returned %lld with one of the two resurrected (CPython >= 3.9: 1)\n", (long long)r);
    CHECK_EQ(r, 1);
    rc_decref(saved);
    gc_collect(2);

    /* (c) */
    gc_set_threshold(0, 10, 10);
    s0 = gc_get_stats(0);
    for (int i = 0; i < 100; i++)
        rc_decref(rc_list_new());
    printf("(c) threshold0 = 0: %llu collections in 100 allocations (CPython: 0, disabled)\n",
           (unsigned long long)(gc_get_stats(0).collections - s0.collections));
    CHECK_EQ(gc_get_stats(0).collections - s0.collections, 0);
    gc_set_threshold(700, 10, 10);
    rc_thread_detach();
    return TEST_END();
}
