/* rc/object.c — the object model, compiled once per strategy.
 *
 * Types int, tuple, list and node; the small-int cache; deallocation;
 * the cycle detector's track and untrack fast paths (a list link and a
 * count, inline; gc/gc.c has the slow paths, docs/gc.md the design).
 *
 * Deallocation is iterative and specialised: the object model's own types
 * drop their children inline, other types through their traverse. When a
 * count reaches zero, _rc_dealloc frees
 * the object and drops one reference of each child (_rc_drop_dead_ref: a
 * decref, except that deferred counting applies it at once instead of
 * logging it, so a chain dies in one safepoint); a child whose count
 * reaches zero meanwhile is not freed recursively but pushed on a
 * thread-local stack of dead objects, linked through the dead object's own
 * count word (dead, so free to reuse). The outermost _rc_dealloc pops until
 * the stack is empty. A chain of 10 million nodes therefore needs one C
 * frame, and no memory beyond the objects themselves (CPython's trashcan
 * bounds depth the same way, with a threshold instead).
 *
 * Debug builds poison a freed object's count word with RC_REFCNT_FREED and
 * keep it in a per-thread quarantine of RC_DEBUG_QUARANTINE objects before
 * the memory goes back to the allocator, so a decref of a recently freed
 * object is caught with its address and type.
 *
 * Threading: constructors and _rc_dealloc may run on any thread; the dead
 * stack and the quarantine are thread-local. Objects follow the strategy's
 * rules.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "rc/rc.h"

const rc_strategy_t rc_strategy_desc = {
    .name = RC_STRATEGY_NAME,
    .uses_gil = rc_uses_gil,
    .header_bytes = sizeof(rc_obj_t),
    .count_bytes = offsetof(rc_obj_t, type),
};

/* ---- allocation and accounting ---------------------------------------- */

const rc_gc_hooks_t *_rc_gc_hooks;   /* set before main by the collector, if linked */
_Thread_local rc_gc_local_t _rc_gc_local = {
    .tag = RC_GC_TAG_UNARMED, .high = INT64_MIN, .low = INT64_MAX, .floor = INT64_MIN,
};

/* A block of `size` bytes (`head`: a container's GC header in front),
 * its count 1 and its type set; the rest is the constructor's to write. */
static RC_ALWAYS_INLINE rc_obj_t *obj_alloc(const rc_type_t *type, size_t head, size_t size)
{
    char *block = alloc_malloc(head + size);
    if (RC_UNLIKELY(block == NULL))
        return NULL;
    rc_obj_t *o = (rc_obj_t *)(block + head);
    _rc_init_mortal(o);
    o->type = type;
    _rc_counter_bump_owner(&rc_thread_self()->objs_allocated);
    return o;
}

#if RC_DEBUG
/* Quarantine ring of poisoned objects (debug builds), allocated on first
 * use so it costs no thread-local space (glibc carves static TLS out of
 * each thread's stack). Each entry remembers the backend that owns the
 * block, so a backend switch between benchmarks frees it correctly. */
typedef struct quarantined {
    void *block;
    size_t size;
    const alloc_backend_t *backend;
} quarantined_t;
static _Thread_local quarantined_t *quarantine;     /* RC_DEBUG_QUARANTINE entries */
static _Thread_local unsigned quarantine_next;
static pthread_key_t quarantine_key;
static pthread_once_t quarantine_once = PTHREAD_ONCE_INIT;

static void quarantine_flush(void *unused)
{
    (void)unused;
    quarantined_t *q = quarantine;
    quarantine = NULL;                  /* re-armed if this thread frees again */
    quarantine_next = 0;
    for (unsigned i = 0; q && i < RC_DEBUG_QUARANTINE; i++)
        if (q[i].block)
            q[i].backend->free(q[i].block, q[i].size);
    free(q);
}

static void quarantine_key_create(void)
{
    if (pthread_key_create(&quarantine_key, quarantine_flush) != 0)
        rc_fatal_os("pthread_key_create failed for the debug quarantine");
}

