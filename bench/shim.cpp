// bench/shim.cpp — rcbench's entry point: the C++ shim to Google Benchmark.
// With bench/peer_shared_ptr.cpp (the std::shared_ptr peer, C++ by
// nature), the only C++ in the project.
//
// It parses the suite's own flags, registers every workload x strategy x
// allocator x threads as a benchmark named workload/strategy/allocator/
// threads:N whose body drives bench/harness.c (C), hands every other flag
// to Google Benchmark, and turns each finished run into a row of the tidy
// CSV (bench/report.c) through a reporter wrapped around the console one.
// Timing: the benchmark's own thread is worker 0 of the run, so Google
// Benchmark's timer spans exactly the iterations (every thread's chunk);
// setup, calibration, teardown and the leak check sit outside the loop.
// Threading: main thread only; the harness makes the workers.
#include <benchmark/benchmark.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <csignal>
#include <memory>
#include <ctime>
#include <string>
#include <vector>

#include <regex.h>
#include <sys/stat.h>
#include <unistd.h>

extern "C" {
#include "alloc/alloc.h"
#include "bench/bench.h"
#include "bench/report/report.h"
#include "bench/run/harness.h"
#include "bench/run/machine.h"
}

namespace {

char json_tmp[4096];                      // the JSON's temp file while it is being written, or ""

void remove_tmp()
{
    if (json_tmp[0])
        unlink(json_tmp);
    json_tmp[0] = '\0';
}

// SIGINT/SIGTERM, and SIGABRT from a fatal error: no half report left
// behind (unlink is async-signal-safe).
extern "C" void remove_tmp_and_die(int sig)
{
    if (json_tmp[0])
        unlink(json_tmp);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

struct Options {
    std::vector<std::string> strategies, allocators, workloads;
    std::vector<unsigned> threads;
    std::string csv, json, summary;
    std::string format = "console", color = "auto", filter;
    bool tabular = true;
    bool quick = false, list = false, icount = false;
    bench_params_t params{14, false};
};

[[noreturn]] void usage_error(const std::string &flag, const std::string &what)
{
    std::fprintf(stderr, "rcbench: %s: %s (rcbench --help)\n", flag.c_str(), what.c_str());
    std::exit(2);
}

std::vector<std::string> split(const std::string &s)
{
    std::vector<std::string> out;
    size_t from = 0;
    for (;;) {
        size_t comma = s.find(',', from);
        std::string item = s.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
        size_t b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
        out.push_back(b == std::string::npos ? std::string() : item.substr(b, e - b + 1));
        if (comma == std::string::npos)
            return out;
        from = comma + 1;
    }
}

std::string join(const std::vector<std::string> &v)
{
    std::string s;
    for (const auto &x : v)
        s += (s.empty() ? "" : ",") + x;
    return s;
}

bool contains(const std::vector<std::string> &v, const std::string &x)
{
    for (const auto &y : v)
        if (y == x)
            return true;
    return false;
}

// rcbench's strategies, then the peers: the order of the report's columns.
std::vector<const bench_strategy_t *> tables()
{
    std::vector<const bench_strategy_t *> t(bench_strategies, bench_strategies + bench_nstrategies);
    t.insert(t.end(), bench_peers, bench_peers + bench_npeers);
    return t;
}

const char *const kUsage =
    "usage: rcbench [options] [Google Benchmark flags]\n"
    "  --strategies=LIST   plain,atomic,biased,deferred, and the peers: none (no counting:\n"
    "                      malloc/free trees, alloc_pairs, empty), shared_ptr (trees, handoff),\n"
    "                      boehm (trees), cpython-gc (gc_pause); default all. A peer with an\n"
    "                      allocator of its own (shared_ptr: glibc, boehm, cpython-gc) runs\n"
    "                      once whatever --allocators says\n"
    "  --allocators=LIST   arena,glibc,jemalloc,mimalloc,tcmalloc (what this build has); default all\n"
    "  --workloads=LIST    workload names (gc_pause: every heap size); default all\n"
    "  --threads=LIST      thread counts, e.g. 1,2; default 1 and one per core\n"
    "  --tree-depth=N      depth of the binary trees (default 14)\n"
    "  --csv=FILE          write the tidy CSV report to FILE (atomically)\n"
    "  --summary=FILE      write the closing summary to FILE too (atomically)\n"
    "  --quick             smoke run: a few short iterations per benchmark, one repetition\n"
    "  --list              print every benchmark name and exit\n"
    "  --icount            no timing: one iteration of each single-thread benchmark with\n"
    "                      callgrind counting the kernel (tools/rcbench-icount runs it)\n"
    "  --help              this text\n"
    "Defaults: --benchmark_min_time=0.05 --benchmark_repetitions=3\n"
    "--benchmark_enable_random_interleaving=true (all overridable).\n"
    "Google Benchmark's own flags all work, e.g. --benchmark_filter=REGEX,\n"
    "--benchmark_repetitions=N, --benchmark_enable_random_interleaving=true,\n"
    "--benchmark_out=FILE --benchmark_out_format=json, --benchmark_min_time=SECONDS.\n";

// Our flags out of argv; what is left goes to Google Benchmark.
Options parse(int &argc, char **argv)
{
    Options o;
    std::vector<std::string> all_strategies, all_workloads;
    for (const bench_strategy_t *t : tables()) {
        all_strategies.push_back(t->name);
        for (unsigned i = 0, n = bench_workload_count(t); i < n; i++)
            if (!contains(all_workloads, bench_workload_at(t, i)->name))
                all_workloads.push_back(bench_workload_at(t, i)->name);
    }
    std::vector<std::string> all_allocators = split(alloc_backend_names());

    int out = 1;
    bool threads_set = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i], flag = a, value;
        bool has_value = false;
        size_t eq = a.find('=');
        if (eq != std::string::npos) {
            flag = a.substr(0, eq);
            value = a.substr(eq + 1);
            has_value = true;
        }
        auto need = [&]() {
            if (!has_value) {
                if (i + 1 >= argc)
                    usage_error(flag, "needs a value");
                value = argv[++i];
            }
            if (value.empty())
                usage_error(flag, "needs a value");
            return value;
        };
        if (flag == "--help" || flag == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (flag == "--quick" && !has_value) {
            o.quick = true;
        } else if (flag == "--list" && !has_value) {
            o.list = true;
        } else if (flag == "--icount" && !has_value) {
            o.icount = true;
        } else if (flag == "--strategies") {
            o.strategies = split(need());
            for (const auto &s : o.strategies)
                if (!contains(all_strategies, s))
                    usage_error(flag, "unknown strategy '" + s + "' (have: " + join(all_strategies) + ")");
        } else if (flag == "--allocators") {
            o.allocators = split(need());
            for (const auto &s : o.allocators)
                if (!contains(all_allocators, s))
                    usage_error(flag, "unknown allocator '" + s + "' (this build has: " + join(all_allocators) + ")");
        } else if (flag == "--workloads") {
            o.workloads = split(need());
            for (const auto &s : o.workloads)
                if (!contains(all_workloads, s) && s != "gc_pause")
                    usage_error(flag, "unknown workload '" + s + "' (have: " + join(all_workloads) + ")");
        } else if (flag == "--threads") {
            threads_set = true;
            for (const auto &s : split(need())) {
                char *end = nullptr;
                errno = 0;
                unsigned long n = std::strtoul(s.c_str(), &end, 10);
                if (s.empty() || *end || errno || s[0] == '-' || n == 0 || n > 1024)
                    usage_error(flag, "'" + s + "' is not a thread count (1..1024)");
                o.threads.push_back((unsigned)n);
            }
        } else if (flag == "--tree-depth") {
            std::string v = need();
            char *end = nullptr;
            unsigned long n = std::strtoul(v.c_str(), &end, 10);
            if (*end || v[0] == '-' || n < 1 || n > 24)
                usage_error(flag, "'" + v + "' is not a depth (1..24)");
            o.params.tree_depth = (unsigned)n;
        } else if (flag == "--csv") {
            o.csv = need();
        } else if (flag == "--summary") {
            o.summary = need();
        } else if (flag == "--benchmark_out") {
            o.json = need();             // given to Google Benchmark as a temp file, renamed at the end
        } else {
            // Google Benchmark's value checks print two lines; these are
            // checked here so a bad value is one line and exit 2.
            char *end = nullptr;
            errno = 0;
            if (flag == "--benchmark_repetitions" &&
                (!has_value || value.empty() || std::strtol(value.c_str(), &end, 10) < 1 || *end || errno ||
                 std::strtol(value.c_str(), nullptr, 10) > 1000000))
                usage_error(flag, "'" + value + "' is not a repetition count (1 to 1000000)");
            if (flag == "--benchmark_format") {
                if (value == "csv")       // deprecated in Google Benchmark; ours is better
                    usage_error(flag, "csv: use --csv=FILE, rcbench's own tidy CSV");
                if (value != "json" && value != "console")
                    usage_error(flag, "'" + value + "' is not console or json");
                o.format = value;
            }
            if (flag == "--benchmark_filter")
                o.filter = value;
            if (flag == "--benchmark_color")
                o.color = value;
            if (flag == "--benchmark_counters_tabular")
                o.tabular = !has_value || value == "true" || value == "1";
            // rcbench's CSV needs every repetition's run, which these keep
            // from the reporter.
            if ((flag == "--benchmark_report_aggregates_only" || flag == "--benchmark_display_aggregates_only") &&
                (!has_value || value == "true" || value == "1"))
                usage_error(flag, "not supported: rcbench reports every repetition (its summary gives medians)");
            if (flag == "--benchmark_min_time" &&
                (!has_value || value.empty() || !(std::strtod(value.c_str(), &end) >= 0) || *end))
                usage_error(flag, "'" + value + "' is not a time in seconds");
            if (flag == "--benchmark_out_format" && value != "json" && value != "console" && value != "csv")
                usage_error(flag, "'" + value + "' is not json, console or csv");
            argv[out++] = argv[i];       // Google Benchmark's (or unknown: it says so)
        }
    }
    argc = out;
    argv[argc] = nullptr;
    if (o.strategies.empty())
        o.strategies = all_strategies;
    if (o.allocators.empty())
        o.allocators = all_allocators;
    if (o.workloads.empty())
        o.workloads = all_workloads;
    if (!threads_set) {
        unsigned cores = harness_cores() ? harness_cores() : 1;   // one thread per core
        o.threads.push_back(1);
        if (cores > 1)
            o.threads.push_back(cores);
    }
    o.params.quick = o.quick;
    char err[512];
    if (!o.csv.empty() && o.csv == o.json)
        usage_error("--csv", "'" + o.csv + "' is also --benchmark_out's file");
    if (!o.csv.empty() && !report_check_path(o.csv.c_str(), err, sizeof err))
        usage_error("--csv", err);
    if (!o.summary.empty() && (o.summary == o.csv || o.summary == o.json))
        usage_error("--summary", "'" + o.summary + "' is also another report's file");
    if (!o.summary.empty() && !report_check_path(o.summary.c_str(), err, sizeof err))
        usage_error("--summary", err);
    if (!o.json.empty() && !report_check_path(o.json.c_str(), err, sizeof err))
        usage_error("--benchmark_out", err);
    return o;
}

bool wanted(const Options &o, const std::string &workload)
{
    if (contains(o.workloads, workload))
        return true;
    return workload.rfind("gc_pause_", 0) == 0 && contains(o.workloads, "gc_pause");
}

struct Case {
    std::string name, allocator;
    const bench_strategy_t *strategy;   // rcbench's or a peer
    const bench_workload_t *workload;
    unsigned threads;
};

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
    for (auto _ : state) {
        harness_iteration(h);
        if (self_timed)
            state.SetIterationTime((double)harness_self_ns(h) / 1e9);
    }
    const double thread_ops = (double)harness_thread_ops(h);
    harness_figures_t f;
    harness_close(h, &f);
    // Not SetItemsProcessed: Google Benchmark divides it by the driver
    // thread's CPU time, which with threads (the GIL) is not the run's.
    state.counters["ops_per_sec"] = f.wall_ns ? (double)f.ops * 1e9 / (double)f.wall_ns : 0;
    state.counters["ops_per_iter"] = thread_ops;           // one thread's
    state.counters["ops_per_iter_all"] = (double)per_iter;
    state.counters["start_s"] = started;
    // (Self-timed: this thread waited on another process; -1, an empty cell.)
    state.counters["cpu_ns_per_op"] = self_timed ? -1 : f.ops ? f.cpu_ns / (double)f.ops : 0;
    // (Self-timed: the work ran in another process, whose memory is not ours.)
    state.counters["peak_rss_kib"] = self_timed ? -1 : (double)f.peak_rss_kib;
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

// Google Benchmark's display reporter (console or json, as
// --benchmark_format says), plus a CSV row per finished run (not the
// aggregates).
class Reporter : public benchmark::BenchmarkReporter {
  public:
    explicit Reporter(const Options &o)
    {
        bool color = o.color == "true" || o.color == "yes" || o.color == "1" ||
                     (o.color == "auto" && isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr);
        if (o.format == "json")
            inner_.reset(new benchmark::JSONReporter);
        else
            inner_.reset(new benchmark::ConsoleReporter(
                (benchmark::ConsoleReporter::OutputOptions)((color ? benchmark::ConsoleReporter::OO_Color : 0) |
                                                            (o.tabular ? benchmark::ConsoleReporter::OO_Tabular : 0))));
    }
    bool ReportContext(const Context &context) override { return inner_->ReportContext(context); }
    void ReportRuns(const std::vector<Run> &runs) override
    {
        inner_->ReportRuns(runs);
        for (const Run &r : runs)
            if (r.run_type == Run::RT_Iteration)
                add(r);
    }
    void Finalize() override { inner_->Finalize(); }

