/* base/config.h — every build-time knob of rcbench, with its default.
 *
 * Knobs that change data layout are macros tested with #if; knobs that only
 * guard statements are `static const bool` tested in a plain `if`, so every
 * build type-checks the guarded code and the optimiser deletes it when off.
 * Override a macro knob with -D in the C flags at configure time, e.g.
 * `cmake --preset release -DCMAKE_C_FLAGS=-DRC_DEFERRED_SLOTS=512` (cached in
 * that build directory until `-DCMAKE_C_FLAGS=` clears it).
 * Threading: none (constants).
 */
#ifndef RC_BASE_CONFIG_H
#define RC_BASE_CONFIG_H

#include <stdbool.h>

/* RC_DEBUG: 1 in debug/asan builds (set by CMake). Underflow and
 * use-after-free checks on decref, a quarantine of freed objects. */
#ifndef RC_DEBUG
#define RC_DEBUG 0
#endif
static const bool rc_cfg_debug = RC_DEBUG;

/* Small-int cache range, inclusive; CPython's is -5..256. Layout knob: the
 * cache is a static array of RC_SMALL_INT_MAX - RC_SMALL_INT_MIN + 1 ints. */
#ifndef RC_SMALL_INT_MIN
#define RC_SMALL_INT_MIN (-5)
#endif
#ifndef RC_SMALL_INT_MAX
#define RC_SMALL_INT_MAX 256
#endif
_Static_assert(RC_SMALL_INT_MIN <= 0 && RC_SMALL_INT_MAX >= 0,
               "the small-int cache must contain 0");

/* Freed objects each thread keeps poisoned before the memory really goes
 * back to the allocator (debug builds only). A decref within this window of
 * the free is reported as use-after-free; beyond it, AddressSanitizer's own
 * quarantine takes over in asan builds. 4096 entries x <= 1 KiB. */
#ifndef RC_DEBUG_QUARANTINE
#define RC_DEBUG_QUARANTINE 4096
#endif

/* Default of rc_set_stall_warn_ns: how long a thread waits for plain's
 * GIL, or a stopper for the world to stop, with no progress before one
 * warning line names the likely cause (an attached thread blocked without
 * rc_thread_detach). Far above any pause a run should see: 10 s. */
#ifndef RC_STALL_WARN_NS
#define RC_STALL_WARN_NS UINT64_C(10000000000)
#endif

/* Most child slots a node may have (nodes are sized at creation). */
#ifndef RC_NODE_MAX_SLOTS
#define RC_NODE_MAX_SLOTS 8
#endif

/* ---- The arena (alloc/arena.c) ------------------------------------------
 * Layout: segments of 2^RC_ARENA_SEGMENT_SHIFT bytes (4 MiB), aligned to
 * their size, cut into pages of 2^RC_ARENA_PAGE_SHIFT bytes (128 KiB); a
 * block's page is found by masking its address. Pages were 64 KiB until
 * a batch of 1000 256-byte blocks, spanning four of them, paid for page
 * transitions in every batch; 256 KiB pages doubled tree/none's time
 * (docs/alloc.md). A page is carved lazily (RC_ARENA_EXTEND_BYTES at a
 * time), so a barely used one costs little memory. */
#ifndef RC_ARENA_SEGMENT_SHIFT
#define RC_ARENA_SEGMENT_SHIFT 22
#endif
#ifndef RC_ARENA_PAGE_SHIFT
#define RC_ARENA_PAGE_SHIFT 17
#endif
/* Bytes of blocks carved into a page at a time (at least 16 blocks): a
 * barely used page stays mostly non-resident. Not tuned. */
