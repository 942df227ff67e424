/* bench/peers/ocaml.c — the `ocaml` peer: the programs (binarytrees,
 * rbtree, rbtree_ck, deriv, nqueens, cfold) in OCaml native code, Debian's
 * ocamlopt and its tracing collector, the baseline the Perceus paper
 * compares with. One program, rcbench-ocaml (bench/peers/ocaml/, built next
 * to rcbench), serves every request: setup spawns it as a helper process
 * (bench/peers/child.h: no shell, close-on-exec pipes), OCAMLRUNPARAM and
 * CAMLRUNPARAM removed from its environment (its collector runs with the
 * defaults), its stack limit raised (cfold recurses 2^n deep, as Koka's
 * and the paper's OCaml do: 64 MB at n = 20). A run asks for RUNS runs of
 * one program at its size (bench_program_size); rcbench-ocaml times each
 * on the monotonic clock and answers their total ns (self_ns: the pipe is
 * not timed) and each answer, checked with bench_answers_*. The row's peak
 * RSS is rcbench-ocaml's (VmHWM, read before it exits). Built without
 * ocamlopt, or with rcbench-ocaml missing, the peer's rows are left out
 * (unavailable). Teardown checks its exit status.
 * Threading: single-threaded (max_threads 1): OCaml 4.13 has no domains.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/peers/child.h"
#include "rc/rc.h"

#ifndef RC_PEER_OCAML
#define RC_PEER_OCAML 0                  /* bench/CMakeLists.txt: 1 when ocamlopt built rcbench-ocaml */
#endif

#define OCAML_PROGRAM "rcbench-ocaml"
/* rcbench-ocaml's stack (soft limit, at most the hard one): cfold at the
 * paper's n = 20 needs 32-64 MB (it overflowed at 32 MB). */
#define OCAML_STACK_BYTES ((rlim_t)1 << 30)

typedef struct ocaml_ctx {
    const char *program;
    uint64_t size, last_ns;
    child_t child;
    bench_answers_t *answers;
} ocaml_ctx_t;

/* rcbench-ocaml next to this rcbench (its own path, /proc/self/exe), into
 * buf; false when that path cannot be found. */
static bool ocaml_path(char *buf, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    int w = snprintf(buf, len, "%s/%s", self, OCAML_PROGRAM);
    return w > 0 && (size_t)w < len;
}

static const char *ocaml_unavailable(void)
{
    static char why[PATH_MAX + 100];     /* driver thread only: once, in the CLI's case selection */
    char path[PATH_MAX];
    if (!RC_PEER_OCAML)
        return "built without ocamlopt (tools/deps.sh installs ocaml-nox; then configure again)";
    if (!ocaml_path(path, sizeof path)) {
        snprintf(why, sizeof why, "cannot find rcbench's own path (/proc/self/exe): %s", strerror(errno));
        return why;
    }
    if (access(path, X_OK) != 0) {
        snprintf(why, sizeof why, "no %s next to rcbench (%s: %s)", OCAML_PROGRAM, path, strerror(errno));
        return why;
    }
    return NULL;
}

/* The environment without the OCaml runtime's settings (a NULL-terminated
 * copy of the pointers; the strings stay environ's). */
static char **ocaml_env(void)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = bench_must_mem(calloc(n + 1, sizeof *env));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OCAMLRUNPARAM=", 14) != 0 && strncmp(environ[i], "CAMLRUNPARAM=", 13) != 0)
            env[k++] = environ[i];
    return env;
}

static void *ocaml_setup(const char *program, const bench_params_t *p)
{
    ocaml_ctx_t *c = bench_must_mem(calloc(1, sizeof *c));
    c->program = program;
    c->size = bench_program_size(program, p);
    c->answers = bench_answers_new(program, c->size, 1);
    char path[PATH_MAX];
    if (!ocaml_path(path, sizeof path))
        rc_fatal("ocaml: cannot find rcbench's own path (/proc/self/exe)");
    char *argv[] = { OCAML_PROGRAM, NULL };
    char **env = ocaml_env();
    child_spawn(&c->child, "ocaml", path, argv, env, OCAML_STACK_BYTES, NULL);
    free(env);
    char version[32];
    if (fscanf(c->child.from, OCAML_PROGRAM " %31s", version) != 1)
        rc_fatal("ocaml: %s did not start", path);
    return c;
}

