/* tests/alloc/test_arena_oom.c — the arena when the OS refuses memory.
 *
 * A fixed script of allocations, run by a fresh thread (so its heap is
 * created inside the script), asks the OS for memory a known number of
 * times: its heap and first segment, a large block, a second segment (by
 * filling the first with 1 KiB blocks), an immortal chunk, a 1 MiB block.
 * For n = 1 .. that number, alloc_test_fail_os_map(n) makes the nth request
 * fail, and the script must get NULL exactly at the step that makes it;
 * then the arena must be consistent: every block allocated so far keeps its
 * pattern, the statistics count exactly the successful allocations, the
 * refused allocation succeeds when retried, and everything frees. n one
 * beyond the script fails nothing. After each run main collects and the
 * arena is back to the baseline, except the immortal chunks, which are
 * never returned (their mapped bytes are measured and allowed for).
 * Then a thread whose first request is large, with its heap refused and
 * with the block refused; and the orphan paths: a thread whose heap cannot
 * be created still frees blocks (counted without a heap), and collect
 * without a heap does nothing.
 * Threading: main and one script thread at a time (main waits in join, so
 * the process-wide statistics are the script's alone).
 */
#include <pthread.h>
#include <stdlib.h>

#include "tests/alloc/arena_test.h"
#include "tests/check.h"

enum { STEP_FIRST, STEP_LARGE, STEP_FILL, STEP_IMMORTAL, STEP_BIG, STEP_LAST, NSTEPS };
static const char *const step_name[NSTEPS] = {
    "first small block (heap, first segment)", "large block", "fill to a second segment",
    "immortal chunk", "1 MiB block", "small block of a new class",
};
/* Requests to the OS each step makes when nothing fails. */
static const int step_maps[NSTEPS] = { 2, 1, 1, 1, 1, 0 };

#define MAX_BLOCKS 8192
#define IMMORTAL_SIZE ((size_t)1 << 20)   /* more than a chunk holds: always maps */

typedef struct {
    unsigned long n;           /* which OS request fails (0: none) */
    int failed_step;           /* where NULL came, or -1 */
    uint64_t immortal_mapped;  /* bytes the immortal chunks took */
} run_t;

static void *blocks[MAX_BLOCKS];
static size_t sizes[MAX_BLOCKS];
static int nblocks, nlarge;

static alloc_stats_t snap(void)
{
    alloc_stats_t s;
    alloc_arena_stats(&s);
    return s;
}

static bool keep(void *p, size_t size)
{
    if (p == NULL)
        return false;
    REQUIRE(nblocks < MAX_BLOCKS);
    t_pattern_fill(p, size);
    blocks[nblocks] = p;
    sizes[nblocks++] = size;
    if (size > ALLOC_ARENA_MAX_SMALL)
        nlarge++;
    return true;
}

/* One step; false when an allocation returned NULL. */
static bool step(run_t *r, int s)
{
    switch (s) {
    case STEP_FIRST:
        return keep(alloc_arena_malloc(64), 64);
    case STEP_LARGE:
        return keep(alloc_arena_malloc(5000), 5000);
    case STEP_FILL: {
        /* 1 KiB blocks until one lands outside the first block's segment. */
        uintptr_t first = t_segment_of(blocks[0]);
        for (int i = 0; i < 2 * (int)(T_SEGMENT / 1024); i++) {
            void *p = alloc_arena_malloc(1024);
            if (!keep(p, 1024))
                return false;
            if (t_segment_of(p) != first)
                return true;
        }
        CHECK(!"the fill never reached a second segment");
        return true;
    }
    case STEP_IMMORTAL: {
        uint64_t before = snap().mapped_bytes;
        unsigned char *p = alloc_immortal(IMMORTAL_SIZE);
        if (p == NULL)
            return false;
        r->immortal_mapped += snap().mapped_bytes - before;
        CHECK(p[0] == 0 && p[IMMORTAL_SIZE - 1] == 0);
        return true;
    }
    case STEP_BIG:
        return keep(alloc_arena_malloc((size_t)1 << 20), (size_t)1 << 20);
    case STEP_LAST:
        return keep(alloc_arena_malloc(200), 200);
    }
    return true;
}

static void *script(void *arg)
{
    run_t *r = arg;
    nblocks = nlarge = 0;
    alloc_stats_t s0 = snap(), s1;
    alloc_test_fail_os_map(r->n);
    r->failed_step = -1;
    for (int s = 0; s < NSTEPS && r->failed_step < 0; s++)
        if (!step(r, s))
            r->failed_step = s;
    alloc_test_fail_os_map(0);          /* n beyond the script: disarm */

    /* Consistent after the refusal: patterns, exact counts. */
    long broken = 0;
    for (int i = 0; i < nblocks; i++)
        if (!t_pattern_ok(blocks[i], sizes[i]))
            broken++;
    CHECK_EQ(broken, 0);
    s1 = snap();
    CHECK_EQ(s1.allocated - s0.allocated, nblocks);
    CHECK_EQ(s1.live_blocks - s0.live_blocks, nblocks);
    CHECK_EQ(s1.large_live - s0.large_live, nlarge);
    CHECK_EQ(s1.freed - s0.freed, 0);
    CHECK_EQ(s1.heaps - s0.heaps, r->n == 1 ? 0 : 1);   /* n = 1: the heap itself was refused */

    /* The refused request succeeds now, and so does the rest. */
    if (r->failed_step >= 0) {
        int again = nblocks;
        CHECK(step(r, r->failed_step));
        CHECK(nblocks > again || r->failed_step == STEP_IMMORTAL);
    }
    CHECK(keep(alloc_arena_malloc(48), 48));
    CHECK(keep(alloc_arena_malloc(9000), 9000));
    for (int i = nblocks - 1; i >= 0; i--) {
        broken += !t_check_free(blocks[i], sizes[i]);
    }
    CHECK_EQ(broken, 0);
    s1 = snap();
    CHECK_EQ(s1.live_blocks, s0.live_blocks);
    CHECK_EQ(s1.large_live, s0.large_live);
    return NULL;
}

