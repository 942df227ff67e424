/* bench/bench.h — rcbench's module header: what a workload, a strategy
 * table and a peer are, and the tables the binary holds.
 *
 * A workload is written once (bench/workloads/, one file per family) and
 * compiled once per strategy: each strategy's build exports one
 * bench_<strategy>_workloads table; the peers (bench/peers/) have tables
 * of the same shape. The lists (strategies, peers, workloads) live here
 * and in bench/bench.c only; `rcbench --list=...` prints them. A kernel does `n` operations of its workload on one thread and
 * returns a checksum (so the optimiser must do the work); with threads > 1
 * every thread runs it at once over one context that setup made.
 *
 * Threading: setup and teardown run on one thread, attached by the caller;
 * run is called on each of `threads` threads, each attached by the caller
 * (the harness attaches before and detaches after every call, so a thread
 * between calls never holds the world or the GIL). A kernel passes a
 * safepoint at least every few thousand operations.
 */
#ifndef RC_BENCH_BENCH_H
#define RC_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a run may be told (flags of rcbench). */
typedef enum bench_size { BENCH_SIZE_DEFAULT, BENCH_SIZE_PAPER } bench_size_t;
typedef struct bench_params {
    unsigned tree_depth;                 /* binary trees: depth of each tree */
    bool quick;                          /* smoke run: smaller chunks, the programs' smoke sizes */
    bench_size_t size;                   /* the programs' sizes (--size): default or the papers' */
} bench_params_t;

/* The programs of the reference-counting literature (bench/workloads/,
 * one file each, and every peer's version of them): X(name, quick,
 * default, paper) gives the size each runs at: --quick, by default (a run
 * takes 0.05-0.5 s on one thread), --size=paper (the papers' own). One
 * operation is one whole run of the program (each entry's unit:
 * BENCH_UNIT_RUN). Each run checks its answer against
 * bench_program_answer (bench/bench.c), which every implementation
 * shares: a wrong answer makes the row an error. */
#define BENCH_FOR_EACH_PROGRAM(X) \
    X(binarytrees, 6, 14, 21)            /* the largest tree's depth (the benchmarks game's n) */ \
    X(rbtree, 1000, 200000, 4200000)     /* keys inserted (Koka's rbtree) */ \
    X(rbtree_ck, 1000, 100000, 4200000)  /* keys inserted, every 5th version kept */ \
    X(deriv, 5, 8, 10)                   /* Koka's deriv: nest count */ \
    X(nqueens, 8, 11, 13)                /* board size; every solution a list sharing tails */ \
    X(cfold, 8, 17, 20)                  /* Koka's cfold: expression depth */

/* A workload's unit: what one of its operations is, as the reports name
 * it (the CSV's unit column, the summary, the HTML; ns_per_op is ns per
 * unit). Each workload's entry in bench/workloads/ says its own (the
 * programs: a run; gc_pause_*: a full collection; left out: an op); a
 * peer's workload of the same name is in rcbench's unit
 * (bench_workload_unit). X(ENUM_SUFFIX, name). */
#define BENCH_FOR_EACH_UNIT(X) X(OP, op) X(COLLECTION, collection) X(RUN, run)
typedef enum bench_unit {
#define X(e, name) BENCH_UNIT_##e,
    BENCH_FOR_EACH_UNIT(X)
#undef X
} bench_unit_t;

typedef struct bench_workload {
    const char *name;
    const char *op;                      /* what one operation is */
    unsigned min_threads;                /* 0 or 1: any; 2 for hand-off (pairs) */
    unsigned thread_step;                /* thread counts must be a multiple (hand-off: 2); 0: any */
    unsigned max_threads;                /* 0: any; 1: single-thread only */
    bool pairs;                          /* an operation takes two threads (hand-off): counted once */
    uint64_t ops_per_iter;               /* per thread, per harness iteration */
    void *(*setup)(const bench_params_t *p, unsigned threads);    /* NULL: no context */
    uint64_t (*run)(void *ctx, unsigned thread, uint64_t n);
    void (*teardown)(void *ctx);         /* NULL: nothing to release */
    /* Operations run(ctx, t, n) really does (a tree is built whole); NULL:
     * exactly n. */
    uint64_t (*ops)(const void *ctx, uint64_t n);
    /* Repetitions when the user names none (0: rcbench's default, 3):
     * more for a figure that moves from one process to the next more than
     * from one repetition to the next (a gc_pause's heap, laid out anew in
     * every worker), so its median settles. */
    unsigned repetitions;
    /* The regression gate counts its instructions (tools/rcbench-gate runs
     * `rcbench --icount`, which without --workloads takes these): a
     * single-thread kernel cheap enough for callgrind. */
    bool gate;
    /* After the last iteration, before teardown: NULL when every answer
     * the kernel computed was right, else one line saying which was not
     * (the row becomes an error). NULL: nothing to check. */
    const char *(*verdict)(void *ctx);
    /* Its objects can form no cycle (the trees, the programs): it runs
     * with the cycle detector's collections off, as a program that calls
     * gc.disable() (and as Koka and Lean, which have no cycle collector);
     * every container is still tracked and untracked. A collection during
     * the run makes the row an error. A "_gc" variant leaves it on. */
    bool acyclic;
    /* What one operation is, in one word (BENCH_FOR_EACH_UNIT; left out:
     * an op). A peer's entry for a workload of rcbench's is not read:
     * bench_workload_unit takes rcbench's. */
    bench_unit_t unit;
} bench_workload_t;

