/* tests/alloc/test_arena.c — the arena's contract, one property at a time.
 *
 * Size classes (the table below is the specification: arena.c must agree
 * for every size 0..1024, and malloc must carve blocks of exactly that
 * size), alignment, page reuse across classes, exact statistics after
 * known sequences (local and remote frees, abandonment and adoption, heaps
 * of threads, a thread's exit taking back remote frees and caching what
 * is empty), the segment cache (reuse across threads, the purge delay), remote frees into full pages found by the slow path and by
 * collect, adoption of full pages and by a heap whose segments are full,
 * large blocks mapped one by one (many at once, too), the immortal arena,
 * and requests too large to satisfy.
 * Statistics are process-wide, so every check is a delta from a snapshot
 * taken after alloc_arena_collect(), and every case gives back all it took.
 * Threading: main does the work; a few cases start one helper thread (to
 * free remotely, or to leave blocks behind when it exits) and join it
 * before checking. --seed varies the random sizes (overlap, many large
 * blocks, immortal).
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/config.h"
#include "tests/alloc/arena_test.h"
#include "tests/check.h"

/* The size classes, as specified: 8, multiples of 16 to 128, then four per
 * doubling to 1024. */
static const size_t classes[] = {
    8, 16, 32, 48, 64, 80, 96, 112, 128,
    160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
};
#define NCLASSES (sizeof classes / sizeof classes[0])

static size_t smallest_class(size_t size)
{
    for (size_t i = 0; i < NCLASSES; i++)
        if (classes[i] >= size)
            return classes[i];
    return 0;
}

static alloc_stats_t snap(void)
{
    alloc_stats_t s;
    alloc_arena_stats(&s);
    return s;
}

static size_t round_os_page(size_t n) { return (n + T_OS_PAGE - 1) & ~(T_OS_PAGE - 1); }

/* Every size maps to the smallest class that holds it, and malloc agrees:
 * two consecutive blocks of a size are exactly its class apart. Runs first,
 * on a fresh heap, so each class's first pair comes from a freshly carved
 * page; freeing the pair in reverse puts it back at the head of the free
 * list in the same order, so every later size of the class gets the same
 * two blocks again. */
static void size_classes(void)
{
    CHECK_EQ(classes[NCLASSES - 1], ALLOC_ARENA_MAX_SMALL);
    for (size_t size = 0; size <= ALLOC_ARENA_MAX_SMALL; size++) {
        size_t want = smallest_class(size);
        if (alloc_arena_block_size(size) != want) {
            CHECK_EQ(alloc_arena_block_size(size), want);
            fprintf(stderr, "  (size %zu)\n", size);
        }
    }
    for (size_t size = ALLOC_ARENA_MAX_SMALL + 1; size <= 3 * T_OS_PAGE + 1; size++)
        if (alloc_arena_block_size(size) != round_os_page(size))
            CHECK_EQ(alloc_arena_block_size(size), round_os_page(size));

    uintptr_t class_page[NCLASSES] = { 0 };
    long bad = 0;
    for (size_t size = 0; size <= ALLOC_ARENA_MAX_SMALL; size++) {
        size_t bs = smallest_class(size);
        char *a = alloc_arena_malloc(size), *b = alloc_arena_malloc(size);
        REQUIRE(a != NULL && b != NULL);
        REQUIRE(t_page_of(a) == t_page_of(b));   /* 2 blocks of a fresh page */
        if ((size_t)(b - a) != bs || (uintptr_t)a % (bs >= 16 ? 16 : 8) != 0) {
            if (bad++ < 10)
                fprintf(stderr, "size %zu: blocks %p, %p: %td apart, want %zu\n",
                        size, (void *)a, (void *)b, b - a, bs);
        }
        /* Both blocks are usable over their full size and do not overlap. */
        memset(a, 0xAA, size);
        memset(b, 0xBB, size);
        for (size_t i = 0; i < size; i++)
            if ((unsigned char)a[i] != 0xAA) {
                bad++;
                break;
            }
        size_t ci = 0;
        while (classes[ci] != bs)
            ci++;
        if (class_page[ci] == 0)
            class_page[ci] = t_page_of(a);
        else if (class_page[ci] != t_page_of(a))
            bad++;                      /* the reverse free did not restore the order */
        alloc_arena_free(b, size);
        alloc_arena_free(a, size);
    }
    CHECK_EQ(bad, 0);
    /* One page per class, no page shared by two classes. */
    for (size_t i = 0; i < NCLASSES; i++)
        for (size_t j = i + 1; j < NCLASSES; j++)
            CHECK(class_page[i] != class_page[j]);
    alloc_arena_collect();
}

/* Alignment and spacing across carving extensions and pages (the collect
 * before retired every page, so each class starts on a fresh one and
 * consecutive blocks within a page are exactly one class apart), then no
 * overlap between live blocks of random sizes (each keeps its pattern
 * while all the others are written). */
