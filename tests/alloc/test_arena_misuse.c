/* tests/alloc/test_arena_misuse.c — the arena's debug checks catch misuse.
 *
 * Each case runs in a forked child that prints the address it is about to
 * misuse on stdout and then commits one misuse; the parent checks that the
 * child died of SIGABRT with exactly one "rcbench: alloc:" line on stderr
 * naming that address and saying what went wrong. Built only with
 * RCBENCH_DEBUG_CHECKS.
 * Under AddressSanitizer (the asan preset also has debug checks) the arena
 * poisons free blocks, so a write after free is reported by ASan at the
 * write itself ("use-after-poison"), before our check at the next
 * allocation could see it: for that case alone the asan build expects
 * ASan's report (the child exits with ASan's error code) instead of ours.
 * Every other case reaches our check first under ASan too: the checks read
 * only page descriptors and the debug registry before deciding, and a
 * double free is recognised from ASan's poison (the block is not touched).
 * Threading: single-threaded parent; one case's child frees from a second
 * thread.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/compiler.h"
#include "base/config.h"
#include "tests/alloc/arena_test.h"
#include "tests/check.h"
#include "tests/death.h"

static void say(const void *p)
{
    printf("%p\n", p);
    fflush(stdout);
}

static void double_free_small(void)
{
    void *keep = alloc_arena_malloc(64), *p = alloc_arena_malloc(64);
    (void)keep;                   /* keeps the page in use after p's free */
    say(p);
    alloc_arena_free(p, 64);
    alloc_arena_free(p, 64);
}

static void *free_64(void *p)
{
    alloc_arena_free(p, 64);
    return NULL;
}

static void double_free_remote(void)
{
    void *keep = alloc_arena_malloc(64), *p = alloc_arena_malloc(64);
    (void)keep;
    say(p);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, free_64, p) == 0);   /* on its thread_free list */
    REQUIRE(pthread_join(t, NULL) == 0);
    alloc_arena_free(p, 64);
}

/* 8-byte blocks have no room for the free mark: the owner's free looks
 * the block up in the page's free list. */
static void double_free_8_local(void)
{
    void *keep = alloc_arena_malloc(8), *a = alloc_arena_malloc(8), *b = alloc_arena_malloc(8);
    (void)keep;
    say(a);
    alloc_arena_free(a, 8);
    alloc_arena_free(b, 8);
    alloc_arena_free(a, 8);         /* not the last one freed */
}

static void *free_8_twice(void *p)
{
    alloc_arena_free(p, 8);
    alloc_arena_free(p, 8);
    return NULL;
}

/* Another thread frees an 8-byte block twice: the page's remote list is
 * now a cycle, which the owner's collect reports (naming the page). */
static void double_free_8_remote(void)
{
    void *keep = alloc_arena_malloc(8), *p = alloc_arena_malloc(8);
    (void)keep;
    say((void *)((uintptr_t)p & ~(uintptr_t)0xffff));
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, free_8_twice, p) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    alloc_arena_collect();
}

static void double_free_large(void)
{
    void *p = alloc_arena_malloc(5000);
    say(p);
    alloc_arena_free(p, 5000);
    alloc_arena_free(p, 5000);
}

static void free_stack(void)
{
    uint64_t local[8] = { 0 };
    say(local);
    alloc_arena_free(local, 64);
}

static void free_glibc(void)
{
    void *p = calloc(1, 64);
    REQUIRE(p != NULL);
    say(p);
    alloc_arena_free(p, 64);
}

static void free_interior(void)
{
    char *p = alloc_arena_malloc(64);
    say(p + 16);
    alloc_arena_free(p + 16, 48);
}

static void free_immortal(void)
{
    void *p = alloc_immortal(64);
    say(p);
    alloc_arena_free(p, 64);
}

static void write_past_end(void)
{
    char *p = alloc_arena_malloc(20);          /* a 32-byte block: 12 bytes of canary */
    say(p);
    p[20] = 'x';
    alloc_arena_free(p, 20);
}

