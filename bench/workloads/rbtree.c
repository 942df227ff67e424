/* bench/workloads/rbtree.c — Koka's persistent red-black trees (Perceus,
 * PLDI 2021: test/bench/koka/rbtree.kk, rbtree-ck.kk, after Lean's rbmap):
 * insert N keys with Okasaki's balancing, path copying, then count the
 * entries whose value is true. A node: an rc node of 3 slots (left, right,
 * the value: an immortal small int 0/1, as Python's False/True), its value
 * word key << 1 | red.
 *   rbtree, rbtree_ck  each version dropped at once, or every 5th kept on a
 *                      list (shared subtrees, counts above 1);
 *   *_reuse            Perceus's in-place variant: a node opened with
 *                      rc_is_unique true is rewritten in place, any other
 *                      copied (children dup'd, node dropped); both variants
 *                      own every tree they take, so they differ only in
 *                      reuse. Deferred never reuses (its counts lag its
 *                      buffers); elsewhere rbtree_reuse must reuse every
 *                      node it opens, rbtree_ck_reuse some, or the row errs;
 *   rbtree_shared      setup builds one tree of N even keys; every thread
 *                      inserts the same N/10 odd keys into its own version,
 *                      so the shared nodes are counted from T threads.
 * Recursion follows the tree's depth (O(log N)); drops are the object
 * model's iterative dealloc. A thread writes only nodes it alone holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/workloads/workloads.h"

enum { LEFT = 0, RIGHT = 1, VALUE = 2, NSLOTS = 3 };
enum { BLACK = 0, RED = 1 };
#define CK_FREQ 5                        /* rbtree-ck keeps every 5th version */

/* One run on one thread. */
typedef struct rb_run {
    bool reuse;                          /* Perceus's in-place variant */
    unsigned made;                       /* nodes made or rewritten: a safepoint every 256 */
    uint64_t opened;                     /* nodes taken apart (each a reuse candidate) */
    uint64_t reused;                     /* of them, rewritten in place */
} rb_run_t;

/* An opened node's fields, each an owned reference (NULL: a leaf). */
typedef struct rb_fields {
    rc_obj_t *l, *r, *v;
    int64_t key;
} rb_fields_t;

static inline int64_t word(const rc_obj_t *t) { return ((const rc_node_t *)t)->value; }
static inline bool is_red(const rc_obj_t *t) { return t && (word(t) & RED); }

/* An immortal small int, owned (its incref writes nothing). */
static inline rc_obj_t *boolean(bool b)
{
    rc_obj_t *o = rc_small_int(b);
    rc_incref(o);
    return o;
}

/* Consumes t, giving its fields to f. Returns t itself as the reuse token
 * when the variant reuses and t is unique (its slots emptied, so the cycle
 * detector never sees a reference its count does not hold), else NULL
 * after dup'ing the fields and dropping t. */
static inline rc_obj_t *node_open(rb_run_t *s, rc_obj_t *t, rb_fields_t *f)
{
    rc_node_t *n = (rc_node_t *)t;
    f->l = n->slots[LEFT];
    f->r = n->slots[RIGHT];
    f->v = n->slots[VALUE];
    f->key = n->value >> 1;
    s->opened++;
    if (s->reuse && rc_is_unique(t)) {
        n->slots[LEFT] = n->slots[RIGHT] = n->slots[VALUE] = NULL;
        return t;
    }
    if (f->l)
        rc_incref(f->l);
    if (f->r)
        rc_incref(f->r);
    rc_incref(f->v);
    rc_decref(t);
    return NULL;
}

/* Node(colour, l, key, v, r), stealing l, v and r: in the token when there
 * is one (its slots empty), else a new node. */
static inline rc_obj_t *node_make(rb_run_t *s, rc_obj_t *token, int colour, rc_obj_t *l, int64_t key,
                                  rc_obj_t *v, rc_obj_t *r)
{
    rc_obj_t *t = token;
    if (t)
        s->reused++;
    else
        t = must(rc_node_new(NSLOTS, 0));
    ((rc_node_t *)t)->value = key << 1 | colour;
    rc_node_set(t, LEFT, l);
    rc_node_set(t, RIGHT, r);
    rc_node_set(t, VALUE, v);
    if ((++s->made & 255) == 0)
        rc_safepoint();
    return t;
}

