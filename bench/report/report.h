/* bench/report/report.h — rcbench's reports: the tidy CSV (one row per
 * run) and the closing summary, each written whole or not at all.
 * Threading: the driver's thread only.
 */
#ifndef RC_BENCH_REPORT_REPORT_H
#define RC_BENCH_REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct report_row {
    char workload[48], strategy[24], allocator[24];
    unsigned threads, repetition;
    uint64_t iterations;
    double ns_per_op, ops_per_sec, cpu_ns_per_op;
    uint64_t peak_rss_kib;
    unsigned header_bytes;
    uint64_t gc_collections;
    double gc_p50_us, gc_p99_us, gc_max_us;
    bool gc_reported, rss_reported;      /* false: those cells are empty (a peer's figures are not ours) */
    int64_t gc_tracked;                  /* -1: not reported */
    bool peer;
    bool program;                        /* one of the programs (bench_is_program): the summary's own section */
    char unit[16];                       /* what one op is (bench_workload_unit): "op", "collection", "run" */
    char binding[512];
    double availability, overlap, c2c_ns;
    char timestamp[32];
    bool deferred;                       /* the deferred_* figures are set */
    uint64_t deferred_epochs, deferred_buffer_peak_kib, deferred_max_delay_epochs;
    char error[200];                     /* "": a number; else why not */
    unsigned order;                      /* set by report_add */
} report_row_t;

/* The CSV's columns, comma-separated, in order (the one place they are
 * written; rcbench --list=columns prints them). */
const char *report_columns(void);

/* The benchmarks' names (workload/strategy/allocator/threads:N) in the
 * order rows are written and summarised, whatever order they ran in. */
void report_set_order(const char *const *names, unsigned n);
void report_add(const report_row_t *row);
/* Checks that path can be written: a regular file or none, and a temp
 * file can be made next to it (made and removed). Returns false with a
 * one-line reason, and errno (0 when the path is not a regular file). */
bool report_check_path(const char *path, char *err, size_t errlen);
/* Reports are staged, then committed together: report_stage_csv and
 * report_stage_summary write every row (the summary) to a mkstemp file
 * next to PATH, flushed, synced and closed; report_stage_tmp stages a
 * file written elsewhere (the JSON). report_commit renames each over its
 * target; report_discard removes every staged file (async-signal-safe,
 * and a no-op in a forked child). On false, err says why in one line; the
 * caller discards. */
bool report_stage_csv(const char *path, char *err, size_t errlen);
bool report_stage_summary(const char *path, char *err, size_t errlen);
bool report_stage_tmp(const char *tmp, const char *path);
bool report_commit(char *err, size_t errlen);
void report_discard(void);
unsigned report_rows(void);
/* The summary: first who wins where (the fastest strategy per workload
 * and thread count, by how much); then per workload, in its unit,
 * strategies side by side as ratios to atomic (median over repetitions),
 * multi-thread rows split by placement when the run saw both; the
 * peers against each strategy; for the programs, who wins each, their
 * peak RSS, and each strategy's price of threads and sharing. */
void report_summary(FILE *out);
/* Rows that are errors. */
unsigned report_errors(void);

/* ---- the census (rcbench --census; docs/census.md) ----------------------
 * One row per (workload, threads): what the census flavour recorded over
 * one run, as raw counts; the writer derives the shares. The small ints'
 * range is base/config.h's (bench/run/census.c checks it). */
#define REPORT_CENSUS_VALUE_MIN (-5)
#define REPORT_CENSUS_VALUES    262
#define REPORT_CENSUS_BITS      64
#define REPORT_CENSUS_BIT_COLUMNS 32    /* bits_1 .. bits_32 in census.csv (max_bits says when more were needed) */
#define REPORT_CENSUS_OPS_BUCKETS 65    /* ops_log2[0]: 0 ops; [k]: 2^(k-1) .. 2^k - 1 ops */
#define REPORT_CENSUS_OPS_COLUMNS 20    /* ops_le_1, ops_le_3, .. ops_le_1048575 (2^k - 1, k = 1..20) */
typedef struct report_census_row {
    char workload[48];
    unsigned threads;
    uint64_t workload_ops;               /* the workload's operations, all threads */
    uint64_t immortal_ops, owner_ops, other_ops;
    uint64_t objects, private_objects, object_ops, private_ops;
    uint64_t bits[REPORT_CENSUS_BITS];   /* objects whose largest count needed k bits: [k - 1] */
    uint64_t ops_log2[REPORT_CENSUS_OPS_BUCKETS];   /* objects by their RC operations, log2 buckets */
    uint64_t small_int_refs[REPORT_CENSUS_VALUES];
    bool skipped;                        /* cannot run under the census: reason says why; not a failure */
    char reason[200];                    /* skipped: why; else "" or why the run failed (an error) */
} report_census_row_t;
/* census.csv's and census-smallint.csv's columns, comma-separated (the one
 * place each is written; --list=census-columns, census-smallint-columns). */
const char *report_census_columns(void);
const char *report_census_smallint_columns(void);
void report_census_add(const report_census_row_t *row);   /* rows are written in the order added */
unsigned report_census_errors(void);                      /* failed rows (not skipped ones) */
/* Stages census.csv at PATH and census-smallint.csv at SMALLINT_PATH for
 * report_commit, as report_stage_csv does. */
bool report_stage_census(const char *path, const char *smallint_path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* RC_BENCH_REPORT_REPORT_H */
