/* tests/bench/test_summary.c — the closing summary (bench/report/report.c)
 * on synthetic rows: it opens with who wins where (the fastest strategy
 * per workload and thread count, the runner-up's, atomic's and the best
 * peer's time over it); each workload's heading names its unit (ns per op,
 * us or ms per collection for gc_pause_*, per run for a program); figures
 * have three significant digits; the near/far split appears only when the
 * run saw both placements, and then only on lines that saw both; the
 * gc_pause peers are compared per tracked container.
 * Threading: one thread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    CHECK(strstr(s, "place") == NULL);                       /* one placement: no split */
    CHECK(line_of(s, "arena      2       near") == NULL && line_of(s, "arena      2       far") == NULL);
    l = line_of(s, "arena      1            21.0 ns");
    CHECK(l && strstr(l, "0.524x") && strstr(l, "0.714x") && strstr(l, "0.238x"));
    CHECK(strstr(s, "12452632") == NULL && short_figures(s));
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
