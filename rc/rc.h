/* rc/rc.h — the object model and reference counting, rcbench's public rc API.
 *
 * The core part (always present) is strategy-independent: the thread
 * registry and object statistics, the GIL plain uses for shared work,
 * fault reporting, the descriptor each strategy exports. The flavour part,
 * present when the translation unit is compiled for one strategy (CMake
 * sets RC_FLAVOUR_H to its map header), declares the object model under
 * generic names (rc_incref, rc_int_new, ...) that the map header renames
 * (rc_plain_incref, ...): one binary holds every strategy, and each
 * incref/decref is inlined where it is called. References follow CPython's
 * C API: constructors return a new one, the *_set functions steal,
 * rc_list_append increfs, getters borrow.
 *
 * rc_refcount reads the count as applied so far: exact under every
 * strategy after rc_safepoint() on the only attached thread, or while the
 * world is stopped (biased and deferred apply some changes late).
 * rc_is_unique answers Perceus's reuse test (is the caller's reference the
 * only one?) as far as the strategy can know at once: deferred never can.
 *
 * Threading: see each strategy header. Core functions are thread-safe.
 * Design: docs/rc.md.
 */
#ifndef RC_RC_H
#define RC_RC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arch.h"
#include "base/atomic.h"
#include "base/compiler.h"
#include "base/config.h"
#include "base/list.h"

/* ------------------------------------------------------------------------
 * The count word (plain and atomic; the layout every strategy reports in)
 *
 *   bit 63 .......................................... bit 0
 *   [ sign: immortal ][ 63-bit count of references ]
 *
 * - A mortal object has bit 63 clear and count >= 1 while reachable.
 * - Immortal: bit 63 set. The fast paths test only that bit (on x86-64 via
 *   the high 32-bit half, so the increment stays one add on memory) and
 *   never write an immortal word: no cache-line traffic on shared immortals.
 * - Saturation: 2^63 - 1 increments carry into bit 63, so an overflowing
 *   count becomes immortal instead of wrapping. No extra test is needed.
 * - A decref of count 0 (underflow) is a fault in debug builds; in release
 *   the word then reads as immortal: the object leaks, never double-frees.
 * - RC_REFCNT_FREED poisons freed objects in debug builds; it is negative,
 *   so the fast paths treat it as immortal and only the rare path looks.
 * ---------------------------------------------------------------------- */
#define RC_REFCNT_IMMORTAL_BIT   (UINT64_C(1) << 63)
#define RC_REFCNT_IMMORTAL_INIT  UINT64_C(0xC000000000000000)
#define RC_REFCNT_FREED          UINT64_C(0xDEADBEEFDEADBEEF)
/* What rc_refcount reports for an immortal object: INT64_MAX. A mortal
 * count can only equal it one increment before saturating. */
#define RC_REFCNT_IMMORTAL       INT64_MAX
_Static_assert((RC_REFCNT_IMMORTAL_INIT & RC_REFCNT_IMMORTAL_BIT) != 0, "immortal init must be immortal");
_Static_assert((RC_REFCNT_FREED & RC_REFCNT_IMMORTAL_BIT) != 0, "the freed poison must read as immortal");
_Static_assert(((uint64_t)INT64_MAX + 1) == RC_REFCNT_IMMORTAL_BIT, "saturation: the last increment sets the immortal bit");

/* ------------------------------------------------------------------------
 * Core: threads, statistics, faults, the GIL
 * ---------------------------------------------------------------------- */

/* Per-thread record. Created on a thread's first object operation or
 * attach, unlinked when the thread exits (its counters folded into the
 * process totals first). Counters have a single writer, the owning thread:
 * relaxed load + relaxed store, read by rc_stats_get with relaxed loads. */
