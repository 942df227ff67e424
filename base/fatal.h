/* base/fatal.h — the one-line fatal report every module ends with.
 *
 * "rcbench: <who>: <message>\n" on stderr, flushed, then abort(): a clear
 * one-line error, a non-zero exit, and a core for the debugger. Each module
 * wraps it in its own printf-like function (rc_fatal, _alloc_fatal).
 * Threading: any thread; the line is written with one fprintf.
 */
#ifndef RC_BASE_FATAL_H
#define RC_BASE_FATAL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/compiler.h"

RC_NORETURN RC_PRINTF(2, 0) static inline void rc_vfatal_line(const char *who, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "rcbench: %s: %s\n", who, line);
    fflush(stderr);
    abort();
}

#endif /* RC_BASE_FATAL_H */
