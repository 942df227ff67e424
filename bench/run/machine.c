/* bench/run/machine.c — the machine and build facts of bench/run/machine.h:
 * uname, /proc/cpuinfo (x86's "model name"; aarch64's implementer and
 * part, which the kernel gives instead), the compiler's version macros,
 * the git revision baked in at configure time, and HWCAP_ATOMICS.
 * Threading: see the header.
 */
#include "bench/run/machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

const char *machine_arch(void)
{
    static char arch[65];
    struct utsname u;
    if (arch[0] == '\0')
        snprintf(arch, sizeof arch, "%s", uname(&u) == 0 ? u.machine : "unknown");
    return arch;
}

const char *machine_cpu_model(void)
{
    static char model[160];
    if (model[0] != '\0')
        return model;
    snprintf(model, sizeof model, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return model;
    char line[512], impl[32] = "", part[32] = "";
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (colon == NULL)
            continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\n")] = '\0';
        if (strncmp(line, "model name", 10) == 0) {
            snprintf(model, sizeof model, "%s", v);
            break;
        }
        if (strncmp(line, "CPU implementer", 15) == 0 && impl[0] == '\0')   /* arm64 */
            snprintf(impl, sizeof impl, "%s", v);
        if (strncmp(line, "CPU part", 8) == 0 && part[0] == '\0')
            snprintf(part, sizeof part, "%s", v);
    }
    fclose(f);
    if (strcmp(model, "unknown") == 0 && impl[0])
        snprintf(model, sizeof model, "implementer %s part %s", impl, part);
    return model;
}

const char *machine_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}

const char *machine_revision(void)
{
#ifdef RCBENCH_REVISION
    return RCBENCH_REVISION;
#else
    return "unknown";
#endif
}

/* Which atomic instructions the build's read-modify-writes are (the
 * `atomics` column; RCBENCH_ARM64_ATOMICS in CMakeLists.txt):
 *   lse           built for v8.1: ldadd/cas inline;
 *   llsc          built for v8.0 without outline atomics: ldxr/stxr loops;
 *   outline-lse,  the compiler's default: calls into libgcc's helpers, which
 *   outline-llsc  use LSE when the kernel reports HWCAP_ATOMICS (as read
 *                 here), LL/SC otherwise. */
const char *machine_atomics(void)
{
#if defined(__aarch64__) && defined(__ARM_FEATURE_ATOMICS)
    return "lse";
#elif defined(__aarch64__) && defined(RC_ARM64_INLINE_LLSC)
    return "llsc";
#elif defined(__aarch64__)
    return (getauxval(AT_HWCAP) & HWCAP_ATOMICS) ? "outline-lse" : "outline-llsc";
#elif defined(__x86_64__)
    return "x86-lock";
#else
    return "unknown";
#endif
}

