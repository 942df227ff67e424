/* tests/unit/test_gc_double.c — one collection per threshold crossing with
 * several threads (a regression test, first written as a review
 * reproducer). Two attached threads make lists; when one crosses the
 * threshold and stops the world, the other may be past its own check and
 * park inside rc_world_stop: once it runs it must see that the count was
 * reset and not collect again. The number of generation-0 collections is
 * checked against the allocations made.
 * Threading: two workers, attached; main waits. */
#include <pthread.h>
#include "gc/gc.h"
#include "rc/rc.h"
#include "tests/check.h"

enum { PER = 70000, T = 2 };
static rc_obj_t *objs[T][PER];

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    rc_thread_attach();
    for (int i = 0; i < PER; i++) {
        objs[id][i] = rc_list_new();
        if ((i & 63) == 0)
            rc_safepoint();
    }
    rc_thread_detach();
    return NULL;
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    pthread_t th[T];
    for (uintptr_t t = 0; t < T; t++)
        REQUIRE(pthread_create(&th[t], NULL, worker, (void *)t) == 0);
    for (int t = 0; t < T; t++)
        REQUIRE(pthread_join(th[t], NULL) == 0);
    uint64_t n = 0;
    for (int g = 0; g < GC_GENERATIONS; g++)
        n += gc_get_stats(g).collections;
    printf("%d container allocations, no frees: %llu automatic collections (one thread, CPython: %d)\n",
           T * PER, (unsigned long long)n, T * PER / 701);
    CHECK(n <= (uint64_t)(T * PER / 701) + 1);
    rc_thread_attach();
    for (int t = 0; t < T; t++)
        for (int i = 0; i < PER; i++)
            rc_decref(objs[t][i]);
    rc_thread_detach();
    return TEST_END();
}