static void write_after_free(void)
{
    unsigned char *keep = alloc_arena_malloc(64), *p = alloc_arena_malloc(64);
    (void)keep;
    say(p);
    alloc_arena_free(p, 64);
    p[40] = 1;                                 /* past the free-list link and the mark */
    void *q = alloc_arena_malloc(64);          /* p again: the head of the free list */
    printf("got %p back\n", q);
}

static void free_wrong_class(void)
{
    void *p = alloc_arena_malloc(64);
    say(p);
    alloc_arena_free(p, 32);
}

static void free_large_wrong_size(void)
{
    void *p = alloc_arena_malloc(5000);        /* 8 KiB */
    say(p);
    alloc_arena_free(p, 9000);                 /* 12 KiB */
}

static void free_small_as_large(void)
{
    void *p = alloc_arena_malloc(64);
    say(p);
    alloc_arena_free(p, 5000);                 /* would unmap part of a segment */
}

static void free_large_as_small(void)
{
    void *p = alloc_arena_malloc(5000);
    say(p);
    alloc_arena_free(p, 64);
}

typedef enum { OURS, ASAN_FIRST } who_t;

static void expect_death(const char *name, void (*fn)(void), const char *what, who_t asan)
{
    death_t d = death_run(fn);
    const char *msg = d.msg, *addr = d.addr;
    int status = d.status;

    bool ok;
    if (RC_ASAN && asan == ASAN_FIRST) {
        /* ASan reports and exits with its error code (abort_on_error=0)
         * or aborts (abort_on_error=1); either way not a clean exit. */
        ok = !(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
             strstr(msg, "ERROR: AddressSanitizer") != NULL && strstr(msg, what) != NULL;
        CHECK(ok);
    } else {
        int lines = 0;
        for (const char *p = msg; (p = strstr(p, "rcbench: alloc:")) != NULL; p++)
            lines++;
        bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
        CHECK(aborted);
        CHECK(addr[0] != '\0' && strstr(msg, addr) != NULL);
        CHECK(strstr(msg, what) != NULL);
        CHECK_EQ(lines, 1);
        ok = aborted && lines == 1 && strstr(msg, what) != NULL;
    }
    const char *line = msg[0] ? msg : "(no message)\n";
    if (RC_ASAN && asan == ASAN_FIRST)
        line = strstr(msg, "ERROR: AddressSanitizer") ? strstr(msg, "ERROR: AddressSanitizer") : line;
    printf("%-34s %s: %.*s\n", name, ok ? "caught" : "NOT CAUGHT", (int)strcspn(line, "\n"), line);
}

int main(int argc, char **argv)
{
    (void)test_opts(argc, argv);
    REQUIRE(rc_cfg_debug);
    expect_death("double free (64 bytes)", double_free_small, "double free of", OURS);
    expect_death("double free, first one remote", double_free_remote, "double free of", OURS);
    expect_death("double free (8 bytes)", double_free_8_local, "double free of", OURS);
    expect_death("double free (8 bytes, remote)", double_free_8_remote, "double free of", OURS);
    expect_death("double free (large)", double_free_large,
                 "not a large block the arena handed out", OURS);
    expect_death("free of a stack address", free_stack, "the arena never allocated it", OURS);
    expect_death("free of a glibc block", free_glibc, "the arena never allocated it", OURS);
    expect_death("free of an interior pointer", free_interior,
                 "not the start of a block", OURS);
    expect_death("free of an immortal block", free_immortal, "an immortal block", OURS);
    expect_death("write past the end", write_past_end, "written past its end (canary at +20)",
                 OURS);
    expect_death("write after free", write_after_free,
                 RC_ASAN ? "use-after-poison" : "was written after it was freed", ASAN_FIRST);
    expect_death("free with the wrong class", free_wrong_class,
                 "with size 32, but it is a 64-byte block", OURS);
    expect_death("free of large with wrong size", free_large_wrong_size,
                 "it was allocated with a different size", OURS);
    expect_death("free of small as large", free_small_as_large,
                 "not a large block the arena handed out", OURS);
    expect_death("free of large as small", free_large_as_small,
                 "the arena never allocated it", OURS);
    return TEST_END();
}