static void alignment_and_overlap(uint64_t seed)
{
    enum { PER_CLASS = 300, RANDOM = 5000 };
    static void *blocks[RANDOM];
    static size_t sizes[RANDOM];
    alloc_arena_collect();
    alloc_stats_t s0 = snap();
    long misaligned = 0, misplaced = 0, pairs = 0;
    for (size_t ci = 0; ci < NCLASSES; ci++) {
        for (int i = 0; i < PER_CLASS; i++) {
            blocks[i] = alloc_arena_malloc(classes[ci]);
            REQUIRE(blocks[i] != NULL);
            if ((uintptr_t)blocks[i] % (classes[ci] >= 16 ? 16 : 8) != 0)
                misaligned++;
            if (i > 0 && t_page_of(blocks[i]) == t_page_of(blocks[i - 1])) {
                pairs++;
                if ((uintptr_t)blocks[i] - (uintptr_t)blocks[i - 1] != classes[ci])
                    misplaced++;
            }
        }
        for (int i = 0; i < PER_CLASS; i++)
            alloc_arena_free(blocks[i], classes[ci]);
    }
    CHECK_EQ(misaligned, 0);
    CHECK_EQ(misplaced, 0);
    CHECK(pairs > (long)NCLASSES * (PER_CLASS - 10));   /* few page changes */

    long broken = 0;
    for (int i = 0; i < RANDOM; i++) {
        uint64_t r = test_rand(&seed);
        sizes[i] = (r & 7) == 0 ? (size_t)(r >> 8) % (ALLOC_ARENA_MAX_SMALL + 1) : (size_t)(r >> 8) % 129;
        blocks[i] = alloc_arena_malloc(sizes[i]);
        REQUIRE(blocks[i] != NULL);
        if ((uintptr_t)blocks[i] % (alloc_arena_block_size(sizes[i]) >= 16 ? 16 : 8) != 0)
            misaligned++;
        t_pattern_fill(blocks[i], sizes[i]);
    }
    for (int i = 0; i < RANDOM; i++)
        if (!t_pattern_ok(blocks[i], sizes[i]))
            broken++;
    alloc_stats_t s1 = snap();
    CHECK_EQ(s1.live_blocks - s0.live_blocks, RANDOM);
    for (int i = 0; i < RANDOM; i += 2)     /* free in two interleaved passes */
        alloc_arena_free(blocks[i], sizes[i]);
    for (int i = 1; i < RANDOM; i += 2) {
        broken += !t_check_free(blocks[i], sizes[i]);
    }
    CHECK_EQ(misaligned, 0);
    CHECK_EQ(broken, 0);
    T_CHECK_BACK_TO(s0, 0 /* mapped bytes */);
}

/* Pages go back to their segment and serve another class. An anchor block
 * keeps the segment alive (collect unmaps empty segments); 2.5 pages of
 * 64-byte blocks are freed and collected; the 256-byte blocks that follow
 * must come from the pages just released, in the same segment, with no new
 * segment mapped. */
static void page_reuse(void)
{
    /* 2.5 pages of 64-byte blocks, then 1.56 pages of 256-byte ones. */
    enum { N64 = (int)(T_PAGE / 64) * 5 / 2, N256 = (int)(T_PAGE / 256) * 25 / 16 };
    static void *small[N64];
    alloc_arena_collect();
    alloc_stats_t s0 = snap(), s;
    void *anchor = alloc_arena_malloc(1024);
    REQUIRE(anchor != NULL);
    uintptr_t seg = t_segment_of(anchor);
    uintptr_t used_pages[8];
    int nused = 0;
    for (int i = 0; i < N64; i++) {
        small[i] = alloc_arena_malloc(64);
        REQUIRE(small[i] != NULL);
        CHECK(t_segment_of(small[i]) == seg);
        uintptr_t pg = t_page_of(small[i]);
        if (nused == 0 || used_pages[nused - 1] != pg) {
            REQUIRE(nused < 8);
            used_pages[nused++] = pg;
        }
    }
    CHECK_EQ(nused, 3);                    /* carved in address order, page by page */
    s = snap();
    CHECK_EQ(s.pages - s0.pages, 1 + 3);
    CHECK_EQ(s.segments - s0.segments, 1);
    for (int i = 0; i < N64; i++)
        alloc_arena_free(small[i], 64);
    alloc_arena_collect();
    s = snap();
    CHECK_EQ(s.pages - s0.pages, 1);       /* only the anchor's page */
    CHECK_EQ(s.segments - s0.segments, 1); /* kept: the anchor lives in it */
    CHECK_EQ(s.live_blocks - s0.live_blocks, 1);
    uint64_t mapped = s.mapped_bytes;

    void *big[N256];
    int reused = 0;
    for (int i = 0; i < N256; i++) {
        big[i] = alloc_arena_malloc(256);
        REQUIRE(big[i] != NULL);
        CHECK(t_segment_of(big[i]) == seg);
        for (int j = 0; j < nused; j++)
            if (t_page_of(big[i]) == used_pages[j]) {
                reused++;
                break;
            }
    }
    CHECK_EQ(reused, N256);                /* every one on a page the 64s gave back */
    s = snap();
    CHECK_EQ(s.segments - s0.segments, 1);
    CHECK_EQ(s.pages - s0.pages, 1 + 2);
    CHECK_EQ(s.mapped_bytes, mapped);
    for (int i = 0; i < N256; i++)
        alloc_arena_free(big[i], 256);
    alloc_arena_free(anchor, 1024);
    T_CHECK_BACK_TO(s0, 0 /* mapped bytes */);
}

/* ---- helper threads for the statistics case ---- */
typedef struct {
    void **blocks;
    size_t *sizes;
    int n;
    pthread_barrier_t *hold;   /* when set: wait twice, so main can look while we live */
} job_t;

static void *free_all_job(void *arg)
{
    job_t *j = arg;
    for (int i = 0; i < j->n; i++)
        alloc_arena_free(j->blocks[i], j->sizes[i]);
    if (j->hold) {
        pthread_barrier_wait(j->hold);
        pthread_barrier_wait(j->hold);
    }
    return NULL;
}

static void *alloc_all_job(void *arg)
{
    job_t *j = arg;
    for (int i = 0; i < j->n; i++) {
        j->blocks[i] = alloc_arena_malloc(j->sizes[i]);
        REQUIRE(j->blocks[i] != NULL);
        t_pattern_fill(j->blocks[i], j->sizes[i]);
    }
    return NULL;
}

static void run_thread(void *(*fn)(void *), job_t *j)
{
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, fn, j) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
}

/* Every counter, exact, after a known sequence. */
/* A local free into a full page puts the page back in its class queue:
 * the next malloc that finds the current page exhausted takes that block,
 * with no new page. Runs on a fresh thread (a heap of its own). */
