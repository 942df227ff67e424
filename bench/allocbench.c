/* bench/allocbench.c — rcbench-alloc, the allocator benchmark.
 *
 * For every backend the build has (alloc_backend_names()), measures the cost
 * of one alloc_malloc + alloc_free pair, in ns, for each size and pattern:
 *   lifo      one thread: malloc, touch, free, n times (the best case: the
 *             block just freed is the next one handed out);
 *   batch     one thread: malloc BATCH blocks, then free them in allocation
 *             order, repeated (free lists and pages are walked, not reused);
 *   prodcons  two threads: thread 0 mallocs and hands each block through a
 *             bounded SPSC ring to thread 1, which frees it, so every free
 *             is remote (by a thread that does not own the block);
 * and the memory cost of a large live heap:
 *   rss       in a forked child per backend (VmHWM is per process), build a
 *             complete binary tree of 48-byte nodes; report the peak-RSS
 *             growth over the bytes requested.
 * Method: each measurement is real time (CLOCK_MONOTONIC) over --ops pairs,
 * after an untimed warm-up of the same case; --reps repetitions, each
 * running every case on every backend with the backend order rotated, so
 * drift on a shared machine hits all backends alike; median and min..max.
 * Threading: thread 0 is main; thread 1 is a worker that lives for the
 * whole timed run and only ever consumes in prodcons. With two usable CPUs
 * each is pinned to its own. The backend is switched (alloc_backend_select)
 * only while thread 1 waits at a barrier, i.e. at quiescence. The rss
 * children are forked before thread 1 exists.
 * Every figure printed has passed its checks; a failed check exits 1
 * before any figure is printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "base/arch.h"
#include "base/clock.h"
#include "base/atomic.h"
#include "base/compiler.h"

#define PROG "rcbench-alloc"

/* Blocks per batch in the batch pattern: the figure. */
#define BATCH 1000
/* Ring slots (a power of two). As large as a batch, so the producer can run
 * up to a batch ahead of the consumer, as in the batch pattern. */
#define RING_SLOTS 1024u
_Static_assert((RING_SLOTS & (RING_SLOTS - 1)) == 0, "RING_SLOTS must be a power of two");
/* Spins (cpu_relax) before a waiting thread yields its CPU: short enough
 * that an unpinned run on one CPU, or a partner the host descheduled, costs
 * a few microseconds per stall, not a time slice. */
#define SPIN_BEFORE_YIELD 1024u
/* Items between publications of a ring index (see ring_spsc_t). */
#define RING_PUBLISH 64u

#define MAX_BACKENDS 16
#define MAX_SIZES 32
#define MAX_REPS 1000
#define MIN_SIZE 8              /* a block carries an 8-byte sequence number */
#define MAX_SIZE (1u << 20)
#define MAX_DEPTH 24            /* 2^25 - 1 nodes: 1.5 GiB of nodes */
#define NODE_BYTES 48

/* Defaults. 2M pairs per measurement is 10 ms (lifo) to 1 s (a slow
 * remote free) per cell on the 2-vCPU EPYC VM: far above timer and
 * scheduler granularity. The rss tree of depth 20 is 2M nodes, 96 MiB.
 * With five backends the default run takes about 40 s on a quiet machine
 * (the output's last line says how long it took). */
#define DEF_REPS 5
#define DEF_OPS 2000000u
#define DEF_DEPTH 20
#define QUICK_REPS 3
#define QUICK_OPS 20000u
#define QUICK_DEPTH 10

enum { P_LIFO, P_BATCH, P_PRODCONS, P_RSS, NPATTERNS };
#define NTIMED P_RSS            /* patterns before P_RSS are timed */
static const char *const pattern_name[NPATTERNS] = { "lifo", "batch", "prodcons", "rss" };
static const unsigned pattern_threads[NPATTERNS] = { 1, 1, 2, 1 };
static const size_t default_sizes[] = { 16, 32, 64, 128, 256 };

static struct {
    unsigned reps;
    uint64_t ops;
    size_t sizes[MAX_SIZES];
    unsigned nsizes;
    const char *backends_arg;             /* --backends, NULL: all */
    const char *backends[MAX_BACKENDS];   /* names from the alloc table */
    unsigned nbackends;
    bool pattern[NPATTERNS];
    unsigned depth;
    const char *csv;
} opt;

/* ------------------------------------------------------------------------
 * Errors: bad input exits 2 naming the flag; a failed check exits 1.
 * ---------------------------------------------------------------------- */
static char csv_tmp[PATH_MAX];   /* FILE.tmp once created; removed on failure */
static pid_t main_pid;

static RC_NORETURN RC_PRINTF(2, 3) void usage_error(const char *flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": %s: ", flag);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (csv_tmp[0])
        unlink(csv_tmp);
    exit(2);
}

/* Any thread, or an rss child: report and leave at once (the other thread
 * may be mid-measurement, so no exit handlers). */
static RC_NORETURN RC_PRINTF(1, 2) void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": FAILED: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (csv_tmp[0] && getpid() == main_pid)
        unlink(csv_tmp);
    _exit(1);
}

/* ------------------------------------------------------------------------
 * Command line
 * ---------------------------------------------------------------------- */
