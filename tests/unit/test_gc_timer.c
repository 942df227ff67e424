/* tests/unit/test_gc_timer.c — stopping the collector's timer from an
 * attached thread (a regression test, first written as a review
 * reproducer): gc_set_timer_ms(0) joins the timer thread, whose tick may
 * be waiting for the world this thread holds up (plain: the GIL; the
 * others: a stop waiting for this thread to park), so the join must not
 * happen attached. A deadlock shows as the alarm firing.
 * Threading: main and the timer thread. */
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include "gc/gc.h"
#include "rc/rc.h"
#include "tests/check.h"

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "DEADLOCK: gc_set_timer_ms(0) did not return within 10 s\n";
    write(2, m, sizeof m - 1);
    _exit(1);
}

static uint64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    signal(SIGALRM, on_alarm);
    rc_thread_attach();
    gc_set_timer_ms(1);
    uint64_t t0 = ms_now();
    rc_obj_t *o = rc_int_new(123456);
    while (ms_now() - t0 < 30) {                /* busy, attached, no safepoint */
        rc_incref(o);
        rc_decref(o);
    }
    alarm(10);
    gc_set_timer_ms(0);
    alarm(0);
    rc_decref(o);
    rc_thread_detach();
    printf("timer stopped\n");
    return TEST_END();
}
