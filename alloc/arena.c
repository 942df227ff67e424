/* alloc/arena.c — rcbench's arena: per-thread heaps over aligned segments.
 *
 * Segments of 4 MiB, aligned to their size, are cut into 128 KiB pages of
 * one size class each; a block's page descriptor is found by masking its
 * address. malloc pops the class's current page's free list and the owner's
 * free pushes onto it: no lock, no atomic. A free by another thread is one
 * release CAS onto the page's thread_free list, which the owner takes whole
 * with an acquire exchange (no CAS pop, no ABA). Full pages leave the class
 * queue; a thread that exits abandons its non-empty segments, which live
 * threads adopt with the blocks freed into them meanwhile.
 *
 * Threading: owner-only fields are marked "owner" below; shared fields are
 * RC_ATOMIC. Ownership moves only through the abandoned list, under its
 * lock. A page is released only when all its blocks are back, so never
 * under a remote freer (it touches the page only while its block is out).
 *
 * Design: docs/alloc.md.
 */
#define RC_ALLOC_INSIDE 1
#include "alloc/internal.h"

#include <pthread.h>
#include <stdalign.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "alloc/alloc.h"
#include "base/arch.h"
#include "base/config.h"
#include "base/list.h"

#if RC_ASAN
#include <sanitizer/asan_interface.h>
#define block_poison(p, n)   __asan_poison_memory_region((p), (n))
#define block_unpoison(p, n) __asan_unpoison_memory_region((p), (n))
#define block_is_poisoned(p) __asan_address_is_poisoned(p)
#else
#define block_is_poisoned(p) ((void)(p), false)
#define block_poison(p, n)   ((void)(p), (void)(n))
#define block_unpoison(p, n) ((void)(p), (void)(n))
#endif

/* Layout and tuning knobs: base/config.h (RC_ARENA_*). */
#define ARENA_SEGMENT_SHIFT   RC_ARENA_SEGMENT_SHIFT
#define ARENA_SEGMENT         ((size_t)1 << ARENA_SEGMENT_SHIFT)
#define ARENA_PAGE_SHIFT      RC_ARENA_PAGE_SHIFT
#define ARENA_PAGE            ((size_t)1 << ARENA_PAGE_SHIFT)
#define ARENA_SEGMENT_PAGES   (ARENA_SEGMENT / ARENA_PAGE)
#define ARENA_EXTEND_BYTES    RC_ARENA_EXTEND_BYTES
#define ARENA_EXTEND_MIN      16u
#define ARENA_FULL_SCAN       RC_ARENA_FULL_SCAN
#define ARENA_KEEP_EMPTY      RC_ARENA_KEEP_EMPTY
#define ARENA_LARGE_CACHE     RC_ARENA_LARGE_CACHE
#define ARENA_LARGE_CACHE_MAX ((size_t)RC_ARENA_LARGE_CACHE_KIB << 10)
_Static_assert(ARENA_PAGE >= ALLOC_ARENA_MAX_SMALL * 16, "a page holds at least 16 of the largest blocks");
_Static_assert(ARENA_SEGMENT_PAGES >= 2 && ARENA_SEGMENT_PAGES <= 1024, "segment of 2..1024 pages");

/* Debug patterns. */
#define ARENA_FREE_MARK   UINT64_C(0xF7EEB10CF7EEB10C)  /* word 1 of a free block */
#define ARENA_POISON_BYTE 0xDD                            /* rest of a free block */
#define ARENA_CANARY_BYTE 0xCA                            /* slack after a live block */

/* ------------------------------------------------------------------------
 * Size classes: 8, then multiples of 16 up to 128, then four per doubling.
 * Every class >= 16 is a multiple of 16, and pages are 128 KiB aligned, so
 * every block of 16 bytes or more is 16-byte aligned.
 * ---------------------------------------------------------------------- */
static const uint32_t class_size[] = {
    8, 16, 32, 48, 64, 80, 96, 112, 128,
    160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
};
#define ARENA_CLASSES ((unsigned)(sizeof class_size / sizeof class_size[0]))
_Static_assert(sizeof class_size / sizeof class_size[0] == 21, "class table");

/* class_of[(size + 7) / 8]: the smallest class holding size, as a
 * constant table (a constructor could run after another constructor's first
 * malloc). CLS(i) is the class of i * 8 bytes; test_arena checks the table
 * against class_size for every size. */
#define CLS(i) ((i) <= 1 ? 0 : (i) <= 16 ? ((i) + 1) / 2 :                      \
                (i) <= 32 ? 9 + ((i) - 17) / 4 : (i) <= 64 ? 13 + ((i) - 33) / 8 : \
                17 + ((i) - 65) / 16)
#define CLS8(i) CLS(i), CLS(i + 1), CLS(i + 2), CLS(i + 3), CLS(i + 4), CLS(i + 5), \
                CLS(i + 6), CLS(i + 7)
static const uint8_t class_of[ALLOC_ARENA_MAX_SMALL / 8 + 1] = {
    CLS8(0), CLS8(8), CLS8(16), CLS8(24), CLS8(32), CLS8(40), CLS8(48), CLS8(56),
    CLS8(64), CLS8(72), CLS8(80), CLS8(88), CLS8(96), CLS8(104), CLS8(112), CLS8(120),
    CLS(128),
};
#undef CLS8
#undef CLS

typedef struct arena_block {
    struct arena_block *next;
} arena_block_t;

typedef struct arena_heap arena_heap_t;

/* A page descriptor. Invariants (owner view):
 *   free: blocks ready to hand out; used: blocks out, including those
 *   freed remotely and not yet collected; capacity <= reserved blocks carved
 *   so far, free list + used + thread_free list = capacity.
 *   A page is in exactly one list: its class queue, its class's full list,
 *   or its heap's free-page list (in_use == 0).
 * thread_free sits on its own cache line: remote freers hammer it, the
 * owner's fast path never reads it. */
