/* base/compiler.h — compiler attributes used across rcbench, defined once.
 *
 * Every hint the hot paths rely on (branch prediction, inlining, cold slow
 * paths, cache-line alignment) is spelled here so a reviewer can grep for
 * it and a port to another compiler changes one file. gcc >= 12 and
 * clang >= 14 are supported; anything else is refused.
 * Threading: none (macros only).
 */
#ifndef RC_BASE_COMPILER_H
#define RC_BASE_COMPILER_H

#if !defined(__GNUC__)
#error "rcbench needs gcc or clang (GNU C extensions for attributes and asm)"
#endif

#define RC_LIKELY(x)      __builtin_expect(!!(x), 1)
#define RC_UNLIKELY(x)    __builtin_expect(!!(x), 0)
#define RC_NOINLINE       __attribute__((noinline))
#define RC_COLD           __attribute__((cold))
#define RC_ALWAYS_INLINE  inline __attribute__((always_inline))
#define RC_NORETURN       __attribute__((noreturn))
#define RC_UNUSED         __attribute__((unused))
#define RC_PRINTF(f, a)   __attribute__((format(printf, f, a)))
/* A slow path: out of line, never inlined into the caller's fast path, and
 * placed with the cold code so it does not dilute the hot i-cache lines. */
#define RC_SLOW_PATH      RC_NOINLINE RC_COLD

/* Compiler-only barrier: forces memory to be re-read; emits no instruction.
 * Benchmarks and tests use it to stop the optimiser deleting loops. */
#define RC_COMPILER_BARRIER() __asm__ __volatile__("" ::: "memory")

/* Sanitizer detection, unified over gcc (__SANITIZE_*__) and clang
 * (__has_feature). */
#if defined(__SANITIZE_THREAD__)
#define RC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RC_TSAN 1
#endif
#endif
#ifndef RC_TSAN
#define RC_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define RC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RC_ASAN 1
#endif
#endif
#ifndef RC_ASAN
#define RC_ASAN 0
#endif

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "rcbench assumes a little-endian target (x86-64, ARM64): see rc/strategy/plain.h"
#endif

#endif /* RC_BASE_COMPILER_H */