static void usage(FILE *f)
{
    fprintf(f,
"usage: " PROG " [options]\n"
"Measures ns per alloc_malloc+alloc_free pair for every allocator backend\n"
"(patterns lifo, batch, prodcons) and peak RSS of a tree of 48-byte nodes (rss).\n"
"  --reps N          repetitions, interleaved across backends (default %d)\n"
"  --ops N           alloc+free pairs per measurement (default %u)\n"
"  --sizes LIST      block sizes in bytes, comma-separated (default 16,32,64,128,256)\n"
"  --backends LIST   backends to compare (default: all this build has: %s)\n"
"  --patterns LIST   of lifo,batch,prodcons,rss (default: all)\n"
"  --tree-depth N    depth of the rss tree: 2^(N+1)-1 nodes (default %d)\n"
"  --csv FILE        also write a tidy CSV to FILE (via FILE.tmp, renamed at the end)\n"
"  --quick           tiny counts for smoke tests (reps %d, ops %u, depth %d)\n"
"  --help            this text\n"
"Exit status: 0 ok, 1 a correctness check failed, 2 bad command line.\n",
            DEF_REPS, DEF_OPS, alloc_backend_names(), DEF_DEPTH, QUICK_REPS, QUICK_OPS,
            QUICK_DEPTH);
}

static uint64_t parse_u64(const char *flag, const char *s, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    unsigned long long v = (*s >= '0' && *s <= '9') ? strtoull(s, &end, 10) : 0;
    if (*s < '0' || *s > '9' || errno || *end || v < lo || v > hi)
        usage_error(flag, "expected an integer in %" PRIu64 "..%" PRIu64 ", got '%s'", lo, hi, s);
    return (uint64_t)v;
}

/* Copies the next comma-separated item of *P (spaces around it trimmed)
 * into BUF; false at the end of the list. An empty item is an error. */
static bool list_next(const char *flag, const char **p, char *buf, size_t cap)
{
    const char *s = *p;
    if (s == NULL)
        return false;
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    *p = comma ? comma + 1 : NULL;
    while (len && *s == ' ')
        s++, len--;
    while (len && s[len - 1] == ' ')
        len--;
    if (len == 0)
        usage_error(flag, "empty item in the list");
    if (len >= cap)
        usage_error(flag, "item '%.*s' is too long", (int)len, s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    return true;
}

static bool in_list(const char *list, const char *name)
{
    char item[64];
    while (list_next("list", &list, item, sizeof item))
        if (strcmp(item, name) == 0)
            return true;
    return false;
}

/* Backends of the build's list that failed to load, and why. */
static char skipped[512];

/* Resolves LIST (FLAG's value, or NULL for every backend of the build).
 * alloc_backend_find loads a peer, so only the backends asked for are
 * loaded. One the build has that fails to load is an error when asked for
 * by name, and skipped (and reported in the output) by default. */
static void parse_backends(const char *flag, const char *list)
{
    const char *known = alloc_backend_names();
    bool by_default = list == NULL;
    char name[64];
    if (by_default)
        list = known;
    opt.nbackends = 0;
    while (list_next(flag, &list, name, sizeof name)) {
        if (!in_list(known, name))
            usage_error(flag, "unknown backend '%s' (this build has: %s)", name, known);
        const alloc_backend_t *b = alloc_backend_find(name);
        if (b == NULL && !by_default)
            usage_error(flag, "backend '%s' failed to load: %s", name, alloc_backend_error());
        if (b == NULL) {
            size_t used = strlen(skipped);
            snprintf(skipped + used, sizeof skipped - used, "%s%s", used ? "; " : "",
                     alloc_backend_error());
            continue;
        }
        for (unsigned i = 0; i < opt.nbackends; i++)
            if (strcmp(opt.backends[i], b->name) == 0)
                usage_error(flag, "backend '%s' listed twice", name);
        if (opt.nbackends == MAX_BACKENDS)
            usage_error(flag, "more than %d backends", MAX_BACKENDS);
        opt.backends[opt.nbackends++] = b->name;
    }
    if (opt.nbackends == 0)
        usage_error(flag, "no backend could be loaded (%s)", skipped);
}

static void parse_args(int argc, char **argv)
{
    bool reps_set = false, ops_set = false, depth_set = false, quick = false;
    opt.reps = DEF_REPS;
    opt.ops = DEF_OPS;
    opt.depth = DEF_DEPTH;
    opt.nsizes = sizeof default_sizes / sizeof default_sizes[0];
    memcpy(opt.sizes, default_sizes, sizeof default_sizes);
    for (int p = 0; p < NPATTERNS; p++)
        opt.pattern[p] = true;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--quick") == 0) {
            quick = true;
            continue;
        }
        bool known = strcmp(a, "--reps") == 0 || strcmp(a, "--ops") == 0 ||
                     strcmp(a, "--sizes") == 0 || strcmp(a, "--backends") == 0 ||
                     strcmp(a, "--patterns") == 0 || strcmp(a, "--tree-depth") == 0 ||
                     strcmp(a, "--csv") == 0;
        if (!known)
            usage_error(a, "unknown option (see " PROG " --help)");
        if (i + 1 >= argc)
            usage_error(a, "missing value");
        const char *v = argv[++i];
        if (strcmp(a, "--reps") == 0) {
            opt.reps = (unsigned)parse_u64(a, v, 1, MAX_REPS);
            reps_set = true;
        } else if (strcmp(a, "--ops") == 0) {
            opt.ops = parse_u64(a, v, 1, UINT64_C(1000000000000));
            ops_set = true;
        } else if (strcmp(a, "--tree-depth") == 0) {
            opt.depth = (unsigned)parse_u64(a, v, 1, MAX_DEPTH);
            depth_set = true;
        } else if (strcmp(a, "--sizes") == 0) {
            char item[32];
            opt.nsizes = 0;
            while (list_next(a, &v, item, sizeof item)) {
                size_t s = (size_t)parse_u64(a, item, MIN_SIZE, MAX_SIZE);
                for (unsigned k = 0; k < opt.nsizes; k++)
                    if (opt.sizes[k] == s)
                        usage_error(a, "size %zu listed twice", s);
                if (opt.nsizes == MAX_SIZES)
                    usage_error(a, "more than %d sizes", MAX_SIZES);
                opt.sizes[opt.nsizes++] = s;
            }
        } else if (strcmp(a, "--backends") == 0) {
            opt.backends_arg = v;   /* resolved in main: resolving loads them */
        } else if (strcmp(a, "--patterns") == 0) {
            char item[32];
            for (int p = 0; p < NPATTERNS; p++)
                opt.pattern[p] = false;
            while (list_next(a, &v, item, sizeof item)) {
                int p = 0;
                while (p < NPATTERNS && strcmp(item, pattern_name[p]) != 0)
                    p++;
                if (p == NPATTERNS)
                    usage_error(a, "unknown pattern '%s' (known: lifo, batch, prodcons, rss)", item);
                opt.pattern[p] = true;
            }
        } else {
            if (strlen(v) == 0 || strlen(v) + sizeof ".tmp" > sizeof csv_tmp)
                usage_error(a, "bad file name '%s'", v);
            opt.csv = v;
        }
    }
    if (quick) {   /* explicit options win, in whatever order they came */
        if (!reps_set)
            opt.reps = QUICK_REPS;
        if (!ops_set)
            opt.ops = QUICK_OPS;
        if (!depth_set)
            opt.depth = QUICK_DEPTH;
    }
}

