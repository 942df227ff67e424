/* tests/alloc/test_arena_storm.c — remote frees racing their owner's exit.
 *
 * Each generation, a new owner thread allocates K blocks (seeded sizes,
 * mostly small, a few large), fills each with its pattern and publishes it
 * into a slot; FREERS long-lived threads take blocks from the slots as soon
 * as they appear, verify and free them, so the last frees of a generation
 * run while the owner's heap is being torn down (its pthread key destructor
 * collecting, retiring pages, abandoning segments). One block in LATE_EVERY
 * is late: the owner keeps it in a private array, and main publishes it
 * after joining the owner, so every generation also frees into a segment
 * that is certainly abandoned (main checks there is one). Two banks of
 * slots alternate between generations, and main starts the next owner as
 * soon as the bank it will fill has drained (the generation before last),
 * publishing the previous owner's late blocks just before or just after
 * (a seeded coin): the new owner starts with an empty heap and adopts an
 * abandoned segment for its first page, most often the very one those
 * late blocks are being freed into at that moment.
 * The freers only free, so their heaps never own a segment and every small
 * block they free is a remote free: remote_frees must grow by exactly that
 * many. At the end, after joining everyone, main collects and checks that
 * nothing is live, no segment is abandoned, and the arena's pages, segments,
 * heaps and mapped bytes are back to the baseline exactly (see
 * test_arena_stress.c for why the tolerance is 0).
 * Threading: slots are atomic; a block is published with a release store
 * and taken with an acquire exchange (pattern visible to the freer); a late
 * array is its owner's, then main's after pthread_join, then the next
 * owner's of that bank after pthread_create; counters are atomics; waiting
 * threads yield (2 cores, more threads).
 * --scale divides (xN multiplies) the number of generations.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "base/atomic.h"
#include "tests/alloc/arena_test.h"
#include "tests/check.h"

#define K           1500   /* blocks per owner: several pages of several classes */
#define LATE_EVERY  16
#define FREERS      3
#define GENERATIONS 4000

static RC_ATOMIC(t_ref_t) slots[2][K];   /* bank g % 2 holds generation g's blocks */
static t_ref_t late[2][K];
static RC_ATOMIC(bool) stop;
static RC_ATOMIC(uint64_t) freed[2];      /* blocks of the bank's generation freed */
static RC_ATOMIC(uint64_t) small_remote, large_freed, broken;
static uint64_t base_seed;

static size_t pick_size(uint64_t r)
{
    unsigned k = (unsigned)(r % 100);
    r >>= 8;
    if (k == 0)
        return ALLOC_ARENA_MAX_SMALL + 1 + (size_t)(r % 20000);   /* large */
    if (k < 20)
        return (size_t)(r % (ALLOC_ARENA_MAX_SMALL + 1));
    return (size_t)(r % 129);
}

static void *owner(void *arg)
{
    uint64_t gen = (uint64_t)(uintptr_t)arg;
    uint64_t seed = base_seed * UINT64_C(1000003) + gen;
    unsigned bank = gen % 2;
    for (size_t i = 0; i < K; i++) {
        size_t size = pick_size(test_rand(&seed));
        void *p = alloc_arena_malloc(size);
        REQUIRE(p != NULL);
        t_pattern_fill(p, size);
        if (i % LATE_EVERY == LATE_EVERY - 1)
            late[bank][i] = t_ref(p, size);
        else    /* release: publishes the pattern to the freer's acquire exchange */
            at_store_release(&slots[bank][i], t_ref(p, size));
    }
    return NULL;   /* exit at once: the heap's teardown races the freers */
}

/* Sweeps the slots from its own starting point, freeing what it finds,
 * until main says stop. */
static void *freer(void *arg)
{
    size_t start = (size_t)(uintptr_t)arg * (K / FREERS);
    uint64_t small = 0, large = 0, bad = 0;
    while (!at_load_relaxed(&stop)) {
        uint64_t total = 0;
        for (unsigned bank = 0; bank < 2; bank++) {
            uint64_t got = 0;
            for (size_t n = 0; n < K; n++) {
                size_t i = (start + n) % K;
                if (at_load_relaxed(&slots[bank][i]) == 0)
                    continue;
                /* Acquire: pairs with the release store that published it. */
                t_ref_t r = at_exchange_acquire(&slots[bank][i], 0);
                if (r == 0)
                    continue;             /* another freer was first */
                void *p = t_ref_ptr(r);
                size_t size = t_ref_size(r);
                if (!t_pattern_ok(p, size) && bad++ == 0)
                    fprintf(stderr, "block %p (%zu bytes) lost its pattern\n", p, size);
                alloc_arena_free(p, size);
                if (size > ALLOC_ARENA_MAX_SMALL)
                    large++;
                else
                    small++;
                got++;
            }
            if (got)
                at_fetch_add_relaxed(&freed[bank], got);
            total += got;
        }
        if (total == 0)
            sched_yield();
    }
    at_fetch_add_relaxed(&small_remote, small);
    at_fetch_add_relaxed(&large_freed, large);
    at_fetch_add_relaxed(&broken, bad);
    return NULL;
}

