/* tests/unit/test_gc_timer.c — the collector's timer (gc_set_timer_ms).
 *
 *   collects     with automatic collection off (threshold 0), two-object
 *                cycles made and dropped are freed by the timer's
 *                generation-0 collection, no sooner than one period and
 *                within a bounded time (10 s);
 *   period       no more collections in a window than the period allows
 *                (each tick waits a whole period);
 *   disabled     gc_disable(): the timer ticks but does not collect; it
 *                collects again once gc_enable()d;
 *   new period   a new period takes effect at once (a 60 s wait is cut
 *                short when 10 ms is asked for);
 *   stop         after gc_set_timer_ms(0) returns, no collection comes;
 *   wall step    a step of the wall clock an hour back or forward neither
 *                cuts the period to nothing nor stretches it by the step
 *                (the timer waits on the monotonic clock);
 *   stop busy    stopping it from an attached thread that passes no
 *                safepoint (a regression test, first written as a review
 *                reproducer): the join must not happen attached, since
 *                the tick may be waiting for the world this thread holds
 *                up (plain: the GIL; the others: a stop waiting for this
 *                thread to park). A deadlock shows as the alarm firing.
 * Threading: main and the timer thread; main is detached while it waits
 * for the timer, so a tick never waits for it. */
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gc/gc.h"
#include "rc/rc.h"
#include "tests/check.h"

enum { PAIRS = 50, BOUND_MS = 10000 };

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "DEADLOCK: gc_set_timer_ms(0) did not return within 10 s\n";
    write(2, m, sizeof m - 1);
    _exit(1);
}

/* A wall-clock step as this process sees it: CLOCK_REALTIME read through
 * clock_gettime (defined here for the whole link, gc/gc.c included) is off
 * by wall_step_s seconds, while the kernel's realtime, against which a
 * CLOCK_REALTIME wait times out, is not: what a timer that computed its
 * deadline just before the system clock was stepped would see. */
static RC_ATOMIC(int64_t) wall_step_s;

int clock_gettime(clockid_t id, struct timespec *ts)
{
    long r = syscall(SYS_clock_gettime, id, ts);
    if (r == 0 && id == CLOCK_REALTIME)
        ts->tv_sec += (time_t)at_load_relaxed(&wall_step_s);
    return (int)r;
}

static uint64_t ms_now(void) { return rc_now_ns() / 1000000u; }

static void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

static uint64_t collections(void) { return gc_get_stats(0).collections; }

/* Waits (detached) until generation 0 has been collected more than N
 * times in all, or BOUND_MS passed; returns the ms waited. */
static uint64_t wait_collections_above(uint64_t n)
{
    uint64_t t0 = ms_now();
    while (collections() <= n && ms_now() - t0 < BOUND_MS)
        nap_ms(1);
    return ms_now() - t0;
}

/* PAIRS two-object cycles, made and dropped: garbage only a collection frees. */
static void make_cycles(void)
{
    rc_thread_attach();
    for (int i = 0; i < PAIRS; i++) {
        rc_obj_t *a = rc_node_new(1, i), *b = rc_node_new(1, -i);
        REQUIRE(a != NULL && b != NULL);
        rc_incref(b);
        rc_node_set(a, 0, b);
        rc_incref(a);
        rc_node_set(b, 0, a);
        rc_decref(a);
        rc_decref(b);
    }
    rc_thread_detach();
}

static void collects(void)
{
    uint64_t live0 = rc_stats_get().live, tracked0 = gc_tracked_count();
    make_cycles();
    CHECK_EQ(gc_tracked_count() - tracked0, 2 * PAIRS);
    gc_stats_t s0 = gc_get_stats(0);
    uint64_t t0 = ms_now();
    gc_set_timer_ms(20);
    uint64_t waited = wait_collections_above(s0.collections);
    gc_stats_t s1 = gc_get_stats(0);
    printf("collects: first timer collection after %llu ms (period 20 ms), %llu objects collected\n",
           (unsigned long long)(ms_now() - t0), (unsigned long long)(s1.collected - s0.collected));
    CHECK(s1.collections > s0.collections);
    CHECK(waited < BOUND_MS);
    CHECK(ms_now() - t0 >= 20);                 /* a tick waits a whole period first */
    CHECK_EQ(s1.collected - s0.collected, 2 * PAIRS);
    gc_set_timer_ms(0);
    CHECK_EQ(gc_tracked_count(), tracked0);     /* quiescent now: exact */
    CHECK_EQ(rc_stats_get().live, live0);
}

