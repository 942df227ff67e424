/* rc/gil.c — the global interpreter lock of the plain strategy.
 *
 * CPython's GIL (Python/ceval_gil.c) in small: a mutex-protected flag with
 * two condition variables. A thread that wants the GIL waits on gil_free
 * for at most one switch interval; if the interval passes and no switch
 * happened meanwhile, it sets _rc_gil_drop_request. The holder polls that
 * flag at its safepoints (one relaxed load: the cost plain pays for being
 * shareable); when set, it releases the GIL and waits on gil_taken until
 * some other thread has taken it (forced switching), so it cannot win the
 * lock straight back. Any waiter may be the one that takes it, as in
 * CPython. The interval (default 5 ms, CPython's sys.getswitchinterval())
 * keeps hand-overs from dominating throughput: without it, plain's
 * multi-thread figures would measure hand-over cost at every safepoint.
 * Misuse is fatal: acquiring twice, or releasing/yielding without holding
 * (rc_plain_thread_attach/detach check first, so their repeats do nothing).
 * A waiter that sees no hand-over for rc_stall_warn_ns warns once: the
 * holder is most likely blocked while attached (rc/rc.h, "Threads").
 * A thread that exits holding the GIL releases it (rc/core.c calls
 * _rc_gil_thread_exit).
 * Threading: everything below is under gil_mutex except the drop request
 * (written under the mutex, read racily by the holder) and the interval.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "base/clock.h"
#include "rc/rc.h"

static pthread_mutex_t gil_mutex = PTHREAD_MUTEX_INITIALIZER;
/* gil_free is initialised in gil_init (it needs CLOCK_MONOTONIC), before
 * any use: every path that signals or waits on it first holds the GIL or
 * is acquiring it. */
static pthread_cond_t gil_free;                                /* signalled on release */
static pthread_cond_t gil_taken = PTHREAD_COND_INITIALIZER;   /* signalled on acquire */
static pthread_condattr_t gil_condattr;
static rc_thread_t *gil_owner;    /* NULL when free; under gil_mutex */
static unsigned gil_waiters;      /* under gil_mutex */
static uint64_t gil_switches;     /* acquisitions so far, under gil_mutex */
static RC_ATOMIC(uint64_t) gil_interval_ns = 5000000;

RC_ATOMIC(bool) _rc_gil_drop_request;

/* The holder's "the world is stopped" depth (rc_gil_pin): while pinned
 * it neither yields at safepoints nor releases. */
static _Thread_local unsigned gil_pinned;
static _Thread_local bool gil_mine;           /* this thread holds the GIL */

static pthread_once_t gil_once = PTHREAD_ONCE_INIT;
static void gil_init(void)
{
    /* Timed waits on CLOCK_MONOTONIC, immune to wall-clock jumps. */
    pthread_condattr_init(&gil_condattr);
    pthread_condattr_setclock(&gil_condattr, CLOCK_MONOTONIC);
    pthread_cond_init(&gil_free, &gil_condattr);
}

static void deadline_after(struct timespec *ts, uint64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ns += (uint64_t)ts->tv_nsec;
    ts->tv_sec += (time_t)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
}

