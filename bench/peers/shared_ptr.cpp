// bench/peers/shared_ptr.cpp — the std::shared_ptr peer (bench/bench.h):
// rcbench's `tree` and `handoff` (and the programs: programs_shared_ptr.cpp)
// written as a C++ programmer writes them, with std::make_shared, so
// operator new, i.e. the process's malloc (glibc's). C++ by nature, as
// the Google Benchmark glue (bench/cli.cpp, bench/run/*.cpp) is.
//
//   tree     the binary trees of rcbench's `tree` (bottom-up, level by
//            level), nodes holding shared_ptrs to their children; the
//            root's reset() frees them, each node's count reaching zero
//            releasing its children, as rcbench's decref does.
//   handoff  producer/consumer pairs: thread 2i makes a 2-tuple holding a
//            new int and one of 128 shared small ints (a shared_ptr copy:
//            CPython's small ints are immortal, shared_ptr has no such
//            thing), and hands it through a ring to thread 2i+1, which
//            reads it and drops it.
//
// Atomic counts: libstdc++ (GCC 11+) counts with plain instructions while
// the process has only ever had one thread (__libc_single_threaded), and
// atomically from the first pthread_create on. A real program sharing
// shared_ptrs has threads, and rcbench creates its workers only for runs
// with several threads, so setup starts and joins one thread if none ever
// ran, and then checks the flag: the counts are atomic in every run.
//
// Threading: as every workload (bench/bench.h). The rings are
// single-producer single-consumer; their indices are std::atomic with the
// orders named at each use.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include <sched.h>
#include <sys/single_threaded.h>

extern "C" {
#include "base/arch.h"
#include "bench/bench.h"
}
#include "bench/peers/shared_ptr.h"

namespace rcbench_shared_ptr {

void fatal(const char *what)
{
    std::fprintf(stderr, "rcbench: shared_ptr peer: %s\n", what);
    std::abort();                                      // as rc_fatal: the shim removes its temp report
}

// libstdc++'s dispatch: atomic once __libc_single_threaded is 0.
void make_counts_atomic()
{
    if (__libc_single_threaded)
        std::thread([] {}).join();
    if (__libc_single_threaded)
        fatal("the process still counts as single-threaded: its counts would not be atomic");
}

}  // namespace rcbench_shared_ptr