static void *full_page_requeue_job(void *arg)
{
    (void)arg;
    enum { PER_PAGE = T_PER_PAGE_1K, N = 2 * PER_PAGE };   /* 1 KiB blocks: 2 pages */
    static void *b[N];
    for (int i = 0; i < N; i++)
        REQUIRE((b[i] = alloc_arena_malloc(1024)) != NULL);
    alloc_stats_t s0 = snap();
    void *hole = b[5];                              /* on the first, full page */
    alloc_arena_free(hole, 1024);
    void *again = alloc_arena_malloc(1024);
    CHECK(again == hole);
    CHECK_EQ(snap().pages, s0.pages);
    b[5] = again;
    for (int i = 0; i < N; i++)
        alloc_arena_free(b[i], 1024);
    return NULL;
}

static void full_page_requeue(void)
{
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, full_page_requeue_job, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
}

/* Empty pages beyond ARENA_KEEP_EMPTY (4) go back to their segment without
 * any collect. Local: after ten pages of blocks are freed by their owner, at
 * most the current page and 4 kept ones stay in use. Remote: pages another
 * thread emptied are found when a malloc scans the full pages (8 per scan,
 * ARENA_FULL_SCAN, so 7 of the 8 emptied ones here, the scan order being
 * rotated by earlier scans); of those found, all but 4 go back at once. */
enum { BOUND_PER_PAGE = T_PER_PAGE_1K, BOUND_PAGES = 10, BOUND_N = BOUND_PAGES * BOUND_PER_PAGE };
static void *bound_blocks[BOUND_N];

static void *free_first_pages_job(void *arg)
{
    int n = *(int *)arg;
    for (int i = 0; i < n; i++)
        alloc_arena_free(bound_blocks[i], 1024);
    return NULL;
}

static void *empty_page_bound_job(void *arg)
{
    bool remote = *(bool *)arg;
    alloc_stats_t s0 = snap();
    for (int i = 0; i < BOUND_N; i++)
        REQUIRE((bound_blocks[i] = alloc_arena_malloc(1024)) != NULL);
    CHECK_EQ(snap().pages - s0.pages, BOUND_PAGES);
    int first = remote ? 8 * BOUND_PER_PAGE : 0;
    if (remote) {
        /* Pages 1..8 freed by another thread: they sit full until a
         * malloc of the class scans them. */
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, free_first_pages_job, &first) == 0);
        REQUIRE(pthread_join(t, NULL) == 0);
        void *p = alloc_arena_malloc(1024);
        REQUIRE(p != NULL);
        uint64_t in_use = snap().pages - s0.pages;
        CHECK(in_use <= BOUND_PAGES - 3);
        alloc_arena_free(p, 1024);
    }
    for (int i = first; i < BOUND_N; i++)
        alloc_arena_free(bound_blocks[i], 1024);
    alloc_stats_t s1 = snap();
    CHECK_EQ(s1.live_blocks, s0.live_blocks);
    if (!remote)
        CHECK(s1.pages - s0.pages <= 1 + 4);
    return NULL;
}

static void empty_page_bound(void)
{
    for (int r = 0; r < 2; r++) {
        bool remote = r == 1;
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, empty_page_bound_job, &remote) == 0);
        REQUIRE(pthread_join(t, NULL) == 0);
    }
}

