/* tests/alloc/test_arena_stress.c — threads churning the arena (after
 * mimalloc's test/test-stress.c).
 *
 * --threads T workers run at once; each does a seeded random mix over a
 * private array of blocks: allocate (sizes mostly up to 128 bytes, a fifth
 * up to 1 KiB, 1 in 22 up to 4 KiB, so mostly large blocks mapped one by
 * one, and 1 in 200 up to 61 KiB), free, or swap a block with one of
 * SLOTS shared slots by atomic exchange. Every block is filled with a
 * pattern derived from its address and size and verified when it is freed,
 * so a block handed out twice, or clobbered by the allocator's own free
 * lists, is caught. Blocks taken from a slot were mostly allocated by
 * another thread, often one that has exited since: those frees are remote,
 * into pages of live heaps or of abandoned segments.
 * Workers are replaced as they finish (main joins them round-robin and
 * starts a new one in the same place) for GENERATIONS x T threads in all,
 * so segments are abandoned while others still allocate and are adopted by
 * the newcomers, or by main, which calls alloc_arena_collect() each time it
 * replaces a worker (adopting segments whose blocks still circulate, so
 * later frees into them are remote frees to main). A worker leaves half
 * its blocks in the slots when it exits.
 * At the end main frees what is left in the slots, calls
 * alloc_arena_collect(), and checks against the baseline taken at the start
 * (after main's own heap existed): no live block, every allocation freed,
 * no abandoned segment, no page, no segment, no extra heap, and mapped bytes
 * exactly back — tolerance 0, because collect unmaps even a heap's last
 * empty segment and exited threads unmap their heaps, so main's heap (there
 * at the baseline) is all the arena may still hold.
 * Threading: slots are atomic and exchanged acq_rel (release publishes the
 * block's pattern, acquire makes it visible to the taker); everything else
 * a worker touches is its own. --scale divides (xN multiplies) the
 * operation count.
 */
#include <pthread.h>
#include <stdlib.h>

#include "base/atomic.h"
#include "tests/alloc/arena_test.h"
#include "tests/check.h"

#define SLOTS       1024
#define LOCAL       512
#define GENERATIONS 30
#define MAX_THREADS 64
/* Operations over the whole run at scale 1, shared by all workers. */
#define TOTAL_OPS   (UINT64_C(12) << 20)

static RC_ATOMIC(t_ref_t) slots[SLOTS];
static uint64_t base_seed, ops_per_worker;
static RC_ATOMIC(uint64_t) n_alloc, n_free, n_large, n_broken, n_failed;

static size_t pick_size(uint64_t r)
{
    unsigned k = (unsigned)(r % 1000);
    r >>= 10;
    if (k < 5)
        return ALLOC_ARENA_MAX_SMALL + 1 + (size_t)(r % (60 * 1024));  /* large */
    if (k < 50)
        return (size_t)(r % 4096);                /* up to 4 KiB, large beyond 1 KiB */
    if (k < 250)
        return (size_t)(r % (ALLOC_ARENA_MAX_SMALL + 1));
    return (size_t)(r % 129);                     /* the common case: small objects */
}

typedef struct {
    uint64_t allocs, frees, large, broken;
} tally_t;

static void release(tally_t *t, t_ref_t r)
{
    void *p = t_ref_ptr(r);
    size_t size = t_ref_size(r);
    if (!t_pattern_ok(p, size)) {
        if (t->broken++ == 0)
            fprintf(stderr, "block %p (%zu bytes) lost its pattern\n", p, size);
    }
    alloc_arena_free(p, size);
    t->frees++;
}

static t_ref_t make(tally_t *t, uint64_t r)
{
    size_t size = pick_size(r);
    void *p = alloc_arena_malloc(size);
    if (p == NULL) {
        at_fetch_add_relaxed(&n_failed, 1);
        return 0;
    }
    t_pattern_fill(p, size);
    t->allocs++;
    if (size > ALLOC_ARENA_MAX_SMALL)
        t->large++;
    return t_ref(p, size);
}

static void *worker(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    uint64_t seed = base_seed * UINT64_C(1000003) + id * UINT64_C(7919) + 1;
    tally_t t = { 0 };
    t_ref_t local[LOCAL] = { 0 };
    /* Lengths vary, so workers finish (and are replaced) at different times. */
    uint64_t ops = ops_per_worker / 2 + test_rand(&seed) % (ops_per_worker + 1);
    for (uint64_t i = 0; i < ops; i++) {
        uint64_t r = test_rand(&seed);
        t_ref_t *mine = &local[(r >> 4) % LOCAL];
        switch (r & 15) {
        case 0: case 1: case 2: case 3: case 4: case 5: case 6:   /* allocate */
            if (*mine)
                release(&t, *mine);
            *mine = make(&t, r >> 16);
            break;
        case 7: case 8: case 9: case 10:                            /* free */
            if (*mine)
                release(&t, *mine);
            *mine = 0;
            break;
        default:                                                     /* hand over */
            /* acq_rel: release publishes our block's pattern to whoever
             * takes it; acquire pairs with the exchange that put the old
             * one in, so its pattern is visible before we check it. */
            *mine = at_exchange_acq_rel(&slots[(r >> 16) % SLOTS], *mine);
            break;
        }
    }
    /* Leave half behind in the slots: they outlive this thread's heap. */
    for (int i = 0; i < LOCAL; i++) {
        if (!local[i])
            continue;
        if (test_rand(&seed) & 1) {
            t_ref_t old = at_exchange_acq_rel(&slots[test_rand(&seed) % SLOTS], local[i]);  /* as above */
            if (old)
                release(&t, old);
        } else {
            release(&t, local[i]);
        }
    }
    at_fetch_add_relaxed(&n_alloc, t.allocs);
    at_fetch_add_relaxed(&n_free, t.frees);
    at_fetch_add_relaxed(&n_large, t.large);
    at_fetch_add_relaxed(&n_broken, t.broken);
    return NULL;
}

