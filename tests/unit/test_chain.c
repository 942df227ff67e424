/* tests/unit/test_chain.c — freeing long chains does not grow the C stack.
 *
 * Runs on a thread with a 64 KiB stack (PTHREAD_STACK_MIN where that is
 * larger: 128 KiB on aarch64): a 10-million-node linked chain, a
 * million nested 1-tuples and a million-element list are built and dropped
 * with one decref each. A recursive deallocator would need hundreds of
 * megabytes of stack and crash; the iterative one needs one frame.
 * --scale N divides the sizes (sanitizer builds), still deep enough that
 * recursion would overflow 64 KiB many times over.
 * Threading: one worker thread; main only waits.
 */
#include <limits.h>
#include <pthread.h>

#include "rc/rc.h"
#include "tests/check.h"
#include "tests/objects.h"

static uint64_t scale = 1;

/* Objects alive after a safepoint (where deferred counting frees). */
static void *worker(void *arg)
{
    (void)arg;
    rc_thread_attach();
    const int64_t chain = 10000000 / (int64_t)scale, nest = 1000000 / (int64_t)scale;

    rc_obj_t *head = rc_node_new(1, 0);
    for (int64_t i = 1; i < chain; i++) {
        rc_obj_t *n = rc_node_new(1, i);
        REQUIRE(n != NULL);
        rc_node_set(n, 0, head);        /* steals head */
        head = n;
    }
    CHECK_EQ(live(), chain);
    rc_decref(head);
    CHECK_EQ(live(), 0);

    rc_obj_t *t = rc_tuple_new(0);
    for (int64_t i = 0; i < nest; i++) {
        rc_obj_t *outer = rc_tuple_new(1);
        REQUIRE(outer != NULL);
        rc_tuple_set(outer, 0, t);
        t = outer;
    }
    CHECK_EQ(live(), nest + 1);
    rc_decref(t);
    CHECK_EQ(live(), 0);

    /* A list whose elements are each the head of a short chain. */
    rc_obj_t *l = rc_list_new();
    for (int64_t i = 0; i < nest; i++) {
        rc_obj_t *a = rc_node_new(1, i), *b = rc_int_new(1000 + i);
        rc_node_set(a, 0, b);
        CHECK(rc_list_append(l, a));
        rc_decref(a);
    }
    CHECK_EQ(live(), 2 * nest + 1);
    rc_decref(l);
    CHECK_EQ(live(), 0);
    rc_thread_detach();
    printf("dropped a %lld-node chain, %lld nested tuples, a %lld-element list "
           "on a small stack (64 KiB, or PTHREAD_STACK_MIN)\n",
           (long long)chain, (long long)nest, (long long)nest);
    return NULL;
}

int main(int argc, char **argv)
{
    scale = test_opts(argc, argv).scale;
    pthread_attr_t attr;
    pthread_t th;
    REQUIRE(pthread_attr_init(&attr) == 0);
    /* 64 KiB, or the platform's least (aarch64 glibc: 128 KiB): a small
     * stack either way, against a chain 10 million deep. */
    size_t stack = 64 * 1024 < PTHREAD_STACK_MIN ? PTHREAD_STACK_MIN : 64 * 1024;
    REQUIRE(pthread_attr_setstacksize(&attr, stack) == 0);
    REQUIRE(pthread_create(&th, &attr, worker, NULL) == 0);
    REQUIRE(pthread_join(th, NULL) == 0);
    return TEST_END();
}
