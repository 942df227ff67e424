/* alloc/alloc.h — the allocator interface the object model calls.
 *
 * One backend is current for the whole process and is chosen by name at run
 * time (alloc_backend_select). Every backend is reached through the same two
 * calls, alloc_malloc(size) and alloc_free(p, size), so a comparison of
 * backends compares the allocators and not the calling convention: the
 * sized free lets backends that can use the size (jemalloc's sdallocx) use
 * it. alloc knows nothing of objects.
 * Threading: alloc_malloc/alloc_free are thread-safe. alloc_backend_select
 * must only be called while no other thread allocates (between benchmarks).
 */
#ifndef RC_ALLOC_ALLOC_H
#define RC_ALLOC_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

typedef struct alloc_backend {
    const char *name;
    void *(*malloc)(size_t size);           /* NULL when out of memory */
    void (*free)(void *p, size_t size);     /* size: what was asked for */
} alloc_backend_t;

/* The current backend; starts as "glibc". Read on every allocation, written
 * only by alloc_backend_select at quiescence. */
extern const alloc_backend_t *alloc_current;

/* Makes NAME current. Returns false (and changes nothing) for an unknown
 * name; alloc_backend_names() lists the known ones, comma-separated, for the
 * error message (first call from one thread, like alloc_backend_select). */
bool alloc_backend_select(const char *name);
const char *alloc_backend_names(void);

static inline void *alloc_malloc(size_t size) { return alloc_current->malloc(size); }
static inline void alloc_free(void *p, size_t size) { alloc_current->free(p, size); }

#endif /* RC_ALLOC_ALLOC_H */