static void statistics_exact(void)
{
    alloc_arena_collect();
    alloc_stats_t s0 = snap(), d;
    void *a[10], *b[5], *l[3], *h;
    for (int i = 0; i < 10; i++)
        REQUIRE((a[i] = alloc_arena_malloc(100)) != NULL);    /* 112-byte class */
    for (int i = 0; i < 5; i++)
        REQUIRE((b[i] = alloc_arena_malloc(8)) != NULL);
    for (int i = 0; i < 3; i++)
        REQUIRE((l[i] = alloc_arena_malloc(5000)) != NULL);   /* 8 KiB mapped */
    REQUIRE((h = alloc_arena_malloc(70000)) != NULL);           /* 72 KiB mapped */
    alloc_stats_t s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.allocated, 19);
    CHECK_EQ(d.freed, 0);
    CHECK_EQ(d.remote_frees, 0);
    CHECK_EQ(d.live_blocks, 19);
    CHECK_EQ(d.live_bytes, 10 * 112 + 5 * 8 + 3 * 8192 + 73728);
    CHECK_EQ(d.large_live, 4);
    CHECK_EQ(d.pages, 2);
    CHECK_EQ(d.segments, 1);               /* main had none after the collect */
    CHECK_EQ(d.mapped_bytes, T_SEGMENT + 3 * 8192 + 73728);
    CHECK_EQ(d.heaps, 0);
    CHECK_EQ(d.abandoned_segments, 0);
    CHECK_EQ(d.immortal_bytes, 0);
    CHECK(s1.peak_mapped_bytes >= s1.mapped_bytes);

    /* Local frees. */
    for (int i = 0; i < 4; i++)
        alloc_arena_free(a[i], 100);
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.freed, 4);
    CHECK_EQ(d.remote_frees, 0);
    CHECK_EQ(d.live_blocks, 15);
    CHECK_EQ(d.live_bytes, 6 * 112 + 5 * 8 + 3 * 8192 + 73728);

    /* Remote frees: a thread frees 6 + 5 small blocks of main's and one
     * large block. A free never creates a heap (heaps unchanged): a thread
     * without one is counted process-wide. A large block has no owning
     * heap, so its free is never counted as remote. */
    void *rb[12];
    size_t rs[12];
    for (int i = 0; i < 6; i++)
        rb[i] = a[4 + i], rs[i] = 100;
    for (int i = 0; i < 5; i++)
        rb[6 + i] = b[i], rs[6 + i] = 8;
    rb[11] = l[0], rs[11] = 5000;
    pthread_barrier_t hold;
    REQUIRE(pthread_barrier_init(&hold, NULL, 2) == 0);
    job_t jr = { rb, rs, 12, &hold };
    pthread_t t;
    alloc_stats_t before_thread = snap();
    REQUIRE(pthread_create(&t, NULL, free_all_job, &jr) == 0);
    pthread_barrier_wait(&hold);
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.heaps, 0);
    CHECK_EQ(d.remote_frees, 11);
    CHECK_EQ(d.freed, 4 + 12);
    CHECK_EQ(d.live_blocks, 3);
    CHECK_EQ(d.large_live, 3);
    CHECK_EQ(d.live_bytes, 2 * 8192 + 73728);
    CHECK_EQ(d.pages, 2);                  /* remote frees wait for the owner */
    pthread_barrier_wait(&hold);
    REQUIRE(pthread_join(t, NULL) == 0);
    pthread_barrier_destroy(&hold);
    alloc_stats_t s2 = snap();
    d = t_stats_delta(&s1, &s2);
    CHECK_EQ(d.heaps, 0);                  /* it never had one */
    CHECK_EQ(d.allocated, 0);
    CHECK_EQ(d.freed, 0);
    CHECK_EQ(d.remote_frees, 0);
    /* It had no heap and no segment: only the large block it freed (and
     * unmapped: no heap, no cache) is gone. */
    CHECK_EQ(s2.mapped_bytes - before_thread.mapped_bytes, -8192);
    alloc_arena_collect();                 /* takes the remote frees back */
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.pages, 0);
    CHECK_EQ(d.segments, 0);
    CHECK_EQ(d.mapped_bytes, 2 * 8192 + 73728);
    alloc_arena_free(l[1], 5000);
    alloc_arena_free(l[2], 5000);
    alloc_arena_free(h, 70000);
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.allocated, 19);
    CHECK_EQ(d.freed, 19);
    CHECK_EQ(d.live_blocks, 0);
    CHECK_EQ(d.live_bytes, 0);
    CHECK_EQ(d.large_live, 0);
    CHECK_EQ(d.mapped_bytes, 0);

    /* A thread leaves 7 blocks and a large one behind when it exits: its
     * segment is abandoned (not unmapped), main's frees into it are remote,
     * and main's collect adopts it, finds it empty and unmaps it. */
    void *tb[8];
    size_t ts[8] = { 48, 48, 48, 48, 40, 33, 48, 20000 };
    job_t ja = { tb, ts, 8, NULL };
    s0 = snap();
    run_thread(alloc_all_job, &ja);
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.allocated, 8);
    CHECK_EQ(d.live_blocks, 8);
    CHECK_EQ(d.live_bytes, 7 * 48 + 20480);
    CHECK_EQ(d.heaps, 0);
    CHECK_EQ(d.abandoned_segments, 1);
    CHECK_EQ(d.segments, 1);
    CHECK_EQ(d.pages, 1);
    CHECK_EQ(d.mapped_bytes, T_SEGMENT + 20480);
    long broken = 0;
    for (int i = 0; i < 8; i++) {
        broken += !t_check_free(tb[i], ts[i]);
    }
    CHECK_EQ(broken, 0);
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.remote_frees, 7);
    CHECK_EQ(d.freed, 8);
    CHECK_EQ(d.live_blocks, 0);
    CHECK_EQ(d.abandoned_segments, 1);     /* until someone adopts it */
    T_CHECK_BACK_TO(s0, 0 /* mapped bytes */);
}

/* A thread whose blocks were all freed by others before it exits takes
 * those remote frees back at exit, finds its segment empty and caches it
 * (unmaps it in debug builds): nothing is abandoned. */
typedef struct {
    void *blocks[16];
    pthread_barrier_t handed, freed;
} handover_t;

static void *alloc_handover_job(void *arg)
{
    handover_t *h = arg;
    for (int i = 0; i < 16; i++)
        REQUIRE((h->blocks[i] = alloc_arena_malloc(96)) != NULL);
    pthread_barrier_wait(&h->handed);
    pthread_barrier_wait(&h->freed);     /* main frees them all, remotely */
    return NULL;
}

static void exit_takes_back_remote_frees(void)
{
    handover_t h;
    REQUIRE(pthread_barrier_init(&h.handed, NULL, 2) == 0);
    REQUIRE(pthread_barrier_init(&h.freed, NULL, 2) == 0);
    alloc_arena_collect();
    alloc_stats_t s0 = snap(), s1, d;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, alloc_handover_job, &h) == 0);
    pthread_barrier_wait(&h.handed);
    for (int i = 0; i < 16; i++)
        alloc_arena_free(h.blocks[i], 96);
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.remote_frees, 16);
    CHECK_EQ(d.segments, 1);
    CHECK_EQ(d.pages, 1);                  /* until the owner takes them back */
    pthread_barrier_wait(&h.freed);
    REQUIRE(pthread_join(t, NULL) == 0);
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.abandoned_segments, 0);
    CHECK_EQ(d.segments, T_CACHES);
    CHECK_EQ(d.cached_segments, T_CACHES);
    CHECK_EQ(d.pages, 0);
    CHECK_EQ(d.mapped_bytes, T_CACHES * T_SEGMENT);
    CHECK_EQ(d.live_blocks, 0);
    T_CHECK_BACK_TO(s0, 0 /* mapped bytes: collect unmapped the cache */);
    pthread_barrier_destroy(&h.handed);
    pthread_barrier_destroy(&h.freed);
}

/* The segment cache: a thread's empty segment outlives its heap, the next
 * heap that needs a segment takes it (no new mapping), and the cache goes
 * back to the OS once RC_ARENA_PURGE_MS pass with no segment event and a
 * heap takes a page. Debug builds cache nothing. */
