/* alloc/os.c — memory from the OS, the debug region registry and the
 * immortal arena.
 *
 * _alloc_os_map gets aligned memory by over-mapping SIZE + ALIGN and
 * unmapping the unaligned head and tail (the kernel has no aligned mmap).
 * Mapped bytes and their peak are process-wide relaxed counters: they are
 * statistics, ordered with nothing.
 *
 * The immortal arena is a bump allocator over 1 MiB chunks: objects that are
 * never freed one by one (the small ints) sit together, away from the
 * heaps' pages, so nothing written often shares their cache lines. It takes
 * a lock: immortal allocation happens at start-up, never on a fast path.
 * The chunks are unmapped by a destructor at process exit when no other
 * arena thread is still running.
 *
 * Threading: everything here is thread-safe.
 */
#define RC_ALLOC_INSIDE 1
#include "alloc/internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/alloc.h"
#include "base/config.h"
#include "base/fatal.h"

static RC_ATOMIC(uint64_t) os_mapped;
static RC_ATOMIC(uint64_t) os_peak;
/* Injection countdown: the request that takes it from 1 to 0 fails. */
static RC_ATOMIC(unsigned long) os_fail_countdown;

void alloc_test_fail_os_map(unsigned long n)
{
    at_store_relaxed(&os_fail_countdown, n);
}

static bool os_injected_failure(void)
{
    unsigned long n = at_load_relaxed(&os_fail_countdown);
    while (n != 0) {
        /* A CAS (not fetch_sub) so a countdown at 0 stays at 0. Relaxed:
         * the countdown orders nothing else. */
        if (at_cas_weak_relaxed(&os_fail_countdown, &n, n - 1))
            return n == 1;
    }
    return false;
}

static void os_account(int64_t delta)
{
    uint64_t now = at_fetch_add_relaxed(&os_mapped, (uint64_t)delta) + (uint64_t)delta;
    uint64_t peak = at_load_relaxed(&os_peak);
    while (now > peak && !at_cas_weak_relaxed(&os_peak, &peak, now))
        ;
}

void *_alloc_os_map(size_t size, size_t align)
{
    if (os_injected_failure()) {
        errno = ENOMEM;
        return NULL;
    }
    /* Any SIZE + ALIGN - page window of page-aligned memory holds an
     * ALIGN-aligned run of SIZE bytes. */
    size_t over = align > ALLOC_OS_PAGE ? size + align - ALLOC_OS_PAGE : size;
    if (over < size)
        return NULL;
    char *p = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (over != size) {
        char *aligned = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
        size_t head = (size_t)(aligned - p), tail = over - head - size;
        if (head)
            munmap(p, head);
        if (tail)
            munmap(aligned + size, tail);
        p = aligned;
    }
    os_account((int64_t)size);
    return p;
}

void _alloc_os_unmap(void *p, size_t size)
{
    if (munmap(p, size) != 0)
        _alloc_fatal("munmap(%p, %zu) failed: %s", p, size, strerror(errno));
    os_account(-(int64_t)size);
}

uint64_t _alloc_os_mapped(void) { return at_load_relaxed(&os_mapped); }
uint64_t _alloc_os_peak(void) { return at_load_relaxed(&os_peak); }

void _alloc_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rc_vfatal_line("alloc", fmt, ap);
}

/* ------------------------------------------------------------------------
 * Debug registry: a sorted array of {base, size, kind}, binary-searched.
 * Debug builds only; the array itself lives in mapped memory that is not
 * counted (it is bookkeeping of the checker, not of the allocator).
 * ---------------------------------------------------------------------- */
typedef struct region {
    uintptr_t base;
    size_t size;
    alloc_region_kind_t kind;
} region_t;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static region_t *regions;       /* under registry_lock */
static size_t nregions, cap_regions;

