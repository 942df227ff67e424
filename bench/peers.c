/* bench/peers.c — the strategy tables rcbench runs: its own strategies
 * (one table each, from bench/workloads.c) and the peers, which measure
 * the same workloads the way users do today (bench/workloads.h):
 *
 *   none        alloc_pairs  malloc of 16..256 bytes (a fixed cycle of
 *                            sizes), the block touched, freed 64
 *                            operations later;
 *               empty        a loop with nothing in it: what the harness
 *                            adds to an operation (well under 1 ns);
 *               tree         the binary trees of rcbench's `tree`, made of
 *                            24-byte structs with malloc and freed with
 *                            free, on each allocator: no count at all;
 *   boehm       tree         the same structs from GC_MALLOC, dropped and
 *                            left to the Boehm-Demers-Weiser collector
 *                            (Debian's libgc, its default settings:
 *                            parallel marking on);
 *   cpython-gc  gc_pause_*   Debian's python3 builds the gc_pause heap
 *                            and times gc.collect() on it (bench/gcheap.h
 *                            gives the shape); this side asks for
 *                            collections over a pipe and reports CPython's
 *                            own timings, so the pipe is not timed.
 * shared_ptr lives in bench/peer_shared_ptr.cpp (C++ by nature).
 *
 * Threading: as for every workload (bench/workloads.h). Boehm: the first
 * attach, on the driver (the main thread), initialises the collector;
 * every other thread registers itself at its first attach and unregisters
 * when it exits (a thread-specific key's destructor), as Boehm requires
 * of threads it did not start. cpython-gc is single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "base/clock.h"
#include "base/compiler.h"
#include "bench/harness.h"
#include "rc/rc.h"
#include "rc/strategies.h"

#if RC_PEER_BOEHM
#define GC_THREADS
#include RC_BOEHM_HEADER                 /* <gc/gc.h>, by its full path: see bench/CMakeLists.txt */
#include <pthread.h>
#endif

#define X(s) extern const bench_strategy_t bench_##s##_workloads;
RC_FOR_EACH_STRATEGY(X)
#undef X
#define X(s) &bench_##s##_workloads,
const bench_strategy_t *const harness_strategies[] = { RC_FOR_EACH_STRATEGY(X) };
#undef X
const unsigned harness_nstrategies = sizeof harness_strategies / sizeof harness_strategies[0];

const bench_strategy_t *const harness_peers[] = {
    &bench_none_peer, &bench_shared_ptr_peer,
#if RC_PEER_BOEHM
    &bench_boehm_peer,
#endif
    &bench_cpython_gc_peer,
};
const unsigned harness_npeers = sizeof harness_peers / sizeof harness_peers[0];

const bench_workload_t *bench_workload_find(const bench_strategy_t *s, const char *name)
{
    for (unsigned i = 0; i < s->nworkloads; i++)
        if (strcmp(s->w[i].name, name) == 0)
            return &s->w[i];
    return NULL;
}

void bench_no_collections(uint64_t *collections, uint64_t *p50, uint64_t *p99, uint64_t *max)
{
    *collections = *p50 = *p99 = *max = 0;
}

static void *must_mem(void *p)
{
    if (RC_UNLIKELY(p == NULL))
        rc_fatal("out of memory: benchmark stopped");
    return p;
}

/* ---- none: alloc_pairs, empty ------------------------------------------------- */

#define PAIR_WINDOW 64

static uint64_t alloc_pairs(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    static const uint16_t sizes[8] = { 16, 32, 48, 64, 96, 128, 192, 256 };
    void *window[PAIR_WINDOW] = { 0 };
    uint16_t wsize[PAIR_WINDOW] = { 0 };
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        unsigned slot = (unsigned)(i & (PAIR_WINDOW - 1));
        if (window[slot])
            alloc_free(window[slot], wsize[slot]);
        size_t sz = sizes[(i * 7) & 7];
        unsigned char *p = alloc_malloc(sz);
        if (RC_UNLIKELY(p == NULL))
            rc_fatal("out of memory (allocator %s): benchmark stopped", alloc_current->name);
        p[0] = (unsigned char)i;
        sum += p[0];
        window[slot] = p;
        wsize[slot] = (uint16_t)sz;
    }
    for (unsigned i = 0; i < PAIR_WINDOW; i++)
        if (window[i])
            alloc_free(window[i], wsize[i]);
    return sum;
}

static uint64_t empty(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    for (uint64_t i = 0; i < n; i++)
        RC_COMPILER_BARRIER();
    return n;
}

/* ---- none and boehm: binary trees of plain structs ------------------------------ */

/* The node a C programmer writes: two children and the payload rcbench's
 * nodes carry, no header. The trees are rcbench's `tree` (bench/
 * workloads.c): built bottom-up, level by level, the same nodes and links;
 * one op is one node made and reclaimed. */
