/* gc/gc.c — the generational cycle detector (see gc/gc.h).
 *
 * A collection of generation g is CPython's gc_collect_main with the world
 * stopped: take the remote stacks, splice generations 0..g of every record
 * into `young`, update_refs and subtract_refs (fused into one pass in a
 * full collection), move_unreachable, finalizers (then the same steps on
 * the unreachable set: what they resurrected survives), clear the garbage,
 * drop the temporary references that held it, promote the survivors.
 *
 * Threading: each record's lists are its owner's (no lock); a container
 * that dies on another thread goes on the record's remote stack (release
 * CAS; the owner takes it whole with an acquire exchange); a collector has
 * the world stopped and owns every list. records[] is written under
 * reg_lock before an id is used; settings are relaxed atomics; net
 * allocations are counted per thread (its rc_gc_local_t, armed only while
 * it is attached) and folded into a global atomic; the
 * statistics are written by one collector at a time, under stats_lock.
 *
 * Design: docs/gc.md.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "gc/gc.h"

/* The header (rc/rc.h): next = the next header | the list's generation
 * (bits 0-1); prev, between collections and for an object a collection
 * has scanned or found unreachable ("pointer form"): owner << 48 | the
 * previous header | flags (bits 0-3). For an object a collection has yet
 * to scan ("scratch form", COLLECTING without UNREACHABLE): owner << 48 |
 * (uint32)(scratch + 2^31) << 16 | flags; the set is walked through next
 * alone meanwhile, and move_unreachable writes each prev back as it goes
 * (CPython's gc_refs in _gc_prev). */
typedef rc_gc_head_t gc_head_t;

#define F_TRACKED       RC_GC_TRACKED                /* on a list */
#define F_FINALIZED     (UINT64_C(1) << 1)           /* its finalizer ran (PEP 442) */
#define F_COLLECTING    (UINT64_C(1) << 2)           /* in the set a collection examines */
#define F_UNREACHABLE   (UINT64_C(1) << 3)           /* on the tentatively unreachable list */
#define F_KEEP          (F_TRACKED | F_FINALIZED)    /* what outlives a collection */
_Static_assert((F_TRACKED | F_FINALIZED | F_COLLECTING | F_UNREACHABLE) == RC_GC_FLAG_BITS, "four flags, prev's low bits");
#define GEN_MASK        RC_GC_GEN_MASK
_Static_assert(GC_GENERATIONS <= 4, "two generation bits in next");
#define OWNER_SHIFT     RC_GC_OWNER_SHIFT
#define MAX_RECORDS     (1 << 16)
_Static_assert(MAX_RECORDS <= (1 << (64 - RC_GC_OWNER_SHIFT)), "an owner id fits prev's high bits");
#define FOLD            32                /* net allocations a thread folds in at once */
#define PAUSES          4096

static inline gc_head_t *head_of(const rc_obj_t *o) { return rc_gc_head(o); }
static inline rc_obj_t *obj_of(gc_head_t *h) { return (rc_obj_t *)((char *)h + RC_GC_HEAD_BYTES); }
static inline gc_head_t *next_of(const gc_head_t *h) { return rc_gc_ptr(h->next); }
static inline gc_head_t *prev_of(const gc_head_t *h) { return rc_gc_ptr(rc_gc_prev(h)); }   /* pointer form */
static inline uint32_t owner_of(const gc_head_t *h) { return (uint32_t)(rc_gc_prev(h) >> OWNER_SHIFT); }  /* either form */
#define OWNER_BITS (~UINT64_C(0) << OWNER_SHIFT)
/* prev's pointer, keeping h's owner and flags (pointer form). prev_of,
 * owner_of and set_prev are the list operations an owner runs while
 * another thread may be reading the same prev (rc/rc.h: rc_gc_prev);
 * the rest of this file touches prev with the world stopped, plainly. */
static inline void set_prev(gc_head_t *h, const gc_head_t *p) { rc_gc_set_prev(h, (rc_gc_prev(h) & RC_GC_META_MASK) | (uintptr_t)p); }

/* The scratch form: a 32-bit count between the owner and the flags,
 * biased by 2^31 so that it is never below zero in a real collection (a
 * reference from inside is subtracted at most once per reference; a
 * count short by 2^31 would be needed to borrow from the owner). One
 * less reference from inside is one subtraction on the hot visit paths. */
#define SCRATCH_SHIFT 16
#define SCRATCH_ONE   (UINT64_C(1) << SCRATCH_SHIFT)
#define SCRATCH_BIAS  (UINT64_C(1) << 31)
#define SCRATCH_BITS  (UINT64_C(0xFFFFFFFF) << SCRATCH_SHIFT)
static inline int32_t scratch(const gc_head_t *h)
{
    return (int32_t)((int64_t)((h->prev >> SCRATCH_SHIFT) & UINT32_MAX) - (int64_t)SCRATCH_BIAS);
}
static inline uint64_t scratch_bits(int64_t v)
{
    v = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
    return ((uint64_t)(v + (int64_t)SCRATCH_BIAS)) << SCRATCH_SHIFT;
}
/* Pointer form -> scratch form, scratch v (clamped to 32 bits), COLLECTING. */
static inline void to_scratch(gc_head_t *h, int64_t v)
{
    h->prev = (h->prev & (OWNER_BITS | F_KEEP)) | scratch_bits(v) | F_COLLECTING;
}
static inline void set_scratch(gc_head_t *h, int64_t v) { h->prev = (h->prev & ~SCRATCH_BITS) | scratch_bits(v); }
/* Scratch form -> pointer form: previous header p, flags `flags`. */
static inline void to_pointer(gc_head_t *h, const gc_head_t *p, uintptr_t flags)
{
    h->prev = (h->prev & OWNER_BITS) | (uintptr_t)p | flags;
}