#ifndef RC_ARENA_EXTEND_BYTES
#define RC_ARENA_EXTEND_BYTES 4096u
#endif
/* Segments ask the kernel for transparent huge pages (madvise
 * MADV_HUGEPAGE; honoured where THP is "always" or "madvise", as on
 * Debian 12). A walk over a heap that does not fit the TLB's reach with
 * 4 KiB pages misses it on nearly every object; the cycle detector walks
 * the whole heap. Measured with rcbench-gc (since merged into rcbench's
 * gc_pause_* workloads) --reps 5, three runs each way
 * alternating (ns per object of a full collection, plain): 100k objects
 * 11.0-14.0 -> 7.8-11.4, 1M objects 16.7-19.9 -> 11.1-12.4. The cost: a segment's
 * first touch maps 2 MiB at once, so resident memory grows by up to
 * 2 MiB per partly used segment. RCBENCH_HUGEPAGES=0 in the environment
 * turns it off at run time (=1 on). */
#ifndef RC_ARENA_HUGEPAGES
#define RC_ARENA_HUGEPAGES 1
#endif
/* Full pages a class looks at for remote frees each time it needs a page:
 * bounds the slow path's work. Not tuned. */
#ifndef RC_ARENA_FULL_SCAN
#define RC_ARENA_FULL_SCAN 8
#endif
/* Empty pages a class keeps rather than returning them to their segment (a
 * hedge against retiring and re-taking a page on every batch). Not tuned:
 * rcbench-alloc (now rcbench's alloc_batch_* workloads) --patterns batch
 * --sizes 64,256 --backends arena, built
 * with -DRC_ARENA_KEEP_EMPTY=0 and run alternately with the default three
 * times, showed no difference beyond the noise (4.2-6.8 ns either way). */
#ifndef RC_ARENA_KEEP_EMPTY
#define RC_ARENA_KEEP_EMPTY 4
#endif
/* Empty segments a heap keeps mapped for its next segment, and how long
 * the cache may go untouched before it all goes back to the OS (mimalloc
 * keeps freed memory 10 ms by default, its purge_delay). Unmapping a
 * segment the moment it empties made every depth-20 tree fault its 100 MiB
 * in again, and made the figure depend on what the kernel had at hand
 * (rcbench --workloads=tree --tree-depth=20 --strategies=biased
 * --allocators=arena: about 93 page faults a tree). Debug builds keep none. */
#ifndef RC_ARENA_SEGMENT_CACHE
#define RC_ARENA_SEGMENT_CACHE 64
#endif
#ifndef RC_ARENA_PURGE_MS
#define RC_ARENA_PURGE_MS 1000
#endif
/* Freed large blocks (above 1 KiB, each its own mapping) a heap keeps mapped
 * for the next large malloc of the same rounded size, and the largest size
 * kept, in KiB. Growing a list to 1000 items reallocates its item array 5
 * times above 1 KiB: without the cache rcbench-lite's list_churn measured
 * 52 ns per append on the arena against 32 ns on glibc; with it, 12 ns.
 * Debug builds keep none (a write after free must fault). */
#ifndef RC_ARENA_LARGE_CACHE
#define RC_ARENA_LARGE_CACHE 8
#endif
#ifndef RC_ARENA_LARGE_CACHE_KIB
#define RC_ARENA_LARGE_CACHE_KIB 256
#endif

/* Bytes the cycle detector keeps in front of every container (tuple, list,
 * node): two list links whose spare bits hold the flags, generation and
 * owner, and the scratch count during a collection (rc/rc.h, docs/gc.md).
 * Not a knob: rc/rc.h checks it matches its header. */
#define RC_GC_HEAD_BYTES 16

/* ---- Deferred counting (rc/strategy/deferred.h) -------------------------
 * Slots in each thread's coalescing table (a power of two; 16 bytes each,
 * in thread-local storage), entries in its log (16 bytes each, a full log
 * forces a flush) and entries per sealed batch of decrements. Not tuned
 * yet: the table is sized so the read-mostly benchmark's working set (64
 * objects) maps without collisions, the log so a forced flush is rare. */
#ifndef RC_DEFERRED_SLOTS
#define RC_DEFERRED_SLOTS 256
#endif
#ifndef RC_DEFERRED_LOG
#define RC_DEFERRED_LOG 4096
#endif
#ifndef RC_DEFERRED_BATCH
#define RC_DEFERRED_BATCH 1022
#endif

#endif /* RC_BASE_CONFIG_H */