int main(int argc, char **argv)
{
    /* --threads N anywhere; the rest is test_opts's (--scale, --seed). */
    int nthreads = 2, nargs = 0;
    char *args[16];
    REQUIRE(argc <= 16);
    for (int i = 0; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--threads") == 0)
            nthreads = atoi(argv[++i]);
        else
            args[nargs++] = argv[i];
    }
    test_opts_t opt = test_opts(nargs, args);
    if (opt.argi < nargs || nthreads < 1 || nthreads > MAX_THREADS) {
        fprintf(stderr, "usage: %s [--scale N] [--seed N] [--threads 1..%d]\n", argv[0], MAX_THREADS);
        return 2;
    }
    base_seed = opt.seed;
    uint64_t total_workers = (uint64_t)GENERATIONS * (uint64_t)nthreads;
    ops_per_worker = test_size(opt, TOTAL_OPS) / total_workers;
    printf("seed %" PRIu64 ", %d threads at a time, %" PRIu64 " workers, ~%" PRIu64 " ops each\n",
           opt.seed, nthreads, total_workers, ops_per_worker);

    /* Baseline: main's heap exists, nothing of main's is live. */
    void *warm = alloc_arena_malloc(16);
    REQUIRE(warm != NULL);
    alloc_arena_free(warm, 16);
    alloc_arena_collect();
    alloc_stats_t s0, s1, d;
    alloc_arena_stats(&s0);

    pthread_t th[MAX_THREADS];
    uint64_t started = 0;
    for (int i = 0; i < nthreads; i++, started++)
        REQUIRE(pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)started) == 0);
    uint64_t max_abandoned = 0;
    for (int i = 0; started < total_workers; i = (i + 1) % nthreads, started++) {
        REQUIRE(pthread_join(th[i], NULL) == 0);
        /* Adopt what exited workers left while the others run: main then
         * owns segments whose blocks are still in circulation, and the
         * workers' frees into them are remote frees to main. */
        alloc_arena_collect();
        alloc_arena_stats(&s1);           /* a snapshot while others run */
        if (s1.abandoned_segments > max_abandoned)
            max_abandoned = s1.abandoned_segments;
        REQUIRE(pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)started) == 0);
    }
    for (int i = 0; i < nthreads; i++)
        REQUIRE(pthread_join(th[i], NULL) == 0);

    /* Main frees the leftovers: blocks of exited threads, remote frees into
     * abandoned segments. */
    tally_t t = { 0 };
    alloc_arena_stats(&s1);
    uint64_t leftover = 0;
    for (int i = 0; i < SLOTS; i++) {
        t_ref_t r = at_exchange_acq_rel(&slots[i], 0);   /* pairs with the workers' exchanges */
        if (r) {
            release(&t, r);
            leftover++;
        }
    }
    CHECK_EQ(t.broken, 0);
    CHECK_EQ(at_load_relaxed(&n_broken), 0);
    CHECK_EQ(at_load_relaxed(&n_failed), 0);
    CHECK_EQ(s1.live_blocks - s0.live_blocks, leftover);  /* exactly the slots' blocks */
    CHECK_EQ(s1.heaps, s0.heaps);
    alloc_arena_stats(&s1);                /* the leftovers freed */
    d = t_stats_delta(&s0, &s1);
    uint64_t allocs = at_load_relaxed(&n_alloc), frees = at_load_relaxed(&n_free) + t.frees;
    printf("%" PRIu64 " blocks (%" PRIu64 " large), %" PRIu64 " remote frees, %" PRIu64
           " left in slots, peak %" PRIu64 " abandoned segments, peak mapped %" PRIu64 " MiB\n",
           allocs, at_load_relaxed(&n_large), d.remote_frees, leftover, max_abandoned,
           s1.peak_mapped_bytes >> 20);
    CHECK_EQ(allocs, frees);
    CHECK_EQ(d.allocated, allocs);
    CHECK_EQ(d.freed, frees);
    CHECK_EQ(d.live_blocks, 0);
    CHECK_EQ(d.live_bytes, 0);
    CHECK_EQ(d.large_live, 0);
    CHECK(d.remote_frees > 0);             /* the hand-overs did cross threads */
    CHECK(d.remote_frees <= d.freed);
    T_CHECK_BACK_TO(s0, 0 /* mapped bytes */);
    return TEST_END();
}