/* ---- lists ---------------------------------------------------------------- */

/* Pointer form throughout. Every next word keeps its own generation
 * bits; a head's carry its list's generation, which list_append gives
 * an object it links. */
static void list_init(gc_head_t *l, unsigned gen) { l->next = (uintptr_t)l | gen; l->prev = (uintptr_t)l; }
static bool list_empty(const gc_head_t *l) { return next_of(l) == l; }
/* h's owner and flags are kept; it takes l's generation. */
static void list_append(gc_head_t *l, gc_head_t *h)
{
    gc_head_t *last = prev_of(l);
    uintptr_t gen = l->next & GEN_MASK;
    set_prev(h, last);
    h->next = (uintptr_t)l | gen;
    last->next = (uintptr_t)h | (last->next & GEN_MASK);
    l->prev = (uintptr_t)h;
}
/* h's own words are left as they are (the caller rewrites them). */
static void list_unlink(gc_head_t *h)
{
    gc_head_t *p = prev_of(h), *n = next_of(h);
    p->next = (uintptr_t)n | (p->next & GEN_MASK);
    set_prev(n, p);
}
static void list_splice(gc_head_t *dst, gc_head_t *src)   /* src's objects to dst's end, their bits kept */
{
    if (list_empty(src))
        return;
    gc_head_t *first = next_of(src), *last = prev_of(src), *dlast = prev_of(dst);
    dlast->next = (uintptr_t)first | (dlast->next & GEN_MASK);
    set_prev(first, dlast);
    last->next = (uintptr_t)dst | (last->next & GEN_MASK);
    dst->prev = (uintptr_t)last;
    list_init(src, (unsigned)(src->next & GEN_MASK));
}

/* ---- records -------------------------------------------------------------- */

typedef struct gc_thread {
    gc_head_t gen[GC_GENERATIONS];          /* owner's lists (the collector's while it runs) */
    RC_ATOMIC(uintptr_t) remote;            /* heads freed by other threads, linked through next */
    RC_ATOMIC(bool) in_use;
    uint32_t id;
    /* The owner's tracking state (its _rc_gc_local), whose `local` a
     * collector reads and resets with the world stopped; NULL while the
     * record is free. Written by the owner while attached. */
    rc_gc_local_t *tl;
} gc_thread_t;

static gc_thread_t *records[MAX_RECORDS];   /* by id; written under reg_lock */
static RC_ATOMIC(uint32_t) nrecords;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local gc_thread_t *gc_self;
static _Thread_local bool gc_collecting;    /* this thread is collecting (world stopped by it) */

static RC_ATOMIC(bool) enabled = true;
static RC_ATOMIC(uint64_t) threshold[GC_GENERATIONS] = { 700, 10, 10 };
static RC_ATOMIC(int64_t) count0;           /* net allocations since the last generation-0 collection */

/* count0 += delta, never below zero: as CPython, a deallocation only
 * counts against allocations made since the last collection. Returns the
 * new value. */
static int64_t count0_add(int64_t delta)
{
    int64_t old = at_load_relaxed(&count0), now;
    do
        now = old + delta < 0 ? 0 : old + delta;
    while (!at_cas_weak_relaxed(&count0, &old, now));
    return now;
}
/* A thread's net count (rc_gc_local_t: deaths below `floor` count
 * nothing), and its end of a stretch at zero: the first birth, a fold. */
static inline int64_t local_count(const rc_gc_local_t *g) { return g->local > g->floor ? g->local : g->floor; }
static inline void leave_zero(rc_gc_local_t *g)
{
    g->local = local_count(g);
    g->floor = INT64_MIN;
}
/* The total is zero: deaths count nothing until the next birth, which
 * takes the slow path (high) and leaves this state. */
static inline void enter_zero(rc_gc_local_t *g)
{
    g->floor = g->local;
    g->low = INT64_MIN;
    g->high = INT64_MIN;
}
static uint64_t count_older[GC_GENERATIONS];   /* [1], [2]: collections of the younger; the collector's */
static uint64_t long_lived_total, long_lived_pending;   /* the collector's */
static RC_ATOMIC(bool) debug_check = RC_DEBUG;

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static gc_stats_t stats[GC_GENERATIONS];    /* under stats_lock */
static uint64_t pauses[GC_GENERATIONS][PAUSES];
static uint64_t npauses[GC_GENERATIONS];

/* Unlinks and frees what other threads freed from t's lists. Caller: t's
 * owner, or the collector. The stack links dead objects through their
 * dealloc link (_rc_dead_next): dead, their count word is free. */
static void drain_remote(gc_thread_t *t)
{
    /* acquire: pairs with the pushers' release CAS; their frees of the
     * objects' contents happen before we free the blocks. */
    rc_obj_t *o = (rc_obj_t *)at_exchange_acquire(&t->remote, 0);
    while (o) {
        rc_obj_t *next = _rc_dead_next(o);
        list_unlink(head_of(o));
        _rc_gc_free_block(o);
        o = next;
    }
}

static void world_join(void);
static void world_leave(void);
static void disarm(void);
static bool set_bounds(rc_gc_local_t *g, int64_t c);

/* Thread exit. The lists must not change under a collector: the core's
 * exit handler joins the world first, but plain's world is the GIL, which
 * an exiting thread has usually dropped: take it back for this. */