static void quarantine_put(rc_obj_t *o, void *block, size_t size)
{
    if (RC_UNLIKELY(quarantine == NULL)) {
        (void)pthread_once(&quarantine_once, quarantine_key_create);
        quarantine = calloc(RC_DEBUG_QUARANTINE, sizeof *quarantine);
        if (quarantine == NULL || pthread_setspecific(quarantine_key, quarantine) != 0)
            rc_fatal_os("out of memory for the debug quarantine");
    }
    _rc_word_set(o, RC_REFCNT_FREED);
    quarantined_t old = quarantine[quarantine_next];
    quarantine[quarantine_next] = (quarantined_t){ block, size, alloc_current };
    quarantine_next = (quarantine_next + 1) % RC_DEBUG_QUARANTINE;
    if (old.block)
        old.backend->free(old.block, old.size);
}
#endif

/* Gives back o's block: `head` bytes in front of it, `size` from it, as
 * it was allocated. */
static RC_ALWAYS_INLINE void block_free(rc_obj_t *o, size_t head, size_t size)
{
#if RC_DEBUG
    quarantine_put(o, (char *)o - head, head + size);
#else
    alloc_free((char *)o - head, head + size);
#endif
}

static size_t obj_size(const rc_obj_t *o)
{
    const rc_type_t *t = o->type;
    return t->basic_size + (t->items_of ? t->item_size * t->items_of(o) : 0);
}

static size_t head_bytes(const rc_type_t *type) { return type->gc ? RC_GC_HEAD_BYTES : 0; }

void _rc_gc_free_block(rc_obj_t *o) { block_free(o, head_bytes(o->type), obj_size(o)); }

void _rc_gc_check_head(const void *h)
{
    if (RC_UNLIKELY(((uintptr_t)h & ~RC_GC_PTR_MASK) != 0))
        rc_fatal("gc: a container's header at %p is not 16-byte aligned below 2^48: the 16-byte "
                 "header keeps its flags and owner in the links' spare bits (docs/gc.md) [strategy %s]",
                 h, RC_STRATEGY_NAME);
}

/* A container is fully made: onto this thread's youngest generation, or
 * (the bound reached, unarmed, no collector) to the collector's slow path,
 * which may collect first. Generation 0's next words carry generation 0:
 * bare pointers, like its head's prev. */
static RC_ALWAYS_INLINE rc_obj_t *gc_track(rc_obj_t *o)
{
    rc_gc_local_t *g = &_rc_gc_local;
    rc_gc_head_t *h = rc_gc_head(o);
#if RC_DEBUG
    _rc_gc_check_head(h);
#endif
    if (RC_LIKELY(g->local < g->high)) {
        g->local++;
        rc_gc_head_t *young = g->young, *last = (rc_gc_head_t *)rc_gc_prev(young);
        rc_gc_set_prev(h, (uintptr_t)last | g->tag);
        h->next = (uintptr_t)young;
        last->next = (uintptr_t)h;
        rc_gc_set_prev(young, (uintptr_t)h);
    } else if (_rc_gc_hooks != NULL) {
        _rc_gc_hooks->track(o);
    } else {
        h->next = 0;                     /* no collector: untracked */
        rc_gc_set_prev(h, 0);
    }
    return o;
}

/* A container died: unlinked from this thread's list, or (another
 * thread's, flagged, the bound reached, unarmed) the collector's slow
 * path. True: the collector keeps the block for now. The next header's
 * prev keeps its own owner and flags; the previous header's next takes
 * ours as it is (the same list, the same generation bits). */
static RC_ALWAYS_INLINE bool gc_untrack(rc_obj_t *o)
{
    rc_gc_local_t *g = &_rc_gc_local;
    rc_gc_head_t *h = rc_gc_head(o);
    uintptr_t prev = rc_gc_prev(h);
    if (RC_LIKELY(g->local > g->low && (prev & RC_GC_META_MASK) == g->tag)) {
        g->local--;
        uintptr_t next = h->next;
        rc_gc_head_t *p = rc_gc_ptr(prev), *n = rc_gc_ptr(next);
        p->next = next;
        rc_gc_set_prev(n, (rc_gc_prev(n) & RC_GC_META_MASK) | (uintptr_t)p);
        return false;
    }
    return _rc_gc_hooks != NULL && _rc_gc_hooks->untrack(o);
}

static RC_ALWAYS_INLINE void count_freed(void)
{
    _rc_counter_bump_owner(&rc_thread_self()->objs_freed);
}

/* Frees a dead int (no children, no header). */
static RC_ALWAYS_INLINE void int_free(rc_obj_t *o)
{
    count_freed();
    block_free(o, 0, sizeof(rc_int_t));
}

