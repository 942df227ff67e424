/* bench/report/report.c — rcbench's tidy CSV and its closing summary.
 *
 * The CSV has one row per benchmark run (per repetition), the columns of
 * CSV_HEADER in that order (documented in docs/method.md); it is written
 * whole at the end to a temporary file of its own next to PATH (mkstemp),
 * as are the summary and the JSON; only when every one is written,
 * flushed, synced and closed are they all renamed over their targets, so
 * a reader never sees half a report, and a failed or interrupted run
 * leaves what was there before (report_discard, async-signal-safe, removes
 * the temporary files from a signal handler or at quick_exit). An error
 * row has its names and no numbers.
 *
 * The summary opens with who wins where: per workload and thread count,
 * the fastest strategy (ours on the arena), its median time in the
 * workload's unit, and the runner-up's, atomic's and the best peer's time
 * over it. Then per workload, in its unit (the rows' unit column, as the
 * workload's entry says: per op; per collection for gc_pause_*; per run
 * for a program; ns, us, ms or s, whichever keeps the figures to 3-4
 * digits), atomic's median and every other strategy as a
 * ratio to it, three significant digits, for each allocator and thread
 * count. Multi-thread lines are split by placement only when the run saw
 * both: "near" when the round trip between the first two threads
 * measured at the start of the repetition was under 150 ns, "far"
 * otherwise (this machine's host moves its vCPUs between ~50 and ~335 ns
 * apart); a cell with a repetition whose overlap was under 0.9 (the
 * threads did not run together) is marked '!'. Peers' columns are marked
 * '*'; then, per workload with peers, each strategy on the arena against
 * each peer (versus_peers; gc_pause per tracked container).
 * Threading: the shim's thread only; report_discard also from a signal
 * handler of that process (the staged list only grows, each entry written
 * whole before the count that publishes it).
 */
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/report/report.h"
#include "bench/run/machine.h"

#define CSV_HEADER                                                                              \
    "workload,strategy,allocator,threads,repetition,iterations,ns_per_op,ops_per_sec,"          \
    "cpu_ns_per_op,peak_rss_kib,header_bytes,gc_collections,gc_pause_p50_us,gc_pause_p99_us,"   \
    "gc_pause_max_us,binding,arch,cpu_model,compiler,revision,timestamp,availability,overlap,"  \
    "c2c_ns,atomics,deferred_epochs,deferred_buffer_peak_kib,deferred_max_delay_epochs,gc_tracked,"  \
    "peer,error,unit"
#define NEAR_NS     150.0
#define LOW_OVERLAP 0.9

static report_row_t *rows;
static unsigned nrows, caprows;
static const char *const *order_names;
static unsigned norder;

const char *report_columns(void) { return CSV_HEADER; }

void report_set_order(const char *const *names, unsigned n)
{
    order_names = names;
    norder = n;
}

static unsigned order_of(const report_row_t *r)
{
    char name[160];
    snprintf(name, sizeof name, "%s/%s/%s/threads:%u", r->workload, r->strategy, r->allocator, r->threads);
    for (unsigned i = 0; i < norder; i++)
        if (strcmp(order_names[i], name) == 0)
            return i;
    return norder;
}

static int cmp_row(const void *a, const void *b)
{
    const report_row_t *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return (x->repetition > y->repetition) - (x->repetition < y->repetition);
}

/* Rows in the benchmarks' order, repetitions in order: a report diffs
 * cleanly against another run's. */
static void sort_rows(void)
{
    qsort(rows, nrows, sizeof *rows, cmp_row);
}

/* Room for one more element in a growing array of *cap elements of
 * `size` bytes (doubling from `first`); out of memory is exit 3. */
static void *grow(void *array, unsigned n, unsigned *cap, unsigned first, size_t size, const char *what)
{
    if (n < *cap)
        return array;
    unsigned c = *cap ? *cap * 2 : first;
    void *p = realloc(array, c * size);
    if (p == NULL) {
        fprintf(stderr, "rcbench: out of memory for the %s\n", what);
        exit(3);
    }
    *cap = c;
    return p;
}

void report_add(const report_row_t *row)
{
    rows = grow(rows, nrows, &caprows, 256, sizeof *rows, "report");
    rows[nrows] = *row;
    rows[nrows].order = order_of(row);
    nrows++;
}

unsigned report_errors(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < nrows; i++)
        n += rows[i].error[0] != '\0';
    return n;
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void field(FILE *f, const char *s, bool last)
{
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputc(last ? '\n' : ',', f);
}

static void num(FILE *f, double v, int decimals, bool ok)
{
    if (ok && isfinite(v))
        fprintf(f, "%.*f", decimals, v);
    fputc(',', f);
}