static void exit_hook(void)
{
    gc_thread_t *t = gc_self;
    if (t == NULL)
        return;
    bool attach = !rc_is_attached();
    if (attach)
        world_join();
    drain_remote(t);
    disarm();
    t->tl = NULL;
    gc_self = NULL;
    /* release: pairs with the acquire CAS of the next thread to claim the
     * record; its lists are handed over whole. */
    at_store_release(&t->in_use, false);
    if (attach)
        world_leave();
}

static pthread_once_t hook_once = PTHREAD_ONCE_INIT;
static void hook_register(void)
{
    rc_core_on_thread_exit(exit_hook);
    rc_core_on_detach(disarm);
}

static gc_thread_t *self_record(void)
{
    gc_thread_t *t = gc_self;
    if (RC_LIKELY(t != NULL))
        return t;
    (void)pthread_once(&hook_once, hook_register);
    (void)rc_thread_self();                 /* the core's exit handler runs the hook */
    /* acquire: pairs with the release store of nrecords below. */
    uint32_t n = at_load_acquire(&nrecords);
    for (uint32_t i = 0; i < n && t == NULL; i++) {
        bool free_rec = false;
        /* acquire: pairs with the release store in exit_hook. */
        if (!at_load_relaxed(&records[i]->in_use) && at_cas_strong_acquire(&records[i]->in_use, &free_rec, true))
            t = records[i];
    }
    if (t == NULL) {
        t = calloc(1, sizeof *t);
        if (t == NULL)
            rc_fatal_os("gc: out of memory for a thread record");
        _rc_gc_check_head(&t->gen[0]);      /* calloc: 16-byte aligned, below 2^48 */
        for (int g = 0; g < GC_GENERATIONS; g++)
            list_init(&t->gen[g], (unsigned)g);
        at_store_relaxed(&t->in_use, true);
        pthread_mutex_lock(&reg_lock);
        uint32_t id = at_load_relaxed(&nrecords);
        if (id == MAX_RECORDS)
            rc_fatal("gc: more than %d threads made containers at once", MAX_RECORDS);
        t->id = id;
        records[id] = t;
        /* release: publishes the record before its id is counted. */
        at_store_release(&nrecords, id + 1);
        pthread_mutex_unlock(&reg_lock);
    }
    t->tl = &_rc_gc_local;
    gc_self = t;
    return t;
}

/* ---- the collection -------------------------------------------------------- */

/* Every object COLLECTING is in scratch form while this runs. */
static inline void visit_decref(rc_obj_t *child, void *arg)
{
    (void)arg;
    if (!child->type->gc)
        return;
    gc_head_t *h = head_of(child);
    if (h->prev & F_COLLECTING)
        h->prev -= SCRATCH_ONE;
}

/* Calls visit on every child of o. The object model's own containers are
 * walked here, inline, so the visit (a constant at each call site) is
 * inlined too; other types go through their traverse. Measured with
 * callgrind (deterministic; with the retired rcbench-gc, `valgrind
 * --tool=callgrind rcbench-gc --sizes
 * 100000 --reps 3 --churn 1 --python none`, inclusive cost of the four
 * gc_*_collect): 96 -> 78 instructions per object of a full collection.
 * Wall time moved less than this machine's noise. */
static RC_ALWAYS_INLINE void for_children(rc_obj_t *o, void (*visit)(rc_obj_t *, void *), void *arg)
{
    const rc_type_t *t = o->type;
    if (t == &rc_type_node || (t != &rc_type_list && t != &rc_type_tuple && t->traverse == rc_node_traverse)) {
        rc_node_t *n = (rc_node_t *)o;
        for (uint32_t i = 0; i < n->nslots; i++)
            if (n->slots[i])
                visit(n->slots[i], arg);
    } else if (t == &rc_type_list) {
        rc_list_t *l = (rc_list_t *)o;
        for (int64_t i = 0; i < l->size; i++)
            visit(l->items[i], arg);
    } else if (t == &rc_type_tuple) {
        rc_tuple_t *tu = (rc_tuple_t *)o;
        for (int64_t i = 0; i < tu->size; i++)
            if (tu->items[i])
                visit(tu->items[i], arg);
    } else if (t->traverse) {
        t->traverse(o, visit, arg);
    }
}

/* A child of an object found reachable is reachable: one tentatively
 * unreachable goes back to the end of `reachable` (in scratch form,
 * scratch 1: it will be scanned), one not scanned yet gets scratch 1. Its
 * next word takes the generation move_unreachable gives survivors (the
 * head's). */
static inline void visit_reachable(rc_obj_t *child, void *arg)
{
    gc_head_t *reachable = arg;
    if (!child->type->gc)
        return;
    gc_head_t *h = head_of(child);
    uintptr_t w = h->prev;
    if (!(w & F_COLLECTING))
        return;
    if (w & F_UNREACHABLE) {                 /* tentatively unreachable: back, to be scanned */
        list_unlink(h);
        gc_head_t *last = prev_of(reachable);   /* the head's prev: a bare pointer */
        uintptr_t gen = reachable->next & GEN_MASK;
        last->next = (uintptr_t)h | gen;
        h->next = (uintptr_t)reachable | gen;
        reachable->prev = (uintptr_t)h;
        to_scratch(h, 1);                    /* drops UNREACHABLE; prev is rebuilt when it is scanned */
    } else if (scratch(h) == 0) {
        set_scratch(h, 1);                   /* not scanned yet: it will be, as reachable */
    }
}

/* The debug check: a scratch below zero means more references from
 * tracked containers than the object's count. */
