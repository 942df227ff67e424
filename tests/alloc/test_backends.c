/* tests/alloc/test_backends.c — every backend the build has, through the
 * table (alloc_malloc/alloc_free after alloc_backend_select).
 *
 * Per backend: blocks of 0 B to 64 KiB and odd sizes, 16-byte aligned from
 * 16 B on, each written and read back while all are live; half are freed
 * here and half handed to a second thread that checks and frees them; a
 * batch a second thread allocated is freed here after it exited. Every
 * block must come from its own allocator: mimalloc's and tcmalloc's own
 * ownership queries must claim exactly their own blocks, jemalloc's
 * arenas.lookup must know its blocks. Selection: an unknown name fails and
 * leaves the current backend; alloc_backend_names lists exactly the build's.
 * Isolation, after every peer is loaded: malloc, free and __libc_malloc
 * still resolve into libc (malloc into the sanitizer in sanitizer builds,
 * never into a peer), no peer symbol is in the global scope, no
 * libjemalloc is loaded. Built a second time with RC_TEST_UNLOADABLE (see
 * tests/alloc/CMakeLists.txt): the dlopen'ed peers' sonames do not exist,
 * and selecting them must fail, say why, and change nothing.
 * Threading: main does the work; each round starts and joins two helpers.
 */
#include <dlfcn.h>
#include <gnu/lib-names.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "base/compiler.h"
#include "tests/check.h"

#ifndef RC_ALLOC_PEERS
#error "RC_ALLOC_PEERS comes from tests/alloc/CMakeLists.txt"
#endif
#ifndef RC_TEST_UNLOADABLE
#define RC_TEST_UNLOADABLE 0
#endif

/* Every backend the build has, and those that must work here. */
static const char *const listed[] = {
    "arena", "glibc",
#if RC_ALLOC_PEERS
    "jemalloc", "mimalloc", "tcmalloc",
#endif
};
#define NLISTED (sizeof listed / sizeof listed[0])
#define NWORKING (RC_TEST_UNLOADABLE ? 3 : NLISTED)   /* listed[0 .. NWORKING) */

static const size_t sizes[] = {
    0, 1, 2, 3, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65,
    100, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025,
    2047, 2048, 2049, 4095, 4096, 4097, 8191, 8192, 8193, 12345, 16384,
    16385, 32767, 32768, 32769, 50000, 65535, 65536,
};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define PER_SIZE 4
#define NBLOCKS (NSIZES * PER_SIZE)

/* CHECK, and on failure also name the backend and size. COND is evaluated
 * twice: it must have no side effects. */
#define CHECK_AT(cond, backend, size) do {                                     \
    if (!(cond))                                                               \
        fprintf(stderr, "backend %s, %zu bytes:\n", (backend), (size_t)(size)); \
    CHECK(cond);                                                               \
} while (0)

/* ------------------------------------------------------------------------
 * Who owns a block: the peers' own queries
 * ---------------------------------------------------------------------- */
typedef bool mi_owned_fn(const void *p);       /* mimalloc: mi_check_owned */
typedef int tc_ownership_fn(const void *p);    /* gperftools: MallocExtension_GetOwnership */
#define TC_OWNED 1                              /* MallocExtension_kOwned */

static struct {
    mi_owned_fn *mi_owned;                      /* NULL until mimalloc is loaded */
    tc_ownership_fn *tc_ownership;              /* NULL until tcmalloc is loaded */
} probe;

/* Which of mimalloc and tcmalloc claim P: "mimalloc", "tcmalloc", "none".
 * Both answer safely for any pointer. mi_check_owned searches the calling
 * thread's heap, so a block is asked about by the thread that allocated
 * it. (mi_is_in_heap_region would not need that, but under ASan mimalloc's
 * segments land above the range its segment map covers.) */
static const char *claimed_by(const void *p)
{
    bool mi = probe.mi_owned != NULL && probe.mi_owned(p);
    bool tc = probe.tc_ownership != NULL && probe.tc_ownership(p) == TC_OWNED;
    return mi && tc ? "both" : mi ? "mimalloc" : tc ? "tcmalloc" : "none";
}

static const char *expected_claim(const char *backend)
{
    if (strcmp(backend, "mimalloc") == 0 || strcmp(backend, "tcmalloc") == 0)
        return backend;
    return "none";
}

#if RC_ALLOC_PEERS
/* The private jemalloc's mallctl (renamed by alloc/CMakeLists.txt). */
int _alloc_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

/* jemalloc's arenas.lookup knows P. Only for jemalloc's own blocks: 5.3
 * may crash on a pointer it never handed out, so there is no "not owned". */