static void *alloc_one_and_exit(void *seg_out)
{
    void *p = alloc_arena_malloc(64);
    REQUIRE(p != NULL);
    *(uintptr_t *)seg_out = t_segment_of(p);
    alloc_arena_free(p, 64);
    return NULL;
}

static void segment_cache(void)
{
    alloc_arena_collect();
    alloc_stats_t s0 = snap(), d;
    void *anchor = alloc_arena_malloc(64);            /* main's heap: one segment */
    REQUIRE(anchor != NULL);
    uintptr_t first = 0, second = 0;
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, alloc_one_and_exit, &first) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    alloc_stats_t s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.cached_segments, T_CACHES);
    CHECK_EQ(d.segments, 1 + T_CACHES);
    REQUIRE(pthread_create(&t, NULL, alloc_one_and_exit, &second) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    alloc_stats_t s2 = snap();
    if (T_CACHES) {
        CHECK(second == first);                        /* the cached one, reused */
        CHECK_EQ(s2.peak_mapped_bytes, s1.peak_mapped_bytes);
    }
    d = t_stats_delta(&s1, &s2);
    CHECK_EQ(d.segments, 0);
    CHECK_EQ(d.mapped_bytes, 0);
    CHECK_EQ(s2.cached_segments, s1.cached_segments);
    /* Idle past the purge delay; main's next page (a new size class, from
     * its own segment) finds the cache stale and unmaps it. */
    struct timespec idle = { .tv_sec = (RC_ARENA_PURGE_MS + 20) / 1000,
                             .tv_nsec = (long)((RC_ARENA_PURGE_MS + 20) % 1000) * 1000000L };
    nanosleep(&idle, NULL);
    void *other = alloc_arena_malloc(512);
    REQUIRE(other != NULL);
    CHECK(t_segment_of(other) == t_segment_of(anchor));
    alloc_stats_t s3 = snap();
    CHECK_EQ(s3.cached_segments, 0);
    d = t_stats_delta(&s0, &s3);
    CHECK_EQ(d.segments, 1);
    alloc_arena_free(other, 512);
    alloc_arena_free(anchor, 64);
    T_CHECK_BACK_TO(s0, 0 /* mapped bytes */);
}

/* Another pthread key's destructor that runs after the arena's (its key
 * was created later, as rc's debug quarantine is) frees and allocates on
 * a thread whose heap is already gone: the arena makes it a new heap,
 * which the next destructor round abandons in turn. Nothing leaks: no heap
 * stays registered, and every block is accounted for. */
static pthread_key_t late_key;
static void *late_kept[2];

static void late_destructor(void *arg)
{
    void **blocks = arg;
    for (int i = 0; i < 10; i++)
        alloc_arena_free(blocks[i], 200);     /* into its own abandoned segment */
    void *fresh[5];
    for (int i = 0; i < 5; i++) {
        fresh[i] = alloc_arena_malloc(300);
        REQUIRE(fresh[i] != NULL);
        t_pattern_fill(fresh[i], 300);
    }
    for (int i = 2; i < 5; i++)
        alloc_arena_free(fresh[i], 300);
    late_kept[0] = fresh[0];
    late_kept[1] = fresh[1];
}

static void *late_key_job(void *arg)
{
    void **blocks = arg;
    for (int i = 0; i < 12; i++) {
        REQUIRE((blocks[i] = alloc_arena_malloc(200)) != NULL);
        t_pattern_fill(blocks[i], 200);
    }
    REQUIRE(pthread_setspecific(late_key, blocks) == 0);
    return NULL;          /* blocks[10], blocks[11] stay live */
}

static void destructor_after_the_arenas(void)
{
    static void *blocks[12];
    alloc_arena_collect();
    alloc_stats_t s0 = snap(), s1, d;
    /* main's heap exists, so the arena's key is older than this one */
    REQUIRE(pthread_key_create(&late_key, late_destructor) == 0);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, late_key_job, blocks) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.heaps, 0);
    CHECK_EQ(d.allocated, 12 + 5);
    CHECK_EQ(d.live_blocks, 2 + 2);
    CHECK_EQ(d.remote_frees, 10);             /* the heap was gone: not its own */
    REQUIRE(late_kept[0] != NULL && late_kept[1] != NULL);
    CHECK(t_pattern_ok(blocks[10], 200) && t_pattern_ok(blocks[11], 200));
    CHECK(t_pattern_ok(late_kept[0], 300) && t_pattern_ok(late_kept[1], 300));
    alloc_arena_free(blocks[10], 200);
    alloc_arena_free(blocks[11], 200);
    alloc_arena_free(late_kept[0], 300);
    alloc_arena_free(late_kept[1], 300);
    T_CHECK_BACK_TO(s0, 0 /* mapped bytes */);
    pthread_key_delete(late_key);
}

/* A page that filled up and then got remote frees is found again by the
 * slow path's scan of full pages: main fills two pages of 1 KiB blocks
 * (64 each), a thread frees the first page's blocks, and main's next
 * block comes from that page, with no new page. */
