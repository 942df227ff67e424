// bench/run/shim.hpp — the C++ side of rcbench: the options the CLI
// (bench/cli.cpp) parsed, the benchmark cases it chose, and the Google
// Benchmark glue (bench/run/shim.cpp: registration, the run's body, the
// reporter that turns runs into CSV rows) that the in-process runner and
// the isolated orchestrator (bench/run/isolate.cpp) share.
// Threading: the main thread only; the harness makes the workers.
#ifndef RC_BENCH_RUN_SHIM_HPP
#define RC_BENCH_RUN_SHIM_HPP

#include <benchmark/benchmark.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

extern "C" {
#include "bench/bench.h"
}

namespace rcb {

struct Options {
    std::vector<std::string> strategies, allocators, workloads;
    bool workloads_default = false;      // no --workloads: every workload
    std::vector<unsigned> threads;
    std::string csv, json, summary;
    std::string format, color = "auto", filter;   // format "": rcbench's short lines (--benchmark_format=console: Google Benchmark's)
    bool tabular = true;
    bool quick = false, icount = false;
    std::string list;                    // "" (no --list), "benchmarks", or one of list_kinds()
    bench_params_t params{14, false, BENCH_SIZE_DEFAULT};
    bool isolate = true;                 // every repetition in a fresh worker process
    unsigned repetitions = 3;            // --benchmark_repetitions, as the orchestrator reads it
    bool repetitions_set = false;        // ... given by the user (else a workload may ask for more)
    bool interleave = true;              // --benchmark_enable_random_interleaving
    double min_time = 0.05;              // --benchmark_min_time (0.002 with --quick)
    bool warmup_set = false;             // --benchmark_min_warmup_time given (else isolated: min_time)
    double timeout_s = 300;              // --timeout: a worker's time limit per repetition
    unsigned long seed = 0;              // --seed: the interleaving's order (0: from the clock)
    std::string census, census_smallint; // --census[=FILE]: the census files ("" without --census)
};

struct Case {
    std::string name, allocator;
    const bench_strategy_t *strategy;    // rcbench's or a peer
    const bench_workload_t *workload;
    unsigned threads;
};

// rcbench's timed strategies (every one but the census flavour), then the
// peers: the order of the report's columns.
std::vector<const bench_strategy_t *> tables();
// Every workload name, once, in the order the tables first name them.
std::vector<std::string> workload_names();

// How many repetitions c gets: the user's --benchmark_repetitions, else
// rcbench's default or the workload's own count if larger.
unsigned case_repetitions(const Case &c, const Options &o);

// Registers c with Google Benchmark (real time when threaded, manual time
// when self-timed). iterations: -1 in-process (the flags decide); 0 an
// isolated worker's one repetition, calibrated; > 0 one of that many.
benchmark::internal::Benchmark *register_case(const Case &c, const Options &o, int64_t iterations);

// The display reporter, and Google Benchmark's JSON on a stream of ours
// when json is not null (the caller checks the stream's state:
// --benchmark_out would not).
class Tee : public benchmark::BenchmarkReporter {
  public:
    Tee(benchmark::BenchmarkReporter &display, std::ostream *json);
    bool ReportContext(const Context &context) override;
    void ReportRuns(const std::vector<Run> &runs) override;
    void Finalize() override;

  private:
    benchmark::BenchmarkReporter &display_;
    benchmark::JSONReporter file_;
    std::ostream *json_;
};

// The display: by default one short line per benchmark once its last
// repetition finished (its name, the median time per op in the
// workload's unit: /op, /run, /collection; the spread over the
// repetitions, N of M, the time left); --benchmark_format=console or
// json selects Google Benchmark's own reporter (every counter). Plus a
// CSV row per finished run (not the aggregates).
class Reporter : public benchmark::BenchmarkReporter {
  public:
    // benchmarks: how many the run has; repetitions: theirs, all told.
    Reporter(const Options &o, size_t benchmarks, size_t repetitions);
    bool ReportContext(const Context &context) override;
    void ReportRuns(const std::vector<Run> &runs) override;
    void Finalize() override;

  private:
    std::unique_ptr<benchmark::BenchmarkReporter> inner_;   // null: the short lines
    size_t benchmarks_, repetitions_, done_benchmarks_ = 0, done_reps_ = 0;
    double start_s_ = 0;
    std::vector<std::pair<std::string, std::vector<Run>>> pending_;   // benchmarks not yet complete
    void add(const Run &r);
    void progress(const Run &r);
};

// A run's time per op in ns (over every thread's operations: the CSV's
// ns_per_op), or NAN when it has none.
double run_ns_per_op(const benchmark::BenchmarkReporter::Run &r);
// A time in ns with three significant digits and its unit (ns, us, ms, s).
std::string human_ns(double ns);

// --icount: each single-thread case once, its kernel counted by callgrind.
int icount(const std::vector<Case> &cases, const Options &o);

// The isolated run: each (case, repetition) in a forked worker, in the
// orchestrator's order; runs and their aggregates go to `display`.
// worker_os_error: set when a worker exited with status 3 (out of memory,
// an OS error: its error row says which).
void run_isolated(const std::vector<Case> &cases, const Options &o, benchmark::BenchmarkReporter &display,
                  bool &worker_os_error);
// Kills the worker running now, if any (async-signal-safe: for the CLI's
// signal handler).
void kill_worker();
// The signals that end a process by default and can be caught: the CLI
// removes its temp files on each; a worker puts them back to default.
const std::vector<int> &terminating_signals();

}  // namespace rcb

#endif  // RC_BENCH_RUN_SHIM_HPP
