/* bench/peers/none.c — the `none` peer: no counting at all, the floor any
 * counting strategy stands on.
 *
 *   alloc_pairs  malloc of 16..256 bytes (a fixed cycle of sizes), the
 *                block touched, freed 64 operations later;
 *   empty        a loop with nothing in it: what the harness adds to an
 *                operation (well under 1 ns);
 *   tree         the binary trees of rcbench's `tree` made of 24-byte
 *                structs (bench/peers/ptree.h) with malloc and freed with
 *                free, on each allocator.
 * a second family, the allocator patterns (alloc_lifo_SIZE,
 * alloc_batch_SIZE, alloc_prodcons_SIZE: bench/workloads/alloc.c), and a
 * third, the programs ownership lets C free by hand (binarytrees, cfold:
 * bench/peers/programs_none.c).
 * Threading: as for every workload (bench/bench.h); nothing shared in this
 * family (alloc_prodcons pairs its threads through rings).
 */
#include <stdint.h>
#include <stdlib.h>

#include "alloc/alloc.h"
#include "base/compiler.h"
#include "bench/bench.h"
#include "bench/peers/pprog.h"
#include "bench/peers/ptree.h"
#include "rc/rc.h"

#define PAIR_WINDOW 64

static uint64_t alloc_pairs(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    static const uint16_t sizes[8] = { 16, 32, 48, 64, 96, 128, 192, 256 };
    void *window[PAIR_WINDOW] = { 0 };
    uint16_t wsize[PAIR_WINDOW] = { 0 };
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        unsigned slot = (unsigned)(i & (PAIR_WINDOW - 1));
        if (window[slot])
            alloc_free(window[slot], wsize[slot]);
        size_t sz = sizes[(i * 7) & 7];
        unsigned char *p = alloc_malloc(sz);
        if (RC_UNLIKELY(p == NULL))
            rc_fatal_os("out of memory (allocator %s): benchmark stopped", alloc_current->name);
        p[0] = (unsigned char)i;
        sum += p[0];
        window[slot] = p;
        wsize[slot] = (uint16_t)sz;
    }
    for (unsigned i = 0; i < PAIR_WINDOW; i++)
        if (window[i])
            alloc_free(window[i], wsize[i]);
    return sum;
}

static uint64_t empty(void *ctx, unsigned thread, uint64_t n)
{
    (void)ctx, (void)thread;
    for (uint64_t i = 0; i < n; i++)
        RC_COMPILER_BARRIER();
    return n;
}

static pnode_t *malloc_node(void)
{
    pnode_t *n = alloc_malloc(sizeof *n);
    if (RC_UNLIKELY(n == NULL))
        rc_fatal_os("out of memory (allocator %s): benchmark stopped", alloc_current->name);
    return n;
}

/* Post-order, as a count reaching zero frees a node then its children
 * (the recursion is as deep as the tree, at most 30). */
static void ptree_free(pnode_t *n)
{
    if (n == NULL)
        return;
    pnode_t *l = n->l, *r = n->r;
    alloc_free(n, sizeof *n);
    ptree_free(l);
    ptree_free(r);
}

static uint64_t none_tree(void *ctx, unsigned thread, uint64_t n)
{
    const ptree_ctx_t *c = ctx;
    const uint64_t nodes = bench_tree_nodes(c->depth);
    pnode_t **level = bench_scratch(thread, sizeof *level << c->depth);
    uint64_t sum = 0;
    for (uint64_t done = 0; done < n; done += nodes) {
        pnode_t *root = ptree_build(c->depth, level, malloc_node, false);
        sum += (uint64_t)root->v + 1;
        ptree_free(root);
    }
    return sum;
}

static const bench_workload_t none_w[] = {
    { .name = "tree", .op = "tree node malloc'ed and freed (no count)", .ops_per_iter = 1 << 17,
      .setup = ptree_setup, .run = none_tree, .teardown = free, .ops = ptree_ops, .gate = true },
    { .name = "alloc_pairs", .op = "malloc + free of 16-256 bytes", .ops_per_iter = 1 << 20, .run = alloc_pairs, .gate = true },
    { .name = "empty", .op = "nothing (the harness's own cost)", .ops_per_iter = 1 << 22, .run = empty },
};
static const bench_family_t none_family = BENCH_FAMILY(none_w);

const bench_strategy_t bench_none_peer = {
    .name = "none",
    .gc_figures = bench_no_collections,
    .peer = true,
    .families = { &none_family, &bench_alloc_family, &bench_none_programs_family },
};
