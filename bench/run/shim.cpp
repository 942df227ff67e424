// bench/run/shim.cpp — the Google Benchmark glue (bench/run/shim.hpp): a
// case registered as a benchmark named workload/strategy/allocator/
// threads:N whose body drives bench/run/harness.c (C), and the reporter
// that turns each finished run into a row of the tidy CSV (bench/report/)
// and prints a short line per finished benchmark (Google Benchmark's own
// lines, every counter, under --benchmark_format=console).
// Timing: the benchmark's own thread is worker 0 of the run, so Google
// Benchmark's timer spans exactly the iterations (every thread's chunk);
// setup, calibration, teardown and the leak check sit outside the loop.
// Threaded cases use real time (the driver's CPU time is not the run's:
// under the GIL it is a fraction of it), self-timed peers manual time.
// Threading: main thread only; the harness makes the workers.
#include "bench/run/shim.hpp"

#include <algorithm>
#include <iostream>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include <unistd.h>

extern "C" {
#include "alloc/alloc.h"
#include "bench/report/report.h"
#include "bench/run/harness.h"
}

namespace rcb {

namespace {

void copy_str(char *dst, size_t n, const std::string &s) { std::snprintf(dst, n, "%s", s.c_str()); }

// Whether the case runs on one of alloc/'s backends (selected first).
bool uses_backend(const Case &c)
{
    return c.allocator != "none" && c.strategy->own_allocator == nullptr;
}

// A run that cannot start: reported as an error, no iteration timed.
void skip(benchmark::State &state, const char *why)
{
    state.SkipWithError(why);
    for (auto _ : state) {
    }
}

void run_case(benchmark::State &state, const Case &c, const Options &o)
{
    if (uses_backend(c) && !alloc_backend_select(c.allocator.c_str()))
        return skip(state, alloc_backend_error());
    char err[256];
    harness_t *h = harness_open(c.strategy, c.workload, c.threads, &o.params, err, sizeof err);
    if (h == nullptr)
        return skip(state, err);
    const uint64_t per_iter = harness_iteration_ops(h);
    const double started = (double)std::time(nullptr);
    // A kernel that times itself (cpython-gc) gives Google Benchmark its
    // own time for each iteration (registered with UseManualTime).
    const bool self_timed = c.strategy->self_ns != nullptr;
    uint64_t self_ns = 0;
    for (auto _ : state) {
        harness_iteration(h);
        if (self_timed) {
            self_ns += harness_self_ns(h);
            state.SetIterationTime((double)harness_self_ns(h) / 1e9);
        }
    }
    const double thread_ops = (double)harness_thread_ops(h);
    harness_figures_t f;
    harness_close(h, &f);
    // Not SetItemsProcessed: Google Benchmark divides it by the driver
    // thread's CPU time, which with threads (the GIL) is not the run's.
    // (Self-timed: over the kernel's own time, the time Google Benchmark
    // and the CSV report, not the driver's wall time around it.)
    const uint64_t ns = self_timed ? self_ns : f.wall_ns;
    state.counters["ops_per_sec"] = ns ? (double)f.ops * 1e9 / (double)ns : 0;
    state.counters["ops_per_iter"] = thread_ops;           // one thread's
    state.counters["ops_per_iter_all"] = (double)per_iter;
    state.counters["start_s"] = started;
    // (Self-timed: this thread waited on another process; -1, an empty cell.)
    state.counters["cpu_ns_per_op"] = self_timed ? -1 : f.ops ? f.cpu_ns / (double)f.ops : 0;
    // (Self-timed: the work ran in another process, whose memory is not
    // ours, unless the peer reports that process's own: ocaml.)
    state.counters["peak_rss_kib"] = self_timed && !c.strategy->peak_rss_kib ? -1 : (double)f.peak_rss_kib;
    state.counters["header_bytes"] = c.strategy->header_bytes;
    state.counters["gc_tracked"] = (double)f.gc_tracked;
    state.counters["gc_collections"] = f.gc_reported ? (double)f.gc_collections : -1;
    state.counters["gc_p50_us"] = (double)f.gc_p50_ns / 1e3;
    state.counters["gc_p99_us"] = (double)f.gc_p99_ns / 1e3;
    state.counters["gc_max_us"] = (double)f.gc_max_ns / 1e3;
    state.counters["availability"] = f.availability;
    state.counters["overlap"] = f.overlap;
    state.counters["c2c_ns"] = f.c2c_ns;
    // Deferred's own figures; -1 (an empty CSV cell) for the others. Every
    // row has the same counters, so the console's columns stay put.
    state.counters["dfr_epochs"] = f.deferred ? (double)f.epochs : -1;
    state.counters["dfr_buf_kib"] = f.deferred ? (double)f.buffer_peak_bytes / 1024 : -1;
    state.counters["dfr_max_delay"] = f.deferred ? (double)f.max_delay_epochs : -1;
    state.SetLabel(f.binding);
    if (f.error[0])
        state.SkipWithError(f.error);
}

double counter(const benchmark::BenchmarkReporter::Run &r, const char *name)
{
    auto it = r.counters.find(name);
    return it == r.counters.end() ? NAN : it->second.value;
}

}  // namespace

// rcbench's timed strategies (not the census flavour), then the peers:
// the order of the report's columns.
std::vector<const bench_strategy_t *> tables()
{
    std::vector<const bench_strategy_t *> t;
    for (unsigned i = 0; i < bench_nstrategies; i++)
        if (!bench_strategies[i]->census)    // never timed: rcbench --census runs it (bench/census.cpp)
            t.push_back(bench_strategies[i]);
    t.insert(t.end(), bench_peers, bench_peers + bench_npeers);
    return t;
}

std::vector<std::string> workload_names()
{
    std::vector<std::string> names;
    for (const bench_strategy_t *t : tables())
        for (unsigned i = 0, n = bench_workload_count(t); i < n; i++)
            if (std::find(names.begin(), names.end(), bench_workload_at(t, i)->name) == names.end())
                names.push_back(bench_workload_at(t, i)->name);
    return names;
}

unsigned case_repetitions(const Case &c, const Options &o)
{
    return o.repetitions_set || o.quick ? o.repetitions : std::max(o.repetitions, c.workload->repetitions);
}

benchmark::internal::Benchmark *register_case(const Case &c, const Options &o, int64_t iterations)
{
    auto *b = benchmark::RegisterBenchmark(c.name.c_str(), [c, &o](benchmark::State &st) { run_case(st, c, o); });
    if (c.strategy->self_ns)
        b->UseManualTime();
    else if (c.threads > 1)
        b->UseRealTime();
    if (iterations >= 0)                 // an isolated worker: one repetition
        b->Repetitions(1);
    else if (case_repetitions(c, o) != o.repetitions)
        b->Repetitions((int)case_repetitions(c, o));
    if (iterations > 0)                  // ... of the count the first one chose
        b->Iterations(iterations);
    return b;
}

Tee::Tee(benchmark::BenchmarkReporter &display, std::ostream *json) : display_(display), json_(json)
{
    if (json_) {
        file_.SetOutputStream(json_);
        file_.SetErrorStream(&std::cerr);
    }
}

bool Tee::ReportContext(const Context &context)
{
    if (json_)
        file_.ReportContext(context);
    return display_.ReportContext(context);
}

void Tee::ReportRuns(const std::vector<Run> &runs)
{
    display_.ReportRuns(runs);
    if (json_)
        file_.ReportRuns(runs);
}

void Tee::Finalize()
{
    display_.Finalize();
    if (json_)
        file_.Finalize();
}

Reporter::Reporter(const Options &o, size_t benchmarks, size_t repetitions)
    : benchmarks_(benchmarks), repetitions_(repetitions)
{
    bool color = o.color == "true" || o.color == "yes" || o.color == "1" ||
                 (o.color == "auto" && isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr);
    if (o.format == "json")
        inner_.reset(new benchmark::JSONReporter);
    else if (o.format == "console")
        inner_.reset(new benchmark::ConsoleReporter(
            (benchmark::ConsoleReporter::OutputOptions)((color ? benchmark::ConsoleReporter::OO_Color : 0) |
                                                        (o.tabular ? benchmark::ConsoleReporter::OO_Tabular : 0))));
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    start_s_ = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool Reporter::ReportContext(const Context &context) { return inner_ ? inner_->ReportContext(context) : true; }

void Reporter::ReportRuns(const std::vector<Run> &runs)
{
    if (inner_)
        inner_->ReportRuns(runs);
    for (const Run &r : runs)
        if (r.run_type == Run::RT_Iteration) {
            add(r);
            progress(r);
        }
}

void Reporter::Finalize()
{
    if (inner_)
        inner_->Finalize();
}

double run_ns_per_op(const benchmark::BenchmarkReporter::Run &r)
{
    double ops = counter(r, "ops_per_iter") * (double)r.iterations;
    return r.error_occurred || !(ops > 0) ? NAN : r.real_accumulated_time * 1e9 / ops;
}

std::string human_ns(double ns)
{
    static const struct { double scale; const char *unit; } units[] = {
        { 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" }, { 1, "ns" } };
    char buf[32];
    if (!std::isfinite(ns))
        return "-";
    for (const auto &u : units)
        if (ns >= u.scale * 0.9995 || u.scale == 1) {
            double v = ns / u.scale;
            std::snprintf(buf, sizeof buf, "%.*f %s", v >= 99.95 ? 0 : v >= 9.995 ? 1 : v >= 0.9995 ? 2 : 3, v, u.unit);
            break;
        }
    return buf;
}

// One line once a benchmark's last repetition is in: its median time per
// op, the spread (half the range over the median, +-), how many of the
// benchmarks are done, and the time left at the pace so far (per
// repetition). Repetitions arrive one at a time (isolated, interleaved)
// or together (in-process).
void Reporter::progress(const Run &r)
{
    done_reps_++;
    const std::string &name = r.run_name.function_name;
    auto it = std::find_if(pending_.begin(), pending_.end(), [&](const auto &p) { return p.first == name; });
    if (it == pending_.end()) {
        pending_.push_back({ name, {} });
        it = pending_.end() - 1;
    }
    it->second.push_back(r);
    if ((int64_t)it->second.size() < std::max<int64_t>(r.repetitions, 1))
        return;
    std::vector<Run> reps = std::move(it->second);
    pending_.erase(it);
    done_benchmarks_++;
    if (inner_)
        return;
    std::vector<double> ns;
    std::string error;
    for (const Run &x : reps) {
        double v = run_ns_per_op(x);
        if (std::isfinite(v))
            ns.push_back(v);
        else if (error.empty())
            error = x.error_message.empty() ? "error" : x.error_message;
    }
    std::sort(ns.begin(), ns.end());
    char head[32], figures[96], left[48] = "";
    int w = std::snprintf(nullptr, 0, "%zu", benchmarks_);
    std::snprintf(head, sizeof head, "[%*zu/%zu]", w, done_benchmarks_, benchmarks_);
    if (ns.empty()) {
        std::snprintf(figures, sizeof figures, "ERROR");
    } else {
        size_t n = ns.size();
        double med = n % 2 ? ns[n / 2] : (ns[n / 2 - 1] + ns[n / 2]) / 2;
        char spread[32] = "";
        if (n > 1)
            std::snprintf(spread, sizeof spread, " +-%.1f%%", med > 0 ? 50.0 * (ns[n - 1] - ns[0]) / med : 0.0);
        // Per the workload's unit (its entry's: /op, /run, /collection).
        std::string per = std::string("/") + bench_workload_unit(name.substr(0, name.find('/')).c_str());
        std::snprintf(figures, sizeof figures, "%10s%-3s%-9s", human_ns(med).c_str(), per.c_str(), spread);
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double elapsed = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - start_s_;
    if (done_benchmarks_ < benchmarks_ && done_reps_ > 0 && repetitions_ > done_reps_) {
        double s = elapsed / (double)done_reps_ * (double)(repetitions_ - done_reps_);
        if (s >= 3600)
            std::snprintf(left, sizeof left, "  %.0fh%02.0fm left", std::floor(s / 3600), std::floor(std::fmod(s, 3600) / 60));
        else if (s >= 60)
            std::snprintf(left, sizeof left, "  %.0fm%02.0fs left", std::floor(s / 60), std::floor(std::fmod(s, 60)));
        else
            std::snprintf(left, sizeof left, "  %.0fs left", std::ceil(s));
    }
    std::printf("%s %-44s %s%s%s%s\n", head, name.c_str(), figures, left, error.empty() ? "" : "  ",
                error.c_str());
    std::fflush(stdout);
}

void Reporter::add(const Run &r)
{
    report_row_t row;
    std::memset(&row, 0, sizeof row);
    std::vector<std::string> part;
    std::string name = r.run_name.function_name;
    for (size_t from = 0;;) {
        size_t slash = name.find('/', from);
        part.push_back(name.substr(from, slash == std::string::npos ? std::string::npos : slash - from));
        if (slash == std::string::npos)
            break;
        from = slash + 1;
    }
    if (part.size() < 4)
        return;
    copy_str(row.workload, sizeof row.workload, part[0]);
    copy_str(row.strategy, sizeof row.strategy, part[1]);
    for (const bench_strategy_t *t : tables())
        if (part[1] == t->name)
            row.peer = t->peer;
    row.program = bench_is_program(row.workload);
    copy_str(row.unit, sizeof row.unit, bench_workload_unit(row.workload));
    copy_str(row.allocator, sizeof row.allocator, part[2]);
    row.threads = (unsigned)std::strtoul(part[3].c_str() + std::strlen("threads:"), nullptr, 10);
    row.repetition = r.repetition_index < 0 ? 0 : (unsigned)r.repetition_index;
    row.iterations = (uint64_t)r.iterations;
    std::time_t when = std::isnan(counter(r, "start_s")) ? std::time(nullptr) : (std::time_t)counter(r, "start_s");
    std::strftime(row.timestamp, sizeof row.timestamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&when));
    copy_str(row.binding, sizeof row.binding, r.report_label.empty() ? "none" : r.report_label);
    if (r.error_occurred || std::isnan(counter(r, "ops_per_iter"))) {   // no numbers from it
        copy_str(row.error, sizeof row.error, r.error_message.empty() ? "error" : r.error_message);
        report_add(&row);
        return;
    }
    row.ns_per_op = run_ns_per_op(r);
    row.ops_per_sec = r.real_accumulated_time > 0
                          ? counter(r, "ops_per_iter_all") * (double)r.iterations / r.real_accumulated_time
                          : NAN;
    row.cpu_ns_per_op = counter(r, "cpu_ns_per_op");
    if (row.cpu_ns_per_op < 0)
        row.cpu_ns_per_op = NAN;
    row.gc_tracked = std::isnan(counter(r, "gc_tracked")) ? -1 : (int64_t)counter(r, "gc_tracked");
    row.rss_reported = counter(r, "peak_rss_kib") >= 0;
    row.peak_rss_kib = row.rss_reported ? (uint64_t)counter(r, "peak_rss_kib") : 0;
    row.header_bytes = (unsigned)counter(r, "header_bytes");
    row.gc_reported = counter(r, "gc_collections") >= 0;
    row.gc_collections = row.gc_reported ? (uint64_t)counter(r, "gc_collections") : 0;
    row.gc_p50_us = counter(r, "gc_p50_us");
    row.gc_p99_us = counter(r, "gc_p99_us");
    row.gc_max_us = counter(r, "gc_max_us");
    row.availability = counter(r, "availability");
    row.overlap = counter(r, "overlap");
    row.c2c_ns = counter(r, "c2c_ns");
    if (std::isnan(row.c2c_ns))
        row.c2c_ns = -1;
    double epochs = counter(r, "dfr_epochs");
    row.deferred = epochs >= 0;
    if (row.deferred) {
        row.deferred_epochs = (uint64_t)epochs;
        row.deferred_buffer_peak_kib = (uint64_t)std::ceil(counter(r, "dfr_buf_kib"));
        row.deferred_max_delay_epochs = (uint64_t)counter(r, "dfr_max_delay");
    }
    report_add(&row);
}

// --icount: each single-thread case once, outside Google Benchmark, its
// kernel counted by callgrind (bench/run/harness.c); one line per case for
// tools/rcbench-icount: "icount NAME OPS".
int icount(const std::vector<Case> &cases, const Options &o)
{
    int status = 0;
    for (const Case &c : cases) {
        if (c.threads != 1)
            continue;                    // counts of one thread are deterministic; of several, not
        if (uses_backend(c) && !alloc_backend_select(c.allocator.c_str())) {
            std::fprintf(stderr, "rcbench: %s: %s\n", c.name.c_str(), alloc_backend_error());
            return 1;
        }
        char err[256];
        harness_t *h = harness_open(c.strategy, c.workload, c.threads, &o.params, err, sizeof err);
        if (h == nullptr) {
            std::fprintf(stderr, "rcbench: %s: %s\n", c.name.c_str(), err);
            return 1;
        }
        unsigned long long ops = harness_iteration_ops(h);
        harness_icount(h, c.name.c_str());
        harness_figures_t f;
        harness_close(h, &f);
        if (f.error[0]) {
            std::fprintf(stderr, "rcbench: %s: %s\n", c.name.c_str(), f.error);
            status = 1;
        }
        std::printf("icount %s %llu\n", c.name.c_str(), ops);
        std::fflush(stdout);
    }
    return status;
}

}  // namespace rcb
