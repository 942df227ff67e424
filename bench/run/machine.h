/* bench/run/machine.h — what the reports say about the machine and the
 * build: the architecture, the CPU's model, the compiler, the source
 * revision and the atomics the build uses. One probe each, read once.
 * Threading: any thread (each answer is computed on first use by the
 * driver, before any worker runs, and cached).
 */
#ifndef RC_BENCH_RUN_MACHINE_H
#define RC_BENCH_RUN_MACHINE_H

#ifdef __cplusplus
extern "C" {
#endif

/* uname's machine, e.g. "x86_64"; the CPU's model name; the C compiler;
 * the source revision; which atomics the build uses. */
const char *machine_arch(void);
const char *machine_cpu_model(void);
const char *machine_compiler(void);
const char *machine_revision(void);
const char *machine_atomics(void);

#ifdef __cplusplus
}
#endif

#endif /* RC_BENCH_RUN_MACHINE_H */
