/* tests/alloc/arena_test.h — helpers shared by the arena's tests.
 *
 * A check pattern derived from a block's address and requested size, so a
 * block that was handed out twice, overwritten by a neighbour or moved
 * between threads without its contents is caught when it is verified (on
 * every free). A packed "block reference" (pointer and size in one word)
 * for the atomic slot arrays of the stress tests, the arena's layout
 * constants as the tests see them, and the check that the arena is back
 * where a test found it (T_CHECK_BACK_TO).
 * Threading: the functions are pure, callers own the blocks they fill or
 * check; T_CHECK_BACK_TO collects into the calling thread's heap, with no
 * other thread using the arena.
 */
#ifndef RC_TESTS_ALLOC_ARENA_TEST_H
#define RC_TESTS_ALLOC_ARENA_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc/alloc.h"
#include "base/config.h"
#include "tests/check.h"

/* The arena's layout (alloc/arena.c): 4 MiB segments aligned to their
 * size, split into pages of 2^RC_ARENA_PAGE_SHIFT bytes, page 0 being the
 * segment header. The
 * tests use these to tell which segment and page a block lives in; the
 * unit test checks they agree with what the statistics report. */
#define T_SEGMENT ((uintptr_t)4 << 20)
/* Segments an exiting heap leaves cached: none in debug builds. */
#define T_CACHES ((uint64_t)(rc_cfg_debug ? 0 : 1))
#define T_PAGE    ((uintptr_t)1 << RC_ARENA_PAGE_SHIFT)
/* 1 KiB blocks in a page: the tests' unit of "a page of blocks". */
#define T_PER_PAGE_1K ((int)(T_PAGE >> 10))
#define T_OS_PAGE ((size_t)4096)

static inline uintptr_t t_segment_of(const void *p) { return (uintptr_t)p & ~(T_SEGMENT - 1); }
static inline uintptr_t t_page_of(const void *p) { return (uintptr_t)p & ~(T_PAGE - 1); }

/* Word I of the pattern of a block at P of SIZE bytes (splitmix-style
 * finaliser: neighbouring blocks and words differ in every byte). */
static inline uint64_t t_pattern_word(const void *p, size_t size, size_t i)
{
    uint64_t x = (uint64_t)(uintptr_t)p ^ ((uint64_t)size * UINT64_C(0x9E3779B97F4A7C15)) ^
                 ((uint64_t)i * UINT64_C(0xBF58476D1CE4E5B9));
    x ^= x >> 31;
    x *= UINT64_C(0x94D049BB133111EB);
    x ^= x >> 29;
    return x;
}

/* Fills all SIZE bytes of the block at P (8-aligned: every arena block is). */
static inline void t_pattern_fill(void *p, size_t size)
{
    uint64_t *w = p;
    size_t n = size / 8;
    for (size_t i = 0; i < n; i++)
        w[i] = t_pattern_word(p, size, i);
    if (size % 8) {
        uint64_t last = t_pattern_word(p, size, n);
        memcpy(&w[n], &last, size % 8);
    }
}

/* True when the block at P still holds its pattern. */
static inline bool t_pattern_ok(const void *p, size_t size)
{
    const uint64_t *w = p;
    size_t n = size / 8;
    for (size_t i = 0; i < n; i++)
        if (w[i] != t_pattern_word(p, size, i))
            return false;
    if (size % 8) {
        uint64_t last = t_pattern_word(p, size, n);
        if (memcmp(&w[n], &last, size % 8) != 0)
            return false;
    }
    return true;
}

/* Checks P's pattern, then frees it to the arena; true when the pattern held. */
static inline bool t_check_free(void *p, size_t size)
{
    bool ok = t_pattern_ok(p, size);
    alloc_arena_free(p, size);
    return ok;
}

/* A block reference in one word, for atomic slots: the pointer in the low
 * 48 bits (user-space addresses on x86-64 and ARM64 with 48-bit VA), the
 * requested size in the high 16, so sizes stay below 64 KiB. 0 = empty. */
#define T_REF_MAX_SIZE 0xFFFFu
typedef uint64_t t_ref_t;

static inline t_ref_t t_ref(void *p, size_t size)
{
    return (uint64_t)(uintptr_t)p | ((uint64_t)size << 48);
}
static inline void *t_ref_ptr(t_ref_t r) { return (void *)(uintptr_t)(r & ((UINT64_C(1) << 48) - 1)); }
static inline size_t t_ref_size(t_ref_t r) { return (size_t)(r >> 48); }

/* Stats after minus stats before, field by field (unsigned wrap is fine:
 * callers compare with CHECK_EQ, which prints them as signed). mapped_bytes
 * leaves out the freed large blocks heaps keep for reuse (counted in
 * large_cached_bytes, tested by large_block_cache in test_arena.c), so the
 * other tests can state exactly what the live blocks need. */
static inline alloc_stats_t t_stats_delta(const alloc_stats_t *a, const alloc_stats_t *b)
{
    alloc_stats_t d;
    d.allocated = b->allocated - a->allocated;
    d.freed = b->freed - a->freed;
    d.remote_frees = b->remote_frees - a->remote_frees;
    d.live_blocks = b->live_blocks - a->live_blocks;
    d.live_bytes = b->live_bytes - a->live_bytes;
    d.large_live = b->large_live - a->large_live;
    d.pages = b->pages - a->pages;
    d.segments = b->segments - a->segments;
    d.cached_segments = b->cached_segments - a->cached_segments;
    d.abandoned_segments = b->abandoned_segments - a->abandoned_segments;
    d.heaps = b->heaps - a->heaps;
    d.immortal_bytes = b->immortal_bytes - a->immortal_bytes;
    d.large_cached_bytes = b->large_cached_bytes - a->large_cached_bytes;
    d.mapped_bytes = (b->mapped_bytes - b->large_cached_bytes) -
                     (a->mapped_bytes - a->large_cached_bytes);
    d.peak_mapped_bytes = b->peak_mapped_bytes - a->peak_mapped_bytes;
    return d;
}

/* Collects (alloc_arena_collect), then checks the arena is back to BASE,
 * statistics taken after an earlier collect: no block live, as many
 * heaps, pages, segments and abandoned segments as then, and MAPPED bytes
 * more mapped (the large-block cache left out, as t_stats_delta counts
 * them), or T_MAPPED_ANY: not checked. A macro, so a failure names the
 * caller's line. */
#define T_MAPPED_ANY UINT64_MAX
#define T_CHECK_BACK_TO(base, mapped)                                         \
    do {                                                                      \
        alloc_stats_t now_, d_;                                               \
        alloc_arena_collect();                                                \
        alloc_arena_stats(&now_);                                             \
        d_ = t_stats_delta(&(base), &now_);                                   \
        CHECK_EQ(d_.live_blocks, 0);                                          \
        CHECK_EQ(d_.heaps, 0);                                                \
        CHECK_EQ(d_.pages, 0);                                                \
        CHECK_EQ(d_.segments, 0);                                             \
        CHECK_EQ(d_.abandoned_segments, 0);                                   \
        if ((uint64_t)(mapped) != T_MAPPED_ANY)                               \
            CHECK_EQ(d_.mapped_bytes, (mapped));                              \
    } while (0)

#endif /* RC_TESTS_ALLOC_ARENA_TEST_H */