typedef struct rc_thread {
    rc_dlink_t link;                      /* on the registry, under its lock */
    uint64_t id;                          /* unique for the process, never reused */
    RC_ATOMIC(uint64_t) objs_allocated;   /* owner-written */
    RC_ATOMIC(uint64_t) objs_freed;       /* owner-written */
    int world;                            /* RC_WORLD_*: under the world lock (rc/world.c) */
} rc_thread_t;

extern _Thread_local rc_thread_t *_rc_thread_tls;
rc_thread_t *_rc_thread_create_slow(void);

/* The calling thread's record, created on first use. */
static inline rc_thread_t *rc_thread_self(void)
{
    rc_thread_t *t = _rc_thread_tls;
    return RC_LIKELY(t != NULL) ? t : _rc_thread_create_slow();
}

static inline void _rc_counter_bump_owner(RC_ATOMIC(uint64_t) *c)
{
    at_store_relaxed(c, at_load_relaxed(c) + 1);
}

typedef struct rc_stats {
    uint64_t allocated;   /* mortal objects ever allocated */
    uint64_t freed;       /* mortal objects ever freed */
    uint64_t live;        /* allocated - freed: 0 is the immortal baseline */
    uint64_t threads;     /* threads with a live record */
} rc_stats_t;

/* Registers work a strategy must do when one of its threads exits (drain
 * a merge queue, flush a log): the core's exit handler runs every hook
 * first, while the thread's record and its allocator heap still serve the
 * frees that work causes, so the strategy does not depend on the order in
 * which pthread-key destructors run. A hook must be idempotent (the
 * strategy may keep its own key as a fallback) and is registered once per
 * process; at most RC_THREAD_EXIT_HOOKS of them. */
#define RC_THREAD_EXIT_HOOKS 16
void rc_core_on_thread_exit(void (*hook)(void));
/* Registers work to do on the calling thread each time it detaches (leaves
 * the world, or releases the GIL by rc_thread_detach): a strategy or the
 * collector drops per-thread state that is only valid while attached, so
 * its fast paths need not test attachment. The hook touches only the
 * calling thread's own state; at most RC_THREAD_EXIT_HOOKS of them. */
void rc_core_on_detach(void (*hook)(void));
void _rc_core_run_detach_hooks(void);   /* rc/world.c and rc/gil.c, on a detach */

/* Stop-the-world (rc/world.c), for the cycle detector and anything else
 * that needs every thread's counts applied and no thread mutating.
 *
 * Each thread is detached (the default: it counts for nothing), running
 * (attached through its strategy's rc_thread_attach) or parked (attached,
 * waiting at a safepoint for the world to resume). A running thread calls
 * the strategy's rc_world_stop: it returns once every other attached
 * thread is parked or detached, after the strategy made every count exact
 * (rc/strategy/<s>.h); rc_world_resume lets them go. Safepoints poll the
 * request with one relaxed load (rc_world_poll); a thread parks after its
 * strategy's own safepoint work (biased merges its queue, deferred
 * flushes), so what it counted is applied when it parks. A detached
 * thread (blocked in I/O, waiting on a lock) never holds the world up; a
 * thread that attaches while the world is stopped waits until it resumes.
 * Two threads stopping at once: the second parks until the first
 * resumes, then stops in turn.
 * Threading: all transitions under one mutex (they are slow paths); the
 * request flag is read relaxed on the fast path (a late sight costs one
 * more safepoint interval; the hand-over itself goes through the mutex). */
#define RC_WORLD_DETACHED 0
#define RC_WORLD_RUNNING  1
#define RC_WORLD_PARKED   2
extern RC_ATOMIC(bool) _rc_world_stop_requested;
void _rc_world_park_slow(void);
static inline void rc_world_poll(void)
{
    /* relaxed: a hint; parking synchronises through the world lock. */
    if (RC_UNLIKELY(at_load_relaxed(&_rc_world_stop_requested)))
        _rc_world_park_slow();
}
void _rc_world_attach(void);     /* strategies' rc_thread_attach; idempotent */
void _rc_world_detach(void);     /* strategies' rc_thread_detach; idempotent */
void _rc_world_stop_slow(void);  /* the caller must be attached */
void _rc_world_resume_slow(void);
bool rc_world_is_stopped(void);  /* by the calling thread (for plain: the GIL is pinned) */
extern _Thread_local bool _rc_world_stopper;   /* this thread has the world stopped */
/* Is the calling thread attached to the world (not parked: it is running)? */
static inline bool _rc_world_attached(void)
{
    rc_thread_t *t = _rc_thread_tls;
    return t != NULL && t->world == RC_WORLD_RUNNING;    /* written only by the thread itself */
}

