/* base/atomic.h — C11 atomics with the memory order in the operation's name.
 *
 * House rule: no atomic operation takes its order as a parameter and none is
 * implicitly seq_cst, so `grep -n _acquire` lists every synchronisation
 * point. Every call site of a non-relaxed operation carries a comment naming
 * the operation it pairs with and what it publishes.
 * Threading: these are the primitives; the contract belongs to the caller.
 */
#ifndef RC_BASE_ATOMIC_H
#define RC_BASE_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>

#include "base/compiler.h"

/* A field written with these operations is declared RC_ATOMIC(T) so a plain
 * access to shared state stands out in review (and fails to compile for
 * most types). */
#define RC_ATOMIC(T) _Atomic(T)

#define at_load_relaxed(p)        atomic_load_explicit((p), memory_order_relaxed)
#define at_load_acquire(p)        atomic_load_explicit((p), memory_order_acquire)
#define at_store_relaxed(p, v)    atomic_store_explicit((p), (v), memory_order_relaxed)
#define at_store_release(p, v)    atomic_store_explicit((p), (v), memory_order_release)
#define at_fetch_add_relaxed(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define at_fetch_sub_relaxed(p, v) atomic_fetch_sub_explicit((p), (v), memory_order_relaxed)
#define at_fetch_sub_release(p, v) atomic_fetch_sub_explicit((p), (v), memory_order_release)
#define at_fetch_add_release(p, v) atomic_fetch_add_explicit((p), (v), memory_order_release)
#define at_fetch_add_acq_rel(p, v) atomic_fetch_add_explicit((p), (v), memory_order_acq_rel)
#define at_exchange_acq_rel(p, v) atomic_exchange_explicit((p), (v), memory_order_acq_rel)
#define at_exchange_acquire(p, v) atomic_exchange_explicit((p), (v), memory_order_acquire)
/* CAS: on success release (publishes what the caller wrote before), on
 * failure relaxed (the caller retries with the value it got back). */
#define at_cas_weak_release(p, expected, desired)                            \
    atomic_compare_exchange_weak_explicit((p), (expected), (desired),      \
                                          memory_order_release,              \
                                          memory_order_relaxed)

#define at_cas_strong_release(p, expected, desired)                          \
    atomic_compare_exchange_strong_explicit((p), (expected), (desired),    \
                                            memory_order_release,            \
                                            memory_order_relaxed)

/* CAS: on success acquire (takes over what the releaser published), on
 * failure relaxed. */
#define at_cas_strong_acquire(p, expected, desired)                          \
    atomic_compare_exchange_strong_explicit((p), (expected), (desired),    \
                                            memory_order_acquire,            \
                                            memory_order_relaxed)

/* CAS with no ordering at all, for counters that order nothing else. */
#define at_cas_weak_relaxed(p, expected, desired)                            \
    atomic_compare_exchange_weak_explicit((p), (expected), (desired),      \
                                          memory_order_relaxed,              \
                                          memory_order_relaxed)

/* The acquire half of the Arc pattern: after a release decrement observed
 * the last reference, order everything the other owners did before their
 * decrements before our teardown. On x86-64 this fence is free (TSO: a
 * compiler barrier); on ARM64 it is a real `dmb ishld`.
 * ThreadSanitizer does not model fences (gcc warns with -Wtsan), so under
 * TSan it becomes an acquire load of the same location, which synchronises
 * with the same release sequence and is what TSan understands. */
#if RC_TSAN
#define at_fence_acquire_on(p) ((void)atomic_load_explicit((p), memory_order_acquire))
#else
#define at_fence_acquire_on(p) atomic_thread_fence(memory_order_acquire)
#endif

/* A full fence: orders this thread's earlier stores before its later
 * loads (the store->load order no acquire or release gives), as epoch
 * schemes need between publishing a pointer and reading the epoch. x86-64:
 * mfence; ARM64: dmb ish. ThreadSanitizer neither models nor needs it (it
 * checks the happens-before the acquire/release operations carry; a fence
 * only forbids a reordering TSan cannot observe), so under TSan it is a
 * compiler barrier and gcc's -Wtsan stays quiet. */
#if RC_TSAN
#define at_fence_seq_cst() RC_COMPILER_BARRIER()
#else
#define at_fence_seq_cst() atomic_thread_fence(memory_order_seq_cst)
#endif

#endif /* RC_BASE_ATOMIC_H */
