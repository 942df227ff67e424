/* base/arch.h — picks the one architecture header; anything else is refused.
 *
 * Each arch header provides: RC_CACHE_LINE (bytes; alignment for data that
 * threads write independently), rc_cpu_relax() (spin-wait hint),
 * rc_arch_name (string for reports).
 * Threading: none.
 */
#ifndef RC_BASE_ARCH_H
#define RC_BASE_ARCH_H

#if defined(__x86_64__)
#include "base/arch/x86_64.h"
#elif defined(__aarch64__)
#include "base/arch/aarch64.h"
#else
#error "rcbench supports x86-64 and ARM64 only: add base/arch/<arch>.h"
#endif

#define RC_CACHE_ALIGNED __attribute__((aligned(RC_CACHE_LINE)))

#endif /* RC_BASE_ARCH_H */