typedef struct rc_world_stats {
    uint64_t stops;              /* completed stops */
    uint64_t wait_ns_total;      /* time stoppers waited for threads to park */
    uint64_t wait_ns_max;
    uint64_t running;            /* attached threads not parked, now */
} rc_world_stats_t;
rc_world_stats_t rc_world_stats(void);

/* Process-wide object statistics, exact when every thread is quiescent. */
rc_stats_t rc_stats_get(void);

/* Prints "rcbench: fatal: <message>" on one line to stderr and aborts: a
 * bug (a broken invariant, a misused API). */
RC_NORETURN RC_COLD RC_PRINTF(1, 2) void rc_fatal(const char *fmt, ...);
/* Prints "rcbench: warning: <message>" on one line to stderr. */
RC_COLD RC_PRINTF(1, 2) void rc_warn(const char *fmt, ...);

/* Threads: the same contract under every strategy (each strategy header
 * says what attaching costs there: plain takes the GIL, the others join
 * the world, deferred also gets an epoch record).
 * - rc_thread_attach attaches the calling thread; on an attached thread
 *   it does nothing. rc_thread_detach detaches it; on a detached thread
 *   it does nothing. They do not nest: one detach undoes any number of
 *   attaches. Detaching while this thread has the world stopped is fatal.
 * - An attached thread passes rc_safepoint regularly and detaches before
 *   it blocks: pthread_join, a lock or condition variable another thread
 *   may hold for long, I/O. An attached thread that joins (or waits for)
 *   a thread that attaches deadlocks under plain, whose attach waits for
 *   the GIL; under the other strategies it deadlocks as soon as that
 *   thread stops the world (a collection may, at any allocation), and
 *   under deferred every thread's frees wait for it meanwhile.
 * - Detection: a thread that has waited rc_stall_warn_ns for the GIL
 *   while its holder passed no safepoint, or a stopper that has waited as
 *   long for attached threads to park, prints one rc_warn line naming
 *   the rule, once per wait, and keeps waiting. 0 turns it off; the
 *   default is RC_STALL_WARN_NS (base/config.h). */
void rc_set_stall_warn_ns(uint64_t ns);
uint64_t rc_stall_warn_ns(void);

/* Prints "rcbench: <message>" on one line to stderr and exits with status
 * 3 (quick_exit: at_quick_exit handlers run, static destructors do not):
 * the OS refused memory, a file descriptor, a thread, a process. */
RC_NORETURN RC_COLD RC_PRINTF(1, 2) void rc_fatal_os(const char *fmt, ...);

/* The global interpreter lock: what the plain strategy runs under when
 * threads share objects. A thread that has waited one switch interval sets
 * a drop request; the holder sees it at its next safepoint and hands over
 * (forced switching, as in CPython's GIL). Acquiring twice, or releasing
 * without holding, is fatal. */
void rc_gil_acquire(void);
void rc_gil_release(void);
void _rc_gil_yield_slow(void);
void _rc_gil_thread_exit(rc_thread_t *self);
uint64_t rc_gil_switches(void);                  /* acquisitions since start */
bool rc_gil_held(void);                          /* by the calling thread */
/* Plain's stop-the-world: the holder pins the GIL (no hand-over at
 * safepoints, releasing it is fatal) until it unpins. */