/* A cons cell of the list of kept versions: a 2-slot node (the tree, the
 * tail), stealing both. */
static rc_obj_t *cons(rb_run_t *s, rc_obj_t *tree, rc_obj_t *tail)
{
    rc_obj_t *c = must(rc_node_new(2, 0));
    rc_node_set(c, 0, tree);
    rc_node_set(c, 1, tail);
    if ((++s->made & 255) == 0)
        rc_safepoint();
    return c;
}

/* Koka's balance-left: l (a red node ins returned) goes left of key k,
 * the fields of the black node opened as `token`. */
static rc_obj_t *balance_left(rb_run_t *s, rc_obj_t *token, rc_obj_t *l, int64_t k, rc_obj_t *v, rc_obj_t *r)
{
    rb_fields_t y, x;
    if (is_red(rc_node_get(l, LEFT))) {
        rc_obj_t *ty = node_open(s, l, &y);
        rc_obj_t *tx = node_open(s, y.l, &x);
        rc_obj_t *a = node_make(s, tx, BLACK, x.l, x.key, x.v, x.r);
        rc_obj_t *b = node_make(s, token, BLACK, y.r, k, v, r);
        return node_make(s, ty, RED, a, y.key, y.v, b);
    }
    if (is_red(rc_node_get(l, RIGHT))) {
        rc_obj_t *ty = node_open(s, l, &y);
        rc_obj_t *tx = node_open(s, y.r, &x);
        rc_obj_t *a = node_make(s, ty, BLACK, y.l, y.key, y.v, x.l);
        rc_obj_t *b = node_make(s, token, BLACK, x.r, k, v, r);
        return node_make(s, tx, RED, a, x.key, x.v, b);
    }
    rc_obj_t *tx = node_open(s, l, &x);
    rc_obj_t *a = node_make(s, tx, RED, x.l, x.key, x.v, x.r);
    return node_make(s, token, BLACK, a, k, v, r);
}

/* Koka's balance-right: the mirror image, r the red node ins returned. */
static rc_obj_t *balance_right(rb_run_t *s, rc_obj_t *token, rc_obj_t *l, int64_t k, rc_obj_t *v, rc_obj_t *r)
{
    rb_fields_t y, x;
    if (is_red(rc_node_get(r, LEFT))) {
        rc_obj_t *ty = node_open(s, r, &y);
        rc_obj_t *tx = node_open(s, y.l, &x);
        rc_obj_t *a = node_make(s, token, BLACK, l, k, v, x.l);
        rc_obj_t *b = node_make(s, ty, BLACK, x.r, y.key, y.v, y.r);
        return node_make(s, tx, RED, a, x.key, x.v, b);
    }
    if (is_red(rc_node_get(r, RIGHT))) {
        rc_obj_t *tx = node_open(s, r, &x);
        rc_obj_t *ty = node_open(s, x.r, &y);
        rc_obj_t *a = node_make(s, token, BLACK, l, k, v, x.l);
        rc_obj_t *b = node_make(s, ty, BLACK, y.l, y.key, y.v, y.r);
        return node_make(s, tx, RED, a, x.key, x.v, b);
    }
    rc_obj_t *tx = node_open(s, r, &x);
    rc_obj_t *b = node_make(s, tx, RED, x.l, x.key, x.v, x.r);
    return node_make(s, token, BLACK, l, k, v, b);
}

