/* base/config.h — every build-time knob of rcbench, with its default.
 *
 * Knobs that change data layout are macros tested with #if; knobs that only
 * guard statements are `static const bool` tested in a plain `if`, so every
 * build type-checks the guarded code and the optimiser deletes it when off.
 * Override a macro knob with -D at configure time (CMake: RC_EXTRA_DEFS).
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

/* Most child slots a node may have (nodes are sized at creation). */
#ifndef RC_NODE_MAX_SLOTS
#define RC_NODE_MAX_SLOTS 8
#endif

#endif /* RC_BASE_CONFIG_H */