/* Frees a dead container of `size` bytes whose children are dropped. */
static RC_ALWAYS_INLINE void container_free(rc_obj_t *o, size_t size)
{
    count_freed();
    if (!gc_untrack(o))
        block_free(o, RC_GC_HEAD_BYTES, size);
}

/* ---- iterative deallocation ------------------------------------------- */

static _Thread_local rc_obj_t *dead_stack;     /* objects at zero waiting to be freed */
static _Thread_local bool dealloc_active;

static void release_child(rc_obj_t *child, void *arg)
{
    (void)arg;
    _rc_drop_dead_ref(child);   /* may re-enter _rc_dealloc, which then only pushes */
}

static void list_free_items(rc_obj_t *o);

static RC_ALWAYS_INLINE void drop_slots(rc_obj_t *const *slots, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (slots[i])
            _rc_drop_dead_ref(slots[i]);   /* may re-enter _rc_dealloc, which then only pushes */
}

/* Drops o's children and frees it. The object model's own types inline,
 * no visit callback per child; other types through their traverse. */
static void dealloc_one(rc_obj_t *o)
{
    const rc_type_t *t = o->type;
    if (t == &rc_type_node) {
        rc_node_t *n = (rc_node_t *)o;
        uint32_t k = n->nslots;
        drop_slots(n->slots, k);
        container_free(o, sizeof(rc_node_t) + k * sizeof(rc_obj_t *));
    } else if (t == &rc_type_int) {
        int_free(o);
    } else if (t == &rc_type_tuple) {
        rc_tuple_t *tu = (rc_tuple_t *)o;
        size_t k = (size_t)tu->size;
        drop_slots(tu->items, k);
        container_free(o, sizeof(rc_tuple_t) + k * sizeof(rc_obj_t *));
    } else if (t == &rc_type_list) {
        rc_list_t *l = (rc_list_t *)o;
        for (int64_t i = 0; i < l->size; i++)
            _rc_drop_dead_ref(l->items[i]);
        list_free_items(o);
        container_free(o, sizeof(rc_list_t));
    } else {
        rc_traverse(o, release_child, NULL);
        count_freed();
        if (t->free_extra)
            t->free_extra(o);
        if (!t->gc || !gc_untrack(o))
            block_free(o, head_bytes(t), obj_size(o));
    }
}

static RC_NOINLINE void dealloc_all(rc_obj_t *o)
{
    dealloc_active = true;
    for (;;) {
        dealloc_one(o);
        o = dead_stack;
        if (o == NULL)
            break;
        dead_stack = _rc_dead_next(o);
    }
    dealloc_active = false;
}

/* The entry: a child that dies inside dealloc_all only goes on the stack
 * (a few instructions, no frame); the outermost call frees them all. An
 * int has no children: freed here, without the loop's frame. */
void _rc_dealloc(rc_obj_t *o)
{
    if (dealloc_active) {
        _rc_dead_next(o) = dead_stack;
        dead_stack = o;
        return;
    }
    if (o->type == &rc_type_int) {
        int_free(o);
        return;
    }
    dealloc_all(o);
}

void _rc_fault_underflow(const rc_obj_t *o)
{
    rc_fatal("decref below zero: object %p (%s) has count 0 [strategy %s]",
             (const void *)o, o->type->name, RC_STRATEGY_NAME);
}

void _rc_fault_freed(const rc_obj_t *o, const char *op)
{
    rc_fatal("%s of a freed object: object %p (%s) [strategy %s]",
             op, (const void *)o, o->type->name, RC_STRATEGY_NAME);
}

void rc_debug_set_refcnt(rc_obj_t *o, uint64_t count) { _rc_count_set(o, count); }

/* ---- int and the small-int cache -------------------------------------- */

const rc_type_t rc_type_int = {
    .name = "int", .basic_size = sizeof(rc_int_t),
};

#define SMALL_INT_COUNT (RC_SMALL_INT_MAX - RC_SMALL_INT_MIN + 1)
/* One array on the immortal arena (alloc_immortal), filled before main and
 * never written again: the small ints share no cache line with anything a
 * heap writes, whatever backend is current, and a free of one is caught
 * by the arena's debug checks. Priority 101, the earliest a program may
 * use, runs before default-priority constructors and C++ static
 * initialisers, so no other initialiser can see them uninitialised. The
 * pointer itself is written once, here. */
static rc_int_t *small_ints;