/* ---- orphans: frees by a thread that cannot get a heap ---- */
static void *orphan_frees(void *arg)
{
    void **b = arg;   /* b[0]: 64-byte block of main's, b[1]: 5000-byte block */
    alloc_stats_t s0 = snap(), s1;
    alloc_test_fail_os_map(1);
    alloc_arena_free(b[0], 64);         /* remote; the heap to count it in is refused */
    alloc_test_fail_os_map(1);
    alloc_arena_free(b[1], 5000);       /* unmapped; again no heap */
    alloc_test_fail_os_map(1);
    alloc_arena_collect();              /* no heap: nothing to do */
    alloc_test_fail_os_map(0);
    s1 = snap();
    CHECK_EQ(s1.heaps, s0.heaps);       /* the refusals took: still heapless */
    CHECK_EQ(s1.freed - s0.freed, 2);
    CHECK_EQ(s1.remote_frees - s0.remote_frees, 1);
    CHECK_EQ(s1.live_blocks - s0.live_blocks, -2);
    CHECK_EQ(s1.large_live - s0.large_live, -1);
    CHECK_EQ(s1.live_bytes - s0.live_bytes, -(64 + 8192));
    CHECK_EQ(s1.mapped_bytes - s0.mapped_bytes, -8192);
    return NULL;
}

/* A fresh thread whose first request is a large block: request 1 (its
 * heap) refused, then request 2 (the block itself, the heap granted). */
static void *first_request_large(void *arg)
{
    unsigned long n = (unsigned long)(uintptr_t)arg;
    alloc_stats_t s0 = snap(), s1;
    alloc_test_fail_os_map(n);
    void *p = alloc_arena_malloc(5000);
    alloc_test_fail_os_map(0);
    CHECK(p == NULL);
    s1 = snap();
    CHECK_EQ(s1.heaps - s0.heaps, n == 1 ? 0 : 1);
    CHECK_EQ(s1.allocated, s0.allocated);
    if (n == 1)
        CHECK_EQ(s1.mapped_bytes, s0.mapped_bytes);
    p = alloc_arena_malloc(5000);
    CHECK(p != NULL);
    if (p) {
        t_pattern_fill(p, 5000);
        CHECK(t_pattern_ok(p, 5000));
        alloc_arena_free(p, 5000);
    }
    s1 = snap();
    CHECK_EQ(s1.allocated - s0.allocated, 1);
    CHECK_EQ(s1.live_blocks, s0.live_blocks);
    return NULL;
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    void *warm = alloc_arena_malloc(16);   /* main's heap is part of the baseline */
    REQUIRE(warm != NULL);
    alloc_arena_free(warm, 16);
    alloc_arena_collect();
    alloc_stats_t s0 = snap();
    uint64_t immortal_mapped = 0;

    int total = 0;
    for (int s = 0; s < NSTEPS; s++)
        total += step_maps[s];
    for (unsigned long n = 1; n <= (unsigned long)total + 1; n++) {
        int want = -1;
        for (int s = 0, maps = 0; s < NSTEPS && want < 0; s++)
            if ((unsigned long)(maps += step_maps[s]) >= n)
                want = s;
        run_t r = { .n = n };
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, script, &r) == 0);
        REQUIRE(pthread_join(t, NULL) == 0);
        printf("fail request %lu: NULL at %s\n", n,
               r.failed_step < 0 ? "(none)" : step_name[r.failed_step]);
        CHECK_EQ(r.failed_step, want);
        immortal_mapped += r.immortal_mapped;
        T_CHECK_BACK_TO(s0, immortal_mapped);  /* the immortal arena is never unmapped */
    }

    for (unsigned long n = 1; n <= 2; n++) {
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, first_request_large, (void *)(uintptr_t)n) == 0);
        REQUIRE(pthread_join(t, NULL) == 0);
    }

    void *b[2] = { alloc_arena_malloc(64), alloc_arena_malloc(5000) };
    void *keep64 = alloc_arena_malloc(64);   /* keeps main's page in use */
    REQUIRE(b[0] != NULL && b[1] != NULL && keep64 != NULL);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, orphan_frees, b) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    alloc_arena_free(keep64, 64);
    T_CHECK_BACK_TO(s0, immortal_mapped);
    return TEST_END();
}
