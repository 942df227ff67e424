/* tests/stepped.h — stepped helper threads for deterministic tests.
 *
 * A helper is a thread that runs one step (a function) at a time on the
 * test's command: helper_run hands it the step and waits until the step
 * has returned, so the test decides exactly what runs where and in which
 * order, and every count in between is known. Include after rc/rc.h
 * (helpers may attach: the flavour's rc_thread_attach/detach).
 * Threading: one commanding thread per helper; the handshake is a mutex
 * and condition variable, which also orders each step's effects before
 * the command that follows.
 */
#ifndef RC_TESTS_STEPPED_H
#define RC_TESTS_STEPPED_H

#include <pthread.h>
#include <string.h>

#include "tests/check.h"

typedef struct helper {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void (*fn)(void *);                 /* the step to run; NULL: idle */
    void *arg;
    bool quit, attach;
} helper_t;

static inline void *helper_main(void *p)
{
    helper_t *h = p;
    if (h->attach)
        rc_thread_attach();
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->fn == NULL && !h->quit)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->fn == NULL)
            break;
        void (*fn)(void *) = h->fn;
        void *arg = h->arg;
        pthread_mutex_unlock(&h->mu);
        fn(arg);
        pthread_mutex_lock(&h->mu);
        h->fn = NULL;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    if (h->attach)
        rc_thread_detach();
    return NULL;
}

static inline void helper_start(helper_t *h, bool attach)
{
    memset(h, 0, sizeof *h);
    h->attach = attach;
    REQUIRE(pthread_mutex_init(&h->mu, NULL) == 0 && pthread_cond_init(&h->cv, NULL) == 0);
    REQUIRE(pthread_create(&h->th, NULL, helper_main, h) == 0);
}

/* Runs fn(arg) on the helper and waits until it has returned. */
static inline void helper_run(helper_t *h, void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&h->mu);
    h->fn = fn;
    h->arg = arg;
    pthread_cond_broadcast(&h->cv);
    while (h->fn != NULL)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

/* The helper exits (detaching first if it attached at start) and is joined. */
static inline void helper_stop(helper_t *h)
{
    pthread_mutex_lock(&h->mu);
    h->quit = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    REQUIRE(pthread_join(h->th, NULL) == 0);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
}

#endif /* RC_TESTS_STEPPED_H */