/* Creates FILE.tmp now, so an unwritable path is refused before the run. */
static FILE *csv_open(void)
{
    struct stat st;
    if (stat(opt.csv, &st) == 0 && S_ISDIR(st.st_mode))
        usage_error("--csv", "'%s' is a directory", opt.csv);
    snprintf(csv_tmp, sizeof csv_tmp, "%s.tmp", opt.csv);
    FILE *f = fopen(csv_tmp, "w");
    if (f == NULL) {
        int e = errno;
        csv_tmp[0] = '\0';   /* not ours to remove */
        usage_error("--csv", "cannot write '%s.tmp': %s", opt.csv, strerror(e));
    }
    return f;
}

/* ------------------------------------------------------------------------
 * Machine, clock, /proc
 * ---------------------------------------------------------------------- */
static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        /* x86: "model name"; ARM64 kernels report no name, only "CPU part". */
        bool name = strncmp(line, "model name", 10) == 0;
        if (!name && strncmp(line, "CPU part", 8) != 0)
            continue;
        char *v = strchr(line, ':');
        if (v == NULL)
            continue;
        v += strspn(v + 1, " \t") + 1;
        v[strcspn(v, "\n")] = '\0';
        snprintf(out, cap, name ? "%s" : "ARM CPU part %s", v);
        break;
    }
    fclose(f);
}

/* KEY's value in /proc/self/status, in kB. Reads with open/read into a
 * stack buffer: no allocation, so it never disturbs the heap it measures. */
static uint64_t status_kb(const char *key)
{
    char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail("rss: cannot open /proc/self/status: %s", strerror(errno));
    size_t len = 0;
    ssize_t got;
    while (len < sizeof buf - 1 && (got = read(fd, buf + len, sizeof buf - 1 - len)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            fail("rss: cannot read /proc/self/status: %s", strerror(errno));
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    size_t klen = strlen(key);
    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, key, klen) == 0 && l[klen] == ':')
            return strtoull(l + klen + 1, NULL, 10);
    fail("rss: no %s in /proc/self/status", key);
}

/* Pins the calling thread to CPU and checks that it landed there; false
 * (and errno) if the system refuses. */
static bool pin_self(int cpu, const char *who)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        return false;
    if (sched_getcpu() != cpu)
        fail("%s pinned to CPU %d but runs on CPU %d", who, cpu, sched_getcpu());
    return true;
}

/* ------------------------------------------------------------------------
 * Kernels. The first word of every block gets a sequence number: one store
 * per block (a block is memory a program writes, and the store makes every
 * backend's block resident), which batch and prodcons read back to check
 * that no block was handed out twice, lost or duplicated.
 * Each returns the elapsed real time of its n pairs.
 * ---------------------------------------------------------------------- */
static RC_NORETURN RC_COLD void fail_oom(const char *pattern, size_t size)
{
    fail("%s: backend %s returned NULL for %zu bytes", pattern, alloc_current->name, size);
}

static RC_NOINLINE uint64_t run_lifo(size_t size, uint64_t n)
{
    uint64_t t0 = rc_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t *p = alloc_malloc(size);
        if (RC_UNLIKELY(p == NULL))
            fail_oom("lifo", size);
        *p = i;
        RC_COMPILER_BARRIER();   /* the store is not dead: free may read it */
        alloc_free(p, size);
    }
    return rc_now_ns() - t0;
}

static uint64_t *batch_blocks[BATCH];   /* thread 0 only */