/* Repetitions of the gc_pause workloads (rcbench's and cpython-gc's). A
 * pause moves about 10% from one worker to the next (the same heap built
 * anew: its layout in physical memory, the host's backing of it), and no
 * more with 60 collections a repetition than with 6, so only more workers
 * settle the median: 15 repetitions of gc_pause_1m in one run spanned
 * 9.4-12.0 ms (biased), 8.0-10.1 ms (plain). */
#define BENCH_GC_PAUSE_REPETITIONS 9

/* The tree workloads (rcbench's and the peers') build and drop whole
 * binary trees of 2^(depth+1) - 1 nodes, one op a node, so a run of n
 * operations does n rounded up to whole trees. */
static inline uint64_t bench_tree_nodes(unsigned depth) { return (UINT64_C(2) << depth) - 1; }
static inline uint64_t bench_tree_ops(unsigned depth, uint64_t n)
{
    const uint64_t nodes = bench_tree_nodes(depth);
    return (n + nodes - 1) / nodes * nodes;
}

/* A family of workloads: one file of bench/workloads/ or bench/peers/;
 * n is computed from the array (BENCH_FAMILY). */
typedef struct bench_family {
    unsigned n;
    const bench_workload_t *w;
} bench_family_t;
#define BENCH_FAMILY(arr) { .n = (unsigned)(sizeof(arr) / sizeof((arr)[0])), .w = (arr) }
#define BENCH_MAX_FAMILIES 16

struct rc_census;                        /* rc/rc.h */

typedef struct bench_strategy {
    const char *name;
    unsigned header_bytes;               /* object header (gc header not counted) */
    unsigned gc_header_bytes;            /* the cycle detector's, in front of containers */
    /* Around each thread's chunk, setup and teardown; NULL: nothing to do
     * (a peer without threads to register). */
    void (*attach)(void);
    void (*detach)(void);
    /* Between runs, on an attached thread: every deferred count applied,
     * cyclic garbage collected; NULL: nothing to settle. */
    void (*quiesce)(void);
    void (*gc_reset)(void);              /* NULL: nothing to reset */
    /* The collector's automatic collections on or off (acyclic workloads,
     * around setup to teardown); NULL: no collector of ours. */
    void (*gc_switch)(bool on);
    /* Since the last gc_reset: collections, and pause quantiles in ns;
     * NULL: not reported (empty cells). */
    void (*gc_figures)(uint64_t *collections, uint64_t *p50, uint64_t *p99, uint64_t *max);
    /* Deferred's own figures (NULL for the other strategies): reset at the
     * start of a run (no other thread attached); then the epoch now, the
     * most buffer bytes one thread held, the longest reclamation delay in
     * epochs, since the reset. */
    void (*figures_reset)(void);
    void (*figures)(uint64_t *epoch, uint64_t *buffer_peak_bytes, uint64_t *max_delay_epochs);
    /* Containers the cycle detector (ours, or a peer's) tracks at the end
     * of a run, before teardown (cpython-gc: counted once, after building
     * its heap); NULL: not reported. */
    uint64_t (*gc_tracked)(void *ctx);
    /* A peer (bench/peers/): not one of rcbench's strategies but what
     * users run today, measured on the same workloads for comparison. */
    bool peer;
    /* A peer that brings its own allocator names it ("glibc" for
     * shared_ptr's operator new, "bdwgc" for Boehm's heap, "pymalloc" for
     * CPython's) and runs once, whatever allocators are selected; NULL:
     * runs on each selected allocator, as rcbench's strategies do. */
    const char *own_allocator;
    /* A kernel that times itself (cpython-gc: the collections run in
     * another process): the ns its last run measured, which the driver
     * reports instead of its own wall time; NULL: wall time. */
    uint64_t (*self_ns)(void *ctx);
    /* A peer whose work runs in another process (ocaml): that process's
     * peak resident KiB so far, read before teardown, which the row
     * reports instead of rcbench's own; NULL: rcbench's (or none, for a
     * self-timed peer without it). */
    uint64_t (*peak_rss_kib)(void *ctx);
    /* The census flavour (rc/strategy/census.h): counts and records what
     * every operation did, so it is never timed. rcbench --census runs it
     * alone; every timed list (tables(), --strategies, --list=strategies,
     * --icount) leaves it out. census_read: its figures so far (into an
     * rc_census_t, rc/rc.h); NULL for every other table. */
    bool census;
    void (*census_read)(struct rc_census *out);
    /* NULL, or why the peer cannot run on this machine (one line: a
     * program it needs was not built); its rows are then left out of the
     * run, with that line on stderr, rather than failed. NULL: always runs. */
    const char *(*unavailable)(void);
    /* Workloads, by family (NULL-terminated); a peer has a subset of
     * rcbench's (and rcbench's tables all have the same ones, in the same
     * order). Reached through bench_workload_at/bench_workload_find. */
    const bench_family_t *families[BENCH_MAX_FAMILIES];
} bench_strategy_t;

