/* rc/world.c — stop-the-world: parking attached threads at safepoints.
 *
 * State: each thread record's `world` field (detached, running, parked),
 * the number of running threads, and whether a stop is active and by
 * whom, all under world_lock. _rc_world_stop_requested mirrors "a stop is
 * active" for the safepoint poll (written under the lock, read relaxed).
 *
 *   stop:   wait while another thread's stop is active (parked meanwhile,
 *           if running); mark the stop active; wait until the stopper is
 *           the only running thread.
 *   park:   (at a safepoint, when requested) running -> parked, wake the
 *           stopper, wait until the stop ends, parked -> running.
 *   attach: wait while another thread's stop is active, then running.
 *   detach: running -> detached, wake the stopper.
 *   resume: end the stop, wake everyone.
 * Everything a parked thread did before parking happens before the
 * stopper's return (the mutex orders it), and everything the stopper did
 * while the world was stopped happens before a parked thread runs again.
 * A stopper that has waited rc_stall_warn_ns warns once (an attached
 * thread blocked without detaching never parks: rc/rc.h, "Threads").
 *
 * Threading: as above; rc_world_stats reads under the lock.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "base/clock.h"
#include "rc/rc.h"

RC_ATOMIC(bool) _rc_world_stop_requested;
_Thread_local bool _rc_world_stopper;

static pthread_mutex_t world_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t world_parked = PTHREAD_COND_INITIALIZER;    /* a thread parked or detached */
static pthread_cond_t world_resumed = PTHREAD_COND_INITIALIZER;   /* a stop ended */
static uint64_t running;                  /* threads in RC_WORLD_RUNNING */
static rc_thread_t *stopper;              /* the thread whose stop is active, or NULL */
static uint64_t stops, wait_total, wait_max;

/* Under world_lock: parks `self` (running) until no stop is active. */
static void park_locked(rc_thread_t *self)
{
    self->world = RC_WORLD_PARKED;
    running--;
    pthread_cond_broadcast(&world_parked);
    while (stopper != NULL)
        pthread_cond_wait(&world_resumed, &world_lock);
    self->world = RC_WORLD_RUNNING;
    running++;
}

RC_SLOW_PATH void _rc_world_park_slow(void)
{
    rc_thread_t *self = rc_thread_self();
    pthread_mutex_lock(&world_lock);
    if (self->world == RC_WORLD_RUNNING && stopper != NULL && stopper != self)
        park_locked(self);
    pthread_mutex_unlock(&world_lock);
}

void _rc_world_attach(void)
{
    rc_thread_t *self = rc_thread_self();
    pthread_mutex_lock(&world_lock);
    if (self->world == RC_WORLD_DETACHED) {
        while (stopper != NULL)
            pthread_cond_wait(&world_resumed, &world_lock);
        self->world = RC_WORLD_RUNNING;
        running++;
    }
    pthread_mutex_unlock(&world_lock);
}

void _rc_world_detach(void)
{
    rc_thread_t *self = rc_thread_self();
    /* While still attached: what the hooks fold, a stopper reads only once
     * this thread has detached (through world_lock). `world` is written
     * only by this thread. */
    if (self->world == RC_WORLD_RUNNING)
        _rc_core_run_detach_hooks();
    pthread_mutex_lock(&world_lock);
    if (self->world == RC_WORLD_RUNNING) {
        if (stopper == self)
            rc_fatal("rc_thread_detach while this thread has the world stopped");
        self->world = RC_WORLD_DETACHED;
        running--;
        pthread_cond_broadcast(&world_parked);
    }
    pthread_mutex_unlock(&world_lock);
}

void _rc_world_stop_slow(void)
{
    rc_thread_t *self = rc_thread_self();
    pthread_mutex_lock(&world_lock);
    if (self->world != RC_WORLD_RUNNING)
        rc_fatal("rc_world_stop on a thread that is not attached (rc_thread_attach first)");
    if (stopper == self)
        rc_fatal("rc_world_stop twice without rc_world_resume");
    while (stopper != NULL)                  /* another stop first: be stopped by it */
        park_locked(self);
    stopper = self;
    at_store_relaxed(&_rc_world_stop_requested, true);
    uint64_t t0 = rc_now_ns();
    bool warned = false;
    while (running > 1) {
        uint64_t limit = rc_stall_warn_ns();
        if (warned || limit == 0) {
            pthread_cond_wait(&world_parked, &world_lock);
            continue;
        }
        /* world_parked runs on CLOCK_REALTIME (a static initialiser): a
         * clock jump only moves when the warning comes. */
        uint64_t now = rc_now_ns(), left = t0 + limit > now ? t0 + limit - now : 0;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + left;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        if (pthread_cond_timedwait(&world_parked, &world_lock, &ts) == ETIMEDOUT && running > 1 &&
            rc_now_ns() - t0 >= limit) {
            warned = true;
            rc_warn("thread %llu has waited %llu ms to stop the world for %llu attached thread(s) "
                    "that passed no safepoint: an attached thread that blocks (pthread_join on a "
                    "thread that stops the world, a lock, I/O) must rc_thread_detach first "
                    "(rc/rc.h, Threads)", (unsigned long long)self->id,
                    (unsigned long long)((rc_now_ns() - t0) / 1000000), (unsigned long long)(running - 1));
        }
    }
    uint64_t waited = rc_now_ns() - t0;
    _rc_world_stopper = true;
    stops++;
    wait_total += waited;
    if (waited > wait_max)
        wait_max = waited;
    pthread_mutex_unlock(&world_lock);
}

void _rc_world_resume_slow(void)
{
    rc_thread_t *self = rc_thread_self();
    pthread_mutex_lock(&world_lock);
    if (stopper != self)
        rc_fatal("rc_world_resume by a thread that did not stop the world");
    stopper = NULL;
    _rc_world_stopper = false;
    at_store_relaxed(&_rc_world_stop_requested, false);
    pthread_cond_broadcast(&world_resumed);
    pthread_mutex_unlock(&world_lock);
}

bool rc_world_is_stopped(void) { return _rc_world_stopper || rc_gil_pinned(); }

rc_world_stats_t rc_world_stats(void)
{
    pthread_mutex_lock(&world_lock);
    rc_world_stats_t s = { stops, wait_total, wait_max, running };
    pthread_mutex_unlock(&world_lock);
    return s;
}