static void acquire_locked(rc_thread_t *self)
{
    if (gil_owner == self)
        rc_fatal("GIL acquired twice by thread %llu (rc_gil_acquire while holding it)",
                 (unsigned long long)self->id);
    gil_waiters++;
    uint64_t since = 0, since_switches = gil_switches;   /* the stall clock */
    bool warned = false;
    while (gil_owner != NULL) {
        uint64_t seen = gil_switches;
        struct timespec deadline;
        deadline_after(&deadline, at_load_relaxed(&gil_interval_ns));
        int rc = pthread_cond_timedwait(&gil_free, &gil_mutex, &deadline);
        if (rc == ETIMEDOUT && gil_owner != NULL && gil_switches == seen) {
            /* relaxed: the holder only needs to notice eventually; the
             * hand-over itself is ordered by gil_mutex. */
            at_store_relaxed(&_rc_gil_drop_request, true);
        }
        uint64_t limit = rc_stall_warn_ns(), now = rc_now_ns();
        if (since == 0 || gil_switches != since_switches) {
            since = now;                     /* a hand-over happened: progress */
            since_switches = gil_switches;
        } else if (!warned && limit != 0 && gil_owner != NULL && now - since >= limit) {
            warned = true;
            rc_warn("thread %llu has waited %llu ms for the GIL, held all that time by thread %llu "
                    "without a safepoint: an attached thread that blocks (pthread_join on a thread "
                    "that attaches, a lock, I/O) must rc_thread_detach first (rc/rc.h, Threads)",
                    (unsigned long long)self->id, (unsigned long long)((now - since) / 1000000),
                    (unsigned long long)gil_owner->id);
        }
    }
    gil_waiters--;
    gil_owner = self;
    gil_mine = true;
    gil_switches++;
    if (gil_waiters == 0)
        at_store_relaxed(&_rc_gil_drop_request, false);
    pthread_cond_broadcast(&gil_taken);
}

static void release_locked(rc_thread_t *self, const char *what)
{
    if (gil_owner != self)
        rc_fatal("GIL %s by thread %llu, which does not hold it", what,
                 (unsigned long long)self->id);
    if (gil_pinned)
        rc_fatal("GIL %s by thread %llu while it has the world stopped", what,
                 (unsigned long long)self->id);
    gil_mine = false;
    gil_owner = NULL;
    pthread_cond_signal(&gil_free);
}

void rc_gil_acquire(void)
{
    rc_thread_t *self = rc_thread_self();
    (void)pthread_once(&gil_once, gil_init);
    pthread_mutex_lock(&gil_mutex);
    acquire_locked(self);
    pthread_mutex_unlock(&gil_mutex);
}

void rc_gil_release(void)
{
    rc_thread_t *self = rc_thread_self();
    if (gil_mine)
        _rc_core_run_detach_hooks();     /* while still holding it: see _rc_world_detach */
    pthread_mutex_lock(&gil_mutex);
    release_locked(self, "released");
    pthread_mutex_unlock(&gil_mutex);
}

void rc_gil_pin(void)
{
    if (!gil_mine)
        rc_fatal("rc_world_stop (plain) on a thread that does not hold the GIL (rc_thread_attach first)");
    gil_pinned++;
}

void rc_gil_unpin(void)
{
    if (gil_pinned == 0)
        rc_fatal("rc_world_resume (plain) without rc_world_stop");
    gil_pinned--;
}

bool rc_gil_pinned(void) { return gil_pinned != 0; }

RC_SLOW_PATH void _rc_gil_yield_slow(void)
{
    if (gil_pinned)
        return;                              /* the world is stopped: no hand-over */
    rc_thread_t *self = rc_thread_self();
    pthread_mutex_lock(&gil_mutex);
    if (gil_waiters > 0) {
        uint64_t seen = gil_switches;
        release_locked(self, "yielded");
        while (gil_switches == seen)         /* forced switch: a waiter goes first */
            pthread_cond_wait(&gil_taken, &gil_mutex);
        acquire_locked(self);
    } else {
        if (gil_owner != self)
            rc_fatal("GIL safepoint on thread %llu, which does not hold it",
                     (unsigned long long)self->id);
        at_store_relaxed(&_rc_gil_drop_request, false);
    }
    pthread_mutex_unlock(&gil_mutex);
}

void _rc_gil_thread_exit(rc_thread_t *self)
{
    pthread_mutex_lock(&gil_mutex);
    if (gil_owner == self)
        release_locked(self, "released at thread exit");
    pthread_mutex_unlock(&gil_mutex);
}

bool rc_gil_held(void) { return gil_mine; }

uint64_t rc_gil_switches(void)
{
    pthread_mutex_lock(&gil_mutex);
    uint64_t n = gil_switches;
    pthread_mutex_unlock(&gil_mutex);
    return n;
}

void rc_gil_set_switch_interval_ns(uint64_t ns)
{
    at_store_relaxed(&gil_interval_ns, ns ? ns : 1);
}