static bool jemalloc_knows(void *p)
{
    unsigned arena;
    size_t len = sizeof arena;
    return _alloc_je_mallctl("arenas.lookup", &arena, &len, &p, sizeof p) == 0;
}
#endif

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* A peer's shared library: libjemalloc*, libmimalloc*, libtcmalloc*. */
static bool is_peer_library(const char *path)
{
    const char *b = base_name(path != NULL ? path : "");
    return strncmp(b, "libjemalloc", 11) == 0 || strncmp(b, "libmimalloc", 11) == 0 ||
           strncmp(b, "libtcmalloc", 11) == 0;
}

#if RC_ALLOC_PEERS && !RC_TEST_UNLOADABLE
/* The shared object holding backend NAME's malloc, which must be LIB*;
 * a handle to it (already loaded: RTLD_NOLOAD, its scope unchanged). */
static void *library_of(const char *name, const char *lib)
{
    const alloc_backend_t *b = alloc_backend_find(name);
    Dl_info info;
    if (b == NULL || !dladdr((void *)b->malloc, &info) || info.dli_fname == NULL) {
        CHECK(!"backend's malloc is in a shared object");
        return NULL;
    }
    printf("  %s: its malloc is in %s\n", name, info.dli_fname);
    CHECK(strncmp(base_name(info.dli_fname), lib, strlen(lib)) == 0);
    void *h = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    CHECK(h != NULL);
    return h;
}

static void find_probes(void)
{
    void *mi = library_of("mimalloc", "libmimalloc");
    void *tc = library_of("tcmalloc", "libtcmalloc");
    if (mi != NULL)
        probe.mi_owned = (mi_owned_fn *)dlsym(mi, "mi_check_owned");
    if (tc != NULL)
        probe.tc_ownership = (tc_ownership_fn *)dlsym(tc, "MallocExtension_GetOwnership");
    CHECK(probe.mi_owned != NULL);
    CHECK(probe.tc_ownership != NULL);
}
#else
static void find_probes(void) {}
#endif

/* ------------------------------------------------------------------------
 * Blocks: allocate, fill, check, free
 * ---------------------------------------------------------------------- */
typedef struct block {
    unsigned char *p;
    size_t size;
    unsigned tag;          /* seeds the fill pattern: distinct per block */
} block_t;

typedef struct batch {
    block_t b[NBLOCKS];
    size_t n;
    unsigned first_tag;    /* tags first_tag .. first_tag + NBLOCKS - 1 */
} batch_t;

static unsigned next_tag;

static unsigned char pattern(unsigned tag, size_t i)
{
    return (unsigned char)(tag * 131u + i * 7u + (i >> 8));
}

/* Allocates SIZE bytes from the current backend and checks where and how
 * the block came; fills it. */
static void block_alloc(block_t *bk, size_t size, unsigned tag)
{
    const char *name = alloc_current->name;
    bk->size = size;
    bk->tag = tag;
    bk->p = alloc_malloc(size);
    CHECK_AT(bk->p != NULL, name, size);
    if (bk->p == NULL)
        return;
    uintptr_t a = (uintptr_t)bk->p;
    if (size >= 8)
        CHECK_AT(a % 8 == 0, name, size);
    if (size >= 16)
        CHECK_AT(a % 16 == 0, name, size);
    CHECK_AT(strcmp(claimed_by(bk->p), expected_claim(name)) == 0, name, size);
#if RC_ALLOC_PEERS
    if (strcmp(name, "jemalloc") == 0)
        CHECK_AT(jemalloc_knows(bk->p), name, size);
#endif
    for (size_t i = 0; i < size; i++)
        bk->p[i] = pattern(tag, i);
}

static bool block_intact(const block_t *bk)
{
    for (size_t i = 0; i < bk->size; i++)
        if (bk->p[i] != pattern(bk->tag, i))
            return false;
    return true;
}

static void block_check_free(block_t *bk)
{
    if (bk->p == NULL)
        return;
    CHECK_AT(block_intact(bk), alloc_current->name, bk->size);
    alloc_free(bk->p, bk->size);
    bk->p = NULL;
}

/* Every size PER_SIZE times, interleaved, so same-size blocks are not all
 * neighbours. */
static void batch_alloc(batch_t *bt)
{
    bt->n = 0;
    for (size_t k = 0; k < PER_SIZE; k++)
        for (size_t s = 0; s < NSIZES; s++, bt->n++)
            block_alloc(&bt->b[bt->n], sizes[s], bt->first_tag + (unsigned)bt->n);
}

