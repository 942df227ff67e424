/* alloc/alloc.h — the allocator interface the object model calls.
 *
 * One backend is current for the whole process and is chosen by name at run
 * time (alloc_backend_select): "arena" (rcbench's own, alloc/arena.c, the
 * default) or one of the comparison backends "glibc", "jemalloc",
 * "mimalloc", "tcmalloc" (alloc/backends.c; a build may lack some, see
 * alloc_backend_names). Every backend is reached through the same two calls,
 * alloc_malloc(size) and alloc_free(p, size), one indirect call each, so a
 * comparison of backends compares the allocators and not the calling
 * convention: the sized free lets backends that can use the size (the
 * arena's large blocks, jemalloc's sdallocx, mimalloc's mi_free_size) use
 * it. alloc knows nothing of objects.
 *
 * Threading: alloc_malloc/alloc_free are thread-safe, and a block may be
 * freed by any thread. The alloc_backend_* functions must only be called
 * while no other thread allocates or calls them (between benchmarks), and a
 * block must be freed through the backend that allocated it.
 */
#ifndef RC_ALLOC_ALLOC_H
#define RC_ALLOC_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct alloc_backend {
    const char *name;
    void *(*malloc)(size_t size);           /* NULL when out of memory */
    void (*free)(void *p, size_t size);     /* size: what was asked for */
} alloc_backend_t;

/* The current backend; starts as "arena". Read on every allocation, written
 * only by alloc_backend_select at quiescence. */
extern const alloc_backend_t *alloc_current;

/* Makes NAME current. Returns false (and changes nothing) for a name this
 * build does not have, or a peer (jemalloc, mimalloc, tcmalloc) that fails
 * to load; alloc_backend_names() lists the ones the build has,
 * comma-separated, for the error message. A peer is loaded and initialised
 * by the first select or find that names it, not at process start. */
bool alloc_backend_select(const char *name);
const char *alloc_backend_names(void);
/* The backend called NAME, loaded; NULL when select would fail. */
const alloc_backend_t *alloc_backend_find(const char *name);
/* Why the last failing select or find failed, one line without a newline,
 * e.g. "mimalloc: libmimalloc.so.2: cannot open shared object file: No such
 * file or directory"; "" until one fails. */
const char *alloc_backend_error(void);

static inline void *alloc_malloc(size_t size) { return alloc_current->malloc(size); }
static inline void alloc_free(void *p, size_t size) { alloc_current->free(p, size); }

/* ------------------------------------------------------------------------
 * The arena (alloc/arena.c)
 *
 * Size classes from 8 to ALLOC_ARENA_MAX_SMALL bytes; larger blocks are
 * mapped from the OS one by one. Every block of 16 bytes or more is 16-byte
 * aligned; an 8-byte block is 8-byte aligned (nothing that fits in 8 bytes
 * can need more).
 * ---------------------------------------------------------------------- */
#define ALLOC_ARENA_MAX_SMALL 1024

void *alloc_arena_malloc(size_t size);
/* p must be a block of the arena (never NULL), size what was asked for. A
 * large block has no owning thread: its frees are never counted as
 * remote. */
void alloc_arena_free(void *p, size_t size);

/* The block size the arena uses for a request of SIZE bytes (SIZE itself,
 * rounded up to a page, above ALLOC_ARENA_MAX_SMALL). */
size_t alloc_arena_block_size(size_t size);

/* Calling thread: take back the blocks other threads freed to its pages,
 * return its empty pages to their segments and empty segments (those kept
 * for reuse too) to the OS,
 * and adopt every segment abandoned by an exited thread (reclaiming the
 * blocks freed into it after its owner died). After every other thread has
 * exited, one call brings mapped memory back to what live blocks need. */
void alloc_arena_collect(void);

/* Process-wide arena statistics, summed on demand over every heap, live or
 * exited. Block counts are exact at a quiescent point (no thread inside
 * alloc); while threads run they are a consistent-enough snapshot. */
typedef struct alloc_stats {
    uint64_t allocated;          /* blocks handed out, small and large */
    uint64_t freed;              /* blocks given back, by any thread */
    uint64_t remote_frees;       /* of those, freed by a thread not owning them */
    uint64_t live_blocks;        /* allocated - freed */
    uint64_t live_bytes;         /* bytes of the live blocks (block sizes) */
    uint64_t large_live;         /* live blocks above ALLOC_ARENA_MAX_SMALL */
    uint64_t pages;              /* small-block pages in use */
    uint64_t segments;           /* segments mapped */
    uint64_t cached_segments;    /* of those, empty ones kept for reuse */
    uint64_t abandoned_segments; /* segments whose owner exited, not yet adopted */
    uint64_t heaps;              /* threads with a live heap */
    uint64_t immortal_bytes;     /* bytes handed out by alloc_immortal */
    uint64_t large_cached_bytes; /* freed large blocks kept mapped for reuse */
    uint64_t mapped_bytes;       /* everything the arena has mapped now */
    uint64_t peak_mapped_bytes;  /* the most it ever had mapped at once */
} alloc_stats_t;

void alloc_arena_stats(alloc_stats_t *out);

/* The immortal arena: bump allocation for objects that are never freed
 * (the small ints, objects made immortal). 16-byte aligned, zeroed, NULL
 * when the OS refuses memory. Thread-safe (a lock: never on a fast path).
 * Released as a whole at process teardown. */
void *alloc_immortal(size_t size);

/* Test hook: make the Nth request for memory from the OS, counting from
 * this call, fail as if the OS were out of memory (N = 0: no failure). */
void alloc_test_fail_os_map(unsigned long n);

#endif /* RC_ALLOC_ALLOC_H */
