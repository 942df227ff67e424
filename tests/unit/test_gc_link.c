/* tests/unit/test_gc_link.c — linking the cycle detector is what turns it
 * on (gc/gc.h, docs/gc.md "Linking it in").
 *
 * This program links gc_<s> (LINK gc in tests/CMakeLists.txt) but names
 * no gc_ symbol: it includes only rc/rc.h. The collector's constructor
 * must be in it all the same (the --undefined option gc_<s> carries), so:
 * self-cycles made past the default threshold are collected by the
 * automatic collections, with no gc_collect call; and a container made on
 * a thread that is not attached dies with one fatal line that says why,
 * as in a program that does call gc_. Without the option the archive
 * member stays out: the cycles leak and the unattached container is made.
 * Threading: single thread; the death case runs in a forked child
 * (tests/death.h) before the parent attaches.
 */
#include <signal.h>
#include <string.h>

#include "rc/rc.h"
#include "tests/check.h"
#include "tests/death.h"
#include "tests/objects.h"

static void unattached_container(void)
{
    rc_obj_t *t = rc_tuple_new(1);   /* the collector is linked: fatal */
    rc_decref(t);
}

static void unattached_container_is_one_fatal_line(void)
{
    death_t d = death_run(unattached_container);
    bool aborted = WIFSIGNALED(d.status) && WTERMSIG(d.status) == SIGABRT;
    int lines = 0;
    for (const char *p = d.msg; (p = strstr(p, "rcbench: fatal:")); p++)
        lines++;
    printf("unattached container: %s%s", aborted ? "aborted: " : "made (no collector?)\n", d.msg);
    CHECK(aborted);
    CHECK_EQ(lines, 1);
    CHECK(strstr(d.msg, "not attached") != NULL);
    CHECK(strstr(d.msg, "rc_thread_attach") != NULL);
}

/* CPython's threshold 700: 3000 dropped self-cycles see several
 * collections of generation 0, so at most one threshold's worth stays. */
static void cycles_collected_without_naming_gc(void)
{
    enum { N = 3000 };
    uint64_t base = live();
    for (int i = 0; i < N; i++) {
        rc_obj_t *n = rc_node_new(1, i);
        REQUIRE(n != NULL);
        rc_incref(n);
        rc_node_set(n, 0, n);        /* n -> n */
        rc_decref(n);                /* only the cycle holds it */
    }
    uint64_t left = live() - base;
    printf("self-cycles left of %d: %llu\n", N, (unsigned long long)left);
    CHECK(left < N);
    CHECK(left <= 1000);
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    CHECK(_rc_gc_hooks != NULL);     /* the object model's view: a collector is installed */
    unattached_container_is_one_fatal_line();
    rc_thread_attach();
    cycles_collected_without_naming_gc();
    rc_thread_detach();
    return TEST_END();
}