typedef struct pnode {
    struct pnode *l, *r;
    int64_t v;
} pnode_t;

typedef struct ptree_ctx {
    unsigned depth;
} ptree_ctx_t;

static void *ptree_setup(const bench_params_t *p, unsigned threads)
{
    (void)threads;
    ptree_ctx_t *c = must_mem(malloc(sizeof *c));
    c->depth = p->tree_depth;
    return c;
}

static uint64_t ptree_ops(const void *ctx, uint64_t n) { return bench_tree_ops(((const ptree_ctx_t *)ctx)->depth, n); }

/* One tree from NEW (a node allocator), using LEVEL (2^depth slots).
 * CLEAR: empty each slot once its node has a parent (for a tracing
 * collector, which would otherwise see a dropped tree through the slots
 * the next build has not overwritten yet). */
static pnode_t *ptree_build(unsigned depth, pnode_t **level, pnode_t *(*new_node)(void), bool clear)
{
    uint64_t width = UINT64_C(1) << depth;
    for (uint64_t i = 0; i < width; i++) {
        pnode_t *n = new_node();
        n->l = n->r = NULL;
        n->v = (int64_t)i;
        level[i] = n;
    }
    while (width > 1) {
        for (uint64_t i = 0; i < width / 2; i++) {
            pnode_t *p = new_node();
            p->l = level[2 * i];
            p->r = level[2 * i + 1];
            p->v = (int64_t)i;
            if (clear)
                level[2 * i] = level[2 * i + 1] = NULL;
            level[i] = p;
        }
        width /= 2;
    }
    return level[0];
}

static pnode_t *malloc_node(void)
{
    pnode_t *n = alloc_malloc(sizeof *n);
    if (RC_UNLIKELY(n == NULL))
        rc_fatal("out of memory (allocator %s): benchmark stopped", alloc_current->name);
    return n;
}

/* Post-order, as a count reaching zero frees a node then its children
 * (the recursion is as deep as the tree, at most 30). */
static void ptree_free(pnode_t *n)
{
    if (n == NULL)
        return;
    pnode_t *l = n->l, *r = n->r;
    alloc_free(n, sizeof *n);
    ptree_free(l);
    ptree_free(r);
}

static uint64_t none_tree(void *ctx, unsigned thread, uint64_t n)
{
    (void)thread;
    const ptree_ctx_t *c = ctx;
    const uint64_t nodes = bench_tree_nodes(c->depth);
    pnode_t **level = must_mem(malloc(sizeof *level << c->depth));
    uint64_t sum = 0;
    for (uint64_t done = 0; done < n; done += nodes) {
        pnode_t *root = ptree_build(c->depth, level, malloc_node, false);
        sum += (uint64_t)root->v + 1;
        ptree_free(root);
    }
    free(level);
    return sum;
}

const bench_strategy_t bench_none_peer = {
    .name = "none",
    .gc_figures = bench_no_collections,
    .peer = true,
    .nworkloads = 3,
    .w = {
        { "tree", "tree node malloc'ed and freed (no count)", 1, 1, 0, false, 1 << 17, ptree_setup, none_tree,
          free, ptree_ops },
        { "alloc_pairs", "malloc + free of 16-256 bytes", 1, 1, 0, false, 1 << 20, NULL, alloc_pairs, NULL, NULL },
        { "empty", "nothing (the harness's own cost)", 1, 1, 0, false, 1 << 22, NULL, empty, NULL, NULL },
    },
};

#if RC_PEER_BOEHM
/* Threads Boehm did not start must register before they allocate from it
 * and unregister before they exit. */
static pthread_key_t boehm_key;
static int boehm_ready;                  /* the driver only: attach runs there first */

static void boehm_unregister(void *unused)
{
    (void)unused;
    GC_unregister_my_thread();
}

static void boehm_attach(void)
{
    if (!boehm_ready) {                  /* the driver, which is the main thread */
        /* No static roots: nothing in rcbench's data (5.6 MB of .bss:
         * jemalloc's tables, the collectors' records) or a library's
         * points into Boehm's heap, and a program of its own would not
         * have them; scanning them at every collection would charge Boehm
         * for rcbench. What holds the trees is scanned still: the threads'
         * stacks and the uncollectable level arrays. */
        GC_set_no_dls(1);
        GC_INIT();
        GC_clear_roots();
        GC_allow_register_threads();
        if (pthread_key_create(&boehm_key, boehm_unregister) != 0)
            rc_fatal("boehm: pthread_key_create failed");
        boehm_ready = 1;
    }
    if (!GC_thread_is_registered()) {
        struct GC_stack_base sb;
        if (GC_get_stack_base(&sb) != GC_SUCCESS)
            rc_fatal("boehm: cannot find this thread's stack");
        GC_register_my_thread(&sb);
        pthread_setspecific(boehm_key, &boehm_key);   /* any non-NULL value: the destructor runs */
    }
}

