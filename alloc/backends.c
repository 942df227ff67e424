/* alloc/backends.c — the backend table and run-time selection.
 *
 * glibc is reached as __libc_malloc/__libc_free, glibc's own exported entry
 * points, so it stays glibc even when a program linking rcbench also links
 * an allocator that interposes malloc (tcmalloc does). The arena, jemalloc,
 * mimalloc and tcmalloc backends join this table in the allocator issue,
 * each through its prefixed API for the same reason.
 * Threading: the table is constant; alloc_current is written only at
 * quiescence (see alloc.h), so a plain pointer suffices.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"

#include "base/compiler.h"

/* Under ASan and TSan, malloc/free are the sanitizer's: calling
 * __libc_malloc there would hide every block from the sanitizer (TSan then
 * reports reuse of freed memory as a race, ASan misses use-after-free). So
 * sanitizer builds call malloc/free, and say so in their reports. */
#if RC_ASAN || RC_TSAN
static void *glibc_malloc(size_t size) { return malloc(size); }
static void glibc_free(void *p, size_t size) { (void)size; free(p); }
#else
extern void *__libc_malloc(size_t size);
extern void __libc_free(void *p);

static void *glibc_malloc(size_t size) { return __libc_malloc(size); }
static void glibc_free(void *p, size_t size) { (void)size; __libc_free(p); }
#endif

static const alloc_backend_t backends[] = {
    { "arena", alloc_arena_malloc, alloc_arena_free },
    { "glibc", glibc_malloc, glibc_free },
};

const alloc_backend_t *alloc_current = &backends[0];

const alloc_backend_t *alloc_backend_find(const char *name)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strcmp(backends[i].name, name) == 0)
            return &backends[i];
    return NULL;
}

bool alloc_backend_select(const char *name)
{
    const alloc_backend_t *b = alloc_backend_find(name);
    if (b != NULL)
        alloc_current = b;
    return b != NULL;
}

const char *alloc_backend_names(void)
{
    /* Built from the table once, so the list never drifts from it. */
    static char names[128];
    if (names[0] == '\0') {
        for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
            if (i)
                strncat(names, ", ", sizeof names - strlen(names) - 1);
            strncat(names, backends[i].name, sizeof names - strlen(names) - 1);
        }
    }
    return names;
}
