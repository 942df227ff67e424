/* bench/peers/ocaml/clock.c — the monotonic clock the OCaml programs time
 * their runs with: OCaml 4.13's Unix has only wall-clock time
 * (gettimeofday), which NTP may step, so this stub reads CLOCK_MONOTONIC,
 * as rcbench's own clock does. An OCaml int (63 bits) holds ns since boot
 * for centuries; the call allocates nothing ([@@noalloc] on the OCaml side).
 * Threading: none (the OCaml programs are single-threaded).
 */
#include <time.h>

#include <caml/mlvalues.h>

value rcbench_ocaml_now_ns(value unit);

value rcbench_ocaml_now_ns(value unit)
{
    (void)unit;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return Val_long((intnat)ts.tv_sec * 1000000000 + (intnat)ts.tv_nsec);
}