void rc_gil_pin(void);
void rc_gil_unpin(void);
bool rc_gil_pinned(void);
void rc_gil_set_switch_interval_ns(uint64_t ns); /* default 5 ms, as CPython */
extern RC_ATOMIC(bool) _rc_gil_drop_request;
static inline void rc_gil_safepoint(void)
{
    /* relaxed: a hint only; the hand-over itself synchronises through the
     * GIL's mutex. A late sight costs one more safepoint interval. */
    if (RC_UNLIKELY(at_load_relaxed(&_rc_gil_drop_request)))
        _rc_gil_yield_slow();
}

/* The census flavour's figures (rc/strategy/census.h; docs/census.md),
 * summed over every thread, live and exited. Every field is a uint64_t
 * (census.c sums them as an array). Ops are incref/decref calls; an
 * immortal object's are only counted, a mortal object's split by the
 * thread that made it (owner) or another; an object is folded into the
 * object figures when it dies. */
#define RC_CENSUS_BITS        64     /* max_bits[k - 1]: objects whose largest count needed k bits */
#define RC_CENSUS_OPS_BUCKETS 65     /* ops_log2[0]: 0 ops; [k]: 2^(k-1) .. 2^k - 1 ops */
#define RC_CENSUS_SMALL_INTS  (RC_SMALL_INT_MAX - RC_SMALL_INT_MIN + 1)
typedef struct rc_census {
    uint64_t immortal_ops;           /* incref/decref of an immortal object */
    uint64_t owner_ops;              /* of a mortal object, by the thread that made it */
    uint64_t other_ops;              /* ... by another thread */
    uint64_t objects;                /* mortal objects that died */
    uint64_t private_objects;        /* ... never counted by a thread other than their maker */
    uint64_t object_ops;             /* the dead objects' own ops (owner_ops + other_ops once all died) */
    uint64_t private_ops;            /* ... those of the private ones */
    uint64_t max_bits[RC_CENSUS_BITS];
    uint64_t ops_log2[RC_CENSUS_OPS_BUCKETS];
    /* Per small int (index value - RC_SMALL_INT_MIN): new references it
     * received, its increfs plus rc_int_new handing out the cached object. */
    uint64_t small_int_refs[RC_CENSUS_SMALL_INTS];
} rc_census_t;
/* Defined only in the census flavour (rc_census): the figures so far,
 * exact when every thread is quiescent; and now - before, field by field
 * (the figures of what ran in between). */
void rc_census_read(rc_census_t *out);
void rc_census_since(rc_census_t *now, const rc_census_t *before);

/* What each strategy exports, for harnesses that pick strategies by name. */
typedef struct rc_strategy {
    const char *name;
    bool uses_gil;           /* threads sharing objects serialise on the GIL */
    size_t header_bytes;     /* sizeof the object header: count fields + type pointer */
    size_t count_bytes;      /* the count fields alone */
} rc_strategy_t;

/* ------------------------------------------------------------------------
 * Flavour: the object model for one strategy
 * ---------------------------------------------------------------------- */
#ifdef RC_FLAVOUR_H
#define RC_RC_H_INSIDE 1
#include RC_FLAVOUR_H   /* the map: generic name -> strategy symbol, and the strategy header */
#undef RC_RC_H_INSIDE

typedef void (*rc_visit_fn)(rc_obj_t *child, void *arg);

/* A type names its size, how to traverse its children, how to clear them
 * and how to free it. An instance's block is basic_size + item_size *
 * items_of(o) bytes and is freed by the object model with that size;
 * free_extra releases any other buffer the object owns (a list's items). */
struct rc_type {
    const char *name;
    bool gc;                          /* a container: RC_GC_HEAD_BYTES in front, tracked by the cycle detector */
    size_t basic_size;
    size_t item_size;
    size_t (*items_of)(const rc_obj_t *o);                        /* NULL: fixed size */
    void (*traverse)(rc_obj_t *o, rc_visit_fn visit, void *arg);  /* NULL: no children */
    void (*clear)(rc_obj_t *o);       /* drops every child reference; NULL: none */
    void (*free_extra)(rc_obj_t *o);  /* frees owned buffers; children already dropped; NULL: none */
    /* Called once by the cycle detector on an object it found unreachable,
     * before clearing it (Python's __del__, PEP 442): it may take new
     * references to the object or others (resurrection). NULL: none. */
    void (*finalize)(rc_obj_t *o);
};

