/* bench/peers/programs_none.c — the none peer's programs: malloc/free by
 * hand on each allocator, no count anywhere: the floor rcbench's strategies
 * stand on for the same program.
 *
 *   binarytrees  the benchmarks game's rules over Koka's binarytrees.kk;
 *   cfold        Koka's cfold.kk (make, reassociate, constant-fold, eval).
 * Only these two: in both every node has one owner from birth to death, so
 * a C programmer frees each node where Koka's code drops it (the same
 * mallocs and frees as a count reaching zero, in the same places: Perceus
 * without reuse). The other programs share nodes between versions (rbtree,
 * rbtree_ck), subexpressions (deriv) or tails (nqueens): freeing them by
 * hand needs counts or a collector, which are the other peers.
 * The algorithms: bench/peers/pprog.h. One op is one whole run; each run's
 * answer is checked (a wrong one makes the row an error).
 * Threading: T independent instances, one per thread, nothing shared.
 */
#include <stdlib.h>

#include "alloc/alloc.h"
#include "base/compiler.h"
#include "bench/bench.h"
#include "rc/rc.h"

static inline void *none_node(size_t bytes)
{
    void *p = alloc_malloc(bytes);
    if (RC_UNLIKELY(p == NULL))
        rc_fatal_os("out of memory (allocator %s): benchmark stopped", alloc_current->name);
    return p;
}

/* cfold's explicit stack is the program's, not a node: the C library's. */
static inline void *none_stack_grow(void *p, size_t bytes) { return bench_must_mem(realloc(p, bytes)); }

#define PPROG_NEW(bytes) none_node(bytes)
#define PPROG_FREES 1
#define PPROG_FREE(p, bytes) alloc_free((p), (bytes))
#define PPROG_STACK_GROW(p, bytes) none_stack_grow((p), (bytes))
#define PPROG_STACK_FREE(p) free(p)
#include "bench/peers/pprog.h"

PPROG_SETUP(binarytrees_setup, "binarytrees")
PPROG_SETUP(cfold_setup, "cfold")

static const bench_workload_t programs[] = {
    { .name = "binarytrees", .op = "run of binarytrees (malloc/free by hand)", .ops_per_iter = 1,
      .setup = binarytrees_setup, .run = pprog_binarytrees_run, .teardown = pprog_teardown, .verdict = pprog_verdict },
    { .name = "cfold", .op = "run of cfold (malloc/free by hand)", .ops_per_iter = 1,
      .setup = cfold_setup, .run = pprog_cfold_run, .teardown = pprog_teardown, .verdict = pprog_verdict },
};
const bench_family_t bench_none_programs_family = BENCH_FAMILY(programs);