static void check_refs(gc_head_t *list, int64_t discount)
{
    if (!at_load_relaxed(&debug_check))
        return;
    for (gc_head_t *h = next_of(list); h != list; h = next_of(h))
        if (scratch(h) < 0) {
            rc_obj_t *o = obj_of(h);
            rc_fatal("gc: object %p (%s) has count %lld but tracked containers hold %lld more "
                     "references to it than that [strategy %s]", (void *)o, o->type->name,
                     (long long)rc_refcount(o) - discount, (long long)-scratch(h), RC_STRATEGY_NAME);
        }
}

/* Scratch = count (minus `discount`), then minus the references from
 * inside the list: what remains is the references from outside. Returns
 * the list's length. The list goes into scratch form (its prev pointers
 * are rebuilt by move_unreachable). */
static uint64_t compute_refs(gc_head_t *list, int64_t discount)
{
    uint64_t n = 0;
    for (gc_head_t *h = next_of(list); h != list; h = next_of(h)) {
        to_scratch(h, rc_refcount(obj_of(h)) - discount);
        n++;
    }
    for (gc_head_t *h = next_of(list); h != list; h = next_of(h))
        for_children(obj_of(h), visit_decref, NULL);
    check_refs(list, discount);
    return n;
}

/* A collection's (generations 0..gen) update_refs and subtract_refs in
 * one pass over the set. An object enters scratch form at its first
 * touch, scratch = its count: when the pass reaches it, or when a
 * reference from a member already scanned reaches it first (then minus
 * that reference). A child is in the set when it is tracked and its
 * generation bits (its next word's) are at most gen, which holds before
 * the pass reaches it (in a full collection: every tracked container).
 * One pass over the objects instead of two: a full collection is
 * memory-bound. */
static inline void visit_decref_gen(rc_obj_t *child, void *arg)
{
    uintptr_t gen = (uintptr_t)arg;
    if (!child->type->gc)
        return;
    gc_head_t *h = head_of(child);
    uintptr_t w = h->prev;
    if (w & F_COLLECTING) {
        h->prev = w - SCRATCH_ONE;
    } else if ((w & F_TRACKED) && (h->next & GEN_MASK) <= gen) {
        to_scratch(h, rc_refcount(child));
        h->prev -= SCRATCH_ONE;
    }
}

static uint64_t compute_refs_fused(gc_head_t *list, unsigned gen)
{
    void *in_set = (void *)(uintptr_t)gen;
    uint64_t n = 0;
    for (gc_head_t *h = next_of(list); h != list; h = next_of(h)) {
        rc_obj_t *o = obj_of(h);
        if (!(h->prev & F_COLLECTING))
            to_scratch(h, rc_refcount(o));   /* first touch */
        for_children(o, visit_decref_gen, in_set);
        n++;
    }
    check_refs(list, 0);
    return n;
}

/* CPython's _PyTuple_MaybeUntrack: a full tuple none of whose items can
 * be a tracked container (not a container, or an untracked tuple) can
 * never be part of a cycle, so the collector stops looking at it. */
static bool tuple_may_untrack(const rc_obj_t *o)
{
    const rc_tuple_t *tu = (const rc_tuple_t *)o;
    for (int64_t i = 0; i < tu->size; i++) {
        const rc_obj_t *item = tu->items[i];
        if (item == NULL)
            return false;                    /* still being filled */
        if (item->type->gc && (item->type != &rc_type_tuple || (head_of(item)->prev & F_TRACKED)))
            return false;
    }
    return true;
}

/* Leaves in `list` what is reachable from outside it, moves the rest to
 * `unreachable` (CPython's move_unreachable). `list` is in scratch form
 * and walked through next; `prev` trails the walk, so each object found
 * reachable gets its prev pointer back as it is scanned, COLLECTING
 * cleared (a later reference to it changes nothing) and its next word
 * the target generation: survivors come out in pointer form with clean
 * flags. An object moved to `unreachable` is in pointer form there with
 * COLLECTING and UNREACHABLE. A reachable tuple that can hold no cycle is
 * untracked here (CPython does it in a pass of its own over the
 * survivors, untrack_tuples). */
static void move_unreachable(gc_head_t *list, gc_head_t *unreachable, unsigned target)
{
    const uintptr_t gen = target;
    list->next = (uintptr_t)next_of(list) | gen;   /* visit_reachable's appends take it */
    gc_head_t *prev = list, *h = next_of(list);
    while (h != list) {
        if (scratch(h) > 0) {
            rc_obj_t *o = obj_of(h);
            /* may append to list: h's next is read after it */
            for_children(o, visit_reachable, list);
            if (o->type == &rc_type_tuple && tuple_may_untrack(o)) {
                prev->next = (uintptr_t)next_of(h) | gen;
                h->next = h->prev = 0;       /* untracked: its death only counts */
            } else {
                to_pointer(h, prev, h->prev & F_KEEP);
                h->next = (uintptr_t)next_of(h) | gen;
                prev = h;
            }
        } else {
            prev->next = (uintptr_t)next_of(h) | gen;
            gc_head_t *last = prev_of(unreachable);
            to_pointer(h, last, (h->prev & F_KEEP) | F_COLLECTING | F_UNREACHABLE);
            h->next = (uintptr_t)unreachable;
            last->next = (uintptr_t)h | (last->next & GEN_MASK);
            unreachable->prev = (uintptr_t)h;
        }
        h = next_of(prev);
    }
    /* An object moved off the end leaves the walk at once: the head's
     * prev was stale only then. */
    list->prev = (uintptr_t)prev;
}