static void period(void)
{
    enum { P = 25, WINDOW = 250 };
    uint64_t c0 = collections(), t0 = ms_now();
    gc_set_timer_ms(P);
    nap_ms(WINDOW);
    gc_set_timer_ms(0);
    uint64_t n = collections() - c0, ms = ms_now() - t0;
    printf("period: %llu collections in %llu ms at %d ms\n", (unsigned long long)n,
           (unsigned long long)ms, P);
    CHECK(n <= ms / P);
}

static void disabled(void)
{
    gc_disable();
    uint64_t c0 = collections();
    gc_set_timer_ms(5);
    nap_ms(100);
    printf("disabled: %llu collections in 100 ms at 5 ms\n", (unsigned long long)(collections() - c0));
    CHECK_EQ(collections() - c0, 0);
    gc_enable();
    CHECK(wait_collections_above(c0) < BOUND_MS);
    gc_set_timer_ms(0);
}

static void new_period(void)
{
    uint64_t c0 = collections();
    gc_set_timer_ms(60000);
    nap_ms(30);
    CHECK_EQ(collections() - c0, 0);
    uint64_t t0 = ms_now();
    gc_set_timer_ms(10);
    uint64_t waited = wait_collections_above(c0);
    printf("new period: collected %llu ms after 60 s became 10 ms\n", (unsigned long long)(ms_now() - t0));
    CHECK(waited < BOUND_MS);
    gc_set_timer_ms(0);
}

static void stop(void)
{
    gc_set_timer_ms(1);
    CHECK(wait_collections_above(collections()) < BOUND_MS);
    gc_set_timer_ms(0);
    uint64_t c0 = collections();
    nap_ms(50);
    printf("stop: %llu collections in the 50 ms after the stop\n", (unsigned long long)(collections() - c0));
    CHECK_EQ(collections() - c0, 0);
}

static void wall_step(void)
{
    enum { P = 20, WINDOW = 200 };
    for (int64_t step = -3600; step <= 3600; step += 7200) {
        at_store_relaxed(&wall_step_s, step);
        uint64_t c0 = collections(), t0 = ms_now();
        gc_set_timer_ms(P);
        uint64_t waited = wait_collections_above(c0);
        nap_ms(WINDOW);
        gc_set_timer_ms(0);
        uint64_t n = collections() - c0, ms = ms_now() - t0;
        printf("wall step %+lld s: first collection after %llu ms, %llu in %llu ms at %d ms\n",
               (long long)step, (unsigned long long)waited, (unsigned long long)n,
               (unsigned long long)ms, P);
        CHECK(waited < BOUND_MS);               /* not stretched by the step */
        CHECK(n <= ms / P);                     /* not cut to nothing */
    }
    at_store_relaxed(&wall_step_s, 0);
}

static void stop_busy(void)
{
    signal(SIGALRM, on_alarm);
    rc_thread_attach();
    gc_set_timer_ms(1);
    uint64_t t0 = ms_now();
    rc_obj_t *o = rc_int_new(123456);
    REQUIRE(o != NULL);
    while (ms_now() - t0 < 30) {                /* busy, attached, no safepoint */
        rc_incref(o);
        rc_decref(o);
    }
    alarm(10);
    gc_set_timer_ms(0);
    alarm(0);
    CHECK(rc_is_attached());                    /* attached again, as before the call */
    CHECK_EQ(rc_refcount(o), 1);
    rc_decref(o);
    rc_thread_detach();
    printf("stop busy: the timer stopped\n");
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    gc_set_threshold(0, 10, 10);                /* only the timer collects */
    collects();
    period();
    disabled();
    new_period();
    stop();
    wall_step();
    stop_busy();
    gc_set_threshold(700, 10, 10);
    return TEST_END();
}