typedef struct arena_page {
    arena_block_t *free;             /* owner */
    uint32_t used;                   /* owner */
    uint32_t capacity;               /* owner */
    uint32_t reserved;               /* owner: blocks that fit the page */
    uint32_t block_size;             /* owner; read by any freer of a live block */
    uint8_t cls;                     /* owner; ditto */
    uint8_t in_use;                  /* owner */
    uint8_t full;                    /* owner: in the full list */
    uint8_t kept_empty;              /* owner: counted in the class's nempty */
    rc_dlink_t link;                 /* owner: on one list, see above */
    alignas(RC_CACHE_LINE) RC_ATOMIC(uintptr_t) thread_free;  /* shared: remote frees */
} arena_page_t;

/* A segment header, at the segment's start. */
typedef struct arena_segment {
    RC_ATOMIC(arena_heap_t *) heap;   /* owner heap; NULL while abandoned */
    rc_dlink_t link;                  /* on its heap's segments (owner) or abandoned (its lock) */
    uint32_t used_pages;              /* owner: pages in_use */
    arena_page_t pages[ARENA_SEGMENT_PAGES];  /* pages[0] is this header's own page */
} arena_segment_t;
_Static_assert(sizeof(arena_segment_t) <= ARENA_PAGE, "segment header must fit page 0");

/* One size class of a heap. `page` is the page malloc pops from: the head
 * of the queue, or the empty sentinel page when the queue is empty, so the
 * fast path never tests for NULL. Counters are owner-written (relaxed load
 * + relaxed store) and read by alloc_arena_stats. */
typedef struct arena_class {
    arena_page_t *page;               /* owner */
    rc_dlist_t queue;                 /* owner: pages with free blocks */
    rc_dlist_t full;                  /* owner: pages without */
    uint32_t nempty;                  /* owner: kept_empty pages in the queue */
    RC_ATOMIC(uint64_t) allocs;       /* owner-written */
    RC_ATOMIC(uint64_t) frees;        /* owner-written: local frees */
    RC_ATOMIC(uint64_t) remote_frees; /* owner-written: this thread freeing others' blocks */
} arena_class_t;

struct arena_heap {
    arena_class_t cls[ARENA_CLASSES];
    rc_dlist_t segments;              /* owner */
    rc_dlist_t free_pages;            /* owner: pages not in use, of own segments */
    uint32_t nsegments;               /* owner */
    RC_ATOMIC(uint64_t) large_allocs, large_frees;           /* owner-written */
    RC_ATOMIC(uint64_t) large_bytes_alloc, large_bytes_freed; /* owner-written */
    struct { void *p; size_t size; } large_cache[ARENA_LARGE_CACHE];  /* owner */
    uint32_t nlarge_cache;            /* owner */
    rc_dlink_t reg;                   /* on heaps, under heaps_lock */
};

/* ------------------------------------------------------------------------
 * The empty heap: every thread starts with it. Its pages are the sentinel
 * (no free block), so the first malloc takes the slow path and creates the
 * thread's heap; no segment names it, so every free from a heapless thread
 * is remote.
 * ---------------------------------------------------------------------- */
static arena_page_t page_empty;
#define EC { .page = &page_empty }
static arena_heap_t heap_empty = { .cls = {
    EC, EC, EC, EC, EC, EC, EC, EC, EC, EC, EC, EC, EC, EC, EC, EC, EC, EC, EC, EC, EC,
} };
#undef EC

static _Thread_local arena_heap_t *tl_heap = &heap_empty;

/* Heap registry (stats) and totals of exited heaps. */
static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static rc_dlist_t heaps;                          /* under heaps_lock */
static uint64_t dead_allocs[ARENA_CLASSES], dead_frees[ARENA_CLASSES],
                dead_remote[ARENA_CLASSES];       /* under heaps_lock */
static uint64_t dead_large_allocs, dead_large_frees,
                dead_large_bytes;                 /* under heaps_lock */
static uint64_t nheaps;                           /* under heaps_lock */
/* Frees by threads that could not get a heap (out of memory). */
static RC_ATOMIC(uint64_t) orphan_remote[ARENA_CLASSES];

/* Abandoned segments. */
static pthread_mutex_t abandoned_lock = PTHREAD_MUTEX_INITIALIZER;
static rc_dlist_t abandoned;                      /* under abandoned_lock */
static RC_ATOMIC(uint64_t) abandoned_count;       /* hint read without the lock */

static RC_ATOMIC(uint64_t) pages_in_use, segments_mapped, large_cached;

/* Empty segments kept mapped for the next heap that needs one, of any
 * thread: a thread's heap dies with it, and the harness runs every
 * benchmark run on threads of its own. */
static pthread_mutex_t seg_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static rc_dlist_t seg_cache;                      /* under seg_cache_lock */
static uint64_t seg_cache_touched_ms;             /* under seg_cache_lock */
static RC_ATOMIC(uint64_t) segments_cached;       /* written under it; a hint without */

static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;

static inline void bump(RC_ATOMIC(uint64_t) *c, uint64_t by)
{
    at_store_relaxed(c, at_load_relaxed(c) + by);   /* single writer */
}

static inline arena_segment_t *segment_of(const void *p)
{
    return (arena_segment_t *)((uintptr_t)p & ~(uintptr_t)(ARENA_SEGMENT - 1));
}

static inline arena_page_t *page_of(arena_segment_t *seg, const void *p)
{
    return &seg->pages[((uintptr_t)p - (uintptr_t)seg) >> ARENA_PAGE_SHIFT];
}

static inline char *page_start(arena_page_t *pg)
{
    arena_segment_t *seg = segment_of(pg);
    return (char *)seg + ((size_t)(pg - seg->pages) << ARENA_PAGE_SHIFT);
}

static inline arena_block_t *block_next(arena_block_t *b)
{
    block_unpoison(b, sizeof *b);
    arena_block_t *n = b->next;
    block_poison(b, sizeof *b);
    return n;
}

size_t alloc_arena_block_size(size_t size)
{
    if (size > ALLOC_ARENA_MAX_SMALL)
        return (size + ALLOC_OS_PAGE - 1) & ~(size_t)(ALLOC_OS_PAGE - 1);
    return class_size[class_of[(size + 7) >> 3]];
}

/* ------------------------------------------------------------------------
 * Debug checks (rc_cfg_debug): free blocks carry a mark in word 1 and
 * poison after it; live blocks carry canary bytes between the requested
 * size and the block's end.
 * ---------------------------------------------------------------------- */