/* Moves every object of `list` (pointer form) to its owner's generation
 * g. With one owner (`only`, when every object came from one record, and
 * `clean`: move_unreachable left their flags clean and their next words
 * at g) the list is spliced whole, O(1). */
static void promote(gc_head_t *list, unsigned g, gc_thread_t *only, bool clean)
{
    if (only != NULL && clean) {
        list_splice(&only->gen[g], list);
        return;
    }
    while (!list_empty(list)) {
        gc_head_t *h = next_of(list);
        list_unlink(h);
        h->prev &= ~(F_COLLECTING | F_UNREACHABLE);
        list_append(&records[owner_of(h)]->gen[g], h);
    }
}

static uint64_t list_len(const gc_head_t *l)
{
    uint64_t n = 0;
    for (const gc_head_t *h = next_of(l); h != l; h = next_of(h))
        n++;
    return n;
}

/* Pointers to every object of a list (they are about to change lists). */
static rc_obj_t **snapshot(const gc_head_t *l, uint64_t n)
{
    rc_obj_t **v = malloc((n ? n : 1) * sizeof *v);
    if (v == NULL)
        rc_fatal_os("gc: out of memory for %llu pointers", (unsigned long long)n);
    uint64_t i = 0;
    for (gc_head_t *h = next_of(l); h != l; h = next_of(h))
        v[i++] = obj_of(h);
    return v;
}

static int64_t collect_stopped(int gen, gc_stats_t *st)
{
    unsigned target = gen < GC_GENERATIONS - 1 ? (unsigned)gen + 1 : GC_GENERATIONS - 1;
    /* acquire: pairs with the release store of nrecords. */
    uint32_t nrec = at_load_acquire(&nrecords);
    gc_head_t young, unreachable, garbage;
    list_init(&young, 0);
    list_init(&unreachable, 0);
    list_init(&garbage, 0);
    gc_thread_t *only = NULL;                /* the one record that contributed, if one */
    uint32_t contributors = 0;
    for (uint32_t r = 0; r < nrec; r++) {
        drain_remote(records[r]);
        for (int g = 0; g <= gen; g++)
            if (!list_empty(&records[r]->gen[g])) {
                if (only != records[r])
                    contributors++;
                only = records[r];
                list_splice(&young, &records[r]->gen[g]);
            }
        /* The count of net allocations restarts (below), each armed
         * thread's share with it; an unarmed one's is 0 already, and it
         * may be detached: its state is not ours to write. */
        rc_gc_local_t *g = records[r]->tl;
        if (g != NULL && g->tag != RC_GC_TAG_UNARMED) {
            g->local = 0;
            enter_zero(g);                   /* at zero: deaths count nothing */
        }
    }
    if (contributors != 1)
        only = NULL;

    st->examined = compute_refs_fused(&young, (unsigned)gen);
    move_unreachable(&young, &unreachable, target);

    uint64_t n = list_len(&unreachable);
    rc_obj_t **held = snapshot(&unreachable, n);
    for (uint64_t i = 0; i < n; i++)
        rc_incref(held[i]);                 /* nothing dies before we say so */

    bool finalize = false;
    for (gc_head_t *h = next_of(&unreachable); h != &unreachable; h = next_of(h)) {
        rc_obj_t *o = obj_of(h);
        if (o->type->finalize && !(h->prev & F_FINALIZED)) {
            h->prev |= F_FINALIZED;
            o->type->finalize(o);
            finalize = true;
        }
    }
    gc_head_t *resurrected = &unreachable;
    if (finalize) {
        /* What the finalizers made referenced from outside is alive again,
         * with everything it reaches. */
        rc_world_sync();
        compute_refs(&unreachable, 1);       /* scratch form drops UNREACHABLE */
        move_unreachable(&unreachable, &garbage, target);
    } else {
        list_splice(&garbage, &unreachable);
    }
    st->resurrected = list_len(resurrected);
    st->collected = list_len(&garbage);

    for (gc_head_t *h = next_of(&garbage); h != &garbage; h = next_of(h)) {
        rc_obj_t *o = obj_of(h);
        if (o->type->clear)
            o->type->clear(o);
    }
    rc_world_sync();                         /* the clears applied: counts exact */
    uint64_t survive = 0;
    for (gc_head_t *h = next_of(&garbage); h != &garbage; h = next_of(h))
        survive += rc_refcount(obj_of(h)) > 1;   /* more than our reference: uncollectable */
    st->uncollectable = survive;

    uint64_t promoted = st->examined;        /* every object examined goes up; garbage then dies */
    promote(&young, target, only, true);
    promote(&garbage, target, NULL, false);
    promote(resurrected, target, NULL, false);
    for (uint64_t i = 0; i < n; i++)
        rc_decref(held[i]);                  /* garbage dies and unlinks itself */
    rc_world_sync();
    free(held);

    /* CPython's generation bookkeeping (under stats_lock: gc_get_count reads it). */
    pthread_mutex_lock(&stats_lock);
    if (gen < GC_GENERATIONS - 1)
        count_older[gen + 1]++;
    for (int g = 1; g <= gen; g++)
        count_older[g] = 0;
    at_store_relaxed(&count0, 0);
    if (gen == GC_GENERATIONS - 1) {
        long_lived_total = promoted - (st->collected - st->uncollectable);
        long_lived_pending = 0;
    } else if (target == GC_GENERATIONS - 1) {
        long_lived_pending += promoted - (st->collected - st->uncollectable);
    }
    pthread_mutex_unlock(&stats_lock);
    return (int64_t)n;
}