/* Index of the first region with base > P. */
static size_t registry_upper(uintptr_t p)
{
    size_t lo = 0, hi = nregions;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (regions[mid].base <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void _alloc_registry_add(const void *base, size_t size, alloc_region_kind_t kind)
{
    if (!rc_cfg_debug)
        return;
    pthread_mutex_lock(&registry_lock);
    if (nregions == cap_regions) {
        size_t ncap = cap_regions ? cap_regions * 2 : 1024;
        region_t *n = mmap(NULL, ncap * sizeof *n, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (n == MAP_FAILED)
            _alloc_fatal("out of memory growing the debug region registry");
        if (regions) {
            memcpy(n, regions, nregions * sizeof *n);
            munmap(regions, cap_regions * sizeof *n);
        }
        regions = n;
        cap_regions = ncap;
    }
    size_t i = registry_upper((uintptr_t)base);
    memmove(&regions[i + 1], &regions[i], (nregions - i) * sizeof *regions);
    regions[i] = (region_t){ (uintptr_t)base, size, kind };
    nregions++;
    pthread_mutex_unlock(&registry_lock);
}

void _alloc_registry_remove(const void *base)
{
    if (!rc_cfg_debug)
        return;
    pthread_mutex_lock(&registry_lock);
    size_t i = registry_upper((uintptr_t)base);
    if (i == 0 || regions[i - 1].base != (uintptr_t)base)
        _alloc_fatal("internal: region %p is not registered", base);
    memmove(&regions[i - 1], &regions[i], (nregions - i) * sizeof *regions);
    nregions--;
    pthread_mutex_unlock(&registry_lock);
}

alloc_region_kind_t _alloc_registry_find(const void *p, const void **base, size_t *size)
{
    alloc_region_kind_t kind = REGION_NONE;
    pthread_mutex_lock(&registry_lock);
    size_t i = registry_upper((uintptr_t)p);
    if (i > 0 && (uintptr_t)p - regions[i - 1].base < regions[i - 1].size) {
        kind = regions[i - 1].kind;
        *base = (const void *)regions[i - 1].base;
        *size = regions[i - 1].size;
    }
    pthread_mutex_unlock(&registry_lock);
    return kind;
}

/* ------------------------------------------------------------------------
 * The immortal arena
 * ---------------------------------------------------------------------- */
#define IMMORTAL_CHUNK (1u << 20)

typedef struct immortal_chunk {
    struct immortal_chunk *next;
    size_t size;
} immortal_chunk_t;

static pthread_mutex_t immortal_lock = PTHREAD_MUTEX_INITIALIZER;
static immortal_chunk_t *immortal_chunks;   /* under immortal_lock */
static char *immortal_cursor, *immortal_end; /* under immortal_lock */
static RC_ATOMIC(uint64_t) immortal_bytes;

void *alloc_immortal(size_t size)
{
    /* No mapping can be that big, and rounding it up (below, and the chunk
     * size) would wrap to a small request that succeeds. */
    if (size > SIZE_MAX / 2)
        return NULL;
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    pthread_mutex_lock(&immortal_lock);
    if ((size_t)(immortal_end - immortal_cursor) < size) {
        size_t need = size + sizeof(immortal_chunk_t) + 16;
        size_t csize = need > IMMORTAL_CHUNK ? (need + ALLOC_OS_PAGE - 1) & ~(size_t)(ALLOC_OS_PAGE - 1)
                                             : IMMORTAL_CHUNK;
        immortal_chunk_t *c = _alloc_os_map(csize, ALLOC_OS_PAGE);
        if (c == NULL) {
            pthread_mutex_unlock(&immortal_lock);
            return NULL;
        }
        _alloc_registry_add(c, csize, REGION_IMMORTAL);
        c->size = csize;
        c->next = immortal_chunks;
        immortal_chunks = c;
        immortal_cursor = (char *)c + 16 * ((sizeof *c + 15) / 16);
        immortal_end = (char *)c + csize;
    }
    void *p = immortal_cursor;
    immortal_cursor += size;
    pthread_mutex_unlock(&immortal_lock);
    at_fetch_add_relaxed(&immortal_bytes, size);
    return p;   /* fresh mmap'd memory: already zero */
}

uint64_t _alloc_immortal_bytes(void) { return at_load_relaxed(&immortal_bytes); }

/* Threads in this process, from /proc/self/status; 0 if unknown. */
static long process_threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long n = 0;
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %ld", &n) == 1)
            break;
    fclose(f);
    return n;
}

/* Teardown: destructor priority 101 runs after every unprioritised
 * destructor and after atexit handlers. Skipped unless this is the last
 * thread: another one, even one that never used the arena, may still hold a
 * small int; the OS reclaims the chunks at exit anyway. */
__attribute__((destructor(101))) static void immortal_release_all(void)
{
    if (process_threads() != 1)
        return;
    pthread_mutex_lock(&immortal_lock);
    while (immortal_chunks) {
        immortal_chunk_t *c = immortal_chunks;
        immortal_chunks = c->next;
        _alloc_registry_remove(c);
        _alloc_os_unmap(c, c->size);
    }
    immortal_cursor = immortal_end = NULL;
    pthread_mutex_unlock(&immortal_lock);
}
