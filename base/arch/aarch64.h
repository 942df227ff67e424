/* base/arch/aarch64.h — ARM64 specifics. Include base/arch.h, not this.
 * Weak memory model: acquire/release are ldar/stlr, fences are dmb; atomic
 * read-modify-writes are LSE single instructions (ldadd, swp, cas) with
 * -march=armv8.1-a, else ldxr/stxr loops.
 * Threading: none.
 */
#ifndef RC_BASE_ARCH_H
#error "include base/arch.h, not base/arch/aarch64.h"
#endif

/* Apple M-series and Neoverse V-class cores use 128-byte lines for
 * coherence; 128 is safe on all of them. */
#define RC_CACHE_LINE 128
#if defined(__ARM_FEATURE_ATOMICS)
#define rc_arch_name "aarch64-lse"
#else
#define rc_arch_name "aarch64-llsc"
#endif

static inline void rc_cpu_relax(void) { __asm__ __volatile__("yield" ::: "memory"); }
