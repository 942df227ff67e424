/* bench/workloads/trees.c — GCBench-style binary trees of nodes, depth
 * settable (--tree-depth), built bottom-up and dropped whole; one op is
 * one node.
 *
 *   tree      the cycle detector off (as a program that calls
 *             gc.disable()): counting and the allocator;
 *   tree_gc   the same with the cycle detector on at its default
 *             thresholds.
 * Threading: bench/workloads/workloads.h; every thread builds its own trees.
 */
#include <stdlib.h>

#include "bench/workloads/workloads.h"

/* ---- tree ------------------------------------------------------------------------ */

typedef struct tree_ctx {
    unsigned depth;
} tree_ctx_t;

/* Trees are acyclic: "tree" runs with the cycle detector's collections
 * off (.acyclic: as a program that calls gc.disable()), so it measures
 * counting and the allocator; "tree_gc" leaves them on at the default
 * thresholds. A tree being built is pure growth, so a young collection
 * comes every 700 nodes and every survivor climbs the generations: the
 * collector's cost (and with threads, each collection's stop-the-world)
 * on top. */
static void *tree_setup(const bench_params_t *p, unsigned threads)
{
    (void)threads;
    tree_ctx_t *c = bench_must_mem(malloc(sizeof *c));
    c->depth = p->tree_depth;
    return c;
}

static void tree_teardown(void *ctx) { free(ctx); }

/* Bottom-up, level by level, so the C stack stays flat at any depth;
 * GCBench builds top-down, the set of nodes and links is the same. */
static rc_obj_t *tree_build(unsigned depth, rc_obj_t **level)
{
    uint64_t width = UINT64_C(1) << depth;
    for (uint64_t i = 0; i < width; i++) {
        level[i] = must(rc_node_new(2, (int64_t)i));
        if ((i & 255) == 255)
            rc_safepoint();
    }
    uint64_t made = width;
    while (width > 1) {
        for (uint64_t i = 0; i < width / 2; i++) {
            rc_obj_t *p = must(rc_node_new(2, (int64_t)i));
            rc_node_set(p, 0, level[2 * i]);
            rc_node_set(p, 1, level[2 * i + 1]);
            level[i] = p;
            if ((++made & 255) == 0)
                rc_safepoint();
        }
        width /= 2;
    }
    return level[0];
}

static uint64_t tree_ops(const void *ctx, uint64_t n) { return bench_tree_ops(((const tree_ctx_t *)ctx)->depth, n); }

static uint64_t tree(void *ctx, unsigned thread, uint64_t n)
{
    const tree_ctx_t *c = ctx;
    const uint64_t nodes = bench_tree_nodes(c->depth);
    rc_obj_t **level = bench_scratch(thread, sizeof *level << c->depth);
    uint64_t sum = 0;
    for (uint64_t done = 0; done < n; done += nodes) {
        rc_obj_t *root = tree_build(c->depth, level);
        sum += (uint64_t)rc_int_value(root) + 1;
        rc_decref(root);
        rc_safepoint();
    }
    return sum;
}

static const bench_workload_t trees[] = {
    { .name = "tree", .op = "tree node made and freed (cycle detector off)", .ops_per_iter = 1 << 17,
      .setup = tree_setup, .run = tree, .teardown = tree_teardown, .ops = tree_ops, .gate = true,
      .acyclic = true },
    { .name = "tree_gc", .op = "tree node made and freed (cycle detector on)", .ops_per_iter = 1 << 17,
      .setup = tree_setup, .run = tree, .teardown = tree_teardown, .ops = tree_ops },
};
const bench_family_t bench_tree_family = BENCH_FAMILY(trees);