  private:
    static void copy(char *dst, size_t n, const std::string &s) { std::snprintf(dst, n, "%s", s.c_str()); }

    std::unique_ptr<benchmark::BenchmarkReporter> inner_;

    void add(const Run &r)
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
        copy(row.workload, sizeof row.workload, part[0]);
        copy(row.strategy, sizeof row.strategy, part[1]);
        for (const bench_strategy_t *t : tables())
            if (part[1] == t->name)
                row.peer = t->peer;
        copy(row.allocator, sizeof row.allocator, part[2]);
        row.threads = (unsigned)std::strtoul(part[3].c_str() + std::strlen("threads:"), nullptr, 10);
        row.repetition = r.repetition_index < 0 ? 0 : (unsigned)r.repetition_index;
        row.iterations = (uint64_t)r.iterations;
        std::time_t when = std::isnan(counter(r, "start_s")) ? std::time(nullptr) : (std::time_t)counter(r, "start_s");
        std::strftime(row.timestamp, sizeof row.timestamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&when));
        copy(row.binding, sizeof row.binding, r.report_label.empty() ? "none" : r.report_label);
        if (r.error_occurred || std::isnan(counter(r, "ops_per_iter"))) {   // no numbers from it
            copy(row.error, sizeof row.error, r.error_message.empty() ? "error" : r.error_message);
            report_add(&row);
            return;
        }
        double per_thread = counter(r, "ops_per_iter");
        double ops = per_thread * (double)r.iterations;
        row.ns_per_op = ops > 0 ? r.real_accumulated_time * 1e9 / ops : NAN;
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
};