namespace {

using rcbench_shared_ptr::make_counts_atomic;

// ---- tree ------------------------------------------------------------------

struct Node {
    std::shared_ptr<Node> l, r;
    int64_t v;
};

struct TreeCtx {
    unsigned depth;
};

void *tree_setup(const bench_params_t *p, unsigned threads)
{
    (void)threads;
    make_counts_atomic();
    return new TreeCtx{p->tree_depth};
}

void tree_teardown(void *ctx) { delete static_cast<TreeCtx *>(ctx); }

uint64_t tree_ops(const void *ctx, uint64_t n) { return bench_tree_ops(static_cast<const TreeCtx *>(ctx)->depth, n); }

uint64_t tree(void *ctx, unsigned thread, uint64_t n)
{
    using Ptr = std::shared_ptr<Node>;
    const unsigned depth = static_cast<TreeCtx *>(ctx)->depth;
    const uint64_t nodes = bench_tree_nodes(depth);
    // The level array in bench_scratch's memory, as the object model's trees.
    Ptr *level = static_cast<Ptr *>(bench_scratch(thread, sizeof(Ptr) << depth));
    std::uninitialized_value_construct_n(level, UINT64_C(1) << depth);
    uint64_t sum = 0;
    for (uint64_t done = 0; done < n; done += nodes) {
        uint64_t width = UINT64_C(1) << depth;
        for (uint64_t i = 0; i < width; i++) {
            level[i] = std::make_shared<Node>();
            level[i]->v = (int64_t)i;
        }
        while (width > 1) {
            for (uint64_t i = 0; i < width / 2; i++) {
                auto p = std::make_shared<Node>();
                p->l = std::move(level[2 * i]);       // moves: no count changes, as rc_node_set steals
                p->r = std::move(level[2 * i + 1]);
                p->v = (int64_t)i;
                level[i] = std::move(p);
            }
            width /= 2;
        }
        sum += (uint64_t)level[0]->v + 1;
        level[0].reset();                              // the whole tree, node by node
    }
    std::destroy_n(level, UINT64_C(1) << depth);
    return sum;
}

// ---- handoff -----------------------------------------------------------------

struct Int {
    int64_t v;
};

struct Tuple {
    std::shared_ptr<Int> a, b;
};

constexpr unsigned kRing = 1024;

struct alignas(RC_CACHE_LINE) Ring {
    alignas(RC_CACHE_LINE) std::atomic<uint64_t> tail{0};
    alignas(RC_CACHE_LINE) std::atomic<uint64_t> head{0};
    alignas(RC_CACHE_LINE) std::shared_ptr<Tuple> slot[kRing];
};

struct HandoffCtx {
    std::vector<std::unique_ptr<Ring>> rings;
    std::shared_ptr<Int> small[128];
};

void *handoff_setup(const bench_params_t *p, unsigned threads)
{
    (void)p;
    make_counts_atomic();
    auto *c = new HandoffCtx;
    for (unsigned i = 0; i < threads / 2; i++)
        c->rings.emplace_back(new Ring);
    for (int64_t i = 0; i < 128; i++)
        c->small[i] = std::make_shared<Int>(Int{i});
    return c;
}

void handoff_teardown(void *ctx) { delete static_cast<HandoffCtx *>(ctx); }

// Spins a little, then yields: the other side of the pair may share a core.
template <typename Cond> void wait_while(Cond cond)
{
    for (unsigned spins = 0; cond(); spins++)
        if (spins >= 64)
            sched_yield();
}

uint64_t handoff(void *ctx, unsigned thread, uint64_t n)
{
    auto *c = static_cast<HandoffCtx *>(ctx);
    Ring &r = *c->rings[thread / 2];
    uint64_t sum = 0;
    if ((thread & 1) == 0) {                           // producer
        uint64_t tail = r.tail.load(std::memory_order_relaxed);
        for (uint64_t i = 0; i < n; i++) {
            auto t = std::make_shared<Tuple>();
            t->a = std::make_shared<Int>(Int{1000 + (int64_t)(i & 1023)});
            t->b = c->small[i & 127];                  // a copy: one atomic increment
            // acquire: pairs with the consumer's release store of head (the slot is free).
            wait_while([&] { return tail - r.head.load(std::memory_order_acquire) == kRing; });
            r.slot[tail & (kRing - 1)] = std::move(t);
            // release: publishes the slot; pairs with the consumer's acquire load of tail.
            r.tail.store(++tail, std::memory_order_release);
        }
    } else {                                           // consumer
        uint64_t head = r.head.load(std::memory_order_relaxed);
        for (uint64_t i = 0; i < n; i++) {
            // acquire: pairs with the producer's release store of tail.
            wait_while([&] { return r.tail.load(std::memory_order_acquire) == head; });
            std::shared_ptr<Tuple> t = std::move(r.slot[head & (kRing - 1)]);
            // release: the slot is empty again; pairs with the producer's acquire load of head.
            r.head.store(++head, std::memory_order_release);
            sum += (uint64_t)t->a->v;
        }                                              // t dropped: the tuple, its int, a small int's count
    }
    return sum;
}

constexpr bench_workload_t shared_ptr_w[] = {
    {"tree", "tree node made (make_shared) and freed", 1, 1, 0, false, 1 << 17, tree_setup, tree, tree_teardown,
     tree_ops, 0, false, nullptr, false, BENCH_UNIT_OP},
    {"handoff", "2-tuple made on one thread, freed on another", 2, 2, 0, true, 1 << 16, handoff_setup, handoff,
     handoff_teardown, nullptr, 0, false, nullptr, false, BENCH_UNIT_OP},
};
constexpr bench_family_t shared_ptr_family = {sizeof shared_ptr_w / sizeof shared_ptr_w[0], shared_ptr_w};

// The table. header_bytes: the control block make_shared puts in front of
// each object, a vtable pointer and the two 32-bit counts (libstdc++).
constexpr bench_strategy_t make_peer()
{
    bench_strategy_t s{};
    s.name = "shared_ptr";
    s.header_bytes = 16;
    s.gc_figures = bench_no_collections;
    s.peer = true;
    s.own_allocator = "glibc";
    s.families[0] = &shared_ptr_family;
    s.families[1] = &rcbench_shared_ptr::programs_family;
    return s;
}

}  // namespace

extern "C" {
extern const bench_strategy_t bench_shared_ptr_peer;
constexpr bench_strategy_t bench_shared_ptr_peer = make_peer();   // constant: no start-up order
}