static pnode_t *boehm_node(void)
{
    pnode_t *n = GC_MALLOC(sizeof *n);
    if (RC_UNLIKELY(n == NULL))
        rc_fatal("out of memory (Boehm GC): benchmark stopped");
    return n;
}

static uint64_t boehm_tree(void *ctx, unsigned thread, uint64_t n)
{
    (void)thread;
    const ptree_ctx_t *c = ctx;
    const uint64_t nodes = bench_tree_nodes(c->depth);
    /* The level array holds the only references to half-built trees, so
     * the collector must scan it: uncollectable, not malloc'ed. */
    pnode_t **level = GC_MALLOC_UNCOLLECTABLE(sizeof *level << c->depth);
    if (level == NULL)
        rc_fatal("out of memory (Boehm GC): benchmark stopped");
    uint64_t sum = 0;
    for (uint64_t done = 0; done < n; done += nodes) {
        pnode_t *root = ptree_build(c->depth, level, boehm_node, true);
        sum += (uint64_t)root->v + 1;
        level[0] = NULL;                 /* the last reference: the tree is garbage now */
    }
    GC_FREE(level);
    return sum;
}

/* Pauses, from Boehm's collection events (GC_EVENT_START to GC_EVENT_END,
 * on the thread that collects, under the allocation lock): the last 4096
 * and the largest since the run's reset. */
#define BOEHM_PAUSES 4096
static uint64_t boehm_t0, boehm_pause[BOEHM_PAUSES], boehm_npause, boehm_max, boehm_gc_no0;

static void boehm_event(GC_EventType e)
{
    if (e == GC_EVENT_START) {
        boehm_t0 = rc_now_ns();
    } else if (e == GC_EVENT_END && boehm_t0 != 0) {
        uint64_t d = rc_now_ns() - boehm_t0;
        boehm_pause[boehm_npause++ % BOEHM_PAUSES] = d;
        if (d > boehm_max)
            boehm_max = d;
        boehm_t0 = 0;
    }
}

/* At a run's start (only the driver attached): the counts start from
 * zero. No collection here: a collection just before the timed window
 * would hand it an empty heap, so a whole depth-20 tree (64 MB) fits
 * without collecting (measured: 0 collections in 4 of 5 repetitions,
 * 11.7 ns a node). Without it each run starts from where the last left
 * Boehm's heap, as a program that keeps making trees does. */
