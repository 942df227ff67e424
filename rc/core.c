/* rc/core.c — strategy-independent runtime: thread records, object
 * statistics and fatal errors.
 *
 * Each thread gets an rc_thread_t on first use, linked into a registry list
 * under registry_lock and found again through a _Thread_local pointer. Its
 * counters have one writer, the thread itself (relaxed load + relaxed store:
 * plain moves, no read-modify-write on the allocation path); rc_stats_get
 * sums them with relaxed loads under the registry lock. When a thread exits,
 * a pthread key destructor folds its counters into the exited-threads totals
 * and unlinks and frees the record, so the sums stay exact across thread
 * churn. Before that it runs the strategies' exit hooks
 * (rc_core_on_thread_exit), so their exit work frees objects while the
 * record still counts the frees. Detach hooks (rc_core_on_detach) run on
 * each detach, on the detaching thread.
 * Threading: registry and totals under registry_lock; counters as above;
 * hooks are appended under registry_lock and read after an acquire load of
 * their count; the stall-warning setting is a relaxed atomic.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/fatal.h"
#include "base/list.h"
#include "rc/rc.h"

#ifdef RC_INJECT_SLOWDOWN_BIASED_OWNER
RC_ATOMIC(uint64_t) _rc_inject_sink;     /* see rc/strategy/biased.h */
#endif

_Thread_local rc_thread_t *_rc_thread_tls;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static rc_dlist_t registry;                  /* of rc_thread_t, under registry_lock */
static uint64_t next_thread_id = 1;          /* under registry_lock */
static uint64_t exited_allocated, exited_freed;  /* under registry_lock */
static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
/* Hooks run on a thread's exit or detach: appended under registry_lock,
 * run without it. */
typedef struct hook_list {
    void (*fn[RC_THREAD_EXIT_HOOKS])(void);   /* written once each, under registry_lock */
    RC_ATOMIC(unsigned) n;
    const char *what;
} hook_list_t;
static hook_list_t exit_hooks = { .what = "thread-exit" }, detach_hooks = { .what = "detach" };

static void hooks_add(hook_list_t *l, void (*hook)(void))
{
    pthread_mutex_lock(&registry_lock);
    unsigned n = at_load_relaxed(&l->n);
    if (n == RC_THREAD_EXIT_HOOKS)
        rc_fatal("more than %d %s hooks registered", RC_THREAD_EXIT_HOOKS, l->what);
    l->fn[n] = hook;
    /* release: pairs with the acquire load in hooks_run; the slot is
     * written before it is counted. */
    at_store_release(&l->n, n + 1);
    pthread_mutex_unlock(&registry_lock);
}

static void hooks_run(hook_list_t *l)
{
    /* acquire: pairs with the release store in hooks_add. */
    unsigned n = at_load_acquire(&l->n);
    for (unsigned i = 0; i < n; i++)
        l->fn[i]();
}

void rc_core_on_thread_exit(void (*hook)(void)) { hooks_add(&exit_hooks, hook); }
void rc_core_on_detach(void (*hook)(void)) { hooks_add(&detach_hooks, hook); }
void _rc_core_run_detach_hooks(void) { hooks_run(&detach_hooks); }

static void thread_exit(void *arg)
{
    rc_thread_t *t = arg;
    /* The hooks free objects: never while another thread has the world
     * stopped (a detached thread waits here until it resumes). */
    _rc_world_attach();
    hooks_run(&exit_hooks);
    _rc_world_detach();                  /* an exiting thread never holds the world up */
    _rc_gil_thread_exit(t);
    pthread_mutex_lock(&registry_lock);
    exited_allocated += at_load_relaxed(&t->objs_allocated);
    exited_freed += at_load_relaxed(&t->objs_freed);
    rc_dlist_remove(&registry, &t->link);
    pthread_mutex_unlock(&registry_lock);
    _rc_thread_tls = NULL;
    free(t);
}

static void thread_key_create(void)
{
    if (pthread_key_create(&thread_key, thread_exit) != 0)
        rc_fatal_os("pthread_key_create failed: cannot track thread exits");
}

RC_SLOW_PATH rc_thread_t *_rc_thread_create_slow(void)
{
    (void)pthread_once(&thread_key_once, thread_key_create);
    rc_thread_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        rc_fatal_os("out of memory creating a thread record");
    pthread_mutex_lock(&registry_lock);
    t->id = next_thread_id++;
    rc_dlist_push_front(&registry, &t->link);
    pthread_mutex_unlock(&registry_lock);
    if (pthread_setspecific(thread_key, t) != 0)
        rc_fatal_os("pthread_setspecific failed: cannot track thread exit");
    _rc_thread_tls = t;
    return t;
}

rc_stats_t rc_stats_get(void)
{
    rc_stats_t s = { 0 };
    pthread_mutex_lock(&registry_lock);
    s.allocated = exited_allocated;
    s.freed = exited_freed;
    for (rc_dlink_t *l = registry.first; l; l = l->next) {
        rc_thread_t *t = RC_DLIST_ENTRY(l, rc_thread_t, link);
        s.allocated += at_load_relaxed(&t->objs_allocated);
        s.freed += at_load_relaxed(&t->objs_freed);
        s.threads++;
    }
    pthread_mutex_unlock(&registry_lock);
    s.live = s.allocated - s.freed;
    return s;
}

void rc_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rc_vfatal_line("fatal", fmt, ap);
}

void rc_fatal_os(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rc_vexit_line("error", fmt, ap);
}

void rc_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rc_vline("warning", fmt, ap);
    va_end(ap);
}

static RC_ATOMIC(uint64_t) stall_warn_ns = RC_STALL_WARN_NS;   /* a setting: relaxed */
void rc_set_stall_warn_ns(uint64_t ns) { at_store_relaxed(&stall_warn_ns, ns); }
uint64_t rc_stall_warn_ns(void) { return at_load_relaxed(&stall_warn_ns); }
