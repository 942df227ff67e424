/* alloc/backends.c — the backend table and run-time selection.
 *
 * Every row is called the same way, alloc_current->malloc/free: one indirect
 * call. None may interpose another's malloc or become the process's, so
 * each is reached by names that only it defines:
 *   arena     alloc_arena_malloc/free (arena.c);
 *   glibc     __libc_malloc/__libc_free, glibc's own entry points;
 *   jemalloc  _alloc_je_mallocx/sdallocx of a private copy linked in, all of
 *             whose other symbols, malloc too, are local to it (it cannot be
 *             dlopen'ed: it needs static TLS; see alloc/CMakeLists.txt);
 *   mimalloc  mi_malloc/mi_free_size and tcmalloc tc_malloc/tc_free_sized,
 *             dlopen'ed RTLD_LOCAL: their malloc and __libc_malloc aliases
 *             stay out of the global scope, so no symbol lookup binds to them.
 * The last three (the peers) load and initialise on the first find or select
 * naming them, not at process start; if that fails, alloc_backend_error says
 * why. Threading: find and select, so every load, run at quiescence
 * (alloc.h): the rows and alloc_current are plain, and a thread allocating
 * later learns of them through what ordered it after the select (its
 * pthread_create, a join).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"

#include "base/compiler.h"

#if RC_ASAN
#include <sanitizer/lsan_interface.h>
#define leaks_ignore_begin() __lsan_disable()
#define leaks_ignore_end()   __lsan_enable()
#else
#define leaks_ignore_begin() ((void)0)
#define leaks_ignore_end()   ((void)0)
#endif

/* RC_ALLOC_PEERS (0/1) comes from alloc/CMakeLists.txt, as do the sonames. */
#ifndef RC_ALLOC_PEERS
#error "RC_ALLOC_PEERS is set by alloc/CMakeLists.txt"
#endif
/* ThreadSanitizer builds have no peers: the peers are not instrumented, so
 * TSan misses their internal synchronisation and reports a block one thread
 * frees and another then gets back as a race (seen with mimalloc, tcmalloc
 * and __libc_malloc). AddressSanitizer builds keep them: ASan cannot see
 * into their blocks, as it cannot into __libc_malloc's, but they work
 * (tests/alloc/test_backends.c). */
#if RC_ALLOC_PEERS && RC_TSAN
#error "ThreadSanitizer builds leave the peer backends out (alloc/CMakeLists.txt)"
#endif

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

/* Why the last failing find/select failed (alloc_backend_error). */
static char backend_error[256];

RC_PRINTF(1, 2) static bool backend_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(backend_error, sizeof backend_error, fmt, ap);
    va_end(ap);
    for (char *c = backend_error; *c != '\0'; c++)     /* one line */
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return false;
}

#if RC_ALLOC_PEERS
/* The private jemalloc's entry points (mallocx, sdallocx renamed). */
void *_alloc_je_mallocx(size_t size, int flags);
void _alloc_je_sdallocx(void *p, size_t size, int flags);

/* mallocx and sdallocx are undefined for size 0; jemalloc's own malloc(0)
 * takes 1 byte, and so does this. */
static void *jemalloc_malloc(size_t size)
{
    return _alloc_je_mallocx(size + (size == 0), 0 /* flags */);
}

static void jemalloc_free(void *p, size_t size)
{
    _alloc_je_sdallocx(p, size + (size == 0), 0 /* flags */);
}

/* Opens SONAME and points B at its MALLOC_SYM/FREE_SYM (whose types match
 * the table's). RTLD_LOCAL: see the top of the file; RTLD_NOW: a missing
 * symbol fails here, not in a benchmark. Never closed: blocks and thread
 * caches of an allocator may outlive any selection of it. */