static bool poison_intact(const unsigned char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != ARENA_POISON_BYTE)
            return false;
    return true;
}

static void debug_mark_free(void *p, size_t bs)
{
    if (bs >= 16) {
        ((uint64_t *)p)[1] = ARENA_FREE_MARK;
        memset((char *)p + 16, ARENA_POISON_BYTE, bs - 16);
    }
}

static void debug_on_alloc(void *p, size_t size, size_t bs)
{
    if (bs >= 16) {
        if (((uint64_t *)p)[1] != ARENA_FREE_MARK || !poison_intact(p, 16, bs))
            _alloc_fatal("block %p (%zu bytes) was written after it was freed", p, bs);
        memset(p, 0, 16);
    }
    memset((char *)p + size, ARENA_CANARY_BYTE, bs - size);
}

RC_SLOW_PATH static void debug_check_free(void *p, size_t size)
{
    const void *base;
    size_t rsize;
    alloc_region_kind_t kind = _alloc_registry_find(p, &base, &rsize);
    if (kind == REGION_IMMORTAL)
        _alloc_fatal("free of %p, an immortal block (immortal blocks are never freed)", p);
    if (size > ALLOC_ARENA_MAX_SMALL) {
        if (kind != REGION_LARGE || base != p)
            _alloc_fatal("free of %p (%zu bytes): not a large block the arena handed out "
                         "(double free or bad pointer)", p, size);
        if (rsize != alloc_arena_block_size(size))
            _alloc_fatal("free of large block %p with size %zu; it was allocated with a "
                         "different size", p, size);
        return;
    }
    if (kind != REGION_SEGMENT)
        _alloc_fatal("free of %p (%zu bytes): the arena never allocated it", p, size);
    arena_segment_t *seg = segment_of(p);
    arena_page_t *pg = page_of(seg, p);
    bool owner = at_load_relaxed(&seg->heap) == tl_heap;
    size_t off = (size_t)((char *)p - page_start(pg));
    /* A block that is out keeps its page in use and its block size fixed,
     * so any thread may read those; capacity grows under the owner, so
     * another thread checks against reserved (what the page can hold). */
    if (pg == &seg->pages[0] || !pg->in_use || off % pg->block_size != 0 ||
        off / pg->block_size >= (owner ? pg->capacity : pg->reserved))
        _alloc_fatal("free of %p (%zu bytes): not the start of a block the arena handed out",
                     p, size);
    size_t bs = pg->block_size;
    if (class_size[class_of[(size + 7) >> 3]] != bs)
        _alloc_fatal("free of %p with size %zu, but it is a %zu-byte block", p, size, bs);
    /* An 8-byte block has no room for the mark: the owner looks for it in
     * the page's free list (expensive tier: a list walk, debug only); other
     * threads' double frees show up as a too-long remote list. */
    if (bs == 8 && owner)
        for (arena_block_t *f = pg->free; f != NULL; f = block_next(f))
            if (f == p)
                _alloc_fatal("double free of %p (%zu-byte block)", p, bs);
    if (bs >= 16 && (block_is_poisoned((char *)p + 8) ||
                     (((uint64_t *)p)[1] == ARENA_FREE_MARK && poison_intact(p, 16, bs))))
        _alloc_fatal("double free of %p (%zu-byte block)", p, bs);
    for (size_t i = size; i < bs; i++)
        if (((unsigned char *)p)[i] != ARENA_CANARY_BYTE)
            _alloc_fatal("block %p of %zu bytes was written past its end (canary at +%zu)",
                         p, size, i);
    debug_mark_free(p, bs);
}

/* ------------------------------------------------------------------------
 * Lists (base/list.h): the nodes behind the links
 * ---------------------------------------------------------------------- */
static inline arena_page_t *page_at(rc_dlink_t *l) { return RC_DLIST_ENTRY(l, arena_page_t, link); }
static inline arena_segment_t *segment_at(rc_dlink_t *l) { return RC_DLIST_ENTRY(l, arena_segment_t, link); }
static inline arena_heap_t *heap_at(rc_dlink_t *l) { return RC_DLIST_ENTRY(l, arena_heap_t, reg); }

static void queue_reset_current(arena_class_t *c)
{
    c->page = c->queue.first ? page_at(c->queue.first) : &page_empty;
}

/* Takes back the blocks other threads freed into PG: one exchange. */
static uint32_t page_collect_remote(arena_page_t *pg)
{
    if (at_load_relaxed(&pg->thread_free) == 0)
        return 0;
    /* Acquire pairs with the release CAS in free_remote_slow: the freers' writes
     * (the block's link, its debug poison) are visible before we walk. */
    arena_block_t *list = (arena_block_t *)at_exchange_acquire(&pg->thread_free, 0);
    uint32_t n = 1;
    arena_block_t *tail = list, *next;
    while ((next = block_next(tail)) != NULL) {
        tail = next;
        /* More blocks than the page has: a block was freed twice and the
         * list is a cycle. Say so instead of walking it forever. */
        if (RC_UNLIKELY(++n > pg->capacity))
            _alloc_fatal("double free of a block in page %p (%u-byte blocks), freed twice "
                         "by other threads", (void *)page_start(pg), pg->block_size);
    }
    block_unpoison(tail, sizeof *tail);
    tail->next = pg->free;
    block_poison(tail, sizeof *tail);
    pg->free = list;
    pg->used -= n;
    return n;
}

/* Carves up to one extension of fresh blocks into PG's free list. */
static void page_extend(arena_page_t *pg)
{
    uint32_t bs = pg->block_size;
    uint32_t n = ARENA_EXTEND_BYTES / bs;
    if (n < ARENA_EXTEND_MIN)
        n = ARENA_EXTEND_MIN;
    if (n > pg->reserved - pg->capacity)
        n = pg->reserved - pg->capacity;
    char *start = page_start(pg) + (size_t)pg->capacity * bs;
    block_unpoison(start, (size_t)n * bs);   /* a reused page keeps old poison */
    /* Link in address order, the last onto whatever is free already. */
    for (uint32_t i = 0; i < n; i++) {
        arena_block_t *b = (arena_block_t *)(start + (size_t)i * bs);
        b->next = i + 1 < n ? (arena_block_t *)(start + (size_t)(i + 1) * bs) : pg->free;
        if (rc_cfg_debug)
            debug_mark_free(b, bs);
        block_poison(b, bs);
    }
    pg->free = (arena_block_t *)start;
    pg->capacity += n;
}