static void full_page_scan(void)
{
    enum { PER_PAGE = T_PER_PAGE_1K };
    void *b[2 * PER_PAGE];
    size_t sz[2 * PER_PAGE];
    alloc_arena_collect();
    alloc_stats_t s0 = snap(), s1;
    for (int i = 0; i < 2 * PER_PAGE; i++) {
        REQUIRE((b[i] = alloc_arena_malloc(1024)) != NULL);
        sz[i] = 1024;
    }
    uintptr_t first = t_page_of(b[0]);
    CHECK(t_page_of(b[PER_PAGE - 1]) == first);
    CHECK(t_page_of(b[PER_PAGE]) != first);
    job_t j = { b, sz, PER_PAGE, NULL };
    run_thread(free_all_job, &j);
    s1 = snap();
    CHECK_EQ(s1.pages - s0.pages, 2);
    void *again = alloc_arena_malloc(1024);
    REQUIRE(again != NULL);
    CHECK(t_page_of(again) == first);
    s1 = snap();
    CHECK_EQ(s1.pages - s0.pages, 2);
    CHECK_EQ(s1.remote_frees - s0.remote_frees, PER_PAGE);
    alloc_arena_free(again, 1024);
    for (int i = PER_PAGE; i < 2 * PER_PAGE; i++)
        alloc_arena_free(b[i], 1024);
    T_CHECK_BACK_TO(s0, T_MAPPED_ANY /* mapped bytes may differ */);
}

/* alloc_arena_collect finds remote frees in full pages too: a full page
 * whose blocks all came back is retired, one with some back rejoins the
 * queue and serves the next mallocs. */
static void collect_takes_back_full_pages(void)
{
    enum { PER_PAGE = T_PER_PAGE_1K, N = 3 * PER_PAGE + 1 };   /* 3 full pages, a 4th begun */
    void *b[N];
    size_t sz[N];
    alloc_arena_collect();
    alloc_stats_t s0 = snap(), s1;
    for (int i = 0; i < N; i++) {
        REQUIRE((b[i] = alloc_arena_malloc(1024)) != NULL);
        sz[i] = 1024;
    }
    /* Page 1 entirely and 10 blocks of page 2, freed by another thread. */
    job_t j = { b, sz, PER_PAGE + 10, NULL };
    run_thread(free_all_job, &j);
    s1 = snap();
    CHECK_EQ(s1.pages - s0.pages, 4);
    alloc_arena_collect();
    s1 = snap();
    CHECK_EQ(s1.pages - s0.pages, 3);         /* page 1 retired */
    CHECK_EQ(s1.live_blocks - s0.live_blocks, N - PER_PAGE - 10);
    /* Page 4 has 63 blocks left, then page 2's 10 come next, no new page. */
    void *more[PER_PAGE - 1 + 10];
    int on_page2 = 0;
    for (int i = 0; i < PER_PAGE - 1 + 10; i++) {
        REQUIRE((more[i] = alloc_arena_malloc(1024)) != NULL);
        if (t_page_of(more[i]) == t_page_of(b[PER_PAGE]))
            on_page2++;
    }
    CHECK_EQ(on_page2, 10);
    s1 = snap();
    CHECK_EQ(s1.pages - s0.pages, 3);
    for (int i = 0; i < PER_PAGE - 1 + 10; i++)
        alloc_arena_free(more[i], 1024);
    for (int i = PER_PAGE + 10; i < N; i++)
        alloc_arena_free(b[i], 1024);
    T_CHECK_BACK_TO(s0, T_MAPPED_ANY /* mapped bytes may differ */);
}

/* A page adopted full goes to the adopter's full list: mallocs skip it
 * until a block in it is freed (locally now), then it serves again. */
static void adopted_full_page(void)
{
    enum { PER_PAGE = T_PER_PAGE_1K };
    void *tb[PER_PAGE];
    size_t ts[PER_PAGE];
    for (int i = 0; i < PER_PAGE; i++)
        ts[i] = 1024;
    alloc_arena_collect();
    alloc_stats_t s0 = snap(), s1;
    job_t j = { tb, ts, PER_PAGE, NULL };
    run_thread(alloc_all_job, &j);          /* exactly one page, full */
    uintptr_t full = t_page_of(tb[0]);
    CHECK(t_page_of(tb[PER_PAGE - 1]) == full);
    alloc_arena_collect();                  /* main adopts it */
    s1 = snap();
    CHECK_EQ(s1.abandoned_segments - s0.abandoned_segments, 0);
    CHECK_EQ(s1.pages - s0.pages, 1);
    void *x = alloc_arena_malloc(1024);
    REQUIRE(x != NULL);
    CHECK(t_page_of(x) != full);            /* a full page is not in the queue */
    CHECK(t_segment_of(x) == t_segment_of(tb[0]));   /* but its segment serves */
    alloc_arena_free(tb[7], 1024);          /* local: main owns the page now */
    s1 = snap();
    CHECK_EQ(s1.remote_frees - s0.remote_frees, 0);
    long broken = 0;
    for (int i = 0; i < PER_PAGE; i++)
        if (i != 7) {
            broken += !t_check_free(tb[i], 1024);
        }
    CHECK_EQ(broken, 0);
    alloc_arena_free(x, 1024);
    T_CHECK_BACK_TO(s0, 0 /* mapped bytes */);
}

/* A heap whose segments are full adopts an abandoned segment before it maps
 * a new one, and from then on owns it: its pages serve the adopter's
 * mallocs, and the adopter's frees of blocks in it are local. */