static RC_NOINLINE uint64_t run_batch(size_t size, uint64_t n)
{
    uint64_t t0 = rc_now_ns();
    for (uint64_t done = 0; done < n;) {
        unsigned k = n - done < BATCH ? (unsigned)(n - done) : BATCH;
        for (unsigned j = 0; j < k; j++) {
            uint64_t *p = alloc_malloc(size);
            if (RC_UNLIKELY(p == NULL))
                fail_oom("batch", size);
            *p = done + j;
            batch_blocks[j] = p;
        }
        /* Freed in allocation order (FIFO): LIFO order is pattern lifo's. */
        for (unsigned j = 0; j < k; j++) {
            if (RC_UNLIKELY(*batch_blocks[j] != done + j))
                fail("batch: block %u of a batch of %zu-byte blocks from %s was overwritten "
                     "(handed out twice?)", j, size, alloc_current->name);
            alloc_free(batch_blocks[j], size);
        }
        done += k;
    }
    return rc_now_ns() - t0;
}

/* The SPSC ring from thread 0 (producer) to thread 1 (consumer). Indices
 * count from 0 (thread 0 resets them before each start barrier, while
 * thread 1 waits there); slot i % RING_SLOTS holds item i.
 * Invariants: head <= tail <= head + RING_SLOTS; tail is written by the
 * producer only, head by the consumer only, each alone on its cache line.
 * Slots are plain: the release/acquire pairs on the indices hand them over.
 * Each thread publishes its index every RING_PUBLISH items and before it
 * waits (and at the end), and reads its partner's only when the ring looks
 * full (producer) or empty (consumer): the harness's own cache-line traffic
 * stays a small part of what is measured, which is the allocator's (the
 * block itself still crosses from thread 0 to thread 1, as remote frees do). */
typedef struct ring_spsc {
    alignas(RC_CACHE_LINE) RC_ATOMIC(uint64_t) tail;  /* shared: producer writes */
    alignas(RC_CACHE_LINE) RC_ATOMIC(uint64_t) head;  /* shared: consumer writes */
    alignas(RC_CACHE_LINE) uint64_t *slot[RING_SLOTS];
} ring_spsc_t;

/* One thread's private view of the ring (on its own stack): its own index,
 * the value of it last published, its partner's index as last read. */
typedef struct ring_end {
    uint64_t next, published, seen;
} ring_end_t;

static ring_spsc_t ring;

static inline void spin_wait(unsigned *spins)
{
    if (++*spins < SPIN_BEFORE_YIELD) {
        rc_cpu_relax();
    } else {
        *spins = 0;
        sched_yield();
    }
}

static inline void ring_publish_tail(ring_spsc_t *r, ring_end_t *e)
{
    /* Release pairs with the consumer's acquire load of tail in
     * ring_pop_spsc: publishes the slots below e->next, the blocks'
     * sequence numbers and (so malloc happens-before the remote free) the
     * allocator's writes. A plain mov on x86-64 (TSO), stlr on ARM64. */
    at_store_release(&r->tail, e->next);
    e->published = e->next;
}

static inline void ring_publish_head(ring_spsc_t *r, ring_end_t *e)
{
    /* Release pairs with the producer's acquire load of head in
     * ring_push_spsc: our reads of the slots below e->next are done, so
     * they may be overwritten. */
    at_store_release(&r->head, e->next);
    e->published = e->next;
}

static inline void ring_push_spsc(ring_spsc_t *r, ring_end_t *e, uint64_t *p)
{
    if (e->next - e->seen == RING_SLOTS) {
        unsigned spins = 0;
        ring_publish_tail(r, e);   /* the consumer must see all before we wait */
        /* Acquire pairs with the consumer's release in ring_publish_head:
         * its reads of the slots we are about to reuse happened before. */
        while (e->next - (e->seen = at_load_acquire(&r->head)) == RING_SLOTS)
            spin_wait(&spins);
    }
    r->slot[e->next++ % RING_SLOTS] = p;
    if (e->next - e->published >= RING_PUBLISH)
        ring_publish_tail(r, e);
}

static inline uint64_t *ring_pop_spsc(ring_spsc_t *r, ring_end_t *e)
{
    if (e->next == e->seen) {
        unsigned spins = 0;
        ring_publish_head(r, e);   /* a producer waiting on a full ring needs it */
        /* Acquire pairs with the producer's release in ring_publish_tail:
         * the slot and the block it points to are ready. */
        while (e->next == (e->seen = at_load_acquire(&r->tail)))
            spin_wait(&spins);
    }
    uint64_t *p = r->slot[e->next++ % RING_SLOTS];
    if (e->next - e->published >= RING_PUBLISH)
        ring_publish_head(r, e);
    return p;
}

/* Thread 1. The job fields are written by thread 0 before the start
 * barrier and read by thread 1 after it; the result fields the other way
 * round across the done barrier (pthread barriers order memory). */
static struct {
    pthread_barrier_t start, done;
    pthread_t thread;
    bool running;
    int cpu;                /* -1: unpinned */
    size_t size;            /* job */
    uint64_t n;             /* job */
    bool quit;              /* job */
    uint64_t freed;         /* result */
    uint64_t end_ns;        /* result: when the last block was freed */
} worker;

static RC_NOINLINE void consume(size_t size, uint64_t n)
{
    ring_end_t e = { 0, 0, 0 };
    uint64_t freed = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t *p = ring_pop_spsc(&ring, &e);
        if (RC_UNLIKELY(*p != i))
            fail("prodcons: thread 1 received block %" PRIu64 " where %" PRIu64
                 " was due (ring or allocator lost, reordered or duplicated a block)", *p, i);
        alloc_free(p, size);
        freed++;
    }
    worker.end_ns = rc_now_ns();
    ring_publish_head(&ring, &e);
    worker.freed = freed;
}