/* Koka's ins: t (owned, NULL: a leaf) with k -> v (owned); never a leaf. */
static rc_obj_t *ins(rb_run_t *s, rc_obj_t *t, int64_t k, rc_obj_t *v)
{
    if (t == NULL)
        return node_make(s, NULL, RED, NULL, k, v, NULL);
    const bool red = is_red(t);
    rb_fields_t f;
    rc_obj_t *token = node_open(s, t, &f);
    if (k == f.key) {
        rc_decref(f.v);                  /* the old value (immortal) */
        return node_make(s, token, red ? RED : BLACK, f.l, k, v, f.r);
    }
    if (red) {
        if (k < f.key)
            return node_make(s, token, RED, ins(s, f.l, k, v), f.key, f.v, f.r);
        return node_make(s, token, RED, f.l, f.key, f.v, ins(s, f.r, k, v));
    }
    if (k < f.key) {
        if (is_red(f.l))
            return balance_left(s, token, ins(s, f.l, k, v), f.key, f.v, f.r);
        return node_make(s, token, BLACK, ins(s, f.l, k, v), f.key, f.v, f.r);
    }
    if (is_red(f.r))
        return balance_right(s, token, f.l, f.key, f.v, ins(s, f.r, k, v));
    return node_make(s, token, BLACK, f.l, f.key, f.v, ins(s, f.r, k, v));
}

/* Koka's insert: ins, then a red root made black. Consumes t and v. */
static rc_obj_t *insert(rb_run_t *s, rc_obj_t *t, int64_t k, rc_obj_t *v)
{
    if (!is_red(t))
        return ins(s, t, k, v);
    rb_fields_t f;
    rc_obj_t *u = ins(s, t, k, v);
    rc_obj_t *token = node_open(s, u, &f);
    return node_make(s, token, BLACK, f.l, f.key, f.v, f.r);
}

/* Koka's fold counting the entries whose value is true (the answer),
 * and the entries (*entries += them: a lost key with value false shows
 * too); borrows t. Recursion on the left child, a loop down the right. */
static uint64_t count_true(const rc_obj_t *t, uint64_t *entries)
{
    uint64_t n = 0;
    for (; t; t = rc_node_get(t, RIGHT), ++*entries)
        n += count_true(rc_node_get(t, LEFT), entries) + (rc_int_value(rc_node_get(t, VALUE)) != 0);
    return n;
}

/* A run's result: the answer, the entries of the tree it counted, the
 * nodes it took apart and, of them, rewrote in place. */
typedef struct rb_result {
    uint64_t answer, entries, opened, reused;
} rb_result_t;

/* rbtree.kk: keys n-1 down to 0, value key % 10 == 0; each version
 * dropped as the next is made. */
static rb_result_t rbtree_run(rb_run_t *s, int64_t n)
{
    rc_obj_t *t = NULL;
    for (int64_t k = n - 1; k >= 0; k--)
        t = insert(s, t, k, boolean(k % 10 == 0));
    rb_result_t r = { 0 };
    r.answer = count_true(t, &r.entries);
    if (t)
        rc_decref(t);
    r.opened = s->opened;
    r.reused = s->reused;
    return r;
}

/* rbtree-ck.kk: keys n down to 1, value key % 10 == 0; the version after
 * each key that is a multiple of CK_FREQ kept on a list (cons cells: the
 * tree, the tail), the last version at its head; the head is counted. */
static rb_result_t rbtree_ck_run(rb_run_t *s, int64_t n)
{
    rc_obj_t *t = NULL, *kept = NULL;
    for (int64_t k = n; k >= 1; k--) {
        t = insert(s, t, k, boolean(k % 10 == 0));
        if (k % CK_FREQ == 0) {
            rc_incref(t);
            kept = cons(s, t, kept);
        }
    }
    kept = cons(s, t, kept);
    rb_result_t r = { 0 };
    r.answer = count_true(rc_node_get(kept, 0), &r.entries);
    rc_decref(kept);
    r.opened = s->opened;
    r.reused = s->reused;
    return r;
}

/* ---- the workloads ---------------------------------------------------------------- */

