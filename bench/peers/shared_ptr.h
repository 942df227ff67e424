// bench/peers/shared_ptr.h — what the shared_ptr peer's files share
// (bench/peers/shared_ptr.cpp, the peer's table; programs_shared_ptr.cpp,
// its programs). C++ only.
// Threading: make_counts_atomic runs in a workload's setup, on the driver.
#ifndef RC_BENCH_PEERS_SHARED_PTR_H
#define RC_BENCH_PEERS_SHARED_PTR_H

#ifndef __cplusplus
#error "bench/peers/shared_ptr.h is the C++ shared_ptr peer's"
#endif

extern "C" {
#include "bench/bench.h"
}

namespace rcbench_shared_ptr {

// A one-line error and abort (as rc_fatal: the shim removes its temp report).
[[noreturn]] void fatal(const char *what);

// libstdc++ counts with plain instructions until the process's first
// pthread_create; after this every shared_ptr count is atomic.
void make_counts_atomic();

// The programs (BENCH_FOR_EACH_PROGRAM): programs_shared_ptr.cpp.
extern const bench_family_t programs_family;

}  // namespace rcbench_shared_ptr

#endif  // RC_BENCH_PEERS_SHARED_PTR_H