static void *worker_main(void *arg)
{
    (void)arg;
    if (worker.cpu >= 0 && !pin_self(worker.cpu, "thread 1"))
        fail("cannot pin thread 1 to CPU %d: %s", worker.cpu, strerror(errno));
    for (;;) {
        pthread_barrier_wait(&worker.start);
        if (worker.quit)
            return NULL;
        consume(worker.size, worker.n);
        pthread_barrier_wait(&worker.done);
    }
}

/* Real time from thread 0's first malloc to thread 1's last free. Thread 1
 * wakes from the barrier a few microseconds late; the ring absorbs that and
 * it is noise against n pairs. */
static RC_NOINLINE uint64_t run_prodcons(size_t size, uint64_t n)
{
    ring_end_t e = { 0, 0, 0 };
    worker.size = size;
    worker.n = n;
    /* Relaxed: thread 1 is waiting at the barrier, which orders these. */
    at_store_relaxed(&ring.head, 0);
    at_store_relaxed(&ring.tail, 0);
    pthread_barrier_wait(&worker.start);
    uint64_t t0 = rc_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t *p = alloc_malloc(size);
        if (RC_UNLIKELY(p == NULL))
            fail_oom("prodcons", size);
        *p = i;
        ring_push_spsc(&ring, &e, p);
    }
    ring_publish_tail(&ring, &e);
    pthread_barrier_wait(&worker.done);
    uint64_t head = at_load_relaxed(&ring.head), tail = at_load_relaxed(&ring.tail);
    if (worker.freed != n || head != n || tail != n)
        fail("prodcons: thread 0 allocated %" PRIu64 " blocks, thread 1 freed %" PRIu64
             ", ring indices %" PRIu64 "..%" PRIu64, n, worker.freed, head, tail);
    return worker.end_ns - t0;
}

static uint64_t run_pattern(int pattern, size_t size, uint64_t n)
{
    switch (pattern) {
    case P_LIFO: return run_lifo(size, n);
    case P_BATCH: return run_batch(size, n);
    default: return run_prodcons(size, n);
    }
}

/* ------------------------------------------------------------------------
 * One measurement, and the checks around it
 * ---------------------------------------------------------------------- */
static void select_backend(const char *name)
{
    if (!alloc_backend_select(name) || strcmp(alloc_current->name, name) != 0)
        fail("alloc_backend_select(\"%s\") did not make it current", name);
}

/* The arena counts every block it serves, so for the arena the pairs must
 * show up exactly (and, in prodcons, as remote frees) with live blocks back
 * where they were; for any other backend the arena must not have moved,
 * which proves the selection took effect. Quiescent: the counts are exact. */
static void check_arena_counts(const char *what, const char *backend, size_t size,
                               const alloc_stats_t *s0, const alloc_stats_t *s1,
                               uint64_t pairs, bool all_remote)
{
    bool arena = strcmp(backend, "arena") == 0;
    uint64_t want = arena ? pairs : 0;
    uint64_t alloc = s1->allocated - s0->allocated, freed = s1->freed - s0->freed;
    uint64_t remote = s1->remote_frees - s0->remote_frees;
    if (alloc != want || freed != want || s1->live_blocks != s0->live_blocks)
        fail("%s, %zu bytes, backend %s: the arena counted %" PRIu64 " allocations and %" PRIu64
             " frees (expected %" PRIu64 " each), live blocks %" PRIu64 " -> %" PRIu64,
             what, size, backend, alloc, freed, want, s0->live_blocks, s1->live_blocks);
    if (arena && all_remote && size <= ALLOC_ARENA_MAX_SMALL && remote != pairs)
        fail("%s, %zu bytes: %" PRIu64 " of %" PRIu64 " frees were remote in the arena's count",
             what, size, remote, pairs);
}

/* ns per pair of one measurement: an untimed warm-up of the same case
 * first (an eighth of the pairs, at least a batch), because the previous
 * measurement ran another backend or size and this one should see the
 * backend's steady state, not its first page faults and cache refills. */
static double measure(int pattern, const char *backend, size_t size, uint64_t n)
{
    uint64_t warm = n / 8 > BATCH ? n / 8 : BATCH;
    alloc_stats_t s0, s1;
    select_backend(backend);
    alloc_arena_stats(&s0);
    run_pattern(pattern, size, warm);
    uint64_t ns = run_pattern(pattern, size, n);
    alloc_arena_stats(&s1);
    check_arena_counts(pattern_name[pattern], backend, size, &s0, &s1, warm + n,
                       pattern == P_PRODCONS);
    return (double)ns / (double)n;
}

/* ------------------------------------------------------------------------
 * rss: the tree, in a forked child per backend
 * ---------------------------------------------------------------------- */
typedef struct tree_node {
    struct tree_node *left, *right;
    uint64_t seq;            /* preorder number: the check */
    uint64_t payload[3];     /* seq * 3 + k */
} tree_node_t;
_Static_assert(sizeof(tree_node_t) == NODE_BYTES, "tree nodes are 48 bytes");

typedef struct rss_result {
    uint64_t nodes;
    uint64_t hwm_before_kb, hwm_after_kb;
} rss_result_t;