/* ------------------------------------------------------------------------
 * Segments and pages (owner)
 * ---------------------------------------------------------------------- */
static void segment_unmap(arena_segment_t *seg)
{
    block_unpoison(seg, ARENA_SEGMENT);   /* the next mapping here starts clean */
    _alloc_registry_remove(seg);
    _alloc_os_unmap(seg, ARENA_SEGMENT);
    at_fetch_sub_relaxed(&segments_mapped, 1);
}

/* Milliseconds of CLOCK_MONOTONIC: read on slow paths only (a segment
 * event, a page taken while the segment cache is not empty). */
static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* Unmaps the cached segments: all of them, or only when nothing was
 * pushed to the cache or popped from it for RC_ARENA_PURGE_MS (mimalloc's
 * purge delay, whose expiry also moves on with every purge scheduled).
 * Only a heap taking a page asks, so a program that keeps dropping and
 * building (a tree's drop empties its segments over tens of ms) keeps
 * them, and one that has stopped needing segments gives them back. The
 * clock is read only when the cache holds something. */
static void segment_cache_purge(bool all)
{
    if (at_load_relaxed(&segments_cached) == 0)
        return;
    pthread_mutex_lock(&seg_cache_lock);
    if (all || now_ms() - seg_cache_touched_ms >= RC_ARENA_PURGE_MS) {
        while (seg_cache.first != NULL) {
            arena_segment_t *seg = segment_at(seg_cache.first);
            rc_dlist_remove(&seg_cache, &seg->link);
            at_fetch_sub_relaxed(&segments_cached, 1);
            segment_unmap(seg);
        }
    }
    pthread_mutex_unlock(&seg_cache_lock);
}

/* Keeps SEG (empty, in no list) mapped in the cache, or unmaps it when the
 * cache is full (or in debug builds: a write after free must fault). */
static void segment_retire(arena_segment_t *seg)
{
    if (!rc_cfg_debug) {
        pthread_mutex_lock(&seg_cache_lock);
        bool kept = at_load_relaxed(&segments_cached) < RC_ARENA_SEGMENT_CACHE;
        if (kept) {
            /* Relaxed: the lock publishes the segment to its next taker. */
            at_store_relaxed(&seg->heap, NULL);
            rc_dlist_push_front(&seg_cache, &seg->link);
            at_fetch_add_relaxed(&segments_cached, 1);
            seg_cache_touched_ms = now_ms();
        }
        pthread_mutex_unlock(&seg_cache_lock);
        if (kept)
            return;
    }
    segment_unmap(seg);
}

/* Pops the most recently cached segment; NULL when there is none. */
static arena_segment_t *segment_cache_pop(void)
{
    if (at_load_relaxed(&segments_cached) == 0)
        return NULL;
    pthread_mutex_lock(&seg_cache_lock);
    arena_segment_t *seg = NULL;
    if (seg_cache.first != NULL) {
        seg = segment_at(seg_cache.first);
        rc_dlist_remove(&seg_cache, &seg->link);
        at_fetch_sub_relaxed(&segments_cached, 1);
        seg_cache_touched_ms = now_ms();
    }
    pthread_mutex_unlock(&seg_cache_lock);
    return seg;
}

/* Takes SEG (empty) out of H, into the cache. */
static void segment_release(arena_heap_t *h, arena_segment_t *seg)
{
    for (size_t i = 1; i < ARENA_SEGMENT_PAGES; i++)
        rc_dlist_remove(&h->free_pages, &seg->pages[i].link);
    rc_dlist_remove(&h->segments, &seg->link);
    h->nsegments--;
    segment_retire(seg);
}

static void segment_link(arena_heap_t *h, arena_segment_t *seg)
{
    rc_dlist_push_front(&h->segments, &seg->link);
    h->nsegments++;
    /* Relaxed: only the owner compares seg->heap with itself, and it wrote
     * it; other threads only need "not me". */
    at_store_relaxed(&seg->heap, h);
}

static void free_page_push(arena_heap_t *h, arena_page_t *pg)
{
    rc_dlist_push_front(&h->free_pages, &pg->link);
}

/* Whether segments ask for transparent huge pages: RC_ARENA_HUGEPAGES,
 * unless the environment says RCBENCH_HUGEPAGES=0 or 1. Read once; a
 * race between two first readers stores the same value twice. */
static bool segment_hugepages(void)
{
    static RC_ATOMIC(int) cached = -1;
    int v = at_load_relaxed(&cached);
    if (RC_UNLIKELY(v < 0)) {
        const char *e = getenv("RCBENCH_HUGEPAGES");
        v = e != NULL && (e[0] == '0' || e[0] == '1') && e[1] == '\0' ? e[0] - '0' : RC_ARENA_HUGEPAGES;
        at_store_relaxed(&cached, v);
    }
    return v != 0;
}

/* Gives H a segment of free pages: the most recently cached one, or a new
 * mapping. */
static bool segment_new(arena_heap_t *h)
{
    arena_segment_t *seg = segment_cache_pop();
    if (seg == NULL) {
        seg = _alloc_os_map(ARENA_SEGMENT, ARENA_SEGMENT);
        if (seg == NULL)
            return false;
        /* Advice only: a kernel without THP, or with it off, says no. */
        if (segment_hugepages())
            (void)madvise(seg, ARENA_SEGMENT, MADV_HUGEPAGE);
        at_fetch_add_relaxed(&segments_mapped, 1);
        _alloc_registry_add(seg, ARENA_SEGMENT, REGION_SEGMENT);
    }
    seg->used_pages = 0;
    segment_link(h, seg);
    for (size_t i = ARENA_SEGMENT_PAGES - 1; i >= 1; i--)
        free_page_push(h, &seg->pages[i]);
    return true;
}

/* Marks PG (all blocks back) unused in its segment; the caller lists it. */
static void page_unuse(arena_page_t *pg)
{
    pg->in_use = 0;
    pg->free = NULL;
    at_fetch_sub_relaxed(&pages_in_use, 1);
    segment_of(pg)->used_pages--;
}

/* Returns PG (in no list, all blocks back) to its segment, and the segment
 * to the OS when it is empty and not the heap's last. */
static void page_retire(arena_heap_t *h, arena_page_t *pg)
{
    arena_segment_t *seg = segment_of(pg);
    page_unuse(pg);
    free_page_push(h, pg);
    if (seg->used_pages == 0 && h->nsegments > 1)
        segment_release(h, seg);
}

/* PG is empty (used == 0) and in its class queue: keep it for reuse or
 * return it to its segment. */
static void page_empty_out(arena_heap_t *h, arena_page_t *pg)
{
    arena_class_t *c = &h->cls[pg->cls];
    if (pg == c->page || pg->kept_empty)
        return;
    if (c->nempty < ARENA_KEEP_EMPTY) {
        pg->kept_empty = 1;
        c->nempty++;
        return;
    }
    rc_dlist_remove(&c->queue, &pg->link);
    queue_reset_current(c);
    page_retire(h, pg);
}

static void page_unkeep(arena_class_t *c, arena_page_t *pg)
{
    if (pg->kept_empty) {
        pg->kept_empty = 0;
        c->nempty--;
    }
}

/* Moves PG from its class's full list back to the queue (tail). */
static void page_unfull(arena_class_t *c, arena_page_t *pg)
{
    rc_dlist_remove(&c->full, &pg->link);
    pg->full = 0;
    rc_dlist_push_back(&c->queue, &pg->link);
    queue_reset_current(c);
}

/* Puts an adopted page that still has blocks out where it belongs in H. */
static void page_place(arena_heap_t *h, arena_page_t *pg)
{
    arena_class_t *c = &h->cls[pg->cls];
    pg->kept_empty = 0;
    if (pg->free != NULL || pg->capacity < pg->reserved) {
        pg->full = 0;
        rc_dlist_push_back(&c->queue, &pg->link);
        queue_reset_current(c);
    } else {
        pg->full = 1;
        rc_dlist_push_back(&c->full, &pg->link);
    }
}

/* ------------------------------------------------------------------------
 * Abandonment and adoption
 * ---------------------------------------------------------------------- */
static void heap_abandon(arena_heap_t *h);

static void heap_exit(void *h)
{
    heap_abandon(h);
}

static void exit_key_create(void)
{
    if (pthread_key_create(&exit_key, heap_exit) != 0)
        _alloc_fatal("pthread_key_create failed: cannot track thread exits");
}

/* Adopts SEG (just taken off the abandoned list) into H. Returns false when
 * it turned out empty and was unmapped. */
static bool segment_adopt(arena_heap_t *h, arena_segment_t *seg)
{
    segment_link(h, seg);
    for (size_t i = 1; i < ARENA_SEGMENT_PAGES; i++) {
        arena_page_t *pg = &seg->pages[i];
        if (!pg->in_use) {
            free_page_push(h, pg);
            continue;
        }
        page_collect_remote(pg);
        if (pg->used == 0) {
            page_unuse(pg);
            free_page_push(h, pg);
        } else {
            page_place(h, pg);
        }
    }
    if (seg->used_pages == 0 && h->nsegments > 1) {
        segment_release(h, seg);
        return false;
    }
    return true;
}

/* Takes one abandoned segment, or all when ALL. Returns how many it took. */
static unsigned adopt_abandoned(arena_heap_t *h, bool all)
{
    unsigned n = 0;
    while (at_load_relaxed(&abandoned_count) != 0) {
        pthread_mutex_lock(&abandoned_lock);
        arena_segment_t *seg = NULL;
        if (abandoned.first) {
            seg = segment_at(abandoned.first);
            rc_dlist_remove(&abandoned, &seg->link);
            at_fetch_sub_relaxed(&abandoned_count, 1);
        }
        pthread_mutex_unlock(&abandoned_lock);
        if (seg == NULL)
            break;
        /* The lock ordered the abandoner's writes before ours. */
        segment_adopt(h, seg);
        n++;
        if (!all)
            break;
    }
    return n;
}

/* Unmaps the large blocks H keeps for reuse. */
static void large_cache_release(arena_heap_t *h)
{
    while (h->nlarge_cache > 0) {
        h->nlarge_cache--;
        void *p = h->large_cache[h->nlarge_cache].p;
        size_t size = h->large_cache[h->nlarge_cache].size;
        block_unpoison(p, size);
        _alloc_os_unmap(p, size);
        at_fetch_sub_relaxed(&large_cached, size);
    }
}

static void heap_fold_stats(arena_heap_t *h)
{
    for (unsigned c = 0; c < ARENA_CLASSES; c++) {
        dead_allocs[c] += at_load_relaxed(&h->cls[c].allocs);
        dead_frees[c] += at_load_relaxed(&h->cls[c].frees);
        dead_remote[c] += at_load_relaxed(&h->cls[c].remote_frees);
    }
    dead_large_allocs += at_load_relaxed(&h->large_allocs);
    dead_large_frees += at_load_relaxed(&h->large_frees);
    dead_large_bytes += at_load_relaxed(&h->large_bytes_alloc) -
                        at_load_relaxed(&h->large_bytes_freed);
}

/* Thread exit (pthread key destructor): collect, cache what is empty,
 * abandon the rest, fold the statistics, drop the heap. */
static void heap_abandon(arena_heap_t *h)
{
    tl_heap = &heap_empty;     /* frees from later destructors are remote */
    large_cache_release(h);
    rc_dlink_t *l = h->segments.first;
    while (l) {
        arena_segment_t *seg = segment_at(l);
        l = l->next;                         /* before seg moves to abandoned or is unmapped */
        for (size_t i = 1; i < ARENA_SEGMENT_PAGES; i++) {
            arena_page_t *pg = &seg->pages[i];
            if (!pg->in_use)
                continue;
            page_collect_remote(pg);
            if (pg->used == 0)
                page_unuse(pg);
        }
        if (seg->used_pages == 0) {
            segment_retire(seg);             /* its page links die with H's lists */
        } else {
            /* Relaxed: publication to the adopter is by abandoned_lock. */
            at_store_relaxed(&seg->heap, NULL);
            pthread_mutex_lock(&abandoned_lock);
            rc_dlist_push_front(&abandoned, &seg->link);
            at_fetch_add_relaxed(&abandoned_count, 1);
            pthread_mutex_unlock(&abandoned_lock);
        }
    }
    pthread_mutex_lock(&heaps_lock);
    heap_fold_stats(h);
    rc_dlist_remove(&heaps, &h->reg);
    nheaps--;
    pthread_mutex_unlock(&heaps_lock);
    _alloc_os_unmap(h, (sizeof *h + ALLOC_OS_PAGE - 1) & ~(size_t)(ALLOC_OS_PAGE - 1));
}

/* The calling thread's heap, created on first need; NULL when out of
 * memory. */
static arena_heap_t *heap_get(void)
{
    if (tl_heap != &heap_empty)
        return tl_heap;
    pthread_once(&exit_key_once, exit_key_create);
    arena_heap_t *h = _alloc_os_map((sizeof *h + ALLOC_OS_PAGE - 1) & ~(size_t)(ALLOC_OS_PAGE - 1),
                                    ALLOC_OS_PAGE);
    if (h == NULL)
        return NULL;
    for (unsigned c = 0; c < ARENA_CLASSES; c++)
        h->cls[c].page = &page_empty;
    if (pthread_setspecific(exit_key, h) != 0)
        _alloc_fatal("pthread_setspecific failed: cannot track thread exit");
    pthread_mutex_lock(&heaps_lock);
    rc_dlist_push_front(&heaps, &h->reg);
    nheaps++;
    pthread_mutex_unlock(&heaps_lock);
    tl_heap = h;
    return h;
}

/* ------------------------------------------------------------------------
 * Expensive-tier check (debug builds): every list of heap H agrees with the
 * page states. Walks every page of every segment H owns.
 * ---------------------------------------------------------------------- */
static void heap_validate(arena_heap_t *h)
{
    uint64_t listed = 0, in_use = 0, free_listed = 0, not_in_use = 0;
    for (unsigned ci = 0; ci < ARENA_CLASSES; ci++) {
        arena_class_t *c = &h->cls[ci];
        uint32_t kept = 0;
        if (c->page != (c->queue.first ? page_at(c->queue.first) : &page_empty))
            _alloc_fatal("internal: class %u: current page is not the queue head", ci);
        for (rc_dlink_t *l = c->queue.first; l; l = l->next, listed++) {
            arena_page_t *pg = page_at(l);
            if (!pg->in_use || pg->full || pg->cls != ci || at_load_relaxed(&segment_of(pg)->heap) != h)
                _alloc_fatal("internal: class %u: bad page %p in the queue", ci, (void *)pg);
            kept += pg->kept_empty;
            if (pg->kept_empty && pg->used != 0)
                _alloc_fatal("internal: class %u: kept-empty page %p has blocks out", ci, (void *)pg);
        }
        if (kept != c->nempty || kept > ARENA_KEEP_EMPTY)
            _alloc_fatal("internal: class %u: %u kept-empty pages, count says %u", ci, kept, c->nempty);
        for (rc_dlink_t *l = c->full.first; l; l = l->next, listed++) {
            arena_page_t *pg = page_at(l);
            if (!pg->in_use || !pg->full || pg->cls != ci || pg->kept_empty)
                _alloc_fatal("internal: class %u: bad page %p in the full list", ci, (void *)pg);
        }
    }
    for (rc_dlink_t *l = h->free_pages.first; l; l = l->next, free_listed++)
        if (page_at(l)->in_use)
            _alloc_fatal("internal: page %p in use but on the free-page list", (void *)page_at(l));
    uint32_t nseg = 0;
    for (rc_dlink_t *l = h->segments.first; l; l = l->next, nseg++) {
        arena_segment_t *seg = segment_at(l);
        uint32_t used = 0;
        for (size_t i = 1; i < ARENA_SEGMENT_PAGES; i++)
            used += seg->pages[i].in_use;
        if (used != seg->used_pages)
            _alloc_fatal("internal: segment %p: %u pages in use, count says %u",
                         (void *)seg, used, seg->used_pages);
        in_use += used;
        not_in_use += ARENA_SEGMENT_PAGES - 1 - used;
    }
    if (nseg != h->nsegments || listed != in_use || free_listed != not_in_use)
        _alloc_fatal("internal: heap %p: %u segments (count %u), %llu pages listed of %llu in use, "
                     "%llu free-listed of %llu free", (void *)h, nseg, h->nsegments,
                     (unsigned long long)listed, (unsigned long long)in_use,
                     (unsigned long long)free_listed, (unsigned long long)not_in_use);
}

/* ------------------------------------------------------------------------
 * malloc
 * ---------------------------------------------------------------------- */

/* Makes PG, a page with free blocks (or room to carve) in the queue, the
 * current page of its class and pops one block. */
static void *page_take_block(arena_class_t *c, arena_page_t *pg)
{
    page_unkeep(c, pg);
    c->page = pg;
    if (pg->free == NULL)
        page_extend(pg);
    arena_block_t *b = pg->free;
    block_unpoison(b, pg->block_size);
    pg->free = b->next;
    pg->used++;
    return b;
}

RC_SLOW_PATH static void *malloc_small_slow(size_t size)
{
    arena_heap_t *h = heap_get();
    if (h == NULL)
        return NULL;
    unsigned ci = class_of[(size + 7) >> 3];
    arena_class_t *c = &h->cls[ci];
    void *b = NULL;
    for (;;) {
        /* 1. The queue: each page there has free blocks, remote frees or
         *    room to carve; a page with none of these goes to the full list. */
        arena_page_t *pg;
        while (c->queue.first != NULL) {
            pg = page_at(c->queue.first);
            if (pg->free == NULL)
                page_collect_remote(pg);
            if (pg->free != NULL || pg->capacity < pg->reserved) {
                b = page_take_block(c, pg);
                goto done;
            }
            rc_dlist_remove(&c->queue, &pg->link);
            page_unkeep(c, pg);
            pg->full = 1;
            rc_dlist_push_back(&c->full, &pg->link);
        }
        queue_reset_current(c);
        /* 2. A few full pages, oldest first, for remote frees; those that
         *    stay full rotate to the back. */
        for (int i = 0; i < ARENA_FULL_SCAN && c->full.first != NULL; i++) {
            pg = page_at(c->full.first);
            rc_dlist_remove(&c->full, &pg->link);
            if (page_collect_remote(pg) != 0) {
                pg->full = 0;
                rc_dlist_push_back(&c->queue, &pg->link);
                if (pg->used == 0)          /* c->page is the sentinel here */
                    page_empty_out(h, pg);
            } else {
                rc_dlist_push_back(&c->full, &pg->link);
            }
        }
        if (c->queue.first != NULL)
            continue;
        /* 3. A fresh page from the heap's segments, from an adopted
         *    segment, or from a new segment. */
        if (rc_dlist_is_empty(&h->free_pages) && adopt_abandoned(h, false) != 0)
            continue;
        if (rc_cfg_debug)
            heap_validate(h);
        if (!rc_dlist_is_empty(&h->free_pages))
            segment_cache_purge(false);
        else if (!segment_new(h))
            return NULL;
        pg = page_at(h->free_pages.first);
        rc_dlist_remove(&h->free_pages, &pg->link);
        segment_of(pg)->used_pages++;
        at_fetch_add_relaxed(&pages_in_use, 1);
        pg->block_size = class_size[ci];
        pg->cls = (uint8_t)ci;
        pg->reserved = (uint32_t)(ARENA_PAGE / class_size[ci]);
        pg->capacity = 0;
        pg->used = 0;
        pg->free = NULL;
        pg->in_use = 1;
        pg->full = 0;
        pg->kept_empty = 0;
        rc_dlist_push_back(&c->queue, &pg->link);
    }
done:
    bump(&c->allocs, 1);
    if (rc_cfg_debug)
        debug_on_alloc(b, size, class_size[ci]);
    return b;
}

RC_SLOW_PATH static void *malloc_large_slow(size_t size)
{
    arena_heap_t *h = heap_get();
    if (h == NULL)
        return NULL;
    size_t bs = alloc_arena_block_size(size);
    if (bs < size)
        return NULL;
    void *p = NULL;
    for (uint32_t i = 0; i < h->nlarge_cache; i++) {
        if (h->large_cache[i].size == bs) {
            p = h->large_cache[i].p;
            h->large_cache[i] = h->large_cache[--h->nlarge_cache];
            at_fetch_sub_relaxed(&large_cached, bs);
            block_unpoison(p, bs);
            break;
        }
    }
    if (p == NULL && (p = _alloc_os_map(bs, ALLOC_OS_PAGE)) == NULL)
        return NULL;
    _alloc_registry_add(p, bs, REGION_LARGE);
    bump(&h->large_allocs, 1);
    bump(&h->large_bytes_alloc, bs);
    return p;
}

void *alloc_arena_malloc(size_t size)
{
    if (RC_LIKELY(size <= ALLOC_ARENA_MAX_SMALL)) {
        arena_class_t *c = &tl_heap->cls[class_of[(size + 7) >> 3]];
        arena_page_t *pg = c->page;
        arena_block_t *b = pg->free;
        if (RC_LIKELY(b != NULL)) {
#ifdef RC_INJECT_SLOWDOWN_ALLOC
            /* The regression gate's trial only (tools/gate-trial.sh): a
             * fast path 3 instructions (13%) longer, which the gate must
             * flag. */
            static _Thread_local volatile uint64_t inject;
            inject = inject + 1;
#endif
            block_unpoison(b, pg->block_size);
            pg->free = b->next;
            pg->used++;
            bump(&c->allocs, 1);
            if (rc_cfg_debug)
                debug_on_alloc(b, size, pg->block_size);
            return b;
        }
        return malloc_small_slow(size);
    }
    return malloc_large_slow(size);
}

/* ------------------------------------------------------------------------
 * free
 * ---------------------------------------------------------------------- */
RC_SLOW_PATH static void free_large_slow(void *p, size_t size)
{
    if (rc_cfg_debug)
        debug_check_free(p, size);
    size_t bs = alloc_arena_block_size(size);
    _alloc_registry_remove(p);
    arena_heap_t *h = tl_heap != &heap_empty ? tl_heap : NULL;   /* never create one */
    /* Debug builds cache nothing, so a write after free faults. */
    if (!rc_cfg_debug && h != NULL && bs <= ARENA_LARGE_CACHE_MAX &&
        h->nlarge_cache < ARENA_LARGE_CACHE) {
        block_poison(p, bs);
        h->large_cache[h->nlarge_cache].p = p;
        h->large_cache[h->nlarge_cache].size = bs;
        h->nlarge_cache++;
        at_fetch_add_relaxed(&large_cached, bs);
    } else {
        _alloc_os_unmap(p, bs);
    }
    if (h != NULL) {
        bump(&h->large_frees, 1);
        bump(&h->large_bytes_freed, bs);
    } else {
        pthread_mutex_lock(&heaps_lock);
        dead_large_frees++;
        dead_large_bytes -= bs;
        pthread_mutex_unlock(&heaps_lock);
    }
}

/* A block freed by a thread that does not own its page: one release CAS
 * onto the page's thread_free. After the CAS succeeds the page may be
 * collected, retired and unmapped by its owner: touch nothing of it. */
RC_SLOW_PATH static void free_remote_slow(arena_page_t *pg, arena_block_t *b)
{
    unsigned ci = pg->cls;
    block_unpoison(b, sizeof *b);
    uintptr_t head = at_load_relaxed(&pg->thread_free);
    do {
        b->next = (arena_block_t *)head;
        /* Release pairs with the acquire exchange in page_collect_remote:
         * publishes the link and everything this thread wrote to the block. */
    } while (!at_cas_weak_release(&pg->thread_free, &head, (uintptr_t)b));
    /* Count it without creating a heap: a free must not map memory (nor
     * leave a heap behind in a thread's last destructor round). */
    arena_heap_t *h = tl_heap;
    if (h != &heap_empty)
        bump(&h->cls[ci].remote_frees, 1);
    else
        at_fetch_add_relaxed(&orphan_remote[ci], 1);
}

/* A local free that emptied its page or landed in a full one. */
RC_SLOW_PATH static void free_local_slow(arena_heap_t *h, arena_page_t *pg)
{
    if (pg->full)
        page_unfull(&h->cls[pg->cls], pg);
    if (pg->used == 0)
        page_empty_out(h, pg);
}

void alloc_arena_free(void *p, size_t size)
{
    if (RC_UNLIKELY(size > ALLOC_ARENA_MAX_SMALL)) {
        free_large_slow(p, size);
        return;
    }
    if (rc_cfg_debug)
        debug_check_free(p, size);
    arena_segment_t *seg = segment_of(p);
    arena_page_t *pg = page_of(seg, p);
    arena_heap_t *h = tl_heap;
    arena_block_t *b = p;
    /* Relaxed: equal only if this thread owns the segment, which only this
     * thread could have written. */
    if (RC_UNLIKELY(at_load_relaxed(&seg->heap) != h)) {
        block_poison(b, pg->block_size);
        free_remote_slow(pg, b);
        return;
    }
    b->next = pg->free;
    block_poison(b, pg->block_size);
    pg->free = b;
    arena_class_t *c = &h->cls[pg->cls];
    bump(&c->frees, 1);
    /* The rare cases: the page was full, or is now empty and not the one
     * malloc pops from (an emptied current page just stays current: LIFO
     * alloc+free empties it on every free). */
    if (RC_UNLIKELY(--pg->used == 0 || pg->full)) {
        if (pg->full || pg != c->page)
            free_local_slow(h, pg);
    }
}

/* ------------------------------------------------------------------------
 * Collection and statistics
 * ---------------------------------------------------------------------- */
void alloc_arena_collect(void)
{
    arena_heap_t *h = heap_get();
    if (h == NULL)
        return;
    adopt_abandoned(h, true);
    large_cache_release(h);
    for (unsigned ci = 0; ci < ARENA_CLASSES; ci++) {
        arena_class_t *c = &h->cls[ci];
        /* Full pages first: the ones with remote frees rejoin the queue. */
        rc_dlink_t *l, *next;
        for (l = c->full.first; l != NULL; l = next) {
            arena_page_t *pg = page_at(l);
            next = l->next;
            if (page_collect_remote(pg) != 0)
                page_unfull(c, pg);
        }
        /* Then every queued page: collect; every empty one is retired, the
         * kept ones and the current one too. */
        for (l = c->queue.first; l != NULL; l = next) {
            arena_page_t *pg = page_at(l);
            next = l->next;
            page_collect_remote(pg);
            if (pg->used == 0) {
                page_unkeep(c, pg);
                rc_dlist_remove(&c->queue, &pg->link);
                queue_reset_current(c);
                page_retire(h, pg);
            }
        }
    }
    /* Unmap every empty segment, the last one too, and the cache. */
    for (rc_dlink_t *l = h->segments.first, *next; l != NULL; l = next) {
        next = l->next;
        if (segment_at(l)->used_pages == 0)
            segment_release(h, segment_at(l));
    }
    segment_cache_purge(true);
    if (rc_cfg_debug)
        heap_validate(h);
}

void alloc_arena_stats(alloc_stats_t *out)
{
    uint64_t allocs[ARENA_CLASSES], frees[ARENA_CLASSES], remote[ARENA_CLASSES];
    uint64_t lallocs, lfrees, lbytes;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&heaps_lock);
    for (unsigned c = 0; c < ARENA_CLASSES; c++) {
        allocs[c] = dead_allocs[c];
        frees[c] = dead_frees[c];
        remote[c] = dead_remote[c] + at_load_relaxed(&orphan_remote[c]);
    }
    lallocs = dead_large_allocs;
    lfrees = dead_large_frees;
    lbytes = dead_large_bytes;
    for (rc_dlink_t *l = heaps.first; l != NULL; l = l->next) {
        arena_heap_t *h = heap_at(l);
        for (unsigned c = 0; c < ARENA_CLASSES; c++) {
            allocs[c] += at_load_relaxed(&h->cls[c].allocs);
            frees[c] += at_load_relaxed(&h->cls[c].frees);
            remote[c] += at_load_relaxed(&h->cls[c].remote_frees);
        }
        lallocs += at_load_relaxed(&h->large_allocs);
        lfrees += at_load_relaxed(&h->large_frees);
        lbytes += at_load_relaxed(&h->large_bytes_alloc) - at_load_relaxed(&h->large_bytes_freed);
    }
    out->heaps = nheaps;
    pthread_mutex_unlock(&heaps_lock);
    /* Counters are read one heap after another: while threads run, a free
     * may be seen without its allocation. Clamp rather than wrap. */
    for (unsigned c = 0; c < ARENA_CLASSES; c++) {
        uint64_t gone = frees[c] + remote[c];
        uint64_t live = allocs[c] > gone ? allocs[c] - gone : 0;
        out->allocated += allocs[c];
        out->freed += frees[c] + remote[c];
        out->remote_frees += remote[c];
        out->live_bytes += live * class_size[c];
    }
    out->allocated += lallocs;
    out->freed += lfrees;
    out->large_live = lallocs > lfrees ? lallocs - lfrees : 0;
    out->live_bytes += lbytes;
    out->live_blocks = out->allocated > out->freed ? out->allocated - out->freed : 0;
    out->pages = at_load_relaxed(&pages_in_use);
    out->segments = at_load_relaxed(&segments_mapped);
    out->cached_segments = at_load_relaxed(&segments_cached);
    out->abandoned_segments = at_load_relaxed(&abandoned_count);
    out->immortal_bytes = _alloc_immortal_bytes();
    out->large_cached_bytes = at_load_relaxed(&large_cached);
    out->mapped_bytes = _alloc_os_mapped();
    out->peak_mapped_bytes = _alloc_os_peak();
}
