/* base/fatal.h — the one-line fatal report every module ends with.
 *
 * "rcbench: <who>: <message>\n" on stderr, flushed, then either abort()
 * (rc_vfatal_line: a bug, an invariant broken; a core for the debugger) or
 * quick_exit(3) (rc_vexit_line: the OS refused a resource, memory or a
 * file descriptor; exit status 3 as TESTING.md's P7 promises, after the
 * at_quick_exit handlers, which remove a report's temporary files). Each
 * module wraps them in its own printf-like functions (rc_fatal,
 * rc_fatal_os, _alloc_fatal); rc_vline alone is a warning (rc_warn).
 * Threading: any thread; the line is written with one fprintf.
 */
#ifndef RC_BASE_FATAL_H
#define RC_BASE_FATAL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/compiler.h"

/* "rcbench: <who>: <message>" on stderr, one fprintf (one line), flushed. */
RC_PRINTF(2, 0) static inline void rc_vline(const char *who, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "rcbench: %s: %s\n", who, line);
    fflush(stderr);
}

RC_NORETURN RC_PRINTF(2, 0) static inline void rc_vfatal_line(const char *who, const char *fmt, va_list ap)
{
    rc_vline(who, fmt, ap);
    abort();
}

RC_NORETURN RC_PRINTF(2, 0) static inline void rc_vexit_line(const char *who, const char *fmt, va_list ap)
{
    rc_vline(who, fmt, ap);
    quick_exit(3);
}

#endif /* RC_BASE_FATAL_H */