/* The cycle detector's header in front of every container, 16 bytes as
 * CPython's PyGC_Head. The object model links a container into its
 * thread's youngest generation when it is made and unlinks it when it
 * dies, inline (rc/object.c: a list link and a count, as CPython's
 * _PyObject_GC_TRACK); gc/gc.c owns the policy. Headers are 16-byte
 * aligned and below 2^48 (checked: _rc_gc_check_head), which frees four
 * low bits and sixteen high bits in each link (docs/gc.md):
 *
 *   next: the next header | the list's generation (bits 0-1). Every next
 *         word of a list (its head's too) carries the same generation, so
 *         an unlink copies the word as it is.
 *   prev: owner record id << 48 | the previous header | flags (bits 0-3:
 *         RC_GC_TRACKED, finalized, collecting, unreachable). A list
 *         head's prev is a bare pointer. Untracked: 0. While a collection
 *         runs, gc/gc.c keeps its scratch count here instead of the
 *         pointer (CPython's trick: the set is walked through next). */
typedef struct rc_gc_head_s {
    _Alignas(16) uintptr_t next;
    uintptr_t prev;
} rc_gc_head_t;
_Static_assert(sizeof(rc_gc_head_t) == RC_GC_HEAD_BYTES, "RC_GC_HEAD_BYTES must match rc_gc_head_t");
/* prev is read by a thread that kills another thread's container (its
 * owner and flags, which do not change while others can see it) while the
 * owner may relink that container's neighbours, rewriting its pointer
 * bits. Those accesses (the inline track and untrack, the owners' list
 * operations in gc/gc.c) are relaxed atomics through these two: plain
 * moves on x86-64 and aarch64. The exception to RC_ATOMIC (base/atomic.h):
 * a collector, with the world stopped, reads and writes prev plainly on
 * its hot paths (an _Atomic field would make each of those a separate
 * load and store the compiler cannot merge: measured +20 instructions per
 * node in tree_gc). */
static inline uintptr_t rc_gc_prev(const rc_gc_head_t *h) { return __atomic_load_n(&h->prev, __ATOMIC_RELAXED); }
static inline void rc_gc_set_prev(rc_gc_head_t *h, uintptr_t v) { __atomic_store_n(&h->prev, v, __ATOMIC_RELAXED); }
#define RC_GC_TRACKED    UINT64_C(1)                      /* prev bit 0 */
#define RC_GC_FLAG_BITS  UINT64_C(0xF)                    /* prev bits 0-3 */
#define RC_GC_GEN_MASK   UINT64_C(0x3)                    /* next bits 0-1 */
#define RC_GC_OWNER_SHIFT 48
#define RC_GC_PTR_MASK   UINT64_C(0x0000FFFFFFFFFFF0)     /* a link's pointer bits */
#define RC_GC_META_MASK  (~RC_GC_PTR_MASK)               /* prev: owner and flags */
static inline rc_gc_head_t *rc_gc_ptr(uintptr_t link) { return (rc_gc_head_t *)(link & RC_GC_PTR_MASK); }
/* Fatal (one line) unless h is 16-byte aligned and below 2^48: the
 * collector's slow paths check every header they see, debug builds every
 * one the fast paths link. */
void _rc_gc_check_head(const void *h);