__attribute__((constructor(101))) static void small_ints_init(void)
{
    small_ints = alloc_immortal(SMALL_INT_COUNT * sizeof(rc_int_t));
    if (small_ints == NULL)
        rc_fatal_os("out of memory allocating the small-int cache");
    for (int i = 0; i < SMALL_INT_COUNT; i++) {
        _rc_init_immortal(&small_ints[i].ob);
        small_ints[i].ob.type = &rc_type_int;
        small_ints[i].value = RC_SMALL_INT_MIN + i;
    }
}

rc_obj_t *rc_small_int(int64_t value)
{
    if (value < RC_SMALL_INT_MIN || value > RC_SMALL_INT_MAX)
        return NULL;
    return &small_ints[value - RC_SMALL_INT_MIN].ob;
}

rc_obj_t *rc_int_new_uncached(int64_t value)
{
    rc_obj_t *o = obj_alloc(&rc_type_int, 0, sizeof(rc_int_t));
    if (o)
        ((rc_int_t *)o)->value = value;
    return o;
}

rc_obj_t *rc_int_new(int64_t value)
{
    rc_obj_t *cached = rc_small_int(value);
    if (cached) {
#ifdef RC_STRATEGY_CENSUS
        _rc_census_small_int_ref(value);   /* a new reference, as CPython's incref would count it */
#endif
        return cached;                  /* immortal: no count written */
    }
    rc_obj_t *o = obj_alloc(&rc_type_int, 0, sizeof(rc_int_t));
    if (o)
        ((rc_int_t *)o)->value = value;
    return o;
}

/* ---- fixed slot arrays (tuple items, node slots; NULL = empty) -------- */

static void slots_traverse(rc_obj_t **slots, size_t n, rc_visit_fn visit, void *arg)
{
    for (size_t i = 0; i < n; i++)
        if (slots[i])
            visit(slots[i], arg);
}

static void slots_clear(rc_obj_t **slots, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rc_obj_t *child = slots[i];
        slots[i] = NULL;             /* unlink first: the decref may free */
        if (child)
            rc_decref(child);
    }
}

/* ---- tuple ------------------------------------------------------------ */

static size_t tuple_items(const rc_obj_t *o) { return (size_t)((const rc_tuple_t *)o)->size; }

static void tuple_traverse(rc_obj_t *o, rc_visit_fn visit, void *arg)
{
    slots_traverse(((rc_tuple_t *)o)->items, (size_t)((rc_tuple_t *)o)->size, visit, arg);
}

static void tuple_clear(rc_obj_t *o) { slots_clear(((rc_tuple_t *)o)->items, (size_t)((rc_tuple_t *)o)->size); }

const rc_type_t rc_type_tuple = {
    .name = "tuple", .gc = true, .basic_size = sizeof(rc_tuple_t), .item_size = sizeof(rc_obj_t *),
    .items_of = tuple_items, .traverse = tuple_traverse, .clear = tuple_clear,
};

rc_obj_t *rc_tuple_new(int64_t size)
{
    if (RC_UNLIKELY(size < 0))
        rc_fatal("rc_tuple_new: negative size %lld [strategy %s]", (long long)size, RC_STRATEGY_NAME);
    if (RC_UNLIKELY((uint64_t)size > (SIZE_MAX - sizeof(rc_tuple_t)) / sizeof(rc_obj_t *)))
        return NULL;                 /* more than any heap holds: out of memory */
    size_t bytes = sizeof(rc_tuple_t) + (size_t)size * sizeof(rc_obj_t *);
    rc_obj_t *o = obj_alloc(&rc_type_tuple, RC_GC_HEAD_BYTES, bytes);
    if (o == NULL)
        return NULL;
    ((rc_tuple_t *)o)->size = size;
    memset(((rc_tuple_t *)o)->items, 0, (size_t)size * sizeof(rc_obj_t *));
    return gc_track(o);
}

/* ---- list ------------------------------------------------------------- */

static void list_traverse(rc_obj_t *o, rc_visit_fn visit, void *arg)
{
    rc_list_t *l = (rc_list_t *)o;
    for (int64_t i = 0; i < l->size; i++)
        visit(l->items[i], arg);
}

void rc_list_clear(rc_obj_t *o)
{
    rc_list_t *l = (rc_list_t *)o;
    rc_obj_t **items = l->items;
    int64_t n = l->size, cap = l->cap;
    l->items = NULL;                 /* detach first: a decref may reach this list again */
    l->size = l->cap = 0;
    for (int64_t i = 0; i < n; i++)
        rc_decref(items[i]);
    if (items)
        alloc_free(items, (size_t)cap * sizeof(rc_obj_t *));
}

