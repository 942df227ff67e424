/* base/clock.h — the one monotonic clock rcbench reads, in nanoseconds.
 * CLOCK_MONOTONIC: immune to wall-clock jumps. For pauses, deadlines and
 * benchmark timing alike.
 * Threading: none (a system call).
 */
#ifndef RC_BASE_CLOCK_H
#define RC_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t rc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* RC_BASE_CLOCK_H */
