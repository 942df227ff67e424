/* bench/peers/ptree.h — binary trees of plain structs (no count, no
 * header), shared by the none and boehm peers: rcbench's `tree`
 * (bench/workloads/trees.c) as a C programmer writes it, built bottom-up,
 * level by level, the same nodes and links; one op is one node made and
 * reclaimed.
 * Threading: every thread builds its own trees.
 */
#ifndef RC_BENCH_PEERS_PTREE_H
#define RC_BENCH_PEERS_PTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/bench.h"

/* The node: two children and the payload rcbench's nodes carry. */
typedef struct pnode {
    struct pnode *l, *r;
    int64_t v;
} pnode_t;

typedef struct ptree_ctx {
    unsigned depth;
} ptree_ctx_t;

/* A workload's context: the depth (bench_params_t's tree_depth). */
void *ptree_setup(const bench_params_t *p, unsigned threads);
uint64_t ptree_ops(const void *ctx, uint64_t n);
/* One tree from NEW (a node allocator), using LEVEL (2^depth slots).
 * CLEAR: empty each slot once its node has a parent (for a tracing
 * collector, which would otherwise see a dropped tree through the slots
 * the next build has not overwritten yet). Inline: NEW is inlined into
 * each peer's loop (as one file the peers had 85 instructions a node, with
 * an out-of-line build 90). */
static inline pnode_t *ptree_build(unsigned depth, pnode_t **level, pnode_t *(*new_node)(void), bool clear)
{
    uint64_t width = UINT64_C(1) << depth;
    for (uint64_t i = 0; i < width; i++) {
        pnode_t *n = new_node();
        n->l = n->r = NULL;
        n->v = (int64_t)i;
        level[i] = n;
    }
    while (width > 1) {
        for (uint64_t i = 0; i < width / 2; i++) {
            pnode_t *p = new_node();
            p->l = level[2 * i];
            p->r = level[2 * i + 1];
            p->v = (int64_t)i;
            if (clear)
                level[2 * i] = level[2 * i + 1] = NULL;
            level[i] = p;
        }
        width /= 2;
    }
    return level[0];
}

#endif /* RC_BENCH_PEERS_PTREE_H */
