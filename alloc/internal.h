/* alloc/internal.h — shared between the files of alloc/, not public.
 *
 * The OS layer (alloc/os.c): every byte the arena gets from the kernel goes
 * through _alloc_os_map/_alloc_os_unmap, which keep the mapped-bytes count
 * and its peak and host the out-of-memory injection of the tests. The debug
 * registry remembers every region the arena handed out (segments, large
 * blocks, immortal chunks) so a free of a foreign pointer is reported
 * instead of dereferenced.
 * Threading: all functions here are thread-safe; the counters are relaxed
 * atomics, the registry takes a lock (debug builds only, slow paths only).
 */
#ifndef RC_ALLOC_INTERNAL_H
#define RC_ALLOC_INTERNAL_H

#if !defined(RC_ALLOC_INSIDE)
#error "alloc/internal.h is private to alloc/; include alloc/alloc.h"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/atomic.h"
#include "base/compiler.h"

#define ALLOC_OS_PAGE 4096u

/* Maps SIZE bytes (a multiple of ALLOC_OS_PAGE) aligned to ALIGN (a power of
 * two >= ALLOC_OS_PAGE), zeroed. NULL when the OS refuses (or the test
 * injection says it does). */
void *_alloc_os_map(size_t size, size_t align);
void _alloc_os_unmap(void *p, size_t size);
uint64_t _alloc_os_mapped(void);
uint64_t _alloc_os_peak(void);

/* Debug registry of regions the arena handed out. */
typedef enum { REGION_NONE, REGION_SEGMENT, REGION_LARGE, REGION_IMMORTAL } alloc_region_kind_t;
void _alloc_registry_add(const void *base, size_t size, alloc_region_kind_t kind);
void _alloc_registry_remove(const void *base);
/* The kind of region containing P, and its base and size. */
alloc_region_kind_t _alloc_registry_find(const void *p, const void **base, size_t *size);

uint64_t _alloc_immortal_bytes(void);

RC_NORETURN RC_PRINTF(1, 2) void _alloc_fatal(const char *fmt, ...);

#endif /* RC_ALLOC_INTERNAL_H */