static uint64_t ocaml_run(void *ctx, unsigned thread, uint64_t n)
{
    ocaml_ctx_t *c = ctx;
    child_follow_pin(&c->child);
    unsigned long long ns;
    if (fprintf(c->child.to, "%s %llu %llu\n", c->program, (unsigned long long)c->size, (unsigned long long)n) < 0 ||
        fflush(c->child.to) != 0 || fscanf(c->child.from, "%llu", &ns) != 1)
        rc_fatal("ocaml: %s stopped answering (%s at size %llu; it died, or said why above)", OCAML_PROGRAM,
                 c->program, (unsigned long long)c->size);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        unsigned long long answer;
        if (fscanf(c->child.from, "%llu", &answer) != 1)
            rc_fatal("ocaml: %s gave %llu of %llu answers", OCAML_PROGRAM, (unsigned long long)i,
                     (unsigned long long)n);
        bench_answers_check(c->answers, thread, answer);
        sum += answer;
    }
    c->last_ns = ns;
    return sum;
}

static uint64_t ocaml_peak_rss_kib(void *ctx)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)((ocaml_ctx_t *)ctx)->child.pid);
    FILE *f = fopen(path, "r");
    unsigned long long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static void ocaml_teardown(void *ctx)
{
    ocaml_ctx_t *c = ctx;
    child_end(&c->child);
    bench_answers_free(c->answers);
    free(c);
}

static uint64_t ocaml_self_ns(void *ctx) { return ((ocaml_ctx_t *)ctx)->last_ns; }
static const char *ocaml_verdict(void *ctx) { return bench_answers_verdict(((ocaml_ctx_t *)ctx)->answers); }

#define OCAML_SETUP(prog) \
    static void *ocaml_##prog(const bench_params_t *p, unsigned t) { (void)t; return ocaml_setup(#prog, p); }
OCAML_SETUP(binarytrees)
OCAML_SETUP(rbtree)
OCAML_SETUP(rbtree_ck)
OCAML_SETUP(deriv)
OCAML_SETUP(nqueens)
OCAML_SETUP(cfold)
#undef OCAML_SETUP

#define OCAML_PROGRAM_ROW(prog, what) \
    { .name = #prog, .op = what, .max_threads = 1, .ops_per_iter = 1, .setup = ocaml_##prog, \
      .run = ocaml_run, .teardown = ocaml_teardown, .verdict = ocaml_verdict }
static const bench_workload_t ocaml_w[] = {
    OCAML_PROGRAM_ROW(binarytrees, "run of binarytrees in OCaml"),
    OCAML_PROGRAM_ROW(rbtree, "run of rbtree in OCaml"),
    OCAML_PROGRAM_ROW(rbtree_ck, "run of rbtree_ck in OCaml"),
    OCAML_PROGRAM_ROW(deriv, "run of deriv in OCaml"),
    OCAML_PROGRAM_ROW(nqueens, "run of nqueens in OCaml"),
    OCAML_PROGRAM_ROW(cfold, "run of cfold in OCaml"),
};
#undef OCAML_PROGRAM_ROW
static const bench_family_t ocaml_family = BENCH_FAMILY(ocaml_w);

const bench_strategy_t bench_ocaml_peer = {
    .name = "ocaml",
    .header_bytes = 8,                   /* OCaml's one header word (size, colour, tag) */
    /* gc_figures NULL: OCaml 4.13 counts its collections but times no
     * pause, so the gc cells stay empty rather than show zeros. */
    .peer = true,
    .own_allocator = "ocaml",
    .self_ns = ocaml_self_ns,
    .peak_rss_kib = ocaml_peak_rss_kib,
    .unavailable = ocaml_unavailable,
    .families = { &ocaml_family },
};