typedef struct rb_ctx {
    const char *program;                 /* "rbtree", "rbtree_ck" or "rbtree_shared" */
    int64_t n;
    uint64_t entries;                    /* in the tree a run counts */
    bool reuse;
    rc_obj_t *shared;                    /* rbtree_shared: the tree every thread starts from */
    unsigned threads;
    bench_answers_t *answers;
    /* Per thread (each writes only its own line): runs, runs that reused
     * no node, runs that copied a node they held alone (rbtree_reuse: every
     * node it opens), runs whose tree held the wrong number of entries
     * (the first such number). */
    struct rb_slot { uint64_t runs, barren, copied, lost, entries; char pad[24]; } *slot;
    char why[200];
} rb_ctx_t;

static rb_ctx_t *rb_ctx_new(const char *program, const char *size_of, bool reuse, const bench_params_t *p,
                            unsigned threads)
{
    rb_ctx_t *c = bench_must_mem(calloc(1, sizeof *c));
    c->program = program;
    c->n = (int64_t)bench_program_size(size_of, p);
    c->entries = (uint64_t)c->n;
    c->reuse = reuse;
    c->threads = threads;
    c->answers = bench_answers_new(program, (uint64_t)c->n, threads);
    c->slot = bench_must_mem(calloc(threads, sizeof c->slot[0]));
    return c;
}

static void *rbtree_setup(const bench_params_t *p, unsigned t) { return rb_ctx_new("rbtree", "rbtree", false, p, t); }
static void *rbtree_reuse_setup(const bench_params_t *p, unsigned t) { return rb_ctx_new("rbtree", "rbtree", true, p, t); }
static void *ck_setup(const bench_params_t *p, unsigned t) { return rb_ctx_new("rbtree_ck", "rbtree_ck", false, p, t); }
static void *ck_reuse_setup(const bench_params_t *p, unsigned t) { return rb_ctx_new("rbtree_ck", "rbtree_ck", true, p, t); }

static void rb_teardown(void *ctx)
{
    rb_ctx_t *c = ctx;
    if (c->shared)
        rc_decref(c->shared);
    bench_answers_free(c->answers);
    free(c->slot);
    free(c);
}

/* The answer, the tree's size, then (reuse variants) the uniqueness test
 * where the strategy can answer it: a run of rbtree_ck_reuse opens shared
 * nodes too, but unique ones in every insert after the first since the
 * last kept version, so it must reuse; rbtree_reuse holds every node it
 * opens alone, so it must reuse each. */
static const char *rb_verdict(void *ctx)
{
    rb_ctx_t *c = ctx;
    const char *wrong = bench_answers_verdict(c->answers);
    if (wrong)
        return wrong;
    for (unsigned t = 0; t < c->threads; t++)
        if (c->slot[t].lost) {
            snprintf(c->why, sizeof c->why, "wrong tree: %s at size %lld held %llu entries on thread %u "
                     "(%llu of %llu runs wrong), expected %llu", c->program, (long long)c->n,
                     (unsigned long long)c->slot[t].entries, t, (unsigned long long)c->slot[t].lost,
                     (unsigned long long)c->slot[t].runs, (unsigned long long)c->entries);
            return c->why;
        }
    if (!c->reuse)
        return NULL;
#ifndef RC_STRATEGY_DEFERRED
    for (unsigned t = 0; t < c->threads; t++)
        if (c->slot[t].barren) {
            snprintf(c->why, sizeof c->why, "no reuse: %llu of %llu runs of %s_reuse on thread %u rewrote no "
                     "node in place, though the nodes they copy are unique (rc_is_unique under %s)",
                     (unsigned long long)c->slot[t].barren, (unsigned long long)c->slot[t].runs, c->program, t,
                     RC_STRATEGY_NAME);
            return c->why;
        }
    for (unsigned t = 0; t < c->threads && strcmp(c->program, "rbtree") == 0; t++)
        if (c->slot[t].copied) {
            snprintf(c->why, sizeof c->why, "missed reuse: %llu of %llu runs of rbtree_reuse on thread %u copied a "
                     "node they held alone (rc_is_unique under %s)", (unsigned long long)c->slot[t].copied,
                     (unsigned long long)c->slot[t].runs, t, RC_STRATEGY_NAME);
            return c->why;
        }
#endif
    return NULL;
}