/* Net allocations now: the global count plus every thread's unfolded
 * share (exact with the world stopped). */
static int64_t net_allocations_stopped(void)
{
    int64_t c = at_load_relaxed(&count0);
    /* acquire: pairs with the release store of nrecords. */
    uint32_t nrec = at_load_acquire(&nrecords);
    for (uint32_t r = 0; r < nrec; r++)
        if (records[r]->tl)
            c += local_count(records[r]->tl);
    return c;
}

static RC_ATOMIC(bool) collecting;          /* a collection of this strategy's objects runs */

int64_t gc_collect(int generation)
{
    if (generation < -1 || generation >= GC_GENERATIONS)
        rc_fatal("gc_collect: generation %d out of range (-1..%d)", generation, GC_GENERATIONS - 1);
    if (at_load_relaxed(&collecting))
        return 0;                            /* asked from a finalizer: not inside a collection */
    if (!rc_is_attached())
        return -1;
    uint64_t t0 = rc_now_ns();                  /* the pause includes waiting for threads to park */
    rc_world_stop();
    if (generation < 0 && net_allocations_stopped() <= (int64_t)at_load_relaxed(&threshold[0])) {
        rc_world_resume();                   /* another thread collected while we waited to stop */
        return 0;
    }
    at_store_relaxed(&collecting, true);
    gc_collecting = true;
    int gen = generation;
    if (gen < 0) {                           /* the policy: the oldest generation due */
        uint64_t th[GC_GENERATIONS];
        gc_get_threshold(th);
        pthread_mutex_lock(&stats_lock);
        for (gen = GC_GENERATIONS - 1; gen > 0; gen--)
            if (count_older[gen] > th[gen] &&
                (gen != GC_GENERATIONS - 1 || !(long_lived_pending < long_lived_total / 4)))
                break;
        pthread_mutex_unlock(&stats_lock);
    }
    gc_stats_t st = { 0 };
    (void)collect_stopped(gen, &st);       /* this thread too is at zero now */
    gc_collecting = false;
    at_store_relaxed(&collecting, false);
    rc_world_resume();
    uint64_t pause = rc_now_ns() - t0;
    pthread_mutex_lock(&stats_lock);
    gc_stats_t *s = &stats[gen];
    s->collections++;
    s->examined += st.examined;
    s->collected += st.collected;
    s->uncollectable += st.uncollectable;
    s->resurrected += st.resurrected;
    s->pause_ns_total += pause;
    if (pause > s->pause_ns_max)
        s->pause_ns_max = pause;
    pauses[gen][npauses[gen]++ % PAUSES] = pause;
    pthread_mutex_unlock(&stats_lock);
    return (int64_t)st.collected;            /* CPython: resurrected objects do not count */
}

/* ---- tracking (the rc hooks) ---------------------------------------------- */

/* May an allocation collect here? Not while this thread has the world
 * stopped (it would stop it twice), nor inside a deferred read section
 * (a collection flushes and applies every decrement: the section's
 * uncounted pointers would lose their protection). Otherwise an
 * allocation is a safepoint, as in CPython, where any allocation may
 * collect and run finalizers. */
static bool may_collect_here(void)
{
    if (rc_world_is_stopped() || gc_collecting)
        return false;
#ifdef RC_STRATEGY_DEFERRED
    if (_rc_deferred_read_depth != 0)
        return false;
#endif
    return true;
}

/* The calling thread's bounds (rc/rc.h, rc_gc_local_t) for a global
 * count c after its fold: births fold every FOLD, or at once when they
 * would take the total past the threshold (so a single thread collects
 * at exactly the allocation CPython would); deaths fold every FOLD, or
 * when they would take the total to zero (a death only counts against
 * births since the last collection). A setting changed by another
 * thread is seen at this thread's next fold: within FOLD births. */
static bool set_bounds(rc_gc_local_t *g, int64_t c)
{
    uint64_t th = at_load_relaxed(&threshold[0]);
    int64_t room = th != 0 && at_load_relaxed(&enabled) ? (int64_t)th - c : INT64_MAX;
    g->high = room < FOLD - 1 ? room : FOLD - 1;
    g->low = (c < FOLD ? -c : -FOLD) + 1;
    return room < 0;                         /* past the threshold: a collection is due */
}

/* Arms the calling (attached) thread's fast paths with record t. */
static void arm(gc_thread_t *t)
{
    rc_gc_local_t *g = &_rc_gc_local;
    g->young = &t->gen[0];
    g->tag = ((uint64_t)t->id << OWNER_SHIFT) | F_TRACKED;
    _Static_assert((((uint64_t)(MAX_RECORDS - 1) << OWNER_SHIFT) & RC_GC_PTR_MASK) == 0, "ids above the pointer");
    (void)set_bounds(g, at_load_relaxed(&count0));
}

/* The detach hook (and thread exit): folds the thread's count and sends
 * every later birth and death to the slow paths, which arm it again once
 * it is attached. Runs while the thread is still attached (or, at exit,
 * joined). */
static void disarm(void)
{
    rc_gc_local_t *g = &_rc_gc_local;
    leave_zero(g);
    if (g->local != 0)
        count0_add(g->local);
    g->local = 0;
    g->tag = RC_GC_TAG_UNARMED;
    g->high = INT64_MIN;
    g->low = INT64_MAX;
}

/* Folds this thread's births and deaths into the global count, takes back
 * what other threads freed of its containers, and (a birth's fold:
 * `may_collect`; a death is no place to) collects when the count is past
 * the threshold and this is a place to collect. */