static void *thread_check_free(void *arg)
{
    batch_t *bt = arg;
    for (size_t i = 0; i < bt->n; i++)
        block_check_free(&bt->b[i]);
    return NULL;
}

static void *thread_alloc(void *arg)
{
    batch_alloc(arg);
    return NULL;
}

static batch_t here, there;

static void exercise(const char *name, unsigned rounds)
{
    if (!alloc_backend_select(name)) {
        fprintf(stderr, "select %s: %s\n", name, alloc_backend_error());
        CHECK(!"backend selectable");
        return;
    }
    CHECK(strcmp(alloc_current->name, name) == 0);
    CHECK(alloc_backend_find(name) == alloc_current);
    long failed_before = atomic_load(&check_failed);

    for (unsigned r = 0; r < rounds; r++) {
        /* All blocks live at once: a block overlapping another fails the
         * read back. */
        here.first_tag = next_tag;
        next_tag += NBLOCKS;
        batch_alloc(&here);
        for (size_t i = 0; i < here.n; i++)
            CHECK_AT(here.b[i].p == NULL || block_intact(&here.b[i]), name, here.b[i].size);

        /* Odd blocks go to a second thread, which checks and frees them;
         * even ones are freed here meanwhile. */
        for (size_t i = 1, j = 0; i < here.n; i += 2, j++) {
            there.b[j] = here.b[i];
            here.b[i].p = NULL;
            there.n = j + 1;
        }
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, thread_check_free, &there) == 0);
        for (size_t i = 0; i < here.n; i += 2)
            block_check_free(&here.b[i]);
        REQUIRE(pthread_join(t, NULL) == 0);

        /* Blocks of a thread that has exited, freed here. */
        there.first_tag = next_tag;
        next_tag += NBLOCKS;
        REQUIRE(pthread_create(&t, NULL, thread_alloc, &there) == 0);
        REQUIRE(pthread_join(t, NULL) == 0);
        CHECK_EQ(there.n, NBLOCKS);
        for (size_t i = 0; i < there.n; i++)
            block_check_free(&there.b[i]);
    }
    printf("  %-8s %u rounds of %zu blocks (0 B .. 64 KiB): %s\n", name, rounds,
           (size_t)NBLOCKS * 2, atomic_load(&check_failed) == failed_before ? "ok" : "FAILED");
}

/* ------------------------------------------------------------------------
 * Selection
 * ---------------------------------------------------------------------- */
static void check_names(void)
{
    const char *names = alloc_backend_names();
    printf("  backends: %s\n", names);
    size_t count = 0;
    for (const char *s = names; *s != '\0'; count++) {
        size_t len = strcspn(s, ",");
        bool known = false;
        for (size_t i = 0; i < NLISTED; i++)
            known |= strlen(listed[i]) == len && strncmp(s, listed[i], len) == 0;
        if (!known)
            fprintf(stderr, "unexpected backend '%.*s'\n", (int)len, s);
        CHECK(known);
        s += len;
        s += strspn(s, ", ");
    }
    CHECK_EQ(count, NLISTED);
#if !RC_ALLOC_PEERS
    /* A ThreadSanitizer build has no peers (alloc/CMakeLists.txt). */
    static const char *const absent[] = { "jemalloc", "mimalloc", "tcmalloc" };
    for (size_t i = 0; i < 3; i++) {
        CHECK(strstr(names, absent[i]) == NULL);
        CHECK(alloc_backend_find(absent[i]) == NULL);
    }
#endif
}

static void check_unknown_names(void)
{
    static const char *const bad[] = {
        "no-such-allocator", "", "ARENA", "arena ", "jemallo", "tcmalloc_minimal", "libc",
    };
    for (size_t w = 0; w < NWORKING; w++) {
        REQUIRE(alloc_backend_select(listed[w]));
        const alloc_backend_t *before = alloc_current;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            CHECK(!alloc_backend_select(bad[i]));
            CHECK(alloc_current == before);
            CHECK(alloc_backend_find(bad[i]) == NULL);
            char quoted[64];
            snprintf(quoted, sizeof quoted, "\"%s\"", bad[i]);
            CHECK(strstr(alloc_backend_error(), quoted) != NULL);
            CHECK(strstr(alloc_backend_error(), alloc_backend_names()) != NULL);
        }
    }
    printf("  unknown names: %s\n", alloc_backend_error());
}