static uint64_t rb_record(rb_ctx_t *c, unsigned thread, rb_result_t r)
{
    struct rb_slot *slot = &c->slot[thread];
    bench_answers_check(c->answers, thread, r.answer);
    slot->runs++;
    if (r.entries != c->entries && slot->lost++ == 0)
        slot->entries = r.entries;
    slot->barren += r.reused == 0;
    slot->copied += r.reused != r.opened;
    return r.answer;
}

static uint64_t rbtree(void *ctx, unsigned thread, uint64_t n)
{
    rb_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        rb_run_t s = { .reuse = c->reuse };
        sum += rb_record(c, thread, rbtree_run(&s, c->n));
    }
    return sum;
}

static uint64_t rbtree_ck(void *ctx, unsigned thread, uint64_t n)
{
    rb_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        rb_run_t s = { .reuse = c->reuse };
        sum += rb_record(c, thread, rbtree_ck_run(&s, c->n));
    }
    return sum;
}

/* rbtree_shared: the tree of rbtree.kk with keys doubled (2k -> k % 10 ==
 * 0, k < N), built here by the attached setup thread; each run inserts the
 * odd keys 20i + 11 (i < N/10, value true), which it does not hold, into
 * its own version. */
static void *shared_setup(const bench_params_t *p, unsigned threads)
{
    rb_ctx_t *c = rb_ctx_new("rbtree_shared", "rbtree", false, p, threads);
    c->entries = (uint64_t)(c->n + c->n / 10);
    rb_run_t s = { .reuse = true };
    for (int64_t k = c->n - 1; k >= 0; k--)
        c->shared = insert(&s, c->shared, 2 * k, boolean(k % 10 == 0));
    return c;
}

static uint64_t rbtree_shared(void *ctx, unsigned thread, uint64_t n)
{
    rb_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        rb_run_t s = { .reuse = false };
        rc_obj_t *t = c->shared;
        rc_incref(t);                    /* this thread's version, from another thread's nodes */
        for (int64_t j = 0; j < c->n / 10; j++)
            t = insert(&s, t, 20 * j + 11, boolean(true));
        rb_result_t r = { 0 };
        r.answer = count_true(t, &r.entries);
        rc_decref(t);
        r.opened = s.opened;
        r.reused = s.reused;
        sum += rb_record(c, thread, r);
    }
    return sum;
}

static const bench_workload_t programs[] = {
    { .name = "rbtree", .op = "run of rbtree (N inserts, path copying, a fold)", .ops_per_iter = 1,
      .setup = rbtree_setup, .run = rbtree, .teardown = rb_teardown, .verdict = rb_verdict, .acyclic = true,
      .unit = BENCH_UNIT_RUN },
    { .name = "rbtree_reuse", .op = "run of rbtree, unique nodes rewritten in place", .ops_per_iter = 1,
      .setup = rbtree_reuse_setup, .run = rbtree, .teardown = rb_teardown, .verdict = rb_verdict, .acyclic = true,
      .unit = BENCH_UNIT_RUN },
    { .name = "rbtree_ck", .op = "run of rbtree_ck (every 5th version kept)", .ops_per_iter = 1,
      .setup = ck_setup, .run = rbtree_ck, .teardown = rb_teardown, .verdict = rb_verdict, .acyclic = true,
      .unit = BENCH_UNIT_RUN },
    { .name = "rbtree_ck_reuse", .op = "run of rbtree_ck, unique nodes rewritten in place", .ops_per_iter = 1,
      .setup = ck_reuse_setup, .run = rbtree_ck, .teardown = rb_teardown, .verdict = rb_verdict, .acyclic = true,
      .unit = BENCH_UNIT_RUN },
    { .name = "rbtree_shared", .op = "run of N/10 inserts into a version of one shared tree", .ops_per_iter = 1,
      .setup = shared_setup, .run = rbtree_shared, .teardown = rb_teardown, .verdict = rb_verdict, .acyclic = true,
      .unit = BENCH_UNIT_RUN },
};
const bench_family_t bench_rbtree_family = BENCH_FAMILY(programs);
