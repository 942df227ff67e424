/* tests/unit/test_refcount.c — Python's reference-counting semantics, the
 * experiments Python programmers run with sys.getrefcount, under the
 * strategy this binary is built for.
 *
 * rc_refcount reports the true count (no +1 for the call itself, unlike
 * sys.getrefcount). Every section ends with live objects back at the
 * immortal baseline (zero mortal objects). Counts, immortality and
 * liveness are read through count(), immortal() and live(), which pass a
 * safepoint first: deferred counting applies changes there (rc/rc.h), the
 * other strategies are exact at any time and the safepoint changes
 * nothing. Constructors given a bad size must die with one fatal line:
 * those cases run in a forked child (tests/death.h).
 * Threading: the main thread, attached for the whole run but while it
 * joins the helper that counts from another thread (saturation).
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "alloc/alloc.h"
#include "rc/rc.h"
#include "tests/check.h"
#include "tests/death.h"
#include "tests/objects.h"

static int64_t count(rc_obj_t *o)
{
    rc_safepoint();
    return rc_refcount(o);
}
static bool immortal(rc_obj_t *o)
{
    rc_safepoint();
    return rc_is_immortal(o);
}

static void new_object_has_count_one(void)
{
    rc_obj_t *x = rc_int_new(1000);
    REQUIRE(x != NULL);
    CHECK_EQ(count(x), 1);
    CHECK_EQ(rc_int_value(x), 1000);
    CHECK(!immortal(x));
    rc_decref(x);
    CHECK_EQ(live(), 0);
}

static void binding_into_containers(void)
{
    rc_obj_t *x = rc_int_new(1000);
    /* t = (x,): the tuple owns one more reference. */
    rc_obj_t *t = rc_tuple_new(1);
    rc_incref(x);
    rc_tuple_set(t, 0, x);
    CHECK_EQ(count(x), 2);
    CHECK(rc_tuple_get(t, 0) == x);
    rc_decref(t);                      /* del t */
    CHECK_EQ(count(x), 1);

    /* l = [x]: append increfs. */
    rc_obj_t *l = rc_list_new();
    CHECK(rc_list_append(l, x));
    CHECK_EQ(count(x), 2);
    CHECK_EQ(rc_list_size(l), 1);
    rc_decref(l);                      /* del l */
    CHECK_EQ(count(x), 1);

    /* n.child = x */
    rc_obj_t *n = rc_node_new(2, 7);
    rc_incref(x);
    rc_node_set(n, 1, x);
    CHECK_EQ(count(x), 2);
    rc_node_set(n, 1, NULL);           /* n.child = None drops it */
    CHECK_EQ(count(x), 1);
    rc_decref(n);
    rc_decref(x);
    CHECK_EQ(live(), 0);
}

static void dropping_a_list_decrefs_every_element(void)
{
    rc_obj_t *e[3] = { rc_int_new(1001), rc_int_new(1002), rc_tuple_new(0) };
    rc_obj_t *l = rc_list_new();
    for (int i = 0; i < 3; i++)
        CHECK(rc_list_append(l, e[i]));
    for (int i = 0; i < 3; i++)
        CHECK_EQ(count(e[i]), 2);
    rc_decref(l);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(count(e[i]), 1);
        rc_decref(e[i]);
    }
    CHECK_EQ(live(), 0);
}

static void list_set_and_clear(void)
{
    rc_obj_t *a = rc_int_new(5000), *b = rc_int_new(6000);
    rc_obj_t *l = rc_list_new();
    for (int i = 0; i < 100; i++)      /* grows the item array several times */
        CHECK(rc_list_append(l, a));
    CHECK_EQ(count(a), 101);
    rc_incref(b);
    rc_list_set(l, 50, b);             /* l[50] = b: steals b, drops one a */
    CHECK_EQ(count(a), 100);
    CHECK_EQ(count(b), 2);
    rc_list_clear(l);
    CHECK_EQ(rc_list_size(l), 0);
    CHECK_EQ(count(a), 1);
    CHECK_EQ(count(b), 1);
    rc_decref(l);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(live(), 0);
}