/* The calling thread's tracking state, which the collector arms in its
 * slow paths while the thread is attached and disarms when it detaches
 * (rc_core_on_detach). Armed: a container made goes onto `young` (a
 * generation-0 list head) with prev's metadata `tag` (owner << 48 |
 * RC_GC_TRACKED) while `local < high`; one that dies with metadata `tag`
 * (prev & RC_GC_META_MASK: no other flag set) is unlinked while `local >
 * low`; `local` counts net container births not yet folded into the
 * collector's count. Anything else (unarmed, the bounds reached, a
 * container of another thread, a flag set by a collection) goes to the
 * collector's hooks. Unarmed: tag RC_GC_TAG_UNARMED, a pointer bit, which
 * no masked prev equals.
 * While the total count is zero, deaths count nothing (CPython's count
 * stops at zero): the collector sets `floor` to `local` and lets deaths
 * run below it, so the count is max(local, floor); INT64_MIN otherwise. */
typedef struct rc_gc_local {
    rc_gc_head_t *young;
    uint64_t tag;
    int64_t local, high, low, floor;
} rc_gc_local_t;
#define RC_GC_TAG_UNARMED UINT64_C(0x10)
_Static_assert((RC_GC_TAG_UNARMED & RC_GC_META_MASK) == 0, "the unarmed tag must be a value no masked prev has");
extern _Thread_local rc_gc_local_t _rc_gc_local;

/* The collector's slow paths (gc/gc.c sets them before main; with no
 * collector linked, containers carry their header untracked). track: a
 * container made past the fast path's bound or unarmed, before the
 * constructor returns (local not yet counted); it may run a collection
 * first. untrack: a dead container the fast path did not take, before its
 * block is freed; returning true, it keeps the block and gives it back
 * later with _rc_gc_free_block (a container tracked on another thread's
 * list is unlinked by that thread). */
typedef struct rc_gc_hooks {
    void (*track)(rc_obj_t *o);
    bool (*untrack)(rc_obj_t *o);
} rc_gc_hooks_t;
extern const rc_gc_hooks_t *_rc_gc_hooks;
void _rc_gc_free_block(rc_obj_t *o);
/* The GC header in front of a container. */
static inline rc_gc_head_t *rc_gc_head(const rc_obj_t *o) { return (rc_gc_head_t *)((char *)o - RC_GC_HEAD_BYTES); }
/* A container allocated with its header, of this thread's type. Tests and
 * types of their own use it (e.g. a node type with a finalizer); the type
 * must be node-shaped when traverse/clear are node's. NULL: out of memory;
 * nslots outside 1..RC_NODE_MAX_SLOTS is fatal (as rc_node_new). */
rc_obj_t *rc_node_new_typed(const rc_type_t *type, uint32_t nslots, int64_t value);
size_t rc_node_items(const rc_obj_t *o);
void rc_node_traverse(rc_obj_t *o, rc_visit_fn visit, void *arg);
void rc_node_clear(rc_obj_t *o);

typedef struct rc_int { rc_obj_t ob; int64_t value; } rc_int_t;
typedef struct rc_tuple { rc_obj_t ob; int64_t size; rc_obj_t *items[]; } rc_tuple_t;
/* Invariant: size <= cap; items[0..size) are owned references (never NULL). */
typedef struct rc_list { rc_obj_t ob; int64_t size, cap; rc_obj_t **items; } rc_list_t;
/* Slots may be NULL; non-NULL slots are owned references. */
typedef struct rc_node { rc_obj_t ob; int64_t value; uint32_t nslots; rc_obj_t *slots[]; } rc_node_t;

extern const rc_type_t rc_type_int, rc_type_tuple, rc_type_list, rc_type_node;
extern const rc_strategy_t rc_strategy_desc;

/* Frees an object whose count just reached zero: drops one reference of
 * every child, iteratively (a chain of any length uses O(1) C stack). */
void _rc_dealloc(rc_obj_t *o);

/* Debug-build faults: one line naming the object's address and type, then
 * abort. */
RC_NORETURN RC_COLD void _rc_fault_underflow(const rc_obj_t *o);
RC_NORETURN RC_COLD void _rc_fault_freed(const rc_obj_t *o, const char *op);

