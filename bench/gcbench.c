/* bench/gcbench.c — rcbench-gc: the cycle detector's cost, every strategy,
 * against CPython's own gc on a heap of the same shape, in the same run.
 *
 * Full collections: for each heap size n, the heap of bench/gcheap.h (a
 * list holding n - 1 lists, every 8th holding itself: n tracked
 * containers, all reachable) is built under every
 * strategy, then each strategy's gc_collect(2) is timed REPS times, the
 * repetitions interleaved across strategies; the median pause, ns per
 * examined object, and the pause's ratio to the smallest heap's (linear
 * growth: the ratio of the sizes). CPython: the system python3 (or
 * --python PATH) builds `[[] for _ in range(n - 1)]`, every 8th holding
 * itself, with gc disabled, and
 * times gc.collect() the same way; per object means per object gc tracks,
 * interpreter's own included (len(gc.get_objects())).
 * Young collections: 2-tuples of fresh ints kept in lists of 10000 that are
 * dropped whole (every tuple tracked; net growth makes a young collection
 * every 700), default thresholds; the pause quantiles of generation 0.
 * Usage: rcbench-gc [--sizes N,N,...] [--reps R] [--churn OPS] [--python PATH|none]
 * Bad input: one line on stderr, exit 2.
 * Threading: single-threaded (collections still stop the world: nobody
 * else is attached).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/gcbench.h"
#include "rc/rc.h"
#include "rc/strategies.h"

#define DECLARE(s) extern const bench_gc_t bench_##s##_gc;
RC_FOR_EACH_STRATEGY(DECLARE)
#define ENTRY(s) &bench_##s##_gc,
static const bench_gc_t *const strategies[] = { RC_FOR_EACH_STRATEGY(ENTRY) };
#define NSTRAT (sizeof strategies / sizeof strategies[0])
#define MAX_SIZES 8
#define MAX_REPS 51

static void usage_error(const char *flag, const char *what)
{
    fprintf(stderr, "rcbench-gc: %s: %s (usage: rcbench-gc [--sizes N,N,...] [--reps R] "
                    "[--churn OPS] [--python PATH|none])\n", flag, what);
    exit(2);
}

static uint64_t parse_u64(const char *flag, const char *s, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        char msg[128];
        snprintf(msg, sizeof msg, "expected an integer in %" PRIu64 "..%" PRIu64 ", got '%s'", lo, hi, s);
        usage_error(flag, msg);
    }
    return v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* CPython's side: one line per size, "n tracked median_ns". */
static const char *const python_script =
    "import gc, sys, time\n"
    "reps = int(sys.argv[1])\n"
    "print('python', sys.version.split()[0], flush=True)\n"
    "for n in map(int, sys.argv[2:]):\n"
    "    gc.disable()\n"
    "    x = [[] for _ in range(n - 1)]\n"
    "    for l in x[::8]:\n"
    "        l.append(l)\n"
    "    gc.collect()\n"
    "    ts = []\n"
    "    for _ in range(reps):\n"
    "        t0 = time.perf_counter_ns(); gc.collect(); ts.append(time.perf_counter_ns() - t0)\n"
    "    ts.sort()\n"
    "    print(n, len(gc.get_objects()), ts[len(ts) // 2], flush=True)\n"
    "    del x\n"
    "    gc.collect()\n";