static void small_ints_are_cached_and_immortal(void)
{
    uint64_t before = rc_stats_get().allocated;
    for (int64_t v = RC_SMALL_INT_MIN; v <= RC_SMALL_INT_MAX; v++) {
        rc_obj_t *a = rc_int_new(v), *b = rc_int_new(v);
        CHECK(a == b);
        CHECK(a == rc_small_int(v));
        CHECK(immortal(a));
        CHECK_EQ(count(a), RC_REFCNT_IMMORTAL);
        CHECK_EQ(rc_int_value(a), v);
        rc_decref(a);
        rc_decref(b);
    }
    CHECK_EQ(rc_stats_get().allocated, before);   /* none was allocated */

    const int64_t outside[] = { RC_SMALL_INT_MIN - 1, RC_SMALL_INT_MAX + 1 };  /* -6, 257 */
    for (int i = 0; i < 2; i++) {
        rc_obj_t *a = rc_int_new(outside[i]), *b = rc_int_new(outside[i]);
        CHECK(a != b);
        CHECK(rc_small_int(outside[i]) == NULL);
        CHECK(!immortal(a));
        CHECK_EQ(count(a), 1);
        rc_decref(a);
        rc_decref(b);
    }
    CHECK_EQ(live(), 0);
}

/* A billion decrefs (and increfs) of an immortal int: alive, same reported
 * count, and the header bytes never written. The barrier makes each
 * iteration reload the word, so the loop cannot be folded away. */
static void immortal_survives_a_billion_decrefs(uint64_t scale)
{
    rc_obj_t *o = rc_int_new(256);
    unsigned char before[sizeof(rc_int_t)];
    memcpy(before, o, sizeof before);
    const uint64_t n = UINT64_C(1000000000) / scale;
    for (uint64_t i = 0; i < n; i++) {
        rc_decref(o);
        RC_COMPILER_BARRIER();
    }
    for (uint64_t i = 0; i < n / 4; i++) {
        rc_incref(o);
        RC_COMPILER_BARRIER();
    }
    CHECK(memcmp(before, o, sizeof before) == 0);
    CHECK(immortal(o));
    CHECK_EQ(count(o), RC_REFCNT_IMMORTAL);
    CHECK_EQ(rc_int_value(o), 256);
    CHECK(rc_int_new(256) == o);
    printf("immortal: %" PRIu64 " decrefs and %" PRIu64 " increfs, header unchanged\n", n, n / 4);
}

/* a = []; b = []; a.append(b); b.append(a); del a, b: each keeps count 1
 * (only the cycle holds them); counting alone never frees them. */
static void cycles_keep_count_one(void)
{
    rc_obj_t *a = rc_list_new(), *b = rc_list_new();
    CHECK(rc_list_append(a, b));
    CHECK(rc_list_append(b, a));
    CHECK_EQ(count(a), 2);
    CHECK_EQ(count(b), 2);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(count(a), 1);
    CHECK_EQ(count(b), 1);
    CHECK_EQ(live(), 2);              /* leaked by counting: the cycle detector's job */
    rc_list_clear(a);                 /* break the cycle by hand: both freed */
    CHECK_EQ(live(), 0);

    /* The same with a self-referencing node. */
    rc_obj_t *n = rc_node_new(1, 0);
    rc_incref(n);
    rc_node_set(n, 0, n);
    rc_decref(n);
    CHECK_EQ(count(n), 1);
    CHECK_EQ(live(), 1);
    rc_node_set(n, 0, NULL);
    CHECK_EQ(live(), 0);
}

/* Counts saturate into immortality instead of wrapping (P3, S5). */
static void counts_saturate(void)
{
    rc_obj_t *o = rc_int_new(123456);
    rc_debug_set_refcnt(o, (uint64_t)rc_count_max - 2);
    rc_incref(o);
    CHECK(!immortal(o));
    CHECK_EQ(count(o), rc_count_max - 1);
    rc_incref(o);
    rc_incref(o);                     /* carries into the immortal bit */
    CHECK(immortal(o));
    CHECK_EQ(count(o), RC_REFCNT_IMMORTAL);
    for (int i = 0; i < 1000; i++)
        rc_decref(o);
    CHECK(immortal(o));
    CHECK_EQ(live(), 1);              /* never freed */
    CHECK_EQ(rc_int_value(o), 123456);
    rc_debug_set_refcnt(o, 1);        /* test cleanup only */
    rc_decref(o);
    CHECK_EQ(live(), 0);
}

/* rc.h: the owner-side count saturates above rc_count_max; increfs by
 * other threads never leave a mortal count above rc_refcount_max (biased
 * counts them in its shared count, which saturates on its own) and never
 * wrap. The helper thread attaches, so the main thread detaches around
 * the join (plain: the GIL). */