static tree_node_t *tree_build(unsigned depth, uint64_t *next)
{
    tree_node_t *t = alloc_malloc(sizeof *t);
    if (t == NULL)
        fail("rss: backend %s returned NULL at node %" PRIu64, alloc_current->name, *next);
    t->seq = (*next)++;
    for (int k = 0; k < 3; k++)
        t->payload[k] = t->seq * 3 + (uint64_t)k;
    t->left = depth ? tree_build(depth - 1, next) : NULL;
    t->right = depth ? tree_build(depth - 1, next) : NULL;
    return t;
}

/* Every node must still hold its own preorder number and payload, so no
 * two live nodes share memory. */
static void tree_check(const tree_node_t *t, uint64_t *next)
{
    if (t == NULL)
        return;
    if (t->seq != *next || t->payload[0] != t->seq * 3 || t->payload[2] != t->seq * 3 + 2)
        fail("rss: backend %s: tree node %" PRIu64 " was overwritten", alloc_current->name, *next);
    (*next)++;
    tree_check(t->left, next);
    tree_check(t->right, next);
}

static void tree_free(tree_node_t *t)
{
    if (t == NULL)
        return;
    tree_free(t->left);
    tree_free(t->right);
    alloc_free(t, sizeof *t);
}

/* In the child. The kernel sets a child's VmHWM to its RSS at fork, so
 * VmHWM before the build is the baseline and after it the peak. */
static RC_NORETURN void rss_child(const char *backend, int fd)
{
    alloc_stats_t s0, s1;
    select_backend(backend);
    alloc_arena_stats(&s0);
    rss_result_t r = { .hwm_before_kb = status_kb("VmHWM") };
    uint64_t nodes = 0, seen = 0;
    tree_node_t *root = tree_build(opt.depth, &nodes);
    r.hwm_after_kb = status_kb("VmHWM");
    tree_check(root, &seen);
    if (nodes != (UINT64_C(2) << opt.depth) - 1 || seen != nodes)
        fail("rss: backend %s: built %" PRIu64 " nodes, found %" PRIu64 ", expected %" PRIu64,
             backend, nodes, seen, (UINT64_C(2) << opt.depth) - 1);
    tree_free(root);
    alloc_arena_stats(&s1);
    check_arena_counts("rss", backend, NODE_BYTES, &s0, &s1, nodes, false);
    r.nodes = nodes;
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r)
        fail("rss: cannot report to the parent: %s", strerror(errno));
    _exit(0);
}

