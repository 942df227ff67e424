/* bench/peers/ptree.c — the plain-struct binary trees of bench/peers/ptree.h.
 * Threading: none shared; each caller builds its own.
 */
#include "bench/peers/ptree.h"

#include <stdlib.h>

void *ptree_setup(const bench_params_t *p, unsigned threads)
{
    (void)threads;
    ptree_ctx_t *c = bench_must_mem(malloc(sizeof *c));
    c->depth = p->tree_depth;
    return c;
}

uint64_t ptree_ops(const void *ctx, uint64_t n) { return bench_tree_ops(((const ptree_ctx_t *)ctx)->depth, n); }