static void adoption_by_a_full_heap(void)
{
    /* every page of one segment, 1 KiB blocks */
    enum { FILL = (int)(T_SEGMENT / T_PAGE - 1) * T_PER_PAGE_1K, N = 10 };
    static void *fill[FILL];
    void *tb[N];
    size_t ts[N];
    for (int i = 0; i < N; i++)
        ts[i] = 64;
    alloc_arena_collect();
    alloc_stats_t s0 = snap(), s1, d;
    for (int i = 0; i < FILL; i++)
        REQUIRE((fill[i] = alloc_arena_malloc(1024)) != NULL);
    uintptr_t mine = t_segment_of(fill[0]);
    CHECK(t_segment_of(fill[FILL - 1]) == mine);
    job_t j = { tb, ts, N, NULL };
    run_thread(alloc_all_job, &j);         /* exits: its segment is abandoned */
    uintptr_t theirs = t_segment_of(tb[0]);
    CHECK(theirs != mine);
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.segments, 2);
    CHECK_EQ(d.abandoned_segments, 1);

    void *one = alloc_arena_malloc(1024);  /* main's segment is full: adopt */
    REQUIRE(one != NULL);
    CHECK(t_segment_of(one) == theirs);
    void *small = alloc_arena_malloc(64);  /* from the adopted 64-byte page */
    REQUIRE(small != NULL);
    CHECK(t_page_of(small) == t_page_of(tb[0]));
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.segments, 2);
    CHECK_EQ(d.abandoned_segments, 0);
    CHECK_EQ(d.mapped_bytes, 2 * T_SEGMENT);
    long broken = 0;
    for (int i = 0; i < N; i++) {
        broken += !t_check_free(tb[i], 64);
    }
    CHECK_EQ(broken, 0);
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.remote_frees, 0);           /* main owns them now */
    CHECK_EQ(d.freed, N);
    alloc_arena_free(small, 64);
    alloc_arena_free(one, 1024);
    for (int i = 0; i < FILL; i++)
        alloc_arena_free(fill[i], 1024);
    T_CHECK_BACK_TO(s0, 0 /* mapped bytes */);
}

/* Above ALLOC_ARENA_MAX_SMALL every block is its own mapping, rounded up
 * to OS pages: mapped bytes grow by exactly that and shrink on free. */
static void large_blocks(void)
{
    static const size_t sizes[] = {
        ALLOC_ARENA_MAX_SMALL + 1, 4095, 4096, 4097, 8192, 65535, 65536, 65537,
        (size_t)1 << 20, ((size_t)1 << 20) + 1, (size_t)3 << 20, ((size_t)9 << 20) + 17,
    };
    alloc_arena_collect();
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t size = sizes[i], bs = round_os_page(size);
        CHECK_EQ(alloc_arena_block_size(size), bs);
        alloc_stats_t s0 = snap(), s1, d;
        char *p = alloc_arena_malloc(size);
        REQUIRE(p != NULL);
        CHECK((uintptr_t)p % T_OS_PAGE == 0);
        s1 = snap();
        d = t_stats_delta(&s0, &s1);
        CHECK_EQ(d.mapped_bytes, bs);
        CHECK_EQ(d.live_bytes, bs);
        CHECK_EQ(d.large_live, 1);
        CHECK_EQ(d.allocated, 1);
        CHECK_EQ(d.pages, 0);
        CHECK_EQ(d.segments, 0);
        CHECK(s1.peak_mapped_bytes >= s1.mapped_bytes);
        t_pattern_fill(p, size);
        CHECK(t_pattern_ok(p, size));
        alloc_arena_free(p, size);
        s1 = snap();
        d = t_stats_delta(&s0, &s1);
        CHECK_EQ(d.mapped_bytes, 0);
        CHECK_EQ(d.live_bytes, 0);
        CHECK_EQ(d.large_live, 0);
        CHECK_EQ(d.freed, 1);
    }
}

/* A freed large block of at most 256 KiB stays mapped in its heap's cache
 * (8 entries) and comes back for the next large malloc of the same rounded
 * size without a new mapping; bigger ones and the ninth are unmapped; collect
 * unmaps the cache. */
static void large_block_cache(void)
{
    if (rc_cfg_debug) {
        /* Debug builds keep nothing (a write after free must fault). */
        char *p = alloc_arena_malloc(5000);
        REQUIRE(p != NULL);
        alloc_arena_free(p, 5000);
        CHECK_EQ(snap().large_cached_bytes, 0);
        return;
    }
    alloc_arena_collect();
    alloc_stats_t s0 = snap(), s1;
    CHECK_EQ(s0.large_cached_bytes, 0);
    char *p = alloc_arena_malloc(5000);            /* 8 KiB */
    REQUIRE(p != NULL);
    alloc_arena_free(p, 5000);
    s1 = snap();
    CHECK_EQ(s1.large_cached_bytes, 8192);
    CHECK_EQ(s1.mapped_bytes - s0.mapped_bytes, 8192);
    char *q = alloc_arena_malloc(8000);            /* same rounded size: reused */
    CHECK(q == p);
    s1 = snap();
    CHECK_EQ(s1.large_cached_bytes, 0);
    CHECK_EQ(s1.mapped_bytes - s0.mapped_bytes, 8192);
    alloc_arena_free(q, 8000);
    char *big = alloc_arena_malloc((256 << 10) + 1);   /* above the cached size */
    REQUIRE(big != NULL);
    alloc_arena_free(big, (256 << 10) + 1);
    s1 = snap();
    CHECK_EQ(s1.large_cached_bytes, 8192);
    char *l[9];
    for (int i = 0; i < 9; i++)
        REQUIRE((l[i] = alloc_arena_malloc(2000 + 4096 * (size_t)i)) != NULL);
    for (int i = 0; i < 9; i++)
        alloc_arena_free(l[i], 2000 + 4096 * (size_t)i);
    s1 = snap();
    /* l[1] took the cached 8 KiB; the first 8 freed (4 KiB x 1..8) are kept. */
    CHECK_EQ(s1.large_cached_bytes, 4096 * 36);
    alloc_arena_collect();
    s1 = snap();
    CHECK_EQ(s1.large_cached_bytes, 0);
    CHECK_EQ(s1.mapped_bytes, s0.mapped_bytes);
}

/* Many large blocks live at once (more than the debug registry's first
 * 1024 entries, so it grows), freed in a random order. */