/* Main, after joining generation G's owner: its late blocks go to the freers. */
static void publish_late(uint64_t g)
{
    unsigned bank = g % 2;
    for (size_t i = LATE_EVERY - 1; i < K; i += LATE_EVERY)
        at_store_release(&slots[bank][i], late[bank][i]);   /* pairs with the freers' exchange */
}

int main(int argc, char **argv)
{
    test_opts_t opt = test_opts(argc, argv);
    base_seed = opt.seed;
    uint64_t gens = test_size(opt, GENERATIONS);
    if (gens < 10)
        gens = 10;
    printf("seed %" PRIu64 ", %" PRIu64 " generations of %d blocks, %d freers\n",
           opt.seed, gens, K, FREERS);

    void *warm = alloc_arena_malloc(16);   /* main's heap is part of the baseline */
    REQUIRE(warm != NULL);
    alloc_arena_free(warm, 16);
    alloc_arena_collect();
    alloc_stats_t s0, s1, d;
    alloc_arena_stats(&s0);

    pthread_t fr[FREERS];
    for (int i = 0; i < FREERS; i++)
        REQUIRE(pthread_create(&fr[i], NULL, freer, (void *)(uintptr_t)i) == 0);
    uint64_t not_abandoned = 0, max_abandoned = 0;
    at_store_relaxed(&freed[0], K);        /* both banks start drained */
    at_store_relaxed(&freed[1], K);
    uint64_t coin = opt.seed + 1;
    for (uint64_t g = 1; g <= gens + 1; g++) {
        /* Generation g - 1's late blocks go out just before or just after
         * owner g starts: either way they are freed into the segment owner
         * g - 1 abandoned while owner g adopts it and allocates from it. */
        bool late_first = test_rand(&coin) & 1;
        if (g > 1 && (late_first || g > gens))
            publish_late(g - 1);
        if (g > gens)
            break;
        unsigned bank = g % 2;
        while (at_load_relaxed(&freed[bank]) < K)   /* generation g - 2 is gone */
            sched_yield();
        at_store_relaxed(&freed[bank], 0);
        pthread_t ow;
        REQUIRE(pthread_create(&ow, NULL, owner, (void *)(uintptr_t)g) == 0);
        if (g > 1 && !late_first)
            publish_late(g - 1);
        REQUIRE(pthread_join(ow, NULL) == 0);
        /* Owner g is gone with its late blocks still out: the segment
         * holding them must be on the abandoned list (only owners
         * allocate, and none runs now). */
        alloc_arena_stats(&s1);
        if (s1.abandoned_segments == 0)
            not_abandoned++;
        if (s1.abandoned_segments > max_abandoned)
            max_abandoned = s1.abandoned_segments;
    }
    while (at_load_relaxed(&freed[0]) < K || at_load_relaxed(&freed[1]) < K)
        sched_yield();
    at_store_relaxed(&stop, true);
    for (int i = 0; i < FREERS; i++)
        REQUIRE(pthread_join(fr[i], NULL) == 0);

    alloc_arena_stats(&s1);
    d = t_stats_delta(&s0, &s1);
    uint64_t blocks = gens * K;
    CHECK_EQ(at_load_relaxed(&broken), 0);
    CHECK_EQ(not_abandoned, 0);
    CHECK_EQ(d.allocated, blocks);
    CHECK_EQ(d.freed, blocks);
    CHECK_EQ(d.live_blocks, 0);
    CHECK_EQ(d.live_bytes, 0);
    CHECK_EQ(d.large_live, 0);
    CHECK_EQ(at_load_relaxed(&small_remote) + at_load_relaxed(&large_freed), blocks);
    CHECK_EQ(d.remote_frees, at_load_relaxed(&small_remote));
    printf("%" PRIu64 " remote frees, peak %" PRIu64 " abandoned segments, peak mapped %" PRIu64
           " MiB\n", at_load_relaxed(&small_remote), max_abandoned, s1.peak_mapped_bytes >> 20);
    T_CHECK_BACK_TO(s0, 0 /* mapped bytes */);
    return TEST_END();
}