static void *incref_three(void *arg)
{
    rc_thread_attach();
    for (int i = 0; i < 3; i++)
        rc_incref(arg);
    rc_safepoint();
    rc_thread_detach();
    return NULL;
}
static void *decref_three(void *arg)
{
    rc_thread_attach();
    for (int i = 0; i < 3; i++)
        rc_decref(arg);
    rc_safepoint();
    rc_thread_detach();
    return NULL;
}
static void run_helper(void *(*fn)(void *), rc_obj_t *o)
{
    pthread_t t;
    rc_thread_detach();
    REQUIRE(pthread_create(&t, NULL, fn, o) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    rc_thread_attach();
    for (int i = 0; i < 8; i++)
        rc_safepoint();               /* deferred: the helper's decrements land epochs later */
}

static void counts_above_max_from_other_threads(void)
{
    uint64_t base = live();
    rc_obj_t *o = rc_int_new(123457);
    rc_debug_set_refcnt(o, (uint64_t)rc_count_max);
    CHECK(!immortal(o));
    run_helper(incref_three, o);
    int64_t c = count(o);
    if (!immortal(o))
        printf("3 increfs by another thread at rc_count_max %lld: mortal, count %lld "
               "(rc_refcount_max %lld)\n", (long long)rc_count_max, (long long)c, (long long)rc_refcount_max);
    CHECK(immortal(o) ? c == RC_REFCNT_IMMORTAL : (uint64_t)c == (uint64_t)rc_count_max + 3);
    CHECK(immortal(o) || c <= rc_refcount_max);
    CHECK(c > 0);                     /* never wrapped */
    run_helper(decref_three, o);
    CHECK_EQ(live(), base + 1);       /* never freed on the way */
    CHECK_EQ(rc_int_value(o), 123457);
    if (!immortal(o))
        CHECK_EQ(count(o), rc_count_max);
    rc_debug_set_refcnt(o, 1);        /* test cleanup only */
    rc_decref(o);
    CHECK_EQ(live(), base);
}

/* Perceus's reuse test: the caller's reference is the only one. Every
 * strategy but deferred answers from the count (deferred's applied count
 * lags its buffers: never unique); an immortal is never unique; another
 * thread's reference (biased: counted in shared) makes it not unique. */
static void unique_means_the_only_reference(void)
{
#ifdef RC_STRATEGY_DEFERRED
    const bool answers = false;
#else
    const bool answers = true;
#endif
    uint64_t base = live();
    rc_obj_t *o = rc_node_new(2, 7);
    CHECK_EQ(rc_is_unique(o), answers);
    rc_incref(o);
    CHECK(!rc_is_unique(o));
    run_helper(incref_three, o);
    CHECK(!rc_is_unique(o));
    rc_decref(o);
    CHECK(!rc_is_unique(o));          /* three references of the helper's */
    run_helper(decref_three, o);
    CHECK_EQ(count(o), 1);
    CHECK_EQ(rc_is_unique(o), answers);   /* biased: the helper's shared count back at 0 */
    CHECK(!rc_is_unique(rc_small_int(5)));
    rc_decref(o);
    CHECK_EQ(live(), base);
}

static void trees_free_every_node(void)
{
    /* A full binary tree of depth 12 plus a shared leaf referenced from
     * every internal node: everything goes when the root goes. */
    rc_obj_t *shared = rc_int_new(99999);
    rc_obj_t *level[1 << 12];
    int width = 1 << 12;
    for (int i = 0; i < width; i++)
        level[i] = rc_node_new(2, i);
    while (width > 1) {
        for (int i = 0; i < width / 2; i++) {
            rc_obj_t *p = rc_node_new(3, i);
            rc_node_set(p, 0, level[2 * i]);
            rc_node_set(p, 1, level[2 * i + 1]);
            rc_incref(shared);
            rc_node_set(p, 2, shared);
            level[i] = p;
        }
        width /= 2;
    }
    CHECK_EQ(live(), (1 << 13) - 1 + 1);
    CHECK_EQ(count(shared), (1 << 12));   /* 4095 internal nodes + ours */
    rc_decref(level[0]);
    CHECK_EQ(count(shared), 1);
    rc_decref(shared);
    CHECK_EQ(live(), 0);
}

/* Each container type's clear hook (what the cycle detector will call)
 * drops every child reference and leaves the container empty. */
static void clear_drops_every_child(void)
{
    rc_obj_t *x = rc_int_new(777777);
    rc_obj_t *c[3] = { rc_tuple_new(3), rc_node_new(3, 0), rc_list_new() };
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 3; i++) {
            rc_incref(x);
            if (k == 0) rc_tuple_set(c[k], i, x);
            else if (k == 1) rc_node_set(c[k], (uint32_t)i, x);
            else { CHECK(rc_list_append(c[k], x)); rc_decref(x); }
        }
    CHECK_EQ(count(x), 10);
    for (int k = 0; k < 3; k++) {
        c[k]->type->clear(c[k]);
        CHECK_EQ(count(x), 10 - 3 * (k + 1));
    }
    CHECK(rc_tuple_get(c[0], 2) == NULL);
    CHECK(rc_node_get(c[1], 0) == NULL);
    CHECK_EQ(rc_list_size(c[2]), 0);
    for (int k = 0; k < 3; k++)
        rc_decref(c[k]);
    CHECK_EQ(count(x), 1);
    rc_decref(x);
    CHECK_EQ(live(), 0);
}

