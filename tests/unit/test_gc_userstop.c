/* tests/unit/test_gc_userstop.c — allocating containers while holding
 * one's own world stop (a regression test, first written as a review
 * reproducer): e.g. a consistent snapshot taken with rc_world_stop, during
 * which the threshold is crossed. The allocation must not try to collect
 * (a second rc_world_stop would be fatal); the collection comes later.
 * Threading: single thread, attached. */
#include "gc/gc.h"
#include "rc/rc.h"
#include "tests/check.h"
#include "tests/death.h"

static void stopped_alloc(void)
{
    rc_thread_attach();
    rc_world_stop();
    static rc_obj_t *l[1000];
    for (int i = 0; i < 1000; i++)
        l[i] = rc_list_new();
    rc_world_resume();
    printf("%p collections %llu\n", (void *)l[0], (unsigned long long)gc_get_stats(0).collections);
    fprintf(stderr, "collections %llu stopped %d\n", (unsigned long long)gc_get_stats(0).collections, 0);
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    death_t d = death_run(stopped_alloc);
    printf("allocating with the world stopped by us: %s%s", WIFSIGNALED(d.status) ? "aborted: " : "ok\n", d.msg);
    CHECK(!WIFSIGNALED(d.status));
    return TEST_END();
}