static void many_large_blocks(uint64_t seed)
{
    enum { N = 1500 };
    static void *p[N];
    static size_t sz[N];
    alloc_arena_collect();                  /* start with no large block cached */
    alloc_stats_t s0 = snap(), s1;
    uint64_t bytes = 0;
    for (int i = 0; i < N; i++) {
        sz[i] = ALLOC_ARENA_MAX_SMALL + 1 + (size_t)(test_rand(&seed) % 9000);
        REQUIRE((p[i] = alloc_arena_malloc(sz[i])) != NULL);
        t_pattern_fill(p[i], sz[i]);
        bytes += alloc_arena_block_size(sz[i]);
    }
    s1 = snap();
    CHECK_EQ(s1.large_live - s0.large_live, N);
    CHECK_EQ(s1.live_bytes - s0.live_bytes, bytes);
    CHECK_EQ(s1.mapped_bytes - s0.mapped_bytes, bytes);
    for (int i = N - 1; i > 0; i--) {       /* Fisher-Yates */
        int k = (int)(test_rand(&seed) % (uint64_t)(i + 1));
        void *tp = p[i]; p[i] = p[k]; p[k] = tp;
        size_t ts = sz[i]; sz[i] = sz[k]; sz[k] = ts;
    }
    long broken = 0;
    for (int i = 0; i < N; i++) {
        broken += !t_check_free(p[i], sz[i]);
    }
    CHECK_EQ(broken, 0);
    s1 = snap();
    CHECK_EQ(s1.large_live, s0.large_live);
    CHECK_EQ(s1.mapped_bytes - s1.large_cached_bytes, s0.mapped_bytes);
    CHECK(rc_cfg_debug ? s1.large_cached_bytes == 0 : s1.large_cached_bytes > 0);
}

/* Requests no mapping can satisfy return NULL and change no counter. */
static void impossible_requests(void)
{
    alloc_stats_t s0 = snap(), s1;
    CHECK(alloc_arena_malloc(SIZE_MAX) == NULL);
    CHECK(alloc_arena_malloc(SIZE_MAX - 100) == NULL);         /* rounds past SIZE_MAX */
    CHECK(alloc_arena_malloc(SIZE_MAX - 2 * T_OS_PAGE) == NULL);
    CHECK(alloc_arena_malloc((size_t)1 << 62) == NULL);        /* beyond the address space */
    CHECK(alloc_immortal(SIZE_MAX) == NULL);
    CHECK(alloc_immortal(SIZE_MAX - 8) == NULL);
    CHECK(alloc_immortal((size_t)1 << 62) == NULL);
    s1 = snap();
    CHECK_EQ(s1.allocated, s0.allocated);
    CHECK_EQ(s1.live_blocks, s0.live_blocks);
    CHECK_EQ(s1.immortal_bytes, s0.immortal_bytes);
    CHECK_EQ(s1.mapped_bytes, s0.mapped_bytes);
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

/* Immortal blocks: 16-aligned, zeroed, disjoint, counted in immortal_bytes
 * rounded up to 16 (what is handed out), and not blocks of the heaps. */
static void immortal(uint64_t seed)
{
    enum { N = 300 };
    static unsigned char *p[N];
    static size_t sz[N];
    alloc_stats_t s0 = snap(), s1, d;
    uint64_t expect = 0;
    long bad = 0;
    for (int i = 0; i < N; i++) {
        sz[i] = i == 0 ? 0 : i == 1 ? 24 : (size_t)(test_rand(&seed) % 700);
        p[i] = alloc_immortal(sz[i]);
        REQUIRE(p[i] != NULL);
        size_t rounded = sz[i] == 0 ? 16 : (sz[i] + 15) & ~(size_t)15;
        expect += rounded;
        if ((uintptr_t)p[i] % 16 != 0 || !all_zero(p[i], rounded))
            bad++;
        t_pattern_fill(p[i], sz[i]);
        if (i == 1) {
            s1 = snap();
            CHECK_EQ(s1.immortal_bytes - s0.immortal_bytes, 16 + 32);
        }
    }
    for (int i = 0; i < N; i++)
        if (!t_pattern_ok(p[i], sz[i]))
            bad++;
    CHECK_EQ(bad, 0);
    s1 = snap();
    d = t_stats_delta(&s0, &s1);
    CHECK_EQ(d.immortal_bytes, expect);
    CHECK_EQ(d.allocated, 0);
    CHECK_EQ(d.live_blocks, 0);
    CHECK_EQ(d.live_bytes, 0);
    CHECK(d.mapped_bytes <= ((size_t)1 << 20) + T_OS_PAGE);  /* at most one more chunk */

    /* Bigger than a chunk: a mapping of its own, all zero. */
    size_t big = (size_t)2 << 20;
    s0 = snap();
    unsigned char *q = alloc_immortal(big);
    REQUIRE(q != NULL);
    s1 = snap();
    CHECK((uintptr_t)q % 16 == 0);
    CHECK(all_zero(q, big));
    CHECK_EQ(s1.immortal_bytes - s0.immortal_bytes, big);
    CHECK(s1.mapped_bytes - s0.mapped_bytes >= big);
    CHECK(s1.mapped_bytes - s0.mapped_bytes <= big + 2 * T_OS_PAGE);
    memset(q, 0x5A, big);
}

int main(int argc, char **argv)
{
    test_opts_t opt = test_opts(argc, argv);
    printf("seed %" PRIu64 "\n", opt.seed);
    size_classes();
    alignment_and_overlap(opt.seed);
    page_reuse();
    statistics_exact();
    exit_takes_back_remote_frees();
    segment_cache();
    destructor_after_the_arenas();
    full_page_scan();
    collect_takes_back_full_pages();
    adopted_full_page();
    adoption_by_a_full_heap();
    full_page_requeue();
    empty_page_bound();
    large_blocks();
    large_block_cache();
    many_large_blocks(opt.seed);
    impossible_requests();
    immortal(opt.seed);
    alloc_stats_t s = snap();
    printf("arena: %" PRIu64 " blocks allocated, peak mapped %" PRIu64 " KiB\n",
           s.allocated, s.peak_mapped_bytes >> 10);
    return TEST_END();
}