/* Constructors: a new reference, or NULL when the allocator is out of
 * memory (nothing else changes); NULL means nothing else. A programming
 * error is fatal (rc_fatal, one line naming the constructor and the bad
 * argument), never NULL: a negative tuple size, a node's slot count
 * outside 1..RC_NODE_MAX_SLOTS. A tuple size no address space can hold
 * is out of memory (NULL). */
rc_obj_t *rc_int_new(int64_t value);
rc_obj_t *rc_tuple_new(int64_t size);              /* size >= 0; items start NULL: fill with rc_tuple_set */
rc_obj_t *rc_list_new(void);
rc_obj_t *rc_node_new(uint32_t nslots, int64_t value);  /* 1 <= nslots <= RC_NODE_MAX_SLOTS, else fatal */

/* The cached immortal int for value, or NULL when outside the cache. */
rc_obj_t *rc_small_int(int64_t value);
/* A new mortal int even inside the small-int range: what every int costs
 * without the immortal cache (benchmarks compare the two). */
rc_obj_t *rc_int_new_uncached(int64_t value);

static inline int64_t rc_int_value(const rc_obj_t *o) { return ((const rc_int_t *)o)->value; }
static inline int64_t rc_tuple_size(const rc_obj_t *o) { return ((const rc_tuple_t *)o)->size; }
static inline rc_obj_t *rc_tuple_get(const rc_obj_t *o, int64_t i) { return ((const rc_tuple_t *)o)->items[i]; }
/* Steals `item`; the slot must be empty (tuples are filled once). */
static inline void rc_tuple_set(rc_obj_t *o, int64_t i, rc_obj_t *item) { ((rc_tuple_t *)o)->items[i] = item; }

static inline int64_t rc_list_size(const rc_obj_t *o) { return ((const rc_list_t *)o)->size; }
static inline rc_obj_t *rc_list_get(const rc_obj_t *o, int64_t i) { return ((const rc_list_t *)o)->items[i]; }
bool rc_list_append(rc_obj_t *list, rc_obj_t *item);      /* increfs item; false on OOM */
void rc_list_set(rc_obj_t *list, int64_t i, rc_obj_t *item); /* steals item, drops the old one */
void rc_list_clear(rc_obj_t *list);                        /* drops every element */

static inline rc_obj_t *rc_node_get(const rc_obj_t *o, uint32_t i) { return ((const rc_node_t *)o)->slots[i]; }
/* Steals child (may be NULL), drops the old one. Inline: a tree's links. */
static inline void rc_node_set(rc_obj_t *node, uint32_t i, rc_obj_t *child)
{
    rc_node_t *n = (rc_node_t *)node;
    rc_obj_t *old = n->slots[i];
    n->slots[i] = child;
    if (old)
        rc_decref(old);
}

/* Calls visit on every child reference of o (none for ints). */
static inline void rc_traverse(rc_obj_t *o, rc_visit_fn visit, void *arg)
{
    if (o->type->traverse)
        o->type->traverse(o, visit, arg);
}

/* Counts never wrap, under every strategy; what saturates, and where:
 * - rc_count_max: the owner-side count's limit (the count word for plain,
 *   atomic and deferred, the owner's local count for biased). The next
 *   increment, or rc_debug_set_refcnt above it, makes the object immortal.
 * - rc_refcount_max: the largest count rc_refcount reports for a mortal
 *   object. The same as rc_count_max where one word holds every
 *   reference; under biased, references other threads took are in the
 *   shared count, which saturates on its own at 2^60, so a mortal object
 *   may report up to rc_count_max + 2^60 - 1 (rc/strategy/biased.h).
 *   Either way: never wrapped, and an immortal object is never freed.
 * Test hook: set the owner-side count for saturation tests. */
void rc_debug_set_refcnt(rc_obj_t *o, uint64_t count);

#endif /* RC_FLAVOUR_H */

#endif /* RC_RC_H */