// --icount: each single-thread case once, outside Google Benchmark, its
// kernel counted by callgrind (bench/harness.c); one line per case for
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

}  // namespace

int main(int argc, char **argv)
{
    Options o = parse(argc, argv);
    // Workloads in the order the tables first name them (rcbench's, then
    // the peers' own), each at every thread count, on every allocator,
    // under every strategy that has it; a peer with its own allocator once
    // per thread count, and `empty` (no allocation) on allocator "none".
    std::vector<Case> cases;
    const std::vector<const bench_strategy_t *> all = tables();
    std::vector<std::string> names;
    for (const bench_strategy_t *t : all)
        for (unsigned i = 0, n = bench_workload_count(t); i < n; i++)
            if (!contains(names, bench_workload_at(t, i)->name))
                names.push_back(bench_workload_at(t, i)->name);
    for (const std::string &wname : names) {
        if (!wanted(o, wname))
            continue;
        for (unsigned t : o.threads) {
            bool alloc_free = wname == "empty";
            const std::vector<std::string> allocs = alloc_free ? std::vector<std::string>{"none"} : o.allocators;
            for (size_t ai = 0; ai < allocs.size(); ai++) {
                for (const bench_strategy_t *s : all) {
                    const bench_workload_t *w = bench_workload_find(s, wname.c_str());
                    if (w == nullptr || !contains(o.strategies, s->name) || !bench_threads_fit(w, t))
                        continue;
                    if (s->own_allocator && ai != 0)
                        continue;
                    std::string a = s->own_allocator ? s->own_allocator : allocs[ai];
                    cases.push_back({wname + "/" + s->name + "/" + a + "/threads:" + std::to_string(t), a, s, w, t});
                }
            }
        }
    }
    // --benchmark_filter as Google Benchmark reads it (an extended POSIX
    // regex; a leading '-' negates), applied here too so --list honours it
    // and a filter that matches nothing is one line and exit 2.
    if (!o.filter.empty() && o.filter != "all") {
        bool negate = o.filter[0] == '-';
        regex_t re;
        if (regcomp(&re, o.filter.c_str() + negate, REG_EXTENDED | REG_NOSUB) != 0)
            usage_error("--benchmark_filter", "'" + o.filter + "' is not a regular expression");
        std::vector<Case> kept;
        for (const Case &c : cases)
            if ((regexec(&re, c.name.c_str(), 0, nullptr, 0) == 0) != negate)
                kept.push_back(c);
        regfree(&re);
        if (kept.empty())
            usage_error("--benchmark_filter", "'" + o.filter + "' matches no benchmark");
        cases = kept;
    }
    std::vector<const char *> order;
    for (const Case &c : cases)
        order.push_back(c.name.c_str());
    report_set_order(order.data(), (unsigned)order.size());
    if (o.list) {
        for (const Case &c : cases)
            std::printf("%s\n", c.name.c_str());
        return 0;
    }
    if (cases.empty())
        usage_error("--workloads", "no benchmark matches these flags");
    if (o.icount)
        return icount(cases, o);

    // The defaults come first: the user's own flags, later on the command
    // line, win.
    std::vector<char *> args;
    args.push_back(argv[0]);
    // --quick: a few short iterations (the chunks are 64 times smaller).
    // Otherwise 3 repetitions in random order, so every strategy meets
    // the machine's good and bad moments alike.
    static char min_time[] = "--benchmark_min_time=0.05", min_time_quick[] = "--benchmark_min_time=0.002";
    static char reps[] = "--benchmark_repetitions=3", shuffle[] = "--benchmark_enable_random_interleaving=true";
    args.push_back(o.quick ? min_time_quick : min_time);
    if (!o.quick) {
        args.push_back(reps);
        args.push_back(shuffle);
    }
    for (int i = 1; i < argc; i++)
        args.push_back(argv[i]);
    // Google Benchmark writes the JSON to a temp file of our own next to
    // the user's (mkstemp), renamed over it once the run is complete.
    std::string json_flag;
    if (!o.json.empty()) {
        std::snprintf(json_tmp, sizeof json_tmp, "%s.XXXXXX", o.json.c_str());
        int fd = mkstemp(json_tmp);
        if (fd < 0)
            usage_error("--benchmark_out", "cannot write next to " + o.json + ": " + std::strerror(errno));
        (void)fchmod(fd, 0644);          // mkstemp's 0600 is not a report's mode
        close(fd);
        std::signal(SIGINT, remove_tmp_and_die);
        std::signal(SIGTERM, remove_tmp_and_die);
        std::signal(SIGABRT, remove_tmp_and_die);   // rc_fatal: a run that cannot go on
        json_flag = std::string("--benchmark_out=") + json_tmp;
        args.push_back(&json_flag[0]);
    }
    args.push_back(nullptr);
    int gargc = (int)args.size() - 1;
    benchmark::Initialize(&gargc, args.data());
    if (benchmark::ReportUnrecognizedArguments(gargc, args.data())) {
        remove_tmp();
        return 2;
    }

    for (const Case &c : cases) {
        auto *b = benchmark::RegisterBenchmark(c.name.c_str(), [c, &o](benchmark::State &st) { run_case(st, c, o); });
        if (c.strategy->self_ns)
            b->UseManualTime();
    }
    std::printf("rcbench %s on %s (%s), %u PU(s) for pinning, %s, atomics %s\n", machine_revision(),
                machine_arch(), machine_cpu_model(), harness_pus(), machine_compiler(), machine_atomics());
    std::fflush(stdout);
    Reporter reporter(o);
    size_t matched = benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    if (report_rows() == 0) {                // nothing ran (a filter, --benchmark_list_tests): no report
        remove_tmp();
        if (matched == 0)
            usage_error("--benchmark_filter", "no benchmark matches it");
        return 0;
    }
    report_summary(stdout);
    if (!o.json.empty() && std::rename(json_tmp, o.json.c_str()) != 0) {
        std::fprintf(stderr, "rcbench: --benchmark_out: cannot write %s: %s\n", o.json.c_str(), std::strerror(errno));
        remove_tmp();
        return 1;
    }
    json_tmp[0] = '\0';
    if (!o.csv.empty()) {
        char err[512];
        if (!report_write_csv(o.csv.c_str(), err, sizeof err)) {
            std::fprintf(stderr, "rcbench: --csv: %s\n", err);
            return 1;
        }
        std::printf("\nrcbench: CSV report: %s\n", o.csv.c_str());
    }
    if (!o.summary.empty()) {
        char err[512];
        if (!report_write_summary(o.summary.c_str(), err, sizeof err)) {
            std::fprintf(stderr, "rcbench: --summary: %s\n", err);
            return 1;
        }
    }
    return report_errors() ? 1 : 0;
}
