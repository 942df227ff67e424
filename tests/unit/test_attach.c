/* tests/unit/test_attach.c — rc_thread_attach/detach keep one contract
 * under every strategy (rc/rc.h, "Threads").
 *
 * - Repeats do nothing: attach twice, detach once, detach again, attach
 *   again; the thread is attached exactly when rc_is_attached says so and
 *   nothing is fatal (plain used to die on the second attach, the GIL
 *   "acquired twice").
 * - The rule: an attached thread detaches before it joins a thread that
 *   attaches. Kept, it works everywhere. Broken (the main thread stays
 *   attached while it joins a thread that attaches and stops the world),
 *   it deadlocks under every strategy: plain on the GIL, the others on
 *   the stop; the wait is reported with one warning line naming the rule
 *   (stall threshold lowered to 100 ms here), and the test's timed join
 *   gives up after 3 s, detaches, and the other thread finishes.
 * The broken-rule and repeat cases run in forked children (tests/death.h)
 * before this process starts a thread; every join has a deadline.
 * Threading: the main thread and one helper at a time.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "rc/rc.h"
#include "tests/check.h"
#include "tests/death.h"

static int count_lines(const char *msg, const char *what)
{
    int n = 0;
    for (const char *p = msg; (p = strstr(p, what)); p++)
        n++;
    return n;
}

/* Joins t within sec seconds: 0, or ETIMEDOUT. */
static int join_within(pthread_t t, int sec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += sec;
    return pthread_timedjoin_np(t, NULL, &ts);
}

static void repeats(void)
{
    bool ok = true;
    rc_thread_attach();
    rc_thread_attach();                 /* a repeat: nothing */
    ok &= rc_is_attached();
    rc_obj_t *o = rc_int_new(100001);
    rc_incref(o);
    rc_decref(o);
    rc_safepoint();
    ok &= rc_refcount(o) == 1;
    rc_decref(o);
    rc_thread_detach();                 /* one detach undoes both */
    ok &= !rc_is_attached();
    rc_thread_detach();                 /* a repeat: nothing */
    ok &= !rc_is_attached();
    rc_thread_attach();
    ok &= rc_is_attached();
    rc_safepoint();
    rc_thread_detach();
    printf("%s\n", ok ? "repeats ok" : "repeats wrong");
}

static void repeats_do_nothing(void)
{
    death_t d = death_run(repeats);
    bool exited = WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0;
    printf("repeated attach/detach: %s, %s\n", exited ? "exited" : "died", d.addr);
    if (d.msg[0])
        printf("  stderr: %s", d.msg);
    CHECK(exited);
    CHECK(strcmp(d.addr, "repeats ok") == 0);
    CHECK_EQ(count_lines(d.msg, "rcbench:"), 0);
}

/* A thread that attaches, counts, stops the world (what a collection
 * does) and leaves. */
static void *attacher(void *arg)
{
    (void)arg;
    rc_thread_attach();
    rc_obj_t *o = rc_int_new(100002);
    rc_world_stop();
    rc_world_resume();
    rc_decref(o);
    rc_safepoint();
    rc_thread_detach();
    return NULL;
}

static void join_attached(void)
{
    rc_set_stall_warn_ns(100 * 1000000u);
    rc_thread_attach();
    pthread_t t;
    if (pthread_create(&t, NULL, attacher, NULL) != 0)
        _exit(3);
    int rc = join_within(t, 3);         /* attached while joining: the broken rule */
    rc_thread_detach();                 /* what the rule says: now it can finish */
    int rc2 = rc == 0 ? 0 : join_within(t, 30);
    printf("%s\n", rc == ETIMEDOUT && rc2 == 0 ? "stalled, then joined" : rc == 0 ? "joined at once" : "never joined");
}

static void join_while_attached_is_reported(void)
{
    death_t d = death_run(join_attached);
    bool exited = WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0;
    printf("join while attached: %s, %s\n  stderr: %s", exited ? "exited" : "died", d.addr, d.msg);
    CHECK(exited);
    CHECK(strcmp(d.addr, "stalled, then joined") == 0);
    CHECK_EQ(count_lines(d.msg, "rcbench: warning:"), 1);
    CHECK_EQ(count_lines(d.msg, "rcbench: fatal:"), 0);
    CHECK(strstr(d.msg, "rc_thread_detach first") != NULL);
}

/* The rule kept: detach, join, attach again. */
static void join_after_detach_works(void)
{
    rc_thread_attach();
    uint64_t live0 = rc_stats_get().live;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, attacher, NULL) == 0);
    rc_thread_detach();
    CHECK_EQ(join_within(t, 30), 0);
    rc_thread_attach();
    for (int i = 0; i < 10 && rc_stats_get().live != live0; i++)
        rc_safepoint();                 /* deferred: decrements land epochs later */
    CHECK_EQ(rc_stats_get().live, live0);
    CHECK(rc_is_attached());
    rc_thread_detach();
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    CHECK_EQ(rc_stall_warn_ns(), RC_STALL_WARN_NS);
    repeats_do_nothing();
    join_while_attached_is_reported();
    join_after_detach_works();
    return TEST_END();
}
