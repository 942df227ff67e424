/* rc/gil.c — the global interpreter lock of the plain strategy.
 *
 * A mutex-and-condition lock with forced switching, after CPython's GIL
 * (Python/ceval_gil.c): a thread that wants the GIL and finds it held sets
 * _rc_gil_drop_request and waits. The holder polls that flag at its
 * safepoints (one relaxed load: the cost plain pays for being shareable);
 * when set, it releases the GIL and then waits until another thread has
 * taken it, so it cannot immediately win the lock back from the waiter it
 * was asked to yield to.
 * Threading: every field below is under gil_mutex except the drop request,
 * which is written under the mutex and read racily by the holder.
 */
#include <pthread.h>

#include "rc/rc.h"

static pthread_mutex_t gil_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gil_free = PTHREAD_COND_INITIALIZER;    /* signalled on release */
static pthread_cond_t gil_taken = PTHREAD_COND_INITIALIZER;   /* signalled on acquire */
static bool gil_locked;           /* under gil_mutex */
static unsigned gil_waiters;      /* under gil_mutex */
static uint64_t gil_switches;     /* acquisitions so far, under gil_mutex */

RC_ATOMIC(bool) _rc_gil_drop_request;

static void acquire_locked(void)
{
    gil_waiters++;
    while (gil_locked) {
        /* relaxed: the holder only needs to notice eventually; the
         * hand-over is ordered by gil_mutex. */
        at_store_relaxed(&_rc_gil_drop_request, true);
        pthread_cond_wait(&gil_free, &gil_mutex);
    }
    gil_waiters--;
    gil_locked = true;
    gil_switches++;
    if (gil_waiters == 0)
        at_store_relaxed(&_rc_gil_drop_request, false);
    pthread_cond_broadcast(&gil_taken);
}

void rc_gil_acquire(void)
{
    pthread_mutex_lock(&gil_mutex);
    acquire_locked();
    pthread_mutex_unlock(&gil_mutex);
}

void rc_gil_release(void)
{
    pthread_mutex_lock(&gil_mutex);
    gil_locked = false;
    pthread_cond_signal(&gil_free);
    pthread_mutex_unlock(&gil_mutex);
}

RC_SLOW_PATH void _rc_gil_yield_slow(void)
{
    pthread_mutex_lock(&gil_mutex);
    if (gil_waiters > 0) {
        uint64_t seen = gil_switches;
        gil_locked = false;
        pthread_cond_signal(&gil_free);
        while (gil_switches == seen)         /* forced switch: let a waiter in first */
            pthread_cond_wait(&gil_taken, &gil_mutex);
        acquire_locked();
    } else {
        at_store_relaxed(&_rc_gil_drop_request, false);
    }
    pthread_mutex_unlock(&gil_mutex);
}
