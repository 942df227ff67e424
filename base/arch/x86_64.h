/* base/arch/x86_64.h — x86-64 specifics. Include base/arch.h, not this.
 * TSO memory model: acquire loads and release stores are plain moves;
 * read-modify-writes are lock-prefixed and full barriers.
 * Threading: none.
 */
#ifndef RC_BASE_ARCH_H
#error "include base/arch.h, not base/arch/x86_64.h"
#endif

/* 64-byte lines; adjacent-line prefetch makes 128 the safe distance
 * between independently written fields on Intel parts. */
#define RC_CACHE_LINE 128
#define rc_arch_name "x86_64"

static inline void rc_cpu_relax(void) { __asm__ __volatile__("pause" ::: "memory"); }