static void boehm_gc_reset(void)
{
    GC_set_on_collection_event(NULL);
    boehm_npause = boehm_max = boehm_t0 = 0;
    boehm_gc_no0 = (uint64_t)GC_get_gc_no();
    GC_set_on_collection_event(boehm_event);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* At a run's end (the workers gone, so no collection runs). */
static void boehm_gc_figures(uint64_t *collections, uint64_t *p50, uint64_t *p99, uint64_t *max)
{
    *collections = (uint64_t)GC_get_gc_no() - boehm_gc_no0;
    uint64_t n = boehm_npause < BOEHM_PAUSES ? boehm_npause : BOEHM_PAUSES;
    *p50 = *p99 = 0;
    if (n > 0) {
        qsort(boehm_pause, n, sizeof boehm_pause[0], cmp_u64);
        *p50 = boehm_pause[(n - 1) / 2];
        *p99 = boehm_pause[(n - 1) * 99 / 100];
    }
    *max = boehm_max;
}

const bench_strategy_t bench_boehm_peer = {
    .name = "boehm",
    .attach = boehm_attach,
    .gc_reset = boehm_gc_reset, .gc_figures = boehm_gc_figures,
    .peer = true,
    .own_allocator = "bdwgc",
    .nworkloads = 1,
    .w = {
        { "tree", "tree node from GC_MALLOC, reclaimed by tracing", 1, 1, 0, false, 1 << 17, ptree_setup,
          boehm_tree, free, ptree_ops },
    },
};
#endif /* RC_PEER_BOEHM */

/* ---- cpython-gc: gc.collect() in Debian's python3 ---------------------------- */

/* The heap of bench/gcheap.h, in Python: a list of n - 1 lists,
 * every 8th holding itself (a live cycle), so n tracked containers plus
 * the interpreter's own. Then, per line "K" on stdin, K full collections,
 * answered with their total ns on stdout (perf_counter_ns around each
 * gc.collect(), as rcbench-gc does). Anything found unreachable is a
 * broken heap: exit 3. */
static const char cpython_gc_script[] =
    "import gc, sys, time\n"
    "n = int(sys.argv[1])\n"
    "gc.disable()\n"
    "x = [[] for _ in range(n - 1)]\n"
    "for l in x[::8]:\n"
    "    l.append(l)\n"
    "gc.collect()\n"
    "print(len(gc.get_objects()), flush=True)\n"
    "for line in sys.stdin:\n"
    "    t = 0\n"
    "    for _ in range(int(line)):\n"
    "        t0 = time.perf_counter_ns()\n"
    "        if gc.collect() != 0:\n"
    "            sys.exit(3)\n"
    "        t += time.perf_counter_ns() - t0\n"
    "    print(t, flush=True)\n";

typedef struct cpy_ctx {
    pid_t pid;
    FILE *to, *from;
    uint64_t tracked, last_ns;
    bool pinned;
} cpy_ctx_t;

#define PYTHON "/usr/bin/python3"

static void *cpy_setup(uint64_t n)
{
    cpy_ctx_t *c = must_mem(calloc(1, sizeof *c));
    /* A python that dies makes our next write fail (EPIPE, reported
     * below) rather than kill rcbench silently. */
    signal(SIGPIPE, SIG_IGN);
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        rc_fatal("cpython-gc: pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    char nbuf[32];
    snprintf(nbuf, sizeof nbuf, "%llu", (unsigned long long)n);
    /* -I: isolated, so no PYTHON* variable or user site changes the heap. */
    char *argv[] = { "python3", "-I", "-c", (char *)cpython_gc_script, nbuf, NULL };
    extern char **environ;
    int rc = posix_spawn(&c->pid, PYTHON, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc != 0)
        rc_fatal("cpython-gc: cannot run %s: %s (tools/deps.sh installs python3)", PYTHON, strerror(rc));
    c->to = fdopen(in[1], "w");
    c->from = fdopen(out[0], "r");
    if (c->to == NULL || c->from == NULL)
        rc_fatal("cpython-gc: fdopen: %s", strerror(errno));
    unsigned long long tracked;
    if (fscanf(c->from, "%llu", &tracked) != 1)
        rc_fatal("cpython-gc: %s did not build the heap", PYTHON);
    c->tracked = tracked;
    return c;
}

static uint64_t cpy_run(void *ctx, unsigned thread, uint64_t n)
{
    (void)thread;
    cpy_ctx_t *c = ctx;
    /* The first run: python moves to the PU the harness pinned this thread
     * to (setup ran before the pinning), as rcbench's own gc_pause runs. */
    if (!c->pinned) {
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof set, &set) == 0)
            (void)sched_setaffinity(c->pid, sizeof set, &set);
        c->pinned = true;
    }
    unsigned long long ns;
    if (fprintf(c->to, "%llu\n", (unsigned long long)n) < 0 || fflush(c->to) != 0 ||
        fscanf(c->from, "%llu", &ns) != 1)
        rc_fatal("cpython-gc: %s stopped answering (a collection found garbage, or it died)", PYTHON);
    c->last_ns = ns;
    return ns;
}

static void cpy_teardown(void *ctx)
{
    cpy_ctx_t *c = ctx;
    fclose(c->to);                       /* end of input: the script ends */
    fclose(c->from);
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        rc_fatal("cpython-gc: %s ended badly (status %#x): its timings are not to be trusted", PYTHON, status);
    free(c);
}

static uint64_t cpy_self_ns(void *ctx) { return ((cpy_ctx_t *)ctx)->last_ns; }
static uint64_t cpy_tracked(void *ctx) { return ((cpy_ctx_t *)ctx)->tracked; }

static void *cpy_10k(const bench_params_t *p, unsigned t) { (void)p, (void)t; return cpy_setup(10000); }
static void *cpy_100k(const bench_params_t *p, unsigned t) { (void)p, (void)t; return cpy_setup(100000); }
static void *cpy_1m(const bench_params_t *p, unsigned t) { (void)p, (void)t; return cpy_setup(1000000); }

const bench_strategy_t bench_cpython_gc_peer = {
    .name = "cpython-gc",
    .header_bytes = 16,                  /* ob_refcnt, ob_type (PyGC_Head not counted, as ours is not) */
    /* gc_figures NULL: its collections are the workload itself, timed in
     * python; the gc cells stay empty rather than show rcbench's zeros. */
    .gc_tracked = cpy_tracked,
    .peer = true,
    .own_allocator = "pymalloc",
    .self_ns = cpy_self_ns,
    .nworkloads = 3,
    .w = {
        { "gc_pause_10k", "gc.collect(), 10k live containers", 1, 1, 1, false, 1, cpy_10k, cpy_run, cpy_teardown, NULL },
        { "gc_pause_100k", "gc.collect(), 100k live containers", 1, 1, 1, false, 1, cpy_100k, cpy_run, cpy_teardown,
          NULL },
        { "gc_pause_1m", "gc.collect(), 1M live containers", 1, 1, 1, false, 1, cpy_1m, cpy_run, cpy_teardown, NULL },
    },
};