/* The peers (bench/peers/, one file each):
 *   none        no counting at all: the allocator alone (alloc_pairs, and
 *               the lifo, batch and prodcons patterns per size), the
 *               harness alone (empty), and the same binary trees made
 *               with malloc and freed with free on each allocator, the
 *               floor any counting strategy stands on; binarytrees and
 *               cfold, freed by hand;
 *   shared_ptr  C++ std::shared_ptr (make_shared): trees, hand-off and
 *               the programs but the reuse variants and binarytrees_gc;
 *   boehm       the Boehm-Demers-Weiser tracing collector: trees and the
 *               programs but the reuse variants and binarytrees_gc;
 *   cpython-gc  Debian's python3 running gc.collect() on the gc_pause heap;
 *   ocaml       the programs in OCaml native code (ocamlopt; its tracing
 *               collector), run by bench/peers/ocaml/'s rcbench-ocaml.
 */
extern const bench_strategy_t bench_none_peer, bench_shared_ptr_peer, bench_boehm_peer, bench_cpython_gc_peer;
extern const bench_strategy_t bench_ocaml_peer;

/* The allocator alone (bench/workloads/alloc.c, not compiled per
 * strategy): alloc_{lifo,batch,prodcons}_SIZE, a family of the none peer. */
extern const bench_family_t bench_alloc_family;

/* Every strategy built (RC_FOR_EACH_STRATEGY order, the census flavour
 * included: timed lists skip tables marked census), then the peers. */
extern const bench_strategy_t *const bench_strategies[];
extern const unsigned bench_nstrategies;
extern const bench_strategy_t *const bench_peers[];
extern const unsigned bench_npeers;

/* The census flavour's table, or NULL when this build has none. */
const bench_strategy_t *bench_census_table(void);

/* Is WORKLOAD one of the programs or a variant of one (named
 * <program>_<variant>: rbtree_reuse, deriv_shared)? */
bool bench_is_program(const char *workload);
/* The size program PROGRAM (a BENCH_FOR_EACH_PROGRAM name) runs at
 * under p; a name not in the list is a bug (fatal). */
uint64_t bench_program_size(const char *program, const bench_params_t *p);
/* The known answer of PROGRAM (or one of its variants) at size n, into
 * *answer; false when none is known (the table in bench/bench.c). */
bool bench_program_answer(const char *program, uint64_t n, uint64_t *answer);
/* Checking a program's answers, one slot per thread (each thread writes
 * only its own; the harness's hand-over orders them before the verdict).
 * new: the program's known answer at n (none known is a bug: fatal);
 * check: a run on THREAD gave `got`; verdict: NULL when every run was
 * right, else one line naming the first wrong one (a split program: or
 * parts that do not add up). */
typedef struct bench_answers bench_answers_t;
bench_answers_t *bench_answers_new(const char *program, uint64_t n, unsigned threads);
void bench_answers_check(bench_answers_t *a, unsigned thread, uint64_t got);
/* A program split across the threads (each computes a part of one
 * answer): every run of a thread must give the same part, and the parts
 * of all threads must add up to the answer. */
void bench_answers_part(bench_answers_t *a, unsigned thread, uint64_t part);
const char *bench_answers_verdict(bench_answers_t *a);
void bench_answers_free(bench_answers_t *a);

/* For a peer without a collector: zero collections, zero pauses. */
void bench_no_collections(uint64_t *collections, uint64_t *p50, uint64_t *p99, uint64_t *max);

/* Table S's workloads: how many, the i-th (families in order), and the
 * one named NAME (or NULL). */
unsigned bench_workload_count(const bench_strategy_t *s);
const bench_workload_t *bench_workload_at(const bench_strategy_t *s, unsigned i);
const bench_workload_t *bench_workload_find(const bench_strategy_t *s, const char *name);

/* The name of unit u ("op", "collection", "run"). */
const char *bench_unit_name(bench_unit_t u);
/* The unit of the workload named NAME, as its rows report it: rcbench's
 * own entry's (every strategy's table has the same), so a peer's version
 * of a workload is counted in the same unit; a workload only peers have
 * (alloc_*, empty) in its own entry's; "op" for a name no table has. */
const char *bench_workload_unit(const char *name);

/* Whether w runs on `threads` threads (its minimum, step and maximum). */
bool bench_threads_fit(const bench_workload_t *w, unsigned threads);

/* p, or a one-line fatal error when a benchmark's context could not be
 * allocated. */
void *bench_must_mem(void *p);

/* Scratch memory of at least BYTES for the workload thread THREAD (a
 * tree's level array), kept for the life of the process: every run after
 * the first finds it mapped and touched, as a program finds its own arrays.
 * A fresh array per run timed the kernel's page faults instead (glibc maps
 * 8 MiB anew for a depth-20 tree). The contents are undefined; THREAD's
 * block stays valid until its next call. */
void *bench_scratch(unsigned thread, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* RC_BENCH_BENCH_H */