static bool peer_dlopen(alloc_backend_t *b, const char *soname,
                        const char *malloc_sym, const char *free_sym)
{
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return backend_fail("%s: %s", b->name, dlerror());
    void *m = dlsym(lib, malloc_sym), *f = dlsym(lib, free_sym);
    if (m == NULL || f == NULL)
        return backend_fail("%s: %s has no %s", b->name, soname,
                            m == NULL ? malloc_sym : free_sym);
    b->malloc = (void *(*)(size_t))m;
    b->free = (void (*)(void *, size_t))f;
    return true;
}

/* A first allocation on the selecting thread: initialises the peer now, at
 * quiescence (the private jemalloc has no constructor), and proves the entry
 * points work before the row can become current. */
static bool peer_warm(alloc_backend_t *b)
{
    void *p = b->malloc(1);
    if (p == NULL)
        return backend_fail("%s: the first allocation failed", b->name);
    b->free(p, 1);
    return true;
}

static bool mimalloc_load(alloc_backend_t *b)
{
    return peer_dlopen(b, RC_ALLOC_MIMALLOC_SONAME, "mi_malloc", "mi_free_size") && peer_warm(b);
}

/* tcmalloc's thread cache is initial-exec TLS aligned to 64 bytes, so a
 * dlopen must place it in the static TLS block, and glibc refuses any block
 * aligned more than the largest alignment the block had at start-up
 * (_dl_try_allocate_static_tls: l_tls_align > dl_tls_static_align). On
 * x86-64 the thread control block itself is 64-aligned; on aarch64 it is
 * 16, so the dlopen failed there with "cannot allocate memory in static TLS
 * block" whatever glibc.rtld.optional_static_tls said. This variable, never
 * read, raises the executable's static TLS alignment to 64 (it lives in the
 * executable: the alloc library is static). */
__attribute__((used)) static _Thread_local _Alignas(64) char tls_align_for_tcmalloc;

static bool tcmalloc_load(alloc_backend_t *b)
{
    return peer_dlopen(b, RC_ALLOC_TCMALLOC_SONAME, "tc_malloc", "tc_free_sized") && peer_warm(b);
}
#endif /* RC_ALLOC_PEERS */

/* One row per backend. Invariant: ready implies backend.malloc and
 * backend.free are set and the allocator is initialised. */
typedef struct backend_row {
    alloc_backend_t backend;            /* alloc_current points here */
    bool (*load)(alloc_backend_t *b);   /* makes a peer ready; false: failed */
    bool ready;
} backend_row_t;

static backend_row_t rows[] = {
    { { "arena", alloc_arena_malloc, alloc_arena_free }, NULL, true },
    { { "glibc", glibc_malloc, glibc_free }, NULL, true },
#if RC_ALLOC_PEERS
    { { "jemalloc", jemalloc_malloc, jemalloc_free }, peer_warm, false },
    { { "mimalloc", NULL, NULL }, mimalloc_load, false },
    { { "tcmalloc", NULL, NULL }, tcmalloc_load, false },
#endif
};
#define NROWS (sizeof rows / sizeof rows[0])

const alloc_backend_t *alloc_current = &rows[0].backend;

const alloc_backend_t *alloc_backend_find(const char *name)
{
    for (size_t i = 0; i < NROWS; i++) {
        backend_row_t *r = &rows[i];
        if (strcmp(r->backend.name, name) != 0)
            continue;
        if (!r->ready) {
            /* What a peer allocates while it loads is its own: gperftools
             * drops 8 bytes for good (MallocExtension::Register), which
             * LeakSanitizer must not report as rcbench's. */
            leaks_ignore_begin();
            r->ready = r->load(&r->backend);   /* a failed load is retried */
            leaks_ignore_end();
        }
        return r->ready ? &r->backend : NULL;
    }
    backend_fail("no backend \"%s\" in this build (it has: %s)", name, alloc_backend_names());
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
        for (size_t i = 0; i < NROWS; i++) {
            if (i)
                strncat(names, ", ", sizeof names - strlen(names) - 1);
            strncat(names, rows[i].backend.name, sizeof names - strlen(names) - 1);
        }
    }
    return names;
}

const char *alloc_backend_error(void)
{
    return backend_error;
}
