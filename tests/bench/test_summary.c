/* tests/bench/test_summary.c — the closing summary (bench/report/report.c)
 * on synthetic rows: it opens with who wins where (the fastest strategy
 * per workload and thread count, the runner-up's, atomic's and the best
 * peer's time over it); each workload's heading names its unit, the rows'
 * unit (ns per op, us or ms per collection for gc_pause_*, per run for a
 * program; a workload named like neither reads its rows' unit too: the
 * summary derives none from the name), and the CSV carries it; figures
 * have three significant digits; the near/far split appears only when the
 * run saw both placements, and then only on lines that saw both; the
 * gc_pause peers are compared per tracked container.
 * Threading: one thread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/report/report.h"
#include "tests/check.h"

static void add(const char *w, const char *s, const char *a, unsigned t, unsigned rep, double ns, double c2c,
                bool peer, int64_t tracked)
{
    report_row_t r;
    memset(&r, 0, sizeof r);
    snprintf(r.workload, sizeof r.workload, "%s", w);
    snprintf(r.strategy, sizeof r.strategy, "%s", s);
    snprintf(r.allocator, sizeof r.allocator, "%s", a);
    r.threads = t;
    r.repetition = rep;
    r.iterations = 10;
    r.ns_per_op = ns;
    r.ops_per_sec = 1e9 / ns;
    r.c2c_ns = t > 1 ? c2c : -1;
    r.overlap = r.availability = 1;
    r.peer = peer;
    r.gc_tracked = tracked;
    r.program = strcmp(w, "binarytrees") == 0;
    /* The unit as bench_workload_unit would give it (the workloads' entries). */
    snprintf(r.unit, sizeof r.unit, "%s",
             r.program || strcmp(w, "replay") == 0 ? "run"
             : strncmp(w, "gc_pause", 8) == 0  ? "collection"
                                                : "op");
    snprintf(r.binding, sizeof r.binding, "pu0");
    report_add(&r);
}

/* The summary of the rows added so far, as one string (malloc'd). */
static char *summary(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL) {
        perror("open_memstream");
        exit(3);
    }
    report_summary(f);
    fclose(f);
    return buf;
}

/* The line of text that starts with prefix (after leading spaces), or NULL. */
static const char *line_of(const char *text, const char *prefix)
{
    static char line[512];
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *q = p;
        while (*q == ' ' && q < p + n)
            q++;
        if (strncmp(q, prefix, strlen(prefix)) == 0 && n < sizeof line) {
            memcpy(line, p, n);
            line[n] = '\0';
            return line;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* No figure in the text has more than 4 digits in a row (3 significant
 * digits, 4 for 1000-9999 of a unit): "12452632.57" is gone. */
static bool short_figures(const char *text)
{
    int run = 0;
    for (const char *p = text; *p; p++) {
        run = (*p >= '0' && *p <= '9') ? run + 1 : 0;
        if (run > 4) {
            fprintf(stderr, "a long figure near: %.40s\n", p - run);
            return false;
        }
    }
    return true;
}

/* The CSV of the rows added so far (malloc'd), written by report_stage_csv
 * and report_commit into a directory of its own, then removed. */
static char *csv(void)
{
    char dir[] = "/tmp/rcbench-summary-XXXXXX", path[64], err[256];
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(3);
    }
    snprintf(path, sizeof path, "%s/rows.csv", dir);
    if (!report_stage_csv(path, err, sizeof err) || !report_commit(err, sizeof err)) {
        fprintf(stderr, "the CSV: %s\n", err);
        exit(3);
    }
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1 << 16);
    if (f == NULL || buf == NULL) {
        perror(path);
        exit(3);
    }
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
    rmdir(dir);
    return buf;
}

/* Every CSV line of workload W (its first field) ends with ",UNIT". */
static bool csv_unit(const char *text, const char *w, const char *unit)
{
    char start[64], end[32];
    snprintf(start, sizeof start, "\n%s,", w);
    snprintf(end, sizeof end, ",%s\n", unit);
    unsigned lines = 0;
    for (const char *p = strstr(text, start); p; p = strstr(p + 1, start), lines++) {
        const char *eol = strchr(p + 1, '\n');
        if (eol == NULL || (size_t)(eol + 1 - p) < strlen(end) || strncmp(eol + 1 - strlen(end), end, strlen(end))) {
            fprintf(stderr, "%s: a CSV line not in %s: %.*s\n", w, unit, eol ? (int)(eol - p) : 80, p + 1);
            return false;
        }
    }
    return lines > 0;
}