static void fold(gc_thread_t *t, bool may_collect)
{
    rc_gc_local_t *g = &_rc_gc_local;
    if (at_load_relaxed(&t->remote) != 0)
        drain_remote(t);
    int64_t c = count0_add(g->local);
    g->local = 0;
    if (set_bounds(g, c) && may_collect && may_collect_here())
        (void)gc_collect(-1);                /* sets this thread's bounds again */
}

/* The slow path of a birth: the first on this thread or since it
 * attached, a fold due, or no place to collect. */
static void track(rc_obj_t *o)
{
    if (RC_UNLIKELY(!rc_is_attached()))
        rc_fatal("gc: a %s made on a thread that is not attached: the cycle detector is linked in "
                 "(gc/gc.h), so a thread calls rc_thread_attach before it makes containers "
                 "(a collection may be running) [strategy %s]", o->type->name, RC_STRATEGY_NAME);
    gc_thread_t *t = self_record();
    rc_gc_local_t *g = &_rc_gc_local;
    if (g->tag == RC_GC_TAG_UNARMED)
        arm(t);
    leave_zero(g);
    g->local++;
    fold(t, true);                           /* may collect: o is not linked yet */
    gc_head_t *h = head_of(o);
    _rc_gc_check_head(h);                    /* every 32nd container, and every one unarmed */
    h->prev = g->tag;
    list_append(g->young, h);
}

static bool untrack_attached(rc_obj_t *o);

/* Join the world just for a list operation (not the strategy's whole
 * attach): the GIL for a GIL strategy, the world otherwise. */
static void world_join(void)
{
    if (rc_uses_gil)
        rc_gil_acquire();
    else
        _rc_world_attach();
}
static void world_leave(void)
{
    if (rc_uses_gil)
        rc_gil_release();
    else
        _rc_world_detach();
}

/* The slow path of a death. A thread that is not attached (the contract
 * says it should be) joins the world for it, so no collection sees a
 * list or a count change. */
static bool untrack(rc_obj_t *o)
{
    if (RC_LIKELY(rc_is_attached()))
        return untrack_attached(o);
    world_join();
    bool later = untrack_attached(o);
    world_leave();                           /* disarms again */
    return later;
}

/* A death counts against births since the last collection, never below
 * zero: within the bounds by the fast path, here at them. */
static void count_death(gc_thread_t *mine)
{
    rc_gc_local_t *g = &_rc_gc_local;
    if (g->floor != INT64_MIN)
        return;                              /* at zero: nothing to count */
    if (g->local > g->low) {
        g->local--;
        return;
    }
    if (at_load_relaxed(&count0) + g->local <= 0) {
        enter_zero(g);                       /* the total is zero: nothing to count */
        return;
    }
    g->local--;
    fold(mine, false);
}

static bool untrack_attached(rc_obj_t *o)
{
    gc_head_t *h = head_of(o);
    gc_thread_t *mine = self_record();
    if (_rc_gc_local.tag == RC_GC_TAG_UNARMED)
        arm(mine);
    count_death(mine);
    if (!(rc_gc_prev(h) & F_TRACKED))
        return false;                        /* untracked (a tuple of no containers): rc frees it */
    gc_thread_t *owner = records[owner_of(h)];
    if (owner == mine || gc_collecting) {
        list_unlink(h);
        h->next = h->prev = 0;
        return false;                        /* rc frees the block now */
    }
    bool free_rec = false;
    /* An owner that exited (its record not in use): take the record for a
     * moment, unlink and drain it here, so its blocks are not pinned until
     * a thread reuses it. acquire: pairs with the release in exit_hook. */
    if (!at_load_relaxed(&owner->in_use) && at_cas_strong_acquire(&owner->in_use, &free_rec, true)) {
        list_unlink(h);
        h->next = h->prev = 0;
        drain_remote(owner);
        /* release: pairs with the acquire CAS of the next claimer. */
        at_store_release(&owner->in_use, false);
        return false;
    }
    uintptr_t top = at_load_relaxed(&owner->remote);
    do
        _rc_dead_next(o) = (rc_obj_t *)top;  /* dead: the dealloc link is free */
    /* release: pairs with the owner's acquire exchange in drain_remote. */
    while (!at_cas_weak_release(&owner->remote, &top, (uintptr_t)o));
    return true;                             /* freed when the owner unlinks it */
}

static const rc_gc_hooks_t hooks = { track, untrack };

/* Idempotent: a repeat only reads the pointer, so a program may call it
 * while threads run once the constructor below has installed it. */
void gc_install(void)
{
    if (_rc_gc_hooks != &hooks)
        _rc_gc_hooks = &hooks;
}

/* Installed before main, after the small ints (101), before anything
 * that could make a container. Linking gc_<s> always brings this file in
 * (CMake: --undefined=gc_<s>_install on the library's INTERFACE). */
__attribute__((constructor(102))) static void gc_install_early(void) { gc_install(); }

/* ---- settings and figures ------------------------------------------------- */

void gc_enable(void)
{
    at_store_relaxed(&enabled, true);
    _rc_gc_local.high = INT64_MIN;          /* this thread folds at its next birth */
}
void gc_disable(void)
{
    at_store_relaxed(&enabled, false);
    _rc_gc_local.high = INT64_MIN;          /* this thread folds at its next birth */
}
bool gc_is_enabled(void) { return at_load_relaxed(&enabled); }
void gc_set_debug_check(bool on) { at_store_relaxed(&debug_check, on); }