#if RC_TEST_UNLOADABLE
/* The dlopen'ed peers of this build name libraries that do not exist. */
static void check_unloadable(void)
{
    static const struct { const char *name, *soname; } peers[] = {
        { "mimalloc", RC_ALLOC_MIMALLOC_SONAME },
        { "tcmalloc", RC_ALLOC_TCMALLOC_SONAME },
    };
    REQUIRE(alloc_backend_select("jemalloc"));
    const alloc_backend_t *before = alloc_current;
    for (size_t i = 0; i < 2; i++) {
        for (int attempt = 0; attempt < 2; attempt++) {   /* a failed load is retried */
            CHECK(!alloc_backend_select(peers[i].name));
            CHECK(alloc_current == before);
            CHECK(alloc_backend_find(peers[i].name) == NULL);
            const char *e = alloc_backend_error();
            CHECK(strncmp(e, peers[i].name, strlen(peers[i].name)) == 0);
            CHECK(strstr(e, peers[i].soname) != NULL);
            CHECK(strchr(e, '\n') == NULL);
            if (attempt == 0)
                printf("  %s: %s\n", peers[i].name, e);
        }
    }
}
#endif

/* ------------------------------------------------------------------------
 * Isolation: the process's malloc is nobody's but libc's
 * ---------------------------------------------------------------------- */
static int count_peer_objects(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    const char *b = base_name(info->dlpi_name);
    int *counts = arg;
    counts[0] += strncmp(b, "libjemalloc", 11) == 0;
    counts[1] += strncmp(b, "libmimalloc", 11) == 0;
    counts[2] += strncmp(b, "libtcmalloc", 11) == 0;
    return 0;
}

static void check_process_malloc(void)
{
    void *libc = dlopen(LIBC_SO, RTLD_LAZY | RTLD_NOLOAD);
    REQUIRE(libc != NULL);
    static const char *const syms[] = {
        "malloc", "free", "calloc", "realloc", "__libc_malloc", "__libc_free",
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        const char *s = syms[i];
        void *global = dlsym(RTLD_DEFAULT, s), *own = dlsym(libc, s);
        Dl_info info = { 0 };
        bool found = global != NULL && dladdr(global, &info) != 0 && info.dli_fname != NULL;
        CHECK(found);
        printf("  %-13s resolves into %s\n", s, found ? info.dli_fname : "?");
        /* Sanitizers replace malloc and its kin (not glibc's __libc_ entry
         * points): there the process's malloc is the sanitizer's, and what
         * matters is that it is no peer's. */
        if ((RC_ASAN || RC_TSAN) && strncmp(s, "__libc_", 7) != 0)
            CHECK(found && !is_peer_library(info.dli_fname));
        else
            CHECK(global == own);
    }

    /* Nothing of a peer is in the global scope. */
    static const char *const peer_syms[] = {
        "mallocx", "sdallocx", "mallctl", "je_malloc_default",
        "mi_malloc", "mi_free_size", "tc_malloc", "tc_free_sized",
    };
    for (size_t i = 0; i < sizeof peer_syms / sizeof peer_syms[0]; i++) {
        bool hidden = dlsym(RTLD_DEFAULT, peer_syms[i]) == NULL;
        if (!hidden)
            fprintf(stderr, "%s is in the global scope\n", peer_syms[i]);
        CHECK(hidden);
    }

    /* No libjemalloc at all (the backend is the private copy); mimalloc and
     * tcmalloc loaded exactly when their backends work. */
    int counts[3] = { 0, 0, 0 };
    dl_iterate_phdr(count_peer_objects, counts);
    int loaded = RC_ALLOC_PEERS && !RC_TEST_UNLOADABLE;
    CHECK_EQ(counts[0], 0);
    CHECK_EQ(counts[1], loaded);
    CHECK_EQ(counts[2], loaded);

    /* And a block of the process's malloc is no peer's. */
    void *p = malloc(100);
    REQUIRE(p != NULL);
    CHECK(strcmp(claimed_by(p), "none") == 0);
    free(p);
}

int main(int argc, char **argv)
{
    test_opts_t o = test_opts(argc, argv);
    unsigned rounds = o.scale >= 4 ? 1 : (unsigned)(4 / o.scale);

    CHECK(strcmp(alloc_backend_error(), "") == 0);       /* nothing failed yet */
    check_names();
    /* Load every backend (peers load on first select), then find the
     * libraries that must own their blocks. */
    for (size_t w = 0; w < NWORKING; w++)
        if (!alloc_backend_select(listed[w]))
            fprintf(stderr, "select %s: %s\n", listed[w], alloc_backend_error());
    find_probes();
    for (size_t w = 0; w < NWORKING; w++)
        exercise(listed[w], rounds);
    check_unknown_names();
#if RC_TEST_UNLOADABLE
    check_unloadable();
#endif
    check_process_malloc();
    return TEST_END();
}