int main(void)
{
    /* One placement only (all near): no split, no place column. */
    for (unsigned rep = 0; rep < 3; rep++) {
        add("tree", "plain", "arena", 1, rep, 10.0 + rep, 0, false, -1);
        add("tree", "atomic", "arena", 1, rep, 20.0 + rep, 0, false, -1);
        add("tree", "biased", "arena", 1, rep, 15.0, 0, false, -1);
        add("tree", "none", "arena", 1, rep, 5.0, 0, true, -1);
        add("tree", "plain", "arena", 2, rep, 40.0, 80, false, -1);
        add("tree", "atomic", "arena", 2, rep, 30.0, 80, false, -1);
        add("gc_pause_1m", "plain", "arena", 1, rep, 12452632.57, 0, false, 1000000);
        add("gc_pause_1m", "atomic", "arena", 1, rep, 14000000.0, 0, false, 1000000);
        add("gc_pause_1m", "cpython-gc", "pymalloc", 1, rep, 48000000.0, 0, true, 2000000);
        add("gc_pause_10k", "plain", "arena", 1, rep, 95000.0, 0, false, 10000);
        add("gc_pause_10k", "atomic", "arena", 1, rep, 99000.0, 0, false, 10000);
        add("binarytrees", "plain", "arena", 1, rep, 45.1e6, 0, false, -1);
        add("binarytrees", "atomic", "arena", 1, rep, 50.0e6, 0, false, -1);
        add("replay", "plain", "arena", 1, rep, 2.5e6, 0, false, -1);   /* in runs, not a program */
        add("replay", "atomic", "arena", 1, rep, 3.0e6, 0, false, -1);
    }
    char *s = summary();
    printf("%s", s);
    const char *who = strstr(s, "Who wins where");
    CHECK(who != NULL);
    CHECK(who && strstr(s, "\ntree (") > who);               /* the first block comes first */
    const char *l = line_of(s, "tree                 1");
    CHECK(l && strstr(l, "plain") && strstr(l, "11.0 ns/op") && strstr(l, "biased") && strstr(l, "1.36x") &&
          strstr(l, "1.91x") && strstr(l, "none/arena 0.455x"));
    l = line_of(s, "tree                 2");
    CHECK(l && strstr(l, "atomic") && strstr(l, "30.0 ns/op") && strstr(l, "1.33x"));
    l = line_of(s, "gc_pause_1m          1");
    CHECK(l && strstr(l, "12.5 ms/collection") && strstr(l, "1.12x"));
    /* CPython: 48 ms for 2M containers against 12.5 ms for 1M: 1.93x per container. */
    CHECK(l && strstr(l, "cpython-gc/pymalloc 1.93x per container"));
    l = line_of(s, "gc_pause_10k         1");
    CHECK(l && strstr(l, "95.0 us/collection"));
    CHECK(strstr(s, "\ntree (ns per op)") != NULL);
    CHECK(strstr(s, "\ngc_pause_1m (ms per collection)") != NULL);
    CHECK(strstr(s, "\ngc_pause_10k (us per collection)") != NULL);
    CHECK(strstr(s, "\nbinarytrees (ms per run)") != NULL);
    CHECK(strstr(s, "\nreplay (ms per run)") != NULL);     /* the rows' unit, not the name's */
    l = line_of(s, "binarytrees          1");
    CHECK(l && strstr(l, "45.1 ms/run"));
    CHECK(strstr(s, "place") == NULL);                       /* one placement: no split */
    CHECK(line_of(s, "arena      2       near") == NULL && line_of(s, "arena      2       far") == NULL);
    l = line_of(s, "arena      1            21.0 ns");
    CHECK(l && strstr(l, "0.524x") && strstr(l, "0.714x") && strstr(l, "0.238x"));
    CHECK(strstr(s, "12452632") == NULL && short_figures(s));
    free(s);

    /* The CSV carries each row's unit, in the last column. */
    s = csv();
    CHECK(strncmp(s, report_columns(), strlen(report_columns())) == 0);
    CHECK(strstr(report_columns(), ",unit") && !strcmp(strstr(report_columns(), ",unit"), ",unit"));
    CHECK(csv_unit(s, "binarytrees", "run") && csv_unit(s, "replay", "run"));
    CHECK(csv_unit(s, "gc_pause_1m", "collection") && csv_unit(s, "tree", "op"));
    free(s);

    /* A far repetition too: the two-thread line of tree saw both, so it
     * splits; the one-thread lines are not split. */
    add("tree", "plain", "arena", 2, 3, 60.0, 300, false, -1);
    add("tree", "atomic", "arena", 2, 3, 50.0, 300, false, -1);
    s = summary();
    printf("%s", s);
    CHECK(strstr(s, "place") != NULL);
    CHECK(line_of(s, "arena      2       near") != NULL);
    CHECK(line_of(s, "arena      2       far") != NULL);
    l = line_of(s, "arena      2       far");
    CHECK(l && strstr(l, "50.0 ns") && strstr(l, "1.20x"));
    l = line_of(s, "arena      1       ");
    CHECK(l && strstr(l, "near") == NULL && strstr(l, "far") == NULL);
    CHECK(short_figures(s));
    free(s);
    return TEST_END();
}