/* A bad size is a programming error, not a full heap: one fatal line
 * naming the constructor, never the NULL that means out of memory (rc.h). */
static void tuple_negative(void) { (void)rc_tuple_new(-1); }
static void node_no_slots(void) { (void)rc_node_new(0, 0); }
static void node_too_many_slots(void) { (void)rc_node_new(RC_NODE_MAX_SLOTS + 1, 0); }

static void expect_fatal(const char *what, void (*fn)(void), const char *names)
{
    death_t d = death_run(fn);
    bool aborted = WIFSIGNALED(d.status) && WTERMSIG(d.status) == SIGABRT;
    int lines = 0;
    for (const char *p = d.msg; (p = strstr(p, "rcbench: fatal:")); p++)
        lines++;
    if (!aborted || lines != 1 || strstr(d.msg, names) == NULL)
        printf("%s: %s (stderr: %s)\n", what, aborted ? "aborted" : "did not abort", d.msg);
    CHECK(aborted);
    CHECK_EQ(lines, 1);
    CHECK(strstr(d.msg, names) != NULL);
}

static void constructors_reject_bad_sizes(void)
{
    expect_fatal("rc_tuple_new(-1)", tuple_negative, "rc_tuple_new");
    expect_fatal("rc_node_new(0)", node_no_slots, "rc_node_new");
    expect_fatal("rc_node_new(RC_NODE_MAX_SLOTS + 1)", node_too_many_slots, "rc_node_new");
    /* More than any address space holds: that is out of memory. */
    CHECK(rc_tuple_new(INT64_MAX) == NULL);
    CHECK_EQ(live(), 0);
}

/* The object model's live count and the arena's live blocks move together:
 * each int is one object and one block. */
static void object_count_matches_the_arena(void)
{
    if (strcmp(alloc_current->name, "arena") != 0)
        return;
    enum { N = 1000 };
    static rc_obj_t *held[N];
    alloc_stats_t a0, a1;
    alloc_arena_stats(&a0);
    uint64_t base = live();
    for (int i = 0; i < N; i++)
        held[i] = rc_int_new(100000 + i);
    alloc_arena_stats(&a1);
    CHECK_EQ(live() - base, N);
    CHECK_EQ(a1.live_blocks - a0.live_blocks, N);
    for (int i = 0; i < N; i++)
        rc_decref(held[i]);
    rc_safepoint();
    alloc_arena_stats(&a1);
    CHECK_EQ(live(), base);
    CHECK_EQ(a1.live_blocks, a0.live_blocks);
}

/* When the OS refuses memory, constructors return NULL, the counts stay
 * exact and everything made before can be dropped. The arena's injection
 * fails its next request to the OS, which comes when the current segments
 * are full. */
static void out_of_memory_returns_null(void)
{
    if (strcmp(alloc_current->name, "arena") != 0)
        return;
    size_t cap = (size_t)1 << 22, n = 0;
    rc_obj_t **held = malloc(cap * sizeof *held), *o = NULL;
    REQUIRE(held != NULL);
    uint64_t base = live();
    alloc_test_fail_os_map(1);
    while (n < cap && (o = rc_int_new(100000 + (int64_t)n)) != NULL)
        held[n++] = o;
    CHECK(o == NULL);                 /* the refusal surfaced, nothing crashed */
    CHECK_EQ(live(), base + n);
    o = rc_int_new(-100000);          /* the injection fails one request */
    CHECK(o != NULL);
    if (o)
        rc_decref(o);
    for (size_t i = 0; i < n; i++)
        rc_decref(held[i]);
    CHECK_EQ(live(), base);
    free(held);
}

int main(int argc, char **argv)
{
    test_opts_t opt = test_opts(argc, argv);
    rc_thread_attach();
    printf("strategy %s: header %zu bytes (count %zu + type pointer)\n",
           rc_strategy_desc.name, rc_strategy_desc.header_bytes, rc_strategy_desc.count_bytes);
    new_object_has_count_one();
    binding_into_containers();
    dropping_a_list_decrefs_every_element();
    list_set_and_clear();
    small_ints_are_cached_and_immortal();
    immortal_survives_a_billion_decrefs(opt.scale);
    cycles_keep_count_one();
    counts_saturate();
    counts_above_max_from_other_threads();
    unique_means_the_only_reference();
    trees_free_every_node();
    clear_drops_every_child();
    constructors_reject_bad_sizes();
    object_count_matches_the_arena();
    out_of_memory_returns_null();
    rc_thread_detach();
    return TEST_END();
}