static void rss_measure(const char *backend, rss_result_t *out)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        fail("rss: pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        fail("rss: fork: %s", strerror(errno));
    if (pid == 0) {
        close(pfd[0]);
        rss_child(backend, pfd[1]);
    }
    close(pfd[1]);
    ssize_t got;
    do
        got = read(pfd[0], out, sizeof *out);
    while (got < 0 && errno == EINTR);
    close(pfd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            fail("rss: waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof *out)
        fail("rss: the child measuring backend %s failed (%s %d)", backend,
             WIFEXITED(status) ? "exit status" : "signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/* ------------------------------------------------------------------------
 * Statistics and output
 * ---------------------------------------------------------------------- */
typedef struct cell {
    double med, min, max;
    const double *raw;       /* the repetitions, in run order */
} cell_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static cell_t summarise(const double *v, unsigned n)
{
    double s[MAX_REPS];
    memcpy(s, v, n * sizeof *v);
    qsort(s, n, sizeof *s, cmp_double);
    cell_t c = { n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2, s[0], s[n - 1], v };
    return c;
}

/* Three significant figures or so, whatever the magnitude. */
static const char *fmt_ns(char *buf, size_t cap, double v)
{
    snprintf(buf, cap, v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%.0f", v);
    return buf;
}

static int backend_index(const char *name)
{
    for (unsigned b = 0; b < opt.nbackends; b++)
        if (strcmp(opt.backends[b], name) == 0)
            return (int)b;
    return -1;
}

/* "1.23x": the ratio of the medians; "~" when the two backends, compared
 * repetition by repetition (measured back to back, so sharing that
 * moment's machine), did not have the same winner every time. A paired
 * test, because one disturbed repetition stretches both min..max ranges
 * without saying anything about the order. */
static void fmt_ratio(char *buf, size_t cap, const cell_t *a, const cell_t *b, const char *tag)
{
    unsigned a_wins = 0;
    for (unsigned r = 0; r < opt.reps; r++)
        a_wins += a->raw[r] < b->raw[r];
    bool mixed = a_wins != 0 && a_wins != opt.reps;
    snprintf(buf, cap, "%.2fx%s%s%s%s", a->med / b->med, mixed ? "~" : "", tag ? " (" : "",
             tag ? tag : "", tag ? ")" : "");
}

#define CELL_CHARS 64

static void print_timings(cell_t (*res)[MAX_SIZES][MAX_BACKENDS])
{
    int ia = backend_index("arena"), ig = backend_index("glibc");
    bool peers = ia >= 0 && opt.nbackends > 1;
    unsigned ncol = opt.nbackends + 2;
    static char text[NTIMED * MAX_SIZES][MAX_BACKENDS + 2][CELL_CHARS];
    int width[MAX_BACKENDS + 2];
    unsigned nrow = 0;

    for (unsigned b = 0; b < opt.nbackends; b++)
        width[b] = (int)strlen(opt.backends[b]);
    width[opt.nbackends] = (int)strlen("arena/glibc");
    width[opt.nbackends + 1] = (int)strlen("arena/fastest peer");
    for (int p = 0; p < NTIMED; p++) {
        if (!opt.pattern[p])
            continue;
        for (unsigned s = 0; s < opt.nsizes; s++, nrow++) {
            const cell_t *c = res[p][s];
            for (unsigned b = 0; b < opt.nbackends; b++) {
                char m[16], lo[16], hi[16];
                snprintf(text[nrow][b], CELL_CHARS, "%s [%s..%s]", fmt_ns(m, sizeof m, c[b].med),
                         fmt_ns(lo, sizeof lo, c[b].min), fmt_ns(hi, sizeof hi, c[b].max));
            }
            strcpy(text[nrow][opt.nbackends], "-");
            strcpy(text[nrow][opt.nbackends + 1], "-");
            if (ia >= 0 && ig >= 0)
                fmt_ratio(text[nrow][opt.nbackends], CELL_CHARS, &c[ia], &c[ig], NULL);
            if (peers) {
                int best = -1;
                for (unsigned b = 0; b < opt.nbackends; b++)
                    if ((int)b != ia && (best < 0 || c[b].med < c[best].med))
                        best = (int)b;
                fmt_ratio(text[nrow][opt.nbackends + 1], CELL_CHARS, &c[ia], &c[best],
                          opt.backends[best]);
            }
            for (unsigned k = 0; k < ncol; k++)
                if ((int)strlen(text[nrow][k]) > width[k])
                    width[k] = (int)strlen(text[nrow][k]);
        }
    }

    printf("\nns per alloc+free pair: median [min..max] of %u repetitions\n", opt.reps);
    printf("%-9s %7s %5s", "pattern", "threads", "size");
    for (unsigned b = 0; b < opt.nbackends; b++)
        printf("  %-*s", width[b], opt.backends[b]);
    printf("  %-*s  %s\n", width[opt.nbackends], "arena/glibc", "arena/fastest peer");
    nrow = 0;
    for (int p = 0; p < NTIMED; p++) {
        if (!opt.pattern[p])
            continue;
        for (unsigned s = 0; s < opt.nsizes; s++, nrow++) {
            printf("%-9s %7u %5zu", pattern_name[p], pattern_threads[p], opt.sizes[s]);
            for (unsigned k = 0; k < ncol; k++)
                printf("  %-*s", k + 1 == ncol ? 0 : width[k], text[nrow][k]);
            printf("\n");
        }
    }
    printf("ratios: arena's median over the other's, > 1 means the arena is slower; "
           "~ : not the same winner in every repetition.\n");
}

static void print_rss(const rss_result_t *rss)
{
    uint64_t nodes = (UINT64_C(2) << opt.depth) - 1, live = nodes * NODE_BYTES;
    printf("\npeak RSS, complete binary tree of depth %u: %" PRIu64 " nodes x %d B = %.1f MiB "
           "requested, all live at the peak\n", opt.depth, nodes, NODE_BYTES,
           (double)live / 1048576);
    printf("%-9s %16s %18s\n", "backend", "peak RSS growth", "growth/requested");
    for (unsigned b = 0; b < opt.nbackends; b++) {
        uint64_t grew = (rss[b].hwm_after_kb - rss[b].hwm_before_kb) * 1024;
        double ratio = (double)grew / (double)live;
        printf("%-9s %12.1f MiB %17.2fx", opt.backends[b], (double)grew / 1048576, ratio);
        if (strcmp(opt.backends[b], "arena") == 0)
            printf("   arena goal <= 1.25x: %s", ratio <= 1.25 ? "met" : "NOT met");
        printf("\n");
    }
}

static void write_csv(FILE *f, cell_t (*res)[MAX_SIZES][MAX_BACKENDS], const rss_result_t *rss)
{
    fprintf(f, "pattern,size,backend,threads,reps,ops,median_ns,min_ns,max_ns,"
               "live_bytes,peak_rss_growth_bytes,rss_ratio\n");
    for (int p = 0; p < NTIMED; p++)
        for (unsigned s = 0; opt.pattern[p] && s < opt.nsizes; s++)
            for (unsigned b = 0; b < opt.nbackends; b++)
                fprintf(f, "%s,%zu,%s,%u,%u,%" PRIu64 ",%.3f,%.3f,%.3f,,,\n", pattern_name[p],
                        opt.sizes[s], opt.backends[b], pattern_threads[p], opt.reps, opt.ops,
                        res[p][s][b].med, res[p][s][b].min, res[p][s][b].max);
    uint64_t nodes = (UINT64_C(2) << opt.depth) - 1, live = nodes * NODE_BYTES;
    for (unsigned b = 0; opt.pattern[P_RSS] && b < opt.nbackends; b++) {
        uint64_t grew = (rss[b].hwm_after_kb - rss[b].hwm_before_kb) * 1024;
        fprintf(f, "rss,%d,%s,1,1,%" PRIu64 ",,,,%" PRIu64 ",%" PRIu64 ",%.4f\n", NODE_BYTES,
                opt.backends[b], nodes, live, grew, (double)grew / (double)live);
    }
}

/* ------------------------------------------------------------------------
 * main
 * ---------------------------------------------------------------------- */
int main(int argc, char **argv)
{
    main_pid = getpid();
    parse_args(argc, argv);
    FILE *csv = opt.csv ? csv_open() : NULL;
    parse_backends("--backends", opt.backends_arg);   /* last: loads the peers */
    uint64_t t_start = rc_now_ns();

    /* Machine and pinning: thread 0 and thread 1 on the first two CPUs this
     * process may use, when there are two. */
    char model[256];
    cpu_model(model, sizeof model);
    cpu_set_t usable;
    if (sched_getaffinity(0, sizeof usable, &usable) != 0)
        fail("sched_getaffinity: %s", strerror(errno));
    int cpus[2] = { -1, -1 }, ncpus = 0;
    for (int c = 0; c < CPU_SETSIZE && ncpus < 2; c++)
        if (CPU_ISSET(c, &usable))
            cpus[ncpus++] = c;
    /* Thread 0 pins itself now (the rss children inherit it, harmlessly). */
    bool pin = CPU_COUNT(&usable) >= 2 && pin_self(cpus[0], "thread 0");
    int pin_errno = errno;

    printf(PROG ": ns per alloc_malloc+alloc_free pair, and peak RSS of a tree\n");
    printf("machine: %s, %ld CPUs online, %d usable; ", model, sysconf(_SC_NPROCESSORS_ONLN),
           CPU_COUNT(&usable));
    if (pin)
        printf("thread 0 pinned to CPU %d, thread 1 to CPU %d\n", cpus[0], cpus[1]);
    else if (CPU_COUNT(&usable) >= 2)
        printf("UNPINNED: sched_setaffinity failed (%s)\n", strerror(pin_errno));
    else
        printf("UNPINNED: fewer than 2 usable CPUs, so prodcons's threads time-share one\n");
#if defined(__OPTIMIZE__)
    const char *optimised = "optimised";
#else
    const char *optimised = "NOT optimised: the figures are not performance";
#endif
#if defined(__clang__)
    const char *compiler = "";      /* clang's __VERSION__ names it */
#else
    const char *compiler = "gcc ";
#endif
    printf("build: %s, %s%s, %s%s\n", rc_arch_name, compiler, __VERSION__, optimised,
           RC_ASAN ? ", AddressSanitizer: the figures are not performance"
           : RC_TSAN ? ", ThreadSanitizer: the figures are not performance" : "");
    printf("backends:");
    for (unsigned b = 0; b < opt.nbackends; b++)
        printf("%s %s", b ? "," : "", opt.backends[b]);
    printf(" (this build has: %s)\n", alloc_backend_names());
    if (skipped[0])
        printf("SKIPPED, failed to load: %s\n", skipped);
    printf("method: %u repetitions; each runs every case on every backend, backend order "
           "rotated per repetition;\n        %" PRIu64 " pairs per measurement after an untimed "
           "warm-up; batch %d; prodcons ring %u slots\n", opt.reps, opt.ops, BATCH, RING_SLOTS);
    fflush(stdout);

    /* rss first, while the process is single-threaded and no backend has
     * served a block: each child forks from a fresh allocator state. */
    static rss_result_t rss[MAX_BACKENDS];
    if (opt.pattern[P_RSS])
        for (unsigned b = 0; b < opt.nbackends; b++)
            rss_measure(opt.backends[b], &rss[b]);

    static cell_t res[NTIMED][MAX_SIZES][MAX_BACKENDS];
    bool timed = opt.pattern[P_LIFO] || opt.pattern[P_BATCH] || opt.pattern[P_PRODCONS];
    if (timed) {
        worker.cpu = pin ? cpus[1] : -1;
        if (opt.pattern[P_PRODCONS]) {
            if (pthread_barrier_init(&worker.start, NULL, 2) != 0 ||
                pthread_barrier_init(&worker.done, NULL, 2) != 0 ||
                pthread_create(&worker.thread, NULL, worker_main, NULL) != 0)
                fail("cannot start thread 1");
            worker.running = true;
        }
        double *t = calloc((size_t)NTIMED * MAX_SIZES * MAX_BACKENDS * opt.reps, sizeof *t);
        if (t == NULL)
            fail("out of memory for the results");
#define T(p, s, b, r) t[(((size_t)(p) * MAX_SIZES + (s)) * MAX_BACKENDS + (b)) * opt.reps + (r)]
        for (unsigned r = 0; r < opt.reps; r++)
            for (int p = 0; p < NTIMED; p++)
                for (unsigned s = 0; opt.pattern[p] && s < opt.nsizes; s++)
                    for (unsigned k = 0; k < opt.nbackends; k++) {
                        unsigned b = (k + r) % opt.nbackends;
                        T(p, s, b, r) = measure(p, opt.backends[b], opt.sizes[s], opt.ops);
                    }
        for (int p = 0; p < NTIMED; p++)
            for (unsigned s = 0; opt.pattern[p] && s < opt.nsizes; s++)
                for (unsigned b = 0; b < opt.nbackends; b++)
                    res[p][s][b] = summarise(&T(p, s, b, 0), opt.reps);
#undef T
        if (worker.running) {
            worker.quit = true;
            pthread_barrier_wait(&worker.start);
            pthread_join(worker.thread, NULL);
        }
        print_timings(res);
        free(t);
    }
    if (opt.pattern[P_RSS])
        print_rss(rss);
    printf("\nrun took %.1f s\n", (double)(rc_now_ns() - t_start) / 1e9);

    if (csv) {
        write_csv(csv, res, rss);
        bool ok = !ferror(csv);
        ok = (fclose(csv) == 0) && ok;
        if (!ok || rename(csv_tmp, opt.csv) != 0)
            usage_error("--csv", "cannot write '%s': %s", opt.csv, strerror(errno));
        csv_tmp[0] = '\0';
    }
    return 0;
}