void gc_set_threshold(uint64_t t0, uint64_t t1, uint64_t t2)
{
    at_store_relaxed(&threshold[0], t0);
    at_store_relaxed(&threshold[1], t1);
    at_store_relaxed(&threshold[2], t2);
    _rc_gc_local.high = INT64_MIN;          /* this thread folds at its next birth */
}

void gc_get_threshold(uint64_t out[GC_GENERATIONS])
{
    for (int g = 0; g < GC_GENERATIONS; g++)
        out[g] = at_load_relaxed(&threshold[g]);
}

void gc_get_count(uint64_t out[GC_GENERATIONS])
{
    int64_t c = at_load_relaxed(&count0) + local_count(&_rc_gc_local);
    out[0] = c > 0 ? (uint64_t)c : 0;
    pthread_mutex_lock(&stats_lock);        /* count_older: written by collectors; see their pauses' lock */
    out[1] = count_older[1];
    out[2] = count_older[2];
    pthread_mutex_unlock(&stats_lock);
}

uint64_t gc_tracked_count(void)
{
    uint64_t n = 0;
    /* acquire: pairs with the release store of nrecords. */
    uint32_t nrec = at_load_acquire(&nrecords);
    for (uint32_t r = 0; r < nrec; r++)
        for (int g = 0; g < GC_GENERATIONS; g++)
            n += list_len(&records[r]->gen[g]);
    return n;
}

bool gc_is_tracked(const rc_obj_t *o) { return o->type->gc && (rc_gc_prev(head_of(o)) & F_TRACKED); }

gc_stats_t gc_get_stats(int generation)
{
    if (generation < 0 || generation >= GC_GENERATIONS)
        rc_fatal("gc_get_stats: generation %d out of range (0..%d)", generation, GC_GENERATIONS - 1);
    pthread_mutex_lock(&stats_lock);
    gc_stats_t s = stats[generation];
    pthread_mutex_unlock(&stats_lock);
    return s;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint64_t gc_pause_quantile_ns(int generation, double q)
{
    if (generation < GC_ALL || generation >= GC_GENERATIONS || !(q >= 0.0 && q <= 1.0))
        rc_fatal("gc_pause_quantile_ns: generation %d or quantile %g out of range", generation, q);
    static uint64_t sorted[GC_GENERATIONS * PAUSES];
    pthread_mutex_lock(&stats_lock);
    uint64_t n = 0;
    for (int g = 0; g < GC_GENERATIONS; g++)
        if (generation == GC_ALL || generation == g) {
            uint64_t k = npauses[g] < PAUSES ? npauses[g] : PAUSES;
            memcpy(sorted + n, pauses[g], k * sizeof *sorted);
            n += k;
        }
    qsort(sorted, n, sizeof *sorted, cmp_u64);
    uint64_t v = n ? sorted[(uint64_t)(q * (double)(n - 1) + 0.5)] : 0;
    pthread_mutex_unlock(&stats_lock);
    return v;
}

void gc_reset_stats(void)
{
    pthread_mutex_lock(&stats_lock);
    memset(stats, 0, sizeof stats);
    memset(npauses, 0, sizeof npauses);
    pthread_mutex_unlock(&stats_lock);
}

/* ---- the timer ------------------------------------------------------------ */

static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cv;             /* waits on CLOCK_MONOTONIC: set up by timer_cv_init */
static pthread_once_t timer_cv_once = PTHREAD_ONCE_INIT;
static uint64_t timer_ms;                   /* under timer_lock; 0: stop */
static bool timer_running;                  /* under timer_lock */
static pthread_t timer_thread;

/* The period is measured on the monotonic clock (rc_now_ns): a step of
 * the wall clock neither stretches nor cuts it. */
static void timer_cv_init(void)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0 || pthread_condattr_setclock(&a, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&timer_cv, &a) != 0)
        rc_fatal("gc: cannot set up the timer's condition variable");
    pthread_condattr_destroy(&a);
}

static void *timer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&timer_lock);
    while (timer_ms != 0) {
        uint64_t deadline = rc_now_ns() + timer_ms * 1000000u;
        struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000000u),
                               .tv_nsec = (long)(deadline % 1000000000u) };
        if (pthread_cond_timedwait(&timer_cv, &timer_lock, &ts) == 0 || timer_ms == 0)
            continue;                        /* woken: the setting changed */
        pthread_mutex_unlock(&timer_lock);
        if (at_load_relaxed(&enabled)) {
            rc_thread_attach();              /* detached between ticks: never holds the world */
            (void)gc_collect(0);
            rc_thread_detach();
        }
        pthread_mutex_lock(&timer_lock);
    }
    pthread_mutex_unlock(&timer_lock);
    return NULL;
}

void gc_set_timer_ms(uint64_t ms)
{
    (void)pthread_once(&timer_cv_once, timer_cv_init);
    pthread_mutex_lock(&timer_lock);
    timer_ms = ms;
    pthread_cond_broadcast(&timer_cv);
    bool join = ms == 0 && timer_running;
    pthread_t old = timer_thread;
    if (ms != 0 && !timer_running) {
        if (pthread_create(&timer_thread, NULL, timer_main, NULL) != 0)
            rc_fatal("gc: cannot start the timer thread");
        timer_running = true;
    }
    if (join)
        timer_running = false;
    pthread_mutex_unlock(&timer_lock);
    if (join) {
        /* The timer may be stopping the world (waiting for us to park) or
         * waiting for plain's GIL: not attached while we wait for it. */
        bool attached = rc_is_attached();
        if (attached)
            rc_thread_detach();
        (void)pthread_join(old, NULL);
        if (attached)
            rc_thread_attach();
    }
}