static void write_row(FILE *f, const report_row_t *r)
{
    bool ok = r->error[0] == '\0';
    fprintf(f, "%s,%s,%s,%u,%u,%llu,", r->workload, r->strategy, r->allocator, r->threads, r->repetition,
            (unsigned long long)r->iterations);
    num(f, r->ns_per_op, 4, ok);
    num(f, r->ops_per_sec, 1, ok);
    num(f, r->cpu_ns_per_op, 4, ok);
    num(f, (double)r->peak_rss_kib, 0, ok && r->rss_reported);
    num(f, (double)r->header_bytes, 0, ok);
    num(f, (double)r->gc_collections, 0, ok && r->gc_reported);
    num(f, r->gc_p50_us, 2, ok && r->gc_reported);
    num(f, r->gc_p99_us, 2, ok && r->gc_reported);
    num(f, r->gc_max_us, 2, ok && r->gc_reported);
    field(f, r->binding, false);
    field(f, machine_arch(), false);
    field(f, machine_cpu_model(), false);
    field(f, machine_compiler(), false);
    field(f, machine_revision(), false);
    field(f, r->timestamp, false);
    num(f, r->availability, 4, ok);
    num(f, r->overlap, 4, ok);
    num(f, r->c2c_ns, 0, ok && r->c2c_ns >= 0);
    field(f, machine_atomics(), false);
    num(f, (double)r->deferred_epochs, 0, ok && r->deferred);
    num(f, (double)r->deferred_buffer_peak_kib, 0, ok && r->deferred);
    num(f, (double)r->deferred_max_delay_epochs, 0, ok && r->deferred);
    num(f, (double)r->gc_tracked, 0, ok && r->gc_tracked >= 0);
    field(f, r->peer ? "yes" : "no", false);
    field(f, r->error, false);
    field(f, r->unit[0] ? r->unit : "op", true);
}

/* A temporary file next to path, made with mkstemp (a name of our own:
 * nothing a user has is touched). Returns its descriptor, or -1. */
static int tmp_open(const char *path, char *tmp, size_t len)
{
    if ((size_t)snprintf(tmp, len, "%s.XXXXXX", path) >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkstemp(tmp);
}

bool report_check_path(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        errno = 0;
        return false;
    }
    if (access(path, F_OK) == 0 && access(path, W_OK) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot replace %s: %s", path, strerror(e));
        errno = e;
        return false;
    }
    char tmp[4096];
    int fd = tmp_open(path, tmp, sizeof tmp);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot write next to %s: %s", path, strerror(e));
        errno = e;
        return false;
    }
    close(fd);
    unlink(tmp);
    return true;
}

/* Staged reports: temporary files written whole, waiting to be renamed
 * over their targets. The count is published after its entry is written,
 * so a signal handler sees only whole entries; the owner's pid keeps a
 * forked worker (which inherits the list) from removing its parent's
 * files at its own exit. */
#define STAGED_MAX 4
static struct staged { char tmp[4096], path[4096]; } staged[STAGED_MAX];
static volatile sig_atomic_t nstaged;
static pid_t staged_owner;

bool report_stage_tmp(const char *tmp, const char *path)
{
    if (nstaged >= STAGED_MAX || strlen(tmp) >= sizeof staged[0].tmp || strlen(path) >= sizeof staged[0].path)
        return false;
    struct staged *e = &staged[nstaged];
    strcpy(e->tmp, tmp);
    strcpy(e->path, path);
    staged_owner = getpid();
    nstaged = nstaged + 1;
    return true;
}

void report_discard(void)
{
    if (staged_owner != getpid())
        return;
    for (sig_atomic_t i = nstaged; i > 0; i--)
        if (staged[i - 1].tmp[0])
            unlink(staged[i - 1].tmp);
    nstaged = 0;
}

bool report_commit(char *err, size_t errlen)
{
    for (sig_atomic_t i = 0; i < nstaged; i++) {
        if (rename(staged[i].tmp, staged[i].path) != 0) {
            snprintf(err, errlen, "cannot replace %s: %s", staged[i].path, strerror(errno));
            report_discard();
            return false;
        }
        staged[i].tmp[0] = '\0';        /* renamed: nothing of ours to remove */
    }
    nstaged = 0;
    return true;
}

/* Writes what body writes to a mkstemp file next to path, flushed, synced
 * and closed, and stages it for report_commit. */
static bool stage(const char *path, void (*body)(FILE *f), char *err, size_t errlen)
{
    char tmp[4096];
    int fd = tmp_open(path, tmp, sizeof tmp);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (f == NULL) {
        snprintf(err, errlen, "cannot write next to %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return false;
    }
    if (!report_stage_tmp(tmp, path)) {     /* staged first: a signal now removes it */
        snprintf(err, errlen, "cannot write %s: too many reports", path);
        fclose(f);
        unlink(tmp);
        return false;
    }
    (void)fchmod(fd, 0644);                 /* mkstemp's 0600 is not a report's mode */
    body(f);
    errno = 0;
    bool ok = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
    int why = ok ? 0 : errno ? errno : EIO;  /* the first failure's reason */
    if (fclose(f) != 0 && ok)
        why = errno;
    if (why != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(why));
        return false;                       /* the caller discards every staged file */
    }
    return true;
}

static void csv_body(FILE *f)
{
    sort_rows();
    fputs(CSV_HEADER "\n", f);
    for (unsigned i = 0; i < nrows; i++)
        write_row(f, &rows[i]);
}

bool report_stage_csv(const char *path, char *err, size_t errlen)
{
    return stage(path, csv_body, err, errlen);
}