int main(int argc, char **argv)
{
    uint64_t sizes[MAX_SIZES] = { 100000, 300000, 1000000 }, reps = 5, churn_ops = 4000000;
    int nsizes = 3;
    const char *python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (i + 1 >= argc)
            usage_error(flag, strncmp(flag, "--", 2) == 0 ? "needs a value" : "unknown argument");
        const char *v = argv[++i];
        if (strcmp(flag, "--sizes") == 0) {
            char buf[256];
            if (strlen(v) >= sizeof buf)
                usage_error(flag, "too long");
            strcpy(buf, v);
            nsizes = 0;
            for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
                if (nsizes == MAX_SIZES)
                    usage_error(flag, "at most 8 sizes");
                sizes[nsizes++] = parse_u64(flag, tok, 2, 50000000);
            }
            if (nsizes == 0)
                usage_error(flag, "no size given");
        } else if (strcmp(flag, "--reps") == 0) {
            reps = parse_u64(flag, v, 1, MAX_REPS);
        } else if (strcmp(flag, "--churn") == 0) {
            churn_ops = parse_u64(flag, v, 1, UINT64_C(1000000000000));
        } else if (strcmp(flag, "--python") == 0) {
            python = strcmp(v, "none") == 0 ? NULL : v;
        } else {
            usage_error(flag, "unknown option");
        }
    }

    printf("rcbench-gc: full collections of a list of n - 1 lists, every 8th holding itself (n tracked containers), "
           "median of %" PRIu64 ", repetitions interleaved across strategies; GC header %d bytes\n",
           reps, RC_GC_HEAD_BYTES);
    printf("%-9s %9s %9s %10s %10s %8s\n", "strategy", "n", "examined", "pause ms", "ns/object", "/first");
    static uint64_t t[NSTRAT][MAX_REPS];
    double first[NSTRAT] = { 0 };
    for (int k = 0; k < nsizes; k++) {
        void *heap[NSTRAT];
        uint64_t examined[NSTRAT] = { 0 };
        for (size_t s = 0; s < NSTRAT; s++) {
            strategies[s]->attach();
            heap[s] = strategies[s]->heap_new(sizes[k]);
            strategies[s]->detach();
        }
        for (uint64_t r = 0; r < reps; r++)
            for (size_t s = 0; s < NSTRAT; s++) {
                strategies[s]->attach();
                t[s][r] = strategies[s]->full_collect(&examined[s]);
                strategies[s]->detach();
            }
        for (size_t s = 0; s < NSTRAT; s++) {
            qsort(t[s], reps, sizeof t[s][0], cmp_u64);
            double med = (double)t[s][reps / 2];
            if (k == 0)
                first[s] = med;
            printf("%-9s %9" PRIu64 " %9" PRIu64 " %10.3f %10.2f %7.2fx\n", strategies[s]->strategy,
                   sizes[k], examined[s], med / 1e6, examined[s] ? med / (double)examined[s] : 0.0,
                   med / first[s]);
            if (examined[s] < sizes[k])
                rc_fatal("gc benchmark: %s examined %" PRIu64 " objects of a heap of %" PRIu64,
                         strategies[s]->strategy, examined[s], sizes[k]);
            strategies[s]->attach();
            strategies[s]->heap_free(heap[s]);
            strategies[s]->detach();
        }
    }

    if (python) {
        char cmd[4096];
        int len = snprintf(cmd, sizeof cmd, "'%s' -c \"$RCBENCH_GC_PY\" %" PRIu64, python, reps);
        for (int k = 0; k < nsizes && len < (int)sizeof cmd - 32; k++)
            len += snprintf(cmd + len, sizeof cmd - (size_t)len, " %" PRIu64, sizes[k]);
        setenv("RCBENCH_GC_PY", python_script, 1);
        FILE *p = popen(cmd, "r");
        char line[256], version[64] = "?";
        int rows = 0;
        while (p && fgets(line, sizeof line, p)) {
            uint64_t n, tracked, ns;
            if (sscanf(line, "python %63s", version) == 1) {
                printf("CPython %s (%s), same heap shape, gc.collect():\n", version, python);
                printf("%-9s %9s %9s %10s %10s\n", "cpython", "n", "tracked", "pause ms", "ns/object");
            } else if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64, &n, &tracked, &ns) == 3) {
                printf("%-9s %9" PRIu64 " %9" PRIu64 " %10.3f %10.2f\n", "cpython", n, tracked,
                       (double)ns / 1e6, (double)ns / (double)tracked);
                rows++;
            }
        }
        int status = p ? pclose(p) : -1;
        if (rows != nsizes || status != 0)
            printf("CPython: no comparison (%s did not run the script: status %d)\n", python, status);
    } else {
        printf("CPython: not run (--python none)\n");
    }

    printf("young collections (generation 0, default thresholds), %" PRIu64 " tuples in lists of 10000:\n",
           churn_ops);
    printf("%-9s %12s %10s %10s %10s\n", "strategy", "collections", "p50 us", "p99 us", "max us");
    for (size_t s = 0; s < NSTRAT; s++) {
        uint64_t q[4];
        strategies[s]->attach();
        strategies[s]->churn(churn_ops, q);
        strategies[s]->detach();
        printf("%-9s %12" PRIu64 " %10.1f %10.1f %10.1f\n", strategies[s]->strategy, q[3],
               (double)q[0] / 1e3, (double)q[1] / 1e3, (double)q[2] / 1e3);
    }
    rc_stats_t st = rc_stats_get();
    if (st.live != 0) {
        fprintf(stderr, "rcbench-gc: leak: %" PRIu64 " objects still live after the run\n", st.live);
        return 1;
    }
    return 0;
}