static void list_free_items(rc_obj_t *o)
{
    rc_list_t *l = (rc_list_t *)o;
    if (l->items)
        alloc_free(l->items, (size_t)l->cap * sizeof(rc_obj_t *));
    l->items = NULL;
}

const rc_type_t rc_type_list = {
    .name = "list", .gc = true, .basic_size = sizeof(rc_list_t),
    .traverse = list_traverse, .clear = rc_list_clear, .free_extra = list_free_items,
};

rc_obj_t *rc_list_new(void)
{
    rc_obj_t *o = obj_alloc(&rc_type_list, RC_GC_HEAD_BYTES, sizeof(rc_list_t));
    if (o == NULL)
        return NULL;
    rc_list_t *l = (rc_list_t *)o;
    l->size = l->cap = 0;
    l->items = NULL;
    return gc_track(o);
}

bool rc_list_append(rc_obj_t *o, rc_obj_t *item)
{
    rc_list_t *l = (rc_list_t *)o;
    if (l->size == l->cap) {
        /* Growth 1.5x + 4, CPython's list_resize shape: amortised O(1). */
        int64_t cap = l->cap + (l->cap >> 1) + 4;
        rc_obj_t **items = alloc_malloc((size_t)cap * sizeof(rc_obj_t *));
        if (items == NULL)
            return false;
        if (l->size)
            memcpy(items, l->items, (size_t)l->size * sizeof(rc_obj_t *));
        if (l->items)
            alloc_free(l->items, (size_t)l->cap * sizeof(rc_obj_t *));
        l->items = items;
        l->cap = cap;
    }
    rc_incref(item);
    l->items[l->size++] = item;
    return true;
}

void rc_list_set(rc_obj_t *o, int64_t i, rc_obj_t *item)
{
    rc_list_t *l = (rc_list_t *)o;
    rc_obj_t *old = l->items[i];
    l->items[i] = item;
    rc_decref(old);
}

/* ---- node ------------------------------------------------------------- */

size_t rc_node_items(const rc_obj_t *o) { return ((const rc_node_t *)o)->nslots; }

void rc_node_traverse(rc_obj_t *o, rc_visit_fn visit, void *arg)
{
    slots_traverse(((rc_node_t *)o)->slots, ((rc_node_t *)o)->nslots, visit, arg);
}

void rc_node_clear(rc_obj_t *o) { slots_clear(((rc_node_t *)o)->slots, ((rc_node_t *)o)->nslots); }

const rc_type_t rc_type_node = {
    .name = "node", .gc = true, .basic_size = sizeof(rc_node_t), .item_size = sizeof(rc_obj_t *),
    .items_of = rc_node_items, .traverse = rc_node_traverse, .clear = rc_node_clear,
};

static RC_ALWAYS_INLINE rc_obj_t *node_new(const rc_type_t *type, uint32_t nslots, int64_t value)
{
    if (RC_UNLIKELY(nslots < 1 || nslots > RC_NODE_MAX_SLOTS))
        rc_fatal("rc_node_new: %u slots, outside 1..%d [strategy %s]", (unsigned)nslots,
                 RC_NODE_MAX_SLOTS, RC_STRATEGY_NAME);
    rc_obj_t *o = obj_alloc(type, RC_GC_HEAD_BYTES, sizeof(rc_node_t) + nslots * sizeof(rc_obj_t *));
    if (o == NULL)
        return NULL;
    rc_node_t *n = (rc_node_t *)o;
    n->value = value;
    n->nslots = nslots;
    /* Two stores for the common shapes (a memset of a variable size is a
     * `rep stos` here, with its start-up cost); nslots >= 1. */
    n->slots[0] = NULL;
    if (nslots > 1) {
        n->slots[1] = NULL;
        if (nslots > 2)
            memset(n->slots + 2, 0, (nslots - 2) * sizeof(rc_obj_t *));
    }
    return gc_track(o);
}

rc_obj_t *rc_node_new_typed(const rc_type_t *type, uint32_t nslots, int64_t value) { return node_new(type, nslots, value); }
rc_obj_t *rc_node_new(uint32_t nslots, int64_t value) { return node_new(&rc_type_node, nslots, value); }