bool report_stage_summary(const char *path, char *err, size_t errlen)
{
    return stage(path, report_summary, err, errlen);
}

unsigned report_rows(void) { return nrows; }

/* ---- summary ---------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *placement(const report_row_t *r)
{
    if (r->threads == 1)
        return "";
    if (r->c2c_ns < 0)
        return "";
    return r->c2c_ns < NEAR_NS ? "near" : "far";
}

/* The median ns per op of the runs matching (w, s, a, t, place; a NULL
 * place matches any); sets
 * *low when one of them had a low overlap. NAN when there is none. */
static double median(const char *w, const char *s, const char *a, unsigned t, const char *place, bool *low)
{
    double v[256];
    unsigned n = 0;
    for (unsigned i = 0; i < nrows && n < 256; i++) {
        const report_row_t *r = &rows[i];
        if (r->error[0] || strcmp(r->workload, w) || strcmp(r->strategy, s) || strcmp(r->allocator, a) ||
            r->threads != t || (place && strcmp(placement(r), place)))
            continue;
        v[n++] = r->ns_per_op;
        if (r->threads > 1 && r->overlap < LOW_OVERLAP)
            *low = true;
    }
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool seen_before(unsigned i, size_t off, size_t len)
{
    for (unsigned j = 0; j < i; j++)
        if (memcmp((const char *)&rows[j] + off, (const char *)&rows[i] + off, len) == 0)
            return true;
    return false;
}

static bool is_peer(const char *strategy)
{
    for (unsigned i = 0; i < nrows; i++)
        if (strcmp(rows[i].strategy, strategy) == 0)
            return rows[i].peer;
    return false;
}

/* The median gc_tracked of the runs matching (w, s, a, t); 0 if none. */
static double tracked(const char *w, const char *s, const char *a, unsigned t)
{
    double v[256];
    unsigned n = 0;
    for (unsigned i = 0; i < nrows && n < 256; i++) {
        const report_row_t *r = &rows[i];
        if (!r->error[0] && r->gc_tracked > 0 && !strcmp(r->workload, w) && !strcmp(r->strategy, s) &&
            !strcmp(r->allocator, a) && r->threads == t)
            v[n++] = (double)r->gc_tracked;
    }
    if (n == 0)
        return 0;
    qsort(v, n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* v with three significant digits and no exponent ("1.23", "12.3",
 * "123", "1234"); "-" when not a number. */
static const char *sig3(char *buf, size_t n, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, n, "-");
        return buf;
    }
    double a = fabs(v);
    if (a == 0) {
        snprintf(buf, n, "0");
        return buf;
    }
    int d = a >= 99.95 ? 0 : a >= 9.995 ? 1 : a >= 0.9995 ? 2 : a >= 0.09995 ? 3 : 4;
    snprintf(buf, n, "%.*f", d, v);
    return buf;
}

/* A ratio to three significant digits, "1.23x". */
static const char *ratio3(char *buf, size_t n, double v)
{
    char b[32];
    snprintf(buf, n, isfinite(v) ? "%sx" : "%s", sig3(b, sizeof b, v));
    return buf;
}

/* A workload's unit: what one op is (its rows' unit, which the workload's
 * entry says: a full collection for gc_pause_*, a whole run for a
 * program, else an op) and the time unit its figures read best in (ns,
 * us, ms or s: the largest that keeps its fastest median at 1 or more),
 * so a cell has at most 3-4 digits. */
typedef struct unit { const char *what, *name; double scale; } unit_t;

static unit_t unit_of(const char *w)
{
    unit_t u = { "op", "ns", 1 };
    for (unsigned i = 0; i < nrows; i++)
        if (rows[i].unit[0] && !strcmp(rows[i].workload, w)) {
            u.what = rows[i].unit;
            break;
        }
    double lo = INFINITY;
    for (unsigned i = 0; i < nrows; i++)
        if (!rows[i].error[0] && !strcmp(rows[i].workload, w) && rows[i].ns_per_op > 0 && rows[i].ns_per_op < lo)
            lo = rows[i].ns_per_op;
    static const struct { const char *name; double scale; } scales[] = { { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 } };
    for (unsigned k = 0; k < sizeof scales / sizeof scales[0]; k++)
        if (isfinite(lo) && lo >= scales[k].scale) {
            u.name = scales[k].name;
            u.scale = scales[k].scale;
            break;
        }
    return u;
}

/* A time in ns in unit u, three significant digits and the unit: "1.23 ms". */
static const char *in_unit(char *buf, size_t n, double ns, unit_t u)
{
    char b[32];
    snprintf(buf, n, isfinite(ns) ? "%s %s" : "%s", sig3(b, sizeof b, ns / u.scale), u.name);
    return buf;
}

/* Per workload that has peers: each rcbench strategy on the arena (or,
 * without arena rows, the first allocator it ran on) against each peer
 * series (strategy/allocator) at the same thread count, as peer time over
 * the strategy's: above 1, the strategy is that many times faster. Every
 * repetition counts, whatever its placement. The gc_pause workloads
 * compare time per tracked container (CPython also tracks its own
 * objects). */
static void versus_peers(FILE *out, const char *const *strat, unsigned ns)
{
    bool header = false;
    for (unsigned i = 0; i < nrows; i++) {
        const char *w = rows[i].workload;
        if (seen_before(i, offsetof(report_row_t, workload), sizeof rows[i].workload))
            continue;
        /* The peer series of w, in row order. */
        const report_row_t *peer[32];
        unsigned np = 0;
        for (unsigned j = 0; j < nrows && np < 32; j++) {
            if (!rows[j].peer || strcmp(rows[j].workload, w))
                continue;
            bool dup = false;
            for (unsigned k = 0; k < np && !dup; k++)
                dup = !strcmp(peer[k]->strategy, rows[j].strategy) && !strcmp(peer[k]->allocator, rows[j].allocator);
            if (!dup)
                peer[np++] = &rows[j];
        }
        bool ours = false;
        for (unsigned j = 0; j < nrows && !ours; j++)
            ours = !rows[j].peer && !strcmp(rows[j].workload, w);
        if (np == 0 || !ours)
            continue;
        if (!header) {
            fprintf(out, "\nVersus the peers: peer time over the strategy's, same workload and threads "
                         "(above 1: the strategy is that many times faster).\nEach strategy on the arena, "
                         "each peer as it runs (column: peer/allocator), so the allocators differ but for "
                         "none/arena;\nthe table above compares on one allocator. Every repetition counts, "
                         "near or far; '!' as above.\n");
            header = true;
        }
        bool per_object = strncmp(w, "gc_pause", 8) == 0;
        fprintf(out, "\n%s%s\n  %-20s %-7s", w, per_object ? " (per tracked container)" : "", "strategy/allocator",
                "threads");
        for (unsigned k = 0; k < np; k++) {
            char head[64];
            snprintf(head, sizeof head, "%s/%s", peer[k]->strategy, peer[k]->allocator);
            fprintf(out, " %16s", head);
        }
        fprintf(out, "\n");
        for (unsigned j0 = 0; j0 < nrows; j0++) {    /* each thread count of w, in row order */
            const unsigned t = rows[j0].threads;
            bool seen = strcmp(rows[j0].workload, w) != 0;
            for (unsigned k = 0; k < j0 && !seen; k++)
                seen = !strcmp(rows[k].workload, w) && rows[k].threads == t;
            if (seen)
                continue;
            for (unsigned si = 0; si < ns; si++) {
                if (is_peer(strat[si]))
                    continue;
                const char *a = NULL;      /* the arena, or the first allocator with rows */
                for (unsigned j = 0; j < nrows; j++)
                    if (!rows[j].error[0] && !strcmp(rows[j].workload, w) && !strcmp(rows[j].strategy, strat[si]) &&
                        rows[j].threads == t && (a == NULL || !strcmp(rows[j].allocator, "arena")))
                        a = rows[j].allocator;
                bool low = false;
                double mine = a ? median(w, strat[si], a, t, NULL, &low) : NAN;
                if (isnan(mine))
                    continue;
                double my_tracked = per_object ? tracked(w, strat[si], a, t) : 1;
                char name[64];
                snprintf(name, sizeof name, "%s/%s", strat[si], a);
                fprintf(out, "  %-20s %-7u", name, t);
                for (unsigned k = 0; k < np; k++) {
                    double theirs = median(w, peer[k]->strategy, peer[k]->allocator, t, NULL, &low);
                    double their_tracked = per_object ? tracked(w, peer[k]->strategy, peer[k]->allocator, t) : 1;
                    if (isnan(theirs) || my_tracked <= 0 || their_tracked <= 0)
                        fprintf(out, " %16s", "-");
                    else
                    {
                        char b[32];
                        fprintf(out, " %16s", ratio3(b, sizeof b, (theirs / their_tracked) / (mine / my_tracked)));
                    }
                }
                fprintf(out, "%s\n", low ? "  !" : "");
            }
        }
    }
}

/* The median peak RSS in KiB of the runs matching (w, s, a, t); NAN if
 * none reported it. */
static double median_rss(const char *w, const char *s, const char *a, unsigned t)
{
    double v[256];
    unsigned n = 0;
    for (unsigned i = 0; i < nrows && n < 256; i++) {
        const report_row_t *r = &rows[i];
        if (!r->error[0] && r->rss_reported && !strcmp(r->workload, w) && !strcmp(r->strategy, s) &&
            !strcmp(r->allocator, a) && r->threads == t)
            v[n++] = (double)r->peak_rss_kib;
    }
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Is row i the first of its (workload, threads)? */
static bool first_of_threads(unsigned i)
{
    for (unsigned k = 0; k < i; k++)
        if (!strcmp(rows[k].workload, rows[i].workload) && rows[k].threads == rows[i].threads)
            return false;
    return true;
}

/* The programs: per program and thread count, the fastest rcbench
 * strategy on the arena and the fastest of everything (peers on their own
 * allocators), with each series' peak RSS; then each strategy's time per
 * run at T threads over its own at 1 (every thread runs a whole program,
 * or its part of one split run: nqueens_shared), which is the price of
 * threads (independent instances) and of sharing (the _shared variants). */
static void programs(FILE *out, const char *const *strat, unsigned ns)
{
    bool header = false;
    for (unsigned i = 0; i < nrows; i++) {
        if (!rows[i].program || !first_of_threads(i))
            continue;
        const char *w = rows[i].workload;
        const unsigned t = rows[i].threads;
        if (!header) {
            fprintf(out, "\nPrograms: who wins each (median ms per run; ours on the arena, peers as they run) "
                         "and peak RSS (median MiB of the worker).\n  %-18s %-7s %-22s %9s %-22s %9s  %s\n",
                    "program", "threads", "fastest of ours", "ms", "fastest of all", "ms", "peak RSS MiB");
            header = true;
        }
        const char *best = NULL, *best_all = NULL, *best_all_a = NULL;
        double b = NAN, ba = NAN;
        char rss[512] = "";
        size_t len = 0;
        for (unsigned si = 0; si < ns; si++) {
            for (unsigned j = 0; j < nrows; j++) {    /* each allocator of strat[si] on w, once */
                const report_row_t *r = &rows[j];
                if (strcmp(r->workload, w) || strcmp(r->strategy, strat[si]) || r->threads != t || r->error[0])
                    continue;
                bool seen = false;
                for (unsigned k = 0; k < j && !seen; k++)
                    seen = !rows[k].error[0] && !strcmp(rows[k].workload, w) && !strcmp(rows[k].strategy, strat[si]) &&
                           rows[k].threads == t && !strcmp(rows[k].allocator, r->allocator);
                if (seen)
                    continue;
                bool low = false;
                double m = median(w, strat[si], r->allocator, t, NULL, &low);
                if (isnan(m))
                    continue;
                bool ours_on_arena = !r->peer && !strcmp(r->allocator, "arena");
                if (ours_on_arena && (isnan(b) || m < b)) {
                    b = m;
                    best = strat[si];
                }
                if ((r->peer || ours_on_arena) && (isnan(ba) || m < ba)) {
                    ba = m;
                    best_all = strat[si];
                    best_all_a = r->allocator;
                }
                double kib = median_rss(w, strat[si], r->allocator, t);
                if ((r->peer || ours_on_arena) && !isnan(kib) && len < sizeof rss - 40) {
                    int k = snprintf(rss + len, sizeof rss - len, "%s%s %s", len ? ", " : "", strat[si],
                                     sig3((char[32]){0}, 32, kib / 1024));
                    if (k > 0)
                        len += (size_t)k;
                }
            }
        }
        char ours[64] = "-", all[64] = "-";
        if (best)
            snprintf(ours, sizeof ours, "%s", best);
        if (best_all)
            snprintf(all, sizeof all, "%s/%s", best_all, best_all_a);
        char bs[32], bas[32];
        fprintf(out, "  %-18s %-7u %-22s %9s %-22s %9s  %s\n", w, t, ours, sig3(bs, sizeof bs, b / 1e6), all,
                sig3(bas, sizeof bas, ba / 1e6), rss);
    }
    if (!header)
        return;
    header = false;
    for (unsigned i = 0; i < nrows; i++) {
        if (!rows[i].program || rows[i].threads == 1 || !first_of_threads(i))
            continue;
        const char *w = rows[i].workload;
        const unsigned t = rows[i].threads;
        if (!header) {
            fprintf(out, "\nThe price of threads and of sharing: each series' time per run at T threads over "
                         "its own at 1 thread (1.00: free; a split run such as nqueens_shared: 1/T is ideal). "
                         "Ours on the arena.\n  %-18s %-7s", "program", "threads");
            for (unsigned si = 0; si < ns; si++)
                fprintf(out, " %10s", strat[si]);
            fprintf(out, "\n");
            header = true;
        }
        fprintf(out, "  %-18s %-7u", w, t);
        for (unsigned si = 0; si < ns; si++) {
            const char *a = "arena";
            for (unsigned j = 0; j < nrows; j++)          /* a peer: its own allocator */
                if (rows[j].peer && !strcmp(rows[j].strategy, strat[si]) && !strcmp(rows[j].workload, w))
                    a = rows[j].allocator;
            bool low = false;
            double one = median(w, strat[si], a, 1, NULL, &low), many = median(w, strat[si], a, t, NULL, &low);
            if (isnan(one) || isnan(many))
                fprintf(out, " %10s", "-");
            else
                fprintf(out, " %10s", ratio3((char[32]){0}, 32, many / one));
        }
        fprintf(out, "\n");
    }
}

/* The series the first block compares on (w, t): ours on the arena, or
 * on the first allocator they ran on; a workload only peers ran (the
 * allocators alone) compares every peer series. Returns how many, each
 * a (strategy, allocator) pair of rows' names. */
static unsigned contenders(const char *w, unsigned t, const char *const *strat, unsigned ns, const char *who[][2],
                           unsigned max)
{
    const char *a = NULL;
    for (unsigned j = 0; j < nrows; j++)
        if (!rows[j].peer && !rows[j].error[0] && !strcmp(rows[j].workload, w) && rows[j].threads == t &&
            (a == NULL || !strcmp(rows[j].allocator, "arena")))
            a = rows[j].allocator;
    unsigned n = 0;
    for (unsigned si = 0; si < ns; si++)
        for (unsigned j = 0; j < nrows && n < max; j++) {
            const report_row_t *r = &rows[j];
            if (strcmp(r->workload, w) || strcmp(r->strategy, strat[si]) || r->threads != t || r->error[0])
                continue;
            if (a ? r->peer || strcmp(r->allocator, a) : !r->peer)
                continue;
            bool dup = false;
            for (unsigned k = 0; k < n && !dup; k++)
                dup = !strcmp(who[k][0], r->strategy) && !strcmp(who[k][1], r->allocator);
            if (!dup) {
                who[n][0] = r->strategy;
                who[n][1] = r->allocator;
                n++;
            }
        }
    return n;
}

/* The first block: per workload and thread count, the fastest of ours
 * (median over repetitions, every placement), its time in the workload's
 * unit, how much slower the runner-up and atomic are, and the fastest
 * peer against it. */
static void winners(FILE *out, const char *const *strat, unsigned ns)
{
    fprintf(out, "Who wins where: the fastest strategy per workload and thread count (ours on the arena; "
                 "a workload only peers ran: every peer series);\n'by': the runner-up's time over the "
                 "winner's; atomic and the best peer likewise (2.00x: twice the winner's time).\n");
    fprintf(out, "  %-20s %-7s %-14s %-19s %-14s %8s %8s  %s\n", "workload", "threads", "fastest", "time",
            "runner-up", "by", "atomic", "best peer");
    for (unsigned i = 0; i < nrows; i++) {
        if (!first_of_threads(i))
            continue;
        const char *w = rows[i].workload;
        const unsigned t = rows[i].threads;
        const char *who[64][2];
        unsigned n = contenders(w, t, strat, ns, who, 64);
        double best = NAN, second = NAN, atomic = NAN, peer = NAN;
        int bi = -1, si2 = -1;
        bool low = false;
        const char *peer_name = NULL, *peer_alloc = NULL;
        for (unsigned k = 0; k < n; k++) {
            double m = median(w, who[k][0], who[k][1], t, NULL, &low);
            if (isnan(m))
                continue;
            if (!strcmp(who[k][0], "atomic"))
                atomic = m;
            if (isnan(best) || m < best) {
                second = best;
                si2 = bi;
                best = m;
                bi = (int)k;
            } else if (isnan(second) || m < second) {
                second = m;
                si2 = (int)k;
            }
        }
        bool peers_only = n > 0 && is_peer(who[0][0]);
        /* gc_pause: per tracked container (CPython tracks objects of its own too). */
        const bool per_object = strncmp(w, "gc_pause", 8) == 0;
        for (unsigned j = 0; j < nrows && !peers_only; j++) {
            const report_row_t *r = &rows[j];
            if (!r->peer || r->error[0] || strcmp(r->workload, w) || r->threads != t)
                continue;
            bool l = false;
            double m = median(w, r->strategy, r->allocator, t, NULL, &l);
            if (per_object) {
                double objs = tracked(w, r->strategy, r->allocator, t);
                m = objs > 0 ? m / objs : NAN;
            }
            if (!isnan(m) && (isnan(peer) || m < peer)) {
                peer = m;
                peer_name = r->strategy;
                peer_alloc = r->allocator;
            }
        }
        unit_t u = unit_of(w);
        char name[64] = "-", runner[64] = "-", time[80], by[32], at[32], pr[96] = "-";
        if (bi >= 0)
            snprintf(name, sizeof name, peers_only ? "%s/%s" : "%s", who[bi][0], who[bi][1]);
        if (si2 >= 0)
            snprintf(runner, sizeof runner, peers_only ? "%s/%s" : "%s", who[si2][0], who[si2][1]);
        char t_unit[48];
        snprintf(time, sizeof time, "%s/%s", in_unit(t_unit, sizeof t_unit, best, u), u.what);
        if (isnan(best))
            snprintf(time, sizeof time, "-");
        ratio3(by, sizeof by, second / best);
        ratio3(at, sizeof at, bi >= 0 && strcmp(who[bi][0], "atomic") ? atomic / best : NAN);
        if (peer_name) {
            char b[32];
            double mine = best;
            if (per_object) {
                double objs = bi >= 0 ? tracked(w, who[bi][0], who[bi][1], t) : 0;
                mine = objs > 0 ? best / objs : NAN;
            }
            snprintf(pr, sizeof pr, "%s/%s %s%s", peer_name, peer_alloc, ratio3(b, sizeof b, peer / mine),
                     per_object ? " per container" : "");
        }
        fprintf(out, "  %-20s %-7u %-14s %-19s %-14s %8s %8s  %s%s\n", w, t, name, time, runner, by, at, pr,
                low ? "  !" : "");
    }
}

void report_summary(FILE *out)
{
    if (nrows == 0)
        return;
    sort_rows();
    /* Strategies in the order first seen. */
    const char *strat[32];
    unsigned ns = 0;
    for (unsigned i = 0; i < nrows && ns < 32; i++)
        if (!seen_before(i, offsetof(report_row_t, strategy), sizeof rows[i].strategy))
            strat[ns++] = rows[i].strategy;
    /* Placement: split near/far only when this run saw both. */
    bool near = false, far = false;
    for (unsigned i = 0; i < nrows; i++) {
        near |= !rows[i].error[0] && !strcmp(placement(&rows[i]), "near");
        far |= !rows[i].error[0] && !strcmp(placement(&rows[i]), "far");
    }
    const bool split = near && far;
    fprintf(out, "\nSummary (medians over repetitions; lower times are faster)\n\n");
    winners(out, strat, ns);
    fprintf(out, "\nPer workload: atomic's time in the workload's unit, the other strategies as ratios to it "
                 "(0.50x: half atomic's time).\n'!' marks a cell where the threads ran together less than "
                 "%.0f%% of the calibration window.\n", LOW_OVERLAP * 100);
    if (split)
        fprintf(out, "This run saw both placements of its threads: multi-thread lines are split near/far "
                     "(round trip between the first two threads under/over %.0f ns).\n", NEAR_NS);
    fprintf(out, "* a peer, not an rcbench strategy: none (no counting: malloc/free), shared_ptr (C++ "
                 "std::shared_ptr), boehm (Boehm GC), cpython-gc (CPython's gc.collect()), ocaml (OCaml "
                 "native code).\n");
    static const char *places[] = { "", "near", "far" };
    for (unsigned i = 0; i < nrows; i++) {
        const char *w = rows[i].workload;
        if (seen_before(i, offsetof(report_row_t, workload), sizeof rows[i].workload))
            continue;
        const char *here[32];           /* the strategies this workload ran under */
        unsigned nh = 0;
        bool has_atomic = false;
        for (unsigned s = 0; s < ns; s++)
            for (unsigned j = 0; j < nrows; j++)
                if (!strcmp(rows[j].workload, w) && !strcmp(rows[j].strategy, strat[s])) {
                    has_atomic |= !strcmp(strat[s], "atomic");
                    here[nh++] = strat[s];
                    break;
                }
        unit_t u = unit_of(w);
        fprintf(out, "\n%s (%s per %s)\n  %-10s %-7s", w, u.name, u.what, "allocator", "threads");
        if (split)
            fprintf(out, " %-5s", "place");
        if (has_atomic)
            fprintf(out, " %12s", "atomic");
        for (unsigned s = 0; s < nh; s++) {
            char head[32];
            if (!strcmp(here[s], "atomic"))
                continue;
            snprintf(head, sizeof head, "%s%s", here[s], is_peer(here[s]) ? "*" : "");
            fprintf(out, " %10s", head);
        }
        fprintf(out, "\n");
        for (unsigned j = 0; j < nrows; j++) {
            const report_row_t *r = &rows[j];
            if (strcmp(r->workload, w))
                continue;
            bool dup = false;           /* one line per (allocator, threads) */
            for (unsigned k = 0; k < j && !dup; k++)
                dup = !strcmp(rows[k].workload, w) && !strcmp(rows[k].allocator, r->allocator) &&
                      rows[k].threads == r->threads;
            if (dup)
                continue;
            /* Its own placements: split when it saw both, else one line. */
            bool own_near = false, own_far = false;
            for (unsigned k = 0; k < nrows; k++)
                if (!rows[k].error[0] && !strcmp(rows[k].workload, w) && !strcmp(rows[k].allocator, r->allocator) &&
                    rows[k].threads == r->threads) {
                    own_near |= !strcmp(placement(&rows[k]), "near");
                    own_far |= !strcmp(placement(&rows[k]), "far");
                }
            bool both = split && own_near && own_far;
            for (unsigned p = both ? 1 : 0; p < (both ? 3u : 1u); p++) {
                const char *place = both ? places[p] : NULL;
                bool any = false, low = false;
                double cell[32];
                for (unsigned s = 0; s < nh; s++) {
                    cell[s] = median(w, here[s], r->allocator, r->threads, place, &low);
                    any |= !isnan(cell[s]);
                }
                if (!any)
                    continue;
                bool low_unused = false;
                double ref = median(w, "atomic", r->allocator, r->threads, place, &low_unused);
                char b[48];
                fprintf(out, "  %-10s %-7u", r->allocator, r->threads);
                if (split)
                    fprintf(out, " %-5s", both ? places[p] : own_near ? "near" : own_far ? "far" : "");
                if (has_atomic)
                    fprintf(out, " %12s", in_unit(b, sizeof b, ref, u));
                for (unsigned s = 0; s < nh; s++) {
                    if (!strcmp(here[s], "atomic"))
                        continue;
                    if (isnan(cell[s]) || isnan(ref))
                        fprintf(out, " %10s", in_unit(b, sizeof b, cell[s], u));
                    else
                        fprintf(out, " %10s", ratio3(b, sizeof b, cell[s] / ref));
                }
                fprintf(out, "%s\n", low ? "  !" : "");
            }
        }
    }
    versus_peers(out, strat, ns);
    programs(out, strat, ns);
    unsigned errors = report_errors();
    if (errors) {
        fprintf(out, "\n%u run(s) reported as errors, not numbers:\n", errors);
        for (unsigned i = 0; i < nrows; i++)
            if (rows[i].error[0])
                fprintf(out, "  %s/%s/%s/threads:%u: %s\n", rows[i].workload, rows[i].strategy, rows[i].allocator,
                       rows[i].threads, rows[i].error);
    }
}

/* ---- the census --------------------------------------------------------- */

static report_census_row_t *census_rows;
static unsigned ncensus, capcensus;

/* The columns, bits_1 .. bits_N generated once (the driver's thread). */
const char *report_census_columns(void)
{
    static char cols[1024];
    if (cols[0] == '\0') {
        size_t n = (size_t)snprintf(cols, sizeof cols,
                                    "workload,threads,workload_ops,objects,rc_ops,ops_per_object,"
                                    "private_objects_pct,ops_on_private_pct,immortal_ops_pct,owner_ops_pct,"
                                    "other_ops_pct,shared_objects,max_bits");
        for (int k = 1; k <= REPORT_CENSUS_BIT_COLUMNS; k++)
            n += (size_t)snprintf(cols + n, sizeof cols - n, ",bits_%d", k);
        for (int k = 1; k <= REPORT_CENSUS_OPS_COLUMNS; k++)
            n += (size_t)snprintf(cols + n, sizeof cols - n, ",ops_le_%lu", (1ul << k) - 1);
        snprintf(cols + n, sizeof cols - n, ",status,reason");
    }
    return cols;
}

const char *report_census_smallint_columns(void) { return "workload,threads,value,refs"; }

void report_census_add(const report_census_row_t *row)
{
    census_rows = grow(census_rows, ncensus, &capcensus, 64, sizeof *census_rows, "census");
    census_rows[ncensus++] = *row;
}

unsigned report_census_errors(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ncensus; i++)
        n += !census_rows[i].skipped && census_rows[i].reason[0] != '\0';
    return n;
}

static bool census_ok(const report_census_row_t *r) { return !r->skipped && r->reason[0] == '\0'; }

/* 100 * part / whole, or an empty cell when whole is 0. */
static void pct(FILE *f, uint64_t part, uint64_t whole, bool ok)
{
    num(f, whole ? 100.0 * (double)part / (double)whole : NAN, 4, ok && whole);
}

static void census_row(FILE *f, const report_census_row_t *r)
{
    bool ok = census_ok(r);
    uint64_t rc_ops = r->immortal_ops + r->owner_ops + r->other_ops;
    unsigned max_bits = 0;
    for (unsigned k = 1; k <= REPORT_CENSUS_BITS; k++)
        if (r->bits[k - 1])
            max_bits = k;
    field(f, r->workload, false);
    fprintf(f, "%u,", r->threads);
    num(f, (double)r->workload_ops, 0, ok);
    num(f, (double)r->objects, 0, ok);
    num(f, (double)rc_ops, 0, ok);
    num(f, r->objects ? (double)r->object_ops / (double)r->objects : NAN, 4, ok && r->objects);
    pct(f, r->private_objects, r->objects, ok);
    pct(f, r->private_ops, rc_ops, ok);
    pct(f, r->immortal_ops, rc_ops, ok);
    pct(f, r->owner_ops, rc_ops, ok);
    pct(f, r->other_ops, rc_ops, ok);
    num(f, (double)(r->objects - r->private_objects), 0, ok);
    num(f, (double)max_bits, 0, ok && r->objects);
    uint64_t fit = 0;
    for (unsigned k = 1; k <= REPORT_CENSUS_BIT_COLUMNS; k++) {
        fit += r->bits[k - 1];
        pct(f, fit, r->objects, ok);
    }
    uint64_t within = r->ops_log2[0];   /* objects with no operation */
    for (unsigned k = 1; k <= REPORT_CENSUS_OPS_COLUMNS; k++) {
        within += r->ops_log2[k];
        pct(f, within, r->objects, ok);
    }
    field(f, r->skipped ? "skipped" : ok ? "ok" : "error", false);
    field(f, r->reason, true);
}

static void census_body(FILE *f)
{
    fprintf(f, "%s\n", report_census_columns());
    for (unsigned i = 0; i < ncensus; i++)
        census_row(f, &census_rows[i]);
}

static void census_smallint_body(FILE *f)
{
    fprintf(f, "%s\n", report_census_smallint_columns());
    for (unsigned i = 0; i < ncensus; i++) {
        const report_census_row_t *r = &census_rows[i];
        if (!census_ok(r))
            continue;
        for (int v = 0; v < REPORT_CENSUS_VALUES; v++) {
            field(f, r->workload, false);
            fprintf(f, "%u,%d,%llu\n", r->threads, REPORT_CENSUS_VALUE_MIN + v,
                    (unsigned long long)r->small_int_refs[v]);
        }
    }
}

bool report_stage_census(const char *path, const char *smallint_path, char *err, size_t errlen)
{
    return stage(path, census_body, err, errlen) && stage(smallint_path, census_smallint_body, err, errlen);
}
